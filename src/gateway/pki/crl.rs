//! Certificate revocation lists: parsing, validation (RFC 5280 §6.3) and
//! the revocation status of each certificate in a path.
//!
//! The rule this file keeps: a CRL says something only after it became a
//! [`ValidatedCrl`] — its signature verified with `ring` by the
//! certificate's issuer key or by a separate key of the same issuer whose
//! certificate chains to the same anchor, the signer allowed to sign CRLs
//! (cRLSign whenever keyUsage is present), thisUpdate reached, nextUpdate
//! (plus a configured grace) not passed, the CRL profile of RFC 5280 §5 kept
//! (a non-critical cRLNumber, an authorityKeyIdentifier, a nextUpdate),
//! and no critical CRL or entry
//! extension unknown to us. A certificate is treated as unrevoked only when
//! usable CRLs in scope cover every reason code; otherwise its status is
//! unknown, which refuses the path. The types here are pure data so a bulk
//! revocation index can be fed from [`ValidatedCrl::entries`].

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use rustls_pki_types::CertificateRevocationListDer;
use rustls_pki_types::pem::PemObject;
use time::{Duration, OffsetDateTime};
use x509_parser::extensions::{ParsedExtension, SubjectAlternativeName};
use x509_parser::oid_registry::{
    OID_X509_EXT_CRL_NUMBER, OID_X509_EXT_DELTA_CRL_INDICATOR, OID_X509_EXT_FRESHEST_CRL,
    OID_X509_EXT_HOLD_INSTRUCTION_CODE, OID_X509_EXT_INVALIDITY_DATE, OID_X509_EXT_ISSUER,
    OID_X509_EXT_ISSUER_ALT_NAME, OID_X509_EXT_REASON_CODE,
};
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

use super::name::{GName, Name};
use super::path::{
    Certificate, DistPoint, DpName, Nest, PathError, PathOptions, PathValidator, RevocationCheck,
    canonical_serial, der_tlv, hex8, ku, reason_flags, sha256, verify_signed,
};
pub use super::reason::RevocationReason;
use super::signature::CertificateSignatureAlgorithm;

/// Largest CRL accepted. JPKI's full CRLs are large; the bulk index has its
/// own streaming path, this bound keeps a single hostile file cheap.
pub const MAX_CRL_SIZE: usize = 256 * 1024 * 1024;
/// Every reason of RFC 5280 §5.3.1 as ReasonFlags bits (1..=8).
const ALL_REASONS: u16 = 0x01fe;
/// Nested CRL-signer validations allowed (signer of the signer's CRL...).
const MAX_SIGNER_DEPTH: usize = 2;

/// Why a CRL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrlError {
    /// Not one well-formed DER CRL (or PEM holding none).
    #[error("CRL is malformed")]
    Malformed,
    /// Larger than [`MAX_CRL_SIZE`].
    #[error("CRL is too large")]
    TooLarge,
    /// A critical CRL or entry extension we do not process.
    #[error("CRL has an unknown critical extension {oid}")]
    UnknownCriticalExtension {
        /// Dotted OID.
        oid: String,
    },
    /// Signature algorithm not supported, or inner and outer differ.
    #[error("CRL signature algorithm unsupported")]
    UnsupportedSignatureAlgorithm,
    /// The signature does not verify with the signer's key.
    #[error("CRL signature does not verify")]
    BadSignature,
    /// The signer's name is not the CRL issuer, or its keyUsage lacks cRLSign.
    #[error("CRL signer is not authorised to sign CRLs")]
    SignerNotAuthorized,
    /// thisUpdate is after the validation time.
    #[error("CRL is not yet valid")]
    NotYetValid,
    /// A delta CRL paired with a CRL it does not apply to.
    #[error("delta CRL does not apply to this full CRL")]
    DeltaMismatch,
    /// nextUpdate (plus grace) is before the validation time.
    #[error("CRL is stale since {next_update}")]
    Stale {
        /// nextUpdate of the CRL.
        next_update: OffsetDateTime,
    },
    /// The CRL has no cRLNumber (RFC 5280 §5.2.3: every CRL carries one).
    #[error("CRL has no CRL number")]
    MissingCrlNumber,
    /// cRLNumber is marked critical (RFC 5280 §5.2.3: it MUST NOT be).
    #[error("CRL number is marked critical")]
    CriticalCrlNumber,
    /// No authorityKeyIdentifier with a keyIdentifier (RFC 5280 §5.2.1:
    /// every CRL carries one).
    #[error("CRL has no authority key identifier")]
    MissingAuthorityKeyIdentifier,
    /// No nextUpdate (RFC 5280 §5.1.2.5: every CRL says when the next one
    /// comes; without it a CRL could never go stale).
    #[error("CRL has no next update")]
    MissingNextUpdate,
}

impl CrlError {
    /// Stable snake_case reason.
    pub fn reason(&self) -> &'static str {
        match self {
            CrlError::Malformed => "crl_malformed",
            CrlError::TooLarge => "crl_too_large",
            CrlError::UnknownCriticalExtension { .. } => "crl_unknown_critical_extension",
            CrlError::UnsupportedSignatureAlgorithm => "crl_unsupported_signature_algorithm",
            CrlError::BadSignature => "crl_bad_signature",
            CrlError::SignerNotAuthorized => "crl_signer_not_authorized",
            CrlError::NotYetValid => "crl_not_yet_valid",
            CrlError::DeltaMismatch => "crl_delta_mismatch",
            CrlError::Stale { .. } => "revocation_data_stale",
            CrlError::MissingCrlNumber => "crl_number_missing",
            CrlError::CriticalCrlNumber => "crl_number_critical",
            CrlError::MissingAuthorityKeyIdentifier => "crl_authority_key_identifier_missing",
            CrlError::MissingNextUpdate => "crl_next_update_missing",
        }
    }
}

/// issuingDistributionPoint (RFC 5280 §5.2.5): the CRL's scope.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct IssuingDistributionPoint {
    name: Option<DpName>,
    only_user_certs: bool,
    only_ca_certs: bool,
    only_some_reasons: Option<u16>,
    indirect: bool,
    only_attribute_certs: bool,
}

