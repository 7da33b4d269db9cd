//! The bodies of the fuzz targets, shared by `fuzz/` (cargo-fuzz, coverage
//! guided) and `tests/it/fuzz_smoke.rs` (a deterministic mutation run in
//! every test run). The rule both check: untrusted certificate and CRL
//! bytes return errors, never panic, hang or allocate without bound.

use time::OffsetDateTime;

use crate::gateway::admin::error::AdminError;
use crate::gateway::copier::error::CopierError;
use crate::gateway::error::{Problem, RequestError};
use crate::gateway::pki::revocation::{RevocationIndexBuilder, parse_crl_entries};
use crate::gateway::pki::{CardVerifier, ChallengeAlgorithm};

/// The streaming CRL reader, every entry walked, an index built and checked
/// against itself, then the RFC 5280 CRL parser on the same bytes. True when
/// the streaming reader accepted the bytes.
pub fn crl_bytes(data: &[u8]) -> bool {
    let _ = crate::gateway::pki::crl::Crl::from_file_bytes(data);
    let Ok(crl) = parse_crl_entries(data) else {
        return false;
    };
    let _ = crl.info();
    let mut builder = RevocationIndexBuilder::new();
    for entry in crl.entries() {
        match entry {
            Ok(e) => {
                if let Some(serial) = e.serial {
                    builder.push(&serial, e.reason);
                }
            }
            Err(_) => break,
        }
    }
    let index = builder.build();
    for (serial, reason) in index.iter() {
        assert_eq!(index.lookup(&serial).map(|r| r.reason), Some(reason));
    }
    true
}

/// Card verification (profile, path, signature) and the path validator's
/// certificate parser on arbitrary bytes as the card certificate.
pub fn certificate_bytes(verifier: &CardVerifier, data: &[u8], now: OffsetDateTime) {
    let _ = verifier.verify(
        data,
        b"challenge",
        &[0u8; 256],
        ChallengeAlgorithm::RsaPkcs1Sha256,
        now,
    );
    let _ = crate::gateway::pki::path::Certificate::from_der(data);
}

/// How many kinds of input [`api_body`] tells apart by its first byte
/// (`b'0'` to `b'7'` name them in the seed corpus).
pub const API_BODY_KINDS: u8 = 8;

/// One request body, query string or path segment of the API, chosen by the
/// first byte (modulo [`API_BODY_KINDS`]) and read by the very functions the
/// handlers call before they touch the database:
///
/// - `0` — the card submission (`POST /v1/sessions/{id}/card`);
/// - `1` — an order (`POST /v1/sessions/{id}/orders`), and the bytes as an
///   `Idempotency-Key`;
/// - `2` — a registered-domicile application;
/// - `3` — certificate events (`POST /v1/admin/certificate-events`), each
///   event's fields checked;
/// - `4` — municipality settings (create and update), with their problems;
/// - `5` — a domicile registration's approval;
/// - `6` — a query string, every parameter the handlers read, and the
///   bytes as `Accept-Language` and `Content-Type`;
/// - `7` — a path segment: a verification code, a local government code, a
///   certificate kind.
///
/// Each accepted value is read back from its own serialisation (or its
/// canonical spelling) and must come out the same; each refusal must carry
/// one of the codes the handler documents. True when the body was accepted.
pub fn api_body(data: &[u8]) -> bool {
    let Some((&which, body)) = data.split_first() else {
        return false;
    };
    match which % API_BODY_KINDS {
        0 => card_body(body),
        1 => order_body(body),
        2 => domicile_body(body),
        3 => certificate_events_body(body),
        4 => settings_body(body),
        5 => approval_body(body),
        6 => query_string(&String::from_utf8_lossy(body)),
        _ => path_segment(&String::from_utf8_lossy(body)),
    }
}

/// A refusal is one of `expected`.
fn refused_with(problem: &Problem, expected: &[Problem]) {
    assert!(
        expected.iter().any(|e| e.code == problem.code),
        "unexpected refusal {}",
        problem.code
    );
}

fn malformed() -> Problem {
    RequestError::MalformedRequest.into()
}

