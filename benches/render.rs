//! Render-time benchmark, one JSON line per certificate kind (the residence
//! certificate for one and for seven people): `cargo bench --bench render`,
//! the same as `kofu render bench`.

fn main() {
    let args = kofu::cmd::render_bench::RenderBenchArgs { runs: 200 };
    kofu::cmd::render_bench::run(&args, &mut std::io::stdout().lock())
        .expect("every sample renders");
}
