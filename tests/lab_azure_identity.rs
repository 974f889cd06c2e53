//! The Rust azure_identity WorkloadIdentityCredential, a client we did not write, "as the pod"
//! against the lab: a lab-minted projected token, Entra by its real host name through the
//! lab's proxy and CA, and the real AADSTS code when the credential's subject is wrong.

mod common;

use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use azure_identity::{WorkloadIdentityCredential, WorkloadIdentityCredentialOptions};
use widiag::net::http::{Http, Network};

const TENANT: &str = "8f3c2a10-5b7e-4c1d-9a2f-6e4b1d0c7a93";
const CLIENT_ID: &str = "5e2a8c1d-3b7f-4a9e-b0c6-d4f1e8a2b975";

async fn get_vault_token(world: &str, ns: &str) -> azure_core::Result<String> {
    let lab = common::spawn_lab(world);
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("azure-identity-token");
    std::fs::write(
        &token_file,
        common::mint_token(&lab, ns, "wi-demo-sa").await,
    )
    .unwrap();
    let http = Http::new(
        std::time::Duration::from_secs(10),
        &Network {
            proxy: Some(format!("http://{}", lab.proxy_addr)),
            ca_pem: Some(lab.ca_pem.clone()),
        },
    )
    .unwrap();
    let mut options = WorkloadIdentityCredentialOptions {
        client_id: Some(CLIENT_ID.into()),
        tenant_id: Some(TENANT.into()),
        token_file_path: Some(token_file),
        ..Default::default()
    };
    options.credential_options.client_options.transport =
        Some(azure_core::http::Transport::new(Arc::new(http.client())));
    let cred = WorkloadIdentityCredential::new(Some(options))?;
    let token = cred
        .get_token(&["https://vault.azure.net/.default"], None)
        .await?;
    Ok(token.token.secret().to_string())
}

#[tokio::test]
async fn the_rust_sdk_gets_a_key_vault_token_as_the_healthy_pod() {
    let token = get_vault_token("seed-004-healthy", "default")
        .await
        .unwrap();
    let claims: serde_json::Value =
        jsonwebtoken::dangerous::insecure_decode_claims(&token).unwrap();
    assert_eq!(claims["aud"], "https://vault.azure.net");
    assert_eq!(claims["tid"], TENANT);
    assert_eq!(claims["oid"], "0c7f3e2a-9d1b-4a6c-8e5f-2b4d6a8c0e19");
}

#[tokio::test]
async fn the_rust_sdk_sees_the_subject_mismatch_of_the_faulted_world() {
    // seed 004's FIC names namespace default; this world runs the pod in apps.
    let err = get_vault_token("seed-004-fic-namespace", "apps")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("AADSTS700213"), "{err}");
}
