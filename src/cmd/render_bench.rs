//! `kofu render bench`: render time and size per certificate kind, one JSON
//! line each — the median and p99 of repeated renders on one thread, per
//! document and per page, and the PDF size — on fixed fixture content,
//! which it also writes to `var/bench/` so other tools can render the same
//! certificates. `cargo bench --bench render` runs the same.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::devkit::samples;
use crate::gateway::domain::CertificateKind;
use crate::gateway::render::Renderer;
use crate::gateway::render::model::Certificate;

#[derive(clap::Args, Debug)]
pub struct RenderBenchArgs {
    /// A kind's wire name, or `all`.
    #[arg(long, default_value = "all")]
    pub kind: String,
    /// Renders timed per certificate.
    #[arg(long, default_value_t = 500)]
    pub iterations: usize,
    /// Where the fixture content is written (one JSON file per fixture).
    #[arg(long, default_value = "var/bench")]
    pub fixtures: PathBuf,
}

/// The number of people a fixture lists (the residence certificate has a
/// one- and a seven-person fixture).
fn members(cert: &Certificate) -> usize {
    match cert {
        Certificate::Residence(c) => c.members.len(),
        Certificate::FamilyRegister(c) => c.members.len(),
        _ => 1,
    }
}

/// The fixture as a file: the kind, the snapshot and the signing inputs
/// (the devkit key's seed is public: it signs nothing real).
fn write_fixture(dir: &std::path::Path, cert: &Certificate) -> Result<PathBuf, crate::BoxError> {
    let signing = samples::signing();
    let path = dir.join(format!(
        "{}-{}.json",
        cert.kind().wire_name(),
        members(cert)
    ));
    let fixture = serde_json::json!({
        "kind": cert.kind().wire_name(),
        "snapshot": cert.to_snapshot(),
        "issued_at": signing.issued_at.unix_timestamp(),
        "key_id": signing.signer.key_id(),
        "signing_seed_hex": samples::SIGNING_SEED.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        "verify_base": signing.verify_base,
    });
    std::fs::write(&path, serde_json::to_vec_pretty(&fixture)?)?;
    Ok(path)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Prints the font preparation time, then one line per fixture.
pub fn run(args: &RenderBenchArgs, out: &mut impl Write) -> Result<(), crate::BoxError> {
    let wanted = match args.kind.as_str() {
        "all" => None,
        name => Some(CertificateKind::from_wire(name).ok_or_else(|| {
            format!("unknown kind {name:?}; one of all, {}", {
                let names: Vec<_> = CertificateKind::ALL.iter().map(|k| k.wire_name()).collect();
                names.join(", ")
            })
        })?),
    };
    let iterations = args.iterations.max(1);
    std::fs::create_dir_all(&args.fixtures)?;
    let start = Instant::now();
    let renderer = Renderer::global();
    let prepare = start.elapsed();
    writeln!(
        out,
        "{}",
        serde_json::json!({"bench": "font_prepare_once", "ms": ms(prepare)})
    )?;
    let signing = samples::signing();
    for cert in samples::every_kind() {
        if wanted.is_some_and(|k| k != cert.kind()) {
            continue;
        }
        let fixture = write_fixture(&args.fixtures, &cert)?;
        let warm = renderer.render_signed(&cert, &signing)?;
        let mut times: Vec<Duration> = (0..iterations)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(
                    renderer
                        .render_signed(&cert, &signing)
                        .expect("rendered once already"),
                );
                t.elapsed()
            })
            .collect();
        times.sort();
        let median = times[iterations / 2];
        let p99 = times[(iterations * 99 / 100).min(iterations - 1)];
        let pages = f64::from(warm.page_count.max(1));
        writeln!(
            out,
            "{}",
            serde_json::json!({
                "bench": "render",
                "kind": cert.kind().wire_name(),
                "members": members(&cert),
                "pages": warm.page_count,
                "pdf_bytes": warm.pdf.len(),
                "iterations": iterations,
                "median_ms": ms(median),
                "p99_ms": ms(p99),
                "median_ms_per_page": ms(median) / pages,
                "p99_ms_per_page": ms(p99) / pages,
                "fixture": fixture.display().to_string(),
            })
        )?;
    }
    Ok(())
}
