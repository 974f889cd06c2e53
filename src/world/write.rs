//! A world back into the documents of a world file: the inverse of [`super::parse`].
//! Kubernetes objects as the API server prints them, Azure resources in ARM and Microsoft
//! Graph shapes, facts as widiag's own kinds. Reading the output gives the same analysis.

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::azure::{
    AccessPolicy, Application, CredentialOwner, DenyAssignment, FederatedCredential, Group,
    KeyVault, ManagedCluster, ManagedIdentity, ManagementGroup, NetworkAcls, RoleAssignment,
    RoleDefinition, RolePermissions, ServicePrincipal, StorageAccount,
};
use super::{WIDIAG_API_VERSION, World};

/// Every document of `world`, in the order a reader expects: widiag's header first, then
/// Kubernetes, Azure and captured facts.
pub fn documents(world: &World) -> Vec<Value> {
    let mut out = Vec::new();
    out.push(widiag("WorldInfo", &world.info));
    kube(world, &mut out);
    azure(world, &mut out);
    let f = &world.facts;
    out.extend(f.issuers.iter().map(|x| widiag("IssuerDiscovery", x)));
    out.extend(f.tokens.iter().map(|x| widiag("CapturedToken", x)));
    out.extend(f.exchanges.iter().map(|x| widiag("TokenExchange", x)));
    out.extend(f.probes.iter().map(|x| widiag("ResourceProbe", x)));
    out.extend(f.gaps.iter().map(|x| widiag("CollectionGap", x)));
    out.extend(world.extensions.iter().map(|x| widiag(&x.kind, &x.value)));
    out
}

/// The documents as one YAML stream (`---` between documents).
pub fn to_yaml(docs: &[Value]) -> Result<String, serde_saphyr::SerializeError> {
    let mut out = String::new();
    for d in docs {
        push_document(&mut out, d)?;
    }
    Ok(out)
}

/// Appends one YAML document (`---`, the document, a final newline) to a stream.
pub fn push_document(
    out: &mut String,
    doc: &impl Serialize,
) -> Result<(), serde_saphyr::SerializeError> {
    out.push_str("---\n");
    out.push_str(&serde_saphyr::to_string(doc)?);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(())
}

fn widiag(kind: &str, body: &impl Serialize) -> Value {
    let mut doc = Map::new();
    doc.insert("apiVersion".into(), WIDIAG_API_VERSION.into());
    doc.insert("kind".into(), kind.into());
    if let Ok(Value::Object(fields)) = serde_json::to_value(body) {
        doc.extend(fields);
    }
    Value::Object(doc)
}

fn kube(world: &World, out: &mut Vec<Value>) {
    fn all<T: Serialize>(items: &[T], out: &mut Vec<Value>) {
        out.extend(items.iter().filter_map(|i| serde_json::to_value(i).ok()));
    }
    let k = &world.kube;
    all(&k.namespaces, out);
    all(&k.mutating_webhooks, out);
    all(&k.cluster_roles, out);
    all(&k.cluster_role_bindings, out);
    all(&k.nodes, out);
    all(&k.config_maps, out);
    all(&k.services, out);
    all(&k.deployments, out);
    all(&k.replica_sets, out);
    all(&k.stateful_sets, out);
    all(&k.daemon_sets, out);
    all(&k.cron_jobs, out);
    all(&k.jobs, out);
    all(&k.service_accounts, out);
    all(&k.pods, out);
    all(&k.events, out);
}

fn azure(world: &World, out: &mut Vec<Value>) {
    let az = &world.azure;
    out.extend(az.clusters.iter().map(cluster));
    out.extend(az.identities.iter().map(identity));
    let mut by_app: Vec<(&str, Vec<&FederatedCredential>)> = Vec::new();
    for f in &az.federated_credentials {
        match &f.owner {
            CredentialOwner::Identity(parent) => out.push(identity_fic(parent, f)),
            CredentialOwner::Application(app) => match by_app.iter_mut().find(|(a, _)| a == app) {
                Some((_, list)) => list.push(f),
                None => by_app.push((app, vec![f])),
            },
        }
    }
    for app in &az.applications {
        // Inline only under the appId the parser gives inline credentials, so owners survive.
        let fics = by_app
            .iter()
            .position(|(a, _)| *a == app.app_id)
            .map(|i| by_app.remove(i).1)
            .unwrap_or_default();
        out.push(application(app, &fics));
    }
    for (app, fics) in by_app {
        out.push(json!({
            "apiVersion": WIDIAG_API_VERSION,
            "kind": "FederatedCredentialList",
            "application": app,
            "items": fics.iter().map(|f| graph_fic(f)).collect::<Vec<_>>(),
        }));
    }
    out.extend(az.service_principals.iter().map(service_principal));
    out.extend(az.vaults.iter().map(vault));
    out.extend(az.storage_accounts.iter().map(storage));
    out.extend(az.role_assignments.iter().map(role_assignment));
    out.extend(az.groups.iter().map(group));
    out.extend(az.management_groups.iter().map(management_group));
    out.extend(az.role_definitions.iter().map(role_definition));
    out.extend(az.deny_assignments.iter().map(deny_assignment));
    out.extend(az.identity_bindings.iter().map(identity_binding));
}

