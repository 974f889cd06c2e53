//! Azure through ARM and Microsoft Graph: the user-assigned identities and applications the
//! pods' client IDs name, their federated credentials, the clusters, vaults and storage
//! accounts, and the role assignments of the principals involved. Responses are fed to the
//! world loader, so live and file worlds share one normaliser.
//!
//! ARM is read with widiag's own requests rather than `azure_mgmt_msi`: that crate lives on the
//! SDK's archived legacy branch, takes azure_core 0.21's credential trait (not azure_identity
//! 1.x's) and brings a second TLS stack that ignores `SSL_CERT_FILE` (wire-protocols.md §6).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::net::cloud::Cloud;
use crate::net::http::Http;
use crate::world::World;
use crate::world::live::Gap;

use crate::net::api_versions as api;

pub struct AzureReader {
    pub http: Http,
    pub credential: Arc<dyn TokenCredential>,
    pub cloud: Cloud,
    /// `--timeout`: a token is given up after [`token_bound`] of it.
    pub timeout: std::time::Duration,
}

/// How long one token acquisition may take in all: its bounded retries (credential.rs) fit
/// in twice `--timeout`, and widiag stops waiting (and kills `az`) when that passes.
pub fn token_bound(timeout: std::time::Duration) -> std::time::Duration {
    timeout * 2
}

/// What to look for: the client IDs the pods use.
#[derive(Debug, Default)]
pub struct Wanted {
    pub client_ids: BTreeSet<String>,
    /// `--subscription`; empty means every subscription the caller can read.
    pub subscriptions: Vec<String>,
    /// Some pod asks for an AKS identity binding: the clusters' bindings are read.
    pub identity_bindings: bool,
}

#[derive(Default)]
struct Found {
    world: World,
    gaps: Vec<Gap>,
}

impl Found {
    /// A list read: its items into the world, or its gap.
    fn absorb_list(&mut self, name: &str, read: Result<Vec<Value>, Gap>) {
        match read {
            Ok(items) => self.absorb(name, json!({ "value": items })),
            Err(g) => self.gaps.push(g),
        }
    }

    fn absorb(&mut self, name: &str, body: Value) {
        let text = body.to_string();
        if let Err(e) = crate::world::parse::parse_more(&mut self.world, name, &text) {
            self.gaps.push(Gap {
                resource: name.into(),
                namespace: None,
                needed: "a response widiag can read".into(),
                error: e.to_string(),
            });
        }
    }
}

