//! Registered-domicile registration by serial (本籍地証明書交付サービス): a
//! resident whose 本籍 is kept by another municipality registers there with
//! their card, naming the 本籍 and the 筆頭者. See sql/0022 for the rules.
//!
//! Rule: a registration is found from a card's serial only (the card step
//! has verified the card); its status is computed where it is read, so an
//! entry removed from its 戸籍, or a register closed, ends it at once.

use serde::Serialize;
use uuid::Uuid;

use crate::gateway::db::{Client, DbError};
use crate::gateway::render::model::MunicipalityHeader;

/// What became of a registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Matched (or approved): that municipality's 戸籍 certificates are the resident's.
    Active,
    /// Waiting for the 本籍 municipality's staff.
    Pending,
    Rejected,
    /// Ended by a renewal, a revocation or a change of the 戸籍.
    Ended,
}

impl Status {
    fn parse(text: &str) -> Status {
        match text {
            "active" => Status::Active,
            "pending" => Status::Pending,
            "rejected" => Status::Rejected,
            _ => Status::Ended,
        }
    }
}

/// A registration as the resident sees it on the menu (read with the card
/// step's one statement, `registry::AUTHENTICATE_HOLDER`, with the status
/// computed as [`EFFECTIVE_STATUS`] does).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Registration {
    pub registration_id: Uuid,
    pub municipality_code: String,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_reason: Option<String>,
}

/// The status with the 戸籍 read now: an active registration whose entry
/// was removed, or whose register was closed, has ended (the card step's
/// statement spells the same rule).
const EFFECTIVE_STATUS: &str = "
    CASE WHEN d.status = 'active' AND (fm.removed OR f.closed_on IS NOT NULL) THEN 'ended'
         ELSE d.status END,
    CASE WHEN d.status = 'active' AND (fm.removed OR f.closed_on IS NOT NULL) THEN 'register_changed'
         ELSE d.ended_reason END";

/// The entry of an open register kept by `$1` at 本籍 `$2`, 筆頭者 `$3`,
/// for the person named `$4` born `$5`.
const MATCH: &str = "
    SELECT fm.id FROM family_registers f
      JOIN family_register_members fm ON fm.register_id = f.id
     WHERE f.municipality_code = $1 AND f.domicile = $2 AND f.head_name = $3
       AND f.closed_on IS NULL AND NOT fm.removed AND fm.name = $4 AND fm.birth_date = $5
     ORDER BY fm.position LIMIT 1";

/// What a resident asks for at the copier.
#[derive(Debug, Clone)]
pub struct Application<'a> {
    pub serial: &'a [u8],
    pub resident_id: i64,
    pub name: &'a str,
    pub birth_date: time::Date,
    pub municipality_code: &'a str,
    pub domicile: &'a str,
    pub head_of_register: &'a str,
}

