//! Ordered release and deadlines.
//!
//! Rule: a document is released only when every order with a smaller ticket
//! has been released or voided. One releaser at a time holds the
//! `release_state` row (the others skip), walks the unreleased orders in
//! ticket order from the watermark, releases rendered ones, voids ones past
//! their render deadline, and stops at the first order still rendering in
//! time. Head-of-line blocking is therefore bounded by the render deadline,
//! and a voided order never hands its place — or its copier — to another.

use std::time::Duration;

use tokio::sync::watch;

use super::{Job, Pipeline};
use crate::gateway::db::Checkout;
use crate::gateway::db::{Cached, Client, DbError, Pool};

/// How often every process looks for work a peer (or a crash) left behind.
const RELEASE_TICK: Duration = Duration::from_millis(25);
/// The least time between two passes of one process: renders finishing
/// meanwhile are released together, so a pass (a fixed cost in the
/// database) is shared by several orders under load, for at most this much
/// added latency.
const RELEASE_MIN_GAP: Duration = Duration::from_millis(16);
/// After an outage, orders still waiting for their render get at least this
/// long before their render deadline voids them: a render finished during
/// the outage is stored by its worker's next try (every 200 ms).
const OUTAGE_GRACE: Duration = Duration::from_secs(2);

/// Gives every order waiting for its render at least `$1` seconds more.
const EXTEND_AFTER_OUTAGE: &str = "
    UPDATE orders SET render_deadline = now() + make_interval(secs => $1)
     WHERE state = 'accepted' AND render_deadline < now() + make_interval(secs => $1)";

/// The longest wait between two passes while they fail.
const RELEASE_BACKOFF_MAX: Duration = Duration::from_secs(1);
const SWEEP_TICK: Duration = Duration::from_millis(500);
/// Orders looked at per release pass.
const RELEASE_BATCH: i64 = 512;

pub(super) async fn releaser(pipeline: Pipeline, pool: Pool, mut stop: watch::Receiver<bool>) {
    if !pipeline.settings().ordered {
        return;
    }
    let mut last_pass = tokio::time::Instant::now();
    // While PostgreSQL is away, passes back off (doubling up to a second)
    // and the failure is logged once per half minute, not once per pass.
    let mut failures: u32 = 0;
    let failure_log = crate::gateway::connections::LogThrottle::every(Duration::from_secs(30));
    loop {
        tokio::select! {
            _ = pipeline.shared.release_needed.notified() => {}
            _ = tokio::time::sleep(RELEASE_TICK) => {}
            _ = stop.changed() => break,
        }
        tokio::time::sleep_until(last_pass + RELEASE_MIN_GAP).await;
        last_pass = tokio::time::Instant::now();
        let outcome = match pool.checkout().await {
            Ok(mut client) => {
                // Back from an outage: renders finished meanwhile could not
                // be stored, so no order is voided for its render deadline
                // before the workers have had a moment to store them.
                let recovered = if failures > 0 {
                    client
                        .execute(EXTEND_AFTER_OUTAGE, &[&OUTAGE_GRACE.as_secs_f64()])
                        .await
                        .map(|_| ())
                        .map_err(DbError::from)
                } else {
                    Ok(())
                };
                match recovered {
                    Ok(()) => release_pass(&mut client, pipeline.settings().print_deadline).await,
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e.into()),
        };
        if let Ok(pass) = &outcome {
            // Wakes the fetches waiting for their ticket, whoever released it.
            pipeline.shared.watermark.send_if_modified(|w| {
                let advanced = pass.watermark > *w;
                *w = (*w).max(pass.watermark);
                advanced
            });
        }
        match outcome {
            Ok(pass) => {
                if failures > 0 {
                    tracing::info!(failures, "release pass succeeded again");
                    failures = 0;
                }
                if pass.released + pass.voided > 0 {
                    metrics::counter!(crate::gateway::series::ORDERS_RELEASED)
                        .increment(pass.released as u64);
                    count_voids("render_deadline_missed", &pass.voided_by);
                    if pass.more {
                        pipeline.shared.release_needed.notify_one();
                    }
                }
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                if let Some(suppressed) = failure_log.ready() {
                    tracing::warn!(error = %e, failures, suppressed, "release pass failed; retrying with backoff");
                }
                let backoff = RELEASE_TICK
                    .saturating_mul(1 << failures.min(8))
                    .min(RELEASE_BACKOFF_MAX);
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => break,
                }
            }
        }
    }
}

/// What one release pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReleasePass {
    /// Every order with a ticket up to here is released or voided.
    pub watermark: i64,
    pub released: usize,
    pub voided: usize,
    /// The batch was full: run again at once.
    pub more: bool,
    /// The voided orders by (municipality, store chain).
    pub voided_by: Vec<(String, String, i64)>,
}

