//! Drawing: pure functions of `&Model` onto a ratatui frame. Nothing here changes state or
//! waits on anything.

use crate::output::safe;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, Cell, Clear, List, ListItem, ListState, Paragraph, Row, Table, TableState, Wrap,
};

use super::keymap::BINDINGS;
use super::model::{Activity, Concerns, Model, Pane, Source, Tab};
use crate::analysis::{LinkResult, PodChain, Status};

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

/// A pod's name; a workload with no pod is named as kubectl names it and marked.
fn subject_name(p: &PodChain) -> String {
    if p.template_only {
        format!("{}/{} (no pod)", p.pod.namespace, p.workload.kubectl_ref())
    } else {
        p.pod.to_string()
    }
}

/// The POD cell: a workload with no pod is dimmed, and where the OWNER column names it, the
/// cell says there is no pod; a narrow pane names the workload there instead.
fn subject_cell(p: &PodChain, t: Theme, wide: bool) -> Cell<'static> {
    if !p.template_only {
        return Cell::from(p.pod.to_string());
    }
    let text = if wide {
        format!("{}/(no pod)", p.pod.namespace)
    } else {
        format!("{}/{}", p.pod.namespace, p.workload.kubectl_ref())
    };
    Cell::from(Span::styled(text, t.dim()))
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

/// Where each pane is on a screen of this size; `update` maps mouse clicks with it.
pub struct Areas {
    pub title: Rect,
    pub pods: Rect,
    pub chain: Rect,
    pub detail: Rect,
    pub footer: Rect,
}

pub fn areas(screen: Rect) -> Areas {
    let [title, body, detail, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Percentage(45),
        Constraint::Min(6),
        Constraint::Length(1),
    ])
    .areas(screen);
    let [pods, chain] =
        Layout::horizontal([Constraint::Percentage(48), Constraint::Percentage(52)]).areas(body);
    Areas {
        title,
        pods,
        chain,
        detail,
        footer,
    }
}

/// Pod rows the pods pane has room for (inside its border, under its header).
pub fn pod_rows(pods: Rect) -> usize {
    usize::from(pods.height.saturating_sub(3)).max(1)
}

/// The first pod row shown: the selection stays on screen, at the bottom edge when moving down.
pub fn pods_top(selected: usize, rows: usize) -> usize {
    selected.saturating_sub(rows.saturating_sub(1))
}

pub fn draw(f: &mut Frame<'_>, m: &Model, t: Theme) {
    let Areas {
        title,
        pods,
        chain,
        detail,
        footer,
    } = areas(f.area());
    draw_title(f, title, m, t);
    // Filtered once per frame: with 10,000 pods this is most of a frame's work.
    let visible = m.visible();
    draw_pods(f, pods, m, &visible, t);
    let pod = visible.get(m.selected).copied();
    draw_chain(f, chain, m, pod, t);
    match m.tab {
        Tab::Link => draw_detail(f, detail, pod.and_then(|p| p.links.get(m.link)), t),
        tab => draw_rows(f, detail, m, tab, t),
    }
    draw_footer(f, footer, m, t);
    if m.help {
        draw_help(f, t);
    }
}

