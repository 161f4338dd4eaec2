//! Chart rendering: a 30-day latency chart (500 points, p50/p95/p99 lines) drawn to SVG by the
//! core, against serializing the same points to JSON (what a browser-side chart would be sent)
//! as the baseline, measured in the same run.
//!
//! `cargo bench -p meta-monitor-e2e --bench charts`

use criterion::{Criterion, criterion_group, criterion_main};
use meta_monitor_core::chart::{self, Style};
use meta_monitor_core::store::rollups::ChartPoint;
use time::OffsetDateTime;

fn points() -> Vec<ChartPoint> {
    let start = OffsetDateTime::now_utc() - time::Duration::days(30);
    (0..500)
        .map(|i| {
            let base = 120.0 + (i % 17) as f64 * 9.0;
            ChartPoint {
                at: start + time::Duration::minutes(i * 86),
                count: 86,
                mean: base,
                min: base * 0.5,
                max: base * 4.0,
                p50: Some(base),
                p95: Some(base * 2.2),
                p99: Some(base * 3.6),
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let points = points();
    let style = Style {
        width: 1200,
        height: 220,
        dark: false,
        unit: "ms".into(),
        window: None,
    };
    let mut group = c.benchmark_group("30-day latency chart, 500 points");
    group.bench_function("render SVG (p50/p95/p99)", |b| {
        b.iter(|| {
            let lines = chart::percentile_lines(std::hint::black_box(&points));
            chart::svg(&lines, &style).map(|s| s.len())
        })
    });
    group.bench_function("serialize the points to JSON (baseline)", |b| {
        b.iter(|| serde_json::to_string(std::hint::black_box(&points)).map(|s| s.len()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
