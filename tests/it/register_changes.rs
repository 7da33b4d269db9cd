//! The family registers' three files (members, events, 附票) and the change
//! feed (異動): every error by line and field, all or nothing, the same file
//! twice changes nothing, and an order accepted after a change commits sees
//! it, even in a session opened before it (invariant 4).

use hyper::Method;
use serde_json::{Value, json};

use kofu::devkit::demo_registers::MUNICIPALITY_CODE;
use kofu::devkit::operator_pki::{
    JLIS_OPERATOR_STEM, MUNICIPALITY_OPERATOR_STEM, NEW_MUNICIPALITY_CODE,
    NEW_MUNICIPALITY_OPERATOR_STEM,
};
use kofu::devkit::sim::{OrderSpec, SimError, SimResponse};
use kofu::gateway::domain::CertificateKind;

use crate::harness::TestApp;

async fn post(
    app: &TestApp,
    stem: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> SimResponse {
    app.admin_client(stem)
        .call(
            Method::POST,
            path,
            &[("content-type", content_type.to_owned())],
            Some(body.as_bytes().to_vec()),
        )
        .await
        .unwrap()
}

fn json_of(r: &SimResponse) -> Value {
    serde_json::from_slice(&r.body).unwrap_or(Value::Null)
}

/// `line:field:reason` for each error of a refused file.
fn errors_of(r: &SimResponse) -> Vec<String> {
    assert_eq!(r.status, 422, "{}", String::from_utf8_lossy(&r.body));
    json_of(r)["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}:{}",
                e["line"],
                e["field"].as_str().unwrap(),
                e["reason"].as_str().unwrap()
            )
        })
        .collect()
}

async fn import(app: &TestApp, register: &str, body: &str) -> SimResponse {
    post(
        app,
        NEW_MUNICIPALITY_OPERATOR_STEM,
        &format!("/v1/admin/municipalities/{NEW_MUNICIPALITY_CODE}/imports?register={register}"),
        "text/csv",
        body,
    )
    .await
}

async fn changes(app: &TestApp, stem: &str, code: &str, lines: &[Value]) -> SimResponse {
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    post(
        app,
        stem,
        &format!("/v1/admin/municipalities/{code}/changes"),
        "application/x-ndjson",
        &body,
    )
    .await
}

/// Creates みなと町 offering the kinds of `fees`: its administration path.
async fn create_minato(app: &TestApp, fees: Value) -> String {
    let base = format!("/v1/admin/municipalities/{NEW_MUNICIPALITY_CODE}");
    let settings = json!({
        "name": "みなと町", "prefecture": "東京都", "mayor_title": "みなと町長",
        "mayor_name": "港　一郎", "seal_text": "みなと町長之印", "fees": fees
    });
    let op = NEW_MUNICIPALITY_OPERATOR_STEM;
    let r = post(app, op, &base, "application/json", &settings.to_string()).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    base
}

const REGISTER: &str = "domicile,head_name,compiled_on,closed_on,position,name,birth_date,sex,father_name,mother_name,relationship,resident_code,removed";
const DOMICILE: &str = "東京都みなと町一丁目1番地";

