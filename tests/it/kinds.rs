//! Every kind a resident can get, printed through the whole pipeline and
//! read back with `pdftotext` (poppler), as a receiver's software would: each
//! kind's fields, each option, and each kind's refusals at the menu and at
//! the order. The incident replays for these kinds are in `incidents.rs`.

use kofu::devkit::demo_pki::{CardKey, DemoCard};
use kofu::devkit::sim::{Issued, OrderSpec, SimError};
use kofu::gateway::domain::CertificateKind as K;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::harness::{TestApp, pdftotext, spec, squeezed};

/// Issues `kind` with `options` for `card` and returns the issuance and the
/// text of each page (pdftotext).
async fn print(app: &TestApp, card: &DemoCard, kind: K, options: Value) -> (Issued, Vec<String>) {
    let issued = app
        .copier(1)
        .issue(card, &OrderSpec::of(kind, options), "ja")
        .await
        .unwrap_or_else(|e| panic!("{kind}: {e}"));
    let pages = pdftotext(&issued.pdf);
    assert_eq!(pages.len() as u32, issued.page_count, "{kind}");
    for (i, page) in pages.iter().enumerate() {
        // Every page names its document, its place in it, and its order.
        assert!(
            page.contains(&issued.document_number),
            "{kind} page {}",
            i + 1
        );
        assert!(
            page.contains(&format!("{}/{}", i + 1, pages.len())),
            "{kind} page {}: {page}",
            i + 1
        );
        assert!(page.contains(&issued.ack.order_id.to_string()));
        assert!(page.contains(kofu::gateway::render::paper_title(kind)));
    }
    let last = pages.last().unwrap();
    assert!(
        last.contains("ひなた市長"),
        "{kind}: the mayor on the last page"
    );
    (issued, pages)
}

