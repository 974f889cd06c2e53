//! The TokenRequest subresource and the issuer's discovery document (kubernetes
//! pkg/registry/core/serviceaccount/storage/token.go and pkg/serviceaccount/claims.go).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::protobuf;
use super::resources::{name_of, namespace_of};
use super::status::status;
use crate::lab::keys::SigningKey;

pub fn discovery(issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "jwks_uri": format!("{}/openid/v1/jwks", issuer.trim_end_matches('/')),
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    })
}

struct Spec {
    audiences: Vec<String>,
    expiration: i64,
    bound: Option<(String, String)>,
}

/// The request's spec, or the message of a 400 for a body that is neither protobuf nor JSON.
fn spec(body: &[u8]) -> Result<Spec, String> {
    if let Some(p) = protobuf::token_request(body) {
        return Ok(Spec {
            audiences: p.audiences,
            expiration: p.expiration_seconds.unwrap_or(3600),
            bound: p.bound_kind.zip(p.bound_name),
        });
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| format!("the body of the request was in an unknown format: {e}"))?;
    let s = &v["spec"];
    Ok(Spec {
        audiences: s["audiences"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        expiration: s["expirationSeconds"].as_i64().unwrap_or(3600),
        bound: s["boundObjectRef"]["kind"]
            .as_str()
            .zip(s["boundObjectRef"]["name"].as_str())
            .map(|(k, n)| (k.to_string(), n.to_string())),
    })
}

pub fn token_request(
    key: &SigningKey,
    issuer: &str,
    sa: &Value,
    pods: &[Value],
    body: &[u8],
) -> Response {
    let spec = match spec(body) {
        Ok(s) => s,
        Err(m) => return status(StatusCode::BAD_REQUEST, "BadRequest", m, None, None),
    };
    let (ns, name) = (namespace_of(sa), name_of(sa));
    if spec.expiration < 600 {
        return status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            format!(
                "TokenRequest.authentication.k8s.io \"\" is invalid: spec.expirationSeconds: Invalid value: {}: may not specify a duration less than 10 minutes",
                spec.expiration
            ),
            Some("TokenRequest"),
            None,
        );
    }
    let audiences = if spec.audiences.is_empty() {
        vec![issuer.to_string()]
    } else {
        spec.audiences
    };
    let minted = match mint(
        key,
        issuer,
        sa,
        pods,
        audiences,
        spec.expiration,
        spec.bound,
    ) {
        Ok(m) => m,
        Err(r) => return *r,
    };
    let Minted {
        token,
        claims,
        bound_ref,
        now,
        exp,
    } = minted;
    let expires = jiff::Timestamp::from_second(exp)
        .map(|t| t.to_string())
        .unwrap_or_default();
    let mut spec_out = json!({"audiences": claims["aud"], "expirationSeconds": spec.expiration});
    if !bound_ref.is_null() {
        spec_out["boundObjectRef"] = bound_ref;
    }
    let body = json!({
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": name, "namespace": ns, "uid": sa["metadata"]["uid"], "creationTimestamp": jiff::Timestamp::from_second(now).map(|t| t.to_string()).unwrap_or_default()},
        "spec": spec_out,
        "status": {"token": token, "expirationTimestamp": expires},
    });
    (
        StatusCode::CREATED,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// A service-account token and what the TokenRequest answer says of it.
pub struct Minted {
    pub token: String,
    claims: Value,
    bound_ref: Value,
    now: i64,
    exp: i64,
}

/// Signs a token for ServiceAccount `sa`, bound to a pod when `bound` names one, as
/// kube-apiserver does for a TokenRequest (and the kubelet's projected volume).
pub fn mint(
    key: &SigningKey,
    issuer: &str,
    sa: &Value,
    pods: &[Value],
    audiences: Vec<String>,
    expiration: i64,
    bound: Option<(String, String)>,
) -> Result<Minted, Box<Response>> {
    let (ns, name) = (namespace_of(sa), name_of(sa));
    let now = jiff::Timestamp::now().as_second();
    let exp = now + expiration;
    let mut k8s =
        json!({"namespace": ns, "serviceaccount": {"name": name, "uid": sa["metadata"]["uid"]}});
    let mut bound_ref = Value::Null;
    if let Some((kind, pod_name)) = bound {
        if kind != "Pod" {
            return Err(Box::new(status(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                format!("cannot bind token to object of type {kind}"),
                None,
                None,
            )));
        }
        let Some(pod) = pods
            .iter()
            .find(|p| name_of(p) == pod_name && namespace_of(p) == ns)
        else {
            return Err(Box::new(super::status::not_found("pods", &pod_name)));
        };
        let pod_sa = pod["spec"]["serviceAccountName"]
            .as_str()
            .unwrap_or("default");
        if pod_sa != name {
            return Err(Box::new(status(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                format!(
                    "cannot bind token for serviceaccount \"{name}\" to pod running with different serviceaccount name."
                ),
                None,
                None,
            )));
        }
        k8s["pod"] = json!({"name": pod_name, "uid": pod["metadata"]["uid"]});
        if let Some(node) = pod["spec"]["nodeName"].as_str() {
            k8s["node"] = json!({"name": node, "uid": format!("{:0>8}-0000-4000-8000-000000000000", node.len())});
        }
        bound_ref = json!({"kind": "Pod", "apiVersion": "v1", "name": pod_name, "uid": pod["metadata"]["uid"]});
    }
    let claims = json!({
        "aud": audiences,
        "exp": exp,
        "iat": now,
        "nbf": now,
        "iss": issuer,
        "jti": format!("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", now, exp % 0xffff, now % 0xfff, exp % 0xfff, now),
        "kubernetes.io": k8s,
        "sub": format!("system:serviceaccount:{ns}:{name}"),
    });
    let token = key.sign(&claims).map_err(|e| {
        Box::new(status(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            e.to_string(),
            None,
            None,
        ))
    })?;
    Ok(Minted {
        token,
        claims,
        bound_ref,
        now,
        exp,
    })
}
