//! A streaming reader for DER CRLs (RFC 5280 §5) sized for national CRLs:
//! it walks `revokedCertificates` entry by entry without allocating, picks
//! out what revocation needs (serial, reasonCode, certificateIssuer, unknown
//! critical entry extensions), and hands the TBS to `ring` for the signature.
//!
//! The rule it keeps: the bytes are untrusted. Every read is bounds-checked
//! (`get`, checked arithmetic), lengths are definite and minimal, tags are
//! single-byte, nothing recurses, nothing panics, and trailing data is
//! refused. Errors name the structure that failed, never a serial.
//!
//! What it does not decide: whether this CRL is in scope for a certificate
//! (issuer, IDP, delta base), which is path validation's (`pki::path`,
//! `pki::crl`). It reports the metadata those checks need.

use std::borrow::Cow;

use time::OffsetDateTime;

use super::{
    Change, CrlInfo, MAX_INDEX_ENTRIES, Reason, RevocationIndex, RevocationIndexBuilder, Serial,
};
use crate::gateway::pki::signature::{self, CertificateSignatureAlgorithm};

/// Largest CRL accepted: 2 GiB, well above 10 million entries (~400 MB).
pub const MAX_CRL_SIZE: usize = 2 << 30;

/// Why a CRL was refused. No variant carries a serial.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrlLoadError {
    /// Not DER, truncated, trailing data, or a field of the wrong type.
    #[error("CRL is malformed")]
    Malformed,
    /// Larger than [`MAX_CRL_SIZE`] or more than the index holds.
    #[error("CRL is too large")]
    TooLarge,
    /// PEM armour without a CRL inside.
    #[error("PEM file holds no X509 CRL")]
    Pem,
    /// Not a v2 CRL (v1 has no extensions, so no CRL number or reasons).
    #[error("CRL version is not v2")]
    Version,
    /// The signature algorithm is not one `ring` verifies here, or the inner
    /// and outer algorithms differ.
    #[error("CRL signature algorithm is unsupported or inconsistent")]
    UnsupportedAlgorithm,
    /// The signature does not verify with the issuer's key.
    #[error("CRL signature does not verify")]
    SignatureInvalid,
    /// A critical CRL extension this reader does not know.
    #[error("CRL has an unknown critical extension")]
    UnknownCriticalExtension,
    /// An entry has a critical extension this reader does not know.
    #[error("CRL entry {index} has an unknown critical extension")]
    UnknownCriticalEntryExtension {
        /// Position of the entry (not its serial).
        index: usize,
    },
    /// An entry names another certificate issuer (indirect CRL), which this
    /// store does not support.
    #[error("CRL entry {index} names a certificate issuer (indirect CRL)")]
    IndirectCrl {
        /// Position of the entry.
        index: usize,
    },
    /// A delta CRL's entry that is not a serial we can store.
    #[error("CRL entry {index} has an invalid reason code")]
    InvalidReason {
        /// Position of the entry.
        index: usize,
    },
    /// The stored copy's digest differs from the one recorded at import.
    #[error("stored CRL does not match its recorded digest")]
    StoredDigest,
    /// The CRL breaks the profile of RFC 5280 §5 that path validation
    /// keeps too (`Crl::validate`): `reason` is the same stable reason —
    /// `crl_number_missing`, `crl_number_critical`,
    /// `crl_authority_key_identifier_missing`, `crl_next_update_missing`.
    #[error("CRL breaks the RFC 5280 profile: {reason}")]
    Profile {
        /// The path validator's reason for the same defect.
        reason: &'static str,
    },
}

type R<T> = Result<T, CrlLoadError>;

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const BOOLEAN: u8 = 0x01;
const ENUMERATED: u8 = 0x0a;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
const CONTEXT_0: u8 = 0xa0;

// id-ce extensions (2.5.29.n): content octets 55 1d n.
const ID_CE: [u8; 2] = [0x55, 0x1d];
const EXT_CRL_NUMBER: u8 = 20;
const EXT_REASON_CODE: u8 = 21;
const EXT_INVALIDITY_DATE: u8 = 24;
const EXT_DELTA_CRL_INDICATOR: u8 = 27;
const EXT_ISSUING_DISTRIBUTION_POINT: u8 = 28;
const EXT_CERTIFICATE_ISSUER: u8 = 29;
const EXT_AUTHORITY_KEY_IDENTIFIER: u8 = 35;
const EXT_FRESHEST_CRL: u8 = 46;

