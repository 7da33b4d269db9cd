//! The menu a resident sees after the card check: what they may get, the
//! options, fees, and why anything is unavailable — in the copier's language.

use serde::Serialize;

use crate::gateway::copier::error::CopierError;
use crate::gateway::domain::CertificateKind;
use crate::gateway::error::Problem;
use crate::gateway::i18n::{Lang, Text, catalogue};
use crate::gateway::municipality::Closed;
use crate::gateway::registry::CardHolder;

#[derive(Debug, Serialize)]
pub struct Menu {
    pub session_id: String,
    pub language: &'static str,
    /// `card` or `smartphone`: what the resident authenticated with (the
    /// copier may say so on its screen).
    pub credential: &'static str,
    pub municipality: MenuMunicipality,
    pub items: Vec<MenuItem>,
    /// The card's registered-domicile registrations, the latest with each
    /// 本籍 municipality: the resident sees their status at every visit.
    pub domicile_registrations: Vec<crate::gateway::registry::domicile::Registration>,
}

#[derive(Debug, Serialize)]
pub struct MenuMunicipality {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct MenuItem {
    pub kind: CertificateKind,
    pub name: &'static str,
    pub available: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee_yen: Option<i32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<MenuOption>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_copies: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// Set on the family-register items of another municipality, which
    /// keeps the resident's 戸籍 (an active registered-domicile
    /// registration): the order names it as its `municipality_code`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub municipality_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub municipality_name: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct MenuOption {
    pub name: &'static str,
    pub label: &'static str,
    /// `boolean`, `integer` (a fiscal year, a register position) or
    /// `positions` (a list of household positions, 1 to `max`).
    #[serde(rename = "type")]
    pub type_: &'static str,
    /// The value when the option is left out (`null`: the resident themself).
    pub default: serde_json::Value,
    /// The largest position that may be chosen (`positions` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct Reason {
    pub code: &'static str,
    pub message: &'static str,
}

/// Largest number of copies per order.
pub const MAX_COPIES: i32 = 10;

/// The kinds, in menu order, with their names.
const KINDS: [(CertificateKind, &Text); 7] = [
    (
        CertificateKind::ResidenceCertificate,
        &catalogue::KIND_RESIDENCE_CERTIFICATE,
    ),
    (
        CertificateKind::ResidenceRecordCertificate,
        &catalogue::KIND_RESIDENCE_RECORD,
    ),
    (
        CertificateKind::SealRegistration,
        &catalogue::KIND_SEAL_REGISTRATION,
    ),
    (
        CertificateKind::TaxCertificate,
        &catalogue::KIND_TAX_CERTIFICATE,
    ),
    (
        CertificateKind::FamilyRegisterFull,
        &catalogue::KIND_FAMILY_REGISTER_FULL,
    ),
    (
        CertificateKind::FamilyRegisterIndividual,
        &catalogue::KIND_FAMILY_REGISTER_INDIVIDUAL,
    ),
    (
        CertificateKind::FamilyRegisterAddresses,
        &catalogue::KIND_FAMILY_REGISTER_ADDRESSES,
    ),
];

/// The residence certificate's yes/no options (`ResidenceOptions`).
const RESIDENCE_OPTIONS: &[(&str, &Text)] = &[
    ("whole_household", &catalogue::OPTION_WHOLE_HOUSEHOLD),
    ("show_householder", &catalogue::OPTION_SHOW_HOUSEHOLDER),
    ("show_domicile", &catalogue::OPTION_SHOW_DOMICILE),
    ("show_my_number", &catalogue::OPTION_SHOW_MY_NUMBER),
    (
        "show_former_surname",
        &catalogue::OPTION_SHOW_FORMER_SURNAME,
    ),
    (
        "show_foreign_resident_fields",
        &catalogue::OPTION_SHOW_FOREIGN_RESIDENT_FIELDS,
    ),
];

/// The items of a 住民票記載事項証明書 (`RecordItems`).
const RECORD_ITEMS: &[(&str, &Text)] = &[
    (
        "show_former_surname",
        &catalogue::OPTION_SHOW_FORMER_SURNAME,
    ),
    ("show_birth_date", &catalogue::OPTION_SHOW_BIRTH_DATE),
    ("show_sex", &catalogue::OPTION_SHOW_SEX),
    ("show_address", &catalogue::OPTION_SHOW_ADDRESS),
    (
        "show_became_resident_on",
        &catalogue::OPTION_SHOW_BECAME_RESIDENT_ON,
    ),
    ("show_householder", &catalogue::OPTION_SHOW_HOUSEHOLDER),
    ("show_domicile", &catalogue::OPTION_SHOW_DOMICILE),
];

fn yes_no(lang: Lang, options: &[(&'static str, &Text)]) -> Vec<MenuOption> {
    options
        .iter()
        .map(|(name, labels)| MenuOption {
            name,
            label: labels.get(lang),
            type_: "boolean",
            default: serde_json::Value::Bool(false),
            max: None,
        })
        .collect()
}

/// The options of `kind` as the copier offers them.
fn options_of(kind: CertificateKind, lang: Lang, holder: &CardHolder) -> Vec<MenuOption> {
    match kind {
        CertificateKind::ResidenceCertificate => {
            let mut options = yes_no(lang, RESIDENCE_OPTIONS);
            options.push(MenuOption {
                name: "members",
                label: catalogue::OPTION_MEMBERS.get(lang),
                type_: "positions",
                default: serde_json::json!([]),
                max: Some(holder.household_size),
            });
            options
        }
        CertificateKind::ResidenceRecordCertificate => yes_no(lang, RECORD_ITEMS),
        CertificateKind::TaxCertificate => vec![MenuOption {
            name: "fiscal_year",
            label: catalogue::OPTION_FISCAL_YEAR.get(lang),
            type_: "integer",
            default: holder.latest_tax_year.into(),
            max: None,
        }],
        CertificateKind::FamilyRegisterIndividual => vec![MenuOption {
            name: "position",
            label: catalogue::OPTION_POSITION.get(lang),
            type_: "integer",
            default: serde_json::Value::Null,
            max: None,
        }],
        CertificateKind::SealRegistration
        | CertificateKind::FamilyRegisterFull
        | CertificateKind::FamilyRegisterAddresses => Vec::new(),
    }
}

/// Builds the menu for `holder`: every kind, available when the
/// municipality offers it (has a fee for it) and nothing says no, otherwise
/// with the reason it is not. `closed` are the kinds the municipality's
/// calendar closes now.
pub fn build(
    lang: Lang,
    session_id: String,
    holder: &CardHolder,
    closed: &[(CertificateKind, Closed)],
) -> Menu {
    let items = KINDS
        .iter()
        .map(|(kind, names)| {
            let closed = closed.iter().find(|(k, _)| k == kind).map(|(_, w)| *w);
            item(
                lang,
                holder,
                (*kind, names),
                holder.fee_for(*kind),
                holder.refusal_for(*kind),
                closed,
                None,
            )
        })
        .collect();
    Menu {
        session_id,
        language: lang.tag(),
        credential: holder.credential.as_str(),
        municipality: MenuMunicipality {
            code: holder.municipality.code.clone(),
            name: holder.municipality.name.clone(),
        },
        items,
        domicile_registrations: Vec::new(),
    }
}

/// The family-register items of a municipality that keeps the resident's
/// 戸籍 through an active registration: its fees and calendar, the
/// resident's own eligibility.
pub fn registered_domicile_items(
    lang: Lang,
    holder: &CardHolder,
    code: &str,
    name: &str,
    fees: &[(CertificateKind, i32)],
    closed: &[(CertificateKind, Closed)],
) -> Vec<MenuItem> {
    KINDS
        .iter()
        .filter(|(kind, _)| kind.is_family_register())
        .map(|(kind, names)| {
            let fee = fees.iter().find(|(k, _)| k == kind).map(|(_, f)| *f);
            let closed = closed.iter().find(|(k, _)| k == kind).map(|(_, w)| *w);
            item(
                lang,
                holder,
                (*kind, names),
                fee,
                None,
                closed,
                Some((code, name)),
            )
        })
        .collect()
}

/// One menu item. Its reason, if any, is the first that applies: the
/// resident, then the kind's own register, then whether the municipality
/// offers the kind at all, then its calendar — each the same code and
/// message an order would be refused with. `issuer` is another
/// municipality's (code, name), for a registered domicile's items.
fn item(
    lang: Lang,
    holder: &CardHolder,
    (kind, names): (CertificateKind, &Text),
    fee: Option<i32>,
    refusal: Option<crate::gateway::registry::KindRefusal>,
    closed: Option<Closed>,
    issuer: Option<(&str, &str)>,
) -> MenuItem {
    let refused = if let Some(why) = holder.ineligible {
        Some(CopierError::from(why))
    } else if let Some(why) = refusal {
        Some(CopierError::from(why))
    } else if fee.is_none() {
        Some(CopierError::KindNotOffered)
    } else {
        closed.map(CopierError::from)
    };
    let reason = refused.map(|refusal| {
        let problem = Problem::from(refusal);
        Reason {
            code: problem.code,
            message: problem.detail(lang),
        }
    });
    let available = reason.is_none();
    MenuItem {
        kind,
        name: names.get(lang),
        available,
        fee_yen: fee,
        options: if available {
            options_of(kind, lang, holder)
        } else {
            Vec::new()
        },
        max_copies: available.then_some(MAX_COPIES),
        reason,
        municipality_code: issuer.map(|(code, _)| code.to_owned()),
        municipality_name: issuer.map(|(_, name)| name.to_owned()),
    }
}
