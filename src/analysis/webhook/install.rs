//! The azure-workload-identity webhook as installed, and what it injects into a pod now.
//! Mirrors pkg/webhook of the project (see shared reference §1): env is added only when absent
//! and non-empty, the token path depends on the version, skip-containers splits on ';'.

use k8s_openapi::api::admissionregistration::v1::MutatingWebhook;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::index::Index;

pub const USE_LABEL: &str = "azure.workload.identity/use";
pub const CLIENT_ID: &str = "azure.workload.identity/client-id";
pub const TENANT_ID: &str = "azure.workload.identity/tenant-id";
pub const EXPIRATION: &str = "azure.workload.identity/service-account-token-expiration";
pub const SKIP_CONTAINERS: &str = "azure.workload.identity/skip-containers";
pub const INJECT_PROXY: &str = "azure.workload.identity/inject-proxy-sidecar";
pub const PROXY_PORT: &str = "azure.workload.identity/proxy-sidecar-port";
pub const WEBHOOK_NAME: &str = "mutation.azure-workload-identity.io";
pub const MWC_NAME: &str = "azure-wi-webhook-mutating-webhook-configuration";
pub const DEPLOYMENT_NAME: &str = "azure-wi-webhook-controller-manager";
pub const CONFIG_MAP: &str = "azure-wi-webhook-config";
pub const DEFAULT_AUDIENCE: &str = "api://AzureADTokenExchange";
pub const TOKEN_PATH_V1_5: &str = "/var/run/secrets/azure/tokens/azure-identity-token";
pub const TOKEN_PATH_V1_6: &str = "/var/run/secrets/azure/wi/token/azure-identity-token";
pub const ENV_NAMES: [&str; 4] = [
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u64, pub u64, pub u64);

impl Version {
    pub const V1_0: Version = Version(1, 0, 0);
    pub const V1_6: Version = Version(1, 6, 0);

    /// From an image reference such as `mcr.microsoft.com/oss/azure/workload-identity/webhook:v1.5.1`.
    pub fn from_image(image: &str) -> Option<Version> {
        let tag = image.rsplit_once(':')?.1;
        let tag = tag.split('@').next()?.trim_start_matches('v');
        let mut parts = tag.split(['.', '-']).map(|p| p.parse::<u64>());
        Some(Version(
            parts.next()?.ok()?,
            parts.next()?.ok()?,
            parts.next().and_then(Result::ok).unwrap_or(0),
        ))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "v{}.{}.{}", self.0, self.1, self.2)
    }
}

/// One `mutation.azure-workload-identity.io` entry of a MutatingWebhookConfiguration.
pub struct WebhookEntry<'w> {
    pub config_name: String,
    pub enforcer_disabled: bool,
    pub webhook: &'w MutatingWebhook,
}

pub struct Install<'w> {
    pub entries: Vec<WebhookEntry<'w>>,
    pub deployments: Vec<&'w Deployment>,
    pub version: Option<Version>,
    /// AKS reports the add-on enabled (securityProfile.workloadIdentity.enabled).
    pub addon: Option<bool>,
    pub namespace: Option<String>,
    pub tenant_id: Option<String>,
    pub environment: Option<String>,
    pub config_map_found: bool,
    pub audience: String,
    /// `FailedCreate` event messages that name the webhook.
    pub failed_creates: Vec<&'w str>,
}

impl<'w> Install<'w> {
    pub fn detect(ix: &Index<'w>) -> Install<'w> {
        let entries = webhook_entries(ix);
        let deployments = webhook_deployments(ix);
        let containers = || {
            deployments.iter().flat_map(|d| {
                d.spec
                    .iter()
                    .flat_map(|s| s.template.spec.iter())
                    .flat_map(|s| s.containers.iter())
            })
        };
        let version = containers()
            .filter(|c| c.image.as_deref().is_some_and(|i| i.contains("webhook")))
            .filter_map(|c| Version::from_image(c.image.as_deref()?))
            .max();
        let audience = containers()
            .flat_map(|c| c.args.iter().flatten())
            .find_map(|a| a.strip_prefix("--audience=").map(str::to_string))
            .unwrap_or_else(|| DEFAULT_AUDIENCE.to_string());
        // The config the running webhook reads: the ConfigMap beside its Deployment.
        let namespace = deployments
            .first()
            .and_then(|d| d.metadata.namespace.clone())
            .or_else(|| {
                entries.iter().find_map(|e| {
                    e.webhook
                        .client_config
                        .service
                        .as_ref()
                        .map(|s| s.namespace.clone())
                })
            });
        let cm = namespace
            .as_deref()
            .and_then(|ns| ix.config_map(ns, CONFIG_MAP));
        let data = cm.and_then(|c| c.data.as_ref());
        Install {
            failed_creates: failed_creates(ix),
            addon: ix.cluster().map(|c| c.workload_identity_enabled),
            tenant_id: data.and_then(|d| d.get("AZURE_TENANT_ID")).cloned(),
            environment: data.and_then(|d| d.get("AZURE_ENVIRONMENT")).cloned(),
            config_map_found: cm.is_some(),
            entries,
            deployments,
            version,
            namespace,
            audience,
        }
    }

    pub fn present(&self) -> bool {
        !self.entries.is_empty() || !self.deployments.is_empty() || self.addon == Some(true)
    }

    /// Pre-1.0 webhooks also mutated pods whose ServiceAccount carried the label.
    pub fn pre_v1(&self) -> bool {
        self.version.is_some_and(|v| v < Version::V1_0)
    }

    /// Token paths a correctly mutated pod may have: both when the version is unknown.
    pub fn token_paths(&self) -> &'static [&'static str] {
        match self.version {
            Some(v) if v >= Version::V1_6 => &[TOKEN_PATH_V1_6],
            Some(_) => &[TOKEN_PATH_V1_5],
            None => &[TOKEN_PATH_V1_6, TOKEN_PATH_V1_5],
        }
    }

