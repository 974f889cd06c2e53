//! The command-line edge: reads files, picks the clock and the terminal, maps the report to an
//! exit code. Everything else is library code that returns data.

pub mod args;
pub mod check;
pub mod demo;
pub mod fleet;
pub mod manifests;
pub mod report;
pub mod scope;
pub mod tui;

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::analysis::{self, Catalog, Selection, Status};
use crate::output;
use crate::world::parse::{Source, parse_world};
use args::{Cli, Command};

/// Exit codes (docs/check-output.md).
pub const EXIT_OK: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
/// 128 + the signal, as shells report a process a signal ended.
pub const EXIT_SIGINT: u8 = 130;
pub const EXIT_SIGHUP: u8 = 129;
pub const EXIT_SIGTERM: u8 = 143;

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Some(Command::Check(args)) => check::check(&args),
        Some(Command::Report(args)) => report::report(&args),
        Some(Command::Codes { markdown }) => codes(markdown),
        Some(Command::Webhook { release, markdown }) => webhook(release.as_deref(), markdown),
        Some(Command::Demo(d)) => demo_cmd(&d),
        #[cfg(feature = "lab")]
        Some(Command::Lab(l)) => lab_cmd(&l),
        Some(Command::GenerateWorld(g)) => {
            let sizes = crate::world::generate::Sizes {
                pods: g.pods,
                service_accounts: g.service_accounts,
                identities: g.identities,
                fics_per_identity: g.fics_per_identity,
                namespaces: g.namespaces,
            };
            std::io::stdout()
                .lock()
                .write_all(crate::world::generate::world_yaml(sizes).as_bytes())?;
            Ok(ExitCode::from(EXIT_OK))
        }
        // Scripts (no terminal) and `--check` get the headless report.
        // Manifests are a check's input; the TUI has no place for them.
        None if cli.check || !tui::stdout_is_terminal() || !cli.check_args.filenames.is_empty() => {
            check::check(&cli.check_args)
        }
        None => tui_cmd(&cli.check_args.scope),
    }
}

fn webhook(release: Option<&str>, markdown: bool) -> Result<ExitCode> {
    use crate::analysis::webhook::Version;
    let text = match release {
        Some(r) => {
            let v = Version::parse(r)
                .with_context(|| format!("--release {r:?}: expected a version such as v1.5.1"))?;
            anyhow::ensure!(
                v >= Version(0, 1, 0),
                "--release {r:?}: the webhook's first release is v0.1.0"
            );
            output::webhook_release(v)
        }
        None if markdown => output::webhook_markdown(),
        None => output::webhook_release(Version::LATEST),
    };
    anstream::stdout().write_all(text.as_bytes())?;
    Ok(ExitCode::from(EXIT_OK))
}

fn codes(markdown: bool) -> Result<ExitCode> {
    let catalog = Catalog::builtin();
    let mut out = anstream::stdout();
    if markdown {
        out.write_all(output::catalog_markdown(&catalog).as_bytes())?;
        return Ok(ExitCode::from(EXIT_OK));
    }
    for e in catalog.entries() {
        let severity = format!("{:?}", e.severity).to_lowercase();
        writeln!(
            out,
            "{:<7} {:<15} {:<8} {}",
            e.code,
            e.link.name(),
            severity,
            e.title
        )?;
    }
    Ok(ExitCode::from(EXIT_OK))
}

#[cfg(feature = "lab")]
fn lab_cmd(l: &args::LabArgs) -> Result<ExitCode> {
    let world = if l.worlds.is_empty() {
        let text =
            demo::world(&l.demo).with_context(|| format!("no embedded world {:?}", l.demo))?;
        parse_world(&[Source {
            name: &format!("embedded:{}", l.demo),
            text,
        }])?
    } else {
        scope::load_worlds(&l.worlds)?
    };
    let lab = crate::lab::LabHandle::spawn(world)?;
    lab.write_kubeconfig(&l.kubeconfig)?;
    let dir = l
        .kubeconfig
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let env = lab.write_client_files(dir)?;
    let pod_env = match &l.pod {
        Some(p) => {
            let r = crate::world::ObjRef::parse(p, "default")
                .with_context(|| format!("--pod {p:?}: expected NAMESPACE/NAME"))?;
            let written = lab.write_pod_files(dir, &r.namespace, &r.name)?;
            Some(written.with_context(|| format!("--pod {r}: not in the lab's world"))?)
        }
        None => None,
    };
    let mut out = anstream::stdout();
    writeln!(out, "Kubernetes API and OIDC issuer: {}", lab.kube_url())?;
    writeln!(out, "kubeconfig: {}", l.kubeconfig.display())?;
    writeln!(
        out,
        "HTTPS proxy and CA for real host names: {} (source it: set -a; . {}; set +a)",
        env.display(),
        env.display()
    )?;
    if let Some(p) = &pod_env {
        writeln!(
            out,
            "as the pod: {} (AZURE_* and a fresh token file; source it too, then run your app)",
            p.display()
        )?;
    }
    writeln!(
        out,
        "try: kubectl --kubeconfig {} get pods -A",
        l.kubeconfig.display()
    )?;
    let log = match &l.request_log {
        Some(path) => {
            writeln!(out, "request log: {} (JSON lines)", path.display())?;
            Some(RequestLogWriter::start(&lab, path)?)
        }
        None => None,
    };
    writeln!(out, "Ctrl-C stops the lab.")?;
    out.flush()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(tokio::signal::ctrl_c())?;
    if let Some(w) = log {
        w.finish(&lab)?;
    }
    drop(lab);
    Ok(ExitCode::from(EXIT_OK))
}

