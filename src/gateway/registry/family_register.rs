//! The family-register kinds' snapshots: 戸籍全部事項証明書, 戸籍個人事項証明書
//! and 戸籍の附票の写し, each read from the one open register kept here
//! that lists the resident, in one transaction, under `FOR SHARE` locks.
//!
//! Rule: one register per document. The register row is locked first, then
//! its members, events and addresses are read by its id alone, so no page of
//! the document can carry another register's entries (Tokushima). A member
//! whose 住民票 is under 支援措置 is never shown, on any of these kinds.

use time::Date;

use deadpool_postgres::GenericClient;

use super::options::IndividualOptions;
use super::own_record::OwnRefusal;
use super::{Ineligible, KindRefusal, SessionResident, sex_of};
use crate::gateway::db::DbError;
use crate::gateway::domain::CertificateKind;
use crate::gateway::render::model::{
    AddressEntry, AddressHistory, AddressHistoryCertificate, Certificate, DocumentIdentity,
    FamilyRegisterCertificate, RegisterEvent, RegisterMember, Scope,
};

/// Why a family-register kind cannot be snapshotted as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterRefusal {
    Own(OwnRefusal),
    /// The chosen position is not in the register.
    NoSuchMember,
}

/// The resident's own register here, locked; the resident's status re-read.
const LOCK_REGISTER: &str = "
    SELECT f.id, f.domicile, f.head_name, f.compiled_on, fm.position, r.status, r.protected,
           r.moved_in_on = (now() AT TIME ZONE 'Asia/Tokyo')::date
      FROM residents r
      LEFT JOIN family_register_members fm ON fm.resident_code = r.resident_code AND NOT fm.removed
      LEFT JOIN family_registers f ON f.id = fm.register_id AND f.municipality_code = $2 AND f.closed_on IS NULL
     WHERE r.id = $1
     ORDER BY f.id NULLS LAST
     LIMIT 1
       FOR SHARE OF r";
/// The same through a registered-domicile registration: its entry, in a
/// register kept by the issuing municipality `$2` (member `$3`).
const LOCK_REGISTER_OF_MEMBER: &str = "
    SELECT f.id, f.domicile, f.head_name, f.compiled_on, fm.position, r.status, r.protected,
           r.moved_in_on = (now() AT TIME ZONE 'Asia/Tokyo')::date
      FROM residents r
      LEFT JOIN family_register_members fm ON fm.id = $3 AND NOT fm.removed
      LEFT JOIN family_registers f ON f.id = fm.register_id AND f.municipality_code = $2 AND f.closed_on IS NULL
     WHERE r.id = $1
       FOR SHARE OF r";
const LOCK_REGISTER_ROW: &str = "SELECT 1 FROM family_registers WHERE id = $1 FOR SHARE";
/// Members with whether their 住民票 (wherever it is) is under 支援措置.
const MEMBERS: &str = "
    SELECT fm.id, fm.position, fm.name, fm.birth_date, fm.sex, fm.father_name, fm.mother_name,
           fm.relationship, fm.removed,
           coalesce((SELECT r.protected FROM residents r WHERE r.resident_code = fm.resident_code), false)
      FROM family_register_members fm
     WHERE fm.register_id = $1
     ORDER BY fm.position";
const EVENTS: &str = "
    SELECT e.member_id, e.kind, e.occurred_on, e.reported_on, e.detail
      FROM family_register_events e
      JOIN family_register_members fm ON fm.id = e.member_id
     WHERE fm.register_id = $1
     ORDER BY e.member_id, e.occurred_on, e.id";
const ADDRESSES: &str = "
    SELECT a.member_id, a.address, a.from_date, a.to_date
      FROM family_register_addresses a
      JOIN family_register_members fm ON fm.id = a.member_id
     WHERE fm.register_id = $1
     ORDER BY a.member_id, a.from_date";

