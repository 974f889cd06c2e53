//! Azure resources in widiag's own small structs, so no SDK type reaches the core.
//! The parser accepts ARM, Microsoft Graph and `az` CLI shapes and normalises them here.

use serde::Serialize;

#[derive(Debug, Clone, Default)]
pub struct AzureObjects {
    pub clusters: Vec<ManagedCluster>,
    pub identities: Vec<ManagedIdentity>,
    pub applications: Vec<Application>,
    pub service_principals: Vec<ServicePrincipal>,
    /// Every federated credential, whatever carries it.
    pub federated_credentials: Vec<FederatedCredential>,
    pub vaults: Vec<KeyVault>,
    pub storage_accounts: Vec<StorageAccount>,
    pub role_assignments: Vec<RoleAssignment>,
    /// Entra groups, with the members the world knows (role assignments to a group reach them).
    pub groups: Vec<Group>,
    /// Management groups, each with its direct children (role assignments at one reach every
    /// subscription below it).
    pub management_groups: Vec<ManagementGroup>,
    /// Role definitions read from ARM (custom roles; built-in ones may be listed too).
    pub role_definitions: Vec<RoleDefinition>,
    /// Deny assignments (managed applications, deployment stacks): they win over any role.
    pub deny_assignments: Vec<DenyAssignment>,
    /// AKS identity bindings (preview): a managed identity bound to a cluster.
    pub identity_bindings: Vec<IdentityBinding>,
}

impl AzureObjects {
    pub fn len(&self) -> usize {
        self.clusters.len()
            + self.identities.len()
            + self.applications.len()
            + self.service_principals.len()
            + self.federated_credentials.len()
            + self.vaults.len()
            + self.storage_accounts.len()
            + self.role_assignments.len()
            + self.groups.len()
            + self.management_groups.len()
            + self.role_definitions.len()
            + self.deny_assignments.len()
            + self.identity_bindings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A Microsoft Entra group (`#microsoft.graph.group`, as `GET /groups/{id}?$expand=members`
/// prints it).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: String,
    pub display_name: Option<String>,
    /// Object ids of its direct members: service principals, users, other groups.
    pub members: Vec<String>,
}

/// `Microsoft.Authorization/denyAssignments`: operations denied to principals at a scope.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DenyAssignment {
    pub id: String,
    pub name: Option<String>,
    pub scope: String,
    pub permissions: Vec<RolePermissions>,
    /// Object ids it applies to; `00000000-0000-0000-0000-000000000000` is everyone.
    pub principals: Vec<String>,
    pub exclude_principals: Vec<String>,
    pub do_not_apply_to_child_scopes: bool,
}

/// `Microsoft.Authorization/roleDefinitions`: what a role permits, as ARM stores it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleDefinition {
    pub id: String,
    /// The definition's GUID (ARM's `name`), which assignments name.
    pub guid: String,
    pub role_name: Option<String>,
    /// `BuiltInRole` or `CustomRole`.
    pub role_type: Option<String>,
    pub permissions: Vec<RolePermissions>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolePermissions {
    pub actions: Vec<String>,
    pub not_actions: Vec<String>,
    pub data_actions: Vec<String>,
    pub not_data_actions: Vec<String>,
}

/// `Microsoft.Management/managementGroups`, flattened: nested children are groups of their own.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagementGroup {
    /// `/providers/Microsoft.Management/managementGroups/<name>`.
    pub id: String,
    pub display_name: Option<String>,
    /// The parent management group's id (`details.parent.id`).
    pub parent: Option<String>,
    /// Ids of the direct children: `/subscriptions/<id>` or management group ids.
    pub children: Vec<String>,
}

/// `Microsoft.ContainerService/managedClusters`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedCluster {
    pub id: String,
    pub name: String,
    pub location: Option<String>,
    pub oidc_issuer_enabled: bool,
    pub issuer_url: Option<String>,
    pub workload_identity_enabled: bool,
    pub kubernetes_version: Option<String>,
    /// `Microsoft.Kubernetes/connectedClusters`: an Arc-enabled cluster (AKS on Azure Local
    /// too), whose issuer Arc hosts unless the cluster brings its own.
    pub arc: bool,
    /// An Arc cluster's issuer is its own `selfHostedIssuerUrl` (an AKS, EKS or GKE cluster
    /// that already publishes one), not Arc's `issuerUrl`.
    pub self_hosted_issuer: bool,
    /// `apiServerAccessProfile.enableVnetIntegration`: identity bindings do not support it yet.
    pub api_server_vnet_integration: bool,
}

/// `Microsoft.ContainerService/managedClusters/identityBindings` (preview): a user-assigned
/// identity bound to a cluster. AKS gives the identity one federated credential,
/// `aks-identity-binding`, whose issuer is the binding's (learn.microsoft.com/azure/aks/identity-bindings).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityBinding {
    pub id: String,
    pub name: String,
    /// The managed cluster the binding belongs to (its id's parent).
    pub cluster_id: String,
    /// `properties.managedIdentity.resourceId`.
    pub identity_id: String,
    pub client_id: Option<String>,
    pub object_id: Option<String>,
    pub tenant_id: Option<String>,
    /// `properties.oidcIssuer.oidcIssuerUrl`: `https://ib.oic.prod-aks.azure.com/<tenant>/<client id>`.
    pub issuer_url: Option<String>,
    pub provisioning_state: Option<String>,
}

