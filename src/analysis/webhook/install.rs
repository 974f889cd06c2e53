//! The webhook as installed in the cluster: its configurations, Deployments, version and the
//! configuration it runs with (ConfigMap, container env, flags).

use k8s_openapi::api::admissionregistration::v1::MutatingWebhook;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Container, EnvVar};

use super::admission::{CustomEndpoint, NotStarted, Settings, Started, assume, start};
use super::releases::{Profile, Version};
use super::*;
use crate::analysis::index::Index;

/// One `mutation.azure-workload-identity.io` entry of a MutatingWebhookConfiguration.
pub struct WebhookEntry<'w> {
    pub config_name: String,
    pub enforcer_disabled: bool,
    pub webhook: &'w MutatingWebhook,
}

pub struct Install<'w> {
    pub entries: Vec<WebhookEntry<'w>>,
    pub deployments: Vec<&'w Deployment>,
    /// From the webhook Deployment's image tag, when captured.
    pub version: Option<Version>,
    /// What the release does: `version`'s, or the newest modelled when it is unknown.
    pub profile: Profile,
    /// AKS reports the add-on enabled (securityProfile.workloadIdentity.enabled).
    pub addon: Option<bool>,
    pub namespace: Option<String>,
    /// The configuration the webhook process runs with, as far as the world shows it.
    pub settings: Settings,
    /// Whether the manager's environment was read (its Deployment, or the ConfigMap alone).
    pub settings_seen: bool,
    /// The webhook as started with `settings`, or why it cannot start.
    pub started: Result<Started, NotStarted>,
    /// The webhook as `settings` describe it even if it cannot start: what pods it mutated hold.
    pub assumed: Started,
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
        let manager = deployments.iter().find_map(|d| manager_of(d));
        let version = deployments
            .iter()
            .filter_map(|d| manager_of(d))
            .filter_map(|c| Version::from_image(c.image.as_deref()?))
            .max();
        let profile = Profile::of(version.unwrap_or(Version::LATEST));
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
        let settings = settings(ix, namespace.as_deref(), manager, cm);
        let started = start(&profile, &settings);
        let assumed = assume(&profile, &settings);
        Install {
            failed_creates: failed_creates(ix),
            addon: ix.cluster().map(|c| c.workload_identity_enabled),
            tenant_id: settings.tenant_id.clone(),
            environment: settings.cloud.clone(),
            audience: settings
                .audience
                .clone()
                .filter(|a| !a.is_empty())
                .unwrap_or_else(|| DEFAULT_AUDIENCE.to_string()),
            settings_seen: manager.is_some() || cm.is_some(),
            config_map_found: cm.is_some(),
            settings,
            started,
            assumed,
            entries,
            deployments,
            version,
            profile,
            namespace,
        }
    }

    /// The webhook a pod meets: the one that started, or, when the world does not show its
    /// tenant (no ConfigMap, no env), the one its settings describe; `None` when it cannot start.
    pub fn admitting(&self) -> Option<&Started> {
        match &self.started {
            Ok(started) => Some(started),
            Err(_) if self.tenant_unseen() => Some(&self.assumed),
            Err(_) => None,
        }
    }

    /// Neither the ConfigMap nor the manager's env was captured with a tenant: unknown, not
    /// missing.
    pub fn tenant_unseen(&self) -> bool {
        self.settings.tenant_id.is_none() && !self.config_map_found
    }

    pub fn present(&self) -> bool {
        !self.entries.is_empty() || !self.deployments.is_empty() || self.addon == Some(true)
    }

    /// Pre-1.0 webhooks also mutated pods whose ServiceAccount carried the label.
    pub fn pre_v1(&self) -> bool {
        self.version.is_some_and(|v| v < Version::V1_0)
    }

    /// Token paths a correctly mutated pod may have: both v1 layouts when the version is unknown.
    pub fn token_paths(&self) -> &'static [&'static str] {
        match self.version {
            Some(v) if v >= Version::V1_6 => &[TOKEN_PATH_V1_6],
            Some(v) if v >= Version(0, 8, 0) => &[TOKEN_PATH_V1_5],
            Some(_) => &["/var/run/secrets/tokens/azure-identity-token"],
            None => &[TOKEN_PATH_V1_6, TOKEN_PATH_V1_5],
        }
    }

    pub fn authority_host(&self) -> Option<&'static str> {
        authority_for(self.environment.as_deref().unwrap_or_default())
    }
}

/// The webhook's own container: the one running its image, else the chart's `manager`.
fn manager_of(d: &Deployment) -> Option<&Container> {
    let containers = &d.spec.as_ref()?.template.spec.as_ref()?.containers;
    containers
        .iter()
        .find(|c| {
            c.image
                .as_deref()
                .is_some_and(|i| i.contains("workload-identity/webhook") || i.contains("webhook:"))
        })
        .or_else(|| containers.iter().find(|c| c.name == "manager"))
}

