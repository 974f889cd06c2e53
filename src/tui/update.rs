//! `update`: a message in, the model changed, effects out. Synchronous and pure, so tests drive
//! it with message sequences; the runner does the I/O the effects ask for.

use crossterm::event::KeyEvent;

use super::keymap::{self, Action, Edit};
use super::model::{Activity, Concerns, Model, Pane, Tab};
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
    /// A new analysis, from loading, a refresh or probes.
    Loaded(Report),
    /// Fresh chains for some pods (a probe of one pod); the others stay.
    Patch(Report),
    /// The cluster changed (a watch): new chains, while whatever runs keeps running.
    Followed(Report),
    Failed(String),
    Notice(String),
    /// The facts behind one pod's chain, for the inspection tabs.
    Described(ObjRef, crate::analysis::describe::PodView),
    Tick,
    Resize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Read the source again; with `probe`, run the live probes for the selection.
    Load {
        selection: Selection,
        probe: bool,
    },
    Copy(String),
    Export(ObjRef),
    /// Gather the facts behind this pod's chain (for the tabs other than Link).
    Describe(ObjRef),
    /// Read another kubeconfig context from now on (and read it now).
    SwitchContext(String),
    /// Stop waiting for the running read or probes.
    Cancel,
    Quit,
}

pub fn update(m: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Loaded(report) => {
            m.activity = Activity::Idle;
            update(m, Msg::Followed(report))
        }
        Msg::Followed(report) => {
            m.error = m.error.take().filter(|(c, _)| *c != Concerns::Pods);
            // The selection follows its pod when others come and go.
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
        Msg::Described(pod, view) => {
            m.described = Some((pod, view));
            m.error = m.error.take().filter(|(c, _)| *c != Concerns::View);
            Vec::new()
        }
        Msg::Patch(fresh) => {
            m.activity = Activity::Idle;
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
        Msg::Notice(n) => {
            m.message = Some(n);
            Vec::new()
        }
        Msg::Failed(e) => {
            // Waiting for a view's facts: the error belongs in that view; else in the pods.
            let concerns = if m.tab != Tab::Link
                && m.described_current().is_none()
                && !matches!(m.activity, Activity::Busy { .. })
            {
                Concerns::View
            } else {
                Concerns::Pods
            };
            m.activity = Activity::Idle;
            m.error = Some((concerns, e.clone()));
            m.message = Some(e);
            Vec::new()
        }
        Msg::Tick => {
            if let Activity::Busy { tick, .. } = &mut m.activity {
                *tick += 1;
            }
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
        Msg::Key(k) if m.command.is_some() => {
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
        Msg::Key(k) if m.editing_filter => {
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
                busy(m, &format!("reading context {name}"));
                vec![Effect::SwitchContext(name.to_string())]
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

/// New data: the open inspection tab must not show the old facts.
fn redescribe(m: &mut Model) -> Vec<Effect> {
    m.described = None;
    describe_current(m)
}

/// Asks for the selected pod's facts when an inspection tab shows them and they are missing.
fn describe_current(m: &Model) -> Vec<Effect> {
    if m.tab == Tab::Link || m.described_current().is_some() {
        return Vec::new();
    }
    m.current()
        .map(|p| vec![Effect::Describe(p.pod.clone())])
        .unwrap_or_default()
}

fn busy(m: &mut Model, what: &str) {
    m.activity = Activity::Busy {
        what: what.into(),
        tick: 0,
    };
    m.message = None;
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
            busy(
                m,
                if m.probed {
                    "reading and probing"
                } else {
                    "reading"
                },
            );
            return vec![Effect::Load {
                selection: Selection::All,
                probe: m.probed,
            }];
        }
        Action::Probe => {
            let Some(p) = m.current().map(|p| p.pod.clone()) else {
                return Vec::new();
            };
            busy(m, &format!("probing {p}"));
            return vec![Effect::Load {
                selection: Selection::Pod(p),
                probe: true,
            }];
        }
        Action::ProbeAll => {
            m.probed = true;
            busy(m, "probing every pod");
            return vec![Effect::Load {
                selection: Selection::All,
                probe: true,
            }];
        }
        Action::Copy => {
            let fix = m.current().and_then(|p| {
                let l = p.links.get(m.link)?;
                l.primary()?.fix.clone()
            });
            return match fix {
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
            };
        }
        Action::Export => {
            return m
                .current()
                .map(|p| vec![Effect::Export(p.pod.clone())])
                .unwrap_or_default();
        }
        Action::Show(tab) => m.tab = tab,
        Action::Command => m.command = Some(String::new()),
        Action::Cancel => {
            if matches!(m.activity, Activity::Busy { .. }) {
                m.activity = Activity::Idle;
                m.message = Some("cancelled".into());
                return vec![Effect::Cancel];
            }
            m.message = Some("nothing is running".into());
        }
    }
    if moved_pod && m.pane == Pane::Pods {
        m.link = m.current().map_or(0, Model::first_link);
    }
    describe_current(m)
}
