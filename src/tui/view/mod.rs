//! Drawing: pure functions of `&Model` onto a ratatui frame. Nothing here changes state or
//! waits on anything. Layout goes by priority: below `WIDE` columns the pods and chain panes
//! take turns above the detail, and `z` gives the detail the whole screen.

mod detail;
mod pods;
mod popups;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph};

use super::model::{Activity, Concerns, Model, Pane, Source};
use crate::analysis::{PodChain, Status};
use crate::output::safe;

pub use detail::detail_len;
pub use pods::{pod_rows, pods_top};
pub use popups::{help_rows, overlay_rows};

/// Narrower than this, the pods and chain panes share the top of the screen in turn.
pub const WIDE: u16 = 100;

/// Colours, or none at all (`NO_COLOR` set and not empty).
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    fn status(&self, s: Status) -> Style {
        if !self.color {
            return Style::default();
        }
        // Named ANSI colours follow the terminal's palette, so light themes stay readable.
        Style::default().fg(match s {
            Status::Pass => Color::Green,
            Status::Warn => Color::Yellow,
            Status::Unknown => Color::Magenta,
            Status::Fail => Color::Red,
            Status::Skip => Color::DarkGray,
        })
    }
    fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }
    fn bold(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }
    fn dim(&self) -> Style {
        if self.color {
            Style::default().add_modifier(Modifier::DIM)
        } else {
            Style::default()
        }
    }
    fn focus(&self, focused: bool) -> Style {
        if focused && self.color {
            Style::default().fg(Color::Cyan)
        } else {
            Style::default()
        }
    }
}

/// A pane's title, marked when it has the focus: in colour by its border, and with `▶` too, so
/// the focus shows with `NO_COLOR`.
fn pane_title(title: String, focused: bool) -> String {
    if focused {
        format!("▶{title}")
    } else {
        title
    }
}

/// A pod's name; a workload with no pod is named as kubectl names it and marked.
fn subject_name(p: &PodChain) -> String {
    if p.template_only {
        format!("{}/{} (no pod)", p.pod.namespace, p.workload.kubectl_ref())
    } else {
        p.pod.to_string()
    }
}

pub fn glyph(s: Status) -> &'static str {
    match s {
        Status::Pass => "✓",
        Status::Warn => "!",
        Status::Unknown => "?",
        Status::Fail => "✗",
        Status::Skip => "–",
    }
}

const SPINNER: [&str; 4] = ["|", "/", "-", "\\"];

/// Where each pane is on this screen for this model; a hidden pane has an empty area. `update`
/// maps clicks and pages with it.
pub struct Areas {
    pub title: Rect,
    pub pods: Rect,
    pub chain: Rect,
    pub detail: Rect,
    pub footer: Rect,
}

