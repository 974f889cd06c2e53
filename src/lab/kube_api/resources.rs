//! The resources the lab serves and the objects of each, as the API server serialises them.

use serde_json::Value;

use crate::world::World;

pub struct Resource {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short: &'static [&'static str],
}

impl Resource {
    pub fn group_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

const fn r(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
) -> Resource {
    Resource {
        group,
        version,
        plural,
        singular,
        kind,
        namespaced,
        short,
    }
}

pub static RESOURCES: &[Resource] = &[
    r("", "v1", "pods", "pod", "Pod", true, &["po"]),
    r(
        "",
        "v1",
        "serviceaccounts",
        "serviceaccount",
        "ServiceAccount",
        true,
        &["sa"],
    ),
    r(
        "",
        "v1",
        "namespaces",
        "namespace",
        "Namespace",
        false,
        &["ns"],
    ),
    r(
        "",
        "v1",
        "configmaps",
        "configmap",
        "ConfigMap",
        true,
        &["cm"],
    ),
    r("", "v1", "services", "service", "Service", true, &["svc"]),
    r("", "v1", "nodes", "node", "Node", false, &["no"]),
    r("", "v1", "events", "event", "Event", true, &["ev"]),
    r(
        "apps",
        "v1",
        "deployments",
        "deployment",
        "Deployment",
        true,
        &["deploy"],
    ),
    r(
        "apps",
        "v1",
        "replicasets",
        "replicaset",
        "ReplicaSet",
        true,
        &["rs"],
    ),
    r(
        "apps",
        "v1",
        "statefulsets",
        "statefulset",
        "StatefulSet",
        true,
        &["sts"],
    ),
    r(
        "apps",
        "v1",
        "daemonsets",
        "daemonset",
        "DaemonSet",
        true,
        &["ds"],
    ),
    r("batch", "v1", "jobs", "job", "Job", true, &[]),
    r(
        "batch",
        "v1",
        "cronjobs",
        "cronjob",
        "CronJob",
        true,
        &["cj"],
    ),
    r(
        "admissionregistration.k8s.io",
        "v1",
        "mutatingwebhookconfigurations",
        "mutatingwebhookconfiguration",
        "MutatingWebhookConfiguration",
        false,
        &[],
    ),
    r(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterroles",
        "clusterrole",
        "ClusterRole",
        false,
        &[],
    ),
    r(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        "clusterrolebinding",
        "ClusterRoleBinding",
        false,
        &[],
    ),
];

pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static Resource> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// Objects per resource, in the order of [`RESOURCES`], each with a resourceVersion.
pub fn objects(world: &World) -> Vec<Vec<Value>> {
    let k = &world.kube;
    fn all<T: serde::Serialize>(items: &[T]) -> Vec<Value> {
        items
            .iter()
            .filter_map(|i| serde_json::to_value(i).ok())
            .collect()
    }
    let mut out = vec![
        all(&k.pods),
        all(&k.service_accounts),
        all(&k.namespaces),
        all(&k.config_maps),
        all(&k.services),
        all(&k.nodes),
        all(&k.events),
        all(&k.deployments),
        all(&k.replica_sets),
        all(&k.stateful_sets),
        all(&k.daemon_sets),
        all(&k.jobs),
        all(&k.cron_jobs),
        all(&k.mutating_webhooks),
        all(&k.cluster_roles),
        all(&k.cluster_role_bindings),
    ];
    let mut rv = 100u64;
    for list in &mut out {
        for obj in list.iter_mut() {
            rv += 1;
            let meta = obj.as_object_mut().and_then(|o| {
                o.entry("metadata")
                    .or_insert_with(|| Value::Object(Default::default()))
                    .as_object_mut()
            });
            if let Some(meta) = meta {
                meta.entry("resourceVersion")
                    .or_insert_with(|| Value::String(rv.to_string()));
                meta.entry("uid")
                    .or_insert_with(|| Value::String(format!("00000000-0000-4000-8000-{rv:012}")));
            }
        }
    }
    out
}

pub fn name_of(obj: &Value) -> &str {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

pub fn namespace_of(obj: &Value) -> &str {
    obj.pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default()
}