fn card_body(body: &[u8]) -> bool {
    use crate::gateway::copier::read_card;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    match read_card(body) {
        Ok(card) => {
            let again = serde_json::to_vec(&serde_json::json!({
                "certificate": STANDARD.encode(&card.certificate),
                "signature": STANDARD.encode(&card.signature),
                "algorithm": card.algorithm.as_str(),
            }))
            .expect("serialises");
            let back = read_card(&again).expect("a card body read back");
            assert_eq!(back.certificate, card.certificate);
            assert_eq!(back.signature, card.signature);
            assert_eq!(back.algorithm, card.algorithm);
            true
        }
        Err(p) => {
            refused_with(&p, &[malformed(), CopierError::AlgorithmUnknown.into()]);
            false
        }
    }
}

fn order_body(body: &[u8]) -> bool {
    use crate::gateway::copier::{idempotency_key, menu, read_order};
    if let Ok(key) = idempotency_key(std::str::from_utf8(body).ok()) {
        assert!((1..=128).contains(&key.len()));
    }
    match read_order(body) {
        Ok(order) => {
            assert!((1..=menu::MAX_COPIES).contains(&order.copies));
            assert!(order.registered_domicile.is_none() || order.kind.is_family_register());
            // The canonical form is an order body too, and the same order:
            // an Idempotency-Key retry of it has the same request hash.
            let back = read_order(&order.canonical()).expect("the canonical order reads back");
            assert_eq!(back, order);
            true
        }
        Err(p) => {
            refused_with(
                &p,
                &[
                    malformed(),
                    CopierError::InvalidOptions.into(),
                    CopierError::CertificateKindUnavailable.into(),
                    CopierError::DomicileMunicipalityUnknown.into(),
                ],
            );
            false
        }
    }
}

fn domicile_body(body: &[u8]) -> bool {
    use crate::gateway::copier::read_domicile;
    match read_domicile(body) {
        Ok((code, application)) => {
            assert_eq!(code.as_str(), application.municipality_code);
            let again = serde_json::to_vec(&serde_json::json!({
                "municipality_code": application.municipality_code,
                "domicile": application.domicile,
                "head_of_register": application.head_of_register,
            }))
            .expect("serialises");
            let (code_back, back) = read_domicile(&again).expect("an application reads back");
            assert_eq!(code_back, code);
            assert_eq!(back.domicile, application.domicile);
            assert_eq!(back.head_of_register, application.head_of_register);
            true
        }
        Err(p) => {
            refused_with(
                &p,
                &[
                    malformed(),
                    CopierError::DomicileMunicipalityUnknown.into(),
                    CopierError::InvalidOptions.into(),
                ],
            );
            false
        }
    }
}

fn certificate_events_body(body: &[u8]) -> bool {
    use crate::gateway::admin::{MAX_EVENTS_PER_REQUEST, read_events};
    use crate::gateway::registry::events::{CertificateEvent, EventKind, serial};
    let events = match read_events(body) {
        Ok(events) => events,
        Err(p) => {
            refused_with(&p, &[malformed(), AdminError::EventMalformed.into()]);
            return false;
        }
    };
    assert!((1..=MAX_EVENTS_PER_REQUEST).contains(&events.len()));
    for event in &events {
        let Ok(checked) = event.check() else {
            continue;
        };
        let kind = match event.kind {
            EventKind::Issued => "issued",
            EventKind::Renewed => "renewed",
            EventKind::Suspended => "suspended",
            EventKind::Revoked => "revoked",
            EventKind::SigningReissued => "signing_reissued",
            EventKind::SmartphoneIssued => "smartphone_issued",
            EventKind::SmartphoneSuspended => "smartphone_suspended",
            EventKind::SmartphoneRevoked => "smartphone_revoked",
        };
        // Only a phone's issue names the card it came from.
        assert_eq!(
            checked.card_serial.is_some(),
            event.kind == EventKind::SmartphoneIssued
        );
        assert_eq!(checked.kind, kind);
        // A serial as stored reads back as itself (leading zeros dropped).
        let hex = crate::gateway::http::hex(checked.serial.as_bytes());
        assert_eq!(serial(&hex).ok().as_ref(), Some(&checked.serial));
        if let Some(new) = &checked.new_serial {
            assert_ne!(new, &checked.serial);
        }
        if let Some(code) = checked.resident_code {
            assert!(code.len() == 11 && code.bytes().all(|b| b.is_ascii_digit()));
        }
        assert_eq!(
            CertificateEvent::content_hash(&checked),
            CertificateEvent::content_hash(&checked.clone())
        );
    }
    true
}

