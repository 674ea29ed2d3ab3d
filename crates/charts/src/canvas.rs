//! SVG drawing primitives shared by every chart: a canvas whose failures name the file,
//! the font, text made XML-safe, and the grid colour.

use std::path::Path;

use plotters::coord::Shift;
use plotters::element::{Drawable, PointCollection};
use plotters::prelude::*;

use crate::ChartError;

pub const GRID: RGBColor = RGBColor(0xdd, 0xdd, 0xdd);

/// At most `max` characters of `text`, made XML-safe.
pub fn truncate(text: &str, max: usize) -> String {
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
pub fn xml_text(text: &str) -> String {
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

pub fn font(size: i32) -> FontDesc<'static> {
    ("sans-serif", size).into_font()
}

/// A white SVG drawing area whose failures are chart errors naming the file.
pub struct Canvas<'a> {
    area: DrawingArea<SVGBackend<'a>, Shift>,
    path: &'a Path,
}

impl<'a> Canvas<'a> {
    pub fn new(path: &'a Path, width: i32, height: i32) -> Result<Self, ChartError> {
        let area = SVGBackend::new(path, (width as u32, height as u32)).into_drawing_area();
        let canvas = Canvas { area, path };
        canvas.area.fill(&WHITE).map_err(|e| canvas.error(&e))?;
        Ok(canvas)
    }

    fn error(&self, e: &DrawingAreaErrorKind<std::io::Error>) -> ChartError {
        ChartError {
            path: self.path.to_path_buf(),
            message: e.to_string(),
        }
    }

    pub fn draw<'e, E>(&self, element: &'e E) -> Result<(), ChartError>
    where
        &'e E: PointCollection<'e, (i32, i32)>,
        E: Drawable<SVGBackend<'a>>,
    {
        self.area.draw(element).map_err(|e| self.error(&e))
    }

    pub fn text(
        &self,
        text: String,
        at: (i32, i32),
        style: TextStyle<'_>,
    ) -> Result<(), ChartError> {
        self.draw(&Text::new(text, at, style))
    }

    pub fn line(&self, points: Vec<(i32, i32)>, style: ShapeStyle) -> Result<(), ChartError> {
        self.draw(&PathElement::new(points, style))
    }

    /// Writes the file.
    pub fn present(&self) -> Result<(), ChartError> {
        self.area.present().map_err(|e| self.error(&e))
    }
}
