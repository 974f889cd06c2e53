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

pub fn table(
    resource: &Resource,
    items: &[&Value],
    resource_version: &str,
    now: jiff::Timestamp,
) -> Value {
    let columns = match resource.plural {
        "pods" => vec![
            col("Name", "string", "name", 0),
            col("Ready", "string", "", 0),
            col("Status", "string", "", 0),
            col("Restarts", "string", "", 0),
            col("Age", "string", "", 0),
            col("IP", "string", "", 1),
            col("Node", "string", "", 1),
            col("Nominated Node", "string", "", 1),
            col("Readiness Gates", "string", "", 1),
        ],
        "serviceaccounts" => vec![
            col("Name", "string", "name", 0),
            col("Secrets", "integer", "", 0),
            col("Age", "string", "", 0),
        ],
        _ => vec![
            col("Name", "string", "name", 0),
            col("Age", "string", "", 0),
        ],
    };
    let rows: Vec<Value> = items
        .iter()
        .map(|o| {
            let cells = match resource.plural {
                "pods" => pod_cells(o, now),
                "serviceaccounts" => {
                    let secrets = o["secrets"].as_array().map_or(0, Vec::len);
                    vec![json!(super::resources::name_of(o)), json!(secrets), json!(age(o, now))]
                }
                _ => vec![json!(super::resources::name_of(o)), json!(age(o, now))],
            };
            json!({
                "cells": cells,
                "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"].clone()}
            })
        })
        .collect();
    json!({
        "kind": "Table", "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": columns, "rows": rows
    })
}
