//! The copier API: open a session, verify the card, place an order, fetch the
//! document, confirm the print. Request → verify → map → enqueue → deliver,
//! in that order, one handler each.
//!
//! Rule: every call is bound to the copier's client certificate. A session
//! opened by one copier is unusable from another, and a document is handed
//! only to the copier and session that ordered it (invariant 1).

pub mod error;
pub mod menu;

use error::CopierError;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hyper::StatusCode;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::gateway::db::Cached;
use crate::gateway::db::Checkout;
use crate::gateway::domain::{CertFingerprint, CertificateKind};
use crate::gateway::error::{Problem, RequestError};
use crate::gateway::http::{self, ApiRequest, ApiResult, CopierIdentity};
use crate::gateway::pipeline::{self, Completion, DeliveryState, NewOrder, Refusal};
use crate::gateway::pki::ChallengeAlgorithm;
use crate::gateway::registry::{self, HolderLookup, OrderOptions};
use crate::gateway::state::AppState;

/// How often a waiting document fetch re-checks for a release made elsewhere.
const RELEASE_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// Header naming the session a document fetch belongs to.
pub const SESSION_HEADER: &str = "kofu-session";

fn parse_id(raw: &str, not_found: CopierError) -> Result<Uuid, CopierError> {
    Uuid::parse_str(raw).map_err(|_| not_found)
}

/// The copier's identity, or `copier_certificate_required`.
fn copier_of(req: &ApiRequest) -> Result<&CopierIdentity, CopierError> {
    req.copier
        .as_ref()
        .ok_or(CopierError::CopierCertificateRequired)
}

async fn client(state: &AppState) -> Result<crate::gateway::db::Client, Problem> {
    Ok(state
        .pool
        .checkout()
        .await
        .map_err(crate::gateway::db::DbError::from)?)
}

#[derive(Serialize)]
struct SessionOpened {
    session_id: Uuid,
    challenge: String,
    expires_at: String,
}

/// Committed without waiting for the WAL flush (see see "Relaxed commits" in [`crate::gateway::db`]):
/// a session lost in a database crash only makes the copier start over.
const OPEN_SESSION: &str = "
    INSERT INTO sessions (id, copier_fingerprint, copier_id, challenge, expires_at)
    VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
    RETURNING expires_at, set_config('synchronous_commit', 'off', true)";

