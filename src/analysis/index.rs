//! Indexes over a world, built once so every per-pod question is a lookup (analysis stays
//! linear in the size of the world).

use std::collections::HashMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ConfigMap, Event, Namespace, Node, Service, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::world::azure::*;
use crate::world::facts::{CapturedToken, IssuerCapture};
use crate::world::live::{ExchangeRecord, ProbeRecord};
use crate::world::{ObjRef, World};

/// (namespace, name), borrowed from the world so lookups allocate nothing.
type Key<'w> = (&'w str, &'w str);

pub struct Index<'w> {
    pub world: &'w World,
    pub namespaces: HashMap<&'w str, &'w Namespace>,
    pub service_accounts: HashMap<Key<'w>, &'w ServiceAccount>,
    /// ServiceAccount names to the namespaces that have one, for "wrong namespace" hints.
    pub sa_namespaces: HashMap<&'w str, Vec<&'w str>>,
    pub services: HashMap<&'w str, Vec<&'w Service>>,
    pub replica_sets: HashMap<Key<'w>, &'w ReplicaSet>,
    pub deployments: HashMap<Key<'w>, &'w Deployment>,
    pub jobs: HashMap<Key<'w>, &'w Job>,
    pub cron_jobs: HashMap<Key<'w>, &'w CronJob>,
    pub stateful_sets: HashMap<Key<'w>, &'w k8s_openapi::api::apps::v1::StatefulSet>,
    pub daemon_sets: HashMap<Key<'w>, &'w k8s_openapi::api::apps::v1::DaemonSet>,
    pub config_maps: HashMap<Key<'w>, &'w ConfigMap>,
    pub nodes: HashMap<&'w str, &'w Node>,
    /// Events by (namespace, involved object name).
    pub events: HashMap<Key<'w>, Vec<&'w Event>>,
    pub identities_by_client: HashMap<String, &'w ManagedIdentity>,
    pub identities_by_principal: HashMap<String, &'w ManagedIdentity>,
    pub identities_by_id: HashMap<String, &'w ManagedIdentity>,
    pub apps_by_app_id: HashMap<String, &'w Application>,
    pub apps_by_object_id: HashMap<String, &'w Application>,
    pub sps_by_app_id: HashMap<String, &'w ServicePrincipal>,
    pub sps_by_object_id: HashMap<String, &'w ServicePrincipal>,
    /// Credentials by owner key: lower-case identity ARM id, or lower-case appId.
    pub fics_by_owner: HashMap<String, Vec<&'w FederatedCredential>>,
    /// The same credentials keyed by each identity's ARM id as written: ARM ids carry
    /// upper case (`resourceGroups`), so a per-pod folded lookup would allocate.
    pub fics_by_identity: HashMap<&'w str, Vec<&'w FederatedCredential>>,
    pub fics_by_subject: HashMap<&'w str, Vec<&'w FederatedCredential>>,
    pub roles_by_principal: HashMap<String, Vec<&'w RoleAssignment>>,
    /// Direct memberships: member object id (lower case) -> its groups.
    pub groups_by_member: HashMap<String, Vec<&'w Group>>,
    /// Management-group hierarchy: a subscription's or management group's id (lower case) ->
    /// the management groups directly above it.
    pub scope_parents: HashMap<String, Vec<String>>,
    pub vaults_by_name: HashMap<String, &'w KeyVault>,
    pub storage_by_name: HashMap<String, &'w StorageAccount>,
    pub tokens: HashMap<ObjRef, &'w CapturedToken>,
    pub issuers: HashMap<&'w str, &'w IssuerCapture>,
    pub exchanges: HashMap<&'w ObjRef, &'w ExchangeRecord>,
    pub probes: HashMap<&'w ObjRef, Vec<&'w ProbeRecord>>,
    /// The cloud the world's resources live in: stated, or inferred from vault hosts and regions.
    pub cloud: Option<&'static str>,
}

fn key(meta: &ObjectMeta) -> Key<'_> {
    (
        meta.namespace.as_deref().unwrap_or_default(),
        meta.name.as_deref().unwrap_or_default(),
    )
}

fn by_key<T>(items: &[T], meta: impl Fn(&T) -> &ObjectMeta) -> HashMap<Key<'_>, &T> {
    items.iter().map(|i| (key(meta(i)), i)).collect()
}

