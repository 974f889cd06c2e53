//! The lab's Kubernetes API server: discovery, get and list (with `limit`/`continue` paging and
//! Table output), the TokenRequest subresource minting real RS256 service-account tokens, and
//! the issuer's `/.well-known/openid-configuration` and `/openid/v1/jwks`, all from a world.
//! See shared/reference/wire-protocols.md §1–2 for what real clients send.

mod admission;
mod controllers;
mod discovery;
pub(crate) mod exec;
mod openapi;
mod openapi_pb;
mod proto_json;
mod protobuf;
mod resources;
mod review;
mod selectors;
mod status;
mod writes;
pub(super) use status::{status, throttled};
mod table;
mod token;
mod watch;
mod wi_mutation;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::server::State;
use crate::world::World;
use resources::{RESOURCES, Resource};

/// The list resourceVersion; kube-runtime's watcher needs one.
/// The resourceVersion of an unchanged world; each change moves it on.
pub(crate) const FIRST_RV: u64 = 1000;

/// A time as Kubernetes writes `metav1.Time` (RFC 3339, whole seconds, UTC).
fn kube_time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Now, as Kubernetes writes it: what the API server and controllers stamp on objects.
fn kube_now() -> String {
    kube_time(jiff::Timestamp::now())
}

fn json_response(code: StatusCode, body: &Value) -> Response {
    (
        code,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

pub(super) fn dispatch(
    state: &State,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let accept = header(headers, "accept");
    if state.is_down() {
        let mut down = status::status(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "the server is currently unable to handle the request".into(),
            None,
            None,
        );
        // The connection goes with the server: the next request must connect again.
        down.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        return down;
    }
    if let Some(doc) = issuer_document(state, method, path) {
        return doc;
    }
    let user = match crate::lab::bearer::token(headers) {
        None => None,
        Some(token) => match state.kube_users().iter().find(|u| u.name == token) {
            Some(u) => Some(u),
            None => {
                return status::status(
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized",
                    "Unauthorized".into(),
                    None,
                    None,
                );
            }
        },
    };
    match (method, segs.as_slice()) {
        (&Method::GET, ["version"]) => json_response(StatusCode::OK, &discovery::version()),
        (&Method::GET, ["healthz" | "readyz" | "livez"]) => health(),
        (&Method::GET, ["openapi", rest @ ..]) => openapi::route(rest, accept),
        (&Method::GET, [root @ ("api" | "apis")]) if discovery::wants_aggregated(accept) => (
            StatusCode::OK,
            [("content-type", discovery::AGGREGATED)],
            discovery::aggregated(*root == "api").to_string(),
        )
            .into_response(),
        (&Method::GET, ["api"]) => json_response(StatusCode::OK, &discovery::api_versions()),
        (&Method::GET, ["apis"]) => json_response(StatusCode::OK, &discovery::api_groups()),
        (&Method::GET, [".well-known", "openid-configuration"]) => issuer_doc(state, false),
        (&Method::GET, ["openid", "v1", "jwks"]) => issuer_doc(state, true),
        (_, ["api", "v1", rest @ ..]) | (_, ["apis", _, _, rest @ ..]) => {
            let (group, version) = match segs.as_slice() {
                ["apis", group, version, ..] => (*group, *version),
                _ => ("", "v1"),
            };
            let content_type = header(headers, "content-type");
            let req = Req {
                method,
                group,
                version,
                rest,
                query,
                accept,
                content_type,
                user,
            };
            resource_request(state, &req, body)
        }
        _ => status::status(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource".into(),
            None,
            None,
        ),
    }
}

fn header<'h>(headers: &'h axum::http::HeaderMap, name: &str) -> &'h str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// A request for a resource path, parsed.
struct Req<'a> {
    method: &'a Method,
    group: &'a str,
    version: &'a str,
    rest: &'a [&'a str],
    query: &'a str,
    accept: &'a str,
    content_type: &'a str,
    user: Option<&'a crate::lab::behaviour::KubeUser>,
}

