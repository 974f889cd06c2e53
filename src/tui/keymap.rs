//! The keys, once: `update` dispatches through this table and the help screen is drawn from it.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::model::Tab;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    HalfPageUp,
    HalfPageDown,
    Enter,
    Back,
    NextPane,
    PreviousPane,
    Zoom,
    Yaml,
    Describe,
    Filter,
    Sort,
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
        description: "previous pod or link; scroll the detail up",
        hint: Some((0, "↑↓ move")),
    },
    Binding {
        keys: "↓/j",
        codes: &[KeyCode::Down, KeyCode::Char('j')],
        ctrl: None,
        action: Action::Down,
        description: "next pod or link; scroll the detail down",
        hint: None,
    },
    Binding {
        keys: "g/Home",
        codes: &[KeyCode::Home, KeyCode::Char('g')],
        ctrl: None,
        action: Action::Top,
        description: "first",
        hint: None,
    },
    Binding {
        keys: "G/End",
        codes: &[KeyCode::End, KeyCode::Char('G')],
        ctrl: None,
        action: Action::Bottom,
        description: "last",
        hint: None,
    },
    Binding {
        keys: "PgDn/^f",
        codes: &[KeyCode::PageDown],
        ctrl: Some('f'),
        action: Action::PageDown,
        description: "a page down",
        hint: None,
    },
    Binding {
        keys: "PgUp/^b",
        codes: &[KeyCode::PageUp],
        ctrl: Some('b'),
        action: Action::PageUp,
        description: "a page up",
        hint: None,
    },
    Binding {
        keys: "^d",
        codes: &[],
        ctrl: Some('d'),
        action: Action::HalfPageDown,
        description: "half a page down",
        hint: None,
    },
    Binding {
        keys: "^u",
        codes: &[],
        ctrl: Some('u'),
        action: Action::HalfPageUp,
        description: "half a page up",
        hint: None,
    },
    Binding {
        keys: "Enter",
        codes: &[KeyCode::Enter, KeyCode::Right, KeyCode::Char('l')],
        ctrl: None,
        action: Action::Enter,
        description: "open the pod's chain (broken link first), then its detail",
        hint: Some((1, "Enter chain")),
    },
    Binding {
        keys: "Esc",
        codes: &[KeyCode::Esc, KeyCode::Left, KeyCode::Char('h')],
        ctrl: None,
        action: Action::Back,
        description: "back a pane / leave zoom / clear the filter",
        hint: None,
    },
    Binding {
        keys: "Tab",
        codes: &[KeyCode::Tab],
        ctrl: None,
        action: Action::NextPane,
        description: "next pane: pods, chain, detail",
        hint: Some((2, "Tab pane")),
    },
    Binding {
        keys: "S-Tab",
        codes: &[KeyCode::BackTab],
        ctrl: None,
        action: Action::PreviousPane,
        description: "previous pane",
        hint: None,
    },
    Binding {
        keys: "z",
        codes: &[KeyCode::Char('z')],
        ctrl: None,
        action: Action::Zoom,
        description: "zoom: the detail pane gets the whole screen",
        hint: Some((3, "z zoom")),
    },
    Binding {
        keys: "y",
        codes: &[KeyCode::Char('y')],
        ctrl: None,
        action: Action::Yaml,
        description: "YAML of the pod (of the SA on view 2, the credentials on 4)",
        hint: None,
    },
    Binding {
        keys: "d",
        codes: &[KeyCode::Char('d')],
        ctrl: None,
        action: Action::Describe,
        description: "describe the pod (the SA on view 2, the credentials on 4)",
        hint: None,
    },
    Binding {
        keys: "/",
        codes: &[KeyCode::Char('/')],
        ctrl: None,
        action: Action::Filter,
        description: "filter every column (partial codes too; !text inverts)",
        hint: Some((5, "/ filter")),
    },
    Binding {
        keys: "s",
        codes: &[KeyCode::Char('s')],
        ctrl: None,
        action: Action::Sort,
        description: "sort: name, verdict, broken link, SA, identity",
        hint: None,
    },
    Binding {
        keys: "p",
        codes: &[KeyCode::Char('p')],
        ctrl: None,
        action: Action::Probe,
        description: "run the live probes for the selected pod",
        hint: Some((7, "p probe")),
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
        description: "copy the selected link's fix (OSC 52)",
        hint: None,
    },
    Binding {
        keys: "e",
        codes: &[KeyCode::Char('e')],
        ctrl: None,
        action: Action::Export,
        description: "export the selected pod's report",
        hint: Some((9, "e export")),
    },
    Binding {
        keys: "1",
        codes: &[KeyCode::Char('1')],
        ctrl: None,
        action: Action::Show(Tab::Link),
        description: "view: the selected link, its evidence and fix",
        hint: Some((4, "1-6 views")),
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
        description: ":ns [NAME], :ctx [NAME] (no name: a list), :q",
        hint: Some((6, ": cmd")),
    },
    Binding {
        keys: "x",
        codes: &[KeyCode::Char('x')],
        ctrl: None,
        action: Action::Cancel,
        description: "cancel the running read or probes",
        hint: Some((8, "x cancel")),
    },
    Binding {
        keys: "?",
        codes: &[KeyCode::Char('?')],
        ctrl: None,
        action: Action::Help,
        description: "this help",
        hint: Some((10, "? help")),
    },
    Binding {
        keys: "q",
        codes: &[KeyCode::Char('q')],
        ctrl: None,
        action: Action::Quit,
        description: "quit",
        hint: Some((11, "q quit")),
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

/// The hints that must always show: how to get help and how to leave.
pub const ALWAYS: &str = "? help · q quit";

/// The footer in `width` columns: the ranked hints that fit, then `ALWAYS`.
pub fn footer(width: usize) -> String {
    let mut hints: Vec<(u8, &str)> = BINDINGS.iter().filter_map(|b| b.hint).collect();
    hints.sort_unstable();
    let mut out = String::new();
    let room = width.saturating_sub(ALWAYS.chars().count());
    for (_, h) in hints {
        if ALWAYS.contains(h) {
            continue;
        }
        let next = out.chars().count() + h.chars().count() + 3;
        if next > room {
            break;
        }
        out.push_str(h);
        out.push_str(" · ");
    }
    out.push_str(ALWAYS);
    out
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
    fn the_footer_is_the_ranked_hints_and_always_help_and_quit() {
        assert_eq!(
            footer(200),
            "↑↓ move · Enter chain · Tab pane · z zoom · 1-6 views · / filter · : cmd · p probe · x cancel · e export · ? help · q quit"
        );
        for width in [20, 40, 60, 80] {
            let f = footer(width);
            assert!(f.ends_with(ALWAYS), "{f}");
            assert!(f.chars().count() <= width.max(ALWAYS.len()), "{width}: {f}");
        }
        assert_eq!(
            footer(80),
            "↑↓ move · Enter chain · Tab pane · z zoom · 1-6 views · ? help · q quit"
        );
    }
}
