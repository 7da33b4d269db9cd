//! The copier API's refusals: one variant per stable code, each with its
//! status and messages (see [`crate::gateway::error`]); the domain errors of
//! the steps (card verification, revocation, acceptance, delivery) become
//! these by matching their variants, here and nowhere else.

use crate::gateway::error::problems;
use crate::gateway::pki::revocation::service::RevocationRefusal;
use crate::gateway::pki::{CardError, Credential};
use crate::gateway::registry::{Ineligible, KindRefusal};

problems! {
    /// Why a copier's request was refused.
    pub enum CopierError {
        /// The connection carries no copier client certificate.
        CopierCertificateRequired => UNAUTHORIZED, "copier_certificate_required", COPIER_CERTIFICATE_REQUIRED;
        SessionNotFound => NOT_FOUND, "session_not_found", SESSION_NOT_FOUND;
        SessionExpired => GONE, "session_expired", SESSION_EXPIRED;
        SessionBelongsToAnotherCopier => FORBIDDEN, "session_belongs_to_another_copier", SESSION_BELONGS_TO_ANOTHER_COPIER;
        ChallengeAlreadyUsed => CONFLICT, "challenge_already_used", CHALLENGE_ALREADY_USED;
        /// No card was verified in the session (or its resident is gone).
        SessionNotAuthenticated => FORBIDDEN, "session_not_authenticated", SESSION_NOT_AUTHENTICATED;
        /// The copier named a challenge algorithm kofu does not know.
        AlgorithmUnknown => BAD_REQUEST, "card_algorithm_unsupported", CARD_ALGORITHM_UNSUPPORTED;
        /// The card certificate does not parse, or its own signature fails.
        CardCertificateInvalid => BAD_REQUEST, "card_certificate_invalid", CARD_CERTIFICATE_INVALID;
        CardUnknownIssuer => FORBIDDEN, "card_unknown_issuer", CARD_UNKNOWN_ISSUER;
        /// The card's key or signature algorithm is not one kofu accepts.
        CardAlgorithmUnsupported => FORBIDDEN, "card_algorithm_unsupported", CARD_ALGORITHM_UNSUPPORTED;
        CardNotYetValid => FORBIDDEN, "card_not_yet_valid", CARD_NOT_YET_VALID;
        CardExpired => FORBIDDEN, "card_expired", CARD_EXPIRED;
        CardKeyUsageInvalid => FORBIDDEN, "card_key_usage_invalid", CARD_KEY_USAGE_INVALID;
        CardPolicyMissing => FORBIDDEN, "card_policy_missing", CARD_POLICY_MISSING;
        CardExtensionUnsupported => FORBIDDEN, "card_extension_unsupported", CARD_EXTENSION_UNSUPPORTED;
        CardSignatureInvalid => FORBIDDEN, "card_signature_invalid", CARD_SIGNATURE_INVALID;
        CardIssuerNotCa => FORBIDDEN, "card_issuer_not_ca", CARD_ISSUER_NOT_CA;
        CardIssuerNotValid => FORBIDDEN, "card_issuer_not_valid", CARD_ISSUER_NOT_VALID;
        CardPathRefused => FORBIDDEN, "card_path_refused", CARD_PATH_REFUSED;
        /// The gateway has no usable card CA: an operator must fix the configuration.
        CardVerifierMisconfigured => INTERNAL_SERVER_ERROR, "card_verifier_misconfigured", CARD_VERIFIER_MISCONFIGURED;
        CardNotRegistered => FORBIDDEN, "card_not_registered", CARD_NOT_REGISTERED;
        CardSuspended => FORBIDDEN, "card_suspended", CARD_SUSPENDED;
        CardRevoked => FORBIDDEN, "card_revoked", CARD_REVOKED;
        /// A smartphone certificate J-LIS has not linked to a card here.
        SmartphoneNotRegistered => FORBIDDEN, "smartphone_not_registered", SMARTPHONE_NOT_REGISTERED;
        /// The phone was reported lost or stolen; the card still works.
        SmartphoneSuspended => FORBIDDEN, "smartphone_suspended", SMARTPHONE_SUSPENDED;
        /// The card the phone was derived from was renewed, reissued or
        /// revoked: register the phone again.
        SmartphoneSuperseded => FORBIDDEN, "smartphone_superseded", SMARTPHONE_SUPERSEDED;
        /// The phone's own certificate was revoked (J-LIS event or CRL).
        SmartphoneRevoked => FORBIDDEN, "smartphone_revoked", SMARTPHONE_REVOKED;
        /// Another copier authenticated this card a moment ago: a card sits
        /// in one copier (`rate_limits.card_exclusive_secs`).
        CardInUseElsewhere => CONFLICT, "card_in_use_elsewhere", CARD_IN_USE_ELSEWHERE;
        /// A registered-domicile registration names no participating municipality.
        DomicileMunicipalityUnknown => NOT_FOUND, "domicile_municipality_unknown", DOMICILE_MUNICIPALITY_UNKNOWN;
        /// The resident's municipality has not gone live yet.
        MunicipalityNotLive => FORBIDDEN, "municipality_not_live", MUNICIPALITY_NOT_LIVE;
        /// No current CRL for the card's CA: fail closed.
        RevocationDataStale => SERVICE_UNAVAILABLE, "revocation_data_stale", REVOCATION_DATA_STALE;
        /// Ineligibilities (`registry::Ineligible`), the same codes as the menu's reasons.
        MovedOut => FORBIDDEN, "moved_out", MOVED_OUT;
        MovingOut => FORBIDDEN, "moving_out", MOVING_OUT;
        Deceased => FORBIDDEN, "deceased", DECEASED;
        /// 支援措置, of the resident or a household member the certificate
        /// would show; its message gives no reason.
        Protected => FORBIDDEN, "protected", PROTECTED;
        MovedInToday => FORBIDDEN, "moved_in_today", MOVED_IN_TODAY;
        CardIssuedToday => FORBIDDEN, "card_issued_today", CARD_ISSUED_TODAY;
        /// A name (or another printed field) has a character the
        /// certificate font cannot draw: the order is refused before payment.
        NameNotPrintable => UNPROCESSABLE_ENTITY, "name_not_printable", NAME_NOT_PRINTABLE;
        /// The kinds' own registers (`registry::KindRefusal`), as menu reasons.
        SealNotRegistered => FORBIDDEN, "seal_not_registered", SEAL_NOT_REGISTERED;
        SealAbolished => FORBIDDEN, "seal_abolished", SEAL_ABOLISHED;
        TaxYearNotReleased => FORBIDDEN, "tax_year_not_released", TAX_YEAR_NOT_RELEASED;
        NoTaxRecord => FORBIDDEN, "no_tax_record", NO_TAX_RECORD;
        NotRegisteredHereOnJanuary1 => FORBIDDEN, "not_registered_here_on_january_1",
            NOT_REGISTERED_HERE_ON_JANUARY_1;
        DomicileElsewhere => FORBIDDEN, "domicile_elsewhere", DOMICILE_ELSEWHERE;
        /// The municipality's calendar (`municipality::Closed`), as menu reasons.
        OutsideServiceHours => FORBIDDEN, "outside_service_hours", OUTSIDE_SERVICE_HOURS;
        ClosedToday => FORBIDDEN, "closed_today", CLOSED_TODAY;
        Maintenance => SERVICE_UNAVAILABLE, "maintenance", MAINTENANCE;
        /// The municipality does not offer the kind (it has no fee for it).
        KindNotOffered => FORBIDDEN, "kind_not_offered", REASON_KIND_NOT_OFFERED;
        IdempotencyKeyRequired => BAD_REQUEST, "idempotency_key_required", IDEMPOTENCY_KEY_REQUIRED;
        IdempotencyKeyReused => UNPROCESSABLE_ENTITY, "idempotency_key_reused", IDEMPOTENCY_KEY_REUSED;
        CertificateKindUnavailable => UNPROCESSABLE_ENTITY, "certificate_kind_unavailable", CERTIFICATE_KIND_UNAVAILABLE;
        InvalidOptions => UNPROCESSABLE_ENTITY, "invalid_options", INVALID_OPTIONS;
        OrderNotFound => NOT_FOUND, "order_not_found", ORDER_NOT_FOUND;
        OrderBelongsToAnotherCopier => FORBIDDEN, "order_belongs_to_another_copier", ORDER_BELONGS_TO_ANOTHER_COPIER;
        /// The fetch names no session, or another one than the order's.
        OrderSessionMismatch => FORBIDDEN, "order_session_mismatch", ORDER_SESSION_MISMATCH;
        DocumentNotReady => SERVICE_UNAVAILABLE retry 1, "document_not_ready", DOCUMENT_NOT_READY;
        /// Fetching a voided order: the document is gone for good.
        OrderVoided => GONE, "order_voided", ORDER_VOIDED;
        /// Confirming (printed or failed) an order already voided.
        OrderAlreadyVoided => CONFLICT, "order_voided", ORDER_VOIDED;
        OrderAlreadyPrinted => CONFLICT, "order_already_printed", ORDER_ALREADY_PRINTED;
        OrderNotDelivered => CONFLICT, "order_not_delivered", ORDER_NOT_DELIVERED;
    }
}

