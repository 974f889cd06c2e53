//! Kubernetes through kube-rs: the user's kubeconfig (exec plugins such as kubelogin included)
//! or the in-cluster config. Lists only the kinds the analysis reads, 500 per page, all at once;
//! a kind the user may not list becomes a [`Gap`] and the rest still works.

use std::fmt::Debug;
use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::admissionregistration::v1::MutatingWebhookConfiguration;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ConfigMap, Event, Namespace, Node, Pod, Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config, Resource};
use serde::de::DeserializeOwned;

use super::CollectError;
use crate::net::kube_calls::{api_error, plain_error, retrying};
use crate::world::KubeObjects;
use crate::world::live::Gap;

/// Which cluster and namespace to read.
#[derive(Debug, Clone, Default)]
pub struct KubeTarget {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
}

/// A connected cluster: the client and what the kubeconfig says about it.
#[derive(Clone)]
pub struct Cluster {
    pub client: Client,
    /// One step per request made through `client` by the collector.
    pub transcript: crate::net::http::Transcript,
    pub context: Option<String>,
    /// The kubeconfig context's namespace, for a bare `--pod NAME`.
    pub default_namespace: String,
    /// When the kubeconfig's client certificate expires, if it presents one.
    pub client_certificate_ends: Option<jiff::Timestamp>,
}

/// The kubeconfig given, else `$KUBECONFIG` or ~/.kube/config.
fn read_kubeconfig(kubeconfig: Option<&std::path::Path>) -> Result<Kubeconfig, CollectError> {
    match kubeconfig {
        Some(path) => Kubeconfig::read_from(path),
        None => Kubeconfig::read(),
    }
    .map_err(|e| CollectError::Kubeconfig {
        source_name: kubeconfig
            .map_or("the default kubeconfig".into(), |p| p.display().to_string()),
        reason: e.to_string(),
    })
}

/// Every context a kubeconfig names (the file given, else `$KUBECONFIG` or ~/.kube/config).
pub fn contexts(kubeconfig: Option<&std::path::Path>) -> Result<Vec<String>, CollectError> {
    Ok(read_kubeconfig(kubeconfig)?
        .contexts
        .into_iter()
        .map(|c| c.name)
        .collect())
}

/// The kubeconfig's current context, as the header names the cluster.
pub fn current_context(kubeconfig: Option<&std::path::Path>) -> Option<String> {
    read_kubeconfig(kubeconfig).ok()?.current_context
}

pub async fn connect(target: &KubeTarget, timeout: Duration) -> Result<Cluster, CollectError> {
    super::install_crypto();
    let (mut config, context) = load_config(target).await?;
    config.connect_timeout = Some(timeout.min(Duration::from_secs(10)));
    // Twice the timeout: each list is bounded by `timeout` itself (and says "no answer within"),
    // so the client's own read timeout only catches what nothing else bounds.
    config.read_timeout = Some(timeout * 2);
    config.write_timeout = Some(timeout);
    // widiag asks again itself (`retrying`), with the bounded policy of its ARM and Graph reads:
    // kube-rs's layer would wait out any Retry-After up to 15 times, spending the whole
    // `--timeout` on a throttling server instead of naming the throttle.
    config.default_retry = false;
    let default_namespace = config.default_namespace.clone();
    super::exec_plugin::resolve(&mut config, timeout).await?;
    let client_certificate_ends = super::client_cert::not_after(&config.auth_info);
    let client = Client::try_from(config).map_err(|e| CollectError::Kube(plain_error(&e)))?;
    Ok(Cluster {
        client,
        transcript: Default::default(),
        context,
        default_namespace,
        client_certificate_ends,
    })
}