    pub fn authority_host(&self) -> Option<&'static str> {
        authority_for(self.environment.as_deref().unwrap_or("AzurePublicCloud"))
    }
}

/// The webhook's entries in every MutatingWebhookConfiguration: by webhook name, or every
/// entry of the configuration the chart installs.
fn webhook_entries<'w>(ix: &Index<'w>) -> Vec<WebhookEntry<'w>> {
    let mut entries = Vec::new();
    for mwc in &ix.world.kube.mutating_webhooks {
        let config_name = mwc.metadata.name.clone().unwrap_or_default();
        let enforcer_disabled = mwc
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("admissions.enforcer/disabled"))
            .is_some_and(|v| v == "true");
        for wh in mwc.webhooks.iter().flatten() {
            if wh.name == WEBHOOK_NAME || config_name == MWC_NAME {
                entries.push(WebhookEntry {
                    config_name: config_name.clone(),
                    enforcer_disabled,
                    webhook: wh,
                });
            }
        }
    }
    entries
}

/// The webhook's Deployments: by the chart's name or the label it sets.
fn webhook_deployments<'w>(ix: &Index<'w>) -> Vec<&'w Deployment> {
    ix.world
        .kube
        .deployments
        .iter()
        .filter(|d| {
            d.metadata.name.as_deref() == Some(DEPLOYMENT_NAME)
                || d.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("azure-workload-identity.io/system"))
                    .is_some_and(|v| v == "true")
        })
        .collect()
}

/// `FailedCreate` event messages that name the webhook.
fn failed_creates<'w>(ix: &Index<'w>) -> Vec<&'w str> {
    ix.world
        .kube
        .events
        .iter()
        .filter(|e| e.reason.as_deref() == Some("FailedCreate"))
        .filter_map(|e| e.message.as_deref())
        .filter(|m| m.contains(WEBHOOK_NAME))
        .collect()
}

/// AZURE_AUTHORITY_HOST per AZURE_ENVIRONMENT (go-autorest names, case-insensitive).
pub fn authority_for(environment: &str) -> Option<&'static str> {
    const HOSTS: [(&str, &str); 5] = [
        ("", "https://login.microsoftonline.com/"),
        ("AzurePublicCloud", "https://login.microsoftonline.com/"),
        (
            "AzureUSGovernmentCloud",
            "https://login.microsoftonline.us/",
        ),
        ("AzureChinaCloud", "https://login.chinacloudapi.cn/"),
        ("AzureGermanCloud", "https://login.microsoftonline.de/"),
    ];
    HOSTS
        .iter()
        .find(|(env, _)| env.eq_ignore_ascii_case(environment))
        .map(|(_, host)| *host)
}

/// Cloud name for an authority host, the reverse of [`authority_for`]; only an exact, bare
/// origin of a known authority counts (`https://login.microsoftonline.com.evil/` is none).
pub fn cloud_of_authority(url: &str) -> Option<&'static str> {
    crate::untrusted::destinations::known(url).map(|a| a.cloud)
}

/// Whether a label selector (matchLabels and matchExpressions) matches the labels `label` looks
/// up.
pub fn selector_matches<'l>(sel: &LabelSelector, label: impl Fn(&str) -> Option<&'l str>) -> bool {
    let labels_ok = sel
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| label(k) == Some(v.as_str()));
    let exprs_ok = sel.match_expressions.iter().flatten().all(|e| {
        let value = label(&e.key);
        let values = e.values.as_deref().unwrap_or_default();
        match e.operator.as_str() {
            "In" => value.is_some_and(|v| values.iter().any(|x| x == v)),
            "NotIn" => value.is_none_or(|v| !values.iter().any(|x| x == v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        }
    });
    labels_ok && exprs_ok
}

/// Container names in skip-containers, split and trimmed as the webhook does.
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

/// Whether an expiration annotation would be accepted (integer in 3600..=86400).
pub fn expiration_valid(value: &str) -> bool {
    value
        .parse::<i64>()
        .is_ok_and(|v| (3600..=86400).contains(&v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_from_image_tags() {
        assert_eq!(
            Version::from_image("mcr.microsoft.com/oss/azure/workload-identity/webhook:v1.5.1"),
            Some(Version(1, 5, 1))
        );
        assert_eq!(
            Version::from_image("x/webhook:v0.15.0"),
            Some(Version(0, 15, 0))
        );
        assert_eq!(Version::from_image("x/webhook:latest"), None);
        assert_eq!(skip_list(Some(" a ; b;;")), vec!["a", "b"]);
        assert_eq!(skip_list(Some("a,b")), vec!["a,b"]);
        assert!(expiration_valid("3600") && !expiration_valid("600") && !expiration_valid("1h"));
    }
}
