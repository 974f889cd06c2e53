//! `exchange`: what Entra answered when the pod's token was presented for an access token.

use super::federation::Match;
use super::{LinkBuilder, PodCx};
use crate::analysis::chain::Evidence;
use crate::analysis::codes::Code;
use crate::analysis::entra_errors;
use crate::world::live::{EntraError, ExchangeOutcome, ExchangeRecord};

pub fn check(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) {
    if super::template_only_skips(cx, b) {
        return;
    }
    if super::custom_endpoint_skips(cx, b) {
        return;
    }
    let Some(record) = cx.ix.exchanges.get(&cx.subject.at) else {
        if cx.ix.live() {
            b.raise(
                Code::WI1012,
                "no exchange was attempted: the live run had no token for this pod",
            );
        } else {
            b.skip("not run: the exchange needs the live probes");
            b.raise(Code::WI1001, "not run: the exchange needs the live probes");
        }
        return;
    };
    b.fact(Evidence::fact("endpoint", &record.endpoint));
    b.fact(Evidence::fact("client_id", &record.client_id));
    if record.attempts > 1 {
        b.fact(Evidence::fact("attempts", record.attempts.to_string()));
    }
    match &record.outcome {
        ExchangeOutcome::Granted { access } => {
            for (label, v) in [
                ("access token aud", &access.aud),
                ("access token oid", &access.oid),
                ("access token appid", &access.appid),
                ("access token tid", &access.tid),
            ] {
                if let Some(v) = v {
                    b.fact(Evidence::fact(label, v));
                }
            }
            b.ok(format!("Entra issued a token for {}", record.scope));
        }
        ExchangeOutcome::Unreachable { error } => {
            b.raise(
                Code::WI1011,
                format!("{} did not answer: {error}", record.endpoint),
            )
            .evidence(Evidence::fact("error", error));
        }
        ExchangeOutcome::Rejected(e) => rejected(cx, b, record, e),
    }
}

fn rejected(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>, record: &ExchangeRecord, e: &EntraError) {
    let aadsts = e.aadsts();
    let label = aadsts.map_or_else(|| e.error.clone(), |c| format!("AADSTS{c}"));
    let sentence = first_sentence(&e.description);
    let message = if sentence.starts_with("AADSTS") {
        sentence.to_string()
    } else {
        format!("{label}: {sentence}")
    };
    // The code number decides, never the `error` string, which Entra has changed for the same
    // code over the years (AADSTS70021 was 400 invalid_request, is 401 invalid_client).
    let known = aadsts.and_then(entra_errors::lookup);
    let code = match aadsts {
        _ if e.status == 429 || e.status >= 500 => Code::WI1010,
        Some(70021) if fic_matches(cx) => Code::WI1004,
        _ => known.map_or(Code::WI1002, |k| k.finding),
    };
    let r = b.raise(code, message);
    if let Some(k) = known {
        r.evidence(Evidence::fact(format!("AADSTS{}", k.code), k.meaning).with_note(k.source));
    }
    r.evidence(Evidence::fact("status", e.status.to_string()))
        .evidence(Evidence::fact("error", &e.error))
        .evidence(Evidence::fact("error_description", &e.description));
    for (label, v) in [
        ("trace_id", &e.trace_id),
        ("correlation_id", &e.correlation_id),
        ("timestamp", &e.timestamp),
    ] {
        if let Some(v) = v {
            r.evidence(Evidence::fact(label, v));
        }
    }
    if let Some(s) = e.retry_after {
        r.evidence(Evidence::fact("Retry-After", format!("{s}s")));
    }
    r.var("tenant_id", &record.tenant_id);
    if code == Code::WI1004 {
        r.evidence(Evidence::fact(
            "matching credential",
            "present in the world; Entra has not seen it yet",
        ));
    }
}

/// `AADSTS70021: No matching ... Trace ID: ...` -> the part before the IDs Entra appends.
fn first_sentence(description: &str) -> &str {
    let d = description.lines().next().unwrap_or_default();
    d.split(" Trace ID:").next().unwrap_or(d).trim()
}

/// Whether a credential on the resolved identity matches the token exactly: then a 70021 is
/// propagation, not a mismatch.
fn fic_matches(cx: &PodCx<'_, '_>) -> bool {
    let s = cx.subject;
    s.resolved.is_some_and(|r| {
        r.fics(cx.ix).iter().any(|f| {
            let m = Match::new(f, &s.token);
            m.issuer == Some(true) && m.subject && m.audience
        })
    })
}