fn identity_binding(b: &crate::world::azure::IdentityBinding) -> Value {
    arm(
        &b.id,
        &b.name,
        "Microsoft.ContainerService/managedClusters/identityBindings",
        None,
        json!({
            "managedIdentity": {
                "resourceId": b.identity_id, "clientId": b.client_id,
                "objectId": b.object_id, "tenantId": b.tenant_id,
            },
            "oidcIssuer": { "oidcIssuerUrl": b.issuer_url },
            "provisioningState": b.provisioning_state,
        }),
    )
}

/// `{id, name, type, location, properties}` with absent values left out, as ARM prints them.
fn arm(id: &str, name: &str, ty: &str, location: Option<&str>, properties: Value) -> Value {
    let mut doc = json!({ "id": id, "name": name, "type": ty, "properties": prune(properties) });
    if let Some(l) = location {
        doc["location"] = l.into();
    }
    doc
}

/// Drops nulls, so an absent field stays absent after a round trip.
fn prune(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, prune(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(prune).collect()),
        other => other,
    }
}

fn cluster(c: &ManagedCluster) -> Value {
    let (ty, issuer_key) = match (c.arc, c.self_hosted_issuer) {
        (false, _) => ("Microsoft.ContainerService/managedClusters", "issuerURL"),
        (true, false) => ("Microsoft.Kubernetes/connectedClusters", "issuerUrl"),
        (true, true) => (
            "Microsoft.Kubernetes/connectedClusters",
            "selfHostedIssuerUrl",
        ),
    };
    arm(
        &c.id,
        &c.name,
        ty,
        c.location.as_deref(),
        json!({
            "kubernetesVersion": c.kubernetes_version,
            "apiServerAccessProfile": c.api_server_vnet_integration.then(|| json!({ "enableVnetIntegration": true })),
            "oidcIssuerProfile": { "enabled": c.oidc_issuer_enabled, (issuer_key): c.issuer_url },
            "securityProfile": { "workloadIdentity": { "enabled": c.workload_identity_enabled } },
        }),
    )
}

fn identity(i: &ManagedIdentity) -> Value {
    arm(
        &i.id,
        &i.name,
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        i.location.as_deref(),
        json!({ "tenantId": i.tenant_id, "principalId": i.principal_id, "clientId": i.client_id }),
    )
}

fn fic_properties(f: &FederatedCredential) -> Value {
    json!({
        "issuer": f.issuer,
        "subject": f.subject,
        "audiences": f.audiences,
        "claimsMatchingExpression": f.claims_matching_expression.as_ref().map(|v| json!({ "value": v })),
    })
}

fn identity_fic(parent: &str, f: &FederatedCredential) -> Value {
    // The parser learns the owner from the id, so it must name the parent identity.
    let id = if f.id.is_empty() {
        format!("{parent}/federatedIdentityCredentials/{}", f.name)
    } else {
        f.id.clone()
    };
    arm(
        &id,
        &f.name,
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
        None,
        fic_properties(f),
    )
}

fn graph_fic(f: &FederatedCredential) -> Value {
    let mut v = fic_properties(f);
    v["name"] = f.name.clone().into();
    if !f.id.is_empty() {
        v["id"] = f.id.clone().into();
    }
    prune(v)
}

fn application(a: &Application, fics: &[&FederatedCredential]) -> Value {
    prune(json!({
        "@odata.type": "#microsoft.graph.application",
        "id": a.id,
        "appId": a.app_id,
        "displayName": a.display_name,
        "signInAudience": a.sign_in_audience,
        "federatedIdentityCredentials": fics.iter().map(|f| graph_fic(f)).collect::<Vec<_>>(),
    }))
}

fn permissions(ps: &[RolePermissions]) -> Vec<Value> {
    ps.iter()
        .map(|p| {
            json!({
                "actions": p.actions,
                "notActions": p.not_actions,
                "dataActions": p.data_actions,
                "notDataActions": p.not_data_actions,
            })
        })
        .collect()
}

fn deny_assignment(d: &DenyAssignment) -> Value {
    let ids = |v: &[String]| v.iter().map(|id| json!({ "id": id })).collect::<Vec<_>>();
    arm(
        &d.id,
        d.id.rsplit('/').next().unwrap_or_default(),
        "Microsoft.Authorization/denyAssignments",
        None,
        json!({
            "denyAssignmentName": d.name,
            "scope": d.scope,
            "permissions": permissions(&d.permissions),
            "principals": ids(&d.principals),
            "excludePrincipals": ids(&d.exclude_principals),
            "doNotApplyToChildScopes": d.do_not_apply_to_child_scopes,
        }),
    )
}

