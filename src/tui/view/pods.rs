//! The pods pane: columns by priority (the name, the verdict and the broken link always; the
//! ServiceAccount, identity and owner as the width allows), names shortened in the middle so
//! their distinguishing tails show, and where the selection is in the list.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use super::{Theme, glyph, pane_block};
use crate::analysis::{Link, PodChain, Status};
use crate::output::safe;
use crate::tui::model::{Activity, Concerns, Model, Pane, Sort};
use crate::tui::text::middle_ellipsis;

/// Pod rows the pods pane has room for (inside its border, under its header).
pub fn pod_rows(pods: Rect) -> usize {
    usize::from(pods.height.saturating_sub(3)).max(1)
}

/// The first pod row shown: the selection stays on screen, at the bottom edge when moving down.
pub fn pods_top(selected: usize, rows: usize) -> usize {
    selected.saturating_sub(rows.saturating_sub(1))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Pod,
    Owner,
    ServiceAccount,
    Identity,
    BreaksAt,
}

impl Column {
    fn header(self) -> &'static str {
        match self {
            Column::Pod => "POD",
            Column::Owner => "OWNER",
            Column::ServiceAccount => "SA",
            Column::Identity => "IDENTITY",
            Column::BreaksAt => "BREAKS AT",
        }
    }

    fn sorted_by(self, sort: Sort) -> bool {
        matches!(
            (self, sort),
            (Column::Pod, Sort::Name)
                | (Column::BreaksAt, Sort::BreaksAt)
                | (Column::ServiceAccount, Sort::ServiceAccount)
                | (Column::Identity, Sort::Identity)
        )
    }

    fn text(self, p: &PodChain, wide: bool) -> String {
        match self {
            Column::Pod if p.template_only && wide => format!("{}/(no pod)", p.pod.namespace),
            Column::Pod if p.template_only => {
                format!("{}/{}", p.pod.namespace, p.workload.kubectl_ref())
            }
            Column::Pod => p.pod.to_string(),
            Column::Owner => p.workload.kubectl_ref(),
            Column::ServiceAccount => p.service_account.clone(),
            Column::Identity => p.identity.clone().unwrap_or_else(|| "-".into()),
            Column::BreaksAt => p.broken_link().map_or("-", |l| l.link.name()).to_string(),
        }
    }
}

/// The columns a pane of `inner` columns shows and their widths; the name takes what is left.
fn columns(inner: u16) -> Vec<(Column, u16)> {
    let breaks = Link::ALL.iter().map(|l| l.name().len()).max().unwrap_or(9) as u16;
    let share = |pct: u16| inner * pct / 100;
    let mut extra = Vec::new();
    if inner >= 90 {
        extra.push((Column::Owner, share(20)));
    }
    if inner >= 50 {
        extra.push((
            Column::ServiceAccount,
            share(if inner >= 90 { 14 } else { 18 }),
        ));
    }
    if inner >= 70 {
        extra.push((Column::Identity, share(14)));
    }
    // Glyph, spacing between columns, the broken link.
    let fixed: u16 = 1 + breaks + extra.iter().map(|(_, w)| w).sum::<u16>();
    let gaps = 2 + extra.len() as u16;
    let name = inner.saturating_sub(fixed + gaps).max(8);
    let mut out = vec![(Column::Pod, name)];
    out.extend(extra);
    out.push((Column::BreaksAt, breaks));
    out
}

/// Width the names do not need goes to the other columns that do, in their order.
fn fitted(mut cols: Vec<(Column, u16)>, rows: &[&PodChain], wide: bool) -> Vec<(Column, u16)> {
    let need = |c: Column| {
        rows.iter()
            .map(|p| super::super::text::width(&c.text(p, wide)))
            .max()
            .unwrap_or(0)
            .max(c.header().len() + 1) as u16
    };
    // The broken link's column as wide as its longest name here; the rest goes to the name.
    if let Some(last) = cols.last_mut() {
        let narrower = last.1.saturating_sub(need(Column::BreaksAt));
        last.1 -= narrower;
        cols[0].1 += narrower;
    }
    let spare = cols[0].1.saturating_sub(need(Column::Pod));
    let mut slack = spare;
    for (c, w) in cols.iter_mut().skip(1) {
        if *c == Column::BreaksAt {
            continue;
        }
        let more = need(*c).saturating_sub(*w).min(slack);
        *w += more;
        slack -= more;
    }
    cols[0].1 -= spare - slack;
    cols
}

