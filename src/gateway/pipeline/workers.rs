//! Render workers: turn an order's snapshot into its PDF and bind the
//! document (its SHA-256) to the order, its session, copier and resident.
//!
//! Rule: a worker renders only an order whose render lease it holds. The
//! acceptance takes the lease for the accepting process, whose worker renders
//! at once from the snapshot in hand while the lease is fresh; otherwise the
//! worker renews (or, once lapsed, takes over) the lease and reads the stored
//! snapshot back. Storing is conditional on the order still being
//! `accepted`, so a late or duplicate
//! render never overwrites or revives anything.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, mpsc, watch};
use uuid::Uuid;

use super::{Job, OrderSigning, Pipeline, attach_seal_image, stored_certificate};
use crate::gateway::db::Checkout;
use crate::gateway::db::{Cached, DbError, Pool};
use crate::gateway::domain::{CertFingerprint, CertificateKind, ResidentId};
use crate::gateway::render::model::Certificate;
use crate::gateway::render::signing::{Ed25519Signer, Signing};
use crate::gateway::render::{RenderError, RenderedDocument, Renderer};
use crate::gateway::signing::{KeyError, KeyStore, VerificationCode};

/// What a render worker calls to turn a certificate into its signed PDF,
/// on the blocking pool: [`PdfRender`] in production. The test hooks
/// inject a slower one here ([`RenderStall`]), and nowhere else.
pub trait RenderStep: Send + Sync {
    fn render(
        &self,
        certificate: &Certificate,
        signing: &Signing<'_>,
    ) -> Result<RenderedDocument, RenderError>;
}

/// The PDF renderer itself.
pub struct PdfRender;

impl RenderStep for PdfRender {
    fn render(
        &self,
        certificate: &Certificate,
        signing: &Signing<'_>,
    ) -> Result<RenderedDocument, RenderError> {
        Renderer::global().render_signed(certificate, signing)
    }
}

/// Renders `certificate` signed as `signing` says, on the blocking pool.
async fn render_blocking(
    step: Arc<dyn RenderStep>,
    certificate: Certificate,
    signer: Arc<Ed25519Signer>,
    signing: OrderSigning,
    verify_url: String,
) -> Result<RenderedDocument, RenderJobError> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _guard = span.enter();
        step.render(
            &certificate,
            &Signing {
                signer: &*signer,
                issued_at: signing.issued_at,
                verify_base: &verify_url,
            },
        )
    })
    .await
    .map_err(|_| RenderJobError::Panicked)?
    .map_err(RenderJobError::from)
}

/// Test hooks only (`test_hooks`): the PDF renderer behind an adjustable
/// delay, which occupies the worker like a slow render would. Set through
/// `PUT /test/render-delay-ms` on the operations listener.
#[derive(Debug, Default)]
pub struct RenderStall {
    delay_ms: AtomicU64,
}

impl RenderStall {
    pub fn set_delay_ms(&self, ms: u64) {
        self.delay_ms.store(ms, Ordering::Relaxed);
    }
}

impl RenderStep for RenderStall {
    fn render(
        &self,
        certificate: &Certificate,
        signing: &Signing<'_>,
    ) -> Result<RenderedDocument, RenderError> {
        let delay = Duration::from_millis(self.delay_ms.load(Ordering::Relaxed));
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        PdfRender.render(certificate, signing)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RenderJobError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("stored snapshot is unreadable: {0}")]
    Snapshot(serde_json::Error),
    #[error("render: {0}")]
    Render(#[from] RenderError),
    #[error("render task panicked")]
    Panicked,
    #[error("signing key: {0}")]
    Key(#[from] KeyError),
    #[error("the order was accepted without a verification code or signing key")]
    Unsigned,
}

impl From<tokio_postgres::Error> for RenderJobError {
    fn from(e: tokio_postgres::Error) -> Self {
        RenderJobError::Db(e.into())
    }
}

pub(super) async fn worker(
    pipeline: Pipeline,
    pool: Pool,
    jobs: Arc<Mutex<mpsc::Receiver<Job>>>,
    mut stop: watch::Receiver<bool>,
) {
    /// Counts the worker out however it ends, a panic included.
    struct Running(Pipeline);
    impl Drop for Running {
        fn drop(&mut self) {
            self.0
                .shared
                .workers_running
                .fetch_sub(1, Ordering::Relaxed);
        }
    }
    pipeline
        .shared
        .workers_running
        .fetch_add(1, Ordering::Relaxed);
    let _running = Running(pipeline.clone());
    loop {
        let next = tokio::select! {
            next = async { jobs.lock().await.recv().await } => next,
            _ = stop.changed() => None,
        };
        let Some(job) = next else { break };
        match render_order(&pipeline, &pool, &job).await {
            Ok(true) => {
                if pipeline.settings().ordered {
                    pipeline.shared.release_needed.notify_one();
                } else {
                    pipeline.wake(job.order_id);
                }
            }
            Ok(false) => {}
            Err(e) => {
                // This process still holds the claim: retry here shortly rather
                // than let strict order wait for the lease to lapse. If this
                // process dies meanwhile, another one takes over after the lease.
                match &e {
                    RenderJobError::Db(db) if db.is_unavailable() => {
                        // Every waiting order retries every 200 ms while
                        // PostgreSQL is away: one line per 30 s says so.
                        static UNSTORED: std::sync::OnceLock<
                            crate::gateway::connections::LogThrottle,
                        > = std::sync::OnceLock::new();
                        let throttle = UNSTORED.get_or_init(|| {
                            crate::gateway::connections::LogThrottle::every(
                                std::time::Duration::from_secs(30),
                            )
                        });
                        if let Some(suppressed) = throttle.ready() {
                            tracing::warn!(error = %e, suppressed, "renders could not be stored; retrying");
                        }
                    }
                    _ => {
                        tracing::error!(order_id = %job.order_id, error = %e, "render failed; retrying")
                    }
                }
                let pipeline = pipeline.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(RETRY_AFTER_FAILURE).await;
                    pipeline.enqueue(job);
                });
            }
        }
    }
}

