//! The administration API's refusals: one variant per stable code (see
//! [`crate::gateway::error`]); J-LIS event errors become these by matching
//! their variants.

use crate::gateway::error::{Problem, problems};
use crate::gateway::registry::events::EventError;

problems! {
    /// Why an operator's request was refused.
    pub enum AdminError {
        /// The operator's certificate lacks the route's role.
        OperatorRoleRequired => FORBIDDEN, "operator_role_required",
            "This operation needs an operator certificate with the right role.",
            "この操作には適切な権限を持つ運用者証明書が必要です。";
        EventMalformed => BAD_REQUEST, "event_malformed",
            "The certificate event is malformed.",
            "証明書イベントの形式が正しくありません。";
        EventIdReused => CONFLICT, "event_id_reused",
            "This event id was already used for a different event.",
            "このイベントIDは別のイベントに使用されています。";
        SerialLinkedElsewhere => CONFLICT, "serial_linked_elsewhere",
            "The certificate serial is already linked to another resident.",
            "この証明書シリアル番号は別の住民と紐付いています。";
        ResidentNotFound => UNPROCESSABLE_ENTITY, "resident_not_found",
            "No resident with that resident code is registered.",
            "該当する住民票コードの住民は登録されていません。";
        SerialNotLinked => UNPROCESSABLE_ENTITY, "serial_not_linked",
            "The certificate serial is not linked to a resident.",
            "この証明書シリアル番号は住民と紐付いていません。";
        SerialNotActive => UNPROCESSABLE_ENTITY, "serial_not_active",
            "The certificate serial is suspended or revoked.",
            "この証明書シリアル番号は一時保留中または失効しています。";
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
