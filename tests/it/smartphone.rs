//! Smartphone user-authentication certificates (スマホ用電子証明書): a phone
//! prints like its card; its suspension leaves the card working; the card's
//! renewal, revocation or signing-certificate reissue ends it at the next
//! authentication in every process; a phone revoked or held in the
//! smartphone CA's CRL is refused; J-LIS's smartphone events refuse what does
//! not fit with stable codes; orders, sessions, audit and metrics say which
//! credential authenticated, never its serial.

use kofu::devkit::crl_gen::publish_demo_crl;
use kofu::devkit::demo_pki::{CardKey, DemoCard};
use kofu::devkit::operator_pki::JLIS_OPERATOR_STEM;
use kofu::devkit::sim::{CopierClient, OrderSpec, SimResponse};
use kofu::gateway::domain::CertificateKind;
use kofu::gateway::pki::revocation::{Reason, Serial};
use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::harness::{ServeProcess, TestApp, serial_hex};

async fn send(app: &TestApp, event: serde_json::Value) -> SimResponse {
    app.admin_client(JLIS_OPERATOR_STEM)
        .post_json("/v1/admin/certificate-events", &[], &event)
        .await
        .unwrap()
}

/// `send`, which must be applied.
async fn apply(app: &TestApp, event: serde_json::Value) {
    let r = send(app, event.clone()).await;
    assert_eq!(r.status, 200, "{event}: {:?}", r.problem_code());
}

/// The card step on `copier`: `None` when the credential was accepted
/// (menu), otherwise the refusal's code.
async fn authenticate(copier: &CopierClient, credential: &DemoCard) -> Option<String> {
    let session = copier.open_session().await.unwrap();
    match copier.present_card(&session, credential, "ja").await {
        Ok(menu) => {
            assert!(menu["items"].is_array(), "{menu}");
            None
        }
        Err(kofu::devkit::sim::SimError::Refused { code, .. }) => Some(code),
        Err(e) => panic!("{e}"),
    }
}

/// A new phone certificate from the demo smartphone CA, linked to nothing.
fn new_phone(app: &TestApp, key: CardKey) -> DemoCard {
    let now = OffsetDateTime::now_utc();
    app.pki
        .demo
        .smartphone_ca
        .issue_smartphone(
            "new-phone",
            &crate::harness::spec(key, now - Duration::days(1), now + Duration::days(400)),
        )
        .unwrap()
}

fn residence() -> OrderSpec {
    OrderSpec::of(CertificateKind::ResidenceCertificate, json!({}))
}

