//! What a resident chose to print, per kind: the `options` of an order,
//! read strictly (an unknown or mistyped option is `invalid_options`) and
//! stored with the order as the typed value.
//!
//! Rule: an option only ever narrows or widens what the resident's own
//! registers show; it never names a register row by id. Household members and
//! register members are chosen by their position (1 = the first listed).

use serde::{Deserialize, Serialize};

use crate::gateway::domain::CertificateKind;

/// The most positions one order may choose (a household or register's size bound).
pub const MAX_POSITIONS: usize = 100;

/// 住民票の写し. Every option may be left out: off (the resident alone).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResidenceOptions {
    /// 世帯全員 instead of the resident alone.
    pub whole_household: bool,
    /// 世帯主・続柄
    pub show_householder: bool,
    /// 本籍・筆頭者
    pub show_domicile: bool,
    /// 個人番号
    pub show_my_number: bool,
    /// 旧氏, for each person shown who has one recorded.
    #[serde(default)]
    pub show_former_surname: bool,
    /// 国籍・地域, 在留カード等の番号, 在留資格, 在留期間 (foreign residents).
    #[serde(default)]
    pub show_foreign_resident_fields: bool,
    /// Chosen household members by position in the household (1-based);
    /// empty: the resident alone (or everyone, with `whole_household`).
    #[serde(default)]
    pub members: Vec<u16>,
}

/// 住民票記載事項証明書: the items to certify beside the name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecordItems {
    pub show_former_surname: bool,
    pub show_birth_date: bool,
    pub show_sex: bool,
    pub show_address: bool,
    pub show_became_resident_on: bool,
    pub show_householder: bool,
    pub show_domicile: bool,
}

/// 課税・所得証明書: the fiscal year (default: the latest released).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TaxOptions {
    pub fiscal_year: Option<i32>,
}

/// 戸籍個人事項証明書: the member by position in the register (default: the resident).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndividualOptions {
    pub position: Option<u16>,
}

/// Kinds with nothing to choose: only `{}` is accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoOptions {}

/// An order's options, of the order's kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum OrderOptions {
    Residence(ResidenceOptions),
    ResidenceRecord(RecordItems),
    Tax(TaxOptions),
    FamilyRegisterIndividual(IndividualOptions),
    /// 印鑑登録証明書, 戸籍全部事項証明書, 戸籍の附票の写し.
    None(NoOptions),
}

/// The options are not what the kind takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidOptions;

