//! `kofu pki bench`: measures, in one run and one process, the figures the
//! revocation and card-authentication targets are judged by, and prints one
//! JSON object a line:
//!
//! - `crl_load` — a generated, signed full CRL of `--serials` entries loaded
//!   (read, parsed, signature verified, index built) next to
//!   `openssl crl -inform DER -noout -in FILE` parsing the same file;
//!   `ratio` = openssl seconds / our seconds (≥ 1: at least as fast).
//!   `restore_s` is the rebuild path used at start (digest check, no
//!   signature).
//! - `revocation_memory` — heap bytes of the index (allocation capacities)
//!   per serial.
//! - `revocation_lookup` — latency of single lookups, see [`lookup_bench`].
//! - `delta_apply` — a delta CRL (half new revocations, half removeFromCRL
//!   of certificateHold entries) parsed and verified (`load_ms`) and applied
//!   to the store (`ms`).
//! - `restart_restore` (with `--postgres`) — the full and delta CRLs saved
//!   to a private PostgreSQL cluster (started in the output directory, fsync
//!   off) and the store rebuilt from it as at start: fetch, digest check,
//!   parse, index build.
//! - `card_auth` — single-thread card authentications per second
//!   (`CardVerifier::verify`: parse, chain to the cached anchor, validity,
//!   policy, RSA-2048 certificate and challenge signatures; then the store
//!   lookup) next to the bare cost of the same two RSA-2048 verifications
//!   with `ring`; `ratio` = ours / bare.
//!
//! The rule it keeps: everything is measured in the same run on generated
//! material; nothing here is a production key, and no serial is printed.

use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::BoxError;
use crate::devkit::crl_gen::{self, CrlSpec};
use crate::devkit::demo_pki::{CardKey, CardSpec, Issuer};
use crate::gateway::pki::revocation::{
    Arena, IssuerKey, LoadedContent, Reason, RevocationStore, Serial, Status, load_crl,
    load_stored_crl,
};
use crate::gateway::pki::{CardVerifier, ChallengeAlgorithm};

/// `kofu pki bench`: what to measure.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Entries in the generated full CRL.
    #[arg(long, default_value_t = 10_000_000)]
    pub serials: usize,
    /// Entries in the generated delta CRL (half removeFromCRL of held serials).
    #[arg(long, default_value_t = 10_000)]
    pub delta_entries: usize,
    /// Seconds per timed loop.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Keep the generated CRLs in this directory (default: a temporary one, removed).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The openssl binary the CRL load is compared with.
    #[arg(long, default_value = "/usr/bin/openssl")]
    pub openssl: PathBuf,
    /// Also save the CRLs to a private PostgreSQL cluster and time the rebuild at start.
    #[arg(long)]
    pub postgres: bool,
}

fn emit(out: &mut impl Write, v: serde_json::Value) -> Result<(), BoxError> {
    writeln!(out, "{v}")?;
    out.flush()?;
    Ok(())
}

