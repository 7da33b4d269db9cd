//! Challenges of sessions opened by this process, kept so the card step
//! can verify the signature before it goes to the database, then spend the
//! challenge and bind the resident in one statement.
//!
//! Rule: this is only a shortcut. The database row stays the authority —
//! the binding statement spends the challenge only if it is still unspent,
//! unexpired, of this copier and equal to the one held here — and a session
//! whose challenge is not held here (opened by another process, or evicted)
//! takes the slow path: spend first, then verify.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use uuid::Uuid;

use crate::gateway::domain::CertFingerprint;

/// Sessions held at most; beyond this, new ones are not held (slow path).
const MAX_HELD: usize = 100_000;

/// A session's challenge as opened here.
#[derive(Clone, Copy)]
pub struct HeldChallenge {
    pub challenge: [u8; 32],
    pub copier: CertFingerprint,
    expires: Instant,
}

#[derive(Default)]
pub struct ChallengeCache {
    held: Mutex<HashMap<Uuid, HeldChallenge>>,
}

impl ChallengeCache {
    /// Holds a new session's challenge until `ttl` from now.
    pub fn put(
        &self,
        session_id: Uuid,
        challenge: [u8; 32],
        copier: CertFingerprint,
        ttl: std::time::Duration,
    ) {
        let now = Instant::now();
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if held.len() >= MAX_HELD {
            held.retain(|_, c| c.expires > now);
            if held.len() >= MAX_HELD {
                return;
            }
        }
        held.insert(
            session_id,
            HeldChallenge {
                challenge,
                copier,
                expires: now + ttl,
            },
        );
    }

    /// Removes and returns the challenge held for `session_id`, if it is
    /// unexpired and was opened by `copier`.
    pub fn take(&self, session_id: Uuid, copier: &CertFingerprint) -> Option<HeldChallenge> {
        let held = self
            .held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&session_id)?;
        (held.expires > Instant::now() && &held.copier == copier).then_some(held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_challenge_is_taken_once_and_only_by_its_copier_before_it_expires() {
        let cache = ChallengeCache::default();
        let one = CertFingerprint::from_slice(&[1; 32]).unwrap();
        let two = CertFingerprint::from_slice(&[2; 32]).unwrap();
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        cache.put(a, [7; 32], one, Duration::from_secs(60));
        assert!(cache.take(a, &two).is_none(), "another copier");
        // Taking it for the wrong copier dropped it: the slow path decides.
        assert!(cache.take(a, &one).is_none());

        cache.put(a, [7; 32], one, Duration::from_secs(60));
        assert_eq!(cache.take(a, &one).unwrap().challenge, [7; 32]);
        assert!(cache.take(a, &one).is_none(), "single use");

        cache.put(b, [8; 32], one, Duration::ZERO);
        assert!(cache.take(b, &one).is_none(), "expired");
    }
}
