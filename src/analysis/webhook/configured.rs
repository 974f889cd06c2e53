//! The configuration the webhook runs with, as the world shows it: its manager container's
//! `env` (which the chart's `extraEnv` writes) over its `envFrom` ConfigMap, as Kubernetes
//! resolves them (charts/workload-identity-webhook/templates/
//! azure-wi-webhook-controller-manager-deployment.yaml@v1.6.0:48-59), envconfig's `CONFIG_`
//! prefix first, and its flags from the container's args.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Container, EnvVar};

use super::releases::Version;
use super::startup::{CustomEndpoint, Settings};
use crate::analysis::index::Index;

/// The variables the webhook reads (pkg/config/config.go@v1.6.0:14-28, go-autorest's file).
const VARIABLES: [&str; 11] = [
    "AZURE_TENANT_ID",
    "AZURE_ENVIRONMENT",
    "AZURE_ENVIRONMENT_FILEPATH",
    "PROXY_IMAGE",
    "PROXY_INIT_IMAGE",
    "AZURE_KUBERNETES_TOKEN_PROXY",
    "AZURE_KUBERNETES_SNI_NAME",
    "AZURE_KUBERNETES_CA_DATA",
    "AZURE_KUBERNETES_CA_CONFIGMAP_NAME",
    "AZURE_KUBERNETES_CA_CTB_SIGNER_NAME",
    "AZURE_KUBERNETES_CA_CTB_LABEL_SELECTOR",
];

/// The webhook's own container: the one running its image, else the chart's `manager`.
pub fn manager(d: &Deployment) -> Option<&Container> {
    let containers = &d.spec.as_ref()?.template.spec.as_ref()?.containers;
    containers
        .iter()
        .find(|c| {
            c.image
                .as_deref()
                .is_some_and(|i| i.contains("workload-identity/webhook") || i.contains("webhook:"))
        })
        .or_else(|| containers.iter().find(|c| c.name == "manager"))
}

/// What one variable is, as far as the world shows.
enum Lookup {
    Value(String),
    Unset,
    /// Set from somewhere the world does not hold (a Secret, a field, another ConfigMap).
    Unknown,
}

struct Env<'a, 'w> {
    ix: &'a Index<'w>,
    namespace: Option<&'a str>,
    manager: Option<&'w Container>,
    data: Option<&'w std::collections::BTreeMap<String, String>>,
}

impl Env<'_, '_> {
    fn one(&self, name: &str) -> Lookup {
        let explicit = self
            .manager
            .and_then(|c| c.env.as_ref())
            .and_then(|env| env.iter().rev().find(|e| e.name == name));
        if let Some(e) = explicit {
            return match (e.value.clone(), self.referenced(e)) {
                (Some(v), _) | (None, Some(v)) => Lookup::Value(v),
                (None, None) if e.value_from.is_some() => Lookup::Unknown,
                (None, None) => Lookup::Value(String::new()),
            };
        }
        if let Some(v) = self.data.and_then(|d| d.get(name)) {
            return Lookup::Value(v.clone());
        }
        if self.opaque_env_from() {
            Lookup::Unknown
        } else {
            Lookup::Unset
        }
    }

    /// envconfig.Process("config", ..) reads CONFIG_<NAME> before <NAME> (envconfig v1.4.0
    /// envconfig.go:121-127, 193-196).
    fn var(&self, name: &str) -> Lookup {
        match self.one(&format!("CONFIG_{name}")) {
            Lookup::Unset => self.one(name),
            other => other,
        }
    }

    /// `valueFrom.configMapKeyRef` into a ConfigMap of the webhook's namespace.
    fn referenced(&self, e: &EnvVar) -> Option<String> {
        let r = e.value_from.as_ref()?.config_map_key_ref.as_ref()?;
        let cm = self.ix.config_map(self.namespace?, &r.name)?;
        cm.data.as_ref()?.get(&r.key).cloned()
    }

