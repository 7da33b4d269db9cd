//! Render-time benchmark for the residence certificate (住民票の写し).
//! `cargo bench --bench render` prints one JSON line per case: median and p90
//! over repeated renders on one thread, and the PDF size.

use std::time::{Duration, Instant};

use kofu::gateway::render::Renderer;
use kofu::gateway::render::model::ResidenceCertificate;

fn main() {
    let start = Instant::now();
    let renderer = Renderer::global();
    let font_parse = start.elapsed();
    println!(
        "{}",
        serde_json::json!({"bench": "font_parse_once", "ms": font_parse.as_secs_f64() * 1e3})
    );
    for (members, runs) in [(1usize, 200usize), (3, 200), (7, 100)] {
        let cert = ResidenceCertificate::sample(members);
        let warm = renderer.residence_certificate(&cert).expect("renders");
        let mut times: Vec<Duration> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(renderer.residence_certificate(&cert).expect("renders"));
                t.elapsed()
            })
            .collect();
        times.sort();
        println!(
            "{}",
            serde_json::json!({
                "bench": "render_residence_certificate",
                "members": members,
                "pages": warm.page_count,
                "pdf_bytes": warm.pdf.len(),
                "runs": runs,
                "median_ms": times[runs / 2].as_secs_f64() * 1e3,
                "p90_ms": times[runs * 9 / 10].as_secs_f64() * 1e3,
            })
        );
    }
}
