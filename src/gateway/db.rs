//! The PostgreSQL pool and the migration runner.
//!
//! Rule: one pool per process, built at start-up; every connection carries an
//! `application_name` and a `statement_timeout`. Losing PostgreSQL turns into
//! 503 (`DbError::is_unavailable`), and the pool recovers by itself when it
//! comes back.
//!
//! # Relaxed commits
//! The durability rule for statements that end in
//! `set_config('synchronous_commit', 'off', true)`: their implicit
//! transaction commits without waiting for its WAL flush. Only writes whose
//! loss in a database crash harms nobody may do that: opening a session (the
//! copier starts over), binding a card holder to a session, binding a
//! rendered document and a release pass (the pipeline does them again, in
//! the same order). Everything a copier is told that matters (an accepted
//! order, a delivery, a print) commits synchronously, and WAL is flushed in
//! order, so that commit makes every earlier relaxed one durable too.
//!
//! The card step is relaxed on purpose, not by accident. Its commit spends
//! the session's challenge, and the order placed next (synchronous) makes
//! that durable. Lost in a crash before any order, the session is simply
//! unauthenticated again: the copier's order is refused and the resident
//! starts over. What that crash would leave spendable is the same challenge,
//! in the same session, for the same copier (mutual TLS) and card, which can
//! only bind the holder that was already bound, after the card and
//! revocation checks run again.
//!
//! # Failover
//! With a synchronous standby (Patroni's `synchronous_mode`), a
//! synchronous commit returns only once the standby has flushed WAL up to
//! its commit record, and so every relaxed commit before it: the promoted
//! standby holds everything a copier was told, and at most the relaxed
//! commits since the last synchronous one are missing, exactly as after a
//! crash. `DATABASE_URL` may name every node
//! (`host=a,b … target_session_attrs=read-write`): a new connection finds
//! the primary. A demotion restarts PostgreSQL, so connections to the old
//! primary break and the pool replaces them; a statement that still meets
//! a standby (`25006 read_only_sql_transaction`) is a 503 like any other
//! loss of the database. The crash and failover runs in `loadtest`
//! (`--pg-crash-at`, `--ha --pg-failover-at`) hold kofu to this.

use std::time::Duration;
use tokio_postgres::error::SqlState;

use deadpool_postgres::{
    GenericClient, Hook, HookError, Manager, ManagerConfig, RecyclingMethod, Runtime,
};
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

pub use deadpool_postgres::{Client, Pool, Transaction};

/// A connection from the pool, the wait for it recorded
/// ([`crate::gateway::series::DB_POOL_WAIT`]). Every pooled connection is
/// taken this way.
pub trait Checkout {
    fn checkout(
        &self,
    ) -> impl std::future::Future<Output = Result<Client, deadpool_postgres::PoolError>> + Send;
}

impl Checkout for Pool {
    async fn checkout(&self) -> Result<Client, deadpool_postgres::PoolError> {
        let started = std::time::Instant::now();
        let client = self.get().await;
        metrics::histogram!(crate::gateway::series::DB_POOL_WAIT)
            .record(started.elapsed().as_secs_f64());
        client
    }
}

/// A database failure, classified for the HTTP layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("connection pool: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("postgres: {}", describe(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// A register row holds a value the model has no name for (a CHECK
    /// widened without the model): names the column's meaning, never the value.
    #[error("register data: {0}")]
    Data(&'static str),
}

/// The SQLSTATE and primary message, never the DETAIL (which can quote row values).
fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

