//! The administration API, served only on the administration listener
//! (mutual TLS with operator certificates from the operator CA; see
//! `pki::operators`).
//!
//! Rule: every call checks the operator's role before reading its body;
//! nothing here logs a serial or a resident code.
//!
//! - `POST /v1/admin/certificate-events` (role `jlis`): one J-LIS certificate
//!   lifecycle event (`registry::events`), or `{"events": [...]}` for several,
//!   each applied in its own transaction. 200 with each event's outcome
//!   (`applied` or `duplicate`); the first refused event stops the batch with
//!   its problem code, the ones before it stay applied (and are idempotent,
//!   so the batch can simply be sent again once fixed).

use hyper::StatusCode;
use serde::{Deserialize, Serialize};

pub mod error;
pub mod municipalities;

use crate::gateway::audit::Acting;
use crate::gateway::db::Checkout;
use crate::gateway::error::Problem;
use crate::gateway::http::{self, ApiRequest, ApiResult, OperatorIdentity};
use crate::gateway::pki::operators::ROLE_JLIS;
use crate::gateway::registry::events::{self, CertificateEvent, Outcome};
use crate::gateway::signing::KeyError;
use crate::gateway::state::AppState;
use error::AdminError;

/// The routes that take large bodies (`import_max_body_bytes`): register
/// files and change feeds.
pub const IMPORTS_ROUTE: &str = "/v1/admin/municipalities/{id}/imports";
pub const CHANGES_ROUTE: &str = "/v1/admin/municipalities/{id}/changes";

/// Events per batch request.
pub(crate) const MAX_EVENTS_PER_REQUEST: usize = 1000;

#[derive(Deserialize)]
#[serde(untagged)]
enum Submission {
    Batch(Batch),
    One(CertificateEvent),
}

/// `{"events": [...]}`, and nothing else beside the events.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Batch {
    events: Vec<CertificateEvent>,
}

#[derive(Serialize)]
struct Applied {
    event_id: String,
    outcome: Outcome,
}

#[derive(Serialize)]
struct Results {
    results: Vec<Applied>,
}

/// The operator, if their certificate carries `role`; otherwise
/// `operator_role_required`.
pub fn operator_with<'r>(
    req: &'r ApiRequest,
    role: &str,
) -> Result<&'r OperatorIdentity, AdminError> {
    req.operator
        .as_ref()
        .filter(|o| o.roles.iter().any(|r| r == role))
        .ok_or(AdminError::OperatorRoleRequired)
}

/// The body of `POST /v1/admin/certificate-events` as the events it
/// carries, in order: `malformed_request` for JSON that is neither an event
/// nor a batch, `event_malformed` for an empty batch or one over
/// [`MAX_EVENTS_PER_REQUEST`]. Each event's own fields are checked when it
/// is applied ([`CertificateEvent::check`]).
pub(crate) fn read_events(body: &[u8]) -> Result<Vec<CertificateEvent>, Problem> {
    let submission: Submission = http::json_body(body)?;
    let batch = match submission {
        Submission::One(event) => vec![event],
        Submission::Batch(Batch { events }) => events,
    };
    if batch.is_empty() || batch.len() > MAX_EVENTS_PER_REQUEST {
        return Err(AdminError::EventMalformed.into());
    }
    Ok(batch)
}

/// `POST /v1/admin/certificate-events`.
pub async fn certificate_events(state: &AppState, req: &ApiRequest) -> ApiResult {
    let operator = operator_with(req, ROLE_JLIS)?.audit_name();
    let batch = read_events(&req.body)?;
    // The audit trail names the operator (`audit::Acting`).
    let mut acting = Acting::checkout(&state.pool, &operator).await?;
    let mut results = Vec::with_capacity(batch.len());
    for event in &batch {
        match events::apply(acting.client_mut(), event).await {
            Ok(outcome) => results.push(Applied {
                event_id: event.event_id.clone(),
                outcome,
            }),
            Err(e) => {
                tracing::info!(
                    code = e.code(),
                    applied = results.len(),
                    "certificate event refused"
                );
                acting.done().await?;
                return Err(e.into());
            }
        }
    }
    acting.done().await?;
    Ok(http::json(StatusCode::OK, &Results { results }))
}

/// The role a municipality's operators hold.
fn municipality_role(code: &str) -> String {
    format!("municipality:{code}")
}

/// The operator, if their certificate names some municipality: the first
/// check of a route whose municipality is known only from the row it names
/// (a document, a registration); [`operator_of`] follows once it is.
pub(crate) fn some_municipality_operator(
    req: &ApiRequest,
) -> Result<&OperatorIdentity, AdminError> {
    req.operator
        .as_ref()
        .filter(|o| o.roles.iter().any(|r| r.starts_with("municipality:")))
        .ok_or(AdminError::OperatorRoleRequired)
}

/// `code`, when it is a local government code with its check digit right.
fn valid_code(code: &str) -> Result<&str, AdminError> {
    crate::gateway::municipality::LocalGovernmentCode::parse(code)
        .map(|_| code)
        .map_err(|_| AdminError::MunicipalityCodeInvalid)
}

