//! The lab's Azure Resource Manager (`management.azure.com`) and Microsoft Graph
//! (`graph.microsoft.com`): the read endpoints widiag and `az` use to find identities, their
//! federated credentials, vaults, storage accounts and role assignments, rendered from the
//! world in the wire shapes of wire-protocols.md §6, with absolute `nextLink` paging.

use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::arm_reads::{self, Caller};
use super::keys::SigningKey;
use crate::world::World;
use crate::world::azure::*;

/// Small on purpose: every lab client pages.
pub const PAGE: usize = 3;
const ARM_HOST: &str = "https://management.azure.com";
/// The audience of `https://management.core.windows.net//.default`, the Azure CLI's ARM scope.
const ARM_CLASSIC_AUDIENCE: &str = "https://management.core.windows.net";
const GRAPH_HOST: &str = "https://graph.microsoft.com";

pub(super) fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [
            ("content-type", "application/json; charset=utf-8"),
            ("x-ms-request-id", "00000000-0000-4000-8000-00000000a7b1"),
        ],
        body.to_string(),
    )
        .into_response()
}

/// `LabBehaviour.azureDenied`: the reader lacks RBAC on these resource types, as ARM says it.
fn denied_arm(denied: &[String], path: &str) -> Option<Response> {
    let lower = path.to_ascii_lowercase();
    let kind = denied
        .iter()
        .find(|d| lower.contains(&format!("/{}", d.to_ascii_lowercase())))?;
    let scope = path.split("/providers/").next().unwrap_or(path);
    Some(arm_error(
        StatusCode::FORBIDDEN,
        "AuthorizationFailed",
        format!(
            "The client has no authorization to perform action '{kind}/read' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials."
        ),
    ))
}

pub(super) fn arm_error(status: StatusCode, code: &str, message: String) -> Response {
    json_response(status, json!({"error": {"code": code, "message": message}}))
}

/// ARM or Graph throttling a read (429) or failing it (5xx), worded as each does, with
/// `Retry-After` (`LabBehaviour.azureReads`).
pub fn throttled(host: &str, t: &crate::lab::behaviour::Throttle) -> Response {
    let code = StatusCode::from_u16(t.status).unwrap_or(StatusCode::TOO_MANY_REQUESTS);
    let after = t.retry_after;
    let graph = host == "graph.microsoft.com";
    let r = match (graph, code, &t.message) {
        // A planted message in place of the service's own words.
        (true, _, Some(m)) => graph_error(code, "serviceNotAvailable", m),
        (false, _, Some(m)) => arm_error(code, "ServiceUnavailable", m.clone()),
        (true, StatusCode::TOO_MANY_REQUESTS, None) => graph_error(
            code,
            "TooManyRequests",
            "Too many requests. Please retry after the time in the Retry-After header.",
        ),
        (true, _, None) => graph_error(
            code,
            "serviceNotAvailable",
            "The service is temporarily unavailable.",
        ),
        (false, StatusCode::TOO_MANY_REQUESTS, None) => arm_error(
            code,
            "SubscriptionRequestsThrottled",
            format!(
                "Number of 'read' requests for subscription exceeded. Please try again after '{after}' seconds."
            ),
        ),
        (false, StatusCode::SERVICE_UNAVAILABLE, None) => arm_error(
            code,
            "ServiceUnavailable",
            "The service is temporarily unavailable; retry the request.".into(),
        ),
        _ => arm_error(
            code,
            "InternalServerError",
            "The server encountered an internal error; retry the request.".into(),
        ),
    };
    super::throttle::with_retry_after(r, t)
}

/// The bearer's claims, or the message ARM and Graph give for rejecting it.
fn bearer(entra_key: &SigningKey, headers: &HeaderMap, audience: &str) -> Result<Value, String> {
    use super::bearer::Rejected;
    super::bearer::access_claims(entra_key, headers, audience).map_err(|r| match r {
        Rejected::Missing => "Authentication failed. The 'Authorization' header is missing.".into(),
        Rejected::Signature => "The access token has an invalid signature.".into(),
        Rejected::Malformed => "The access token is malformed.".into(),
        Rejected::Audience => {
            format!("The access token has an invalid audience; expected '{audience}'.")
        }
        Rejected::Expired => "The access token has expired.".into(),
    })
}

