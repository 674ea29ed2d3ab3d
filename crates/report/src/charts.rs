//! SVG charts drawn with plotters primitives. Horizontal bars keep long ontology names
//! readable; every plotted value is also written as text, so the SVG is self-describing.

use std::path::{Path, PathBuf};

use ontosweep_results::{OntologyResults, SweepResults};
use plotters::coord::Shift;
use plotters::element::{Drawable, PointCollection};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::names::ReportFiles;
use crate::{ReportError, class_selection, confused};

const ROW_HEIGHT: i32 = 30;
const GROUP_GAP: i32 = 16;
const PLOT_WIDTH: i32 = 520;
pub(crate) const PALETTE: [RGBColor; 6] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
];
const BASELINE_COLOUR: RGBColor = RGBColor(0x7f, 0x7f, 0x7f);
pub(crate) const GRID: RGBColor = RGBColor(0xdd, 0xdd, 0xdd);

pub fn write_all(
    results: &SweepResults,
    names: &ReportFiles,
    dir: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut files = vec![accuracy(results, dir)?];
    files.extend(per_class(results, dir)?);
    for (m, model) in results.models.iter().enumerate() {
        for (i, o) in model.ontologies.iter().enumerate() {
            let name = if confused::full_matrices(results) {
                let name = names.confusion_svg(m, i);
                let title = format!(
                    "{} · {}: confusion (rows: true class)",
                    model.model, o.ontology
                );
                let matrix = o.metrics.confusion_matrix(results.classes.len());
                confusion(&dir.join(&name), &title, &results.classes, &matrix)?;
                name
            } else {
                let name = names.confused_pairs_svg(m, i);
                let title = format!(
                    "{} · {}: the {} most confused pairs of {} classes",
                    model.model,
                    o.ontology,
                    confused::PAIRS_SHOWN,
                    results.classes.len()
                );
                let pairs = confused::most_confused(&o.metrics, confused::PAIRS_SHOWN);
                confused::write_chart(&dir.join(&name), &title, &results.classes, &pairs)?;
                name
            };
            files.push(PathBuf::from(name));
        }
    }
    Ok(files)
}

pub(crate) struct Bar {
    pub label: String,
    pub detail: String,
    pub value: f64,
    pub interval: Option<(f64, f64)>,
    pub colour: RGBColor,
    pub tag: &'static str,
}

impl Bar {
    /// The `index`-th ontology's bar: grey and tagged when it is the baseline.
    fn ontology(
        results: &SweepResults,
        index: usize,
        o: &OntologyResults,
        label: String,
        value: f64,
    ) -> Self {
        let baseline = o.ontology == results.baseline;
        Bar {
            label,
            detail: String::new(),
            value,
            interval: None,
            colour: if baseline {
                BASELINE_COLOUR
            } else {
                PALETTE[index % PALETTE.len()]
            },
            tag: if baseline { " (baseline)" } else { "" },
        }
    }
}

pub(crate) struct Group {
    pub title: String,
    pub bars: Vec<Bar>,
}

/// The example prompt shown under an ontology's name.
fn example_prompt(o: &OntologyResults) -> String {
    o.prompts
        .iter()
        .next()
        .map(|(class, prompts)| {
            let more = if prompts.len() > 1 {
                format!(" (+{} more)", prompts.len() - 1)
            } else {
                String::new()
            };
            format!(
                "{class}: \"{}\"{more}",
                prompts.first().map_or("", String::as_str)
            )
        })
        .unwrap_or_default()
}

fn accuracy(results: &SweepResults, dir: &Path) -> Result<PathBuf, ReportError> {
    let groups = results
        .models
        .iter()
        .map(|model| Group {
            title: format!("model: {}", model.model),
            bars: model
                .ontologies
                .iter()
                .enumerate()
                .map(|(i, o)| Bar {
                    detail: example_prompt(o),
                    interval: Some((o.metrics.ci_low, o.metrics.ci_high)),
                    ..Bar::ontology(results, i, o, o.ontology.clone(), o.metrics.accuracy)
                })
                .collect(),
        })
        .collect::<Vec<_>>();
    let title = format!(
        "{}: zero-shot accuracy by ontology, n = {} (95% Wilson CI)",
        results.experiment,
        results.images.len()
    );
    let chance = 1.0 / results.classes.len().max(1) as f64;
    bar_chart(
        &dir.join(crate::HEADLINE_CHART),
        &title,
        &groups,
        Some(chance),
    )?;
    Ok(PathBuf::from(crate::HEADLINE_CHART))
}

