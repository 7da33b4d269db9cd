//! `kofu audit verify`'s logic: recomputes the chain from its first entry,
//! checks every link, every signed checkpoint and the chain head, and names
//! the first seq where the log stops being what was written.
//!
//! Rule: one snapshot (a read-only REPEATABLE READ transaction), so a live
//! gateway appending meanwhile never makes a sound log look broken; the
//! arithmetic ([`Chain`]) is pure and unit-tested, the SQL only fetches.
//!
//! What it catches: an edited entry (its hash no longer matches), a deleted
//! one (a seq missing), an inserted or reordered one (a link or a hash
//! breaks), and a chain recomputed after an edit (a checkpoint's hash or
//! signature no longer matches). What it cannot catch from the database
//! alone: the tail after the last checkpoint cut off together with the
//! chain head; an operator who keeps the checkpoints the gateways log
//! ("audit checkpoint signed") catches that too.

use std::collections::{BTreeMap, HashMap};

use ring::signature::{ED25519, UnparsedPublicKey};
use serde::Serialize;
use time::OffsetDateTime;

use super::checkpoint::checkpoint_message;
use super::{GENESIS, entry_hash};
use crate::gateway::db::DbError;

/// Why a log is not what was written; each has a stable `reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum Break {
    /// A seq is absent (an entry was deleted).
    #[error("entry_missing")]
    EntryMissing,
    /// The stored hash is not the hash of the entry's content.
    #[error("entry_altered")]
    EntryAltered,
    /// `prev_hash` is not the previous entry's hash (an entry inserted,
    /// removed or moved).
    #[error("broken_link")]
    BrokenLink,
    /// The chain head disagrees with the last entry (entries past it, or a
    /// cut tail).
    #[error("head_mismatch")]
    HeadMismatch,
    /// A checkpoint's hash is not the entry's at its seq (the chain was
    /// recomputed).
    #[error("checkpoint_mismatch")]
    CheckpointMismatch,
    /// A checkpoint names a seq the log does not have (the tail was cut).
    #[error("checkpoint_beyond_log")]
    CheckpointBeyondLog,
    /// A checkpoint's signature does not verify under its key.
    #[error("checkpoint_signature_invalid")]
    CheckpointSignatureInvalid,
    /// A checkpoint names a key `audit_keys` does not have.
    #[error("checkpoint_key_unknown")]
    CheckpointKeyUnknown,
    /// A checkpoint is signed by a key other than the pinned ones (`--key`).
    #[error("checkpoint_key_not_pinned")]
    CheckpointKeyNotPinned,
}

impl Break {
    /// The stable reason printed by `kofu audit verify`.
    pub fn reason(self) -> &'static str {
        match self {
            Break::EntryMissing => "entry_missing",
            Break::EntryAltered => "entry_altered",
            Break::BrokenLink => "broken_link",
            Break::HeadMismatch => "head_mismatch",
            Break::CheckpointMismatch => "checkpoint_mismatch",
            Break::CheckpointBeyondLog => "checkpoint_beyond_log",
            Break::CheckpointSignatureInvalid => "checkpoint_signature_invalid",
            Break::CheckpointKeyUnknown => "checkpoint_key_unknown",
            Break::CheckpointKeyNotPinned => "checkpoint_key_not_pinned",
        }
    }
}

/// The verdict: `{"valid":bool,"entries":N,"checkpoints":M,"first_bad_seq":..,"reason":".."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub valid: bool,
    /// Entries read.
    pub entries: u64,
    /// Checkpoints read.
    pub checkpoints: u64,
    /// The seq of the last checkpoint (compare with one kept elsewhere).
    pub last_checkpoint_seq: Option<i64>,
    /// The first seq where the log breaks.
    pub first_bad_seq: Option<i64>,
    /// Entries committed but not chained yet (the sealer runs every 100 ms).
    pub pending: u64,
    /// `"ok"` or a [`Break::reason`].
    pub reason: &'static str,
}

impl Report {
    /// The one JSON line printed.
    pub fn json(&self) -> String {
        serde_json::to_string(self).expect("a report serialises")
    }
}

