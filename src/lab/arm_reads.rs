//! Who may read what on the lab's ARM, and the reads that span resource types: `/resources`
//! and resource groups. ARM authorises every read against Azure RBAC: a GET of one resource needs
//! its type's `read` action at its scope (else 403 `AuthorizationFailed`), a list shows only what
//! the caller may read, and the subscription list only subscriptions the caller holds a role in
//! (learn.microsoft.com/azure/role-based-access-control/troubleshooting: "No subscriptions
//! found"). The lab's own reader holds Reader over everything, as widiag's docs ask of a reader;
//! every other caller has exactly the world's role assignments.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use crate::lab::rbac::{self, Operation};
use crate::world::World;

/// The signed-in caller of one ARM read.
pub struct Caller<'a> {
    pub world: &'a World,
    /// The token's `oid`.
    pub oid: String,
    /// The lab's reader principal.
    pub reader: bool,
}

impl Caller<'_> {
    /// Whether the caller may read the resource (or child collection) at `id`.
    pub fn may_read(&self, id: &str) -> bool {
        self.reader
            || rbac::allowed(
                self.world,
                &self.oid,
                id,
                Operation::Action(&read_action(id)),
            )
    }

    /// Whether the caller holds any role at, above or within subscription `sub`: what puts a
    /// subscription in its `GET /subscriptions`.
    pub fn in_subscription(&self, sub: &str) -> bool {
        if self.reader {
            return true;
        }
        let az = &self.world.azure;
        let holders = rbac::holders(az, &self.oid);
        let subscription = format!("/subscriptions/{sub}").to_ascii_lowercase();
        az.role_assignments.iter().any(|a| {
            let scope = a.scope.to_ascii_lowercase();
            holders
                .iter()
                .any(|h| h.eq_ignore_ascii_case(&a.principal_id))
                && (scope == subscription
                    || scope.starts_with(&format!("{subscription}/"))
                    || rbac::above_subscription(az, &a.scope, &subscription))
        })
    }

    /// ARM's 403 for a read the caller may not make.
    pub fn refused(&self, id: &str) -> Response {
        let scope = id.trim_end_matches('/');
        super::arm::arm_error(
            StatusCode::FORBIDDEN,
            "AuthorizationFailed",
            format!(
                "The client '{oid}' with object id '{oid}' does not have authorization to perform action '{}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
                read_action(id),
                oid = self.oid
            ),
        )
    }
}

/// The action that reads the resource at `id`: its provider and type segments, then `/read`.
pub fn read_action(id: &str) -> String {
    let segs: Vec<&str> = id.trim_matches('/').split('/').collect();
    let Some(at) = segs
        .iter()
        .rposition(|s| s.eq_ignore_ascii_case("providers"))
    else {
        return match segs.len() {
            0..=2 => "Microsoft.Resources/subscriptions/read".into(),
            _ => "Microsoft.Resources/subscriptions/resourceGroups/read".into(),
        };
    };
    let rest = &segs[at + 1..];
    let types = rest.iter().skip(1).step_by(2).copied();
    let provider = rest.first().copied().unwrap_or_default();
    std::iter::once(provider)
        .chain(types)
        .chain(std::iter::once("read"))
        .collect::<Vec<_>>()
        .join("/")
}

/// One world resource as `/resources` lists it: id, name, type, location.
struct Generic {
    id: String,
    name: String,
    kind: &'static str,
    location: Option<String>,
}

fn generics(world: &World) -> Vec<Generic> {
    let az = &world.azure;
    let one = |id: &str, name: &str, kind: &'static str, location: Option<&String>| Generic {
        id: id.to_string(),
        name: name.to_string(),
        kind,
        location: location.cloned(),
    };
    let identities = az.identities.iter().map(|i| {
        one(
            &i.id,
            &i.name,
            "Microsoft.ManagedIdentity/userAssignedIdentities",
            i.location.as_ref(),
        )
    });
    let clusters = az.clusters.iter().map(|c| {
        let kind = if c.arc {
            "Microsoft.Kubernetes/connectedClusters"
        } else {
            "Microsoft.ContainerService/managedClusters"
        };
        one(&c.id, &c.name, kind, c.location.as_ref())
    });
    let vaults = az.vaults.iter().map(|v| {
        one(
            &v.id,
            &v.name,
            "Microsoft.KeyVault/vaults",
            v.location.as_ref(),
        )
    });
    let accounts = az.storage_accounts.iter().map(|s| {
        one(
            &s.id,
            &s.name,
            "Microsoft.Storage/storageAccounts",
            s.location.as_ref(),
        )
    });
    identities
        .chain(clusters)
        .chain(vaults)
        .chain(accounts)
        .collect()
}

