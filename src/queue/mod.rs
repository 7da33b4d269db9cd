//! The order pipeline: accept (ticket + snapshot, one transaction) → render
//! (bounded worker pool) → deliver → printed | voided.
//!
//! Rules:
//! - A ticket is taken only inside the transaction that makes the order
//!   durable, from the locked `ticket_counter` row, so tickets increase in
//!   commit order across every gateway process sharing the database.
//! - The records printed are the snapshot stored with the order at acceptance;
//!   rendering reads nothing else (invariant 4, freshness).
//! - State only moves forward: accepted → rendered → delivered → printed, or
//!   to voided from any state before printed; each step is one conditional
//!   UPDATE, so no path leads to printed twice or to both printed and voided.

use std::sync::Arc;
use std::time::Instant;

use time::OffsetDateTime;
use time::macros::offset;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::db::{Client, DbError, Pool};
use crate::registry::{self, Ineligible, ResidenceOptions, ResidentId};
use crate::render::Renderer;
use crate::render::model::{DocumentIdentity, ResidenceCertificate};

/// The certificate kinds the pipeline can issue today.
pub const RESIDENCE_CERTIFICATE: &str = "residence_certificate";

/// An order as the copier placed it, after validation.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub session_id: Uuid,
    pub idempotency_key: String,
    pub request_hash: [u8; 32],
    pub copier_fingerprint: [u8; 32],
    pub resident_id: ResidentId,
    pub municipality_code: String,
    pub options: ResidenceOptions,
    pub copies: i32,
    pub fee_yen: i32,
}

/// What the copier is told once the order is durable.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AcceptedOrder {
    pub order_id: Uuid,
    pub ticket: i64,
    pub amount_yen: i32,
}

/// Why an order was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The same Idempotency-Key was used in this session for another request.
    KeyReused,
    Ineligible(Ineligible),
}

const FIND_BY_KEY: &str = "SELECT id, ticket, amount_yen, request_hash FROM orders WHERE session_id = $1 AND idempotency_key = $2";
const NEXT_TICKET: &str = "UPDATE ticket_counter SET last = last + 1 RETURNING last";
const INSERT_ORDER: &str = "
    INSERT INTO orders (id, ticket, session_id, idempotency_key, request_hash, copier_fingerprint, resident_id,
                        municipality_code, kind, options, copies, amount_yen, snapshot)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
    ON CONFLICT (session_id, idempotency_key) DO NOTHING";

/// Accepts an order: returns the existing one for a repeated Idempotency-Key,
/// otherwise takes a ticket, snapshots the registers and commits.
pub async fn accept(
    client: &mut Client,
    order: &NewOrder,
) -> Result<Result<AcceptedOrder, Refusal>, DbError> {
    loop {
        if let Some(row) = client
            .query_opt(FIND_BY_KEY, &[&order.session_id, &order.idempotency_key])
            .await?
        {
            let same: &[u8] = row.get(3);
            if same != order.request_hash {
                return Ok(Err(Refusal::KeyReused));
            }
            return Ok(Ok(AcceptedOrder {
                order_id: row.get(0),
                ticket: row.get(1),
                amount_yen: row.get(2),
            }));
        }
        let tx = client.transaction().await?;
        // The counter row lock is held until commit: tickets follow commit order.
        let ticket: i64 = tx.query_one(NEXT_TICKET, &[]).await?.get(0);
        let snapshot =
            match registry::snapshot_residence(&tx, order.resident_id, order.options).await? {
                Ok(s) => s,
                Err(why) => return Ok(Err(Refusal::Ineligible(why))),
            };
        let order_id = Uuid::from_bytes(crate::random_bytes());
        let certificate = ResidenceCertificate {
            document: DocumentIdentity {
                order_id,
                ticket,
                document_number: format!("KF-{}-{ticket:09}", snapshot.municipality.code),
            },
            municipality: snapshot.municipality,
            issued_on: OffsetDateTime::now_utc().to_offset(offset!(+9)).date(),
            address: snapshot.address,
            householder: snapshot.householder,
            whole_household: order.options.whole_household,
            members: snapshot.members,
        };
        let amount_yen = order.fee_yen * order.copies;
        let inserted = tx
            .execute(
                INSERT_ORDER,
                &[
                    &order_id,
                    &ticket,
                    &order.session_id,
                    &order.idempotency_key,
                    &order.request_hash.as_slice(),
                    &order.copier_fingerprint.as_slice(),
                    &order.resident_id,
                    &order.municipality_code,
                    &RESIDENCE_CERTIFICATE,
                    &serde_json::to_value(order.options).expect("options serialise"),
                    &order.copies,
                    &amount_yen,
                    &serde_json::to_value(&certificate).expect("snapshot serialises"),
                ],
            )
            .await?;
        if inserted == 0 {
            // A concurrent retry with the same key won; ours rolls back (no ticket gap).
            drop(tx);
            continue;
        }
        tx.commit().await?;
        metrics::counter!("kofu_orders_accepted_total", "municipality" => order.municipality_code.clone()).increment(1);
        return Ok(Ok(AcceptedOrder {
            order_id,
            ticket,
            amount_yen,
        }));
    }
}

/// The render workers and the signal they raise when a document is ready.
#[derive(Clone)]
pub struct Pipeline {
    jobs: mpsc::Sender<Uuid>,
    rendered: Arc<Notify>,
}

