//! The Azure SDK for JavaScript, clients nobody here wrote, against the lab, unmodified:
//! `@azure/identity` (WorkloadIdentityCredential, DefaultAzureCredential), `@azure/keyvault-secrets`,
//! `@azure/storage-blob` and `@azure/arm-msi`, run by `tests/apps/node_clients.cjs` with only the
//! env `widiag lab` writes (`lab.env`, `pod.env`, `reader.env`). Faulted worlds must fail in the
//! SDK with the status and code real Azure gives.
//!
//! scripts/test installs the pinned packages in `target/tools/node`; these tests are ignored
//! otherwise.

mod common;

use std::process::Command;

const SUB: &str = "2b6d9c4e-1f3a-4e8b-b7c5-0d9a8e6f4c21";

/// Who the SDK runs as: a pod of the world, or the lab's reader (a client secret).
enum As<'a> {
    Pod(&'a str, &'a str),
    Reader,
}

/// Runs `node_clients.cjs <args>` against a lab on `world`; its stdout, trimmed.
fn node(world: &str, who: As<'_>, args: &[&str]) -> String {
    let modules = common::root().join("target/tools/node/node_modules");
    assert!(
        modules.join("@azure/identity").exists(),
        "{} is missing: ./scripts/test installs the SDK",
        modules.display()
    );
    let lab = common::spawn_lab(world);
    let dir = tempfile::tempdir().unwrap();
    let mut env = common::client_env(&lab, dir.path());
    let identity = match who {
        As::Pod(ns, name) => lab
            .write_pod_files(dir.path(), ns, name)
            .unwrap()
            .expect("the pod is in the world"),
        As::Reader => dir.path().join("reader.env"),
    };
    env.extend(common::read_env(&identity));
    let out = Command::new("node")
        .arg(common::root().join("tests/apps/node_clients.cjs"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("NODE_PATH", &modules)
        .envs(env)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let failed = stdout.starts_with("ERROR");
    assert_eq!(
        out.status.code(),
        Some(if failed { 3 } else { 0 }),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
#[ignore = "needs Node.js and the Azure SDK: ./scripts/test installs it and runs ignored tests"]
fn workload_identity_credential_gets_a_token_as_the_pod() {
    assert_eq!(
        node(
            "seed-004-healthy",
            As::Pod("default", "wi-kv-test"),
            &["token"]
        ),
        "OK https://vault.azure.net 0c7f3e2a-9d1b-4a6c-8e5f-2b4d6a8c0e19"
    );
}

#[test]
#[ignore = "needs Node.js and the Azure SDK: ./scripts/test installs it and runs ignored tests"]
fn default_azure_credential_reads_the_pods_secret() {
    assert_eq!(
        node(
            "seed-004-healthy",
            As::Pod("default", "wi-kv-test"),
            &["secret", "wilab4521", "Secret"]
        ),
        "OK lab-value-of-wilab4521-Secret"
    );
}

#[test]
#[ignore = "needs Node.js and the Azure SDK: ./scripts/test installs it and runs ignored tests"]
fn the_blob_sdk_uploads_and_reads_back_as_the_pod() {
    // 30 bytes written, read back alike, and `exists()` false for a blob never written (a 404).
    assert_eq!(
        node(
            "seed-001-healthy",
            As::Pod("default", "cats-api-deployment-6d9c7b5f4d-x2k9p"),
            &["blob", "davydscats", "cats", "from-node.txt"]
        ),
        "OK 30 true false"
    );
}

#[test]
#[ignore = "needs Node.js and the Azure SDK: ./scripts/test installs it and runs ignored tests"]
fn arm_msi_reads_the_identity_and_its_credentials_as_the_reader() {
    assert_eq!(
        node(
            "seed-004-healthy",
            As::Reader,
            &["msi", SUB, "WorkloadIdentityRG", "wi-demo-identity"]
        ),
        "OK 5e2a8c1d-3b7f-4a9e-b0c6-d4f1e8a2b975 system:serviceaccount:default:wi-demo-sa"
    );
}

#[test]
#[ignore = "needs Node.js and the Azure SDK: ./scripts/test installs it and runs ignored tests"]
fn faulted_worlds_fail_in_the_sdk_as_in_azure() {
    let refused = node(
        "seed-004-fic-namespace",
        As::Pod("apps", "wi-kv-test"),
        &["token"],
    );
    assert!(refused.contains("AADSTS700213"), "{refused}");
    let rbac = node(
        "seed-004-rbac-vault",
        As::Pod("default", "wi-kv-test"),
        &["secret", "wilab4521", "lab-secret"],
    );
    assert!(rbac.starts_with("ERROR 403 Forbidden"), "{rbac}");
    // A pod identity with no ARM role may not read its own identity resource.
    let arm = node(
        "seed-004-healthy",
        As::Pod("default", "wi-kv-test"),
        &["msi", SUB, "WorkloadIdentityRG", "wi-demo-identity"],
    );
    assert!(arm.starts_with("ERROR 403 AuthorizationFailed"), "{arm}");
}
