//! Document signing: each municipality's Ed25519 keys, the verification
//! codes, and the published public keys (`GET /v1/keys`).
//!
//! Rules:
//! - A municipality has at most one current key (a unique index holds it);
//!   every order takes the current key of its municipality in the statement
//!   that takes its ticket, so a rotation or revocation elsewhere is seen by
//!   the very next acceptance in every process.
//! - A key's private half (its RFC 8032 seed) is stored only sealed with
//!   AES-256-GCM under the gateway's signing secret, its key id as associated
//!   data; it is unsealed in memory, by the gateway, to sign.
//! - Keys are never deleted: a retired key still verifies what it signed; a
//!   revoked key is published as revoked, and what it signed is no longer
//!   genuine.

pub mod code;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::gateway::db::{Cached, Client, DbError};
use crate::gateway::render::signing::Ed25519Signer;

pub use code::VerificationCode;

/// The signing secret: 32 bytes, given as 64 hexadecimal characters.
#[derive(Clone)]
pub struct SigningSecret([u8; 32]);

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(…)")
    }
}

impl SigningSecret {
    /// Reads 64 hexadecimal characters (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Option<SigningSecret> {
        let text = text.trim();
        if text.len() != 64 || !text.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(SigningSecret(out))
    }

    /// A new random secret, as 64 hexadecimal characters (`kofu demo`
    /// writes one; operators make theirs with any CSPRNG).
    pub fn generate_hex() -> String {
        crate::gateway::http::hex(&crate::gateway::random_bytes::<32>())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("no such signing key")]
    Unknown,
    #[error("the signing key does not unseal under this gateway's signing secret")]
    Unsealable,
    #[error("the municipality does not exist")]
    NoMunicipality,
}

impl From<tokio_postgres::Error> for KeyError {
    fn from(e: tokio_postgres::Error) -> Self {
        KeyError::Db(e.into())
    }
}

/// A public key as `GET /v1/keys` publishes it.
#[derive(Debug, Clone, Serialize)]
pub struct PublishedKey {
    pub kid: String,
    /// Local government code.
    pub municipality: String,
    pub algorithm: &'static str,
    /// The 32-byte Ed25519 public key, base64url without padding.
    pub public_key: String,
    pub created_at: String,
    pub retired_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// `GET /v1/keys`'s body.
#[derive(Debug, Clone, Serialize)]
pub struct KeyList {
    pub keys: Vec<PublishedKey>,
}

/// The gateway's signing keys: sealed in PostgreSQL, unsealed here on first use.
pub struct KeyStore {
    secret: LessSafeKey,
    signers: RwLock<HashMap<String, Arc<Ed25519Signer>>>,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyStore(…)")
    }
}

const CURRENT_KEY_CONFLICT: &str =
    "ON CONFLICT (municipality_code) WHERE retired_at IS NULL AND revoked_at IS NULL DO NOTHING";

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("timestamps format")
}

impl KeyStore {
    pub fn new(secret: &SigningSecret) -> KeyStore {
        KeyStore {
            secret: LessSafeKey::new(
                UnboundKey::new(&AES_256_GCM, &secret.0).expect("32 bytes is an AES-256 key"),
            ),
            signers: RwLock::new(HashMap::new()),
        }
    }

