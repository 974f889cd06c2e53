//! The lab (the `lab` cargo feature): loopback servers built from a world that speak the real
//! protocols, so clients we did not write (kubectl, kube-rs, curl, the Azure SDKs) work against
//! them unmodified. It is the ground for integration tests and the demo: the Kubernetes API
//! (discovery, get/list/watch, Table output, TokenRequest, pods/exec) and the cluster's OIDC
//! discovery and JWKS on plain HTTP, and Entra, ARM, Graph, Key Vault and Blob over TLS for their
//! real host names through a CONNECT proxy. It shares no rule with the analysis: its RBAC comes
//! from Microsoft's published role definitions (`rbac`), its misbehaviour from the world's
//! `LabBehaviour` documents (`behaviour`).

pub mod arm;
mod arm_reads;
mod azure_writes;
pub mod bearer;
pub mod behaviour;
pub mod blob;
pub mod data;
pub mod entra;
mod entra_discovery;
mod entra_refusals;
pub mod keys;
pub mod keyvault;
pub mod kube_api;
mod network;
mod outage;
pub mod rbac;
pub mod server;
mod throttle;
pub mod tls;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::world::World;

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("{at}: LabBehaviour field `{field}`: {message}")]
    Behaviour {
        at: String,
        field: String,
        message: String,
    },
    #[error("lab signing key: {0}")]
    Key(String),
    #[error("lab cannot listen on 127.0.0.1: {0}")]
    Bind(std::io::Error),
    #[error("lab TLS: {0}")]
    Tls(String),
    #[error("lab runtime: {0}")]
    Runtime(std::io::Error),
    #[error("writing {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// One request the lab answered, for tests and the request log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub method: String,
    /// The Host the request named (`management.azure.com`, `127.0.0.1`, ...).
    pub host: String,
    pub path: String,
    pub status: u16,
    pub user_agent: String,
    /// A Kubernetes watch (`watch=true`) rather than a list or get.
    pub watch: bool,
    /// Who the bearer token says the caller is (its `sub`: a service principal's object id, a
    /// ServiceAccount); empty without one. Never the token itself.
    pub principal: String,
}

impl Logged {
    /// One line of `widiag lab --request-log`: no query string (it may carry a SAS), no body, no
    /// token.
    pub fn json_line(&self) -> String {
        let url = if self.host.is_empty() {
            self.path.clone()
        } else {
            format!("https://{}{}", self.host, self.path)
        };
        serde_json::json!({
            "method": self.method, "url": url, "status": self.status,
            "principal": self.principal, "userAgent": self.user_agent, "watch": self.watch,
        })
        .to_string()
    }
}

pub type RequestLog = Arc<Mutex<Vec<Logged>>>;
pub type Connects = Arc<Mutex<Vec<String>>>;

