//! The demo municipality (東京都ひなた市, fictional) and its residents, used by
//! `kofu demo` and the integration tests. Every person here is invented.
//!
//! Rule: seeding is idempotent — running the demo again reuses the rows.
//! Beside the residence registers, [`seed`] fills the registers of every
//! other kind (sql/0017): 旧氏, a foreign resident with 通称, seal
//! registrations, tax assessments and a family register.

use time::macros::date;

use crate::gateway::db::{Client, DbError};
use crate::gateway::pki::CardSerial;

pub const MUNICIPALITY_CODE: &str = "139998";

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

/// Which demo smartphone certificate was derived from which demo card
/// (phone label → card label), as J-LIS's `smartphone_issued` says.
pub const SMARTPHONE_HOLDERS: &[(&str, &str)] = &[
    ("phone-ecdsa-1", "card-rsa-1"),
    ("phone-rsa-1", "card-ecdsa-1"),
];

/// The demo municipality's settings (version 1): every kind offered, open
/// around the clock on every day of the year, so the demo and the tests
/// work whenever they run (a real municipality's default is 06:30–23:00,
/// closed 29 December – 3 January).
pub fn settings() -> crate::gateway::municipality::Settings {
    let always = serde_json::json!({"open": "00:00", "close": "24:00"});
    let hours: serde_json::Map<String, serde_json::Value> =
        crate::gateway::domain::CertificateKind::ALL
            .iter()
            .map(|k| (k.wire_name().to_owned(), always.clone()))
            .collect();
    serde_json::from_value(serde_json::json!({
        "hours": hours,
        "closed_days": [],
        "name": "ひなた市", "name_en": "Hinata City", "prefecture": "東京都",
        "mayor_title": "ひなた市長", "mayor_name": "日向　陽一", "seal_text": "ひなた市長之印",
        "fees": {
            "residence_certificate": 200, "residence_record_certificate": 200,
            "seal_registration": 200, "tax_certificate": 300,
            "family_register_full": 450, "family_register_individual": 450,
            "family_register_addresses": 300
        }
    }))
    .expect("the demo settings parse")
}

/// Creates the municipality (through the same call as the administration
/// API, live at once), its households and residents if missing.
pub async fn seed(client: &mut Client) -> Result<(), DbError> {
    use crate::gateway::municipality::{self, LocalGovernmentCode, SettingsError};
    let code = LocalGovernmentCode::parse(MUNICIPALITY_CODE).expect("the demo code is valid");
    match municipality::create(client, &code, &settings(), "demo").await {
        Ok(_) | Err(SettingsError::Exists) => {}
        Err(SettingsError::Db(e)) => return Err(e),
        Err(e) => panic!("the demo settings are refused: {e}"),
    }
    municipality::go_live(client, &code).await?;
    let tx = client.transaction().await?;
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
    seed_registers(&tx).await?;
    tx.commit().await?;
    Ok(())
}

