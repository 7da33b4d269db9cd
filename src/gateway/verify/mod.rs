//! Public verification of printed documents, on the copier listener and
//! needing no client certificate:
//!
//! - `GET /v1/keys`: every municipality's document signing keys (current,
//!   retired and revoked), for checking a PDF offline.
//! - `GET /v1/verify/{code}[?digest=…]`: the issuance record of a code
//!   ([`answer::Verification`]); its printed content only with the
//!   document's digest (base64url, as the QR code holds it).
//! - `GET /verify/{code}[?d=…]` and `GET /verify[?code=…]`: the same for
//!   people, as a page ([`page`]).
//!
//! Rules: a code is read and its check character checked before anything
//! is looked up, so a mistyped one costs no database work; every look-up
//! (well-formed or not) counts against its source address's rate limit;
//! nothing about the document's holder is given without the digest, and
//! no log line names a code or a digest.

pub mod answer;
pub mod page;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use hyper::StatusCode;
use hyper::header::{CACHE_CONTROL, HeaderValue, LOCATION, RETRY_AFTER};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::offset;
use uuid::Uuid;

use crate::gateway::db::Checkout;
use crate::gateway::db::{Cached, Client, DbError};
use crate::gateway::domain::CertificateKind;
use crate::gateway::error::{Problem, problems};
use crate::gateway::http::{self, ApiRequest, ApiResponse, ApiResult};
use crate::gateway::signing::VerificationCode;
use crate::gateway::state::AppState;
use answer::{Content, Issuer, Verification, Withdrawn};