#[tokio::test]
async fn a_smartphone_prints_its_cards_residents_certificate_and_everything_records_the_credential()
{
    let app = TestApp::spawn().await;
    let copier = app.copier(1);
    // phone-ecdsa-1 was derived from card-rsa-1 (P-256), phone-rsa-1 from
    // card-ecdsa-1 (RSA-2048): both challenge algorithms.
    let by_phone = copier
        .issue(app.pki.card("phone-ecdsa-1"), &residence(), "ja")
        .await
        .expect("the phone prints");
    assert_eq!(by_phone.menu["credential"], "smartphone");
    let text = crate::harness::page_texts(&by_phone.pdf).concat();
    assert!(
        crate::harness::squeezed(&text).contains("日向太郎"),
        "the card holder's certificate: {text}"
    );
    let by_card = copier
        .issue(app.pki.card("card-rsa-1"), &residence(), "ja")
        .await
        .unwrap();
    assert_eq!(by_card.menu["credential"], "card");
    copier
        .issue(app.pki.card("phone-rsa-1"), &residence(), "ja")
        .await
        .expect("the RSA phone prints");

    // The same resident; the order and its session know which credential.
    let row = app
        .db()
        .await
        .query_one(
            "SELECT p.resident_id = c.resident_id, p.credential, c.credential,
                    s.credential, s.smartphone_serial IS NOT NULL, s.card_serial = cs.card_serial
               FROM orders p JOIN orders c ON c.id = $2
               JOIN sessions s ON s.id = p.session_id
               JOIN sessions cs ON cs.id = c.session_id
              WHERE p.id = $1",
            &[&by_phone.ack.order_id, &by_card.ack.order_id],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0), "phone and card lead to one resident");
    assert_eq!(row.get::<_, &str>(1), "smartphone");
    assert_eq!(row.get::<_, &str>(2), "card");
    assert_eq!(row.get::<_, &str>(3), "smartphone");
    assert!(row.get::<_, bool>(4));
    assert!(
        row.get::<_, bool>(5),
        "a phone session holds its card's serial (rate limits, one copier at a time, 本籍地)"
    );

    // The audit entries name the credential, and its serial only hashed.
    let subjects: Vec<serde_json::Value> = app
        .db()
        .await
        .query(
            "SELECT subject::jsonb FROM audit_pending WHERE action IN ('card.authenticated', 'order.accepted')
             UNION ALL
             SELECT subject::jsonb FROM audit_log WHERE action IN ('card.authenticated', 'order.accepted')",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let phones = subjects
        .iter()
        .filter(|s| s["credential"] == "smartphone")
        .count();
    assert_eq!(phones, 4, "two authentications, two orders: {subjects:?}");
    assert!(subjects.iter().all(|s| s["credential"].is_string()));
    let all = serde_json::to_string(&subjects).unwrap();
    for c in [app.pki.card("phone-ecdsa-1"), app.pki.card("phone-rsa-1")] {
        assert!(
            !all.contains(&serial_hex(c)),
            "a raw serial in the audit log"
        );
    }

    // Metrics count verifications and orders by credential.
    let metrics = crate::revocation::reqwest_free_metrics(&app).await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("kofu_cards_verified_total")
                && l.contains("credential=\"smartphone\"")),
        "{metrics}"
    );
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("kofu_orders_accepted_total")
                && l.contains("credential=\"smartphone\"")),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_suspended_phone_is_refused_while_its_card_prints_and_a_suspended_card_leaves_its_phone()
{
    let app = TestApp::spawn().await;
    let copier = app.copier(1);
    let (phone_, card) = (app.pki.card("phone-ecdsa-1"), app.pki.card("card-rsa-1"));
    assert_eq!(authenticate(&copier, phone_).await, None);
    apply(
        &app,
        json!({"event_id": "lost-phone", "kind": "smartphone_suspended", "serial": serial_hex(phone_)}),
    )
    .await;
    assert_eq!(
        authenticate(&copier, phone_).await.as_deref(),
        Some("smartphone_suspended")
    );
    copier
        .issue(card, &residence(), "ja")
        .await
        .expect("the card still prints");
    // The refusal tells the resident what to do, in their language.
    let session = copier.open_session().await.unwrap();
    let challenge = base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        &session.challenge,
    )
    .unwrap();
    let b64 = |b: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b);
    let r = copier
        .post_json(
            &format!("/v1/sessions/{}/card", session.session_id),
            &[("accept-language", "en".to_owned())],
            &json!({"certificate": b64(&phone_.cert_der), "signature": b64(&phone_.sign(&challenge)),
                    "algorithm": phone_.algorithm.as_str()}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 403);
    let problem: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(problem["code"], "smartphone_suspended");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("My Number Card can still be used"),
        "{problem}"
    );
    // The other way round: a lost card is not a lost phone.
    let (other_phone, other_card) = (app.pki.card("phone-rsa-1"), app.pki.card("card-ecdsa-1"));
    apply(
        &app,
        json!({"event_id": "lost-card", "kind": "suspended", "serial": serial_hex(other_card)}),
    )
    .await;
    assert_eq!(
        authenticate(&copier, other_card).await.as_deref(),
        Some("card_suspended")
    );
    copier
        .issue(other_phone, &residence(), "ja")
        .await
        .expect("the phone still prints");
    // A revoked phone is refused as such, and a suspension never lifts it.
    apply(
        &app,
        json!({"event_id": "phone-revoked", "kind": "smartphone_revoked", "serial": serial_hex(other_phone), "reason": "keyCompromise"}),
    )
    .await;
    apply(
        &app,
        json!({"event_id": "phone-held-later", "kind": "smartphone_suspended", "serial": serial_hex(other_phone)}),
    )
    .await;
    assert_eq!(
        authenticate(&copier, other_phone).await.as_deref(),
        Some("smartphone_revoked")
    );
}