/// Registers `application`: active at once when it matches the register,
/// else pending. An open registration of the same card with the same
/// municipality is answered as it stands (`false`: not new).
pub async fn register(
    client: &mut Client,
    application: &Application<'_>,
) -> Result<(Registration, bool), DbError> {
    let tx = client.transaction().await?;
    // One whose entry has since changed is ended first, so a new one can be made.
    tx.execute(
        "UPDATE domicile_registrations d SET status = 'ended', ended_reason = 'register_changed'
           FROM family_register_members fm JOIN family_registers f ON f.id = fm.register_id
          WHERE d.serial = $1 AND d.municipality_code = $2 AND d.status = 'active'
            AND fm.id = d.member_id AND (fm.removed OR f.closed_on IS NOT NULL)",
        &[&application.serial, &application.municipality_code],
    )
    .await?;
    if let Some(row) = tx
        .query_opt(
            "SELECT id, status FROM domicile_registrations
              WHERE serial = $1 AND municipality_code = $2 AND status IN ('active', 'pending')",
            &[&application.serial, &application.municipality_code],
        )
        .await?
    {
        tx.commit().await?;
        return Ok((
            Registration {
                registration_id: row.get(0),
                municipality_code: application.municipality_code.to_owned(),
                status: Status::parse(row.get(1)),
                ended_reason: None,
            },
            false,
        ));
    }
    let member: Option<i64> = tx
        .query_opt(
            MATCH,
            &[
                &application.municipality_code,
                &application.domicile,
                &application.head_of_register,
                &application.name,
                &application.birth_date,
            ],
        )
        .await?
        .map(|r| r.get(0));
    let status = if member.is_some() {
        "active"
    } else {
        "pending"
    };
    let id = Uuid::from_bytes(crate::gateway::random_bytes());
    tx.execute(
        "INSERT INTO domicile_registrations (id, serial, resident_id, municipality_code, domicile,
                                             head_of_register, member_id, status, decided_at, decided_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
                 CASE WHEN $7::bigint IS NULL THEN NULL ELSE now() END,
                 CASE WHEN $7::bigint IS NULL THEN NULL ELSE 'matched' END)",
        &[
            &id,
            &application.serial,
            &application.resident_id,
            &application.municipality_code,
            &application.domicile,
            &application.head_of_register,
            &member,
            &status,
        ],
    )
    .await?;
    tx.commit().await?;
    Ok((
        Registration {
            registration_id: id,
            municipality_code: application.municipality_code.to_owned(),
            status: Status::parse(status),
            ended_reason: None,
        },
        true,
    ))
}

/// A registration waiting in a municipality's staff queue, with what the
/// staff compare against their register (no address, no My Number).
#[derive(Debug, Clone, Serialize)]
pub struct Queued {
    pub registration_id: Uuid,
    pub status: Status,
    pub domicile: String,
    pub head_of_register: String,
    pub name: String,
    pub birth_date: String,
    pub created_at: String,
}

/// The registrations with municipality `code` in `status` (oldest first).
pub async fn queue(client: &Client, code: &str, status: &str) -> Result<Vec<Queued>, DbError> {
    let rows = client
        .query(
            &format!(
                "SELECT d.id, {EFFECTIVE_STATUS}, d.domicile, d.head_of_register, r.name,
                        r.birth_date::text, to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
                   FROM domicile_registrations d
                   JOIN residents r ON r.id = d.resident_id
                   LEFT JOIN family_register_members fm ON fm.id = d.member_id
                   LEFT JOIN family_registers f ON f.id = fm.register_id
                  WHERE d.municipality_code = $1 AND d.status = $2
                  ORDER BY d.created_at LIMIT 1000"
            ),
            &[&code, &status],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Queued {
            registration_id: r.get(0),
            status: Status::parse(r.get(1)),
            domicile: r.get(3),
            head_of_register: r.get(4),
            name: r.get(5),
            birth_date: r.get(6),
            created_at: r.get(7),
        })
        .collect())
}

