//! The audit trail: an append-only, hash-chained log of every
//! authentication, order, print, void, withdrawal, registered-domicile
//! decision, J-LIS certificate event and administration change, with the
//! chain head signed periodically (`sql/0024_audit_log.sql`).
//!
//! Rules:
//! - An entry is appended in the transaction that makes the change it
//!   records: a rolled-back change leaves no entry, a committed one always
//!   has one. Most appends are the database's own (deferred constraint
//!   triggers on `orders`, `sessions`, `domicile_registrations`,
//!   `certificate_events`, `municipalities`, `municipality_settings`,
//!   `signing_keys`), so no code path can skip them. What no single row says
//!   (a register file imported, a change feed applied) is appended here,
//!   with [`append`].
//! - An append only inserts into `audit_pending`, and takes no lock another
//!   writer waits for. The sealer ([`seal`], run every 100 ms by each
//!   gateway, one at a time) chains committed entries in batches, so the
//!   chain head is never locked through a writer's commit.
//! - Each entry's hash is SHA-256 over [`canonical_bytes`], which include
//!   the previous entry's hash; [`verify`] recomputes every hash from the
//!   first entry and checks every signed checkpoint ([`checkpoint`]).
//! - Subjects carry opaque identifiers only (see the migration): never a
//!   name, an address, a My Number or a raw card serial.
//!
//! The actions: `card.authenticated`; `order.accepted`, `order.printed`,
//! `order.voided`; `document.withdrawn`; `domicile.registered`,
//! `domicile.decided`, `domicile.card_renewed`; `certificate.issued`,
//! `certificate.renewed`, `certificate.suspended`, `certificate.revoked`;
//! `municipality.created`, `municipality.settings_changed`,
//! `municipality.went_live`; `signing_key.created`, `signing_key.retired`,
//! `signing_key.revoked`; `register.imported`, `register.changes_applied`.

pub mod checkpoint;
pub mod verify;

use deadpool_postgres::Object;

use crate::gateway::db::{Cached, Client, DbError, Pool};

pub use checkpoint::AuditSigner;
pub use verify::{Report, verify};

/// What the first entry's `prev_hash` is.
pub const GENESIS: [u8; 32] = [0; 32];

/// The prefix of every entry's canonical bytes (its format's version).
pub const ENTRY_DOMAIN: &[u8] = b"kofu-audit-v1";

/// The bytes an entry's hash is taken over, exactly as
/// `kofu_audit_bytes` builds them in SQL:
/// `"kofu-audit-v1" || seq (i64 BE) || at (µs since the Unix epoch, i64 BE)
/// || len(action) (u32 BE) || action || len(subject) (u32 BE) || subject ||
/// prev_hash` (32 bytes), strings in UTF-8.
pub fn canonical_bytes(
    seq: i64,
    at_micros: i64,
    action: &str,
    subject: &str,
    prev_hash: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        ENTRY_DOMAIN.len() + 24 + action.len() + subject.len() + prev_hash.len(),
    );
    out.extend_from_slice(ENTRY_DOMAIN);
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&at_micros.to_be_bytes());
    for part in [action.as_bytes(), subject.as_bytes()] {
        // A subject is bounded far below 4 GiB by PostgreSQL's own limits.
        out.extend_from_slice(&(part.len() as u32).to_be_bytes());
        out.extend_from_slice(part);
    }
    out.extend_from_slice(prev_hash);
    out
}

/// SHA-256 of [`canonical_bytes`].
pub fn entry_hash(
    seq: i64,
    at_micros: i64,
    action: &str,
    subject: &str,
    prev_hash: &[u8],
) -> [u8; 32] {
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        &canonical_bytes(seq, at_micros, action, subject, prev_hash),
    );
    digest
        .as_ref()
        .try_into()
        .expect("SHA-256 is 32 bytes long")
}

/// What Rust appends itself; the rest are the triggers' (module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A register file loaded into a municipality (all of it).
    RegisterImported,
    /// A change feed (異動) applied to a municipality (all of it).
    ChangesApplied,
}

impl Action {
    /// The name stored in `audit_log.action`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::RegisterImported => "register.imported",
            Action::ChangesApplied => "register.changes_applied",
        }
    }
}

/// Appends one entry in the caller's transaction (pending until the sealer
/// chains it), the operator it acts for (see [`Acting`]) added to
/// `subject`. `subject` must hold opaque identifiers and counts only.
pub async fn append(
    client: &impl Cached,
    action: Action,
    subject: serde_json::Value,
) -> Result<i64, DbError> {
    /// The operator, when the transaction names one, joins the subject.
    const APPEND: &str = "SELECT kofu_audit_append($1,
        $2::jsonb || jsonb_build_object('operator', kofu_audit_operator()))";
    let row = client
        .query_one_cached(APPEND, &[&action.as_str(), &subject])
        .await?;
    Ok(row.get(0))
}

