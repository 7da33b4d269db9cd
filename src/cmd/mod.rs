//! The commands: one file per `kofu` subcommand, each with the arguments it
//! takes (a `clap::Args` struct) and its `run`. `main.rs` parses and
//! dispatches; what a command does lives here, over the gateway (and, for
//! the demo and the benchmark, the devkit).

pub mod audit;
pub mod crl;
#[cfg(feature = "devkit")]
pub mod demo;
pub mod document_verify;
pub mod events;
pub mod https;
pub mod migrate;
pub mod municipality;
#[cfg(feature = "devkit")]
pub mod pki_bench;
pub mod pki_verify;
#[cfg(feature = "devkit")]
pub mod render_bench;
pub mod serve;

use std::path::PathBuf;

use crate::BoxError;
use crate::gateway::config::Config;

/// The configuration file every database command reads (`--config` or
/// `KOFU_CONFIG`; `KOFU_*` variables and `DATABASE_URL` apply on top).
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArg {
    #[arg(long, env = "KOFU_CONFIG")]
    pub config: Option<PathBuf>,
}

impl ConfigArg {
    /// The configuration and the PostgreSQL it names.
    pub fn load(&self) -> Result<(Config, tokio_postgres::Config), BoxError> {
        let config = Config::load(self.config.as_deref())?;
        let database = database(&config)?;
        Ok((config, database))
    }
}

fn database(config: &Config) -> Result<tokio_postgres::Config, BoxError> {
    let url = config
        .database_url
        .as_deref()
        .ok_or("DATABASE_URL (or database_url in the config file) is not set")?;
    Ok(url
        .parse::<tokio_postgres::Config>()
        .map_err(|e| format!("DATABASE_URL: {e}"))?)
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed when
/// this is called, not when the future is first polled: a signal that
/// arrives right after the caller announces it is serving must not find the
/// default action (death without draining) still in place.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).ok();
    let mut interrupt = signal(SignalKind::interrupt()).ok();
    async move {
        tokio::select! {
            _ = recv(term.as_mut()) => {}
            _ = recv(interrupt.as_mut()) => {}
        }
    }
}

/// The next delivery of `signal`, or never when it could not be installed.
async fn recv(signal: Option<&mut tokio::signal::unix::Signal>) {
    match signal {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}
