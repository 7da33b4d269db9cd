//! Delivery and completion: the last checks before a byte leaves, and the
//! copier's printed/failed report.
//!
//! Rule: a document goes out only when the order, its session, the copier
//! certificate, the resident and the bound hash all agree, and only once the
//! order is released (ticket order). The bytes come from the rendering
//! process's memory or are rendered again from the snapshot; either way they
//! are hashed right before they leave. Printed and voided are final.

use uuid::Uuid;

use super::Pipeline;
use super::workers::{RenderJobError, render_again};
use crate::gateway::db::{Cached, Client, DbError};
use crate::gateway::domain::{CertFingerprint, ResidentId};

/// A document ready to hand to its copier, after every binding check.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub ticket: i64,
    pub pdf: Vec<u8>,
    pub sha256: [u8; 32],
    pub page_count: i32,
    pub document_number: String,
}

/// Where an order stands for a delivery attempt.
#[derive(Debug, Clone)]
pub enum DeliveryState {
    NotFound,
    OtherCopier,
    OtherSession,
    /// Not released yet; the order's ticket, to wait for.
    NotReady {
        ticket: i64,
    },
    Voided,
    Printed,
    /// The stored binding disagrees with the order: never deliver.
    BindingMismatch,
    Ready(Delivery),
}

/// Loads the order, its session and its document binding, and marks it
/// delivered when released and every bound value agrees — one statement,
/// one round trip. The binding is on the order row (`sql/0015`), or in its
/// `documents` row for orders bound before that (whose `d.pdf` is set only
/// when bound before 0009). The SHA-256 of the bytes about to leave is
/// checked in Rust afterwards; should that ever fail, not a byte leaves and
/// the order is voided ([`VOID_UNBOUND`]), so it can never be confirmed printed.
const DELIVER: &str = "
    WITH o AS (
        SELECT o.id, o.state, o.session_id, o.copier_fingerprint, o.resident_id, o.ticket,
               s.resident_id AS session_resident,
               coalesce(o.bound_session_id, d.session_id) AS bound_session,
               coalesce(o.bound_copier_fingerprint, d.copier_fingerprint) AS bound_copier,
               coalesce(o.bound_resident_id, d.resident_id) AS bound_resident,
               d.pdf,
               coalesce(o.document_sha256, d.sha256) AS sha256,
               coalesce(o.page_count, d.page_count) AS page_count,
               coalesce(o.document_number, d.document_number) AS document_number,
               extract(epoch FROM o.released_at - o.rendered_at)::float8 AS release_wait
          FROM orders o
          JOIN sessions s ON s.id = o.session_id
          LEFT JOIN documents d ON o.document_sha256 IS NULL AND d.order_id = o.id
         WHERE o.id = $1),
    marked AS (
        UPDATE orders SET state = 'delivered', delivered_at = coalesce(orders.delivered_at, now())
          FROM o
         WHERE orders.id = o.id AND orders.copier_fingerprint = $2 AND orders.session_id = $3
           AND orders.state IN ('released', 'delivered') AND o.sha256 IS NOT NULL
           AND o.bound_session = o.session_id AND o.bound_copier = o.copier_fingerprint
           AND o.bound_resident = o.resident_id AND o.session_resident = o.resident_id
        RETURNING orders.id)
    SELECT o.state, o.session_id, o.copier_fingerprint, o.resident_id, o.ticket,
           o.session_resident, o.bound_session, o.bound_copier, o.bound_resident,
           CASE WHEN m.id IS NOT NULL THEN o.pdf END, o.sha256, o.page_count, o.document_number,
           m.id IS NOT NULL, o.release_wait
      FROM o
      LEFT JOIN marked m ON m.id = o.id";

/// A marked order whose bytes failed the hash check: voided and refunded.
const VOID_UNBOUND: &str = "
    UPDATE orders SET state = 'voided', voided_at = now(), void_reason = 'binding_check_failed', refund_yen = amount_yen
     WHERE id = $1 AND state = 'delivered'";

