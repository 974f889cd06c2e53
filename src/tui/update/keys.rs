//! Keys and the wheel: what each does in the open line editor, picker, help, text view or pane.

use crossterm::event::KeyEvent;

use super::commands::{edit_command, pick};
use super::{Effect, Msg, describe_current, request};
use crate::analysis::Selection;
use crate::tui::keymap::{self, Action, Edit};
use crate::tui::model::{Model, Pane, Request, Shown, ShownObject, Tab};

/// Runs of the same key become one `Repeat`, and of the wheel one scroll, so input that
/// arrived while a frame was drawn is handled before the next frame, and a move goes as far
/// as the presses asked at once.
pub fn coalesce(batch: Vec<Msg>) -> Vec<Msg> {
    let mut out: Vec<Msg> = Vec::with_capacity(batch.len());
    for msg in batch {
        match (out.last_mut(), msg) {
            (Some(Msg::Key(a)), Msg::Key(b)) if *a == b => {
                let a = *a;
                out.pop();
                out.push(Msg::Repeat(a, 2));
            }
            (Some(Msg::Repeat(a, n)), Msg::Key(b)) if *a == b && *n < u16::MAX => *n += 1,
            (
                Some(Msg::Scroll {
                    delta, column, row, ..
                }),
                Msg::Scroll {
                    delta: d,
                    column: c,
                    row: r,
                },
            ) if (*column, *row) == (c, r) => *delta += d,
            (_, msg) => out.push(msg),
        }
    }
    out
}

/// A key pressed `n` times: a move goes `n` rows at once; anything else happens `n` times in
/// turn (the first Enter may close the prompt the second would otherwise have gone to).
pub fn key(m: &mut Model, k: KeyEvent, n: u16) -> Vec<Effect> {
    let n = usize::from(n.max(1));
    let editing = m.command.is_some() || m.editing_filter;
    if !editing && keymap::action(k).is_some_and(movement) {
        return dispatch(m, k, n);
    }
    let mut effects = Vec::new();
    for _ in 0..n {
        effects.extend(dispatch(m, k, 1));
        if m.quit {
            break;
        }
    }
    effects
}

/// One key (a move of `n` rows) to whatever has it: the line being typed, a picker, the help,
/// the text view, or the focused pane.
fn dispatch(m: &mut Model, k: KeyEvent, n: usize) -> Vec<Effect> {
    if m.command.is_some() {
        return edit_command(m, k);
    }
    if m.editing_filter {
        return edit_filter(m, k);
    }
    let Some(a) = keymap::action(k) else {
        return Vec::new();
    };
    if m.picker.is_some() {
        return pick(m, a, n);
    }
    if m.help {
        return help_key(m, a, n);
    }
    if m.overlay.is_some() {
        return overlay_key(m, a, n);
    }
    if movement(a) {
        return moved(m, a, n);
    }
    act(m, a)
}

pub(super) fn movement(a: Action) -> bool {
    matches!(
        a,
        Action::Up
            | Action::Down
            | Action::Top
            | Action::Bottom
            | Action::PageUp
            | Action::PageDown
            | Action::HalfPageUp
            | Action::HalfPageDown
    )
}

/// Where a move of `n` presses goes in a list of `last + 1` rows showing `page` at once.
pub(super) fn target(pos: usize, last: usize, page: usize, a: Action, n: usize) -> usize {
    let page = page.max(1);
    let half = (page / 2).max(1);
    let down = |by: usize| pos.saturating_add(by.saturating_mul(n)).min(last);
    let up = |by: usize| pos.saturating_sub(by.saturating_mul(n));
    match a {
        Action::Up => up(1),
        Action::Down => down(1),
        Action::PageUp => up(page),
        Action::PageDown => down(page),
        Action::HalfPageUp => up(half),
        Action::HalfPageDown => down(half),
        Action::Top => 0,
        Action::Bottom => last,
        _ => pos,
    }
}

