//! A brief, deterministic mutation run of the fuzz targets' bodies
//! (`kofu::devkit::fuzzing`), so every test run exercises them; `.ci/run` also
//! runs the cargo-fuzz targets in `fuzz/` for a short coverage-guided run. Seeds are the
//! targets' own corpora; mutations are bit flips, byte rewrites, truncations,
//! duplications and splices. The rule checked: untrusted certificate and CRL
//! bytes, API bodies and register files never panic kofu (and the API and
//! import bodies' own properties hold: what is accepted reads back the same).

use kofu::gateway::pki::CardVerifier;

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
    named_seeds(dir).into_iter().map(|(_, seed)| seed).collect()
}

/// The seed files of a corpus with their names, in name order.
fn named_seeds(dir: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let seeds: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|f| {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(f).unwrap())
        })
        .collect();
    assert!(!seeds.is_empty(), "empty corpus {}", dir.display());
    seeds
}

/// `body` on every seed, then on `ROUNDS` mutations of them; how many
/// mutations it accepted.
fn mutation_run(dir: &str, seed: u64, body: fn(&[u8]) -> bool) -> usize {
    let seeds = seeds(dir);
    let mut rng = Rng(seed);
    let mut accepted = 0;
    for round in 0..ROUNDS {
        let data = mutate(
            &mut rng,
            &seeds[round % seeds.len()],
            &seeds[(round + 1) % seeds.len()],
        );
        if body(&data) {
            accepted += 1;
        }
    }
    accepted
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
        if kofu::devkit::fuzzing::crl_bytes(&data) {
            parsed += 1;
        }
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
        kofu::devkit::fuzzing::certificate_bytes(&verifier, &data, now);
    }
}

#[test]
fn every_api_body_seed_is_accepted_as_the_handlers_read_it() {
    // The JSON bodies are all valid; the query strings and path segments
    // (`.txt`) include headers that name no parameter.
    for (name, seed) in named_seeds("api_body") {
        if name.ends_with(".json") {
            assert!(kofu::devkit::fuzzing::api_body(&seed), "{name}");
        }
    }
}

#[test]
fn mutated_api_bodies_never_panic_and_read_back_as_accepted() {
    let accepted = mutation_run(
        "api_body",
        0x6b6f_6675_0003,
        kofu::devkit::fuzzing::api_body,
    );
    assert!(accepted > 0);
}

#[test]
fn every_register_file_seed_passes_its_registers_checks() {
    for (name, seed) in named_seeds("register_import") {
        assert_eq!(
            kofu::devkit::fuzzing::register_import(&seed),
            !name.contains("-bad"),
            "{name}"
        );
    }
}

#[test]
fn mutated_register_files_and_feeds_never_panic_the_import_checks() {
    let accepted = mutation_run(
        "register_import",
        0x6b6f_6675_0004,
        kofu::devkit::fuzzing::register_import,
    );
    assert!(accepted > 0);
}