/// A cursor over DER; every method is bounds-checked.
#[derive(Clone, Copy)]
struct Der<'a> {
    data: &'a [u8],
}

impl<'a> Der<'a> {
    fn new(data: &'a [u8]) -> Self {
        Der { data }
    }

    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    fn peek_tag(&self) -> Option<u8> {
        self.data.first().copied()
    }

    /// Reads one TLV; returns (tag, content, whole TLV).
    #[inline]
    fn read_any(&mut self) -> R<(u8, &'a [u8], &'a [u8])> {
        let d = self.data;
        let tag = *d.first().ok_or(CrlLoadError::Malformed)?;
        if tag & 0x1f == 0x1f {
            return Err(CrlLoadError::Malformed); // high tag numbers: not in a CRL
        }
        let first = *d.get(1).ok_or(CrlLoadError::Malformed)?;
        let (len, header) = if first < 0x80 {
            (first as usize, 2)
        } else {
            let n = (first & 0x7f) as usize;
            if n == 0 || n > 4 {
                return Err(CrlLoadError::Malformed); // indefinite, or > 4 GiB
            }
            let bytes = d.get(2..2 + n).ok_or(CrlLoadError::Malformed)?;
            if bytes.first() == Some(&0) {
                return Err(CrlLoadError::Malformed); // not minimal
            }
            let len = bytes.iter().fold(0usize, |a, &b| (a << 8) | b as usize);
            if len < 0x80 {
                return Err(CrlLoadError::Malformed); // not minimal
            }
            (len, 2 + n)
        };
        let end = header.checked_add(len).ok_or(CrlLoadError::Malformed)?;
        let whole = d.get(..end).ok_or(CrlLoadError::Malformed)?;
        let content = whole.get(header..).ok_or(CrlLoadError::Malformed)?;
        self.data = d.get(end..).ok_or(CrlLoadError::Malformed)?;
        Ok((tag, content, whole))
    }

    #[inline]
    fn read(&mut self, tag: u8) -> R<&'a [u8]> {
        let (t, content, _) = self.read_any()?;
        if t != tag {
            return Err(CrlLoadError::Malformed);
        }
        Ok(content)
    }

    fn read_optional(&mut self, tag: u8) -> R<Option<&'a [u8]>> {
        if self.peek_tag() == Some(tag) {
            self.read(tag).map(Some)
        } else {
            Ok(None)
        }
    }

    fn finish(&self) -> R<()> {
        if self.data.is_empty() {
            Ok(())
        } else {
            Err(CrlLoadError::Malformed)
        }
    }
}

/// Full CRL or delta CRL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrlKind {
    /// A complete CRL.
    Full,
    /// A delta CRL (deltaCRLIndicator present) against the base CRL with
    /// this number (big-endian magnitude).
    Delta {
        /// BaseCRLNumber.
        base_number: Vec<u8>,
    },
}

/// TBSCertList fields other than the entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlMeta<'a> {
    /// The issuer Name, DER (whole TLV).
    pub issuer_der: &'a [u8],
    pub this_update: OffsetDateTime,
    pub next_update: Option<OffsetDateTime>,
    /// cRLNumber, big-endian magnitude without leading zeros.
    pub crl_number: Option<Vec<u8>>,
    pub kind: CrlKind,
    /// issuingDistributionPoint extension value (DER), for scope checks.
    pub issuing_distribution_point: Option<&'a [u8]>,
    /// authorityKeyIdentifier keyIdentifier, when present.
    pub authority_key_id: Option<&'a [u8]>,
}

/// A parsed CRL envelope: metadata, the signed bytes, and the entries still
/// to walk (see [`CrlEntries::entries`]).
#[derive(Debug, Clone)]
pub struct CrlEntries<'a> {
    pub meta: CrlMeta<'a>,
    /// The DER TBSCertList (what the signature covers).
    pub tbs: &'a [u8],
    /// signatureAlgorithm, DER AlgorithmIdentifier.
    pub signature_algorithm: &'a [u8],
    /// signatureValue, whole bytes.
    pub signature: &'a [u8],
    revoked: &'a [u8],
}

/// One revokedCertificates entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevokedEntry {
    /// `None` for a serial no certificate we accept can have (zero,
    /// negative, over 20 bytes): such entries can match nothing, so the
    /// loader skips them instead of refusing a whole national CRL.
    pub serial: Option<Serial>,
    pub reason: Option<Reason>,
    /// certificateIssuer present (indirect CRL).
    pub certificate_issuer: bool,
    /// A critical entry extension this reader does not know.
    pub unknown_critical: bool,
}

