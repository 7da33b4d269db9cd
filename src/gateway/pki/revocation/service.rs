//! Revocation in the copier flow: the gateway's view of the CRLs stored in
//! PostgreSQL, checked for every verified card before its serial is mapped
//! to a resident.
//!
//! Rule: fail closed. A card whose CA has no CRL loaded, or whose newest
//! CRL is past its nextUpdate plus the configured grace, is refused with
//! `revocation_data_stale` (and the `kofu_revocation_stale` gauge says so),
//! never let through. CRLs reach PostgreSQL through `kofu crl import`, the
//! watched directory or the demo; every gateway process polls for new ones
//! every [`POLL`], so an import takes effect everywhere within a second.
//! J-LIS events (suspend, revoke, renew) do not wait for this: they are read
//! in the statement that maps the serial (see `registry::events`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use time::OffsetDateTime;

use super::persist::{self, PersistError};
use super::{IssuerKey, RevocationStore, Status, load_crl};
use crate::gateway::db::Checkout;
use crate::gateway::db::{Cached, Client, Pool};
use crate::gateway::pki::VerifiedCard;

/// How often every process looks for CRLs imported elsewhere.
pub const POLL: Duration = Duration::from_millis(500);

/// Why a verified card is refused on revocation grounds. The codes are the
/// API's (`code()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RevocationRefusal {
    #[error("the card certificate is revoked")]
    Revoked,
    #[error("the card certificate is on hold (suspended)")]
    Suspended,
    #[error("no current CRL for the card's CA")]
    Stale,
}

impl RevocationRefusal {
    pub fn code(self) -> &'static str {
        match self {
            RevocationRefusal::Revoked => "card_revoked",
            RevocationRefusal::Suspended => "card_suspended",
            RevocationRefusal::Stale => "revocation_data_stale",
        }
    }
}

/// Why a CRL file was not imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("not a CRL signed by a configured card CA (with cRLSign): {0}")]
    NotOurs(String),
    #[error(transparent)]
    Persist(#[from] PersistError),
}

/// The card CAs (in `CardVerifier` order) and the CRLs loaded for them.
pub struct RevocationService {
    issuers: Vec<IssuerKey>,
    /// SubjectPublicKeyInfo DER of each card CA, to check CRL signatures.
    spkis: Vec<Vec<u8>>,
    store: RwLock<Arc<RevocationStore>>,
    grace: Duration,
    /// The newest `revocation_crl.id` loaded (0: none).
    loaded_through: std::sync::atomic::AtomicI64,
}

impl std::fmt::Debug for RevocationService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationService")
            .field("issuers", &self.issuers.len())
            .finish_non_exhaustive()
    }
}

/// The card CAs' identities and public keys. A CA whose keyUsage lacks
/// cRLSign gets an empty key: no CRL can verify against it (RFC 5280 §6.3.3).
fn anchors(anchor_ders: &[Vec<u8>]) -> Result<(Vec<IssuerKey>, Vec<Vec<u8>>), String> {
    let mut keys = Vec::new();
    let mut spkis = Vec::new();
    for der in anchor_ders {
        let key = IssuerKey::of_ca_certificate(der).map_err(|e| e.to_string())?;
        let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| e.to_string())?;
        let may_sign_crls = match cert.key_usage() {
            Ok(Some(ku)) => ku.value.crl_sign(),
            Ok(None) => true,
            Err(_) => false,
        };
        keys.push(key);
        spkis.push(if may_sign_crls {
            cert.tbs_certificate.subject_pki.raw.to_vec()
        } else {
            Vec::new()
        });
    }
    Ok((keys, spkis))
}

impl RevocationService {
    /// An empty view for the card CAs `anchor_ders` (every card is refused
    /// as `revocation_data_stale` until a CRL is loaded).
    ///
    /// # Errors
    /// An anchor that does not parse.
    pub fn new(anchor_ders: &[Vec<u8>], grace: Duration) -> Result<Self, String> {
        let (issuers, spkis) = anchors(anchor_ders)?;
        Ok(RevocationService {
            issuers,
            spkis,
            store: RwLock::new(Arc::new(RevocationStore::new())),
            grace,
            loaded_through: std::sync::atomic::AtomicI64::new(0),
        })
    }

