//! Signature checks with `ring`, for the card's challenge signature and for
//! certificate signatures.
//!
//! The rule this file keeps: a key is used only with the algorithm its
//! SubjectPublicKeyInfo names. An RSA key never verifies an ECDSA signature,
//! a P-384 key never stands in for a P-256 one, and algorithm parameters must
//! be exactly what the RFCs allow. `x509-parser` only parses here; every
//! cryptographic decision is `ring`'s.

use std::fmt;

use ring::signature::{self as ring_sig, UnparsedPublicKey, VerificationAlgorithm};
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_PKCS1_RSAENCRYPTION,
    OID_PKCS1_SHA256WITHRSA, OID_PKCS1_SHA384WITHRSA, OID_PKCS1_SHA512WITHRSA,
    OID_SIG_ECDSA_WITH_SHA256, OID_SIG_ECDSA_WITH_SHA384,
};
use x509_parser::prelude::FromDer;
use x509_parser::x509::{AlgorithmIdentifier, SubjectPublicKeyInfo};

/// The algorithm a card used to sign the session challenge, as the copier
/// declares it. JPKI cards today sign with RSA-2048; next-generation cards
/// may use ECDSA P-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ChallengeAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RSA 2048–8192 bits).
    #[serde(rename = "rsa-pkcs1-sha256")]
    RsaPkcs1Sha256,
    /// ECDSA on P-256 with SHA-256, signature as an ASN.1 DER `Ecdsa-Sig-Value`.
    #[serde(rename = "ecdsa-p256-sha256")]
    EcdsaP256Sha256,
}

impl ChallengeAlgorithm {
    /// The wire name, identical to the serde name.
    pub fn as_str(&self) -> &'static str {
        match self {
            ChallengeAlgorithm::RsaPkcs1Sha256 => "rsa-pkcs1-sha256",
            ChallengeAlgorithm::EcdsaP256Sha256 => "ecdsa-p256-sha256",
        }
    }

    /// Parses a wire name; `None` for anything not listed (case-sensitive).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "rsa-pkcs1-sha256" => Some(ChallengeAlgorithm::RsaPkcs1Sha256),
            "ecdsa-p256-sha256" => Some(ChallengeAlgorithm::EcdsaP256Sha256),
            _ => None,
        }
    }
}

impl fmt::Display for ChallengeAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a signature was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The SubjectPublicKeyInfo is not well-formed DER (or has trailing data).
    #[error("public key is not a well-formed SubjectPublicKeyInfo")]
    MalformedKey,
    /// The key is of a type this gateway does not verify with (for example
    /// Ed25519, or an elliptic curve other than P-256 and P-384).
    #[error("public key type is not supported")]
    UnsupportedKey,
    /// The signature algorithm is not one this gateway accepts.
    #[error("signature algorithm is not supported")]
    UnsupportedAlgorithm,
    /// The key is valid, but of another type than the algorithm requires.
    #[error("public key does not match the signature algorithm")]
    AlgorithmMismatch,
    /// The signature does not verify with this key and message.
    #[error("signature does not verify")]
    BadSignature,
}

/// Verifies `signature` over `message` with the public key in a DER
/// SubjectPublicKeyInfo, using ring (RSA_PKCS1_2048_8192_SHA256 on the PKCS#1
/// RSAPublicKey inside the SPKI; ECDSA_P256_SHA256_ASN1 on the uncompressed
/// point).
///
/// # Errors
/// The SPKI's algorithm must match `alg` (rsaEncryption with NULL parameters,
/// or id-ecPublicKey with prime256v1): otherwise
/// [`SignatureError::AlgorithmMismatch`] (or `UnsupportedKey` / `MalformedKey`).
/// A signature that does not verify is [`SignatureError::BadSignature`].
pub fn verify_signature(
    spki_der: &[u8],
    alg: ChallengeAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    let key = PublicKey::parse(spki_der)?;
    let ring_alg: &dyn VerificationAlgorithm = match (alg, key.kind) {
        (ChallengeAlgorithm::RsaPkcs1Sha256, KeyKind::Rsa) => &ring_sig::RSA_PKCS1_2048_8192_SHA256,
        (ChallengeAlgorithm::EcdsaP256Sha256, KeyKind::EcP256) => &ring_sig::ECDSA_P256_SHA256_ASN1,
        _ => return Err(SignatureError::AlgorithmMismatch),
    };
    verify_with(ring_alg, key.bytes, message, signature)
}

