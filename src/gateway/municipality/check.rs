//! The onboarding check: is a municipality ready to serve its residents?
//! It validates the settings, counts what the registers hold, and for every
//! kind offered takes a sample resident's snapshot and renders and signs
//! it exactly as an order would — in a transaction rolled back, so nothing
//! is issued and no ticket is taken. A municipality goes live only when
//! every check passes.
//!
//! Rule: a check's detail names counts and codes, never a resident.

use serde::Serialize;
use time::OffsetDateTime;
use time::macros::offset;

use super::{LocalGovernmentCode, show};
use crate::gateway::db::{Client, DbError};
use crate::gateway::domain::{CertFingerprint, CertificateKind};
use crate::gateway::registry::{self, OrderOptions, SessionResident};
use crate::gateway::render::Renderer;
use crate::gateway::render::model::{DocumentIdentity, MunicipalityHeader};
use crate::gateway::render::signing::Signing;
use crate::gateway::signing::VerificationCode;
use crate::gateway::state::AppState;

/// One line of the checklist.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// e.g. `settings`, `residents`, `signing_key`, `render.seal_registration`.
    pub name: String,
    pub passed: bool,
    /// What was found, or what is missing (counts, codes; no personal data).
    pub detail: String,
}

/// The whole checklist of one municipality.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub code: String,
    pub passed: bool,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.passed
    }
}

fn check(name: impl Into<String>, passed: bool, detail: impl Into<String>) -> Check {
    Check {
        name: name.into(),
        passed,
        detail: detail.into(),
    }
}

/// A sample resident for whom `kind` applies: active, not protected, and
/// with the kind's own register entry. For the family-register kinds, a
/// member of an open register kept here who is a resident anywhere kofu
/// serves (one living here first): many of the people whose 本籍 is here
/// live elsewhere, and reach its registers through a registered-domicile
/// registration. The third column is that member's entry.
fn sample_query(kind: CertificateKind) -> &'static str {
    use CertificateKind as K;
    match kind {
        K::ResidenceCertificate | K::ResidenceRecordCertificate => {
            "SELECT r.id, r.household_id, NULL::bigint FROM residents r
              WHERE r.municipality_code = $1 AND r.status = 'active' AND NOT r.protected
                AND NOT EXISTS (SELECT 1 FROM residents x WHERE x.household_id = r.household_id
                                   AND (x.protected OR x.status = 'moving_out'))
              ORDER BY r.id LIMIT 1"
        }
        K::SealRegistration => {
            "SELECT r.id, r.household_id, NULL::bigint FROM residents r
               JOIN seal_registrations s ON s.resident_id = r.id AND s.abolished_on IS NULL
              WHERE r.municipality_code = $1 AND r.status = 'active' AND NOT r.protected
              ORDER BY r.id LIMIT 1"
        }
        K::TaxCertificate => {
            "SELECT r.id, r.household_id, NULL::bigint FROM residents r
               JOIN tax_assessments a ON a.resident_id = r.id AND a.resident_on_january_1
              WHERE r.municipality_code = $1 AND r.status = 'active' AND NOT r.protected
                AND a.fiscal_year = (SELECT max(t.fiscal_year) FROM tax_year_releases t
                                      WHERE t.municipality_code = $1
                                        AND t.released_on <= (now() AT TIME ZONE 'Asia/Tokyo')::date)
              ORDER BY r.id LIMIT 1"
        }
        K::FamilyRegisterFull | K::FamilyRegisterIndividual | K::FamilyRegisterAddresses => {
            "SELECT r.id, r.household_id, fm.id FROM family_register_members fm
               JOIN family_registers f ON f.id = fm.register_id AND f.closed_on IS NULL
                                      AND f.municipality_code = $1
               JOIN residents r ON r.resident_code = fm.resident_code
              WHERE NOT fm.removed AND r.status = 'active' AND NOT r.protected
              ORDER BY r.municipality_code = $1 DESC, r.id LIMIT 1"
        }
    }
}

