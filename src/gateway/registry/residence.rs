//! The residence certificate's snapshot: the household and the people it
//! shows, read under `FOR SHARE` locks inside the acceptance transaction.

use time::Date;
use tokio_postgres::types::ToSql;

use deadpool_postgres::GenericClient;

use super::options::ResidenceOptions;
use super::{Ineligible, ResidentStatus, SessionResident, ineligibility, sex_of};
use crate::gateway::db::DbError;
use crate::gateway::domain::ResidentId;
use crate::gateway::render::model::{
    DocumentIdentity, Domicile, ForeignResident, ResidenceCertificate, ResidentRecord,
};

pub(super) const LOCK_HOUSEHOLD: &str = "SELECT address FROM households WHERE id = $1 FOR SHARE";
const LOCK_MEMBERS: &str = "
    SELECT id, name, name_kana, birth_date, sex, relationship, is_householder, became_resident_on,
           domicile, head_of_register, my_number, status, protected,
           moved_in_on = (now() AT TIME ZONE 'Asia/Tokyo')::date,
           former_surname, nationality, residence_card_number, status_of_residence,
           period_of_stay, period_of_stay_expires_on
      FROM residents
     WHERE household_id = $1
     ORDER BY register_order
       FOR SHARE";

/// Why a residence certificate cannot be snapshotted as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResidenceRefusal {
    Ineligible(Ineligible),
    /// A chosen position is not a current member of the household.
    NoSuchMember,
}

/// Reads what a residence certificate for the session's resident shows:
/// the second step, after [`super::session_resident`] locked the municipality.
///
/// # Errors
/// `Ok(Err(_))` when the resident, or a household member the certificate
/// would show, may not be issued one at a store, or a chosen member does
/// not exist.
pub async fn snapshot<C: GenericClient>(
    tx: &C,
    holder: &SessionResident,
    options: &ResidenceOptions,
    document: DocumentIdentity,
    issued_on: Date,
) -> Result<Result<ResidenceCertificate, ResidenceRefusal>, DbError> {
    use ResidenceRefusal::Ineligible as No;
    // Locks go parent to child (municipality, household, residents), the
    // order register updates are expected to use; a deadlock with a sync that
    // uses another order is retried by the caller. Pipelined in one round
    // trip. PostgreSQL runs them in the order sent, so statements are
    // prepared first (a no-op once cached): a Parse sent between two
    // executions could otherwise reorder the locks.
    let resident = holder.resident_id;
    let (lock_household, lock_members) = tokio::try_join!(
        tx.prepare_cached(LOCK_HOUSEHOLD),
        tx.prepare_cached(LOCK_MEMBERS),
    )?;
    let by_household: [&(dyn ToSql + Sync); 1] = [&holder.household_id];
    let (household, rows) = tokio::try_join!(
        tx.query_one(&lock_household, &by_household),
        tx.query(&lock_members, &by_household),
    )?;
    let address: String = household.get(0);
    let Some(my_row) = rows.iter().find(|r| r.get::<_, ResidentId>(0) == resident) else {
        return Ok(Err(No(Ineligible::MovedOut))); // moved to another household meanwhile
    };
    if let Some(why) = ineligibility(my_row.get(11), my_row.get(12)) {
        return Ok(Err(No(why)));
    }
    if my_row.get::<_, Option<bool>>(13) == Some(true) {
        return Ok(Err(No(Ineligible::MovedInToday)));
    }
    if holder.card_issued_today {
        return Ok(Err(No(Ineligible::CardIssuedToday)));
    }

    let mut members = Vec::new();
    let mut householder = None;
    let mut position: u16 = 0;
    for row in rows {
        let id: ResidentId = row.get(0);
        let status: ResidentStatus = row.get(11);
        let protected: bool = row.get(12);
        let name: String = row.get(1);
        // Still a member until the move: a resident who filed to move out
        // is shown, and so refuses the household certificate below.
        let current = status.is_current();
        if row.get::<_, bool>(6) && current {
            householder = Some(name.clone());
        }
        // Only current members appear (and count for positions); people
        // who left or died are on 除票, not here.
        if !current {
            continue;
        }
        position += 1;
        let shown = if options.members.is_empty() {
            options.whole_household || id == resident
        } else {
            options.members.contains(&position)
        };
        if !shown {
            continue;
        }
        if protected {
            return Ok(Err(No(Ineligible::Protected)));
        }
        if status == ResidentStatus::MovingOut {
            return Ok(Err(No(Ineligible::MovingOut)));
        }
        let domicile: Option<String> = row.get(8);
        let head: Option<String> = row.get(9);
        let foreign = match (
            row.get(15),
            row.get(16),
            row.get(17),
            row.get(18),
            row.get(19),
        ) {
            (Some(nationality), Some(card), Some(status), Some(period), Some(expires_on))
                if options.show_foreign_resident_fields =>
            {
                Some(ForeignResident {
                    nationality,
                    residence_card_number: card,
                    status_of_residence: status,
                    period_of_stay: period,
                    expires_on,
                })
            }
            _ => None,
        };
        members.push(ResidentRecord {
            name,
            name_kana: row.get(2),
            birth_date: row.get::<_, Date>(3),
            sex: sex_of(row.get(4)),
            relationship: options.show_householder.then(|| row.get(5)),
            became_resident_on: row.get(7),
            domicile: match (options.show_domicile, domicile, head) {
                (true, Some(domicile), Some(head_of_register)) => Some(Domicile {
                    domicile,
                    head_of_register,
                }),
                _ => None,
            },
            my_number: if options.show_my_number {
                row.get(10)
            } else {
                None
            },
            former_surname: if options.show_former_surname {
                row.get(14)
            } else {
                None
            },
            foreign,
        });
    }
    if members.len() != options.members.len().max(1) && !options.whole_household {
        return Ok(Err(ResidenceRefusal::NoSuchMember));
    }
    Ok(Ok(ResidenceCertificate {
        municipality: holder.municipality.clone(),
        document,
        issued_on,
        address,
        householder: if options.show_householder {
            householder
        } else {
            None
        },
        whole_household: options.whole_household,
        members,
    }))
}
