//! The municipal registers kofu reads: municipalities, households and
//! residents (住民基本台帳), and the card-serial → resident links.
//!
//! Rule: the only way from a card to a person is `resident_for_serial`; the
//! records a document shows are read by `session_resident` and
//! `snapshot_residence` inside the acceptance transaction, under row locks, so a register change is either
//! wholly before the order (and shown) or wholly after it (and not).

pub mod events;
pub mod status;

pub use status::ResidentStatus;

use time::{Date, OffsetDateTime};

use tokio_postgres::types::ToSql;

use deadpool_postgres::GenericClient;

use crate::gateway::db::{Cached, Client, DbError};
use crate::gateway::domain::{CertFingerprint, CertificateKind};
use crate::gateway::pki::VerifiedCard;
use crate::gateway::render::model::{Domicile, MunicipalityHeader, ResidentRecord, Sex};

pub use crate::gateway::domain::ResidentId;

/// Why a resident cannot be issued certificates at a store (DOMAIN.md:
/// refused in every municipality). Each is its own stable code at the menu
/// and at the order (`copier::error::CopierError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ineligible {
    MovedOut,
    /// A 転出届 is filed (`moving_out`), for the resident or a household member shown.
    MovingOut,
    Deceased,
    /// 支援措置 (DV/stalking protection), for the resident or a household member shown.
    Protected,
    /// The resident's move-in was registered today (JST).
    MovedInToday,
    /// The card's certificate was issued today (JST).
    CardIssuedToday,
}

/// Why one kind other than the residence certificate cannot be issued to
/// this resident, from its own register (read at the card step for the
/// menu). The resident-wide reasons ([`Ineligible`]) come first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindRefusal {
    /// No seal registration (印鑑登録) at all.
    SealNotRegistered,
    /// The only registrations are abolished (廃止).
    SealAbolished,
    /// No fiscal year is released yet (the new year comes around June).
    TaxYearNotReleased,
    /// No assessment for the latest released year.
    NoTaxRecord,
    /// Assessed, but not registered here on 1 January of that year.
    NotRegisteredHereOnJanuary1,
    /// The resident is in no open 戸籍 kept here (and there is no
    /// registered-domicile registration yet).
    DomicileElsewhere,
}

/// The resident a verified card maps to, with what the menu needs.
#[derive(Debug, Clone)]
pub struct CardHolder {
    pub resident_id: ResidentId,
    pub municipality: MunicipalityHeader,
    pub ineligible: Option<Ineligible>,
    /// The seal registration certificate's register says no.
    pub seal: Option<KindRefusal>,
    /// The tax certificate's register says no.
    pub tax: Option<KindRefusal>,
    /// The family register certificates' register says no.
    pub family_register: Option<KindRefusal>,
}

impl CardHolder {
    /// What the register of `kind` says against issuing it (the residence
    /// certificate has none beyond [`Ineligible`]).
    pub fn refusal_for(&self, kind: CertificateKind) -> Option<KindRefusal> {
        match kind {
            CertificateKind::ResidenceCertificate => None,
            CertificateKind::SealRegistration => self.seal,
            CertificateKind::TaxCertificate => self.tax,
            CertificateKind::FamilyRegister => self.family_register,
        }
    }
}

/// What the serial of a verified card leads to.
#[derive(Debug, Clone)]
pub enum HolderLookup {
    /// The linked resident, now bound to the session, and the fee for the kind asked.
    Found(CardHolder, Option<i32>),
    /// No resident is linked to this serial.
    NotLinked,
    /// J-LIS suspended the certificate (lost card; certificateHold).
    Suspended,
    /// J-LIS revoked the certificate, or a renewal superseded it.
    Revoked,
    /// The session was not updated: another copier's, expired, or its
    /// challenge already spent (the caller tells which).
    SessionUnusable,
}

