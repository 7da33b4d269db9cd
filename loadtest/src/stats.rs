//! Latency statistics: nearest-rank percentiles per stage, and a per-second
//! series (end-to-end p50/p99, throughput) for the plot.
//!
//! Rule: every number in the report comes from the raw samples kept here;
//! nothing is pre-aggregated, so percentiles are exact.

use serde::Serialize;

/// The stages of one issuance, in flow order, then the whole.
pub const STAGES: [&str; 6] = [
    "session",
    "card",
    "order",
    "document",
    "printed",
    "end_to_end",
];

/// Index into [`STAGES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Session = 0,
    Card = 1,
    Order = 2,
    Document = 3,
    Printed = 4,
    EndToEnd = 5,
}

impl Stage {
    pub fn name(self) -> &'static str {
        STAGES[self as usize]
    }
}

/// Nearest-rank percentile of an ascending slice: the smallest value with at
/// least `p` percent of the samples at or below it. `None` when empty.
/// A stretch of time in which a copier was refused (or got no answer) and
/// retried, with no quiet second inside.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Window {
    pub from_s: f64,
    pub to_s: f64,
    pub retries: usize,
}

/// The windows of `times` (seconds, in any order): times less than `gap`
/// apart belong to one window.
pub fn windows(times: &[f64], gap: f64) -> Vec<Window> {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut out: Vec<Window> = Vec::new();
    for t in sorted {
        match out.last_mut() {
            Some(w) if t - w.to_s < gap => {
                w.to_s = t;
                w.retries += 1;
            }
            _ => out.push(Window {
                from_s: t,
                to_s: t,
                retries: 1,
            }),
        }
    }
    out
}

pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    // The epsilon keeps 99.9 % of 1000 at rank 999 despite binary floating point.
    let rank = ((p / 100.0) * sorted.len() as f64 - 1e-9).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// What the report shows for one stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Summary {
    pub n: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

/// Sorts `samples` in place and summarises them (all zero when empty).
pub fn summarize(samples: &mut [f64]) -> Summary {
    samples.sort_by(f64::total_cmp);
    let round = |v: f64| (v * 10.0).round() / 10.0;
    let get = |p| round(percentile(samples, p).unwrap_or(0.0));
    Summary {
        n: samples.len(),
        p50_ms: get(50.0),
        p99_ms: get(99.0),
        p999_ms: get(99.9),
        max_ms: round(samples.last().copied().unwrap_or(0.0)),
        mean_ms: if samples.is_empty() {
            0.0
        } else {
            round(samples.iter().sum::<f64>() / samples.len() as f64)
        },
    }
}

/// One second of the run, by completion time.
#[derive(Debug, Clone, Default)]
pub struct SecondBucket {
    /// End-to-end latencies of issuances printed in this second.
    pub e2e_ms: Vec<f64>,
    pub printed: u32,
    pub voided: u32,
    pub errors: u32,
}

/// A point of the plotted series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SeriesPoint {
    /// Seconds since the load started (the bucket's start).
    pub t: f64,
    /// End-to-end latency percentiles in the bucket (`None`: nothing printed).
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// Printed + voided in this second.
    pub throughput: u32,
    pub errors: u32,
}

/// Raw samples for the whole run.
#[derive(Debug, Default)]
pub struct Recorder {
    stages: [Vec<f64>; 6],
    seconds: Vec<SecondBucket>,
}

impl Recorder {
    /// A stage took `ms` (from its first attempt to its success).
    pub fn stage(&mut self, stage: Stage, ms: f64) {
        self.stages[stage as usize].push(ms);
    }

    fn bucket(&mut self, at_s: f64) -> &mut SecondBucket {
        let i = at_s.max(0.0) as usize;
        if self.seconds.len() <= i {
            self.seconds.resize_with(i + 1, SecondBucket::default);
        }
        &mut self.seconds[i]
    }

    /// An issuance ended printed at `at_s` seconds into the run.
    pub fn printed(&mut self, at_s: f64, e2e_ms: f64) {
        self.stage(Stage::EndToEnd, e2e_ms);
        let b = self.bucket(at_s);
        b.printed += 1;
        b.e2e_ms.push(e2e_ms);
    }

    pub fn voided(&mut self, at_s: f64) {
        self.bucket(at_s).voided += 1;
    }