impl From<&CardError> for CopierError {
    fn from(e: &CardError) -> Self {
        match e {
            CardError::Malformed
            | CardError::TooLarge { .. }
            | CardError::InvalidSerial
            | CardError::CertificateSignatureInvalid => CopierError::CardCertificateInvalid,
            CardError::UnknownIssuer => CopierError::CardUnknownIssuer,
            CardError::UnsupportedAlgorithm => CopierError::CardAlgorithmUnsupported,
            CardError::NotYetValid { .. } => CopierError::CardNotYetValid,
            CardError::Expired { .. } => CopierError::CardExpired,
            CardError::KeyUsage => CopierError::CardKeyUsageInvalid,
            CardError::PolicyMissing => CopierError::CardPolicyMissing,
            CardError::UnknownCriticalExtension { .. } => CopierError::CardExtensionUnsupported,
            CardError::ChallengeAlgorithmMismatch { .. } | CardError::ChallengeSignatureInvalid => {
                CopierError::CardSignatureInvalid
            }
            CardError::IssuerNotCa => CopierError::CardIssuerNotCa,
            CardError::IssuerNotValid => CopierError::CardIssuerNotValid,
            CardError::PathRefused { .. } => CopierError::CardPathRefused,
            CardError::NoTrustAnchors
            | CardError::InvalidTrustAnchor { .. }
            | CardError::InvalidSmartphonePolicy
            | CardError::InvalidIntermediate { .. } => CopierError::CardVerifierMisconfigured,
        }
    }
}

