//! The controllers and kubelet a fix relies on, reduced to what changes which pods exist: a
//! Deployment whose pod template changes (a patch, `kubectl rollout restart`) rolls out a new
//! ReplicaSet and its pods; a StatefulSet or DaemonSet whose template changes replaces its pods;
//! a new Job gets its pod; a pod deleted under a ReplicaSet, StatefulSet or DaemonSet is made
//! again. Each new pod goes through admission (the ServiceAccount plugin, then the mutating
//! webhooks) as a controller's create does; a refused create is an `Event` (FailedCreate) on
//! the owner, with the API server's words, as kube-controller-manager records it. New pods are
//! scheduled on the world's first node and run at once: the lab runs no containers.

use rand::Rng;
use serde_json::{Value, json};

use super::admission::{self, Refusal};
use super::{index_of_kind, kube_now, name_of, namespace_of};
use crate::lab::server::State;

/// What a committed write did to an object of `kind`: `before` and `after` (None for a
/// create's before and a delete's after).
pub fn after_write(state: &State, kind: &str, before: Option<&Value>, after: Option<&Value>) {
    let template_changed = |path: &str| {
        after.is_some() && before.map(|b| b.pointer(path)) != after.map(|a| a.pointer(path))
    };
    match (kind, after) {
        ("Deployment", Some(d)) if template_changed("/spec/template") => roll_out(state, d),
        ("StatefulSet" | "DaemonSet", Some(o)) if template_changed("/spec/template") => {
            replace_pods(state, o);
        }
        ("Job", Some(j)) if before.is_none() => {
            make_pods(state, j, 1);
        }
        ("Pod", None) => {
            if let Some(pod) = before {
                remake_owned(state, pod);
            }
        }
        _ => {}
    }
}

/// kube-controller-manager's pod-template-hash: FNV-1a over the template, in the "safe"
/// alphabet (k8s.io/kubernetes pkg/controller ComputeHash, apimachinery rand.SafeEncodeString).
/// The lab hashes the template's JSON, not Go's object dump, so the value is not kube's.
fn template_hash(template: &Value) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in template.to_string().bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    safe_encode(&h.to_string())
}

const SAFE: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn safe_encode(s: &str) -> String {
    s.bytes()
        .map(|b| SAFE[usize::from(b) % SAFE.len()] as char)
        .collect()
}

/// The five random characters the API server appends to a generateName.
fn suffix() -> String {
    let mut rng = rand::thread_rng();
    (0..5)
        .map(|_| SAFE[rng.gen_range(0..SAFE.len())] as char)
        .collect()
}

fn owner_ref(owner: &Value) -> Value {
    json!([{
        "apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true}])
}

/// Stores, or with `delete` removes, an object in the list of its kind.
fn write(state: &State, object: Value, delete: bool) {
    let (Some(v), Some(k)) = (object["apiVersion"].as_str(), object["kind"].as_str()) else {
        return;
    };
    if let Some(i) = index_of_kind(v, k) {
        state.apply(i, object, delete);
    }
}

fn store(state: &State, object: Value) {
    write(state, object, false);
}

fn remove(state: &State, object: &Value) {
    write(state, object.clone(), true);
}

/// The owner's pods: those its selector takes (controllers adopt by selector) and those that
/// name it, or, for a Deployment, one of its ReplicaSets, as their controller.
fn selected_pods(state: &State, owner: &Value) -> Vec<Value> {
    let selector = &owner["spec"]["selector"];
    let name = name_of(owner);
    let replica_sets: Vec<Value> = state
        .objects_of_kind("apps/v1", "ReplicaSet")
        .into_iter()
        .filter(|rs| namespace_of(rs) == namespace_of(owner) && owned_by(rs, owner))
        .collect();
    let via_rs = |p: &Value| {
        p["metadata"]["ownerReferences"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["kind"] == "ReplicaSet" && owner["kind"] == "Deployment")
            .filter_map(|r| r["name"].as_str())
            .any(|rs| {
                replica_sets.iter().any(|x| name_of(x) == rs)
                    || rs.strip_prefix(name).is_some_and(|h| h.starts_with('-'))
            })
    };
    state
        .objects_of_kind("v1", "Pod")
        .into_iter()
        .filter(|p| namespace_of(p) == namespace_of(owner))
        .filter(|p| {
            owned_by(p, owner)
                || via_rs(p)
                || (selector.is_object()
                    && super::selectors::selects(selector, &p["metadata"]["labels"]))
        })
        .collect()
}

fn owned_by(object: &Value, owner: &Value) -> bool {
    object["metadata"]["ownerReferences"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|r| r["kind"] == owner["kind"] && r["name"] == owner["metadata"]["name"])
}

/// A Deployment's new pod template: a ReplicaSet named by its hash with the deployment's
/// replicas (at most three in the lab), the old ReplicaSets' pods gone.
fn roll_out(state: &State, deploy: &Value) {
    let ns = namespace_of(deploy);
    let hash = template_hash(&deploy["spec"]["template"]);
    let old = selected_pods(state, deploy);
    for rs in state.objects_of_kind("apps/v1", "ReplicaSet") {
        if namespace_of(&rs) == ns && owned_by(&rs, deploy) {
            remove(state, &rs);
        }
    }
    for pod in &old {
        remove(state, pod);
    }
    let mut template = deploy["spec"]["template"].clone();
    template["metadata"]["labels"]["pod-template-hash"] = json!(hash);
    let replicas = deploy["spec"]["replicas"].as_i64().unwrap_or(1).clamp(0, 3);
    let mut rs = json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": format!("{}-{hash}", name_of(deploy)), "namespace": ns,
            "uid": crate::lab::entra::uuid_v4(), "labels": template["metadata"]["labels"],
            "ownerReferences": owner_ref(deploy), "creationTimestamp": kube_now()},
        "spec": {"replicas": replicas, "selector": deploy["spec"]["selector"], "template": template},
    });
    let made = make_pods(state, &rs, replicas);
    rs["status"] = json!({"replicas": made, "readyReplicas": made, "availableReplicas": made});
    store(state, rs);
}

