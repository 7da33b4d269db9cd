//! The municipal registers kofu reads: municipalities, households and
//! residents (住民基本台帳), seal registrations, tax assessments, family
//! registers, and the card-serial → resident links.
//!
//! Rule: the only way from a card to a person is `resident_for_serial`; the
//! records a document shows are read by `session_resident` and
//! [`snapshot`] (one module per register: `residence`, `own_record`, `family_register`) inside
//! the acceptance transaction, under row locks, so a register change is either
//! wholly before the order (and shown) or wholly after it (and not).

pub mod domicile;
pub mod events;
pub mod family_register;
pub mod import;
pub mod options;
pub mod own_record;
pub mod residence;
pub mod status;

pub use options::{OrderOptions, ResidenceOptions};
pub use status::ResidentStatus;

use time::{Date, OffsetDateTime};

use deadpool_postgres::GenericClient;

use crate::gateway::db::{Cached, Client, DbError};
use crate::gateway::domain::{CertFingerprint, CertificateKind};
use crate::gateway::pki::{Credential, VerifiedCard};
use crate::gateway::render::model::{Certificate, DocumentIdentity, MunicipalityHeader, Sex};

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
    /// What authenticated: the card, or a smartphone derived from it.
    pub credential: Credential,
    pub municipality: MunicipalityHeader,
    pub ineligible: Option<Ineligible>,
    /// The seal registration certificate's register says no.
    pub seal: Option<KindRefusal>,
    /// The tax certificate's register says no.
    pub tax: Option<KindRefusal>,
    /// The family register certificates' register says no.
    pub family_register: Option<KindRefusal>,
    /// The municipality's fee per copy for each kind it offers.
    pub fees: Vec<(CertificateKind, i32)>,
    /// The latest fiscal year released for tax certificates, if any.
    pub latest_tax_year: Option<i32>,
    /// Current members of the resident's household (positions 1..=this).
    pub household_size: i64,
    /// The municipality's settings version in force.
    pub settings_version: Option<i32>,
    /// The card's registered-domicile registrations (see `domicile`).
    pub domicile_registrations: Vec<domicile::Registration>,
}

impl CardHolder {
    /// What the register of `kind` says against issuing it (the residence
    /// certificate has none beyond [`Ineligible`]).
    pub fn refusal_for(&self, kind: CertificateKind) -> Option<KindRefusal> {
        match kind {
            CertificateKind::ResidenceCertificate | CertificateKind::ResidenceRecordCertificate => {
                None
            }
            CertificateKind::SealRegistration => self.seal,
            CertificateKind::TaxCertificate => self.tax,
            CertificateKind::FamilyRegisterFull
            | CertificateKind::FamilyRegisterIndividual
            | CertificateKind::FamilyRegisterAddresses => self.family_register,
        }
    }

    /// The fee per copy for `kind`, if the municipality offers it.
    pub fn fee_for(&self, kind: CertificateKind) -> Option<i32> {
        self.fees
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, fee)| *fee)
    }
}

/// What the serial of a verified card leads to.
#[derive(Debug, Clone)]
pub enum HolderLookup {
    /// The linked resident, now bound to the session.
    Found(Box<CardHolder>),
    /// No resident is linked to this serial.
    NotLinked,
    /// The resident's municipality has not gone live (the session is not bound).
    MunicipalityNotLive,
    /// J-LIS suspended the certificate (lost card; certificateHold).
    Suspended,
    /// J-LIS revoked the certificate, or a renewal superseded it.
    Revoked,
    /// No phone certificate with this serial was issued from a card here.
    SmartphoneNotRegistered,
    /// The phone was reported lost or stolen (一時利用停止); its card works on.
    SmartphoneSuspended,
    /// The card it was derived from was renewed, reissued or revoked
    /// (連動して失効): the phone must be registered again.
    SmartphoneSuperseded,
    /// J-LIS revoked the phone's certificate.
    SmartphoneRevoked,
    /// Another copier authenticated this card a moment ago (a card sits in
    /// one copier); the session is not bound.
    InUseElsewhere,
    /// The session was not updated: another copier's, expired, or its
    /// challenge already spent (the caller tells which).
    SessionUnusable,
}

