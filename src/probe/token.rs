//! The token a pod presents: a TokenRequest for its ServiceAccount with the audience and
//! lifetime of its projected volume, bound to the pod, as the kubelet asks for it (the only
//! write widiag makes; the API server stores nothing for it). When that is not allowed, the
//! file the pod itself reads (`AZURE_FEDERATED_TOKEN_FILE`), through pods/exec.

use k8s_openapi::api::authentication::v1::{BoundObjectReference, TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::Client;
use kube::api::{Api, PostParams};

use crate::analysis::plan::ExchangePlan;

/// A compact JWT, held only in memory for the exchange.
pub struct PodToken(pub String);

impl std::fmt::Debug for PodToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PodToken(<redacted>)")
    }
}

pub async fn request(client: &Client, plan: &ExchangePlan) -> Result<PodToken, String> {
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
    let (resp, attempts) = crate::collect::kube::retrying(|| {
        api.create_token_request(&plan.service_account, &params, &tr)
    })
    .await;
    let resp = resp.map_err(|e| match e {
        kube::Error::Api(s) if s.code == 403 => format!(
            "403 {}: widiag needs `create serviceaccounts/token` in namespace {}",
            s.message, plan.namespace
        ),
        kube::Error::Api(s) => crate::collect::kube::api_error(&s, attempts),
        e => e.to_string(),
    })?;
    resp.status
        .map(|s| PodToken(s.token))
        .filter(|t| !t.0.is_empty())
        .ok_or_else(|| "the API server returned no token".into())
}

/// `cat $AZURE_FEDERATED_TOKEN_FILE` in the pod's container, over pods/exec.
pub async fn exec(client: &Client, plan: &ExchangePlan) -> Result<PodToken, String> {
    use k8s_openapi::api::core::v1::Pod;
    use kube::api::AttachParams;
    use tokio::io::AsyncReadExt;
    let (container, path) = plan
        .token_file
        .as_ref()
        .ok_or("the pod has no AZURE_FEDERATED_TOKEN_FILE to read")?;
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
            kube::Error::Api(s) if s.code == 403 => format!(
                "403 {}: widiag needs `create serviceaccounts/token` or `create pods/exec` in namespace {}",
                s.message, plan.namespace
            ),
            e => format!("exec: {e}"),
        })?;
    let mut out = String::new();
    if let Some(mut stdout) = attached.stdout() {
        stdout
            .read_to_string(&mut out)
            .await
            .map_err(|e| format!("exec: {e}"))?;
    }
    let _ = attached.join().await;
    let token = out.trim().to_string();
    (!token.is_empty())
        .then_some(PodToken(token))
        .ok_or_else(|| format!("{path} in container {container} was empty"))
}
