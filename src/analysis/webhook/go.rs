//! Go's `strconv.ParseInt(s, 10, bits)` as the webhook calls it, with Go's error text, so a
//! denial widiag predicts reads exactly as the webhook's (and the `FailedCreate` event) does.
//! Semantics from Go's src/strconv/atoi.go: an optional sign, then ASCII digits only; no
//! trimming, no underscores (base 10 is explicit), out-of-range is its own error.

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
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return Err(syntax());
    }
    let limit: i128 = 1i128 << (bits - 1);
    // Go reads left to right and reports whichever it meets first: a non-digit or overflow.
    let mut magnitude: i128 = 0;
    for d in digits.bytes() {
        if !d.is_ascii_digit() {
            return Err(syntax());
        }
        magnitude = magnitude * 10 + i128::from(d - b'0');
        if magnitude > limit {
            return Err(ParseIntError::Range(s.to_string()));
        }
    }
    let value = if negative { -magnitude } else { magnitude };
    if value < -limit || value >= limit {
        return Err(ParseIntError::Range(s.to_string()));
    }
    Ok(value as i64)
}

/// Go's `%q` for the strings this module quotes: printable ASCII as is, `"` and `\` escaped,
/// everything else as Go escapes it.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() && (c as u32) < 0x80 => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
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
    }
}
