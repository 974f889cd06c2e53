//! The effect runner: does what `update` asks (read the cluster, run probes, export, copy)
//! on tokio tasks and answers with messages. The UI thread never waits for it.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use super::update::{Effect, Msg};
use crate::analysis::{self, Config, Report, Selection};
use crate::collect::LiveOptions;
use crate::world::{ObjRef, World};

/// Where the runner gets its world from.
#[derive(Clone)]
pub enum DataSource {
    World(Arc<World>),
    Live(Arc<LiveOptions>),
}

/// Every pod of a world, as the first read analyses it.
pub fn analyze_all(world: &World, config: &Config) -> Report {
    analyze(world, &Selection::All, config)
}

fn analyze(world: &World, selection: &Selection, config: &Config) -> Report {
    let options = config.options(world, selection.clone(), jiff::Timestamp::now());
    analysis::analyze(world, &config.catalog, &options)
}

async fn load(
    source: &DataSource,
    config: &Arc<Config>,
    selection: Selection,
    probe: bool,
) -> Result<(Arc<World>, Report), String> {
    let config = Arc::clone(config);
    match source {
        DataSource::World(w) => {
            let w = w.clone();
            tokio::task::spawn_blocking(move || {
                let r = analyze(&w, &selection, &config);
                (w, r)
            })
            .await
            .map_err(|e| e.to_string())
        }
        DataSource::Live(opts) => {
            let mut o = (**opts).clone();
            o.selection = selection.clone();
            o.pod_in_context_namespace = None;
            o.probe = probe;
            // The collector's future borrows across its joins and is not `Send`; a blocking
            // thread drives it on the same runtime instead.
            let handle = tokio::runtime::Handle::current();
            tokio::task::spawn_blocking(move || {
                let live = handle.block_on(crate::collect::live(&o));
                log_read(&o, &live);
                let live = live.map_err(|e| e.to_string())?;
                let r = analyze(&live.world, &selection, &config);
                Ok((Arc::new(live.world), r))
            })
            .await
            .map_err(|e| e.to_string())?
        }
    }
}

/// `--log FILE`: every live read of the session appends its transcript, or why it failed. A
/// log that cannot be written is not worth stopping the TUI for, and is skipped.
fn log_read(o: &LiveOptions, live: &Result<crate::collect::Live, crate::collect::CollectError>) {
    let Some(path) = &o.log else { return };
    let text = match live {
        Ok(l) => crate::output::handoff::transcript_text(&l.world, &l.transcript, None),
        Err(e) => {
            crate::output::handoff::transcript_text(&World::default(), &[], Some(&e.to_string()))
        }
    };
    let _ = crate::collect::append_log(path, &text);
}

/// The newest world each pod was seen in (a probed pod's world holds its live evidence), so
/// an export shows what the screen shows.
#[derive(Default)]
pub struct Seen {
    pub all: Option<Arc<World>>,
    pods: HashMap<ObjRef, Arc<World>>,
}

impl Seen {
    fn world_of(&self, pod: &ObjRef) -> Option<Arc<World>> {
        self.pods.get(pod).or(self.all.as_ref()).cloned()
    }
}

/// Serves effects until the channel closes; every analysis and export uses `config`, the one
/// the command line built.
pub async fn serve(
    mut source: DataSource,
    config: Arc<Config>,
    mut effects: mpsc::UnboundedReceiver<Effect>,
    results: mpsc::UnboundedSender<Msg>,
) {
    let mut seen = Arc::new(Mutex::new(Seen::default()));
    // The reads and probes in flight, so `x` can stop waiting for them. A cancelled live read
    // finishes on its blocking thread and is dropped; nothing it learns is shown.
    let mut running: Vec<tokio::task::JoinHandle<()>> = Vec::new();
    let start_following = |source: &DataSource, seen: &Arc<Mutex<Seen>>| match source {
        DataSource::Live(opts) => Some(tokio::spawn(super::follow::follow(
            opts.clone(),
            config.clone(),
            seen.clone(),
            results.clone(),
        ))),
        DataSource::World(_) => None,
    };
    let mut following = start_following(&source, &seen);
    while let Some(e) = effects.recv().await {
        running.retain(|h| !h.is_finished());
        match e {
            Effect::Quit => {
                following.iter().for_each(|f| f.abort());
                return;
            }
            Effect::Cancel => running.drain(..).for_each(|h| h.abort()),
            Effect::SwitchContext(context) => {
                if let DataSource::Live(opts) = &source {
                    let mut o = (**opts).clone();
                    o.kube.context = Some(context);
                    source = DataSource::Live(Arc::new(o));
                }
                running.drain(..).for_each(|h| h.abort());
                // What was seen belongs to the other cluster.
                seen = Arc::new(Mutex::new(Seen::default()));
                following.iter().for_each(|f| f.abort());
                following = start_following(&source, &seen);
                running.push(spawn_load(
                    &source,
                    &config,
                    &seen,
                    &results,
                    Selection::All,
                    false,
                ));
            }
            Effect::Load { selection, probe } => {
                running.push(spawn_load(
                    &source, &config, &seen, &results, selection, probe,
                ));
            }
            Effect::Copy(text) => {
                // OSC 52: the terminal puts it on the clipboard, over SSH too.
                use base64::Engine;
                let b64 = base64::engine::general_purpose::STANDARD.encode(text);
                let mut out = std::io::stdout();
                let _ = write!(out, "\x1b]52;c;{b64}\x07");
                let _ = out.flush();
            }
            Effect::Describe(pod) => {
                let known = seen
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .world_of(&pod);
                let judging = Arc::clone(&config);
                with_world(&source, &config, known, pod, &results, move |w, pod| {
                    let now = judging.instant(w, jiff::Timestamp::now());
                    match crate::analysis::describe::describe(w, &pod, now) {
                        Some(v) => Msg::Described(pod, v),
                        None => Msg::Failed(format!("{pod} is no longer in the world")),
                    }
                });
            }
            Effect::Export(pod) => {
                let known = seen
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .world_of(&pod);
                let exporting = Arc::clone(&config);
                with_world(&source, &config, known, pod, &results, move |w, pod| {
                    export(w, &pod, &exporting).map_or_else(Msg::Failed, Msg::Notice)
                });
            }
        }
    }
}

