//! Certification path building and validation, RFC 5280 §6.1, owned by kofu.
//!
//! The rule this file keeps: a [`ValidatedPath`] exists only when one chain
//! from a configured trust anchor down to the end-entity certificate passed
//! every step of §6.1 — signatures (by `ring`, with the algorithms
//! `CertificateSignatureAlgorithm` names), name chaining, validity,
//! basicConstraints and pathLenConstraint, keyUsage keyCertSign, unknown
//! critical extensions, the full certificate-policy tree (mapping,
//! inhibitAnyPolicy, requireExplicitPolicy) and name constraints — and, when
//! CRLs are configured, revocation of every certificate in the chain
//! (see [`super::crl`]). Strict where it matters: the anchor's own
//! validity, cA, keyCertSign, critical extensions, name constraints and
//! path length bind the path (RFC 5937); every other certificate keeps the
//! issuance rules of RFC 5280 §4 (key identifiers, a positive serial of at
//! most 20 octets, a non-empty issuer, keyCertSign and nameConstraints only
//! with cA, well-formed subjectAltName, nameConstraints and
//! extendedKeyUsage); times are compared in whole seconds, the precision
//! certificates carry. Paths are built by name from an unordered pool,
//! with key identifiers only ordering the candidates, and a failing
//! candidate makes the builder try the next one. Errors are typed and carry
//! no names or serials.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::der_parser::asn1_rs::Oid;
use x509_parser::extensions::{ParsedExtension, X509Extension};
use x509_parser::oid_registry::{
    OID_X509_EXT_AUTHORITY_KEY_IDENTIFIER, OID_X509_EXT_EXTENDED_KEY_USAGE,
    OID_X509_EXT_NAME_CONSTRAINTS, OID_X509_EXT_SUBJECT_ALT_NAME,
    OID_X509_EXT_SUBJECT_KEY_IDENTIFIER,
};
use x509_parser::prelude::FromDer;

use super::name::{self, GName, Name, NameConstraintState};
use super::reason::RevocationReason;
use super::signature::{self, CertificateSignatureAlgorithm, PublicKey, SignatureError};

/// Largest certificate accepted (anchor, intermediate or end entity).
pub const MAX_CERTIFICATE_SIZE: usize = 64 * 1024;
/// Longest chain tried, anchor excluded.
pub const MAX_PATH_DEPTH: usize = 12;
/// Complete candidate chains validated before the builder gives up.
const MAX_CANDIDATE_PATHS: usize = 32;
/// Partial chains explored before the builder gives up (same-name CAs
/// cross-certifying each other could otherwise explode the search).
const MAX_SEARCH_STEPS: usize = 1024;
/// Nodes allowed in the policy tree: certificate policies can make it grow
/// exponentially (CVE-2023-0464), so the size is bounded.
const MAX_POLICY_NODES: usize = 4096;
/// anyPolicy, 2.5.29.32.0, as DER OID content octets.
pub(crate) const ANY_POLICY: &[u8] = &[0x55, 0x1d, 0x20, 0x00];
/// Longest serial number, in content octets of its INTEGER (RFC 5280 §4.1.2.2).
const MAX_SERIAL_OCTETS: usize = 20;
/// RSA modulus sizes accepted, in bits.
const RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=4096;

/// Why a path was refused. Each variant has a stable [`PathError::reason`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// A certificate is not one well-formed DER X.509 certificate (trailing
    /// data, bad version for its contents, an extension that does not parse).
    #[error("certificate is malformed")]
    Malformed,
    /// A certificate is larger than [`MAX_CERTIFICATE_SIZE`].
    #[error("certificate is too large")]
    TooLarge,
    /// An extension appears twice in one certificate (RFC 5280 §4.2).
    #[error("certificate has a duplicate extension")]
    DuplicateExtension,
    /// No chain by name from a trust anchor reaches the certificate.
    #[error("no trusted issuer found")]
    UnknownIssuer,
    /// A signature in the chain does not verify with its issuer's key.
    #[error("certificate signature does not verify")]
    BadSignature,
    /// The signature algorithm (or the issuer's key) is not one kofu
    /// verifies: RSA PKCS#1 v1.5 SHA-256/384/512 with 2048–4096-bit keys,
    /// ECDSA P-256/P-384 with SHA-256/384.
    #[error("unsupported signature algorithm {algorithm}")]
    UnsupportedSignatureAlgorithm {
        /// Dotted OID of the algorithm, or the key that cannot be used.
        algorithm: String,
    },
    /// The algorithm inside tbsCertificate differs from the outer one.
    #[error("signature algorithm in the signed part differs from the outer one")]
    SignatureAlgorithmMismatch,
    /// The validation time is before notBefore.
    #[error("certificate is not valid before {not_before}")]
    NotYetValid {
        /// notBefore of the certificate concerned.
        not_before: OffsetDateTime,
    },
    /// The validation time is after notAfter.
    #[error("certificate expired at {not_after}")]
    Expired {
        /// notAfter of the certificate concerned.
        not_after: OffsetDateTime,
    },
    /// An issuing certificate is not a version 3 CA (basicConstraints cA)
    /// with a non-empty subject.
    #[error("issuing certificate is not a CA")]
    NotACa,
    /// More non-self-issued intermediates than a pathLenConstraint allows.
    #[error("path length constraint exceeded")]
    PathLenExceeded,
    /// An issuing certificate has keyUsage without keyCertSign.
    #[error("issuing certificate lacks keyCertSign")]
    MissingKeyCertSign,
    /// A critical extension kofu does not process.
    #[error("unknown critical extension {oid}")]
    UnknownCriticalExtension {
        /// Dotted OID (not personal data).
        oid: String,
    },
    /// An explicit policy is required and the path has no acceptable one.
    #[error("no acceptable certificate policy")]
    PolicyRequired,
    /// policyMappings maps to or from anyPolicy (RFC 5280 §6.1.4 (a)).
    #[error("policy mapping involves anyPolicy")]
    InvalidPolicyMapping,
    /// The policy tree grew past its bound.
    #[error("certificate policy tree too large")]
    PolicyTreeTooLarge,
    /// A name is outside a permitted subtree, inside an excluded one, or of
    /// a constrained form kofu cannot check.
    #[error("name constraints violated")]
    NameConstraintViolation,
    /// A certificate in the chain is revoked.
    #[error("certificate revoked ({reason})")]
    Revoked {
        /// The CRL entry's reason code.
        reason: RevocationReason,
    },
    /// CRLs were required and none usable covers a certificate.
    #[error("revocation status unknown")]
    RevocationStatusUnknown,
    /// The only CRLs covering a certificate are past nextUpdate (plus grace).
    #[error("revocation data is stale")]
    RevocationDataStale,
    /// More intermediates would be needed than [`MAX_PATH_DEPTH`].
    #[error("certification path too long")]
    PathTooLong,
    /// The trust anchor's certificate is not valid yet at the validation
    /// time (RFC 5937: an anchor given as a certificate constrains the path
    /// with its validity).
    #[error("trust anchor is not valid before {not_before}")]
    AnchorNotYetValid {
        /// notBefore of the anchor.
        not_before: OffsetDateTime,
    },
    /// The trust anchor's certificate expired before the validation time.
    #[error("trust anchor expired at {not_after}")]
    AnchorExpired {
        /// notAfter of the anchor.
        not_after: OffsetDateTime,
    },
    /// A version 3 trust anchor without basicConstraints cA.
    #[error("trust anchor is not a CA")]
    AnchorNotACa,
    /// The trust anchor has keyUsage without keyCertSign.
    #[error("trust anchor lacks keyCertSign")]
    AnchorMissingKeyCertSign,
    /// The trust anchor has a critical extension kofu does not process.
    #[error("trust anchor has an unknown critical extension {oid}")]
    AnchorUnknownCriticalExtension {
        /// Dotted OID (not personal data).
        oid: String,
    },
    /// A certificate below the anchor lacks the keyIdentifier of
    /// authorityKeyIdentifier (RFC 5280 §4.2.1.1: required in every
    /// certificate but a self-signed one).
    #[error("certificate lacks an authority key identifier")]
    MissingAuthorityKeyIdentifier,
    /// An intermediate CA lacks subjectKeyIdentifier (RFC 5280 §4.2.1.2:
    /// required in every CA certificate).
    #[error("CA certificate lacks a subject key identifier")]
    MissingSubjectKeyIdentifier,
    /// authorityKeyIdentifier or subjectKeyIdentifier is marked critical or
    /// holds an empty key identifier (RFC 5280 §4.2.1.1, §4.2.1.2).
    #[error("key identifier extension is invalid")]
    InvalidKeyIdentifier,
    /// A certificate asserts keyCertSign without basicConstraints cA
    /// (RFC 5280 §4.2.1.3): an end entity posing as a CA.
    #[error("keyCertSign asserted without basicConstraints cA")]
    KeyCertSignWithoutCa,
    /// nameConstraints in a certificate that is not a CA (RFC 5280 §4.2.1.10).
    #[error("name constraints in a certificate that is not a CA")]
    EndEntityNameConstraints,
    /// subjectAltName is empty, does not parse, holds a name that breaks
    /// its form's syntax (a dNSName outside the preferred name syntax, a
    /// mailbox without `@`, a relative URI, an iPAddress not of 4 or 16
    /// octets), or is missing or non-critical when the subject is empty
    /// (RFC 5280 §4.1.2.6, §4.2.1.6).
    #[error("subject alternative name is invalid")]
    InvalidSubjectAltName,
    /// nameConstraints is empty, does not parse, has a subtree with
    /// minimum or maximum, or a base that breaks its form's syntax (RFC 5280
    /// §4.2.1.10).
    #[error("name constraints extension is invalid")]
    InvalidNameConstraints,
    /// extendedKeyUsage is an empty sequence (RFC 5280 §4.2.1.12: SIZE (1..MAX)).
    #[error("extended key usage is empty")]
    EmptyExtendedKeyUsage,
    /// The serial number is zero, negative or longer than 20 octets
    /// (RFC 5280 §4.1.2.2).
    #[error("certificate serial number is not a positive integer of at most 20 octets")]
    InvalidSerialNumber,
    /// The issuer name is an empty sequence (RFC 5280 §4.1.2.4).
    #[error("certificate issuer name is empty")]
    EmptyIssuer,
}

impl PathError {
    /// Stable snake_case reason for JSON output and API codes.
    pub fn reason(&self) -> &'static str {
        match self {
            PathError::Malformed => "malformed_certificate",
            PathError::TooLarge => "certificate_too_large",
            PathError::DuplicateExtension => "duplicate_extension",
            PathError::UnknownIssuer => "unknown_issuer",
            PathError::BadSignature => "bad_signature",
            PathError::UnsupportedSignatureAlgorithm { .. } => "unsupported_signature_algorithm",
            PathError::SignatureAlgorithmMismatch => "signature_algorithm_mismatch",
            PathError::NotYetValid { .. } => "not_yet_valid",
            PathError::Expired { .. } => "expired",
            PathError::NotACa => "not_a_ca",
            PathError::PathLenExceeded => "path_len_exceeded",
            PathError::MissingKeyCertSign => "missing_key_cert_sign",
            PathError::UnknownCriticalExtension { .. } => "unknown_critical_extension",
            PathError::PolicyRequired => "policy_required",
            PathError::InvalidPolicyMapping => "invalid_policy_mapping",
            PathError::PolicyTreeTooLarge => "policy_tree_too_large",
            PathError::NameConstraintViolation => "name_constraint_violation",
            PathError::Revoked { .. } => "revoked",
            PathError::RevocationStatusUnknown => "revocation_status_unknown",
            PathError::RevocationDataStale => "revocation_data_stale",
            PathError::PathTooLong => "path_too_long",
            PathError::AnchorNotYetValid { .. } => "anchor_not_yet_valid",
            PathError::AnchorExpired { .. } => "anchor_expired",
            PathError::AnchorNotACa => "anchor_not_a_ca",
            PathError::AnchorMissingKeyCertSign => "anchor_missing_key_cert_sign",
            PathError::AnchorUnknownCriticalExtension { .. } => "anchor_unknown_critical_extension",
            PathError::MissingAuthorityKeyIdentifier => "missing_authority_key_identifier",
            PathError::MissingSubjectKeyIdentifier => "missing_subject_key_identifier",
            PathError::InvalidKeyIdentifier => "invalid_key_identifier",
            PathError::KeyCertSignWithoutCa => "key_cert_sign_without_ca",
            PathError::EndEntityNameConstraints => "end_entity_name_constraints",
            PathError::InvalidSubjectAltName => "invalid_subject_alt_name",
            PathError::InvalidNameConstraints => "invalid_name_constraints",
            PathError::EmptyExtendedKeyUsage => "empty_extended_key_usage",
            PathError::InvalidSerialNumber => "invalid_serial_number",
            PathError::EmptyIssuer => "empty_issuer_name",
        }
    }
}