pub(super) fn query_param(query: &str, key: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// One page of `items` from `$skiptoken`, with an absolute nextLink back to `base_url`.
fn page(items: Vec<Value>, query: &str, base_url: &str, link_key: &str) -> Value {
    let skip: usize = query_param(query, "$skiptoken")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let total = items.len();
    let value: Vec<Value> = items.into_iter().skip(skip).take(PAGE).collect();
    let mut body = json!({ "value": value });
    if skip + PAGE < total {
        let mut next: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .filter(|(k, _)| k != "$skiptoken")
            .collect();
        next.push(("$skiptoken".into(), (skip + PAGE).to_string()));
        let q = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(next)
            .finish();
        body[link_key] = json!(format!("{base_url}?{q}"));
    }
    body
}

fn in_sub(id: &str, sub: &str) -> bool {
    arm_segment(id, "subscriptions").is_some_and(|s| s.eq_ignore_ascii_case(sub))
}

/// One read of ARM or Graph, with what the lab serves it from.
#[derive(Clone, Copy)]
pub struct Read<'a> {
    pub world: &'a World,
    /// `LabBehaviour.azureDenied`.
    pub denied: &'a [String],
    pub entra_key: &'a SigningKey,
    pub method: &'a Method,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    /// The request body (Graph's `directoryObjects/getByIds` is a read sent as a POST).
    pub body: &'a [u8],
    /// The object id of the lab's reader principal (Reader over every scope).
    pub reader: &'a str,
    /// The object id of the lab's operator principal (Owner over every scope, for fix tests).
    pub operator: &'a str,
}

impl Read<'_> {
    /// Whether `oid` is one of the lab's own principals, which may read everything.
    pub(super) fn is_lab_principal(&self, oid: &str) -> bool {
        oid.eq_ignore_ascii_case(self.reader) || oid.eq_ignore_ascii_case(self.operator)
    }
}

pub fn handle_arm(read: Read<'_>) -> Response {
    let Read {
        world, path, query, ..
    } = read;
    let oid = match arm_refusal(read) {
        Ok(oid) => oid,
        Err(refusal) => return *refusal,
    };
    let caller = Caller {
        world,
        reader: read.is_lab_principal(&oid),
        oid,
    };
    let segs: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .map(str::to_ascii_lowercase)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    if let Some(one) = by_id(&caller, path, &segs) {
        return one;
    }
    match arm_list(&caller, path, query, &segs) {
        Ok(items) => json_response(
            StatusCode::OK,
            page(items, query, &format!("{ARM_HOST}{path}"), "nextLink"),
        ),
        Err(refusal) => *refusal,
    }
}

/// The items of an ARM list, those the caller may read; Err for a path the lab does not serve
/// or a subscription the caller holds no role in.
fn arm_list(
    caller: &Caller<'_>,
    path: &str,
    query: &str,
    segs: &[&str],
) -> Result<Vec<Value>, Box<Response>> {
    let az = &caller.world.azure;
    if let ["subscriptions", sub, ..] = segs
        && segs.len() > 2
        && !caller.in_subscription(sub)
    {
        return Err(Box::new(caller.refused(path)));
    }
    let readable = |items: Vec<Value>| -> Vec<Value> {
        items
            .into_iter()
            .filter(|v| v["id"].as_str().is_some_and(|id| caller.may_read(id)))
            .collect()
    };
    let filter = query_param(query, "$filter");
    let items = match segs {
        ["subscriptions"] => subscriptions(caller.world)
            .into_iter()
            .filter(|s| {
                s["subscriptionId"]
                    .as_str()
                    .is_some_and(|s| caller.in_subscription(s))
            })
            .collect(),
        ["subscriptions", sub, "resources"] => {
            arm_reads::resources(caller, sub, None, filter.as_deref())?
        }
        ["subscriptions", sub, "resourcegroups", rg, "resources"] => {
            arm_reads::resources(caller, sub, Some(rg), filter.as_deref())?
        }
        ["subscriptions", sub, "resourcegroups"] => arm_reads::resource_groups(caller, sub),
        [
            ..,
            "providers",
            "microsoft.authorization",
            "roleassignments",
        ] => {
            let scope = &path[..path.to_ascii_lowercase().rfind("/providers/").unwrap_or(0)];
            role_assignments_at(az, scope, query)
                .into_iter()
                .filter(|a| caller.may_read(&a.id))
                .map(|a| role_assignment(a, subscription_of(segs)))
                .collect()
        }
        [
            ..,
            "providers",
            "microsoft.authorization",
            "roledefinitions",
        ] => role_definitions(az, subscription_of(segs), query),
        ["subscriptions", sub, "providers", provider, kind] => readable(
            provider_resources(az, sub, &format!("{provider}/{kind}"), query)
                .ok_or_else(|| Box::new(not_found(path)))?,
        ),
        [
            "subscriptions",
            sub,
            "resourcegroups",
            rg,
            "providers",
            provider,
            kind,
        ] => readable(
            provider_resources(az, sub, &format!("{provider}/{kind}"), query)
                .ok_or_else(|| Box::new(not_found(path)))?,
        )
        .into_iter()
        .filter(|v| {
            v["id"].as_str().is_some_and(|id| {
                id.to_ascii_lowercase()
                    .contains(&format!("/resourcegroups/{rg}/"))
            })
        })
        .collect(),
        _ => return child_list(caller, path, segs),
    };
    Ok(items)
}

