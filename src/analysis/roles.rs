//! Built-in Azure role definitions that decide Key Vault and Blob access, by GUID. Each row's
//! flags are what Microsoft's published definition grants (getSecret, blobs/read as data actions;
//! generateUserDelegationKey as an action, which `*` in Owner and Contributor includes):
//! tests/roles_source.rs checks every row, and that no published role granting one is missing,
//! against assets/azure/builtin-roles.json, which the analysis itself never reads.

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
