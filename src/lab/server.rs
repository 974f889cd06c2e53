//! The lab's shared state and its front door: every request, on the plain Kubernetes port or
//! through the proxy to the TLS port, is routed by its Host to the service it names, and logged.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State as AxState};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::Value;

use super::keys::SigningKey;
use super::kube_api;
use super::throttle::refusing;
use super::{LabError, Logged, RequestLog};
use crate::world::World;

/// One change, as its watch event line, for the watches of its resource.
#[derive(Debug, Clone)]
pub struct Change {
    /// The resourceVersion the change made.
    pub rv: u64,
    pub index: usize,
    pub namespace: String,
    pub line: String,
    /// For MODIFIED, the object before the change: a watch with a selector sees the change as
    /// ADDED, MODIFIED or DELETED by whether the object matched before and after.
    pub previous: Option<Arc<Value>>,
}

#[derive(Clone)]
pub struct State {
    inner: Arc<Inner>,
    pub log: RequestLog,
    /// Becomes true when the lab stops; held watches end then.
    stop: tokio::sync::watch::Receiver<bool>,
}

struct Inner {
    /// Per resource (the order of `RESOURCES`); replaced whole on a change, so readers hold a
    /// consistent list without locking it.
    objects: std::sync::RwLock<Vec<Arc<Vec<Value>>>>,
    /// The cluster's resourceVersion: lists carry it, each change moves it on.
    rv: std::sync::atomic::AtomicU64,
    /// Changes for open watches: (resource index, namespace, event line).
    changes: tokio::sync::broadcast::Sender<Change>,
    /// Recent changes, so a watch from a resourceVersion sees what happened since it.
    history: Mutex<std::collections::VecDeque<Change>>,
    /// Watches from a resourceVersion below this are 410 Gone (etcd compacted it).
    compacted: std::sync::atomic::AtomicU64,
    /// While true the Kubernetes API answers 503, as an API server that is down.
    down: std::sync::atomic::AtomicBool,
    /// Moves on when open watches must end (the API server went away).
    cut: tokio::sync::watch::Sender<u64>,
    key: SigningKey,
    issuer: String,
    /// Entra's view of the world's Azure side, rebuilt when a write changes it; it holds the
    /// principals the lab makes per run (one that reads everything, one that may write).
    directory: std::sync::RwLock<Arc<crate::lab::entra::Directory>>,
    entra_key: SigningKey,
    /// What the vaults and storage accounts hold; blobs written during the lab's life.
    data: crate::lab::data::DataPlane,
    /// The world as served now: Azure writes (tests making `az` fixes) replace it.
    world: std::sync::RwLock<Arc<World>>,
    /// The world's `LabBehaviour` documents, read once.
    behaviour: crate::lab::behaviour::LabBehaviour,
    /// Requests answered so far, for each `LabBehaviour` throttle's `failFirst`.
    token_requests: std::sync::atomic::AtomicU32,
    azure_reads: std::sync::atomic::AtomicU32,
    kube_reads: std::sync::atomic::AtomicU32,
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
        let behaviour = crate::lab::behaviour::of(&world)?;
        let tenant = crate::lab::entra::Directory::home_tenant(&world);
        let reader = crate::lab::entra::Reader::generate(tenant.clone());
        let operator = crate::lab::entra::Reader::generate(tenant);
        let directory = crate::lab::entra::Directory::new(&world, &behaviour, &reader, &operator);
        Ok(State {
            inner: Arc::new(Inner {
                objects: std::sync::RwLock::new(
                    kube_api::objects(&world)
                        .into_iter()
                        .map(Arc::new)
                        .collect(),
                ),
                rv: std::sync::atomic::AtomicU64::new(kube_api::FIRST_RV),
                changes: tokio::sync::broadcast::channel(1024).0,
                history: Mutex::new(std::collections::VecDeque::new()),
                compacted: std::sync::atomic::AtomicU64::new(kube_api::FIRST_RV),
                down: std::sync::atomic::AtomicBool::new(false),
                cut: tokio::sync::watch::channel(0).0,
                key: SigningKey::generate()?,
                issuer: issuer_of(&world),
                directory: std::sync::RwLock::new(Arc::new(directory)),
                entra_key: SigningKey::generate()?,
                data: crate::lab::data::DataPlane::new(&world, &behaviour),
                behaviour,
                world: std::sync::RwLock::new(Arc::new(world)),
                token_requests: std::sync::atomic::AtomicU32::new(0),
                azure_reads: std::sync::atomic::AtomicU32::new(0),
                kube_reads: std::sync::atomic::AtomicU32::new(0),
            }),
            log: Arc::new(Mutex::new(Vec::new())),
            stop,
        })
    }

    /// The objects of the resource at `index`, as they are now.
    pub(super) fn kube_objects(&self, index: usize) -> Arc<Vec<Value>> {
        self.inner
            .objects
            .read()
            .ok()
            .and_then(|o| o.get(index).cloned())
            .unwrap_or_default()
    }

    pub(super) fn resource_version(&self) -> u64 {
        self.inner.rv.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(super) fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Change> {
        self.inner.changes.subscribe()
    }

    /// The changes after resourceVersion `since`, oldest first.
    pub(super) fn changes_since(&self, since: u64) -> Vec<Change> {
        self.inner
            .history
            .lock()
            .map(|h| h.iter().filter(|c| c.rv > since).cloned().collect())
            .unwrap_or_default()
    }

    /// Adds or replaces an object (by namespace and name), or deletes it, and tells the open
    /// watches, as an API server does when the cluster changes.
    pub fn apply(&self, index: usize, mut object: Value, delete: bool) {
        use std::sync::atomic::Ordering;
        let Ok(mut all) = self.inner.objects.write() else {
            return;
        };
        let Some(list) = all.get_mut(index) else {
            return;
        };
        let rv = self.inner.rv.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
        }
        let key = |o: &Value| {
            (
                kube_api::namespace_of(o).to_string(),
                kube_api::name_of(o).to_string(),
            )
        };
        let list = Arc::make_mut(list);
        let at = list.iter().position(|o| key(o) == key(&object));
        let previous = at
            .filter(|_| !delete)
            .and_then(|i| list.get(i))
            .map(|o| Arc::new(o.clone()));
        let kind = match (delete, at) {
            (true, Some(i)) => {
                list.remove(i);
                "DELETED"
            }
            (true, None) => return,
            (false, Some(i)) => {
                list[i] = object.clone();
                "MODIFIED"
            }
            (false, None) => {
                list.push(object.clone());
                "ADDED"
            }
        };
        let change = Change {
            rv,
            index,
            namespace: kube_api::namespace_of(&object).to_string(),
            line: kube_api::watch_event(kind, object),
            previous,
        };
        // Recorded while the lists are still locked, so history and lists agree.
        if let Ok(mut h) = self.inner.history.lock() {
            if h.len() == 1000 {
                h.pop_front();
            }
            h.push_back(change.clone());
        }
        // While the server is down no client may learn of a change: the watches still open
        // end on the cut, and a client learns what changed by listing after recovery. No watch
        // open is fine: the change is in the lists either way.
        if !self.is_down() {
            let _ = self.inner.changes.send(change);
        }
    }

    pub(super) fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    pub(super) fn issuer_key(&self) -> &SigningKey {
        &self.inner.key
    }

    pub(super) fn issuer_behaviour(&self) -> Option<&crate::lab::behaviour::IssuerBehaviour> {
        self.inner.behaviour.issuer.as_ref()
    }

    pub(super) fn drop_watches(&self) -> bool {
        self.inner.behaviour.drop_watches
    }

    pub(super) fn kube_users(&self) -> &[crate::lab::behaviour::KubeUser] {
        &self.inner.behaviour.kube_users
    }

    pub fn reader(&self) -> crate::lab::entra::Reader {
        self.directory().reader.clone()
    }

    pub fn operator(&self) -> crate::lab::entra::Reader {
        self.directory().operator.clone()
    }

    /// The world as it is now.
    pub(crate) fn world(&self) -> Arc<World> {
        self.inner
            .world
            .read()
            .map(|w| Arc::clone(&w))
            .unwrap_or_else(|e| Arc::clone(&e.into_inner()))
    }

    fn directory(&self) -> Arc<crate::lab::entra::Directory> {
        self.inner
            .directory
            .read()
            .map(|d| Arc::clone(&d))
            .unwrap_or_else(|e| Arc::clone(&e.into_inner()))
    }

    /// Applies an Azure write to the world and rebuilds Entra's view of it, so the next token
    /// exchange and data-plane call see the change, as Azure does once a write has propagated.
    pub(crate) fn change_world(&self, change: impl FnOnce(&mut World)) {
        let Ok(mut world) = self.inner.world.write() else {
            return;
        };
        let mut next = World::clone(&world);
        change(&mut next);
        let now = self.directory();
        let directory = crate::lab::entra::Directory::new(
            &next,
            &self.inner.behaviour,
            &now.reader,
            &now.operator,
        );
        if let Ok(mut d) = self.inner.directory.write() {
            *d = Arc::new(directory);
        }
        *world = Arc::new(next);
    }

    pub(super) fn stop(&self) -> tokio::sync::watch::Receiver<bool> {
        self.stop.clone()
    }

    /// The oldest resourceVersion a watch may start from.
    pub(super) fn compacted(&self) -> u64 {
        self.inner
            .compacted
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(super) fn is_down(&self) -> bool {
        self.inner.down.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Ends when the open watches must end.
    pub(super) fn cut(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.cut.subscribe()
    }

    /// The API server goes away (see `lab::outage`): open watches end until `recover_compacted`.
    pub fn go_down(&self) {
        self.inner
            .down
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.inner.cut.send_modify(|g| *g += 1);
    }

    /// The API server comes back with its history compacted, so a client that watched before
    /// must list again (its watch from the old resourceVersion is 410 Gone).
    pub fn recover_compacted(&self) {
        use std::sync::atomic::Ordering;
        if let Ok(mut h) = self.inner.history.lock() {
            h.clear();
        }
        // Compaction takes a revision of its own, so every resourceVersion seen before is older.
        let rv = self.inner.rv.fetch_add(1, Ordering::SeqCst) + 1;
        self.inner.compacted.store(rv, Ordering::SeqCst);
        self.inner.down.store(false, Ordering::SeqCst);
    }
}

pub fn router(state: State) -> Router {
    Router::new().fallback(handle).with_state(state)
}

async fn handle(AxState(state): AxState<State>, req: Request) -> Response {
    // pods/exec upgrades to a WebSocket, so it takes the request whole.
    if let Some((ns, pod)) = kube_api::exec::target(req.uri().path()) {
        let (method, path) = (req.method().to_string(), req.uri().path().to_string());
        let response = kube_api::exec::handle(state.clone(), req, ns, pod).await;
        if let Ok(mut log) = state.log.lock() {
            log.push(Logged {
                method,
                host: String::new(),
                path,
                status: response.status().as_u16(),
                user_agent: String::new(),
                watch: false,
                principal: String::new(),
            });
        }
        return response;
    }
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or_default().to_string();
    // The host picks the service: requests reach the TLS side through the CONNECT proxy.
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
        entra_request(&state, &parts.method, &path, &query, &body)
    } else if let Some(azure) = azure_reader(&host) {
        azure_request(&state, azure, &host, &parts, (&path, &query, &body))
    } else if host.ends_with(".vault.azure.net") {
        let i = &state.inner;
        crate::lab::keyvault::handle(
            &state.world(),
            &i.data,
            &i.entra_key,
            &host,
            &parts.method,
            &path,
            &parts.headers,
        )
    } else if host.ends_with(".blob.core.windows.net") {
        crate::lab::blob::handle(
            &state.world(),
            &state.inner.data,
            &state.inner.entra_key,
            crate::lab::blob::Request {
                host: &host,
                method: &parts.method,
                path: &path,
                query: &query,
                headers: &parts.headers,
                body: &body,
            },
        )
    } else {
        kube_request(&state, &parts, &path, &query, &body).await
    };
    log(&state, &parts, &host, &query, response)
}

