//! Bulk loads of a municipality's registers, from CSV (a documented header)
//! or NDJSON (one JSON object per line, the same field names).
//!
//! Rules:
//! - Every error is reported with its line and field, not just the first;
//!   a file with any error changes nothing (all-or-nothing).
//! - A load is an upsert keyed by the register's own identifiers (住民票コード,
//!   世帯番号, …): the same file twice changes nothing the second time, and
//!   the answer counts what was inserted, updated and left unchanged.
//! - It runs in one transaction, so an order accepted after it commits sees
//!   all of it, and one accepted before sees none of it (invariant 4).
//! - An error names a line, a field and a reason code, never a value: the
//!   files are personal data.

pub mod changes;
pub mod family;
pub mod residents;
pub mod seals;
pub mod tax;

use std::collections::BTreeMap;

use serde::Serialize;
use tokio_postgres::Transaction;

use crate::gateway::db::Client;

/// Which register a file loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Register {
    /// 住民基本台帳: residents and their households.
    Residents,
    /// 印鑑登録: seal registrations and their impressions.
    Seals,
    /// 課税: tax assessments, their income and deductions, and the day each
    /// fiscal year becomes issuable.
    Tax,
    /// 戸籍: the registers kept here and their members, in register order.
    FamilyRegisters,
    /// 戸籍の身分事項: the events recorded for each member.
    FamilyRegisterEvents,
    /// 戸籍の附票: each member's addresses while in the register.
    FamilyRegisterAddresses,
}

impl Register {
    pub const ALL: [Register; 6] = [
        Register::Residents,
        Register::Seals,
        Register::Tax,
        Register::FamilyRegisters,
        Register::FamilyRegisterEvents,
        Register::FamilyRegisterAddresses,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Register::Residents => "residents",
            Register::Seals => "seals",
            Register::Tax => "tax",
            Register::FamilyRegisters => "family_registers",
            Register::FamilyRegisterEvents => "family_register_events",
            Register::FamilyRegisterAddresses => "family_register_addresses",
        }
    }

    pub fn parse(text: &str) -> Option<Register> {
        Register::ALL.into_iter().find(|r| r.name() == text)
    }

    /// The field names a file of this register takes.
    pub fn columns(self) -> Vec<String> {
        let fixed: &[&str] = match self {
            Register::Residents => residents::COLUMNS,
            Register::Seals => seals::COLUMNS,
            Register::Tax => return tax::columns(),
            Register::FamilyRegisters => family::MEMBER_COLUMNS,
            Register::FamilyRegisterEvents => family::EVENT_COLUMNS,
            Register::FamilyRegisterAddresses => family::ADDRESS_COLUMNS,
        };
        fixed.iter().map(|c| (*c).to_owned()).collect()
    }

    /// Checks `records` as [`Register::apply`] does before it reads the
    /// database, alone and across the file: how many records passed, or
    /// every error.
    pub fn check(self, records: &[RawRecord]) -> Result<usize, Vec<LineError>> {
        match self {
            Register::Residents => residents::check_file(records).map(|r| r.len()),
            Register::Seals => seals::check_file(records).map(|r| r.len()),
            Register::Tax => tax::check_file(records).map(|r| r.len()),
            Register::FamilyRegisters => family::check_members(records).map(|r| r.len()),
            Register::FamilyRegisterEvents => family::check_events(records).map(|r| r.len()),
            Register::FamilyRegisterAddresses => family::check_addresses(records).map(|r| r.len()),
        }
    }

    /// Checks `records` whole and writes them in `tx` (not committed):
    /// every error, or what was written.
    pub async fn apply(
        self,
        tx: &Transaction<'_>,
        code: &str,
        records: &[RawRecord],
    ) -> Result<Loaded, ImportError> {
        match self {
            Register::Residents => residents::apply(tx, code, records).await,
            Register::Seals => seals::apply(tx, code, records).await,
            Register::Tax => tax::apply(tx, code, records).await,
            Register::FamilyRegisters => family::apply_members(tx, code, records).await,
            Register::FamilyRegisterEvents => family::apply_events(tx, code, records).await,
            Register::FamilyRegisterAddresses => family::apply_addresses(tx, code, records).await,
        }
    }
}

