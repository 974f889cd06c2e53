//! The lab's own Azure RBAC: the built-in role definitions Microsoft publishes
//! (assets/azure/builtin-roles.json, each row citing its source) and ARM's rules for them
//! (wildcards, notActions, scope inheritance). Deliberately not `analysis::roles`: if both sides
//! read one table, one wrong row passes both; tests/roles_source.rs holds the analysis's own
//! reading of the same pages equal to this one.

use std::sync::LazyLock;

use serde::Deserialize;

use crate::world::World;

/// One built-in role's permissions, as published.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Definition {
    pub id: String,
    pub role_name: String,
    /// The file and commit the role was read from.
    pub source: String,
    pub actions: Vec<String>,
    pub not_actions: Vec<String>,
    pub data_actions: Vec<String>,
    pub not_data_actions: Vec<String>,
}

#[derive(Deserialize)]
struct Dump {
    roles: Vec<Definition>,
}

/// Every built-in role definition the lab knows, parsed once.
pub static BUILTIN: LazyLock<Vec<Definition>> = LazyLock::new(|| {
    serde_json::from_str::<Dump>(include_str!("../../assets/azure/builtin-roles.json"))
        .expect("assets/azure/builtin-roles.json is checked by tests/roles_source.rs")
        .roles
});

/// A control-plane operation (`Microsoft.Storage/.../generateUserDelegationKey/action`) or a
/// data-plane one (`Microsoft.KeyVault/vaults/secrets/getSecret/action`).
#[derive(Debug, Clone, Copy)]
pub enum Operation<'a> {
    Action(&'a str),
    DataAction(&'a str),
}

impl Definition {
    /// Whether the role permits `op`: some pattern of its list matches and none of its `not` list
    /// does, as ARM evaluates a role's permissions.
    pub fn permits(&self, op: Operation<'_>) -> bool {
        block_permits(
            [
                &self.actions,
                &self.not_actions,
                &self.data_actions,
                &self.not_data_actions,
            ],
            op,
        )
    }
}

/// One permission block (actions, notActions, dataActions, notDataActions), as ARM evaluates it
/// for `op`: a role's, a custom role's or a deny assignment's.
fn block_permits(lists: [&Vec<String>; 4], op: Operation<'_>) -> bool {
    let [actions, not_actions, data_actions, not_data_actions] = lists;
    let (allow, deny, name) = match op {
        Operation::Action(a) => (actions, not_actions, a),
        Operation::DataAction(a) => (data_actions, not_data_actions, a),
    };
    allow.iter().any(|p| matches(p, name)) && !deny.iter().any(|p| matches(p, name))
}

/// A world's permission block (a custom role's or a deny assignment's) as ARM evaluates it.
fn world_block_permits(p: &crate::world::azure::RolePermissions, op: Operation<'_>) -> bool {
    block_permits(
        [
            &p.actions,
            &p.not_actions,
            &p.data_actions,
            &p.not_data_actions,
        ],
        op,
    )
}

/// The built-in role with this definition GUID.
pub fn builtin(guid: &str) -> Option<&'static Definition> {
    BUILTIN.iter().find(|d| d.id.eq_ignore_ascii_case(guid))
}

/// Whether a role assignment of `principal` at `resource` or a scope above it permits `op`.
/// Roles are found by the GUID at the end of `roleDefinitionId` only, as ARM resolves them; a
/// custom role (not in the dump) permits nothing here.
pub fn allowed(world: &World, principal: &str, resource: &str, op: Operation<'_>) -> bool {
    let holders = holders(&world.azure, principal);
    if denied(world, &holders, resource, op) {
        return false;
    }
    world.azure.role_assignments.iter().any(|a| {
        holders
            .iter()
            .any(|h| h.eq_ignore_ascii_case(&a.principal_id))
            && (inherits(&a.scope, resource)
                || above_subscription(&world.azure, &a.scope, resource))
            && permits(&world.azure, a.role_guid(), op)
            && a.condition
                .as_deref()
                .is_none_or(|c| condition_allows(c, op, resource))
    })
}