/// One stored entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: i64,
    pub at_micros: i64,
    pub action: String,
    pub subject: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// One stored checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: Vec<u8>,
    pub kid: String,
    pub signature: Vec<u8>,
}

/// The verification in progress: entries are pushed in seq order.
#[derive(Debug)]
pub struct Chain {
    /// The seq the next entry must have.
    next_seq: i64,
    /// The previous entry's stored hash.
    last_hash: Vec<u8>,
    entries: u64,
    checkpoint_count: u64,
    last_checkpoint_seq: Option<i64>,
    /// Checkpoints whose signature verified, by seq, awaiting their entry.
    checkpoints: BTreeMap<i64, Vec<u8>>,
    first_break: Option<(i64, Break)>,
}

impl Chain {
    /// Starts a verification: every checkpoint's signature is checked now
    /// against its key (`keys`: kid → public key), which must be one of
    /// `pinned` when any is given.
    pub fn new(
        checkpoints: Vec<Checkpoint>,
        keys: &HashMap<String, Vec<u8>>,
        pinned: &[[u8; 32]],
    ) -> Chain {
        let mut chain = Chain {
            next_seq: 1,
            last_hash: GENESIS.to_vec(),
            entries: 0,
            checkpoint_count: checkpoints.len() as u64,
            last_checkpoint_seq: checkpoints.iter().map(|c| c.seq).max(),
            checkpoints: BTreeMap::new(),
            first_break: None,
        };
        for c in checkpoints {
            let verdict = match keys.get(&c.kid) {
                None => Err(Break::CheckpointKeyUnknown),
                Some(key) if !pinned.is_empty() && !pinned.iter().any(|p| p[..] == key[..]) => {
                    Err(Break::CheckpointKeyNotPinned)
                }
                Some(key) => UnparsedPublicKey::new(&ED25519, key)
                    .verify(&checkpoint_message(c.seq, &c.hash), &c.signature)
                    .map_err(|_| Break::CheckpointSignatureInvalid),
            };
            match verdict {
                Ok(()) => {
                    chain.checkpoints.insert(c.seq, c.hash);
                }
                Err(why) => chain.broken(c.seq, why),
            }
        }
        chain
    }

    /// Keeps the break with the smallest seq.
    fn broken(&mut self, seq: i64, why: Break) {
        if self.first_break.is_none_or(|(first, _)| seq < first) {
            self.first_break = Some((seq, why));
        }
    }

    /// Checks the next entry in seq order.
    pub fn push(&mut self, entry: &Entry) {
        self.entries += 1;
        if entry.seq != self.next_seq {
            // Rows come in seq order, so a jump is a gap.
            self.broken(self.next_seq.min(entry.seq), Break::EntryMissing);
        }
        let computed = entry_hash(
            entry.seq,
            entry.at_micros,
            &entry.action,
            &entry.subject,
            &entry.prev_hash,
        );
        if computed[..] != entry.hash[..] {
            self.broken(entry.seq, Break::EntryAltered);
        } else if entry.prev_hash != self.last_hash {
            self.broken(entry.seq, Break::BrokenLink);
        }
        if let Some(signed) = self.checkpoints.remove(&entry.seq)
            && signed != entry.hash
        {
            self.broken(entry.seq, Break::CheckpointMismatch);
        }
        self.next_seq = entry.seq.saturating_add(1);
        self.last_hash.clone_from(&entry.hash);
    }

    /// The verdict, once every entry is pushed, given the chain head row.
    pub fn finish(mut self, head_seq: i64, head_hash: &[u8]) -> Report {
        let last_seq = self.next_seq - 1;
        // Checkpoints left over name seqs the log lacks (or skipped).
        let beyond = self.checkpoints.keys().next().copied();
        if let Some(seq) = beyond {
            let at = if seq > last_seq { last_seq + 1 } else { seq };
            self.broken(at, Break::CheckpointBeyondLog);
        }
        if head_seq > last_seq {
            self.broken(last_seq + 1, Break::EntryMissing);
        } else if head_seq < last_seq {
            self.broken(head_seq + 1, Break::HeadMismatch);
        } else if head_hash != self.last_hash {
            self.broken(head_seq.max(1), Break::HeadMismatch);
        }
        let (first_bad_seq, reason) = match self.first_break {
            Some((seq, why)) => (Some(seq), why.reason()),
            None => (None, "ok"),
        };
        Report {
            valid: first_bad_seq.is_none(),
            entries: self.entries,
            checkpoints: self.checkpoint_count,
            last_checkpoint_seq: self.last_checkpoint_seq,
            first_bad_seq,
            pending: 0,
            reason,
        }
    }
}

