//! Tests of the revocation index, overlay, store and CRL loader: the index
//! must agree with a plain ordered-set model for any serials, and the loader
//! must refuse (never panic on) any damaged CRL.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use proptest::prelude::*;

use super::*;
use crate::devkit::crl_gen::{self, CrlSpec};
use crate::devkit::demo_pki::Issuer;

fn s(b: &[u8]) -> Serial {
    Serial::from_magnitude(b).unwrap()
}

fn index_of(entries: &[(Serial, Option<Reason>)]) -> RevocationIndex {
    let mut b = RevocationIndexBuilder::new();
    for (serial, reason) in entries {
        b.push(serial, *reason);
    }
    b.build()
}

#[test]
fn serials_are_canonical_whatever_their_leading_zeros() {
    assert_eq!(s(&[0, 0, 0x81]), s(&[0x81]));
    assert_eq!(s(&[0x81]).as_bytes(), &[0x81]);
    assert_eq!(s(&[0x81]).to_der_integer(), vec![0, 0x81]);
    assert_eq!(Serial::from_der_integer(&[0, 0x81]).unwrap(), s(&[0x81]));
    assert_eq!(
        Serial::from_der_integer(&[0x81]),
        Err(SerialError::Negative)
    );
    assert_eq!(Serial::from_magnitude(&[0, 0]), Err(SerialError::Zero));
    assert_eq!(Serial::from_magnitude(&[]), Err(SerialError::Zero));
    assert_eq!(Serial::from_magnitude(&[1; 21]), Err(SerialError::TooLong));
    assert!(Serial::from_magnitude(&[1; 20]).is_ok());
    let mut padded = vec![0u8; 5];
    padded.extend_from_slice(&[7; 20]);
    assert!(Serial::from_magnitude(&padded).is_ok());
}

#[test]
fn serial_debug_shows_a_fingerprint_not_the_serial() {
    let d = format!("{:?}", s(&[0xde, 0xad, 0xbe, 0xef]));
    assert!(d.starts_with("Serial(sha256:"), "{d}");
    assert!(!d.contains("deadbeef"));
}

#[test]
fn index_finds_present_serials_of_every_length_and_not_absent_ones() {
    let entries: Vec<_> = (1..=20u8)
        .map(|len| (s(&vec![len; len as usize]), Some(Reason::KeyCompromise)))
        .collect();
    let index = index_of(&entries);
    assert_eq!(index.len(), 20);
    for (serial, reason) in &entries {
        assert_eq!(index.lookup(serial), Some(Revocation { reason: *reason }));
    }
    for len in 1..=20u8 {
        let mut other = vec![len; len as usize];
        other[len as usize - 1] ^= 0x80;
        assert_eq!(index.lookup(&s(&other)), None);
    }
    assert_eq!(index.lookup(&s(&[0xff; 20])), None);
    assert_eq!(RevocationIndex::default().lookup(&s(&[1])), None);
}

#[test]
fn reasons_are_kept_per_entry_including_hold_and_none() {
    let entries = vec![
        (s(&[1, 2, 3]), None),
        (s(&[1, 2, 4]), Some(Reason::CertificateHold)),
        (s(&[1, 2, 5]), Some(Reason::Superseded)),
        (s(&[1, 2, 6]), Some(Reason::Unspecified)),
    ];
    let index = index_of(&entries);
    assert_eq!(index.lookup(&s(&[1, 2, 3])).unwrap().reason, None);
    assert!(index.lookup(&s(&[1, 2, 4])).unwrap().is_hold());
    assert_eq!(
        index.lookup(&s(&[1, 2, 5])).unwrap().reason,
        Some(Reason::Superseded)
    );
    assert_eq!(
        index.lookup(&s(&[1, 2, 6])).unwrap().reason,
        Some(Reason::Unspecified)
    );
}

#[test]
fn duplicates_keep_one_entry() {
    let index = index_of(&[
        (s(&[9, 9]), Some(Reason::Superseded)),
        (s(&[0, 9, 9]), Some(Reason::KeyCompromise)),
    ]);
    assert_eq!(index.len(), 1);
    assert_eq!(
        index.lookup(&s(&[9, 9])).unwrap().reason,
        Some(Reason::KeyCompromise)
    );
}

