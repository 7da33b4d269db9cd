//! Tax assessments (課税), one resident's fiscal year per line, keyed by
//! (住民票コード, 年度). Flat columns in CSV and NDJSON alike: the totals,
//! `income_<kind>_receipts_yen` / `income_<kind>_yen` for each kind of
//! income, `deduction_<kind>_yen` for each deduction, and the day the
//! fiscal year becomes issuable (`year_released_on`, the same on every line
//! of a year).

use std::collections::{BTreeMap, HashMap};

use time::Date;

use super::{Fields, ImportError, LineError, Loaded, RawRecord, invalid};
use tokio_postgres::Transaction;

/// The kinds of income and of deduction the registers know (sql/0017).
pub const INCOME_KINDS: [&str; 9] = [
    "salary",
    "business",
    "real_estate",
    "interest",
    "dividend",
    "pension",
    "miscellaneous",
    "temporary",
    "other",
];
pub const DEDUCTION_KINDS: [&str; 14] = [
    "basic",
    "social_insurance",
    "life_insurance",
    "earthquake_insurance",
    "medical",
    "spouse",
    "spouse_special",
    "dependant",
    "disability",
    "widow",
    "single_parent",
    "working_student",
    "casualty",
    "small_business_mutual_aid",
];

/// Every column name.
pub fn columns() -> Vec<String> {
    let mut c: Vec<String> = [
        "resident_code",
        "fiscal_year",
        "year_released_on",
        "resident_on_january_1",
        "dependants",
        "taxable_income_yen",
        "municipal_tax_yen",
        "prefectural_tax_yen",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for k in INCOME_KINDS {
        c.push(format!("income_{k}_receipts_yen"));
        c.push(format!("income_{k}_yen"));
    }
    for k in DEDUCTION_KINDS {
        c.push(format!("deduction_{k}_yen"));
    }
    c
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Assessment {
    line: usize,
    resident_code: String,
    fiscal_year: i32,
    year_released_on: Date,
    resident_on_january_1: bool,
    dependants: i32,
    taxable_income_yen: i64,
    municipal_tax_yen: i64,
    prefectural_tax_yen: i64,
    income: BTreeMap<&'static str, (i64, i64)>,
    deductions: BTreeMap<&'static str, i64>,
}

const YEN: std::ops::RangeInclusive<i64> = 0..=999_999_999_999;

fn check(record: &RawRecord) -> Result<Assessment, Vec<LineError>> {
    let mut f = Fields::of(record);
    let required = |f: &mut Fields<'_>, field: &str| {
        if f.optional(field).is_none() {
            f.error(field, "required");
        }
    };
    for field in [
        "resident_code",
        "fiscal_year",
        "year_released_on",
        "taxable_income_yen",
        "municipal_tax_yen",
        "prefectural_tax_yen",
    ] {
        required(&mut f, field);
    }
    let resident_code = f.digits("resident_code", 11);
    let fiscal_year = f.int("fiscal_year", 1989..=2200);
    let year_released_on = f.date("year_released_on");
    let resident_on_january_1 = match f.optional("resident_on_january_1") {
        None => true,
        Some(_) => f.bool("resident_on_january_1"),
    };
    let dependants = f.int("dependants", 0..=99).unwrap_or(0);
    let taxable = f.int("taxable_income_yen", YEN);
    let municipal = f.int("municipal_tax_yen", YEN);
    let prefectural = f.int("prefectural_tax_yen", YEN);
    let mut income = BTreeMap::new();
    for k in INCOME_KINDS {
        let receipts_field = format!("income_{k}_receipts_yen");
        let income_field = format!("income_{k}_yen");
        match (f.int(&receipts_field, YEN), f.int(&income_field, YEN)) {
            (Some(r), Some(i)) if i <= r => {
                income.insert(k, (r, i));
            }
            (Some(_), Some(_)) => f.error(&income_field, "more_than_receipts"),
            (None, None) => {}
            (Some(_), None) if f.optional(&income_field).is_none() => {
                f.error(&income_field, "required_with_receipts")
            }
            (None, Some(_)) if f.optional(&receipts_field).is_none() => {
                f.error(&receipts_field, "required_with_income")
            }
            _ => {}
        }
    }
    let mut deductions = BTreeMap::new();
    for k in DEDUCTION_KINDS {
        if let Some(amount) = f.int(&format!("deduction_{k}_yen"), YEN) {
            deductions.insert(k, amount);
        }
    }
    match (
        resident_code,
        fiscal_year,
        year_released_on,
        taxable,
        municipal,
        prefectural,
    ) {
        (Some(rc), Some(fy), Some(released), Some(t), Some(m), Some(p)) if f.errors.is_empty() => {
            Ok(Assessment {
                line: record.line,
                resident_code: rc,
                fiscal_year: fy as i32,
                year_released_on: released,
                resident_on_january_1,
                dependants: dependants as i32,
                taxable_income_yen: t,
                municipal_tax_yen: m,
                prefectural_tax_yen: p,
                income,
                deductions,
            })
        }
        _ => Err(f.errors),
    }
}

/// Every record checked, alone and across the file (no database): the
/// assessments, or every error.
pub(crate) fn check_file(records: &[RawRecord]) -> Result<Vec<Assessment>, Vec<LineError>> {
    let (rows, mut errors) = super::check_each(records, check);
    let mut keys: HashMap<(&str, i32), usize> = HashMap::new();
    let mut releases: BTreeMap<i32, Date> = BTreeMap::new();
    for a in &rows {
        if keys
            .insert((&a.resident_code, a.fiscal_year), a.line)
            .is_some()
        {
            errors.push(LineError {
                line: a.line,
                field: "fiscal_year".into(),
                reason: "duplicate_in_file",
            });
        }
        match releases.get(&a.fiscal_year) {
            Some(d) if *d != a.year_released_on => errors.push(LineError {
                line: a.line,
                field: "year_released_on".into(),
                reason: "differs_within_year",
            }),
            Some(_) => {}
            None => {
                releases.insert(a.fiscal_year, a.year_released_on);
            }
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// Loads tax assessments into municipality `code`.
pub async fn apply(
    tx: &Transaction<'_>,
    code: &str,
    records: &[RawRecord],
) -> Result<Loaded, ImportError> {
    let rows = check_file(records).map_err(invalid)?;
    // One release day per fiscal year (`check_file` refused a file with two).
    let releases: BTreeMap<i32, Date> = rows
        .iter()
        .map(|a| (a.fiscal_year, a.year_released_on))
        .collect();
    let codes: Vec<&str> = rows.iter().map(|a| a.resident_code.as_str()).collect();
    let ids = super::resident_ids(tx, code, &codes).await?;
    let missing: Vec<LineError> = rows
        .iter()
        .filter(|a| !ids.contains_key(&a.resident_code))
        .map(|a| LineError {
            line: a.line,
            field: "resident_code".into(),
            reason: "resident_not_found",
        })
        .collect();
    if !missing.is_empty() {
        return Err(invalid(missing));
    }
    for (year, released_on) in &releases {
        tx.execute(
            "INSERT INTO tax_year_releases (municipality_code, fiscal_year, released_on) VALUES ($1, $2, $3)
             ON CONFLICT (municipality_code, fiscal_year) DO UPDATE SET released_on = EXCLUDED.released_on
              WHERE tax_year_releases.released_on <> EXCLUDED.released_on",
            &[&code, year, released_on],
        )
        .await?;
    }
    let mut loaded = Loaded {
        records: rows.len(),
        ..Loaded::default()
    };
    for a in &rows {
        let resident_id = ids[&a.resident_code];
        // The stored assessment, items and deductions as this file would write them.
        let stored = tx
            .query_opt(
                "SELECT a.id, a.resident_on_january_1, a.dependants, a.taxable_income_yen,
                        a.municipal_tax_yen, a.prefectural_tax_yen,
                        coalesce((SELECT json_object_agg(i.kind, json_build_array(i.receipts_yen, i.income_yen))
                                    FROM tax_income_items i WHERE i.assessment_id = a.id), '{}'),
                        coalesce((SELECT json_object_agg(d.kind, d.amount_yen)
                                    FROM tax_deductions d WHERE d.assessment_id = a.id), '{}')
                   FROM tax_assessments a WHERE a.resident_id = $1 AND a.fiscal_year = $2",
                &[&resident_id, &a.fiscal_year],
            )
            .await?;
        let income_json: serde_json::Value = a
            .income
            .iter()
            .map(|(k, (r, i))| ((*k).to_owned(), serde_json::json!([r, i])))
            .collect::<serde_json::Map<_, _>>()
            .into();
        let deductions_json: serde_json::Value = a
            .deductions
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::json!(v)))
            .collect::<serde_json::Map<_, _>>()
            .into();
        if let Some(s) = &stored {
            let same = s.get::<_, bool>(1) == a.resident_on_january_1
                && s.get::<_, i32>(2) == a.dependants
                && s.get::<_, i64>(3) == a.taxable_income_yen
                && s.get::<_, i64>(4) == a.municipal_tax_yen
                && s.get::<_, i64>(5) == a.prefectural_tax_yen
                && s.get::<_, serde_json::Value>(6) == income_json
                && s.get::<_, serde_json::Value>(7) == deductions_json;
            if same {
                loaded.unchanged += 1;
                continue;
            }
        }
        let id: i64 = tx
            .query_one(
                "INSERT INTO tax_assessments (municipality_code, resident_id, fiscal_year, resident_on_january_1,
                        dependants, taxable_income_yen, municipal_tax_yen, prefectural_tax_yen)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (resident_id, fiscal_year) DO UPDATE SET
                        resident_on_january_1 = EXCLUDED.resident_on_january_1,
                        dependants = EXCLUDED.dependants, taxable_income_yen = EXCLUDED.taxable_income_yen,
                        municipal_tax_yen = EXCLUDED.municipal_tax_yen,
                        prefectural_tax_yen = EXCLUDED.prefectural_tax_yen, updated_at = now()
                 RETURNING id",
                &[
                    &code,
                    &resident_id,
                    &a.fiscal_year,
                    &a.resident_on_january_1,
                    &a.dependants,
                    &a.taxable_income_yen,
                    &a.municipal_tax_yen,
                    &a.prefectural_tax_yen,
                ],
            )
            .await?
            .get(0);
        tx.execute(
            "DELETE FROM tax_income_items WHERE assessment_id = $1",
            &[&id],
        )
        .await?;
        tx.execute(
            "DELETE FROM tax_deductions WHERE assessment_id = $1",
            &[&id],
        )
        .await?;
        for (kind, (receipts, income)) in &a.income {
            tx.execute(
                "INSERT INTO tax_income_items (assessment_id, kind, receipts_yen, income_yen) VALUES ($1, $2, $3, $4)",
                &[&id, kind, receipts, income],
            )
            .await?;
        }
        for (kind, amount) in &a.deductions {
            tx.execute(
                "INSERT INTO tax_deductions (assessment_id, kind, amount_yen) VALUES ($1, $2, $3)",
                &[&id, kind, amount],
            )
            .await?;
        }
        if stored.is_some() {
            loaded.updated += 1;
        } else {
            loaded.inserted += 1;
        }
    }
    Ok(loaded)
}
