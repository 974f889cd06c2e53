//! What the azure-workload-identity webhook does to a pod it is called for, release by release,
//! written for the lab from the webhook's Go source (Azure/azure-workload-identity,
//! pkg/webhook/webhook.go and consts.go at each tag cited below). It is the lab's own reading:
//! the analysis predicts the same thing from `src/analysis/webhook`, and the two are kept apart
//! so one misreading cannot pass both (tests/fix_verify.rs runs the analysis on what this makes).

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The webhook's configuration, as its Deployment gives it.
pub struct Config {
    /// The image tag, as (major, minor, patch).
    pub release: (u64, u64, u64),
    /// `AZURE_TENANT_ID` (config.Config.TenantID).
    pub tenant_id: String,
    /// `AZURE_ENVIRONMENT` (config.Config.Cloud), empty for the public cloud.
    pub cloud: String,
    /// The API server's minor version (serverVersionGTE in NewPodMutator).
    pub server_minor: u64,
    /// v1.6.0's custom token endpoint, when the flags enable it.
    pub custom: Option<CustomEndpoint>,
}

/// `--custom-token-endpoint-annotation-suffix` and `--custom-token-endpoint-audience`
/// (cmd/webhook/main.go, v1.6.0) with the `AZURE_KUBERNETES_*` settings (pkg/config).
pub struct CustomEndpoint {
    /// `azure.workload.identity/use-<suffix>`.
    pub annotation: String,
    pub audience: String,
    pub token_proxy: String,
    pub sni_name: String,
    pub ca_data: String,
    pub ca_config_map: String,
    pub ctb_signer: String,
}

/// consts.go: the label, annotations and env names (unchanged since v0.15.0).
const USE: &str = "azure.workload.identity/use";
const CLIENT_ID: &str = "azure.workload.identity/client-id";
const TENANT_ID: &str = "azure.workload.identity/tenant-id";
const EXPIRY: &str = "azure.workload.identity/service-account-token-expiration";
const SKIP: &str = "azure.workload.identity/skip-containers";
const PROXY: &str = "azure.workload.identity/inject-proxy-sidecar";
const PROXY_PORT: &str = "azure.workload.identity/proxy-sidecar-port";
const AUDIENCE: &str = "api://AzureADTokenExchange";

impl Config {
    fn at_least(&self, major: u64, minor: u64) -> bool {
        self.release >= (major, minor, 0)
    }

    /// Where the token is mounted: v1.6.0 moved it (consts.go VolumeMountPath, TokenFilePath;
    /// before, TokenFileMountPath and TokenFilePathName).
    fn mount(&self) -> (&'static str, &'static str) {
        if self.at_least(1, 6) {
            ("/var/run/secrets/azure/wi", "token/azure-identity-token")
        } else {
            ("/var/run/secrets/azure/tokens", "azure-identity-token")
        }
    }

    /// getAzureAuthorityHost: go-autorest's ActiveDirectoryEndpoint for the configured cloud.
    /// An unknown name stops the webhook from starting, so it never reaches a pod.
    fn authority_host(&self) -> Option<&'static str> {
        match self.cloud.to_ascii_uppercase().as_str() {
            "" | "AZUREPUBLICCLOUD" => Some("https://login.microsoftonline.com/"),
            "AZURECHINACLOUD" => Some("https://login.chinacloudapi.cn/"),
            "AZUREUSGOVERNMENTCLOUD" => Some("https://login.microsoftonline.us/"),
            _ => None,
        }
    }
}

fn text<'v>(map: &'v Value, key: &str) -> Option<&'v str> {
    map.get(key).and_then(Value::as_str)
}

