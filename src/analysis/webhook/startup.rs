//! The webhook process starting: its configuration (pkg/config, read from the environment the
//! chart gives it) and flags, what it derives from them, and what makes it exit before serving.
//! Order and messages follow config.ParseConfig and NewPodMutator
//! (pkg/config/config.go@v1.6.0:30-94, pkg/webhook/webhook.go@v1.6.0:73-152).

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::cloud::{self, Cloud};
use super::go;
use super::releases::{Profile, ProxyPlacement, TenantCheck, Version};
use super::{DEFAULT_AUDIENCE, USE_PREFIX};

/// The configuration the webhook process runs with: pkg/config (environment, from the chart's
/// ConfigMap or container env) and its command-line flags.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// `AZURE_TENANT_ID`; `None` when the variable is not set at all.
    pub tenant_id: Option<String>,
    /// `AZURE_ENVIRONMENT`.
    pub cloud: Option<String>,
    /// `AZURE_ENVIRONMENT_FILEPATH`, which go-autorest reads for `AzureStackCloud`.
    pub environment_file: Option<String>,
    /// `--audience`.
    pub audience: Option<String>,
    /// The API server's version as the webhook started (the proxy is a native sidecar from 1.32).
    pub kubernetes: Option<Version>,
    pub custom: Option<CustomEndpoint>,
    /// `PROXY_IMAGE` (v1.4+); before, the image built into the webhook.
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
    /// `AZURE_KUBERNETES_CA_CTB_LABEL_SELECTOR` as written: JSON of a LabelSelector, or empty.
    pub ca_label_selector: String,
}

impl CustomEndpoint {
    /// The pod annotation that asks for the endpoint.
    pub fn annotation(&self) -> String {
        format!("{USE_PREFIX}{}", self.annotation_suffix)
    }

    /// Whether `pod` asks for the endpoint: the annotation's key exactly, its value "true" in any
    /// case (`isUsingCustomTokenEndpoint`, webhook.go@v1.6.0:347-358).
    pub fn asked_by(&self, pod: &Pod) -> bool {
        pod.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(&self.annotation()))
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// The ClusterTrustBundle label selector, when one is set and parses.
    pub fn label_selector(&self) -> Option<LabelSelector> {
        let text = self.ca_label_selector.trim();
        (!text.is_empty())
            .then(|| serde_json::from_str(text).ok())
            .flatten()
    }
}

/// A webhook that started: what every admission shares.
#[derive(Debug, Clone, PartialEq)]
pub struct Started {
    pub tenant_id: String,
    /// `AZURE_AUTHORITY_HOST`; empty when the webhook reads it from a file widiag cannot see.
    pub authority: String,
    pub audience: String,
    pub native_sidecar: bool,
    /// The custom token endpoint, when the webhook runs with one.
    pub custom: Option<CustomEndpoint>,
    pub proxy_image: String,
    pub proxy_init_image: String,
    pub log_level: String,
}

/// Why the webhook process exits before serving: the setting at fault and the webhook's own
/// message. With failurePolicy Fail (v1.0 and later) the API server then refuses every pod the
/// webhook should see; with Ignore they start unmutated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotStarted {
    pub setting: Setting,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    Tenant,
    Cloud,
    CustomEndpoint,
}

fn fail<T>(setting: Setting, message: impl Into<String>) -> Result<T, NotStarted> {
    Err(NotStarted {
        setting,
        message: message.into(),
    })
}

/// The webhook starting with `settings`, its checks in its order: the configuration
/// (envconfig, then validateConfig), then the custom endpoint's flags, then the cloud name.
pub fn start(profile: &Profile, settings: &Settings) -> Result<Started, NotStarted> {
    parse_config(profile, settings)?;
    if profile.custom_token_endpoint {
        custom_flags(settings.custom.as_ref())?;
    }
    if let Cloud::Unknown(message) = cloud_of(profile, settings) {
        return fail(Setting::Cloud, message);
    }
    Ok(assume(profile, settings))
}