/// An ABAC condition's verdict on `op` at `resource`, for the one form the lab emulates: the
/// actions it names (`ActionMatches{'...'}`) are allowed only where the container's name equals
/// the one it gives. An operation it does not name is not restricted. Any other form (blob
/// paths, tags, sub-operations) is refused: the lab's Storage serves container-level requests
/// (List Blobs), which carry no blob path, and Storage documents that an operation which cannot
/// supply an attribute the condition reads fails the access check
/// (learn.microsoft.com/azure/storage/blobs/storage-auth-abac-attributes, "Suboperations").
fn condition_allows(condition: &str, op: Operation<'_>, resource: &str) -> bool {
    let name = match op {
        Operation::Action(n) | Operation::DataAction(n) => n,
    };
    let quoted_after = |marker: &str| -> Vec<String> {
        condition
            .match_indices(marker)
            .filter_map(|(i, _)| {
                let rest = &condition[i + marker.len()..];
                let rest = rest.trim_start().strip_prefix('\'')?;
                rest.split('\'').next().map(str::to_string)
            })
            .collect()
    };
    let actions = quoted_after("ActionMatches{");
    if !actions.iter().any(|a| a.eq_ignore_ascii_case(name)) {
        return true;
    }
    let supported = !condition.contains("SubOperationMatches") && !condition.contains(":path]");
    let wanted = quoted_after("containers:name] StringEquals");
    let container = resource
        .split('/')
        .collect::<Vec<_>>()
        .windows(2)
        .find(|w| w[0].eq_ignore_ascii_case("containers"))
        .map(|w| w[1].to_string());
    supported && wanted.len() == 1 && container.is_some_and(|c| c == wanted[0])
}

/// Whether the role with this GUID permits `op`: a built-in role as published, or a custom role
/// the world defines (each of its permission blocks evaluated as ARM does).
fn permits(az: &crate::world::AzureObjects, guid: &str, op: Operation<'_>) -> bool {
    if let Some(d) = builtin(guid) {
        return d.permits(op);
    }
    az.role_definitions
        .iter()
        .filter(|d| d.guid.eq_ignore_ascii_case(guid))
        .flat_map(|d| &d.permissions)
        .any(|p| world_block_permits(p, op))
}

/// Whether `scope` is a management group above the subscription `resource` lies in: ARM walks
/// each subscription's and management group's parent up to the tenant root.
pub fn above_subscription(az: &crate::world::AzureObjects, scope: &str, resource: &str) -> bool {
    let parts: Vec<&str> = resource.split('/').filter(|p| !p.is_empty()).collect();
    let Some(sub) = parts
        .windows(2)
        .find(|w| w[0].eq_ignore_ascii_case("subscriptions"))
        .map(|w| format!("/subscriptions/{}", w[1]))
    else {
        return false;
    };
    let groups = &az.management_groups;
    let parents_of = |child: &str| -> Vec<String> {
        groups
            .iter()
            .filter(|g| g.children.iter().any(|c| c.eq_ignore_ascii_case(child)))
            .map(|g| g.id.clone())
            .chain(
                groups
                    .iter()
                    .filter(|g| g.id.eq_ignore_ascii_case(child))
                    .filter_map(|g| g.parent.clone()),
            )
            .collect()
    };
    let scope = scope.trim_end_matches('/');
    let mut frontier = vec![sub];
    // A hierarchy is at most six levels deep below the root; a cycle in a world ends here too.
    for _ in 0..8 {
        let mut next = Vec::new();
        for child in &frontier {
            for p in parents_of(child) {
                if p.trim_end_matches('/').eq_ignore_ascii_case(scope) {
                    return true;
                }
                next.push(p);
            }
        }
        frontier = next;
    }
    false
}

