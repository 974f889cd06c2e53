//! The lab's Entra token endpoint, driven by the Python azure-identity SDK's
//! WorkloadIdentityCredential "as the pod": real host names through the lab proxy, a projected
//! token minted by the lab's Kubernetes API, and the AADSTS codes of the faulted worlds.

mod common;

use std::process::{Command, Output};

use widiag::lab::LabHandle;
use widiag::lab::keys::SigningKey;

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

/// The lab's token endpoint over edge-cases.yaml, called directly (no SDK, no proxy).
struct Endpoint {
    world: widiag::world::World,
    dir: widiag::lab::entra::Directory,
    issuer_key: SigningKey,
    entra_key: SigningKey,
}

/// The cluster issuer of edge-cases.yaml, the one the lab serves.
const EDGE_ISSUER: &str = "https://eastus.oic.prod-aks.azure.com/8f3c2a10-5b7e-4c1d-9a2f-6e4b1d0c7a93/2c8e4a6f-1d3b-4f9e-a5c7-8b0d2e4f6a19/";

impl Endpoint {
    fn new() -> Endpoint {
        let world = common::load(&common::root().join("assets/worlds/edge-cases.yaml"));
        let tenant = widiag::lab::entra::Directory::home_tenant(&world);
        let (reader, operator) = (
            widiag::lab::entra::Reader::generate(tenant.clone()),
            widiag::lab::entra::Reader::generate(tenant),
        );
        let dir = widiag::lab::entra::Directory::new(
            &world,
            &widiag::lab::behaviour::of(&world).unwrap(),
            &reader,
            &operator,
        );
        Endpoint {
            world,
            dir,
            issuer_key: SigningKey::generate().unwrap(),
            entra_key: SigningKey::generate().unwrap(),
        }
    }

    /// The client ID of the world's identity `name`.
    fn client(&self, name: &str) -> String {
        self.world
            .azure
            .identities
            .iter()
            .find(|i| i.name == name)
            .unwrap()
            .client_id
            .clone()
            .unwrap()
    }

    /// Status, first AADSTS code (0 on success) and body of a client-assertion request.
    async fn post(
        &self,
        tenant: &str,
        client_id: &str,
        jwt: &str,
    ) -> (u16, u64, serde_json::Value) {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", client_id)
            .append_pair("grant_type", "client_credentials")
            .append_pair("scope", "https://vault.azure.net/.default")
            .append_pair(
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            )
            .append_pair("client_assertion", jwt)
            .finish();
        let lab_issuer = widiag::lab::entra::Issuer {
            url: EDGE_ISSUER,
            key: &self.issuer_key,
            behaviour: None,
        };
        let r = widiag::lab::entra::token(
            &self.dir,
            &lab_issuer,
            &self.entra_key,
            tenant,
            body.as_bytes(),
        );
        let status = r.status().as_u16();
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        (status, v["error_codes"][0].as_u64().unwrap_or(0), v)
    }
}

/// A client assertion's claims and the key that signs it; each case changes what it tests.
#[derive(Clone, Copy)]
struct Assertion<'a> {
    key: &'a SigningKey,
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

impl Assertion<'_> {
    fn sign(self) -> String {
        let claims = serde_json::json!({"iss": self.iss, "sub": self.sub, "aud": [self.aud],
                                        "iat": self.iat, "nbf": self.iat, "exp": self.exp});
        self.key.sign(&claims).unwrap()
    }
}

