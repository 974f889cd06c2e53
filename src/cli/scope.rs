//! What a command analyses: world files or the live cluster and Azure, the pods selected, the
//! catalogue with `--severity` overrides. `check`, `report` and the TUI share it.

use std::io::Write;
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use super::args::ScopeArgs;
use crate::analysis::{self, Catalog, Options, Report, Selection};
use crate::output;
use crate::world::manifests::Manifests;
use crate::world::parse::{Source, parse_world};
use crate::world::{ObjRef, TargetHint, World};

/// A world, read and analysed as the scope asks.
pub struct Analysed {
    pub world: World,
    pub catalog: Catalog,
    pub options: Options,
    pub report: Report,
}

pub fn analyse(args: &ScopeArgs) -> Result<Analysed> {
    analyse_with(args, None)
}

/// As [`analyse`], with manifests (`check -f`) applied over the world: their workloads and pods
/// are the selection.
pub fn analyse_with(args: &ScopeArgs, manifests: Option<&Arc<Manifests>>) -> Result<Analysed> {
    let selection = match manifests {
        Some(m) => Selection::Applied(m.subjects()),
        None => selection(args)?,
    };
    let (world, selection) = if args.worlds.is_empty() {
        let (world, selection) = live_world(args, &selection, manifests)?;
        // Without the pods nothing can be judged: an error, as `kubectl get pods` gives, rather
        // than an empty report that reads as a pass (a world file's recorded gap is reported).
        if let Some(g) = world.facts.gaps.iter().find(|g| g.is_pods()) {
            bail!(
                "cannot read the pods: {} (widiag needs {})",
                g.error,
                g.needed
            );
        }
        (world, selection)
    } else {
        let mut world = load_worlds(&args.worlds)?;
        if let Some(m) = manifests {
            crate::world::manifests::apply(&mut world, m);
        }
        (world, selection)
    };
    let config = config(args)?;
    let options = config.options(&world, selection.clone(), jiff::Timestamp::now());
    let report = analysis::analyze(&world, &config.catalog, &options);
    if let Selection::Workload((ns, kind, name)) = &selection
        && report.pods.is_empty()
        && report.not_using.is_empty()
    {
        bail!(
            "{kind} {ns}/{name} is not in the {}",
            if args.worlds.is_empty() {
                "cluster"
            } else {
                "world"
            }
        );
    }
    if let Selection::Pod(r) = &selection
        && report.pods.is_empty()
        && report.not_using.is_empty()
    {
        bail!(
            "pod {r} is not in the {}",
            if args.worlds.is_empty() {
                "cluster"
            } else {
                "world"
            }
        );
    }
    Ok(Analysed {
        world,
        catalog: config.catalog,
        options,
        report,
    })
}

/// The analysis configuration the flags give: `--severity`, `--keyvault`, `--blob`,
/// `--user-delegation` and `--now`, for every front end alike.
pub fn config(args: &ScopeArgs) -> Result<analysis::Config> {
    analysis_config(&args.analysis)
}

pub fn analysis_config(args: &super::args::AnalysisArgs) -> Result<analysis::Config> {
    let mut catalog = Catalog::builtin();
    catalog.apply_overrides(args.severities.iter().map(String::as_str))?;
    Ok(analysis::Config {
        catalog,
        targets: targets(args),
        now: args.now,
    })
}

