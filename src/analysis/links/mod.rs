//! One module per link. Each reads a [`PodCx`] and reports into a [`LinkBuilder`].

mod access;
mod binding;
mod cluster;
mod exchange;
mod federation;
mod identity;
mod issuer;
mod mutation;
mod pod;
mod resource;
mod service_account;
mod token;
mod webhook;

use crate::analysis::codes::Code;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Values fix templates are filled from, by placeholder name.
pub type Vars = BTreeMap<&'static str, Filled<'static>>;

use super::catalog::{Catalog, Fix, render_with};
use super::chain::{Evidence, Finding, Link, LinkResult, Status};
use super::index::Index;
use super::subject::Subject;
use super::webhook::Install;
use crate::untrusted::secrets::redact;
use crate::untrusted::shell::{self, Filled};
use crate::world::TargetHint;

pub struct PodCx<'a, 'w> {
    pub ix: &'a Index<'w>,
    pub install: &'a Install<'w>,
    pub subject: &'a Subject<'w>,
    pub now: jiff::Timestamp,
    pub targets: &'a [TargetHint],
}

pub fn run(cx: &PodCx<'_, '_>, catalog: &Catalog) -> Vec<LinkResult> {
    Link::ALL
        .into_iter()
        .map(|link| {
            let mut b = LinkBuilder::new(link, catalog);
            match link {
                Link::Cluster => cluster::check(cx, &mut b),
                Link::Webhook => webhook::check(cx, &mut b),
                Link::ServiceAccount => service_account::check(cx, &mut b),
                Link::Pod => pod::check(cx, &mut b),
                Link::Mutation => mutation::check(cx, &mut b),
                Link::Token => token::check(cx, &mut b),
                Link::Issuer => issuer::check(cx, &mut b),
                Link::Identity => identity::check(cx, &mut b),
                Link::Federation => federation::check(cx, &mut b),
                Link::Exchange => exchange::check(cx, &mut b),
                Link::Access => access::check(cx, &mut b),
                Link::Resource => resource::check(cx, &mut b),
            }
            b.finish(cx)
        })
        .collect()
}

/// A would-be pod (no pod of the workload exists) has no token to exchange and no resource
/// calls to make: those links skip it, saying so.
fn template_only_skips(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) -> bool {
    if cx.subject.template_only {
        b.skip("no pod of the workload exists: nothing to exchange or call");
    }
    cx.subject.template_only
}

/// A pod on the webhook's custom token endpoint (v1.6, AKS identity bindings) hands its token to
/// the endpoint's proxy, not to Entra: the federation and exchange links skip it, saying so.
fn custom_endpoint_skips(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) -> bool {
    let Some(aud) = &cx.subject.custom_endpoint else {
        return false;
    };
    b.skip(format!(
        "the pod uses the webhook's custom token endpoint (audience {aud}): its token goes to the proxy at AZURE_KUBERNETES_TOKEN_PROXY, which exchanges it; widiag does not call the proxy"
    ));
    true
}

/// A finding before the catalogue gives it a title, severity and fix.
pub struct Raised {
    code: Code,
    message: String,
    evidence: Vec<Evidence>,
    vars: Vars,
    variant: Option<&'static str>,
}

impl Raised {
    pub fn evidence(&mut self, e: Evidence) -> &mut Self {
        self.evidence.push(e);
        self
    }
    /// A value from the cluster or Azure: grammar-checked and shell-quoted in the fix.
    pub fn var(&mut self, k: &'static str, v: impl Into<String>) -> &mut Self {
        self.vars.insert(k, Filled::Value(Cow::Owned(v.into())));
        self
    }
    /// widiag's own words for what the user must supply, shown as `<words>`.
    pub fn placeholder(&mut self, k: &'static str, words: &'static str) -> &mut Self {
        self.vars
            .insert(k, Filled::Placeholder(Cow::Borrowed(words)));
        self
    }
    /// Several shell words widiag composed, each already quoted with [`shell::quote`].
    pub fn words(&mut self, k: &'static str, quoted: String) -> &mut Self {
        self.vars.insert(k, Filled::Words(Cow::Owned(quoted)));
        self
    }
    /// Chooses a fix variant (`pod`, `workload`, `identity`, `application`, ...).
    pub fn variant(&mut self, v: &'static str) -> &mut Self {
        self.variant = Some(v);
        self
    }
}

pub struct LinkBuilder<'c> {
    link: Link,
    catalog: &'c Catalog,
    raised: Vec<Raised>,
    evidence: Vec<Evidence>,
    summary: Option<Cow<'static, str>>,
    skip: Option<Cow<'static, str>>,
}

impl<'c> LinkBuilder<'c> {
    fn new(link: Link, catalog: &'c Catalog) -> Self {
        Self {
            link,
            catalog,
            raised: Vec::new(),
            evidence: Vec::new(),
            summary: None,
            skip: None,
        }
    }

