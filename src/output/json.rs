//! `--output json`: the versioned machine-readable report (docs/check-output.md).

use serde::Serialize;

use crate::analysis::{
    Evidence, Finding, LinkResult, PodChain, Report, Severity, Status, Unused, Workload,
};
use crate::world::Ignored;

/// The `check/v1` document, borrowing the report (the fleet document nests it).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct JsonReport<'r> {
    schema: &'static str,
    as_of: &'r str,
    /// The worst pod's status, or `not-used` when the selection holds only pods that do not use
    /// workload identity.
    verdict: &'static str,
    summary: Summary,
    pods: Vec<JsonPod<'r>>,
    not_using_workload_identity: Vec<JsonUnused<'r>>,
    ignored: &'r [Ignored],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    not_read: &'r [crate::world::live::Gap],
}

/// A pod that does not use workload identity, with its own verdict.
#[derive(Serialize)]
struct JsonUnused<'r> {
    #[serde(flatten)]
    pod: &'r Unused,
    verdict: &'static str,
}

/// The verdict of a pod that shows no sign of using workload identity: not a failure.
pub const NOT_USED: &str = "not-used";

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct Summary {
    pods: usize,
    /// Of `pods`, the workloads with no pod, analysed from their templates.
    workloads_without_pods: usize,
    /// Pods that show no sign of workload identity (not in `pods`).
    not_using_workload_identity: usize,
    pass: usize,
    warn: usize,
    unknown: usize,
    fail: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonPod<'r> {
    namespace: &'r str,
    name: &'r str,
    workload: &'r Workload,
    /// No pod of the workload exists: the chain is its template's would-be pod, named after the
    /// workload.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    template_only: bool,
    service_account: &'r str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity: Option<&'r str>,
    verdict: Status,
    /// The first link that decides the verdict; null when everything passes.
    broken_link: Option<&'static str>,
    links: Vec<JsonLink<'r>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonLink<'r> {
    link: &'static str,
    status: Status,
    /// `objects`, `observed` (a live probe saw it) or `predicted` (the probe did not run).
    basis: crate::analysis::basis::Basis,
    /// Code of the finding that decides the status; null for a clean pass.
    code: Option<&'r str>,
    severity: Option<Severity>,
    message: &'r str,
    evidence: Vec<&'r Evidence>,
    fix: Option<&'r str>,
    findings: &'r [Finding],
}

pub fn render(report: &Report) -> String {
    let report = super::safe::for_machines(report);
    let mut s = serde_json::to_string_pretty(&view(&report)).expect("report serialises");
    s.push('\n');
    s
}

pub(super) fn view(report: &Report) -> JsonReport<'_> {
    let mut summary = Summary {
        pods: report.pods.len(),
        workloads_without_pods: report.pods.iter().filter(|p| p.template_only).count(),
        not_using_workload_identity: report.not_using.len(),
        ..Default::default()
    };
    for p in &report.pods {
        match p.verdict() {
            Status::Pass | Status::Skip => summary.pass += 1,
            Status::Warn => summary.warn += 1,
            Status::Unknown => summary.unknown += 1,
            Status::Fail => summary.fail += 1,
        }
    }
    JsonReport {
        schema: report.schema,
        as_of: &report.as_of,
        verdict: if report.pods.is_empty()
            && report.not_using.iter().any(|u| u.asked_for)
            && report.pods_not_read().is_none()
        {
            NOT_USED
        } else {
            report.verdict().name()
        },
        summary,
        pods: report.pods.iter().map(pod).collect(),
        not_using_workload_identity: report
            .not_using
            .iter()
            .map(|pod| JsonUnused {
                pod,
                verdict: NOT_USED,
            })
            .collect(),
        ignored: &report.ignored,
        not_read: &report.gaps,
    }
}

fn pod(p: &PodChain) -> JsonPod<'_> {
    JsonPod {
        namespace: &p.pod.namespace,
        name: &p.pod.name,
        workload: &p.workload,
        template_only: p.template_only,
        service_account: &p.service_account,
        client_id: p.client_id.as_deref(),
        identity: p.identity.as_deref(),
        verdict: p.verdict(),
        broken_link: p.broken_link().map(|l| l.link.name()),
        links: p.links.iter().map(link).collect(),
    }
}

fn link(l: &LinkResult) -> JsonLink<'_> {
    let primary = l.primary().filter(|_| l.status > Status::Skip);
    let mut evidence: Vec<&Evidence> = l.evidence.iter().collect();
    if let Some(f) = primary {
        evidence.extend(f.evidence.iter());
    }
    JsonLink {
        link: l.link.name(),
        status: l.status,
        basis: l.basis,
        code: primary.map(|f| &*f.code),
        severity: primary.map(|f| f.severity),
        message: &l.summary,
        evidence,
        fix: primary.and_then(|f| f.fix.as_deref()),
        findings: &l.findings,
    }
}
