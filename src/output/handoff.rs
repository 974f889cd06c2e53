//! What the Markdown and HTML handoff forms show, gathered once from a bundle: the chains, the
//! live evidence behind them (exchanges with Entra's trace and correlation IDs, probes, their
//! transcripts) and where the bundle came from. Both forms only lay this out.

use crate::analysis::PodChain;
use crate::bundle::{Bundle, Versions};
use crate::world::live::{ExchangeOutcome, ExchangeRecord, Gap, ProbeRecord, Step};

/// Every string in it has passed [`super::safe`]: secrets redacted, controls made visible.
pub struct Handoff<'a> {
    pub versions: &'a Versions,
    pub redacted_names: bool,
    pub pods: Vec<PodView<'a>>,
    pub gaps: Vec<Gap>,
}

pub struct PodView<'a> {
    pub chain: PodChain,
    /// `FAIL at federation (WI802)` or `PASS`.
    pub headline: String,
    pub exchanges: Vec<&'a ExchangeRecord>,
    pub probes: Vec<&'a ProbeRecord>,
}

pub fn gather(bundle: &Bundle) -> Handoff<'_> {
    let facts = &bundle.world.facts;
    // The raw chain finds its live evidence; the safe copy is what is shown.
    let safe = super::safe::for_people(&bundle.report).pods;
    let mut pods: Vec<(&PodChain, PodChain)> = bundle.report.pods.iter().zip(safe).collect();
    // Broken pods first, as the text report orders them.
    pods.sort_by(|(a, _), (b, _)| {
        b.verdict()
            .cmp(&a.verdict())
            .then_with(|| a.pod.cmp(&b.pod))
    });
    Handoff {
        versions: &bundle.versions,
        redacted_names: bundle.redacted_names,
        gaps: facts
            .gaps
            .iter()
            .map(|g| super::safe::gap(g, &|s| super::safe::text(s)))
            .collect(),
        pods: pods
            .into_iter()
            .map(|(raw, chain)| PodView {
                headline: headline(&chain),
                exchanges: facts
                    .exchanges
                    .iter()
                    .filter(|e| e.pods.contains(&raw.pod))
                    .collect(),
                probes: facts.probes.iter().filter(|p| p.pod == raw.pod).collect(),
                chain,
            })
            .collect(),
    }
}

pub fn headline(chain: &PodChain) -> String {
    match chain.broken_link() {
        Some(l) => {
            let code = l
                .primary()
                .map(|f| format!(" ({})", f.code))
                .unwrap_or_default();
            format!(
                "{} at {}{code}",
                chain.verdict().name().to_uppercase(),
                l.link.name()
            )
        }
        None => "PASS".into(),
    }
}

/// One line for an exchange: what Entra answered, with the IDs a support case needs.
pub fn exchange_line(e: &ExchangeRecord) -> String {
    super::safe::text(&exchange_line_raw(e))
}

fn exchange_line_raw(e: &ExchangeRecord) -> String {
    let mut s = match &e.outcome {
        ExchangeOutcome::Granted { access } => format!(
            "granted: token for {} (oid {})",
            access.aud.as_deref().unwrap_or("?"),
            access.oid.as_deref().unwrap_or("?")
        ),
        ExchangeOutcome::Rejected(err) => {
            let mut s = format!("rejected: HTTP {} {}", err.status, err.error);
            if let Some(code) = err.aadsts() {
                s.push_str(&format!(" AADSTS{code}"));
            }
            for (label, v) in [
                ("trace ID", &err.trace_id),
                ("correlation ID", &err.correlation_id),
                ("timestamp", &err.timestamp),
            ] {
                if let Some(v) = v {
                    s.push_str(&format!(", {label} {v}"));
                }
            }
            s
        }
        ExchangeOutcome::Unreachable { error } => format!("unreachable: {error}"),
    };
    s.push_str(&format!(
        " (client {}, tenant {}, {} attempt{})",
        e.client_id,
        e.tenant_id,
        e.attempts,
        if e.attempts == 1 { "" } else { "s" }
    ));
    s
}

pub fn probe_line(p: &ProbeRecord) -> String {
    super::safe::text(&probe_line_raw(p))
}

fn probe_line_raw(p: &ProbeRecord) -> String {
    let status = p
        .status
        .map_or("no answer".to_string(), |s| format!("HTTP {s}"));
    let mut s = format!("{} {}: {status}", p.operation, p.target.name());
    if let Some(c) = &p.error_code {
        s.push_str(&format!(" {c}"));
    }
    if let Some(id) = &p.request_id {
        s.push_str(&format!(", request ID {id}"));
    }
    s
}

/// `widiag 0.1.0 · Kubernetes 1.30 · ...` for a header line.
pub fn provenance(v: &Versions, redacted_names: bool) -> Vec<(&'static str, String)> {
    let mut out = vec![("widiag", v.widiag.clone())];
    let opt = [
        ("taken", &v.captured_at),
        ("Kubernetes", &v.kubernetes),
        ("webhook", &v.webhook),
        ("cloud", &v.cloud),
    ];
    // Versions come from the world (the cluster, or whoever wrote the file).
    out.extend(
        opt.into_iter()
            .filter_map(|(k, v)| Some((k, super::safe::text(v.as_deref()?)))),
    );
    if redacted_names {
        out.push(("names", "pseudonyms".into()));
    }
    out
}

/// A transcript step as one line: `  12ms 200 GET https://... (what)`.
pub fn step_line(s: &Step) -> String {
    let status = s.status.map_or("---".to_string(), |c| c.to_string());
    super::safe::text(&format!(
        "{:>5}ms {status} {} {} ({})",
        s.millis, s.method, s.url, s.what
    ))
}

/// The `--transcript` / `--log` text of a live run: every request it made (Kubernetes, the
/// Azure credential, ARM and Graph, exchanges, probes), then what it could not read; redacted
/// and made visible like every other form.
pub fn transcript_text(
    world: &crate::world::World,
    kubernetes_and_azure: &[Step],
    error: Option<&str>,
) -> String {
    let steps = kubernetes_and_azure
        .iter()
        .chain(world.facts.exchanges.iter().flat_map(|e| &e.transcript))
        .chain(world.facts.probes.iter().flat_map(|p| &p.transcript));
    let mut text = String::new();
    for s in steps {
        text.push_str(&step_line(s));
        text.push('\n');
    }
    for g in &world.facts.gaps {
        text.push_str(&super::safe::text(&format!("not read: {g}")));
        text.push('\n');
    }
    if let Some(e) = error {
        text.push_str(&super::safe::text(&format!("failed: {e}")));
        text.push('\n');
    }
    text
}

impl PodView<'_> {
    /// Every request behind this pod's live evidence, exchanges first.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.exchanges
            .iter()
            .flat_map(|e| &e.transcript)
            .chain(self.probes.iter().flat_map(|p| &p.transcript))
    }
}
