//! SVG charts drawn with plotters primitives. Horizontal bars keep long ontology names
//! readable; every plotted value is also written as text, so the SVG is self-describing.

use std::path::{Path, PathBuf};

use ontosweep_results::{OntologyResults, SweepResults};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::ReportError;
use crate::names::ReportFiles;

const ROW_HEIGHT: i32 = 30;
const GROUP_GAP: i32 = 16;
const PLOT_WIDTH: i32 = 520;
const PALETTE: [RGBColor; 6] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
];
const BASELINE_COLOUR: RGBColor = RGBColor(0x7f, 0x7f, 0x7f);
const GRID: RGBColor = RGBColor(0xdd, 0xdd, 0xdd);

pub fn write_all(
    results: &SweepResults,
    names: &ReportFiles,
    dir: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut files = vec![accuracy(results, dir)?, per_class(results, dir)?];
    for (m, model) in results.models.iter().enumerate() {
        for (i, o) in model.ontologies.iter().enumerate() {
            let name = names.confusion_svg(m, i);
            let title = format!(
                "{} · {}: confusion (rows: true class)",
                model.model, o.ontology
            );
            confusion(
                &dir.join(&name),
                &title,
                &results.classes,
                &o.metrics.confusion,
            )?;
            files.push(PathBuf::from(name));
        }
    }
    Ok(files)
}

struct Bar {
    label: String,
    detail: String,
    value: f64,
    interval: Option<(f64, f64)>,
    colour: RGBColor,
    tag: &'static str,
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

struct Group {
    title: String,
    bars: Vec<Bar>,
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

fn per_class(results: &SweepResults, dir: &Path) -> Result<PathBuf, ReportError> {
    let several_models = results.models.len() > 1;
    let groups = results
        .classes
        .iter()
        .enumerate()
        .map(|(c, class)| Group {
            title: format!("class: {class}"),
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
                    Bar::ontology(results, i, o, label, o.metrics.per_class[c].recall)
                })
                .collect(),
        })
        .collect::<Vec<_>>();
    let title = format!("{}: recall per class and ontology", results.experiment);
    bar_chart(&dir.join("per_class.svg"), &title, &groups, None)?;
    Ok(PathBuf::from("per_class.svg"))
}

fn chart_error(path: &Path) -> impl Fn(String) -> ReportError + '_ {
    move |message| ReportError::Chart {
        path: path.to_path_buf(),
        message,
    }
}

/// At most `max` characters of `text`, made XML-safe.
fn truncate(text: &str, max: usize) -> String {
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
fn xml_text(text: &str) -> String {
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

fn bar_chart(
    path: &Path,
    title: &str,
    groups: &[Group],
    chance: Option<f64>,
) -> Result<(), ReportError> {
    const MAX_LABEL: usize = 64;
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
    let label_width = label_width.max(160);
    let left = label_width;
    let top = 64;
    let bars: i32 = groups.iter().map(|g| g.bars.len() as i32).sum();
    let height = top + bars * ROW_HEIGHT + groups.len() as i32 * (ROW_HEIGHT + GROUP_GAP) + 50;
    let width = left + PLOT_WIDTH + 170;
    let err = chart_error(path);
    let root = SVGBackend::new(path, (width as u32, height as u32)).into_drawing_area();
    let e = |x: DrawingAreaErrorKind<std::io::Error>| err(x.to_string());
    root.fill(&WHITE).map_err(e)?;
    let font = |size: i32| ("sans-serif", size).into_font();
    let x_of = |v: f64| left + (v.clamp(0.0, 1.0) * f64::from(PLOT_WIDTH)) as i32;
    root.draw(&Text::new(
        xml_text(title),
        (12, 24),
        font(17).color(&BLACK),
    ))
    .map_err(e)?;
    let plot_bottom = height - 40;
    for tick in 0..=10 {
        let x = x_of(f64::from(tick) / 10.0);
        root.draw(&PathElement::new(
            vec![(x, top - 6), (x, plot_bottom)],
            GRID.stroke_width(1),
        ))
        .map_err(e)?;
        let style = font(11)
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top));
        root.draw(&Text::new(
            format!("{}%", tick * 10),
            (x, plot_bottom + 6),
            style,
        ))
        .map_err(e)?;
    }
    let mut y = top;
    for group in groups {
        let style = font(13)
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        root.draw(&Text::new(
            xml_text(&group.title),
            (12, y + ROW_HEIGHT / 2),
            style,
        ))
        .map_err(e)?;
        y += ROW_HEIGHT;
        for bar in &group.bars {
            let (y0, y1) = (y + 4, y + ROW_HEIGHT - 4);
            let label = format!(
                "{}{}",
                truncate(&bar.label, MAX_LABEL - bar.tag.len()),
                bar.tag
            );
            let label_style = font(13).color(&BLACK).pos(Pos::new(
                HPos::Right,
                if bar.detail.is_empty() {
                    VPos::Center
                } else {
                    VPos::Bottom
                },
            ));
            root.draw(&Text::new(
                label,
                (
                    left - 8,
                    if bar.detail.is_empty() {
                        y + ROW_HEIGHT / 2
                    } else {
                        y + ROW_HEIGHT / 2 + 1
                    },
                ),
                label_style,
            ))
            .map_err(e)?;
            if !bar.detail.is_empty() {
                let detail_style = font(10)
                    .color(&RGBColor(0x66, 0x66, 0x66))
                    .pos(Pos::new(HPos::Right, VPos::Top));
                root.draw(&Text::new(
                    truncate(&bar.detail, MAX_LABEL + 8),
                    (left - 8, y + ROW_HEIGHT / 2 + 2),
                    detail_style,
                ))
                .map_err(e)?;
            }
            root.draw(&Rectangle::new(
                [(left, y0), (x_of(bar.value).max(left + 1), y1)],
                bar.colour.filled(),
            ))
            .map_err(e)?;
            let mut value_text = format!("{:.1}%", 100.0 * bar.value);
            let mut text_x = x_of(bar.value);
            if let Some((low, high)) = bar.interval {
                let (xl, xh, ym) = (x_of(low), x_of(high), (y0 + y1) / 2);
                let whisker = BLACK.stroke_width(1);
                root.draw(&PathElement::new(vec![(xl, ym), (xh, ym)], whisker))
                    .map_err(e)?;
                root.draw(&PathElement::new(vec![(xl, y0 + 4), (xl, y1 - 4)], whisker))
                    .map_err(e)?;
                root.draw(&PathElement::new(vec![(xh, y0 + 4), (xh, y1 - 4)], whisker))
                    .map_err(e)?;
                value_text = format!("{value_text} [{:.1}–{:.1}]", 100.0 * low, 100.0 * high);
                text_x = xh;
            }
            let style = font(12)
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center));
            root.draw(&Text::new(value_text, (text_x + 6, (y0 + y1) / 2), style))
                .map_err(e)?;
            y += ROW_HEIGHT;
        }
        y += GROUP_GAP;
    }
    if let Some(chance) = chance {
        let x = x_of(chance);
        let red = RGBColor(0xd6, 0x27, 0x28);
        for segment in (top..plot_bottom).step_by(8) {
            root.draw(&PathElement::new(
                vec![(x, segment), (x, (segment + 4).min(plot_bottom))],
                red.stroke_width(2),
            ))
            .map_err(e)?;
        }
        let style = font(11)
            .color(&red)
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        root.draw(&Text::new(
            format!("chance {:.1}%", 100.0 * chance),
            (x, top - 8),
            style,
        ))
        .map_err(e)?;
    }
    root.present().map_err(e)?;
    Ok(())
}

