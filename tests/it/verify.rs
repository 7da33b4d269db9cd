//! Verifiable paper, end to end: every printed document verifies offline
//! with the published keys and online by its code; a guessed code learns
//! nothing about anyone; the municipality can withdraw a document, rotate
//! and revoke its key; a voided order's paper stops standing; the page a
//! QR code opens shows the same, checked in real headless Chromium.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hyper::Method;
use kofu::cmd::document_verify::{KeyList, verify_pdf};
use kofu::devkit::operator_pki::{JLIS_OPERATOR_STEM, MUNICIPALITY_OPERATOR_STEM};
use kofu::devkit::sim::{CopierClient, Issued, OrderSpec, SimResponse};
use kofu::gateway::domain::CertificateKind;
use kofu::gateway::render::signing::QrPayload;
use serde_json::{Value, json};

use crate::harness::TestApp;

async fn get(client: &CopierClient, path: &str) -> SimResponse {
    client.call(Method::GET, path, &[], None).await.unwrap()
}

async fn keys(app: &TestApp) -> KeyList {
    let r = get(&app.anonymous(), "/v1/keys").await;
    assert_eq!(r.status, 200);
    serde_json::from_slice(&r.body).unwrap()
}

fn payload(pdf: &[u8]) -> QrPayload {
    let read = kofu::gateway::render::reader::read(pdf).unwrap();
    QrPayload::parse(read.qr[0].as_deref().expect("a QR code on page 1")).unwrap()
}

fn json_of(r: &SimResponse) -> Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|_| panic!("{:?}", r.body))
}

async fn issue(app: &TestApp, card: &str, spec: &OrderSpec) -> Issued {
    app.copier(1)
        .issue(app.pki.card(card), spec, "ja")
        .await
        .unwrap()
}

fn record_path(p: &QrPayload) -> String {
    format!("/v1/verify/{}", p.code)
}

#[tokio::test]
async fn every_kind_verifies_offline_and_online_and_only_the_digest_shows_its_content() {
    let app = TestApp::spawn().await;
    let keys = keys(&app).await;
    assert_eq!(keys.keys.len(), 1, "one key for the one municipality");
    let specs = [
        OrderSpec::default(),
        OrderSpec::of(
            CertificateKind::ResidenceRecordCertificate,
            json!({"show_address": true}),
        ),
        OrderSpec::of(CertificateKind::FamilyRegisterFull, json!({})),
    ];
    for spec in &specs {
        let issued = issue(&app, "card-rsa-1", spec).await;
        let verdict = verify_pdf(&issued.pdf, &keys);
        assert!(verdict.genuine, "{:?}", verdict.reason);
        let p = verdict.payload.unwrap();
        assert_eq!(p.key_id, keys.keys[0].kid);
        assert_eq!(p.base, format!("https://{}", app.gateway.api_addr));

        // Without the digest: that it is genuine, what and whose, nothing about anyone.
        let r = get(&app.anonymous(), &record_path(&p)).await;
        assert_eq!(r.status, 200);
        let record = json_of(&r);
        assert_eq!(record["genuine"], true);
        assert_eq!(record["withdrawn"], Value::Null);
        assert_eq!(record["kind"], p.kind.wire_name());
        assert_eq!(record["municipality"]["name"], "ひなた市");
        assert_eq!(record["municipality"]["code"], "139998");
        assert_eq!(record["pages"], issued.page_count);
        assert_eq!(record["key_id"], p.key_id);
        assert_eq!(
            record["issued_at"].as_str().unwrap(),
            time::OffsetDateTime::from_unix_timestamp(p.issued_at)
                .unwrap()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap()
        );
        assert_eq!(record["content"], Value::Null);
        let body = String::from_utf8_lossy(&r.body);
        assert!(!body.contains("日向"), "a name without the digest: {body}");

        // With the QR code's digest: the content exactly as printed.
        let with = format!(
            "{}?digest={}",
            record_path(&p),
            URL_SAFE_NO_PAD.encode(p.digest)
        );
        let record = json_of(&get(&app.anonymous(), &with).await);
        assert_eq!(record["digest_matches"], true);
        let printed = kofu::gateway::render::reader::read(&issued.pdf)
            .unwrap()
            .pages;
        let content: Vec<Vec<String>> =
            serde_json::from_value(record["content"]["pages"].clone()).unwrap();
        assert_eq!(content, printed);
        assert!(content.concat().iter().any(|t| t.contains("日向")));

        // Another digest: no content.
        let mut wrong = p.digest;
        wrong[0] ^= 1;
        let other = format!(
            "{}?digest={}",
            record_path(&p),
            URL_SAFE_NO_PAD.encode(wrong)
        );
        let record = json_of(&get(&app.anonymous(), &other).await);
        assert_eq!(record["digest_matches"], false);
        assert_eq!(record["content"], Value::Null);
    }
}