/// Runs every benchmark and writes the JSON lines to `out`.
///
/// # Errors
/// PKI generation, file I/O, or a generated CRL that does not load (a bug).
pub fn run(args: &BenchArgs, out: &mut impl Write) -> Result<(), BoxError> {
    let (dir, temporary) = match &args.out {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("kofu-pki-bench-{}", std::process::id())),
            true,
        ),
    };
    std::fs::create_dir_all(&dir)?;
    let result = run_in(args, &dir, out);
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn run_in(args: &BenchArgs, dir: &Path, out: &mut impl Write) -> Result<(), BoxError> {
    let ca = Issuer::user_auth_ca("bench")?;
    let ca_spki = spki_of(&ca.cert_der)?;
    let issuer = IssuerKey::of_ca_certificate(&ca.cert_der)?;

    // The full CRL, remembering some certificateHold serials for the delta.
    let mut holds = Vec::new();
    let hold_quota = args.delta_entries / 2;
    let entries = crl_gen::random_entries(args.serials, 0x6b6f6675).inspect(|(s, r)| {
        if *r == Some(Reason::CertificateHold) && holds.len() < hold_quota {
            holds.push(*s);
        }
    });
    let full_der = crl_gen::generate_crl(&ca, &CrlSpec::full(100), entries)?;
    let full_path = dir.join("full.crl");
    std::fs::write(&full_path, &full_der)?;
    let crl_bytes = full_der.len();
    drop(full_der);

    // crl_load: ours (read + parse + verify + build), then openssl's parse.
    let t = Instant::now();
    let bytes = std::fs::read(&full_path)?;
    let loaded = load_crl(&bytes, &ca_spki)?;
    let load_s = t.elapsed().as_secs_f64();
    let LoadedContent::Full(index) = loaded.content else {
        return Err("generated full CRL loaded as a delta".into());
    };
    let t = Instant::now();
    let restored = load_stored_crl(
        &bytes,
        ring::digest::digest(&ring::digest::SHA256, &bytes).as_ref(),
    )?;
    let restore_s = t.elapsed().as_secs_f64();
    drop(restored);
    drop(bytes);
    let openssl_s = time_openssl(&args.openssl, &full_path);
    emit(
        out,
        json!({
            "bench": "crl_load",
            "serials": index.len(),
            "crl_bytes": crl_bytes,
            "load_s": load_s,
            "restore_s": restore_s,
            "openssl_load_s": openssl_s,
            "ratio": openssl_s.map(|o| o / load_s),
        }),
    )?;

    let heap = index.heap_bytes();
    emit(
        out,
        json!({
            "bench": "revocation_memory",
            "serials": index.len(),
            "heap_bytes": heap,
            "bytes_per_serial": heap as f64 / index.len().max(1) as f64,
        }),
    )?;

    let store = RevocationStore::new();
    let sample: Vec<Serial> = {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        (0..100_000.min(index.len()))
            .filter_map(|_| index.nth(rng.gen_range(0..index.len())))
            .collect()
    };
    store.install_full(issuer, index, Some(loaded.info))?;

    let dram_ns = random_read_latency_ns(heap.max(1 << 20), 1_000_000);
    let (lookups, store_ns, index_ns, clock_ns) =
        lookup_bench(&store, &issuer, &sample, args.seconds);
    emit(
        out,
        json!({
            "bench": "revocation_lookup",
            "lookups": lookups,
            "median_ns": percentile(&store_ns, 0.5),
            "p99_ns": percentile(&store_ns, 0.99),
            "p999_ns": percentile(&store_ns, 0.999),
            "max_ns": store_ns.last().copied().unwrap_or(0),
            "index_median_ns": percentile(&index_ns, 0.5),
            "index_p99_ns": percentile(&index_ns, 0.99),
            "clock_overhead_ns": clock_ns,
            "dependent_random_read_ns": dram_ns,
            "method": "per-lookup Instant pairs, 50% present/50% absent random serials in random order; store path = read lock + issuer scan + lookup; clock overhead included",
        }),
    )?;

    // delta_apply: half new revocations, half removeFromCRL of holds.
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let additions = args.delta_entries - holds.len();
    let mut delta_entries: Vec<(Serial, Option<Reason>)> = (0..additions)
        .map(|_| {
            (
                crl_gen::random_serial(&mut rng),
                Some(Reason::KeyCompromise),
            )
        })
        .collect();
    delta_entries.extend(holds.iter().map(|s| (*s, Some(Reason::RemoveFromCrl))));
    let delta_der = crl_gen::generate_crl(
        &ca,
        &CrlSpec::delta(101, 100),
        delta_entries.iter().copied(),
    )?;
    std::fs::write(dir.join("delta.crl"), &delta_der)?;
    let t = Instant::now();
    let delta = load_crl(&delta_der, &ca_spki)?;
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    let LoadedContent::Delta {
        changes,
        base_number,
    } = delta.content
    else {
        return Err("generated delta CRL loaded as a full CRL".into());
    };
    let n = changes.len();
    let t = Instant::now();
    store.apply_delta(issuer, &base_number, changes, delta.info)?;
    let apply_ms = t.elapsed().as_secs_f64() * 1e3;
    // The delta took effect: a lifted hold is good, an addition revoked.
    if let Some(h) = holds.first()
        && store.lookup(&issuer, h) != Status::Good
    {
        return Err("removeFromCRL did not take effect".into());
    }
    if let Some((s, _)) = delta_entries.first()
        && !matches!(store.lookup(&issuer, s), Status::Revoked(_))
    {
        return Err("delta addition did not take effect".into());
    }
    emit(
        out,
        json!({
            "bench": "delta_apply",
            "entries": n,
            "removals": holds.len(),
            "delta_crl_bytes": delta_der.len(),
            "load_ms": load_ms,
            "ms": apply_ms,
        }),
    )?;

    if args.postgres {
        let full = std::fs::read(&full_path)?;
        let loaded_full = load_crl(&full, &ca_spki)?;
        let loaded_delta = load_crl(&delta_der, &ca_spki)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let line = runtime.block_on(restore_bench(
            dir,
            &issuer,
            (&full, &loaded_full),
            (&delta_der, &loaded_delta),
        ))?;
        emit(out, line)?;
    }

    card_auth_bench(&ca, &issuer, &store, args.seconds, out)
}

