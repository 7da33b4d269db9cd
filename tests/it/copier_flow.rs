//! The happy paths: a resident prints their residence certificate at a copier.

use kofu::devkit::sim::OrderSpec;
use kofu::gateway::registry::ResidenceOptions;
use uuid::Uuid;

use crate::harness::{ServeProcess, TestApp};

async fn order_row(app: &TestApp, order_id: Uuid) -> (String, serde_json::Value, i32) {
    let row = app
        .db()
        .await
        .query_one(
            "SELECT state, snapshot, amount_yen FROM orders WHERE id = $1",
            &[&order_id],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1), row.get(2))
}

fn member_names(snapshot: &serde_json::Value) -> Vec<String> {
    snapshot["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn rsa_card_prints_its_holders_residence_certificate() {
    let app = TestApp::spawn().await;
    let card = app.pki.card("card-rsa-1");
    let issued = app
        .copier(1)
        .issue(card, &OrderSpec::default(), "ja")
        .await
        .unwrap();

    assert!(issued.pdf.starts_with(b"%PDF-"));
    assert_eq!(issued.page_count, 1);
    assert_eq!(issued.ack.amount_yen, 200);
    assert!(issued.ack.ticket >= 1);
    assert_eq!(
        issued.document_number,
        format!("KF-139998-{:09}", issued.ack.ticket)
    );
    let item = &issued.menu["items"][0];
    assert_eq!(item["kind"], "residence_certificate");
    assert_eq!(item["name"], "住民票の写し");
    assert_eq!(item["available"], true);
    assert_eq!(item["fee_yen"], 200);

    let (state, snapshot, amount) = order_row(&app, issued.ack.order_id).await;
    assert_eq!(state, "printed");
    assert_eq!(amount, 200);
    assert_eq!(member_names(&snapshot), vec!["日向　太郎"]);
    assert!(
        snapshot["members"][0]["my_number"].is_null(),
        "My Number only when asked for"
    );
    assert_eq!(
        snapshot["document"]["order_id"],
        issued.ack.order_id.to_string()
    );
}

#[tokio::test]
async fn ecdsa_card_prints_the_whole_household_in_english_menu() {
    let app = TestApp::spawn().await;
    let card = app.pki.card("card-ecdsa-1");
    let spec = OrderSpec {
        options: ResidenceOptions {
            whole_household: true,
            show_householder: true,
            show_domicile: true,
            show_my_number: true,
            ..Default::default()
        },
        copies: 2,
        ..Default::default()
    };
    let issued = app
        .copier(2)
        .issue(card, &spec, "en-US,en;q=0.9")
        .await
        .unwrap();
    assert_eq!(issued.menu["language"], "en");
    assert_eq!(issued.menu["items"][0]["name"], "Certificate of residence");
    assert_eq!(issued.ack.amount_yen, 400, "two copies at 200 yen");

    let (state, snapshot, _) = order_row(&app, issued.ack.order_id).await;
    assert_eq!(state, "printed");
    assert_eq!(
        member_names(&snapshot),
        vec!["日向　太郎", "日向　花子", "日向　一郎"]
    );
    assert_eq!(snapshot["householder"], "日向　太郎");
    assert_eq!(snapshot["members"][1]["relationship"], "妻");
    assert_eq!(snapshot["members"][0]["my_number"], "123456789018");
    assert_eq!(
        snapshot["members"][0]["domicile"]["head_of_register"],
        "日向　太郎"
    );
}

#[tokio::test]
async fn tickets_increase_and_each_copier_gets_its_own_residents_document() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.copier(1), app.copier(2));
    let (card_a, card_b) = (app.pki.card("card-rsa-1"), app.pki.card("card-rsa-2"));
    let spec = OrderSpec::default();
    let (x, y) = tokio::join!(a.issue(card_a, &spec, "ja"), b.issue(card_b, &spec, "ja"));
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_ne!(x.ack.ticket, y.ack.ticket);
    assert_ne!(x.sha256_hex, y.sha256_hex);
    let (_, snap_x, _) = order_row(&app, x.ack.order_id).await;
    let (_, snap_y, _) = order_row(&app, y.ack.order_id).await;
    assert_eq!(member_names(&snap_x), vec!["日向　太郎"]);
    assert_eq!(member_names(&snap_y), vec!["青葉　健"]);
}

