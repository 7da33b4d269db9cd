//! J-LIS certificate lifecycle events through the administration API: a
//! suspension or revocation refuses the card at its very next
//! authentication, in another gateway process too; a renewal makes the new
//! card work at once; events are idempotent; only the J-LIS operator role
//! may send them.

use kofu::devkit::demo_pki::DemoCard;
use kofu::devkit::operator_pki::{JLIS_OPERATOR_STEM, MUNICIPALITY_OPERATOR_STEM};
use kofu::devkit::sim::{CopierClient, SimResponse};
use serde_json::json;

use crate::harness::{ServeProcess, TestApp};

const EVENTS: &str = "/v1/admin/certificate-events";

use crate::harness::serial_hex;

async fn send(app: &TestApp, event: serde_json::Value) -> SimResponse {
    app.admin_client(JLIS_OPERATOR_STEM)
        .post_json(EVENTS, &[], &event)
        .await
        .unwrap()
}

/// The card step on `copier`: `None` when the card was accepted (menu),
/// otherwise the refusal's code.
async fn authenticate(copier: &CopierClient, card: &DemoCard) -> Option<String> {
    let session = copier.open_session().await.unwrap();
    match copier.present_card(&session, card, "ja").await {
        Ok(menu) => {
            assert!(menu["items"].is_array(), "{menu}");
            None
        }
        Err(kofu::devkit::sim::SimError::Refused { code, .. }) => Some(code),
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test]
async fn a_suspension_refuses_the_card_at_its_next_authentication_in_another_process() {
    let app = TestApp::spawn().await;
    let other = ServeProcess::start(&app);
    let card = app.pki.card("card-rsa-1");
    let there = other.copier(&app, 1);
    assert_eq!(authenticate(&there, card).await, None);
    assert_eq!(authenticate(&app.copier(1), card).await, None);

    let r = send(
        &app,
        json!({"event_id": "jlis-1", "kind": "suspended", "serial": serial_hex(card)}),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.problem_code());

    // No waiting: the very next authentication, in either process, is refused.
    assert_eq!(
        authenticate(&there, card).await.as_deref(),
        Some("card_suspended")
    );
    assert_eq!(
        authenticate(&app.copier(2), card).await.as_deref(),
        Some("card_suspended")
    );
    // Other cards are untouched.
    assert_eq!(
        authenticate(&there, app.pki.card("card-ecdsa-1")).await,
        None
    );

    // A revocation after the hold is final too.
    let r = send(
        &app,
        json!({"event_id": "jlis-2", "kind": "revoked", "serial": serial_hex(card), "reason": "keyCompromise"}),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        authenticate(&there, card).await.as_deref(),
        Some("card_revoked")
    );
}

#[tokio::test]
async fn a_renewal_makes_the_new_card_work_at_once_and_supersedes_the_old_one() {
    let app = TestApp::spawn().await;
    let other = ServeProcess::start(&app);
    let (old, new) = (app.pki.card("card-rsa-2"), &app.pki.unlinked);
    let there = other.copier(&app, 2);
    assert_eq!(
        authenticate(&there, new).await.as_deref(),
        Some("card_not_registered")
    );

    let r = send(
        &app,
        json!({"event_id": "renew-1", "kind": "renewed", "serial": serial_hex(old), "new_serial": serial_hex(new)}),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.problem_code());

    // The new card prints the same resident's certificate, in the other process.
    let issued = there
        .issue(new, &Default::default(), "ja")
        .await
        .expect("the renewed card works at once");
    let text = crate::harness::page_texts(&issued.pdf).concat();
    assert!(
        text.contains("青葉"),
        "the renewed card is the same resident's"
    );
    assert_eq!(
        authenticate(&there, old).await.as_deref(),
        Some("card_revoked")
    );
}

#[tokio::test]
async fn events_are_idempotent_and_refusals_have_stable_codes() {
    let app = TestApp::spawn().await;
    let new = &app.pki.unlinked;
    let issued = json!({"event_id": "iss-1", "kind": "issued", "serial": serial_hex(new), "resident_code": "10000000011"});
    let first = send(&app, issued.clone()).await;
    assert_eq!(first.status, 200);
    let body: serde_json::Value = serde_json::from_slice(&first.body).unwrap();
    assert_eq!(body["results"][0]["outcome"], "applied");
    let again = send(&app, issued).await;
    let body: serde_json::Value = serde_json::from_slice(&again.body).unwrap();
    assert_eq!(body["results"][0]["outcome"], "duplicate");
    assert_eq!(
        authenticate(&app.copier(1), new).await,
        None,
        "issued links the card"
    );

    let cases = [
        // Same id, other content.
        (
            json!({"event_id": "iss-1", "kind": "suspended", "serial": serial_hex(new)}),
            409,
            "event_id_reused",
        ),
        (
            json!({"event_id": "x1", "kind": "issued", "serial": "7f01", "resident_code": "99999999999"}),
            422,
            "resident_not_found",
        ),
        (
            json!({"event_id": "x2", "kind": "renewed", "serial": "7f02", "new_serial": "7f03"}),
            422,
            "serial_not_linked",
        ),
        (
            json!({"event_id": "x3", "kind": "issued", "serial": serial_hex(new), "resident_code": "10000000029"}),
            409,
            "serial_linked_elsewhere",
        ),
        (
            json!({"event_id": "x4", "kind": "suspended", "serial": "not hex"}),
            400,
            "event_malformed",
        ),
        (
            json!({"event_id": "x5", "kind": "reinstated", "serial": "01"}),
            400,
            "malformed_request",
        ),
    ];
    for (event, status, code) in cases {
        let r = send(&app, event.clone()).await;
        assert_eq!(r.status, status, "{event}");
        assert_eq!(r.problem_code().as_deref(), Some(code), "{event}");
    }
    // Refused events left nothing behind.
    let recorded: i64 = app
        .db()
        .await
        .query_one("SELECT count(*) FROM certificate_events", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(recorded, 1);

    // A batch: each event in its own transaction, outcomes in order.
    let batch = json!({"events": [
        {"event_id": "b1", "kind": "suspended", "serial": "7f10"},
        {"event_id": "b2", "kind": "revoked", "serial": "7f11"},
        {"event_id": "iss-1", "kind": "issued", "serial": serial_hex(new), "resident_code": "10000000011"},
    ]});
    let r = send(&app, batch).await;
    assert_eq!(r.status, 200);
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    let outcomes: Vec<&str> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["applied", "applied", "duplicate"]);
}

#[tokio::test]
async fn only_the_jlis_operator_may_send_events_and_each_listener_trusts_only_its_own_ca() {
    let app = TestApp::spawn().await;
    let card = app.pki.card("card-ecdsa-1");
    let event = json!({"event_id": "role-1", "kind": "suspended", "serial": serial_hex(card)});

    let municipal = app
        .admin_client(MUNICIPALITY_OPERATOR_STEM)
        .post_json(EVENTS, &[], &event)
        .await
        .unwrap();
    assert_eq!(municipal.status, 403);
    assert_eq!(
        municipal.problem_code().as_deref(),
        Some("operator_role_required")
    );

    // A copier certificate is not accepted by the administration listener...
    let (_, cert, key) = kofu::devkit::demo_pki::copier_files(&app.pki.dir, &app.pki.demo, 0);
    let admin = format!("https://{}", app.gateway.admin_addr.unwrap());
    let copier_at_admin = CopierClient::new(
        &admin,
        &app.pki.dir.join("store-ca.pem"),
        Some((&cert, &key)),
    )
    .unwrap();
    assert!(
        copier_at_admin
            .post_json(EVENTS, &[], &event)
            .await
            .is_err()
    );
    // ...nor a connection without a certificate...
    let anonymous = CopierClient::new(&admin, &app.pki.dir.join("store-ca.pem"), None).unwrap();
    assert!(anonymous.post_json(EVENTS, &[], &event).await.is_err());
    // ...and the copier listener has no administration routes.
    let r = app.copier(1).post_json(EVENTS, &[], &event).await.unwrap();
    assert_eq!(r.status, 404);

    // Nothing was applied: the card still works.
    assert_eq!(authenticate(&app.copier(1), card).await, None);
}

/// Runs `kofu events apply -` on the test database with `input` on stdin.
fn events_cli(app: &TestApp, input: &str) -> (bool, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kofu"))
        .args(["events", "apply", "-"])
        .env("DATABASE_URL", app.database_url())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), String::from_utf8(out.stdout).unwrap())
}

