//! The residents register (住民基本台帳) and its households, one record per
//! resident with the household's number and address on it. Keyed by the
//! 住民票コード (residents) and the 世帯番号 (households).

use std::collections::{BTreeMap, HashMap};

use time::Date;

use super::{Fields, ImportError, LineError, Loaded, RawRecord, invalid, my_number_valid};
use tokio_postgres::Transaction;

/// The columns, in the documented order (README: "Register import").
pub const COLUMNS: &[&str] = &[
    "household_no",
    "address",
    "resident_code",
    "register_order",
    "name",
    "name_kana",
    "birth_date",
    "sex",
    "relationship",
    "is_householder",
    "became_resident_on",
    "moved_in_on",
    "domicile",
    "head_of_register",
    "my_number",
    "status",
    "protected",
    "former_surname",
    "alias",
    "nationality",
    "residence_card_number",
    "status_of_residence",
    "period_of_stay",
    "period_of_stay_expires_on",
];

const FOREIGN: [&str; 5] = [
    "nationality",
    "residence_card_number",
    "status_of_residence",
    "period_of_stay",
    "period_of_stay_expires_on",
];

/// One resident, checked.
#[derive(Debug, Clone)]
pub(crate) struct Resident {
    line: usize,
    household_no: String,
    address: String,
    resident_code: String,
    register_order: i32,
    name: String,
    name_kana: String,
    birth_date: Date,
    sex: &'static str,
    relationship: String,
    is_householder: bool,
    became_resident_on: Date,
    moved_in_on: Option<Date>,
    domicile: Option<String>,
    head_of_register: Option<String>,
    my_number: Option<String>,
    status: &'static str,
    protected: bool,
    former_surname: Option<String>,
    alias: Option<String>,
    nationality: Option<String>,
    residence_card_number: Option<String>,
    status_of_residence: Option<String>,
    period_of_stay: Option<String>,
    period_of_stay_expires_on: Option<Date>,
}

fn check(record: &RawRecord) -> Result<Resident, Vec<LineError>> {
    let mut f = Fields::of(record);
    let household_no = f.text("household_no", 32);
    let address = f.text("address", 200);
    let resident_code = match f.digits("resident_code", 11) {
        Some(c) => c,
        None => {
            if f.optional("resident_code").is_none() {
                f.error("resident_code", "required");
            }
            String::new()
        }
    };
    let register_order = match f.int("register_order", 1..=999) {
        Some(n) => n as i32,
        None => {
            if f.optional("register_order").is_none() {
                f.error("register_order", "required");
            }
            0
        }
    };
    let name = f.text("name", 100);
    let name_kana = f.text("name_kana", 200);
    let birth_date = f.required_date("birth_date");
    let sex = f.one_of("sex", &["male", "female"]);
    if f.optional("sex").is_none() {
        f.error("sex", "required");
    }
    let relationship = f.text("relationship", 40);
    let is_householder = f.bool("is_householder");
    let became_resident_on = f.required_date("became_resident_on");
    let moved_in_on = f.date("moved_in_on");
    let domicile = f.optional_text("domicile", 200);
    let head_of_register = f.optional_text("head_of_register", 100);
    let my_number = f.digits("my_number", 12);
    if let Some(n) = &my_number
        && !my_number_valid(n)
    {
        f.error("my_number", "check_digit_wrong");
    }
    let status = f
        .one_of("status", &["active", "moving_out", "moved_out", "deceased"])
        .unwrap_or("active");
    let protected = f.bool("protected");
    let former_surname = f.optional_text("former_surname", 100);
    let alias = f.optional_text("alias", 100);
    let nationality = f.optional_text("nationality", 60);
    let residence_card_number = f.optional("residence_card_number").map(str::to_owned);
    if let Some(n) = &residence_card_number {
        let b = n.as_bytes();
        let shaped = b.len() == 12
            && b[..2].iter().all(u8::is_ascii_uppercase)
            && b[2..10].iter().all(u8::is_ascii_digit)
            && b[10..].iter().all(u8::is_ascii_uppercase);
        if !shaped {
            f.error("residence_card_number", "residence_card_number_malformed");
        }
    }
    let status_of_residence = f.optional_text("status_of_residence", 60);
    let period_of_stay = f.optional_text("period_of_stay", 60);
    let period_of_stay_expires_on = f.date("period_of_stay_expires_on");
    let foreign_given = FOREIGN.iter().filter(|c| f.optional(c).is_some()).count();
    if foreign_given != 0 && foreign_given != FOREIGN.len() {
        let missing: Vec<&str> = FOREIGN
            .into_iter()
            .filter(|c| f.optional(c).is_none())
            .collect();
        for c in missing {
            f.error(c, "required_for_foreign_residents");
        }
    }
    if foreign_given == 0 && alias.is_some() {
        f.error("alias", "only_for_foreign_residents");
    }
    if foreign_given != 0 && domicile.is_some() {
        f.error("domicile", "only_for_nationals");
    }
    if let (Some(b), Some(m)) = (birth_date, moved_in_on)
        && m < b
    {
        f.error("moved_in_on", "before_birth");
    }
    let errors = f.errors;
    match (birth_date, became_resident_on, sex) {
        (Some(birth_date), Some(became_resident_on), Some(sex)) if errors.is_empty() => {
            Ok(Resident {
                line: record.line,
                household_no,
                address,
                resident_code,
                register_order,
                name,
                name_kana,
                birth_date,
                sex,
                relationship,
                is_householder,
                became_resident_on,
                moved_in_on,
                domicile,
                head_of_register,
                my_number,
                status,
                protected,
                former_surname,
                alias,
                nationality,
                residence_card_number,
                status_of_residence,
                period_of_stay,
                period_of_stay_expires_on,
            })
        }
        _ => Err(errors),
    }
}

