//! `access`: the identity's principal holds the role or access policy its targets need, as Azure
//! decides it: roles held directly or through groups, at the resource or above (management
//! groups included), custom roles and conditions, deny assignments first; Key Vault access
//! policies as Key Vault matches them.

mod grants;
mod network;
mod policies;

use super::{LinkBuilder, PodCx};
use crate::analysis::chain::Evidence;
use crate::analysis::codes::Code;
use crate::analysis::conditions::Outcome;
use crate::analysis::roles::Need;
use crate::analysis::targets::{self, Target};
use crate::world::azure::{KeyVault, RoleAssignment, StorageAccount, scope_covers};
use crate::world::live::Gap;
use grants::Grants;
use policies::{Policies, vault_policies};

pub fn check(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) {
    let s = cx.subject;
    let hints = cx.ix.world.info.targets.iter().chain(cx.targets);
    let found = targets::find(cx.ix, s.pod, &s.at, hints);
    for u in &found.unread {
        b.fact(
            Evidence::fact("not read", u)
                .with_note("Secrets are never read; pass --keyvault/--blob if it names a target"),
        );
    }
    if found.targets.is_empty() {
        b.skip("no Key Vault or Blob target found (pass --keyvault or --blob)");
        return;
    }
    let Some(resolved) = s.resolved else {
        b.skip("no resolved identity (see the identity link)");
        return;
    };
    let Some(principal) = resolved.principal_id() else {
        b.raise(
            Code::WI1110,
            format!(
                "the principal ID of {} is not in the world",
                resolved.name()
            ),
        );
        return;
    };
    // Without the role assignments, "no data role" would be a guess.
    // A group's role counts too: unread memberships leave "no role" as unknown as unread roles.
    let unread = cx
        .ix
        .gap("list role assignments", &s.at.namespace)
        .or_else(|| cx.ix.gap("list group memberships", &s.at.namespace));
    let grants = Grants::of(cx.ix, principal);
    for t in &found.targets {
        match t {
            Target::KeyVault { name, source } => match cx.ix.vaults_by_name.get(name) {
                Some(v) => vault(cx, b, v, principal, &grants, unread, source),
                None => missing(b, name, source),
            },
            Target::Blob {
                account,
                container,
                user_delegation,
                source,
            } => match cx.ix.storage_by_name.get(account) {
                Some(a) => storage(
                    b,
                    a,
                    Want {
                        container: container.as_deref(),
                        user_delegation: *user_delegation,
                    },
                    &grants,
                    unread,
                    source,
                ),
                None => missing(b, account, source),
            },
        }
    }
    let names: Vec<&str> = found.targets.iter().map(Target::name).collect();
    b.ok(format!(
        "{} can reach {}",
        resolved.name(),
        names.join(", ")
    ));
}

fn missing(b: &mut LinkBuilder<'_>, name: &str, source: &str) {
    b.raise(
        Code::WI1101,
        format!("{name} (from {source}) is not in the world"),
    )
    .var("target", name);
}

/// Role assignments were not readable: say so instead of declaring a role missing.
fn roles_unread(b: &mut LinkBuilder<'_>, g: &Gap, target: &str, what: &str) {
    b.raise(
        Code::WI1111,
        format!("role assignments could not be read, so whether {what} on {target} is allowed is unknown"),
    )
    .evidence(Evidence::fact("not read", &g.error).with_note(format!("needs {}", g.needed)))
    .var("target", target);
}

fn vault(
    cx: &PodCx<'_, '_>,
    b: &mut LinkBuilder<'_>,
    v: &KeyVault,
    principal: &str,
    grants: &Grants<'_, '_>,
    unread: Option<&Gap>,
    source: &str,
) {
    let roles = &grants.roles;
    b.fact(
        Evidence::fact(
            format!("Key Vault {}", v.name),
            if v.rbac_authorization {
                "Azure RBAC"
            } else {
                "access policies"
            },
        )
        .with_note(format!("from {source}")),
    );
    let covering: Vec<&&RoleAssignment> = roles
        .iter()
        .filter(|r| cx.ix.covers(&r.scope, &v.id))
        .collect();
    let policies = Policies::for_identity(v, principal, cx.subject.resolved);
    if v.rbac_authorization {
        vault_rbac(b, v, (&covering, grants), policies.any(), unread);
    } else {
        vault_policies(b, v, principal, &policies, &covering);
    }
    network::firewall(
        b,
        network::Door {
            kind: network::Kind::Vault,
            name: &v.name,
            public: v.public_network_access.as_deref(),
            acls: v.network_acls.as_ref(),
            private_endpoints: &v.private_endpoints,
            host: v
                .vault_uri
                .as_deref()
                .and_then(|u| url::Url::parse(u).ok()?.host_str().map(str::to_string)),
        },
    );
}

fn vault_vars(r: &mut super::Raised, v: &KeyVault) {
    r.var("vault", v.name.clone())
        .var("vault_id", v.id.clone())
        .var("target", v.name.clone());
}