impl IssuingDistributionPoint {
    /// Read here, not by x509-parser 0.18, which drops a relative name and
    /// every field after it (see [`DpName::from_der_content`]).
    fn from_der(value: &[u8]) -> Option<IssuingDistributionPoint> {
        let (0x30, mut fields, []) = der_tlv(value)? else {
            return None;
        };
        let mut idp = IssuingDistributionPoint::default();
        let flag = |content: &[u8]| match content {
            [0xff] => Some(true),
            [0x00] => Some(false),
            _ => None,
        };
        while !fields.is_empty() {
            let (tag, content, next) = der_tlv(fields)?;
            fields = next;
            match tag {
                0xa0 => idp.name = Some(DpName::from_der_content(content)?),
                0x81 => idp.only_user_certs = flag(content)?,
                0x82 => idp.only_ca_certs = flag(content)?,
                0x83 => idp.only_some_reasons = Some(reason_flags(content)?),
                0x84 => idp.indirect = flag(content)?,
                0x85 => idp.only_attribute_certs = flag(content)?,
                _ => return None,
            }
        }
        Some(idp)
    }
}

/// One revoked certificate. `Debug` leaves the serial out.
#[derive(Clone)]
pub struct CrlEntry {
    serial: Vec<u8>,
    reason: RevocationReason,
    revoked_at: OffsetDateTime,
    /// For indirect CRLs: the issuer this entry belongs to (certificateIssuer,
    /// carried over to following entries). `None`: the CRL issuer.
    certificate_issuer: Option<Vec<GName>>,
}

impl fmt::Debug for CrlEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CrlEntry")
            .field("reason", &self.reason)
            .field("revoked_at", &self.revoked_at)
            .finish_non_exhaustive()
    }
}

impl CrlEntry {
    /// Serial as minimal two's-complement bytes (as [`Certificate::serial`]).
    /// Never log it.
    pub fn serial(&self) -> &[u8] {
        &self.serial
    }

    /// The serial as a positive magnitude without leading zeros — the form
    /// of [`super::CardSerial::as_bytes`] — or `None` for a negative serial
    /// (which no card has).
    pub fn serial_magnitude(&self) -> Option<&[u8]> {
        if self.serial.first().is_some_and(|b| b & 0x80 != 0) {
            return None;
        }
        let start = self
            .serial
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(self.serial.len());
        Some(&self.serial[start..])
    }

    /// Reason code (unspecified when absent).
    pub fn reason(&self) -> RevocationReason {
        self.reason
    }

    /// revocationDate.
    pub fn revoked_at(&self) -> OffsetDateTime {
        self.revoked_at
    }

    /// Whether this entry is for a certificate issued by `issuer` on a CRL
    /// issued by `crl_issuer`.
    fn belongs_to(&self, issuer: &Name, crl_issuer: &Name) -> bool {
        match &self.certificate_issuer {
            None => issuer == crl_issuer,
            Some(names) => names
                .iter()
                .any(|n| matches!(n, GName::Dir(d) if d == issuer)),
        }
    }
}

/// A parsed CRL whose signature and freshness are not yet checked.
/// `Debug` shows its fingerprint and size, not its issuer or entries.
pub struct Crl {
    fingerprint: [u8; 32],
    tbs: Vec<u8>,
    signature: Vec<u8>,
    algorithm: Result<CertificateSignatureAlgorithm, String>,
    algorithms_match: bool,
    pub(crate) issuer: Name,
    this_update: OffsetDateTime,
    next_update: Option<OffsetDateTime>,
    number: Option<Vec<u8>>,
    number_critical: bool,
    /// authorityKeyIdentifier with its keyIdentifier is present.
    has_key_identifier: bool,
    delta_base: Option<Vec<u8>>,
    idp: Option<IssuingDistributionPoint>,
    entries: Vec<CrlEntry>,
    by_serial: HashMap<Vec<u8>, Vec<usize>>,
    unknown_critical: Option<String>,
}

impl fmt::Debug for Crl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Crl")
            .field("sha256", &hex8(&self.fingerprint))
            .field("entries", &self.entries.len())
            .field("delta", &self.delta_base.is_some())
            .finish_non_exhaustive()
    }
}