/// A distribution point from a certificate's cRLDistributionPoints.
#[derive(Debug, Clone)]
pub(crate) struct DistPoint {
    pub(crate) name: Option<DpName>,
    /// ReasonFlags bits (bit n = reason code n; 7 privilegeWithdrawn, 8 aACompromise).
    pub(crate) reasons: Option<u16>,
    pub(crate) crl_issuer: Option<Vec<GName>>,
}

/// A distribution point name: full general names, or one RDN relative to
/// the CRL issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DpName {
    Full(Vec<GName>),
    Relative(Name),
}

/// GeneralNames from IMPLICIT-tagged content (the SEQUENCE OF's content).
pub(crate) fn general_names(content: &[u8]) -> Option<Vec<GName>> {
    let mut seq = vec![0x30];
    seq.extend(der_length(content.len()));
    seq.extend_from_slice(content);
    match x509_parser::extensions::SubjectAlternativeName::from_der(&seq) {
        Ok(([], san)) => Some(san.general_names.iter().map(GName::from_x509).collect()),
        _ => None,
    }
}

/// ReasonFlags from an IMPLICIT BIT STRING's content: bit n (first octet's
/// most significant bit is n = 0) becomes `1 << n`.
pub(crate) fn reason_flags(content: &[u8]) -> Option<u16> {
    let (&unused, bits) = content.split_first()?;
    if unused > 7 || bits.len() > 2 {
        return None;
    }
    let mut flags = 0u16;
    for (i, byte) in bits.iter().enumerate() {
        for b in 0..8 {
            if byte & (0x80 >> b) != 0 {
                flags |= 1 << (i * 8 + b);
            }
        }
    }
    Some(flags)
}

/// cRLDistributionPoints (RFC 5280 §4.2.1.13) from the extension value.
fn distribution_points(value: &[u8]) -> Option<Vec<DistPoint>> {
    let (0x30, mut rest, []) = der_tlv(value)? else {
        return None;
    };
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (0x30, mut fields, next) = der_tlv(rest)? else {
            return None;
        };
        rest = next;
        let mut dp = DistPoint {
            name: None,
            reasons: None,
            crl_issuer: None,
        };
        while !fields.is_empty() {
            let (tag, content, next) = der_tlv(fields)?;
            fields = next;
            match tag {
                0xa0 => dp.name = Some(DpName::from_der_content(content)?),
                0x81 => dp.reasons = Some(reason_flags(content)?),
                0xa2 => dp.crl_issuer = Some(general_names(content)?),
                _ => return None,
            }
        }
        out.push(dp);
    }
    Some(out)
}

impl DpName {
    /// DistributionPointName from the content of its `[0]` wrapper.
    ///
    /// Read here rather than by x509-parser 0.18, which parses
    /// `[1] IMPLICIT RelativeDistinguishedName` as an explicit SET, fails, and
    /// then silently drops the rest of the DistributionPoint (cRLIssuer
    /// included) — that would misjudge CRL scope.
    pub(crate) fn from_der_content(content: &[u8]) -> Option<DpName> {
        let (tag, inner, rest) = der_tlv(content)?;
        if !rest.is_empty() {
            return None;
        }
        match tag {
            0xa0 => general_names(inner).map(DpName::Full),
            0xa1 => {
                let mut set = vec![0x31];
                set.extend(der_length(inner.len()));
                set.extend_from_slice(inner);
                match x509_parser::x509::RelativeDistinguishedName::from_der(&set) {
                    Ok(([], rdn)) => Some(DpName::Relative(Name::from_rdn(&rdn))),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The names this DP stands for, a relative one appended to `issuer`.
    pub(crate) fn resolve(&self, issuer: &Name) -> Vec<GName> {
        match self {
            DpName::Full(names) => names.clone(),
            DpName::Relative(rdn) => vec![GName::Dir(issuer.join(rdn))],
        }
    }
}

/// nameConstraints: (permittedSubtrees, excludedSubtrees), each optional.
type Subtrees = (Option<Vec<GName>>, Option<Vec<GName>>);

/// keyUsage bits as x509-parser numbers them.
pub(crate) mod ku {
    pub(crate) const KEY_CERT_SIGN: u16 = 1 << 5;
    pub(crate) const CRL_SIGN: u16 = 1 << 6;
}

/// A parsed certificate, owned, with what path validation needs extracted
/// once. Identity is the SHA-256 of the DER ([`Certificate::fingerprint`]);
/// `Debug` shows only that, never names or the serial.
pub struct Certificate {
    der: Vec<u8>,
    fingerprint: [u8; 32],
    tbs: Vec<u8>,
    signature: Vec<u8>,
    algorithm: Result<CertificateSignatureAlgorithm, String>,
    algorithms_match: bool,
    version: u32,
    serial: Vec<u8>,
    pub(crate) issuer: Name,
    pub(crate) subject: Name,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    spki: Vec<u8>,
    /// Why this certificate's key cannot verify signatures, if it cannot.
    key_problem: Option<String>,
    basic_constraints: Option<(bool, Option<u32>)>,
    pub(crate) key_usage: Option<u16>,
    policies: Option<Vec<Vec<u8>>>,
    policy_mappings: Option<Vec<(Vec<u8>, Vec<u8>)>>,
    policy_constraints: Option<(Option<u32>, Option<u32>)>,
    inhibit_any_policy: Option<u32>,
    name_constraints: Option<Subtrees>,
    alt_names: Vec<GName>,
    pub(crate) distribution_points: Vec<DistPoint>,
    authority_key_id: Option<Vec<u8>>,
    subject_key_id: Option<Vec<u8>>,
    unknown_critical: Option<String>,
    /// The first way this certificate breaks the issuance rules of RFC 5280
    /// §4 that do not depend on its place in a path (serial, issuer name,
    /// the syntax of extensions validation relies on). Kept, not returned by
    /// [`Certificate::from_der`], so a pool certificate that breaks them is
    /// refused with its own reason when a path runs through it.
    profile_problem: Option<PathError>,
    /// nameConstraints is present and invalid: an anchor with such
    /// constraints is refused, since they cannot be honoured.
    bad_name_constraints: bool,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Certificate(sha256:{})", hex8(&self.fingerprint))
    }
}

/// First 8 bytes in hex: enough to correlate, nothing personal.
pub(crate) fn hex8(bytes: &[u8]) -> String {
    bytes.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// How one extension breaks the syntax RFC 5280 §4.2 gives it, for the
/// extensions path validation relies on; `None` when it does not (or is
/// not one of them). A subjectAltName or nameConstraints that does not
/// parse at all is refused here with its own reason, not as a malformed
/// certificate.
fn extension_problem(ext: &X509Extension<'_>) -> Option<PathError> {
    if ext.oid == OID_X509_EXT_SUBJECT_ALT_NAME {
        let ParsedExtension::SubjectAlternativeName(san) = ext.parsed_extension() else {
            return Some(PathError::InvalidSubjectAltName);
        };
        let well_formed = !san.general_names.is_empty()
            && san.general_names.iter().all(name::alt_name_well_formed);
        return (!well_formed).then_some(PathError::InvalidSubjectAltName);
    }
    if ext.oid == OID_X509_EXT_NAME_CONSTRAINTS {
        let ParsedExtension::NameConstraints(nc) = ext.parsed_extension() else {
            return Some(PathError::InvalidNameConstraints);
        };
        let bases = nc
            .permitted_subtrees
            .iter()
            .chain(nc.excluded_subtrees.iter())
            .flatten();
        let mut bases = bases.peekable();
        let well_formed = bases.peek().is_some()
            && subtrees_well_formed(ext.value)
            && bases.all(|t| name::constraint_base_well_formed(&t.base));
        return (!well_formed).then_some(PathError::InvalidNameConstraints);
    }
    if ext.oid == OID_X509_EXT_EXTENDED_KEY_USAGE {
        // ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId.
        return matches!(der_tlv(ext.value), Some((0x30, [], [])))
            .then_some(PathError::EmptyExtendedKeyUsage);
    }
    if ext.oid == OID_X509_EXT_AUTHORITY_KEY_IDENTIFIER {
        // §4.2.1.1: non-critical; a key identifier is never empty (and one
        // that does not parse is no identifier).
        let bad = match ext.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                aki.key_identifier.as_ref().is_some_and(|k| k.0.is_empty())
            }
            _ => true,
        };
        return (ext.critical || bad).then_some(PathError::InvalidKeyIdentifier);
    }
    if ext.oid == OID_X509_EXT_SUBJECT_KEY_IDENTIFIER {
        // §4.2.1.2: non-critical, and not empty.
        let bad = match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => k.0.is_empty(),
            _ => true,
        };
        return (ext.critical || bad).then_some(PathError::InvalidKeyIdentifier);
    }
    None
}

/// The structure of a nameConstraints value, which x509-parser 0.18 does
/// not check: `SEQUENCE { [0] GeneralSubtrees OPTIONAL, [1] GeneralSubtrees
/// OPTIONAL }` with at least one present, in that order, each non-empty,
/// and every GeneralSubtree only its base — minimum is DEFAULT 0 (so DER
/// leaves it out) and RFC 5280 §4.2.1.10 says it MUST be zero and maximum
/// MUST be absent.
fn subtrees_well_formed(value: &[u8]) -> bool {
    let Some((0x30, mut fields, [])) = der_tlv(value) else {
        return false;
    };
    if fields.is_empty() {
        return false;
    }
    let mut previous = 0u8;
    while !fields.is_empty() {
        let Some((tag, mut subtrees, rest)) = der_tlv(fields) else {
            return false;
        };
        fields = rest;
        if !(tag == 0xa0 || tag == 0xa1) || tag <= previous || subtrees.is_empty() {
            return false;
        }
        previous = tag;
        while !subtrees.is_empty() {
            let Some((0x30, subtree, rest)) = der_tlv(subtrees) else {
                return false;
            };
            subtrees = rest;
            if !matches!(der_tlv(subtree), Some((_, _, []))) {
                return false;
            }
        }
    }
    true
}

impl Certificate {
    /// Parses one DER certificate; nothing may follow it.
    ///
    /// # Errors
    /// [`PathError::TooLarge`], [`PathError::DuplicateExtension`] or
    /// [`PathError::Malformed`]. Algorithm support and critical extensions
    /// are judged during validation, not here.
    pub fn from_der(der: &[u8]) -> Result<Certificate, PathError> {
        if der.len() > MAX_CERTIFICATE_SIZE {
            return Err(PathError::TooLarge);
        }
        let cert = match X509Certificate::from_der(der) {
            Ok(([], cert)) => cert,
            _ => return Err(PathError::Malformed),
        };
        Self::from_parsed(der, &cert)
    }

