//! The latency plot, written as SVG by hand (no plotting dependency):
//! end-to-end p50 and p99 per second on a logarithmic axis, throughput per
//! second as bars on a linear axis, and each injected fault as a vertical
//! line (a shaded band when it lasts).
//!
//! Rule: the output depends only on the series and the fault marks passed
//! in, so it is testable byte for byte.

use std::fmt::Write;

use crate::stats::SeriesPoint;

/// A fault to mark on the plot.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultMark {
    /// Seconds since the load started.
    pub t: f64,
    /// When it ended, for faults that last (a cut, a stall).
    pub until: Option<f64>,
    pub label: String,
}

const W: f64 = 1100.0;
const H: f64 = 560.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 80.0;
const TOP: f64 = 70.0;
const BOTTOM: f64 = 60.0;

/// Escapes text for an SVG text node or attribute.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The smallest "nice" number (1, 2 or 5 times a power of ten) at or above `v`.
pub fn nice_ceiling(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(v.log10().floor());
    for step in [1.0, 2.0, 5.0, 10.0] {
        if step * magnitude >= v * (1.0 - 1e-9) {
            return step * magnitude;
        }
    }
    10.0 * magnitude
}

/// Renders the plot. `duration_s` fixes the x axis (at least the series' length).
pub fn latency_svg(
    series: &[SeriesPoint],
    faults: &[FaultMark],
    duration_s: f64,
    title: &str,
) -> String {
    let span = duration_s.max(series.len() as f64).max(1.0);
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let x = |t: f64| LEFT + (t / span).clamp(0.0, 1.0) * pw;

    // Latency axis: decades from 1 ms up to the largest p99 seen.
    let max_lat = series
        .iter()
        .filter_map(|p| p.p99_ms.or(p.p50_ms))
        .fold(1.0f64, f64::max);
    let min_lat = series
        .iter()
        .filter_map(|p| p.p50_ms)
        .fold(f64::INFINITY, f64::min);
    let lo_decade = if min_lat.is_finite() {
        min_lat.max(0.1).log10().floor()
    } else {
        0.0
    };
    let hi_decade = max_lat.log10().ceil().max(lo_decade + 1.0);
    let y_lat = |ms: f64| {
        let v = ms.max(10f64.powf(lo_decade)).log10();
        TOP + ph - (v - lo_decade) / (hi_decade - lo_decade) * ph
    };
    // Throughput axis.
    let max_tp = series.iter().map(|p| p.throughput).max().unwrap_or(0) as f64;
    let tp_top = nice_ceiling(max_tp.max(1.0));
    let y_tp = |v: f64| TOP + ph - (v / tp_top) * ph;

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r##"<rect width="{W}" height="{H}" fill="#ffffff"/>"##);
    let _ = writeln!(
        s,
        r##"<text x="{LEFT}" y="24" font-size="16" font-weight="bold" fill="#222">{}</text>"##,
        escape(title)
    );

    // Fault bands first, so everything else draws over them.
    for f in faults {
        if let Some(until) = f.until {
            let (x0, x1) = (x(f.t), x(until));
            let _ = writeln!(
                s,
                r##"<rect class="fault-band" x="{x0:.1}" y="{TOP}" width="{:.1}" height="{ph}" fill="#d62728" fill-opacity="0.08"/>"##,
                (x1 - x0).max(1.0)
            );
        }
    }

    // Throughput bars.
    let bar_w = (pw / span).max(1.0);
    for p in series.iter().filter(|p| p.throughput > 0) {
        let y0 = y_tp(p.throughput as f64);
        let _ = writeln!(
            s,
            r##"<rect class="tp" x="{:.1}" y="{y0:.1}" width="{:.1}" height="{:.1}" fill="#9ecae1" fill-opacity="0.6"/>"##,
            x(p.t),
            (bar_w - 0.5).max(0.5),
            TOP + ph - y0
        );
    }

    // Grid and axes.
    let mut d = lo_decade as i32;
    while d as f64 <= hi_decade {
        for m in [1.0, 2.0, 5.0] {
            let v = m * 10f64.powi(d);
            if v.log10() > hi_decade + 1e-9 {
                continue;
            }
            let y = y_lat(v);
            let major = m == 1.0;
            let _ = writeln!(
                s,
                r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd" stroke-width="{}"/>"##,
                LEFT + pw,
                if major { 1.0 } else { 0.5 }
            );
            let _ = writeln!(
                s,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#444">{}</text>"##,
                LEFT - 6.0,
                y + 4.0,
                format_ms(v)
            );
        }
        d += 1;
    }
    for i in 0..=5 {
        let v = tp_top * i as f64 / 5.0;
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" fill="#3182bd">{}</text>"##,
            LEFT + pw + 6.0,
            y_tp(v) + 4.0,
            trim_number(v)
        );
    }
    let step = nice_ceiling(span / 10.0);
    let mut t = 0.0;
    while t <= span + 1e-9 {
        let xt = x(t);
        let _ = writeln!(
            s,
            r##"<line x1="{xt:.1}" y1="{:.1}" x2="{xt:.1}" y2="{:.1}" stroke="#444"/><text x="{xt:.1}" y="{:.1}" text-anchor="middle" fill="#444">{}</text>"##,
            TOP + ph,
            TOP + ph + 5.0,
            TOP + ph + 19.0,
            trim_number(t)
        );
        t += step;
    }
    let _ = writeln!(
        s,
        r##"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>"##
    );
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#444">seconds since the load started</text>"##,
        LEFT + pw / 2.0,
        H - 15.0
    );
    let _ = writeln!(
        s,
        r##"<text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle" fill="#444">end-to-end latency (ms, log scale)</text>"##,
        TOP + ph / 2.0
    );
    let _ = writeln!(
        s,
        r##"<text transform="translate({:.1} {:.1}) rotate(90)" text-anchor="middle" fill="#3182bd">completed per second</text>"##,
        W - 18.0,
        TOP + ph / 2.0
    );

    // Latency lines, broken where a second printed nothing.
    for (class, color, pick) in [
        (
            "p99",
            "#e6550d",
            (|p: &SeriesPoint| p.p99_ms) as fn(&SeriesPoint) -> Option<f64>,
        ),
        ("p50", "#08519c", |p: &SeriesPoint| p.p50_ms),
    ] {
        let mut run: Vec<(f64, f64)> = Vec::new();
        let flush = |run: &mut Vec<(f64, f64)>, s: &mut String| {
            if let [(cx, cy)] = run.as_slice() {
                let _ = writeln!(
                    s,
                    r##"<circle class="{class}" cx="{cx:.1}" cy="{cy:.1}" r="1.8" fill="{color}"/>"##
                );
            } else if run.len() > 1 {
                let points: Vec<String> = run
                    .iter()
                    .map(|(px, py)| format!("{px:.1},{py:.1}"))
                    .collect();
                let _ = writeln!(
                    s,
                    r##"<polyline class="{class}" fill="none" stroke="{color}" stroke-width="1.6" points="{}"/>"##,
                    points.join(" ")
                );
            }
            run.clear();
        };
        for p in series {
            match pick(p) {
                Some(v) => run.push((x(p.t + 0.5), y_lat(v))),
                None => flush(&mut run, &mut s),
            }
        }
        flush(&mut run, &mut s);
    }

    // Fault lines and labels, staggered so neighbours do not overlap.
    for (i, f) in faults.iter().enumerate() {
        let xf = x(f.t);
        let _ = writeln!(
            s,
            r##"<line class="fault" x1="{xf:.1}" y1="{TOP}" x2="{xf:.1}" y2="{:.1}" stroke="#d62728" stroke-width="1.2" stroke-dasharray="5,3"/>"##,
            TOP + ph
        );
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" fill="#d62728" font-size="11">{}</text>"##,
            xf + 3.0,
            TOP + 12.0 + (i % 4) as f64 * 13.0,
            escape(&f.label)
        );
    }

    // Legend.
    let ly = 46.0;
    let _ = writeln!(
        s,
        r##"<line x1="{LEFT}" y1="{ly}" x2="{:.1}" y2="{ly}" stroke="#08519c" stroke-width="2"/><text x="{:.1}" y="{:.1}" fill="#222">p50</text>"##,
        LEFT + 24.0,
        LEFT + 30.0,
        ly + 4.0
    );
    let _ = writeln!(
        s,
        r##"<line x1="{:.1}" y1="{ly}" x2="{:.1}" y2="{ly}" stroke="#e6550d" stroke-width="2"/><text x="{:.1}" y="{:.1}" fill="#222">p99</text>"##,
        LEFT + 70.0,
        LEFT + 94.0,
        LEFT + 100.0,
        ly + 4.0
    );
    let _ = writeln!(
        s,
        r##"<rect x="{:.1}" y="{:.1}" width="18" height="10" fill="#9ecae1"/><text x="{:.1}" y="{:.1}" fill="#222">printed + voided per second</text>"##,
        LEFT + 140.0,
        ly - 5.0,
        LEFT + 164.0,
        ly + 4.0
    );
    let _ = writeln!(
        s,
        r##"<line x1="{:.1}" y1="{ly}" x2="{:.1}" y2="{ly}" stroke="#d62728" stroke-dasharray="5,3"/><text x="{:.1}" y="{:.1}" fill="#222">fault injected</text>"##,
        LEFT + 340.0,
        LEFT + 364.0,
        LEFT + 370.0,
        ly + 4.0
    );
    s.push_str("</svg>\n");
    s
}

