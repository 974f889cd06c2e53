//! The pure core: `World -> Report`. No I/O, no terminal, no network; time is passed in.

pub mod basis;
pub mod catalog;
pub mod chain;
pub mod codes;
pub mod compare;
pub mod conditions;
pub mod config;
pub mod describe;
pub mod entra_errors;
pub mod fleet;
pub mod index;
mod links;
pub mod plan;
pub mod roles;
pub mod subject;
pub mod targets;
pub mod unused;
pub mod webhook;
pub mod workloads;

use rayon::prelude::*;
use serde::Serialize;

pub use catalog::Catalog;
pub use chain::{Evidence, Finding, Link, LinkResult, PodChain, Severity, Status, Workload};
pub use config::Config;
pub use unused::Unused;

use crate::world::{Ignored, ObjRef, TargetHint, World};
use index::Index;
use subject::Subject;

/// Version of the JSON report schema (docs/check-output.md).
pub const REPORT_SCHEMA: &str = "widiag.io/check/v1";

/// Which pods to analyse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every pod that uses, or looks like it means to use, workload identity.
    All,
    Namespace(String),
    Pod(ObjRef),
    /// One workload: its pods, or the pod its template would make when it has none.
    Workload(workloads::Key),
    /// Workloads and pods about to be applied (`check -f`): each is the pod its template (or
    /// manifest) would make, whatever pods the cluster runs now.
    Applied(std::collections::BTreeSet<workloads::Key>),
}

impl Selection {
    /// The one namespace the selection lies in, if it is one.
    pub fn namespace(&self) -> Option<&str> {
        match self {
            Selection::All => None,
            Selection::Namespace(n) => Some(n),
            Selection::Pod(p) => Some(&p.namespace),
            Selection::Workload(k) => Some(&k.0),
            Selection::Applied(keys) => {
                let first = keys.first().map(|k| k.0.as_str())?;
                keys.iter().all(|k| k.0 == first).then_some(first)
            }
        }
    }

    /// A pod or workload named on the command line: it is reported even when it does not use
    /// workload identity (`not-used`).
    pub fn asks_by_name(&self) -> bool {
        matches!(self, Selection::Pod(_) | Selection::Workload(_))
    }