/// One round trip: the serial's J-LIS status, its holder, the
/// municipality's fees, and the session updated: the challenge spent
/// and — only when the certificate is neither suspended nor revoked — the
/// holder bound. Always exactly one row; its last column counts the sessions
/// updated (0: not this copier's, expired, or the challenge not as expected).
///
/// Committed without waiting for the WAL flush (see "Relaxed commits" in
/// [`crate::gateway::db`]): the acceptance that uses the session commits
/// synchronously and so makes this binding durable first.
///
/// `$4` is the challenge the signature was verified over, when the caller
/// held it (the session was opened in this process): the statement spends it
/// only if it is still unspent and equal. NULL when the caller already spent
/// it with its own statement before verifying.
const AUTHENTICATE_HOLDER: &str = "
    WITH presented AS (
        -- $7 is the credential: a card's serial is the card; a phone's
        -- leads to the card it was derived from, and its own status.
        SELECT CASE WHEN $7 = 'smartphone' THEN p.card_serial ELSE $2::bytea END AS serial,
               CASE WHEN $7 <> 'smartphone' THEN NULL
                    WHEN p.serial IS NULL THEN 'not_registered'
                    ELSE p.status END AS phone_status
          FROM (SELECT 1) one
          LEFT JOIN smartphone_links p ON $7 = 'smartphone' AND p.serial = $2),
    card AS (
        SELECT presented.serial,
               -- Why the credential is refused, if it is: a card's own J-LIS
               -- status; a phone's own status, else its card's revocation or
               -- renewal (the cascade; a suspended card leaves it working).
               CASE WHEN $7 <> 'smartphone' THEN status.card_status
                    WHEN presented.phone_status <> 'active' THEN presented.phone_status
                    WHEN status.card_status = 'revoked' THEN 'superseded'
               END AS refusal,
               -- A card sits in one copier, and so do its phones: another
               -- copier's session that authenticated it within $6 seconds
               -- makes it busy there (0 turns the rule off).
               $6::float8 > 0 AND EXISTS (SELECT 1 FROM sessions o
                        WHERE o.card_serial = presented.serial AND o.copier_fingerprint <> $3
                          AND o.authenticated_at > now() - make_interval(secs => $6)
                          AND o.expires_at > now()) AS elsewhere
          FROM presented,
               LATERAL (SELECT (SELECT cs.status FROM certificate_status cs
                                 WHERE cs.serial = presented.serial) AS card_status) status),
    holder AS (
        SELECT r.id, r.status, r.protected, m.code, m.name, m.mayor_title, m.mayor_name, m.seal_text,
               (SELECT json_object_agg(f.kind, f.amount_yen) FROM fees f WHERE f.municipality_code = m.code) AS fees,
               card.refusal,
               -- Bound only to a live municipality's resident.
               r.id IS NOT NULL AND card.refusal IS NULL AND m.live_at IS NOT NULL
                   AND NOT card.elsewhere AS usable,
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
                          AND f.municipality_code = m.code AND f.closed_on IS NULL) AS domicile_here,
               tax.year AS tax_year,
               (SELECT count(*) FROM residents x
                 WHERE x.household_id = r.household_id AND x.status IN ('active', 'moving_out')) AS household_size,
               m.live_at IS NOT NULL AS live,
               m.settings_version,
               -- The card's registered-domicile registrations, the latest with
               -- each municipality, their status read with the 戸籍 now
               -- (`domicile::EFFECTIVE_STATUS`).
               (SELECT coalesce(json_agg(json_build_object(
                           'registration_id', x.id, 'municipality_code', x.municipality_code,
                           'status', x.status, 'ended_reason', x.ended_reason)
                         ORDER BY x.municipality_code), '[]')
                  FROM (SELECT DISTINCT ON (d.municipality_code) d.id, d.municipality_code,
                               CASE WHEN d.status = 'active' AND (fm.removed OR f.closed_on IS NOT NULL)
                                    THEN 'ended' ELSE d.status END AS status,
                               CASE WHEN d.status = 'active' AND (fm.removed OR f.closed_on IS NOT NULL)
                                    THEN 'register_changed' ELSE d.ended_reason END AS ended_reason
                          FROM domicile_registrations d
                          LEFT JOIN family_register_members fm ON fm.id = d.member_id
                          LEFT JOIN family_registers f ON f.id = fm.register_id
                         WHERE d.serial = card.serial
                         ORDER BY d.municipality_code, d.created_at DESC) x) AS domicile_registrations
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
               card_serial = CASE WHEN holder.usable THEN card.serial ELSE s.card_serial END,
               smartphone_serial = CASE WHEN holder.usable AND $7 = 'smartphone' THEN $2
                                        ELSE s.smartphone_serial END,
               credential = CASE WHEN holder.usable THEN $7 ELSE s.credential END,
               authenticated_at = CASE WHEN holder.usable THEN now() ELSE s.authenticated_at END,
               card_issued_on = CASE WHEN holder.usable THEN $5 ELSE s.card_issued_on END
          FROM holder, card
         WHERE s.id = $1 AND s.copier_fingerprint = $3 AND s.expires_at > now()
           AND CASE WHEN $4::bytea IS NULL THEN s.challenge_used_at IS NOT NULL
                    ELSE s.challenge_used_at IS NULL AND s.challenge = $4 END
        RETURNING s.id)
    SELECT holder.*, (SELECT count(*) FROM bound), set_config('synchronous_commit', 'off', true),
           (SELECT elsewhere FROM card)
      FROM holder";