/// The child collections of one resource: an identity's federated credentials, a cluster's
/// identity bindings.
fn child_list(caller: &Caller<'_>, path: &str, segs: &[&str]) -> Result<Vec<Value>, Box<Response>> {
    let az = &caller.world.azure;
    Ok(match segs {
        [.., "federatedidentitycredentials"] | [.., "identitybindings"]
            if !caller.may_read(path) =>
        {
            return Err(Box::new(caller.refused(path)));
        }
        [
            "subscriptions",
            _,
            "resourcegroups",
            _,
            "providers",
            "microsoft.managedidentity",
            "userassignedidentities",
            name,
            "federatedidentitycredentials",
        ] => {
            let identity_id = path
                .trim_end_matches('/')
                .rsplit_once('/')
                .map(|(p, _)| p)
                .unwrap_or_default();
            identity_credentials(az, identity_id).ok_or_else(|| {
                Box::new(arm_error(
                    StatusCode::NOT_FOUND,
                    "ResourceNotFound",
                    format!(
                        "The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/{name}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
                    ),
                ))
            })?
        }
        [
            "subscriptions",
            _,
            "resourcegroups",
            _,
            "providers",
            "microsoft.containerservice",
            "managedclusters",
            _,
            "identitybindings",
        ] => cluster_bindings(az, path).ok_or_else(|| Box::new(not_found(path)))?,
        _ => return Err(Box::new(not_found(path))),
    })
}

/// Why ARM would not serve this read at all: the bearer, `LabBehaviour.azureDenied`, a write,
/// or a missing api-version. ARM checks them in this order.
fn arm_refusal(read: Read<'_>) -> Result<String, Box<Response>> {
    let oid = arm_caller(read)?;
    if read.method != Method::GET {
        return Err(Box::new(arm_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("The lab's ARM serves no {} here.", read.method),
        )));
    }
    Ok(oid)
}

/// The caller's object id, or why ARM refuses the request before looking at what it asks:
/// the bearer, `LabBehaviour.azureDenied`, a missing api-version.
pub(super) fn arm_caller(read: Read<'_>) -> Result<String, Box<Response>> {
    let Read {
        denied,
        entra_key,
        path,
        query,
        headers,
        ..
    } = read;
    // ARM takes tokens for either of its audiences (the Azure CLI asks for the classic one).
    let arm = bearer(entra_key, headers, ARM_HOST)
        .or_else(|e| bearer(entra_key, headers, ARM_CLASSIC_AUDIENCE).map_err(|_| e));
    let claims = match arm {
        Ok(claims) => claims,
        Err(m) => {
            let mut r = arm_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", m);
            let challenge = "Bearer authorization_uri=\"https://login.microsoftonline.com/common\", error=\"invalid_token\"";
            r.headers_mut().insert(
                "www-authenticate",
                challenge.parse().expect("static header"),
            );
            return Err(Box::new(r));
        }
    };
    if let Some(refusal) = denied_arm(denied, path) {
        return Err(Box::new(refusal));
    }
    if query_param(query, "api-version").is_none() {
        return Err(Box::new(arm_error(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.".into(),
        )));
    }
    Ok(claims["oid"].as_str().unwrap_or_default().to_string())
}

/// `/subscriptions/{sub}/providers/{provider}/{kind}`: the world's resources of that type in the
/// subscription; None for a type the lab does not serve.
fn provider_resources(az: &AzureObjects, sub: &str, ty: &str, query: &str) -> Option<Vec<Value>> {
    Some(match ty {
        "microsoft.managedidentity/userassignedidentities" => az
            .identities
            .iter()
            .filter(|i| in_sub(&i.id, sub))
            .map(identity)
            .collect(),
        "microsoft.containerservice/managedclusters" => az
            .clusters
            .iter()
            .filter(|c| !c.arc && in_sub(&c.id, sub))
            .map(cluster)
            .collect(),
        "microsoft.kubernetes/connectedclusters" => az
            .clusters
            .iter()
            .filter(|c| c.arc && in_sub(&c.id, sub))
            .map(cluster)
            .collect(),
        "microsoft.keyvault/vaults" => az
            .vaults
            .iter()
            .filter(|v| in_sub(&v.id, sub))
            .map(vault)
            .collect(),
        "microsoft.storage/storageaccounts" => az
            .storage_accounts
            .iter()
            .filter(|s| in_sub(&s.id, sub))
            .map(storage)
            .collect(),
        "microsoft.authorization/denyassignments" => az
            .deny_assignments
            .iter()
            .filter(|d| in_sub(&d.scope, sub))
            .map(deny_assignment)
            .collect(),
        "microsoft.authorization/roledefinitions" => role_definitions(az, sub, query),
        _ => return None,
    })
}

/// The federated credentials of a user-assigned identity; None when the identity does not exist.
fn identity_credentials(az: &AzureObjects, identity_id: &str) -> Option<Vec<Value>> {
    let owned = |f: &&FederatedCredential| matches!(&f.owner, CredentialOwner::Identity(o) if o.eq_ignore_ascii_case(identity_id));
    let exists = az
        .identities
        .iter()
        .any(|i| i.id.eq_ignore_ascii_case(identity_id));
    exists.then(|| {
        az.federated_credentials
            .iter()
            .filter(owned)
            .map(arm_fic)
            .collect()
    })
}