/// `POST /v1/sessions`: a new session with a fresh single-use challenge.
pub async fn open_session(state: &AppState, req: &ApiRequest) -> ApiResult {
    let copier = copier_of(req)?;
    let session_id = Uuid::from_bytes(crate::gateway::random_bytes());
    let challenge: [u8; 32] = crate::gateway::random_bytes();
    let ttl = state.config.session_ttl().as_secs_f64();
    let row = client(state)
        .await?
        .query_one_cached(
            OPEN_SESSION,
            &[
                &session_id,
                &copier.fingerprint,
                &copier.copier_id,
                &challenge.as_slice(),
                &ttl,
            ],
        )
        .await
        .map_err(crate::gateway::db::DbError::from)?;
    let expires_at: OffsetDateTime = row.get(0);
    state.challenges.put(
        session_id,
        challenge,
        copier.fingerprint,
        state.config.session_ttl(),
    );
    metrics::counter!(crate::gateway::series::SESSIONS_OPENED).increment(1);
    Ok(http::json(
        StatusCode::CREATED,
        &SessionOpened {
            session_id,
            challenge: URL_SAFE_NO_PAD.encode(challenge),
            expires_at: expires_at.format(&Rfc3339).unwrap_or_default(),
        },
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CardSubmission {
    certificate: String,
    signature: String,
    algorithm: String,
}

/// A card submission's body, decoded.
#[derive(Debug)]
pub(crate) struct CardBody {
    /// The card certificate (DER, not yet verified).
    pub certificate: Vec<u8>,
    /// The card's signature over the challenge.
    pub signature: Vec<u8>,
    pub algorithm: ChallengeAlgorithm,
}

/// The body of `POST /v1/sessions/{id}/card`, read as the handler reads it
/// before anything else is looked at: `malformed_request` for JSON that is
/// not a submission or base64 that does not decode, `algorithm_unknown`.
pub(crate) fn read_card(body: &[u8]) -> Result<CardBody, Problem> {
    let body: CardSubmission = http::json_body(body)?;
    let malformed = || RequestError::MalformedRequest;
    let certificate = STANDARD
        .decode(body.certificate.as_bytes())
        .map_err(|_| malformed())?;
    let signature = STANDARD
        .decode(body.signature.as_bytes())
        .map_err(|_| malformed())?;
    let algorithm =
        ChallengeAlgorithm::parse(&body.algorithm).ok_or(CopierError::AlgorithmUnknown)?;
    Ok(CardBody {
        certificate,
        signature,
        algorithm,
    })
}

const TAKE_CHALLENGE: &str = "
    UPDATE sessions SET challenge_used_at = now()
     WHERE id = $1 AND copier_fingerprint = $2 AND challenge_used_at IS NULL AND expires_at > now()
    RETURNING challenge";
const SESSION_STATE: &str = "
    SELECT copier_fingerprint, expires_at > now(), challenge_used_at IS NOT NULL, resident_id
      FROM sessions WHERE id = $1";

/// Spends the session's challenge and returns it; the session's problem
/// (another copier's, expired, already spent) when it cannot.
async fn take_challenge(
    db: &crate::gateway::db::Client,
    session_id: Uuid,
    copier: &CertFingerprint,
) -> Result<Vec<u8>, Problem> {
    match db
        .query_opt_cached(TAKE_CHALLENGE, &[&session_id, copier])
        .await
        .map_err(crate::gateway::db::DbError::from)?
    {
        Some(row) => Ok(row.get(0)),
        None => Err(session_problem(db, session_id, copier, Step::Card).await),
    }
}

/// The step a session was refused at.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Presenting the card (the challenge must be unspent).
    Card,
    /// Ordering (a card must have been verified).
    Order,
}

/// Why a session cannot be used at `step`, when the fast path found
/// nothing (the rare path, so a separate read).
async fn session_problem(
    db: &crate::gateway::db::Client,
    session_id: Uuid,
    copier: &CertFingerprint,
    step: Step,
) -> Problem {
    match db.query_opt_cached(SESSION_STATE, &[&session_id]).await {
        Err(e) => crate::gateway::db::DbError::from(e).into(),
        Ok(None) => CopierError::SessionNotFound.into(),
        Ok(Some(row)) => {
            let owner: CertFingerprint = row.get(0);
            if owner != *copier {
                CopierError::SessionBelongsToAnotherCopier.into()
            } else if !row.get::<_, bool>(1) {
                CopierError::SessionExpired.into()
            } else if step == Step::Order {
                // No resident: no card verified, or the resident is gone.
                CopierError::SessionNotAuthenticated.into()
            } else if row.get::<_, bool>(2) {
                CopierError::ChallengeAlreadyUsed.into()
            } else {
                Problem::internal()
            }
        }
    }
}

/// `POST /v1/sessions/{id}/card`: consumes the challenge, verifies the card
/// certificate and its signature over the challenge, maps the serial to the
/// resident and answers with the menu.
pub async fn submit_card(state: &AppState, req: &ApiRequest, id: &str) -> ApiResult {
    let copier = copier_of(req)?;
    let session_id = parse_id(id, CopierError::SessionNotFound)?;
    let CardBody {
        certificate,
        signature,
        algorithm,
    } = read_card(&req.body)?;

    let db = client(state).await?;
    // Single use. Opened here: the signature is checked against the challenge
    // held in memory, and the binding statement spends it (only if still
    // unspent and equal). Opened elsewhere: spent before anything is checked.
    let held = state.challenges.take(session_id, &copier.fingerprint);
    let challenge: Vec<u8> = match &held {
        Some(held) => held.challenge.to_vec(),
        None => take_challenge(&db, session_id, &copier.fingerprint).await?,
    };
    let (db_ref, is_held) = (&db, held.is_some());
    // A refusal before the binding statement still spends a held challenge;
    // a session problem found doing so comes first, as on the slow path.
    let refuse = |problem: Problem| async move {
        if is_held
            && let Err(session) = take_challenge(db_ref, session_id, &copier.fingerprint).await
        {
            return session;
        }
        problem
    };

    let cards = state.cards.clone();
    let verifying = std::time::Instant::now();
    let verified = tokio::task::spawn_blocking(move || {
        cards.verify(
            &certificate,
            &challenge,
            &signature,
            algorithm,
            OffsetDateTime::now_utc(),
        )
    })
    .await
    .map_err(|_| Problem::internal())?;
    let card = match verified {
        Ok(card) => card,
        Err(e) => {
            crate::gateway::series::card_refused(e.code());
            tracing::info!(code = e.code(), "card refused");
            let refusal = CopierError::from(&e);
            if refusal == CopierError::CardVerifierMisconfigured {
                tracing::error!(error = %e, "card verifier misconfigured");
            }
            return Err(refuse(refusal.into()).await);
        }
    };

    // Revocation (CRLs), fail closed; J-LIS events are read with the serial below.
    if let Err(refusal) = state.revocation.check(&card, OffsetDateTime::now_utc()) {
        let refusal = CopierError::revocation(refusal, card.credential());
        let code = refusal.code();
        crate::gateway::series::card_refused(code);
        tracing::info!(
            code,
            credential = card.credential().as_str(),
            "card refused"
        );
        return Err(refuse(refusal.into()).await);
    }
    crate::gateway::series::stage("card_verification", verifying.elapsed().as_secs_f64());

    let found = registry::authenticate_holder(
        &db,
        session_id,
        &copier.fingerprint,
        held.as_ref().map(|h| &h.challenge),
        &card,
        state.config.rate_limits.card_exclusive_secs as f64,
    )
    .await?;
    let mut holder = match found {
        HolderLookup::Found(holder) => *holder,
        HolderLookup::SessionUnusable => {
            return Err(session_problem(&db, session_id, &copier.fingerprint, Step::Card).await);
        }
        HolderLookup::NotLinked => {
            crate::gateway::series::card_refused(CopierError::CardNotRegistered.code());
            tracing::info!(serial = %card.serial().fingerprint(), "card not linked to a resident");
            return Err(CopierError::CardNotRegistered.into());
        }
        HolderLookup::Suspended
        | HolderLookup::Revoked
        | HolderLookup::SmartphoneNotRegistered
        | HolderLookup::SmartphoneSuspended
        | HolderLookup::SmartphoneSuperseded
        | HolderLookup::SmartphoneRevoked
        | HolderLookup::MunicipalityNotLive
        | HolderLookup::InUseElsewhere => {
            let refusal = match found {
                HolderLookup::Suspended => CopierError::CardSuspended,
                HolderLookup::Revoked => CopierError::CardRevoked,
                HolderLookup::SmartphoneNotRegistered => CopierError::SmartphoneNotRegistered,
                HolderLookup::SmartphoneSuspended => CopierError::SmartphoneSuspended,
                HolderLookup::SmartphoneSuperseded => CopierError::SmartphoneSuperseded,
                HolderLookup::SmartphoneRevoked => CopierError::SmartphoneRevoked,
                HolderLookup::InUseElsewhere => {
                    crate::gateway::state::rate_limit::card_elsewhere();
                    CopierError::CardInUseElsewhere
                }
                _ => CopierError::MunicipalityNotLive,
            };
            crate::gateway::series::card_refused(refusal.code());
            tracing::info!(
                code = refusal.code(),
                credential = card.credential().as_str(),
                "card refused"
            );
            return Err(refusal.into());
        }
    };
    metrics::counter!(crate::gateway::series::CARDS_VERIFIED,
        "algorithm" => card.algorithm().as_str(), "credential" => card.credential().as_str())
    .increment(1);
    // What the municipality's calendar closes now, for the menu's reasons.
    let mut closed = Vec::new();
    if let Some(version) = holder.settings_version {
        let municipal = state
            .pipeline
            .municipalities()
            .get(&db, &holder.municipality.code, version)
            .await?;
        closed = municipal.closed_kinds(OffsetDateTime::now_utc());
    }
    let mut menu = menu::build(req.lang, session_id.to_string(), &holder, &closed);
    menu.domicile_registrations = std::mem::take(&mut holder.domicile_registrations);
    // Each active registration puts that municipality's 戸籍 kinds on the menu.
    for registration in &menu.domicile_registrations {
        if registration.status != registry::domicile::Status::Active
            || registration.municipality_code == holder.municipality.code
        {
            continue;
        }
        let Some(row) = db
            .query_opt(
                "SELECT m.name, m.settings_version,
                        (SELECT json_object_agg(f.kind, f.amount_yen) FROM fees f WHERE f.municipality_code = m.code)
                   FROM municipalities m WHERE m.code = $1 AND m.live_at IS NOT NULL",
                &[&registration.municipality_code],
            )
            .await
            .map_err(crate::gateway::db::DbError::from)?
        else {
            continue;
        };
        let fees = registry::fees_of(row.get(2));
        let mut closed = Vec::new();
        if let Some(version) = row.get::<_, Option<i32>>(1) {
            let settings = state
                .pipeline
                .municipalities()
                .get(&db, &registration.municipality_code, version)
                .await?;
            closed = settings.closed_kinds(OffsetDateTime::now_utc());
        }
        let name: String = row.get(0);
        menu.items.extend(menu::registered_domicile_items(
            req.lang,
            &holder,
            &registration.municipality_code,
            &name,
            &fees,
            &closed,
        ));
    }
    let mut response = http::json(StatusCode::OK, &menu);
    response.headers_mut().insert(
        hyper::header::CONTENT_LANGUAGE,
        HeaderValue::from_static(req.lang.tag()),
    );
    Ok(response)
}

/// The order body; `options` are read as the kind's (see [`OrderOptions::parse`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderRequest {
    kind: String,
    #[serde(default)]
    options: Option<serde_json::Value>,
    #[serde(default = "one")]
    copies: i32,
    /// A family-register kind from the municipality that keeps the
    /// resident's 戸籍, through their active registered-domicile
    /// registration (the menu lists those items with this code).
    #[serde(default)]
    municipality_code: Option<String>,
}

/// The order as understood, serialised (canonically) to compare
/// Idempotency-Key retries.
#[derive(Debug, Serialize)]
struct CanonicalOrder<'a> {
    kind: CertificateKind,
    options: &'a OrderOptions,
    copies: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    municipality_code: Option<&'a str>,
}