#[tokio::test]
async fn a_card_renewal_ends_its_phone_at_the_next_authentication_in_another_process() {
    let app = TestApp::spawn().await;
    let other = ServeProcess::start(&app);
    let there = other.copier(&app, 2);
    let (phone_, card, renewed) = (
        app.pki.card("phone-ecdsa-1"),
        app.pki.card("card-rsa-1"),
        &app.pki.unlinked,
    );
    there
        .issue(phone_, &residence(), "ja")
        .await
        .expect("the phone prints in the other process");

    apply(
        &app,
        json!({"event_id": "renew", "kind": "renewed", "serial": serial_hex(card), "new_serial": serial_hex(renewed)}),
    )
    .await;
    // No waiting, in either process: the phone must be registered again.
    assert_eq!(
        authenticate(&there, phone_).await.as_deref(),
        Some("smartphone_superseded")
    );
    assert_eq!(
        authenticate(&app.copier(1), phone_).await.as_deref(),
        Some("smartphone_superseded")
    );
    there
        .issue(renewed, &residence(), "ja")
        .await
        .expect("the renewed card prints");

    // A phone registered again from the new card works, in both processes.
    let again = new_phone(&app, CardKey::EcdsaP256);
    assert_eq!(
        authenticate(&there, &again).await.as_deref(),
        Some("smartphone_not_registered")
    );
    apply(
        &app,
        json!({"event_id": "phone-again", "kind": "smartphone_issued", "serial": serial_hex(&again), "card_serial": serial_hex(renewed)}),
    )
    .await;
    assert_eq!(authenticate(&there, &again).await, None);
    assert_eq!(authenticate(&app.copier(1), &again).await, None);

    // The signing certificate reissued alone (an address change): the card
    // works on, its phone ends.
    apply(
        &app,
        json!({"event_id": "moved", "kind": "signing_reissued", "serial": serial_hex(renewed)}),
    )
    .await;
    assert_eq!(authenticate(&there, renewed).await, None);
    assert_eq!(
        authenticate(&there, &again).await.as_deref(),
        Some("smartphone_superseded")
    );

    // A revoked card ends its phone even were its link row not updated: the
    // authentication reads the card's own status with the phone's.
    let (phone2, card2) = (app.pki.card("phone-rsa-1"), app.pki.card("card-ecdsa-1"));
    apply(
        &app,
        json!({"event_id": "card2-revoked", "kind": "revoked", "serial": serial_hex(card2)}),
    )
    .await;
    app.db()
        .await
        .execute("UPDATE smartphone_links SET status = 'active'", &[])
        .await
        .unwrap();
    assert_eq!(
        authenticate(&there, phone2).await.as_deref(),
        Some("smartphone_superseded")
    );
    assert_eq!(
        authenticate(&there, card2).await.as_deref(),
        Some("card_revoked")
    );
}

fn crl_serial(c: &DemoCard) -> Serial {
    let s = kofu::devkit::demo_pki::card_serial(&c.cert_der).unwrap();
    Serial::from_magnitude(s.as_bytes()).unwrap()
}

