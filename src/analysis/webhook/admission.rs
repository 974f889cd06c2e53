//! One pod through the webhook: [`admit`] decides as the webhook's `Handle` does (deny, or what
//! to inject), [`apply`] makes that mutation to a pod as the webhook patches it. Both follow
//! pkg/webhook/webhook.go of the release a [`Profile`] describes; line references are to
//! v1.6.0 unless a row of the release table says otherwise.

use k8s_openapi::api::core::v1::{
    Capabilities, ClusterTrustBundleProjection, ConfigMapProjection, Container, ContainerPort,
    EnvVar, ExecAction, KeyToPath, Lifecycle, LifecycleHandler, Pod, ProjectedVolumeSource,
    SecurityContext, ServiceAccount, ServiceAccountTokenProjection, Volume, VolumeMount,
    VolumeProjection,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use sha2::{Digest, Sha256};

use super::cloud::{self, Cloud};
use super::go::{self, ParseIntError};
use super::releases::{Profile, ProxyPlacement, TenantCheck, Trigger, Version, VolumeNaming};
use super::*;

pub const MIN_EXPIRATION: i64 = 3600;
pub const MAX_EXPIRATION: i64 = 86400;
pub const DEFAULT_PROXY_PORT: i32 = 8000;
pub const PROXY_INIT_NAME: &str = "azwi-proxy-init";
pub const PROXY_NAME: &str = "azwi-proxy";
const FIXED_VOLUME: &str = "azure-identity-token";
const RESERVED_PREFIX: &str = "azure-workload-identity-reserved-";
const CA_FILE: &str = "ca-cert/ca.crt";

/// The configuration the webhook process runs with: pkg/config (environment, from the chart's
/// ConfigMap or container env) and its command-line flags.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// `AZURE_TENANT_ID`; `None` when the variable is not set at all.
    pub tenant_id: Option<String>,
    /// `AZURE_ENVIRONMENT`.
    pub cloud: Option<String>,
    /// `--audience`.
    pub audience: Option<String>,
    /// The API server's version (the proxy becomes a native sidecar from 1.32).
    pub kubernetes: Option<Version>,
    pub custom: Option<CustomEndpoint>,
    pub proxy_image: Option<String>,
    pub proxy_init_image: Option<String>,
    /// `--log-level`, which the proxy sidecar is given too.
    pub log_level: Option<String>,
}

/// The custom token endpoint (v1.6): flags `--custom-token-endpoint-annotation-suffix` and
/// `--custom-token-endpoint-audience`, and the `AZURE_KUBERNETES_*` configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomEndpoint {
    pub annotation_suffix: String,
    pub audience: String,
    pub token_proxy: String,
    pub sni_name: String,
    pub ca_data: String,
    pub ca_config_map: String,
    pub ca_signer_name: String,
    pub ca_label_selector: Option<LabelSelector>,
}

impl CustomEndpoint {
    pub fn annotation(&self) -> String {
        format!("{USE_PREFIX}{}", self.annotation_suffix)
    }
}

/// A webhook that started: what every admission shares.
#[derive(Debug, Clone, PartialEq)]
pub struct Started {
    pub tenant_id: String,
    pub authority: String,
    pub audience: String,
    pub native_sidecar: bool,
    pub custom: Option<CustomEndpoint>,
    pub proxy_image: String,
    pub proxy_init_image: String,
    pub log_level: String,
}

/// Why the webhook process exits before serving (every pod it should mutate is then refused by
/// the API server, its failurePolicy being Fail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotStarted(pub String);

/// The webhook starting with `settings`: config.ParseConfig and NewPodMutator
/// (pkg/config/config.go@v1.6.0:30-75, pkg/webhook/webhook.go@v1.6.0:73-152).
pub fn start(profile: &Profile, settings: &Settings) -> Result<Started, NotStarted> {
    match (settings.tenant_id.as_deref(), profile.tenant_check) {
        (None, TenantCheck::Required) => {
            return Err(NotStarted(
                "required key AZURE_TENANT_ID missing value".into(),
            ));
        }
        (Some(""), TenantCheck::Required) => {
            return Err(NotStarted("AZURE_TENANT_ID is required".into()));
        }
        (None | Some(""), TenantCheck::Plain) => {
            return Err(NotStarted("tenant ID is required".into()));
        }
        _ => {}
    }
    if profile.custom_token_endpoint {
        custom_endpoint(settings.custom.as_ref())?;
    }
    if let Cloud::Unknown(message) = cloud_of(profile, settings) {
        return Err(NotStarted(message));
    }
    Ok(assume(profile, settings))
}

