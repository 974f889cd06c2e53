//! Live collection: fills a [`World`] from a real cluster (kube-rs) and real Azure (ARM and
//! Graph with an azure_identity credential), then runs the probes on the pods asked for.
//! Everything that could not be read becomes a [`Gap`]; only a cluster that cannot be reached
//! at all is an error.

pub mod azure;
mod client_cert;
pub mod credential;
pub mod exec_plugin;
pub mod in_pod;
pub mod kube;

use crate::net::{cloud, http};
use std::time::Duration;

use crate::analysis::Selection;
use crate::world::live::Gap;
use crate::world::{TargetHint, World};

pub use self::credential::AzureAuth;
pub use self::kube::KubeTarget;

/// kube's rustls (ring) and reqwest's (aws-lc-rs, through azure_core) both link a crypto
/// provider, so rustls needs a process default before any client is built. Idempotent.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("kubeconfig {source_name}: {reason}")]
    Kubeconfig { source_name: String, reason: String },
    #[error("Kubernetes client: {0}")]
    Kube(String),
    #[error("Azure credential: {0}")]
    Credential(String),
    #[error(transparent)]
    Http(#[from] http::HttpError),
    #[error("cannot reach the cluster: {0}")]
    Unreachable(String),
    #[error("--in-pod: {0}")]
    InPod(String),
}

#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub kube: KubeTarget,
    pub azure_auth: AzureAuth,
    pub cloud: cloud::Cloud,
    /// `--authority-host`: one more authority that may receive tokens.
    pub authority_host: Option<String>,
    pub subscriptions: Vec<String>,
    pub selection: Selection,
    /// `--pod NAME` with no namespace: the pod is looked up in the kubeconfig context's
    /// namespace, as kubectl does, and `selection` is ignored.
    pub pod_in_context_namespace: Option<String>,
    pub targets: Vec<TargetHint>,
    /// Manifests (`check -f`) laid over what the cluster holds before Azure is read, so the
    /// identities their ServiceAccounts name are looked up too.
    pub manifests: Option<std::sync::Arc<crate::world::manifests::Manifests>>,
    /// Run the token, exchange and resource probes (not only read objects).
    pub probe: bool,
    pub concurrency: usize,
    pub timeout: Duration,
    pub network: http::Network,
    /// Read Azure as this service principal instead of `azure_auth`.
    pub login: Option<credential::SecretLogin>,
    /// Running inside the workload: present its own token file instead of a TokenRequest.
    pub in_pod: bool,
    /// `--log FILE`: each live read appends its transcript and gaps there (see [`append_log`]).
    pub log: Option<std::path::PathBuf>,
}

/// Appends one run's redacted transcript to `--log FILE`, under a line saying which widiag
/// wrote it when; appended, so a log follows several runs (and a TUI session's reads).
pub fn append_log(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let stamp = format!(
        "# widiag {} at {}\n",
        env!("CARGO_PKG_VERSION"),
        jiff::Timestamp::now()
    );
    f.write_all(stamp.as_bytes())?;
    f.write_all(text.as_bytes())
}

impl Default for LiveOptions {
    /// Every pod, probes on, the current kube context, Azure public cloud.
    fn default() -> Self {
        LiveOptions {
            kube: KubeTarget::default(),
            azure_auth: AzureAuth::Auto,
            cloud: cloud::PUBLIC,
            authority_host: None,
            subscriptions: Vec::new(),
            selection: Selection::All,
            pod_in_context_namespace: None,
            targets: Vec::new(),
            manifests: None,
            probe: true,
            concurrency: 8,
            timeout: Duration::from_secs(20),
            network: http::Network::default(),
            login: None,
            in_pod: false,
            log: None,
        }
    }
}

/// What a live run gathered, and the requests it made to gather it.
pub struct Live {
    /// The selection as resolved against the cluster (a bare pod name gets its namespace).
    pub selection: Selection,
    pub world: World,
    pub transcript: Vec<crate::world::live::Step>,
}