/// The webhook's configuration: each variable from the container's `env` (which the chart's
/// `extraEnv` writes) over its `envFrom` ConfigMap, as Kubernetes resolves them
/// (charts/workload-identity-webhook/templates/azure-wi-webhook-controller-manager-deployment.yaml
/// @v1.6.0: `env` then `envFrom: configMapRef azure-wi-webhook-config`); flags from its args.
fn settings(
    ix: &Index<'_>,
    namespace: Option<&str>,
    manager: Option<&Container>,
    cm: Option<&ConfigMap>,
) -> Settings {
    let data = cm.and_then(|c| c.data.as_ref());
    let one = |name: &str| -> Option<String> {
        let explicit = manager
            .and_then(|c| c.env.as_ref())
            .and_then(|env| env.iter().rev().find(|e| e.name == name));
        match explicit {
            Some(e) => e.value.clone().or_else(|| from_ref(ix, namespace?, e)),
            None => data.and_then(|d| d.get(name)).cloned(),
        }
    };
    // envconfig.Process("config", ..) reads CONFIG_<NAME> before <NAME> (envconfig v1.4.0
    // envconfig.go:121-127, 193-196).
    let var = |name: &str| one(&format!("CONFIG_{name}")).or_else(|| one(name));
    let args: Vec<&str> = manager
        .and_then(|c| c.args.as_ref())
        .map(|a| a.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let custom = CustomEndpoint {
        annotation_suffix: flag(&args, "custom-token-endpoint-annotation-suffix")
            .unwrap_or_default(),
        audience: flag(&args, "custom-token-endpoint-audience").unwrap_or_default(),
        token_proxy: var("AZURE_KUBERNETES_TOKEN_PROXY").unwrap_or_default(),
        sni_name: var("AZURE_KUBERNETES_SNI_NAME").unwrap_or_default(),
        ca_data: var("AZURE_KUBERNETES_CA_DATA").unwrap_or_default(),
        ca_config_map: var("AZURE_KUBERNETES_CA_CONFIGMAP_NAME").unwrap_or_default(),
        ca_signer_name: var("AZURE_KUBERNETES_CA_CTB_SIGNER_NAME").unwrap_or_default(),
        ca_label_selector: var("AZURE_KUBERNETES_CA_CTB_LABEL_SELECTOR")
            .filter(|s| !s.trim().is_empty())
            .and_then(|s| serde_json::from_str(&s).ok()),
    };
    let kubernetes = ix
        .world
        .info
        .kubernetes_version
        .as_deref()
        .or_else(|| ix.cluster().and_then(|c| c.kubernetes_version.as_deref()))
        .and_then(Version::parse);
    Settings {
        tenant_id: var("AZURE_TENANT_ID"),
        cloud: var("AZURE_ENVIRONMENT"),
        audience: flag(&args, "audience"),
        kubernetes,
        custom: Some(custom),
        proxy_image: var("PROXY_IMAGE"),
        proxy_init_image: var("PROXY_INIT_IMAGE"),
        log_level: flag(&args, "log-level"),
    }
}

/// `valueFrom.configMapKeyRef` into a ConfigMap of the webhook's namespace.
fn from_ref(ix: &Index<'_>, namespace: &str, e: &EnvVar) -> Option<String> {
    let r = e.value_from.as_ref()?.config_map_key_ref.as_ref()?;
    let cm = ix.config_map(namespace, &r.name)?;
    cm.data.as_ref()?.get(&r.key).cloned()
}

/// A Go `flag` value: `-name=v`, `--name=v`, or `-name v` / `--name v`.
fn flag(args: &[&str], name: &str) -> Option<String> {
    args.iter().enumerate().find_map(|(i, a)| {
        let bare = a.strip_prefix("--").or_else(|| a.strip_prefix('-'))?;
        match bare.split_once('=') {
            Some((n, v)) if n == name => Some(v.to_string()),
            None if bare == name => args.get(i + 1).map(|v| v.to_string()),
            _ => None,
        }
    })
}

/// The webhook's entries in every MutatingWebhookConfiguration: by webhook name, or every
/// entry of the configuration the chart installs.
fn webhook_entries<'w>(ix: &Index<'w>) -> Vec<WebhookEntry<'w>> {
    let mut entries = Vec::new();
    for mwc in &ix.world.kube.mutating_webhooks {
        let config_name = mwc.metadata.name.clone().unwrap_or_default();
        // AKS's admissions enforcer skips a configuration that opts out by a label or an
        // annotation (azure-workload-identity docs/book/src/known-issues.md).
        let opted_out = |m: Option<&std::collections::BTreeMap<String, String>>| {
            m.and_then(|m| m.get("admissions.enforcer/disabled"))
                .is_some_and(|v| v == "true")
        };
        let enforcer_disabled =
            opted_out(mwc.metadata.annotations.as_ref()) || opted_out(mwc.metadata.labels.as_ref());
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
