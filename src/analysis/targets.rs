//! Which Key Vaults and storage accounts a pod is meant to reach: from its env (literal values
//! and ConfigMap references), the world's hints and the command line.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Pod;

use super::index::{Index, find_ignore_case, lower, lower_owned};
use crate::untrusted::grammar;
use crate::world::{ObjRef, TargetHint};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// Vault name (lower case).
    KeyVault { name: String, source: String },
    /// Storage account name (lower case), optional container.
    Blob {
        account: String,
        container: Option<String>,
        user_delegation: bool,
        source: String,
    },
}

impl Target {
    pub fn name(&self) -> &str {
        match self {
            Target::KeyVault { name, .. } => name,
            Target::Blob { account, .. } => account,
        }
    }

    /// What the target is, apart from where it was found: a vault, or an account's container.
    fn place(&self) -> (bool, &str, Option<&str>) {
        match self {
            Target::KeyVault { name, .. } => (true, name, None),
            Target::Blob {
                account, container, ..
            } => (false, account, container.as_deref()),
        }
    }
}

pub struct Found {
    pub targets: Vec<Target>,
    /// Env that could name a target but was not read (Secrets are never read).
    pub unread: Vec<String>,
}

pub fn find<'h>(
    ix: &Index<'_>,
    pod: &Pod,
    at: &ObjRef,
    hints: impl Iterator<Item = &'h TargetHint>,
) -> Found {
    let mut targets = Vec::new();
    let mut unread = Vec::new();
    let containers = pod.spec.iter().flat_map(|s| {
        s.init_containers
            .iter()
            .flatten()
            .chain(s.containers.iter())
    });
    for c in containers {
        for env in c.env.iter().flatten() {
            // Named only when the value is a target: most env is not.
            let from = || format!("env {} of container {}", env.name, c.name);
            if let Some(v) = &env.value {
                classify(ix, &env.name, v, &from, &mut targets);
            } else if let Some(cm) = env
                .value_from
                .as_ref()
                .and_then(|v| v.config_map_key_ref.as_ref())
                && let Some(v) = ix
                    .config_map(&at.namespace, &cm.name)
                    .and_then(|m| m.data.as_ref()?.get(&cm.key))
            {
                classify(
                    ix,
                    &env.name,
                    v,
                    &|| format!("{} (ConfigMap {})", from(), cm.name),
                    &mut targets,
                );
            }
        }
        for src in c.env_from.iter().flatten() {
            if let Some(cm) = &src.config_map_ref {
                for (k, v) in ix
                    .config_map(&at.namespace, &cm.name)
                    .and_then(|m| m.data.as_ref())
                    .into_iter()
                    .flatten()
                {
                    let from = || format!("ConfigMap {} key {k} (container {})", cm.name, c.name);
                    classify(ix, k, v, &from, &mut targets);
                }
            }
            if let Some(s) = &src.secret_ref {
                unread.push(format!("envFrom Secret {} (container {})", s.name, c.name));
            }
        }
    }
    for hint in hints {
        if hint.pod.as_deref().is_some_and(|p| p != at.to_string()) {
            continue;
        }
        if let Some(kv) = &hint.keyvault
            && let Some(name) = vault_name(kv)
        {
            targets.push(Target::KeyVault {
                name,
                source: "target hint".into(),
            });
        }
        if let Some(b) = &hint.blob
            && let Some((account, container)) = blob_target(b)
        {
            targets.push(Target::Blob {
                account,
                container,
                user_delegation: hint.user_delegation,
                source: "target hint".into(),
            });
        }
    }
    Found {
        targets: merged(targets),
        unread,
    }
}

/// One target per vault and per (account, container). A user delegation key is the account's
/// (generateUserDelegationKey is an account action), so one mention of it (`--user-delegation`,
/// a world's hint) holds for every target of that account, whichever source named it first;
/// and an account named without a container joins the containers the pod names, which say
/// where it reads.
fn merged(mut targets: Vec<Target>) -> Vec<Target> {
    let accounts_where = |want: fn(&Target) -> bool| -> BTreeSet<String> {
        targets
            .iter()
            .filter(|t| want(t))
            .map(|t| t.name().to_string())
            .collect()
    };
    let delegated = accounts_where(|t| {
        matches!(
            t,
            Target::Blob {
                user_delegation: true,
                ..
            }
        )
    });
    let contained = accounts_where(|t| {
        matches!(
            t,
            Target::Blob {
                container: Some(_),
                ..
            }
        )
    });
    for t in &mut targets {
        if let Target::Blob {
            account,
            user_delegation,
            ..
        } = t
        {
            *user_delegation = delegated.contains(account.as_str());
        }
    }
    targets.retain(|t| {
        !matches!(t, Target::Blob { account, container: None, .. } if contained.contains(account))
    });
    targets.sort();
    targets.dedup_by(|a, b| a.place() == b.place());
    targets
}

