//! Municipalities onboard themselves over the administration API: create,
//! versioned settings, the onboarding check and going live, each route for
//! its own municipality's operator only.

use hyper::Method;
use serde_json::{Value, json};

use kofu::devkit::demo_registers::MUNICIPALITY_CODE;
use kofu::devkit::operator_pki::{
    JLIS_OPERATOR_STEM, MUNICIPALITY_OPERATOR_STEM, NEW_MUNICIPALITY_CODE,
    NEW_MUNICIPALITY_OPERATOR_STEM, TWO_MUNICIPALITIES_OPERATOR_STEM,
};
use kofu::devkit::sim::{OrderSpec, SimError, SimResponse};
use kofu::gateway::domain::CertificateKind;

use crate::harness::TestApp;

async fn call(
    app: &TestApp,
    stem: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> SimResponse {
    let headers = [("content-type", "application/json".to_owned())];
    app.admin_client(stem)
        .call(
            method,
            path,
            &headers,
            body.map(|b| serde_json::to_vec(b).unwrap()),
        )
        .await
        .unwrap()
}

fn json_of(r: &SimResponse) -> Value {
    serde_json::from_slice(&r.body).unwrap_or(Value::Null)
}

fn minato() -> Value {
    json!({
        "name": "みなと町", "prefecture": "東京都", "mayor_title": "みなと町長",
        "mayor_name": "港　一郎", "seal_text": "みなと町長之印",
        "fees": {"residence_certificate": 300, "seal_registration": 300}
    })
}

/// Every municipality route, for municipality `code`, with a body where it takes one.
fn routes(code: &str) -> Vec<(Method, String, Option<Value>)> {
    let m = format!("/v1/admin/municipalities/{code}");
    vec![
        (Method::POST, m.clone(), Some(minato())),
        (Method::GET, m.clone(), None),
        (Method::PUT, format!("{m}/settings"), Some(minato())),
        (Method::GET, format!("{m}/check"), None),
        (Method::POST, format!("{m}/go-live"), None),
        (
            Method::POST,
            format!("{m}/imports?register=residents"),
            Some(json!([])),
        ),
        (Method::POST, format!("{m}/changes"), Some(json!([]))),
        (Method::GET, format!("{m}/settlement?date=2026-12-03"), None),
        (Method::GET, format!("{m}/domicile-registrations"), None),
        (Method::GET, format!("{m}/signing-keys"), None),
        (Method::POST, format!("{m}/signing-keys"), None),
    ]
}

#[tokio::test]
async fn every_municipality_route_refuses_other_operators() {
    let app = TestApp::spawn().await;
    for code in [MUNICIPALITY_CODE, NEW_MUNICIPALITY_CODE] {
        let own = if code == MUNICIPALITY_CODE {
            MUNICIPALITY_OPERATOR_STEM
        } else {
            NEW_MUNICIPALITY_OPERATOR_STEM
        };
        let others = [
            MUNICIPALITY_OPERATOR_STEM,
            NEW_MUNICIPALITY_OPERATOR_STEM,
            JLIS_OPERATOR_STEM,
            TWO_MUNICIPALITIES_OPERATOR_STEM,
        ];
        for (method, path, body) in routes(code) {
            for stem in others.iter().filter(|s| **s != own) {
                let r = call(&app, stem, method.clone(), &path, body.as_ref()).await;
                assert_eq!(r.status, 403, "{stem} {method} {path}");
                assert_eq!(
                    r.problem_code().as_deref(),
                    Some("operator_role_required"),
                    "{stem} {method} {path}"
                );
            }
        }
    }
    // Nothing was created or changed by the refused calls.
    let count: i64 = app
        .scalar(
            "SELECT count(*) FROM municipalities WHERE code = $1",
            &[&NEW_MUNICIPALITY_CODE],
        )
        .await;
    assert_eq!(count, 0);
    let versions: i64 = app
        .scalar("SELECT count(*) FROM municipality_settings", &[])
        .await;
    assert_eq!(versions, 1, "only the demo municipality's first version");
}

#[tokio::test]
async fn a_code_with_a_wrong_check_digit_is_refused_before_anything_else() {
    let app = TestApp::spawn().await;
    // 139991 was the demo's code until its check digit was checked.
    for (method, path, body) in routes("139991")
        .into_iter()
        .chain(routes("13999"))
        .chain(routes("13999８"))
    {
        let r = call(
            &app,
            MUNICIPALITY_OPERATOR_STEM,
            method.clone(),
            &path,
            body.as_ref(),
        )
        .await;
        assert_eq!(r.status, 400, "{method} {path}");
        assert_eq!(
            r.problem_code().as_deref(),
            Some("municipality_code_invalid")
        );
    }
}

#[tokio::test]
async fn a_new_municipality_is_created_versioned_and_not_live_until_its_check_passes() {
    let app = TestApp::spawn().await;
    let op = NEW_MUNICIPALITY_OPERATOR_STEM;
    let base = format!("/v1/admin/municipalities/{NEW_MUNICIPALITY_CODE}");

    // Every wrong field is reported, not just the first; nothing is stored.
    let mut bad = minato();
    bad["mayor_name"] = json!("");
    bad["fees"]["tax_certificate"] = json!(-5);
    bad["hours"] = json!({"seal_registration": {"open": "17:00", "close": "09:00"}});
    let r = call(&app, op, Method::POST, &base, Some(&bad)).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.problem_code().as_deref(), Some("settings_invalid"));
    let fields: Vec<String> = json_of(&r)["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["field"].as_str().unwrap(),
                e["reason"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        fields,
        [
            "mayor_name:required",
            "fees.tax_certificate:fee_out_of_range",
            "hours.seal_registration:closes_before_it_opens"
        ]
    );
    let mut misspelt = minato();
    misspelt["mayor_nmae"] = json!("x");
    let r = call(&app, op, Method::POST, &base, Some(&misspelt)).await;
    assert_eq!(r.status, 422);
    assert!(
        json_of(&r)["message"]
            .as_str()
            .unwrap()
            .contains("mayor_nmae")
    );
    assert_eq!(call(&app, op, Method::GET, &base, None).await.status, 404);

    // Created: version 1, year-end closure by default, not live, with a signing key.
    let r = call(&app, op, Method::POST, &base, Some(&minato())).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let created = json_of(&r);
    assert_eq!(created["settings_version"], 1);
    assert_eq!(created["live_at"], Value::Null);
    assert_eq!(
        created["settings"]["closed_days"],
        json!([{"from": "12-29", "to": "01-03"}])
    );
    let keys: i64 = app
        .scalar(
            "SELECT count(*) FROM signing_keys WHERE municipality_code = $1 AND retired_at IS NULL",
            &[&NEW_MUNICIPALITY_CODE],
        )
        .await;
    assert_eq!(keys, 1, "a new municipality signs from its first document");
    let r = call(&app, op, Method::POST, &base, Some(&minato())).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.problem_code().as_deref(), Some("municipality_exists"));

    // A change is a new version; the same settings again make none; the
    // old version stays readable.
    let mut changed = minato();
    changed["fees"]["residence_certificate"] = json!(250);
    let r = call(
        &app,
        op,
        Method::PUT,
        &format!("{base}/settings"),
        Some(&changed),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(json_of(&r)["settings_version"], 2);
    let r = call(
        &app,
        op,
        Method::PUT,
        &format!("{base}/settings"),
        Some(&changed),
    )
    .await;
    assert_eq!(json_of(&r)["settings_version"], 2, "no change, no version");
    let r = call(&app, op, Method::GET, &format!("{base}?version=1"), None).await;
    assert_eq!(
        json_of(&r)["settings"]["fees"]["residence_certificate"],
        300
    );
    let r = call(&app, op, Method::GET, &format!("{base}?version=7"), None).await;
    assert_eq!(
        r.problem_code().as_deref(),
        Some("settings_version_not_found")
    );
    let fee: i32 = app
        .scalar(
            "SELECT amount_yen FROM fees WHERE municipality_code = $1 AND kind = 'residence_certificate'",
            &[&NEW_MUNICIPALITY_CODE],
        )
        .await;
    assert_eq!(fee, 250, "the issuance path reads the current version");

    // No residents yet: the check says what is missing, and going live is refused.
    let r = call(&app, op, Method::GET, &format!("{base}/check"), None).await;
    assert_eq!(r.status, 200);
    let report = json_of(&r);
    assert_eq!(report["passed"], false);
    let failed: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        failed,
        [
            "residents",
            "card_links",
            "render.residence_certificate",
            "render.seal_registration"
        ]
    );
    let r = call(&app, op, Method::POST, &format!("{base}/go-live"), None).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.problem_code().as_deref(), Some("onboarding_incomplete"));
    assert!(json_of(&r)["checks"].is_array());
    let live: Option<time::OffsetDateTime> = app
        .scalar(
            "SELECT live_at FROM municipalities WHERE code = $1",
            &[&NEW_MUNICIPALITY_CODE],
        )
        .await;
    assert_eq!(live, None);
}