/// Case-folded key; borrows when the text is already folded (the common case), so per-pod
/// lookups allocate nothing.
pub fn lower(s: &str) -> std::borrow::Cow<'_, str> {
    let t = s.trim();
    if t.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(t.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(t)
    }
}

/// Where `needle` first occurs in `hay`, ignoring ASCII case, without folding a copy of either.
pub fn find_ignore_case(hay: &str, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return Some(0); // as str::find; `windows(0)` would panic
    }
    hay.as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Owned case-folded key, for building indexes.
pub fn lower_owned(s: &str) -> String {
    lower(s).into_owned()
}

/// Cluster-scoped objects by name; unnamed ones cannot be looked up.
fn by_name<T>(items: &[T], meta: impl Fn(&T) -> &ObjectMeta) -> HashMap<&str, &T> {
    items
        .iter()
        .filter_map(|i| Some((meta(i).name.as_deref()?, i)))
        .collect()
}

/// Azure objects by a case-folded id or name (Azure compares them ignoring case); those
/// without one are left out.
fn by_folded<T>(items: &[T], id: impl Fn(&T) -> Option<&str>) -> HashMap<String, &T> {
    items
        .iter()
        .filter_map(|i| Some((lower_owned(id(i)?), i)))
        .collect()
}

fn sa_namespaces(service_accounts: &[ServiceAccount]) -> HashMap<&str, Vec<&str>> {
    let mut sa_namespaces: HashMap<&str, Vec<&str>> = HashMap::new();
    for sa in service_accounts {
        if let (Some(ns), Some(name)) = (&sa.metadata.namespace, &sa.metadata.name) {
            sa_namespaces
                .entry(name.as_str())
                .or_default()
                .push(ns.as_str());
        }
    }
    sa_namespaces
}

fn services_by_namespace(services: &[Service]) -> HashMap<&str, Vec<&Service>> {
    let mut by_ns: HashMap<&str, Vec<&Service>> = HashMap::new();
    for s in services {
        by_ns
            .entry(s.metadata.namespace.as_deref().unwrap_or_default())
            .or_default()
            .push(s);
    }
    by_ns
}

fn events_by_object(events: &[Event]) -> HashMap<Key<'_>, Vec<&Event>> {
    let mut by_object: HashMap<Key<'_>, Vec<&Event>> = HashMap::new();
    for e in events {
        let ns = e
            .involved_object
            .namespace
            .as_deref()
            .or(e.metadata.namespace.as_deref());
        by_object
            .entry((
                ns.unwrap_or_default(),
                e.involved_object.name.as_deref().unwrap_or_default(),
            ))
            .or_default()
            .push(e);
    }
    by_object
}

type FicsByOwner<'w> = HashMap<String, Vec<&'w FederatedCredential>>;
type FicsBySubject<'w> = HashMap<&'w str, Vec<&'w FederatedCredential>>;

/// Federated credentials by owner key (lower-case identity ARM id or appId) and by subject.
fn fics_by_owner_and_subject<'w>(
    az: &'w AzureObjects,
    apps_by_object_id: &HashMap<String, &'w Application>,
) -> (FicsByOwner<'w>, FicsBySubject<'w>) {
    let mut fics_by_owner: FicsByOwner<'w> = HashMap::new();
    let mut fics_by_subject: FicsBySubject<'w> = HashMap::new();
    for f in &az.federated_credentials {
        let owner = match &f.owner {
            CredentialOwner::Identity(id) => lower_owned(id),
            // A FederatedCredentialList may name the application by object id.
            CredentialOwner::Application(r) => apps_by_object_id
                .get(lower(r).as_ref())
                .map(|a| lower_owned(&a.app_id))
                .unwrap_or_else(|| lower_owned(r)),
        };
        fics_by_owner.entry(owner).or_default().push(f);
        if let Some(s) = &f.subject {
            fics_by_subject.entry(s.as_str()).or_default().push(f);
        }
    }
    (fics_by_owner, fics_by_subject)
}

fn roles_by_principal(assignments: &[RoleAssignment]) -> HashMap<String, Vec<&RoleAssignment>> {
    let mut by_principal: HashMap<String, Vec<&RoleAssignment>> = HashMap::new();
    for r in assignments {
        by_principal
            .entry(lower_owned(&r.principal_id))
            .or_default()
            .push(r);
    }
    by_principal
}

