//! The lab's Entra token endpoint, driven by the Python azure-identity SDK's
//! WorkloadIdentityCredential "as the pod": real host names through the lab proxy, a projected
//! token minted by the lab's Kubernetes API, and the AADSTS codes of the faulted worlds.

mod common;

use std::process::{Command, Output};

use widiag::lab::LabHandle;

const TENANT: &str = "8f3c2a10-5b7e-4c1d-9a2f-6e4b1d0c7a93";

const SCRIPT: &str = r#"
import base64, json, sys
from azure.identity import WorkloadIdentityCredential
from azure.core.exceptions import ClientAuthenticationError
try:
    token = WorkloadIdentityCredential().get_token("https://vault.azure.net/.default")
except ClientAuthenticationError as e:
    print("ERROR", e.message)
    sys.exit(3)
claims = json.loads(base64.urlsafe_b64decode(token.token.split(".")[1] + "=="))
print("OK", claims["aud"], claims["oid"], claims["tid"])
"#;

/// Runs the SDK as pod `ns/sa` of `world` would, with `client_id`.
async fn exchange(world: &str, ns: &str, sa: &str, client_id: &str) -> (Output, LabHandle) {
    let lab = common::spawn_lab(world);
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("azure-identity-token");
    std::fs::write(&token_file, common::mint_token(&lab, ns, sa).await).unwrap();
    let env = common::client_env(&lab, dir.path());
    let client_id = client_id.to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .args(["-c", SCRIPT])
            .envs(env)
            .env("AZURE_CLIENT_ID", &client_id)
            .env("AZURE_TENANT_ID", TENANT)
            .env("AZURE_FEDERATED_TOKEN_FILE", &token_file)
            .env_remove("AZURE_AUTHORITY_HOST")
            .output()
            .expect("python3 with azure-identity (scripts/test installs it)")
    })
    .await
    .unwrap();
    (out, lab)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test]
#[ignore = "needs python3 with the Azure SDKs: ./scripts/test installs them and runs ignored tests"]
async fn the_sdk_gets_a_key_vault_token_as_the_healthy_pod() {
    let (out, lab) = exchange(
        "seed-004-healthy",
        "default",
        "wi-demo-sa",
        "5e2a8c1d-3b7f-4a9e-b0c6-d4f1e8a2b975",
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("OK https://vault.azure.net 0c7f3e2a-9d1b-4a6c-8e5f-2b4d6a8c0e19 {TENANT}")
    );
    let posts: Vec<_> = lab
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/oauth2/v2.0/token"))
        .collect();
    assert_eq!(posts.len(), 1);
    assert_eq!(
        (posts[0].path.as_str(), posts[0].status),
        (&*format!("/{TENANT}/oauth2/v2.0/token"), 200)
    );
    assert!(
        posts[0].user_agent.starts_with("azsdk-python-identity/"),
        "{}",
        posts[0].user_agent
    );
}

/// Runs the SDK as the pod and returns its output, asserting it failed with AADSTS `code`.
async fn expect_aadsts(world: &str, ns: &str, sa: &str, client_id: &str, code: u32) -> String {
    let (out, _lab) = exchange(world, ns, sa, client_id).await;
    let t = text(&out);
    assert_eq!(out.status.code(), Some(3), "{t}");
    assert!(t.contains(&format!("AADSTS{code}")), "{t}");
    t
}

#[tokio::test]
#[ignore = "needs python3 with the Azure SDKs: ./scripts/test installs them and runs ignored tests"]
async fn a_credential_for_another_namespace_is_aadsts700213() {
    let client = "5e2a8c1d-3b7f-4a9e-b0c6-d4f1e8a2b975";
    let t = expect_aadsts(
        "seed-004-fic-namespace",
        "apps",
        "wi-demo-sa",
        client,
        700213,
    )
    .await;
    assert!(t.contains("system:serviceaccount:apps:wi-demo-sa"), "{t}");
}

