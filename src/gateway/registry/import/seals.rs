//! The seal registrations (印鑑登録), one per line, keyed by the
//! municipality's 登録番号. The impression (印影) is a PNG, base64 in the file.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use time::Date;

use super::{Fields, ImportError, LineError, Loaded, RawRecord, invalid};
use tokio_postgres::Transaction;

pub const COLUMNS: &[&str] = &[
    "resident_code",
    "registration_no",
    "impression_png",
    "registered_on",
    "abolished_on",
];

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

#[derive(Debug, Clone)]
pub(crate) struct Seal {
    line: usize,
    resident_code: String,
    registration_no: String,
    impression_png: Vec<u8>,
    registered_on: Date,
    abolished_on: Option<Date>,
}

fn check(record: &RawRecord) -> Result<Seal, Vec<LineError>> {
    let mut f = Fields::of(record);
    let resident_code = f.digits("resident_code", 11);
    if f.optional("resident_code").is_none() {
        f.error("resident_code", "required");
    }
    let registration_no = f.optional("registration_no").map(str::to_owned);
    match &registration_no {
        None => f.error("registration_no", "required"),
        Some(n)
            if n.is_empty()
                || n.len() > 20
                || !n
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase() || b == b'-') =>
        {
            f.error("registration_no", "registration_no_malformed")
        }
        Some(_) => {}
    }
    let impression = match f.optional("impression_png") {
        None => {
            f.error("impression_png", "required");
            None
        }
        Some(text) => match STANDARD.decode(text) {
            Ok(png) if png.starts_with(PNG_SIGNATURE) && (67..=262_144).contains(&png.len()) => {
                Some(png)
            }
            Ok(_) => {
                f.error("impression_png", "impression_not_png");
                None
            }
            Err(_) => {
                f.error("impression_png", "base64_malformed");
                None
            }
        },
    };
    let registered_on = f.required_date("registered_on");
    let abolished_on = f.date("abolished_on");
    if let (Some(r), Some(a)) = (registered_on, abolished_on)
        && a < r
    {
        f.error("abolished_on", "before_registration");
    }
    match (resident_code, registration_no, impression, registered_on) {
        (Some(resident_code), Some(registration_no), Some(impression_png), Some(registered_on))
            if f.errors.is_empty() =>
        {
            Ok(Seal {
                line: record.line,
                resident_code,
                registration_no,
                impression_png,
                registered_on,
                abolished_on,
            })
        }
        _ => Err(f.errors),
    }
}

/// Every record checked, alone and across the file (no database): the
/// registrations, or every error.
pub(crate) fn check_file(records: &[RawRecord]) -> Result<Vec<Seal>, Vec<LineError>> {
    let (seals, mut errors) = super::check_each(records, check);
    // Across lines: a 登録番号 once; at most one active registration per resident.
    let mut numbers: HashMap<&str, usize> = HashMap::new();
    let mut active: HashMap<&str, usize> = HashMap::new();
    for s in &seals {
        if numbers.insert(&s.registration_no, s.line).is_some() {
            errors.push(LineError {
                line: s.line,
                field: "registration_no".into(),
                reason: "duplicate_in_file",
            });
        }
        if s.abolished_on.is_none() && active.insert(&s.resident_code, s.line).is_some() {
            errors.push(LineError {
                line: s.line,
                field: "abolished_on".into(),
                reason: "second_active_registration",
            });
        }
    }
    if errors.is_empty() {
        Ok(seals)
    } else {
        Err(errors)
    }
}

/// Loads seal registrations into municipality `code`.
pub async fn apply(
    tx: &Transaction<'_>,
    code: &str,
    records: &[RawRecord],
) -> Result<Loaded, ImportError> {
    let seals = check_file(records).map_err(invalid)?;
    let mut errors = Vec::new();
    // Every resident must be this municipality's; an active registration
    // already stored under another number must be abolished by this file.
    let codes: Vec<&str> = seals.iter().map(|s| s.resident_code.as_str()).collect();
    let ids = super::resident_ids(tx, code, &codes).await?;
    let stored_active: HashMap<i64, String> = tx
        .query(
            "SELECT resident_id, registration_no FROM seal_registrations
              WHERE municipality_code = $1 AND abolished_on IS NULL",
            &[&code],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let abolished_here: std::collections::HashSet<&str> = seals
        .iter()
        .filter(|s| s.abolished_on.is_some())
        .map(|s| s.registration_no.as_str())
        .collect();
    for s in &seals {
        match ids.get(&s.resident_code) {
            None => errors.push(LineError {
                line: s.line,
                field: "resident_code".into(),
                reason: "resident_not_found",
            }),
            Some(id) if s.abolished_on.is_none() => {
                if let Some(other) = stored_active.get(id)
                    && *other != s.registration_no
                    && !abolished_here.contains(other.as_str())
                {
                    errors.push(LineError {
                        line: s.line,
                        field: "abolished_on".into(),
                        reason: "second_active_registration",
                    });
                }
            }
            Some(_) => {}
        }
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let mut loaded = Loaded {
        records: seals.len(),
        ..Loaded::default()
    };
    // Abolitions first, so a new active registration never meets the old one.
    let mut ordered: Vec<&Seal> = seals.iter().collect();
    ordered.sort_by_key(|s| s.abolished_on.is_none());
    for s in ordered {
        let row = tx
            .query_opt(
                "INSERT INTO seal_registrations (municipality_code, resident_id, registration_no,
                        impression_png, registered_on, abolished_on)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (municipality_code, registration_no) DO UPDATE SET
                        resident_id = EXCLUDED.resident_id, impression_png = EXCLUDED.impression_png,
                        registered_on = EXCLUDED.registered_on, abolished_on = EXCLUDED.abolished_on,
                        updated_at = now()
                  WHERE (seal_registrations.resident_id, seal_registrations.impression_png,
                         seal_registrations.registered_on, seal_registrations.abolished_on)
                        IS DISTINCT FROM
                        (EXCLUDED.resident_id, EXCLUDED.impression_png, EXCLUDED.registered_on,
                         EXCLUDED.abolished_on)
                 RETURNING xmax = 0",
                &[
                    &code,
                    &ids[&s.resident_code],
                    &s.registration_no,
                    &s.impression_png,
                    &s.registered_on,
                    &s.abolished_on,
                ],
            )
            .await?;
        match row {
            Some(r) if r.get::<_, bool>(0) => loaded.inserted += 1,
            Some(_) => loaded.updated += 1,
            None => loaded.unchanged += 1,
        }
    }
    Ok(loaded)
}