#[test]
fn dense_sequential_and_skewed_serials_are_all_found() {
    // Sequential serials (dense), one huge cluster plus outliers (skewed
    // buckets, binary-search fallback), and random ones.
    let mut entries: Vec<(Serial, Option<Reason>)> = (1u64..=50_000)
        .map(|n| (s(&n.to_be_bytes()), None))
        .collect();
    entries.extend((0u64..5_000).map(|n| {
        let mut b = [0x42u8; 12];
        b[4..12].copy_from_slice(&n.to_be_bytes());
        (s(&b), Some(Reason::CertificateHold))
    }));
    entries.push((
        s(&[
            0x42, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ]),
        None,
    ));
    entries.extend(crl_gen::random_entries(20_000, 5));
    let index = index_of(&entries);
    let model: BTreeMap<Serial, Option<Reason>> = entries.iter().copied().collect();
    assert_eq!(index.len(), model.len());
    for (serial, _) in &entries {
        assert!(index.lookup(serial).is_some());
    }
    for n in 50_001u64..51_000 {
        assert_eq!(index.lookup(&s(&n.to_be_bytes())), None);
    }
    for (serial, _) in crl_gen::random_entries(5_000, 99) {
        assert_eq!(index.lookup(&serial).is_some(), model.contains_key(&serial));
    }
    let listed: Vec<Serial> = index.iter().map(|(s, _)| s).collect();
    let expected: Vec<Serial> = model.keys().copied().collect();
    assert_eq!(listed, expected, "iteration is in numeric order");
    assert_eq!(index.nth(0), expected.first().copied());
}

#[test]
fn memory_stays_well_under_32_bytes_a_serial() {
    let entries: Vec<_> = crl_gen::random_entries(200_000, 1).collect();
    let index = index_of(&entries);
    let per = index.heap_bytes() as f64 / index.len() as f64;
    assert!(per <= 24.0, "{per} bytes a serial");
}

#[test]
fn delta_adds_and_remove_from_crl_lifts_a_hold() {
    let held = s(&[5, 5, 5, 5, 5, 5, 5, 5]);
    let revoked = s(&[6, 6, 6, 6, 6, 6, 6, 6]);
    let added = s(&[7, 7, 7, 7, 7, 7, 7, 7]);
    let set = RevocationSet::from_full(
        index_of(&[
            (held, Some(Reason::CertificateHold)),
            (revoked, Some(Reason::KeyCompromise)),
        ]),
        None,
    );
    assert!(set.lookup(&held).unwrap().is_hold());
    let with_delta = set.with_delta(
        [
            (held, Change::Removed),
            (added, Change::Revoked(Some(Reason::Superseded))),
        ],
        None,
    );
    assert_eq!(with_delta.lookup(&held), None);
    assert_eq!(
        with_delta.lookup(&added).unwrap().reason,
        Some(Reason::Superseded)
    );
    assert!(with_delta.lookup(&revoked).is_some());
    // The old snapshot is untouched.
    assert!(set.lookup(&held).unwrap().is_hold());
    assert_eq!(set.lookup(&added), None);
    // A newer delta replaces the older one (deltas are cumulative).
    let newer = with_delta.with_delta(
        [(revoked, Change::Revoked(Some(Reason::KeyCompromise)))],
        None,
    );
    assert!(newer.lookup(&held).unwrap().is_hold());
    assert_eq!(newer.lookup(&added), None);
    // Compaction folds the overlay into a fresh base.
    let compact = with_delta.compacted();
    assert_eq!(compact.overlay_len(), (0, 0));
    assert_eq!(compact.lookup(&held), None);
    assert!(compact.lookup(&added).is_some());
    assert!(compact.lookup(&revoked).is_some());
    assert_eq!(compact.base().len(), 2);
}

