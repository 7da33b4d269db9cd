//! Who may not get a certificate at a store (DOMAIN.md "What can be
//! issued"): each reason has its own code, the same at the menu and at the
//! order, and the order re-decides it inside the acceptance. Moving out is
//! in `registers.rs`, a death in `incidents.rs`.

use kofu::devkit::demo_pki::CardKey;
use kofu::devkit::sim::{OrderSpec, SimError};
use kofu::gateway::i18n::{Lang, catalogue};
use kofu::gateway::registry::ResidenceOptions;
use time::{Duration, OffsetDateTime};

use crate::harness::{TestApp, spec};

/// The menu's reason for the residence certificate, and the order's refusal.
async fn menu_and_order(
    app: &TestApp,
    card: &kofu::devkit::demo_pki::DemoCard,
    options: ResidenceOptions,
) -> (Option<String>, Result<(), String>) {
    let copier = app.copier(1);
    let s = copier.open_session().await.unwrap();
    let menu = copier.present_card(&s, card, "en").await.unwrap();
    let reason = menu["items"][0]["reason"]["code"]
        .as_str()
        .map(str::to_owned);
    if reason.is_some() {
        assert_eq!(menu["items"][0]["available"], false);
    }
    let order = OrderSpec {
        options,
        copies: 1,
        ..Default::default()
    };
    let placed = match copier.place_order(s.session_id, "k", &order).await {
        Ok(_) => Ok(()),
        Err(SimError::Refused { code, .. }) => Err(code),
        Err(e) => panic!("{e}"),
    };
    (reason, placed)
}

#[tokio::test]
async fn a_move_in_registered_today_is_refused_until_tomorrow() {
    let app = TestApp::spawn().await;
    let set = |day: &'static str| {
        let app = &app;
        async move {
            app.db()
                .await
                .batch_execute(&format!(
                    "UPDATE residents SET moved_in_on = {day} WHERE resident_code = '10000000045'"
                ))
                .await
                .unwrap();
        }
    };
    set("(now() AT TIME ZONE 'Asia/Tokyo')::date").await;
    let card = app.pki.card("card-rsa-2");
    let (reason, placed) = menu_and_order(&app, card, ResidenceOptions::default()).await;
    assert_eq!(reason.as_deref(), Some("moved_in_today"));
    assert_eq!(placed, Err("moved_in_today".to_owned()));

    // Re-decided at acceptance: a move-in recorded after the menu still counts.
    set("(now() AT TIME ZONE 'Asia/Tokyo')::date - 1").await;
    let copier = app.copier(2);
    let s = copier.open_session().await.unwrap();
    let menu = copier.present_card(&s, card, "ja").await.unwrap();
    assert_eq!(menu["items"][0]["available"], true);
    set("(now() AT TIME ZONE 'Asia/Tokyo')::date").await;
    match copier
        .place_order(s.session_id, "k2", &OrderSpec::default())
        .await
    {
        Err(SimError::Refused { code, .. }) => assert_eq!(code, "moved_in_today"),
        other => panic!("ordered on the day of a move-in: {other:?}"),
    }

    set("(now() AT TIME ZONE 'Asia/Tokyo')::date - 1").await;
    let issued = app
        .copier(1)
        .issue(card, &OrderSpec::default(), "ja")
        .await
        .unwrap();
    assert!(issued.pdf.starts_with(b"%PDF-"));
}

#[tokio::test]
async fn a_card_issued_today_is_refused_at_the_menu_and_the_order() {
    let app = TestApp::spawn().await;
    // notBefore today in Japan (at least a second ago, never yesterday there).
    let now = OffsetDateTime::now_utc();
    let jst_midnight = now
        .to_offset(time::macros::offset!(+9))
        .replace_time(time::Time::MIDNIGHT)
        .to_offset(time::UtcOffset::UTC);
    let not_before = (now - Duration::seconds(1)).max(jst_midnight);
    let card = app
        .pki
        .demo
        .user_auth_ca
        .issue_card(
            "issued-today",
            &spec(CardKey::EcdsaP256, not_before, now + Duration::days(400)),
        )
        .unwrap();
    let serial = kofu::devkit::demo_pki::card_serial(&card.cert_der).unwrap();
    assert!(
        kofu::devkit::demo_registers::link_card(&app.db().await, &serial, "10000000045")
            .await
            .unwrap()
    );
    let (reason, placed) = menu_and_order(&app, &card, ResidenceOptions::default()).await;
    assert_eq!(reason.as_deref(), Some("card_issued_today"));
    assert_eq!(placed, Err("card_issued_today".to_owned()));
    // The resident's older card still prints.
    let issued = app
        .copier(2)
        .issue(app.pki.card("card-rsa-2"), &OrderSpec::default(), "ja")
        .await
        .unwrap();
    assert!(issued.pdf.starts_with(b"%PDF-"));
}

