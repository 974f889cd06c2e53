//! `webhook`: installed, running, of a known version, and reaching the pod's namespace.

use super::{LinkBuilder, PodCx};
use crate::analysis::chain::Evidence;
use crate::analysis::codes::Code;
use crate::analysis::webhook::{Install, Version, authority_for, selector_matches};

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
        .variant("aks");
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
    if install.version.is_none() {
        b.raise(
            Code::WI208,
            "webhook version unknown; predicting the current release (v1.6 token path)",
        );
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
        b.raise(Code::WI203, "pod creation fails calling the webhook")
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

/// Configuration the webhook needs to start.
fn configuration(install: &Install<'_>, b: &mut LinkBuilder<'_>) {
    if install.config_map_found {
        if install.tenant_id.as_deref().is_none_or(str::is_empty) {
            b.raise(
                Code::WI207,
                "webhook ConfigMap azure-wi-webhook-config has no AZURE_TENANT_ID",
            );
        }
        if let Some(env) = &install.environment
            && authority_for(env).is_none()
        {
            b.raise(
                Code::WI207,
                format!("webhook AZURE_ENVIRONMENT {env:?} is not a known cloud"),
            );
        }
    }
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
        if let Some(sel) = &e.webhook.namespace_selector
            && !selector_matches(sel, ns_label)
        {
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
                .evidence(Evidence::fact(
                    "namespaceSelector",
                    serde_json::to_string(sel).unwrap_or_default(),
                ));
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
        b.raise(
            Code::WI206,
            "AKS's admissions enforcer keeps webhooks out of kube-system",
        )
        .placeholder("selector_fix", "move the workload to another namespace");
    }
}
