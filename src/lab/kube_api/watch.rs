//! Watch streams: newline-delimited `{"type": …, "object": …}` events, chunked, held open until
//! `timeoutSeconds`. From `resourceVersion=0` (or with `sendInitialEvents`) a watch first sees
//! every object ADDED; then every change the lab is told of (`LabHandle::apply`) as ADDED,
//! MODIFIED or DELETED. A resourceVersion older than the lab's history (before its first, or
//! before a compaction) is a 410 Gone ERROR event, as an API server's watch cache answers;
//! kube-runtime's watcher then lists again (wire-protocols.md §1.4).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use futures_util::stream;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::resources::{Resource, namespace_of};
use super::{index_of, param};
use crate::lab::server::{Change, State};

/// An event line not yet sent, with the object before the change for a MODIFIED.
type Pending = (String, Option<Arc<Value>>);

/// The lab never holds a watch longer than this, whatever the client asks.
const MAX_WATCH: Duration = Duration::from_secs(300);

/// What a watch request asks, from its query.
struct WatchQuery {
    /// `sendInitialEvents=true`: a bookmark marks where the initial events end.
    initial: bool,
    /// Every object first, as ADDED.
    from_start: bool,
    since: Option<u64>,
    bookmarks: bool,
    timeout: Duration,
}

impl WatchQuery {
    fn parse(query: &str) -> WatchQuery {
        let initial = param(query, "sendInitialEvents") == Some("true");
        WatchQuery {
            initial,
            from_start: initial || matches!(param(query, "resourceVersion"), None | Some("0" | "")),
            since: param(query, "resourceVersion").and_then(|v| v.parse::<u64>().ok()),
            bookmarks: param(query, "allowWatchBookmarks") == Some("true"),
            timeout: param(query, "timeoutSeconds")
                .and_then(|t| t.parse().ok())
                .map(Duration::from_secs)
                .unwrap_or(MAX_WATCH)
                .min(MAX_WATCH),
        }
    }
}

pub fn watch(state: &State, r: &Resource, ns: Option<&str>, query: &str) -> Response {
    let selectors = match super::selectors::Selectors::from_query(query) {
        Ok(s) => s,
        Err(m) => {
            return super::status::status(StatusCode::BAD_REQUEST, "BadRequest", m, None, None);
        }
    };
    let q = WatchQuery::parse(query);
    let oldest = state.compacted();
    if let Some(v) = q.since.filter(|v| *v > 0 && *v < oldest) {
        return gone(v, oldest);
    }
    // Subscribed before the initial events are read, so no change falls between them.
    let changes = state.subscribe();
    let index = index_of(r);
    let (lines, replayed) = catch_up(state, r, ns, index, &q);
    let lines: Vec<String> = lines
        .into_iter()
        .filter_map(|(l, previous)| selectors.watched(l, previous.as_deref()))
        .collect();
    let events = stream::iter(lines.into_iter().map(Ok::<_, std::io::Error>));
    // Then the changes, until the timeout or the lab stops, as a live API server does.
    let live = live_changes(
        state,
        changes,
        index,
        ns.map(str::to_string),
        replayed,
        (q.timeout, selectors),
    );
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        Body::from_stream(events.chain(live)),
    )
        .into_response()
}

/// As the API server's watch cache answers a resourceVersion it no longer has: 200, then one
/// ERROR event, then the end.
fn gone(v: u64, oldest: u64) -> Response {
    let status = super::status::body(
        StatusCode::GONE,
        "Expired",
        format!("too old resource version: {v} ({oldest})"),
        None,
        None,
    );
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        event("ERROR", status),
    )
        .into_response()
}

