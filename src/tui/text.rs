//! Fitting text to a pane: names shortened in the middle (their distinguishing tail kept),
//! prose wrapped at spaces, and shell commands wrapped only where a shell would read the same
//! command back. Widths are terminal columns.

use std::borrow::Cow;

use unicode_width::UnicodeWidthChar;

/// Terminal columns `s` takes.
pub fn width(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// The first characters of `chars` that fit in `cols` columns.
fn fitting(chars: impl Iterator<Item = char>, cols: usize) -> Vec<char> {
    let mut used = 0;
    chars
        .take_while(|c| {
            used += c.width().unwrap_or(0);
            used <= cols
        })
        .collect()
}

/// `s` in at most `max` columns: the head and the tail with `…` between. Pod names differ at
/// their end (a ReplicaSet hash, a random suffix), so the tail gets the larger share.
pub fn middle_ellipsis(s: &str, max: usize) -> Cow<'_, str> {
    if width(s) <= max {
        return Cow::Borrowed(s);
    }
    if max == 0 {
        return Cow::Borrowed("");
    }
    let keep = max - 1;
    let head_cols = keep * 2 / 5;
    let mut out: String = fitting(s.chars(), head_cols).into_iter().collect();
    out.push('…');
    out.extend(fitting(s.chars().rev(), keep - head_cols).into_iter().rev());
    Cow::Owned(out)
}

/// `s` in at most `max` columns, cut at the end with `…`: for prose, whose start says most.
pub fn end_ellipsis(s: &str, max: usize) -> Cow<'_, str> {
    if width(s) <= max {
        return Cow::Borrowed(s);
    }
    if max == 0 {
        return Cow::Borrowed("");
    }
    let mut out: String = fitting(s.chars(), max - 1).into_iter().collect();
    out.push('…');
    Cow::Owned(out)
}

/// Splits a word wider than `max` into pieces of at most `max` columns.
fn pieces(word: &str, max: usize) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut used = 0;
    for c in word.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > max && used > 0 {
            out.push(String::new());
            used = 0;
        }
        used += w;
        if let Some(last) = out.last_mut() {
            last.push(c);
        }
    }
    out
}

/// Prose wrapped at spaces into lines of at most `max` columns; the first line has `first`
/// columns fewer (a label before it). A word wider than a line is split, as nothing else fits.
pub fn wrap_words(text: &str, max: usize, first: usize) -> Vec<String> {
    let max = max.max(8);
    let mut lines = vec![String::new()];
    let mut room = max.saturating_sub(first).max(1);
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let line_width = lines.last().map_or(0, |l| width(l));
        let need = width(word) + usize::from(line_width > 0);
        if line_width > 0 && line_width + need > room {
            lines.push(String::new());
            room = max;
        }
        for (i, piece) in pieces(word, room).into_iter().enumerate() {
            if i > 0 {
                lines.push(String::new());
                room = max;
            }
            let Some(line) = lines.last_mut() else { break };
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&piece);
        }
    }
    lines
}

/// Where a POSIX shell would see a space between words: outside single and double quotes and
/// not escaped. Only there can a line break (written as ` \` and a newline) go without
/// changing the command.
fn break_points(cmd: &str) -> Vec<usize> {
    let mut points = Vec::new();
    let (mut single, mut double, mut escaped) = (false, false, false);
    for (i, c) in cmd.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if !single => escaped = true,
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            ' ' if !single && !double => points.push(i),
            _ => {}
        }
    }
    points
}