#[tokio::test]
async fn protection_refuses_the_household_certificate_without_saying_why() {
    let app = TestApp::spawn().await;
    app.db()
        .await
        .batch_execute("UPDATE residents SET protected = true WHERE resident_code = '10000000037'")
        .await
        .unwrap();
    // 一郎 is protected: 太郎's own certificate prints, the household's is refused.
    let whole = ResidenceOptions {
        whole_household: true,
        ..Default::default()
    };
    let (reason, placed) = menu_and_order(&app, app.pki.card("card-rsa-1"), whole).await;
    assert_eq!(reason, None, "the menu offers the certificate of self");
    assert_eq!(placed, Err("protected".to_owned()));
    for lang in Lang::ALL {
        let text = catalogue::PROTECTED.get(lang);
        assert!(!text.contains("DV") && !text.contains("支援"), "{text}");
    }
    let issued = app
        .copier(2)
        .issue(app.pki.card("card-rsa-1"), &OrderSpec::default(), "ja")
        .await
        .unwrap();
    assert!(issued.pdf.starts_with(b"%PDF-"));
}

/// A name with a character no installed font has is refused before
/// payment, with no ticket spent: never a missing glyph on paper, and never
/// an order that can only be voided at render.
#[tokio::test]
async fn a_name_the_font_cannot_draw_is_refused_before_payment() {
    let app = TestApp::spawn().await;
    // U+E000: a private-use character, in no font.
    app.db()
        .await
        .batch_execute("UPDATE residents SET name = '日向　太' || chr(57344) WHERE resident_code = '10000000011'")
        .await
        .unwrap();
    let tickets_before: i64 = app.scalar("SELECT last FROM ticket_counter", &[]).await;
    let (reason, placed) = menu_and_order(
        &app,
        app.pki.card("card-rsa-1"),
        ResidenceOptions::default(),
    )
    .await;
    assert_eq!(reason, None);
    assert_eq!(placed, Err("name_not_printable".to_owned()));

    // 花子's own certificate prints; the household's would show 太郎.
    let whole = ResidenceOptions {
        whole_household: true,
        ..Default::default()
    };
    let (_, placed) = menu_and_order(&app, app.pki.card("card-ecdsa-1"), whole).await;
    assert_eq!(placed, Err("name_not_printable".to_owned()));
    let tickets_after: i64 = app.scalar("SELECT last FROM ticket_counter", &[]).await;
    assert_eq!(
        tickets_after, tickets_before,
        "no ticket spent on a refusal"
    );
    let orders: i64 = app.scalar("SELECT count(*) FROM orders", &[]).await;
    assert_eq!(orders, 0);

    let copier = app.copier(2);
    let s = copier.open_session().await.unwrap();
    copier
        .present_card(&s, app.pki.card("card-ecdsa-1"), "en")
        .await
        .unwrap();
    let refused = copier
        .post_json(
            &format!("/v1/sessions/{}/orders", s.session_id),
            &[
                ("idempotency-key", "w".into()),
                ("accept-language", "en".into()),
            ],
            &serde_json::json!({
                "kind": "residence_certificate",
                "options": {"whole_household": true, "show_householder": false,
                            "show_domicile": false, "show_my_number": false},
            }),
        )
        .await
        .unwrap();
    assert_eq!(refused.status, 422);
    let problem: serde_json::Value = serde_json::from_slice(&refused.body).unwrap();
    assert_eq!(
        problem["detail"],
        catalogue::NAME_NOT_PRINTABLE.get(Lang::En)
    );
    assert!(
        !String::from_utf8_lossy(&refused.body).contains("日向"),
        "no name in the problem"
    );
    let own = app
        .copier(1)
        .issue(app.pki.card("card-ecdsa-1"), &OrderSpec::default(), "ja")
        .await
        .unwrap();
    assert!(own.pdf.starts_with(b"%PDF-"));
}