fn one() -> i32 {
    1
}

/// The `Idempotency-Key` header: 1 to 128 printable ASCII characters.
pub(crate) fn idempotency_key(header: Option<&str>) -> Result<String, CopierError> {
    header
        .filter(|k| (1..=128).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .ok_or(CopierError::IdempotencyKeyRequired)
}

/// An order body as understood, before the session is looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReadOrder {
    pub kind: CertificateKind,
    pub options: OrderOptions,
    pub copies: i32,
    /// The 本籍 municipality of a family-register kind ordered through a
    /// registered-domicile registration.
    pub registered_domicile: Option<String>,
    /// SHA-256 of the canonical order ([`ReadOrder::canonical`]): what an
    /// Idempotency-Key retry must repeat.
    pub request_hash: [u8; 32],
}

impl ReadOrder {
    /// The order serialised canonically; itself an order body that reads
    /// back as this order.
    pub fn canonical(&self) -> Vec<u8> {
        serde_json::to_vec(&CanonicalOrder {
            kind: self.kind,
            options: &self.options,
            copies: self.copies,
            municipality_code: self.registered_domicile.as_deref(),
        })
        .expect("order serialises")
    }
}

/// The body of `POST /v1/sessions/{id}/orders`, read and checked as the
/// handler does before it reads the session: `malformed_request` for a
/// body that is not JSON, `invalid_options`, `certificate_kind_unavailable`,
/// `domicile_municipality_unknown`.
pub(crate) fn read_order(body: &[u8]) -> Result<ReadOrder, Problem> {
    // Options arrive as an object of the kind's; anything else is invalid_options.
    let raw: serde_json::Value = http::json_body(body)?;
    let order: OrderRequest =
        serde_json::from_value(raw).map_err(|_| CopierError::InvalidOptions)?;
    if !(1..=menu::MAX_COPIES).contains(&order.copies) {
        return Err(CopierError::InvalidOptions.into());
    }
    let kind =
        CertificateKind::from_wire(&order.kind).ok_or(CopierError::CertificateKindUnavailable)?;
    let options =
        OrderOptions::parse(kind, order.options).map_err(|_| CopierError::InvalidOptions)?;

    let registered_domicile = match order.municipality_code.as_deref() {
        None => None,
        Some(code) => {
            if !kind.is_family_register() {
                return Err(CopierError::InvalidOptions.into());
            }
            let code = crate::gateway::municipality::LocalGovernmentCode::parse(code)
                .map_err(|_| CopierError::DomicileMunicipalityUnknown)?;
            Some(code.as_str().to_owned())
        }
    };
    let mut order = ReadOrder {
        kind,
        options,
        copies: order.copies,
        registered_domicile,
        request_hash: [0; 32],
    };
    let digest = ring::digest::digest(&ring::digest::SHA256, &order.canonical());
    order.request_hash.copy_from_slice(digest.as_ref());
    Ok(order)
}

