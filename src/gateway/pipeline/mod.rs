//! The order pipeline: accept (snapshot + ticket, one transaction) → render
//! (bounded worker pool, any order) → release (strictly in ticket order) →
//! deliver (binding re-checked) → printed | voided.
//!
//! Rules:
//! - A ticket is taken only inside the transaction that makes the order
//!   durable, from the locked `ticket_counter` row, so tickets increase in
//!   commit order across every gateway process sharing the database, with no
//!   gaps (an aborted acceptance rolls its ticket back).
//! - The records printed are the snapshot stored with the order at acceptance,
//!   read under `FOR SHARE` locks; rendering reads nothing else (invariant 4).
//! - Documents are released in ticket order; an order that misses its render
//!   deadline is voided as a whole and never holds back, or swaps with, the
//!   ones behind it (invariant 2). See [`release`].
//! - State only moves forward (a database trigger enforces it): accepted →
//!   rendered → released → delivered → printed, or to voided from any state
//!   before printed. Each step is one conditional UPDATE (invariant 3).

pub mod deliver;
pub mod documents;
pub mod release;
pub mod workers;

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use time::macros::offset;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::gateway::db::{Cached, Client, DbError, Pool};
use crate::gateway::domain::{CertFingerprint, CertificateKind, ResidentId};
use crate::gateway::registry::{self, Ineligible, KindRefusal, OrderOptions, SnapshotRefusal};
use crate::gateway::render::Renderer;
use crate::gateway::render::model::{Certificate, DocumentIdentity};
use crate::gateway::signing::{KeyStore, VerificationCode};

pub use deliver::{Completion, Delivery, DeliveryState, deliver, mark_failed, mark_printed};

/// The number printed on every page: municipality code and ticket.
pub fn document_number(municipality_code: &str, ticket: i64) -> String {
    format!("KF-{municipality_code}-{ticket:09}")
}

/// The certificate an order's stored snapshot describes, with the identity
/// printed on every page taken from the order row itself: its id, ticket and
/// the number they give. What every render of an order renders (the render
/// workers, a delivery elsewhere, and `loadtest bench`'s render ceiling).
pub fn stored_certificate(
    order_id: Uuid,
    kind: CertificateKind,
    snapshot: serde_json::Value,
    ticket: i64,
    municipality_code: &str,
    verification_code: &VerificationCode,
) -> Result<Certificate, serde_json::Error> {
    let mut certificate = Certificate::from_snapshot(kind, snapshot)?;
    *certificate.document_mut() = DocumentIdentity {
        order_id,
        ticket,
        document_number: document_number(municipality_code, ticket),
        verification_code: verification_code.to_string(),
    };
    Ok(certificate)
}

/// Puts back the bytes of the seal image a stored snapshot names by digest,
/// from the settings version its order was accepted under (`version`); the
/// render checks them against the digest.
pub(crate) async fn attach_seal_image(
    municipalities: &crate::gateway::municipality::SettingsCache,
    client: &impl Cached,
    certificate: &mut Certificate,
    version: Option<i32>,
) -> Result<(), DbError> {
    let header = certificate.municipality_mut();
    if let (Some(_), Some(version)) = (&header.seal_image_sha256, version) {
        let settings = municipalities.get(client, &header.code, version).await?;
        header.seal_image_png = settings.seal_image_png.as_ref().map(|i| i.shared_png());
    }
    Ok(())
}

/// How an order's document is signed, fixed at its acceptance: the key
/// (its municipality's current one then) and the issue time (the
/// acceptance's, to the second). The verification code is in the
/// certificate's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSigning {
    pub key_id: String,
    pub issued_at: OffsetDateTime,
}

impl OrderSigning {
    /// From an order row's `signing_key_id` and `accepted_at`.
    pub fn from_row(key_id: String, accepted_at: OffsetDateTime) -> OrderSigning {
        OrderSigning {
            key_id,
            issued_at: accepted_at
                .replace_nanosecond(0)
                .expect("0 is a valid nanosecond"),
        }
    }
}

/// An order as the copier placed it, after validation of the request
/// itself; the session, its resident and the fee are read (and checked) in
/// the acceptance transaction.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub session_id: Uuid,
    pub idempotency_key: String,
    pub request_hash: [u8; 32],
    pub copier_fingerprint: CertFingerprint,
    pub kind: CertificateKind,
    /// Of `kind` (see [`OrderOptions::parse`]).
    pub options: OrderOptions,
    pub copies: i32,
    /// A family-register kind issued by this other municipality, which keeps
    /// the resident's 戸籍 (an active registered-domicile registration).
    pub registered_domicile: Option<String>,
}

