//! Verification of the My Number Card's user-authentication certificate
//! (利用者証明用電子証明書) and of its signature over the session challenge.
//!
//! The rule this file keeps: a [`VerifiedCard`] exists only after every check
//! passed, in this order — the certificate parses, an RFC 5280 path from a
//! configured trust anchor (through configured intermediates, if any) to it
//! validates ([`super::path`]), it is valid now, its key usage and policy are
//! those of a JPKI user-authentication certificate (the card's, or the
//! smartphone's when the path ends at a smartphone CA: [`Credential`]), it
//! carries no critical extension we do not understand, and its key signed
//! the challenge. Nothing here reads or logs personal data; the serial leaves only inside the proof value, and its
//! `Debug` shows a fingerprint.
//!
//! Revocation (CRL / OCSP) is a separate step that takes a `VerifiedCard`
//! (the bulk revocation index); [`super::crl`] provides the validated CRLs.

use std::fmt;
use std::sync::Arc;

use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::der_parser::asn1_rs::Oid;
use x509_parser::extensions::ParsedExtension;
use x509_parser::oid_registry::{
    OID_X509_EXT_BASIC_CONSTRAINTS, OID_X509_EXT_CERTIFICATE_POLICIES, OID_X509_EXT_KEY_USAGE,
};
use x509_parser::prelude::{FromDer, X509Version};

use super::path::{Certificate, PathError, PathOptions, PathValidator};
use super::signature::{self, ChallengeAlgorithm, PublicKey, SignatureError};

/// Largest certificate accepted, card or anchor. JPKI certificates are about
/// 1.5 KiB; the bound keeps hostile input cheap to refuse.
pub const MAX_CERTIFICATE_SIZE: usize = 16 * 1024;

/// Largest serial, in bytes of magnitude (RFC 5280 §4.1.2.2).
pub const MAX_SERIAL_LEN: usize = 20;

/// Certificate policy of the JPKI user-authentication certificate,
/// 1.2.392.200149.8.5.1.3.30, as DER OBJECT IDENTIFIER content octets.
pub(crate) const JPKI_USER_AUTH_POLICY_DER: &[u8] = &[
    0x2a, 0x83, 0x08, 0x8c, 0x9b, 0x55, 0x08, 0x05, 0x01, 0x03, 0x1e,
];

fn jpki_user_auth_policy() -> Oid<'static> {
    Oid::new(std::borrow::Cow::Borrowed(JPKI_USER_AUTH_POLICY_DER))
}

/// Default certificate policy of the smartphone user-authentication
/// certificate (スマホ用利用者証明用電子証明書), 1.2.392.200149.8.5.1.3.40 — the
/// demo PKI's; J-LIS publishes the production value in its
/// certificate policy; `tls.smartphone_policy` sets it.
pub const SMARTPHONE_USER_AUTH_POLICY: &str = "1.2.392.200149.8.5.1.3.40";

/// [`SMARTPHONE_USER_AUTH_POLICY`] as DER OBJECT IDENTIFIER content octets.
pub(crate) const SMARTPHONE_USER_AUTH_POLICY_DER: &[u8] = &[
    0x2a, 0x83, 0x08, 0x8c, 0x9b, 0x55, 0x08, 0x05, 0x01, 0x03, 0x28,
];

/// Which credential a verified certificate is: decided by the trust anchor
/// its path ends at (`tls.card_ca` or `tls.smartphone_ca`), never by
/// anything the copier says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Credential {
    /// The My Number Card's user-authentication certificate.
    Card,
    /// The smartphone user-authentication certificate, derived from the
    /// card's signing certificate and kept on an Android phone.
    Smartphone,
}

impl Credential {
    /// The stable name in the database, the audit log, metrics and the menu.
    pub fn as_str(self) -> &'static str {
        match self {
            Credential::Card => "card",
            Credential::Smartphone => "smartphone",
        }
    }

    /// The credential a stable name ([`Credential::as_str`]) names.
    pub fn parse(name: &str) -> Option<Credential> {
        [Credential::Card, Credential::Smartphone]
            .into_iter()
            .find(|c| c.as_str() == name)
    }
}

/// Why a card was refused. Messages carry no serial, name or other personal
/// data, so they may be logged; [`CardError::code`] is the API's stable code.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    /// Not a single well-formed DER X.509 v3 certificate (or trailing data,
    /// duplicate extensions, an extension we rely on that does not parse).
    #[error("card certificate is malformed")]
    Malformed,
    /// Larger than [`MAX_CERTIFICATE_SIZE`].
    #[error("card certificate is {size} bytes, more than the {MAX_CERTIFICATE_SIZE} allowed")]
    TooLarge {
        /// Size received, in bytes.
        size: usize,
    },
    /// Serial number empty, zero, negative or longer than 20 bytes.
    #[error("card certificate serial number is not a positive integer of at most 20 bytes")]
    InvalidSerial,
    /// No trust anchor with this issuer name (and key identifier) signed it.
    #[error("card certificate was not issued by a trusted user-authentication CA")]
    UnknownIssuer,
    /// A trust anchor with matching name and key identifier exists, but the
    /// signature does not verify: the certificate was altered or forged.
    #[error("card certificate signature does not verify")]
    CertificateSignatureInvalid,
    /// The certificate's signature algorithm or the card's key type is not
    /// one this gateway supports.
    #[error("card certificate uses an unsupported algorithm")]
    UnsupportedAlgorithm,
    /// `now` is before notBefore.
    #[error("card certificate is not valid before {not_before}")]
    NotYetValid {
        /// The certificate's notBefore.
        not_before: OffsetDateTime,
    },
    /// `now` is after notAfter.
    #[error("card certificate expired at {not_after}")]
    Expired {
        /// The certificate's notAfter.
        not_after: OffsetDateTime,
    },
    /// keyUsage missing, not critical, or without digitalSignature.
    #[error("card certificate key usage is not critical digitalSignature")]
    KeyUsage,
    /// certificatePolicies missing or without its credential's policy
    /// (1.2.392.200149.8.5.1.3.30 for a card, `tls.smartphone_policy` for a
    /// smartphone).
    #[error("card certificate lacks the JPKI user-authentication policy")]
    PolicyMissing,
    /// A critical extension this verifier does not process.
    #[error("card certificate has an unknown critical extension {oid}")]
    UnknownCriticalExtension {
        /// Dotted OID of the extension (not personal data).
        oid: String,
    },
    /// The algorithm the copier declared does not fit the card's key.
    #[error("declared challenge algorithm {declared} does not match the card key")]
    ChallengeAlgorithmMismatch {
        /// What the copier declared.
        declared: ChallengeAlgorithm,
    },
    /// The card's signature over the challenge does not verify.
    #[error("challenge signature does not verify")]
    ChallengeSignatureInvalid,
    /// An intermediate CA in the path is not a CA, or lacks keyCertSign.
    #[error("an issuing certificate of the card is not a CA")]
    IssuerNotCa,
    /// An intermediate CA in the path is expired or not yet valid.
    #[error("an issuing certificate of the card is not valid now")]
    IssuerNotValid,
    /// The path breaks a constraint a CA set (path length, name
    /// constraints, policies) or an intermediate has an unknown critical
    /// extension; `reason` is the [`PathError::reason`].
    #[error("card certification path refused: {reason}")]
    PathRefused {
        /// Stable reason from path validation.
        reason: &'static str,
    },
    /// Configuration: no trust anchor was given.
    #[error("no user-authentication CA certificate configured")]
    NoTrustAnchors,
    /// Configuration: the trust anchor at `index` is unusable (malformed, not
    /// a CA, or an unsupported key).
    #[error("user-authentication CA certificate #{index} is unusable")]
    InvalidTrustAnchor {
        /// Position in the list given to [`CardVerifier::new`].
        index: usize,
    },
    /// Configuration: the smartphone policy is not a dotted OID.
    #[error("the smartphone certificate policy is not a dotted OID")]
    InvalidSmartphonePolicy,
    /// Configuration: the intermediate at `index` does not parse.
    #[error("intermediate CA certificate #{index} is unusable")]
    InvalidIntermediate {
        /// Position in the list given to [`CardVerifier::with_intermediates`].
        index: usize,
    },
}