#[tokio::test]
#[ignore = "needs python3 with the Azure SDKs: ./scripts/test installs them and runs ignored tests"]
async fn a_principal_id_as_client_id_is_aadsts700016() {
    let client = "e2b5c8f1-4a7d-4e0b-8c3f-9d6a2e5b1c74";
    expect_aadsts(
        "seed-001-principal-id",
        "default",
        "cats-api-sa",
        client,
        700016,
    )
    .await;
}

#[tokio::test]
#[ignore = "needs python3 with the Azure SDKs: ./scripts/test installs them and runs ignored tests"]
async fn an_issuer_without_the_trailing_slash_is_aadsts700211() {
    let client = "3f8b2d6e-1a4c-4e9b-8d2f-7c5a0e3b9d61";
    expect_aadsts(
        "seed-000-fic-issuer-slash",
        "default",
        "workload-sa",
        client,
        700211,
    )
    .await;
}

/// The remaining validation rules, each with the code Entra answers.
#[tokio::test]
async fn every_validation_rule_has_its_aadsts_code() {
    use widiag::lab::entra::{Directory, token};
    use widiag::lab::keys::SigningKey;
    let world = common::load(&common::root().join("assets/worlds/edge-cases.yaml"));
    let issuer = "https://eastus.oic.prod-aks.azure.com/8f3c2a10-5b7e-4c1d-9a2f-6e4b1d0c7a93/2c8e4a6f-1d3b-4f9e-a5c7-8b0d2e4f6a19/";
    let dir = Directory::new(&world, &widiag::lab::behaviour::of(&world).unwrap());
    let (issuer_key, entra_key, stranger) = (
        SigningKey::generate().unwrap(),
        SigningKey::generate().unwrap(),
        SigningKey::generate().unwrap(),
    );
    let client = |name: &str| {
        world
            .azure
            .identities
            .iter()
            .find(|i| i.name == name)
            .unwrap()
            .client_id
            .clone()
            .unwrap()
    };
    let now = jiff::Timestamp::now().as_second();
    let assertion = |key: &SigningKey, iss: &str, sub: &str, aud: &str, iat: i64, exp: i64| {
        key.sign(&serde_json::json!({"iss": iss, "sub": sub, "aud": [aud], "iat": iat, "nbf": iat, "exp": exp})).unwrap()
    };
    let body = |client_id: &str, jwt: &str| {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", client_id)
            .append_pair("grant_type", "client_credentials")
            .append_pair("scope", "https://vault.azure.net/.default")
            .append_pair(
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            )
            .append_pair("client_assertion", jwt)
            .finish()
    };
    let code = |tenant: &str, body: String| {
        let lab_issuer = widiag::lab::entra::Issuer {
            url: issuer,
            key: &issuer_key,
            behaviour: None,
        };
        let r = token(&dir, &lab_issuer, &entra_key, tenant, body.as_bytes());
        async move {
            let status = r.status().as_u16();
            let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
            let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            (status, v["error_codes"][0].as_u64().unwrap_or(0), v)
        }
    };
    let aud = "api://AzureADTokenExchange";
    let ok = assertion(
        &issuer_key,
        issuer,
        "system:serviceaccount:apps:skip-sa",
        aud,
        now,
        now + 3600,
    );
    let (status, _, v) = code(TENANT, body(&client("id-skip"), &ok)).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    let cases = [
        (TENANT, client("id-wrong"), ok.clone(), 70025),
        (
            TENANT,
            client("id-case"),
            assertion(
                &issuer_key,
                issuer,
                "system:serviceaccount:apps:case-sa",
                aud,
                now,
                now + 3600,
            ),
            7002138,
        ),
        (
            TENANT,
            client("id-audience"),
            assertion(
                &issuer_key,
                issuer,
                "system:serviceaccount:apps:aud-sa",
                "https://kubernetes.default.svc",
                now,
                now + 3600,
            ),
            700212,
        ),
        (
            TENANT,
            client("id-skip"),
            assertion(
                &issuer_key,
                issuer,
                "system:serviceaccount:apps:skip-sa",
                aud,
                now - 7200,
                now - 3600,
            ),
            700024,
        ),
        (
            TENANT,
            client("id-skip"),
            assertion(
                &issuer_key,
                issuer,
                "system:serviceaccount:apps:skip-sa",
                aud,
                now,
                now + 86400 * 2,
            ),
            70023,
        ),
        (
            TENANT,
            client("id-skip"),
            assertion(
                &stranger,
                issuer,
                "system:serviceaccount:apps:skip-sa",
                aud,
                now,
                now + 3600,
            ),
            700027,
        ),
        (
            TENANT,
            client("id-crowded"),
            assertion(
                &issuer_key,
                "https://eastus.oic.prod-aks.azure.com/8f3c2a10-5b7e-4c1d-9a2f-6e4b1d0c7a93/00000000-0000-4000-a000-000000003000/",
                "system:serviceaccount:apps:crowded-sa",
                aud,
                now,
                now + 3600,
            ),
            90061,
        ),
        (
            "0d4b8e2f-6a1c-4f9e-b3d7-5c8a2e6f0b94",
            client("id-skip"),
            ok.clone(),
            90002,
        ),
        ("not a tenant", client("id-skip"), ok.clone(), 900023),
        (
            TENANT,
            "00000000-0000-4000-8000-000000000000".to_string(),
            ok.clone(),
            700016,
        ),
        (TENANT, client("id-skip"), "not.a.jwt".to_string(), 50027),
    ];
    for (tenant, client_id, jwt, want) in cases {
        let (status, got, v) = code(tenant, body(&client_id, &jwt)).await;
        assert_eq!(got, want, "{v}");
        assert!(status == 400 || status == 401, "{status}");
        let d = v["error_description"].as_str().unwrap();
        assert!(
            d.starts_with(&format!("AADSTS{want}: "))
                && d.contains("Trace ID: ")
                && d.contains("Correlation ID: "),
            "{d}"
        );
        assert!(
            !d.contains(&jwt) || jwt.len() < 20,
            "the assertion is never echoed"
        );
    }
}

