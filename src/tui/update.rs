//! `update`: a message in, the model changed, effects out. Synchronous and pure, so tests drive
//! it with message sequences; the runner does the I/O the effects ask for.

use crossterm::event::{KeyCode, KeyEvent};

use super::keymap::{self, Action};
use super::model::{Activity, Model, Pane, Tab};
use crate::analysis::{Report, Selection};
use crate::world::ObjRef;

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    /// Mouse wheel: positive is down.
    Scroll(i32),
    /// A new analysis, from loading, a refresh or probes.
    Loaded(Report),
    /// Fresh chains for some pods (a probe of one pod); the others stay.
    Patch(Report),
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
    Quit,
}

pub fn update(m: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Loaded(report) => {
            m.report = Some(report);
            m.activity = Activity::Idle;
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
            Vec::new()
        }
        Msg::Patch(fresh) => {
            m.activity = Activity::Idle;
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
            m.activity = Activity::Idle;
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
        Msg::Key(k) if m.editing_filter => {
            match k.code {
                KeyCode::Enter => m.editing_filter = false,
                KeyCode::Esc => {
                    m.editing_filter = false;
                    m.filter.clear();
                }
                KeyCode::Backspace => {
                    m.filter.pop();
                }
                KeyCode::Char(c) => m.filter.push(c),
                _ => {}
            }
            m.selected = 0;
            Vec::new()
        }
        Msg::Key(k) if m.help => {
            // Any key closes help; q still quits.
            m.help = false;
            match keymap::action(k) {
                Some(Action::Quit) => act(m, Action::Quit),
                _ => Vec::new(),
            }
        }
        Msg::Key(k) => match keymap::action(k) {
            Some(a) => act(m, a),
            None => Vec::new(),
        },
    }
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
                    vec![Effect::Copy(f)]
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
    }
    if moved_pod && m.pane == Pane::Pods {
        m.link = m.current().map_or(0, Model::first_link);
    }
    describe_current(m)
}
