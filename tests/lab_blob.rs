//! The lab's Blob service, driven by clients we did not write: Python azure-storage-blob with
//! azure-identity's WorkloadIdentityCredential "as the pod" of seed 001 (the cats API, which
//! reads blobs and signs SAS URLs with a user delegation key).

mod common;

use std::process::{Command, Output};

const TENANT: &str = "8f3c2a10-5b7e-4c1d-9a2f-6e4b1d0c7a93";
const CLIENT_ID: &str = "a7d3f1c9-5e2b-4b8d-9f6a-1c4e7b0d3a52";

const SCRIPT: &str = r#"
import datetime, sys
from azure.identity import WorkloadIdentityCredential
from azure.storage.blob import BlobServiceClient
from azure.core.exceptions import HttpResponseError
svc = BlobServiceClient("https://davydscats.blob.core.windows.net", credential=WorkloadIdentityCredential())
cats = svc.get_container_client("cats")
names = [b.name for b in cats.list_blobs()]
print("LIST", ",".join(names))
print("READ", cats.download_blob(names[0]).readall().decode())
now = datetime.datetime.now(datetime.timezone.utc)
try:
    key = svc.get_user_delegation_key(now, now + datetime.timedelta(hours=1))
    print("UDK", key.signed_service, key.signed_tid, len(key.value) > 0)
except HttpResponseError as e:
    print("UDK-DENIED", e.status_code, e.error_code)
"#;

async fn run_as_cats_api(world: &str) -> (Output, widiag::lab::LabHandle) {
    let lab = common::spawn_lab(world);
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("azure-identity-token");
    std::fs::write(
        &token_file,
        common::mint_token(&lab, "default", "cats-api-sa").await,
    )
    .unwrap();
    let env = common::client_env(&lab, dir.path());
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .args(["-c", SCRIPT])
            .envs(env)
            .env("AZURE_CLIENT_ID", CLIENT_ID)
            .env("AZURE_TENANT_ID", TENANT)
            .env("AZURE_FEDERATED_TOKEN_FILE", &token_file)
            .env_remove("AZURE_AUTHORITY_HOST")
            .output()
            .expect("python3 with azure-storage-blob (scripts/test installs it)")
    })
    .await
    .unwrap();
    (out, lab)
}

#[tokio::test]
#[ignore = "needs python3 with the Azure SDKs: ./scripts/test installs them and runs ignored tests"]
async fn the_sdk_lists_reads_and_gets_a_delegation_key_as_the_healthy_pod() {
    let (out, lab) = run_as_cats_api("seed-001-healthy").await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "LIST lab-blob.txt",
            "READ lab-value-of-davydscats-cats-lab-blob.txt",
            &*format!("UDK b {TENANT} True"),
        ]
    );
    let blob: Vec<_> = lab
        .requests()
        .into_iter()
        .filter(|r| r.host == "davydscats.blob.core.windows.net")
        .map(|r| (r.method, r.status))
        .collect();
    assert_eq!(
        blob,
        [
            ("GET".into(), 200),
            ("GET".into(), 206),
            ("POST".into(), 200)
        ],
        "one call each (the download in a range), authorised with the bearer token on the first try"
    );
}

#[tokio::test]
#[ignore = "needs python3 with the Azure SDKs: ./scripts/test installs them and runs ignored tests"]
async fn a_role_on_the_container_cannot_mint_a_user_delegation_key() {
    let (out, _lab) = run_as_cats_api("seed-001-container-scope").await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("LIST lab-blob.txt"), "{stdout}");
    assert!(
        stdout.contains("UDK-DENIED 403 AuthorizationPermissionMismatch"),
        "{stdout}"
    );
}