fn resource_request(state: &State, req: &Req<'_>, body: &Bytes) -> Response {
    let Req {
        method,
        group,
        version,
        rest,
        query,
        accept,
        user,
        ..
    } = *req;
    let (ns, rest) = match rest {
        ["namespaces", ns, more @ ..] if !more.is_empty() => (Some(*ns), more),
        other => (None, other),
    };
    if let Some(denied) = user.and_then(|u| authorize(u, method, group, rest, ns, query)) {
        return denied;
    }
    let forbidden_method = || {
        status::status(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "the lab serves get, list, watch, create, update, patch, delete and TokenRequest"
                .into(),
            None,
            None,
        )
    };
    match (method, rest) {
        (&Method::GET, []) => match discovery::resource_list(group, version) {
            Some(list) if ns.is_none() => json_response(StatusCode::OK, &list),
            _ => status::not_found("groups", group),
        },
        (&Method::POST, ["selfsubjectaccessreviews"]) if group == "authorization.k8s.io" => {
            review::access(user, body)
        }
        (&Method::POST, ["selfsubjectrulesreviews"]) if group == "authorization.k8s.io" => {
            review::rules(user, body)
        }
        (&Method::POST, ["selfsubjectreviews"]) if group == "authentication.k8s.io" => {
            review::whoami(user)
        }
        (&Method::POST, ["serviceaccounts", name, "token"]) if group.is_empty() => {
            let Some(ns) = ns else {
                return status::not_found("serviceaccounts", name);
            };
            let Some(sa) = resources::find(group, version, "serviceaccounts")
                .and_then(|r| state.find(r, Some(ns), name))
            else {
                return status::not_found("serviceaccounts", name);
            };
            let pods = resources::find("", "v1", "pods")
                .map(|r| state.items(r))
                .unwrap_or_default();
            token::token_request(state.issuer_key(), state.issuer(), &sa, &pods, body)
        }
        (&Method::GET, [plural]) => match resources::find(group, version, plural) {
            Some(r) => list(state, r, ns, query, accept),
            None => status::not_found(plural, ""),
        },
        (&Method::GET, ["pods", name, "log"]) if group.is_empty() => {
            pod_log(state, version, ns, name)
        }
        (&Method::GET, [plural, name]) => match resources::find(group, version, plural) {
            Some(r) => get_one(state, r, ns, name, accept),
            None => status::not_found(plural, name),
        },
        (&Method::GET, _) => status::status(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource".into(),
            None,
            None,
        ),
        (&Method::POST | &Method::PUT | &Method::PATCH | &Method::DELETE, [plural, more @ ..])
            if more.len() <= 1 =>
        {
            write(state, req, (ns, plural, more.first().copied()), body)
        }
        _ => forbidden_method(),
    }
}

/// A write to `plural` (a collection for POST, one object otherwise), or the 404 for a
/// resource the lab does not serve.
fn write(
    state: &State,
    req: &Req<'_>,
    (ns, plural, name): (Option<&str>, &str, Option<&str>),
    body: &Bytes,
) -> Response {
    let Some(resource) = resources::find(req.group, req.version, plural) else {
        return status::not_found(plural, name.unwrap_or_default());
    };
    let w = writes::Write {
        resource,
        namespace: ns,
        query: req.query,
        body,
    };
    match (req.method, name) {
        (&Method::POST, None) => writes::create(state, &w),
        (&Method::PATCH, Some(n)) => writes::patch(state, &w, n, req.content_type),
        (&Method::PUT, Some(n)) => writes::replace(state, &w, n),
        (&Method::DELETE, Some(n)) => writes::delete(state, &w, n),
        _ => status::status(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("{} is not served on this path", req.method),
            None,
            None,
        ),
    }
}

