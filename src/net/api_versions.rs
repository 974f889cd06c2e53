//! Every versioned Azure API widiag calls, chosen on purpose and kept in one table: the version,
//! why that one, and where its behaviour or retirement is published. `RETIREMENTS` holds the
//! retirement dates Azure has announced; tests/api_versions.rs fails once a version in use is
//! past one, and checks docs/architecture.md lists each row.

/// One API surface and the version widiag sends.
pub struct Api {
    pub surface: &'static str,
    pub version: &'static str,
    pub why: &'static str,
    pub source: &'static str,
}

/// An announced retirement: versions of `surface` before `before` stop working on `on`.
pub struct Retirement {
    pub surface: &'static str,
    pub before: &'static str,
    pub on: &'static str,
    pub source: &'static str,
}

pub const MANAGED_IDENTITY: &str = "2026-05-31";
pub const KEY_VAULT: &str = "2026-02-01";
pub const MANAGED_CLUSTERS: &str = "2024-05-01";
pub const IDENTITY_BINDINGS: &str = "2025-10-02-preview";
pub const CONNECTED_CLUSTERS: &str = "2026-03-01";
pub const STORAGE_ACCOUNTS: &str = "2023-05-01";
pub const AUTHORIZATION: &str = "2022-04-01";
pub const SUBSCRIPTIONS: &str = "2022-12-01";
pub const KEY_VAULT_DATA: &str = "7.5";
pub const STORAGE_DATA: &str = "2025-01-05";

pub const USED: &[Api] = &[
    Api {
        surface: "Microsoft.ManagedIdentity",
        version: MANAGED_IDENTITY,
        why: "identities and their federated credentials; the first stable version whose credentials carry claimsMatchingExpression (flexible credentials)",
        source: "Azure/azure-rest-api-specs specification/msi/resource-manager/Microsoft.ManagedIdentity/ManagedIdentity/examples/2026-05-31/FederatedIdentityCredentialList.json",
    },
    Api {
        surface: "Microsoft.KeyVault",
        version: KEY_VAULT,
        why: "vaults, access policies, network rules; versions before it retire on 2027-02-27. From it, new vaults default to RBAC, while a vault whose enableRbacAuthorization is null keeps access policies (the analysis reads null so)",
        source: "learn.microsoft.com/azure/key-vault/general/migrate-api-version, /azure/key-vault/general/access-control-default",
    },
    Api {
        surface: "Microsoft.ContainerService",
        version: MANAGED_CLUSTERS,
        why: "managedClusters with oidcIssuerProfile and securityProfile.workloadIdentity",
        source: "Azure/azure-rest-api-specs specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2024-05-01",
    },
    Api {
        surface: "Microsoft.ContainerService identityBindings",
        version: IDENTITY_BINDINGS,
        why: "AKS identity bindings (preview, no stable version yet): managedIdentity and oidcIssuer of each binding, and the clusters' apiServerAccessProfile.enableVnetIntegration, read only when a pod asks for a binding",
        source: "Azure/azure-rest-api-specs specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview (IdentityBindings_Get); learn.microsoft.com/azure/aks/identity-bindings",
    },
    Api {
        surface: "Microsoft.Kubernetes",
        version: CONNECTED_CLUSTERS,
        why: "Arc-enabled clusters (AKS on Azure Local too) with oidcIssuerProfile (Arc's issuerUrl or the cluster's selfHostedIssuerUrl) and securityProfile.workloadIdentity",
        source: "Azure/azure-rest-api-specs specification/hybridkubernetes/resource-manager/Microsoft.Kubernetes/stable/2026-03-01/connectedClusters.json (OidcIssuerProfile)",
    },
    Api {
        surface: "Microsoft.Storage",
        version: STORAGE_ACCOUNTS,
        why: "storage accounts with primaryEndpoints, networkAcls, publicNetworkAccess and privateEndpointConnections",
        source: "Azure/azure-rest-api-specs specification/storage/resource-manager/Microsoft.Storage/stable/2023-05-01",
    },
    Api {
        surface: "Microsoft.Authorization",
        version: AUTHORIZATION,
        why: "role assignments (with condition and the assignedTo() filter), role definitions, deny assignments",
        source: "learn.microsoft.com/azure/role-based-access-control/role-assignments-list-rest",
    },
    Api {
        surface: "Microsoft.Resources",
        version: SUBSCRIPTIONS,
        why: "the subscriptions the reader can see",
        source: "learn.microsoft.com/rest/api/resources/subscriptions/list",
    },
    Api {
        surface: "Key Vault data plane",
        version: KEY_VAULT_DATA,
        why: "the secret read the resource probe makes; data plane versions do not retire with the control plane's",
        source: "learn.microsoft.com/azure/key-vault/general/migrate-api-version",
    },
    Api {
        surface: "Blob service (x-ms-version)",
        version: STORAGE_DATA,
        why: "container listing and user delegation keys with Entra tokens",
        source: "learn.microsoft.com/rest/api/storageservices/versioning-for-the-azure-storage-services",
    },
    Api {
        surface: "Microsoft Graph",
        version: "v1.0",
        why: "applications, service principals (accountEnabled), transitive group memberships",
        source: "learn.microsoft.com/graph/versioning-and-support",
    },
];

pub const RETIREMENTS: &[Retirement] = &[Retirement {
    surface: "Microsoft.KeyVault",
    before: "2026-02-01",
    on: "2027-02-27",
    source: "learn.microsoft.com/azure/key-vault/general/migrate-api-version",
}];