/// `POST /v1/sessions/{id}/orders`: places an order; answers only once it is durable.
pub async fn place_order(state: &AppState, req: &ApiRequest, id: &str) -> ApiResult {
    let copier = copier_of(req)?;
    let session_id = parse_id(id, CopierError::SessionNotFound)?;
    let key = idempotency_key(req.header("idempotency-key"))?;
    let ReadOrder {
        kind,
        options,
        copies,
        registered_domicile,
        request_hash,
    } = read_order(&req.body)?;
    // A card cannot print hundreds of copies, nor a municipality take
    // unbounded orders; the session names both (when it has a card at all:
    // otherwise the acceptance refuses it as it always has).
    if let Some((serial, municipality)) =
        session_card(state, session_id, &copier.fingerprint).await?
    {
        let issuer = registered_domicile.as_deref().unwrap_or(&municipality);
        state.limits.order(&serial, issuer, copies.unsigned_abs())?;
    }
    let new = NewOrder {
        session_id,
        idempotency_key: key,
        request_hash,
        copier_fingerprint: copier.fingerprint,
        kind,
        options,
        copies,
        registered_domicile,
    };
    // The session, its resident and the fee are read inside the acceptance.
    match pipeline::accept(
        client(state).await?,
        &new,
        state.pipeline.settings(),
        state.pipeline.municipalities(),
    )
    .await?
    {
        Ok(accepted) => {
            if accepted.new {
                state.pipeline.submit(&accepted);
            }
            Ok(http::json(StatusCode::CREATED, &accepted))
        }
        Err(Refusal::KeyReused) => Err(CopierError::IdempotencyKeyReused.into()),
        Err(Refusal::Ineligible(why)) => Err(CopierError::from(why).into()),
        Err(Refusal::Kind(why)) => Err(CopierError::from(why).into()),
        Err(Refusal::NoSuchMember) => Err(CopierError::InvalidOptions.into()),
        Err(Refusal::NotPrintable) => Err(CopierError::NameNotPrintable.into()),
        Err(Refusal::SessionUnusable) => Err(session_problem(
            &client(state).await?,
            session_id,
            &copier.fingerprint,
            Step::Order,
        )
        .await),
        Err(Refusal::OtherCopier) => Err(CopierError::SessionBelongsToAnotherCopier.into()),
        Err(Refusal::SessionExpired) => Err(CopierError::SessionExpired.into()),
        Err(Refusal::KindNotOffered) => Err(CopierError::KindNotOffered.into()),
        Err(Refusal::Closed(why)) => Err(CopierError::from(why).into()),
    }
}

