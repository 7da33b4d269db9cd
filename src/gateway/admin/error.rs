//! The administration API's refusals: one variant per stable code (see
//! [`crate::gateway::error`]); J-LIS event errors become these by matching
//! their variants.

use crate::gateway::error::{Problem, problems};
use crate::gateway::registry::events::EventError;

problems! {
    /// Why an operator's request was refused.
    pub enum AdminError {
        /// The operator's certificate lacks the route's role.
        OperatorRoleRequired => FORBIDDEN, "operator_role_required", OPERATOR_ROLE_REQUIRED;
        EventMalformed => BAD_REQUEST, "event_malformed", EVENT_MALFORMED;
        EventIdReused => CONFLICT, "event_id_reused", EVENT_ID_REUSED;
        SerialLinkedElsewhere => CONFLICT, "serial_linked_elsewhere", SERIAL_LINKED_ELSEWHERE;
        ResidentNotFound => UNPROCESSABLE_ENTITY, "resident_not_found", RESIDENT_NOT_FOUND;
        SerialNotLinked => UNPROCESSABLE_ENTITY, "serial_not_linked", SERIAL_NOT_LINKED;
        SerialNotActive => UNPROCESSABLE_ENTITY, "serial_not_active", SERIAL_NOT_ACTIVE;
        MunicipalityNotFound => NOT_FOUND, "municipality_not_found", MUNICIPALITY_NOT_FOUND;
        SigningKeyNotFound => NOT_FOUND, "signing_key_not_found", SIGNING_KEY_NOT_FOUND;
    }
}

/// A refused event: its area code, or the database's own problem.
impl From<EventError> for Problem {
    fn from(e: EventError) -> Problem {
        match e {
            EventError::Malformed(_) => AdminError::EventMalformed.into(),
            EventError::EventIdReused => AdminError::EventIdReused.into(),
            EventError::SerialLinkedElsewhere => AdminError::SerialLinkedElsewhere.into(),
            EventError::ResidentNotFound => AdminError::ResidentNotFound.into(),
            EventError::SerialNotLinked => AdminError::SerialNotLinked.into(),
            EventError::SerialNotActive => AdminError::SerialNotActive.into(),
            EventError::Db(db) => db.into(),
        }
    }
}
