//! `token`: the projected token's claims, lifetime and readability (observed or predicted).

use super::{LinkBuilder, PodCx};
use crate::analysis::chain::Evidence;
use crate::analysis::codes::Code;
use crate::analysis::webhook::admission::mutates;

/// Entra's limit for an external assertion's lifetime: 1 day and 1 hour (AADSTS70023).
const MAX_LIFETIME_SECS: i64 = 25 * 3600;

pub fn check(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) {
    let s = cx.subject;
    let t = &s.token;
    // A would-be pod has the token the webhook would give it.
    let has_token_file = s.containers().any(|(c, _)| {
        c.env
            .iter()
            .flatten()
            .any(|e| e.name == "AZURE_FEDERATED_TOKEN_FILE")
    }) || (s.template_only && mutates(&cx.install.profile, &s.request()));
    // A token minted live for the ServiceAccount is not one the pod holds: without the file the
    // pod has nothing to present, however good the minted token's claims.
    if !has_token_file {
        b.raise(
            Code::WI604,
            format!("pod {} presents no projected token", s.at.name),
        );
        return;
    }
    b.fact(Evidence::fact(
        "iss",
        t.iss.clone().unwrap_or_else(|| "(unknown)".into()),
    ));
    b.fact(Evidence::fact("sub", &t.sub));
    b.fact(Evidence::fact("aud", t.aud.join(", ")));
    if !t.observed {
        b.raise(
            Code::WI600,
            "claims predicted from the cluster, the ServiceAccount and the projected volume",
        );
        b.ok("predicted claims");
        return;
    }
    b.fact(Evidence::fact(
        "source",
        t.source.clone().unwrap_or_default(),
    ));
    let now = cx.now.as_second();
    if let Some(exp) = t.exp {
        b.fact(Evidence::fact("exp", relative(exp, now)));
        let nbf = t.nbf.or(t.iat).unwrap_or(i64::MIN);
        if now >= exp || now < nbf {
            b.raise(
                Code::WI601,
                format!(
                    "token valid {} .. {}, now is outside that window",
                    at(nbf),
                    at(exp)
                ),
            );
        }
        if let Some(iat) = t.iat.or(t.nbf)
            && exp - iat > MAX_LIFETIME_SECS
        {
            b.raise(
                Code::WI602,
                format!(
                    "token lifetime is {}h, over Entra's 25h",
                    (exp - iat) / 3600
                ),
            );
        }
    }
    if !t.aud.iter().any(|a| a == &cx.install.assumed.audience) {
        b.raise(Code::WI603, format!("token aud is {:?}", t.aud.join(", ")))
            .evidence(Evidence::compared(
                "aud",
                t.aud.join(", "),
                &cx.install.assumed.audience,
            ));
    }
    b.ok("token claims observed and within their lifetime");
}

fn at(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| secs.to_string())
}

/// `2026-01-01T00:00:00Z (in 55m)`.
pub fn relative(secs: i64, now: i64) -> String {
    let d = secs - now;
    let span = |s: i64| {
        let s = s.abs();
        if s >= 86400 {
            format!("{}d", s / 86400)
        } else if s >= 3600 {
            format!("{}h{}m", s / 3600, s % 3600 / 60)
        } else {
            format!("{}m", s / 60)
        }
    };
    let rel = if d >= 0 {
        format!("in {}", span(d))
    } else {
        format!("{} ago", span(d))
    };
    format!("{} ({rel})", at(secs))
}