/// What the copier is told once the order is durable.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AcceptedOrder {
    pub order_id: Uuid,
    pub ticket: i64,
    pub amount_yen: i32,
    /// False when this answers a retry of an order accepted earlier.
    #[serde(skip)]
    pub new: bool,
    /// A new order's snapshot and binding, handed straight to this process's
    /// render workers (see [`Pipeline::submit`]).
    #[serde(skip)]
    pub render: Option<Arc<LocalRender>>,
}

/// An order this process has just accepted, with the render lease the
/// acceptance took: the worker renders it without reading it back.
#[derive(Debug)]
pub struct LocalRender {
    certificate: Certificate,
    session_id: Uuid,
    copier_fingerprint: CertFingerprint,
    resident_id: ResidentId,
    signing: OrderSigning,
    /// When the acceptance committed (its lease runs from there).
    accepted_at: std::time::Instant,
}

/// Why an order was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such session, or no card was verified in it (the caller tells
    /// which apart outside the transaction).
    SessionUnusable,
    /// The session was opened by another copier.
    OtherCopier,
    SessionExpired,
    /// Not offered by the municipality (it has no fee for the kind).
    KindNotOffered,
    /// The same Idempotency-Key was used in this session for another request.
    KeyReused,
    Ineligible(Ineligible),
    /// The kind's own register says no (an abolished seal, no tax record …).
    Kind(KindRefusal),
    /// A chosen household or register position does not exist.
    NoSuchMember,
    /// A field of the certificate has a character the font cannot draw.
    NotPrintable,
    /// The municipality's calendar says no (hours, closed day, maintenance).
    Closed(crate::gateway::municipality::Closed),
}

const FIND_BY_KEY: &str = "SELECT id, ticket, amount_yen, request_hash FROM orders WHERE session_id = $1 AND idempotency_key = $2";
/// Ticket and row in one statement, last in the transaction, with COMMIT
/// sent right behind it. The statement also takes the municipality's
/// current signing key; with none, it takes no ticket and inserts nothing.
/// The counter row stays locked only for the server's
/// own work on this insert and the commit. There is deliberately no
/// `ON CONFLICT`: a concurrent acceptance with the same Idempotency-Key must
/// fail the statement (unique violation), so the pipelined COMMIT turns into
/// a rollback and the ticket bump goes with it — tickets never have gaps.
const INSERT_WITH_TICKET: &str = "
    WITH signing_key AS (
           SELECT kid FROM signing_keys
            WHERE municipality_code = $7 AND retired_at IS NULL AND revoked_at IS NULL),
         ticket AS (
           UPDATE ticket_counter SET last = last + 1
            WHERE EXISTS (SELECT 1 FROM signing_key) RETURNING last)
    INSERT INTO orders (id, ticket, session_id, idempotency_key, request_hash, copier_fingerprint, resident_id,
                        municipality_code, kind, options, copies, amount_yen, snapshot,
                        render_deadline, render_claimed_until, render_claimed_by,
                        verification_code, signing_key_id, settings_version, commission_yen, store_chain,
                        credential)
    SELECT $1, ticket.last, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
           now() + make_interval(secs => $13), now() + make_interval(secs => $14), $15,
           $16, signing_key.kid, $17, $18, $19, $20
      FROM ticket, signing_key
    RETURNING ticket, accepted_at, signing_key_id";