/// Runs every check of municipality `code`.
pub async fn run(
    client: &Client,
    state: &AppState,
    code: &LocalGovernmentCode,
) -> Result<Report, DbError> {
    let mut checks = Vec::new();
    let Some(municipality) = show(client, code).await? else {
        checks.push(check("municipality", false, "not created"));
        return Ok(finish(code, checks));
    };
    let settings = &municipality.settings;
    let problems = settings.problems();
    checks.push(check(
        "settings",
        problems.is_empty(),
        if problems.is_empty() {
            format!("version {}", municipality.settings_version)
        } else {
            problems
                .iter()
                .map(|p| format!("{}: {}", p.field, p.reason))
                .collect::<Vec<_>>()
                .join(", ")
        },
    ));
    let counts = client
        .query_one(
            "SELECT (SELECT count(*) FROM residents WHERE municipality_code = $1 AND status = 'active'),
                    (SELECT count(*) FROM households WHERE municipality_code = $1),
                    (SELECT count(*) FROM certificate_links l JOIN residents r ON r.id = l.resident_id
                      WHERE r.municipality_code = $1)",
            &[&code.as_str()],
        )
        .await?;
    let (residents, households, linked): (i64, i64, i64) =
        (counts.get(0), counts.get(1), counts.get(2));
    checks.push(check(
        "residents",
        residents > 0,
        format!("{residents} active residents in {households} households"),
    ));
    checks.push(check(
        "card_links",
        linked > 0,
        format!("{linked} card serials linked (J-LIS events)"),
    ));
    let kid: Option<String> = client
        .query_opt(
            "SELECT kid FROM signing_keys WHERE municipality_code = $1
                AND retired_at IS NULL AND revoked_at IS NULL",
            &[&code.as_str()],
        )
        .await?
        .map(|r| r.get(0));
    let keys = state.pipeline.keys();
    let signer = match &kid {
        Some(kid) => keys.signer(client, kid).await.ok(),
        None => None,
    };
    checks.push(check(
        "signing_key",
        signer.is_some(),
        match (&kid, &signer) {
            (None, _) => "no current key".to_owned(),
            (Some(kid), None) => format!("{kid} does not unseal under this gateway's secret"),
            (Some(kid), Some(_)) => format!("{kid} current and usable"),
        },
    ));
    let mut header = MunicipalityHeader::new(
        code.as_str().to_owned(),
        settings.name.clone(),
        settings.mayor_title.clone(),
        settings.mayor_name.clone(),
        settings.seal_text.clone(),
    );
    settings.dress(&mut header);
    let verify_url = state.pipeline.settings().verify_url.clone();
    for (&kind, &fee) in &settings.fees {
        let name = format!("render.{}", kind.wire_name());
        let Some(row) = client
            .query_opt(sample_query(kind), &[&code.as_str()])
            .await?
        else {
            let missing = if kind.is_family_register() {
                "no member of an open register here is a resident kofu serves yet"
            } else {
                "no resident this kind applies to yet"
            };
            checks.push(check(name, false, missing));
            continue;
        };
        let holder = SessionResident {
            copier_fingerprint: CertFingerprint::of_der(b"onboarding check"),
            expired: false,
            resident_id: row.get(0),
            household_id: row.get(1),
            municipality: header.clone(),
            fee_yen: Some(fee),
            card_issued_today: false,
            settings_version: Some(municipality.settings_version),
            store_chain: "onboarding-check".to_owned(),
            credential: crate::gateway::pki::Credential::Card,
            // The entry itself, as a registered-domicile order names it.
            registered_member: row.get(2),
        };
        let outcome = render_sample(client, &holder, kind, signer.as_deref(), &verify_url).await?;
        checks.push(match outcome {
            Ok((pages, bytes)) => check(name, true, format!("{pages} page(s), {bytes} bytes")),
            Err(why) => check(name, false, why),
        });
    }
    Ok(finish(code, checks))
}

fn finish(code: &LocalGovernmentCode, checks: Vec<Check>) -> Report {
    Report {
        code: code.as_str().to_owned(),
        passed: checks.iter().all(|c| c.passed),
        checks,
    }
}

/// The sample's snapshot, taken in a transaction that is rolled back, then
/// rendered and signed: its page count and size, or why it failed.
async fn render_sample(
    client: &Client,
    holder: &SessionResident,
    kind: CertificateKind,
    signer: Option<&crate::gateway::render::signing::Ed25519Signer>,
    verify_url: &str,
) -> Result<Result<(usize, usize), String>, DbError> {
    let options = OrderOptions::parse(kind, None).expect("no options parse for every kind");
    let document = DocumentIdentity {
        order_id: uuid::Uuid::nil(),
        ticket: 0,
        document_number: format!("KF-{}-CHECK", holder.municipality.code),
        verification_code: VerificationCode::random().to_string(),
    };
    let issued_at = OffsetDateTime::now_utc().to_offset(offset!(+9));
    // Rolled back whatever happens: the snapshot's share locks are held for
    // the moment it takes, and nothing it could write stays.
    client.batch_execute("BEGIN").await?;
    let snapshot =
        registry::snapshot(client, holder, kind, &options, document, issued_at.date()).await;
    client.batch_execute("ROLLBACK").await?;
    let certificate = match snapshot? {
        Ok(c) => c,
        Err(why) => return Ok(Err(format!("the sample is refused: {why:?}"))),
    };
    if let Some(field) = Renderer::global().unprintable(&certificate) {
        return Ok(Err(format!("a field the font cannot draw: {field:?}")));
    }
    let Some(signer) = signer else {
        return Ok(Err("no usable signing key to sign with".to_owned()));
    };
    Ok(Renderer::global()
        .render_signed(
            &certificate,
            &Signing {
                signer,
                issued_at,
                verify_base: verify_url,
            },
        )
        .map(|d| (d.page_count as usize, d.pdf.len()))
        .map_err(|e| format!("render failed: {e}")))
}
