//! The lab's Kubernetes API server: discovery, get and list (with `limit`/`continue` paging and
//! Table output), the TokenRequest subresource minting real RS256 service-account tokens, and
//! the issuer's `/.well-known/openid-configuration` and `/openid/v1/jwks`, all from a world.
//! See shared/reference/wire-protocols.md §1–2 for what real clients send.

mod discovery;
mod protobuf;
mod resources;
mod status;
mod table;
mod token;
mod watch;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State as AxState};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::keys::SigningKey;
use super::{LabError, Logged, RequestLog};
use crate::world::World;
use resources::{RESOURCES, Resource};

/// The list resourceVersion; kube-runtime's watcher needs one.
const LIST_RV: &str = "1000";

#[derive(Clone)]
pub struct State {
    inner: Arc<Inner>,
    pub log: RequestLog,
    /// Becomes true when the lab stops; held watches end then.
    stop: tokio::sync::watch::Receiver<bool>,
}

struct Inner {
    objects: Vec<Vec<Value>>,
    key: SigningKey,
    issuer: String,
    directory: crate::lab::entra::Directory,
    entra_key: SigningKey,
    world: World,
}

/// The issuer the lab's tokens carry: the world's cluster issuer, else a loopback placeholder.
pub fn issuer_of(world: &World) -> String {
    world
        .azure
        .clusters
        .iter()
        .find_map(|c| c.issuer_url.clone())
        .or_else(|| world.facts.issuers.first().map(|i| i.issuer.clone()))
        .unwrap_or_else(|| "https://kubernetes.default.svc.cluster.local".into())
}

impl State {
    pub fn new(world: World, stop: tokio::sync::watch::Receiver<bool>) -> Result<State, LabError> {
        Ok(State {
            inner: Arc::new(Inner {
                objects: resources::objects(&world),
                key: SigningKey::generate()?,
                issuer: issuer_of(&world),
                directory: crate::lab::entra::Directory::new(&world),
                entra_key: SigningKey::generate()?,
                world,
            }),
            log: Arc::new(Mutex::new(Vec::new())),
            stop,
        })
    }