#[test]
fn events_win_and_survive_a_full_crl_that_does_not_list_them() {
    let lost = s(&[1, 1, 1, 1, 1, 1, 1, 1]);
    let other = s(&[2, 2, 2, 2, 2, 2, 2, 2]);
    let store = RevocationStore::new();
    let ca = IssuerKey([1; 32]);
    assert_eq!(store.lookup(&ca, &lost), Status::Unknown);
    store
        .install_full(ca, RevocationIndex::default(), Some(info(1)))
        .unwrap();
    assert_eq!(store.lookup(&ca, &lost), Status::Good);
    store.record_event(ca, lost, Some(Reason::CertificateHold));
    store.record_event(ca, other, Some(Reason::KeyCompromise));
    // A delta that lifts the hold does not undo a reported event.
    store
        .apply_delta(ca, &[1], vec![(lost, Change::Removed)], info(2))
        .unwrap();
    assert!(matches!(store.lookup(&ca, &lost), Status::Revoked(r) if r.is_hold()));
    // A full CRL listing `other` absorbs that event; `lost` stays an event.
    store
        .install_full(
            ca,
            index_of(&[(other, Some(Reason::KeyCompromise))]),
            Some(info(3)),
        )
        .unwrap();
    let set = store.snapshot(&ca).unwrap();
    assert_eq!(set.overlay_len(), (0, 1));
    assert!(matches!(store.lookup(&ca, &lost), Status::Revoked(_)));
    assert!(matches!(store.lookup(&ca, &other), Status::Revoked(_)));
    assert_eq!(store.issuers(), vec![ca]);
    assert_eq!(store.lookup(&IssuerKey([2; 32]), &lost), Status::Unknown);
}

fn info(n: u8) -> CrlInfo {
    CrlInfo {
        number: Some(vec![n]),
        this_update: OffsetDateTime::UNIX_EPOCH,
        next_update: None,
    }
}

#[test]
fn older_crls_and_misfit_deltas_are_refused() {
    let ca = IssuerKey([3; 32]);
    let listed = s(&[4; 10]);
    let store = RevocationStore::new();
    assert_eq!(
        store.apply_delta(ca, &[1], vec![], info(2)),
        Err(StoreError::NoBase)
    );
    store
        .install_full(ca, index_of(&[(listed, None)]), Some(info(5)))
        .unwrap();
    // An older full CRL would un-revoke `listed`: refused, state kept.
    assert_eq!(
        store.install_full(ca, RevocationIndex::default(), Some(info(4))),
        Err(StoreError::Stale)
    );
    assert!(matches!(store.lookup(&ca, &listed), Status::Revoked(_)));
    // Base 6 is newer than the loaded 5; number 5 is not newer than it.
    assert_eq!(
        store.apply_delta(ca, &[6], vec![], info(7)),
        Err(StoreError::DeltaBaseMismatch)
    );
    assert_eq!(
        store.apply_delta(ca, &[4], vec![], info(5)),
        Err(StoreError::DeltaBaseMismatch)
    );
    store
        .apply_delta(ca, &[4], vec![(listed, Change::Removed)], info(7))
        .unwrap();
    assert_eq!(store.lookup(&ca, &listed), Status::Good);
    assert_eq!(
        store.apply_delta(ca, &[5], vec![], info(6)),
        Err(StoreError::Stale)
    );
    assert_eq!(cmp_number(&[1, 0], &[0xff]), std::cmp::Ordering::Greater);
    assert_eq!(cmp_number(&[0, 7], &[7]), std::cmp::Ordering::Equal);
}

