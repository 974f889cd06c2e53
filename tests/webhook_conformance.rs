//! widiag's model of the azure-workload-identity webhook against the webhook's own unit tests.
//! tests/webhook/<release>.yaml translates every case of pkg/webhook/webhook_test.go at that
//! tag into a whole admission (pod, ServiceAccount, webhook configuration in; denial or mutated
//! pod out), each citing its upstream test; cases a pod-in/pod-out table cannot express are
//! listed there with the reason. Each case must come out as the Go test asserts.

use std::path::Path;

use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use serde::Deserialize;
use serde_json::Value;
use widiag::analysis::webhook::admission::{self, Admission, Cause, Request};
use widiag::analysis::webhook::patch;
use widiag::analysis::webhook::releases::{Profile, Version};
use widiag::analysis::webhook::startup::{self, CustomEndpoint, Settings};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    release: String,
    cases: Vec<Case>,
    #[serde(default)]
    unexpressible: Vec<Unexpressible>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Case {
    upstream: String,
    #[serde(default)]
    config: Config,
    #[serde(default)]
    namespace: Option<String>,
    pod: Value,
    #[serde(default)]
    service_account: Option<Value>,
    expect: Expect,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Config {
    tenant_id: Option<String>,
    cloud: Option<String>,
    audience: Option<String>,
    kubernetes: Option<String>,
    proxy_image: Option<String>,
    proxy_init_image: Option<String>,
    log_level: Option<String>,
    custom_token_endpoint: Option<Custom>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Custom {
    #[serde(default)]
    annotation_suffix: String,
    #[serde(default)]
    audience: String,
    #[serde(default)]
    token_proxy: String,
    #[serde(default)]
    sni_name: String,
    #[serde(default)]
    ca_data: String,
    #[serde(default)]
    ca_config_map: String,
    #[serde(default)]
    ca_signer_name: String,
    #[serde(default)]
    ca_label_selector: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Expect {
    denied: Option<String>,
    /// The check that refuses, when the Go test asserts only that one does.
    denied_by: Option<String>,
    pod: Option<Value>,
    /// A substring of the message the webhook exits with before serving.
    not_started: Option<String>,
}

fn cause_name(c: &Cause) -> &'static str {
    match c {
        Cause::ServiceAccountNotFound => "serviceAccount",
        Cause::ProxyOnHostNetwork => "hostNetwork",
        Cause::ProxyPort => "proxyPort",
        Cause::Expiration { .. } => "expiration",
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Unexpressible {
    upstream: String,
    reason: String,
}

impl Config {
    fn settings(&self) -> Settings {
        let custom = self.custom_token_endpoint.as_ref().map(|c| CustomEndpoint {
            annotation_suffix: c.annotation_suffix.clone(),
            audience: c.audience.clone(),
            token_proxy: c.token_proxy.clone(),
            sni_name: c.sni_name.clone(),
            ca_data: c.ca_data.clone(),
            ca_config_map: c.ca_config_map.clone(),
            ca_signer_name: c.ca_signer_name.clone(),
            ca_label_selector: c
                .ca_label_selector
                .as_ref()
                .map(Value::to_string)
                .unwrap_or_default(),
        });
        Settings {
            tenant_id: self.tenant_id.clone(),
            cloud: self.cloud.clone(),
            audience: self.audience.clone(),
            kubernetes: Version::parse(self.kubernetes.as_deref().unwrap_or("1.31")),
            custom,
            proxy_image: self.proxy_image.clone(),
            proxy_init_image: self.proxy_init_image.clone(),
            log_level: self.log_level.clone(),
            environment_file: None,
        }
    }
}

/// `expected` is a subset of `actual`: objects on the keys given (null = absent), lists element
/// by element and of equal length, scalars exactly. An expected "" also matches an absent value,
/// since Go's JSON omits empty strings.
fn subset(expected: &Value, actual: Option<&Value>, path: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::Null, None | Some(Value::Null)) => Ok(()),
        (Value::String(s), None | Some(Value::Null)) if s.is_empty() => Ok(()),
        (Value::Object(e), Some(Value::Object(a))) => e
            .iter()
            .try_for_each(|(k, v)| subset(v, a.get(k), &format!("{path}.{k}"))),
        (Value::Array(e), Some(Value::Array(a))) => {
            if e.len() != a.len() {
                return Err(format!(
                    "{path}: {} elements, expected {}: {}",
                    a.len(),
                    e.len(),
                    Value::Array(a.clone())
                ));
            }
            e.iter()
                .zip(a)
                .enumerate()
                .try_for_each(|(i, (e, a))| subset(e, Some(a), &format!("{path}[{i}]")))
        }
        // Go's JSON omits an empty list or object; the model's may hold one.
        (Value::Array(e), None) if e.is_empty() => Ok(()),
        (e, Some(a)) if e == a => Ok(()),
        (e, a) => Err(format!(
            "{path}: got {}, expected {e}",
            a.map_or("nothing".into(), Value::to_string)
        )),
    }
}

fn run(case: &Case, profile: &Profile) -> Result<(), String> {
    let mut pod: Pod = serde_json::from_value(case.pod.clone()).map_err(|e| format!("pod: {e}"))?;
    pod.metadata.namespace = case.namespace.clone().or(Some("default".into()));
    let sa: Option<ServiceAccount> = case
        .service_account
        .clone()
        .map(serde_json::from_value)
        .transpose()
        .map_err(|e| format!("serviceAccount: {e}"))?;
    let started = match (
        startup::start(profile, &case.config.settings()),
        &case.expect.not_started,
    ) {
        (Err(e), Some(want)) if e.message.contains(want.as_str()) => return Ok(()),
        (Err(e), _) => return Err(format!("the webhook would not start: {}", e.message)),
        (Ok(_), Some(want)) => return Err(format!("started, expected it to exit with {want:?}")),
        (Ok(s), None) => s,
    };
    let req = Request {
        pod: &pod,
        service_account: sa.as_ref(),
    };
    match (&case.expect, admission::admit(profile, &started, &req)) {
        (
            Expect {
                denied: Some(want),
                denied_by,
                ..
            },
            Admission::Denied(d),
        ) => {
            if !d.message.contains(want.as_str()) {
                return Err(format!(
                    "denied with {:?}, expected it to contain {want:?}",
                    d.message
                ));
            }
            match denied_by {
                Some(by) if by != cause_name(&d.cause) => Err(format!(
                    "denied by {}, expected {by}: {}",
                    cause_name(&d.cause),
                    d.message
                )),
                _ => Ok(()),
            }
        }
        (
            Expect {
                denied: Some(_), ..
            },
            other,
        ) => Err(format!("expected a denial, got {other:?}")),
        (
            Expect {
                pod: Some(want), ..
            },
            Admission::Mutated(m),
        ) => {
            let out = patch::apply(&m, &started, &pod);
            subset(want, Some(&serde_json::to_value(&out).unwrap()), "pod")
        }
        (
            Expect {
                pod: Some(want), ..
            },
            Admission::Untouched,
        ) => subset(want, Some(&serde_json::to_value(&pod).unwrap()), "pod"),
        (Expect { pod: Some(_), .. }, Admission::Denied(d)) => {
            Err(format!("denied: {}", d.message))
        }
        (
            Expect {
                denied: None,
                pod: None,
                ..
            },
            _,
        ) => Err("the case expects nothing".into()),
    }
}

#[test]
fn the_model_agrees_with_the_webhooks_own_tests_release_by_release() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/webhook");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "releases translated: {files:?}");
    let (mut ran, mut failures) = (0, Vec::new());
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let file: File =
            serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let release = Version::parse(&file.release).expect("release");
        let profile = Profile::of(release);
        assert!(
            path.file_stem().unwrap().to_string_lossy() == file.release,
            "{} holds release {}",
            path.display(),
            file.release
        );
        for u in &file.unexpressible {
            assert!(
                !u.reason.trim().is_empty(),
                "{}: {} has no reason",
                file.release,
                u.upstream
            );
        }
        for case in &file.cases {
            ran += 1;
            if let Err(e) = run(case, &profile) {
                failures.push(format!("{} {}: {e}", file.release, case.upstream));
            }
        }
    }
    assert!(ran > 300, "only {ran} cases ran");
    assert!(
        failures.is_empty(),
        "{} of {ran} upstream cases disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
