//! The detail pane: the selected link's findings, evidence and fix, or an inspection tab's
//! rows. Lines are wrapped here, to the pane's width (prose at spaces, fixes only where a shell
//! reads the same command back), so the pane scrolls by whole lines and says where it is.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::{Theme, glyph, pane_title};
use crate::analysis::{Evidence, LinkResult, PodChain};
use crate::output::safe;
use crate::tui::model::{Concerns, Model, Pane, Tab};
use crate::tui::text::{wrap_command, wrap_words};

/// Prose after a styled label, wrapped to `width`; later lines indented by `indent`.
fn labelled(
    label: (String, Style),
    text: &str,
    style: Style,
    width: usize,
    indent: usize,
) -> Vec<Line<'static>> {
    let first = label.0.chars().count();
    let mut lines = Vec::new();
    for (i, part) in wrap_words(
        text,
        width.saturating_sub(indent),
        first.saturating_sub(indent),
    )
    .into_iter()
    .enumerate()
    {
        lines.push(if i == 0 {
            Line::from(vec![
                Span::styled(label.0.clone(), label.1),
                Span::styled(part, style),
            ])
        } else {
            Line::from(Span::styled(format!("{}{part}", " ".repeat(indent)), style))
        });
    }
    lines
}

fn evidence_lines(e: &Evidence, t: Theme, width: usize) -> Vec<Line<'static>> {
    let mut text = safe::text(&e.value);
    if let Some(x) = &e.expected {
        text.push_str(&format!(" (expected {})", safe::text(x)));
    }
    if let Some(n) = &e.note {
        text.push_str(&format!(" — {}", safe::text(n)));
    }
    labelled(
        (format!("  {}: ", safe::text(&e.label)), t.dim()),
        &text,
        Style::default(),
        width,
        4,
    )
}

/// The Link tab's lines for `width` columns.
fn link_lines(l: &LinkResult, t: Theme, width: usize) -> Vec<Line<'static>> {
    let mut lines: Vec<Line<'static>> = Vec::new();
    for fd in &l.findings {
        let s = fd.severity.status();
        lines.extend(labelled(
            (format!("{} {} ", glyph(s), fd.code), t.status(s)),
            &fd.title,
            t.bold(),
            width,
            2,
        ));
        lines.extend(labelled(
            ("  ".into(), Style::default()),
            &safe::text(&fd.message),
            Style::default(),
            width,
            2,
        ));
        for e in &fd.evidence {
            lines.extend(evidence_lines(e, t, width));
        }
        if let Some(fix) = &fd.fix {
            let fix = crate::untrusted::visible::visible(fix).into_owned();
            // Continuation lines start under "fix", so a long word has the most room.
            for (i, part) in wrap_command(&fix, width.saturating_sub(2), 5)
                .into_iter()
                .enumerate()
            {
                lines.push(if i == 0 {
                    Line::from(vec![Span::styled("  fix: ", t.bold()), Span::raw(part)])
                } else {
                    Line::raw(format!("  {part}"))
                });
            }
        }
        lines.extend(labelled(
            ("  ".into(), t.dim()),
            &fd.explanation,
            t.dim(),
            width,
            2,
        ));
    }
    for e in &l.evidence {
        lines.extend(evidence_lines(e, t, width));
    }
    if lines.is_empty() {
        lines.extend(labelled(
            (String::new(), Style::default()),
            &safe::text(&l.summary),
            Style::default(),
            width,
            0,
        ));
    }
    lines
}