    fn items(&self, r: &Resource) -> &[Value] {
        RESOURCES
            .iter()
            .position(|x| x.group == r.group && x.plural == r.plural)
            .and_then(|i| self.inner.objects.get(i))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    fn find(&self, r: &Resource, ns: Option<&str>, name: &str) -> Option<&Value> {
        self.items(r).iter().find(|o| {
            resources::name_of(o) == name && ns.is_none_or(|n| resources::namespace_of(o) == n)
        })
    }
}

pub fn router(state: State) -> Router {
    Router::new().fallback(handle).with_state(state)
}

async fn handle(AxState(state): AxState<State>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or_default().to_string();
    // Requests that came through the proxy for Entra's host go to the token endpoint.
    let host = parts
        .headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let host = host
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let response = if host == "login.microsoftonline.com" {
        entra_request(&state, &parts.method, &path, &body)
    } else if host.ends_with(".vault.azure.net") {
        let i = &state.inner;
        crate::lab::keyvault::handle(
            &i.world,
            &i.entra_key,
            &host,
            &parts.method,
            &path,
            &parts.headers,
        )
    } else {
        dispatch(&state, &parts.method, &path, &query, &parts.headers, &body)
    };
    if let Ok(mut log) = state.log.lock() {
        log.push(Logged {
            method: parts.method.to_string(),
            path: path.clone(),
            status: response.status().as_u16(),
            user_agent: parts
                .headers
                .get("user-agent")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string(),
        });
    }
    response
}

fn json_response(code: StatusCode, body: &Value) -> Response {
    (
        code,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn dispatch(
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
    let accept = headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if let Some(doc) = issuer_document(state, method, path) {
        return doc;
    }
    match (method, segs.as_slice()) {
        (&Method::GET, ["version"]) => json_response(StatusCode::OK, &discovery::version()),
        (&Method::GET, ["api"]) => json_response(StatusCode::OK, &discovery::api_versions()),
        (&Method::GET, ["apis"]) => json_response(StatusCode::OK, &discovery::api_groups()),
        (&Method::GET, [".well-known", "openid-configuration"]) => {
            json_response(StatusCode::OK, &token::discovery(&state.inner.issuer))
        }
        (&Method::GET, ["openid", "v1", "jwks"]) => (
            StatusCode::OK,
            [("content-type", "application/jwk-set+json")],
            json!({"keys": [state.inner.key.jwk()]}).to_string(),
        )
            .into_response(),
        (_, ["api", "v1", rest @ ..]) => {
            resource_request(state, method, "", "v1", rest, query, accept, body)
        }
        (_, ["apis", group, version, rest @ ..]) => {
            resource_request(state, method, group, version, rest, query, accept, body)
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

#[allow(clippy::too_many_arguments)]
fn resource_request(
    state: &State,
    method: &Method,
    group: &str,
    version: &str,
    rest: &[&str],
    query: &str,
    accept: &str,
    body: &Bytes,
) -> Response {
    let (ns, rest) = match rest {
        ["namespaces", ns, more @ ..] if !more.is_empty() => (Some(*ns), more),
        other => (None, other),
    };
    let forbidden_method = || {
        status::status(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "the lab is read-only: only get, list and TokenRequest are served".into(),
            None,
            None,
        )
    };
    match (method, rest) {
        (&Method::GET, []) => match discovery::resource_list(group, version) {
            Some(list) if ns.is_none() => json_response(StatusCode::OK, &list),
            _ => status::not_found("groups", group),
        },
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
            token::token_request(&state.inner.key, &state.inner.issuer, sa, pods, body)
        }
        (&Method::GET, [plural]) => match resources::find(group, version, plural) {
            Some(r) => list(state, r, ns, query, accept),
            None => status::not_found(plural, ""),
        },
        (&Method::GET, [plural, name]) => match resources::find(group, version, plural) {
            Some(r) => match state.find(r, ns, name) {
                Some(obj) if table::wants_table(accept) => json_response(
                    StatusCode::OK,
                    &table::table(r, &[obj], LIST_RV, jiff::Timestamp::now()),
                ),
                Some(obj) => json_response(StatusCode::OK, obj),
                None => status::not_found(plural, name),
            },
            None => status::not_found(plural, name),
        },
        (&Method::GET, _) => status::status(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource".into(),
            None,
            None,
        ),
        _ => forbidden_method(),
    }
}

fn param<'q>(query: &'q str, key: &str) -> Option<&'q str> {
    // kube-rs sends `?&limit=…`: empty pairs are skipped.
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .find_map(|p| p.split_once('=').filter(|(k, _)| *k == key).map(|(_, v)| v))
}

fn list(state: &State, r: &Resource, ns: Option<&str>, query: &str, accept: &str) -> Response {
    if matches!(param(query, "watch"), Some("true" | "1")) {
        return watch::watch(state, r, ns, query);
    }
    let all: Vec<&Value> = state
        .items(r)
        .iter()
        .filter(|o| ns.is_none_or(|n| resources::namespace_of(o) == n))
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
    let mut metadata = json!({"resourceVersion": LIST_RV});
    if end < all.len() {
        metadata["continue"] = json!(end.to_string());
        metadata["remainingItemCount"] = json!(all.len() - end);
    }
    if table::wants_table(accept) {
        let mut t = table::table(r, page, LIST_RV, jiff::Timestamp::now());
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

fn keys_sign(key: &SigningKey, claims: &Value) -> Result<String, String> {
    key.sign(claims).map_err(|e| e.to_string())
}

/// Discovery and JWKS under the issuer's own path (`https://host/tenant/uuid/.well-known/…`),
/// as Entra fetches them; the API server's root paths are matched in `dispatch`.
fn issuer_document(state: &State, method: &Method, path: &str) -> Option<Response> {
    if method != Method::GET {
        return None;
    }
    let issuer = &state.inner.issuer;
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
        ".well-known/openid-configuration" => {
            Some(json_response(StatusCode::OK, &token::discovery(issuer)))
        }
        "openid/v1/jwks" => Some(
            (
                StatusCode::OK,
                [("content-type", "application/jwk-set+json")],
                json!({"keys": [state.inner.key.jwk()]}).to_string(),
            )
                .into_response(),
        ),
        _ => None,
    }
}

fn entra_request(state: &State, method: &Method, path: &str, body: &Bytes) -> Response {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segs.as_slice()) {
        (&Method::POST, [tenant, "oauth2", "v2.0", "token"]) => {
            let i = &state.inner;
            crate::lab::entra::token(&i.directory, &i.key, &i.issuer, &i.entra_key, tenant, body)
        }
        _ => status::status(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!(
                "the lab's Entra serves only POST /{{tenant}}/oauth2/v2.0/token, not {method} {path}"
            ),
            None,
            None,
        ),
    }
}
