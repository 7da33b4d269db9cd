//! The revocation store in PostgreSQL (`sql/0007_revocation.sql`): imported
//! CRLs kept as their signed DER in chunks, J-LIS revocation events, and the
//! rebuild of the in-memory [`RevocationStore`] at start.
//!
//! The rule it keeps: only CRLs whose signature was verified are saved
//! ([`save_crl`] takes the [`LoadedCrl`] that [`super::load_crl`] returned
//! with the DER it came from), and restoring re-checks each stored CRL's
//! SHA-256 before trusting it. The CPU work of a rebuild runs on the blocking
//! pool, not the reactor.

use deadpool_postgres::Client;
use time::OffsetDateTime;

use super::crl_der::{LoadedContent, LoadedCrl, load_stored_crl};
use super::{CrlLoadError, IssuerKey, Reason, RevocationStore, Serial};
use crate::gateway::db::{Cached, DbError};

/// Chunk size of a stored CRL.
pub const CHUNK_BYTES: usize = 8 << 20;

/// A persistence failure.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error(transparent)]
    Db(#[from] DbError),
    /// A stored CRL no longer loads (digest mismatch or damage).
    #[error("stored CRL {id} does not load: {source}")]
    Stored {
        id: i64,
        #[source]
        source: CrlLoadError,
    },
    /// A stored row is out of its declared shape.
    #[error("stored revocation row {what} is malformed")]
    Row { what: &'static str },
    /// The rebuild task died.
    #[error("rebuild task failed")]
    Task,
}

impl From<tokio_postgres::Error> for PersistError {
    fn from(e: tokio_postgres::Error) -> Self {
        PersistError::Db(DbError::Postgres(e))
    }
}

/// A CRL number as 20 bytes, left padded, so bytea order is numeric order.
fn padded(number: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 20usize.saturating_sub(number.len())];
    out.extend_from_slice(number);
    out
}

const INSERT_CRL: &str = "INSERT INTO revocation_crl
     (issuer_key, crl_number, delta_base, this_update, next_update, sha256, size_bytes)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (issuer_key, sha256) DO NOTHING
     RETURNING id";
const INSERT_CHUNK: &str =
    "INSERT INTO revocation_crl_chunk (crl_id, seq, data) VALUES ($1, $2, $3)";
/// A full CRL supersedes every older CRL of its issuer, full or delta; a
/// delta supersedes older deltas.
const PRUNE_AFTER_FULL: &str =
    "DELETE FROM revocation_crl WHERE issuer_key = $1 AND id <> $2 AND crl_number < $3";
const PRUNE_AFTER_DELTA: &str = "DELETE FROM revocation_crl
     WHERE issuer_key = $1 AND id <> $2 AND crl_number < $3 AND delta_base IS NOT NULL";

/// Saves a verified CRL (`der` is the exact DER that produced `loaded`) for
/// `issuer`, and prunes what it supersedes, in one transaction. Saving the
/// same CRL twice is a no-op. Returns whether it was new.
///
/// # Errors
/// Database errors.
pub async fn save_crl(
    client: &mut Client,
    issuer: &IssuerKey,
    der: &[u8],
    loaded: &LoadedCrl,
) -> Result<bool, PersistError> {
    let number = padded(loaded.info.number.as_deref().unwrap_or_default());
    let delta_base = match &loaded.content {
        LoadedContent::Full(_) => None,
        LoadedContent::Delta { base_number, .. } => Some(padded(base_number)),
    };
    let sha256 = ring::digest::digest(&ring::digest::SHA256, der);
    let tx = client.transaction().await.map_err(DbError::from)?;
    let row = tx
        .query_opt_cached(
            INSERT_CRL,
            &[
                &issuer.0.as_slice(),
                &number,
                &delta_base,
                &loaded.info.this_update,
                &loaded.info.next_update,
                &sha256.as_ref(),
                &(der.len() as i64),
            ],
        )
        .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    let id: i64 = row.get(0);
    for (seq, chunk) in der.chunks(CHUNK_BYTES).enumerate() {
        tx.execute_cached(INSERT_CHUNK, &[&id, &(seq as i32), &chunk])
            .await?;
    }
    let prune = if delta_base.is_none() {
        PRUNE_AFTER_FULL
    } else {
        PRUNE_AFTER_DELTA
    };
    tx.execute_cached(prune, &[&issuer.0.as_slice(), &id, &number])
        .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(true)
}

const INSERT_EVENT: &str = "INSERT INTO revocation_event (issuer_key, serial, reason)
     VALUES ($1, $2, $3)
     ON CONFLICT (issuer_key, serial) DO UPDATE SET reason = EXCLUDED.reason
     WHERE revocation_event.reason IS DISTINCT FROM 6 OR EXCLUDED.reason IS NOT DISTINCT FROM 6";