/// Parses a CRL (DER) down to its entries, without walking them: the
/// envelope, version v2, matching signature algorithms, times, CRL
/// extensions (unknown critical ones refused). Never panics.
///
/// # Errors
/// [`CrlLoadError`] for anything malformed or unsupported.
pub fn parse_crl_entries(der: &[u8]) -> R<CrlEntries<'_>> {
    if der.len() > MAX_CRL_SIZE {
        return Err(CrlLoadError::TooLarge);
    }
    let mut outer = Der::new(der);
    let list = outer.read(SEQUENCE)?;
    outer.finish()?;
    let mut list = Der::new(list);
    let (tag, tbs_content, tbs) = list.read_any()?;
    if tag != SEQUENCE {
        return Err(CrlLoadError::Malformed);
    }
    let (tag, _, signature_algorithm) = list.read_any()?;
    if tag != SEQUENCE {
        return Err(CrlLoadError::Malformed);
    }
    let bits = list.read(BIT_STRING)?;
    list.finish()?;
    let signature = match bits.split_first() {
        Some((0, rest)) => rest,
        _ => return Err(CrlLoadError::Malformed),
    };

    let mut t = Der::new(tbs_content);
    match t.read_optional(INTEGER)? {
        Some([1]) => {}
        _ => return Err(CrlLoadError::Version),
    }
    let (tag, _, inner_alg) = t.read_any()?;
    if tag != SEQUENCE {
        return Err(CrlLoadError::Malformed);
    }
    if inner_alg != signature_algorithm {
        return Err(CrlLoadError::UnsupportedAlgorithm);
    }
    let (tag, _, issuer_der) = t.read_any()?;
    if tag != SEQUENCE {
        return Err(CrlLoadError::Malformed);
    }
    let this_update = read_time(&mut t)?;
    let next_update = match t.peek_tag() {
        Some(UTC_TIME | GENERALIZED_TIME) => Some(read_time(&mut t)?),
        _ => None,
    };
    let revoked = t.read_optional(SEQUENCE)?.unwrap_or_default();
    let mut meta = CrlMeta {
        issuer_der,
        this_update,
        next_update,
        crl_number: None,
        kind: CrlKind::Full,
        issuing_distribution_point: None,
        authority_key_id: None,
    };
    if let Some(exts) = t.read_optional(CONTEXT_0)? {
        let mut exts = Der::new(exts);
        let list = exts.read(SEQUENCE)?;
        exts.finish()?;
        read_crl_extensions(list, &mut meta)?;
    }
    // The profile of §5, as path validation keeps it: a CRL is numbered
    // (cRLNumber, non-critical), names its signing key
    // (authorityKeyIdentifier keyIdentifier) and says when the next comes.
    if meta.crl_number.is_none() {
        return Err(CrlLoadError::Profile {
            reason: "crl_number_missing",
        });
    }
    if meta.authority_key_id.is_none() {
        return Err(CrlLoadError::Profile {
            reason: "crl_authority_key_identifier_missing",
        });
    }
    if meta.next_update.is_none() {
        return Err(CrlLoadError::Profile {
            reason: "crl_next_update_missing",
        });
    }
    t.finish()?;
    Ok(CrlEntries {
        meta,
        tbs,
        signature_algorithm,
        signature,
        revoked,
    })
}