const SNAPSHOT: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
const KEYS: &str = "SELECT kid, public_key FROM audit_keys";
const CHECKPOINTS: &str = "SELECT seq, hash, kid, signature FROM audit_checkpoints ORDER BY seq";
const HEAD: &str = "SELECT seq, hash, (SELECT count(*) FROM audit_pending) FROM audit_head";
/// A page of entries after a seq (keyset paging: memory stays bounded
/// however long the log).
const ENTRIES: &str = "SELECT seq, at, action, subject, prev_hash, hash FROM audit_log
                        WHERE seq > $1 ORDER BY seq LIMIT 10000";

/// Verifies the audit log `client` reaches, in one snapshot, streaming the
/// entries. `pinned`: the audit public keys to accept (any in `audit_keys`
/// when empty).
///
/// # Errors
/// Only when the database cannot be read; a broken log is a [`Report`].
pub async fn verify(
    client: &tokio_postgres::Client,
    pinned: &[[u8; 32]],
) -> Result<Report, DbError> {
    client.batch_execute(SNAPSHOT).await?;
    let result = verify_in_snapshot(client, pinned).await;
    let _ = client.batch_execute("ROLLBACK").await;
    result
}

async fn verify_in_snapshot(
    client: &tokio_postgres::Client,
    pinned: &[[u8; 32]],
) -> Result<Report, DbError> {
    let keys: HashMap<String, Vec<u8>> = client
        .query(KEYS, &[])
        .await?
        .into_iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let checkpoints = client
        .query(CHECKPOINTS, &[])
        .await?
        .into_iter()
        .map(|r| Checkpoint {
            seq: r.get(0),
            hash: r.get(1),
            kid: r.get(2),
            signature: r.get(3),
        })
        .collect();
    let head = client.query_one(HEAD, &[]).await?;
    let mut chain = Chain::new(checkpoints, &keys, pinned);
    let page = client.prepare(ENTRIES).await?;
    let mut after = i64::MIN;
    loop {
        let rows = client.query(&page, &[&after]).await?;
        let Some(last) = rows.last() else { break };
        after = last.get(0);
        for row in &rows {
            let at: OffsetDateTime = row.get(1);
            chain.push(&Entry {
                seq: row.get(0),
                at_micros: (at.unix_timestamp_nanos() / 1000) as i64,
                action: row.get(2),
                subject: row.get(3),
                prev_hash: row.get(4),
                hash: row.get(5),
            });
        }
    }
    let head_hash: Vec<u8> = head.get(1);
    let mut report = chain.finish(head.get(0), &head_hash);
    report.pending = head.get::<_, i64>(2) as u64;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{Ed25519KeyPair, KeyPair};

    fn entries(n: i64) -> Vec<Entry> {
        let mut prev = GENESIS.to_vec();
        (1..=n)
            .map(|seq| {
                let subject = format!("{{\"order\": {seq}}}");
                let hash = entry_hash(seq, seq * 1000, "order.accepted", &subject, &prev).to_vec();
                let e = Entry {
                    seq,
                    at_micros: seq * 1000,
                    action: "order.accepted".into(),
                    subject,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                e
            })
            .collect()
    }

    fn key() -> Ed25519KeyPair {
        Ed25519KeyPair::from_seed_unchecked(&[9; 32]).unwrap()
    }

    fn keys() -> HashMap<String, Vec<u8>> {
        HashMap::from([("k1".to_owned(), key().public_key().as_ref().to_vec())])
    }

    fn signed(e: &Entry) -> Checkpoint {
        Checkpoint {
            seq: e.seq,
            hash: e.hash.clone(),
            kid: "k1".into(),
            signature: key()
                .sign(&checkpoint_message(e.seq, &e.hash))
                .as_ref()
                .to_vec(),
        }
    }

    fn run(log: &[Entry], checkpoints: Vec<Checkpoint>, head: (i64, &[u8])) -> Report {
        let mut chain = Chain::new(checkpoints, &keys(), &[]);
        for e in log {
            chain.push(e);
        }
        chain.finish(head.0, head.1)
    }

    fn head(log: &[Entry]) -> (i64, Vec<u8>) {
        let last = log.last().unwrap();
        (last.seq, last.hash.clone())
    }

    #[test]
    fn a_sound_chain_with_a_checkpoint_is_valid() {
        let log = entries(5);
        let (s, h) = head(&log);
        let r = run(&log, vec![signed(&log[2])], (s, &h));
        assert_eq!(
            (r.valid, r.reason, r.entries, r.checkpoints),
            (true, "ok", 5, 1)
        );
        assert_eq!(r.first_bad_seq, None);
    }

    #[test]
    fn an_empty_log_is_valid() {
        let r = run(&[], vec![], (0, &GENESIS));
        assert!(r.valid, "{r:?}");
    }

    #[test]
    fn an_edited_subject_is_caught_at_its_seq() {
        let mut log = entries(5);
        log[2].subject = "{\"order\": 99}".into();
        let (s, h) = head(&log);
        let r = run(&log, vec![], (s, &h));
        assert_eq!((r.first_bad_seq, r.reason), (Some(3), "entry_altered"));
    }

    #[test]
    fn a_deleted_entry_is_caught_at_its_seq() {
        let mut log = entries(5);
        log.remove(1);
        let (s, h) = head(&log);
        let r = run(&log, vec![], (s, &h));
        assert_eq!((r.first_bad_seq, r.reason), (Some(2), "entry_missing"));
    }

    #[test]
    fn a_recomputed_chain_is_caught_by_the_checkpoint_after_the_edit() {
        let log = entries(5);
        let checkpoint = signed(&log[3]);
        // Rewrite entry 2 and rehash everything after it.
        let mut forged = Vec::new();
        let mut prev = GENESIS.to_vec();
        for (i, e) in log.iter().enumerate() {
            let subject = if i == 1 {
                "{}".to_owned()
            } else {
                e.subject.clone()
            };
            let hash = entry_hash(e.seq, e.at_micros, &e.action, &subject, &prev).to_vec();
            forged.push(Entry {
                subject,
                prev_hash: prev.clone(),
                hash: hash.clone(),
                ..e.clone()
            });
            prev = hash;
        }
        let (s, h) = head(&forged);
        let r = run(&forged, vec![checkpoint], (s, &h));
        assert_eq!(
            (r.first_bad_seq, r.reason),
            (Some(4), "checkpoint_mismatch")
        );
    }

    #[test]
    fn a_checkpoint_with_a_forged_signature_is_caught() {
        let log = entries(3);
        let mut c = signed(&log[1]);
        c.signature[0] ^= 1;
        let (s, h) = head(&log);
        let r = run(&log, vec![c], (s, &h));
        assert_eq!(
            (r.first_bad_seq, r.reason),
            (Some(2), "checkpoint_signature_invalid")
        );
    }

    #[test]
    fn a_checkpoint_by_an_unpinned_key_is_refused() {
        let log = entries(2);
        let mut chain = Chain::new(vec![signed(&log[1])], &keys(), &[[1; 32]]);
        log.iter().for_each(|e| chain.push(e));
        let (s, h) = head(&log);
        let r = chain.finish(s, &h);
        assert_eq!(r.reason, "checkpoint_key_not_pinned");
    }

    #[test]
    fn a_cut_tail_behind_a_checkpoint_is_caught() {
        let log = entries(5);
        let checkpoint = signed(&log[4]);
        let cut = &log[..3];
        let (s, h) = head(cut);
        let r = run(cut, vec![checkpoint], (s, &h));
        assert_eq!(
            (r.first_bad_seq, r.reason),
            (Some(4), "checkpoint_beyond_log")
        );
    }

    #[test]
    fn entries_past_the_head_are_caught() {
        let log = entries(4);
        let h = log[2].hash.clone();
        let r = run(&log, vec![], (3, &h));
        assert_eq!((r.first_bad_seq, r.reason), (Some(4), "head_mismatch"));
    }
}
