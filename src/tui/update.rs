//! `update`: a message in, the model changed, effects out. Synchronous and pure, so tests drive
//! it with message sequences; the runner does the I/O the effects ask for.

use crossterm::event::KeyEvent;

use super::keymap::{self, Action, Edit};
use super::model::{Concerns, Model, Pane, Request, Tab};
use crate::analysis::{Report, Selection};
use crate::world::ObjRef;

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    /// Mouse wheel: positive is down.
    Scroll(i32),
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
    Resize,
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
    }]
}

pub fn update(m: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Answer(id, answer) => answered_request(m, id, answer),
        Msg::Data(report) => show(m, report),
        Msg::Notice(n) => {
            m.message = Some(n);
            Vec::new()
        }
        Msg::Tick => {
            m.work.tick += 1;
            Vec::new()
        }
        Msg::Resize => Vec::new(),
        Msg::Scroll(d) => {
            let action = if d > 0 { Action::Down } else { Action::Up };
            (0..d.unsigned_abs()).flat_map(|_| act(m, action)).collect()
        }
        Msg::Click {
            column,
            row,
            width,
            height,
        } => click(
            m,
            column,
            row,
            ratatui::layout::Rect::new(0, 0, width, height),
        ),
        Msg::Key(k) if m.command.is_some() => edit_command(m, k),
        Msg::Key(k) if m.editing_filter => edit_filter(m, k),
        Msg::Key(k) if m.help => {
            // Any key closes help; q still quits.
            m.help = false;
            match keymap::action(k) {
                Some(a @ (Action::Quit | Action::Interrupt)) => act(m, a),
                _ => Vec::new(),
            }
        }
        Msg::Key(k) => match keymap::action(k) {
            Some(a) => act(m, a),
            None => Vec::new(),
        },
    }
}

/// The answer to request `id`; then the read that waited for it, if this was a read.
fn answered_request(m: &mut Model, id: u64, answer: Answer) -> Vec<Effect> {
    // Cancelled, or its context was switched away: nobody waits for it.
    let Some(asked) = m.work.running.remove(&id) else {
        return Vec::new();
    };
    let mut effects = answered(m, answer);
    if asked.reads()
        && !m.work.reading()
        && let Some(next) = m.work.queued.take()
    {
        effects.extend(request(m, next));
    }
    effects
}

/// A key while the `:` command line is open.
fn edit_command(m: &mut Model, k: KeyEvent) -> Vec<Effect> {
    let line = m.command.get_or_insert_default();
    match keymap::edit(k) {
        Some(Edit::Submit) => {
            let line = m.command.take().unwrap_or_default();
            return command(m, &line);
        }
        Some(Edit::Close) => m.command = None,
        Some(Edit::Erase) => {
            line.pop();
        }
        Some(Edit::Type(c)) => line.push(c),
        None => {}
    }
    Vec::new()
}

/// A key while the filter is edited: it applies as it is typed, from the first pod.
fn edit_filter(m: &mut Model, k: KeyEvent) -> Vec<Effect> {
    match keymap::edit(k) {
        Some(Edit::Submit) => m.editing_filter = false,
        Some(Edit::Close) => {
            m.editing_filter = false;
            m.filter.clear();
        }
        Some(Edit::Erase) => {
            m.filter.pop();
        }
        Some(Edit::Type(c)) => m.filter.push(c),
        None => {}
    }
    m.selected = 0;
    Vec::new()
}

/// `:ns NAME`, `:ns` (every namespace), `:ctx NAME`.
fn command(m: &mut Model, line: &str) -> Vec<Effect> {
    let mut words = line.split_whitespace();
    match (words.next(), words.next()) {
        (Some("ns" | "namespace"), name) => {
            m.namespace = name
                .filter(|n| *n != "all" && *n != "*")
                .map(str::to_string);
            m.selected = 0;
            m.message = Some(match &m.namespace {
                Some(n) => format!("namespace {n}"),
                None => "every namespace".into(),
            });
            describe_current(m)
        }
        (Some("ctx" | "context"), Some(name)) => match &m.source {
            super::model::Source::Live { .. } => {
                m.source = super::model::Source::Live {
                    context: name.to_string(),
                };
                m.namespace = None;
                m.probed = false;
                // What runs belongs to the other cluster: the runner stops it, and answers
                // that still arrive are nobody's.
                m.work.running.clear();
                m.work.queued = None;
                request(m, Request::Switch(name.to_string()))
            }
            super::model::Source::World(_) => {
                m.message = Some("a world file has no contexts to switch".into());
                Vec::new()
            }
        },
        _ => {
            m.message = Some(format!(
                "unknown command :{line} (try :ns NAME, :ns, :ctx NAME)"
            ));
            Vec::new()
        }
    }
}

