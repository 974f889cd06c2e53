//! `/openapi/v3` and `/openapi/v2`, for `kubectl explain` and clients that validate against the
//! schema. The schemas are k8s-openapi's own (generated from Kubernetes' OpenAPI document for the
//! version the lab speaks), written by schemars as OpenAPI 3, with the
//! `x-kubernetes-group-version-kind` extension kube-apiserver adds to each kind.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Value, json};
use sha2::Digest;

use super::resources::{RESOURCES, Resource};

/// The path of a group-version under `/openapi/v3/`: `api/v1`, `apis/apps/v1`.
fn gv_path(r: &Resource) -> String {
    if r.group.is_empty() {
        format!("api/{}", r.version)
    } else {
        format!("apis/{}/{}", r.group, r.version)
    }
}

/// Registers the schema of `r`'s kind; its name in `components/schemas`.
fn register(generator: &mut SchemaGenerator, r: &Resource) -> Option<String> {
    use k8s_openapi::api::admissionregistration::v1::MutatingWebhookConfiguration;
    use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
    use k8s_openapi::api::batch::v1::{CronJob, Job};
    use k8s_openapi::api::core::v1::{
        ConfigMap, Event, Namespace, Node, Pod, Service, ServiceAccount,
    };
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
    fn add<T: JsonSchema>(g: &mut SchemaGenerator) -> Option<String> {
        g.subschema_for::<T>();
        Some(T::schema_name().into_owned())
    }
    let g = generator;
    match (r.group, r.kind) {
        ("", "Pod") => add::<Pod>(g),
        ("", "ServiceAccount") => add::<ServiceAccount>(g),
        ("", "Namespace") => add::<Namespace>(g),
        ("", "ConfigMap") => add::<ConfigMap>(g),
        ("", "Service") => add::<Service>(g),
        ("", "Node") => add::<Node>(g),
        ("", "Event") => add::<Event>(g),
        ("apps", "Deployment") => add::<Deployment>(g),
        ("apps", "ReplicaSet") => add::<ReplicaSet>(g),
        ("apps", "StatefulSet") => add::<StatefulSet>(g),
        ("apps", "DaemonSet") => add::<DaemonSet>(g),
        ("batch", "Job") => add::<Job>(g),
        ("batch", "CronJob") => add::<CronJob>(g),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration") => {
            add::<MutatingWebhookConfiguration>(g)
        }
        ("rbac.authorization.k8s.io", "ClusterRole") => add::<ClusterRole>(g),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => add::<ClusterRoleBinding>(g),
        _ => None,
    }
}

/// The OpenAPI v3 document of each group-version the lab serves, as JSON text, by path.
fn documents() -> &'static BTreeMap<String, String> {
    static DOCS: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    DOCS.get_or_init(|| {
        let mut paths: Vec<String> = RESOURCES.iter().map(gv_path).collect();
        paths.sort();
        paths.dedup();
        paths
            .into_iter()
            .map(|path| {
                let doc = document(RESOURCES.iter().filter(|r| gv_path(r) == path));
                (path, doc.to_string())
            })
            .collect()
    })
}

fn document<'r>(resources: impl Iterator<Item = &'r Resource>) -> Value {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let kinds: Vec<(String, &Resource)> = resources
        .filter_map(|r| Some((register(&mut generator, r)?, r)))
        .collect();
    let mut schemas = generator.take_definitions(true);
    let mut paths = serde_json::Map::new();
    for (name, r) in kinds {
        let gvk = json!({"group": r.group, "version": r.version, "kind": r.kind});
        if let Some(Value::Object(schema)) = schemas.get_mut(&name) {
            schema.insert("x-kubernetes-group-version-kind".into(), json!([gvk]));
        }
        // kubectl explain finds a resource's kind from the GET of its list path (across
        // namespaces for namespaced ones), as kube-apiserver documents each operation.
        let list_path = format!("/{}/{}", gv_path(r), r.plural);
        let get = json!({
            "operationId": format!("list{}", r.kind),
            "x-kubernetes-action": "list",
            "x-kubernetes-group-version-kind": gvk,
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema":
                {"$ref": format!("#/components/schemas/{name}")}}}}},
        });
        paths.insert(list_path, json!({"get": get}));
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": super::discovery::version()["gitVersion"]},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

