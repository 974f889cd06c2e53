//! Finds where a field path sits in YAML (or JSON) text, by walking parser events. Load errors
//! use it on their way out; manifests (`check -f`) look up all their objects' lines in one pass.

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seg {
    Key(String),
    Index(usize),
}

pub fn path_from(p: &serde_path_to_error::Path) -> Vec<Seg> {
    use serde_path_to_error::Segment;
    p.iter()
        .filter_map(|s| match s {
            Segment::Seq { index } => Some(Seg::Index(*index)),
            Segment::Map { key } => Some(Seg::Key(key.clone())),
            Segment::Enum { variant } => Some(Seg::Key(variant.clone())),
            Segment::Unknown => None,
        })
        .collect()
}

pub fn display_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if out.is_empty() => out.push_str(k),
            Seg::Key(k) if k.contains('.') || k.contains('/') => {
                out.push_str(&format!("[{k:?}]"));
            }
            Seg::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    if out.is_empty() {
        "(document)".into()
    } else {
        out
    }
}

enum Frame {
    Map { key: Option<String> },
    Seq { next: usize },
}

/// 1-based document index and 1-based (line, column) of the deepest node on `path` inside
/// document `doc` (0-based). Falls back to the nearest existing ancestor.
pub fn locate(text: &str, doc: usize, path: &[Seg]) -> Option<(u64, u64)> {
    let mut best: Option<(usize, (u64, u64))> = None;
    let complete = walk(text, |d, cur, at| {
        if d > doc {
            return false;
        }
        if d == doc {
            consider(cur, path, at, &mut best);
        }
        true
    });
    // A parse error before the document ends leaves nothing reliable to point at.
    if !complete && best.is_none() {
        return None;
    }
    best.map(|(_, at)| at)
}

/// The line of each `(document, path)` in `wanted` that exists exactly, in one pass over the
/// text (manifests locate several fields of every object; one `locate` each would re-read the
/// file from the start every time).
pub fn lines_of(text: &str, wanted: &[(usize, Vec<Seg>)]) -> Vec<Option<u64>> {
    let index: std::collections::HashMap<(usize, &[Seg]), usize> = wanted
        .iter()
        .enumerate()
        .map(|(i, (doc, path))| ((*doc, path.as_slice()), i))
        .collect();
    let mut out = vec![None; wanted.len()];
    walk(text, |doc, path, (line, _)| {
        if let Some(&i) = index.get(&(doc, path)) {
            out[i].get_or_insert(line);
        }
        true
    });
    out
}

/// Calls `visit(document, path, (line, column))` for every node of every document, in order,
/// until it returns false. False when the text stopped parsing before its end.
fn walk(text: &str, mut visit: impl FnMut(usize, &[Seg], (u64, u64)) -> bool) -> bool {
    let mut docs_seen = 0usize;
    let mut stack: Vec<Frame> = Vec::new();
    // The path to the node; a document's root is not part of it.
    let mut current: Vec<Seg> = Vec::new();
    for ev in Parser::new_from_str(text) {
        let Ok((event, span)) = ev else {
            return false;
        };
        let at = (span.start.line() as u64, span.start.col() as u64 + 1);
        match event {
            Event::DocumentStart(..) => {
                docs_seen += 1;
                stack.clear();
                current.clear();
                continue;
            }
            Event::DocumentEnd | Event::StreamStart | Event::StreamEnd => continue,
            _ => {}
        }
        let doc = docs_seen.saturating_sub(1);
        // A key scalar in a mapping: remember it; its line is where the field is.
        if let (Event::Scalar(s, ..), Some(Frame::Map { key: key @ None })) =
            (&event, stack.last_mut())
        {
            *key = Some(s.to_string());
            current.push(Seg::Key(s.to_string()));
            let go_on = visit(doc, &current, at);
            current.pop();
            if !go_on {
                return true;
            }
            continue;
        }
        if matches!(event, Event::MappingEnd | Event::SequenceEnd) {
            stack.pop();
            // The root's end has no slot to leave.
            if !stack.is_empty() {
                current.pop();
            }
            finish_value(&mut stack);
            continue;
        }
        // A value node: its path is current + its slot in the parent.
        let slot = match stack.last_mut() {
            Some(Frame::Map { key }) => key.clone().map(Seg::Key),
            Some(Frame::Seq { next }) => Some(Seg::Index(*next)),
            None => None,
        };
        if let Some(s) = slot.clone() {
            current.push(s);
        }
        if !visit(doc, &current, at) {
            return true;
        }
        match event {
            Event::MappingStart(..) => stack.push(Frame::Map { key: None }),
            Event::SequenceStart(..) => stack.push(Frame::Seq { next: 0 }),
            _ => {
                if slot.is_some() {
                    current.pop();
                }
                finish_value(&mut stack);
            }
        }
    }
    true
}

fn finish_value(stack: &mut [Frame]) {
    match stack.last_mut() {
        Some(Frame::Map { key }) => *key = None,
        Some(Frame::Seq { next }) => *next += 1,
        None => {}
    }
}

fn consider(cur: &[Seg], path: &[Seg], at: (u64, u64), best: &mut Option<(usize, (u64, u64))>) {
    if cur.len() > path.len() || !cur.iter().zip(path).all(|(a, b)| a == b) {
        return;
    }
    let depth = cur.len();
    if best.is_none_or(|(d, _)| depth > d) {
        *best = Some((depth, at));
    }
}

