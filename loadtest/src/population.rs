//! The synthetic population the load runs against: households and residents
//! in two municipalities, the demo one (ひなた市, 139998) and かえで市
//! (139971, made here), one card per resident, all invented and generated
//! by code.
//!
//! Rules:
//! - Deterministic: resident `i` is always the same person in the same
//!   municipality, so a data directory can be reused across runs (inserts
//!   are `ON CONFLICT DO NOTHING`).
//! - Households alternate between the two municipalities
//!   ([`municipality_of_household`]), so each has households of every size
//!   and residents of every kind of register.
//! - The two charge different fees for every kind, so an order charged or
//!   settled under the wrong municipality shows in the settlement audit.
//! - Every name is `姓　名<i>`, common kanji plus the resident's number in
//!   ASCII digits (all in the IPAex font), so a certificate showing someone
//!   else's record is caught by reading the numbers back from the PDF.
//! - What a certificate must show is read back from the registers after
//!   seeding ([`holders`]), not assumed.

use std::collections::{BTreeMap, HashMap};

use kofu::gateway::db::Client;
use kofu::gateway::domain::CertificateKind;
use kofu::gateway::municipality::{self, LocalGovernmentCode, Settings, SettingsError};
use time::{Date, Duration, Month};

use crate::BoxError;

/// A municipality the synthetic population lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Municipality {
    /// Its 全国地方公共団体コード.
    pub code: &'static str,
    /// Prefecture and city, as addresses and 本籍 begin.
    pub city: &'static str,
}

/// The demo municipality (seeded by kofu's devkit) and かえで市 (created by
/// [`create_second`]).
pub const MUNICIPALITIES: [Municipality; 2] = [
    Municipality {
        code: kofu::devkit::demo_registers::MUNICIPALITY_CODE,
        city: "東京都ひなた市",
    },
    Municipality {
        code: "139971",
        city: "東京都かえで市",
    },
];

/// The municipality of household `h` (numbered from 1): households
/// alternate, starting with the other one in every second cycle of
/// [`SIZES`], so both have households of every size.
pub fn municipality_of_household(h: u32) -> Municipality {
    let i = h.max(1) as usize - 1;
    MUNICIPALITIES[(i + i / SIZES.len()) % MUNICIPALITIES.len()]
}

/// かえで市's settings: every kind offered at a fee other than the demo
/// municipality's, open around the clock every day (like the demo's), so a
/// run never meets closed hours.
pub fn second_settings() -> Settings {
    let always = serde_json::json!({"open": "00:00", "close": "24:00"});
    let hours: serde_json::Map<String, serde_json::Value> = CertificateKind::ALL
        .iter()
        .map(|k| (k.wire_name().to_owned(), always.clone()))
        .collect();
    serde_json::from_value(serde_json::json!({
        "hours": hours,
        "closed_days": [],
        "name": "かえで市", "name_en": "Kaede City", "prefecture": "東京都",
        "mayor_title": "かえで市長", "mayor_name": "木村　誠", "seal_text": "かえで市長之印",
        "fees": {
            "residence_certificate": 300, "residence_record_certificate": 250,
            "seal_registration": 350, "tax_certificate": 400,
            "family_register_full": 500, "family_register_individual": 480,
            "family_register_addresses": 320
        }
    }))
    .expect("the loadtest settings parse")
}

/// The fee per copy of each kind in each municipality, as the harness set
/// them (not as the database says): what every order must be charged.
pub fn fees() -> HashMap<String, BTreeMap<CertificateKind, i32>> {
    HashMap::from([
        (
            MUNICIPALITIES[0].code.to_owned(),
            kofu::devkit::demo_registers::settings().fees,
        ),
        (MUNICIPALITIES[1].code.to_owned(), second_settings().fees),
    ])
}

/// Creates かえで市 through the administration API's own calls, live at
/// once; an existing one is kept. Its document signing key is made by the
/// gateways when they start, as for every municipality.
pub async fn create_second(client: &mut Client) -> Result<(), BoxError> {
    let code = LocalGovernmentCode::parse(MUNICIPALITIES[1].code)?;
    match municipality::create(client, &code, &second_settings(), "loadtest").await {
        Ok(_) | Err(SettingsError::Exists) => {}
        Err(e) => return Err(format!("creating municipality {code}: {e}").into()),
    }
    municipality::go_live(client, &code).await?;
    Ok(())
}