impl<'w> Index<'w> {
    pub fn new(world: &'w World) -> Self {
        let k = &world.kube;
        let az = &world.azure;
        let apps_by_object_id = by_folded(&az.applications, |a| Some(a.id.as_str()));
        let (fics_by_owner, fics_by_subject) = fics_by_owner_and_subject(az, &apps_by_object_id);
        let fics_by_identity = az
            .identities
            .iter()
            .filter_map(|i| {
                Some((
                    i.id.as_str(),
                    fics_by_owner.get(lower(&i.id).as_ref())?.clone(),
                ))
            })
            .collect();
        Index {
            world,
            namespaces: by_name(&k.namespaces, |n| &n.metadata),
            service_accounts: by_key(&k.service_accounts, |s| &s.metadata),
            sa_namespaces: sa_namespaces(&k.service_accounts),
            services: services_by_namespace(&k.services),
            replica_sets: by_key(&k.replica_sets, |s| &s.metadata),
            deployments: by_key(&k.deployments, |s| &s.metadata),
            jobs: by_key(&k.jobs, |s| &s.metadata),
            cron_jobs: by_key(&k.cron_jobs, |s| &s.metadata),
            stateful_sets: by_key(&k.stateful_sets, |s| &s.metadata),
            daemon_sets: by_key(&k.daemon_sets, |s| &s.metadata),
            config_maps: by_key(&k.config_maps, |s| &s.metadata),
            nodes: by_name(&k.nodes, |n| &n.metadata),
            events: events_by_object(&k.events),
            identities_by_client: by_folded(&az.identities, |i| i.client_id.as_deref()),
            identities_by_principal: by_folded(&az.identities, |i| i.principal_id.as_deref()),
            identities_by_id: by_folded(&az.identities, |i| Some(i.id.as_str())),
            apps_by_app_id: by_folded(&az.applications, |a| Some(a.app_id.as_str())),
            apps_by_object_id,
            sps_by_app_id: by_folded(&az.service_principals, |s| Some(s.app_id.as_str())),
            sps_by_object_id: by_folded(&az.service_principals, |s| Some(s.id.as_str())),
            fics_by_owner,
            fics_by_identity,
            fics_by_subject,
            roles_by_principal: roles_by_principal(&az.role_assignments),
            groups_by_member: groups_by_member(&az.groups),
            scope_parents: scope_parents(&az.management_groups),
            vaults_by_name: by_folded(&az.vaults, |v| Some(v.name.as_str())),
            storage_by_name: by_folded(&az.storage_accounts, |s| Some(s.name.as_str())),
            tokens: world
                .facts
                .tokens
                .iter()
                .map(|t| (t.pod.clone(), t))
                .collect(),
            issuers: world
                .facts
                .issuers
                .iter()
                .map(|i| (i.issuer.as_str(), i))
                .collect(),
            exchanges: world
                .facts
                .exchanges
                .iter()
                .flat_map(|e| e.pods.iter().map(move |p| (p, e)))
                .collect(),
            probes: world.facts.probes.iter().fold(HashMap::new(), |mut m, p| {
                m.entry(&p.pod).or_insert_with(Vec::new).push(p);
                m
            }),
            cloud: world_cloud(world),
        }
    }

