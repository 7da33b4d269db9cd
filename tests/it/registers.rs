//! The registers behind every certificate kind (sql/0017): the demo's
//! fixtures are there, the constraints refuse bad data for real in
//! PostgreSQL, and a filed move-out (`moving_out`) is refused like the
//! other ineligibilities, for the resident and for a household certificate
//! that would show them.

use kofu::devkit::demo_registers::{FAMILY_REGISTER, FOREIGN_RESIDENT, MUNICIPALITY_CODE};
use kofu::devkit::sim::{OrderSpec, SimError};
use kofu::gateway::registry::ResidenceOptions;
use tokio_postgres::error::SqlState;

use crate::harness::TestApp;

/// The SQLSTATE `sql` fails with (panics when it succeeds).
async fn refusal(app: &TestApp, sql: &str) -> SqlState {
    match app.db().await.batch_execute(sql).await {
        Ok(()) => panic!("accepted: {sql}"),
        Err(e) => e.code().cloned().unwrap_or_else(|| panic!("{e}")),
    }
}

#[tokio::test]
async fn the_demo_municipality_has_a_register_for_every_kind() {
    let app = TestApp::spawn().await;
    let former: String = app
        .scalar(
            "SELECT former_surname FROM residents WHERE resident_code = '10000000029'",
            &[],
        )
        .await;
    assert_eq!(former, "山田");
    let foreign: (String, String, String) = {
        let row = app
            .db()
            .await
            .query_one(
                "SELECT nationality, residence_card_number, alias FROM residents WHERE resident_code = $1",
                &[&FOREIGN_RESIDENT],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1), row.get(2))
    };
    assert_eq!(
        foreign,
        ("ベトナム".into(), "AB12345678CD".into(), "中村　安".into())
    );

    // Seals: two active, 花子's abolished; each impression a real PNG.
    let db = app.db().await;
    let seals = db
        .query(
            "SELECT r.resident_code, s.abolished_on IS NOT NULL, s.impression_png
               FROM seal_registrations s JOIN residents r ON r.id = s.resident_id
              WHERE s.municipality_code = $1 ORDER BY s.registration_no",
            &[&MUNICIPALITY_CODE],
        )
        .await
        .unwrap();
    let states: Vec<(String, bool)> = seals.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        states,
        vec![
            ("10000000011".into(), false),
            ("10000000029".into(), true),
            (FOREIGN_RESIDENT.into(), false),
        ]
    );
    for row in &seals {
        let png: Vec<u8> = row.get(2);
        let info = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        assert_eq!((info.info().width, info.info().height), (96, 96));
    }

    // Tax: items and deductions hang off their assessment.
    let items: i64 = app
        .scalar(
            "SELECT count(*) FROM tax_income_items i JOIN tax_assessments a ON a.id = i.assessment_id
              WHERE a.fiscal_year = 2026",
            &[],
        )
        .await;
    assert_eq!(items, 3);
    let released: i64 = app
        .scalar(
            "SELECT count(*) FROM tax_year_releases WHERE municipality_code = '139998'",
            &[],
        )
        .await;
    assert_eq!(released, 2);

    // 戸籍: seven members in order, three of them residents here, two removed.
    let members = db
        .query(
            "SELECT m.name, m.resident_code IS NOT NULL, m.removed
               FROM family_register_members m JOIN family_registers f ON f.id = m.register_id
              WHERE f.municipality_code = $1 ORDER BY m.position",
            &[&MUNICIPALITY_CODE],
        )
        .await
        .unwrap();
    let names: Vec<String> = members.iter().map(|r| r.get(0)).collect();
    let expected: Vec<String> = FAMILY_REGISTER.iter().map(|m| m.name.to_owned()).collect();
    assert_eq!(names, expected);
    assert_eq!(names.len(), 7);
    assert_eq!(members.iter().filter(|r| r.get::<_, bool>(1)).count(), 3);
    assert_eq!(members.iter().filter(|r| r.get::<_, bool>(2)).count(), 2);
    let current_addresses: i64 = app
        .scalar(
            "SELECT count(*) FROM family_register_addresses WHERE to_date IS NULL",
            &[],
        )
        .await;
    assert_eq!(current_addresses, 5, "the two removed members have none");
}

