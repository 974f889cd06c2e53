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

pub fn documents(file: &str, text: &str) -> Result<(Format, Vec<Value>), LoadError> {
    if text.len() > MAX_WORLD_BYTES {
        return Err(LoadError::TooLarge {
            file: file.into(),
            size: text.len(),
            limit: MAX_WORLD_BYTES,
        });
    }
    let format = sniff(text);
    let docs = match format {
        Format::Json => json_documents(file, text)?,
        Format::Yaml => yaml_documents(file, text)?,
    };
    Ok((format, docs))
}

fn json_documents(file: &str, text: &str) -> Result<Vec<Value>, LoadError> {
    let mut out = Vec::new();
    for value in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
        match value {
            Ok(v) => out.push(v),
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