/// `Microsoft.ManagedIdentity/userAssignedIdentities`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedIdentity {
    pub id: String,
    pub name: String,
    pub location: Option<String>,
    pub tenant_id: Option<String>,
    pub principal_id: Option<String>,
    pub client_id: Option<String>,
}

impl ManagedIdentity {
    pub fn resource_group(&self) -> Option<&str> {
        arm_segment(&self.id, "resourcegroups")
    }
    pub fn subscription(&self) -> Option<&str> {
        arm_segment(&self.id, "subscriptions")
    }
}

/// An Entra application (`#microsoft.graph.application`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    /// Graph object id.
    pub id: String,
    pub app_id: String,
    pub display_name: Option<String>,
    pub sign_in_audience: Option<String>,
}

/// A service principal (`#microsoft.graph.servicePrincipal`): the object id that role
/// assignments and access policies name for an application.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipal {
    pub id: String,
    pub app_id: String,
    pub display_name: Option<String>,
    pub app_owner_organization_id: Option<String>,
    /// `accountEnabled`: false when the enterprise application is disabled, and Entra issues it
    /// no token (AADSTS7000112). Absent means enabled, Graph's default.
    pub account_enabled: Option<bool>,
}

/// Who carries a federated credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "ref")]
pub enum CredentialOwner {
    /// ARM id of the user-assigned identity.
    Identity(String),
    /// appId or object id of the application.
    Application(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FederatedCredential {
    pub id: String,
    pub name: String,
    pub owner: CredentialOwner,
    pub issuer: String,
    /// `None` for flexible FICs that use `claimsMatchingExpression` instead.
    pub subject: Option<String>,
    pub audiences: Vec<String>,
    pub claims_matching_expression: Option<String>,
}

/// `Microsoft.KeyVault/vaults`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyVault {
    pub id: String,
    pub name: String,
    pub location: Option<String>,
    pub tenant_id: Option<String>,
    pub vault_uri: Option<String>,
    /// `enableRbacAuthorization`; absent in ARM means access policies.
    pub rbac_authorization: bool,
    pub access_policies: Vec<AccessPolicy>,
    pub public_network_access: Option<String>,
    pub network_acls: Option<NetworkAcls>,
    /// Private endpoints whose connection the vault approved: a way in the firewall does not
    /// govern.
    pub private_endpoints: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessPolicy {
    pub tenant_id: Option<String>,
    pub object_id: String,
    pub application_id: Option<String>,
    pub secrets: Vec<String>,
    pub keys: Vec<String>,
    pub certificates: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkAcls {
    /// `Allow` or `Deny`.
    pub default_action: String,
    pub bypass: Option<String>,
    pub ip_rules: Vec<String>,
    pub virtual_network_rules: Vec<String>,
}

/// `Microsoft.Storage/storageAccounts`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageAccount {
    pub id: String,
    pub name: String,
    pub location: Option<String>,
    pub blob_endpoint: Option<String>,
    pub public_network_access: Option<String>,
    pub network_acls: Option<NetworkAcls>,
    /// Private endpoints whose connection the account approved.
    pub private_endpoints: Vec<String>,
}

/// `Microsoft.Authorization/roleAssignments`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignment {
    pub id: String,
    pub principal_id: String,
    pub principal_type: Option<String>,
    /// Full id or bare GUID of the role definition.
    pub role_definition_id: String,
    /// As `az role assignment list` prints it, when given.
    pub role_definition_name: Option<String>,
    pub scope: String,
    /// An ABAC condition (`condition`, version `conditionVersion`) that narrows the grant.
    pub condition: Option<String>,
    pub condition_version: Option<String>,
}

impl RoleAssignment {
    /// The role definition GUID, whatever form the id was given in.
    pub fn role_guid(&self) -> &str {
        self.role_definition_id
            .rsplit('/')
            .next()
            .unwrap_or_default()
    }
}

/// The value after `key` in an ARM id, compared case-insensitively as ARM does.
pub fn arm_segment<'a>(id: &'a str, key: &str) -> Option<&'a str> {
    let mut parts = id.split('/').filter(|p| !p.is_empty());
    while let Some(p) = parts.next() {
        if p.eq_ignore_ascii_case(key) {
            return parts.next();
        }
    }
    None
}

/// Whether an assignment at `scope` covers `resource_id` (prefix on a segment boundary).
pub fn scope_covers(scope: &str, resource_id: &str) -> bool {
    let scope = scope.trim_end_matches('/');
    if scope.is_empty() {
        return true;
    }
    // ARM ids compare case-insensitively; no allocation, this runs per pod and target.
    let (s, r) = (scope.as_bytes(), resource_id.as_bytes());
    r.len() >= s.len()
        && r[..s.len()].eq_ignore_ascii_case(s)
        && (r.len() == s.len() || r[s.len()] == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_is_a_segment_prefix() {
        let acct =
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a";
        assert!(scope_covers("/subscriptions/s", acct));
        assert!(scope_covers("/subscriptions/S/resourcegroups/RG", acct));
        assert!(!scope_covers("/subscriptions/s/resourceGroups/r", acct));
        assert!(!scope_covers(
            &format!("{acct}/blobServices/default/containers/c"),
            acct
        ));
        assert_eq!(arm_segment(acct, "resourceGroups"), Some("rg"));
    }
}
