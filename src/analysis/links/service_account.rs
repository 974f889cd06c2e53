//! `service-account`: exists in the pod's namespace, with a valid client-id (and tenant-id).

use super::{LinkBuilder, PodCx};
use crate::analysis::chain::Evidence;
use crate::analysis::codes::Code;
use crate::analysis::index::lower;
use crate::analysis::webhook::admission::Cause;
use crate::analysis::webhook::{CLIENT_ID, EXPIRATION, TENANT_ID};
use crate::untrusted::grammar::{guid, tenant};
use crate::world::azure::CredentialOwner;
use k8s_openapi::api::core::v1::ServiceAccount;
use std::collections::BTreeMap;

/// Keys people write when they mean `azure.workload.identity/client-id`.
fn near_miss(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace(['_', '.'], "-");
    key != CLIENT_ID
        && (k.ends_with("client-id") || k.ends_with("clientid"))
        && (k.contains("workload") || k.contains("azure") || !k.contains('/'))
}

pub fn check(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) {
    let s = cx.subject;
    let Some(sa) = s.sa else {
        missing_service_account(cx, b);
        return;
    };
    b.fact(Evidence::fact(
        "name",
        format!("{}/{}", s.at.namespace, s.sa_name),
    ));
    let none = BTreeMap::new();
    let annotations = sa.metadata.annotations.as_ref().unwrap_or(&none);
    match annotations.get(CLIENT_ID).map(|v| v.as_str()) {
        None => no_client_id_annotation(cx, b, sa, annotations),
        Some(v) if v.trim().is_empty() => {
            b.raise(
                Code::WI304,
                format!("{CLIENT_ID} on ServiceAccount {} is empty", s.sa_name),
            )
            .evidence(Evidence::fact(CLIENT_ID, format!("{v:?}")));
        }
        Some(v) if !guid(v.trim()) => {
            b.raise(Code::WI305, format!("{CLIENT_ID} is {v:?}, not a GUID"))
                .evidence(Evidence::fact(CLIENT_ID, format!("{v:?}")));
        }
        // The webhook copies the value as it is (webhook.go@v1.6.0:422-425), spaces included.
        Some(v) if v != v.trim() => {
            b.raise(
                Code::WI305,
                format!(
                    "{CLIENT_ID} is {v:?}: the webhook copies it untrimmed into AZURE_CLIENT_ID"
                ),
            )
            .evidence(Evidence::fact(CLIENT_ID, format!("{v:?}")))
            .var("client_id", v.trim());
        }
        Some(v) => b.fact(Evidence::fact(CLIENT_ID, v)),
    }
    if let Some(t) = annotations.get(TENANT_ID) {
        if t.is_empty() {
            // The key alone decides (webhook.go@v1.6.0:428-435): the cluster's tenant is not used.
            empty_tenant(cx, b);
        } else if t != t.trim() || !tenant(t) {
            // Untrimmed, like the client ID (webhook.go@v1.6.0:428-435).
            b.raise(
                Code::WI306,
                format!("{TENANT_ID} is {t:?}, not a tenant GUID or domain"),
            )
            .variant("invalid");
        } else {
            b.fact(Evidence::fact(TENANT_ID, t));
        }
    }
    if let Some(d) = s
        .denials
        .iter()
        .find(|d| d.cause == (Cause::Expiration { on_pod: false }))
    {
        let e = annotations
            .get(EXPIRATION)
            .map(String::as_str)
            .unwrap_or_default();
        b.raise(
            Code::WI307,
            format!(
                "{EXPIRATION} is {e:?}; the webhook denies pod creation unless it is 3600..86400"
            ),
        )
        .evidence(Evidence::fact("webhook answer", d.event()));
    }
    if b.raised_any(&[Code::WI302, Code::WI303, Code::WI304, Code::WI305]) {
        suggest_client_id(cx, b);
    }
    b.ok(format!(
        "ServiceAccount {} annotated with a client ID",
        s.sa_name
    ));
}

/// An empty tenant-id annotation: the webhook injects it instead of its own tenant, an empty
/// AZURE_TENANT_ID (before v1.5.1) or none at all.
fn empty_tenant(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) {
    let injected = if cx.install.profile.injects_empty {
        "an empty AZURE_TENANT_ID"
    } else {
        "no AZURE_TENANT_ID"
    };
    let r = b.raise(
        Code::WI306,
        format!(
            "{TENANT_ID} on ServiceAccount {} is empty, so the webhook injects {injected} instead of the cluster's tenant",
            cx.subject.sa_name
        ),
    );
    r.evidence(Evidence::fact(TENANT_ID, "\"\""))
        .variant("empty");
    match cx
        .install
        .settings
        .tenant_id
        .as_deref()
        .filter(|t| !t.is_empty())
    {
        Some(t) => r.var("tenant_id", t),
        None => r.placeholder("tenant_id", "your tenant ID"),
    };
}

