//! Go's `strconv.ParseInt(s, 10, bits)` as the webhook calls it, with Go's error text, so a
//! denial widiag predicts reads exactly as the webhook's (and the `FailedCreate` event) does.
//! Semantics from Go's src/strconv/atoi.go: an optional sign, then ASCII digits only; no
//! trimming, no underscores (base 10 is explicit), out-of-range is its own error.

use std::fmt::Write;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseIntError {
    Syntax(String),
    Range(String),
}

impl std::fmt::Display for ParseIntError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseIntError::Syntax(s) => {
                write!(f, "strconv.ParseInt: parsing {}: invalid syntax", quote(s))
            }
            ParseIntError::Range(s) => {
                write!(
                    f,
                    "strconv.ParseInt: parsing {}: value out of range",
                    quote(s)
                )
            }
        }
    }
}

pub fn parse_int(s: &str, bits: u32) -> Result<i64, ParseIntError> {
    let syntax = || ParseIntError::Syntax(s.to_string());
    let range = || ParseIntError::Range(s.to_string());
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return Err(syntax());
    }
    // ParseUint reads left to right and stops at the first non-digit or at overflow of the
    // *unsigned* maximum (1<<bits - 1); ParseInt then applies the signed cutoff.
    let unsigned_max: u128 = (1u128 << bits) - 1;
    let mut n: u128 = 0;
    for d in digits.bytes() {
        if !d.is_ascii_digit() {
            return Err(syntax());
        }
        n = n * 10 + u128::from(d - b'0');
        if n > unsigned_max {
            return Err(range());
        }
    }
    let cutoff: u128 = 1u128 << (bits - 1);
    if (!negative && n >= cutoff) || (negative && n > cutoff) {
        return Err(range());
    }
    let n = n as i128;
    Ok((if negative { -n } else { n }) as i64)
}

/// Go's `%q` (strconv.Quote): printable characters as they are, `"` and `\\` escaped, the C
/// escapes Go uses, other control or format characters as `\xNN`, `\uNNNN` or `\UNNNNNNNN`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() || crate::untrusted::visible::is_hidden(c) => {
                if (c as u32) <= 0xffff {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                } else {
                    let _ = write!(out, "\\U{:08x}", c as u32);
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cases and messages from Go's strconv tests (atoi_test.go, parseInt64Tests) and the
    /// webhook's own test `TestHandleError/invalid sa token expiry`.
    #[test]
    fn parses_as_go_does() {
        assert_eq!(parse_int("4800", 64), Ok(4800));
        assert_eq!(parse_int("+12", 64), Ok(12));
        assert_eq!(parse_int("-12", 64), Ok(-12));
        for bad in ["", " 3600", "3600 ", "3600s", "1_000", "0x10", "+", "-"] {
            assert!(
                matches!(parse_int(bad, 64), Err(ParseIntError::Syntax(_))),
                "{bad:?}"
            );
        }
        assert_eq!(
            parse_int("invalid", 64).unwrap_err().to_string(),
            r#"strconv.ParseInt: parsing "invalid": invalid syntax"#
        );
        assert_eq!(parse_int("2147483647", 32), Ok(2147483647));
        assert_eq!(parse_int("-2147483648", 32), Ok(-2147483648));
        assert_eq!(
            parse_int("2147483648", 32).unwrap_err().to_string(),
            r#"strconv.ParseInt: parsing "2147483648": value out of range"#
        );
        assert!(matches!(
            parse_int("99999999999999999999999", 64),
            Err(ParseIntError::Range(_))
        ));
        assert_eq!(quote(" a\"b"), r#"" a\"b""#);
        // Overflow is judged against the unsigned maximum first: a later non-digit wins.
        assert!(matches!(
            parse_int("3000000000x", 32),
            Err(ParseIntError::Syntax(_))
        ));
        assert!(matches!(
            parse_int("3000000000", 32),
            Err(ParseIntError::Range(_))
        ));
        assert!(matches!(
            parse_int("5000000000x", 32),
            Err(ParseIntError::Range(_))
        ));
        assert_eq!(
            parse_int("-2147483649", 32),
            Err(ParseIntError::Range("-2147483649".into()))
        );
        assert_eq!(quote("\u{7}\u{202e}x"), r#""\a\u202ex""#);
    }
}