    /// Whether a subject of workload `key` is in the selection (pods are matched by name first).
    fn keeps(&self, key: &workloads::Key) -> bool {
        match self {
            Selection::Workload(w) => w == key,
            Selection::Applied(keys) => keys.contains(key),
            _ => true,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub selection: Selection,
    /// The instant tokens are judged at.
    pub now: jiff::Timestamp,
    /// Targets from the command line (`--keyvault`, `--blob`).
    pub targets: Vec<TargetHint>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub schema: &'static str,
    pub as_of: String,
    pub pods: Vec<PodChain>,
    /// Pods that matched the selection but show no sign of using workload identity.
    pub not_using: Vec<Unused>,
    pub ignored: Vec<Ignored>,
    /// What the live collection could not read.
    pub gaps: Vec<crate::world::live::Gap>,
}

impl Report {
    /// The worst pod's verdict; at least `unknown` when the pods themselves could not be read,
    /// since an empty selection then proves nothing.
    pub fn verdict(&self) -> Status {
        let pods = self
            .pods
            .iter()
            .map(PodChain::verdict)
            .max()
            .unwrap_or(Status::Pass);
        if self.pods_not_read().is_some() {
            pods.max(Status::Unknown)
        } else {
            pods
        }
    }

    /// Why the pods could not be listed, when they could not.
    pub fn pods_not_read(&self) -> Option<&crate::world::live::Gap> {
        self.gaps.iter().find(|g| g.is_pods())
    }
}

pub fn analyze(world: &World, catalog: &Catalog, options: &Options) -> Report {
    let ix = Index::new(world);
    let install = webhook::Install::detect(&ix);
    let selected: Vec<_> = selected(world, &options.selection).collect();
    // (workload, chain of a pod that means to use workload identity, else the pod if it does not)
    let results: Vec<(workloads::Key, Option<PodChain>, Option<Unused>)> = selected
        .par_iter()
        .map(|pod| {
            let mut subject = Subject::new(&ix, &install, pod);
            // A pod in the manifests is not created yet.
            subject.template_only = matches!(options.selection, Selection::Applied(_));
            let key = workload_key(&subject);
            if !options.selection.keeps(&key) {
                return (key, None, None);
            }
            if is_subject(&ix, &subject, &options.selection, &options.targets) {
                let chain = chain(&ix, &install, subject, catalog, options);
                return (key, Some(chain), None);
            }
            // Asked for by name: say what enabling it would take.
            if options.selection.asks_by_name() {
                let chain = chain(&ix, &install, subject, catalog, options);
                return (key, None, Some(Unused::explained(chain)));
            }
            (key, None, Some(Unused::bare(&subject)))
        })
        .collect();
    let mut covered = std::collections::BTreeSet::new();
    let (mut pods, mut not_using) = (Vec::new(), Vec::new());
    for (key, chain, not_used) in results {
        covered.insert(key);
        pods.extend(chain);
        not_using.extend(not_used);
    }
    let (would_be, unused) = workloads_without_pods(&ix, &install, &covered, catalog, options);
    pods.extend(would_be);
    not_using.extend(unused);
    pods.sort_by(|a, b| a.pod.cmp(&b.pod));
    not_using.sort_by(|a: &Unused, b| a.pod.cmp(&b.pod));
    unused::explain_once(&mut not_using);
    Report {
        schema: REPORT_SCHEMA,
        as_of: options.now.to_string(),
        pods,
        not_using,
        ignored: world.ignored.clone(),
        gaps: world.facts.gaps.clone(),
    }
}

/// One subject through every link; its names move into the chain.
fn chain(
    ix: &Index<'_>,
    install: &webhook::Install<'_>,
    subject: Subject<'_>,
    catalog: &Catalog,
    options: &Options,
) -> PodChain {
    let cx = links::PodCx {
        ix,
        install,
        subject: &subject,
        now: options.now,
        targets: &options.targets,
    };
    let links = links::run(&cx, catalog);
    PodChain {
        identity: subject.resolved.map(|r| r.name()),
        template_only: subject.template_only,
        pod: subject.at,
        workload: subject.workload,
        service_account: subject.sa_name,
        client_id: subject.client_id,
        links,
    }
}

/// Whether a selected pod is diagnosed: it means to use workload identity, or it was asked for
/// by name (pod or workload) together with targets on the command line (then it is meant to
/// reach Azure).
fn is_subject(
    ix: &Index<'_>,
    s: &Subject<'_>,
    selection: &Selection,
    cli_targets: &[TargetHint],
) -> bool {
    let asked = selection.asks_by_name();
    asked && !cli_targets.is_empty() || unused::means_to_use(ix, s, asked)
}

fn workload_key(s: &Subject<'_>) -> workloads::Key {
    (
        s.at.namespace.clone(),
        s.workload.kind.to_string(),
        s.workload.name.clone(),
    )
}

/// The workloads of the selection with no pod (`workloads::without_pods`) that mean to use
/// workload identity or whose pods the webhook refused, each as its would-be pod; for manifests
/// (`Selection::Applied`), also those that do not use it, as such.
fn workloads_without_pods(
    ix: &Index<'_>,
    install: &webhook::Install<'_>,
    covered: &std::collections::BTreeSet<workloads::Key>,
    catalog: &Catalog,
    options: &Options,
) -> (Vec<PodChain>, Vec<Unused>) {
    if matches!(options.selection, Selection::Pod(_)) {
        return (Vec::new(), Vec::new());
    }
    let applied = matches!(options.selection, Selection::Applied(_));
    let would_be =
        workloads::without_pods(ix.world, options.selection.namespace(), covered, applied);
    let (mut chains, mut unused) = (Vec::new(), Vec::new());
    for pod in &would_be {
        let mut subject = Subject::new(ix, install, pod);
        if !options.selection.keeps(&workload_key(&subject)) {
            continue;
        }
        subject.template_only = true;
        subject.failed_creates =
            workloads::failed_creates(ix, &subject.at.namespace, &subject.workload.name);
        if is_subject(ix, &subject, &options.selection, &options.targets)
            || !subject.failed_creates.is_empty()
        {
            chains.push(chain(ix, install, subject, catalog, options));
        } else if options.selection.asks_by_name() {
            let chain = chain(ix, install, subject, catalog, options);
            unused.push(Unused::explained(chain));
        } else if applied {
            unused.push(Unused::bare(&subject));
        }
    }
    (chains, unused)
}

/// The pods a selection names.
fn selected<'w>(
    world: &'w World,
    selection: &'w Selection,
) -> impl Iterator<Item = &'w k8s_openapi::api::core::v1::Pod> + 'w {
    world.kube.pods.iter().filter(move |pod| {
        let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        match selection {
            Selection::All => true,
            Selection::Namespace(n) => n == ns,
            Selection::Workload(k) => k.0 == ns,
            Selection::Pod(r) => r.namespace == ns && r.name == name,
            Selection::Applied(keys) => keys.contains(&(ns.into(), "Pod".into(), name.into())),
        }
    })
}