#[tokio::test]
async fn a_code_is_read_as_people_type_it_and_bad_ones_are_refused_with_their_codes() {
    let app = TestApp::spawn().await;
    let issued = issue(&app, "card-rsa-1", &OrderSpec::default()).await;
    let p = payload(&issued.pdf);
    let anon = app.anonymous();
    let typed = p.code.replace('-', "").to_ascii_lowercase();
    let r = get(&anon, &format!("/v1/verify/{typed}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(json_of(&r)["code"], p.code.as_str());

    // One character changed: the check character refuses it.
    let mut typo = p.code.clone().into_bytes();
    typo[0] = if typo[0] == b'7' { b'8' } else { b'7' };
    let typo = String::from_utf8(typo).unwrap();
    for (path, status, code) in [
        (
            format!("/v1/verify/{typo}"),
            400,
            "verification_code_malformed",
        ),
        (
            "/v1/verify/ABCD-EFGH".to_owned(),
            400,
            "verification_code_malformed",
        ),
        (
            "/v1/verify/%E6%A4%9C".to_owned(),
            400,
            "verification_code_malformed",
        ),
        (
            format!("/v1/verify/{}?digest=not-a-digest", p.code),
            400,
            "digest_malformed",
        ),
        (
            format!(
                "/v1/verify/{}",
                kofu::gateway::signing::VerificationCode::random()
            ),
            404,
            "document_not_found",
        ),
    ] {
        let r = get(&anon, &path).await;
        assert_eq!(r.status, status, "{path}");
        assert_eq!(r.problem_code().as_deref(), Some(code), "{path}");
    }
    let r = anon
        .call(Method::POST, &record_path(&p), &[], None)
        .await
        .unwrap();
    assert_eq!(r.status, 405);
    assert_eq!(
        r.header("allow"),
        Some("GET"),
        "a 405 names what the path takes"
    );
}

#[tokio::test]
async fn look_ups_are_rate_limited_per_source_address() {
    let app = TestApp::spawn_with(|c| c.verify_lookups_per_minute = 3).await;
    let anon = app.anonymous();
    let code = kofu::gateway::signing::VerificationCode::random();
    for _ in 0..3 {
        let r = get(&anon, &format!("/v1/verify/{code}")).await;
        assert_eq!(r.problem_code().as_deref(), Some("document_not_found"));
    }
    let r = get(&anon, &format!("/v1/verify/{code}")).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.problem_code().as_deref(), Some("rate_limited"));
    // The real wait: at 3 a minute, the next look-up is 20 s away.
    let wait = r.retry_after().expect("Retry-After").as_secs();
    assert!((15..=20).contains(&wait), "Retry-After: {wait}");
    // Malformed codes count too, and the page shares the budget.
    let r = get(&anon, "/v1/verify/x").await;
    assert_eq!(r.problem_code().as_deref(), Some("rate_limited"));
    let r = get(&anon, &format!("/verify/{code}")).await;
    assert_eq!(r.status, 429);
    assert!(String::from_utf8_lossy(&r.body).contains("data-status=\"rate_limited\""));
    // The keys are not rate-limited: they are the same for everyone.
    assert_eq!(get(&anon, "/v1/keys").await.status, 200);
}

async fn admin_post(app: &TestApp, stem: &str, path: &str) -> SimResponse {
    app.admin_client(stem)
        .post_json(path, &[], &json!({}))
        .await
        .unwrap()
}

#[tokio::test]
async fn the_municipality_withdraws_a_document_and_only_its_operator_may() {
    let app = TestApp::spawn().await;
    let issued = issue(&app, "card-rsa-1", &OrderSpec::default()).await;
    let p = payload(&issued.pdf);
    let path = format!("/v1/admin/documents/{}/withdraw", p.code);

    let r = admin_post(&app, JLIS_OPERATOR_STEM, &path).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.problem_code().as_deref(), Some("operator_role_required"));
    let r = admin_post(
        &app,
        MUNICIPALITY_OPERATOR_STEM,
        "/v1/admin/documents/nonsense/withdraw",
    )
    .await;
    assert_eq!(
        r.problem_code().as_deref(),
        Some("verification_code_malformed")
    );
    let unknown = kofu::gateway::signing::VerificationCode::random();
    let r = admin_post(
        &app,
        MUNICIPALITY_OPERATOR_STEM,
        &format!("/v1/admin/documents/{unknown}/withdraw"),
    )
    .await;
    assert_eq!(r.problem_code().as_deref(), Some("document_not_found"));
    // The public listener has no such route.
    let r = app
        .anonymous()
        .post_json(&path, &[], &json!({}))
        .await
        .unwrap();
    assert_eq!(r.status, 404);
    assert_eq!(
        json_of(&get(&app.anonymous(), &record_path(&p)).await)["genuine"],
        true
    );

    let r = admin_post(&app, MUNICIPALITY_OPERATOR_STEM, &path).await;
    assert_eq!(r.status, 200, "{:?}", r.problem_code());
    let first = json_of(&r)["withdrawn_at"].clone();
    let r = admin_post(&app, MUNICIPALITY_OPERATOR_STEM, &path).await;
    assert_eq!(
        json_of(&r)["withdrawn_at"],
        first,
        "the first withdrawal stands"
    );
    let record = json_of(&get(&app.anonymous(), &record_path(&p)).await);
    assert_eq!(record["genuine"], false);
    assert_eq!(record["withdrawn"], "withdrawn_by_municipality");
    // The signature itself is still sound: only the record says withdrawn.
    assert!(verify_pdf(&issued.pdf, &keys(&app).await).genuine);
}

