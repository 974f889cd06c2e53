//! `kubectl auth can-i` and `auth whoami`: SelfSubjectAccessReview, SelfSubjectRulesReview and
//! SelfSubjectReview, answered from the
//! lab's users and their rules (`LabBehaviour.kubeUsers`) as kube-apiserver answers them from
//! RBAC. A request without a user is the lab's admin, allowed everything. kubectl sends the
//! review as protobuf, other clients as JSON; the answer is JSON, which every client reads.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::json_response;
use crate::lab::behaviour::KubeUser;

/// `POST .../selfsubjectaccessreviews`: the review with `status.allowed` filled in.
pub fn access(user: Option<&KubeUser>, body: &[u8]) -> Response {
    let parsed = serde_json::from_slice::<Value>(body).ok();
    let Some(mut review) = parsed.or_else(|| super::protobuf::access_review(body)) else {
        return bad_request("the body is not a SelfSubjectAccessReview");
    };
    let attrs = &review["spec"]["resourceAttributes"];
    let text = |k: &str| attrs[k].as_str().unwrap_or_default().to_string();
    let (verb, resource, sub, ns) = (
        text("verb"),
        text("resource"),
        text("subresource"),
        text("namespace"),
    );
    let resource = if sub.is_empty() {
        resource
    } else {
        format!("{resource}/{sub}")
    };
    let ns = (!ns.is_empty()).then_some(ns.as_str());
    let allowed = user.is_none_or(|u| u.allows(&verb, &resource, ns));
    review["status"] = if allowed {
        json!({"allowed": true, "reason": "allowed by the lab's rules"})
    } else {
        json!({"allowed": false})
    };
    json_response(StatusCode::CREATED, &review)
}

/// `POST .../selfsubjectrulesreviews`: the user's rules that apply in `spec.namespace`.
pub fn rules(user: Option<&KubeUser>, body: &[u8]) -> Response {
    let parsed = serde_json::from_slice::<Value>(body).ok();
    let Some(mut review) = parsed.or_else(|| super::protobuf::rules_review(body)) else {
        return bad_request("the body is not a SelfSubjectRulesReview");
    };
    let ns = review["spec"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let resource_rules: Vec<Value> = match user {
        None => vec![json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]})],
        Some(u) => u
            .allow
            .iter()
            .filter(|r| r.namespaces.is_empty() || r.namespaces.contains(&ns))
            .map(|r| json!({"verbs": r.verbs, "apiGroups": ["*"], "resources": r.resources}))
            .collect(),
    };
    review["status"] =
        json!({"resourceRules": resource_rules, "nonResourceRules": [], "incomplete": false});
    json_response(StatusCode::CREATED, &review)
}

/// `POST .../authentication.k8s.io/v1/selfsubjectreviews`: who the caller is. The review has no
/// spec, so any body is read as one.
pub fn whoami(user: Option<&KubeUser>) -> Response {
    let info = match user {
        None => {
            json!({"username": "widiag-lab-admin", "groups": ["system:masters", "system:authenticated"]})
        }
        Some(u) => json!({"username": u.name, "groups": ["system:authenticated"]}),
    };
    let review = json!({"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
                        "metadata": {"creationTimestamp": null}, "status": {"userInfo": info}});
    json_response(StatusCode::CREATED, &review)
}

fn bad_request(message: &str) -> Response {
    super::status::status(
        StatusCode::BAD_REQUEST,
        "BadRequest",
        message.into(),
        None,
        None,
    )
}
