//! `webhook`: installed, running, of a known version, and reaching the pod's namespace.

use super::{LinkBuilder, PodCx};
use crate::analysis::chain::Evidence;
use crate::analysis::codes::Code;
use crate::analysis::webhook::admission::mutates;
use crate::analysis::webhook::cloud::nearest;
use crate::analysis::webhook::selector::describe;
use crate::analysis::webhook::startup::{NotStarted, Setting};
use crate::analysis::webhook::{
    Install, TOKEN_PATH_V1_5, TOKEN_PATH_V1_6, Version, selector_matches,
};

pub fn check(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) {
    let install = cx.install;
    if !install.present() {
        not_installed(install, b);
        return;
    }
    version(install, b);
    running(install, b);
    fails_open(install, b);
    installed_twice(install, b);
    configuration(install, b);
    reach(cx, b);
    object_selector(cx, b);
    native_sidecars(cx, b);
    if let Some(ns) = &install.namespace {
        b.fact(Evidence::fact("namespace", ns));
    }
    b.ok("webhook installed and reaches the namespace");
}

fn not_installed(install: &Install<'_>, b: &mut LinkBuilder<'_>) {
    if install.addon == Some(false) {
        b.raise(
            Code::WI201,
            "the workload identity webhook is not installed and the AKS add-on is disabled",
        )
        .evidence(Evidence::fact(
            "securityProfile.workloadIdentity.enabled",
            "false",
        ))
        .variant(if install.arc { "arc" } else { "aks" });
    } else {
        b.raise(
            Code::WI202,
            "no webhook configuration, deployment or managed cluster in the world",
        );
    }
}

fn version(install: &Install<'_>, b: &mut LinkBuilder<'_>) {
    match (&install.version, install.addon) {
        (Some(v), _) => b.fact(Evidence::fact("version", v.to_string())),
        (None, Some(true)) => b.fact(Evidence::fact("installed as", "AKS add-on")),
        _ => {}
    }
    match install.version {
        None => {
            b.raise(
                Code::WI208,
                format!(
                    "webhook version unknown; predicting {} (token at {}); v1.0 to v1.5 mount it at {}",
                    Version::LATEST,
                    TOKEN_PATH_V1_6,
                    TOKEN_PATH_V1_5
                ),
            );
        }
        Some(v) if v > Version::LATEST => {
            b.raise(
                Code::WI208,
                format!(
                    "webhook {v} is newer than the newest release widiag models; predicting {}",
                    Version::LATEST
                ),
            );
        }
        Some(_) => {}
    }
}

/// Running: every webhook Deployment has a ready replica.
fn running(install: &Install<'_>, b: &mut LinkBuilder<'_>) {
    for d in &install.deployments {
        let ready = d
            .status
            .as_ref()
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0);
        if d.status.is_some() && ready == 0 {
            let name = format!(
                "{}/{}",
                d.metadata.namespace.as_deref().unwrap_or_default(),
                d.metadata.name.as_deref().unwrap_or_default()
            );
            b.raise(
                Code::WI203,
                format!("webhook deployment {name} has no ready replica"),
            )
            .evidence(Evidence::fact("readyReplicas", "0"));
        }
    }
    if let Some(m) = install.failed_creates.first() {
        b.raise(
            Code::WI203,
            "the API server fails calling the webhook to create pods",
        )
        .evidence(Evidence::fact("event", *m));
    }
}

/// Pre-1.0 or failurePolicy Ignore: pods created while the webhook is down start without identity.
fn fails_open(install: &Install<'_>, b: &mut LinkBuilder<'_>) {
    let ignore = install
        .entries
        .iter()
        .any(|e| e.webhook.failure_policy.as_deref() == Some("Ignore"));
    if install.pre_v1() || ignore {
        let r = b.raise(
            Code::WI204,
            match install.version {
                Some(v) if v < Version::V1_0 => format!("webhook {v} predates v1.0"),
                _ => "webhook failurePolicy is Ignore".into(),
            },
        );
        if ignore {
            r.evidence(Evidence::fact("failurePolicy", "Ignore"));
        }
        r.variant(
            if install.addon == Some(true) && install.namespace.as_deref() == Some("kube-system") {
                "aks"
            } else {
                "helm"
            },
        );
    }
}

