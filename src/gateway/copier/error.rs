//! The copier API's refusals: one variant per stable code, each with its
//! status and messages (see [`crate::gateway::error`]); the domain errors of
//! the steps (card verification, revocation, acceptance, delivery) become
//! these by matching their variants, here and nowhere else.

use crate::gateway::error::problems;
use crate::gateway::pki::CardError;
use crate::gateway::pki::revocation::service::RevocationRefusal;

problems! {
    /// Why a copier's request was refused.
    pub enum CopierError {
        /// The connection carries no copier client certificate.
        CopierCertificateRequired => UNAUTHORIZED, "copier_certificate_required",
            "A copier client certificate is required.",
            "マルチコピー機のクライアント証明書が必要です。";
        SessionNotFound => NOT_FOUND, "session_not_found",
            "No such session.",
            "セッションが見つかりません。";
        SessionExpired => GONE, "session_expired",
            "The session has expired. Please start again.",
            "セッションの有効期限が切れました。最初からやり直してください。";
        SessionBelongsToAnotherCopier => FORBIDDEN, "session_belongs_to_another_copier",
            "This session was opened by another copier.",
            "このセッションは別のマルチコピー機で開始されました。";
        ChallengeAlreadyUsed => CONFLICT, "challenge_already_used",
            "The challenge was already used. Please start again.",
            "このチャレンジは使用済みです。最初からやり直してください。";
        /// No card was verified in the session (or its resident is gone).
        SessionNotAuthenticated => FORBIDDEN, "session_not_authenticated",
            "The card has not been verified in this session.",
            "このセッションではカードが確認されていません。";
        /// The copier named a challenge algorithm kofu does not know.
        AlgorithmUnknown => BAD_REQUEST, "card_algorithm_unsupported",
            "The card's signature algorithm is not supported.",
            "カードの署名方式に対応していません。";
        /// The card certificate does not parse, or its own signature fails.
        CardCertificateInvalid => BAD_REQUEST, "card_certificate_invalid",
            "The card certificate is not valid.",
            "カードの電子証明書が正しくありません。";
        CardUnknownIssuer => FORBIDDEN, "card_unknown_issuer",
            "The card certificate was not issued by a trusted authority.",
            "カードの電子証明書の発行元を確認できません。";
        /// The card's key or signature algorithm is not one kofu accepts.
        CardAlgorithmUnsupported => FORBIDDEN, "card_algorithm_unsupported",
            "The card's signature algorithm is not supported.",
            "カードの署名方式に対応していません。";
        CardNotYetValid => FORBIDDEN, "card_not_yet_valid",
            "The card certificate is not yet valid.",
            "カードの電子証明書はまだ有効になっていません。";
        CardExpired => FORBIDDEN, "card_expired",
            "The card certificate has expired.",
            "カードの電子証明書の有効期限が切れています。";
        CardKeyUsageInvalid => FORBIDDEN, "card_key_usage_invalid",
            "The card certificate may not be used for authentication.",
            "カードの電子証明書は利用者証明に使用できません。";
        CardPolicyMissing => FORBIDDEN, "card_policy_missing",
            "The card certificate is not a user-authentication certificate.",
            "カードの電子証明書は利用者証明用電子証明書ではありません。";
        CardExtensionUnsupported => FORBIDDEN, "card_extension_unsupported",
            "The card certificate has an unsupported critical extension.",
            "カードの電子証明書に未対応の重要な拡張があります。";
        CardSignatureInvalid => FORBIDDEN, "card_signature_invalid",
            "The card's signature could not be verified.",
            "カードの署名を確認できませんでした。";
        CardIssuerNotCa => FORBIDDEN, "card_issuer_not_ca",
            "A certificate that issued this card is not a certification authority.",
            "このカードの電子証明書の発行元は認証局ではありません。";
        CardIssuerNotValid => FORBIDDEN, "card_issuer_not_valid",
            "A certificate that issued this card is not valid now.",
            "このカードの電子証明書の発行元の証明書は現在有効ではありません。";
        CardPathRefused => FORBIDDEN, "card_path_refused",
            "The card certificate's certification path is not acceptable.",
            "このカードの電子証明書の認証パスは受け付けられません。";
        /// The gateway has no usable card CA: an operator must fix the configuration.
        CardVerifierMisconfigured => INTERNAL_SERVER_ERROR, "card_verifier_misconfigured",
            "The gateway cannot verify cards right now.",
            "現在カードを確認できません。";
        CardNotRegistered => FORBIDDEN, "card_not_registered",
            "This card is not linked to a resident of a participating municipality.",
            "このカードは参加市区町村の住民と紐付いていません。";
        CardSuspended => FORBIDDEN, "card_suspended",
            "This card's certificate is suspended (reported lost). Please contact your municipality.",
            "このカードの電子証明書は一時保留中です(紛失の届出)。市区町村の窓口にお問い合わせください。";
        CardRevoked => FORBIDDEN, "card_revoked",
            "This card's certificate has been revoked or replaced.",
            "このカードの電子証明書は失効しているか、更新されています。";
        /// No current CRL for the card's CA: fail closed.
        RevocationDataStale => SERVICE_UNAVAILABLE, "revocation_data_stale",
            "The gateway has no current revocation list for this card; please try again later.",
            "現在この電子証明書の失効情報を確認できません。しばらくしてから再度お試しください。";
        ResidentNotEligible => FORBIDDEN, "resident_not_eligible",
            "Certificates cannot be issued for this resident at a store.",
            "この方の証明書はコンビニでは交付できません。";
        IdempotencyKeyRequired => BAD_REQUEST, "idempotency_key_required",
            "An Idempotency-Key header is required.",
            "Idempotency-Key ヘッダーが必要です。";
        IdempotencyKeyReused => UNPROCESSABLE_ENTITY, "idempotency_key_reused",
            "This Idempotency-Key was used for a different request.",
            "この Idempotency-Key は別の要求に使用されています。";
        CertificateKindUnavailable => UNPROCESSABLE_ENTITY, "certificate_kind_unavailable",
            "This certificate is not available.",
            "この証明書は交付できません。";
        InvalidOptions => UNPROCESSABLE_ENTITY, "invalid_options",
            "The chosen options are not valid.",
            "選択された項目が正しくありません。";
        OrderNotFound => NOT_FOUND, "order_not_found",
            "No such order.",
            "注文が見つかりません。";
        OrderBelongsToAnotherCopier => FORBIDDEN, "order_belongs_to_another_copier",
            "This document was ordered at another copier.",
            "この証明書は別のマルチコピー機で申請されました。";
        /// The fetch names no session, or another one than the order's.
        OrderSessionMismatch => FORBIDDEN, "order_session_mismatch",
            "This document belongs to another session.",
            "この証明書は別のセッションのものです。";
        DocumentNotReady => SERVICE_UNAVAILABLE retry 1, "document_not_ready",
            "The document is being prepared. Please retry shortly.",
            "証明書を作成中です。しばらくしてから再度お試しください。";
        /// Fetching a voided order: the document is gone for good.
        OrderVoided => GONE, "order_voided",
            "This order was cancelled; please order again.",
            "この申請は取り消されました。もう一度申請してください。";
        /// Confirming (printed or failed) an order already voided.
        OrderAlreadyVoided => CONFLICT, "order_voided",
            "This order was cancelled; please order again.",
            "この申請は取り消されました。もう一度申請してください。";
        OrderAlreadyPrinted => CONFLICT, "order_already_printed",
            "This order was already printed.",
            "この申請は印刷済みです。";
        OrderNotDelivered => CONFLICT, "order_not_delivered",
            "The document has not been delivered yet.",
            "証明書はまだ送信されていません。";
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
            | CardError::InvalidIntermediate { .. } => CopierError::CardVerifierMisconfigured,
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
