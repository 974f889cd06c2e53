//! What the live probes learned: token exchanges, resource probes, and the parts of the world
//! that could not be read. Kept as world documents so a report replays them offline. Nothing
//! here holds a token, a signature or a secret value: only claims, status codes and messages.

use serde::{Deserialize, Serialize};

use super::ObjRef;

/// `kind: TokenExchange`: one request to the Entra token endpoint with a pod's projected token.
/// Pods sharing (client ID, service account, tenant) share one exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExchangeRecord {
    pub pods: Vec<ObjRef>,
    pub client_id: String,
    pub tenant_id: String,
    /// The token endpoint that was called.
    pub endpoint: String,
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<jiff::Timestamp>,
    /// Requests made, retries included.
    #[serde(default = "one")]
    pub attempts: u32,
    pub outcome: ExchangeOutcome,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transcript: Vec<Step>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "camelCase")]
pub enum ExchangeOutcome {
    /// Entra issued an access token; only these claims of it are kept.
    #[serde(rename_all = "camelCase")]
    Granted { access: AccessClaims },
    /// Entra answered with an OAuth error.
    #[serde(rename_all = "camelCase")]
    Rejected(EntraError),
    /// No answer from Entra (DNS, TCP, TLS, timeout, or an unreadable body).
    #[serde(rename_all = "camelCase")]
    Unreachable { error: String },
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
}

/// An Entra error body, as `error`, `error_codes`, `trace_id`, `correlation_id`, `timestamp`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntraError {
    pub status: u16,
    pub error: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub error_codes: Vec<u64>,
    /// The first line of `error_description` (the rest repeats the IDs below).
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// `Retry-After` seconds on a 429 or 5xx.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl EntraError {
    pub fn aadsts(&self) -> Option<u64> {
        self.error_codes.first().copied()
    }
}

/// `kind: ResourceProbe`: one data-plane call made with a pod's access token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProbeRecord {
    pub pod: ObjRef,
    pub target: ProbeTarget,
    /// What was asked, e.g. `list secret names (no values)`.
    pub operation: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The service's error code (`ForbiddenByRbac`, `AuthorizationPermissionMismatch`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<jiff::Timestamp>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transcript: Vec<Step>,
}

impl ProbeRecord {
    /// A probe made `at`, with nothing answered yet (the world reads no clock; the caller does).
    pub fn new(
        pod: &ObjRef,
        target: ProbeTarget,
        operation: String,
        url: String,
        at: jiff::Timestamp,
    ) -> ProbeRecord {
        ProbeRecord {
            pod: pod.clone(),
            target,
            operation,
            url,
            status: None,
            error_code: None,
            message: None,
            request_id: None,
            at: Some(at),
            transcript: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum ProbeTarget {
    #[serde(rename_all = "camelCase")]
    KeyVault { vault: String },
    #[serde(rename_all = "camelCase")]
    Blob {
        account: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        container: Option<String>,
    },
}

impl ProbeTarget {
    pub fn name(&self) -> String {
        match self {
            ProbeTarget::KeyVault { vault } => vault.clone(),
            ProbeTarget::Blob {
                account,
                container: Some(c),
            } => format!("{account}/{c}"),
            ProbeTarget::Blob { account, .. } => account.clone(),
        }
    }
}

/// One request of a live step, redacted: no query secrets, no bodies, no headers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Step {
    pub what: String,
    pub method: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub millis: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `kind: CollectionGap`: a part of the world that could not be read, and what would allow it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Gap {
    /// `pods`, `serviceaccounts`, `mutatingwebhookconfigurations`, `arm:userAssignedIdentities`, ...
    pub resource: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The permission that would be needed, e.g. `list serviceaccounts in namespace shop`.
    pub needed: String,
    pub error: String,
}

/// `pods (403 Forbidden: ...): needs list pods (cluster-wide)`, as every report form says it.
impl std::fmt::Display for Gap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): needs {}",
            self.resource, self.error, self.needed
        )
    }
}

impl Gap {
    /// The pods were not read: every verdict about the selection is then unknown.
    pub fn is_pods(&self) -> bool {
        self.resource == "pods"
    }
}