#[tokio::test]
async fn family_register_files_load_all_or_nothing_twice_change_nothing_and_pass_the_check() {
    let app = TestApp::spawn().await;
    let op = NEW_MUNICIPALITY_OPERATOR_STEM;
    let base = create_minato(
        &app,
        json!({"family_register_full": 450, "family_register_individual": 450,
               "family_register_addresses": 300}),
    )
    .await;
    let residents = "household_no,address,resident_code,register_order,name,name_kana,birth_date,sex,relationship,is_householder,became_resident_on\n\
        M001,東京都みなと町一丁目1番1号,20000000011,1,港　一郎,みなと　いちろう,1970-01-02,male,世帯主,true,1990-04-01\n\
        M001,東京都みなと町一丁目1番1号,20000000029,2,港　花,みなと　はな,1972-03-04,female,妻,false,1995-05-01\n";
    assert_eq!(import(&app, "residents", residents).await.status, 200);

    // Every wrong field of every line, and the register's own fields
    // differing between two of its lines; nothing is loaded.
    let bad = format!(
        "{REGISTER}\n\
         {DOMICILE},港　一郎,1995-05-01,,1,港　一郎,1970-01-02,male,港　太,港　梅,長男,20000000011,\n\
         {DOMICILE},港　一郎,1996-05-01,,2,港　花,1972-03-04,female,,,妻,20000000029,\n\
         {DOMICILE},港　一郎,1995-05-01,,1,港　一郎,1970-13-02,man,,,長男,2000,maybe\n\
         ,,1995-05-01,1990-01-01,,,,,,,,,\n"
    );
    assert_eq!(
        errors_of(&import(&app, "family_registers", &bad).await),
        [
            "3:compiled_on:differs_within_register",
            "4:birth_date:date_malformed",
            "4:removed:boolean_expected",
            "4:resident_code:digits_expected",
            "4:sex:value_not_allowed",
            "5:birth_date:required",
            "5:closed_on:before_compilation",
            "5:domicile:required",
            "5:head_name:required",
            "5:name:required",
            "5:position:required",
            "5:relationship:required",
            "5:sex:required",
        ]
    );
    let stored: i64 = app
        .scalar(
            "SELECT count(*) FROM family_registers WHERE municipality_code = $1",
            &[&NEW_MUNICIPALITY_CODE],
        )
        .await;
    assert_eq!(stored, 0, "a file with an error loads nothing");

    let good = format!(
        "{REGISTER}\n\
         {DOMICILE},港　一郎,1995-05-01,,1,港　一郎,1970-01-02,male,港　太,港　梅,長男,20000000011,\n\
         {DOMICILE},港　一郎,1995-05-01,,2,港　花,1972-03-04,female,浜　健,浜　春,長女,20000000029,\n"
    );
    let r = import(&app, "family_registers", &good).await;
    assert_eq!(
        json_of(&r),
        json!({"register": "family_registers", "records": 2, "inserted": 2, "updated": 0, "unchanged": 0})
    );
    assert_eq!(
        json_of(&import(&app, "family_registers", &good).await)["unchanged"],
        2,
        "the same file twice changes nothing"
    );
    // A person with a current entry cannot be given a second one.
    let second = format!(
        "{REGISTER}\n{DOMICILE},浜　健,2000-01-01,,1,港　花,1972-03-04,female,,,長女,20000000029,\n"
    );
    assert_eq!(
        errors_of(&import(&app, "family_registers", &second).await),
        ["2:resident_code:second_current_entry"]
    );

    let events = format!(
        "domicile,head_name,position,kind,occurred_on,reported_on,detail\n\
         {DOMICILE},港　一郎,1,birth,1970-01-02,1970-01-10,出生地　東京都みなと町\n\
         {DOMICILE},港　一郎,2,marriage,1995-05-01,1995-05-01,配偶者氏名　港　一郎\n\
         {DOMICILE},港　一郎,3,birth,2000-01-01,2000-01-02,\n\
         {DOMICILE},港　一郎,1,wedding,1995-05-01,1995-04-01,\n"
    );
    assert_eq!(
        errors_of(&import(&app, "family_register_events", &events).await),
        [
            "5:kind:value_not_allowed",
            "5:reported_on:before_occurrence"
        ]
    );
    let events: String = events.lines().take(3).map(|l| format!("{l}\n")).collect();
    assert_eq!(
        errors_of(
            &import(
                &app,
                "family_register_events",
                &format!("{events}{DOMICILE},港　一郎,3,birth,2000-01-01,2000-01-02,\n")
            )
            .await
        ),
        ["4:position:member_not_found"]
    );
    let r = import(&app, "family_register_events", &events).await;
    assert_eq!(json_of(&r)["inserted"], 2);
    assert_eq!(
        json_of(&import(&app, "family_register_events", &events).await)["unchanged"],
        2
    );

    // The 附票: one current address per member, unless the file ends the other.
    let addresses = format!(
        "domicile,head_name,position,address,from_date,to_date\n\
         {DOMICILE},港　一郎,1,東京都みなと町一丁目1番1号,1995-05-01,\n\
         {DOMICILE},港　一郎,2,東京都みなと町一丁目1番1号,1995-05-01,\n"
    );
    assert_eq!(
        json_of(&import(&app, "family_register_addresses", &addresses).await)["inserted"],
        2
    );
    let moved = format!(
        "domicile,head_name,position,address,from_date,to_date\n\
         {DOMICILE},港　一郎,1,東京都みなと町二丁目2番2号,2020-01-01,\n"
    );
    assert_eq!(
        errors_of(&import(&app, "family_register_addresses", &moved).await),
        ["2:to_date:second_current_address"]
    );
    let moved =
        format!("{moved}{DOMICILE},港　一郎,1,東京都みなと町一丁目1番1号,1995-05-01,2020-01-01\n");
    let r = import(&app, "family_register_addresses", &moved).await;
    assert_eq!(
        json_of(&r),
        json!({"register": "family_register_addresses", "records": 2, "inserted": 1, "updated": 1, "unchanged": 0})
    );

    // With them, every family-register kind renders in the check.
    let report = json_of(
        &app.admin_client(op)
            .call(Method::GET, &format!("{base}/check"), &[], None)
            .await
            .unwrap(),
    );
    for kind in [
        "family_register_full",
        "family_register_individual",
        "family_register_addresses",
    ] {
        let check = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == format!("render.{kind}"))
            .unwrap();
        assert_eq!(check["passed"], true, "{kind}: {check}");
    }
}

