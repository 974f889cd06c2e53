//! `widiag report --format markdown`: the handoff to paste into a ticket or a pull request.

use std::fmt::Write;

use super::handoff::{self, Handoff, PodView};
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
        pod_section(&mut out, p);
    }
    if !h.gaps.is_empty() {
        out.push_str("## Not read\n\n");
        for g in &h.gaps {
            let _ = writeln!(out, "- {}", md(&g.to_string()));
        }
        out.push('\n');
    }
    out.push_str(
        "Replay: save the bundle and run `widiag --world BUNDLE` (TUI) or `widiag check --world BUNDLE`.\n",
    );
    out
}

/// One pod: who it runs as, its chain as a table, each finding with its fix, and the live
/// evidence behind them.
fn pod_section(out: &mut String, p: &PodView<'_>) {
    let c = &p.chain;
    let _ = writeln!(out, "## {}: {}\n", md(&c.pod.to_string()), p.headline);
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
    findings(out, p);
    if !p.exchanges.is_empty() || !p.probes.is_empty() {
        live_evidence(out, p);
    }
}

/// Every finding worse than a pass, under its link, with its explanation, evidence and fix.
fn findings(out: &mut String, p: &PodView<'_>) {
    for l in &p.chain.links {
        for f in l
            .findings
            .iter()
            .filter(|f| f.severity.status() > Status::Pass)
        {
            let _ = writeln!(out, "### {} {}: {}\n", f.code, l.link.name(), f.title);
            let _ = writeln!(out, "{}\n\n{}\n", md(&f.message), md(&f.explanation));
            for e in &f.evidence {
                let _ = writeln!(out, "- {}", md(&evidence(e)));
            }
            if !f.evidence.is_empty() {
                out.push('\n');
            }
            if let Some(fix) = &f.fix {
                let fence = fence(fix);
                let _ = writeln!(out, "Fix:\n\n{fence}sh\n{fix}\n{fence}\n");
            }
        }
    }
}

/// The token exchanges and probes, then the transcript of requests folded away.
fn live_evidence(out: &mut String, p: &PodView<'_>) {
    out.push_str("### Live evidence\n\n");
    for e in &p.exchanges {
        let _ = writeln!(out, "- Token exchange {}", md(&handoff::exchange_line(e)));
    }
    for pr in &p.probes {
        let _ = writeln!(out, "- Probe {}", md(&handoff::probe_line(pr)));
    }
    let lines: Vec<String> = p.steps().map(handoff::step_line).collect();
    let lines = lines.join("\n");
    let fence = fence(&lines);
    let _ = writeln!(
        out,
        "\n<details><summary>Transcript</summary>\n\n{fence}\n{lines}\n{fence}\n\n</details>\n"
    );
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

/// The longest run of backticks in `s`.
fn longest_backtick_run(s: &str) -> usize {
    s.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// A code fence longer than any backtick run the content holds, so it cannot be closed early.
fn fence(content: &str) -> String {
    "`".repeat(longest_backtick_run(content).max(2) + 1)
}

/// Inline code that survives any backticks in the value (CommonMark code spans).
fn code(s: &str) -> String {
    if !s.contains('`') {
        return format!("`{s}`");
    }
    let ticks = "`".repeat(longest_backtick_run(s) + 1);
    format!("{ticks} {s} {ticks}")
}

/// Text from the cluster as Markdown text: HTML escaped, and the Markdown that could open a
/// link or image (`[`), code, a heading, a table cell or strong emphasis escaped. Intraword `_`
/// (environment variable names) cannot emphasise in CommonMark and is left alone.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '[' | '#' | '|' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A table cell: one line, Markdown escaped.
fn cell(s: &str) -> String {
    md(s.lines().next().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_cannot_open_html_or_close_fences() {
        assert_eq!(md("<script>x</script>"), "&lt;script&gt;x&lt;/script&gt;");
        assert_eq!(md("[a](javascript:x)"), "\\[a](javascript:x)");
        assert_eq!(fence("a ```` b"), "`````");
        assert_eq!(fence("plain"), "```");
        assert_eq!(code("a`b"), "`` a`b ``");
    }
}