/// The map step: finds the resident a verified card's serial is linked to
/// (a smartphone's: through the card it was derived from, its own status and
/// its card's read together) and binds them to the session (only a [`VerifiedCard`], the proof value
/// verification returns, leads to a person), unless J-LIS has suspended or revoked the certificate (read
/// in the same statement, so an event committed by any process counts).
/// Also returns the municipality's fees. With `challenge`, the
/// session's challenge is spent in the same statement (see
/// [`AUTHENTICATE_HOLDER`]).
pub async fn authenticate_holder(
    client: &Client,
    session_id: uuid::Uuid,
    copier: &CertFingerprint,
    challenge: Option<&[u8; 32]>,
    card: &VerifiedCard,
    exclusive_secs: f64,
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
                copier,
                &challenge.map(|c| c.as_slice()),
                &card_issued_on,
                &exclusive_secs,
                &card.credential().as_str(),
            ],
        )
        .await?;
    if r.get::<_, i64>(23) == 0 {
        return Ok(HolderLookup::SessionUnusable);
    }
    match r.get::<_, Option<&str>>(9) {
        None => {}
        Some(refusal) => {
            return Ok(match (card.credential(), refusal) {
                (Credential::Card, "suspended") => HolderLookup::Suspended,
                (Credential::Card, _) => HolderLookup::Revoked,
                (Credential::Smartphone, "not_registered") => HolderLookup::SmartphoneNotRegistered,
                (Credential::Smartphone, "suspended") => HolderLookup::SmartphoneSuspended,
                (Credential::Smartphone, "superseded") => HolderLookup::SmartphoneSuperseded,
                (Credential::Smartphone, _) => HolderLookup::SmartphoneRevoked,
            });
        }
    }
    let Some(resident_id) = r.get::<_, Option<ResidentId>>(0) else {
        return Ok(HolderLookup::NotLinked);
    };
    if r.get::<_, bool>(25) {
        return Ok(HolderLookup::InUseElsewhere);
    }
    if !r.get::<_, bool>(20) {
        return Ok(HolderLookup::MunicipalityNotLive);
    }
    let holder = CardHolder {
        resident_id,
        credential: card.credential(),
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
        municipality: MunicipalityHeader::new(r.get(3), r.get(4), r.get(5), r.get(6), r.get(7)),
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
        fees: fees_of(r.get(8)),
        latest_tax_year: r.get(18),
        household_size: r.get(19),
        settings_version: r.get(21),
        domicile_registrations: serde_json::from_value(r.get(22))
            .map_err(|_| DbError::Data("domicile registrations do not parse"))?,
    };
    Ok(HolderLookup::Found(Box::new(holder)))
}

/// The fees object (`{kind: yen}`), kinds kofu does not know left out.
pub(crate) fn fees_of(fees: Option<serde_json::Value>) -> Vec<(CertificateKind, i32)> {
    let Some(serde_json::Value::Object(fees)) = fees else {
        return Vec::new();
    };
    CertificateKind::ALL
        .into_iter()
        .filter_map(|kind| {
            let yen = fees.get(kind.wire_name())?.as_i64()?;
            Some((kind, i32::try_from(yen).ok()?))
        })
        .collect()
}

