//! The one place where errors become HTTP: RFC 9457 `application/problem+json`
//! with a stable machine `code` and a message in the requested language.
//!
//! Each API area declares its own error enum with [`problems!`]: every
//! variant is one stable code with its status and messages, and one
//! conversion turns any of them into a [`Problem`]. Handlers return those
//! enums (or `?` them); nothing compares a code as a string.
//!
//! Rule: a problem body never carries personal data or internal causes; the
//! cause chain of an unexpected error goes to the log only. Codes are part of
//! the API contract: add new ones, never rename.

use hyper::StatusCode;
use serde::Serialize;

use crate::gateway::i18n::{Lang, Text};

/// An API error ready to be sent: HTTP status, stable code, message. Built
/// only from an area's error enum (`From`), so every code has its message
/// in every language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    /// Seconds the client should wait before retrying, sent as `Retry-After`.
    pub retry_after: Option<u32>,
    detail: &'static Text,
}

impl Problem {
    /// Anything unexpected: the caller logs the cause, the client sees only this.
    pub fn internal() -> Self {
        RequestError::Internal.into()
    }

    /// PostgreSQL unreachable or the pool exhausted: the client may retry.
    pub fn unavailable() -> Self {
        RequestError::ServiceUnavailable.into()
    }

    /// The message in `lang`.
    pub fn detail(&self, lang: Lang) -> &'static str {
        self.detail.get(lang)
    }

    pub fn body(&self, lang: Lang) -> ProblemBody {
        ProblemBody {
            type_: format!("https://kofu.example/problems/{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            code: self.code,
            detail: self.detail(lang),
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

/// Declares an API area's error enum: each variant with its HTTP status
/// (and optional `retry` seconds), its stable code, and its message's entry
/// in [`crate::gateway::i18n::catalogue`]. Generates `code()`, `status()`, `ALL` (for the tests
/// that keep codes consistent) and the one conversion into [`Problem`].
#[macro_export]
#[doc(hidden)]
macro_rules! problems {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident => $status:ident $(retry $retry:literal)?, $code:literal, $text:ident;
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl $name {
            /// Every variant, for the tests that keep codes consistent.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The stable machine code.
            pub const fn code(self) -> &'static str {
                match self { $( $name::$variant => $code, )* }
            }

            pub const fn status(self) -> ::hyper::StatusCode {
                match self { $( $name::$variant => ::hyper::StatusCode::$status, )* }
            }
        }

        impl ::std::convert::From<$name> for $crate::gateway::error::Problem {
            fn from(e: $name) -> Self {
                match e {
                    $( $name::$variant => $crate::gateway::error::Problem::declared(
                        ::hyper::StatusCode::$status,
                        $code,
                        $crate::problems!(@retry $($retry)?),
                        &$crate::gateway::i18n::catalogue::$text,
                    ), )*
                }
            }
        }
    };
    (@retry) => { None };
    (@retry $n:literal) => { Some($n) };
}
pub use crate::problems;

impl Problem {
    /// For [`problems!`] only.
    #[doc(hidden)]
    pub const fn declared(
        status: StatusCode,
        code: &'static str,
        retry_after: Option<u32>,
        detail: &'static Text,
    ) -> Self {
        Problem {
            status,
            code,
            retry_after,
            detail,
        }
    }
}

problems! {
    /// Refusals of the listener itself, before or around any handler, and
    /// the two every handler may give (unexpected, database unavailable).
    pub enum RequestError {
        /// Anything unexpected: the cause goes to the log, the client sees only this.
        Internal => INTERNAL_SERVER_ERROR, "internal_error", INTERNAL_ERROR;
        /// PostgreSQL unreachable or the pool exhausted: the client may retry.
        ServiceUnavailable => SERVICE_UNAVAILABLE retry 2, "service_unavailable", SERVICE_UNAVAILABLE;
        /// No route has this path.
        NotFound => NOT_FOUND, "not_found", NOT_FOUND;
        /// A route has this path, but not with this method.
        MethodNotAllowed => METHOD_NOT_ALLOWED, "method_not_allowed", METHOD_NOT_ALLOWED;
        /// The body is longer than `max_body_bytes`.
        BodyTooLarge => PAYLOAD_TOO_LARGE, "body_too_large", BODY_TOO_LARGE;
        /// The body is not the JSON the route takes.
        MalformedRequest => BAD_REQUEST, "malformed_request", MALFORMED_REQUEST;
        /// A header that may appear once (Content-Type, Idempotency-Key,
        /// Kofu-Session, Host, Content-Length) appears twice.
        DuplicateHeader => BAD_REQUEST, "duplicate_header", DUPLICATE_HEADER;
        /// The request head is larger than `connections.max_header_bytes` (hyper's own answer).
        HeaderTooLarge => REQUEST_HEADER_FIELDS_TOO_LARGE, "header_too_large", HEADER_TOO_LARGE;
        /// The request target is too long to parse (hyper's own answer).
        UriTooLong => URI_TOO_LONG, "uri_too_long", URI_TOO_LONG;
        /// The body arrived slower than `connections.body_min_bytes_per_second`.
        BodyTooSlow => REQUEST_TIMEOUT, "request_body_too_slow", REQUEST_BODY_TOO_SLOW;
        /// The copier certificate sent more than `rate_limits.copier_requests_per_minute`.
        CopierRateLimited => TOO_MANY_REQUESTS retry 1, "copier_rate_limited", COPIER_RATE_LIMITED;
        /// The card ordered more copies than `rate_limits.card_copies_per_hour` allows.
        CardRateLimited => TOO_MANY_REQUESTS retry 60, "card_rate_limited", CARD_RATE_LIMITED;
        /// The municipality takes more orders than `rate_limits.municipality_orders_per_second`.
        MunicipalityRateLimited => TOO_MANY_REQUESTS retry 1, "municipality_rate_limited", MUNICIPALITY_RATE_LIMITED;
        /// The source address sent more than `rate_limits.public_requests_per_minute`
        /// to the public endpoints.
        AddressRateLimited => TOO_MANY_REQUESTS retry 1, "address_rate_limited", ADDRESS_RATE_LIMITED;
    }
}

/// Database errors are either "unavailable" (retry) or internal.
impl From<crate::gateway::db::DbError> for Problem {
    fn from(e: crate::gateway::db::DbError) -> Self {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "database unavailable");
            Problem::unavailable()
        } else {
            tracing::error!(error = %e, "database error");
            Problem::internal()
        }
    }
}

