//! The TUI at the sizes people run it: 80x24, 120x40 and 200x60, on every seed world, and on a
//! generated 10,000-pod world. What must hold at every size: the broken link's fix can be read
//! whole (the detail pane scrolls), the footer says how to get help and quit, every view's tab
//! shows, and pods stay distinguishable.

mod common;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use widiag::tui::model::Pane;
use widiag::tui::{Model, Msg, Source, update};

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 60)];

use common::{key, tui_model as loaded};

fn seed_worlds() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(common::root().join("assets/worlds"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_prefix("seed-")
                .and(name.strip_suffix(".yaml"))
                .map(str::to_string)
        })
        .collect();
    names.sort();
    assert_eq!(names.len(), 18, "{names:?}");
    names
}

/// Text without what wrapping adds (spaces, line ends, borders, ` \` continuations).
fn squeezed(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '│' | '\\'))
        .collect()
}

/// Every line of the detail pane from its top to its end, in order, scrolled with PgDn as a
/// user would after focusing it with Tab.
fn detail_scrolled_through(m: &mut Model, (width, height): (u16, u16)) -> String {
    while m.pane != Pane::Detail {
        update(m, key(KeyCode::Tab));
    }
    update(m, key(KeyCode::Home));
    let mut lines = std::collections::BTreeMap::new();
    for _ in 0..50 {
        let area =
            widiag::tui::view::areas(ratatui::layout::Rect::new(0, 0, width, height), m).detail;
        let text = common::screen(m, width, height);
        let rows: Vec<&str> = text.lines().collect();
        let top = m.detail_scroll;
        for i in 0..usize::from(area.height.saturating_sub(2)) {
            let row = rows
                .get(usize::from(area.y) + 1 + i)
                .copied()
                .unwrap_or_default();
            lines.insert(top + i, row.to_string());
        }
        let before = m.detail_scroll;
        update(m, key(KeyCode::PageDown));
        if m.detail_scroll == before {
            break;
        }
    }
    lines.into_values().collect::<Vec<_>>().join("\n")
}

#[test]
fn every_seed_world_at_three_sizes_shows_the_fix_help_quit_and_every_view() {
    for world in seed_worlds() {
        let mut shots = String::new();
        for size in SIZES {
            let mut m = loaded(&world, size);
            update(&mut m, key(KeyCode::Enter));
            let text = common::screen(&m, size.0, size.1);
            shots.push_str(&format!("── {}x{}\n{text}\n", size.0, size.1));
            let footer = text.lines().last().unwrap_or_default();
            assert!(
                footer.ends_with("? help · q quit"),
                "{world} {size:?}: {footer}"
            );
            for tab in 1..=6 {
                assert!(
                    text.contains(&format!("{tab} ")),
                    "{world} {size:?}: tab {tab}\n{text}"
                );
            }
            let pod = m.current().unwrap();
            let fix = pod.links[m.link].primary().and_then(|f| f.fix.clone());
            let seen = detail_scrolled_through(&mut m, size);
            if let Some(fix) = fix {
                assert!(
                    squeezed(&seen).contains(&squeezed(&fix)),
                    "{world} {size:?}: the fix is not readable in full:\n{fix}\n{seen}"
                );
            }
        }
        insta::assert_snapshot!(world, shots);
    }
}

/// `z` gives the detail the whole screen; Esc gives it back.
#[test]
fn zoom_gives_the_detail_the_whole_screen() {
    let mut m = loaded("seed-000-fic-issuer-slash", (80, 24));
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, key(KeyCode::Char('z')));
    let text = common::screen(&m, 80, 24);
    assert!(
        !text.contains("BREAKS AT") && !text.contains("Chain ·"),
        "{text}"
    );
    assert!(
        text.contains("fix: az identity federated-credential"),
        "{text}"
    );
    assert!(text.contains("--subject"), "{text}");
    assert_eq!(m.pane, Pane::Detail);
    update(&mut m, key(KeyCode::Esc));
    assert!(!m.zoom);
    assert!(common::screen(&m, 80, 24).contains("Chain ·"));
}

/// Below 100 columns the pods pane has the full width and the chain takes its place when it
/// has the focus; names keep their distinguishing tails.
#[test]
fn a_narrow_screen_gives_pods_and_chain_the_width_in_turn() {
    let mut m = loaded("edge-cases", (80, 24));
    let text = common::screen(&m, 80, 24);
    assert!(
        text.contains("BREAKS AT") && !text.contains("Chain ·"),
        "{text}"
    );
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("│✗") || l.starts_with("│✓") || l.starts_with("│!"))
        .collect();
    let unique: std::collections::BTreeSet<&&str> = rows.iter().collect();
    assert_eq!(unique.len(), rows.len(), "rows must differ:\n{text}");
    update(&mut m, key(KeyCode::Enter));
    let text = common::screen(&m, 80, 24);
    assert!(
        text.contains("Chain ·") && !text.contains("BREAKS AT"),
        "{text}"
    );
    update(&mut m, key(KeyCode::Esc));
    assert_eq!(m.pane, Pane::Pods);
}