    /// [`Certificate::from_der`] for a certificate the caller has already
    /// parsed from `der` (the card verifier does, for its profile checks), so
    /// the bytes are not parsed twice.
    pub(crate) fn from_parsed(
        der: &[u8],
        cert: &X509Certificate<'_>,
    ) -> Result<Certificate, PathError> {
        if der.len() > MAX_CERTIFICATE_SIZE {
            return Err(PathError::TooLarge);
        }
        let tbs = &cert.tbs_certificate;
        if tbs.extensions_map().is_err() {
            return Err(PathError::DuplicateExtension);
        }
        let version = tbs.version.0;
        if version > 2
            || (version < 2 && !tbs.extensions().is_empty())
            || (version == 0 && (tbs.issuer_uid.is_some() || tbs.subject_uid.is_some()))
        {
            return Err(PathError::Malformed);
        }
        let param = |a: &x509_parser::x509::AlgorithmIdentifier<'_>| {
            a.parameters
                .as_ref()
                .map(|p| (p.header.tag(), p.data.to_vec()))
        };
        let algorithms_match = tbs.signature.algorithm == cert.signature_algorithm.algorithm
            && param(&tbs.signature) == param(&cert.signature_algorithm);
        let algorithm = CertificateSignatureAlgorithm::from_identifier(&cert.signature_algorithm)
            .ok_or_else(|| cert.signature_algorithm.algorithm.to_id_string());
        let spki = tbs.subject_pki.raw.to_vec();
        let key_problem = key_problem(&spki);
        let mut out = Certificate {
            der: der.to_vec(),
            fingerprint: sha256(der),
            tbs: tbs.as_ref().to_vec(),
            // A signature BIT STRING with unused bits cannot be a valid
            // signature: kept empty, so it fails as a bad signature.
            signature: if cert.signature_value.unused_bits == 0 {
                cert.signature_value.data.to_vec()
            } else {
                Vec::new()
            },
            algorithm,
            algorithms_match,
            version,
            serial: canonical_serial(tbs.raw_serial()),
            issuer: Name::from_x509(&tbs.issuer),
            subject: Name::from_x509(&tbs.subject),
            not_before: tbs.validity.not_before.to_datetime(),
            not_after: tbs.validity.not_after.to_datetime(),
            spki,
            key_problem,
            basic_constraints: None,
            key_usage: None,
            policies: None,
            policy_mappings: None,
            policy_constraints: None,
            inhibit_any_policy: None,
            name_constraints: None,
            alt_names: Vec::new(),
            distribution_points: Vec::new(),
            authority_key_id: None,
            subject_key_id: None,
            unknown_critical: None,
            profile_problem: None,
            bad_name_constraints: false,
        };
        // §4.1.2.2: a positive INTEGER of at most 20 content octets.
        let raw_serial = tbs.raw_serial();
        if raw_serial.is_empty()
            || raw_serial.len() > MAX_SERIAL_OCTETS
            || raw_serial[0] & 0x80 != 0
            || raw_serial.iter().all(|&b| b == 0)
        {
            out.profile_problem = Some(PathError::InvalidSerialNumber);
        }
        // §4.1.2.4: the issuer is never an empty sequence.
        if out.issuer.is_empty() {
            out.profile_problem.get_or_insert(PathError::EmptyIssuer);
        }
        let mut san_critical = false;
        for ext in tbs.extensions() {
            if let Some(problem) = extension_problem(ext) {
                if problem == PathError::InvalidNameConstraints {
                    out.bad_name_constraints = true;
                }
                out.profile_problem.get_or_insert(problem);
                if matches!(ext.parsed_extension(), ParsedExtension::ParseError { .. }) {
                    continue;
                }
            }
            match ext.parsed_extension() {
                ParsedExtension::BasicConstraints(bc) => {
                    out.basic_constraints = Some((bc.ca, bc.path_len_constraint));
                }
                ParsedExtension::KeyUsage(k) => out.key_usage = Some(k.flags),
                ParsedExtension::CertificatePolicies(p) => {
                    let ids: Vec<Vec<u8>> =
                        p.iter().map(|i| i.policy_id.as_bytes().to_vec()).collect();
                    let unique: HashSet<&Vec<u8>> = ids.iter().collect();
                    if unique.len() != ids.len() {
                        return Err(PathError::Malformed);
                    }
                    out.policies = Some(ids);
                }
                ParsedExtension::PolicyMappings(m) => {
                    out.policy_mappings = Some(
                        m.mappings
                            .iter()
                            .map(|m| {
                                (
                                    m.issuer_domain_policy.as_bytes().to_vec(),
                                    m.subject_domain_policy.as_bytes().to_vec(),
                                )
                            })
                            .collect(),
                    );
                }
                ParsedExtension::PolicyConstraints(pc) => {
                    out.policy_constraints =
                        Some((pc.require_explicit_policy, pc.inhibit_policy_mapping));
                }
                ParsedExtension::InhibitAnyPolicy(i) => out.inhibit_any_policy = Some(i.skip_certs),
                ParsedExtension::NameConstraints(nc) => {
                    let subtrees =
                        |s: &Option<Vec<x509_parser::extensions::GeneralSubtree<'_>>>| {
                            s.as_ref()
                                .map(|v| v.iter().map(|t| GName::from_x509(&t.base)).collect())
                        };
                    out.name_constraints = Some((
                        subtrees(&nc.permitted_subtrees),
                        subtrees(&nc.excluded_subtrees),
                    ));
                }
                ParsedExtension::SubjectAlternativeName(san) => {
                    san_critical = ext.critical;
                    out.alt_names = san.general_names.iter().map(GName::from_x509).collect();
                }
                ParsedExtension::CRLDistributionPoints(_) => {
                    out.distribution_points =
                        distribution_points(ext.value).ok_or(PathError::Malformed)?;
                }
                ParsedExtension::AuthorityKeyIdentifier(aki) => {
                    out.authority_key_id = aki.key_identifier.as_ref().map(|k| k.0.to_vec());
                }
                ParsedExtension::SubjectKeyIdentifier(k) => out.subject_key_id = Some(k.0.to_vec()),
                ParsedExtension::ExtendedKeyUsage(_)
                | ParsedExtension::IssuerAlternativeName(_) => {}
                ParsedExtension::ParseError { .. } => return Err(PathError::Malformed),
                _ => {
                    if ext.critical && out.unknown_critical.is_none() {
                        out.unknown_critical = Some(ext.oid.to_id_string());
                    }
                }
            }
        }
        // §4.1.2.6: a subject named only in subjectAltName has an empty
        // subject field and a critical subjectAltName.
        if out.subject.is_empty() && (out.alt_names.is_empty() || !san_critical) {
            out.profile_problem
                .get_or_insert(PathError::InvalidSubjectAltName);
        }
        Ok(out)
    }

    /// The DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// SHA-256 of the DER: the identity caches and de-duplication use.
    pub fn fingerprint(&self) -> &[u8; 32] {
        &self.fingerprint
    }

    /// Serial number as minimal two's-complement big-endian bytes (a
    /// positive serial with its top bit set keeps one leading 0x00), the key
    /// CRL entries are matched by. Never log it.
    pub fn serial(&self) -> &[u8] {
        &self.serial
    }

    /// DER SubjectPublicKeyInfo.
    pub fn spki(&self) -> &[u8] {
        &self.spki
    }

    /// notAfter.
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// Whether basicConstraints says cA.
    pub fn is_ca(&self) -> bool {
        self.basic_constraints.is_some_and(|(ca, _)| ca)
    }

    /// Issuer and subject names are equal (RFC 5280 §6.1: self-issued).
    pub fn is_self_issued(&self) -> bool {
        self.issuer == self.subject
    }

    /// The issuance rules of RFC 5280 §4 a certificate keeps whatever its
    /// place in a path: its [`Certificate::profile_problem`], keyCertSign
    /// only with cA (§4.2.1.3), nameConstraints only in a CA (§4.2.1.10).
    /// An issuing certificate without cA fails as [`PathError::NotACa`]
    /// later, so for one only the first part matters.
    fn check_own_profile(&self) -> Result<(), PathError> {
        if let Some(problem) = &self.profile_problem {
            return Err(problem.clone());
        }
        if !self.is_ca() {
            if self.key_usage.is_some_and(|k| k & ku::KEY_CERT_SIGN != 0) {
                return Err(PathError::KeyCertSignWithoutCa);
            }
            if self.name_constraints.is_some() {
                return Err(PathError::EndEntityNameConstraints);
            }
        }
        Ok(())
    }

    /// RFC 5937: what a trust anchor given as a certificate imposes on the
    /// path besides its name and key — its validity at `time`, cA (for a
    /// version 3 certificate; a version 1 anchor is a bare name and key),
    /// keyCertSign when it has keyUsage, no unknown critical extension, and
    /// name constraints that can be honoured (they are applied to the path
    /// by [`validate_chain`], as is its pathLenConstraint).
    fn check_as_anchor(&self, time: OffsetDateTime) -> Result<(), PathError> {
        if time < self.not_before {
            return Err(PathError::AnchorNotYetValid {
                not_before: self.not_before,
            });
        }
        if time > self.not_after {
            return Err(PathError::AnchorExpired {
                not_after: self.not_after,
            });
        }
        if self.version == 2 && !self.is_ca() {
            return Err(PathError::AnchorNotACa);
        }
        if self.key_usage.is_some_and(|k| k & ku::KEY_CERT_SIGN == 0) {
            return Err(PathError::AnchorMissingKeyCertSign);
        }
        if let Some(oid) = &self.unknown_critical {
            return Err(PathError::AnchorUnknownCriticalExtension { oid: oid.clone() });
        }
        if self.bad_name_constraints {
            return Err(PathError::InvalidNameConstraints);
        }
        Ok(())
    }

    /// authorityKeyIdentifier equals `issuer`'s subjectKeyIdentifier (both present).
    fn key_ids_match(&self, issuer: &Certificate) -> bool {
        matches!((&self.authority_key_id, &issuer.subject_key_id), (Some(a), Some(s)) if a == s)
    }

    /// Verifies that `signer` made this certificate's signature.
    fn verify_signed_by(
        &self,
        signer: &Certificate,
        cache: Option<&SignatureCache>,
    ) -> Result<(), PathError> {
        if !self.algorithms_match {
            return Err(PathError::SignatureAlgorithmMismatch);
        }
        verify_signed(
            &self.tbs,
            &self.signature,
            &self.algorithm,
            signer,
            cache.map(|c| (c, self.fingerprint)),
        )
    }
}

/// Verifies `signature` over `signed` with `signer`'s key under
/// `algorithm`; positive results may be cached by (`key`, signer key).
pub(crate) fn verify_signed(
    signed: &[u8],
    signature: &[u8],
    algorithm: &Result<CertificateSignatureAlgorithm, String>,
    signer: &Certificate,
    cache: Option<(&SignatureCache, [u8; 32])>,
) -> Result<(), PathError> {
    let alg = algorithm
        .as_ref()
        .map_err(|oid| PathError::UnsupportedSignatureAlgorithm {
            algorithm: oid.clone(),
        })?;
    if let Some(problem) = &signer.key_problem {
        return Err(PathError::UnsupportedSignatureAlgorithm {
            algorithm: problem.clone(),
        });
    }
    let cache_key = cache.map(|(c, subject)| {
        let mut both = subject.to_vec();
        both.extend_from_slice(&sha256(&signer.spki));
        (c, sha256(&both))
    });
    if let Some((c, k)) = &cache_key {
        if c.contains(k) {
            return Ok(());
        }
    }
    match signature::verify_certificate_signature(&signer.spki, *alg, signed, signature) {
        Ok(()) => {
            if let Some((c, k)) = cache_key {
                c.insert(k);
            }
            Ok(())
        }
        Err(SignatureError::BadSignature | SignatureError::AlgorithmMismatch) => {
            Err(PathError::BadSignature)
        }
        Err(SignatureError::MalformedKey) => Err(PathError::Malformed),
        Err(SignatureError::UnsupportedKey | SignatureError::UnsupportedAlgorithm) => {
            Err(PathError::UnsupportedSignatureAlgorithm {
                algorithm: "unsupported-key".to_string(),
            })
        }
    }
}

/// Why a SubjectPublicKeyInfo cannot verify signatures here, if it cannot.
fn key_problem(spki: &[u8]) -> Option<String> {
    match PublicKey::parse(spki) {
        Err(_) => {
            let oid = x509_parser::x509::SubjectPublicKeyInfo::from_der(spki)
                .map(|(_, s)| s.algorithm.algorithm.to_id_string())
                .unwrap_or_else(|_| "malformed-key".to_string());
            Some(oid)
        }
        Ok(key) if key.kind == signature::KeyKind::Rsa => {
            let bits = x509_parser::x509::SubjectPublicKeyInfo::from_der(spki)
                .ok()
                .and_then(|(_, s)| match s.parsed() {
                    Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => Some(rsa.key_size()),
                    _ => None,
                });
            match bits {
                Some(b) if RSA_BITS.contains(&b) => None,
                Some(b) => Some(format!("rsa-{b}")),
                None => Some("malformed-key".to_string()),
            }
        }
        Ok(_) => None,
    }
}

