//! `cluster`: the cluster has an OIDC issuer and its URL is known.

use super::{LinkBuilder, PodCx};
use crate::analysis::chain::Evidence;
use crate::analysis::codes::Code;

pub const DEFAULT_SELF_MANAGED_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

pub fn check(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) {
    let cluster = cx.ix.cluster();
    if let Some(c) = cluster {
        let kind = if c.arc {
            "Arc-enabled cluster"
        } else {
            "managed cluster"
        };
        b.fact(Evidence::fact(kind, &c.name));
        if !c.oidc_issuer_enabled || c.issuer_url.as_deref().is_none_or(str::is_empty) {
            let (kind, variant) = if c.arc {
                ("Arc-enabled cluster", "arc")
            } else {
                ("AKS cluster", "aks")
            };
            b.raise(
                Code::WI102,
                format!(
                    "{kind} {} has no OIDC issuer (oidcIssuerProfile.enabled is false)",
                    c.name
                ),
            )
            .evidence(Evidence::fact(
                "oidcIssuerProfile.enabled",
                c.oidc_issuer_enabled.to_string(),
            ))
            .variant(variant);
            return;
        }
    }
    match &cx.subject.token.iss {
        Some(iss) if iss.trim_end_matches('/') == DEFAULT_SELF_MANAGED_ISSUER => {
            b.raise(
                Code::WI103,
                format!("tokens are issued by {iss}, which Entra cannot reach"),
            )
            .evidence(Evidence::fact("issuer", iss));
        }
        Some(iss) => {
            let from = if cx.subject.token.observed {
                "from the captured token"
            } else if cluster.is_some_and(|c| c.self_hosted_issuer) {
                "the cluster's own issuer, as its Arc resource names it (selfHostedIssuerUrl)"
            } else if cluster.is_some() {
                "from the managed cluster"
            } else {
                "from the issuer discovery"
            };
            b.fact(Evidence::fact("issuer", iss).with_note(from));
            b.ok(format!("OIDC issuer {iss}"));
        }
        None => {
            b.raise(
                Code::WI101,
                "the cluster's OIDC issuer is not known from the world",
            );
        }
    }
}