/// Records a revocation or suspension reported as an event, durably, before
/// the caller applies it with [`RevocationStore::record_event`]. A hold
/// (certificateHold) recorded again with a final reason becomes final.
///
/// # Errors
/// Database errors.
pub async fn save_event(
    client: &Client,
    issuer: &IssuerKey,
    serial: &Serial,
    reason: Option<Reason>,
) -> Result<(), PersistError> {
    let reason = reason.map(|r| i16::from(r.code()));
    client
        .execute_cached(
            INSERT_EVENT,
            &[&issuer.0.as_slice(), &serial.as_bytes(), &reason],
        )
        .await?;
    Ok(())
}

const LATEST_FULL: &str =
    "SELECT DISTINCT ON (issuer_key) id, issuer_key, crl_number, sha256, size_bytes
     FROM revocation_crl WHERE delta_base IS NULL
     ORDER BY issuer_key, crl_number DESC";
const LATEST_DELTA: &str = "SELECT id, sha256, size_bytes FROM revocation_crl
     WHERE issuer_key = $1 AND delta_base IS NOT NULL AND delta_base <= $2 AND crl_number > $2
     ORDER BY crl_number DESC LIMIT 1";
const CHUNKS: &str = "SELECT data FROM revocation_crl_chunk WHERE crl_id = $1 ORDER BY seq";
const EVENTS: &str = "SELECT issuer_key, serial, reason FROM revocation_event";

fn issuer_of(bytes: &[u8]) -> Result<IssuerKey, PersistError> {
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| PersistError::Row { what: "issuer_key" })?;
    Ok(IssuerKey(arr))
}

async fn fetch_crl(client: &Client, id: i64, size: i64) -> Result<Vec<u8>, PersistError> {
    let rows = client.query_cached(CHUNKS, &[&id]).await?;
    let mut der = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    for row in rows {
        der.extend_from_slice(row.get::<_, &[u8]>(0));
    }
    Ok(der)
}

async fn rebuild(der: Vec<u8>, sha256: Vec<u8>, id: i64) -> Result<LoadedCrl, PersistError> {
    tokio::task::spawn_blocking(move || load_stored_crl(&der, &sha256))
        .await
        .map_err(|_| PersistError::Task)?
        .map_err(|source| PersistError::Stored { id, source })
}

/// Rebuilds the store: per issuer the newest full CRL, the newest delta
/// against it, and the recorded events.
///
/// # Errors
/// Database errors, or a stored CRL that no longer loads.
pub async fn load_all(client: &Client) -> Result<RevocationStore, PersistError> {
    let store = RevocationStore::new();
    for row in client.query_cached(LATEST_FULL, &[]).await? {
        let id: i64 = row.get(0);
        let issuer = issuer_of(row.get(1))?;
        let number: Vec<u8> = row.get(2);
        let der = fetch_crl(client, id, row.get(4)).await?;
        let loaded = rebuild(der, row.get(3), id).await?;
        let LoadedContent::Full(index) = loaded.content else {
            return Err(PersistError::Row { what: "delta_base" });
        };
        store
            .install_full(issuer, index, Some(loaded.info))
            .map_err(|_| PersistError::Row { what: "crl_number" })?;
        if let Some(d) = client
            .query_opt_cached(LATEST_DELTA, &[&issuer.0.as_slice(), &number])
            .await?
        {
            let id: i64 = d.get(0);
            let der = fetch_crl(client, id, d.get(2)).await?;
            let loaded = rebuild(der, d.get(1), id).await?;
            let LoadedContent::Delta {
                changes,
                base_number,
            } = loaded.content
            else {
                return Err(PersistError::Row { what: "delta_base" });
            };
            store
                .apply_delta(issuer, &base_number, changes, loaded.info)
                .map_err(|_| PersistError::Row { what: "delta_base" })?;
        }
    }
    let mut events: std::collections::BTreeMap<IssuerKey, Vec<(Serial, Option<Reason>)>> =
        Default::default();
    for row in client.query_cached(EVENTS, &[]).await? {
        let issuer = issuer_of(row.get(0))?;
        let serial =
            Serial::from_magnitude(row.get(1)).map_err(|_| PersistError::Row { what: "serial" })?;
        let reason = match row.get::<_, Option<i16>>(2) {
            None => None,
            Some(c) => Some(
                u8::try_from(c)
                    .ok()
                    .and_then(Reason::from_code)
                    .ok_or(PersistError::Row { what: "reason" })?,
            ),
        };
        events.entry(issuer).or_default().push((serial, reason));
    }
    for (issuer, list) in events {
        store.record_events(issuer, list);
    }
    Ok(store)
}

/// When the newest CRL of each issuer was issued and is due to be replaced
/// (for the freshness gauge and `/readyz`).
///
/// # Errors
/// Database errors.
pub async fn freshness(
    client: &Client,
) -> Result<Vec<(IssuerKey, OffsetDateTime, Option<OffsetDateTime>)>, PersistError> {
    const Q: &str = "SELECT DISTINCT ON (issuer_key) issuer_key, this_update, next_update
         FROM revocation_crl ORDER BY issuer_key, crl_number DESC";
    client
        .query_cached(Q, &[])
        .await?
        .into_iter()
        .map(|r| Ok((issuer_of(r.get(0))?, r.get(1), r.get(2))))
        .collect()
}