/// Reads the source (and probes) on a task; the answer comes back as a message.
fn spawn_load(
    source: &DataSource,
    config: &Arc<Config>,
    seen: &Arc<Mutex<Seen>>,
    results: &mpsc::UnboundedSender<Msg>,
    selection: Selection,
    probe: bool,
) -> tokio::task::JoinHandle<()> {
    let (source, results, seen) = (source.clone(), results.clone(), seen.clone());
    let config = Arc::clone(config);
    tokio::spawn(async move {
        let msg = match load(&source, &config, selection.clone(), probe).await {
            Ok((world, r)) => {
                let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
                match selection {
                    Selection::Pod(p) => {
                        seen.pods.insert(p, world);
                        Msg::Patch(r)
                    }
                    _ => {
                        seen.all = Some(world);
                        Msg::Loaded(r)
                    }
                }
            }
            Err(e) => Msg::Failed(e),
        };
        let _ = results.send(msg);
    })
}

/// On a task: the world the pod was last seen in (or a fresh read), then `work` on a blocking
/// thread; its message goes back to the UI.
fn with_world(
    source: &DataSource,
    config: &Arc<Config>,
    known: Option<Arc<World>>,
    pod: ObjRef,
    results: &mpsc::UnboundedSender<Msg>,
    work: impl FnOnce(&World, ObjRef) -> Msg + Send + 'static,
) {
    let (source, results) = (source.clone(), results.clone());
    let config = Arc::clone(config);
    tokio::spawn(async move {
        let msg = match world_for(&source, &config, known, &pod).await {
            Ok(w) => tokio::task::spawn_blocking(move || work(&w, pod))
                .await
                .unwrap_or_else(|e| Msg::Failed(e.to_string())),
            Err(e) => Msg::Failed(e),
        };
        let _ = results.send(msg);
    });
}

/// The world a pod was last seen in, or a fresh read of it.
async fn world_for(
    source: &DataSource,
    config: &Arc<Config>,
    known: Option<Arc<World>>,
    pod: &ObjRef,
) -> Result<Arc<World>, String> {
    match known {
        Some(w) => Ok(w),
        None => load(source, config, Selection::Pod(pod.clone()), false)
            .await
            .map(|(w, _)| w),
    }
}

/// Writes the pod's support bundle and its Markdown beside it, in the working directory.
fn export(world: &World, pod: &ObjRef, config: &Config) -> Result<String, String> {
    let options = config.options(world, Selection::Pod(pod.clone()), jiff::Timestamp::now());
    let b =
        crate::bundle::build(world, &config.catalog, &options, false).map_err(|e| e.to_string())?;
    let stem = crate::output::bundle::file_stem(pod);
    let yaml = crate::output::bundle::render(&b).map_err(|e| e.to_string())?;
    let md = crate::output::markdown::render(&crate::output::handoff::gather(&b));
    for (ext, text) in [("yaml", &yaml), ("md", &md)] {
        let path = format!("{stem}.{ext}");
        std::fs::write(&path, text).map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(format!(
        "wrote {stem}.yaml (replay: widiag --world {stem}.yaml) and {stem}.md"
    ))
}
