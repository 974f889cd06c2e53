//! Key Vault access policies as Key Vault matches them: by the token's object id, app-only.

use super::{LinkBuilder, vault_vars};
use crate::analysis::chain::Evidence;
use crate::analysis::codes::Code;
use crate::analysis::roles;
use crate::analysis::subject::Resolved;
use crate::world::azure::{AccessPolicy, KeyVault, RoleAssignment};

/// The access-policy entries that concern the identity, by how they name it.
pub(super) struct Policies<'v> {
    /// For its principal, app-only: the one that can grant.
    principal: Option<&'v AccessPolicy>,
    /// For its principal through an application (a compound identity): grants only requests
    /// on behalf of a user, never the app-only tokens workload identity gets.
    compound: Option<&'v AccessPolicy>,
    /// For the Entra application's object id, which no token carries.
    application_object: Option<&'v str>,
    /// For the client (application) id, which no token carries as its object id.
    client: bool,
}

impl<'v> Policies<'v> {
    pub(super) fn for_identity(
        v: &'v KeyVault,
        principal: &str,
        resolved: Option<Resolved<'_>>,
    ) -> Self {
        let named = |id: &str| -> Vec<&'v AccessPolicy> {
            v.access_policies
                .iter()
                .filter(|p| p.object_id.eq_ignore_ascii_case(id))
                .collect()
        };
        let app_object = match resolved {
            Some(Resolved::Application(a, _)) => Some(a.id.clone()),
            _ => None,
        };
        Policies {
            principal: named(principal)
                .into_iter()
                .find(|p| p.application_id.is_none()),
            compound: named(principal)
                .into_iter()
                .find(|p| p.application_id.is_some()),
            application_object: app_object
                .as_deref()
                .and_then(|id| Some(named(id).into_iter().next()?.object_id.as_str())),
            client: resolved
                .and_then(|r| r.client_id())
                .is_some_and(|c| !named(c).is_empty()),
        }
    }

    pub(super) fn any(&self) -> bool {
        self.principal.is_some()
            || self.compound.is_some()
            || self.application_object.is_some()
            || self.client
    }
}

/// An access-policy vault: the policy for the principal must allow get; roles do not count.
pub(super) fn vault_policies(
    b: &mut LinkBuilder<'_>,
    v: &KeyVault,
    principal: &str,
    policies: &Policies<'_>,
    covering: &[&&RoleAssignment],
) {
    if let Some(p) = policies.principal {
        if p.secrets
            .iter()
            .any(|s| s.eq_ignore_ascii_case("get") || s.eq_ignore_ascii_case("all"))
        {
            b.fact(Evidence::fact(
                "access policy",
                format!("secrets: {}", p.secrets.join(", ")),
            ));
        } else {
            let r = b.raise(
                Code::WI1106,
                format!(
                    "the access policy on {} allows secrets {:?} but not get",
                    v.name, p.secrets
                ),
            );
            vault_vars(r, v);
        }
    } else if let Some(p) = policies.compound {
        let r = b.raise(
            Code::WI1112,
            format!(
                "the access policy on {} for principal {principal} is a compound identity (applicationId set), which app-only tokens never match",
                v.name
            ),
        );
        r.evidence(Evidence::fact(
            "applicationId",
            p.application_id.clone().unwrap_or_default(),
        ));
        vault_vars(r, v);
    } else if let Some(object_id) = policies.application_object {
        let r = b.raise(
            Code::WI1113,
            format!(
                "the access policy on {} names the application object {object_id}, not its service principal {principal}",
                v.name
            ),
        );
        r.evidence(Evidence::compared("objectId", object_id, principal))
            .var("app_object_id", object_id);
        vault_vars(r, v);
    } else if policies.client {
        let r = b.raise(
            Code::WI1104,
            format!(
                "the access policy on {} names the client ID, not principal {principal}",
                v.name
            ),
        );
        vault_vars(r, v);
    } else {
        let r = b.raise(
            Code::WI1105,
            format!(
                "vault {} uses access policies and none is for principal {principal}",
                v.name
            ),
        );
        vault_vars(r, v);
        for c in covering {
            r.evidence(Evidence::fact(
                "role (ignored by access-policy vaults)",
                roles::display(c.role_guid(), c.role_definition_name.as_deref()),
            ));
        }
    }
}