/// A certificate signature algorithm this gateway accepts (RFC 4055 and
/// RFC 5758 identifiers). Anything else, including SHA-1 and RSA-PSS, is
/// unsupported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CertificateSignatureAlgorithm {
    RsaPkcs1Sha256,
    RsaPkcs1Sha384,
    RsaPkcs1Sha512,
    EcdsaSha256,
    EcdsaSha384,
}

impl CertificateSignatureAlgorithm {
    /// Recognises an AlgorithmIdentifier. RSA identifiers take NULL or absent
    /// parameters (RFC 4055 §5); ECDSA identifiers take none (RFC 5758 §3.2).
    pub(crate) fn from_identifier(id: &AlgorithmIdentifier<'_>) -> Option<Self> {
        let oid = &id.algorithm;
        let rsa = if *oid == OID_PKCS1_SHA256WITHRSA {
            Some(Self::RsaPkcs1Sha256)
        } else if *oid == OID_PKCS1_SHA384WITHRSA {
            Some(Self::RsaPkcs1Sha384)
        } else if *oid == OID_PKCS1_SHA512WITHRSA {
            Some(Self::RsaPkcs1Sha512)
        } else {
            None
        };
        if let Some(rsa) = rsa {
            let params_ok = id.parameters.as_ref().is_none_or(is_der_null);
            return params_ok.then_some(rsa);
        }
        let ecdsa = if *oid == OID_SIG_ECDSA_WITH_SHA256 {
            Some(Self::EcdsaSha256)
        } else if *oid == OID_SIG_ECDSA_WITH_SHA384 {
            Some(Self::EcdsaSha384)
        } else {
            None
        };
        ecdsa.filter(|_| id.parameters.is_none())
    }
}

/// Verifies a certificate (or CRL, or OCSP response) signature made by the key
/// in `signer_spki_der`.
///
/// # Errors
/// `AlgorithmMismatch` when the signer's key cannot have made a signature of
/// this kind (an RSA key and an ECDSA algorithm), `BadSignature` when it does
/// not verify, key errors as for [`verify_signature`].
pub(crate) fn verify_certificate_signature(
    signer_spki_der: &[u8],
    alg: CertificateSignatureAlgorithm,
    signed_data: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    use CertificateSignatureAlgorithm as A;
    let key = PublicKey::parse(signer_spki_der)?;
    let ring_alg: &dyn VerificationAlgorithm = match (alg, key.kind) {
        (A::RsaPkcs1Sha256, KeyKind::Rsa) => &ring_sig::RSA_PKCS1_2048_8192_SHA256,
        (A::RsaPkcs1Sha384, KeyKind::Rsa) => &ring_sig::RSA_PKCS1_2048_8192_SHA384,
        (A::RsaPkcs1Sha512, KeyKind::Rsa) => &ring_sig::RSA_PKCS1_2048_8192_SHA512,
        (A::EcdsaSha256, KeyKind::EcP256) => &ring_sig::ECDSA_P256_SHA256_ASN1,
        (A::EcdsaSha256, KeyKind::EcP384) => &ring_sig::ECDSA_P384_SHA256_ASN1,
        (A::EcdsaSha384, KeyKind::EcP256) => &ring_sig::ECDSA_P256_SHA384_ASN1,
        (A::EcdsaSha384, KeyKind::EcP384) => &ring_sig::ECDSA_P384_SHA384_ASN1,
        _ => return Err(SignatureError::AlgorithmMismatch),
    };
    verify_with(ring_alg, key.bytes, signed_data, signature)
}

/// The kinds of public key `ring` verifies with here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// rsaEncryption; the key bytes are a PKCS#1 RSAPublicKey.
    Rsa,
    /// id-ecPublicKey on prime256v1; the key bytes are an uncompressed point.
    EcP256,
    /// id-ecPublicKey on secp384r1 (only for CA keys).
    EcP384,
}

impl KeyKind {
    /// The challenge algorithm a card key of this kind signs with, if any.
    pub(crate) fn challenge_algorithm(self) -> Option<ChallengeAlgorithm> {
        match self {
            KeyKind::Rsa => Some(ChallengeAlgorithm::RsaPkcs1Sha256),
            KeyKind::EcP256 => Some(ChallengeAlgorithm::EcdsaP256Sha256),
            KeyKind::EcP384 => None,
        }
    }
}

