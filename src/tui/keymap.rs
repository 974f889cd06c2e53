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

/// One row of the keymap: how the help shows the keys, the keys that dispatch, the action,
/// what the help says, and the footer's short hint (ranked: the footer shows them in order).
pub struct Binding {
    pub keys: &'static str,
    pub codes: &'static [KeyCode],
    /// With Control held: `Some('c')` is Ctrl-C.
    pub ctrl: Option<char>,
    pub action: Action,
    pub description: &'static str,
    pub hint: Option<(u8, &'static str)>,
}

pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: "↑/k",
        codes: &[KeyCode::Up, KeyCode::Char('k')],
        ctrl: None,
        action: Action::Up,
        description: "previous pod or link",
        hint: Some((0, "↑↓ move")),
    },
    Binding {
        keys: "↓/j",
        codes: &[KeyCode::Down, KeyCode::Char('j')],
        ctrl: None,
        action: Action::Down,
        description: "next pod or link",
        hint: None,
    },
    Binding {
        keys: "g",
        codes: &[KeyCode::Home, KeyCode::Char('g')],
        ctrl: None,
        action: Action::Top,
        description: "first",
        hint: None,
    },
    Binding {
        keys: "G",
        codes: &[KeyCode::End, KeyCode::Char('G')],
        ctrl: None,
        action: Action::Bottom,
        description: "last",
        hint: None,
    },
    Binding {
        keys: "Enter",
        codes: &[KeyCode::Enter, KeyCode::Right, KeyCode::Char('l')],
        ctrl: None,
        action: Action::Enter,
        description: "open the pod's chain (broken link first)",
        hint: Some((1, "Enter chain")),
    },
    Binding {
        keys: "Esc",
        codes: &[KeyCode::Esc, KeyCode::Left, KeyCode::Char('h')],
        ctrl: None,
        action: Action::Back,
        description: "back to the pods / clear the filter",
        hint: None,
    },
    Binding {
        keys: "Tab",
        codes: &[KeyCode::Tab, KeyCode::BackTab],
        ctrl: None,
        action: Action::NextPane,
        description: "switch pane",
        hint: Some((2, "Tab pane")),
    },
    Binding {
        keys: "/",
        codes: &[KeyCode::Char('/')],
        ctrl: None,
        action: Action::Filter,
        description: "filter pods by name, ServiceAccount or code",
        hint: Some((4, "/ filter")),
    },
    Binding {
        keys: "s",
        codes: &[KeyCode::Char('s')],
        ctrl: None,
        action: Action::SortVerdict,
        description: "sort by verdict (worst first)",
        hint: None,
    },
    Binding {
        keys: "p",
        codes: &[KeyCode::Char('p')],
        ctrl: None,
        action: Action::Probe,
        description: "run the live probes for the selected pod",
        hint: Some((6, "p probe")),
    },
    Binding {
        keys: "P",
        codes: &[KeyCode::Char('P')],
        ctrl: None,
        action: Action::ProbeAll,
        description: "run the live probes for every pod",
        hint: None,
    },
    Binding {
        keys: "r",
        codes: &[KeyCode::Char('r')],
        ctrl: None,
        action: Action::Refresh,
        description: "read the cluster again",
        hint: None,
    },
    Binding {
        keys: "c",
        codes: &[KeyCode::Char('c')],
        ctrl: None,
        action: Action::Copy,
        description: "copy the fix command (OSC 52)",
        hint: None,
    },
    Binding {
        keys: "e",
        codes: &[KeyCode::Char('e')],
        ctrl: None,
        action: Action::Export,
        description: "export the selected pod's report",
        hint: Some((8, "e export")),
    },
    Binding {
        keys: "1",
        codes: &[KeyCode::Char('1')],
        ctrl: None,
        action: Action::Show(Tab::Link),
        description: "view: the selected link, its evidence and fix",
        hint: Some((3, "1-6 views")),
    },
    Binding {
        keys: "2",
        codes: &[KeyCode::Char('2')],
        ctrl: None,
        action: Action::Show(Tab::ServiceAccount),
        description: "view: the ServiceAccount and who uses it",
        hint: None,
    },
    Binding {
        keys: "3",
        codes: &[KeyCode::Char('3')],
        ctrl: None,
        action: Action::Show(Tab::Env),
        description: "view: injected env vs what is injected now",
        hint: None,
    },
    Binding {
        keys: "4",
        codes: &[KeyCode::Char('4')],
        ctrl: None,
        action: Action::Show(Tab::Credentials),
        description: "view: federated credentials vs the token",
        hint: None,
    },
    Binding {
        keys: "5",
        codes: &[KeyCode::Char('5')],
        ctrl: None,
        action: Action::Show(Tab::Token),
        description: "view: token claims, times from now",
        hint: None,
    },
    Binding {
        keys: "6",
        codes: &[KeyCode::Char('6')],
        ctrl: None,
        action: Action::Show(Tab::Probes),
        description: "view: exchange, probes and transcript",
        hint: None,
    },
    Binding {
        keys: ":",
        codes: &[KeyCode::Char(':')],
        ctrl: None,
        action: Action::Command,
        description: ":ns NAME (or :ns for all), :ctx NAME to switch context",
        hint: Some((5, ": ns/ctx")),
    },
    Binding {
        keys: "x",
        codes: &[KeyCode::Char('x')],
        ctrl: None,
        action: Action::Cancel,
        description: "cancel the running read or probes",
        hint: Some((7, "x cancel")),
    },
    Binding {
        keys: "?",
        codes: &[KeyCode::Char('?')],
        ctrl: None,
        action: Action::Help,
        description: "this help",
        hint: Some((9, "? help")),
    },
    Binding {
        keys: "q",
        codes: &[KeyCode::Char('q')],
        ctrl: None,
        action: Action::Quit,
        description: "quit",
        hint: Some((10, "q quit")),
    },
    Binding {
        keys: "Ctrl-C",
        codes: &[],
        ctrl: Some('c'),
        action: Action::Interrupt,
        description: "quit (exit status 130, as shells expect)",
        hint: None,
    },
];