    /// Why `resource` (a Kubernetes plural) in `namespace` could not be read, if it could not.
    pub fn gap(&self, resource: &str, namespace: &str) -> Option<&'w crate::world::live::Gap> {
        self.world.facts.gaps.iter().find(|g| {
            g.resource == resource && g.namespace.as_deref().is_none_or(|n| n == namespace)
        })
    }

    /// The live probes ran: absent results mean "not attempted", not "offline".
    pub fn live(&self) -> bool {
        self.world.info.probed
            || !self.world.facts.exchanges.is_empty()
            || !self.world.facts.probes.is_empty()
    }

    /// The managed cluster the world describes (the one named in WorldInfo, else the first).
    pub fn cluster(&self) -> Option<&'w ManagedCluster> {
        let clusters = &self.world.azure.clusters;
        match &self.world.info.cluster_name {
            Some(name) => clusters
                .iter()
                .find(|c| &c.name == name)
                .or(clusters.first()),
            None => clusters.first(),
        }
    }

    pub fn service_account(&self, ns: &str, name: &str) -> Option<&'w ServiceAccount> {
        self.service_accounts.get(&(ns, name)).copied()
    }

    pub fn config_map(&self, ns: &str, name: &str) -> Option<&'w ConfigMap> {
        self.config_maps.get(&(ns, name)).copied()
    }

    /// Whether a role assignment at `scope` reaches `resource_id`: `scope` is the resource or one
    /// above it in ARM's path, or a management group above the resource's subscription (through
    /// nested management groups), or the root scope `/`.
    pub fn covers(&self, scope: &str, resource_id: &str) -> bool {
        if scope_covers(scope, resource_id) {
            return true;
        }
        let scope = lower_owned(scope.trim_end_matches('/'));
        if !scope.starts_with("/providers/microsoft.management/managementgroups/") {
            return false;
        }
        let Some(sub) = arm_segment(resource_id, "subscriptions") else {
            return false;
        };
        let mut queue = vec![format!("/subscriptions/{}", lower_owned(sub))];
        let mut seen = std::collections::HashSet::new();
        while let Some(child) = queue.pop() {
            for parent in self.scope_parents.get(&child).into_iter().flatten() {
                if *parent == scope {
                    return true;
                }
                if seen.insert(parent.clone()) {
                    queue.push(parent.clone());
                }
            }
        }
        false
    }

    /// The groups `principal` belongs to, directly or through other groups, as Entra resolves
    /// membership for role assignments (each once, a cycle followed once).
    pub fn groups_of(&self, principal: &str) -> Vec<&'w Group> {
        let mut out: Vec<&'w Group> = Vec::new();
        let mut queue = vec![lower_owned(principal)];
        while let Some(member) = queue.pop() {
            for g in self.groups_by_member.get(&member).into_iter().flatten() {
                if !out.iter().any(|o| o.id.eq_ignore_ascii_case(&g.id)) {
                    out.push(g);
                    queue.push(lower_owned(&g.id));
                }
            }
        }
        out
    }
}

/// The management groups directly above each subscription and management group, from both
/// ends of the hierarchy (a group's children and a group's parent).
fn scope_parents(groups: &[ManagementGroup]) -> HashMap<String, Vec<String>> {
    let mut parents: HashMap<String, Vec<String>> = HashMap::new();
    let mut add = |child: &str, parent: &str| {
        let list = parents.entry(lower_owned(child)).or_default();
        let parent = lower_owned(parent);
        if !list.contains(&parent) {
            list.push(parent);
        }
    };
    for g in groups {
        for c in &g.children {
            add(c, &g.id);
        }
        if let Some(p) = &g.parent {
            add(&g.id, p);
        }
    }
    parents
}

/// Each member's groups, by the member's object id (lower case).
fn groups_by_member(groups: &[Group]) -> HashMap<String, Vec<&Group>> {
    let mut by_member: HashMap<String, Vec<&Group>> = HashMap::new();
    for g in groups {
        for m in &g.members {
            by_member.entry(lower_owned(m)).or_default().push(g);
        }
    }
    by_member
}

const CLOUDS: [&str; 4] = [
    "AzurePublicCloud",
    "AzureUSGovernmentCloud",
    "AzureChinaCloud",
    "AzureGermanCloud",
];

fn world_cloud(world: &World) -> Option<&'static str> {
    if let Some(c) = world.info.cloud.as_deref() {
        return CLOUDS.into_iter().find(|k| k.eq_ignore_ascii_case(c));
    }
    for h in world
        .azure
        .vaults
        .iter()
        .filter_map(|v| v.vault_uri.as_deref())
    {
        if h.contains(".vault.azure.cn") {
            return Some("AzureChinaCloud");
        }
        if h.contains(".vault.usgovcloudapi.net") {
            return Some("AzureUSGovernmentCloud");
        }
    }
    let regions = world
        .azure
        .clusters
        .iter()
        .filter_map(|c| c.location.as_deref())
        .chain(
            world
                .azure
                .identities
                .iter()
                .filter_map(|i| i.location.as_deref()),
        );
    for r in regions {
        let r = r.to_ascii_lowercase();
        if r.starts_with("china") {
            return Some("AzureChinaCloud");
        }
        if r.starts_with("usgov") || r.starts_with("usdod") {
            return Some("AzureUSGovernmentCloud");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::find_ignore_case;

    #[test]
    fn find_ignore_case_finds_as_str_find_does_on_folded_text() {
        let host = "MyVault.Vault.Azure.net";
        assert_eq!(find_ignore_case(host, ".vault.azure"), Some(7));
        assert_eq!(find_ignore_case(host, ".blob.core."), None);
        assert_eq!(find_ignore_case("ab", "abc"), None);
        assert_eq!(find_ignore_case(host, ""), Some(0));
    }
}