/// config.ParseConfig (config.go@v1.6.0:30-74; the tenant check alone before v1.6).
fn parse_config(profile: &Profile, settings: &Settings) -> Result<(), NotStarted> {
    let tenant = settings.tenant_id.as_deref();
    if profile.tenant_check == TenantCheck::Required && tenant.is_none() {
        return fail(
            Setting::Tenant,
            "required key AZURE_TENANT_ID missing value",
        );
    }
    let custom = settings
        .custom
        .as_ref()
        .filter(|_| profile.custom_token_endpoint);
    if let Some(c) = custom {
        let text = c.ca_label_selector.trim();
        if let (false, Err(e)) = (text.is_empty(), serde_json::from_str::<LabelSelector>(text)) {
            return fail(
                Setting::CustomEndpoint,
                format!(
                    "envconfig.Process: assigning CONFIG_AZURE_KUBERNETES_CA_CTB_LABEL_SELECTOR to AzureKubernetesCACTBLabelSelector: converting '{}' to type config.LabelSelectorPtr. details: failed to decode LabelSelector: {e}",
                    c.ca_label_selector
                ),
            );
        }
    }
    match (tenant.unwrap_or_default(), profile.tenant_check) {
        ("", TenantCheck::Required) => return fail(Setting::Tenant, "AZURE_TENANT_ID is required"),
        ("", TenantCheck::Plain) => return fail(Setting::Tenant, "tenant ID is required"),
        _ => {}
    }
    if let Some(c) = custom {
        let sources = [&c.ca_data, &c.ca_config_map, &c.ca_signer_name];
        if sources.iter().filter(|s| !s.is_empty()).count() > 1 {
            return fail(
                Setting::CustomEndpoint,
                "only one of AZURE_KUBERNETES_CA_DATA, AZURE_KUBERNETES_CA_CONFIGMAP_NAME or AZURE_KUBERNETES_CA_CTB_SIGNER_NAME can be set",
            );
        }
        if !c.ca_label_selector.trim().is_empty() && c.ca_signer_name.is_empty() {
            return fail(
                Setting::CustomEndpoint,
                "AZURE_KUBERNETES_CA_CTB_SIGNER_NAME needs to be set when AZURE_KUBERNETES_CA_CTB_LABEL_SELECTOR is set",
            );
        }
    }
    Ok(())
}

/// The custom token endpoint's flags (webhook.go@v1.6.0:82-107): both or neither, not the
/// default audience, and an annotation key Kubernetes accepts.
fn custom_flags(c: Option<&CustomEndpoint>) -> Result<(), NotStarted> {
    let Some(c) = c.filter(|c| !c.annotation_suffix.is_empty() || !c.audience.is_empty()) else {
        return Ok(());
    };
    if c.annotation_suffix.is_empty() {
        return fail(
            Setting::CustomEndpoint,
            "custom token endpoint annotation suffix cannot be empty when audience is set",
        );
    }
    if c.audience.is_empty() {
        return fail(
            Setting::CustomEndpoint,
            "custom token endpoint audience cannot be empty when annotation suffix is set",
        );
    }
    if c.audience.eq_ignore_ascii_case(DEFAULT_AUDIENCE) {
        return fail(
            Setting::CustomEndpoint,
            format!(
                "custom token endpoint audience cannot be equal to default audience {}",
                go::quote(DEFAULT_AUDIENCE)
            ),
        );
    }
    let key = c.annotation();
    if let Some(why) = qualified_name_error(&key.to_lowercase()) {
        return fail(
            Setting::CustomEndpoint,
            format!(
                "custom token endpoint annotation key {} is not valid: {why}",
                go::quote(&key)
            ),
        );
    }
    Ok(())
}

/// Kubernetes' `IsQualifiedName` for a key of the form `prefix/name` whose prefix is the
/// webhook's own: the name part must be 1..=63 characters, alphanumeric at both ends, with
/// '-', '_' or '.' between (apimachinery validation.go).
fn qualified_name_error(key: &str) -> Option<&'static str> {
    let name = key.rsplit_once('/').map_or(key, |(_, n)| n);
    let inner = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.len() > 63 {
        return Some("name part must be no more than 63 characters");
    }
    let ends = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !name.chars().all(inner) || !ends(name.chars().next()) || !ends(name.chars().last()) {
        return Some(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        );
    }
    None
}

