//! Kubernetes documents: typed with k8s-openapi so a wrong field is named exactly.

use serde_json::Value;

use super::{Cx, LoadError, describe};
use crate::world::World;

pub(super) fn add(
    cx: &Cx<'_>,
    world: &mut World,
    kind: &str,
    item: Value,
) -> Result<(), LoadError> {
    let what = format!("{kind} {}", describe(&item));
    let k = &mut world.kube;
    match kind {
        "Namespace" => k.namespaces.push(cx.typed(&what, &item)?),
        "ServiceAccount" => k.service_accounts.push(cx.typed(&what, &item)?),
        "Pod" => k.pods.push(cx.typed(&what, &item)?),
        "Deployment" => k.deployments.push(cx.typed(&what, &item)?),
        "ReplicaSet" => k.replica_sets.push(cx.typed(&what, &item)?),
        "StatefulSet" => k.stateful_sets.push(cx.typed(&what, &item)?),
        "DaemonSet" => k.daemon_sets.push(cx.typed(&what, &item)?),
        "Job" => k.jobs.push(cx.typed(&what, &item)?),
        "CronJob" => k.cron_jobs.push(cx.typed(&what, &item)?),
        "MutatingWebhookConfiguration" => k.mutating_webhooks.push(cx.typed(&what, &item)?),
        "ConfigMap" => k.config_maps.push(cx.typed(&what, &item)?),
        "Service" => k.services.push(cx.typed(&what, &item)?),
        "Node" => k.nodes.push(cx.typed(&what, &item)?),
        "Event" => k.events.push(cx.typed(&what, &item)?),
        "ClusterRole" => k.cluster_roles.push(cx.typed(&what, &item)?),
        "ClusterRoleBinding" => k.cluster_role_bindings.push(cx.typed(&what, &item)?),
        // Secrets are never loaded: widiag must not hold their data.
        _ => cx.ignore(world, kind, &describe(&item)),
    }
    Ok(())
}
