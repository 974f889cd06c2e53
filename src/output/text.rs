//! The default human output: one screen per pod, read top to bottom, the broken link first.

use std::fmt::Write;

use anstyle::{AnsiColor, Style};

use crate::analysis::{Evidence, Finding, LinkResult, PodChain, Report, Status, Unused};

pub struct Palette {
    color: bool,
}

impl Palette {
    pub fn new(color: bool) -> Self {
        Self { color }
    }

    fn paint(&self, style: Style, s: &str) -> String {
        if self.color {
            format!("{}{s}{}", style.render(), style.render_reset())
        } else {
            s.to_string()
        }
    }

    fn status(&self, st: Status) -> String {
        let (sym, color) = match st {
            Status::Pass => ("✓", AnsiColor::Green),
            Status::Skip => ("–", AnsiColor::BrightBlack),
            Status::Unknown => ("?", AnsiColor::Magenta),
            Status::Warn => ("!", AnsiColor::Yellow),
            Status::Fail => ("✗", AnsiColor::Red),
        };
        self.paint(Style::new().fg_color(Some(color.into())).bold(), sym)
    }

    fn bold(&self, s: &str) -> String {
        self.paint(Style::new().bold(), s)
    }

    fn dim(&self, s: &str) -> String {
        self.paint(Style::new().dimmed(), s)
    }
}

pub fn render(report: &Report, p: &Palette) -> String {
    let report = &super::safe::for_people(report);
    let mut out = String::new();
    if let Some(g) = report.pods_not_read() {
        let _ = writeln!(
            out,
            "{} {}",
            p.status(Status::Unknown),
            p.bold(&format!(
                "The pods could not be read, so nothing was judged: {} (needs {})",
                g.error, g.needed
            ))
        );
    } else if report.pods.is_empty() && !report.not_using.iter().any(|u| u.asked_for) {
        let _ = writeln!(out, "No pod in the selection uses workload identity.");
    }
    // Broken pods first, then by name.
    let mut pods: Vec<&PodChain> = report.pods.iter().collect();
    pods.sort_by(|a, b| {
        b.verdict()
            .cmp(&a.verdict())
            .then_with(|| a.pod.cmp(&b.pod))
    });
    for (i, pod) in pods.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        render_pod(&mut out, pod, p);
    }
    let (explained, bare): (Vec<_>, Vec<_>) = report.not_using.iter().partition(|u| u.asked_for);
    for u in explained {
        render_unused(&mut out, u, p);
    }
    if !bare.is_empty() {
        let names: Vec<String> = bare.iter().map(|u| u.pod.to_string()).collect();
        let _ = writeln!(
            out,
            "\n{}",
            p.dim(&format!(
                "{} pod(s) show no sign of workload identity: {}",
                names.len(),
                names.join(", ")
            ))
        );
    }
    for ig in &report.ignored {
        let _ = writeln!(
            out,
            "{}",
            p.dim(&format!(
                "ignored {} {} ({} document {})",
                ig.kind, ig.name, ig.file, ig.document
            ))
        );
    }
    for g in &report.gaps {
        let _ = writeln!(out, "{}", p.dim(&format!("not read: {g}")));
    }
    let counts = tally(report);
    let podless = report.pods.iter().filter(|c| c.template_only).count();
    let subjects = match podless {
        0 => format!("{} pod(s)", report.pods.len()),
        n => format!(
            "{} pod(s) and {n} workload(s) without pods",
            report.pods.len() - n
        ),
    };
    let unused = match report.not_using.len() {
        0 => String::new(),
        n => format!("; {n} not using workload identity"),
    };
    let _ = writeln!(
        out,
        "\n{}",
        p.bold(&format!("{subjects}: {counts}{unused}"))
    );
    out
}