fn read_crl_extensions<'a>(list: &'a [u8], meta: &mut CrlMeta<'a>) -> R<()> {
    let mut list = Der::new(list);
    let mut seen: u64 = 0;
    while !list.is_empty() {
        let (oid, critical, value) = read_extension(&mut list)?;
        let id = match oid {
            [a, b, n] if [*a, *b] == ID_CE && *n < 64 => Some(*n),
            _ => None,
        };
        if let Some(n) = id {
            if seen & (1 << n) != 0 {
                return Err(CrlLoadError::Malformed); // duplicate extension
            }
            seen |= 1 << n;
        }
        match id {
            Some(EXT_CRL_NUMBER) => {
                if critical {
                    return Err(CrlLoadError::Profile {
                        reason: "crl_number_critical",
                    });
                }
                let mut v = Der::new(value);
                meta.crl_number = Some(read_number(v.read(INTEGER)?)?);
                v.finish()?;
            }
            Some(EXT_DELTA_CRL_INDICATOR) => {
                let mut v = Der::new(value);
                let base_number = read_number(v.read(INTEGER)?)?;
                v.finish()?;
                meta.kind = CrlKind::Delta { base_number };
            }
            Some(EXT_ISSUING_DISTRIBUTION_POINT) => meta.issuing_distribution_point = Some(value),
            Some(EXT_AUTHORITY_KEY_IDENTIFIER) => {
                let mut v = Der::new(value);
                let aki = v.read(SEQUENCE)?;
                v.finish()?;
                meta.authority_key_id = Der::new(aki).read_optional(0x80)?;
            }
            Some(EXT_FRESHEST_CRL) => {}
            _ if critical => return Err(CrlLoadError::UnknownCriticalExtension),
            _ => {}
        }
    }
    Ok(())
}

/// A non-negative INTEGER of at most 20 bytes, as magnitude.
fn read_number(content: &[u8]) -> R<Vec<u8>> {
    match content.first() {
        None => Err(CrlLoadError::Malformed),
        Some(&b) if b & 0x80 != 0 => Err(CrlLoadError::Malformed),
        Some(_) => {
            let start = content
                .iter()
                .position(|&b| b != 0)
                .unwrap_or(content.len());
            let m = content.get(start..).unwrap_or_default();
            if m.len() > 20 {
                return Err(CrlLoadError::Malformed);
            }
            Ok(m.to_vec())
        }
    }
}

/// Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue }
#[inline]
fn read_extension<'a>(list: &mut Der<'a>) -> R<(&'a [u8], bool, &'a [u8])> {
    let mut e = Der::new(list.read(SEQUENCE)?);
    let oid = e.read(OID)?;
    let critical = match e.read_optional(BOOLEAN)? {
        None => false,
        Some([0xff]) => true,
        // DER: DEFAULT FALSE is omitted, TRUE is 0xff.
        Some(_) => return Err(CrlLoadError::Malformed),
    };
    let value = e.read(OCTET_STRING)?;
    e.finish()?;
    Ok((oid, critical, value))
}

fn read_time(d: &mut Der<'_>) -> R<OffsetDateTime> {
    let (tag, content, _) = d.read_any()?;
    let digits = |s: &[u8]| -> R<i64> {
        s.iter().try_fold(0i64, |a, &c| {
            if c.is_ascii_digit() {
                Ok(a * 10 + i64::from(c - b'0'))
            } else {
                Err(CrlLoadError::Malformed)
            }
        })
    };
    let (year, rest) = match (tag, content.len()) {
        // RFC 5280 §4.1.2.5.1: YYMMDDHHMMSSZ, 50..99 → 19xx.
        (UTC_TIME, 13) => {
            let yy = digits(content.get(..2).ok_or(CrlLoadError::Malformed)?)?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &content[2..])
        }
        (GENERALIZED_TIME, 15) => (
            digits(content.get(..4).ok_or(CrlLoadError::Malformed)?)?,
            &content[4..],
        ),
        _ => return Err(CrlLoadError::Malformed),
    };
    if rest.last() != Some(&b'Z') {
        return Err(CrlLoadError::Malformed);
    }
    let f = |r: std::ops::Range<usize>| -> R<i64> {
        digits(rest.get(r).ok_or(CrlLoadError::Malformed)?)
    };
    let month = time::Month::try_from(f(0..2)? as u8).map_err(|_| CrlLoadError::Malformed)?;
    let date = time::Date::from_calendar_date(year as i32, month, f(2..4)? as u8)
        .map_err(|_| CrlLoadError::Malformed)?;
    let tod = time::Time::from_hms(f(4..6)? as u8, f(6..8)? as u8, f(8..10)? as u8)
        .map_err(|_| CrlLoadError::Malformed)?;
    Ok(date.with_time(tod).assume_utc())
}