/// One round trip: the serial's J-LIS status, its holder, the
/// municipality's fee for `$3`, and the session updated: the challenge spent
/// and — only when the certificate is neither suspended nor revoked — the
/// holder bound. Always exactly one row; its last column counts the sessions
/// updated (0: not this copier's, expired, or the challenge not as expected).
///
/// Committed without waiting for the WAL flush (see "Relaxed commits" in
/// [`crate::gateway::db`]): the acceptance that uses the session commits
/// synchronously and so makes this binding durable first.
///
/// `$5` is the challenge the signature was verified over, when the caller
/// held it (the session was opened in this process): the statement spends it
/// only if it is still unspent and equal. NULL when the caller already spent
/// it with its own statement before verifying.
const AUTHENTICATE_HOLDER: &str = "
    WITH card AS (
        SELECT $2::bytea AS serial,
               (SELECT cs.status FROM certificate_status cs WHERE cs.serial = $2) AS card_status),
    holder AS (
        SELECT r.id, r.status, r.protected, m.code, m.name, m.mayor_title, m.mayor_name, m.seal_text,
               (SELECT f.amount_yen FROM fees f WHERE f.municipality_code = m.code AND f.kind = $3) AS fee,
               card.card_status,
               r.id IS NOT NULL AND card.card_status IS NULL AS usable,
               r.moved_in_on = (now() AT TIME ZONE 'Asia/Tokyo')::date AS moved_in_today,
               -- What the menu says of the other kinds (see `KindRefusal`).
               EXISTS (SELECT 1 FROM seal_registrations s WHERE s.resident_id = r.id) AS seal_registered,
               EXISTS (SELECT 1 FROM seal_registrations s WHERE s.resident_id = r.id AND s.abolished_on IS NULL)
                   AS seal_active,
               tax.year IS NOT NULL AS tax_year_released,
               tax.recorded,
               tax.resident_on_january_1,
               EXISTS (SELECT 1 FROM family_register_members fm
                         JOIN family_registers f ON f.id = fm.register_id
                        WHERE fm.resident_code = r.resident_code AND NOT fm.removed
                          AND f.municipality_code = m.code AND f.closed_on IS NULL) AS domicile_here
          FROM card
          LEFT JOIN certificate_links l ON l.serial = card.serial
          LEFT JOIN residents r ON r.id = l.resident_id
          LEFT JOIN municipalities m ON m.code = r.municipality_code
          -- The latest fiscal year released today, and the resident's assessment for it.
          LEFT JOIN LATERAL (
              SELECT y.year, a.id IS NOT NULL AS recorded, coalesce(a.resident_on_january_1, false) AS resident_on_january_1
                FROM (SELECT max(t.fiscal_year) AS year FROM tax_year_releases t
                       WHERE t.municipality_code = m.code
                         AND t.released_on <= (now() AT TIME ZONE 'Asia/Tokyo')::date) y
                LEFT JOIN tax_assessments a ON a.resident_id = r.id AND a.fiscal_year = y.year) tax ON true),
    bound AS (
        UPDATE sessions s
           SET challenge_used_at = coalesce(s.challenge_used_at, now()),
               resident_id = CASE WHEN holder.usable THEN holder.id ELSE s.resident_id END,
               card_serial = CASE WHEN holder.usable THEN $2 ELSE s.card_serial END,
               authenticated_at = CASE WHEN holder.usable THEN now() ELSE s.authenticated_at END,
               card_issued_on = CASE WHEN holder.usable THEN $6 ELSE s.card_issued_on END
          FROM holder
         WHERE s.id = $1 AND s.copier_fingerprint = $4 AND s.expires_at > now()
           AND CASE WHEN $5::bytea IS NULL THEN s.challenge_used_at IS NOT NULL
                    ELSE s.challenge_used_at IS NULL AND s.challenge = $5 END
        RETURNING s.id)
    SELECT holder.*, (SELECT count(*) FROM bound), set_config('synchronous_commit', 'off', true) FROM holder";

