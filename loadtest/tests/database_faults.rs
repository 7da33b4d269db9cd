//! The database's worst days, under load, through the harness itself: a
//! crash of PostgreSQL (every process SIGKILLed at once, then crash
//! recovery) and a failover of a Patroni cluster (the primary's machine
//! crashes, the synchronous standby is promoted, the old primary rejoins).
//! Each run must end with nothing misdelivered, duplicated, lost, out of
//! order or unfinished, and no copier ever given a 500.
//!
//! The failover needs Debian's `patroni` and `etcd-server`, which `.ci/run`
//! installs; without them the test fails saying so. The two runs take the
//! machine's two cores each, so they run one after the other.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A fresh directory for one run.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kofu-lt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `loadtest run` with `args` and returns its report.
fn run(dir: &Path, args: &[&str]) -> serde_json::Value {
    let loadtest = PathBuf::from(env!("CARGO_BIN_EXE_loadtest"));
    let kofu = loadtest.with_file_name("kofu");
    assert!(
        kofu.is_file(),
        "{} is missing: run the workspace's tests (cargo test --release --workspace), which build it",
        kofu.display()
    );
    let report = dir.join("report.json");
    let out = Command::new(&loadtest)
        .arg("run")
        .args(["--kofu", kofu.to_str().unwrap()])
        .args(["--data", dir.join("data").to_str().unwrap()])
        .args(["--out", dir.join("out").to_str().unwrap()])
        .args(["--report", report.to_str().unwrap()])
        .args([
            "--instances",
            "2",
            "--copiers",
            "4",
            "--rate",
            "8",
            "--cards",
            "200",
            "--check-fraction",
            "0.2",
        ])
        .args(args)
        .output()
        .unwrap();
    let text = std::fs::read_to_string(&report).unwrap_or_else(|e| {
        panic!(
            "no report ({e}); loadtest said:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(
        out.status.success(),
        "loadtest exited {:?}; report: {report:#}",
        out.status.code()
    );
    report
}

/// Every invariant at 0, nothing unfinished, no 500, and each fault in
/// `kinds` logged.
fn assert_kept_every_promise(report: &serde_json::Value, kinds: &[&str]) {
    for key in ["misdelivered", "duplicates", "lost", "out_of_order"] {
        assert_eq!(report[key], 0, "{key}: {report:#}");
    }
    assert_eq!(report["invariants_hold"], true, "{report:#}");
    assert_eq!(report["audit_chain_valid"], true, "{report:#}");
    let audit = &report["details"]["database_audit"];
    assert_eq!(audit["unfinished_after_drain"], 0, "{audit:#}");
    assert!(
        report["printed"].as_u64().unwrap() > 50,
        "the load went on around the fault: {report:#}"
    );
    let answers = format!("{}{}", report["errors"], report["retries"]);
    assert!(!answers.contains(" 500"), "a copier got a 500: {answers}");
    let logged: Vec<&str> = report["faults"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["kind"].as_str())
        .collect();
    for kind in kinds {
        assert!(logged.contains(kind), "{kind} not in {logged:?}");
    }
}

#[test]
fn a_crash_of_postgresql_under_load_loses_nothing_and_prints_nothing_twice() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = scratch("crash");
    let report = run(&dir, &["--duration", "30", "--pg-crash-at", "10"]);
    assert_kept_every_promise(&report, &["pg_crash", "pg_recovered"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failover_to_the_synchronous_standby_under_load_loses_nothing() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = scratch("failover");
    let report = run(
        &dir,
        &["--ha", "--duration", "50", "--pg-failover-at", "10"],
    );
    assert_kept_every_promise(&report, &["pg_primary_crash", "pg_promoted", "pg_rejoined"]);
    // The copiers were refused while no node was primary, and not for
    // much longer than the leader key lives.
    let longest = report["details"]["refusal_windows"]["longest_s"]
        .as_f64()
        .unwrap();
    assert!(longest < 60.0, "refused for {longest} s");
    let _ = std::fs::remove_dir_all(&dir);
}