proptest! {
    #[test]
    fn serial_der_integer_round_trips(bytes in proptest::collection::vec(any::<u8>(), 1..=20)) {
        if let Ok(serial) = Serial::from_magnitude(&bytes) {
            let der = serial.to_der_integer();
            prop_assert_eq!(Serial::from_der_integer(&der), Ok(serial));
            prop_assert!(der[0] & 0x80 == 0);
            prop_assert!(serial.as_bytes().first() != Some(&0));
        } else {
            prop_assert!(bytes.iter().all(|&b| b == 0));
        }
    }

    #[test]
    fn serial_order_is_numeric(a in proptest::collection::vec(any::<u8>(), 1..=20),
                               b in proptest::collection::vec(any::<u8>(), 1..=20)) {
        if let (Ok(x), Ok(y)) = (Serial::from_magnitude(&a), Serial::from_magnitude(&b)) {
            // Numeric comparison of magnitudes: pad to 20 bytes.
            let pad = |s: &Serial| {
                let mut v = vec![0u8; 20 - s.len()];
                v.extend_from_slice(s.as_bytes());
                v
            };
            prop_assert_eq!(x.cmp(&y), pad(&x).cmp(&pad(&y)));
        }
    }

    #[test]
    fn index_agrees_with_an_ordered_set(
        listed in proptest::collection::vec((proptest::collection::vec(any::<u8>(), 1..=20), 0u8..12), 0..300),
        probes in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..=20), 0..100),
    ) {
        let mut b = RevocationIndexBuilder::new();
        let mut model = BTreeMap::new();
        for (bytes, code) in &listed {
            if let Ok(serial) = Serial::from_magnitude(bytes) {
                let reason = Reason::from_code(*code);
                b.push(&serial, reason);
                let e = model.entry(serial).or_insert(reason);
                // Duplicates keep the smallest code, "none" counting largest.
                if pack_reason(reason) < pack_reason(*e) { *e = reason; }
            }
        }
        let index = b.build();
        prop_assert_eq!(index.len(), model.len());
        for (serial, reason) in &model {
            prop_assert_eq!(index.lookup(serial), Some(Revocation { reason: *reason }));
        }
        for p in &probes {
            if let Ok(serial) = Serial::from_magnitude(p) {
                prop_assert_eq!(index.lookup(&serial).is_some(), model.contains_key(&serial));
            }
        }
        let listed_back: Vec<_> = index.iter().collect();
        let expected: Vec<_> = model.into_iter().collect();
        prop_assert_eq!(listed_back, expected);
    }
}

// ---- the CRL loader ----

struct Fixture {
    ca: Issuer,
    spki: Vec<u8>,
    entries: Vec<(Serial, Option<Reason>)>,
    der: Vec<u8>,
}

fn spki(cert_der: &[u8]) -> Vec<u8> {
    use x509_parser::prelude::FromDer;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(cert_der).unwrap();
    cert.tbs_certificate.subject_pki.raw.to_vec()
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let ca = Issuer::user_auth_ca("revocation-test").unwrap();
        let entries: Vec<_> = crl_gen::random_entries(1_000, 42).collect();
        let der = crl_gen::generate_crl(&ca, &CrlSpec::full(7), entries.iter().copied()).unwrap();
        Fixture {
            spki: spki(&ca.cert_der),
            ca,
            entries,
            der,
        }
    })
}

#[test]
fn a_generated_crl_loads_with_every_entry_and_its_metadata() {
    let f = fixture();
    let crl = parse_crl_entries(&f.der).unwrap();
    assert_eq!(crl.meta.crl_number.as_deref(), Some(&[7u8][..]));
    assert_eq!(crl.meta.kind, CrlKind::Full);
    assert!(crl.meta.next_update.unwrap() > crl.meta.this_update);
    assert!(crl.meta.authority_key_id.is_some());
    assert_eq!(crl.entries().count(), 1_000);
    let loaded = load_crl(&f.der, &f.spki).unwrap();
    let LoadedContent::Full(index) = loaded.content else {
        panic!("full CRL loaded as delta")
    };
    let model: BTreeMap<_, _> = f.entries.iter().copied().collect();
    assert_eq!(index.len(), model.len());
    for (serial, reason) in &model {
        assert_eq!(index.lookup(serial), Some(Revocation { reason: *reason }));
    }
    assert!(
        f.entries
            .iter()
            .any(|(_, r)| *r == Some(Reason::CertificateHold)),
        "the generator makes holds"
    );
}

#[test]
fn pem_crls_load_too() {
    use base64::Engine;
    let f = fixture();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&f.der);
    let mut pem = String::from("-----BEGIN X509 CRL-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap());
        pem.push('\n');
    }
    pem.push_str("-----END X509 CRL-----\n");
    assert!(load_crl(pem.as_bytes(), &f.spki).is_ok());
    assert_eq!(
        load_crl(
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            &f.spki
        )
        .unwrap_err(),
        CrlLoadError::Pem
    );
}

#[test]
fn a_tampered_crl_or_another_key_fails_the_signature() {
    let f = fixture();
    // Flip a bit inside the last entry's date: still well-formed, not signed.
    let mut tampered = f.der.clone();
    let at = tampered.len() / 2;
    tampered[at] ^= 0x01;
    match load_crl(&tampered, &f.spki) {
        Err(CrlLoadError::SignatureInvalid | CrlLoadError::Malformed) => {}
        other => panic!("tampered CRL: {other:?}"),
    }
    let stranger = Issuer::user_auth_ca("stranger").unwrap();
    assert_eq!(
        load_crl(&f.der, &spki(&stranger.cert_der)).unwrap_err(),
        CrlLoadError::SignatureInvalid
    );
    let mut sig = f.der.clone();
    let last = sig.len() - 1;
    sig[last] ^= 0x80;
    assert_eq!(
        load_crl(&sig, &f.spki).unwrap_err(),
        CrlLoadError::SignatureInvalid
    );
}