/// `per_class.svg`: every class's recall per ontology, or, with many classes, the lowest and
/// highest, and `per_class_moved.svg` with the classes that moved most against the baseline.
fn per_class(results: &SweepResults, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let Some(selection) = class_selection::select(results) else {
        let all: Vec<(usize, String)> = (0..results.classes.len())
            .map(|c| (c, format!("class: {}", results.classes[c])))
            .collect();
        let title = format!("{}: recall per class and ontology", results.experiment);
        class_chart(results, &dir.join(PER_CLASS_SVG), &title, &all)?;
        return Ok(vec![PathBuf::from(PER_CLASS_SVG)]);
    };
    let first = results.models.first().map_or("", |m| m.model.as_str());
    let ends: Vec<(usize, String)> = (selection.worst.iter().map(|&c| (c, "lowest")))
        .chain(selection.best.iter().map(|&c| (c, "highest")))
        .map(|(c, end)| (c, format!("{end} baseline recall: {}", results.classes[c])))
        .collect();
    let title = format!(
        "{}: recall of the {} classes with the lowest and highest baseline recall ({first}), of {}",
        results.experiment,
        class_selection::SELECTED,
        results.classes.len()
    );
    class_chart(results, &dir.join(PER_CLASS_SVG), &title, &ends)?;
    let mut files = vec![PathBuf::from(PER_CLASS_SVG)];
    if !selection.moved.is_empty() {
        let moved: Vec<(usize, String)> = selection
            .moved
            .iter()
            .map(|&(c, change)| {
                let class = &results.classes[c];
                (c, format!("{class}: {:+.1} points at most", 100.0 * change))
            })
            .collect();
        let title = format!(
            "{}: the {} classes whose recall moved most against the baseline",
            results.experiment,
            moved.len()
        );
        class_chart(results, &dir.join(PER_CLASS_MOVED_SVG), &title, &moved)?;
        files.push(PathBuf::from(PER_CLASS_MOVED_SVG));
    }
    Ok(files)
}

pub const PER_CLASS_SVG: &str = "per_class.svg";
pub const PER_CLASS_MOVED_SVG: &str = "per_class_moved.svg";

/// One titled group per class in `classes`, a bar per (model, ontology).
fn class_chart(
    results: &SweepResults,
    path: &Path,
    title: &str,
    classes: &[(usize, String)],
) -> Result<(), ReportError> {
    let several_models = results.models.len() > 1;
    let groups = classes
        .iter()
        .map(|(c, group_title)| Group {
            title: group_title.clone(),
            bars: results
                .models
                .iter()
                .flat_map(|model| {
                    model
                        .ontologies
                        .iter()
                        .enumerate()
                        .map(move |(i, o)| (model, i, o))
                })
                .map(|(model, i, o)| {
                    let label = if several_models {
                        format!("{} · {}", model.model, o.ontology)
                    } else {
                        o.ontology.clone()
                    };
                    Bar::ontology(results, i, o, label, o.metrics.per_class[*c].recall)
                })
                .collect(),
        })
        .collect::<Vec<_>>();
    bar_chart(path, title, &groups, None)
}

/// At most `max` characters of `text`, made XML-safe.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        xml_text(text)
    } else {
        format!(
            "{}…",
            xml_text(&text.chars().take(max - 1).collect::<String>())
        )
    }
}

/// plotters escapes `<`, `&` and quotes, but passes on characters XML 1.0 forbids (most
/// control characters), which would make the SVG unreadable.
pub(crate) fn xml_text(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t'
            | '\n'
            | '\r'
            | '\u{20}'..='\u{D7FF}'
            | '\u{E000}'..='\u{FFFD}'
            | '\u{10000}'.. => c,
            _ => '\u{FFFD}',
        })
        .collect()
}

pub(crate) fn font(size: i32) -> FontDesc<'static> {
    ("sans-serif", size).into_font()
}

/// A white SVG drawing area whose failures are chart errors naming the file.
pub(crate) struct Canvas<'a> {
    area: DrawingArea<SVGBackend<'a>, Shift>,
    path: &'a Path,
}

impl<'a> Canvas<'a> {
    pub(crate) fn new(path: &'a Path, width: i32, height: i32) -> Result<Self, ReportError> {
        let area = SVGBackend::new(path, (width as u32, height as u32)).into_drawing_area();
        let canvas = Canvas { area, path };
        canvas.area.fill(&WHITE).map_err(|e| canvas.error(&e))?;
        Ok(canvas)
    }

    fn error(&self, e: &DrawingAreaErrorKind<std::io::Error>) -> ReportError {
        ReportError::Chart {
            path: self.path.to_path_buf(),
            message: e.to_string(),
        }
    }