impl CardError {
    /// Stable machine code for the copier API.
    pub fn code(&self) -> &'static str {
        match self {
            CardError::Malformed
            | CardError::TooLarge { .. }
            | CardError::InvalidSerial
            | CardError::CertificateSignatureInvalid => "card_certificate_invalid",
            CardError::UnknownIssuer => "card_unknown_issuer",
            CardError::UnsupportedAlgorithm => "card_algorithm_unsupported",
            CardError::NotYetValid { .. } => "card_not_yet_valid",
            CardError::Expired { .. } => "card_expired",
            CardError::KeyUsage => "card_key_usage_invalid",
            CardError::PolicyMissing => "card_policy_missing",
            CardError::UnknownCriticalExtension { .. } => "card_extension_unsupported",
            CardError::ChallengeAlgorithmMismatch { .. } | CardError::ChallengeSignatureInvalid => {
                "card_signature_invalid"
            }
            CardError::IssuerNotCa => "card_issuer_not_ca",
            CardError::IssuerNotValid => "card_issuer_not_valid",
            CardError::PathRefused { .. } => "card_path_refused",
            CardError::NoTrustAnchors
            | CardError::InvalidTrustAnchor { .. }
            | CardError::InvalidSmartphonePolicy
            | CardError::InvalidIntermediate { .. } => "card_verifier_misconfigured",
        }
    }
}

/// Certificate serial: an opaque positive integer of at most 20 bytes, kept
/// canonical (big-endian, no leading zero bytes) so equal serials compare
/// equal however they were encoded. It is the key to a resident, so `Debug`
/// shows only [`CardSerial::fingerprint`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CardSerial(Vec<u8>);

impl CardSerial {
    /// Canonicalises a big-endian magnitude: leading zero bytes are dropped.
    ///
    /// # Errors
    /// [`CardError::InvalidSerial`] if nothing (or only zeros) remains, or
    /// more than [`MAX_SERIAL_LEN`] bytes remain.
    pub fn from_bytes(b: &[u8]) -> Result<Self, CardError> {
        let start = b
            .iter()
            .position(|&x| x != 0)
            .ok_or(CardError::InvalidSerial)?;
        let magnitude = &b[start..];
        if magnitude.len() > MAX_SERIAL_LEN {
            return Err(CardError::InvalidSerial);
        }
        Ok(CardSerial(magnitude.to_vec()))
    }

    /// The canonical big-endian bytes (for the serial→resident mapping).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// First 8 bytes of SHA-256 over the canonical bytes, in lowercase hex:
    /// enough to correlate log lines, not to print the serial.
    pub fn fingerprint(&self) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, &self.0);
        digest.as_ref()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

impl fmt::Debug for CardSerial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardSerial(sha256:{})", self.fingerprint())
    }
}

/// Proof that a card was verified: only [`CardVerifier::verify`] constructs
/// it, so code that needs a verified card (revocation, the serial→resident
/// mapping, issuing) cannot be reached without the checks.
#[derive(Debug, Clone)]
pub struct VerifiedCard {
    serial: CardSerial,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    algorithm: ChallengeAlgorithm,
    issuer_index: usize,
    credential: Credential,
}

impl VerifiedCard {
    /// The certificate serial, the only link to the resident.
    pub fn serial(&self) -> &CardSerial {
        &self.serial
    }

    /// The certificate's notBefore: when J-LIS issued it (a card is not
    /// used at a store on the day its certificate was issued).
    pub fn not_before(&self) -> OffsetDateTime {
        self.not_before
    }

    /// The certificate's notAfter (23:59:59 JST on the validity end date).
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// The algorithm the card signed the challenge with.
    pub fn algorithm(&self) -> ChallengeAlgorithm {
        self.algorithm
    }

    /// Position, in the list given to [`CardVerifier::new`], of the CA
    /// certificate that issued the card: serials are unique per CA, so
    /// revocation looks in that CA's CRL.
    pub fn issuer_index(&self) -> usize {
        self.issuer_index
    }

    /// Card or smartphone: which anchor the path ended at.
    pub fn credential(&self) -> Credential {
        self.credential
    }
}

/// Verifies card certificates against the configured user-authentication CA
/// certificate(s) (JPKI rolls its CA over, so more than one may be trusted)
/// and, when configured, intermediate CAs between them and the cards.
///
/// Path validation is [`PathValidator`]'s; it caches verified intermediate
/// signatures by certificate hash, so a card costs one signature check on
/// its own certificate plus the challenge.
#[derive(Clone)]
pub struct CardVerifier {
    paths: Arc<PathValidator>,
    /// Card anchors first, then smartphone anchors (the revocation service
    /// and `kofu crl import` take them in the same order: see
    /// [`CardVerifier::anchor_ders`]).
    anchors: Vec<Vec<u8>>,
    /// How many of `anchors` are card anchors.
    card_anchors: usize,
    /// The policy a smartphone certificate must assert.
    smartphone_policy: Oid<'static>,
}

impl fmt::Debug for CardVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CardVerifier")
            .field("card_anchors", &self.card_anchors)
            .field(
                "smartphone_anchors",
                &(self.anchors.len() - self.card_anchors),
            )
            .field("intermediates", &self.paths.intermediates().len())
            .finish()
    }
}

