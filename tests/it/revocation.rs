//! The revocation store survives a restart: CRLs (full and delta) and events
//! saved to PostgreSQL rebuild the same answers; and `kofu pki bench` prints
//! the JSON lines its readers expect.

use kofu::pki::crlgen::{self, CrlSpec};
use kofu::pki::revocation::{IssuerKey, LoadedContent, Reason, Serial, Status, load_crl, persist};

use crate::harness::{TestApp, pki};

fn spki(cert_der: &[u8]) -> Vec<u8> {
    use x509_parser::prelude::FromDer;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(cert_der).unwrap();
    cert.tbs_certificate.subject_pki.raw.to_vec()
}

#[tokio::test]
async fn saved_crls_and_events_rebuild_the_same_store_after_a_restart() {
    let app = TestApp::spawn().await;
    let ca = &app.pki.demo.user_auth_ca;
    let spki = spki(&ca.cert_der);
    let issuer = IssuerKey::of_ca_certificate(&ca.cert_der).unwrap();
    let entries: Vec<_> = crlgen::random_entries(1_000, 17).collect();
    let held: Vec<Serial> = entries
        .iter()
        .filter(|(_, r)| *r == Some(Reason::CertificateHold))
        .map(|(s, _)| *s)
        .collect();
    let added = Serial::from_magnitude(&[0x33; 14]).unwrap();
    let reported = Serial::from_magnitude(&[0x44; 9]).unwrap();

    let full = crlgen::generate_crl(ca, &CrlSpec::full(10), entries.iter().copied()).unwrap();
    let mut delta_entries = vec![(added, Some(Reason::KeyCompromise))];
    delta_entries.push((held[0], Some(Reason::RemoveFromCrl)));
    let delta = crlgen::generate_crl(ca, &CrlSpec::delta(11, 10), delta_entries).unwrap();

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
        crlgen::generate_crl(ca, &CrlSpec::full(12), entries.iter().skip(1).copied()).unwrap();
    let loaded = load_crl(&newer, &spki).unwrap();
    assert!(
        persist::save_crl(&mut client, &issuer, &newer, &loaded)
            .await
            .unwrap()
    );
    let left: i64 = client
        .query_one("SELECT count(*) FROM revocation_crl", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 1);
    let store = persist::load_all(&client).await.unwrap();
    assert_eq!(store.lookup(&issuer, &entries[0].0), Status::Good);
    assert!(matches!(
        store.lookup(&issuer, &reported),
        Status::Revoked(_)
    ));
    assert_eq!(persist::freshness(&client).await.unwrap().len(), 1);
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