    pub(crate) fn draw<'e, E>(&self, element: &'e E) -> Result<(), ReportError>
    where
        &'e E: PointCollection<'e, (i32, i32)>,
        E: Drawable<SVGBackend<'a>>,
    {
        self.area.draw(element).map_err(|e| self.error(&e))
    }

    pub(crate) fn text(
        &self,
        text: String,
        at: (i32, i32),
        style: TextStyle<'_>,
    ) -> Result<(), ReportError> {
        self.draw(&Text::new(text, at, style))
    }

    pub(crate) fn line(
        &self,
        points: Vec<(i32, i32)>,
        style: ShapeStyle,
    ) -> Result<(), ReportError> {
        self.draw(&PathElement::new(points, style))
    }

    /// Writes the file.
    pub(crate) fn present(&self) -> Result<(), ReportError> {
        self.area.present().map_err(|e| self.error(&e))
    }
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
pub(crate) fn bar_chart(
    path: &Path,
    title: &str,
    groups: &[Group],
    chance: Option<f64>,
) -> Result<(), ReportError> {
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
fn draw_grid(canvas: &Canvas, layout: &BarLayout) -> Result<(), ReportError> {
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
) -> Result<(), ReportError> {
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
) -> Result<(), ReportError> {
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
fn draw_chance(canvas: &Canvas, layout: &BarLayout, chance: f64) -> Result<(), ReportError> {
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

/// Side of a confusion matrix cell, in pixels.
const CELL: i32 = 72;

/// Where a confusion matrix's parts go: class names left of `left`, column headers above
/// `top`, one `CELL`-sized square per (true, predicted) pair.
struct ConfusionLayout {
    left: i32,
    top: i32,
    width: i32,
    height: i32,
}

impl ConfusionLayout {
    fn new(title: &str, classes: &[String]) -> Self {
        let longest = classes.iter().map(|c| c.chars().count()).max().unwrap_or(4) as i32;
        let left = longest * 8 + 24;
        let top = 84;
        let k = classes.len() as i32;
        ConfusionLayout {
            left,
            top,
            width: (left + k * CELL + 24).max(title.chars().count() as i32 * 8 + 24),
            height: top + k * CELL + 40,
        }
    }

    /// The top-left corner of the cell in row `i`, column `j`.
    fn cell(&self, i: usize, j: usize) -> (i32, i32) {
        (self.left + j as i32 * CELL, self.top + i as i32 * CELL)
    }
}

/// A cell's fill (blue, deeper as the share of its row grows) and the ink that reads on it.
fn cell_colours(count: usize, row_total: usize) -> (RGBColor, RGBColor) {
    let share = if row_total == 0 {
        0.0
    } else {
        count as f64 / row_total as f64
    };
    let shade = (255.0 - share * 200.0) as u8;
    let ink = if share > 0.6 { WHITE } else { BLACK };
    (RGBColor(shade, shade, 255), ink)
}

/// A confusion matrix, rows the true class, with counts written in the cells.
fn confusion(
    path: &Path,
    title: &str,
    classes: &[String],
    matrix: &[Vec<usize>],
) -> Result<(), ReportError> {
    let layout = ConfusionLayout::new(title, classes);
    let canvas = Canvas::new(path, layout.width, layout.height)?;
    canvas.text(xml_text(title), (12, 24), font(15).color(&BLACK))?;
    let centre = Pos::new(HPos::Center, VPos::Center);
    let k = classes.len() as i32;
    canvas.text(
        "predicted →".to_string(),
        (layout.left + k * CELL / 2, 48),
        font(12).color(&BLACK).pos(centre),
    )?;
    for (j, class) in classes.iter().enumerate() {
        let (x, _) = layout.cell(0, j);
        canvas.text(
            truncate(class, 11),
            (x + CELL / 2, layout.top - 12),
            font(11).color(&BLACK).pos(centre),
        )?;
    }
    for (i, row) in matrix.iter().enumerate() {
        draw_confusion_row(&canvas, &layout, &classes[i], i, row)?;
    }
    canvas.present()
}

/// Row `i`: the true class's name, then one shaded cell per predicted class.
fn draw_confusion_row(
    canvas: &Canvas,
    layout: &ConfusionLayout,
    class: &str,
    i: usize,
    row: &[usize],
) -> Result<(), ReportError> {
    let (_, y) = layout.cell(i, 0);
    let style = font(12)
        .color(&BLACK)
        .pos(Pos::new(HPos::Right, VPos::Center));
    canvas.text(xml_text(class), (layout.left - 8, y + CELL / 2), style)?;
    let total: usize = row.iter().sum();
    for (j, &count) in row.iter().enumerate() {
        let (x, y) = layout.cell(i, j);
        let (fill, ink) = cell_colours(count, total);
        let square = [(x, y), (x + CELL, y + CELL)];
        canvas.draw(&Rectangle::new(square, fill.filled()))?;
        canvas.draw(&Rectangle::new(square, WHITE.stroke_width(1)))?;
        let centre = Pos::new(HPos::Center, VPos::Center);
        canvas.text(
            count.to_string(),
            (x + CELL / 2, y + CELL / 2),
            font(14).color(&ink).pos(centre),
        )?;
    }
    Ok(())
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