fn sex_of(text: &str) -> Sex {
    if text == "female" {
        Sex::Female
    } else {
        Sex::Male
    }
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

/// The session's authenticated resident, their municipality locked `FOR
/// SHARE` (the first lock of the snapshot, parent before child), and the
/// municipality's fee for `$2`. No row when the session does not exist or
/// is not authenticated; the caller tells those apart.
const SESSION_RESIDENT: &str = "
    SELECT s.copier_fingerprint, s.expires_at > now(), r.id, r.household_id,
           m.code, m.name, m.mayor_title, m.mayor_name, m.seal_text,
           (SELECT f.amount_yen FROM fees f WHERE f.municipality_code = m.code AND f.kind = $2),
           s.card_issued_on IS NOT NULL AND s.card_issued_on >= (now() AT TIME ZONE 'Asia/Tokyo')::date,
           m.settings_version, split_part(s.copier_id, '/', 1), s.credential
      FROM sessions s
      JOIN residents r ON r.id = s.resident_id
      JOIN municipalities m ON m.code = r.municipality_code
     WHERE s.id = $1
       FOR SHARE OF m";
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
    /// The municipality's settings version in force (recorded on the order).
    pub settings_version: Option<i32>,
    /// The store chain of the session's copier (its CN's first part).
    pub store_chain: String,
    /// Which credential authenticated the session.
    pub credential: Credential,
    /// The register entry of an active registered-domicile registration,
    /// when the order is for another municipality's 戸籍 (see `domicile`).
    pub registered_member: Option<i64>,
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
        municipality: MunicipalityHeader::new(
            row.get(4),
            row.get(5),
            row.get(6),
            row.get(7),
            row.get(8),
        ),
        fee_yen: row.get(9),
        card_issued_today: row.get(10),
        settings_version: row.get(11),
        store_chain: row.get(12),
        credential: Credential::parse(row.get(13)).ok_or(DbError::Data(
            "a session's credential is not card or smartphone",
        ))?,
        registered_member: None,
    }))
}

/// Why an order's snapshot could not be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotRefusal {
    Ineligible(Ineligible),
    Kind(KindRefusal),
    /// A chosen household or register position does not exist.
    NoSuchMember,
}

impl From<own_record::OwnRefusal> for SnapshotRefusal {
    fn from(why: own_record::OwnRefusal) -> Self {
        match why {
            own_record::OwnRefusal::Ineligible(why) => SnapshotRefusal::Ineligible(why),
            own_record::OwnRefusal::Kind(why) => SnapshotRefusal::Kind(why),
        }
    }
}

/// Snapshots the certificate an order asks for, inside the acceptance
/// transaction, after [`session_resident`] locked the municipality: every
/// decision the menu showed is made again here.
pub async fn snapshot<C: GenericClient>(
    tx: &C,
    holder: &SessionResident,
    kind: CertificateKind,
    options: &OrderOptions,
    document: DocumentIdentity,
    issued_on: Date,
) -> Result<Result<Certificate, SnapshotRefusal>, DbError> {
    use CertificateKind as K;
    let individual = options::IndividualOptions::default();
    Ok(match (kind, options) {
        (K::ResidenceCertificate, OrderOptions::Residence(o)) => {
            residence::snapshot(tx, holder, o, document, issued_on)
                .await?
                .map(Certificate::Residence)
                .map_err(|why| match why {
                    residence::ResidenceRefusal::Ineligible(why) => {
                        SnapshotRefusal::Ineligible(why)
                    }
                    residence::ResidenceRefusal::NoSuchMember => SnapshotRefusal::NoSuchMember,
                })
        }
        (K::ResidenceRecordCertificate, OrderOptions::ResidenceRecord(o)) => {
            own_record::snapshot_record(tx, holder, o, document, issued_on)
                .await?
                .map(Certificate::ResidenceRecord)
                .map_err(SnapshotRefusal::from)
        }
        (K::SealRegistration, OrderOptions::None(_)) => {
            own_record::snapshot_seal(tx, holder, document, issued_on)
                .await?
                .map(Certificate::Seal)
                .map_err(SnapshotRefusal::from)
        }
        (K::TaxCertificate, OrderOptions::Tax(o)) => {
            own_record::snapshot_tax(tx, holder, o, document, issued_on)
                .await?
                .map(Certificate::Tax)
                .map_err(SnapshotRefusal::from)
        }
        (K::FamilyRegisterIndividual, OrderOptions::FamilyRegisterIndividual(_))
        | (K::FamilyRegisterFull | K::FamilyRegisterAddresses, OrderOptions::None(_)) => {
            let o = match options {
                OrderOptions::FamilyRegisterIndividual(o) => o,
                _ => &individual,
            };
            family_register::snapshot(tx, holder, kind, o, document, issued_on)
                .await?
                .map_err(|why| match why {
                    family_register::RegisterRefusal::Own(why) => SnapshotRefusal::from(why),
                    family_register::RegisterRefusal::NoSuchMember => SnapshotRefusal::NoSuchMember,
                })
        }
        // `OrderOptions::parse` reads the options of the order's own kind.
        _ => Err(SnapshotRefusal::NoSuchMember),
    })
}