    fn store(&self) -> Arc<RevocationStore> {
        self.store.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Revocation status of a verified card at `now`.
    ///
    /// # Errors
    /// The refusal: revoked, on hold, or no current CRL (fail closed).
    pub fn check(&self, card: &VerifiedCard, now: OffsetDateTime) -> Result<(), RevocationRefusal> {
        let store = self.store();
        let Some(issuer) = self.issuers.get(card.issuer_index()) else {
            return Err(RevocationRefusal::Stale);
        };
        let Some(set) = store.snapshot(issuer) else {
            return Err(RevocationRefusal::Stale);
        };
        if self.is_stale(&set, now) {
            return Err(RevocationRefusal::Stale);
        }
        match store.check_card(&self.issuers, card) {
            Status::Good => Ok(()),
            Status::Revoked(r) if r.is_hold() => Err(RevocationRefusal::Suspended),
            Status::Revoked(_) => Err(RevocationRefusal::Revoked),
            Status::Unknown => Err(RevocationRefusal::Stale),
        }
    }

    /// For each card CA, the first 16 hex digits of its key and the age of
    /// its newest full CRL at `now` in seconds (since its thisUpdate);
    /// infinite when it has none.
    pub fn data_ages(&self, now: OffsetDateTime) -> Vec<(String, f64)> {
        let store = self.store();
        self.issuers
            .iter()
            .map(|issuer| {
                let label: String = issuer.0[..8].iter().map(|b| format!("{b:02x}")).collect();
                let age = store
                    .snapshot(issuer)
                    .and_then(|set| {
                        set.base_info()
                            .map(|i| (now - i.this_update).as_seconds_f64())
                    })
                    .unwrap_or(f64::INFINITY);
                (label, age)
            })
            .collect()
    }

    /// True when some card CA has no current CRL at `now` (the operator gauge).
    pub fn any_stale(&self, now: OffsetDateTime) -> bool {
        let store = self.store();
        self.issuers.iter().any(|issuer| {
            store
                .snapshot(issuer)
                .is_none_or(|set| self.is_stale(&set, now))
        })
    }

    /// A CA's CRLs are stale when there is no full CRL, or the full or the
    /// delta CRL is past its nextUpdate plus the grace.
    fn is_stale(&self, set: &super::RevocationSet, now: OffsetDateTime) -> bool {
        let grace = time::Duration::try_from(self.grace).unwrap_or(time::Duration::ZERO);
        let expired = |next: Option<OffsetDateTime>| next.is_some_and(|n| n + grace < now);
        set.base_info().is_none_or(|i| expired(i.next_update))
            || set.delta_info().is_some_and(|i| expired(i.next_update))
    }

    /// Reloads every stored CRL when one was imported since the last load
    /// (by any process). Returns whether it reloaded.
    ///
    /// # Errors
    /// Database errors, or a stored CRL that no longer checks out.
    pub async fn refresh(&self, client: &Client) -> Result<bool, PersistError> {
        const NEWEST: &str = "SELECT coalesce(max(id), 0) FROM revocation_crl";
        let newest: i64 = client.query_one_cached(NEWEST, &[]).await?.get(0);
        let seen = self
            .loaded_through
            .load(std::sync::atomic::Ordering::Acquire);
        if newest == seen {
            return Ok(false);
        }
        let store = persist::load_all(client).await?;
        *self.store.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(store);
        self.loaded_through
            .store(newest, std::sync::atomic::Ordering::Release);
        Ok(true)
    }

    /// Imports one CRL (DER or PEM, full or delta) signed by one of the card
    /// CAs into PostgreSQL. Returns false when it was already there. Every
    /// gateway process loads it within [`POLL`].
    ///
    /// # Errors
    /// A CRL no configured card CA signed, or a database error.
    pub async fn import(&self, client: &mut Client, bytes: &[u8]) -> Result<bool, ImportError> {
        import_with(&self.issuers, &self.spkis, client, bytes).await
    }
}

/// issuingDistributionPoint `{ onlyContainsUserCerts TRUE }`: still every
/// card of the CA, so the one scope the bulk store accepts besides none.
const IDP_ONLY_USER_CERTS: &[u8] = &[0x30, 0x03, 0x81, 0x01, 0xff];

/// The bulk store keeps one scope per CA: all its certificates. A CRL whose
/// issuingDistributionPoint narrows that (a partition by distribution point,
/// CA certificates only, some reasons only, or an indirect CRL) would make
/// cards it does not cover look unrevoked, so it is refused: fail closed.
fn check_scope(der: &[u8]) -> Result<(), ImportError> {
    let crl = super::parse_crl_entries(der).map_err(|e| ImportError::NotOurs(e.to_string()))?;
    match crl.meta.issuing_distribution_point {
        None => Ok(()),
        Some(idp) if idp == IDP_ONLY_USER_CERTS => Ok(()),
        Some(_) => Err(ImportError::NotOurs(
            "the CRL's issuingDistributionPoint narrows its scope (partitioned, CA-only, \
             reason-limited or indirect); the gateway needs a CRL covering all of the CA's cards"
                .to_owned(),
        )),
    }
}

async fn import_with(
    issuers: &[IssuerKey],
    spkis: &[Vec<u8>],
    client: &mut Client,
    bytes: &[u8],
) -> Result<bool, ImportError> {
    let der = super::der_from_pem_or_der(bytes)
        .map_err(|e| ImportError::NotOurs(e.to_string()))?
        .into_owned();
    check_scope(&der)?;
    let mut last = String::from("no card CA configured");
    for (issuer, spki) in issuers.iter().zip(spkis) {
        if spki.is_empty() {
            last = "the card CA's keyUsage lacks cRLSign".to_owned();
            continue;
        }
        let der_for_load = der.clone();
        let spki = spki.clone();
        let loaded = tokio::task::spawn_blocking(move || load_crl(&der_for_load, &spki))
            .await
            .map_err(|e| ImportError::NotOurs(e.to_string()))?;
        match loaded {
            Ok(loaded) => return Ok(persist::save_crl(client, issuer, &der, &loaded).await?),
            Err(e) => last = e.to_string(),
        }
    }
    Err(ImportError::NotOurs(last))
}

/// Imports one CRL (DER or PEM) for the card CAs in `anchor_ders`; false
/// when it was already stored.
///
/// # Errors
/// A CRL no configured card CA signed, or a database error.
pub async fn import_bytes(
    anchor_ders: &[Vec<u8>],
    client: &mut Client,
    bytes: &[u8],
) -> Result<bool, ImportError> {
    let (issuers, spkis) = anchors(anchor_ders).map_err(ImportError::NotOurs)?;
    import_with(&issuers, &spkis, client, bytes).await
}

/// Keeps `service` current: polls PostgreSQL for CRLs imported anywhere,
/// imports new files from `watch_dir` (if set), and updates the staleness
/// gauge. Runs until `stop`.
pub async fn keep_current(
    service: Arc<RevocationService>,
    pool: Pool,
    watch_dir: Option<PathBuf>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut seen_files: std::collections::HashMap<PathBuf, (u64, std::time::SystemTime)> =
        std::collections::HashMap::new();
    loop {
        if let Ok(mut client) = pool.checkout().await {
            if let Some(dir) = &watch_dir {
                import_new_files(&service, &mut client, dir, &mut seen_files).await;
            }
            match service.refresh(&client).await {
                Ok(true) => tracing::info!("revocation data reloaded"),
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "revocation data could not be reloaded"),
            }
        }
        let now = OffsetDateTime::now_utc();
        let stale = service.any_stale(now);
        metrics::gauge!(crate::gateway::series::REVOCATION_STALE).set(if stale {
            1.0
        } else {
            0.0
        });
        for (issuer, age) in service.data_ages(now) {
            metrics::gauge!(crate::gateway::series::REVOCATION_DATA_AGE, "issuer" => issuer)
                .set(age);
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => break,
        }
    }
}

/// Imports files in `dir` that are new or changed since the last look
/// (`*.crl`, `*.der`, `*.pem`). A file that is not a CRL of a card CA is
/// logged once and skipped.
async fn import_new_files(
    service: &RevocationService,
    client: &mut Client,
    dir: &Path,
    seen: &mut std::collections::HashMap<PathBuf, (u64, std::time::SystemTime)>,
) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| ["crl", "der", "pem"].contains(&e))
        })
        .collect();
    files.sort(); // full CRLs are conventionally named before their deltas
    for path in files {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        let stamp = (meta.len(), meta.modified().unwrap_or(std::time::UNIX_EPOCH));
        if seen.get(&path) == Some(&stamp) {
            continue;
        }
        seen.insert(path.clone(), stamp);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        match service.import(client, &bytes).await {
            Ok(true) => {
                tracing::info!(file = %path.display(), "CRL imported from the watched directory")
            }
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "CRL in the watched directory not imported")
            }
        }
    }
}
