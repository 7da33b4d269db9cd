//! The one place where errors become HTTP: RFC 9457 `application/problem+json`
//! with a stable machine `code` and a message in the requested language.
//!
//! Rule: a problem body never carries personal data or internal causes; the
//! cause chain of an unexpected error goes to the log only.

use hyper::StatusCode;
use serde::Serialize;

use crate::i18n::Lang;

/// An API error: HTTP status plus a stable code. Build one with [`Problem::new`]
/// or from a module error's `From` impl.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    /// Seconds the client should wait before retrying, sent as `Retry-After`.
    pub retry_after: Option<u32>,
}

impl Problem {
    pub const fn new(status: StatusCode, code: &'static str) -> Self {
        Problem {
            status,
            code,
            retry_after: None,
        }
    }

    pub const fn retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// Anything unexpected: the caller logs the cause, the client sees only this.
    pub const fn internal() -> Self {
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error")
    }

    /// PostgreSQL unreachable or the pool exhausted: the client may retry.
    pub const fn unavailable() -> Self {
        Problem::new(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable").retry_after(2)
    }

    pub fn body(&self, lang: Lang) -> ProblemBody {
        ProblemBody {
            type_: format!("https://kofu.example/problems/{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            code: self.code,
            detail: message(self.code, lang),
        }
    }
}

/// The serialised problem document.
#[derive(Debug, Serialize)]
pub struct ProblemBody {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub code: &'static str,
    pub detail: &'static str,
}

/// Database errors are either "unavailable" (retry) or internal.
impl From<crate::db::DbError> for Problem {
    fn from(e: crate::db::DbError) -> Self {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "database unavailable");
            Problem::unavailable()
        } else {
            tracing::error!(error = %e, "database error");
            Problem::internal()
        }
    }
}