/// Why a staff decision was not taken.
#[derive(Debug, thiserror::Error)]
pub enum DecisionError {
    #[error("no such registration with this municipality")]
    NotFound,
    #[error("the registration is not pending")]
    NotPending,
    #[error("no open register entry at that position for the registration's 本籍 and 筆頭者")]
    NoSuchEntry,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<tokio_postgres::Error> for DecisionError {
    fn from(e: tokio_postgres::Error) -> Self {
        DecisionError::Db(e.into())
    }
}

/// The staff's decision on a pending registration of municipality `code`:
/// approve it as the entry at `position` of the register it names, or
/// reject it.
pub async fn decide(
    client: &mut Client,
    code: &str,
    id: Uuid,
    approve_position: Option<i32>,
    by: &str,
) -> Result<Status, DecisionError> {
    let tx = client.transaction().await?;
    let row = tx
        .query_opt(
            "SELECT status, domicile, head_of_register FROM domicile_registrations
              WHERE id = $1 AND municipality_code = $2 FOR UPDATE",
            &[&id, &code],
        )
        .await?
        .ok_or(DecisionError::NotFound)?;
    if row.get::<_, &str>(0) != "pending" {
        return Err(DecisionError::NotPending);
    }
    let status = match approve_position {
        Some(position) => {
            let member: i64 = tx
                .query_opt(
                    "SELECT fm.id FROM family_registers f
                       JOIN family_register_members fm ON fm.register_id = f.id
                      WHERE f.municipality_code = $1 AND f.domicile = $2 AND f.head_name = $3
                        AND f.closed_on IS NULL AND NOT fm.removed AND fm.position = $4",
                    &[
                        &code,
                        &row.get::<_, &str>(1),
                        &row.get::<_, &str>(2),
                        &position,
                    ],
                )
                .await?
                .ok_or(DecisionError::NoSuchEntry)?
                .get(0);
            tx.execute(
                "UPDATE domicile_registrations SET status = 'active', member_id = $2,
                        decided_at = now(), decided_by = $3 WHERE id = $1",
                &[&id, &member, &by],
            )
            .await?;
            Status::Active
        }
        None => {
            tx.execute(
                "UPDATE domicile_registrations SET status = 'rejected', decided_at = now(), decided_by = $2
                  WHERE id = $1",
                &[&id, &by],
            )
            .await?;
            Status::Rejected
        }
    };
    tx.commit().await?;
    Ok(status)
}

/// A renewal from `old` to `new` inside the event's transaction: each open
/// registration moves to the new serial when its municipality's policy
/// says so, and ends otherwise.
pub const CARRY_ON_RENEWAL: &str = "
    UPDATE domicile_registrations d SET serial = $2
      FROM municipalities m
      JOIN municipality_settings s ON s.municipality_code = m.code AND s.version = m.settings_version
     WHERE d.serial = $1 AND d.status IN ('active', 'pending') AND m.code = d.municipality_code
       AND coalesce((s.settings -> 'policies' ->> 'domicile_registration_survives_renewal')::boolean, false)";
pub const END_ON_RENEWAL: &str = "
    UPDATE domicile_registrations SET status = 'ended', ended_reason = 'card_renewed'
     WHERE serial = $1 AND status IN ('active', 'pending')";
/// A revoked card's registrations end with it.
pub const END_ON_REVOCATION: &str = "
    UPDATE domicile_registrations SET status = 'ended', ended_reason = 'card_revoked'
     WHERE serial = $1 AND status IN ('active', 'pending')";

/// The municipality that issues a family-register kind through a card's
/// active registration, and the entry the registration stands for.
pub struct Issuer {
    pub municipality: MunicipalityHeader,
    pub fee_yen: Option<i32>,
    pub settings_version: Option<i32>,
    pub member_id: i64,
}

/// Inside an acceptance: the session card's active registration with
/// `code`, its entry still in an open register, the municipality live —
/// with the registration and the municipality locked `FOR SHARE`.
const ISSUER: &str = "
    SELECT d.member_id, m.code, m.name, m.mayor_title, m.mayor_name, m.seal_text,
           (SELECT f.amount_yen FROM fees f WHERE f.municipality_code = m.code AND f.kind = $3),
           m.settings_version
      FROM sessions s
      JOIN domicile_registrations d ON d.serial = s.card_serial AND d.resident_id = s.resident_id
                                   AND d.municipality_code = $2 AND d.status = 'active'
      JOIN family_register_members fm ON fm.id = d.member_id AND NOT fm.removed
      JOIN family_registers fr ON fr.id = fm.register_id AND fr.closed_on IS NULL
      JOIN municipalities m ON m.code = d.municipality_code AND m.live_at IS NOT NULL
     WHERE s.id = $1
       FOR SHARE OF d, m";

pub async fn issuer<C: deadpool_postgres::GenericClient>(
    tx: &C,
    session_id: Uuid,
    code: &str,
    kind: crate::gateway::domain::CertificateKind,
) -> Result<Option<Issuer>, DbError> {
    let row = tx
        .query_opt(
            &tx.prepare_cached(ISSUER).await?,
            &[&session_id, &code, &kind.wire_name()],
        )
        .await?;
    Ok(row.map(|r| Issuer {
        member_id: r.get(0),
        municipality: MunicipalityHeader::new(r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)),
        fee_yen: r.get(6),
        settings_version: r.get(7),
    }))
}
