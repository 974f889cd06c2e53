//! Built-in Azure role definitions that decide Key Vault and Blob access, by GUID. Each row's
//! flags are what Microsoft's published definition grants (getSecret, blobs/read as data actions;
//! generateUserDelegationKey as an action, which `*` in Owner and Contributor includes):
//! tests/roles_source.rs checks every row, and that no published role granting one is missing,
//! against assets/azure/builtin-roles.json, which the analysis itself never reads.

use crate::world::azure::{RoleDefinition, RolePermissions};

pub struct Role {
    pub id: &'static str,
    pub name: &'static str,
    pub reads_secrets: bool,
    pub reads_blobs: bool,
    /// Includes Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action.
    pub delegation_key: bool,
}

const fn role(
    id: &'static str,
    name: &'static str,
    reads_secrets: bool,
    reads_blobs: bool,
    delegation_key: bool,
) -> Role {
    Role {
        id,
        name,
        reads_secrets,
        reads_blobs,
        delegation_key,
    }
}

pub const BUILTIN: &[Role] = &[
    role(
        "4633458b-17de-408a-b874-0445c86b69e6",
        "Key Vault Secrets User",
        true,
        false,
        false,
    ),
    role(
        "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
        "Key Vault Secrets Officer",
        true,
        false,
        false,
    ),
    role(
        "00482a5a-887f-4fb3-b363-3b7fe8e74483",
        "Key Vault Administrator",
        true,
        false,
        false,
    ),
    role(
        "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba",
        "Key Vault Certificate User",
        true,
        false,
        false,
    ),
    role(
        "21090545-7ca7-4776-b22c-e363652d74d2",
        "Key Vault Reader",
        false,
        false,
        false,
    ),
    role(
        "f25e0fa2-a7c8-4377-a976-54943a77a395",
        "Key Vault Contributor",
        false,
        false,
        false,
    ),
    role(
        "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
        "Storage Blob Data Reader",
        false,
        true,
        true,
    ),
    role(
        "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        "Storage Blob Data Contributor",
        false,
        true,
        true,
    ),
    role(
        "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
        "Storage Blob Data Owner",
        false,
        true,
        true,
    ),
    role(
        "db58b8e5-c6ad-4a2a-8342-4190687cbf4a",
        "Storage Blob Delegator",
        false,
        false,
        true,
    ),
    role(
        "17d1049b-9a84-46fb-8f53-869881c3d3ab",
        "Storage Account Contributor",
        false,
        false,
        true,
    ),
    role(
        "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        "Owner",
        false,
        false,
        true,
    ),
    role(
        "b24988ac-6180-42a0-ab88-20f7382dd24c",
        "Contributor",
        false,
        false,
        true,
    ),
    role(
        "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        "Reader",
        false,
        false,
        false,
    ),
];

/// The built-in role for a definition GUID, or for a `roleDefinitionName` as `az` prints it.
pub fn lookup(guid: &str, name: Option<&str>) -> Option<&'static Role> {
    BUILTIN
        .iter()
        .find(|r| r.id.eq_ignore_ascii_case(guid))
        .or_else(|| name.and_then(|n| BUILTIN.iter().find(|r| r.name.eq_ignore_ascii_case(n))))
}

/// A readable name for a role assignment's definition.
pub fn display(guid: &str, name: Option<&str>) -> String {
    lookup(guid, name)
        .map(|r| r.name.to_string())
        .or_else(|| name.map(str::to_string))
        .unwrap_or_else(|| format!("custom role {guid}"))
}

/// What the access link asks of a role, as the operation Azure checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    ReadSecrets,
    ReadBlobs,
    DelegationKey,
}

impl Need {
    /// The operation's name, and whether it is a data action (else a control-plane action).
    pub fn operation(self) -> (&'static str, bool) {
        match self {
            Need::ReadSecrets => ("Microsoft.KeyVault/vaults/secrets/getSecret/action", true),
            Need::ReadBlobs => (
                "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
                true,
            ),
            Need::DelegationKey => (
                "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
                false,
            ),
        }
    }
}

