//! The gateway: everything `kofu serve` runs. It never imports the devkit
//! (a test in `tests/it/layout.rs` reads these files, and the build without
//! the `devkit` feature proves it); only its `#[cfg(test)]` modules may use
//! the devkit's generated PKI.
//!
//! The data path, top to bottom: [`server`] (listeners) → [`routes`] →
//! [`copier`] (verify with [`pki`], map with [`registry`]) → [`pipeline`]
//! (enqueue, render with [`render`], release, deliver).

pub mod admin;
pub mod audit;
pub mod config;
pub mod connections;
pub mod copier;
pub mod db;
pub mod domain;
pub mod error;
pub mod health;
pub mod http;
pub mod i18n;
pub mod municipality;
pub mod ops;
pub mod pipeline;
pub mod pki;
pub mod public;
pub mod registry;
pub mod render;
pub mod routes;
pub mod series;
pub mod server;
pub mod signing;
pub mod state;
pub mod telemetry;
pub mod tls;
pub mod verify;

/// `N` bytes from the operating system's CSPRNG (challenges, ids).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; N];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .expect("the OS random source is available");
    bytes
}
