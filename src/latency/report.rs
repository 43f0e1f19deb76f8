//! Latency report: percentile summary, the `LATENCY …` line, HdrHistogram
//! percentile distributions (`.hgrm`) and a PNG plot of both curves on a
//! log-scaled percentile axis. Cold path.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use hdrhistogram::Histogram;
use plotters::prelude::*;

use super::LatencyRun;

/// Percentiles reported, in the order printed.
pub const PERCENTILES: [(f64, &str); 5] =
    [(50.0, "p50"), (90.0, "p90"), (99.0, "p99"), (99.9, "p99.9"), (99.99, "p99.99")];

/// Percentiles of one histogram, ns.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Percentiles {
    pub samples: u64,
    /// p50, p90, p99, p99.9, p99.99.
    pub at: [u64; 5],
    pub max: u64,
}

impl Percentiles {
    /// Reads the reported percentiles of `h`.
    pub fn of(h: &Histogram<u64>) -> Self {
        let mut at = [0; 5];
        for (i, (p, _)) in PERCENTILES.iter().enumerate() {
            at[i] = h.value_at_percentile(*p);
        }
        Self { samples: h.len(), at, max: h.max() }
    }
}

/// Engine and floor side by side.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencySummary {
    /// Signals per second asked for (`None`: max).
    pub rate: Option<f64>,
    pub engine: Percentiles,
    pub floor: Percentiles,
}

fn ratio(a: u64, b: u64) -> f64 {
    a as f64 / b.max(1) as f64
}

impl LatencySummary {
    /// Summarises the two histograms.
    pub fn new(rate: Option<f64>, engine: &Histogram<u64>, floor: &Histogram<u64>) -> Self {
        Self { rate, engine: Percentiles::of(engine), floor: Percentiles::of(floor) }
    }

    /// The table printed before the last line.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{:<10} {:>12} {:>12} {:>8}", "percentile", "engine_ns", "floor_ns", "ratio");
        for (i, (_, name)) in PERCENTILES.iter().enumerate() {
            let (e, f) = (self.engine.at[i], self.floor.at[i]);
            let _ = writeln!(s, "{name:<10} {e:>12} {f:>12} {:>8.2}", ratio(e, f));
        }
        let (e, f) = (self.engine.max, self.floor.max);
        let _ = writeln!(s, "{:<10} {e:>12} {f:>12} {:>8.2}", "max", ratio(e, f));
        let _ = writeln!(s, "{:<10} {:>12} {:>12}", "samples", self.engine.samples, self.floor.samples);
        s
    }

    /// The line scripts read (nanoseconds), exactly:
    /// `LATENCY rate=<signals/s> samples=<n> engine_p50=<a> engine_p99=<b> engine_p999=<c> engine_p9999=<d> engine_max=<e> floor_p50=<f> floor_p99=<g> floor_p999=<h> floor_p9999=<i> ratio_p50=<a/f> ratio_p999=<c/h>`
    pub fn latency_line(&self) -> String {
        let rate = self.rate.map_or_else(|| "max".to_string(), |r| format!("{r:.0}"));
        let (e, f) = (&self.engine, &self.floor);
        format!(
            "LATENCY rate={rate} samples={} engine_p50={} engine_p99={} engine_p999={} engine_p9999={} engine_max={} floor_p50={} floor_p99={} floor_p999={} floor_p9999={} ratio_p50={:.3} ratio_p999={:.3}",
            e.samples,
            e.at[0],
            e.at[2],
            e.at[3],
            e.at[4],
            e.max,
            f.at[0],
            f.at[2],
            f.at[3],
            f.at[4],
            ratio(e.at[0], f.at[0]),
            ratio(e.at[3], f.at[3]),
        )
    }
}

/// The HdrHistogram percentile distribution text (values in microseconds).
pub fn hgrm(h: &Histogram<u64>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{:>12} {:>14} {:>10} {:>14}\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");
    for v in h.iter_quantiles(5) {
        let q = v.quantile_iterated_to();
        let inv = if q < 1.0 { format!("{:>14.2}", 1.0 / (1.0 - q)) } else { format!("{:>14}", "inf") };
        let _ = writeln!(
            s,
            "{:>12.3} {:>14.12} {:>10} {inv}",
            v.value_iterated_to() as f64 / 1000.0,
            q,
            v.count_since_last_iteration()
        );
    }
    let _ = writeln!(
        s,
        "#[Mean    = {:>12.3}, StdDeviation   = {:>12.3}]\n#[Max     = {:>12.3}, Total count    = {:>12}]\n#[Buckets = {:>12}, SubBuckets     = {:>12}]",
        h.mean() / 1000.0,
        h.stdev() / 1000.0,
        h.max() as f64 / 1000.0,
        h.len(),
        h.buckets(),
        h.distinct_values()
    );
    s
}

/// Writes `engine.hgrm`, `floor.hgrm`, `summary.txt` and `latency.png` to `dir`.
pub fn write_all(dir: &Path, run: &LatencyRun) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (name, h) in [("engine.hgrm", &run.measured.engine), ("floor.hgrm", &run.measured.floor)] {
        let p = dir.join(name);
        std::fs::write(&p, hgrm(h))?;
        written.push(p);
    }
    let p = dir.join("summary.txt");
    std::fs::write(&p, format!("{}{}\n", run.summary.table(), run.latency_line()))?;
    written.push(p);
    let p = dir.join("latency.png");
    plot(&p, &run.measured.engine, &run.measured.floor, &run.summary).context("drawing latency.png")?;
    written.push(p);
    Ok(written)
}

