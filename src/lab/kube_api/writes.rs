//! Writes to the lab's Kubernetes API, as kube-apiserver takes them (issue 22: a fix is checked
//! by making it). PATCH as JSON merge patch, JSON patch or strategic merge patch; POST create;
//! PUT replace; DELETE; each with `?dryRun=All`. Changes live in memory for the lab's lifetime,
//! with a new resourceVersion and a watch event each. What kube-apiserver refuses is refused
//! here too: a pod's spec beyond its containers' images, a Job's pod template, a create of a name
//! that exists, a replace at a stale resourceVersion. Server-side apply merges the applied
//! configuration without field managers.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::controllers;
use super::resources::{self, Resource};
use super::{index_of, json_response, status};
use crate::lab::server::State;

/// One write, parsed.
pub struct Write<'a> {
    pub resource: &'a Resource,
    pub namespace: Option<&'a str>,
    pub query: &'a str,
    pub body: &'a [u8],
}

impl Write<'_> {
    fn dry_run(&self) -> bool {
        form_urlencoded::parse(self.query.as_bytes()).any(|(k, v)| k == "dryRun" && v == "All")
    }

    /// Stores `object` (or, on a dry run, only answers with it), lets the controllers act on
    /// the change from `before`, and answers with what is stored.
    fn commit(
        &self,
        state: &State,
        before: Option<&Value>,
        object: Value,
        code: StatusCode,
    ) -> Response {
        if self.dry_run() {
            return json_response(code, &object);
        }
        let Some(index) = index_of(self.resource) else {
            return status::not_found(self.resource.plural, "");
        };
        let name = resources::name_of(&object).to_string();
        state.apply(index, object, false);
        let stored = state.find_object(self.resource, self.namespace, &name);
        controllers::after_write(state, self.resource.kind, before, stored.as_ref());
        match stored {
            Some(stored) => json_response(code, &stored),
            None => status::not_found(self.resource.plural, &name),
        }
    }
}

fn invalid(kind: &str, name: &str, message: String) -> Response {
    status::status(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Invalid",
        format!("{kind} \"{name}\" is invalid: {message}"),
        None,
        None,
    )
}

fn bad_request(message: String) -> Response {
    status::status(StatusCode::BAD_REQUEST, "BadRequest", message, None, None)
}

/// The object in a write's body: JSON, or the protobuf typed clients send (kubectl's `create
/// job`, `create serviceaccount`, ...), read by k8s.io/api's message definitions; the refusal
/// otherwise.
fn object_of(w: &Write<'_>) -> Result<Value, Box<Response>> {
    if w.body.starts_with(b"k8s\0") {
        let r = w.resource;
        let decoded = super::proto_json::message_of(r.group, r.version, r.kind)
            .and_then(|m| super::proto_json::object(w.body, &m));
        if let Some(mut object) = decoded {
            object["apiVersion"] = json!(r.group_version());
            object["kind"] = json!(r.kind);
            return Ok(object);
        }
    }
    serde_json::from_slice::<Value>(w.body).map_err(|_| {
        Box::new(if w.body.starts_with(b"k8s\0") {
            status::status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                format!(
                    "the lab reads no protobuf {} (it reads core, apps, batch and rbac kinds)",
                    w.resource.kind
                ),
                None,
                None,
            )
        } else {
            bad_request("the object is not JSON".into())
        })
    })
}

/// `PATCH .../{name}` with the patch type its content type names.
pub fn patch(state: &State, w: &Write<'_>, name: &str, content_type: &str) -> Response {
    let media = content_type.split(';').next().unwrap_or_default().trim();
    if media == "application/apply-patch+yaml" {
        return server_side_apply(state, w, name);
    }
    let Some(current) = state.find_object(w.resource, w.namespace, name) else {
        return status::not_found(w.resource.plural, name);
    };
    let Ok(patch) = serde_json::from_slice::<Value>(w.body) else {
        return bad_request("the patch is not JSON".into());
    };
    let mut next = current.clone();
    match media {
        "application/merge-patch+json" => json_patch::merge(&mut next, &patch),
        "application/strategic-merge-patch+json" => strategic_merge(&mut next, &patch, ""),
        "application/json-patch+json" => {
            let ops: json_patch::Patch = match serde_json::from_value(patch) {
                Ok(p) => p,
                Err(e) => return bad_request(format!("invalid JSON patch: {e}")),
            };
            if let Err(e) = json_patch::patch(&mut next, &ops) {
                return status::status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Invalid",
                    e.to_string(),
                    None,
                    None,
                );
            }
        }
        other => {
            return status::status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (not {other})"
                ),
                None,
                None,
            );
        }
    }
    if let Some(refused) = immutable(w.resource, &current, &next, name) {
        return refused;
    }
    w.commit(state, Some(&current), next, StatusCode::OK)
}

