//! What a link's verdict rests on: the objects as read, an observation of a live probe, or a
//! prediction where the probe that would observe it did not run. `check` offline and the TUI
//! on a live cluster can disagree on the same world for exactly this reason, so it is said.

use super::Link;
use super::links::PodCx;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// Judged from the Kubernetes and Azure objects as read; no probe is involved.
    Objects,
    /// Seen by a live probe: a captured token, fetched issuer documents, the exchange, a call.
    Observed,
    /// Predicted from the objects: the probe that would observe it did not run.
    Predicted,
}

impl Basis {
    pub fn name(self) -> &'static str {
        match self {
            Basis::Objects => "objects",
            Basis::Observed => "observed",
            Basis::Predicted => "predicted",
        }
    }
}

pub fn of(link: Link, cx: &PodCx<'_, '_>) -> Basis {
    let s = cx.subject;
    let seen = |yes: bool| {
        if yes {
            Basis::Observed
        } else {
            Basis::Predicted
        }
    };
    match link {
        // The token's claims, and the credential compared with them.
        Link::Token | Link::Federation => seen(s.token.observed),
        Link::Issuer => seen(
            s.token
                .iss
                .as_deref()
                .is_some_and(|iss| cx.ix.issuers.contains_key(iss)),
        ),
        Link::Exchange => seen(cx.ix.exchanges.contains_key(&s.at)),
        Link::Resource => seen(cx.ix.probes.contains_key(&s.at)),
        Link::Cluster
        | Link::Webhook
        | Link::ServiceAccount
        | Link::Pod
        | Link::Mutation
        | Link::Identity
        | Link::Access => Basis::Objects,
    }
}