/// Two installs: Deployments in several namespaces, or the add-on beside a Helm release.
fn installed_twice(install: &Install<'_>, b: &mut LinkBuilder<'_>) {
    let mut namespaces: Vec<&str> = install
        .deployments
        .iter()
        .filter_map(|d| d.metadata.namespace.as_deref())
        .collect();
    namespaces.sort();
    namespaces.dedup();
    if namespaces.len() > 1
        || (install.addon == Some(true) && namespaces.iter().any(|n| *n != "kube-system"))
    {
        let dup = namespaces
            .iter()
            .find(|n| **n != "kube-system")
            .copied()
            .unwrap_or(namespaces[0]);
        b.raise(
            Code::WI205,
            format!(
                "webhook installed in {} (and as the AKS add-on)",
                namespaces.join(", ")
            ),
        )
        .var("duplicate_namespace", dup);
    }
}

/// Configuration the webhook needs to start, as its release checks it: the message is the one
/// it exits with. A tenant the world does not show (no ConfigMap, no env) is not called missing.
fn configuration(install: &Install<'_>, b: &mut LinkBuilder<'_>) {
    let Some(NotStarted { setting, message }) = install.cannot_start() else {
        return;
    };
    // The configuration's own failurePolicy decides (v0.13+ charts make it a value).
    let ignore = match install.entries.first() {
        Some(_) => install
            .entries
            .iter()
            .any(|e| e.webhook.failure_policy.as_deref() == Some("Ignore")),
        None => install.profile.failure_policy_ignore,
    };
    let outcome = if ignore {
        "labelled pods are admitted without identity"
    } else {
        "the API server refuses every labelled pod"
    };
    let r = b
        .raise(
            Code::WI207,
            format!("the webhook cannot start ({message}), so {outcome}"),
        )
        .evidence(Evidence::fact("webhook exits with", &message));
    match setting {
        Setting::Tenant => r.variant("tenant"),
        Setting::Cloud => r.variant("cloud").var(
            "cloud",
            nearest(install.settings.cloud.as_deref().unwrap_or_default()),
        ),
        Setting::CustomEndpoint => r.variant("custom"),
    };
}

/// Reach: the namespace selector and the AKS admissions enforcer.
fn reach(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) {
    let install = cx.install;
    let ns = &cx.subject.at.namespace;
    let ns_labels = cx
        .ix
        .namespaces
        .get(ns.as_str())
        .and_then(|n| n.metadata.labels.as_ref());
    // The API server sets this label on every namespace; worlds may omit it.
    let ns_label = |k: &str| match ns_labels.and_then(|l| l.get(k)) {
        Some(v) => Some(v.as_str()),
        None => (k == "kubernetes.io/metadata.name").then_some(ns.as_str()),
    };
    for e in &install.entries {
        let Some(sel) = &e.webhook.namespace_selector else {
            continue;
        };
        if selector_matches(sel, ns_label) {
            b.fact(
                Evidence::fact("namespaceSelector", describe(sel))
                    .with_note(format!("matches namespace {ns}")),
            );
        } else {
            let fix = sel
                .match_labels
                .iter()
                .flatten()
                .map(|(k, v)| crate::untrusted::shell::quote(&format!("{k}={v}")).into_owned())
                .collect::<Vec<_>>()
                .join(" ");
            let r = b
                .raise(
                    Code::WI206,
                    format!("the webhook's namespaceSelector excludes namespace {ns}"),
                )
                .evidence(Evidence::fact("namespaceSelector", describe(sel)))
                .variant("selector");
            if fix.is_empty() {
                r.placeholder("selector_fix", "label the selector needs");
            } else {
                r.words("selector_fix", fix);
            }
        }
    }
    let aks = install.addon.is_some();
    if aks
        && ns == "kube-system"
        && !b.raised_any(&[Code::WI206])
        && !install.entries.iter().any(|e| e.enforcer_disabled)
    {
        let config = install.entries.first().map(|e| e.config_name.as_str());
        b.raise(
            Code::WI206,
            "AKS's admissions enforcer keeps webhooks out of kube-system",
        )
        .variant(if cx.subject.workload.kind.as_ref() == "Pod" {
            "aks-enforcer-pod"
        } else {
            "aks-enforcer"
        })
        .var("webhook_config", config.unwrap_or_default());
    }
}