/// Household sizes, cycled: mostly small, one of seven (a two-page
/// certificate when the whole household is asked for).
const SIZES: [u32; 10] = [1, 2, 3, 4, 2, 1, 3, 7, 2, 1];

const SURNAMES: [(&str, &str); 30] = [
    ("佐藤", "さとう"),
    ("鈴木", "すずき"),
    ("高橋", "たかはし"),
    ("田中", "たなか"),
    ("伊藤", "いとう"),
    ("渡辺", "わたなべ"),
    ("山本", "やまもと"),
    ("中村", "なかむら"),
    ("小林", "こばやし"),
    ("加藤", "かとう"),
    ("吉田", "よしだ"),
    ("山田", "やまだ"),
    ("佐々木", "ささき"),
    ("山口", "やまぐち"),
    ("松本", "まつもと"),
    ("井上", "いのうえ"),
    ("木村", "きむら"),
    ("林", "はやし"),
    ("清水", "しみず"),
    ("山崎", "やまざき"),
    ("森", "もり"),
    ("池田", "いけだ"),
    ("橋本", "はしもと"),
    ("阿部", "あべ"),
    ("石川", "いしかわ"),
    ("前田", "まえだ"),
    ("藤田", "ふじた"),
    ("小川", "おがわ"),
    ("岡田", "おかだ"),
    ("後藤", "ごとう"),
];

/// Given names with their reading; the first half male, the second female.
pub const GIVEN: [(&str, &str); 16] = [
    ("太郎", "たろう"),
    ("一郎", "いちろう"),
    ("健", "けん"),
    ("翔太", "しょうた"),
    ("大輔", "だいすけ"),
    ("誠", "まこと"),
    ("浩", "ひろし"),
    ("直樹", "なおき"),
    ("花子", "はなこ"),
    ("洋子", "ようこ"),
    ("美咲", "みさき"),
    ("陽子", "ようこ"),
    ("恵子", "けいこ"),
    ("由美", "ゆみ"),
    ("愛", "あい"),
    ("真由美", "まゆみ"),
];

/// One synthetic 世帯.
#[derive(Debug, Clone, PartialEq)]
pub struct Household {
    pub number: u32,
    /// The municipality's code ([`municipality_of_household`]).
    pub municipality: &'static str,
    pub household_no: String,
    pub address: String,
}

/// One synthetic resident (numbered from 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Resident {
    pub number: u32,
    pub resident_code: String,
    pub household: u32,
    pub register_order: i32,
    pub name: String,
    pub name_kana: String,
    pub birth_date: Date,
    pub sex: &'static str,
    pub relationship: &'static str,
    pub is_householder: bool,
    pub became_resident_on: Date,
    pub domicile: String,
    pub head_of_register: String,
    pub my_number: Option<String>,
}

/// 住民票コード of synthetic resident `number` (11 digits, starting with 2;
/// the demo's own residents start with 1).
pub fn resident_code(number: u32) -> String {
    format!("2{number:010}")
}

/// The resident number back from a synthetic 住民票コード.
pub fn number_of(resident_code: &str) -> Option<u32> {
    resident_code.strip_prefix('2')?.parse().ok()
}

/// The My Number check digit (個人番号の検査用数字) for 11 digits.
pub fn my_number_check_digit(first11: &str) -> Option<u32> {
    let digits: Vec<u32> = first11
        .chars()
        .map(|c| c.to_digit(10))
        .collect::<Option<_>>()?;
    if digits.len() != 11 {
        return None;
    }
    // P_n is the n-th digit from the right; Q_n = n + 1 (n <= 6), n - 5 (n >= 7).
    let sum: u32 = (1..=11)
        .map(|n| {
            let p = digits[11 - n];
            let q = if n <= 6 { n + 1 } else { n - 5 } as u32;
            p * q
        })
        .sum();
    let r = sum % 11;
    Some(if r <= 1 { 0 } else { 11 - r })
}

fn date(year: i32, month: u8, day: u8) -> Date {
    Date::from_calendar_date(year, Month::try_from(month).unwrap_or(Month::January), day)
        .unwrap_or(Date::MIN)
}

