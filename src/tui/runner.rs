//! The effect runner: does what `update` asks (read the cluster, run probes, export, copy)
//! on tokio tasks and answers with messages. The UI thread never waits for it.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use super::update::{Answer, Effect, Msg};
use crate::analysis::{self, Config, Report, Selection};
use crate::collect::LiveOptions;
use crate::world::{ObjRef, World};

/// Where the runner gets its world from.
#[derive(Clone)]
pub enum DataSource {
    /// World files, read again when they change.
    World(Arc<super::world_files::WorldFiles>),
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
        DataSource::World(files) => {
            let files = Arc::clone(files);
            tokio::task::spawn_blocking(move || {
                let w = files.current()?;
                let r = analyze(&w, &selection, &config);
                Ok((w, r))
            })
            .await
            .map_err(|e| e.to_string())?
        }
        DataSource::Live(opts) => {
            let mut o = (**opts).clone();
            o.selection = selection.clone();
            o.pod_in_context_namespace = None;
            o.probe = probe;
            // Driven on this task, so aborting it (`x`, a context switch) drops the read: its
            // requests, its exec plugin and its probes stop.
            let live = crate::collect::live(&o).await;
            log_read(&o, &live);
            let live = live.map_err(|e| e.to_string())?;
            tokio::task::spawn_blocking(move || {
                let r = analyze(&live.world, &selection, &config);
                (Arc::new(live.world), r)
            })
            .await
            .map_err(|e| e.to_string())
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
    // Every request in flight, so `x` and a context switch can stop them.
    let mut running: HashMap<u64, tokio::task::JoinHandle<()>> = HashMap::new();
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
        running.retain(|_, h| !h.is_finished());
        let (id, task) = match e {
            Effect::Quit => {
                following.iter().for_each(|f| f.abort());
                running.values().for_each(|h| h.abort());
                return;
            }
            Effect::Cancel => {
                running.drain().for_each(|(_, h)| h.abort());
                continue;
            }
            Effect::Copy(text) => {
                copy_to_clipboard(text);
                continue;
            }
            Effect::SwitchContext { id, context } => {
                if let DataSource::Live(opts) = &source {
                    let mut o = (**opts).clone();
                    o.kube.context = Some(context);
                    source = DataSource::Live(Arc::new(o));
                }
                running.drain().for_each(|(_, h)| h.abort());
                // What was seen belongs to the other cluster.
                seen = Arc::new(Mutex::new(Seen::default()));
                following.iter().for_each(|f| f.abort());
                following = start_following(&source, &seen);
                let read = (Selection::All, false);
                (id, spawn_load(&source, &config, &seen, &results, id, read))
            }
            Effect::Load {
                id,
                selection,
                probe,
            } => {
                let read = (selection, probe);
                (id, spawn_load(&source, &config, &seen, &results, id, read))
            }
            Effect::Describe { id, pod } => (
                id,
                spawn_for_pod(&source, &config, &seen, &results, (id, pod), describe),
            ),
            Effect::Show { id, shown } => {
                let pod = shown.pod.clone();
                let task = spawn_for_pod(&source, &config, &seen, &results, (id, pod), {
                    move |w, _, _| Answer::Shown(super::shown::text(w, &shown))
                });
                (id, task)
            }
            Effect::Export { id, pod } => (
                id,
                spawn_for_pod(&source, &config, &seen, &results, (id, pod), |w, pod, c| {
                    Answer::Exported(export(w, &pod, c))
                }),
            ),
        };
        running.insert(id, task);
    }
}

/// OSC 52: the terminal puts it on the clipboard, over SSH too.
fn copy_to_clipboard(text: String) {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(text);
    let mut out = std::io::stdout();
    let _ = write!(out, "\x1b]52;c;{b64}\x07");
    let _ = out.flush();
}

/// Runs `work` on the world the pod was last seen in (or a fresh read), with the command line's
/// configuration: a describe or an export.
fn spawn_for_pod(
    source: &DataSource,
    config: &Arc<Config>,
    seen: &Arc<Mutex<Seen>>,
    results: &mpsc::UnboundedSender<Msg>,
    (id, pod): (u64, ObjRef),
    work: impl FnOnce(&World, ObjRef, &Config) -> Answer + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    let known = seen
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .world_of(&pod);
    let with = Arc::clone(config);
    with_world(source, config, known, (id, pod), results, move |w, pod| {
        work(w, pod, &with)
    })
}

/// The facts behind the pod's chain, judged at the instant the views use.
fn describe(w: &World, pod: ObjRef, config: &Config) -> Answer {
    let now = config.instant(w, jiff::Timestamp::now());
    match crate::analysis::describe::describe(w, &pod, now) {
        Some(v) => Answer::Described(pod, v),
        None => {
            let gone = format!("{pod} is no longer in the world");
            Answer::DescribeFailed(pod, gone)
        }
    }
}

/// Reads the source (and probes) on a task; the answer comes back as request `id`'s.
fn spawn_load(
    source: &DataSource,
    config: &Arc<Config>,
    seen: &Arc<Mutex<Seen>>,
    results: &mpsc::UnboundedSender<Msg>,
    id: u64,
    (selection, probe): (Selection, bool),
) -> tokio::task::JoinHandle<()> {
    let (source, results, seen) = (source.clone(), results.clone(), seen.clone());
    let config = Arc::clone(config);
    tokio::spawn(async move {
        let answer = match load(&source, &config, selection.clone(), probe).await {
            Ok((world, r)) => {
                let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
                match selection {
                    Selection::Pod(p) => {
                        seen.pods.insert(p, world);
                        Answer::Patch(r)
                    }
                    _ => {
                        seen.all = Some(world);
                        Answer::Read(r)
                    }
                }
            }
            Err(e) => Answer::ReadFailed(e),
        };
        let _ = results.send(Msg::Answer(id, answer));
    })
}

/// On a task: the world the pod was last seen in (or a fresh read), then `work` on a blocking
/// thread; its answer goes back to the UI as request `id`'s.
fn with_world(
    source: &DataSource,
    config: &Arc<Config>,
    known: Option<Arc<World>>,
    (id, pod): (u64, ObjRef),
    results: &mpsc::UnboundedSender<Msg>,
    work: impl FnOnce(&World, ObjRef) -> Answer + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    let (source, results) = (source.clone(), results.clone());
    let config = Arc::clone(config);
    tokio::spawn(async move {
        let answer = match world_for(&source, &config, known, &pod).await {
            Ok(w) => {
                let on = pod.clone();
                tokio::task::spawn_blocking(move || work(&w, on))
                    .await
                    .unwrap_or_else(|e| Answer::DescribeFailed(pod, e.to_string()))
            }
            Err(e) => Answer::DescribeFailed(pod, e),
        };
        let _ = results.send(Msg::Answer(id, answer));
    })
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