/// Whether a deny assignment takes `op` on `resource` away from these holders: ARM evaluates
/// deny assignments before roles. Everyone is the all-zero object id.
fn denied(world: &World, holders: &[String], resource: &str, op: Operation<'_>) -> bool {
    world.azure.deny_assignments.iter().any(|d| {
        let named = |ids: &[String]| {
            ids.iter().any(|id| {
                id == "00000000-0000-0000-0000-000000000000"
                    || holders.iter().any(|h| h.eq_ignore_ascii_case(id))
            })
        };
        let excluded = d
            .exclude_principals
            .iter()
            .any(|id| holders.iter().any(|h| h.eq_ignore_ascii_case(id)));
        let at = if d.do_not_apply_to_child_scopes {
            d.scope.eq_ignore_ascii_case(resource)
        } else {
            inherits(&d.scope, resource)
        };
        at && named(&d.principals)
            && !excluded
            && d.permissions.iter().any(|p| world_block_permits(p, op))
    })
}

/// The principal and every group it is a member of, through nested groups too: Azure RBAC
/// counts an assignment to any of them.
pub fn holders(az: &crate::world::AzureObjects, principal: &str) -> Vec<String> {
    let mut holders = vec![principal.to_ascii_lowercase()];
    let mut i = 0;
    while i < holders.len() {
        let member = holders[i].clone();
        for g in &az.groups {
            let contains = g.members.iter().any(|m| m.eq_ignore_ascii_case(&member));
            if contains && !holders.contains(&g.id.to_ascii_lowercase()) {
                holders.push(g.id.to_ascii_lowercase());
            }
        }
        i += 1;
    }
    holders
}

/// ARM's operation wildcards: `*` stands for any run of characters; names compare without case.
fn matches(pattern: &str, name: &str) -> bool {
    let (pattern, name) = (pattern.to_ascii_lowercase(), name.to_ascii_lowercase());
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// An assignment at `scope` reaches `resource` when the scope's segments begin the resource's
/// (`/subscriptions/s` reaches everything in it; `/` reaches all).
/// Whether an assignment at `scope` reaches `resource`: the same scope or one of its parents.
pub fn inherits(scope: &str, resource: &str) -> bool {
    let segments = |s: &str| {
        s.split('/')
            .filter(|x| !x.is_empty())
            .map(str::to_ascii_lowercase)
            .collect::<Vec<_>>()
    };
    let (scope, resource) = (segments(scope), segments(resource));
    resource.starts_with(&scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_as_arm_documents_them() {
        assert!(matches("*", "Microsoft.Storage/storageAccounts/read"));
        assert!(matches(
            "Microsoft.KeyVault/vaults/secrets/*",
            "microsoft.keyvault/vaults/secrets/getSecret/action"
        ));
        assert!(matches(
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/vaults/secrets/read"
        ));
        assert!(!matches(
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/vaults/secrets/getSecret/action"
        ));
        assert!(!matches(
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
            "Microsoft.KeyVault/vaults/secrets/getSecret/action"
        ));
    }

    #[test]
    fn not_actions_take_away() {
        let contributor = builtin("b24988ac-6180-42a0-ab88-20f7382dd24c").unwrap();
        assert!(contributor.permits(Operation::Action("Microsoft.Storage/storageAccounts/read")));
        assert!(!contributor.permits(Operation::Action(
            "Microsoft.Authorization/roleAssignments/write"
        )));
        assert!(!contributor.permits(Operation::DataAction(
            "Microsoft.KeyVault/vaults/secrets/getSecret/action"
        )));
    }

    #[test]
    fn scopes_inherit_by_whole_segments() {
        let vault = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv";
        assert!(inherits("/", vault));
        assert!(inherits("/subscriptions/S/resourcegroups/RG", vault));
        assert!(!inherits("/subscriptions/s/resourceGroups/r", vault));
        assert!(!inherits(&format!("{vault}2"), vault));
    }
}
