//! `kofu render bench`: render time and size per certificate kind, one JSON
//! line each — the median and p90 of repeated renders on one thread, the
//! page count and the PDF size. `cargo bench --bench render` runs the same.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::devkit::samples;
use crate::gateway::render::Renderer;

#[derive(clap::Args, Debug)]
pub struct RenderBenchArgs {
    /// Renders timed per certificate.
    #[arg(long, default_value_t = 200)]
    pub runs: usize,
}

/// Prints the font parse time, then one line per sample certificate.
pub fn run(args: &RenderBenchArgs, out: &mut impl Write) -> Result<(), crate::BoxError> {
    let runs = args.runs.max(1);
    let start = Instant::now();
    let renderer = Renderer::global();
    let font_parse = start.elapsed();
    writeln!(
        out,
        "{}",
        serde_json::json!({"bench": "font_parse_once", "ms": font_parse.as_secs_f64() * 1e3})
    )?;
    for cert in samples::every_kind() {
        let warm = renderer.render(&cert)?;
        let mut times: Vec<Duration> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(renderer.render(&cert).expect("rendered once already"));
                t.elapsed()
            })
            .collect();
        times.sort();
        let members = match &cert {
            crate::gateway::render::model::Certificate::Residence(c) => c.members.len(),
            crate::gateway::render::model::Certificate::FamilyRegister(c) => c.members.len(),
            _ => 1,
        };
        writeln!(
            out,
            "{}",
            serde_json::json!({
                "bench": "render",
                "kind": cert.kind().wire_name(),
                "members": members,
                "pages": warm.page_count,
                "pdf_bytes": warm.pdf.len(),
                "runs": runs,
                "median_ms": times[runs / 2].as_secs_f64() * 1e3,
                "p90_ms": times[runs * 9 / 10].as_secs_f64() * 1e3,
            })
        )?;
    }
    Ok(())
}