#[tokio::test]
async fn an_idempotency_key_retry_returns_the_same_order() {
    let app = TestApp::spawn().await;
    let copier = app.copier(1);
    let session = copier.open_session().await.unwrap();
    copier
        .present_card(&session, app.pki.card("card-rsa-1"), "ja")
        .await
        .unwrap();
    let spec = OrderSpec::default();
    let first = copier
        .place_order(session.session_id, "retry-me", &spec)
        .await
        .unwrap();
    let again = copier
        .place_order(session.session_id, "retry-me", &spec)
        .await
        .unwrap();
    assert_eq!(first.order_id, again.order_id);
    assert_eq!(first.ticket, again.ticket);
    let count: i64 = app.scalar("SELECT count(*) FROM orders", &[]).await;
    assert_eq!(count, 1);

    let other = OrderSpec {
        copies: 3,
        ..spec.clone()
    };
    let err = copier
        .place_order(session.session_id, "retry-me", &other)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("idempotency_key_reused"), "{err}");

    // A retry after the registers changed still answers with the order
    // accepted before the change (the first attempt does not look the key
    // up; its refusal must not reach the copier).
    app.db()
        .await
        .execute(
            "UPDATE residents SET status = 'deceased' WHERE id = (SELECT resident_id FROM orders WHERE id = $1)",
            &[&first.order_id],
        )
        .await
        .unwrap();
    let late = copier
        .place_order(session.session_id, "retry-me", &spec)
        .await
        .unwrap();
    assert_eq!(late.order_id, first.order_id);
    let ticket_counter: i64 = app.scalar("SELECT last FROM ticket_counter", &[]).await;
    assert_eq!(ticket_counter, first.ticket, "no ticket spent by retries");
}

#[tokio::test]
async fn a_failed_print_voids_and_refunds_and_cannot_be_printed_afterwards() {
    let app = TestApp::spawn().await;
    let copier = app.copier(1);
    let session = copier.open_session().await.unwrap();
    copier
        .present_card(&session, app.pki.card("card-rsa-1"), "ja")
        .await
        .unwrap();
    let ack = copier
        .place_order(session.session_id, "k1", &OrderSpec::default())
        .await
        .unwrap();
    let doc = copier
        .fetch_document(session.session_id, ack.order_id)
        .await
        .unwrap();
    assert_eq!(doc.status, 200);
    let failed = copier.report_failed(ack.order_id).await.unwrap();
    assert_eq!(failed.status, 200);
    let printed = copier.confirm_printed(ack.order_id).await.unwrap();
    assert_eq!(printed.status, 409);
    assert_eq!(printed.problem_code().as_deref(), Some("order_voided"));
    let again = copier
        .fetch_document(session.session_id, ack.order_id)
        .await
        .unwrap();
    assert_eq!(again.problem_code().as_deref(), Some("order_voided"));
    let row = app
        .db()
        .await
        .query_one(
            "SELECT state, refund_yen, printed_at IS NULL FROM orders WHERE id = $1",
            &[&ack.order_id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, &str>(0), "voided");
    assert_eq!(row.get::<_, Option<i32>>(1), Some(200));
    assert!(row.get::<_, bool>(2));
}

#[tokio::test]
async fn health_openapi_and_metrics_are_served() {
    let app = TestApp::spawn().await;
    let anon = app.anonymous();
    let health = anon
        .call(hyper::Method::GET, "/healthz", &[], None)
        .await
        .unwrap();
    assert_eq!(health.status, 200);
    let ready = anon
        .call(hyper::Method::GET, "/readyz", &[], None)
        .await
        .unwrap();
    assert_eq!(ready.status, 200);
    let id = ready
        .header("kofu-request-id")
        .expect("every answer names its request");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    let again = anon
        .call(hyper::Method::GET, "/healthz", &[], None)
        .await
        .unwrap();
    assert_ne!(
        again.header("kofu-request-id"),
        Some(id),
        "one id per request"
    );
    let health: serde_json::Value = serde_json::from_slice(&ready.body).unwrap();
    assert_eq!(health["ready"], true, "{health}");
    assert_eq!(health["state"], "healthy", "{health}");
    let healthy = |name: &str| (name.to_owned(), "healthy".to_owned());
    assert_eq!(
        crate::harness::check_states(&health),
        [
            healthy("database"),
            healthy("revocation_data"),
            healthy("render_workers")
        ]
    );
    assert!(
        health["checks"][2]["detail"]
            .as_str()
            .unwrap()
            .ends_with("running"),
        "{health}"
    );
    let spec = anon
        .call(hyper::Method::GET, "/v1/openapi.yaml", &[], None)
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&spec.body).starts_with("openapi: 3.1.0"));

    app.copier(1)
        .issue(app.pki.card("card-rsa-1"), &OrderSpec::default(), "ja")
        .await
        .unwrap();
    let ops = tokio::net::TcpStream::connect(app.gateway.ops_addr)
        .await
        .unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(ops))
            .await
            .unwrap();
    tokio::spawn(conn);
    let req = hyper::Request::get("/metrics")
        .header("host", "ops")
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .unwrap();
    let res = sender.send_request(req).await.unwrap();
    use http_body_util::BodyExt;
    let body =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(body.contains("kofu_orders_printed_total"), "{body}");
    assert!(!body.contains("日向"), "no personal data in metrics");
}

