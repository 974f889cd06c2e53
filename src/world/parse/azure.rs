//! Azure documents in the shapes ARM, Microsoft Graph and the `az` CLI print.
//! ARM nests attributes under `properties`; `az identity show`, `az identity
//! federated-credential list` and `az role assignment list` print them flat. Both are accepted.

use serde::Deserialize;
use serde_json::Value;

use super::widiag::GraphFic;
use super::{Cx, LoadError, Seg, describe};
use crate::world::World;
use crate::world::azure::*;

const CLUSTER: &str = "microsoft.containerservice/managedclusters";
const ARC_CLUSTER: &str = "microsoft.kubernetes/connectedclusters";
const IDENTITY: &str = "microsoft.managedidentity/userassignedidentities";
const FIC: &str = "microsoft.managedidentity/userassignedidentities/federatedidentitycredentials";
const VAULT: &str = "microsoft.keyvault/vaults";
const STORAGE: &str = "microsoft.storage/storageaccounts";
const ROLE_ASSIGNMENT: &str = "microsoft.authorization/roleassignments";
const MANAGEMENT_GROUP: &str = "microsoft.management/managementgroups";
const ROLE_DEFINITION: &str = "microsoft.authorization/roledefinitions";
const DENY_ASSIGNMENT: &str = "microsoft.authorization/denyassignments";
const IDENTITY_BINDING: &str = "microsoft.containerservice/managedclusters/identitybindings";

pub(super) fn add_arm(
    cx: &Cx<'_>,
    world: &mut World,
    ty: &str,
    item: Value,
) -> Result<(), LoadError> {
    let what = format!("{ty} {}", describe(&item));
    // Flat `az` output carries no `properties`: read the whole object as the properties.
    let props = item
        .get("properties")
        .cloned()
        .unwrap_or_else(|| item.clone());
    let at: Vec<Seg> = match item.get("properties") {
        Some(_) => vec![Seg::Key("properties".into())],
        None => Vec::new(),
    };
    let head: Head = cx.typed(&what, &item)?;
    let az = &mut world.azure;
    match ty.to_ascii_lowercase().as_str() {
        CLUSTER => {
            let p: ClusterProps = cx.typed_at(&what, &props, &at)?;
            az.clusters.push(p.into_cluster(head));
        }
        ARC_CLUSTER => {
            let p: ClusterProps = cx.typed_at(&what, &props, &at)?;
            az.clusters.push(p.into_arc_cluster(head));
        }
        IDENTITY => {
            let p: IdentityProps = cx.typed_at(&what, &props, &at)?;
            az.identities.push(p.into_identity(head));
        }
        FIC => {
            let p: FicProps = cx.typed_at(&what, &props, &at)?;
            let parent = parent_of(
                cx,
                &what,
                &head.id,
                "federatedIdentityCredentials",
                "identity",
            )?;
            az.federated_credentials
                .push(p.into_credential(head, parent));
        }
        VAULT => {
            let p: VaultProps = cx.typed_at(&what, &props, &at)?;
            az.vaults.push(p.into_vault(head));
        }
        STORAGE => {
            let p: StorageProps = cx.typed_at(&what, &props, &at)?;
            az.storage_accounts.push(p.into_storage_account(head));
        }
        ROLE_ASSIGNMENT => {
            let p: RoleProps = cx.typed_at(&what, &props, &at)?;
            az.role_assignments.push(p.into_role_assignment(head));
        }
        ROLE_DEFINITION => {
            let p: RoleDefProps = cx.typed_at(&what, &props, &at)?;
            az.role_definitions.push(p.into_definition(head));
        }
        DENY_ASSIGNMENT => {
            let p: DenyProps = cx.typed_at(&what, &props, &at)?;
            az.deny_assignments.push(p.into_deny(head));
        }
        IDENTITY_BINDING => {
            let p: BindingProps = cx.typed_at(&what, &props, &at)?;
            let cluster_id = parent_of(cx, &what, &head.id, "identityBindings", "cluster")?;
            az.identity_bindings.push(p.into_binding(head, cluster_id));
        }
        MANAGEMENT_GROUP => {
            let p: MgProps = cx.typed_at(&what, &props, &at)?;
            let parent = p.details.and_then(|d| d.parent).map(|p| p.id);
            flatten_mg(
                head.id,
                p.display_name,
                parent,
                p.children,
                &mut az.management_groups,
            );
        }
        _ => cx.ignore(world, ty, &describe(&item)),
    }
    Ok(())
}

