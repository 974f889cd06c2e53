//! Discovery in the legacy format, which kubectl accepts whatever it asks for (client-go decides
//! by the response Content-Type), and `/version`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::resources::{RESOURCES, Resource};

pub fn version() -> Value {
    json!({
        "major": "1", "minor": "32", "gitVersion": "v1.32.4",
        "gitCommit": "59526cd4867447956156ae3a602fcbac10b2c78d", "gitTreeState": "clean",
        "buildDate": "2025-04-22T16:00:00Z", "goVersion": "go1.23.8", "compiler": "gc", "platform": "linux/amd64"
    })
}

pub fn api_versions() -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})
}

pub fn api_groups() -> Value {
    let mut groups: BTreeMap<&str, &str> = BTreeMap::new();
    for r in RESOURCES.iter().filter(|r| !r.group.is_empty()) {
        groups.insert(r.group, r.version);
    }
    groups.insert("authentication.k8s.io", "v1");
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(g, v)| {
            let gv = json!({"groupVersion": format!("{g}/{v}"), "version": v});
            json!({"name": g, "versions": [gv.clone()], "preferredVersion": gv})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn verbs() -> Value {
    json!(["get", "list"])
}

fn entry(r: &Resource) -> Value {
    json!({
        "name": r.plural, "singularName": r.singular, "namespaced": r.namespaced, "kind": r.kind,
        "verbs": verbs(), "shortNames": r.short,
    })
}

/// `APIResourceList` for one group/version, or `None` when the lab does not serve it.
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    let mut resources: Vec<Value> = RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .map(entry)
        .collect();
    if group.is_empty() && version == "v1" {
        resources.push(json!({
            "name": "serviceaccounts/token", "singularName": "", "namespaced": true,
            "group": "authentication.k8s.io", "version": "v1", "kind": "TokenRequest", "verbs": ["create"]
        }));
    }
    if resources.is_empty() && group != "authentication.k8s.io" {
        return None;
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}

/// The media type of aggregated discovery (apidiscovery.k8s.io/v2), which kubectl asks for first
/// and kube-rs `Discovery::run_aggregated` requires.
pub const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

pub fn wants_aggregated(accept: &str) -> bool {
    accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=APIGroupDiscoveryList") && first.contains("v=v2"))
}

fn aggregated_resource(r: &Resource) -> Value {
    let mut v = json!({
        "resource": r.plural,
        "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": r.singular,
        "verbs": verbs(),
        "shortNames": r.short,
    });
    if r.plural == "serviceaccounts" {
        v["subresources"] = json!([{
            "subresource": "token",
            "responseKind": {"group": "authentication.k8s.io", "version": "v1", "kind": "TokenRequest"},
            "verbs": ["create"]
        }]);
    }
    v
}

/// `APIGroupDiscoveryList` for `/api` (core) or `/apis` (named groups).
pub fn aggregated(core: bool) -> Value {
    let mut groups: BTreeMap<&str, Vec<&Resource>> = BTreeMap::new();
    for r in RESOURCES.iter().filter(|r| r.group.is_empty() == core) {
        groups.entry(r.group).or_default().push(r);
    }
    let items: Vec<Value> = groups
        .into_iter()
        .map(|(group, rs)| {
            let mut metadata = json!({"creationTimestamp": null});
            if !group.is_empty() {
                metadata["name"] = json!(group);
            }
            json!({
                "metadata": metadata,
                "versions": [{"version": rs[0].version, "freshness": "Current", "resources": rs.iter().map(|r| aggregated_resource(r)).collect::<Vec<_>>()}]
            })
        })
        .collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}
