//! Workloads whose pods do not exist: a Deployment the webhook blocks (its ReplicaSet records
//! `FailedCreate`), a CronJob between runs. Each is analysed as the pod its template would make
//! (a *would-be pod*), so a blocked workload is never an empty, passing selection.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use super::index::Index;
use crate::world::World;

/// (namespace, kind, name) of a workload.
pub type Key = (String, String, String);

/// The would-be pods of the workloads in `namespace` (or all) that no pod in `covered` belongs
/// to and that want pods: Deployments and StatefulSets with replicas, DaemonSets, CronJobs
/// (their template is checked between runs). Jobs and ReplicaSets are reached through these.
pub fn without_pods(world: &World, namespace: Option<&str>, covered: &BTreeSet<Key>) -> Vec<Pod> {
    let k = &world.kube;
    let in_scope = |m: &ObjectMeta| namespace.is_none_or(|n| m.namespace.as_deref() == Some(n));
    let mut out = Vec::new();
    let mut add =
        |kind: &str, meta: &ObjectMeta, template: Option<&PodTemplateSpec>, wants: bool| {
            let (Some(template), true) = (template, wants && in_scope(meta)) else {
                return;
            };
            let key = (
                meta.namespace.clone().unwrap_or_else(|| "default".into()),
                kind.to_string(),
                meta.name.clone().unwrap_or_default(),
            );
            if !covered.contains(&key) {
                out.push(would_be(kind, &key, template));
            }
        };
    for d in &k.deployments {
        let spec = d.spec.as_ref();
        let wants = spec.and_then(|s| s.replicas).unwrap_or(1) > 0;
        add("Deployment", &d.metadata, spec.map(|s| &s.template), wants);
    }
    for s in &k.stateful_sets {
        let spec = s.spec.as_ref();
        let wants = spec.and_then(|s| s.replicas).unwrap_or(1) > 0;
        add("StatefulSet", &s.metadata, spec.map(|s| &s.template), wants);
    }
    for d in &k.daemon_sets {
        let wants = d
            .status
            .as_ref()
            .is_none_or(|s| s.desired_number_scheduled > 0);
        add(
            "DaemonSet",
            &d.metadata,
            d.spec.as_ref().map(|s| &s.template),
            wants,
        );
    }
    for c in &k.cron_jobs {
        let template = c
            .spec
            .as_ref()
            .and_then(|s| Some(&s.job_template.spec.as_ref()?.template));
        add("CronJob", &c.metadata, template, true);
    }
    out
}

/// The pod `template` would make, owned by the workload directly (the analysis follows that
/// reference to the template, where the fixes go).
fn would_be(kind: &str, key: &Key, template: &PodTemplateSpec) -> Pod {
    let meta = template.metadata.clone().unwrap_or_default();
    Pod {
        metadata: ObjectMeta {
            name: Some(key.2.clone()),
            namespace: Some(key.0.clone()),
            labels: meta.labels,
            annotations: meta.annotations,
            owner_references: Some(vec![OwnerReference {
                api_version: "apps/v1".into(),
                kind: kind.into(),
                name: key.2.clone(),
                controller: Some(true),
                ..Default::default()
            }]),
            ..Default::default()
        },
        spec: template.spec.clone(),
        status: None,
    }
}

/// The `FailedCreate` messages recorded for a workload: on it, or on a ReplicaSet or Job it
/// owns (`<name>-<hash>`).
pub fn failed_creates<'w>(ix: &Index<'w>, namespace: &str, name: &str) -> Vec<&'w str> {
    let prefix = format!("{name}-");
    ix.world
        .kube
        .events
        .iter()
        .filter(|e| e.reason.as_deref() == Some("FailedCreate"))
        .filter(|e| {
            let o = &e.involved_object;
            o.namespace.as_deref().unwrap_or(namespace) == namespace
                && o.name
                    .as_deref()
                    .is_some_and(|n| n == name || n.starts_with(&prefix))
        })
        .filter_map(|e| e.message.as_deref())
        .collect()
}
