//! The chain's upkeep in every gateway ([`keeper`]): sealing pending
//! entries into the chain every [`SEAL_EVERY`], and signed checkpoints of
//! the chain head every [`CHECKPOINT_EVERY`] (and at shutdown), stored as
//! (seq, hash, key id, signature) in `audit_checkpoints`.
//!
//! Rules:
//! - The audit key is Ed25519, its seed stored only sealed under the
//!   signing secret like the document signing keys (associated data
//!   `"audit:" || kid`); its public half is in `audit_keys` and is what
//!   `kofu audit verify` needs (`--key` pins it).
//! - The signed message is [`checkpoint_message`]: `"kofu-audit-checkpoint-v1"
//!   || seq (i64 BE) || hash`. A rewrite of any entry at or before a
//!   checkpoint cannot be hidden by recomputing the chain, since the
//!   signature would have to be forged too.
//! - Several processes may sign at once: one checkpoint per seq
//!   (`ON CONFLICT DO NOTHING`), and a process signs only when the head has
//!   moved past the last checkpoint.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ring::signature::{Ed25519KeyPair, KeyPair};
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::gateway::db::{Cached, Checkout, Client, DbError, Pool};
use crate::gateway::signing::{KeyError, KeyStore};

/// How often each gateway process signs the chain head (when it moved).
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(10);

/// How often each gateway process seals pending entries into the chain:
/// how long an entry stays unchained (and editable without a trace).
pub const SEAL_EVERY: Duration = Duration::from_millis(100);

/// The prefix of every signed checkpoint message.
pub const CHECKPOINT_DOMAIN: &[u8] = b"kofu-audit-checkpoint-v1";

/// The bytes a checkpoint's signature is over.
pub fn checkpoint_message(seq: i64, hash: &[u8]) -> Vec<u8> {
    let mut out = CHECKPOINT_DOMAIN.to_vec();
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(hash);
    out
}

/// Why a checkpoint was not signed.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error(transparent)]
    Db(#[from] DbError),
    /// The current audit key was sealed under another signing secret.
    #[error("the audit key does not unseal under this gateway's signing secret")]
    Unsealable,
}

impl From<tokio_postgres::Error> for CheckpointError {
    fn from(e: tokio_postgres::Error) -> Self {
        CheckpointError::Db(e.into())
    }
}

struct AuditKey {
    kid: String,
    pair: Ed25519KeyPair,
}

/// Signs checkpoints with the gateway's current audit key, made on first use.
pub struct AuditSigner {
    keys: Arc<KeyStore>,
    current: Mutex<Option<Arc<AuditKey>>>,
}

impl std::fmt::Debug for AuditSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditSigner(…)")
    }
}

const CURRENT_KEY: &str = "SELECT kid, sealed_seed FROM audit_keys WHERE retired_at IS NULL";
/// Loses quietly to a key another process made at the same moment.
const INSERT_KEY: &str = "INSERT INTO audit_keys (kid, public_key, sealed_seed) VALUES ($1, $2, $3)
                          ON CONFLICT DO NOTHING";
/// The committed chain head and the last checkpoint's seq.
const HEAD: &str =
    "SELECT h.seq, h.hash, (SELECT max(c.seq) FROM audit_checkpoints c) FROM audit_head h";
const INSERT_CHECKPOINT: &str = "INSERT INTO audit_checkpoints (seq, hash, kid, signature)
                                 VALUES ($1, $2, $3, $4) ON CONFLICT (seq) DO NOTHING";

fn aad(kid: &str) -> String {
    format!("audit:{kid}")
}

impl AuditSigner {
    /// Seals and unseals its key with `keys`' signing secret.
    pub fn new(keys: Arc<KeyStore>) -> AuditSigner {
        AuditSigner {
            keys,
            current: Mutex::new(None),
        }
    }

