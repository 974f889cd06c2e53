//! `widiag report` (default form): the bundle as a world file. The world documents, then a
//! `Diagnosis` document with the chains as the sender saw them (the `check -o json` report),
//! which a replay compares with its own.

use serde_json::json;

use crate::bundle::{Bundle, BundleError};
use crate::world::{WIDIAG_API_VERSION, write};

pub fn render(b: &Bundle) -> Result<String, BundleError> {
    let mut docs = write::documents(&b.world);
    let report: serde_json::Value = serde_json::from_str(&super::json::render(&b.report))
        .map_err(|e| BundleError::Serialise(e.to_string()))?;
    docs.push(json!({
        "apiVersion": WIDIAG_API_VERSION,
        "kind": "Diagnosis",
        "versions": b.versions,
        "report": report,
    }));
    let body = write::to_yaml(&docs).map_err(|e| BundleError::Serialise(e.to_string()))?;
    let pods: Vec<String> = b.report.pods.iter().map(|p| p.pod.to_string()).collect();
    Ok(format!(
        "# widiag support bundle: a world file. Replay it offline with\n\
         #   widiag --world FILE          (TUI)\n\
         #   widiag check --world FILE    (text)\n\
         # Pods: {}\n\
         # No token, signature, access token or secret value is in it{}.\n{body}",
        pods.join(", "),
        if b.redacted_names {
            "; names are pseudonyms"
        } else {
            ""
        }
    ))
}
