//! What the live probes should do for the selected pods: which token to request, which
//! exchange to make and which resources to call. Pure, so the plan is tested without a network;
//! the probes (src/probe) carry it out.

use std::collections::BTreeMap;

use super::index::Index;
use super::subject::{Subject, first_env};
use super::targets::{self, Target};
use super::webhook::Install;
use super::{Selection, is_subject, selected};
use crate::world::{ObjRef, TargetHint, World};

/// One token exchange, shared by every pod with the same (client ID, ServiceAccount, tenant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangePlan {
    pub client_id: String,
    pub tenant_id: String,
    pub namespace: String,
    pub service_account: String,
    pub audience: String,
    /// Seconds the token should live, as the webhook asks for it.
    pub expiration: i64,
    /// The pod the TokenRequest is bound to (the first of `pods`) and its UID.
    pub bind_to: (String, Option<String>),
    pub pods: Vec<ObjRef>,
    /// `AZURE_AUTHORITY_HOST` as the pods see it, if set.
    pub authority: Option<String>,
    /// (container, path) of the bound pod's `AZURE_FEDERATED_TOKEN_FILE`: read by exec when a
    /// TokenRequest is not allowed.
    pub token_file: Option<(String, String)>,
    /// Key Vault and Blob targets per pod.
    pub targets: BTreeMap<ObjRef, Vec<Target>>,
}

/// Pods the plan could not include, with why (no client ID, no tenant, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unplanned {
    pub pod: ObjRef,
    pub why: String,
}

/// The client IDs to look for in Azure (lower case): what each pod uses, resolved as the
/// analysis resolves it, and what each ServiceAccount is annotated with now (a stale pod's
/// ServiceAccount may already name another identity).
pub fn client_ids(world: &World) -> std::collections::BTreeSet<String> {
    let ix = Index::new(world);
    let install = Install::detect(&ix);
    let annotated = world.kube.service_accounts.iter().filter_map(|sa| {
        sa.metadata
            .annotations
            .as_ref()?
            .get(super::webhook::CLIENT_ID)
            .cloned()
    });
    world
        .kube
        .pods
        .iter()
        .filter_map(|pod| Subject::new(&ix, &install, pod).client_id)
        .chain(annotated)
        .map(|c| c.trim().to_ascii_lowercase())
        // Only GUIDs are looked up: the values go into Graph `$filter`s, where quotes in
        // anything else would widen the query (the service-account link names bad values).
        .filter(|c| crate::untrusted::grammar::guid(c))
        .collect()
}

pub fn plan(
    world: &World,
    selection: &Selection,
    hints: &[TargetHint],
) -> (Vec<ExchangePlan>, Vec<Unplanned>) {
    // Manifests are not applied: no pod of theirs exists to take a token for.
    if matches!(selection, Selection::Applied(_)) {
        return (Vec::new(), Vec::new());
    }
    let ix = Index::new(world);
    let install = Install::detect(&ix);
    let mut plans: BTreeMap<(String, String, String, String), ExchangePlan> = BTreeMap::new();
    let mut unplanned = Vec::new();
    for pod in selected(world, selection) {
        let s = Subject::new(&ix, &install, pod);
        if !selection.keeps(&super::workload_key(&s)) || !is_subject(&ix, &s, selection, hints) {
            continue;
        }
        if let Some(aud) = &s.custom_endpoint {
            unplanned.push(Unplanned {
                pod: s.at.clone(),
                why: format!("uses the webhook's custom token endpoint (audience {aud}); Entra does not take its token directly"),
            });
            continue;
        }
        let Some(client_id) = s.client_id.clone().filter(|c| !c.is_empty()) else {
            unplanned.push(Unplanned {
                pod: s.at.clone(),
                why: "no client ID on the pod or its ServiceAccount".into(),
            });
            continue;
        };
        let tenant = s
            .tenant_id
            .clone()
            .or_else(|| install.settings.tenant_id.clone())
            .or_else(|| world.info.tenant_id.clone());
        let Some(tenant_id) = tenant else {
            unplanned.push(Unplanned {
                pod: s.at.clone(),
                why: "no tenant ID (pod env, ServiceAccount annotation or webhook config)".into(),
            });
            continue;
        };
        let audience = s
            .token
            .aud
            .first()
            .cloned()
            .unwrap_or_else(|| install.assumed.audience.clone());
        // As the webhook asks for it: the pod's annotation over the ServiceAccount's.
        let expiration =
            super::webhook::admission::expected(&install.profile, &install.assumed, &s.request())
                .expiration;
        let key = (
            client_id.to_ascii_lowercase(),
            s.at.namespace.clone(),
            s.sa_name.clone(),
            tenant_id.to_ascii_lowercase(),
        );
        let found = targets::find(&ix, s.pod, &s.at, world.info.targets.iter().chain(hints));
        let p = plans.entry(key).or_insert_with(|| ExchangePlan {
            client_id: client_id.clone(),
            tenant_id: tenant_id.clone(),
            namespace: s.at.namespace.clone(),
            service_account: s.sa_name.clone(),
            audience,
            expiration,
            bind_to: (s.at.name.clone(), pod.metadata.uid.clone()),
            pods: Vec::new(),
            authority: first_env(pod, "AZURE_AUTHORITY_HOST").map(str::to_string),
            token_file: token_file(pod, &install),
            targets: BTreeMap::new(),
        });
        p.pods.push(s.at.clone());
        p.targets.insert(s.at.clone(), found.targets);
    }
    (plans.into_values().collect(), unplanned)
}

/// The container that has `AZURE_FEDERATED_TOKEN_FILE` set, and the path the webhook mounts
/// the token at: the env's path only when it is one the webhook injects, never any other (the
/// pod's env would otherwise choose which file widiag reads and presents to Entra).
fn token_file(
    pod: &k8s_openapi::api::core::v1::Pod,
    install: &Install<'_>,
) -> Option<(String, String)> {
    let known = &install.token_paths;
    pod.spec.as_ref()?.containers.iter().find_map(|c| {
        let named = c
            .env
            .iter()
            .flatten()
            .find(|e| e.name == "AZURE_FEDERATED_TOKEN_FILE")?
            .value
            .as_deref()?;
        let path = known.iter().find(|p| *p == named).or(known.first())?;
        Some((c.name.clone(), path.clone()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::parse::parse_str;

    /// The exec fallback reads where the webhook mounts the token, whatever path the pod's env
    /// names (it would otherwise choose which file widiag reads and presents to Entra).
    #[test]
    fn the_token_file_read_over_exec_is_the_webhooks_path() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  containers:\n  - name: app\n    env:\n    - {name: AZURE_FEDERATED_TOKEN_FILE, value: PATH}\n";
        let path_of = |env: &str| {
            let world = parse_str("w.yaml", &text.replace("PATH", env)).unwrap();
            let ix = Index::new(&world);
            let install = Install::detect(&ix);
            token_file(&world.kube.pods[0], &install).map(|(_, p)| p)
        };
        use crate::analysis::webhook::{TOKEN_PATH_V1_5, TOKEN_PATH_V1_6};
        // No webhook version known: either release's path is the webhook's, nothing else is.
        assert_eq!(path_of("/etc/shadow").as_deref(), Some(TOKEN_PATH_V1_6));
        assert_eq!(path_of(TOKEN_PATH_V1_5).as_deref(), Some(TOKEN_PATH_V1_5));
    }
}
