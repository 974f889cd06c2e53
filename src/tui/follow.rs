//! Live sources follow the cluster: pods and ServiceAccounts through kube-rs watchers, each
//! burst of changes applied to the last world read and analysed again off the UI thread. The
//! probe results and Azure objects of that read stay; only what the watches say changes.

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
    let pods = watcher(Api::<Pod>::all(client.clone()), watcher::Config::default())
        .default_backoff()
        .map(|e| e.map(|e| Change::Pod(Box::new(e))));
    let sas = watcher(
        Api::<ServiceAccount>::all(client),
        watcher::Config::default(),
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
        let Some(world) = seen.lock().ok().and_then(|s| s.all.clone()) else {
            continue;
        };
        let mut next = (*world).clone();
        next.kube.pods = lists.pods.clone();
        next.kube.service_accounts = lists.sas.clone();
        let next = Arc::new(next);
        let analysed = Arc::clone(&next);
        let config = Arc::clone(&config);
        let Ok(report) = tokio::task::spawn_blocking(move || analyze_all(&analysed, &config)).await
        else {
            return;
        };
        if let Ok(mut s) = seen.lock() {
            s.all = Some(next);
        }
        if results.send(Msg::Followed(report)).is_err() {
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

/// The pods and ServiceAccounts as the watches last said, once each has listed.
#[derive(Default)]
struct Lists {
    pods: Vec<Pod>,
    sas: Vec<ServiceAccount>,
    pods_listed: bool,
    sas_listed: bool,
    pod_init: Vec<Pod>,
    sa_init: Vec<ServiceAccount>,
}

impl Lists {
    fn ready(&self) -> bool {
        self.pods_listed && self.sas_listed
    }

    fn apply(&mut self, c: Change) {
        match c {
            Change::Pod(e) => apply(
                *e,
                &mut self.pods,
                &mut self.pod_init,
                &mut self.pods_listed,
            ),
            Change::ServiceAccount(e) => {
                apply(*e, &mut self.sas, &mut self.sa_init, &mut self.sas_listed)
            }
        }
    }
}

fn apply<K: Metadata<Ty = ObjectMeta>>(
    e: watcher::Event<K>,
    list: &mut Vec<K>,
    init: &mut Vec<K>,
    listed: &mut bool,
) {
    let key = |k: &K| (k.metadata().namespace.clone(), k.metadata().name.clone());
    match e {
        watcher::Event::Init => init.clear(),
        watcher::Event::InitApply(k) => init.push(k),
        // A (re)list replaces everything: what was deleted meanwhile is gone.
        watcher::Event::InitDone => {
            *list = std::mem::take(init);
            *listed = true;
        }
        watcher::Event::Apply(k) => match list.iter().position(|x| key(x) == key(&k)) {
            Some(i) => list[i] = k,
            None => list.push(k),
        },
        watcher::Event::Delete(k) => list.retain(|x| key(x) != key(&k)),
    }
}