/// A left click: a pod row selects that pod, a chain row that link.
fn click(m: &mut Model, column: u16, row: u16, screen: ratatui::layout::Rect) -> Vec<Effect> {
    let a = super::view::areas(screen);
    let inside = |r: ratatui::layout::Rect| {
        column > r.x && column + 1 < r.x + r.width && row > r.y && row + 1 < r.y + r.height
    };
    if inside(a.pods) && row >= a.pods.y + 2 {
        let rows = super::view::pod_rows(a.pods);
        let index = super::view::pods_top(m.selected, rows) + usize::from(row - a.pods.y - 2);
        if index < m.visible().len() {
            m.pane = Pane::Pods;
            m.selected = index;
            m.link = m.current().map_or(0, Model::first_link);
        }
    } else if inside(a.chain) {
        let index = usize::from(row - a.chain.y - 1);
        if m.current().is_some_and(|p| index < p.links.len()) {
            m.pane = Pane::Chain;
            m.link = index;
        }
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
            m.message = Some(e);
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
            m.message = Some(e);
            Vec::new()
        }
        Answer::Exported(outcome) => {
            m.message = Some(outcome.unwrap_or_else(|e| e));
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
fn act(m: &mut Model, a: Action) -> Vec<Effect> {
    // One filter pass per key: with 10,000 pods it is most of an update's work.
    let (n_pods, n_links) = {
        let visible = m.visible();
        let links = visible.get(m.selected).map_or(0, |p| p.links.len());
        (visible.len(), links)
    };
    let (pos, len) = match m.pane {
        Pane::Pods => (&mut m.selected, n_pods),
        Pane::Chain => (&mut m.link, n_links),
    };
    let moved_pod = m.pane == Pane::Pods;
    match a {
        Action::Up => *pos = pos.saturating_sub(1),
        Action::Down => *pos = (*pos + 1).min(len.saturating_sub(1)),
        Action::Top => *pos = 0,
        Action::Bottom => *pos = len.saturating_sub(1),
        Action::Enter | Action::NextPane if m.pane == Pane::Pods => {
            if let Some(p) = m.current() {
                m.link = Model::first_link(p);
                m.pane = Pane::Chain;
            }
        }
        Action::NextPane | Action::Back if m.pane == Pane::Chain => m.pane = Pane::Pods,
        Action::Back => m.filter.clear(),
        Action::Enter | Action::NextPane => {}
        Action::Filter => {
            m.editing_filter = true;
            m.pane = Pane::Pods;
        }
        Action::SortVerdict => {
            m.sort_by_verdict = !m.sort_by_verdict;
            m.selected = 0;
        }
        Action::Help => m.help = true,
        Action::Quit => {
            m.quit = true;
            return vec![Effect::Quit];
        }
        Action::Interrupt => {
            m.interrupted = true;
            m.quit = true;
            return vec![Effect::Quit];
        }
        Action::Refresh => {
            let probe = m.probed;
            return read(m, Selection::All, probe);
        }
        Action::Probe => {
            let Some(p) = m.current().map(|p| p.pod.clone()) else {
                return Vec::new();
            };
            return read(m, Selection::Pod(p), true);
        }
        Action::ProbeAll => {
            m.probed = true;
            return read(m, Selection::All, true);
        }
        Action::Copy => return copy_fix(m),
        Action::Export => {
            return match m.current().map(|p| p.pod.clone()) {
                Some(pod) => request(m, Request::Export(pod)),
                None => Vec::new(),
            };
        }
        Action::Show(tab) => m.tab = tab,
        Action::Command => m.command = Some(String::new()),
        Action::Cancel => return cancel(m),
    }
    if moved_pod && m.pane == Pane::Pods {
        m.link = m.current().map_or(0, Model::first_link);
    }
    describe_current(m)
}

fn read(m: &mut Model, selection: Selection, probe: bool) -> Vec<Effect> {
    request(m, Request::Read { selection, probe })
}

/// The fix of the selected link, onto the clipboard.
fn copy_fix(m: &mut Model) -> Vec<Effect> {
    let fix = m.current().and_then(|p| {
        let l = p.links.get(m.link)?;
        l.primary()?.fix.clone()
    });
    match fix {
        Some(f) => {
            m.message = Some("fix copied to the clipboard".into());
            // What a terminal pastes: no control character, no secret.
            // (Its values were redacted before they were quoted; redacting the
            // command again would cut through its quotes.)
            vec![Effect::Copy(
                crate::untrusted::visible::visible(&f).into_owned(),
            )]
        }
        None => {
            m.message = Some("this link has no fix to copy".into());
            Vec::new()
        }
    }
}

/// `x`: stops everything running and forgets the read that waited.
fn cancel(m: &mut Model) -> Vec<Effect> {
    if !m.work.running.is_empty() {
        m.work.running.clear();
        m.work.queued = None;
        m.message = Some("cancelled".into());
        return vec![Effect::Cancel];
    }
    m.message = Some("nothing is running".into());
    // Not a cue to ask for anything either.
    Vec::new()
}