/// A StatefulSet's or DaemonSet's pods, replaced by ones from its new template.
fn replace_pods(state: &State, owner: &Value) {
    let old = selected_pods(state, owner);
    for pod in &old {
        remove(state, pod);
    }
    let count = if owner["kind"] == "DaemonSet" {
        state.objects_of_kind("v1", "Node").len().max(1) as i64
    } else {
        owner["spec"]["replicas"].as_i64().unwrap_or(1).clamp(0, 3)
    };
    make_pods(state, owner, count);
}

/// A pod deleted under a ReplicaSet, StatefulSet or DaemonSet that still exists is made again.
fn remake_owned(state: &State, pod: &Value) {
    let Some(r) = pod["metadata"]["ownerReferences"]
        .as_array()
        .and_then(|refs| refs.iter().find(|r| r["controller"] == true))
    else {
        return;
    };
    let (kind, name) = (r["kind"].as_str().unwrap_or_default(), &r["name"]);
    if !matches!(kind, "ReplicaSet" | "StatefulSet" | "DaemonSet") {
        return;
    }
    let owner = state
        .objects_of_kind("apps/v1", kind)
        .into_iter()
        .find(|o| namespace_of(o) == namespace_of(pod) && o["metadata"]["name"] == *name);
    if let Some(owner) = owner {
        make_pods(state, &owner, 1);
    }
}

/// `count` pods from the owner's template, each admitted as the API server admits a create;
/// the number made.
fn make_pods(state: &State, owner: &Value, count: i64) -> i64 {
    let mut made = 0;
    for ordinal in 0..count {
        match pod_from(state, owner, ordinal) {
            Ok(pod) => {
                store(state, pod);
                made += 1;
            }
            Err(message) => {
                failed_create(state, owner, &message);
                break;
            }
        }
    }
    made
}

fn pod_from(state: &State, owner: &Value, ordinal: i64) -> Result<Value, String> {
    let ns = namespace_of(owner).to_string();
    let template = &owner["spec"]["template"];
    let mut meta = template["metadata"].clone();
    if !meta.is_object() {
        meta = json!({});
    }
    let base = name_of(owner).to_string();
    match owner["kind"].as_str() {
        Some("StatefulSet") => meta["name"] = json!(format!("{base}-{ordinal}")),
        Some("Job") => {
            meta["generateName"] = json!(format!("{base}-"));
            meta["labels"]["job-name"] = json!(base);
            meta["labels"]["batch.kubernetes.io/job-name"] = json!(base);
        }
        _ => meta["generateName"] = json!(format!("{base}-")),
    }
    meta["namespace"] = json!(ns);
    meta["ownerReferences"] = owner_ref(owner);
    let pod =
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": template["spec"]});
    admit(state, &ns, pod).map_err(|refusal| refusal.message)
}