/// Waits until the order has been released (its document is stored and it is
/// its turn), so the next fetch goes straight to the delivery checks.
async fn wait_for_release(app: &TestApp, order_id: Uuid) {
    for _ in 0..400 {
        if order_row(app, order_id).await.0 == "released" {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("order was never released");
}

#[tokio::test]
async fn a_stored_document_that_no_longer_matches_its_binding_is_never_delivered() {
    let app = TestApp::spawn().await;
    // Each tampering breaks one link the delivery must re-check.
    let tamperings: [&[&str]; 5] = [
        &["UPDATE orders SET document_sha256 = sha256(document_sha256) WHERE id = $1"],
        &["UPDATE orders SET bound_resident_id = bound_resident_id + 1 WHERE id = $1"],
        &["UPDATE orders SET bound_session_id = gen_random_uuid() WHERE id = $1"],
        &["UPDATE orders SET bound_copier_fingerprint = '\\x00'::bytea WHERE id = $1"],
        // A binding from before 0015 lives in `documents`; tampered there too.
        &[
            MOVE_BINDING_TO_DOCUMENTS,
            "UPDATE documents SET resident_id = resident_id + 1 WHERE order_id = $1",
        ],
    ];
    let copier = app.copier(1);
    for (i, steps) in tamperings.iter().enumerate() {
        let (session, order_id) = released_order(&app, &format!("tamper-{i}")).await;
        for step in *steps {
            let changed = app.db().await.execute(*step, &[&order_id]).await.unwrap();
            assert_eq!(changed, 1, "{step}");
        }
        let tamper = steps.last().expect("one step at least");

        let fetched = copier
            .fetch_document(session.session_id, order_id)
            .await
            .unwrap();
        assert_eq!(fetched.status, 500, "{tamper}");
        assert!(!fetched.body.starts_with(b"%PDF"), "{tamper}: bytes left");
        let printed = copier.confirm_printed(order_id).await.unwrap();
        assert_ne!(
            printed.status, 200,
            "{tamper}: a refused document was confirmed printed"
        );
        assert_ne!(order_row(&app, order_id).await.0, "printed", "{tamper}");
    }
}

#[tokio::test]
async fn concurrent_retries_with_one_key_make_one_order_and_leave_no_ticket_gap() {
    let app = TestApp::spawn().await;
    let copier = app.copier(1);
    let session = copier.open_session().await.unwrap();
    copier
        .present_card(&session, app.pki.card("card-rsa-1"), "ja")
        .await
        .unwrap();
    let spec = OrderSpec::default();
    let place = || copier.place_order(session.session_id, "same-key", &spec);
    // Polled together on one task: the requests go out at once.
    let (a, b, c, d, e, f) = tokio::join!(place(), place(), place(), place(), place(), place());
    let results = [a, b, c, d, e, f].map(|r| r.unwrap());
    let first = &results[0];
    assert!(
        results
            .iter()
            .all(|a| a.order_id == first.order_id && a.ticket == first.ticket)
    );

    // The next order takes the very next ticket, and is issued: nothing holds release back.
    let next = app
        .copier(2)
        .issue(app.pki.card("card-ecdsa-1"), &spec, "ja")
        .await
        .unwrap();
    assert_eq!(next.ack.ticket, first.ticket + 1);
    let orders: i64 = app.scalar("SELECT count(*) FROM orders", &[]).await;
    assert_eq!(orders, 2);
}

/// Turns order `$1`'s binding into one made before `sql/0015`: the same
/// values in a `documents` row, none on the order.
const MOVE_BINDING_TO_DOCUMENTS: &str = "
    WITH moved AS (
        UPDATE orders o SET bound_session_id = NULL, bound_copier_fingerprint = NULL,
                            bound_resident_id = NULL, document_number = NULL,
                            document_sha256 = NULL, page_count = NULL
          FROM orders b WHERE b.id = o.id AND o.id = $1
        RETURNING o.id, b.bound_session_id, b.bound_copier_fingerprint, b.bound_resident_id,
                  b.document_number, b.document_sha256, b.page_count)
    INSERT INTO documents (order_id, session_id, copier_fingerprint, resident_id, document_number, sha256, page_count)
    SELECT * FROM moved";

/// Places an order through the in-process gateway (which renders it and
/// holds its PDF) and waits until it is released.
async fn released_order(app: &TestApp, key: &str) -> (kofu::devkit::sim::OpenedSession, Uuid) {
    let copier = app.copier(1);
    let session = copier.open_session().await.unwrap();
    copier
        .present_card(&session, app.pki.card("card-rsa-1"), "ja")
        .await
        .unwrap();
    let ack = copier
        .place_order(session.session_id, key, &Default::default())
        .await
        .unwrap();
    wait_for_release(app, ack.order_id).await;
    (session, ack.order_id)
}

#[tokio::test]
async fn a_document_fetched_from_another_process_is_rendered_again_and_must_match_its_binding() {
    let app = TestApp::spawn().await;
    let other = ServeProcess::start(&app);
    let bound_hash = |order_id: Uuid| {
        let app = &app;
        async move {
            let row = app
                .db()
                .await
                .query_one(
                    "SELECT o.document_sha256, NOT EXISTS (SELECT 1 FROM documents d WHERE d.order_id = o.id)
                       FROM orders o WHERE o.id = $1",
                    &[&order_id],
                )
                .await
                .unwrap();
            assert!(row.get::<_, bool>(1), "the bytes are not stored");
            row.get::<_, Vec<u8>>(0)
        }
    };

    // The other process does not hold the PDF: it renders the snapshot again
    // and the bytes match the hash bound at the first render. (One render
    // here first, so the two processes are not at the same point of any
    // per-process state a renderer might keep, like a PDF writer's object-id counter.)
    released_order(&app, "first").await;
    let (session, order_id) = released_order(&app, "elsewhere").await;
    let fetched = other
        .copier(&app, 1)
        .fetch_document(session.session_id, order_id)
        .await
        .unwrap();
    assert_eq!(fetched.status, 200);
    assert!(fetched.body.starts_with(b"%PDF"));
    let digest = ring::digest::digest(&ring::digest::SHA256, &fetched.body);
    assert_eq!(digest.as_ref(), bound_hash(order_id).await.as_slice());
    assert_eq!(
        other
            .copier(&app, 1)
            .confirm_printed(order_id)
            .await
            .unwrap()
            .status,
        200
    );

    // A snapshot changed after rendering renders to other bytes: refused and voided.
    let (session, order_id) = released_order(&app, "tampered").await;
    let changed = app
        .db()
        .await
        .execute(
            "UPDATE orders SET snapshot = jsonb_set(snapshot, '{address}', '\"東京都千代田区千代田1-1\"') WHERE id = $1",
            &[&order_id],
        )
        .await
        .unwrap();
    assert_eq!(changed, 1);
    let fetched = other
        .copier(&app, 1)
        .fetch_document(session.session_id, order_id)
        .await
        .unwrap();
    assert_eq!(fetched.status, 500);
    assert!(!fetched.body.starts_with(b"%PDF"), "bytes left");
    let row = app
        .db()
        .await
        .query_one(
            "SELECT state, void_reason FROM orders WHERE id = $1",
            &[&order_id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, &str>(0), "voided");
    assert_eq!(row.get::<_, Option<&str>>(1), Some("binding_check_failed"));
}

#[tokio::test]
async fn a_session_opened_on_one_process_is_continued_on_another() {
    // The card step on the other process does not hold the challenge in
    // memory: it spends it in the database first, then verifies.
    let app = TestApp::spawn().await;
    let other = ServeProcess::start(&app);
    let here = app.copier(1);
    let there = other.copier(&app, 1);
    let card = app.pki.card("card-rsa-1");

    let session = here.open_session().await.unwrap();
    there.present_card(&session, card, "ja").await.unwrap();
    match here.present_card(&session, card, "ja").await {
        Err(kofu::devkit::sim::SimError::Refused { code, .. }) => {
            assert_eq!(code, "challenge_already_used", "spent on the other process")
        }
        other => panic!("replay accepted: {other:?}"),
    }
    let ack = here
        .place_order(session.session_id, "k", &Default::default())
        .await
        .unwrap();
    let fetched = there
        .fetch_document(session.session_id, ack.order_id)
        .await
        .unwrap();
    assert_eq!(fetched.status, 200);
    assert!(fetched.body.starts_with(b"%PDF"));
}

/// The `rendered`, `released` and `delivered` updates are heap-only (sql/0012)
/// only while no index of orders, by key or by predicate, names a column
/// they write. An index on any of them would silently put every update back
/// into all the indexes.
#[tokio::test]
async fn no_index_of_orders_names_a_column_the_in_place_updates_write() {
    const WRITTEN_IN_PLACE: &[&str] = &[
        "state",
        "rendered_at",
        "released_at",
        "print_deadline",
        "delivered_at",
        "render_claimed_by",
        "render_claimed_until",
    ];
    let app = TestApp::spawn().await;
    let rows = app
        .db()
        .await
        .query(
            "SELECT a.attname, pg_get_indexdef(i.indexrelid)
               FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum > 0
              WHERE i.indrelid = 'orders'::regclass
                AND (a.attnum = ANY (i.indkey)
                     OR pg_get_expr(i.indpred, i.indrelid) ~ ('\\m' || a.attname || '\\M'))",
            &[],
        )
        .await
        .unwrap();
    let indexed: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert!(
        indexed.iter().any(|(column, _)| column == "ticket"),
        "the query sees the ticket index: {indexed:?}"
    );
    assert!(
        indexed.iter().any(|(column, _)| column == "printed_at"),
        "the query sees predicate columns: {indexed:?}"
    );
    for (column, index) in &indexed {
        assert!(
            !WRITTEN_IN_PLACE.contains(&column.as_str()),
            "{index} names {column}, which an in-place update writes"
        );
    }
}

/// An order bound before `sql/0015` has its binding in a `documents` row and
/// none on the order; it is delivered from that binding, checked the same way.
#[tokio::test]
async fn an_order_bound_in_the_documents_table_before_0015_is_still_delivered() {
    let app = TestApp::spawn().await;
    let (session, order_id) = released_order(&app, "legacy-binding").await;
    let moved = app
        .db()
        .await
        .execute(MOVE_BINDING_TO_DOCUMENTS, &[&order_id])
        .await
        .unwrap();
    assert_eq!(moved, 1);
    let bound: Vec<u8> = app
        .scalar(
            "SELECT sha256 FROM documents WHERE order_id = $1",
            &[&order_id],
        )
        .await;
    let fetched = app
        .copier(1)
        .fetch_document(session.session_id, order_id)
        .await
        .unwrap();
    assert_eq!(fetched.status, 200);
    assert!(fetched.body.starts_with(b"%PDF"));
    assert_eq!(
        fetched.header("kofu-document-sha256"),
        Some(kofu::gateway::http::hex(&bound).as_str())
    );
    assert_eq!(order_row(&app, order_id).await.0, "delivered");
}

/// Twelve languages (DOMAIN.md "Hours, languages, fees"): a resident reads
/// the menu in Vietnamese and prints, and one reading Thai gets the menu and
/// a refusal in Thai; the certificate itself stays Japanese.
#[tokio::test]
async fn a_resident_orders_in_vietnamese_and_another_reads_thai() {
    use kofu::gateway::i18n::{Lang, catalogue};
    let app = TestApp::spawn().await;
    // The municipality does not offer the 附票 at stores.
    app.db()
        .await
        .batch_execute("DELETE FROM fees WHERE kind = 'family_register_addresses'")
        .await
        .unwrap();
    let issued = app
        .copier(1)
        .issue(
            app.pki.card("card-rsa-1"),
            &OrderSpec::default(),
            "vi-VN,vi;q=0.9,en;q=0.5",
        )
        .await
        .unwrap();
    let menu = &issued.menu;
    assert_eq!(menu["language"], "vi");
    assert_eq!(
        menu["items"][0]["name"],
        catalogue::KIND_RESIDENCE_CERTIFICATE.get(Lang::Vi)
    );
    assert_eq!(
        menu["items"][0]["options"][0]["label"],
        catalogue::OPTION_WHOLE_HOUSEHOLD.get(Lang::Vi)
    );
    assert_eq!(menu["items"][6]["reason"]["code"], "kind_not_offered");
    assert_eq!(
        menu["items"][6]["reason"]["message"],
        catalogue::REASON_KIND_NOT_OFFERED.get(Lang::Vi)
    );
    assert_ne!(menu["items"][0]["name"], "Certificate of residence");
    assert!(issued.pdf.starts_with(b"%PDF-"));
    let (state, snapshot, _) = order_row(&app, issued.ack.order_id).await;
    assert_eq!(state, "printed");
    assert_eq!(member_names(&snapshot), vec!["日向　太郎"]);

    let copier = app.copier(2);
    let session = copier.open_session().await.unwrap();
    let menu = copier
        .present_card(&session, app.pki.card("card-rsa-2"), "th")
        .await
        .unwrap();
    assert_eq!(menu["language"], "th");
    assert_eq!(
        menu["items"][3]["name"],
        catalogue::KIND_TAX_CERTIFICATE.get(Lang::Th)
    );
    let refused = copier
        .post_json(
            &format!("/v1/sessions/{}/orders", session.session_id),
            &[
                ("idempotency-key", "th-1".into()),
                ("accept-language", "th".into()),
            ],
            &serde_json::json!({"kind": "residence_certificate", "copies": 11}),
        )
        .await
        .unwrap();
    assert_eq!(refused.problem_code().as_deref(), Some("invalid_options"));
    assert_eq!(refused.header("content-language"), Some("th"));
    let problem: serde_json::Value = serde_json::from_slice(&refused.body).unwrap();
    assert_eq!(problem["detail"], catalogue::INVALID_OPTIONS.get(Lang::Th));
}