/// Pause before a failed render is tried again in this process.
const RETRY_AFTER_FAILURE: std::time::Duration = std::time::Duration::from_millis(200);

/// Takes (or renews) the render lease: ours already, or lapsed.
const CLAIM: &str = "
    UPDATE orders SET render_claimed_by = $3, render_claimed_until = now() + make_interval(secs => $2)
     WHERE id = $1 AND state = 'accepted'
       AND (render_claimed_by = $3 OR render_claimed_until IS NULL OR render_claimed_until < now())
    RETURNING snapshot, session_id, copier_fingerprint, resident_id, ticket, municipality_code, kind,
              verification_code, signing_key_id, accepted_at, settings_version";
/// Marks the order rendered and binds its document in the same row update
/// (one round trip, one commit, heap-only): the SHA-256, number and page
/// count with the session, copier and resident the render saw
/// (`sql/0015`). The bytes stay in this process's memory until delivery (see
/// [`super::documents`]). Committed without waiting for the WAL flush
/// (see "Relaxed commits" in [`crate::gateway::db`]): lost in a database crash, the order is
/// simply rendered again. Ordered: `rendered`, and the releaser releases
/// it in turn; unordered (benchmark only): released at once. Bound only if
/// the order was still `accepted`, so a voided order or one rendered
/// elsewhere meanwhile gets nothing.
const STORE_RENDERED: &str = "
    UPDATE orders
       SET state = CASE WHEN $2 THEN 'rendered' ELSE 'released' END,
           rendered_at = now(),
           released_at = CASE WHEN $2 THEN NULL ELSE now() END,
           print_deadline = CASE WHEN $2 THEN NULL ELSE now() + make_interval(secs => $3) END,
           bound_session_id = $4, bound_copier_fingerprint = $5, bound_resident_id = $6,
           document_number = $7, document_sha256 = $8, page_count = $9, signed_digest = $10
     WHERE id = $1 AND state = 'accepted'
    RETURNING set_config('synchronous_commit', 'off', true)";

/// Renders one order from its snapshot and stores the bound document.
/// Returns false when there was nothing to do (claimed elsewhere, done, voided).
async fn render_order(pipeline: &Pipeline, pool: &Pool, job: &Job) -> Result<bool, RenderJobError> {
    let settings = pipeline.settings();
    let (certificate, session_id, copier, resident, signing) = match &job.local {
        // Accepted here moments ago: the acceptance took the lease and the
        // snapshot is in hand, so nothing needs reading back. Storing stays
        // conditional, so even a render that outlives its lease is harmless.
        Some(local) if local.accepted_at.elapsed() < settings.render_lease / 2 => (
            local.certificate.clone(),
            local.session_id,
            local.copier_fingerprint,
            local.resident_id,
            local.signing.clone(),
        ),
        _ => match claim(pipeline, pool, job.order_id).await? {
            Some(claimed) => claimed,
            None => return Ok(false),
        },
    };
    let document_number = certificate.document().document_number.clone();
    let kind = certificate.kind();
    let signer = signer_for(pipeline.keys(), pool, &signing.key_id).await?;

    let started = Instant::now();
    let rendered = render_blocking(
        pipeline.shared.render.clone(),
        certificate,
        signer,
        signing,
        settings.verify_url.clone(),
    )
    .await?;
    let took = started.elapsed().as_secs_f64();
    metrics::histogram!(crate::gateway::series::RENDER_DURATION, "kind" => kind.wire_name())
        .record(took);
    crate::gateway::series::stage("render", took);

    let (sha256, page_count, digest) =
        (rendered.sha256, rendered.page_count as i32, rendered.digest);
    // Held before the binding commits, so a fetch that finds the order
    // released finds its bytes here too.
    let documents = &pipeline.shared.documents;
    documents.put(job.order_id, rendered);
    let stored = async {
        let client = pool.checkout().await.map_err(DbError::from)?;
        let bound = client
            .execute_cached(
                STORE_RENDERED,
                &[
                    &job.order_id,
                    &settings.ordered,
                    &settings.print_deadline.as_secs_f64(),
                    &session_id,
                    &copier,
                    &resident,
                    &document_number,
                    &sha256.as_slice(),
                    &page_count,
                    &digest.as_slice(),
                ],
            )
            .await?;
        Ok::<u64, RenderJobError>(bound)
    }
    .await;
    // Voided or rendered elsewhere meanwhile: nothing was stored.
    if !matches!(stored, Ok(1)) {
        documents.discard(job.order_id);
    }
    Ok(stored? == 1)
}

