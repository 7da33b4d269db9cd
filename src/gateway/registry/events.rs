//! J-LIS certificate lifecycle events: `issued` (serial → 住民票コード
//! resident code), `renewed` (old serial → new serial), `suspended`
//! (一時保留, certificateHold) and `revoked` of a card's certificate;
//! `signing_reissued` (the card's signing certificate renewed or reissued
//! alone, as on an address change); and the smartphone certificate's
//! `smartphone_issued` (phone serial → the card serial it was derived from),
//! `smartphone_suspended` (一時利用停止, the phone only) and
//! `smartphone_revoked`.
//!
//! The cascade (連動して失効): a card's `renewed`, `revoked` or
//! `signing_reissued` ends every phone derived from it (`superseded`); the
//! authentication statement also reads the card's status with the phone's,
//! so a phone of a card revoked in any way stops at its next authentication.
//! A card's suspension leaves its phones working, and a phone's suspension
//! leaves its card working.
//!
//! Rule: an event is recorded and applied in one transaction, keyed by
//! J-LIS's event id, so it is durable once acknowledged and a repeat is a
//! no-op (the same id with other content is refused). What an event says
//! about a serial lives in `certificate_links` and `certificate_status`,
//! which the authentication reads in the same statement that maps the serial
//! to its resident: an event committed by any gateway process takes effect
//! at that card's next authentication in every process. Nothing here logs a
//! serial or a resident code.

use serde::Deserialize;

use crate::gateway::db::{Cached, Client, DbError};
use crate::gateway::pki::CardSerial;

/// One event as J-LIS sends it (JSON). Serials are hexadecimal, big-endian
/// (leading zero bytes allowed); a resident code is the 11-digit 住民票コード.
/// Which fields a kind needs: `issued` — serial, resident_code; `renewed` —
/// serial (old), new_serial; `suspended` — serial; `revoked` — serial and
/// optionally reason (an RFC 5280 CRL reason, default `unspecified`);
/// `signing_reissued` — serial (the card's); `smartphone_issued` — serial
/// (the phone's) and card_serial; `smartphone_suspended` — serial;
/// `smartphone_revoked` — serial and optionally reason.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateEvent {
    pub event_id: String,
    pub kind: EventKind,
    pub serial: String,
    #[serde(default)]
    pub new_serial: Option<String>,
    #[serde(default)]
    pub resident_code: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub card_serial: Option<String>,
}

/// What happened to a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A new card certificate for a resident.
    Issued,
    /// Renewal or reissue: the new serial takes over the old one's resident,
    /// and the old serial is superseded (refused from now on).
    Renewed,
    /// Lost-card suspension (一時保留, certificateHold). Never lifted.
    Suspended,
    /// Revocation, with its CRL reason.
    Revoked,
    /// The card's signing certificate was renewed or reissued while its
    /// user-authentication certificate stays (an address or name change):
    /// the phones derived from it end.
    SigningReissued,
    /// A smartphone certificate derived from a card (new phone, new serial).
    SmartphoneIssued,
    /// A lost or stolen phone (一時利用停止). Never lifted; the card works on.
    SmartphoneSuspended,
    /// The phone's certificate revoked, with its CRL reason.
    SmartphoneRevoked,
}

/// How an accepted event ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Recorded and applied now.
    Applied,
    /// Recorded earlier with the same content; nothing changed.
    Duplicate,
}

/// Why an event was refused. Nothing was recorded; J-LIS may send it again
/// once the cause is fixed. [`EventError::code`] is the API's stable code.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("event is malformed: {0}")]
    Malformed(&'static str),
    #[error("this event id was already used for another event")]
    EventIdReused,
    #[error("no resident with that resident code is registered here")]
    ResidentNotFound,
    #[error("the serial is not linked to a resident")]
    SerialNotLinked,
    #[error("the serial is already linked to another resident")]
    SerialLinkedElsewhere,
    #[error("the serial is suspended or revoked and cannot be linked or renewed")]
    SerialNotActive,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl EventError {
    pub fn code(&self) -> &'static str {
        match self {
            EventError::Malformed(_) => "event_malformed",
            EventError::EventIdReused => "event_id_reused",
            EventError::ResidentNotFound => "resident_not_found",
            EventError::SerialNotLinked => "serial_not_linked",
            EventError::SerialLinkedElsewhere => "serial_linked_elsewhere",
            EventError::SerialNotActive => "serial_not_active",
            EventError::Db(_) => "database_unavailable",
        }
    }
}

