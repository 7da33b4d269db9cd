//! The family registers (戸籍) kept by the municipality, in three files:
//! - `family_registers`: one member per line, with their register's 本籍,
//!   筆頭者, 編製日 and 消除日 on every line of it (equal on all of them),
//!   keyed by (本籍, 筆頭者, position);
//! - `family_register_events`: one event (身分事項) per line, keyed by the
//!   member's (本籍, 筆頭者, position), the event's kind and its day;
//! - `family_register_addresses`: one address of the 附票 per line, keyed by
//!   the member and the day the address began.
//!
//! Rule: a person has one current entry, an entry not removed from an open
//! register. A file that would give someone a second one is refused unless
//! it removes or closes the first (a marriage or 転籍 is the old entry
//! removed and the new one entered, in the same file or change).

use std::collections::{BTreeMap, HashMap, HashSet};

use time::Date;
use tokio_postgres::Transaction;

use super::{Fields, ImportError, LineError, Loaded, RawRecord, invalid};

pub const MEMBER_COLUMNS: &[&str] = &[
    "domicile",
    "head_name",
    "compiled_on",
    "closed_on",
    "position",
    "name",
    "birth_date",
    "sex",
    "father_name",
    "mother_name",
    "relationship",
    "resident_code",
    "removed",
];

pub const EVENT_COLUMNS: &[&str] = &[
    "domicile",
    "head_name",
    "position",
    "kind",
    "occurred_on",
    "reported_on",
    "detail",
];

pub const ADDRESS_COLUMNS: &[&str] = &[
    "domicile",
    "head_name",
    "position",
    "address",
    "from_date",
    "to_date",
];

/// The event kinds the register records (sql/0017).
pub const EVENT_KINDS: &[&str] = &[
    "birth", "marriage", "divorce", "adoption", "death", "removal", "entry",
];

/// A member's key: (本籍, 筆頭者, position).
type MemberKey = (String, String, i32);

