//! Municipalities as they run themselves: their settings (names, mayor,
//! seal, fees and the kinds they offer, hours, closed days, maintenance
//! windows, policies), every change kept as a new version, and going live.
//!
//! Rules:
//! - A municipality is named by its [`LocalGovernmentCode`]; a code with a
//!   wrong check digit never reaches the database.
//! - Settings change only as a whole new version (`municipality_settings`),
//!   written in the transaction that updates the current columns the
//!   issuance path reads (`municipalities`, `fees`) under the row's lock.
//!   An acceptance locks that row `FOR SHARE` and records the version in
//!   force on its order, so every order names the settings it was taken
//!   under.
//! - A municipality is created not live: its residents' cards get
//!   `municipality_not_live` until it goes live (`go_live`), which only the
//!   onboarding check may allow.

pub mod cache;
pub mod check;
pub mod code;
pub mod hours;
pub mod settlement;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::gateway::db::{Client, DbError};
use crate::gateway::domain::CertificateKind;
use crate::gateway::render::model::{IssueDate, MunicipalityHeader, SealImage};

pub use cache::SettingsCache;
pub use code::{CodeError, LocalGovernmentCode};
pub use hours::Closed;

/// Everything a municipality sets, as one versioned document. Unknown
/// fields are refused, so a misspelt setting is an error rather than a
/// silent default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// e.g. `みどり市` (printed in the attestation and the header).
    pub name: String,
    /// e.g. `Midori City` (the menu and the verification page in English).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    /// e.g. `東京都`.
    pub prefecture: String,
    /// e.g. `みどり市長`.
    pub mayor_title: String,
    /// e.g. `山田　一郎`.
    pub mayor_name: String,
    /// The text engraved in the municipal seal (公印), e.g. `みどり市長之印`.
    pub seal_text: String,
    /// The municipal seal as a PNG (base64 in JSON; at most 32 KiB, roughly
    /// square, at least 100 px a side), printed in every attestation
    /// instead of the seal drawn from `seal_text`. An order's snapshot
    /// names it by SHA-256; the bytes stay here, in the settings version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal_image_png: Option<SealImage>,
    /// Fee per copy, in yen, of each kind offered: a kind is offered
    /// exactly when it has a fee.
    pub fees: BTreeMap<CertificateKind, i32>,
    /// Service hours per kind (Asia/Tokyo); a kind without an entry has
    /// [`Hours::default`] (06:30–23:00 every day).
    #[serde(default)]
    pub hours: BTreeMap<CertificateKind, Hours>,
    /// Days closed every year, as month-day ranges (inclusive; a range may
    /// wrap the new year). Default: 29 December to 3 January.
    #[serde(default = "ClosedDays::year_end")]
    pub closed_days: Vec<ClosedDays>,
    /// Maintenance windows: no issuance and no registration inside them.
    #[serde(default)]
    pub maintenance: Vec<MaintenanceWindow>,
    #[serde(default)]
    pub policies: Policies,
    /// How the paper is laid out where a municipality may choose.
    #[serde(default, skip_serializing_if = "Layout::is_default")]
    pub layout: Layout,
}

/// The layout options of a municipality's paper.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    /// The issue date in the attestation: `era_and_western` (令和8年(2026年)
    /// 12月4日, the default) or `era` (令和8年12月4日).
    #[serde(default)]
    pub issue_date: IssueDate,
}

impl Layout {
    fn is_default(&self) -> bool {
        *self == Layout::default()
    }
}

/// Opening hours of one kind, Asia/Tokyo, `HH:MM` to `HH:MM`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hours {
    pub open: String,
    pub close: String,
    /// Monday to Friday only (many 戸籍 services), else every day.
    #[serde(default)]
    pub weekdays_only: bool,
}

impl Default for Hours {
    fn default() -> Self {
        Hours {
            open: "06:30".to_owned(),
            close: "23:00".to_owned(),
            weekdays_only: false,
        }
    }
}

/// An inclusive range of days closed every year, `MM-DD` to `MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosedDays {
    pub from: String,
    pub to: String,
}

impl ClosedDays {
    /// 29 December – 3 January, the year-end closure every municipality has.
    pub fn year_end() -> Vec<ClosedDays> {
        vec![ClosedDays {
            from: "12-29".to_owned(),
            to: "01-03".to_owned(),
        }]
    }
}

/// A maintenance window, RFC 3339 instants, `from` inclusive, `to` exclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceWindow {
    #[serde(with = "time::serde::rfc3339")]
    pub from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub to: OffsetDateTime,
}

/// What the municipality decides where the law leaves it a choice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policies {
    /// A registered-domicile registration carries across a card renewal
    /// (the renewal event names the new serial); otherwise it ends.
    #[serde(default)]
    pub domicile_registration_survives_renewal: bool,
}