/// The remaining validation rules, each with the code Entra answers.
#[tokio::test]
#[expect(
    clippy::too_many_lines,
    reason = "one row per validation rule: the rules and their AADSTS codes read as one table"
)]
async fn every_validation_rule_has_its_aadsts_code() {
    let e = Endpoint::new();
    let stranger = SigningKey::generate().unwrap();
    let now = jiff::Timestamp::now().as_second();
    let valid = Assertion {
        key: &e.issuer_key,
        iss: EDGE_ISSUER,
        sub: "system:serviceaccount:apps:skip-sa",
        aud: "api://AzureADTokenExchange",
        iat: now,
        exp: now + 3600,
    };
    let ok = valid.sign();
    let (status, _, v) = e.post(TENANT, &e.client("id-skip"), &ok).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    let cases = [
        (TENANT, e.client("id-wrong"), ok.clone(), 70025),
        (
            TENANT,
            e.client("id-case"),
            Assertion {
                sub: "system:serviceaccount:apps:case-sa",
                ..valid
            }
            .sign(),
            7002138,
        ),
        (
            TENANT,
            e.client("id-audience"),
            Assertion {
                sub: "system:serviceaccount:apps:aud-sa",
                aud: "https://kubernetes.default.svc",
                ..valid
            }
            .sign(),
            700212,
        ),
        (
            TENANT,
            e.client("id-skip"),
            Assertion {
                iat: now - 7200,
                exp: now - 3600,
                ..valid
            }
            .sign(),
            700024,
        ),
        (
            TENANT,
            e.client("id-skip"),
            Assertion {
                exp: now + 86400 * 2,
                ..valid
            }
            .sign(),
            70023,
        ),
        (
            TENANT,
            e.client("id-skip"),
            Assertion {
                key: &stranger,
                ..valid
            }
            .sign(),
            700027,
        ),
        (
            TENANT,
            e.client("id-crowded"),
            Assertion {
                iss: "https://eastus.oic.prod-aks.azure.com/8f3c2a10-5b7e-4c1d-9a2f-6e4b1d0c7a93/00000000-0000-4000-a000-000000003000/",
                sub: "system:serviceaccount:apps:crowded-sa",
                ..valid
            }
            .sign(),
            90061,
        ),
        (
            "0d4b8e2f-6a1c-4f9e-b3d7-5c8a2e6f0b94",
            e.client("id-skip"),
            ok.clone(),
            90002,
        ),
        ("not a tenant", e.client("id-skip"), ok.clone(), 900023),
        (
            TENANT,
            "00000000-0000-4000-8000-000000000000".to_string(),
            ok.clone(),
            700016,
        ),
        (TENANT, e.client("id-skip"), "not.a.jwt".to_string(), 50027),
    ];
    for (tenant, client_id, jwt, want) in cases {
        let (status, got, v) = e.post(tenant, &client_id, &jwt).await;
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

/// Runs a Python script as the lab's reader (its proxy, CA and client secret in the env), with
/// `args` and extra env.
async fn as_reader(
    lab: &LabHandle,
    script: &'static str,
    args: &[&str],
    extra: &[(&str, &str)],
) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut env = common::lab_env(lab, dir.path());
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    python(env, script, args).await
}

/// `python3 -c script args` with `env`, the blocking call off the test's runtime.
async fn python(env: Vec<(String, String)>, script: &'static str, args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(ToString::to_string).collect();
    tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .args(["-c", script])
            .args(args)
            .envs(env)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

const READER_SCRIPT: &str = r#"
import os, sys
import msal
from azure.identity import ClientSecretCredential
from azure.core.exceptions import ClientAuthenticationError
tenant, client, secret = os.environ["AZURE_TENANT_ID"], os.environ["AZURE_CLIENT_ID"], os.environ["AZURE_CLIENT_SECRET"]
try:
    t = ClientSecretCredential(tenant, client, secret).get_token("https://management.azure.com/.default")
    print("SDK", len(t.token) > 100)
except ClientAuthenticationError as e:
    print("SDK-ERROR", e.message)
app = msal.ConfidentialClientApplication(client, authority="https://login.microsoftonline.com/" + tenant, client_credential=secret)
r = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
print("MSAL", "access_token" in r, r.get("error", ""), r.get("error_codes", ""))
"#;

/// Sign-in as the lab's reader with clients that read Entra's discovery first (issue 21): the
/// Python SDK's ClientSecretCredential and MSAL for Python, unmodified. A tenant Entra does not
/// know fails in discovery with AADSTS90002, as real Entra answers.
#[tokio::test]
#[ignore = "needs python3 with the Azure SDKs: ./scripts/test installs them and runs ignored tests"]
async fn msal_and_the_sdk_sign_in_through_discovery() {
    let lab = common::spawn_lab("seed-004-healthy");
    let ok = as_reader(&lab, READER_SCRIPT, &[], &[]).await;
    let out = text(&ok);
    assert!(
        out.contains("SDK True") && out.contains("MSAL True"),
        "{out}"
    );
    let discovery: Vec<u16> = lab
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/v2.0/.well-known/openid-configuration"))
        .map(|r| r.status)
        .collect();
    assert!(
        !discovery.is_empty() && discovery.iter().all(|s| *s == 200),
        "{discovery:?}"
    );

    let bad = as_reader(
        &lab,
        READER_SCRIPT,
        &[],
        &[("AZURE_TENANT_ID", "00000000-1111-2222-3333-444444444444")],
    )
    .await;
    let out = text(&bad);
    assert!(out.contains("SDK-ERROR"), "{out}");
    assert!(
        lab.requests().iter().any(
            |r| r.path.starts_with("/00000000-1111-2222-3333-444444444444/") && r.status == 400
        ),
        "discovery refuses the unknown tenant"
    );
}

const ARM_GET_SCRIPT: &str = r#"
import os, sys, json
import msal, requests
tenant, client, secret = os.environ["AZURE_TENANT_ID"], os.environ["AZURE_CLIENT_ID"], os.environ["AZURE_CLIENT_SECRET"]
app = msal.ConfidentialClientApplication(client, authority="https://login.microsoftonline.com/" + tenant, client_credential=secret)
# The Azure CLI's ARM scope: audience https://management.core.windows.net/.
token = app.acquire_token_for_client(scopes=["https://management.core.windows.net//.default"])["access_token"]
h = {"Authorization": "Bearer " + token}
for rid in sys.argv[1:]:
    r = requests.get("https://management.azure.com" + rid, params={"api-version": "2023-01-31"}, headers=h)
    body = r.json()
    print(r.status_code, body.get("name") or body.get("error", {}).get("code"))
"#;

/// ARM as `az identity show` and the SDKs' `get` use it (issue 21): one resource by its id
/// (resource group in any case, as ARM compares ids), a token for the CLI's classic audience
/// accepted, and ARM's ResourceNotFound for an id the subscription does not hold. Driven by MSAL
/// and requests, unmodified.
#[tokio::test]
#[ignore = "needs python3 with the Azure SDKs: ./scripts/test installs them and runs ignored tests"]
async fn arm_serves_one_resource_by_id() {
    let lab = common::spawn_lab("seed-004-healthy");
    let out = as_reader(
        &lab,
        ARM_GET_SCRIPT,
        &[
            "/subscriptions/2b6d9c4e-1f3a-4e8b-b7c5-0d9a8e6f4c21/resourceGroups/WORKLOADIDENTITYRG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/wi-demo-identity",
            "/subscriptions/2b6d9c4e-1f3a-4e8b-b7c5-0d9a8e6f4c21/resourceGroups/WorkloadIdentityRG/providers/Microsoft.KeyVault/vaults/wilab4521",
            "/subscriptions/2b6d9c4e-1f3a-4e8b-b7c5-0d9a8e6f4c21/resourceGroups/WorkloadIdentityRG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/nope",
        ],
        &[],
    )
    .await;
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .collect::<Vec<_>>(),
        [
            "200 wi-demo-identity",
            "200 wilab4521",
            "404 ResourceNotFound"
        ],
        "{t}"
    );
}

const GRAPH_SCRIPT: &str = r#"
import os, sys, json
import msal, requests
tenant, client, secret = os.environ["AZURE_TENANT_ID"], os.environ["AZURE_CLIENT_ID"], os.environ["AZURE_CLIENT_SECRET"]
app = msal.ConfidentialClientApplication(client, authority="https://login.microsoftonline.com/" + tenant, client_credential=secret)
h = {"Authorization": "Bearer " + app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])["access_token"]}
g = "https://graph.microsoft.com/v1.0"
# What `az role assignment list --assignee <client id>` asks first, then getByIds.
sps = requests.get(g + "/servicePrincipals", params={"$filter": "servicePrincipalNames/any(c:c eq '" + sys.argv[1] + "')"}, headers=h).json()["value"]
print(len(sps), sps[0]["servicePrincipalType"], sps[0]["id"])
r = requests.post(g + "/directoryObjects/getByIds", json={"ids": [sps[0]["id"]], "types": ["servicePrincipal"]}, headers=h)
print(r.status_code, [o["@odata.type"] + " " + o["displayName"] for o in r.json()["value"]])
w = requests.delete(g + "/servicePrincipals/" + sps[0]["id"], headers=h)
print(w.status_code)
"#;

