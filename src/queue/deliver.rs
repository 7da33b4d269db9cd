//! Delivery and completion: the last checks before a byte leaves, and the
//! copier's printed/failed report.
//!
//! Rule: a document goes out only when the order, its session, the copier
//! certificate, the resident and the stored hash all agree, and only once the
//! order is released (ticket order). Printed and voided are final.

use uuid::Uuid;

use crate::db::{Cached, Client, DbError};

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

const LOAD_FOR_DELIVERY: &str = "
    SELECT o.state, o.session_id, o.copier_fingerprint, o.resident_id, o.ticket,
           s.resident_id, d.session_id, d.copier_fingerprint, d.resident_id,
           d.pdf, d.sha256, d.page_count, d.document_number
      FROM orders o
      JOIN sessions s ON s.id = o.session_id
      LEFT JOIN documents d ON d.order_id = o.id
     WHERE o.id = $1";
const MARK_DELIVERED: &str = "
    UPDATE orders SET state = 'delivered', delivered_at = coalesce(delivered_at, now())
     WHERE id = $1 AND copier_fingerprint = $2 AND state IN ('released', 'delivered')";

/// Checks order, session, copier, resident and document hash against each
/// other, and marks the order delivered when they all agree.
pub async fn deliver(
    client: &Client,
    order_id: Uuid,
    session_id: Uuid,
    copier: &[u8; 32],
) -> Result<DeliveryState, DbError> {
    let Some(row) = client.query_opt_cached(LOAD_FOR_DELIVERY, &[&order_id]).await? else {
        return Ok(DeliveryState::NotFound);
    };
    let state: &str = row.get(0);
    let order_session: Uuid = row.get(1);
    let order_copier: &[u8] = row.get(2);
    let order_resident: i64 = row.get(3);
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
    let session_resident: Option<i64> = row.get(5);
    let doc_session: Option<Uuid> = row.get(6);
    let doc_copier: Option<&[u8]> = row.get(7);
    let doc_resident: Option<i64> = row.get(8);
    let pdf: Option<Vec<u8>> = row.get(9);
    let stored_hash: Option<&[u8]> = row.get(10);
    let (Some(pdf), Some(stored_hash)) = (pdf, stored_hash) else {
        return Ok(DeliveryState::BindingMismatch);
    };
    let actual = ring::digest::digest(&ring::digest::SHA256, &pdf);
    let bound = doc_session == Some(order_session)
        && doc_copier == Some(order_copier)
        && doc_resident == Some(order_resident)
        && session_resident == Some(order_resident)
        && actual.as_ref() == stored_hash;
    if !bound {
        tracing::error!(%order_id, "document binding check failed; not delivered");
        metrics::counter!("kofu_binding_check_failures_total").increment(1);
        return Ok(DeliveryState::BindingMismatch);
    }
    let mut sha256 = [0u8; 32];
    sha256.copy_from_slice(actual.as_ref());
    let delivery = Delivery {
        ticket: row.get(4),
        page_count: row.get(11),
        document_number: row.get(12),
        pdf,
        sha256,
    };
    if client
        .execute_cached(MARK_DELIVERED, &[&order_id, &copier.as_slice()])
        .await?
        == 0
    {
        // Voided between the read and now.
        return Ok(DeliveryState::Voided);
    }
    Ok(DeliveryState::Ready(delivery))
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
     WHERE id = $1 AND copier_fingerprint = $2 AND state = 'delivered' RETURNING amount_yen";
const MARK_FAILED: &str = "
    UPDATE orders SET state = 'voided', voided_at = now(), void_reason = 'print_failed', refund_yen = amount_yen
     WHERE id = $1 AND copier_fingerprint = $2 AND state IN ('accepted', 'rendered', 'released', 'delivered')
    RETURNING amount_yen";
const ORDER_STATE: &str = "SELECT state, copier_fingerprint, amount_yen FROM orders WHERE id = $1";

/// Records a confirmed print (the fee settles). Repeating it is harmless.
pub async fn mark_printed(
    client: &Client,
    order_id: Uuid,
    copier: &[u8; 32],
) -> Result<Completion, DbError> {
    if let Some(row) = client
        .query_opt_cached(MARK_PRINTED, &[&order_id, &copier.as_slice()])
        .await?
    {
        metrics::counter!("kofu_orders_printed_total").increment(1);
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
    copier: &[u8; 32],
) -> Result<Completion, DbError> {
    if let Some(row) = client
        .query_opt_cached(MARK_FAILED, &[&order_id, &copier.as_slice()])
        .await?
    {
        metrics::counter!("kofu_orders_voided_total", "reason" => "print_failed").increment(1);
        return Ok(Completion::Done {
            amount_yen: row.get(0),
        });
    }
    classify(client, order_id, copier, "voided").await
}

async fn classify(
    client: &Client,
    order_id: Uuid,
    copier: &[u8; 32],
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