    /// `seed` sealed under the signing secret, `kid` as associated data
    /// (nonce || ciphertext || tag). Also seals the audit keys (`audit`).
    pub(crate) fn seal(&self, kid: &str, seed: &[u8; 32]) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = crate::gateway::random_bytes();
        let mut sealed = seed.to_vec();
        self.secret
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut sealed,
            )
            .expect("sealing 32 bytes cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        out
    }

    /// The seed [`KeyStore::seal`] sealed with the same `kid`.
    pub(crate) fn unseal(&self, kid: &str, stored: &[u8]) -> Result<[u8; 32], KeyError> {
        if stored.len() < NONCE_LEN {
            return Err(KeyError::Unsealable);
        }
        let (nonce, sealed) = stored.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| KeyError::Unsealable)?;
        let mut buf = sealed.to_vec();
        let seed = self
            .secret
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut buf)
            .map_err(|_| KeyError::Unsealable)?;
        seed.try_into().map_err(|_| KeyError::Unsealable)
    }

    /// A new key for `municipality`, sealed, as its current key unless it
    /// already has one (then nothing is stored). Returns the kid if stored.
    async fn insert_current(
        &self,
        client: &impl Cached,
        municipality: &str,
    ) -> Result<Option<String>, KeyError> {
        let today = OffsetDateTime::now_utc();
        let suffix: [u8; 3] = crate::gateway::random_bytes();
        let kid = format!(
            "{municipality}-{:04}{:02}{:02}-{}",
            today.year(),
            u8::from(today.month()),
            today.day(),
            crate::gateway::http::hex(&suffix)
        );
        let seed: [u8; 32] = crate::gateway::random_bytes();
        let signer = Ed25519Signer::from_seed(kid.clone(), &seed);
        let sealed = self.seal(&kid, &seed);
        let inserted = client
            .execute_cached(
                &format!(
                    "INSERT INTO signing_keys (kid, municipality_code, public_key, sealed_seed)
                     SELECT $1, code, $3, $4 FROM municipalities WHERE code = $2
                     {CURRENT_KEY_CONFLICT}"
                ),
                &[
                    &kid,
                    &municipality,
                    &signer.public_key().as_slice(),
                    &sealed,
                ],
            )
            .await?;
        if inserted == 0 {
            return Ok(None);
        }
        self.remember(signer);
        Ok(Some(kid))
    }

    fn remember(&self, signer: Ed25519Signer) -> Arc<Ed25519Signer> {
        use crate::gateway::render::signing::DocumentSigner;
        let signer = Arc::new(signer);
        self.signers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(signer.key_id().to_owned(), signer.clone());
        signer
    }

    /// Gives every municipality without a current key a new one (at start,
    /// and when a municipality is created). Safe from several processes at
    /// once. Returns how many keys were made.
    pub async fn provision(&self, client: &Client) -> Result<usize, KeyError> {
        let missing = client
            .query(
                "SELECT code FROM municipalities m WHERE NOT EXISTS (
                     SELECT 1 FROM signing_keys k WHERE k.municipality_code = m.code
                        AND k.retired_at IS NULL AND k.revoked_at IS NULL)",
                &[],
            )
            .await?;
        let mut made = 0;
        for row in missing {
            let code: &str = row.get(0);
            if self.insert_current(client, code).await?.is_some() {
                made += 1;
                tracing::info!(municipality = code, "document signing key made");
            }
        }
        Ok(made)
    }

    /// Retires the municipality's current key (it still verifies what it
    /// signed) and makes a new current one. Returns the new kid.
    pub async fn rotate(
        &self,
        client: &mut Client,
        municipality: &str,
    ) -> Result<String, KeyError> {
        let tx = client.transaction().await.map_err(DbError::from)?;
        tx.execute(
            "UPDATE signing_keys SET retired_at = now()
              WHERE municipality_code = $1 AND retired_at IS NULL AND revoked_at IS NULL",
            &[&municipality],
        )
        .await?;
        let kid = self
            .insert_current(&tx, municipality)
            .await?
            .ok_or(KeyError::NoMunicipality)?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(kid)
    }

    /// Revokes `kid` of `municipality` (documents it signed are no longer
    /// genuine); when it was the current key, a new one takes its place.
    /// Returns the new current kid, if one was made. Revoking twice is a no-op.
    pub async fn revoke(
        &self,
        client: &mut Client,
        municipality: &str,
        kid: &str,
    ) -> Result<Option<String>, KeyError> {
        let tx = client.transaction().await.map_err(DbError::from)?;
        let row = tx
            .query_opt(
                "UPDATE signing_keys SET revoked_at = coalesce(revoked_at, now())
                  WHERE kid = $1 AND municipality_code = $2
                 RETURNING (SELECT retired_at IS NULL AND revoked_at IS NULL
                              FROM signing_keys WHERE kid = $1)",
                &[&kid, &municipality],
            )
            .await?;
        let Some(row) = row else {
            return Err(KeyError::Unknown);
        };
        let was_current: bool = row.get(0);
        let replacement = if was_current {
            self.insert_current(&tx, municipality).await?
        } else {
            None
        };
        tx.commit().await.map_err(DbError::from)?;
        Ok(replacement)
    }

    /// The signer of `kid` if this process has unsealed it already.
    pub fn cached(&self, kid: &str) -> Option<Arc<Ed25519Signer>> {
        self.signers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(kid)
            .cloned()
    }

    /// The signer of `kid` (retired and revoked keys too: rendering an
    /// order again must give the same bytes).
    pub async fn signer(
        &self,
        client: &impl Cached,
        kid: &str,
    ) -> Result<Arc<Ed25519Signer>, KeyError> {
        if let Some(signer) = self.cached(kid) {
            return Ok(signer);
        }
        let row = client
            .query_opt_cached(
                "SELECT sealed_seed FROM signing_keys WHERE kid = $1",
                &[&kid],
            )
            .await?
            .ok_or(KeyError::Unknown)?;
        let seed = self.unseal(kid, row.get(0))?;
        Ok(self.remember(Ed25519Signer::from_seed(kid, &seed)))
    }
}

