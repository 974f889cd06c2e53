//! The lab's Kubernetes API driven by kube-rs (typed Api, TokenRequest, runtime watcher): the
//! client widiag's live collectors will use, which we did not write.

mod common;

use futures_util::StreamExt;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use kube::api::{ListParams, PostParams};
use kube::runtime::watcher;
use kube::{Api, Client};
use widiag::lab::LabHandle;

fn lab(world: &str) -> LabHandle {
    common::spawn_lab(world)
}

fn client(lab: &LabHandle) -> Client {
    let config = kube::Config::new(lab.kube_url().parse().unwrap());
    widiag::collect::install_crypto();
    Client::try_from(config).unwrap()
}

#[tokio::test]
async fn typed_list_get_and_not_found() {
    let lab = lab("edge-cases");
    let c = client(&lab);
    let pods = Api::<Pod>::all(c.clone())
        .list(&ListParams::default().limit(7))
        .await
        .unwrap();
    assert_eq!(pods.items.len(), 7);
    assert!(pods.metadata.continue_.is_some(), "paged");
    let all = Api::<Pod>::all(c.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    assert_eq!(all.items.len(), 20);
    let sa = Api::<ServiceAccount>::namespaced(c.clone(), "apps")
        .get("typo-sa")
        .await
        .unwrap();
    assert!(
        sa.metadata
            .annotations
            .unwrap()
            .contains_key("azure.workload.identity/client_id")
    );
    match Api::<ServiceAccount>::namespaced(c, "apps")
        .get("missing")
        .await
    {
        Err(kube::Error::Api(s)) => assert_eq!((s.code, s.reason.as_str()), (404, "NotFound")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn token_request_bound_to_a_pod() {
    let lab = lab("seed-004-healthy");
    let sas = Api::<ServiceAccount>::namespaced(client(&lab), "default");
    let req = TokenRequest {
        spec: TokenRequestSpec {
            audiences: vec!["api://AzureADTokenExchange".into()],
            expiration_seconds: Some(3600),
            bound_object_ref: Some(k8s_openapi::api::authentication::v1::BoundObjectReference {
                kind: Some("Pod".into()),
                api_version: Some("v1".into()),
                name: Some("wi-kv-test".into()),
                uid: None,
            }),
        },
        ..Default::default()
    };
    let out = sas
        .create_token_request("wi-demo-sa", &PostParams::default(), &req)
        .await
        .unwrap();
    let status = out
        .status
        .expect("status with token and expirationTimestamp");
    let (_, claims) = widiag::world::facts::decode_unverified(&status.token).unwrap();
    assert_eq!(claims.sub, "system:serviceaccount:default:wi-demo-sa");
    assert_eq!(claims.aud, ["api://AzureADTokenExchange"]);
    let k8s = claims.kubernetes.unwrap();
    assert_eq!(k8s["pod"]["name"], "wi-kv-test");
    assert_eq!(k8s["node"]["name"], "aks-nodepool1-31718369-vmss000000");
    assert_eq!(
        lab.requests().iter().filter(|r| r.method == "POST").count(),
        1
    );
}

#[tokio::test]
async fn runtime_watcher_lists_then_watches() {
    let lab = lab("edge-cases");
    let api = Api::<Pod>::namespaced(client(&lab), "apps");
    for config in [
        watcher::Config::default().page_size(4),
        watcher::Config::default().streaming_lists(),
    ] {
        let mut stream = watcher(api.clone(), config).boxed();
        let mut applied = 0;
        loop {
            let ev = tokio::time::timeout(std::time::Duration::from_secs(10), stream.next())
                .await
                .expect("watcher makes progress")
                .expect("stream open")
                .expect("no watcher error");
            match ev {
                watcher::Event::InitApply(_) => applied += 1,
                watcher::Event::InitDone => break,
                _ => {}
            }
        }
        assert_eq!(applied, 19, "every pod in apps");
    }
    let watches = lab
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v1/namespaces/apps/pods")
        .count();
    assert!(watches >= 3, "paged list, a watch, and a streaming watch");
}

#[tokio::test]
async fn aggregated_and_legacy_discovery_both_find_the_resources() {
    let lab = lab("seed-004-healthy");
    for discovery in [
        kube::Discovery::new(client(&lab))
            .run_aggregated()
            .await
            .unwrap(),
        kube::Discovery::new(client(&lab)).run().await.unwrap(),
    ] {
        let core = discovery.get("").expect("core group");
        let names: Vec<String> = core
            .recommended_resources()
            .into_iter()
            .map(|(r, _)| r.plural)
            .collect();
        for plural in ["pods", "serviceaccounts", "namespaces"] {
            assert!(names.iter().any(|n| n == plural), "{names:?}");
        }
        assert!(discovery.has_group("apps") && discovery.has_group("batch"));
    }
    let paths: Vec<String> = lab.requests().into_iter().map(|r| r.path).collect();
    assert!(
        paths.contains(&"/api/v1".to_string()),
        "legacy discovery reads the group version"
    );
}

/// The cluster changes while watched: kube-rs's watcher sees the pod the lab is told of arrive,
/// change and go, in order, over the same held watch.
#[tokio::test]
async fn runtime_watcher_follows_pods_that_come_and_go() {
    let lab = lab("seed-004-healthy");
    let api = Api::<Pod>::namespaced(client(&lab), "default");
    let mut stream = watcher(api, watcher::Config::default()).boxed();
    async fn next(
        stream: &mut futures_util::stream::BoxStream<
            'static,
            Result<watcher::Event<Pod>, watcher::Error>,
        >,
    ) -> watcher::Event<Pod> {
        tokio::time::timeout(std::time::Duration::from_secs(10), stream.next())
            .await
            .expect("watcher makes progress")
            .expect("stream open")
            .expect("no watcher error")
    }
    loop {
        if matches!(next(&mut stream).await, watcher::Event::InitDone) {
            break;
        }
    }
    let pod = serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "newcomer", "namespace": "default", "labels": {"azure.workload.identity/use": "true"}},
        "spec": {"serviceAccountName": "wi-demo-sa", "containers": [{"name": "app", "image": "busybox"}]}
    });
    assert!(lab.apply(pod.clone()));
    let mut changed = pod.clone();
    changed["metadata"]["labels"]["tier"] = "web".into();
    assert!(lab.apply(changed));
    assert!(lab.delete(pod));
    let mut seen = Vec::new();
    while seen.len() < 3 {
        match next(&mut stream).await {
            watcher::Event::Apply(p) => seen.push(format!(
                "apply {} {}",
                p.metadata.name.unwrap_or_default(),
                p.metadata.labels.unwrap_or_default().contains_key("tier")
            )),
            watcher::Event::Delete(p) => {
                seen.push(format!("delete {}", p.metadata.name.unwrap_or_default()))
            }
            _ => {}
        }
    }
    assert_eq!(
        seen,
        [
            "apply newcomer false",
            "apply newcomer true",
            "delete newcomer"
        ]
    );
    // A list now carries the later resourceVersion and not the deleted pod.
    let list = Api::<Pod>::namespaced(client(&lab), "default")
        .list(&ListParams::default())
        .await
        .unwrap();
    assert!(
        list.metadata
            .resource_version
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 1000
    );
    assert!(
        list.items
            .iter()
            .all(|p| p.metadata.name.as_deref() != Some("newcomer"))
    );
}

/// A watch from a resourceVersion the server no longer has: 200, then an ERROR event carrying a
/// 410 Expired Status, as the API server's watch cache answers; kube-rs reads it as
/// `WatchEvent::Error` (the event its watcher lists again on).
#[tokio::test]
async fn an_expired_resource_version_is_410_gone() {
    let lab = lab("seed-004-healthy");
    let pods: Api<Pod> = Api::namespaced(client(&lab), "default");
    let events: Vec<_> = pods
        .watch(&kube::api::WatchParams::default(), "5")
        .await
        .expect("the watch itself is accepted")
        .collect()
        .await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(
        matches!(&events[0], Ok(kube::core::WatchEvent::Error(s)) if s.code == 410 && s.reason == "Expired"),
        "{events:?}"
    );
}
