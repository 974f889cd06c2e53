//! The lab: loopback servers built from a world that speak the real protocols, so clients we did
//! not write (kubectl, kube-rs, the Azure SDKs) work against them unmodified. It is the ground
//! for integration tests and the demo. So far it serves the Kubernetes API (discovery,
//! list/get, Table output, TokenRequest) and the cluster's OIDC discovery and JWKS, over plain
//! HTTP on 127.0.0.1. Entra, ARM, Graph, Key Vault, Blob and TLS follow (issue 4).

pub mod keys;
pub mod kube_api;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::world::World;

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("lab signing key: {0}")]
    Key(String),
    #[error("lab cannot listen on 127.0.0.1: {0}")]
    Bind(std::io::Error),
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
    pub path: String,
    pub status: u16,
    pub user_agent: String,
}

pub type RequestLog = Arc<Mutex<Vec<Logged>>>;

/// A running lab. Dropping it stops the servers and their thread.
pub struct LabHandle {
    pub kube_addr: SocketAddr,
    pub log: RequestLog,
    /// Set to true to stop: ends held watches, then the server.
    stop: tokio::sync::watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LabHandle {
    /// Starts the lab on its own runtime thread; returns once it is listening.
    pub fn spawn(world: World) -> Result<LabHandle, LabError> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let state = kube_api::State::new(world, stop_rx.clone())?;
        let log = state.log.clone();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(LabError::Runtime)?;
        // Bound here, outside any runtime, so callers may be async themselves.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(LabError::Bind)?;
        listener.set_nonblocking(true).map_err(LabError::Bind)?;
        let kube_addr = listener.local_addr().map_err(LabError::Bind)?;
        let thread = std::thread::Builder::new()
            .name("widiag-lab".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    let app = kube_api::router(state);
                    let _ = axum::serve(listener, app)
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
            log,
            stop: stop_tx,
            thread: Some(thread),
        })
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

    pub fn write_kubeconfig(&self, path: &Path) -> Result<(), LabError> {
        std::fs::write(path, self.kubeconfig()).map_err(|source| LabError::Write {
            path: path.display().to_string(),
            source,
        })
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