/// The kubeconfig's client configuration for the target, and the context it names (no request
/// is made; exec plugins are not run yet).
async fn load_config(target: &KubeTarget) -> Result<(Config, Option<String>), CollectError> {
    let opts = KubeConfigOptions {
        context: target.context.clone(),
        ..Default::default()
    };
    let loaded = match &target.kubeconfig {
        Some(path) => {
            let kc = Kubeconfig::read_from(path).map_err(|e| CollectError::Kubeconfig {
                source_name: path.display().to_string(),
                reason: e.to_string(),
            })?;
            let ctx = target.context.clone().or(kc.current_context.clone());
            let config = Config::from_custom_kubeconfig(kc, &opts)
                .await
                .map_err(|e| CollectError::Kubeconfig {
                    source_name: path.display().to_string(),
                    reason: e.to_string(),
                })?;
            (config, ctx)
        }
        None if target.context.is_some() => {
            let config =
                Config::from_kubeconfig(&opts)
                    .await
                    .map_err(|e| CollectError::Kubeconfig {
                        source_name: "$KUBECONFIG".into(),
                        reason: e.to_string(),
                    })?;
            (config, target.context.clone())
        }
        None => {
            let config = Config::infer()
                .await
                .map_err(|e| CollectError::Kubeconfig {
                    source_name: "$KUBECONFIG, ~/.kube/config or in-cluster".into(),
                    reason: e.to_string(),
                })?;
            (config, None)
        }
    };
    Ok(loaded)
}

/// The namespace the kubeconfig's context names (else `default`), as kubectl takes it for
/// objects without one.
pub async fn context_namespace(target: &KubeTarget) -> Result<String, CollectError> {
    Ok(load_config(target).await?.0.default_namespace)
}

/// Every item of a list, following `continue` tokens.
async fn list_all<K>(api: Api<K>) -> Result<Vec<K>, kube::Error>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    let mut out = Vec::new();
    let mut lp = ListParams::default().limit(500);
    loop {
        let page = api.list(&lp).await?;
        out.extend(page.items);
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => lp = lp.continue_token(&c),
            None => return Ok(out),
        }
    }
}

/// A namespaced kind, in one namespace or all of them.
async fn namespaced<K>(
    cluster: &Cluster,
    namespace: Option<&str>,
    timeout: Duration,
) -> Result<Vec<K>, Gap>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope> + Clone + DeserializeOwned + Debug,
    K::DynamicType: Default,
{
    let client = &cluster.client;
    let api = match namespace {
        Some(ns) => Api::<K>::namespaced(client.clone(), ns),
        None => Api::<K>::all(client.clone()),
    };
    fetch(api, namespace, timeout, &cluster.transcript).await
}

async fn cluster_scoped<K>(cluster: &Cluster, timeout: Duration) -> Result<Vec<K>, Gap>
where
    K: Resource<Scope = k8s_openapi::ClusterResourceScope> + Clone + DeserializeOwned + Debug,
    K::DynamicType: Default,
{
    fetch(
        Api::<K>::all(cluster.client.clone()),
        None,
        timeout,
        &cluster.transcript,
    )
    .await
}

async fn fetch<K>(
    api: Api<K>,
    namespace: Option<&str>,
    timeout: Duration,
    transcript: &crate::net::http::Transcript,
) -> Result<Vec<K>, Gap>
where
    K: Resource + Clone + DeserializeOwned + Debug,
    K::DynamicType: Default,
{
    let plural = K::plural(&K::DynamicType::default()).into_owned();
    let start = std::time::Instant::now();
    let result = fetch_timed(api, namespace, timeout, &plural).await;
    transcript.record(
        format!("list {plural}"),
        ("GET", K::url_path(&K::DynamicType::default(), namespace)),
        start,
        match &result {
            Ok(_) => Some(200),
            Err((_, code)) => *code,
        },
        result.as_ref().err().map(|(g, _)| g.error.clone()),
    );
    result.map_err(|(g, _)| g)
}