/// Server-side apply (`kubectl apply --server-side`, `PATCH` with application/apply-patch+yaml):
/// the applied configuration creates the object, or is merged into it as a strategic merge
/// patch merges (maps by key, lists of named items by name). The lab keeps no field managers,
/// so it never answers a field-ownership Conflict.
fn server_side_apply(state: &State, w: &Write<'_>, name: &str) -> Response {
    let applied = serde_json::from_slice::<Value>(w.body).ok().or_else(|| {
        std::str::from_utf8(w.body)
            .ok()
            .and_then(|t| serde_saphyr::from_str::<Value>(t).ok())
    });
    let Some(applied) = applied.filter(Value::is_object) else {
        return bad_request("the applied configuration is neither JSON nor YAML".into());
    };
    if resources::name_of(&applied) != name {
        return bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            resources::name_of(&applied)
        ));
    }
    let Some(current) = state.find_object(w.resource, w.namespace, name) else {
        let body = applied.to_string();
        let new = Write {
            resource: w.resource,
            namespace: w.namespace,
            query: w.query,
            body: body.as_bytes(),
        };
        return create(state, &new);
    };
    let mut next = current.clone();
    strategic_merge(&mut next, &applied, "");
    if let Some(refused) = immutable(w.resource, &current, &next, name) {
        return refused;
    }
    w.commit(state, Some(&current), next, StatusCode::OK)
}

/// `POST .../{plural}`: a new object, with the fields the API server sets.
pub fn create(state: &State, w: &Write<'_>) -> Response {
    let mut object = match object_of(w) {
        Ok(o) => o,
        Err(refused) => return *refused,
    };
    let name = resources::name_of(&object).to_string();
    if name.is_empty() {
        return invalid(
            w.resource.kind,
            "",
            "metadata.name: Required value: name is required".into(),
        );
    }
    if state.find_object(w.resource, w.namespace, &name).is_some() {
        return status::status(
            StatusCode::CONFLICT,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", w.resource.plural),
            Some(w.resource.plural),
            None,
        );
    }
    let meta = &mut object["metadata"];
    if let Some(ns) = w.namespace {
        meta["namespace"] = json!(ns);
    }
    meta["uid"] = json!(crate::lab::entra::uuid_v4());
    meta["generation"] = json!(1);
    meta["creationTimestamp"] = json!(super::kube_now());
    if let Some(m) = meta.as_object_mut() {
        m.remove("resourceVersion");
    }
    object["apiVersion"] = json!(w.resource.group_version());
    object["kind"] = json!(w.resource.kind);
    if w.resource.kind == "Pod" {
        let ns = w.namespace.unwrap_or("default");
        object = match controllers::admit(state, ns, object) {
            Ok(admitted) => admitted,
            Err(refusal) => return refusal.response(),
        };
    }
    w.commit(state, None, object, StatusCode::CREATED)
}

/// `PUT .../{name}`: the whole object, at the resourceVersion the client read.
pub fn replace(state: &State, w: &Write<'_>, name: &str) -> Response {
    let Some(current) = state.find_object(w.resource, w.namespace, name) else {
        return status::not_found(w.resource.plural, name);
    };
    let next = match object_of(w) {
        Ok(o) => o,
        Err(refused) => return *refused,
    };
    let sent = next
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str);
    let held = current
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str);
    if sent.is_some_and(|s| Some(s) != held) {
        return status::status(
            StatusCode::CONFLICT,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                w.resource.plural
            ),
            Some(w.resource.plural),
            None,
        );
    }
    if let Some(refused) = immutable(w.resource, &current, &next, name) {
        return refused;
    }
    w.commit(state, Some(&current), next, StatusCode::OK)
}

/// `DELETE .../{name}`: gone, with the Status kube-apiserver answers.
pub fn delete(state: &State, w: &Write<'_>, name: &str) -> Response {
    let Some(current) = state.find_object(w.resource, w.namespace, name) else {
        return status::not_found(w.resource.plural, name);
    };
    if !w.dry_run()
        && let Some(index) = index_of(w.resource)
    {
        state.apply(index, current.clone(), true);
        controllers::after_write(state, w.resource.kind, Some(&current), None);
    }
    json_response(
        StatusCode::OK,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "details": {"name": name, "kind": w.resource.plural, "uid": current["metadata"]["uid"]}}),
    )
}