#[tokio::test]
async fn the_demo_municipality_passes_its_check_rendering_every_kind_and_issues_nothing() {
    let app = TestApp::spawn().await;
    let base = format!("/v1/admin/municipalities/{MUNICIPALITY_CODE}");
    let r = call(
        &app,
        MUNICIPALITY_OPERATOR_STEM,
        Method::GET,
        &format!("{base}/check"),
        None,
    )
    .await;
    let report = json_of(&r);
    assert_eq!(report["passed"], true, "{report:#}");
    let rendered: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str().unwrap().strip_prefix("render."))
        .collect();
    let all: Vec<&str> = CertificateKind::ALL.iter().map(|k| k.wire_name()).collect();
    assert_eq!(rendered, all);
    let text = report.to_string();
    for resident in kofu::devkit::demo_registers::RESIDENTS {
        assert!(
            !text.contains(resident.name),
            "no resident's name in the checklist"
        );
    }
    let orders: i64 = app.scalar("SELECT count(*) FROM orders", &[]).await;
    assert_eq!(orders, 0, "the check issues nothing");
    let ticket: i64 = app.scalar("SELECT last FROM ticket_counter", &[]).await;
    assert_eq!(ticket, 0, "and takes no ticket");
    let r = call(
        &app,
        MUNICIPALITY_OPERATOR_STEM,
        Method::POST,
        &format!("{base}/go-live"),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(json_of(&r)["live_at"].is_string());
}

#[tokio::test]
async fn a_card_of_a_municipality_not_live_is_refused_and_binds_nothing() {
    let app = TestApp::spawn().await;
    let db = app.db().await;
    db.execute(
        "UPDATE municipalities SET live_at = NULL WHERE code = $1",
        &[&MUNICIPALITY_CODE],
    )
    .await
    .unwrap();
    let copier = app.copier(1);
    let session = copier.open_session().await.unwrap();
    match copier
        .present_card(&session, app.pki.card("card-rsa-1"), "en")
        .await
    {
        Err(SimError::Refused { status, code, .. }) => {
            assert_eq!(status, 403);
            assert_eq!(code, "municipality_not_live");
        }
        other => panic!("accepted a card of a municipality not live: {other:?}"),
    }
    let bound: i64 = app
        .scalar(
            "SELECT count(*) FROM sessions WHERE resident_id IS NOT NULL",
            &[],
        )
        .await;
    assert_eq!(bound, 0);
}

#[tokio::test]
async fn every_order_names_the_settings_version_it_was_accepted_under() {
    let app = TestApp::spawn().await;
    let copier = app.copier(1);
    let card = app.pki.card("card-rsa-1");
    let spec = OrderSpec::default();
    let first = copier.issue(card, &spec, "ja").await.unwrap();
    let mut settings = serde_json::to_value(kofu::devkit::demo_registers::settings()).unwrap();
    settings["fees"]["residence_certificate"] = json!(350);
    let r = call(
        &app,
        MUNICIPALITY_OPERATOR_STEM,
        Method::PUT,
        &format!("/v1/admin/municipalities/{MUNICIPALITY_CODE}/settings"),
        Some(&settings),
    )
    .await;
    assert_eq!(r.status, 200);
    let second = copier.issue(card, &spec, "ja").await.unwrap();
    let rows = app
        .db()
        .await
        .query(
            "SELECT id, settings_version, amount_yen FROM orders ORDER BY ticket",
            &[],
        )
        .await
        .unwrap();
    let seen: Vec<(uuid::Uuid, Option<i32>, i32)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        seen,
        [
            (first.ack.order_id, Some(1), 200),
            (second.ack.order_id, Some(2), 350)
        ]
    );
}

async fn import(
    app: &TestApp,
    stem: &str,
    code: &str,
    content_type: &str,
    body: &str,
) -> SimResponse {
    app.admin_client(stem)
        .call(
            Method::POST,
            &format!("/v1/admin/municipalities/{code}/imports?register=residents"),
            &[("content-type", content_type.to_owned())],
            Some(body.as_bytes().to_vec()),
        )
        .await
        .unwrap()
}

const HEADER: &str = "household_no,address,resident_code,register_order,name,name_kana,birth_date,sex,relationship,is_householder,became_resident_on,my_number";

fn minato_csv() -> String {
    format!(
        "{HEADER}\n\
         M001,東京都みなと町一丁目1番1号,20000000011,1,港　一郎,みなと　いちろう,1970-01-02,male,世帯主,true,1990-04-01,123456789018\n\
         M001,東京都みなと町一丁目1番1号,20000000029,2,港　花,みなと　はな,1972-03-04,female,妻,false,1995-05-01,\n\
         M002,\"東京都みなと町二丁目3番4号　みなとハイツ1,2号\",20000000037,1,浜　健,はま　けん,1988-12-31,male,世帯主,true,2010-01-01,\n"
    )
}