/// The events a watch sees before it waits (every object from the start, the changes since its
/// resourceVersion, the bookmark), and the resourceVersion they bring it to: only later changes
/// are sent live.
fn catch_up(
    state: &State,
    r: &Resource,
    ns: Option<&str>,
    index: Option<usize>,
    q: &WatchQuery,
) -> (Vec<Pending>, u64) {
    let WatchQuery {
        initial,
        from_start,
        since,
        bookmarks,
        ..
    } = *q;
    let mut lines: Vec<Pending> = Vec::new();
    if from_start {
        for obj in state
            .items(r)
            .iter()
            .filter(|o| ns.is_none_or(|n| namespace_of(o) == n))
        {
            lines.push((event("ADDED", obj.clone()), None));
        }
    }
    // A watch from a resourceVersion first sees what changed since it.
    let mut replayed = since.unwrap_or(0);
    if !from_start || since.is_some_and(|v| v > 0) {
        for c in state.changes_since(since.unwrap_or(0)) {
            if Some(c.index) == index && ns.is_none_or(|n| n == c.namespace) {
                lines.push((c.line.clone(), c.previous.clone()));
            }
            replayed = replayed.max(c.rv);
        }
    }
    if bookmarks || initial {
        let mut meta = json!({"resourceVersion": state.resource_version().to_string()});
        if initial {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        lines.push((
            event(
                "BOOKMARK",
                json!({"kind": r.kind, "apiVersion": r.group_version(), "metadata": meta}),
            ),
            None,
        ));
    }
    (lines, replayed)
}

/// The changes after `replayed`, one event each, until the deadline, the lab stopping or its
/// connections being cut.
fn live_changes(
    state: &State,
    changes: broadcast::Receiver<Change>,
    index: Option<usize>,
    ns_owned: Option<String>,
    replayed: u64,
    (timeout, selectors): (Duration, super::selectors::Selectors),
) -> impl futures_util::Stream<Item = Result<String, std::io::Error>> + use<> {
    let stop = state.stop();
    let cut = state.cut();
    let deadline = tokio::time::Instant::now() + timeout;
    let drop_after_one = state.drop_watches();
    stream::unfold(
        (changes, stop, cut, false),
        move |(mut changes, mut stop, mut cut, sent)| {
            let ns = ns_owned.clone();
            let selectors = selectors.clone();
            async move {
                if sent && drop_after_one {
                    return None;
                }
                loop {
                    // Ending comes first, so a watch told to end sends nothing more.
                    let next = tokio::select! {
                        biased;
                        _ = stop.wait_for(|stopped| *stopped) => return None,
                        _ = cut.changed() => return None,
                        c = changes.recv() => c,
                        _ = tokio::time::sleep_until(deadline) => return None,
                    };
                    match next {
                        Ok(c)
                            if c.rv > replayed
                                && Some(c.index) == index
                                && ns.as_deref().is_none_or(|n| n == c.namespace) =>
                        {
                            if let Some(line) = selectors.watched(c.line, c.previous.as_deref()) {
                                return Some((Ok(line), (changes, stop, cut, true)));
                            }
                        }
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                            continue;
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            }
        },
    )
}

pub(crate) fn event(kind: &str, object: Value) -> String {
    let mut line = json!({"type": kind, "object": object}).to_string();
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::server::State;

    fn pod(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "namespace": "default"}})
    }

    /// A change made after the server went down never reaches a watch opened before it, however
    /// the watch's task is scheduled: it is polled only once the outage and the change have
    /// both happened, the moment a random pick between them once let the change through (1 in
    /// 2 per watch; 12 watches here).
    #[tokio::test]
    async fn a_change_made_while_down_reaches_no_open_watch() {
        let world = crate::world::parse::parse_str(
            "seed-004-healthy.yaml",
            include_str!("../../../assets/worlds/seed-004-healthy.yaml"),
        )
        .unwrap();
        let (_stop, stop_rx) = tokio::sync::watch::channel(false);
        let state = State::new(world, stop_rx).unwrap();
        let pods = super::super::resources::find("", "v1", "pods").unwrap();
        let index = index_of(pods).unwrap();
        for round in 0..12 {
            let rv = state.resource_version();
            let query = format!("watch=true&resourceVersion={rv}");
            let response = watch(&state, pods, None, &query);
            state.go_down();
            state.apply(index, pod(&format!("during-{round}")), false);
            let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .unwrap();
            assert!(body.is_empty(), "round {round}: {body:?}");
            state.recover_compacted();
        }
    }
}