impl CardVerifier {
    /// Parses the trust anchors once.
    ///
    /// # Errors
    /// [`CardError::NoTrustAnchors`] for an empty list;
    /// [`CardError::InvalidTrustAnchor`] for a certificate that does not
    /// parse (or has trailing data), is not a CA (basicConstraints cA), or
    /// has a key type we cannot verify with. The anchors' validity, keyUsage,
    /// critical extensions and name constraints constrain every path at
    /// verification time (RFC 5937), so an expired anchor refuses its cards
    /// (`card_issuer_not_valid`) rather than the configuration.
    pub fn new(anchor_ders: &[Vec<u8>]) -> Result<Self, CardError> {
        if anchor_ders.is_empty() {
            return Err(CardError::NoTrustAnchors);
        }
        let default_policy = Oid::new(std::borrow::Cow::Borrowed(SMARTPHONE_USER_AUTH_POLICY_DER));
        Self::with_anchors(anchor_ders.to_vec(), anchor_ders.len(), default_policy)
    }

    /// Every anchor parsed (card anchors first), no intermediates yet.
    fn with_anchors(
        all: Vec<Vec<u8>>,
        card_anchors: usize,
        smartphone_policy: Oid<'static>,
    ) -> Result<Self, CardError> {
        let anchors = all
            .iter()
            .enumerate()
            .map(|(index, der)| parse_anchor(der).ok_or(CardError::InvalidTrustAnchor { index }))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CardVerifier {
            paths: Arc::new(PathValidator::new(anchors, Vec::new())),
            anchors: all,
            card_anchors,
            smartphone_policy,
        })
    }

    /// Adds the smartphone user-authentication CA certificate(s) and the
    /// policy their certificates assert (dotted, e.g.
    /// [`SMARTPHONE_USER_AUTH_POLICY`]). A certificate whose path ends at one
    /// of them is a [`Credential::Smartphone`]; it must carry that policy
    /// instead of the card's. Call before [`CardVerifier::with_intermediates`].
    ///
    /// # Errors
    /// [`CardError::InvalidTrustAnchor`] (its index counts after the card
    /// anchors) for an unusable certificate;
    /// [`CardError::InvalidSmartphonePolicy`] for a policy that is not a
    /// dotted OID.
    pub fn with_smartphone_anchors(
        self,
        anchor_ders: &[Vec<u8>],
        policy: &str,
    ) -> Result<Self, CardError> {
        let smartphone_policy =
            smartphone_policy(policy).ok_or(CardError::InvalidSmartphonePolicy)?;
        let mut all = self.anchors;
        all.extend(anchor_ders.iter().cloned());
        Self::with_anchors(all, self.card_anchors, smartphone_policy)
    }

    /// Every anchor, card anchors first, in the order
    /// [`VerifiedCard::issuer_index`] counts.
    pub fn anchor_ders(&self) -> &[Vec<u8>] {
        &self.anchors
    }

    /// Adds intermediate CA certificates (any order) between the anchors
    /// and the cards. They are checked on every path, like any CA.
    ///
    /// # Errors
    /// [`CardError::InvalidIntermediate`] for one that does not parse.
    pub fn with_intermediates(self, intermediate_ders: &[Vec<u8>]) -> Result<Self, CardError> {
        let intermediates = intermediate_ders
            .iter()
            .enumerate()
            .map(|(index, der)| {
                Certificate::from_der(der).map_err(|_| CardError::InvalidIntermediate { index })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let anchors = self
            .anchors
            .iter()
            .filter_map(|der| parse_anchor(der))
            .collect();
        Ok(CardVerifier {
            paths: Arc::new(PathValidator::new(anchors, intermediates)),
            anchors: self.anchors,
            card_anchors: self.card_anchors,
            smartphone_policy: self.smartphone_policy,
        })
    }

    /// Checks, in order: the certificate parses (no trailing data, at most
    /// 16 KiB), an RFC 5280 path from one of the anchors validates at `now`
    /// (signatures, names, validity, CA constraints), the card itself is
    /// valid at `now`, keyUsage is present, critical and has
    /// digitalSignature, certificatePolicies contain
    /// 1.2.392.200149.8.5.1.3.30, no unknown extension is critical, and
    /// finally that `signature` over `challenge` verifies with the
    /// certificate's key under `alg`.
    ///
    /// This is CPU work (one or two RSA verifications): call it from a
    /// blocking pool, not the reactor.
    ///
    /// # Errors
    /// The first check that fails, as a [`CardError`].
    pub fn verify(
        &self,
        certificate_der: &[u8],
        challenge: &[u8],
        signature: &[u8],
        alg: ChallengeAlgorithm,
        now: OffsetDateTime,
    ) -> Result<VerifiedCard, CardError> {
        // Certificates carry whole seconds: compare at that precision.
        let now = now.replace_nanosecond(0).unwrap_or(now);
        let cert = parse_certificate(certificate_der).map_err(|e| match e {
            ParseError::TooLarge => CardError::TooLarge {
                size: certificate_der.len(),
            },
            ParseError::Malformed => CardError::Malformed,
        })?;
        let serial = serial_of(&cert)?;
        let issuer_index = self.check_path(&cert, certificate_der, now)?;
        let credential = if issuer_index < self.card_anchors {
            Credential::Card
        } else {
            Credential::Smartphone
        };
        let (not_before, not_after) = check_validity(&cert, now)?;
        check_key_usage(&cert)?;
        match credential {
            Credential::Card => check_policy(&cert, &jpki_user_auth_policy())?,
            Credential::Smartphone => check_policy(&cert, &self.smartphone_policy)?,
        }
        check_critical_extensions(&cert)?;
        check_challenge(&cert, challenge, signature, alg)?;
        Ok(VerifiedCard {
            serial,
            not_before,
            not_after,
            algorithm: alg,
            issuer_index,
            credential,
        })
    }

    /// Path validation, its errors mapped to the card's stable codes.
    /// Returns the index of the anchor the path ends at.
    fn check_path(
        &self,
        cert: &X509Certificate<'_>,
        der: &[u8],
        now: OffsetDateTime,
    ) -> Result<usize, CardError> {
        let card = Arc::new(Certificate::from_parsed(der, cert).map_err(|_| CardError::Malformed)?);
        match self.paths.validate(&card, &PathOptions::at(now)) {
            Ok(path) => Ok(path.anchor_index()),
            Err(e) => Err(match e {
                PathError::UnknownIssuer | PathError::PathTooLong => CardError::UnknownIssuer,
                PathError::BadSignature => CardError::CertificateSignatureInvalid,
                PathError::UnsupportedSignatureAlgorithm { .. } => CardError::UnsupportedAlgorithm,
                PathError::Malformed
                | PathError::TooLarge
                | PathError::DuplicateExtension
                | PathError::SignatureAlgorithmMismatch => CardError::Malformed,
                // The card's own dates keep their codes; an issuer's get theirs.
                PathError::NotYetValid { .. } | PathError::Expired { .. } => {
                    check_validity(cert, now)?;
                    CardError::IssuerNotValid
                }
                PathError::NotACa | PathError::MissingKeyCertSign => CardError::IssuerNotCa,
                // The anchor constrains the path (RFC 5937): its dates and
                // CA-ness are an issuer's.
                PathError::AnchorNotYetValid { .. } | PathError::AnchorExpired { .. } => {
                    CardError::IssuerNotValid
                }
                PathError::AnchorNotACa | PathError::AnchorMissingKeyCertSign => {
                    CardError::IssuerNotCa
                }
                // A card asserting keyCertSign is one with the wrong key usage.
                PathError::KeyCertSignWithoutCa => CardError::KeyUsage,
                PathError::UnknownCriticalExtension { .. } => {
                    check_critical_extensions(cert)?;
                    CardError::PathRefused { reason: e.reason() }
                }
                // Everything else — the issuance rules of RFC 5280 §4 (key
                // identifiers, serials, names, extension syntax), the
                // anchor's other constraints, policies, name constraints —
                // is a refusal of the path with the validator's reason.
                other => CardError::PathRefused {
                    reason: other.reason(),
                },
            }),
        }
    }
}

/// A trust anchor must parse, be a CA and hold a key we verify with.
fn parse_anchor(der: &[u8]) -> Option<Certificate> {
    let cert = parse_certificate(der).ok()?;
    let is_ca = cert
        .tbs_certificate
        .basic_constraints()
        .ok()
        .flatten()
        .is_some_and(|bc| bc.value.ca);
    if !is_ca {
        return None;
    }
    PublicKey::parse(cert.tbs_certificate.subject_pki.raw).ok()?;
    Certificate::from_der(der).ok()
}

enum ParseError {
    TooLarge,
    Malformed,
}

/// One DER certificate, nothing after it, X.509 v3, the inner and outer
/// signature algorithms equal, no duplicate extension.
fn parse_certificate(der: &[u8]) -> Result<X509Certificate<'_>, ParseError> {
    if der.len() > MAX_CERTIFICATE_SIZE {
        return Err(ParseError::TooLarge);
    }
    let cert = match X509Certificate::from_der(der) {
        Ok(([], cert)) => cert,
        _ => return Err(ParseError::Malformed),
    };
    let tbs = &cert.tbs_certificate;
    let same_algorithm = tbs.signature.algorithm == cert.signature_algorithm.algorithm
        && tbs
            .signature
            .parameters
            .as_ref()
            .map(|p| (p.header.tag(), p.data))
            == cert
                .signature_algorithm
                .parameters
                .as_ref()
                .map(|p| (p.header.tag(), p.data));
    if tbs.version != X509Version::V3
        || !same_algorithm
        || cert.signature_value.unused_bits != 0
        || tbs.extensions_map().is_err()
    {
        return Err(ParseError::Malformed);
    }
    Ok(cert)
}

