//! `check --all-contexts` / `--contexts`: every cluster's report, then one line per cluster and
//! the fleet's verdict. Text reuses the per-cluster text report; JSON nests the `check/v1` report.

use std::fmt::Write;

use serde_json::{Value, json};

use crate::analysis::Status;
use crate::analysis::fleet::Fleet;

pub const FLEET_SCHEMA: &str = "widiag.io/fleet/v1";

pub fn render_text(fleet: &Fleet, palette: &super::text::Palette) -> String {
    let mut out = String::new();
    for c in &fleet.clusters {
        let _ = writeln!(out, "=== context {} ===", c.context);
        match &c.result {
            Ok(r) => out.push_str(&super::text::render(r, palette)),
            Err(e) => {
                let _ = writeln!(out, "? not read: {e}");
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

pub fn render_json(fleet: &Fleet) -> String {
    let clusters: Vec<Value> = fleet
        .clusters
        .iter()
        .map(|c| match &c.result {
            Ok(r) => json!({
                "context": c.context,
                "verdict": c.verdict(),
                "report": serde_json::from_str::<Value>(&super::json::render(r)).unwrap_or(Value::Null),
            }),
            Err(e) => json!({ "context": c.context, "verdict": c.verdict(), "error": e }),
        })
        .collect();
    let out = json!({
        "schema": FLEET_SCHEMA,
        "verdict": fleet.verdict(),
        "summary": {
            "clusters": fleet.clusters.len(),
            "unreadable": fleet.clusters.iter().filter(|c| c.result.is_err()).count(),
            "pods": {
                "fail": fleet.pods(Status::Fail),
                "warn": fleet.pods(Status::Warn),
                "unknown": fleet.pods(Status::Unknown),
                "pass": fleet.pods(Status::Pass),
            },
        },
        "clusters": clusters,
    });
    let mut s = serde_json::to_string_pretty(&out).expect("fleet report serialises");
    s.push('\n');
    s
}