#[test]
fn every_truncation_and_trailing_byte_is_refused() {
    let f = fixture();
    for cut in 0..f.der.len() {
        assert!(parse_crl_entries(&f.der[..cut]).is_err(), "cut at {cut}");
    }
    let mut longer = f.der.clone();
    longer.push(0);
    assert_eq!(
        parse_crl_entries(&longer).unwrap_err(),
        CrlLoadError::Malformed
    );
}

#[test]
fn damaged_bytes_never_panic() {
    let f = fixture();
    // Corrupt each of many positions in turn, walking every entry each time.
    let step = (f.der.len() / 3_000).max(1);
    for at in (0..f.der.len()).step_by(step) {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut d = f.der.clone();
            d[at] ^= flip;
            if let Ok(crl) = parse_crl_entries(&d) {
                for e in crl.entries() {
                    if e.is_err() {
                        break;
                    }
                }
            }
        }
    }
}

#[test]
fn delta_crls_become_changes_against_their_base() {
    let f = fixture();
    let held: Vec<_> = f
        .entries
        .iter()
        .filter(|(_, r)| *r == Some(Reason::CertificateHold))
        .map(|(s, _)| *s)
        .collect();
    let new = s(&[0x55; 12]);
    let mut entries = vec![(new, Some(Reason::KeyCompromise))];
    entries.extend(held.iter().map(|s| (*s, Some(Reason::RemoveFromCrl))));
    let der = crl_gen::generate_crl(&f.ca, &CrlSpec::delta(8, 7), entries).unwrap();
    let loaded = load_crl(&der, &f.spki).unwrap();
    let LoadedContent::Delta {
        base_number,
        changes,
    } = loaded.content
    else {
        panic!("delta loaded as full")
    };
    assert_eq!(base_number, vec![7]);
    assert_eq!(changes.len(), held.len() + 1);
    let LoadedContent::Full(index) = load_crl(&f.der, &f.spki).unwrap().content else {
        panic!()
    };
    let set = RevocationSet::from_full(index, None).with_delta(changes, Some(loaded.info));
    assert!(set.lookup(&new).is_some());
    for h in &held {
        assert_eq!(set.lookup(h), None);
    }
}

#[test]
fn remove_from_crl_in_a_full_crl_is_refused() {
    let f = fixture();
    let der = crl_gen::generate_crl(
        &f.ca,
        &CrlSpec::full(9),
        [(s(&[1; 9]), Some(Reason::RemoveFromCrl))],
    )
    .unwrap();
    assert!(matches!(
        load_crl(&der, &f.spki),
        Err(CrlLoadError::InvalidReason { index: 0 })
    ));
}

#[test]
fn ecdsa_p256_crls_verify() {
    let ca = Issuer::store_network_ca().unwrap();
    let entries: Vec<_> = crl_gen::random_entries(50, 3).collect();
    let der = crl_gen::generate_crl(&ca, &CrlSpec::full(1), entries).unwrap();
    let loaded = load_crl(&der, &spki(&ca.cert_der)).unwrap();
    assert!(matches!(loaded.content, LoadedContent::Full(ref i) if i.len() == 50));
}

#[test]
fn an_empty_crl_loads_as_an_empty_index() {
    let f = fixture();
    let der = crl_gen::generate_crl(&f.ca, &CrlSpec::full(1), []).unwrap();
    let loaded = load_crl(&der, &f.spki).unwrap();
    assert!(matches!(loaded.content, LoadedContent::Full(ref i) if i.is_empty()));
}

#[test]
fn stored_crls_are_checked_against_their_digest() {
    let f = fixture();
    let digest = ring::digest::digest(&ring::digest::SHA256, &f.der);
    assert!(load_stored_crl(&f.der, digest.as_ref()).is_ok());
    assert_eq!(
        load_stored_crl(&f.der, &[0; 32]).unwrap_err(),
        CrlLoadError::StoredDigest
    );
}

