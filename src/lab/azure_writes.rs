//! The Azure writes widiag's `az` fixes make, taken by the lab so a test can make a fix and
//! watch the chain turn green (issue 22). widiag itself never writes; the lab's reader may not
//! (AuthorizationFailed, as for any principal without a role that allows the write), and the
//! lab's operator principal (`operator.env`) may, as an Owner would. Shapes and status codes are
//! from azure-rest-api-specs:
//! - ManagedIdentity 2023-01-31 FederatedIdentityCredentials_CreateOrUpdate (200 updated, 201
//!   created) and _Delete (200, 204 when absent);
//! - Authorization 2022-04-01 RoleAssignments_Create (201; 409 RoleAssignmentExists for the same
//!   principal, role and scope);
//! - KeyVault 2023-07-01 Vaults_CreateOrUpdate (200; what `az keyvault set-policy`,
//!   `delete-policy`, `update` and `network-rule add` send, the whole vault read back) and
//!   Vaults_Update (PATCH), Vaults_UpdateAccessPolicy (`accessPolicies/{add|replace|remove}`);
//! - Graph v1.0 servicePrincipal update (PATCH, 204) and application
//!   federatedIdentityCredentials create (POST, 201) and delete (204).

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::arm::{self, Read};
use super::rbac::{self, Operation};
use super::server::State;
use crate::world::World;
use crate::world::azure::{AccessPolicy, CredentialOwner, FederatedCredential, RoleAssignment};

/// Entra's documented limit of federated credentials on one identity or application.
const MAX_FICS: usize = 20;

/// Whether this request to ARM or Graph is a write (Graph's getByIds is a read sent as POST).
pub fn is_write(host: &str, method: &Method, path: &str) -> bool {
    match *method {
        Method::GET | Method::HEAD | Method::OPTIONS => false,
        Method::POST if host == "graph.microsoft.com" => {
            !path.trim_end_matches('/').ends_with("/getByIds")
        }
        // ARM's POST actions the lab serves are reads (listKeys is not served).
        Method::POST => false,
        _ => true,
    }
}

pub fn handle(state: &State, host: &str, read: Read<'_>) -> Response {
    if host == "graph.microsoft.com" {
        return graph(state, read);
    }
    let oid = match arm::arm_caller(read) {
        Ok(oid) => oid,
        Err(refusal) => return *refusal,
    };
    let segs: Vec<String> = read
        .path
        .trim_matches('/')
        .split('/')
        .map(str::to_ascii_lowercase)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    if let Some(refused) = unauthorized(&read, &oid) {
        return refused;
    }
    let body: Value = serde_json::from_slice(read.body).unwrap_or(Value::Null);
    match (read.method, segs.as_slice()) {
        (
            &Method::PUT,
            [
                ..,
                "userassignedidentities",
                _,
                "federatedidentitycredentials",
                _,
            ],
        ) => put_identity_fic(state, read.path, &body),
        (
            &Method::DELETE,
            [
                ..,
                "userassignedidentities",
                _,
                "federatedidentitycredentials",
                _,
            ],
        ) => delete_fic(state, read.path),
        (
            &Method::PUT,
            [
                ..,
                "providers",
                "microsoft.authorization",
                "roleassignments",
                _,
            ],
        ) => put_role_assignment(state, read.path, &body),
        (&Method::PUT | &Method::PATCH, [.., "providers", "microsoft.keyvault", "vaults", _]) => {
            update_vault(state, read.path, &body, read.method == Method::PUT)
        }
        (
            &Method::PUT,
            [
                ..,
                "providers",
                "microsoft.keyvault",
                "vaults",
                _,
                "accesspolicies",
                kind,
            ],
        ) => update_access_policies(state, read.path, kind, &body),
        _ => arm::arm_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!(
                "The lab's ARM takes the writes widiag's fixes make (federated credentials, role assignments, vault access and network rules), not {} {}.",
                read.method, read.path
            ),
        ),
    }
}

/// ARM's refusal unless the caller is the lab's operator or holds a role allowing the write.
fn unauthorized(read: &Read<'_>, oid: &str) -> Option<Response> {
    let action = write_action(read.path, read.method);
    let allowed = oid.eq_ignore_ascii_case(read.operator)
        || rbac::allowed(read.world, oid, read.path, Operation::Action(&action));
    (!allowed).then(|| {
        arm::arm_error(
            StatusCode::FORBIDDEN,
            "AuthorizationFailed",
            format!(
                "The client '{oid}' with object id '{oid}' does not have authorization to perform action '{action}' over scope '{}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
                read.path.trim_end_matches('/')
            ),
        )
    })
}