/// The help fits a short screen by scrolling, and always says how to close it and quit.
#[test]
fn help_scrolls_on_a_short_screen_and_names_quit() {
    let mut m = loaded("seed-002-healthy", (80, 24));
    update(&mut m, key(KeyCode::Char('?')));
    let first = common::screen(&m, 80, 24);
    assert!(first.contains("Esc closes · q quits"), "{first}");
    assert!(first.contains("↑↓ scroll"), "{first}");
    update(&mut m, key(KeyCode::End));
    let last = common::screen(&m, 80, 24);
    assert!(last.contains("Ctrl-C"), "{last}");
    assert!(m.help);
    update(&mut m, key(KeyCode::Char('q')));
    assert!(m.quit);
}

/// A generated 10,000-pod world, analysed once for every test here that needs it.
fn ten_thousand() -> &'static widiag::analysis::Report {
    static REPORT: std::sync::OnceLock<widiag::analysis::Report> = std::sync::OnceLock::new();
    REPORT.get_or_init(|| {
        let sizes = widiag::world::generate::Sizes {
            pods: 10_000,
            service_accounts: 2_000,
            identities: 500,
            fics_per_identity: 3,
            namespaces: 50,
        };
        let yaml = widiag::world::generate::world_yaml(sizes);
        let w = widiag::world::parse::parse_str("gen.yaml", &yaml).unwrap();
        common::analyze(&w)
    })
}

/// Paging keys move by a page, the pane says where the selection is, and the header counts
/// what the filter keeps, of how many.
#[test]
fn ten_thousand_pods_page_count_and_filter() {
    let mut m = Model::new(Source::World("gen.yaml".into()));
    update(
        &mut m,
        Msg::Resize {
            width: 80,
            height: 24,
        },
    );
    update(&mut m, Msg::Data(ten_thousand().clone()));
    let page = widiag::tui::view::pod_rows(
        widiag::tui::view::areas(ratatui::layout::Rect::new(0, 0, 80, 24), &m).pods,
    );
    update(&mut m, key(KeyCode::PageDown));
    assert_eq!(m.selected, page);
    update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Char('f'), KeyModifiers::CONTROL)),
    );
    assert_eq!(m.selected, 2 * page);
    update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    assert_eq!(m.selected, 2 * page - (page / 2).max(1));
    update(&mut m, key(KeyCode::End));
    let text = common::screen(&m, 80, 24);
    assert!(text.contains("10000/10000"), "{text}");
    update(&mut m, key(KeyCode::Char('/')));
    for c in "ns7/".chars() {
        update(&mut m, key(KeyCode::Char(c)));
    }
    update(&mut m, key(KeyCode::Enter));
    let shown = m.visible().len();
    assert!(shown > 0 && shown < 10_000);
    let text = common::screen(&m, 80, 24);
    assert!(text.contains(&format!("{shown} of 10000 pods")), "{text}");
    assert!(text.contains(&format!("/ns7/ {shown} of 10000")), "{text}");
    // `!` keeps the others.
    m.filter = "!ns7/".into();
    assert_eq!(m.visible().len(), 10_000 - shown);
}

/// A held key: presses that arrive while a frame is drawn are one move of that many rows, so
/// 100 presses settle in one update and one frame, not 100.
#[tokio::test]
async fn a_held_key_moves_once_by_all_its_presses() {
    let presses: Vec<Msg> = (0..100).map(|_| key(KeyCode::Char('j'))).collect();
    let merged = widiag::tui::update::coalesce(presses);
    assert_eq!(merged.len(), 1);
    assert!(matches!(merged[0], Msg::Repeat(_, 100)));
    let mut m = Model::new(Source::World("gen.yaml".into()));
    let (etx, _erx) = tokio::sync::mpsc::unbounded_channel();
    let (rtx, rrx) = tokio::sync::mpsc::unbounded_channel();
    rtx.send(Msg::Data(ten_thousand().clone())).unwrap();
    let mut input: Vec<Msg> = (0..100).map(|_| key(KeyCode::Char('j'))).collect();
    input.push(key(KeyCode::Char('q')));
    // The keys arrive together, after the data was drawn.
    let input = futures_util::StreamExt::then(futures_util::stream::iter(vec![input]), |k| async {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        futures_util::stream::iter(k)
    });
    let input = futures_util::StreamExt::flatten(input);
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
    widiag::tui::run_loop(
        &mut t,
        &mut m,
        widiag::tui::Theme { color: false },
        Box::pin(input),
        etx,
        rrx,
    )
    .await
    .unwrap();
    assert_eq!(m.selected, 100);
    assert!(m.quit);
}