/// `/subscriptions/{sub}[/resourceGroups/{rg}]/resources`: the world's resources there that the
/// caller may read, narrowed by `$filter` clauses `resourceType eq '…'`, `name eq '…'` and
/// `resourceGroup eq '…'` joined by `and` (values compared ignoring case, as ARM does).
pub fn resources(
    caller: &Caller<'_>,
    sub: &str,
    rg: Option<&str>,
    filter: Option<&str>,
) -> Result<Vec<Value>, Box<Response>> {
    let mut clauses = Vec::new();
    for clause in filter
        .filter(|f| !f.trim().is_empty())
        .into_iter()
        .flat_map(split_and)
    {
        let Some((field, value)) = clause.split_once(" eq ") else {
            return Err(Box::new(invalid_filter(filter.unwrap_or_default())));
        };
        let field = field.trim().to_ascii_lowercase();
        let value = value.trim().trim_matches('\'').to_string();
        if !matches!(field.as_str(), "resourcetype" | "name" | "resourcegroup") {
            return Err(Box::new(invalid_filter(filter.unwrap_or_default())));
        }
        clauses.push((field, value));
    }
    let wanted = |g: &Generic| {
        let group = resource_group(&g.id).unwrap_or_default();
        clauses.iter().all(|(f, v)| match f.as_str() {
            "resourcetype" => g.kind.eq_ignore_ascii_case(v),
            "name" => g.name.eq_ignore_ascii_case(v),
            _ => group.eq_ignore_ascii_case(v),
        })
    };
    Ok(generics(caller.world)
        .into_iter()
        .filter(|g| in_place(&g.id, sub, rg) && wanted(g) && caller.may_read(&g.id))
        .map(|g| {
            json!({"id": g.id, "name": g.name, "type": g.kind,
                   "location": g.location.unwrap_or_else(|| "eastus".into()), "tags": {}})
        })
        .collect())
}

/// The resource groups the world's resources in `sub` are in, as ARM shows them.
fn groups_in(world: &World, sub: &str) -> Vec<Value> {
    let mut seen: Vec<(String, Option<String>)> = Vec::new();
    for g in generics(world) {
        let Some(rg) = resource_group(&g.id).filter(|_| in_place(&g.id, sub, None)) else {
            continue;
        };
        if !seen.iter().any(|(n, _)| n.eq_ignore_ascii_case(rg)) {
            seen.push((rg.to_string(), g.location));
        }
    }
    seen.into_iter()
        .map(|(rg, location)| group(sub, &rg, location))
        .collect()
}

/// `/subscriptions/{sub}/resourcegroups`: the groups the caller may read.
pub fn resource_groups(caller: &Caller<'_>, sub: &str) -> Vec<Value> {
    groups_in(caller.world, sub)
        .into_iter()
        .filter(|g| g["id"].as_str().is_some_and(|id| caller.may_read(id)))
        .collect()
}

/// `/subscriptions/{sub}/resourcegroups/{rg}`: the group, when the world has a resource in it
/// (the caller's access is checked before).
pub fn resource_group_of(world: &World, sub: &str, rg: &str) -> Option<Value> {
    groups_in(world, sub).into_iter().find(|g| {
        g["name"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case(rg))
    })
}

fn group(sub: &str, rg: &str, location: Option<String>) -> Value {
    json!({"id": format!("/subscriptions/{sub}/resourceGroups/{rg}"), "name": rg,
           "type": "Microsoft.Resources/resourceGroups",
           "location": location.unwrap_or_else(|| "eastus".into()),
           "properties": {"provisioningState": "Succeeded"}})
}

fn in_place(id: &str, sub: &str, rg: Option<&str>) -> bool {
    let segs: Vec<&str> = id.trim_matches('/').split('/').collect();
    segs.get(1).is_some_and(|s| s.eq_ignore_ascii_case(sub))
        && rg.is_none_or(|rg| resource_group(id).is_some_and(|r| r.eq_ignore_ascii_case(rg)))
}

fn resource_group(id: &str) -> Option<&str> {
    let segs: Vec<&str> = id.trim_matches('/').split('/').collect();
    segs.iter()
        .position(|s| s.eq_ignore_ascii_case("resourcegroups"))
        .and_then(|i| segs.get(i + 1).copied())
}

/// The clauses of a filter joined by ` and ` (any case).
fn split_and(filter: &str) -> Vec<&str> {
    let lower = filter.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut start = 0;
    while let Some(i) = lower[start..].find(" and ") {
        out.push(&filter[start..start + i]);
        start += i + 5;
    }
    out.push(&filter[start..]);
    out
}

fn invalid_filter(filter: &str) -> Response {
    super::arm::arm_error(
        StatusCode::BAD_REQUEST,
        "InvalidFilterInQueryString",
        format!(
            "Invalid $filter '{filter}' specified in the query string. The lab's ARM reads resourceType, name and resourceGroup eq clauses."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::read_action;

    #[test]
    fn the_read_action_is_the_resource_type_then_read() {
        for (id, action) in [
            ("/subscriptions/s", "Microsoft.Resources/subscriptions/read"),
            (
                "/subscriptions/s/resourceGroups/rg",
                "Microsoft.Resources/subscriptions/resourceGroups/read",
            ),
            (
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v",
                "Microsoft.KeyVault/vaults/read",
            ),
            (
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i/federatedIdentityCredentials",
                "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read",
            ),
            (
                "/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/g",
                "Microsoft.Authorization/roleAssignments/read",
            ),
        ] {
            assert_eq!(read_action(id), action, "{id}");
        }
    }
}