/// Every stable code with its messages. Codes are part of the API contract:
/// add new ones, never rename.
const MESSAGES: &[(&str, &str, &str)] = &[
    (
        "internal_error",
        "An unexpected error occurred.",
        "予期しないエラーが発生しました。",
    ),
    (
        "service_unavailable",
        "The service is temporarily unavailable. Please try again.",
        "ただいまサービスを利用できません。しばらくしてから再度お試しください。",
    ),
    (
        "not_found",
        "No such resource.",
        "指定されたリソースはありません。",
    ),
    (
        "method_not_allowed",
        "Method not allowed.",
        "このメソッドは使用できません。",
    ),
    (
        "body_too_large",
        "The request body is too large.",
        "リクエストが大きすぎます。",
    ),
    (
        "malformed_request",
        "The request body is not valid.",
        "リクエストの形式が正しくありません。",
    ),
    (
        "copier_certificate_required",
        "A copier client certificate is required.",
        "マルチコピー機のクライアント証明書が必要です。",
    ),
    (
        "session_not_found",
        "No such session.",
        "セッションが見つかりません。",
    ),
    (
        "session_expired",
        "The session has expired. Please start again.",
        "セッションの有効期限が切れました。最初からやり直してください。",
    ),
    (
        "session_belongs_to_another_copier",
        "This session was opened by another copier.",
        "このセッションは別のマルチコピー機で開始されました。",
    ),
    (
        "challenge_already_used",
        "The challenge was already used. Please start again.",
        "このチャレンジは使用済みです。最初からやり直してください。",
    ),
    (
        "session_not_authenticated",
        "The card has not been verified in this session.",
        "このセッションではカードが確認されていません。",
    ),
    (
        "card_certificate_invalid",
        "The card certificate is not valid.",
        "カードの電子証明書が正しくありません。",
    ),
    (
        "card_unknown_issuer",
        "The card certificate was not issued by a trusted authority.",
        "カードの電子証明書の発行元を確認できません。",
    ),
    (
        "card_expired",
        "The card certificate has expired.",
        "カードの電子証明書の有効期限が切れています。",
    ),
    (
        "card_not_yet_valid",
        "The card certificate is not yet valid.",
        "カードの電子証明書はまだ有効になっていません。",
    ),
    (
        "card_key_usage_invalid",
        "The card certificate may not be used for authentication.",
        "カードの電子証明書は利用者証明に使用できません。",
    ),
    (
        "card_policy_missing",
        "The card certificate is not a user-authentication certificate.",
        "カードの電子証明書は利用者証明用電子証明書ではありません。",
    ),
    (
        "card_extension_unsupported",
        "The card certificate has an unsupported critical extension.",
        "カードの電子証明書に未対応の重要な拡張があります。",
    ),
    (
        "card_algorithm_unsupported",
        "The card's signature algorithm is not supported.",
        "カードの署名方式に対応していません。",
    ),
    (
        "card_verifier_misconfigured",
        "The gateway cannot verify cards right now.",
        "現在カードを確認できません。",
    ),
    (
        "card_signature_invalid",
        "The card's signature could not be verified.",
        "カードの署名を確認できませんでした。",
    ),
    (
        "card_not_registered",
        "This card is not linked to a resident of a participating municipality.",
        "このカードは参加市区町村の住民と紐付いていません。",
    ),
    (
        "card_suspended",
        "This card's certificate is suspended (reported lost). Please contact your municipality.",
        "このカードの電子証明書は一時保留中です(紛失の届出)。市区町村の窓口にお問い合わせください。",
    ),
    (
        "card_revoked",
        "This card's certificate has been revoked or replaced.",
        "このカードの電子証明書は失効しているか、更新されています。",
    ),
    (
        "event_malformed",
        "The certificate event is malformed.",
        "証明書イベントの形式が正しくありません。",
    ),
    (
        "event_id_reused",
        "This event id was already used for a different event.",
        "このイベントIDは別のイベントに使用されています。",
    ),
    (
        "resident_not_found",
        "No resident with that resident code is registered.",
        "該当する住民票コードの住民は登録されていません。",
    ),
    (
        "serial_not_linked",
        "The certificate serial is not linked to a resident.",
        "この証明書シリアル番号は住民と紐付いていません。",
    ),
    (
        "serial_linked_elsewhere",
        "The certificate serial is already linked to another resident.",
        "この証明書シリアル番号は別の住民と紐付いています。",
    ),
    (
        "serial_not_active",
        "The certificate serial is suspended or revoked.",
        "この証明書シリアル番号は一時保留中または失効しています。",
    ),
    (
        "operator_role_required",
        "This operation needs an operator certificate with the right role.",
        "この操作には適切な権限を持つ運用者証明書が必要です。",
    ),
    (
        "resident_not_eligible",
        "Certificates cannot be issued for this resident at a store.",
        "この方の証明書はコンビニでは交付できません。",
    ),
    (
        "idempotency_key_required",
        "An Idempotency-Key header is required.",
        "Idempotency-Key ヘッダーが必要です。",
    ),
    (
        "idempotency_key_reused",
        "This Idempotency-Key was used for a different request.",
        "この Idempotency-Key は別の要求に使用されています。",
    ),
    (
        "certificate_kind_unavailable",
        "This certificate is not available.",
        "この証明書は交付できません。",
    ),
    (
        "invalid_options",
        "The chosen options are not valid.",
        "選択された項目が正しくありません。",
    ),
    (
        "order_not_found",
        "No such order.",
        "注文が見つかりません。",
    ),
    (
        "order_belongs_to_another_copier",
        "This document was ordered at another copier.",
        "この証明書は別のマルチコピー機で申請されました。",
    ),
    (
        "order_session_mismatch",
        "This document belongs to another session.",
        "この証明書は別のセッションのものです。",
    ),
    (
        "document_not_ready",
        "The document is being prepared. Please retry shortly.",
        "証明書を作成中です。しばらくしてから再度お試しください。",
    ),
    (
        "order_voided",
        "This order was cancelled; please order again.",
        "この申請は取り消されました。もう一度申請してください。",
    ),
    (
        "order_already_printed",
        "This order was already printed.",
        "この申請は印刷済みです。",
    ),
    (
        "order_not_delivered",
        "The document has not been delivered yet.",
        "証明書はまだ送信されていません。",
    ),
];

/// The message for `code` in `lang` (English when the language has no text yet).
pub fn message(code: &str, lang: Lang) -> &'static str {
    MESSAGES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, en, ja)| match lang {
            Lang::Ja => *ja,
            _ => *en,
        })
        .unwrap_or("Error.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_distinct_entry_and_both_languages() {
        let mut codes: Vec<&str> = MESSAGES.iter().map(|(c, _, _)| *c).collect();
        codes.sort_unstable();
        let n = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), n, "duplicate problem code");
        for (code, en, ja) in MESSAGES {
            assert!(!en.is_empty() && !ja.is_empty(), "{code} lacks a message");
        }
    }

    #[test]
    fn japanese_message_is_chosen_for_japanese() {
        assert_eq!(
            message("card_expired", Lang::Ja),
            "カードの電子証明書の有効期限が切れています。"
        );
        assert_eq!(
            message("card_expired", Lang::En),
            "The card certificate has expired."
        );
    }
}