/// `AZURE_ENVIRONMENT` as the release reads it (v0.2.0 did not).
fn cloud_of(profile: &Profile, settings: &Settings) -> Cloud {
    let name = settings.cloud.as_deref().filter(|_| profile.reads_cloud);
    cloud::resolve_with(name.unwrap_or_default(), profile.cloud_aliases)
}

/// The webhook as `settings` describe it, whether or not it could start: what a pod it mutated
/// is expected to hold (an unknown value is empty, and an empty value is compared with nothing).
pub fn assume(profile: &Profile, settings: &Settings) -> Started {
    let authority = match cloud_of(profile, settings) {
        Cloud::Known(host) => host.to_string(),
        // Azure Stack's file is on the webhook's disk, an unknown name stops it: neither is known.
        Cloud::FromFile | Cloud::Unknown(_) => String::new(),
    };
    let audience = match settings.audience.as_deref() {
        Some(a) if !a.is_empty() => a.to_string(),
        // v0.1.0: the authority without its slash, then /federatedidentity.
        _ if profile.audience_from_authority => format!("{authority}federatedidentity"),
        _ => DEFAULT_AUDIENCE.to_string(),
    };
    let custom = if profile.custom_token_endpoint {
        custom_endpoint(settings.custom.as_ref()).ok().flatten()
    } else {
        None
    };
    Started {
        tenant_id: settings.tenant_id.clone().unwrap_or_default(),
        authority,
        audience,
        native_sidecar: profile.proxy == ProxyPlacement::NativeFrom132
            && settings.kubernetes.is_some_and(|v| v >= Version(1, 32, 0)),
        custom,
        proxy_image: settings.proxy_image.clone().unwrap_or_default(),
        proxy_init_image: settings.proxy_init_image.clone().unwrap_or_default(),
        log_level: settings
            .log_level
            .clone()
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| "info".into()),
    }
}

/// The custom token endpoint's configuration, validated as NewPodMutator and validateConfig do
/// (webhook.go@v1.6.0:82-107, config.go@v1.6.0:52-73).
fn custom_endpoint(c: Option<&CustomEndpoint>) -> Result<Option<CustomEndpoint>, NotStarted> {
    let Some(c) = c.filter(|c| !c.annotation_suffix.is_empty() || !c.audience.is_empty()) else {
        return Ok(None);
    };
    let fail = |m: &str| Err(NotStarted(m.to_string()));
    if c.annotation_suffix.is_empty() {
        return fail(
            "custom token endpoint annotation suffix cannot be empty when audience is set",
        );
    }
    if c.audience.is_empty() {
        return fail(
            "custom token endpoint audience cannot be empty when annotation suffix is set",
        );
    }
    if c.audience.eq_ignore_ascii_case(DEFAULT_AUDIENCE) {
        return fail(&format!(
            "custom token endpoint audience cannot be equal to default audience {}",
            go::quote(DEFAULT_AUDIENCE)
        ));
    }
    let sources = [&c.ca_data, &c.ca_config_map, &c.ca_signer_name];
    if sources.iter().filter(|s| !s.is_empty()).count() > 1 {
        return fail(
            "only one of AZURE_KUBERNETES_CA_DATA, AZURE_KUBERNETES_CA_CONFIGMAP_NAME or AZURE_KUBERNETES_CA_CTB_SIGNER_NAME can be set",
        );
    }
    if c.ca_label_selector.is_some() && c.ca_signer_name.is_empty() {
        return fail(
            "AZURE_KUBERNETES_CA_CTB_SIGNER_NAME needs to be set when AZURE_KUBERNETES_CA_CTB_LABEL_SELECTOR is set",
        );
    }
    Ok(Some(c.clone()))
}

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
        format!(
            "admission webhook \"{WEBHOOK_NAME}\" denied the request: {}",
            self.message
        )
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
    pub volume: String,
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
    if !triggered(profile, req) {
        return Admission::Untouched;
    }
    let Some(sa) = req.service_account else {
        return Admission::Denied(Denial {
            cause: Cause::ServiceAccountNotFound,
            message: format!("serviceaccounts {} not found", go::quote(&sa_name(pod))),
        });
    };
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
    if !triggered(profile, req) {
        return Vec::new();
    }
    let mut out = Vec::new();
    if req.service_account.is_none() {
        out.push(Denial {
            cause: Cause::ServiceAccountNotFound,
            message: format!("serviceaccounts {} not found", go::quote(&sa_name(req.pod))),
        });
    }
    if let Err(d) = proxy(profile, started, req.pod) {
        out.push(d);
    }
    if let Some(Err(d)) = req
        .service_account
        .map(|sa| expiration(profile, req.pod, sa))
    {
        out.push(d);
    }
    out
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
        volume: volume_name(profile, pod),
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

