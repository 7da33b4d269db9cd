//! The change feed (異動): what happened to a municipality's registers since
//! the last load, one change per NDJSON line, named by its `change` field.
//!
//! Rules:
//! - A batch is applied in one transaction, in file order: all of it or
//!   none of it, with every error by line and field. An order accepted after
//!   the batch commits sees every change in it; one accepted before sees
//!   none (invariant 4: the acceptance reads the registers in its own
//!   transaction, under `FOR SHARE`).
//! - A change that carries a whole record (`move_in`, `seal_registered`,
//!   `tax_assessment`, the 戸籍 entries) is checked exactly as the register's
//!   import checks a line of it, with the same field names.
//! - Changes state what is now true, so a batch applied twice leaves the
//!   registers as once.

use std::collections::BTreeMap;

use serde::Serialize;
use tokio_postgres::Transaction;

use super::{
    ImportError, LineError, RawRecord, Register, family, invalid, record_of, residents, seals,
};
use crate::gateway::db::{Client, DbError};

/// A kind of change and the fields it takes besides `change`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// 転入, 出生, 帰化 …: a resident record, as a `residents` line. A
    /// resident whose 住民票 in another participating municipality is
    /// `moving_out` or `moved_out` moves here, and their seal registration
    /// there is abolished.
    MoveIn,
    /// 転出届: the resident is leaving (`moving_out`).
    MovingOut,
    /// 転出: the resident has left (`moved_out`); their seal registration is abolished.
    MoveOut,
    /// 死亡: the resident has died (`deceased`); their seal registration is abolished.
    Death,
    ProtectionOn,
    ProtectionOff,
    /// A seal registration, as a `seals` line without `abolished_on`.
    SealRegistered,
    /// `registration_no`, `abolished_on`.
    SealAbolished,
    /// A fiscal year's assessment, as a `tax` line.
    TaxAssessment,
    /// A member entered in a register, as a `family_registers` line.
    FamilyRegisterEntry,
    /// An event, as a `family_register_events` line; `death` and `removal`,
    /// or `removes_entry: true` (a marriage out of the register), remove
    /// the member.
    FamilyRegisterEvent,
    /// An address of the 附票, as a `family_register_addresses` line.
    FamilyRegisterAddress,
    /// `domicile`, `head_name`, `closed_on`: the whole register is closed (除籍).
    FamilyRegisterClosed,
}

impl Change {
    pub const ALL: [Change; 13] = [
        Change::MoveIn,
        Change::MovingOut,
        Change::MoveOut,
        Change::Death,
        Change::ProtectionOn,
        Change::ProtectionOff,
        Change::SealRegistered,
        Change::SealAbolished,
        Change::TaxAssessment,
        Change::FamilyRegisterEntry,
        Change::FamilyRegisterEvent,
        Change::FamilyRegisterAddress,
        Change::FamilyRegisterClosed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Change::MoveIn => "move_in",
            Change::MovingOut => "moving_out",
            Change::MoveOut => "move_out",
            Change::Death => "death",
            Change::ProtectionOn => "protection_on",
            Change::ProtectionOff => "protection_off",
            Change::SealRegistered => "seal_registered",
            Change::SealAbolished => "seal_abolished",
            Change::TaxAssessment => "tax_assessment",
            Change::FamilyRegisterEntry => "family_register_entry",
            Change::FamilyRegisterEvent => "family_register_event",
            Change::FamilyRegisterAddress => "family_register_address",
            Change::FamilyRegisterClosed => "family_register_closed",
        }
    }

    fn parse(text: &str) -> Option<Change> {
        Change::ALL.into_iter().find(|c| c.name() == text)
    }

    /// The fields this change takes.
    pub fn fields(self) -> Vec<String> {
        let own = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect();
        match self {
            Change::MoveIn => Register::Residents.columns(),
            Change::MovingOut | Change::ProtectionOn | Change::ProtectionOff => {
                own(&["resident_code"])
            }
            Change::MoveOut => own(&["resident_code", "moved_out_on"]),
            Change::Death => own(&["resident_code", "died_on"]),
            Change::SealRegistered => {
                let mut c = Register::Seals.columns();
                c.retain(|c| c != "abolished_on");
                c
            }
            Change::SealAbolished => own(&["registration_no", "abolished_on"]),
            Change::TaxAssessment => Register::Tax.columns(),
            Change::FamilyRegisterEntry => Register::FamilyRegisters.columns(),
            Change::FamilyRegisterEvent => {
                let mut c = Register::FamilyRegisterEvents.columns();
                c.push("removes_entry".to_owned());
                c
            }
            Change::FamilyRegisterAddress => Register::FamilyRegisterAddresses.columns(),
            Change::FamilyRegisterClosed => own(&["domicile", "head_name", "closed_on"]),
        }
    }
}