impl<'a> CrlEntries<'a> {
    /// The entries, in CRL order. The iterator stops after the first error.
    pub fn entries(&self) -> EntryIter<'a> {
        EntryIter {
            list: Der::new(self.revoked),
            index: 0,
            failed: false,
        }
    }

    /// Size of the revokedCertificates content, in bytes (for reserving).
    pub fn revoked_bytes(&self) -> usize {
        self.revoked.len()
    }

    /// Verifies the signature over the TBS with `ring`, against the CRL
    /// issuer's SubjectPublicKeyInfo (RSA PKCS#1 SHA-256/384/512, ECDSA
    /// P-256/P-384).
    ///
    /// # Errors
    /// [`CrlLoadError::UnsupportedAlgorithm`] or [`CrlLoadError::SignatureInvalid`].
    pub fn verify_signature(&self, issuer_spki_der: &[u8]) -> R<()> {
        use x509_parser::prelude::FromDer;
        let alg =
            match x509_parser::x509::AlgorithmIdentifier::from_der(self.signature_algorithm) {
                Ok(([], id)) => CertificateSignatureAlgorithm::from_identifier(&id),
                _ => None,
            }
            .ok_or(CrlLoadError::UnsupportedAlgorithm)?;
        signature::verify_certificate_signature(issuer_spki_der, alg, self.tbs, self.signature)
            .map_err(|_| CrlLoadError::SignatureInvalid)
    }

    /// The metadata the store keeps.
    pub fn info(&self) -> CrlInfo {
        CrlInfo {
            number: self.meta.crl_number.clone(),
            this_update: self.meta.this_update,
            next_update: self.meta.next_update,
        }
    }
}

/// Walks revokedCertificates; see [`CrlEntries::entries`].
pub struct EntryIter<'a> {
    list: Der<'a>,
    index: usize,
    failed: bool,
}

impl EntryIter<'_> {
    #[inline]
    fn read_entry(&mut self) -> R<RevokedEntry> {
        let mut e = Der::new(self.list.read(SEQUENCE)?);
        let serial = Serial::from_der_integer(e.read(INTEGER)?).ok();
        match e.peek_tag() {
            Some(UTC_TIME | GENERALIZED_TIME) => {
                e.read_any()?;
            }
            _ => return Err(CrlLoadError::Malformed),
        }
        let mut entry = RevokedEntry {
            serial,
            reason: None,
            certificate_issuer: false,
            unknown_critical: false,
        };
        if let Some(exts) = e.read_optional(SEQUENCE)? {
            let mut exts = Der::new(exts);
            let mut seen = 0u64;
            while !exts.is_empty() {
                let (oid, critical, value) = read_extension(&mut exts)?;
                let id = match oid {
                    [a, b, n] if [*a, *b] == ID_CE && *n < 64 => Some(*n),
                    _ => None,
                };
                if let Some(n) = id {
                    if seen & (1 << n) != 0 {
                        return Err(CrlLoadError::Malformed);
                    }
                    seen |= 1 << n;
                }
                match id {
                    Some(EXT_REASON_CODE) => {
                        let mut v = Der::new(value);
                        let code = match v.read(ENUMERATED)? {
                            [c] if *c < 0x80 => *c,
                            _ => return Err(CrlLoadError::InvalidReason { index: self.index }),
                        };
                        v.finish()?;
                        entry.reason = Some(
                            Reason::from_code(code)
                                .ok_or(CrlLoadError::InvalidReason { index: self.index })?,
                        );
                    }
                    Some(EXT_CERTIFICATE_ISSUER) => entry.certificate_issuer = true,
                    Some(EXT_INVALIDITY_DATE) => {}
                    _ if critical => entry.unknown_critical = true,
                    _ => {}
                }
            }
        }
        e.finish()?;
        Ok(entry)
    }
}

impl Iterator for EntryIter<'_> {
    type Item = R<RevokedEntry>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.list.is_empty() {
            return None;
        }
        let r = self.read_entry();
        self.failed = r.is_err();
        self.index += 1;
        Some(r)
    }
}

/// A CRL loaded for the store.
#[derive(Debug)]
pub struct LoadedCrl {
    /// Whose CRL: the issuer Name DER (the caller pairs it with the key it
    /// verified with to make an [`super::IssuerKey`]).
    pub issuer_der: Vec<u8>,
    pub info: CrlInfo,
    pub content: LoadedContent,
    /// Entries skipped because their serial can match no certificate.
    pub skipped: usize,
}

/// The entries of a loaded CRL.
#[derive(Debug)]
pub enum LoadedContent {
    /// A full CRL, as an index.
    Full(RevocationIndex),
    /// A delta CRL against `base_number`, as changes to apply.
    Delta {
        base_number: Vec<u8>,
        changes: Vec<(Serial, Change)>,
    },
}