/// What kube-apiserver's validation refuses to change: a pod's spec other than its containers'
/// images (pkg/apis/core/validation ValidatePodUpdate), and a Job's pod template
/// (batch validation: `spec.template: field is immutable`).
fn immutable(r: &Resource, current: &Value, next: &Value, name: &str) -> Option<Response> {
    match r.kind {
        "Pod" => {
            let without_images = |v: &Value| {
                let mut spec = v["spec"].clone();
                for list in ["containers", "initContainers"] {
                    for c in spec[list].as_array_mut().into_iter().flatten() {
                        c["image"] = Value::Null;
                    }
                }
                spec
            };
            (without_images(current) != without_images(next)).then(|| {
                invalid("Pod", name, "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)".into())
            })
        }
        "Job" => (current["spec"]["template"] != next["spec"]["template"]).then(|| {
            invalid(
                "Job.batch",
                name,
                "spec.template: Invalid value: field is immutable".into(),
            )
        }),
        _ => None,
    }
}

/// The list fields kubectl's strategic merge patches touch, with their merge keys, from the
/// `patchMergeKey` tags of k8s.io/api core/v1 types.go (PodSpec.containers, initContainers,
/// volumes, imagePullSecrets; Container.env, volumeMounts, ports). Other lists are replaced.
const MERGE_KEYS: &[(&str, &str)] = &[
    ("containers", "name"),
    ("initContainers", "name"),
    ("volumes", "name"),
    ("imagePullSecrets", "name"),
    ("env", "name"),
    ("volumeMounts", "mountPath"),
    ("ports", "containerPort"),
];

/// A strategic merge patch: maps merge as in JSON merge patch (null deletes), lists with a
/// merge key merge item by item (`$patch: delete` removes one), other lists are replaced;
/// directives kubectl adds for ordering (`$setElementOrder/...`, `$retainKeys`) are dropped.
fn strategic_merge(doc: &mut Value, patch: &Value, key: &str) {
    match (doc, patch) {
        (Value::Object(d), Value::Object(p)) => {
            if p.get("$patch").and_then(Value::as_str) == Some("replace") {
                let mut replaced = p.clone();
                replaced.remove("$patch");
                *d = replaced;
                return;
            }
            for (k, v) in p {
                if k.starts_with('$') {
                    continue;
                }
                match v {
                    Value::Null => {
                        d.remove(k);
                    }
                    _ => strategic_merge(d.entry(k.clone()).or_insert(Value::Null), v, k),
                }
            }
        }
        (Value::Array(d), Value::Array(p)) if MERGE_KEYS.iter().any(|(k, _)| *k == key) => {
            let merge_key = MERGE_KEYS
                .iter()
                .find(|(k, _)| *k == key)
                .map_or("name", |(_, m)| m);
            for item in p {
                let at = d
                    .iter()
                    .position(|x| x.get(merge_key) == item.get(merge_key));
                match (at, item.get("$patch").and_then(Value::as_str)) {
                    (Some(i), Some("delete")) => {
                        d.remove(i);
                    }
                    (None, Some("delete")) => {}
                    (Some(i), _) => strategic_merge(&mut d[i], item, ""),
                    (None, _) => d.push(item.clone()),
                }
            }
        }
        (d, p) => *d = p.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::strategic_merge;
    use serde_json::json;

    #[test]
    fn strategic_merge_merges_named_lists_and_drops_directives() {
        let mut pod = json!({"spec": {"containers": [
            {"name": "app", "image": "a:1", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
            {"name": "side", "image": "s:1"}]}});
        // What `kubectl set env deploy/x A-` sends, reduced to a pod.
        let patch = json!({"spec": {"$setElementOrder/containers": [{"name": "app"}, {"name": "side"}],
            "containers": [{"name": "app", "env": [{"name": "A", "$patch": "delete"}],
                            "$setElementOrder/env": [{"name": "B"}]}]}});
        strategic_merge(&mut pod, &patch, "");
        assert_eq!(
            pod,
            json!({"spec": {"containers": [
                {"name": "app", "image": "a:1", "env": [{"name": "B", "value": "2"}]},
                {"name": "side", "image": "s:1"}]}})
        );
        let mut meta = json!({"metadata": {"annotations": {"x": "1", "y": "2"}}});
        strategic_merge(
            &mut meta,
            &json!({"metadata": {"annotations": {"x": null, "z": "3"}}}),
            "",
        );
        assert_eq!(
            meta,
            json!({"metadata": {"annotations": {"y": "2", "z": "3"}}})
        );
    }
}
