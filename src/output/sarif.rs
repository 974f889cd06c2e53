//! `check --output sarif`: SARIF 2.1.0 for code-scanning tools. One rule per catalogue code that
//! occurs, one result per failing, warning or unknown link (its deciding finding), located
//! logically at `namespace/pod/link`. What a live run could not read becomes the invocation's
//! notifications.

use std::collections::BTreeMap;

use serde_sarif::sarif::{
    Invocation, Location, LogicalLocation, Message, MultiformatMessageString, Notification,
    PropertyBag, ReportingConfiguration, ReportingDescriptor, Result as SarifResult, ResultLevel,
    Run, Sarif, Tool, ToolComponent,
};

use super::text::evidence;
use crate::analysis::{Catalog, Report, Severity, Status};

pub fn render(report: &Report, catalog: &Catalog) -> String {
    let report = &super::safe::for_people(report);
    let mut rules: BTreeMap<String, ReportingDescriptor> = BTreeMap::new();
    let mut results = Vec::new();
    for pod in &report.pods {
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
            let text = match &f.fix {
                Some(fix) => format!("{}: {} Fix: {fix}", pod.pod, f.message),
                None => format!("{}: {}", pod.pod, f.message),
            };
            results.push(
                SarifResult::builder()
                    .rule_id(f.code.to_string())
                    .level(level(f.severity))
                    .message(Message::builder().text(text).build())
                    .locations(vec![
                        Location::builder()
                            .logical_locations(vec![
                                LogicalLocation::builder()
                                    .name(l.link.name())
                                    .fully_qualified_name(fqn)
                                    .kind("resource")
                                    .build(),
                            ])
                            .build(),
                    ])
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
