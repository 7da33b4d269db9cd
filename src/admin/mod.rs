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

use hyper::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use crate::error::Problem;
use crate::http::{self, ApiRequest, ApiResult};
use crate::pki::operators::ROLE_JLIS;
use crate::registry::events::{self, CertificateEvent, EventError, Outcome};
use crate::server::AppState;

/// Events per batch request.
const MAX_EVENTS_PER_REQUEST: usize = 1000;

pub async fn dispatch(state: &AppState, req: &ApiRequest) -> ApiResult {
    let segments: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    match (&req.method, segments.as_slice()) {
        (&Method::POST, ["v1", "admin", "certificate-events"]) => {
            certificate_events(state, req).await
        }
        (_, ["v1", "admin", "certificate-events"]) => Err(Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        )),
        _ => Err(Problem::new(StatusCode::NOT_FOUND, "not_found")),
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Submission {
    Batch { events: Vec<CertificateEvent> },
    One(CertificateEvent),
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

fn problem(e: EventError) -> Problem {
    let status = match e {
        EventError::Malformed(_) => StatusCode::BAD_REQUEST,
        EventError::EventIdReused | EventError::SerialLinkedElsewhere => StatusCode::CONFLICT,
        EventError::ResidentNotFound
        | EventError::SerialNotLinked
        | EventError::SerialNotActive => StatusCode::UNPROCESSABLE_ENTITY,
        EventError::Db(db) => return Problem::from(db),
    };
    Problem::new(status, e.code())
}

async fn certificate_events(state: &AppState, req: &ApiRequest) -> ApiResult {
    req.operator_with(ROLE_JLIS)?;
    let submission: Submission = req.json()?;
    let batch = match submission {
        Submission::One(event) => vec![event],
        Submission::Batch { events } => events,
    };
    if batch.is_empty() || batch.len() > MAX_EVENTS_PER_REQUEST {
        return Err(Problem::new(StatusCode::BAD_REQUEST, "event_malformed"));
    }
    let mut client = state.pool.get().await.map_err(crate::db::DbError::from)?;
    let mut results = Vec::with_capacity(batch.len());
    for event in &batch {
        match events::apply(&mut client, event).await {
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
                return Err(problem(e));
            }
        }
    }
    Ok(http::json(StatusCode::OK, &Results { results }))
}
