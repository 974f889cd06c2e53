//! `check --output sarif`: SARIF 2.1.0 for code-scanning tools. One rule per catalogue code that
//! occurs, one result per failing, warning or unknown link (its deciding finding), located
//! logically at `namespace/pod/link`, and, for manifests (`check -f`), at the file and line the
//! fix belongs on, so code scanning annotates the pull request. What a live run could not read
//! becomes the invocation's notifications.

use std::collections::BTreeMap;

use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, LogicalLocation, Message, MultiformatMessageString,
    Notification, PhysicalLocation, PropertyBag, Region, ReportingConfiguration,
    ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif, Tool, ToolComponent,
};

use super::text::evidence;
use crate::analysis::{Catalog, Link, PodChain, Report, Severity, Status};
use crate::world::manifests::Origins;

pub fn render(report: &Report, catalog: &Catalog) -> String {
    render_at(report, catalog, None)
}

/// As [`render`], with each result also at its place in the manifests when `origins` has it.
pub fn render_at(report: &Report, catalog: &Catalog, origins: Option<&Origins>) -> String {
    let places = origins.map(|o| (o, report));
    let report = &super::safe::for_people(report);
    let mut rules: BTreeMap<String, ReportingDescriptor> = BTreeMap::new();
    let mut results = Vec::new();
    for (i, pod) in report.pods.iter().enumerate() {
        // Looked up with the names as read, not as made visible for display.
        let raw = places.map(|(o, r)| (o, &r.pods[i]));
        for l in &pod.links {
            let Some(f) = l.primary().filter(|_| l.status > Status::Skip) else {
                continue;
            };
            let fqn = format!("{}/{}", pod.pod, l.link.name());
            rules
                .entry(f.code.to_string())
                .or_insert_with(|| rule(catalog, f));
            let mut props = BTreeMap::new();
            props.insert("link".to_string(), l.link.name().into());
            props.insert("status".to_string(), l.status.name().into());
            if let Some(fix) = &f.fix {
                props.insert("fix".to_string(), fix.clone().into());
            }
            let ev: Vec<String> = f.evidence.iter().map(evidence).collect();
            if !ev.is_empty() {
                props.insert("evidence".to_string(), ev.into());
            }
            let place = raw.and_then(|(o, p)| physical(o, p, l.link));
            let text = message(&pod.pod.to_string(), f, place.as_ref());
            let mut location = Location::builder()
                .logical_locations(vec![
                    LogicalLocation::builder()
                        .name(l.link.name())
                        .fully_qualified_name(fqn)
                        .kind("resource")
                        .build(),
                ])
                .build();
            location.physical_location = place.map(|p| p.0);
            results.push(
                SarifResult::builder()
                    .rule_id(f.code.to_string())
                    .level(level(f.severity))
                    .message(Message::builder().text(text).build())
                    .locations(vec![location])
                    .properties(PropertyBag::builder().additional_properties(props).build())
                    .build(),
            );
        }
    }
    let driver = ToolComponent::builder()
        .name("widiag")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .rules(rules.into_values().collect::<Vec<_>>())
        .build();
    let tool = Tool::builder().driver(driver).build();
    let run = if report.gaps.is_empty() {
        Run::builder().tool(tool).results(results).build()
    } else {
        Run::builder()
            .tool(tool)
            .results(results)
            .invocations(vec![invocation(report)])
            .build()
    };
    let log = Sarif::builder()
        .schema(serde_sarif::sarif::SCHEMA_URL)
        .version(serde_json::json!("2.1.0"))
        .runs(vec![run])
        .build();
    let mut s = serde_json::to_string_pretty(&log).expect("SARIF serialises");
    s.push('\n');
    s
}

/// A result's text. At a manifest's line the change belongs in the manifest; the command is
/// what would do the same to the running cluster (which a GitOps sync would undo).
fn message(
    pod: &str,
    f: &crate::analysis::Finding,
    place: Option<&(PhysicalLocation, Option<String>)>,
) -> String {
    let from = place
        .and_then(|p| p.1.as_deref())
        .map(|s| format!(" (rendered from {})", super::safe::text(s)))
        .unwrap_or_default();
    match (&f.fix, place.is_some()) {
        (Some(fix), true) => format!(
            "{pod}: {}{from}. Change it in this manifest; on a running cluster the same fix is: {fix}",
            f.message
        ),
        (Some(fix), false) => format!("{pod}: {}{from} Fix: {fix}", f.message),
        (None, _) => format!("{pod}: {}{from}", f.message),
    }
}