fn title(m: &Model, shown: usize) -> String {
    let mut title = " Pods".to_string();
    if m.sort != Sort::Name {
        title.push_str(&format!(" · by {}", m.sort.name()));
    }
    if !m.filter.is_empty() {
        let all = m.in_namespace();
        title.push_str(&format!(" · /{} {shown} of {all}", safe::text(&m.filter)));
    }
    title.push(' ');
    title
}

pub fn draw(f: &mut Frame<'_>, area: Rect, m: &Model, pods: &[&PodChain], t: Theme) {
    let focused = m.pane == Pane::Pods;
    let mut block = pane_block(title(m, pods.len()), focused, m, t);
    if !matches!(m.error, Some((Concerns::Pods, _)))
        && let Some(g) = m.report.as_ref().and_then(|r| r.pods_not_read())
    {
        // An empty list is not "nothing wrong" when the pods could not be listed.
        block = block.title_bottom(Line::styled(
            format!(" ? pods not read: {} ", safe::text(&g.error)),
            t.status(Status::Unknown),
        ));
    }
    if m.report.is_none() {
        let text = match m.activity() {
            Activity::Busy { what, .. } => format!("{what}…"),
            Activity::Idle => m.message.clone().unwrap_or_else(|| "no data".into()),
        };
        f.render_widget(Paragraph::new(safe::text(&text)).block(block), area);
        return;
    }
    if !pods.is_empty() {
        block = block.title_bottom(
            Line::from(format!(" {}/{} ", m.selected + 1, pods.len())).right_aligned(),
        );
    }
    // Only the rows on screen are built; the window is a pure function of the selection, so
    // a click maps back to the same row.
    let rows = pod_rows(area);
    let offset = pods_top(m.selected, rows);
    let cols = columns(area.width.saturating_sub(2));
    let wide = cols.iter().any(|(c, _)| *c == Column::Owner);
    let window: Vec<&PodChain> = pods.iter().skip(offset).take(rows).copied().collect();
    let cols = fitted(cols, &window, wide);
    let body = window.iter().map(|p| {
        let v = p.verdict();
        let mut cells = vec![Cell::from(Span::styled(glyph(v), t.status(v)))];
        for (c, w) in &cols {
            let text = safe::text(&c.text(p, wide));
            let text = middle_ellipsis(&text, usize::from(*w)).into_owned();
            cells.push(match c {
                Column::BreaksAt => Cell::from(Span::styled(text, t.status(v))),
                Column::Pod if p.template_only => Cell::from(Span::styled(text, t.dim())),
                _ => Cell::from(text),
            });
        }
        Row::new(cells)
    });
    let mut header = vec![Cell::from(if m.sort == Sort::Verdict { "▼" } else { "" })];
    header.extend(cols.iter().map(|(c, _)| {
        Cell::from(if c.sorted_by(m.sort) {
            format!("{}▼", c.header())
        } else {
            c.header().to_string()
        })
    }));
    let mut widths = vec![Constraint::Length(1)];
    widths.extend(cols.iter().map(|(_, w)| Constraint::Length(*w)));
    let table = Table::new(body, widths)
        .header(Row::new(header).style(t.bold()))
        .block(block)
        .row_highlight_style(t.selected());
    let mut state =
        TableState::default().with_selected((!pods.is_empty()).then_some(m.selected - offset));
    f.render_stateful_widget(table, area, &mut state);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_and_the_broken_link_always_fit_and_extras_come_with_width() {
        for inner in [30, 38, 58, 78, 98, 118, 158, 198] {
            let cols = columns(inner);
            let used: u16 = 1 + cols.iter().map(|(_, w)| w).sum::<u16>() + cols.len() as u16;
            assert!(used <= inner.max(30), "{inner}: {used}");
            assert_eq!(cols[0].0, Column::Pod);
            assert_eq!(cols.last().map(|c| c.0), Some(Column::BreaksAt));
            assert!(cols[0].1 >= 8);
        }
        assert_eq!(
            columns(78).len(),
            4,
            "80 columns: name, SA, identity, broken link"
        );
        assert_eq!(columns(40).len(), 2, "name and broken link");
        assert_eq!(columns(198).len(), 5);
    }
}
