//! The lab's TLS: a CA made per run, one server certificate for the hosts clients really use
//! (login.microsoftonline.com, *.vault.azure.net, management.azure.com, graph.microsoft.com,
//! *.blob.core.windows.net, the cluster issuer's host, 127.0.0.1, localhost), and an HTTPS
//! CONNECT proxy that tunnels every CONNECT to the lab's TLS server, never anywhere else. With
//! HTTPS_PROXY and the CA file set, clients use real URLs with no other setting
//! (wire-protocols.md §0.2).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose, SanType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::LabError;

pub const CLOUD_HOSTS: &[&str] = &[
    "login.microsoftonline.com",
    "*.vault.azure.net",
    "management.azure.com",
    "graph.microsoft.com",
    "*.blob.core.windows.net",
    "localhost",
];

pub struct LabTls {
    pub ca_pem: String,
    pub server: Arc<rustls::ServerConfig>,
}

fn err(e: impl std::fmt::Display) -> LabError {
    LabError::Tls(e.to_string())
}

impl LabTls {
    /// A fresh CA and a server certificate for the cloud hosts plus `extra_hosts`.
    pub fn generate(extra_hosts: &[String]) -> Result<LabTls, LabError> {
        let ca_key = KeyPair::generate().map_err(err)?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        ca.distinguished_name
            .push(DnType::CommonName, "widiag lab CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca.self_signed(&ca_key).map_err(err)?;
        let issuer = rcgen::Issuer::new(ca, ca_key);

        let mut names: Vec<String> = CLOUD_HOSTS.iter().map(|h| h.to_string()).collect();
        names.extend(extra_hosts.iter().cloned());
        names.sort();
        names.dedup();
        let mut leaf = CertificateParams::new(names).map_err(err)?;
        leaf.distinguished_name
            .push(DnType::CommonName, "widiag lab");
        leaf.subject_alt_names
            .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
        let leaf_key = KeyPair::generate().map_err(err)?;
        let leaf_cert = leaf.signed_by(&leaf_key, &issuer).map_err(err)?;

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(err)?
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf_cert.der().clone(), ca_cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
            )
            .map_err(err)?;
        Ok(LabTls {
            ca_pem: ca_cert.pem(),
            server: Arc::new(server),
        })
    }
}

/// Serves `app` over TLS on `listener` until `stop` turns true.
pub async fn serve_tls(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    app: Router,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    loop {
        let (tcp, _) = tokio::select! {
            accepted = listener.accept() => match accepted { Ok(a) => a, Err(_) => continue },
            _ = stop.wait_for(|s| *s) => return,
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        let mut conn_stop = stop.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service = hyper_util::service::TowerToHyperService::new(app);
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(tls), service);
            tokio::select! {
                _ = conn => {}
                _ = conn_stop.wait_for(|s| *s) => {}
            }
        });
    }
}

/// An HTTP CONNECT proxy that tunnels every request to `tls_addr` (the lab), whatever host the
/// client names. Anything but CONNECT gets 405. Each CONNECT's host is recorded, so tests see
/// every host a client tried to reach.
pub async fn serve_proxy(
    listener: TcpListener,
    tls_addr: SocketAddr,
    log: super::Connects,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let (mut client, _) = tokio::select! {
            accepted = listener.accept() => match accepted { Ok(a) => a, Err(_) => continue },
            _ = stop.wait_for(|s| *s) => return,
        };
        let mut conn_stop = stop.clone();
        let log = log.clone();
        tokio::spawn(async move {
            let Some(head) = read_head(&mut client).await else {
                return;
            };
            let Some(target) = head.strip_prefix("CONNECT ") else {
                let _ = client
                    .write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n")
                    .await;
                return;
            };
            let authority = target.split_whitespace().next().unwrap_or_default();
            if let Ok(mut l) = log.lock() {
                l.push(
                    authority
                        .split(':')
                        .next()
                        .unwrap_or_default()
                        .to_ascii_lowercase(),
                );
            }
            let Ok(mut upstream) = TcpStream::connect(tls_addr).await else {
                return;
            };
            if client
                .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                .await
                .is_err()
            {
                return;
            }
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
                _ = conn_stop.wait_for(|s| *s) => {}
            }
        });
    }
}

/// The request head up to the blank line (at most 16 KiB).
async fn read_head(s: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(512);
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if buf.len() > 16 * 1024 || s.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    String::from_utf8(buf).ok()
}
