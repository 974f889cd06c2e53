//! Generates synthetic worlds of any size, as world-file YAML, for benchmarks and soak tests.
//! Deterministic: the same sizes give the same text. One pod in twenty carries a fault.

use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub pods: usize,
    pub service_accounts: usize,
    pub identities: usize,
    pub fics_per_identity: usize,
    pub namespaces: usize,
}

impl Default for Sizes {
    fn default() -> Self {
        Sizes {
            pods: 10_000,
            service_accounts: 2_000,
            identities: 500,
            fics_per_identity: 3,
            namespaces: 50,
        }
    }
}

const TENANT: &str = "8f3c2a10-5b7e-4c1d-9a2f-6e4b1d0c7a93";
const SUB: &str = "2b6d9c4e-1f3a-4e8b-b7c5-0d9a8e6f4c21";
const ISSUER: &str = "https://eastus.oic.prod-aks.azure.com/8f3c2a10-5b7e-4c1d-9a2f-6e4b1d0c7a93/00000000-0000-4000-8000-000000000000/";

fn guid(kind: u32, n: usize) -> String {
    format!("{kind:08x}-0000-4000-8000-{n:012x}")
}

/// A world file with `sizes` objects: an AKS cluster and add-on webhook, namespaces, service
/// accounts spread over the namespaces, identities each federated with some service accounts,
/// and Deployment pods using them.
pub fn world_yaml(sizes: Sizes) -> String {
    let sizes = Sizes {
        namespaces: sizes.namespaces.max(1),
        service_accounts: sizes.service_accounts.max(1),
        identities: sizes.identities.max(1),
        ..sizes
    };
    let mut out = String::with_capacity(
        sizes.pods * 2200 + sizes.service_accounts * 400 + sizes.identities * 1200,
    );
    write_cluster(&mut out);
    write_kube(&mut out, sizes);
    write_identities(&mut out, sizes);
    write_vaults(&mut out, sizes.identities);
    out
}

/// The world info, the AKS cluster, and the add-on webhook with its ConfigMap.
fn write_cluster(out: &mut String) {
    let _ = write!(
        out,
        "apiVersion: widiag.io/v1\nkind: WorldInfo\ncapturedAt: \"2026-11-20T10:00:00Z\"\nclusterName: generated\ntenantId: {TENANT}\n\
         ---\nid: /subscriptions/{SUB}/resourcegroups/gen-rg/providers/Microsoft.ContainerService/managedClusters/generated\n\
         name: generated\ntype: Microsoft.ContainerService/managedClusters\nlocation: eastus\nproperties:\n  oidcIssuerProfile:\n    enabled: true\n    issuerURL: {ISSUER}\n  securityProfile:\n    workloadIdentity:\n      enabled: true\n\
         ---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: azure-wi-webhook-controller-manager, namespace: kube-system}}\n\
         spec:\n  selector: {{matchLabels: {{azure-workload-identity.io/system: \"true\"}}}}\n  template:\n    metadata: {{labels: {{azure-workload-identity.io/system: \"true\"}}}}\n    spec:\n      containers: [{{name: manager, image: \"mcr.microsoft.com/oss/v2/azure/workload-identity/webhook:v1.5.1\"}}]\nstatus: {{readyReplicas: 2}}\n\
         ---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: azure-wi-webhook-config, namespace: kube-system}}\ndata: {{AZURE_ENVIRONMENT: AzurePublicCloud, AZURE_TENANT_ID: {TENANT}}}\n"
    );
}

