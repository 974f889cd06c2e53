//! The webhook's behaviour by release, as data: each row is one behaviour as a release set it,
//! with the source that shows it (tag:path:lines in Azure/azure-workload-identity, and the
//! commit where it changed). [`Profile::of`] folds the rows up to a version into what that
//! release does; docs/webhook.md renders the rows (`widiag webhook --markdown`).

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u64, pub u64, pub u64);

impl Version {
    pub const V1_0: Version = Version(1, 0, 0);
    pub const V1_6: Version = Version(1, 6, 0);
    /// The newest release modelled: what widiag assumes when the version is unknown.
    pub const LATEST: Version = Version(1, 6, 0);

    /// From an image reference such as `mcr.microsoft.com/oss/azure/workload-identity/webhook:v1.5.1`.
    /// A digest (`@sha256:…`) is not a tag: it is cut off first.
    pub fn from_image(image: &str) -> Option<Version> {
        let image = image.split_once('@').map_or(image, |(named, _)| named);
        let (repo, tag) = image.rsplit_once(':')?;
        // `registry:5000/webhook` has a port, not a tag.
        if tag.contains('/') || repo.is_empty() {
            return None;
        }
        Version::parse(tag)
    }

    /// `v1.5.1`, `1.5`, `v1.0.0-rc.0` (pre-release suffixes are ignored).
    pub fn parse(tag: &str) -> Option<Version> {
        let tag = tag.trim_start_matches('v');
        let mut parts = tag.split(['.', '-']).map(|p| p.parse::<u64>());
        Some(Version(
            parts.next()?.ok()?,
            parts.next()?.ok()?,
            parts.next().and_then(Result::ok).unwrap_or(0),
        ))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "v{}.{}.{}", self.0, self.1, self.2)
    }
}

/// Which pods the webhook's handler mutates (the API server's objectSelector comes first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The ServiceAccount has the `use` label, whatever its value.
    ServiceAccountLabel,
    /// The ServiceAccount has the `use` label or annotation, whatever its value.
    ServiceAccountLabelOrAnnotation,
    /// That, or the pod has the `use` label, whatever its value.
    PodOrServiceAccount,
    /// Every pod the API server sends: the objectSelector (`use: "true"`) alone decides.
    Selector,
}

/// Where the proxy sidecar goes, when a pod asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyPlacement {
    None,
    /// Appended to the containers.
    Appended,
    /// First among the containers.
    Prepended,
    /// First among the containers, or first among the init containers as a native sidecar
    /// (`restartPolicy: Always`) when the API server was 1.32 or newer as the webhook started.
    NativeFrom132,
}

/// How the projected token volume is named, and what happens to one the pod already has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeNaming {
    /// `azure-identity-token`. The volume is not added when any projected volume already has a
    /// token at path `azure-identity-token`; the mount not when a mount of that name exists.
    Fixed,
    /// `azure-workload-identity-reserved-<sha256(pod name)>`, cut to 63 characters; a volume or
    /// mount of that name is replaced.
    Reserved,
}

/// How a missing tenant stops the webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantCheck {
    /// "tenant ID is required", set or not.
    Plain,
    /// envconfig's `required` for an unset variable, then "AZURE_TENANT_ID is required".
    Required,
}

/// The annotation and label names a release reads.
#[derive(Debug, PartialEq, Eq)]
pub struct Keys {
    pub use_: &'static str,
    pub client_id: &'static str,
    pub tenant_id: &'static str,
    pub expiration: &'static str,
    pub skip_containers: &'static str,
}

pub static POD_IDENTITY_KEYS: Keys = Keys {
    use_: "azure.pod.identity/use",
    client_id: "azure.pod.identity/client-id",
    tenant_id: "azure.pod.identity/tenant-id",
    expiration: "azure.pod.identity/service-account-token-expiration",
    skip_containers: "azure.pod.identity/skip-containers",
};

pub static WORKLOAD_IDENTITY_KEYS: Keys = Keys {
    use_: super::USE_LABEL,
    client_id: super::CLIENT_ID,
    tenant_id: super::TENANT_ID,
    expiration: super::EXPIRATION,
    skip_containers: super::SKIP_CONTAINERS,
};