/// One field of the settings that is wrong, and why (all are reported).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub reason: &'static str,
}

impl Settings {
    /// Every problem with these settings; empty when they can be stored.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut out = Vec::new();
        let mut bad = |field: String, reason| out.push(FieldError { field, reason });
        for (field, value) in [
            ("name", &self.name),
            ("prefecture", &self.prefecture),
            ("mayor_title", &self.mayor_title),
            ("mayor_name", &self.mayor_name),
            ("seal_text", &self.seal_text),
        ] {
            if value.trim().is_empty() {
                bad(field.to_owned(), "required");
            } else if value.chars().count() > 64 || value.chars().any(char::is_control) {
                bad(field.to_owned(), "too_long_or_control_character");
            }
        }
        if let Some(reason) = self
            .seal_image_png
            .as_ref()
            .and_then(|image| crate::gateway::render::seal_image_problem(image.png()))
        {
            bad("seal_image_png".to_owned(), reason);
        }
        if self.fees.is_empty() {
            bad("fees".to_owned(), "no_kind_offered");
        }
        for (kind, yen) in &self.fees {
            if !(0..=10_000).contains(yen) {
                bad(format!("fees.{}", kind.wire_name()), "fee_out_of_range");
            }
        }
        for (kind, hours) in &self.hours {
            let field = format!("hours.{}", kind.wire_name());
            match (minute_of_day(&hours.open), minute_of_day(&hours.close)) {
                (Some(open), Some(close)) if open < close => {}
                (Some(_), Some(_)) => bad(field, "closes_before_it_opens"),
                _ => bad(field, "time_malformed"),
            }
        }
        for (i, days) in self.closed_days.iter().enumerate() {
            if month_day(&days.from).is_none() || month_day(&days.to).is_none() {
                bad(format!("closed_days[{i}]"), "month_day_malformed");
            }
        }
        for (i, window) in self.maintenance.iter().enumerate() {
            if window.to <= window.from {
                bad(format!("maintenance[{i}]"), "ends_before_it_starts");
            }
        }
        out
    }
}

impl Settings {
    /// Dresses a snapshot's municipality header as these settings lay the
    /// paper out: their seal image (by digest, bytes alongside) and date form.
    pub fn dress(&self, header: &mut MunicipalityHeader) {
        header.set_seal_image(self.seal_image_png.as_ref());
        header.issue_date = self.layout.issue_date;
    }
}

/// `HH:MM` as minutes since midnight (`24:00` allowed as the end of a day).
pub fn minute_of_day(text: &str) -> Option<u16> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

/// `MM-DD` as (month, day), the day valid in a leap year.
pub fn month_day(text: &str) -> Option<(u8, u8)> {
    let (m, d) = text.split_once('-')?;
    if m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (m, d): (u8, u8) = (m.parse().ok()?, d.parse().ok()?);
    let month = time::Month::try_from(m).ok()?;
    (d >= 1 && d <= month.length(2024)).then_some((m, d))
}

/// A municipality as the administration API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Municipality {
    pub code: String,
    pub settings_version: i32,
    pub settings: Settings,
    #[serde(with = "time::serde::rfc3339::option")]
    pub live_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Why a settings change was not stored.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("the settings have problems")]
    Invalid(Vec<FieldError>),
    #[error("the municipality already exists")]
    Exists,
    #[error("no such municipality")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<tokio_postgres::Error> for SettingsError {
    fn from(e: tokio_postgres::Error) -> Self {
        SettingsError::Db(e.into())
    }
}

/// Creates municipality `code` with `settings` as version 1, not live.
/// `by` names the operator (their certificate's subject) in the history.
pub async fn create(
    client: &mut Client,
    code: &LocalGovernmentCode,
    settings: &Settings,
    by: &str,
) -> Result<Municipality, SettingsError> {
    let problems = settings.problems();
    if !problems.is_empty() {
        return Err(SettingsError::Invalid(problems));
    }
    let tx = client.transaction().await?;
    // The row's columns are filled in by `write_version`, in this transaction.
    let inserted = tx
        .execute(
            "INSERT INTO municipalities (code, name, prefecture, mayor_title, mayor_name, seal_text, live_at)
             VALUES ($1, '', '', '', '', '', NULL) ON CONFLICT (code) DO NOTHING",
            &[&code.as_str()],
        )
        .await?;
    if inserted == 0 {
        return Err(SettingsError::Exists);
    }
    write_version(&tx, code.as_str(), 1, settings, by).await?;
    tx.commit().await?;
    show(client, code).await?.ok_or(SettingsError::NotFound)
}