impl Crl {
    /// Parses one DER CRL; nothing may follow it.
    ///
    /// # Errors
    /// [`CrlError::TooLarge`] or [`CrlError::Malformed`] (including
    /// duplicate extensions and an extension we rely on that does not parse).
    pub fn from_der(der: &[u8]) -> Result<Crl, CrlError> {
        if der.len() > MAX_CRL_SIZE {
            return Err(CrlError::TooLarge);
        }
        let crl = match CertificateRevocationList::from_der(der) {
            Ok(([], crl)) => crl,
            _ => return Err(CrlError::Malformed),
        };
        let tbs = &crl.tbs_cert_list;
        if tbs.extensions_map().is_err() {
            return Err(CrlError::Malformed);
        }
        let param = |a: &x509_parser::x509::AlgorithmIdentifier<'_>| {
            a.parameters
                .as_ref()
                .map(|p| (p.header.tag(), p.data.to_vec()))
        };
        let mut out = Crl {
            fingerprint: sha256(der),
            tbs: tbs.as_ref().to_vec(),
            // Unused bits: cannot verify, so kept empty (a bad signature).
            signature: if crl.signature_value.unused_bits == 0 {
                crl.signature_value.data.to_vec()
            } else {
                Vec::new()
            },
            algorithm: CertificateSignatureAlgorithm::from_identifier(&crl.signature_algorithm)
                .ok_or_else(|| crl.signature_algorithm.algorithm.to_id_string()),
            algorithms_match: tbs.signature.algorithm == crl.signature_algorithm.algorithm
                && param(&tbs.signature) == param(&crl.signature_algorithm),
            issuer: Name::from_x509(&tbs.issuer),
            this_update: tbs.this_update.to_datetime(),
            next_update: tbs.next_update.map(|t| t.to_datetime()),
            number: None,
            number_critical: false,
            has_key_identifier: false,
            delta_base: None,
            idp: None,
            entries: Vec::with_capacity(tbs.revoked_certificates.len()),
            by_serial: HashMap::new(),
            unknown_critical: None,
        };
        for ext in tbs.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::CRLNumber(_) => {
                    out.number = Some(der_unsigned_integer(ext.value).ok_or(CrlError::Malformed)?);
                    out.number_critical = ext.critical;
                }
                ParsedExtension::IssuingDistributionPoint(_) => {
                    out.idp = Some(
                        IssuingDistributionPoint::from_der(ext.value).ok_or(CrlError::Malformed)?,
                    );
                }
                ParsedExtension::AuthorityKeyIdentifier(aki) => {
                    out.has_key_identifier =
                        aki.key_identifier.as_ref().is_some_and(|k| !k.0.is_empty());
                }
                ParsedExtension::AuthorityInfoAccess(_) => {}
                ParsedExtension::ParseError { .. } => return Err(CrlError::Malformed),
                _ if ext.oid == OID_X509_EXT_CRL_NUMBER => {
                    out.number = Some(der_unsigned_integer(ext.value).ok_or(CrlError::Malformed)?);
                    out.number_critical = ext.critical;
                }
                _ if ext.oid == OID_X509_EXT_DELTA_CRL_INDICATOR => {
                    out.delta_base =
                        Some(der_unsigned_integer(ext.value).ok_or(CrlError::Malformed)?);
                }
                _ if ext.oid == OID_X509_EXT_FRESHEST_CRL
                    || ext.oid == OID_X509_EXT_ISSUER_ALT_NAME => {}
                _ => {
                    if ext.critical && out.unknown_critical.is_none() {
                        out.unknown_critical = Some(ext.oid.to_id_string());
                    }
                }
            }
        }
        let indirect = out.idp.as_ref().is_some_and(|i| i.indirect);
        let mut current_issuer: Option<Vec<GName>> = None;
        for entry in &tbs.revoked_certificates {
            let mut reason = RevocationReason::Unspecified;
            for ext in entry.extensions() {
                if ext.oid == OID_X509_EXT_REASON_CODE {
                    let ParsedExtension::ReasonCode(code) = ext.parsed_extension() else {
                        return Err(CrlError::Malformed);
                    };
                    reason = RevocationReason::from_code(code.0).ok_or(CrlError::Malformed)?;
                } else if ext.oid == OID_X509_EXT_ISSUER {
                    let (_, names) = SubjectAlternativeName::from_der(ext.value)
                        .map_err(|_| CrlError::Malformed)?;
                    let names: Vec<GName> =
                        names.general_names.iter().map(GName::from_x509).collect();
                    if indirect {
                        current_issuer = Some(names);
                    } else if ext.critical {
                        // certificateIssuer outside an indirect CRL cannot be honoured.
                        out.unknown_critical
                            .get_or_insert_with(|| ext.oid.to_id_string());
                    }
                } else if ext.oid == OID_X509_EXT_INVALIDITY_DATE
                    || ext.oid == OID_X509_EXT_HOLD_INSTRUCTION_CODE
                {
                } else if ext.critical && out.unknown_critical.is_none() {
                    out.unknown_critical = Some(ext.oid.to_id_string());
                }
            }
            let serial = canonical_serial(entry.raw_serial());
            out.by_serial
                .entry(serial.clone())
                .or_default()
                .push(out.entries.len());
            out.entries.push(CrlEntry {
                serial,
                reason,
                revoked_at: entry.revocation_date.to_datetime(),
                certificate_issuer: current_issuer.clone(),
            });
        }
        Ok(out)
    }

    /// Every CRL in a file: PEM (`X509 CRL` blocks) or a single DER CRL.
    ///
    /// # Errors
    /// The first CRL that does not parse, or a PEM file without any.
    pub fn from_file_bytes(bytes: &[u8]) -> Result<Vec<Crl>, CrlError> {
        if looks_like_pem(bytes) {
            let crls: Vec<Crl> = CertificateRevocationListDer::pem_slice_iter(bytes)
                .map(|r| {
                    r.map_err(|_| CrlError::Malformed)
                        .and_then(|der| Crl::from_der(der.as_ref()))
                })
                .collect::<Result<_, _>>()?;
            if crls.is_empty() {
                return Err(CrlError::Malformed);
            }
            Ok(crls)
        } else {
            Ok(vec![Crl::from_der(bytes)?])
        }
    }

    /// cRLNumber, big-endian without leading zeros (compare with
    /// [`crl_number_cmp`]; the store keeps them monotonic).
    pub fn number(&self) -> Option<&[u8]> {
        self.number.as_deref()
    }

    /// deltaCRLIndicator's BaseCRLNumber: `Some` for a delta CRL.
    pub fn delta_base(&self) -> Option<&[u8]> {
        self.delta_base.as_deref()
    }

    /// thisUpdate.
    pub fn this_update(&self) -> OffsetDateTime {
        self.this_update
    }

    /// nextUpdate, if given.
    pub fn next_update(&self) -> Option<OffsetDateTime> {
        self.next_update
    }

    /// SHA-256 of the DER.
    pub fn fingerprint(&self) -> &[u8; 32] {
        &self.fingerprint
    }

    /// Checks this CRL was signed by `signer` and is usable at `time`.
    /// `signer` must be named as the CRL issuer and have cRLSign when it has
    /// keyUsage; that the signer's own certificate is valid and chains to
    /// the right anchor is the caller's business (see [`CrlSet`]).
    ///
    /// # Errors
    /// The first failing check, as a [`CrlError`].
    pub fn validate(
        self: &Arc<Self>,
        signer: &Certificate,
        time: OffsetDateTime,
        grace: Duration,
    ) -> Result<ValidatedCrl, CrlError> {
        if let Some(oid) = &self.unknown_critical {
            return Err(CrlError::UnknownCriticalExtension { oid: oid.clone() });
        }
        // The CRL profile of §5: a non-critical cRLNumber (§5.2.3) in every CRL.
        if self.number.is_none() {
            return Err(CrlError::MissingCrlNumber);
        }
        if self.number_critical {
            return Err(CrlError::CriticalCrlNumber);
        }
        // §5.2.1 and §5.1.2.5: an authority key identifier and a nextUpdate.
        if !self.has_key_identifier {
            return Err(CrlError::MissingAuthorityKeyIdentifier);
        }
        if self.next_update.is_none() {
            return Err(CrlError::MissingNextUpdate);
        }
        if signer.subject != self.issuer || signer.key_usage.is_some_and(|k| k & ku::CRL_SIGN == 0)
        {
            return Err(CrlError::SignerNotAuthorized);
        }
        if !self.algorithms_match {
            return Err(CrlError::UnsupportedSignatureAlgorithm);
        }
        verify_signed(&self.tbs, &self.signature, &self.algorithm, signer, None).map_err(|e| {
            match e {
                PathError::BadSignature => CrlError::BadSignature,
                _ => CrlError::UnsupportedSignatureAlgorithm,
            }
        })?;
        self.check_time(time, grace)?;
        Ok(ValidatedCrl { crl: self.clone() })
    }

    fn check_time(&self, time: OffsetDateTime, grace: Duration) -> Result<(), CrlError> {
        // CRL times carry whole seconds (§5.1.2.4): compare at that precision.
        let time = time.replace_nanosecond(0).unwrap_or(time);
        if time < self.this_update {
            return Err(CrlError::NotYetValid);
        }
        if let Some(next) = self.next_update {
            // A grace that overflows the calendar means "never stale".
            if next
                .checked_add(grace)
                .is_some_and(|deadline| time > deadline)
            {
                return Err(CrlError::Stale { next_update: next });
            }
        }
        Ok(())
    }

    fn lookup(&self, serial: &[u8], issuer: &Name) -> Option<&CrlEntry> {
        self.by_serial.get(serial)?.iter().find_map(|&i| {
            let e = self.entries.get(i)?;
            e.belongs_to(issuer, &self.issuer).then_some(e)
        })
    }
}

