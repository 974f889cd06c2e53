//! `LabBehaviour` throttles (`entra`, `azureReads`, `kubeReads`): whether a request is still to be
//! refused, and the `Retry-After` every refusal carries. Each service words the refusal itself.

use std::sync::atomic::{AtomicU32, Ordering};

use axum::response::Response;

use crate::lab::behaviour::Throttle;

/// The throttle, while it still has requests to refuse (each call counts one request).
pub fn refusing<'t>(throttle: Option<&'t Throttle>, seen: &AtomicU32) -> Option<&'t Throttle> {
    throttle.filter(|t| seen.fetch_add(1, Ordering::SeqCst) < t.fail_first)
}

/// The refusal with the throttle's `Retry-After` (seconds).
pub fn with_retry_after(mut r: Response, t: &Throttle) -> Response {
    if let Ok(v) = t.retry_after.to_string().parse() {
        r.headers_mut().insert("retry-after", v);
    }
    r
}