/// A role as the analysis knows it: a definition read from ARM (custom roles) or a row of the
/// built-in table.
#[derive(Clone, Copy)]
pub enum Known<'w> {
    Defined(&'w RoleDefinition),
    Builtin(&'static Role),
}

impl Known<'_> {
    /// The role named by an assignment: a definition the world holds for its GUID first (what
    /// ARM evaluates), else the built-in table.
    pub fn of<'w>(
        definitions: &'w [RoleDefinition],
        guid: &str,
        name: Option<&str>,
    ) -> Option<Known<'w>> {
        definitions
            .iter()
            .find(|d| d.guid.eq_ignore_ascii_case(guid))
            .map(Known::Defined)
            .or_else(|| lookup(guid, name).map(Known::Builtin))
    }

    pub fn name(&self) -> String {
        match self {
            Known::Defined(d) => d.role_name.clone().unwrap_or_else(|| d.guid.clone()),
            Known::Builtin(r) => r.name.to_string(),
        }
    }

    pub fn grants(&self, need: Need) -> bool {
        match self {
            Known::Builtin(r) => match need {
                Need::ReadSecrets => r.reads_secrets,
                Need::ReadBlobs => r.reads_blobs,
                Need::DelegationKey => r.delegation_key,
            },
            Known::Defined(d) => covers(&d.permissions, need),
        }
    }

    /// Why the role does not grant `need`, in Azure's terms.
    pub fn lacks(&self, need: Need) -> String {
        let (op, data) = need.operation();
        match self {
            Known::Builtin(_) if data => "control plane only".into(),
            Known::Builtin(_) => format!("does not include {op}"),
            Known::Defined(d) => {
                let excluded = d
                    .permissions
                    .iter()
                    .find_map(|p| verdict(p, need).err().flatten());
                let list = if data { "notDataActions" } else { "notActions" };
                match excluded {
                    Some(pattern) => format!("{pattern} in {list} takes away {op}"),
                    None if data => format!("no dataActions pattern matches {op}"),
                    None => format!("no actions pattern matches {op}"),
                }
            }
        }
    }
}

/// Whether any of these permission blocks (a role's or a deny assignment's) covers `need`.
pub fn covers(blocks: &[RolePermissions], need: Need) -> bool {
    blocks.iter().any(|p| verdict(p, need).is_ok())
}

/// Whether one permission block grants `need`: some allow pattern matches and no deny pattern
/// does, as ARM evaluates them. The error holds the deny pattern that took it away, if any.
fn verdict(p: &RolePermissions, need: Need) -> Result<(), Option<&str>> {
    let (op, data) = need.operation();
    let (allow, deny) = if data {
        (&p.data_actions, &p.not_data_actions)
    } else {
        (&p.actions, &p.not_actions)
    };
    if !allow.iter().any(|a| wildcard(a, op)) {
        return Err(None);
    }
    match deny.iter().find(|d| wildcard(d, op)) {
        Some(d) => Err(Some(d.as_str())),
        None => Ok(()),
    }
}

/// ARM's operation patterns: `*` matches any run of characters, case is ignored. Greedy with
/// one backtrack point, so a hostile pattern costs at most |pattern| x |name|.
fn wildcard(pattern: &str, name: &str) -> bool {
    let (p, s) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && p[pi] != b'*' && p[pi].eq_ignore_ascii_case(&s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_as_arm_reads_them() {
        let get = "Microsoft.KeyVault/vaults/secrets/getSecret/action";
        assert!(wildcard("*", get));
        assert!(wildcard("Microsoft.KeyVault/vaults/secrets/*", get));
        assert!(wildcard("microsoft.keyvault/*/getsecret/action", get));
        assert!(wildcard("Microsoft.KeyVault/*/*/getSecret/*", get));
        assert!(!wildcard("Microsoft.KeyVault/vaults/keys/*", get));
        assert!(!wildcard(
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
            get
        ));
        assert!(!wildcard("", get));
        // Hostile patterns stay cheap.
        let long = "a".repeat(4000);
        assert!(!wildcard(&"*a".repeat(2000), &format!("{long}b")));
    }

    #[test]
    fn a_custom_role_grants_by_data_actions_minus_not_data_actions() {
        let role = |data: &[&str], not: &[&str]| RoleDefinition {
            guid: "g".into(),
            role_name: Some("custom".into()),
            permissions: vec![RolePermissions {
                data_actions: data.iter().map(ToString::to_string).collect(),
                not_data_actions: not.iter().map(ToString::to_string).collect(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let reader = role(&["Microsoft.KeyVault/vaults/secrets/*"], &[]);
        assert!(Known::Defined(&reader).grants(Need::ReadSecrets));
        let masked = role(
            &["Microsoft.KeyVault/vaults/secrets/*"],
            &["Microsoft.KeyVault/vaults/secrets/getSecret/action"],
        );
        assert!(!Known::Defined(&masked).grants(Need::ReadSecrets));
        assert!(
            Known::Defined(&masked)
                .lacks(Need::ReadSecrets)
                .contains("in notDataActions takes away")
        );
        let keys = role(&["Microsoft.KeyVault/vaults/keys/*"], &[]);
        assert!(
            Known::Defined(&keys)
                .lacks(Need::ReadSecrets)
                .starts_with("no dataActions")
        );
    }
}