pub(super) fn add_graph(
    cx: &Cx<'_>,
    world: &mut World,
    ty: &str,
    item: Value,
) -> Result<(), LoadError> {
    let what = format!("{ty} {}", describe(&item));
    match ty {
        "#microsoft.graph.application" => {
            let app: GraphApp = cx.typed(&what, &item)?;
            for f in app.federated_identity_credentials {
                let owner = CredentialOwner::Application(app.app_id.clone());
                world
                    .azure
                    .federated_credentials
                    .push(f.into_credential(owner));
            }
            world.azure.applications.push(Application {
                id: app.id,
                app_id: app.app_id,
                display_name: app.display_name,
                sign_in_audience: app.sign_in_audience,
            });
        }
        "#microsoft.graph.servicePrincipal" => {
            let sp: GraphSp = cx.typed(&what, &item)?;
            world.azure.service_principals.push(ServicePrincipal {
                id: sp.id,
                app_id: sp.app_id,
                display_name: sp.display_name,
                app_owner_organization_id: sp.app_owner_organization_id,
                account_enabled: sp.account_enabled,
            });
        }
        "#microsoft.graph.group" => {
            let g: GraphGroup = cx.typed(&what, &item)?;
            world.azure.groups.push(Group {
                id: g.id,
                display_name: g.display_name,
                members: g.members.into_iter().map(|m| m.id).collect(),
            });
        }
        _ => cx.ignore(world, ty, &describe(&item)),
    }
    Ok(())
}

impl RoleDefProps {
    fn into_definition(self, head: Head) -> RoleDefinition {
        RoleDefinition {
            guid: head.name.clone(),
            id: head.id,
            role_name: self.role_name,
            role_type: self
                .role_type
                .or(self.arm_type.filter(|t| !t.contains('/'))),
            permissions: self.permissions.into_iter().map(Into::into).collect(),
        }
    }
}

/// A child resource's parent id (`<parent id>/<child>/<name>`), or the error that names the
/// shape the id must have.
fn parent_of(
    cx: &Cx<'_>,
    what: &str,
    id: &str,
    child: &str,
    parent: &str,
) -> Result<String, LoadError> {
    parent_id(id, child).ok_or_else(|| {
        cx.field_error(
            what,
            "id",
            format!("the id must be `<{parent} id>/{child}/<name>` so the {parent} is known"),
        )
    })
}

/// `.../federatedIdentityCredentials/x` -> the identity id.
fn parent_id(id: &str, child: &str) -> Option<String> {
    let lower = id.to_ascii_lowercase();
    let at = lower.rfind(&format!("/{}/", child.to_ascii_lowercase()))?;
    (at > 0).then(|| id[..at].to_string())
}