/// The `residents` register file of the first `n` residents, all in one
/// municipality (`place`, e.g. `東京都みなと町`, heads each address);
/// `changed` moves every became-resident date a day later.
pub fn residents_csv(n: u32, place: &str, changed: bool) -> String {
    let (households, residents) = generate(n);
    let mut out = String::from(
        "household_no,address,resident_code,register_order,name,name_kana,birth_date,sex,relationship,is_householder,became_resident_on,moved_in_on,domicile,head_of_register,my_number\n",
    );
    for r in &residents {
        let h = &households[r.household as usize - 1];
        let became = r.became_resident_on + Duration::days(i64::from(changed));
        out.push_str(&format!(
            "{},{place}試験町{}番地,{},{},{},{},{},{},{},{},{became},,{},{},{}\n",
            h.household_no,
            h.number,
            r.resident_code,
            r.register_order,
            r.name,
            r.name_kana,
            r.birth_date,
            r.sex,
            r.relationship,
            r.is_householder,
            r.domicile,
            r.head_of_register,
            r.my_number.as_deref().unwrap_or(""),
        ));
    }
    out
}

/// The first `n` residents and their households.
pub fn generate(n: u32) -> (Vec<Household>, Vec<Resident>) {
    let mut households = Vec::new();
    let mut residents = Vec::new();
    let mut number = 0u32;
    let mut h = 0u32;
    while number < n {
        h += 1;
        let size = SIZES[(h as usize - 1) % SIZES.len()].min(n - number);
        let (surname, surname_kana) = SURNAMES[(h as usize - 1) % SURNAMES.len()];
        let place = municipality_of_household(h);
        let address = format!("{}試験町{h}番地", place.city);
        households.push(Household {
            number: h,
            municipality: place.code,
            household_no: format!("LT{h:06}"),
            address: address.clone(),
        });
        let head_year = 1950 + (h % 45) as i32;
        let moved_in = date(2000, 4, 1) + Duration::days((h % 7000) as i64);
        let mut head_name = String::new();
        for k in 0..size {
            number += 1;
            // Householder and spouse of opposite sexes, then children alternating.
            let male = (h + k) % 2 == 0;
            let pick = (number as usize * 7 + k as usize) % 8 + if male { 0 } else { 8 };
            let (given, given_kana) = GIVEN[pick];
            let name = format!("{surname}　{given}{number}");
            let (relationship, birth) = match k {
                0 => (
                    "世帯主",
                    date(head_year, 1 + (number % 12) as u8, 1 + (number % 28) as u8),
                ),
                1 => (
                    if male { "夫" } else { "妻" },
                    date(
                        head_year + 2,
                        1 + (number % 12) as u8,
                        1 + (number % 28) as u8,
                    ),
                ),
                _ => (
                    "子",
                    date(
                        head_year + 24 + k as i32,
                        1 + (number % 12) as u8,
                        1 + (number % 28) as u8,
                    ),
                ),
            };
            if k == 0 {
                head_name = name.clone();
            }
            let my_number = (number % 2 == 0).then(|| {
                let first = format!("5{number:010}");
                let check = my_number_check_digit(&first).unwrap_or(0);
                format!("{first}{check}")
            });
            residents.push(Resident {
                number,
                resident_code: resident_code(number),
                household: h,
                register_order: k as i32 + 1,
                name,
                name_kana: format!("{surname_kana}　{given_kana}"),
                birth_date: birth,
                sex: if male { "male" } else { "female" },
                relationship,
                is_householder: k == 0,
                became_resident_on: moved_in.max(birth),
                domicile: address.clone(),
                head_of_register: head_name.clone(),
                my_number,
            });
        }
    }
    (households, residents)
}

const INSERT_HOUSEHOLDS: &str = "
    INSERT INTO households (municipality_code, household_no, address)
    SELECT $1, x.no, x.address FROM unnest($2::text[], $3::text[]) AS x(no, address)
    ON CONFLICT (municipality_code, household_no) DO NOTHING";

const INSERT_RESIDENTS: &str = "
    INSERT INTO residents (resident_code, municipality_code, household_id, register_order, name, name_kana,
                           birth_date, sex, relationship, is_householder, became_resident_on,
                           domicile, head_of_register, my_number)
    SELECT x.code, $1, h.id, x.ord, x.name, x.kana, x.birth::date, x.sex, x.rel, x.head, x.since::date,
           x.domicile, x.head_name, x.my_number
      FROM unnest($2::text[], $3::text[], $4::int4[], $5::text[], $6::text[], $7::text[], $8::text[],
                  $9::text[], $10::bool[], $11::text[], $12::text[], $13::text[], $14::text[])
           AS x(code, hno, ord, name, kana, birth, sex, rel, head, since, domicile, head_name, my_number)
      JOIN households h ON h.municipality_code = $1 AND h.household_no = x.hno
    ON CONFLICT (resident_code) DO NOTHING";

