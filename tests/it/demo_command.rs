//! `kofu demo` as a user runs it: the real binary, its own PostgreSQL and PKI.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn demo(dir: &std::path::Path, once: bool) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kofu"));
    cmd.arg("demo")
        .arg("--data")
        .arg(dir.join("var"))
        .arg("--certs")
        .arg(dir.join("certs"))
        .args(["--listen", "127.0.0.1:0", "--ops-listen", "127.0.0.1:0"])
        .args(["--admin-listen", "127.0.0.1:0"]);
    if once {
        cmd.arg("--once");
    }
    cmd
}

fn pdfs(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir.join("var/out"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
        .collect();
    v.sort();
    v
}

#[test]
fn demo_prints_pdfs_then_stops_postgres_on_sigterm_and_reuses_data() {
    let dir = crate::harness::scratch_dir().join("demo");
    std::fs::create_dir_all(&dir).unwrap();

    // First run serves until SIGTERM.
    let mut child = demo(&dir, false)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut transcript = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        transcript.push_str(&line);
        transcript.push('\n');
        if line.starts_with("Serving.") || line.starts_with("simulated copier failed") {
            break;
        }
    }
    assert!(
        transcript.contains("Serving."),
        "demo did not reach serving:\n{transcript}"
    );
    assert!(transcript.contains("new cluster"), "{transcript}");
    assert!(
        transcript.contains("copier API   https://127.0.0.1:"),
        "{transcript}"
    );
    assert!(
        !transcript.contains("日向"),
        "no resident names on the console"
    );
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "demo exited with {status}: {rest:?}");
    assert!(
        rest.iter()
            .any(|l| l.contains("PostgreSQL stopped cleanly")),
        "{rest:?}"
    );
    assert!(
        !dir.join("var/pg/postmaster.pid").exists(),
        "postmaster left behind"
    );
    let first = pdfs(&dir);
    assert_eq!(first.len(), 9, "{first:?}");
    assert_eq!(
        transcript.matches("verified offline: genuine").count(),
        9,
        "the demo checks every PDF it printed: {transcript}"
    );
    // A third party with the published keys checks each one offline.
    let keys = dir.join("var/out/keys.json");
    for pdf in &first {
        assert!(std::fs::read(pdf).unwrap().starts_with(b"%PDF-"));
        let out = Command::new(env!("CARGO_BIN_EXE_kofu"))
            .args(["document", "verify", "--keys"])
            .arg(&keys)
            .arg(pdf)
            .output()
            .unwrap();
        let verdict: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(0), "{}: {verdict}", pdf.display());
        assert_eq!(verdict["reason"], "genuine");
        assert_eq!(verdict["municipality"], "139998");
    }
    // One of every kind, each file named for its kind.
    for kind in kofu::gateway::domain::CertificateKind::ALL {
        let suffix = format!("-{}.pdf", kind.wire_name());
        assert!(
            first.iter().any(|p| p.to_string_lossy().ends_with(&suffix)),
            "no {kind} in {first:?}"
        );
    }

    // Second run reuses the cluster and the PKI, and prints with new tickets.
    let out = demo(&dir, true).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("reused cluster"), "{text}");
    assert!(text.contains("demo PKI     reused"), "{text}");
    assert_eq!(pdfs(&dir).len(), 18, "new documents get new numbers");
}

/// `kofu render bench` prints one line per sample, covering every kind.
#[test]
fn render_bench_times_every_kind() {
    let out = Command::new(env!("CARGO_BIN_EXE_kofu"))
        .args([
            "render",
            "bench",
            "--kind",
            "all",
            "--iterations",
            "3",
            "--fixtures",
        ])
        .arg(crate::harness::scratch_dir().join("bench-fixtures"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for kind in kofu::gateway::domain::CertificateKind::ALL {
        let line = lines
            .iter()
            .find(|l| l["kind"] == kind.wire_name())
            .unwrap_or_else(|| panic!("no line for {kind}"));
        assert!(line["median_ms"].as_f64().unwrap() > 0.0);
        assert!(line["p99_ms"].as_f64().unwrap() >= line["median_ms"].as_f64().unwrap());
        assert!(line["median_ms_per_page"].as_f64().unwrap() > 0.0);
        assert!(line["pdf_bytes"].as_u64().unwrap() > 10_000);
        // The fixture it rendered is written for other tools.
        let fixture: serde_json::Value =
            serde_json::from_slice(&std::fs::read(line["fixture"].as_str().unwrap()).unwrap())
                .unwrap();
        assert_eq!(fixture["kind"], kind.wire_name());
    }
}