/// The signer of `key_id`, unsealed once per process.
async fn signer_for(
    keys: &KeyStore,
    pool: &Pool,
    key_id: &str,
) -> Result<Arc<Ed25519Signer>, RenderJobError> {
    if let Some(signer) = keys.cached(key_id) {
        return Ok(signer);
    }
    let client = pool.checkout().await.map_err(DbError::from)?;
    Ok(keys.signer(&client, key_id).await?)
}

/// The order's snapshot and the row its identity and signing come from.
const STORED_SNAPSHOT: &str = "SELECT snapshot, ticket, municipality_code, kind,
                                      verification_code, signing_key_id, accepted_at, settings_version
                                 FROM orders WHERE id = $1";

/// Renders an order again from its stored snapshot (with the key, code and
/// issue time of its acceptance), for a delivery in a process that does
/// not hold the PDF, or a verification shown with its content. The result
/// must match what was bound at the first render; the caller checks.
pub async fn render_again(
    client: &crate::gateway::db::Client,
    pipeline: &Pipeline,
    order_id: Uuid,
) -> Result<crate::gateway::render::RenderedDocument, RenderJobError> {
    let row = client
        .query_one_cached(STORED_SNAPSHOT, &[&order_id])
        .await?;
    let kind = stored_kind(row.get(3))?;
    let (code, signing) = stored_signing(row.get(4), row.get(5), row.get(6))?;
    let mut certificate =
        stored_certificate(order_id, kind, row.get(0), row.get(1), row.get(2), &code)
            .map_err(RenderJobError::Snapshot)?;
    attach_seal_image(
        pipeline.municipalities(),
        client,
        &mut certificate,
        row.get(7),
    )
    .await?;
    let signer = pipeline.keys().signer(client, &signing.key_id).await?;
    metrics::counter!(crate::gateway::series::DOCUMENTS_RENDERED_AGAIN).increment(1);
    render_blocking(
        Arc::new(PdfRender),
        certificate,
        signer,
        signing,
        pipeline.settings().verify_url.clone(),
    )
    .await
}

/// The verification code and signing of an order row (`sql/0019`).
fn stored_signing(
    code: Option<&str>,
    key_id: Option<String>,
    accepted_at: time::OffsetDateTime,
) -> Result<(VerificationCode, OrderSigning), RenderJobError> {
    let code = code
        .and_then(|c| VerificationCode::parse(c).ok())
        .ok_or(RenderJobError::Unsigned)?;
    let key_id = key_id.ok_or(RenderJobError::Unsigned)?;
    Ok((code, OrderSigning::from_row(key_id, accepted_at)))
}

/// Takes (or renews) the render lease and reads the order's snapshot and
/// binding back; `None` when the order is not ours to render.
async fn claim(
    pipeline: &Pipeline,
    pool: &Pool,
    order_id: Uuid,
) -> Result<Option<(Certificate, Uuid, CertFingerprint, ResidentId, OrderSigning)>, RenderJobError>
{
    let settings = pipeline.settings();
    let client = pool.checkout().await.map_err(DbError::from)?;
    let row = client
        .query_opt_cached(
            CLAIM,
            &[
                &order_id,
                &settings.render_lease.as_secs_f64(),
                &settings.instance,
            ],
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    let kind = stored_kind(row.get(6))?;
    let (code, signing) = stored_signing(row.get(7), row.get(8), row.get(9))?;
    let mut certificate =
        stored_certificate(order_id, kind, row.get(0), row.get(4), row.get(5), &code)
            .map_err(RenderJobError::Snapshot)?;
    attach_seal_image(
        pipeline.municipalities(),
        &client,
        &mut certificate,
        row.get(10),
    )
    .await?;
    Ok(Some((
        certificate,
        row.get(1),
        row.get(2),
        row.get(3),
        signing,
    )))
}

/// The kind an order row names (written by the acceptance from a `CertificateKind`).
fn stored_kind(wire: &str) -> Result<CertificateKind, RenderJobError> {
    CertificateKind::from_wire(wire).ok_or(RenderJobError::Db(DbError::Data(
        "an order of a kind this build does not know",
    )))
}