fn settings_body(body: &[u8]) -> bool {
    use crate::gateway::admin::municipalities::read_settings;
    use crate::gateway::municipality::Settings;
    let Ok(settings) = read_settings(body) else {
        return false;
    };
    let problems = settings.problems();
    // Stored as a JSON value and compared with the next update's settings
    // (an equal update makes no new version), and shown from it: what is
    // read must come back from its serialisation unchanged.
    let value = serde_json::to_value(&settings).expect("settings serialise");
    let back: Settings = serde_json::from_value(value).expect("stored settings read back");
    assert_eq!(back, settings);
    let text = serde_json::to_vec(&settings).expect("settings serialise");
    assert_eq!(read_settings(&text).ok().as_ref(), Some(&settings));
    problems.is_empty()
}

fn approval_body(body: &[u8]) -> bool {
    use crate::gateway::admin::municipalities::read_approval;
    match read_approval(body) {
        Ok(position) => {
            let again = format!("{{\"position\": {position}}}");
            assert_eq!(read_approval(again.as_bytes()).ok(), Some(position));
            true
        }
        Err(p) => {
            refused_with(&p, &[malformed()]);
            false
        }
    }
}

/// `application/x-www-form-urlencoded` spelling of `value` (every byte but
/// unreserved ones escaped), which [`crate::gateway::http::percent_decode`]
/// must read back.
fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A request with only a query string, for the query parsers.
fn request_with_query(query: &str) -> crate::gateway::http::ApiRequest {
    crate::gateway::http::ApiRequest {
        method: hyper::Method::GET,
        path: "/".to_owned(),
        query: query.to_owned(),
        peer: std::net::IpAddr::from([127, 0, 0, 1]),
        headers: hyper::HeaderMap::new(),
        body: bytes::Bytes::new(),
        copier: None,
        operator: None,
        lang: crate::gateway::i18n::Lang::negotiate(None),
    }
}

fn query_string(text: &str) -> bool {
    use crate::gateway::admin::municipalities::{
        import_format, media_type_of, registration_status, settings_version, settlement_date,
    };
    use crate::gateway::registry::import::Register;
    use crate::gateway::signing::VerificationCode;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    let _ = crate::gateway::i18n::Lang::negotiate(Some(text));
    let media = media_type_of(Some(text));
    assert_eq!(media, media.trim().to_ascii_lowercase());
    let _ = import_format(&media);

    let req = request_with_query(text);
    let mut any = false;
    for name in [
        "version", "register", "date", "format", "status", "code", "digest", "d",
    ] {
        let value = req.query_param(name);
        assert!(value.is_none() || req.query_names(name));
        let _ = crate::gateway::verify::digest_param(&req, name);
        let Some(value) = value else { continue };
        any = true;
        // The value, spelt out again, is read back as itself.
        let spelt = request_with_query(&format!("{name}={}", form_encode(&value)));
        assert_eq!(spelt.query_param(name).as_deref(), Some(value.as_str()));
        match name {
            "version" => {
                if let Ok(v) = settings_version(&value) {
                    assert_eq!(settings_version(&v.to_string()).ok(), Some(v));
                }
            }
            "register" => {
                if let Some(r) = Register::parse(&value) {
                    assert_eq!(r.name(), value);
                }
            }
            "date" => {
                if let Ok(d) = settlement_date(&value) {
                    let again = d
                        .format(time::macros::format_description!("[year]-[month]-[day]"))
                        .expect("a date formats");
                    assert_eq!(settlement_date(&again).ok(), Some(d));
                }
            }
            "status" => {
                if let Ok(s) = registration_status(Some(value.clone())) {
                    assert_eq!(s, value);
                }
            }
            "code" => {
                if let Ok(code) = VerificationCode::parse(&value) {
                    assert_eq!(VerificationCode::parse(&code.to_string()).ok(), Some(code));
                }
            }
            "digest" | "d" => {
                if let Ok(Some(digest)) = crate::gateway::verify::digest_param(&req, name) {
                    let again =
                        request_with_query(&format!("{name}={}", URL_SAFE_NO_PAD.encode(digest)));
                    assert_eq!(
                        crate::gateway::verify::digest_param(&again, name).ok(),
                        Some(Some(digest))
                    );
                }
            }
            _ => {}
        }
    }
    let _ = registration_status(None);
    any
}

