//! Rate limits keyed by source address, held in memory per process.

/// Requests per source address (the public verification look-ups): a GCRA
/// bucket refilled at the configured rate, holding a minute's worth.
pub struct AddressLimiter {
    limiter: governor::DefaultKeyedRateLimiter<std::net::IpAddr>,
    checks: std::sync::atomic::AtomicU64,
}

impl AddressLimiter {
    pub fn per_minute(n: u32) -> AddressLimiter {
        let n = std::num::NonZeroU32::new(n.max(1)).expect("at least 1");
        AddressLimiter {
            limiter: governor::RateLimiter::keyed(governor::Quota::per_minute(n)),
            checks: Default::default(),
        }
    }

    /// Counts one look-up from `peer`; `Err(seconds)` to wait when over the limit.
    pub fn check(&self, peer: std::net::IpAddr) -> Result<(), u64> {
        use governor::clock::{Clock, DefaultClock};
        // The map holds only addresses seen within the last minute or so.
        let n = self
            .checks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if n % 4096 == 4095 {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&peer).map_err(|not_until| {
            metrics::counter!(crate::gateway::series::VERIFY_RATE_LIMITED).increment(1);
            not_until
                .wait_time_from(DefaultClock::default().now())
                .as_secs()
                .max(1)
        })
    }
}