/// Snapshots `kind` (one of the three family-register kinds).
pub async fn snapshot<C: GenericClient>(
    tx: &C,
    holder: &SessionResident,
    kind: CertificateKind,
    options: &IndividualOptions,
    document: DocumentIdentity,
    issued_on: Date,
) -> Result<Result<Certificate, RegisterRefusal>, DbError> {
    let no = |why: Ineligible| Ok(Err(RegisterRefusal::Own(OwnRefusal::Ineligible(why))));
    let r = match holder.registered_member {
        None => {
            tx.query_one(
                &tx.prepare_cached(LOCK_REGISTER).await?,
                &[&holder.resident_id, &holder.municipality.code],
            )
            .await?
        }
        Some(member) => {
            tx.query_one(
                &tx.prepare_cached(LOCK_REGISTER_OF_MEMBER).await?,
                &[&holder.resident_id, &holder.municipality.code, &member],
            )
            .await?
        }
    };
    if let Some(why) = super::ineligibility(r.get(5), r.get(6)) {
        return no(why);
    }
    if r.get::<_, Option<bool>>(7) == Some(true) {
        return no(Ineligible::MovedInToday);
    }
    if holder.card_issued_today {
        return no(Ineligible::CardIssuedToday);
    }
    let Some(register_id) = r.get::<_, Option<i64>>(0) else {
        return Ok(Err(RegisterRefusal::Own(OwnRefusal::Kind(
            KindRefusal::DomicileElsewhere,
        ))));
    };
    let own_position: i32 = r.get(4);
    // The register row locked, then its rows read by its id, pipelined.
    let (lock, members, events, addresses) = tokio::try_join!(
        tx.prepare_cached(LOCK_REGISTER_ROW),
        tx.prepare_cached(MEMBERS),
        tx.prepare_cached(EVENTS),
        tx.prepare_cached(ADDRESSES),
    )?;
    let id: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&register_id];
    let (_, member_rows, event_rows, address_rows) = tokio::try_join!(
        tx.query_one(&lock, &id),
        tx.query(&members, &id),
        tx.query(&events, &id),
        tx.query(&addresses, &id),
    )?;
    let wanted = match kind {
        CertificateKind::FamilyRegisterIndividual => {
            Some(options.position.map_or(own_position, i32::from))
        }
        _ => None,
    };
    let mut shown = Vec::new();
    for m in &member_rows {
        let position: i32 = m.get(1);
        if wanted.is_some_and(|w| w != position) {
            continue;
        }
        if m.get::<_, bool>(9) {
            return no(Ineligible::Protected);
        }
        shown.push(m);
    }
    if shown.is_empty() {
        return Ok(Err(RegisterRefusal::NoSuchMember));
    }
    let (domicile, head_name): (String, String) = (r.get(1), r.get(2));
    if kind == CertificateKind::FamilyRegisterAddresses {
        let members = shown
            .iter()
            .map(|m| {
                let member_id: i64 = m.get(0);
                AddressHistory {
                    name: m.get(2),
                    birth_date: m.get(3),
                    removed: m.get(8),
                    addresses: address_rows
                        .iter()
                        .filter(|a| a.get::<_, i64>(0) == member_id)
                        .map(|a| AddressEntry {
                            address: a.get(1),
                            from_date: a.get(2),
                            to_date: a.get(3),
                        })
                        .collect(),
                }
            })
            .collect();
        return Ok(Ok(Certificate::FamilyRegisterAddresses(
            AddressHistoryCertificate {
                municipality: holder.municipality.clone(),
                document,
                issued_on,
                domicile,
                head_name,
                members,
            },
        )));
    }
    let mut members = Vec::with_capacity(shown.len());
    for m in shown {
        let member_id: i64 = m.get(0);
        let mut events = Vec::new();
        for e in event_rows
            .iter()
            .filter(|e| e.get::<_, i64>(0) == member_id)
        {
            let kind = serde_json::from_value(serde_json::Value::from(e.get::<_, &str>(1)))
                .map_err(|_| DbError::Data("a register event kind the model does not name"))?;
            events.push(RegisterEvent {
                kind,
                occurred_on: e.get(2),
                reported_on: e.get(3),
                detail: e.get(4),
            });
        }
        members.push(RegisterMember {
            position: m.get(1),
            name: m.get(2),
            birth_date: m.get(3),
            sex: sex_of(m.get(4)),
            father_name: m.get(5),
            mother_name: m.get(6),
            relationship: m.get(7),
            removed: m.get(8),
            events,
        });
    }
    Ok(Ok(Certificate::FamilyRegister(FamilyRegisterCertificate {
        municipality: holder.municipality.clone(),
        document,
        issued_on,
        scope: if kind == CertificateKind::FamilyRegisterIndividual {
            Scope::Individual
        } else {
            Scope::Full
        },
        domicile,
        head_name,
        compiled_on: r.get(3),
        members,
    })))
}
