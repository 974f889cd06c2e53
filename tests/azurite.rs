//! widiag's own Blob requests against Azurite, Microsoft's reference implementation of the Blob
//! protocol (npm; scripts/test installs it): the probe's listing and user-delegation-key calls
//! are accepted as written, and Azurite's errors are read back as Storage words them.

mod common;

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
use widiag::net::http::{Http, Network};
use widiag::probe::blob::{BlobTarget, probe};
use widiag::world::ObjRef;

fn azurite_bin() -> Option<PathBuf> {
    let p = common::root().join("target/tools/azurite/node_modules/.bin/azurite-blob");
    p.exists().then_some(p)
}

struct Azurite {
    child: Child,
    port: u16,
    ca_pem: String,
    _dir: tempfile::TempDir,
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Azurite on HTTPS (its OAuth mode needs it) with a certificate from a CA made here.
fn start(bin: &PathBuf) -> Azurite {
    let dir = tempfile::tempdir().unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name
        .push(DnType::CommonName, "azurite test CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let mut leaf = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    leaf.subject_alt_names
        .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, leaf_cert.pem()).unwrap();
    std::fs::write(&key, leaf_key.serialize_pem()).unwrap();
    // A free port: Azurite cannot report one it picked itself.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(bin)
        .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
        .args([
            "--oauth",
            "basic",
            "--skipApiVersionCheck",
            "--silent",
            "--inMemoryPersistence",
        ])
        .arg("--cert")
        .arg(&cert)
        .arg("--key")
        .arg(&key)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("azurite-blob starts");
    // Owned before waiting, so a failed start still kills and reaps the process.
    let az = Azurite {
        child,
        port,
        ca_pem: ca_cert.pem(),
        _dir: dir,
    };
    for _ in 0..300 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return az;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("Azurite did not listen on {port}");
}

/// An Entra-shaped access token for Storage. Azurite's `basic` OAuth checks audience, issuer
/// and lifetime, not the signature, so widiag's requests are what is under test.
fn token(exp_in: i64) -> String {
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let now = jiff::Timestamp::now().as_second();
    let tenant = "8f3c2a10-5b7e-4c1d-9a2f-6e4b1d0c7a93";
    format!(
        "{}.{}.c2lnbmF0dXJl",
        b64(serde_json::json!({"typ": "JWT", "alg": "RS256"})),
        b64(serde_json::json!({
            "aud": "https://storage.azure.com",
            "iss": format!("https://sts.windows.net/{tenant}/"),
            "iat": now - 60, "nbf": now - 60, "exp": now + exp_in,
            "oid": "0c7f3e2a-9d1b-4a6c-8e5f-2b4d6a8c0e19", "tid": tenant,
            "appid": "a7d3f1c9-5e2b-4b8d-9f6a-1c4e7b0d3a52",
        }))
    )
}

#[tokio::test]
async fn azurite_accepts_the_blob_probe_as_written() {
    let Some(bin) = azurite_bin() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "Azurite is required under CI (scripts/test installs it)"
        );
        eprintln!("skipped: no Azurite in target/tools (scripts/test installs it)");
        return;
    };
    widiag::collect::install_crypto();
    let az = start(&bin);
    let http = Http::new(
        Duration::from_secs(10),
        &Network {
            proxy: None,
            ca_pem: Some(az.ca_pem.clone()),
        },
    )
    .unwrap();
    let endpoint = format!("https://127.0.0.1:{}/devstoreaccount1", az.port);
    let good = token(3600);
    // The container the probe lists, created with the same token.
    let created = http
        .storage(
            "create container",
            "PUT",
            &format!("{endpoint}/cats?restype=container"),
            &good,
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );

    let pod = ObjRef::new("default", "cats-api");
    let target = |container: &'static str, endpoint: &str| BlobTarget {
        account: "devstoreaccount1",
        endpoint: endpoint.to_string(),
        container: Some(container),
        user_delegation: true,
    };
    let ok = probe(&http, &pod, &target("cats", &endpoint), &good).await;
    let got: Vec<(&str, Option<u16>)> = ok
        .iter()
        .map(|r| (r.operation.as_str(), r.status))
        .collect();
    assert_eq!(
        got,
        [
            ("list blobs in container cats", Some(200)),
            ("get a user delegation key", Some(200)),
        ],
        "{ok:?}"
    );
    assert!(ok[0].request_id.is_some(), "{ok:?}");

    // Azurite's own errors, read as Storage words them.
    let missing = probe(&http, &pod, &target("dogs", &endpoint), &good).await;
    assert_eq!(
        (missing[0].status, missing[0].error_code.as_deref()),
        (Some(404), Some("ContainerNotFound"))
    );
    let expired = probe(&http, &pod, &target("cats", &endpoint), &token(-600)).await;
    assert_eq!(
        (expired[0].status, expired[0].error_code.as_deref()),
        (Some(403), Some("AuthenticationFailed")),
        "{expired:?}"
    );
}