#[tokio::test]
async fn a_residents_file_loads_all_or_nothing_and_twice_changes_nothing() {
    let app = TestApp::spawn().await;
    let op = NEW_MUNICIPALITY_OPERATOR_STEM;
    let base = format!("/v1/admin/municipalities/{NEW_MUNICIPALITY_CODE}");
    // Before the municipality exists there is nothing to load into.
    let r = import(&app, op, NEW_MUNICIPALITY_CODE, "text/csv", &minato_csv()).await;
    assert_eq!(r.problem_code().as_deref(), Some("municipality_not_found"));
    assert_eq!(
        call(&app, op, Method::POST, &base, Some(&minato()))
            .await
            .status,
        201
    );

    // A file with faults on several lines: every one is named, nothing loads.
    let bad = format!(
        "{HEADER}\n\
         M001,東京都みなと町一丁目1番1号,20000000011,1,港　一郎,みなと　いちろう,1970-01-02,male,世帯主,true,1990-04-01,123456789017\n\
         M001,別の住所,2000000002,2,,みなと　はな,1972-02-30,f,妻,false,1995-05-01,\n\
         M002,東京都みなと町二丁目3番4号,20000000011,1,浜　健,はま　けん,1988-12-31,male,世帯主,yes,2010-01-01,\n"
    );
    let r = import(
        &app,
        op,
        NEW_MUNICIPALITY_CODE,
        "text/csv; charset=utf-8",
        &bad,
    )
    .await;
    assert_eq!(r.status, 422, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.problem_code().as_deref(), Some("import_invalid"));
    let answer = json_of(&r);
    let errors: Vec<String> = answer["errors"]
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
        .collect();
    assert_eq!(
        errors,
        [
            "2:my_number:check_digit_wrong",
            "3:birth_date:date_malformed",
            "3:name:required",
            "3:resident_code:digits_expected",
            "3:sex:value_not_allowed",
            "4:is_householder:boolean_expected",
        ]
    );
    assert_eq!(answer["error_count"], 6);
    let body = String::from_utf8_lossy(&r.body);
    for value in ["港　一郎", "123456789017", "別の住所", "20000000011"] {
        assert!(!body.contains(value), "an error names no value");
    }
    let residents: i64 = app
        .scalar(
            "SELECT count(*) FROM residents WHERE municipality_code = $1",
            &[&NEW_MUNICIPALITY_CODE],
        )
        .await;
    assert_eq!(residents, 0, "all or nothing");

    // The good file loads; the same file again changes nothing.
    let r = import(&app, op, NEW_MUNICIPALITY_CODE, "text/csv", &minato_csv()).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        json_of(&r),
        json!({"register": "residents", "records": 3, "inserted": 3, "updated": 0, "unchanged": 0})
    );
    let stamp: time::OffsetDateTime = app
        .scalar(
            "SELECT max(updated_at) FROM residents WHERE municipality_code = $1",
            &[&NEW_MUNICIPALITY_CODE],
        )
        .await;
    let r = import(&app, op, NEW_MUNICIPALITY_CODE, "text/csv", &minato_csv()).await;
    assert_eq!(
        json_of(&r),
        json!({"register": "residents", "records": 3, "inserted": 0, "updated": 0, "unchanged": 3})
    );
    let again: time::OffsetDateTime = app
        .scalar(
            "SELECT max(updated_at) FROM residents WHERE municipality_code = $1",
            &[&NEW_MUNICIPALITY_CODE],
        )
        .await;
    assert_eq!(stamp, again, "no row was written the second time");
    let address: String = app
        .scalar(
            "SELECT h.address FROM residents r JOIN households h ON h.id = r.household_id
              WHERE r.resident_code = '20000000037'",
            &[],
        )
        .await;
    assert_eq!(
        address, "東京都みなと町二丁目3番4号　みなとハイツ1,2号",
        "quoted CSV"
    );

    // NDJSON with the same fields: one change is one update.
    let ndjson = "{\"household_no\":\"M002\",\"address\":\"東京都みなと町二丁目3番4号　みなとハイツ1,2号\",\"resident_code\":\"20000000037\",\"register_order\":1,\"name\":\"浜　健\",\"name_kana\":\"はま　けん\",\"birth_date\":\"1988-12-31\",\"sex\":\"male\",\"relationship\":\"世帯主\",\"is_householder\":true,\"became_resident_on\":\"2010-01-01\",\"protected\":true}\n";
    let r = import(
        &app,
        op,
        NEW_MUNICIPALITY_CODE,
        "application/x-ndjson",
        ndjson,
    )
    .await;
    assert_eq!(
        json_of(&r),
        json!({"register": "residents", "records": 1, "inserted": 0, "updated": 1, "unchanged": 0})
    );
    let protected: bool = app
        .scalar(
            "SELECT protected FROM residents WHERE resident_code = '20000000037'",
            &[],
        )
        .await;
    assert!(protected);

    // Another municipality's resident is not this file's to change.
    let demo_resident = format!(
        "{HEADER}\nM009,東京都みなと町九丁目,10000000011,1,日向　太郎,ひなた　たろう,1980-04-01,male,世帯主,true,2010-06-15,\n"
    );
    let r = import(&app, op, NEW_MUNICIPALITY_CODE, "text/csv", &demo_resident).await;
    assert_eq!(r.status, 422);
    assert_eq!(
        json_of(&r)["errors"],
        json!([{"line": 2, "field": "resident_code", "reason": "registered_in_another_municipality"}])
    );
    let r = import(&app, op, NEW_MUNICIPALITY_CODE, "application/pdf", "x").await;
    assert_eq!(r.status, 415);
    assert_eq!(
        r.problem_code().as_deref(),
        Some("import_format_unsupported")
    );
    let r = app
        .admin_client(op)
        .call(
            Method::POST,
            &format!("{base}/imports?register=pets"),
            &[("content-type", "text/csv".to_owned())],
            Some(b"a\n".to_vec()),
        )
        .await
        .unwrap();
    assert_eq!(r.problem_code().as_deref(), Some("import_register_unknown"));
    let r = import(
        &app,
        MUNICIPALITY_OPERATOR_STEM,
        NEW_MUNICIPALITY_CODE,
        "text/csv",
        &minato_csv(),
    )
    .await;
    assert_eq!(r.status, 403);
    let r = import(
        &app,
        JLIS_OPERATOR_STEM,
        NEW_MUNICIPALITY_CODE,
        "text/csv",
        &minato_csv(),
    )
    .await;
    assert_eq!(r.status, 403);
}

/// The demo settings with `change` applied, stored as the next version.
async fn set_demo(app: &TestApp, change: impl FnOnce(&mut Value)) {
    let r = put_demo(app, change).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

/// The demo settings with `change` applied, sent as the next version: the answer.
async fn put_demo(app: &TestApp, change: impl FnOnce(&mut Value)) -> SimResponse {
    let mut settings = serde_json::to_value(kofu::devkit::demo_registers::settings()).unwrap();
    change(&mut settings);
    call(
        app,
        MUNICIPALITY_OPERATOR_STEM,
        Method::PUT,
        &format!("/v1/admin/municipalities/{MUNICIPALITY_CODE}/settings"),
        Some(&settings),
    )
    .await
}

fn reason(menu: &Value, kind: &str) -> Option<String> {
    menu["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == kind)
        .and_then(|i| i["reason"]["code"].as_str().map(str::to_owned))
}

/// Hours that do not contain the present moment in Tokyo.
fn hours_closed_now() -> Value {
    let hour = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+9))
        .hour();
    if hour < 12 {
        json!({"open": "12:00", "close": "24:00"})
    } else {
        json!({"open": "00:00", "close": "12:00"})
    }
}

#[tokio::test]
async fn the_calendar_closes_a_kind_on_the_menu_and_at_ordering_with_its_reason() {
    let app = TestApp::spawn().await;
    let copier = app.copier(1);
    let card = app.pki.card("card-rsa-1");
    let today = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+9));
    let month_day = format!("{:02}-{:02}", u8::from(today.month()), today.day());
    let cases: [(&str, Value); 3] = [
        (
            "outside_service_hours",
            json!({"hours": {"residence_certificate": hours_closed_now()}}),
        ),
        (
            "closed_today",
            json!({"closed_days": [{"from": month_day, "to": month_day}]}),
        ),
        (
            "maintenance",
            json!({"maintenance": [{
                "from": (time::OffsetDateTime::now_utc() - time::Duration::hours(1))
                    .format(&time::format_description::well_known::Rfc3339).unwrap(),
                "to": (time::OffsetDateTime::now_utc() + time::Duration::hours(1))
                    .format(&time::format_description::well_known::Rfc3339).unwrap()
            }]}),
        ),
    ];
    for (code, change) in cases {
        set_demo(&app, |s| {
            for (k, v) in change.as_object().unwrap() {
                if k == "hours" {
                    s["hours"]["residence_certificate"] = v["residence_certificate"].clone();
                } else {
                    s[k] = v.clone();
                }
            }
        })
        .await;
        let session = copier.open_session().await.unwrap();
        let menu = copier.present_card(&session, card, "ja").await.unwrap();
        assert_eq!(
            reason(&menu, "residence_certificate").as_deref(),
            Some(code),
            "{menu:#}"
        );
        let other = if code == "outside_service_hours" {
            None
        } else {
            Some(code)
        };
        assert_eq!(
            reason(&menu, "tax_certificate").as_deref(),
            other,
            "{code}: only that kind's hours"
        );
        match copier
            .place_order(session.session_id, "k1", &OrderSpec::default())
            .await
        {
            Err(SimError::Refused { code: got, .. }) => assert_eq!(got, code),
            other => panic!("{code}: ordered while closed: {other:?}"),
        }
    }
    let orders: i64 = app.scalar("SELECT count(*) FROM orders", &[]).await;
    assert_eq!(orders, 0);
}

#[tokio::test]
async fn an_order_accepted_before_closing_is_printed_after_it_and_its_retry_gets_it() {
    let app = TestApp::spawn().await;
    let copier = app.copier(1);
    let card = app.pki.card("card-rsa-1");
    let session = copier.open_session().await.unwrap();
    copier.present_card(&session, card, "ja").await.unwrap();
    let spec = OrderSpec::default();
    let ack = copier
        .place_order(session.session_id, "k1", &spec)
        .await
        .unwrap();
    // The service closes the moment after the order was taken.
    set_demo(&app, |s| {
        s["hours"]["residence_certificate"] = hours_closed_now()
    })
    .await;
    let again = copier
        .place_order(session.session_id, "k1", &spec)
        .await
        .unwrap();
    assert_eq!(
        again.order_id, ack.order_id,
        "a retry gets the order accepted while open"
    );
    let document = copier
        .fetch_document(session.session_id, ack.order_id)
        .await
        .unwrap();
    assert_eq!(document.status, 200, "rendered and delivered after closing");
    assert_eq!(
        copier.confirm_printed(ack.order_id).await.unwrap().status,
        200
    );
    // A new order now is refused.
    match copier.place_order(session.session_id, "k2", &spec).await {
        Err(SimError::Refused { code, .. }) => assert_eq!(code, "outside_service_hours"),
        other => panic!("ordered after closing: {other:?}"),
    }
}