/// Registers a TTF from the system for labels; false if none was found
/// (the plot is then drawn without text).
pub(crate) fn register_font() -> bool {
    static DONE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *DONE.get_or_init(|| {
        const CANDIDATES: &[&str] = &[
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/TTF/DejaVuSans.ttf",
            "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        ];
        for c in CANDIDATES {
            if let Ok(bytes) = std::fs::read(c) {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                    return true;
                }
            }
        }
        false
    })
}

/// The curve of `h`: points (1/(1-q), latency ns) up to the last sample.
fn curve(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    h.iter_quantiles(5)
        .map(|v| (v.quantile_iterated_to(), v.value_iterated_to() as f64))
        .filter(|(q, _)| *q < 1.0)
        .map(|(q, ns)| (1.0 / (1.0 - q), ns.max(1.0)))
        .collect()
}

/// Draws both percentile curves (x: percentile on a log scale of 1/(1-p);
/// y: latency in ns, log scale).
pub fn plot(path: &Path, engine: &Histogram<u64>, floor: &Histogram<u64>, s: &LatencySummary) -> anyhow::Result<()> {
    let text = register_font();
    let (ce, cf) = (curve(engine), curve(floor));
    let x_max = ce.iter().chain(&cf).map(|p| p.0).fold(10.0f64, f64::max) * 1.5;
    let y_max = (engine.max().max(floor.max()) as f64 * 1.5).max(10.0);
    let y_min = (floor.min().min(engine.min()).max(1) as f64 / 1.5).max(1.0);
    let root = BitMapBackend::new(path, (1200, 700)).into_drawing_area();
    root.fill(&WHITE)?;
    let rate = s.rate.map_or_else(|| "max".to_string(), |r| format!("{r:.0}/s"));
    let mut b = ChartBuilder::on(&root);
    b.margin(20);
    if text {
        b.caption(format!("TradeEngine tick-to-trade vs ring round trip (rate {rate})"), ("sans-serif", 24))
            .x_label_area_size(50)
            .y_label_area_size(80);
    }
    let mut chart = b.build_cartesian_2d((1.0f64..x_max).log_scale(), (y_min..y_max).log_scale())?;
    if text {
        chart
            .configure_mesh()
            .x_desc("percentile")
            .y_desc("latency (ns)")
            .x_label_formatter(&|x| {
                let p = 100.0 * (1.0 - 1.0 / x);
                if p < 1.0 {
                    "0%".into()
                } else {
                    format!("{}%", trim(p))
                }
            })
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()?;
    } else {
        chart.configure_mesh().disable_x_mesh().disable_y_mesh().draw()?;
    }
    chart
        .draw_series(LineSeries::new(ce, RED.stroke_width(2)))?
        .label("engine (signal in -> order out)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED));
    chart
        .draw_series(LineSeries::new(cf, BLUE.stroke_width(2)))?
        .label("floor (bare ring round trip)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE));
    if text {
        chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
    }
    root.present()?;
    Ok(())
}

fn trim(p: f64) -> String {
    let s = format!("{p:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(values: impl IntoIterator<Item = u64>) -> Histogram<u64> {
        let mut h = Histogram::new_with_bounds(1, 60_000_000_000, 3).unwrap();
        for v in values {
            h.record(v).unwrap();
        }
        h
    }

    #[test]
    fn line_has_the_contract_form_and_ratios() {
        let e = hist((1..=10_000).map(|v| v * 2));
        let f = hist(1..=10_000);
        let s = LatencySummary::new(Some(1_000_000.0), &e, &f);
        let line = s.latency_line();
        let keys: Vec<&str> = line.split_whitespace().map(|kv| kv.split('=').next().unwrap()).collect();
        assert_eq!(
            keys,
            [
                "LATENCY",
                "rate",
                "samples",
                "engine_p50",
                "engine_p99",
                "engine_p999",
                "engine_p9999",
                "engine_max",
                "floor_p50",
                "floor_p99",
                "floor_p999",
                "floor_p9999",
                "ratio_p50",
                "ratio_p999"
            ]
        );
        assert!(line.starts_with("LATENCY rate=1000000 samples=10000 "), "{line}");
        let ratio_p50: f64 = line.split("ratio_p50=").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
        assert!((ratio_p50 - 2.0).abs() < 0.01, "{line}");
        assert!(LatencySummary::new(None, &e, &f).latency_line().starts_with("LATENCY rate=max "));
        assert!(s.table().contains("p99.99"));
    }

    #[test]
    fn hgrm_and_plot_are_written() {
        let e = hist((1..=5_000).map(|v| 500 + v % 300));
        let f = hist((1..=5_000).map(|v| 200 + v % 100));
        let text = hgrm(&e);
        assert!(text.starts_with("       Value     Percentile TotalCount 1/(1-Percentile)"), "{text}");
        assert!(text.contains("#[Max     =") && text.contains("Total count    =         5000"), "{text}");
        let dir = std::env::temp_dir().join(format!("te-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("t.png");
        plot(&p, &e, &f, &LatencySummary::new(None, &e, &f)).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert!(bytes.len() > 5_000);
    }
}
