//! `--redact-names`: namespaces, object names, resource groups, Azure resource names,
//! subscription and tenant IDs become stable pseudonyms. The same input always gives the same
//! pseudonym (a hash), so a subject, an ARM id and a FIC still line up after redaction and the
//! analysis of the redacted world is the analysis of the original. Pseudonyms hide names from
//! reading; someone who guesses a name can confirm the guess (the price of stability).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::Metadata;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::analysis::index::{Index, lower_owned};
use crate::analysis::webhook::Install;
use crate::world::azure::arm_segment;
use crate::world::kube::KubeObjects;
use crate::world::{AzureObjects, World};

/// Names kept because they are part of the protocol, not of the user's estate.
const RESERVED: &[&str] = &[
    "default",
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "azure-workload-identity-system",
    "system",
    "serviceaccount",
    "serviceaccounts",
    "https",
    "http",
    "login",
    "microsoftonline",
    "com",
    "net",
    "cn",
    "us",
    "azure",
    "vault",
    "blob",
    "core",
    "windows",
    "management",
    "graph",
    "microsoft",
    "webhook",
    "workload-identity",
    "kubernetes",
    "token",
    "api",
    "providers",
    "subscriptions",
    "resourcegroups",
    "secrets",
    "containers",
    // The credential AKS manages for identity bindings is found by this name.
    "aks-identity-binding",
];

/// Fields that name a schema, never a user's object (a namespace called `apps` must not touch
/// `apiVersion: apps/v1`).
const STRUCTURAL: &[&str] = &["apiVersion", "kind", "type", "@odata.type", "fieldPath"];

/// Tokens shorter than this are left alone: replacing them would mangle ordinary words.
const MIN_LEN: usize = 3;

#[derive(Debug, Default)]
pub struct Pseudonyms {
    /// Lower-case name -> pseudonym.
    names: BTreeMap<String, String>,
    /// Whole values that may hold spaces (display names).
    whole: BTreeMap<String, String>,
}

impl Pseudonyms {
    /// Every sensitive name in `world`, each with its pseudonym.
    pub fn of(world: &World) -> Self {
        let mut p = Pseudonyms::default();
        let ix = Index::new(world);
        let install = Install::detect(&ix);
        p.add_kube(&world.kube, install.namespace.as_deref());
        p.add_azure(&world.azure);
        let az = &world.azure;
        let tenants = world
            .info
            .tenant_id
            .iter()
            .chain(az.identities.iter().filter_map(|i| i.tenant_id.as_ref()))
            .chain(az.vaults.iter().filter_map(|v| v.tenant_id.as_ref()))
            .chain(install.settings.tenant_id.iter())
            .chain(world.facts.exchanges.iter().map(|e| &e.tenant_id));
        for t in tenants {
            p.add_guid(t);
        }
        if let Some(c) = &world.info.cluster_name {
            p.add("aks", c);
        }
        if let Some(c) = &world.info.context {
            p.add("ctx", c);
        }
        p
    }

    /// Kubernetes names, except in the namespaces every cluster has and the webhook's, which are
    /// the same in every cluster.
    fn add_kube(&mut self, k: &KubeObjects, webhook_ns: Option<&str>) {
        let mut system: BTreeSet<&str> = ["kube-system", "kube-public", "kube-node-lease"].into();
        if let Some(ns) = webhook_ns {
            system.insert(ns);
        }
        let mut kube = |role: &str, m: &ObjectMeta| {
            let ns = m.namespace.as_deref();
            if ns.is_some_and(|n| system.contains(n)) {
                return;
            }
            if let Some(ns) = ns {
                self.add("ns", ns);
            }
            if let Some(name) = &m.name {
                self.add(role, name);
            }
        };
        k.namespaces.iter().for_each(|o| kube("ns", o.metadata()));
        k.service_accounts
            .iter()
            .for_each(|o| kube("sa", o.metadata()));
        k.pods.iter().for_each(|o| kube("pod", o.metadata()));
        k.deployments.iter().for_each(|o| kube("wl", o.metadata()));
        k.replica_sets.iter().for_each(|o| kube("wl", o.metadata()));
        k.stateful_sets
            .iter()
            .for_each(|o| kube("wl", o.metadata()));
        k.daemon_sets.iter().for_each(|o| kube("wl", o.metadata()));
        k.jobs.iter().for_each(|o| kube("wl", o.metadata()));
        k.cron_jobs.iter().for_each(|o| kube("wl", o.metadata()));
        k.config_maps.iter().for_each(|o| kube("cm", o.metadata()));
        k.services.iter().for_each(|o| kube("svc", o.metadata()));
        k.nodes.iter().for_each(|o| kube("node", o.metadata()));
    }