#[tokio::test]
async fn a_phone_revoked_or_held_in_the_smartphone_crl_is_refused_and_its_card_is_not() {
    let app = TestApp::spawn().await;
    let copier = app.copier(1);
    let (revoked, held) = (app.pki.card("phone-ecdsa-1"), app.pki.card("phone-rsa-1"));
    let mut client = app.db().await;
    publish_demo_crl(
        &app.pki.demo.smartphone_ca,
        &mut client,
        &[
            (crl_serial(revoked), Some(Reason::KeyCompromise)),
            (crl_serial(held), Some(Reason::CertificateHold)),
        ],
    )
    .await
    .unwrap();
    crate::revocation::eventually(&app, revoked, Some("smartphone_revoked")).await;
    crate::revocation::eventually(&app, held, Some("smartphone_suspended")).await;
    // The serials are the phone CA's: the cards are not in that CRL.
    assert_eq!(
        authenticate(&copier, app.pki.card("card-rsa-1")).await,
        None
    );
    assert_eq!(
        authenticate(&copier, app.pki.card("card-ecdsa-1")).await,
        None
    );
    // A phone CA without a current CRL refuses its phones (fail closed)
    // and leaves the cards alone: here, a gateway whose phone CA is the
    // only one never published.
    let stranger = kofu::devkit::demo_pki::Issuer::smartphone_auth_ca("no-crl").unwrap();
    let dir = crate::harness::tempfile_dir("phone-ca-without-crl");
    std::fs::write(
        dir.join("ca.pem"),
        kofu::devkit::demo_pki::pem("CERTIFICATE", &stranger.cert_der),
    )
    .unwrap();
    let ca_path = dir.join("ca.pem");
    let strict = TestApp::spawn_with(|c| c.tls.smartphone_ca = vec![ca_path]).await;
    let now = OffsetDateTime::now_utc();
    let unlisted = stranger
        .issue_smartphone(
            "unlisted",
            &crate::harness::spec(
                CardKey::EcdsaP256,
                now - Duration::days(1),
                now + Duration::days(400),
            ),
        )
        .unwrap();
    assert_eq!(
        authenticate(&strict.copier(1), &unlisted).await.as_deref(),
        Some("revocation_data_stale")
    );
    assert_eq!(
        authenticate(&strict.copier(1), app.pki.card("card-rsa-2")).await,
        None
    );
}

