//! Every refusal has its own stable error code, and loses nothing.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hyper::{Method, StatusCode};
use kofu::devkit::demo_pki::DemoCard;
use kofu::devkit::sim::{CopierClient, OrderSpec, SimError};

use crate::harness::TestApp;

/// Opens a session and presents `card`; returns the refusal (status, code).
async fn refused(copier: &CopierClient, card: &DemoCard) -> (StatusCode, String) {
    let session = copier.open_session().await.unwrap();
    match copier.present_card(&session, card, "ja").await {
        Err(SimError::Refused { status, code, .. }) => (status, code),
        other => panic!("card unexpectedly accepted: {other:?}"),
    }
}

#[tokio::test]
async fn each_bad_card_is_refused_with_its_own_code() {
    let app = TestApp::spawn().await;
    let copier = app.copier(1);
    let pki = app.pki;
    let cases = [
        (&pki.unknown_issuer, "card_unknown_issuer"),
        (&pki.expired, "card_expired"),
        (&pki.not_yet_valid, "card_not_yet_valid"),
        (&pki.wrong_key_usage, "card_key_usage_invalid"),
        (&pki.no_policy, "card_policy_missing"),
        (&pki.unlinked, "card_not_registered"),
    ];
    for (card, want) in cases {
        let (status, code) = refused(&copier, card).await;
        assert_eq!(code, want, "card {}", card.label);
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let refusals: i64 = app
        .db()
        .await
        .query_one(
            "SELECT count(*) FROM sessions WHERE resident_id IS NOT NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(refusals, 0, "no refused card authenticated a session");
}

#[tokio::test]
async fn a_signature_over_other_bytes_is_refused() {
    let app = TestApp::spawn().await;
    let copier = app.copier(1);
    let card = app.pki.card("card-rsa-1");
    let session = copier.open_session().await.unwrap();
    let body = serde_json::json!({
        "certificate": STANDARD.encode(&card.cert_der),
        "signature": STANDARD.encode(card.sign(b"not the challenge")),
        "algorithm": card.algorithm.as_str(),
    });
    let r = copier
        .post_json(
            &format!("/v1/sessions/{}/card", session.session_id),
            &[],
            &body,
        )
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.problem_code().as_deref(), Some("card_signature_invalid"));
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
}

#[tokio::test]
async fn garbage_certificate_bytes_are_a_clear_error_not_a_crash() {
    let app = TestApp::spawn().await;
    let copier = app.copier(1);
    let session = copier.open_session().await.unwrap();
    let path = format!("/v1/sessions/{}/card", session.session_id);
    let body = serde_json::json!({"certificate": STANDARD.encode(b"\x30\x82\xff\xffgarbage"), "signature": "AAAA", "algorithm": "rsa-pkcs1-sha256"});
    let r = copier.post_json(&path, &[], &body).await.unwrap();
    assert_eq!(
        r.problem_code().as_deref(),
        Some("card_certificate_invalid")
    );
    // The challenge was spent, so the session cannot be replayed.
    let r = copier.post_json(&path, &[], &body).await.unwrap();
    assert_eq!(r.problem_code().as_deref(), Some("challenge_already_used"));
    let r = copier
        .call(Method::POST, "/v1/sessions", &[], Some(b"{".to_vec()))
        .await
        .unwrap();
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "body of open-session is ignored"
    );
    let session = copier.open_session().await.unwrap();
    let r = copier
        .call(
            Method::POST,
            &format!("/v1/sessions/{}/card", session.session_id),
            &[],
            Some(b"{not json".to_vec()),
        )
        .await
        .unwrap();
    assert_eq!(r.problem_code().as_deref(), Some("malformed_request"));
    let big = vec![b'x'; 200 * 1024];
    let r = copier
        .call(
            Method::POST,
            &format!("/v1/sessions/{}/card", session.session_id),
            &[],
            Some(big),
        )
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.problem_code().as_deref(), Some("body_too_large"));
    assert_eq!(
        app.anonymous()
            .call(Method::GET, "/healthz", &[], None)
            .await
            .unwrap()
            .status,
        200,
        "still serving"
    );
}

#[tokio::test]
async fn a_challenge_cannot_be_used_twice() {
    let app = TestApp::spawn().await;
    let copier = app.copier(1);
    let card = app.pki.card("card-rsa-1");
    let session = copier.open_session().await.unwrap();
    copier.present_card(&session, card, "ja").await.unwrap();
    match copier.present_card(&session, card, "ja").await {
        Err(SimError::Refused { status, code, .. }) => {
            assert_eq!(code, "challenge_already_used");
            assert_eq!(status, StatusCode::CONFLICT);
        }
        other => panic!("replay accepted: {other:?}"),
    }
}

#[tokio::test]
async fn an_expired_session_is_refused() {
    let app = TestApp::spawn().await;
    let copier = app.copier(1);
    let session = copier.open_session().await.unwrap();
    app.db()
        .await
        .execute(
            "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1",
            &[&session.session_id],
        )
        .await
        .unwrap();
    match copier
        .present_card(&session, app.pki.card("card-rsa-1"), "ja")
        .await
    {
        Err(SimError::Refused { status, code, .. }) => {
            assert_eq!(code, "session_expired");
            assert_eq!(status, StatusCode::GONE);
        }
        other => panic!("expired session accepted: {other:?}"),
    }
}