#[tokio::test]
async fn the_days_settlement_adds_up_to_the_orders_to_the_yen() {
    let app = TestApp::spawn().await;
    let card = app.pki.card("card-rsa-1");
    // Copiers of two store chains (demo-chain, neighbour-mart): the
    // settlement reads the chain off the copier certificate's CN.
    let a = app.copier(1);
    let b = app.copier(2);
    let two_copies = OrderSpec {
        copies: 2,
        ..OrderSpec::default()
    };
    let printed = [
        a.issue(card, &OrderSpec::default(), "ja").await.unwrap(),
        a.issue(card, &two_copies, "ja").await.unwrap(),
        b.issue(card, &OrderSpec::default(), "ja").await.unwrap(),
    ];
    // A failed print: voided and refunded, no commission.
    let session = b.open_session().await.unwrap();
    b.present_card(&session, card, "ja").await.unwrap();
    let ack = b
        .place_order(session.session_id, "v", &OrderSpec::default())
        .await
        .unwrap();
    b.fetch_document(session.session_id, ack.order_id)
        .await
        .unwrap();
    let failed = b.report_failed(ack.order_id).await.unwrap();
    assert_eq!(
        failed.status,
        200,
        "{}",
        String::from_utf8_lossy(&failed.body)
    );
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+9))
        .date()
        .to_string();
    let path = format!("/v1/admin/municipalities/{MUNICIPALITY_CODE}/settlement?date={today}");
    let r = call(&app, MUNICIPALITY_OPERATOR_STEM, Method::GET, &path, None).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let day = json_of(&r);
    let total = &day["total"];
    let fees: i64 = printed.iter().map(|i| i64::from(i.ack.amount_yen)).sum();
    assert_eq!(fees, 200 + 400 + 200);
    assert_eq!(total["printed_orders"], 3);
    assert_eq!(total["copies"], 4);
    assert_eq!(total["fees_yen"], fees);
    assert_eq!(total["commission_yen"], 4 * 123);
    assert_eq!(total["payable_yen"], fees - 4 * 123);
    assert_eq!(total["voided_orders"], 1);
    assert_eq!(total["refunds_yen"], 200);
    // The same sums straight from the orders.
    let (db_fees, db_commission): (i64, i64) = {
        let row = app
            .db()
            .await
            .query_one(
                "SELECT sum(amount_yen)::bigint, sum(commission_yen)::bigint FROM orders WHERE printed_at IS NOT NULL",
                &[],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!((db_fees, db_commission), (fees, 4 * 123));
    let chains: i64 = day["chains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["fees_yen"].as_i64().unwrap())
        .sum();
    assert_eq!(chains, fees, "the chains add up to the total");
    let names: Vec<&str> = day["chains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["store_chain"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["demo-chain", "neighbour-mart"]);
    assert_eq!(day["chains"][1]["voided_orders"], 1);
    assert_eq!(day["chains"][1]["fees_yen"], 200);
    // CSV: a line per chain and the total, the same figures.
    let r = call(
        &app,
        MUNICIPALITY_OPERATOR_STEM,
        Method::GET,
        &format!("{path}&format=csv"),
        None,
    )
    .await;
    let csv = String::from_utf8(r.body.to_vec()).unwrap();
    assert!(
        csv.starts_with("date,municipality_code,store_chain,"),
        "{csv}"
    );
    assert!(
        csv.lines()
            .any(|l| l == format!("{today},{MUNICIPALITY_CODE},TOTAL,3,4,800,492,308,1,200")),
        "{csv}"
    );
    // Another day has nothing; a malformed date is refused.
    let r = call(
        &app,
        MUNICIPALITY_OPERATOR_STEM,
        Method::GET,
        &format!("/v1/admin/municipalities/{MUNICIPALITY_CODE}/settlement?date=2001-01-01"),
        None,
    )
    .await;
    assert_eq!(json_of(&r)["total"]["printed_orders"], 0);
    let r = call(
        &app,
        MUNICIPALITY_OPERATOR_STEM,
        Method::GET,
        &format!("/v1/admin/municipalities/{MUNICIPALITY_CODE}/settlement?date=3-12-2026"),
        None,
    )
    .await;
    assert_eq!(r.problem_code().as_deref(), Some("date_malformed"));
}

/// `kofu municipality …` as a clerk runs it: (exit code, stdout and
/// stderr). The process waits on a blocking thread, so the gateway in this
/// test's runtime keeps serving it.
async fn kofu_municipality(app: &TestApp, stem: &str, args: Vec<String>) -> (i32, String) {
    let dir = &app.pki.dir;
    let admin = app.gateway.admin_addr.expect("admin listener");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kofu"));
    command
        .arg("municipality")
        .args(args)
        .env("KOFU_ADMIN_URL", format!("https://{admin}"))
        .env("KOFU_ADMIN_CA", dir.join("store-ca.pem"))
        .env("KOFU_OPERATOR_CERT", dir.join(format!("{stem}.pem")))
        .env("KOFU_OPERATOR_KEY", dir.join(format!("{stem}.key")));
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// The README's walkthrough: a new municipality, from nothing to its first
/// printed certificate, with the CLI and its own files (the J-LIS link of
/// the resident's card is J-LIS's call, as in production).
#[tokio::test]
async fn a_new_municipality_goes_from_nothing_to_its_first_printed_certificate_with_the_cli() {
    let app = TestApp::spawn().await;
    let app_ref = &app;
    let op = NEW_MUNICIPALITY_OPERATOR_STEM;
    let dir = crate::harness::scratch_dir().join(format!("walkthrough-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let settings = dir.join("minato.toml");
    std::fs::write(
        &settings,
        "name = \"みなと町\"\nname_en = \"Minato Town\"\nprefecture = \"東京都\"\n\
         mayor_title = \"みなと町長\"\nmayor_name = \"港　一郎\"\nseal_text = \"みなと町長之印\"\n\
         seal_image_file = \"seal.png\"\nclosed_days = []\n\
         [fees]\nresidence_certificate = 300\n\
         [hours.residence_certificate]\nopen = \"00:00\"\nclose = \"24:00\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("seal.png"),
        kofu::devkit::demo_registers::municipal_seal_png("みなと町"),
    )
    .unwrap();
    let residents = dir.join("residents.csv");
    std::fs::write(&residents, minato_csv()).unwrap();
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        format!("{HEADER}\nM001,x,2000000001,1,,k,1970-13-01,male,世帯主,true,1990-04-01,\n"),
    )
    .unwrap();
    let s = |p: &std::path::Path| p.display().to_string();
    let run = |stem: &'static str, args: Vec<String>| kofu_municipality(app_ref, stem, args);
    let v = |a: &[&str]| a.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();

    let (code, out) = run(
        op,
        v(&["create", NEW_MUNICIPALITY_CODE, "--settings", &s(&settings)]),
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("139980 東京都みなと町 (settings version 1), not live"),
        "{out}"
    );
    assert!(
        out.contains("residence_certificate: 300 yen, 00:00–24:00"),
        "{out}"
    );
    assert!(
        out.contains("seal: みなと町長之印 (printed as its image"),
        "{out}"
    );

    let (code, out) = run(
        op,
        v(&[
            "import",
            NEW_MUNICIPALITY_CODE,
            "--register",
            "residents",
            &s(&bad),
        ]),
    )
    .await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("refused: import_invalid"), "{out}");
    for line in [
        "line 2, birth_date: date_malformed",
        "line 2, name: required",
        "line 2, resident_code: digits_expected",
    ] {
        assert!(out.contains(line), "{line} in {out}");
    }
    let (code, out) = run(
        op,
        v(&[
            "import",
            NEW_MUNICIPALITY_CODE,
            "--register",
            "residents",
            &s(&residents),
        ]),
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("residents: 3 records: 3 inserted, 0 updated, 0 unchanged"),
        "{out}"
    );

    // Not ready: no card is linked yet.
    let (code, out) = run(op, v(&["check", NEW_MUNICIPALITY_CODE])).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("[ ] card_links"), "{out}");
    assert!(out.contains("[x] render.residence_certificate"), "{out}");
    let (code, out) = run(op, v(&["go-live", NEW_MUNICIPALITY_CODE])).await;
    assert_eq!(code, 1);
    assert!(out.contains("refused: onboarding_incomplete"), "{out}");

    // J-LIS links the resident's card.
    let card = &app.pki.unlinked;
    let serial = crate::harness::serial_hex(card);
    let r = call(
        &app,
        JLIS_OPERATOR_STEM,
        Method::POST,
        "/v1/admin/certificate-events",
        Some(&json!({"event_id": "minato-1", "kind": "issued", "serial": serial, "resident_code": "20000000011"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    // Before going live the card is refused with its own reason.
    let copier = app.copier(1);
    let session = copier.open_session().await.unwrap();
    match copier.present_card(&session, card, "ja").await {
        Err(SimError::Refused { code, .. }) => assert_eq!(code, "municipality_not_live"),
        other => panic!("{other:?}"),
    }

    let (code, out) = run(op, v(&["check", NEW_MUNICIPALITY_CODE])).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("onboarding check of 139980: passed"), "{out}");
    let (code, out) = run(op, v(&["go-live", NEW_MUNICIPALITY_CODE])).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("139980 is live since"), "{out}");

    // The first printed certificate.
    let issued = copier
        .issue(card, &OrderSpec::default(), "ja")
        .await
        .unwrap();
    assert_eq!(issued.ack.amount_yen, 300);
    let text = crate::harness::page_texts(&issued.pdf).concat();
    assert!(
        text.contains("みなと町長"),
        "issued in the new municipality's name"
    );
    assert!(text.contains("港"), "the new resident's certificate");
    assert_eq!(
        crate::harness::pdfimages(&issued.pdf),
        [(160, 160, "rgb".to_owned())],
        "with the seal image the settings file named"
    );

    let (code, out) = run(op, v(&["settlement", NEW_MUNICIPALITY_CODE])).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.lines()
            .any(|l| l.ends_with(",TOTAL,1,1,300,123,177,0,0")),
        "{out}"
    );
    let (code, out) = run(op, v(&["show", NEW_MUNICIPALITY_CODE, "--json"])).await;
    assert_eq!(code, 0);
    let shown: Value = serde_json::from_str(out.trim()).unwrap();
    assert!(shown["live_at"].is_string());

    // Refusals: another municipality's operator, and a gateway not there.
    let (code, out) = run(
        MUNICIPALITY_OPERATOR_STEM,
        v(&["show", NEW_MUNICIPALITY_CODE]),
    )
    .await;
    assert_eq!(code, 1);
    assert!(out.contains("refused: operator_role_required"), "{out}");
    let (code, out) = run(
        op,
        v(&[
            "show",
            NEW_MUNICIPALITY_CODE,
            "--url",
            "https://127.0.0.1:9",
        ]),
    )
    .await;
    assert_eq!(code, 2);
    assert!(out.contains("gateway_unreachable"), "{out}");
    let (code, _) = run(
        op,
        v(&[
            "create",
            NEW_MUNICIPALITY_CODE,
            "--settings",
            "/nonexistent.toml",
        ]),
    )
    .await;
    assert_eq!(code, 2);
}

/// 139980 with residents whose 戸籍 is kept by the demo municipality: 日向
/// 二郎 as the register has him, and 日向 次郎 written with another kanji.
/// Each gets a new card linked by J-LIS; 139980 goes live.
async fn minato_with_hinata_children(
    app: &TestApp,
) -> (
    kofu::devkit::demo_pki::DemoCard,
    kofu::devkit::demo_pki::DemoCard,
) {
    use kofu::devkit::demo_pki::CardKey;
    let op = NEW_MUNICIPALITY_OPERATOR_STEM;
    let mut settings = minato();
    settings["hours"] = json!({"residence_certificate": {"open": "00:00", "close": "24:00"}});
    settings["closed_days"] = json!([]);
    settings["fees"] = json!({"residence_certificate": 300});
    let base = format!("/v1/admin/municipalities/{NEW_MUNICIPALITY_CODE}");
    assert_eq!(
        call(app, op, Method::POST, &base, Some(&settings))
            .await
            .status,
        201
    );
    let csv = format!(
        "{HEADER}\n\
         M101,東京都みなと町三丁目1番1号,20000000100,1,日向　二郎,ひなた　じろう,2010-09-09,male,世帯主,true,2024-04-01,\n\
         M102,東京都みなと町三丁目2番2号,20000000118,1,日向　次郎,ひなた　じろう,2010-09-09,male,世帯主,true,2024-04-01,\n"
    );
    assert_eq!(
        import(app, op, NEW_MUNICIPALITY_CODE, "text/csv", &csv)
            .await
            .status,
        200
    );
    let now = time::OffsetDateTime::now_utc();
    let mut cards = Vec::new();
    for (label, resident) in [
        ("jiro-exact", "20000000100"),
        ("jiro-variant", "20000000118"),
    ] {
        let card = app
            .pki
            .demo
            .user_auth_ca
            .issue_card(
                label,
                &crate::harness::spec(
                    CardKey::EcdsaP256,
                    now - time::Duration::days(2),
                    now + time::Duration::days(365),
                ),
            )
            .unwrap();
        let serial = crate::harness::serial_hex(&card);
        let r = call(
            app,
            JLIS_OPERATOR_STEM,
            Method::POST,
            "/v1/admin/certificate-events",
            Some(&json!({"event_id": format!("link-{label}"), "kind": "issued", "serial": serial, "resident_code": resident})),
        )
        .await;
        assert_eq!(r.status, 200);
        cards.push(card);
    }
    let r = call(app, op, Method::POST, &format!("{base}/go-live"), None).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let variant = cards.pop().unwrap();
    (cards.pop().unwrap(), variant)
}

fn hinata_register() -> Value {
    json!({"municipality_code": MUNICIPALITY_CODE, "domicile": "東京都ひなた市日向町一丁目2番地", "head_of_register": "日向　太郎"})
}

async fn register_domicile(
    copier: &kofu::devkit::sim::CopierClient,
    card: &kofu::devkit::demo_pki::DemoCard,
    body: &Value,
) -> (SimResponse, Value) {
    let session = copier.open_session().await.unwrap();
    let menu = copier.present_card(&session, card, "ja").await.unwrap();
    let r = copier
        .post_json(
            &format!("/v1/sessions/{}/domicile-registrations", session.session_id),
            &[],
            body,
        )
        .await
        .unwrap();
    (r, menu)
}

async fn menu_of(
    copier: &kofu::devkit::sim::CopierClient,
    card: &kofu::devkit::demo_pki::DemoCard,
) -> Value {
    let session = copier.open_session().await.unwrap();
    copier.present_card(&session, card, "ja").await.unwrap()
}

#[tokio::test]
async fn a_matching_domicile_registration_is_active_at_once_and_a_register_change_ends_it() {
    let app = TestApp::spawn().await;
    let (exact, _) = minato_with_hinata_children(&app).await;
    let copier = app.copier(1);
    let (r, menu) = register_domicile(&copier, &exact, &hinata_register()).await;
    assert_eq!(menu["domicile_registrations"], json!([]));
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let made = json_of(&r);
    assert_eq!(
        made["status"], "active",
        "matched name, birth date, 本籍 and 筆頭者"
    );
    // Asking again answers the open one, not a second.
    let (again, _) = register_domicile(&copier, &exact, &hinata_register()).await;
    assert_eq!(again.status, 200);
    assert_eq!(json_of(&again)["registration_id"], made["registration_id"]);
    // The next visit shows it, at any copier.
    let menu = menu_of(&app.copier(2), &exact).await;
    assert_eq!(
        menu["domicile_registrations"],
        json!([{"registration_id": made["registration_id"], "municipality_code": MUNICIPALITY_CODE, "status": "active"}])
    );
    // A change of the 戸籍 (his entry removed by his marriage out of the
    // register, through ひなた市's change feed) ends it.
    let position = kofu::devkit::demo_registers::FAMILY_REGISTER
        .iter()
        .position(|m| m.name == "日向　二郎")
        .unwrap()
        + 1;
    let feed = json!({"change": "family_register_event", "domicile": "東京都ひなた市日向町一丁目2番地",
        "head_name": "日向　太郎", "position": position, "kind": "marriage", "removes_entry": true,
        "occurred_on": "2026-04-01", "reported_on": "2026-04-01", "detail": "配偶者氏名　港　花"});
    let r = app
        .admin_client(MUNICIPALITY_OPERATOR_STEM)
        .call(
            Method::POST,
            &format!("/v1/admin/municipalities/{MUNICIPALITY_CODE}/changes"),
            &[("content-type", "application/x-ndjson".to_owned())],
            Some(format!("{feed}\n").into_bytes()),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let menu = menu_of(&copier, &exact).await;
    assert_eq!(menu["domicile_registrations"][0]["status"], "ended");
    assert_eq!(
        menu["domicile_registrations"][0]["ended_reason"],
        "register_changed"
    );
    // Registering again now does not match: it waits for the staff.
    let (r, _) = register_domicile(&copier, &exact, &hinata_register()).await;
    assert_eq!(r.status, 201);
    assert_eq!(json_of(&r)["status"], "pending");
}

#[tokio::test]
async fn a_registration_that_does_not_match_waits_for_the_staff_and_works_once_approved() {
    let app = TestApp::spawn().await;
    let (_, variant) = minato_with_hinata_children(&app).await;
    let copier = app.copier(1);
    let (r, _) = register_domicile(&copier, &variant, &hinata_register()).await;
    assert_eq!(r.status, 201);
    let made = json_of(&r);
    assert_eq!(made["status"], "pending", "次郎 is not 二郎 to a machine");
    let id = made["registration_id"].as_str().unwrap().to_owned();

    // The 本籍 municipality's queue shows it with what the staff compare.
    let queue_path = format!("/v1/admin/municipalities/{MUNICIPALITY_CODE}/domicile-registrations");
    let r = call(
        &app,
        MUNICIPALITY_OPERATOR_STEM,
        Method::GET,
        &queue_path,
        None,
    )
    .await;
    let queue = json_of(&r);
    let entry = &queue["registrations"][0];
    assert_eq!(entry["registration_id"], id.as_str());
    assert_eq!(entry["name"], "日向　次郎");
    assert_eq!(entry["birth_date"], "2010-09-09");
    assert_eq!(entry["head_of_register"], "日向　太郎");
    assert!(entry.get("address").is_none() && entry.get("my_number").is_none());
    // The applicant's own municipality is not the one to decide.
    let approve = format!("/v1/admin/domicile-registrations/{id}/approve");
    for stem in [
        NEW_MUNICIPALITY_OPERATOR_STEM,
        JLIS_OPERATOR_STEM,
        TWO_MUNICIPALITIES_OPERATOR_STEM,
    ] {
        let r = call(
            &app,
            stem,
            Method::POST,
            &approve,
            Some(&json!({"position": 5})),
        )
        .await;
        assert_eq!(r.status, 403, "{stem}");
    }
    let r = call(
        &app,
        MUNICIPALITY_OPERATOR_STEM,
        Method::POST,
        &approve,
        Some(&json!({"position": 42})),
    )
    .await;
    assert_eq!(
        r.problem_code().as_deref(),
        Some("family_register_entry_not_found")
    );
    let r = call(
        &app,
        MUNICIPALITY_OPERATOR_STEM,
        Method::POST,
        &approve,
        Some(&json!({"position": 5})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(json_of(&r)["status"], "active");
    let r = call(
        &app,
        MUNICIPALITY_OPERATOR_STEM,
        Method::POST,
        &approve,
        Some(&json!({"position": 5})),
    )
    .await;
    assert_eq!(
        r.problem_code().as_deref(),
        Some("domicile_registration_not_pending")
    );
    let r = call(
        &app,
        MUNICIPALITY_OPERATOR_STEM,
        Method::GET,
        &queue_path,
        None,
    )
    .await;
    assert_eq!(
        json_of(&r)["registrations"],
        json!([]),
        "the queue is empty"
    );
    let menu = menu_of(&copier, &variant).await;
    assert_eq!(menu["domicile_registrations"][0]["status"], "active");

    // A rejection: registering elsewhere with a register that is not there.
    let mut wrong = hinata_register();
    wrong["head_of_register"] = json!("日向　大郎");
    app.db()
        .await
        .execute("DELETE FROM domicile_registrations", &[])
        .await
        .unwrap();
    let (r, _) = register_domicile(&copier, &variant, &wrong).await;
    let id = json_of(&r)["registration_id"].as_str().unwrap().to_owned();
    // The staff use the CLI: the queue, then the decision.
    let (code, out) = kofu_municipality(
        &app,
        MUNICIPALITY_OPERATOR_STEM,
        vec![
            "domicile-registrations".into(),
            "list".into(),
            MUNICIPALITY_CODE.into(),
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("1 pending registration(s) with 139998"),
        "{out}"
    );
    assert!(
        out.contains(&id)
            && out.contains("日向　次郎 (born 2010-09-09)")
            && out.contains("筆頭者 日向　大郎"),
        "{out}"
    );
    let (code, out) = kofu_municipality(
        &app,
        MUNICIPALITY_OPERATOR_STEM,
        vec!["domicile-registrations".into(), "reject".into(), id.clone()],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.trim(), format!("{id}: rejected"));
    let menu = menu_of(&copier, &variant).await;
    assert_eq!(menu["domicile_registrations"][0]["status"], "rejected");
    let r = call(
        &app,
        MUNICIPALITY_OPERATOR_STEM,
        Method::POST,
        "/v1/admin/domicile-registrations/not-a-uuid/reject",
        None,
    )
    .await;
    assert_eq!(
        r.problem_code().as_deref(),
        Some("domicile_registration_not_found")
    );
}

#[tokio::test]
async fn a_renewal_ends_a_registration_unless_the_policy_carries_it_across() {
    use kofu::devkit::demo_pki::CardKey;
    let app = TestApp::spawn().await;
    let (exact, _) = minato_with_hinata_children(&app).await;
    let copier = app.copier(1);
    let serial_hex = crate::harness::serial_hex;
    let now = time::OffsetDateTime::now_utc();
    let renew = |label: &str| {
        app.pki
            .demo
            .user_auth_ca
            .issue_card(
                label,
                &crate::harness::spec(
                    CardKey::EcdsaP256,
                    now - time::Duration::days(1),
                    now + time::Duration::days(365),
                ),
            )
            .unwrap()
    };
    let (r, _) = register_domicile(&copier, &exact, &hinata_register()).await;
    assert_eq!(json_of(&r)["status"], "active");
    // Default policy: the renewal ends it; the new card has none.
    let second = renew("jiro-renewed");
    let r = call(
        &app,
        JLIS_OPERATOR_STEM,
        Method::POST,
        "/v1/admin/certificate-events",
        Some(&json!({"event_id": "renew-1", "kind": "renewed", "serial": serial_hex(&exact), "new_serial": serial_hex(&second)})),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        menu_of(&copier, &second).await["domicile_registrations"],
        json!([])
    );
    let ended: String = app
        .scalar("SELECT ended_reason FROM domicile_registrations", &[])
        .await;
    assert_eq!(ended, "card_renewed");

    // With the policy on, the next renewal carries it to the new card.
    let (r, _) = register_domicile(&copier, &second, &hinata_register()).await;
    assert_eq!(json_of(&r)["status"], "active");
    set_demo(&app, |s| {
        s["policies"] = json!({"domicile_registration_survives_renewal": true})
    })
    .await;
    let third = renew("jiro-renewed-again");
    let r = call(
        &app,
        JLIS_OPERATOR_STEM,
        Method::POST,
        "/v1/admin/certificate-events",
        Some(&json!({"event_id": "renew-2", "kind": "renewed", "serial": serial_hex(&second), "new_serial": serial_hex(&third)})),
    )
    .await;
    assert_eq!(r.status, 200);
    let menu = menu_of(&copier, &third).await;
    assert_eq!(menu["domicile_registrations"][0]["status"], "active");
}

#[tokio::test]
async fn a_domicile_registration_is_refused_with_its_reason() {
    let app = TestApp::spawn().await;
    let (exact, _) = minato_with_hinata_children(&app).await;
    let copier = app.copier(1);
    let mut unknown = hinata_register();
    unknown["municipality_code"] = json!("131016");
    let (r, _) = register_domicile(&copier, &exact, &unknown).await;
    assert_eq!(
        r.problem_code().as_deref(),
        Some("domicile_municipality_unknown")
    );
    unknown["municipality_code"] = json!("139991");
    let (r, _) = register_domicile(&copier, &exact, &unknown).await;
    assert_eq!(
        r.problem_code().as_deref(),
        Some("domicile_municipality_unknown")
    );
    let mut empty = hinata_register();
    empty["domicile"] = json!("");
    let (r, _) = register_domicile(&copier, &exact, &empty).await;
    assert_eq!(r.problem_code().as_deref(), Some("invalid_options"));
    // Closed during the 本籍 municipality's maintenance, with the reason.
    set_demo(&app, |s| {
        s["maintenance"] = json!([{
            "from": (time::OffsetDateTime::now_utc() - time::Duration::hours(1))
                .format(&time::format_description::well_known::Rfc3339).unwrap(),
            "to": (time::OffsetDateTime::now_utc() + time::Duration::hours(1))
                .format(&time::format_description::well_known::Rfc3339).unwrap()
        }])
    })
    .await;
    let (r, _) = register_domicile(&copier, &exact, &hinata_register()).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.problem_code().as_deref(), Some("maintenance"));
    // A session without a verified card, and another copier's session.
    let session = copier.open_session().await.unwrap();
    let path = format!("/v1/sessions/{}/domicile-registrations", session.session_id);
    let r = copier
        .post_json(&path, &[], &hinata_register())
        .await
        .unwrap();
    assert_eq!(
        r.problem_code().as_deref(),
        Some("session_not_authenticated")
    );
    copier.present_card(&session, &exact, "ja").await.unwrap();
    let r = app
        .copier(2)
        .post_json(&path, &[], &hinata_register())
        .await
        .unwrap();
    assert_eq!(
        r.problem_code().as_deref(),
        Some("session_belongs_to_another_copier")
    );
    let r = copier
        .post_json(&path, &[], &json!({"x": 1}))
        .await
        .unwrap();
    assert_eq!(r.status, 400);
    let count: i64 = app
        .scalar("SELECT count(*) FROM domicile_registrations", &[])
        .await;
    assert_eq!(count, 0, "nothing stored by a refusal");
}

#[tokio::test]
async fn an_active_registration_puts_the_domicile_municipalitys_family_register_on_the_menu_and_prints_it()
 {
    let app = TestApp::spawn().await;
    let (exact, variant) = minato_with_hinata_children(&app).await;
    let copier = app.copier(2);
    let (r, _) = register_domicile(&copier, &exact, &hinata_register()).await;
    assert_eq!(json_of(&r)["status"], "active");

    // At the next visit, at any copier: ひなた市's 戸籍 kinds at its fees.
    let session = copier.open_session().await.unwrap();
    let menu = copier.present_card(&session, &exact, "ja").await.unwrap();
    let full = menu["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["kind"] == "family_register_full" && i["municipality_code"] == MUNICIPALITY_CODE
        })
        .unwrap_or_else(|| panic!("no registered-domicile item: {menu:#}"));
    assert_eq!(full["available"], true, "{full:#}");
    assert_eq!(full["fee_yen"], 450);
    assert_eq!(full["municipality_name"], "ひなた市");
    // His own municipality keeps no 戸籍 of his.
    let own = menu["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "family_register_full" && i.get("municipality_code").is_none())
        .unwrap();
    assert_eq!(own["available"], false);

    let order = |kind: &str| json!({"kind": kind, "municipality_code": MUNICIPALITY_CODE});
    let r = copier
        .post_json(
            &format!("/v1/sessions/{}/orders", session.session_id),
            &[("idempotency-key", "d1".to_owned())],
            &order("family_register_full"),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let ack: Value = json_of(&r);
    assert_eq!(ack["amount_yen"], 450, "ひなた市's fee");
    let order_id: uuid::Uuid = ack["order_id"].as_str().unwrap().parse().unwrap();
    let doc = copier
        .fetch_document(session.session_id, order_id)
        .await
        .unwrap();
    assert_eq!(doc.status, 200);
    let text = crate::harness::squeezed(&crate::harness::page_texts(&doc.body).concat());
    assert!(
        text.contains("ひなた市長"),
        "issued in the 本籍 municipality's name"
    );
    assert!(text.contains("日向二郎"), "his register");
    assert_eq!(copier.confirm_printed(order_id).await.unwrap().status, 200);
    let municipality: String = app
        .scalar(
            "SELECT municipality_code FROM orders WHERE id = $1",
            &[&order_id],
        )
        .await;
    assert_eq!(
        municipality, MUNICIPALITY_CODE,
        "settled to the municipality that issued it"
    );
    let signed_by: String = app
        .scalar(
            "SELECT signing_key_id FROM orders WHERE id = $1",
            &[&order_id],
        )
        .await;
    assert!(
        signed_by.starts_with(MUNICIPALITY_CODE),
        "signed with its key"
    );

    // Other kinds, and cards without an active registration, are refused.
    let r = copier
        .post_json(
            &format!("/v1/sessions/{}/orders", session.session_id),
            &[("idempotency-key", "d2".to_owned())],
            &order("residence_certificate"),
        )
        .await
        .unwrap();
    assert_eq!(r.problem_code().as_deref(), Some("invalid_options"));
    let (r, _) = register_domicile(&copier, &variant, &hinata_register()).await;
    assert_eq!(json_of(&r)["status"], "pending");
    let session = copier.open_session().await.unwrap();
    copier.present_card(&session, &variant, "ja").await.unwrap();
    let r = copier
        .post_json(
            &format!("/v1/sessions/{}/orders", session.session_id),
            &[("idempotency-key", "d3".to_owned())],
            &order("family_register_full"),
        )
        .await
        .unwrap();
    assert_eq!(
        r.problem_code().as_deref(),
        Some("domicile_elsewhere"),
        "pending is not active"
    );
}

async fn import_register(
    app: &TestApp,
    register: &str,
    content_type: &str,
    body: &str,
) -> SimResponse {
    app.admin_client(NEW_MUNICIPALITY_OPERATOR_STEM)
        .call(
            Method::POST,
            &format!(
                "/v1/admin/municipalities/{NEW_MUNICIPALITY_CODE}/imports?register={register}"
            ),
            &[("content-type", content_type.to_owned())],
            Some(body.as_bytes().to_vec()),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn a_seals_file_loads_all_or_nothing_and_lets_the_seal_certificate_pass_the_check() {
    use base64::Engine;
    let app = TestApp::spawn().await;
    let op = NEW_MUNICIPALITY_OPERATOR_STEM;
    let base = format!("/v1/admin/municipalities/{NEW_MUNICIPALITY_CODE}");
    assert_eq!(
        call(&app, op, Method::POST, &base, Some(&minato()))
            .await
            .status,
        201
    );
    assert_eq!(
        import(&app, op, NEW_MUNICIPALITY_CODE, "text/csv", &minato_csv())
            .await
            .status,
        200
    );
    let png = base64::engine::general_purpose::STANDARD
        .encode(kofu::devkit::demo_registers::seal_impression_png("港"));
    let check_path = format!("{base}/check");
    let seal_check = |report: &Value| {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "render.seal_registration")
            .unwrap()["passed"]
            .clone()
    };
    let report = json_of(&call(&app, op, Method::GET, &check_path, None).await);
    assert_eq!(seal_check(&report), false, "no seal registered yet");

    let bad = format!(
        "resident_code,registration_no,impression_png,registered_on,abolished_on\n\
         20000000011,S-1,notbase64!,2020-01-01,\n\
         99999999999,S-2,{png},2020-01-01,\n\
         20000000029,S-3,aGVsbG8=,2020-01-01,2019-01-01\n"
    );
    let r = import_register(&app, "seals", "text/csv", &bad).await;
    assert_eq!(r.status, 422, "{}", String::from_utf8_lossy(&r.body));
    let errors: Vec<String> = json_of(&r)["errors"]
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
        .collect();
    assert_eq!(
        errors,
        [
            "2:impression_png:base64_malformed",
            "4:abolished_on:before_registration",
            "4:impression_png:impression_not_png",
        ]
    );
    let unknown = format!(
        "resident_code,registration_no,impression_png,registered_on\n99999999999,S-2,{png},2020-01-01\n"
    );
    let r = import_register(&app, "seals", "text/csv", &unknown).await;
    assert_eq!(
        json_of(&r)["errors"],
        json!([{"line": 2, "field": "resident_code", "reason": "resident_not_found"}])
    );
    let good = format!(
        "resident_code,registration_no,impression_png,registered_on\n20000000011,S-1,{png},2020-01-01\n"
    );
    let r = import_register(&app, "seals", "text/csv", &good).await;
    assert_eq!(
        json_of(&r),
        json!({"register": "seals", "records": 1, "inserted": 1, "updated": 0, "unchanged": 0})
    );
    let r = import_register(&app, "seals", "text/csv", &good).await;
    assert_eq!(
        json_of(&r)["unchanged"],
        1,
        "the same file twice changes nothing"
    );
    // A second active registration for him is refused until the first is abolished.
    let second = format!(
        "{{\"resident_code\":\"20000000011\",\"registration_no\":\"S-9\",\"impression_png\":\"{png}\",\"registered_on\":\"2024-01-01\"}}\n"
    );
    let r = import_register(&app, "seals", "application/x-ndjson", &second).await;
    assert_eq!(
        json_of(&r)["errors"],
        json!([{"line": 1, "field": "abolished_on", "reason": "second_active_registration"}])
    );
    let replace = format!(
        "{{\"resident_code\":\"20000000011\",\"registration_no\":\"S-9\",\"impression_png\":\"{png}\",\"registered_on\":\"2024-01-01\"}}\n\
         {{\"resident_code\":\"20000000011\",\"registration_no\":\"S-1\",\"impression_png\":\"{png}\",\"registered_on\":\"2020-01-01\",\"abolished_on\":\"2024-01-01\"}}\n"
    );
    let r = import_register(&app, "seals", "application/x-ndjson", &replace).await;
    assert_eq!(
        json_of(&r),
        json!({"register": "seals", "records": 2, "inserted": 1, "updated": 1, "unchanged": 0}),
        "abolished and re-registered in one file"
    );
    let report = json_of(&call(&app, op, Method::GET, &check_path, None).await);
    assert_eq!(seal_check(&report), true, "{report:#}");
}

#[tokio::test]
async fn a_tax_file_loads_all_or_nothing_and_lets_the_tax_certificate_pass_the_check() {
    let app = TestApp::spawn().await;
    let op = NEW_MUNICIPALITY_OPERATOR_STEM;
    let base = format!("/v1/admin/municipalities/{NEW_MUNICIPALITY_CODE}");
    let mut settings = minato();
    settings["fees"] = json!({"tax_certificate": 300});
    assert_eq!(
        call(&app, op, Method::POST, &base, Some(&settings))
            .await
            .status,
        201
    );
    assert_eq!(
        import(&app, op, NEW_MUNICIPALITY_CODE, "text/csv", &minato_csv())
            .await
            .status,
        200
    );
    let header = "resident_code,fiscal_year,year_released_on,dependants,taxable_income_yen,municipal_tax_yen,prefectural_tax_yen,income_salary_receipts_yen,income_salary_yen,deduction_basic_yen,deduction_social_insurance_yen";
    let bad = format!(
        "{header}\n\
         20000000011,2026,2026-06-01,1,2500000,150000,100000,5000000,6000000,430000,\n\
         20000000029,1900,2026-06-01,0,0,0,0,,,,\n\
         20000000037,2026,2026-06-02,0,x,0,0,,,,\n"
    );
    let r = import_register(&app, "tax", "text/csv", &bad).await;
    assert_eq!(r.status, 422, "{}", String::from_utf8_lossy(&r.body));
    let errors: Vec<String> = json_of(&r)["errors"]
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
        .collect();
    assert_eq!(
        errors,
        [
            "2:income_salary_yen:more_than_receipts",
            "3:fiscal_year:out_of_range",
            "4:taxable_income_yen:integer_expected",
        ]
    );
    let good = format!(
        "{header}\n\
         20000000011,2026,2026-06-01,1,2500000,150000,100000,5000000,3560000,430000,700000\n\
         20000000029,2026,2026-06-01,0,0,0,0,,,430000,\n"
    );
    let r = import_register(&app, "tax", "text/csv", &good).await;
    assert_eq!(
        json_of(&r),
        json!({"register": "tax", "records": 2, "inserted": 2, "updated": 0, "unchanged": 0})
    );
    let r = import_register(&app, "tax", "text/csv", &good).await;
    assert_eq!(
        json_of(&r)["unchanged"],
        2,
        "the same file twice changes nothing"
    );
    let changed = good.replace(",430000,700000", ",430000,710000");
    let r = import_register(&app, "tax", "text/csv", &changed).await;
    assert_eq!(json_of(&r)["updated"], 1);
    let amount: i64 = app
        .scalar(
            "SELECT d.amount_yen FROM tax_deductions d JOIN tax_assessments a ON a.id = d.assessment_id
               JOIN residents r ON r.id = a.resident_id
              WHERE r.resident_code = '20000000011' AND d.kind = 'social_insurance'",
            &[],
        )
        .await;
    assert_eq!(amount, 710_000);
    let report = json_of(&call(&app, op, Method::GET, &format!("{base}/check"), None).await);
    let tax = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "render.tax_certificate")
        .unwrap()
        .clone();
    assert_eq!(tax["passed"], true, "{report:#}");
}

fn base64_of(bytes: &[u8]) -> Value {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes).into()
}

#[tokio::test]
async fn the_seal_image_and_date_form_print_as_set_and_an_older_order_keeps_its_own_seal() {
    use kofu::devkit::demo_registers::municipal_seal_png;
    use kofu::gateway::render::era::{format_era_date, format_japanese_date};
    let app = TestApp::spawn().await;
    let copier = app.copier(1);
    let card = app.pki.card("card-rsa-1");
    let spec = OrderSpec::default();
    let drawn = copier.issue(card, &spec, "ja").await.unwrap();
    assert!(
        crate::harness::pdfimages(&drawn.pdf).is_empty(),
        "the seal drawn, no image"
    );

    set_demo(&app, |s| {
        s["seal_image_png"] = base64_of(&municipal_seal_png("ひなた市 1"));
        s["layout"] = json!({"issue_date": "era"});
    })
    .await;
    let first = copier.issue(card, &spec, "ja").await.unwrap();
    assert_eq!(
        crate::harness::pdfimages(&first.pdf),
        [(160, 160, "rgb".to_owned())]
    );
    let text = crate::harness::pdftotext(&first.pdf).concat();
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+9))
        .date();
    assert!(text.contains(&format_era_date(today)), "{text}");
    assert!(!text.contains(&format_japanese_date(today)), "{text}");
    assert!(!text.contains("之印"), "the engraving is not drawn: {text}");

    // Another seal from now on; the order before it keeps its own.
    set_demo(&app, |s| {
        s["seal_image_png"] = base64_of(&municipal_seal_png("ひなた市 2"));
    })
    .await;
    let second = copier.issue(card, &spec, "ja").await.unwrap();
    assert_eq!(crate::harness::pdfimages(&second.pdf).len(), 1);
    let text = crate::harness::pdftotext(&second.pdf).concat();
    assert!(
        text.contains(&format_japanese_date(today)),
        "back to both forms"
    );
    let snapshots = app
        .db()
        .await
        .query(
            "SELECT snapshot->'municipality'->>'seal_image_sha256', settings_version
               FROM orders WHERE id = ANY($1) ORDER BY ticket",
            &[&vec![first.ack.order_id, second.ack.order_id]],
        )
        .await
        .unwrap();
    let digests: Vec<(Option<String>, Option<i32>)> =
        snapshots.iter().map(|r| (r.get(0), r.get(1))).collect();
    let sha = |seed: &str| {
        Some(kofu::gateway::render::model::sha256_hex(
            &municipal_seal_png(seed),
        ))
    };
    assert_eq!(
        digests,
        [(sha("ひなた市 1"), Some(2)), (sha("ひなた市 2"), Some(3))]
    );
    // Rendered again from its stored snapshot (the verification page's
    // content), the first order finds its version's seal and its digest.
    let read = kofu::gateway::render::reader::read(&first.pdf).unwrap();
    let payload =
        kofu::gateway::render::signing::QrPayload::parse(read.qr[0].as_deref().unwrap()).unwrap();
    let path = format!(
        "/v1/verify/{}?digest={}",
        payload.code,
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            payload.digest
        )
    );
    let r = app
        .anonymous()
        .call(Method::GET, &path, &[], None)
        .await
        .unwrap();
    let record = json_of(&r);
    assert_eq!(record["digest_matches"], true, "{record}");
    let pages: Vec<Vec<String>> = serde_json::from_value(record["content"]["pages"].clone())
        .expect("the content, rendered again with the first seal");
    assert_eq!(pages, read.pages);
}

#[tokio::test]
async fn a_seal_image_that_would_not_print_well_is_refused_by_field_and_reason() {
    let app = TestApp::spawn().await;
    let good = kofu::devkit::demo_registers::municipal_seal_png("x");
    let mut too_large = good.clone();
    too_large.resize(33 * 1024, 0);
    for (png, reason) in [
        (good[..80].to_vec(), "not_a_png"),
        (
            kofu::devkit::demo_registers::seal_impression_png("x"),
            "too_small",
        ),
        (too_large, "too_large"),
    ] {
        let r = put_demo(&app, |s| s["seal_image_png"] = base64_of(&png)).await;
        assert_eq!(r.status, 422, "{reason}");
        let body = json_of(&r);
        assert_eq!(
            body["errors"],
            json!([{"field": "seal_image_png", "reason": reason}]),
            "{body}"
        );
    }
    let r = put_demo(&app, |s| {
        s["seal_image_png"] = "not base64!".into();
        s["layout"] = json!({"issue_date": "era"});
    })
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(json_of(&r)["errors"][0]["reason"], "malformed");
    // Nothing was stored: still version 1.
    let r = call(
        &app,
        MUNICIPALITY_OPERATOR_STEM,
        Method::GET,
        &format!("/v1/admin/municipalities/{MUNICIPALITY_CODE}"),
        None,
    )
    .await;
    assert_eq!(json_of(&r)["settings_version"], 1);
}