impl From<crate::gateway::municipality::Closed> for CopierError {
    fn from(why: crate::gateway::municipality::Closed) -> Self {
        use crate::gateway::municipality::Closed;
        match why {
            Closed::Maintenance => CopierError::Maintenance,
            Closed::ClosedToday => CopierError::ClosedToday,
            Closed::OutsideServiceHours => CopierError::OutsideServiceHours,
        }
    }
}

impl From<Ineligible> for CopierError {
    fn from(why: Ineligible) -> Self {
        match why {
            Ineligible::MovedOut => CopierError::MovedOut,
            Ineligible::MovingOut => CopierError::MovingOut,
            Ineligible::Deceased => CopierError::Deceased,
            Ineligible::Protected => CopierError::Protected,
            Ineligible::MovedInToday => CopierError::MovedInToday,
            Ineligible::CardIssuedToday => CopierError::CardIssuedToday,
        }
    }
}

impl From<KindRefusal> for CopierError {
    fn from(why: KindRefusal) -> Self {
        match why {
            KindRefusal::SealNotRegistered => CopierError::SealNotRegistered,
            KindRefusal::SealAbolished => CopierError::SealAbolished,
            KindRefusal::TaxYearNotReleased => CopierError::TaxYearNotReleased,
            KindRefusal::NoTaxRecord => CopierError::NoTaxRecord,
            KindRefusal::NotRegisteredHereOnJanuary1 => CopierError::NotRegisteredHereOnJanuary1,
            KindRefusal::DomicileElsewhere => CopierError::DomicileElsewhere,
        }
    }
}

impl From<RevocationRefusal> for CopierError {
    fn from(r: RevocationRefusal) -> Self {
        match r {
            RevocationRefusal::Revoked => CopierError::CardRevoked,
            RevocationRefusal::Suspended => CopierError::CardSuspended,
            RevocationRefusal::Stale => CopierError::RevocationDataStale,
        }
    }
}

impl CopierError {
    /// A CRL's refusal of a certificate, said of the credential it refused:
    /// a phone listed on hold or revoked in the smartphone CA's CRL gets
    /// the smartphone's codes.
    pub fn revocation(r: RevocationRefusal, credential: Credential) -> Self {
        match (credential, r) {
            (Credential::Smartphone, RevocationRefusal::Revoked) => CopierError::SmartphoneRevoked,
            (Credential::Smartphone, RevocationRefusal::Suspended) => {
                CopierError::SmartphoneSuspended
            }
            _ => CopierError::from(r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The copier sees the code the verifier reports (metrics and logs use
    /// the verifier's), for every refusal it can give.
    #[test]
    fn card_and_revocation_refusals_keep_their_codes() {
        use crate::gateway::pki::ChallengeAlgorithm;
        let t = time::OffsetDateTime::UNIX_EPOCH;
        let card_errors = [
            CardError::Malformed,
            CardError::TooLarge { size: 1 },
            CardError::InvalidSerial,
            CardError::CertificateSignatureInvalid,
            CardError::UnknownIssuer,
            CardError::UnsupportedAlgorithm,
            CardError::NotYetValid { not_before: t },
            CardError::Expired { not_after: t },
            CardError::KeyUsage,
            CardError::PolicyMissing,
            CardError::UnknownCriticalExtension { oid: String::new() },
            CardError::ChallengeAlgorithmMismatch {
                declared: ChallengeAlgorithm::EcdsaP256Sha256,
            },
            CardError::ChallengeSignatureInvalid,
            CardError::IssuerNotCa,
            CardError::IssuerNotValid,
            CardError::PathRefused { reason: "x" },
            CardError::NoTrustAnchors,
            CardError::InvalidTrustAnchor { index: 0 },
            CardError::InvalidSmartphonePolicy,
            CardError::InvalidIntermediate { index: 0 },
        ];
        for e in &card_errors {
            assert_eq!(CopierError::from(e).code(), e.code(), "{e:?}");
        }
        for r in [
            RevocationRefusal::Revoked,
            RevocationRefusal::Suspended,
            RevocationRefusal::Stale,
        ] {
            assert_eq!(CopierError::from(r).code(), r.code());
        }
    }
}
