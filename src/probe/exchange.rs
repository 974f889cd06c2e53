//! widiag's own request to the Entra token endpoint, exactly as the Azure SDKs make it for
//! workload identity, so the whole error survives: `error`, `error_codes`, `trace_id`,
//! `correlation_id`, `timestamp`. Retries 429 and 5xx with bounded backoff.

use crate::net::http::Http;
use crate::net::retry::retrying;
use crate::untrusted::destinations;
use crate::world::live::{AccessClaims, EntraError, ExchangeOutcome};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An access token, held only in memory for the resource probes.
pub struct AccessToken(pub String);

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

pub struct Exchanged {
    pub endpoint: String,
    pub attempts: u32,
    pub outcome: ExchangeOutcome,
    pub access: Option<AccessToken>,
}

/// Presents `assertion` at `authority` (with the one authority the user allowed), the only
/// place widiag sends a service-account token. Refuses any other host, whoever chose it.
pub async fn exchange(
    http: &Http,
    (authority, allowed): (&str, Option<&str>),
    tenant: &str,
    client_id: &str,
    scope: &str,
    assertion: &str,
) -> Exchanged {
    let endpoint = format!(
        "{}/{tenant}/oauth2/v2.0/token",
        authority.trim_end_matches('/')
    );
    let refused = if !destinations::may_receive_token(authority, allowed) {
        Some(format!(
            "not sent: {authority} is not an Entra authority of a known cloud or --authority-host"
        ))
    } else if !crate::untrusted::grammar::tenant(tenant) {
        Some("not sent: the tenant is neither a GUID nor a domain name".to_string())
    } else {
        None
    };
    if let Some(error) = refused {
        return Exchanged {
            endpoint,
            attempts: 0,
            outcome: ExchangeOutcome::Unreachable { error },
            access: None,
        };
    }
    let form = [
        ("client_id", client_id),
        ("grant_type", "client_credentials"),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion),
        ("scope", scope),
    ];
    let ((outcome, access, _), attempts) =
        retrying(|| attempt(http, &endpoint, &form), |(_, _, again)| *again).await;
    Exchanged {
        endpoint,
        attempts,
        outcome,
        access,
    }
}

/// One request to the token endpoint, and whether it is worth asking again (with Retry-After):
/// unreachable, throttled (429) or failing (5xx).
async fn attempt(
    http: &Http,
    endpoint: &str,
    form: &[(&str, &str)],
) -> (ExchangeOutcome, Option<AccessToken>, Option<Option<u64>>) {
    let r = match http.post_form("token exchange", endpoint, form).await {
        Err(e) => {
            let error = e.to_string();
            return (ExchangeOutcome::Unreachable { error }, None, Some(None));
        }
        Ok(r) => r,
    };
    let body = r.json().unwrap_or_default();
    if !r.ok() {
        let retry_after = r.retry_after();
        let again = r.transient().then_some(retry_after);
        let e = entra_error(r.status, &body, retry_after);
        return (ExchangeOutcome::Rejected(e), None, again);
    }
    match body["access_token"].as_str() {
        Some(t) => (
            ExchangeOutcome::Granted {
                access: claims_of(t),
            },
            Some(AccessToken(t.to_string())),
            None,
        ),
        None => (
            ExchangeOutcome::Unreachable {
                error: format!("HTTP {} without an access_token", r.status),
            },
            None,
            None,
        ),
    }
}

/// Entra's error body; `error_description` keeps its first line only (Entra sometimes uses
/// `\r\n` between the message and the IDs it repeats).
pub fn entra_error(status: u16, body: &serde_json::Value, retry_after: Option<u64>) -> EntraError {
    let s = |k: &str| body[k].as_str().map(str::to_string);
    EntraError {
        status,
        error: s("error").unwrap_or_else(|| format!("HTTP {status}")),
        error_codes: body["error_codes"]
            .as_array()
            .map(|a| a.iter().filter_map(serde_json::Value::as_u64).collect())
            .unwrap_or_default(),
        description: s("error_description")
            .map(|d| d.lines().next().unwrap_or_default().trim().to_string())
            .unwrap_or_default(),
        trace_id: s("trace_id"),
        correlation_id: s("correlation_id"),
        timestamp: s("timestamp"),
        retry_after,
    }
}

/// The claims of an access token worth showing; the token itself is dropped.
pub fn claims_of(token: &str) -> AccessClaims {
    let c: serde_json::Value =
        jsonwebtoken::dangerous::insecure_decode_claims(token).unwrap_or_default();
    let s = |k: &str| c[k].as_str().map(str::to_string);
    AccessClaims {
        aud: s("aud"),
        oid: s("oid"),
        appid: s("appid").or_else(|| s("azp")),
        tid: s("tid"),
        exp: c["exp"].as_i64(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn crlf_descriptions_keep_the_first_line() {
        let body = json!({"error": "invalid_client", "error_codes": [700213],
            "error_description": "AADSTS700213: No matching federated identity record found.\r\nTrace ID: t\r\nCorrelation ID: c",
            "trace_id": "t", "correlation_id": "c", "timestamp": "2026-11-24 10:00:00Z"});
        let e = super::entra_error(401, &body, None);
        assert_eq!(e.aadsts(), Some(700213));
        assert_eq!(
            e.description,
            "AADSTS700213: No matching federated identity record found."
        );
        assert_eq!(e.trace_id.as_deref(), Some("t"));
    }
}