/// Writes the fuzz seed corpora (`fuzz/corpus/`): run by hand with
/// `--ignored` when the formats change.
#[test]
#[ignore]
fn write_fuzz_seed_corpus() {
    use crate::devkit::demo_pki::{CardKey, CardSpec};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let ca = Issuer::user_auth_ca("fuzz-seed").unwrap();
    let crls = root.join("crl_entries");
    let certs = root.join("certificate");
    let anchor = root.join("anchor");
    for d in [&crls, &certs, &anchor] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(anchor.join("user-auth-ca.der"), &ca.cert_der).unwrap();
    let entries: Vec<_> = crl_gen::random_entries(20, 1).collect();
    let full = crl_gen::generate_crl(&ca, &CrlSpec::full(1), entries.iter().copied()).unwrap();
    std::fs::write(crls.join("full-20.crl"), &full).unwrap();
    let delta = crl_gen::generate_crl(
        &ca,
        &CrlSpec::delta(2, 1),
        [
            (entries[0].0, Some(Reason::RemoveFromCrl)),
            (s(&[9; 10]), Some(Reason::CertificateHold)),
        ],
    )
    .unwrap();
    std::fs::write(crls.join("delta-2.crl"), &delta).unwrap();
    let empty = crl_gen::generate_crl(&ca, &CrlSpec::full(3), []).unwrap();
    std::fs::write(crls.join("empty.crl"), &empty).unwrap();
    let now = OffsetDateTime::now_utc();
    for (name, key) in [
        ("card-rsa.der", CardKey::Rsa2048),
        ("card-p256.der", CardKey::EcdsaP256),
    ] {
        let card = ca
            .issue_card(
                name,
                &CardSpec {
                    key,
                    serial: vec![0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0],
                    not_before: now - time::Duration::days(1),
                    not_after: now + time::Duration::days(3650),
                    key_usage_digital_signature: true,
                    with_policy: true,
                    cn: "FUZZSEED".into(),
                },
            )
            .unwrap();
        std::fs::write(certs.join(name), &card.cert_der).unwrap();
    }
}

/// The bulk reader keeps the CRL profile path validation keeps
/// (`Crl::validate`), with the same reasons: a CRL without a cRLNumber,
/// with a critical one, without an authorityKeyIdentifier keyIdentifier or
/// without a nextUpdate is refused; the same CRL with all four loads.
#[test]
fn the_bulk_reader_keeps_the_crl_profile_of_path_validation() {
    use crate::devkit::test_pki::{self, TestCa};
    let now = time::OffsetDateTime::now_utc();
    let ca = TestCa::self_signed(test_pki::params("profile CA", true, now));
    let key = spki(&ca.cert_der);
    let good = test_pki::CrlSpec::full(now);
    assert!(
        load_crl(&ca.crl(&good), &key).is_ok(),
        "the profile's CRL loads"
    );
    let cases = [
        (
            test_pki::CrlSpec {
                number: None,
                ..good.clone()
            },
            "crl_number_missing",
        ),
        (
            test_pki::CrlSpec {
                number_critical: true,
                ..good.clone()
            },
            "crl_number_critical",
        ),
        (
            test_pki::CrlSpec {
                authority_key_identifier: false,
                ..good.clone()
            },
            "crl_authority_key_identifier_missing",
        ),
        (
            test_pki::CrlSpec {
                next_update: None,
                ..good.clone()
            },
            "crl_next_update_missing",
        ),
    ];
    for (spec, reason) in cases {
        assert_eq!(
            load_crl(&ca.crl(&spec), &key).unwrap_err(),
            CrlLoadError::Profile { reason },
            "{reason}"
        );
        // Path validation names the same defect with the same reason.
        let parsed =
            std::sync::Arc::new(crate::gateway::pki::Crl::from_der(&ca.crl(&spec)).unwrap());
        let signer = crate::gateway::pki::Certificate::from_der(&ca.cert_der).unwrap();
        let path_reason = parsed
            .validate(&signer, now, time::Duration::ZERO)
            .map(|_| "ok")
            .unwrap_or_else(|e| e.reason());
        assert_eq!(path_reason, reason);
    }
}
