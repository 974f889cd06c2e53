//! The webhook as installed in the cluster: its configurations, Deployments and version, the
//! settings it runs with (read by `configured`), and how it starts with them.

use k8s_openapi::api::admissionregistration::v1::MutatingWebhook;
use k8s_openapi::api::apps::v1::Deployment;

use super::configured;
use super::releases::{Profile, Version};
use super::startup::{NotStarted, Settings, Started, assume, start};
use super::*;
use crate::analysis::index::Index;

/// The names v0.1.0 to v0.3.0 installed under (deploy/aad-pi-webhook.yaml@v0.3.0).
const OLD_WEBHOOK_NAME: &str = "mpod.aad-pod-identity.io";
const OLD_MWC_NAME: &str = "aad-pi-webhook-mutating-webhook-configuration";
const OLD_DEPLOYMENT_NAME: &str = "aad-pi-webhook-controller-manager";

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
    /// The cluster is Arc-enabled: Arc installs the webhook (`az connectedk8s`), not AKS.
    pub arc: bool,
    pub namespace: Option<String>,
    /// The configuration the webhook process runs with, as far as the world shows it.
    pub settings: Settings,
    /// Settings the world shows are set but not their values (a Secret, a field reference), or
    /// may come from a source it does not hold (`envFrom` a Secret).
    pub unknown: Vec<&'static str>,
    /// The webhook as started with `settings`, or why it cannot start.
    pub started: Result<Started, NotStarted>,
    /// The webhook as `settings` describe it even if it cannot start: what pods it mutated hold.
    pub assumed: Started,
    pub config_map_found: bool,
    /// The token paths a pod this webhook mutated may hold (`Profile::token_path`): both v1
    /// layouts (v1.6's and v1.0–v1.5's) when the version is unknown.
    pub token_paths: Vec<String>,
    /// `FailedCreate` event messages in which the API server could not call the webhook (a
    /// refusal, "denied the request", is the webhook answering: not counted here).
    pub failed_creates: Vec<&'w str>,
}

impl<'w> Install<'w> {
    pub fn detect(ix: &Index<'w>) -> Install<'w> {
        let entries = webhook_entries(ix);
        let deployments = webhook_deployments(ix);
        let manager = deployments.iter().find_map(|d| configured::manager(d));
        let version = deployments
            .iter()
            .filter_map(|d| configured::manager(d))
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
        let (settings, unknown) = configured::read(ix, namespace.as_deref(), manager, cm);
        let started = start(&profile, &settings);
        let mut assumed = assume(&profile, &settings);
        if cm.is_none() && settings.cloud.is_none() {
            // The chart writes AZURE_ENVIRONMENT into the ConfigMap: without it, the cloud (and
            // so the authority the pods were given) is unknown, not public.
            assumed.authority.clear();
        }
        Install {
            failed_creates: failed_creates(ix),
            addon: ix.cluster().map(|c| c.workload_identity_enabled),
            arc: ix.cluster().is_some_and(|c| c.arc),
            token_paths: match version {
                Some(_) => vec![profile.token_path()],
                None => vec![
                    Profile::of(Version::LATEST).token_path(),
                    Profile::of(Version(1, 5, 1)).token_path(),
                ],
            },
            unknown,
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
            Err(_) if self.tenant_unknown() => Some(&self.assumed),
            Err(_) => None,
        }
    }

    /// The world does not show the tenant: no ConfigMap or env was captured with it, or it
    /// comes from a Secret. Unknown, not missing.
    pub fn tenant_unknown(&self) -> bool {
        self.settings.tenant_id.is_none()
            && (!self.config_map_found || self.unknown.contains(&"AZURE_TENANT_ID"))
    }

    /// Why the webhook cannot start, as far as the world shows: a tenant the world does not show
    /// is not called missing, but every other check still runs.
    pub fn cannot_start(&self) -> Option<NotStarted> {
        let err = self.started.as_ref().err()?;
        if !self.tenant_unknown() {
            return Some(err.clone());
        }
        let known = Settings {
            tenant_id: Some("unknown".into()),
            ..self.settings.clone()
        };
        start(&self.profile, &known).err()
    }

    pub fn present(&self) -> bool {
        !self.entries.is_empty() || !self.deployments.is_empty() || self.addon == Some(true)
    }

    /// Pre-1.0 webhooks also mutated pods whose ServiceAccount carried the label.
    pub fn pre_v1(&self) -> bool {
        self.version.is_some_and(|v| v < Version::V1_0)
    }

    pub fn authority_host(&self) -> Option<&'static str> {
        authority_for(self.settings.cloud.as_deref().unwrap_or_default())
    }
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
            if wh.name == WEBHOOK_NAME
                || wh.name == OLD_WEBHOOK_NAME
                || config_name == MWC_NAME
                || config_name == OLD_MWC_NAME
            {
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
            let labels = d.metadata.labels.as_ref();
            let system = |k: &str| labels.and_then(|l| l.get(k)).is_some_and(|v| v == "true");
            matches!(
                d.metadata.name.as_deref(),
                Some(DEPLOYMENT_NAME | OLD_DEPLOYMENT_NAME)
            ) || system("azure-workload-identity.io/system")
                || system("mpod.aad-pod-identity.io/system")
        })
        .collect()
}

/// Creation failures (`FailedCreate` events, `ReplicaFailure` conditions) in which the API
/// server failed calling the webhook (apiserver's admission errors: `failed calling webhook
/// "<name>": ...`).
fn failed_creates<'w>(ix: &Index<'w>) -> Vec<&'w str> {
    let calling = format!("failed calling webhook \"{WEBHOOK_NAME}\"");
    crate::analysis::workloads::create_failures(ix.world)
        .map(|f| f.message)
        .filter(|m| m.contains(&calling))
        .collect()
}
