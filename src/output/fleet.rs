//! `check --all-contexts` / `--contexts`: every cluster's report, then one line per cluster and
//! the fleet's verdict. Text reuses the per-cluster text report; JSON nests the `check/v1` report.

use std::fmt::Write;

use serde::Serialize;

use crate::analysis::Status;
use crate::analysis::fleet::Fleet;

pub const FLEET_SCHEMA: &str = "widiag.io/fleet/v1";

pub fn render_text(fleet: &Fleet, palette: &super::text::Palette) -> String {
    let mut out = String::new();
    for c in &fleet.clusters {
        let _ = writeln!(out, "=== context {} ===", super::safe::text(&c.context));
        match &c.result {
            Ok(r) => out.push_str(&super::text::render(r, palette)),
            Err(e) => {
                let _ = writeln!(out, "? not read: {}", super::safe::text(e));
            }
        }
        out.push('\n');
    }
    let _ = writeln!(out, "=== fleet: {} cluster(s) ===", fleet.clusters.len());
    let width = fleet
        .clusters
        .iter()
        .map(|c| c.context.len())
        .max()
        .unwrap_or(0);
    for c in &fleet.clusters {
        let detail = match &c.result {
            Ok(r) => {
                let n = |s: Status| r.pods.iter().filter(|p| p.verdict() == s).count();
                format!(
                    "{} pod(s): {} fail, {} warn, {} unknown",
                    r.pods.len(),
                    n(Status::Fail),
                    n(Status::Warn),
                    n(Status::Unknown)
                )
            }
            Err(e) => format!("not read: {}", e.lines().next().unwrap_or_default()),
        };
        let _ = writeln!(
            out,
            "{:<7} {:<width$}  {detail}",
            c.verdict().name(),
            c.context
        );
    }
    let _ = writeln!(
        out,
        "fleet verdict: {} ({} fail, {} warn, {} unknown, {} pass pods)",
        fleet.verdict().name(),
        fleet.pods(Status::Fail),
        fleet.pods(Status::Warn),
        fleet.pods(Status::Unknown),
        fleet.pods(Status::Pass)
    );
    out
}

#[derive(Serialize)]
struct JsonFleet<'f> {
    schema: &'static str,
    verdict: Status,
    summary: FleetSummary,
    clusters: Vec<JsonCluster<'f>>,
}

#[derive(Serialize)]
struct FleetSummary {
    clusters: usize,
    unreadable: usize,
    pods: PodCounts,
}

#[derive(Serialize)]
struct PodCounts {
    fail: usize,
    warn: usize,
    unknown: usize,
    pass: usize,
}

#[derive(Serialize)]
struct JsonCluster<'f> {
    context: &'f str,
    verdict: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<super::json::JsonReport<'f>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'f str>,
}

/// Serialised straight from the reports: a fleet of 10,000-pod clusters is not held twice.
pub fn render_json(fleet: &Fleet) -> String {
    let safe: Vec<(Option<crate::analysis::Report>, Option<String>)> = fleet
        .clusters
        .iter()
        .map(|c| match &c.result {
            Ok(r) => (Some(super::safe::for_machines(r)), None),
            Err(e) => (
                None,
                Some(crate::untrusted::secrets::redact(e).into_owned()),
            ),
        })
        .collect();
    let clusters = fleet
        .clusters
        .iter()
        .zip(&safe)
        .map(|(c, (report, error))| JsonCluster {
            context: &c.context,
            verdict: c.verdict(),
            report: report.as_ref().map(super::json::view),
            error: error.as_deref(),
        })
        .collect();
    let out = JsonFleet {
        schema: FLEET_SCHEMA,
        verdict: fleet.verdict(),
        summary: FleetSummary {
            clusters: fleet.clusters.len(),
            unreadable: fleet.clusters.iter().filter(|c| c.result.is_err()).count(),
            pods: PodCounts {
                fail: fleet.pods(Status::Fail),
                warn: fleet.pods(Status::Warn),
                unknown: fleet.pods(Status::Unknown),
                pass: fleet.pods(Status::Pass),
            },
        },
        clusters,
    };
    let mut s = serde_json::to_string_pretty(&out).expect("fleet report serialises");
    s.push('\n');
    s
}