/// Graph as the Azure CLI resolves an assignee (issue 21): a user-assigned identity has the
/// service principal Entra creates for it (type ManagedIdentity, its client ID as appId), found
/// by `servicePrincipalNames/any(...)`, and `directoryObjects/getByIds` returns it; the reader's
/// write is refused as Graph refuses a principal without the permission (403).
#[tokio::test]
#[ignore = "needs python3 with the Azure SDKs: ./scripts/test installs them and runs ignored tests"]
async fn graph_has_service_principals_for_managed_identities() {
    let lab = common::spawn_lab("seed-004-healthy");
    let out = as_reader(
        &lab,
        GRAPH_SCRIPT,
        &["5e2a8c1d-3b7f-4a9e-b0c6-d4f1e8a2b975"],
        &[],
    )
    .await;
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .collect::<Vec<_>>(),
        [
            "1 ManagedIdentity 0c7f3e2a-9d1b-4a6c-8e5f-2b4d6a8c0e19",
            "200 ['#microsoft.graph.servicePrincipal wi-demo-identity']",
            "403"
        ],
        "{t}"
    );
}

const ROLES_SCRIPT: &str = r#"
import os, sys
import msal, requests
tenant, client, secret = os.environ["AZURE_TENANT_ID"], os.environ["AZURE_CLIENT_ID"], os.environ["AZURE_CLIENT_SECRET"]
app = msal.ConfidentialClientApplication(client, authority="https://login.microsoftonline.com/" + tenant, client_credential=secret)
h = {"Authorization": "Bearer " + app.acquire_token_for_client(scopes=["https://management.azure.com/.default"])["access_token"]}
base = "https://management.azure.com/subscriptions/" + sys.argv[1] + "/providers/Microsoft.Authorization/roleDefinitions"
v = {"api-version": "2022-04-01"}
by_name = requests.get(base, params={**v, "$filter": "roleName eq 'Key Vault Secrets User'"}, headers=h).json()["value"]
print(len(by_name), by_name[0]["name"], by_name[0]["properties"]["type"], by_name[0]["properties"]["permissions"][0]["dataActions"][0])
one = requests.get(base + "/4633458b-17de-408a-b874-0445c86b69e6", params=v, headers=h)
print(one.status_code, one.json()["properties"]["roleName"])
none = requests.get(base + "/00000000-0000-0000-0000-000000000001", params=v, headers=h)
print(none.status_code, none.json()["error"]["code"])
custom = requests.get(base, params={**v, "$filter": "type eq 'CustomRole'"}, headers=h).json()["value"]
print(len(custom))
"#;