/// Every problem every area can give, for the consistency tests.
#[cfg(test)]
pub(crate) fn all_problems() -> Vec<Problem> {
    let mut all: Vec<Problem> = RequestError::ALL.iter().map(|&e| e.into()).collect();
    all.extend(
        crate::gateway::copier::error::CopierError::ALL
            .iter()
            .map(|&e| Problem::from(e)),
    );
    all.extend(
        crate::gateway::admin::error::AdminError::ALL
            .iter()
            .map(|&e| Problem::from(e)),
    );
    all.extend(
        crate::gateway::verify::VerifyError::ALL
            .iter()
            .map(|&e| Problem::from(e)),
    );
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_means_one_thing_in_every_language() {
        let all = all_problems();
        for p in &all {
            for lang in Lang::ALL {
                assert!(!p.detail(lang).is_empty(), "{} lacks a message", p.code);
            }
            assert!(
                p.code.starts_with(|c: char| c.is_ascii_lowercase())
                    && p.code
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{} is not snake_case",
                p.code
            );
            // A code may answer at two statuses (order_voided: 410 when
            // fetching, 409 when confirming), but it always says the same.
            for q in all.iter().filter(|q| q.code == p.code) {
                assert_eq!(p.detail, q.detail, "{} has two messages", p.code);
                assert!(
                    std::ptr::eq(p, q) || p.status != q.status,
                    "{} is declared twice alike",
                    p.code
                );
            }
        }
    }

    #[test]
    fn the_message_is_in_the_requested_language() {
        let p = Problem::from(crate::gateway::copier::error::CopierError::CardExpired);
        assert_eq!(
            p.detail(Lang::Ja),
            "カードの電子証明書の有効期限が切れています。"
        );
        assert_eq!(p.detail(Lang::En), "The card certificate has expired.");
        assert_eq!(
            p.detail(Lang::Vi),
            crate::gateway::i18n::catalogue::CARD_EXPIRED.get(Lang::Vi)
        );
        assert_ne!(p.detail(Lang::Th), p.detail(Lang::En));
    }

    #[test]
    fn unavailable_asks_the_client_to_retry() {
        assert_eq!(
            Problem::unavailable().status,
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(Problem::unavailable().retry_after, Some(2));
        assert_eq!(Problem::internal().retry_after, None);
    }
}
