//! What a certificate shows: the data the renderer turns into a PDF.
//!
//! Rule: these values are a snapshot taken inside the transaction that accepted
//! the order (see `pipeline`), so a document never mixes register states. The
//! renderer reads nothing else.

use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

/// The identity every page of a document carries (invariant 1: binding).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentIdentity {
    pub order_id: Uuid,
    /// Strictly increasing acceptance ticket (交付番号).
    pub ticket: i64,
    /// Human-readable document number printed on each page, e.g. `KF-131016-000000042`.
    pub document_number: String,
}

/// The issuing municipality as it appears in the attestation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MunicipalityHeader {
    /// 全国地方公共団体コード (6 digits).
    pub code: String,
    /// e.g. `みどり市`
    pub name: String,
    /// e.g. `みどり市長`
    pub mayor_title: String,
    /// e.g. `山田　一郎`
    pub mayor_name: String,
    /// Text engraved in the municipal seal (公印), e.g. `みどり市長之印`.
    pub seal_text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

/// 本籍・筆頭者 (registered domicile and head of the family register).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domicile {
    pub domicile: String,
    pub head_of_register: String,
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
            municipality: MunicipalityHeader {
                code: "139991".into(),
                name: "ひなた市".into(),
                mayor_title: "ひなた市長".into(),
                mayor_name: "日向　陽一".into(),
                seal_text: "ひなた市長之印".into(),
            },
            document: DocumentIdentity {
                order_id: Uuid::nil(),
                ticket: 42,
                document_number: "KF-139991-000000042".into(),
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
                })
                .collect(),
        }
    }
}
