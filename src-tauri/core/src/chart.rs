//! Charts: a pure function from a bounded series to SVG (or PNG for export), drawn with
//! `plotters`. Sized by the caller to its view; colours follow the light or dark theme.

use plotters::prelude::*;
use time::OffsetDateTime;

use crate::store::rollups::ChartPoint;

/// One line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub name: String,
    pub points: Vec<(OffsetDateTime, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Style {
    pub width: u32,
    pub height: u32,
    pub dark: bool,
    /// The y axis's unit, e.g. "ms" or "EUR".
    pub unit: String,
    /// The time window the x axis spans (else the data's own extent).
    pub window: Option<(OffsetDateTime, OffsetDateTime)>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot draw the chart: {0}")]
pub struct ChartError(String);

fn err(e: impl std::fmt::Display) -> ChartError {
    ChartError(e.to_string())
}

/// The p50, p95 and p99 lines of latency chart points (points without percentiles skipped).
pub fn percentile_lines(points: &[ChartPoint]) -> Vec<Line> {
    let pick = |name: &str, f: fn(&ChartPoint) -> Option<f64>| Line {
        name: name.to_owned(),
        points: points.iter().filter_map(|p| Some((p.at, f(p)?))).collect(),
    };
    vec![
        pick("p50", |p| p.p50),
        pick("p95", |p| p.p95),
        pick("p99", |p| p.p99),
    ]
}

/// The mean of each chart point as one line (gauges: spend, usage, counts).
pub fn mean_line(name: &str, points: &[ChartPoint]) -> Line {
    Line {
        name: name.to_owned(),
        points: points.iter().map(|p| (p.at, p.mean)).collect(),
    }
}

const LIGHT: [RGBColor; 4] = [
    RGBColor(11, 92, 173),
    RGBColor(154, 103, 0),
    RGBColor(207, 34, 46),
    RGBColor(26, 127, 55),
];
const DARK: [RGBColor; 4] = [
    RGBColor(88, 166, 255),
    RGBColor(210, 153, 34),
    RGBColor(248, 81, 73),
    RGBColor(63, 185, 80),
];

/// Renders `lines` as an SVG document of `style.width` × `style.height`.
pub fn svg(lines: &[Line], style: &Style) -> Result<String, ChartError> {
    let mut out = String::new();
    {
        let root =
            SVGBackend::with_string(&mut out, (style.width, style.height)).into_drawing_area();
        draw(root, lines, style)?;
    }
    Ok(out)
}

/// Writes `lines` as a PNG file at `path` (chart export).
pub fn write_png(lines: &[Line], style: &Style, path: &std::path::Path) -> Result<(), ChartError> {
    let root = BitMapBackend::new(path, (style.width, style.height)).into_drawing_area();
    draw(root, lines, style)
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    lines: &[Line],
    style: &Style,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    let (fg, bg, grid) = if style.dark {
        (
            RGBColor(230, 232, 235),
            RGBColor(24, 27, 33),
            RGBColor(44, 49, 58),
        )
    } else {
        (
            RGBColor(27, 31, 36),
            RGBColor(255, 255, 255),
            RGBColor(217, 221, 227),
        )
    };
    let palette = if style.dark { DARK } else { LIGHT };
    root.fill(&bg).map_err(err)?;
    let all = || lines.iter().flat_map(|l| l.points.iter());
    let (Some(first), Some(last)) = (
        all().map(|(t, _)| t.unix_timestamp()).min(),
        all().map(|(t, _)| t.unix_timestamp()).max(),
    ) else {
        let text = ("sans-serif", 14).into_font().color(&fg);
        root.draw_text("No data in this window yet", &text, (16, 16))
            .map_err(err)?;
        return root.present().map_err(err);
    };
    let (start, end) = match style.window {
        Some((from, to)) => (from.unix_timestamp(), to.unix_timestamp()),
        None => (first, last),
    };
    let end = end.max(start + 60);
    let top = all().map(|(_, v)| *v).fold(0.0_f64, f64::max);
    let top = if top > 0.0 { top * 1.1 } else { 1.0 };
    let span = end - start;
    let label = move |x: &i64| {
        OffsetDateTime::from_unix_timestamp(*x)
            .map(|t| {
                if span > 2 * 86_400 {
                    format!("{:02}-{:02}", u8::from(t.month()), t.day())
                } else {
                    format!("{:02}:{:02}", t.hour(), t.minute())
                }
            })
            .unwrap_or_default()
    };
    let mut chart = ChartBuilder::on(&root)
        .margin(10)
        .margin_right(28)
        .x_label_area_size(28)
        .y_label_area_size(56)
        .build_cartesian_2d(start..end, 0.0..top)
        .map_err(err)?;
    let axis = ("sans-serif", 15).into_font().color(&fg);
    chart
        .configure_mesh()
        .light_line_style(grid.mix(0.25))
        .bold_line_style(grid)
        .axis_style(fg.mix(0.6))
        .label_style(axis.clone())
        .x_labels(6)
        .y_labels(5)
        .x_label_formatter(&label)
        .y_desc(style.unit.as_str())
        .draw()
        .map_err(err)?;
    for (i, line) in lines.iter().enumerate() {
        let colour = palette[i % palette.len()];
        chart
            .draw_series(LineSeries::new(
                line.points.iter().map(|(t, v)| (t.unix_timestamp(), *v)),
                colour.stroke_width(2),
            ))
            .map_err(err)?
            .label(line.name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2))
            });
        // Few points: mark each one, or a lone check would draw nothing.
        if line.points.len() <= 60 {
            chart
                .draw_series(
                    line.points
                        .iter()
                        .map(|(t, v)| Circle::new((t.unix_timestamp(), *v), 3, colour.filled())),
                )
                .map_err(err)?;
        }
    }
    if lines.len() > 1 {
        chart
            .configure_series_labels()
            .background_style(bg.mix(0.9))
            .border_style(grid)
            .label_font(axis)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(err)?;
    }
    root.present().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: i64) -> Line {
        let t0 = OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("t0");
        Line {
            name: "p95".into(),
            points: (0..n)
                .map(|i| {
                    (
                        t0 + time::Duration::minutes(i * 10),
                        100.0 + (i % 7) as f64 * 20.0,
                    )
                })
                .collect(),
        }
    }

    fn style(dark: bool) -> Style {
        Style {
            width: 640,
            height: 240,
            dark,
            unit: "ms".into(),
            window: None,
        }
    }

    #[test]
    fn a_series_becomes_an_svg_line_through_every_point() {
        let out = svg(&[line(48)], &style(false)).expect("svg");
        assert!(out.starts_with("<svg"), "an SVG document: {}", &out[..40]);
        assert!(out.contains(r#"width="640""#) && out.contains(r#"height="240""#));
        let polyline = out
            .lines()
            .find(|l| l.contains("<polyline") && l.contains("stroke-width=\"2\""))
            .expect("the data line");
        let points = polyline
            .split("points=\"")
            .nth(1)
            .and_then(|p| p.split('"').next())
            .expect("points");
        assert_eq!(
            points.split_whitespace().count(),
            48,
            "one vertex per point"
        );
        assert!(out.contains("\nms\n</text>"), "the unit labels the y axis");
    }

    #[test]
    fn themes_and_empty_windows() {
        let light = svg(&[line(5)], &style(false)).expect("light");
        let dark = svg(&[line(5)], &style(true)).expect("dark");
        assert!(
            light.contains("#FFFFFF") && dark.contains("#181B21"),
            "background follows the theme"
        );
        let empty = svg(&[], &style(false)).expect("empty");
        assert!(empty.contains("No data in this window yet"));
        let lines = percentile_lines(&[]);
        assert_eq!(lines.len(), 3, "p50, p95, p99");
    }

    #[test]
    fn export_writes_a_png_file() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("latency.png");
        write_png(&[line(24)], &style(false), &path).expect("png");
        let bytes = std::fs::read(&path).expect("file");
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG file");
    }
}
