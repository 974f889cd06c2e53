//! Watch streams: newline-delimited `{"type": …, "object": …}` events, chunked, held open until
//! `timeoutSeconds`. A world does not change, so a watch from the list's resourceVersion sees
//! only a BOOKMARK; from `resourceVersion=0` (or with `sendInitialEvents`) it first sees every
//! object ADDED. kube-runtime's watcher works from either (wire-protocols.md §1.4).

use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use futures_util::stream;
use serde_json::{Value, json};

use super::resources::{Resource, namespace_of};
use super::{LIST_RV, param};
use crate::lab::server::State;

/// The lab never holds a watch longer than this, whatever the client asks.
const MAX_WATCH: Duration = Duration::from_secs(300);

pub fn watch(state: &State, r: &Resource, ns: Option<&str>, query: &str) -> Response {
    let initial = param(query, "sendInitialEvents") == Some("true");
    let from_start = initial || matches!(param(query, "resourceVersion"), None | Some("0" | ""));
    let bookmarks = param(query, "allowWatchBookmarks") == Some("true");
    let timeout = param(query, "timeoutSeconds")
        .and_then(|t| t.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(MAX_WATCH)
        .min(MAX_WATCH);
    let mut lines: Vec<String> = Vec::new();
    if from_start {
        for obj in state
            .items(r)
            .iter()
            .filter(|o| ns.is_none_or(|n| namespace_of(o) == n))
        {
            lines.push(event("ADDED", obj.clone()));
        }
    }
    if bookmarks || initial {
        let mut meta = json!({"resourceVersion": LIST_RV});
        if initial {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        lines.push(event(
            "BOOKMARK",
            json!({"kind": r.kind, "apiVersion": r.group_version(), "metadata": meta}),
        ));
    }
    let events = stream::iter(lines.into_iter().map(Ok::<_, std::io::Error>));
    // Hold the stream open, as an idle API server does, then end it cleanly.
    let mut stop = state.stop();
    let hold = stream::once(async move {
        tokio::select! {
            _ = tokio::time::sleep(timeout) => {}
            _ = stop.wait_for(|stopped| *stopped) => {}
        }
        Ok(String::new())
    })
    .filter(|s| std::future::ready(!s.as_ref().is_ok_and(String::is_empty)));
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        Body::from_stream(events.chain(hold)),
    )
        .into_response()
}

fn event(kind: &str, object: Value) -> String {
    let mut line = json!({"type": kind, "object": object}).to_string();
    line.push('\n');
    line
}
