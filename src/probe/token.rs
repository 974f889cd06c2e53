//! The token a pod presents: a TokenRequest for its ServiceAccount with the audience and
//! lifetime of its projected volume, bound to the pod, as the kubelet asks for it. The only
//! write widiag makes; the API server stores nothing for it.

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
    let resp = api
        .create_token_request(&plan.service_account, &PostParams::default(), &tr)
        .await
        .map_err(|e| match e {
            kube::Error::Api(s) if s.code == 403 => format!(
                "403 {}: widiag needs `create serviceaccounts/token` in namespace {}",
                s.message, plan.namespace
            ),
            kube::Error::Api(s) => format!("{} {}: {}", s.code, s.reason, s.message),
            e => e.to_string(),
        })?;
    resp.status
        .map(|s| PodToken(s.token))
        .filter(|t| !t.0.is_empty())
        .ok_or_else(|| "the API server returned no token".into())
}