#[tokio::test]
async fn the_events_command_applies_json_lines_idempotently() {
    let app = TestApp::spawn().await;
    let card = app.pki.card("card-rsa-1");
    let lines = format!(
        "{}\n\n{}\n",
        json!({"event_id": "cli-1", "kind": "revoked", "serial": "7f20", "reason": "superseded"}),
        json!({"event_id": "cli-2", "kind": "suspended", "serial": serial_hex(card)}),
    );
    let (ok, out) = events_cli(&app, &lines);
    assert!(ok, "{out}");
    assert_eq!(out.matches(r#""outcome":"applied""#).count(), 2, "{out}");
    assert_eq!(
        authenticate(&app.copier(1), card).await.as_deref(),
        Some("card_suspended")
    );

    let (ok, out) = events_cli(&app, &lines);
    assert!(ok, "{out}");
    assert_eq!(out.matches(r#""outcome":"duplicate""#).count(), 2, "{out}");

    let (ok, out) = events_cli(
        &app,
        &format!(
            "{}\n",
            json!({"event_id": "cli-3", "kind": "renewed", "serial": "7f21", "new_serial": "7f22"})
        ),
    );
    assert!(!ok);
    assert!(out.contains(r#""error":"serial_not_linked""#), "{out}");
    let (ok, _) = events_cli(&app, "{not json}\n");
    assert!(!ok);
}