/// A pod through the API server's admission and on to a node: the ServiceAccount plugin (the
/// `default` account when none is named; a missing one refuses the pod), the mutating
/// webhooks, then a name for a generateName, and a running status.
pub fn admit(state: &State, ns: &str, mut pod: Value) -> Result<Value, Refusal> {
    let sa = pod["spec"]["serviceAccountName"]
        .as_str()
        .filter(|s| !s.is_empty())
        .unwrap_or("default")
        .to_string();
    pod["spec"]["serviceAccountName"] = json!(sa);
    let exists = state
        .objects_of_kind("v1", "ServiceAccount")
        .iter()
        .any(|s| name_of(s) == sa && namespace_of(s) == ns);
    let display = pod["metadata"]["name"]
        .as_str()
        .or(pod["metadata"]["generateName"].as_str())
        .unwrap_or_default()
        .to_string();
    if !exists {
        return Err(Refusal {
            code: axum::http::StatusCode::FORBIDDEN,
            reason: "Forbidden",
            message: format!(
                "pods \"{display}\" is forbidden: error looking up service account {ns}/{sa}: serviceaccount \"{sa}\" not found"
            ),
        });
    }
    let mut pod = admission::admit_pod(state, ns, pod)?;
    if pod["metadata"]["name"].as_str().is_none_or(str::is_empty) {
        let prefix = pod["metadata"]["generateName"]
            .as_str()
            .unwrap_or("pod-")
            .to_string();
        pod["metadata"]["name"] = json!(format!("{prefix}{}", suffix()));
    }
    run(state, &mut pod);
    Ok(pod)
}

/// The first node whose labels the pod's nodeSelector takes and whose NoSchedule and
/// NoExecute taints the pod tolerates (the scheduler's NodeAffinity and TaintToleration
/// filters, reduced to keys and values).
fn schedule(state: &State, pod: &Value) -> String {
    let tolerates = |taint: &Value| {
        taint["effect"] == "PreferNoSchedule"
            || pod["spec"]["tolerations"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|t| {
                    (t["operator"] == "Exists" && (t["key"].is_null() || t["key"] == taint["key"]))
                        || (t["key"] == taint["key"] && t["value"] == taint["value"])
                })
    };
    state
        .objects_of_kind("v1", "Node")
        .iter()
        .find(|n| {
            let selected = pod["spec"]["nodeSelector"]
                .as_object()
                .into_iter()
                .flatten()
                .all(|(k, v)| n["metadata"]["labels"][k] == *v);
            let taints_ok = n["spec"]["taints"]
                .as_array()
                .into_iter()
                .flatten()
                .all(tolerates);
            selected && taints_ok
        })
        .map(|n| name_of(n).to_string())
        .unwrap_or_else(|| "lab-node".into())
}

/// Scheduled and running, as the scheduler and kubelet would leave it.
fn run(state: &State, pod: &mut Value) {
    let node = schedule(state, pod);
    let meta = &mut pod["metadata"];
    meta["uid"] = json!(crate::lab::entra::uuid_v4());
    meta["creationTimestamp"] = json!(kube_now());
    if pod["spec"]["nodeName"].as_str().is_none_or(str::is_empty) {
        pod["spec"]["nodeName"] = json!(node);
    }
    let statuses: Vec<Value> = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| json!({"name": c["name"], "image": c["image"], "imageID": "", "ready": true, "started": true,
            "restartCount": 0, "state": {"running": {"startedAt": kube_now()}}}))
        .collect();
    let mut rng = rand::thread_rng();
    pod["status"] = json!({
        "phase": "Running", "startTime": kube_now(),
        "podIP": format!("10.244.{}.{}", rng.gen_range(0..255), rng.gen_range(2..255)),
        "conditions": [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "True"}],
        "containerStatuses": statuses,
    });
}

/// The FailedCreate event a ReplicaSet (or other) controller records when the API server
/// refuses its pod.
fn failed_create(state: &State, owner: &Value, message: &str) {
    let ns = namespace_of(owner);
    let event = json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("{}.{}", name_of(owner), suffix()), "namespace": ns,
            "uid": crate::lab::entra::uuid_v4(), "creationTimestamp": kube_now()},
        "involvedObject": {"apiVersion": owner["apiVersion"], "kind": owner["kind"],
            "name": owner["metadata"]["name"], "namespace": ns, "uid": owner["metadata"]["uid"]},
        "reason": "FailedCreate", "type": "Warning",
        "message": format!("Error creating: {message}"),
        "source": {"component": controller_of(owner)},
        "firstTimestamp": kube_now(), "lastTimestamp": kube_now(), "count": 1,
    });
    store(state, event);
}

/// The controller that records events about an owner of this kind.
fn controller_of(owner: &Value) -> &'static str {
    match owner["kind"].as_str() {
        Some("StatefulSet") => "statefulset-controller",
        Some("DaemonSet") => "daemonset-controller",
        Some("Job") => "job-controller",
        _ => "replicaset-controller",
    }
}