/// A pod asked for by name that does not use workload identity: not a failure, and what
/// enabling it would take.
fn render_unused(out: &mut String, u: &Unused, p: &Palette) {
    let _ = writeln!(
        out,
        "{} {}  {}",
        p.status(Status::Skip),
        p.bold(&u.pod.to_string()),
        p.bold("NOT USED: this pod does not use workload identity")
    );
    let _ = writeln!(
        out,
        "  No azure.workload.identity label or client-id on it, its {} or its ServiceAccount {}; no \
         AZURE_CLIENT_ID or AZURE_FEDERATED_TOKEN_FILE and no Key Vault or storage endpoint in its \
         env; no federated credential names its ServiceAccount. Nothing is broken.",
        if u.workload.kind == "Pod" {
            "owner".to_string()
        } else {
            u.workload.kubectl_ref()
        },
        u.service_account
    );
    let _ = writeln!(out, "  To use workload identity:");
    for (i, step) in u.enable.iter().enumerate() {
        let _ = writeln!(out, "  {}. {} ({})", i + 1, step.title, step.code);
        if let Some(fix) = &step.fix {
            let _ = writeln!(out, "     {}", p.dim(fix));
        }
    }
    let _ = writeln!(
        out,
        "  {}. A federated credential on that identity for the cluster's issuer and subject \
         system:serviceaccount:{}:{} (widiag names the command once the ServiceAccount is \
         annotated)",
        u.enable.len() + 1,
        u.pod.namespace,
        u.service_account
    );
}

fn tally(report: &Report) -> String {
    let n = |s: Status| report.pods.iter().filter(|p| p.verdict() == s).count();
    format!(
        "{} fail, {} warn, {} unknown, {} pass",
        n(Status::Fail),
        n(Status::Warn),
        n(Status::Unknown),
        n(Status::Pass) + n(Status::Skip)
    )
}

fn render_pod(out: &mut String, pod: &PodChain, p: &Palette) {
    let verdict = pod.verdict();
    let headline = match pod.broken_link() {
        Some(l) => format!("{} at {}", verdict.name().to_uppercase(), l.link.name()),
        None => "PASS".into(),
    };
    // A workload with no pod is named as the workload.
    let name = if pod.template_only {
        format!(
            "{}/{} (no pod)",
            pod.pod.namespace,
            pod.workload.kubectl_ref()
        )
    } else {
        pod.pod.to_string()
    };
    let _ = writeln!(
        out,
        "{} {}  {}",
        p.status(verdict),
        p.bold(&name),
        p.bold(&headline)
    );
    let mut who = vec![
        pod.workload.kubectl_ref(),
        format!("sa/{}", pod.service_account),
    ];
    if let Some(c) = &pod.client_id {
        who.push(format!("client {c}"));
    }
    if let Some(i) = &pod.identity {
        who.push(format!("identity {i}"));
    }
    let _ = writeln!(out, "  {}", p.dim(&who.join(" · ")));
    // Every failing or warning finding, in chain order, with evidence and fix.
    for l in &pod.links {
        for f in l
            .findings
            .iter()
            .filter(|f| f.severity.status() > Status::Pass)
        {
            render_finding(out, l, f, p);
        }
    }
    let _ = writeln!(out, "  {}", p.dim("chain:"));
    for l in &pod.links {
        let _ = writeln!(
            out,
            "    {} {:<15} {}",
            p.status(l.status),
            l.link.name(),
            one_line(&l.summary)
        );
    }
}

fn render_finding(out: &mut String, l: &LinkResult, f: &Finding, p: &Palette) {
    let _ = writeln!(
        out,
        "  {} {} {} {}",
        p.status(f.severity.status()),
        l.link.name(),
        p.bold(&f.code),
        p.bold(&f.title)
    );
    let _ = writeln!(out, "      {}", f.message);
    for e in &f.evidence {
        let _ = writeln!(out, "      {}", p.dim(&evidence(e)));
    }
    let _ = writeln!(out, "      {}", p.dim(&f.explanation));
    if let Some(fix) = &f.fix {
        let _ = writeln!(out, "      fix: {}", p.bold(fix));
    }
}

pub fn evidence(e: &Evidence) -> String {
    let mut s = format!("{}: {}", e.label, e.value);
    if let Some(x) = &e.expected {
        let _ = write!(s, "  (expected {x})");
    }
    if let Some(n) = &e.note {
        let _ = write!(s, "  [{n}]");
    }
    s
}

fn one_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_string()
}