pub(super) fn not_found(path: &str) -> Response {
    arm_error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!("The lab's ARM does not serve {path}."),
    )
}

/// The principals a role assignment list is filtered to: `principalId eq '<id>'` names one,
/// `assignedTo('<id>')` names it and every group it belongs to, transitively, as ARM documents
/// (learn.microsoft.com/azure/role-based-access-control/role-assignments-list-rest). None: all.
fn assignment_holders(az: &AzureObjects, query: &str) -> Option<Vec<String>> {
    let filter = query_param(query, "$filter")?;
    let id = filter_value(&filter)?;
    if filter
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("assignedto(")
    {
        Some(crate::lab::rbac::holders(az, &id))
    } else {
        Some(vec![id])
    }
}

/// The role assignments a list at `scope` shows, as ARM documents for
/// `{scope}/providers/Microsoft.Authorization/roleAssignments`: those at, above (management
/// groups included) and below the scope; `$filter=atScope()` keeps only at and above. The
/// `principalId eq` / `assignedTo()` clause narrows them to principals.
fn role_assignments_at<'a>(
    az: &'a AzureObjects,
    scope: &str,
    query: &str,
) -> Vec<&'a RoleAssignment> {
    let holders = assignment_holders(az, query);
    let at_scope_only =
        query_param(query, "$filter").is_some_and(|f| f.to_ascii_lowercase().contains("atscope()"));
    az.role_assignments
        .iter()
        .filter(|r| {
            crate::lab::rbac::inherits(&r.scope, scope)
                || crate::lab::rbac::above_subscription(az, &r.scope, scope)
                || (!at_scope_only && crate::lab::rbac::inherits(scope, &r.scope))
        })
        .filter(|r| {
            holders
                .as_ref()
                .is_none_or(|h| h.iter().any(|p| r.principal_id.eq_ignore_ascii_case(p)))
        })
        .collect()
}

/// The first quoted value of a filter: `principalId eq '{id}'` or `assignedTo('{id}')` -> the id.
fn filter_value(filter: &str) -> Option<String> {
    let start = filter.find('\'')? + 1;
    let end = start + filter[start..].find('\'')?;
    Some(filter[start..end].to_string())
}

fn subscriptions(world: &World) -> Vec<Value> {
    let az = &world.azure;
    let mut subs: Vec<String> = az
        .identities
        .iter()
        .map(|i| i.id.as_str())
        .chain(az.clusters.iter().map(|c| c.id.as_str()))
        .chain(az.vaults.iter().map(|v| v.id.as_str()))
        .chain(az.storage_accounts.iter().map(|s| s.id.as_str()))
        .filter_map(|id| arm_segment(id, "subscriptions"))
        .map(str::to_ascii_lowercase)
        .collect();
    subs.sort();
    subs.dedup();
    let tenant = world.info.tenant_id.clone().unwrap_or_default();
    subs.into_iter()
        .map(|s| {
            json!({"id": format!("/subscriptions/{s}"), "subscriptionId": s, "tenantId": tenant,
                   "displayName": format!("lab-{}", &s[..s.len().min(8)]), "state": "Enabled"})
        })
        .collect()
}

fn identity(i: &ManagedIdentity) -> Value {
    json!({"id": i.id, "name": i.name, "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
           "location": i.location.as_deref().unwrap_or("eastus"),
           "properties": {"tenantId": i.tenant_id, "principalId": i.principal_id, "clientId": i.client_id}})
}

pub(super) fn arm_fic(f: &FederatedCredential) -> Value {
    let mut props = json!({"issuer": f.issuer, "audiences": f.audiences});
    if let Some(s) = &f.subject {
        props["subject"] = json!(s);
    }
    if let Some(e) = &f.claims_matching_expression {
        props["claimsMatchingExpression"] = json!({"value": e, "languageVersion": 1});
    }
    json!({"id": f.id, "name": f.name,
           "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
           "properties": props})
}

fn cluster(c: &ManagedCluster) -> Value {
    let oidc = match (c.arc, c.self_hosted_issuer) {
        (false, _) => json!({"enabled": c.oidc_issuer_enabled, "issuerURL": c.issuer_url}),
        (true, false) => json!({"enabled": c.oidc_issuer_enabled, "issuerUrl": c.issuer_url}),
        // Arc still hosts an issuer of its own; the cluster's tokens carry the self-hosted one.
        (true, true) => {
            json!({"enabled": c.oidc_issuer_enabled, "selfHostedIssuerUrl": c.issuer_url,
                               "issuerUrl": "https://lab.oic.prod-arc.azure.com/unused/"})
        }
    };
    let ty = if c.arc {
        "Microsoft.Kubernetes/connectedClusters"
    } else {
        "Microsoft.ContainerService/ManagedClusters"
    };
    json!({"id": c.id, "name": c.name, "type": ty, "location": c.location,
           "properties": {"kubernetesVersion": c.kubernetes_version, "oidcIssuerProfile": oidc,
                          "apiServerAccessProfile": {"enableVnetIntegration": c.api_server_vnet_integration},
                          "securityProfile": {"workloadIdentity": {"enabled": c.workload_identity_enabled}}}})
}

