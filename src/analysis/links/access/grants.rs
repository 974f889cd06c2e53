//! The role assignments that reach an identity, and what each permits where.

use crate::analysis::conditions::{self, Outcome};
use crate::analysis::index::{Index, lower};
use crate::analysis::roles::{self, Known, Need};
use crate::world::azure::{DenyAssignment, Group, RoleAssignment};

/// The role assignments that reach the identity: its principal's own and those of the groups
/// it belongs to (transitively), each named with the group it comes through.
pub(super) struct Grants<'a, 'w> {
    ix: &'a Index<'w>,
    principal: String,
    pub(super) roles: Vec<&'w RoleAssignment>,
    groups: Vec<&'w Group>,
}

impl<'a, 'w> Grants<'a, 'w> {
    pub(super) fn of(ix: &'a Index<'w>, principal: &str) -> Self {
        let groups = ix.groups_of(principal);
        let held = |id: &str| {
            ix.roles_by_principal
                .get(lower(id).as_ref())
                .into_iter()
                .flatten()
                .copied()
        };
        let roles = held(principal)
            .chain(groups.iter().flat_map(|g| held(&g.id)))
            .collect();
        Grants {
            ix,
            principal: principal.to_string(),
            roles,
            groups,
        }
    }

    /// The role an assignment names: a definition the world holds, else a built-in one.
    pub(super) fn role(&self, r: &RoleAssignment) -> Option<Known<'w>> {
        Known::of(
            &self.ix.world.azure.role_definitions,
            r.role_guid(),
            r.role_definition_name.as_deref(),
        )
    }

    /// A deny assignment that takes `need` on `resource_id` away from the identity: it covers
    /// the resource (its own scope only, when it does not apply to child scopes), names the
    /// identity, a group of it or everyone, does not exclude them, and lists the operation.
    pub(super) fn denied(&self, resource_id: &str, need: Need) -> Option<&'w DenyAssignment> {
        const EVERYONE: &str = "00000000-0000-0000-0000-000000000000";
        let mut holders: Vec<&str> = vec![&self.principal];
        holders.extend(self.groups.iter().map(|g| g.id.as_str()));
        let is = |ids: &[String], who: &str| ids.iter().any(|i| i.eq_ignore_ascii_case(who));
        self.ix.world.azure.deny_assignments.iter().find(|d| {
            let reaches = if d.do_not_apply_to_child_scopes {
                d.scope
                    .trim_end_matches('/')
                    .eq_ignore_ascii_case(resource_id)
            } else {
                self.covers(&d.scope, resource_id)
            };
            let applies =
                holders.iter().any(|h| is(&d.principals, h)) || is(&d.principals, EVERYONE);
            let excluded = holders.iter().any(|h| is(&d.exclude_principals, h));
            reaches && applies && !excluded && roles::covers(&d.permissions, need)
        })
    }

    /// What the assignment's ABAC condition does to `need` on `container`.
    pub(super) fn condition(
        &self,
        r: &RoleAssignment,
        need: Need,
        container: Option<&str>,
    ) -> Outcome {
        match &r.condition {
            None => Outcome::Allows,
            Some(c) => conditions::evaluate(c, need.operation().0, container),
        }
    }

    pub(super) fn grants(&self, r: &RoleAssignment, need: Need) -> bool {
        self.role(r).is_some_and(|k| k.grants(need))
    }

    pub(super) fn lacks(&self, r: &RoleAssignment, need: Need) -> String {
        self.role(r)
            .map_or_else(|| "definition unknown".into(), |k| k.lacks(need))
    }

    pub(super) fn name(&self, r: &RoleAssignment) -> String {
        self.role(r).map_or_else(
            || roles::display(r.role_guid(), r.role_definition_name.as_deref()),
            |k| k.name(),
        )
    }

    /// Whether an assignment at `scope` reaches `resource_id` (management groups included).
    pub(super) fn covers(&self, scope: &str, resource_id: &str) -> bool {
        self.ix.covers(scope, resource_id)
    }

    /// Where an assignment holds, and the group it reaches the identity through.
    pub(super) fn at(&self, r: &RoleAssignment) -> String {
        match self
            .groups
            .iter()
            .find(|g| g.id.eq_ignore_ascii_case(&r.principal_id))
        {
            Some(g) => format!(
                "at {}, through group {}",
                r.scope,
                g.display_name.as_deref().unwrap_or(&g.id)
            ),
            None => format!("at {}", r.scope),
        }
    }
}
