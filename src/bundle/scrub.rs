//! Redaction every bundle gets, asked or not: values that could be secrets leave the world
//! before it is written. Presence is kept (the analysis may need to know a variable is set),
//! the value is not. Tokens, signatures and access tokens never enter a world at all.
//!
//! Two nets: by name (a variable or key called `*PASSWORD*` loses its whole value) and by value
//! (a connection string, SAS, JWT, key or client secret anywhere in an env value, annotation,
//! command line, ConfigMap value or event message loses the secret part, see
//! [`crate::untrusted::secrets`]). docs/report.md lists both.

use k8s_openapi::Metadata;
use k8s_openapi::api::core::v1::{Container, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::untrusted::secrets;
use crate::world::World;

pub const REDACTED: &str = "<redacted>";

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Whether a variable or ConfigMap key by this name may hold a secret.
pub fn secret_like(name: &str) -> bool {
    let n = name.to_ascii_uppercase().replace(['-', '.'], "_");
    // Paths to secrets are not secrets, and the analysis reads them.
    if n.ends_with("_FILE") || n.ends_with("_PATH") || n.ends_with("_DIR") {
        return false;
    }
    const WORDS: [&str; 12] = [
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "TOKEN",
        "CONNECTION_STRING",
        "CONNECTIONSTRING",
        "ACCOUNT_KEY",
        "ACCOUNTKEY",
        "ACCESS_KEY",
        "PRIVATE_KEY",
        "API_KEY",
        "CREDENTIAL",
    ];
    WORDS.iter().any(|w| n.contains(w)) || n == "SAS" || n.ends_with("_SAS")
}

pub fn scrub(world: &mut World) {
    let k = &mut world.kube;
    meta_all(&mut k.namespaces);
    meta_all(&mut k.service_accounts);
    meta_all(&mut k.mutating_webhooks);
    meta_all(&mut k.cluster_roles);
    meta_all(&mut k.cluster_role_bindings);
    meta_all(&mut k.services);
    meta_all(&mut k.nodes);
    meta_all(&mut k.events);
    meta_all(&mut k.config_maps);
    for cm in &mut k.config_maps {
        for (key, value) in cm.data.iter_mut().flatten() {
            if secret_like(key) {
                *value = REDACTED.into();
            } else {
                by_value(value);
            }
        }
        cm.binary_data = None;
    }
    for e in &mut k.events {
        if let Some(m) = e.message.as_mut() {
            by_value(m);
        }
    }
    meta_all(&mut k.pods);
    for p in &mut k.pods {
        spec(p.spec.as_mut());
    }
    meta_all(&mut k.deployments);
    for d in &mut k.deployments {
        spec(d.spec.as_mut().and_then(|s| s.template.spec.as_mut()));
    }
    meta_all(&mut k.replica_sets);
    for r in &mut k.replica_sets {
        spec(
            r.spec
                .as_mut()
                .and_then(|s| s.template.as_mut()?.spec.as_mut()),
        );
    }
    meta_all(&mut k.stateful_sets);
    for s in &mut k.stateful_sets {
        spec(s.spec.as_mut().and_then(|s| s.template.spec.as_mut()));
    }
    meta_all(&mut k.daemon_sets);
    for d in &mut k.daemon_sets {
        spec(d.spec.as_mut().and_then(|s| s.template.spec.as_mut()));
    }
    meta_all(&mut k.jobs);
    for j in &mut k.jobs {
        spec(j.spec.as_mut().and_then(|s| s.template.spec.as_mut()));
    }
    meta_all(&mut k.cron_jobs);
    for c in &mut k.cron_jobs {
        spec(
            c.spec
                .as_mut()
                .and_then(|s| s.job_template.spec.as_mut()?.template.spec.as_mut()),
        );
    }
}

/// Server bookkeeping that repeats the whole object (and any secret in it) goes.
fn meta_all<T: Metadata<Ty = ObjectMeta>>(items: &mut [T]) {
    for i in items {
        let m = i.metadata_mut();
        m.managed_fields = None;
        if let Some(a) = m.annotations.as_mut() {
            a.remove(LAST_APPLIED);
            a.values_mut().for_each(by_value);
        }
    }
}

fn spec(spec: Option<&mut PodSpec>) {
    let Some(spec) = spec else { return };
    let containers = spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten());
    containers.for_each(container);
}

fn container(c: &mut Container) {
    for e in c.env.iter_mut().flatten() {
        if e.value.is_some() && secret_like(&e.name) {
            e.value = Some(REDACTED.into());
        } else if let Some(v) = e.value.as_mut() {
            by_value(v);
        }
    }
    c.command.iter_mut().flatten().for_each(by_value);
    c.args.iter_mut().flatten().for_each(by_value);
}

/// The secret-shaped parts of a value go; the rest (an account, container and blob of a SAS
/// URL) stays for the analysis.
fn by_value(v: &mut String) {
    if let std::borrow::Cow::Owned(r) = secrets::redact(v) {
        *v = r;
    }
}

/// Every string of serialised world documents, by value: the last net before a bundle is
/// written (facts, Azure objects, anything a field-by-field pass would miss).
pub fn by_value_everywhere(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => by_value(s),
        serde_json::Value::Array(a) => a.iter_mut().for_each(by_value_everywhere),
        serde_json::Value::Object(m) => m.values_mut().for_each(by_value_everywhere),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::secret_like;

    #[test]
    fn names_that_may_hold_secrets() {
        for n in [
            "AZURE_CLIENT_SECRET",
            "DB_PASSWORD",
            "STORAGE_CONNECTION_STRING",
            "github-token",
            "AccountKey",
            "BLOB_SAS",
        ] {
            assert!(secret_like(n), "{n}");
        }
        for n in [
            "AZURE_FEDERATED_TOKEN_FILE",
            "AZURE_CLIENT_ID",
            "KEY_VAULT_URL",
            "AZURE_AUTHORITY_HOST",
            "SASL_MECHANISM",
        ] {
            assert!(!secret_like(n), "{n}");
        }
    }
}
