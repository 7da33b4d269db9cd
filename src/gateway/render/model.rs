//! What a certificate shows: the data the renderer turns into a PDF.
//!
//! Rule: these values are a snapshot taken inside the transaction that accepted
//! the order (see `pipeline`), so a document never mixes register states. The
//! renderer reads nothing else.
//!
//! This module is the one place the model is named from outside `render`:
//! the residence certificate's types, each kind's type (defined beside its
//! form), what they share (`parts`), and [`Certificate`], the enum over them.

use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

pub(super) use super::parts::sex_label;
pub use super::parts::{
    DocumentIdentity, Domicile, IssueDate, MunicipalityHeader, SealImage, Sex, sha256_hex,
};

/// A foreign resident's items (外国人住民), printed only when chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignResident {
    /// 国籍・地域
    pub nationality: String,
    /// 在留カード等の番号
    pub residence_card_number: String,
    /// 在留資格
    pub status_of_residence: String,
    /// 在留期間
    pub period_of_stay: String,
    /// 在留期間の満了の日
    pub expires_on: Date,
}

/// One person's rows on a residence certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidentRecord {
    /// 氏名
    pub name: String,
    /// ふりがな
    pub name_kana: String,
    pub birth_date: Date,
    pub sex: Sex,
    /// 続柄 (relationship to the householder), only when chosen.
    pub relationship: Option<String>,
    /// 住民となった年月日
    pub became_resident_on: Date,
    /// 本籍・筆頭者, only when chosen.
    pub domicile: Option<Domicile>,
    /// 個人番号 (12 digits), only when chosen and allowed.
    pub my_number: Option<String>,
    /// 旧氏, only when chosen and recorded.
    #[serde(default)]
    pub former_surname: Option<String>,
    /// The foreign-resident items, only when chosen (foreign residents only).
    #[serde(default)]
    pub foreign: Option<ForeignResident>,
}

/// 住民票の写し (residence certificate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidenceCertificate {
    pub municipality: MunicipalityHeader,
    pub document: DocumentIdentity,
    /// Issue date, evaluated in Asia/Tokyo.
    pub issued_on: Date,
    /// 住所
    pub address: String,
    /// 世帯主 name, only when chosen.
    pub householder: Option<String>,
    /// True when the certificate lists the whole household (世帯全員).
    pub whole_household: bool,
    /// The people shown, in register order.
    pub members: Vec<ResidentRecord>,
}

impl ResidenceCertificate {
    /// An invented certificate with `members` people (ひなた市), for
    /// benchmarks and tests.
    pub fn sample(members: usize) -> ResidenceCertificate {
        use time::macros::date;
        const GIVEN: [&str; 7] = ["太郎", "花子", "一郎", "二郎", "三郎", "四郎", "五郎"];
        ResidenceCertificate {
            municipality: MunicipalityHeader::new(
                "139998".into(),
                "ひなた市".into(),
                "ひなた市長".into(),
                "日向　陽一".into(),
                "ひなた市長之印".into(),
            ),
            document: DocumentIdentity {
                order_id: Uuid::nil(),
                ticket: 42,
                document_number: "KF-139998-000000042".into(),
                verification_code: "7K3M-Q9XD-2HVA-P".into(),
            },
            issued_on: date!(2026 - 11 - 22),
            address: "東京都ひなた市日向町一丁目2番3号".into(),
            householder: Some("日向　太郎".into()),
            whole_household: members > 1,
            members: (0..members)
                .map(|i| ResidentRecord {
                    name: format!("日向　{}", GIVEN[i % GIVEN.len()]),
                    name_kana: "ひなた　たろう".into(),
                    birth_date: date!(1980 - 04 - 01),
                    sex: if i % 2 == 0 { Sex::Male } else { Sex::Female },
                    relationship: Some("子".into()),
                    became_resident_on: date!(2010 - 06 - 15),
                    domicile: None,
                    my_number: None,
                    former_surname: None,
                    foreign: None,
                })
                .collect(),
        }
    }
}

pub use super::family_register::{
    EventKind, FamilyRegisterCertificate, RegisterEvent, RegisterMember, Scope,
};
pub use super::family_register_addresses::{
    AddressEntry, AddressHistory, AddressHistoryCertificate,
};
pub use super::residence_record::ResidenceRecordCertificate;
pub use super::seal::SealCertificate;
pub use super::tax::{Deduction, DeductionKind, IncomeItem, IncomeKind, TaxCertificate};

use crate::gateway::domain::CertificateKind;