/// The operator, if their certificate names municipality `code` and no
/// other: a municipality's operator acts for exactly one municipality.
pub(crate) fn operator_of<'r>(
    req: &'r ApiRequest,
    code: &str,
) -> Result<&'r OperatorIdentity, AdminError> {
    let operator = operator_with(req, &municipality_role(code))?;
    let municipalities = operator
        .roles
        .iter()
        .filter(|r| r.starts_with("municipality:"))
        .count();
    if municipalities != 1 {
        return Err(AdminError::OperatorRoleRequired);
    }
    Ok(operator)
}

fn db_client_error(e: deadpool_postgres::PoolError) -> crate::gateway::error::Problem {
    crate::gateway::db::DbError::from(e).into()
}

fn key_problem(e: KeyError) -> crate::gateway::error::Problem {
    match e {
        KeyError::Unknown => AdminError::SigningKeyNotFound.into(),
        KeyError::NoMunicipality => AdminError::MunicipalityNotFound.into(),
        KeyError::Db(db) => db.into(),
        KeyError::Unsealable => {
            tracing::error!("a signing key does not unseal under this gateway's secret");
            crate::gateway::error::Problem::internal()
        }
    }
}

/// `GET /v1/admin/municipalities/{code}/signing-keys` (role
/// `municipality:<code>`): the municipality's keys, as `/v1/keys` has them.
pub async fn signing_keys(state: &AppState, req: &ApiRequest, code: &str) -> ApiResult {
    let code = valid_code(code)?;
    operator_of(req, code)?;
    let client = state.pool.checkout().await.map_err(db_client_error)?;
    let mut list = crate::gateway::signing::published(&client).await?;
    list.keys.retain(|k| k.municipality == code);
    Ok(http::json(StatusCode::OK, &list))
}

#[derive(Serialize)]
struct Rotated {
    kid: String,
}

/// `POST /v1/admin/municipalities/{code}/signing-keys` (role
/// `municipality:<code>`): rotation. The current key is retired (it still
/// verifies what it signed) and a new one signs from the next acceptance on.
pub async fn rotate_signing_key(state: &AppState, req: &ApiRequest, code: &str) -> ApiResult {
    let code = valid_code(code)?;
    let operator = operator_of(req, code)?.audit_name();
    let mut acting = Acting::checkout(&state.pool, &operator).await?;
    let kid = state
        .pipeline
        .keys()
        .rotate(acting.client_mut(), code)
        .await
        .map_err(key_problem)?;
    acting.done().await?;
    tracing::info!(municipality = code, "document signing key rotated");
    Ok(http::json(StatusCode::CREATED, &Rotated { kid }))
}

#[derive(Serialize)]
struct Revoked {
    kid: String,
    /// The new current key, when the revoked one was current.
    replacement: Option<String>,
}

/// `POST /v1/admin/signing-keys/{kid}/revoke` (role `municipality:<code>`
/// of the key's municipality): what the key signed is no longer genuine;
/// a revoked current key is replaced at once.
pub async fn revoke_signing_key(state: &AppState, req: &ApiRequest, kid: &str) -> ApiResult {
    // A kid begins with its municipality's code (see `signing`).
    let code = kid.split('-').next().unwrap_or_default();
    let operator = operator_of(req, code)?.audit_name();
    let mut acting = Acting::checkout(&state.pool, &operator).await?;
    let replacement = state
        .pipeline
        .keys()
        .revoke(acting.client_mut(), code, kid)
        .await
        .map_err(key_problem)?;
    acting.done().await?;
    tracing::warn!(municipality = code, "document signing key revoked");
    Ok(http::json(
        StatusCode::OK,
        &Revoked {
            kid: kid.to_owned(),
            replacement,
        },
    ))
}

#[derive(Serialize)]
struct WithdrawnDocument {
    code: String,
    withdrawn_at: String,
}

/// `POST /v1/admin/documents/{code}/withdraw` (role `municipality:<code>`
/// of the document's municipality): the document is no longer genuine;
/// `GET /v1/verify/{code}` says so. Withdrawing twice keeps the first time.
pub async fn withdraw_document(state: &AppState, req: &ApiRequest, typed: &str) -> ApiResult {
    use crate::gateway::verify::VerifyError;
    some_municipality_operator(req)?;
    let code = crate::gateway::signing::VerificationCode::parse(typed)
        .map_err(|_| VerifyError::VerificationCodeMalformed)?;
    let client = state.pool.checkout().await.map_err(db_client_error)?;
    // Only paper that was handed to a copier can be withdrawn: an order
    // not delivered yet has none (the verification look-up's own rule).
    let municipality = crate::gateway::verify::look_up(state, &client, &code, None)
        .await?
        .ok_or(VerifyError::DocumentNotFound)?
        .municipality
        .code;
    let operator = operator_of(req, &municipality)?.audit_name();
    drop(client);
    let acting = Acting::checkout(&state.pool, &operator).await?;
    let row = acting
        .client()
        .query_one(
            "UPDATE orders SET withdrawn_at = coalesce(withdrawn_at, now())
              WHERE verification_code = $1 RETURNING withdrawn_at",
            &[&code.compact()],
        )
        .await
        .map_err(crate::gateway::db::DbError::from)?;
    acting.done().await?;
    tracing::warn!(municipality = %municipality, "document withdrawn");
    Ok(http::json(
        StatusCode::OK,
        &WithdrawnDocument {
            code: code.to_string(),
            withdrawn_at: row
                .get::<_, time::OffsetDateTime>(0)
                .format(&time::format_description::well_known::Rfc3339)
                .expect("timestamps format"),
        },
    ))
}