pub async fn live(opts: &LiveOptions) -> Result<Live, CollectError> {
    // The pod's own token first: without it `--in-pod` has nothing to present.
    let own_token = if opts.in_pod {
        let named = match &opts.selection {
            Selection::Pod(p) if opts.pod_in_context_namespace.is_none() => Some(p),
            _ => None,
        };
        Some(in_pod::read(None, named)?)
    } else {
        None
    };
    let cluster = kube::connect(&opts.kube, opts.timeout).await?;
    let selection = match (&own_token, &opts.pod_in_context_namespace) {
        (Some(t), _) => Selection::Pod(t.pod.clone()),
        (None, Some(name)) => Selection::Pod(crate::world::ObjRef::new(
            cluster.default_namespace.clone(),
            name.clone(),
        )),
        (None, None) => opts.selection.clone(),
    };
    let version = server_version(&cluster, opts.timeout).await?;
    let namespace = selection.namespace();
    let (objects, mut gaps) = kube::collect(&cluster, namespace, opts.timeout).await;
    let mut world = World {
        kube: objects,
        ..Default::default()
    };
    if let Some(m) = &opts.manifests {
        crate::world::manifests::apply(&mut world, m);
    }
    // Without the pods nothing can be judged: no Azure read or probe spends more time.
    let pods_unread = gaps.iter().any(Gap::is_pods);
    world.info.context = cluster.context.clone();
    world.info.kubernetes_version = Some(version.git_version);
    world.info.cloud = Some(opts.cloud.name.to_string());
    world.info.targets = opts.targets.clone();
    let http = http::Http::new(opts.timeout, &opts.network)?;
    read_azure(opts, &http, &mut world, &mut gaps, pods_unread).await?;
    if world.info.tenant_id.is_none() {
        world.info.tenant_id = world
            .azure
            .identities
            .iter()
            .find_map(|i| i.tenant_id.clone());
    }
    world.facts.gaps = gaps;
    if opts.probe && !pods_unread {
        let (plans, _unplanned) = crate::analysis::plan::plan(&world, &selection, &opts.targets);
        let probe_opts = probe_options(opts, &world, own_token);
        let facts = crate::probe::run(&cluster.client, &http, &plans, &probe_opts).await;
        facts.add_to(&mut world);
    }
    // After the probes: the tokens they took must not look issued in the future.
    world.info.captured_at = Some(jiff::Timestamp::now());
    Ok(Live {
        selection,
        world,
        transcript: cluster
            .transcript
            .steps()
            .into_iter()
            .chain(http.transcript.steps())
            .collect(),
    })
}

/// The API server's version: the first request, so its failure says the cluster cannot be
/// reached at all (with the client certificate's end date when that is the likely cause).
async fn server_version(
    cluster: &kube::Cluster,
    timeout: Duration,
) -> Result<k8s_openapi::apimachinery::pkg::version::Info, CollectError> {
    let start = std::time::Instant::now();
    let version = tokio::time::timeout(timeout, cluster.client.apiserver_version())
        .await
        .map_err(|_| format!("no answer within {}s", timeout.as_secs()))
        .and_then(|r| r.map_err(|e| crate::net::kube_calls::plain_error(&e)))
        .map_err(|error| {
            match client_cert::expired_note(cluster.client_certificate_ends, jiff::Timestamp::now())
            {
                Some(note) => format!("{error}; {note}"),
                None => error,
            }
        });
    cluster.transcript.record(
        "server version",
        ("GET", "/version".into()),
        start,
        version.is_ok().then_some(200),
        version.as_ref().err().cloned(),
    );
    version.map_err(CollectError::Unreachable)
}

/// Azure as the credential reads it into the world, or a gap that says why it was not read.
async fn read_azure(
    opts: &LiveOptions,
    http: &http::Http,
    world: &mut World,
    gaps: &mut Vec<Gap>,
    pods_unread: bool,
) -> Result<(), CollectError> {
    let credential = match pods_unread {
        true => None,
        false => credential::credential(
            opts.azure_auth,
            opts.login.as_ref(),
            http.client(),
            opts.timeout,
        )?,
    };
    match credential {
        Some(cred) => {
            let reader = azure::AzureReader {
                http: http.clone(),
                credential: cred,
                cloud: opts.cloud,
                timeout: opts.timeout,
            };
            let wanted = azure::Wanted {
                client_ids: crate::analysis::plan::client_ids(world),
                subscriptions: opts.subscriptions.clone(),
                identity_bindings: world
                    .kube
                    .pods
                    .iter()
                    .any(crate::world::kube::uses_identity_binding),
            };
            let (az, az_gaps) = reader.collect(&wanted).await;
            world.azure = az.azure;
            gaps.extend(az_gaps);
        }
        None => gaps.push(Gap {
            resource: "azure".into(),
            namespace: None,
            needed: "an Azure credential (--azure-auth)".into(),
            error: if pods_unread {
                "Azure was not read: the pods could not be read".into()
            } else {
                "Azure was not read (--azure-auth none)".into()
            },
        }),
    }
    Ok(())
}

fn probe_options(
    opts: &LiveOptions,
    world: &World,
    own_token: Option<crate::probe::token::OwnToken>,
) -> crate::probe::ProbeOptions {
    crate::probe::ProbeOptions {
        cloud: opts.cloud,
        concurrency: opts.concurrency,
        blob_endpoints: world
            .azure
            .storage_accounts
            .iter()
            .filter_map(|a| Some((a.name.to_ascii_lowercase(), a.blob_endpoint.clone()?)))
            .collect(),
        own_token,
        authority_host: opts.authority_host.clone(),
        timeout: opts.timeout,
        cluster_issuers: world
            .azure
            .clusters
            .iter()
            .filter_map(|c| c.issuer_url.clone())
            .collect(),
    }
}