/// The objectSelector, evaluated by the API server before the webhook sees a pod: a pod the
/// handler would mutate but the selector excludes is never mutated.
fn object_selector(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) {
    let s = cx.subject;
    let labels = s.pod.metadata.labels.as_ref();
    let label = |k: &str| labels.and_then(|l| l.get(k)).map(String::as_str);
    for e in &cx.install.entries {
        let Some(sel) = &e.webhook.object_selector else {
            continue;
        };
        if selector_matches(sel, label) {
            b.fact(Evidence::fact("objectSelector", describe(sel)).with_note("matches the pod"));
        } else if handler_mutates(cx) {
            b.raise(
                Code::WI209,
                format!(
                    "the objectSelector of {} excludes pod {}, which the webhook would otherwise mutate",
                    e.config_name, s.at.name
                ),
            )
            .evidence(Evidence::fact("objectSelector", describe(sel)))
            .var("webhook_config", &e.config_name);
        }
    }
}

/// Whether the webhook's handler mutates the pod once the API server sends it: since v1.0 the
/// label is the intent (the chart's selector), before it the handler's own check.
fn handler_mutates(cx: &PodCx<'_, '_>) -> bool {
    mutates(&cx.install.profile, &cx.subject.request())
}

/// Service-mesh proxies that, found among the init containers, are native sidecars.
const MESH_PROXIES: [&str; 2] = ["istio-proxy", "linkerd-proxy"];

/// Webhooks built with Kubernetes types older than native sidecars (before v1.3) drop
/// `restartPolicy: Always` from init containers: their patch removes what they cannot decode.
fn native_sidecars(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) {
    let install = cx.install;
    let Some(version) = install
        .version
        .filter(|_| !install.profile.keeps_native_sidecars)
    else {
        return;
    };
    let s = cx.subject;
    if !handler_mutates(cx) {
        return;
    }
    // Declared in the template, or injected by a mesh as an init container (a mesh puts its
    // proxy among the init containers only as a native sidecar); either way, what the pod shows
    // now has lost the restartPolicy.
    let declared = s
        .template_spec
        .and_then(|p| p.init_containers.as_ref())
        .into_iter()
        .flatten()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"))
        .map(|c| c.name.as_str());
    let injected = s
        .spec
        .and_then(|p| p.init_containers.as_ref())
        .into_iter()
        .flatten()
        .filter(|c| MESH_PROXIES.contains(&c.name.as_str()) && c.restart_policy.is_none())
        .map(|c| c.name.as_str());
    let mut names: Vec<&str> = declared.chain(injected).collect();
    names.dedup();
    let inits = s.spec.and_then(|p| p.init_containers.as_ref());
    let sidecars = names.into_iter().filter_map(|n| {
        let i = inits?.iter().position(|c| c.name == n)?;
        Some((i, &inits?[i]))
    });
    for (i, c) in sidecars {
        let probes = c.readiness_probe.is_some()
            || c.liveness_probe.is_some()
            || c.startup_probe.is_some()
            || c.lifecycle.is_some();
        // istio/istio#49221 (rejected), Azure/azure-workload-identity#1312 (hangs in Init).
        let outcome = if probes {
            format!(
                "the API server rejects the pod (spec.initContainers[{i}]: probes and lifecycle may not be set for init containers without restartPolicy=Always)"
            )
        } else {
            "the pod hangs in Init because the sidecar never exits".to_string()
        };
        b.raise(
            Code::WI210,
            format!(
                "webhook {version} drops restartPolicy: Always from native sidecar {}; {outcome}",
                c.name
            ),
        )
        .evidence(Evidence::fact(
            format!("init container {}", c.name),
            if c.restart_policy.is_some() {
                "restartPolicy: Always"
            } else {
                "no restartPolicy: the native sidecar's was dropped"
            },
        ));
    }
}
