//! `kind: LabBehaviour`: how the lab should misbehave when it serves a world. The world keeps
//! these documents uninterpreted (`World::extensions`); only the lab reads them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::world::World;

/// Every `LabBehaviour` document of `world`, merged in the order they were read.
pub fn of(world: &World) -> Result<LabBehaviour, super::LabError> {
    let mut out = LabBehaviour::default();
    for x in world.extensions.iter().filter(|x| x.kind == "LabBehaviour") {
        let b: LabBehaviour =
            serde_path_to_error::deserialize(&x.value).map_err(|e| super::LabError::Behaviour {
                at: x.at.to_string(),
                field: e.path().to_string(),
                message: e.into_inner().to_string(),
            })?;
        out.merge(b);
    }
    Ok(out)
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabBehaviour {
    /// Kubernetes users other than the default cluster-admin, with what each may do. A client
    /// becomes one by sending `Authorization: Bearer <name>` (`LabHandle::kubeconfig_as`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kube_users: Vec<KubeUser>,
    /// Entra's token endpoint throttles or fails workload exchanges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entra: Option<Throttle>,
    /// ARM and Microsoft Graph throttle or fail reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure_reads: Option<Throttle>,
    /// The Kubernetes API throttles or fails resource requests (API Priority and Fairness' 429).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_reads: Option<Throttle>,
    /// Federated credentials (by name) created moments ago: Entra does not see them yet and
    /// answers AADSTS70021 for assertions only they would match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub propagating: Vec<String>,
    /// Entra refuses every workload exchange with this AADSTS code (Conditional Access, a
    /// tenant policy, …), in the status and body real Entra uses for it (`lab::entra_refusals`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entra_refuses: Option<u32>,
    /// What the lab's reader principal may not read: ARM resource types by path segment
    /// (`roleAssignments`, `userAssignedIdentities`, `vaults`) or `graph`; each is a 403.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub azure_denied: Vec<String>,
    /// How the cluster's OIDC issuer misbehaves (for Entra and for anyone fetching it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<IssuerBehaviour>,
    /// Every watch stream ends right after the first change it carries, as a dropped connection
    /// or a restarted API server ends them; clients must watch again from where they were.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drop_watches: bool,
    /// Kubernetes API requests for these resources answer only after a delay (a slow or, with a
    /// delay past the client's timeout, hanging API server).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kube_delays: Vec<KubeDelay>,
    /// The secret names each vault holds (by vault name), instead of the lab's defaults
    /// (`lab::data`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, Vec<String>>,
    /// The containers each storage account holds (by account name), each with its blob names,
    /// instead of the lab's defaults (`lab::data`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub blobs: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

impl LabBehaviour {
    /// Adds a later document's behaviour: lists grow, a later setting wins. Destructured whole,
    /// so a new field cannot be forgotten here.
    pub fn merge(&mut self, later: LabBehaviour) {
        let LabBehaviour {
            kube_users,
            entra,
            azure_reads,
            kube_reads,
            propagating,
            entra_refuses,
            azure_denied,
            issuer,
            drop_watches,
            kube_delays,
            secrets,
            blobs,
        } = later;
        self.entra_refuses = entra_refuses.or(self.entra_refuses);
        self.kube_users.extend(kube_users);
        self.entra = entra.or(self.entra.take());
        self.azure_reads = azure_reads.or(self.azure_reads.take());
        self.kube_reads = kube_reads.or(self.kube_reads.take());
        self.propagating.extend(propagating);
        self.azure_denied.extend(azure_denied);
        self.issuer = issuer.or(self.issuer.take());
        self.drop_watches |= drop_watches;
        self.kube_delays.extend(kube_delays);
        self.secrets.extend(secrets);
        self.blobs.extend(blobs);
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IssuerBehaviour {
    /// Discovery and JWKS answer 503; Entra answers AADSTS90061.
    #[serde(default)]
    pub unreachable: bool,
    /// The JWKS holds only a rotated-away key, not the one tokens are signed with; Entra answers
    /// AADSTS700027.
    #[serde(default)]
    pub jwks_missing_key: bool,
    /// Discovery and JWKS answer only after this long (a hanging issuer); Entra gives up on it
    /// with AADSTS90061.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hang_millis: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KubeDelay {
    /// Plurals (`pods`, `serviceaccounts`), or `*`.
    pub resources: Vec<String>,
    pub millis: u64,
}

/// A throttled or failing service: its first `failFirst` requests get `status` (429 or a 5xx)
/// with `Retry-After`, then it answers normally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Throttle {
    pub fail_first: u32,
    #[serde(default = "too_many")]
    pub status: u16,
    #[serde(default = "one")]
    pub retry_after: u64,
    /// What the service says instead of its usual words: services quote what they were sent,
    /// so tests plant hostile text here (Entra's `error_description`, ARM's and Graph's message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

fn too_many() -> u16 {
    429
}

fn one() -> u64 {
    1
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KubeUser {
    pub name: String,
    /// RBAC-style rules; anything not allowed is a 403.
    pub allow: Vec<KubeRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KubeRule {
    /// `get`, `list`, `watch`, `create` (TokenRequest), or `*`.
    pub verbs: Vec<String>,
    /// Plurals (`pods`, `serviceaccounts/token`), or `*`.
    pub resources: Vec<String>,
    /// Empty means every namespace and cluster-scoped resources.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
}

impl KubeUser {
    pub fn allows(&self, verb: &str, resource: &str, namespace: Option<&str>) -> bool {
        let any = |list: &[String], v: &str| list.iter().any(|x| x == "*" || x == v);
        self.allow.iter().any(|r| {
            any(&r.verbs, verb)
                && any(&r.resources, resource)
                && (r.namespaces.is_empty()
                    || namespace.is_some_and(|n| r.namespaces.iter().any(|x| x == n)))
        })
    }
}