fn classify(
    ix: &Index<'_>,
    name: &str,
    value: &str,
    source: &dyn Fn() -> String,
    out: &mut Vec<Target>,
) {
    let value = value.trim();
    let has = |needle: &str| find_ignore_case(name, needle).is_some();
    if let Some(v) = host_label(value, ".vault.azure").filter(|v| grammar::vault_name(v)) {
        out.push(Target::KeyVault {
            name: v,
            source: source(),
        });
    } else if let Some(a) = host_label(value, ".blob.core.").filter(|a| grammar::storage_account(a))
    {
        let container = blob_target(value).and_then(|(_, c)| c);
        out.push(Target::Blob {
            account: a,
            container,
            user_delegation: false,
            source: source(),
        });
    } else if (has("VAULT") || has("KV") || has("AKV"))
        && ix.vaults_by_name.contains_key(lower(value).as_ref())
    {
        out.push(Target::KeyVault {
            name: lower_owned(value),
            source: source(),
        });
    } else if (has("STORAGE") || has("ACCOUNT") || has("BLOB"))
        && ix.storage_by_name.contains_key(lower(value).as_ref())
    {
        out.push(Target::Blob {
            account: lower_owned(value),
            container: None,
            user_delegation: false,
            source: source(),
        });
    }
}

/// `https://NAME<suffix>...` -> `name`, read as an HTTP client reads the URL (so
/// `https://evil.example?.vault.azure.net` names evil.example, which is no vault).
fn host_label(value: &str, suffix: &str) -> Option<String> {
    if !(value.starts_with("https://") || value.starts_with("http://")) {
        return None;
    }
    // Most env values are not URLs of this kind: no parsing until one may be.
    find_ignore_case(value, suffix)?;
    let url = url::Url::parse(value).ok()?;
    let host = url.host_str()?;
    let at = find_ignore_case(host, suffix)?;
    (at > 0 && !host[..at].contains('.')).then(|| host[..at].to_ascii_lowercase())
}

/// A vault name or URI -> the vault name, when it is one Azure allows.
pub fn vault_name(s: &str) -> Option<String> {
    host_label(s, ".vault.")
        .or_else(|| (!s.contains('/')).then(|| lower_owned(s)))
        .filter(|v| grammar::vault_name(v))
}

/// `account`, `account/container` or a blob URL -> (account, container), when the names are
/// ones Storage allows. A URL's query (a SAS) and fragment are never part of the names.
pub fn blob_target(s: &str) -> Option<(String, Option<String>)> {
    let (account, container) = if let Some(account) = host_label(s, ".blob.") {
        let url = url::Url::parse(s).ok()?;
        let container = url
            .path_segments()
            .and_then(|mut p| p.next())
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        (account, container)
    } else {
        let mut parts = s.splitn(2, '/');
        let account = parts.next().filter(|a| !a.is_empty())?;
        (
            lower_owned(account),
            parts
                .next()
                .map(|c| c.split('/').next().unwrap_or_default())
                .filter(|c| !c.is_empty())
                .map(str::to_string),
        )
    };
    if !grammar::storage_account(&account) {
        return None;
    }
    Some((account, container.filter(|c| grammar::blob_container(c))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_target_forms() {
        assert_eq!(
            vault_name("https://My-KV.vault.azure.net/"),
            Some("my-kv".into())
        );
        assert_eq!(vault_name("kv1"), Some("kv1".into()));
        assert_eq!(
            blob_target("https://acct.blob.core.windows.net/cats/x"),
            Some(("acct".into(), Some("cats".into())))
        );
        assert_eq!(
            blob_target("acct/cats"),
            Some(("acct".into(), Some("cats".into())))
        );
    }

    #[test]
    fn names_are_read_as_a_client_reads_the_url() {
        assert_eq!(
            blob_target("https://acct.blob.core.windows.net/cats?sv=2022-11-02&sig=CANARY"),
            Some(("acct".into(), Some("cats".into())))
        );
        assert_eq!(vault_name("https://evil.example?.vault.azure.net/"), None);
        assert_eq!(vault_name("https://evil.example#.vault.azure.net/"), None);
        assert_eq!(vault_name("https://evil.example\\.vault.azure.net/"), None);
        assert_eq!(vault_name("https://a.evil.example.vault.azure.net/"), None);
        assert_eq!(
            blob_target("https://evil.example?.blob.core.windows.net/c"),
            None
        );
        assert_eq!(vault_name("kv$(id)"), None);
    }

    fn blob(account: &str, container: Option<&str>, key: bool, source: &str) -> Target {
        Target::Blob {
            account: account.into(),
            container: container.map(str::to_string),
            user_delegation: key,
            source: source.into(),
        }
    }

    #[test]
    fn a_target_named_twice_keeps_every_requirement() {
        // Issue 20: the env URL of the container must not drop --user-delegation's requirement.
        let merged = merged(vec![
            blob("acct", Some("cats"), false, "env BLOB_URL"),
            blob("acct", Some("cats"), true, "target hint"),
        ]);
        assert_eq!(
            merged,
            vec![blob("acct", Some("cats"), true, "env BLOB_URL")]
        );
        // An account named without a container joins the container the pod names.
        let merged = super::merged(vec![
            blob("acct", None, true, "--blob"),
            blob("acct", Some("cats"), false, "env BLOB_URL"),
            blob("other", None, false, "env OTHER_ACCOUNT"),
        ]);
        assert_eq!(
            merged,
            vec![
                blob("acct", Some("cats"), true, "env BLOB_URL"),
                blob("other", None, false, "env OTHER_ACCOUNT"),
            ]
        );
    }
}