/// The demo's other registers (sql/0017): 旧氏 and a foreign resident with
/// 通称, seal registrations (one abolished), tax assessments for two fiscal
/// years, and a family register of seven members, three of whom live here.
/// Idempotent like [`seed`].
async fn seed_registers(tx: &deadpool_postgres::Transaction<'_>) -> Result<(), DbError> {
    // 花子 married into the 日向 register from 山田 and recorded her 旧氏.
    tx.execute(
        "UPDATE residents SET former_surname = '山田' WHERE resident_code = '10000000029' AND former_surname IS NULL",
        &[],
    )
    .await?;
    // A foreign resident in a household of their own.
    tx.execute(
        "INSERT INTO households (municipality_code, household_no, address)
         VALUES ($1, 'H0003', '東京都ひなた市青葉台二丁目8番1号　グリーンコート305号')
         ON CONFLICT (municipality_code, household_no) DO NOTHING",
        &[&MUNICIPALITY_CODE],
    )
    .await?;
    tx.execute(
        "INSERT INTO residents (resident_code, municipality_code, household_id, register_order, name, name_kana,
                                birth_date, sex, relationship, is_householder, became_resident_on, moved_in_on,
                                my_number, alias, nationality, residence_card_number, status_of_residence,
                                period_of_stay, period_of_stay_expires_on)
         SELECT $1, $2, h.id, 1, 'NGUYEN VAN AN', 'グエン　ヴァン　アン', $3, 'male', '世帯主', true, $4, $4,
                '234567890121', '中村　安', 'ベトナム', 'AB12345678CD', '技術・人文知識・国際業務',
                '5年', $5
           FROM households h WHERE h.municipality_code = $2 AND h.household_no = 'H0003'
         ON CONFLICT (resident_code) DO NOTHING",
        &[
            &FOREIGN_RESIDENT,
            &MUNICIPALITY_CODE,
            &date!(1994 - 09 - 12),
            &date!(2021 - 04 - 01),
            &date!(2029 - 03 - 31),
        ],
    )
    .await?;

    // 印鑑登録: 太郎's and the foreign resident's are active, 花子's abolished.
    for (no, resident_code, registered_on, abolished_on) in [
        ("S-000101", "10000000011", date!(2010 - 06 - 20), None),
        (
            "S-000102",
            "10000000029",
            date!(2012 - 05 - 10),
            Some(date!(2024 - 03 - 01)),
        ),
        ("S-000201", FOREIGN_RESIDENT, date!(2021 - 04 - 12), None),
    ] {
        tx.execute(
            "INSERT INTO seal_registrations (municipality_code, resident_id, registration_no, impression_png,
                                             registered_on, abolished_on)
             SELECT $1, r.id, $2, $4, $5, $6 FROM residents r WHERE r.resident_code = $3
             ON CONFLICT (municipality_code, registration_no) DO NOTHING",
            &[
                &MUNICIPALITY_CODE,
                &no,
                &resident_code,
                &seal_impression_png(no),
                &registered_on,
                &abolished_on,
            ],
        )
        .await?;
    }

    // 課税: fiscal years 2025 and 2026 (令和7・8年度), both released in June.
    for (year, released_on) in [(2025, date!(2025 - 06 - 01)), (2026, date!(2026 - 06 - 01))] {
        tx.execute(
            "INSERT INTO tax_year_releases (municipality_code, fiscal_year, released_on)
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&MUNICIPALITY_CODE, &year, &released_on],
        )
        .await?;
    }
    for assessment in TAX_ASSESSMENTS {
        let row = tx
            .query_opt(
                "INSERT INTO tax_assessments (municipality_code, resident_id, fiscal_year, resident_on_january_1,
                                              dependants, taxable_income_yen, municipal_tax_yen, prefectural_tax_yen)
                 SELECT $1, r.id, $3, true, $4, $5, $6, $7 FROM residents r WHERE r.resident_code = $2
                 ON CONFLICT (resident_id, fiscal_year) DO NOTHING
                 RETURNING id",
                &[
                    &MUNICIPALITY_CODE,
                    &assessment.resident_code,
                    &assessment.fiscal_year,
                    &assessment.dependants,
                    &assessment.taxable_income_yen,
                    &assessment.municipal_tax_yen,
                    &assessment.prefectural_tax_yen,
                ],
            )
            .await?;
        let Some(row) = row else { continue };
        let id: i64 = row.get(0);
        for (kind, receipts, income) in assessment.income {
            tx.execute(
                "INSERT INTO tax_income_items (assessment_id, kind, receipts_yen, income_yen) VALUES ($1, $2, $3, $4)",
                &[&id, kind, receipts, income],
            )
            .await?;
        }
        for (kind, amount) in assessment.deductions {
            tx.execute(
                "INSERT INTO tax_deductions (assessment_id, kind, amount_yen) VALUES ($1, $2, $3)",
                &[&id, kind, amount],
            )
            .await?;
        }
    }

    // 戸籍: 日向太郎's register, kept here (本籍 ひなた市), seven members.
    let register = tx
        .query_opt(
            "INSERT INTO family_registers (municipality_code, domicile, head_name, compiled_on)
             VALUES ($1, '東京都ひなた市日向町一丁目2番地', '日向　太郎', $2)
             ON CONFLICT (municipality_code, domicile, head_name) DO NOTHING
             RETURNING id",
            &[&MUNICIPALITY_CODE, &date!(2005 - 10 - 01)],
        )
        .await?;
    if let Some(register) = register {
        let register: i64 = register.get(0);
        for (position, m) in FAMILY_REGISTER.iter().enumerate() {
            let member: i64 = tx
                .query_one(
                    "INSERT INTO family_register_members (register_id, position, name, birth_date, sex, father_name,
                                                          mother_name, relationship, resident_code, removed)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                    &[
                        &register,
                        &(position as i32 + 1),
                        &m.name,
                        &m.birth_date,
                        &m.sex,
                        &m.father,
                        &m.mother,
                        &m.relationship,
                        &m.resident_code,
                        &m.removed,
                    ],
                )
                .await?
                .get(0);
            for (kind, occurred_on, reported_on, detail) in m.events {
                tx.execute(
                    "INSERT INTO family_register_events (member_id, kind, occurred_on, reported_on, detail)
                     VALUES ($1, $2, $3, $4, $5)",
                    &[&member, kind, occurred_on, reported_on, detail],
                )
                .await?;
            }
            for (address, from_date, to_date) in m.addresses {
                tx.execute(
                    "INSERT INTO family_register_addresses (member_id, address, from_date, to_date)
                     VALUES ($1, $2, $3, $4)",
                    &[&member, address, from_date, to_date],
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// The demo's foreign resident (住民票コード).
pub const FOREIGN_RESIDENT: &str = "10000000053";

/// One demo tax assessment: (kind, 収入, 所得) items and (kind, amount) deductions.
pub struct DemoAssessment {
    pub resident_code: &'static str,
    pub fiscal_year: i32,
    pub dependants: i32,
    pub taxable_income_yen: i64,
    pub municipal_tax_yen: i64,
    pub prefectural_tax_yen: i64,
    pub income: &'static [(&'static str, i64, i64)],
    pub deductions: &'static [(&'static str, i64)],
}