problems! {
    /// Why a verification look-up was refused.
    pub enum VerifyError {
        /// Not 13 characters of Crockford base 32, or the check character is wrong.
        VerificationCodeMalformed => BAD_REQUEST, "verification_code_malformed", VERIFICATION_CODE_MALFORMED;
        /// A well-formed code no issued document has.
        DocumentNotFound => NOT_FOUND, "document_not_found", DOCUMENT_NOT_FOUND;
        /// `digest` is not 32 bytes of base64url.
        DigestMalformed => BAD_REQUEST, "digest_malformed", DIGEST_MALFORMED;
        /// Too many look-ups from this address (`verify_lookups_per_minute`);
        /// `Retry-After` says when the next one is allowed.
        RateLimited => TOO_MANY_REQUESTS retry 1, "rate_limited", RATE_LIMITED;
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("timestamps format")
}

/// The issuance record of `code`, as [`Verification`], with the content
/// when `digest` is the document's; `None` when no issued document has it.
///
/// Issued means handed to a copier (`delivered` or `printed`), or voided
/// after that (the paper may exist: it is reported withdrawn).
pub async fn look_up(
    state: &AppState,
    client: &Client,
    code: &VerificationCode,
    digest: Option<[u8; 32]>,
) -> Result<Option<Verification>, DbError> {
    let row = client
        .query_opt_cached(
            "SELECT o.id, o.kind, o.municipality_code, m.name, o.accepted_at, o.page_count,
                    o.state, o.withdrawn_at IS NOT NULL, o.signing_key_id,
                    k.revoked_at IS NOT NULL, o.signed_digest
               FROM orders o
               JOIN municipalities m ON m.code = o.municipality_code
               JOIN signing_keys k ON k.kid = o.signing_key_id
              WHERE o.verification_code = $1
                AND o.signed_digest IS NOT NULL
                AND (o.state IN ('delivered', 'printed')
                     OR (o.state = 'voided' AND o.delivered_at IS NOT NULL))",
            &[&code.compact()],
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    let order_id: Uuid = row.get(0);
    let kind = CertificateKind::from_wire(row.get(1))
        .ok_or(DbError::Data("an order of a kind this build does not know"))?;
    let accepted_at: OffsetDateTime = row.get(4);
    let accepted_at = accepted_at.replace_nanosecond(0).expect("0 is valid");
    let order_state: &str = row.get(6);
    let withdrawn = if row.get::<_, bool>(7) {
        Some(Withdrawn::WithdrawnByMunicipality)
    } else if row.get::<_, bool>(9) {
        Some(Withdrawn::KeyRevoked)
    } else if order_state == "voided" {
        Some(Withdrawn::OrderVoided)
    } else {
        None
    };
    let stored: &[u8] = row.get(10);
    let digest_matches = digest.map(|d| d.as_slice() == stored);
    let content = match digest_matches {
        Some(true) => content_of(state, client, order_id, stored).await?,
        _ => None,
    };
    Ok(Some(Verification {
        code: code.to_string(),
        genuine: withdrawn.is_none(),
        withdrawn,
        kind: kind.wire_name(),
        title: crate::gateway::render::paper_title(kind),
        municipality: Issuer {
            code: row.get(2),
            name: row.get(3),
        },
        issued_at: rfc3339(accepted_at),
        issued_on: accepted_at.to_offset(offset!(+9)).date().to_string(),
        pages: row.get::<_, Option<i32>>(5).unwrap_or(0).max(0) as u32,
        key_id: row.get(8),
        digest_matches,
        content,
    }))
}

/// The document's printed text, rendered again from its snapshot (nothing
/// else is kept); `None`, logged, should that render not give the digest
/// bound at issuance.
async fn content_of(
    state: &AppState,
    client: &Client,
    order_id: Uuid,
    stored: &[u8],
) -> Result<Option<Content>, DbError> {
    use crate::gateway::pipeline::workers::{RenderJobError, render_again};
    let pipeline = &state.pipeline;
    match render_again(client, pipeline, order_id).await {
        Ok(rendered) if rendered.digest.as_slice() == stored => Ok(Some(Content {
            pages: rendered.text,
        })),
        Ok(_) => {
            tracing::error!(%order_id, "rendered again, the document's digest differs from the bound one");
            Ok(None)
        }
        Err(RenderJobError::Db(e)) => Err(e),
        Err(e) => {
            tracing::error!(%order_id, error = %e, "document could not be rendered again for verification");
            Ok(None)
        }
    }
}

/// The digest given as `digest` (or `d` on the page): `Ok(None)` when absent.
pub(crate) fn digest_param(req: &ApiRequest, name: &str) -> Result<Option<[u8; 32]>, VerifyError> {
    match req.query_param(name) {
        None if req.query_names(name) => Err(VerifyError::DigestMalformed),
        None => Ok(None),
        Some(text) => URL_SAFE_NO_PAD
            .decode(text.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .map(Some)
            .ok_or(VerifyError::DigestMalformed),
    }
}

/// `GET /v1/keys`.
pub async fn keys(state: &AppState, _: &ApiRequest) -> ApiResult {
    let client = state.pool.checkout().await.map_err(DbError::from)?;
    let list = crate::gateway::signing::published(&client).await?;
    let mut response = http::json(StatusCode::OK, &list);
    response.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(response)
}

/// `GET /v1/verify/{code}`.
pub async fn verify(state: &AppState, req: &ApiRequest, code: &str) -> ApiResult {
    state.verify_limiter.check(req.peer).map_err(|wait| {
        let mut refused = Problem::from(VerifyError::RateLimited);
        refused.retry_after = Some(u32::try_from(wait).unwrap_or(u32::MAX));
        refused
    })?;
    let code = VerificationCode::parse(code).map_err(|_| VerifyError::VerificationCodeMalformed)?;
    let digest = digest_param(req, "digest")?;
    let client = state.pool.checkout().await.map_err(DbError::from)?;
    let found = look_up(state, &client, &code, digest)
        .await?
        .ok_or(VerifyError::DocumentNotFound)?;
    let mut response = http::json(StatusCode::OK, &found);
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// An HTML page with the headers every verification page carries.
fn html(status: StatusCode, body: String) -> ApiResponse {
    let mut response = http::text(status, "text/html; charset=utf-8", Bytes::from(body));
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        hyper::header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        hyper::header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        hyper::header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// The page for a refusal the API would answer with `problem`.
fn refused_page(state_view: page::View<'_>, status: StatusCode, req: &ApiRequest) -> ApiResponse {
    html(status, page::render(&state_view, req.lang))
}

/// `GET /verify`: the form; with `?code=`, on to that code's page.
pub async fn form(state: &AppState, req: &ApiRequest) -> ApiResult {
    let Some(typed) = req.query_param("code") else {
        return Ok(html(
            StatusCode::OK,
            page::render(&page::View::Form, req.lang),
        ));
    };
    if let Err(wait) = state.verify_limiter.check(req.peer) {
        return Ok(rate_limited_page(wait, req));
    }
    match VerificationCode::parse(&typed) {
        Ok(code) => {
            let mut response = http::text(StatusCode::SEE_OTHER, "text/plain", "");
            response.headers_mut().insert(
                LOCATION,
                HeaderValue::from_str(&format!("/verify/{code}")).expect("code is ASCII"),
            );
            Ok(response)
        }
        Err(_) => Ok(refused_page(
            page::View::Malformed { input: &typed },
            StatusCode::BAD_REQUEST,
            req,
        )),
    }
}

fn rate_limited_page(wait: u64, req: &ApiRequest) -> ApiResponse {
    let mut response = refused_page(
        page::View::RateLimited { retry_after: wait },
        StatusCode::TOO_MANY_REQUESTS,
        req,
    );
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(wait));
    response
}

/// `GET /verify/{code}`: the record of `code` as a page; with `?d=` (as the
/// QR code's URL has it), its content too when the digest is the document's.
pub async fn code_page(state: &AppState, req: &ApiRequest, typed: &str) -> ApiResult {
    if let Err(wait) = state.verify_limiter.check(req.peer) {
        return Ok(rate_limited_page(wait, req));
    }
    let typed = http::percent_decode(typed).unwrap_or_default();
    let Ok(code) = VerificationCode::parse(&typed) else {
        return Ok(refused_page(
            page::View::Malformed { input: &typed },
            StatusCode::BAD_REQUEST,
            req,
        ));
    };
    // A digest that does not decode is treated as one that does not match.
    let digest = digest_param(req, "d").unwrap_or(Some([0; 32]));
    let client = state.pool.checkout().await.map_err(DbError::from)?;
    let shown = code.to_string();
    Ok(match look_up(state, &client, &code, digest).await? {
        Some(found) => html(
            StatusCode::OK,
            page::render(&page::View::Found(&found), req.lang),
        ),
        None => refused_page(
            page::View::NotFound { code: &shown },
            StatusCode::NOT_FOUND,
            req,
        ),
    })
}