/// The world's `LabBehaviour` users: a request carrying `Bearer <user>` gets only what the
/// user's rules allow, with the 403 a real API server gives. Anonymous requests are admin.
fn authorize(
    user: &crate::lab::behaviour::KubeUser,
    method: &Method,
    group: &str,
    rest: &[&str],
    ns: Option<&str>,
    query: &str,
) -> Option<Response> {
    let (verb, resource) = match (method, rest) {
        (&Method::POST, [sa, _, sub]) => ("create", format!("{sa}/{sub}")),
        // Every authenticated user may ask about itself (RBAC's system:basic-user).
        (
            &Method::POST,
            ["selfsubjectaccessreviews" | "selfsubjectrulesreviews" | "selfsubjectreviews"],
        ) => {
            return None;
        }
        (&Method::POST, [plural]) => ("create", plural.to_string()),
        (&Method::PATCH, [plural, ..]) => ("patch", plural.to_string()),
        (&Method::PUT, [plural, ..]) => ("update", plural.to_string()),
        (&Method::DELETE, [plural, ..]) => ("delete", plural.to_string()),
        (&Method::GET, [plural]) if is_watch(query) => ("watch", plural.to_string()),
        (&Method::GET, [plural]) => ("list", plural.to_string()),
        (&Method::GET, [plural, ..]) => ("get", plural.to_string()),
        _ => return None,
    };
    if user.allows(verb, &resource, ns) {
        return None;
    }
    let (plural, sub) = resource.split_once('/').unwrap_or((&resource, ""));
    let what = if sub.is_empty() {
        format!("resource \"{plural}\"")
    } else {
        format!("resource \"{plural}/{sub}\"")
    };
    let scope = match ns {
        Some(n) => format!("in the namespace \"{n}\""),
        None => "at the cluster scope".into(),
    };
    Some(status::status(
        StatusCode::FORBIDDEN,
        "Forbidden",
        format!(
            "{resource} is forbidden: User \"{}\" cannot {verb} {what} in API group \"{group}\" {scope}",
            user.name
        ),
        Some(plural),
        None,
    ))
}

/// One object, as JSON or as a Table.
fn get_one(state: &State, r: &Resource, ns: Option<&str>, name: &str, accept: &str) -> Response {
    match state.find(r, ns, name) {
        Some(obj) if table::wants_table(accept) => json_response(
            StatusCode::OK,
            &table::table(
                r,
                &[&obj],
                &state.resource_version().to_string(),
                jiff::Timestamp::now(),
            ),
        ),
        Some(obj) => json_response(StatusCode::OK, &obj),
        None => status::not_found(r.plural, name),
    }
}

/// `pods/{name}/log`: worlds hold no container output, so a pod's log is empty; a pod the world
/// does not hold is the API server's 404.
fn pod_log(state: &State, version: &str, ns: Option<&str>, name: &str) -> Response {
    let exists = resources::find("", version, "pods").and_then(|r| state.find(r, ns, name));
    match exists {
        Some(_) => (StatusCode::OK, [("content-type", "text/plain")], "").into_response(),
        None => status::not_found("pods", name),
    }
}

/// kube-apiserver's health endpoints answer `ok` as plain text when every check passes.
fn health() -> Response {
    (
        StatusCode::OK,
        [("content-type", "text/plain; charset=utf-8")],
        "ok",
    )
        .into_response()
}

/// `watch=true` (or `1`): a watch rather than a list.
pub(crate) fn is_watch(query: &str) -> bool {
    matches!(param(query, "watch"), Some("true" | "1"))
}

fn param<'q>(query: &'q str, key: &str) -> Option<&'q str> {
    // kube-rs sends `?&limit=…`: empty pairs are skipped.
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .find_map(|p| p.split_once('=').filter(|(k, _)| *k == key).map(|(_, v)| v))
}

