//! History for the views: charts of stored series (SVG for the window, PNG or SVG files) and
//! a service's recent failures and error rate.

use std::path::Path;

use time::OffsetDateTime;

use super::types::{ChartRequest, ChartView, ExportFormat, SeriesView, ServiceHistory, Since};
use super::{App, AppError, ErrorCode, lock};
use crate::chart;
use crate::store::rollups::ChartPoint;
use crate::tile::Service;

impl App {
    /// A chart of one stored series over a window, rendered to SVG for the view's size.
    pub fn chart(&self, request: &ChartRequest) -> Result<ChartView, AppError> {
        let (lines, style, points, summary) = self.chart_lines(request)?;
        let svg = chart::svg(&lines, &style).map_err(|e| AppError::new(ErrorCode::Internal, e))?;
        Ok(ChartView {
            svg,
            points,
            summary,
        })
    }

    /// Writes the chart of `request` to `path` as PNG or SVG (chart export).
    pub fn export_chart(
        &self,
        request: &ChartRequest,
        format: ExportFormat,
        path: &Path,
    ) -> Result<(), AppError> {
        if format == ExportFormat::Csv {
            let to = OffsetDateTime::now_utc();
            let from = to - request.window.duration();
            let max = crate::store::rollups::MAX_CHART_POINTS;
            let (points, _) = self.points(&request.account, &request.metric, from, to, max)?;
            let text = series_csv(&points).map_err(|e| AppError::new(ErrorCode::Internal, e))?;
            return write_file(path, text.as_bytes());
        }
        let (lines, style, _, _) = self.chart_lines(request)?;
        let internal = |e: chart::ChartError| AppError::new(ErrorCode::Internal, e);
        match format {
            ExportFormat::Png => chart::write_png(&lines, &style, path).map_err(internal),
            ExportFormat::Svg | ExportFormat::Csv => {
                let svg = chart::svg(&lines, &style).map_err(internal)?;
                write_file(path, svg.as_bytes())
            }
        }
    }

    /// The lines of a chart, its style, how many points it has and the window's summary.
    fn chart_lines(
        &self,
        request: &ChartRequest,
    ) -> Result<(Vec<chart::Line>, chart::Style, u32, Option<ChartPoint>), AppError> {
        let to = OffsetDateTime::now_utc();
        let from = to - request.window.duration();
        let width = request.width.clamp(200, 2400);
        let (points, summary) = self.points(
            &request.account,
            &request.metric,
            from,
            to,
            (width / 4) as usize,
        )?;
        let lines = if request.percentiles {
            chart::percentile_lines(&points)
        } else {
            vec![chart::mean_line(&request.metric, &points)]
        };
        let style = chart::Style {
            width,
            height: request.height.clamp(120, 1600),
            dark: request.dark,
            unit: request.unit.clone(),
            window: Some((from, to)),
        };
        let count = u32::try_from(points.len()).unwrap_or(u32::MAX);
        Ok((lines, style, count, summary))
    }

    /// A stored series over the last `since` (`meta-monitor history`): at most `max_points`
    /// points and one summary of the whole window.
    pub fn series(
        &self,
        account: &str,
        metric: &str,
        since: Since,
        max_points: usize,
    ) -> Result<SeriesView, AppError> {
        let to = OffsetDateTime::now_utc();
        let from = to - since.duration();
        let (points, summary) = self.points(account, metric, from, to, max_points)?;
        Ok(SeriesView {
            account: account.to_owned(),
            metric: metric.to_owned(),
            from,
            to,
            summary,
            points,
        })
    }

    /// A series' points over `[from, to]` (at most `max`) and its summary over all of it.
    fn points(
        &self,
        account: &str,
        metric: &str,
        from: OffsetDateTime,
        to: OffsetDateTime,
        max: usize,
    ) -> Result<(Vec<ChartPoint>, Option<ChartPoint>), AppError> {
        let (entry, store) = self.entry(account)?;
        let store = lock(&store);
        let points = store.chart(entry.id, metric, from, to, max, to)?;
        let summary = store.chart(entry.id, metric, from, to, 1, to)?.pop();
        Ok((points, summary))
    }

    /// A service's newest failures and its error rate over the last 24 h.
    pub fn service_history(
        &self,
        account: &str,
        service: Service,
    ) -> Result<ServiceHistory, AppError> {
        let (entry, store) = self.entry(account)?;
        let store = lock(&store);
        let since = OffsetDateTime::now_utc() - time::Duration::days(1);
        let failures = store
            .recent_failures(entry.id, service, 20)
            .map_err(AppError::from)?;
        let (runs, failed) = store
            .run_counts(entry.id, service, since)
            .map_err(AppError::from)?;
        Ok(ServiceHistory {
            failures,
            runs_24h: u32::try_from(runs).unwrap_or(u32::MAX),
            failed_24h: u32::try_from(failed).unwrap_or(u32::MAX),
        })
    }
}

/// Writes an export, saying where it failed.
pub(super) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    std::fs::write(path, bytes).map_err(|e| {
        let why = format!("could not write {}: {e}", path.display());
        AppError::new(ErrorCode::Internal, why)
    })
}

/// A series as CSV: one row per point, empty cells for percentiles a series does not keep.
pub fn series_csv(points: &[ChartPoint]) -> Result<String, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["at", "count", "mean", "min", "max", "p50", "p95", "p99"])?;
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for p in points {
        out.write_record([
            p.at.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            p.count.to_string(),
            p.mean.to_string(),
            p.min.to_string(),
            p.max.to_string(),
            opt(p.p50),
            opt(p.p95),
            opt(p.p99),
        ])?;
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
