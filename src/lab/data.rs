//! What the lab's vaults and storage accounts hold. Worlds carry no data, so the lab fills them:
//! the names a `LabBehaviour` gives (`secrets`, `blobs`), else what the world's pods and targets
//! point at, else one made-up secret or container. Blobs written with PUT are kept in memory for
//! the lab's lifetime; secret values and seeded blob content are made up from their names, so
//! tests can look for them in outputs.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use crate::lab::behaviour::LabBehaviour;
use crate::world::World;

/// The secret each vault holds when nothing names one.
pub const DEFAULT_SECRET: &str = "lab-secret";
/// The container each account holds when nothing names one, and the blob every seeded
/// container holds.
pub const DEFAULT_CONTAINER: &str = "lab";
pub const DEFAULT_BLOB: &str = "lab-blob.txt";

/// One stored blob: its bytes and the properties Blob returns with them.
#[derive(Debug, Clone)]
pub struct StoredBlob {
    pub data: Vec<u8>,
    pub content_type: String,
    pub etag: String,
    pub created: jiff::Timestamp,
    pub modified: jiff::Timestamp,
}

type Containers = BTreeMap<String, BTreeMap<String, StoredBlob>>;

pub struct DataPlane {
    /// Vault name (lower case) -> secret names.
    secrets: BTreeMap<String, BTreeSet<String>>,
    /// Account name (lower case) -> container -> blob name -> blob.
    blobs: Mutex<BTreeMap<String, Containers>>,
    /// Moves on with each write, so every ETag is new.
    writes: std::sync::atomic::AtomicU64,
}

impl DataPlane {
    pub fn new(world: &World, behaviour: &LabBehaviour) -> DataPlane {
        let secrets = world
            .azure
            .vaults
            .iter()
            .map(|v| {
                (
                    v.name.to_ascii_lowercase(),
                    secrets_of(world, behaviour, &v.name),
                )
            })
            .collect();
        let blobs = world
            .azure
            .storage_accounts
            .iter()
            .map(|a| {
                (
                    a.name.to_ascii_lowercase(),
                    containers_of(world, behaviour, a),
                )
            })
            .collect();
        DataPlane {
            secrets,
            blobs: Mutex::new(blobs),
            writes: std::sync::atomic::AtomicU64::new(1),
        }
    }