async fn restore_bench(
    dir: &Path,
    issuer: &IssuerKey,
    full: (&[u8], &crate::gateway::pki::revocation::LoadedCrl),
    delta: (&[u8], &crate::gateway::pki::revocation::LoadedCrl),
) -> Result<serde_json::Value, BoxError> {
    use crate::devkit::pgembed::{self, EmbeddedPostgres};
    use crate::gateway::pki::revocation::persist;
    let pg = EmbeddedPostgres::start(&dir.join("pgdata"), pgembed::Options { unsafe_fast: true })
        .await?;
    let pool = crate::gateway::db::pool(pg.config(pgembed::DATABASE), 2, Duration::from_secs(600));
    let result = async {
        let mut client = pool.get().await?;
        crate::gateway::db::migrate(&mut client).await?;
        let t = Instant::now();
        persist::save_crl(&mut client, issuer, full.0, full.1).await?;
        persist::save_crl(&mut client, issuer, delta.0, delta.1).await?;
        let save_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let store = persist::load_all(&client).await?;
        let restore_s = t.elapsed().as_secs_f64();
        let set = store
            .snapshot(issuer)
            .ok_or("restored store lacks the issuer")?;
        Ok::<_, BoxError>(json!({
            "bench": "restart_restore",
            "serials": set.base().len(),
            "delta_entries": set.overlay_len().0,
            "save_s": save_s,
            "restore_s": restore_s,
        }))
    }
    .await;
    pool.close();
    pg.stop().await?;
    result
}

fn spki_of(cert_der: &[u8]) -> Result<Vec<u8>, BoxError> {
    use x509_parser::prelude::FromDer;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(cert_der)
        .map_err(|_| "certificate does not parse")?;
    Ok(cert.tbs_certificate.subject_pki.raw.to_vec())
}

/// Wall time of `openssl crl -inform DER -noout -in FILE`, if it runs.
fn time_openssl(openssl: &Path, file: &Path) -> Option<f64> {
    let t = Instant::now();
    let status = std::process::Command::new(openssl)
        .args(["crl", "-inform", "DER", "-noout", "-in"])
        .arg(file)
        .stdout(std::process::Stdio::null())
        .status()
        .ok()?;
    status.success().then(|| t.elapsed().as_secs_f64())
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted.get(i).copied().unwrap_or(0)
}

/// Lookup latency, measured per lookup: each lookup is bracketed by two
/// `Instant::now()` calls (vDSO `clock_gettime`, ~20 ns; its own cost is
/// measured as `clock_overhead_ns` and *not* subtracted, so the figures are
/// an upper bound). Queries alternate between serials present in the index
/// (sampled at random positions) and random absent ones, in a random order,
/// so most lookups miss the CPU caches as they would in production. The
/// store path is what card authentication calls (read lock, `Arc` clone,
/// lookup); the index path is the bare structure. Returns the count and the
/// sorted nanosecond samples of each path, and the clock overhead.
/// Single-threaded: one core's figures.
pub fn lookup_bench(
    store: &RevocationStore,
    issuer: &IssuerKey,
    present: &[Serial],
    seconds: f64,
) -> (usize, Vec<u32>, Vec<u32>, u32) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let queries: Vec<Serial> = (0..200_000)
        .map(
            |i| match present.get(rng.gen_range(0..present.len().max(1))) {
                Some(s) if i % 2 == 0 => *s,
                _ => crl_gen::random_serial(&mut rng),
            },
        )
        .collect();
    let Some(set) = store.snapshot(issuer) else {
        return (0, Vec::new(), Vec::new(), 0);
    };
    // Two passes in different orders, so neither path warms the caches for
    // the other.
    let mut reversed = queries.clone();
    reversed.reverse();
    let budget = Duration::from_secs_f64(seconds.max(0.05) / 2.0);
    let time_path = |qs: &[Serial], f: &dyn Fn(&Serial)| -> Vec<u32> {
        let deadline = Instant::now() + budget;
        let mut ns = Vec::with_capacity(2_000_000);
        while Instant::now() < deadline && ns.len() < 2_000_000 {
            for q in qs {
                let t0 = Instant::now();
                f(black_box(q));
                let t1 = Instant::now();
                ns.push((t1 - t0).as_nanos().min(u32::MAX as u128) as u32);
            }
        }
        ns
    };
    let mut store_ns = time_path(&queries, &|q| {
        black_box(store.lookup(black_box(issuer), q));
    });
    let mut index_ns = time_path(&reversed, &|q| {
        black_box(set.lookup(q));
    });
    let n = store_ns.len() + index_ns.len();
    let mut clock: Vec<u32> = (0..10_000)
        .map(|_| {
            let t0 = Instant::now();
            let t1 = Instant::now();
            (t1 - t0).as_nanos() as u32
        })
        .collect();
    clock.sort_unstable();
    store_ns.sort_unstable();
    index_ns.sort_unstable();
    (n, store_ns, index_ns, percentile(&clock, 0.5))
}

