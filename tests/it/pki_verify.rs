//! `kofu pki verify` as a user runs it: the real binary on generated PKI
//! files (DER and PEM), checking the one JSON line and the exit status
//! (0 valid, 1 invalid, 2 usage error). No PostgreSQL needed.

use kofu::devkit::demo_pki::pem;
use std::path::{Path, PathBuf};
use std::process::Command;

use kofu::devkit::test_pki::{CrlSpec, EntrySpec, TestCa, params};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

struct Files {
    dir: PathBuf,
    root: PathBuf,
    int_pem: PathBuf,
    ee: PathBuf,
    root_crl: PathBuf,
    int_crl: PathBuf,
    int_crl_revoking_ee: PathBuf,
}

fn files(name: &str) -> Files {
    let dir = crate::harness::scratch_dir().join(format!("pki-verify-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let now = OffsetDateTime::now_utc();
    let root = TestCa::self_signed(params("Root", true, now));
    let int = root.issue(params("Intermediate", true, now));
    let ee = int.issue(params("EE", false, now));
    // An unrelated certificate in the intermediates bundle must not matter.
    let stray = TestCa::self_signed(params("Stray", true, now));
    let write = |file: &str, bytes: &[u8]| {
        let path = dir.join(file);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let mut revoking = CrlSpec::full(now);
    revoking.entries.push(EntrySpec::revoked(ee.serial(), 1));
    Files {
        root: write("root.der", &root.cert_der),
        int_pem: write(
            "intermediates.pem",
            format!(
                "{}{}",
                pem("CERTIFICATE", &stray.cert_der),
                pem("CERTIFICATE", &int.cert_der)
            )
            .as_bytes(),
        ),
        ee: write("ee.pem", pem("CERTIFICATE", &ee.cert_der).as_bytes()),
        root_crl: write("root.crl", &root.crl(&CrlSpec::full(now))),
        int_crl: write(
            "int.crl.pem",
            pem("X509 CRL", &int.crl(&CrlSpec::full(now))).as_bytes(),
        ),
        int_crl_revoking_ee: write("int-revoked.crl", &int.crl(&revoking)),
        dir,
    }
}

/// Runs `kofu pki verify` with `args`; returns (exit code, stdout).
fn verify(args: &[&dyn AsRef<std::ffi::OsStr>]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kofu"))
        .arg("pki")
        .arg("verify")
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .expect("run kofu");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8");
    (out.status.code().expect("exit code"), stdout)
}

fn json(stdout: &str) -> serde_json::Value {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line: {stdout:?}");
    serde_json::from_str(lines[0]).expect("JSON line")
}

fn assert_verdict(result: (i32, String), code: i32, valid: bool, reason: &str) {
    let (exit, stdout) = result;
    assert!(stdout.starts_with("{\"valid\":"), "valid first: {stdout}");
    let v = json(&stdout);
    assert_eq!(exit, code, "{stdout}");
    assert_eq!(v["valid"], valid, "{stdout}");
    assert_eq!(v["reason"], reason, "{stdout}");
}

fn p(path: &Path) -> &Path {
    path
}

#[test]
fn valid_path_prints_valid_and_exits_zero() {
    let f = files("valid");
    assert_verdict(
        verify(&[
            &"--anchor",
            &p(&f.root),
            &"--intermediate",
            &p(&f.int_pem),
            &p(&f.ee),
        ]),
        0,
        true,
        "ok",
    );
    // With CRLs for every certificate in the path.
    assert_verdict(
        verify(&[
            &"--anchor",
            &p(&f.root),
            &"--intermediate",
            &p(&f.int_pem),
            &"--crl",
            &p(&f.root_crl),
            &"--crl",
            &p(&f.int_crl),
            &p(&f.ee),
        ]),
        0,
        true,
        "ok",
    );
}

#[test]
fn invalid_paths_print_the_reason_and_exit_one() {
    let f = files("invalid");
    assert_verdict(
        verify(&[&"--anchor", &p(&f.root), &p(&f.ee)]),
        1,
        false,
        "unknown_issuer",
    );
    let later = (OffsetDateTime::now_utc() + time::Duration::days(400))
        .format(&Rfc3339)
        .unwrap();
    assert_verdict(
        verify(&[
            &"--anchor",
            &p(&f.root),
            &"--intermediate",
            &p(&f.int_pem),
            &"--at",
            &later,
            &p(&f.ee),
        ]),
        1,
        false,
        "expired",
    );
    assert_verdict(
        verify(&[
            &"--anchor",
            &p(&f.root),
            &"--intermediate",
            &p(&f.int_pem),
            &"--crl",
            &p(&f.root_crl),
            &"--crl",
            &p(&f.int_crl_revoking_ee),
            &p(&f.ee),
        ]),
        1,
        false,
        "revoked",
    );
    // A CRL for the end entity only: the intermediate's status is unknown.
    assert_verdict(
        verify(&[
            &"--anchor",
            &p(&f.root),
            &"--intermediate",
            &p(&f.int_pem),
            &"--crl",
            &p(&f.int_crl),
            &p(&f.ee),
        ]),
        1,
        false,
        "revocation_status_unknown",
    );
    assert_verdict(
        verify(&[
            &"--anchor",
            &p(&f.root),
            &"--intermediate",
            &p(&f.int_pem),
            &"--explicit-policy",
            &p(&f.ee),
        ]),
        1,
        false,
        "policy_required",
    );
    let garbage = f.dir.join("garbage.der");
    std::fs::write(&garbage, b"not a certificate").unwrap();
    assert_verdict(
        verify(&[&"--anchor", &p(&f.root), &p(&garbage)]),
        1,
        false,
        "malformed_certificate",
    );
}

#[test]
fn usage_errors_exit_two() {
    let f = files("usage");
    let missing = f.dir.join("missing.der");
    let (code, stdout) = verify(&[&"--anchor", &p(&missing), &p(&f.ee)]);
    assert_eq!(code, 2, "{stdout}");
    assert_eq!(json(&stdout)["reason"], "unreadable_file");
    let (code, _) = verify(&[&"--anchor", &p(&f.root), &"--at", &"yesterday", &p(&f.ee)]);
    assert_eq!(code, 2);
    let (code, stdout) = verify(&[&"--anchor", &p(&f.root_crl), &p(&f.ee)]);
    assert_eq!(code, 2, "a CRL is not an anchor: {stdout}");
    assert_eq!(json(&stdout)["reason"], "invalid_anchor");
    let (code, _) = verify(&[
        &"--anchor",
        &p(&f.root),
        &"--policy",
        &"not-an-oid",
        &p(&f.ee),
    ]);
    assert_eq!(code, 2);
    let (code, _) = verify(&[&"--anchor", &p(&f.root), &"--no-such-flag", &p(&f.ee)]);
    assert_eq!(code, 2, "clap usage error");
    let (code, _) = verify(&[&p(&f.ee)]);
    assert_eq!(code, 2, "no anchor");
}

/// The issue's refusals that the other tests here do not cover, through the
/// real binary: not yet valid, an intermediate without keyCertSign, a CRL
/// signed by a key without cRLSign, a stale CRL, revoked by a delta, and a
/// hold lifted by a delta's removeFromCRL (valid again).
#[test]
fn every_refusal_of_the_issue_prints_its_reason() {
    use rcgen::KeyUsagePurpose;
    let dir = crate::harness::scratch_dir().join("pki-verify-refusals");
    std::fs::create_dir_all(&dir).unwrap();
    let write = |file: &str, bytes: &[u8]| {
        let path = dir.join(file);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let now = OffsetDateTime::now_utc();
    let root = TestCa::self_signed(params("Root", true, now));
    let int = root.issue(params("Intermediate", true, now));
    let ee = int.issue(params("EE", false, now));
    let (root_f, int_f, ee_f) = (
        write("root.der", &root.cert_der),
        write("int.der", &int.cert_der),
        write("ee.der", &ee.cert_der),
    );
    let root_crl = write("root.crl", &root.crl(&CrlSpec::full(now)));
    let path_with = |crls: &[&Path]| {
        let mut args: Vec<std::ffi::OsString> = vec![
            "--anchor".into(),
            root_f.clone().into(),
            "--intermediate".into(),
            int_f.clone().into(),
        ];
        for crl in crls {
            args.push("--crl".into());
            args.push(crl.as_os_str().to_owned());
        }
        args.push(ee_f.clone().into());
        args
    };
    let run = |args: Vec<std::ffi::OsString>| {
        let refs: Vec<&dyn AsRef<std::ffi::OsStr>> = args
            .iter()
            .map(|a| a as &dyn AsRef<std::ffi::OsStr>)
            .collect();
        verify(&refs)
    };

    // Not yet valid: checked 60 days before the certificates begin.
    let earlier = (now - time::Duration::days(60)).format(&Rfc3339).unwrap();
    let mut args = path_with(&[]);
    args.splice(0..0, ["--at".into(), earlier.into()]);
    assert_verdict(run(args), 1, false, "not_yet_valid");

    // An intermediate CA without keyCertSign.
    let mut no_cert_sign = params("Intermediate without keyCertSign", true, now);
    no_cert_sign.key_usages = vec![KeyUsagePurpose::CrlSign];
    let bad_int = root.issue(no_cert_sign);
    let bad_ee = bad_int.issue(params("EE below it", false, now));
    let (bad_int_f, bad_ee_f) = (
        write("bad-int.der", &bad_int.cert_der),
        write("bad-ee.der", &bad_ee.cert_der),
    );
    assert_verdict(
        verify(&[
            &"--anchor",
            &p(&root_f),
            &"--intermediate",
            &p(&bad_int_f),
            &p(&bad_ee_f),
        ]),
        1,
        false,
        "missing_key_cert_sign",
    );

    // A CRL signed by an intermediate whose keyUsage lacks cRLSign is not
    // usable, so the end entity's status is unknown.
    let mut no_crl_sign = params("Intermediate without cRLSign", true, now);
    no_crl_sign.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let quiet_int = root.issue(no_crl_sign);
    let quiet_ee = quiet_int.issue(params("EE below the quiet one", false, now));
    let (quiet_int_f, quiet_ee_f, quiet_crl) = (
        write("quiet-int.der", &quiet_int.cert_der),
        write("quiet-ee.der", &quiet_ee.cert_der),
        write("quiet.crl", &quiet_int.crl(&CrlSpec::full(now))),
    );
    assert_verdict(
        verify(&[
            &"--anchor",
            &p(&root_f),
            &"--intermediate",
            &p(&quiet_int_f),
            &"--crl",
            &p(&root_crl),
            &"--crl",
            &p(&quiet_crl),
            &p(&quiet_ee_f),
        ]),
        1,
        false,
        "revocation_status_unknown",
    );

    // A stale CRL (past its nextUpdate).
    let mut stale = CrlSpec::full(now);
    stale.this_update = now - time::Duration::days(10);
    stale.next_update = Some(now - time::Duration::days(3));
    let stale_crl = write("stale.crl", &int.crl(&stale));
    assert_verdict(
        run(path_with(&[&root_crl, &stale_crl])),
        1,
        false,
        "revocation_data_stale",
    );

    // Revoked by a delta CRL on top of a clean full one.
    let full = write("int-full.crl", &int.crl(&CrlSpec::full(now)));
    let mut delta = CrlSpec::full(now);
    delta.number = Some(2);
    delta.delta_base = Some(1);
    delta.entries.push(EntrySpec::revoked(ee.serial(), 1));
    let delta_revoking = write("int-delta-revoking.crl", &int.crl(&delta));
    assert_verdict(
        run(path_with(&[&root_crl, &full, &delta_revoking])),
        1,
        false,
        "revoked",
    );

    // Held (certificateHold) by the full CRL, then lifted by a delta's
    // removeFromCRL: valid again.
    let mut held = CrlSpec::full(now);
    held.entries.push(EntrySpec::revoked(ee.serial(), 6));
    let held_full = write("int-held.crl", &int.crl(&held));
    assert_verdict(
        run(path_with(&[&root_crl, &held_full])),
        1,
        false,
        "revoked",
    );
    let mut lift = CrlSpec::full(now);
    lift.number = Some(2);
    lift.delta_base = Some(1);
    lift.entries.push(EntrySpec::revoked(ee.serial(), 8));
    let lifted = write("int-delta-lift.crl", &int.crl(&lift));
    assert_verdict(
        run(path_with(&[&root_crl, &held_full, &lifted])),
        0,
        true,
        "ok",
    );
}

/// The stricter rules (issue 15): the trust anchor's own constraints and
/// RFC 5280 §4's issuance rules, each with its own reason, through the
/// real binary; and an unnumbered CRL is not used.
#[test]
fn the_anchor_and_the_issuance_rules_print_their_own_reasons() {
    use kofu::devkit::test_pki::raw_extension;
    use rcgen::KeyUsagePurpose;
    let dir = crate::harness::scratch_dir().join("pki-verify-strict");
    std::fs::create_dir_all(&dir).unwrap();
    let write = |file: &str, bytes: &[u8]| {
        let path = dir.join(file);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let now = OffsetDateTime::now_utc();
    let root = TestCa::self_signed(params("Root", true, now));
    let root_f = write("root.der", &root.cert_der);
    let verdict = |anchor: &Path, ee: &TestCa, name: &str| {
        let ee_f = write(name, &ee.cert_der);
        verify(&[&"--anchor", &anchor, &ee_f])
    };
    assert_verdict(
        verdict(&root_f, &root.issue(params("EE", false, now)), "ee.der"),
        0,
        true,
        "ok",
    );

    // An expired anchor refuses its paths.
    let mut old = params("Expired root", true, now);
    old.not_after = now - time::Duration::days(1);
    let old = TestCa::self_signed(old);
    assert_verdict(
        verdict(
            &write("old-root.der", &old.cert_der),
            &old.issue(params("EE", false, now)),
            "old-ee.der",
        ),
        1,
        false,
        "anchor_expired",
    );

    // An end entity without an authority key identifier.
    let mut no_aki = params("EE without AKI", false, now);
    no_aki.use_authority_key_identifier_extension = false;
    assert_verdict(
        verdict(&root_f, &root.issue(no_aki), "no-aki.der"),
        1,
        false,
        "missing_authority_key_identifier",
    );

    // An end entity asserting keyCertSign.
    let mut signer = params("EE with keyCertSign", false, now);
    signer.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyCertSign,
    ];
    assert_verdict(
        verdict(&root_f, &root.issue(signer), "cert-sign.der"),
        1,
        false,
        "key_cert_sign_without_ca",
    );

    // An empty subjectAltName.
    let mut empty_san = params("EE with an empty SAN", false, now);
    empty_san
        .custom_extensions
        .push(raw_extension(&[2, 5, 29, 17], false, vec![0x30, 0x00]));
    assert_verdict(
        verdict(&root_f, &root.issue(empty_san), "empty-san.der"),
        1,
        false,
        "invalid_subject_alt_name",
    );

    // A CRL without a cRLNumber cannot vouch for the end entity.
    let ee = root.issue(params("EE", false, now));
    let ee_f = write("ee-crl.der", &ee.cert_der);
    let mut unnumbered = CrlSpec::full(now);
    unnumbered.number = None;
    let unnumbered = write("unnumbered.crl", &root.crl(&unnumbered));
    let numbered = write("numbered.crl", &root.crl(&CrlSpec::full(now)));
    assert_verdict(
        verify(&[&"--anchor", &root_f, &"--crl", &numbered, &ee_f]),
        0,
        true,
        "ok",
    );
    assert_verdict(
        verify(&[&"--anchor", &root_f, &"--crl", &unnumbered, &ee_f]),
        1,
        false,
        "revocation_status_unknown",
    );
}