/// What a batch did: how many changes, by kind.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Applied {
    pub changes: usize,
    pub by_change: BTreeMap<Change, usize>,
}

/// Reads a batch: each line's change and its fields, or every error.
pub(crate) fn read(body: &[u8]) -> Result<Vec<(Change, RawRecord)>, Vec<LineError>> {
    let mut errors = Vec::new();
    let mut changes = Vec::new();
    for (i, line) in body.split(|b| *b == b'\n').enumerate() {
        let line_no = i + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let fail = |field: &str, reason| LineError {
            line: line_no,
            field: field.to_owned(),
            reason,
        };
        let mut object = match serde_json::from_slice::<serde_json::Value>(line) {
            Ok(serde_json::Value::Object(o)) => o,
            Ok(_) => {
                errors.push(fail("", "not_an_object"));
                continue;
            }
            Err(_) => {
                errors.push(fail("", "line_malformed"));
                continue;
            }
        };
        let change = match object.remove("change") {
            None => {
                errors.push(fail("change", "required"));
                continue;
            }
            Some(serde_json::Value::String(name)) => match Change::parse(&name) {
                Some(c) => c,
                None => {
                    errors.push(fail("change", "change_unknown"));
                    continue;
                }
            },
            Some(_) => {
                errors.push(fail("change", "change_unknown"));
                continue;
            }
        };
        let fields = change.fields();
        let known: Vec<&str> = fields.iter().map(String::as_str).collect();
        changes.push((change, record_of(line_no, object, &known, &mut errors)));
    }
    if errors.is_empty() {
        Ok(changes)
    } else {
        Err(errors)
    }
}