/// One DER TLV: (tag byte, content, rest). Lengths up to 4 octets.
pub(crate) fn der_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first & 0x80 == 0 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let (bytes, after) = rest.split_at(n);
        rest = after;
        bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
    };
    if rest.len() < len {
        return None;
    }
    let (content, rest) = rest.split_at(len);
    Some((tag, content, rest))
}

fn der_length(len: usize) -> Vec<u8> {
    if len < 0x80 {
        vec![len as u8]
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        let mut out = vec![0x80 | bytes.len() as u8];
        out.extend(bytes);
        out
    }
}

pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, data).as_ref());
    out
}

/// A DER INTEGER's content in minimal two's complement: redundant leading
/// 0x00 (before a byte < 0x80) or 0xFF (before a byte >= 0x80) removed, so
/// negative serials (PKITS 4.4.14) never collide with positive ones.
pub(crate) fn canonical_serial(raw: &[u8]) -> Vec<u8> {
    let mut s = raw;
    while let [first, second, ..] = s {
        if (*first == 0 && second & 0x80 == 0) || (*first == 0xff && second & 0x80 != 0) {
            s = &s[1..];
        } else {
            break;
        }
    }
    s.to_vec()
}

/// Positive signature results, keyed by SHA-256 of (certificate DER hash,
/// signer SPKI hash) — never by name — so a certificate presented again with
/// the same issuer key skips the RSA/ECDSA work. Bounded; cleared when full.
#[derive(Debug, Default)]
pub struct SignatureCache {
    verified: Mutex<HashSet<[u8; 32]>>,
}

const SIGNATURE_CACHE_CAPACITY: usize = 4096;

impl SignatureCache {
    fn contains(&self, key: &[u8; 32]) -> bool {
        self.verified.lock().is_ok_and(|s| s.contains(key))
    }

    fn insert(&self, key: [u8; 32]) {
        if let Ok(mut set) = self.verified.lock() {
            if set.len() >= SIGNATURE_CACHE_CAPACITY {
                set.clear();
            }
            set.insert(key);
        }
    }
}

/// The initial inputs of RFC 5280 §6.1.1 besides the certificates.
#[derive(Debug, Clone)]
pub struct PathOptions {
    /// The time the path must be valid at.
    pub time: OffsetDateTime,
    /// user-initial-policy-set as DER OID content octets; `None` = anyPolicy.
    pub initial_policy_set: Option<Vec<Vec<u8>>>,
    /// initial-explicit-policy.
    pub initial_explicit_policy: bool,
    /// initial-policy-mapping-inhibit.
    pub initial_policy_mapping_inhibit: bool,
    /// initial-any-policy-inhibit.
    pub initial_any_policy_inhibit: bool,
}

impl PathOptions {
    /// Defaults of §6.1.1: any policy, nothing inhibited, at `time`.
    pub fn at(time: OffsetDateTime) -> PathOptions {
        PathOptions {
            time,
            initial_policy_set: None,
            initial_explicit_policy: false,
            initial_policy_mapping_inhibit: false,
            initial_any_policy_inhibit: false,
        }
    }
}

/// A dotted OID ("1.2.392.200149.8.5.1.3.30") as DER content octets.
pub fn policy_oid(dotted: &str) -> Option<Vec<u8>> {
    dotted
        .parse::<Oid<'static>>()
        .ok()
        .map(|o| o.as_bytes().to_vec())
}

/// Proof that a path validated: only [`PathValidator::validate`] makes it.
#[derive(Debug, Clone)]
pub struct ValidatedPath {
    /// End entity first, trust anchor last.
    chain: Vec<Arc<Certificate>>,
    anchor_index: usize,
    policies: Vec<String>,
}

impl ValidatedPath {
    /// The certificates, end entity first and trust anchor last.
    pub fn chain(&self) -> &[Arc<Certificate>] {
        &self.chain
    }

    /// The end-entity certificate.
    pub fn end_entity(&self) -> &Certificate {
        &self.chain[0]
    }

    /// The certificate that issued the end entity.
    pub fn issuer(&self) -> &Certificate {
        &self.chain[1]
    }

    /// Position of the trust anchor in the list given to [`PathValidator::new`].
    pub fn anchor_index(&self) -> usize {
        self.anchor_index
    }

    /// Valid policies at the end entity after intersection with the
    /// user-initial-policy-set, as the end entity names them (after any
    /// mapping): dotted OIDs, "2.5.29.32.0" for anyPolicy, empty when the
    /// path asserts none.
    pub fn policies(&self) -> &[String] {
        &self.policies
    }
}

/// Validates paths against fixed trust anchors, an intermediate pool and,
/// optionally, CRLs. Holds a [`SignatureCache`], so keep one per
/// configuration and share it (it is `Send + Sync`).
#[derive(Debug)]
pub struct PathValidator {
    anchors: Vec<Arc<Certificate>>,
    intermediates: Vec<Arc<Certificate>>,
    crls: Option<Box<dyn RevocationCheck>>,
    cache: SignatureCache,
}

/// The revocation step of path validation (RFC 5280 §6.3), run on a chain
/// that passed §6.1. `crl::CrlSet` is the implementation; the trait lives
/// here so that path validation does not depend on CRL validation, which
/// itself validates the CRL signers' paths with a [`PathValidator`].
pub trait RevocationCheck: std::fmt::Debug + Send + Sync {
    /// Checks every certificate of `chain` (end entity first) below the
    /// anchor at `anchor_index`.
    fn check_chain(
        &self,
        v: &PathValidator,
        chain: &[Arc<Certificate>],
        opts: &PathOptions,
        nest: &Nest,
        anchor_index: usize,
    ) -> Result<(), PathError>;
}

impl PathValidator {
    /// Anchors are trusted by configuration, and constrain the paths that
    /// end at them as RFC 5937 describes: their validity, cA, keyCertSign,
    /// critical extensions, name constraints and pathLenConstraint are
    /// applied at every validation, not here (they depend on the time).
    pub fn new(anchors: Vec<Certificate>, intermediates: Vec<Certificate>) -> PathValidator {
        let anchors: Vec<Arc<Certificate>> = anchors.into_iter().map(Arc::new).collect();
        let anchor_prints: HashSet<[u8; 32]> = anchors.iter().map(|a| a.fingerprint).collect();
        let mut seen = HashSet::new();
        let intermediates = intermediates
            .into_iter()
            .filter(|c| !anchor_prints.contains(&c.fingerprint) && seen.insert(c.fingerprint))
            .map(Arc::new)
            .collect();
        PathValidator {
            anchors,
            intermediates,
            crls: None,
            cache: SignatureCache::default(),
        }
    }

    /// Requires revocation checking of every certificate in a path with
    /// these CRLs (a `crl::CrlSet`).
    pub fn with_crls(mut self, crls: impl RevocationCheck + 'static) -> PathValidator {
        self.crls = Some(Box::new(crls));
        self
    }

    pub(crate) fn anchors(&self) -> &[Arc<Certificate>] {
        &self.anchors
    }

    pub(crate) fn intermediates(&self) -> &[Arc<Certificate>] {
        &self.intermediates
    }

    /// Builds and validates a path for `end_entity`, trying alternative
    /// issuers when a candidate chain fails.
    ///
    /// # Errors
    /// [`PathError::UnknownIssuer`] when no chain by name reaches an
    /// anchor; otherwise the error of the first (most likely) candidate.
    pub fn validate(
        &self,
        end_entity: &Arc<Certificate>,
        opts: &PathOptions,
    ) -> Result<ValidatedPath, PathError> {
        self.validate_inner(end_entity, opts, &Nest::default(), None)
    }

    /// `nest` tracks nested CRL-signer validations; `only_anchor` limits the
    /// anchors (a CRL signer must chain to the anchor of the path it serves).
    pub(crate) fn validate_inner(
        &self,
        end_entity: &Arc<Certificate>,
        opts: &PathOptions,
        nest: &Nest,
        only_anchor: Option<usize>,
    ) -> Result<ValidatedPath, PathError> {
        // Certificates carry whole seconds (§4.1.2.5): a certificate whose
        // notAfter is 12:00:00 is valid throughout 12:00:00.xxx.
        let truncated;
        let opts = if opts.time.nanosecond() == 0 {
            opts
        } else {
            truncated = PathOptions {
                time: opts.time.replace_nanosecond(0).unwrap_or(opts.time),
                ..opts.clone()
            };
            &truncated
        };
        end_entity.check_own_profile()?;
        let ee = end_entity.clone();
        let mut search = Search {
            validator: self,
            opts,
            nest,
            only_anchor,
            attempts: 0,
            steps: 0,
            first_error: None,
        };
        let mut chain = vec![ee];
        if let Some(ok) = search.extend(&mut chain) {
            return Ok(ok);
        }
        Err(search.first_error.unwrap_or(PathError::UnknownIssuer))
    }

    /// Issuers of `cert` by name, key-identifier matches first.
    fn issuers<'a>(
        &'a self,
        cert: &Certificate,
        pool: &'a [Arc<Certificate>],
    ) -> Vec<(usize, &'a Arc<Certificate>)> {
        let mut found: Vec<(usize, &Arc<Certificate>)> = pool
            .iter()
            .enumerate()
            .filter(|(_, c)| c.subject == cert.issuer)
            .collect();
        found.sort_by_key(|(_, c)| match (&cert.authority_key_id, &c.subject_key_id) {
            (Some(a), Some(s)) if a == s => 0,
            (Some(_), Some(_)) => 2,
            _ => 1,
        });
        found
    }
}

/// Where a validation sits among nested CRL-signer validations: how deep,
/// and which signer certificates are being validated further up (a CRL
/// signer may vouch for its own certificate, PKITS 4.14.30, and must not
/// send the validator round in circles).
#[derive(Debug, Clone, Default)]
pub struct Nest {
    pub(crate) depth: usize,
    pub(crate) signers: Vec<[u8; 32]>,
}

struct Search<'v> {
    validator: &'v PathValidator,
    opts: &'v PathOptions,
    nest: &'v Nest,
    only_anchor: Option<usize>,
    attempts: usize,
    steps: usize,
    first_error: Option<PathError>,
}

impl Search<'_> {
    /// Depth-first: anchors issuing the last certificate, then intermediates.
    fn extend(&mut self, chain: &mut Vec<Arc<Certificate>>) -> Option<ValidatedPath> {
        self.steps += 1;
        if self.steps > MAX_SEARCH_STEPS {
            return None;
        }
        let last = chain.last()?.clone();
        let v = self.validator;
        for (index, anchor) in v.issuers(&last, &v.anchors) {
            if self.only_anchor.is_some_and(|only| only != index) {
                continue;
            }
            if self.attempts >= MAX_CANDIDATE_PATHS {
                return None;
            }
            self.attempts += 1;
            let mut full = chain.clone();
            full.push(anchor.clone());
            match validate_chain(v, &full, self.opts, self.nest, index) {
                Ok(policies) => {
                    return Some(ValidatedPath {
                        chain: full,
                        anchor_index: index,
                        policies,
                    });
                }
                Err(e) => {
                    self.first_error.get_or_insert(e);
                }
            }
        }
        for (_, next) in v.issuers(&last, &v.intermediates) {
            if chain.iter().any(|c| c.fingerprint == next.fingerprint) {
                continue;
            }
            if chain.len() > MAX_PATH_DEPTH {
                self.first_error.get_or_insert(PathError::PathTooLong);
                return None;
            }
            chain.push(next.clone());
            let found = self.extend(chain);
            chain.pop();
            if found.is_some() {
                return found;
            }
        }
        None
    }
}

