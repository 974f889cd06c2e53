//! Splits a world file into documents (YAML stream or one JSON value) as `serde_json::Value`s.

use serde_json::Value;

use super::error::{LoadError, Location};
use super::locate::document_at_line;

/// World files larger than this are refused before parsing (a 10,000-pod world is ~60 MB of YAML).
pub const MAX_WORLD_BYTES: usize = 512 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "JSON",
            Format::Yaml => "YAML",
        }
    }
}

/// JSON when the first meaningful character opens an object or array; YAML otherwise.
pub fn sniff(text: &str) -> Format {
    match text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .chars()
        .next()
    {
        Some('{') | Some('[') => Format::Json,
        _ => Format::Yaml,
    }
}

/// The documents of a file, each with its position in the file's stream (0-based; empty YAML
/// documents are skipped but still counted).
pub fn documents(file: &str, text: &str) -> Result<(Format, Vec<(usize, Value)>), LoadError> {
    if text.len() > MAX_WORLD_BYTES {
        return Err(LoadError::TooLarge {
            file: file.into(),
            size: text.len(),
            limit: MAX_WORLD_BYTES,
        });
    }
    let format = sniff(text);
    let docs = match format {
        Format::Json => json_documents(file, text)?
            .into_iter()
            .enumerate()
            .collect(),
        Format::Yaml => {
            let docs = yaml_documents(file, text)?;
            // The second parse only when an empty document can shift the numbering.
            let at = if super::locate::may_hold_empty_documents(text) {
                super::locate::non_empty_documents(text)
            } else {
                Vec::new()
            };
            if at.len() == docs.len() {
                at.into_iter().zip(docs).collect()
            } else {
                docs.into_iter().enumerate().collect()
            }
        }
    };
    Ok((format, docs))
}

fn json_documents(file: &str, text: &str) -> Result<Vec<Value>, LoadError> {
    // RFC 8259 §8.1: a parser may ignore a byte order mark; editors on Windows write one.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for value in serde_json::Deserializer::from_str(text).into_iter::<Strict>() {
        match value {
            Ok(Strict(v)) => out.push(v),
            Err(e) => {
                return Err(LoadError::Syntax {
                    at: Box::new(Location {
                        file: file.into(),
                        document: out.len() + 1,
                        line: Some(e.line() as u64),
                        column: Some(e.column() as u64),
                        ..Default::default()
                    }),
                    format: "JSON",
                    message: strip_json_position(&e.to_string()),
                });
            }
        }
    }
    Ok(out)
}

/// A JSON value whose objects may not repeat a key: JSON leaves it undefined and serde_json
/// keeps the last, while the YAML loader refuses duplicates; a world means one thing either way.
struct Strict(Value);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("duplicate key `{key}`")));
            }
            let Strict(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

fn strip_json_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn yaml_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    // Worlds of 10,000+ pods are legitimate; the file-size cap bounds the work instead.
    budget.max_documents = usize::MAX;
    budget.max_nodes = usize::MAX;
    budget.max_events = usize::MAX;
    budget.max_total_scalar_bytes = MAX_WORLD_BYTES;
    budget.max_depth = 128;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.with_snippet = false;
    options
}

fn yaml_documents(file: &str, text: &str) -> Result<Vec<Value>, LoadError> {
    match serde_saphyr::from_multiple_with_options::<Value>(text, yaml_options()) {
        Ok(docs) => Ok(docs),
        Err(e) => {
            let (line, column) = e
                .location()
                .map(|l| (Some(l.line()), Some(l.column())))
                .unwrap_or((None, None));
            Err(LoadError::Syntax {
                at: Box::new(Location {
                    file: file.into(),
                    document: line.map(|l| document_at_line(text, l)).unwrap_or(1),
                    line,
                    column,
                    item: None,
                }),
                format: "YAML",
                message: first_line(&e.to_string()),
            })
        }
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().trim().to_string()
}