pub const TAX_ASSESSMENTS: &[DemoAssessment] = &[
    DemoAssessment {
        resident_code: "10000000011",
        fiscal_year: 2025,
        dependants: 2,
        taxable_income_yen: 2_170_000,
        municipal_tax_yen: 130_200,
        prefectural_tax_yen: 86_800,
        income: &[("salary", 6_000_000, 4_360_000)],
        deductions: &[
            ("basic", 430_000),
            ("social_insurance", 870_000),
            ("spouse", 330_000),
            ("dependant", 560_000),
        ],
    },
    DemoAssessment {
        resident_code: "10000000011",
        fiscal_year: 2026,
        dependants: 2,
        taxable_income_yen: 2_290_000,
        municipal_tax_yen: 137_400,
        prefectural_tax_yen: 91_600,
        income: &[
            ("salary", 6_200_000, 4_500_000),
            ("miscellaneous", 150_000, 100_000),
        ],
        deductions: &[
            ("basic", 430_000),
            ("social_insurance", 900_000),
            ("spouse", 330_000),
            ("dependant", 560_000),
            ("life_insurance", 90_000),
        ],
    },
    DemoAssessment {
        resident_code: FOREIGN_RESIDENT,
        fiscal_year: 2026,
        dependants: 0,
        taxable_income_yen: 2_890_000,
        municipal_tax_yen: 173_400,
        prefectural_tax_yen: 115_600,
        income: &[("salary", 4_800_000, 3_400_000)],
        deductions: &[("basic", 430_000), ("social_insurance", 80_000)],
    },
];

/// A member of the demo family register, with events (kind, 事件の日,
/// 届出日, detail) and 附票 addresses (address, from, to).
pub struct DemoRegisterMember {
    pub name: &'static str,
    pub birth_date: time::Date,
    pub sex: &'static str,
    pub father: Option<&'static str>,
    pub mother: Option<&'static str>,
    pub relationship: &'static str,
    pub resident_code: Option<&'static str>,
    pub removed: bool,
    pub events: &'static [(&'static str, time::Date, time::Date, &'static str)],
    pub addresses: &'static [(&'static str, time::Date, Option<time::Date>)],
}