/// Every key, as `GET /v1/keys` publishes them (oldest first).
pub async fn published(client: &impl Cached) -> Result<KeyList, DbError> {
    let rows = client
        .query_cached(
            "SELECT kid, municipality_code, public_key, created_at, retired_at, revoked_at
               FROM signing_keys ORDER BY municipality_code, created_at, kid",
            &[],
        )
        .await?;
    let keys = rows
        .iter()
        .map(|row| PublishedKey {
            kid: row.get(0),
            municipality: row.get(1),
            algorithm: "Ed25519",
            public_key: URL_SAFE_NO_PAD.encode(row.get::<_, &[u8]>(2)),
            created_at: rfc3339(row.get(3)),
            retired_at: row.get::<_, Option<OffsetDateTime>>(4).map(rfc3339),
            revoked_at: row.get::<_, Option<OffsetDateTime>>(5).map(rfc3339),
        })
        .collect();
    Ok(KeyList { keys })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_seed_opens_only_under_its_secret_and_its_kid() {
        let secret = SigningSecret::from_hex(&SigningSecret::generate_hex()).unwrap();
        let store = KeyStore::new(&secret);
        let seed = [7u8; 32];
        let sealed = store.seal("131016-20261202-abcdef", &seed);
        assert_eq!(
            store.unseal("131016-20261202-abcdef", &sealed).unwrap(),
            seed
        );
        assert!(matches!(
            store.unseal("131016-20261202-abcdee", &sealed),
            Err(KeyError::Unsealable)
        ));
        let other = KeyStore::new(&SigningSecret::from_hex(&"11".repeat(32)).unwrap());
        assert!(matches!(
            other.unseal("131016-20261202-abcdef", &sealed),
            Err(KeyError::Unsealable)
        ));
        let mut tampered = sealed.clone();
        tampered[20] ^= 1;
        assert!(store.unseal("131016-20261202-abcdef", &tampered).is_err());
        assert!(store.unseal("x", &sealed[..5]).is_err());
        assert_ne!(sealed[NONCE_LEN..NONCE_LEN + 32], seed);
    }

    #[test]
    fn a_secret_is_64_hex_characters() {
        assert!(SigningSecret::from_hex(&"ab".repeat(32)).is_some());
        assert!(SigningSecret::from_hex(&format!(" {}\n", "AB".repeat(32))).is_some());
        assert!(SigningSecret::from_hex(&"ab".repeat(31)).is_none());
        assert!(SigningSecret::from_hex(&"zz".repeat(32)).is_none());
        assert!(SigningSecret::from_hex(&"é".repeat(32)).is_none());
        assert_eq!(
            format!("{:?}", SigningSecret::from_hex(&"ab".repeat(32)).unwrap()),
            "SigningSecret(…)"
        );
    }
}