impl From<tokio_postgres::Error> for EventError {
    fn from(e: tokio_postgres::Error) -> Self {
        EventError::Db(e.into())
    }
}

/// The CRL reasons (RFC 5280 §5.3.1) an event may carry.
const REASONS: [&str; 9] = [
    "unspecified",
    "keyCompromise",
    "cACompromise",
    "affiliationChanged",
    "superseded",
    "cessationOfOperation",
    "certificateHold",
    "privilegeWithdrawn",
    "aACompromise",
];

/// An event checked and reduced to what the database needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Checked<'a> {
    pub kind: &'static str,
    pub serial: CardSerial,
    pub new_serial: Option<CardSerial>,
    pub resident_code: Option<&'a str>,
    pub reason: &'a str,
    /// `smartphone_issued`: the card certificate the phone was derived from.
    pub card_serial: Option<CardSerial>,
}

/// A serial as an event writes it: 1 to 20 bytes (after leading zeros) in
/// hexadecimal.
pub(crate) fn serial(hex: &str) -> Result<CardSerial, EventError> {
    let bad = EventError::Malformed("serial must be 1 to 20 bytes of hexadecimal");
    if hex.is_empty() || hex.len() % 2 != 0 || hex.len() > 64 {
        return Err(bad);
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("x"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| EventError::Malformed("serial must be 1 to 20 bytes of hexadecimal"))?;
    CardSerial::from_bytes(&bytes).map_err(|_| bad)
}

impl CertificateEvent {
    /// The event's fields checked against its kind (no database): what
    /// [`apply`] records, or why it is malformed.
    pub(crate) fn check(&self) -> Result<Checked<'_>, EventError> {
        if self.event_id.is_empty()
            || self.event_id.len() > 128
            || !self.event_id.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(EventError::Malformed(
                "event_id must be 1 to 128 printable ASCII characters",
            ));
        }
        let extra = |present: bool, what: &'static str| {
            if present {
                Err(EventError::Malformed(what))
            } else {
                Ok(())
            }
        };
        let serial_ = serial(&self.serial)?;
        if self.kind != EventKind::SmartphoneIssued {
            extra(
                self.card_serial.is_some(),
                "only smartphone_issued takes a card_serial",
            )?;
        }
        let only_serial = |what: &'static str| {
            extra(
                self.new_serial.is_some() || self.resident_code.is_some() || self.reason.is_some(),
                what,
            )
        };
        let reason = || {
            let reason = self.reason.as_deref().unwrap_or("unspecified");
            if REASONS.contains(&reason) {
                Ok(reason)
            } else {
                Err(EventError::Malformed(
                    "reason is not an RFC 5280 CRL reason",
                ))
            }
        };
        Ok(match self.kind {
            EventKind::Issued => {
                extra(self.new_serial.is_some(), "issued takes no new_serial")?;
                extra(self.reason.is_some(), "issued takes no reason")?;
                let code = self.resident_code.as_deref().unwrap_or_default();
                if code.len() != 11 || !code.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(EventError::Malformed("resident_code must be 11 digits"));
                }
                Checked {
                    kind: "issued",
                    serial: serial_,
                    new_serial: None,
                    resident_code: Some(code),
                    reason: "",
                    card_serial: None,
                }
            }
            EventKind::Renewed => {
                extra(
                    self.resident_code.is_some(),
                    "renewed takes no resident_code",
                )?;
                extra(self.reason.is_some(), "renewed takes no reason")?;
                let new = serial(self.new_serial.as_deref().unwrap_or_default())?;
                if new == serial_ {
                    return Err(EventError::Malformed("new_serial equals serial"));
                }
                Checked {
                    kind: "renewed",
                    serial: serial_,
                    new_serial: Some(new),
                    resident_code: None,
                    reason: "superseded",
                    card_serial: None,
                }
            }
            EventKind::Suspended => {
                extra(
                    self.new_serial.is_some()
                        || self.resident_code.is_some()
                        || self.reason.is_some(),
                    "suspended takes only a serial",
                )?;
                Checked {
                    kind: "suspended",
                    serial: serial_,
                    new_serial: None,
                    resident_code: None,
                    reason: "certificateHold",
                    card_serial: None,
                }
            }
            EventKind::Revoked => {
                extra(
                    self.new_serial.is_some() || self.resident_code.is_some(),
                    "revoked takes a serial and a reason",
                )?;
                Checked {
                    kind: "revoked",
                    serial: serial_,
                    new_serial: None,
                    resident_code: None,
                    reason: reason()?,
                    card_serial: None,
                }
            }
            EventKind::SigningReissued => {
                only_serial("signing_reissued takes only a serial")?;
                Checked {
                    kind: "signing_reissued",
                    serial: serial_,
                    new_serial: None,
                    resident_code: None,
                    reason: "superseded",
                    card_serial: None,
                }
            }
            EventKind::SmartphoneIssued => {
                only_serial("smartphone_issued takes a serial and a card_serial")?;
                let card = serial(self.card_serial.as_deref().unwrap_or_default())?;
                Checked {
                    kind: "smartphone_issued",
                    serial: serial_,
                    new_serial: None,
                    resident_code: None,
                    reason: "",
                    card_serial: Some(card),
                }
            }
            EventKind::SmartphoneSuspended => {
                only_serial("smartphone_suspended takes only a serial")?;
                Checked {
                    kind: "smartphone_suspended",
                    serial: serial_,
                    new_serial: None,
                    resident_code: None,
                    reason: "certificateHold",
                    card_serial: None,
                }
            }
            EventKind::SmartphoneRevoked => {
                extra(
                    self.new_serial.is_some() || self.resident_code.is_some(),
                    "smartphone_revoked takes a serial and a reason",
                )?;
                Checked {
                    kind: "smartphone_revoked",
                    serial: serial_,
                    new_serial: None,
                    resident_code: None,
                    reason: reason()?,
                    card_serial: None,
                }
            }
        })
    }

    /// SHA-256 over the event's canonical content (not its JSON spelling).
    pub(crate) fn content_hash(checked: &Checked<'_>) -> Vec<u8> {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        for part in [
            checked.kind.as_bytes(),
            checked.serial.as_bytes(),
            checked
                .new_serial
                .as_ref()
                .map_or(&[][..], |s| s.as_bytes()),
            checked.resident_code.unwrap_or("").as_bytes(),
            checked.reason.as_bytes(),
        ] {
            ctx.update(&(part.len() as u32).to_be_bytes());
            ctx.update(part);
        }
        // Only when present: the hashes of the card's events recorded
        // before smartphones existed stay what they were.
        if let Some(card) = &checked.card_serial {
            ctx.update(&(card.as_bytes().len() as u32).to_be_bytes());
            ctx.update(card.as_bytes());
        }
        ctx.finish().as_ref().to_vec()
    }
}