#[tokio::test]
async fn smartphone_events_that_do_not_fit_are_refused_with_stable_codes() {
    let app = TestApp::spawn().await;
    let fresh = new_phone(&app, CardKey::Rsa2048);
    let card = app.pki.card("card-rsa-2");
    let refusals = [
        // The card it names is linked to no one.
        (
            json!({"event_id": "a", "kind": "smartphone_issued", "serial": serial_hex(&fresh), "card_serial": serial_hex(&app.pki.unlinked)}),
            422,
            "serial_not_linked",
        ),
        // No card named.
        (
            json!({"event_id": "b", "kind": "smartphone_issued", "serial": serial_hex(&fresh)}),
            400,
            "event_malformed",
        ),
        // Only a phone's issue names a card.
        (
            json!({"event_id": "c", "kind": "suspended", "serial": serial_hex(card), "card_serial": serial_hex(card)}),
            400,
            "event_malformed",
        ),
        // An unknown phone cannot be suspended or revoked.
        (
            json!({"event_id": "d", "kind": "smartphone_suspended", "serial": serial_hex(&fresh)}),
            422,
            "serial_not_linked",
        ),
        (
            json!({"event_id": "e", "kind": "smartphone_revoked", "serial": serial_hex(&fresh), "reason": "because"}),
            400,
            "event_malformed",
        ),
        // A phone already derived from another card.
        (
            json!({"event_id": "f", "kind": "smartphone_issued", "serial": serial_hex(app.pki.card("phone-rsa-1")), "card_serial": serial_hex(card)}),
            409,
            "serial_linked_elsewhere",
        ),
        (
            json!({"event_id": "g", "kind": "signing_reissued", "serial": serial_hex(&app.pki.unlinked)}),
            422,
            "serial_not_linked",
        ),
    ];
    for (event, status, code) in refusals {
        let r = send(&app, event.clone()).await;
        assert_eq!(r.status, status, "{event}");
        assert_eq!(r.problem_code().as_deref(), Some(code), "{event}");
    }
    // Nothing of those was recorded.
    let recorded: i64 = app
        .scalar("SELECT count(*) FROM certificate_events", &[])
        .await;
    assert_eq!(recorded, 0);

    // A suspended card cannot have a phone derived from it.
    apply(
        &app,
        json!({"event_id": "held", "kind": "suspended", "serial": serial_hex(card)}),
    )
    .await;
    let r = send(
        &app,
        json!({"event_id": "h", "kind": "smartphone_issued", "serial": serial_hex(&fresh), "card_serial": serial_hex(card)}),
    )
    .await;
    assert_eq!(r.problem_code().as_deref(), Some("serial_not_active"));

    // Idempotent: the same issue twice is one link; the same id with
    // another card is refused.
    let other = app.pki.card("card-rsa-1");
    let issue = json!({"event_id": "i", "kind": "smartphone_issued", "serial": serial_hex(&fresh), "card_serial": serial_hex(other)});
    apply(&app, issue.clone()).await;
    let r = send(&app, issue).await;
    assert_eq!(r.status, 200);
    let r = send(
        &app,
        json!({"event_id": "i", "kind": "smartphone_issued", "serial": serial_hex(&fresh), "card_serial": serial_hex(app.pki.card("card-ecdsa-1"))}),
    )
    .await;
    assert_eq!(r.problem_code().as_deref(), Some("event_id_reused"));
    let links: i64 = app
        .scalar(
            "SELECT count(*) FROM smartphone_links WHERE serial = decode($1, 'hex')",
            &[&serial_hex(&fresh)],
        )
        .await;
    assert_eq!(links, 1);
    assert_eq!(authenticate(&app.copier(1), &fresh).await, None);
}

/// `kofu crl import` takes the smartphone CA's CRL as it takes the card
/// CA's — only when that CA is configured — and every gateway refuses the
/// phone it lists within a second.
#[tokio::test]
async fn the_crl_command_imports_a_smartphone_ca_crl_only_when_that_ca_is_configured() {
    use kofu::devkit::crl_gen::{CrlSpec, generate_crl};
    let app = TestApp::spawn().await;
    let phone_ = app.pki.card("phone-rsa-1");
    crate::revocation::eventually(&app, phone_, None).await;
    let crl = generate_crl(
        &app.pki.demo.smartphone_ca,
        &CrlSpec::full(u64::MAX / 3),
        vec![(crl_serial(phone_), Some(Reason::Superseded))],
    )
    .unwrap();
    let dir = crate::harness::tempfile_dir("phone-crl");
    let file = dir.join("smartphone.crl");
    std::fs::write(&file, &crl).unwrap();
    let import = |phone_ca: Option<&std::path::Path>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_kofu"));
        cmd.args(["crl", "import"])
            .arg(&file)
            .env("DATABASE_URL", app.database_url())
            .env(
                "KOFU_TLS__CARD_CA",
                format!("[\"{}\"]", app.pki.dir.join("user-auth-ca.pem").display()),
            );
        if let Some(ca) = phone_ca {
            cmd.env("KOFU_TLS__SMARTPHONE_CA", format!("[\"{}\"]", ca.display()));
        }
        cmd.output().unwrap()
    };
    let refused = import(None);
    assert!(!refused.status.success(), "not a configured CA's CRL");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !stderr.contains(&serial_hex(phone_)),
        "no serial in the refusal: {stderr}"
    );
    let out = import(Some(&app.pki.dir.join("smartphone-auth-ca.pem")));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(line["imported"], true, "{line}");
    crate::revocation::eventually(&app, phone_, Some("smartphone_revoked")).await;
    assert_eq!(
        authenticate(&app.copier(1), app.pki.card("card-ecdsa-1")).await,
        None
    );
}