/// A CRL whose signature, signer and freshness were checked: only
/// [`Crl::validate`] makes one, so revocation data cannot skip the checks.
#[derive(Debug, Clone)]
pub struct ValidatedCrl {
    crl: Arc<Crl>,
}

impl ValidatedCrl {
    /// The underlying CRL (number, dates, delta base).
    pub fn crl(&self) -> &Crl {
        &self.crl
    }

    /// Every entry, in CRL order (for a revocation index).
    pub fn entries(&self) -> impl Iterator<Item = &CrlEntry> {
        self.crl.entries.iter()
    }

    /// Status of a serial issued by the CRL issuer, by this CRL alone. A
    /// removeFromCRL entry reads as good here; combining a full CRL and a
    /// delta is [`status_with_delta`]'s job.
    pub fn status(&self, serial: &[u8]) -> RevocationStatus {
        combined_status(self, None, serial, &self.crl.issuer)
    }
}

/// What CRLs say about one certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationStatus {
    /// Not listed (or listed and lifted with removeFromCRL).
    Good,
    /// Listed with this reason.
    Revoked {
        /// CRL entry reason.
        reason: RevocationReason,
        /// revocationDate.
        revoked_at: OffsetDateTime,
    },
}

/// Status of `serial`, issued by the CRLs' issuer, from a full CRL and
/// optionally a delta CRL: an entry in the delta wins (removeFromCRL lifts a
/// hold), then the full CRL. `serial` is as [`Certificate::serial`].
///
/// # Errors
/// [`CrlError::DeltaMismatch`] when `full` is itself a delta, or `delta` is
/// not a delta CRL for `full` (other issuer or scope, or a BaseCRLNumber
/// above the full CRL's number).
pub fn status_with_delta(
    full: &ValidatedCrl,
    delta: Option<&ValidatedCrl>,
    serial: &[u8],
) -> Result<RevocationStatus, CrlError> {
    if full.crl.delta_base.is_some() {
        return Err(CrlError::DeltaMismatch);
    }
    if let Some(d) = delta {
        if !delta_applies(&full.crl, &d.crl) {
            return Err(CrlError::DeltaMismatch);
        }
    }
    Ok(combined_status(full, delta, serial, &full.crl.issuer))
}

/// RFC 5280 §5.2.4: same issuer and scope, and the full CRL's number at
/// least the delta's BaseCRLNumber.
fn delta_applies(full: &Crl, delta: &Crl) -> bool {
    match (full.number.as_deref(), delta.delta_base.as_deref()) {
        (Some(number), Some(base)) => {
            delta.issuer == full.issuer
                && delta.idp == full.idp
                && crl_number_cmp(number, base) != Ordering::Less
        }
        _ => false,
    }
}

/// [`status_with_delta`] for an explicit issuer (indirect CRLs), without
/// the pairing checks (callers have made them).
pub(crate) fn combined_status(
    full: &ValidatedCrl,
    delta: Option<&ValidatedCrl>,
    serial: &[u8],
    issuer: &Name,
) -> RevocationStatus {
    let entry = delta
        .and_then(|d| d.crl.lookup(serial, issuer))
        .or_else(|| full.crl.lookup(serial, issuer));
    match entry {
        None => RevocationStatus::Good,
        Some(e) if e.reason == RevocationReason::RemoveFromCrl => RevocationStatus::Good,
        Some(e) => RevocationStatus::Revoked {
            reason: e.reason,
            revoked_at: e.revoked_at,
        },
    }
}