/// `buildVolumeName` (webhook.go@v1.6.0:597-601): the prefix and the SHA-256 of the pod's name
/// (or `generateName + " (prefix)"`), cut to 63 characters.
fn volume_name(profile: &Profile, pod: &Pod) -> String {
    if profile.volume == VolumeNaming::Fixed {
        return FIXED_VOLUME.into();
    }
    let name = match pod.metadata.name.as_deref().filter(|n| !n.is_empty()) {
        Some(n) => n.to_string(),
        None => format!(
            "{} (prefix)",
            pod.metadata.generate_name.as_deref().unwrap_or_default()
        ),
    };
    let hash: String = Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{RESERVED_PREFIX}{}", &hash[..63 - RESERVED_PREFIX.len()])
}

/// The pod after the webhook's patch (webhook.go@v1.6.0:213-239).
pub fn apply(m: &Mutation, started: &Started, pod: &Pod) -> Pod {
    let mut pod = pod.clone();
    let spec = pod.spec.get_or_insert_with(Default::default);
    if m.strips_native_sidecars {
        for c in spec.init_containers.iter_mut().flatten() {
            c.restart_policy = None;
        }
    }
    if let Some(p) = &m.proxy {
        add_proxy(started, p, spec);
    }
    if m.init_containers {
        for c in spec.init_containers.iter_mut().flatten() {
            mutate_container(m, c);
        }
    }
    for c in &mut spec.containers {
        mutate_container(m, c);
    }
    let volume = token_volume(m);
    let volumes = spec.volumes.get_or_insert_with(Vec::new);
    match m.naming {
        VolumeNaming::Reserved => match volumes.iter_mut().find(|v| v.name == m.volume) {
            Some(v) => *v = volume,
            None => volumes.push(volume),
        },
        // Before v1.6 any projected token at the webhook's path counted as its volume
        // (W@v1.5.1:424-460).
        VolumeNaming::Fixed => {
            let has_token = volumes.iter().any(|v| {
                v.projected
                    .iter()
                    .flat_map(|p| p.sources.iter().flatten())
                    .filter_map(|s| s.service_account_token.as_ref())
                    .any(|t| t.path == FIXED_VOLUME)
            });
            if !has_token {
                volumes.push(volume);
            }
        }
    }
    pod
}

fn mutate_container(m: &Mutation, c: &mut Container) {
    if m.skips(&c.name) {
        return;
    }
    let env = c.env.get_or_insert_with(Vec::new);
    for (name, value) in &m.env {
        let present = env.iter().any(|e| e.name == *name);
        if !present && (m.injects_empty || !value.is_empty()) {
            env.push(EnvVar {
                name: name.to_string(),
                value: Some(value.clone()),
                value_from: None,
            });
        }
    }
    let mount = VolumeMount {
        name: m.volume.clone(),
        mount_path: m.mount_path.into(),
        read_only: Some(true),
        ..Default::default()
    };
    let mounts = c.volume_mounts.get_or_insert_with(Vec::new);
    match mounts.iter_mut().find(|v| v.name == m.volume) {
        Some(v) if m.naming == VolumeNaming::Reserved => *v = mount,
        Some(_) => {}
        None => mounts.push(mount),
    }
}