/// Accepts DER or PEM (`-----BEGIN X509 CRL-----`).
///
/// # Errors
/// [`CrlLoadError::Pem`] when PEM armour holds no CRL.
pub fn der_from_pem_or_der(bytes: &[u8]) -> R<Cow<'_, [u8]>> {
    use rustls_pki_types::CertificateRevocationListDer;
    use rustls_pki_types::pem::PemObject;
    if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        let crl =
            CertificateRevocationListDer::from_pem_slice(bytes).map_err(|_| CrlLoadError::Pem)?;
        Ok(Cow::Owned(crl.as_ref().to_vec()))
    } else {
        Ok(Cow::Borrowed(bytes))
    }
}

/// Loads a CRL (DER or PEM) whose signature verifies with `issuer_spki_der`:
/// a full CRL becomes a [`RevocationIndex`], a delta CRL a list of changes.
/// The signature check (SHA-256 over the whole TBS) runs on a second thread
/// while the entries are walked; nothing is returned unless both succeed.
///
/// # Errors
/// Any [`CrlLoadError`]: malformed, unsupported, bad signature, an indirect
/// CRL, an unknown critical (entry) extension.
pub fn load_crl(bytes: &[u8], issuer_spki_der: &[u8]) -> R<LoadedCrl> {
    let der = der_from_pem_or_der(bytes)?;
    let crl = parse_crl_entries(&der)?;
    let (signature, loaded) = std::thread::scope(|s| {
        let sig = s.spawn(|| crl.verify_signature(issuer_spki_der));
        let loaded = build(&crl);
        (
            sig.join().unwrap_or(Err(CrlLoadError::SignatureInvalid)),
            loaded,
        )
    });
    signature?;
    loaded
}

/// Loads a CRL that was verified when it was imported, checking only that
/// its bytes still hash to `sha256` (restoring the store at start).
///
/// # Errors
/// [`CrlLoadError::StoredDigest`], or as [`load_crl`].
pub fn load_stored_crl(der: &[u8], sha256: &[u8]) -> R<LoadedCrl> {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    if digest.as_ref() != sha256 {
        return Err(CrlLoadError::StoredDigest);
    }
    let crl = parse_crl_entries(der)?;
    build(&crl)
}

fn build(crl: &CrlEntries<'_>) -> R<LoadedCrl> {
    let mut skipped = 0;
    let content = match &crl.meta.kind {
        CrlKind::Full => {
            let mut b = RevocationIndexBuilder::new();
            // An entry is at least 17 bytes; most national ones about 40.
            b.reserve(crl.revoked_bytes() / 36);
            let mut n = 0usize;
            for entry in crl.entries() {
                let entry = check(entry?, n)?;
                n += 1;
                if n > MAX_INDEX_ENTRIES {
                    return Err(CrlLoadError::TooLarge);
                }
                if entry.reason == Some(Reason::RemoveFromCrl) {
                    // RFC 5280 §5.3.1: removeFromCRL belongs in delta CRLs only.
                    return Err(CrlLoadError::InvalidReason { index: n - 1 });
                }
                match entry.serial {
                    Some(s) => b.push(&s, entry.reason),
                    None => skipped += 1,
                }
            }
            LoadedContent::Full(b.build())
        }
        CrlKind::Delta { base_number } => {
            let mut changes = Vec::new();
            for (n, entry) in crl.entries().enumerate() {
                let entry = check(entry?, n)?;
                if changes.len() >= MAX_INDEX_ENTRIES {
                    return Err(CrlLoadError::TooLarge);
                }
                let Some(s) = entry.serial else {
                    skipped += 1;
                    continue;
                };
                changes.push((
                    s,
                    match entry.reason {
                        Some(Reason::RemoveFromCrl) => Change::Removed,
                        r => Change::Revoked(r),
                    },
                ));
            }
            LoadedContent::Delta {
                base_number: base_number.clone(),
                changes,
            }
        }
    };
    Ok(LoadedCrl {
        issuer_der: crl.meta.issuer_der.to_vec(),
        info: crl.info(),
        content,
        skipped,
    })
}

/// Refuses what the store cannot represent safely.
#[inline]
fn check(entry: RevokedEntry, index: usize) -> R<RevokedEntry> {
    if entry.certificate_issuer {
        return Err(CrlLoadError::IndirectCrl { index });
    }
    if entry.unknown_critical {
        return Err(CrlLoadError::UnknownCriticalEntryExtension { index });
    }
    Ok(entry)
}