/// The map step: finds the resident a verified card's serial is linked to
/// and binds them to the session (only a [`VerifiedCard`], the proof value
/// verification returns, leads to a person), unless J-LIS has suspended or revoked the certificate (read
/// in the same statement, so an event committed by any process counts).
/// Also returns the fee for `kind` there, if offered. With `challenge`, the
/// session's challenge is spent in the same statement (see
/// [`AUTHENTICATE_HOLDER`]).
pub async fn authenticate_holder(
    client: &Client,
    session_id: uuid::Uuid,
    copier: &CertFingerprint,
    challenge: Option<&[u8; 32]>,
    card: &VerifiedCard,
    kind: CertificateKind,
) -> Result<HolderLookup, DbError> {
    let card_issued_on = card
        .not_before()
        .to_offset(time::macros::offset!(+9))
        .date();
    let r = client
        .query_one_cached(
            AUTHENTICATE_HOLDER,
            &[
                &session_id,
                &card.serial().as_bytes(),
                &kind.wire_name(),
                copier,
                &challenge.map(|c| c.as_slice()),
                &card_issued_on,
            ],
        )
        .await?;
    if r.get::<_, i64>(18) == 0 {
        return Ok(HolderLookup::SessionUnusable);
    }
    match r.get::<_, Option<&str>>(9) {
        Some("suspended") => return Ok(HolderLookup::Suspended),
        Some(_) => return Ok(HolderLookup::Revoked),
        None => {}
    }
    let Some(resident_id) = r.get::<_, Option<ResidentId>>(0) else {
        return Ok(HolderLookup::NotLinked);
    };
    let holder = CardHolder {
        resident_id,
        ineligible: ineligibility(r.get(1), r.get(2)).or_else(|| {
            let today = OffsetDateTime::now_utc()
                .to_offset(time::macros::offset!(+9))
                .date();
            if r.get::<_, Option<bool>>(11) == Some(true) {
                Some(Ineligible::MovedInToday)
            } else if card_issued_on == today {
                Some(Ineligible::CardIssuedToday)
            } else {
                None
            }
        }),
        municipality: MunicipalityHeader {
            code: r.get(3),
            name: r.get(4),
            mayor_title: r.get(5),
            mayor_name: r.get(6),
            seal_text: r.get(7),
        },
        seal: match (r.get::<_, bool>(12), r.get::<_, bool>(13)) {
            (_, true) => None,
            (true, false) => Some(KindRefusal::SealAbolished),
            (false, false) => Some(KindRefusal::SealNotRegistered),
        },
        tax: match (
            r.get::<_, bool>(14),
            r.get::<_, Option<bool>>(15),
            r.get::<_, Option<bool>>(16),
        ) {
            (false, _, _) => Some(KindRefusal::TaxYearNotReleased),
            (true, Some(true), Some(true)) => None,
            (true, Some(true), _) => Some(KindRefusal::NotRegisteredHereOnJanuary1),
            (true, _, _) => Some(KindRefusal::NoTaxRecord),
        },
        family_register: (!r.get::<_, bool>(17)).then_some(KindRefusal::DomicileElsewhere),
    };
    Ok(HolderLookup::Found(holder, r.get(8)))
}

fn ineligibility(status: ResidentStatus, protected: bool) -> Option<Ineligible> {
    match status {
        ResidentStatus::MovedOut => Some(Ineligible::MovedOut),
        ResidentStatus::MovingOut => Some(Ineligible::MovingOut),
        ResidentStatus::Deceased => Some(Ineligible::Deceased),
        ResidentStatus::Active if protected => Some(Ineligible::Protected),
        ResidentStatus::Active => None,
    }
}

/// What the resident chose to show on a residence certificate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResidenceOptions {
    /// 世帯全員 instead of the resident alone.
    pub whole_household: bool,
    /// 世帯主・続柄
    pub show_householder: bool,
    /// 本籍・筆頭者
    pub show_domicile: bool,
    /// 個人番号
    pub show_my_number: bool,
}

/// The registers as they stand, read under `FOR SHARE` locks inside the
/// caller's (acceptance) transaction.
#[derive(Debug, Clone)]
pub struct ResidenceSnapshot {
    pub municipality: MunicipalityHeader,
    pub address: String,
    pub householder: Option<String>,
    pub members: Vec<ResidentRecord>,
}

/// The session's authenticated resident, their municipality locked `FOR
/// SHARE` (the first lock of the snapshot, parent before child), and the
/// municipality's fee for `$2`. No row when the session does not exist or
/// is not authenticated; the caller tells those apart.
const SESSION_RESIDENT: &str = "
    SELECT s.copier_fingerprint, s.expires_at > now(), r.id, r.household_id,
           m.code, m.name, m.mayor_title, m.mayor_name, m.seal_text,
           (SELECT f.amount_yen FROM fees f WHERE f.municipality_code = m.code AND f.kind = $2),
           s.card_issued_on IS NOT NULL AND s.card_issued_on >= (now() AT TIME ZONE 'Asia/Tokyo')::date
      FROM sessions s
      JOIN residents r ON r.id = s.resident_id
      JOIN municipalities m ON m.code = r.municipality_code
     WHERE s.id = $1
       FOR SHARE OF m";
