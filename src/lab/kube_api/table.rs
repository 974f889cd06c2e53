//! `Table` output for kubectl (`Accept: …;as=Table;g=meta.k8s.io;v=v1`). Columns follow
//! kubernetes pkg/printers; there is no Namespace column (kubectl adds it for `-A`).

use serde_json::{Value, json};

use super::resources::Resource;

fn col(name: &str, ty: &str, format: &str, priority: u8) -> Value {
    json!({"name": name, "type": ty, "format": format, "description": name, "priority": priority})
}

pub fn wants_table(accept: &str) -> bool {
    accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=Table"))
}

fn age(obj: &Value, now: jiff::Timestamp) -> String {
    let Some(created) = obj
        .pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str)
    else {
        return "<unknown>".into();
    };
    let Ok(t) = created.parse::<jiff::Timestamp>() else {
        return "<invalid>".into();
    };
    let secs = (now.as_second() - t.as_second()).max(0);
    match secs {
        s if s >= 2 * 86400 => format!("{}d", s / 86400),
        s if s >= 3 * 3600 => format!("{}h", s / 3600),
        s if s >= 120 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn pod_cells(p: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let containers = p
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let statuses = p
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array);
    let ready = statuses.map_or(0, |s| s.iter().filter(|c| c["ready"] == true).count());
    let restarts: i64 = statuses.map_or(0, |s| {
        s.iter().filter_map(|c| c["restartCount"].as_i64()).sum()
    });
    let phase = p
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("Pending");
    let ip = p
        .pointer("/status/podIP")
        .and_then(Value::as_str)
        .unwrap_or("<none>");
    let node = p
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .unwrap_or("<none>");
    vec![
        json!(super::resources::name_of(p)),
        json!(format!("{ready}/{containers}")),
        json!(phase),
        json!(restarts.to_string()),
        json!(age(p, now)),
        json!(ip),
        json!(node),
        json!("<none>"),
        json!("<none>"),
    ]
}

/// A column: name, type, priority (1 shows with `-o wide`).
type Column = (&'static str, &'static str, u8);

const AGE: Column = ("Age", "string", 0);
const TEMPLATE: [Column; 3] = [
    ("Containers", "string", 1),
    ("Images", "string", 1),
    ("Selector", "string", 1),
];