#[tokio::test]
async fn a_rotated_key_still_verifies_and_a_revoked_one_no_longer_does() {
    let app = TestApp::spawn().await;
    let before = issue(&app, "card-rsa-1", &OrderSpec::default()).await;
    let old = payload(&before.pdf);
    let rotate = "/v1/admin/municipalities/139998/signing-keys";

    let r = admin_post(&app, JLIS_OPERATOR_STEM, rotate).await;
    assert_eq!(r.status, 403);
    let r = admin_post(
        &app,
        MUNICIPALITY_OPERATOR_STEM,
        "/v1/admin/municipalities/131016/signing-keys",
    )
    .await;
    assert_eq!(r.status, 403, "another municipality's keys");
    let r = admin_post(&app, MUNICIPALITY_OPERATOR_STEM, rotate).await;
    assert_eq!(r.status, 201, "{:?}", r.problem_code());
    let new_kid = json_of(&r)["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old.key_id);

    let after = issue(&app, "card-rsa-1", &OrderSpec::default()).await;
    let new = payload(&after.pdf);
    assert_eq!(
        new.key_id, new_kid,
        "the next acceptance signs with the new key"
    );
    let published = keys(&app).await;
    assert_eq!(published.keys.len(), 2);
    assert!(
        verify_pdf(&before.pdf, &published).genuine,
        "a retired key still verifies"
    );
    assert!(verify_pdf(&after.pdf, &published).genuine);
    let listed = app
        .admin_client(MUNICIPALITY_OPERATOR_STEM)
        .call(Method::GET, rotate, &[], None)
        .await
        .unwrap();
    assert_eq!(json_of(&listed)["keys"].as_array().unwrap().len(), 2);

    let revoke = format!("/v1/admin/signing-keys/{}/revoke", old.key_id);
    let r = admin_post(&app, JLIS_OPERATOR_STEM, &revoke).await;
    assert_eq!(r.status, 403);
    let r = admin_post(
        &app,
        MUNICIPALITY_OPERATOR_STEM,
        "/v1/admin/signing-keys/139998-20260101-000000/revoke",
    )
    .await;
    assert_eq!(r.problem_code().as_deref(), Some("signing_key_not_found"));
    let r = admin_post(&app, MUNICIPALITY_OPERATOR_STEM, &revoke).await;
    assert_eq!(r.status, 200, "{:?}", r.problem_code());
    assert_eq!(
        json_of(&r)["replacement"],
        Value::Null,
        "a retired key needs no replacement"
    );

    let published = keys(&app).await;
    let verdict = verify_pdf(&before.pdf, &published);
    assert!(!verdict.genuine);
    assert_eq!(verdict.reason, "key_revoked");
    let record = json_of(&get(&app.anonymous(), &record_path(&old)).await);
    assert_eq!(record["withdrawn"], "key_revoked");
    assert!(verify_pdf(&after.pdf, &published).genuine);

    // Revoking the current key replaces it at once; issuing goes on.
    let r = admin_post(
        &app,
        MUNICIPALITY_OPERATOR_STEM,
        &format!("/v1/admin/signing-keys/{new_kid}/revoke"),
    )
    .await;
    let replacement = json_of(&r)["replacement"].as_str().unwrap().to_owned();
    let third = issue(&app, "card-rsa-1", &OrderSpec::default()).await;
    assert_eq!(payload(&third.pdf).key_id, replacement);
    assert!(verify_pdf(&third.pdf, &keys(&app).await).genuine);
}

#[tokio::test]
async fn a_document_whose_order_was_voided_after_delivery_is_withdrawn() {
    let app = TestApp::spawn().await;
    let copier = app.copier(1);
    let card = app.pki.card("card-rsa-1");
    let session = copier.open_session().await.unwrap();
    copier.present_card(&session, card, "ja").await.unwrap();
    let ack = copier
        .place_order(session.session_id, "void-me", &OrderSpec::default())
        .await
        .unwrap();
    // Before delivery there is no paper: the code is unknown.
    let document = copier
        .fetch_document(session.session_id, ack.order_id)
        .await
        .unwrap();
    assert_eq!(document.status, 200);
    let p = payload(&document.body);
    let r = copier.report_failed(ack.order_id).await.unwrap();
    assert_eq!(r.status, 200, "{:?}", r.problem_code());
    let record = json_of(&get(&app.anonymous(), &record_path(&p)).await);
    assert_eq!(record["genuine"], false);
    assert_eq!(record["withdrawn"], "order_voided");
}

#[tokio::test]
async fn an_order_not_yet_delivered_has_no_paper_to_verify() {
    let app = TestApp::spawn().await;
    let copier = app.copier(1);
    let session = copier.open_session().await.unwrap();
    copier
        .present_card(&session, app.pki.card("card-rsa-1"), "ja")
        .await
        .unwrap();
    let ack = copier
        .place_order(session.session_id, "not-yet", &OrderSpec::default())
        .await
        .unwrap();
    let code: String = app
        .scalar(
            "SELECT verification_code FROM orders WHERE id = $1",
            &[&ack.order_id],
        )
        .await;
    let r = get(&app.anonymous(), &format!("/v1/verify/{code}")).await;
    assert_eq!(r.problem_code().as_deref(), Some("document_not_found"));
    // Nor is there paper for its municipality to withdraw.
    let r = admin_post(
        &app,
        MUNICIPALITY_OPERATOR_STEM,
        &format!("/v1/admin/documents/{code}/withdraw"),
    )
    .await;
    assert_eq!(r.problem_code().as_deref(), Some("document_not_found"));
    let withdrawn: bool = app
        .scalar(
            "SELECT withdrawn_at IS NOT NULL FROM orders WHERE id = $1",
            &[&ack.order_id],
        )
        .await;
    assert!(!withdrawn);
}

/// `kofu document verify … --online`: its JSON line and exit status (run
/// off the test's runtime, which serves the gateway it asks).
async fn verify_command(app: &TestApp, args: &[&str]) -> (Option<i32>, Value) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kofu"));
    command
        .args(["document", "verify", "--online", &app.api, "--ca"])
        .arg(app.pki.dir.join("store-ca.pem"))
        .args(args);
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    let verdict = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "not one JSON line: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (out.status.code(), verdict)
}