/// The serial as a [`CardSerial`]; a negative encoding is refused rather than
/// reinterpreted.
fn serial_of(cert: &X509Certificate<'_>) -> Result<CardSerial, CardError> {
    let raw = cert.tbs_certificate.raw_serial();
    match raw.first() {
        Some(first) if first & 0x80 == 0 => CardSerial::from_bytes(raw),
        _ => Err(CardError::InvalidSerial),
    }
}

/// RFC 5280 §4.1.2.5: valid from notBefore to notAfter, both inclusive.
fn check_validity(
    cert: &X509Certificate<'_>,
    now: OffsetDateTime,
) -> Result<(OffsetDateTime, OffsetDateTime), CardError> {
    let validity = &cert.tbs_certificate.validity;
    let not_before = validity.not_before.to_datetime();
    let not_after = validity.not_after.to_datetime();
    if now < not_before {
        return Err(CardError::NotYetValid { not_before });
    }
    if now > not_after {
        return Err(CardError::Expired { not_after });
    }
    Ok((not_before, not_after))
}

fn check_key_usage(cert: &X509Certificate<'_>) -> Result<(), CardError> {
    match cert.tbs_certificate.key_usage() {
        Ok(Some(ku)) if ku.critical && ku.value.digital_signature() => Ok(()),
        Ok(_) => Err(CardError::KeyUsage),
        // Present but unparseable (duplicates were refused while parsing).
        Err(_) => Err(CardError::Malformed),
    }
}

/// A dotted OID (`1.2.392…`) as the parser's [`Oid`]; `None` if it is not
/// one (also how the configuration checks `tls.smartphone_policy`).
pub(crate) fn smartphone_policy(dotted: &str) -> Option<Oid<'static>> {
    let arcs = dotted
        .split('.')
        .map(|arc| arc.parse::<u64>().ok())
        .collect::<Option<Vec<u64>>>()?;
    if arcs.len() < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] > 39) {
        return None;
    }
    Oid::from(&arcs).ok().map(|oid| oid.to_owned())
}

fn check_policy(cert: &X509Certificate<'_>, wanted: &Oid<'_>) -> Result<(), CardError> {
    let ext = cert
        .tbs_certificate
        .get_extension_unique(&OID_X509_EXT_CERTIFICATE_POLICIES)
        .map_err(|_| CardError::Malformed)?
        .ok_or(CardError::PolicyMissing)?;
    let ParsedExtension::CertificatePolicies(policies) = ext.parsed_extension() else {
        return Err(CardError::Malformed);
    };
    if policies.iter().any(|p| p.policy_id == *wanted) {
        Ok(())
    } else {
        Err(CardError::PolicyMissing)
    }
}

/// Critical extensions are refused unless this verifier processes them:
/// keyUsage and certificatePolicies (checked above) and basicConstraints
/// (a card certificate is an end entity whatever it says; its key is only
/// ever used to verify the challenge).
fn check_critical_extensions(cert: &X509Certificate<'_>) -> Result<(), CardError> {
    let understood = [
        OID_X509_EXT_KEY_USAGE,
        OID_X509_EXT_CERTIFICATE_POLICIES,
        OID_X509_EXT_BASIC_CONSTRAINTS,
    ];
    match cert
        .tbs_certificate
        .extensions()
        .iter()
        .find(|ext| ext.critical && !understood.contains(&ext.oid))
    {
        None => Ok(()),
        Some(ext) => Err(CardError::UnknownCriticalExtension {
            oid: ext.oid.to_id_string(),
        }),
    }
}

