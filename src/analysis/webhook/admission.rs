//! One pod through the webhook: [`admit`] decides as the webhook's `Handle` does (deny, or what
//! to inject), [`denials`] lists every refusal in its order, [`expected`] is what a pod it
//! mutated holds. They follow pkg/webhook/webhook.go of the release a [`Profile`] describes;
//! line references are to v1.6.0 unless a row of the release table says otherwise.

use k8s_openapi::api::core::v1::{Pod, ServiceAccount};

use super::go::{self, ParseIntError};
use super::releases::{Profile, ProxyPlacement, Trigger, VolumeNaming};
use super::startup::{CustomEndpoint, Started};
use super::*;

pub const MIN_EXPIRATION: i64 = 3600;
pub const MAX_EXPIRATION: i64 = 86400;
pub const DEFAULT_PROXY_PORT: i32 = 8000;
pub const PROXY_INIT_NAME: &str = "azwi-proxy-init";
pub const PROXY_NAME: &str = "azwi-proxy";
pub(super) const CA_FILE: &str = "ca-cert/ca.crt";

/// A pod as the webhook receives it.
pub struct Request<'a> {
    pub pod: &'a Pod,
    /// The ServiceAccount the pod names (or `default`), when it exists.
    pub service_account: Option<&'a ServiceAccount>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Admission {
    /// Allowed without a change (releases before v1.0 chose in the handler).
    Untouched,
    Denied(Denial),
    Mutated(Box<Mutation>),
}

/// How the API server words the webhook's refusal of a pod, before the webhook's message
/// (apiserver's admission webhook errors; `WEBHOOK_NAME` inside, held by a test).
pub const REFUSED: &str =
    "admission webhook \"mutation.azure-workload-identity.io\" denied the request";

/// The webhook refuses the pod; the API server reports
/// `admission webhook "mutation.azure-workload-identity.io" denied the request: {message}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub cause: Cause,
    pub message: String,
}

impl Denial {
    /// The text of the `FailedCreate` event a controller records.
    pub fn event(&self) -> String {
        format!("{REFUSED}: {}", self.message)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    ServiceAccountNotFound,
    ProxyOnHostNetwork,
    /// The pod's proxy-sidecar-port annotation.
    ProxyPort,
    /// The token expiration annotation, on the pod or (`false`) the ServiceAccount.
    Expiration {
        on_pod: bool,
    },
}

/// What the webhook injects into a pod.
#[derive(Debug, Clone, PartialEq)]
pub struct Mutation {
    /// Each variable and its value, before the webhook drops empty ones (see `injects_empty`).
    pub env: Vec<(&'static str, String)>,
    pub injects_empty: bool,
    pub skip: Vec<String>,
    pub init_containers: bool,
    /// How the token volume is named and merged (the name itself: `patch::volume_name`).
    pub naming: VolumeNaming,
    pub mount_path: &'static str,
    /// The variable the token path goes in (`TOKEN_FILE_PATH` before v0.4).
    pub token_env: &'static str,
    pub token_path: String,
    pub expiration: i64,
    pub audience: String,
    /// The custom token endpoint, when the pod asks for it and the webhook offers it.
    pub custom: Option<CustomEndpoint>,
    pub proxy: Option<Proxy>,
    pub strips_native_sidecars: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    pub port: i32,
    pub placement: ProxyPlacement,
    pub native: bool,
    /// The release's shape of the containers (see the proxy rows of the release table).
    pub probe: bool,
    pub log_level: bool,
    pub hardened: bool,
    pub init_root_explicit: bool,
    pub found_by_image: bool,
}

impl Mutation {
    /// The value of one injected variable, `None` when the webhook does not inject it.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(n, v)| *n == name && (self.injects_empty || !v.is_empty()))
            .map(|(_, v)| v.as_str())
    }