/// The menu says of every kind why it cannot be had: the resident first,
/// then the kind's own register (a seal, a tax year, a 戸籍 here), then
/// `kind_not_offered` for what the municipality does not offer.
#[tokio::test]
async fn the_menu_gives_each_kind_its_registers_reason() {
    let app = TestApp::spawn().await;
    let reasons = |card: &'static str| {
        let app = &app;
        async move {
            let copier = app.copier(1);
            let s = copier.open_session().await.unwrap();
            let menu = copier
                .present_card(&s, app.pki.card(card), "ja")
                .await
                .unwrap();
            let items = menu["items"].as_array().unwrap().clone();
            assert_eq!(items.len(), 7);
            items
                .iter()
                .map(|i| {
                    i["reason"]["code"]
                        .as_str()
                        .unwrap_or("available")
                        .to_owned()
                })
                .collect::<Vec<_>>()
        }
    };
    // 太郎: an active seal, a 2026 assessment, his 戸籍 kept here.
    assert_eq!(reasons("card-rsa-1").await, ["available"; 7]);
    // 花子: her seal abolished, no assessment; in 太郎's 戸籍.
    assert_eq!(
        reasons("card-ecdsa-1").await,
        [
            "available",
            "available",
            "seal_abolished",
            "no_tax_record",
            "available",
            "available",
            "available"
        ]
    );
    // 青葉健: no seal, no assessment, 本籍 elsewhere.
    assert_eq!(
        reasons("card-rsa-2").await,
        [
            "available",
            "available",
            "seal_not_registered",
            "no_tax_record",
            "domicile_elsewhere",
            "domicile_elsewhere",
            "domicile_elsewhere"
        ]
    );

    let db = app.db().await;
    db.batch_execute(
        "UPDATE tax_assessments SET resident_on_january_1 = false
          WHERE fiscal_year = 2026 AND resident_id = (SELECT id FROM residents WHERE resident_code = '10000000011')",
    )
    .await
    .unwrap();
    assert_eq!(
        reasons("card-rsa-1").await[3],
        "not_registered_here_on_january_1"
    );
    db.batch_execute(
        "UPDATE tax_year_releases SET released_on = (now() AT TIME ZONE 'Asia/Tokyo')::date + 1",
    )
    .await
    .unwrap();
    assert_eq!(reasons("card-rsa-1").await[3], "tax_year_not_released");

    // A resident-wide reason comes before every kind's own.
    db.batch_execute(
        "UPDATE residents SET status = 'moving_out' WHERE resident_code = '10000000029'",
    )
    .await
    .unwrap();
    assert_eq!(reasons("card-ecdsa-1").await, ["moving_out"; 7]);
}

/// A name only IPAmj Mincho draws — 𠮷 (U+20BB7) and 葛 with VS19, a
/// variation sequence — prints with it (installed by `.ci/run`, Debian
/// `fonts-ipamj-mincho`) on the residence and the seal certificate, and reads
/// back whole; the PDF embeds both fonts as subsets (`pdffonts`).
#[tokio::test]
async fn a_name_only_ipamj_mincho_draws_is_printed_with_it() {
    use kofu::gateway::domain::CertificateKind;
    let app = TestApp::spawn().await;
    app.db()
        .await
        .batch_execute(
            "UPDATE residents SET name = '𠮷田　葛' || chr(917762) || '郎' WHERE resident_code = '10000000011'",
        )
        .await
        .unwrap();
    let card = app.pki.card("card-rsa-1");
    for spec in [
        OrderSpec::default(),
        OrderSpec::of(CertificateKind::SealRegistration, serde_json::json!({})),
    ] {
        let issued = app.copier(1).issue(card, &spec, "ja").await.unwrap();
        let text = crate::harness::pdftotext(&issued.pdf).concat();
        assert!(text.contains("𠮷田葛\u{E0102}郎"), "{text}");
        let path = std::env::temp_dir().join(format!("kofu-mj-{}.pdf", issued.ack.order_id));
        std::fs::write(&path, &issued.pdf).unwrap();
        let fonts = std::process::Command::new("pdffonts")
            .arg(&path)
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&path);
        let fonts = String::from_utf8_lossy(&fonts.stdout).to_string();
        assert!(
            fonts.contains("+IPAexMincho") && fonts.contains("+IPAmjMincho"),
            "{fonts}"
        );
        assert_eq!(
            fonts.matches(" yes yes ").count(),
            2,
            "both embedded as subsets: {fonts}"
        );
    }
}