pub fn load_worlds(paths: &[std::path::PathBuf]) -> Result<World> {
    let texts = paths
        .iter()
        .map(|p| {
            std::fs::read_to_string(p)
                .with_context(|| format!("cannot read world file {}", p.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let sources: Vec<Source<'_>> = names
        .iter()
        .zip(&texts)
        .map(|(name, text)| Source { name, text })
        .collect();
    Ok(parse_world(&sources)?)
}

fn selection(args: &ScopeArgs) -> Result<Selection> {
    let namespace = args.namespace.clone().unwrap_or_else(|| "default".into());
    if let Some(w) = &args.workload {
        let (kind, name) = workload_kind(w).with_context(|| {
            format!("--workload {w:?}: expected KIND/NAME, KIND one of deploy, statefulset, daemonset, cronjob, job, rs")
        })?;
        return Ok(Selection::Workload((namespace, kind.into(), name.into())));
    }
    Ok(match (&args.pod, &args.namespace) {
        (Some(p), _) => Selection::Pod(
            ObjRef::parse(p, &namespace)
                .with_context(|| format!("--pod {p:?}: expected NAME or NAMESPACE/NAME"))?,
        ),
        (None, Some(ns)) if !args.all => Selection::Namespace(ns.clone()),
        _ => Selection::All,
    })
}

/// Where the TUI opens for the selection flags: their namespace, and the pod's name or the
/// workload's `deploy/NAME` as the filter.
pub fn focus(args: &ScopeArgs) -> Result<super::tui::Focus> {
    let workload = |key: &crate::analysis::workloads::Key| crate::analysis::Workload {
        kind: key.1.clone().into(),
        name: key.2.clone(),
    };
    Ok(match selection(args)? {
        // A bare pod name without -n lies in the context's namespace, not known here.
        Selection::Pod(p) => super::tui::Focus {
            namespace: (args.namespace.is_some()
                || args.pod.as_ref().is_some_and(|n| n.contains('/')))
            .then_some(p.namespace),
            filter: p.name,
        },
        Selection::Workload(key) => super::tui::Focus {
            filter: workload(&key).kubectl_ref(),
            namespace: Some(key.0),
        },
        Selection::Namespace(ns) => super::tui::Focus {
            namespace: Some(ns),
            filter: String::new(),
        },
        Selection::All | Selection::Applied(_) => super::tui::Focus::default(),
    })
}

/// kubectl's `KIND/NAME` for a workload: the kind as the API names it, and the name.
fn workload_kind(text: &str) -> Option<(&'static str, &str)> {
    let (kind, name) = text.split_once('/')?;
    let kind = match kind.to_ascii_lowercase().as_str() {
        "deploy" | "deployment" | "deployments" | "deployment.apps" => "Deployment",
        "sts" | "statefulset" | "statefulsets" | "statefulset.apps" => "StatefulSet",
        "ds" | "daemonset" | "daemonsets" | "daemonset.apps" => "DaemonSet",
        "cj" | "cronjob" | "cronjobs" | "cronjob.batch" => "CronJob",
        "job" | "jobs" | "job.batch" => "Job",
        "rs" | "replicaset" | "replicasets" | "replicaset.apps" => "ReplicaSet",
        _ => return None,
    };
    (!name.is_empty() && !name.contains('/')).then_some((kind, name))
}

/// Reads the cluster and Azure the live arguments name, and runs the probes.
pub fn live_options(
    args: &ScopeArgs,
    selection: &Selection,
) -> Result<crate::collect::LiveOptions> {
    let l = &args.live;
    let cloud = crate::net::cloud::Cloud::parse(&l.cloud).with_context(|| {
        format!(
            "--cloud {:?}: expected AzurePublicCloud, AzureChinaCloud or AzureUSGovernmentCloud",
            l.cloud
        )
    })?;
    let opts = crate::collect::LiveOptions {
        kube: crate::collect::KubeTarget {
            kubeconfig: l.kubeconfig.clone(),
            context: l.context.clone(),
        },
        azure_auth: l.azure_auth,
        cloud,
        authority_host: l.authority_host.clone(),
        subscriptions: l.subscriptions.clone(),
        selection: selection.clone(),
        targets: targets(&args.analysis),
        manifests: None,
        probe: !l.offline,
        concurrency: l.concurrency,
        timeout: std::time::Duration::from_secs(l.timeout),
        network: Default::default(),
        login: None,
        in_pod: l.in_pod,
        log: l.log.clone(),
        pod_in_context_namespace: args
            .pod
            .clone()
            .filter(|p| !p.contains('/') && args.namespace.is_none()),
    };
    Ok(opts)
}

fn live_world(
    args: &ScopeArgs,
    selection: &Selection,
    manifests: Option<&Arc<Manifests>>,
) -> Result<(World, Selection)> {
    let l = &args.live;
    let mut opts = live_options(args, selection)?;
    opts.manifests = manifests.cloned();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    // Ctrl-C drops the collection: an exec plugin or `az` it waits for is killed with it.
    let live = rt.block_on(async {
        tokio::select! {
            r = crate::collect::live(&opts) => Some(r),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    // A blocking thread still waiting on the network is not waited for.
    rt.shutdown_timeout(std::time::Duration::from_millis(500));
    let Some(live) = live else {
        eprintln!("widiag: interrupted");
        std::process::exit(i32::from(super::EXIT_SIGINT));
    };
    let live = live?;
    if l.transcript || l.log.is_some() {
        let text = output::handoff::transcript_text(&live.world, &live.transcript, None);
        if l.transcript {
            anstream::stderr().write_all(text.as_bytes())?;
        }
        if let Some(path) = &l.log {
            crate::collect::append_log(path, &text)
                .with_context(|| format!("cannot write log file {}", path.display()))?;
        }
    }
    Ok((live.world, live.selection))
}

fn targets(args: &super::args::AnalysisArgs) -> Vec<TargetHint> {
    let kv = args.keyvault.iter().map(|k| TargetHint {
        keyvault: Some(k.clone()),
        ..Default::default()
    });
    let blob = args.blob.iter().map(|b| TargetHint {
        blob: Some(b.clone()),
        user_delegation: args.user_delegation,
        ..Default::default()
    });
    kv.chain(blob).collect()
}
