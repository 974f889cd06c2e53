//! The TUI's live source follows the cluster through kube-rs watchers against the lab: pods that
//! come and go, a churning 2,000-pod cluster, watches that drop, and an API server that goes
//! down and comes back with its history compacted (410 Gone, then a fresh list).

mod common;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use widiag::analysis::{Report, Selection};
use widiag::lab::LabHandle;
use widiag::tui::runner::{DataSource, serve};
use widiag::tui::{Answer, Effect, Model, Msg, Source, update};

/// The TUI's runner reading and then following one lab, as `widiag` (no --world) runs it.
struct Following {
    lab: LabHandle,
    effects: UnboundedSender<Effect>,
    msgs: UnboundedReceiver<Msg>,
    _dir: tempfile::TempDir,
}

/// The TUI's live source for `lab`, Kubernetes only, with its kubeconfig written into `dir`.
fn live_options(
    lab: &LabHandle,
    dir: &std::path::Path,
    timeout: Duration,
) -> widiag::collect::LiveOptions {
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(&kubeconfig, lab.kubeconfig()).unwrap();
    widiag::collect::LiveOptions {
        kube: widiag::collect::KubeTarget {
            kubeconfig: Some(kubeconfig),
            ..Default::default()
        },
        azure_auth: widiag::collect::AzureAuth::None,
        probe: false,
        timeout,
        ..Default::default()
    }
}

impl Following {
    fn start(lab: LabHandle, timeout: Duration) -> Following {
        let dir = tempfile::tempdir().unwrap();
        let opts = live_options(&lab, dir.path(), timeout);
        let (effects, erx) = unbounded_channel();
        let (rtx, msgs) = unbounded_channel();
        tokio::spawn(serve(
            DataSource::Live(Arc::new(opts)),
            Arc::default(),
            erx,
            rtx,
        ));
        effects
            .send(Effect::Load {
                id: 1,
                selection: Selection::All,
                probe: false,
            })
            .unwrap();
        Following {
            lab,
            effects,
            msgs,
            _dir: dir,
        }
    }

    /// The next report (read or followed) that satisfies `want`, within a bound far past need;
    /// notices on the way are collected.
    async fn report_where(
        &mut self,
        want: impl Fn(&Report) -> bool,
        notices: &mut Vec<String>,
    ) -> Report {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            match self.next(deadline, "the report arrives").await {
                Msg::Answer(_, Answer::Read(r)) | Msg::Data(r) if want(&r) => return r,
                Msg::Notice(n) => notices.push(n),
                _ => {}
            }
        }
    }

    /// Waits for a notice that satisfies `want`; reports on the way are dropped.
    async fn notice_where(&mut self, want: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Msg::Notice(n) = self.next(deadline, "the notice arrives").await
                && want(&n)
            {
                return n;
            }
        }
    }

    /// The runner's next message; `waiting_for` names what is missing if none comes by `deadline`.
    async fn next(&mut self, deadline: tokio::time::Instant, waiting_for: &str) -> Msg {
        tokio::time::timeout_at(deadline, self.msgs.recv())
            .await
            .expect(waiting_for)
            .expect("runner alive")
    }

    fn quit(self) {
        self.effects.send(Effect::Quit).unwrap();
    }
}

fn names(r: &Report) -> Vec<&str> {
    let mut v: Vec<&str> = r.pods.iter().map(|p| p.pod.name.as_str()).collect();
    v.sort();
    v
}

/// A pod using seed 004's ServiceAccount.
fn pod(name: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default",
                     "labels": {"azure.workload.identity/use": "true"}},
        "spec": {"serviceAccountName": "wi-demo-sa", "containers": [{"name": "app", "image": "busybox"}]}
    })
}

fn seed_004_with(behaviour: &str) -> LabHandle {
    let text = std::fs::read_to_string(common::root().join("assets/worlds/seed-004-healthy.yaml"))
        .unwrap()
        + behaviour;
    LabHandle::spawn(widiag::world::parse::parse_str("seed-004.yaml", &text).unwrap()).unwrap()
}

/// Requests for the pods collection: (lists, watches).
fn pod_requests(lab: &LabHandle) -> (Vec<u16>, Vec<u16>) {
    let all: Vec<_> = lab
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v1/pods")
        .collect();
    let (watches, lists): (Vec<_>, Vec<_>) = all.into_iter().partition(|r| r.watch);
    (
        lists.iter().map(|r| r.status).collect(),
        watches.iter().map(|r| r.status).collect(),
    )
}

/// A pod the lab is told of appears in the reports, and goes again, without a refresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_source_follows_pods_that_come_and_go() {
    let mut f = Following::start(
        common::spawn_lab("seed-004-healthy"),
        Duration::from_secs(10),
    );
    let notices = &mut Vec::new();
    f.report_where(|r| names(r) == ["wi-kv-test"], notices)
        .await;
    assert!(f.lab.apply(pod("newcomer")));
    f.report_where(|r| names(r) == ["newcomer", "wi-kv-test"], notices)
        .await;
    assert!(f.lab.delete(pod("newcomer")));
    f.report_where(|r| names(r) == ["wi-kv-test"], notices)
        .await;
    assert!(notices.is_empty(), "{notices:?}");
    f.quit();
}

