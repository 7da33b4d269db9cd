//! `kofu serve` and `kofu migrate`: the production entry points, on an
//! external PostgreSQL named by `DATABASE_URL`.

use std::path::Path;

use crate::BoxError;
use crate::config::Config;
use crate::server::Gateway;

fn database(config: &Config) -> Result<tokio_postgres::Config, BoxError> {
    let url = config
        .database_url
        .as_deref()
        .ok_or("DATABASE_URL (or database_url in the config file) is not set")?;
    Ok(url
        .parse::<tokio_postgres::Config>()
        .map_err(|e| format!("DATABASE_URL: {e}"))?)
}

/// `kofu migrate`
pub async fn migrate(config_path: Option<&Path>) -> Result<(), BoxError> {
    let config = Config::load(config_path)?;
    let pool = crate::db::pool(database(&config)?, 1, config.statement_timeout());
    let mut client = pool.get().await?;
    let applied = crate::db::migrate(&mut client).await?;
    println!(
        "{applied} migration(s) applied; schema at version {}",
        crate::db::MIGRATIONS.len()
    );
    Ok(())
}

/// `kofu events apply FILE`: J-LIS certificate events from JSON lines (`-`
/// for stdin), one transaction each; one JSON line out per event. Stops at
/// the first refused event with its stable code.
pub async fn apply_events(config_path: Option<&Path>, file: &Path) -> Result<(), BoxError> {
    use std::io::BufRead;
    let config = Config::load(config_path)?;
    let pool = crate::db::pool(database(&config)?, 1, config.statement_timeout());
    let mut client = pool.get().await?;
    let input: Box<dyn BufRead> = if file == Path::new("-") {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?,
        ))
    };
    for (n, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let event: crate::registry::events::CertificateEvent = serde_json::from_str(&line)
            .map_err(|e| format!("line {}: event_malformed: {e}", n + 1))?;
        match crate::registry::events::apply(&mut client, &event).await {
            Ok(outcome) => println!(
                "{}",
                serde_json::json!({"event_id": event.event_id, "outcome": outcome})
            ),
            Err(e) => {
                println!(
                    "{}",
                    serde_json::json!({"event_id": event.event_id, "error": e.code()})
                );
                return Err(format!("line {}: {}: {e}", n + 1, e.code()).into());
            }
        }
    }
    Ok(())
}

/// `kofu crl import FILE...`: CRLs of the configured card CAs into the
/// database, one JSON line per file (`{"file", "imported": true|false}`;
/// false when it was already there). Stops at the first file refused.
pub async fn import_crls(
    config_path: Option<&Path>,
    files: &[std::path::PathBuf],
) -> Result<(), BoxError> {
    let config = Config::load(config_path)?;
    let mut anchors = Vec::new();
    for path in &config.tls.card_ca {
        anchors.extend(
            crate::tls::load_certs(path)?
                .into_iter()
                .map(|c| c.to_vec()),
        );
    }
    let pool = crate::db::pool(database(&config)?, 1, config.statement_timeout());
    let mut client = pool.get().await?;
    crate::db::migrate(&mut client).await?;
    for file in files {
        let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let imported = crate::pki::revocation::service::import_bytes(&anchors, &mut client, &bytes)
            .await
            .map_err(|e| format!("{}: {e}", file.display()))?;
        println!(
            "{}",
            serde_json::json!({"file": file.display().to_string(), "imported": imported})
        );
    }
    Ok(())
}

/// `kofu serve`: migrate, serve until SIGINT/SIGTERM, drain, exit.
pub async fn serve(config_path: Option<&Path>) -> Result<(), BoxError> {
    let config = Config::load(config_path)?;
    let pool = crate::db::pool(
        database(&config)?,
        config.db_pool_size,
        config.statement_timeout(),
    );
    migrate_when_reachable(&pool).await?;
    crate::ops::recorder();
    let gateway = Gateway::start(config, pool).await?;
    shutdown_signal().await;
    tracing::info!("shutdown requested; draining");
    gateway.shutdown().await;
    Ok(())
}

/// Migrates, waiting up to a minute for PostgreSQL to become reachable: a
/// gateway restarted during a database outage comes up when the database does.
async fn migrate_when_reachable(pool: &crate::db::Pool) -> Result<(), BoxError> {
    let give_up = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let attempt = async {
            let mut client = pool.get().await?;
            crate::db::migrate(&mut client).await
        }
        .await;
        match attempt {
            Ok(_) => return Ok(()),
            Err(e) if e.is_unavailable() && tokio::time::Instant::now() < give_up => {
                tracing::warn!(error = %e, "PostgreSQL not reachable yet; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
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