/// What one release does. Every field is set by a row of [`ROWS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub release: Version,
    pub trigger: Trigger,
    /// The chart's (or manifest's) failurePolicy: Ignore admits pods unmutated while the webhook
    /// is down.
    pub failure_policy_ignore: bool,
    pub keys: &'static Keys,
    pub token_env: &'static str,
    pub mount_path: &'static str,
    /// The token's path inside the mount.
    pub token_file: &'static str,
    pub volume: VolumeNaming,
    pub default_expiration: i64,
    /// Without `--audience`, the audience is `<authority>federatedidentity` (else
    /// `api://AzureADTokenExchange`).
    pub audience_from_authority: bool,
    pub reads_cloud: bool,
    /// go-autorest accepts `AzureCloud` and `AzureUSGovernment` too.
    pub cloud_aliases: bool,
    pub tenant_check: TenantCheck,
    pub authority_env: bool,
    pub init_containers: bool,
    pub proxy: ProxyPlacement,
    pub proxy_rejects_host_network: bool,
    /// Empty values (an empty client-id, tenant) are injected as empty variables.
    pub injects_empty: bool,
    /// The webhook's Kubernetes types know `restartPolicy` on init containers; older ones drop
    /// it from every pod they mutate (their patch removes fields they do not know).
    pub keeps_native_sidecars: bool,
    pub custom_token_endpoint: bool,
    /// The chart's configuration asks to be called again after later webhooks (reinvocationPolicy
    /// IfNeeded), so containers they add (service-mesh sidecars) are mutated too.
    pub reinvoked: bool,
    /// The sidecar has a postStart `--probe`.
    pub proxy_probe: bool,
    /// The sidecar runs at the webhook's `--log-level`.
    pub proxy_log_level: bool,
    /// The sidecar has a restrictive securityContext.
    pub proxy_hardened: bool,
    /// proxy-init says `runAsNonRoot: false`.
    pub proxy_init_root_explicit: bool,
    /// An existing proxy container also counts when its image is the proxy image.
    pub proxy_found_by_image: bool,
}

impl Profile {
    /// The token file the webhook points `token_env` at.
    pub fn token_path(&self) -> String {
        format!("{}/{}", self.mount_path, self.token_file)
    }

    /// What `release` does: every row up to it, in order (a tag older than the first release
    /// gets the first release's behaviour).
    pub fn of(release: Version) -> Profile {
        let mut p = Partial::default();
        for row in ROWS.iter().filter(|r| r.since <= release.max(V0_1)) {
            row.effect.apply(&mut p);
        }
        p.complete(release)
            .expect("the v0.1.0 rows set every behaviour (every_release_has_every_behaviour)")
    }
}