/// A move in the focused pane: the selected pod, the selected link, or the detail's scroll.
fn moved(m: &mut Model, a: Action, n: usize) -> Vec<Effect> {
    let areas = crate::tui::view::areas(m.screen, m);
    match m.pane {
        Pane::Pods => {
            // One filter pass per move: with 10,000 pods it is most of an update's work.
            let page = crate::tui::view::pod_rows(areas.pods);
            let (selected, link) = {
                let visible = m.visible();
                let to = target(m.selected, visible.len().saturating_sub(1), page, a, n);
                (to, visible.get(to).map_or(0, |p| Model::first_link(p)))
            };
            m.selected = selected;
            m.link = link;
            m.detail_scroll = 0;
        }
        Pane::Chain => {
            let len = m.current().map_or(0, |p| p.links.len());
            let page = usize::from(areas.chain.height.saturating_sub(2));
            m.link = target(m.link, len.saturating_sub(1), page, a, n);
            m.detail_scroll = 0;
        }
        Pane::Detail => {
            let (all, shown) = crate::tui::view::detail_len(m);
            let last = all.saturating_sub(shown);
            m.detail_scroll = target(m.detail_scroll.min(last), last, shown, a, n);
        }
    }
    describe_current(m)
}

/// The wheel: it scrolls what is under the pointer (the open help or text view first).
pub fn scroll(m: &mut Model, delta: i32, column: u16, row: u16) -> Vec<Effect> {
    let a = if delta > 0 { Action::Down } else { Action::Up };
    let n = delta.unsigned_abs() as usize;
    if m.help {
        return help_key(m, a, n);
    }
    if m.overlay.is_some() {
        return overlay_key(m, a, n);
    }
    if m.picker.is_some() {
        return pick(m, a, n);
    }
    let areas = crate::tui::view::areas(m.screen, m);
    let at = |r: ratatui::layout::Rect| r.contains(ratatui::layout::Position::new(column, row));
    let pane = if at(areas.detail) {
        Pane::Detail
    } else if at(areas.chain) {
        Pane::Chain
    } else {
        Pane::Pods
    };
    // The wheel scrolls without taking the focus from where the keys go.
    let focus = std::mem::replace(&mut m.pane, pane);
    let effects = moved(m, a, n);
    m.pane = focus;
    effects
}

/// A key in the help: moves scroll it, `q` and Ctrl-C quit, anything else closes it.
fn help_key(m: &mut Model, a: Action, n: usize) -> Vec<Effect> {
    if movement(a) {
        let (rows, all) = crate::tui::view::help_rows(m.screen.height);
        let last = all.saturating_sub(rows);
        m.help_scroll = target(m.help_scroll.min(last), last, rows, a, n);
        return Vec::new();
    }
    m.help = false;
    match a {
        Action::Quit | Action::Interrupt => act(m, a),
        _ => Vec::new(),
    }
}

