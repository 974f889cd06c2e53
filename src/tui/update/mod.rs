//! `update`: a message in, the model changed, effects out. Synchronous and pure, so tests drive
//! it with message sequences; the runner does the I/O the effects ask for. Keys are handled in
//! `keys`.

mod commands;
mod keys;

use crossterm::event::KeyEvent;

use super::model::{Concerns, Model, Pane, Request, Tab};
use crate::analysis::{Report, Selection};
use crate::world::ObjRef;

pub use keys::coalesce;

/// Ticks (about 120 ms each) a notice stays in the status line.
pub const NOTICE_TICKS: u32 = 60;

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    /// The same key pressed this many times before the screen could be drawn (a held key):
    /// a move goes that far at once.
    Repeat(KeyEvent, u16),
    /// Mouse wheel over a cell: positive is down.
    Scroll {
        delta: i32,
        column: u16,
        row: u16,
    },
    /// A left click at a cell of a screen of this size.
    Click {
        column: u16,
        row: u16,
        width: u16,
        height: u16,
    },
    /// Chains from outside any request (the cluster changed, a watch): whatever runs keeps
    /// running.
    Data(Report),
    /// The runner's answer to request `id`.
    Answer(u64, Answer),
    Notice(String),
    Tick,
    Resize {
        width: u16,
        height: u16,
    },
}

/// What a request came back with.
#[derive(Debug)]
pub enum Answer {
    /// Every pod's chains (a read or a context switch).
    Read(Report),
    /// Fresh chains for some pods (a probe of one pod); the others stay.
    Patch(Report),
    ReadFailed(String),
    /// The facts behind one pod's chain, for the inspection tabs.
    Described(ObjRef, crate::analysis::describe::PodView),
    DescribeFailed(ObjRef, String),
    /// Where the bundle was written, or why it was not.
    Exported(Result<String, String>),
    /// An object as text (`y`, `d`): its title and lines, or why it could not be shown.
    Shown(Result<(String, Vec<String>), String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Read the source again; with `probe`, run the live probes for the selection.
    Load {
        id: u64,
        selection: Selection,
        probe: bool,
    },
    Copy(String),
    Export {
        id: u64,
        pod: ObjRef,
    },
    /// An object behind the pod's chain as YAML or described.
    Show {
        id: u64,
        shown: super::model::Shown,
    },
    /// Gather the facts behind this pod's chain (for the tabs other than Link).
    Describe {
        id: u64,
        pod: ObjRef,
    },
    /// Read another kubeconfig context from now on (and read it now).
    SwitchContext {
        id: u64,
        context: String,
    },
    /// Stop every request in flight.
    Cancel,
    Quit,
}

/// Starts `r` (a read waits while another read runs; a later one replaces it).
pub fn request(m: &mut Model, r: Request) -> Vec<Effect> {
    if r.reads() && m.work.reading() {
        m.work.queued = Some(r);
        return Vec::new();
    }
    if let Request::Describe(p) = &r
        && m.work
            .running
            .values()
            .any(|x| matches!(x, Request::Describe(q) if q == p))
    {
        return Vec::new();
    }
    if r.reads() {
        m.message = None;
    }
    let id = m.work.start(r.clone());
    vec![match r {
        Request::Read { selection, probe } => Effect::Load {
            id,
            selection,
            probe,
        },
        Request::Switch(context) => Effect::SwitchContext { id, context },
        Request::Describe(pod) => Effect::Describe { id, pod },
        Request::Export(pod) => Effect::Export { id, pod },
        Request::Show(shown) => Effect::Show { id, shown },
    }]
}

pub fn update(m: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Answer(id, answer) => answered_request(m, id, answer),
        Msg::Data(report) => show(m, report),
        Msg::Notice(n) => {
            m.say(n);
            Vec::new()
        }
        Msg::Tick => {
            m.work.tick += 1;
            if m.message.is_some() {
                m.message_age += 1;
                if m.message_age >= NOTICE_TICKS {
                    m.message = None;
                }
            }
            Vec::new()
        }
        Msg::Resize { width, height } => {
            m.screen = ratatui::layout::Rect::new(0, 0, width, height);
            Vec::new()
        }
        Msg::Scroll { delta, column, row } => keys::scroll(m, delta, column, row),
        Msg::Click {
            column,
            row,
            width,
            height,
        } => {
            m.screen = ratatui::layout::Rect::new(0, 0, width, height);
            click(m, column, row)
        }
        Msg::Key(k) => keys::key(m, k, 1),
        Msg::Repeat(k, n) => keys::key(m, k, n),
    }
}

/// The answer to request `id`; then the read that waited for it, if this was a read.
fn answered_request(m: &mut Model, id: u64, answer: Answer) -> Vec<Effect> {
    // Cancelled, or its context was switched away: nobody waits for it.
    let Some(asked) = m.work.running.remove(&id) else {
        return Vec::new();
    };
    if let Request::Switch(context) = &asked {
        // The header names the new context once the runner reads it; a failed read there
        // leaves no data of the old cluster under the new name.
        m.source = super::model::Source::Live {
            context: context.clone(),
        };
        if matches!(answer, Answer::ReadFailed(_)) {
            m.report = None;
        }
    }
    let mut effects = answered(m, answer);
    if asked.reads()
        && !m.work.reading()
        && let Some(next) = m.work.queued.take()
    {
        effects.extend(request(m, next));
    }
    effects
}

