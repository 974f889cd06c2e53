//! Pods that show no sign of meaning to use workload identity, and the rule that decides it
//! (docs/check-output.md, "Pods that do not use workload identity").
//!
//! Such a pod is not a failure: most pods in a cluster never call Azure. Asked about by name, it
//! is reported as `not-used` with what enabling workload identity would take (the fixes the
//! chain would ask for, in chain order).

use std::collections::BTreeMap;

use serde::Serialize;

use super::chain::{PodChain, Status, Workload};
use super::index::Index;
use super::subject::Subject;
use super::targets;
use crate::world::ObjRef;

/// A pod of the selection that does not use workload identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unused {
    #[serde(flatten)]
    pub pod: ObjRef,
    pub workload: Workload,
    pub service_account: String,
    /// What enabling it would take, in chain order; filled only for a pod asked for by name
    /// (once per workload).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub enable: Vec<Step>,
    /// Named on the command line (`--pod`, `--workload`): its verdict is `not-used`.
    #[serde(skip)]
    pub asked_for: bool,
}

/// One thing to change, from the finding the chain raises for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub code: std::sync::Arc<str>,
    pub title: std::sync::Arc<str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Unused {
    /// The pod and nothing else (for `-A`, where thousands of pods may not use it).
    pub fn bare(s: &Subject<'_>) -> Self {
        Self {
            pod: s.at.clone(),
            workload: s.workload.clone(),
            service_account: s.sa_name.clone(),
            enable: Vec::new(),
            asked_for: false,
        }
    }

    /// A pod asked for by name, with the steps its chain asks for: each failing finding's fix,
    /// once.
    pub fn explained(chain: PodChain) -> Self {
        let mut seen = std::collections::BTreeSet::new();
        let enable = chain
            .links
            .iter()
            .flat_map(|l| &l.findings)
            .filter(|f| f.severity.status() >= Status::Warn)
            .filter(|f| seen.insert(f.fix.clone().unwrap_or_else(|| f.code.to_string())))
            .map(|f| Step {
                code: f.code.clone(),
                title: f.title.clone(),
                fix: f.fix.clone(),
            })
            .collect();
        Self {
            pod: chain.pod,
            workload: chain.workload,
            service_account: chain.service_account,
            enable,
            asked_for: true,
        }
    }
}

/// One explanation per workload: its other pods would repeat the same steps.
pub fn explain_once(unused: &mut [Unused]) {
    let mut seen = std::collections::BTreeSet::new();
    for u in unused {
        let key = (
            u.pod.namespace.clone(),
            u.workload.kind.clone(),
            u.workload.name.clone(),
        );
        if !u.enable.is_empty() && !seen.insert(key) {
            u.enable.clear();
        }
    }
}

/// Any sign that the pod means to use workload identity: an `azure.workload.identity/*` or
/// client-id key on the pod, its template, its owner or its ServiceAccount; the variables the
/// webhook injects or an app sets by hand; a federated credential naming its ServiceAccount;
/// and, for a pod asked for by name (`asked`), a Key Vault or storage endpoint in its env. Not
/// in a sweep: a pod reaching storage with a SAS URL or an account key never meant to.
pub fn means_to_use(ix: &Index<'_>, s: &Subject<'_>, asked: bool) -> bool {
    let has_key = |m: Option<&BTreeMap<String, String>>| {
        m.is_some_and(|m| {
            m.keys().any(|k| {
                k.starts_with("azure.workload.identity/")
                    || k.contains("client-id")
                    || k.contains("client_id")
            })
        })
    };
    has_key(s.pod.metadata.labels.as_ref())
        || has_key(s.pod.metadata.annotations.as_ref())
        || s.template_meta.is_some_and(|m| has_key(m.labels.as_ref()))
        || s.owner_meta.is_some_and(|m| has_key(m.labels.as_ref()))
        || s.sa.is_some_and(|sa| {
            has_key(sa.metadata.labels.as_ref()) || has_key(sa.metadata.annotations.as_ref())
        })
        || s.containers().any(|(c, _)| {
            c.env
                .iter()
                .flatten()
                .any(|e| e.name == "AZURE_FEDERATED_TOKEN_FILE" || e.name == "AZURE_CLIENT_ID")
        })
        || ix.fics_by_subject.contains_key(s.token.sub.as_str())
        || asked
            && !targets::find(ix, s.pod, &s.at, std::iter::empty())
                .targets
                .is_empty()
}
