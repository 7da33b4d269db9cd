//! Who may do what (issue 15, point 6): a copier reaches only its own
//! sessions and orders, a municipality's operator only their municipality,
//! the J-LIS operator only certificate events; the public endpoints say
//! nothing about a resident; the operations and administration listeners
//! stay on loopback unless configured otherwise.
//!
//! Rule: each refusal is followed by a look at the database (or a
//! successful call by the rightful owner), so a refusal that changed
//! something anyway fails the test.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hyper::{Method, StatusCode};
use kofu::devkit::demo_registers::{HOUSEHOLDS, MUNICIPALITY_CODE, RESIDENTS};
use kofu::devkit::operator_pki::{
    JLIS_OPERATOR_STEM, MUNICIPALITY_OPERATOR_STEM, NEW_MUNICIPALITY_CODE,
    NEW_MUNICIPALITY_OPERATOR_STEM, TWO_MUNICIPALITIES_OPERATOR_STEM,
};
use kofu::devkit::sim::{CopierClient, OrderSpec, SimResponse};
use serde_json::json;

use crate::catalogue::snapshot;
use crate::harness::{TestApp, serial_hex};

/// A request to try: method, path, headers and body.
type Attempt<B> = (Method, String, Vec<(&'static str, String)>, Option<B>);

async fn call(
    client: &CopierClient,
    method: Method,
    path: &str,
    headers: &[(&str, String)],
    body: Option<&serde_json::Value>,
) -> SimResponse {
    client
        .call(
            method,
            path,
            headers,
            body.map(|b| serde_json::to_vec(b).unwrap()),
        )
        .await
        .unwrap()
}

fn refused(r: &SimResponse, status: u16, code: &str, what: &str) {
    assert_eq!(
        (r.status.as_u16(), r.problem_code().as_deref()),
        (status, Some(code)),
        "{what}"
    );
}

#[tokio::test]
async fn a_copier_can_neither_use_another_copiers_session_nor_read_confirm_or_void_its_order() {
    let app = TestApp::spawn().await;
    let (owner, stranger) = (app.copier(1), app.copier(2));
    let card = app.pki.card("card-rsa-1");
    let session = owner.open_session().await.unwrap();
    let unused = owner.open_session().await.unwrap();
    owner.present_card(&session, card, "ja").await.unwrap();
    let ack = owner
        .place_order(session.session_id, "authz-1", &OrderSpec::default())
        .await
        .unwrap();
    let delivered = owner
        .fetch_document(session.session_id, ack.order_id)
        .await
        .unwrap();
    assert_eq!(delivered.status, StatusCode::OK);
    let before = snapshot(&app, &[]).await;

    // The stranger's own card on the owner's unused session.
    let theirs = app.pki.card("card-ecdsa-1");
    let r = stranger.present_card(&unused, theirs, "ja").await;
    assert!(
        matches!(&r, Err(kofu::devkit::sim::SimError::Refused { status, code, .. })
            if status.as_u16() == 403 && code == "session_belongs_to_another_copier"),
        "card on another copier's session: {r:?}"
    );
    let order = json!({"kind": "residence_certificate"});
    let sid = session.session_id;
    let r = call(
        &stranger,
        Method::POST,
        &format!("/v1/sessions/{sid}/orders"),
        &[("idempotency-key", "authz-stranger".into())],
        Some(&order),
    )
    .await;
    refused(
        &r,
        403,
        "session_belongs_to_another_copier",
        "order on another copier's session",
    );
    let r = call(
        &stranger,
        Method::POST,
        &format!("/v1/sessions/{sid}/orders"),
        &[("idempotency-key", "authz-1".into())],
        Some(&order),
    )
    .await;
    refused(
        &r,
        403,
        "session_belongs_to_another_copier",
        "replaying the owner's key",
    );
    let r = call(&stranger, Method::POST, &format!("/v1/sessions/{sid}/domicile-registrations"), &[],
        Some(&json!({"municipality_code": MUNICIPALITY_CODE, "domicile": "x", "head_of_register": "y"}))).await;
    refused(
        &r,
        403,
        "session_belongs_to_another_copier",
        "domicile registration on another copier's session",
    );
    let oid = ack.order_id;
    let r = call(
        &stranger,
        Method::GET,
        &format!("/v1/orders/{oid}/document"),
        &[(kofu::gateway::copier::SESSION_HEADER, sid.to_string())],
        None,
    )
    .await;
    refused(
        &r,
        403,
        "order_belongs_to_another_copier",
        "reading another copier's document",
    );
    assert!(!r.body.starts_with(b"%PDF"), "no PDF in a refusal");
    let r = stranger.confirm_printed(oid).await.unwrap();
    refused(
        &r,
        403,
        "order_belongs_to_another_copier",
        "confirming another copier's print",
    );
    let r = stranger.report_failed(oid).await.unwrap();
    refused(
        &r,
        403,
        "order_belongs_to_another_copier",
        "voiding another copier's order",
    );

    // Nothing moved (the owner's unused session lost no challenge either) …
    assert_eq!(
        snapshot(&app, &[]).await,
        before,
        "a stranger's calls changed the database"
    );
    // … and the owner's order is still theirs to confirm.
    let r = owner.confirm_printed(oid).await.unwrap();
    assert_eq!(r.status, StatusCode::OK, "the owner confirms the print");
    owner
        .present_card(&unused, card, "ja")
        .await
        .expect("the owner's unused session still takes a card");
}

#[tokio::test]
async fn a_municipality_operator_can_neither_read_nor_change_another_municipality() {
    let app = TestApp::spawn().await;
    // A document of the demo municipality, to try to withdraw.
    let issued = app
        .copier(1)
        .issue(app.pki.card("card-rsa-1"), &OrderSpec::default(), "ja")
        .await
        .unwrap();
    let code: String = app
        .scalar(
            "SELECT verification_code FROM orders WHERE id = $1",
            &[&issued.ack.order_id],
        )
        .await;
    let kid: String = app
        .scalar(
            "SELECT kid FROM signing_keys WHERE municipality_code = $1 LIMIT 1",
            &[&MUNICIPALITY_CODE],
        )
        .await;
    let before = snapshot(&app, &[]).await;
    let m = MUNICIPALITY_CODE;
    let settings = serde_json::to_value(kofu::devkit::demo_registers::settings()).unwrap();
    let csv = ("content-type", "text/csv".to_owned());
    let ndjson = ("content-type", "application/x-ndjson".to_owned());
    let attempts: Vec<Attempt<serde_json::Value>> = vec![
        (
            Method::GET,
            format!("/v1/admin/municipalities/{m}"),
            vec![],
            None,
        ),
        (
            Method::GET,
            format!("/v1/admin/municipalities/{m}?version=1"),
            vec![],
            None,
        ),
        (
            Method::POST,
            format!("/v1/admin/municipalities/{m}"),
            vec![],
            Some(settings.clone()),
        ),
        (
            Method::PUT,
            format!("/v1/admin/municipalities/{m}/settings"),
            vec![],
            Some(settings),
        ),
        (
            Method::POST,
            format!("/v1/admin/municipalities/{m}/imports?register=residents"),
            vec![csv],
            None,
        ),
        (
            Method::POST,
            format!("/v1/admin/municipalities/{m}/changes"),
            vec![ndjson],
            None,
        ),
        (
            Method::GET,
            format!("/v1/admin/municipalities/{m}/settlement"),
            vec![],
            None,
        ),
        (
            Method::GET,
            format!("/v1/admin/municipalities/{m}/domicile-registrations"),
            vec![],
            None,
        ),
        (
            Method::GET,
            format!("/v1/admin/municipalities/{m}/check"),
            vec![],
            None,
        ),
        (
            Method::POST,
            format!("/v1/admin/municipalities/{m}/go-live"),
            vec![],
            None,
        ),
        (
            Method::GET,
            format!("/v1/admin/municipalities/{m}/signing-keys"),
            vec![],
            None,
        ),
        (
            Method::POST,
            format!("/v1/admin/municipalities/{m}/signing-keys"),
            vec![],
            None,
        ),
        (
            Method::POST,
            format!("/v1/admin/signing-keys/{kid}/revoke"),
            vec![],
            None,
        ),
        (
            Method::POST,
            format!("/v1/admin/documents/{code}/withdraw"),
            vec![],
            None,
        ),
    ];
    for stem in [
        NEW_MUNICIPALITY_OPERATOR_STEM,
        TWO_MUNICIPALITIES_OPERATOR_STEM,
    ] {
        let operator = app.admin_client(stem);
        for (method, path, headers, body) in &attempts {
            let r = call(&operator, method.clone(), path, headers, body.as_ref()).await;
            refused(
                &r,
                403,
                "operator_role_required",
                &format!("{stem}: {method} {path}"),
            );
        }
    }
    assert_eq!(
        snapshot(&app, &[]).await,
        before,
        "another municipality's operator changed something"
    );
    // The same reads are the demo municipality's own operator's to make.
    let own = app.admin_client(MUNICIPALITY_OPERATOR_STEM);
    let r = call(
        &own,
        Method::GET,
        &format!("/v1/admin/municipalities/{m}"),
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = call(
        &own,
        Method::GET,
        &format!("/v1/admin/municipalities/{m}/signing-keys"),
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn the_jlis_operator_cannot_touch_registers_and_a_municipality_cannot_send_certificate_events()
 {
    let app = TestApp::spawn().await;
    let before = snapshot(&app, &[]).await;
    let jlis = app.admin_client(JLIS_OPERATOR_STEM);
    let m = MUNICIPALITY_CODE;
    let row = "household_no,address,resident_code,register_order,name,name_kana,birth_date,sex,relationship,is_householder,became_resident_on,my_number\n\
               H0009,東京都ひなた市一丁目1番,10000000061,1,偽　名,にせ　な,1990-01-01,male,世帯主,true,2020-01-01,\n";
    let attempts: Vec<Attempt<Vec<u8>>> = vec![
        (
            Method::POST,
            format!("/v1/admin/municipalities/{m}/imports?register=residents"),
            vec![("content-type", "text/csv".into())],
            Some(row.as_bytes().to_vec()),
        ),
        (
            Method::POST,
            format!("/v1/admin/municipalities/{m}/changes"),
            vec![("content-type", "application/x-ndjson".into())],
            Some(b"{\"change\": \"death\"}\n".to_vec()),
        ),
        (
            Method::PUT,
            format!("/v1/admin/municipalities/{m}/settings"),
            vec![],
            Some(serde_json::to_vec(&kofu::devkit::demo_registers::settings()).unwrap()),
        ),
        (
            Method::POST,
            format!("/v1/admin/municipalities/{NEW_MUNICIPALITY_CODE}"),
            vec![],
            Some(serde_json::to_vec(&kofu::devkit::demo_registers::settings()).unwrap()),
        ),
        (
            Method::GET,
            format!("/v1/admin/municipalities/{m}"),
            vec![],
            None,
        ),
        (
            Method::GET,
            format!("/v1/admin/municipalities/{m}/domicile-registrations"),
            vec![],
            None,
        ),
        (
            Method::POST,
            format!(
                "/v1/admin/domicile-registrations/{}/approve",
                uuid::Uuid::nil()
            ),
            vec![],
            Some(b"{\"position\": 1}".to_vec()),
        ),
        (
            Method::POST,
            format!("/v1/admin/municipalities/{m}/go-live"),
            vec![],
            None,
        ),
    ];
    for (method, path, headers, body) in attempts {
        let r = jlis
            .call(method.clone(), &path, &headers, body)
            .await
            .unwrap();
        refused(
            &r,
            403,
            "operator_role_required",
            &format!("J-LIS: {method} {path}"),
        );
    }
    // A municipality's operator may not link, suspend or revoke a card.
    let card = app.pki.card("card-rsa-1");
    let event = json!({"event_id": "authz-revoke", "kind": "revoked", "serial": serial_hex(card), "reason": "keyCompromise"});
    for stem in [MUNICIPALITY_OPERATOR_STEM, TWO_MUNICIPALITIES_OPERATOR_STEM] {
        let r = app
            .admin_client(stem)
            .post_json("/v1/admin/certificate-events", &[], &event)
            .await
            .unwrap();
        refused(
            &r,
            403,
            "operator_role_required",
            &format!("{stem}: certificate event"),
        );
    }
    // A copier certificate is no operator's (the administration listener trusts the operator CA only).
    let copier_there = CopierClient::new(
        &format!("https://{}", app.gateway.admin_addr.unwrap()),
        &app.pki.dir.join("store-ca.pem"),
        None,
    )
    .unwrap();
    let r = copier_there
        .post_json("/v1/admin/certificate-events", &[], &event)
        .await;
    assert!(
        r.as_ref().map_or(true, |r| r.status.as_u16() == 403),
        "an anonymous client is refused: {r:?}"
    );
    assert_eq!(
        snapshot(&app, &[]).await,
        before,
        "a refused operator changed something"
    );
    // The card still works: nothing was revoked.
    app.copier(1)
        .issue(card, &OrderSpec::default(), "ja")
        .await
        .expect("the card is not revoked");
}

/// Everything that would say who a demo resident is.
fn personal_data(app: &TestApp) -> Vec<String> {
    let mut said = Vec::new();
    for r in RESIDENTS {
        said.push(r.name.to_owned());
        said.push(r.name.replace('\u{3000}', ""));
        said.push(r.name_kana.to_owned());
        said.push(r.resident_code.to_owned());
        said.extend(r.my_number.map(str::to_owned));
        said.extend(r.domicile.map(str::to_owned));
    }
    for (_, address) in HOUSEHOLDS {
        said.push((*address).to_owned());
    }
    for (label, _) in kofu::devkit::demo_registers::CARD_HOLDERS {
        let hex = serial_hex(app.pki.card(label));
        said.push(hex.to_lowercase());
        said.push(hex.to_uppercase());
    }
    said
}

fn reveals(body: &[u8], said: &[String]) -> Vec<String> {
    let text = String::from_utf8_lossy(body);
    said.iter()
        .filter(|s| text.contains(s.as_str()))
        .cloned()
        .collect()
}

#[tokio::test]
async fn the_public_endpoints_reveal_nothing_about_a_resident() {
    let app = TestApp::spawn().await;
    let issued = app
        .copier(1)
        .issue(
            app.pki.card("card-rsa-1"),
            &OrderSpec {
                options: kofu::gateway::registry::ResidenceOptions {
                    whole_household: true,
                    ..Default::default()
                },
                ..Default::default()
            },
            "ja",
        )
        .await
        .unwrap();
    let row = app
        .db()
        .await
        .query_one(
            "SELECT verification_code, signed_digest FROM orders WHERE id = $1",
            &[&issued.ack.order_id],
        )
        .await
        .unwrap();
    let (code, digest): (String, Vec<u8>) = (row.get(0), row.get(1));
    let digest = URL_SAFE_NO_PAD.encode(digest);
    let said = personal_data(&app);
    let public = app.anonymous();
    let get = |path: String| {
        let public = public.clone();
        async move { call(&public, Method::GET, &path, &[], None).await }
    };

    for path in [
        "/healthz".to_owned(),
        "/readyz".to_owned(),
        "/v1/keys".to_owned(),
        "/v1/openapi.yaml".to_owned(),
        format!("/v1/verify/{code}"),
        format!(
            "/v1/verify/{code}?digest={}",
            URL_SAFE_NO_PAD.encode([7u8; 32])
        ),
        format!("/verify/{code}"),
        format!("/verify/{code}?d={}", URL_SAFE_NO_PAD.encode([7u8; 32])),
        format!("/verify?code={code}"),
    ] {
        let r = get(path.clone()).await;
        assert!(
            r.status.is_success() || r.status.is_redirection(),
            "{path}: {}",
            r.status
        );
        assert_eq!(
            reveals(&r.body, &said),
            Vec::<String>::new(),
            "{path} reveals a resident"
        );
    }
    let r = get(format!("/v1/verify/{code}")).await;
    let answer: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert!(
        answer["content"].is_null(),
        "no content without the digest: {answer}"
    );
    assert_eq!(answer["digest_matches"], serde_json::Value::Null);

    // The test can fail: with the document's digest the content is there.
    let r = get(format!("/v1/verify/{code}?digest={digest}")).await;
    assert!(
        !reveals(&r.body, &said).is_empty(),
        "the holder of the digest sees the printed content"
    );
}

#[test]
fn the_operations_and_administration_listeners_are_on_loopback_unless_configured() {
    let config = kofu::gateway::config::Config::default();
    assert!(
        config.ops_listen.ip().is_loopback(),
        "ops_listen {}",
        config.ops_listen
    );
    assert!(
        config.admin_listen.ip().is_loopback(),
        "admin_listen {}",
        config.admin_listen
    );
    let readme = include_str!("../../README.md");
    for line in [
        format!("| `ops_listen` | `{}` |", config.ops_listen),
        format!("| `admin_listen` | `{}` |", config.admin_listen),
    ] {
        assert!(
            readme.contains(&line),
            "the README's Configuration table lacks {line:?}"
        );
    }
    let operations = readme
        .split("\n## Operations")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("the README has an Operations section");
    assert!(
        operations.contains("loopback") && operations.contains("`ops_listen`"),
        "the Operations section says where the operations listener listens"
    );
}