const HOME: &str = "東京都ひなた市日向町一丁目2番3号";

/// 日向太郎's 戸籍, in register order: seven members, two of whom left it
/// (除籍) and one who lives in another municipality.
pub const FAMILY_REGISTER: &[DemoRegisterMember] = &[
    DemoRegisterMember {
        name: "日向　太郎",
        birth_date: date!(1980 - 04 - 01),
        sex: "male",
        father: Some("日向　一雄"),
        mother: Some("日向　和子"),
        relationship: "長男",
        resident_code: Some("10000000011"),
        removed: false,
        events: &[
            (
                "birth",
                date!(1980 - 04 - 01),
                date!(1980 - 04 - 10),
                "出生地　東京都ひなた市",
            ),
            (
                "marriage",
                date!(2005 - 10 - 01),
                date!(2005 - 10 - 01),
                "配偶者氏名　山田　花子",
            ),
        ],
        addresses: &[
            (
                "東京都ひなた市朝日町三丁目1番1号",
                date!(2005 - 10 - 01),
                Some(date!(2010 - 06 - 15)),
            ),
            (HOME, date!(2010 - 06 - 15), None),
        ],
    },
    DemoRegisterMember {
        name: "日向　花子",
        birth_date: date!(1982 - 07 - 20),
        sex: "female",
        father: Some("山田　正"),
        mother: Some("山田　洋子"),
        relationship: "長女",
        resident_code: Some("10000000029"),
        removed: false,
        events: &[
            (
                "birth",
                date!(1982 - 07 - 20),
                date!(1982 - 07 - 28),
                "出生地　神奈川県横浜市",
            ),
            (
                "marriage",
                date!(2005 - 10 - 01),
                date!(2005 - 10 - 01),
                "配偶者氏名　日向　太郎　従前戸籍　神奈川県横浜市中区本町一丁目1番地　山田　正",
            ),
        ],
        addresses: &[
            (
                "東京都ひなた市朝日町三丁目1番1号",
                date!(2005 - 10 - 01),
                Some(date!(2010 - 06 - 15)),
            ),
            (HOME, date!(2010 - 06 - 15), None),
        ],
    },
    DemoRegisterMember {
        name: "日向　美咲",
        birth_date: date!(2006 - 11 - 03),
        sex: "female",
        father: Some("日向　太郎"),
        mother: Some("日向　花子"),
        relationship: "長女",
        resident_code: None,
        removed: true,
        events: &[
            (
                "birth",
                date!(2006 - 11 - 03),
                date!(2006 - 11 - 10),
                "出生地　東京都ひなた市",
            ),
            (
                "marriage",
                date!(2026 - 05 - 05),
                date!(2026 - 05 - 07),
                "配偶者氏名　佐藤　翔　新本籍　大阪府大阪市北区梅田一丁目1番地",
            ),
            (
                "removal",
                date!(2026 - 05 - 07),
                date!(2026 - 05 - 07),
                "婚姻により除籍",
            ),
        ],
        addresses: &[
            (HOME, date!(2010 - 06 - 15), Some(date!(2025 - 04 - 01))),
            (
                "大阪府大阪市北区梅田一丁目1番1号",
                date!(2025 - 04 - 01),
                Some(date!(2026 - 05 - 07)),
            ),
        ],
    },
    DemoRegisterMember {
        name: "日向　一郎",
        birth_date: date!(2008 - 02 - 14),
        sex: "male",
        father: Some("日向　太郎"),
        mother: Some("日向　花子"),
        relationship: "長男",
        resident_code: Some("10000000037"),
        removed: false,
        events: &[(
            "birth",
            date!(2008 - 02 - 14),
            date!(2008 - 02 - 20),
            "出生地　東京都ひなた市",
        )],
        addresses: &[
            (
                "東京都ひなた市朝日町三丁目1番1号",
                date!(2008 - 02 - 14),
                Some(date!(2010 - 06 - 15)),
            ),
            (HOME, date!(2010 - 06 - 15), None),
        ],
    },
    DemoRegisterMember {
        name: "日向　二郎",
        birth_date: date!(2010 - 09 - 09),
        sex: "male",
        father: Some("日向　太郎"),
        mother: Some("日向　花子"),
        relationship: "二男",
        resident_code: None,
        removed: false,
        events: &[(
            "birth",
            date!(2010 - 09 - 09),
            date!(2010 - 09 - 15),
            "出生地　東京都ひなた市",
        )],
        addresses: &[
            (HOME, date!(2010 - 09 - 09), Some(date!(2025 - 04 - 01))),
            (
                "北海道札幌市中央区北一条西二丁目1番地",
                date!(2025 - 04 - 01),
                None,
            ),
        ],
    },
    DemoRegisterMember {
        name: "日向　春子",
        birth_date: date!(2015 - 03 - 21),
        sex: "female",
        father: Some("日向　太郎"),
        mother: Some("日向　花子"),
        relationship: "二女",
        resident_code: None,
        removed: false,
        events: &[(
            "birth",
            date!(2015 - 03 - 21),
            date!(2015 - 03 - 27),
            "出生地　東京都ひなた市",
        )],
        addresses: &[(HOME, date!(2015 - 03 - 21), None)],
    },
    DemoRegisterMember {
        name: "日向　和夫",
        birth_date: date!(2019 - 12 - 01),
        sex: "male",
        father: Some("日向　太郎"),
        mother: Some("日向　花子"),
        relationship: "養子",
        resident_code: None,
        removed: true,
        events: &[
            (
                "birth",
                date!(2019 - 12 - 01),
                date!(2019 - 12 - 05),
                "出生地　千葉県千葉市",
            ),
            (
                "adoption",
                date!(2021 - 02 - 01),
                date!(2021 - 02 - 01),
                "養父氏名　日向　太郎　養母氏名　日向　花子",
            ),
            (
                "death",
                date!(2024 - 08 - 30),
                date!(2024 - 09 - 02),
                "死亡地　東京都ひなた市",
            ),
            (
                "removal",
                date!(2024 - 09 - 02),
                date!(2024 - 09 - 02),
                "死亡により除籍",
            ),
        ],
        addresses: &[(HOME, date!(2021 - 02 - 01), Some(date!(2024 - 08 - 30)))],
    },
];