const RECORD: &str = "
    INSERT INTO certificate_events (event_id, kind, serial, new_serial, request_hash, card_serial)
    VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (event_id) DO NOTHING
    RETURNING event_id";
const RECORDED_HASH: &str = "SELECT request_hash FROM certificate_events WHERE event_id = $1";
const STATUS_OF: &str = "SELECT status FROM certificate_status WHERE serial = $1";
const LINK: &str = "
    INSERT INTO certificate_links (serial, resident_id)
    SELECT $1, id FROM residents WHERE resident_code = $2
    ON CONFLICT (serial) DO NOTHING
    RETURNING resident_id";
const LINKED_TO_CODE: &str = "
    SELECT r.resident_code = $2 FROM certificate_links l JOIN residents r ON r.id = l.resident_id
     WHERE l.serial = $1";
const LINK_RENEWAL: &str = "
    INSERT INTO certificate_links (serial, resident_id)
    SELECT $2, resident_id FROM certificate_links WHERE serial = $1
    ON CONFLICT (serial) DO NOTHING
    RETURNING resident_id";
const LINKED_SAME_AS: &str = "
    SELECT (SELECT resident_id FROM certificate_links WHERE serial = $1)
         = (SELECT resident_id FROM certificate_links WHERE serial = $2)";
const IS_LINKED: &str = "SELECT 1 FROM certificate_links WHERE serial = $1";
/// Suspension never lifts a revocation; revocation overrides a suspension.
const SET_STATUS: &str = "
    INSERT INTO certificate_status (serial, status, reason) VALUES ($1, $2, $3)
    ON CONFLICT (serial) DO UPDATE SET status = excluded.status, reason = excluded.reason, changed_at = now()
     WHERE certificate_status.status = 'suspended' AND excluded.status = 'revoked'";