fn role_definition(d: &RoleDefinition) -> Value {
    arm(
        &d.id,
        &d.guid,
        "Microsoft.Authorization/roleDefinitions",
        None,
        json!({
            "roleName": d.role_name,
            "type": d.role_type,
            "permissions": permissions(&d.permissions),
        }),
    )
}

fn management_group(m: &ManagementGroup) -> Value {
    let name = m.id.rsplit('/').next().unwrap_or_default();
    let children: Vec<Value> = m
        .children
        .iter()
        .map(|c| {
            let ty = if c.to_ascii_lowercase().starts_with("/subscriptions/") {
                "/subscriptions"
            } else {
                "Microsoft.Management/managementGroups"
            };
            json!({ "id": c, "type": ty })
        })
        .collect();
    arm(
        &m.id,
        name,
        "Microsoft.Management/managementGroups",
        None,
        json!({
            "displayName": m.display_name,
            "details": m.parent.as_ref().map(|p| json!({ "parent": { "id": p } })),
            "children": children,
        }),
    )
}

fn group(g: &Group) -> Value {
    prune(json!({
        "@odata.type": "#microsoft.graph.group",
        "id": g.id,
        "displayName": g.display_name,
        "members": g.members.iter().map(|m| json!({ "id": m })).collect::<Vec<_>>(),
    }))
}

fn service_principal(s: &ServicePrincipal) -> Value {
    prune(json!({
        "@odata.type": "#microsoft.graph.servicePrincipal",
        "id": s.id,
        "appId": s.app_id,
        "displayName": s.display_name,
        "appOwnerOrganizationId": s.app_owner_organization_id,
        "accountEnabled": s.account_enabled,
    }))
}

fn network_acls(n: &NetworkAcls) -> Value {
    json!({
        "defaultAction": n.default_action,
        "bypass": n.bypass,
        "ipRules": n.ip_rules.iter().map(|v| json!({ "value": v })).collect::<Vec<_>>(),
        "virtualNetworkRules": n.virtual_network_rules.iter().map(|id| json!({ "id": id })).collect::<Vec<_>>(),
    })
}

/// Approved connections, as ARM lists them; none is left out, as a resource without any has it.
fn private_endpoints(ids: &[String]) -> Option<Vec<Value>> {
    (!ids.is_empty()).then(|| {
        ids.iter()
            .map(|id| {
                json!({ "properties": {
                    "privateEndpoint": { "id": id },
                    "privateLinkServiceConnectionState": { "status": "Approved" },
                }})
            })
            .collect()
    })
}

fn access_policy(p: &AccessPolicy) -> Value {
    json!({
        "tenantId": p.tenant_id,
        "objectId": p.object_id,
        "applicationId": p.application_id,
        "permissions": { "secrets": p.secrets, "keys": p.keys, "certificates": p.certificates },
    })
}

fn vault(v: &KeyVault) -> Value {
    arm(
        &v.id,
        &v.name,
        "Microsoft.KeyVault/vaults",
        v.location.as_deref(),
        json!({
            "tenantId": v.tenant_id,
            "vaultUri": v.vault_uri,
            "enableRbacAuthorization": v.rbac_authorization,
            "accessPolicies": v.access_policies.iter().map(access_policy).collect::<Vec<_>>(),
            "publicNetworkAccess": v.public_network_access,
            "networkAcls": v.network_acls.as_ref().map(network_acls),
            "privateEndpointConnections": private_endpoints(&v.private_endpoints),
        }),
    )
}

fn storage(s: &StorageAccount) -> Value {
    arm(
        &s.id,
        &s.name,
        "Microsoft.Storage/storageAccounts",
        s.location.as_deref(),
        json!({
            "primaryEndpoints": { "blob": s.blob_endpoint },
            "publicNetworkAccess": s.public_network_access,
            "networkAcls": s.network_acls.as_ref().map(network_acls),
            "privateEndpointConnections": private_endpoints(&s.private_endpoints),
        }),
    )
}

fn role_assignment(r: &RoleAssignment) -> Value {
    let name = r.id.rsplit('/').next().unwrap_or_default();
    arm(
        &r.id,
        name,
        "Microsoft.Authorization/roleAssignments",
        None,
        json!({
            "principalId": r.principal_id,
            "principalType": r.principal_type,
            "roleDefinitionId": r.role_definition_id,
            "roleDefinitionName": r.role_definition_name,
            "scope": r.scope,
            "condition": r.condition,
            "conditionVersion": r.condition_version,
        }),
    )
}