fn list(state: &State, r: &Resource, ns: Option<&str>, query: &str, accept: &str) -> Response {
    if is_watch(query) {
        return watch::watch(state, r, ns, query);
    }
    let selectors = match selectors::Selectors::from_query(query) {
        Ok(s) => s,
        Err(m) => return status::status(StatusCode::BAD_REQUEST, "BadRequest", m, None, None),
    };
    // The resourceVersion first: a change after it is seen by a watch from it.
    let rv = state.resource_version().to_string();
    let items = state.items(r);
    let all: Vec<&Value> = items
        .iter()
        .filter(|o| ns.is_none_or(|n| resources::namespace_of(o) == n))
        .filter(|o| selectors.matches(o))
        .collect();
    let start: usize = param(query, "continue")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let limit: usize = param(query, "limit")
        .and_then(|l| l.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    let end = start.saturating_add(limit).min(all.len());
    let page = all.get(start.min(all.len())..end).unwrap_or_default();
    let mut metadata = json!({"resourceVersion": rv});
    if end < all.len() {
        metadata["continue"] = json!(end.to_string());
        metadata["remainingItemCount"] = json!(all.len() - end);
    }
    if table::wants_table(accept) {
        let mut t = table::table(r, page, &rv, jiff::Timestamp::now());
        t["metadata"] = metadata;
        return json_response(StatusCode::OK, &t);
    }
    let body = json!({
        "kind": format!("{}List", r.kind),
        "apiVersion": r.group_version(),
        "metadata": metadata,
        "items": page,
    });
    json_response(StatusCode::OK, &body)
}

/// Discovery and JWKS under the issuer's own path (`https://host/tenant/uuid/.well-known/…`),
/// as Entra fetches them; the API server's root paths are matched in `dispatch`.
fn issuer_document(state: &State, method: &Method, path: &str) -> Option<Response> {
    if method != Method::GET {
        return None;
    }
    let issuer = &state.issuer();
    let base = issuer
        .trim_start_matches("https://")
        .split_once('/')
        .map_or("", |(_, p)| p)
        .trim_end_matches('/');
    if base.is_empty() {
        return None;
    }
    let rest = path
        .trim_start_matches('/')
        .strip_prefix(base)?
        .trim_start_matches('/');
    match rest {
        ".well-known/openid-configuration" => Some(issuer_doc(state, false)),
        "openid/v1/jwks" => Some(issuer_doc(state, true)),
        _ => None,
    }
}

/// The issuer's discovery document or JWKS, as the world's `LabBehaviour.issuer` asks.
fn issuer_doc(state: &State, jwks: bool) -> Response {
    let behaviour = state.issuer_behaviour().cloned().unwrap_or_default();
    if behaviour.unreachable {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "issuer storage unavailable",
        )
            .into_response();
    }
    if !jwks {
        return json_response(StatusCode::OK, &token::discovery(state.issuer()));
    }
    let mut key = state.issuer_key().jwk().clone();
    if behaviour.jwks_missing_key {
        // A rotated-away key: the published kid is not the one tokens carry.
        key["kid"] = json!(format!("rotated-{}", state.issuer_key().kid()));
    }
    (
        StatusCode::OK,
        [("content-type", "application/jwk-set+json")],
        json!({ "keys": [key] }).to_string(),
    )
        .into_response()
}

/// The objects of resource `r` in the world.
pub(super) fn objects(world: &World) -> Vec<Vec<Value>> {
    resources::objects(world)
}

pub(crate) use resources::{name_of, namespace_of};
pub(crate) use watch::event as watch_event;

/// The index of a resource in [`RESOURCES`] (and in the lab's object lists).
pub(crate) fn index_of(r: &Resource) -> Option<usize> {
    RESOURCES
        .iter()
        .position(|x| x.group == r.group && x.plural == r.plural)
}

/// The resource of an object by its `apiVersion` and `kind`.
pub(crate) fn index_of_kind(api_version: &str, kind: &str) -> Option<usize> {
    RESOURCES
        .iter()
        .position(|x| x.group_version() == api_version && x.kind == kind)
}

impl State {
    /// One object, for other parts of the lab (exec).
    pub(crate) fn find_object(&self, r: &Resource, ns: Option<&str>, name: &str) -> Option<Value> {
        self.find(r, ns, name)
    }

    pub(crate) fn objects_of(&self, r: &Resource) -> Vec<Value> {
        self.items(r).to_vec()
    }

    pub(crate) fn objects_of_kind(&self, api_version: &str, kind: &str) -> Vec<Value> {
        index_of_kind(api_version, kind)
            .map(|i| self.kube_objects(i).to_vec())
            .unwrap_or_default()
    }

    fn items(&self, r: &Resource) -> std::sync::Arc<Vec<Value>> {
        index_of(r)
            .map(|i| self.kube_objects(i))
            .unwrap_or_default()
    }

    fn find(&self, r: &Resource, ns: Option<&str>, name: &str) -> Option<Value> {
        self.items(r)
            .iter()
            .find(|o| {
                resources::name_of(o) == name && ns.is_none_or(|n| resources::namespace_of(o) == n)
            })
            .cloned()
    }
}
