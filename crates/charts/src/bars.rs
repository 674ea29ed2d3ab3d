//! Horizontal bar charts in titled groups over a 0–100% grid: long labels stay readable,
//! and every value is also written as text, clear of its whiskers and the chance line.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::ChartError;
use crate::canvas::{Canvas, GRID, font, truncate, xml_text};

const ROW_HEIGHT: i32 = 30;
const GROUP_GAP: i32 = 16;
const PLOT_WIDTH: i32 = 520;
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
];

pub struct Bar {
    pub label: String,
    pub detail: String,
    pub value: f64,
    pub interval: Option<(f64, f64)>,
    pub colour: RGBColor,
    pub tag: &'static str,
}

pub struct Group {
    pub title: String,
    pub bars: Vec<Bar>,
}

/// Longest bar label drawn, in characters; the detail line may be 8 longer.
const MAX_LABEL: usize = 64;

/// Where a bar chart's parts go, in pixels: the labels to the left of `left`, the plot
/// (0% at `left`, 100% at `left + PLOT_WIDTH`) from `top` down to `plot_bottom`.
struct BarLayout {
    left: i32,
    top: i32,
    width: i32,
    height: i32,
    plot_bottom: i32,
}

impl BarLayout {
    fn new(groups: &[Group]) -> Self {
        // Rough sans-serif advance widths: 7 px a character at 13 px, 6 px at 10 px.
        let label_width = groups
            .iter()
            .flat_map(|g| &g.bars)
            .map(|b| {
                let label = (b.label.chars().count() + b.tag.len()).min(MAX_LABEL) as i32 * 7;
                let detail = b.detail.chars().count().min(MAX_LABEL + 8) as i32 * 6;
                label.max(detail)
            })
            .max()
            .unwrap_or(70)
            + 24;
        let left = label_width.max(160);
        let top = 64;
        let bars: i32 = groups.iter().map(|g| g.bars.len() as i32).sum();
        let height = top + bars * ROW_HEIGHT + groups.len() as i32 * (ROW_HEIGHT + GROUP_GAP) + 50;
        BarLayout {
            left,
            top,
            width: left + PLOT_WIDTH + 170,
            height,
            plot_bottom: height - 40,
        }
    }

    /// The x of a share in [0, 1] (clamped).
    fn x_of(&self, v: f64) -> i32 {
        self.left + (v.clamp(0.0, 1.0) * f64::from(PLOT_WIDTH)) as i32
    }
}

/// Horizontal bars in titled groups over a 0–100% grid, with an optional chance line.
pub fn bar_chart(
    path: &Path,
    title: &str,
    groups: &[Group],
    chance: Option<f64>,
) -> Result<(), ChartError> {
    let layout = BarLayout::new(groups);
    let canvas = Canvas::new(path, layout.width, layout.height)?;
    canvas.text(xml_text(title), (12, 24), font(17).color(&BLACK))?;
    draw_grid(&canvas, &layout)?;
    let mut y = layout.top;
    for group in groups {
        let style = font(13)
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        canvas.text(xml_text(&group.title), (12, y + ROW_HEIGHT / 2), style)?;
        y += ROW_HEIGHT;
        for bar in &group.bars {
            draw_bar(&canvas, &layout, bar, y, chance.map(|c| layout.x_of(c)))?;
            y += ROW_HEIGHT;
        }
        y += GROUP_GAP;
    }
    if let Some(chance) = chance {
        draw_chance(&canvas, &layout, chance)?;
    }
    canvas.present()
}

/// Vertical lines every 10%, labelled under the plot.
fn draw_grid(canvas: &Canvas, layout: &BarLayout) -> Result<(), ChartError> {
    for tick in 0..=10 {
        let x = layout.x_of(f64::from(tick) / 10.0);
        canvas.line(
            vec![(x, layout.top - 6), (x, layout.plot_bottom)],
            GRID.stroke_width(1),
        )?;
        let style = font(11)
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top));
        canvas.text(
            format!("{}%", tick * 10),
            (x, layout.plot_bottom + 6),
            style,
        )?;
    }
    Ok(())
}