/// A certificate of any kind, as its order's snapshot holds it. Stored as
/// the kind's own model (the order row names the kind), so a snapshot holds
/// nothing its kind does not print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Certificate {
    Residence(ResidenceCertificate),
    ResidenceRecord(ResidenceRecordCertificate),
    Seal(SealCertificate),
    Tax(TaxCertificate),
    /// 戸籍全部事項証明書 or 戸籍個人事項証明書 (its `scope` says which).
    FamilyRegister(FamilyRegisterCertificate),
    FamilyRegisterAddresses(AddressHistoryCertificate),
}

impl Certificate {
    /// The kind this certificate is issued as.
    pub fn kind(&self) -> CertificateKind {
        match self {
            Certificate::Residence(_) => CertificateKind::ResidenceCertificate,
            Certificate::ResidenceRecord(_) => CertificateKind::ResidenceRecordCertificate,
            Certificate::Seal(_) => CertificateKind::SealRegistration,
            Certificate::Tax(_) => CertificateKind::TaxCertificate,
            Certificate::FamilyRegister(c) => match c.scope {
                Scope::Full => CertificateKind::FamilyRegisterFull,
                Scope::Individual => CertificateKind::FamilyRegisterIndividual,
            },
            Certificate::FamilyRegisterAddresses(_) => CertificateKind::FamilyRegisterAddresses,
        }
    }

    pub fn document(&self) -> &DocumentIdentity {
        match self {
            Certificate::Residence(c) => &c.document,
            Certificate::ResidenceRecord(c) => &c.document,
            Certificate::Seal(c) => &c.document,
            Certificate::Tax(c) => &c.document,
            Certificate::FamilyRegister(c) => &c.document,
            Certificate::FamilyRegisterAddresses(c) => &c.document,
        }
    }

    pub fn municipality(&self) -> &MunicipalityHeader {
        match self {
            Certificate::Residence(c) => &c.municipality,
            Certificate::ResidenceRecord(c) => &c.municipality,
            Certificate::Seal(c) => &c.municipality,
            Certificate::Tax(c) => &c.municipality,
            Certificate::FamilyRegister(c) => &c.municipality,
            Certificate::FamilyRegisterAddresses(c) => &c.municipality,
        }
    }

    pub fn municipality_mut(&mut self) -> &mut MunicipalityHeader {
        match self {
            Certificate::Residence(c) => &mut c.municipality,
            Certificate::ResidenceRecord(c) => &mut c.municipality,
            Certificate::Seal(c) => &mut c.municipality,
            Certificate::Tax(c) => &mut c.municipality,
            Certificate::FamilyRegister(c) => &mut c.municipality,
            Certificate::FamilyRegisterAddresses(c) => &mut c.municipality,
        }
    }

    pub fn document_mut(&mut self) -> &mut DocumentIdentity {
        match self {
            Certificate::Residence(c) => &mut c.document,
            Certificate::ResidenceRecord(c) => &mut c.document,
            Certificate::Seal(c) => &mut c.document,
            Certificate::Tax(c) => &mut c.document,
            Certificate::FamilyRegister(c) => &mut c.document,
            Certificate::FamilyRegisterAddresses(c) => &mut c.document,
        }
    }

    /// The snapshot as stored with the order: the kind's model alone.
    pub fn to_snapshot(&self) -> serde_json::Value {
        match self {
            Certificate::Residence(c) => serde_json::to_value(c),
            Certificate::ResidenceRecord(c) => serde_json::to_value(c),
            Certificate::Seal(c) => serde_json::to_value(c),
            Certificate::Tax(c) => serde_json::to_value(c),
            Certificate::FamilyRegister(c) => serde_json::to_value(c),
            Certificate::FamilyRegisterAddresses(c) => serde_json::to_value(c),
        }
        .expect("a certificate model serialises")
    }

    /// Reads a stored snapshot back as the model of `kind`.
    pub fn from_snapshot(
        kind: CertificateKind,
        snapshot: serde_json::Value,
    ) -> Result<Certificate, serde_json::Error> {
        use serde_json::from_value;
        let certificate = match kind {
            CertificateKind::ResidenceCertificate => Certificate::Residence(from_value(snapshot)?),
            CertificateKind::ResidenceRecordCertificate => {
                Certificate::ResidenceRecord(from_value(snapshot)?)
            }
            CertificateKind::SealRegistration => Certificate::Seal(from_value(snapshot)?),
            CertificateKind::TaxCertificate => Certificate::Tax(from_value(snapshot)?),
            CertificateKind::FamilyRegisterFull | CertificateKind::FamilyRegisterIndividual => {
                Certificate::FamilyRegister(from_value(snapshot)?)
            }
            CertificateKind::FamilyRegisterAddresses => {
                Certificate::FamilyRegisterAddresses(from_value(snapshot)?)
            }
        };
        if certificate.kind() != kind {
            return Err(serde::de::Error::custom("the snapshot is of another kind"));
        }
        Ok(certificate)
    }
}