const LOCK_HOUSEHOLD: &str = "SELECT address FROM households WHERE id = $1 FOR SHARE";
const LOCK_MEMBERS: &str = "
    SELECT id, name, name_kana, birth_date, sex, relationship, is_householder, became_resident_on,
           domicile, head_of_register, my_number, status, protected,
           moved_in_on = (now() AT TIME ZONE 'Asia/Tokyo')::date
      FROM residents
     WHERE household_id = $1
     ORDER BY register_order
       FOR SHARE";

/// An ordering session's resident, read (and their municipality locked)
/// inside the acceptance transaction by [`session_resident`].
#[derive(Debug, Clone)]
pub struct SessionResident {
    pub copier_fingerprint: CertFingerprint,
    pub expired: bool,
    pub resident_id: ResidentId,
    pub household_id: i64,
    pub municipality: MunicipalityHeader,
    /// The municipality's fee for the kind asked, if it offers it.
    pub fee_yen: Option<i32>,
    /// The session's card was issued today (JST).
    pub card_issued_today: bool,
}

/// The first step of a snapshot: the session's resident, with the
/// municipality row locked. `None` when the session does not exist or is not
/// authenticated.
pub async fn session_resident<C: GenericClient>(
    tx: &C,
    session_id: uuid::Uuid,
    kind: CertificateKind,
) -> Result<Option<SessionResident>, DbError> {
    let Some(row) = tx
        .query_opt_cached(SESSION_RESIDENT, &[&session_id, &kind.wire_name()])
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(SessionResident {
        copier_fingerprint: row.get(0),
        expired: !row.get::<_, bool>(1),
        resident_id: row.get(2),
        household_id: row.get(3),
        municipality: MunicipalityHeader {
            code: row.get(4),
            name: row.get(5),
            mayor_title: row.get(6),
            mayor_name: row.get(7),
            seal_text: row.get(8),
        },
        fee_yen: row.get(9),
        card_issued_today: row.get(10),
    }))
}

/// Reads what a residence certificate for the session's resident shows:
/// the second step, after [`session_resident`] locked the municipality.
///
/// # Errors
/// `Ok(Err(Ineligible))` when the resident, or a household member the
/// certificate would show, may not be issued one at a store.
pub async fn snapshot_residence<C: GenericClient>(
    tx: &C,
    holder: &SessionResident,
    options: ResidenceOptions,
) -> Result<Result<ResidenceSnapshot, Ineligible>, DbError> {
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
        return Ok(Err(Ineligible::MovedOut)); // moved to another household meanwhile
    };
    if let Some(why) = ineligibility(my_row.get(11), my_row.get(12)) {
        return Ok(Err(why));
    }
    if my_row.get::<_, Option<bool>>(13) == Some(true) {
        return Ok(Err(Ineligible::MovedInToday));
    }
    if holder.card_issued_today {
        return Ok(Err(Ineligible::CardIssuedToday));
    }
    let municipality = holder.municipality.clone();

    let mut members = Vec::new();
    let mut householder = None;
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
        // Only current members appear; people who left or died are on 除票, not here.
        if !current || !(options.whole_household || id == resident) {
            continue;
        }
        if protected {
            return Ok(Err(Ineligible::Protected));
        }
        if status == ResidentStatus::MovingOut {
            return Ok(Err(Ineligible::MovingOut));
        }
        let domicile: Option<String> = row.get(8);
        let head: Option<String> = row.get(9);
        members.push(ResidentRecord {
            name,
            name_kana: row.get(2),
            birth_date: row.get::<_, Date>(3),
            sex: if row.get::<_, &str>(4) == "female" {
                Sex::Female
            } else {
                Sex::Male
            },
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
        });
    }
    Ok(Ok(ResidenceSnapshot {
        municipality,
        address,
        householder: if options.show_householder {
            householder
        } else {
            None
        },
        members,
    }))
}
