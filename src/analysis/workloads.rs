//! Workloads whose pods do not exist: a Deployment the webhook blocks (its ReplicaSet records
//! `FailedCreate`), a CronJob between runs. Each is analysed as the pod its template would make
//! (a *would-be pod*), so a blocked workload is never an empty, passing selection.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use super::index::Index;
use crate::world::{ObjRef, World};

/// (namespace, kind, name) of a workload.
pub type Key = (String, String, String);

/// The would-be pods of the workloads in `namespace` (or all) that no pod in `covered` belongs
/// to and that want pods: Deployments and StatefulSets with replicas, DaemonSets, CronJobs
/// (their template is checked between runs), and Jobs and ReplicaSets of their own (not a
/// CronJob's or a Deployment's) that are not done. With `idle` (manifests about to be applied)
/// every workload counts, scaled to zero or finished.
pub fn without_pods(
    world: &World,
    namespace: Option<&str>,
    covered: &BTreeSet<Key>,
    idle: bool,
) -> Vec<Pod> {
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
        let wants = idle || spec.and_then(|s| s.replicas).unwrap_or(1) > 0;
        add("Deployment", &d.metadata, spec.map(|s| &s.template), wants);
    }
    for s in &k.stateful_sets {
        let spec = s.spec.as_ref();
        let wants = idle || spec.and_then(|s| s.replicas).unwrap_or(1) > 0;
        add("StatefulSet", &s.metadata, spec.map(|s| &s.template), wants);
    }
    for d in &k.daemon_sets {
        let wants = idle
            || d.status
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
    let own = |m: &ObjectMeta, parent: &str| {
        !m.owner_references
            .iter()
            .flatten()
            .any(|r| r.kind == parent)
    };
    for j in &k.jobs {
        let wants = idle || own(&j.metadata, "CronJob") && !finished(j);
        add(
            "Job",
            &j.metadata,
            j.spec.as_ref().map(|s| &s.template),
            wants,
        );
    }
    for r in &k.replica_sets {
        let spec = r.spec.as_ref();
        let wants = idle
            || own(&r.metadata, "Deployment") && spec.and_then(|s| s.replicas).unwrap_or(1) > 0;
        add(
            "ReplicaSet",
            &r.metadata,
            spec.and_then(|s| s.template.as_ref()),
            wants,
        );
    }
    out
}

/// A Job that completed or failed for good: its pods are not wanted any more.
fn finished(job: &k8s_openapi::api::batch::v1::Job) -> bool {
    job.status.as_ref().is_some_and(|s| {
        s.completion_time.is_some()
            || s.conditions
                .iter()
                .flatten()
                .any(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
    })
}

/// The would-be pod named `at` (a workload's name), when that workload has a template.
pub fn would_be_named(world: &World, at: &ObjRef) -> Option<Pod> {
    without_pods(world, Some(&at.namespace), &BTreeSet::new(), true)
        .into_iter()
        .find(|p| p.metadata.name.as_deref() == Some(&at.name))
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

/// Why a controller could not create pods: a `FailedCreate` event, or a ReplicaSet's or
/// Deployment's `ReplicaFailure` condition (which outlives the events' one-hour retention).
pub struct CreateFailure<'w> {
    /// None when an event's involvedObject leaves it out (it is the event's own).
    pub namespace: Option<&'w str>,
    pub name: &'w str,
    pub message: &'w str,
}

/// Every creation failure the world records, events first.
pub fn create_failures(world: &World) -> impl Iterator<Item = CreateFailure<'_>> {
    let k = &world.kube;
    let events = k
        .events
        .iter()
        .filter(|e| e.reason.as_deref() == Some("FailedCreate"))
        .filter_map(|e| {
            let o = &e.involved_object;
            Some(CreateFailure {
                namespace: o.namespace.as_deref().or(e.metadata.namespace.as_deref()),
                name: o.name.as_deref()?,
                message: e.message.as_deref()?,
            })
        });
    // k8s-openapi types the two conditions apart; each is read as (type, status, message).
    let replica_sets = k.replica_sets.iter().filter_map(|r| {
        let c = r.status.as_ref()?.conditions.iter().flatten();
        replica_failure(
            &r.metadata,
            c.map(|c| (&*c.type_, &*c.status, c.message.as_deref())),
        )
    });
    let deployments = k.deployments.iter().filter_map(|d| {
        let c = d.status.as_ref()?.conditions.iter().flatten();
        replica_failure(
            &d.metadata,
            c.map(|c| (&*c.type_, &*c.status, c.message.as_deref())),
        )
    });
    events.chain(replica_sets).chain(deployments)
}