pub fn areas(screen: Rect, m: &Model) -> Areas {
    let [title, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(screen);
    let none = Rect::new(body.x, body.y, 0, 0);
    if m.zoom {
        return Areas {
            title,
            pods: none,
            chain: none,
            detail: body,
            footer,
        };
    }
    let [top, detail] =
        Layout::vertical([Constraint::Percentage(45), Constraint::Min(5)]).areas(body);
    let (pods, chain) = if screen.width >= WIDE {
        let [pods, chain] =
            Layout::horizontal([Constraint::Percentage(48), Constraint::Percentage(52)]).areas(top);
        (pods, chain)
    } else if m.pane == Pane::Pods {
        (top, none)
    } else {
        (none, top)
    };
    Areas {
        title,
        pods,
        chain,
        detail,
        footer,
    }
}

pub fn draw(f: &mut Frame<'_>, m: &Model, t: Theme) {
    let a = areas(f.area(), m);
    // Filtered once per frame: with 10,000 pods this is most of a frame's work.
    let visible = m.visible();
    draw_title(f, a.title, m, &visible, t);
    if a.pods.width > 0 {
        pods::draw(f, a.pods, m, &visible, t);
    }
    let pod = visible.get(m.selected).copied();
    if a.chain.width > 0 {
        draw_chain(f, a.chain, m, pod, t);
    }
    detail::draw(f, a.detail, m, pod, t);
    draw_footer(f, a.footer, m, t);
    popups::draw(f, m, t);
}

/// The verdicts of the pods shown (after `:ns` and the filter), tallied once a frame.
struct Tally {
    shown: usize,
    total: usize,
    podless: usize,
    /// Fail, warn, unknown, pass.
    verdicts: [usize; 4],
}

impl Tally {
    fn of(m: &Model, visible: &[&PodChain]) -> Tally {
        let mut t = Tally {
            shown: visible.len(),
            total: m.report.as_ref().map_or(0, |r| r.pods.len()),
            podless: 0,
            verdicts: [0; 4],
        };
        for p in visible {
            t.podless += usize::from(p.template_only);
            match p.verdict() {
                Status::Fail => t.verdicts[0] += 1,
                Status::Warn => t.verdicts[1] += 1,
                Status::Unknown => t.verdicts[2] += 1,
                Status::Pass | Status::Skip => t.verdicts[3] += 1,
            }
        }
        t
    }

    /// The counts, and of how many when the filter or namespace hides some.
    fn text(&self, compact: bool) -> String {
        let (n, all, w) = (self.shown, self.total, self.podless);
        let shown = match (w, n == all) {
            (0, true) => format!("{n} pods"),
            (0, false) => format!("{n} of {all} pods"),
            (w, true) if !compact => format!("{} pods + {w} workloads with no pod", n - w),
            (w, _) => format!("{} pods + {w} with no pod", n - w),
        };
        let [f, warn, u, p] = self.verdicts;
        if compact {
            format!("{shown}: ✗{f} !{warn} ?{u} ✓{p}")
        } else {
            format!("{shown}: {f} fail, {warn} warn, {u} unknown, {p} pass")
        }
    }
}

fn draw_title(f: &mut Frame<'_>, area: Rect, m: &Model, visible: &[&PodChain], t: Theme) {
    let source = match &m.source {
        Source::World(w) => format!("world {}", safe::text(w)),
        Source::Live { context } => format!("context {}", safe::text(context)),
    };
    // Where the verdicts come from: a world is judged offline (a prediction); a live read is
    // observed, and the exchange and resource links only with the probes run.
    let basis = match (&m.source, m.probed) {
        (Source::World(_), _) => "offline",
        (Source::Live { .. }, true) => "live + probes",
        (Source::Live { .. }, false) => "live, no probes (P)",
    };
    let source = match &m.namespace {
        Some(ns) => format!("{source} · {basis} · ns {}", safe::text(ns)),
        None => format!("{source} · {basis}"),
    };
    let busy = match m.activity() {
        Activity::Busy { what, tick } => format!(" · {} {what}", SPINNER[tick % SPINNER.len()]),
        Activity::Idle => String::new(),
    };
    let width = usize::from(area.width);
    let mut counts_text = String::new();
    if m.report.is_some() {
        let tally = Tally::of(m, visible);
        counts_text = format!(" · {}", tally.text(false));
        let long = 6 + 3 + source.chars().count() + counts_text.chars().count();
        if long + busy.chars().count() > width {
            counts_text = format!(" · {}", tally.text(true));
        }
    }
    // The source gives way first: the counts and the spinner say what is happening.
    let room = width.saturating_sub(9 + counts_text.chars().count() + busy.chars().count());
    let source = super::text::middle_ellipsis(&source, room.max(12)).into_owned();
    let spans = vec![
        Span::styled("widiag", t.bold()),
        Span::raw(format!(" · {source}{counts_text}{busy}")),
    ];
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The pods and chain panes' frame, with a failed read or probe said where its data would be.
fn pane_block(title: String, focused: bool, m: &Model, t: Theme) -> Block<'static> {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(pane_title(title, focused))
        .border_style(t.focus(focused));
    match &m.error {
        Some((Concerns::Pods, e)) => block.title_bottom(Line::styled(
            format!(" ✗ {} ", safe::text(e)),
            t.status(Status::Fail),
        )),
        _ => block,
    }
}

fn draw_chain(f: &mut Frame<'_>, area: Rect, m: &Model, pod: Option<&PodChain>, t: Theme) {
    let focused = m.pane == Pane::Chain;
    let title = pod.map_or(" Chain ".into(), |p| {
        let room = usize::from(area.width).saturating_sub(14);
        let name = subject_name(p);
        format!(
            " Chain · {} ",
            super::text::middle_ellipsis(&safe::text(&name), room)
        )
    });
    let mut block = pane_block(title, focused, m, t);
    let Some(pod) = pod else {
        f.render_widget(Paragraph::new("no pod selected").block(block), area);
        return;
    };
    block = block
        .title_bottom(Line::from(format!(" {}/{} ", m.link + 1, pod.links.len())).right_aligned());
    let room = usize::from(area.width).saturating_sub(2 + 2 + 16);
    let items: Vec<ListItem<'_>> = pod.links.iter().map(|l| chain_row(l, room, t)).collect();
    let list = List::new(items).block(block).highlight_style(if focused {
        t.selected()
    } else {
        t.bold()
    });
    let mut state = ListState::default().with_selected(Some(m.link));
    f.render_stateful_widget(list, area, &mut state);
}

/// A chain row: status, link, summary, and at the right edge what the verdict rests on when a
/// probe is involved (`observed` or `predicted`; links judged from objects say nothing).
fn chain_row(l: &crate::analysis::LinkResult, room: usize, t: Theme) -> ListItem<'static> {
    use crate::analysis::basis::Basis;
    let tag = match l.basis {
        Basis::Objects => "",
        Basis::Observed => " observed",
        Basis::Predicted => " predicted",
    };
    let room = room.saturating_sub(tag.len());
    let summary = safe::text(&l.summary);
    let summary = super::text::end_ellipsis(&summary, room).into_owned();
    let pad = room.saturating_sub(super::text::width(&summary));
    ListItem::new(Line::from(vec![
        Span::styled(format!("{} ", glyph(l.status)), t.status(l.status)),
        Span::styled(format!("{:<16}", l.link.name()), t.bold()),
        Span::raw(summary),
        Span::raw(" ".repeat(pad)),
        Span::styled(tag, t.dim()),
    ]))
}