const LINK_CARDS: &str = "
    INSERT INTO certificate_links (serial, resident_id)
    SELECT x.serial, r.id FROM unnest($1::bytea[], $2::text[]) AS x(serial, code)
      JOIN residents r ON r.resident_code = x.code
    ON CONFLICT (serial) DO NOTHING";

/// Inserts the generated households and residents if missing, each in its
/// household's municipality, in chunks.
pub async fn seed(
    client: &Client,
    households: &[Household],
    residents: &[Resident],
) -> Result<(), BoxError> {
    let municipality: HashMap<u32, &str> = households
        .iter()
        .map(|h| (h.number, h.municipality))
        .collect();
    let household_no: HashMap<u32, &str> = households
        .iter()
        .map(|h| (h.number, h.household_no.as_str()))
        .collect();
    for place in MUNICIPALITIES {
        let here: Vec<&Household> = households
            .iter()
            .filter(|h| h.municipality == place.code)
            .collect();
        for chunk in here.chunks(2000) {
            let nos: Vec<&str> = chunk.iter().map(|h| h.household_no.as_str()).collect();
            let addresses: Vec<&str> = chunk.iter().map(|h| h.address.as_str()).collect();
            client
                .execute(INSERT_HOUSEHOLDS, &[&place.code, &nos, &addresses])
                .await?;
        }
        let here: Vec<&Resident> = residents
            .iter()
            .filter(|r| municipality.get(&r.household) == Some(&place.code))
            .collect();
        for chunk in here.chunks(2000) {
            let col = |f: &dyn Fn(&Resident) -> String| {
                chunk.iter().map(|r| f(r)).collect::<Vec<String>>()
            };
            let codes = col(&|r| r.resident_code.clone());
            let hnos = col(&|r| household_no[&r.household].to_owned());
            let orders: Vec<i32> = chunk.iter().map(|r| r.register_order).collect();
            let names = col(&|r| r.name.clone());
            let kanas = col(&|r| r.name_kana.clone());
            let births = col(&|r| r.birth_date.to_string());
            let sexes = col(&|r| r.sex.to_owned());
            let rels = col(&|r| r.relationship.to_owned());
            let heads: Vec<bool> = chunk.iter().map(|r| r.is_householder).collect();
            let sinces = col(&|r| r.became_resident_on.to_string());
            let domiciles = col(&|r| r.domicile.clone());
            let head_names = col(&|r| r.head_of_register.clone());
            let my_numbers: Vec<Option<&str>> =
                chunk.iter().map(|r| r.my_number.as_deref()).collect();
            client
                .execute(
                    INSERT_RESIDENTS,
                    &[
                        &place.code,
                        &codes,
                        &hnos,
                        &orders,
                        &names,
                        &kanas,
                        &births,
                        &sexes,
                        &rels,
                        &heads,
                        &sinces,
                        &domiciles,
                        &head_names,
                        &my_numbers,
                    ],
                )
                .await?;
        }
    }
    Ok(())
}

/// An active 印鑑登録 for every resident of `$1` without one (`$2`: the impression).
const SEED_SEALS: &str = "
    INSERT INTO seal_registrations (municipality_code, resident_id, registration_no, impression_png, registered_on)
    SELECT $1, r.id, 'L-' || r.id, $2, '2020-01-01' FROM residents r
     WHERE r.municipality_code = $1
       AND NOT EXISTS (SELECT 1 FROM seal_registrations s WHERE s.resident_id = r.id)";