/// An RBAC vault lets a data role read secrets and ignores access policies, which is why one
/// that exists for the identity changes the finding.
fn vault_rbac(
    b: &mut LinkBuilder<'_>,
    v: &KeyVault,
    (covering, grants): (&[&&RoleAssignment], &Grants<'_, '_>),
    has_policy: bool,
    unread: Option<&Gap>,
) {
    let data = covering
        .iter()
        .find(|r| grants.grants(r, Need::ReadSecrets));
    if let Some(r) = data {
        b.fact(Evidence::fact("role", grants.name(r)).with_note(grants.at(r)));
        deny_wins(b, grants, &v.id, &v.name, Need::ReadSecrets);
    } else if let Some(g) = unread {
        roles_unread(b, g, &v.name, "reading secrets");
    } else if let Some(r) = covering.iter().find(|r| grants.role(r).is_none()) {
        undefined_role(b, r, &v.name, Need::ReadSecrets);
    } else {
        let code = if has_policy {
            Code::WI1102
        } else {
            Code::WI1103
        };
        let msg = if code == Code::WI1102 {
            format!(
                "vault {} uses Azure RBAC, so the access policy for the identity is ignored and no role assigned lets it read secrets",
                v.name
            )
        } else {
            format!("no role on vault {} lets the identity read secrets", v.name)
        };
        let r = b.raise(code, msg);
        vault_vars(r, v);
        for c in covering {
            r.evidence(Evidence::fact("role", grants.name(c)).with_note(format!(
                "{}, {}",
                grants.lacks(c, Need::ReadSecrets),
                grants.at(c)
            )));
        }
    }
}

/// A deny assignment that takes the operation away although a role grants it: Azure checks
/// deny assignments first, and they win.
fn deny_wins(
    b: &mut LinkBuilder<'_>,
    grants: &Grants<'_, '_>,
    resource_id: &str,
    target: &str,
    need: Need,
) {
    let Some(d) = grants.denied(resource_id, need) else {
        return;
    };
    let (op, _) = need.operation();
    let name = d.name.as_deref().unwrap_or(&d.id);
    b.raise(
        Code::WI1116,
        format!(
            "deny assignment {name:?} at {} denies {op} on {target} to the identity",
            d.scope
        ),
    )
    .evidence(Evidence::fact("deny assignment", &d.id).with_note(format!("at {}", d.scope)))
    .var("target", target)
    .var(
        "deny_url",
        format!(
            "https://management.azure.com{}?api-version=2022-04-01",
            d.id
        ),
    );
}

/// A role assigned where it would count, whose definition the world does not hold (a custom
/// role not read): whether it grants is unknown, not "no role".
fn undefined_role(b: &mut LinkBuilder<'_>, r: &RoleAssignment, target: &str, need: Need) {
    let (op, _) = need.operation();
    b.raise(
        Code::WI1114,
        format!(
            "role {} is assigned on {target}, but its definition is not in the world, so whether it grants {op} is unknown",
            r.role_guid()
        ),
    )
    .evidence(Evidence::fact("roleDefinitionId", &r.role_definition_id).with_note(format!("at {}", r.scope)))
    .var("role_definition_id", r.role_guid())
    .var("target", target);
}

/// What the pod does with a storage account.
struct Want<'a> {
    container: Option<&'a str>,
    user_delegation: bool,
}

fn storage(
    b: &mut LinkBuilder<'_>,
    a: &StorageAccount,
    want: Want<'_>,
    grants: &Grants<'_, '_>,
    unread: Option<&Gap>,
    source: &str,
) {
    let Want {
        container,
        user_delegation,
    } = want;
    b.fact(
        Evidence::fact(
            format!("storage account {}", a.name),
            container.unwrap_or("(any container)"),
        )
        .with_note(format!("from {source}")),
    );
    let said_unread = blob_data_role(b, a, container, grants, unread);
    if user_delegation {
        delegation_key(b, a, grants, unread, said_unread);
    }
    network::firewall(
        b,
        network::Door {
            kind: network::Kind::Storage,
            name: &a.name,
            public: a.public_network_access.as_deref(),
            acls: a.network_acls.as_ref(),
            private_endpoints: &a.private_endpoints,
            host: a
                .blob_endpoint
                .as_deref()
                .and_then(|u| url::Url::parse(u).ok()?.host_str().map(str::to_string)),
        },
    );
}

fn storage_vars(r: &mut super::Raised, a: &StorageAccount) {
    r.var("storage", a.name.clone())
        .var("storage_id", a.id.clone())
        .var("target", a.name.clone());
}