/// Accepts an order: returns the existing one for a repeated Idempotency-Key,
/// otherwise snapshots the registers, takes a ticket and commits.
///
/// The transaction is pipelined on `client`: BEGIN goes out with the first
/// reads and COMMIT right behind the ticket insert, three round trips in all.
/// Should this future be dropped with the transaction open (the request was
/// cancelled), the connection is closed rather than returned to the pool, so
/// PostgreSQL rolls the transaction back and no pooled connection is ever
/// left inside one.
pub async fn accept(
    client: Client,
    order: &NewOrder,
    settings: &PipelineSettings,
    municipalities: &crate::gateway::municipality::SettingsCache,
) -> Result<Result<AcceptedOrder, Refusal>, DbError> {
    let mut connection = OpenTransaction {
        client: Some(client),
        open: false,
    };
    let mut attempt = 0;
    // Optimistic: a new key is by far the common case, so the first attempt
    // does not look the key up; the unique constraint catches a retry (its
    // insert fails, the pipelined COMMIT rolls back, no ticket is used) and
    // the next attempt looks it up. A refusal on ineligibility is checked
    // the same way, since a retry of an accepted order must get its order.
    let mut look_up_key = false;
    let started = std::time::Instant::now();
    loop {
        attempt += 1;
        connection.open = true;
        let outcome = accept_once(
            connection.client(),
            order,
            settings,
            municipalities,
            look_up_key,
        )
        .await;
        if outcome.is_err() {
            // The transaction may still be open (an error before the commit).
            connection.client().batch_execute("ROLLBACK").await?;
        }
        connection.open = false;
        match outcome {
            Ok(Some(Err(
                Refusal::Ineligible(_)
                | Refusal::Kind(_)
                | Refusal::NoSuchMember
                | Refusal::NotPrintable
                // A retry of an order accepted a second before closing
                // gets that order.
                | Refusal::Closed(_),
            ))) if !look_up_key => look_up_key = true,
            Ok(Some(outcome)) => {
                crate::gateway::series::stage("acceptance", started.elapsed().as_secs_f64());
                return Ok(outcome);
            }
            // The key is taken (a retry, or a concurrent one won): answer with its order.
            Ok(None) => look_up_key = true,
            Err(e) if e.is_retryable() && attempt < 5 => {
                metrics::counter!(crate::gateway::series::ACCEPTANCE_RETRIES).increment(1);
            }
            Err(e) => return Err(e),
        }
    }
}

/// A pooled connection that may be inside a transaction (see [`accept`]).
struct OpenTransaction {
    client: Option<Client>,
    open: bool,
}

impl OpenTransaction {
    fn client(&self) -> &Client {
        self.client.as_ref().expect("present until dropped")
    }
}

impl Drop for OpenTransaction {
    fn drop(&mut self) {
        if self.open
            && let Some(client) = self.client.take()
        {
            // Detached from the pool and dropped: the connection closes and
            // PostgreSQL rolls back whatever was open.
            drop(deadpool_postgres::Object::take(client));
        }
    }
}