/// Fiscal year 2026 released in `$1`, and an assessment with one income
/// item and one deduction for each of its residents.
const SEED_TAX: [&str; 4] = [
    "INSERT INTO tax_year_releases (municipality_code, fiscal_year, released_on)
     VALUES ($1, 2026, '2026-06-01') ON CONFLICT DO NOTHING",
    "INSERT INTO tax_assessments (municipality_code, resident_id, fiscal_year, resident_on_january_1,
                                  dependants, taxable_income_yen, municipal_tax_yen, prefectural_tax_yen)
     SELECT $1, r.id, 2026, true, 0, 2000000 + r.id % 1000 * 1000, 120000, 80000
       FROM residents r WHERE r.municipality_code = $1
     ON CONFLICT (resident_id, fiscal_year) DO NOTHING",
    "INSERT INTO tax_income_items (assessment_id, kind, receipts_yen, income_yen)
     SELECT a.id, 'salary', 4000000, 2760000 FROM tax_assessments a
      WHERE a.municipality_code = $1 ON CONFLICT DO NOTHING",
    "INSERT INTO tax_deductions (assessment_id, kind, amount_yen)
     SELECT a.id, 'basic', 430000 FROM tax_assessments a
      WHERE a.municipality_code = $1 ON CONFLICT DO NOTHING",
];

/// One 戸籍 kept in `$1` per synthetic household, its 本籍 in the city `$2`,
/// listing the household's members with a birth event and an address.
const SEED_FAMILY_REGISTERS: [&str; 4] = [
    "INSERT INTO family_registers (municipality_code, domicile, head_name, compiled_on)
     SELECT $1, $2::text || '試験町' || h.household_no || '番地', r.name, '2000-01-01'
       FROM households h JOIN residents r ON r.household_id = h.id AND r.is_householder
      WHERE h.municipality_code = $1 AND h.household_no LIKE 'L%'
     ON CONFLICT DO NOTHING",
    "INSERT INTO family_register_members (register_id, position, name, birth_date, sex, relationship, resident_code)
     SELECT f.id, r.register_order, r.name, r.birth_date, r.sex, r.relationship, r.resident_code
       FROM family_registers f
       JOIN households h ON h.municipality_code = $1 AND f.domicile = $2::text || '試験町' || h.household_no || '番地'
       JOIN residents r ON r.household_id = h.id
      WHERE f.municipality_code = $1
     ON CONFLICT DO NOTHING",
    "INSERT INTO family_register_events (member_id, kind, occurred_on, reported_on, detail)
     SELECT m.id, 'birth', m.birth_date, m.birth_date, '出生地　' || $2::text
       FROM family_register_members m JOIN family_registers f ON f.id = m.register_id
      WHERE f.municipality_code = $1 ON CONFLICT DO NOTHING",
    "INSERT INTO family_register_addresses (member_id, address, from_date)
     SELECT m.id, h.address, '2010-01-01'
       FROM family_register_members m JOIN family_registers f ON f.id = m.register_id
       JOIN households h ON h.municipality_code = $1 AND f.domicile = $2::text || '試験町' || h.household_no || '番地'
      WHERE f.municipality_code = $1 ON CONFLICT DO NOTHING",
];