fn path_segment(text: &str) -> bool {
    use crate::gateway::domain::CertificateKind;
    use crate::gateway::municipality::LocalGovernmentCode;
    use crate::gateway::signing::VerificationCode;
    // `/verify/{code}` decodes the segment before reading it.
    let decoded = crate::gateway::http::percent_decode(text);
    if let Some(d) = &decoded {
        assert_eq!(
            crate::gateway::http::percent_decode(&form_encode(d)).as_ref(),
            Some(d)
        );
    }
    let mut any = false;
    for typed in [Some(text), decoded.as_deref()].into_iter().flatten() {
        if let Ok(code) = VerificationCode::parse(typed) {
            any = true;
            assert_eq!(VerificationCode::parse(&code.to_string()).ok(), Some(code));
            assert_eq!(VerificationCode::parse(code.compact()).ok(), Some(code));
        }
        if let Ok(code) = LocalGovernmentCode::parse(typed) {
            any = true;
            assert_eq!(code.as_str(), typed);
        }
        if let Some(kind) = CertificateKind::from_wire(typed) {
            any = true;
            assert_eq!(kind.wire_name(), typed);
        }
        let _ = crate::gateway::pki::ChallengeAlgorithm::parse(typed);
    }
    any
}

/// How many files [`register_import`] tells apart by its first byte: each
/// register's CSV and NDJSON, and the change feed (`b'A'` to `b'M'` name
/// them in the seed corpus, in that order).
pub const REGISTER_IMPORT_KINDS: u8 = 13;

/// A register file or a change feed, chosen by the first byte (modulo
/// [`REGISTER_IMPORT_KINDS`]: register `n / 2` of
/// [`crate::gateway::registry::import::Register::ALL`] as CSV when `n` is
/// even, as NDJSON when odd; `12` the change feed), read and checked as an
/// import is before its transaction opens: `import::read`, then the
/// register's checks of each record and across the file (or, for a feed,
/// `changes::read` and each change's own checks).
///
/// Beside "no panic": every record's fields are columns of the register;
/// a CSV file's records, written out as NDJSON, read back the same and are
/// refused (or passed) for the same reasons; a feed written out again reads
/// back the same; the answer's error list is sorted and capped. True when
/// every record passed.
pub fn register_import(data: &[u8]) -> bool {
    use crate::gateway::registry::import::{Format, Register, read};
    let Some((&which, body)) = data.split_first() else {
        return false;
    };
    let which = which % REGISTER_IMPORT_KINDS;
    if which == 12 {
        return change_feed(body);
    }
    let register = Register::ALL[usize::from(which / 2)];
    let format = if which % 2 == 0 {
        Format::Csv
    } else {
        Format::Ndjson
    };
    let columns = register.columns();
    let known: Vec<&str> = columns.iter().map(String::as_str).collect();
    let records = match read(body, format, &known) {
        Ok(records) => records,
        Err(errors) => {
            assert!(!errors.is_empty());
            answer_is_sorted_and_capped(errors);
            return false;
        }
    };
    for record in &records {
        for (name, value) in &record.fields {
            assert!(known.contains(&name.as_str()), "field not a column");
            assert!(!value.is_empty(), "an empty field is absent");
        }
    }
    let checked = register.check(&records);
    if format == Format::Csv {
        let ndjson = as_ndjson(&records, None);
        let again = read(&ndjson, Format::Ndjson, &known).expect("CSV records as NDJSON read");
        assert_eq!(again.len(), records.len());
        for (a, b) in records.iter().zip(&again) {
            assert_eq!(a.fields, b.fields);
        }
        assert_eq!(reasons(&register.check(&again)), reasons(&checked));
    }
    match checked {
        Ok(n) => {
            assert_eq!(n, records.len());
            true
        }
        Err(errors) => {
            answer_is_sorted_and_capped(errors);
            false
        }
    }
}

