//! The part of a world that some pods' chains touch: the pods, their owners and ServiceAccounts,
//! the webhook, the identities their client IDs and subjects reach, those identities' credentials
//! and role assignments, the resources they are meant to use, and the facts about them.
//! The caller checks that the subset analyses to the same chains ([`super::build`]).

use std::collections::BTreeSet;

use k8s_openapi::Metadata;
use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::analysis::index::{Index, lower_owned};
use crate::analysis::targets;
use crate::analysis::webhook::Install;
use crate::world::azure::CredentialOwner;
use crate::world::kube::KubeObjects;
use crate::world::{ObjRef, World};

/// Who the chains belong to, as the analysis resolved them.
pub struct Wanted<'a> {
    pub pods: &'a BTreeSet<ObjRef>,
    /// Client IDs the pods use (any case).
    pub client_ids: BTreeSet<String>,
    /// (kind, namespace, name) of the workloads whose chains are their templates' (no pod).
    pub workloads: BTreeSet<(String, String, String)>,
    /// (namespace, name) of every chain's ServiceAccount, a would-be pod's included.
    pub service_accounts: BTreeSet<(String, String)>,
}

pub fn subset(world: &World, wanted: &Wanted<'_>) -> World {
    let ix = Index::new(world);
    let install = Install::detect(&ix);
    let mut out = World {
        info: world.info.clone(),
        facts: Default::default(),
        ..Default::default()
    };
    kube(world, &install, wanted, &mut out);
    azure(world, &ix, wanted, &mut out);
    facts(world, wanted, &mut out);
    out
}

fn kube(world: &World, install: &Install<'_>, wanted: &Wanted<'_>, out: &mut World) {
    // Every namespace the webhook runs in: two installs are themselves a finding.
    let webhook_ns: BTreeSet<String> = install
        .deployments
        .iter()
        .filter_map(|d| d.metadata.namespace.clone())
        .chain(install.namespace.clone())
        .collect();
    let k = &world.kube;
    let pods: Vec<_> = k
        .pods
        .iter()
        .filter(|p| wanted.pods.contains(&obj_ref(p.metadata())))
        .cloned()
        .collect();
    let pod_namespaces: BTreeSet<String> =
        wanted.pods.iter().map(|p| p.namespace.clone()).collect();
    let mut owners = owners(&pods, k);
    owners.extend(wanted.workloads.iter().cloned());
    let owned = |kind: &str, m: &ObjectMeta| owners.contains(&key(kind, m));
    let in_webhook_ns =
        |m: &ObjectMeta| m.namespace.as_ref().is_some_and(|n| webhook_ns.contains(n));
    let mut used_sas = used_service_accounts(&pods);
    used_sas.extend(wanted.service_accounts.iter().cloned());
    let nodes: BTreeSet<String> = pods
        .iter()
        .filter_map(|p| p.spec.as_ref()?.node_name.clone())
        .collect();

    let o = &mut out.kube;
    o.mutating_webhooks = k.mutating_webhooks.clone();
    // Few and cluster-wide: a bound pod's grant may come from any of them.
    o.cluster_roles = k.cluster_roles.clone();
    o.cluster_role_bindings = k.cluster_role_bindings.clone();
    // Same-named ServiceAccounts elsewhere explain a "not found" (wrong namespace).
    let sa_names: BTreeSet<&str> = used_sas.iter().map(|(_, n)| n.as_str()).collect();
    o.service_accounts = keep(&k.service_accounts, |m| {
        m.name
            .as_deref()
            .is_some_and(|n| sa_names.contains(n) && n != "default")
            || used_sas.contains(&obj_ref(m).into_parts())
    });
    o.deployments = keep(&k.deployments, |m| {
        owned("Deployment", m) || in_webhook_ns(m)
    });
    o.replica_sets = keep(&k.replica_sets, |m| owned("ReplicaSet", m));
    o.stateful_sets = keep(&k.stateful_sets, |m| owned("StatefulSet", m));
    o.daemon_sets = keep(&k.daemon_sets, |m| owned("DaemonSet", m));
    o.jobs = keep(&k.jobs, |m| owned("Job", m));
    o.cron_jobs = keep(&k.cron_jobs, |m| owned("CronJob", m));
    // ConfigMaps can name the pods' targets; only the pods' and the webhook's namespaces matter.
    o.config_maps = keep(&k.config_maps, |m| {
        in_webhook_ns(m)
            || m.namespace
                .as_ref()
                .is_some_and(|n| pod_namespaces.contains(n))
    });
    o.services = keep(&k.services, in_webhook_ns);
    o.nodes = keep(&k.nodes, |m| {
        m.name.as_ref().is_some_and(|n| nodes.contains(n))
    });
    o.pods = pods;
    let kept: BTreeSet<(String, String)> = kept_objects(o);
    o.events = events_about(&k.events, &kept);
    let namespaces: BTreeSet<String> = kept.iter().map(|(ns, _)| ns.clone()).collect();
    o.namespaces = keep(&k.namespaces, |m| {
        m.name.as_ref().is_some_and(|n| namespaces.contains(n))
    });
}