/// A `ReplicaFailure` condition that holds, as the failure it records.
fn replica_failure<'w>(
    meta: &'w ObjectMeta,
    mut conditions: impl Iterator<Item = (&'w str, &'w str, Option<&'w str>)>,
) -> Option<CreateFailure<'w>> {
    let (_, _, message) =
        conditions.find(|(kind, status, _)| *kind == "ReplicaFailure" && *status == "True")?;
    Some(CreateFailure {
        namespace: meta.namespace.as_deref(),
        name: meta.name.as_deref()?,
        message: message?,
    })
}

/// The creation failures about the webhook recorded for a workload: on it, or on a ReplicaSet
/// or Job it owns (`<name>-<suffix>`, the suffix a hash or a schedule time without a dash, so
/// `api` does not take `api-gateway`'s), each message once. Other failures (a quota, a missing
/// ServiceAccount) are not the webhook's and do not make a workload a subject.
pub fn failed_creates<'w>(ix: &Index<'w>, namespace: &str, name: &str) -> Vec<&'w str> {
    let owned = |n: &str| n == name || crate::world::kube::generated_by(n, name);
    let mut out: Vec<&'w str> = Vec::new();
    for f in create_failures(ix.world) {
        if f.namespace.unwrap_or(namespace) == namespace
            && owned(f.name)
            && f.message.contains(super::webhook::WEBHOOK_NAME)
            && !out
                .iter()
                .any(|m| m.contains(f.message) || f.message.contains(m))
        {
            out.push(f.message);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::parse::parse_str;

    #[test]
    fn only_the_webhook_s_failures_of_this_workload_count() {
        let event = |object: &str, message: &str| {
            format!(
                "---\napiVersion: v1\nkind: Event\nmetadata: {{name: e-{object}, namespace: apps}}\ninvolvedObject: {{kind: ReplicaSet, name: {object}, namespace: apps}}\nreason: FailedCreate\nmessage: {message:?}\n"
            )
        };
        let webhook = "Error creating: Internal error occurred: failed calling webhook \"mutation.azure-workload-identity.io\": no endpoints";
        let text = [
            event("api-6b8f7c9d5", webhook),
            event("api-gateway-5d4c3b2a1", webhook),
            event(
                "api-7c9d5f4b8",
                "Error creating: pods \"api-x\" is forbidden: exceeded quota: compute",
            ),
        ]
        .concat();
        let world = parse_str("w.yaml", &text).unwrap();
        let ix = Index::new(&world);
        assert_eq!(failed_creates(&ix, "apps", "api"), vec![webhook]);
        assert_eq!(failed_creates(&ix, "apps", "api-gateway"), vec![webhook]);
        assert!(failed_creates(&ix, "other", "api").is_empty());
    }

    /// Events expire after an hour; the ReplicaSet's ReplicaFailure condition stays, and the
    /// same failure seen both ways is one message.
    #[test]
    fn a_replica_failure_condition_counts_once() {
        let denied = "admission webhook \"mutation.azure-workload-identity.io\" denied the request: strconv.ParseInt: parsing \" 3600\": invalid syntax";
        let rs = format!(
            "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: api-6b8f7c9d5, namespace: apps}}\nspec: {{selector: {{}}}}\nstatus:\n  replicas: 0\n  conditions:\n  - {{type: ReplicaFailure, status: \"True\", reason: FailedCreate, message: {denied:?}}}\n"
        );
        let world = parse_str("w.yaml", &rs).unwrap();
        let ix = Index::new(&world);
        assert_eq!(failed_creates(&ix, "apps", "api"), vec![denied]);
        let event = format!(
            "---\napiVersion: v1\nkind: Event\nmetadata: {{name: e, namespace: apps}}\ninvolvedObject: {{kind: ReplicaSet, name: api-6b8f7c9d5, namespace: apps}}\nreason: FailedCreate\nmessage: {:?}\n",
            format!("Error creating: {denied}")
        );
        let world = parse_str("w.yaml", &(rs + &event)).unwrap();
        let ix = Index::new(&world);
        assert_eq!(
            failed_creates(&ix, "apps", "api"),
            vec![format!("Error creating: {denied}").as_str()]
        );
    }
}