/// A demo seal impression (印影): a red double ring around a mark drawn
/// from `seed`, 96 px square, as the PNG the registers store.
pub fn seal_impression_png(seed: &str) -> Vec<u8> {
    const SIZE: u32 = 96;
    let digest = ring::digest::digest(&ring::digest::SHA256, seed.as_bytes());
    let bits = digest.as_ref();
    let centre = (SIZE as f64 - 1.0) / 2.0;
    let mut rgba = Vec::with_capacity((SIZE * SIZE * 4) as usize);
    for y in 0..SIZE {
        for x in 0..SIZE {
            let (dx, dy) = (x as f64 - centre, y as f64 - centre);
            let r = (dx * dx + dy * dy).sqrt();
            let ring = (40.0..46.0).contains(&r) || (34.0..36.0).contains(&r);
            // A 6×6 grid of cells inside the rings, on or off by the seed.
            let (cx, cy) = ((x as i32 - 18) / 10, (y as i32 - 18) / 10);
            let cell = (0..6).contains(&cx)
                && (0..6).contains(&cy)
                && r < 33.0
                && bits[(cy * 6 + cx) as usize / 8] >> ((cy * 6 + cx) % 8) & 1 == 1;
            let ink = ring || cell;
            rgba.extend_from_slice(if ink {
                &[200, 30, 40, 255]
            } else {
                &[0, 0, 0, 0]
            });
        }
    }
    rgba_png(SIZE, &rgba)
}