impl AzureReader {
    async fn token(&self, scope: &str) -> Result<String, Gap> {
        let bound = token_bound(self.timeout);
        let start = std::time::Instant::now();
        let got = match tokio::time::timeout(bound, self.credential.get_token(&[scope], None)).await
        {
            Ok(Ok(t)) => Ok(t.token.secret().to_string()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no token within {}s", bound.as_secs())),
        };
        self.http.transcript.record(
            "Azure credential: token",
            ("TOKEN", scope.into()),
            start,
            got.is_ok().then_some(200),
            got.as_ref().err().cloned(),
        );
        got.map_err(|error| Gap {
            resource: scope.into(),
            namespace: None,
            needed: format!("a token for {scope} (az login, or AZURE_* credentials)"),
            error,
        })
    }

    /// Every page of a list (`nextLink` or `@odata.nextLink`); items only.
    async fn pages(
        &self,
        what: &str,
        first: String,
        bearer: &str,
        needed: String,
    ) -> Result<Vec<Value>, Gap> {
        let mut items = Vec::new();
        let origin = crate::untrusted::destinations::origin(&first);
        let mut next = Some(first);
        // A server that links to itself forever must not hang widiag.
        let mut budget = 1000;
        while let Some(url) = next.take() {
            budget -= 1;
            let gap = |error: String| Gap {
                resource: what.into(),
                namespace: None,
                needed: needed.clone(),
                error,
            };
            // ARM and Graph throttle (429) and fail over (5xx); a read is asked again, bounded.
            // The reader's token follows a nextLink only to the service that sent it.
            if crate::untrusted::destinations::origin(&url) != origin {
                return Err(Gap {
                    needed: "a nextLink on the same service".into(),
                    ..gap(format!(
                        "not followed: the next page is on another host ({url})"
                    ))
                });
            }
            let (reply, attempts) = self
                .http
                .get_retrying(what, &url, Some(bearer))
                .await
                .map_err(|e| Gap {
                    // No answer: a role would not help.
                    needed: "an answer from the service".into(),
                    ..gap(e.to_string())
                })?;
            let body = reply.json().unwrap_or(Value::Null);
            if !reply.ok() {
                let e = &body["error"];
                return Err(gap(format!(
                    "{} {}: {}{}",
                    reply.status,
                    e["code"].as_str().unwrap_or("error"),
                    e["message"].as_str().unwrap_or_default(),
                    crate::net::retry::after_attempts(attempts, reply.retry_after())
                )));
            }
            if let Some(v) = body["value"].as_array() {
                items.extend(v.iter().cloned());
            }
            next = body["nextLink"]
                .as_str()
                .or(body["@odata.nextLink"].as_str())
                .filter(|_| budget > 0)
                .map(str::to_string);
        }
        Ok(items)
    }

    async fn arm_list(
        &self,
        bearer: &str,
        sub: &str,
        (provider_type, wanted): (&str, &Wanted),
        what: &str,
    ) -> Result<Vec<Value>, Gap> {
        let api = match provider_type {
            "Microsoft.ManagedIdentity/userAssignedIdentities" => api::MANAGED_IDENTITY,
            // With identity bindings in play, the preview version that also returns
            // apiServerAccessProfile.enableVnetIntegration, which bindings do not support.
            "Microsoft.ContainerService/managedClusters" if wanted.identity_bindings => {
                api::IDENTITY_BINDINGS
            }
            "Microsoft.ContainerService/managedClusters" => api::MANAGED_CLUSTERS,
            "Microsoft.Kubernetes/connectedClusters" => api::CONNECTED_CLUSTERS,
            "Microsoft.KeyVault/vaults" => api::KEY_VAULT,
            "Microsoft.Storage/storageAccounts" => api::STORAGE_ACCOUNTS,
            _ => api::AUTHORIZATION,
        };
        let url = format!(
            "{}/subscriptions/{sub}/providers/{provider_type}?api-version={api}",
            self.cloud.arm
        );
        let needed = format!("{provider_type}/read on subscription {sub} (Reader)");
        self.pages(what, url, bearer, needed).await
    }

    /// The subscriptions to read: `--subscription`, else every one the caller can list.
    async fn subscriptions(&self, found: &mut Found, arm: &str, wanted: &Wanted) -> Vec<String> {
        if wanted.subscriptions.is_empty() {
            let url = format!(
                "{}/subscriptions?api-version={}",
                self.cloud.arm,
                api::SUBSCRIPTIONS
            );
            match self
                .pages(
                    "list subscriptions",
                    url,
                    arm,
                    "any subscription Reader role".into(),
                )
                .await
            {
                Ok(items) => items
                    .iter()
                    .filter_map(|s| s["subscriptionId"].as_str().map(str::to_string))
                    .collect(),
                Err(g) => {
                    found.gaps.push(g);
                    Vec::new()
                }
            }
        } else {
            wanted.subscriptions.clone()
        }
    }

    /// Clusters, identities, vaults, storage accounts and deny assignments of each subscription.
    async fn resources(&self, found: &mut Found, arm: &str, subs: &[String], wanted: &Wanted) {
        const KINDS: [(&str, &str); 6] = [
            (
                "Microsoft.ManagedIdentity/userAssignedIdentities",
                "list identities",
            ),
            (
                "Microsoft.ContainerService/managedClusters",
                "list clusters",
            ),
            (
                "Microsoft.Kubernetes/connectedClusters",
                "list Arc clusters",
            ),
            ("Microsoft.KeyVault/vaults", "list vaults"),
            ("Microsoft.Storage/storageAccounts", "list storage accounts"),
            (
                "Microsoft.Authorization/denyAssignments",
                "list deny assignments",
            ),
        ];
        let arm_ref = arm;
        let lists = join_all(subs.iter().flat_map(|sub| {
            KINDS.iter().map(move |(ty, what)| async move {
                (*what, self.arm_list(arm_ref, sub, (ty, wanted), what).await)
            })
        }))
        .await;
        for (what, r) in lists {
            // A subscription that never registered the Arc provider has no Arc cluster; ARM
            // refuses the list (MissingSubscriptionRegistration) rather than answer empty.
            let unregistered =
                matches!(&r, Err(g) if g.error.contains("MissingSubscriptionRegistration"));
            if !(what == "list Arc clusters" && unregistered) {
                found.absorb_list(what, r);
            }
        }
    }

    pub async fn collect(&self, wanted: &Wanted) -> (World, Vec<Gap>) {
        let mut found = Found::default();
        let arm = match self.token(&self.cloud.arm_scope()).await {
            Ok(t) => t,
            Err(g) => return (World::default(), vec![g]),
        };
        let subs = self.subscriptions(&mut found, &arm, wanted).await;
        self.resources(&mut found, &arm, &subs, wanted).await;
        if wanted.identity_bindings {
            self.identity_bindings(&mut found, &arm).await;
        }
        self.identity_credentials(&mut found, &arm, wanted).await;
        self.applications(&mut found, wanted).await;
        let graph_gaps = self.group_memberships(&mut found, wanted).await;
        let arm_resolved_groups = self.role_assignments(&mut found, &arm, &subs).await;
        for mut g in graph_gaps {
            // ARM's assignedTo() already expanded the memberships that carry roles; only the
            // groups' names are lost.
            if arm_resolved_groups {
                g.resource = "read group names".into();
            }
            found.gaps.push(g);
        }
        self.custom_roles(&mut found, &arm, &subs).await;
        (found.world, found.gaps)
    }

    /// The identity bindings (preview) of every AKS cluster found: which managed identities the
    /// cluster's identity binding proxy may exchange for.
    async fn identity_bindings(&self, found: &mut Found, arm: &str) {
        let clusters: Vec<String> = found
            .world
            .azure
            .clusters
            .iter()
            .filter(|c| !c.arc)
            .map(|c| c.id.clone())
            .collect();
        let lists = join_all(clusters.iter().map(|id| {
            let url = format!(
                "{}{id}/identityBindings?api-version={}",
                self.cloud.arm,
                api::IDENTITY_BINDINGS
            );
            let needed =
                format!("Microsoft.ContainerService/managedClusters/identityBindings/read on {id}");
            self.pages("list identity bindings", url, arm, needed)
        }))
        .await;
        for r in lists {
            found.absorb_list("list identity bindings", r);
        }
    }

    /// Federated credentials of the identities the pods name.
    async fn identity_credentials(&self, found: &mut Found, arm: &str, wanted: &Wanted) {
        let ids: Vec<String> = found
            .world
            .azure
            .identities
            .iter()
            .filter(|i| {
                i.client_id
                    .as_deref()
                    .is_some_and(|c| wanted.client_ids.contains(&c.to_ascii_lowercase()))
            })
            .map(|i| i.id.clone())
            .collect();
        let lists = join_all(ids.iter().map(|id| {
            let url = format!(
                "{}{id}/federatedIdentityCredentials?api-version={}",
                self.cloud.arm,
                api::MANAGED_IDENTITY
            );
            let needed = format!("Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read on {id}");
            self.pages("list federated credentials", url, arm, needed)
        }))
        .await;
        for r in lists {
            found.absorb_list("list federated credentials", r);
        }
    }

    /// Client IDs that are no user-assigned identity: Entra applications, through Graph.
    async fn applications(&self, found: &mut Found, wanted: &Wanted) {
        let known: BTreeSet<String> = found
            .world
            .azure
            .identities
            .iter()
            .filter_map(|i| i.client_id.as_deref().map(str::to_ascii_lowercase))
            .collect();
        let rest: Vec<&String> = wanted
            .client_ids
            .iter()
            .filter(|c| !known.contains(*c))
            .collect();
        if rest.is_empty() {
            return;
        }
        let graph = match self.token(&self.cloud.graph_scope()).await {
            Ok(t) => t,
            Err(g) => {
                found.gaps.push(g);
                return;
            }
        };
        let lookups = join_all(rest.iter().map(|cid| self.find_application(&graph, cid))).await;
        for lookup in lookups {
            lookup.absorb_into(found);
        }
    }

    /// One client ID in Graph: its application, its service principal, and the application's
    /// federated credentials.
    async fn find_application(&self, graph: &str, cid: &str) -> AppLookup {
        let g = self.cloud.graph;
        let filter = format!("appId eq '{cid}'");
        let q = form_urlencoded::Serializer::new(String::new())
            .append_pair("$filter", &filter)
            .finish();
        let needed = "Application.Read.All (Microsoft Graph)".to_string();
        let apps = self
            .pages(
                "find application",
                format!("{g}/v1.0/applications?{q}"),
                graph,
                needed.clone(),
            )
            .await;
        let sps = self
            .pages(
                "find service principal",
                format!("{g}/v1.0/servicePrincipals?{q}"),
                graph,
                needed.clone(),
            )
            .await;
        let mut fics = Vec::new();
        if let Ok(apps) = &apps {
            for a in apps {
                let (Some(oid), Some(app_id)) = (a["id"].as_str(), a["appId"].as_str()) else {
                    continue;
                };
                let url = format!("{g}/v1.0/applications/{oid}/federatedIdentityCredentials");
                fics.push((
                    app_id.to_string(),
                    self.pages("list application credentials", url, graph, needed.clone())
                        .await,
                ));
            }
        }
        AppLookup { apps, sps, fics }
    }

    /// The custom role definitions of every subscription read: what a custom role assigned to
    /// an identity permits (built-in roles are known without asking).
    async fn custom_roles(&self, found: &mut Found, arm: &str, subs: &[String]) {
        let lists = join_all(subs.iter().map(|sub| {
            let q = form_urlencoded::Serializer::new(String::new())
                .append_pair("api-version", api::AUTHORIZATION)
                .append_pair("$filter", "type eq 'CustomRole'")
                .finish();
            let url = format!(
                "{}/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions?{q}",
                self.cloud.arm
            );
            let needed =
                format!("Microsoft.Authorization/roleDefinitions/read on subscription {sub}");
            self.pages("list role definitions", url, arm, needed)
        }))
        .await;
        for r in lists {
            found.absorb_list("list role definitions", r);
        }
    }

    /// The groups the pods' identities belong to, transitively (Graph `transitiveMemberOf`):
    /// role assignments to a group reach its members. Returns what Graph would not answer.
    async fn group_memberships(&self, found: &mut Found, wanted: &Wanted) -> Vec<Gap> {
        let az = &found.world.azure;
        let principals: BTreeSet<String> = az
            .identities
            .iter()
            .filter(|i| {
                i.client_id
                    .as_deref()
                    .is_some_and(|c| wanted.client_ids.contains(&c.to_ascii_lowercase()))
            })
            .filter_map(|i| i.principal_id.clone())
            .chain(az.service_principals.iter().map(|s| s.id.clone()))
            // Only GUIDs go into the URL.
            .filter(|p| crate::untrusted::grammar::guid(p))
            .collect();
        if principals.is_empty() {
            return Vec::new();
        }
        let graph = match self.token(&self.cloud.graph_scope()).await {
            Ok(t) => t,
            Err(g) => return vec![g],
        };
        let g = self.cloud.graph;
        let graph = graph.as_str();
        let lists = join_all(principals.iter().map(|p| {
            let url = format!(
                "{g}/v1.0/servicePrincipals/{p}/transitiveMemberOf/microsoft.graph.group?$select=id,displayName"
            );
            let needed = "GroupMember.Read.All (Microsoft Graph)".to_string();
            async move {
                let r = self.pages("list group memberships", url, graph, needed).await;
                (p, r)
            }
        }))
        .await;
        // One document per group, whichever principals it was found for.
        let mut groups: BTreeMap<String, (Value, BTreeSet<String>)> = BTreeMap::new();
        let mut gaps = Vec::new();
        for (p, r) in lists {
            match r {
                Ok(items) => {
                    for g in items {
                        let Some(id) = g["id"].as_str().map(str::to_ascii_lowercase) else {
                            continue;
                        };
                        let entry = groups
                            .entry(id)
                            .or_insert_with(|| (g["displayName"].clone(), BTreeSet::new()));
                        entry.1.insert(p.clone());
                    }
                }
                Err(gap) => gaps.push(gap),
            }
        }
        let docs: Vec<Value> = groups
            .into_iter()
            .map(|(id, (name, members))| {
                json!({
                    "@odata.type": "#microsoft.graph.group",
                    "id": id,
                    "displayName": name,
                    "members": members.iter().map(|m| json!({ "id": m })).collect::<Vec<_>>(),
                })
            })
            .collect();
        if !docs.is_empty() {
            found.absorb("list group memberships", json!({ "value": docs }));
        }
        gaps
    }

    /// Role assignments of every identity found, in every subscription read, with ARM's
    /// `assignedTo()` filter: the principal's own and those of every group it belongs to,
    /// transitively (learn.microsoft.com/azure/role-based-access-control/role-assignments-list-rest).
    /// A group assignment so listed is a membership even when Graph cannot be read. True when
    /// every list was read.
    async fn role_assignments(&self, found: &mut Found, arm: &str, subs: &[String]) -> bool {
        let az = &found.world.azure;
        let principals: BTreeSet<String> = az
            .identities
            .iter()
            .filter_map(|i| i.principal_id.clone())
            .chain(az.service_principals.iter().map(|s| s.id.clone()))
            .map(|p| p.to_ascii_lowercase())
            // Only GUIDs go into the filter.
            .filter(|p| crate::untrusted::grammar::guid(p))
            .collect();
        let lists = join_all(subs.iter().flat_map(|sub| {
            principals.iter().map(move |p| {
                let q = form_urlencoded::Serializer::new(String::new())
                    .append_pair("api-version", api::AUTHORIZATION)
                    .append_pair("$filter", &format!("assignedTo('{p}')"))
                    .finish();
                let url = format!(
                    "{}/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments?{q}",
                    self.cloud.arm
                );
                let needed =
                    format!("Microsoft.Authorization/roleAssignments/read on subscription {sub}");
                async move {
                    let r = self.pages("list role assignments", url, arm, needed).await;
                    (sub, p, r)
                }
            })
        }))
        .await;
        let mut all_read = !principals.is_empty();
        let mut seen = BTreeSet::new();
        for (sub, p, r) in lists {
            let items = match r {
                Ok(items) => items,
                Err(g) => {
                    all_read = false;
                    found.gaps.push(g);
                    continue;
                }
            };
            memberships_from_assignments(&mut found.world.azure.groups, p, &items);
            // Two identities in one group are both listed its assignments: keep one of each.
            let items: Vec<Value> = items
                .into_iter()
                .filter(|a| seen.insert(a["id"].as_str().unwrap_or_default().to_ascii_lowercase()))
                .collect();
            let above = management_groups_above(sub, &items);
            found.absorb("list role assignments", json!({ "value": items }));
            if !above.is_empty() {
                found.absorb("list role assignments", json!({ "value": above }));
            }
        }
        all_read
    }
}

/// The groups `principal` belongs to, as ARM's `assignedTo(principal)` shows them: every listed
/// assignment naming another principal names one of its groups (directly or through others).
/// Recorded as a direct membership, which is all the analysis needs of it.
fn memberships_from_assignments(
    groups: &mut Vec<crate::world::azure::Group>,
    principal: &str,
    assignments: &[Value],
) {
    for a in assignments {
        let Some(holder) = a["properties"]["principalId"]
            .as_str()
            .or(a["principalId"].as_str())
            .filter(|h| !h.eq_ignore_ascii_case(principal))
            .filter(|h| crate::untrusted::grammar::guid(h))
        else {
            continue;
        };
        match groups
            .iter_mut()
            .find(|g| g.id.eq_ignore_ascii_case(holder))
        {
            Some(g) if g.members.iter().any(|m| m.eq_ignore_ascii_case(principal)) => {}
            Some(g) => g.members.push(principal.to_string()),
            None => groups.push(crate::world::azure::Group {
                id: holder.to_ascii_lowercase(),
                display_name: None,
                members: vec![principal.to_string()],
            }),
        }
    }
}

/// The management groups an assignment listed at subscription `sub` sits at: ARM lists with a
/// principal filter "at, above or below the scope", so each is above the subscription. Recorded
/// as a management group holding it, so the analysis sees the inheritance.
fn management_groups_above(sub: &str, assignments: &[Value]) -> Vec<Value> {
    const MG: &str = "/providers/microsoft.management/managementgroups/";
    let scopes: BTreeSet<String> = assignments
        .iter()
        .filter_map(|a| {
            a["properties"]["scope"]
                .as_str()
                .or(a["scope"].as_str())
                .map(str::to_string)
        })
        .filter(|s| s.to_ascii_lowercase().starts_with(MG))
        .collect();
    scopes
        .into_iter()
        .map(|scope| {
            let name = scope.rsplit('/').next().unwrap_or_default().to_string();
            json!({
                "id": scope,
                "name": name,
                "type": "Microsoft.Management/managementGroups",
                "properties": { "children": [{ "id": format!("/subscriptions/{sub}"), "type": "/subscriptions" }] },
            })
        })
        .collect()
}

/// What Graph answered for one client ID; each part a gap when it could not be read.
struct AppLookup {
    apps: Result<Vec<Value>, Gap>,
    sps: Result<Vec<Value>, Gap>,
    /// (appId, its federated credentials).
    fics: Vec<(String, Result<Vec<Value>, Gap>)>,
}

impl AppLookup {
    fn absorb_into(self, found: &mut Found) {
        for (r, ty) in [
            (self.apps, "#microsoft.graph.application"),
            (self.sps, "#microsoft.graph.servicePrincipal"),
        ] {
            match r {
                Ok(items) => {
                    let typed: Vec<Value> = items
                        .into_iter()
                        .map(|mut i| {
                            i["@odata.type"] = json!(ty);
                            i
                        })
                        .collect();
                    found.absorb(ty, json!({ "value": typed }));
                }
                Err(g) => found.gaps.push(g),
            }
        }
        for (app_id, r) in self.fics {
            match r {
            Ok(items) => found.absorb(
                "application credentials",
                json!({"apiVersion": crate::world::WIDIAG_API_VERSION, "kind": "FederatedCredentialList",
                       "application": app_id, "items": items}),
            ),
            Err(g) => found.gaps.push(g),
        }
        }
    }
}