/// Namespaces, ServiceAccounts and pods, in one List.
fn write_kube(out: &mut String, sizes: Sizes) {
    let Sizes {
        pods,
        service_accounts,
        identities,
        namespaces,
        ..
    } = sizes;
    out.push_str("---\napiVersion: v1\nkind: List\nitems:\n");
    for n in 0..namespaces {
        let _ = writeln!(
            out,
            "- apiVersion: v1\n  kind: Namespace\n  metadata: {{name: ns{n}}}"
        );
    }
    let sa_identity = |s: usize| s % identities;
    for s in 0..service_accounts {
        let _ = writeln!(
            out,
            "- apiVersion: v1\n  kind: ServiceAccount\n  metadata:\n    name: sa{s}\n    namespace: ns{}\n    annotations:\n      azure.workload.identity/client-id: {}",
            s % namespaces,
            guid(1, sa_identity(s))
        );
    }
    for p in 0..pods {
        let s = p % service_accounts;
        let ns = s % namespaces;
        let client = guid(1, sa_identity(s));
        // One pod in twenty was created before its ServiceAccount was re-annotated.
        let env_client = if p % 20 == 7 { guid(9, p) } else { client };
        let _ = write!(
            out,
            "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: app{s}-5c7d9b8f6a-{p:05}\n    namespace: ns{ns}\n    labels: {{app: app{s}, azure.workload.identity/use: \"true\", pod-template-hash: 5c7d9b8f6a}}\n\
             \x20   ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: app{s}-5c7d9b8f6a, uid: {}, controller: true}}]\n\
             \x20 spec:\n    serviceAccountName: sa{s}\n    nodeName: node-{}\n    containers:\n    - name: app\n      image: example.azurecr.io/app{s}:1.0\n      env:\n\
             \x20     - {{name: VAULT_URL, value: \"https://kv{}.vault.azure.net/\"}}\n\
             \x20     - {{name: AZURE_CLIENT_ID, value: {env_client}}}\n      - {{name: AZURE_TENANT_ID, value: {TENANT}}}\n\
             \x20     - {{name: AZURE_FEDERATED_TOKEN_FILE, value: /var/run/secrets/azure/tokens/azure-identity-token}}\n\
             \x20     - {{name: AZURE_AUTHORITY_HOST, value: \"https://login.microsoftonline.com/\"}}\n\
             \x20     volumeMounts: [{{name: azure-identity-token, mountPath: /var/run/secrets/azure/tokens, readOnly: true}}]\n\
             \x20   volumes:\n    - name: azure-identity-token\n      projected:\n        sources: [{{serviceAccountToken: {{audience: api://AzureADTokenExchange, expirationSeconds: 3600, path: azure-identity-token}}}}]\n",
            guid(3, s),
            p % 64,
            sa_identity(s) % 100
        );
    }
}

/// The identities, each with its federated credentials.
fn write_identities(out: &mut String, sizes: Sizes) {
    let Sizes {
        service_accounts,
        identities,
        fics_per_identity,
        namespaces,
        ..
    } = sizes;
    for i in 0..identities {
        let id = format!(
            "/subscriptions/{SUB}/resourcegroups/gen-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id{i}"
        );
        let _ = write!(
            out,
            "---\nid: {id}\nname: id{i}\ntype: Microsoft.ManagedIdentity/userAssignedIdentities\nlocation: eastus\nproperties: {{tenantId: {TENANT}, clientId: {}, principalId: {}}}\n---\nvalue:\n",
            guid(1, i),
            guid(2, i)
        );
        // Federate the identity with the service accounts that point at it (the first few).
        let mut sas = (i..service_accounts)
            .step_by(identities)
            .take(fics_per_identity.max(1));
        for f in 0..fics_per_identity {
            let subject = match sas.next() {
                Some(s) => format!("system:serviceaccount:ns{}:sa{s}", s % namespaces),
                None => format!("system:serviceaccount:spare:sa-{i}-{f}"),
            };
            let _ = write!(
                out,
                "- id: {id}/federatedIdentityCredentials/fic{f}\n  name: fic{f}\n  type: Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials\n  properties: {{issuer: \"{ISSUER}\", subject: \"{subject}\", audiences: [api://AzureADTokenExchange]}}\n"
            );
        }
    }
}

/// Up to a hundred vaults, and a role on one of them for each identity.
fn write_vaults(out: &mut String, identities: usize) {
    for v in 0..identities.min(100) {
        let _ = write!(
            out,
            "---\nid: /subscriptions/{SUB}/resourceGroups/gen-rg/providers/Microsoft.KeyVault/vaults/kv{v}\nname: kv{v}\ntype: Microsoft.KeyVault/vaults\nlocation: eastus\n\
             properties: {{tenantId: {TENANT}, vaultUri: \"https://kv{v}.vault.azure.net/\", enableRbacAuthorization: true}}\n"
        );
    }
    out.push_str("---\n");
    for i in 0..identities {
        let _ = writeln!(
            out,
            "- {{id: /subscriptions/{SUB}/resourceGroups/gen-rg/providers/Microsoft.KeyVault/vaults/kv{v}/providers/Microsoft.Authorization/roleAssignments/{g}, name: {g}, type: Microsoft.Authorization/roleAssignments, principalId: {p}, roleDefinitionId: /subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6, scope: /subscriptions/{SUB}/resourceGroups/gen-rg/providers/Microsoft.KeyVault/vaults/kv{v}}}",
            v = i % 100,
            g = guid(4, i),
            p = guid(2, i)
        );
    }
}