/// One behaviour, as of a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Trigger(Trigger),
    FailurePolicyIgnore(bool),
    Keys(&'static Keys),
    TokenEnv(&'static str),
    MountPath(&'static str),
    TokenFile(&'static str),
    Volume(VolumeNaming),
    DefaultExpiration(i64),
    AudienceFromAuthority(bool),
    ReadsCloud(bool),
    CloudAliases(bool),
    TenantCheck(TenantCheck),
    AuthorityEnv(bool),
    InitContainers(bool),
    Proxy(ProxyPlacement),
    ProxyRejectsHostNetwork(bool),
    InjectsEmpty(bool),
    KeepsNativeSidecars(bool),
    CustomTokenEndpoint(bool),
    Reinvoked(bool),
    ProxyProbe(bool),
    ProxyLogLevel(bool),
    ProxyHardened(bool),
    ProxyInitRootExplicit(bool),
    ProxyFoundByImage(bool),
}

impl Effect {
    /// The behaviour in words, for docs/webhook.md and `widiag webhook`.
    pub fn describe(&self) -> String {
        let yes = |b: bool, y: &str, n: &str| if b { y.to_string() } else { n.to_string() };
        match *self {
            Effect::Trigger(t) => match t {
                Trigger::ServiceAccountLabel => "mutates pods whose ServiceAccount has the `use` label (any value)".into(),
                Trigger::ServiceAccountLabelOrAnnotation => "mutates pods whose ServiceAccount has the `use` label or annotation (any value)".into(),
                Trigger::PodOrServiceAccount => "mutates pods with the `use` label (any value), or whose ServiceAccount has it as a label or annotation".into(),
                Trigger::Selector => "the handler mutates every pod it is sent; the chart's objectSelector `use: \"true\"` decides".into(),
            },
            Effect::FailurePolicyIgnore(b) => format!("failurePolicy {}", yes(b, "Ignore", "Fail")),
            Effect::Keys(k) => format!("annotations and label under `{}`", k.use_.trim_end_matches("use")),
            Effect::TokenEnv(v) => format!("token path variable `{v}`"),
            Effect::MountPath(v) => format!("token volume mounted at `{v}`"),
            Effect::TokenFile(v) => format!("token file `{v}` inside the mount"),
            Effect::Volume(VolumeNaming::Fixed) => "volume `azure-identity-token`; not added when a projected token at that path exists, mount kept when one of that name exists".into(),
            Effect::Volume(VolumeNaming::Reserved) => "volume `azure-workload-identity-reserved-<sha256(pod name)>` (63 characters); a volume or mount of that name is replaced".into(),
            Effect::DefaultExpiration(v) => format!("default token expiration {v} s (3600..86400 accepted, else the pod is refused)"),
            Effect::AudienceFromAuthority(b) => yes(b, "default audience `<authority>federatedidentity`", "default audience `api://AzureADTokenExchange`"),
            Effect::ReadsCloud(b) => yes(b, "reads `AZURE_ENVIRONMENT`", "ignores `AZURE_ENVIRONMENT`"),
            Effect::CloudAliases(b) => yes(b, "cloud names include the aliases `AzureCloud`, `AzureUSGovernment`", "cloud names without aliases"),
            Effect::TenantCheck(TenantCheck::Plain) => "exits with \"tenant ID is required\" without `AZURE_TENANT_ID`".into(),
            Effect::TenantCheck(TenantCheck::Required) => "exits with \"required key AZURE_TENANT_ID missing value\" (unset) or \"AZURE_TENANT_ID is required\" (empty)".into(),
            Effect::AuthorityEnv(b) => yes(b, "injects `AZURE_AUTHORITY_HOST`", "no `AZURE_AUTHORITY_HOST`"),
            Effect::InitContainers(b) => yes(b, "mutates init containers too", "mutates containers only"),
            Effect::Proxy(ProxyPlacement::None) => "no proxy sidecar".into(),
            Effect::Proxy(ProxyPlacement::Appended) => "proxy (on the `inject-proxy-sidecar` annotation's presence): init container appended, sidecar appended".into(),
            Effect::Proxy(ProxyPlacement::Prepended) => "proxy sidecar prepended to the containers".into(),
            Effect::Proxy(ProxyPlacement::NativeFrom132) => "proxy sidecar is a native sidecar (first init container) when the API server was 1.32+ at the webhook's start".into(),
            Effect::ProxyRejectsHostNetwork(b) => yes(b, "refuses the proxy on hostNetwork pods", "allows the proxy on hostNetwork pods"),
            Effect::InjectsEmpty(b) => yes(b, "injects variables whose value is empty", "injects only non-empty values"),
            Effect::KeepsNativeSidecars(b) => yes(b, "keeps `restartPolicy` on init containers", "drops `restartPolicy` from init containers (Kubernetes types before 1.28)"),
            Effect::Reinvoked(b) => yes(b, "called again after later webhooks (reinvocationPolicy IfNeeded): their sidecars are mutated too", "not called again: containers later webhooks add get nothing"),
            Effect::CustomTokenEndpoint(b) => yes(b, "custom token endpoint (`use-<suffix>` annotation, custom audience, `AZURE_KUBERNETES_*`, CA)", "no custom token endpoint"),
            Effect::ProxyProbe(b) => yes(b, "proxy sidecar has a postStart `--probe`", "proxy sidecar has no probe"),
            Effect::ProxyLogLevel(b) => yes(b, "proxy sidecar gets the webhook's `--log-level`", "proxy sidecar has no log level"),
            Effect::ProxyHardened(b) => yes(b, "proxy sidecar runs non-root, read-only, without privileges", "proxy sidecar has no securityContext"),
            Effect::ProxyInitRootExplicit(b) => yes(b, "proxy-init says `runAsNonRoot: false`", "proxy-init leaves runAsNonRoot unset"),
            Effect::ProxyFoundByImage(b) => yes(b, "an existing container counts as the proxy by name or image", "an existing container counts as the proxy by name only"),
        }
    }
}

pub struct Row {
    pub since: Version,
    pub effect: Effect,
    /// Where this is in the webhook's source: `tag:path:lines` (W = pkg/webhook/webhook.go,
    /// C = pkg/webhook/consts.go, CFG = pkg/config/config.go, CH = the Helm chart) and the commit.
    pub source: &'static str,
}

const fn row(since: Version, effect: Effect, source: &'static str) -> Row {
    Row {
        since,
        effect,
        source,
    }
}

const V0_1: Version = Version(0, 1, 0);

/// The table. Rows at v0.1.0 set every behaviour; each later row is a change. Read from
/// Azure/azure-workload-identity at each tag (diffs of W, C, CFG, cmd/webhook/main.go, the chart
/// and go.mod between consecutive tags).
#[rustfmt::skip]
pub static ROWS: &[Row] = &[
    row(V0_1, Effect::Trigger(Trigger::ServiceAccountLabel), "v0.1.0:W:83-86,147-153 (label key only, any value)"),
    row(V0_1, Effect::FailurePolicyIgnore(true), "v0.1.0:deploy/aad-pi-webhook.yaml (MWC failurePolicy: Ignore)"),
    row(V0_1, Effect::Keys(&POD_IDENTITY_KEYS), "v0.1.0:C:6-17"),
    row(V0_1, Effect::TokenEnv("TOKEN_FILE_PATH"), "v0.1.0:C:29-31"),
    row(V0_1, Effect::MountPath("/var/run/secrets/tokens"), "v0.1.0:C:29-31"),
    row(V0_1, Effect::TokenFile("azure-identity-token"), "v0.1.0:W:236-250"),
    row(V0_1, Effect::Volume(VolumeNaming::Fixed), "v0.1.0:W:270-287"),
    row(V0_1, Effect::DefaultExpiration(86400), "v0.1.0:C:20-22"),
    row(V0_1, Effect::AudienceFromAuthority(true), "v0.1.0:W:41-49, cmd/webhook/main.go:31"),
    row(V0_1, Effect::ReadsCloud(true), "v0.1.0:CFG:10-11"),
    row(V0_1, Effect::CloudAliases(false), "v0.1.0:go.mod:6 (go-autorest v0.11.1; aliases from autorest/v0.11.27, commit 7525a9b)"),
    row(V0_1, Effect::TenantCheck(TenantCheck::Plain), "v0.1.0:CFG:29-33"),
    row(V0_1, Effect::AuthorityEnv(false), "v0.1.0:W:214-233"),
    row(V0_1, Effect::InitContainers(false), "v0.1.0:W:99-108"),
    row(V0_1, Effect::Proxy(ProxyPlacement::None), "v0.1.0:W (no proxy)"),
    row(V0_1, Effect::ProxyRejectsHostNetwork(false), "v0.1.0:W (no proxy)"),
    row(V0_1, Effect::InjectsEmpty(true), "v0.1.0:W:214-233 (added when absent, whatever the value)"),
    row(V0_1, Effect::KeepsNativeSidecars(false), "v0.1.0:go.mod:11,21 (k8s.io/api v0.20.2; restartPolicy arrives in v0.28.0)"),
    row(V0_1, Effect::CustomTokenEndpoint(false), "v0.1.0:W (none)"),
    row(V0_1, Effect::Reinvoked(false), "v0.1.0:deploy/aad-pi-webhook.yaml (no reinvocationPolicy: Never)"),
    row(V0_1, Effect::ProxyProbe(false), "v0.1.0:W (no proxy)"),
    row(V0_1, Effect::ProxyLogLevel(false), "v0.1.0:W (no proxy)"),
    row(V0_1, Effect::ProxyHardened(false), "v0.1.0:W (no proxy)"),
    row(V0_1, Effect::ProxyInitRootExplicit(false), "v0.1.0:W (no proxy)"),
    row(V0_1, Effect::ProxyFoundByImage(true), "v0.11.0:W:213,242 (image prefix or name; no proxy before v0.11)"),
    row(Version(0, 2, 0), Effect::AudienceFromAuthority(false), "v0.2.0:W (default api://AzureADTokenExchange, commit 93e6505)"),
    row(Version(0, 2, 0), Effect::ReadsCloud(false), "v0.2.0:CFG:10 (AZURE_ENVIRONMENT removed)"),
    row(Version(0, 3, 0), Effect::ReadsCloud(true), "v0.3.0:W:51-54"),
    row(Version(0, 3, 0), Effect::AuthorityEnv(true), "v0.3.0:W:235-238,353-362 (commit c6b92d5)"),
    row(Version(0, 4, 0), Effect::Keys(&WORKLOAD_IDENTITY_KEYS), "v0.4.0:C:6-17 (commit f5f3cd8)"),
    row(Version(0, 4, 0), Effect::TokenEnv("AZURE_FEDERATED_TOKEN_FILE"), "v0.4.0:C:29, W:245-246 (commit 4220f22)"),
    row(Version(0, 5, 0), Effect::InitContainers(true), "v0.5.0:W:116-117,156-170 (commit cde4de7)"),
    row(Version(0, 7, 0), Effect::DefaultExpiration(3600), "v0.7.0:C:20-25 (commit 584ae7f)"),
    row(Version(0, 8, 0), Effect::MountPath("/var/run/secrets/azure/tokens"), "v0.8.0:C:35 (commit 395b841)"),
    row(Version(0, 10, 0), Effect::CloudAliases(true), "v0.10.0:go.mod (go-autorest v0.11.27: environments.go:33-40)"),
    row(Version(0, 11, 0), Effect::Trigger(Trigger::ServiceAccountLabelOrAnnotation), "v0.11.0:W:121,265-269 (commit 0171ac8)"),
    row(Version(0, 11, 0), Effect::Proxy(ProxyPlacement::Appended), "v0.11.0:W:140-141,210-262,271-278 (commit 5ae082d)"),
    row(Version(0, 12, 0), Effect::ProxyProbe(true), "v0.12.0:W:257-268 (commit e2bba60)"),
    row(Version(0, 15, 0), Effect::Trigger(Trigger::PodOrServiceAccount), "v0.15.0:W:134-143,300-311 (commit b52c7f9)"),
    row(Version::V1_0, Effect::Trigger(Trigger::Selector), "v1.0.0:W:82-170, CH MWC objectSelector (commits 8c37dc1, 653d013)"),
    row(Version::V1_0, Effect::ProxyLogLevel(true), "v1.0.0:W (currentLogLevel), cmd/webhook/main.go --log-level"),
    row(Version::V1_0, Effect::ProxyInitRootExplicit(true), "v1.0.0:W:209-211 (commit 03e849e)"),
    row(Version::V1_0, Effect::Reinvoked(true), "v1.0.0-rc.0:CH MWC reinvocationPolicy: IfNeeded (commit a2c807b)"),
    row(Version::V1_0, Effect::FailurePolicyIgnore(false), "v1.0.0:CH MWC failurePolicy: Fail (commit 653d013)"),
    row(Version(1, 1, 0), Effect::ProxyHardened(true), "v1.1.0:W (commit 2e1d89a); v1.6.0:W:324-332"),
    row(Version(1, 2, 0), Effect::Proxy(ProxyPlacement::Prepended), "v1.2.0:W:236 (commit 9d068e1)"),
    row(Version(1, 2, 0), Effect::ProxyRejectsHostNetwork(true), "v1.2.0:W:128-134 (commit 4a889b7)"),
    row(Version(1, 3, 0), Effect::KeepsNativeSidecars(true), "v1.3.0:go.mod:30 (k8s.io/api v0.29.5; commit 2a3942e)"),
    row(Version(1, 4, 0), Effect::TenantCheck(TenantCheck::Required), "v1.4.0:CFG:10-11,31-35"),
    row(Version(1, 4, 0), Effect::ProxyFoundByImage(false), "v1.4.0:W:73-80,203-240 (commit 5df2fd9)"),
    row(Version(1, 5, 0), Effect::Proxy(ProxyPlacement::NativeFrom132), "v1.5.0:W:79,175-180,292,495-507 (commit ed30604)"),
    row(Version(1, 5, 1), Effect::InjectsEmpty(false), "v1.5.1:W:399 (commits b493ca3, 6618c7d)"),
    row(Version::V1_6, Effect::Volume(VolumeNaming::Reserved), "v1.6.0:W:468-484,543-551,597-601 (commit d878231)"),
    row(Version::V1_6, Effect::MountPath("/var/run/secrets/azure/wi"), "v1.6.0:C:55-57"),
    row(Version::V1_6, Effect::TokenFile("token/azure-identity-token"), "v1.6.0:C:55-57"),
    row(Version::V1_6, Effect::CustomTokenEndpoint(true), "v1.6.0:W:82-107,347-358,451-456,509-541"),
];

/// A release's behaviours while the rows are folded.
#[derive(Default)]
struct Partial {
    trigger: Option<Trigger>,
    failure_policy_ignore: Option<bool>,
    keys: Option<&'static Keys>,
    token_env: Option<&'static str>,
    mount_path: Option<&'static str>,
    token_file: Option<&'static str>,
    volume: Option<VolumeNaming>,
    default_expiration: Option<i64>,
    audience_from_authority: Option<bool>,
    reads_cloud: Option<bool>,
    cloud_aliases: Option<bool>,
    tenant_check: Option<TenantCheck>,
    authority_env: Option<bool>,
    init_containers: Option<bool>,
    proxy: Option<ProxyPlacement>,
    proxy_rejects_host_network: Option<bool>,
    injects_empty: Option<bool>,
    keeps_native_sidecars: Option<bool>,
    custom_token_endpoint: Option<bool>,
    reinvoked: Option<bool>,
    proxy_probe: Option<bool>,
    proxy_log_level: Option<bool>,
    proxy_hardened: Option<bool>,
    proxy_init_root_explicit: Option<bool>,
    proxy_found_by_image: Option<bool>,
}

impl Effect {
    fn apply(self, p: &mut Partial) {
        match self {
            Effect::Trigger(v) => p.trigger = Some(v),
            Effect::FailurePolicyIgnore(v) => p.failure_policy_ignore = Some(v),
            Effect::Keys(v) => p.keys = Some(v),
            Effect::TokenEnv(v) => p.token_env = Some(v),
            Effect::MountPath(v) => p.mount_path = Some(v),
            Effect::TokenFile(v) => p.token_file = Some(v),
            Effect::Volume(v) => p.volume = Some(v),
            Effect::DefaultExpiration(v) => p.default_expiration = Some(v),
            Effect::AudienceFromAuthority(v) => p.audience_from_authority = Some(v),
            Effect::ReadsCloud(v) => p.reads_cloud = Some(v),
            Effect::CloudAliases(v) => p.cloud_aliases = Some(v),
            Effect::TenantCheck(v) => p.tenant_check = Some(v),
            Effect::AuthorityEnv(v) => p.authority_env = Some(v),
            Effect::InitContainers(v) => p.init_containers = Some(v),
            Effect::Proxy(v) => p.proxy = Some(v),
            Effect::ProxyRejectsHostNetwork(v) => p.proxy_rejects_host_network = Some(v),
            Effect::InjectsEmpty(v) => p.injects_empty = Some(v),
            Effect::KeepsNativeSidecars(v) => p.keeps_native_sidecars = Some(v),
            Effect::CustomTokenEndpoint(v) => p.custom_token_endpoint = Some(v),
            Effect::Reinvoked(v) => p.reinvoked = Some(v),
            Effect::ProxyProbe(v) => p.proxy_probe = Some(v),
            Effect::ProxyLogLevel(v) => p.proxy_log_level = Some(v),
            Effect::ProxyHardened(v) => p.proxy_hardened = Some(v),
            Effect::ProxyInitRootExplicit(v) => p.proxy_init_root_explicit = Some(v),
            Effect::ProxyFoundByImage(v) => p.proxy_found_by_image = Some(v),
        }
    }
}

impl Partial {
    /// The profile, once every behaviour has a value (the v0.1.0 rows give each one).
    fn complete(self, release: Version) -> Option<Profile> {
        Some(Profile {
            release,
            trigger: self.trigger?,
            failure_policy_ignore: self.failure_policy_ignore?,
            keys: self.keys?,
            token_env: self.token_env?,
            mount_path: self.mount_path?,
            token_file: self.token_file?,
            volume: self.volume?,
            default_expiration: self.default_expiration?,
            audience_from_authority: self.audience_from_authority?,
            reads_cloud: self.reads_cloud?,
            cloud_aliases: self.cloud_aliases?,
            tenant_check: self.tenant_check?,
            authority_env: self.authority_env?,
            init_containers: self.init_containers?,
            proxy: self.proxy?,
            proxy_rejects_host_network: self.proxy_rejects_host_network?,
            injects_empty: self.injects_empty?,
            keeps_native_sidecars: self.keeps_native_sidecars?,
            custom_token_endpoint: self.custom_token_endpoint?,
            reinvoked: self.reinvoked?,
            proxy_probe: self.proxy_probe?,
            proxy_log_level: self.proxy_log_level?,
            proxy_hardened: self.proxy_hardened?,
            proxy_init_root_explicit: self.proxy_init_root_explicit?,
            proxy_found_by_image: self.proxy_found_by_image?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_release_has_every_behaviour() {
        let mut p = Partial::default();
        for row in ROWS.iter().filter(|r| r.since == V0_1) {
            row.effect.apply(&mut p);
        }
        assert!(p.complete(V0_1).is_some(), "a behaviour has no v0.1.0 row");
        assert_eq!(Profile::of(Version(0, 0, 5)).token_env, "TOKEN_FILE_PATH");
        assert!(
            ROWS.windows(2).all(|w| w[0].since <= w[1].since),
            "rows in release order"
        );
    }

    #[test]
    fn release_lines_differ_where_the_source_does() {
        let v15 = Profile::of(Version(1, 5, 1));
        let v16 = Profile::of(Version(1, 6, 0));
        assert_eq!(v15.token_path(), super::super::TOKEN_PATH_V1_5);
        assert_eq!(v16.token_path(), super::super::TOKEN_PATH_V1_6);
        assert_eq!(
            Profile::of(Version(0, 15, 0)).trigger,
            Trigger::PodOrServiceAccount
        );
        assert_eq!(
            Profile::of(Version(0, 14, 0)).trigger,
            Trigger::ServiceAccountLabelOrAnnotation
        );
        assert_eq!(Profile::of(Version(1, 0, 0)).trigger, Trigger::Selector);
        assert!(Profile::of(Version(0, 15, 0)).failure_policy_ignore);
        assert!(!Profile::of(Version(1, 2, 2)).keeps_native_sidecars);
        assert!(Profile::of(Version(1, 3, 0)).keeps_native_sidecars);
        assert_eq!(
            Profile::of(Version(0, 3, 0)).keys.client_id,
            "azure.pod.identity/client-id"
        );
        assert_eq!(Profile::of(Version(0, 3, 0)).token_env, "TOKEN_FILE_PATH");
        assert!(
            !Profile::of(Version(0, 9, 0)).cloud_aliases
                && Profile::of(Version(0, 10, 0)).cloud_aliases
        );
        assert!(Profile::of(Version(1, 5, 0)).injects_empty);
        assert!(!v15.injects_empty);
    }

    #[test]
    fn versions_come_from_image_tags() {
        assert_eq!(
            Version::from_image("mcr.microsoft.com/oss/azure/workload-identity/webhook:v1.5.1"),
            Some(Version(1, 5, 1))
        );
        assert_eq!(
            Version::from_image("x/webhook:v0.15.0"),
            Some(Version(0, 15, 0))
        );
        assert_eq!(Version::from_image("x/webhook:latest"), None);
        assert_eq!(
            Version::from_image(
                "mcr.microsoft.com/oss/azure/workload-identity/webhook:v1.5.1@sha256:0f1e2d"
            ),
            Some(Version(1, 5, 1))
        );
        assert_eq!(
            Version::from_image("registry:5000/webhook@sha256:0f1e2d"),
            None
        );
    }
}