#[derive(Deserialize)]
struct Head {
    id: String,
    name: String,
    #[serde(default)]
    location: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BindingProps {
    managed_identity: BoundIdentity,
    #[serde(default)]
    oidc_issuer: Option<BindingIssuer>,
    #[serde(default)]
    provisioning_state: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BoundIdentity {
    resource_id: String,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    object_id: Option<String>,
    #[serde(default)]
    tenant_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BindingIssuer {
    #[serde(default)]
    oidc_issuer_url: Option<String>,
}

impl BindingProps {
    fn into_binding(self, head: Head, cluster_id: String) -> IdentityBinding {
        IdentityBinding {
            id: head.id,
            name: head.name,
            cluster_id,
            identity_id: self.managed_identity.resource_id,
            client_id: self.managed_identity.client_id,
            object_id: self.managed_identity.object_id,
            tenant_id: self.managed_identity.tenant_id,
            issuer_url: self.oidc_issuer.and_then(|o| o.oidc_issuer_url),
            provisioning_state: self.provisioning_state,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiServerAccess {
    #[serde(default)]
    enable_vnet_integration: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClusterProps {
    #[serde(default)]
    api_server_access_profile: Option<ApiServerAccess>,
    #[serde(default)]
    kubernetes_version: Option<String>,
    #[serde(default)]
    oidc_issuer_profile: Option<OidcProfile>,
    #[serde(default)]
    security_profile: Option<SecurityProfile>,
}

impl ClusterProps {
    fn into_cluster(self, head: Head) -> ManagedCluster {
        ManagedCluster {
            id: head.id,
            name: head.name,
            location: head.location,
            oidc_issuer_enabled: self.oidc_issuer_profile.as_ref().is_some_and(|o| o.enabled),
            issuer_url: self.oidc_issuer_profile.and_then(|o| o.issuer_url),
            workload_identity_enabled: self
                .security_profile
                .and_then(|s| s.workload_identity)
                .is_some_and(|w| w.enabled),
            kubernetes_version: self.kubernetes_version,
            arc: false,
            self_hosted_issuer: false,
            api_server_vnet_integration: self
                .api_server_access_profile
                .and_then(|a| a.enable_vnet_integration)
                .unwrap_or(false),
        }
    }

    /// An Arc cluster: Arc hosts its issuer (`issuerUrl`) unless the cluster names its own
    /// (`selfHostedIssuerUrl`), which then is the one its tokens carry (Microsoft.Kubernetes
    /// 2026-03-01, OidcIssuerProfile).
    fn into_arc_cluster(mut self, head: Head) -> ManagedCluster {
        let own = self
            .oidc_issuer_profile
            .as_mut()
            .and_then(|o| o.self_hosted_issuer_url.take())
            .filter(|u| !u.is_empty());
        let self_hosted_issuer = own.is_some();
        if let (Some(o), Some(url)) = (self.oidc_issuer_profile.as_mut(), own) {
            o.issuer_url = Some(url);
        }
        ManagedCluster {
            arc: true,
            self_hosted_issuer,
            ..self.into_cluster(head)
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OidcProfile {
    #[serde(default)]
    enabled: bool,
    /// ARM spells it `issuerURL`; `az aks show` prints `issuerUrl`.
    #[serde(default, alias = "issuerURL", alias = "issuerUrl")]
    issuer_url: Option<String>,
    #[serde(default)]
    self_hosted_issuer_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SecurityProfile {
    #[serde(default)]
    workload_identity: Option<Enabled>,
}

#[derive(Deserialize)]
struct Enabled {
    #[serde(default)]
    enabled: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdentityProps {
    #[serde(default)]
    tenant_id: Option<String>,
    #[serde(default)]
    principal_id: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
}

impl IdentityProps {
    fn into_identity(self, head: Head) -> ManagedIdentity {
        ManagedIdentity {
            id: head.id,
            name: head.name,
            location: head.location,
            tenant_id: self.tenant_id,
            principal_id: self.principal_id,
            client_id: self.client_id,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FicProps {
    issuer: String,
    #[serde(default)]
    subject: Option<String>,
    audiences: Vec<String>,
    #[serde(default)]
    claims_matching_expression: Option<super::widiag::Expression>,
}

impl FicProps {
    fn into_credential(self, head: Head, parent: String) -> FederatedCredential {
        FederatedCredential {
            id: head.id,
            name: head.name,
            owner: CredentialOwner::Identity(parent),
            issuer: self.issuer,
            subject: self.subject,
            audiences: self.audiences,
            claims_matching_expression: self.claims_matching_expression.map(|c| c.value),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VaultProps {
    #[serde(default)]
    tenant_id: Option<String>,
    #[serde(default)]
    vault_uri: Option<String>,
    #[serde(default)]
    enable_rbac_authorization: Option<bool>,
    #[serde(default)]
    access_policies: Vec<ArmAccessPolicy>,
    #[serde(default)]
    public_network_access: Option<String>,
    #[serde(default)]
    network_acls: Option<ArmNetworkAcls>,
    #[serde(default)]
    private_endpoint_connections: Vec<PrivateEndpointConnection>,
}

impl VaultProps {
    fn into_vault(self, head: Head) -> KeyVault {
        KeyVault {
            id: head.id,
            name: head.name,
            location: head.location,
            tenant_id: self.tenant_id,
            vault_uri: self.vault_uri,
            rbac_authorization: self.enable_rbac_authorization.unwrap_or(false),
            access_policies: self.access_policies.into_iter().map(Into::into).collect(),
            public_network_access: self.public_network_access,
            network_acls: self.network_acls.map(Into::into),
            private_endpoints: approved(self.private_endpoint_connections),
        }
    }
}

/// `properties.privateEndpointConnections[]` of a vault or storage account: ARM nests the
/// connection's fields under `properties`; `az` prints some flattened.
#[derive(Deserialize)]
struct PrivateEndpointConnection {
    #[serde(default)]
    properties: Option<ConnectionProps>,
    #[serde(flatten)]
    flat: ConnectionProps,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConnectionProps {
    #[serde(default)]
    private_endpoint: Option<IdOnly>,
    #[serde(default)]
    private_link_service_connection_state: Option<ConnectionState>,
}

#[derive(Deserialize)]
struct IdOnly {
    #[serde(default)]
    id: Option<String>,
}

#[derive(Deserialize)]
struct ConnectionState {
    #[serde(default)]
    status: Option<String>,
}

/// The private endpoints of the connections the resource approved (a pending or rejected one
/// carries no traffic).
fn approved(connections: Vec<PrivateEndpointConnection>) -> Vec<String> {
    connections
        .into_iter()
        .filter_map(|c| {
            let c = c.properties.unwrap_or(c.flat);
            let approved = c
                .private_link_service_connection_state
                .and_then(|s| s.status)
                .is_some_and(|s| s.eq_ignore_ascii_case("Approved"));
            approved.then(|| c.private_endpoint.and_then(|p| p.id).unwrap_or_default())
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArmAccessPolicy {
    #[serde(default)]
    tenant_id: Option<String>,
    object_id: String,
    #[serde(default)]
    application_id: Option<String>,
    #[serde(default)]
    permissions: Permissions,
}

#[derive(Deserialize, Default)]
struct Permissions {
    #[serde(default)]
    secrets: Vec<String>,
    #[serde(default)]
    keys: Vec<String>,
    #[serde(default)]
    certificates: Vec<String>,
}

impl From<ArmAccessPolicy> for AccessPolicy {
    fn from(p: ArmAccessPolicy) -> Self {
        AccessPolicy {
            tenant_id: p.tenant_id,
            object_id: p.object_id,
            application_id: p.application_id,
            secrets: p.permissions.secrets,
            keys: p.permissions.keys,
            certificates: p.permissions.certificates,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArmNetworkAcls {
    #[serde(default = "allow")]
    default_action: String,
    #[serde(default)]
    bypass: Option<String>,
    #[serde(default)]
    ip_rules: Vec<IpRule>,
    #[serde(default)]
    virtual_network_rules: Vec<VnetRule>,
}

fn allow() -> String {
    "Allow".into()
}

#[derive(Deserialize)]
struct IpRule {
    value: String,
}

#[derive(Deserialize)]
struct VnetRule {
    id: String,
}

impl From<ArmNetworkAcls> for NetworkAcls {
    fn from(n: ArmNetworkAcls) -> Self {
        NetworkAcls {
            default_action: n.default_action,
            bypass: n.bypass,
            ip_rules: n.ip_rules.into_iter().map(|r| r.value).collect(),
            virtual_network_rules: n.virtual_network_rules.into_iter().map(|r| r.id).collect(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StorageProps {
    #[serde(default)]
    primary_endpoints: Option<Endpoints>,
    #[serde(default)]
    public_network_access: Option<String>,
    #[serde(default)]
    network_acls: Option<ArmNetworkAcls>,
    #[serde(default)]
    private_endpoint_connections: Vec<PrivateEndpointConnection>,
}

impl StorageProps {
    fn into_storage_account(self, head: Head) -> StorageAccount {
        StorageAccount {
            id: head.id,
            name: head.name,
            location: head.location,
            blob_endpoint: self.primary_endpoints.and_then(|e| e.blob),
            public_network_access: self.public_network_access,
            network_acls: self.network_acls.map(Into::into),
            private_endpoints: approved(self.private_endpoint_connections),
        }
    }
}

#[derive(Deserialize)]
struct Endpoints {
    #[serde(default)]
    blob: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoleProps {
    principal_id: String,
    #[serde(default)]
    principal_type: Option<String>,
    role_definition_id: String,
    #[serde(default)]
    role_definition_name: Option<String>,
    scope: String,
    #[serde(default)]
    condition: Option<String>,
    #[serde(default)]
    condition_version: Option<String>,
}

impl RoleProps {
    fn into_role_assignment(self, head: Head) -> RoleAssignment {
        RoleAssignment {
            id: head.id,
            principal_id: self.principal_id,
            principal_type: self.principal_type,
            role_definition_id: self.role_definition_id,
            role_definition_name: self.role_definition_name,
            scope: self.scope,
            condition: self.condition,
            condition_version: self.condition_version,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DenyProps {
    #[serde(default)]
    deny_assignment_name: Option<String>,
    scope: String,
    #[serde(default)]
    permissions: Vec<ArmPermissions>,
    #[serde(default)]
    principals: Vec<DenyPrincipal>,
    #[serde(default)]
    exclude_principals: Vec<DenyPrincipal>,
    #[serde(default)]
    do_not_apply_to_child_scopes: bool,
}

#[derive(Deserialize)]
struct DenyPrincipal {
    id: String,
}

impl DenyProps {
    fn into_deny(self, head: Head) -> DenyAssignment {
        let ids = |ps: Vec<DenyPrincipal>| ps.into_iter().map(|p| p.id).collect();
        DenyAssignment {
            id: head.id,
            name: self.deny_assignment_name,
            scope: self.scope,
            permissions: self.permissions.into_iter().map(Into::into).collect(),
            principals: ids(self.principals),
            exclude_principals: ids(self.exclude_principals),
            do_not_apply_to_child_scopes: self.do_not_apply_to_child_scopes,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoleDefProps {
    #[serde(default)]
    role_name: Option<String>,
    /// `az` prints `roleType`; ARM's `properties.type` says the same (flat `az` output's
    /// top-level `type` is the resource type instead).
    #[serde(default)]
    role_type: Option<String>,
    #[serde(default, rename = "type")]
    arm_type: Option<String>,
    #[serde(default)]
    permissions: Vec<ArmPermissions>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArmPermissions {
    #[serde(default)]
    actions: Vec<String>,
    #[serde(default)]
    not_actions: Vec<String>,
    #[serde(default)]
    data_actions: Vec<String>,
    #[serde(default)]
    not_data_actions: Vec<String>,
}

impl From<ArmPermissions> for RolePermissions {
    fn from(p: ArmPermissions) -> Self {
        RolePermissions {
            actions: p.actions,
            not_actions: p.not_actions,
            data_actions: p.data_actions,
            not_data_actions: p.not_data_actions,
        }
    }
}

/// `az account management-group show --expand --recurse`: children nest to any depth.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MgProps {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    details: Option<MgDetails>,
    #[serde(default)]
    children: Option<Vec<MgChild>>,
}

#[derive(Deserialize)]
struct MgDetails {
    #[serde(default)]
    parent: Option<MgParent>,
}

#[derive(Deserialize)]
struct MgParent {
    id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MgChild {
    id: String,
    #[serde(rename = "type", default)]
    ty: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    children: Option<Vec<MgChild>>,
}

/// A management group and, as groups of their own, the management groups nested in it.
fn flatten_mg(
    id: String,
    display_name: Option<String>,
    parent: Option<String>,
    children: Option<Vec<MgChild>>,
    out: &mut Vec<ManagementGroup>,
) {
    let children = children.unwrap_or_default();
    out.push(ManagementGroup {
        id: id.clone(),
        display_name,
        parent,
        children: children.iter().map(|c| c.id.clone()).collect(),
    });
    // A child listed without its own children is only a reference (a written-out world lists
    // each management group as a document of its own).
    for c in children {
        if c.ty.to_ascii_lowercase().ends_with(MANAGEMENT_GROUP) && c.children.is_some() {
            flatten_mg(c.id, c.display_name, Some(id.clone()), c.children, out);
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphApp {
    id: String,
    app_id: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    sign_in_audience: Option<String>,
    #[serde(default)]
    federated_identity_credentials: Vec<GraphFic>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphGroup {
    id: String,
    #[serde(default)]
    display_name: Option<String>,
    /// `$expand=members`: directory objects, of which widiag keeps the id.
    #[serde(default)]
    members: Vec<GraphMember>,
}

#[derive(Deserialize)]
struct GraphMember {
    id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphSp {
    id: String,
    app_id: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    app_owner_organization_id: Option<String>,
    #[serde(default)]
    account_enabled: Option<bool>,
}
