//! `issuer`: discovery document and JWKS reachable, issuer identical, signing key present.

use super::cluster::DEFAULT_SELF_MANAGED_ISSUER;
use super::{LinkBuilder, PodCx};
use crate::analysis::chain::Evidence;
use crate::analysis::codes::Code;
use crate::analysis::subject::TokenView;
use crate::world::facts::{IssuerCapture, SignatureCheck};

/// Issuers AKS hosts itself; Entra can always read them.
fn aks_hosted(iss: &str) -> bool {
    let host = host(iss);
    host.ends_with(".oic.prod-aks.azure.com") || host == "oidc.prod-aks.azure.com"
}

/// Issuers Azure Arc hosts for connected clusters (`<region>.oic.prod-arc.azure.com`).
fn arc_hosted(iss: &str) -> bool {
    host(iss).ends_with(".oic.prod-arc.azure.com")
}

fn host(iss: &str) -> &str {
    iss.trim_start_matches("https://")
        .split('/')
        .next()
        .unwrap_or_default()
}

pub fn check(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) {
    let t = &cx.subject.token;
    let Some(iss) = t.iss.as_deref() else {
        b.skip("issuer unknown (see the cluster link)");
        return;
    };
    if iss.trim_end_matches('/') == DEFAULT_SELF_MANAGED_ISSUER {
        b.skip("private default issuer (see the cluster link)");
        return;
    }
    let Some(cap) = cx.ix.issuers.get(iss) else {
        if aks_hosted(iss) {
            b.fact(Evidence::fact("issuer", iss).with_note("hosted by AKS (predicted reachable)"));
            b.ok("AKS-hosted issuer");
        } else if arc_hosted(iss) {
            b.fact(
                Evidence::fact("issuer", iss)
                    .with_note("hosted by Azure Arc (predicted reachable)"),
            );
            b.ok("Arc-hosted issuer");
        } else {
            b.raise(Code::WI700, format!("discovery for {iss} was not captured"));
        }
        return;
    };
    if let Some(err) = &cap.error {
        b.raise(
            Code::WI701,
            format!("{iss}/.well-known/openid-configuration could not be read: {err}"),
        )
        .evidence(Evidence::fact("error", err));
        return;
    }
    discovery(b, cap, iss);
    signing_key(cx, b, cap, t);
    signature(cx, b);
    if let Some(alg) = t.alg.as_deref().filter(|a| *a != "RS256") {
        b.raise(Code::WI704, format!("token signed with {alg}"));
    }
    b.ok("discovery and JWKS consistent with the token");
}

/// The discovery document names the token's issuer.
fn discovery(b: &mut LinkBuilder<'_>, cap: &IssuerCapture, iss: &str) {
    match &cap.discovery {
        Some(d) if d.issuer != iss => {
            b.raise(
                Code::WI702,
                "the discovery document names another issuer than the token",
            )
            .evidence(Evidence::compared("discovery issuer", &d.issuer, iss))
            .var("token_iss", iss);
        }
        Some(d) => b.fact(Evidence::fact("jwks_uri", &d.jwks_uri)),
        None => {
            b.raise(
                Code::WI701,
                format!("no discovery document captured for {iss}"),
            );
        }
    }
}

/// The JWKS holds the key the token names. On AKS the cluster publishes it: a missing key is a
/// retired one (rotated past its 24 hours), which a fresh token fixes, not a JWKS to publish.
fn signing_key(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>, cap: &IssuerCapture, t: &TokenView) {
    match (&cap.jwks, &t.kid) {
        (Some(jwks), Some(kid)) => {
            if !jwks
                .keys
                .iter()
                .any(|k| k.kid.as_deref() == Some(kid.as_str()))
            {
                let kids: Vec<&str> = jwks.keys.iter().filter_map(|k| k.kid.as_deref()).collect();
                let variant = match (aks_hosted(&cap.issuer), cx.subject.workload.kind.as_ref()) {
                    (false, _) => "self-managed",
                    (true, "Pod") => "aks-pod",
                    (true, _) => "aks",
                };
                b.raise(Code::WI703, format!("token kid {kid} is not in the JWKS"))
                    .evidence(Evidence::fact("JWKS kids", kids.join(", ")))
                    .variant(variant);
            } else {
                b.fact(Evidence::fact("kid", kid).with_note("present in JWKS"));
            }
        }
        (None, _) if cap.discovery.is_some() => {
            b.raise(Code::WI701, "the JWKS was not captured");
        }
        _ => {}
    }
}

/// The captured token's signature, when it was checked against the JWKS.
fn signature(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) {
    match cx
        .ix
        .tokens
        .get(&cx.subject.at)
        .and_then(|t| t.signature.as_ref())
    {
        Some(SignatureCheck::Invalid { reason }) => {
            b.raise(
                Code::WI705,
                format!("the token's signature does not verify against the JWKS: {reason}"),
            )
            .evidence(Evidence::fact("verification", reason));
        }
        Some(SignatureCheck::Verified) => b.fact(Evidence::fact(
            "signature",
            "verified against the issuer's JWKS",
        )),
        None => {}
    }
}
