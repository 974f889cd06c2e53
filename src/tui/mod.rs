//! The terminal UI: model, messages, a synchronous `update` that returns effects, views that
//! only draw from `&Model`, and a runner that does the I/O. The loop is generic over the
//! backend and takes its input as a stream, so tests drive it on a `TestBackend`.

pub mod follow;
pub mod keymap;
pub mod model;
pub mod runner;
pub mod update;
pub mod view;

use futures_util::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;

pub use model::{Model, Source};
pub use update::{Answer, Effect, Msg, update};
pub use view::Theme;

/// Runs until the model asks to quit or the input ends. Draws once at the start and after
/// every message that can change what is shown; never blocks on I/O itself.
pub async fn run_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    model: &mut Model,
    theme: Theme,
    mut input: impl Stream<Item = Msg> + Unpin,
    effects: mpsc::UnboundedSender<Effect>,
    mut results: mpsc::UnboundedReceiver<Msg>,
) -> Result<(), B::Error> {
    terminal.draw(|f| view::draw(f, model, theme))?;
    let mut ticks = tokio::time::interval(std::time::Duration::from_millis(120));
    while !model.quit {
        let msg = tokio::select! {
            m = input.next() => match m {
                Some(m) => m,
                None => break,
            },
            Some(m) = results.recv() => m,
            _ = ticks.tick() => {
                // Ticks only turn the spinner; idle, they redraw nothing.
                if model.work.running.is_empty() {
                    continue;
                }
                Msg::Tick
            }
        };
        for e in update(model, msg) {
            let _ = effects.send(e);
        }
        terminal.draw(|f| view::draw(f, model, theme))?;
    }
    Ok(())
}
