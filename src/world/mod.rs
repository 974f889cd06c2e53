//! The world: every Kubernetes object and Azure resource that decides whether a pod's
//! workload identity works, plus facts captured from the network (issuer documents, tokens).
//! Plain data; analysis builds its own indexes over it.

pub mod azure;
pub mod extension;
pub mod facts;
pub mod generate;
pub mod kube;
pub mod live;
pub mod manifests;
pub mod parse;
pub mod write;

use serde::{Deserialize, Serialize};

pub use self::azure::AzureObjects;
pub use self::facts::Facts;
pub use self::kube::KubeObjects;

/// `apiVersion` of widiag's own documents in a world file.
pub const WIDIAG_API_VERSION: &str = "widiag.io/v1";

#[derive(Debug, Clone, Default)]
pub struct World {
    pub info: WorldInfo,
    pub kube: KubeObjects,
    pub azure: AzureObjects,
    pub facts: Facts,
    /// Documents kept for tools beside the analysis (the lab's behaviour), uninterpreted.
    pub extensions: Vec<extension::Extension>,
    /// Documents that were read but are not kinds widiag uses.
    pub ignored: Vec<Ignored>,
    /// `kind: Diagnosis`: the chains the writer of a support bundle saw (its `check -o json`
    /// report). Never analysed; a replay compares its own chains with it.
    pub recorded: Option<serde_json::Value>,
}

/// The `kind: WorldInfo` document: where and when the world was taken.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorldInfo {
    /// Analysis runs "as of" this instant, so a replayed world judges token lifetimes as it did then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<jiff::Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// Tenant the Azure objects were read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// `AzurePublicCloud`, `AzureChinaCloud`, `AzureUSGovernmentCloud`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<String>,
    /// The live exchange and resource probes ran when the world was taken; a pod without a
    /// result was not attempted (rather than the world being offline).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub probed: bool,
    /// The widiag that wrote this world (a support bundle).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub widiag_version: Option<String>,
    /// Names, subscription and tenant IDs are pseudonyms (`widiag report --redact-names`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
    /// Resources the pods are meant to reach, when their env does not name them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<TargetHint>,
}

/// A resource a pod (or every pod, when `pod` is absent) is meant to reach.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TargetHint {
    /// `namespace/name`; absent means every pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// Vault name or URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyvault: Option<String>,
    /// Storage account name, optionally `/container`, or a blob URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
    /// The blob target needs a user delegation key (the app signs SAS URLs).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub user_delegation: bool,
}

/// A document that was understood as YAML/JSON but names a kind widiag does not use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ignored {
    pub file: String,
    pub document: usize,
    pub kind: String,
    pub name: String,
}

/// `namespace/name` of a namespaced object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjRef {
    pub namespace: String,
    pub name: String,
}

impl ObjRef {
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    pub fn into_parts(self) -> (String, String) {
        (self.namespace, self.name)
    }

    /// Parses `ns/name`; a bare `name` takes `default_ns`, as kubectl does.
    pub fn parse(s: &str, default_ns: &str) -> Option<Self> {
        let (ns, name) = match s.split_once('/') {
            Some((ns, name)) => (ns, name),
            None => (default_ns, s),
        };
        (!ns.is_empty() && !name.is_empty() && !name.contains('/')).then(|| Self::new(ns, name))
    }
}

impl std::fmt::Display for ObjRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}
