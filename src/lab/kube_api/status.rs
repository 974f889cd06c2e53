//! `Status` error objects, as the API server writes them.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub fn status(
    code: StatusCode,
    reason: &str,
    message: String,
    kind: Option<&str>,
    name: Option<&str>,
) -> Response {
    respond(code, &body(code, reason, message, kind, name))
}

fn respond(code: StatusCode, status: &Value) -> Response {
    (
        code,
        [("content-type", "application/json")],
        status.to_string(),
    )
        .into_response()
}

/// The `Status` object itself, for a response body or a watch's ERROR event.
pub fn body(
    code: StatusCode,
    reason: &str,
    message: String,
    kind: Option<&str>,
    name: Option<&str>,
) -> Value {
    let mut details = serde_json::Map::new();
    if let Some(n) = name {
        details.insert("name".into(), n.into());
    }
    if let Some(k) = kind {
        details.insert("kind".into(), k.into());
    }
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": details,
        "code": code.as_u16(),
    })
}

pub fn not_found(plural: &str, name: &str) -> Response {
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("{plural} \"{name}\" not found"),
        Some(plural),
        Some(name),
    )
}

/// API Priority and Fairness turning a request away, as kube-apiserver's filter does: plain
/// text (not a Status) with `Retry-After`. A 5xx is a Status with `details.retryAfterSeconds`,
/// as the API server's own unavailable errors are.
pub fn throttled(t: &crate::lab::behaviour::Throttle) -> Response {
    let code = StatusCode::from_u16(t.status).unwrap_or(StatusCode::TOO_MANY_REQUESTS);
    let r = if code == StatusCode::TOO_MANY_REQUESTS {
        (
            code,
            [
                ("content-type", "text/plain; charset=utf-8"),
                ("x-content-type-options", "nosniff"),
            ],
            "Too many requests, please try again later.\n",
        )
            .into_response()
    } else {
        let reason = if code == StatusCode::SERVICE_UNAVAILABLE {
            "ServiceUnavailable"
        } else {
            "InternalError"
        };
        let message =
            "the server is currently unable to handle the request (LabBehaviour.kubeReads)".into();
        let mut body = body(code, reason, message, None, None);
        body["details"]["retryAfterSeconds"] = t.retry_after.into();
        respond(code, &body)
    };
    crate::lab::throttle::with_retry_after(r, t)
}