/// The columns kube-apiserver prints per resource (kubernetes pkg/printers/internalversion/
/// printers.go, `AddHandlers`).
const COLUMNS: &[(&str, &[Column])] = &[
    (
        "pods",
        &[
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Status", "string", 0),
            ("Restarts", "string", 0),
            AGE,
            ("IP", "string", 1),
            ("Node", "string", 1),
            ("Nominated Node", "string", 1),
            ("Readiness Gates", "string", 1),
        ],
    ),
    (
        "serviceaccounts",
        &[("Name", "string", 0), ("Secrets", "integer", 0), AGE],
    ),
    (
        "nodes",
        &[
            ("Name", "string", 0),
            ("Status", "string", 0),
            ("Roles", "string", 0),
            AGE,
            ("Version", "string", 0),
            ("Internal-IP", "string", 1),
            ("External-IP", "string", 1),
            ("OS-Image", "string", 1),
            ("Kernel-Version", "string", 1),
            ("Container-Runtime", "string", 1),
        ],
    ),
    (
        "deployments",
        &[
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Up-to-date", "string", 0),
            ("Available", "string", 0),
            AGE,
            TEMPLATE[0],
            TEMPLATE[1],
            TEMPLATE[2],
        ],
    ),
    (
        "replicasets",
        &[
            ("Name", "string", 0),
            ("Desired", "integer", 0),
            ("Current", "integer", 0),
            ("Ready", "integer", 0),
            AGE,
            TEMPLATE[0],
            TEMPLATE[1],
            TEMPLATE[2],
        ],
    ),
    (
        "statefulsets",
        &[
            ("Name", "string", 0),
            ("Ready", "string", 0),
            AGE,
            TEMPLATE[0],
            TEMPLATE[1],
        ],
    ),
    (
        "daemonsets",
        &[
            ("Name", "string", 0),
            ("Desired", "integer", 0),
            ("Current", "integer", 0),
            ("Ready", "integer", 0),
            ("Up-to-date", "integer", 0),
            ("Available", "integer", 0),
            ("Node Selector", "string", 0),
            AGE,
            TEMPLATE[0],
            TEMPLATE[1],
            TEMPLATE[2],
        ],
    ),
    (
        "jobs",
        &[
            ("Name", "string", 0),
            ("Status", "string", 0),
            ("Completions", "string", 0),
            ("Duration", "string", 0),
            AGE,
            TEMPLATE[0],
            TEMPLATE[1],
            TEMPLATE[2],
        ],
    ),
    (
        "cronjobs",
        &[
            ("Name", "string", 0),
            ("Schedule", "string", 0),
            ("Timezone", "string", 0),
            ("Suspend", "boolean", 0),
            ("Active", "integer", 0),
            ("Last Schedule", "string", 0),
            AGE,
            TEMPLATE[0],
            TEMPLATE[1],
            TEMPLATE[2],
        ],
    ),
    (
        "namespaces",
        &[("Name", "string", 0), ("Status", "string", 0), AGE],
    ),
    (
        "configmaps",
        &[("Name", "string", 0), ("Data", "integer", 0), AGE],
    ),
    (
        "services",
        &[
            ("Name", "string", 0),
            ("Type", "string", 0),
            ("Cluster-IP", "string", 0),
            ("External-IP", "string", 0),
            ("Port(s)", "string", 0),
            AGE,
            ("Selector", "string", 1),
        ],
    ),
    (
        "mutatingwebhookconfigurations",
        &[("Name", "string", 0), ("Webhooks", "integer", 0), AGE],
    ),
    (
        "clusterroles",
        &[("Name", "string", 0), ("Created At", "date", 0)],
    ),
    (
        "clusterrolebindings",
        &[
            ("Name", "string", 0),
            ("Role", "string", 0),
            AGE,
            ("Users", "string", 1),
            ("Groups", "string", 1),
            ("ServiceAccounts", "string", 1),
        ],
    ),
    // Events lead with when; the name is a wide column at the end.
    (
        "events",
        &[
            ("Last Seen", "string", 0),
            ("Type", "string", 0),
            ("Reason", "string", 0),
            ("Object", "string", 0),
            ("Subobject", "string", 1),
            ("Source", "string", 1),
            ("Message", "string", 0),
            ("First Seen", "string", 1),
            ("Count", "string", 1),
            ("Name", "string", 1),
        ],
    ),
];

fn columns(plural: &str) -> Vec<Value> {
    let default: &[Column] = &[("Name", "string", 0), AGE];
    COLUMNS
        .iter()
        .find(|(p, _)| *p == plural)
        .map_or(default, |(_, c)| c)
        .iter()
        .map(|(name, ty, priority)| {
            let format = if *name == "Name" { "name" } else { "" };
            col(name, ty, format, *priority)
        })
        .collect()
}

/// The cells of one row, in [`columns`]' order.
fn cells(plural: &str, o: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let name = json!(super::resources::name_of(o));
    let age = json!(age(o, now));
    let text =
        |p: &str, default: &str| json!(o.pointer(p).and_then(Value::as_str).unwrap_or(default));
    match plural {
        "pods" => pod_cells(o, now),
        "serviceaccounts" => vec![
            name,
            json!(o["secrets"].as_array().map_or(0, Vec::len)),
            age,
        ],
        "nodes" => node_cells(o, name, age),
        "deployments" | "replicasets" | "statefulsets" | "daemonsets" | "cronjobs" => {
            workload_cells(plural, o, name, age)
        }
        "jobs" => job_cells(o, name, age),
        "namespaces" => vec![name, text("/status/phase", "Active"), age],
        "configmaps" => {
            let count = |k: &str| o[k].as_object().map_or(0, serde_json::Map::len);
            vec![name, json!(count("data") + count("binaryData")), age]
        }
        "services" => service_cells(o, name, age),
        "mutatingwebhookconfigurations" => {
            vec![
                name,
                json!(o["webhooks"].as_array().map_or(0, Vec::len)),
                age,
            ]
        }
        "clusterroles" => vec![name, text("/metadata/creationTimestamp", "<unknown>")],
        "clusterrolebindings" => binding_cells(o, name, age),
        "events" => event_cells(o, name, now),
        _ => vec![name, age],
    }
}