fn hash(text: &str) -> String {
    let digest = sha2::Sha256::digest(text.as_bytes());
    digest[..16].iter().map(|b| format!("{b:02X}")).collect()
}

/// `GET /openapi/...`: the v3 index, a v3 group-version document, or the v2 document (protobuf
/// for kubectl's validation, which reads no other form; JSON otherwise).
pub fn route(rest: &[&str], accept: &str) -> Response {
    let typed =
        |ty: &'static str, body: &'static [u8]| ([("content-type", ty)], body).into_response();
    match rest {
        ["v3"] => super::json_response(axum::http::StatusCode::OK, &v3_index()),
        ["v3", path @ ..] => match v3_document(&path.join("/")) {
            Some(doc) => typed("application/json", doc.as_bytes()),
            None => not_found(),
        },
        ["v2"] if accept.contains("protobuf") => {
            typed(super::openapi_pb::MEDIA_TYPE, v2_protobuf())
        }
        ["v2"] => typed("application/json", v2_document().as_bytes()),
        _ => not_found(),
    }
}

fn not_found() -> Response {
    super::status::status(
        axum::http::StatusCode::NOT_FOUND,
        "NotFound",
        "the server could not find the requested resource".into(),
        None,
        None,
    )
}

/// `GET /openapi/v3`: where each group-version's document is, with the hash clients cache by.
pub fn v3_index() -> Value {
    let paths: serde_json::Map<String, Value> = documents()
        .iter()
        .map(|(path, doc)| {
            let url = format!("/openapi/v3/{path}?hash={}", hash(doc));
            (path.clone(), json!({"serverRelativeURL": url}))
        })
        .collect();
    json!({"paths": paths})
}

/// `GET /openapi/v3/{path}`: the group-version's document, or None for one the lab does not serve.
pub fn v3_document(path: &str) -> Option<&'static str> {
    documents().get(path).map(String::as_str)
}

/// `GET /openapi/v2`: the same schemas as one Swagger 2.0 document (`definitions`).
pub fn v2_document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut definitions = serde_json::Map::new();
        for doc in documents().values() {
            let text = doc.replace("#/components/schemas/", "#/definitions/");
            if let Ok(Value::Object(mut d)) = serde_json::from_str::<Value>(&text)
                && let Some(Value::Object(schemas)) = d
                    .get_mut("components")
                    .and_then(|c| c.get_mut("schemas"))
                    .map(Value::take)
            {
                definitions.extend(schemas);
            }
        }
        json!({
            "swagger": "2.0",
            "info": {"title": "Kubernetes", "version": super::discovery::version()["gitVersion"]},
            "paths": {},
            "definitions": definitions,
        })
        .to_string()
    })
}

/// `GET /openapi/v2` as protobuf, the form kubectl's client-side validation asks for.
pub fn v2_protobuf() -> &'static [u8] {
    static DOC: OnceLock<Vec<u8>> = OnceLock::new();
    DOC.get_or_init(|| {
        let doc: Value = serde_json::from_str(v2_document()).unwrap_or_default();
        super::openapi_pb::document(&doc)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_found_by_its_group_version_kind() {
        let doc: Value = serde_json::from_str(v3_document("apis/apps/v1").unwrap()).unwrap();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let deployment = &schemas["io.k8s.api.apps.v1.Deployment"];
        assert_eq!(
            deployment["x-kubernetes-group-version-kind"],
            json!([{"group": "apps", "version": "v1", "kind": "Deployment"}])
        );
        // References stay inside the document.
        let spec = deployment["properties"]["spec"].to_string();
        assert!(
            spec.contains("#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec"),
            "{spec}"
        );
        assert!(schemas.contains_key("io.k8s.api.apps.v1.DeploymentSpec"));
        assert!(
            v3_index()["paths"]["api/v1"]["serverRelativeURL"]
                .as_str()
                .unwrap()
                .starts_with("/openapi/v3/api/v1?hash=")
        );
    }
}
