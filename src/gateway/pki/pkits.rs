//! The NIST PKITS path-validation suite (tests/data/pkits, see its README)
//! run through [`super::path::PathValidator`], with the CRLs each case names.
//!
//! The rule this file keeps: every case's verdict must match PKITS, except
//! the cases listed in [`EXPECTED_DEVIATIONS`], each with the reason kofu
//! differs on purpose; a new failure, or a deviation that starts passing,
//! fails the test.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use time::macros::datetime;

use super::crl::{Crl, CrlSet};
use super::path::{Certificate, PathOptions, PathValidator, policy_oid};

/// Cases kofu refuses although PKITS expects success, on purpose.
const EXPECTED_DEVIATIONS: &[(&str, &str)] = &[
    (
        "valid_dsa_signatures_test4",
        "DSA is not a supported algorithm",
    ),
    (
        "valid_dsa_parameter_inheritance_test5",
        "DSA is not a supported algorithm",
    ),
];

#[derive(serde::Deserialize)]
struct Case {
    id: String,
    name: String,
    cert: String,
    #[serde(default)]
    other_certs: Vec<String>,
    #[serde(default)]
    path_intermediates: Vec<String>,
    #[serde(default)]
    crls: Vec<String>,
    #[serde(default)]
    params: BTreeMap<String, serde_json::Value>,
    error: Option<serde_json::Value>,
}

fn dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/pkits"))
}

fn cert(name: &str) -> Certificate {
    let der = std::fs::read(dir().join("certs").join(name)).expect("PKITS certificate");
    Certificate::from_der(&der).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Runs one case; `Ok(reason)` is the verdict (`"ok"` when valid).
fn run(case: &Case) -> Result<&'static str, String> {
    let anchors = vec![cert("TrustAnchorRootCertificate.crt")];
    let mut intermediates: Vec<Certificate> = Vec::new();
    for name in case.other_certs.iter().chain(&case.path_intermediates) {
        intermediates.push(cert(name));
    }
    let mut crls = Vec::new();
    for name in
        std::iter::once("TrustAnchorRootCRL.crl").chain(case.crls.iter().map(String::as_str))
    {
        let der = std::fs::read(dir().join("crls").join(name)).map_err(|e| e.to_string())?;
        // A CRL that does not parse cannot vouch for anything; skip it.
        if let Ok(crl) = Crl::from_der(&der) {
            crls.push(crl);
        }
    }
    let ee_der = std::fs::read(dir().join("certs").join(&case.cert)).map_err(|e| e.to_string())?;
    let ee = match Certificate::from_der(&ee_der) {
        Ok(c) => Arc::new(c),
        Err(e) => return Ok(e.reason()),
    };
    let mut opts = PathOptions::at(datetime!(2022-05-01 0:00 UTC));
    for (key, value) in &case.params {
        match key.as_str() {
            "user_initial_policy_set" => {
                let set = value
                    .as_array()
                    .expect("policy list")
                    .iter()
                    .map(|v| policy_oid(v.as_str().expect("oid")).expect("dotted oid"))
                    .collect();
                opts.initial_policy_set = Some(set);
            }
            "initial_explicit_policy" => opts.initial_explicit_policy = value == true,
            "initial_policy_mapping_inhibit" => opts.initial_policy_mapping_inhibit = value == true,
            "initial_any_policy_inhibit" => opts.initial_any_policy_inhibit = value == true,
            other => return Err(format!("unknown parameter {other}")),
        }
    }
    let validator = PathValidator::new(anchors, intermediates).with_crls(CrlSet::new(crls));
    Ok(match validator.validate(&ee, &opts) {
        Ok(_) => "ok",
        Err(e) => e.reason(),
    })
}

#[test]
fn pkits_verdicts_match_except_documented_deviations() {
    let mut cases: Vec<Case> = Vec::new();
    // The main list, and the policy-qualifier cases (user notices and CPS
    // pointers, which path validation ignores: all valid).
    for file in ["pkits.json", "pkits-user-notice.json"] {
        let text = std::fs::read_to_string(dir().join(file)).expect("PKITS case list");
        let list: Vec<Case> = serde_json::from_str(&text).expect("PKITS case list");
        cases.extend(list);
    }
    assert_eq!(cases.len(), 256, "every PKITS case list entry");
    let mut passed = 0;
    let mut failures = Vec::new();
    for case in &cases {
        let expect_valid = case.error.is_none();
        let verdict = run(case).unwrap_or_else(|e| panic!("{} {}: {e}", case.id, case.name));
        let deviation = EXPECTED_DEVIATIONS.iter().any(|(n, _)| *n == case.name);
        let matched = (verdict == "ok") == expect_valid;
        if matched && !deviation {
            passed += 1;
        } else if !matched && deviation {
            // documented
        } else {
            failures.push(format!(
                "{} {}: expected {}, got {verdict}{}",
                case.id,
                case.name,
                if expect_valid { "valid" } else { "invalid" },
                if deviation {
                    " (listed as a deviation but matches)"
                } else {
                    ""
                }
            ));
        }
    }
    println!(
        "PKITS: {passed}/{} match, {} documented deviations, {} failures",
        cases.len(),
        EXPECTED_DEVIATIONS.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
