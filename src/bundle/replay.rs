//! A replayed bundle against what its sender saw: the `Diagnosis` document holds the sender's
//! chains; a different widiag (or a hand-edited bundle) may judge them differently, and the
//! receiver should know before reasoning from either.

use serde_json::Value;

use crate::analysis::{Report, Status};

/// One line per pod whose verdict, broken link or deciding code differs from the recording.
pub fn differences(recorded: &Value, report: &Report) -> Vec<String> {
    let mut out = Vec::new();
    let empty = Vec::new();
    let pods = recorded["pods"].as_array().unwrap_or(&empty);
    for p in pods {
        let name = format!(
            "{}/{}",
            p["namespace"].as_str().unwrap_or_default(),
            p["name"].as_str().unwrap_or_default()
        );
        let then = summary_recorded(p);
        let now = report
            .pods
            .iter()
            .find(|c| c.pod.to_string() == name)
            .map(|c| {
                let broken = c.broken_link();
                let code = broken.and_then(|l| l.primary()).map(|f| f.code.to_string());
                summary(c.verdict(), broken.map(|l| l.link.name()), code.as_deref())
            });
        match now {
            None => out.push(format!("{name}: recorded as {then}, not in this replay")),
            Some(now) if now != then => {
                out.push(format!("{name}: recorded as {then}, replayed as {now}"))
            }
            Some(_) => {}
        }
    }
    out
}

fn summary_recorded(p: &Value) -> String {
    let broken = p["brokenLink"].as_str();
    let code = p["links"]
        .as_array()
        .and_then(|ls| ls.iter().find(|l| l["link"].as_str() == broken))
        .and_then(|l| l["code"].as_str());
    let verdict = p["verdict"].as_str().unwrap_or("?");
    let verdict = match verdict {
        "fail" => Status::Fail,
        "warn" => Status::Warn,
        "unknown" => Status::Unknown,
        _ => Status::Pass,
    };
    summary(verdict, broken, code)
}

fn summary(verdict: Status, broken: Option<&str>, code: Option<&str>) -> String {
    match (broken, code) {
        (Some(l), Some(c)) => format!("{} at {l} ({c})", verdict.name()),
        (Some(l), None) => format!("{} at {l}", verdict.name()),
        _ => verdict.name().to_string(),
    }
}
