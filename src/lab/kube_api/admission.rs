//! Mutating admission for pods the lab creates or is sent, as kube-apiserver runs it: each
//! MutatingWebhookConfiguration the lab holds now, each of its webhooks whose rules, namespace
//! selector and object selector take the pod, called in order. The lab can run one webhook,
//! azure-workload-identity's (`wi_mutation`); it is reachable when its Deployment has a ready
//! replica. Otherwise the configuration's failurePolicy decides, with kube-apiserver's words
//! (k8s.io/apiserver pkg/admission/plugin/webhook/mutating/dispatcher.go, errors.go).

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::selectors::selects;
use super::wi_mutation::{self, Config, CustomEndpoint};
use super::{name_of, namespace_of, status};
use crate::lab::server::State;

/// The webhook name in the chart and in AKS's add-on (deploy/azure-wi-webhook.yaml).
const WI_WEBHOOK: &str = "mutation.azure-workload-identity.io";

/// An API server's refusal of a create: status, reason and message.
#[derive(Debug)]
pub struct Refusal {
    pub code: StatusCode,
    pub reason: &'static str,
    pub message: String,
}

impl Refusal {
    pub fn response(&self) -> Response {
        status::status(
            self.code,
            self.reason,
            self.message.clone(),
            Some("pods"),
            None,
        )
    }
}

/// The pod after every webhook that takes it, or the API server's refusal.
pub fn admit_pod(state: &State, namespace: &str, pod: Value) -> Result<Value, Refusal> {
    let ns_labels = namespace_labels(state, namespace);
    let mut pod = pod;
    for config in state.objects_of_kind(
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
    ) {
        for hook in config["webhooks"].as_array().into_iter().flatten() {
            if hook["name"] != WI_WEBHOOK
                || !takes_pod_creates(hook)
                || !selects(&hook["namespaceSelector"], &ns_labels)
                || !selects(&hook["objectSelector"], &pod["metadata"]["labels"])
            {
                continue;
            }
            pod = call(state, hook, namespace, pod)?;
        }
    }
    Ok(pod)
}

fn call(state: &State, hook: &Value, namespace: &str, pod: Value) -> Result<Value, Refusal> {
    let service = &hook["clientConfig"]["service"];
    let Some(config) = backend(state, service["namespace"].as_str().unwrap_or_default()) else {
        // failurePolicy defaults to Fail in admissionregistration/v1.
        if hook["failurePolicy"] == "Ignore" {
            return Ok(pod);
        }
        let (svc, svc_ns) = (
            service["name"].as_str().unwrap_or_default(),
            service["namespace"].as_str().unwrap_or_default(),
        );
        let path = service["path"].as_str().unwrap_or_default();
        let port = service["port"].as_i64().unwrap_or(443);
        return Err(Refusal {
            code: StatusCode::INTERNAL_SERVER_ERROR,
            reason: "InternalError",
            message: format!(
                "Internal error occurred: failed calling webhook \"{WI_WEBHOOK}\": failed to call webhook: Post \"https://{svc}.{svc_ns}.svc:{port}{path}?timeout=10s\": no endpoints available for service \"{svc}\""
            ),
        });
    };
    let sa_name = pod["spec"]["serviceAccountName"]
        .as_str()
        .filter(|s| !s.is_empty())
        .unwrap_or("default")
        .to_string();
    let sa = state
        .objects_of_kind("v1", "ServiceAccount")
        .into_iter()
        .find(|s| name_of(s) == sa_name && namespace_of(s) == namespace);
    match wi_mutation::mutate(&config, &pod, sa.as_ref(), &sa_name) {
        Ok(Some(mutated)) => Ok(mutated),
        Ok(None) => Ok(pod),
        Err(message) => Err(Refusal {
            code: StatusCode::BAD_REQUEST,
            reason: "BadRequest",
            message: format!("admission webhook \"{WI_WEBHOOK}\" denied the request: {message}"),
        }),
    }
}