/// The cascade: every phone derived from card `$1` that still works (or is
/// only suspended) is superseded by the card's renewal, revocation or
/// signing-certificate reissue.
const SUPERSEDE_PHONES: &str = "
    UPDATE smartphone_links SET status = 'superseded', reason = 'superseded', changed_at = now()
     WHERE card_serial = $1 AND status IN ('active', 'suspended')";
const LINK_PHONE: &str = "
    INSERT INTO smartphone_links (serial, card_serial) VALUES ($1, $2)
    ON CONFLICT (serial) DO NOTHING
    RETURNING serial";
const PHONE: &str = "SELECT card_serial, status FROM smartphone_links WHERE serial = $1";
/// A phone's suspension is never lifted and never undoes a revocation or a
/// supersession; a revocation overrides a suspension or a supersession.
const SUSPEND_PHONE: &str = "
    UPDATE smartphone_links SET status = 'suspended', reason = 'certificateHold', changed_at = now()
     WHERE serial = $1 AND status = 'active'";
const REVOKE_PHONE: &str = "
    UPDATE smartphone_links SET status = 'revoked', reason = $2, changed_at = now()
     WHERE serial = $1 AND status <> 'revoked'";

/// Records and applies one event in one transaction.
///
/// # Errors
/// [`EventError`]: a malformed event, a reused event id, or an event that
/// does not fit the registers (unknown resident, unlinked serial, a serial
/// already linked to someone else); nothing is recorded then.
pub async fn apply(client: &mut Client, event: &CertificateEvent) -> Result<Outcome, EventError> {
    let checked = event.check()?;
    let hash = CertificateEvent::content_hash(&checked);
    let tx = client.transaction().await?;
    let recorded = tx
        .query_opt_cached(
            RECORD,
            &[
                &event.event_id,
                &checked.kind,
                &checked.serial.as_bytes(),
                &checked.new_serial.as_ref().map(|s| s.as_bytes()),
                &hash,
                &checked.card_serial.as_ref().map(|s| s.as_bytes()),
            ],
        )
        .await?;
    if recorded.is_none() {
        let row = tx
            .query_one_cached(RECORDED_HASH, &[&event.event_id])
            .await?;
        let earlier: &[u8] = row.get(0);
        return if earlier == hash.as_slice() {
            Ok(Outcome::Duplicate)
        } else {
            Err(EventError::EventIdReused)
        };
    }
    let serial = checked.serial.as_bytes();
    match event.kind {
        EventKind::Issued => {
            if tx.query_opt_cached(STATUS_OF, &[&serial]).await?.is_some() {
                return Err(EventError::SerialNotActive);
            }
            let code = checked.resident_code.unwrap_or_default();
            if tx
                .query_opt_cached(LINK, &[&serial, &code])
                .await?
                .is_none()
            {
                match tx
                    .query_opt_cached(LINKED_TO_CODE, &[&serial, &code])
                    .await?
                {
                    Some(row) if row.get::<_, bool>(0) => {} // already linked to the same resident
                    Some(_) => return Err(EventError::SerialLinkedElsewhere),
                    None => return Err(EventError::ResidentNotFound),
                }
            }
        }
        EventKind::Renewed => {
            let new = checked.new_serial.as_ref().map(|s| s.as_bytes());
            if tx.query_opt_cached(IS_LINKED, &[&serial]).await?.is_none() {
                return Err(EventError::SerialNotLinked);
            }
            if tx.query_opt_cached(STATUS_OF, &[&new]).await?.is_some() {
                return Err(EventError::SerialNotActive);
            }
            if tx
                .query_opt_cached(LINK_RENEWAL, &[&serial, &new])
                .await?
                .is_none()
            {
                let same: Option<bool> = tx
                    .query_one_cached(LINKED_SAME_AS, &[&serial, &new])
                    .await?
                    .get(0);
                if same != Some(true) {
                    return Err(EventError::SerialLinkedElsewhere);
                }
            }
            tx.execute_cached(SET_STATUS, &[&serial, &"revoked", &checked.reason])
                .await?;
            // Registered-domicile registrations are by serial: they move to
            // the new card where the municipality's policy says so, and end
            // otherwise.
            tx.execute_cached(super::domicile::CARRY_ON_RENEWAL, &[&serial, &new])
                .await?;
            tx.execute_cached(super::domicile::END_ON_RENEWAL, &[&serial])
                .await?;
            tx.execute_cached(SUPERSEDE_PHONES, &[&serial]).await?;
        }
        EventKind::Suspended => {
            tx.execute_cached(SET_STATUS, &[&serial, &"suspended", &checked.reason])
                .await?;
        }
        EventKind::Revoked => {
            tx.execute_cached(SET_STATUS, &[&serial, &"revoked", &checked.reason])
                .await?;
            tx.execute_cached(super::domicile::END_ON_REVOCATION, &[&serial])
                .await?;
            tx.execute_cached(SUPERSEDE_PHONES, &[&serial]).await?;
        }
        EventKind::SigningReissued => {
            if tx.query_opt_cached(IS_LINKED, &[&serial]).await?.is_none() {
                return Err(EventError::SerialNotLinked);
            }
            tx.execute_cached(SUPERSEDE_PHONES, &[&serial]).await?;
        }
        EventKind::SmartphoneIssued => {
            let card = checked.card_serial.as_ref().map(|s| s.as_bytes());
            if tx.query_opt_cached(IS_LINKED, &[&card]).await?.is_none() {
                return Err(EventError::SerialNotLinked);
            }
            // A phone is derived from a card that works.
            if tx.query_opt_cached(STATUS_OF, &[&card]).await?.is_some() {
                return Err(EventError::SerialNotActive);
            }
            if tx
                .query_opt_cached(LINK_PHONE, &[&serial, &card])
                .await?
                .is_none()
            {
                let row = tx.query_one_cached(PHONE, &[&serial]).await?;
                if Some(row.get::<_, &[u8]>(0)) != card {
                    return Err(EventError::SerialLinkedElsewhere);
                }
                if row.get::<_, &str>(1) != "active" {
                    return Err(EventError::SerialNotActive);
                }
            }
        }
        EventKind::SmartphoneSuspended | EventKind::SmartphoneRevoked => {
            if tx.query_opt_cached(PHONE, &[&serial]).await?.is_none() {
                return Err(EventError::SerialNotLinked);
            }
            if event.kind == EventKind::SmartphoneSuspended {
                tx.execute_cached(SUSPEND_PHONE, &[&serial]).await?;
            } else {
                tx.execute_cached(REVOKE_PHONE, &[&serial, &checked.reason])
                    .await?;
            }
        }
    }
    tx.commit().await?;
    metrics::counter!(crate::gateway::series::CERTIFICATE_EVENTS, "kind" => checked.kind)
        .increment(1);
    Ok(Outcome::Applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> Result<CertificateEvent, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn every_kind_parses_and_checks() {
        for json in [
            r#"{"event_id":"e1","kind":"issued","serial":"00ab","resident_code":"12345678901"}"#,
            r#"{"event_id":"e2","kind":"renewed","serial":"ab","new_serial":"cd"}"#,
            r#"{"event_id":"e3","kind":"suspended","serial":"01"}"#,
            r#"{"event_id":"e4","kind":"revoked","serial":"01","reason":"keyCompromise"}"#,
            r#"{"event_id":"e5","kind":"revoked","serial":"01"}"#,
            r#"{"event_id":"e6","kind":"signing_reissued","serial":"01"}"#,
            r#"{"event_id":"e7","kind":"smartphone_issued","serial":"02","card_serial":"01"}"#,
            r#"{"event_id":"e8","kind":"smartphone_suspended","serial":"02"}"#,
            r#"{"event_id":"e9","kind":"smartphone_revoked","serial":"02","reason":"keyCompromise"}"#,
            r#"{"event_id":"e10","kind":"smartphone_revoked","serial":"02"}"#,
        ] {
            let e = event(json).unwrap();
            assert!(e.check().is_ok(), "{json}");
        }
    }

    #[test]
    fn malformed_events_are_refused_with_a_stable_code() {
        for json in [
            r#"{"event_id":"","kind":"suspended","serial":"01"}"#,
            r#"{"event_id":"e","kind":"suspended","serial":""}"#,
            r#"{"event_id":"e","kind":"suspended","serial":"0"}"#,
            r#"{"event_id":"e","kind":"suspended","serial":"zz"}"#,
            r#"{"event_id":"e","kind":"suspended","serial":"0000"}"#,
            r#"{"event_id":"e","kind":"suspended","serial":"0102030405060708090a0b0c0d0e0f101112131415"}"#,
            r#"{"event_id":"e","kind":"issued","serial":"01","resident_code":"123"}"#,
            r#"{"event_id":"e","kind":"renewed","serial":"01","new_serial":"0001"}"#,
            r#"{"event_id":"e","kind":"revoked","serial":"01","reason":"because"}"#,
            r#"{"event_id":"e f","kind":"suspended","serial":"01"}"#,
            r#"{"event_id":"e","kind":"suspended","serial":"01","reason":"keyCompromise"}"#,
            r#"{"event_id":"e","kind":"issued","serial":"01"}"#,
            r#"{"event_id":"e","kind":"renewed","serial":"01"}"#,
            r#"{"event_id":"e","kind":"smartphone_issued","serial":"02"}"#,
            r#"{"event_id":"e","kind":"smartphone_issued","serial":"02","card_serial":"zz"}"#,
            r#"{"event_id":"e","kind":"smartphone_issued","serial":"02","card_serial":"01","resident_code":"12345678901"}"#,
            r#"{"event_id":"e","kind":"suspended","serial":"02","card_serial":"01"}"#,
            r#"{"event_id":"e","kind":"smartphone_suspended","serial":"02","reason":"keyCompromise"}"#,
            r#"{"event_id":"e","kind":"smartphone_revoked","serial":"02","reason":"because"}"#,
            r#"{"event_id":"e","kind":"signing_reissued","serial":"02","new_serial":"03"}"#,
        ] {
            let e = event(json).unwrap();
            let err = e.check().err().unwrap_or_else(|| panic!("accepted {json}"));
            assert_eq!(err.code(), "event_malformed", "{json}");
        }
        for json in [
            r#"{"event_id":"e","kind":"reinstated","serial":"01"}"#,
            r#"{"event_id":"e","kind":"suspended"}"#,
            r#"{"event_id":"e","kind":"suspended","serial":"01","extra":1}"#,
            r#"{"event_id":"e","kind":"suspended","serial":1}"#,
        ] {
            assert!(event(json).is_err(), "{json}");
        }
    }

    #[test]
    fn leading_zeros_do_not_change_an_events_identity() {
        let a = event(r#"{"event_id":"e","kind":"suspended","serial":"00ab"}"#).unwrap();
        let b = event(r#"{"event_id":"e","kind":"suspended","serial":"ab"}"#).unwrap();
        let c = event(r#"{"event_id":"e","kind":"suspended","serial":"ac"}"#).unwrap();
        let hash = |e: &CertificateEvent| CertificateEvent::content_hash(&e.check().unwrap());
        assert_eq!(hash(&a), hash(&b));
        assert_ne!(hash(&a), hash(&c));
        // The card a phone is derived from is part of the event's identity.
        let p1 = event(
            r#"{"event_id":"p","kind":"smartphone_issued","serial":"02","card_serial":"01"}"#,
        )
        .unwrap();
        let p2 = event(
            r#"{"event_id":"p","kind":"smartphone_issued","serial":"02","card_serial":"03"}"#,
        )
        .unwrap();
        assert_ne!(hash(&p1), hash(&p2));
    }
}
