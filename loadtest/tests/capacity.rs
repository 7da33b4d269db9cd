//! `loadtest/capacity.py` turns a bench report into the README's capacity
//! table: the national load from its stated assumptions, each figure per
//! issuance times that load, and what one primary runs out of first.

use std::process::Command;

const BENCH: &str = r#"{"bench":"issuance_ordered","instances":2,"copiers":32,"throughput_per_s_median":200.0,"cpu_ms_per_issuance":[{"kofu":5.0,"postgres":3.0},{"kofu":5.2,"postgres":3.2},{"kofu":5.4,"postgres":3.1}],"database":[{"transactions_per_issuance":10.0,"wal_bytes_per_issuance":9000,"connections":34},{"transactions_per_issuance":10.2,"wal_bytes_per_issuance":9200,"connections":34},{"transactions_per_issuance":10.1,"wal_bytes_per_issuance":9100,"connections":34}],"db_pool_size":null}
{"bench":"render_ceiling","renders_per_s":600.0}
{"bench":"database_ceiling","pgbench_insert_tps":5000.0,"issuances_per_s":500.0}
"#;

fn capacity(bench: &str, args: &[&str]) -> (bool, String) {
    // One directory per call: the tests run at once.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("kofu-capacity-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bench.jsonl");
    std::fs::write(&path, bench).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/capacity.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(&path)
        .args(args)
        .output()
        .expect("python3 runs");
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn the_table_multiplies_the_medians_by_the_national_load() {
    let (ok, text) = capacity(BENCH, &[]);
    assert!(ok, "{text}");
    // 31.9 M a year over 365 days of 16.5 hours: 1.47/s; the peak hour is
    // 1.5 x 2 x 2.5 = 7.5 times that; 55,000 stores at 90 s: 611/s.
    assert!(text.contains("| year's mean | 1.5 |"), "{text}");
    assert!(
        text.contains("| fiscal-year-end peak hour | 11.0 |"),
        "{text}"
    );
    assert!(text.contains("| every store at once | 611.1 |"), "{text}");
    // Medians: kofu 5.2 ms, PostgreSQL 3.1 ms, 10.1 transactions, 9.1 kB.
    assert!(
        text.contains("| kofu CPU per issuance | 5.2 ms |"),
        "{text}"
    );
    assert!(
        text.contains("| PostgreSQL CPU per issuance | 3.1 ms |"),
        "{text}"
    );
    assert!(text.contains("| WAL per issuance | 9.1 kB |"), "{text}");
    // 611.1/s x 10.1 transactions.
    assert!(text.contains("6,172/s"), "{text}");
    // The pgbench ceiling (500/s on 2 cores) times 8 runs out first.
    assert!(text.contains("First to run out: commits"), "{text}");
    assert!(text.contains("at 4,000 issuances/s"), "{text}");
}

#[test]
fn the_assumptions_are_options() {
    let (ok, text) = capacity(BENCH, &["--copies-per-year", "63.8e6", "--db-cores", "2"]);
    assert!(ok, "{text}");
    assert!(text.contains("| year's mean | 2.9 |"), "{text}");
    assert!(text.contains("at 500 issuances/s"), "{text}");
}

#[test]
fn a_report_that_is_not_a_bench_is_refused_by_name() {
    let (ok, text) = capacity("{\"bench\":\"render_ceiling\",\"renders_per_s\":1}\n", &[]);
    assert!(!ok);
    assert!(text.contains("no 'issuance_ordered' line"), "{text}");
    let old = BENCH.replace("\"database\"", "\"old_database\"");
    let (ok, text) = capacity(&old, &[]);
    assert!(!ok);
    assert!(
        text.contains("the bench has no transactions, wal_bytes"),
        "{text}"
    );
}