/// Checks order, session, copier, resident and document hash against each
/// other, and marks the order delivered when they all agree.
pub async fn deliver(
    client: &Client,
    pipeline: &Pipeline,
    order_id: Uuid,
    session_id: Uuid,
    copier: &CertFingerprint,
) -> Result<DeliveryState, DbError> {
    let Some(row) = client
        .query_opt_cached(DELIVER, &[&order_id, copier, &session_id])
        .await?
    else {
        return Ok(DeliveryState::NotFound);
    };
    let state: &str = row.get(0);
    let order_session: Uuid = row.get(1);
    let order_copier: &[u8] = row.get(2);
    let order_resident: ResidentId = row.get(3);
    if order_copier != copier.as_slice() {
        return Ok(DeliveryState::OtherCopier);
    }
    if order_session != session_id {
        return Ok(DeliveryState::OtherSession);
    }
    match state {
        "voided" => return Ok(DeliveryState::Voided),
        "printed" => return Ok(DeliveryState::Printed),
        "accepted" | "rendered" => return Ok(DeliveryState::NotReady { ticket: row.get(4) }),
        _ => {}
    }
    let session_resident: Option<ResidentId> = row.get(5);
    let doc_session: Option<Uuid> = row.get(6);
    let doc_copier: Option<&[u8]> = row.get(7);
    let doc_resident: Option<ResidentId> = row.get(8);
    let pdf: Option<Vec<u8>> = row.get(9);
    let stored_hash: Option<&[u8]> = row.get(10);
    let marked: bool = row.get(13);
    let bound = doc_session == Some(order_session)
        && doc_copier == Some(order_copier)
        && doc_resident == Some(order_resident)
        && session_resident == Some(order_resident);
    if bound && !marked {
        // Released when read, voided (print deadline) before the update.
        return Ok(DeliveryState::Voided);
    }
    let (true, Some(stored_hash)) = (bound, stored_hash) else {
        tracing::error!(%order_id, "document binding check failed; not delivered");
        metrics::counter!(crate::gateway::series::BINDING_CHECK_FAILURES).increment(1);
        return Ok(DeliveryState::BindingMismatch);
    };
    let pdf = match pdf.or_else(|| pipeline.take_document(order_id).map(|d| d.pdf)) {
        Some(pdf) => Some(pdf),
        None => match render_again(client, pipeline, order_id).await {
            Ok(rendered) => Some(rendered.pdf),
            Err(RenderJobError::Db(e)) => return Err(e),
            Err(e) => {
                tracing::error!(%order_id, error = %e, "document could not be rendered again");
                None
            }
        },
    };
    // The bytes about to leave, hashed here and matched with the bound hash.
    let checked = pdf.and_then(|pdf| {
        let actual = ring::digest::digest(&ring::digest::SHA256, &pdf);
        (actual.as_ref() == stored_hash).then_some((pdf, actual))
    });
    let Some((pdf, actual)) = checked else {
        tracing::error!(%order_id, "document hash check failed; not delivered, order voided");
        metrics::counter!(crate::gateway::series::BINDING_CHECK_FAILURES).increment(1);
        client.execute_cached(VOID_UNBOUND, &[&order_id]).await?;
        return Ok(DeliveryState::BindingMismatch);
    };
    let mut sha256 = [0u8; 32];
    sha256.copy_from_slice(actual.as_ref());
    // Its first delivery: how long it waited for its turn once rendered.
    if state == "released"
        && let Some(waited) = row.get::<_, Option<f64>>(14)
    {
        crate::gateway::series::stage("release_wait", waited);
    }
    Ok(DeliveryState::Ready(Delivery {
        ticket: row.get(4),
        page_count: row.get(11),
        document_number: row.get(12),
        pdf,
        sha256,
    }))
}

/// How a printed/failed report ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    Done { amount_yen: i32 },
    NotFound,
    OtherCopier,
    AlreadyPrinted,
    AlreadyVoided,
    NotDelivered,
}

const MARK_PRINTED: &str = "
    UPDATE orders SET state = 'printed', printed_at = now()
     WHERE id = $1 AND copier_fingerprint = $2 AND state = 'delivered'
    RETURNING amount_yen, municipality_code, coalesce(store_chain, ''),
              extract(epoch FROM now() - released_at)::float8";
const MARK_FAILED: &str = "
    UPDATE orders SET state = 'voided', voided_at = now(), void_reason = 'print_failed', refund_yen = amount_yen
     WHERE id = $1 AND copier_fingerprint = $2 AND state IN ('accepted', 'rendered', 'released', 'delivered')
    RETURNING amount_yen, municipality_code, coalesce(store_chain, '')";
const ORDER_STATE: &str = "SELECT state, copier_fingerprint, amount_yen FROM orders WHERE id = $1";

/// Records a confirmed print (the fee settles). Repeating it is harmless.
pub async fn mark_printed(
    client: &Client,
    order_id: Uuid,
    copier: &CertFingerprint,
) -> Result<Completion, DbError> {
    if let Some(row) = client
        .query_opt_cached(MARK_PRINTED, &[&order_id, copier])
        .await?
    {
        metrics::counter!(crate::gateway::series::ORDERS_PRINTED,
            "municipality" => row.get::<_, String>(1), "store_chain" => row.get::<_, String>(2))
        .increment(1);
        if let Some(waited) = row.get::<_, Option<f64>>(3) {
            crate::gateway::series::stage("print_confirmation", waited);
        }
        return Ok(Completion::Done {
            amount_yen: row.get(0),
        });
    }
    classify(client, order_id, copier, "printed").await
}

/// Records a failed print: the order is voided and its fee refunded. Repeating it is harmless.
pub async fn mark_failed(
    client: &Client,
    order_id: Uuid,
    copier: &CertFingerprint,
) -> Result<Completion, DbError> {
    if let Some(row) = client
        .query_opt_cached(MARK_FAILED, &[&order_id, copier])
        .await?
    {
        metrics::counter!(crate::gateway::series::ORDERS_VOIDED, "reason" => "print_failed",
            "municipality" => row.get::<_, String>(1), "store_chain" => row.get::<_, String>(2))
        .increment(1);
        return Ok(Completion::Done {
            amount_yen: row.get(0),
        });
    }
    classify(client, order_id, copier, "voided").await
}

async fn classify(
    client: &Client,
    order_id: Uuid,
    copier: &CertFingerprint,
    wanted: &str,
) -> Result<Completion, DbError> {
    let Some(row) = client.query_opt_cached(ORDER_STATE, &[&order_id]).await? else {
        return Ok(Completion::NotFound);
    };
    let state: &str = row.get(0);
    let owner: &[u8] = row.get(1);
    if owner != copier.as_slice() {
        return Ok(Completion::OtherCopier);
    }
    Ok(match state {
        s if s == wanted => Completion::Done {
            amount_yen: row.get(2),
        },
        "printed" => Completion::AlreadyPrinted,
        "voided" => Completion::AlreadyVoided,
        _ => Completion::NotDelivered,
    })
}