/// Loads a file of `register` into municipality `code`, in one
/// transaction: all of it, or nothing and every error.
pub async fn load(
    client: &mut Client,
    register: Register,
    code: &str,
    body: &[u8],
    format: Format,
) -> Result<Loaded, ImportError> {
    let columns = register.columns();
    let known: Vec<&str> = columns.iter().map(String::as_str).collect();
    let records = read(body, format, &known).map_err(invalid)?;
    let tx = client.transaction().await?;
    let loaded = register.apply(&tx, code, &records).await?;
    crate::gateway::audit::append(
        &tx,
        crate::gateway::audit::Action::RegisterImported,
        serde_json::json!({
            "municipality": code, "register": register, "records": loaded.records,
            "inserted": loaded.inserted, "updated": loaded.updated, "unchanged": loaded.unchanged,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(loaded)
}

/// How the file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A header line, then one record per line (RFC 4180 quoting).
    Csv,
    /// One JSON object per line.
    Ndjson,
}

/// One thing wrong with a file: the line (1-based, the header is line 1 in
/// CSV), the field (empty for the whole line) and a stable reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    pub line: usize,
    pub field: String,
    pub reason: &'static str,
}

/// At most this many errors are listed (the count says how many there were).
pub const MAX_LISTED_ERRORS: usize = 1000;

/// What a load did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Loaded {
    pub records: usize,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// Why a file was not loaded.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Every error found (the first [`MAX_LISTED_ERRORS`]) and their count.
    #[error("{count} errors in the file")]
    Invalid {
        errors: Vec<LineError>,
        count: usize,
    },
    #[error(transparent)]
    Db(#[from] crate::gateway::db::DbError),
}

impl From<tokio_postgres::Error> for ImportError {
    fn from(e: tokio_postgres::Error) -> Self {
        ImportError::Db(e.into())
    }
}

/// A record as text fields by name, with its line.
pub struct RawRecord {
    pub line: usize,
    pub fields: BTreeMap<String, String>,
}

/// The records of a file, or every error that stops them being read
/// (malformed lines, unknown or missing columns). `known` are the field
/// names the register takes; `required` must be present (and non-empty on
/// every record, checked by the register).
pub fn read(body: &[u8], format: Format, known: &[&str]) -> Result<Vec<RawRecord>, Vec<LineError>> {
    let mut errors = Vec::new();
    let mut records = Vec::new();
    match format {
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(true)
                .flexible(false)
                .from_reader(body);
            let header: Vec<String> = match reader.headers() {
                Ok(h) => h
                    .iter()
                    .map(|f| f.trim_start_matches('\u{feff}').to_owned())
                    .collect(),
                Err(_) => {
                    return Err(vec![LineError {
                        line: 1,
                        field: String::new(),
                        reason: "header_malformed",
                    }]);
                }
            };
            for name in &header {
                if !known.contains(&name.as_str()) {
                    errors.push(LineError {
                        line: 1,
                        field: name.clone(),
                        reason: "unknown_column",
                    });
                }
            }
            let mut seen = std::collections::BTreeSet::new();
            for name in &header {
                if !seen.insert(name) {
                    errors.push(LineError {
                        line: 1,
                        field: name.clone(),
                        reason: "duplicate_column",
                    });
                }
            }
            if !errors.is_empty() {
                return Err(errors);
            }
            for row in reader.records() {
                match row {
                    Ok(row) => {
                        let line = row.position().map_or(0, |p| p.line() as usize);
                        records.push(RawRecord {
                            line,
                            fields: header
                                .iter()
                                .cloned()
                                .zip(row.iter().map(str::to_owned))
                                .filter(|(_, v)| !v.is_empty())
                                .collect(),
                        });
                    }
                    Err(e) => errors.push(LineError {
                        line: e.position().map_or(0, |p| p.line() as usize),
                        field: String::new(),
                        reason: match e.kind() {
                            csv::ErrorKind::UnequalLengths { .. } => "wrong_number_of_fields",
                            csv::ErrorKind::Utf8 { .. } => "not_utf8",
                            _ => "line_malformed",
                        },
                    }),
                }
            }
        }
        Format::Ndjson => {
            for (i, line) in body.split(|b| *b == b'\n').enumerate() {
                let line_no = i + 1;
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let object = match serde_json::from_slice::<serde_json::Value>(line) {
                    Ok(serde_json::Value::Object(o)) => o,
                    Ok(_) => {
                        errors.push(LineError {
                            line: line_no,
                            field: String::new(),
                            reason: "not_an_object",
                        });
                        continue;
                    }
                    Err(e) => {
                        errors.push(LineError {
                            line: line_no,
                            field: String::new(),
                            reason: if e.is_data() || e.is_syntax() || e.is_eof() {
                                "line_malformed"
                            } else {
                                "not_utf8"
                            },
                        });
                        continue;
                    }
                };
                records.push(record_of(line_no, object, known, &mut errors));
            }
        }
    }
    if errors.is_empty() {
        Ok(records)
    } else {
        Err(errors)
    }
}

