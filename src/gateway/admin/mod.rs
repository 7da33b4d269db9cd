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

use crate::gateway::http::{self, ApiRequest, ApiResult, OperatorIdentity};
use crate::gateway::pki::operators::ROLE_JLIS;
use crate::gateway::registry::events::{self, CertificateEvent, Outcome};
use crate::gateway::state::AppState;
use error::AdminError;

/// Events per batch request.
const MAX_EVENTS_PER_REQUEST: usize = 1000;

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

/// `POST /v1/admin/certificate-events`.
pub async fn certificate_events(state: &AppState, req: &ApiRequest) -> ApiResult {
    operator_with(req, ROLE_JLIS)?;
    let submission: Submission = req.json()?;
    let batch = match submission {
        Submission::One(event) => vec![event],
        Submission::Batch { events } => events,
    };
    if batch.is_empty() || batch.len() > MAX_EVENTS_PER_REQUEST {
        return Err(AdminError::EventMalformed.into());
    }
    let mut client = state
        .pool
        .get()
        .await
        .map_err(crate::gateway::db::DbError::from)?;
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
                return Err(e.into());
            }
        }
    }
    Ok(http::json(StatusCode::OK, &Results { results }))
}
