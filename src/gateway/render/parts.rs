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
    /// SHA-256 (hex) of the seal image in the settings version in force at
    /// acceptance: printed instead of the seal drawn from `seal_text`.
    /// Absent when the municipality has none (and in older snapshots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal_image_sha256: Option<String>,
    /// That image's bytes, looked up by the digest before rendering; never
    /// stored in the snapshot (one copy per municipality, not per order).
    #[serde(skip)]
    pub seal_image_png: Option<std::sync::Arc<[u8]>>,
    /// How the attestation writes the issue date.
    #[serde(default, skip_serializing_if = "IssueDate::is_default")]
    pub issue_date: IssueDate,
}

impl MunicipalityHeader {
    /// A header with no seal image and the default date style.
    pub fn new(
        code: String,
        name: String,
        mayor_title: String,
        mayor_name: String,
        seal_text: String,
    ) -> Self {
        MunicipalityHeader {
            code,
            name,
            mayor_title,
            mayor_name,
            seal_text,
            seal_image_sha256: None,
            seal_image_png: None,
            issue_date: IssueDate::default(),
        }
    }

    /// Sets the seal image (`None`: the seal drawn from the inscription),
    /// its digest with it.
    pub fn set_seal_image(&mut self, image: Option<&SealImage>) {
        self.seal_image_sha256 = image.map(|i| i.sha256.clone());
        self.seal_image_png = image.map(|i| i.png.clone());
    }
}

/// A municipality's seal image: the PNG and its SHA-256 (hex), taken once
/// when the image is read (a settings version is read once per process),
/// not for every order. Stored as base64 of the PNG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealImage {
    png: std::sync::Arc<[u8]>,
    sha256: String,
}

impl SealImage {
    pub fn new(png: Vec<u8>) -> SealImage {
        SealImage {
            sha256: sha256_hex(&png),
            png: png.into(),
        }
    }

    pub fn png(&self) -> &[u8] {
        &self.png
    }

    /// The bytes, shared (for a header that names this image).
    pub fn shared_png(&self) -> std::sync::Arc<[u8]> {
        self.png.clone()
    }
}

impl Serialize for SealImage {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        base64_bytes::serialize(&self.png, s)
    }
}

impl<'de> Deserialize<'de> for SealImage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        base64_bytes::deserialize(d).map(SealImage::new)
    }
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// How the attestation writes the issue date (a municipality's layout
/// option).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueDate {
    /// 令和8年(2026年)12月3日
    #[default]
    EraAndWestern,
    /// 令和8年12月3日
    Era,
}

impl IssueDate {
    pub fn is_default(&self) -> bool {
        *self == IssueDate::default()
    }
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

/// Bytes as one base64 string in a stored document: a snapshot, a
/// municipality's settings (a JSON array of numbers would triple its size).
pub(crate) mod base64_bytes {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(serde::de::Error::custom)
    }
}