/// A left click: a pod row selects that pod, a chain row that link.
fn click(m: &mut Model, column: u16, row: u16) -> Vec<Effect> {
    if m.help || m.overlay.is_some() || m.picker.is_some() {
        return Vec::new();
    }
    let a = super::view::areas(m.screen, m);
    let inside = |r: ratatui::layout::Rect| {
        column > r.x && column + 1 < r.x + r.width && row > r.y && row + 1 < r.y + r.height
    };
    if inside(a.pods) && row >= a.pods.y + 2 {
        let rows = super::view::pod_rows(a.pods);
        let index = super::view::pods_top(m.selected, rows) + usize::from(row - a.pods.y - 2);
        if index < m.visible().len() {
            m.pane = Pane::Pods;
            m.selected = index;
            m.show_broken_link();
        }
    } else if inside(a.chain) {
        let index = usize::from(row - a.chain.y - 1);
        let top = chain_top(m.link, usize::from(a.chain.height.saturating_sub(2)));
        let index = index + top;
        if m.current().is_some_and(|p| index < p.links.len()) {
            m.pane = Pane::Chain;
            m.link = index;
            m.detail_scroll = 0;
        }
    } else if inside(a.detail) {
        m.pane = Pane::Detail;
    }
    describe_current(m)
}

/// Applies a request's answer; errors go to the pane they concern.
fn answered(m: &mut Model, answer: Answer) -> Vec<Effect> {
    match answer {
        Answer::Read(report) => show(m, report),
        Answer::Patch(fresh) => {
            m.error = m.error.take().filter(|(c, _)| *c != Concerns::Pods);
            match &mut m.report {
                Some(r) => {
                    for p in fresh.pods {
                        match r.pods.iter_mut().find(|q| q.pod == p.pod) {
                            Some(q) => *q = p,
                            None => r.pods.push(p),
                        }
                    }
                }
                None => m.report = Some(fresh),
            }
            redescribe(m)
        }
        Answer::ReadFailed(e) => {
            m.error = Some((Concerns::Pods, e.clone()));
            m.say(e);
            Vec::new()
        }
        // Facts about a pod no longer selected are not what the view shows.
        Answer::Described(pod, view) => {
            if m.current().is_some_and(|p| p.pod == pod) {
                m.described = Some((pod, view));
                m.error = m.error.take().filter(|(c, _)| *c != Concerns::View);
            }
            Vec::new()
        }
        Answer::DescribeFailed(pod, e) => {
            // Only the selected pod's view shows it; another pod's failure is a notice.
            if m.current().is_some_and(|p| p.pod == pod) {
                m.error = Some((Concerns::View, e.clone()));
            }
            m.say(e);
            Vec::new()
        }
        Answer::Exported(outcome) => {
            m.say(outcome.unwrap_or_else(|e| e));
            Vec::new()
        }
        Answer::Shown(Ok((title, lines))) => {
            m.overlay = Some(super::model::Overlay {
                title,
                lines,
                scroll: 0,
            });
            Vec::new()
        }
        Answer::Shown(Err(e)) => {
            m.say(e);
            Vec::new()
        }
    }
}

/// New chains for every pod: the selection follows its pod when others come and go.
fn show(m: &mut Model, report: Report) -> Vec<Effect> {
    m.error = m.error.take().filter(|(c, _)| *c != Concerns::Pods);
    let current = m.current().map(|p| p.pod.clone());
    m.report = Some(report);
    if let Some(i) = current.and_then(|c| m.visible().iter().position(|p| p.pod == c)) {
        m.selected = i;
    }
    m.selected = m.selected.min(m.visible().len().saturating_sub(1));
    // Following pods, the chain opens on the broken link; inside it, stay put.
    m.link = match (m.pane, m.current()) {
        (Pane::Pods, Some(p)) => Model::first_link(p),
        (_, Some(p)) => m.link.min(p.links.len().saturating_sub(1)),
        (_, None) => 0,
    };
    redescribe(m)
}

/// New data: the open inspection tab must not show the old facts.
fn redescribe(m: &mut Model) -> Vec<Effect> {
    m.described = None;
    describe_current(m)
}

/// Asks for the selected pod's facts when an inspection tab shows them and they are missing.
fn describe_current(m: &mut Model) -> Vec<Effect> {
    if m.tab == Tab::Link || m.described_current().is_some() {
        return Vec::new();
    }
    match m.current().map(|p| p.pod.clone()) {
        Some(pod) => request(m, Request::Describe(pod)),
        None => Vec::new(),
    }
}
/// The first chain row shown when `link` is selected in a pane of `rows` rows (as ratatui's
/// list scrolls: just enough to keep it in view from the top).
pub fn chain_top(link: usize, rows: usize) -> usize {
    link.saturating_sub(rows.saturating_sub(1))
}
