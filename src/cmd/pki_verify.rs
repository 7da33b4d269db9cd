//! `kofu pki verify`: offline validation of one certification path from
//! files, for operators and for conformance suites.
//!
//! The rule this file keeps: the outcome is exactly one JSON line
//! `{"valid":bool,"reason":"..."}` with a stable snake_case reason, and the
//! exit status separates a verdict (0 valid, 1 invalid) from a question that
//! could not be asked (2: unreadable file, unparsable anchor, time or OID).
//! The end-entity certificate is the thing under test, so a malformed one is
//! a verdict (invalid), not a usage error; an unparsable intermediate or CRL
//! is skipped, as it could only have helped.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::gateway::pki::crl::{Crl, CrlSet, looks_like_pem};
use crate::gateway::pki::path::{Certificate, PathError, PathOptions, PathValidator, policy_oid};

/// Largest input file read (a CRL file may be large).
const MAX_FILE_SIZE: u64 = 256 * 1024 * 1024;

/// The command's inputs (`kofu pki verify`'s arguments; the doc comments are
/// its `--help`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct VerifyArgs {
    /// Trust anchor certificate file (DER or PEM); repeatable.
    #[arg(long = "anchor")]
    pub anchors: Vec<PathBuf>,
    /// Intermediate certificate file (DER or PEM); repeatable, any order.
    #[arg(long = "intermediate")]
    pub intermediates: Vec<PathBuf>,
    /// CRL file (DER or PEM, full or delta); repeatable. Any --crl makes revocation checking mandatory for every certificate in the path.
    #[arg(long = "crl")]
    pub crls: Vec<PathBuf>,
    /// Validation time, RFC 3339 (default: now).
    #[arg(long)]
    pub at: Option<String>,
    /// Acceptable policy OID (user-initial-policy-set); repeatable; default anyPolicy.
    #[arg(long = "policy")]
    pub policies: Vec<String>,
    /// initial-explicit-policy.
    #[arg(long)]
    pub explicit_policy: bool,
    /// initial-policy-mapping-inhibit.
    #[arg(long)]
    pub inhibit_policy_mapping: bool,
    /// initial-any-policy-inhibit.
    #[arg(long)]
    pub inhibit_any_policy: bool,
    /// The end-entity certificate (DER or PEM; further certificates in a PEM file join the intermediates).
    pub cert: PathBuf,
}

/// A verdict: valid or not, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOutcome {
    /// Whether the path validated.
    pub valid: bool,
    /// "ok" or a [`PathError::reason`].
    pub reason: &'static str,
}

impl VerifyOutcome {
    /// The single JSON line printed, `valid` first as documented.
    pub fn json(&self) -> String {
        json_line(self.valid, self.reason)
    }

    /// 0 valid, 1 invalid.
    pub fn exit_code(&self) -> u8 {
        if self.valid { 0 } else { 1 }
    }
}

/// A question that could not be asked; exit status 2.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    /// A file could not be read (or is too large).
    #[error("{}: cannot read file", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
    },
    /// A trust anchor file holds no parsable certificate.
    #[error("{}: not a certificate", path.display())]
    InvalidAnchor {
        /// The file.
        path: PathBuf,
    },
    /// `--at` is not an RFC 3339 time.
    #[error("--at is not an RFC 3339 time")]
    InvalidTime,
    /// `--policy` is not a dotted OID.
    #[error("--policy {0} is not a dotted OID")]
    InvalidPolicy(String),
    /// No `--anchor` was given.
    #[error("at least one --anchor is required")]
    NoAnchor,
}

impl UsageError {
    /// Stable snake_case reason for the JSON line.
    pub fn reason(&self) -> &'static str {
        match self {
            UsageError::Unreadable { .. } => "unreadable_file",
            UsageError::InvalidAnchor { .. } => "invalid_anchor",
            UsageError::InvalidTime => "invalid_time",
            UsageError::InvalidPolicy(_) => "invalid_policy",
            UsageError::NoAnchor => "no_anchor",
        }
    }

    /// The JSON line printed for a usage error.
    pub fn json(&self) -> String {
        json_line(false, self.reason())
    }
}

/// `{"valid":...,"reason":"..."}` in that key order (serde_json's map
/// would sort the keys).
fn json_line(valid: bool, reason: &str) -> String {
    let reason = serde_json::Value::from(reason);
    format!("{{\"valid\":{valid},\"reason\":{reason}}}")
}