/// An inspection tab's rows: a label column, the value wrapped beside it, a note under it.
fn row_lines(m: &Model, tab: Tab, t: Theme, width: usize) -> Vec<Line<'static>> {
    let Some(view) = m.described_current() else {
        let text = match (&m.error, m.current()) {
            (Some((Concerns::View, e)), _) => format!("✗ {}", safe::text(e)),
            (_, Some(_)) => "reading…".into(),
            (_, None) => "no pod selected".into(),
        };
        return labelled((String::new(), Style::default()), &text, t.bold(), width, 0);
    };
    let rows = match tab {
        Tab::ServiceAccount => &view.service_account,
        Tab::Env => &view.env,
        Tab::Credentials => &view.credentials,
        Tab::Token => &view.token,
        Tab::Probes | Tab::Link => &view.probes,
    };
    let label_width = rows
        .iter()
        .map(|r| safe::text(&r.label).chars().count())
        .max()
        .unwrap_or(0)
        .min(width / 3);
    let mut lines = Vec::new();
    for r in rows {
        let mark = match r.status {
            Some(s) => (format!("{} ", glyph(s)), t.status(s)),
            None => ("  ".to_string(), Style::default()),
        };
        let label = safe::text(&r.label);
        let label = crate::tui::text::middle_ellipsis(&label, label_width).into_owned();
        let mut first = labelled(
            (format!("{label:<label_width$}  "), t.dim()),
            &safe::text(&r.value),
            Style::default(),
            width.saturating_sub(2),
            label_width + 4,
        );
        if let Some(head) = first.first_mut() {
            head.spans.insert(0, Span::styled(mark.0, mark.1));
        }
        for l in first.iter_mut().skip(1) {
            l.spans.insert(0, Span::raw("  "));
        }
        lines.extend(first);
        // The comparison goes under the value, so the two line up for reading.
        if let Some(n) = r.note.as_ref().filter(|n| !n.is_empty()) {
            lines.extend(labelled(
                (" ".repeat(label_width + 4), t.dim()),
                &safe::text(n),
                t.dim(),
                width,
                label_width + 4,
            ));
        }
    }
    lines
}

/// The pane's lines at `width` inner columns.
fn lines(m: &Model, pod: Option<&PodChain>, t: Theme, width: usize) -> Vec<Line<'static>> {
    match m.tab {
        Tab::Link => match pod.and_then(|p| p.links.get(m.link)) {
            Some(l) => link_lines(l, t, width),
            None => Vec::new(),
        },
        tab => row_lines(m, tab, t, width),
    }
}

/// How many lines the detail pane holds and how many it shows, on the model's screen: what
/// `update` scrolls within.
pub fn detail_len(m: &Model) -> (usize, usize) {
    let area = super::areas(m.screen, m).detail;
    let pod = m.current();
    let n = lines(m, pod, Theme { color: false }, inner_width(area)).len();
    (n, usize::from(area.height.saturating_sub(2)))
}

fn inner_width(area: Rect) -> usize {
    usize::from(area.width.saturating_sub(2))
}

/// `1 Link │ 2 ServiceAccount │ ...` with the open tab highlighted; short names when the full
/// ones do not fit in `width`.
fn tab_bar(open: Tab, t: Theme, width: usize) -> Line<'static> {
    let full: usize = Tab::ALL
        .iter()
        .enumerate()
        .map(|(i, tab)| {
            format!("{} {}", i + 1, tab.title()).chars().count() + 3 * usize::from(i > 0)
        })
        .sum();
    let short = full > width;
    let mut spans = Vec::new();
    for (i, tab) in Tab::ALL.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(if short { "│" } else { " │ " }, t.dim()));
        }
        let name = if short { tab.short() } else { tab.title() };
        let label = format!("{} {name}", i + 1);
        spans.push(if *tab == open {
            Span::styled(label, t.selected())
        } else {
            Span::styled(label, t.dim())
        });
    }
    Line::from(spans)
}

pub fn draw(f: &mut Frame<'_>, area: Rect, m: &Model, pod: Option<&PodChain>, t: Theme) {
    let focused = m.pane == Pane::Detail;
    let width = inner_width(area);
    let all = lines(m, pod, t, width);
    let height = usize::from(area.height.saturating_sub(2));
    let top = m.detail_scroll.min(all.len().saturating_sub(height));
    let right = match (m.tab, pod.and_then(|p| p.links.get(m.link))) {
        // What the verdict rests on, so a prediction is not read as an observation.
        (Tab::Link, Some(l)) => format!(
            " {} · {} · {} ",
            l.link.name(),
            l.status.name(),
            l.basis.name()
        ),
        _ => String::new(),
    };
    let bar_room = width.saturating_sub(right.chars().count() + 2);
    let mut tabs = tab_bar(m.tab, t, bar_room);
    if focused {
        tabs.spans
            .insert(0, Span::raw(pane_title(String::new(), true)));
    }
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.focus(focused))
        .title(tabs)
        .title(Line::from(right).right_aligned());
    if all.len() > height {
        let end = (top + height).min(all.len());
        let more = if end < all.len() { " ↓ more" } else { "" };
        block = block.title_bottom(
            Line::from(format!(" {}-{end} of {}{more} ", top + 1, all.len())).right_aligned(),
        );
    }
    let shown: Vec<Line<'static>> = all.into_iter().skip(top).take(height).collect();
    f.render_widget(Paragraph::new(shown).block(block), area);
}