    pub fn error(&mut self, at_s: f64) {
        self.bucket(at_s).errors += 1;
    }

    /// Per-stage summaries, in [`STAGES`] order.
    pub fn summaries(&self) -> Vec<(&'static str, Summary)> {
        STAGES
            .iter()
            .zip(&self.stages)
            .map(|(name, samples)| (*name, summarize(&mut samples.clone())))
            .collect()
    }

    /// Printed + voided over the seconds that saw any, up to `until_s`.
    pub fn series(&self, until_s: f64) -> Vec<SeriesPoint> {
        let n = (until_s.ceil() as usize).max(self.seconds.len());
        (0..n)
            .map(|i| {
                let empty = SecondBucket::default();
                let b = self.seconds.get(i).unwrap_or(&empty);
                let mut lat = b.e2e_ms.clone();
                lat.sort_by(f64::total_cmp);
                SeriesPoint {
                    t: i as f64,
                    p50_ms: percentile(&lat, 50.0),
                    p99_ms: percentile(&lat, 99.0),
                    throughput: b.printed + b.voided,
                    errors: b.errors,
                }
            })
            .collect()
    }

    /// Completions in the last `window` whole seconds before `now_s` (for the progress line).
    pub fn recent_rate(&self, now_s: f64, window: usize) -> f64 {
        let end = now_s.max(0.0) as usize; // the current, partial second is left out
        let start = end.saturating_sub(window);
        let done: u32 = (start..end)
            .filter_map(|i| self.seconds.get(i))
            .map(|b| b.printed + b.voided)
            .sum();
        if end > start {
            done as f64 / (end - start) as f64
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_less_than_the_gap_apart_make_one_window() {
        let w = windows(&[5.0, 1.0, 1.5, 2.2, 9.0, 9.1], 1.0);
        assert_eq!(
            w,
            vec![
                Window {
                    from_s: 1.0,
                    to_s: 2.2,
                    retries: 3
                },
                Window {
                    from_s: 5.0,
                    to_s: 5.0,
                    retries: 1
                },
                Window {
                    from_s: 9.0,
                    to_s: 9.1,
                    retries: 2
                },
            ]
        );
        assert!(windows(&[], 1.0).is_empty());
    }

    #[test]
    fn nearest_rank_percentiles_pick_real_samples() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 99.0), Some(99.0));
        assert_eq!(percentile(&v, 99.9), Some(100.0));
        assert_eq!(percentile(&v, 100.0), Some(100.0));
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        assert_eq!(percentile(&[7.0], 99.9), Some(7.0));
        assert_eq!(percentile(&[], 50.0), None);
        let v: Vec<f64> = (1..=1000).map(f64::from).collect();
        assert_eq!(percentile(&v, 99.9), Some(999.0));
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 50.0), Some(2.0));
    }

    #[test]
    fn summary_sorts_and_rounds() {
        let mut v = vec![3.04, 1.0, 2.0, 10.0];
        let s = summarize(&mut v);
        assert_eq!(s.n, 4);
        assert_eq!(s.p50_ms, 2.0);
        assert_eq!(s.p99_ms, 10.0);
        assert_eq!(s.max_ms, 10.0);
        assert_eq!(s.mean_ms, 4.0);
        assert_eq!(summarize(&mut []), Summary::default());
    }

    #[test]
    fn series_buckets_by_completion_second_and_fills_gaps() {
        let mut r = Recorder::default();
        r.printed(0.2, 10.0);
        r.printed(0.9, 30.0);
        r.voided(0.5);
        r.printed(2.5, 5.0);
        r.error(2.1);
        let s = r.series(4.0);
        assert_eq!(s.len(), 4);
        assert_eq!(s[0].throughput, 3);
        assert_eq!(s[0].p50_ms, Some(10.0));
        assert_eq!(s[0].p99_ms, Some(30.0));
        assert_eq!(s[1].throughput, 0);
        assert_eq!(s[1].p50_ms, None);
        assert_eq!(s[2].errors, 1);
        assert_eq!(s[3].throughput, 0);
        assert_eq!(r.recent_rate(3.5, 3), 4.0 / 3.0);
        let e2e = r.summaries()[5].1;
        assert_eq!(e2e.n, 3);
    }
}