/// Handle: the pod as the webhook returns it, `Ok(None)` when it skips the pod, or the message
/// it denies the pod with (admission.Errored). `name` is the pod's name, or its generateName
/// with " (prefix)" when the API server has not named it yet (v1.6.0 hashes it).
pub fn mutate(
    c: &Config,
    pod: &Value,
    sa: Option<&Value>,
    sa_name: &str,
) -> Result<Option<Value>, String> {
    let Some(sa) = sa else {
        return Err(format!("serviceaccounts \"{sa_name}\" not found"));
    };
    let annotations = &pod["metadata"]["annotations"];
    // v0.x mutated pods whose ServiceAccount carried the label (or annotation) too; from v1.0.0
    // the configuration's objectSelector alone picks the pods (v0.15.0 webhook.go Handle).
    if !c.at_least(1, 0) {
        let on_sa = sa["metadata"]["labels"].get(USE).is_some()
            || sa["metadata"]["annotations"].get(USE).is_some();
        if !on_sa && pod["metadata"]["labels"].get(USE).is_none() {
            return Ok(None);
        }
    }
    let mut pod = pod.clone();
    if annotations.get(PROXY).is_some() {
        inject_proxy(c, &mut pod)?;
    }
    let expiry = token_expiry(annotations, &sa["metadata"]["annotations"])?;
    let sa_annotations = &sa["metadata"]["annotations"];
    let client_id = text(sa_annotations, CLIENT_ID).unwrap_or_default();
    // getTenantID: an annotation that is present wins even when empty.
    let tenant_id = text(sa_annotations, TENANT_ID).unwrap_or(&c.tenant_id);
    let skip: Vec<String> = text(annotations, SKIP)
        .filter(|s| !s.is_empty())
        .map(|s| s.split(';').map(|n| n.trim().to_string()).collect())
        .unwrap_or_default();
    let volume = volume_name(c, &pod);
    let (mount, file) = c.mount();
    let custom = custom_endpoint(c, &pod);
    let mut env = vec![
        ("AZURE_CLIENT_ID", client_id.to_string()),
        ("AZURE_TENANT_ID", tenant_id.to_string()),
        ("AZURE_FEDERATED_TOKEN_FILE", format!("{mount}/{file}")),
        (
            "AZURE_AUTHORITY_HOST",
            c.authority_host().unwrap_or_default().to_string(),
        ),
    ];
    if let Some(e) = custom {
        env.extend([
            ("AZURE_KUBERNETES_TOKEN_PROXY", e.token_proxy.clone()),
            ("AZURE_KUBERNETES_SNI_NAME", e.sni_name.clone()),
            (
                "AZURE_KUBERNETES_CA_FILE",
                format!("{mount}/ca-cert/ca.crt"),
            ),
            ("AZURE_KUBERNETES_CA_DATA", e.ca_data.clone()),
        ]);
    }
    for list in ["initContainers", "containers"] {
        for container in pod["spec"][list].as_array_mut().into_iter().flatten() {
            if skip
                .iter()
                .any(|s| Some(s.as_str()) == text(container, "name"))
            {
                continue;
            }
            add_env(container, &env);
            add_mount(c, container, &volume, mount);
        }
    }
    add_volume(c, &mut pod, &volume, file, expiry, custom);
    Ok(Some(pod))
}

/// isUsingCustomTokenEndpoint: enabled, and the pod's annotation is "true" in any case.
fn custom_endpoint<'c>(c: &'c Config, pod: &Value) -> Option<&'c CustomEndpoint> {
    let e = c.custom.as_ref()?;
    text(&pod["metadata"]["annotations"], &e.annotation)
        .filter(|v| v.eq_ignore_ascii_case("true"))
        .map(|_| e)
}

/// getServiceAccountTokenExpiration: the pod's annotation, else the ServiceAccount's, else
/// 3600; a value that does not parse or lies outside [3600, 86400] denies the pod.
fn token_expiry(pod: &Value, sa: &Value) -> Result<i64, String> {
    let Some(raw) = text(pod, EXPIRY)
        .filter(|v| !v.is_empty())
        .or_else(|| text(sa, EXPIRY).filter(|v| !v.is_empty()))
    else {
        return Ok(3600);
    };
    let seconds: i64 = raw
        .parse()
        .map_err(|_| format!("strconv.ParseInt: parsing \"{raw}\": invalid syntax"))?;
    if !(3600..=86400).contains(&seconds) {
        return Err(format!(
            "token expiration {seconds} not valid. Expected value to be between 3600 and 86400"
        ));
    }
    Ok(seconds)
}

/// addEnvironmentVariables: each variable not already set, and only with a value.
fn add_env(container: &mut Value, env: &[(&str, String)]) {
    let present: Vec<String> = container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| text(e, "name").map(str::to_string))
        .collect();
    for (name, value) in env {
        if value.is_empty() || present.iter().any(|p| p == name) {
            continue;
        }
        if !container["env"].is_array() {
            container["env"] = json!([]);
        }
        if let Some(list) = container["env"].as_array_mut() {
            list.push(json!({"name": name, "value": value}));
        }
    }
}

