//! `widiag report --format markdown`: the handoff to paste into a ticket or a pull request.

use std::fmt::Write;

use super::handoff::{self, Handoff};
use super::text::evidence;
use crate::analysis::Status;

pub fn render(h: &Handoff<'_>) -> String {
    let mut out = String::from("# widiag report\n\n");
    let prov: Vec<String> = handoff::provenance(h.versions, h.redacted_names)
        .into_iter()
        .map(|(k, v)| format!("{k} {}", code(&v)))
        .collect();
    let _ = writeln!(out, "{}\n", prov.join(" · "));
    if h.pods.len() > 1 {
        out.push_str("| Pod | Verdict |\n|---|---|\n");
        for p in &h.pods {
            let _ = writeln!(
                out,
                "| {} | {} |",
                cell(&p.chain.pod.to_string()),
                cell(&p.headline)
            );
        }
        out.push('\n');
    }
    for p in &h.pods {
        let c = p.chain;
        let _ = writeln!(out, "## {}: {}\n", c.pod, p.headline);
        let mut who = vec![
            format!("workload {}", code(&c.workload.kubectl_ref())),
            format!("service account {}", code(&c.service_account)),
        ];
        if let Some(id) = &c.client_id {
            who.push(format!("client ID {}", code(id)));
        }
        if let Some(i) = &c.identity {
            who.push(format!("identity {}", code(i)));
        }
        let _ = writeln!(out, "{}\n", who.join(" · "));
        out.push_str("| | Link | Status | Code | Summary |\n|---|---|---|---|---|\n");
        for (i, l) in c.links.iter().enumerate() {
            let code = l
                .primary()
                .filter(|_| l.status > Status::Skip)
                .map(|f| f.code.to_string())
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "| {} | {} | {} {} | {} | {} |",
                i + 1,
                l.link.name(),
                mark(l.status),
                l.status.name(),
                code,
                cell(&l.summary)
            );
        }
        out.push('\n');
        for l in &c.links {
            for f in l
                .findings
                .iter()
                .filter(|f| f.severity.status() > Status::Pass)
            {
                let _ = writeln!(out, "### {} {}: {}\n", f.code, l.link.name(), f.title);
                let _ = writeln!(out, "{}\n\n{}\n", f.message, f.explanation);
                for e in &f.evidence {
                    let _ = writeln!(out, "- {}", evidence(e));
                }
                if !f.evidence.is_empty() {
                    out.push('\n');
                }
                if let Some(fix) = &f.fix {
                    let _ = writeln!(out, "Fix:\n\n```sh\n{fix}\n```\n");
                }
            }
        }
        if !p.exchanges.is_empty() || !p.probes.is_empty() {
            out.push_str("### Live evidence\n\n");
            for e in &p.exchanges {
                let _ = writeln!(out, "- Token exchange {}", handoff::exchange_line(e));
            }
            for pr in &p.probes {
                let _ = writeln!(out, "- Probe {}", handoff::probe_line(pr));
            }
            out.push_str("\n<details><summary>Transcript</summary>\n\n```\n");
            for s in p.steps() {
                let _ = writeln!(out, "{}", handoff::step_line(s));
            }
            out.push_str("```\n\n</details>\n\n");
        }
    }
    if !h.gaps.is_empty() {
        out.push_str("## Not read\n\n");
        for g in h.gaps {
            let _ = writeln!(out, "- {g}");
        }
        out.push('\n');
    }
    out.push_str(
        "Replay: save the bundle and run `widiag --world BUNDLE` (TUI) or `widiag check --world BUNDLE`.\n",
    );
    out
}

fn mark(s: Status) -> &'static str {
    match s {
        Status::Pass => "✅",
        Status::Skip => "➖",
        Status::Unknown => "❔",
        Status::Warn => "⚠️",
        Status::Fail => "❌",
    }
}

/// Inline code that survives backticks in the value.
fn code(s: &str) -> String {
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}

/// A table cell: one line, pipes escaped.
fn cell(s: &str) -> String {
    s.lines().next().unwrap_or_default().replace('|', "\\|")
}
