//! Support bundles: the part of a world that some pods' chains touch, scrubbed of anything that
//! could be a secret (and optionally of names), as a world file that replays to the same chains.
//! Pure: the caller reads the world and writes the files.

pub mod pseudonym;
pub mod replay;
pub mod scrub;
pub mod subset;

use std::collections::BTreeSet;

use crate::analysis::webhook::Install;
use crate::analysis::{self, Catalog, Options, Report, Selection, Status, index::Index};
use crate::world::parse::parse_str;
use crate::world::{ObjRef, World, write};

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("no pod to report on: {0}")]
    NoPods(String),
    #[error(
        "redacting names changed the analysis of pod {pod} ({detail}); the bundle was not \
         written. Report it without --redact-names, and please file this as a widiag bug"
    )]
    RedactionChanged { pod: String, detail: String },
    #[error("the bundle could not be serialised: {0}")]
    Serialise(String),
}

/// What the receiver needs to know about where the bundle came from.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Versions {
    pub widiag: String,
    pub kubernetes: Option<String>,
    pub webhook: Option<String>,
    pub cloud: Option<String>,
    pub captured_at: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Bundle {
    /// The world the bundle holds (subset, scrubbed, maybe pseudonymised).
    pub world: World,
    /// Its analysis: what the receiver sees when replaying it.
    pub report: Report,
    pub versions: Versions,
    pub redacted_names: bool,
    /// The subset did not replay identically, so the whole (scrubbed) world was kept.
    pub whole_world: bool,
}

pub fn build(
    world: &World,
    catalog: &Catalog,
    options: &Options,
    redact_names: bool,
) -> Result<Bundle, BundleError> {
    let report = analysis::analyze(world, catalog, options);
    if report.pods.is_empty() {
        return Err(BundleError::NoPods(match &options.selection {
            Selection::Pod(p) if !report.not_using.is_empty() => {
                format!("pod {p} does not use workload identity: nothing to hand off")
            }
            Selection::Pod(p) => format!("pod {p} is not in the world"),
            Selection::Namespace(n) => format!("no pod in namespace {n} uses workload identity"),
            Selection::All => "no pod uses workload identity".into(),
            Selection::Workload((ns, kind, name)) => {
                format!("{kind} {ns}/{name} is not in the world or does not use workload identity")
            }
            Selection::Applied(_) => "no workload in the manifests uses workload identity".into(),
        }));
    }
    let pods: BTreeSet<ObjRef> = report.pods.iter().map(|p| p.pod.clone()).collect();
    let wanted = subset::Wanted {
        pods: &pods,
        client_ids: report
            .pods
            .iter()
            .filter_map(|p| p.client_id.clone())
            .collect(),
        workloads: report
            .pods
            .iter()
            .filter(|p| p.template_only)
            .map(|p| {
                let w = &p.workload;
                (w.kind.to_string(), p.pod.namespace.clone(), w.name.clone())
            })
            .collect(),
        service_accounts: report
            .pods
            .iter()
            .map(|p| (p.pod.namespace.clone(), p.service_account.clone()))
            .collect(),
    };
    let mut out = subset::subset(world, &wanted);
    // Command-line targets travel with the bundle, so the replay looks for the same resources.
    out.info.targets.extend(options.targets.iter().cloned());
    out.info.captured_at = Some(options.now);
    out.info.widiag_version = Some(env!("CARGO_PKG_VERSION").into());
    let replay_options = Options {
        selection: Selection::All,
        targets: Vec::new(),
        ..options.clone()
    };
    let whole_world = analysis::analyze(&out, catalog, &replay_options).pods != report.pods;
    if whole_world {
        let info = out.info.clone();
        out = World {
            info,
            kube: world.kube.clone(),
            azure: world.azure.clone(),
            facts: world.facts.clone(),
            ..Default::default()
        };
    }
    scrub::scrub(&mut out);
    let (out, report) = if redact_names {
        pseudonymise(out, catalog, &replay_options, &report)?
    } else {
        let report = analysis::analyze(&out, catalog, &replay_options);
        (out, report)
    };
    let versions = versions(&out);
    Ok(Bundle {
        world: out,
        report,
        versions,
        redacted_names: redact_names,
        whole_world,
    })
}

fn pseudonymise(
    world: World,
    catalog: &Catalog,
    options: &Options,
    before: &Report,
) -> Result<(World, Report), BundleError> {
    let names = pseudonym::Pseudonyms::of(&world);
    let mut docs = write::documents(&world);
    docs.iter_mut().for_each(|d| names.apply_value(d));
    let yaml = write::to_yaml(&docs).map_err(|e| BundleError::Serialise(e.to_string()))?;
    let mut redacted =
        parse_str("redacted bundle", &yaml).map_err(|e| BundleError::RedactionChanged {
            pod: "(all)".into(),
            detail: e.to_string(),
        })?;
    redacted.info.redacted = true;
    let report = analysis::analyze(&redacted, catalog, options);
    // The receiver must see the same verdicts, links and codes under the new names.
    for p in &before.pods {
        let name = ObjRef::new(names.apply(&p.pod.namespace), names.apply(&p.pod.name));
        let after = report.pods.iter().find(|q| q.pod == name);
        let detail = match after {
            None => Some("the pod is missing after redaction".to_string()),
            Some(q) if shape(q) != shape(p) => {
                Some(format!("{:?} became {:?}", shape(p), shape(q)))
            }
            Some(_) => None,
        };
        if let Some(detail) = detail {
            return Err(BundleError::RedactionChanged {
                pod: p.pod.to_string(),
                detail,
            });
        }
    }
    Ok((redacted, report))
}

type Shape = (Status, Vec<(&'static str, Status, Option<String>)>);

fn shape(p: &analysis::PodChain) -> Shape {
    let links = p
        .links
        .iter()
        .map(|l| {
            (
                l.link.name(),
                l.status,
                l.primary().map(|f| f.code.to_string()),
            )
        })
        .collect();
    (p.verdict(), links)
}

fn versions(world: &World) -> Versions {
    let ix = Index::new(world);
    let install = Install::detect(&ix);
    let node_version = world.kube.nodes.iter().find_map(|n| {
        Some(
            n.status
                .as_ref()?
                .node_info
                .as_ref()?
                .kubelet_version
                .clone(),
        )
    });
    Versions {
        widiag: env!("CARGO_PKG_VERSION").into(),
        kubernetes: world
            .info
            .kubernetes_version
            .clone()
            .or_else(|| ix.cluster().and_then(|c| c.kubernetes_version.clone()))
            .or(node_version),
        webhook: install
            .version
            .map(|v| format!("v{}.{}.{}", v.0, v.1, v.2))
            .or_else(|| (install.addon == Some(true)).then(|| "AKS add-on".to_string())),
        cloud: world.info.cloud.clone(),
        captured_at: world.info.captured_at.map(|t| t.to_string()),
    }
}