fn card_auth_bench(
    ca: &Issuer,
    issuer: &IssuerKey,
    store: &RevocationStore,
    seconds: f64,
    out: &mut impl Write,
) -> Result<(), BoxError> {
    use x509_parser::prelude::FromDer;
    let now = time::OffsetDateTime::now_utc();
    let card = ca.issue_card(
        "bench",
        &CardSpec {
            key: CardKey::Rsa2048,
            serial: crate::gateway::random_bytes::<16>().to_vec(),
            not_before: now - time::Duration::days(1),
            not_after: now + time::Duration::days(365),
            key_usage_digital_signature: true,
            with_policy: true,
            cn: "BENCH0001".into(),
        },
    )?;
    let verifier = CardVerifier::new(std::slice::from_ref(&ca.cert_der))?;
    let challenge = crate::gateway::random_bytes::<32>();
    let signature = card.sign(&challenge);
    let alg = ChallengeAlgorithm::RsaPkcs1Sha256;

    // Bare ring: the same two RSA-2048 PKCS#1 SHA-256 verifications.
    let (_, ca_cert) = x509_parser::certificate::X509Certificate::from_der(&ca.cert_der)
        .map_err(|_| "CA certificate does not parse")?;
    let ca_key = ca_cert
        .tbs_certificate
        .subject_pki
        .subject_public_key
        .data
        .to_vec();
    let (_, card_cert) = x509_parser::certificate::X509Certificate::from_der(&card.cert_der)
        .map_err(|_| "card certificate does not parse")?;
    let card_key = card_cert
        .tbs_certificate
        .subject_pki
        .subject_public_key
        .data
        .to_vec();
    let tbs = card_cert.tbs_certificate.as_ref().to_vec();
    let cert_sig = card_cert.signature_value.data.to_vec();
    let rsa = &ring::signature::RSA_PKCS1_2048_8192_SHA256;
    let issuers = std::slice::from_ref(issuer);

    // The two loops alternate in 20 ms slices, so a neighbour's load on this
    // shared machine weighs on both alike and the ratio stays fair.
    let slice = Duration::from_millis(20);
    let budget = Duration::from_secs_f64(seconds.max(0.05));
    let (mut ours_n, mut ours_t) = (0u64, Duration::ZERO);
    let (mut bare_n, mut bare_t) = (0u64, Duration::ZERO);
    while ours_t < budget || bare_t < budget {
        let t = Instant::now();
        while t.elapsed() < slice {
            let verified = verifier.verify(&card.cert_der, &challenge, &signature, alg, now)?;
            if store.check_card(issuers, &verified) != Status::Good {
                return Err("bench card is listed".into());
            }
            ours_n += 1;
        }
        ours_t += t.elapsed();
        let t = Instant::now();
        while t.elapsed() < slice {
            ring::signature::UnparsedPublicKey::new(rsa, &ca_key)
                .verify(black_box(&tbs), black_box(&cert_sig))
                .map_err(|_| "bare certificate signature")?;
            ring::signature::UnparsedPublicKey::new(rsa, &card_key)
                .verify(black_box(&challenge), black_box(&signature))
                .map_err(|_| "bare challenge signature")?;
            bare_n += 1;
        }
        bare_t += t.elapsed();
    }
    let ours = ours_n as f64 / ours_t.as_secs_f64();
    let bare = bare_n as f64 / bare_t.as_secs_f64();
    emit(
        out,
        json!({
            "bench": "card_auth",
            "per_core_per_s": ours,
            "bare_ring_rsa2048_x2_per_s": bare,
            "ratio": ours / bare,
        }),
    )?;
    Ok(())
}

/// Average latency of one dependent random read across `bytes` of memory
/// laid out like the index (huge-page-advised, one cache line per step):
/// the floor a lookup that misses the caches cannot beat on this machine.
fn random_read_latency_ns(bytes: usize, steps: usize) -> f64 {
    const LINE: usize = 64;
    let lines = (bytes / LINE).max(2);
    let mut arena = Arena::zeroed(lines * LINE);
    // Sattolo's shuffle: one cycle through every line.
    let mut order: Vec<u32> = (0..lines as u32).collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    for i in (1..lines).rev() {
        let j = rng.gen_range(0..i);
        order.swap(i, j);
    }
    let mem = arena.as_mut_slice();
    for i in 0..lines {
        let (from, to) = (order[i] as usize, order[(i + 1) % lines]);
        if let Some(slot) = mem.get_mut(from * LINE..from * LINE + 4) {
            slot.copy_from_slice(&to.to_le_bytes());
        }
    }
    drop(order);
    let mut at = 0usize;
    let t = std::time::Instant::now();
    for _ in 0..steps {
        let next = arena.get(at * LINE..at * LINE + 4).unwrap_or(&[0; 4]);
        at = u32::from_le_bytes([next[0], next[1], next[2], next[3]]) as usize;
    }
    std::hint::black_box(at);
    t.elapsed().as_nanos() as f64 / steps.max(1) as f64
}
