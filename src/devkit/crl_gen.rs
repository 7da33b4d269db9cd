//! Generates signed CRLs for tests and `kofu pki bench`, up to national size
//! (10 million entries): DER written straight into one buffer, the TBS signed
//! with `ring` (RSA PKCS#1 SHA-256, or ECDSA P-256 SHA-256 for an EC issuer).
//! rcgen's CRL builder keeps a struct per entry and is too slow and heavy at
//! that size.
//!
//! The rule it keeps: test material only. It signs with demo issuers'
//! keys ([`crate::devkit::demo_pki::Issuer`]); never a production key.

use rand::{Rng, RngCore, SeedableRng};
use time::OffsetDateTime;

use crate::devkit::demo_pki::Issuer;
use crate::gateway::pki::revocation::{Reason, Serial};

/// Why a CRL could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum CrlGenError {
    /// The issuer certificate did not parse.
    #[error("issuer certificate does not parse")]
    IssuerCertificate,
    /// The issuer key is neither RSA nor ECDSA P-256, or signing failed.
    #[error("issuer key cannot sign")]
    Signing,
}

/// What to put around the entries.
#[derive(Debug, Clone)]
pub struct CrlSpec {
    /// cRLNumber.
    pub number: u64,
    /// `Some(base)` makes a delta CRL (deltaCRLIndicator, critical).
    pub delta_base: Option<u64>,
    pub this_update: OffsetDateTime,
    pub next_update: OffsetDateTime,
}

impl CrlSpec {
    /// A full CRL numbered `number`, issued now, next update in a day.
    pub fn full(number: u64) -> Self {
        let now = OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        CrlSpec {
            number,
            delta_base: None,
            this_update: now,
            next_update: now + time::Duration::days(1),
        }
    }

    /// A delta CRL numbered `number` against base `base`.
    pub fn delta(number: u64, base: u64) -> Self {
        CrlSpec {
            delta_base: Some(base),
            ..CrlSpec::full(number)
        }
    }
}

/// Random entries shaped like national ones: serials of 8 to 20 bytes
/// (first byte non-zero), half without reasonCode, the rest superseded
/// (renewal), certificateHold (lost card), keyCompromise or
/// cessationOfOperation. Deterministic for a seed.
pub fn random_entries(n: usize, seed: u64) -> impl Iterator<Item = (Serial, Option<Reason>)> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n).map(move |_| (random_serial(&mut rng), random_reason(&mut rng)))
}

/// One random serial of 8 to 20 bytes.
pub fn random_serial(rng: &mut impl RngCore) -> Serial {
    let len = rng.gen_range(8..=20usize);
    let mut b = [0u8; 20];
    rng.fill_bytes(&mut b[..len]);
    b[0] = b[0].max(1);
    Serial::from_magnitude(&b[..len]).unwrap_or_else(|_| unreachable_serial())
}

fn unreachable_serial() -> Serial {
    // from_magnitude cannot fail on 8..=20 bytes with a non-zero first byte.
    Serial::from_magnitude(&[1]).unwrap_or_else(|_| unreachable!())
}

