//! The revocation store survives a restart: CRLs (full and delta) and events
//! saved to PostgreSQL rebuild the same answers; and `kofu pki bench` prints
//! the JSON lines its readers expect.

use kofu::devkit::crl_gen::{self, CrlSpec};
use kofu::devkit::demo_pki::pem;
use kofu::gateway::pki::revocation::{
    IssuerKey, LoadedContent, Reason, Serial, Status, load_crl, persist,
};

use crate::harness::{TestApp, pki};

fn spki(cert_der: &[u8]) -> Vec<u8> {
    use x509_parser::prelude::FromDer;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(cert_der).unwrap();
    cert.tbs_certificate.subject_pki.raw.to_vec()
}

#[tokio::test]
async fn saved_crls_and_events_rebuild_the_same_store_after_a_restart() {
    let app = TestApp::spawn().await;
    // A CA of its own: the harness already published a CRL for the test CA.
    let ca = &kofu::devkit::demo_pki::Issuer::user_auth_ca("restart").unwrap();
    let spki = spki(&ca.cert_der);
    let issuer = IssuerKey::of_ca_certificate(&ca.cert_der).unwrap();
    let entries: Vec<_> = crl_gen::random_entries(1_000, 17).collect();
    let held: Vec<Serial> = entries
        .iter()
        .filter(|(_, r)| *r == Some(Reason::CertificateHold))
        .map(|(s, _)| *s)
        .collect();
    let added = Serial::from_magnitude(&[0x33; 14]).unwrap();
    let reported = Serial::from_magnitude(&[0x44; 9]).unwrap();

    let full = crl_gen::generate_crl(ca, &CrlSpec::full(10), entries.iter().copied()).unwrap();
    let mut delta_entries = vec![(added, Some(Reason::KeyCompromise))];
    delta_entries.push((held[0], Some(Reason::RemoveFromCrl)));
    let delta = crl_gen::generate_crl(ca, &CrlSpec::delta(11, 10), delta_entries).unwrap();

    let mut client = app.db().await;
    let loaded_full = load_crl(&full, &spki).unwrap();
    assert!(
        persist::save_crl(&mut client, &issuer, &full, &loaded_full)
            .await
            .unwrap()
    );
    assert!(
        !persist::save_crl(&mut client, &issuer, &full, &loaded_full)
            .await
            .unwrap(),
        "saving the same CRL twice is a no-op"
    );
    let loaded_delta = load_crl(&delta, &spki).unwrap();
    assert!(matches!(loaded_delta.content, LoadedContent::Delta { .. }));
    assert!(
        persist::save_crl(&mut client, &issuer, &delta, &loaded_delta)
            .await
            .unwrap()
    );
    persist::save_event(&client, &issuer, &reported, Some(Reason::CertificateHold))
        .await
        .unwrap();

    // "Restart": a fresh store from the database only.
    let store = persist::load_all(&client).await.unwrap();
    let set = store.snapshot(&issuer).expect("issuer restored");
    assert_eq!(set.base().len(), 1_000);
    assert_eq!(
        set.base_info().unwrap().number.as_deref(),
        Some(&[10u8][..])
    );
    assert_eq!(
        set.delta_info().unwrap().number.as_deref(),
        Some(&[11u8][..])
    );
    for (serial, reason) in &entries {
        if *serial == held[0] {
            assert_eq!(
                store.lookup(&issuer, serial),
                Status::Good,
                "removeFromCRL applied"
            );
        } else {
            match store.lookup(&issuer, serial) {
                Status::Revoked(r) => assert_eq!(r.reason, *reason),
                other => panic!("listed serial restored as {other:?}"),
            }
        }
    }
    assert!(matches!(store.lookup(&issuer, &added), Status::Revoked(_)));
    assert!(matches!(store.lookup(&issuer, &reported), Status::Revoked(r) if r.is_hold()));
    assert_eq!(
        store.lookup(&issuer, &Serial::from_magnitude(&[0x12; 10]).unwrap()),
        Status::Good
    );

    // A newer full CRL supersedes the old CRL and its delta in the database.
    let newer =
        crl_gen::generate_crl(ca, &CrlSpec::full(12), entries.iter().skip(1).copied()).unwrap();
    let loaded = load_crl(&newer, &spki).unwrap();
    assert!(
        persist::save_crl(&mut client, &issuer, &newer, &loaded)
            .await
            .unwrap()
    );
    let left: i64 = client
        .query_one(
            "SELECT count(*) FROM revocation_crl WHERE issuer_key = $1",
            &[&issuer.0.as_slice()],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 1, "older CRLs of this CA are pruned");
    let store = persist::load_all(&client).await.unwrap();
    assert_eq!(store.lookup(&issuer, &entries[0].0), Status::Good);
    assert!(matches!(
        store.lookup(&issuer, &reported),
        Status::Revoked(_)
    ));
    // One newest CRL per CA: this test's CA and the harness's test card
    // and smartphone CAs.
    let freshness = persist::freshness(&client).await.unwrap();
    assert_eq!(freshness.len(), 3);
    assert!(freshness.iter().any(|(k, _, _)| *k == issuer));
}

