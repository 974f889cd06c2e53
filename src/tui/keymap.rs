//! The keys, once: `update` dispatches through this table and the help screen is drawn from it.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::model::Tab;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Up,
    Down,
    Top,
    Bottom,
    Enter,
    Back,
    NextPane,
    Filter,
    SortVerdict,
    Probe,
    ProbeAll,
    Refresh,
    Copy,
    Export,
    Help,
    Quit,
    /// Ctrl-C: quit, and say so with the exit status shells expect (130).
    Interrupt,
    Show(super::model::Tab),
    Command,
    Cancel,
}

pub struct Binding {
    pub keys: &'static str,
    pub action: Action,
    pub description: &'static str,
}

pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: "↑/k",
        action: Action::Up,
        description: "previous pod or link",
    },
    Binding {
        keys: "↓/j",
        action: Action::Down,
        description: "next pod or link",
    },
    Binding {
        keys: "g",
        action: Action::Top,
        description: "first",
    },
    Binding {
        keys: "G",
        action: Action::Bottom,
        description: "last",
    },
    Binding {
        keys: "Enter",
        action: Action::Enter,
        description: "open the pod's chain (broken link first)",
    },
    Binding {
        keys: "Esc",
        action: Action::Back,
        description: "back to the pods / clear the filter",
    },
    Binding {
        keys: "Tab",
        action: Action::NextPane,
        description: "switch pane",
    },
    Binding {
        keys: "/",
        action: Action::Filter,
        description: "filter pods by name, ServiceAccount or code",
    },
    Binding {
        keys: "s",
        action: Action::SortVerdict,
        description: "sort by verdict (worst first)",
    },
    Binding {
        keys: "p",
        action: Action::Probe,
        description: "run the live probes for the selected pod",
    },
    Binding {
        keys: "P",
        action: Action::ProbeAll,
        description: "run the live probes for every pod",
    },
    Binding {
        keys: "r",
        action: Action::Refresh,
        description: "read the cluster again",
    },
    Binding {
        keys: "c",
        action: Action::Copy,
        description: "copy the fix command (OSC 52)",
    },
    Binding {
        keys: "e",
        action: Action::Export,
        description: "export the selected pod's report",
    },
    Binding {
        keys: "1",
        action: Action::Show(Tab::Link),
        description: "view: the selected link, its evidence and fix",
    },
    Binding {
        keys: "2",
        action: Action::Show(Tab::ServiceAccount),
        description: "view: the ServiceAccount and who uses it",
    },
    Binding {
        keys: "3",
        action: Action::Show(Tab::Env),
        description: "view: injected env vs what is injected now",
    },
    Binding {
        keys: "4",
        action: Action::Show(Tab::Credentials),
        description: "view: federated credentials vs the token",
    },
    Binding {
        keys: "5",
        action: Action::Show(Tab::Token),
        description: "view: token claims, times from now",
    },
    Binding {
        keys: "6",
        action: Action::Show(Tab::Probes),
        description: "view: exchange, probes and transcript",
    },
    Binding {
        keys: ":",
        action: Action::Command,
        description: ":ns NAME (or :ns for all), :ctx NAME to switch context",
    },
    Binding {
        keys: "x",
        action: Action::Cancel,
        description: "cancel the running read or probes",
    },
    Binding {
        keys: "?",
        action: Action::Help,
        description: "this help",
    },
    Binding {
        keys: "q",
        action: Action::Quit,
        description: "quit",
    },
];

pub fn action(key: KeyEvent) -> Option<Action> {
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        return Some(Action::Interrupt);
    }
    Some(match key.code {
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::Home | KeyCode::Char('g') => Action::Top,
        KeyCode::End | KeyCode::Char('G') => Action::Bottom,
        KeyCode::Enter | KeyCode::Right | KeyCode::Char('l') => Action::Enter,
        KeyCode::Esc | KeyCode::Left | KeyCode::Char('h') => Action::Back,
        KeyCode::Tab | KeyCode::BackTab => Action::NextPane,
        KeyCode::Char('/') => Action::Filter,
        KeyCode::Char('s') => Action::SortVerdict,
        KeyCode::Char('p') => Action::Probe,
        KeyCode::Char('P') => Action::ProbeAll,
        KeyCode::Char('r') => Action::Refresh,
        KeyCode::Char('c') => Action::Copy,
        KeyCode::Char('e') => Action::Export,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Char(':') => Action::Command,
        KeyCode::Char('x') => Action::Cancel,
        KeyCode::Char(c @ '1'..='6') => Action::Show(Tab::ALL[c as usize - '1' as usize]),
        _ => return None,
    })
}