fn format_ms(v: f64) -> String {
    if v >= 1000.0 {
        format!("{} s", trim_number(v / 1000.0))
    } else {
        format!("{} ms", trim_number(v))
    }
}

fn trim_number(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(t: f64, p50: Option<f64>, p99: Option<f64>, tp: u32) -> SeriesPoint {
        SeriesPoint {
            t,
            p50_ms: p50,
            p99_ms: p99,
            throughput: tp,
            errors: 0,
        }
    }

    #[test]
    fn nice_ceilings_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(1.0), 1.0);
        assert_eq!(nice_ceiling(1.3), 2.0);
        assert_eq!(nice_ceiling(3.0), 5.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(140.0), 200.0);
        assert_eq!(nice_ceiling(9.0), 10.0);
        assert_eq!(trim_number(2.50), "2.5");
        assert_eq!(format_ms(2000.0), "2 s");
        assert_eq!(format_ms(50.0), "50 ms");
    }

    #[test]
    fn plot_has_lines_bars_and_one_marker_per_fault() {
        let series = vec![
            point(0.0, Some(10.0), Some(40.0), 5),
            point(1.0, Some(12.0), Some(900.0), 7),
            point(2.0, None, None, 0),
            point(3.0, Some(11.0), Some(30.0), 6),
            point(4.0, Some(9.0), Some(20.0), 6),
        ];
        let faults = vec![
            FaultMark {
                t: 1.5,
                until: None,
                label: "kill gateway-1 <pid 42>".into(),
            },
            FaultMark {
                t: 3.0,
                until: Some(4.0),
                label: "db cut".into(),
            },
        ];
        let svg = latency_svg(&series, &faults, 5.0, "run & test");
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("run &amp; test"));
        assert!(svg.contains("kill gateway-1 &lt;pid 42&gt;"));
        assert_eq!(svg.matches("class=\"fault\"").count(), 2);
        assert_eq!(svg.matches("class=\"fault-band\"").count(), 1);
        assert_eq!(svg.matches("class=\"tp\"").count(), 4);
        // The gap at t = 2 splits each latency line into two polylines.
        assert_eq!(svg.matches("<polyline class=\"p50\"").count(), 2);
        assert_eq!(svg.matches("<polyline class=\"p99\"").count(), 2);
        // Every element opened is closed: a cheap well-formedness check.
        assert_eq!(svg.matches("<svg").count(), svg.matches("</svg>").count());
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
        // Decade labels up to the largest p99 (900 ms -> 1 s).
        assert!(svg.contains(">1 s<"));
        assert!(svg.contains(">10 ms<"));
    }

    #[test]
    fn an_isolated_second_is_a_dot_and_an_empty_run_still_renders() {
        let series = vec![point(0.0, Some(5.0), Some(5.0), 1)];
        let svg = latency_svg(&series, &[], 3.0, "t");
        assert!(svg.contains("<circle class=\"p50\" cx=\""));
        assert!(!svg.contains("<polyline"));
        let empty = latency_svg(&[], &[], 0.0, "empty");
        assert!(empty.contains("</svg>"));
        assert!(!empty.contains("NaN") && !empty.contains("inf"));
    }

    #[test]
    fn same_input_gives_the_same_bytes() {
        let series = vec![point(0.0, Some(3.0), Some(8.0), 2)];
        assert_eq!(
            latency_svg(&series, &[], 2.0, "a"),
            latency_svg(&series, &[], 2.0, "a")
        );
    }
}