/// 1-based index of the document containing `line` (1-based).
pub fn document_at_line(text: &str, line: u64) -> usize {
    let mut docs = 0usize;
    for ev in Parser::new_from_str(text) {
        let Ok((event, span)) = ev else { break };
        if span.start.line() as u64 > line {
            break;
        }
        if matches!(event, Event::DocumentStart(..)) {
            docs += 1;
        }
    }
    docs.max(1)
}

/// Whether an empty document can stand between two others, shifting the positions of the ones
/// after it: some `---` (or `...`) line at column 0 follows an earlier one with no content line in
/// between. A line scan, so the common file (no empty document) is not parsed a second time just
/// to learn that its n-th value is its n-th document; it may say yes when there is none, never no
/// when there is one.
pub fn may_hold_empty_documents(text: &str) -> bool {
    let mut seen_marker = false;
    let mut content = false;
    for line in text.lines() {
        let marker = ["---", "..."].iter().find_map(|m| {
            line.strip_prefix(m)
                .filter(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
        });
        match marker {
            Some(rest) => {
                if seen_marker && !content {
                    return true;
                }
                seen_marker = true;
                // `--- kind: A` opens a document with content on the marker's own line.
                let rest = rest.split(" #").next().unwrap_or_default().trim();
                content = !(rest.is_empty() || rest == "~" || rest.starts_with('#'));
            }
            None => {
                let t = line.trim();
                if !(t.is_empty() || t.starts_with('#') || t == "~" || t.starts_with('%')) {
                    content = true;
                }
            }
        }
    }
    false
}

/// The stream position of each document that holds something: the YAML parser drops empty
/// documents (`---` followed by `---`), so the n-th value is not always the n-th document, and
/// messages and line lookups need the latter.
pub fn non_empty_documents(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut index = 0usize;
    // Events seen in the current document, and whether the only one is an empty plain scalar.
    let mut content: Option<(usize, bool)> = None;
    for ev in Parser::new_from_str(text) {
        let Ok((event, _)) = ev else { break };
        match event {
            Event::DocumentStart(..) => content = Some((0, false)),
            Event::DocumentEnd => {
                if let Some((n, empty_scalar)) = content.take() {
                    if !(n == 0 || n == 1 && empty_scalar) {
                        out.push(index);
                    }
                    index += 1;
                }
            }
            // An empty document is one plain null scalar (`~`) to the parser.
            Event::Scalar(ref s, style, ..) => {
                if let Some((n, empty)) = content.as_mut() {
                    *empty = *n == 0
                        && style == ScalarStyle::Plain
                        && (s.is_empty() || s.as_ref() == "~");
                    *n += 1;
                }
            }
            _ => {
                if let Some((n, _)) = content.as_mut() {
                    *n += 1;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "kind: A\n---\nkind: Pod\nspec:\n  containers:\n  - name: a\n  - name: b\n    env:\n    - name: X\n      value: 3\n";

    #[test]
    fn empty_documents_are_counted_where_they_stand() {
        // `---` twice is one empty document, then A is the second and B the third.
        assert_eq!(
            non_empty_documents("---\n---\nkind: A\n---\nkind: B\n"),
            [1, 2]
        );
        assert_eq!(non_empty_documents("kind: A\n"), [0]);
    }

    /// The line scan never misses a stream whose positions an empty document shifts.
    #[test]
    fn the_line_scan_never_misses_an_empty_document() {
        for text in [
            "---\n---\nkind: A\n---\nkind: B\n",
            "kind: A\n---\n---\nkind: B\n",
            "kind: A\n--- ~\n--- kind: B\n",
            "kind: A\n---\n# only a comment\n---\nkind: B\n",
            "kind: A\n...\n---\n...\n---\nkind: B\n",
            "kind: A\n---\n\n~\n---\nkind: B\n",
            "# header\n---\nkind: A\n---\n--- kind: B\n",
        ] {
            let n = non_empty_documents(text).len();
            if non_empty_documents(text) != (0..n).collect::<Vec<_>>() {
                assert!(may_hold_empty_documents(text), "{text:?}");
            }
        }
        for text in [
            "kind: A\n",
            "---\nkind: A\n---\nkind: B\n",
            "apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  data: |\n    ---\n    x\n",
        ] {
            let n = non_empty_documents(text).len();
            assert_eq!(
                non_empty_documents(text),
                (0..n).collect::<Vec<_>>(),
                "{text:?}"
            );
        }
        assert!(!may_hold_empty_documents("---\nkind: A\n---\nkind: B\n"));
        assert!(!may_hold_empty_documents(
            "apiVersion: v1\nkind: List\nitems: []\n"
        ));
    }

    #[test]
    fn finds_nested_field_line_in_second_document() {
        let path = vec![
            Seg::Key("spec".into()),
            Seg::Key("containers".into()),
            Seg::Index(1),
            Seg::Key("env".into()),
            Seg::Index(0),
            Seg::Key("value".into()),
        ];
        assert_eq!(locate(DOC, 1, &path), Some((10, 7)));
    }

    #[test]
    fn missing_field_falls_back_to_parent() {
        let path = vec![Seg::Key("spec".into()), Seg::Key("nope".into())];
        assert_eq!(locate(DOC, 1, &path).map(|a| a.0), Some(4));
        assert_eq!(document_at_line(DOC, 9), 2);
        assert_eq!(display_path(&path), "spec.nope");
    }
}