    pub fn skips(&self, container: &str) -> bool {
        self.skip.iter().any(|s| s == container)
    }
}

/// The webhook's decision for one pod (`Handle`, webhook.go@v1.6.0:155-247).
pub fn admit(profile: &Profile, started: &Started, req: &Request<'_>) -> Admission {
    let pod = req.pod;
    // Every release looks the ServiceAccount up first, before its own trigger check
    // (W@v0.1.0:77-86, W@v0.15.0:115-140).
    let Some(sa) = req.service_account else {
        return Admission::Denied(sa_not_found(pod));
    };
    if !triggered(profile, req) {
        return Admission::Untouched;
    }
    let proxy = match proxy(profile, started, pod) {
        Ok(p) => p,
        Err(d) => return Admission::Denied(d),
    };
    match expiration(profile, pod, sa) {
        Ok(e) => Admission::Mutated(Box::new(mutation(
            profile,
            started,
            pod,
            Some(sa),
            proxy,
            e,
        ))),
        Err(d) => Admission::Denied(d),
    }
}

/// Every reason the webhook refuses a pod like this one, in the order it checks them: it answers
/// with the first, and fixing that one reveals the next.
pub fn denials(profile: &Profile, started: &Started, req: &Request<'_>) -> Vec<Denial> {
    let Some(sa) = req.service_account else {
        return vec![sa_not_found(req.pod)];
    };
    if !triggered(profile, req) {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let Err(d) = proxy(profile, started, req.pod) {
        out.push(d);
    }
    if let Err(d) = expiration(profile, req.pod, sa) {
        out.push(d);
    }
    out
}

fn sa_not_found(pod: &Pod) -> Denial {
    Denial {
        cause: Cause::ServiceAccountNotFound,
        message: format!("serviceaccounts {} not found", go::quote(&sa_name(pod))),
    }
}

/// What the webhook injects into this pod, whatever it would refuse about it: the expectation a
/// pod that exists is compared with (a refused annotation is its own finding).
pub fn expected(profile: &Profile, started: &Started, req: &Request<'_>) -> Mutation {
    let proxy = proxy(profile, started, req.pod).ok().flatten();
    let expiration = req
        .service_account
        .and_then(|sa| expiration(profile, req.pod, sa).ok())
        .unwrap_or(profile.default_expiration);
    mutation(
        profile,
        started,
        req.pod,
        req.service_account,
        proxy,
        expiration,
    )
}

fn mutation(
    profile: &Profile,
    started: &Started,
    pod: &Pod,
    sa: Option<&ServiceAccount>,
    proxy: Option<Proxy>,
    expiration: i64,
) -> Mutation {
    let annotation = |k: &str| {
        pod.metadata
            .annotations
            .as_ref()?
            .get(k)
            .map(String::as_str)
    };
    let sa_annotation = |k: &str| {
        sa?.metadata
            .annotations
            .as_ref()?
            .get(k)
            .map(String::as_str)
    };
    let custom = started
        .custom
        .as_ref()
        .filter(|c| annotation(&c.annotation()).is_some_and(|v| v.eq_ignore_ascii_case("true")));
    // Taken as they are: the client ID untrimmed, the tenant annotation's key deciding even
    // when its value is empty (webhook.go@v1.6.0:422-435).
    let mut env = vec![
        (
            "AZURE_CLIENT_ID",
            sa_annotation(profile.keys.client_id)
                .unwrap_or_default()
                .to_string(),
        ),
        (
            "AZURE_TENANT_ID",
            sa_annotation(profile.keys.tenant_id)
                .unwrap_or(&started.tenant_id)
                .to_string(),
        ),
        (profile.token_env, profile.token_path()),
    ];
    if profile.authority_env {
        env.push(("AZURE_AUTHORITY_HOST", started.authority.clone()));
    }
    if let Some(c) = custom {
        env.extend([
            ("AZURE_KUBERNETES_TOKEN_PROXY", c.token_proxy.clone()),
            ("AZURE_KUBERNETES_SNI_NAME", c.sni_name.clone()),
            (
                "AZURE_KUBERNETES_CA_FILE",
                format!("{}/{CA_FILE}", profile.mount_path),
            ),
            ("AZURE_KUBERNETES_CA_DATA", c.ca_data.clone()),
        ]);
    }
    Mutation {
        env,
        injects_empty: profile.injects_empty,
        skip: skip_list(annotation(profile.keys.skip_containers)),
        init_containers: profile.init_containers,
        naming: profile.volume,
        mount_path: profile.mount_path,
        token_env: profile.token_env,
        token_path: profile.token_path(),
        expiration,
        audience: custom.map_or_else(|| started.audience.clone(), |c| c.audience.clone()),
        custom: custom.cloned(),
        proxy,
        strips_native_sidecars: !profile.keeps_native_sidecars,
    }
}

/// Whether the API server sends the pod to the webhook: since v1.0 the chart's objectSelector
/// sends pods labelled `use: "true"` (the configuration as captured is judged by the webhook
/// link); before, its configurations selected every pod and the handler decided.
pub fn reaches(profile: &Profile, pod: &Pod) -> bool {
    match profile.trigger {
        Trigger::Selector => pod
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(USE_LABEL))
            .is_some_and(|v| v == "true"),
        _ => true,
    }
}

/// Whether the webhook mutates the pod: it reaches the webhook, which mutates it.
pub fn mutates(profile: &Profile, req: &Request<'_>) -> bool {
    reaches(profile, req.pod) && req.service_account.is_some() && triggered(profile, req)
}

/// Whether the handler mutates the pod at all. Since v1.0 the objectSelector alone decides
/// (evaluated by the API server, see [`super::selector`]); before, the handler looked at the pod
/// and its ServiceAccount.
pub fn triggered(profile: &Profile, req: &Request<'_>) -> bool {
    let key = profile.keys.use_;
    let pod_label = req
        .pod
        .metadata
        .labels
        .as_ref()
        .is_some_and(|l| l.contains_key(key));
    let sa_meta = req.service_account.map(|sa| &sa.metadata);
    let sa_label = sa_meta
        .and_then(|m| m.labels.as_ref())
        .is_some_and(|l| l.contains_key(key));
    let sa_annotation = sa_meta
        .and_then(|m| m.annotations.as_ref())
        .is_some_and(|a| a.contains_key(key));
    // Before v1.0 every check was the key's presence, whatever its value ("false" too).
    match profile.trigger {
        Trigger::Selector => true,
        Trigger::PodOrServiceAccount => pod_label || sa_label || sa_annotation,
        Trigger::ServiceAccountLabelOrAnnotation => sa_label || sa_annotation,
        Trigger::ServiceAccountLabel => sa_label,
    }
}

pub fn sa_name(pod: &Pod) -> String {
    pod.spec
        .as_ref()
        .and_then(|s| s.service_account_name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".into())
}

/// The proxy, when the pod asks for it by the annotation's presence (whatever its value):
/// hostNetwork refused, the port parsed as a Go int32 and not range-checked
/// (webhook.go@v1.6.0:198-219, 339-345, 399-416).
fn proxy(profile: &Profile, started: &Started, pod: &Pod) -> Result<Option<Proxy>, Denial> {
    let annotations = pod.metadata.annotations.as_ref();
    let asked = annotations.is_some_and(|a| a.contains_key(INJECT_PROXY));
    if profile.proxy == ProxyPlacement::None || !asked {
        return Ok(None);
    }
    let host_network = pod.spec.as_ref().and_then(|s| s.host_network) == Some(true);
    if profile.proxy_rejects_host_network && host_network {
        return Err(Denial {
            cause: Cause::ProxyOnHostNetwork,
            message: "hostNetwork is set to true, cannot inject proxy sidecar".into(),
        });
    }
    let port = match annotations.and_then(|a| a.get(PROXY_PORT)) {
        None => DEFAULT_PROXY_PORT,
        Some(v) => go::parse_int(v, 32).map_err(|e| Denial {
            cause: Cause::ProxyPort,
            message: format!("failed to parse proxy sidecar port: {e}"),
        })? as i32,
    };
    Ok(Some(Proxy {
        port,
        placement: profile.proxy,
        native: started.native_sidecar,
        probe: profile.proxy_probe,
        log_level: profile.proxy_log_level,
        hardened: profile.proxy_hardened,
        init_root_explicit: profile.proxy_init_root_explicit,
        found_by_image: profile.proxy_found_by_image,
    }))
}

/// The token's lifetime: the pod's annotation when non-empty, else the ServiceAccount's when
/// non-empty, else the default; parsed without trimming and refused outside 3600..=86400
/// (`getServiceAccountTokenExpiration`, webhook.go@v1.6.0:374-397).
fn expiration(profile: &Profile, pod: &Pod, sa: &ServiceAccount) -> Result<i64, Denial> {
    let of = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        m.annotations
            .as_ref()
            .and_then(|a| a.get(profile.keys.expiration))
            .filter(|v| !v.is_empty())
            .cloned()
    };
    let (value, on_pod) = match (of(&pod.metadata), of(&sa.metadata)) {
        (Some(v), _) => (v, true),
        (None, Some(v)) => (v, false),
        (None, None) => return Ok(profile.default_expiration),
    };
    let denied = |message: String| Denial {
        cause: Cause::Expiration { on_pod },
        message,
    };
    let seconds = go::parse_int(&value, 64).map_err(|e: ParseIntError| denied(e.to_string()))?;
    if !(MIN_EXPIRATION..=MAX_EXPIRATION).contains(&seconds) {
        return Err(denied(format!(
            "token expiration {seconds} not valid. Expected value to be between {MIN_EXPIRATION} and {MAX_EXPIRATION}"
        )));
    }
    Ok(seconds)
}

/// Cases the webhook's own tests do not cover, each read from its source (v1.6.0 unless named).
#[cfg(test)]
mod tests {
    use super::super::startup::{Settings, assume, start};
    use super::*;
    use crate::analysis::webhook::releases::Version;