/// A shell command in lines of at most `max` columns (the first `first` narrower), each line
/// broken at a space ending in ` \`: pasted as shown, a shell runs the same command. Breaks go
/// only at spaces outside quotes. A word wider than a whole line (a long quoted URL) is cut
/// into pieces on lines of their own, with no ` \`: shown whole, though not pasteable as
/// shown (`c` copies the command itself).
pub fn wrap_command(cmd: &str, max: usize, first: usize) -> Vec<String> {
    let max = max.max(8);
    if width(cmd) + first <= max {
        return vec![cmd.to_string()];
    }
    let mut words = Vec::new();
    let mut start = 0;
    for p in break_points(cmd) {
        words.push(&cmd[start..p]);
        start = p + 1;
    }
    words.push(&cmd[start..]);
    // Two columns on each line but the last are the continuation ` \`.
    let mut lines: Vec<String> = vec![String::new()];
    let mut room = max.saturating_sub(first + 2);
    for word in words.into_iter().filter(|w| !w.is_empty()) {
        let Some(line) = lines.last_mut() else { break };
        let fits = width(line) + usize::from(!line.is_empty()) + width(word) <= room;
        if fits {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
            continue;
        }
        if !line.is_empty() {
            line.push_str(" \\");
            lines.push(String::new());
            room = max.saturating_sub(2);
        }
        if width(word) <= room {
            if let Some(line) = lines.last_mut() {
                line.push_str(word);
            }
            continue;
        }
        // Wider than any line: pieces of whole lines, the last one open for what follows.
        lines.pop();
        lines.extend(pieces(word, max.saturating_sub(2)));
        room = max.saturating_sub(2);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn middle_ellipsis_keeps_the_distinguishing_tail() {
        assert_eq!(middle_ellipsis("apps/cache", 20), "apps/cache");
        let a = middle_ellipsis("ns0/app0-5c7d9b8f6d-x7k2p", 16);
        let b = middle_ellipsis("ns0/app0-5c7d9b8f6d-q9zzm", 16);
        assert_eq!(a, "ns0/ap…f6d-x7k2p");
        assert_ne!(a, b);
        assert_eq!(width(&a), 16);
        assert_eq!(middle_ellipsis("abc", 0), "");
        assert_eq!(middle_ellipsis("abcdef", 1), "…");
        assert_eq!(end_ellipsis("the quick brown", 10), "the quick…");
        assert_eq!(end_ellipsis("short", 10), "short");
    }

    #[test]
    fn prose_wraps_at_spaces_and_splits_only_a_word_wider_than_a_line() {
        let lines = wrap_words("the quick brown fox jumps", 10, 0);
        assert_eq!(lines, ["the quick", "brown fox", "jumps"]);
        let lines = wrap_words("see abcdefghijklmnopqrst", 10, 0);
        assert_eq!(lines, ["see", "abcdefghij", "klmnopqrst"]);
        assert!(
            wrap_words("a b c d e f g h", 10, 4)
                .iter()
                .all(|l| width(l) <= 10)
        );
    }

    /// The command the wrapped lines show: a ` \` line is continued after a space (as a
    /// POSIX shell reads it), a piece of a long word with nothing between.
    fn unwrap(lines: &[String]) -> String {
        let mut out = String::new();
        for l in lines {
            match l.strip_suffix(" \\") {
                Some(body) => {
                    out.push_str(body);
                    out.push(' ');
                }
                None => out.push_str(l),
            }
        }
        out
    }

    #[test]
    fn commands_break_at_spaces_outside_quotes_and_read_back_the_same() {
        let cmd = r#"az identity list --query "[?clientId=='3f8b2d6e-1a4c-4e9b-8d2f-7c5a0e3b9d61']" -o table && kubectl annotate sa x 'a b c' --overwrite"#;
        for max in [60, 78, 200] {
            let lines = wrap_command(cmd, max, 7);
            assert_eq!(unwrap(&lines), cmd, "at {max}: {lines:#?}");
            for l in &lines[..lines.len() - 1] {
                assert!(l.ends_with(" \\"), "{l}");
            }
            // No line breaks inside a quoted part.
            for l in &lines {
                let body = l.strip_suffix(" \\").unwrap_or(l);
                assert_eq!(body.matches('\'').count() % 2, 0, "{body}");
                assert_eq!(body.matches('"').count() % 2, 0, "{body}");
            }
        }
        assert_eq!(wrap_command("short", 78, 7), ["short"]);
        // A quoted URL wider than the pane: shown whole, in pieces, and nothing after it lost.
        let url = format!("\"https://issuer.example/{}/\"", "a".repeat(90));
        let cmd = format!("az x --issuer {url} --subject s");
        let lines = wrap_command(&cmd, 40, 7);
        assert_eq!(unwrap(&lines), cmd, "{lines:#?}");
        assert!(lines.iter().all(|l| width(l) <= 40), "{lines:#?}");
        let lines = wrap_command(
            "kubectl delete pod a -n default && kubectl apply -f x",
            30,
            0,
        );
        assert!(lines.iter().all(|l| width(l) <= 30), "{lines:#?}");
    }
}