/// A running lab. Dropping it stops the servers and their thread.
pub struct LabHandle {
    pub kube_addr: SocketAddr,
    /// The TLS server for real host names (reach it through the proxy).
    pub tls_addr: SocketAddr,
    /// The HTTPS CONNECT proxy: `HTTPS_PROXY=http://{proxy_addr}`.
    pub proxy_addr: SocketAddr,
    /// The per-run CA that signed the TLS server's certificate.
    pub ca_pem: String,
    pub log: RequestLog,
    /// Every host a client asked the proxy to CONNECT to, in order: also hosts the lab's
    /// certificate does not cover, where the handshake fails and nothing is sent.
    connects: Connects,
    /// The principal that may read the lab's ARM and Graph with a client secret.
    pub reader: entra::Reader,
    /// The principal that may also write them (`operator.env`), for tests that make fixes.
    pub operator: entra::Reader,
    /// Set to true to stop: ends held watches, then the server.
    stop: tokio::sync::watch::Sender<bool>,
    /// For changing the cluster while the lab runs (pods coming and going).
    state: server::State,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LabHandle {
    /// Starts the lab on its own runtime thread; returns once it is listening.
    pub fn spawn(world: World) -> Result<LabHandle, LabError> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let issuer_host = server::issuer_of(&world)
            .trim_start_matches("https://")
            .split(['/', ':'])
            .next()
            .unwrap_or_default()
            .to_string();
        let tls = tls::LabTls::generate(&[issuer_host])?;
        let state = server::State::new(world, stop_rx.clone())?;
        let handle_state = state.clone();
        let log = state.log.clone();
        let reader = state.reader();
        let operator = state.operator();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(LabError::Runtime)?;
        // Bound here, outside any runtime, so callers may be async themselves.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(LabError::Bind)?;
        listener.set_nonblocking(true).map_err(LabError::Bind)?;
        let kube_addr = listener.local_addr().map_err(LabError::Bind)?;
        let bind = || -> Result<(std::net::TcpListener, SocketAddr), LabError> {
            let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(LabError::Bind)?;
            l.set_nonblocking(true).map_err(LabError::Bind)?;
            let a = l.local_addr().map_err(LabError::Bind)?;
            Ok((l, a))
        };
        let (tls_listener, tls_addr) = bind()?;
        let (proxy_listener, proxy_addr) = bind()?;
        let (server_config, ca_pem) = (tls.server.clone(), tls.ca_pem.clone());
        let connects = Connects::default();
        let proxy_log = connects.clone();
        let thread = std::thread::Builder::new()
            .name("widiag-lab".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let (Ok(listener), Ok(tls_listener), Ok(proxy_listener)) = (
                        tokio::net::TcpListener::from_std(listener),
                        tokio::net::TcpListener::from_std(tls_listener),
                        tokio::net::TcpListener::from_std(proxy_listener),
                    ) else {
                        return;
                    };
                    let gated = outage::Gated::new(listener, state.clone());
                    let app = server::router(state);
                    tokio::spawn(tls::serve_tls(
                        tls_listener,
                        server_config,
                        app.clone(),
                        stop_rx.clone(),
                    ));
                    tokio::spawn(tls::serve_proxy(
                        proxy_listener,
                        tls_addr,
                        proxy_log,
                        stop_rx.clone(),
                    ));
                    let _ = axum::serve(gated, app)
                        .with_graceful_shutdown(async move {
                            let mut stop = stop_rx;
                            let _ = stop.wait_for(|stopped| *stopped).await;
                        })
                        .await;
                });
            })
            .map_err(LabError::Runtime)?;
        Ok(LabHandle {
            kube_addr,
            tls_addr,
            proxy_addr,
            ca_pem,
            log,
            connects,
            reader,
            operator,
            stop: stop_tx,
            state: handle_state,
            thread: Some(thread),
        })
    }

    /// Adds or replaces a Kubernetes object (by kind, namespace and name); open watches see
    /// ADDED or MODIFIED. `false` when the lab does not serve that kind.
    pub fn apply(&self, object: serde_json::Value) -> bool {
        self.change(object, false)
    }

    /// Deletes a Kubernetes object; open watches see DELETED.
    pub fn delete(&self, object: serde_json::Value) -> bool {
        self.change(object, true)
    }

    /// The Kubernetes API goes down: open watches end, new connections are closed as they are
    /// accepted and requests on open ones are 503 (`Connection: close`) until
    /// [`Self::recover_compacted`]. Changes applied meanwhile reach no client.
    pub fn go_down(&self) {
        self.state.go_down();
    }

    /// The Kubernetes API comes back with its history compacted: a watch from a resourceVersion
    /// seen before is 410 Gone, and a client must list again to learn what changed.
    pub fn recover_compacted(&self) {
        self.state.recover_compacted();
    }

    fn change(&self, object: serde_json::Value, delete: bool) -> bool {
        let (api_version, kind) = (
            object["apiVersion"].as_str().unwrap_or_default(),
            object["kind"].as_str().unwrap_or_default(),
        );
        match kube_api::index_of_kind(api_version, kind) {
            Some(index) => {
                self.state.apply(index, object, delete);
                true
            }
            None => false,
        }
    }

    pub fn kube_url(&self) -> String {
        format!("http://{}", self.kube_addr)
    }

    /// A kubeconfig whose current context points at the lab's API server.
    pub fn kubeconfig(&self) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: widiag-lab\n  cluster:\n    server: {}\n\
             contexts:\n- name: widiag-lab\n  context:\n    cluster: widiag-lab\n    user: widiag-lab\n    namespace: default\n\
             current-context: widiag-lab\nusers:\n- name: widiag-lab\n  user: {{}}\n",
            self.kube_url()
        )
    }

    /// A kubeconfig for one of the world's `LabBehaviour` users (a bearer token of its name).
    pub fn kubeconfig_as(&self, user: &str) -> String {
        self.kubeconfig()
            .replace("  user: {}\n", &format!("  user:\n    token: {user}\n"))
    }

    pub fn write_kubeconfig(&self, path: &Path) -> Result<(), LabError> {
        std::fs::write(path, self.kubeconfig()).map_err(|source| LabError::Write {
            path: path.display().to_string(),
            source,
        })
    }

    /// Writes `ca.pem`, `lab.env` (HTTPS_PROXY, NO_PROXY, SSL_CERT_FILE, REQUESTS_CA_BUNDLE),
    /// `reader.env` (a client secret that may read ARM and Graph) and `operator.env` (one that
    /// may also write them, to make `az` fixes) into `dir`, so any program can reach the lab by
    /// the real host names.
    pub fn write_client_files(&self, dir: &Path) -> Result<std::path::PathBuf, LabError> {
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|source| LabError::Write {
                path: path.display().to_string(),
                source,
            })?;
            Ok::<_, LabError>(path)
        };
        let ca = write("ca.pem", &self.ca_pem)?;
        let env = format!(
            "HTTPS_PROXY=http://{proxy}\nhttps_proxy=http://{proxy}\nNO_PROXY=127.0.0.1,localhost\nno_proxy=127.0.0.1,localhost\n\
             SSL_CERT_FILE={ca}\nREQUESTS_CA_BUNDLE={ca}\nCURL_CA_BUNDLE={ca}\nNODE_EXTRA_CA_CERTS={ca}\n",
            proxy = self.proxy_addr,
            ca = ca.display()
        );
        for (file, r) in [
            ("reader.env", &self.reader),
            ("operator.env", &self.operator),
        ] {
            write(
                file,
                &format!(
                    "AZURE_TENANT_ID={}\nAZURE_CLIENT_ID={}\nAZURE_CLIENT_SECRET={}\n",
                    r.tenant_id, r.client_id, r.secret
                ),
            )?;
        }
        write("lab.env", &env)
    }

    /// Writes `pod.env` (the `AZURE_*` variables the webhook injected into pod `ns/name`, with
    /// `AZURE_FEDERATED_TOKEN_FILE` pointing at `token` beside it) and that token, fresh from the
    /// lab's issuer, so any program can run "as that pod". `None` when the pod is not in the world.
    pub fn write_pod_files(
        &self,
        dir: &Path,
        ns: &str,
        name: &str,
    ) -> Result<Option<std::path::PathBuf>, LabError> {
        let Some(token) = kube_api::exec::pod_token(&self.state, ns, name) else {
            return Ok(None);
        };
        let pods = self.state.objects_of_kind("v1", "Pod");
        let pod = pods
            .iter()
            .find(|p| kube_api::name_of(p) == name && kube_api::namespace_of(p) == ns);
        let env_of = |var: &str| {
            pod.and_then(|p| {
                p["spec"]["containers"].as_array()?.iter().find_map(|c| {
                    c["env"].as_array()?.iter().find(|e| e["name"] == var)?["value"]
                        .as_str()
                        .map(str::to_string)
                })
            })
        };
        let write = |file: &str, text: &str| {
            let path = dir.join(file);
            std::fs::write(&path, text).map_err(|source| LabError::Write {
                path: path.display().to_string(),
                source,
            })?;
            Ok::<_, LabError>(path)
        };
        let token_path = write("token", &token)?;
        let mut env = String::new();
        for var in ["AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_AUTHORITY_HOST"] {
            if let Some(v) = env_of(var) {
                env.push_str(&format!("{var}={v}\n"));
            }
        }
        env.push_str(&format!(
            "AZURE_FEDERATED_TOKEN_FILE={}\n",
            token_path.display()
        ));
        write("pod.env", &env).map(Some)
    }

    /// The hosts clients asked the proxy for (see [`LabHandle::connects`]).
    pub fn connected_hosts(&self) -> Vec<String> {
        self.connects.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn requests(&self) -> Vec<Logged> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Drop for LabHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
