//! Cards and copier identities for the load, made once by the demo PKI's CAs
//! and cached on disk (`<out>/cache/`), because RSA-2048 key generation
//! takes a noticeable fraction of a second per key.
//!
//! Rules:
//! - A cache file is named after the CA certificate that issued its
//!   contents, so a regenerated PKI never meets stale cards.
//! - Card `i` (from 1) has serial `4c 54 <R|E> <i, 4 bytes>`: unique, never
//!   equal to a demo card's random 16-byte serial, and linked to synthetic
//!   resident `i`. Smartphone `i` (from the smartphone CA, for the residents
//!   `--smartphone-fraction` picks) has `4c 54 <r|e> <i>` and is derived
//!   from card `i`.
//! - Copier `i` belongs to store chain `STORE_CHAINS[(i - 1) % 2]` (the
//!   first part of its CN, `chain/store/copier`), so the settlement has a
//!   line per chain to audit.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kofu::devkit::demo_pki::{CardKey, CardSpec, DemoCard, Issuer};
use kofu::gateway::pki::ChallengeAlgorithm;
use time::{Duration, OffsetDateTime};

use crate::BoxError;

/// A short hex fingerprint of a certificate (names cache files).
pub fn fingerprint(der: &[u8]) -> String {
    kofu::gateway::http::hex(&ring::digest::digest(&ring::digest::SHA256, der).as_ref()[..6])
}

/// Which credential a load certificate is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Card,
    Smartphone,
}

/// Whether `i` (from 1) is among `fraction` of `1..=n`, spread evenly:
/// which cards are RSA, and which residents hold a smartphone.
pub fn spread(i: u32, fraction: f64) -> bool {
    let f = fraction.clamp(0.0, 1.0);
    (i as f64 * f).floor() != ((i - 1) as f64 * f).floor()
}

pub fn card_label(i: u32, rsa: bool, credential: Credential) -> String {
    let key = if rsa { "rsa" } else { "ec" };
    match credential {
        Credential::Card => format!("lt-{i:06}-{key}"),
        Credential::Smartphone => format!("lt-{i:06}-{key}-phone"),
    }
}

pub fn card_serial(i: u32, rsa: bool, credential: Credential) -> Vec<u8> {
    let kind = match (credential, rsa) {
        (Credential::Card, true) => b'R',
        (Credential::Card, false) => b'E',
        (Credential::Smartphone, true) => b'r',
        (Credential::Smartphone, false) => b'e',
    };
    let mut serial = vec![0x4c, 0x54, kind];
    serial.extend_from_slice(&i.to_be_bytes());
    serial
}

fn encode_card(card: &DemoCard) -> String {
    serde_json::json!({
        "label": card.label,
        "alg": card.algorithm.as_str(),
        "cert": STANDARD.encode(&card.cert_der),
        "key": STANDARD.encode(&card.key_pkcs8_der),
    })
    .to_string()
}

fn decode_card(line: &str) -> Option<DemoCard> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    Some(DemoCard {
        label: v.get("label")?.as_str()?.to_owned(),
        algorithm: ChallengeAlgorithm::parse(v.get("alg")?.as_str()?)?,
        cert_der: STANDARD.decode(v.get("cert")?.as_str()?).ok()?,
        key_pkcs8_der: STANDARD.decode(v.get("key")?.as_str()?).ok()?,
    })
}