/// The check result named `name` in `base`'s checklist.
async fn check_named(app: &TestApp, base: &str, name: &str) -> Value {
    let report = json_of(
        &app.admin_client(NEW_MUNICIPALITY_OPERATOR_STEM)
            .call(Method::GET, &format!("{base}/check"), &[], None)
            .await
            .unwrap(),
    );
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no {name} in {report}"))
}

#[tokio::test]
async fn a_register_whose_people_live_elsewhere_passes_the_check_with_one_of_them() {
    let app = TestApp::spawn().await;
    let base = create_minato(&app, json!({"family_register_full": 450})).await;
    // みなと町's own resident has their 本籍 elsewhere; the one register it
    // keeps lists 青葉 健, who lives in ひなた市.
    let residents = "household_no,address,resident_code,register_order,name,name_kana,birth_date,sex,relationship,is_householder,became_resident_on\n\
        M001,東京都みなと町一丁目1番1号,20000000011,1,港　一郎,みなと　いちろう,1970-01-02,male,世帯主,true,1990-04-01\n";
    assert_eq!(import(&app, "residents", residents).await.status, 200);
    let check = check_named(&app, &base, "render.family_register_full").await;
    assert_eq!(check["passed"], false, "{check}");
    assert_eq!(
        check["detail"],
        "no member of an open register here is a resident kofu serves yet"
    );
    let register = format!(
        "{REGISTER}\n\
         東京都みなと町五丁目5番地,青葉　健,1990-01-01,,1,青葉　健,1959-01-07,male,,,長男,10000000045,\n"
    );
    assert_eq!(
        import(&app, "family_registers", &register).await.status,
        200
    );
    let check = check_named(&app, &base, "render.family_register_full").await;
    assert_eq!(check["passed"], true, "{check}");
    assert!(
        !check.to_string().contains("青葉"),
        "the detail names no one: {check}"
    );
}

/// 太郎's active seal registration number in the demo.
async fn demo_seal_no(app: &TestApp) -> String {
    app.scalar(
        "SELECT s.registration_no FROM seal_registrations s JOIN residents r ON r.id = s.resident_id
          WHERE r.resident_code = '10000000011' AND s.abolished_on IS NULL",
        &[],
    )
    .await
}

async fn refusal(result: Result<kofu::devkit::sim::Ack, SimError>) -> String {
    match result {
        Err(SimError::Refused { code, .. }) => code,
        other => panic!("accepted: {other:?}"),
    }
}