/// Seed 004's app (tests/apps/seed004_secrets.py, as the walkthrough writes it) run as its pod.
async fn run_seed004_app(world: &str) -> Output {
    let lab = common::spawn_lab(world);
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("azure-identity-token");
    std::fs::write(
        &token_file,
        common::mint_token(&lab, "default", "wi-demo-sa").await,
    )
    .unwrap();
    let env = common::client_env(&lab, dir.path());
    let apps = common::root().join("tests/apps");
    let out = tokio::task::spawn_blocking(move || {
        // The pod's env as the webhook injects it, plus the app's own.
        Command::new("python3")
            .arg(apps.join("run_once.py"))
            .arg(apps.join("seed004_secrets.py"))
            .envs(env)
            .env("AZURE_CLIENT_ID", "5e2a8c1d-3b7f-4a9e-b0c6-d4f1e8a2b975")
            .env("AZURE_TENANT_ID", TENANT)
            .env("AZURE_FEDERATED_TOKEN_FILE", &token_file)
            .env("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.com/")
            .env("KEY_VAULT_NAME", "wilab4521")
            .env("SECRET_NAME", "Secret")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let vault: Vec<_> = lab
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/secrets/"))
        .map(|r| r.status)
        .collect();
    assert_eq!(
        vault.first(),
        Some(&401),
        "the SDK's first request has no token and gets the challenge"
    );
    out
}

#[tokio::test]
#[ignore = "needs python3 with the Azure SDKs: ./scripts/test installs them and runs ignored tests"]
async fn seed_004_app_reads_its_secret_in_the_healthy_world() {
    let out = run_seed004_app("seed-004-healthy").await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .collect::<Vec<_>>(),
        [
            "Retrieving your secret from wilab4521.",
            "Secret value: lab-value-of-wilab4521-Secret"
        ]
    );
}

#[tokio::test]
#[ignore = "needs python3 with the Azure SDKs: ./scripts/test installs them and runs ignored tests"]
async fn seed_004_app_gets_forbidden_by_rbac_when_the_vault_uses_rbac() {
    let out = run_seed004_app("seed-004-rbac-vault").await;
    assert!(!out.status.success());
    let t = text(&out);
    assert!(
        t.contains("ForbiddenByRbac")
            && t.contains("Caller is not authorized to perform action on resource"),
        "{t}"
    );
}