/// `widiag` in a terminal: the TUI on world files, else on the kubeconfig's cluster.
fn tui_cmd(args: &args::ScopeArgs) -> Result<ExitCode> {
    // The flags `check` honours, the TUI honours too (`--severity`, `--keyvault`, `--now`, ...).
    let config = scope::config(args)?;
    let focus = scope::focus(args)?;
    if !args.worlds.is_empty() {
        let world = scope::load_worlds(&args.worlds)?;
        let names: Vec<String> = args
            .worlds
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        return tui::open(
            tui::world_source(world, args.worlds.clone()),
            config,
            crate::tui::Source::World(names.join(", ")),
            false,
            focus,
        );
    }
    let opts = scope::live_options(args, &Selection::All)?;
    let context = opts
        .kube
        .context
        .clone()
        .or_else(|| crate::collect::kube::current_context(opts.kube.kubeconfig.as_deref()))
        .unwrap_or_else(|| "(no current context)".into());
    tui::open(
        crate::tui::runner::DataSource::Live(std::sync::Arc::new(opts)),
        config,
        crate::tui::Source::Live { context },
        false,
        focus,
    )
}

/// `widiag demo` in a terminal: the lab in-process on an embedded world, and the TUI reading
/// it live, probes included.
#[cfg(feature = "lab")]
fn demo_tui(
    name: &str,
    world: crate::world::World,
    config: crate::analysis::Config,
) -> Result<ExitCode> {
    let lab = crate::lab::LabHandle::spawn(world)?;
    let dir = std::env::temp_dir().join(format!("widiag-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let kubeconfig = dir.join("kubeconfig");
    lab.write_kubeconfig(&kubeconfig)?;
    let r = &lab.reader;
    let opts = crate::collect::LiveOptions {
        kube: crate::collect::KubeTarget {
            kubeconfig: Some(kubeconfig),
            ..Default::default()
        },
        timeout: std::time::Duration::from_secs(10),
        network: crate::net::http::Network {
            proxy: Some(format!("http://{}", lab.proxy_addr)),
            ca_pem: Some(lab.ca_pem.clone()),
        },
        login: Some(crate::collect::credential::SecretLogin {
            tenant_id: r.tenant_id.clone(),
            client_id: r.client_id.clone(),
            secret: r.secret.clone(),
        }),
        ..Default::default()
    };
    let result = tui::open(
        crate::tui::runner::DataSource::Live(std::sync::Arc::new(opts)),
        config,
        crate::tui::Source::Live {
            context: format!("widiag-lab ({name})"),
        },
        true,
        tui::Focus::default(),
    );
    drop(lab);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn demo_cmd(d: &args::DemoArgs) -> Result<ExitCode> {
    if d.list {
        let mut out = anstream::stdout();
        for (name, _) in demo::WORLDS {
            writeln!(out, "{name}")?;
        }
        return Ok(ExitCode::from(EXIT_OK));
    }
    let text = demo::world(&d.world).with_context(|| {
        format!(
            "no embedded world {:?}; `widiag demo --list` shows them",
            d.world
        )
    })?;
    let world = parse_world(&[Source {
        name: &format!("embedded:{}", d.world),
        text,
    }])?;
    let config = scope::analysis_config(&d.analysis)?;
    #[cfg(feature = "lab")]
    if tui::stdout_is_terminal() && !d.headless {
        return demo_tui(&d.world, world, config);
    }
    let options = config.options(&world, Selection::All, jiff::Timestamp::now());
    let report = analysis::analyze(&world, &config.catalog, &options);
    check::print_report(
        &report,
        &config.catalog,
        d.output,
        d.color,
        Some(Status::Fail),
        None,
    )?;
    // A demo of a broken world is still a successful demo.
    Ok(ExitCode::from(EXIT_OK))
}

/// `widiag lab --request-log FILE`: appends the lab's request log as JSON lines while it runs,
/// a few times a second, and the rest when it stops.
#[cfg(feature = "lab")]
struct RequestLogWriter {
    file: std::sync::Arc<std::sync::Mutex<(std::fs::File, usize)>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

#[cfg(feature = "lab")]
impl RequestLogWriter {
    fn start(lab: &crate::lab::LabHandle, path: &std::path::Path) -> Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("--request-log {}", path.display()))?;
        let file = std::sync::Arc::new(std::sync::Mutex::new((file, 0usize)));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let log = lab.log.clone();
        let (f, s) = (file.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = Self::flush(&log, &f);
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        });
        Ok(RequestLogWriter { file, stop, thread })
    }

    /// Writes the entries not written yet.
    fn flush(
        log: &crate::lab::RequestLog,
        file: &std::sync::Mutex<(std::fs::File, usize)>,
    ) -> std::io::Result<()> {
        let entries: Vec<String> = {
            let (Ok(log), Ok(guard)) = (log.lock(), file.lock()) else {
                return Ok(());
            };
            log.iter().skip(guard.1).map(|e| e.json_line()).collect()
        };
        let Ok(mut guard) = file.lock() else {
            return Ok(());
        };
        for line in &entries {
            writeln!(guard.0, "{line}")?;
        }
        guard.1 += entries.len();
        guard.0.flush()
    }

    fn finish(self, lab: &crate::lab::LabHandle) -> Result<()> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = self.thread.join();
        Self::flush(&lab.log, &self.file)?;
        Ok(())
    }
}
