//! The strict shape of each value a fix command names. A value that fails its field's grammar is
//! not pasted into a command (it is the problem, or text someone planted); one that passes is
//! still shell-quoted where it needs it. Each rule names where it comes from.

/// A field's grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grammar {
    /// Namespaces: k8s.io/apimachinery validation `IsDNS1123Label` (63 characters).
    Dns1123Label,
    /// Pods, ServiceAccounts, nodes: `IsDNS1123Subdomain` (253 characters).
    Dns1123Subdomain,
    /// `deploy/web`, kubectl's KIND/NAME with a DNS-1123 subdomain name.
    KubeRef,
    /// Client, tenant and object IDs: a GUID (8-4-4-4-12 hex digits).
    Guid,
    /// ARM resource IDs: `/subscriptions/...` or `/providers/...`, segments of the characters
    /// Azure resource and group names allow (Azure naming rules, "Microsoft.Resources").
    ArmId,
    /// Issuers and authority hosts: an absolute http(s) URL (RFC 3986) with no whitespace,
    /// quote or backslash.
    Url,
    /// Key Vault names: 3-24 letters, digits and hyphens, starting with a letter, ending with a
    /// letter or digit, no consecutive hyphens (naming rules, Microsoft.KeyVault/vaults).
    VaultName,
    /// User-assigned identities: 3-128 letters, digits, hyphens and underscores, starting with a
    /// letter or digit (naming rules, Microsoft.ManagedIdentity/userAssignedIdentities).
    IdentityName,
    /// Federated identity credentials: 3-120 letters, digits, hyphens and underscores, starting
    /// with a letter or digit (Microsoft Entra, "federated identity credential" name rules).
    CredentialName,
    /// Resource groups: 1-90 letters, digits, `_ - . ( )`, not ending in a period (naming rules,
    /// Microsoft.Resources/resourceGroups).
    ResourceGroup,
    /// AKS clusters: 1-63 letters, digits, hyphens and underscores, starting and ending with a
    /// letter or digit (naming rules, Microsoft.ContainerService/managedClusters).
    ClusterName,
    /// Anything else: no grammar beyond "no control characters"; always quoted as needed.
    Free,
}

/// The grammar of each fix placeholder (assets/findings.yaml).
pub fn of_placeholder(name: &str) -> Grammar {
    match name {
        "namespace" | "webhook_namespace" | "duplicate_namespace" | "volume" => {
            Grammar::Dns1123Label
        }
        "pod" | "sa" | "node" => Grammar::Dns1123Subdomain,
        "workload" => Grammar::KubeRef,
        "client_id" | "tenant_id" | "principal_id" | "other_client_id" | "identity_tenant" => {
            Grammar::Guid
        }
        "vault_id" | "storage_id" => Grammar::ArmId,
        "issuer" | "issuer_no_slash" | "token_iss" | "authority" => Grammar::Url,
        "vault" => Grammar::VaultName,
        "identity_name" => Grammar::IdentityName,
        "fic_name" => Grammar::CredentialName,
        "cluster_rg" | "identity_rg" => Grammar::ResourceGroup,
        "cluster" => Grammar::ClusterName,
        _ => Grammar::Free,
    }
}

impl Grammar {
    pub fn accepts(self, v: &str) -> bool {
        if v.chars().any(super::visible::is_hidden) {
            return false;
        }
        match self {
            Grammar::Dns1123Label => dns_label(v),
            Grammar::Dns1123Subdomain => v.len() <= 253 && v.split('.').all(dns_label),
            Grammar::KubeRef => v.split_once('/').is_some_and(|(kind, name)| {
                !kind.is_empty()
                    && kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'.')
                    && Grammar::Dns1123Subdomain.accepts(name)
            }),
            Grammar::Guid => guid(v),
            Grammar::ArmId => arm_id(v),
            Grammar::Url => url(v),
            Grammar::VaultName => vault_name(v),
            Grammar::IdentityName => azure_name(v, 3, 128),
            Grammar::CredentialName => azure_name(v, 3, 120),
            Grammar::ResourceGroup => resource_group(v),
            Grammar::ClusterName => cluster_name(v),
            Grammar::Free => true,
        }
    }

    /// What a value of this grammar is, for the placeholder a refused value leaves.
    pub fn describe(self) -> &'static str {
        match self {
            Grammar::Dns1123Label => "a DNS-1123 label",
            Grammar::Dns1123Subdomain => "a DNS-1123 name",
            Grammar::KubeRef => "KIND/NAME",
            Grammar::Guid => "a GUID",
            Grammar::ArmId => "an ARM resource ID",
            Grammar::Url => "a URL",
            Grammar::VaultName => "a Key Vault name",
            Grammar::IdentityName => "an identity name",
            Grammar::CredentialName => "a credential name",
            Grammar::ResourceGroup => "a resource group name",
            Grammar::ClusterName => "a cluster name",
            Grammar::Free => "text",
        }
    }
}

fn dns_label(v: &str) -> bool {
    let b = v.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

pub fn guid(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn arm_id(v: &str) -> bool {
    (v.starts_with("/subscriptions/") || v.starts_with("/providers/"))
        && v.len() <= 2048
        && v[1..].split('/').all(|seg| {
            !seg.is_empty()
                && seg
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')'))
        })
}