fn draw_title(f: &mut Frame<'_>, area: Rect, m: &Model, t: Theme) {
    let source = match &m.source {
        Source::World(w) => format!("world {w}"),
        Source::Live { context } => format!("context {context}"),
    };
    let source = match &m.namespace {
        Some(ns) => format!("{source} · namespace {ns}"),
        None => source,
    };
    let mut spans = vec![
        Span::styled("widiag", t.bold()),
        Span::raw(format!(" · {source}")),
    ];
    if let Some(r) = &m.report {
        let n = |s: Status| r.pods.iter().filter(|p| p.verdict() == s).count();
        let podless = r.pods.iter().filter(|p| p.template_only).count();
        let subjects = match podless {
            0 => format!("{} pods", r.pods.len()),
            w => format!("{} pods + {w} workloads with no pod", r.pods.len() - w),
        };
        spans.push(Span::raw(format!(
            " · {subjects}: {} fail, {} warn, {} unknown, {} pass",
            n(Status::Fail),
            n(Status::Warn),
            n(Status::Unknown),
            n(Status::Pass)
        )));
    }
    if let Activity::Busy { what, tick } = m.activity() {
        spans.push(Span::raw(format!(
            " · {} {what}",
            SPINNER[tick % SPINNER.len()]
        )));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_pods(f: &mut Frame<'_>, area: Rect, m: &Model, pods: &[&PodChain], t: Theme) {
    let focused = m.pane == Pane::Pods;
    let title = if m.filter.is_empty() {
        " Pods ".to_string()
    } else {
        format!(" Pods /{} ", m.filter)
    };
    let mut block = pane_block(title, focused, m, t);
    if !matches!(m.error, Some((Concerns::Pods, _)))
        && let Some(g) = m.report.as_ref().and_then(|r| r.pods_not_read())
    {
        // An empty list is not "nothing wrong" when the pods could not be listed.
        block = block.title_bottom(Line::styled(
            format!(" ? pods not read: {} ", g.error),
            t.status(Status::Unknown),
        ));
    }
    if m.report.is_none() {
        let text = match m.activity() {
            Activity::Busy { what, .. } => format!("{what}…"),
            Activity::Idle => m.message.clone().unwrap_or_else(|| "no data".into()),
        };
        f.render_widget(Paragraph::new(text).block(block), area);
        return;
    }
    // Only the rows on screen are built; the window is a pure function of the selection, so
    // a click maps back to the same row.
    let rows = pod_rows(area);
    let offset = pods_top(m.selected, rows);
    let window = pods.iter().skip(offset).take(rows);
    // The owner column only where it fits; a narrow pane keeps the names readable.
    let wide = area.width >= 90;
    let rows = window.map(|p| {
        let v = p.verdict();
        let broken = p.broken_link().map(|l| l.link.name()).unwrap_or("-");
        let mut cells = vec![
            Cell::from(Span::styled(glyph(v), t.status(v))),
            subject_cell(p, t, wide),
        ];
        if wide {
            cells.push(Cell::from(p.workload.kubectl_ref()));
        }
        cells.extend([
            Cell::from(p.service_account.clone()),
            Cell::from(p.identity.clone().unwrap_or_else(|| "-".into())),
            Cell::from(Span::styled(broken, t.status(v))),
        ]);
        Row::new(cells)
    });
    let (header, widths) = if wide {
        (
            Row::new(["", "POD", "OWNER", "SA", "IDENTITY", "BREAKS AT"]),
            vec![
                Constraint::Length(1),
                Constraint::Percentage(30),
                Constraint::Percentage(18),
                Constraint::Percentage(16),
                Constraint::Percentage(18),
                Constraint::Percentage(18),
            ],
        )
    } else {
        (
            Row::new(["", "POD", "SA", "IDENTITY", "BREAKS AT"]),
            vec![
                Constraint::Length(1),
                Constraint::Percentage(40),
                Constraint::Percentage(20),
                Constraint::Percentage(22),
                Constraint::Percentage(18),
            ],
        )
    };
    let header = header.style(t.bold());
    let table = Table::new(rows, widths)
        .header(header)
        .block(block)
        .row_highlight_style(t.selected());
    let mut state =
        TableState::default().with_selected((!pods.is_empty()).then_some(m.selected - offset));
    f.render_stateful_widget(table, area, &mut state);
}

/// The pods and chain panes' frame, with a failed read or probe said where its data would be.
fn pane_block(title: String, focused: bool, m: &Model, t: Theme) -> Block<'static> {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title)
        .border_style(t.focus(focused));
    match &m.error {
        Some((Concerns::Pods, e)) => {
            block.title_bottom(Line::styled(format!(" ✗ {e} "), t.status(Status::Fail)))
        }
        _ => block,
    }
}

fn draw_chain(f: &mut Frame<'_>, area: Rect, m: &Model, pod: Option<&PodChain>, t: Theme) {
    let focused = m.pane == Pane::Chain;
    let title = pod.map_or(" Chain ".into(), |p| {
        format!(" Chain · {} ", subject_name(p))
    });
    let block = pane_block(title, focused, m, t);
    let Some(pod) = pod else {
        f.render_widget(Paragraph::new("no pod selected").block(block), area);
        return;
    };
    let items: Vec<ListItem<'_>> = pod
        .links
        .iter()
        .map(|l| {
            ListItem::new(Line::from(vec![
                Span::styled(format!("{} ", glyph(l.status)), t.status(l.status)),
                Span::styled(format!("{:<16}", l.link.name()), t.bold()),
                Span::raw(safe::text(&l.summary)),
            ]))
        })
        .collect();
    let list = List::new(items).block(block).highlight_style(if focused {
        t.selected()
    } else {
        t.bold()
    });
    let mut state = ListState::default().with_selected(Some(m.link));
    f.render_stateful_widget(list, area, &mut state);
}

fn draw_detail(f: &mut Frame<'_>, area: Rect, link: Option<&LinkResult>, t: Theme) {
    let Some(l) = link else {
        f.render_widget(
            Block::default().borders(Borders::ALL).title(" Evidence "),
            area,
        );
        return;
    };
    let mut lines: Vec<Line<'_>> = Vec::new();
    for fd in &l.findings {
        let s = fd.severity.status();
        lines.push(Line::from(vec![
            Span::styled(format!("{} {} ", glyph(s), fd.code), t.status(s)),
            Span::styled(fd.title.to_string(), t.bold()),
        ]));
        lines.push(Line::raw(format!("  {}", safe::text(&fd.message))));
        for e in &fd.evidence {
            lines.push(evidence_line(e, t));
        }
        if let Some(fix) = &fd.fix {
            lines.push(Line::from(vec![
                Span::styled("  fix: ", t.bold()),
                Span::raw(crate::untrusted::visible::visible(fix).into_owned()),
            ]));
        }
        lines.push(Line::styled(format!("  {}", fd.explanation), t.dim()));
    }
    for e in &l.evidence {
        lines.push(evidence_line(e, t));
    }
    if lines.is_empty() {
        lines.push(Line::raw(safe::text(&l.summary)));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .title(tab_bar(Tab::Link, t))
        .title(Line::from(format!(" {} · {} ", l.link.name(), l.status.name())).right_aligned());
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

/// `1 Link │ 2 ServiceAccount │ ...` with the open tab highlighted.
fn tab_bar(open: Tab, t: Theme) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, tab) in Tab::ALL.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" │ ", t.dim()));
        }
        let label = format!("{} {}", i + 1, tab.title());
        spans.push(if *tab == open {
            Span::styled(label, t.selected())
        } else {
            Span::styled(label, t.dim())
        });
    }
    Line::from(spans)
}

