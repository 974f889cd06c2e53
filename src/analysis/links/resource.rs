//! `resource`: what the Key Vault and Blob data planes answered to the pod's access token.

use super::{LinkBuilder, PodCx};
use crate::analysis::chain::Evidence;
use crate::analysis::codes::Code;
use crate::world::live::{ProbeRecord, ProbeTarget};

pub fn check(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) {
    if super::template_only_skips(cx, b) {
        return;
    }
    let probes = cx
        .ix
        .probes
        .get(&cx.subject.at)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if probes.is_empty() {
        if cx.ix.live() {
            b.skip("no probe ran (no access token, or no Key Vault or Blob target)");
        } else {
            b.skip("not run: the resource calls need the live probes");
            b.raise(
                Code::WI1201,
                "not run: the resource calls need the live probes",
            );
        }
        return;
    }
    let mut granted = Vec::new();
    for p in probes {
        let target = p.target.name();
        let status = p.status.map(|s| s.to_string()).unwrap_or("-".into());
        b.fact(
            Evidence::fact(format!("{target}: {}", p.operation), status)
                .with_note(p.error_code.clone().unwrap_or_default()),
        );
        match p.status {
            Some(s) if (200..300).contains(&s) => granted.push(target),
            // Key Vault authorises before it looks up: the absent probe secret proves access.
            Some(404) if p.error_code.as_deref() == Some("SecretNotFound") => granted.push(target),
            _ => denied(b, p, target),
        }
    }
    if !granted.is_empty() {
        b.ok(format!("access granted to {}", granted.join(", ")));
    }
}

fn denied(b: &mut LinkBuilder<'_>, p: &ProbeRecord, target: String) {
    let code_name = p.error_code.as_deref().unwrap_or_default();
    let user_delegation = p.operation.contains("user delegation key");
    let code = match (p.status, code_name, &p.target) {
        (Some(403), "ForbiddenByFirewall" | "AuthorizationFailure", _) => Code::WI1204,
        (Some(403), "ForbiddenByRbac", _) => Code::WI1202,
        (Some(403), "ForbiddenByPolicy", _) => Code::WI1203,
        (Some(403), _, ProbeTarget::Blob { .. }) if user_delegation => Code::WI1208,
        (Some(403), "AuthorizationPermissionMismatch", _) => Code::WI1205,
        (Some(404), _, _) => Code::WI1206,
        _ => Code::WI1207,
    };
    let what = match p.status {
        Some(s) => format!("{s} {code_name}"),
        None => "no answer".into(),
    };
    let r = b.raise(
        code,
        format!("{target}: {} answered {}", p.operation, what.trim()),
    );
    r.var("target", target)
        .evidence(Evidence::fact("url", &p.url));
    if let Some(m) = &p.message {
        r.evidence(Evidence::fact("message", m));
    }
    if let Some(id) = &p.request_id {
        r.evidence(Evidence::fact("request id", id));
    }
}