/// One bar in the row starting at `y`: its label (and detail line), the bar, its interval
/// whiskers and its value, clear of the whiskers and of the chance line at `chance_x`.
fn draw_bar(
    canvas: &Canvas,
    layout: &BarLayout,
    bar: &Bar,
    y: i32,
    chance_x: Option<i32>,
) -> Result<(), ChartError> {
    draw_bar_label(canvas, layout, bar, y)?;
    let (y0, y1) = (y + 4, y + ROW_HEIGHT - 4);
    let left = layout.left;
    canvas.draw(&Rectangle::new(
        [(left, y0), (layout.x_of(bar.value).max(left + 1), y1)],
        bar.colour.filled(),
    ))?;
    let mut value_text = format!("{:.1}%", 100.0 * bar.value);
    let mut text_x = layout.x_of(bar.value);
    if let Some((low, high)) = bar.interval {
        let (xl, xh, ym) = (layout.x_of(low), layout.x_of(high), (y0 + y1) / 2);
        let whisker = BLACK.stroke_width(1);
        canvas.line(vec![(xl, ym), (xh, ym)], whisker)?;
        canvas.line(vec![(xl, y0 + 4), (xl, y1 - 4)], whisker)?;
        canvas.line(vec![(xh, y0 + 4), (xh, y1 - 4)], whisker)?;
        value_text = format!("{value_text} [{:.1}–{:.1}]", 100.0 * low, 100.0 * high);
        text_x = xh;
    }
    let style = font(12)
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let x = value_text_x(text_x, value_text.chars().count(), chance_x);
    canvas.text(value_text, (x, (y0 + y1) / 2), style)
}

/// Upper bound of a 12 px value text's advance per character (digits, `%`, `[`, `–`).
const VALUE_CHAR_WIDTH: i32 = 7;

/// Where a value text of `chars` characters starts: just right of `after` (the bar's end or
/// its upper whisker), or, when it would run across the chance line at `chance_x`, just past
/// that line. The canvas keeps 170 px right of 100% for it.
fn value_text_x(after: i32, chars: usize, chance_x: Option<i32>) -> i32 {
    let start = after + 6;
    let end = start + chars as i32 * VALUE_CHAR_WIDTH;
    match chance_x {
        Some(line) if start - 4 <= line && line <= end + 4 => line + 6,
        _ => start,
    }
}

/// The label right-aligned before the plot; with a detail line, the label sits just above
/// the row's middle and the detail just below.
fn draw_bar_label(
    canvas: &Canvas,
    layout: &BarLayout,
    bar: &Bar,
    y: i32,
) -> Result<(), ChartError> {
    let label = format!(
        "{}{}",
        truncate(&bar.label, MAX_LABEL - bar.tag.len()),
        bar.tag
    );
    let middle = y + ROW_HEIGHT / 2;
    let (v_pos, label_y) = if bar.detail.is_empty() {
        (VPos::Center, middle)
    } else {
        (VPos::Bottom, middle + 1)
    };
    let style = font(13).color(&BLACK).pos(Pos::new(HPos::Right, v_pos));
    canvas.text(label, (layout.left - 8, label_y), style)?;
    if !bar.detail.is_empty() {
        let style = font(10)
            .color(&RGBColor(0x66, 0x66, 0x66))
            .pos(Pos::new(HPos::Right, VPos::Top));
        canvas.text(
            truncate(&bar.detail, MAX_LABEL + 8),
            (layout.left - 8, middle + 2),
            style,
        )?;
    }
    Ok(())
}

/// A dashed red line at the chance level, labelled above the plot.
fn draw_chance(canvas: &Canvas, layout: &BarLayout, chance: f64) -> Result<(), ChartError> {
    let x = layout.x_of(chance);
    let red = RGBColor(0xd6, 0x27, 0x28);
    for segment in (layout.top..layout.plot_bottom).step_by(8) {
        canvas.line(
            vec![(x, segment), (x, (segment + 4).min(layout.plot_bottom))],
            red.stroke_width(2),
        )?;
    }
    let style = font(11)
        .color(&red)
        .pos(Pos::new(HPos::Center, VPos::Bottom));
    canvas.text(
        format!("chance {:.1}%", 100.0 * chance),
        (x, layout.top - 8),
        style,
    )
}

#[cfg(test)]
mod tests {
    use super::value_text_x;

    #[test]
    fn a_value_text_that_would_cross_the_chance_line_starts_past_it() {
        // 10 characters from x = 106: up to x = 176.
        assert_eq!(value_text_x(100, 10, None), 106);
        assert_eq!(
            value_text_x(100, 10, Some(300)),
            106,
            "the line is far right"
        );
        assert_eq!(
            value_text_x(100, 10, Some(50)),
            106,
            "the line is left of it"
        );
        assert_eq!(value_text_x(100, 10, Some(150)), 156, "across it");
        assert_eq!(value_text_x(100, 10, Some(104)), 110, "at its start");
    }
}