/// A municipal seal image (公印) as a municipality's settings carry it: a
/// red square double frame around a mark drawn from `seed`, 160 px square.
pub fn municipal_seal_png(seed: &str) -> Vec<u8> {
    const SIZE: u32 = 160;
    let digest = ring::digest::digest(&ring::digest::SHA256, seed.as_bytes());
    let bits = digest.as_ref();
    let mut rgba = Vec::with_capacity((SIZE * SIZE * 4) as usize);
    for y in 0..SIZE {
        for x in 0..SIZE {
            let edge = x.min(y).min(SIZE - 1 - x).min(SIZE - 1 - y);
            let frame = edge < 10 || (15..18).contains(&edge);
            // An 8×8 grid of cells inside the frames, on or off by the seed.
            let (cx, cy) = ((x as i32 - 24) / 14, (y as i32 - 24) / 14);
            let cell = (0..8).contains(&cx)
                && (0..8).contains(&cy)
                && edge >= 24
                && bits[(cy * 8 + cx) as usize / 8] >> ((cy * 8 + cx) % 8) & 1 == 1;
            rgba.extend_from_slice(if frame || cell {
                &[200, 30, 40, 255]
            } else {
                &[0, 0, 0, 0]
            });
        }
    }
    rgba_png(SIZE, &rgba)
}

/// A square RGBA image of `size` pixels a side as an 8-bit PNG.
fn rgba_png(size: u32, rgba: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, size, size);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().expect("writing to a Vec");
    writer.write_image_data(rgba).expect("writing to a Vec");
    writer.finish().expect("writing to a Vec");
    out
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

/// Links a smartphone certificate's serial to the card serial it was
/// derived from (what J-LIS's `smartphone_issued` event will do). Returns
/// false when the card is not linked to a resident, or the phone is
/// already linked to another card.
pub async fn link_smartphone(
    client: &Client,
    phone: &CardSerial,
    card: &CardSerial,
) -> Result<bool, DbError> {
    client
        .execute(
            "INSERT INTO smartphone_links (serial, card_serial)
             SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM certificate_links WHERE serial = $2)
             ON CONFLICT (serial) DO NOTHING",
            &[&phone.as_bytes(), &card.as_bytes()],
        )
        .await?;
    let linked = client
        .query_opt(
            "SELECT 1 FROM smartphone_links WHERE serial = $1 AND card_serial = $2",
            &[&phone.as_bytes(), &card.as_bytes()],
        )
        .await?;
    Ok(linked.is_some())
}

/// The demo PKI's credentials made usable in the registers seeded here:
/// every demo card linked to its holder ([`CARD_HOLDERS`]), every demo
/// phone to its card ([`SMARTPHONE_HOLDERS`]), and a current (empty) CRL of
/// each of the two CAs imported — without one, the gateway refuses their
/// certificates (`revocation_data_stale`). Returns the two CRLs (card CA,
/// smartphone CA), DER.
///
/// # Errors
/// A demo certificate missing from `pki`, a link refused, or a database
/// or signing failure.
pub async fn link_demo_credentials(
    client: &mut Client,
    pki: &crate::devkit::demo_pki::DemoPki,
) -> Result<(Vec<u8>, Vec<u8>), crate::BoxError> {
    use crate::devkit::demo_pki::card_serial;
    let serial_of = |certificates: &[crate::devkit::demo_pki::DemoCard], label: &str| {
        let found = certificates
            .iter()
            .find(|c| c.label == label)
            .ok_or_else(|| format!("demo certificate {label} missing"))?;
        card_serial(&found.cert_der)
    };
    for (label, resident_code) in CARD_HOLDERS {
        let serial = serial_of(&pki.cards, label)?;
        if !link_card(client, &serial, resident_code).await? {
            return Err(format!("demo card {label} not linked").into());
        }
    }
    for (phone, card) in SMARTPHONE_HOLDERS {
        let phone_serial = serial_of(&pki.phones, phone)?;
        let card_serial = serial_of(&pki.cards, card)?;
        if !link_smartphone(client, &phone_serial, &card_serial).await? {
            return Err(format!("demo smartphone {phone} not linked").into());
        }
    }
    let publish = crate::devkit::crl_gen::publish_demo_crl;
    let card_crl = publish(&pki.user_auth_ca, client, &[]).await?;
    let phone_crl = publish(&pki.smartphone_ca, client, &[]).await?;
    Ok((card_crl, phone_crl))
}