/// The cells of the workload kinds: replica counts, then the pod template's columns.
fn workload_cells(plural: &str, o: &Value, name: Value, age: Value) -> Vec<Value> {
    let int = |p: &str| o.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    let text =
        |p: &str, default: &str| json!(o.pointer(p).and_then(Value::as_str).unwrap_or(default));
    match plural {
        "deployments" => {
            let ready = format!("{}/{}", int("/status/readyReplicas"), int("/spec/replicas"));
            let mut v = vec![name, json!(ready), json!(int("/status/updatedReplicas"))];
            v.extend([json!(int("/status/availableReplicas")), age]);
            v.extend(template_cells(o));
            v
        }
        "replicasets" => {
            let mut v = vec![
                name,
                json!(int("/spec/replicas")),
                json!(int("/status/replicas")),
            ];
            v.extend([json!(int("/status/readyReplicas")), age]);
            v.extend(template_cells(o));
            v
        }
        "statefulsets" => {
            let ready = format!("{}/{}", int("/status/readyReplicas"), int("/spec/replicas"));
            let mut v = vec![name, json!(ready), age];
            v.extend(template_cells(o).into_iter().take(2));
            v
        }
        "daemonsets" => {
            let mut v = vec![name, json!(int("/status/desiredNumberScheduled"))];
            v.extend([
                json!(int("/status/currentNumberScheduled")),
                json!(int("/status/numberReady")),
            ]);
            v.extend([
                json!(int("/status/updatedNumberScheduled")),
                json!(int("/status/numberAvailable")),
            ]);
            v.extend([
                json!(map_text(o.pointer("/spec/template/spec/nodeSelector"))),
                age,
            ]);
            v.extend(template_cells(o));
            v
        }
        "cronjobs" => {
            let mut v = vec![
                name,
                text("/spec/schedule", ""),
                text("/spec/timeZone", "<none>"),
            ];
            v.push(json!(
                o.pointer("/spec/suspend")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
            ));
            v.push(json!(
                o.pointer("/status/active")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len)
            ));
            v.extend([text("/status/lastScheduleTime", "<none>"), age]);
            v.extend(template_cells(
                &json!({"spec": o.pointer("/spec/jobTemplate/spec")}),
            ));
            v
        }
        _ => vec![name, age],
    }
}

/// `k=v,k2=v2`, or `<none>`.
fn map_text(map: Option<&Value>) -> String {
    let pairs: Vec<String> = map
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    if pairs.is_empty() {
        "<none>".into()
    } else {
        pairs.join(",")
    }
}