fn check_challenge(
    cert: &X509Certificate<'_>,
    challenge: &[u8],
    signature: &[u8],
    alg: ChallengeAlgorithm,
) -> Result<(), CardError> {
    let spki = cert.tbs_certificate.subject_pki.raw;
    let key = PublicKey::parse(spki).map_err(|e| match e {
        SignatureError::MalformedKey => CardError::Malformed,
        _ => CardError::UnsupportedAlgorithm,
    })?;
    if key.kind.challenge_algorithm().is_none() {
        return Err(CardError::UnsupportedAlgorithm);
    }
    signature::verify_signature(spki, alg, challenge, signature).map_err(|e| match e {
        SignatureError::AlgorithmMismatch => {
            CardError::ChallengeAlgorithmMismatch { declared: alg }
        }
        SignatureError::MalformedKey => CardError::Malformed,
        SignatureError::UnsupportedKey | SignatureError::UnsupportedAlgorithm => {
            CardError::UnsupportedAlgorithm
        }
        SignatureError::BadSignature => CardError::ChallengeSignatureInvalid,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use time::Duration;
    use time::macros::datetime;

    use super::*;
    use crate::devkit::demo_pki::{CardKey, CardSpec, DemoCard, Issuer};

    const CHALLENGE: &[u8] = b"kofu-challenge-0123456789abcdef";

    /// The trusted CA, its verifier, and cards issued once for all tests
    /// (RSA key generation is the slow part).
    struct Fixture {
        ca: Issuer,
        verifier: CardVerifier,
        rsa_card: DemoCard,
    }

    fn fixture() -> &'static Fixture {
        static FIXTURE: OnceLock<Fixture> = OnceLock::new();
        FIXTURE.get_or_init(|| {
            let ca = Issuer::user_auth_ca("trusted").expect("trusted CA");
            let verifier = CardVerifier::new(std::slice::from_ref(&ca.cert_der)).expect("verifier");
            let rsa_card = ca
                .issue_card("rsa", &spec(CardKey::Rsa2048))
                .expect("RSA card");
            Fixture {
                ca,
                verifier,
                rsa_card,
            }
        })
    }

    fn now() -> OffsetDateTime {
        datetime!(2025-04-01 10:00 +09:00)
    }

    fn spec(key: CardKey) -> CardSpec {
        CardSpec {
            key,
            serial: vec![0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef],
            not_before: datetime!(2024-04-01 00:00 UTC),
            // 23:59:59 JST on the day before the fifth birthday.
            not_after: datetime!(2029-06-30 23:59:59 +09:00),
            key_usage_digital_signature: true,
            with_policy: true,
            cn: "OPAQUE0000000001".to_string(),
        }
    }

    fn ecdsa_card(spec: CardSpec) -> DemoCard {
        fixture().ca.issue_card("ecdsa", &spec).expect("ECDSA card")
    }

    fn verify(card: &DemoCard, at: OffsetDateTime) -> Result<VerifiedCard, CardError> {
        fixture().verifier.verify(
            &card.cert_der,
            CHALLENGE,
            &card.sign(CHALLENGE),
            card.algorithm,
            at,
        )
    }

    fn code_of(result: Result<VerifiedCard, CardError>) -> &'static str {
        result.expect_err("card must be refused").code()
    }

    #[test]
    fn rsa_card_with_valid_challenge_signature_is_verified() {
        let card = &fixture().rsa_card;
        assert_eq!(card.algorithm, ChallengeAlgorithm::RsaPkcs1Sha256);
        let verified = verify(card, now()).expect("RSA card verifies");
        assert_eq!(
            verified.serial().as_bytes(),
            &[0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]
        );
        assert_eq!(verified.algorithm(), ChallengeAlgorithm::RsaPkcs1Sha256);
        assert_eq!(verified.not_after(), datetime!(2029-06-30 14:59:59 UTC));
    }

    #[test]
    fn ecdsa_card_with_valid_challenge_signature_is_verified() {
        let card = ecdsa_card(spec(CardKey::EcdsaP256));
        assert_eq!(card.algorithm, ChallengeAlgorithm::EcdsaP256Sha256);
        let verified = verify(&card, now()).expect("ECDSA card verifies");
        assert_eq!(verified.algorithm(), ChallengeAlgorithm::EcdsaP256Sha256);
    }

    #[test]
    fn card_from_look_alike_ca_gets_unknown_issuer() {
        let impostor = Issuer::user_auth_ca("impostor").expect("second CA");
        let card = impostor
            .issue_card("impostor-card", &spec(CardKey::EcdsaP256))
            .expect("card");
        // Same DN, so only the key tells them apart.
        let trusted = X509Certificate::from_der(&fixture().ca.cert_der)
            .expect("ca")
            .1;
        let look_alike = X509Certificate::from_der(&impostor.cert_der).expect("ca").1;
        assert_eq!(trusted.subject().as_raw(), look_alike.subject().as_raw());
        assert_eq!(code_of(verify(&card, now())), "card_unknown_issuer");
    }

    #[test]
    fn card_from_look_alike_ca_without_key_identifier_gets_unknown_issuer() {
        let impostor = Issuer::user_auth_ca("impostor-no-aki").expect("second CA");
        let card = impostor
            .issue_card_with(
                "impostor-card",
                &spec(CardKey::EcdsaP256),
                crate::devkit::demo_pki::CardExtras {
                    authority_key_identifier: false,
                    ..Default::default()
                },
            )
            .expect("card");
        assert!(matches!(
            verify(&card, now()),
            Err(CardError::UnknownIssuer)
        ));
    }

    #[test]
    fn altered_certificate_gets_certificate_invalid() {
        let mut card = ecdsa_card(spec(CardKey::EcdsaP256));
        // Flip a bit in the CN inside the signed part.
        let pos = card
            .cert_der
            .windows(16)
            .position(|w| w == b"OPAQUE0000000001")
            .expect("CN in DER");
        card.cert_der[pos] ^= 0x01;
        let result = verify(&card, now());
        assert!(matches!(
            result,
            Err(CardError::CertificateSignatureInvalid)
        ));
        assert_eq!(code_of(result), "card_certificate_invalid");
    }

    #[test]
    fn expired_card_gets_card_expired() {
        let card = ecdsa_card(spec(CardKey::EcdsaP256));
        let not_after = datetime!(2029-06-30 14:59:59 UTC);
        assert!(
            verify(&card, not_after).is_ok(),
            "notAfter itself is inside"
        );
        let result = verify(&card, not_after + Duration::seconds(1));
        assert!(matches!(result, Err(CardError::Expired { not_after: t }) if t == not_after));
        assert_eq!(code_of(result), "card_expired");
    }

    #[test]
    fn card_before_not_before_gets_not_yet_valid() {
        let card = ecdsa_card(spec(CardKey::EcdsaP256));
        let result = verify(&card, datetime!(2024-03-31 23:59:59 UTC));
        assert!(matches!(result, Err(CardError::NotYetValid { .. })));
        assert_eq!(code_of(result), "card_not_yet_valid");
    }

    #[test]
    fn card_without_digital_signature_key_usage_is_refused() {
        let card = ecdsa_card(CardSpec {
            key_usage_digital_signature: false,
            ..spec(CardKey::EcdsaP256)
        });
        assert_eq!(code_of(verify(&card, now())), "card_key_usage_invalid");
    }

    #[test]
    fn card_with_non_critical_key_usage_is_refused() {
        let card = fixture()
            .ca
            .issue_card_with(
                "ku-not-critical",
                &spec(CardKey::EcdsaP256),
                crate::devkit::demo_pki::CardExtras {
                    key_usage_critical: false,
                    ..Default::default()
                },
            )
            .expect("card");
        assert_eq!(code_of(verify(&card, now())), "card_key_usage_invalid");
    }

    #[test]
    fn card_without_user_auth_policy_is_refused() {
        let card = ecdsa_card(CardSpec {
            with_policy: false,
            ..spec(CardKey::EcdsaP256)
        });
        assert_eq!(code_of(verify(&card, now())), "card_policy_missing");
    }

    #[test]
    fn card_with_unknown_critical_extension_is_refused() {
        let card = fixture()
            .ca
            .issue_card_with(
                "critical-ext",
                &spec(CardKey::EcdsaP256),
                crate::devkit::demo_pki::CardExtras {
                    critical_extension_oid: Some(vec![1, 3, 6, 1, 4, 1, 99999, 1]),
                    ..Default::default()
                },
            )
            .expect("card");
        let result = verify(&card, now());
        assert!(
            matches!(&result, Err(CardError::UnknownCriticalExtension { oid }) if oid == "1.3.6.1.4.1.99999.1")
        );
        assert_eq!(code_of(result), "card_extension_unsupported");
    }

    #[test]
    fn signature_over_other_bytes_gets_signature_invalid() {
        for card in [&fixture().rsa_card, &ecdsa_card(spec(CardKey::EcdsaP256))] {
            let signature = card.sign(b"some other challenge");
            let result = fixture().verifier.verify(
                &card.cert_der,
                CHALLENGE,
                &signature,
                card.algorithm,
                now(),
            );
            assert!(matches!(result, Err(CardError::ChallengeSignatureInvalid)));
            assert_eq!(code_of(result), "card_signature_invalid");
        }
    }

    #[test]
    fn declared_algorithm_that_does_not_fit_the_key_is_refused() {
        let card = &fixture().rsa_card;
        let result = fixture().verifier.verify(
            &card.cert_der,
            CHALLENGE,
            &card.sign(CHALLENGE),
            ChallengeAlgorithm::EcdsaP256Sha256,
            now(),
        );
        assert!(matches!(
            result,
            Err(CardError::ChallengeAlgorithmMismatch { .. })
        ));
        assert_eq!(code_of(result), "card_signature_invalid");
    }

    #[test]
    fn malformed_der_gets_certificate_invalid() {
        let card = &fixture().rsa_card;
        let signature = card.sign(CHALLENGE);
        let inputs: [&[u8]; 4] = [
            b"",
            b"not a certificate",
            &card.cert_der[..card.cert_der.len() / 2],
            &[0x30, 0x80, 0x00, 0x00], // BER indefinite length
        ];
        for input in inputs {
            let result =
                fixture()
                    .verifier
                    .verify(input, CHALLENGE, &signature, card.algorithm, now());
            assert!(matches!(result, Err(CardError::Malformed)), "{result:?}");
            assert_eq!(code_of(result), "card_certificate_invalid");
        }
    }

    #[test]
    fn trailing_garbage_after_certificate_is_refused() {
        let card = &fixture().rsa_card;
        let mut der = card.cert_der.clone();
        der.extend_from_slice(&[0x00]);
        let result = fixture().verifier.verify(
            &der,
            CHALLENGE,
            &card.sign(CHALLENGE),
            card.algorithm,
            now(),
        );
        assert!(matches!(result, Err(CardError::Malformed)));
        assert_eq!(code_of(result), "card_certificate_invalid");
    }

    #[test]
    fn oversized_certificate_is_refused_before_parsing() {
        let big = vec![0x30; MAX_CERTIFICATE_SIZE + 1];
        let result = fixture().verifier.verify(
            &big,
            CHALLENGE,
            b"",
            ChallengeAlgorithm::RsaPkcs1Sha256,
            now(),
        );
        assert!(
            matches!(result, Err(CardError::TooLarge { size }) if size == MAX_CERTIFICATE_SIZE + 1)
        );
    }

    #[test]
    fn card_signed_with_unsupported_algorithm_is_refused() {
        // Rewrite sha256WithRSAEncryption (…01 01 0b) into sha1WithRSAEncryption
        // (…01 01 05) in both the inner and the outer AlgorithmIdentifier.
        let card = &fixture().rsa_card;
        let sha256_with_rsa = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
        let mut der = card.cert_der.clone();
        let mut replaced = 0;
        let mut i = 0;
        while i + sha256_with_rsa.len() <= der.len() {
            if der[i..i + sha256_with_rsa.len()] == sha256_with_rsa {
                der[i + sha256_with_rsa.len() - 1] = 0x05;
                replaced += 1;
            }
            i += 1;
        }
        assert_eq!(replaced, 2);
        let result = fixture().verifier.verify(
            &der,
            CHALLENGE,
            &card.sign(CHALLENGE),
            card.algorithm,
            now(),
        );
        assert!(
            matches!(result, Err(CardError::UnsupportedAlgorithm)),
            "{result:?}"
        );
        assert_eq!(code_of(result), "card_algorithm_unsupported");
    }

    #[test]
    fn cards_from_sha512_rsa_and_p384_cas_verify() {
        for alg in [&rcgen::PKCS_RSA_SHA512, &rcgen::PKCS_ECDSA_P384_SHA384] {
            let ca = Issuer::user_auth_ca_with("other-algorithm", alg).expect("CA");
            let verifier = CardVerifier::new(std::slice::from_ref(&ca.cert_der)).expect("verifier");
            let card = ca
                .issue_card("card", &spec(CardKey::EcdsaP256))
                .expect("card");
            verifier
                .verify(
                    &card.cert_der,
                    CHALLENGE,
                    &card.sign(CHALLENGE),
                    card.algorithm,
                    now(),
                )
                .unwrap_or_else(|e| panic!("{alg:?}: {e}"));
            // The same card is unknown to the RSA-SHA256 anchor with the same DN.
            assert!(matches!(
                verify(&card, now()),
                Err(CardError::UnknownIssuer)
            ));
        }
    }

    #[test]
    fn verifier_needs_at_least_one_ca_certificate() {
        assert!(matches!(
            CardVerifier::new(&[]),
            Err(CardError::NoTrustAnchors)
        ));
        let leaf = ecdsa_card(spec(CardKey::EcdsaP256)).cert_der;
        assert!(matches!(
            CardVerifier::new(&[fixture().ca.cert_der.clone(), leaf]),
            Err(CardError::InvalidTrustAnchor { index: 1 })
        ));
        assert!(matches!(
            CardVerifier::new(&[b"junk".to_vec()]),
            Err(CardError::InvalidTrustAnchor { index: 0 })
        ));
    }

    #[test]
    fn second_anchor_is_used_when_the_first_does_not_match() {
        let other = Issuer::store_network_ca().expect("other CA");
        let verifier = CardVerifier::new(&[other.cert_der.clone(), fixture().ca.cert_der.clone()])
            .expect("verifier");
        let card = ecdsa_card(spec(CardKey::EcdsaP256));
        verifier
            .verify(
                &card.cert_der,
                CHALLENGE,
                &card.sign(CHALLENGE),
                card.algorithm,
                now(),
            )
            .map(|card| assert_eq!(card.issuer_index(), 1))
            .expect("verified by the second anchor");
    }

    #[test]
    fn serial_is_canonicalised() {
        let s = CardSerial::from_bytes(&[0, 0, 0x12, 0x34]).expect("serial");
        assert_eq!(s.as_bytes(), &[0x12, 0x34]);
        assert_eq!(s, CardSerial::from_bytes(&[0x12, 0x34]).expect("serial"));
        // 20 bytes of magnitude with the DER sign byte in front is fine.
        let mut twenty_one = vec![0u8];
        twenty_one.extend_from_slice(&[0xff; 20]);
        assert_eq!(
            CardSerial::from_bytes(&twenty_one)
                .expect("20 bytes")
                .as_bytes()
                .len(),
            20
        );
    }

    #[test]
    fn serial_empty_zero_or_too_long_is_rejected() {
        assert!(matches!(
            CardSerial::from_bytes(&[]),
            Err(CardError::InvalidSerial)
        ));
        assert!(matches!(
            CardSerial::from_bytes(&[0, 0]),
            Err(CardError::InvalidSerial)
        ));
        assert!(matches!(
            CardSerial::from_bytes(&[0x01; 21]),
            Err(CardError::InvalidSerial)
        ));
    }

    #[test]
    fn card_with_21_byte_serial_is_refused() {
        let card = ecdsa_card(CardSpec {
            serial: vec![0x11; 21],
            ..spec(CardKey::EcdsaP256)
        });
        let result = verify(&card, now());
        assert!(matches!(result, Err(CardError::InvalidSerial)));
        assert_eq!(code_of(result), "card_certificate_invalid");
    }

    #[test]
    fn debug_output_never_shows_the_raw_serial() {
        let raw = [0xde, 0xad, 0xbe, 0xef, 0x01, 0x02];
        let serial = CardSerial::from_bytes(&raw).expect("serial");
        let debug = format!("{serial:?}");
        assert!(!debug.to_lowercase().contains("deadbeef"), "{debug}");
        assert!(!debug.contains("222"), "{debug}"); // 0xde as decimal
        assert!(debug.contains(&serial.fingerprint()), "{debug}");
        assert_eq!(serial.fingerprint().len(), 16);

        let card = ecdsa_card(CardSpec {
            serial: raw.to_vec(),
            ..spec(CardKey::EcdsaP256)
        });
        let verified = verify(&card, now()).expect("verified");
        let debug = format!("{verified:?}");
        assert!(!debug.to_lowercase().contains("deadbeef"), "{debug}");
        assert!(!debug.contains("[222"), "{debug}");
        // Error messages carry no serial either.
        let expired = verify(&card, datetime!(2040-01-01 0:00 UTC)).expect_err("expired");
        assert!(
            !format!("{expired} {expired:?}")
                .to_lowercase()
                .contains("deadbeef")
        );
    }

    /// Root → intermediate(s) → card, from the generated test PKI.
    fn card_below(
        configure_int: impl FnOnce(&mut rcgen::CertificateParams),
    ) -> (
        crate::devkit::test_pki::TestCa,
        crate::devkit::test_pki::TestCa,
        crate::devkit::test_pki::TestCa,
    ) {
        use crate::devkit::test_pki::{TestCa, params, policies};
        let root = TestCa::self_signed(params("JPKI root", true, now()));
        let mut ip = params("JPKI user authentication CA", true, now());
        configure_int(&mut ip);
        let int = root.issue(ip);
        let mut cp = params("OPAQUE0000000002", false, now());
        cp.custom_extensions
            .push(policies(&["1.2.392.200149.8.5.1.3.30"]));
        let card = int.issue(cp);
        (root, int, card)
    }

    fn verify_below(
        root: &crate::devkit::test_pki::TestCa,
        intermediates: &[&crate::devkit::test_pki::TestCa],
        card: &crate::devkit::test_pki::TestCa,
    ) -> Result<VerifiedCard, CardError> {
        let ders: Vec<Vec<u8>> = intermediates.iter().map(|c| c.cert_der.clone()).collect();
        let verifier = CardVerifier::new(std::slice::from_ref(&root.cert_der))
            .expect("anchor")
            .with_intermediates(&ders)
            .expect("intermediates");
        verifier.verify(
            &card.cert_der,
            CHALLENGE,
            &card.sign(CHALLENGE),
            ChallengeAlgorithm::EcdsaP256Sha256,
            now(),
        )
    }

    #[test]
    fn card_below_a_configured_intermediate_verifies_and_repeats() {
        let (root, int, card) = card_below(|_| {});
        let verified = verify_below(&root, &[&int], &card).expect("verified");
        assert_eq!(verified.issuer_index(), 0);
        // Without the intermediate the card's issuer is unknown.
        assert_eq!(
            code_of(verify_below(&root, &[], &card)),
            "card_unknown_issuer"
        );
        // The same verifier again (intermediate signature now cached).
        let verifier = CardVerifier::new(std::slice::from_ref(&root.cert_der))
            .expect("anchor")
            .with_intermediates(std::slice::from_ref(&int.cert_der))
            .expect("intermediates");
        for _ in 0..3 {
            verifier
                .verify(
                    &card.cert_der,
                    CHALLENGE,
                    &card.sign(CHALLENGE),
                    ChallengeAlgorithm::EcdsaP256Sha256,
                    now(),
                )
                .expect("verified again");
        }
    }

    #[test]
    fn card_below_an_intermediate_that_is_not_a_ca_is_refused() {
        let (root, int, card) = card_below(|p| p.is_ca = rcgen::IsCa::ExplicitNoCa);
        assert_eq!(
            code_of(verify_below(&root, &[&int], &card)),
            "card_issuer_not_ca"
        );
        let (root, int, card) =
            card_below(|p| p.key_usages = vec![rcgen::KeyUsagePurpose::CrlSign]);
        assert_eq!(
            code_of(verify_below(&root, &[&int], &card)),
            "card_issuer_not_ca"
        );
    }

    #[test]
    fn card_below_an_expired_intermediate_is_refused() {
        let (root, int, card) = card_below(|p| p.not_after = now() - Duration::days(1));
        assert_eq!(
            code_of(verify_below(&root, &[&int], &card)),
            "card_issuer_not_valid"
        );
    }

    #[test]
    fn unparsable_intermediate_is_a_configuration_error() {
        let err = CardVerifier::new(std::slice::from_ref(&fixture().ca.cert_der))
            .expect("anchor")
            .with_intermediates(&[b"junk".to_vec()])
            .expect_err("refused");
        assert_eq!(err.code(), "card_verifier_misconfigured");
    }

    #[test]
    fn card_asserting_key_cert_sign_gets_key_usage_invalid() {
        use crate::devkit::test_pki::{TestCa, params, policies};
        let root = TestCa::self_signed(params("JPKI user authentication CA", true, now()));
        let mut cp = params("OPAQUE0000000004", false, now());
        cp.key_usages = vec![
            rcgen::KeyUsagePurpose::DigitalSignature,
            rcgen::KeyUsagePurpose::KeyCertSign,
        ];
        cp.custom_extensions
            .push(policies(&["1.2.392.200149.8.5.1.3.30"]));
        let card = root.issue(cp);
        let result = verify_below(&root, &[], &card);
        assert!(matches!(result, Err(CardError::KeyUsage)), "{result:?}");
        assert_eq!(code_of(result), "card_key_usage_invalid");
    }

    #[test]
    fn card_below_an_expired_anchor_gets_issuer_not_valid() {
        use crate::devkit::test_pki::{TestCa, params, policies};
        let mut rp = params("JPKI user authentication CA", true, now());
        rp.not_after = now() - Duration::days(1);
        let root = TestCa::self_signed(rp);
        let mut cp = params("OPAQUE0000000005", false, now());
        cp.custom_extensions
            .push(policies(&["1.2.392.200149.8.5.1.3.30"]));
        let card = root.issue(cp);
        assert_eq!(
            code_of(verify_below(&root, &[], &card)),
            "card_issuer_not_valid"
        );
    }

    #[test]
    fn card_without_authority_key_identifier_gets_path_refused() {
        let card = fixture()
            .ca
            .issue_card_with(
                "no-aki",
                &spec(CardKey::EcdsaP256),
                crate::devkit::demo_pki::CardExtras {
                    authority_key_identifier: false,
                    ..Default::default()
                },
            )
            .expect("card");
        let result = verify(&card, now());
        assert!(
            matches!(
                result,
                Err(CardError::PathRefused {
                    reason: "missing_authority_key_identifier"
                })
            ),
            "{result:?}"
        );
        assert_eq!(code_of(result), "card_path_refused");
    }

    #[test]
    fn card_is_valid_throughout_the_second_of_its_not_after() {
        let card = ecdsa_card(spec(CardKey::EcdsaP256));
        let not_after = datetime!(2029-06-30 14:59:59 UTC);
        assert!(verify(&card, not_after + Duration::milliseconds(999)).is_ok());
        assert_eq!(
            code_of(verify(&card, not_after + Duration::seconds(1))),
            "card_expired"
        );
    }

    #[test]
    fn policy_oid_constant_is_the_jpki_user_auth_policy() {
        assert_eq!(
            jpki_user_auth_policy().to_id_string(),
            "1.2.392.200149.8.5.1.3.30"
        );
    }

    #[test]
    fn smartphone_policy_constants_agree() {
        assert_eq!(
            smartphone_policy(SMARTPHONE_USER_AUTH_POLICY)
                .unwrap()
                .as_bytes(),
            SMARTPHONE_USER_AUTH_POLICY_DER
        );
        for bad in ["", "1", "1.x.3", "3.1", "1.40", "1..2"] {
            assert!(smartphone_policy(bad).is_none(), "{bad}");
        }
    }

    /// The credential is the anchor's: a phone certificate verifies as a
    /// smartphone only under the smartphone CA, with the smartphone policy;
    /// the card's policy under the smartphone CA (or the smartphone's under
    /// the card CA) is refused.
    #[test]
    fn the_anchor_decides_the_credential_and_its_policy() {
        let phone_ca = Issuer::smartphone_auth_ca("phones").unwrap();
        let verifier = CardVerifier::new(std::slice::from_ref(&fixture().ca.cert_der))
            .unwrap()
            .with_smartphone_anchors(
                std::slice::from_ref(&phone_ca.cert_der),
                SMARTPHONE_USER_AUTH_POLICY,
            )
            .unwrap();
        let check = |card: &DemoCard| {
            verifier.verify(
                &card.cert_der,
                CHALLENGE,
                &card.sign(CHALLENGE),
                card.algorithm,
                now(),
            )
        };
        for key in [CardKey::EcdsaP256, CardKey::Rsa2048] {
            let phone = phone_ca.issue_smartphone("phone", &spec(key)).unwrap();
            let verified = check(&phone).unwrap();
            assert_eq!(verified.credential(), Credential::Smartphone);
            assert_eq!(verified.issuer_index(), 1);
        }
        let card = ecdsa_card(spec(CardKey::EcdsaP256));
        let verified = check(&card).unwrap();
        assert_eq!(verified.credential(), Credential::Card);
        assert_eq!(verified.issuer_index(), 0);
        // A card profile under the phone CA, a phone profile under the card CA.
        let card_policy_phone = phone_ca
            .issue_card("card-policy", &spec(CardKey::EcdsaP256))
            .unwrap();
        assert_eq!(code_of(check(&card_policy_phone)), "card_policy_missing");
        let phone_policy_card = fixture()
            .ca
            .issue_smartphone("phone-policy", &spec(CardKey::EcdsaP256))
            .unwrap();
        assert_eq!(code_of(check(&phone_policy_card)), "card_policy_missing");
        // Without the smartphone anchor, a phone is an unknown issuer.
        let phone = phone_ca
            .issue_smartphone("phone", &spec(CardKey::EcdsaP256))
            .unwrap();
        assert_eq!(code_of(verify(&phone, now())), "card_unknown_issuer");
        assert!(matches!(
            CardVerifier::new(std::slice::from_ref(&fixture().ca.cert_der))
                .unwrap()
                .with_smartphone_anchors(&[], "not an oid"),
            Err(CardError::InvalidSmartphonePolicy)
        ));
    }
}
