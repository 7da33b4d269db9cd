//! `/v1/admin/municipalities/{code}…`: a municipality creates itself,
//! changes its settings (each change a new version), shows them, and goes
//! live. Every route needs the role `municipality:<code>` of that very
//! municipality, on a certificate that names no other (403
//! `operator_role_required` otherwise). The code's check digit is checked
//! first (400 `municipality_code_invalid`), and both before any body is read.

use hyper::StatusCode;

use super::error::AdminError;
use super::{db_client_error, operator_of};
use crate::gateway::audit::Acting;
use crate::gateway::db::Checkout;
use crate::gateway::http::{self, ApiRequest, ApiResponse, ApiResult};
use crate::gateway::municipality::{
    self, FieldError, LocalGovernmentCode, Settings, SettingsError,
};
use crate::gateway::state::AppState;

/// `code` is a local government code (a mistyped one is told as such,
/// whoever asks), and the operator may act for it.
fn authorised(req: &ApiRequest, code: &str) -> Result<(LocalGovernmentCode, String), AdminError> {
    let code = LocalGovernmentCode::parse(code).map_err(|_| AdminError::MunicipalityCodeInvalid)?;
    let operator = operator_of(req, code.as_str())?;
    Ok((code, operator.audit_name()))
}

/// A problem answer (`application/problem+json`, its language) with more
/// members than the standard ones: `errors`, `checks`, `error_count`, ….
fn problem_with(req: &ApiRequest, error: AdminError, extra: serde_json::Value) -> ApiResponse {
    let problem: crate::gateway::error::Problem = error.into();
    let mut body = serde_json::to_value(problem.body(req.lang)).expect("serialises");
    if let (Some(body), serde_json::Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    let mut response = http::problem(&problem, req.lang);
    *response.body_mut() = serde_json::to_vec(&body).expect("serialises").into();
    response
}

fn invalid(req: &ApiRequest, errors: &[FieldError], message: Option<String>) -> ApiResponse {
    let mut extra = serde_json::json!({ "errors": errors });
    if let Some(message) = message {
        extra["message"] = message.into();
    }
    problem_with(req, AdminError::SettingsInvalid, extra)
}

/// The body as settings, or serde's message saying what is wrong with it
/// (it names the field and the position, never a value beyond the
/// setting's own name).
fn settings_of(req: &ApiRequest) -> Result<Settings, String> {
    read_settings(&req.body)
}

/// A settings body as settings, or serde's message (see [`settings_of`]);
/// [`Settings::problems`] says what is wrong with settings that parse.
pub(crate) fn read_settings(body: &[u8]) -> Result<Settings, String> {
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

/// The answer to settings that do not parse.
fn malformed(req: &ApiRequest, message: String) -> ApiResponse {
    invalid(
        req,
        &[FieldError {
            field: "settings".to_owned(),
            reason: "malformed",
        }],
        Some(message),
    )
}

fn stored(
    req: &ApiRequest,
    status: StatusCode,
    outcome: Result<municipality::Municipality, SettingsError>,
) -> ApiResult {
    match outcome {
        Ok(m) => Ok(http::json(status, &m)),
        Err(SettingsError::Invalid(errors)) => Ok(invalid(req, &errors, None)),
        Err(SettingsError::Exists) => Err(AdminError::MunicipalityExists.into()),
        Err(SettingsError::NotFound) => Err(AdminError::MunicipalityNotFound.into()),
        Err(SettingsError::Db(e)) => Err(e.into()),
    }
}

/// `POST /v1/admin/municipalities/{code}`: creates the municipality with
/// the body as its settings (version 1), not live. `201` with the
/// municipality; `409 municipality_exists`; `422 settings_invalid` with
/// `errors` (every wrong field).
pub async fn create(state: &AppState, req: &ApiRequest, code: &str) -> ApiResult {
    let (code, by) = authorised(req, code)?;
    let settings = match settings_of(req) {
        Ok(s) => s,
        Err(message) => return Ok(malformed(req, message)),
    };
    // The audit trail names the operator (`audit::Acting`).
    let mut acting = Acting::checkout(&state.pool, &by).await?;
    let outcome = municipality::create(acting.client_mut(), &code, &settings, &by).await;
    if outcome.is_ok() {
        // Its documents are signed from the first one on.
        if let Err(e) = state.pipeline.keys().provision(acting.client()).await {
            tracing::error!(error = %e, "signing key for a new municipality not made");
        }
        tracing::info!(municipality = %code, "municipality created");
    }
    acting.done().await?;
    stored(req, StatusCode::CREATED, outcome)
}

/// `GET /v1/admin/municipalities/{code}`: the current settings, their
/// version and whether the municipality is live; with `?version=N`, the
/// settings of version N instead.
pub async fn show(state: &AppState, req: &ApiRequest, code: &str) -> ApiResult {
    let (code, _) = authorised(req, code)?;
    let client = state.pool.checkout().await.map_err(db_client_error)?;
    if let Some(v) = req.query_param("version") {
        let v = settings_version(&v)?;
        let settings = municipality::version(&client, &code, v)
            .await?
            .ok_or(AdminError::SettingsVersionNotFound)?;
        return Ok(http::json(
            StatusCode::OK,
            &serde_json::json!({"code": code.as_str(), "settings_version": v, "settings": settings}),
        ));
    }
    let m = municipality::show(&client, &code)
        .await?
        .ok_or(AdminError::MunicipalityNotFound)?;
    Ok(http::json(StatusCode::OK, &m))
}

/// `?version=N`: a settings version number (one that is not a number names
/// no version).
pub(crate) fn settings_version(text: &str) -> Result<i32, AdminError> {
    text.parse()
        .map_err(|_| AdminError::SettingsVersionNotFound)
}

/// `PUT /v1/admin/municipalities/{code}/settings`: the body replaces the
/// settings as the next version (the same settings again make none).
pub async fn update(state: &AppState, req: &ApiRequest, code: &str) -> ApiResult {
    let (code, by) = authorised(req, code)?;
    let settings = match settings_of(req) {
        Ok(s) => s,
        Err(message) => return Ok(malformed(req, message)),
    };
    let mut acting = Acting::checkout(&state.pool, &by).await?;
    let outcome = municipality::update(acting.client_mut(), &code, &settings, &by).await;
    if let Ok(m) = &outcome {
        tracing::info!(municipality = %code, version = m.settings_version, "municipality settings changed");
    }
    acting.done().await?;
    stored(req, StatusCode::OK, outcome)
}

/// `POST /v1/admin/municipalities/{code}/go-live`: the municipality's
/// residents may use their cards from now on. Refused with `409
/// onboarding_incomplete` (and the failed checks) until the onboarding
/// check passes.
pub async fn go_live(state: &AppState, req: &ApiRequest, code: &str) -> ApiResult {
    let (code, by) = authorised(req, code)?;
    let acting = Acting::checkout(&state.pool, &by).await?;
    let client = acting.client();
    let report = municipality::check::run(client, state, &code).await?;
    if !report.passed() {
        acting.done().await?;
        return Ok(problem_with(
            req,
            AdminError::OnboardingIncomplete,
            serde_json::json!({ "checks": report.checks }),
        ));
    }
    let live_at = municipality::go_live(client, &code)
        .await?
        .ok_or(AdminError::MunicipalityNotFound)?;
    acting.done().await?;
    tracing::warn!(municipality = %code, "municipality live");
    Ok(http::json(
        StatusCode::OK,
        &serde_json::json!({"code": code.as_str(), "live_at": live_at
            .format(&time::format_description::well_known::Rfc3339).expect("formats")}),
    ))
}

/// `GET /v1/admin/municipalities/{code}/check`: the onboarding checklist.
pub async fn check(state: &AppState, req: &ApiRequest, code: &str) -> ApiResult {
    let (code, _) = authorised(req, code)?;
    let client = state.pool.checkout().await.map_err(db_client_error)?;
    let report = municipality::check::run(&client, state, &code).await?;
    Ok(http::json(StatusCode::OK, &report))
}

/// `POST /v1/admin/municipalities/{code}/imports?register=R`: loads a
/// register file (`Content-Type: text/csv` or `application/x-ndjson`) in
/// one transaction. `200 {"register", "records", "inserted", "updated",
/// "unchanged"}`; `422 import_invalid` with `errors` (line, field, reason:
/// every one, up to 1,000) and `error_count`, nothing loaded; `400
/// import_register_unknown`; `415 import_format_unsupported`.
pub async fn import(state: &AppState, req: &ApiRequest, code: &str) -> ApiResult {
    use crate::gateway::registry::import::{self, ImportError, Register};
    let (code, by) = authorised(req, code)?;
    let register = req
        .query_param("register")
        .and_then(|r| Register::parse(&r))
        .ok_or(AdminError::ImportRegisterUnknown)?;
    let format = import_format(&media_type(req)).ok_or(AdminError::ImportFormatUnsupported)?;
    let mut acting = Acting::checkout(&state.pool, &by).await?;
    if municipality::show(acting.client(), &code).await?.is_none() {
        return Err(AdminError::MunicipalityNotFound.into());
    }
    let started = std::time::Instant::now();
    let outcome = import::load(
        acting.client_mut(),
        register,
        code.as_str(),
        &req.body,
        format,
    )
    .await;
    acting.done().await?;
    match outcome {
        Ok(loaded) => {
            tracing::info!(municipality = %code, ?register, records = loaded.records,
                inserted = loaded.inserted, updated = loaded.updated,
                ms = started.elapsed().as_millis() as u64, "register imported");
            let mut body = serde_json::to_value(&loaded).expect("serialises");
            body["register"] = serde_json::to_value(register).expect("serialises");
            Ok(http::json(StatusCode::OK, &body))
        }
        Err(ImportError::Invalid { errors, count }) => {
            tracing::info!(municipality = %code, ?register, errors = count, "register import refused");
            Ok(problem_with(
                req,
                AdminError::ImportInvalid,
                serde_json::json!({ "errors": errors, "error_count": count }),
            ))
        }
        Err(ImportError::Db(e)) => Err(e.into()),
    }
}

/// `POST /v1/admin/municipalities/{code}/changes`: applies a change feed
/// (異動, `application/x-ndjson`, one change per line named by `change`) in
/// one transaction. `200 {"changes", "by_change"}`; `422 import_invalid`
/// with every error, nothing applied; `415 import_format_unsupported`.
pub async fn changes(state: &AppState, req: &ApiRequest, code: &str) -> ApiResult {
    use crate::gateway::registry::import::{ImportError, changes};
    let (code, by) = authorised(req, code)?;
    if import_format(&media_type(req)) != Some(crate::gateway::registry::import::Format::Ndjson) {
        return Err(AdminError::ImportFormatUnsupported.into());
    }
    let mut acting = Acting::checkout(&state.pool, &by).await?;
    if municipality::show(acting.client(), &code).await?.is_none() {
        return Err(AdminError::MunicipalityNotFound.into());
    }
    let outcome = changes::apply_batch(acting.client_mut(), code.as_str(), &req.body).await;
    acting.done().await?;
    match outcome {
        Ok(applied) => {
            tracing::info!(municipality = %code, changes = applied.changes, "change feed applied");
            Ok(http::json(StatusCode::OK, &applied))
        }
        Err(ImportError::Invalid { errors, count }) => {
            tracing::info!(municipality = %code, errors = count, "change feed refused");
            Ok(problem_with(
                req,
                AdminError::ImportInvalid,
                serde_json::json!({ "errors": errors, "error_count": count }),
            ))
        }
        Err(ImportError::Db(e)) => Err(e.into()),
    }
}

/// The request's media type, lower case, without parameters.
fn media_type(req: &ApiRequest) -> String {
    media_type_of(req.header("content-type"))
}

/// A `Content-Type` value's media type, lower case, without parameters
/// (empty when there is none).
pub(crate) fn media_type_of(content_type: Option<&str>) -> String {
    content_type
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The register file format a media type names: CSV, or NDJSON (the only
/// format of a change feed).
pub(crate) fn import_format(media_type: &str) -> Option<crate::gateway::registry::import::Format> {
    use crate::gateway::registry::import::Format;
    match media_type {
        "text/csv" => Some(Format::Csv),
        "application/x-ndjson" | "application/jsonl" => Some(Format::Ndjson),
        _ => None,
    }
}

/// `GET /v1/admin/municipalities/{code}/settlement?date=YYYY-MM-DD[&format=csv]`:
/// the day's settlement (Asia/Tokyo; today when `date` is left out) per
/// store chain and in total, as JSON, or as CSV with `format=csv`. `400
/// date_malformed`.
pub async fn settlement(state: &AppState, req: &ApiRequest, code: &str) -> ApiResult {
    use crate::gateway::municipality::settlement;
    let (code, _) = authorised(req, code)?;
    let date = match req.query_param("date") {
        Some(text) => settlement_date(&text)?,
        None => time::OffsetDateTime::now_utc()
            .to_offset(time::macros::offset!(+9))
            .date(),
    };
    let client = state.pool.checkout().await.map_err(db_client_error)?;
    if municipality::show(&client, &code).await?.is_none() {
        return Err(AdminError::MunicipalityNotFound.into());
    }
    let day = settlement::for_day(&client, &code, date).await?;
    if req.query_param("format").as_deref() == Some("csv") {
        return Ok(http::text(
            StatusCode::OK,
            "text/csv; charset=utf-8",
            day.to_csv(),
        ));
    }
    Ok(http::json(StatusCode::OK, &day))
}

/// `?date=YYYY-MM-DD` of a settlement, or `date_malformed`.
pub(crate) fn settlement_date(text: &str) -> Result<time::Date, AdminError> {
    time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| AdminError::DateMalformed)
}

/// `?status=` of the registrations queue (default `pending`), or
/// `malformed_request`.
pub(crate) fn registration_status(
    param: Option<String>,
) -> Result<String, crate::gateway::error::Problem> {
    let status = param.unwrap_or_else(|| "pending".to_owned());
    if !["pending", "active", "rejected", "ended"].contains(&status.as_str()) {
        return Err(crate::gateway::error::RequestError::MalformedRequest.into());
    }
    Ok(status)
}

/// `GET /v1/admin/municipalities/{code}/domicile-registrations?status=pending`:
/// the staff queue (or the registrations in another status), oldest first,
/// with what the staff compare against their register.
pub async fn domicile_registrations(state: &AppState, req: &ApiRequest, code: &str) -> ApiResult {
    let (code, _) = authorised(req, code)?;
    let status = registration_status(req.query_param("status"))?;
    let client = state.pool.checkout().await.map_err(db_client_error)?;
    let list = crate::gateway::registry::domicile::queue(&client, code.as_str(), &status).await?;
    Ok(http::json(
        StatusCode::OK,
        &serde_json::json!({"code": code.as_str(), "status": status, "registrations": list}),
    ))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Approval {
    /// The register position of the applicant in the 戸籍 the registration names.
    position: i32,
}

/// The body of an approval, `{"position": N}`: the position, or
/// `malformed_request` (a position that names no member is found out
/// against the register).
pub(crate) fn read_approval(body: &[u8]) -> Result<i32, crate::gateway::error::Problem> {
    http::json_body::<Approval>(body).map(|a| a.position)
}

/// `POST /v1/admin/domicile-registrations/{id}/approve` with `{"position": N}`,
/// or `…/reject` (role `municipality:<code>` of the registration's 本籍
/// municipality).
pub async fn approve_domicile(state: &AppState, req: &ApiRequest, id: &str) -> ApiResult {
    decide_domicile(state, req, id, true).await
}

pub async fn reject_domicile(state: &AppState, req: &ApiRequest, id: &str) -> ApiResult {
    decide_domicile(state, req, id, false).await
}

async fn decide_domicile(state: &AppState, req: &ApiRequest, id: &str, approve: bool) -> ApiResult {
    use crate::gateway::registry::domicile::{self, DecisionError};
    // Which municipality may decide is known only once the row is read.
    super::some_municipality_operator(req)?;
    let id: uuid::Uuid = id
        .parse()
        .map_err(|_| AdminError::DomicileRegistrationNotFound)?;
    let mut client = state.pool.checkout().await.map_err(db_client_error)?;
    let code: String = client
        .query_opt(
            "SELECT municipality_code FROM domicile_registrations WHERE id = $1",
            &[&id],
        )
        .await
        .map_err(crate::gateway::db::DbError::from)?
        .ok_or(AdminError::DomicileRegistrationNotFound)?
        .get(0);
    let by = super::operator_of(req, &code)?.audit_name();
    let position = if approve {
        Some(read_approval(&req.body)?)
    } else {
        None
    };
    let status = domicile::decide(&mut client, &code, id, position, &by)
        .await
        .map_err(|e| match e {
            DecisionError::NotFound => AdminError::DomicileRegistrationNotFound.into(),
            DecisionError::NotPending => AdminError::DomicileRegistrationNotPending.into(),
            DecisionError::NoSuchEntry => AdminError::FamilyRegisterEntryNotFound.into(),
            DecisionError::Db(e) => crate::gateway::error::Problem::from(e),
        })?;
    tracing::info!(municipality = %code, ?status, "domicile registration decided");
    Ok(http::json(
        StatusCode::OK,
        &serde_json::json!({"registration_id": id, "status": status}),
    ))
}