impl OrderOptions {
    /// Reads `value` (absent: `null`) as the options of `kind`.
    ///
    /// # Errors
    /// [`InvalidOptions`] for an unknown option, a wrong type, or a choice
    /// that contradicts itself (members chosen with the whole household, a
    /// position repeated or out of range).
    pub fn parse(
        kind: CertificateKind,
        value: Option<serde_json::Value>,
    ) -> Result<OrderOptions, InvalidOptions> {
        use CertificateKind as K;
        use serde_json::from_value;
        // Left out, every option is off (the residence certificate's too).
        let Some(value) = value else {
            return Ok(match kind {
                K::ResidenceCertificate => OrderOptions::Residence(ResidenceOptions::default()),
                K::ResidenceRecordCertificate => {
                    OrderOptions::ResidenceRecord(RecordItems::default())
                }
                K::TaxCertificate => OrderOptions::Tax(TaxOptions::default()),
                K::FamilyRegisterIndividual => {
                    OrderOptions::FamilyRegisterIndividual(IndividualOptions::default())
                }
                K::SealRegistration | K::FamilyRegisterFull | K::FamilyRegisterAddresses => {
                    OrderOptions::None(NoOptions::default())
                }
            });
        };
        // An object of the kind's options: serde would also read a struct
        // from an array (its fields in order), which no copier means.
        if !value.is_object() {
            return Err(InvalidOptions);
        }
        let parsed = match kind {
            K::ResidenceCertificate => {
                OrderOptions::Residence(from_value(value).map_err(|_| InvalidOptions)?)
            }
            K::ResidenceRecordCertificate => {
                OrderOptions::ResidenceRecord(from_value(value).map_err(|_| InvalidOptions)?)
            }
            K::TaxCertificate => OrderOptions::Tax(from_value(value).map_err(|_| InvalidOptions)?),
            K::FamilyRegisterIndividual => OrderOptions::FamilyRegisterIndividual(
                from_value(value).map_err(|_| InvalidOptions)?,
            ),
            K::SealRegistration | K::FamilyRegisterFull | K::FamilyRegisterAddresses => {
                OrderOptions::None(from_value(value).map_err(|_| InvalidOptions)?)
            }
        };
        match &parsed {
            OrderOptions::Residence(o) => {
                let mut seen = std::collections::HashSet::new();
                let positions_ok = o.members.len() <= MAX_POSITIONS
                    && o.members
                        .iter()
                        .all(|&p| (1..=MAX_POSITIONS as u16).contains(&p) && seen.insert(p));
                if !positions_ok || (o.whole_household && !o.members.is_empty()) {
                    return Err(InvalidOptions);
                }
            }
            OrderOptions::Tax(TaxOptions {
                fiscal_year: Some(year),
            }) if !(1989..=2200).contains(year) => return Err(InvalidOptions),
            OrderOptions::FamilyRegisterIndividual(IndividualOptions { position: Some(p) })
                if !(1..=MAX_POSITIONS as u16).contains(p) =>
            {
                return Err(InvalidOptions);
            }
            _ => {}
        }
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Regression: `"options": []` was read as every option off (serde reads
    /// a struct from a sequence) and an order was placed.
    #[test]
    fn options_that_are_not_an_object_are_refused_for_every_kind() {
        for kind in CertificateKind::ALL {
            for value in [
                json!([]),
                json!([true]),
                json!("all"),
                json!(1),
                json!(true),
            ] {
                assert!(
                    OrderOptions::parse(kind, Some(value.clone())).is_err(),
                    "{kind:?} took {value}"
                );
            }
            assert!(
                OrderOptions::parse(kind, Some(json!({}))).is_ok(),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn each_kind_reads_its_own_options_and_refuses_others() {
        let residence = json!({"whole_household": false, "show_householder": true,
                               "show_domicile": false, "show_my_number": false});
        assert!(
            OrderOptions::parse(
                CertificateKind::ResidenceCertificate,
                Some(residence.clone())
            )
            .is_ok()
        );
        assert_eq!(
            OrderOptions::parse(CertificateKind::SealRegistration, Some(residence)),
            Err(InvalidOptions)
        );
        assert!(OrderOptions::parse(CertificateKind::SealRegistration, None).is_ok());
        assert!(OrderOptions::parse(CertificateKind::FamilyRegisterFull, Some(json!({}))).is_ok());
        // Every option may be left out; an unknown one is refused.
        assert_eq!(
            OrderOptions::parse(
                CertificateKind::ResidenceCertificate,
                Some(json!({"show_householder": true}))
            ),
            Ok(OrderOptions::Residence(ResidenceOptions {
                show_householder: true,
                ..ResidenceOptions::default()
            }))
        );
        assert_eq!(
            OrderOptions::parse(
                CertificateKind::ResidenceCertificate,
                Some(json!({"show_householder": true, "show_photo": true}))
            ),
            Err(InvalidOptions)
        );
        assert_eq!(
            OrderOptions::parse(
                CertificateKind::TaxCertificate,
                Some(json!({"fiscal_year": "2025"}))
            ),
            Err(InvalidOptions)
        );
        assert_eq!(
            OrderOptions::parse(
                CertificateKind::TaxCertificate,
                Some(json!({"fiscal_year": 1900}))
            ),
            Err(InvalidOptions)
        );
        assert_eq!(
            OrderOptions::parse(
                CertificateKind::ResidenceRecordCertificate,
                Some(json!({"show_photo": true}))
            ),
            Err(InvalidOptions)
        );
        assert_eq!(
            OrderOptions::parse(
                CertificateKind::FamilyRegisterIndividual,
                Some(json!({"position": 0}))
            ),
            Err(InvalidOptions)
        );
    }

    #[test]
    fn every_residence_option_may_be_left_out_and_is_then_off() {
        assert_eq!(
            OrderOptions::parse(CertificateKind::ResidenceCertificate, Some(json!({}))),
            Ok(OrderOptions::Residence(ResidenceOptions::default()))
        );
        assert_eq!(
            OrderOptions::parse(
                CertificateKind::ResidenceCertificate,
                Some(json!({"show_householder": true}))
            ),
            Ok(OrderOptions::Residence(ResidenceOptions {
                show_householder: true,
                ..ResidenceOptions::default()
            }))
        );
        assert_eq!(
            OrderOptions::parse(
                CertificateKind::ResidenceCertificate,
                Some(json!({"show_photo": true}))
            ),
            Err(InvalidOptions)
        );
    }

    #[test]
    fn chosen_members_are_distinct_positions_and_exclude_the_whole_household() {
        let with = |members: serde_json::Value, whole: bool| {
            OrderOptions::parse(
                CertificateKind::ResidenceCertificate,
                Some(json!({"whole_household": whole, "show_householder": false,
                            "show_domicile": false, "show_my_number": false, "members": members})),
            )
        };
        assert!(with(json!([1, 3]), false).is_ok());
        assert_eq!(with(json!([1, 1]), false), Err(InvalidOptions));
        assert_eq!(with(json!([0]), false), Err(InvalidOptions));
        assert_eq!(with(json!([2]), true), Err(InvalidOptions));
        assert_eq!(with(json!([-1]), false), Err(InvalidOptions));
    }
}
