//! kofu (交付, "issuance"): the gateway between convenience-store copiers and
//! municipalities. A resident puts their My Number Card into a copier, types a
//! PIN, and gets their residence certificate printed — for them and nobody else.
//!
//! # Layout
//! The data path runs top to bottom: request → verify → map → enqueue → render → deliver.
//!
//! - [`server`]   — HTTPS listener (mutual TLS), connection limits, route table, graceful shutdown.
//! - [`copier`]   — the copier API handlers: session, card, order, document, printed/failed; the menu.
//! - [`pki`]      — RFC 5280 path and CRL validation, card certificate and challenge-signature verification, `kofu pki verify`; the
//!   national-scale revocation index, CRL loading and its PostgreSQL store, `kofu pki bench`; demo/test PKI generation.
//! - [`registry`] — municipal registers: municipalities, households, residents, serial → resident links,
//!   J-LIS certificate lifecycle events (issued, renewed, suspended, revoked).
//! - [`admin`]    — the administration API (operator mutual TLS, separate listener): certificate events.
//! - [`queue`]    — orders: tickets in commit order, register snapshot, render workers, delivery checks.
//! - [`render`]   — certificate PDFs (one file per certificate kind), fonts, Japanese era dates.
//! - [`ops`]      — Prometheus metrics and the operator dashboard (separate listener).
//! - [`sim`]      — a simulated copier (client side of the API), shared by demo, loadtest and tests.
//! - [`demo`]     — `kofu demo`: private PostgreSQL, demo PKI and registers, a copier run.
//!
//! Cross-cutting: [`app`] (serve, migrate), [`config`], [`db`] (pool, migrations), [`pgembed`] (private
//! PostgreSQL), [`error`] (problem+json), [`http`], [`i18n`], [`tls`], [`telemetry`].

#![forbid(unsafe_code)]

pub mod admin;
pub mod app;
pub mod config;
pub mod copier;
pub mod db;
pub mod demo;
pub mod error;
pub mod http;
pub mod i18n;
pub mod ops;
pub mod pgembed;
pub mod pki;
pub mod queue;
pub mod registry;
pub mod render;
pub mod server;
pub mod sim;
pub mod telemetry;
pub mod tls;

/// `N` bytes from the operating system's CSPRNG (challenges, ids).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; N];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .expect("the OS random source is available");
    bytes
}

/// An error from a command (demo, serve, migrate), for `main` to print.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
