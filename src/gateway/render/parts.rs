//! What several certificates print alike: the document identity on every
//! page, the issuing municipality, sex, and 本籍・筆頭者. A leaf: the kind
//! modules and the layout build on it, and it imports none of them.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The identity every page of a document carries (invariant 1: binding).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentIdentity {
    pub order_id: Uuid,
    /// Strictly increasing acceptance ticket (交付番号).
    pub ticket: i64,
    /// Human-readable document number printed on each page, e.g. `KF-131016-000000042`.
    pub document_number: String,
    /// The verification code printed on every page (e.g. `7K3M-Q9XD-2HVA-P`),
    /// fixed at acceptance; empty in snapshots taken before codes existed.
    #[serde(default)]
    pub verification_code: String,
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

/// 男 / 女, as every form prints it.
pub(super) const fn sex_label(sex: Sex) -> &'static str {
    match sex {
        Sex::Male => "男",
        Sex::Female => "女",
    }
}

/// 本籍・筆頭者 (registered domicile and head of the family register).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domicile {
    pub domicile: String,
    pub head_of_register: String,
}