/// The fields of one JSON object (line `line`) as text; every field not in
/// `known`, or not a scalar, is an error in `errors`. Null and the empty
/// string mean absent, as an empty CSV field does.
pub fn record_of(
    line: usize,
    object: serde_json::Map<String, serde_json::Value>,
    known: &[&str],
    errors: &mut Vec<LineError>,
) -> RawRecord {
    let mut fields = BTreeMap::new();
    for (name, value) in object {
        if !known.contains(&name.as_str()) {
            errors.push(LineError {
                line,
                field: name,
                reason: "unknown_field",
            });
            continue;
        }
        let text = match value {
            serde_json::Value::Null => continue,
            serde_json::Value::String(s) if s.is_empty() => continue,
            serde_json::Value::String(s) => s,
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => {
                errors.push(LineError {
                    line,
                    field: name,
                    reason: "not_a_scalar",
                });
                continue;
            }
        };
        fields.insert(name, text);
    }
    RawRecord { line, fields }
}

/// Each record checked by `check`: the good ones, and every error of the
/// others.
pub fn check_each<T>(
    records: &[RawRecord],
    check: impl Fn(&RawRecord) -> Result<T, Vec<LineError>>,
) -> (Vec<T>, Vec<LineError>) {
    let mut good = Vec::with_capacity(records.len());
    let mut errors = Vec::new();
    for record in records {
        match check(record) {
            Ok(t) => good.push(t),
            Err(e) => errors.extend(e),
        }
    }
    (good, errors)
}