/// Containers, Images and Selector of a workload's pod template.
fn template_cells(o: &Value) -> Vec<Value> {
    let containers = o
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let field = |k: &str| {
        containers
            .iter()
            .map(|c| c[k].as_str().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    vec![
        json!(field("name")),
        json!(field("image")),
        json!(map_text(o.pointer("/spec/selector/matchLabels"))),
    ]
}

fn node_cells(o: &Value, name: Value, age: Value) -> Vec<Value> {
    let conditions = o.pointer("/status/conditions").and_then(Value::as_array);
    let ready = conditions
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
        .map(|c| {
            if c["status"] == "True" {
                "Ready"
            } else {
                "NotReady"
            }
        })
        .unwrap_or("Unknown");
    let mut status = ready.to_string();
    if o.pointer("/spec/unschedulable") == Some(&json!(true)) {
        status.push_str(",SchedulingDisabled");
    }
    let roles: Vec<&str> = o
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|l| {
            l.keys()
                .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
                .collect()
        })
        .unwrap_or_default();
    let info = |k: &str| {
        json!(
            o.pointer(&format!("/status/nodeInfo/{k}"))
                .and_then(Value::as_str)
                .unwrap_or("<unknown>")
        )
    };
    let address = |ty: &str| {
        json!(
            o.pointer("/status/addresses")
                .and_then(Value::as_array)
                .and_then(|a| a.iter().find(|x| x["type"] == ty))
                .and_then(|x| x["address"].as_str())
                .unwrap_or("<none>")
        )
    };
    let roles = if roles.is_empty() {
        "<none>".to_string()
    } else {
        roles.join(",")
    };
    vec![
        name,
        json!(status),
        json!(roles),
        age,
        info("kubeletVersion"),
        address("InternalIP"),
        address("ExternalIP"),
        info("osImage"),
        info("kernelVersion"),
        info("containerRuntimeVersion"),
    ]
}

fn job_cells(o: &Value, name: Value, age: Value) -> Vec<Value> {
    let conditions = o.pointer("/status/conditions").and_then(Value::as_array);
    let holds = |ty: &str| {
        conditions.is_some_and(|cs| cs.iter().any(|c| c["type"] == ty && c["status"] == "True"))
    };
    let status = match () {
        () if holds("Complete") => "Complete",
        () if holds("Failed") => "Failed",
        () if holds("Suspended") => "Suspended",
        () => "Running",
    };
    let succeeded = o
        .pointer("/status/succeeded")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let completions = o
        .pointer("/spec/completions")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let time = |p: &str| {
        o.pointer(p)
            .and_then(Value::as_str)
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
    };
    let duration = match (time("/status/startTime"), time("/status/completionTime")) {
        (Some(a), Some(b)) => format!("{}s", (b.as_second() - a.as_second()).max(0)),
        _ => String::new(),
    };
    let mut v = vec![
        name,
        json!(status),
        json!(format!("{succeeded}/{completions}")),
    ];
    v.extend([json!(duration), age]);
    v.extend(template_cells(o));
    v
}

fn binding_cells(o: &Value, name: Value, age: Value) -> Vec<Value> {
    let subjects = |kind: &str| {
        let names: Vec<String> = o["subjects"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["kind"] == kind)
            .map(|s| match s["namespace"].as_str() {
                Some(ns) if kind == "ServiceAccount" => {
                    format!("{ns}/{}", s["name"].as_str().unwrap_or_default())
                }
                _ => s["name"].as_str().unwrap_or_default().to_string(),
            })
            .collect();
        json!(names.join(", "))
    };
    let role = format!(
        "{}/{}",
        o.pointer("/roleRef/kind")
            .and_then(Value::as_str)
            .unwrap_or_default(),
        o.pointer("/roleRef/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
    );
    vec![
        name,
        json!(role),
        age,
        subjects("User"),
        subjects("Group"),
        subjects("ServiceAccount"),
    ]
}

fn event_cells(o: &Value, name: Value, now: jiff::Timestamp) -> Vec<Value> {
    let text = |p: &str| {
        o.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let since = |p: &str| {
        let at = o.pointer(p).cloned().unwrap_or(Value::Null);
        age(&json!({"metadata": {"creationTimestamp": at}}), now)
    };
    let object = format!(
        "{}/{}",
        text("/involvedObject/kind").to_ascii_lowercase(),
        text("/involvedObject/name")
    );
    vec![
        json!(since("/lastTimestamp")),
        json!(text("/type")),
        json!(text("/reason")),
        json!(object),
        json!(text("/involvedObject/fieldPath")),
        json!(text("/source/component")),
        json!(text("/message")),
        json!(since("/firstTimestamp")),
        json!(o["count"].as_i64().unwrap_or(1)),
        name,
    ]
}

fn service_cells(o: &Value, name: Value, age: Value) -> Vec<Value> {
    let ports: Vec<String> = o
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| format!("{}/{}", p["port"], p["protocol"].as_str().unwrap_or("TCP")))
                .collect()
        })
        .unwrap_or_default();
    let ports = if ports.is_empty() {
        "<none>".to_string()
    } else {
        ports.join(",")
    };
    vec![
        name,
        json!(
            o.pointer("/spec/type")
                .and_then(Value::as_str)
                .unwrap_or("ClusterIP")
        ),
        json!(
            o.pointer("/spec/clusterIP")
                .and_then(Value::as_str)
                .unwrap_or("<none>")
        ),
        json!("<none>"),
        json!(ports),
        age,
        json!(map_text(o.pointer("/spec/selector"))),
    ]
}

pub fn table(
    resource: &Resource,
    items: &[&Value],
    resource_version: &str,
    now: jiff::Timestamp,
) -> Value {
    let rows: Vec<Value> = items
        .iter()
        .map(|o| {
            json!({
                "cells": cells(resource.plural, o, now),
                "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"].clone()}
            })
        })
        .collect();
    json!({
        "kind": "Table", "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": columns(resource.plural), "rows": rows
    })
}