    pub fn raise(&mut self, code: Code, message: impl Into<String>) -> &mut Raised {
        self.raised.push(Raised {
            code,
            message: message.into(),
            evidence: Vec::new(),
            vars: BTreeMap::new(),
            variant: None,
        });
        self.raised.last_mut().expect("just pushed")
    }

    pub fn fact(&mut self, e: Evidence) {
        self.evidence.push(e);
    }

    /// The one-line summary when nothing is wrong.
    pub fn ok(&mut self, summary: impl Into<Cow<'static, str>>) {
        self.summary = Some(summary.into());
    }

    /// Marks the link not applicable (an earlier link decides, or it needs live probes).
    pub fn skip(&mut self, why: impl Into<Cow<'static, str>>) {
        self.skip = Some(why.into());
    }

    pub fn raised_any(&self, codes: &[Code]) -> bool {
        self.raised.iter().any(|r| codes.contains(&r.code))
    }

    /// Sets a fix variable on every finding raised so far that does not set it itself.
    pub fn suggest_var(&mut self, k: &'static str, v: &str) {
        for r in &mut self.raised {
            r.vars
                .entry(k)
                .or_insert_with(|| Filled::Value(Cow::Owned(v.into())));
        }
    }

    fn finish(self, cx: &PodCx<'_, '_>) -> LinkResult {
        let findings: Vec<Finding> = self
            .raised
            .into_iter()
            .map(|r| resolve(self.catalog, cx, r))
            .collect();
        let worst = findings
            .iter()
            .map(|f| f.severity.status())
            .max()
            .unwrap_or(Status::Pass);
        let status = match (&self.skip, worst) {
            (Some(_), Status::Pass) => Status::Skip,
            (_, s) => s,
        };
        let primary = findings
            .iter()
            .find(|f| f.severity.status() == status && status > Status::Skip);
        let summary = match primary {
            Some(f) => f.message.clone().into(),
            None => self.skip.or(self.summary).unwrap_or(Cow::Borrowed("ok")),
        };
        LinkResult {
            link: self.link,
            status,
            summary,
            evidence: self.evidence,
            findings,
            basis: super::basis::of(self.link, cx),
        }
    }
}

fn resolve(catalog: &Catalog, cx: &PodCx<'_, '_>, r: Raised) -> Finding {
    let Some(entry) = catalog.get(r.code.as_str()) else {
        // Every code raised in src/ is in the catalogue (tested); keep going regardless.
        return Finding {
            code: r.code.as_str().into(),
            severity: super::chain::Severity::Error,
            title: "uncatalogued finding".into(),
            message: r.message,
            explanation: "".into(),
            evidence: r.evidence,
            fix: None,
        };
    };
    // Values are redacted before they are quoted: redacting a finished command would cut
    // through its quoting (src/output/safe.rs).
    let filled = |k: &str| match r.vars.get(k) {
        Some(Filled::Value(v)) => Some(Filled::Value(redact(v))),
        Some(Filled::Placeholder(w)) => Some(Filled::Placeholder(Cow::Borrowed(w.as_ref()))),
        Some(Filled::Words(w)) => Some(Filled::Words(Cow::Borrowed(w.as_ref()))),
        None if k == "restart" => Some(Filled::Words(Cow::Owned(
            cx.subject
                .workload
                .restart_words(&cx.subject.at.name, &cx.subject.at.namespace),
        ))),
        None => cx
            .subject
            .var(cx.ix, cx.install, k)
            .map(|v| Filled::Value(Cow::Owned(redact(&v).into_owned()))),
    };
    // Prose (the explanation) takes values as they are; the display sanitises them.
    let lookup = |k: &str| {
        filled(k).map(|f| match f {
            Filled::Value(v) | Filled::Words(v) => v,
            Filled::Placeholder(w) => Cow::Owned(format!("<{w}>")),
        })
    };
    let template = match &entry.fix {
        Fix::One(t) => Some(t.as_str()),
        Fix::Variants(m) => {
            let workload_or_pod = if lookup("workload").is_some_and(|w| !w.starts_with("pod/")) {
                "workload"
            } else {
                "pod"
            };
            // A Job's template cannot change and a CronJob's is one level down: their own
            // forms come before the generic workload one.
            let kind_variant = Some(cx.subject.workload.template_variant())
                .filter(|v| matches!(*v, "job" | "cronjob"));
            r.variant
                .and_then(|v| m.get(v))
                .or_else(|| kind_variant.and_then(|k| m.get(k)))
                .or_else(|| m.get(workload_or_pod))
                .or_else(|| m.values().next())
                .map(String::as_str)
        }
    };
    // Most explanations have no placeholders: share the catalogue's text.
    let explanation = if entry.explain.contains('{') {
        render_with(&entry.explain, lookup).into()
    } else {
        entry.explain.clone()
    };
    let fix = template.map(|t| shell::fill(t, filled));
    Finding {
        code: entry.code.clone(),
        severity: entry.severity,
        title: entry.title.clone(),
        message: r.message,
        explanation,
        evidence: r.evidence,
        fix,
    }
}