/// `AZURE_ENVIRONMENT` as the release reads it (v0.2.0 did not).
fn cloud_of(profile: &Profile, settings: &Settings) -> Cloud {
    let name = settings.cloud.as_deref().filter(|_| profile.reads_cloud);
    match cloud::resolve_with(name.unwrap_or_default(), profile.cloud_aliases) {
        // go-autorest reads the file AZURE_ENVIRONMENT_FILEPATH names, and fails without one.
        Cloud::FromFile if settings.environment_file.as_deref().unwrap_or_default().is_empty() => {
            Cloud::Unknown(
                "failed to get AAD endpoint: AzureStackCloud needs AZURE_ENVIRONMENT_FILEPATH, which is not set"
                    .into(),
            )
        }
        other => other,
    }
}

/// The webhook as `settings` describe it, whether or not it could start: what a pod it mutated
/// holds. A value widiag cannot know (a tenant not captured, Azure Stack's file) is empty, and
/// the analysis compares nothing with an empty value.
pub fn assume(profile: &Profile, settings: &Settings) -> Started {
    let authority = match cloud_of(profile, settings) {
        Cloud::Known(host) => host.to_string(),
        Cloud::FromFile | Cloud::Unknown(_) => String::new(),
    };
    let audience = match settings.audience.as_deref() {
        Some(a) if !a.is_empty() => a.to_string(),
        // v0.1.0: the authority without its slash, then /federatedidentity.
        _ if profile.audience_from_authority => format!("{authority}federatedidentity"),
        _ => DEFAULT_AUDIENCE.to_string(),
    };
    let custom = settings
        .custom
        .as_ref()
        .filter(|c| profile.custom_token_endpoint && custom_flags(Some(c)).is_ok())
        .filter(|c| !c.annotation_suffix.is_empty() && !c.audience.is_empty())
        .cloned();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn v16() -> Profile {
        Profile::of(Version::LATEST)
    }

    fn with_custom(c: CustomEndpoint) -> Settings {
        Settings {
            tenant_id: Some("tenant".into()),
            custom: Some(c),
            ..Default::default()
        }
    }

    type ConfigCase = (&'static str, Settings, Result<(), &'static str>);

    /// TestParseConfig, pkg/config/config_test.go@v1.6.0: every case, by its name. The Go test
    /// sets the variables with the CONFIG_ prefix (envconfig reads it first); here they are
    /// Settings fields.
    #[expect(
        clippy::too_many_lines,
        reason = "a data table: one row per upstream case of TestParseConfig"
    )]
    fn parse_config_cases() -> Vec<ConfigCase> {
        let sel = |s: &str| CustomEndpoint {
            ca_signer_name: "signer".into(),
            ca_label_selector: s.into(),
            ..Default::default()
        };
        let ca = |data: &str, cm: &str, signer: &str| CustomEndpoint {
            ca_data: data.into(),
            ca_config_map: cm.into(),
            ca_signer_name: signer.into(),
            ..Default::default()
        };
        let only = "only one of AZURE_KUBERNETES_CA_DATA, AZURE_KUBERNETES_CA_CONFIGMAP_NAME or AZURE_KUBERNETES_CA_CTB_SIGNER_NAME can be set";
        vec![
            (
                "cloud name defaulting to AzurePublicCloud",
                with_custom(Default::default()),
                Ok(()),
            ),
            (
                "cloud name set to AzureChinaCloud",
                Settings {
                    cloud: Some("AzureChinaCloud".into()),
                    ..with_custom(Default::default())
                },
                Ok(()),
            ),
            (
                "missing tenant id should return error",
                Settings::default(),
                Err("required key AZURE_TENANT_ID missing value"),
            ),
            (
                "valid matchLabels only",
                with_custom(sel(r#"{"matchLabels":{"a":"b"}}"#)),
                Ok(()),
            ),
            (
                "valid matchExpressions only",
                with_custom(sel(
                    r#"{"matchExpressions":[{"key":"a","operator":"In","values":["b"]}]}"#,
                )),
                Ok(()),
            ),
            (
                "valid both matchLabels and matchExpressions",
                with_custom(sel(
                    r#"{"matchLabels":{"x":"y"},"matchExpressions":[{"key":"a","operator":"Exists"}]}"#,
                )),
                Ok(()),
            ),
            (
                "invalid JSON in label selector",
                with_custom(sel("not-a-json")),
                Err(
                    "envconfig.Process: assigning CONFIG_AZURE_KUBERNETES_CA_CTB_LABEL_SELECTOR to AzureKubernetesCACTBLabelSelector: converting 'not-a-json' to type config.LabelSelectorPtr. details: failed to decode LabelSelector: ",
                ),
            ),
            (
                "missing values with In operator (still valid structurally)",
                with_custom(sel(r#"{"matchExpressions":[{"key":"a","operator":"In"}]}"#)),
                Ok(()),
            ),
            (
                "ca data and configmap mutually exclusive",
                with_custom(ca("d", "cm", "")),
                Err(only),
            ),
            (
                "ca data and signer name mutually exclusive",
                with_custom(ca("d", "", "s")),
                Err(only),
            ),
            (
                "configmap name and signer name mutually exclusive",
                with_custom(ca("", "cm", "s")),
                Err(only),
            ),
            (
                "signer name required with label selector",
                with_custom(CustomEndpoint {
                    ca_label_selector: r#"{"matchLabels":{"a":"b"}}"#.into(),
                    ..Default::default()
                }),
                Err(
                    "AZURE_KUBERNETES_CA_CTB_SIGNER_NAME needs to be set when AZURE_KUBERNETES_CA_CTB_LABEL_SELECTOR is set",
                ),
            ),
        ]
    }

    #[test]
    fn parse_config_agrees_with_its_own_tests() {
        let cases = parse_config_cases();
        assert_eq!(cases.len(), 12, "TestParseConfig has 12 cases at v1.6.0");
        for (name, settings, want) in cases {
            let got = parse_config(&v16(), &settings);
            match (want, got) {
                (Ok(()), Ok(())) => {}
                // Go's own JSON error text follows the prefix; serde's differs after it.
                (Err(w), Err(NotStarted { message: g, .. })) => {
                    assert!(g.starts_with(w), "{name}: {g}")
                }
                (w, g) => panic!("{name}: want {w:?}, got {g:?}"),
            }
        }
    }

    /// NewPodMutator's custom endpoint checks (webhook.go@v1.6.0:82-107) and the cloud names.
    #[test]
    fn what_stops_the_webhook() {
        let err = |s: Settings, p: &Profile| start(p, &s).unwrap_err().message;
        assert_eq!(
            err(Settings::default(), &Profile::of(Version(1, 3, 0))),
            "tenant ID is required"
        );
        let with = |cloud: &str| Settings {
            tenant_id: Some("t".into()),
            cloud: Some(cloud.into()),
            ..Default::default()
        };
        assert!(start(&v16(), &with("azureusgovernment")).is_ok());
        assert!(err(with("AzureCloud"), &Profile::of(Version(0, 9, 0))).contains("\"AZURECLOUD\""));
        assert!(
            start(&Profile::of(Version(0, 2, 0)), &with("nonsense")).is_ok(),
            "v0.2.0 ignores it"
        );
        assert!(err(with("AzureStackCloud"), &v16()).contains("AZURE_ENVIRONMENT_FILEPATH"));
        let stack = Settings {
            environment_file: Some("/etc/azure/stack.json".into()),
            ..with("azurestackcloud")
        };
        assert_eq!(
            start(&v16(), &stack).unwrap().authority,
            "",
            "read from a file widiag cannot see"
        );
        let flags = |suffix: &str, audience: &str| {
            with_custom(CustomEndpoint {
                annotation_suffix: suffix.into(),
                audience: audience.into(),
                ..Default::default()
            })
        };
        assert_eq!(
            err(flags("ib", ""), &v16()),
            "custom token endpoint audience cannot be empty when annotation suffix is set"
        );
        assert_eq!(
            err(flags("", "api://x"), &v16()),
            "custom token endpoint annotation suffix cannot be empty when audience is set"
        );
        assert!(
            err(flags("ib", "API://AzureADTokenExchange"), &v16())
                .contains("cannot be equal to default audience")
        );
        assert!(
            err(flags("ib-", "api://x"), &v16()).contains("is not valid: name part must consist")
        );
        assert!(
            err(flags(&"a".repeat(60), "api://x"), &v16()).contains("no more than 63 characters")
        );
        assert!(
            start(&v16(), &flags(&"a".repeat(59), "api://x")).is_ok(),
            "use- and 59 is 63"
        );
        assert!(
            start(&Profile::of(Version(1, 5, 1)), &flags("ib", "")).is_ok(),
            "no such flags before v1.6"
        );
    }
}