/// `s` steps through the orders, marks the column and keeps the selected pod.
#[test]
fn sort_keeps_the_selected_pod_and_marks_the_column() {
    let mut m = loaded("edge-cases", (120, 40));
    update(&mut m, key(KeyCode::Char('j')));
    update(&mut m, key(KeyCode::Char('j')));
    let pod = m.current().unwrap().pod.clone();
    update(&mut m, key(KeyCode::Char('s')));
    assert_eq!(m.current().unwrap().pod, pod);
    let text = common::screen(&m, 120, 40);
    assert!(text.contains("Pods · by verdict"), "{text}");
    update(&mut m, key(KeyCode::Char('s')));
    let text = common::screen(&m, 120, 40);
    assert!(text.contains("BREAKS AT▼"), "{text}");
    assert_eq!(m.current().unwrap().pod, pod);
    let p = m.current().unwrap();
    assert_eq!(
        m.link,
        Model::first_link(p),
        "the detail follows the pod's broken link"
    );
}

/// A notice (a watch that paused, a copy) shows beside the key hints and expires; the hints
/// stay.
#[test]
fn notices_expire_and_the_key_hints_stay() {
    let mut m = loaded("seed-002-healthy", (80, 24));
    update(
        &mut m,
        Msg::Notice("following paused, retrying: watch stream failed".into()),
    );
    let text = common::screen(&m, 80, 24);
    let footer = text.lines().last().unwrap_or_default();
    assert!(footer.starts_with("following paused"), "{footer}");
    assert!(footer.ends_with("? help · q quit"), "{footer}");
    for _ in 0..widiag::tui::update::NOTICE_TICKS {
        update(&mut m, Msg::Tick);
    }
    assert!(m.message.is_none());
    let text = common::screen(&m, 80, 24);
    assert_eq!(
        text.lines().last().unwrap_or_default(),
        widiag::tui::keymap::footer(80)
    );
}

/// `y` and `d` ask for the object of the open view (the pod, the ServiceAccount on view 2, the
/// credentials on view 4); the answer opens a scrollable view that Esc closes.
#[test]
fn yaml_and_describe_show_the_objects_of_the_open_view() {
    use widiag::tui::model::{Shown, ShownObject};
    use widiag::tui::{Answer, Effect};
    let w = common::load(&common::root().join("assets/worlds/seed-004-rbac-vault.yaml"));
    let mut m = loaded("seed-004-rbac-vault", (100, 30));
    let pod = m.current().unwrap().pod.clone();
    let cases = [
        (
            'y',
            None,
            ShownObject::Pod,
            "YAML · pod default/wi-kv-test",
            "kind: Pod",
        ),
        (
            'd',
            Some('2'),
            ShownObject::ServiceAccount,
            "describe · ServiceAccount wi-demo-sa",
            "azure.workload.identity/client-id=",
        ),
        (
            'y',
            Some('4'),
            ShownObject::Credentials,
            "federated credentials of wi-demo-identity",
            "- api://AzureADTokenExchange",
        ),
    ];
    for (k, tab, object, title, body) in cases {
        if let Some(t) = tab {
            update(&mut m, key(KeyCode::Char(t)));
            m.work.running.clear();
        }
        let effects = update(&mut m, key(KeyCode::Char(k)));
        let shown = Shown {
            pod: pod.clone(),
            object,
            yaml: k == 'y',
        };
        let Some(Effect::Show { id, shown: asked }) = effects.last() else {
            panic!("{effects:?}");
        };
        assert_eq!(asked, &shown);
        let text = widiag::tui::shown::text(&w, &shown).unwrap();
        update(&mut m, Msg::Answer(*id, Answer::Shown(Ok(text))));
        let screen = common::screen(&m, 100, 30);
        assert!(screen.contains(title) && screen.contains(body), "{screen}");
        update(&mut m, key(KeyCode::Esc));
        assert!(m.overlay.is_none());
    }
}

/// The detail pane names what the selected link's verdict rests on, and the title what the
/// whole screen does: a world file is judged offline.
#[test]
fn the_detail_says_whether_a_link_was_observed_or_predicted() {
    let mut m = loaded("edge-cases", (120, 40));
    m.filter = "cached-token".into();
    update(&mut m, key(KeyCode::Enter));
    let token = m
        .current()
        .unwrap()
        .links
        .iter()
        .position(|l| l.link == widiag::analysis::Link::Token)
        .unwrap();
    m.link = token;
    let status = m.current().unwrap().links[token].status.name();
    let text = common::screen(&m, 120, 40);
    assert!(
        text.contains(&format!("token · {status} · observed")),
        "{text}"
    );
    assert!(
        text.lines().next().unwrap().contains("· offline ·"),
        "{text}"
    );
    m.link = token + 1;
    let exchange = m.current().unwrap().links[token + 1..]
        .iter()
        .position(|l| l.link == widiag::analysis::Link::Exchange)
        .unwrap();
    m.link = token + 1 + exchange;
    let text = common::screen(&m, 120, 40);
    assert!(text.contains("exchange · skip · predicted"), "{text}");
}