#[tokio::test]
async fn a_change_batch_is_applied_whole_or_not_at_all_with_every_error() {
    let app = TestApp::spawn().await;
    let op = MUNICIPALITY_OPERATOR_STEM;
    let seal = demo_seal_no(&app).await;
    // A good first line, then four refused by the registers.
    let batch = |last: Value| {
        vec![
            json!({"change": "seal_abolished", "registration_no": seal, "abolished_on": "2026-01-05"}),
            json!({"change": "protection_on", "resident_code": "99999999999"}),
            json!({"change": "move_out", "resident_code": "10000000045"}),
            json!({"change": "seal_abolished", "registration_no": "NO-SUCH", "abolished_on": "2026-01-05"}),
            json!({"change": "family_register_closed", "domicile": "x", "head_name": "y", "closed_on": "2026-01-05"}),
            last,
        ]
    };
    let r = changes(
        &app,
        op,
        MUNICIPALITY_CODE,
        &batch(json!({"change": "wedding"})),
    )
    .await;
    assert_eq!(
        errors_of(&r),
        ["6:change:change_unknown"],
        "unreadable lines first"
    );
    let move_in = json!({"change": "move_in", "resident_code": "10000000011"});
    let r = changes(&app, op, MUNICIPALITY_CODE, &batch(move_in)).await;
    let errors = errors_of(&r);
    assert_eq!(
        &errors[..5],
        [
            "2:resident_code:resident_not_found",
            "3:moved_out_on:required",
            "4:registration_no:registration_not_found",
            "5:head_name:register_not_found",
            "6:address:required",
        ],
        "{errors:?}"
    );
    assert_eq!(
        demo_seal_no(&app).await,
        seal,
        "the good first line was rolled back with the rest"
    );
    // Another municipality's operator, and J-LIS, may not post changes.
    for stem in [NEW_MUNICIPALITY_OPERATOR_STEM, JLIS_OPERATOR_STEM] {
        let r = changes(&app, stem, MUNICIPALITY_CODE, &[]).await;
        assert_eq!(r.status, 403, "{stem}");
    }
    let r = post(
        &app,
        op,
        &format!("/v1/admin/municipalities/{MUNICIPALITY_CODE}/changes"),
        "text/csv",
        "change\n",
    )
    .await;
    assert_eq!(
        r.problem_code().as_deref(),
        Some("import_format_unsupported")
    );
}