fn token_volume(m: &Mutation) -> Volume {
    let token_file = m
        .token_path
        .strip_prefix(m.mount_path)
        .unwrap_or(&m.token_path)
        .trim_start_matches('/');
    let mut sources = vec![VolumeProjection {
        service_account_token: Some(ServiceAccountTokenProjection {
            path: token_file.into(),
            expiration_seconds: Some(m.expiration),
            audience: Some(m.audience.clone()),
        }),
        ..Default::default()
    }];
    if let Some(c) = &m.custom {
        sources.extend(ca_sources(c));
    }
    Volume {
        name: m.volume.clone(),
        projected: Some(ProjectedVolumeSource {
            sources: Some(sources),
            default_mode: None,
        }),
        ..Default::default()
    }
}

/// The custom token endpoint's CA in the token volume (webhook.go@v1.6.0:509-541).
fn ca_sources(c: &CustomEndpoint) -> Vec<VolumeProjection> {
    let mut out = Vec::new();
    if !c.ca_config_map.is_empty() {
        out.push(VolumeProjection {
            config_map: Some(ConfigMapProjection {
                name: c.ca_config_map.clone(),
                items: Some(vec![KeyToPath {
                    key: "ca.crt".into(),
                    path: CA_FILE.into(),
                    mode: None,
                }]),
                optional: Some(false),
            }),
            ..Default::default()
        });
    }
    if !c.ca_signer_name.is_empty() {
        out.push(VolumeProjection {
            cluster_trust_bundle: Some(ClusterTrustBundleProjection {
                signer_name: Some(c.ca_signer_name.clone()),
                label_selector: c.ca_label_selector.clone(),
                path: CA_FILE.into(),
                optional: Some(false),
                name: None,
            }),
            ..Default::default()
        });
    }
    out
}

/// The proxy's init container (appended unless present) and sidecar (placed as the release
/// does unless present) (webhook.go@v1.6.0:266-337).
fn add_proxy(m: &Started, p: &Proxy, spec: &mut k8s_openapi::api::core::v1::PodSpec) {
    let present = |c: &Container, name: &str, image: &str| {
        c.name == name
            || (p.found_by_image
                && !image.is_empty()
                && c.image.as_deref().is_some_and(|i| i.starts_with(image)))
    };
    let init_image = image_repo(&m.proxy_init_image);
    let image = image_repo(&m.proxy_image);
    let inits = spec.init_containers.get_or_insert_with(Vec::new);
    if !inits
        .iter()
        .any(|c| present(c, PROXY_INIT_NAME, init_image))
    {
        inits.push(proxy_init(m, p));
    }
    let sidecar = |restart: Option<String>| proxy_sidecar(m, p, restart);
    if p.native {
        if !inits.iter().any(|c| c.name == PROXY_NAME) {
            inits.insert(0, sidecar(Some("Always".into())));
        }
        return;
    }
    if spec
        .containers
        .iter()
        .any(|c| present(c, PROXY_NAME, image))
    {
        return;
    }
    match p.placement {
        ProxyPlacement::Appended => spec.containers.push(sidecar(None)),
        _ => spec.containers.insert(0, sidecar(None)),
    }
}

/// `<registry>/proxy` of `<registry>/proxy:<tag>`: what releases before v1.4 matched images by.
fn image_repo(image: &str) -> &str {
    image.rsplit_once(':').map_or(image, |(repo, _)| repo)
}

fn proxy_init(m: &Started, p: &Proxy) -> Container {
    Container {
        name: PROXY_INIT_NAME.into(),
        image: Some(m.proxy_init_image.clone()),
        image_pull_policy: Some("IfNotPresent".into()),
        security_context: Some(SecurityContext {
            capabilities: Some(Capabilities {
                add: Some(vec!["NET_ADMIN".into()]),
                drop: Some(vec!["ALL".into()]),
            }),
            privileged: Some(true),
            run_as_non_root: p.init_root_explicit.then_some(false),
            run_as_user: Some(0),
            ..Default::default()
        }),
        env: Some(vec![EnvVar {
            name: "PROXY_PORT".into(),
            value: Some(p.port.to_string()),
            value_from: None,
        }]),
        ..Default::default()
    }
}