/// RFC 5280 §6.1.2–6.1.5 on one chain (end entity first, anchor last), then
/// revocation when configured. Returns the user-constrained policy set.
fn validate_chain(
    v: &PathValidator,
    chain_ee_first: &[Arc<Certificate>],
    opts: &PathOptions,
    nest: &Nest,
    anchor_index: usize,
) -> Result<Vec<String>, PathError> {
    // Work from the anchor down, as §6.1 numbers the certificates.
    let chain: Vec<&Arc<Certificate>> = chain_ee_first.iter().rev().collect();
    let n = chain.len() - 1;
    let mut working = chain[0];
    let mut explicit_policy = if opts.initial_explicit_policy {
        0
    } else {
        n + 1
    };
    let mut inhibit_any = if opts.initial_any_policy_inhibit {
        0
    } else {
        n + 1
    };
    let mut policy_mapping = if opts.initial_policy_mapping_inhibit {
        0
    } else {
        n + 1
    };
    let anchor = chain[0];
    // RFC 5937: the anchor's pathLenConstraint and name constraints bind
    // the whole path (its other constraints are checked after the loop, so
    // a path's own certificates report their faults first).
    let mut max_path_length = match anchor.basic_constraints {
        Some((true, Some(len))) => n.min(len as usize),
        _ => n,
    };
    let mut tree = PolicyTree::new();
    let mut names = NameConstraintState::default();
    if let Some((permitted, excluded)) = &anchor.name_constraints {
        names.add(permitted.as_deref(), excluded.as_deref());
    }

    for (i, cert) in chain.iter().enumerate().skip(1) {
        let last = i == n;
        let self_issued = cert.is_self_issued();
        // §6.1.3 (a): signature, validity, name chaining. Only CA
        // certificates are worth caching; end entities change every call.
        let cache = (!last).then_some(&v.cache);
        match cert.verify_signed_by(working, cache) {
            Err(PathError::BadSignature) if !cert.key_ids_match(working) => {
                // The issuer found by name is not the one that signed: a
                // look-alike CA (same name, other key), not a forgery of ours.
                return Err(PathError::UnknownIssuer);
            }
            other => other?,
        }
        if opts.time < cert.not_before {
            return Err(PathError::NotYetValid {
                not_before: cert.not_before,
            });
        }
        if opts.time > cert.not_after {
            return Err(PathError::Expired {
                not_after: cert.not_after,
            });
        }
        if cert.issuer != working.subject {
            return Err(PathError::UnknownIssuer);
        }
        if let Some(oid) = &cert.unknown_critical {
            return Err(PathError::UnknownCriticalExtension { oid: oid.clone() });
        }
        // RFC 5280 §4 issuance rules. The key identifier is required of
        // all but self-signed certificates (§4.2.1.1); it is checked after
        // the signature, so a look-alike CA's certificate stays an unknown
        // issuer.
        if let Some(problem) = &cert.profile_problem {
            return Err(problem.clone());
        }
        let self_signed = self_issued && cert.spki == working.spki;
        if cert.authority_key_id.is_none() && !self_signed {
            return Err(PathError::MissingAuthorityKeyIdentifier);
        }
        // (b), (c): name constraints, skipped for self-issued intermediates.
        if (last || !self_issued) && !names.check(&cert.subject, &cert.alt_names) {
            return Err(PathError::NameConstraintViolation);
        }
        // (d)–(f): policies.
        tree.process(
            i,
            cert.policies.as_deref(),
            inhibit_any > 0 || (!last && self_issued),
        )?;
        if explicit_policy == 0 && tree.null {
            return Err(PathError::PolicyRequired);
        }
        if last {
            break;
        }
        // §6.1.4: preparation for certificate i+1.
        // §4.1.2.6: a CA's subject is never empty (it is what chains).
        if cert.version != 2 || !cert.is_ca() || cert.subject.is_empty() {
            return Err(PathError::NotACa);
        }
        // §4.2.1.2: every CA certificate names its key.
        if cert.subject_key_id.is_none() {
            return Err(PathError::MissingSubjectKeyIdentifier);
        }
        if let Some(maps) = &cert.policy_mappings {
            if maps.iter().any(|(a, b)| a == ANY_POLICY || b == ANY_POLICY) {
                return Err(PathError::InvalidPolicyMapping);
            }
            tree.map(i, maps, policy_mapping > 0)?;
        }
        if let Some((permitted, excluded)) = &cert.name_constraints {
            names.add(permitted.as_deref(), excluded.as_deref());
        }
        if !self_issued {
            explicit_policy = explicit_policy.saturating_sub(1);
            policy_mapping = policy_mapping.saturating_sub(1);
            inhibit_any = inhibit_any.saturating_sub(1);
        }
        if let Some((require, inhibit)) = cert.policy_constraints {
            if let Some(r) = require {
                explicit_policy = explicit_policy.min(r as usize);
            }
            if let Some(m) = inhibit {
                policy_mapping = policy_mapping.min(m as usize);
            }
        }
        if let Some(skip) = cert.inhibit_any_policy {
            inhibit_any = inhibit_any.min(skip as usize);
        }
        if !self_issued {
            if max_path_length == 0 {
                return Err(PathError::PathLenExceeded);
            }
            max_path_length -= 1;
        }
        if let Some((_, Some(len))) = cert.basic_constraints {
            max_path_length = max_path_length.min(len as usize);
        }
        if cert.key_usage.is_some_and(|k| k & ku::KEY_CERT_SIGN == 0) {
            return Err(PathError::MissingKeyCertSign);
        }
        working = cert;
    }
    anchor.check_as_anchor(opts.time)?;
    // §6.1.5: wrap-up.
    let ee = chain[n];
    explicit_policy = explicit_policy.saturating_sub(1);
    if let Some((Some(0), _)) = ee.policy_constraints {
        explicit_policy = 0;
    }
    tree.intersect(n, opts.initial_policy_set.as_deref())?;
    if explicit_policy == 0 && tree.null {
        return Err(PathError::PolicyRequired);
    }
    if let Some(crls) = &v.crls {
        crls.check_chain(v, chain_ee_first, opts, nest, anchor_index)?;
    }
    Ok(tree.leaf_policies(n))
}

#[derive(Debug)]
struct PolicyNode {
    depth: usize,
    policy: Vec<u8>,
    expected: Vec<Vec<u8>>,
    parent: Option<usize>,
    alive: bool,
}

/// The valid_policy_tree of RFC 5280 §6.1.2 (a), as an arena of nodes;
/// deleted nodes stay in the arena, marked dead.
struct PolicyTree {
    nodes: Vec<PolicyNode>,
    null: bool,
}

impl PolicyTree {
    fn new() -> PolicyTree {
        PolicyTree {
            nodes: vec![PolicyNode {
                depth: 0,
                policy: ANY_POLICY.to_vec(),
                expected: vec![ANY_POLICY.to_vec()],
                parent: None,
                alive: true,
            }],
            null: false,
        }
    }