/// The filter reads every column: the identity, the broken link's name and partial codes.
#[test]
fn the_filter_matches_every_column_and_partial_codes() {
    let m = loaded("edge-cases", (120, 40));
    let all = m.visible().len();
    let keeps = |text: &str| {
        let mut f = m.clone();
        f.filter = text.into();
        f.visible()
            .iter()
            .map(|p| p.pod.to_string())
            .collect::<Vec<_>>()
    };
    let by_identity = keeps("id-tenant");
    assert_eq!(by_identity, ["apps/other-tenant"]);
    let by_link = keeps("federation");
    assert!(!by_link.is_empty() && by_link.len() < all, "{by_link:?}");
    let m2 = &m;
    assert!(
        by_link.iter().all(
            |name| m2.visible().iter().any(|p| &p.pod.to_string() == name
                && p.broken_link().map(|l| l.link.name()) == Some("federation"))
        ),
        "{by_link:?}"
    );
    let partial = keeps("wi90");
    assert!(!partial.is_empty(), "a partial code matches");
    assert_eq!(keeps("!wi90").len(), all - partial.len());
}

/// On 10,000 generated pods, the rows on screen are told apart at 120x40 and at 80x24.
#[test]
fn ten_thousand_pods_rows_are_distinguishable() {
    for (width, height) in [(120, 40), (80, 24)] {
        let mut m = Model::new(Source::World("gen.yaml".into()));
        update(&mut m, Msg::Resize { width, height });
        update(&mut m, Msg::Data(ten_thousand().clone()));
        let text = common::screen(&m, width, height);
        let rows: Vec<&str> = text
            .lines()
            .filter(|l| ["│✗", "│✓", "│!", "│?"].iter().any(|g| l.starts_with(g)))
            .map(|l| l.split('│').nth(1).unwrap_or_default())
            .collect();
        assert!(rows.len() > 3, "{text}");
        let unique: std::collections::BTreeSet<&&str> = rows.iter().collect();
        assert_eq!(unique.len(), rows.len(), "{width}x{height}:\n{text}");
    }
}

/// The wheel scrolls what is under the pointer without moving the focus; `c` copies the
/// selected link's fix and says which and how long.
#[test]
fn the_wheel_scrolls_the_detail_and_copy_says_what_it_copied() {
    let mut m = loaded("seed-000-fic-issuer-slash", (80, 24));
    let detail = widiag::tui::view::areas(ratatui::layout::Rect::new(0, 0, 80, 24), &m).detail;
    update(
        &mut m,
        Msg::Scroll {
            delta: 3,
            column: detail.x + 5,
            row: detail.y + 3,
        },
    );
    assert_eq!((m.detail_scroll, m.pane, m.selected), (3, Pane::Pods, 0));
    let effects = update(&mut m, key(KeyCode::Char('c')));
    let fix = m.current().unwrap().links[m.link]
        .primary()
        .unwrap()
        .fix
        .clone()
        .unwrap();
    assert_eq!(effects, [widiag::tui::Effect::Copy(fix.clone())]);
    let said = m.message.clone().unwrap();
    assert!(
        said.starts_with(&format!(
            "copied WI902's fix ({} characters",
            fix.chars().count()
        )),
        "{said}"
    );
}

/// Presses that arrived together go where each one would have gone alone: the first Enter runs
/// the `:` command, the second opens the selected pod's chain.
#[test]
fn repeated_keys_after_a_prompt_go_to_the_panes() {
    let mut m = loaded("edge-cases", (120, 40));
    update(&mut m, key(KeyCode::Char('j')));
    update(&mut m, key(KeyCode::Char(':')));
    update(&mut m, key(KeyCode::Char('q')));
    update(&mut m, key(KeyCode::Backspace));
    for c in "ns apps".chars() {
        update(&mut m, key(KeyCode::Char(c)));
    }
    let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
    update(&mut m, Msg::Repeat(enter, 2));
    assert!(m.command.is_none() && !m.editing_filter);
    assert_eq!(m.namespace.as_deref(), Some("apps"));
    assert_eq!(m.pane, Pane::Chain, "the second Enter opened the chain");
    assert!(!m.quit);
}