/// The registers of the other kinds for every synthetic resident, in each
/// municipality: an active seal registration, a tax assessment for the
/// released fiscal year 2026, and one 戸籍 per household kept there listing
/// its members. Idempotent; one transaction.
pub async fn seed_other_registers(client: &mut Client) -> Result<(), BoxError> {
    let png = kofu::devkit::demo_registers::seal_impression_png("load");
    let tx = client.transaction().await?;
    for place in MUNICIPALITIES {
        tx.execute(SEED_SEALS, &[&place.code, &png]).await?;
        for sql in SEED_TAX {
            tx.execute(sql, &[&place.code]).await?;
        }
        for sql in SEED_FAMILY_REGISTERS {
            tx.execute(sql, &[&place.code, &place.city]).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Links card serials to residents (`(serial, 住民票コード)`), keeping existing links.
pub async fn link_cards(client: &Client, links: &[(Vec<u8>, String)]) -> Result<(), BoxError> {
    for chunk in links.chunks(2000) {
        let serials: Vec<&[u8]> = chunk.iter().map(|(s, _)| s.as_slice()).collect();
        let codes: Vec<&str> = chunk.iter().map(|(_, c)| c.as_str()).collect();
        client.execute(LINK_CARDS, &[&serials, &codes]).await?;
    }
    Ok(())
}

const LINK_SMARTPHONES: &str = "
    INSERT INTO smartphone_links (serial, card_serial)
    SELECT * FROM unnest($1::bytea[], $2::bytea[])
    ON CONFLICT (serial) DO NOTHING";

/// Links smartphone serials to the card serials they were derived from
/// (`(phone, card)`), as J-LIS's `smartphone_issued` would, keeping existing
/// links.
pub async fn link_smartphones(
    client: &Client,
    links: &[(Vec<u8>, Vec<u8>)],
) -> Result<(), BoxError> {
    for chunk in links.chunks(2000) {
        let phones: Vec<&[u8]> = chunk.iter().map(|(p, _)| p.as_slice()).collect();
        let cards: Vec<&[u8]> = chunk.iter().map(|(_, c)| c.as_slice()).collect();
        client.execute(LINK_SMARTPHONES, &[&phones, &cards]).await?;
    }
    Ok(())
}

/// What a card's certificates must show, as the registers have it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Holder {
    /// The code of the holder's municipality (their document numbers carry it).
    pub municipality: String,
    /// The card holder's name (a self-only certificate lists exactly this).
    pub name: String,
    /// The household's address.
    pub address: String,
    /// Active household members in register order (a whole-household certificate lists exactly these).
    pub household_names: Vec<String>,
    /// The synthetic numbers of the household's members (empty for the demo's own residents).
    pub household_numbers: Vec<u32>,
    /// The card holder's 個人番号, if recorded.
    pub my_number: Option<String>,
    /// Every 個人番号 recorded in the household (the holder's included).
    pub household_my_numbers: Vec<String>,
}

const HOLDERS: &str = "
    SELECT l.serial, r.municipality_code, r.name, h.address,
           array_agg(m.name ORDER BY m.register_order),
           array_agg(m.resident_code ORDER BY m.register_order),
           r.my_number,
           coalesce(array_agg(m.my_number) FILTER (WHERE m.my_number IS NOT NULL), '{}')
      FROM certificate_links l
      JOIN residents r ON r.id = l.resident_id
      JOIN households h ON h.id = r.household_id
      JOIN residents m ON m.household_id = r.household_id AND m.status = 'active'
     WHERE l.serial = ANY($1)
     GROUP BY l.serial, r.municipality_code, r.name, h.address, r.my_number";

/// The holder of each card serial, read from the registers.
pub async fn holders(
    client: &Client,
    serials: &[Vec<u8>],
) -> Result<HashMap<Vec<u8>, Holder>, BoxError> {
    let mut out = HashMap::new();
    for chunk in serials.chunks(5000) {
        let refs: Vec<&[u8]> = chunk.iter().map(|s| s.as_slice()).collect();
        for row in client.query(HOLDERS, &[&refs]).await? {
            let codes: Vec<String> = row.get(5);
            out.insert(
                row.get::<_, Vec<u8>>(0),
                Holder {
                    municipality: row.get(1),
                    name: row.get(2),
                    address: row.get(3),
                    household_names: row.get(4),
                    household_numbers: codes.iter().filter_map(|c| number_of(c)).collect(),
                    my_number: row.get(6),
                    household_my_numbers: row.get(7),
                },
            );
        }
    }
    Ok(out)
}

/// Holders of the demo cards from kofu's own demo data (external gateway, no database).
pub fn demo_holders() -> HashMap<String, Holder> {
    use kofu::devkit::demo_registers::{CARD_HOLDERS, HOUSEHOLDS, MUNICIPALITY_CODE, RESIDENTS};
    let mut out = HashMap::new();
    for (label, code) in CARD_HOLDERS {
        let Some(me) = RESIDENTS.iter().find(|r| r.resident_code == *code) else {
            continue;
        };
        let mut members: Vec<_> = RESIDENTS
            .iter()
            .filter(|r| r.household_no == me.household_no)
            .collect();
        members.sort_by_key(|r| r.register_order);
        out.insert(
            (*label).to_owned(),
            Holder {
                municipality: MUNICIPALITY_CODE.to_owned(),
                name: me.name.to_owned(),
                address: HOUSEHOLDS
                    .iter()
                    .find(|(no, _)| *no == me.household_no)
                    .map(|(_, a)| (*a).to_owned())
                    .unwrap_or_default(),
                household_names: members.iter().map(|r| r.name.to_owned()).collect(),
                household_numbers: Vec::new(),
                my_number: me.my_number.map(str::to_owned),
                household_my_numbers: members
                    .iter()
                    .filter_map(|r| r.my_number.map(str::to_owned))
                    .collect(),
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_residents_file_reads_as_kofus_register_with_one_record_a_resident() {
        use kofu::gateway::registry::import::{Format, read, residents::COLUMNS};
        let plain = residents_csv(50, "東京都みなと町", false);
        let records = read(plain.as_bytes(), Format::Csv, COLUMNS)
            .map_err(|e| e.len())
            .unwrap();
        assert_eq!(records.len(), 50);
        assert_eq!(records[0].fields["resident_code"], resident_code(1));
        assert!(records[0].fields["address"].starts_with("東京都みなと町試験町"));
        let changed = residents_csv(50, "東京都みなと町", true);
        let again = read(changed.as_bytes(), Format::Csv, COLUMNS)
            .map_err(|e| e.len())
            .unwrap();
        for (a, b) in records.iter().zip(&again) {
            assert_ne!(
                a.fields["became_resident_on"],
                b.fields["became_resident_on"]
            );
            assert_eq!(a.fields["name"], b.fields["name"]);
        }
    }

    #[test]
    fn population_is_deterministic_with_unique_codes_and_valid_fields() {
        let (households, residents) = generate(100);
        assert_eq!(residents.len(), 100);
        assert_eq!(generate(100), (households.clone(), residents.clone()));
        let mut codes: Vec<_> = residents.iter().map(|r| r.resident_code.clone()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), 100);
        for r in &residents {
            assert_eq!(r.resident_code.len(), 11);
            assert!(r.resident_code.bytes().all(|b| b.is_ascii_digit()));
            assert_eq!(number_of(&r.resident_code), Some(r.number));
            assert!(r.name.ends_with(&r.number.to_string()));
            assert!(r.name.contains('　'));
            if let Some(m) = &r.my_number {
                assert_eq!(m.len(), 12);
            }
            assert!(r.became_resident_on >= r.birth_date);
        }
        // Each household starts with its householder, orders are 1..=size.
        for h in &households {
            let members: Vec<_> = residents
                .iter()
                .filter(|r| r.household == h.number)
                .collect();
            assert!(members[0].is_householder);
            assert_eq!(members.iter().filter(|r| r.is_householder).count(), 1);
            for (i, m) in members.iter().enumerate() {
                assert_eq!(m.register_order, i as i32 + 1);
                assert_eq!(m.head_of_register, members[0].name);
            }
        }
        assert!(households.len() > 20);
        assert!(residents.iter().any(|r| r.register_order == 7));
    }

    #[test]
    fn households_alternate_between_two_municipalities_with_their_own_addresses() {
        let (households, residents) = generate(500);
        for place in MUNICIPALITIES {
            let here: Vec<&Household> = households
                .iter()
                .filter(|h| h.municipality == place.code)
                .collect();
            assert!(here.len() * 3 >= households.len(), "about half each");
            assert!(here.iter().all(|h| h.address.starts_with(place.city)));
            // Every household size lives in both.
            let sizes: std::collections::BTreeSet<usize> = here
                .iter()
                .map(|h| residents.iter().filter(|r| r.household == h.number).count())
                .collect();
            assert!(
                SIZES.iter().all(|n| sizes.contains(&(*n as usize))),
                "{sizes:?}"
            );
        }
        assert_eq!(municipality_of_household(1), MUNICIPALITIES[0]);
        assert_eq!(municipality_of_household(2), MUNICIPALITIES[1]);
    }

    #[test]
    fn the_second_municipality_is_valid_and_charges_other_fees_for_every_kind() {
        let second = MUNICIPALITIES[1].code;
        assert!(LocalGovernmentCode::parse(second).is_ok());
        // Not the demo's, nor the onboarding check's test municipality.
        assert!(
            ![
                kofu::devkit::demo_registers::MUNICIPALITY_CODE,
                kofu::devkit::operator_pki::NEW_MUNICIPALITY_CODE
            ]
            .contains(&second)
        );
        assert!(second_settings().problems().is_empty());
        let fees = fees();
        let (demo, other) = (&fees[MUNICIPALITIES[0].code], &fees[second]);
        for kind in CertificateKind::ALL {
            let (a, b) = (demo.get(&kind), other.get(&kind));
            assert!(
                a.is_some() && b.is_some() && a != b,
                "{kind:?}: {a:?} {b:?}"
            );
        }
    }

    #[test]
    fn my_number_check_digit_matches_the_published_algorithm() {
        // The demo's My Number 123456789018 is valid.
        assert_eq!(my_number_check_digit("12345678901"), Some(8));
        assert_eq!(my_number_check_digit("1234"), None);
        assert_eq!(my_number_check_digit("1234567890a"), None);
    }
}
