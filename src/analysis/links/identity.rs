//! `identity`: the client ID resolves to a managed identity or an application in the tenant and
//! cloud the pod asks.

use super::{LinkBuilder, PodCx};
use crate::analysis::chain::Evidence;
use crate::analysis::codes::Code;
use crate::analysis::index::lower;
use crate::analysis::subject::Resolved;
use crate::analysis::webhook::cloud_of_authority;

/// FIC count from which to warn (the hard limit is 20).
const FIC_WARN_AT: usize = 18;

pub fn check(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) {
    let s = cx.subject;
    let Some(client_id) = s.client_id.as_deref() else {
        b.skip("no client ID (see the service-account link)");
        return;
    };
    if !crate::untrusted::grammar::guid(client_id) {
        b.skip(format!(
            "client ID {client_id:?} is not a GUID (see the service-account link)"
        ));
        return;
    }
    b.fact(Evidence::fact("client ID", client_id).with_note(s.client_id_source));
    let Some(resolved) = s.resolved else {
        unresolved(cx, b, client_id);
        return;
    };
    b.fact(Evidence::fact(resolved.kind(), resolved.name()));
    if let Some(p) = resolved.principal_id() {
        b.fact(Evidence::fact("principal ID", p));
    }
    if let (Some(want), Some(have)) = (s.tenant_id.as_deref(), resolved.tenant_id()) {
        if !want.eq_ignore_ascii_case(have) {
            b.raise(
                Code::WI804,
                format!(
                    "the pod asks tenant {want}; {} is in tenant {have}",
                    resolved.name()
                ),
            )
            .evidence(Evidence::compared("tenant", want, have));
        } else {
            b.fact(Evidence::fact("tenant", have));
        }
    }
    let authority = s
        .containers()
        .find_map(|(c, _)| {
            c.env
                .iter()
                .flatten()
                .find(|e| e.name == "AZURE_AUTHORITY_HOST")?
                .value
                .clone()
        })
        .or_else(|| cx.install.authority_host().map(str::to_string));
    if let (Some(auth), Some(cloud)) = (authority.as_deref(), cx.ix.cloud)
        && cloud_of_authority(auth).is_some_and(|c| c != cloud)
    {
        b.raise(
            Code::WI805,
            format!("AZURE_AUTHORITY_HOST is {auth} but the resources are in {cloud}"),
        )
        .var("authority", auth)
        .var("cloud", cloud);
    }
    disabled(b, &resolved, client_id);
    region_without_credentials(cx, b, &resolved);
    let count = resolved.fics(cx.ix).len();
    if count >= FIC_WARN_AT {
        b.raise(
            Code::WI806,
            format!(
                "{} has {count} of 20 federated credentials",
                resolved.name()
            ),
        )
        .evidence(Evidence::fact("federated credentials", count.to_string()));
    }
    b.ok(format!("{} {}", resolved.kind(), resolved.name()));
}

/// A client ID that names nothing: often the object ID of an identity or application pasted in
/// its place, which the fix then names.
fn unresolved(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>, client_id: &str) {
    let az = &cx.ix.world.azure;
    if let Some((what, name, right)) = object_with_id(cx, client_id) {
        let noun = if what.ends_with("identity") {
            "client ID"
        } else {
            "appId"
        };
        b.raise(
            Code::WI801,
            format!("{client_id} is the {what} {name}, not its {noun}"),
        )
        .evidence(Evidence::compared("client ID", client_id, &right))
        .var("client_id", right);
    } else if az.identities.is_empty() && az.applications.is_empty() {
        b.raise(
            Code::WI802,
            "the world holds no identities or applications to resolve the client ID",
        );
    } else {
        b.raise(
            Code::WI803,
            format!("no managed identity or application has client ID {client_id}"),
        );
    }
}

/// Something whose object ID is `id` and that has a client ID: (what it is, its name, its
/// client ID).
fn object_with_id(cx: &PodCx<'_, '_>, id: &str) -> Option<(&'static str, String, String)> {
    let key = lower(id);
    cx.ix
        .identities_by_principal
        .get(key.as_ref())
        .map(|i| {
            (
                "principal (object) ID of identity",
                i.name.clone(),
                i.client_id.clone().unwrap_or_default(),
            )
        })
        .or_else(|| {
            let a = cx.ix.apps_by_object_id.get(key.as_ref())?;
            Some((
                "object ID of application",
                a.display_name.clone().unwrap_or_default(),
                a.app_id.clone(),
            ))
        })
        .or_else(|| {
            let sp = cx.ix.sps_by_object_id.get(key.as_ref())?;
            Some((
                "object ID of service principal",
                sp.display_name.clone().unwrap_or_default(),
                sp.app_id.clone(),
            ))
        })
}

/// An application whose service principal is disabled gets no token at all (AADSTS7000112).
fn disabled(b: &mut LinkBuilder<'_>, resolved: &Resolved<'_>, client_id: &str) {
    if let Resolved::Application(_, Some(sp)) = resolved
        && sp.account_enabled == Some(false)
    {
        b.raise(
            Code::WI807,
            format!(
                "the service principal of {} is disabled: Entra issues it no token",
                resolved.name()
            ),
        )
        .evidence(
            Evidence::fact("accountEnabled", "false")
                .with_note(format!("service principal {}", sp.id)),
        )
        .var("client_id", client_id);
    }
}

/// Regions where user-assigned identities cannot hold federated credentials yet, as Entra's
/// federation considerations list them (MicrosoftDocs/entra-docs
/// docs/workload-id/workload-identity-federation-considerations.md, "Unsupported regions").
const REGIONS_WITHOUT_CREDENTIALS: &[&str] = &["malaysiasouth", "newzealandnorth"];

/// A managed identity in such a region with no credential: it cannot be given one, whatever
/// the federation link says is missing. One that has credentials evidently got them (support
/// rolls out region by region), so nothing is said.
fn region_without_credentials(
    cx: &PodCx<'_, '_>,
    b: &mut LinkBuilder<'_>,
    resolved: &Resolved<'_>,
) {
    let Resolved::Identity(mi) = resolved else {
        return;
    };
    let Some(location) = mi.location.as_deref() else {
        return;
    };
    let region: String = location
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    if REGIONS_WITHOUT_CREDENTIALS.contains(&region.as_str()) && resolved.fics(cx.ix).is_empty() {
        b.raise(
            Code::WI808,
            format!(
                "managed identity {} is in {location}, where user-assigned identities cannot hold federated credentials yet",
                mi.name
            ),
        )
        .evidence(Evidence::fact("location", location));
    }
}
