//! The lab's TLS and CONNECT proxy: real clients (curl, Python requests) reach the cluster
//! issuer by its real host name with only HTTPS_PROXY and the lab CA set.

mod common;

use std::process::Command;

use widiag::lab::LabHandle;

const ISSUER: &str = "https://eastus.oic.prod-aks.azure.com/8f3c2a10-5b7e-4c1d-9a2f-6e4b1d0c7a93/4d1b7e2c-9a6f-4c3e-8b1d-2f7a9c5e0b64/";

fn lab() -> (LabHandle, tempfile::TempDir) {
    (
        common::spawn_lab("seed-004-healthy"),
        tempfile::tempdir().unwrap(),
    )
}

fn env_of(lab: &LabHandle, dir: &std::path::Path) -> Vec<(String, String)> {
    common::client_env(lab, dir)
}

#[test]
#[ignore = "needs curl: ./scripts/test checks for it and runs ignored tests"]
fn curl_reaches_the_issuer_by_its_real_name_through_the_proxy() {
    let (lab, dir) = lab();
    let url = format!("{ISSUER}.well-known/openid-configuration");
    let out = Command::new("curl")
        .args(["-sS", "--fail", &url])
        .envs(env_of(&lab, dir.path()))
        .output()
        .expect("curl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["issuer"], ISSUER);
    assert_eq!(doc["jwks_uri"], format!("{ISSUER}openid/v1/jwks"));
    let jwks = Command::new("curl")
        .args(["-sS", "--fail", doc["jwks_uri"].as_str().unwrap()])
        .envs(env_of(&lab, dir.path()))
        .output()
        .unwrap();
    let jwks: serde_json::Value = serde_json::from_slice(&jwks.stdout).unwrap();
    assert_eq!(jwks["keys"][0]["alg"], "RS256");
    let paths: Vec<String> = lab.requests().into_iter().map(|r| r.path).collect();
    assert!(
        paths.iter().any(|p| p.ends_with("/openid/v1/jwks")),
        "{paths:?}"
    );
}

#[test]
#[ignore = "needs curl: ./scripts/test checks for it and runs ignored tests"]
fn without_the_lab_ca_the_certificate_is_refused() {
    let (lab, dir) = lab();
    let env: Vec<(String, String)> = env_of(&lab, dir.path())
        .into_iter()
        .filter(|(k, _)| !k.contains("CA") && k != "SSL_CERT_FILE")
        .collect();
    let out = Command::new("curl")
        .args([
            "-sS",
            "--fail",
            &format!("{ISSUER}.well-known/openid-configuration"),
        ])
        .envs(env)
        .env("CURL_CA_BUNDLE", "/dev/null")
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "an untrusted lab certificate must not be accepted"
    );
}

#[test]
#[ignore = "needs python3 with the Azure SDKs: ./scripts/test installs them and runs ignored tests"]
fn python_requests_uses_the_proxy_and_ca_from_the_environment() {
    let (lab, dir) = lab();
    let script = format!(
        "import requests; print(requests.get('{ISSUER}.well-known/openid-configuration', timeout=10).json()['issuer'])"
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .envs(env_of(&lab, dir.path()))
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), ISSUER);
}