fn confusion(
    path: &Path,
    title: &str,
    classes: &[String],
    matrix: &[Vec<usize>],
) -> Result<(), ReportError> {
    const CELL: i32 = 72;
    let longest = classes.iter().map(|c| c.chars().count()).max().unwrap_or(4) as i32;
    let left = longest * 8 + 24;
    let top = 84;
    let k = classes.len() as i32;
    let width = (left + k * CELL + 24).max(title.chars().count() as i32 * 8 + 24);
    let height = top + k * CELL + 40;
    let err = chart_error(path);
    let root = SVGBackend::new(path, (width as u32, height as u32)).into_drawing_area();
    let e = |x: DrawingAreaErrorKind<std::io::Error>| err(x.to_string());
    root.fill(&WHITE).map_err(e)?;
    let font = |size: i32| ("sans-serif", size).into_font();
    root.draw(&Text::new(
        xml_text(title),
        (12, 24),
        font(15).color(&BLACK),
    ))
    .map_err(e)?;
    let centre = Pos::new(HPos::Center, VPos::Center);
    root.draw(&Text::new(
        "predicted →".to_string(),
        (left + k * CELL / 2, 48),
        font(12).color(&BLACK).pos(centre),
    ))
    .map_err(e)?;
    for (j, class) in classes.iter().enumerate() {
        let x = left + j as i32 * CELL + CELL / 2;
        root.draw(&Text::new(
            truncate(class, 11),
            (x, top - 12),
            font(11).color(&BLACK).pos(centre),
        ))
        .map_err(e)?;
    }
    for (i, row) in matrix.iter().enumerate() {
        let y = top + i as i32 * CELL;
        let style = font(12)
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        root.draw(&Text::new(
            xml_text(&classes[i]),
            (left - 8, y + CELL / 2),
            style,
        ))
        .map_err(e)?;
        let total: usize = row.iter().sum();
        for (j, &count) in row.iter().enumerate() {
            let share = if total == 0 {
                0.0
            } else {
                count as f64 / total as f64
            };
            let shade = (255.0 - share * 200.0) as u8;
            let fill = RGBColor(shade, shade, 255);
            let x = left + j as i32 * CELL;
            root.draw(&Rectangle::new(
                [(x, y), (x + CELL, y + CELL)],
                fill.filled(),
            ))
            .map_err(e)?;
            root.draw(&Rectangle::new(
                [(x, y), (x + CELL, y + CELL)],
                WHITE.stroke_width(1),
            ))
            .map_err(e)?;
            let ink = if share > 0.6 { WHITE } else { BLACK };
            root.draw(&Text::new(
                count.to_string(),
                (x + CELL / 2, y + CELL / 2),
                font(14).color(&ink).pos(centre),
            ))
            .map_err(e)?;
        }
    }
    root.present().map_err(e)?;
    Ok(())
}
