//! What opens over the panes: the help (scrolls when the screen is short, and always says how
//! to close it and quit), the `:ns`/`:ctx` pickers, and the YAML and describe views.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, List, ListItem, ListState, Paragraph};

use super::Theme;
use crate::output::safe;
use crate::tui::keymap::BINDINGS;
use crate::tui::model::{Model, PickerKind};
use crate::tui::text::middle_ellipsis;

pub fn draw(f: &mut Frame<'_>, m: &Model, t: Theme) {
    if let Some(o) = &m.overlay {
        draw_overlay(f, o, t);
    }
    if let Some(p) = &m.picker {
        draw_picker(f, p, t);
    }
    if m.help {
        draw_help(f, m.help_scroll, t);
    }
}

/// A centred box of at most `w` x `h` cells.
fn centred(area: Rect, w: u16, h: u16) -> Rect {
    let (w, h) = (w.min(area.width), h.min(area.height));
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// Help rows shown on a screen of `height` rows, and how many there are.
pub fn help_rows(height: u16) -> (usize, usize) {
    (usize::from(height.saturating_sub(2)), BINDINGS.len())
}

fn draw_help(f: &mut Frame<'_>, scroll: usize, t: Theme) {
    let popup = centred(f.area(), 72, BINDINGS.len() as u16 + 2);
    let (rows, all) = help_rows(popup.height);
    let top = scroll.min(all.saturating_sub(rows));
    let room = usize::from(popup.width.saturating_sub(12));
    let lines: Vec<Line<'_>> = BINDINGS
        .iter()
        .skip(top)
        .take(rows)
        .map(|b| {
            Line::from(vec![
                Span::styled(format!("{:>8}  ", b.keys), t.bold()),
                Span::raw(middle_ellipsis(b.description, room).into_owned()),
            ])
        })
        .collect();
    let mut block = Block::default()
        .borders(Borders::ALL)
        .title(" Keys · Esc closes · q quits ");
    if rows < all {
        let end = (top + rows).min(all);
        block = block.title_bottom(
            Line::from(format!(" {}-{end} of {all} · ↑↓ scroll ", top + 1)).right_aligned(),
        );
    }
    f.render_widget(Clear, popup);
    f.render_widget(Paragraph::new(lines).block(block), popup);
}

fn draw_picker(f: &mut Frame<'_>, p: &crate::tui::model::Picker, t: Theme) {
    let what = match p.kind {
        PickerKind::Namespace => "namespace",
        PickerKind::Context => "context",
    };
    let width = p
        .choices
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(0)
        .max(30) as u16
        + 4;
    let popup = centred(f.area(), width, p.choices.len() as u16 + 2);
    let items: Vec<ListItem<'_>> = p
        .choices
        .iter()
        .map(|c| ListItem::new(safe::text(c)))
        .collect();
    let list = List::new(items)
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {what} · Enter picks · Esc closes "))
                .title_bottom(
                    Line::from(format!(" {}/{} ", p.selected + 1, p.choices.len())).right_aligned(),
                ),
        )
        .highlight_style(t.selected());
    let mut state = ListState::default().with_selected(Some(p.selected));
    f.render_widget(Clear, popup);
    f.render_stateful_widget(list, popup, &mut state);
}

/// Rows the overlay shows on a screen of `height` rows.
pub fn overlay_rows(screen: Rect) -> usize {
    usize::from(screen.height.saturating_sub(4))
}

fn draw_overlay(f: &mut Frame<'_>, o: &crate::tui::model::Overlay, t: Theme) {
    let area = f.area();
    let popup = Rect {
        x: area.x,
        y: area.y + 1,
        width: area.width,
        height: area.height.saturating_sub(2),
    };
    let rows = overlay_rows(area);
    let top = o.scroll.min(o.lines.len().saturating_sub(rows));
    let lines: Vec<Line<'_>> = o
        .lines
        .iter()
        .skip(top)
        .take(rows)
        .map(|l| Line::raw(safe::text(l)))
        .collect();
    let end = (top + rows).min(o.lines.len());
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.focus(true))
        .title(format!(" {} · Esc closes ", safe::text(&o.title)))
        .title_bottom(
            Line::from(format!(" {}-{end} of {} ", top + 1, o.lines.len())).right_aligned(),
        );
    f.render_widget(Clear, popup);
    f.render_widget(Paragraph::new(lines).block(block), popup);
}
