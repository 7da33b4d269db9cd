//! A brief, deterministic mutation run of the fuzz targets' bodies on stable
//! Rust, so CI exercises them on every run (`fuzz/` has the cargo-fuzz
//! targets for coverage-guided runs, which need nightly). Seeds are the
//! targets' own corpora; mutations are bit flips, byte rewrites, truncations,
//! duplications and splices. The rule checked: untrusted certificate and CRL
//! bytes never panic kofu.

use kofu::pki::revocation::{RevocationIndexBuilder, parse_crl_entries};
use kofu::pki::{CardVerifier, ChallengeAlgorithm};

const ROUNDS: usize = 60_000;

/// xorshift64*: reproducible mutations without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..=rng.below(4) {
        match rng.below(6) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = [0x00, 0x80, 0xff, 0x7f, 0x81, 0x82, 0x84][rng.below(7)];
            }
            2 => v.truncate(rng.below(v.len() + 1)),
            3 if !v.is_empty() => {
                let (a, b) = (rng.below(v.len()), rng.below(v.len()));
                let (a, b) = (a.min(b), a.max(b));
                let chunk = v[a..b].to_vec();
                v.splice(a..a, chunk);
            }
            4 if !other.is_empty() => {
                let at = rng.below(v.len() + 1);
                let from = rng.below(other.len());
                v.splice(at..at, other[from..].iter().take(64).copied());
            }
            _ => {
                let i = rng.below(v.len() + 1);
                v.insert(i, rng.next() as u8);
            }
        }
    }
    v
}

fn seeds(dir: &str) -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let seeds: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert!(!seeds.is_empty(), "empty corpus {}", dir.display());
    seeds
}

#[test]
fn mutated_crls_never_panic_the_streaming_reader_or_the_validator() {
    let seeds = seeds("crl_entries");
    let mut rng = Rng(0x6b6f_6675_0001);
    let mut parsed = 0;
    for round in 0..ROUNDS {
        let data = mutate(
            &mut rng,
            &seeds[round % seeds.len()],
            &seeds[(round + 1) % seeds.len()],
        );
        if let Ok(crl) = parse_crl_entries(&data) {
            parsed += 1;
            let _ = crl.info();
            let mut builder = RevocationIndexBuilder::new();
            for entry in crl.entries() {
                match entry {
                    Ok(e) => {
                        if let Some(serial) = e.serial {
                            builder.push(&serial, e.reason);
                        }
                    }
                    Err(_) => break,
                }
            }
            let index = builder.build();
            for (serial, reason) in index.iter() {
                assert_eq!(index.lookup(&serial).map(|r| r.reason), Some(reason));
            }
        }
        let _ = kofu::pki::crl::Crl::from_file_bytes(&data);
    }
    // The seeds themselves parse, so the run did reach past the first bytes.
    assert!(parsed > 0);
}

#[test]
fn mutated_certificates_never_panic_card_verification_or_path_parsing() {
    let seeds = seeds("certificate");
    let anchor = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus/anchor/user-auth-ca.der"),
    )
    .unwrap();
    let verifier = CardVerifier::new(&[anchor]).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let mut rng = Rng(0x6b6f_6675_0002);
    for round in 0..ROUNDS {
        let data = mutate(
            &mut rng,
            &seeds[round % seeds.len()],
            &seeds[(round + 1) % seeds.len()],
        );
        let _ = verifier.verify(
            &data,
            b"challenge",
            &[0u8; 256],
            ChallengeAlgorithm::RsaPkcs1Sha256,
            now,
        );
        let _ = kofu::pki::path::Certificate::from_der(&data);
    }
}