/// A key in the YAML or describe view: moves scroll it, Esc or `q` closes it.
fn overlay_key(m: &mut Model, a: Action, n: usize) -> Vec<Effect> {
    let rows = crate::tui::view::overlay_rows(m.screen);
    let Some(o) = m.overlay.as_mut() else {
        return Vec::new();
    };
    if movement(a) {
        let last = o.lines.len().saturating_sub(rows);
        o.scroll = target(o.scroll.min(last), last, rows, a, n);
        return Vec::new();
    }
    match a {
        Action::Back | Action::Quit => m.overlay = None,
        Action::Interrupt => return act(m, a),
        Action::Help => m.help = true,
        _ => {}
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
    m.show_broken_link();
    Vec::new()
}

/// Every action but a move.
pub(super) fn act(m: &mut Model, a: Action) -> Vec<Effect> {
    match a {
        Action::Enter => match m.pane {
            Pane::Pods => open_chain(m),
            Pane::Chain => m.pane = Pane::Detail,
            Pane::Detail => {}
        },
        Action::NextPane | Action::PreviousPane => {
            m.zoom = false;
            let next = if a == Action::NextPane {
                m.pane.next()
            } else {
                m.pane.previous()
            };
            if m.pane == Pane::Pods {
                open_chain(m);
            }
            m.pane = next;
        }
        Action::Back if m.zoom => m.zoom = false,
        Action::Back => match m.pane {
            Pane::Detail => m.pane = Pane::Chain,
            Pane::Chain => m.pane = Pane::Pods,
            Pane::Pods => m.filter.clear(),
        },
        Action::Zoom => {
            m.zoom = !m.zoom;
            if m.zoom {
                m.pane = Pane::Detail;
            }
        }
        Action::Filter => {
            m.editing_filter = true;
            m.zoom = false;
            m.pane = Pane::Pods;
        }
        Action::Sort => sort(m),
        Action::Help => {
            m.help = true;
            m.help_scroll = 0;
        }
        Action::Quit | Action::Interrupt => {
            m.interrupted = a == Action::Interrupt;
            m.quit = true;
            return vec![Effect::Quit];
        }
        Action::Show(tab) => {
            m.tab = tab;
            m.detail_scroll = 0;
        }
        Action::Command => m.command = Some(String::new()),
        _ => return requests(m, a),
    }
    describe_current(m)
}

/// The actions that ask the runner for something.
fn requests(m: &mut Model, a: Action) -> Vec<Effect> {
    let pod = m.current().map(|p| p.pod.clone());
    match (a, pod) {
        (Action::Refresh, _) => {
            let probe = m.probed;
            read(m, Selection::All, probe)
        }
        (Action::Probe, Some(p)) => read(m, Selection::Pod(p), true),
        (Action::ProbeAll, _) => {
            m.probed = true;
            read(m, Selection::All, true)
        }
        (Action::Copy, _) => copy_fix(m),
        (Action::Export, Some(pod)) => request(m, Request::Export(pod)),
        (Action::Yaml | Action::Describe, Some(pod)) => {
            let object = match m.tab {
                Tab::ServiceAccount => ShownObject::ServiceAccount,
                Tab::Credentials => ShownObject::Credentials,
                _ => ShownObject::Pod,
            };
            let yaml = a == Action::Yaml;
            request(m, Request::Show(Shown { pod, object, yaml }))
        }
        (Action::Cancel, _) => cancel(m),
        _ => Vec::new(),
    }
}

/// The selected pod's chain, on its broken link.
fn open_chain(m: &mut Model) {
    if let Some(p) = m.current() {
        m.link = Model::first_link(p);
        m.pane = Pane::Chain;
        m.detail_scroll = 0;
    }
}

/// The next order; the selected pod stays selected, on its broken link.
fn sort(m: &mut Model) {
    let pod = m.current().map(|p| p.pod.clone());
    m.sort = m.sort.next();
    if let Some(i) = pod.and_then(|c| m.visible().iter().position(|p| p.pod == c)) {
        m.selected = i;
    }
    m.show_broken_link();
    let said = format!("sorted by {}", m.sort.name());
    m.say(said);
}

fn read(m: &mut Model, selection: Selection, probe: bool) -> Vec<Effect> {
    request(m, Request::Read { selection, probe })
}

/// The fix of the selected link, onto the clipboard; the status line says which and what.
fn copy_fix(m: &mut Model) -> Vec<Effect> {
    let fix = m.current().and_then(|p| {
        let l = p.links.get(m.link)?;
        let f = l.primary()?;
        Some((f.code.to_string(), f.fix.clone()?))
    });
    match fix {
        Some((code, f)) => {
            // What a terminal pastes: no control character, no secret.
            // (Its values were redacted before they were quoted; redacting the
            // command again would cut through its quotes.)
            let text = crate::untrusted::visible::visible(&f).into_owned();
            let start = crate::tui::text::middle_ellipsis(&text, 40).into_owned();
            m.say(format!(
                "copied {code}'s fix ({} characters, OSC 52): {start}",
                text.chars().count()
            ));
            vec![Effect::Copy(text)]
        }
        None => {
            m.say("this link has no fix to copy");
            Vec::new()
        }
    }
}

/// `x`: stops everything running and forgets the read that waited.
fn cancel(m: &mut Model) -> Vec<Effect> {
    if !m.work.running.is_empty() {
        m.work.running.clear();
        m.work.queued = None;
        m.say("cancelled");
        return vec![Effect::Cancel];
    }
    m.say("nothing is running");
    // Not a cue to ask for anything either.
    Vec::new()
}
