//! An API server over TLS that refuses the kubeconfig's client certificate because it has
//! expired (issue 15): widiag says so, instead of hyper's "client error (SendRequest)".

mod common;

use std::sync::Arc;

use base64::Engine;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};

/// The cluster's CA, the API server's certificate, and a client certificate the CA signed that
/// is valid only during 2020.
struct Pki {
    ca_cert: rcgen::Certificate,
    server_cert: rcgen::Certificate,
    server_key: KeyPair,
    client_cert: rcgen::Certificate,
    client_key: KeyPair,
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "test cluster CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let mut server = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    server
        .subject_alt_names
        .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
    let server_key = KeyPair::generate().unwrap();
    let server_cert = server.signed_by(&server_key, &issuer).unwrap();
    // Signed by the cluster's CA, but valid only during 2020.
    let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
    client
        .distinguished_name
        .push(DnType::CommonName, "platform-engineer");
    client.not_before = rcgen::date_time_ymd(2020, 1, 1);
    client.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let client_key = KeyPair::generate().unwrap();
    let client_cert = client.signed_by(&client_key, &issuer).unwrap();
    Pki {
        ca_cert,
        server_cert,
        server_key,
        client_cert,
        client_key,
    }
}

/// The API server's TLS on a loopback port: client certificates from the CA required, as
/// kube-apiserver's --client-ca-file does. It answers nothing past the handshake.
async fn api_server(pki: &Pki) -> std::net::SocketAddr {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca_cert.der().clone()).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![pki.server_cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(pki.server_key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = acceptor.accept(stream).await;
            });
        }
    });
    addr
}

/// A kubeconfig for the server at `port` that presents the expired client certificate.
fn kubeconfig(port: u16, pki: &Pki) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:{}\n    certificate-authority-data: {}\n\
         contexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\n\
         users:\n- name: u\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n",
        port,
        b64(&pki.ca_cert.pem()),
        b64(&pki.client_cert.pem()),
        b64(&pki.client_key.serialize_pem()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_client_certificate_is_named_plainly() {
    let pki = pki();
    let addr = api_server(&pki).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    std::fs::write(&path, kubeconfig(addr.port(), &pki)).unwrap();
    let out = tokio::task::spawn_blocking(move || {
        common::bin()
            .args(["check", "-A", "--azure-auth", "none", "--timeout", "5"])
            .arg("--kubeconfig")
            .arg(&path)
            .env_remove("KUBECONFIG")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    // Over TLS 1.3 the refusal may arrive as an alert or as a closed connection, depending on
    // timing; either way the certificate's end date names the cause.
    assert!(
        stderr.contains("client certificate")
            && stderr.contains("expired")
            && stderr.contains("2021-01-01T00:00:00Z"),
        "{stderr}"
    );
}