/// The rules across records: a 住民票コード once, one address per household,
/// one resident per register position, at most one householder.
fn check_across(residents: &[Resident]) -> Vec<LineError> {
    let mut errors = Vec::new();
    let mut codes: HashMap<&str, usize> = HashMap::new();
    let mut households: HashMap<&str, (&str, usize)> = HashMap::new();
    let mut positions: HashMap<(&str, i32), usize> = HashMap::new();
    let mut householders: HashMap<&str, usize> = HashMap::new();
    let mut error = |line, field: &str, reason| {
        errors.push(LineError {
            line,
            field: field.to_owned(),
            reason,
        })
    };
    for r in residents {
        if codes.insert(&r.resident_code, r.line).is_some() {
            error(r.line, "resident_code", "duplicate_in_file");
        }
        match households.get(r.household_no.as_str()) {
            Some((address, _)) if *address != r.address => {
                error(r.line, "address", "differs_within_household")
            }
            Some(_) => {}
            None => {
                households.insert(&r.household_no, (&r.address, r.line));
            }
        }
        if positions
            .insert((&r.household_no, r.register_order), r.line)
            .is_some()
        {
            error(r.line, "register_order", "duplicate_in_household");
        }
        if r.is_householder && householders.insert(&r.household_no, r.line).is_some() {
            error(r.line, "is_householder", "second_householder");
        }
    }
    errors
}

/// Every record checked, alone and across the file (no database): the
/// residents, or every error.
pub(crate) fn check_file(records: &[RawRecord]) -> Result<Vec<Resident>, Vec<LineError>> {
    let (residents, mut errors) = super::check_each(records, check);
    errors.extend(check_across(&residents));
    if errors.is_empty() {
        Ok(residents)
    } else {
        Err(errors)
    }
}

/// Loads residents from `body` into municipality `code` (see the module rules).
pub async fn apply(
    tx: &Transaction<'_>,
    code: &str,
    records: &[RawRecord],
) -> Result<Loaded, ImportError> {
    let residents = check_file(records).map_err(invalid)?;
    // A 住民票コード is nationwide: one registered in another municipality
    // is not this file's to change (that is a move, through the change feed).
    let all_codes: Vec<&str> = residents.iter().map(|r| r.resident_code.as_str()).collect();
    let elsewhere = tx
        .query(
            "SELECT resident_code FROM residents
              WHERE resident_code = ANY($1) AND municipality_code <> $2",
            &[&all_codes, &code],
        )
        .await?;
    if !elsewhere.is_empty() {
        let lines: HashMap<&str, usize> = residents
            .iter()
            .map(|r| (r.resident_code.as_str(), r.line))
            .collect();
        let errors = elsewhere
            .iter()
            .map(|row| LineError {
                line: lines[row.get::<_, &str>(0)],
                field: "resident_code".to_owned(),
                reason: "registered_in_another_municipality",
            })
            .collect();
        return Err(invalid(errors));
    }
    let mut loaded = Loaded {
        records: residents.len(),
        ..Loaded::default()
    };
    // Households first (one row each), then the residents that point to them.
    let households: BTreeMap<&str, &str> = residents
        .iter()
        .map(|r| (r.household_no.as_str(), r.address.as_str()))
        .collect();
    let (numbers, addresses): (Vec<&str>, Vec<&str>) = households.into_iter().unzip();
    tx.execute(
        "INSERT INTO households (municipality_code, household_no, address)
         SELECT $1, n, a FROM unnest($2::text[], $3::text[]) AS x(n, a)
         ON CONFLICT (municipality_code, household_no) DO UPDATE
            SET address = EXCLUDED.address, updated_at = now()
          WHERE households.address IS DISTINCT FROM EXCLUDED.address",
        &[&code, &numbers, &addresses],
    )
    .await?;
    for chunk in residents.chunks(10_000) {
        let counts = upsert(tx, code, chunk).await?;
        loaded.inserted += counts.0;
        loaded.updated += counts.1;
    }
    loaded.unchanged = residents.len() as u64 - loaded.inserted - loaded.updated;
    Ok(loaded)
}