/// A quiet cluster followed for longer than the client's read timeout (twice `--timeout`):
/// each watch ends at `timeoutSeconds` and the next opens, so no "watch stream failed" notice
/// appears (issue 23: the demo showed one for good after 20 s), and a change made after that
/// still arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_cluster_is_followed_past_the_read_timeout() {
    let mut f = Following::start(
        common::spawn_lab("seed-004-healthy"),
        Duration::from_secs(2),
    );
    let notices = &mut Vec::new();
    f.report_where(|r| names(r) == ["wi-kv-test"], notices)
        .await;
    // Three read timeouts (3 x 4 s) without a change.
    let quiet = tokio::time::Instant::now() + Duration::from_secs(12);
    while let Ok(Some(m)) = tokio::time::timeout_at(quiet, f.msgs.recv()).await {
        if let Msg::Notice(n) = m {
            notices.push(n);
        }
    }
    assert!(f.lab.apply(pod("late")));
    f.report_where(|r| names(r) == ["late", "wi-kv-test"], notices)
        .await;
    assert!(notices.is_empty(), "{notices:?}");
    let rewatches = f
        .lab
        .requests()
        .iter()
        .filter(|r| r.watch && r.path.ends_with("/pods"))
        .count();
    assert!(
        rewatches >= 3,
        "each watch ends at timeoutSeconds: {rewatches}"
    );
    f.quit();
}

/// Soak: a generated 2,000-pod cluster churning (300 pods added, 150 of them deleted again, in
/// bursts) while the TUI follows it; the last report is exactly the cluster's final state, and
/// the model takes every report without a panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_a_churning_cluster_ends_on_its_final_state() {
    let sizes = widiag::world::generate::Sizes {
        pods: 2000,
        service_accounts: 400,
        identities: 100,
        fics_per_identity: 2,
        namespaces: 20,
    };
    let world =
        widiag::world::parse::parse_str("generated", &widiag::world::generate::world_yaml(sizes))
            .unwrap();
    let template = serde_json::to_value(&world.kube.pods[0]).unwrap();
    let mut f = Following::start(LabHandle::spawn(world).unwrap(), Duration::from_secs(20));
    let mut m = Model::new(Source::Live {
        context: "lab".into(),
    });
    let first = loop {
        match f.msgs.recv().await.unwrap() {
            Msg::Answer(_, Answer::Read(r)) => break r,
            other => {
                update(&mut m, other);
            }
        }
    };
    let base = first.pods.len();
    update(&mut m, Msg::Data(first));
    let churn = |i: usize| {
        let mut p = template.clone();
        p["metadata"]["name"] = format!("churn-{i}").into();
        p
    };
    for burst in 0..10 {
        for i in burst * 30..(burst + 1) * 30 {
            assert!(f.lab.apply(churn(i)));
        }
        for i in (burst * 30..(burst + 1) * 30).step_by(2) {
            assert!(f.lab.delete(churn(i)));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let last = loop {
        let msg = f.next(deadline, "the final state arrives").await;
        // The final state: 150 churned pods, the odd ones (a burst's middle can count 150 too).
        let final_state = match &msg {
            Msg::Data(r)
                if r.pods.len() == base + 150
                    && r.pods.iter().all(|p| {
                        p.pod
                            .name
                            .strip_prefix("churn-")
                            .is_none_or(|n| n.parse::<usize>().unwrap() % 2 == 1)
                    }) =>
            {
                Some(r.clone())
            }
            _ => None,
        };
        update(&mut m, msg);
        if let Some(r) = final_state {
            break r;
        }
    };
    let churned: Vec<&str> = last
        .pods
        .iter()
        .map(|p| p.pod.name.as_str())
        .filter(|n| n.starts_with("churn-"))
        .collect();
    assert_eq!(churned.len(), 150);
    assert!(
        churned
            .iter()
            .all(|n| n.trim_start_matches("churn-").parse::<usize>().unwrap() % 2 == 1)
    );
    assert_eq!(m.report.as_ref().unwrap().pods.len(), base + 150);
    f.quit();
}

/// Watches that drop after every change (a flaky connection, a restarted API server): the TUI
/// watches again from where it was and misses nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_survives_watches_that_drop() {
    let lab =
        seed_004_with("\n---\napiVersion: widiag.io/v1\nkind: LabBehaviour\ndropWatches: true\n");
    let mut f = Following::start(lab, Duration::from_secs(10));
    let notices = &mut Vec::new();
    f.report_where(|r| names(r) == ["wi-kv-test"], notices)
        .await;
    f.lab.apply(pod("a"));
    f.report_where(|r| names(r) == ["a", "wi-kv-test"], notices)
        .await;
    // The watch that carried "a" has ended; "b" arrives through the next one.
    f.lab.apply(pod("b"));
    f.lab.delete(pod("a"));
    f.report_where(|r| names(r) == ["b", "wi-kv-test"], notices)
        .await;
    // The read, the watcher's list, then a new watch after each drop.
    let (lists, watches) = pod_requests(&f.lab);
    assert_eq!(lists.len(), 2, "no list again: {lists:?}");
    assert!(
        watches.len() >= 3,
        "the watches were dropped and opened again ({watches:?})"
    );
    assert!(notices.is_empty(), "{notices:?}");
    f.quit();
}