/// Where in the manifests a link's fix goes: the ServiceAccount's own manifest (else the pod
/// spec's `serviceAccountName`) for the service-account link, the pod template's metadata for
/// the links its labels and annotations decide, else the workload's name; with the chart
/// template `helm template` named.
fn physical(
    origins: &Origins,
    chain: &PodChain,
    link: Link,
) -> Option<(PhysicalLocation, Option<String>)> {
    let ns = &chain.pod.namespace;
    let key = |kind: &str, name: &str| (ns.clone(), kind.to_string(), name.to_string());
    let workload = origins.get(&key(&chain.workload.kind, &chain.workload.name))?;
    let (origin, line) = match link {
        Link::ServiceAccount => match origins.get(&key("ServiceAccount", &chain.service_account)) {
            Some(sa) => (sa, sa.line),
            None => (workload, workload.service_account_line.or(workload.line)),
        },
        Link::Webhook | Link::Pod | Link::Mutation | Link::Token => {
            (workload, workload.template_line.or(workload.line))
        }
        _ => (workload, workload.line),
    };
    let region = line.map(|l| Region::builder().start_line(l as i64).build());
    let artifact = artifact(&origin.file)?;
    let physical = match region {
        Some(r) => PhysicalLocation::builder()
            .artifact_location(artifact)
            .region(r)
            .build(),
        None => PhysicalLocation::builder()
            .artifact_location(artifact)
            .build(),
    };
    Some((physical, origin.rendered_from.clone()))
}

/// A manifest's path as a SARIF artifact URI: relative paths against `%SRCROOT%` (the checkout
/// code scanning resolves them in), others as `file://` URIs, percent-encoded (RFC 3986). Stdin
/// (`<stdin>`) has no file to point at.
fn artifact(path: &str) -> Option<ArtifactLocation> {
    if path.starts_with('<') {
        return None;
    }
    Some(match path.strip_prefix('/') {
        Some(_) => ArtifactLocation::builder()
            .uri(format!("file://{}", percent_encoded(path)))
            .build(),
        None => ArtifactLocation::builder()
            .uri(percent_encoded(path))
            .uri_base_id("%SRCROOT%")
            .build(),
    })
}

/// Every byte outside RFC 3986's unreserved set and `/` as `%XX`.
fn percent_encoded(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What could not be read, as the run's notifications; without the pods the run did not succeed.
fn invocation(report: &Report) -> Invocation {
    let notifications: Vec<Notification> = report
        .gaps
        .iter()
        .map(|g| {
            let level = if g.is_pods() { "error" } else { "warning" };
            Notification::builder()
                .level(serde_json::json!(level))
                .message(Message::builder().text(format!("not read: {g}")).build())
                .build()
        })
        .collect();
    Invocation::builder()
        .execution_successful(report.pods_not_read().is_none())
        .tool_execution_notifications(notifications)
        .build()
}

fn rule(catalog: &Catalog, f: &crate::analysis::Finding) -> ReportingDescriptor {
    let entry = catalog.get(&f.code);
    let level = serde_json::to_value(level(f.severity)).unwrap_or_default();
    ReportingDescriptor::builder()
        .id(f.code.to_string())
        .name(entry.map_or_else(|| f.code.to_string(), |e| e.link.name().to_string()))
        .short_description(
            MultiformatMessageString::builder()
                .text(f.title.to_string())
                .build(),
        )
        .full_description(
            MultiformatMessageString::builder()
                .text(f.explanation.to_string())
                .build(),
        )
        .default_configuration(ReportingConfiguration::builder().level(level).build())
        .build()
}

fn level(s: Severity) -> ResultLevel {
    match s {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        _ => ResultLevel::Note,
    }
}
