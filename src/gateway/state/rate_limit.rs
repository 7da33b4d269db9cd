//! Rate limits (GCRA, `governor`), held in memory per process: per copier
//! certificate, per card, per municipality and per source address on the
//! public endpoints. Each refusal is a `429` with `Retry-After` and its own
//! code, counted in `kofu_rate_limited_total{limit}`.
//!
//! Rule: a limit refuses only the one who is over it. Every key has its own
//! bucket, so a copier or a card over its limit costs every other one
//! nothing but the check itself.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use governor::clock::{Clock, DefaultClock};
use governor::{Quota, RateLimiter};

use crate::gateway::config::RateLimits;
use crate::gateway::domain::CertFingerprint;
use crate::gateway::error::{Problem, RequestError};
use crate::gateway::http::CopierIdentity;
use crate::gateway::series;

/// One keyed GCRA limiter that forgets idle keys now and then.
pub struct Keyed<K: Hash + Eq + Clone> {
    limiter: governor::DefaultKeyedRateLimiter<K>,
    checks: AtomicU64,
}

impl<K: Hash + Eq + Clone> Keyed<K> {
    pub fn new(quota: Quota) -> Keyed<K> {
        Keyed {
            limiter: RateLimiter::keyed(quota),
            checks: AtomicU64::new(0),
        }
    }

    /// Takes `n` cells from `key`'s bucket; `Err(seconds to wait)` when it
    /// holds fewer (or could never hold `n`: then an hour).
    pub fn check(&self, key: &K, n: u32) -> Result<(), u64> {
        // The map keeps only keys seen recently.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            self.limiter.retain_recent();
        }
        let Some(n) = NonZeroU32::new(n) else {
            return Ok(());
        };
        match self.limiter.check_key_n(key, n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(not_until
                .wait_time_from(DefaultClock::default().now())
                .as_secs()
                .max(1)),
            Err(_) => Err(3600),
        }
    }
}

fn at_least_one(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).expect("at least 1")
}

/// Requests per source address (the public verification look-ups): a GCRA
/// bucket refilled at the configured rate, holding a minute's worth.
pub struct AddressLimiter(Keyed<IpAddr>);

impl AddressLimiter {
    pub fn per_minute(n: u32) -> AddressLimiter {
        AddressLimiter(Keyed::new(Quota::per_minute(at_least_one(n))))
    }

    /// Counts one look-up from `peer`; `Err(seconds)` to wait when over the limit.
    pub fn check(&self, peer: IpAddr) -> Result<(), u64> {
        self.0.check(&peer, 1).inspect_err(|_| {
            metrics::counter!(series::VERIFY_RATE_LIMITED).increment(1);
        })
    }
}

/// The gateway's rate limits (`rate_limits` in the configuration).
pub struct Limits {
    copier: Keyed<CertFingerprint>,
    card: Keyed<Vec<u8>>,
    municipality: Keyed<String>,
    public: Keyed<IpAddr>,
}

/// A `429` of `error`, asking to wait `seconds`, counted under `limit`.
fn refused(error: RequestError, limit: &'static str, seconds: u64) -> Problem {
    metrics::counter!(series::RATE_LIMITED, "limit" => limit).increment(1);
    let mut problem = Problem::from(error);
    problem.retry_after = Some(u32::try_from(seconds).unwrap_or(u32::MAX));
    problem
}

/// Counts a card refused because another copier holds it.
pub fn card_elsewhere() {
    metrics::counter!(series::RATE_LIMITED, "limit" => "card_elsewhere").increment(1);
}

impl Limits {
    pub fn new(config: &RateLimits) -> Limits {
        Limits {
            copier: Keyed::new(
                Quota::per_minute(at_least_one(config.copier_requests_per_minute))
                    .allow_burst(at_least_one(config.copier_requests_burst)),
            ),
            card: Keyed::new(
                Quota::per_hour(at_least_one(config.card_copies_per_hour))
                    .allow_burst(at_least_one(config.card_copies_burst)),
            ),
            municipality: Keyed::new(Quota::per_second(at_least_one(
                config.municipality_orders_per_second,
            ))),
            public: Keyed::new(Quota::per_minute(at_least_one(
                config.public_requests_per_minute,
            ))),
        }
    }