/// The projected volume's name: fixed before v1.6.0; since then
/// "azure-workload-identity-reserved-" and the start of sha256(pod name) (buildVolumeName).
fn volume_name(c: &Config, pod: &Value) -> String {
    if !c.at_least(1, 6) {
        return "azure-identity-token".into();
    }
    let meta = &pod["metadata"];
    let name = match text(meta, "name").filter(|n| !n.is_empty()) {
        Some(n) => n.to_string(),
        None => format!(
            "{} (prefix)",
            text(meta, "generateName").unwrap_or_default()
        ),
    };
    let prefix = "azure-workload-identity-reserved-";
    let hash = hex(&Sha256::digest(name.as_bytes()));
    format!("{prefix}{}", &hash[..63 - prefix.len()])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The mount: before v1.6.0 added unless one of that name exists (addProjectedTokenVolumeMount);
/// from v1.6.0 one of that name is replaced (addProjectedVolumeMount).
fn add_mount(c: &Config, container: &mut Value, volume: &str, path: &str) {
    let mount = json!({"name": volume, "mountPath": path, "readOnly": true});
    if !container["volumeMounts"].is_array() {
        container["volumeMounts"] = json!([]);
    }
    let Some(mounts) = container["volumeMounts"].as_array_mut() else {
        return;
    };
    match mounts.iter().position(|m| text(m, "name") == Some(volume)) {
        Some(i) if c.at_least(1, 6) => mounts[i] = mount,
        Some(_) => {}
        None => mounts.push(mount),
    }
}

/// The projected token volume: before v1.6.0 skipped when any projected volume already holds a
/// service-account token at the same path (addProjectedServiceAccountTokenVolume); from v1.6.0
/// one of the same name is replaced (addProjectedVolume).
fn add_volume(
    c: &Config,
    pod: &mut Value,
    volume: &str,
    file: &str,
    expiry: i64,
    custom: Option<&CustomEndpoint>,
) {
    let audience = custom.map_or(AUDIENCE, |e| e.audience.as_str());
    let mut sources = vec![json!({"serviceAccountToken": {
        "path": file, "expirationSeconds": expiry, "audience": audience}})];
    // addProjectedVolume (v1.6.0): the custom endpoint's CA, from a ConfigMap or a
    // ClusterTrustBundle, beside the token.
    if let Some(e) = custom.filter(|e| !e.ca_config_map.is_empty()) {
        sources.push(json!({"configMap": {"name": e.ca_config_map,
            "items": [{"key": "ca.crt", "path": "ca-cert/ca.crt"}], "optional": false}}));
    }
    if let Some(e) = custom.filter(|e| !e.ctb_signer.is_empty()) {
        sources.push(json!({"clusterTrustBundle": {"signerName": e.ctb_signer,
            "path": "ca-cert/ca.crt", "optional": false}}));
    }
    let wanted = json!({"name": volume, "projected": {"sources": sources}});
    if !pod["spec"]["volumes"].is_array() {
        pod["spec"]["volumes"] = json!([]);
    }
    let Some(volumes) = pod["spec"]["volumes"].as_array_mut() else {
        return;
    };
    if c.at_least(1, 6) {
        match volumes.iter().position(|v| text(v, "name") == Some(volume)) {
            Some(i) => volumes[i] = wanted,
            None => volumes.push(wanted),
        }
        return;
    }
    let has_token = volumes.iter().any(|v| {
        v["projected"]["sources"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| text(&s["serviceAccountToken"], "path") == Some(file))
    });
    if !has_token {
        volumes.push(wanted);
    }
}

/// The proxy init container and sidecar (injectProxyInitContainer,
/// injectProxySidecarContainer): a pod on the host network is denied; the sidecar is a native
/// one (an init container that keeps running) from v1.5.0 on API servers from 1.32.
fn inject_proxy(c: &Config, pod: &mut Value) -> Result<(), String> {
    if pod["spec"]["hostNetwork"] == json!(true) {
        return Err("hostNetwork is set to true, cannot inject proxy sidecar".into());
    }
    let port: i64 = match text(&pod["metadata"]["annotations"], PROXY_PORT) {
        None => 8000,
        Some(p) => p.parse().map_err(|_| {
            format!(
                "failed to parse proxy sidecar port: strconv.ParseInt: parsing \"{p}\": invalid syntax"
            )
        })?,
    };
    let tag = format!("v{}.{}.{}", c.release.0, c.release.1, c.release.2);
    let named = |list: &Value, name: &str| {
        list.as_array()
            .into_iter()
            .flatten()
            .any(|x| text(x, "name") == Some(name))
    };
    let spec = &mut pod["spec"];
    if !named(&spec["initContainers"], "azwi-proxy-init") {
        push(
            &mut spec["initContainers"],
            json!({"name": "azwi-proxy-init",
            "image": format!("mcr.microsoft.com/oss/azure/workload-identity/proxy-init:{tag}"),
            "securityContext": {"capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]}, "privileged": true, "runAsNonRoot": false, "runAsUser": 0},
            "env": [{"name": "PROXY_PORT", "value": port.to_string()}]}),
            false,
        );
    }
    let native = c.at_least(1, 5) && c.server_minor >= 32;
    let list = if native {
        "initContainers"
    } else {
        "containers"
    };
    if !named(&spec[list], "azwi-proxy") {
        let mut sidecar = json!({"name": "azwi-proxy",
            "image": format!("mcr.microsoft.com/oss/azure/workload-identity/proxy:{tag}"),
            "args": [format!("--proxy-port={port}"), "--log-level=info"],
            "ports": [{"containerPort": port}]});
        if native {
            sidecar["restartPolicy"] = json!("Always");
        }
        // The sidecar goes first among the containers; the init container stays before it.
        push(&mut spec[list], sidecar, !native);
    }
    Ok(())
}

fn push(list: &mut Value, item: Value, first: bool) {
    if !list.is_array() {
        *list = json!([]);
    }
    if let Some(l) = list.as_array_mut() {
        if first {
            l.insert(0, item);
        } else {
            l.push(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(release: (u64, u64, u64)) -> Config {
        Config {
            release,
            tenant_id: "tenant-from-config".into(),
            cloud: "AzurePublicCloud".into(),
            server_minor: 32,
            custom: None,
        }
    }

    fn sa(annotations: Value) -> Value {
        json!({"metadata": {"name": "sa", "annotations": annotations}})
    }

    fn env_of(pod: &Value, container: usize) -> Vec<(String, String)> {
        pod["spec"]["containers"][container]["env"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                (
                    e["name"].as_str().unwrap().to_string(),
                    e["value"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    // Cases from pkg/webhook/webhook_test.go (v1.5.1): TestHandle's env, the skip list, and
    // TestGetServiceAccountTokenExpiration's bounds.
    #[test]
    fn injects_env_mount_and_volume_and_keeps_what_is_set() {
        let pod = json!({"metadata": {"name": "p", "annotations": {SKIP: "side ; other"}},
            "spec": {"containers": [
                {"name": "app", "env": [{"name": "AZURE_CLIENT_ID", "value": "stale"}]},
                {"name": "side"}]}});
        let sa = sa(json!({CLIENT_ID: "cid"}));
        let out = mutate(&config((1, 5, 1)), &pod, Some(&sa), "sa")
            .unwrap()
            .unwrap();
        assert_eq!(
            env_of(&out, 0),
            [
                ("AZURE_CLIENT_ID".into(), "stale".into()),
                ("AZURE_TENANT_ID".into(), "tenant-from-config".into()),
                (
                    "AZURE_FEDERATED_TOKEN_FILE".into(),
                    "/var/run/secrets/azure/tokens/azure-identity-token".into()
                ),
                (
                    "AZURE_AUTHORITY_HOST".into(),
                    "https://login.microsoftonline.com/".into()
                ),
            ]
        );
        assert!(env_of(&out, 1).is_empty(), "skipped container untouched");
        assert_eq!(
            out["spec"]["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"],
            json!({"path": "azure-identity-token", "expirationSeconds": 3600, "audience": AUDIENCE})
        );
    }

    #[test]
    fn an_empty_tenant_annotation_wins_and_is_not_injected() {
        let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "app"}]}});
        let sa = sa(json!({CLIENT_ID: "cid", TENANT_ID: ""}));
        let out = mutate(&config((1, 5, 1)), &pod, Some(&sa), "sa")
            .unwrap()
            .unwrap();
        assert!(!env_of(&out, 0).iter().any(|(n, _)| n == "AZURE_TENANT_ID"));
    }

    #[test]
    fn token_expiry_bounds_deny_the_pod() {
        let pod = |v: &str| {
            json!({"metadata": {"name": "p", "annotations": {EXPIRY: v}},
                "spec": {"containers": [{"name": "app"}]}})
        };
        let sa = sa(json!({}));
        let c = config((1, 5, 1));
        assert_eq!(
            mutate(&c, &pod("1800"), Some(&sa), "sa").unwrap_err(),
            "token expiration 1800 not valid. Expected value to be between 3600 and 86400"
        );
        assert!(mutate(&c, &pod(" 3600"), Some(&sa), "sa").is_err());
        assert!(mutate(&c, &pod("86400"), Some(&sa), "sa").is_ok());
        assert_eq!(
            mutate(&c, &pod("3600"), None, "gone").unwrap_err(),
            "serviceaccounts \"gone\" not found"
        );
    }

    #[test]
    fn v1_6_names_the_volume_by_the_pods_name_hash() {
        let pod = json!({"metadata": {"generateName": "web-5d4f-"},
            "spec": {"containers": [{"name": "app"}]}});
        let out = mutate(&config((1, 6, 0)), &pod, Some(&sa(json!({}))), "sa")
            .unwrap()
            .unwrap();
        let name = out["spec"]["volumes"][0]["name"].as_str().unwrap();
        let hash = hex(&Sha256::digest(b"web-5d4f- (prefix)"));
        assert_eq!(
            name,
            format!("azure-workload-identity-reserved-{}", &hash[..30])
        );
        assert_eq!(name.len(), 63);
        assert_eq!(
            out["spec"]["containers"][0]["volumeMounts"][0]["mountPath"],
            "/var/run/secrets/azure/wi"
        );
    }

    // webhook.go@v1.6.0 isUsingCustomTokenEndpoint, addEnvironmentVariables, addProjectedVolume.
    #[test]
    fn the_custom_token_endpoint_gets_its_variables_audience_and_ca() {
        let mut c = config((1, 6, 0));
        c.custom = Some(CustomEndpoint {
            annotation: "azure.workload.identity/use-identity-binding".into(),
            audience: "api://AKSIdentityBinding".into(),
            token_proxy: "https://proxy.example/token".into(),
            sni_name: "sni.example".into(),
            ca_data: String::new(),
            ca_config_map: "identity-binding-ca".into(),
            ctb_signer: String::new(),
        });
        let pod = |v: &str| {
            json!({"metadata": {"name": "p", "annotations": {"azure.workload.identity/use-identity-binding": v}},
                "spec": {"containers": [{"name": "app"}]}})
        };
        let out = mutate(&c, &pod("TRUE"), Some(&sa(json!({}))), "sa")
            .unwrap()
            .unwrap();
        let names: Vec<String> = env_of(&out, 0).into_iter().map(|(n, _)| n).collect();
        assert!(names.contains(&"AZURE_KUBERNETES_TOKEN_PROXY".to_string()));
        assert!(names.contains(&"AZURE_KUBERNETES_CA_FILE".to_string()));
        assert!(
            !names.contains(&"AZURE_KUBERNETES_CA_DATA".to_string()),
            "empty values are not injected"
        );
        let sources = &out["spec"]["volumes"][0]["projected"]["sources"];
        assert_eq!(
            sources[0]["serviceAccountToken"]["audience"],
            "api://AKSIdentityBinding"
        );
        assert_eq!(sources[1]["configMap"]["name"], "identity-binding-ca");
        let plain = mutate(&c, &pod("no"), Some(&sa(json!({}))), "sa")
            .unwrap()
            .unwrap();
        assert_eq!(
            plain["spec"]["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"]["audience"],
            AUDIENCE
        );
    }

    #[test]
    fn v0_mutates_only_for_a_labelled_sa_or_pod() {
        let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "app"}]}});
        let c = config((0, 15, 0));
        assert!(
            mutate(&c, &pod, Some(&sa(json!({}))), "sa")
                .unwrap()
                .is_none()
        );
        let labelled = json!({"metadata": {"name": "sa", "labels": {USE: "true"}}});
        assert!(mutate(&c, &pod, Some(&labelled), "sa").unwrap().is_some());
    }
}