impl DbError {
    /// True when PostgreSQL is unreachable, shutting down or out of
    /// connections — the client should retry, nothing is wrong with its request.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Pool(_) => true,
            DbError::Postgres(e) => match e.code() {
                None => true, // I/O error or closed connection
                // Class 08 (connection exception), the server going away,
                // or a server that is a standby now (a failover demoted it
                // under a connection made while it was the primary).
                Some(state) => {
                    state.code().starts_with("08")
                        || [
                            SqlState::ADMIN_SHUTDOWN,
                            SqlState::CANNOT_CONNECT_NOW,
                            SqlState::TOO_MANY_CONNECTIONS,
                            SqlState::READ_ONLY_SQL_TRANSACTION,
                        ]
                        .contains(state)
                }
            },
            DbError::Data(_) => false,
        }
    }

    /// True when the transaction lost a deadlock or serialization conflict and
    /// may simply be run again (SQLSTATE 40P01, 40001).
    pub fn is_retryable(&self) -> bool {
        matches!(self, DbError::Postgres(e) if e.code().is_some_and(|c| {
            [SqlState::T_R_DEADLOCK_DETECTED, SqlState::T_R_SERIALIZATION_FAILURE].contains(c)
        }))
    }
}

/// Queries through statements prepared once per connection and cached by the
/// pool: one round trip and no parse or plan per call, where a plain
/// `query(&str)` costs PostgreSQL a parse, a plan and an extra round trip
/// every time. Every statement on a hot path goes through these.
#[allow(async_fn_in_trait)] // only kofu implements and calls it, on concrete types whose futures are Send
pub trait Cached: GenericClient {
    async fn query_cached(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        let statement = self.prepare_cached(sql).await?;
        self.query(&statement, params).await
    }