/// Owners as (kind, namespace, name), walked upward: Pod -> ReplicaSet -> Deployment,
/// Pod -> Job -> CronJob.
fn owners(pods: &[Pod], k: &KubeObjects) -> BTreeSet<(String, String, String)> {
    let mut owners: BTreeSet<(String, String, String)> = BTreeSet::new();
    let add_owners = |meta: &ObjectMeta, owners: &mut BTreeSet<_>| {
        let ns = meta.namespace.clone().unwrap_or_default();
        for o in meta.owner_references.iter().flatten() {
            owners.insert((o.kind.clone(), ns.clone(), o.name.clone()));
        }
    };
    for p in pods {
        add_owners(p.metadata(), &mut owners);
    }
    for rs in &k.replica_sets {
        if owners.contains(&key("ReplicaSet", rs.metadata())) {
            add_owners(rs.metadata(), &mut owners);
        }
    }
    for j in &k.jobs {
        if owners.contains(&key("Job", j.metadata())) {
            add_owners(j.metadata(), &mut owners);
        }
    }
    owners
}

/// (namespace, ServiceAccount name) of each pod.
fn used_service_accounts(pods: &[Pod]) -> BTreeSet<(String, String)> {
    pods.iter()
        .map(|p| {
            let sa = p
                .spec
                .as_ref()
                .and_then(|s| s.service_account_name.clone())
                .unwrap_or_else(|| "default".into());
            (p.metadata.namespace.clone().unwrap_or_default(), sa)
        })
        .collect()
}

/// Events about a kept object, and those naming the webhook wherever they are.
fn events_about(events: &[Event], kept: &BTreeSet<(String, String)>) -> Vec<Event> {
    events
        .iter()
        .filter(|e| {
            let io = &e.involved_object;
            let about = (
                io.namespace.clone().unwrap_or_default(),
                io.name.clone().unwrap_or_default(),
            );
            kept.contains(&about)
                || e.message
                    .as_deref()
                    .is_some_and(|m| m.contains(crate::analysis::webhook::WEBHOOK_NAME))
        })
        .cloned()
        .collect()
}