fn draw_footer(f: &mut Frame<'_>, area: Rect, m: &Model, t: Theme) {
    let width = usize::from(area.width);
    let always = super::keymap::ALWAYS;
    let line = if let Some(cmd) = &m.command {
        Line::from(vec![
            Span::styled(":", t.bold()),
            Span::raw(cmd.clone()),
            Span::raw("▏"),
            Span::styled(
                "  ns [NAME] · ctx [NAME] · q · Enter runs · Esc closes",
                t.dim(),
            ),
        ])
    } else if m.editing_filter {
        Line::from(vec![
            Span::styled("/", t.bold()),
            Span::raw(m.filter.clone()),
            Span::raw("▏"),
            Span::styled("  !text inverts · Enter keeps · Esc clears", t.dim()),
        ])
    } else if let Some(msg) = &m.message {
        // The message, and still how to get help and how to leave.
        let room = width.saturating_sub(always.chars().count() + 3);
        let msg = super::text::middle_ellipsis(&safe::text(msg), room).into_owned();
        let gap = width.saturating_sub(msg.chars().count() + always.chars().count());
        Line::from(vec![
            Span::raw(msg),
            Span::raw(" ".repeat(gap.max(1))),
            Span::styled(always, t.dim()),
        ])
    } else {
        Line::styled(super::keymap::footer(width), t.dim())
    };
    f.render_widget(Paragraph::new(line), area);
}