/// Applies a batch to municipality `code` in one transaction.
pub async fn apply_batch(
    client: &mut Client,
    code: &str,
    body: &[u8],
) -> Result<Applied, ImportError> {
    let changes = read(body).map_err(invalid)?;
    let tx = client.transaction().await?;
    let mut errors = Vec::new();
    let mut applied = Applied::default();
    for (change, record) in &changes {
        // Each change in a savepoint, so that one refused by the database
        // still lets the rest be checked; any error rolls the whole batch back.
        tx.batch_execute("SAVEPOINT change").await?;
        match apply_one(&tx, code, *change, record).await {
            Ok(()) => {
                tx.batch_execute("RELEASE SAVEPOINT change").await?;
                *applied.by_change.entry(*change).or_default() += 1;
            }
            Err(ImportError::Invalid { errors: e, .. }) => {
                tx.batch_execute("ROLLBACK TO SAVEPOINT change").await?;
                errors.extend(e);
            }
            Err(ImportError::Db(DbError::Postgres(e)))
                if e.code().is_some_and(|c| c.code().starts_with("23")) =>
            {
                tx.batch_execute("ROLLBACK TO SAVEPOINT change").await?;
                errors.push(LineError {
                    line: record.line,
                    field: String::new(),
                    reason: "conflicts_with_register",
                });
            }
            Err(e) => return Err(e),
        }
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    applied.changes = changes.len();
    crate::gateway::audit::append(
        &tx,
        crate::gateway::audit::Action::ChangesApplied,
        serde_json::json!({
            "municipality": code, "changes": applied.changes, "by_change": &applied.by_change,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(applied)
}

fn refused(record: &RawRecord, field: &str, reason: &'static str) -> ImportError {
    invalid(vec![LineError {
        line: record.line,
        field: field.to_owned(),
        reason,
    }])
}

/// A field's value checked by the imports' own rules, or the error.
fn resident_code(record: &RawRecord) -> Result<&str, ImportError> {
    match record.fields.get("resident_code") {
        None => Err(refused(record, "resident_code", "required")),
        Some(c) if c.len() == 11 && c.bytes().all(|b| b.is_ascii_digit()) => Ok(c),
        Some(_) => Err(refused(record, "resident_code", "digits_expected")),
    }
}

fn date(record: &RawRecord, field: &str) -> Result<time::Date, ImportError> {
    let mut f = super::Fields::of(record);
    match f.required_date(field) {
        Some(d) => Ok(d),
        None => Err(invalid(f.errors)),
    }
}

const TODAY: &str = "(now() AT TIME ZONE 'Asia/Tokyo')::date";

/// The checks of one change that need no database, in the order
/// [`apply_one`] meets them: the resident code, dates and flags it reads
/// itself, and a whole record's checks by its register. `apply_one` makes
/// them first, so a change refused here has touched nothing.
pub(crate) fn check_change(change: Change, record: &RawRecord) -> Result<(), ImportError> {
    let one = std::slice::from_ref(record);
    let register = |checked: Result<usize, Vec<LineError>>| checked.map(drop).map_err(invalid);
    match change {
        Change::MoveIn => {
            resident_code(record)?;
            register(Register::Residents.check(one))
        }
        Change::MovingOut | Change::ProtectionOn | Change::ProtectionOff => {
            resident_code(record).map(drop)
        }
        Change::MoveOut => {
            resident_code(record)?;
            date(record, "moved_out_on").map(drop)
        }
        Change::Death => {
            resident_code(record)?;
            date(record, "died_on").map(drop)
        }
        Change::SealRegistered => register(Register::Seals.check(one)),
        Change::SealAbolished => {
            if !record.fields.contains_key("registration_no") {
                return Err(refused(record, "registration_no", "required"));
            }
            date(record, "abolished_on").map(drop)
        }
        Change::TaxAssessment => register(Register::Tax.check(one)),
        Change::FamilyRegisterEntry => register(Register::FamilyRegisters.check(one)),
        Change::FamilyRegisterAddress => register(Register::FamilyRegisterAddresses.check(one)),
        Change::FamilyRegisterEvent => {
            let mut f = super::Fields::of(record);
            f.bool("removes_entry");
            if !f.errors.is_empty() {
                return Err(invalid(f.errors));
            }
            let mut event = RawRecord {
                line: record.line,
                fields: record.fields.clone(),
            };
            event.fields.remove("removes_entry");
            register(Register::FamilyRegisterEvents.check(std::slice::from_ref(&event)))
        }
        Change::FamilyRegisterClosed => {
            let mut f = super::Fields::of(record);
            f.text("domicile", 200);
            f.text("head_name", 100);
            let closed_on = f.required_date("closed_on");
            if closed_on.is_none() || !f.errors.is_empty() {
                return Err(invalid(f.errors));
            }
            Ok(())
        }
    }
}

async fn apply_one(
    tx: &Transaction<'_>,
    code: &str,
    change: Change,
    record: &RawRecord,
) -> Result<(), ImportError> {
    check_change(change, record)?;
    let one = std::slice::from_ref(record);
    match change {
        Change::MoveIn => {
            let rc = resident_code(record)?;
            // A move from another participating municipality: the 住民票
            // there must be leaving or left; it becomes this municipality's,
            // and its seal registration there ends (印鑑登録は転出で廃止).
            tx.execute(
                &format!(
                    "WITH moved AS (
                        UPDATE residents SET municipality_code = $1, updated_at = now()
                         WHERE resident_code = $2 AND municipality_code <> $1
                           AND status IN ('moving_out', 'moved_out')
                     RETURNING id)
                     UPDATE seal_registrations s SET abolished_on = greatest(s.registered_on, {TODAY}),
                            updated_at = now()
                       FROM moved WHERE s.resident_id = moved.id AND s.abolished_on IS NULL"
                ),
                &[&code, &rc],
            )
            .await?;
            residents::apply(tx, code, one).await.map(drop)
        }
        Change::MovingOut | Change::MoveOut | Change::Death => {
            let rc = resident_code(record)?;
            let (status, on) = match change {
                Change::MovingOut => ("moving_out", None),
                Change::MoveOut => ("moved_out", Some(date(record, "moved_out_on")?)),
                _ => ("deceased", Some(date(record, "died_on")?)),
            };
            let id: i64 = tx
                .query_opt(
                    "UPDATE residents SET status = $3, updated_at = now()
                      WHERE municipality_code = $1 AND resident_code = $2 RETURNING id",
                    &[&code, &rc, &status],
                )
                .await?
                .ok_or_else(|| refused(record, "resident_code", "resident_not_found"))?
                .get(0);
            if let Some(on) = on {
                tx.execute(
                    "UPDATE seal_registrations SET abolished_on = greatest(registered_on, $2), updated_at = now()
                      WHERE resident_id = $1 AND abolished_on IS NULL",
                    &[&id, &on],
                )
                .await?;
            }
            Ok(())
        }
        Change::ProtectionOn | Change::ProtectionOff => {
            let rc = resident_code(record)?;
            let on = change == Change::ProtectionOn;
            let n = tx
                .execute(
                    "UPDATE residents SET protected = $3, updated_at = now()
                      WHERE municipality_code = $1 AND resident_code = $2",
                    &[&code, &rc, &on],
                )
                .await?;
            if n == 0 {
                return Err(refused(record, "resident_code", "resident_not_found"));
            }
            Ok(())
        }
        Change::SealRegistered => seals::apply(tx, code, one).await.map(drop),
        Change::SealAbolished => {
            let no = record
                .fields
                .get("registration_no")
                .ok_or_else(|| refused(record, "registration_no", "required"))?;
            let on = date(record, "abolished_on")?;
            let registered_on: time::Date = tx
                .query_opt(
                    "SELECT registered_on FROM seal_registrations
                      WHERE municipality_code = $1 AND registration_no = $2 FOR UPDATE",
                    &[&code, no],
                )
                .await?
                .ok_or_else(|| refused(record, "registration_no", "registration_not_found"))?
                .get(0);
            if on < registered_on {
                return Err(refused(record, "abolished_on", "before_registration"));
            }
            tx.execute(
                "UPDATE seal_registrations SET abolished_on = coalesce(abolished_on, $3), updated_at = now()
                  WHERE municipality_code = $1 AND registration_no = $2",
                &[&code, no, &on],
            )
            .await?;
            Ok(())
        }
        Change::TaxAssessment => Register::Tax.apply(tx, code, one).await.map(drop),
        Change::FamilyRegisterEntry => family::apply_members(tx, code, one).await.map(drop),
        Change::FamilyRegisterAddress => family::apply_addresses(tx, code, one).await.map(drop),
        Change::FamilyRegisterEvent => {
            let mut event = RawRecord {
                line: record.line,
                fields: record.fields.clone(),
            };
            let mut f = super::Fields::of(record);
            let removes_entry = f.bool("removes_entry");
            if !f.errors.is_empty() {
                return Err(invalid(f.errors));
            }
            event.fields.remove("removes_entry");
            family::apply_events(tx, code, std::slice::from_ref(&event)).await?;
            let kind = record.fields.get("kind").map(String::as_str);
            if removes_entry || matches!(kind, Some("death" | "removal")) {
                // 除籍: the entry stays, marked removed, and a registered-
                // domicile registration standing for it ends (domicile.rs).
                tx.execute(
                    "UPDATE family_register_members fm SET removed = true
                       FROM family_registers f
                      WHERE f.id = fm.register_id AND f.municipality_code = $1
                        AND f.domicile = $2 AND f.head_name = $3 AND fm.position = $4::text::int",
                    &[
                        &code,
                        &record.fields["domicile"],
                        &record.fields["head_name"],
                        &record.fields["position"],
                    ],
                )
                .await?;
            }
            Ok(())
        }
        Change::FamilyRegisterClosed => {
            let mut f = super::Fields::of(record);
            let domicile = f.text("domicile", 200);
            let head = f.text("head_name", 100);
            let closed_on = f.required_date("closed_on");
            let Some(closed_on) = closed_on.filter(|_| f.errors.is_empty()) else {
                return Err(invalid(f.errors));
            };
            let compiled_on: time::Date = tx
                .query_opt(
                    "SELECT compiled_on FROM family_registers
                      WHERE municipality_code = $1 AND domicile = $2 AND head_name = $3 FOR UPDATE",
                    &[&code, &domicile, &head],
                )
                .await?
                .ok_or_else(|| refused(record, "head_name", "register_not_found"))?
                .get(0);
            if closed_on < compiled_on {
                return Err(refused(record, "closed_on", "before_compilation"));
            }
            tx.execute(
                "UPDATE family_registers SET closed_on = coalesce(closed_on, $4), updated_at = now()
                  WHERE municipality_code = $1 AND domicile = $2 AND head_name = $3",
                &[&code, &domicile, &head, &closed_on],
            )
            .await?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_reports_every_unreadable_line_and_unknown_change() {
        let body = b"{\"change\":\"move_out\",\"resident_code\":\"10000000001\",\"moved_out_on\":\"2026-01-01\"}\n\
            {\"resident_code\":\"1\"}\n{\"change\":\"wedding\"}\nnope\n\
            {\"change\":\"death\",\"resident_code\":\"10000000001\",\"died_on\":\"2026-01-01\",\"name\":\"x\"}\n";
        let errors = read(body).err().unwrap();
        let got: Vec<(usize, &str, &str)> = errors
            .iter()
            .map(|e| (e.line, e.field.as_str(), e.reason))
            .collect();
        assert_eq!(
            got,
            [
                (2, "change", "required"),
                (3, "change", "change_unknown"),
                (4, "", "line_malformed"),
                (5, "name", "unknown_field"),
            ]
        );
    }

    #[test]
    fn a_record_change_takes_its_registers_fields() {
        assert_eq!(Change::MoveIn.fields(), Register::Residents.columns());
        assert!(
            !Change::SealRegistered
                .fields()
                .contains(&"abolished_on".to_owned())
        );
        assert!(
            Change::FamilyRegisterEvent
                .fields()
                .contains(&"removes_entry".to_owned())
        );
    }
}