/// The menu item of `kind` and the refusal code of an order for it.
async fn refused(app: &TestApp, card: &DemoCard, kind: K, options: Value) -> (Value, String) {
    let copier = app.copier(1);
    let s = copier.open_session().await.unwrap();
    let menu = copier.present_card(&s, card, "en").await.unwrap();
    let item = menu["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == kind.wire_name())
        .cloned()
        .unwrap();
    let code = match copier
        .place_order(s.session_id, "k", &OrderSpec::of(kind, options))
        .await
    {
        Err(SimError::Refused { code, .. }) => code,
        other => panic!("{kind}: expected a refusal, got {other:?}"),
    };
    (item, code)
}

/// `text` (from [`pdftotext`]) holds each of `wanted`, spaces aside.
fn has(text: &str, wanted: &[&str]) {
    for w in wanted {
        assert!(text.contains(&squeezed(w)), "{w:?} missing from:\n{text}");
    }
}

fn lacks(text: &str, unwanted: &[&str]) {
    for u in unwanted {
        assert!(
            !text.contains(&squeezed(u)),
            "{u:?} printed unasked:\n{text}"
        );
    }
}

/// How often `needle` occurs in `text`, spaces aside.
fn count(text: &str, needle: &str) -> usize {
    text.matches(&squeezed(needle)).count()
}

#[tokio::test]
async fn the_menu_lists_all_seven_kinds_with_fees_and_options() {
    let app = TestApp::spawn().await;
    let copier = app.copier(1);
    let s = copier.open_session().await.unwrap();
    let menu = copier
        .present_card(&s, app.pki.card("card-rsa-1"), "ja")
        .await
        .unwrap();
    let items = menu["items"].as_array().unwrap();
    let kinds: Vec<&str> = items.iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        K::ALL.iter().map(|k| k.wire_name()).collect::<Vec<_>>()
    );
    for item in items {
        assert_eq!(item["available"], true, "{item}");
        assert!(item["fee_yen"].as_i64().unwrap() > 0);
    }
    let tax = &items[3]["options"][0];
    assert_eq!(
        (tax["name"].as_str(), tax["default"].as_i64()),
        (Some("fiscal_year"), Some(2026))
    );
    let members = items[0]["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "members")
        .unwrap();
    assert_eq!(
        (members["type"].as_str(), members["max"].as_i64()),
        (Some("positions"), Some(3))
    );
}

/// A kind the municipality has no fee for is `kind_not_offered`, at the
/// menu and at the order alike.
#[tokio::test]
async fn a_kind_the_municipality_does_not_offer_is_refused_with_the_menus_code() {
    let app = TestApp::spawn().await;
    app.db()
        .await
        .batch_execute("DELETE FROM fees WHERE kind = 'tax_certificate'")
        .await
        .unwrap();
    let (item, code) = refused(
        &app,
        app.pki.card("card-rsa-1"),
        K::TaxCertificate,
        json!({}),
    )
    .await;
    assert_eq!(item["available"], false);
    assert!(item.get("fee_yen").is_none());
    assert_eq!(
        (item["reason"]["code"].as_str(), code.as_str()),
        (Some("kind_not_offered"), "kind_not_offered")
    );
}

/// The residence certificate's original four options, read back with pdftotext.
#[tokio::test]
async fn residence_certificate_prints_each_chosen_item_and_nothing_unasked() {
    let app = TestApp::spawn().await;
    let card = app.pki.card("card-rsa-1");
    let off = json!({"whole_household": false, "show_householder": false, "show_domicile": false,
                     "show_my_number": false});
    let (_, pages) = print(&app, card, K::ResidenceCertificate, off).await;
    let text = pages.concat();
    has(
        &text,
        &[
            "住民票の写し",
            "日向　太郎",
            "昭和55年(1980年)4月1日",
            "平成22年(2010年)6月15日",
            "東京都ひなた市日向町一丁目2番3号",
            "住民票の原本と相違ない",
        ],
    );
    lacks(
        &text,
        &[
            "世帯主",
            "続柄",
            "本籍",
            "筆頭者",
            "個人番号",
            "123456789018",
            "日向　花子",
            "世帯全員",
        ],
    );

    let on = json!({"whole_household": false, "show_householder": true, "show_domicile": true,
                    "show_my_number": true});
    let (_, pages) = print(&app, card, K::ResidenceCertificate, on).await;
    has(
        &pages.concat(),
        &[
            "世帯主",
            "続柄",
            "本籍",
            "東京都ひなた市日向町一丁目2番地",
            "筆頭者",
            "個人番号",
            "123456789018",
        ],
    );

    let whole = json!({"whole_household": true, "show_householder": false, "show_domicile": false,
                       "show_my_number": false});
    let (_, pages) = print(&app, card, K::ResidenceCertificate, whole).await;
    has(
        &pages.concat(),
        &[
            "日向　太郎",
            "日向　花子",
            "日向　一郎",
            "世帯全員の住民票の原本と相違ない",
        ],
    );
}

#[tokio::test]
async fn residence_record_certificate_prints_only_the_chosen_items() {
    let app = TestApp::spawn().await;
    let card = app.pki.card("card-ecdsa-1");
    let (_, pages) = print(&app, card, K::ResidenceRecordCertificate, json!({})).await;
    let text = pages.concat();
    has(
        &text,
        &[
            "住民票記載事項証明書",
            "日向　花子",
            "住民票に記載されていることを証明する",
        ],
    );
    lacks(&text, &["旧氏", "生年月日", "性別", "住所", "本籍"]);

    let all = json!({"show_former_surname": true, "show_birth_date": true, "show_sex": true,
                     "show_address": true, "show_became_resident_on": true,
                     "show_householder": true, "show_domicile": true});
    let (_, pages) = print(&app, card, K::ResidenceRecordCertificate, all).await;
    has(
        &pages.concat(),
        &[
            "旧氏",
            "山田",
            "昭和57年(1982年)11月23日",
            "女",
            "東京都ひなた市日向町一丁目2番3号",
            "平成24年(2012年)3月1日",
            "世帯主",
            "日向　太郎",
            "妻",
            "本籍",
            "東京都ひなた市日向町一丁目2番地",
        ],
    );
}

#[tokio::test]
async fn seal_certificate_shows_the_impression_and_the_holder() {
    let app = TestApp::spawn().await;
    let (issued, pages) = print(
        &app,
        app.pki.card("card-rsa-1"),
        K::SealRegistration,
        json!({}),
    )
    .await;
    has(
        &pages.concat(),
        &[
            "印鑑登録証明書",
            "S-000101",
            "日向　太郎",
            "昭和55年(1980年)4月1日",
            "男",
            "東京都ひなた市日向町一丁目2番3号",
            "登録されている印影と相違ないことを証明する",
        ],
    );
    lacks(&pages.concat(), &["旧氏", "通称"]);
    assert_eq!(
        crate::harness::pdfimages(&issued.pdf).len(),
        1,
        "the impression is an image on the page"
    );

    // The only options are none at all.
    let (item, code) = refused(
        &app,
        app.pki.card("card-rsa-1"),
        K::SealRegistration,
        json!({"x": 1}),
    )
    .await;
    assert_eq!(
        (item["available"].as_bool(), code.as_str()),
        (Some(true), "invalid_options")
    );
}

#[tokio::test]
async fn seal_refusals_at_the_menu_and_the_order() {
    let app = TestApp::spawn().await;
    // 花子's only registration is abolished; 青葉 never registered one.
    for (card, want) in [
        ("card-ecdsa-1", "seal_abolished"),
        ("card-rsa-2", "seal_not_registered"),
    ] {
        let (item, code) = refused(&app, app.pki.card(card), K::SealRegistration, json!({})).await;
        assert_eq!(item["available"], false);
        assert_eq!(item["reason"]["code"], want);
        assert_eq!(code, want);
    }
}

#[tokio::test]
async fn tax_certificate_prints_the_chosen_fiscal_year() {
    let app = TestApp::spawn().await;
    let card = app.pki.card("card-rsa-1");
    let (_, pages) = print(&app, card, K::TaxCertificate, json!({})).await;
    let text = pages.concat();
    has(
        &text,
        &[
            "課税・所得証明書",
            "令和8年度(2026年度)",
            "日向　太郎",
            "給与所得",
            "6,200,000円",
            "4,500,000円",
            "雑所得",
            "基礎控除",
            "430,000円",
            "扶養人数",
            "2人",
            "2,290,000円",
            "137,400円",
            "91,600円",
            "229,000円",
        ],
    );
    let (_, pages) = print(&app, card, K::TaxCertificate, json!({"fiscal_year": 2025})).await;
    has(
        &pages.concat(),
        &["令和7年度(2025年度)", "6,000,000円", "130,200円"],
    );
    lacks(&pages.concat(), &["雑所得"]);

    let (_, code) = refused(&app, card, K::TaxCertificate, json!({"fiscal_year": 2027})).await;
    assert_eq!(code, "tax_year_not_released");
    let (_, code) = refused(&app, card, K::TaxCertificate, json!({"fiscal_year": 2024})).await;
    assert_eq!(code, "tax_year_not_released");
}

#[tokio::test]
async fn tax_refusals_at_the_menu_and_the_order() {
    let app = TestApp::spawn().await;
    // 青葉 has no assessment for the latest year.
    let (item, code) = refused(
        &app,
        app.pki.card("card-rsa-2"),
        K::TaxCertificate,
        json!({}),
    )
    .await;
    assert_eq!(
        (item["reason"]["code"].as_str(), code.as_str()),
        (Some("no_tax_record"), "no_tax_record")
    );

    // Assessed, but registered elsewhere on 1 January.
    let db = app.db().await;
    db.batch_execute(
        "UPDATE tax_assessments SET resident_on_january_1 = false
          WHERE resident_id = (SELECT id FROM residents WHERE resident_code = '10000000011')",
    )
    .await
    .unwrap();
    let want = "not_registered_here_on_january_1";
    let (item, code) = refused(
        &app,
        app.pki.card("card-rsa-1"),
        K::TaxCertificate,
        json!({}),
    )
    .await;
    assert_eq!(
        (item["reason"]["code"].as_str(), code.as_str()),
        (Some(want), want)
    );

    // No year released yet (the new year comes around June).
    db.batch_execute("UPDATE tax_year_releases SET released_on = '2099-06-01'")
        .await
        .unwrap();
    let want = "tax_year_not_released";
    let (item, code) = refused(
        &app,
        app.pki.card("card-rsa-1"),
        K::TaxCertificate,
        json!({}),
    )
    .await;
    assert_eq!(
        (item["reason"]["code"].as_str(), code.as_str()),
        (Some(want), want)
    );
}

#[tokio::test]
async fn family_register_full_lists_every_member_over_several_pages() {
    let app = TestApp::spawn().await;
    let (issued, pages) = print(
        &app,
        app.pki.card("card-rsa-1"),
        K::FamilyRegisterFull,
        json!({}),
    )
    .await;
    assert!(issued.page_count >= 2, "seven members take several pages");
    let text = pages.concat();
    has(
        &text,
        &[
            "戸籍全部事項証明書",
            "本籍",
            "日向　太郎",
            "【編製日】",
            "出生",
            "婚姻",
            "配偶者氏名　山田　花子",
            "【除籍】",
            "戸籍に記録されている事項の全部を証明した",
        ],
    );
    let members = kofu::devkit::demo_registers::FAMILY_REGISTER;
    assert_eq!(members.len(), 7);
    for m in members {
        assert_eq!(
            count(&text, &format!("戸籍に記録されている者　{}", m.name)),
            1,
            "{}",
            m.name
        );
    }
    assert!(pages[0].contains("次頁に続く") && !pages[0].contains("証明した書面"));
}

#[tokio::test]
async fn family_register_individual_shows_one_member_chosen_by_position() {
    let app = TestApp::spawn().await;
    let card = app.pki.card("card-ecdsa-1");
    let (_, pages) = print(&app, card, K::FamilyRegisterIndividual, json!({})).await;
    let text = pages.concat();
    has(
        &text,
        &[
            "戸籍個人事項証明書",
            "戸籍に記録されている者　日向　花子",
            "一部の者について",
        ],
    );
    assert_eq!(count(&text, "戸籍に記録されている者"), 1);

    let third = kofu::devkit::demo_registers::FAMILY_REGISTER[2].name;
    let (_, pages) = print(
        &app,
        card,
        K::FamilyRegisterIndividual,
        json!({"position": 3}),
    )
    .await;
    has(
        &pages.concat(),
        &[&format!("戸籍に記録されている者　{third}")],
    );

    let (_, code) = refused(
        &app,
        card,
        K::FamilyRegisterIndividual,
        json!({"position": 99}),
    )
    .await;
    assert_eq!(code, "invalid_options");
}

#[tokio::test]
async fn family_register_addresses_show_each_members_history() {
    let app = TestApp::spawn().await;
    let (_, pages) = print(
        &app,
        app.pki.card("card-rsa-1"),
        K::FamilyRegisterAddresses,
        json!({}),
    )
    .await;
    let text = pages.concat();
    has(
        &text,
        &[
            "戸籍の附票の写し",
            "筆頭者",
            "東京都ひなた市朝日町三丁目1番1号",
            "住所を定めた年月日",
            "平成17年(2005年)10月1日",
            "令和",
            "戸籍の附票の原本と相違ない",
        ],
    );
}

#[tokio::test]
async fn family_register_kinds_are_refused_where_the_register_is_kept_elsewhere() {
    let app = TestApp::spawn().await;
    // 青葉's 本籍 is in Osaka: no register here.
    for kind in [
        K::FamilyRegisterFull,
        K::FamilyRegisterIndividual,
        K::FamilyRegisterAddresses,
    ] {
        let (item, code) = refused(&app, app.pki.card("card-rsa-2"), kind, json!({})).await;
        assert_eq!(item["reason"]["code"], "domicile_elsewhere", "{kind}");
        assert_eq!(code, "domicile_elsewhere", "{kind}");
    }
}

#[tokio::test]
async fn a_register_showing_a_protected_member_is_refused() {
    let app = TestApp::spawn().await;
    // 一郎 (in the register, living here) comes under 支援措置.
    app.db()
        .await
        .batch_execute("UPDATE residents SET protected = true WHERE resident_code = '10000000037'")
        .await
        .unwrap();
    for kind in [K::FamilyRegisterFull, K::FamilyRegisterAddresses] {
        let (_, code) = refused(&app, app.pki.card("card-rsa-1"), kind, json!({})).await;
        assert_eq!(code, "protected", "{kind}");
    }
    // 太郎's own entry shows no one else.
    print(
        &app,
        app.pki.card("card-rsa-1"),
        K::FamilyRegisterIndividual,
        json!({}),
    )
    .await;
}

#[tokio::test]
async fn residence_certificate_for_chosen_members_by_position() {
    let app = TestApp::spawn().await;
    let card = app.pki.card("card-rsa-1");
    let options = json!({"whole_household": false, "show_householder": true, "show_domicile": false,
                         "show_my_number": false, "members": [1, 3]});
    let (_, pages) = print(&app, card, K::ResidenceCertificate, options).await;
    let text = pages.concat();
    has(
        &text,
        &["日向　太郎", "日向　一郎", "住民票の原本と相違ない"],
    );
    lacks(&text, &["日向　花子", "世帯全員"]);

    let bad = json!({"whole_household": false, "show_householder": false, "show_domicile": false,
                     "show_my_number": false, "members": [4]});
    let (_, code) = refused(&app, card, K::ResidenceCertificate, bad).await;
    assert_eq!(code, "invalid_options");
}

#[tokio::test]
async fn residence_certificate_prints_the_foreign_resident_fields_when_chosen() {
    let app = TestApp::spawn().await;
    let now = OffsetDateTime::now_utc();
    let card = app
        .pki
        .demo
        .user_auth_ca
        .issue_card(
            "card-foreign",
            &spec(
                CardKey::EcdsaP256,
                now - Duration::days(30),
                now + Duration::days(400),
            ),
        )
        .unwrap();
    let serial = kofu::devkit::demo_pki::card_serial(&card.cert_der).unwrap();
    assert!(
        kofu::devkit::demo_registers::link_card(
            &app.db().await,
            &serial,
            kofu::devkit::demo_registers::FOREIGN_RESIDENT,
        )
        .await
        .unwrap()
    );
    let plain = json!({"whole_household": false, "show_householder": false, "show_domicile": false,
                       "show_my_number": false});
    let (_, pages) = print(&app, &card, K::ResidenceCertificate, plain).await;
    has(&pages.concat(), &["NGUYEN VAN AN"]);
    lacks(&pages.concat(), &["ベトナム", "在留資格"]);

    let chosen = json!({"whole_household": false, "show_householder": false, "show_domicile": false,
                        "show_my_number": false, "show_foreign_resident_fields": true});
    let (_, pages) = print(&app, &card, K::ResidenceCertificate, chosen).await;
    has(
        &pages.concat(),
        &[
            "国籍・地域",
            "ベトナム",
            "在留カード番号",
            "AB12345678CD",
            "在留資格",
            "技術・人文知識・国際業務",
            "5年",
            "令和11年(2029年)3月31日",
        ],
    );
}
