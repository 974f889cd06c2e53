//! Blob storage with the pod's access token. Lists one name (in the container, or the account's
//! containers) to prove read access, and, when the pod signs SAS URLs, asks for a user
//! delegation key. No body is kept: not the names listed, and never the key.

use crate::net::http::Http;
use crate::world::ObjRef;
use crate::world::live::{ProbeRecord, ProbeTarget};

pub struct BlobTarget<'a> {
    pub account: &'a str,
    /// `https://{account}.blob.core.windows.net/`, or the endpoint ARM reports.
    pub endpoint: String,
    pub container: Option<&'a str>,
    pub user_delegation: bool,
}

/// One record per operation: the read, then the delegation key when asked.
pub async fn probe(http: &Http, pod: &ObjRef, t: &BlobTarget<'_>, token: &str) -> Vec<ProbeRecord> {
    let base = t.endpoint.trim_end_matches('/');
    let target = ProbeTarget::Blob {
        account: t.account.to_string(),
        container: t.container.map(str::to_string),
    };
    let (operation, url) = match t.container {
        Some(c) => (
            format!("list blobs in container {c}"),
            format!("{base}/{c}?restype=container&comp=list&maxresults=1"),
        ),
        None => (
            "list containers".to_string(),
            format!("{base}/?comp=list&maxresults=1"),
        ),
    };
    let read = Call {
        operation,
        method: "GET",
        url,
        body: None,
    };
    let mut out = vec![call(http, pod, &target, token, read).await];
    if t.user_delegation {
        let start = jiff::Timestamp::now();
        let expiry = start + jiff::SignedDuration::from_secs(3600);
        let fmt = |t: jiff::Timestamp| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><KeyInfo><Start>{}</Start><Expiry>{}</Expiry></KeyInfo>",
            fmt(start),
            fmt(expiry)
        );
        out.push(
            call(
                http,
                pod,
                &target,
                token,
                Call {
                    operation: "get a user delegation key".into(),
                    method: "POST",
                    url: format!("{base}/?restype=service&comp=userdelegationkey"),
                    body: Some(body),
                },
            )
            .await,
        );
    }
    out
}

/// The record of a Blob target that could not be called (no Storage token).
pub fn unprobed(pod: &ObjRef, t: &BlobTarget<'_>, why: &str) -> ProbeRecord {
    let target = ProbeTarget::Blob {
        account: t.account.to_string(),
        container: t.container.map(str::to_string),
    };
    ProbeRecord {
        message: Some(why.to_string()),
        ..ProbeRecord::new(
            pod,
            target,
            "get a token for Storage".into(),
            STORAGE_RESOURCE.into(),
            jiff::Timestamp::now(),
        )
    }
}

const STORAGE_RESOURCE: &str = "https://storage.azure.com";

/// One Blob request of a probe: what it is called in the record, and what is sent.
struct Call {
    operation: String,
    method: &'static str,
    url: String,
    body: Option<String>,
}

async fn call(
    http: &Http,
    pod: &ObjRef,
    target: &ProbeTarget,
    token: &str,
    Call {
        operation,
        method,
        url,
        body,
    }: Call,
) -> ProbeRecord {
    let redacted = crate::net::http::redact_url(&url);
    let mut record = ProbeRecord::new(
        pod,
        target.clone(),
        operation,
        redacted,
        jiff::Timestamp::now(),
    );
    match http.storage("blob probe", method, &url, token, body).await {
        Err(e) => record.message = Some(e.to_string()),
        Ok(r) => {
            record.status = Some(r.status);
            record.request_id = r.header("x-ms-request-id").map(str::to_string);
            if !r.ok() {
                let text = String::from_utf8_lossy(&r.body);
                record.error_code = r
                    .header("x-ms-error-code")
                    .map(str::to_string)
                    .or_else(|| xml_text(&text, "Code"));
                record.message = xml_text(&text, "Message")
                    .map(|m| m.lines().next().unwrap_or_default().trim().to_string());
            }
        }
    }
    record
}

/// The text of the first `<tag>` of Storage's small, flat XML documents.
pub fn xml_text(doc: &str, tag: &str) -> Option<String> {
    let start = doc.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = doc[start..].find(&format!("</{tag}>"))? + start;
    Some(doc[start..end].to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn storage_error_documents() {
        let doc = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthorizationPermissionMismatch</Code><Message>This request is not authorized to perform this operation using this permission.\nRequestId:x</Message></Error>";
        assert_eq!(
            super::xml_text(doc, "Code").as_deref(),
            Some("AuthorizationPermissionMismatch")
        );
        assert!(
            super::xml_text(doc, "Message")
                .unwrap()
                .starts_with("This request")
        );
        assert_eq!(super::xml_text("<Error/>", "Code"), None);
    }
}