/// ARM or Graph, unless `LabBehaviour.azureReads` has them throttle or fail this read.
fn azure_request(
    state: &State,
    azure: AzureHandler,
    host: &str,
    parts: &axum::http::request::Parts,
    (path, query, body): (&str, &str, &[u8]),
) -> Response {
    let i = &state.inner;
    if let Some(t) = refusing(i.behaviour.azure_reads.as_ref(), &i.azure_reads) {
        return crate::lab::arm::throttled(host, t);
    }
    let world = state.world();
    let directory = state.directory();
    let read = crate::lab::arm::Read {
        world: &world,
        denied: &i.behaviour.azure_denied,
        entra_key: &i.entra_key,
        method: &parts.method,
        path,
        query,
        headers: &parts.headers,
        body,
        reader: &directory.reader.principal_id,
        operator: &directory.operator.principal_id,
    };
    if crate::lab::azure_writes::is_write(host, &parts.method, path) {
        return crate::lab::azure_writes::handle(state, host, read);
    }
    azure(read)
}

/// The API server and the cluster's issuer, after the delays and throttling the world asks
/// (`LabBehaviour`: issuer hang, kubeDelays, kubeReads).
async fn kube_request(
    state: &State,
    parts: &axum::http::request::Parts,
    path: &str,
    query: &str,
    body: &Bytes,
) -> Response {
    let lab = &state.inner.behaviour;
    let issuer_doc =
        path.ends_with("/.well-known/openid-configuration") || path.ends_with("/openid/v1/jwks");
    let hang = lab
        .issuer
        .as_ref()
        .and_then(|i| i.hang_millis)
        .filter(|_| issuer_doc);
    // Only a world that delays or throttles resources needs to know which one is asked for.
    let plural = (!lab.kube_delays.is_empty() || lab.kube_reads.is_some())
        .then(|| kube_resource(path))
        .flatten();
    let delay = plural.and_then(|p| kube_delay(&lab.kube_delays, p));
    if let Some(ms) = delay.or(hang) {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    match plural.and_then(|_| refusing(lab.kube_reads.as_ref(), &state.inner.kube_reads)) {
        Some(t) => kube_api::throttled(t),
        None => kube_api::dispatch(state, &parts.method, path, query, &parts.headers, body),
    }
}

/// The `sub` of the request's bearer token, read without checking it (the log says who the
/// caller claimed to be; each service checks the token itself).
fn bearer_subject(headers: &axum::http::HeaderMap) -> String {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|t| crate::world::facts::decode_unverified(t).ok())
        .map(|(_, c)| c.sub)
        .unwrap_or_default()
}

