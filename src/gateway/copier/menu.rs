//! The menu a resident sees after the card check: what they may get, the
//! options, fees, and why anything is unavailable — in the copier's language.

use serde::Serialize;

use crate::gateway::copier::error::CopierError;
use crate::gateway::domain::CertificateKind;
use crate::gateway::error::Problem;
use crate::gateway::i18n::{Lang, Text, catalogue};
use crate::gateway::registry::CardHolder;

#[derive(Debug, Serialize)]
pub struct Menu {
    pub session_id: String,
    pub language: &'static str,
    pub municipality: MenuMunicipality,
    pub items: Vec<MenuItem>,
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
}

#[derive(Debug, Serialize)]
pub struct MenuOption {
    pub name: &'static str,
    pub label: &'static str,
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub default: bool,
}

#[derive(Debug, Serialize)]
pub struct Reason {
    pub code: &'static str,
    pub message: &'static str,
}

/// Largest number of copies per order.
pub const MAX_COPIES: i32 = 10;

/// The kinds, in menu order, with their names.
const KINDS: &[(CertificateKind, &Text)] = &[
    (
        CertificateKind::ResidenceCertificate,
        &catalogue::KIND_RESIDENCE_CERTIFICATE,
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
        CertificateKind::FamilyRegister,
        &catalogue::KIND_FAMILY_REGISTER,
    ),
];

/// The residence certificate's options (`ResidenceOptions`) with their labels.
const OPTIONS: &[(&str, &Text)] = &[
    ("whole_household", &catalogue::OPTION_WHOLE_HOUSEHOLD),
    ("show_householder", &catalogue::OPTION_SHOW_HOUSEHOLDER),
    ("show_domicile", &catalogue::OPTION_SHOW_DOMICILE),
    ("show_my_number", &catalogue::OPTION_SHOW_MY_NUMBER),
];

/// Builds the menu for `holder`: the residence certificate when the
/// municipality offers it (`residence_fee`) and the resident is eligible, the
/// other kinds with the reason they are not.
pub fn build(
    lang: Lang,
    session_id: String,
    holder: &CardHolder,
    residence_fee: Option<i32>,
) -> Menu {
    // The same code and message an order would be refused with.
    let reason_of = |refusal: CopierError| {
        let problem = Problem::from(refusal);
        Reason {
            code: problem.code,
            message: problem.detail(lang),
        }
    };
    let items = KINDS
        .iter()
        .map(|(kind, names)| {
            let offered = kind.is_issued() && residence_fee.is_some();
            // The resident first, then the kind's own register, then
            // whether kofu offers the kind at all.
            let reason = if let Some(why) = holder.ineligible {
                Some(reason_of(CopierError::from(why)))
            } else if let Some(why) = holder.refusal_for(*kind) {
                Some(reason_of(CopierError::from(why)))
            } else if !offered {
                Some(Reason {
                    code: "kind_not_offered",
                    message: catalogue::REASON_KIND_NOT_OFFERED.get(lang),
                })
            } else {
                None
            };
            let available = reason.is_none();
            MenuItem {
                kind: *kind,
                name: names.get(lang),
                available,
                fee_yen: if offered { residence_fee } else { None },
                options: if available {
                    OPTIONS
                        .iter()
                        .map(|(name, labels)| MenuOption {
                            name,
                            label: labels.get(lang),
                            type_: "boolean",
                            default: false,
                        })
                        .collect()
                } else {
                    Vec::new()
                },
                max_copies: available.then_some(MAX_COPIES),
                reason,
            }
        })
        .collect();
    Menu {
        session_id,
        language: lang.tag(),
        municipality: MenuMunicipality {
            code: holder.municipality.code.clone(),
            name: holder.municipality.name.clone(),
        },
        items,
    }
}
