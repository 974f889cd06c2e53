//! `federation`: a federated credential on the resolved identity matches the token's issuer,
//! subject and audience exactly. When none does, the closest one is explained field by field.

use super::{LinkBuilder, PodCx};
use crate::analysis::chain::Evidence;
use crate::analysis::codes::Code;
use crate::analysis::compare::distance;
use crate::analysis::index::lower;
use crate::analysis::subject::{Resolved, TokenView};
use crate::world::azure::{CredentialOwner, FederatedCredential};

/// How one credential compares with the pod's token, field by field.
pub(super) struct Match<'f> {
    pub fic: &'f FederatedCredential,
    /// `None` when the token issuer is unknown.
    pub issuer: Option<bool>,
    pub subject: bool,
    pub audience: bool,
}

impl<'f> Match<'f> {
    pub(super) fn new(fic: &'f FederatedCredential, t: &TokenView) -> Match<'f> {
        Match {
            fic,
            issuer: t.iss.as_deref().map(|i| fic.issuer == i),
            subject: fic.subject.as_deref() == Some(t.sub.as_str()),
            audience: fic.audiences.iter().any(|a| t.aud.contains(a)),
        }
    }

    fn full(&self) -> bool {
        self.issuer != Some(false) && self.subject && self.audience
    }
    fn score(&self, iss: Option<&str>, sub: &str) -> (usize, std::cmp::Reverse<usize>) {
        let fields = usize::from(self.issuer == Some(true))
            + usize::from(self.subject)
            + usize::from(self.audience);
        let d = self
            .fic
            .subject
            .as_deref()
            .map_or(usize::MAX / 2, |s| distance(s, sub))
            + iss.map_or(0, |i| distance(&self.fic.issuer, i));
        (fields, std::cmp::Reverse(d))
    }
}

pub fn check(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) {
    // An AKS identity binding: the trust is the binding's, checked as AKS documents it.
    if cx.subject.custom_endpoint.is_some()
        && crate::world::kube::uses_identity_binding(cx.subject.pod)
    {
        super::binding::check(cx, b);
        return;
    }
    if super::custom_endpoint_skips(cx, b) {
        return;
    }
    let s = cx.subject;
    let Some(resolved) = s.resolved else {
        b.skip("no resolved identity (see the identity link)");
        return;
    };
    let variant = match resolved {
        Resolved::Identity(_) => "identity",
        Resolved::Application(..) => "application",
    };
    let t = &s.token;
    let iss = t.iss.as_deref();
    let fics = resolved.fics(cx.ix);
    let matches: Vec<Match<'_>> = fics.iter().map(|f| Match::new(f, t)).collect();
    if let Some(m) = matches.iter().find(|m| m.full()) {
        matched(b, m, &t.sub);
        return;
    }
    // Said before "the matching credential is elsewhere": it is why.
    if trusts_a_managed_identity(cx, b, resolved, fics) {
        return;
    }
    elsewhere(cx, b, resolved);
    if fics.is_empty() {
        b.raise(
            Code::WI901,
            format!(
                "{} {} has no federated credentials",
                resolved.kind(),
                resolved.name()
            ),
        )
        .variant(variant);
        return;
    }
    if let Some(flex) = fics
        .iter()
        .find(|f| f.subject.is_none() && f.claims_matching_expression.is_some())
    {
        b.raise(
            Code::WI906,
            format!(
                "federated credential {} uses claimsMatchingExpression",
                flex.name
            ),
        )
        .evidence(Evidence::fact(
            "claimsMatchingExpression",
            flex.claims_matching_expression.clone().unwrap_or_default(),
        ))
        .variant(variant);
    }
    let Some(best) = matches.iter().max_by_key(|m| m.score(iss, &t.sub)) else {
        return;
    };
    explain_closest(b, best, t, variant);
    b.fact(Evidence::fact(
        "credentials checked",
        fics.len().to_string(),
    ));
}

fn matched(b: &mut LinkBuilder<'_>, m: &Match<'_>, sub: &str) {
    b.fact(Evidence::fact("federated credential", &m.fic.name));
    b.fact(Evidence::fact("subject", sub));
    if m.issuer.is_none() {
        b.fact(
            Evidence::fact("issuer", &m.fic.issuer).with_note("not compared: token issuer unknown"),
        );
    }
    b.ok(format!(
        "federated credential {} matches issuer, subject and audience",
        m.fic.name
    ));
}

/// Each field in which the closest credential differs from the token, with what to change.
fn explain_closest(
    b: &mut LinkBuilder<'_>,
    best: &Match<'_>,
    t: &TokenView,
    variant: &'static str,
) {
    let iss = t.iss.as_deref();
    let name = &best.fic.name;
    let closest = format!("closest credential {name}");
    if best.issuer == Some(false) {
        let token_iss = iss.unwrap_or_default();
        b.raise(
            Code::WI902,
            format!(
                "{closest} has issuer {:?}; the token's iss is {token_iss:?}",
                best.fic.issuer
            ),
        )
        .evidence(Evidence::compared("issuer", &best.fic.issuer, token_iss))
        .var("fic_name", name.clone())
        .variant(variant);
    }
    if !best.subject
        && let Some(fs) = best.fic.subject.as_deref()
    {
        let code = if fs.eq_ignore_ascii_case(&t.sub) {
            Code::WI904
        } else {
            Code::WI903
        };
        b.raise(
            code,
            format!(
                "{closest} has subject {fs:?}; {}",
                subject_detail(fs, &t.sub)
            ),
        )
        .evidence(Evidence::compared("subject", fs, &t.sub))
        .var("fic_name", name.clone())
        .variant(variant);
    }
    if !best.audience {
        b.raise(
            Code::WI905,
            format!(
                "{closest} has audiences {:?}; the token's aud is {:?}",
                best.fic.audiences, t.aud
            ),
        )
        .evidence(Evidence::compared(
            "audience",
            best.fic.audiences.join(", "),
            t.aud.join(", "),
        ))
        .var("fic_name", name.clone())
        .variant(variant);
    }
}

/// Says which part of `system:serviceaccount:NS:SA` differs.
fn subject_detail(fic: &str, token: &str) -> String {
    let parts = |s: &str| {
        let mut p = s.strip_prefix("system:serviceaccount:")?.splitn(2, ':');
        Some((p.next()?.to_string(), p.next()?.to_string()))
    };
    match (parts(fic), parts(token)) {
        (Some((fn_, fs)), Some((tn, ts))) if fs == ts && fn_ != tn => {
            format!("it names namespace {fn_}, the pod runs in {tn}")
        }
        (Some((fn_, fs)), Some((tn, ts))) if fn_ == tn && fs != ts => {
            format!("it names ServiceAccount {fs}, the pod uses {ts}")
        }
        _ => format!("the token's sub is {token:?}"),
    }
}

/// E4: a credential for this token exists, but on another identity or application.
fn elsewhere(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>, resolved: Resolved<'_>) {
    let t = &cx.subject.token;
    let own = resolved.client_id().map(lower);
    for f in cx
        .ix
        .fics_by_subject
        .get(t.sub.as_str())
        .into_iter()
        .flatten()
    {
        if t.iss.as_deref().is_some_and(|i| i != f.issuer) {
            continue;
        }
        let (other_name, other_client) = match &f.owner {
            CredentialOwner::Identity(id) => match cx.ix.identities_by_id.get(lower(id).as_ref()) {
                Some(i) => (i.name.clone(), i.client_id.clone()),
                None => (id.clone(), None),
            },
            CredentialOwner::Application(app) => {
                let a = cx
                    .ix
                    .apps_by_app_id
                    .get(lower(app).as_ref())
                    .or_else(|| cx.ix.apps_by_object_id.get(lower(app).as_ref()));
                (
                    a.and_then(|a| a.display_name.clone())
                        .unwrap_or_else(|| app.clone()),
                    a.map(|a| a.app_id.clone()),
                )
            }
        };
        if other_client.as_deref().map(lower) == own {
            continue;
        }
        b.raise(
            Code::WI907,
            format!(
                "credential {} on {other_name} matches this pod's token, but the pod uses {}",
                f.name,
                resolved.name()
            ),
        )
        .evidence(Evidence::fact(
            "matching credential",
            format!("{other_name}/{}", f.name),
        ))
        .var("other_client_id", other_client.unwrap_or_default());
        return;
    }
}

/// Entra's own issuers (`https://login.microsoftonline.com/<tenant>/v2.0` and the hosts Entra
/// lists beside it): a credential naming one trusts an Entra token, a managed identity's, never
/// a cluster's (workload-identity-federation-considerations).
fn entra_issuer(issuer: &str) -> bool {
    let host = issuer
        .trim_start_matches("https://")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    [
        "login.microsoftonline.com",
        "login.microsoft.com",
        "login.windows.net",
        "sts.windows.net",
        "login.microsoftonline.us",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
    ]
    .iter()
    .any(|h| host == *h || host.ends_with(&format!(".{h}")))
}

/// An application whose every credential trusts an Entra issuer is set up to trust a managed
/// identity (learn.microsoft.com/entra/workload-id/workload-identity-federation-config-app-trust-managed-identity):
/// the pod must present that identity's token, got through the cluster, not the cluster's own.
/// Said as that rather than as an issuer mismatch. True when raised.
fn trusts_a_managed_identity(
    cx: &PodCx<'_, '_>,
    b: &mut LinkBuilder<'_>,
    resolved: Resolved<'_>,
    fics: &[&crate::world::azure::FederatedCredential],
) -> bool {
    let Resolved::Application(app, _) = resolved else {
        return false;
    };
    if fics.is_empty() || !fics.iter().all(|f| entra_issuer(&f.issuer)) {
        return false;
    }
    let trusted = fics.iter().find_map(|f| {
        let subject = f.subject.as_deref()?;
        cx.ix
            .identities_by_principal
            .get(crate::analysis::index::lower(subject).as_ref())
            .map(|mi| (f, *mi))
    });
    let r = b.raise(
        Code::WI908,
        format!(
            "application {} trusts a managed identity's Entra token, not the cluster's",
            resolved.name()
        ),
    );
    for f in fics {
        r.evidence(
            Evidence::fact(format!("credential {}", f.name), &f.issuer).with_note(format!(
                "subject {}",
                f.subject.as_deref().unwrap_or("(none)")
            )),
        );
    }
    match trusted {
        Some((_, mi)) => {
            let federated = Resolved::Identity(mi)
                .fics(cx.ix)
                .iter()
                .any(|f| Match::new(f, &cx.subject.token).full());
            let note = if federated {
                "federated with this pod's ServiceAccount"
            } else {
                "not federated with this pod's ServiceAccount yet"
            };
            r.evidence(Evidence::fact("trusted managed identity", &mi.name).with_note(note))
                .var("client_id", mi.client_id.clone().unwrap_or_default())
                .variant("identity");
        }
        None => {
            let subject = fics
                .iter()
                .find_map(|f| f.subject.clone())
                .unwrap_or_default();
            r.var("principal_id", subject).variant("unknown");
        }
    }
    r.var("app_id", &app.app_id);
    true
}