/// The ServiceAccount is not in the pod's namespace: unread, or perhaps in another namespace.
fn missing_service_account(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) {
    let s = cx.subject;
    if let Some(g) = cx.ix.gap("serviceaccounts", &s.at.namespace) {
        b.raise(
            Code::WI308,
            format!(
                "ServiceAccounts in namespace {} could not be read",
                s.at.namespace
            ),
        )
        .evidence(Evidence::fact("error", &g.error))
        .var("needed", &g.needed);
        return;
    }
    let elsewhere = cx
        .ix
        .sa_namespaces
        .get(s.sa_name.as_str())
        .cloned()
        .unwrap_or_default();
    let r = b.raise(
        Code::WI301,
        format!(
            "ServiceAccount {} does not exist in namespace {}",
            s.sa_name, s.at.namespace
        ),
    );
    if !elsewhere.is_empty() {
        r.evidence(
            Evidence::fact("exists in", elsewhere.join(", "))
                .with_note("ServiceAccounts are namespaced"),
        );
    }
    if let Some(d) = s
        .denials
        .iter()
        .find(|d| d.cause == Cause::ServiceAccountNotFound)
    {
        r.evidence(Evidence::fact("webhook answer", d.event()));
    }
}

/// No client-id annotation: the client ID is often written elsewhere (a near-miss key, a label,
/// a Service of the same name), and the finding names where.
fn no_client_id_annotation(
    cx: &PodCx<'_, '_>,
    b: &mut LinkBuilder<'_>,
    sa: &ServiceAccount,
    annotations: &BTreeMap<String, String>,
) {
    let misses: Vec<String> = annotations
        .keys()
        .filter(|k| near_miss(k))
        .map(|k| format!("annotation {k}"))
        .chain(
            sa.metadata
                .labels
                .iter()
                .flatten()
                .filter(|(k, _)| k.as_str() == CLIENT_ID || near_miss(k))
                .map(|(k, _)| format!("label {k}")),
        )
        .chain(services_with_annotation(cx))
        .collect();
    if misses.is_empty() {
        b.raise(
            Code::WI302,
            format!(
                "ServiceAccount {} has no {CLIENT_ID} annotation",
                cx.subject.sa_name
            ),
        );
    } else {
        let r = b.raise(
            Code::WI303,
            format!(
                "the client ID is under {} instead of the ServiceAccount annotation {CLIENT_ID}",
                misses[0]
            ),
        );
        for m in &misses {
            r.evidence(Evidence::fact("found", m));
        }
    }
}

/// The identity whose federated credential names this ServiceAccount is the likely intent.
fn suggest_client_id(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) {
    let sub = &cx.subject.token.sub;
    let candidate = cx
        .ix
        .fics_by_subject
        .get(sub.as_str())
        .into_iter()
        .flatten()
        .find_map(|f| match &f.owner {
            CredentialOwner::Identity(id) => {
                let i = cx.ix.identities_by_id.get(lower(id).as_ref())?;
                Some((i.name.clone(), i.client_id.clone()?))
            }
            CredentialOwner::Application(app) => {
                let a = cx
                    .ix
                    .apps_by_app_id
                    .get(lower(app).as_ref())
                    .or_else(|| cx.ix.apps_by_object_id.get(lower(app).as_ref()))?;
                Some((a.display_name.clone().unwrap_or_default(), a.app_id.clone()))
            }
        });
    if let Some((name, client_id)) = candidate {
        b.suggest_var("client_id", &client_id);
        b.fact(Evidence::fact(
            "credential for this ServiceAccount",
            format!("{name} (client ID {client_id})"),
        ));
    }
}

/// The annotation on a Service of the same name (a common mix-up).
fn services_with_annotation(cx: &PodCx<'_, '_>) -> Vec<String> {
    cx.ix
        .services
        .get(cx.subject.at.namespace.as_str())
        .into_iter()
        .flatten()
        .filter(|svc| {
            svc.metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key(CLIENT_ID))
        })
        .map(|svc| {
            format!(
                "Service {} annotation",
                svc.metadata.name.as_deref().unwrap_or_default()
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_guids_and_near_misses() {
        assert!(guid("6b7a1c2e-0f43-4d0e-9b8a-3a1e5c9d2f10"));
        assert!(!guid("not-a-guid") && !guid("{6b7a1c2e-0f43-4d0e-9b8a-3a1e5c9d2f10}"));
        assert!(near_miss("azure.workload.identity/client_id"));
        assert!(near_miss("azure.workload.identity/clientId"));
        assert!(!near_miss(CLIENT_ID));
        assert!(!near_miss("example.com/owner"));
    }
}