    async fn query_one_cached(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, tokio_postgres::Error> {
        let statement = self.prepare_cached(sql).await?;
        self.query_one(&statement, params).await
    }

    async fn query_opt_cached(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, tokio_postgres::Error> {
        let statement = self.prepare_cached(sql).await?;
        self.query_opt(&statement, params).await
    }

    async fn execute_cached(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, tokio_postgres::Error> {
        let statement = self.prepare_cached(sql).await?;
        self.execute(&statement, params).await
    }
}

impl<C: GenericClient> Cached for C {}

/// Builds the pool. Nothing connects until the first query.
pub fn pool(config: tokio_postgres::Config, max_size: usize, statement_timeout: Duration) -> Pool {
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    // Generic plans from the first execution: every statement kofu prepares
    // finds its rows by a key or a fixed partial index, so its plan does not
    // depend on the parameters, and the five custom plans PostgreSQL would
    // otherwise make per statement and connection were several percent of
    // its CPU whenever connections are new (a gateway start or restart).
    let setup = format!(
        "SET application_name = 'kofu'; SET statement_timeout = {}; SET TIME ZONE 'UTC'; \
         SET plan_cache_mode = force_generic_plan",
        statement_timeout.as_millis()
    );
    Pool::builder(manager)
        .max_size(max_size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(Duration::from_secs(5)))
        .create_timeout(Some(Duration::from_secs(5)))
        .recycle_timeout(Some(Duration::from_secs(5)))
        .post_create(Hook::async_fn(move |client, _| {
            let setup = setup.clone();
            Box::pin(async move {
                client
                    .batch_execute(&setup)
                    .await
                    .map_err(HookError::Backend)
            })
        }))
        .build()
        .expect("pool builder with a runtime never fails")
}

/// The migrations, in order. `sql/README.md` has the rules.
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "0001_registers.sql",
        include_str!("../../sql/0001_registers.sql"),
    ),
    (
        2,
        "0002_issuance.sql",
        include_str!("../../sql/0002_issuance.sql"),
    ),
    (
        3,
        "0003_ordered_release.sql",
        include_str!("../../sql/0003_ordered_release.sql"),
    ),
    (
        4,
        "0004_document_storage.sql",
        include_str!("../../sql/0004_document_storage.sql"),
    ),
    (
        5,
        "0005_release_function.sql",
        include_str!("../../sql/0005_release_function.sql"),
    ),
    (
        6,
        "0006_certificate_events.sql",
        include_str!("../../sql/0006_certificate_events.sql"),
    ),
    (
        7,
        "0007_revocation.sql",
        include_str!("../../sql/0007_revocation.sql"),
    ),
    (
        8,
        "0008_release_clock.sql",
        include_str!("../../sql/0008_release_clock.sql"),
    ),
    (
        9,
        "0009_document_binding.sql",
        include_str!("../../sql/0009_document_binding.sql"),
    ),
    (
        10,
        "0010_drop_orders_state.sql",
        include_str!("../../sql/0010_drop_orders_state.sql"),
    ),
    (
        11,
        "0011_orders_vacuum.sql",
        include_str!("../../sql/0011_orders_vacuum.sql"),
    ),
    (
        12,
        "0012_hot_orders.sql",
        include_str!("../../sql/0012_hot_orders.sql"),
    ),
    (
        13,
        "0013_release_pass_updates.sql",
        include_str!("../../sql/0013_release_pass_updates.sql"),
    ),
    (
        14,
        "0014_forward_only_when.sql",
        include_str!("../../sql/0014_forward_only_when.sql"),
    ),
    (
        15,
        "0015_binding_on_orders.sql",
        include_str!("../../sql/0015_binding_on_orders.sql"),
    ),
    (
        16,
        "0016_forward_only_plain.sql",
        include_str!("../../sql/0016_forward_only_plain.sql"),
    ),
    (
        17,
        "0017_registers_for_every_kind.sql",
        include_str!("../../sql/0017_registers_for_every_kind.sql"),
    ),
    (
        18,
        "0018_session_card_issued_on.sql",
        include_str!("../../sql/0018_session_card_issued_on.sql"),
    ),
    (
        19,
        "0019_signing_keys.sql",
        include_str!("../../sql/0019_signing_keys.sql"),
    ),
    (
        20,
        "0020_municipality_settings.sql",
        include_str!("../../sql/0020_municipality_settings.sql"),
    ),
    (
        21,
        "0021_settlement.sql",
        include_str!("../../sql/0021_settlement.sql"),
    ),
    (
        22,
        "0022_domicile_registrations.sql",
        include_str!("../../sql/0022_domicile_registrations.sql"),
    ),
    (
        23,
        "0023_release_pass_voided_by.sql",
        include_str!("../../sql/0023_release_pass_voided_by.sql"),
    ),
    (
        24,
        "0024_audit_log.sql",
        include_str!("../../sql/0024_audit_log.sql"),
    ),
    (
        25,
        "0025_session_card_serial.sql",
        include_str!("../../sql/0025_session_card_serial.sql"),
    ),
    (
        26,
        "0026_smartphone_certificates.sql",
        include_str!("../../sql/0026_smartphone_certificates.sql"),
    ),
];

const MIGRATION_LOCK: i64 = 0x006b_6f66_756d_6967; // "kofumig"

/// Applies every migration not yet recorded; safe to run from several
/// processes at once (an advisory lock serialises them). Returns how many ran.
pub async fn migrate(client: &mut Client) -> Result<usize, DbError> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let result = apply_pending(client).await;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await?;
    result
}

async fn apply_pending(client: &mut Client) -> Result<usize, DbError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version integer PRIMARY KEY,
                 name text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await?;
    let mut applied = 0;
    for (version, name, sql) in MIGRATIONS {
        let tx = client.transaction().await?;
        let done = tx
            .query_opt(
                "SELECT 1 FROM schema_migrations WHERE version = $1",
                &[version],
            )
            .await?;
        if done.is_none() {
            tx.batch_execute(sql).await?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                &[version, name],
            )
            .await?;
            applied += 1;
            tracing::info!(version, name, "migration applied");
        }
        tx.commit().await?;
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_sql_is_listed_in_order() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/sql");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let listed: Vec<&str> = MIGRATIONS.iter().map(|(_, n, _)| *n).collect();
        assert_eq!(files, listed);
        for (i, (version, name, _)) in MIGRATIONS.iter().enumerate() {
            assert_eq!(*version as usize, i + 1);
            assert!(name.starts_with(&format!("{version:04}_")));
        }
    }
}