#[tokio::test]
async fn the_register_constraints_refuse_bad_data() {
    let app = TestApp::spawn().await;
    let taro = "(SELECT id FROM residents WHERE resident_code = '10000000011')";
    let png = "'\\x89504e470d0a1a0a'::bytea || decode(repeat('00', 80), 'hex')";
    let cases: Vec<(String, SqlState)> = vec![
        // A second active seal for one resident.
        (
            format!(
                "INSERT INTO seal_registrations (municipality_code, resident_id, registration_no, impression_png, registered_on)
                 VALUES ('139998', {taro}, 'S-9', {png}, '2026-01-01')"
            ),
            SqlState::UNIQUE_VIOLATION,
        ),
        // An impression that is not a PNG.
        (
            format!(
                "INSERT INTO seal_registrations (municipality_code, resident_id, registration_no, impression_png, registered_on, abolished_on)
                 VALUES ('139998', {taro}, 'S-9', decode(repeat('ff', 100), 'hex'), '2026-01-01', '2026-02-01')"
            ),
            SqlState::CHECK_VIOLATION,
        ),
        // Abolished before it was registered.
        (
            format!(
                "INSERT INTO seal_registrations (municipality_code, resident_id, registration_no, impression_png, registered_on, abolished_on)
                 VALUES ('139998', {taro}, 'S-9', {png}, '2026-01-01', '2025-01-01')"
            ),
            SqlState::CHECK_VIOLATION,
        ),
        // Foreign-resident fields half filled, an alias on a national, a malformed card number.
        (
            "UPDATE residents SET nationality = '韓国' WHERE resident_code = '10000000045'".into(),
            SqlState::CHECK_VIOLATION,
        ),
        (
            "UPDATE residents SET alias = '日向' WHERE resident_code = '10000000011'".into(),
            SqlState::CHECK_VIOLATION,
        ),
        (
            format!("UPDATE residents SET residence_card_number = 'AB1234' WHERE resident_code = '{FOREIGN_RESIDENT}'"),
            SqlState::CHECK_VIOLATION,
        ),
        // A 本籍 on a foreign resident.
        (
            format!("UPDATE residents SET domicile = '東京都' WHERE resident_code = '{FOREIGN_RESIDENT}'"),
            SqlState::CHECK_VIOLATION,
        ),
        (
            "UPDATE residents SET status = 'gone' WHERE resident_code = '10000000011'".into(),
            SqlState::CHECK_VIOLATION,
        ),
        // Income above its receipts; a second assessment for one year.
        (
            "UPDATE tax_income_items SET income_yen = receipts_yen + 1".into(),
            SqlState::CHECK_VIOLATION,
        ),
        (
            format!(
                "INSERT INTO tax_assessments (municipality_code, resident_id, fiscal_year, resident_on_january_1,
                                              taxable_income_yen, municipal_tax_yen, prefectural_tax_yen)
                 VALUES ('139998', {taro}, 2026, true, 0, 0, 0)"
            ),
            SqlState::UNIQUE_VIOLATION,
        ),
        (
            "UPDATE tax_deductions SET amount_yen = -1".into(),
            SqlState::CHECK_VIOLATION,
        ),
        // Two current 附票 addresses; an address that ends before it starts;
        // an event reported before it happened.
        (
            "INSERT INTO family_register_addresses (member_id, address, from_date)
             SELECT member_id, '東京都', '2026-11-01' FROM family_register_addresses WHERE to_date IS NULL LIMIT 1".into(),
            SqlState::UNIQUE_VIOLATION,
        ),
        (
            "UPDATE family_register_addresses SET to_date = from_date - 1 WHERE to_date IS NOT NULL".into(),
            SqlState::CHECK_VIOLATION,
        ),
        (
            "UPDATE family_register_events SET reported_on = occurred_on - 1".into(),
            SqlState::CHECK_VIOLATION,
        ),
        (
            "UPDATE family_register_members SET position = 1".into(),
            SqlState::UNIQUE_VIOLATION,
        ),
    ];
    for (sql, want) in cases {
        assert_eq!(refusal(&app, &sql).await, want, "{sql}");
    }
    // A filed move-out is a status the register takes.
    app.db()
        .await
        .batch_execute(
            "UPDATE residents SET status = 'moving_out' WHERE resident_code = '10000000037'",
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_filed_move_out_refuses_the_resident_and_the_household_certificate_showing_them() {
    let app = TestApp::spawn().await;
    let db = app.db().await;
    // 太郎 filed to move out: his own card is refused at the menu and the order.
    db.batch_execute(
        "UPDATE residents SET status = 'moving_out' WHERE resident_code = '10000000011'",
    )
    .await
    .unwrap();
    let copier = app.copier(1);
    let s = copier.open_session().await.unwrap();
    let menu = copier
        .present_card(&s, app.pki.card("card-rsa-1"), "ja")
        .await
        .unwrap();
    assert_eq!(menu["items"][0]["available"], false);
    assert_eq!(menu["items"][0]["reason"]["code"], "moving_out");
    match copier
        .place_order(s.session_id, "k", &OrderSpec::default())
        .await
    {
        Err(SimError::Refused { code, .. }) => assert_eq!(code, "moving_out"),
        other => panic!("ordered for a resident moving out: {other:?}"),
    }

    // 花子 may still have her own certificate, but not the household's,
    // which would show him.
    let whole = OrderSpec {
        options: ResidenceOptions {
            whole_household: true,
            ..Default::default()
        },
        copies: 1,
        ..Default::default()
    };
    let copier = app.copier(2);
    let s = copier.open_session().await.unwrap();
    copier
        .present_card(&s, app.pki.card("card-ecdsa-1"), "ja")
        .await
        .unwrap();
    match copier.place_order(s.session_id, "whole", &whole).await {
        Err(SimError::Refused { code, .. }) => assert_eq!(code, "moving_out"),
        other => panic!("a household certificate showed a resident moving out: {other:?}"),
    }
    let own = copier
        .issue(app.pki.card("card-ecdsa-1"), &OrderSpec::default(), "ja")
        .await
        .unwrap();
    assert!(own.pdf.starts_with(b"%PDF-"));
}
