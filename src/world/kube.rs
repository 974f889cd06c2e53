//! Kubernetes objects, held as the API server serialises them (k8s-openapi types).

use k8s_openapi::api::admissionregistration::v1::MutatingWebhookConfiguration;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ConfigMap, Event, Namespace, Node, Pod, Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};

#[derive(Debug, Clone, Default)]
pub struct KubeObjects {
    pub namespaces: Vec<Namespace>,
    pub service_accounts: Vec<ServiceAccount>,
    pub pods: Vec<Pod>,
    pub deployments: Vec<Deployment>,
    pub replica_sets: Vec<ReplicaSet>,
    pub stateful_sets: Vec<StatefulSet>,
    pub daemon_sets: Vec<DaemonSet>,
    pub jobs: Vec<Job>,
    pub cron_jobs: Vec<CronJob>,
    pub mutating_webhooks: Vec<MutatingWebhookConfiguration>,
    pub config_maps: Vec<ConfigMap>,
    pub services: Vec<Service>,
    pub nodes: Vec<Node>,
    pub events: Vec<Event>,
    /// Read for AKS identity bindings: a ServiceAccount may use a managed identity only when a
    /// ClusterRole grants it `use-managed-identity` on `cid.wi.aks.azure.com/<client id>`.
    pub cluster_roles: Vec<ClusterRole>,
    pub cluster_role_bindings: Vec<ClusterRoleBinding>,
}

impl KubeObjects {
    pub fn len(&self) -> usize {
        self.namespaces.len()
            + self.service_accounts.len()
            + self.pods.len()
            + self.deployments.len()
            + self.replica_sets.len()
            + self.stateful_sets.len()
            + self.daemon_sets.len()
            + self.jobs.len()
            + self.cron_jobs.len()
            + self.mutating_webhooks.len()
            + self.config_maps.len()
            + self.services.len()
            + self.nodes.len()
            + self.events.len()
            + self.cluster_roles.len()
            + self.cluster_role_bindings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether `name` is what a workload's controller names an object it makes: `<workload>-<suffix>`
/// with a suffix of one word (a ReplicaSet's hash, a CronJob's Job's schedule time), so `api`
/// does not take `api-gateway`'s.
pub fn generated_by(name: &str, workload: &str) -> bool {
    name.strip_prefix(workload)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|suffix| !suffix.is_empty() && !suffix.contains('-'))
}

/// The pod annotation AKS identity bindings use (the webhook's custom token endpoint with the
/// annotation suffix `identity-binding`, learn.microsoft.com/azure/aks/identity-bindings).
pub const IDENTITY_BINDING_ANNOTATION: &str = "azure.workload.identity/use-identity-binding";

/// Whether the pod asks for an AKS identity binding: the webhook compares the value with
/// `strings.EqualFold(val, "true")`.
pub fn uses_identity_binding(pod: &Pod) -> bool {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(IDENTITY_BINDING_ANNOTATION))
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}
