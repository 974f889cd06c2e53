//! Load errors name the file, the document, the list item, the line and the field.

use std::fmt;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    /// 1-based document index in the file.
    pub document: usize,
    /// 1-based item index when the document is a list.
    pub item: Option<usize>,
    /// 1-based line and column in the file.
    pub line: Option<u64>,
    pub column: Option<u64>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": document {}", self.document)?;
        if let Some(item) = self.item {
            write!(f, ", item {item}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("{at}: not valid {format}: {message}")]
    Syntax {
        at: Box<Location>,
        format: &'static str,
        message: String,
    },
    #[error("{at}: {what}: field `{field}`: {message}")]
    Field {
        at: Box<Location>,
        /// `Pod default/web` or `Microsoft.KeyVault/vaults kv1`.
        what: String,
        field: String,
        message: String,
    },
    #[error("{at}: {message}")]
    Shape { at: Box<Location>, message: String },
    #[error("{file}: {size} bytes is more than the {limit} bytes a world file may have")]
    TooLarge {
        file: String,
        size: usize,
        limit: usize,
    },
    #[error("{file}: {message}")]
    Read { file: String, message: String },
}