/// The whole pass runs server-side in one call (`sql/0005_release_function.sql`
/// has the steps): one round trip instead of seven. It always returns one
/// row, projected after the function ran, and commits without waiting for
/// the WAL flush (see "Relaxed commits" in [`crate::gateway::db`]): a release lost in a
/// database crash is made again by the next pass, in the same order.
const RELEASE_PASS: &str = "
    SELECT p.*, set_config('synchronous_commit', 'off', true) FROM kofu_release_pass_v2($1, $2) p";

/// One pass of the releaser (see the module rule). Returns at once, with the
/// watermark another process has reached, when that process holds the
/// release lock.
///
/// The pending orders are read without locks. Between that read and the
/// guarded updates an order can only move forward: `rendered` → voided (a
/// print failure; already final, so passing it is right), or `accepted` →
/// `rendered` (an overdue one is voided anyway; one not overdue stopped the
/// walk). So every order the watermark passes is released or voided.
pub async fn release_pass(
    client: &mut Client,
    print_deadline: Duration,
) -> Result<ReleasePass, DbError> {
    let batch = RELEASE_BATCH as i32;
    let row = client
        .query_one_cached(RELEASE_PASS, &[&batch, &print_deadline.as_secs_f64()])
        .await?;
    let released: i32 = row.get(1);
    let voided: i32 = row.get(2);
    let voided_by: serde_json::Value = row.get(5);
    Ok(ReleasePass {
        watermark: row.get(0),
        released: released as usize,
        voided: voided as usize,
        more: row.get(3),
        voided_by: serde_json::from_value(voided_by)
            .map_err(|_| DbError::Data("the release pass's voided_by does not parse"))?,
    })
}

// The sweeper's queries name `printed_at IS NULL AND voided_at IS NULL` so
// that they read the small index of unfinished orders (sql/0012), not orders.
// Each answers the orders it voided by municipality and store chain.
const VOID_LATE_PRINT: &str = "
    WITH v AS (
        UPDATE orders SET state = 'voided', voided_at = now(), void_reason = 'print_deadline_missed', refund_yen = amount_yen
         WHERE printed_at IS NULL AND voided_at IS NULL
           AND state IN ('released', 'delivered') AND print_deadline < now()
        RETURNING municipality_code, coalesce(store_chain, '') AS chain)
    SELECT municipality_code, chain, count(*) FROM v GROUP BY 1, 2";
const VOID_LATE_RENDER_ANY: &str = "
    WITH v AS (
        UPDATE orders SET state = 'voided', voided_at = now(), void_reason = 'render_deadline_missed', refund_yen = amount_yen
         WHERE printed_at IS NULL AND voided_at IS NULL
           AND state = 'accepted' AND render_deadline < now()
        RETURNING municipality_code, coalesce(store_chain, '') AS chain)
    SELECT municipality_code, chain, count(*) FROM v GROUP BY 1, 2";

/// Counts voided orders, grouped as (municipality, store chain, count).
fn count_voids(reason: &'static str, groups: &[(String, String, i64)]) {
    for (municipality, chain, n) in groups {
        metrics::counter!(crate::gateway::series::ORDERS_VOIDED,
            "reason" => reason, "municipality" => municipality.clone(), "store_chain" => chain.clone())
        .increment(*n as u64);
    }
}

fn groups(rows: &[tokio_postgres::Row]) -> Vec<(String, String, i64)> {
    rows.iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}
const LAPSED_CLAIMS: &str = "
    SELECT id FROM orders
     WHERE printed_at IS NULL AND voided_at IS NULL
       AND state = 'accepted' AND render_claimed_until < now()
     ORDER BY ticket LIMIT 256";

/// Voids orders past their deadlines and re-queues orders whose render claim
/// lapsed (their process died or stalled), in every process.
pub(super) async fn sweeper(pipeline: Pipeline, pool: Pool, mut stop: watch::Receiver<bool>) {
    loop {
        let result = async {
            let client = pool.checkout().await?;
            let late_print = groups(&client.query_cached(VOID_LATE_PRINT, &[]).await?);
            // In ordered mode the releaser voids late renders, in ticket order.
            let late_render = if pipeline.settings().ordered {
                Vec::new()
            } else {
                groups(&client.query_cached(VOID_LATE_RENDER_ANY, &[]).await?)
            };
            let lapsed = client.query_cached(LAPSED_CLAIMS, &[]).await?;
            Ok::<_, DbError>((late_print, late_render, lapsed))
        }
        .await;
        match result {
            Ok((late_print, late_render, lapsed)) => {
                count_voids("print_deadline_missed", &late_print);
                count_voids("render_deadline_missed", &late_render);
                for row in lapsed {
                    pipeline.enqueue(Job {
                        order_id: row.get(0),
                        local: None,
                    });
                }
            }
            Err(e) => tracing::warn!(error = %e, "deadline sweep failed; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(SWEEP_TICK) => {}
            _ = stop.changed() => break,
        }
    }
}