#[tokio::test]
async fn an_order_accepted_after_a_change_commits_sees_it_even_in_a_session_opened_before() {
    let app = TestApp::spawn().await;
    let op = MUNICIPALITY_OPERATOR_STEM;
    let card = app.pki.card("card-rsa-1");
    let copier = app.copier(1);
    let seal_order = OrderSpec::of(CertificateKind::SealRegistration, json!({}));

    // 印鑑登録 abolished: an open session's seal order is refused.
    let s = copier.open_session().await.unwrap();
    let menu = copier.present_card(&s, card, "ja").await.unwrap();
    let seal_item = |menu: &Value| {
        menu["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["kind"] == "seal_registration")
            .unwrap()["available"]
            .clone()
    };
    assert_eq!(seal_item(&menu), true);
    let seal = demo_seal_no(&app).await;
    let r = changes(
        &app,
        op,
        MUNICIPALITY_CODE,
        &[json!({"change": "seal_abolished", "registration_no": seal, "abolished_on": "2026-01-05"})],
    )
    .await;
    assert_eq!(
        json_of(&r),
        json!({"changes": 1, "by_change": {"seal_abolished": 1}})
    );
    let code = refusal(copier.place_order(s.session_id, "seal", &seal_order).await).await;
    assert_eq!(code, "seal_abolished");
    assert_eq!(
        seal_item(
            &copier
                .present_card(&copier.open_session().await.unwrap(), card, "ja")
                .await
                .unwrap()
        ),
        false
    );

    // A new seal registered through the feed: printable at once.
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD
        .encode(kofu::devkit::demo_registers::seal_impression_png("日"));
    let r = changes(
        &app,
        op,
        MUNICIPALITY_CODE,
        &[json!({"change": "seal_registered", "resident_code": "10000000011",
                 "registration_no": "S-NEW-1", "impression_png": png, "registered_on": "2026-01-06"})],
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    copier.issue(card, &seal_order, "ja").await.unwrap();

    // 支援措置 on: refused in a session opened before; off again: issued.
    let s = copier.open_session().await.unwrap();
    copier.present_card(&s, card, "ja").await.unwrap();
    let protect = |on: bool| json!({"change": if on { "protection_on" } else { "protection_off" }, "resident_code": "10000000011"});
    assert_eq!(
        changes(&app, op, MUNICIPALITY_CODE, &[protect(true)])
            .await
            .status,
        200
    );
    let code = refusal(
        copier
            .place_order(s.session_id, "p", &OrderSpec::default())
            .await,
    )
    .await;
    assert_eq!(code, "protected");
    assert_eq!(
        changes(&app, op, MUNICIPALITY_CODE, &[protect(false)])
            .await
            .status,
        200
    );
    copier
        .issue(card, &OrderSpec::default(), "ja")
        .await
        .unwrap();

    // 転出届, then 転出: refused with each reason; the seal ends with the move.
    let s = copier.open_session().await.unwrap();
    copier.present_card(&s, card, "ja").await.unwrap();
    let r = changes(
        &app,
        op,
        MUNICIPALITY_CODE,
        &[json!({"change": "moving_out", "resident_code": "10000000011"})],
    )
    .await;
    assert_eq!(r.status, 200);
    let code = refusal(
        copier
            .place_order(s.session_id, "m1", &OrderSpec::default())
            .await,
    )
    .await;
    assert_eq!(code, "moving_out");
    let r = changes(
        &app,
        op,
        MUNICIPALITY_CODE,
        &[json!({"change": "move_out", "resident_code": "10000000011", "moved_out_on": "2026-02-01"})],
    )
    .await;
    assert_eq!(r.status, 200);
    let code = refusal(
        copier
            .place_order(s.session_id, "m2", &OrderSpec::default())
            .await,
    )
    .await;
    assert_eq!(code, "moved_out");
    let active: i64 = app
        .scalar(
            "SELECT count(*) FROM seal_registrations s JOIN residents r ON r.id = s.resident_id
              WHERE r.resident_code = '10000000011' AND s.abolished_on IS NULL",
            &[],
        )
        .await;
    assert_eq!(active, 0, "a move out abolishes the seal registration");
}

#[tokio::test]
async fn a_move_between_two_participating_municipalities_carries_the_card_to_the_new_one() {
    let app = TestApp::spawn().await;
    let card = app.pki.card("card-ecdsa-1");
    let minato = format!("/v1/admin/municipalities/{NEW_MUNICIPALITY_CODE}");
    let settings = json!({
        "name": "みなと町", "prefecture": "東京都", "mayor_title": "みなと町長",
        "mayor_name": "港　一郎", "seal_text": "みなと町長之印",
        "hours": {"residence_certificate": {"open": "00:00", "close": "24:00"}},
        "closed_days": [],
        "fees": {"residence_certificate": 350}
    });
    let op = NEW_MUNICIPALITY_OPERATOR_STEM;
    assert_eq!(
        post(&app, op, &minato, "application/json", &settings.to_string())
            .await
            .status,
        201
    );
    let move_in = json!({"change": "move_in", "household_no": "M500",
        "address": "東京都みなと町五丁目5番5号", "resident_code": "10000000029",
        "register_order": 1, "name": "日向　花子", "name_kana": "ひなた　はなこ",
        "birth_date": "1982-07-20", "sex": "female", "relationship": "世帯主",
        "is_householder": true, "became_resident_on": "1982-07-20", "moved_in_on": "2026-03-01",
        "domicile": "東京都ひなた市日向町一丁目2番地", "head_of_register": "日向　太郎"});
    // Still active in ひなた市: not hers to take.
    assert_eq!(
        errors_of(
            &changes(
                &app,
                op,
                NEW_MUNICIPALITY_CODE,
                std::slice::from_ref(&move_in)
            )
            .await
        ),
        ["1:resident_code:registered_in_another_municipality"]
    );
    let r = changes(
        &app,
        MUNICIPALITY_OPERATOR_STEM,
        MUNICIPALITY_CODE,
        &[json!({"change": "moving_out", "resident_code": "10000000029"})],
    )
    .await;
    assert_eq!(r.status, 200);
    let r = changes(
        &app,
        op,
        NEW_MUNICIPALITY_CODE,
        std::slice::from_ref(&move_in),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        json_of(&changes(&app, op, NEW_MUNICIPALITY_CODE, &[move_in]).await)["changes"],
        1,
        "the same batch again leaves her as once"
    );
    let here: String = app
        .scalar(
            "SELECT municipality_code FROM residents WHERE resident_code = '10000000029'",
            &[],
        )
        .await;
    assert_eq!(here, NEW_MUNICIPALITY_CODE);
    // Her card now prints みなと町's certificate, at みなと町's fee, once it is live.
    let r = app
        .admin_client(op)
        .call(Method::POST, &format!("{minato}/go-live"), &[], None)
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let issued = app
        .copier(1)
        .issue(card, &OrderSpec::default(), "ja")
        .await
        .unwrap();
    assert_eq!(issued.ack.amount_yen, 350);
    assert!(issued.document_number.contains(NEW_MUNICIPALITY_CODE));
    let text = crate::harness::squeezed(&crate::harness::pdftotext(&issued.pdf).join(""));
    assert!(text.contains("みなと町五丁目5番5号"), "{text}");
}