/// The card serial and municipality of the resident a session of `copier`
/// authenticated, for the order's rate limits.
const SESSION_CARD: &str = "
    SELECT s.card_serial, r.municipality_code
      FROM sessions s JOIN residents r ON r.id = s.resident_id
     WHERE s.id = $1 AND s.copier_fingerprint = $2 AND s.card_serial IS NOT NULL";

async fn session_card(
    state: &AppState,
    session_id: Uuid,
    copier: &CertFingerprint,
) -> Result<Option<(Vec<u8>, String)>, Problem> {
    let row = client(state)
        .await?
        .query_opt_cached(SESSION_CARD, &[&session_id, copier])
        .await
        .map_err(crate::gateway::db::DbError::from)?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

/// `GET /v1/orders/{id}/document`: the PDF, for the copier and session that
/// ordered it only; waits a little for rendering, then 503 + Retry-After.
pub async fn fetch_document(state: &AppState, req: &ApiRequest, id: &str) -> ApiResult {
    let copier = copier_of(req)?;
    let order_id = parse_id(id, CopierError::OrderNotFound)?;
    let session_id = req
        .header(SESSION_HEADER)
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or(CopierError::OrderSessionMismatch)?;
    let deadline = tokio::time::Instant::now() + state.config.document_wait();
    state
        .pipeline
        .wait_for_local_release(order_id, deadline)
        .await;
    let mut ahead_of_database = false;
    let fetching = std::time::Instant::now();
    loop {
        // A connection per check: waiting fetches must not hold the pool.
        let outcome = pipeline::deliver(
            &client(state).await?,
            &state.pipeline,
            order_id,
            session_id,
            &copier.fingerprint,
        )
        .await?;
        match outcome {
            DeliveryState::Ready(d) => {
                metrics::counter!(crate::gateway::series::DOCUMENTS_DELIVERED).increment(1);
                crate::gateway::series::stage("delivery", fetching.elapsed().as_secs_f64());
                let mut response = http::text(StatusCode::OK, "application/pdf", d.pdf);
                let h = response.headers_mut();
                h.insert(CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
                h.insert("kofu-ticket", HeaderValue::from(d.ticket));
                h.insert("kofu-page-count", HeaderValue::from(d.page_count));
                h.insert(
                    "kofu-document-sha256",
                    HeaderValue::from_str(&http::hex(&d.sha256)).expect("hex is ascii"),
                );
                h.insert(
                    "kofu-document-number",
                    HeaderValue::from_str(&d.document_number).map_err(|_| Problem::internal())?,
                );
                return Ok(response);
            }
            DeliveryState::NotReady { ticket } => {
                if tokio::time::Instant::now() >= deadline {
                    return Err(CopierError::DocumentNotReady.into());
                }
                if state.pipeline.settings().ordered {
                    if state.pipeline.watermark() >= ticket {
                        // Released since the read: read again at once. Seen
                        // released here but not in the database twice in a
                        // row: a release lost in a database crash, which the
                        // next pass redoes; poll rather than spin meanwhile.
                        if std::mem::replace(&mut ahead_of_database, true) {
                            let poll = RELEASE_POLL.min(deadline - tokio::time::Instant::now());
                            tokio::time::sleep(poll).await;
                        }
                        continue;
                    }
                    // No polling: wake when the watermark passes this ticket.
                    let _ =
                        tokio::time::timeout_at(deadline, state.pipeline.released_through(ticket))
                            .await;
                } else {
                    // Unordered (benchmark only): this order's local render wakes us;
                    // a render elsewhere is seen on the next poll.
                    let poll = RELEASE_POLL.min(deadline - tokio::time::Instant::now());
                    state.pipeline.rendered_or(order_id, poll).await;
                }
            }
            DeliveryState::NotFound => return Err(CopierError::OrderNotFound.into()),
            DeliveryState::OtherCopier => {
                return Err(CopierError::OrderBelongsToAnotherCopier.into());
            }
            DeliveryState::OtherSession => {
                return Err(CopierError::OrderSessionMismatch.into());
            }
            DeliveryState::Voided => return Err(CopierError::OrderVoided.into()),
            DeliveryState::Printed => return Err(CopierError::OrderAlreadyPrinted.into()),
            DeliveryState::BindingMismatch => return Err(Problem::internal()),
        }
    }
}

#[derive(Serialize)]
struct OrderClosed {
    order_id: Uuid,
    state: &'static str,
    amount_yen: i32,
}

fn completion(order_id: Uuid, state: &'static str, c: Completion) -> ApiResult {
    match c {
        Completion::Done { amount_yen } => Ok(http::json(
            StatusCode::OK,
            &OrderClosed {
                order_id,
                state,
                amount_yen,
            },
        )),
        Completion::NotFound => Err(CopierError::OrderNotFound.into()),
        Completion::OtherCopier => Err(CopierError::OrderBelongsToAnotherCopier.into()),
        Completion::AlreadyPrinted => Err(CopierError::OrderAlreadyPrinted.into()),
        Completion::AlreadyVoided => Err(CopierError::OrderAlreadyVoided.into()),
        Completion::NotDelivered => Err(CopierError::OrderNotDelivered.into()),
    }
}

/// `POST /v1/orders/{id}/printed`: the print is confirmed and the fee settles.
pub async fn confirm_printed(state: &AppState, req: &ApiRequest, id: &str) -> ApiResult {
    let copier = copier_of(req)?;
    let order_id = parse_id(id, CopierError::OrderNotFound)?;
    let db = client(state).await?;
    completion(
        order_id,
        "printed",
        pipeline::mark_printed(&db, order_id, &copier.fingerprint).await?,
    )
}

/// `POST /v1/orders/{id}/failed`: the print failed; the order is voided and refunded.
pub async fn report_failed(state: &AppState, req: &ApiRequest, id: &str) -> ApiResult {
    let copier = copier_of(req)?;
    let order_id = parse_id(id, CopierError::OrderNotFound)?;
    let db = client(state).await?;
    completion(
        order_id,
        "voided",
        pipeline::mark_failed(&db, order_id, &copier.fingerprint).await?,
    )
}

/// A registered-domicile application as the copier sends it.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DomicileRequest {
    pub municipality_code: String,
    pub domicile: String,
    pub head_of_register: String,
}

/// The body of `POST /v1/sessions/{id}/domicile-registrations`, read and
/// checked as the handler does before it reads the session: the 本籍
/// municipality's code (`domicile_municipality_unknown` when malformed), and
/// the 本籍 and 筆頭者 (1 to 200 characters, no control characters, else
/// `invalid_options`).
pub(crate) fn read_domicile(
    body: &[u8],
) -> Result<
    (
        crate::gateway::municipality::LocalGovernmentCode,
        DomicileRequest,
    ),
    Problem,
> {
    let body: DomicileRequest = http::json_body(body)?;
    let code = crate::gateway::municipality::LocalGovernmentCode::parse(&body.municipality_code)
        .map_err(|_| CopierError::DomicileMunicipalityUnknown)?;
    let text_ok = |t: &str| {
        let n = t.chars().count();
        (1..=200).contains(&n) && !t.chars().any(char::is_control)
    };
    if !text_ok(&body.domicile) || !text_ok(&body.head_of_register) {
        return Err(CopierError::InvalidOptions.into());
    }
    Ok((code, body))
}

/// `POST /v1/sessions/{id}/domicile-registrations`: the authenticated
/// resident registers with the municipality that keeps their 戸籍, naming
/// its 本籍 and 筆頭者. `201` with the registration (`active` when it
/// matched the register, else `pending`), or `200` with the open one the
/// card already has there.
pub async fn register_domicile(state: &AppState, req: &ApiRequest, id: &str) -> ApiResult {
    let copier = copier_of(req)?;
    let session_id = parse_id(id, CopierError::SessionNotFound)?;
    let (code, body) = read_domicile(&req.body)?;
    let mut db = client(state).await?;
    let Some(row) = db
        .query_opt(
            "SELECT s.copier_fingerprint, s.expires_at > now(), s.card_serial, r.id, r.name, r.birth_date
               FROM sessions s JOIN residents r ON r.id = s.resident_id
              WHERE s.id = $1 AND s.card_serial IS NOT NULL",
            &[&session_id],
        )
        .await
        .map_err(crate::gateway::db::DbError::from)?
    else {
        return Err(session_problem(&db, session_id, &copier.fingerprint, Step::Order).await);
    };
    if row.get::<_, CertFingerprint>(0) != copier.fingerprint {
        return Err(CopierError::SessionBelongsToAnotherCopier.into());
    }
    if !row.get::<_, bool>(1) {
        return Err(CopierError::SessionExpired.into());
    }
    // The 本籍 municipality must take part, be live, and not be in maintenance.
    let target = db
        .query_opt(
            "SELECT settings_version, live_at IS NOT NULL FROM municipalities WHERE code = $1",
            &[&code.as_str()],
        )
        .await
        .map_err(crate::gateway::db::DbError::from)?
        .ok_or(CopierError::DomicileMunicipalityUnknown)?;
    if !target.get::<_, bool>(1) {
        return Err(CopierError::MunicipalityNotLive.into());
    }
    if let Some(version) = target.get::<_, Option<i32>>(0) {
        let settings = state
            .pipeline
            .municipalities()
            .get(&db, code.as_str(), version)
            .await?;
        let now = OffsetDateTime::now_utc();
        if settings
            .maintenance
            .iter()
            .any(|w| w.from <= now && now < w.to)
        {
            return Err(CopierError::Maintenance.into());
        }
    }
    let serial: Vec<u8> = row.get(2);
    let name: String = row.get(4);
    let application = registry::domicile::Application {
        serial: &serial,
        resident_id: row.get(3),
        name: &name,
        birth_date: row.get(5),
        municipality_code: code.as_str(),
        domicile: &body.domicile,
        head_of_register: &body.head_of_register,
    };
    let (registration, new) = registry::domicile::register(&mut db, &application).await?;
    metrics::counter!(crate::gateway::series::DOMICILE_REGISTRATIONS,
        "outcome" => if registration.status == registry::domicile::Status::Active { "active" } else { "pending" })
    .increment(u64::from(new));
    Ok(http::json(
        if new {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        &registration,
    ))
}