/// Records the request in the lab's log and hands its response back.
fn log(
    state: &State,
    parts: &axum::http::request::Parts,
    host: &str,
    query: &str,
    response: Response,
) -> Response {
    if let Ok(mut log) = state.log.lock() {
        log.push(Logged {
            method: parts.method.to_string(),
            host: host.to_string(),
            path: parts.uri.path().to_string(),
            status: response.status().as_u16(),
            watch: kube_api::is_watch(query),
            principal: bearer_subject(&parts.headers),
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

/// The resource a Kubernetes API path names (`/api/v1/namespaces/x/pods` is `pods`); none for
/// discovery and anything else.
fn kube_resource(path: &str) -> Option<&str> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let rest = match segs.as_slice() {
        ["api", "v1", rest @ ..] | ["apis", _, _, rest @ ..] => rest,
        _ => return None,
    };
    match rest {
        ["namespaces", _, plural, ..] => Some(plural),
        [plural, ..] => Some(plural),
        [] => None,
    }
}

/// The delay asked for a Kubernetes resource.
fn kube_delay(delays: &[crate::lab::behaviour::KubeDelay], plural: &str) -> Option<u64> {
    delays
        .iter()
        .find(|d| d.resources.iter().any(|r| r == "*" || r == plural))
        .map(|d| d.millis)
}

type AzureHandler = fn(crate::lab::arm::Read<'_>) -> Response;

/// The read-only Azure control planes the lab serves, by host.
fn azure_reader(host: &str) -> Option<AzureHandler> {
    match host {
        "management.azure.com" => Some(crate::lab::arm::handle_arm),
        "graph.microsoft.com" => Some(crate::lab::arm::handle_graph),
        _ => None,
    }
}

/// A v1 token request (`resource=`) as the v2.0 one it asks for (`scope=<resource>/.default`).
fn v1_as_v2(body: &Bytes) -> Bytes {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let has_scope = pairs.iter().any(|(k, _)| k == "scope");
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        if k == "resource" && !has_scope {
            out.append_pair("scope", &format!("{}/.default", v.trim_end_matches('/')));
        } else {
            out.append_pair(k, v);
        }
    }
    Bytes::from(out.finish())
}

fn entra_request(
    state: &State,
    method: &Method,
    path: &str,
    query: &str,
    body: &Bytes,
) -> Response {
    let i = &state.inner;
    let directory = state.directory();
    if let Some(r) =
        crate::lab::entra_discovery::handle(&directory, &i.entra_key, method, path, query)
    {
        return r;
    }
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    // The v1 endpoint names the resource instead of the scope.
    let v1 = matches!(segs.as_slice(), [_, "oauth2", "token"]);
    let body = if v1 { v1_as_v2(body) } else { body.clone() };
    let body = &body;
    match (method, segs.as_slice()) {
        (&Method::POST, [tenant, "oauth2", "v2.0", "token"] | [tenant, "oauth2", "token"]) => {
            // Only workload exchanges (client assertions) misbehave; the reader signs in.
            let assertion = form_urlencoded::parse(body).any(|(k, _)| k == "client_assertion");
            let entra = i.behaviour.entra.as_ref().filter(|_| assertion);
            if let Some(t) = refusing(entra, &i.token_requests) {
                return crate::lab::entra::unavailable(t);
            }
            if let Some(r) = i
                .behaviour
                .entra_refuses
                .filter(|_| assertion)
                .and_then(crate::lab::entra_refusals::refusal)
            {
                return r;
            }
            let issuer = crate::lab::entra::Issuer {
                url: &i.issuer,
                key: &i.key,
                behaviour: i.behaviour.issuer.as_ref(),
            };
            crate::lab::entra::token(&directory, &issuer, &i.entra_key, tenant, body)
        }
        _ => kube_api::status(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!(
                "the lab's Entra serves discovery and POST /{{tenant}}/oauth2/v2.0/token (or v1 /oauth2/token), not {method} {path}"
            ),
            None,
            None,
        ),
    }
}
