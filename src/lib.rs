//! kofu (交付, "issuance"): the gateway between convenience-store copiers and
//! municipalities. A resident puts their My Number Card into a copier, types a
//! PIN, and gets their residence certificate printed — for them and nobody else.

#![forbid(unsafe_code)]

pub mod cmd;
#[cfg(any(test, feature = "devkit"))]
pub mod devkit;
pub mod gateway;

/// An error from a command (demo, serve, migrate), for `main` to print.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
