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

/// Sends the demo SIGTERM, as Ctrl-C or a service manager would.
fn terminate(child: &std::process::Child) {
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
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
    terminate(&child);
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
    assert_eq!(first.len(), 10, "{first:?}");
    assert_eq!(
        transcript.matches("verified offline: genuine").count(),
        10,
        "the demo checks every PDF it printed: {transcript}"
    );
    // One of them through the smartphone certificate of card-rsa-1.
    assert!(
        transcript.contains("phone-ecdsa-1 ") && transcript.contains("(self, by smartphone)"),
        "{transcript}"
    );
    assert!(transcript.contains("2 smartphones linked"), "{transcript}");
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
    assert_eq!(pdfs(&dir).len(), 20, "new documents get new numbers");
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

/// Every personal datum of the demo's residents and every card's and
/// smartphone's raw serial, in the forms they could leak in.
fn secrets(certs: &std::path::Path) -> Vec<String> {
    use kofu::devkit::demo_registers::{HOUSEHOLDS, RESIDENTS};
    let mut out = Vec::new();
    for r in RESIDENTS {
        out.push(r.name.to_owned());
        out.push(r.name.replace('　', ""));
        out.push(r.name_kana.to_owned());
        out.push(r.birth_date.to_string());
        out.push(kofu::gateway::render::era::format_japanese_date(
            r.birth_date,
        ));
        if let Some(m) = r.my_number {
            out.push(m.to_owned());
        }
    }
    for (_, address) in HOUSEHOLDS {
        out.push((*address).to_owned());
    }
    // The foreign resident the demo seeds beside them.
    for v in [
        "NGUYEN VAN AN",
        "グエン　ヴァン　アン",
        "中村　安",
        "1994-09-12",
        "234567890121",
        "AB12345678CD",
        "東京都ひなた市青葉台二丁目8番1号",
    ] {
        out.push(v.to_owned());
    }
    let pki = kofu::devkit::demo_pki::DemoPki::load_or_generate(certs).unwrap();
    for card in pki.cards.iter().chain(&pki.phones) {
        let serial = kofu::devkit::demo_pki::card_serial(&card.cert_der).unwrap();
        let hex: String = serial
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        out.push(hex.to_uppercase());
        out.push(hex);
    }
    out
}

/// The `label   URL` line of the demo's transcript.
fn url_in(transcript: &str, label: &str) -> String {
    let line = transcript
        .lines()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("no {label} in {transcript}"));
    line.split_whitespace()
        .find(|w| w.starts_with("http"))
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_demo_and_a_load_of_every_resident_leave_no_personal_data_in_logs_or_metrics() {
    use kofu::devkit::sim::{CopierClient, OrderSpec};
    use kofu::gateway::domain::CertificateKind;
    let dir = crate::harness::scratch_dir().join("pii");
    std::fs::create_dir_all(&dir).unwrap();
    let (stdout_path, stderr_path) = (dir.join("stdout.log"), dir.join("stderr.log"));
    let mut child = demo(&dir, false)
        .env("RUST_LOG", "kofu=debug,info")
        // Two copiers print every kind for every holder back to back,
        // some 240 requests each in a few seconds: more than a real
        // copier's burst (60), which `abuse.rs` tests.
        .env("KOFU_RATE_LIMITS__COPIER_REQUESTS_BURST", "100000")
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let mut transcript = String::new();
    for _ in 0..600 {
        transcript = std::fs::read_to_string(&stdout_path).unwrap_or_default();
        if transcript.contains("Serving.") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(transcript.contains("Serving."), "{transcript}");
    let api = url_in(&transcript, "copier API");
    let metrics_url = url_in(&transcript, "metrics");

    // A short load: every card holder, every kind, whole households, from
    // both copiers, each card at one of them (a card sits in one copier:
    // the demo refuses it at a second one for two minutes).
    let certs = dir.join("certs");
    let pki = kofu::devkit::demo_pki::DemoPki::load_or_generate(&certs).unwrap();
    let mut printed = 0;
    for n in 0..2 {
        let (_, cert, key) = kofu::devkit::demo_pki::copier_files(&certs, &pki, n);
        let copier =
            CopierClient::new(&api, &certs.join("store-ca.pem"), Some((&cert, &key))).unwrap();
        for (i, (label, _)) in kofu::devkit::demo_registers::CARD_HOLDERS
            .iter()
            .enumerate()
        {
            if i % 2 != n {
                continue;
            }
            let card = pki.cards.iter().find(|c| c.label == *label).unwrap();
            let mut specs = vec![OrderSpec::of(
                CertificateKind::ResidenceCertificate,
                serde_json::json!({"whole_household": true, "show_domicile": true, "show_my_number": true}),
            )];
            for kind in CertificateKind::ALL {
                specs.push(OrderSpec::of(kind, serde_json::json!({})));
            }
            for spec in &specs {
                if copier.issue(card, spec, "ja").await.is_ok() {
                    printed += 1;
                }
            }
        }
    }
    assert!(printed >= 10, "{printed} printed");
    // The smartphones: one prints; the other is suspended through the
    // administration API (J-LIS) and refused, at debug level too.
    let (_, cert, key) = kofu::devkit::demo_pki::copier_files(&certs, &pki, 0);
    let copier = CopierClient::new(&api, &certs.join("store-ca.pem"), Some((&cert, &key))).unwrap();
    let phone = |label: &str| pki.phones.iter().find(|c| c.label == label).unwrap();
    copier
        .issue(
            phone("phone-ecdsa-1"),
            &OrderSpec::of(CertificateKind::ResidenceCertificate, serde_json::json!({})),
            "ja",
        )
        .await
        .expect("the smartphone prints");
    let stem = kofu::devkit::operator_pki::JLIS_OPERATOR_STEM;
    let jlis = CopierClient::new(
        url_in(&transcript, "admin API").trim_end_matches("/v1/admin/certificate-events"),
        &certs.join("store-ca.pem"),
        Some((
            &certs.join(format!("{stem}.pem")),
            &certs.join(format!("{stem}.key")),
        )),
    )
    .unwrap();
    let suspended_serial =
        kofu::devkit::demo_pki::card_serial(&phone("phone-rsa-1").cert_der).unwrap();
    let hex: String = suspended_serial
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let r = jlis
        .post_json(
            "/v1/admin/certificate-events",
            &[],
            &serde_json::json!({"event_id": "pii-phone-1", "kind": "smartphone_suspended", "serial": hex}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{:?}", r.problem_code());
    let session = copier.open_session().await.unwrap();
    match copier
        .present_card(&session, phone("phone-rsa-1"), "ja")
        .await
    {
        Err(kofu::devkit::sim::SimError::Refused { code, .. }) => {
            assert_eq!(code, "smartphone_suspended")
        }
        other => panic!("{other:?}"),
    }
    let metrics = {
        let url = metrics_url.strip_prefix("http://").unwrap();
        let (host, path) = url.split_once('/').unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
        s.write_all(
            format!("GET /{path} HTTP/1.1\r\nHost: ops\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        let mut body = String::new();
        s.read_to_string(&mut body).await.unwrap();
        body
    };
    assert!(metrics.contains("kofu_orders_printed_total"), "{metrics}");

    terminate(&child);
    assert!(child.wait().unwrap().success());
    let logs = std::fs::read_to_string(&stdout_path).unwrap()
        + &std::fs::read_to_string(&stderr_path).unwrap();
    assert!(logs.lines().count() > 50, "the logs were captured: {logs}");
    assert!(logs.contains("request"), "request spans are logged: {logs}");
    // The scan reads what was printed: the municipality's own name is there.
    assert!(logs.contains("ひなた市 (139998)"), "{logs}");
    for secret in secrets(&certs) {
        for (what, text) in [("the logs", &logs), ("/metrics", &metrics)] {
            assert!(
                !text.contains(&secret),
                "{what} contain a resident's or card's datum ({} characters)",
                secret.chars().count()
            );
        }
    }
}
