//! Incident replays (DOMAIN.md "Why strict arrival order"). Each asserts that
//! the right person's document, and only it, reaches each copier.

use std::time::Duration;

use kofu::devkit::sim::{CopierClient, Issued, OrderSpec, SimError};
use kofu::gateway::registry::ResidenceOptions;
use uuid::Uuid;

use crate::harness::{ServeProcess, TestApp, page_texts};

/// The resident names in an order's snapshot, and the order's delivered
/// document hash as stored.
async fn bound(app: &TestApp, order_id: Uuid) -> (Vec<String>, String, Vec<u8>) {
    let row = app
        .db()
        .await
        .query_one(
            "SELECT snapshot, snapshot->>'address', document_sha256 FROM orders WHERE id = $1 AND document_sha256 IS NOT NULL",
            &[&order_id],
        )
        .await
        .unwrap();
    let snapshot: serde_json::Value = row.get(0);
    let names = snapshot["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect();
    (names, row.get(1), row.get(2))
}

/// The document a copier received is the one stored for its order, lists
/// exactly `names`, and names its order on every page.
async fn assert_own_document(app: &TestApp, issued: &Issued, names: &[&str]) {
    let (stored_names, _, sha) = bound(app, issued.ack.order_id).await;
    assert_eq!(stored_names, names);
    assert_eq!(
        kofu::gateway::http::hex(&sha),
        issued.sha256_hex,
        "delivered bytes are the stored document"
    );
    let pages = page_texts(&issued.pdf);
    assert_eq!(pages.len() as u32, issued.page_count);
    for page in &pages {
        assert!(
            page.contains(&issued.document_number),
            "page without its document number"
        );
        assert!(
            page.contains(&issued.ack.order_id.to_string()),
            "page without its order id"
        );
    }
    let all = pages.concat();
    for name in names {
        assert!(all.contains(name), "{name} missing from the PDF");
    }
    assert_own_signature(app, issued).await;
}

/// Every page carries its own order's verification code, printed and in
/// a QR code whose digest is the one bound to that order: no page verifies
/// as another resident's document.
async fn assert_own_signature(app: &TestApp, issued: &Issued) {
    let row = app
        .db()
        .await
        .query_one(
            "SELECT verification_code, signed_digest FROM orders WHERE id = $1",
            &[&issued.ack.order_id],
        )
        .await
        .unwrap();
    let code = kofu::gateway::signing::VerificationCode::parse(row.get(0))
        .unwrap()
        .to_string();
    let digest: Vec<u8> = row.get(1);
    let read = kofu::gateway::render::reader::read(&issued.pdf).unwrap();
    assert_eq!(read.qr.len() as u32, issued.page_count);
    for (page, qr) in read.pages.iter().zip(&read.qr) {
        assert!(
            page.iter().any(|t| t.contains(&code)),
            "page without its code"
        );
        let payload =
            kofu::gateway::render::signing::QrPayload::parse(qr.as_deref().expect("a QR code"))
                .unwrap();
        assert_eq!(payload.code, code, "a QR code of another order");
        assert_eq!(
            payload.digest.as_slice(),
            digest,
            "a digest of another order"
        );
    }
}

/// Yokohama: under load a print wait timed out, and the next applicant's file
/// was printed. Here a render stalls past its deadline: that order is voided
/// as a whole, its copier is told, and the next applicant's document is held
/// back until then and goes only to its own copier.
#[tokio::test]
async fn yokohama_a_timed_out_order_is_voided_and_never_releases_a_neighbours_document() {
    let app = TestApp::spawn_with(|c| {
        c.render_deadline_ms = 400;
        c.test_hooks = true;
    })
    .await;
    let (a, b) = (app.copier(1), app.copier(2));
    let sa = a.open_session().await.unwrap();
    a.present_card(&sa, app.pki.card("card-rsa-1"), "ja")
        .await
        .unwrap();
    let sb = b.open_session().await.unwrap();
    b.present_card(&sb, app.pki.card("card-rsa-2"), "ja")
        .await
        .unwrap();

    app.render_stall().set_delay_ms(1_500);
    let ack_a = a
        .place_order(sa.session_id, "a", &OrderSpec::default())
        .await
        .unwrap();
    // Wait until a render worker has claimed A (it renews A's lease as it
    // starts, then reads the delay), and only then make renders fast again.
    wait_for_claim(&app, ack_a.order_id).await;
    app.render_stall().set_delay_ms(0);
    let ack_b = b
        .place_order(sb.session_id, "b", &OrderSpec::default())
        .await
        .unwrap();
    assert!(ack_b.ticket > ack_a.ticket);

    // B's document waits for A's fate; A is voided at its deadline; then B gets its own.
    let doc_b = b
        .fetch_document(sb.session_id, ack_b.order_id)
        .await
        .unwrap();
    assert_eq!(doc_b.status, 200);
    let doc_a = a
        .fetch_document(sa.session_id, ack_a.order_id)
        .await
        .unwrap();
    assert_eq!(
        doc_a.problem_code().as_deref(),
        Some("order_voided"),
        "A is told its order is void"
    );
    let b_takes_a = b
        .fetch_document(sb.session_id, ack_a.order_id)
        .await
        .unwrap();
    assert_eq!(
        b_takes_a.problem_code().as_deref(),
        Some("order_belongs_to_another_copier")
    );

    let row = app
        .db()
        .await
        .query_one(
            "SELECT a.void_reason, a.voided_at <= b.released_at, a.refund_yen
               FROM orders a, orders b WHERE a.id = $1 AND b.id = $2",
            &[&ack_a.order_id, &ack_b.order_id],
        )
        .await
        .unwrap();
    assert_eq!(
        row.get::<_, Option<&str>>(0),
        Some("render_deadline_missed")
    );
    assert!(
        row.get::<_, bool>(1),
        "B was released only after A was voided"
    );
    assert_eq!(row.get::<_, Option<i32>>(2), Some(200));
    let texts = page_texts(&doc_b.body).concat();
    assert!(
        texts.contains("青葉　健") && !texts.contains("日向　太郎"),
        "B's copier got B's resident only"
    );
}

/// Yokohama, the print side: a released document not confirmed in time is
/// voided; a late confirmation is refused and nothing else is handed out.
#[tokio::test]
async fn yokohama_a_print_that_misses_its_deadline_is_voided_and_refunded() {
    let app = TestApp::spawn_with(|c| c.print_deadline_ms = 1_000).await;
    let a = app.copier(1);
    let s = a.open_session().await.unwrap();
    a.present_card(&s, app.pki.card("card-rsa-1"), "ja")
        .await
        .unwrap();
    let ack = a
        .place_order(s.session_id, "k", &OrderSpec::default())
        .await
        .unwrap();
    let doc = a.fetch_document(s.session_id, ack.order_id).await.unwrap();
    assert_eq!(doc.status, 200);
    tokio::time::sleep(Duration::from_millis(3_000)).await; // deadline + a sweep
    let late = a.confirm_printed(ack.order_id).await.unwrap();
    assert_eq!(late.problem_code().as_deref(), Some("order_voided"));
    let reason: Option<String> = app
        .db()
        .await
        .query_one(
            "SELECT void_reason FROM orders WHERE id = $1",
            &[&ack.order_id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(reason.as_deref(), Some("print_deadline_missed"));
}

/// Kawasaki: two stores submitted within one second and the later request
/// overwrote the earlier. Here two stores submit many at once.
#[tokio::test]
async fn kawasaki_two_stores_submitting_in_the_same_second_each_get_their_own() {
    let app = TestApp::spawn().await;
    let stores = [app.copier(1), app.copier(2)];
    let results = issue_at_once(&app, 12, |i| stores[i % 2].clone()).await;
    let mut tickets: Vec<i64> = results.iter().map(|(i, _)| i.ack.ticket).collect();
    tickets.sort_unstable();
    tickets.dedup();
    assert_eq!(tickets.len(), 12, "every order got its own ticket");
    for (issued, name) in &results {
        assert_own_document(&app, issued, &[name]).await;
    }
}

/// Tokushima: page 2 of a 3-page family register belonged to someone else.
/// Here a 7-person household spans two pages, each carrying the same identity.
#[tokio::test]
async fn tokushima_every_page_of_a_multi_page_document_belongs_to_the_same_order() {
    let app = TestApp::spawn().await;
    let db = app.db().await;
    for n in 4..=7i32 {
        db.execute(
            "INSERT INTO residents (resident_code, municipality_code, household_id, register_order, name, name_kana,
                                    birth_date, sex, relationship, became_resident_on)
             SELECT $1, '139998', household_id, $2, $3, 'ひなた', '2016-01-01', 'female', '子', '2016-01-01'
               FROM residents WHERE resident_code = '10000000011'",
            &[&format!("1000000009{n}"), &n, &format!("日向　{}子", ["", "", "", "", "四", "五", "六", "七"][n as usize])],
        )
        .await
        .unwrap();
    }
    let spec = OrderSpec {
        options: ResidenceOptions {
            whole_household: true,
            ..Default::default()
        },
        copies: 1,
        ..Default::default()
    };
    let issued = app
        .copier(1)
        .issue(app.pki.card("card-rsa-1"), &spec, "ja")
        .await
        .unwrap();
    assert_eq!(issued.page_count, 2);
    assert_own_document(
        &app,
        &issued,
        &[
            "日向　太郎",
            "日向　花子",
            "日向　一郎",
            "日向　四子",
            "日向　五子",
            "日向　六子",
            "日向　七子",
        ],
    )
    .await;
}

/// Adachi: a register sync ran during issuance and mixed records. Here a sync
/// rewrites the whole household again and again while certificates are
/// issued; every document shows one version of it, never a mix.
#[tokio::test]
async fn adachi_a_register_sync_during_issuance_never_mixes_records() {
    let app = TestApp::spawn().await;
    let sync_pool = app.pool.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop_sync = stop.clone();
    let sync = tokio::spawn(async move {
        let mut version = 0u32;
        while !stop_sync.load(std::sync::atomic::Ordering::Relaxed) {
            version += 1;
            let mut db = sync_pool.get().await.unwrap();
            let tx = db.transaction().await.unwrap();
            tx.execute(
                "UPDATE households SET address = $1 WHERE household_no = 'H0001'",
                &[&format!("東京都ひなた市日向町{version}番")],
            )
            .await
            .unwrap();
            tokio::time::sleep(Duration::from_millis(3)).await; // a sync takes a while
            tx.execute(
                "UPDATE residents SET name_kana = $1 WHERE household_id = (SELECT id FROM households WHERE household_no = 'H0001')",
                &[&format!("ひなた{version}")],
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
        }
        version
    });
    let spec = OrderSpec {
        options: ResidenceOptions {
            whole_household: true,
            ..Default::default()
        },
        copies: 1,
        ..Default::default()
    };
    let copier = app.copier(1);
    for _ in 0..15 {
        let issued = copier
            .issue(app.pki.card("card-ecdsa-1"), &spec, "ja")
            .await
            .unwrap();
        let snapshot: serde_json::Value = app
            .db()
            .await
            .query_one(
                "SELECT snapshot FROM orders WHERE id = $1",
                &[&issued.ack.order_id],
            )
            .await
            .unwrap()
            .get(0);
        let address = snapshot["address"].as_str().unwrap();
        let version = address
            .trim_start_matches("東京都ひなた市日向町")
            .trim_end_matches('番');
        for member in snapshot["members"].as_array().unwrap() {
            let kana = member["name_kana"].as_str().unwrap();
            if version.parse::<u32>().is_ok() {
                assert_eq!(
                    kana,
                    format!("ひなた{version}"),
                    "address and names from different syncs"
                );
            }
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(
        sync.await.unwrap() > 3,
        "the sync really ran during issuance"
    );
}

/// Itano: an address change reached the issuing server late and the old
/// address was printed. Here the change commits just before the order.
#[tokio::test]
async fn itano_an_address_change_committed_just_before_the_order_is_printed() {
    let app = TestApp::spawn().await;
    let copier = app.copier(1);
    let s = copier.open_session().await.unwrap();
    copier
        .present_card(&s, app.pki.card("card-rsa-2"), "ja")
        .await
        .unwrap();
    move_household(&app, "H0002", "東京都ひなた市新町九丁目9番9号").await;
    let ack = copier
        .place_order(s.session_id, "k", &OrderSpec::default())
        .await
        .unwrap();
    let text = document_text(&copier, s.session_id, ack.order_id).await;
    assert!(
        text.contains("東京都ひなた市新町九丁目9番9号"),
        "the new address is printed"
    );
    assert!(!text.contains("青葉台"), "the old address is not");
}

/// A death recorded just before the order: no certificate for the deceased,
/// and the household certificate no longer lists them.
#[tokio::test]
async fn a_death_recorded_just_before_the_order_is_honoured() {
    let app = TestApp::spawn().await;
    let copier = app.copier(1);
    let s = copier.open_session().await.unwrap();
    copier
        .present_card(&s, app.pki.card("card-rsa-1"), "ja")
        .await
        .unwrap();
    app.db()
        .await
        .execute(
            "UPDATE residents SET status = 'deceased' WHERE resident_code = '10000000011'",
            &[],
        )
        .await
        .unwrap();
    match copier
        .place_order(s.session_id, "k", &OrderSpec::default())
        .await
    {
        Err(SimError::Refused { code, .. }) => assert_eq!(code, "deceased"),
        other => panic!("ordered for a deceased resident: {other:?}"),
    }
    let spec = OrderSpec {
        options: ResidenceOptions {
            whole_household: true,
            ..Default::default()
        },
        copies: 1,
        ..Default::default()
    };
    let issued = copier
        .issue(app.pki.card("card-ecdsa-1"), &spec, "ja")
        .await
        .unwrap();
    assert_own_document(&app, &issued, &["日向　花子", "日向　一郎"]).await;
}

/// Takamatsu: a program written for one server ran on several. Here two real
/// `kofu serve` processes share one database; tickets stay unique and in
/// order, documents are released in ticket order, and each copier gets its own.
#[tokio::test]
async fn takamatsu_two_gateway_processes_keep_order_and_binding() {
    let app = TestApp::spawn().await;
    let mut gateways = Vec::new();
    for _ in 0..2 {
        gateways.push(ServeProcess::start(&app));
    }
    let results = issue_at_once(&app, 16, |i| gateways[i % 2].copier(&app, 1 + (i / 2) % 2)).await;
    for (issued, name) in &results {
        assert_own_document(&app, issued, &[name]).await;
    }
    let db = app.db().await;
    let out_of_order: i64 = db
        .query_one(
            "SELECT count(*) FROM (
                 SELECT released_at, max(released_at) OVER (ORDER BY ticket ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before
                   FROM orders) o
              WHERE o.released_at < o.before",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(out_of_order, 0, "released in ticket order across processes");
    let row = db
        .query_one(
            "SELECT count(*), count(DISTINCT ticket), min(ticket), max(ticket) FROM orders",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 16);
    assert_eq!(row.get::<_, i64>(1), 16);
    assert_eq!(
        (row.get::<_, i64>(2), row.get::<_, i64>(3)),
        (1, 16),
        "no gaps"
    );
}

/// Waits until a render worker has renewed `order_id`'s render lease (so its
/// render has begun), then a little more.
async fn wait_for_claim(app: &TestApp, order_id: Uuid) {
    const LEASE: &str = "SELECT render_claimed_until FROM orders WHERE id = $1";
    let db = app.db().await;
    let first: Option<time::OffsetDateTime> =
        db.query_one(LEASE, &[&order_id]).await.unwrap().get(0);
    for _ in 0..200 {
        let now: Option<time::OffsetDateTime> =
            db.query_one(LEASE, &[&order_id]).await.unwrap().get(0);
        if now != first {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// A register change: household `no` moves to `address`, committed now.
async fn move_household(app: &TestApp, no: &str, address: &str) {
    const MOVE: &str = "UPDATE households SET address = $1 WHERE household_no = $2";
    app.db()
        .await
        .execute(MOVE, &[&address, &no])
        .await
        .unwrap();
}

/// The text of the document an order's copier fetches.
async fn document_text(copier: &CopierClient, session_id: Uuid, order_id: Uuid) -> String {
    let doc = copier.fetch_document(session_id, order_id).await.unwrap();
    assert_eq!(doc.status, 200, "{:?}", doc.problem_code());
    page_texts(&doc.body).concat()
}

/// The demo cards and whom they belong to.
/// The credentials the replays issue with, and whose name each must show:
/// the smartphones print their cards' holders (phone-ecdsa-1 was derived
/// from card-rsa-1, phone-rsa-1 from card-ecdsa-1).
const CARDS: [(&str, &str); 5] = [
    ("card-rsa-1", "日向　太郎"),
    ("card-ecdsa-1", "日向　花子"),
    ("phone-ecdsa-1", "日向　太郎"),
    ("card-rsa-2", "青葉　健"),
    ("phone-rsa-1", "日向　花子"),
];

/// `n` issuances at once: the i-th at `copier(i)` with credential `i % 5`.
/// Returns each issuance with the name its document must show.
async fn issue_at_once(
    app: &TestApp,
    n: usize,
    copier: impl Fn(usize) -> CopierClient,
) -> Vec<(Issued, &'static str)> {
    let runs: Vec<_> = (0..n)
        .map(|i| {
            let (label, name) = CARDS[i % CARDS.len()];
            let (copier, card) = (copier(i), app.pki.card(label));
            async move {
                (
                    copier
                        .issue(card, &OrderSpec::default(), "ja")
                        .await
                        .unwrap(),
                    name,
                )
            }
        })
        .collect();
    futures_join_all(runs).await
}

/// Runs futures concurrently on this task and collects their outputs in order.
async fn futures_join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let handles: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut out = Vec::with_capacity(handles.len());
    let mut pending: Vec<_> = handles.into_iter().map(Some).collect();
    let mut results: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (i, slot) in pending.iter_mut().enumerate() {
            if let Some(fut) = slot {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        results[i] = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => all = false,
                }
            }
        }
        if all {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.extend(results.into_iter().map(|r| r.expect("completed")));
    out
}

/// A gateway process killed mid-order loses nothing: the order it accepted
/// (and was rendering) is finished by another process once its claim lapses,
/// and the copier gets its document from the survivor.
#[tokio::test]
async fn an_order_accepted_by_a_killed_process_is_finished_by_another() {
    let app = TestApp::spawn().await;
    let mut doomed = ServeProcess::start_with(&app, &[("KOFU_TEST_HOOKS", "true")]);
    doomed.set_render_delay_ms(60_000); // its render never finishes
    let copier = doomed.copier(&app, 1);
    let s = copier.open_session().await.unwrap();
    copier
        .present_card(&s, app.pki.card("card-rsa-1"), "ja")
        .await
        .unwrap();
    let ack = copier
        .place_order(s.session_id, "k", &OrderSpec::default())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    doomed.kill();

    // The same copier reconnects to the surviving gateway (the TestApp's).
    let survivor = app.copier(1);
    let doc = survivor
        .fetch_document(s.session_id, ack.order_id)
        .await
        .unwrap();
    assert_eq!(doc.status, 200, "{:?}", doc.problem_code());
    assert_eq!(
        doc.header("kofu-ticket"),
        Some(ack.ticket.to_string().as_str())
    );
    assert_eq!(
        survivor.confirm_printed(ack.order_id).await.unwrap().status,
        200
    );
    let texts = page_texts(&doc.body).concat();
    assert!(texts.contains("日向　太郎"));
}

/// The database itself refuses a second ending: printed is final.
#[tokio::test]
async fn a_printed_order_can_never_become_voided_or_printed_again() {
    let app = TestApp::spawn().await;
    let issued = app
        .copier(1)
        .issue(app.pki.card("card-rsa-1"), &OrderSpec::default(), "ja")
        .await
        .unwrap();
    let db = app.db().await;
    for state in ["voided", "delivered", "rendered", "accepted"] {
        let err = db
            .execute(
                "UPDATE orders SET state = $2 WHERE id = $1",
                &[&issued.ack.order_id, &state],
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.code(),
            Some(&tokio_postgres::error::SqlState::CHECK_VIOLATION),
            "printed -> {state}"
        );
        // Refused by the forward-only trigger itself, not only by a constraint.
        let message = err.as_db_error().map(|e| e.message().to_owned());
        assert_eq!(
            message.as_deref(),
            Some(format!("illegal order state transition printed -> {state}").as_str())
        );
    }
    let again = app
        .copier(1)
        .confirm_printed(issued.ack.order_id)
        .await
        .unwrap();
    assert_eq!(again.status, 200, "confirming twice is harmless");
    let printed: i64 = db
        .query_one("SELECT count(*) FROM orders WHERE state = 'printed'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(printed, 1);
}

/// Freshness, the other side: a change committed after acceptance (while the
/// document is still rendering) cannot reach the document.
#[tokio::test]
async fn a_change_committed_after_acceptance_does_not_reach_the_document() {
    let app = TestApp::spawn_with(|c| c.test_hooks = true).await;
    let copier = app.copier(1);
    let s = copier.open_session().await.unwrap();
    copier
        .present_card(&s, app.pki.card("card-rsa-2"), "ja")
        .await
        .unwrap();
    app.render_stall().set_delay_ms(500);
    let ack = copier
        .place_order(s.session_id, "k", &OrderSpec::default())
        .await
        .unwrap();
    move_household(&app, "H0002", "東京都ひなた市後町一丁目1番").await;
    let text = document_text(&copier, s.session_id, ack.order_id).await;
    assert!(
        text.contains("青葉台四丁目5番6号"),
        "the address as committed at acceptance"
    );
    assert!(!text.contains("後町"), "a later change does not mix in");
}

/// The text of an issuance's PDF as pdftotext reads it, one string per page.
fn poppler_pages(issued: &Issued) -> Vec<String> {
    crate::harness::pdftotext(&issued.pdf)
}

/// Niigata, Saitama, Kumamoto: seal certificates were issued after the
/// registration had been abolished (a stale copy of the register). Here the
/// abolition commits one statement before the order — after the menu offered
/// the seal — both when the order reaches the same process and when it
/// reaches another `kofu serve` process: it is never certified.
#[tokio::test]
async fn niigata_a_seal_abolished_just_before_the_order_is_never_certified() {
    let app = TestApp::spawn().await;
    let other = ServeProcess::start(&app);
    let seal = || {
        OrderSpec::of(
            kofu::gateway::domain::CertificateKind::SealRegistration,
            serde_json::json!({}),
        )
    };
    const ABOLISH: &str = "UPDATE seal_registrations SET abolished_on = (now() AT TIME ZONE 'Asia/Tokyo')::date
                            WHERE abolished_on IS NULL AND resident_id = (SELECT id FROM residents WHERE resident_code = $1)";
    const RESTORE: &str = "UPDATE seal_registrations SET abolished_on = NULL
                            WHERE registration_no = 'S-000101'";
    for via_other_process in [false, true] {
        let menu_copier = app.copier(1);
        let s = menu_copier.open_session().await.unwrap();
        let menu = menu_copier
            .present_card(&s, app.pki.card("card-rsa-1"), "ja")
            .await
            .unwrap();
        assert_eq!(
            menu["items"][2]["available"], true,
            "the menu offered the seal"
        );
        app.db()
            .await
            .execute(ABOLISH, &[&"10000000011"])
            .await
            .unwrap();
        let order_copier = if via_other_process {
            other.copier(&app, 1)
        } else {
            app.copier(1)
        };
        match order_copier
            .place_order(s.session_id, "seal", &seal())
            .await
        {
            Err(SimError::Refused { code, .. }) => assert_eq!(code, "seal_abolished"),
            other => panic!("an abolished seal was accepted: {other:?}"),
        }
        app.db().await.execute(RESTORE, &[]).await.unwrap();
    }
    let certified: i64 = app
        .scalar(
            "SELECT count(*) FROM orders WHERE kind = 'seal_registration'",
            &[],
        )
        .await;
    assert_eq!(certified, 0);
    // Restored (a new registration would be the same), it prints again.
    let issued = app
        .copier(1)
        .issue(app.pki.card("card-rsa-1"), &seal(), "ja")
        .await
        .unwrap();
    assert!(poppler_pages(&issued).concat().contains("S-000101"));
}

/// Saitama: a requested former surname (旧氏) was not printed. Here it is
/// printed on the residence certificate when asked, and on the seal
/// certificate whenever the register records one.
#[tokio::test]
async fn saitama_a_requested_former_surname_is_always_printed() {
    let app = TestApp::spawn().await;
    let residence = OrderSpec {
        options: ResidenceOptions {
            show_former_surname: true,
            ..Default::default()
        },
        copies: 1,
        ..Default::default()
    };
    let issued = app
        .copier(1)
        .issue(app.pki.card("card-ecdsa-1"), &residence, "ja")
        .await
        .unwrap();
    let text = poppler_pages(&issued).concat();
    assert!(text.contains("旧氏山田"), "{text}");

    // 太郎 records a former surname today: his next seal certificate shows it.
    app.db()
        .await
        .batch_execute(
            "UPDATE residents SET former_surname = '朝日' WHERE resident_code = '10000000011'",
        )
        .await
        .unwrap();
    let seal = OrderSpec::of(
        kofu::gateway::domain::CertificateKind::SealRegistration,
        serde_json::json!({}),
    );
    let issued = app
        .copier(2)
        .issue(app.pki.card("card-rsa-1"), &seal, "ja")
        .await
        .unwrap();
    let text = poppler_pages(&issued).concat();
    assert!(text.contains("旧氏朝日"), "{text}");
}

/// Itano, for the kinds that print the resident's address beside their own
/// register: the address changed just before the order is the one printed.
#[tokio::test]
async fn itano_every_kind_prints_the_address_as_of_acceptance() {
    use kofu::gateway::domain::CertificateKind as K;
    let app = TestApp::spawn().await;
    for (i, (kind, options)) in [
        (K::SealRegistration, serde_json::json!({})),
        (K::TaxCertificate, serde_json::json!({})),
        (
            K::ResidenceRecordCertificate,
            serde_json::json!({"show_address": true}),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let copier = app.copier(1);
        let s = copier.open_session().await.unwrap();
        copier
            .present_card(&s, app.pki.card("card-rsa-1"), "ja")
            .await
            .unwrap();
        let new = format!("東京都ひなた市新町九丁目{}番9号", i + 1);
        move_household(&app, "H0001", &new).await;
        let ack = copier
            .place_order(s.session_id, "k", &OrderSpec::of(kind, options))
            .await
            .unwrap();
        let doc = copier
            .fetch_document(s.session_id, ack.order_id)
            .await
            .unwrap();
        assert_eq!(doc.status, 200);
        let text = crate::harness::pdftotext(&doc.body).concat();
        assert!(text.contains(&new), "{kind}: the new address is printed");
        assert!(
            !text.contains("日向町一丁目2番3号"),
            "{kind}: the old one is not"
        );
    }
}

/// Tokushima, for the family register itself: page 2 of a 3-page 戸籍 came
/// from someone else's. Here two registers of several pages each are
/// ordered at once from two copiers, sixteen times: every page of every
/// document carries its own document number and order id, and no page shows
/// a member of the other register.
#[tokio::test]
async fn tokushima_no_page_of_a_family_register_comes_from_another_register() {
    use kofu::gateway::domain::CertificateKind as K;
    let app = TestApp::spawn().await;
    // 青葉健's register moves here, with six other members.
    let db = app.db().await;
    db.batch_execute(
        "UPDATE residents SET domicile = '東京都ひなた市青葉台四丁目5番地' WHERE resident_code = '10000000045';
         WITH f AS (INSERT INTO family_registers (municipality_code, domicile, head_name, compiled_on)
                    VALUES ('139998', '東京都ひなた市青葉台四丁目5番地', '青葉　健', '1989-01-08') RETURNING id)
         INSERT INTO family_register_members (register_id, position, name, birth_date, sex, relationship, resident_code)
         SELECT f.id, p, CASE WHEN p = 1 THEN '青葉　健' ELSE '青葉　若葉' || p END, '1959-01-07', 'male',
                CASE WHEN p = 1 THEN '長男' ELSE '子' END, CASE WHEN p = 1 THEN '10000000045' END
           FROM f, generate_series(1, 7) p;
         INSERT INTO family_register_events (member_id, kind, occurred_on, reported_on, detail)
         SELECT m.id, e.kind, '1990-01-01', '1990-01-02', '出生地　東京都ひなた市'
           FROM family_register_members m JOIN family_registers f ON f.id = m.register_id,
                (VALUES ('birth'), ('marriage'), ('entry')) e(kind)
          WHERE f.head_name = '青葉　健';",
    )
    .await
    .unwrap();
    let runs: Vec<_> = (0..16)
        .map(|i| {
            // Each page heads its entries with the member's name.
            let (label, own, others) = if i % 2 == 0 {
                ("card-rsa-1", "されている者日向", "されている者青葉")
            } else {
                ("card-rsa-2", "されている者青葉", "されている者日向")
            };
            let copier = app.copier(1 + (i / 2) % 2);
            let card = app.pki.card(label);
            async move {
                let spec = OrderSpec::of(K::FamilyRegisterFull, serde_json::json!({}));
                (copier.issue(card, &spec, "ja").await.unwrap(), own, others)
            }
        })
        .collect();
    for (issued, own, others) in futures_join_all(runs).await {
        assert_own_signature(&app, &issued).await;
        let pages = poppler_pages(&issued);
        assert!(pages.len() >= 2, "a register of several pages");
        assert_eq!(pages.len() as u32, issued.page_count);
        for (n, page) in pages.iter().enumerate() {
            assert!(
                page.contains(&issued.document_number),
                "page {} lacks its number",
                n + 1
            );
            assert!(
                page.contains(&issued.ack.order_id.to_string()),
                "page {} lacks its order",
                n + 1
            );
            assert!(page.contains(&format!("{}/{}", n + 1, pages.len())));
            assert!(page.contains(own), "page {} is of another register", n + 1);
            assert!(
                !page.contains(others),
                "page {} shows the other register",
                n + 1
            );
        }
    }
}