    /// The secret names vault `vault` holds, sorted.
    pub fn secret_names(&self, vault: &str) -> Vec<String> {
        self.secrets
            .get(&vault.to_ascii_lowercase())
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Key Vault secret names are case-insensitive.
    pub fn holds_secret(&self, vault: &str, name: &str) -> bool {
        self.secrets
            .get(&vault.to_ascii_lowercase())
            .is_some_and(|s| s.iter().any(|n| n.eq_ignore_ascii_case(name)))
    }

    pub fn containers(&self, account: &str) -> Vec<String> {
        self.with_account(account, |c| c.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The blobs of `container`, sorted by name; `None` when the container does not exist.
    pub fn blobs(&self, account: &str, container: &str) -> Option<Vec<(String, StoredBlob)>> {
        self.with_account(account, |c| {
            c.get(container)
                .map(|b| b.iter().map(|(n, b)| (n.clone(), b.clone())).collect())
        })
        .flatten()
    }

    pub fn has_container(&self, account: &str, container: &str) -> bool {
        self.with_account(account, |c| c.contains_key(container))
            .unwrap_or(false)
    }

    pub fn blob(&self, account: &str, container: &str, name: &str) -> Option<StoredBlob> {
        self.with_account(account, |c| c.get(container)?.get(name).cloned())
            .flatten()
    }

    /// Stores (or replaces) a block blob; `None` when the container does not exist.
    pub fn put_blob(
        &self,
        account: &str,
        container: &str,
        name: &str,
        data: Vec<u8>,
        content_type: &str,
    ) -> Option<StoredBlob> {
        let n = self
            .writes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let mut accounts = self.blobs.lock().ok()?;
        let blobs = accounts
            .get_mut(&account.to_ascii_lowercase())?
            .get_mut(container)?;
        let now = jiff::Timestamp::now();
        let created = blobs.get(name).map_or(now, |b| b.created);
        let blob = StoredBlob {
            data,
            content_type: content_type.to_string(),
            etag: format!("\"0x8DE{n:013X}\""),
            created,
            modified: now,
        };
        blobs.insert(name.to_string(), blob.clone());
        Some(blob)
    }

    fn with_account<T>(&self, account: &str, f: impl FnOnce(&Containers) -> T) -> Option<T> {
        let accounts = self.blobs.lock().ok()?;
        accounts.get(&account.to_ascii_lowercase()).map(f)
    }
}

/// The value the lab serves for a secret: made up, never a world's, and easy to search for.
pub fn secret_value(vault: &str, name: &str) -> String {
    format!("lab-value-of-{vault}-{name}")
}

/// The secrets of `vault`: those a `LabBehaviour` lists, else the values of the pods' env vars
/// named `*SECRET_NAME` (the form Microsoft's Key Vault samples read) and `lab-secret`.
fn secrets_of(world: &World, behaviour: &LabBehaviour, vault: &str) -> BTreeSet<String> {
    if let Some(listed) = lookup(&behaviour.secrets, vault) {
        return listed.iter().cloned().collect();
    }
    let mut out: BTreeSet<String> = pod_env(world)
        .filter(|(k, _)| k.ends_with("SECRET_NAME"))
        .map(|(_, v)| v)
        .collect();
    out.insert(DEFAULT_SECRET.to_string());
    out
}

/// The containers of `account`, each with its blobs: those a `LabBehaviour` lists, else the
/// containers the world's targets and role-assignment scopes name (each holding `lab-blob.txt`),
/// else the one container `lab`.
fn containers_of(
    world: &World,
    behaviour: &LabBehaviour,
    account: &crate::world::azure::StorageAccount,
) -> Containers {
    let seeded = |container: &str, names: &[String]| {
        let blobs = names
            .iter()
            .map(|n| (n.clone(), seeded_blob(&account.name, container, n)))
            .collect();
        (container.to_string(), blobs)
    };
    if let Some(listed) = lookup(&behaviour.blobs, &account.name) {
        return listed.iter().map(|(c, names)| seeded(c, names)).collect();
    }
    let mut names: BTreeSet<String> = target_containers(world, &account.name).collect();
    let scope_prefix = format!("{}/blobServices/default/containers/", account.id).to_lowercase();
    for a in &world.azure.role_assignments {
        if let Some(rest) = a.scope.to_lowercase().strip_prefix(&scope_prefix) {
            let start = a.scope.len() - rest.len();
            names.insert(
                a.scope[start..]
                    .split('/')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            );
        }
    }
    names.retain(|n| !n.is_empty());
    if names.is_empty() {
        names.insert(DEFAULT_CONTAINER.to_string());
    }
    let default = [DEFAULT_BLOB.to_string()];
    names.iter().map(|c| seeded(c, &default)).collect()
}

/// Containers named by `targets` entries of the form `account/container` or a blob URL.
fn target_containers<'w>(world: &'w World, account: &'w str) -> impl Iterator<Item = String> + 'w {
    world.info.targets.iter().filter_map(move |t| {
        let blob = t.blob.as_deref()?;
        let rest = blob
            .strip_prefix("https://")
            .map(|u| u.replacen(".blob.core.windows.net", "", 1))
            .unwrap_or_else(|| blob.to_string());
        let (a, container) = rest.split_once('/')?;
        let container = container.split('/').next()?;
        (a.eq_ignore_ascii_case(account) && !container.is_empty()).then(|| container.to_string())
    })
}

fn seeded_blob(account: &str, container: &str, name: &str) -> StoredBlob {
    let at = jiff::Timestamp::from_second(1_763_460_000).unwrap_or_default();
    StoredBlob {
        data: format!("lab-value-of-{account}-{container}-{name}").into_bytes(),
        content_type: "text/plain".into(),
        etag: "\"0x8DE0000000000002\"".into(),
        created: at,
        modified: at,
    }
}

fn lookup<'m, V>(map: &'m BTreeMap<String, V>, name: &str) -> Option<&'m V> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Every (name, value) of the world's pods' container env.
fn pod_env(world: &World) -> impl Iterator<Item = (String, String)> + '_ {
    world
        .kube
        .pods
        .iter()
        .filter_map(|p| p.spec.as_ref())
        .flat_map(|s| s.containers.iter())
        .flat_map(|c| c.env.iter().flatten())
        .filter_map(|e| Some((e.name.clone(), e.value.clone()?)))
}
