//! The demo municipality (東京都ひなた市, fictional) and its residents, used by
//! `kofu demo` and the integration tests. Every person here is invented.
//!
//! Rule: seeding is idempotent — running the demo again reuses the rows.

use time::macros::date;

use crate::gateway::db::{Client, DbError};
use crate::gateway::pki::CardSerial;

pub const MUNICIPALITY_CODE: &str = "139991";

/// One invented resident.
#[derive(Debug, Clone, Copy)]
pub struct DemoResident {
    pub resident_code: &'static str,
    pub household_no: &'static str,
    pub register_order: i32,
    pub name: &'static str,
    pub name_kana: &'static str,
    pub birth_date: time::Date,
    pub sex: &'static str,
    pub relationship: &'static str,
    pub is_householder: bool,
    pub became_resident_on: time::Date,
    pub domicile: Option<&'static str>,
    pub head_of_register: Option<&'static str>,
    pub my_number: Option<&'static str>,
}

pub const HOUSEHOLDS: &[(&str, &str)] = &[
    ("H0001", "東京都ひなた市日向町一丁目2番3号"),
    (
        "H0002",
        "東京都ひなた市青葉台四丁目5番6号　ひなたハイツ101号",
    ),
];

pub const RESIDENTS: &[DemoResident] = &[
    DemoResident {
        resident_code: "10000000011",
        household_no: "H0001",
        register_order: 1,
        name: "日向　太郎",
        name_kana: "ひなた　たろう",
        birth_date: date!(1980 - 04 - 01),
        sex: "male",
        relationship: "世帯主",
        is_householder: true,
        became_resident_on: date!(2010 - 06 - 15),
        domicile: Some("東京都ひなた市日向町一丁目2番地"),
        head_of_register: Some("日向　太郎"),
        my_number: Some("123456789018"),
    },
    DemoResident {
        resident_code: "10000000029",
        household_no: "H0001",
        register_order: 2,
        name: "日向　花子",
        name_kana: "ひなた　はなこ",
        birth_date: date!(1982 - 11 - 23),
        sex: "female",
        relationship: "妻",
        is_householder: false,
        became_resident_on: date!(2012 - 03 - 01),
        domicile: Some("東京都ひなた市日向町一丁目2番地"),
        head_of_register: Some("日向　太郎"),
        my_number: Some("234567890123"),
    },
    DemoResident {
        resident_code: "10000000037",
        household_no: "H0001",
        register_order: 3,
        name: "日向　一郎",
        name_kana: "ひなた　いちろう",
        birth_date: date!(2014 - 08 - 07),
        sex: "male",
        relationship: "子",
        is_householder: false,
        became_resident_on: date!(2014 - 08 - 07),
        domicile: Some("東京都ひなた市日向町一丁目2番地"),
        head_of_register: Some("日向　太郎"),
        my_number: None,
    },
    DemoResident {
        resident_code: "10000000045",
        household_no: "H0002",
        register_order: 1,
        name: "青葉　健",
        name_kana: "あおば　けん",
        birth_date: date!(1959 - 01 - 07),
        sex: "male",
        relationship: "世帯主",
        is_householder: true,
        became_resident_on: date!(1989 - 01 - 08),
        domicile: Some("大阪府大阪市北区梅田一丁目1番"),
        head_of_register: Some("青葉　健"),
        my_number: None,
    },
];

/// Which demo card belongs to whom (card label → 住民票コード).
pub const CARD_HOLDERS: &[(&str, &str)] = &[
    ("card-rsa-1", "10000000011"),
    ("card-ecdsa-1", "10000000029"),
    ("card-rsa-2", "10000000045"),
];

/// Creates the municipality, its fees, households and residents if missing.
pub async fn seed(client: &mut Client) -> Result<(), DbError> {
    let tx = client.transaction().await?;
    tx.execute(
        "INSERT INTO municipalities (code, name, prefecture, mayor_title, mayor_name, seal_text)
         VALUES ($1, 'ひなた市', '東京都', 'ひなた市長', '日向　陽一', 'ひなた市長之印')
         ON CONFLICT (code) DO NOTHING",
        &[&MUNICIPALITY_CODE],
    )
    .await?;
    for (kind, yen) in [
        ("residence_certificate", 200),
        ("seal_registration", 200),
        ("tax_certificate", 300),
    ] {
        tx.execute(
            "INSERT INTO fees (municipality_code, kind, amount_yen) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&MUNICIPALITY_CODE, &kind, &yen],
        )
        .await?;
    }
    for (no, address) in HOUSEHOLDS {
        tx.execute(
            "INSERT INTO households (municipality_code, household_no, address) VALUES ($1, $2, $3)
             ON CONFLICT (municipality_code, household_no) DO NOTHING",
            &[&MUNICIPALITY_CODE, no, address],
        )
        .await?;
    }
    for r in RESIDENTS {
        tx.execute(
            "INSERT INTO residents (resident_code, municipality_code, household_id, register_order, name, name_kana,
                                    birth_date, sex, relationship, is_householder, became_resident_on,
                                    domicile, head_of_register, my_number)
             SELECT $1, $2, h.id, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14
               FROM households h WHERE h.municipality_code = $2 AND h.household_no = $3
             ON CONFLICT (resident_code) DO NOTHING",
            &[
                &r.resident_code,
                &MUNICIPALITY_CODE,
                &r.household_no,
                &r.register_order,
                &r.name,
                &r.name_kana,
                &r.birth_date,
                &r.sex,
                &r.relationship,
                &r.is_householder,
                &r.became_resident_on,
                &r.domicile,
                &r.head_of_register,
                &r.my_number,
            ],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Links a card serial to a resident (what J-LIS's `issued` event will do).
/// Returns false when no resident has that code.
pub async fn link_card(
    client: &Client,
    serial: &CardSerial,
    resident_code: &str,
) -> Result<bool, DbError> {
    let n = client
        .execute(
            "INSERT INTO certificate_links (serial, resident_id)
             SELECT $1, id FROM residents WHERE resident_code = $2
             ON CONFLICT (serial) DO NOTHING",
            &[&serial.as_bytes(), &resident_code],
        )
        .await?;
    let linked = client
        .query_opt(
            "SELECT 1 FROM certificate_links l JOIN residents r ON r.id = l.resident_id
              WHERE l.serial = $1 AND r.resident_code = $2",
            &[&serial.as_bytes(), &resident_code],
        )
        .await?;
    Ok(n == 1 || linked.is_some())
}
