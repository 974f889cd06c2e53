//! Live sources follow the cluster: pods and ServiceAccounts through kube-rs watchers, each
//! burst of changes applied to the last world read and analysed again off the UI thread. The
//! probe results and Azure objects of that read stay; only what the watches say changes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use k8s_openapi::Metadata;
use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Api;
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::mpsc;

use super::runner::{Seen, analyze_all};
use super::update::Msg;
use crate::collect::LiveOptions;

/// Changes closer together than this are analysed once.
const SETTLE: Duration = Duration::from_millis(250);

enum Change {
    Pod(Box<watcher::Event<Pod>>),
    ServiceAccount(Box<watcher::Event<ServiceAccount>>),
}

/// Each watch asks the API server to end it after `--timeout` (`timeoutSeconds`), and the
/// watcher opens the next from where it was: the client's read timeout (twice `--timeout`, see
/// `collect::kube::connect`) then never fires on a quiet watch, which a watch with kube's default
/// of 290 s did after 20 s in `widiag demo` (issue 23).
fn watch_config(timeout: Duration) -> watcher::Config {
    let seconds = u32::try_from(timeout.as_secs())
        .unwrap_or(290)
        .clamp(1, 290);
    watcher::Config::default().timeout(seconds)
}

pub async fn follow(
    opts: Arc<LiveOptions>,
    config: Arc<crate::analysis::Config>,
    seen: Arc<Mutex<Seen>>,
    results: mpsc::UnboundedSender<Msg>,
) {
    let cluster = match crate::collect::kube::connect(&opts.kube, opts.timeout).await {
        Ok(c) => c,
        Err(e) => {
            let _ = results.send(Msg::Notice(format!("not following the cluster: {e}")));
            return;
        }
    };
    let client = cluster.client;
    let pods = watcher(Api::<Pod>::all(client.clone()), watch_config(opts.timeout))
        .default_backoff()
        .map(|e| e.map(|e| Change::Pod(Box::new(e))));
    let sas = watcher(
        Api::<ServiceAccount>::all(client),
        watch_config(opts.timeout),
    )
    .default_backoff()
    .map(|e| e.map(|e| Change::ServiceAccount(Box::new(e))));
    let mut changes = futures_util::stream::select(pods, sas).boxed();
    let mut lists = Lists::default();
    let mut interrupted = false;
    loop {
        // Wait for a change, then let the burst settle.
        let Some(first) = changes.next().await else {
            return;
        };
        let mut batch = vec![first];
        while let Ok(Some(more)) = tokio::time::timeout(SETTLE, changes.next()).await {
            batch.push(more);
        }
        for c in batch {
            match c {
                Ok(c) => {
                    if std::mem::take(&mut interrupted) {
                        let _ = results.send(Msg::Notice("following the cluster again".into()));
                    }
                    lists.apply(c);
                }
                Err(e) if denied(&e) => {
                    // A watch the user may not open will not open by retrying.
                    let _ = results.send(Msg::Notice(format!("not following the cluster: {e}")));
                    return;
                }
                // 410 Gone: the watcher lists again by itself.
                Err(watcher::Error::WatchError(s)) if s.code == 410 => {}
                Err(e) => {
                    // Down, unreachable or restarting: the watcher retries with backoff.
                    if !std::mem::replace(&mut interrupted, true) {
                        let _ =
                            results.send(Msg::Notice(format!("following paused, retrying: {e}")));
                    }
                }
            }
        }
        if !lists.ready() {
            continue;
        }
        let Some(analysed) = seen.lock().ok().and_then(|mut s| {
            // The world is changed in place: only a describe or export holding it right now
            // makes `make_mut` copy it, not every settled burst.
            let world = s.all.as_mut()?;
            let next = Arc::make_mut(world);
            next.kube.pods = lists.pods.to_vec();
            next.kube.service_accounts = lists.sas.to_vec();
            Some(Arc::clone(world))
        }) else {
            continue;
        };
        let config = Arc::clone(&config);
        let Ok(report) = tokio::task::spawn_blocking(move || analyze_all(&analysed, &config)).await
        else {
            return;
        };
        if results.send(Msg::Data(report)).is_err() {
            return;
        }
    }
}

/// Refused by the API server (401/403): retrying will not help.
fn denied(e: &watcher::Error) -> bool {
    let status = match e {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => s.code,
        watcher::Error::WatchError(s) => s.code,
        _ => return false,
    };
    matches!(status, 401 | 403)
}

/// The pods and ServiceAccounts as the watches last said, once each has listed; keyed by
/// namespace and name, so an event finds its object without a scan (10,000-pod clusters).
#[derive(Default)]
struct Lists {
    pods: Keyed<Pod>,
    sas: Keyed<ServiceAccount>,
}

impl Lists {
    fn ready(&self) -> bool {
        self.pods.listed && self.sas.listed
    }

    fn apply(&mut self, c: Change) {
        match c {
            Change::Pod(e) => self.pods.apply(*e),
            Change::ServiceAccount(e) => self.sas.apply(*e),
        }
    }
}

type Key = (Option<String>, Option<String>);

/// One kind as its watch last said: the objects by (namespace, name), and a relist in progress.
struct Keyed<K> {
    objects: BTreeMap<Key, K>,
    init: BTreeMap<Key, K>,
    listed: bool,
}

impl<K> Default for Keyed<K> {
    fn default() -> Self {
        Keyed {
            objects: BTreeMap::new(),
            init: BTreeMap::new(),
            listed: false,
        }
    }
}

impl<K: Metadata<Ty = ObjectMeta> + Clone> Keyed<K> {
    fn key(k: &K) -> Key {
        (k.metadata().namespace.clone(), k.metadata().name.clone())
    }

    fn apply(&mut self, e: watcher::Event<K>) {
        match e {
            watcher::Event::Init => self.init.clear(),
            watcher::Event::InitApply(k) => {
                self.init.insert(Self::key(&k), k);
            }
            // A (re)list replaces everything: what was deleted meanwhile is gone.
            watcher::Event::InitDone => {
                self.objects = std::mem::take(&mut self.init);
                self.listed = true;
            }
            watcher::Event::Apply(k) => {
                self.objects.insert(Self::key(&k), k);
            }
            watcher::Event::Delete(k) => {
                self.objects.remove(&Self::key(&k));
            }
        }
    }

    fn to_vec(&self) -> Vec<K> {
        self.objects.values().cloned().collect()
    }
}