/// A role that reads blobs in the container (or anywhere in the account when no container is
/// known). Whether it said the role assignments were unread, so that is said once.
fn blob_data_role(
    b: &mut LinkBuilder<'_>,
    a: &StorageAccount,
    container: Option<&str>,
    grants: &Grants<'_, '_>,
    unread: Option<&Gap>,
) -> bool {
    let roles = &grants.roles;
    let container_id = container.map(|c| format!("{}/blobServices/default/containers/{c}", a.id));
    let target_id = container_id.as_deref().unwrap_or(&a.id);
    let covering: Vec<&&RoleAssignment> = roles
        .iter()
        .filter(|r| grants.covers(&r.scope, target_id))
        .collect();
    let allowed = |r: &&&&RoleAssignment| {
        grants.grants(r, Need::ReadBlobs)
            && grants.condition(r, Need::ReadBlobs, container) == Outcome::Allows
    };
    let data = covering.iter().find(allowed);
    let mut said_unread = false;
    match data {
        Some(r) => {
            let mut e = Evidence::fact("role", grants.name(r)).with_note(grants.at(r));
            if let Some(c) = &r.condition {
                e = e.with_note(format!(
                    "{}; its condition allows this container: {c}",
                    grants.at(r)
                ));
            }
            b.fact(e);
            deny_wins(b, grants, target_id, &a.name, Need::ReadBlobs);
        }
        None if conditioned(b, grants, &covering, a, container) => {}
        None => {
            // A data role at some container of this account still counts for blobs there.
            let anywhere = roles
                .iter()
                .any(|r| scope_covers(&a.id, &r.scope) && grants.grants(r, Need::ReadBlobs));
            let undefined = covering.iter().find(|r| grants.role(r).is_none());
            if let Some(g) = unread {
                roles_unread(b, g, &a.name, "reading blobs");
                said_unread = true;
            } else if let Some(r) = undefined {
                undefined_role(b, r, &a.name, Need::ReadBlobs);
            } else if container.is_some() || !anywhere {
                let r = b.raise(
                    Code::WI1108,
                    format!(
                        "no Storage Blob Data role on {}{} for the identity",
                        a.name,
                        container.map(|c| format!("/{c}")).unwrap_or_default()
                    ),
                );
                storage_vars(r, a);
                r.variant("account");
            }
        }
    }
    said_unread
}

/// A data role whose condition decides: it restricts reading to another container (the role
/// does not reach this one), or takes a form widiag does not evaluate (unknown, quoted). Whether
/// it said so.
fn conditioned(
    b: &mut LinkBuilder<'_>,
    grants: &Grants<'_, '_>,
    covering: &[&&RoleAssignment],
    a: &StorageAccount,
    container: Option<&str>,
) -> bool {
    let data = covering
        .iter()
        .filter(|r| grants.grants(r, Need::ReadBlobs) && r.condition.is_some());
    for r in data {
        let condition = r.condition.as_deref().unwrap_or_default();
        match grants.condition(r, Need::ReadBlobs, container) {
            Outcome::Allows => {}
            Outcome::Denies { container: only } => {
                let raised = b.raise(
                    Code::WI1108,
                    format!(
                        "{} on {} is conditioned to container {only:?}; the pod reads {:?}",
                        grants.name(r),
                        a.name,
                        container.unwrap_or_default()
                    ),
                );
                raised.evidence(Evidence::fact("condition", condition).with_note(grants.at(r)));
                storage_vars(raised, a);
                // ARM keeps one assignment per principal, role and scope, so a second one at the
                // account is refused as existing; one on the container is another scope.
                raised
                    .var(
                        "container_scope",
                        format!(
                            "{}/blobServices/default/containers/{}",
                            a.id,
                            container.unwrap_or_default()
                        ),
                    )
                    .variant("conditioned");
                return true;
            }
            Outcome::Unknown => {
                let raised = b.raise(
                    Code::WI1115,
                    format!(
                        "{} on {} carries a condition widiag does not evaluate, so whether it allows reading {} is unknown",
                        grants.name(r),
                        a.name,
                        container.map_or_else(|| "blobs".to_string(), |c| format!("container {c}"))
                    ),
                );
                raised.evidence(Evidence::fact("condition", condition).with_note(grants.at(r)));
                raised.var("target", a.name.clone());
                return true;
            }
        }
    }
    false
}

/// A user delegation key needs a role at account scope or above; one on a container is not enough.
fn delegation_key(
    b: &mut LinkBuilder<'_>,
    a: &StorageAccount,
    grants: &Grants<'_, '_>,
    unread: Option<&Gap>,
    said_unread: bool,
) {
    let roles = &grants.roles;
    let account_scope = roles
        .iter()
        .any(|r| grants.covers(&r.scope, &a.id) && grants.grants(r, Need::DelegationKey));
    if let (false, Some(g)) = (account_scope, unread) {
        if !said_unread {
            roles_unread(b, g, &a.name, "a user delegation key");
        }
    } else if !account_scope {
        let r = b.raise(Code::WI1109, format!("the app needs a user delegation key from {}, which no role at account scope or above allows", a.name));
        storage_vars(r, a);
        for r2 in roles
            .iter()
            .filter(|r| scope_covers(&a.id, &r.scope) && r.scope.len() > a.id.len())
        {
            r.evidence(
                Evidence::fact("role", grants.name(r2))
                    .with_note(format!("{} (container scope)", grants.at(r2))),
            );
        }
    }
}
