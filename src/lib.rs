//! kofu (交付, "issuance"): the gateway between convenience-store copiers and
//! municipalities. A resident puts their My Number Card into a copier, types a
//! PIN, and gets their residence, seal, tax or family-register certificate printed — for them
//! and nobody else.
//!
//! # Layout
//! Three wings. Arrows point one way only: `cmd` → `gateway`, `cmd` →
//! `devkit`, `devkit` → `gateway`; the gateway imports neither (the test
//! `tests/it/layout.rs` reads the tree, and `cargo build
//! --no-default-features` builds the gateway and its production commands
//! without the devkit).
//!
//! **The gateway** — [`gateway`], everything `kofu serve` runs. The data path,
//! top to bottom: request → verify → map → enqueue → render → deliver.
//! - `gateway/server.rs`  — the listeners (copier, administration, operations): mutual TLS,
//!   connection limits, bounded bodies, graceful shutdown; the gateway's start.
//! - `gateway/routes.rs`  — the one route table: dispatch, route labels, `405`/`404`, the OpenAPI check.
//! - `gateway/state/`     — [`gateway::state::AppState`], what every handler may use; the challenges
//!   of sessions opened here; the per-address rate limits.
//! - `gateway/copier/`    — the copier API handlers: session, card, order, document, printed/failed;
//!   the menu; the copier API's error codes.
//! - `gateway/public.rs`  — `/healthz`, `/readyz`, `/v1/openapi.yaml`.
//! - `gateway/admin/`     — the administration API (operator mutual TLS): certificate events,
//!   municipalities (create, settings, imports, check, go-live), signing-key rotation and
//!   revocation, document withdrawal; its codes.
//! - `gateway/municipality/` — municipalities as they run themselves: the local government code
//!   and its check digit, versioned settings, the onboarding check, going live.
//! - `gateway/ops/`       — Prometheus metrics, the operator dashboard, the test hooks (operations listener).
//! - `gateway/pki/`       — verify: RFC 5280 paths and CRLs, the card certificate and its signature
//!   over the challenge (→ `VerifiedCard`), operator roles; `revocation/`, the national revocation index.
//! - `gateway/registry/`  — map: municipal registers, the serial → resident link (from a `VerifiedCard`
//!   only), J-LIS certificate events; `import/`, register files (CSV, NDJSON) loaded all or nothing.
//! - `gateway/pipeline/`  — enqueue, render, release, deliver: tickets in commit order, register
//!   snapshots, the render workers, ordered release, delivery checks.
//! - `gateway/render/`    — the PDF renderer: one file per certificate kind (its model and rows), the
//!   shared form layout, fonts (the bundled one, IPAmj Mincho when installed), Japanese era dates.
//! - `gateway/signing/`   — document signing: each municipality's Ed25519 keys (sealed in
//!   PostgreSQL), rotation and revocation, the published keys, the verification codes.
//! - `gateway/audit/`     — the audit trail: the hash chain the database appends to in each
//!   change's transaction, signed checkpoints of its head, the verifier.
//! - `gateway/verify/`    — public verification: `/v1/keys`, `/v1/verify/{code}`, the `/verify`
//!   pages (Japanese and English), the look-up's rate limit.
//! - `gateway/i18n/`      — the twelve copier languages, `Accept-Language`, and the one message
//!   catalogue every menu text and problem `detail` comes from.
//! - cross-cutting, flat: `config.rs`, `db.rs` (pool, migrations), `domain.rs` (`CertificateKind`,
//!   `ResidentId`, `CertFingerprint`), `error.rs` (problem+json, the `problems!` enums), `http.rs`,
//!   `tls.rs`, `telemetry.rs`.
//!
//! **The commands** — [`cmd`], one file per `kofu` subcommand with its `clap::Args`
//! (`serve`, `migrate`, `crl`, `events`, `audit`, `pki_verify`, `document_verify`, `municipality`, and
//! `https`, the one client the commands that talk to a gateway share; with the devkit, `demo`, `pki_bench`
//! and `render_bench`).
//! `src/main.rs` only parses the command line and dispatches.
//!
//! **The devkit** — `devkit` (feature `devkit`, on by default), what the demo,
//! the tests, the fuzz targets and the benchmarks are built from and `kofu
//! serve` never runs: the demo and test PKI (`demo_pki`, `test_pki`,
//! `operator_pki`), the CRL generator (`crl_gen`), the simulated copier
//! (`sim`), the embedded PostgreSQL (`pgembed`), the demo registers
//! (`demo_registers`), sample certificates of every kind (`samples`), the
//! fuzz target bodies (`fuzzing`).
//!
//! Outside `src/`: `tests/it/` (one integration-test binary), `loadtest/` (the
//! load and fault harness), `benches/` (the render benchmark), `fuzz/`
//! (cargo-fuzz targets), `sql/` (migrations), `deploy/`.

#![forbid(unsafe_code)]

pub mod cmd;
#[cfg(any(test, feature = "devkit"))]
pub mod devkit;
pub mod gateway;

/// An error from a command (demo, serve, migrate), for `main` to print.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
