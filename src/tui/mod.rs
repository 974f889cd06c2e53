//! The terminal UI: model, messages, a synchronous `update` that returns effects, views that
//! only draw from `&Model`, and a runner that does the I/O. The loop is generic over the
//! backend and takes its input as a stream, so tests drive it on a `TestBackend`.

pub mod follow;
pub mod keymap;
pub mod model;
pub mod runner;
pub mod shown;
pub mod text;
pub mod update;
pub mod view;
pub mod world_files;

use futures_util::{FutureExt, Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;

pub use model::{Model, Source};
pub use update::{Answer, Effect, Msg, update};
pub use view::Theme;

/// Input handled before one frame, at most: a held key's presses beyond it wait a frame.
const BATCH: usize = 4096;

/// Runs until the model asks to quit or the input ends. Draws once at the start and after
/// each batch of messages: input that arrived while a frame was drawn is handled together (a
/// held key moves once by all its presses), so keys never queue behind frames.
pub async fn run_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    model: &mut Model,
    theme: Theme,
    mut input: impl Stream<Item = Msg> + Unpin,
    effects: mpsc::UnboundedSender<Effect>,
    mut results: mpsc::UnboundedReceiver<Msg>,
) -> Result<(), B::Error> {
    let size = terminal.size()?;
    update(
        model,
        Msg::Resize {
            width: size.width,
            height: size.height,
        },
    );
    terminal.draw(|f| view::draw(f, model, theme))?;
    let mut ticks = tokio::time::interval(std::time::Duration::from_millis(120));
    while !model.quit {
        let first = tokio::select! {
            m = input.next() => match m {
                Some(m) => m,
                None => break,
            },
            Some(m) = results.recv() => m,
            _ = ticks.tick() => {
                // Ticks turn the spinner and age the status line; idle, they redraw nothing.
                if model.work.running.is_empty() && model.message.is_none() {
                    continue;
                }
                Msg::Tick
            }
        };
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match input.next().now_or_never() {
                Some(Some(m)) => batch.push(m),
                _ => break,
            }
        }
        for msg in update::coalesce(batch) {
            for e in update(model, msg) {
                let _ = effects.send(e);
            }
            if model.quit {
                break;
            }
        }
        terminal.draw(|f| view::draw(f, model, theme))?;
    }
    Ok(())
}