/// A SubjectPublicKeyInfo reduced to what `ring` needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PublicKey<'a> {
    pub(crate) kind: KeyKind,
    /// The subjectPublicKey BIT STRING contents, in whole bytes.
    pub(crate) bytes: &'a [u8],
}

impl<'a> PublicKey<'a> {
    /// Parses a DER SubjectPublicKeyInfo, rejecting trailing data.
    pub(crate) fn parse(spki_der: &'a [u8]) -> Result<Self, SignatureError> {
        match SubjectPublicKeyInfo::from_der(spki_der) {
            Ok(([], spki)) => Self::from_spki(spki),
            _ => Err(SignatureError::MalformedKey),
        }
    }

    /// Classifies an already parsed SubjectPublicKeyInfo.
    pub(crate) fn from_spki(spki: SubjectPublicKeyInfo<'a>) -> Result<Self, SignatureError> {
        let bits = spki.subject_public_key;
        if bits.unused_bits != 0 {
            return Err(SignatureError::MalformedKey);
        }
        // x509-parser borrows the BIT STRING from the input for DER; a copied
        // (constructed, BER-only) encoding is refused rather than cloned.
        let std::borrow::Cow::Borrowed(bytes) = bits.data else {
            return Err(SignatureError::MalformedKey);
        };
        let alg = &spki.algorithm;
        let kind = if alg.algorithm == OID_PKCS1_RSAENCRYPTION {
            // RFC 3279 §2.3.1: the parameters MUST be NULL.
            if !alg.parameters.as_ref().is_some_and(is_der_null) {
                return Err(SignatureError::MalformedKey);
            }
            KeyKind::Rsa
        } else if alg.algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY {
            // RFC 5480 §2.1.1: namedCurve only.
            let curve = alg
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .ok_or(SignatureError::UnsupportedKey)?;
            if curve == OID_EC_P256 {
                KeyKind::EcP256
            } else if curve == OID_NIST_EC_P384 {
                KeyKind::EcP384
            } else {
                return Err(SignatureError::UnsupportedKey);
            }
        } else {
            return Err(SignatureError::UnsupportedKey);
        };
        Ok(PublicKey { kind, bytes })
    }
}

fn is_der_null(any: &x509_parser::der_parser::asn1_rs::Any<'_>) -> bool {
    any.header.tag() == x509_parser::der_parser::asn1_rs::Tag::Null && any.data.is_empty()
}

fn verify_with(
    alg: &'static dyn VerificationAlgorithm,
    key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    UnparsedPublicKey::new(alg, key)
        .verify(message, signature)
        .map_err(|_| SignatureError::BadSignature)
}

#[cfg(test)]
mod tests {
    //! Wycheproof vectors (C2SP/wycheproof, Apache-2.0; see
    //! tests/data/wycheproof/SOURCES.md) and the algorithm-binding rule.

    use super::*;

    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct WycheproofFile {
        algorithm: String,
        test_groups: Vec<WycheproofGroup>,
    }

    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct WycheproofGroup {
        public_key_der: String,
        sha: String,
        tests: Vec<WycheproofCase>,
    }

    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct WycheproofCase {
        tc_id: u32,
        comment: String,
        msg: String,
        sig: String,
        result: String,
    }

    #[derive(Debug, Default, PartialEq)]
    struct Counts {
        valid: usize,
        invalid: usize,
        acceptable: usize,
    }