fn acls(n: &NetworkAcls) -> Value {
    json!({"defaultAction": n.default_action, "bypass": n.bypass,
           "ipRules": n.ip_rules.iter().map(|r| json!({"value": r})).collect::<Vec<_>>(),
           "virtualNetworkRules": n.virtual_network_rules.iter().map(|r| json!({"id": r})).collect::<Vec<_>>()})
}

pub(super) fn vault(v: &KeyVault) -> Value {
    let policies: Vec<Value> = v
        .access_policies
        .iter()
        .map(|p| {
            // ARM always carries the policy's tenant; the Azure CLI compares it.
            json!({"tenantId": p.tenant_id.as_ref().or(v.tenant_id.as_ref()), "objectId": p.object_id, "applicationId": p.application_id,
                   "permissions": {"secrets": p.secrets, "keys": p.keys, "certificates": p.certificates}})
        })
        .collect();
    // `sku` is required in VaultProperties (KeyVault 2023-07-01): clients that PUT the vault back
    // (`az keyvault set-policy`) validate it.
    let mut props = json!({"tenantId": v.tenant_id, "vaultUri": v.vault_uri, "sku": {"family": "A", "name": "standard"},
                           "enableRbacAuthorization": v.rbac_authorization, "accessPolicies": policies,
                           "publicNetworkAccess": v.public_network_access,
                           "privateEndpointConnections": endpoint_connections(&v.id, &v.private_endpoints)});
    if let Some(n) = &v.network_acls {
        props["networkAcls"] = acls(n);
    }
    json!({"id": v.id, "name": v.name, "type": "Microsoft.KeyVault/vaults", "location": v.location, "properties": props})
}

fn storage(s: &StorageAccount) -> Value {
    let mut props = json!({"primaryEndpoints": {"blob": s.blob_endpoint}, "publicNetworkAccess": s.public_network_access,
                           "privateEndpointConnections": endpoint_connections(&s.id, &s.private_endpoints)});
    if let Some(n) = &s.network_acls {
        props["networkAcls"] = acls(n);
    }
    json!({"id": s.id, "name": s.name, "type": "Microsoft.Storage/storageAccounts", "kind": "StorageV2",
           "location": s.location, "properties": props})
}

/// A resource's approved private endpoint connections, in ARM's shape (the world keeps only
/// approved ones).
fn endpoint_connections(resource: &str, endpoints: &[String]) -> Vec<Value> {
    endpoints
        .iter()
        .map(|pe| {
            let name = pe.rsplit('/').next().unwrap_or_default();
            json!({"id": format!("{resource}/privateEndpointConnections/{name}"),
                   "properties": {"privateEndpoint": {"id": pe},
                                  "privateLinkServiceConnectionState": {"status": "Approved", "actionsRequired": "None"},
                                  "provisioningState": "Succeeded"}})
        })
        .collect()
}

/// The subscription a path is under, or "" for a tenant-level one.
fn subscription_of<'s>(segs: &[&'s str]) -> &'s str {
    match segs {
        ["subscriptions", sub, ..] => sub,
        _ => "",
    }
}

/// A GET of one object by its id: a role definition by GUID, or a resource under a resource
/// group; None for a list path.
fn by_id(caller: &Caller<'_>, path: &str, segs: &[&str]) -> Option<Response> {
    let az = &caller.world.azure;
    // Role definitions are read at any scope (`az role assignment list --scope <id>` asks the
    // resource's); their ids stay subscription-based.
    if let [
        ..,
        "providers",
        "microsoft.authorization",
        "roledefinitions",
        guid,
    ] = segs
    {
        let sub = subscription_of(segs);
        return Some(
            match role_definitions(az, sub, "").into_iter().find(|d| {
                d["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(guid))
            }) {
                Some(d) => json_response(StatusCode::OK, d),
                None => arm_error(
                    StatusCode::NOT_FOUND,
                    "RoleDefinitionDoesNotExist",
                    "The specified role definition with ID '{guid}' does not exist."
                        .replace("{guid}", guid),
                ),
            },
        );
    }
    // A resource id (an even number of segments under a resource group) names one resource.
    if segs.len() >= 8
        && segs.len().is_multiple_of(2)
        && segs[2] == "resourcegroups"
        && segs[4] == "providers"
    {
        if !caller.may_read(path) {
            return Some(caller.refused(path));
        }
        return Some(match single_resource(az, path) {
            Some(obj) => json_response(StatusCode::OK, obj),
            None => resource_not_found(segs),
        });
    }
    if let ["subscriptions", sub, "resourcegroups", rg] = segs {
        if !caller.may_read(path) {
            return Some(caller.refused(path));
        }
        return Some(match arm_reads::resource_group_of(caller.world, sub, rg) {
            Some(group) => json_response(StatusCode::OK, group),
            None => arm_error(
                StatusCode::NOT_FOUND,
                "ResourceGroupNotFound",
                format!("Resource group '{rg}' could not be found."),
            ),
        });
    }
    if let ["subscriptions", sub] = segs {
        if !caller.in_subscription(sub) {
            return Some(caller.refused(path));
        }
        return subscriptions(caller.world)
            .into_iter()
            .find(|s| s["subscriptionId"].as_str() == Some(sub))
            .map(|s| json_response(StatusCode::OK, s));
    }
    None
}

/// `GET <resource id>`: the world's resource with that id (compared as ARM does, ignoring case),
/// in the shape its list shows.
fn single_resource(az: &AzureObjects, path: &str) -> Option<Value> {
    let id = path.trim_end_matches('/');
    let eq = |other: &str| other.eq_ignore_ascii_case(id);
    az.identities
        .iter()
        .find(|i| eq(&i.id))
        .map(identity)
        .or_else(|| az.clusters.iter().find(|c| eq(&c.id)).map(cluster))
        .or_else(|| az.vaults.iter().find(|v| eq(&v.id)).map(vault))
        .or_else(|| az.storage_accounts.iter().find(|s| eq(&s.id)).map(storage))
        .or_else(|| {
            az.federated_credentials
                .iter()
                .find(|f| eq(&f.id))
                .map(arm_fic)
        })
        .or_else(|| {
            az.identity_bindings
                .iter()
                .find(|b| eq(&b.id))
                .map(identity_binding)
        })
}

/// ARM's 404 for a resource id it does not hold.
fn resource_not_found(segs: &[&str]) -> Response {
    let (rg, rest) = (segs[3], &segs[5..]);
    arm_error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!(
            "The Resource '{}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            rest.join("/")
        ),
    )
}