#[tokio::test]
async fn another_copier_cannot_fetch_someone_elses_document_or_use_their_session() {
    let app = TestApp::spawn().await;
    let (mine, thief) = (app.copier(1), app.copier(2));
    let session = mine.open_session().await.unwrap();
    // Copier 2 cannot present a card in copier 1's session.
    match thief
        .present_card(&session, app.pki.card("card-rsa-2"), "ja")
        .await
    {
        Err(SimError::Refused { code, .. }) => {
            assert_eq!(code, "session_belongs_to_another_copier")
        }
        other => panic!("foreign session used: {other:?}"),
    }
    // The refused attempt did not spend the owner's challenge.
    mine.present_card(&session, app.pki.card("card-rsa-1"), "ja")
        .await
        .unwrap();
    let ack = mine
        .place_order(session.session_id, "k", &OrderSpec::default())
        .await
        .unwrap();

    let stolen = thief
        .fetch_document(session.session_id, ack.order_id)
        .await
        .unwrap();
    assert_eq!(stolen.status, StatusCode::FORBIDDEN);
    assert_eq!(
        stolen.problem_code().as_deref(),
        Some("order_belongs_to_another_copier")
    );
    assert!(!stolen.body.starts_with(b"%PDF"));
    let printed = thief.confirm_printed(ack.order_id).await.unwrap();
    assert_eq!(
        printed.problem_code().as_deref(),
        Some("order_belongs_to_another_copier")
    );

    // The right copier with the wrong session gets nothing either.
    let other_session = mine.open_session().await.unwrap();
    let wrong = mine
        .fetch_document(other_session.session_id, ack.order_id)
        .await
        .unwrap();
    assert_eq!(
        wrong.problem_code().as_deref(),
        Some("order_session_mismatch")
    );

    // And the owner still gets its document: nothing was lost.
    let doc = mine
        .fetch_document(session.session_id, ack.order_id)
        .await
        .unwrap();
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.body.starts_with(b"%PDF"));
}

#[tokio::test]
async fn a_connection_without_a_client_certificate_cannot_use_the_copier_api() {
    let app = TestApp::spawn().await;
    let anon = app.anonymous();
    for (method, path) in [
        (Method::POST, "/v1/sessions".to_owned()),
        (
            Method::POST,
            format!("/v1/sessions/{}/card", uuid::Uuid::nil()),
        ),
        (
            Method::GET,
            format!("/v1/orders/{}/document", uuid::Uuid::nil()),
        ),
    ] {
        let r = anon.call(method, &path, &[], None).await.unwrap();
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            r.problem_code().as_deref(),
            Some("copier_certificate_required")
        );
    }
    let count: i64 = app
        .db()
        .await
        .query_one("SELECT count(*) FROM sessions", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 0);
}

#[tokio::test]
async fn a_client_certificate_from_another_ca_fails_the_handshake() {
    let app = TestApp::spawn().await;
    // The card CA is not the store-network CA: a certificate it issued is no copier.
    let dir = crate::harness::scratch_dir().join("rogue");
    std::fs::create_dir_all(&dir).unwrap();
    let rogue = kofu::devkit::demo_pki::Issuer::user_auth_ca("rogue-store")
        .unwrap()
        .issue_copier("rogue/store/copier")
        .unwrap();
    let cert = dir.join("rogue.pem");
    let key = dir.join("rogue.key");
    std::fs::write(&cert, pem("CERTIFICATE", &rogue.cert_der)).unwrap();
    std::fs::write(&key, pem("PRIVATE KEY", &rogue.key_pkcs8_der)).unwrap();
    let client = CopierClient::new(
        &app.api,
        &app.pki.dir.join("store-ca.pem"),
        Some((&cert, &key)),
    )
    .unwrap();
    let err = client.open_session().await.unwrap_err();
    assert!(matches!(err, SimError::Transport(_)), "{err}");
}

#[tokio::test]
async fn orders_need_an_authenticated_session_and_an_idempotency_key() {
    let app = TestApp::spawn().await;
    let copier = app.copier(1);
    let session = copier.open_session().await.unwrap();
    let path = format!("/v1/sessions/{}/orders", session.session_id);
    let body = serde_json::json!({"kind": "residence_certificate"});
    let r = copier
        .post_json(&path, &[("idempotency-key", "a".into())], &body)
        .await
        .unwrap();
    assert_eq!(
        r.problem_code().as_deref(),
        Some("session_not_authenticated")
    );
    copier
        .present_card(&session, app.pki.card("card-rsa-1"), "ja")
        .await
        .unwrap();
    let r = copier.post_json(&path, &[], &body).await.unwrap();
    assert_eq!(
        r.problem_code().as_deref(),
        Some("idempotency_key_required")
    );
    let r = copier
        .post_json(
            &path,
            &[("idempotency-key", "a".into())],
            &serde_json::json!({"kind": "passport"}),
        )
        .await
        .unwrap();
    assert_eq!(
        r.problem_code().as_deref(),
        Some("certificate_kind_unavailable")
    );
    let r = copier
        .post_json(&path, &[("idempotency-key", "a".into())], &serde_json::json!({"kind": "residence_certificate", "options": {"show_my_number": "yes"}}))
        .await
        .unwrap();
    assert_eq!(r.problem_code().as_deref(), Some("invalid_options"));
    let r = copier
        .post_json(
            &path,
            &[
                ("idempotency-key", "a".into()),
                ("accept-language", "ja".into()),
            ],
            &serde_json::json!({"kind": "residence_certificate", "copies": 11}),
        )
        .await
        .unwrap();
    assert_eq!(r.problem_code().as_deref(), Some("invalid_options"));
    let problem: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(problem["detail"], "選択された項目が正しくありません。");
    let count: i64 = app
        .db()
        .await
        .query_one("SELECT count(*) FROM orders", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 0);
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}