    fn hex(s: &str) -> Vec<u8> {
        fn nibble(c: u8) -> u8 {
            match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => panic!("not a hex digit: {c:#x}"),
            }
        }
        let pairs = s.as_bytes().chunks_exact(2);
        assert!(pairs.remainder().is_empty(), "odd-length hex string");
        pairs
            .map(|pair| nibble(pair[0]) << 4 | nibble(pair[1]))
            .collect()
    }

    fn run_wycheproof(path: &str, algorithm: &str, alg: ChallengeAlgorithm) -> Counts {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let file: WycheproofFile = serde_json::from_str(&text).expect("Wycheproof JSON");
        assert_eq!(file.algorithm, algorithm);
        let mut counts = Counts::default();
        let mut failures = Vec::new();
        for group in &file.test_groups {
            assert_eq!(group.sha, "SHA-256");
            let spki = hex(&group.public_key_der);
            for case in &group.tests {
                let outcome = verify_signature(&spki, alg, &hex(&case.msg), &hex(&case.sig));
                match case.result.as_str() {
                    "valid" => {
                        counts.valid += 1;
                        if let Err(e) = outcome {
                            failures.push(format!(
                                "tc {} ({}): rejected: {e}",
                                case.tc_id, case.comment
                            ));
                        }
                    }
                    "invalid" => {
                        counts.invalid += 1;
                        if outcome.is_ok() {
                            failures
                                .push(format!("tc {} ({}): accepted", case.tc_id, case.comment));
                        }
                    }
                    "acceptable" => counts.acceptable += 1,
                    other => panic!("tc {}: unknown result {other}", case.tc_id),
                }
            }
        }
        assert!(failures.is_empty(), "{path}:\n{}", failures.join("\n"));
        assert!(counts.valid > 0 && counts.invalid > 0, "{path}: {counts:?}");
        println!("{path}: {counts:?}");
        counts
    }

    #[test]
    fn wycheproof_rsa_2048_sha256_valid_accepted_invalid_rejected() {
        let counts = run_wycheproof(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/data/wycheproof/rsa_signature_2048_sha256_test.json"
            ),
            "RSASSA-PKCS1-v1_5",
            ChallengeAlgorithm::RsaPkcs1Sha256,
        );
        // numberOfTests in the file: all 259 cases were seen.
        assert_eq!(counts.valid + counts.invalid + counts.acceptable, 259);
    }

    #[test]
    fn wycheproof_ecdsa_p256_sha256_valid_accepted_invalid_rejected() {
        let counts = run_wycheproof(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/data/wycheproof/ecdsa_secp256r1_sha256_test.json"
            ),
            "ECDSA",
            ChallengeAlgorithm::EcdsaP256Sha256,
        );
        assert_eq!(counts.valid + counts.invalid + counts.acceptable, 484);
    }

    /// First RSA key and first valid signature of the RSA Wycheproof file.
    const RSA_SPKI: &str = "30820122300d06092a864886f70d01010105000382010f003082010a0282010100a2b451a07d0aa5f96e455671513550514a8a5b462ebef717094fa1fee82224e637f9746d3f7cafd31878d80325b6ef5a1700f65903b469429e89d6eac8845097b5ab393189db92512ed8a7711a1253facd20f79c15e8247f3d3e42e46e48c98e254a2fe9765313a03eff8f17e1a029397a1fa26a8dce26f490ed81299615d9814c22da610428e09c7d9658594266f5c021d0fceca08d945a12be82de4d1ece6b4c03145b5d3495d4ed5411eb878daf05fd7afc3e09ada0f1126422f590975a1969816f48698bcbba1b4d9cae79d460d8f9f85e7975005d9bc22c4e5ac0f7c1a45d12569a62807d3b9a02e5a530e773066f453d1f5b4c2e9cf7820283f742b9d50203010001";
    const RSA_SIG_EMPTY_MSG: &str = "840f5dac53106dd1f9c57219224cf51289290c42f20466875ba8e830ac5690e541536fcc8ab03b731f82bf66d83f194e7e180b3963ec7a2f3f7904a7ce49aed47da4d4b79421eaf937d301b3e696169297b797c32c076a12be4de0b58e003c5123051a84a10c62f8dac2f42a8640008eb3c7cccd6760ff5b51b689763922582845f048fb8150e5a7a6ca2eccc7bdc85349ad5b26c52137a79fa3fe5c29ab5cd7615013219c1941b6708e9c3c23feff5febaf0c8ebca5750b54e3e6e99a3e876b396f27860b7f3ec4e9191703c6332d944f6f69751167680c79c4f6b57f1cc8755d24b6ec158ccdbacdb23107a33cb6b332516c13274d1f9dccc21dced869e486";
    /// First P-256 key of the ECDSA Wycheproof file.
    const P256_SPKI: &str = "3059301306072a8648ce3d020106082a8648ce3d0301070342000404aaec73635726f213fb8a9e64da3b8632e41495a944d0045b522eba7240fad587d9315798aaa3a5ba01775787ced05eaaf7b4e09fc81d6d1aa546e8365d525d";

    #[test]
    fn rsa_key_is_refused_for_the_ecdsa_algorithm_and_back() {
        let rsa = hex(RSA_SPKI);
        let sig = hex(RSA_SIG_EMPTY_MSG);
        assert_eq!(
            verify_signature(&rsa, ChallengeAlgorithm::RsaPkcs1Sha256, b"", &sig),
            Ok(())
        );
        assert_eq!(
            verify_signature(&rsa, ChallengeAlgorithm::EcdsaP256Sha256, b"", &sig),
            Err(SignatureError::AlgorithmMismatch)
        );
        assert_eq!(
            verify_signature(
                &hex(P256_SPKI),
                ChallengeAlgorithm::RsaPkcs1Sha256,
                b"",
                &sig
            ),
            Err(SignatureError::AlgorithmMismatch)
        );
    }

    #[test]
    fn spki_with_trailing_data_or_truncated_is_malformed() {
        let mut spki = hex(RSA_SPKI);
        let sig = hex(RSA_SIG_EMPTY_MSG);
        spki.push(0);
        assert_eq!(
            verify_signature(&spki, ChallengeAlgorithm::RsaPkcs1Sha256, b"", &sig),
            Err(SignatureError::MalformedKey)
        );
        spki.truncate(100);
        assert_eq!(
            verify_signature(&spki, ChallengeAlgorithm::RsaPkcs1Sha256, b"", &sig),
            Err(SignatureError::MalformedKey)
        );
        assert_eq!(
            verify_signature(&[], ChallengeAlgorithm::RsaPkcs1Sha256, b"", &sig),
            Err(SignatureError::MalformedKey)
        );
    }

    #[test]
    fn rsa_spki_without_null_parameters_is_malformed() {
        // Same key with the AlgorithmIdentifier's NULL removed (lengths fixed up).
        let original = hex(RSA_SPKI);
        let body = &original[4 + 15..]; // after SEQUENCE header and AlgorithmIdentifier
        let alg_without_null = hex("300b06092a864886f70d010101");
        let inner_len = alg_without_null.len() + body.len();
        let mut spki = vec![0x30, 0x82, (inner_len >> 8) as u8, inner_len as u8];
        spki.extend_from_slice(&alg_without_null);
        spki.extend_from_slice(body);
        assert_eq!(
            verify_signature(
                &spki,
                ChallengeAlgorithm::RsaPkcs1Sha256,
                b"",
                &hex(RSA_SIG_EMPTY_MSG)
            ),
            Err(SignatureError::MalformedKey)
        );
    }

    #[test]
    fn p384_key_is_not_a_p256_challenge_key() {
        // A P-384 SPKI from the secp384r1 Wycheproof file's shape: only the curve matters.
        let mut spki = hex(P256_SPKI);
        // Replace prime256v1 (2a8648ce3d030107) with secp384r1 (2b81040022): re-encode.
        let point = spki.split_off(spki.len() - 65);
        let mut der = hex("3076301006072a8648ce3d020106052b81040022036200");
        // A 97-byte point is required for P-384; pad the P-256 point (never verified).
        der.extend_from_slice(&point);
        der.extend_from_slice(&[0u8; 32]);
        assert_eq!(
            verify_signature(&der, ChallengeAlgorithm::EcdsaP256Sha256, b"", b""),
            Err(SignatureError::AlgorithmMismatch)
        );
    }

    #[test]
    fn challenge_algorithm_names_round_trip() {
        for alg in [
            ChallengeAlgorithm::RsaPkcs1Sha256,
            ChallengeAlgorithm::EcdsaP256Sha256,
        ] {
            assert_eq!(ChallengeAlgorithm::parse(alg.as_str()), Some(alg));
            let json = serde_json::to_string(&alg).expect("serialise");
            assert_eq!(json, format!("\"{}\"", alg.as_str()));
            let back: ChallengeAlgorithm = serde_json::from_str(&json).expect("deserialise");
            assert_eq!(back, alg);
        }
        assert_eq!(ChallengeAlgorithm::parse("RSA-PKCS1-SHA256"), None);
        assert_eq!(ChallengeAlgorithm::parse("ecdsa-p384-sha384"), None);
    }
}
