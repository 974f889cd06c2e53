//! The azure-workload-identity webhook: what it is and runs with (`install`, `configured`), how
//! each release behaves (`releases`, a table read from the webhook's Go source, one source
//! reference per row), how it starts (`startup`), what it does to one pod (`admission`, a pure
//! model of its `Handle`) and its patch (`patch`). The analysis predicts the webhook with these;
//! tests/webhook_conformance.rs holds the model to the webhook's own tests.

pub mod admission;
pub mod cloud;
pub mod configured;
pub mod go;
pub mod install;
pub mod patch;
pub mod releases;
pub mod selector;
pub mod startup;

pub use admission::{Admission, Denial, Mutation};
pub use cloud::{authority_for, cloud_of_authority};
pub use install::{Install, WebhookEntry};
pub use releases::{Profile, Version};
pub use selector::selector_matches;

pub const USE_LABEL: &str = "azure.workload.identity/use";
pub const CLIENT_ID: &str = "azure.workload.identity/client-id";
pub const TENANT_ID: &str = "azure.workload.identity/tenant-id";
pub const EXPIRATION: &str = "azure.workload.identity/service-account-token-expiration";
pub const SKIP_CONTAINERS: &str = "azure.workload.identity/skip-containers";
pub const INJECT_PROXY: &str = "azure.workload.identity/inject-proxy-sidecar";
pub const PROXY_PORT: &str = "azure.workload.identity/proxy-sidecar-port";
/// The custom token endpoint's pod annotation is this prefix and the webhook's suffix flag.
pub const USE_PREFIX: &str = "azure.workload.identity/use-";
pub const WEBHOOK_NAME: &str = "mutation.azure-workload-identity.io";
pub const MWC_NAME: &str = "azure-wi-webhook-mutating-webhook-configuration";
pub const DEPLOYMENT_NAME: &str = "azure-wi-webhook-controller-manager";
pub const CONFIG_MAP: &str = "azure-wi-webhook-config";
pub const DEFAULT_AUDIENCE: &str = "api://AzureADTokenExchange";
pub const TOKEN_PATH_V1_5: &str = "/var/run/secrets/azure/tokens/azure-identity-token";
pub const TOKEN_PATH_V1_6: &str = "/var/run/secrets/azure/wi/token/azure-identity-token";

/// Container names in skip-containers: split on ';' and trimmed, as the webhook does
/// (`getSkipContainers`, pkg/webhook/webhook.go@v1.6.0:361-372).
pub fn skip_list(annotation: Option<&str>) -> Vec<String> {
    annotation
        .map(|a| {
            a.split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_containers_split_on_semicolons_only() {
        assert_eq!(skip_list(Some(" a ; b;;")), vec!["a", "b"]);
        assert_eq!(skip_list(Some("a,b")), vec!["a,b"]);
    }
}