    fn pod(annotations: &[(&str, &str)], host_network: bool) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "annotations": annotations.iter().cloned().collect::<std::collections::BTreeMap<_, _>>()},
            "spec": {"serviceAccountName": "sa", "hostNetwork": host_network, "containers": [{"name": "c"}]}
        }))
        .unwrap()
    }

    fn sa(annotations: &[(&str, &str)]) -> ServiceAccount {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "sa", "annotations": annotations.iter().cloned().collect::<std::collections::BTreeMap<_, _>>()}
        }))
        .unwrap()
    }

    fn run(release: Version, pod: &Pod, sa: &ServiceAccount) -> Admission {
        let profile = Profile::of(release);
        let settings = Settings {
            tenant_id: Some("cluster-tenant".into()),
            ..Default::default()
        };
        let started = start(&profile, &settings).unwrap();
        admit(
            &profile,
            &started,
            &Request {
                pod,
                service_account: Some(sa),
            },
        )
    }

    fn mutated(a: Admission) -> Mutation {
        match a {
            Admission::Mutated(m) => *m,
            other => panic!("expected a mutation, got {other:?}"),
        }
    }

    fn denied(a: Admission) -> String {
        match a {
            Admission::Denied(d) => d.message,
            other => panic!("expected a denial, got {other:?}"),
        }
    }

    /// getClientID and getTenantID (W:422-435): taken as they are; the tenant key decides.
    #[test]
    fn client_id_untrimmed_and_an_empty_tenant_key_wins() {
        let m = mutated(run(
            Version::LATEST,
            &pod(&[], false),
            &sa(&[(CLIENT_ID, " id "), (TENANT_ID, "")]),
        ));
        assert_eq!(m.value("AZURE_CLIENT_ID"), Some(" id "));
        assert_eq!(
            m.value("AZURE_TENANT_ID"),
            None,
            "empty: not injected since v1.5.1"
        );
        let old = mutated(run(
            Version(1, 5, 0),
            &pod(&[], false),
            &sa(&[(TENANT_ID, "")]),
        ));
        assert_eq!(
            old.value("AZURE_TENANT_ID"),
            Some(""),
            "v1.5.0 injects it empty"
        );
        let none = mutated(run(Version::LATEST, &pod(&[], false), &sa(&[])));
        assert_eq!(none.value("AZURE_TENANT_ID"), Some("cluster-tenant"));
    }

    /// getServiceAccountTokenExpiration (W:379-397): a pod value wins only when non-empty, and
    /// ParseInt does not trim.
    #[test]
    fn expiration_precedence_and_parsing() {
        let e =
            |p: &[(&str, &str)], s: &[(&str, &str)]| run(Version::LATEST, &pod(p, false), &sa(s));
        assert_eq!(
            mutated(e(&[(EXPIRATION, "")], &[(EXPIRATION, "7200")])).expiration,
            7200
        );
        assert_eq!(
            mutated(e(&[(EXPIRATION, "4000")], &[(EXPIRATION, "junk")])).expiration,
            4000
        );
        assert_eq!(
            denied(e(&[(EXPIRATION, " 3600")], &[])),
            r#"strconv.ParseInt: parsing " 3600": invalid syntax"#
        );
        assert_eq!(
            denied(e(&[], &[(EXPIRATION, "600")])),
            "token expiration 600 not valid. Expected value to be between 3600 and 86400"
        );
        assert_eq!(mutated(e(&[(EXPIRATION, "+3600")], &[])).expiration, 3600);
    }

    /// shouldInjectProxySidecar and getProxyPort (W:198-211, 339-345, 399-416): the port is read
    /// only when the proxy is asked for (by the annotation's presence), and never range-checked.
    #[test]
    fn proxy_port_only_with_the_proxy() {
        let r = |p: &[(&str, &str)], host: bool| run(Version::LATEST, &pod(p, host), &sa(&[]));
        assert!(mutated(r(&[(PROXY_PORT, "abc")], false)).proxy.is_none());
        let port = |p| {
            mutated(r(&[(INJECT_PROXY, "false"), (PROXY_PORT, p)], false))
                .proxy
                .unwrap()
                .port
        };
        assert_eq!(port("99999"), 99999);
        assert_eq!(
            denied(r(&[(INJECT_PROXY, ""), (PROXY_PORT, "3000000000")], false)),
            r#"failed to parse proxy sidecar port: strconv.ParseInt: parsing "3000000000": value out of range"#
        );
        assert_eq!(
            denied(r(&[(INJECT_PROXY, "true")], true)),
            "hostNetwork is set to true, cannot inject proxy sidecar"
        );
        // v1.0 had no hostNetwork check (added in v1.2.0, commit 4a889b7).
        let v10 = run(
            Version(1, 0, 0),
            &pod(&[(INJECT_PROXY, "true")], true),
            &sa(&[]),
        );
        assert!(mutated(v10).proxy.is_some());
    }

    #[test]
    fn the_refusal_names_the_webhook() {
        assert!(REFUSED.contains(&format!("\"{WEBHOOK_NAME}\"")));
    }

    /// Every reason, in the webhook's order: the proxy before the expiration (W:198-226).
    #[test]
    fn denials_come_in_the_webhooks_order() {
        let profile = Profile::of(Version::LATEST);
        let started = assume(&profile, &Settings::default());
        let p = pod(
            &[(INJECT_PROXY, ""), (PROXY_PORT, "x"), (EXPIRATION, "1")],
            false,
        );
        let s = sa(&[]);
        let req = Request {
            pod: &p,
            service_account: Some(&s),
        };
        let causes: Vec<Cause> = denials(&profile, &started, &req)
            .into_iter()
            .map(|d| d.cause)
            .collect();
        assert_eq!(
            causes,
            vec![Cause::ProxyPort, Cause::Expiration { on_pod: true }]
        );
        let first = admit(&profile, &started, &req);
        assert!(matches!(
            first,
            Admission::Denied(Denial {
                cause: Cause::ProxyPort,
                ..
            })
        ));
    }
}
