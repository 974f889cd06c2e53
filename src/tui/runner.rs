//! The effect runner: does what `update` asks (read the cluster, run probes, export, copy)
//! on tokio tasks and answers with messages. The UI thread never waits for it.

use std::io::Write;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::update::{Effect, Msg};
use crate::analysis::{self, Catalog, Options, Report, Selection};
use crate::collect::LiveOptions;
use crate::world::World;

/// Where the runner gets its world from.
#[derive(Clone)]
pub enum DataSource {
    World(Arc<World>),
    Live(Arc<LiveOptions>),
}

fn analyze(world: &World, selection: &Selection) -> Report {
    analysis::analyze(
        world,
        &Catalog::builtin(),
        &Options {
            selection: selection.clone(),
            now: world.info.captured_at.unwrap_or_else(jiff::Timestamp::now),
            targets: Vec::new(),
        },
    )
}

async fn load(source: &DataSource, selection: Selection, probe: bool) -> Result<Report, String> {
    match source {
        DataSource::World(w) => {
            let w = w.clone();
            tokio::task::spawn_blocking(move || analyze(&w, &selection))
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
                let live = handle
                    .block_on(crate::collect::live(&o))
                    .map_err(|e| e.to_string())?;
                Ok(analyze(&live.world, &selection))
            })
            .await
            .map_err(|e| e.to_string())?
        }
    }
}

/// Serves effects until the channel closes.
pub async fn serve(
    source: DataSource,
    mut effects: mpsc::UnboundedReceiver<Effect>,
    results: mpsc::UnboundedSender<Msg>,
) {
    let mut last: Option<Report> = None;
    while let Some(e) = effects.recv().await {
        match e {
            Effect::Quit => return,
            Effect::Load { selection, probe } => {
                let (source, results) = (source.clone(), results.clone());
                let partial = matches!(selection, Selection::Pod(_));
                tokio::spawn(async move {
                    let msg = match load(&source, selection, probe).await {
                        Ok(r) if partial => Msg::Patch(r),
                        Ok(r) => Msg::Loaded(r),
                        Err(e) => Msg::Failed(e),
                    };
                    let _ = results.send(msg);
                });
            }
            Effect::Copy(text) => {
                // OSC 52: the terminal puts it on the clipboard, over SSH too.
                use base64::Engine;
                let b64 = base64::engine::general_purpose::STANDARD.encode(text);
                let mut out = std::io::stdout();
                let _ = write!(out, "\x1b]52;c;{b64}\x07");
                let _ = out.flush();
            }
            Effect::Export(pod) => {
                let source = source.clone();
                let results = results.clone();
                let cached = last.take();
                tokio::spawn(async move {
                    let report = match cached {
                        Some(r) => Ok(r),
                        None => load(&source, Selection::Pod(pod.clone()), false).await,
                    };
                    let msg = match report {
                        Ok(mut r) => {
                            r.pods.retain(|p| p.pod == pod);
                            let path = format!("widiag-{}-{}.json", pod.namespace, pod.name);
                            match std::fs::write(&path, crate::output::json::render(&r)) {
                                Ok(()) => Msg::Notice(format!("wrote {path}")),
                                Err(e) => Msg::Failed(format!("{path}: {e}")),
                            }
                        }
                        Err(e) => Msg::Failed(e),
                    };
                    let _ = results.send(msg);
                });
            }
        }
    }
}