/// Orders two CRL numbers (big-endian magnitudes).
pub fn crl_number_cmp(a: &[u8], b: &[u8]) -> Ordering {
    let a = &a[a.iter().position(|&x| x != 0).unwrap_or(a.len())..];
    let b = &b[b.iter().position(|&x| x != 0).unwrap_or(b.len())..];
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Whether `new` may replace `old` in a store: same issuer, a strictly
/// higher cRLNumber (or, without numbers, a later thisUpdate).
pub fn is_newer(old: &Crl, new: &Crl) -> bool {
    if old.issuer != new.issuer || old.delta_base.is_some() != new.delta_base.is_some() {
        return false;
    }
    match (old.number(), new.number()) {
        (Some(a), Some(b)) => crl_number_cmp(b, a) == Ordering::Greater,
        _ => new.this_update > old.this_update,
    }
}

/// The CRLs path validation consults, and the grace allowed past nextUpdate.
#[derive(Debug, Clone, Default)]
pub struct CrlSet {
    crls: Vec<Arc<Crl>>,
    grace: Duration,
}

impl CrlSet {
    /// CRLs (full and delta, any issuer), no grace.
    pub fn new(crls: Vec<Crl>) -> CrlSet {
        CrlSet {
            crls: crls.into_iter().map(Arc::new).collect(),
            grace: Duration::ZERO,
        }
    }

    /// Accept CRLs up to `grace` past their nextUpdate.
    pub fn with_grace(mut self, grace: Duration) -> CrlSet {
        self.grace = grace;
        self
    }
}

/// RFC 5280 §6.1.3 (a)(3) for every non-anchor certificate of a chain (end
/// entity first, anchor last).
/// A validator's CRLs check every chain it validates.
impl RevocationCheck for CrlSet {
    fn check_chain(
        &self,
        v: &PathValidator,
        chain: &[Arc<Certificate>],
        opts: &PathOptions,
        nest: &Nest,
        anchor_index: usize,
    ) -> Result<(), PathError> {
        check_chain(v, self, chain, opts, nest, anchor_index)
    }
}

fn check_chain(
    v: &PathValidator,
    crls: &CrlSet,
    chain: &[Arc<Certificate>],
    opts: &PathOptions,
    nest: &Nest,
    anchor_index: usize,
) -> Result<(), PathError> {
    for pair in chain.windows(2) {
        let (cert, issuer) = (&pair[0], &pair[1]);
        certificate_status(v, crls, cert, issuer, opts, nest, anchor_index)?;
    }
    Ok(())
}

/// RFC 5280 §6.3.3 for one certificate.
fn certificate_status(
    v: &PathValidator,
    crls: &CrlSet,
    cert: &Certificate,
    issuer: &Certificate,
    opts: &PathOptions,
    nest: &Nest,
    anchor_index: usize,
) -> Result<(), PathError> {
    let default_dp = [DistPoint {
        name: None,
        reasons: None,
        crl_issuer: None,
    }];
    let dps: &[DistPoint] = if cert.distribution_points.is_empty() {
        &default_dp
    } else {
        &cert.distribution_points
    };
    let mut reasons_mask = 0u16;
    let mut stale = false;
    for dp in dps {
        for crl in crls.crls.iter().filter(|c| c.delta_base.is_none()) {
            if reasons_mask == ALL_REASONS {
                break;
            }
            let Some(interim) = scope(crl, cert, dp) else {
                continue;
            };
            if interim & !reasons_mask == 0 {
                continue;
            }
            let full = match authenticate(v, crls, crl, issuer, opts, nest, anchor_index) {
                Ok(full) => full,
                Err(CrlError::Stale { .. }) => {
                    stale = true;
                    continue;
                }
                Err(_) => continue,
            };
            let delta = best_delta(v, crls, &full, issuer, opts, nest, anchor_index);
            if let RevocationStatus::Revoked { reason, .. } =
                combined_status(&full, delta.as_ref(), cert.serial(), &cert.issuer)
            {
                return Err(PathError::Revoked { reason });
            }
            reasons_mask |= interim;
        }
    }
    if reasons_mask == ALL_REASONS {
        Ok(())
    } else if stale {
        Err(PathError::RevocationDataStale)
    } else {
        Err(PathError::RevocationStatusUnknown)
    }
}

/// §6.3.3 (b): whether `crl` covers `cert` through distribution point `dp`;
/// the reasons it covers.
fn scope(crl: &Crl, cert: &Certificate, dp: &DistPoint) -> Option<u16> {
    let idp = crl.idp.clone().unwrap_or_default();
    if let Some(crl_issuers) = &dp.crl_issuer {
        let named = crl_issuers
            .iter()
            .any(|n| matches!(n, GName::Dir(d) if *d == crl.issuer));
        if !idp.indirect || !named {
            return None;
        }
    } else if crl.issuer != cert.issuer {
        return None;
    }
    if let Some(idp_name) = &idp.name {
        let idp_names = idp_name.resolve(&crl.issuer);
        let dp_names = match (&dp.name, &dp.crl_issuer) {
            (Some(name), issuers) => {
                let base = issuers
                    .iter()
                    .flatten()
                    .find_map(|n| match n {
                        GName::Dir(d) => Some(d),
                        _ => None,
                    })
                    .unwrap_or(&cert.issuer);
                name.resolve(base)
            }
            (None, Some(issuers)) => issuers.clone(),
            (None, None) => Vec::new(),
        };
        if !idp_names.iter().any(|n| dp_names.contains(n)) {
            return None;
        }
    }
    if (idp.only_user_certs && cert.is_ca())
        || (idp.only_ca_certs && !cert.is_ca())
        || idp.only_attribute_certs
    {
        return None;
    }
    let reasons = dp.reasons.unwrap_or(ALL_REASONS) & idp.only_some_reasons.unwrap_or(ALL_REASONS);
    Some(reasons & ALL_REASONS)
}

/// §6.3.3 (f)–(g): the CRL signed by the issuer's own key, or by another
/// certificate of the same issuer name with cRLSign that chains to the same
/// anchor (validated, revocation included, to a bounded depth).
fn authenticate(
    v: &PathValidator,
    crls: &CrlSet,
    crl: &Arc<Crl>,
    issuer: &Certificate,
    opts: &PathOptions,
    nest: &Nest,
    anchor_index: usize,
) -> Result<ValidatedCrl, CrlError> {
    let mut first_error = None;
    if crl.issuer == issuer.subject {
        match crl.validate(issuer, opts.time, crls.grace) {
            Ok(ok) => return Ok(ok),
            Err(e @ (CrlError::Stale { .. } | CrlError::UnknownCriticalExtension { .. })) => {
                return Err(e);
            }
            Err(e) => first_error = Some(e),
        }
    }
    {
        let others = v
            .intermediates()
            .iter()
            .chain(v.anchors())
            .filter(|c| c.subject == crl.issuer && c.fingerprint() != issuer.fingerprint());
        for signer in others {
            match crl.validate(signer, opts.time, crls.grace) {
                Ok(ok) => {
                    if nest.signers.contains(signer.fingerprint()) {
                        // Its path is being validated further up.
                        return Ok(ok);
                    }
                    if nest.depth >= MAX_SIGNER_DEPTH {
                        continue;
                    }
                    let mut inner = nest.clone();
                    inner.depth += 1;
                    inner.signers.push(*signer.fingerprint());
                    let signer_opts = PathOptions::at(opts.time);
                    if v.validate_inner(signer, &signer_opts, &inner, Some(anchor_index))
                        .is_ok()
                    {
                        return Ok(ok);
                    }
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
    }
    Err(first_error.unwrap_or(CrlError::SignerNotAuthorized))
}

/// §6.3.3 (c): the newest usable delta CRL for `full`: same issuer and
/// scope, BaseCRLNumber not above the full CRL's number.
fn best_delta(
    v: &PathValidator,
    crls: &CrlSet,
    full: &ValidatedCrl,
    issuer: &Certificate,
    opts: &PathOptions,
    nest: &Nest,
    anchor_index: usize,
) -> Option<ValidatedCrl> {
    let mut best: Option<ValidatedCrl> = None;
    for d in &crls.crls {
        if !delta_applies(&full.crl, d) {
            continue;
        }
        let Ok(valid) = authenticate(v, crls, d, issuer, opts, nest, anchor_index) else {
            continue;
        };
        let newer = match (&best, valid.crl.number()) {
            (None, _) => true,
            (Some(b), Some(n)) => {
                crl_number_cmp(n, b.crl.number().unwrap_or(&[])) == Ordering::Greater
            }
            (Some(_), None) => false,
        };
        if newer {
            best = Some(valid);
        }
    }
    best
}

/// Content of a DER INTEGER that must be non-negative, as a big-endian
/// magnitude without leading zeros (at most 20 octets, RFC 5280 §5.2.3).
fn der_unsigned_integer(der: &[u8]) -> Option<Vec<u8>> {
    let (&tag, rest) = der.split_first()?;
    let (&len, rest) = rest.split_first()?;
    if tag != 0x02 || len & 0x80 != 0 || rest.len() != usize::from(len) || rest.is_empty() {
        return None;
    }
    if rest[0] & 0x80 != 0 || rest.len() > 21 {
        return None;
    }
    Some(canonical_serial(rest))
}

pub(crate) fn looks_like_pem(bytes: &[u8]) -> bool {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    bytes[start..].starts_with(b"-----BEGIN")
}

#[cfg(test)]
mod tests {
    use rcgen::KeyUsagePurpose;
    use time::macros::datetime;

    use super::*;
    use crate::devkit::test_pki::{
        CrlSpec, EntrySpec, TestCa, crl_issuer_distribution_point, params,
    };

    fn now() -> OffsetDateTime {
        datetime!(2025-04-01 01:00 UTC)
    }

    struct Pki {
        root: TestCa,
        int: TestCa,
        ee: TestCa,
    }

    fn pki() -> Pki {
        let root = TestCa::self_signed(params("Root", true, now()));
        let int = root.issue(params("Intermediate", true, now()));
        let ee = int.issue(params("EE", false, now()));
        Pki { root, int, ee }
    }

    fn cert(ca: &TestCa) -> Certificate {
        Certificate::from_der(&ca.cert_der).expect("parses")
    }

    fn crl(der: &[u8]) -> Crl {
        Crl::from_der(der).expect("CRL parses")
    }

    /// Validates the EE of `pki` with these CRLs (revocation required).
    fn check(
        pki: &Pki,
        crls: Vec<Vec<u8>>,
        extra: &[&TestCa],
        grace: Duration,
    ) -> Result<(), PathError> {
        let mut pool = vec![cert(&pki.int)];
        pool.extend(extra.iter().map(|c| cert(c)));
        let set = CrlSet::new(crls.iter().map(|d| crl(d)).collect()).with_grace(grace);
        PathValidator::new(vec![cert(&pki.root)], pool)
            .with_crls(set)
            .validate(&Arc::new(cert(&pki.ee)), &PathOptions::at(now()))
            .map(|_| ())
    }

    fn clean(ca: &TestCa) -> Vec<u8> {
        ca.crl(&CrlSpec::full(now()))
    }

    #[test]
    fn path_with_clean_crls_for_every_certificate_validates() {
        let p = pki();
        check(&p, vec![clean(&p.root), clean(&p.int)], &[], Duration::ZERO).expect("valid");
    }

    #[test]
    fn certificate_without_applicable_crl_has_unknown_status() {
        let p = pki();
        // Nothing for the intermediate from the root.
        let err = check(&p, vec![clean(&p.int)], &[], Duration::ZERO).unwrap_err();
        assert_eq!(err, PathError::RevocationStatusUnknown);
        assert_eq!(err.reason(), "revocation_status_unknown");
    }

    #[test]
    fn end_entity_revoked_by_full_crl() {
        let p = pki();
        let mut spec = CrlSpec::full(now());
        spec.entries.push(EntrySpec::revoked(p.ee.serial(), 1));
        let err = check(
            &p,
            vec![clean(&p.root), p.int.crl(&spec)],
            &[],
            Duration::ZERO,
        )
        .unwrap_err();
        assert_eq!(
            err,
            PathError::Revoked {
                reason: RevocationReason::KeyCompromise
            }
        );
        assert_eq!(err.reason(), "revoked");
    }

    #[test]
    fn intermediate_revoked_by_the_roots_crl() {
        let p = pki();
        let mut spec = CrlSpec::full(now());
        spec.entries.push(EntrySpec::revoked(p.int.serial(), 2));
        let err = check(
            &p,
            vec![p.root.crl(&spec), clean(&p.int)],
            &[],
            Duration::ZERO,
        )
        .unwrap_err();
        assert_eq!(
            err,
            PathError::Revoked {
                reason: RevocationReason::CaCompromise
            }
        );
    }

    #[test]
    fn crl_signed_by_a_key_without_crl_sign_is_not_used() {
        let root = TestCa::self_signed(params("Root", true, now()));
        let mut ip = params("Intermediate", true, now());
        ip.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        let int = root.issue(ip);
        let ee = int.issue(params("EE", false, now()));
        let p = Pki { root, int, ee };
        let err = check(&p, vec![clean(&p.root), clean(&p.int)], &[], Duration::ZERO).unwrap_err();
        assert_eq!(err, PathError::RevocationStatusUnknown);
        // Directly, the CRL reports why.
        let c = Arc::new(crl(&clean(&p.int)));
        assert_eq!(
            c.validate(&cert(&p.int), now(), Duration::ZERO)
                .unwrap_err(),
            CrlError::SignerNotAuthorized
        );
    }

    #[test]
    fn stale_crl_is_refused_unless_within_grace() {
        let p = pki();
        let mut spec = CrlSpec::full(now());
        spec.this_update = now() - Duration::days(10);
        spec.next_update = Some(now() - Duration::hours(2));
        let crls = || vec![clean(&p.root), p.int.crl(&spec)];
        let err = check(&p, crls(), &[], Duration::ZERO).unwrap_err();
        assert_eq!(err, PathError::RevocationDataStale);
        assert_eq!(err.reason(), "revocation_data_stale");
        check(&p, crls(), &[], Duration::hours(3)).expect("within grace");
    }

    #[test]
    fn crl_with_unknown_critical_extension_is_not_used() {
        let p = pki();
        let mut spec = CrlSpec::full(now());
        spec.unknown_critical = true;
        assert_eq!(
            check(
                &p,
                vec![clean(&p.root), p.int.crl(&spec)],
                &[],
                Duration::ZERO
            )
            .unwrap_err(),
            PathError::RevocationStatusUnknown
        );
        let mut spec = CrlSpec::full(now());
        spec.entries.push(EntrySpec {
            unknown_critical: true,
            ..EntrySpec::revoked(vec![0x42], 0)
        });
        assert_eq!(
            check(
                &p,
                vec![clean(&p.root), p.int.crl(&spec)],
                &[],
                Duration::ZERO
            )
            .unwrap_err(),
            PathError::RevocationStatusUnknown
        );
    }

    #[test]
    fn crl_breaking_the_crl_profile_is_not_used() {
        let p = pki();
        let mut unnumbered = CrlSpec::full(now());
        unnumbered.number = None;
        let mut critical = CrlSpec::full(now());
        critical.number_critical = true;
        let mut no_key_id = CrlSpec::full(now());
        no_key_id.authority_key_identifier = false;
        let mut no_next = CrlSpec::full(now());
        no_next.next_update = None;
        for (spec, expected) in [
            (unnumbered, CrlError::MissingCrlNumber),
            (critical, CrlError::CriticalCrlNumber),
            (no_key_id, CrlError::MissingAuthorityKeyIdentifier),
            (no_next, CrlError::MissingNextUpdate),
        ] {
            let der = p.int.crl(&spec);
            let err =
                check(&p, vec![clean(&p.root), der.clone()], &[], Duration::ZERO).unwrap_err();
            assert_eq!(err, PathError::RevocationStatusUnknown);
            // Directly, the CRL reports why.
            let c = Arc::new(crl(&der));
            assert_eq!(
                c.validate(&cert(&p.int), now(), Duration::ZERO)
                    .unwrap_err(),
                expected
            );
        }
        assert_eq!(CrlError::MissingCrlNumber.reason(), "crl_number_missing");
        assert_eq!(CrlError::CriticalCrlNumber.reason(), "crl_number_critical");
        assert_eq!(
            CrlError::MissingAuthorityKeyIdentifier.reason(),
            "crl_authority_key_identifier_missing"
        );
        assert_eq!(
            CrlError::MissingNextUpdate.reason(),
            "crl_next_update_missing"
        );
    }

    #[test]
    fn crl_times_are_compared_in_whole_seconds() {
        let p = pki();
        let mut spec = CrlSpec::full(now());
        spec.next_update = Some(now());
        let c = Arc::new(crl(&p.int.crl(&spec)));
        // 0.999 s past nextUpdate is still nextUpdate's second.
        let within = now() + Duration::milliseconds(999);
        c.validate(&cert(&p.int), within, Duration::ZERO)
            .expect("fresh within nextUpdate's second");
        assert!(matches!(
            c.validate(&cert(&p.int), now() + Duration::seconds(1), Duration::ZERO),
            Err(CrlError::Stale { .. })
        ));
    }

    fn delta(base: u64, number: u64) -> CrlSpec {
        let mut spec = CrlSpec::full(now());
        spec.number = Some(number);
        spec.delta_base = Some(base);
        spec
    }

    #[test]
    fn end_entity_revoked_by_delta_crl() {
        let p = pki();
        let mut d = delta(1, 2);
        d.entries.push(EntrySpec::revoked(p.ee.serial(), 4));
        let err = check(
            &p,
            vec![clean(&p.root), clean(&p.int), p.int.crl(&d)],
            &[],
            Duration::ZERO,
        )
        .unwrap_err();
        assert_eq!(
            err,
            PathError::Revoked {
                reason: RevocationReason::Superseded
            }
        );
        // A delta whose base is newer than the full CRL does not apply.
        let mut d = delta(5, 6);
        d.entries.push(EntrySpec::revoked(p.ee.serial(), 4));
        check(
            &p,
            vec![clean(&p.root), clean(&p.int), p.int.crl(&d)],
            &[],
            Duration::ZERO,
        )
        .expect("delta not applicable");
        // A delta alone is not enough.
        let mut d = delta(1, 2);
        d.entries.clear();
        assert_eq!(
            check(&p, vec![clean(&p.root), p.int.crl(&d)], &[], Duration::ZERO).unwrap_err(),
            PathError::RevocationStatusUnknown
        );
    }

    #[test]
    fn certificate_hold_then_remove_from_crl_in_a_delta() {
        let p = pki();
        let mut full = CrlSpec::full(now());
        full.entries.push(EntrySpec::revoked(p.ee.serial(), 6));
        let held = check(
            &p,
            vec![clean(&p.root), p.int.crl(&full)],
            &[],
            Duration::ZERO,
        )
        .unwrap_err();
        assert_eq!(
            held,
            PathError::Revoked {
                reason: RevocationReason::CertificateHold
            }
        );
        let mut d = delta(1, 2);
        d.entries.push(EntrySpec::revoked(p.ee.serial(), 8));
        check(
            &p,
            vec![clean(&p.root), p.int.crl(&full), p.int.crl(&d)],
            &[],
            Duration::ZERO,
        )
        .expect("hold lifted");
    }

    #[test]
    fn indirect_crl_from_a_separate_crl_issuer() {
        let root = TestCa::self_signed(params("Root", true, now()));
        let int = root.issue(params("Intermediate", true, now()));
        let mut cp = params("CRL Issuer", false, now());
        cp.key_usages = vec![KeyUsagePurpose::CrlSign];
        let crl_issuer = root.issue(cp);
        let mut ep = params("EE", false, now());
        ep.custom_extensions
            .push(crl_issuer_distribution_point(&crl_issuer.subject_der()));
        let ee = int.issue(ep);
        let p = Pki { root, int, ee };
        let mut spec = CrlSpec::full(now());
        spec.indirect = true;
        let entry = |serial: Vec<u8>| EntrySpec {
            certificate_issuer: Some(p.int.subject_der()),
            ..EntrySpec::revoked(serial, 1)
        };
        spec.entries.push(entry(vec![0x7f]));
        let crls = |spec: &CrlSpec| {
            vec![
                clean(&p.root),
                p.root.crl(&CrlSpec::full(now())),
                crl_issuer.crl(spec),
            ]
        };
        check(&p, crls(&spec), &[&crl_issuer], Duration::ZERO).expect("not listed");
        spec.entries.push(entry(p.ee.serial()));
        assert_eq!(
            check(&p, crls(&spec), &[&crl_issuer], Duration::ZERO).unwrap_err(),
            PathError::Revoked {
                reason: RevocationReason::KeyCompromise
            }
        );
        // Without indirectCRL in the CRL, it is not in scope.
        spec.indirect = false;
        assert_eq!(
            check(&p, crls(&spec), &[&crl_issuer], Duration::ZERO).unwrap_err(),
            PathError::RevocationStatusUnknown
        );
    }

    #[test]
    fn user_only_crl_does_not_cover_a_ca() {
        let p = pki();
        let mut spec = CrlSpec::full(now());
        spec.only_user_certs = true;
        assert_eq!(
            check(
                &p,
                vec![p.root.crl(&spec), clean(&p.int)],
                &[],
                Duration::ZERO
            )
            .unwrap_err(),
            PathError::RevocationStatusUnknown
        );
        let mut spec = CrlSpec::full(now());
        spec.only_ca_certs = true;
        check(
            &p,
            vec![p.root.crl(&spec), clean(&p.int)],
            &[],
            Duration::ZERO,
        )
        .expect("CA-only CRL covers the CA");
    }

    #[test]
    fn validated_crl_exposes_number_entries_and_status() {
        let p = pki();
        let mut spec = CrlSpec::full(now());
        spec.number = Some(300);
        spec.entries.push(EntrySpec::revoked(p.ee.serial(), 6));
        let c = Arc::new(crl(&p.int.crl(&spec)));
        assert_eq!(c.number(), Some(&[0x01, 0x2c][..]));
        assert_eq!(c.delta_base(), None);
        let v = c
            .validate(&cert(&p.int), now(), Duration::ZERO)
            .expect("valid CRL");
        let entries: Vec<_> = v.entries().collect();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].reason(), RevocationReason::CertificateHold);
        assert!(matches!(
            v.status(cert(&p.ee).serial()),
            RevocationStatus::Revoked {
                reason: RevocationReason::CertificateHold,
                ..
            }
        ));
        assert_eq!(v.status(&[0x01]), RevocationStatus::Good);
        // Another issuer's key does not validate it.
        assert_eq!(
            c.validate(&cert(&p.root), now(), Duration::ZERO)
                .unwrap_err(),
            CrlError::SignerNotAuthorized
        );
        assert!(!format!("{c:?}").contains("Intermediate"));
    }

    #[test]
    fn full_and_delta_combine_for_an_index_and_mismatched_pairs_are_refused() {
        let p = pki();
        let signer = cert(&p.int);
        let validated = |spec: &CrlSpec| {
            Arc::new(crl(&p.int.crl(spec)))
                .validate(&signer, now(), Duration::ZERO)
                .expect("valid")
        };
        let mut full = CrlSpec::full(now());
        full.number = Some(10);
        full.entries.push(EntrySpec::revoked(p.ee.serial(), 6));
        let full = validated(&full);
        let mut lift = delta(10, 11);
        lift.entries.push(EntrySpec::revoked(p.ee.serial(), 8));
        let lift = validated(&lift);
        let serial = cert(&p.ee).serial().to_vec();
        assert!(matches!(
            status_with_delta(&full, None, &serial),
            Ok(RevocationStatus::Revoked { .. })
        ));
        assert_eq!(
            status_with_delta(&full, Some(&lift), &serial),
            Ok(RevocationStatus::Good)
        );
        let too_new = validated(&delta(12, 13));
        assert_eq!(
            status_with_delta(&full, Some(&too_new), &serial),
            Err(CrlError::DeltaMismatch)
        );
        assert_eq!(
            status_with_delta(&lift, None, &serial),
            Err(CrlError::DeltaMismatch)
        );
        let entry = full.entries().next().expect("entry");
        let magnitude = entry.serial_magnitude().expect("positive");
        assert_eq!(magnitude.first().map(|b| *b != 0), Some(true));
        assert!(serial.ends_with(magnitude));
    }

    #[test]
    fn crl_numbers_order_and_newer_crls_replace_older() {
        assert_eq!(crl_number_cmp(&[0, 5], &[5]), Ordering::Equal);
        assert_eq!(crl_number_cmp(&[1, 0], &[0xff]), Ordering::Greater);
        assert_eq!(crl_number_cmp(&[2], &[3]), Ordering::Less);
        let p = pki();
        let old = crl(&clean(&p.int));
        let mut spec = CrlSpec::full(now());
        spec.number = Some(2);
        let new = crl(&p.int.crl(&spec));
        assert!(is_newer(&old, &new));
        assert!(!is_newer(&new, &old));
        assert!(!is_newer(&old, &crl(&clean(&p.root))), "other issuer");
    }

    #[test]
    fn pem_and_der_files_both_load_and_garbage_never_panics() {
        let p = pki();
        let der = clean(&p.int);
        let b64 = {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(&der)
        };
        let text = format!("-----BEGIN X509 CRL-----\n{b64}\n-----END X509 CRL-----\n");
        assert_eq!(Crl::from_file_bytes(text.as_bytes()).expect("PEM").len(), 1);
        assert_eq!(Crl::from_file_bytes(&der).expect("DER").len(), 1);
        for cut in 0..der.len() {
            let _ = Crl::from_der(&der[..cut]);
        }
        for i in 0..der.len() {
            let mut d = der.clone();
            d[i] ^= 0x55;
            let _ = Crl::from_der(&d);
        }
    }
}