/// Runs the verification.
///
/// # Errors
/// A [`UsageError`] when the inputs cannot be read or parsed (anchors,
/// time, policies); an invalid path is an `Ok` outcome with `valid: false`.
pub fn verify(args: &VerifyArgs) -> Result<VerifyOutcome, UsageError> {
    let time = match &args.at {
        None => OffsetDateTime::now_utc(),
        Some(s) => OffsetDateTime::parse(s, &Rfc3339).map_err(|_| UsageError::InvalidTime)?,
    };
    let mut opts = PathOptions::at(time);
    if !args.policies.is_empty() {
        let set = args
            .policies
            .iter()
            .map(|p| policy_oid(p).ok_or_else(|| UsageError::InvalidPolicy(p.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        opts.initial_policy_set = Some(set);
    }
    opts.initial_explicit_policy = args.explicit_policy;
    opts.initial_policy_mapping_inhibit = args.inhibit_policy_mapping;
    opts.initial_any_policy_inhibit = args.inhibit_any_policy;

    if args.anchors.is_empty() {
        return Err(UsageError::NoAnchor);
    }
    let mut anchors = Vec::new();
    for path in &args.anchors {
        let ders = certificate_ders(&read(path)?);
        let parsed: Vec<Certificate> = ders
            .iter()
            .filter_map(|d| Certificate::from_der(d).ok())
            .collect();
        if parsed.is_empty() || parsed.len() != ders.len() {
            return Err(UsageError::InvalidAnchor { path: path.clone() });
        }
        anchors.extend(parsed);
    }
    let mut intermediates = Vec::new();
    for path in &args.intermediates {
        let ders = certificate_ders(&read(path)?);
        intermediates.extend(ders.iter().filter_map(|d| Certificate::from_der(d).ok()));
    }
    let mut crls = Vec::new();
    for path in &args.crls {
        if let Ok(found) = Crl::from_file_bytes(&read(path)?) {
            crls.extend(found);
        }
    }
    let ee_bytes = read(&args.cert)?;
    let mut ee_ders = certificate_ders(&ee_bytes).into_iter();
    let ee = match ee_ders.next().map(|d| Certificate::from_der(&d)) {
        Some(Ok(c)) => Arc::new(c),
        Some(Err(e)) => return Ok(invalid(&e)),
        None => return Ok(invalid(&PathError::Malformed)),
    };
    intermediates.extend(ee_ders.filter_map(|d| Certificate::from_der(&d).ok()));

    let mut validator = PathValidator::new(anchors, intermediates);
    if !args.crls.is_empty() {
        validator = validator.with_crls(CrlSet::new(crls));
    }
    Ok(match validator.validate(&ee, &opts) {
        Ok(_) => VerifyOutcome {
            valid: true,
            reason: "ok",
        },
        Err(e) => invalid(&e),
    })
}

fn invalid(e: &PathError) -> VerifyOutcome {
    VerifyOutcome {
        valid: false,
        reason: e.reason(),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, UsageError> {
    let unreadable = || UsageError::Unreadable {
        path: path.to_path_buf(),
    };
    let meta = std::fs::metadata(path).map_err(|_| unreadable())?;
    if !meta.is_file() || meta.len() > MAX_FILE_SIZE {
        return Err(unreadable());
    }
    std::fs::read(path).map_err(|_| unreadable())
}

/// The certificates in a file: every CERTIFICATE block of a PEM file, or
/// the whole file as one DER certificate. A PEM file with a broken block
/// yields an empty DER entry for it, so callers can tell.
fn certificate_ders(bytes: &[u8]) -> Vec<Vec<u8>> {
    if looks_like_pem(bytes) {
        CertificateDer::pem_slice_iter(bytes)
            .map(|r| r.map(|c| c.as_ref().to_vec()).unwrap_or_default())
            .collect()
    } else {
        vec![bytes.to_vec()]
    }
}

/// `kofu pki verify`: no runtime, no logging; one JSON line on stdout.
/// Exit 0 valid, 1 invalid, 2 usage error.
pub fn run(args: &VerifyArgs) -> std::process::ExitCode {
    match verify(args) {
        Ok(outcome) => {
            println!("{}", outcome.json());
            std::process::ExitCode::from(outcome.exit_code())
        }
        Err(e) => {
            println!("{}", e.json());
            eprintln!("kofu: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
