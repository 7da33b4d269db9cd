//! Render-time benchmark, one JSON line per certificate kind (the residence
//! certificate for one and for seven people): `cargo bench --bench render`,
//! the same as `kofu render bench`.

fn main() {
    let args = kofu::cmd::render_bench::RenderBenchArgs {
        kind: "all".to_owned(),
        iterations: 500,
        fixtures: std::env::temp_dir().join("kofu-bench-fixtures"),
    };
    kofu::cmd::render_bench::run(&args, &mut std::io::stdout().lock())
        .expect("every sample renders");
}