/// The list, or the gap and the HTTP status that caused it (none for a timeout).
async fn fetch_timed<K>(
    api: Api<K>,
    namespace: Option<&str>,
    timeout: Duration,
    plural: &str,
) -> Result<Vec<K>, (Gap, Option<u16>)>
where
    K: Resource + Clone + DeserializeOwned + Debug,
    K::DynamicType: Default,
{
    let plural = plural.to_string();
    // The permission is the hint only when the server refused; a timeout or a lost connection
    // needs an answer, not a role.
    let gap = |error: String, status: Option<u16>| Gap {
        resource: plural.clone(),
        namespace: namespace.map(str::to_string),
        needed: match (status, namespace) {
            (Some(401), _) => "credentials the API server accepts".into(),
            (Some(403), Some(ns)) => format!("list {plural} in namespace {ns}"),
            (Some(403), None) => format!("list {plural} (cluster-wide)"),
            _ => "an answer from the API server".into(),
        },
        error,
    };
    match tokio::time::timeout(timeout, retrying(|| list_all(api.clone()))).await {
        Ok((Ok(items), _)) => Ok(items),
        // A kind the server does not serve is simply absent.
        Ok((Err(kube::Error::Api(s)), _)) if s.code == 404 => Ok(Vec::new()),
        Ok((Err(kube::Error::Api(s)), attempts)) => {
            Err((gap(api_error(&s, attempts), Some(s.code)), Some(s.code)))
        }
        Ok((Err(e), _)) => Err((gap(plain_error(&e), None), None)),
        Err(_) => Err((
            gap(format!("no answer within {}s", timeout.as_secs()), None),
            None,
        )),
    }
}

/// The items, or none with the gap noted.
fn take<K>(r: Result<Vec<K>, Gap>, gaps: &mut Vec<Gap>) -> Vec<K> {
    r.unwrap_or_else(|g| {
        gaps.push(g);
        Vec::new()
    })
}

/// Lists every kind the analysis reads, concurrently. Gaps are returned beside the objects.
pub async fn collect(
    cluster: &Cluster,
    namespace: Option<&str>,
    timeout: Duration,
) -> (KubeObjects, Vec<Gap>) {
    let c = cluster;
    let ns = namespace;
    let (pods, sas, deps, rss, stss, dss, jobs, cjs, cms, svcs, evs) = tokio::join!(
        namespaced::<Pod>(c, ns, timeout),
        namespaced::<ServiceAccount>(c, ns, timeout),
        namespaced::<Deployment>(c, None, timeout),
        namespaced::<ReplicaSet>(c, ns, timeout),
        namespaced::<StatefulSet>(c, ns, timeout),
        namespaced::<DaemonSet>(c, ns, timeout),
        namespaced::<Job>(c, ns, timeout),
        namespaced::<CronJob>(c, ns, timeout),
        namespaced::<ConfigMap>(c, ns, timeout),
        namespaced::<Service>(c, None, timeout),
        namespaced::<Event>(c, ns, timeout),
    );
    let (mwcs, nss, nodes, crs, crbs) = tokio::join!(
        cluster_scoped::<MutatingWebhookConfiguration>(c, timeout),
        cluster_scoped::<Namespace>(c, timeout),
        cluster_scoped::<Node>(c, timeout),
        cluster_scoped::<ClusterRole>(c, timeout),
        cluster_scoped::<ClusterRoleBinding>(c, timeout),
    );
    let mut gaps = Vec::new();
    let objects = KubeObjects {
        pods: take(pods, &mut gaps),
        service_accounts: take(sas, &mut gaps),
        deployments: take(deps, &mut gaps),
        replica_sets: take(rss, &mut gaps),
        stateful_sets: take(stss, &mut gaps),
        daemon_sets: take(dss, &mut gaps),
        jobs: take(jobs, &mut gaps),
        cron_jobs: take(cjs, &mut gaps),
        config_maps: take(cms, &mut gaps),
        services: take(svcs, &mut gaps),
        events: take(evs, &mut gaps),
        mutating_webhooks: take(mwcs, &mut gaps),
        namespaces: take(nss, &mut gaps),
        nodes: take(nodes, &mut gaps),
        cluster_roles: take(crs, &mut gaps),
        cluster_role_bindings: take(crbs, &mut gaps),
    };
    // The webhook's own Deployment and Service live in its namespace: a user limited to one
    // namespace cannot see them, which is expected rather than a gap worth reporting.
    gaps.retain(|g| {
        !(namespace.is_some() && matches!(g.resource.as_str(), "deployments" | "services"))
    });
    // Cluster roles matter only to pods that use an AKS identity binding; a reader who may not
    // list them loses nothing else.
    if !objects
        .pods
        .iter()
        .any(crate::world::kube::uses_identity_binding)
    {
        gaps.retain(|g| !matches!(g.resource.as_str(), "clusterroles" | "clusterrolebindings"));
    }
    (objects, gaps)
}