fn azure(world: &World, ix: &Index<'_>, wanted: &Wanted<'_>, out: &mut World) {
    let az = &world.azure;
    let ids: BTreeSet<String> = wanted.client_ids.iter().map(|c| lower_owned(c)).collect();
    let hit = |v: &Option<String>| v.as_deref().is_some_and(|v| ids.contains(&lower_owned(v)));
    let mut sas = used_service_accounts(&out.kube.pods);
    sas.extend(wanted.service_accounts.iter().cloned());
    let subject_owners = subject_owners(world, &sas);
    let o = &mut out.azure;
    o.clusters = az.clusters.clone();
    o.management_groups = az.management_groups.clone();
    o.deny_assignments = az.deny_assignments.clone();
    o.identity_bindings = az.identity_bindings.clone();
    o.identities = az
        .identities
        .iter()
        .filter(|i| {
            hit(&i.client_id)
                || hit(&i.principal_id)
                || subject_owners.contains(&lower_owned(&i.id))
        })
        .cloned()
        .collect();
    o.applications = az
        .applications
        .iter()
        .filter(|a| {
            hit(&Some(a.app_id.clone()))
                || hit(&Some(a.id.clone()))
                || subject_owners.contains(&lower_owned(&a.app_id))
                || subject_owners.contains(&lower_owned(&a.id))
        })
        .cloned()
        .collect();
    let app_ids: BTreeSet<String> = o
        .applications
        .iter()
        .flat_map(|a| [lower_owned(&a.app_id), lower_owned(&a.id)])
        .chain(ids.iter().cloned())
        .collect();
    o.service_principals = az
        .service_principals
        .iter()
        .filter(|s| app_ids.contains(&lower_owned(&s.app_id)) || ids.contains(&lower_owned(&s.id)))
        .cloned()
        .collect();
    let owners: BTreeSet<String> = o
        .identities
        .iter()
        .map(|i| lower_owned(&i.id))
        .chain(app_ids.iter().cloned())
        .chain(subject_owners.iter().cloned())
        .collect();
    o.federated_credentials = az
        .federated_credentials
        .iter()
        .filter(|f| owners.contains(&owner_key(&f.owner)))
        .cloned()
        .collect();
    let principals: BTreeSet<String> = o
        .identities
        .iter()
        .filter_map(|i| i.principal_id.as_deref().map(lower_owned))
        .chain(o.service_principals.iter().map(|s| lower_owned(&s.id)))
        .collect();
    (o.groups, o.role_assignments) = held_by(ix, &principals);
    o.role_definitions = definitions_of(&o.role_assignments, &az.role_definitions);
    target_resources(world, ix, out);
}

/// The groups the principals belong to (through nested ones too) and the role assignments of
/// the principals and those groups: a group's roles count.
fn held_by(
    ix: &Index<'_>,
    principals: &BTreeSet<String>,
) -> (
    Vec<crate::world::azure::Group>,
    Vec<crate::world::azure::RoleAssignment>,
) {
    let az = &ix.world.azure;
    let groups: BTreeSet<String> = principals
        .iter()
        .flat_map(|p| ix.groups_of(p))
        .map(|g| lower_owned(&g.id))
        .collect();
    let holders: BTreeSet<&String> = principals.union(&groups).collect();
    let held = |id: &str| holders.contains(&lower_owned(id));
    (
        az.groups.iter().filter(|g| held(&g.id)).cloned().collect(),
        az.role_assignments
            .iter()
            .filter(|r| held(&r.principal_id))
            .cloned()
            .collect(),
    )
}

/// The definitions of the roles kept (custom roles): what they permit decides.
fn definitions_of(
    assignments: &[crate::world::azure::RoleAssignment],
    definitions: &[crate::world::azure::RoleDefinition],
) -> Vec<crate::world::azure::RoleDefinition> {
    let guids: BTreeSet<String> = assignments
        .iter()
        .map(|r| lower_owned(r.role_guid()))
        .collect();
    definitions
        .iter()
        .filter(|d| guids.contains(&lower_owned(&d.guid)))
        .cloned()
        .collect()
}

/// Owners of a credential for one of the pods' subjects: it explains a mismatch even on
/// another identity.
fn subject_owners(
    world: &World,
    service_accounts: &BTreeSet<(String, String)>,
) -> BTreeSet<String> {
    let subjects: BTreeSet<String> = service_accounts
        .iter()
        .map(|(ns, sa)| lower_owned(&format!("system:serviceaccount:{ns}:{sa}")))
        .collect();
    world
        .azure
        .federated_credentials
        .iter()
        .filter(|f| {
            f.subject
                .as_deref()
                .is_some_and(|s| subjects.contains(&lower_owned(s)))
        })
        .map(|f| owner_key(&f.owner))
        .collect()
}

