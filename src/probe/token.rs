//! The token a pod presents: a TokenRequest for its ServiceAccount with the audience and
//! lifetime of its projected volume, bound to the pod, as the kubelet asks for it (the only
//! write widiag makes; the API server stores nothing for it). When that is not allowed, the
//! file the pod itself reads (`AZURE_FEDERATED_TOKEN_FILE`), through pods/exec.

use k8s_openapi::api::authentication::v1::{BoundObjectReference, TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::Client;
use kube::api::{Api, PostParams};

use crate::analysis::plan::ExchangePlan;

/// The pod's own projected token, read from its file; held only in memory.
#[derive(Clone)]
pub struct OwnToken {
    pub pod: crate::world::ObjRef,
    pub path: std::path::PathBuf,
    pub jwt: String,
}

impl std::fmt::Debug for OwnToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "OwnToken({}, {}, <redacted>)",
            self.pod,
            self.path.display()
        )
    }
}

/// A compact JWT, held only in memory for the exchange.
pub struct PodToken(pub String);

impl std::fmt::Debug for PodToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PodToken(<redacted>)")
    }
}

/// Why no token was had, and the HTTP status the API server answered with, when it answered.
#[derive(Debug, Clone)]
pub struct Refused {
    pub message: String,
    pub status: Option<u16>,
}

impl Refused {
    fn new(message: impl Into<String>, status: Option<u16>) -> Self {
        Self {
            message: message.into(),
            status,
        }
    }
}

pub async fn request(client: &Client, plan: &ExchangePlan) -> Result<PodToken, Refused> {
    let api: Api<ServiceAccount> = Api::namespaced(client.clone(), &plan.namespace);
    let (pod, uid) = &plan.bind_to;
    let tr = TokenRequest {
        spec: TokenRequestSpec {
            audiences: vec![plan.audience.clone()],
            expiration_seconds: Some(plan.expiration),
            bound_object_ref: Some(BoundObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Pod".into()),
                name: Some(pod.clone()),
                uid: uid.clone(),
            }),
        },
        ..Default::default()
    };
    let params = PostParams::default();
    let (resp, attempts) = crate::net::kube_calls::retrying(|| {
        api.create_token_request(&plan.service_account, &params, &tr)
    })
    .await;
    let resp = resp.map_err(|e| match e {
        kube::Error::Api(s) if s.code == 403 => Refused::new(
            format!(
                "403 {}: widiag needs `create serviceaccounts/token` in namespace {}",
                s.message, plan.namespace
            ),
            Some(403),
        ),
        kube::Error::Api(s) => Refused::new(
            crate::net::kube_calls::api_error(&s, attempts),
            Some(s.code),
        ),
        e => Refused::new(crate::net::kube_calls::plain_error(&e), None),
    })?;
    resp.status
        .map(|s| PodToken(s.token))
        .filter(|t| !t.0.is_empty())
        .ok_or_else(|| Refused::new("the API server returned no token", Some(201)))
}

/// More than any service-account token; what a container prints beyond it is not read.
const MAX_TOKEN_BYTES: u64 = 64 * 1024;

/// `cat` of the webhook's token path in the pod's container, over pods/exec.
pub async fn exec(client: &Client, plan: &ExchangePlan) -> Result<PodToken, Refused> {
    use k8s_openapi::api::core::v1::Pod;
    use kube::api::AttachParams;
    use tokio::io::AsyncReadExt;
    let (container, path) = plan
        .token_file
        .as_ref()
        .ok_or_else(|| Refused::new("the pod has no AZURE_FEDERATED_TOKEN_FILE to read", None))?;
    let api: Api<Pod> = Api::namespaced(client.clone(), &plan.namespace);
    let params = AttachParams::default()
        .container(container.clone())
        .stdin(false)
        .stdout(true)
        .stderr(false);
    let mut attached = api
        .exec(&plan.bind_to.0, ["cat", path.as_str()], &params)
        .await
        .map_err(|e| match e {
            kube::Error::Api(s) if s.code == 403 => Refused::new(
                format!(
                    "403 {}: widiag needs `create serviceaccounts/token` or `create pods/exec` in namespace {}",
                    s.message, plan.namespace
                ),
                Some(403),
            ),
            kube::Error::Api(s) => Refused::new(format!("exec: {}", s.message), Some(s.code)),
            e => Refused::new(format!("exec: {}", crate::net::kube_calls::plain_error(&e)), None),
        })?;
    // The container writes what it likes: take at most a token's worth, and only a JWT.
    let mut out = String::new();
    if let Some(stdout) = attached.stdout() {
        stdout
            .take(MAX_TOKEN_BYTES)
            .read_to_string(&mut out)
            .await
            .map_err(|e| Refused::new(format!("exec: {e}"), Some(101)))?;
    }
    drop(attached);
    let token = out.trim().to_string();
    if token.is_empty() {
        return Err(Refused::new(
            format!("{path} in container {container} was empty"),
            Some(101),
        ));
    }
    let jwt_shaped = token.split('.').count() == 3
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    jwt_shaped.then_some(PodToken(token)).ok_or_else(|| {
        Refused::new(
            format!("{path} in container {container} does not hold a JWT"),
            Some(101),
        )
    })
}