/// One attempt. Every `Ok` leaves the transaction closed (committed or
/// rolled back); `Ok(None)` means the key is already taken (by an earlier
/// order, or a concurrent acceptance that won), so the caller looks again
/// with `look_up_key`.
async fn accept_once(
    client: &Client,
    order: &NewOrder,
    settings: &PipelineSettings,
    municipalities: &crate::gateway::municipality::SettingsCache,
    look_up_key: bool,
) -> Result<Option<Result<AcceptedOrder, Refusal>>, DbError> {
    // Pipelined: BEGIN, the idempotency lookup and the session's resident
    // (the municipality locked) go out together; the snapshot's other locks
    // follow in one more round trip.
    let (_, existing, holder) = tokio::try_join!(
        async { client.batch_execute("BEGIN").await.map_err(DbError::from) },
        async {
            if !look_up_key {
                return Ok(None);
            }
            client
                .query_opt_cached(FIND_BY_KEY, &[&order.session_id, &order.idempotency_key])
                .await
                .map_err(DbError::from)
        },
        registry::session_resident(client, order.session_id, order.kind),
    )?;
    let refuse = |why: Refusal| async move {
        client.batch_execute("ROLLBACK").await?;
        Ok::<_, DbError>(Some(Err(why)))
    };
    let Some(mut holder) = holder else {
        return refuse(Refusal::SessionUnusable).await;
    };
    // From the municipality that keeps the resident's 戸籍: issued in its
    // name, at its fee, under its settings, from the entry the card's
    // active registration stands for (that row and the municipality's
    // locked like the resident's own).
    if let Some(code) = &order.registered_domicile {
        match registry::domicile::issuer(client, order.session_id, code, order.kind).await? {
            Some(issuer) => {
                holder.municipality = issuer.municipality;
                holder.fee_yen = issuer.fee_yen;
                holder.settings_version = issuer.settings_version;
                holder.registered_member = Some(issuer.member_id);
            }
            None => {
                return refuse(Refusal::Kind(KindRefusal::DomicileElsewhere)).await;
            }
        }
    }
    if holder.copier_fingerprint != order.copier_fingerprint {
        return refuse(Refusal::OtherCopier).await;
    }
    if holder.expired {
        return refuse(Refusal::SessionExpired).await;
    }
    let Some(fee_yen) = holder.fee_yen else {
        return refuse(Refusal::KindNotOffered).await;
    };
    if let Some(row) = existing {
        client.batch_execute("ROLLBACK").await?;
        // A retry: answer with the order already accepted, whatever the registers say now.
        let same: &[u8] = row.get(3);
        if same != order.request_hash {
            return Ok(Some(Err(Refusal::KeyReused)));
        }
        return Ok(Some(Ok(AcceptedOrder {
            order_id: row.get(0),
            ticket: row.get(1),
            amount_yen: row.get(2),
            new: false,
            render: None,
        })));
    }
    // The municipality's calendar, in the version the row lock holds: an
    // order accepted while open is rendered and printed after closing too.
    let mut municipal = None;
    if let Some(version) = holder.settings_version {
        let settings = municipalities
            .get(client, &holder.municipality.code, version)
            .await?;
        if let Some(why) = settings.closed(order.kind, OffsetDateTime::now_utc()) {
            return refuse(Refusal::Closed(why)).await;
        }
        municipal = Some(settings);
    }
    let order_id = Uuid::from_bytes(crate::gateway::random_bytes());
    // The identity is filled in from the order row at render time.
    let document = DocumentIdentity {
        order_id,
        ticket: 0,
        document_number: String::new(),
        verification_code: String::new(),
    };
    let issued_on = OffsetDateTime::now_utc().to_offset(offset!(+9)).date();
    let snapshot = registry::snapshot(
        client,
        &holder,
        order.kind,
        &order.options,
        document,
        issued_on,
    )
    .await?;
    let mut certificate = match snapshot {
        Ok(certificate) => certificate,
        Err(SnapshotRefusal::Ineligible(why)) => return refuse(Refusal::Ineligible(why)).await,
        Err(SnapshotRefusal::Kind(why)) => return refuse(Refusal::Kind(why)).await,
        Err(SnapshotRefusal::NoSuchMember) => return refuse(Refusal::NoSuchMember).await,
    };
    // Laid out as the settings in force say: their seal image, named by
    // digest in the snapshot, and their date form.
    if let Some(settings) = &municipal {
        settings.dress(certificate.municipality_mut());
    }
    let municipality_code = holder.municipality.code.clone();
    // Refused before it is paid for, rather than failing at render.
    if let Some(field) = Renderer::global().unprintable(&certificate) {
        tracing::info!(?field, "order refused: a character the font cannot draw");
        return refuse(Refusal::NotPrintable).await;
    }
    let amount_yen = fee_yen * order.copies;
    // Prepared first (a no-op once cached), so nothing can come between the
    // insert and the COMMIT sent right behind it.
    let insert = client.prepare_cached(INSERT_WITH_TICKET).await?;
    let options = serde_json::to_value(&order.options).expect("options serialise");
    let snapshot = certificate.to_snapshot();
    let (render_deadline, render_lease) = (
        settings.render_deadline.as_secs_f64(),
        settings.render_lease.as_secs_f64(),
    );
    // Unique; should two ever meet, the insert fails like a taken key and
    // the next attempt draws another.
    let code = VerificationCode::random();
    // What the store will be owed once the order is printed.
    let commission_yen =
        crate::gateway::municipality::settlement::COMMISSION_PER_COPY_YEN * order.copies;
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 20] = [
        &order_id,
        &order.session_id,
        &order.idempotency_key,
        &order.request_hash.as_slice(),
        &order.copier_fingerprint,
        &holder.resident_id,
        &municipality_code,
        &order.kind.wire_name(),
        &options,
        &order.copies,
        &amount_yen,
        &snapshot,
        &render_deadline,
        &render_lease,
        &settings.instance,
        &code.compact(),
        // The settings in force: the municipality row is locked FOR SHARE
        // since the first statement, so no change can come in between.
        &holder.settings_version,
        &commission_yen,
        &holder.store_chain,
        &holder.credential.as_str(),
    ];
    let (inserted, committed) = tokio::join!(
        client.query_opt(&insert, &params),
        client.batch_execute("COMMIT"),
    );
    let row = match inserted {
        Ok(Some(row)) => row,
        Ok(None) => {
            committed?;
            tracing::error!(municipality = %holder.municipality.code, "order refused: the municipality has no current signing key");
            return Err(DbError::Data("the municipality has no current signing key"));
        }
        // The statement failed, so the COMMIT behind it rolled back, ticket included.
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => {
            committed?;
            return Ok(None); // the key is taken: look it up
        }
        Err(e) => {
            committed?;
            return Err(e.into());
        }
    };
    committed?;
    let accepted_at = std::time::Instant::now();
    metrics::counter!(crate::gateway::series::ORDERS_ACCEPTED,
        "municipality" => municipality_code.clone(), "credential" => holder.credential.as_str())
    .increment(1);
    let ticket: i64 = row.get(0);
    let signing = OrderSigning::from_row(row.get(2), row.get(1));
    *certificate.document_mut() = DocumentIdentity {
        order_id,
        ticket,
        document_number: document_number(&municipality_code, ticket),
        verification_code: code.to_string(),
    };
    Ok(Some(Ok(AcceptedOrder {
        order_id,
        ticket,
        amount_yen,
        new: true,
        render: Some(Arc::new(LocalRender {
            certificate,
            session_id: order.session_id,
            copier_fingerprint: order.copier_fingerprint,
            resident_id: holder.resident_id,
            signing,
            accepted_at,
        })),
    })))
}