#[tokio::test]
async fn the_command_asks_the_gateway_and_exits_by_its_answer() {
    let app = TestApp::spawn_with(|c| c.verify_lookups_per_minute = 4).await;
    let issued = issue(&app, "card-rsa-1", &OrderSpec::default()).await;
    let dir = crate::harness::tempfile_dir("verify-online");
    let pdf = dir.join("certificate.pdf");
    std::fs::write(&pdf, &issued.pdf).unwrap();
    let pdf = pdf.to_str().unwrap();

    let (status, verdict) = verify_command(&app, &[pdf]).await;
    assert_eq!(
        (status, &verdict["reason"]),
        (Some(0), &json!("genuine")),
        "{verdict}"
    );
    assert_eq!(verdict["issuance_record"], "genuine");

    let unknown = kofu::gateway::signing::VerificationCode::random().to_string();
    let (status, verdict) = verify_command(&app, &["--code", &unknown]).await;
    assert_eq!(
        (status, &verdict["reason"]),
        (Some(1), &json!("document_not_found")),
        "{verdict}"
    );

    let p = payload(&issued.pdf);
    let r = admin_post(
        &app,
        MUNICIPALITY_OPERATOR_STEM,
        &format!("/v1/admin/documents/{}/withdraw", p.code),
    )
    .await;
    assert_eq!(r.status, 200);
    let (status, verdict) = verify_command(&app, &[pdf]).await;
    assert_eq!(
        (status, &verdict["reason"]),
        (Some(1), &json!("withdrawn_by_municipality")),
        "{verdict}"
    );

    // Out of look-ups: the question could not be asked, which is not "forged".
    let (status, verdict) = verify_command(&app, &["--code", &unknown]).await;
    assert_eq!(
        (status, &verdict["reason"]),
        (Some(1), &json!("document_not_found"))
    );
    let (status, verdict) = verify_command(&app, &[pdf]).await;
    assert_eq!(
        (status, &verdict["reason"]),
        (Some(2), &json!("rate_limited")),
        "{verdict}"
    );
}

