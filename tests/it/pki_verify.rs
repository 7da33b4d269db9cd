//! `kofu pki verify` as a user runs it: the real binary on generated PKI
//! files (DER and PEM), checking the one JSON line and the exit status
//! (0 valid, 1 invalid, 2 usage error). No PostgreSQL needed.

use std::path::{Path, PathBuf};
use std::process::Command;

use kofu::pki::testpki::{CrlSpec, EntrySpec, TestCa, params};
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

fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
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