/// How the pipeline runs; from [`crate::gateway::config::Config`].
#[derive(Debug, Clone)]
pub struct PipelineSettings {
    pub workers: usize,
    pub render_deadline: Duration,
    pub print_deadline: Duration,
    /// How long a render claim lasts before another process may take the order over.
    pub render_lease: Duration,
    /// Strict ticket-order release (false only for the cost benchmark).
    pub ordered: bool,
    /// Base URL of the verification page, printed in every QR code.
    pub verify_url: String,
    /// This process's identity in render claims.
    pub instance: Uuid,
}

impl PipelineSettings {
    pub fn from_config(config: &crate::gateway::config::Config) -> Self {
        PipelineSettings {
            workers: config.render_workers,
            render_deadline: config.render_deadline(),
            print_deadline: config.print_deadline(),
            render_lease: Duration::from_secs(2),
            ordered: config.release_ordered,
            verify_url: config.verify_url(),
            instance: Uuid::from_bytes(crate::gateway::random_bytes()),
        }
    }
}

/// A render job: an order to render, with its snapshot when this process
/// accepted it (otherwise the worker claims it and reads the snapshot back).
#[derive(Debug, Clone)]
struct Job {
    order_id: Uuid,
    local: Option<Arc<LocalRender>>,
}

/// Tickets of orders accepted here and not fetched yet: a fetch that finds
/// its order here waits for the release watermark before asking the
/// database. Only a hint — every delivery is decided by the database — and
/// bounded: cleared when it grows past this (copiers that fetch elsewhere).
const TICKET_HINTS_MAX: usize = 65_536;

struct Shared {
    jobs: mpsc::Sender<Job>,
    /// Fetches waiting for one order each (unordered mode), woken by its render.
    waiting: std::sync::Mutex<std::collections::HashMap<Uuid, Arc<Notify>>>,
    /// The release watermark as last seen by this process (ordered mode).
    watermark: watch::Sender<i64>,
    /// Order → ticket for orders accepted here (see [`TICKET_HINTS_MAX`]).
    ticket_hints: std::sync::Mutex<std::collections::HashMap<Uuid, i64>>,
    /// Raised after a render, so the releaser runs at once.
    release_needed: Notify,
    /// What turns a certificate into its PDF (see [`workers::RenderStep`]).
    render: Arc<dyn workers::RenderStep>,
    /// PDFs rendered here, held until their delivery (see [`documents`]).
    documents: documents::DocumentCache,
    /// The municipalities' signing keys.
    keys: Arc<KeyStore>,
    /// The municipalities' settings, by version (hours, closed days).
    municipalities: crate::gateway::municipality::SettingsCache,
    settings: PipelineSettings,
    /// Render workers running now (each counts itself in and out).
    workers_running: std::sync::atomic::AtomicUsize,
}

/// Handle to the render workers, the releaser and the deadline sweeper.
#[derive(Clone)]
pub struct Pipeline {
    shared: Arc<Shared>,
}