    /// Azure names: subscriptions, resource groups and management groups in ARM ids, resource
    /// names, and display names whole (they may hold spaces): applications, groups, management
    /// groups, deny assignments and custom roles.
    fn add_azure(&mut self, az: &AzureObjects) {
        let arm_ids = az
            .clusters
            .iter()
            .map(|c| &c.id)
            .chain(az.identities.iter().map(|i| &i.id))
            .chain(az.federated_credentials.iter().map(|f| &f.id))
            .chain(az.vaults.iter().map(|v| &v.id))
            .chain(az.storage_accounts.iter().map(|s| &s.id))
            .chain(az.role_assignments.iter().map(|r| &r.id))
            .chain(az.role_assignments.iter().map(|r| &r.scope))
            .chain(az.deny_assignments.iter().map(|d| &d.id))
            .chain(az.deny_assignments.iter().map(|d| &d.scope))
            .chain(az.management_groups.iter().map(|g| &g.id))
            .chain(az.management_groups.iter().flat_map(|g| &g.children))
            .chain(
                az.management_groups
                    .iter()
                    .filter_map(|g| g.parent.as_ref()),
            );
        for id in arm_ids {
            if let Some(s) = arm_segment(id, "subscriptions") {
                self.add_guid(s);
            }
            if let Some(rg) = arm_segment(id, "resourceGroups") {
                self.add("rg", rg);
            }
            // A management group's name is the company's own (the tenant root's is the tenant id).
            if let Some(mg) = arm_segment(id, "managementGroups") {
                self.add_guid(mg);
            }
        }
        az.clusters.iter().for_each(|c| self.add("aks", &c.name));
        az.identities.iter().for_each(|i| self.add("id", &i.name));
        az.federated_credentials
            .iter()
            .for_each(|f| self.add("fic", &f.name));
        az.vaults.iter().for_each(|v| self.add("kv", &v.name));
        az.storage_accounts
            .iter()
            .for_each(|s| self.add("st", &s.name));
        for name in az
            .applications
            .iter()
            .filter_map(|a| a.display_name.as_deref())
            .chain(
                az.service_principals
                    .iter()
                    .filter_map(|s| s.display_name.as_deref()),
            )
            .chain(az.groups.iter().filter_map(|g| g.display_name.as_deref()))
            .chain(
                az.management_groups
                    .iter()
                    .filter_map(|g| g.display_name.as_deref()),
            )
            .chain(az.deny_assignments.iter().filter_map(|d| d.name.as_deref()))
            // Custom roles are named by their owners; built-in names are Microsoft's and stay.
            .chain(
                az.role_definitions
                    .iter()
                    .filter(|d| crate::analysis::roles::lookup(&d.guid, None).is_none())
                    .filter_map(|d| d.role_name.as_deref()),
            )
        {
            self.whole
                .entry(name.to_string())
                .or_insert_with(|| format!("app{}", &digest(name)[..8]));
        }
    }

    fn add(&mut self, role: &str, name: &str) {
        let key = lower_owned(name);
        if key.len() < MIN_LEN || RESERVED.contains(&key.as_str()) {
            return;
        }
        // Storage and vault names allow only letters and digits after the first letter.
        let pseudo = format!("{role}{}", &digest(&key)[..8]);
        self.names.entry(key).or_insert(pseudo);
    }

    fn add_guid(&mut self, guid: &str) {
        let key = lower_owned(guid);
        if key.len() != 36 {
            return self.add("id", guid);
        }
        let h = digest(&key);
        let pseudo = format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        );
        self.names.insert(key, pseudo);
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty() && self.whole.is_empty()
    }

    /// `s` with every sensitive name replaced; a name's case pattern carries over, so two
    /// values that differed only by case still do.
    pub fn apply(&self, s: &str) -> String {
        if let Some(w) = self.whole.get(s) {
            return w.clone();
        }
        let mut out = String::with_capacity(s.len());
        let mut run = String::new();
        let flush = |run: &mut String, out: &mut String| {
            if !run.is_empty() {
                match self.names.get(&lower_owned(run)) {
                    Some(p) => out.push_str(&with_case(p, run)),
                    None => out.push_str(run),
                }
                run.clear();
            }
        };
        for c in s.chars() {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                run.push(c);
            } else {
                flush(&mut run, &mut out);
                out.push(c);
            }
        }
        flush(&mut run, &mut out);
        out
    }

    /// Every string value in a document (keys stay: they are label and field names).
    pub fn apply_value(&self, v: &mut Value) {
        match v {
            Value::String(s) => *s = self.apply(s),
            Value::Array(a) => a.iter_mut().for_each(|x| self.apply_value(x)),
            Value::Object(m) => m
                .iter_mut()
                .filter(|(k, _)| !STRUCTURAL.contains(&k.as_str()))
                .for_each(|(_, x)| self.apply_value(x)),
            _ => {}
        }
    }
}

fn digest(s: &str) -> String {
    let h = Sha256::digest(s.as_bytes());
    h.iter().map(|b| format!("{b:02x}")).collect()
}

fn with_case(pseudo: &str, original: &str) -> String {
    if !original.chars().any(|c| c.is_ascii_uppercase()) {
        return pseudo.to_string();
    }
    pseudo
        .chars()
        .zip(original.chars().chain(std::iter::repeat('a')))
        .map(|(p, o)| {
            if o.is_ascii_uppercase() {
                p.to_ascii_uppercase()
            } else {
                p
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Pseudonyms {
        let mut p = Pseudonyms::default();
        p.add("ns", "payments");
        p.add("sa", "api-sa");
        p.add_guid("72f988bf-86f1-41af-91ab-2d7cd011db47");
        p
    }

    #[test]
    fn names_inside_compound_values_are_replaced_alike() {
        let p = table();
        let sub = p.apply("system:serviceaccount:payments:api-sa");
        assert!(
            !sub.contains("payments") && !sub.contains("api-sa"),
            "{sub}"
        );
        assert!(sub.starts_with("system:serviceaccount:ns"));
        assert_eq!(p.apply("payments"), p.apply("payments"));
        let iss = p
            .apply("https://eastus.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/x/");
        assert!(!iss.contains("72f988bf"), "{iss}");
        // A longer name that merely starts with a known one is a different name.
        assert_eq!(p.apply("payments-v2"), "payments-v2");
        assert_eq!(p.apply("default"), "default");
    }

    #[test]
    fn case_differences_survive() {
        let p = table();
        let (a, b) = (p.apply("payments"), p.apply("Payments"));
        assert_ne!(a, b);
        assert!(a.eq_ignore_ascii_case(&b));
    }
}