/// The webhook's Deployment in the service's namespace, when a replica is ready and its cloud
/// is one it knows (an unknown AZURE_ENVIRONMENT stops it at start-up), with its configuration.
fn backend(state: &State, namespace: &str) -> Option<Config> {
    let deployments = state.objects_of_kind("apps/v1", "Deployment");
    let (deploy, container) = deployments.iter().find_map(|d| {
        if namespace_of(d) != namespace {
            return None;
        }
        let c = d["spec"]["template"]["spec"]["containers"]
            .as_array()?
            .iter()
            .find(|c| {
                c["image"]
                    .as_str()
                    .is_some_and(|i| i.contains("workload-identity/webhook:"))
            })?;
        Some((d, c))
    })?;
    let ready = deploy["status"]["readyReplicas"].as_i64().unwrap_or(0);
    let image = container["image"].as_str().unwrap_or_default();
    let release = parse_release(image.rsplit(':').next().unwrap_or_default())?;
    let env = |name: &str| container_env(state, namespace, container, name);
    let flag = |name: &str| {
        container["args"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .find_map(|a| a.strip_prefix(&format!("--{name}=")).map(str::to_string))
            .unwrap_or_default()
    };
    let (suffix, audience) = (
        flag("custom-token-endpoint-annotation-suffix"),
        flag("custom-token-endpoint-audience"),
    );
    let custom = (!suffix.is_empty() || !audience.is_empty()).then(|| CustomEndpoint {
        annotation: format!("azure.workload.identity/use-{suffix}"),
        audience: audience.clone(),
        token_proxy: env("AZURE_KUBERNETES_TOKEN_PROXY").unwrap_or_default(),
        sni_name: env("AZURE_KUBERNETES_SNI_NAME").unwrap_or_default(),
        ca_data: env("AZURE_KUBERNETES_CA_DATA").unwrap_or_default(),
        ca_config_map: env("AZURE_KUBERNETES_CA_CONFIGMAP_NAME").unwrap_or_default(),
        ctb_signer: env("AZURE_KUBERNETES_CA_CTB_SIGNER_NAME").unwrap_or_default(),
    });
    let config = Config {
        release,
        tenant_id: env("AZURE_TENANT_ID").unwrap_or_default(),
        cloud: env("AZURE_ENVIRONMENT").unwrap_or_default(),
        server_minor: 32,
        custom,
    };
    (ready > 0 && config_starts(&config)).then_some(config)
}

/// What stops the webhook at start-up, so it never reaches a pod: pkg/config's required
/// AZURE_TENANT_ID, a cloud go-autorest does not know, and (NewPodMutator, v1.6.0) a custom token
/// endpoint with only one of its flags or the default audience.
fn config_starts(c: &Config) -> bool {
    let cloud = matches!(
        c.cloud.to_ascii_uppercase().as_str(),
        "" | "AZUREPUBLICCLOUD" | "AZURECHINACLOUD" | "AZUREUSGOVERNMENTCLOUD"
    );
    let custom = c.custom.as_ref().is_none_or(|e| {
        e.annotation != "azure.workload.identity/use-"
            && !e.audience.is_empty()
            && !e
                .audience
                .eq_ignore_ascii_case("api://AzureADTokenExchange")
    });
    cloud && custom && !c.tenant_id.is_empty()
}

fn parse_release(tag: &str) -> Option<(u64, u64, u64)> {
    let mut parts = tag.trim_start_matches('v').split(['.', '-']);
    let mut next = || parts.next().and_then(|p| p.parse().ok());
    Some((next()?, next()?, next().unwrap_or(0)))
}

/// A container's variable: its own `env` value, else from the ConfigMaps in `envFrom`.
fn container_env(state: &State, namespace: &str, container: &Value, name: &str) -> Option<String> {
    let own = container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["name"] == name)
        .and_then(|e| e["value"].as_str());
    if let Some(v) = own {
        return Some(v.to_string());
    }
    let maps = state.objects_of_kind("v1", "ConfigMap");
    container["envFrom"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["configMapRef"]["name"].as_str())
        .find_map(|map| {
            maps.iter()
                .find(|m| name_of(m) == map && namespace_of(m) == namespace)
                .and_then(|m| m["data"][name].as_str())
                .map(str::to_string)
        })
}

/// Whether a webhook's rules cover CREATE of core/v1 pods.
fn takes_pod_creates(hook: &Value) -> bool {
    let has = |list: &Value, wanted: &str| {
        list.as_array()
            .into_iter()
            .flatten()
            .any(|v| v == wanted || v == "*")
    };
    hook["rules"].as_array().into_iter().flatten().any(|r| {
        has(&r["operations"], "CREATE") && has(&r["apiGroups"], "") && has(&r["resources"], "pods")
    })
}

/// The namespace's labels, with the `kubernetes.io/metadata.name` label the API server sets.
fn namespace_labels(state: &State, namespace: &str) -> Value {
    let mut labels = state
        .objects_of_kind("v1", "Namespace")
        .into_iter()
        .find(|n| name_of(n) == namespace)
        .map(|n| n["metadata"]["labels"].clone())
        .filter(Value::is_object)
        .unwrap_or_else(|| serde_json::json!({}));
    labels["kubernetes.io/metadata.name"] = Value::String(namespace.to_string());
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_parse_from_image_tags() {
        assert_eq!(parse_release("v1.5.1"), Some((1, 5, 1)));
        assert_eq!(parse_release("v0.15.0"), Some((0, 15, 0)));
        assert_eq!(parse_release("v1.6.0-rc.1"), Some((1, 6, 0)));
        assert_eq!(parse_release("latest"), None);
    }
}