/// `<cluster id>/identityBindings`: the AKS cluster's bindings; None when no such cluster.
fn cluster_bindings(az: &AzureObjects, path: &str) -> Option<Vec<Value>> {
    let cluster_id = path.trim_end_matches('/').rsplit_once('/')?.0;
    az.clusters
        .iter()
        .any(|c| !c.arc && c.id.eq_ignore_ascii_case(cluster_id))
        .then(|| {
            az.identity_bindings
                .iter()
                .filter(|b| b.cluster_id.eq_ignore_ascii_case(cluster_id))
                .map(identity_binding)
                .collect()
        })
}

/// An identity binding as ARM's preview API returns it (IdentityBindings_Get example).
fn identity_binding(b: &crate::world::azure::IdentityBinding) -> Value {
    json!({"id": b.id, "name": b.name, "type": "Microsoft.ContainerService/managedClusters/identityBindings",
           "properties": {"managedIdentity": {"resourceId": b.identity_id, "clientId": b.client_id,
                                              "objectId": b.object_id, "tenantId": b.tenant_id},
                          "oidcIssuer": {"oidcIssuerUrl": b.issuer_url},
                          "provisioningState": b.provisioning_state.as_deref().unwrap_or("Succeeded")}})
}

fn deny_assignment(d: &DenyAssignment) -> Value {
    let ids = |v: &[String]| v.iter().map(|id| json!({"id": id})).collect::<Vec<_>>();
    json!({"id": d.id, "name": d.id.rsplit('/').next(), "type": "Microsoft.Authorization/denyAssignments",
           "properties": {"denyAssignmentName": d.name, "scope": d.scope,
                          "permissions": d.permissions.iter().map(|p| json!({
                              "actions": p.actions, "notActions": p.not_actions,
                              "dataActions": p.data_actions, "notDataActions": p.not_data_actions,
                          })).collect::<Vec<_>>(),
                          "principals": ids(&d.principals), "excludePrincipals": ids(&d.exclude_principals),
                          "doNotApplyToChildScopes": d.do_not_apply_to_child_scopes}})
}

/// The subscription's role definitions as ARM lists them: the world's custom roles and the
/// built-in ones the lab knows (its pinned dump); `$filter=type eq 'CustomRole'` keeps the
/// custom ones, `$filter=roleName eq '<name>'` one by name.
fn role_definitions(az: &AzureObjects, sub: &str, query: &str) -> Vec<Value> {
    let filter = query_param(query, "$filter").unwrap_or_default();
    let custom_only = filter.contains("CustomRole");
    let name = filter
        .trim_start()
        .starts_with("roleName")
        .then(|| filter_value(&filter))
        .flatten();
    let builtin = crate::lab::rbac::BUILTIN.iter().map(|d| {
        json!({"id": format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{}", d.id),
               "name": d.id, "type": "Microsoft.Authorization/roleDefinitions",
               "properties": {"roleName": d.role_name, "type": "BuiltInRole", "assignableScopes": ["/"],
                              "permissions": [{"actions": d.actions, "notActions": d.not_actions,
                                               "dataActions": d.data_actions, "notDataActions": d.not_data_actions}]}})
    });
    az.role_definitions
        .iter()
        .filter(|d| !custom_only || d.role_type.as_deref() == Some("CustomRole"))
        .map(role_definition)
        .chain(builtin.filter(|_| !custom_only))
        .filter(|d| {
            name.as_deref().is_none_or(|n| {
                d["properties"]["roleName"]
                    .as_str()
                    .is_some_and(|r| r.eq_ignore_ascii_case(n))
            })
        })
        .collect()
}

