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
        /// Not six digits, or the check digit is wrong (JIS X 0402).
        MunicipalityCodeInvalid => BAD_REQUEST, "municipality_code_invalid", MUNICIPALITY_CODE_INVALID;
        MunicipalityExists => CONFLICT, "municipality_exists", MUNICIPALITY_EXISTS;
        /// The answer also lists every wrong field (`errors`).
        SettingsInvalid => UNPROCESSABLE_ENTITY, "settings_invalid", SETTINGS_INVALID;
        SettingsVersionNotFound => NOT_FOUND, "settings_version_not_found", SETTINGS_VERSION_NOT_FOUND;
        /// The answer also lists the checks (`checks`).
        OnboardingIncomplete => CONFLICT, "onboarding_incomplete", ONBOARDING_INCOMPLETE;
        DomicileRegistrationNotFound => NOT_FOUND, "domicile_registration_not_found", DOMICILE_REGISTRATION_NOT_FOUND;
        DomicileRegistrationNotPending => CONFLICT, "domicile_registration_not_pending", DOMICILE_REGISTRATION_NOT_PENDING;
        FamilyRegisterEntryNotFound => UNPROCESSABLE_ENTITY, "family_register_entry_not_found", FAMILY_REGISTER_ENTRY_NOT_FOUND;
        DateMalformed => BAD_REQUEST, "date_malformed", DATE_MALFORMED;
        ImportRegisterUnknown => BAD_REQUEST, "import_register_unknown", IMPORT_REGISTER_UNKNOWN;
        ImportFormatUnsupported => UNSUPPORTED_MEDIA_TYPE, "import_format_unsupported", IMPORT_FORMAT_UNSUPPORTED;
        /// The answer also lists every error (`errors`, `error_count`).
        ImportInvalid => UNPROCESSABLE_ENTITY, "import_invalid", IMPORT_INVALID;
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
