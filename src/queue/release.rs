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

use time::OffsetDateTime;
use tokio::sync::watch;
use uuid::Uuid;

use super::{Job, Pipeline};
use crate::db::{Cached, Client, DbError, Pool};

/// How often every process looks for work a peer (or a crash) left behind.
const RELEASE_TICK: Duration = Duration::from_millis(25);
const SWEEP_TICK: Duration = Duration::from_millis(500);
/// Orders looked at per release pass.
const RELEASE_BATCH: i64 = 512;

pub(super) async fn releaser(pipeline: Pipeline, pool: Pool, mut stop: watch::Receiver<bool>) {
    if !pipeline.settings().ordered {
        return;
    }
    loop {
        tokio::select! {
            _ = pipeline.shared.release_needed.notified() => {}
            _ = tokio::time::sleep(RELEASE_TICK) => {}
            _ = stop.changed() => break,
        }
        let outcome = match pool.get().await {
            Ok(mut client) => release_pass(&mut client, pipeline.settings().print_deadline).await,
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
            Ok(pass) if pass.released + pass.voided > 0 => {
                metrics::counter!("kofu_orders_released_total").increment(pass.released as u64);
                if pass.voided > 0 {
                    metrics::counter!("kofu_orders_voided_total", "reason" => "render_deadline_missed")
                        .increment(pass.voided as u64);
                }
                if pass.more {
                    pipeline.shared.release_needed.notify_one();
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "release pass failed; retrying"),
        }
    }
}

/// What one release pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReleasePass {
    /// Every order with a ticket up to here is released or voided.
    pub watermark: i64,
    pub released: usize,
    pub voided: usize,
    /// The batch was full: run again at once.
    pub more: bool,
}

const READ_WATERMARK: &str = "SELECT watermark FROM release_state";
const TAKE_WATERMARK: &str =
    "SELECT watermark, clock_timestamp() FROM release_state FOR UPDATE SKIP LOCKED";
/// A plain read, no row locks: render workers must never queue behind the
/// releaser. The updates below are guarded so a state change in between is
/// harmless (see `release_pass`).
const PENDING: &str = "
    SELECT id, ticket, state, render_deadline < $2
      FROM orders WHERE ticket > $1 ORDER BY ticket LIMIT $3";
const RELEASE: &str = "
    UPDATE orders SET state = 'released', released_at = $2::timestamptz, print_deadline = $2::timestamptz + make_interval(secs => $3)
     WHERE id = ANY($1) AND state = 'rendered'";
/// Also a late order rendered since the read: it missed its deadline all the same,
/// and the watermark is about to pass it, so it must not stay `rendered`.
const VOID_LATE_RENDER: &str = "
    UPDATE orders SET state = 'voided', voided_at = $2, void_reason = 'render_deadline_missed', refund_yen = amount_yen
     WHERE id = ANY($1) AND state IN ('accepted', 'rendered')";
const SET_WATERMARK: &str = "UPDATE release_state SET watermark = $1";

/// One pass of the releaser (see the module rule). Returns at once when
/// another process holds the release lock.
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
    let tx = client.transaction().await?;
    let Some(row) = tx.query_opt_cached(TAKE_WATERMARK, &[]).await? else {
        // Another process is releasing; report where it has got to.
        let watermark = tx.query_one_cached(READ_WATERMARK, &[]).await?.get(0);
        return Ok(ReleasePass {
            watermark,
            ..ReleasePass::default()
        });
    };
    let start: i64 = row.get(0);
    let now: OffsetDateTime = row.get(1);
    let rows = tx.query_cached(PENDING, &[&start, &now, &RELEASE_BATCH]).await?;
    let more = rows.len() as i64 == RELEASE_BATCH;
    let mut watermark = start;
    let (mut release, mut void): (Vec<Uuid>, Vec<Uuid>) = (Vec::new(), Vec::new());
    for row in &rows {
        let ticket: i64 = row.get(1);
        if ticket != watermark + 1 {
            break; // tickets have no gaps; never skip one
        }
        let state: &str = row.get(2);
        match state {
            "rendered" => release.push(row.get(0)),
            "accepted" if row.get::<_, bool>(3) => void.push(row.get(0)),
            "accepted" => break, // still rendering in time: everything behind it waits
            _ => {}              // voided (or already past release)
        }
        watermark = ticket;
    }
    if watermark == start {
        return Ok(ReleasePass {
            watermark,
            ..ReleasePass::default()
        });
    }
    let released = tx
        .execute_cached(RELEASE, &[&release, &now, &print_deadline.as_secs_f64()])
        .await? as usize;
    let voided = tx.execute_cached(VOID_LATE_RENDER, &[&void, &now]).await? as usize;
    tx.execute_cached(SET_WATERMARK, &[&watermark]).await?;
    tx.commit().await?;
    Ok(ReleasePass {
        watermark,
        released,
        voided,
        more: more && watermark == start + RELEASE_BATCH,
    })
}

const VOID_LATE_PRINT: &str = "
    UPDATE orders SET state = 'voided', voided_at = now(), void_reason = 'print_deadline_missed', refund_yen = amount_yen
     WHERE state IN ('released', 'delivered') AND print_deadline < now()";
const VOID_LATE_RENDER_ANY: &str = "
    UPDATE orders SET state = 'voided', voided_at = now(), void_reason = 'render_deadline_missed', refund_yen = amount_yen
     WHERE state = 'accepted' AND render_deadline < now()";
const LAPSED_CLAIMS: &str = "
    SELECT id FROM orders
     WHERE state = 'accepted' AND render_claimed_until < now()
     ORDER BY ticket LIMIT 256";

/// Voids orders past their deadlines and re-queues orders whose render claim
/// lapsed (their process died or stalled), in every process.
pub(super) async fn sweeper(pipeline: Pipeline, pool: Pool, mut stop: watch::Receiver<bool>) {
    loop {
        let result = async {
            let client = pool.get().await?;
            let late_print = client.execute_cached(VOID_LATE_PRINT, &[]).await?;
            // In ordered mode the releaser voids late renders, in ticket order.
            let late_render = if pipeline.settings().ordered {
                0
            } else {
                client.execute_cached(VOID_LATE_RENDER_ANY, &[]).await?
            };
            let lapsed = client.query_cached(LAPSED_CLAIMS, &[]).await?;
            Ok::<_, DbError>((late_print, late_render, lapsed))
        }
        .await;
        match result {
            Ok((late_print, late_render, lapsed)) => {
                if late_print > 0 {
                    metrics::counter!("kofu_orders_voided_total", "reason" => "print_deadline_missed").increment(late_print);
                }
                if late_render > 0 {
                    metrics::counter!("kofu_orders_voided_total", "reason" => "render_deadline_missed").increment(late_render);
                }
                for row in lapsed {
                    pipeline.enqueue(Job {
                        order_id: row.get(0),
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