    /// Counts one request on the copier or public listener: a copier's
    /// against its certificate, one without a certificate (the public
    /// endpoints) against its address. (The administration listener's
    /// operators are not counted; the listener does not ask.)
    pub fn request(&self, copier: Option<&CopierIdentity>, peer: IpAddr) -> Result<(), Problem> {
        match copier {
            Some(copier) => self
                .copier
                .check(&copier.fingerprint, 1)
                .map_err(|s| refused(RequestError::CopierRateLimited, "copier", s)),
            None => self
                .public
                .check(&peer, 1)
                .map_err(|s| refused(RequestError::AddressRateLimited, "address", s)),
        }
    }

    /// Counts an order of `copies` for the card `serial` issued by
    /// `municipality`: the card's copies, then the municipality's orders.
    pub fn order(&self, serial: &[u8], municipality: &str, copies: u32) -> Result<(), Problem> {
        self.card
            .check(&serial.to_vec(), copies)
            .map_err(|s| refused(RequestError::CardRateLimited, "card", s))?;
        self.municipality
            .check(&municipality.to_owned(), 1)
            .map_err(|s| refused(RequestError::MunicipalityRateLimited, "municipality", s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::new(&RateLimits {
            copier_requests_per_minute: 3,
            copier_requests_burst: 3,
            card_copies_per_hour: 10,
            card_copies_burst: 5,
            card_exclusive_secs: 60,
            municipality_orders_per_second: 4,
            public_requests_per_minute: 2,
            refusal_delay_ms: 0,
        })
    }

    fn copier(name: &[u8]) -> CopierIdentity {
        CopierIdentity {
            fingerprint: CertFingerprint::of_der(name),
            copier_id: "chain/store/copier".into(),
        }
    }

    #[test]
    fn a_copier_over_its_limit_is_refused_and_another_is_not() {
        let limits = limits();
        let peer = IpAddr::from([127, 0, 0, 1]);
        let (greedy, other) = (copier(b"a"), copier(b"b"));
        for _ in 0..3 {
            limits.request(Some(&greedy), peer).unwrap();
        }
        let refused = limits.request(Some(&greedy), peer).unwrap_err();
        assert_eq!(refused.code, "copier_rate_limited");
        assert_eq!(refused.status.as_u16(), 429);
        assert!(refused.retry_after.is_some_and(|s| s >= 1));
        assert!(limits.request(Some(&other), peer).is_ok());
    }

    #[test]
    fn the_public_endpoints_count_per_source_address() {
        let limits = limits();
        let (a, b) = (IpAddr::from([192, 0, 2, 1]), IpAddr::from([192, 0, 2, 2]));
        assert!(limits.request(None, a).is_ok());
        assert!(limits.request(None, a).is_ok());
        assert_eq!(
            limits.request(None, a).unwrap_err().code,
            "address_rate_limited"
        );
        assert!(limits.request(None, b).is_ok());
    }

    #[test]
    fn a_card_counts_copies_and_a_municipality_counts_orders() {
        let limits = limits();
        limits.order(b"card-1", "139998", 5).unwrap();
        assert_eq!(
            limits.order(b"card-1", "139998", 1).unwrap_err().code,
            "card_rate_limited"
        );
        // More copies at once than the burst can ever hold.
        assert_eq!(
            limits.order(b"card-2", "139998", 6).unwrap_err().code,
            "card_rate_limited"
        );
        limits.order(b"card-3", "139998", 1).unwrap();
        limits.order(b"card-4", "139998", 1).unwrap();
        // The municipality had four orders this second (card-1, then 3, 4, 5).
        limits.order(b"card-5", "139998", 1).unwrap();
        assert_eq!(
            limits.order(b"card-6", "139998", 1).unwrap_err().code,
            "municipality_rate_limited"
        );
        assert!(limits.order(b"card-7", "012025", 1).is_ok());
    }
}
