//! A whole confusion matrix as an SVG chart: rows the true class, each cell shaded by its
//! share of the row and labelled with its count.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::ChartError;
use crate::canvas::{Canvas, font, truncate, xml_text};

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
pub fn confusion(
    path: &Path,
    title: &str,
    classes: &[String],
    matrix: &[Vec<usize>],
) -> Result<(), ChartError> {
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
) -> Result<(), ChartError> {
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