fn random_reason(rng: &mut impl RngCore) -> Option<Reason> {
    match rng.gen_range(0..20u8) {
        0..=9 => None,
        10..=14 => Some(Reason::Superseded),
        15..=17 => Some(Reason::CertificateHold),
        18 => Some(Reason::KeyCompromise),
        _ => Some(Reason::CessationOfOperation),
    }
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (8 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

fn tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    push_len(out, content.len());
    out.extend_from_slice(content);
}

fn integer_u64(v: u64) -> Vec<u8> {
    let s = Serial::from_magnitude(&v.to_be_bytes());
    let mut content = s.map(|s| s.to_der_integer()).unwrap_or_else(|_| vec![0]);
    if content.is_empty() {
        content.push(0);
    }
    let mut out = Vec::new();
    tlv(&mut out, 0x02, &content);
    out
}

fn extension(oid_last: u8, critical: bool, value: &[u8]) -> Vec<u8> {
    let mut inner = Vec::new();
    tlv(&mut inner, 0x06, &[0x55, 0x1d, oid_last]);
    if critical {
        inner.extend_from_slice(&[0x01, 0x01, 0xff]);
    }
    tlv(&mut inner, 0x04, value);
    let mut out = Vec::new();
    tlv(&mut out, 0x30, &inner);
    out
}

fn utc_time(t: OffsetDateTime) -> Vec<u8> {
    let s = format!(
        "{:02}{:02}{:02}{:02}{:02}{:02}Z",
        t.year() % 100,
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    let mut out = Vec::new();
    tlv(&mut out, 0x17, s.as_bytes());
    out
}

/// Appends one revokedCertificates entry.
fn push_entry(out: &mut Vec<u8>, serial: &Serial, reason: Option<Reason>, date: &[u8]) {
    let int = serial.to_der_integer();
    let ext_len = if reason.is_some() { 2 + 12 } else { 0 };
    let body = 2 + int.len() + date.len() + ext_len;
    out.push(0x30);
    push_len(out, body);
    tlv(out, 0x02, &int);
    out.extend_from_slice(date);
    if let Some(r) = reason {
        // SEQUENCE { SEQUENCE { OID 2.5.29.21, OCTET STRING { ENUMERATED r } } }
        out.extend_from_slice(&[
            0x30,
            0x0c,
            0x30,
            0x0a,
            0x06,
            0x03,
            0x55,
            0x1d,
            0x15,
            0x04,
            0x03,
            0x0a,
            0x01,
            r.code(),
        ]);
    }
}

/// sha256WithRSAEncryption with NULL parameters.
const ALG_RSA_SHA256: &[u8] = &[
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00,
];
/// ecdsa-with-SHA256.
const ALG_ECDSA_SHA256: &[u8] = &[
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
];

enum Signer {
    Rsa(ring::signature::RsaKeyPair),
    Ecdsa(ring::signature::EcdsaKeyPair),
}

/// A signed CRL (DER) listing `entries` in the order given, issued by
/// `issuer`.
///
/// # Errors
/// [`CrlGenError`] if the issuer certificate or key is unusable.
pub fn generate_crl(
    issuer: &Issuer,
    spec: &CrlSpec,
    entries: impl IntoIterator<Item = (Serial, Option<Reason>)>,
) -> Result<Vec<u8>, CrlGenError> {
    use x509_parser::prelude::FromDer;
    let rng = ring::rand::SystemRandom::new();
    let signer = match ring::signature::RsaKeyPair::from_pkcs8(issuer.key_pkcs8_der()) {
        Ok(k) => Signer::Rsa(k),
        Err(_) => Signer::Ecdsa(
            ring::signature::EcdsaKeyPair::from_pkcs8(
                &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                issuer.key_pkcs8_der(),
                &rng,
            )
            .map_err(|_| CrlGenError::Signing)?,
        ),
    };
    let alg = match signer {
        Signer::Rsa(_) => ALG_RSA_SHA256,
        Signer::Ecdsa(_) => ALG_ECDSA_SHA256,
    };
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(&issuer.cert_der)
        .map_err(|_| CrlGenError::IssuerCertificate)?;
    let subject = cert.tbs_certificate.subject.as_raw();
    let ski = cert
        .tbs_certificate
        .extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0.to_vec()),
            _ => None,
        });

    let date = utc_time(spec.this_update);
    let mut body = Vec::new();
    let mut entries = entries.into_iter();
    body.reserve(entries.size_hint().0.saturating_mul(40));
    for (serial, reason) in &mut entries {
        push_entry(&mut body, &serial, reason, &date);
    }

    let mut head = Vec::new();
    head.extend_from_slice(&[0x02, 0x01, 0x01]); // v2
    head.extend_from_slice(alg);
    head.extend_from_slice(subject);
    head.extend_from_slice(&utc_time(spec.this_update));
    head.extend_from_slice(&utc_time(spec.next_update));
    let mut exts = Vec::new();
    exts.extend(extension(20, false, &integer_u64(spec.number)));
    if let Some(base) = spec.delta_base {
        exts.extend(extension(27, true, &integer_u64(base)));
    }
    if let Some(ski) = ski {
        let mut key_id = Vec::new();
        tlv(&mut key_id, 0x80, &ski);
        let mut aki = Vec::new();
        tlv(&mut aki, 0x30, &key_id);
        exts.extend(extension(35, false, &aki));
    }
    let mut ext_seq = Vec::new();
    tlv(&mut ext_seq, 0x30, &exts);
    let mut tail = Vec::new();
    tlv(&mut tail, 0xa0, &ext_seq);

    let mut revoked_header = Vec::new();
    if !body.is_empty() {
        revoked_header.push(0x30);
        push_len(&mut revoked_header, body.len());
    }
    let tbs_len = head.len() + revoked_header.len() + body.len() + tail.len();
    let mut tbs = Vec::with_capacity(tbs_len + 8);
    tbs.push(0x30);
    push_len(&mut tbs, tbs_len);
    tbs.extend_from_slice(&head);
    tbs.extend_from_slice(&revoked_header);
    tbs.extend_from_slice(&body);
    drop(body);
    tbs.extend_from_slice(&tail);

    let signature = match &signer {
        Signer::Rsa(k) => {
            let mut sig = vec![0; k.public().modulus_len()];
            k.sign(&ring::signature::RSA_PKCS1_SHA256, &rng, &tbs, &mut sig)
                .map_err(|_| CrlGenError::Signing)?;
            sig
        }
        Signer::Ecdsa(k) => k
            .sign(&rng, &tbs)
            .map_err(|_| CrlGenError::Signing)?
            .as_ref()
            .to_vec(),
    };
    let mut bits = Vec::with_capacity(signature.len() + 1);
    bits.push(0);
    bits.extend_from_slice(&signature);
    let mut sig_tlv = Vec::new();
    tlv(&mut sig_tlv, 0x03, &bits);

    let outer_len = tbs.len() + alg.len() + sig_tlv.len();
    let mut der = Vec::with_capacity(outer_len + 8);
    der.push(0x30);
    push_len(&mut der, outer_len);
    der.extend_from_slice(&tbs);
    drop(tbs);
    der.extend_from_slice(alg);
    der.extend_from_slice(&sig_tlv);
    Ok(der)
}

/// Issues a fresh full CRL for `ca` (numbered by the clock, so it supersedes
/// any earlier one; next update in a day) listing `revoked`, and imports it
/// as `kofu crl import` would. Returns its DER.
///
/// # Errors
/// Signing or database failure.
pub async fn publish_demo_crl(
    ca: &crate::devkit::demo_pki::Issuer,
    client: &mut crate::gateway::db::Client,
    revoked: &[(
        crate::gateway::pki::revocation::Serial,
        Option<crate::gateway::pki::revocation::Reason>,
    )],
) -> Result<Vec<u8>, crate::BoxError> {
    let number = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_micros() as u64);
    let der = generate_crl(ca, &CrlSpec::full(number), revoked.iter().cloned())?;
    crate::gateway::pki::revocation::service::import_bytes(
        std::slice::from_ref(&ca.cert_der),
        client,
        &der,
    )
    .await?;
    Ok(der)
}
