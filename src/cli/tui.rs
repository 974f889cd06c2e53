//! Opening the terminal UI: the terminal is set up here (and always restored, panics
//! included), the runner gets its data source, and the loop runs until `q`.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use crossterm::event::{Event, EventStream, MouseEventKind};
use futures_util::StreamExt;

use crate::analysis::Selection;
use crate::tui::runner::{self, DataSource};
use crate::tui::{Model, Msg, Source, Theme};

fn event_to_msg(e: std::io::Result<Event>) -> Option<Msg> {
    match e.ok()? {
        Event::Key(k) if k.kind != crossterm::event::KeyEventKind::Release => Some(Msg::Key(k)),
        Event::Mouse(m) => match m.kind {
            MouseEventKind::ScrollDown => Some(Msg::Scroll {
                delta: 1,
                column: m.column,
                row: m.row,
            }),
            MouseEventKind::ScrollUp => Some(Msg::Scroll {
                delta: -1,
                column: m.column,
                row: m.row,
            }),
            MouseEventKind::Down(crossterm::event::MouseButton::Left) => {
                let (width, height) = crossterm::terminal::size().ok()?;
                Some(Msg::Click {
                    column: m.column,
                    row: m.row,
                    width,
                    height,
                })
            }
            _ => None,
        },
        Event::Resize(width, height) => Some(Msg::Resize { width, height }),
        _ => None,
    }
}

/// Mouse tracking off, the main screen back, the cursor shown, raw mode off.
fn restore_terminal() {
    let _ = crossterm::execute!(
        std::io::stdout(),
        crossterm::event::DisableMouseCapture,
        crossterm::cursor::Show
    );
    ratatui::restore();
}

/// SIGTERM, SIGHUP and SIGINT end the TUI with the terminal as it was and the status shells
/// expect.
async fn restore_on_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut hup), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
        // In raw mode Ctrl-C is a key; a SIGINT comes from `kill -INT`.
        signal(SignalKind::interrupt()),
    ) else {
        return;
    };
    let code = tokio::select! {
        _ = term.recv() => super::EXIT_SIGTERM,
        _ = hup.recv() => super::EXIT_SIGHUP,
        _ = int.recv() => super::EXIT_SIGINT,
    };
    restore_terminal();
    std::process::exit(i32::from(code));
}

pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Where the TUI opens: a namespace (`-n`) and a filter (`--pod`'s name, `--workload`'s
/// `deploy/NAME`), both of which the user can change.
#[derive(Debug, Clone, Default)]
pub struct Focus {
    pub namespace: Option<String>,
    pub filter: String,
}

/// Runs the TUI on `source`; `probe` makes the first load run the live probes too.
pub fn open(
    source: DataSource,
    config: crate::analysis::Config,
    label: Source,
    probe: bool,
    focus: Focus,
) -> Result<ExitCode> {
    let theme = Theme {
        color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let result = rt.block_on(async {
        let (etx, erx) = tokio::sync::mpsc::unbounded_channel();
        let (rtx, rrx) = tokio::sync::mpsc::unbounded_channel();
        let contexts = contexts(&source);
        tokio::spawn(runner::serve(source, Arc::new(config), erx, rtx));
        let mut model = Model::new(label);
        model.contexts = contexts;
        model.probed = probe;
        model.namespace = focus.namespace;
        model.filter = focus.filter;
        let first = crate::tui::model::Request::Read {
            selection: Selection::All,
            probe,
        };
        for e in crate::tui::update::request(&mut model, first) {
            let _ = etx.send(e);
        }
        // ratatui::init chains a panic hook that restores the screen before reporting; the
        // hook below turns mouse tracking off first, and SIGTERM/SIGHUP/SIGINT restore it all.
        let mut terminal = ratatui::init();
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture);
        let screen_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
            screen_hook(info);
        }));
        tokio::spawn(restore_on_signal());
        let input = EventStream::new().filter_map(|e| async move { event_to_msg(e) });
        let r =
            crate::tui::run_loop(&mut terminal, &mut model, theme, Box::pin(input), etx, rrx).await;
        restore_terminal();
        r.map(|()| model.interrupted)
    });
    let interrupted = result?;
    Ok(ExitCode::from(if interrupted {
        super::EXIT_SIGINT
    } else {
        super::EXIT_OK
    }))
}

/// The kubeconfig's contexts, for `:ctx`; none for world files or an unreadable kubeconfig
/// (the first read says why).
fn contexts(source: &DataSource) -> Vec<String> {
    match source {
        DataSource::Live(o) => {
            crate::collect::kube::contexts(o.kube.kubeconfig.as_deref()).unwrap_or_default()
        }
        DataSource::World(_) => Vec::new(),
    }
}

/// World files (`paths`, already read into `world`), read again by `r` when they change.
pub fn world_source(world: crate::world::World, paths: Vec<std::path::PathBuf>) -> DataSource {
    DataSource::World(Arc::new(crate::tui::world_files::WorldFiles::new(
        world, paths,
    )))
}