    /// The current audit key, unsealed (made first when there is none).
    async fn key(&self, client: &Client) -> Result<Arc<AuditKey>, CheckpointError> {
        if let Some(key) = self
            .current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Ok(key);
        }
        let row = match client.query_opt_cached(CURRENT_KEY, &[]).await? {
            Some(row) => row,
            None => {
                let now = OffsetDateTime::now_utc();
                let suffix: [u8; 3] = crate::gateway::random_bytes();
                let kid = format!(
                    "audit-{:04}{:02}{:02}-{}",
                    now.year(),
                    u8::from(now.month()),
                    now.day(),
                    crate::gateway::http::hex(&suffix)
                );
                let seed: [u8; 32] = crate::gateway::random_bytes();
                let pair = Ed25519KeyPair::from_seed_unchecked(&seed)
                    .expect("any 32 bytes are an Ed25519 seed");
                let sealed = self.keys.seal(&aad(&kid), &seed);
                client
                    .execute_cached(INSERT_KEY, &[&kid, &pair.public_key().as_ref(), &sealed])
                    .await?;
                client.query_one_cached(CURRENT_KEY, &[]).await?
            }
        };
        let kid: String = row.get(0);
        let seed = self
            .keys
            .unseal(&aad(&kid), row.get(1))
            .map_err(|e| match e {
                KeyError::Db(db) => CheckpointError::Db(db),
                _ => CheckpointError::Unsealable,
            })?;
        let key = Arc::new(AuditKey {
            pair: Ed25519KeyPair::from_seed_unchecked(&seed)
                .expect("any 32 bytes are an Ed25519 seed"),
            kid,
        });
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(key.clone());
        Ok(key)
    }

    /// Signs the chain head when it has moved past the last checkpoint.
    /// Returns the seq signed, if any.
    pub async fn checkpoint(&self, client: &Client) -> Result<Option<i64>, CheckpointError> {
        let row = client.query_one_cached(HEAD, &[]).await?;
        let seq: i64 = row.get(0);
        let hash: Vec<u8> = row.get(1);
        let last: Option<i64> = row.get(2);
        if seq == 0 || last.is_some_and(|last| last >= seq) {
            return Ok(None);
        }
        let key = self.key(client).await?;
        let signature = key.pair.sign(&checkpoint_message(seq, &hash));
        let stored = client
            .execute_cached(
                INSERT_CHECKPOINT,
                &[&seq, &hash, &key.kid, &signature.as_ref()],
            )
            .await?;
        if stored == 1 {
            // Shipped with the logs, these lines are a witness outside
            // the database of what the chain said (hashes only).
            tracing::info!(
                seq,
                hash = %crate::gateway::http::hex(&hash),
                kid = %key.kid,
                "audit checkpoint signed"
            );
        }
        Ok(Some(seq))
    }
}

/// Seals every [`SEAL_EVERY`] and signs a checkpoint every
/// [`CHECKPOINT_EVERY`]; at `stop`, seals what is pending and signs once more.
pub async fn keeper(signer: Arc<AuditSigner>, pool: Pool, mut stop: watch::Receiver<bool>) {
    let mut unsealable_reported = false;
    let mut last_checkpoint = tokio::time::Instant::now();
    loop {
        let stopping = tokio::select! {
            _ = tokio::time::sleep(SEAL_EVERY) => false,
            _ = stop.changed() => true,
        };
        let client = match pool.checkout().await {
            Ok(client) => client,
            Err(e) => {
                tracing::warn!(error = %e, "audit chain not sealed; retrying");
                if stopping {
                    break;
                }
                continue;
            }
        };
        let sealed = if stopping {
            super::seal_all(&client, Duration::from_secs(2))
                .await
                .map(|_| ())
        } else {
            // A full batch means more is waiting: seal again at once.
            loop {
                match super::seal(&client).await {
                    Ok(n) if n == super::SEAL_BATCH => continue,
                    Ok(_) => break Ok(()),
                    Err(e) => break Err(e),
                }
            }
        };
        if let Err(e) = sealed {
            tracing::warn!(error = %e, "audit chain not sealed; retrying");
        }
        if !stopping && last_checkpoint.elapsed() < CHECKPOINT_EVERY {
            continue;
        }
        last_checkpoint = tokio::time::Instant::now();
        match signer.checkpoint(&client).await {
            Ok(_) => {}
            Err(CheckpointError::Unsealable) if unsealable_reported => {}
            Err(CheckpointError::Unsealable) => {
                unsealable_reported = true;
                tracing::error!(
                    "audit checkpoints not signed: the audit key does not unseal under this signing secret"
                );
            }
            Err(e) => tracing::warn!(error = %e, "audit checkpoint not signed; retrying"),
        }
        if stopping {
            break;
        }
    }
}