impl Pipeline {
    /// Starts `workers` render workers; orders left `accepted` by an earlier
    /// process (a crash, a restart) are queued again first.
    pub fn start(
        pool: Pool,
        workers: usize,
        stop: watch::Receiver<bool>,
    ) -> (Pipeline, Vec<JoinHandle<()>>) {
        let (jobs, rx) = mpsc::channel::<Uuid>(65_536);
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let rendered = Arc::new(Notify::new());
        let pipeline = Pipeline {
            jobs: jobs.clone(),
            rendered: rendered.clone(),
        };
        let mut handles = Vec::new();
        for _ in 0..workers {
            let (pool, rx, rendered, mut stop) =
                (pool.clone(), rx.clone(), rendered.clone(), stop.clone());
            handles.push(tokio::spawn(async move {
                loop {
                    let next = tokio::select! {
                        next = async { rx.lock().await.recv().await } => next,
                        _ = stop.changed() => None,
                    };
                    let Some(order_id) = next else { break };
                    match render_order(&pool, order_id).await {
                        Ok(()) => rendered.notify_waiters(),
                        Err(e) => tracing::error!(%order_id, error = %e, "render failed; order stays accepted"),
                    }
                }
            }));
        }
        let recover = pipeline.clone();
        handles.push(tokio::spawn(async move {
            if let Err(e) = recover.requeue_unrendered(&pool).await {
                tracing::warn!(error = %e, "could not requeue unrendered orders");
            }
        }));
        (pipeline, handles)
    }

    /// Hands an accepted order to the render workers.
    pub fn submit(&self, order_id: Uuid) {
        if self.jobs.try_send(order_id).is_err() {
            metrics::counter!("kofu_render_queue_full_total").increment(1);
            tracing::warn!(%order_id, "render queue full; the order is rendered on recovery");
        }
    }

    /// Resolves after the next document is rendered (callers re-check their order).
    pub fn rendered(&self) -> tokio::sync::futures::Notified<'_> {
        self.rendered.notified()
    }

    async fn requeue_unrendered(&self, pool: &Pool) -> Result<(), DbError> {
        let client = pool.get().await?;
        let rows = client
            .query(
                "SELECT id FROM orders WHERE state = 'accepted' ORDER BY ticket",
                &[],
            )
            .await?;
        for row in rows {
            self.submit(row.get(0));
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RenderJobError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("stored snapshot is unreadable: {0}")]
    Snapshot(serde_json::Error),
    #[error("render: {0}")]
    Render(#[from] crate::render::RenderError),
    #[error("render task panicked")]
    Panicked,
}

impl From<tokio_postgres::Error> for RenderJobError {
    fn from(e: tokio_postgres::Error) -> Self {
        RenderJobError::Db(e.into())
    }
}

const LOAD_FOR_RENDER: &str = "SELECT snapshot, session_id, copier_fingerprint, resident_id FROM orders WHERE id = $1 AND state = 'accepted'";
const STORE_DOCUMENT: &str = "
    INSERT INTO documents (order_id, session_id, copier_fingerprint, resident_id, document_number, pdf, sha256, page_count)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT (order_id) DO NOTHING";
const MARK_RENDERED: &str = "UPDATE orders SET state = 'rendered', rendered_at = now() WHERE id = $1 AND state = 'accepted'";

/// Renders one order from its snapshot and stores the bound document.
async fn render_order(pool: &Pool, order_id: Uuid) -> Result<(), RenderJobError> {
    let mut client = pool.get().await.map_err(DbError::from)?;
    let Some(row) = client.query_opt(LOAD_FOR_RENDER, &[&order_id]).await? else {
        return Ok(()); // already rendered or voided elsewhere
    };
    let certificate: ResidenceCertificate =
        serde_json::from_value(row.get(0)).map_err(RenderJobError::Snapshot)?;
    let session_id: Uuid = row.get(1);
    let copier: Vec<u8> = row.get(2);
    let resident: i64 = row.get(3);
    let started = Instant::now();
    let span = tracing::Span::current();
    let document_number = certificate.document.document_number.clone();
    let rendered = tokio::task::spawn_blocking(move || {
        let _guard = span.enter();
        Renderer::global().residence_certificate(&certificate)
    })
    .await
    .map_err(|_| RenderJobError::Panicked)??;
    metrics::histogram!("kofu_render_duration_seconds", "kind" => RESIDENCE_CERTIFICATE)
        .record(started.elapsed().as_secs_f64());

    let tx = client.transaction().await?;
    tx.execute(
        STORE_DOCUMENT,
        &[
            &order_id,
            &session_id,
            &copier,
            &resident,
            &document_number,
            &rendered.pdf,
            &rendered.sha256.as_slice(),
            &(rendered.page_count as i32),
        ],
    )
    .await?;
    tx.execute(MARK_RENDERED, &[&order_id]).await?;
    tx.commit().await?;
    Ok(())
}

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
    NotReady,
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
     WHERE id = $1 AND copier_fingerprint = $2 AND state IN ('rendered', 'released', 'delivered')";

/// Checks order, session, copier, resident and document hash against each
/// other, and marks the order delivered when they all agree.
pub async fn deliver(
    client: &Client,
    order_id: Uuid,
    session_id: Uuid,
    copier: &[u8; 32],
) -> Result<DeliveryState, DbError> {
    let Some(row) = client.query_opt(LOAD_FOR_DELIVERY, &[&order_id]).await? else {
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
        "accepted" => return Ok(DeliveryState::NotReady),
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
        .execute(MARK_DELIVERED, &[&order_id, &copier.as_slice()])
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
        .query_opt(MARK_PRINTED, &[&order_id, &copier.as_slice()])
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
        .query_opt(MARK_FAILED, &[&order_id, &copier.as_slice()])
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
    let Some(row) = client.query_opt(ORDER_STATE, &[&order_id]).await? else {
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