/// The resources the pods are meant to reach, found as the analysis finds them.
fn target_resources(world: &World, ix: &Index<'_>, out: &mut World) {
    let az = &world.azure;
    let mut vaults = BTreeSet::new();
    let mut accounts = BTreeSet::new();
    for p in &out.kube.pods {
        let at = obj_ref(p.metadata());
        let hints = world
            .info
            .targets
            .iter()
            .filter(|h| h.pod.as_deref().is_none_or(|x| x == at.to_string()));
        for t in targets::find(ix, p, &at, hints).targets {
            match t {
                targets::Target::KeyVault { name, .. } => vaults.insert(name),
                targets::Target::Blob { account, .. } => accounts.insert(account),
            };
        }
    }
    let o = &mut out.azure;
    o.vaults = az
        .vaults
        .iter()
        .filter(|v| vaults.contains(&lower_owned(&v.name)))
        .cloned()
        .collect();
    o.storage_accounts = az
        .storage_accounts
        .iter()
        .filter(|s| accounts.contains(&lower_owned(&s.name)))
        .cloned()
        .collect();
}

fn facts(world: &World, wanted: &Wanted<'_>, out: &mut World) {
    let f = &world.facts;
    let o = &mut out.facts;
    let ours = |p: &ObjRef| wanted.pods.contains(p);
    o.tokens = f.tokens.iter().filter(|t| ours(&t.pod)).cloned().collect();
    let issuers: BTreeSet<&str> = o.tokens.iter().map(|t| t.claims.iss.as_str()).collect();
    o.issuers = f
        .issuers
        .iter()
        // Without captured tokens the analysis may still compare the cluster's issuer.
        .filter(|i| issuers.is_empty() || issuers.contains(i.issuer.as_str()))
        .cloned()
        .collect();
    o.exchanges = f
        .exchanges
        .iter()
        .filter(|e| e.pods.iter().any(ours))
        .cloned()
        .collect();
    o.probes = f.probes.iter().filter(|p| ours(&p.pod)).cloned().collect();
    o.gaps = f.gaps.clone();
}

fn owner_key(o: &CredentialOwner) -> String {
    match o {
        CredentialOwner::Identity(id) | CredentialOwner::Application(id) => lower_owned(id),
    }
}

fn keep<T: Metadata<Ty = ObjectMeta> + Clone>(
    items: &[T],
    f: impl Fn(&ObjectMeta) -> bool,
) -> Vec<T> {
    items.iter().filter(|i| f(i.metadata())).cloned().collect()
}

fn key(kind: &str, m: &ObjectMeta) -> (String, String, String) {
    let (ns, name) = obj_ref(m).into_parts();
    (kind.to_string(), ns, name)
}

fn obj_ref(m: &ObjectMeta) -> ObjRef {
    ObjRef::new(
        m.namespace.clone().unwrap_or_else(|| "default".into()),
        m.name.clone().unwrap_or_default(),
    )
}

/// (namespace, name) of every namespaced object kept so far.
fn kept_objects(k: &crate::world::KubeObjects) -> BTreeSet<(String, String)> {
    fn add<T: Metadata<Ty = ObjectMeta>>(items: &[T], out: &mut BTreeSet<(String, String)>) {
        for i in items {
            if let Some(ns) = &i.metadata().namespace {
                out.insert((ns.clone(), i.metadata().name.clone().unwrap_or_default()));
            }
        }
    }
    let mut out = BTreeSet::new();
    add(&k.service_accounts, &mut out);
    add(&k.pods, &mut out);
    add(&k.deployments, &mut out);
    add(&k.replica_sets, &mut out);
    add(&k.stateful_sets, &mut out);
    add(&k.daemon_sets, &mut out);
    add(&k.jobs, &mut out);
    add(&k.cron_jobs, &mut out);
    add(&k.config_maps, &mut out);
    add(&k.services, &mut out);
    out
}
