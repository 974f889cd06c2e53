//! `widiag report --format html`: one self-contained page (no script, no network), readable
//! on screen and on paper. maud escapes every value, so names from the world cannot inject markup.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::handoff::{self, Handoff, PodView};
use super::text::evidence;
use crate::analysis::Status;

const STYLE: &str = r#"
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1b1f24;background:#fff}
h1{font-size:1.5rem;margin:0 0 .3rem} h2{font-size:1.2rem;margin:2rem 0 .4rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
h3{font-size:1rem;margin:1.2rem 0 .3rem}
.prov{color:#57606a;margin:0 0 1rem} .prov span{margin-right:1rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.s{font-weight:600;white-space:nowrap}
.fail{color:#b3261e} .warn{color:#9a6700} .unknown{color:#8250df} .pass{color:#1a7f37} .skip{color:#6e7781}
tr.fail td{background:#fff1f0} tr.warn td{background:#fff8e5} tr.unknown td{background:#f7f2ff}
.finding{border-left:4px solid #d0d7de;padding:.2rem .8rem;margin:.8rem 0}
.finding.fail{border-color:#b3261e} .finding.warn{border-color:#9a6700} .finding.unknown{border-color:#8250df}
.finding p{color:#1b1f24}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all;font-size:13px}
code{font-size:13px}
@media print{body{margin:0;max-width:none} pre{border:1px solid #d0d7de} h2{break-after:avoid} .finding,tr{break-inside:avoid}}
@media (prefers-color-scheme:dark){body{background:#0d1117;color:#e6edf3} th{background:#161b22} pre{background:#161b22}
 th,td{border-color:#30363d} tr.fail td{background:#2d1214} tr.warn td{background:#2b2111} tr.unknown td{background:#231a35} .finding p{color:#e6edf3}}
"#;

pub fn render(h: &Handoff<'_>) -> String {
    let title = match h.pods.as_slice() {
        [one] => format!("widiag: {} {}", one.chain.pod, one.headline),
        many => format!("widiag: {} pods", many.len()),
    };
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "widiag report" }
                p.prov {
                    @for (k, v) in handoff::provenance(h.versions, h.redacted_names) {
                        span { (k) " " code { (v) } }
                    }
                }
                @if h.pods.len() > 1 {
                    table {
                        tr { th { "Pod" } th { "Verdict" } }
                        @for p in &h.pods {
                            tr class=(p.chain.verdict().name()) {
                                td { a href={ "#" (anchor(p)) } { (p.chain.pod) } }
                                td class={ "s " (p.chain.verdict().name()) } { (p.headline) }
                            }
                        }
                    }
                }
                @for p in &h.pods { (pod(p)) }
                @if !h.gaps.is_empty() {
                    h2 { "Not read" }
                    ul { @for g in &h.gaps { li { (g) } } }
                }
                p.prov { "Replay: widiag --world BUNDLE (TUI) or widiag check --world BUNDLE." }
            }
        }
    };
    page.into_string()
}

fn anchor(p: &PodView<'_>) -> String {
    format!("pod-{}-{}", p.chain.pod.namespace, p.chain.pod.name)
}

fn pod(p: &PodView<'_>) -> Markup {
    let c = &p.chain;
    html! {
        h2 id=(anchor(p)) { (c.pod) ": " span class=(c.verdict().name()) { (p.headline) } }
        p.prov {
            span { "workload " code { (c.workload.kubectl_ref()) } }
            span { "service account " code { (c.service_account) } }
            @if let Some(id) = &c.client_id { span { "client ID " code { (id) } } }
            @if let Some(i) = &c.identity { span { "identity " code { (i) } } }
        }
        table.chain {
            tr { th { "#" } th { "Link" } th { "Status" } th { "Code" } th { "Summary" } }
            @for (i, l) in c.links.iter().enumerate() {
                tr class=(l.status.name()) {
                    td { (i + 1) }
                    td.s { (l.link.name()) }
                    td class={ "s " (l.status.name()) } { (l.status.name()) }
                    td { @if let Some(f) = l.primary().filter(|_| l.status > Status::Skip) { (f.code) } }
                    td { (l.summary) }
                }
            }
        }
        @for l in &c.links {
            @for f in l.findings.iter().filter(|f| f.severity.status() > Status::Pass) {
                div class={ "finding " (f.severity.status().name()) } {
                    h3 { (f.code) " " (l.link.name()) ": " (f.title) }
                    p { (f.message) }
                    p { (f.explanation) }
                    @if !f.evidence.is_empty() { ul { @for e in &f.evidence { li { code { (evidence(e)) } } } } }
                    @if let Some(fix) = &f.fix { p { "Fix:" } pre.fix { (fix) } }
                }
            }
        }
        @if !p.exchanges.is_empty() || !p.probes.is_empty() {
            h3 { "Live evidence" }
            ul {
                @for e in &p.exchanges { li { "Token exchange " (handoff::exchange_line(e)) } }
                @for pr in &p.probes { li { "Probe " (handoff::probe_line(pr)) } }
            }
            pre.transcript {
                @for s in p.steps() { (handoff::step_line(s)) "\n" }
            }
        }
    }
}