/// Role definitions as `az role definition list --name` and `az role assignment list` read them
/// (issue 21): the built-in roles from the lab's pinned dump by name and by GUID, ARM's
/// RoleDefinitionDoesNotExist for an unknown GUID, and no built-in among the custom ones.
#[tokio::test]
#[ignore = "needs python3 with the Azure SDKs: ./scripts/test installs them and runs ignored tests"]
async fn arm_serves_built_in_role_definitions() {
    let lab = common::spawn_lab("seed-004-healthy");
    let out = as_reader(
        &lab,
        ROLES_SCRIPT,
        &["2b6d9c4e-1f3a-4e8b-b7c5-0d9a8e6f4c21"],
        &[],
    )
    .await;
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .collect::<Vec<_>>(),
        [
            "1 4633458b-17de-408a-b874-0445c86b69e6 BuiltInRole Microsoft.KeyVault/vaults/secrets/getSecret/action",
            "200 Key Vault Secrets User",
            "404 RoleDefinitionDoesNotExist",
            "0"
        ],
        "{t}"
    );
}

const MSAL_ASSERTION_SCRIPT: &str = r#"
import json, os
import msal
# A callable, as MSAL asks, so it reads a fresh token when the old one expires.
token = lambda: open(os.environ["AZURE_FEDERATED_TOKEN_FILE"]).read()
app = msal.ConfidentialClientApplication(
    os.environ["AZURE_CLIENT_ID"],
    authority="https://login.microsoftonline.com/" + os.environ["AZURE_TENANT_ID"],
    client_credential={"client_assertion": token})
r = app.acquire_token_for_client(scopes=["https://vault.azure.net/.default"])
if "access_token" in r:
    print("OK", r["token_type"], r["expires_in"] > 0)
else:
    print("ERROR", json.dumps({k: r.get(k) for k in
        ("error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id", "error_uri")}))
"#;

/// MSAL for Python as a pod signs in with its projected token as the client assertion (issue 21),
/// unmodified: discovery, then the v2 token endpoint. A faulted world's refusal carries every
/// field of Entra's error body, with the AADSTS code in `error_codes`.
#[tokio::test]
#[ignore = "needs python3 with the Azure SDKs: ./scripts/test installs them and runs ignored tests"]
async fn msal_signs_in_with_the_pods_token_as_client_assertion() {
    async fn run(world: &str, ns: &str) -> String {
        let lab = common::spawn_lab(world);
        let dir = tempfile::tempdir().unwrap();
        let mut env = common::client_env(&lab, dir.path());
        let pod_env = lab
            .write_pod_files(dir.path(), ns, "wi-kv-test")
            .unwrap()
            .expect("pod");
        env.extend(common::read_env(&pod_env));
        let out = python(env, MSAL_ASSERTION_SCRIPT, &[]).await;
        drop(dir);
        text(&out).trim().to_string()
    }
    assert_eq!(run("seed-004-healthy", "default").await, "OK Bearer True");
    let refused = run("seed-004-fic-namespace", "apps").await;
    let body: serde_json::Value = serde_json::from_str(
        refused
            .strip_prefix("ERROR ")
            .unwrap_or_else(|| panic!("{refused}")),
    )
    .unwrap();
    assert_eq!(body["error"], "invalid_client", "{body}");
    assert_eq!(body["error_codes"], serde_json::json!([700213]), "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS700213:"),
        "{body}"
    );
    for field in ["timestamp", "trace_id", "correlation_id", "error_uri"] {
        assert!(body[field].is_string(), "{field} missing: {body}");
    }
}