#[test]
fn pki_bench_prints_one_json_object_per_benchmark() {
    let _ = pki; // the bench makes its own CA; nothing shared is needed
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kofu"))
        .args([
            "pki",
            "bench",
            "--serials",
            "1000",
            "--delta-entries",
            "100",
            "--seconds",
            "0.2",
            "--postgres",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let expect: &[(&str, &[&str])] = &[
        (
            "crl_load",
            &[
                "serials",
                "crl_bytes",
                "load_s",
                "openssl_load_s",
                "ratio",
                "restore_s",
            ],
        ),
        ("revocation_memory", &["bytes_per_serial", "heap_bytes"]),
        ("revocation_lookup", &["median_ns", "p99_ns", "lookups"]),
        ("delta_apply", &["entries", "ms", "load_ms"]),
        ("restart_restore", &["serials", "save_s", "restore_s"]),
        (
            "card_auth",
            &["per_core_per_s", "bare_ring_rsa2048_x2_per_s", "ratio"],
        ),
    ];
    assert_eq!(lines.len(), expect.len(), "{stdout}");
    for (line, (bench, keys)) in lines.iter().zip(expect) {
        assert_eq!(line["bench"], *bench, "{line}");
        for key in *keys {
            assert!(line.get(key).is_some(), "{bench} lacks {key}: {line}");
        }
    }
    assert_eq!(lines[0]["serials"], 1000);
    assert!(lines[1]["bytes_per_serial"].as_f64().unwrap() <= 32.0);
    assert_eq!(lines[4]["serials"], 1000);
    assert!(lines[5]["per_core_per_s"].as_f64().unwrap() > 0.0);
}

// --- Revocation through the real copier API -------------------------------

use kofu::devkit::crl_gen::publish_demo_crl;
use kofu::devkit::sim::CopierClient;

fn serial_of(card: &kofu::devkit::demo_pki::DemoCard) -> Serial {
    let s = kofu::devkit::demo_pki::card_serial(&card.cert_der).unwrap();
    Serial::from_magnitude(s.as_bytes()).unwrap()
}

/// The card step: `None` when accepted, else the refusal's code.
async fn card_step(
    copier: &CopierClient,
    card: &kofu::devkit::demo_pki::DemoCard,
) -> Option<String> {
    let session = copier.open_session().await.unwrap();
    match copier.present_card(&session, card, "ja").await {
        Ok(_) => None,
        Err(kofu::devkit::sim::SimError::Refused { code, .. }) => Some(code),
        Err(e) => panic!("{e}"),
    }
}

/// Waits (at most 3 s) for the gateway to see `want` for `card`: CRLs reach
/// every process by polling PostgreSQL every 500 ms.
pub(crate) async fn eventually(
    app: &TestApp,
    card: &kofu::devkit::demo_pki::DemoCard,
    want: Option<&str>,
) {
    let copier = app.copier(1);
    let mut last = None;
    for _ in 0..30 {
        last = card_step(&copier, card).await;
        if last.as_deref() == want {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("wanted {want:?}, still {last:?}");
}

#[tokio::test]
async fn a_card_revoked_by_a_full_crl_is_refused_and_others_still_work() {
    let app = TestApp::spawn().await;
    let (revoked, other) = (app.pki.card("card-rsa-1"), app.pki.card("card-ecdsa-1"));
    eventually(&app, revoked, None).await;
    let mut client = app.db().await;
    publish_demo_crl(
        &app.pki.demo.user_auth_ca,
        &mut client,
        &[(serial_of(revoked), Some(Reason::KeyCompromise))],
    )
    .await
    .unwrap();
    eventually(&app, revoked, Some("card_revoked")).await;
    assert_eq!(card_step(&app.copier(2), other).await, None);
}

#[tokio::test]
async fn revoked_by_delta_then_held_then_renewed() {
    let app = TestApp::spawn().await;
    let ca = &app.pki.demo.user_auth_ca;
    let (card, held) = (app.pki.card("card-rsa-2"), app.pki.card("card-ecdsa-1"));
    let base = 9_000_000_000_000_000_000u64;
    let mut client = app.db().await;
    let full = crl_gen::generate_crl(ca, &CrlSpec::full(base), Vec::new()).unwrap();
    let delta = crl_gen::generate_crl(
        ca,
        &CrlSpec::delta(base + 1, base),
        vec![
            (serial_of(card), Some(Reason::Superseded)),
            (serial_of(held), Some(Reason::CertificateHold)),
        ],
    )
    .unwrap();
    let anchors = [ca.cert_der.clone()];
    for der in [&full, &delta] {
        assert!(
            kofu::gateway::pki::revocation::service::import_bytes(&anchors, &mut client, der)
                .await
                .unwrap()
        );
    }
    eventually(&app, card, Some("card_revoked")).await;
    eventually(&app, held, Some("card_suspended")).await;

    // The held card is renewed: J-LIS links the new serial to the same
    // resident, and the new card works at once.
    let renewed = &app.pki.unlinked;
    let hex = |s: Serial| {
        s.as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let r = app
        .admin_client(kofu::devkit::operator_pki::JLIS_OPERATOR_STEM)
        .post_json(
            "/v1/admin/certificate-events",
            &[],
            &serde_json::json!({"event_id": "renew-held", "kind": "renewed",
                                "serial": hex(serial_of(held)), "new_serial": hex(serial_of(renewed))}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{:?}", r.problem_code());
    assert_eq!(card_step(&app.copier(1), renewed).await, None);
    assert_eq!(
        card_step(&app.copier(1), held).await.as_deref(),
        Some("card_suspended")
    );
}

#[tokio::test]
async fn without_a_current_crl_every_card_is_refused_as_stale() {
    let app = TestApp::spawn_with(|c| c.revocation.grace_secs = 0).await;
    let ca = &app.pki.demo.user_auth_ca;
    let card = app.pki.card("card-rsa-1");
    eventually(&app, card, None).await;
    // A newer CRL that is already past its nextUpdate.
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap();
    let stale = CrlSpec {
        number: u64::MAX / 2,
        delta_base: None,
        this_update: now - time::Duration::days(2),
        next_update: now - time::Duration::days(1),
    };
    let der = crl_gen::generate_crl(ca, &stale, Vec::new()).unwrap();
    let mut client = app.db().await;
    kofu::gateway::pki::revocation::service::import_bytes(
        std::slice::from_ref(&ca.cert_der),
        &mut client,
        &der,
    )
    .await
    .unwrap();
    eventually(&app, card, Some("revocation_data_stale")).await;
    // The recorder is this test process's, shared with every other test's
    // gateway, each of which sets the gauge from its own CRLs every 500 ms:
    // look until this gateway's 1 is seen.
    let mut metrics = String::new();
    for _ in 0..100 {
        metrics = reqwest_free_metrics(&app).await;
        if metrics.contains("kofu_revocation_stale 1") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    assert!(metrics.contains("kofu_revocation_stale 1"), "{metrics}");
    // Not ready, and it says why; the other checks still pass.
    let r = app
        .anonymous()
        .call(hyper::Method::GET, "/readyz", &[], None)
        .await
        .unwrap();
    assert_eq!(r.status, 503);
    let health: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(health["ready"], false);
    assert_eq!(health["state"], "failing_closed");
    let states = crate::harness::check_states(&health);
    assert_eq!(
        states,
        [
            ("database".to_owned(), "healthy".to_owned()),
            ("revocation_data".to_owned(), "failing_closed".to_owned()),
            ("render_workers".to_owned(), "healthy".to_owned()),
        ],
        "{health}"
    );
    assert!(
        health["checks"][1]["detail"]
            .as_str()
            .unwrap()
            .contains("no current CRL"),
        "{health}"
    );
}

/// The operations listener's `/metrics`, over a plain TCP request.
pub(crate) async fn reqwest_free_metrics(app: &TestApp) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(app.gateway.ops_addr)
        .await
        .unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: ops\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn crls_come_in_by_command_or_watched_directory_and_foreign_ones_are_refused() {
    let dir = tempdir("crl-watch");
    let app = TestApp::spawn_with({
        let dir = dir.clone();
        move |c| c.revocation.crl_dir = Some(dir)
    })
    .await;
    let ca = &app.pki.demo.user_auth_ca;
    let card = app.pki.card("card-rsa-1");

    // Dropped into the watched directory: imported and in force.
    let der = crl_gen::generate_crl(
        ca,
        &CrlSpec::full(u64::MAX / 4),
        vec![(serial_of(card), Some(Reason::KeyCompromise))],
    )
    .unwrap();
    std::fs::write(dir.join("a-full.crl"), &der).unwrap();
    eventually(&app, card, Some("card_revoked")).await;

    // `kofu crl import`: a CRL from a CA the gateway does not trust is refused
    // (exit 1), and so is one signed by a CA whose keyUsage lacks cRLSign.
    let stranger = kofu::devkit::demo_pki::Issuer::user_auth_ca("stranger").unwrap();
    let foreign = crl_gen::generate_crl(&stranger, &CrlSpec::full(1), Vec::new()).unwrap();
    let path = dir.join("foreign.der");
    std::fs::write(&path, &foreign).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kofu"))
        .args(["crl", "import"])
        .arg(&path)
        .env("DATABASE_URL", app.database_url())
        .env(
            "KOFU_TLS__CARD_CA",
            format!("[\"{}\"]", app.pki.dir.join("user-auth-ca.pem").display()),
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    let newer = crl_gen::generate_crl(ca, &CrlSpec::full(u64::MAX / 3), Vec::new()).unwrap();
    std::fs::write(dir.join("newer.pem"), pem("X509 CRL", &newer)).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kofu"))
        .args(["crl", "import"])
        .arg(dir.join("newer.pem"))
        .env("DATABASE_URL", app.database_url())
        .env(
            "KOFU_TLS__CARD_CA",
            format!("[\"{}\"]", app.pki.dir.join("user-auth-ca.pem").display()),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(r#""imported":true"#));
    // The newer CRL no longer lists the card.
    eventually(&app, card, None).await;

    let no_crl_sign = kofu::gateway::pki::revocation::service::import_bytes(
        &[ca_without_crl_sign()],
        &mut app.db().await,
        &foreign,
    )
    .await;
    let refused = no_crl_sign.expect_err("a CA without cRLSign signs no CRL");
    assert!(refused.to_string().contains("cRLSign"), "{refused}");
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "kofu-{name}-{}",
        uuid::Uuid::from_bytes(kofu::gateway::random_bytes())
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The "stranger" CA again, but as a certificate whose keyUsage has only
/// keyCertSign: CRLs signed with its key must not be accepted.
fn ca_without_crl_sign() -> Vec<u8> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign];
    params.self_signed(&key).unwrap().der().to_vec()
}

#[tokio::test]
async fn a_card_below_an_intermediate_without_key_cert_sign_is_refused_at_the_copier() {
    use base64::Engine;
    use kofu::devkit::test_pki::{TestCa, params, policies};
    let now = time::OffsetDateTime::now_utc();
    let dir = tempdir("intermediate");
    let root = TestCa::self_signed(params("JPKI root", true, now));
    let mut bad = params("User authentication CA without keyCertSign", true, now);
    bad.key_usages = vec![rcgen::KeyUsagePurpose::CrlSign];
    let int = root.issue(bad);
    let mut card_params = params("OPAQUE0000000003", false, now);
    card_params
        .custom_extensions
        .push(policies(&["1.2.392.200149.8.5.1.3.30"]));
    let card = int.issue(card_params);
    let (root_pem, int_pem) = (dir.join("root.pem"), dir.join("int.pem"));
    std::fs::write(&root_pem, pem("CERTIFICATE", &root.cert_der)).unwrap();
    std::fs::write(&int_pem, pem("CERTIFICATE", &int.cert_der)).unwrap();
    let app = TestApp::spawn_with(move |c| {
        c.tls.card_ca.push(root_pem);
        c.tls.card_intermediates = vec![int_pem];
    })
    .await;

    let copier = app.copier(1);
    let session = copier.open_session().await.unwrap();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&session.challenge)
        .unwrap();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let r = copier
        .post_json(
            &format!("/v1/sessions/{}/card", session.session_id),
            &[],
            &serde_json::json!({
                "certificate": b64(&card.cert_der),
                "signature": b64(&card.sign(&challenge)),
                "algorithm": "ecdsa-p256-sha256",
            }),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 403);
    assert_eq!(r.problem_code().as_deref(), Some("card_issuer_not_ca"));
    // The demo cards, under the other anchor, still work.
    assert_eq!(
        card_step(&app.copier(2), app.pki.card("card-rsa-1")).await,
        None
    );
}

#[tokio::test]
async fn a_crl_narrowed_by_its_distribution_point_is_refused_not_trusted_for_every_card() {
    use kofu::devkit::test_pki::{CrlSpec as TestCrl, TestCa, params};
    let app = TestApp::spawn().await;
    let now = time::OffsetDateTime::now_utc();
    let ca = TestCa::self_signed(params("Partitioned CA", true, now));
    let anchors = [ca.cert_der.clone()];
    let mut client = app.db().await;
    let mut ca_only = TestCrl::full(now);
    ca_only.only_ca_certs = true;
    let refused = kofu::gateway::pki::revocation::service::import_bytes(
        &anchors,
        &mut client,
        &ca.crl(&ca_only),
    )
    .await
    .expect_err("a CA-only CRL cannot vouch for cards");
    assert!(refused.to_string().contains("scope"), "{refused}");
    let mut users_only = TestCrl::full(now);
    users_only.only_user_certs = true;
    assert!(
        kofu::gateway::pki::revocation::service::import_bytes(
            &anchors,
            &mut client,
            &ca.crl(&users_only)
        )
        .await
        .unwrap(),
        "a CRL of all end entities is fine"
    );
}
