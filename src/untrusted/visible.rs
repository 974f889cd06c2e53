//! Untrusted text shown to a person: every character that could move the cursor, clear the
//! screen, set the title or clipboard (ESC/OSC/CSI), end a line (CR, LF, U+2028), or reorder
//! what is read (bidi overrides and isolates) is written as a visible escape instead.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` must not reach a terminal or document as itself.
pub fn is_hidden(c: char) -> bool {
    matches!(c,
        // C0 controls (ESC, CR, LF, TAB, BEL, ...), DEL and the C1 controls (CSI U+009B, OSC U+009D).
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        // Arabic letter mark, zero-width space/joiners, LRM/RLM.
        | '\u{061c}' | '\u{200b}'..='\u{200f}'
        // Line and paragraph separators, bidi embeddings and overrides (U+202A..U+202E).
        | '\u{2028}'..='\u{202e}'
        // Word joiner, invisible operators, bidi isolates (U+2066..U+2069).
        | '\u{2060}'..='\u{2069}'
        // Byte order mark / zero-width no-break space.
        | '\u{feff}'
        // Soft hyphen, Mongolian vowel separator, Hangul fillers, tag characters: invisible,
        // and used to make two different strings look the same. (Variation selectors stay:
        // emoji need them, and they change no letter.)
        | '\u{ad}' | '\u{180e}' | '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}'
        | '\u{e0000}'..='\u{e007f}')
}

/// `s` with every hidden character written as `\n`, `\x1b` or `\u{202e}`; borrowed when clean.
pub fn visible(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hidden) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !is_hidden(c) {
            out.push(c);
            continue;
        }
        let _ = match c {
            '\n' => out.write_str("\\n"),
            '\r' => out.write_str("\\r"),
            '\t' => out.write_str("\\t"),
            c if (c as u32) < 0x80 => write!(out, "\\x{:02x}", c as u32),
            c => write!(out, "\\u{{{:x}}}", c as u32),
        };
    }
    Cow::Owned(out)
}

/// As [`visible`], for text widiag composed itself around untrusted values, where its own line
/// breaks stay: each line is made visible on its own.
pub fn visible_lines(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && is_hidden(c)) {
        return Cow::Borrowed(s);
    }
    let lines: Vec<Cow<'_, str>> = s.split('\n').map(visible).collect();
    Cow::Owned(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_controls_become_visible() {
        assert_eq!(visible("plain text ✓"), "plain text ✓");
        assert!(matches!(visible("plain"), Cow::Borrowed(_)));
        assert_eq!(
            visible("a\x1b]52;c;SGVsbG8=\x07b"),
            "a\\x1b]52;c;SGVsbG8=\\x07b"
        );
        assert_eq!(visible("x\r\n✓ access pass"), "x\\r\\n✓ access pass");
        assert_eq!(visible("\u{9b}2J"), "\\u{9b}2J");
        assert_eq!(visible("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(visible("\u{7f}"), "\\x7f");
    }

    #[test]
    fn own_line_breaks_stay_in_composed_text() {
        assert_eq!(visible_lines("one\ntwo\x1b[2J"), "one\ntwo\\x1b[2J");
        assert_eq!(visible_lines("a\r\nb"), "a\\r\nb");
    }
}