fn role_definition(d: &RoleDefinition) -> Value {
    json!({"id": d.id, "name": d.guid, "type": "Microsoft.Authorization/roleDefinitions",
           "properties": {"roleName": d.role_name, "type": d.role_type,
                          "permissions": d.permissions.iter().map(|p| json!({
                              "actions": p.actions, "notActions": p.not_actions,
                              "dataActions": p.data_actions, "notDataActions": p.not_data_actions,
                          })).collect::<Vec<_>>()}})
}

/// One role assignment as a list under subscription `sub` shows it: ARM qualifies the role
/// definition id with the subscription listed (so clients can match it against the role
/// definitions of that scope), whatever scope the assignment is at.
pub(super) fn role_assignment(r: &RoleAssignment, sub: &str) -> Value {
    let role = match (sub, r.role_definition_id.starts_with('/')) {
        ("", true) => r.role_definition_id.clone(),
        ("", false) => format!(
            "/providers/Microsoft.Authorization/roleDefinitions/{}",
            r.role_definition_id
        ),
        _ => format!(
            "/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{}",
            r.role_guid()
        ),
    };
    json!({"id": r.id, "name": r.id.rsplit('/').next(), "type": "Microsoft.Authorization/roleAssignments",
           "properties": {"principalId": r.principal_id, "principalType": r.principal_type,
                          "roleDefinitionId": role, "scope": r.scope,
                          "condition": r.condition, "conditionVersion": r.condition_version}})
}

pub(super) fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    json_response(
        status,
        json!({"error": {"code": code, "message": message,
                         "innerError": {"date": jiff::Timestamp::now().to_string(),
                                        "request-id": "00000000-0000-4000-8000-0000000067a1"}}}),
    )
}

pub fn handle_graph(read: Read<'_>) -> Response {
    let Read {
        world, path, query, ..
    } = read;
    if let Some(refusal) = graph_refusal(read) {
        return refusal;
    }
    let az = &world.azure;
    let filter = query_param(query, "$filter");
    let wanted = filter.as_deref().and_then(filter_value);
    let matches = |app_id: &str| {
        wanted
            .as_deref()
            .is_none_or(|w| w.eq_ignore_ascii_case(app_id))
    };
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let base = format!("{GRAPH_HOST}{path}");
    let (context, items): (&str, Vec<Value>) = match segs.as_slice() {
        ["v1.0", "applications"] => (
            "applications",
            az.applications
                .iter()
                .filter(|a| matches(&a.app_id))
                .map(|a| json!({"id": a.id, "appId": a.app_id, "displayName": a.display_name, "signInAudience": a.sign_in_audience}))
                .collect(),
        ),
        ["v1.0", "servicePrincipals"] => (
            "servicePrincipals",
            service_principals(az)
                .into_iter()
                .filter(|s| s["appId"].as_str().is_some_and(&matches))
                .collect(),
        ),
        ["v1.0", "directoryObjects", "getByIds"] => ("directoryObjects", by_ids(az, read.body)),
        ["v1.0", "servicePrincipals", object_id] => return service_principal(az, object_id),
        ["v1.0", "applications", object_id, "federatedIdentityCredentials"] => {
            let Some(app) = az.applications.iter().find(|a| a.id.eq_ignore_ascii_case(object_id)) else {
                return graph_error(
                    StatusCode::NOT_FOUND,
                    "Request_ResourceNotFound",
                    &format!("Resource '{object_id}' does not exist or one of its queried reference-property objects are not present."),
                );
            };
            (
                "applications/federatedIdentityCredentials",
                az.federated_credentials
                    .iter()
                    .filter(|f| matches!(&f.owner, CredentialOwner::Application(r) if r.eq_ignore_ascii_case(&app.app_id) || r.eq_ignore_ascii_case(&app.id)))
                    .map(|f| json!({"id": f.id, "name": f.name, "issuer": f.issuer, "subject": f.subject, "audiences": f.audiences, "description": null}))
                    .collect(),
            )
        }
        ["v1.0", "servicePrincipals", object_id, "transitiveMemberOf", cast @ ..]
            if cast.is_empty() || cast == ["microsoft.graph.group"] =>
        {
            match member_of(world, object_id) {
                Ok(groups) => ("directoryObjects", groups),
                Err(response) => return *response,
            }
        }
        _ => {
            return graph_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                &format!("Resource not found for the segment '{}'.", segs.last().unwrap_or(&"")),
            );
        }
    };
    let mut body = page(items, query, &base, "@odata.nextLink");
    body["@odata.context"] = json!(format!("{GRAPH_HOST}/v1.0/$metadata#{context}"));
    json_response(StatusCode::OK, body)
}