fn url(v: &str) -> bool {
    v.len() <= 2048
        && !v
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '\\' | '`' | '<' | '>'))
        && url::Url::parse(v).is_ok_and(|u| {
            matches!(u.scheme(), "https" | "http")
                && u.host_str().is_some()
                && u.username().is_empty()
        })
}

/// A tenant as Entra takes it in an authority URL (`https://login.microsoftonline.com/{tenant}`,
/// Microsoft identity platform, "Application configuration options"): a GUID, or a domain name
/// (letters, digits, hyphens, at least one dot), so it can add nothing to the path or query.
pub fn tenant(v: &str) -> bool {
    guid(v)
        || (v.contains('.')
            && v.len() <= 253
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'))
}

/// Whether `v` is a Key Vault name (see [`Grammar::VaultName`]).
pub fn vault_name(v: &str) -> bool {
    let b = v.as_bytes();
    (3..=24).contains(&b.len())
        && b[0].is_ascii_alphabetic()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
        && !v.contains("--")
}

/// Storage account names: 3-24 lower-case letters and digits (naming rules,
/// Microsoft.Storage/storageAccounts).
pub fn storage_account(v: &str) -> bool {
    (3..=24).contains(&v.len())
        && v.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// Blob container names: 3-63 lower-case letters, digits and single hyphens, starting and
/// ending with a letter or digit, or one of the system containers `$root`, `$web`, `$logs`
/// (Storage REST API, "Naming and referencing containers, blobs, and metadata").
pub fn blob_container(v: &str) -> bool {
    if matches!(v, "$root" | "$web" | "$logs") {
        return true;
    }
    let b = v.as_bytes();
    (3..=63).contains(&b.len())
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && !v.contains("--")
}

fn azure_name(v: &str, min: usize, max: usize) -> bool {
    let b = v.as_bytes();
    (min..=max).contains(&b.len())
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}

fn resource_group(v: &str) -> bool {
    (1..=90).contains(&v.chars().count())
        && !v.ends_with('.')
        && v.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '(' | ')'))
}

fn cluster_name(v: &str) -> bool {
    let b = v.as_bytes();
    (1..=63).contains(&b.len())
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_grammar_takes_real_values_and_refuses_planted_ones() {
        let cases: &[(Grammar, &str, bool)] = &[
            (Grammar::Dns1123Label, "apps", true),
            (Grammar::Dns1123Label, "Apps", false),
            (Grammar::Dns1123Label, "a$(touch x)", false),
            (Grammar::Dns1123Subdomain, "wi-kv-test.v2", true),
            (Grammar::KubeRef, "deploy/web", true),
            (Grammar::KubeRef, "deploy/web;rm", false),
            (Grammar::Guid, "0c7f3e2a-9d1b-4a6c-8e5f-2b4d6a8c0e19", true),
            (Grammar::Guid, "my-identity!!", false),
            (
                Grammar::Guid,
                "0c7f3e2a-9d1b-4a6c-8e5f-2b4d6a8c0e19\n",
                false,
            ),
            (
                Grammar::ArmId,
                "/subscriptions/2b6d/resourceGroups/rg(1)/providers/Microsoft.KeyVault/vaults/kv",
                true,
            ),
            (Grammar::ArmId, "/subscriptions/x/$(id)", false),
            (
                Grammar::ArmId,
                "/providers/Microsoft.Management/managementGroups/mg",
                true,
            ),
            (
                Grammar::Url,
                "https://eastus.oic.prod-aks.azure.com/t/c/",
                true,
            ),
            (Grammar::Url, "https://x/\"; touch y", false),
            (Grammar::Url, "https://a/\x1b]0;t\x07", false),
            (Grammar::VaultName, "wilab4521", true),
            (Grammar::VaultName, "9kv", false),
            (Grammar::IdentityName, "wi-demo-identity", true),
            (Grammar::CredentialName, "aks_fic-1", true),
            (Grammar::CredentialName, "-x", false),
            (Grammar::ResourceGroup, "WorkloadIdentityRG", true),
            (Grammar::ResourceGroup, "rg.", false),
            (Grammar::ClusterName, "aks-1", true),
            (Grammar::Free, "anything at all", true),
            (Grammar::Free, "but no \x1b", false),
        ];
        for (g, v, ok) in cases {
            assert_eq!(g.accepts(v), *ok, "{g:?} {v:?}");
        }
    }

    #[test]
    fn tenants_are_guids_or_domains() {
        assert!(tenant("8f3c2a10-5b7e-4c1d-9a2f-6e4b1d0c7a93"));
        assert!(tenant("contoso.onmicrosoft.com"));
        assert!(!tenant("not a tenant") && !tenant("x/../y") && !tenant("contoso"));
    }

    #[test]
    fn storage_names() {
        assert!(storage_account("wilab4521"));
        assert!(!storage_account("Acct"));
        assert!(blob_container("cats-1"));
        assert!(blob_container("$web"));
        assert!(!blob_container("c?sv=2022&sig=x"));
        assert!(!blob_container("a--b"));
    }
}