/// Replaces the settings of `code` with `settings` as the next version.
/// Settings equal to the current ones change nothing (no new version).
pub async fn update(
    client: &mut Client,
    code: &LocalGovernmentCode,
    settings: &Settings,
    by: &str,
) -> Result<Municipality, SettingsError> {
    let problems = settings.problems();
    if !problems.is_empty() {
        return Err(SettingsError::Invalid(problems));
    }
    let tx = client.transaction().await?;
    // The row lock orders this change against every acceptance (they lock
    // it FOR SHARE): an order sees the old version or the new, whole.
    let Some(row) = tx
        .query_opt(
            "SELECT m.settings_version, s.settings FROM municipalities m
               JOIN municipality_settings s ON s.municipality_code = m.code AND s.version = m.settings_version
              WHERE m.code = $1 FOR UPDATE OF m",
            &[&code.as_str()],
        )
        .await?
    else {
        return Err(SettingsError::NotFound);
    };
    let current: i32 = row.get(0);
    let stored: serde_json::Value = row.get(1);
    if serde_json::from_value::<Settings>(stored).ok().as_ref() == Some(settings) {
        tx.commit().await?;
        return show(client, code).await?.ok_or(SettingsError::NotFound);
    }
    write_version(&tx, code.as_str(), current + 1, settings, by).await?;
    tx.commit().await?;
    show(client, code).await?.ok_or(SettingsError::NotFound)
}

/// Stores version `version` and makes the issuance path's columns
/// (`municipalities`) and table (`fees`) say what it says, inside the
/// caller's transaction.
async fn write_version(
    tx: &tokio_postgres::Transaction<'_>,
    code: &str,
    version: i32,
    settings: &Settings,
    by: &str,
) -> Result<(), SettingsError> {
    tx.execute(
        "UPDATE municipalities SET name = $2, prefecture = $3, mayor_title = $4, mayor_name = $5,
                seal_text = $6, settings_version = $7, updated_at = now()
          WHERE code = $1",
        &[
            &code,
            &settings.name,
            &settings.prefecture,
            &settings.mayor_title,
            &settings.mayor_name,
            &settings.seal_text,
            &version,
        ],
    )
    .await?;
    let document = serde_json::to_value(settings).expect("settings serialise");
    tx.execute(
        "INSERT INTO municipality_settings (municipality_code, version, settings, changed_by)
         VALUES ($1, $2, $3, $4)",
        &[&code, &version, &document, &by],
    )
    .await?;
    tx.execute("DELETE FROM fees WHERE municipality_code = $1", &[&code])
        .await?;
    for (kind, yen) in &settings.fees {
        tx.execute(
            "INSERT INTO fees (municipality_code, kind, amount_yen) VALUES ($1, $2, $3)",
            &[&code, &kind.wire_name(), yen],
        )
        .await?;
    }
    Ok(())
}