    fn at(&self, depth: usize) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].alive && self.nodes[i].depth == depth)
            .collect()
    }

    fn add(
        &mut self,
        depth: usize,
        policy: Vec<u8>,
        expected: Vec<Vec<u8>>,
        parent: usize,
    ) -> Result<(), PathError> {
        if self.nodes.len() >= MAX_POLICY_NODES {
            return Err(PathError::PolicyTreeTooLarge);
        }
        self.nodes.push(PolicyNode {
            depth,
            policy,
            expected,
            parent: Some(parent),
            alive: true,
        });
        Ok(())
    }

    /// §6.1.3 (d)–(e) for certificate `i`.
    fn process(
        &mut self,
        i: usize,
        policies: Option<&[Vec<u8>]>,
        any_allowed: bool,
    ) -> Result<(), PathError> {
        if self.null {
            return Ok(());
        }
        let Some(policies) = policies else {
            self.null = true;
            return Ok(());
        };
        let parents = self.at(i - 1);
        for p in policies.iter().filter(|p| p.as_slice() != ANY_POLICY) {
            let matching: Vec<usize> = parents
                .iter()
                .copied()
                .filter(|&q| self.nodes[q].expected.contains(p))
                .collect();
            let targets = if matching.is_empty() {
                parents
                    .iter()
                    .copied()
                    .filter(|&q| self.nodes[q].policy == ANY_POLICY)
                    .collect()
            } else {
                matching
            };
            for q in targets {
                self.add(i, p.clone(), vec![p.clone()], q)?;
            }
        }
        if any_allowed && policies.iter().any(|p| p == ANY_POLICY) {
            for &q in &parents {
                for e in self.nodes[q].expected.clone() {
                    let exists = self
                        .nodes
                        .iter()
                        .any(|c| c.alive && c.parent == Some(q) && c.depth == i && c.policy == e);
                    if !exists {
                        self.add(i, e.clone(), vec![e], q)?;
                    }
                }
            }
        }
        self.prune(i);
        Ok(())
    }

    /// §6.1.4 (b) for certificate `i`'s policyMappings.
    fn map(
        &mut self,
        i: usize,
        maps: &[(Vec<u8>, Vec<u8>)],
        mapping_allowed: bool,
    ) -> Result<(), PathError> {
        if self.null {
            return Ok(());
        }
        let mut issuer_policies: Vec<&Vec<u8>> = Vec::new();
        for (idp, _) in maps {
            if !issuer_policies.contains(&idp) {
                issuer_policies.push(idp);
            }
        }
        for idp in issuer_policies {
            let subjects: Vec<Vec<u8>> = maps
                .iter()
                .filter(|(a, _)| a == idp)
                .map(|(_, b)| b.clone())
                .collect();
            let at_i = self.at(i);
            let same: Vec<usize> = at_i
                .iter()
                .copied()
                .filter(|&q| &self.nodes[q].policy == idp)
                .collect();
            if mapping_allowed {
                if !same.is_empty() {
                    for q in same {
                        self.nodes[q].expected = subjects.clone();
                    }
                } else if let Some(parent) = at_i
                    .iter()
                    .copied()
                    .find(|&q| self.nodes[q].policy == ANY_POLICY)
                    .and_then(|q| self.nodes[q].parent)
                {
                    self.add(i, idp.clone(), subjects, parent)?;
                }
            } else {
                for q in same {
                    self.nodes[q].alive = false;
                }
            }
        }
        if !mapping_allowed {
            self.prune(i);
        }
        Ok(())
    }

    /// §6.1.5 (g): intersection with the user-initial-policy-set.
    fn intersect(&mut self, n: usize, user: Option<&[Vec<u8>]>) -> Result<(), PathError> {
        let Some(user) = user else { return Ok(()) };
        if self.null || user.iter().any(|p| p == ANY_POLICY) {
            return Ok(());
        }
        let set: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| {
                self.nodes[i].alive
                    && self.nodes[i]
                        .parent
                        .is_some_and(|p| self.nodes[p].policy == ANY_POLICY)
            })
            .collect();
        for &q in &set {
            let policy = &self.nodes[q].policy;
            if policy != ANY_POLICY && !user.contains(policy) {
                self.kill_subtree(q);
            }
        }
        let any_leaf = self
            .at(n)
            .into_iter()
            .find(|&q| self.nodes[q].policy == ANY_POLICY);
        if let Some(leaf) = any_leaf {
            if let Some(parent) = self.nodes[leaf].parent {
                for p in user {
                    let present = set
                        .iter()
                        .any(|&q| self.nodes[q].alive && &self.nodes[q].policy == p);
                    if !present {
                        self.add(n, p.clone(), vec![p.clone()], parent)?;
                    }
                }
            }
            self.nodes[leaf].alive = false;
        }
        self.prune(n);
        Ok(())
    }

    fn kill_subtree(&mut self, root: usize) {
        self.nodes[root].alive = false;
        for i in root + 1..self.nodes.len() {
            if let Some(p) = self.nodes[i].parent {
                if !self.nodes[p].alive {
                    self.nodes[i].alive = false;
                }
            }
        }
    }

    /// Deletes nodes above depth `leaves` without children, repeatedly; the
    /// tree is NULL once the root goes.
    fn prune(&mut self, leaves: usize) {
        for depth in (0..leaves).rev() {
            let mut has_child = vec![false; self.nodes.len()];
            for node in self.nodes.iter().filter(|n| n.alive) {
                if let Some(p) = node.parent {
                    has_child[p] = true;
                }
            }
            for (i, node) in self.nodes.iter_mut().enumerate() {
                if node.alive && node.depth == depth && !has_child[i] {
                    node.alive = false;
                }
            }
        }
        if !self.nodes[0].alive {
            self.null = true;
        }
    }

    fn leaf_policies(&self, n: usize) -> Vec<String> {
        if self.null {
            return Vec::new();
        }
        let mut out: Vec<String> = self
            .at(n)
            .into_iter()
            .map(|q| Oid::new(std::borrow::Cow::Borrowed(&self.nodes[q].policy[..])).to_id_string())
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use rcgen::{
        BasicConstraints, GeneralSubtree, IsCa, KeyUsagePurpose, NameConstraints, SanType,
    };
    use time::Duration;
    use time::macros::datetime;

    use super::*;
    use crate::devkit::test_pki::{
        TestCa, inhibit_any_policy, params, policies, policy_constraints, policy_mappings,
        raw_extension, unknown_critical,
    };

    const P1: &str = "1.2.392.200149.8.5.1.3.30";
    const P2: &str = "1.3.6.1.4.1.99999.7.2";
    const ANY: &str = "2.5.29.32.0";

    fn now() -> OffsetDateTime {
        datetime!(2025-04-01 01:00 UTC)
    }

    fn cert(ca: &TestCa) -> Certificate {
        Certificate::from_der(&ca.cert_der).expect("parses")
    }

    fn root() -> TestCa {
        TestCa::self_signed(params("Root", true, now()))
    }

    /// Validates `ee` with `root` as anchor and `intermediates` in the pool.
    fn check(
        root: &TestCa,
        intermediates: &[&TestCa],
        ee: &TestCa,
        opts: &PathOptions,
    ) -> Result<ValidatedPath, PathError> {
        let v = PathValidator::new(
            vec![cert(root)],
            intermediates.iter().map(|c| cert(c)).collect(),
        );
        v.validate(&Arc::new(cert(ee)), opts)
    }

    fn simple(
        configure_int: impl FnOnce(&mut rcgen::CertificateParams),
    ) -> Result<ValidatedPath, PathError> {
        let root = root();
        let mut p = params("Intermediate", true, now());
        configure_int(&mut p);
        let int = root.issue(p);
        let ee = int.issue(params("EE", false, now()));
        check(&root, &[&int], &ee, &PathOptions::at(now()))
    }

    #[test]
    fn chain_through_an_intermediate_validates() {
        let path = simple(|_| {}).expect("valid path");
        assert_eq!(path.chain().len(), 3);
        assert_eq!(path.anchor_index(), 0);
        assert_eq!(
            path.policies(),
            [] as [String; 0],
            "no policies asserted: tree is NULL"
        );
    }

    #[test]
    fn expired_and_not_yet_valid_end_entities_are_refused() {
        let root = root();
        let ee = root.issue(params("EE", false, now()));
        let not_after = cert(&ee).not_after();
        let late = PathOptions::at(not_after + Duration::seconds(1));
        assert_eq!(
            check(&root, &[], &ee, &late).unwrap_err(),
            PathError::Expired { not_after }
        );
        assert!(check(&root, &[], &ee, &PathOptions::at(not_after)).is_ok());
        let early = PathOptions::at(now() - Duration::days(31));
        let err = check(&root, &[], &ee, &early).unwrap_err();
        assert_eq!(err.reason(), "not_yet_valid");
    }

    #[test]
    fn expired_intermediate_is_refused() {
        let err = simple(|p| p.not_after = now() - Duration::days(1)).unwrap_err();
        assert!(matches!(err, PathError::Expired { .. }), "{err:?}");
    }

    /// Validates `ee`, issued directly by a root made from `configure_root`.
    fn below_root(
        configure_root: impl FnOnce(&mut rcgen::CertificateParams),
        configure_ee: impl FnOnce(&mut rcgen::CertificateParams),
    ) -> Result<ValidatedPath, PathError> {
        let mut p = params("Root", true, now());
        configure_root(&mut p);
        let root = TestCa::self_signed(p);
        let mut e = params("EE", false, now());
        configure_ee(&mut e);
        let ee = root.issue(e);
        check(&root, &[], &ee, &PathOptions::at(now()))
    }

    #[test]
    fn expired_or_not_yet_valid_anchor_refuses_its_paths() {
        let err = below_root(|p| p.not_after = now() - Duration::days(1), |_| {}).unwrap_err();
        assert!(matches!(err, PathError::AnchorExpired { .. }), "{err:?}");
        assert_eq!(err.reason(), "anchor_expired");
        let err = below_root(|p| p.not_before = now() + Duration::days(1), |_| {}).unwrap_err();
        assert!(
            matches!(err, PathError::AnchorNotYetValid { .. }),
            "{err:?}"
        );
        assert_eq!(err.reason(), "anchor_not_yet_valid");
        assert!(below_root(|_| {}, |_| {}).is_ok());
    }

    #[test]
    fn anchor_that_is_not_a_ca_or_lacks_key_cert_sign_is_refused() {
        let err = below_root(|p| p.is_ca = IsCa::ExplicitNoCa, |_| {}).unwrap_err();
        assert_eq!(err, PathError::AnchorNotACa);
        assert_eq!(err.reason(), "anchor_not_a_ca");
        let err =
            below_root(|p| p.key_usages = vec![KeyUsagePurpose::CrlSign], |_| {}).unwrap_err();
        assert_eq!(err, PathError::AnchorMissingKeyCertSign);
        assert_eq!(err.reason(), "anchor_missing_key_cert_sign");
    }

    #[test]
    fn anchor_with_an_unknown_critical_extension_is_refused() {
        let err = below_root(|p| p.custom_extensions.push(unknown_critical()), |_| {}).unwrap_err();
        assert_eq!(
            err,
            PathError::AnchorUnknownCriticalExtension {
                oid: "1.3.6.1.4.1.99999.1".to_string()
            }
        );
        assert_eq!(err.reason(), "anchor_unknown_critical_extension");
    }

    #[test]
    fn anchor_name_constraints_and_path_length_bind_the_path() {
        let nc = || {
            Some(NameConstraints {
                permitted_subtrees: vec![GeneralSubtree::DnsName("example.jp".into())],
                excluded_subtrees: vec![],
            })
        };
        let san = |name: &'static str| {
            move |p: &mut rcgen::CertificateParams| {
                p.subject_alt_names = vec![SanType::DnsName(name.try_into().expect("dns"))]
            }
        };
        assert!(below_root(|p| p.name_constraints = nc(), san("www.example.jp")).is_ok());
        assert_eq!(
            below_root(|p| p.name_constraints = nc(), san("www.example.com")).unwrap_err(),
            PathError::NameConstraintViolation
        );
        // An anchor whose name constraints cannot be read cannot be honoured.
        let err = below_root(
            |p| {
                p.custom_extensions
                    .push(raw_extension(&[2, 5, 29, 30], true, vec![0x30, 0x00]))
            },
            |_| {},
        )
        .unwrap_err();
        assert_eq!(err, PathError::InvalidNameConstraints);
        // pathLenConstraint 0 on the anchor: end entities only.
        let mut p = params("Root", true, now());
        p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        let root = TestCa::self_signed(p);
        let int = root.issue(params("Intermediate", true, now()));
        let ee = int.issue(params("EE", false, now()));
        assert_eq!(
            check(&root, &[&int], &ee, &PathOptions::at(now())).unwrap_err(),
            PathError::PathLenExceeded
        );
        let direct = root.issue(params("EE", false, now()));
        assert!(check(&root, &[], &direct, &PathOptions::at(now())).is_ok());
    }

    #[test]
    fn certificate_without_authority_key_identifier_is_refused() {
        let err =
            below_root(|_| {}, |e| e.use_authority_key_identifier_extension = false).unwrap_err();
        assert_eq!(err, PathError::MissingAuthorityKeyIdentifier);
        assert_eq!(err.reason(), "missing_authority_key_identifier");
        let err = simple(|p| p.use_authority_key_identifier_extension = false).unwrap_err();
        assert_eq!(
            err,
            PathError::MissingAuthorityKeyIdentifier,
            "an intermediate"
        );
        // A self-signed anchor needs none (RFC 5280 §4.2.1.1's exception).
        assert!(below_root(|p| p.use_authority_key_identifier_extension = false, |_| {}).is_ok());
    }

    #[test]
    fn intermediate_ca_without_subject_key_identifier_is_refused() {
        // rcgen writes subjectKeyIdentifier with basicConstraints; NoCa
        // writes neither, so basicConstraints cA comes as a raw extension.
        let err = simple(|p| {
            p.is_ca = IsCa::NoCa;
            p.custom_extensions.push(raw_extension(
                &[2, 5, 29, 19],
                true,
                vec![0x30, 0x03, 0x01, 0x01, 0xff],
            ));
        })
        .unwrap_err();
        assert_eq!(err, PathError::MissingSubjectKeyIdentifier);
        assert_eq!(err.reason(), "missing_subject_key_identifier");
        // An end entity without one is fine (SHOULD, not MUST).
        assert!(below_root(|_| {}, |e| e.is_ca = IsCa::NoCa).is_ok());
    }

    #[test]
    fn critical_or_empty_key_identifiers_are_refused() {
        let critical_ski = |e: &mut rcgen::CertificateParams| {
            e.is_ca = IsCa::NoCa;
            e.custom_extensions.push(raw_extension(
                &[2, 5, 29, 14],
                true,
                vec![0x04, 0x04, 1, 2, 3, 4],
            ));
        };
        let err = below_root(|_| {}, critical_ski).unwrap_err();
        assert_eq!(err, PathError::InvalidKeyIdentifier);
        assert_eq!(err.reason(), "invalid_key_identifier");
        let empty_aki = |e: &mut rcgen::CertificateParams| {
            e.use_authority_key_identifier_extension = false;
            e.custom_extensions.push(raw_extension(
                &[2, 5, 29, 35],
                false,
                vec![0x30, 0x02, 0x80, 0x00],
            ));
        };
        assert_eq!(
            below_root(|_| {}, empty_aki).unwrap_err(),
            PathError::InvalidKeyIdentifier
        );
    }

    #[test]
    fn end_entity_asserting_key_cert_sign_is_refused() {
        let err = below_root(
            |_| {},
            |e| {
                e.key_usages = vec![
                    KeyUsagePurpose::DigitalSignature,
                    KeyUsagePurpose::KeyCertSign,
                ]
            },
        )
        .unwrap_err();
        assert_eq!(err, PathError::KeyCertSignWithoutCa);
        assert_eq!(err.reason(), "key_cert_sign_without_ca");
    }

    #[test]
    fn end_entity_carrying_name_constraints_is_refused() {
        let err = below_root(
            |_| {},
            |e| {
                e.name_constraints = Some(NameConstraints {
                    permitted_subtrees: vec![GeneralSubtree::DnsName("example.jp".into())],
                    excluded_subtrees: vec![],
                })
            },
        )
        .unwrap_err();
        assert_eq!(err, PathError::EndEntityNameConstraints);
        assert_eq!(err.reason(), "end_entity_name_constraints");
    }

    /// subjectAltName as raw DER content.
    fn raw_san(content: &[u8], critical: bool) -> rcgen::CustomExtension {
        let mut value = vec![0x30, content.len() as u8];
        value.extend_from_slice(content);
        raw_extension(&[2, 5, 29, 17], critical, value)
    }

    #[test]
    fn malformed_subject_alt_names_are_refused() {
        let with = |content: &'static [u8]| {
            below_root(
                |_| {},
                move |e| e.custom_extensions.push(raw_san(content, false)),
            )
        };
        assert!(with(b"\x82\x0ewww.example.jp").is_ok());
        for bad in [
            &b""[..],                // empty GeneralNames
            b"\x82\x04a..b",         // dNSName outside the preferred syntax
            b"\x82\x01 ",            // dNSName " "
            b"\x81\x0aexample.jp",   // rfc822Name without a local part
            b"\x86\x05/path",        // relative URI
            b"\x87\x03\x01\x02\x03", // iPAddress of 3 octets
            b"\x82\x02\xff\xfe",     // dNSName that is not IA5
        ] {
            let err = with(bad).unwrap_err();
            assert_eq!(err, PathError::InvalidSubjectAltName, "{bad:?}");
            assert_eq!(err.reason(), "invalid_subject_alt_name");
        }
    }

    #[test]
    fn empty_subject_needs_a_critical_subject_alt_name() {
        let empty = |e: &mut rcgen::CertificateParams| {
            e.distinguished_name = rcgen::DistinguishedName::new()
        };
        assert_eq!(
            below_root(|_| {}, empty).unwrap_err(),
            PathError::InvalidSubjectAltName,
            "no subjectAltName at all"
        );
        let san = |critical: bool| {
            move |e: &mut rcgen::CertificateParams| {
                e.distinguished_name = rcgen::DistinguishedName::new();
                e.custom_extensions
                    .push(raw_san(b"\x82\x0ewww.example.jp", critical));
            }
        };
        assert_eq!(
            below_root(|_| {}, san(false)).unwrap_err(),
            PathError::InvalidSubjectAltName
        );
        assert!(below_root(|_| {}, san(true)).is_ok());
    }

    #[test]
    fn malformed_name_constraints_are_refused() {
        let nc = |value: Vec<u8>| {
            simple(move |p| {
                p.custom_extensions
                    .push(raw_extension(&[2, 5, 29, 30], true, value))
            })
        };
        // permitted dNSName "jp": well formed.
        assert!(
            nc(vec![
                0x30, 0x08, 0xa0, 0x06, 0x30, 0x04, 0x82, 0x02, b'j', b'p'
            ])
            .is_ok()
        );
        for bad in [
            vec![0x30, 0x00],             // neither subtree list
            vec![0x30, 0x02, 0xa0, 0x00], // an empty permitted list
            // maximum present (and minimum 5): both forbidden.
            vec![
                0x30, 0x0d, 0xa0, 0x0b, 0x30, 0x09, 0x82, 0x02, b'j', b'p', 0x80, 0x01, 0x05, 0x81,
                0x01, 0x05,
            ][..4 + 0x0b]
                .to_vec(),
            // an iPAddress base without its mask.
            vec![
                0x30, 0x0a, 0xa0, 0x08, 0x30, 0x06, 0x87, 0x04, 192, 168, 0, 0,
            ],
            // a dNSName base that is not a domain.
            vec![
                0x30, 0x09, 0xa0, 0x07, 0x30, 0x05, 0x82, 0x03, b'a', b' ', b'b',
            ],
        ] {
            let err = nc(bad.clone()).unwrap_err();
            assert_eq!(err, PathError::InvalidNameConstraints, "{bad:02x?}");
            assert_eq!(err.reason(), "invalid_name_constraints");
        }
    }

    #[test]
    fn empty_extended_key_usage_is_refused() {
        let eku = |value: Vec<u8>| {
            below_root(
                |_| {},
                move |e| {
                    e.custom_extensions
                        .push(raw_extension(&[2, 5, 29, 37], false, value))
                },
            )
        };
        // id-kp-clientAuth.
        let client_auth = vec![
            0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02,
        ];
        assert!(eku(client_auth).is_ok());
        let err = eku(vec![0x30, 0x00]).unwrap_err();
        assert_eq!(err, PathError::EmptyExtendedKeyUsage);
        assert_eq!(err.reason(), "empty_extended_key_usage");
    }

    #[test]
    fn serial_zero_negative_or_over_twenty_octets_is_refused() {
        let serial = |bytes: Vec<u8>| {
            below_root(
                |_| {},
                move |e| e.serial_number = Some(rcgen::SerialNumber::from_slice(&bytes)),
            )
        };
        assert!(serial(vec![0x7f; 20]).is_ok(), "20 octets is the most");
        assert_eq!(serial(vec![0]).unwrap_err(), PathError::InvalidSerialNumber);
        let err = serial(vec![0x01; 21]).unwrap_err();
        assert_eq!(err, PathError::InvalidSerialNumber);
        assert_eq!(err.reason(), "invalid_serial_number");
        // A positive 20-octet value with its top bit set needs 21 content
        // octets: more than 20.
        assert_eq!(
            serial(vec![0x80; 20]).unwrap_err(),
            PathError::InvalidSerialNumber
        );
        // Negative: rcgen writes only positive serials, so the INTEGER's
        // first content octet is flipped in the DER. The refusal comes from
        // the serial, before the (now broken) signature is looked at.
        let root = root();
        let mut e = params("EE", false, now());
        e.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x01, 0x02, 0x03]));
        let ee = root.issue(e);
        let mut der = ee.cert_der.clone();
        let at = der
            .windows(5)
            .position(|w| w == [0x02, 0x03, 0x01, 0x02, 0x03])
            .expect("serial INTEGER");
        der[at + 2] = 0xff;
        let negative = Certificate::from_der(&der).expect("parses");
        let v = PathValidator::new(vec![cert(&root)], vec![]);
        assert_eq!(
            v.validate(&Arc::new(negative), &PathOptions::at(now()))
                .unwrap_err(),
            PathError::InvalidSerialNumber
        );
    }

    #[test]
    fn empty_issuer_name_is_refused() {
        // A CA with an empty subject issues: its certificates name an empty issuer.
        let mut p = params("Root", true, now());
        p.distinguished_name = rcgen::DistinguishedName::new();
        let root = TestCa::self_signed(p);
        let ee = root.issue(params("EE", false, now()));
        let err = check(&root, &[], &ee, &PathOptions::at(now())).unwrap_err();
        assert_eq!(err, PathError::EmptyIssuer);
        assert_eq!(err.reason(), "empty_issuer_name");
    }

    #[test]
    fn validity_is_compared_in_whole_seconds() {
        let root = root();
        let ee = root.issue(params("EE", false, now()));
        let not_after = cert(&ee).not_after();
        assert_eq!(not_after.nanosecond(), 0);
        // 0.999 s past notAfter is still notAfter's second.
        let within = PathOptions::at(not_after + Duration::milliseconds(999));
        assert!(check(&root, &[], &ee, &within).is_ok());
        let after = PathOptions::at(not_after + Duration::seconds(1));
        assert!(matches!(
            check(&root, &[], &ee, &after).unwrap_err(),
            PathError::Expired { .. }
        ));
    }

    #[test]
    fn every_reason_is_distinct() {
        let t = now();
        let all = [
            PathError::Malformed,
            PathError::TooLarge,
            PathError::DuplicateExtension,
            PathError::UnknownIssuer,
            PathError::BadSignature,
            PathError::UnsupportedSignatureAlgorithm {
                algorithm: String::new(),
            },
            PathError::SignatureAlgorithmMismatch,
            PathError::NotYetValid { not_before: t },
            PathError::Expired { not_after: t },
            PathError::NotACa,
            PathError::PathLenExceeded,
            PathError::MissingKeyCertSign,
            PathError::UnknownCriticalExtension { oid: String::new() },
            PathError::PolicyRequired,
            PathError::InvalidPolicyMapping,
            PathError::PolicyTreeTooLarge,
            PathError::NameConstraintViolation,
            PathError::Revoked {
                reason: RevocationReason::Unspecified,
            },
            PathError::RevocationStatusUnknown,
            PathError::RevocationDataStale,
            PathError::PathTooLong,
            PathError::AnchorNotYetValid { not_before: t },
            PathError::AnchorExpired { not_after: t },
            PathError::AnchorNotACa,
            PathError::AnchorMissingKeyCertSign,
            PathError::AnchorUnknownCriticalExtension { oid: String::new() },
            PathError::MissingAuthorityKeyIdentifier,
            PathError::MissingSubjectKeyIdentifier,
            PathError::InvalidKeyIdentifier,
            PathError::KeyCertSignWithoutCa,
            PathError::EndEntityNameConstraints,
            PathError::InvalidSubjectAltName,
            PathError::InvalidNameConstraints,
            PathError::EmptyExtendedKeyUsage,
            PathError::InvalidSerialNumber,
            PathError::EmptyIssuer,
        ];
        let reasons: HashSet<&str> = all.iter().map(PathError::reason).collect();
        assert_eq!(reasons.len(), all.len());
    }

    #[test]
    fn certificate_from_another_root_has_unknown_issuer() {
        let ee = root().issue(params("EE", false, now()));
        let err = check(&root(), &[], &ee, &PathOptions::at(now())).unwrap_err();
        assert_eq!(err, PathError::UnknownIssuer);
        assert_eq!(err.reason(), "unknown_issuer");
    }

    #[test]
    fn intermediate_without_key_cert_sign_is_refused() {
        let err = simple(|p| p.key_usages = vec![KeyUsagePurpose::CrlSign]).unwrap_err();
        assert_eq!(err, PathError::MissingKeyCertSign);
    }

    #[test]
    fn intermediate_that_is_not_a_ca_is_refused() {
        let err = simple(|p| p.is_ca = IsCa::ExplicitNoCa).unwrap_err();
        assert_eq!(err, PathError::NotACa);
        let err = simple(|p| p.is_ca = IsCa::NoCa).unwrap_err();
        assert_eq!(err.reason(), "not_a_ca");
        // A CA with an empty subject: the certificates it issues name an
        // empty issuer, which RFC 5280 §4.1.2.4 forbids, and are refused
        // for it before the CA is looked at.
        let err = simple(|p| p.distinguished_name = rcgen::DistinguishedName::new()).unwrap_err();
        assert_eq!(err, PathError::EmptyIssuer, "a CA with an empty subject");
    }

    #[test]
    fn path_length_constraint_counts_intermediates() {
        let root = root();
        let mut p = params("Int1", true, now());
        p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        let int1 = root.issue(p);
        let int2 = int1.issue(params("Int2", true, now()));
        let ee = int2.issue(params("EE", false, now()));
        let err = check(&root, &[&int1, &int2], &ee, &PathOptions::at(now())).unwrap_err();
        assert_eq!(err, PathError::PathLenExceeded);
        // pathLen 0 still allows end entities directly below.
        let ee1 = int1.issue(params("EE1", false, now()));
        assert!(check(&root, &[&int1], &ee1, &PathOptions::at(now())).is_ok());
    }

    #[test]
    fn unknown_critical_extension_is_refused() {
        let err = simple(|p| p.custom_extensions.push(unknown_critical())).unwrap_err();
        assert_eq!(
            err,
            PathError::UnknownCriticalExtension {
                oid: "1.3.6.1.4.1.99999.1".to_string()
            }
        );
    }

    #[test]
    fn duplicate_extension_is_refused_at_parse() {
        let root = root();
        let mut p = params("EE", false, now());
        // keyUsage written by rcgen and again as a custom extension.
        p.custom_extensions
            .push(rcgen::CustomExtension::from_oid_content(
                &[2, 5, 29, 15],
                vec![0x03, 0x02, 0x07, 0x80],
            ));
        let ee = root.issue(p);
        assert_eq!(
            Certificate::from_der(&ee.cert_der).unwrap_err(),
            PathError::DuplicateExtension
        );
    }

    /// Rewrites every occurrence of `from` (an algorithm OID) into `to`.
    fn rewrite(der: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
        assert_eq!(from.len(), to.len());
        let mut out = der.to_vec();
        let mut i = 0;
        let mut n = 0;
        while i + from.len() <= out.len() {
            if out[i..i + from.len()] == *from {
                out[i..i + from.len()].copy_from_slice(to);
                n += 1;
            }
            i += 1;
        }
        assert_eq!(n, 2, "inner and outer algorithm");
        out
    }

    #[test]
    fn sha1_and_other_unsupported_signature_algorithms_are_refused() {
        // An RSA CA (sha256WithRSAEncryption) with the card's certificate
        // rewritten to sha1WithRSAEncryption.
        let ca = crate::devkit::demo_pki::Issuer::user_auth_ca("sha1").expect("RSA CA");
        let card = ca
            .issue_card(
                "c",
                &crate::devkit::demo_pki::CardSpec {
                    key: crate::devkit::demo_pki::CardKey::EcdsaP256,
                    serial: vec![1],
                    not_before: now() - Duration::days(1),
                    not_after: now() + Duration::days(1),
                    key_usage_digital_signature: true,
                    with_policy: true,
                    cn: "X".into(),
                },
            )
            .expect("card");
        let sha256_rsa = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
        let sha1_rsa = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05];
        let anchor = Certificate::from_der(&ca.cert_der).expect("anchor");
        let v = PathValidator::new(vec![anchor], vec![]);
        let ok = Arc::new(Certificate::from_der(&card.cert_der).expect("card"));
        assert!(v.validate(&ok, &PathOptions::at(now())).is_ok());
        let sha1 = rewrite(&card.cert_der, &sha256_rsa, &sha1_rsa);
        let err = v
            .validate(
                &Arc::new(Certificate::from_der(&sha1).expect("parses")),
                &PathOptions::at(now()),
            )
            .unwrap_err();
        assert_eq!(
            err,
            PathError::UnsupportedSignatureAlgorithm {
                algorithm: "1.2.840.113549.1.1.5".to_string()
            }
        );
        assert_eq!(err.reason(), "unsupported_signature_algorithm");

        // ecdsa-with-SHA256 → ecdsa-with-SHA512 (not accepted either).
        let root = root();
        let ee = root.issue(params("EE", false, now()));
        let sha512 = rewrite(
            &ee.cert_der,
            &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02],
            &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04],
        );
        let v = PathValidator::new(vec![cert(&root)], vec![]);
        let err = v
            .validate(
                &Arc::new(Certificate::from_der(&sha512).expect("parses")),
                &PathOptions::at(now()),
            )
            .unwrap_err();
        assert!(
            matches!(err, PathError::UnsupportedSignatureAlgorithm { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn tampered_certificate_has_a_bad_signature() {
        let root = root();
        let ee = root.issue(params("EE", false, now()));
        let mut der = ee.cert_der.clone();
        let pos = der.windows(2).position(|w| w == b"EE").expect("CN");
        der[pos] = b'F';
        let v = PathValidator::new(vec![cert(&root)], vec![]);
        let err = v
            .validate(
                &Arc::new(Certificate::from_der(&der).expect("parses")),
                &PathOptions::at(now()),
            )
            .unwrap_err();
        assert_eq!(err, PathError::BadSignature);
    }

    #[test]
    fn builder_tries_the_next_candidate_when_one_fails() {
        // Two intermediates with the same name: the first (an expired
        // rollover predecessor) fails, the second validates.
        let root = root();
        let mut old = params("Intermediate", true, now());
        old.not_after = now() - Duration::days(1);
        let old = root.issue(old);
        let new = root.issue(params("Intermediate", true, now()));
        let ee = new.issue(params("EE", false, now()));
        let path = check(&root, &[&old, &new], &ee, &PathOptions::at(now())).expect("valid");
        assert_eq!(path.issuer().fingerprint(), cert(&new).fingerprint());
        // Only the expired one: refused.
        assert!(check(&root, &[&old], &ee, &PathOptions::at(now())).is_err());
    }

    fn explicit(set: Option<&[&str]>) -> PathOptions {
        let mut o = PathOptions::at(now());
        o.initial_explicit_policy = true;
        o.initial_policy_set = set.map(|s| s.iter().map(|p| policy_oid(p).expect("oid")).collect());
        o
    }

    fn policy_path(
        int_exts: Vec<rcgen::CustomExtension>,
        ee_policies: &[&str],
        opts: &PathOptions,
    ) -> Result<ValidatedPath, PathError> {
        let root = root();
        let mut p = params("Intermediate", true, now());
        p.custom_extensions = int_exts;
        let int = root.issue(p);
        let mut e = params("EE", false, now());
        if !ee_policies.is_empty() {
            e.custom_extensions.push(policies(ee_policies));
        }
        let ee = int.issue(e);
        check(&root, &[&int], &ee, opts)
    }

    #[test]
    fn explicit_policy_required_but_absent_is_refused() {
        let err = policy_path(vec![], &[P1], &explicit(None)).unwrap_err();
        assert_eq!(
            err,
            PathError::PolicyRequired,
            "intermediate has no policies"
        );
        let ok = policy_path(vec![policies(&[P1])], &[P1], &explicit(None)).expect("valid");
        assert_eq!(ok.policies(), [P1.to_string()]);
        let err = policy_path(vec![policies(&[P1])], &[P1], &explicit(Some(&[P2]))).unwrap_err();
        assert_eq!(err.reason(), "policy_required");
        // Without explicit policy the mismatch is not fatal.
        assert!(policy_path(vec![policies(&[P1])], &[P1], &PathOptions::at(now())).is_ok());
        // requireExplicitPolicy 0 in a CA makes it required.
        let err = policy_path(
            vec![policy_constraints(Some(0), None)],
            &[P1],
            &PathOptions::at(now()),
        )
        .unwrap_err();
        assert_eq!(err, PathError::PolicyRequired);
    }

    #[test]
    fn policy_mapping_applies_unless_inhibited() {
        let exts = || vec![policies(&[P1]), policy_mappings(&[(P1, P2)])];
        let ok = policy_path(exts(), &[P2], &explicit(Some(&[P1]))).expect("mapped");
        assert_eq!(
            ok.policies(),
            [P2.to_string()],
            "policies as the end entity names them"
        );
        let mut inhibited = explicit(Some(&[P1]));
        inhibited.initial_policy_mapping_inhibit = true;
        assert_eq!(
            policy_path(exts(), &[P2], &inhibited).unwrap_err(),
            PathError::PolicyRequired
        );
        // inhibitPolicyMapping 0 in a CA above the mapping CA.
        let root = root();
        let mut p1 = params("Int1", true, now());
        p1.custom_extensions = vec![policies(&[P1]), policy_constraints(None, Some(0))];
        let int1 = root.issue(p1);
        let mut p2 = params("Int2", true, now());
        p2.custom_extensions = exts();
        let int2 = int1.issue(p2);
        let mut e = params("EE", false, now());
        e.custom_extensions.push(policies(&[P2]));
        let ee = int2.issue(e);
        assert_eq!(
            check(&root, &[&int1, &int2], &ee, &explicit(Some(&[P1]))).unwrap_err(),
            PathError::PolicyRequired
        );
        assert_eq!(
            policy_path(
                vec![policies(&[P1]), policy_mappings(&[(ANY, P2)])],
                &[P2],
                &PathOptions::at(now())
            )
            .unwrap_err(),
            PathError::InvalidPolicyMapping
        );
    }

    #[test]
    fn any_policy_is_honoured_unless_inhibited() {
        // The intermediate asserts anyPolicy; the end entity P1.
        assert!(policy_path(vec![policies(&[ANY])], &[P1], &explicit(Some(&[P1]))).is_ok());
        let mut inhibited = explicit(Some(&[P1]));
        inhibited.initial_any_policy_inhibit = true;
        assert_eq!(
            policy_path(vec![policies(&[ANY])], &[P1], &inhibited).unwrap_err(),
            PathError::PolicyRequired
        );
        // inhibitAnyPolicy 0 in the intermediate: the end entity's anyPolicy no longer counts.
        assert_eq!(
            policy_path(
                vec![policies(&[P1]), inhibit_any_policy(0)],
                &[ANY],
                &explicit(None)
            )
            .unwrap_err(),
            PathError::PolicyRequired
        );
        assert!(policy_path(vec![policies(&[P1])], &[ANY], &explicit(None)).is_ok());
    }

    fn constrained(
        nc: NameConstraints,
        configure_ee: impl FnOnce(&mut rcgen::CertificateParams),
    ) -> Result<ValidatedPath, PathError> {
        let root = root();
        let mut p = params("Intermediate", true, now());
        p.name_constraints = Some(nc);
        let int = root.issue(p);
        let mut e = params("EE", false, now());
        configure_ee(&mut e);
        let ee = int.issue(e);
        check(&root, &[&int], &ee, &PathOptions::at(now()))
    }

    #[test]
    fn name_constraints_permitted_and_excluded_dns() {
        let nc = || NameConstraints {
            permitted_subtrees: vec![GeneralSubtree::DnsName("example.jp".into())],
            excluded_subtrees: vec![GeneralSubtree::DnsName("bad.example.jp".into())],
        };
        let san = |name: &str| {
            let name = name.to_string();
            move |p: &mut rcgen::CertificateParams| {
                p.subject_alt_names = vec![SanType::DnsName(name.try_into().expect("dns"))]
            }
        };
        assert!(constrained(nc(), san("www.example.jp")).is_ok());
        assert_eq!(
            constrained(nc(), san("www.example.com")).unwrap_err(),
            PathError::NameConstraintViolation
        );
        assert_eq!(
            constrained(nc(), san("x.bad.example.jp"))
                .unwrap_err()
                .reason(),
            "name_constraint_violation"
        );
    }

    #[test]
    fn name_constraints_on_directory_names_and_email_in_the_subject() {
        let mut permitted = rcgen::DistinguishedName::new();
        permitted.push(rcgen::DnType::CountryName, "JP");
        permitted.push(rcgen::DnType::OrganizationName, "kofu test PKI");
        let nc = NameConstraints {
            permitted_subtrees: vec![
                GeneralSubtree::DirectoryName(permitted),
                GeneralSubtree::Rfc822Name("example.jp".into()),
            ],
            excluded_subtrees: vec![],
        };
        assert!(constrained(nc.clone(), |_| {}).is_ok());
        let err = constrained(nc.clone(), |p| {
            p.distinguished_name
                .push(rcgen::DnType::OrganizationName, "Elsewhere");
            // Rebuild so O differs in position two.
            let mut dn = rcgen::DistinguishedName::new();
            dn.push(rcgen::DnType::CountryName, "JP");
            dn.push(rcgen::DnType::OrganizationName, "Elsewhere");
            dn.push(rcgen::DnType::CommonName, "EE");
            p.distinguished_name = dn;
        })
        .unwrap_err();
        assert_eq!(err, PathError::NameConstraintViolation);
        let email = |addr: &'static str| {
            move |p: &mut rcgen::CertificateParams| {
                p.distinguished_name.push(
                    rcgen::DnType::CustomDnType(vec![1, 2, 840, 113549, 1, 9, 1]),
                    rcgen::DnValue::Ia5String(addr.try_into().expect("ia5")),
                );
            }
        };
        assert!(constrained(nc.clone(), email("a@example.jp")).is_ok());
        assert_eq!(
            constrained(nc, email("a@example.com")).unwrap_err(),
            PathError::NameConstraintViolation
        );
    }

    #[test]
    fn self_issued_intermediate_does_not_count_against_path_length() {
        // Root → CA (pathLen 0) → CA' (same name, new key: self-issued) → EE.
        let root = root();
        let mut p = params("Rollover CA", true, now());
        p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        let old = root.issue(p);
        let new = old.issue(params("Rollover CA", true, now()));
        let ee = new.issue(params("EE", false, now()));
        assert!(cert(&new).is_self_issued());
        check(&root, &[&old, &new], &ee, &PathOptions::at(now())).expect("valid");
    }

    #[test]
    fn names_compare_case_and_space_insensitively() {
        let root = root();
        let int = root.issue(params("Intermediate", true, now()));
        // The end entity names its issuer in other case and spacing.
        let mut issuer_view = params("  INTERMEDIATE ", true, now());
        issuer_view.distinguished_name = {
            let mut dn = rcgen::DistinguishedName::new();
            dn.push(rcgen::DnType::CountryName, "jp");
            dn.push(rcgen::DnType::OrganizationName, "KOFU  test   pki");
            dn.push(rcgen::DnType::CommonName, "  INTERMEDIATE ");
            dn
        };
        let a = Certificate::from_der(&int.cert_der).expect("int");
        let b = Certificate::from_der(&TestCa::self_signed(issuer_view).cert_der).expect("b");
        assert_eq!(a.subject, b.subject);
    }

    #[test]
    fn garbage_never_panics() {
        let root = root();
        let der = root.issue(params("EE", false, now())).cert_der;
        for cut in 0..der.len() {
            let _ = Certificate::from_der(&der[..cut]);
        }
        for i in 0..der.len() {
            let mut d = der.clone();
            d[i] ^= 0xff;
            if let Ok(c) = Certificate::from_der(&d) {
                let v = PathValidator::new(vec![cert(&root)], vec![]);
                let _ = v.validate(&Arc::new(c), &PathOptions::at(now()));
            }
        }
    }
}