/// The action a key press asks for. A Control chord with no binding of its own acts as the
/// plain key (terminals send some keys that way).
pub fn action(key: KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let chord = BINDINGS
        .iter()
        .find(|b| ctrl && matches!(key.code, KeyCode::Char(c) if b.ctrl == Some(c)));
    chord
        .or_else(|| BINDINGS.iter().find(|b| b.codes.contains(&key.code)))
        .map(|b| b.action)
}

/// The footer: the ranked hints of the table, joined.
pub fn footer() -> String {
    let mut hints: Vec<(u8, &str)> = BINDINGS.iter().filter_map(|b| b.hint).collect();
    hints.sort_unstable();
    hints
        .into_iter()
        .map(|(_, h)| h)
        .collect::<Vec<_>>()
        .join(" · ")
}

/// What a key does while a line (the filter, a `:` command) is being typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    Submit,
    Close,
    Erase,
    Type(char),
}

pub fn edit(key: KeyEvent) -> Option<Edit> {
    match key.code {
        KeyCode::Enter => Some(Edit::Submit),
        KeyCode::Esc => Some(Edit::Close),
        KeyCode::Backspace => Some(Edit::Erase),
        KeyCode::Char(c) => Some(Edit::Type(c)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_binding_dispatches_to_its_action_and_no_two_collide() {
        let mut seen = std::collections::HashMap::new();
        for b in BINDINGS {
            for &code in b.codes {
                assert_eq!(
                    action(KeyEvent::new(code, KeyModifiers::NONE)),
                    Some(b.action),
                    "{}",
                    b.keys
                );
                assert!(seen.insert(code, b.keys).is_none(), "{code:?} bound twice");
            }
            if let Some(c) = b.ctrl {
                let chord = KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
                assert_eq!(action(chord), Some(b.action));
            }
            assert!(
                !b.codes.is_empty() || b.ctrl.is_some(),
                "{} has no key",
                b.keys
            );
        }
        let ranks: Vec<u8> = BINDINGS
            .iter()
            .filter_map(|b| b.hint.map(|h| h.0))
            .collect();
        let unique: std::collections::BTreeSet<u8> = ranks.iter().copied().collect();
        assert_eq!(ranks.len(), unique.len(), "two hints share a rank");
    }

    #[test]
    fn the_footer_is_the_ranked_hints() {
        assert_eq!(
            footer(),
            "↑↓ move · Enter chain · Tab pane · 1-6 views · / filter · : ns/ctx · p probe · x cancel · e export · ? help · q quit"
        );
    }
}