/// Inserts or updates one chunk; (inserted, updated).
async fn upsert(
    tx: &tokio_postgres::Transaction<'_>,
    code: &str,
    chunk: &[Resident],
) -> Result<(u64, u64), ImportError> {
    macro_rules! column {
        ($field:ident) => {
            chunk.iter().map(|r| r.$field.clone()).collect::<Vec<_>>()
        };
    }
    let household_no = column!(household_no);
    let resident_code = column!(resident_code);
    let register_order = column!(register_order);
    let name = column!(name);
    let name_kana = column!(name_kana);
    let birth_date = column!(birth_date);
    let sex: Vec<&str> = chunk.iter().map(|r| r.sex).collect();
    let relationship = column!(relationship);
    let is_householder = column!(is_householder);
    let became_resident_on = column!(became_resident_on);
    let moved_in_on = column!(moved_in_on);
    let domicile = column!(domicile);
    let head_of_register = column!(head_of_register);
    let my_number = column!(my_number);
    let status: Vec<&str> = chunk.iter().map(|r| r.status).collect();
    let protected = column!(protected);
    let former_surname = column!(former_surname);
    let alias = column!(alias);
    let nationality = column!(nationality);
    let residence_card_number = column!(residence_card_number);
    let status_of_residence = column!(status_of_residence);
    let period_of_stay = column!(period_of_stay);
    let period_of_stay_expires_on = column!(period_of_stay_expires_on);
    // `xmax = 0` tells an inserted row from an updated one; a row equal to
    // the file's is not touched at all (the WHERE), so a second load of the
    // same file writes nothing.
    let rows = tx
        .query(
            "INSERT INTO residents (resident_code, municipality_code, household_id, register_order, name,
                    name_kana, birth_date, sex, relationship, is_householder, became_resident_on,
                    moved_in_on, domicile, head_of_register, my_number, status, protected,
                    former_surname, alias, nationality, residence_card_number, status_of_residence,
                    period_of_stay, period_of_stay_expires_on)
             SELECT x.rc, $1, h.id, x.ro, x.nm, x.nk, x.bd, x.sx, x.rel, x.hh, x.br, x.mi, x.dom, x.head,
                    x.mn, x.st, x.pr, x.fs, x.al, x.na, x.rcn, x.sor, x.pos, x.pose
               FROM unnest($2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::date[],
                           $8::text[], $9::text[], $10::bool[], $11::date[], $12::date[], $13::text[],
                           $14::text[], $15::text[], $16::text[], $17::bool[], $18::text[], $19::text[],
                           $20::text[], $21::text[], $22::text[], $23::text[], $24::date[])
                    AS x(rc, hno, ro, nm, nk, bd, sx, rel, hh, br, mi, dom, head, mn, st, pr, fs, al,
                         na, rcn, sor, pos, pose)
               JOIN households h ON h.municipality_code = $1 AND h.household_no = x.hno
             ON CONFLICT (resident_code) DO UPDATE SET
                    household_id = EXCLUDED.household_id, register_order = EXCLUDED.register_order,
                    name = EXCLUDED.name, name_kana = EXCLUDED.name_kana,
                    birth_date = EXCLUDED.birth_date, sex = EXCLUDED.sex,
                    relationship = EXCLUDED.relationship, is_householder = EXCLUDED.is_householder,
                    became_resident_on = EXCLUDED.became_resident_on, moved_in_on = EXCLUDED.moved_in_on,
                    domicile = EXCLUDED.domicile, head_of_register = EXCLUDED.head_of_register,
                    my_number = EXCLUDED.my_number, status = EXCLUDED.status,
                    protected = EXCLUDED.protected, former_surname = EXCLUDED.former_surname,
                    alias = EXCLUDED.alias, nationality = EXCLUDED.nationality,
                    residence_card_number = EXCLUDED.residence_card_number,
                    status_of_residence = EXCLUDED.status_of_residence,
                    period_of_stay = EXCLUDED.period_of_stay,
                    period_of_stay_expires_on = EXCLUDED.period_of_stay_expires_on,
                    updated_at = now()
              WHERE (residents.household_id, residents.register_order, residents.name,
                     residents.name_kana, residents.birth_date, residents.sex, residents.relationship,
                     residents.is_householder, residents.became_resident_on, residents.moved_in_on,
                     residents.domicile, residents.head_of_register, residents.my_number,
                     residents.status, residents.protected, residents.former_surname, residents.alias,
                     residents.nationality, residents.residence_card_number,
                     residents.status_of_residence, residents.period_of_stay,
                     residents.period_of_stay_expires_on)
                    IS DISTINCT FROM
                    (EXCLUDED.household_id, EXCLUDED.register_order, EXCLUDED.name,
                     EXCLUDED.name_kana, EXCLUDED.birth_date, EXCLUDED.sex, EXCLUDED.relationship,
                     EXCLUDED.is_householder, EXCLUDED.became_resident_on, EXCLUDED.moved_in_on,
                     EXCLUDED.domicile, EXCLUDED.head_of_register, EXCLUDED.my_number,
                     EXCLUDED.status, EXCLUDED.protected, EXCLUDED.former_surname, EXCLUDED.alias,
                     EXCLUDED.nationality, EXCLUDED.residence_card_number,
                     EXCLUDED.status_of_residence, EXCLUDED.period_of_stay,
                     EXCLUDED.period_of_stay_expires_on)
             RETURNING xmax = 0",
            &[
                &code,
                &resident_code,
                &household_no,
                &register_order,
                &name,
                &name_kana,
                &birth_date,
                &sex,
                &relationship,
                &is_householder,
                &became_resident_on,
                &moved_in_on,
                &domicile,
                &head_of_register,
                &my_number,
                &status,
                &protected,
                &former_surname,
                &alias,
                &nationality,
                &residence_card_number,
                &status_of_residence,
                &period_of_stay,
                &period_of_stay_expires_on,
            ],
        )
        .await?;
    let inserted = rows.iter().filter(|r| r.get::<_, bool>(0)).count() as u64;
    Ok((inserted, rows.len() as u64 - inserted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(line: usize, pairs: &[(&str, &str)]) -> RawRecord {
        RawRecord {
            line,
            fields: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    fn good() -> Vec<(&'static str, &'static str)> {
        vec![
            ("household_no", "H1"),
            ("address", "東京都みなと町一丁目1番1号"),
            ("resident_code", "20000000011"),
            ("register_order", "1"),
            ("name", "港　一郎"),
            ("name_kana", "みなと　いちろう"),
            ("birth_date", "1970-01-02"),
            ("sex", "male"),
            ("relationship", "世帯主"),
            ("is_householder", "true"),
            ("became_resident_on", "1990-04-01"),
        ]
    }

    #[test]
    fn a_good_record_passes_and_every_fault_of_a_bad_one_is_named() {
        assert!(check(&record(2, &good())).is_ok());
        let mut bad = good();
        bad.retain(|(k, _)| *k != "name");
        bad.push(("my_number", "123456789017"));
        bad.push(("nationality", "ベトナム"));
        for (k, v) in bad.iter_mut() {
            match *k {
                "birth_date" => *v = "1970-02-30",
                "sex" => *v = "m",
                "register_order" => *v = "0",
                _ => {}
            }
        }
        let errors = check(&record(7, &bad)).unwrap_err();
        let got: Vec<(usize, &str, &str)> = errors
            .iter()
            .map(|e| (e.line, e.field.as_str(), e.reason))
            .collect();
        assert_eq!(
            got,
            [
                (7, "register_order", "out_of_range"),
                (7, "name", "required"),
                (7, "birth_date", "date_malformed"),
                (7, "sex", "value_not_allowed"),
                (7, "my_number", "check_digit_wrong"),
                (7, "residence_card_number", "required_for_foreign_residents"),
                (7, "status_of_residence", "required_for_foreign_residents"),
                (7, "period_of_stay", "required_for_foreign_residents"),
                (
                    7,
                    "period_of_stay_expires_on",
                    "required_for_foreign_residents"
                ),
            ]
        );
    }

    #[test]
    fn records_that_contradict_each_other_are_named_by_line() {
        let a = check(&record(2, &good())).unwrap();
        let mut b = a.clone();
        b.line = 3;
        b.address = "別の住所".to_owned();
        let mut c = a.clone();
        c.line = 4;
        c.resident_code = "20000000029".to_owned();
        let errors = check_across(&[a, b, c]);
        let got: Vec<(usize, &str, &str)> = errors
            .iter()
            .map(|e| (e.line, e.field.as_str(), e.reason))
            .collect();
        assert_eq!(
            got,
            [
                (3, "resident_code", "duplicate_in_file"),
                (3, "address", "differs_within_household"),
                (3, "register_order", "duplicate_in_household"),
                (3, "is_householder", "second_householder"),
                (4, "register_order", "duplicate_in_household"),
                (4, "is_householder", "second_householder"),
            ]
        );
    }
}