/// Cards (or smartphone certificates) `ids` issued by `ca`, in that order,
/// from the cache where possible; the missing ones are generated on all
/// cores and appended to the cache.
pub fn load_or_generate(
    cache: &Path,
    ca: &Issuer,
    ids: &[u32],
    rsa_fraction: f64,
    credential: Credential,
    mut progress: impl FnMut(usize, usize),
) -> Result<Vec<DemoCard>, BoxError> {
    std::fs::create_dir_all(cache)?;
    let path = cache.join(format!("cards-{}.jsonl", fingerprint(&ca.cert_der)));
    let mut cached: HashMap<String, DemoCard> = HashMap::new();
    if let Ok(text) = std::fs::read_to_string(&path) {
        for card in text.lines().filter_map(decode_card) {
            cached.insert(card.label.clone(), card);
        }
    }
    let label = |i: u32, rsa: bool| card_label(i, rsa, credential);
    let serial = |i: u32, rsa: bool| card_serial(i, rsa, credential);
    let wanted: Vec<(u32, bool)> = ids.iter().map(|&i| (i, spread(i, rsa_fraction))).collect();
    let missing: Vec<(u32, bool)> = wanted
        .iter()
        .copied()
        .filter(|(i, rsa)| !cached.contains_key(&label(*i, *rsa)))
        .collect();
    if !missing.is_empty() {
        let now = OffsetDateTime::now_utc();
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let done = std::sync::atomic::AtomicUsize::new(0);
        let (tx, rx) = std::sync::mpsc::channel::<Result<DemoCard, String>>();
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        std::thread::scope(|scope| -> Result<(), BoxError> {
            for t in 0..threads {
                let tx = tx.clone();
                let missing = &missing;
                let done = &done;
                scope.spawn(move || {
                    for (i, rsa) in missing.iter().skip(t).step_by(threads) {
                        let spec = CardSpec {
                            key: if *rsa {
                                CardKey::Rsa2048
                            } else {
                                CardKey::EcdsaP256
                            },
                            serial: serial(*i, *rsa),
                            not_before: now - Duration::days(1),
                            not_after: kofu::devkit::demo_pki::end_of_day_jst(
                                now + Duration::days(4 * 365),
                            ),
                            key_usage_digital_signature: true,
                            with_policy: true,
                            cn: kofu::gateway::http::hex(&serial(*i, *rsa)).to_uppercase(),
                        };
                        let card = match credential {
                            Credential::Card => ca.issue_card(&label(*i, *rsa), &spec),
                            Credential::Smartphone => ca.issue_smartphone(&label(*i, *rsa), &spec),
                        }
                        .map_err(|e| e.to_string());
                        done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if tx.send(card).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(tx);
            let mut written = 0;
            for card in rx {
                let card = card?;
                writeln!(file, "{}", encode_card(&card))?;
                cached.insert(card.label.clone(), card);
                written += 1;
                if written % 50 == 0 || written == missing.len() {
                    progress(written, missing.len());
                }
            }
            Ok(())
        })?;
        file.sync_all()?;
    }
    Ok(wanted
        .iter()
        .filter_map(|(i, rsa)| cached.remove(&label(*i, *rsa)))
        .collect())
}

/// PEM with 64-column lines.
pub fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A virtual copier's identity on disk.
#[derive(Debug, Clone)]
pub struct CopierIdentity {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The store chains the copiers belong to, alternately.
pub const STORE_CHAINS: [&str; 2] = ["loadtest-a", "loadtest-b"];

/// The store chain of copier `i` (from 1).
pub fn store_chain(i: usize) -> &'static str {
    STORE_CHAINS[(i.max(1) - 1) % STORE_CHAINS.len()]
}

/// The CN of copier `i` (from 1).
pub fn copier_id(i: usize) -> String {
    format!("{}/store-{i:04}/copier-1", store_chain(i))
}

/// Client certificates for copiers `1..=n` from the store-network CA, cached
/// (the files are named after the CN, so a copier of another chain is a
/// new file).
pub fn copiers(cache: &Path, store_ca: &Issuer, n: usize) -> Result<Vec<CopierIdentity>, BoxError> {
    let dir = cache.join(format!("copiers-{}", fingerprint(&store_ca.cert_der)));
    std::fs::create_dir_all(&dir)?;
    let mut out = Vec::with_capacity(n);
    for i in 1..=n {
        let id = copier_id(i);
        let file = format!("{}-copier-{i:04}", store_chain(i));
        let cert = dir.join(format!("{file}.pem"));
        let key = dir.join(format!("{file}.key"));
        if !(cert.is_file() && key.is_file()) {
            let leaf = store_ca.issue_copier(&id)?;
            write_private(&key, pem("PRIVATE KEY", &leaf.key_pkcs8_der).as_bytes())?;
            std::fs::write(&cert, pem("CERTIFICATE", &leaf.cert_der))?;
        }
        out.push(CopierIdentity { cert, key });
    }
    Ok(out)
}

fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_cards_are_spread_evenly() {
        let rsa: Vec<u32> = (1..=100).filter(|i| spread(*i, 0.05)).collect();
        assert_eq!(rsa, [20, 40, 60, 80, 100]);
        assert_eq!((1..=10).filter(|i| spread(*i, 0.0)).count(), 0);
        assert_eq!((1..=10).filter(|i| spread(*i, 1.0)).count(), 10);
    }

    #[test]
    fn serials_are_unique_positive_and_short() {
        let a = card_serial(1, false, Credential::Card);
        assert_ne!(a, card_serial(1, true, Credential::Card));
        assert_ne!(a, card_serial(2, false, Credential::Card));
        assert_ne!(a, card_serial(1, false, Credential::Smartphone));
        assert!(a[0] < 0x80 && a.len() <= 20);
        assert_eq!(card_label(12, true, Credential::Card), "lt-000012-rsa");
        assert_eq!(
            card_label(12, false, Credential::Smartphone),
            "lt-000012-ec-phone"
        );
    }

    #[test]
    fn copiers_alternate_between_the_store_chains() {
        assert_eq!(copier_id(1), "loadtest-a/store-0001/copier-1");
        assert_eq!(copier_id(2), "loadtest-b/store-0002/copier-1");
        assert_eq!(copier_id(3), "loadtest-a/store-0003/copier-1");
    }

    #[test]
    fn cached_card_lines_round_trip() {
        let card = DemoCard {
            label: "x".into(),
            cert_der: vec![1, 2, 3],
            key_pkcs8_der: vec![4, 5],
            algorithm: ChallengeAlgorithm::EcdsaP256Sha256,
        };
        let back = decode_card(&encode_card(&card)).expect("decodes");
        assert_eq!(back.label, "x");
        assert_eq!(back.cert_der, card.cert_der);
        assert_eq!(back.key_pkcs8_der, card.key_pkcs8_der);
        assert_eq!(back.algorithm, card.algorithm);
        assert!(decode_card("{}").is_none());
    }
}