/// The ids of the residents of municipality `code` among `codes`
/// (住民票コード → id), read inside the load's transaction.
pub async fn resident_ids(
    tx: &tokio_postgres::Transaction<'_>,
    code: &str,
    codes: &[&str],
) -> Result<std::collections::HashMap<String, i64>, ImportError> {
    Ok(tx
        .query(
            "SELECT resident_code, id FROM residents WHERE municipality_code = $1 AND resident_code = ANY($2)",
            &[&code, &codes],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// Typed access to one record's fields, collecting every error.
pub struct Fields<'r> {
    record: &'r RawRecord,
    pub errors: Vec<LineError>,
}

impl<'r> Fields<'r> {
    pub fn of(record: &'r RawRecord) -> Self {
        Fields {
            record,
            errors: Vec::new(),
        }
    }

    pub fn error(&mut self, field: &str, reason: &'static str) {
        self.errors.push(LineError {
            line: self.record.line,
            field: field.to_owned(),
            reason,
        });
    }

    pub fn optional(&self, field: &str) -> Option<&'r str> {
        self.record.fields.get(field).map(String::as_str)
    }

    /// A text field: present, at most `max` characters, no control characters.
    pub fn text(&mut self, field: &str, max: usize) -> String {
        match self.optional_text(field, max) {
            Some(v) => v,
            None => {
                if self.optional(field).is_none() {
                    self.error(field, "required");
                }
                String::new()
            }
        }
    }

    pub fn optional_text(&mut self, field: &str, max: usize) -> Option<String> {
        let v = self.optional(field)?;
        if v.chars().count() > max {
            self.error(field, "too_long");
            return None;
        }
        if v.chars().any(char::is_control) {
            self.error(field, "control_character");
            return None;
        }
        Some(v.to_owned())
    }

    /// Exactly `n` ASCII digits.
    pub fn digits(&mut self, field: &str, n: usize) -> Option<String> {
        let v = self.optional(field)?;
        if v.len() == n && v.bytes().all(|b| b.is_ascii_digit()) {
            Some(v.to_owned())
        } else {
            self.error(field, "digits_expected");
            None
        }
    }

    pub fn date(&mut self, field: &str) -> Option<time::Date> {
        let v = self.optional(field)?;
        match time::Date::parse(v, time::macros::format_description!("[year]-[month]-[day]")) {
            Ok(d) => Some(d),
            Err(_) => {
                self.error(field, "date_malformed");
                None
            }
        }
    }

    pub fn required_date(&mut self, field: &str) -> Option<time::Date> {
        if self.optional(field).is_none() {
            self.error(field, "required");
            return None;
        }
        self.date(field)
    }

    pub fn bool(&mut self, field: &str) -> bool {
        match self.optional(field) {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(_) => {
                self.error(field, "boolean_expected");
                false
            }
        }
    }

    pub fn int(&mut self, field: &str, range: std::ops::RangeInclusive<i64>) -> Option<i64> {
        let v = self.optional(field)?;
        match v.parse::<i64>() {
            Ok(n) if range.contains(&n) => Some(n),
            Ok(_) => {
                self.error(field, "out_of_range");
                None
            }
            Err(_) => {
                self.error(field, "integer_expected");
                None
            }
        }
    }

    pub fn one_of(&mut self, field: &str, allowed: &[&'static str]) -> Option<&'static str> {
        let v = self.optional(field)?;
        match allowed.iter().find(|a| **a == v) {
            Some(a) => Some(a),
            None => {
                self.error(field, "value_not_allowed");
                None
            }
        }
    }
}

/// The check digit of a 個人番号 (My Number) is right (the order of the
/// Ministry of Internal Affairs: weights 2–7 then 2–6 from the right).
pub fn my_number_valid(digits: &str) -> bool {
    let d: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
    if d.len() != 12 {
        return false;
    }
    let sum: u32 = (1..=11)
        .map(|n| d[11 - n] * if n <= 6 { n as u32 + 1 } else { n as u32 - 5 })
        .sum();
    let r = sum % 11;
    d[11] == if r <= 1 { 0 } else { 11 - r }
}

/// Sorts and caps the errors for an answer.
pub fn invalid(mut errors: Vec<LineError>) -> ImportError {
    errors.sort_by(|a, b| (a.line, &a.field).cmp(&(b.line, &b.field)));
    let count = errors.len();
    errors.truncate(MAX_LISTED_ERRORS);
    ImportError::Invalid { errors, count }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn my_numbers_carry_their_check_digit() {
        assert!(my_number_valid("123456789018"));
        assert!(!my_number_valid("123456789017"));
        assert!(!my_number_valid("12345678901"));
    }

    #[test]
    fn a_csv_with_unknown_or_repeated_columns_is_refused_as_a_whole() {
        let known = ["a", "b"];
        let errors = read(b"a,c,a\n1,2,3\n", Format::Csv, &known).err().unwrap();
        assert_eq!(
            errors,
            [
                LineError {
                    line: 1,
                    field: "c".into(),
                    reason: "unknown_column"
                },
                LineError {
                    line: 1,
                    field: "a".into(),
                    reason: "duplicate_column"
                },
            ]
        );
    }

    #[test]
    fn every_bad_line_is_reported_not_just_the_first() {
        let known = ["a", "b"];
        let errors = read(b"a,b\n1,2\n1\n\"x,2\n", Format::Csv, &known)
            .err()
            .unwrap();
        assert_eq!(errors[0].line, 3);
        assert_eq!(errors[0].reason, "wrong_number_of_fields");
        let errors = read(
            b"{\"a\": 1}\nnot json\n[1]\n{\"z\": 1, \"b\": {\"x\": 1}}\n",
            Format::Ndjson,
            &known,
        )
        .err()
        .unwrap();
        let lines: Vec<(usize, &str, &str)> = errors
            .iter()
            .map(|e| (e.line, e.field.as_str(), e.reason))
            .collect();
        assert_eq!(
            lines,
            [
                (2, "", "line_malformed"),
                (3, "", "not_an_object"),
                (4, "b", "not_a_scalar"),
                (4, "z", "unknown_field"),
            ]
        );
    }

    #[test]
    fn csv_and_ndjson_read_to_the_same_fields() {
        let known = ["a", "b"];
        let csv = read("a,b\n1,\"x, y\"\n".as_bytes(), Format::Csv, &known).unwrap();
        let nd = read(b"{\"a\": 1, \"b\": \"x, y\"}\n", Format::Ndjson, &known).unwrap();
        assert_eq!(csv[0].fields, nd[0].fields);
        assert_eq!(csv[0].line, 2);
        assert_eq!(nd[0].line, 1);
    }
}
