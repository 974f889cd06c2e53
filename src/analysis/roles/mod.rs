//! Azure roles as ARM evaluates them for the access link: the built-in definitions (data in
//! `builtin`, each row citing its source) and custom ones read from ARM, decided by the same
//! rule: an allow pattern matches the operation and no deny pattern does.

mod builtin;

pub use builtin::{BUILTIN, Role};

use crate::world::azure::{RoleDefinition, RolePermissions};

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
        self.blocks().iter().any(|b| b.verdict(need).is_ok())
    }

    /// Why the role does not grant `need`, in Azure's terms.
    pub fn lacks(&self, need: Need) -> String {
        let (op, data) = need.operation();
        let blocks = self.blocks();
        let list = if data { "notDataActions" } else { "notActions" };
        if let Some(pattern) = blocks.iter().find_map(|b| b.verdict(need).err().flatten()) {
            return format!("{pattern} in {list} takes away {op}");
        }
        match data {
            true if blocks.iter().all(|b| b.data_actions.is_empty()) => {
                "control plane only (no dataActions)".into()
            }
            true => format!("no dataActions pattern matches {op}"),
            false => format!("no actions pattern matches {op}"),
        }
    }

    /// The role's permission blocks, whichever table they come from.
    fn blocks(&self) -> Vec<Block<'_>> {
        match self {
            Known::Builtin(r) => vec![Block {
                actions: r.actions.to_vec(),
                not_actions: r.not_actions.to_vec(),
                data_actions: r.data_actions.to_vec(),
                not_data_actions: r.not_data_actions.to_vec(),
            }],
            Known::Defined(d) => d.permissions.iter().map(Block::of).collect(),
        }
    }
}

/// One permission block borrowed as pattern lists: a built-in row's, a custom role's or a deny
/// assignment's.
struct Block<'a> {
    actions: Vec<&'a str>,
    not_actions: Vec<&'a str>,
    data_actions: Vec<&'a str>,
    not_data_actions: Vec<&'a str>,
}

impl<'a> Block<'a> {
    fn of(p: &'a RolePermissions) -> Self {
        let strs = |v: &'a Vec<String>| v.iter().map(String::as_str).collect();
        Block {
            actions: strs(&p.actions),
            not_actions: strs(&p.not_actions),
            data_actions: strs(&p.data_actions),
            not_data_actions: strs(&p.not_data_actions),
        }
    }

    /// Whether this block grants `need`: some allow pattern matches and no deny pattern does,
    /// as ARM evaluates them. The error holds the deny pattern that took it away, if any.
    fn verdict(&self, need: Need) -> Result<(), Option<&'a str>> {
        let (op, data) = need.operation();
        let (allow, deny) = if data {
            (&self.data_actions, &self.not_data_actions)
        } else {
            (&self.actions, &self.not_actions)
        };
        if !allow.iter().any(|a| wildcard(a, op)) {
            return Err(None);
        }
        match deny.iter().find(|d| wildcard(d, op)) {
            Some(d) => Err(Some(*d)),
            None => Ok(()),
        }
    }
}

/// Whether any of these permission blocks (a role's or a deny assignment's) covers `need`.
pub fn covers(blocks: &[RolePermissions], need: Need) -> bool {
    blocks.iter().any(|p| Block::of(p).verdict(need).is_ok())
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

    #[test]
    fn a_built_in_role_says_which_action_it_lacks() {
        let kv_reader =
            Known::Builtin(lookup("21090545-7ca7-4776-b22c-e363652d74d2", None).unwrap());
        assert!(!kv_reader.grants(Need::ReadSecrets));
        // Key Vault Reader has data actions (metadata), just not getSecret.
        assert_eq!(
            kv_reader.lacks(Need::ReadSecrets),
            "no dataActions pattern matches Microsoft.KeyVault/vaults/secrets/getSecret/action"
        );
        let owner = Known::Builtin(lookup("", Some("owner")).unwrap());
        assert!(owner.grants(Need::DelegationKey));
        assert_eq!(
            owner.lacks(Need::ReadBlobs),
            "control plane only (no dataActions)"
        );
        let secrets_user =
            Known::Builtin(lookup("4633458B-17DE-408A-B874-0445C86B69E6", None).unwrap());
        assert!(secrets_user.grants(Need::ReadSecrets));
        assert!(!secrets_user.grants(Need::ReadBlobs));
    }
}
