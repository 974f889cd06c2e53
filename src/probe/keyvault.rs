//! Key Vault with the pod's access token. Proves access without reading a value: the probe
//! gets a secret name that does not exist. Key Vault authorises before it looks the name up,
//! so 404 `SecretNotFound` proves `get` is allowed and 403 says why not; no value exists to read.
//! A success body is never parsed.

use crate::net::http::Http;
use crate::world::ObjRef;
use crate::world::live::{ProbeRecord, ProbeTarget};

/// Never created by anyone; the lab's vaults hold every other name.
pub const PROBE_SECRET: &str = "widiag-access-probe";

pub async fn probe(
    http: &Http,
    pod: &ObjRef,
    vault: &str,
    suffix: &str,
    token: &str,
) -> ProbeRecord {
    let url = format!(
        "https://{vault}.{suffix}/secrets/{PROBE_SECRET}?api-version={}",
        crate::net::api_versions::KEY_VAULT_DATA
    );
    let mut record = ProbeRecord::new(
        pod,
        ProbeTarget::KeyVault {
            vault: vault.to_string(),
        },
        format!("get secret {PROBE_SECRET} (a name that does not exist)"),
        crate::net::http::redact_url(&url),
        jiff::Timestamp::now(),
    );
    match http.get("key vault probe", &url, Some(token)).await {
        Err(e) => record.message = Some(e.to_string()),
        Ok(r) => {
            record.status = Some(r.status);
            record.request_id = r.header("x-ms-request-id").map(str::to_string);
            if !r.ok() {
                let body = r.json().unwrap_or_default();
                let e = &body["error"];
                // The specific reason (ForbiddenByRbac, ...) is the inner error's code.
                record.error_code = e["innererror"]["code"]
                    .as_str()
                    .or(e["code"].as_str())
                    .map(str::to_string);
                record.message = e["message"]
                    .as_str()
                    .map(|m| m.lines().next().unwrap_or_default().trim().to_string());
            }
        }
    }
    record
}
