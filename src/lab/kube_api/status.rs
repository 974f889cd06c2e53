//! `Status` error objects, as the API server writes them.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub fn status(
    code: StatusCode,
    reason: &str,
    message: String,
    kind: Option<&str>,
    name: Option<&str>,
) -> Response {
    let mut details = serde_json::Map::new();
    if let Some(n) = name {
        details.insert("name".into(), n.into());
    }
    if let Some(k) = kind {
        details.insert("kind".into(), k.into());
    }
    let body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": details,
        "code": code.as_u16(),
    });
    (
        code,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
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