/// An inspection tab: the facts behind the selected pod's chain, one row each.
fn draw_rows(f: &mut Frame<'_>, area: Rect, m: &Model, tab: Tab, t: Theme) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(tab_bar(tab, t));
    let Some(view) = m.described_current() else {
        let text = match (&m.error, m.current()) {
            (Some((Concerns::View, e)), _) => {
                Line::styled(format!("✗ {e}"), t.status(Status::Fail))
            }
            (_, Some(_)) => Line::raw("reading…"),
            (_, None) => Line::raw("no pod selected"),
        };
        f.render_widget(
            Paragraph::new(text).block(block).wrap(Wrap { trim: false }),
            area,
        );
        return;
    };
    let rows = match tab {
        Tab::ServiceAccount => &view.service_account,
        Tab::Env => &view.env,
        Tab::Credentials => &view.credentials,
        Tab::Token => &view.token,
        Tab::Probes | Tab::Link => &view.probes,
    };
    let width = rows
        .iter()
        .map(|r| safe::text(&r.label).chars().count())
        .max()
        .unwrap_or(0);
    let lines: Vec<Line<'_>> = rows
        .iter()
        .flat_map(|r| {
            let mut spans = vec![match r.status {
                Some(s) => Span::styled(format!("{} ", glyph(s)), t.status(s)),
                None => Span::raw("  "),
            }];
            spans.push(Span::styled(
                format!("{:<width$}  ", safe::text(&r.label)),
                t.dim(),
            ));
            spans.push(Span::raw(safe::text(&r.value)));
            let mut out = vec![Line::from(spans)];
            // The comparison goes under the value, so the two line up for reading.
            if let Some(n) = r.note.as_ref().filter(|n| !n.is_empty()) {
                out.push(Line::styled(
                    format!("  {:<width$}  {}", "", safe::text(n)),
                    t.dim(),
                ));
            }
            out
        })
        .collect();
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

fn evidence_line(e: &crate::analysis::Evidence, t: Theme) -> Line<'static> {
    let mut spans = vec![
        Span::styled(format!("  {}: ", e.label), t.dim()),
        Span::raw(safe::text(&e.value)),
    ];
    if let Some(x) = &e.expected {
        spans.push(Span::raw(format!(" (expected {})", safe::text(x))));
    }
    if let Some(n) = &e.note {
        spans.push(Span::styled(format!(" — {n}"), t.dim()));
    }
    Line::from(spans)
}

fn draw_footer(f: &mut Frame<'_>, area: Rect, m: &Model, t: Theme) {
    let line = if let Some(cmd) = &m.command {
        Line::from(vec![
            Span::styled(":", t.bold()),
            Span::raw(cmd.clone()),
            Span::raw("▏"),
            Span::styled(
                "   ns NAME · ns · ctx NAME · Enter runs · Esc closes",
                t.dim(),
            ),
        ])
    } else if m.editing_filter {
        Line::from(vec![
            Span::styled("/", t.bold()),
            Span::raw(m.filter.clone()),
            Span::raw("▏"),
        ])
    } else if let Some(msg) = &m.message {
        Line::raw(msg.clone())
    } else {
        Line::styled(super::keymap::footer(), t.dim())
    };
    f.render_widget(Paragraph::new(line), area);
}

fn draw_help(f: &mut Frame<'_>, t: Theme) {
    let area = f.area();
    let w = area.width.min(70);
    let h = (BINDINGS.len() as u16 + 2).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    let lines: Vec<Line<'_>> = BINDINGS
        .iter()
        .map(|b| {
            Line::from(vec![
                Span::styled(format!("{:>7}  ", b.keys), t.bold()),
                Span::raw(b.description),
            ])
        })
        .collect();
    f.render_widget(Clear, popup);
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(" Keys ")),
        popup,
    );
}