fn change_feed(body: &[u8]) -> bool {
    use crate::gateway::registry::import::ImportError;
    use crate::gateway::registry::import::changes::{check_change, read};
    let changes = match read(body) {
        Ok(changes) => changes,
        Err(errors) => {
            assert!(!errors.is_empty());
            answer_is_sorted_and_capped(errors);
            return false;
        }
    };
    let mut all_pass = true;
    for (change, record) in &changes {
        let fields = change.fields();
        for (name, value) in &record.fields {
            assert!(fields.contains(name), "field not one the change takes");
            assert!(!value.is_empty(), "an empty field is absent");
        }
        match check_change(*change, record) {
            Ok(()) => {}
            Err(ImportError::Invalid { errors, count }) => {
                assert!(count > 0 && errors.len() == count.min(1000));
                all_pass = false;
            }
            Err(ImportError::Db(_)) => panic!("a check without a database failed on one"),
        }
    }
    // The feed written out again reads back as the same changes.
    let records: Vec<_> = changes.iter().map(|(_, r)| r).collect();
    let names: Vec<_> = changes.iter().map(|(c, _)| c.name()).collect();
    let mut again = Vec::new();
    for (record, name) in records.iter().zip(&names) {
        again.extend(as_ndjson(std::slice::from_ref(*record), Some(name)));
    }
    let back = read(&again).expect("a feed written out reads back");
    assert_eq!(back.len(), changes.len());
    for ((c, r), (c2, r2)) in changes.iter().zip(&back) {
        assert_eq!(c, c2);
        assert_eq!(r.fields, r2.fields);
    }
    all_pass
}

/// `records` as NDJSON, each field a string (with `"change": change` first
/// when given).
fn as_ndjson(
    records: &[crate::gateway::registry::import::RawRecord],
    change: Option<&str>,
) -> Vec<u8> {
    let mut out = Vec::new();
    for record in records {
        let mut object = serde_json::Map::new();
        if let Some(change) = change {
            object.insert("change".to_owned(), change.into());
        }
        for (name, value) in &record.fields {
            object.insert(name.clone(), value.clone().into());
        }
        out.extend(serde_json::to_vec(&object).expect("serialises"));
        out.push(b'\n');
    }
    out
}

/// A check's outcome without line numbers (which differ between a CSV file
/// and the same records as NDJSON).
fn reasons(
    checked: &Result<usize, Vec<crate::gateway::registry::import::LineError>>,
) -> Result<usize, Vec<(String, &'static str)>> {
    match checked {
        Ok(n) => Ok(*n),
        Err(errors) => {
            let mut r: Vec<_> = errors.iter().map(|e| (e.field.clone(), e.reason)).collect();
            r.sort();
            Err(r)
        }
    }
}

/// The answer made of `errors` (`import::invalid`) lists them by line and
/// field, at most `MAX_LISTED_ERRORS`, and counts them all.
fn answer_is_sorted_and_capped(errors: Vec<crate::gateway::registry::import::LineError>) {
    use crate::gateway::registry::import::{ImportError, MAX_LISTED_ERRORS, invalid};
    let n = errors.len();
    let ImportError::Invalid { errors, count } = invalid(errors) else {
        panic!("invalid() makes an Invalid");
    };
    assert_eq!(count, n);
    assert_eq!(errors.len(), n.min(MAX_LISTED_ERRORS));
    assert!(
        errors
            .windows(2)
            .all(|w| (w[0].line, &w[0].field) <= (w[1].line, &w[1].field))
    );
}
