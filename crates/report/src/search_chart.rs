//! `search_<pair>.svg`: a prompt search's dev objective step by step, against the test
//! objective of what it chose. Drawn with the same primitives as the other charts.

use std::path::{Path, PathBuf};

use ontosweep_charts::{Canvas, GRID, font, truncate};
use ontosweep_results::{SearchOutcome, SweepResults};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::ReportError;
use crate::names::ReportFiles;
use crate::search_files::{move_label, searches};

const LEFT: i32 = 70;
const TOP: i32 = 64;
const PLOT_HEIGHT: i32 = 240;
/// Room right of the plot for the test line's label.
const RIGHT: i32 = 230;
const LEGEND_ROW: i32 = 18;
/// Space between the plot's sides and the first and last steps.
const PAD: i32 = 24;
/// Steps up to which each point also shows its value.
const VALUES_SHOWN: usize = 15;
const MAX_TITLE: usize = 120;
const MAX_MOVE: usize = 90;
const LINE: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const TEST: RGBColor = RGBColor(0xd6, 0x27, 0x28);
const GREY: RGBColor = RGBColor(0x66, 0x66, 0x66);

pub fn write_all(
    results: &SweepResults,
    names: &ReportFiles,
    dir: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut files = Vec::new();
    for (m, o, model, ontology, outcome) in searches(results) {
        let name = names.search_svg(m, o);
        let title = format!(
            "{} · {}: prompt search, dev {} by step ({} dev images)",
            model.model, ontology.ontology, outcome.objective, outcome.dev_images
        );
        chart(&dir.join(&name), &title, outcome)?;
        files.push(PathBuf::from(name));
    }
    Ok(files)
}

/// Where the parts go: the plot spans `LEFT..LEFT + width` and `TOP..TOP + PLOT_HEIGHT`;
/// the y axis shows `low..=high` percent.
struct Layout {
    steps: usize,
    width: i32,
    low: i32,
    high: i32,
}

impl Layout {
    fn new(outcome: &SearchOutcome) -> Self {
        let steps = outcome.steps.len();
        let values = outcome
            .steps
            .iter()
            .map(|s| s.dev_objective)
            .chain([outcome.dev_objective, outcome.test_objective])
            .filter(|v| v.is_finite())
            .map(|v| 100.0 * v.clamp(0.0, 1.0));
        let (min, max) = values.fold((100.0_f64, 0.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let (min, max) = if min > max { (0.0, 100.0) } else { (min, max) };
        // Zoomed to the values with a margin, on a 10% grid: differences stay visible.
        let mut low = (((min - 5.0) / 10.0).floor() * 10.0).clamp(0.0, 90.0) as i32;
        let high = (((max + 5.0) / 10.0).ceil() * 10.0).clamp(10.0, 100.0) as i32;
        if high - low < 20 {
            low = (high - 20).max(0);
        }
        Layout {
            steps,
            width: (steps as i32 * 48).clamp(360, 960),
            low,
            high: high.max(low + 20),
        }
    }

    /// Steps spread over the plot, clear of its edges.
    fn x_of(&self, step: usize) -> i32 {
        if self.steps <= 1 {
            return LEFT + self.width / 2;
        }
        let inner = self.width - 2 * PAD;
        LEFT + PAD + (step.saturating_sub(1) as i32 * inner) / (self.steps as i32 - 1)
    }

    fn y_of(&self, share: f64) -> i32 {
        let percent = if share.is_finite() {
            100.0 * share
        } else {
            0.0
        };
        let percent = percent.clamp(f64::from(self.low), f64::from(self.high));
        let fraction = (percent - f64::from(self.low)) / f64::from(self.high - self.low);
        TOP + PLOT_HEIGHT - (fraction * f64::from(PLOT_HEIGHT)) as i32
    }

    fn tick(&self) -> i32 {
        if self.high - self.low <= 30 { 5 } else { 10 }
    }

    fn plot_bottom(&self) -> i32 {
        TOP + PLOT_HEIGHT
    }

    fn legend_top(&self) -> i32 {
        self.plot_bottom() + 56
    }

    fn height(&self) -> i32 {
        self.legend_top() + (self.steps.max(1) as i32 + 1) * LEGEND_ROW + 16
    }
}

fn percent(share: f64) -> String {
    format!("{:.1}%", 100.0 * share)
}

fn chart(path: &Path, title: &str, outcome: &SearchOutcome) -> Result<(), ReportError> {
    let layout = Layout::new(outcome);
    let title = truncate(title, MAX_TITLE);
    let width = (LEFT + layout.width + RIGHT).max(title.chars().count() as i32 * 8 + 24);
    let canvas = Canvas::new(path, width, layout.height())?;
    canvas.text(title, (12, 24), font(15).color(&BLACK))?;
    draw_axes(&canvas, &layout, &outcome.objective)?;
    draw_path(&canvas, &layout, outcome)?;
    draw_test(&canvas, &layout, outcome)?;
    draw_legend(&canvas, &layout, outcome)?;
    Ok(canvas.present()?)
}

/// Horizontal grid lines with percent labels, step numbers under the plot.
fn draw_axes(canvas: &Canvas, layout: &Layout, objective: &str) -> Result<(), ReportError> {
    let right = LEFT + layout.width;
    for percent in (layout.low..=layout.high).step_by(layout.tick() as usize) {
        let y = layout.y_of(f64::from(percent) / 100.0);
        canvas.line(vec![(LEFT, y), (right, y)], GRID.stroke_width(1))?;
        let style = font(11)
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        canvas.text(format!("{percent}%"), (LEFT - 8, y), style)?;
    }
    let style = font(12)
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Bottom));
    canvas.text(
        truncate(&format!("dev {objective}"), 40),
        (LEFT - 40, TOP - 10),
        style,
    )?;
    let bottom = layout.plot_bottom();
    canvas.line(vec![(LEFT, bottom), (right, bottom)], BLACK.stroke_width(1))?;
    // Every step numbered while they fit, otherwise every k-th and the last.
    let every = layout.steps.div_ceil(30).max(1);
    for step in 1..=layout.steps {
        if step % every != 0 && step != 1 && step != layout.steps {
            continue;
        }
        let x = layout.x_of(step);
        canvas.line(vec![(x, bottom), (x, bottom + 4)], BLACK.stroke_width(1))?;
        let style = font(11)
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top));
        canvas.text(step.to_string(), (x, bottom + 6), style)?;
    }
    let style = font(12)
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    Ok(canvas.text(
        "step".to_string(),
        (LEFT + layout.width / 2, bottom + 24),
        style,
    )?)
}