fn member_key(f: &mut Fields<'_>) -> Option<MemberKey> {
    let domicile = f.text("domicile", 200);
    let head_name = f.text("head_name", 100);
    let position = f.int("position", 1..=999);
    if f.optional("position").is_none() {
        f.error("position", "required");
    }
    match position {
        Some(p) if !domicile.is_empty() && !head_name.is_empty() => {
            Some((domicile, head_name, p as i32))
        }
        _ => None,
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Member {
    line: usize,
    key: MemberKey,
    compiled_on: Date,
    closed_on: Option<Date>,
    name: String,
    birth_date: Date,
    sex: &'static str,
    father_name: Option<String>,
    mother_name: Option<String>,
    relationship: String,
    resident_code: Option<String>,
    removed: bool,
}

impl Member {
    /// The entry is someone's current one.
    fn current(&self) -> bool {
        !self.removed && self.closed_on.is_none()
    }
}

fn check_member(record: &RawRecord) -> Result<Member, Vec<LineError>> {
    let mut f = Fields::of(record);
    let key = member_key(&mut f);
    let compiled_on = f.required_date("compiled_on");
    let closed_on = f.date("closed_on");
    if let (Some(c), Some(d)) = (compiled_on, closed_on)
        && d < c
    {
        f.error("closed_on", "before_compilation");
    }
    let name = f.text("name", 100);
    let birth_date = f.required_date("birth_date");
    if f.optional("sex").is_none() {
        f.error("sex", "required");
    }
    let sex = f.one_of("sex", &["male", "female"]);
    let father_name = f.optional_text("father_name", 100);
    let mother_name = f.optional_text("mother_name", 100);
    let relationship = f.text("relationship", 20);
    let resident_code = f.digits("resident_code", 11);
    let removed = f.bool("removed");
    match (key, compiled_on, birth_date, sex) {
        (Some(key), Some(compiled_on), Some(birth_date), Some(sex)) if f.errors.is_empty() => {
            Ok(Member {
                line: record.line,
                key,
                compiled_on,
                closed_on,
                name,
                birth_date,
                sex,
                father_name,
                mother_name,
                relationship,
                resident_code,
                removed,
            })
        }
        _ => Err(f.errors),
    }
}

fn error(line: usize, field: &str, reason: &'static str) -> LineError {
    LineError {
        line,
        field: field.to_owned(),
        reason,
    }
}

/// Every member record checked, alone and across the file (no database):
/// the members, or every error.
pub(crate) fn check_members(records: &[RawRecord]) -> Result<Vec<Member>, Vec<LineError>> {
    let (members, mut errors) = super::check_each(records, check_member);
    // Across lines: a position once per register; the register's own
    // fields equal on each of its lines; one current entry per person.
    let mut positions: HashSet<&MemberKey> = HashSet::new();
    let mut registers: BTreeMap<(&str, &str), (Date, Option<Date>)> = BTreeMap::new();
    let mut current: HashMap<&str, &MemberKey> = HashMap::new();
    for m in &members {
        if !positions.insert(&m.key) {
            errors.push(error(m.line, "position", "duplicate_in_file"));
        }
        let register = (m.key.0.as_str(), m.key.1.as_str());
        match registers.get(&register) {
            Some(fields) if *fields != (m.compiled_on, m.closed_on) => {
                errors.push(error(m.line, "compiled_on", "differs_within_register"));
            }
            Some(_) => {}
            None => {
                registers.insert(register, (m.compiled_on, m.closed_on));
            }
        }
        if let Some(rc) = &m.resident_code
            && m.current()
            && current.insert(rc, &m.key).is_some()
        {
            errors.push(error(m.line, "resident_code", "second_current_entry"));
        }
    }
    if errors.is_empty() {
        Ok(members)
    } else {
        Err(errors)
    }
}

/// Loads members (and their registers) into municipality `code`.
pub async fn apply_members(
    tx: &Transaction<'_>,
    code: &str,
    records: &[RawRecord],
) -> Result<Loaded, ImportError> {
    let members = check_members(records).map_err(invalid)?;
    let mut errors = Vec::new();
    // Each register's own fields, equal on each of its lines (`check_members`).
    let registers: BTreeMap<(&str, &str), (Date, Option<Date>)> = members
        .iter()
        .map(|m| {
            (
                (m.key.0.as_str(), m.key.1.as_str()),
                (m.compiled_on, m.closed_on),
            )
        })
        .collect();
    // Against what is stored: a person's current entry elsewhere in this
    // municipality's registers must be one this file rewrites (a person
    // has one current entry in the file, `check_members`).
    let codes: Vec<&str> = members
        .iter()
        .filter(|m| m.current())
        .filter_map(|m| m.resident_code.as_deref())
        .collect();
    let stored = tx
        .query(
            "SELECT fm.resident_code, f.domicile, f.head_name, fm.position
               FROM family_register_members fm
               JOIN family_registers f ON f.id = fm.register_id
              WHERE f.municipality_code = $1 AND fm.resident_code = ANY($2)
                AND NOT fm.removed AND f.closed_on IS NULL",
            &[&code, &codes],
        )
        .await?;
    let in_file: HashSet<(&str, &str, i32)> = members
        .iter()
        .map(|m| (m.key.0.as_str(), m.key.1.as_str(), m.key.2))
        .collect();
    let lines: HashMap<&str, usize> = members
        .iter()
        .filter(|m| m.current())
        .filter_map(|m| Some((m.resident_code.as_deref()?, m.line)))
        .collect();
    for row in &stored {
        let (rc, domicile, head, position): (&str, &str, &str, i32) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        if !in_file.contains(&(domicile, head, position)) {
            errors.push(error(lines[rc], "resident_code", "second_current_entry"));
        }
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    // Registers first (one row each), then the members that point to them.
    let (mut domiciles, mut heads, mut compiled, mut closed) = (vec![], vec![], vec![], vec![]);
    for ((d, h), (c, x)) in &registers {
        domiciles.push(*d);
        heads.push(*h);
        compiled.push(*c);
        closed.push(*x);
    }
    let changed_registers: HashSet<(String, String)> = tx
        .query(
            "INSERT INTO family_registers (municipality_code, domicile, head_name, compiled_on, closed_on)
             SELECT $1, d, h, c, x FROM unnest($2::text[], $3::text[], $4::date[], $5::date[]) AS u(d, h, c, x)
             ON CONFLICT (municipality_code, domicile, head_name) DO UPDATE
                SET compiled_on = EXCLUDED.compiled_on, closed_on = EXCLUDED.closed_on, updated_at = now()
              WHERE (family_registers.compiled_on, family_registers.closed_on)
                    IS DISTINCT FROM (EXCLUDED.compiled_on, EXCLUDED.closed_on)
             RETURNING domicile, head_name",
            &[&code, &domiciles, &heads, &compiled, &closed],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    macro_rules! column {
        ($field:ident) => {
            members.iter().map(|m| m.$field.clone()).collect::<Vec<_>>()
        };
    }
    let domicile: Vec<&str> = members.iter().map(|m| m.key.0.as_str()).collect();
    let head: Vec<&str> = members.iter().map(|m| m.key.1.as_str()).collect();
    let position: Vec<i32> = members.iter().map(|m| m.key.2).collect();
    let sex: Vec<&str> = members.iter().map(|m| m.sex).collect();
    let (name, birth_date, father, mother, relationship, resident_code, removed) = (
        column!(name),
        column!(birth_date),
        column!(father_name),
        column!(mother_name),
        column!(relationship),
        column!(resident_code),
        column!(removed),
    );
    // `xmax = 0` tells an inserted row from an updated one; a row equal to
    // the file's is not written (the WHERE).
    let written: HashMap<(String, String, i32), bool> = tx
        .query(
            "INSERT INTO family_register_members (register_id, position, name, birth_date, sex,
                    father_name, mother_name, relationship, resident_code, removed)
             SELECT f.id, u.p, u.n, u.b, u.s, u.fa, u.mo, u.rel, u.rc, u.rm
               FROM unnest($2::text[], $3::text[], $4::int[], $5::text[], $6::date[], $7::text[],
                           $8::text[], $9::text[], $10::text[], $11::text[], $12::bool[])
                    AS u(d, h, p, n, b, s, fa, mo, rel, rc, rm)
               JOIN family_registers f ON f.municipality_code = $1 AND f.domicile = u.d AND f.head_name = u.h
             ON CONFLICT (register_id, position) DO UPDATE SET
                    name = EXCLUDED.name, birth_date = EXCLUDED.birth_date, sex = EXCLUDED.sex,
                    father_name = EXCLUDED.father_name, mother_name = EXCLUDED.mother_name,
                    relationship = EXCLUDED.relationship, resident_code = EXCLUDED.resident_code,
                    removed = EXCLUDED.removed
              WHERE (family_register_members.name, family_register_members.birth_date,
                     family_register_members.sex, family_register_members.father_name,
                     family_register_members.mother_name, family_register_members.relationship,
                     family_register_members.resident_code, family_register_members.removed)
                    IS DISTINCT FROM
                    (EXCLUDED.name, EXCLUDED.birth_date, EXCLUDED.sex, EXCLUDED.father_name,
                     EXCLUDED.mother_name, EXCLUDED.relationship, EXCLUDED.resident_code,
                     EXCLUDED.removed)
             RETURNING (SELECT domicile FROM family_registers WHERE id = register_id),
                       (SELECT head_name FROM family_registers WHERE id = register_id),
                       position, xmax = 0",
            &[
                &code,
                &domicile,
                &head,
                &position,
                &name,
                &birth_date,
                &sex,
                &father,
                &mother,
                &relationship,
                &resident_code,
                &removed,
            ],
        )
        .await?
        .iter()
        .map(|r| ((r.get(0), r.get(1), r.get(2)), r.get(3)))
        .collect();
    let mut loaded = Loaded {
        records: members.len(),
        ..Loaded::default()
    };
    for m in &members {
        match written.get(&m.key) {
            Some(true) => loaded.inserted += 1,
            Some(false) => loaded.updated += 1,
            None if changed_registers.contains(&(m.key.0.clone(), m.key.1.clone())) => {
                loaded.updated += 1
            }
            None => loaded.unchanged += 1,
        }
    }
    Ok(loaded)
}

/// The ids of the members named by `keys` in municipality `code`'s registers.
async fn member_ids(
    tx: &Transaction<'_>,
    code: &str,
    keys: &[&MemberKey],
) -> Result<HashMap<MemberKey, i64>, ImportError> {
    let domicile: Vec<&str> = keys.iter().map(|k| k.0.as_str()).collect();
    let head: Vec<&str> = keys.iter().map(|k| k.1.as_str()).collect();
    let position: Vec<i32> = keys.iter().map(|k| k.2).collect();
    Ok(tx
        .query(
            "SELECT f.domicile, f.head_name, fm.position, fm.id
               FROM unnest($2::text[], $3::text[], $4::int[]) AS u(d, h, p)
               JOIN family_registers f ON f.municipality_code = $1 AND f.domicile = u.d AND f.head_name = u.h
               JOIN family_register_members fm ON fm.register_id = f.id AND fm.position = u.p",
            &[&code, &domicile, &head, &position],
        )
        .await?
        .iter()
        .map(|r| ((r.get(0), r.get(1), r.get(2)), r.get(3)))
        .collect())
}

/// Each line's member id, or `member_not_found` for every line whose
/// member is not in this municipality's registers.
async fn resolve<'k>(
    tx: &Transaction<'_>,
    code: &str,
    keyed: impl Iterator<Item = (usize, &'k MemberKey)> + Clone,
) -> Result<HashMap<MemberKey, i64>, ImportError> {
    let keys: Vec<&MemberKey> = keyed.clone().map(|(_, k)| k).collect();
    let ids = member_ids(tx, code, &keys).await?;
    let missing: Vec<LineError> = keyed
        .filter(|(_, k)| !ids.contains_key(*k))
        .map(|(line, _)| error(line, "position", "member_not_found"))
        .collect();
    if missing.is_empty() {
        Ok(ids)
    } else {
        Err(invalid(missing))
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Event {
    line: usize,
    key: MemberKey,
    kind: &'static str,
    occurred_on: Date,
    reported_on: Date,
    detail: String,
}

fn check_event(record: &RawRecord) -> Result<Event, Vec<LineError>> {
    let mut f = Fields::of(record);
    let key = member_key(&mut f);
    if f.optional("kind").is_none() {
        f.error("kind", "required");
    }
    let kind = f.one_of("kind", EVENT_KINDS);
    let occurred_on = f.required_date("occurred_on");
    let reported_on = f.required_date("reported_on");
    if let (Some(o), Some(r)) = (occurred_on, reported_on)
        && r < o
    {
        f.error("reported_on", "before_occurrence");
    }
    let detail = f.optional_text("detail", 500).unwrap_or_default();
    match (key, kind, occurred_on, reported_on) {
        (Some(key), Some(kind), Some(occurred_on), Some(reported_on)) if f.errors.is_empty() => {
            Ok(Event {
                line: record.line,
                key,
                kind,
                occurred_on,
                reported_on,
                detail,
            })
        }
        _ => Err(f.errors),
    }
}

/// Every event record checked, alone and across the file (no database):
/// the events, or every error.
pub(crate) fn check_events(records: &[RawRecord]) -> Result<Vec<Event>, Vec<LineError>> {
    let (events, mut errors) = super::check_each(records, check_event);
    let mut keys = HashSet::new();
    for e in &events {
        if !keys.insert((&e.key, e.kind, e.occurred_on)) {
            errors.push(error(e.line, "occurred_on", "duplicate_in_file"));
        }
    }
    if errors.is_empty() {
        Ok(events)
    } else {
        Err(errors)
    }
}

/// Loads events (身分事項) for members already in this municipality's registers.
pub async fn apply_events(
    tx: &Transaction<'_>,
    code: &str,
    records: &[RawRecord],
) -> Result<Loaded, ImportError> {
    let events = check_events(records).map_err(invalid)?;
    let ids = resolve(tx, code, events.iter().map(|e| (e.line, &e.key))).await?;
    let mut loaded = Loaded {
        records: events.len(),
        ..Loaded::default()
    };
    for e in &events {
        let row = tx
            .query_opt(
                "INSERT INTO family_register_events (member_id, kind, occurred_on, reported_on, detail)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (member_id, kind, occurred_on) DO UPDATE
                    SET reported_on = EXCLUDED.reported_on, detail = EXCLUDED.detail
                  WHERE (family_register_events.reported_on, family_register_events.detail)
                        IS DISTINCT FROM (EXCLUDED.reported_on, EXCLUDED.detail)
                 RETURNING xmax = 0",
                &[&ids[&e.key], &e.kind, &e.occurred_on, &e.reported_on, &e.detail],
            )
            .await?;
        count(&mut loaded, row);
    }
    Ok(loaded)
}

fn count(loaded: &mut Loaded, row: Option<tokio_postgres::Row>) {
    match row {
        Some(r) if r.get::<_, bool>(0) => loaded.inserted += 1,
        Some(_) => loaded.updated += 1,
        None => loaded.unchanged += 1,
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Address {
    line: usize,
    key: MemberKey,
    address: String,
    from_date: Date,
    to_date: Option<Date>,
}

fn check_address(record: &RawRecord) -> Result<Address, Vec<LineError>> {
    let mut f = Fields::of(record);
    let key = member_key(&mut f);
    let address = f.text("address", 200);
    let from_date = f.required_date("from_date");
    let to_date = f.date("to_date");
    if let (Some(a), Some(b)) = (from_date, to_date)
        && b < a
    {
        f.error("to_date", "before_from_date");
    }
    match (key, from_date) {
        (Some(key), Some(from_date)) if f.errors.is_empty() => Ok(Address {
            line: record.line,
            key,
            address,
            from_date,
            to_date,
        }),
        _ => Err(f.errors),
    }
}

/// Every address record checked, alone and across the file (no database):
/// the addresses, or every error.
pub(crate) fn check_addresses(records: &[RawRecord]) -> Result<Vec<Address>, Vec<LineError>> {
    let (addresses, mut errors) = super::check_each(records, check_address);
    let mut keys = HashSet::new();
    let mut current: HashMap<&MemberKey, Date> = HashMap::new();
    for a in &addresses {
        if !keys.insert((&a.key, a.from_date)) {
            errors.push(error(a.line, "from_date", "duplicate_in_file"));
        }
        if a.to_date.is_none() && current.insert(&a.key, a.from_date).is_some() {
            errors.push(error(a.line, "to_date", "second_current_address"));
        }
    }
    if errors.is_empty() {
        Ok(addresses)
    } else {
        Err(errors)
    }
}

/// Loads the 附票's addresses for members already in this municipality's
/// registers. A member has at most one current address (no `to_date`): a
/// second is `second_current_address` unless the same file ends the first.
pub async fn apply_addresses(
    tx: &Transaction<'_>,
    code: &str,
    records: &[RawRecord],
) -> Result<Loaded, ImportError> {
    let addresses = check_addresses(records).map_err(invalid)?;
    let mut errors = Vec::new();
    let ids = resolve(tx, code, addresses.iter().map(|a| (a.line, &a.key))).await?;
    let member_ids: Vec<i64> = ids.values().copied().collect();
    let stored_current: HashMap<i64, Date> = tx
        .query(
            "SELECT member_id, from_date FROM family_register_addresses
              WHERE member_id = ANY($1) AND to_date IS NULL",
            &[&member_ids],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let ended_here: HashSet<(i64, Date)> = addresses
        .iter()
        .filter(|a| a.to_date.is_some())
        .map(|a| (ids[&a.key], a.from_date))
        .collect();
    for a in addresses.iter().filter(|a| a.to_date.is_none()) {
        let id = ids[&a.key];
        if let Some(from) = stored_current.get(&id)
            && *from != a.from_date
            && !ended_here.contains(&(id, *from))
        {
            errors.push(error(a.line, "to_date", "second_current_address"));
        }
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let mut loaded = Loaded {
        records: addresses.len(),
        ..Loaded::default()
    };
    // Ended addresses first, so a new current one never meets the old.
    let mut ordered: Vec<&Address> = addresses.iter().collect();
    ordered.sort_by_key(|a| a.to_date.is_none());
    for a in ordered {
        let row = tx
            .query_opt(
                "INSERT INTO family_register_addresses (member_id, address, from_date, to_date)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (member_id, from_date) DO UPDATE
                    SET address = EXCLUDED.address, to_date = EXCLUDED.to_date
                  WHERE (family_register_addresses.address, family_register_addresses.to_date)
                        IS DISTINCT FROM (EXCLUDED.address, EXCLUDED.to_date)
                 RETURNING xmax = 0",
                &[&ids[&a.key], &a.address, &a.from_date, &a.to_date],
            )
            .await?;
        count(&mut loaded, row);
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(pairs: &[(&str, &str)]) -> RawRecord {
        RawRecord {
            line: 2,
            fields: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn a_member_line_reports_every_wrong_field() {
        let errors = check_member(&record(&[
            ("domicile", "東京都みなと町一丁目1番地"),
            ("position", "0"),
            ("compiled_on", "2001-02-30"),
            ("name", "港　花子"),
            ("birth_date", "1990-01-01"),
            ("sex", "f"),
            ("relationship", "長女"),
            ("resident_code", "123"),
        ]))
        .unwrap_err();
        let fields: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.reason))
            .collect();
        assert_eq!(
            fields,
            [
                ("head_name", "required"),
                ("position", "out_of_range"),
                ("compiled_on", "date_malformed"),
                ("sex", "value_not_allowed"),
                ("resident_code", "digits_expected"),
            ]
        );
    }

    #[test]
    fn an_event_reported_before_it_happened_is_refused() {
        let errors = check_event(&record(&[
            ("domicile", "本籍"),
            ("head_name", "港　一郎"),
            ("position", "1"),
            ("kind", "marriage"),
            ("occurred_on", "2020-05-02"),
            ("reported_on", "2020-05-01"),
        ]))
        .unwrap_err();
        assert_eq!(errors[0].reason, "before_occurrence");
        assert!(
            check_event(&record(&[
                ("domicile", "本籍"),
                ("head_name", "港　一郎"),
                ("position", "1"),
                ("kind", "marriage"),
                ("occurred_on", "2020-05-01"),
                ("reported_on", "2020-05-01"),
            ]))
            .is_ok()
        );
    }
}
