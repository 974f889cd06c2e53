//! The `:` command line and the pickers it opens: `:q`, `:ns [NAME]`, `:ctx [NAME]`.

use crossterm::event::KeyEvent;

use super::keys::{act, movement, target};
use super::{Effect, describe_current, request};
use crate::tui::keymap::{self, Action, Edit};
use crate::tui::model::{Model, Picker, PickerKind, Request, Source};

/// A key in a picker: moves choose, Enter picks, Esc closes.
pub(super) fn pick(m: &mut Model, a: Action, n: usize) -> Vec<Effect> {
    let Some(p) = m.picker.as_mut() else {
        return Vec::new();
    };
    if movement(a) {
        let page = usize::from(m.screen.height.saturating_sub(4));
        p.selected = target(p.selected, p.choices.len().saturating_sub(1), page, a, n);
        return Vec::new();
    }
    match a {
        Action::Enter => {
            let kind = p.kind;
            let choice = p.choices.get(p.selected).cloned().unwrap_or_default();
            m.picker = None;
            match kind {
                PickerKind::Namespace if choice == ALL_NAMESPACES => command(m, "ns all"),
                PickerKind::Namespace => command(m, &format!("ns {choice}")),
                PickerKind::Context => switch(m, &choice),
            }
        }
        Action::Interrupt => act(m, a),
        _ => {
            m.picker = None;
            Vec::new()
        }
    }
}

const ALL_NAMESPACES: &str = "(every namespace)";

/// A key while the `:` command line is open.
pub(super) fn edit_command(m: &mut Model, k: KeyEvent) -> Vec<Effect> {
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

/// `:q`, `:ns [NAME]`, `:ctx [NAME]`; with no name, a list to pick from.
fn command(m: &mut Model, line: &str) -> Vec<Effect> {
    let mut words = line.split_whitespace();
    match (words.next(), words.next()) {
        (Some("q" | "q!" | "quit" | "qa" | "exit"), None) => act(m, Action::Quit),
        (Some("ns" | "namespace"), None) => {
            let mut choices = vec![ALL_NAMESPACES.to_string()];
            choices.extend(m.namespaces());
            let selected = m
                .namespace
                .as_ref()
                .and_then(|n| choices.iter().position(|c| c == n))
                .unwrap_or(0);
            m.picker = Some(Picker {
                kind: PickerKind::Namespace,
                choices,
                selected,
            });
            Vec::new()
        }
        (Some("ns" | "namespace"), Some("all" | "*" | "-A")) => set_namespace(m, None),
        (Some("ns" | "namespace"), Some(name)) => {
            if m.namespaces().iter().any(|n| n == name) {
                set_namespace(m, Some(name.to_string()))
            } else {
                m.say(format!(
                    "no pods in namespace {name}; :ns lists the namespaces"
                ));
                Vec::new()
            }
        }
        (Some("ctx" | "context"), None) => match &m.source {
            Source::World(_) => no_contexts(m),
            Source::Live { context } => {
                if m.contexts.is_empty() {
                    m.say("the kubeconfig's contexts could not be read");
                    return Vec::new();
                }
                let selected = m.contexts.iter().position(|c| c == context).unwrap_or(0);
                m.picker = Some(Picker {
                    kind: PickerKind::Context,
                    choices: m.contexts.clone(),
                    selected,
                });
                Vec::new()
            }
        },
        (Some("ctx" | "context"), Some(name)) => switch(m, name),
        _ => {
            m.say(format!("unknown command :{line} (try :ns, :ctx, :q)"));
            Vec::new()
        }
    }
}

fn no_contexts(m: &mut Model) -> Vec<Effect> {
    m.say("a world file has no contexts to switch");
    Vec::new()
}

fn set_namespace(m: &mut Model, namespace: Option<String>) -> Vec<Effect> {
    m.namespace = namespace;
    m.selected = 0;
    m.show_broken_link();
    let said = match &m.namespace {
        Some(n) => format!("namespace {n}"),
        None => "every namespace".into(),
    };
    m.say(said);
    describe_current(m)
}

/// `:ctx NAME`: a context the kubeconfig does not have changes nothing.
fn switch(m: &mut Model, name: &str) -> Vec<Effect> {
    if matches!(m.source, Source::World(_)) {
        return no_contexts(m);
    }
    if !m.contexts.is_empty() && !m.contexts.iter().any(|c| c == name) {
        m.say(format!(
            "no context {name} in the kubeconfig; :ctx lists them"
        ));
        return Vec::new();
    }
    m.namespace = None;
    m.probed = false;
    // What runs belongs to the other cluster: the runner stops it, and answers that still
    // arrive are nobody's.
    m.work.running.clear();
    m.work.queued = None;
    request(m, Request::Switch(name.to_string()))
}