/// `GET /v1.0/servicePrincipals/{id}`: one, by object id.
fn service_principal(az: &AzureObjects, object_id: &str) -> Response {
    let one = service_principals(az).into_iter().find(|s| {
        s["id"]
            .as_str()
            .is_some_and(|i| i.eq_ignore_ascii_case(object_id))
    });
    match one {
        Some(mut sp) => {
            sp["@odata.context"] = json!(format!(
                "{GRAPH_HOST}/v1.0/$metadata#servicePrincipals/$entity"
            ));
            json_response(StatusCode::OK, sp)
        }
        None => graph_error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!(
                "Resource '{object_id}' does not exist or one of its queried reference-property objects are not present."
            ),
        ),
    }
}

/// Every service principal Graph would list: the world's, and one per user-assigned identity,
/// as Entra creates it for the identity (`servicePrincipalType: ManagedIdentity`, the identity's
/// client ID as `appId`, its principal ID as `id`).
fn service_principals(az: &AzureObjects) -> Vec<Value> {
    let sps = az.service_principals.iter().map(|s| {
        json!({"id": s.id, "appId": s.app_id, "displayName": s.display_name,
               "appOwnerOrganizationId": s.app_owner_organization_id,
               "accountEnabled": s.account_enabled.unwrap_or(true),
               "servicePrincipalType": "Application",
               "servicePrincipalNames": [s.app_id]})
    });
    let identities = az.identities.iter().filter_map(|i| {
        let (app_id, id) = (i.client_id.as_ref()?, i.principal_id.as_ref()?);
        Some(json!({"id": id, "appId": app_id, "displayName": i.name, "accountEnabled": true,
                    "servicePrincipalType": "ManagedIdentity",
                    "servicePrincipalNames": [app_id, format!("https://identity.azure.net/{app_id}")],
                    "alternativeNames": ["isExplicit=True", i.id]}))
    });
    sps.chain(identities).collect()
}

/// `POST directoryObjects/getByIds` (`{"ids": [...]}`): the service principals and groups with
/// those object IDs, each typed as Graph types them.
fn by_ids(az: &AzureObjects, body: &[u8]) -> Vec<Value> {
    let ids: Vec<String> = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|b| b["ids"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_ascii_lowercase))
        .collect();
    let wanted = |id: &str| ids.contains(&id.to_ascii_lowercase());
    let sps = service_principals(az)
        .into_iter()
        .filter(|s| s["id"].as_str().is_some_and(wanted))
        .map(|mut s| {
            s["@odata.type"] = json!("#microsoft.graph.servicePrincipal");
            s
        });
    let groups = az.groups.iter().filter(|g| wanted(&g.id)).map(|g| {
        json!({"@odata.type": "#microsoft.graph.group", "id": g.id, "displayName": g.display_name})
    });
    sps.chain(groups).collect()
}

/// The groups a service principal belongs to, transitively, as Graph lists them; 404 for an
/// object Graph does not know.
fn member_of(world: &World, object_id: &str) -> Result<Vec<Value>, Box<Response>> {
    let az = &world.azure;
    let known = az
        .service_principals
        .iter()
        .any(|s| s.id.eq_ignore_ascii_case(object_id))
        || az.identities.iter().any(|i| {
            i.principal_id
                .as_deref()
                .is_some_and(|p| p.eq_ignore_ascii_case(object_id))
        });
    if !known {
        return Err(Box::new(graph_error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!(
                "Resource '{object_id}' does not exist or one of its queried reference-property objects are not present."
            ),
        )));
    }
    // The first holder is the principal itself.
    let holders = crate::lab::rbac::holders(az, object_id);
    Ok(az
        .groups
        .iter()
        .filter(|g| holders.iter().skip(1).any(|h| h.eq_ignore_ascii_case(&g.id)))
        .map(|g| json!({"@odata.type": "#microsoft.graph.group", "id": g.id, "displayName": g.display_name}))
        .collect())
}

/// Why Graph would not serve this read at all: the bearer, `LabBehaviour.azureDenied` naming
/// `graph`, or a write.
fn graph_refusal(read: Read<'_>) -> Option<Response> {
    let Read {
        denied,
        entra_key,
        method,
        headers,
        ..
    } = read;
    let claims = match bearer(entra_key, headers, GRAPH_HOST) {
        Ok(claims) => claims,
        Err(m) => {
            return Some(graph_error(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                &m,
            ));
        }
    };
    // Reading the directory takes an application permission (Application.Read.All,
    // GroupMember.Read.All, ...) that only the lab's own principals are granted; a workload
    // identity has none.
    let lab_principal = claims["oid"]
        .as_str()
        .is_some_and(|o| read.is_lab_principal(o));
    if !lab_principal || denied.iter().any(|d| d.eq_ignore_ascii_case("graph")) {
        return Some(graph_error(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ));
    }
    let get_by_ids = method == Method::POST
        && read.path.trim_end_matches('/') == "/v1.0/directoryObjects/getByIds";
    if method != Method::GET && !get_by_ids {
        return Some(graph_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            "The lab's Graph is read-only.",
        ));
    }
    None
}