#[tokio::test]
async fn the_page_shows_the_record_and_the_form_leads_to_it() {
    let app = TestApp::spawn().await;
    let issued = issue(&app, "card-rsa-1", &OrderSpec::default()).await;
    let p = payload(&issued.pdf);
    let anon = app.anonymous();
    let url = p.to_url();
    let path = &url[url.find("/verify/").unwrap()..];

    let r = get(&anon, path).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(
        r.header("content-security-policy")
            .unwrap()
            .contains("default-src 'none'")
    );
    let html = String::from_utf8_lossy(&r.body).into_owned();
    assert!(html.contains("data-status=\"genuine\""), "{html}");
    assert!(
        html.contains("日向　太郎"),
        "the QR code's URL shows the content"
    );
    let bare = get(&anon, &format!("/verify/{}", p.code)).await;
    let bare = String::from_utf8_lossy(&bare.body).into_owned();
    assert!(bare.contains("data-status=\"genuine\"") && !bare.contains("日向　太郎"));

    let r = get(
        &anon,
        &format!("/verify?code={}", p.code.to_ascii_lowercase()),
    )
    .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.header("location"),
        Some(format!("/verify/{}", p.code).as_str())
    );
    let r = get(&anon, "/verify?code=%3Cscript%3E").await;
    assert_eq!(r.status, 400);
    let html = String::from_utf8_lossy(&r.body).into_owned();
    assert!(html.contains("data-status=\"malformed\"") && !html.contains("<script>"));
    let r = get(
        &anon,
        &format!(
            "/verify/{}",
            kofu::gateway::signing::VerificationCode::random()
        ),
    )
    .await;
    assert_eq!(r.status, 404);
    assert!(String::from_utf8_lossy(&r.body).contains("data-status=\"not_found\""));
    let r = get(&anon, "/verify").await;
    assert_eq!(r.status, 200);
    assert!(String::from_utf8_lossy(&r.body).contains("id=\"code-form\""));
}

/// The chromium binary (Debian `chromium`, which `.ci/run` installs).
#[tokio::test]
async fn the_page_a_qr_code_opens_renders_in_headless_chromium() {
    let app = TestApp::spawn().await;
    let issued = issue(&app, "card-ecdsa-1", &OrderSpec::default()).await;
    let url = payload(&issued.pdf).to_url();
    let dom = tokio::task::spawn_blocking({
        let url = url.clone();
        move || crate::harness::headless(&url, &["--dump-dom"])
    })
    .await
    .unwrap();
    assert!(dom.contains("data-status=\"genuine\""), "{dom}");
    assert!(dom.contains("id=\"content\""), "{dom}");
    assert!(dom.contains("有効な証明書です") && dom.contains("This certificate is genuine"));

    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("verify-page.png");
    let _ = std::fs::remove_file(&shot);
    let arg = format!("--screenshot={}", shot.display());
    tokio::task::spawn_blocking(move || {
        crate::harness::headless(&url, &[&arg, "--window-size=900,1400"])
    })
    .await
    .unwrap();
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
    println!("verification page screenshot: {}", shot.display());
}