/// The RBAC action a write needs: `{provider}/{types}/write` or `/delete`.
fn write_action(path: &str, method: &Method) -> String {
    let read = super::arm_reads::read_action(path);
    let verb = if method == Method::DELETE {
        "delete"
    } else {
        "write"
    };
    format!("{}/{verb}", read.trim_end_matches("/read"))
}

fn created(code: StatusCode, body: Value) -> Response {
    (
        code,
        [("content-type", "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn bad_request(code: &str, message: &str) -> Response {
    arm::arm_error(StatusCode::BAD_REQUEST, code, message.to_string())
}

/// The identity id a credential path names (everything before `/federatedIdentityCredentials`).
fn parent_of(path: &str) -> &str {
    let lower = path.to_ascii_lowercase();
    let at = lower
        .rfind("/federatedidentitycredentials/")
        .unwrap_or(path.len());
    &path[..at]
}

fn put_identity_fic(state: &State, path: &str, body: &Value) -> Response {
    let world = state.world();
    let parent = parent_of(path);
    let Some(identity) = world
        .azure
        .identities
        .iter()
        .find(|i| i.id.eq_ignore_ascii_case(parent))
    else {
        return arm::arm_error(
            StatusCode::NOT_FOUND,
            "ParentResourceNotFound",
            format!(
                "Failed to perform 'write' on resource(s) of type 'userAssignedIdentities/federatedIdentityCredentials', because the parent resource '{parent}' could not be found."
            ),
        );
    };
    let owner = CredentialOwner::Identity(identity.id.clone());
    let name = path.rsplit('/').next().unwrap_or_default().to_string();
    let fic = match credential(
        &body["properties"],
        &owner,
        &format!("{}/federatedIdentityCredentials/{name}", identity.id),
        &name,
    ) {
        Ok(f) => f,
        Err(refusal) => return *refusal,
    };
    match store_fic(state, &fic) {
        Ok(code) => created(code, arm::arm_fic(&fic)),
        Err(refusal) => *refusal,
    }
}

/// A credential from a write's properties, checked as the service checks it.
fn credential(
    props: &Value,
    owner: &CredentialOwner,
    id: &str,
    name: &str,
) -> Result<FederatedCredential, Box<Response>> {
    let issuer = props["issuer"].as_str().unwrap_or_default();
    let subject = props["subject"].as_str();
    let audiences: Vec<String> = props["audiences"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect();
    if !issuer.starts_with("https://") {
        return Err(Box::new(bad_request(
            "BadRequest",
            "The issuer must be a valid URL using the https scheme.",
        )));
    }
    if subject.is_none_or(str::is_empty) || audiences.is_empty() {
        return Err(Box::new(bad_request(
            "BadRequest",
            "The subject and at least one audience are required.",
        )));
    }
    Ok(FederatedCredential {
        id: id.to_string(),
        name: name.to_string(),
        owner: owner.clone(),
        issuer: issuer.to_string(),
        subject: subject.map(str::to_string),
        audiences,
        claims_matching_expression: None,
    })
}

/// Creates or replaces (by owner and name) a credential; 201 or 200, or the refusal when the
/// owner already has the maximum, or another credential with the same issuer and subject.
fn store_fic(state: &State, fic: &FederatedCredential) -> Result<StatusCode, Box<Response>> {
    let world = state.world();
    let siblings: Vec<&FederatedCredential> = world
        .azure
        .federated_credentials
        .iter()
        .filter(|f| f.owner == fic.owner)
        .collect();
    let exists = siblings
        .iter()
        .any(|f| f.name.eq_ignore_ascii_case(&fic.name));
    let duplicate = siblings.iter().any(|f| {
        !f.name.eq_ignore_ascii_case(&fic.name)
            && f.issuer == fic.issuer
            && f.subject == fic.subject
    });
    if duplicate {
        return Err(Box::new(bad_request(
            "BadRequest",
            "A federated identity credential with the same issuer and subject already exists on this identity.",
        )));
    }
    if !exists && siblings.len() >= MAX_FICS {
        return Err(Box::new(bad_request(
            "BadRequest",
            "The maximum number of federated identity credentials (20) has been reached.",
        )));
    }
    let stored = fic.clone();
    state.change_world(|w: &mut World| {
        let list = &mut w.azure.federated_credentials;
        list.retain(|f| !(f.owner == stored.owner && f.name.eq_ignore_ascii_case(&stored.name)));
        list.push(stored);
    });
    let code = if exists {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(code)
}

fn delete_fic(state: &State, path: &str) -> Response {
    let parent = parent_of(path).to_string();
    let name = path.rsplit('/').next().unwrap_or_default().to_string();
    let world = state.world();
    let present = world.azure.federated_credentials.iter().any(|f| {
        matches!(&f.owner, CredentialOwner::Identity(id) if id.eq_ignore_ascii_case(&parent))
            && f.name.eq_ignore_ascii_case(&name)
    });
    if !present {
        return StatusCode::NO_CONTENT.into_response();
    }
    state.change_world(|w: &mut World| {
        w.azure.federated_credentials.retain(|f| {
            !(matches!(&f.owner, CredentialOwner::Identity(id) if id.eq_ignore_ascii_case(&parent))
                && f.name.eq_ignore_ascii_case(&name))
        });
    });
    StatusCode::OK.into_response()
}

fn put_role_assignment(state: &State, path: &str, body: &Value) -> Response {
    let props = &body["properties"];
    let lower = path.to_ascii_lowercase();
    let scope = &path[..lower
        .rfind("/providers/microsoft.authorization/")
        .unwrap_or(0)];
    let role = props["roleDefinitionId"].as_str().unwrap_or_default();
    let principal = props["principalId"].as_str().unwrap_or_default();
    let guid = role.rsplit('/').next().unwrap_or_default();
    let world = state.world();
    let known = super::rbac::BUILTIN
        .iter()
        .any(|d| d.id.eq_ignore_ascii_case(guid))
        || world
            .azure
            .role_definitions
            .iter()
            .any(|d| d.guid.eq_ignore_ascii_case(guid));
    if !known || principal.is_empty() {
        return bad_request(
            "RoleDefinitionDoesNotExist",
            &format!("The specified role definition with ID '{guid}' does not exist."),
        );
    }
    let same = world.azure.role_assignments.iter().any(|a| {
        a.principal_id.eq_ignore_ascii_case(principal)
            && a.role_guid().eq_ignore_ascii_case(guid)
            && a.scope.eq_ignore_ascii_case(scope)
    });
    if same {
        return arm::arm_error(
            StatusCode::CONFLICT,
            "RoleAssignmentExists",
            "The role assignment already exists.".into(),
        );
    }
    let assignment = RoleAssignment {
        id: path.to_string(),
        principal_id: principal.to_string(),
        principal_type: props["principalType"].as_str().map(str::to_string),
        role_definition_id: role.to_string(),
        role_definition_name: None,
        scope: scope.to_string(),
        condition: props["condition"].as_str().map(str::to_string),
        condition_version: props["conditionVersion"].as_str().map(str::to_string),
    };
    let body = arm::role_assignment(&assignment, "");
    state.change_world(|w: &mut World| w.azure.role_assignments.push(assignment));
    created(StatusCode::CREATED, body)
}

/// The vault a path names, by id.
fn vault_index(world: &World, id: &str) -> Option<usize> {
    world
        .azure
        .vaults
        .iter()
        .position(|v| v.id.eq_ignore_ascii_case(id.trim_end_matches('/')))
}

fn policies_of(props: &Value, tenant: Option<&String>) -> Vec<AccessPolicy> {
    let list = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p.as_str().map(str::to_ascii_lowercase))
            .collect()
    };
    props["accessPolicies"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| AccessPolicy {
            tenant_id: p["tenantId"]
                .as_str()
                .map(str::to_string)
                .or(tenant.cloned()),
            object_id: p["objectId"].as_str().unwrap_or_default().to_string(),
            application_id: p["applicationId"].as_str().map(str::to_string),
            secrets: list(&p["permissions"]["secrets"]),
            keys: list(&p["permissions"]["keys"]),
            certificates: list(&p["permissions"]["certificates"]),
        })
        .collect()
}

/// PUT (the whole vault, as `az keyvault set-policy` and friends send it back) or PATCH: the
/// access policies, RBAC mode and network rules it carries replace the vault's.
fn update_vault(state: &State, path: &str, body: &Value, whole: bool) -> Response {
    let world = state.world();
    let Some(at) = vault_index(&world, path) else {
        return arm::not_found(path);
    };
    let props = body["properties"].clone();
    state.change_world(|w: &mut World| {
        let v = &mut w.azure.vaults[at];
        if whole || props.get("accessPolicies").is_some() {
            v.access_policies = policies_of(&props, v.tenant_id.as_ref());
        }
        if let Some(rbac) = props["enableRbacAuthorization"].as_bool() {
            v.rbac_authorization = rbac;
        }
        if let Some(access) = props["publicNetworkAccess"].as_str() {
            v.public_network_access = Some(access.to_string());
        }
        if let Some(acls) = props.get("networkAcls").filter(|a| a.is_object()) {
            v.network_acls = Some(crate::world::azure::NetworkAcls {
                default_action: acls["defaultAction"]
                    .as_str()
                    .unwrap_or("Allow")
                    .to_string(),
                bypass: acls["bypass"].as_str().map(str::to_string),
                ip_rules: acls["ipRules"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r["value"].as_str().map(str::to_string))
                    .collect(),
                virtual_network_rules: acls["virtualNetworkRules"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r["id"].as_str().map(str::to_string))
                    .collect(),
            });
        }
    });
    let world = state.world();
    created(StatusCode::OK, arm::vault(&world.azure.vaults[at]))
}

/// `accessPolicies/{add|replace|remove}`: permissions added to, replacing, or removed from the
/// policy of each (tenant, object, application) named.
fn update_access_policies(state: &State, path: &str, kind: &str, body: &Value) -> Response {
    let vault_id = &path[..path
        .to_ascii_lowercase()
        .rfind("/accesspolicies/")
        .unwrap_or(0)];
    let world = state.world();
    let Some(at) = vault_index(&world, vault_id) else {
        return arm::not_found(path);
    };
    if !matches!(kind, "add" | "replace" | "remove") {
        return bad_request(
            "BadRequest",
            "operationKind must be add, replace or remove.",
        );
    }
    let kind = kind.to_string();
    let props = body["properties"].clone();
    state.change_world(|w: &mut World| {
        let v = &mut w.azure.vaults[at];
        for p in policies_of(&props, v.tenant_id.as_ref()) {
            let same = |x: &AccessPolicy| {
                x.object_id.eq_ignore_ascii_case(&p.object_id)
                    && x.application_id == p.application_id
            };
            match (
                kind.as_str(),
                v.access_policies.iter_mut().find(|x| same(x)),
            ) {
                ("remove", Some(x)) => {
                    x.secrets.retain(|s| !p.secrets.contains(s));
                    x.keys.retain(|s| !p.keys.contains(s));
                    x.certificates.retain(|s| !p.certificates.contains(s));
                }
                ("add", Some(x)) => {
                    for (have, add) in [
                        (&mut x.secrets, &p.secrets),
                        (&mut x.keys, &p.keys),
                        (&mut x.certificates, &p.certificates),
                    ] {
                        have.extend(
                            add.iter()
                                .filter(|a| !have.contains(a))
                                .cloned()
                                .collect::<Vec<_>>(),
                        );
                    }
                }
                (_, Some(x)) => *x = p,
                ("remove", None) => {}
                (_, None) => v.access_policies.push(p),
            }
        }
        v.access_policies
            .retain(|x| !(x.secrets.is_empty() && x.keys.is_empty() && x.certificates.is_empty()));
    });
    let world = state.world();
    let vault = arm::vault(&world.azure.vaults[at]);
    created(
        StatusCode::OK,
        json!({"id": format!("{vault_id}/accessPolicies/{kind}"), "type": "Microsoft.KeyVault/vaults/accessPolicies",
               "properties": {"accessPolicies": vault["properties"]["accessPolicies"]}}),
    )
}

/// Graph writes: the lab's operator may update a service principal's `accountEnabled` and add
/// or remove an application's federated credentials; anyone else is Authorization_RequestDenied.
fn graph(state: &State, read: Read<'_>) -> Response {
    let claims =
        super::bearer::access_claims(read.entra_key, read.headers, "https://graph.microsoft.com");
    let Ok(claims) = claims else {
        return arm::graph_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Access token validation failure.",
        );
    };
    if !claims["oid"]
        .as_str()
        .is_some_and(|o| o.eq_ignore_ascii_case(read.operator))
    {
        return arm::graph_error(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        );
    }
    let body: Value = serde_json::from_slice(read.body).unwrap_or(Value::Null);
    let segs: Vec<&str> = read.path.trim_matches('/').split('/').collect();
    match (read.method, segs.as_slice()) {
        (&Method::PATCH, ["v1.0", "servicePrincipals", id]) => patch_sp(state, id, &body),
        (&Method::POST, ["v1.0", "applications", id, "federatedIdentityCredentials"]) => {
            post_app_fic(state, id, &body)
        }
        (
            &Method::PATCH,
            [
                "v1.0",
                "applications",
                id,
                "federatedIdentityCredentials",
                fic,
            ],
        ) => patch_app_fic(state, id, fic, &body),
        (
            &Method::DELETE,
            [
                "v1.0",
                "applications",
                id,
                "federatedIdentityCredentials",
                fic,
            ],
        ) => delete_app_fic(state, id, fic),
        _ => arm::graph_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("The lab's Graph takes no {} {}.", read.method, read.path),
        ),
    }
}

fn graph_missing(id: &str) -> Response {
    arm::graph_error(
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &format!(
            "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
        ),
    )
}

fn patch_sp(state: &State, id: &str, body: &Value) -> Response {
    let world = state.world();
    let Some(at) = world
        .azure
        .service_principals
        .iter()
        .position(|s| s.id.eq_ignore_ascii_case(id))
    else {
        return graph_missing(id);
    };
    let enabled = body["accountEnabled"].as_bool();
    state.change_world(|w: &mut World| {
        if let Some(e) = enabled {
            w.azure.service_principals[at].account_enabled = Some(e);
        }
    });
    StatusCode::NO_CONTENT.into_response()
}

/// The appId of the application with this object id.
fn app_id_of(state: &State, object_id: &str) -> Option<String> {
    state
        .world()
        .azure
        .applications
        .iter()
        .find(|a| a.id.eq_ignore_ascii_case(object_id))
        .map(|a| a.app_id.clone())
}

fn post_app_fic(state: &State, object_id: &str, body: &Value) -> Response {
    let Some(app_id) = app_id_of(state, object_id) else {
        return graph_missing(object_id);
    };
    let name = body["name"].as_str().unwrap_or_default();
    let owner = CredentialOwner::Application(app_id);
    let id = crate::lab::entra::uuid_v4();
    let fic = match credential(body, &owner, &id, name) {
        Ok(f) => f,
        Err(_) => {
            return arm::graph_error(
                StatusCode::BAD_REQUEST,
                "Request_BadRequest",
                "The issuer, subject and audiences are required.",
            );
        }
    };
    match store_fic(state, &fic) {
        Ok(_) => created(
            StatusCode::CREATED,
            json!({"id": fic.id, "name": fic.name, "issuer": fic.issuer, "subject": fic.subject, "audiences": fic.audiences}),
        ),
        Err(_) => arm::graph_error(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            "FederatedIdentityCredential with the same issuer and subject already exists, or the limit of 20 is reached.",
        ),
    }
}

/// `PATCH .../federatedIdentityCredentials/{id or name}`: the fields sent replace the
/// credential's (204); the name and id stay.
fn patch_app_fic(state: &State, object_id: &str, key: &str, body: &Value) -> Response {
    let Some(app_id) = app_id_of(state, object_id) else {
        return graph_missing(object_id);
    };
    let owner = CredentialOwner::Application(app_id);
    let world = state.world();
    let Some(current) = world.azure.federated_credentials.iter().find(|f| {
        f.owner == owner && (f.id.eq_ignore_ascii_case(key) || f.name.eq_ignore_ascii_case(key))
    }) else {
        return graph_missing(key);
    };
    let mut merged = json!({"issuer": current.issuer, "subject": current.subject, "audiences": current.audiences});
    for field in ["issuer", "subject", "audiences"] {
        if let Some(v) = body.get(field) {
            merged[field] = v.clone();
        }
    }
    match credential(&merged, &owner, &current.id, &current.name) {
        Ok(fic) => match store_fic(state, &fic) {
            Ok(_) => StatusCode::NO_CONTENT.into_response(),
            Err(refusal) => *refusal,
        },
        Err(refusal) => *refusal,
    }
}

fn delete_app_fic(state: &State, object_id: &str, fic_id: &str) -> Response {
    let Some(app_id) = app_id_of(state, object_id) else {
        return graph_missing(object_id);
    };
    let fic_id = fic_id.to_string();
    state.change_world(|w: &mut World| {
        w.azure.federated_credentials.retain(|f| {
            !(matches!(&f.owner, CredentialOwner::Application(r) if r.eq_ignore_ascii_case(&app_id))
                && (f.id.eq_ignore_ascii_case(&fic_id) || f.name.eq_ignore_ascii_case(&fic_id)))
        });
    });
    StatusCode::NO_CONTENT.into_response()
}