    /// `envFrom` a Secret, or a ConfigMap other than the one read: any variable may come from it.
    fn opaque_env_from(&self) -> bool {
        self.manager
            .and_then(|c| c.env_from.as_ref())
            .into_iter()
            .flatten()
            .any(|f| {
                f.secret_ref.is_some()
                    || f.config_map_ref.as_ref().is_some_and(|r| {
                        r.name != super::CONFIG_MAP
                            && self
                                .namespace
                                .is_none_or(|ns| self.ix.config_map(ns, &r.name).is_none())
                    })
            })
    }
}

/// The webhook's settings, and the variables whose values the world does not show.
pub fn read(
    ix: &Index<'_>,
    namespace: Option<&str>,
    manager: Option<&Container>,
    cm: Option<&ConfigMap>,
) -> (Settings, Vec<&'static str>) {
    let env = Env {
        ix,
        namespace,
        manager,
        data: cm.and_then(|c| c.data.as_ref()),
    };
    // Each variable looked up once.
    let looked: Vec<(&'static str, Lookup)> =
        VARIABLES.into_iter().map(|n| (n, env.var(n))).collect();
    let unknown: Vec<&'static str> = looked
        .iter()
        .filter(|(_, l)| matches!(l, Lookup::Unknown))
        .map(|(n, _)| *n)
        .collect();
    let var = |name: &str| match looked.iter().find(|(n, _)| *n == name) {
        Some((_, Lookup::Value(v))) => Some(v.clone()),
        _ => None,
    };
    let args: Vec<&str> = manager
        .and_then(|c| c.args.as_ref())
        .map(|a| a.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let custom = CustomEndpoint {
        annotation_suffix: flag(&args, "custom-token-endpoint-annotation-suffix")
            .unwrap_or_default(),
        audience: flag(&args, "custom-token-endpoint-audience").unwrap_or_default(),
        token_proxy: var("AZURE_KUBERNETES_TOKEN_PROXY").unwrap_or_default(),
        sni_name: var("AZURE_KUBERNETES_SNI_NAME").unwrap_or_default(),
        ca_data: var("AZURE_KUBERNETES_CA_DATA").unwrap_or_default(),
        ca_config_map: var("AZURE_KUBERNETES_CA_CONFIGMAP_NAME").unwrap_or_default(),
        ca_signer_name: var("AZURE_KUBERNETES_CA_CTB_SIGNER_NAME").unwrap_or_default(),
        ca_label_selector: var("AZURE_KUBERNETES_CA_CTB_LABEL_SELECTOR").unwrap_or_default(),
    };
    let kubernetes = ix
        .world
        .info
        .kubernetes_version
        .as_deref()
        .or_else(|| ix.cluster().and_then(|c| c.kubernetes_version.as_deref()))
        .and_then(Version::parse);
    let settings = Settings {
        tenant_id: var("AZURE_TENANT_ID"),
        cloud: var("AZURE_ENVIRONMENT"),
        environment_file: var("AZURE_ENVIRONMENT_FILEPATH"),
        audience: flag(&args, "audience"),
        kubernetes,
        custom: Some(custom),
        proxy_image: var("PROXY_IMAGE"),
        proxy_init_image: var("PROXY_INIT_IMAGE"),
        log_level: flag(&args, "log-level"),
    };
    (settings, unknown)
}

/// A Go `flag` value: `-name=v`, `--name=v`, or `-name v` / `--name v`.
fn flag(args: &[&str], name: &str) -> Option<String> {
    args.iter().enumerate().find_map(|(i, a)| {
        let bare = a.strip_prefix("--").or_else(|| a.strip_prefix('-'))?;
        match bare.split_once('=') {
            Some((n, v)) if n == name => Some(v.to_string()),
            None if bare == name => args.get(i + 1).map(|v| v.to_string()),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::analysis::index::Index;
    use crate::analysis::webhook::Install;
    use crate::world::parse::parse_str;

    /// A manager Deployment and, optionally, ConfigMaps in its namespace.
    fn install_of(
        env: &str,
        env_from: &str,
        maps: &str,
    ) -> (Option<String>, Option<String>, Vec<&'static str>) {
        let text = format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: azure-wi-webhook-controller-manager, namespace: wi}}\nspec:\n  selector: {{}}\n  template:\n    spec:\n      containers:\n      - name: manager\n        image: mcr.microsoft.com/oss/azure/workload-identity/webhook:v1.6.0\n        env: {env}\n        envFrom: {env_from}\n{maps}"
        );
        let world = parse_str("w.yaml", &text).unwrap();
        let ix = Index::new(&world);
        let install = Install::detect(&ix);
        (
            install.settings.tenant_id.clone(),
            install.settings.cloud.clone(),
            install.unknown.clone(),
        )
    }

    const CM: &str = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: azure-wi-webhook-config, namespace: wi}\ndata: {AZURE_TENANT_ID: from-map, AZURE_ENVIRONMENT: AzureChinaCloud}\n";

    #[test]
    fn container_env_wins_over_the_config_map_and_config_prefix_over_both() {
        let from = "[{configMapRef: {name: azure-wi-webhook-config}}]";
        assert_eq!(install_of("[]", from, CM).0.as_deref(), Some("from-map"));
        let env = "[{name: AZURE_TENANT_ID, value: from-env}]";
        assert_eq!(install_of(env, from, CM).0.as_deref(), Some("from-env"));
        let prefixed = "[{name: AZURE_TENANT_ID, value: from-env}, {name: CONFIG_AZURE_TENANT_ID, value: prefixed}]";
        assert_eq!(
            install_of(prefixed, from, CM).0.as_deref(),
            Some("prefixed")
        );
        let by_ref =
            "[{name: AZURE_TENANT_ID, valueFrom: {configMapKeyRef: {name: other, key: t}}}]";
        let other = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: wi}\ndata: {t: from-ref}\n";
        assert_eq!(
            install_of(by_ref, from, &format!("{CM}{other}"))
                .0
                .as_deref(),
            Some("from-ref")
        );
    }

    #[test]
    fn secrets_and_fields_are_unknown_not_unset() {
        let secret = "[{name: AZURE_TENANT_ID, valueFrom: {secretKeyRef: {name: s, key: t}}}]";
        let (tenant, cloud, unknown) = install_of(secret, "[]", "");
        assert_eq!(tenant, None);
        assert_eq!(cloud, None);
        assert_eq!(unknown, vec!["AZURE_TENANT_ID"]);
        let (_, _, unknown) = install_of("[]", "[{secretRef: {name: s}}]", "");
        assert!(unknown.contains(&"AZURE_ENVIRONMENT") && unknown.contains(&"AZURE_TENANT_ID"));
        let (_, _, unknown) = install_of(
            "[]",
            "[{configMapRef: {name: azure-wi-webhook-config}}]",
            CM,
        );
        assert!(unknown.is_empty(), "{unknown:?}");
    }

    /// A tenant the world does not show is not "missing", and does not hide a bad cloud name.
    #[test]
    fn an_unknown_tenant_neither_fails_nor_hides_another_fault() {
        use crate::analysis::webhook::startup::Setting;
        let detect = |env: &str| {
            let text = format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: azure-wi-webhook-controller-manager, namespace: wi}}\nspec:\n  selector: {{}}\n  template:\n    spec:\n      containers:\n      - name: manager\n        image: x/webhook:v1.6.0\n        env: {env}\n"
            );
            let world = parse_str("w.yaml", &text).unwrap();
            let ix = Index::new(&world);
            Install::detect(&ix).cannot_start().map(|n| n.setting)
        };
        assert_eq!(
            detect("[]"),
            None,
            "no ConfigMap captured: the tenant is unknown"
        );
        let bad_cloud = "[{name: AZURE_ENVIRONMENT, value: AzurePublic}]";
        assert_eq!(detect(bad_cloud), Some(Setting::Cloud));
        assert_eq!(
            detect("[{name: AZURE_TENANT_ID, value: \"\"}]"),
            Some(Setting::Tenant)
        );
    }
}