/// The API server goes away while pods change, and comes back with its history compacted: the
/// watch from the old resourceVersion gets 410 Gone (as an ERROR event, as the API server's
/// watch cache sends it), kube-rs's watcher lists again, and the TUI ends on the cluster as it
/// is: the pod deleted during the outage is gone, the one created is there. The outage is a
/// notice, not the end of following.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_lists_again_after_an_outage_and_410_gone() {
    let mut f = Following::start(seed_004_with(""), Duration::from_secs(10));
    let notices = &mut Vec::new();
    f.report_where(|r| names(r) == ["wi-kv-test"], notices)
        .await;
    f.lab.apply(pod("a"));
    f.report_where(|r| names(r) == ["a", "wi-kv-test"], notices)
        .await;
    let (lists_before, _) = pod_requests(&f.lab);

    f.lab.go_down();
    f.lab.delete(pod("a"));
    f.lab.apply(pod("b"));
    // The watcher finds the server gone; following pauses instead of ending.
    let paused = f
        .notice_where(|n| n.starts_with("following paused, retrying"))
        .await;
    assert!(!paused.contains("403"), "{paused}");
    f.lab.recover_compacted();
    f.report_where(|r| names(r) == ["b", "wi-kv-test"], notices)
        .await;

    let (lists, _) = pod_requests(&f.lab);
    assert_eq!(
        lists.len(),
        lists_before.len() + 1,
        "one list again after the 410: {lists:?}"
    );
    assert!(lists.iter().all(|s| *s == 200), "{lists:?}");
    assert!(
        !notices.iter().any(|n| n.starts_with("not following")),
        "{notices:?}"
    );
    // Following goes on: a pod after the outage still arrives.
    f.lab.apply(pod("c"));
    f.report_where(|r| names(r) == ["b", "c", "wi-kv-test"], notices)
        .await;
    assert!(notices.iter().any(|n| n == "following the cluster again"));
    f.quit();
}

/// `widiag --log FILE` (the TUI): every live read appends its transcript, as `check` does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tuis_reads_are_appended_to_the_log() {
    let lab = common::spawn_lab("seed-004-healthy");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("widiag.log");
    let opts = widiag::collect::LiveOptions {
        log: Some(log.clone()),
        ..live_options(&lab, dir.path(), Duration::from_secs(10))
    };
    let (effects, erx) = unbounded_channel();
    let (rtx, mut msgs) = unbounded_channel();
    tokio::spawn(serve(
        DataSource::Live(Arc::new(opts)),
        Arc::default(),
        erx,
        rtx,
    ));
    for id in 1..=2 {
        effects
            .send(Effect::Load {
                id,
                selection: Selection::All,
                probe: false,
            })
            .unwrap();
        loop {
            let m = tokio::time::timeout(Duration::from_secs(30), msgs.recv())
                .await
                .expect("the read ends")
                .expect("runner alive");
            if matches!(m, Msg::Answer(i, Answer::Read(_)) if i == id) {
                break;
            }
        }
    }
    effects.send(Effect::Quit).unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.matches("# widiag ").count(), 2, "{text}");
    assert!(text.contains("200 GET /version (server version)"), "{text}");
    assert!(text.contains("200 GET /api/v1/pods (list pods)"), "{text}");
    assert!(text.contains("not read: azure"), "{text}");
}

/// `x` stops a live read itself, not only the wait for it: with the pods list slow, a read that
/// was cancelled never goes on to its next requests (the webhook configurations), while one left
/// to run does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_the_live_read_itself() {
    let slow_pods = "\n---\napiVersion: widiag.io/v1\nkind: LabBehaviour\nkubeDelays:\n- resources: [pods]\n  millis: 2000\n";
    let webhook_reads = |lab: &LabHandle| {
        lab.requests()
            .iter()
            .filter(|r| r.path.contains("mutatingwebhookconfigurations"))
            .count()
    };

    let mut left = Following::start(seed_004_with(slow_pods), Duration::from_secs(20));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !matches!(
        left.next(deadline, "the read ends").await,
        Msg::Answer(1, Answer::Read(_))
    ) {}
    assert!(
        webhook_reads(&left.lab) >= 1,
        "the uncancelled read goes on"
    );
    left.quit();

    let mut cancelled = Following::start(seed_004_with(slow_pods), Duration::from_secs(20));
    tokio::time::sleep(Duration::from_millis(300)).await;
    cancelled.effects.send(Effect::Cancel).unwrap();
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(
        webhook_reads(&cancelled.lab),
        0,
        "the cancelled read stopped"
    );
    while let Ok(m) = cancelled.msgs.try_recv() {
        assert!(!matches!(m, Msg::Answer(1, _)), "{m:?}");
    }
    cancelled.quit();
}