/// The municipality with its current settings, if it exists.
pub async fn show(
    client: &Client,
    code: &LocalGovernmentCode,
) -> Result<Option<Municipality>, DbError> {
    let row = client
        .query_opt(
            "SELECT m.settings_version, s.settings, m.live_at, m.created_at FROM municipalities m
               JOIN municipality_settings s ON s.municipality_code = m.code AND s.version = m.settings_version
              WHERE m.code = $1",
            &[&code.as_str()],
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    let settings: serde_json::Value = row.get(1);
    let settings = serde_json::from_value(settings)
        .map_err(|_| DbError::Data("stored municipality settings do not parse"))?;
    Ok(Some(Municipality {
        code: code.as_str().to_owned(),
        settings_version: row.get(0),
        settings,
        live_at: row.get(2),
        created_at: row.get(3),
    }))
}

/// The settings of `code` as they were at `version`.
pub async fn version(
    client: &Client,
    code: &LocalGovernmentCode,
    version: i32,
) -> Result<Option<Settings>, DbError> {
    let row = client
        .query_opt(
            "SELECT settings FROM municipality_settings WHERE municipality_code = $1 AND version = $2",
            &[&code.as_str(), &version],
        )
        .await?;
    row.map(|r| {
        serde_json::from_value(r.get(0))
            .map_err(|_| DbError::Data("stored municipality settings do not parse"))
    })
    .transpose()
}

/// Marks the municipality live (idempotent: the first time stays). The
/// caller has run the onboarding check.
pub async fn go_live(
    client: &Client,
    code: &LocalGovernmentCode,
) -> Result<Option<OffsetDateTime>, DbError> {
    let row = client
        .query_opt(
            "UPDATE municipalities SET live_at = coalesce(live_at, now()) WHERE code = $1 RETURNING live_at",
            &[&code.as_str()],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Settings {
        serde_json::from_value(serde_json::json!({
            "name": "みどり市", "prefecture": "東京都", "mayor_title": "みどり市長",
            "mayor_name": "山田　一郎", "seal_text": "みどり市長之印",
            "fees": {"residence_certificate": 200, "family_register_full": 450},
            "hours": {"family_register_full": {"open": "09:00", "close": "17:00", "weekdays_only": true}}
        }))
        .unwrap()
    }

    #[test]
    fn defaults_close_the_year_end_and_keep_renewal_ending_a_registration() {
        let s = sample();
        assert_eq!(s.closed_days, ClosedDays::year_end());
        assert!(!s.policies.domicile_registration_survives_renewal);
        assert!(s.maintenance.is_empty());
        assert!(s.problems().is_empty(), "{:?}", s.problems());
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let mut s = sample();
        s.mayor_name = " ".to_owned();
        s.fees.insert(CertificateKind::TaxCertificate, -1);
        s.hours.insert(
            CertificateKind::TaxCertificate,
            Hours {
                open: "18:00".to_owned(),
                close: "09:00".to_owned(),
                weekdays_only: false,
            },
        );
        s.hours.insert(
            CertificateKind::SealRegistration,
            Hours {
                open: "9:00".to_owned(),
                close: "25:00".to_owned(),
                weekdays_only: false,
            },
        );
        s.closed_days.push(ClosedDays {
            from: "02-30".to_owned(),
            to: "03-01".to_owned(),
        });
        s.seal_image_png = Some(SealImage::new(b"not a png".to_vec()));
        let fields: Vec<(String, &str)> = s
            .problems()
            .into_iter()
            .map(|p| (p.field, p.reason))
            .collect();
        assert_eq!(
            fields,
            [
                ("mayor_name".to_owned(), "required"),
                ("seal_image_png".to_owned(), "not_a_png"),
                ("fees.tax_certificate".to_owned(), "fee_out_of_range"),
                ("hours.seal_registration".to_owned(), "time_malformed"),
                ("hours.tax_certificate".to_owned(), "closes_before_it_opens"),
                ("closed_days[1]".to_owned(), "month_day_malformed"),
            ]
        );
    }

    #[test]
    fn the_seal_image_and_layout_round_trip_and_default_to_none() {
        let s = sample();
        assert_eq!(s.seal_image_png, None);
        assert_eq!(s.layout.issue_date, IssueDate::EraAndWestern);
        let mut v = serde_json::to_value(&s).unwrap();
        assert!(v.get("seal_image_png").is_none() && v.get("layout").is_none());
        let png = crate::devkit::demo_registers::municipal_seal_png("みどり市");
        v["seal_image_png"] =
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &png).into();
        v["layout"] = serde_json::json!({"issue_date": "era"});
        let back: Settings = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(
            back.seal_image_png.as_ref().map(SealImage::png),
            Some(&png[..])
        );
        assert_eq!(back.layout.issue_date, IssueDate::Era);
        assert!(back.problems().is_empty());
        assert_eq!(serde_json::to_value(&back).unwrap(), v);
        let mut header = MunicipalityHeader::new(
            "131016".into(),
            "みどり市".into(),
            "みどり市長".into(),
            "山田　一郎".into(),
            "みどり市長之印".into(),
        );
        back.dress(&mut header);
        assert_eq!(
            header.seal_image_sha256,
            Some(crate::gateway::render::model::sha256_hex(&png))
        );
        assert_eq!(header.issue_date, IssueDate::Era);
        for (field, bad) in [
            ("seal_image_png", serde_json::json!("not base64!")),
            ("layout", serde_json::json!({"issue_date": "western"})),
            ("layout", serde_json::json!({"date": "era"})),
        ] {
            let mut v = serde_json::to_value(&s).unwrap();
            v[field] = bad;
            assert!(serde_json::from_value::<Settings>(v).is_err(), "{field}");
        }
    }

    #[test]
    fn an_unknown_setting_is_refused_not_ignored() {
        let mut v = serde_json::to_value(sample()).unwrap();
        v["mayor_nmae"] = "x".into();
        assert!(serde_json::from_value::<Settings>(v).is_err());
    }

    #[test]
    fn times_and_days_parse_strictly() {
        assert_eq!(minute_of_day("06:30"), Some(390));
        assert_eq!(minute_of_day("24:00"), Some(1440));
        for bad in ["24:01", "6:30", "06:60", "0630", "ab:cd"] {
            assert_eq!(minute_of_day(bad), None, "{bad}");
        }
        assert_eq!(month_day("02-29"), Some((2, 29)));
        for bad in ["02-30", "13-01", "1-01", "00-10"] {
            assert_eq!(month_day(bad), None, "{bad}");
        }
    }
}