fn proxy_sidecar(m: &Started, p: &Proxy, restart_policy: Option<String>) -> Container {
    let port = p.port;
    let level = format!("--log-level={}", m.log_level);
    let mut args = vec![format!("--proxy-port={port}")];
    let mut probe = vec![
        "/proxy".to_string(),
        format!("--proxy-port={port}"),
        "--probe".into(),
    ];
    if p.log_level {
        args.push(level.clone());
        probe.push(level);
    }
    let lifecycle = p.probe.then(|| Lifecycle {
        post_start: Some(LifecycleHandler {
            exec: Some(ExecAction {
                command: Some(probe),
            }),
            ..Default::default()
        }),
        ..Default::default()
    });
    let security_context = p.hardened.then(|| SecurityContext {
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities {
            add: None,
            drop: Some(vec!["ALL".into()]),
        }),
        privileged: Some(false),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        ..Default::default()
    });
    Container {
        name: PROXY_NAME.into(),
        image: Some(m.proxy_image.clone()),
        image_pull_policy: Some("IfNotPresent".into()),
        args: Some(args),
        ports: Some(vec![ContainerPort {
            container_port: port,
            ..Default::default()
        }]),
        lifecycle,
        security_context,
        restart_policy,
        ..Default::default()
    }
}

/// Cases the webhook's own tests do not cover, each read from its source (v1.6.0 unless named).
#[cfg(test)]
mod tests {
    use super::*;

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

    /// ParseConfig and NewPodMutator (CFG:46-74, W:82-126): what stops the webhook.
    #[test]
    fn what_stops_the_webhook() {
        let latest = Profile::of(Version::LATEST);
        let err = |s: Settings, p: &Profile| start(p, &s).unwrap_err().0;
        assert_eq!(
            err(Settings::default(), &latest),
            "required key AZURE_TENANT_ID missing value"
        );
        assert_eq!(
            err(Settings::default(), &Profile::of(Version(1, 3, 0))),
            "tenant ID is required"
        );
        let with = |cloud: &str| Settings {
            tenant_id: Some("t".into()),
            cloud: Some(cloud.into()),
            ..Default::default()
        };
        assert!(start(&latest, &with("azureusgovernment")).is_ok());
        assert!(err(with("AzureCloud"), &Profile::of(Version(0, 9, 0))).contains("\"AZURECLOUD\""));
        assert!(
            start(&Profile::of(Version(0, 2, 0)), &with("nonsense")).is_ok(),
            "v0.2.0 ignores it"
        );
        let custom = |c: CustomEndpoint| Settings {
            tenant_id: Some("t".into()),
            custom: Some(c),
            ..Default::default()
        };
        let only_suffix = CustomEndpoint {
            annotation_suffix: "ib".into(),
            ..Default::default()
        };
        assert_eq!(
            err(custom(only_suffix), &latest),
            "custom token endpoint audience cannot be empty when annotation suffix is set"
        );
        let default_audience = CustomEndpoint {
            annotation_suffix: "ib".into(),
            audience: "API://AzureADTokenExchange".into(),
            ..Default::default()
        };
        assert!(
            err(custom(default_audience), &latest).contains("cannot be equal to default audience")
        );
    }

    /// buildVolumeName (W:597-601): a controller's pod has no name yet, only generateName.
    #[test]
    fn reserved_volume_names_hash_the_pod_name() {
        let profile = Profile::of(Version::LATEST);
        let mut p = pod(&[], false);
        assert_eq!(
            volume_name(&profile, &p),
            "azure-workload-identity-reserved-148de9c5a7a44d19e56cd9ae1a554b"
        );
        p.metadata.name = None;
        p.metadata.generate_name = Some("web-7d9f-".into());
        let expected: String = Sha256::digest(b"web-7d9f- (prefix)")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            volume_name(&profile, &p),
            format!("{RESERVED_PREFIX}{}", &expected[..30])
        );
        assert_eq!(
            volume_name(&Profile::of(Version(1, 5, 1)), &p),
            "azure-identity-token"
        );
    }
}