/// Entries chained per sealing transaction.
pub const SEAL_BATCH: i32 = 10_000;

/// Chains up to [`SEAL_BATCH`] committed pending entries; returns how many
/// (0 also when another process is sealing). Its commit is relaxed (see
/// "Relaxed commits" in [`crate::gateway::db`]): a seal lost in a crash
/// leaves its entries pending, and the next seal chains them again.
pub async fn seal(client: &impl Cached) -> Result<i32, DbError> {
    const SEAL: &str = "SELECT kofu_audit_seal($1), set_config('synchronous_commit', 'off', true)";
    let row = client.query_one_cached(SEAL, &[&SEAL_BATCH]).await?;
    Ok(row.get(0))
}

/// Seals until nothing committed is pending (another process may be
/// sealing meanwhile), for at most `limit`. Returns whether it got there.
pub async fn seal_all(client: &impl Cached, limit: std::time::Duration) -> Result<bool, DbError> {
    const PENDING: &str = "SELECT count(*) FROM audit_pending";
    let deadline = std::time::Instant::now() + limit;
    loop {
        if seal(client).await? > 0 {
            continue;
        }
        let pending: i64 = client.query_one_cached(PENDING, &[]).await?.get(0);
        if pending == 0 {
            return Ok(true);
        }
        if std::time::Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A pooled connection that names the operator an administration request
/// acts for (`kofu.operator`, read by the audit triggers), for as long as
/// the request uses it. [`Acting::done`] clears the name and returns the
/// connection to the pool; dropped without it (an error returned early, a
/// cancelled request), the connection is closed instead, so no other
/// request can ever run under the operator's name.
pub struct Acting {
    client: Option<Client>,
}

impl Acting {
    /// Takes a connection from `pool` and names `operator` (an
    /// `OperatorIdentity::audit_name`) on it.
    pub async fn checkout(pool: &Pool, operator: &str) -> Result<Acting, DbError> {
        use crate::gateway::db::Checkout;
        let client = pool.checkout().await?;
        let acting = Acting {
            client: Some(client),
        };
        acting
            .client()
            .execute_cached(
                "SELECT set_config('kofu.operator', $1, false)",
                &[&operator],
            )
            .await?;
        Ok(acting)
    }

    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("present until dropped")
    }

    pub fn client_mut(&mut self) -> &mut Client {
        self.client.as_mut().expect("present until dropped")
    }

    /// Clears the operator's name; the connection goes back to the pool.
    pub async fn done(mut self) -> Result<(), DbError> {
        let client = self.client.take().expect("present until dropped");
        match client
            .execute_cached("SELECT set_config('kofu.operator', '', false)", &[])
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                drop(Object::take(client));
                Err(e.into())
            }
        }
    }
}

impl Drop for Acting {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            // Detached from the pool and dropped: the connection closes
            // with the operator's name on it.
            drop(Object::take(client));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canonical_bytes_are_laid_out_as_documented() {
        let bytes = canonical_bytes(2, 1_000_001, "order.printed", "{\"a\": 1}", &[7; 32]);
        let mut expected = b"kofu-audit-v1".to_vec();
        expected.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 2]);
        expected.extend_from_slice(&1_000_001i64.to_be_bytes());
        expected.extend_from_slice(&[0, 0, 0, 13]);
        expected.extend_from_slice(b"order.printed");
        expected.extend_from_slice(&[0, 0, 0, 8]);
        expected.extend_from_slice(b"{\"a\": 1}");
        expected.extend_from_slice(&[7; 32]);
        assert_eq!(bytes, expected);
    }

    #[test]
    fn length_prefixes_keep_action_and_subject_apart() {
        // Moving a byte from the action to the subject changes the hash.
        let a = entry_hash(1, 0, "ab", "c", &GENESIS);
        let b = entry_hash(1, 0, "a", "bc", &GENESIS);
        assert_ne!(a, b);
    }

    #[test]
    fn every_field_changes_the_hash() {
        let base = entry_hash(5, 10, "x.y", "{}", &GENESIS);
        assert_ne!(base, entry_hash(6, 10, "x.y", "{}", &GENESIS));
        assert_ne!(base, entry_hash(5, 11, "x.y", "{}", &GENESIS));
        assert_ne!(base, entry_hash(5, 10, "x.z", "{}", &GENESIS));
        assert_ne!(base, entry_hash(5, 10, "x.y", "{ }", &GENESIS));
        assert_ne!(base, entry_hash(5, 10, "x.y", "{}", &[1; 32]));
    }
}