/// The dev objective after each step: a line through the points.
fn draw_path(canvas: &Canvas, layout: &Layout, outcome: &SearchOutcome) -> Result<(), ReportError> {
    if outcome.steps.is_empty() {
        let style = font(13)
            .color(&GREY)
            .pos(Pos::new(HPos::Center, VPos::Center));
        return Ok(canvas.text(
            "no moves: the search stopped before its first step".to_string(),
            (LEFT + layout.width / 2, TOP + PLOT_HEIGHT / 2),
            style,
        )?);
    }
    let points: Vec<(i32, i32)> = outcome
        .steps
        .iter()
        .map(|s| (layout.x_of(s.step), layout.y_of(s.dev_objective)))
        .collect();
    canvas.line(points.clone(), LINE.stroke_width(2))?;
    for (&point, step) in points.iter().zip(&outcome.steps) {
        canvas.draw(&Circle::new(point, 4, LINE.filled()))?;
        if outcome.steps.len() <= VALUES_SHOWN {
            let style = font(10)
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Bottom));
            canvas.text(percent(step.dev_objective), (point.0, point.1 - 7), style)?;
        }
    }
    Ok(())
}

/// The chosen prompts' test objective: a dashed line, a marked point at the last step,
/// and a label with the dev figure beside it.
fn draw_test(canvas: &Canvas, layout: &Layout, outcome: &SearchOutcome) -> Result<(), ReportError> {
    let y = layout.y_of(outcome.test_objective);
    let right = LEFT + layout.width;
    for x in (LEFT..right).step_by(10) {
        canvas.line(vec![(x, y), ((x + 5).min(right), y)], TEST.stroke_width(2))?;
    }
    let x = layout.x_of(layout.steps.max(1));
    canvas.draw(&Rectangle::new(
        [(x - 4, y - 4), (x + 4, y + 4)],
        TEST.filled(),
    ))?;
    let style = font(12)
        .color(&TEST)
        .pos(Pos::new(HPos::Left, VPos::Center));
    Ok(canvas.text(
        format!(
            "test {} (dev {})",
            percent(outcome.test_objective),
            percent(outcome.dev_objective)
        ),
        (right + 10, y),
        style,
    )?)
}

/// Under the plot, what each step did and the dev objective after it.
fn draw_legend(
    canvas: &Canvas,
    layout: &Layout,
    outcome: &SearchOutcome,
) -> Result<(), ReportError> {
    let style = || {
        font(12)
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center))
    };
    let top = layout.legend_top();
    canvas.text("Moves:".to_string(), (12, top), style())?;
    for (row, step) in outcome.steps.iter().enumerate() {
        let text = format!(
            "{}. {} ({})",
            step.step,
            truncate(&move_label(step), MAX_MOVE),
            percent(step.dev_objective)
        );
        canvas.text(text, (24, top + (row as i32 + 1) * LEGEND_ROW), style())?;
    }
    Ok(())
}
