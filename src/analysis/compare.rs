//! Explains how two strings that should be identical differ: the details Entra's exact
//! matching turns on (trailing slash, case, whitespace, namespace).

pub fn explain(actual: &str, expected: &str) -> Option<String> {
    if actual == expected {
        return None;
    }
    if (actual.trim() != actual || expected.trim() != expected) && actual.trim() == expected.trim()
    {
        return Some("differs only in leading/trailing whitespace".into());
    }
    if actual.trim_end_matches('/') == expected.trim_end_matches('/') {
        let (with, without) = if actual.ends_with('/') {
            ("value", "expected")
        } else {
            ("expected", "value")
        };
        return Some(format!(
            "differs only by the trailing '/': the {with} has it, the {without} does not"
        ));
    }
    if actual.eq_ignore_ascii_case(expected) {
        let at = first_difference(actual, expected);
        return Some(format!(
            "differs only in letter case, first at character {}",
            at + 1
        ));
    }
    if actual.is_empty() {
        return Some("value is empty".into());
    }
    let at = first_difference(actual, expected);
    if at == 0 {
        return None;
    }
    let show = |s: &str| -> String {
        let tail: String = s.chars().skip(at).take(24).collect();
        if tail.is_empty() {
            "(end)".into()
        } else {
            format!("{tail:?}")
        }
    };
    Some(format!(
        "first differs at character {}: {} vs {}",
        at + 1,
        show(actual),
        show(expected)
    ))
}

pub fn first_difference(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

/// Levenshtein distance, for choosing the closest federated credential.
pub fn distance(a: &str, b: &str) -> usize {
    if a == b {
        return 0;
    }
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(row[j + 1])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_kind_of_difference() {
        assert_eq!(explain("a", "a"), None);
        assert!(
            explain("https://x/", "https://x")
                .unwrap()
                .contains("trailing '/'")
        );
        assert!(
            explain("system:serviceaccount:NS:sa", "system:serviceaccount:ns:sa")
                .unwrap()
                .contains("case")
        );
        assert!(
            explain(" https://x/", "https://x/")
                .unwrap()
                .contains("whitespace")
        );
        assert!(
            explain("system:serviceaccount:a:sa", "system:serviceaccount:b:sa")
                .unwrap()
                .contains("character 23")
        );
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