impl Pipeline {
    /// Starts the workers, the releaser and the sweeper. The sweeper also
    /// picks up orders whose render claim lapsed (a crashed process's), so
    /// every accepted order is finished or voided by some process.
    pub fn start(
        pool: Pool,
        settings: PipelineSettings,
        render: Arc<dyn workers::RenderStep>,
        keys: Arc<KeyStore>,
        stop: watch::Receiver<bool>,
    ) -> (Pipeline, Vec<JoinHandle<()>>) {
        let (jobs, rx) = mpsc::channel::<Job>(65_536);
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let workers = settings.workers;
        let shared = Arc::new(Shared {
            jobs,
            watermark: watch::Sender::new(0),
            ticket_hints: std::sync::Mutex::new(std::collections::HashMap::new()),
            waiting: std::sync::Mutex::new(std::collections::HashMap::new()),
            release_needed: Notify::new(),
            render,
            documents: documents::DocumentCache::new(documents::BUDGET_BYTES),
            keys,
            municipalities: Default::default(),
            settings,
            workers_running: Default::default(),
        });
        let pipeline = Pipeline { shared };
        let mut handles: Vec<JoinHandle<()>> = (0..workers)
            .map(|_| {
                tokio::spawn(workers::worker(
                    pipeline.clone(),
                    pool.clone(),
                    rx.clone(),
                    stop.clone(),
                ))
            })
            .collect();
        handles.push(tokio::spawn(release::releaser(
            pipeline.clone(),
            pool.clone(),
            stop.clone(),
        )));
        handles.push(tokio::spawn(release::sweeper(pipeline.clone(), pool, stop)));
        (pipeline, handles)
    }

    /// Render workers running now, and how many were started.
    pub fn workers_running(&self) -> (usize, usize) {
        (
            self.shared
                .workers_running
                .load(std::sync::atomic::Ordering::Relaxed),
            self.shared.settings.workers,
        )
    }

    /// Hands an order accepted (and claimed) by this process to the render workers.
    pub fn submit(&self, accepted: &AcceptedOrder) {
        if self.shared.settings.ordered {
            let mut hints = self
                .shared
                .ticket_hints
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if hints.len() >= TICKET_HINTS_MAX {
                hints.clear();
            }
            hints.insert(accepted.order_id, accepted.ticket);
        }
        self.enqueue(Job {
            order_id: accepted.order_id,
            local: accepted.render.clone(),
        });
    }

    fn enqueue(&self, job: Job) {
        let order_id = job.order_id;
        if self.shared.jobs.try_send(job).is_err() {
            metrics::counter!(crate::gateway::series::RENDER_QUEUE_FULL).increment(1);
            tracing::warn!(%order_id, "render queue full; the sweeper retries it");
        }
    }

    /// Ordered mode: when this process accepted `order_id`, waits (at most
    /// until `deadline`) for the watermark to pass its ticket, so the first
    /// database read of a fetch usually finds the document released.
    pub async fn wait_for_local_release(&self, order_id: Uuid, deadline: tokio::time::Instant) {
        let ticket = self
            .shared
            .ticket_hints
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&order_id);
        if let Some(ticket) = ticket {
            let _ = tokio::time::timeout_at(deadline, self.released_through(ticket)).await;
        }
    }

    /// Resolves once every ticket up to `ticket` is released or voided
    /// (ordered mode), as seen by this process's releaser, which reads the
    /// shared watermark every 25 ms and after each release of its own.
    pub async fn released_through(&self, ticket: i64) {
        let mut rx = self.shared.watermark.subscribe();
        let _ = rx.wait_for(|w| *w >= ticket).await;
    }

    /// The release watermark as this process last saw it.
    pub fn watermark(&self) -> i64 {
        *self.shared.watermark.borrow()
    }

    /// Unordered mode: resolves when this process renders (and so releases)
    /// `order_id`, or after `poll` for a render done elsewhere.
    pub async fn rendered_or(&self, order_id: Uuid, poll: Duration) {
        let notify = {
            let mut waiting = self
                .shared
                .waiting
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            waiting.entry(order_id).or_default().clone()
        };
        let _ = tokio::time::timeout(poll, notify.notified()).await;
        self.shared
            .waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&order_id);
    }

    fn wake(&self, order_id: Uuid) {
        if let Some(n) = self
            .shared
            .waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&order_id)
        {
            n.notify_one();
        }
    }

    pub fn settings(&self) -> &PipelineSettings {
        &self.shared.settings
    }

    /// The signing keys the workers sign with.
    pub fn keys(&self) -> &Arc<KeyStore> {
        &self.shared.keys
    }

    /// The municipalities' settings as this process has read them.
    pub fn municipalities(&self) -> &crate::gateway::municipality::SettingsCache {
        &self.shared.municipalities
    }

    /// The PDF this process rendered for `order_id`, if it still holds it;
    /// taken, so a second fetch renders again (see [`documents`]).
    pub fn take_document(
        &self,
        order_id: Uuid,
    ) -> Option<crate::gateway::render::RenderedDocument> {
        self.shared.documents.take(order_id)
    }
}
