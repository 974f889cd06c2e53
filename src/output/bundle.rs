//! `widiag report` (default form): the bundle as a world file. The world documents, then a
//! `Diagnosis` document with the chains as the sender saw them (the `check -o json` report),
//! which a replay compares with its own.

use serde::Serialize;

use crate::bundle::{Bundle, BundleError};
use crate::world::{WIDIAG_API_VERSION, write};

/// Pods named in the header comment; the Diagnosis lists them all.
const HEADER_PODS: usize = 10;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Diagnosis<'b> {
    api_version: &'static str,
    kind: &'static str,
    versions: &'b crate::bundle::Versions,
    /// Serialised straight from the report: a 10,000-pod bundle is not built twice in memory.
    report: super::json::JsonReport<'b>,
}

pub fn render(b: &Bundle) -> Result<String, BundleError> {
    let mut docs = write::documents(&b.world);
    docs.iter_mut()
        .for_each(crate::bundle::scrub::by_value_everywhere);
    let mut body = write::to_yaml(&docs).map_err(|e| BundleError::Serialise(e.to_string()))?;
    drop(docs);
    let report = super::safe::for_machines(&b.report);
    let diagnosis = Diagnosis {
        api_version: WIDIAG_API_VERSION,
        kind: "Diagnosis",
        versions: &b.versions,
        report: super::json::view(&report),
    };
    write::push_document(&mut body, &diagnosis)
        .map_err(|e| BundleError::Serialise(e.to_string()))?;
    let mut pods: Vec<String> = b
        .report
        .pods
        .iter()
        .take(HEADER_PODS)
        // A world's pod names can hold line breaks: none may add a line to the bundle.
        .map(|p| super::safe::text(&p.pod.to_string()))
        .collect();
    if b.report.pods.len() > HEADER_PODS {
        pods.push(format!("and {} more", b.report.pods.len() - HEADER_PODS));
    }
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

/// `widiag-report-NAMESPACE-NAME`, keeping only what a file name can safely carry: names from a
/// world file may hold anything (`/`, `..`, control characters).
pub fn file_stem(pod: &crate::world::ObjRef) -> String {
    format!("widiag-report-{}-{}", pod.namespace, pod.name)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}
