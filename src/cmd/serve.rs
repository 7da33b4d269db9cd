//! `kofu serve`: the production entry point, on an external PostgreSQL named
//! by `DATABASE_URL`. Migrates, serves until SIGINT/SIGTERM, drains, exits.

use crate::BoxError;
use crate::cmd::{ConfigArg, shutdown_signal};
use crate::gateway::server::Gateway;

pub async fn run(args: &ConfigArg) -> Result<(), BoxError> {
    let (config, database) = args.load()?;
    let pool = crate::gateway::db::pool(database, config.db_pool_size, config.statement_timeout());
    migrate_when_reachable(&pool).await?;
    crate::gateway::ops::recorder();
    if config.verify_url.is_none() {
        tracing::warn!(
            "verify_url is not set: QR codes point at this process's own copier listener, \
             and another process on the same database would render different bytes"
        );
    }
    let gateway = Gateway::start(config, pool).await?;
    shutdown_signal().await;
    tracing::info!("shutdown requested; draining");
    gateway.shutdown().await;
    Ok(())
}

/// Migrates, waiting up to a minute for PostgreSQL to become reachable: a
/// gateway restarted during a database outage comes up when the database does.
async fn migrate_when_reachable(pool: &crate::gateway::db::Pool) -> Result<(), BoxError> {
    let give_up = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let attempt = async {
            let mut client = pool.get().await?;
            crate::gateway::db::migrate(&mut client).await
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
