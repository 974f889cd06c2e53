//! Documents for tools beside the analysis (the lab's `kind: LabBehaviour`): the world keeps
//! them as read, with where they were, and never interprets them. The tool that owns a kind
//! checks its fields and names this location when one is wrong.

use serde_json::Value;

pub use super::parse::Location;

/// widiag kinds the loader keeps for other tools instead of reading them.
pub const KINDS: &[&str] = &["LabBehaviour"];

#[derive(Debug, Clone, PartialEq)]
pub struct Extension {
    pub kind: String,
    /// The document it came from (file, document, line).
    pub at: Location,
    /// The document without `apiVersion` and `kind`.
    pub value: Value,
}
