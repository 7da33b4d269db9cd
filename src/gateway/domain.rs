//! The domain's small types, so that a wrong argument is a compile error
//! rather than a wrong row: what kind of certificate, which resident, which
//! client certificate. They cost nothing at run time.

use std::error::Error;

use bytes::BytesMut;
use serde::{Deserialize, Serialize};
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

/// A certificate a resident may ask for at a copier, by its stable wire
/// name (the `kind` of an order, a menu item, a fee, a metric label). Each
/// has its own register snapshot and form (`render`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateKind {
    /// 住民票の写し: self, the whole household or chosen members.
    ResidenceCertificate,
    /// 住民票記載事項証明書: self, with the items the resident chose.
    ResidenceRecordCertificate,
    /// 印鑑登録証明書: self only, while the registration is active.
    SealRegistration,
    /// 課税・所得証明書: self only, one fiscal year.
    TaxCertificate,
    /// 戸籍全部事項証明書 (戸籍謄本): every member of the register.
    FamilyRegisterFull,
    /// 戸籍個人事項証明書 (戸籍抄本): one member of the register.
    FamilyRegisterIndividual,
    /// 戸籍の附票の写し: the register members' address histories.
    FamilyRegisterAddresses,
}

impl CertificateKind {
    /// Every kind, in menu order.
    pub const ALL: [CertificateKind; 7] = [
        CertificateKind::ResidenceCertificate,
        CertificateKind::ResidenceRecordCertificate,
        CertificateKind::SealRegistration,
        CertificateKind::TaxCertificate,
        CertificateKind::FamilyRegisterFull,
        CertificateKind::FamilyRegisterIndividual,
        CertificateKind::FamilyRegisterAddresses,
    ];

    /// The stable wire name (API, database, metrics).
    pub const fn wire_name(self) -> &'static str {
        match self {
            CertificateKind::ResidenceCertificate => "residence_certificate",
            CertificateKind::ResidenceRecordCertificate => "residence_record_certificate",
            CertificateKind::SealRegistration => "seal_registration",
            CertificateKind::TaxCertificate => "tax_certificate",
            CertificateKind::FamilyRegisterFull => "family_register_full",
            CertificateKind::FamilyRegisterIndividual => "family_register_individual",
            CertificateKind::FamilyRegisterAddresses => "family_register_addresses",
        }
    }

    /// The kind a wire name names, if any.
    pub fn from_wire(name: &str) -> Option<CertificateKind> {
        Self::ALL.into_iter().find(|k| k.wire_name() == name)
    }

    /// Whether the kind is read from a 戸籍 (family register) rather than
    /// the resident register.
    pub const fn is_family_register(self) -> bool {
        matches!(
            self,
            CertificateKind::FamilyRegisterFull
                | CertificateKind::FamilyRegisterIndividual
                | CertificateKind::FamilyRegisterAddresses
        )
    }
}

impl std::fmt::Display for CertificateKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.wire_name())
    }
}

/// A resident's row id in the registers (`residents.id`); never the 住民票コード
/// itself, and never logged with anything that names the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ResidentId(pub i64);

impl ToSql for ResidentId {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        self.0.to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        <i64 as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for ResidentId {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
        i64::from_sql(ty, raw).map(ResidentId)
    }

    fn accepts(ty: &Type) -> bool {
        <i64 as FromSql>::accepts(ty)
    }
}

/// SHA-256 of a client certificate's DER: what sessions and orders are bound
/// to (a copier's), and what the audit trail names (an operator's).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CertFingerprint([u8; 32]);

impl CertFingerprint {
    /// The fingerprint of a certificate.
    pub fn of_der(der: &[u8]) -> CertFingerprint {
        let digest = ring::digest::digest(&ring::digest::SHA256, der);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(digest.as_ref());
        CertFingerprint(bytes)
    }

    /// A fingerprint as stored (32 bytes), if it is one.
    pub fn from_slice(bytes: &[u8]) -> Option<CertFingerprint> {
        bytes.try_into().ok().map(CertFingerprint)
    }

    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }
}

/// Only a prefix: enough to tell two apart in a debugger.
impl std::fmt::Debug for CertFingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CertFingerprint(")?;
        for b in &self.0[..4] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}

impl ToSql for CertFingerprint {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        self.as_slice().to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        <&[u8] as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for CertFingerprint {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
        let bytes = <&[u8] as FromSql>::from_sql(ty, raw)?;
        CertFingerprint::from_slice(bytes).ok_or_else(|| "a fingerprint is 32 bytes".into())
    }

    fn accepts(ty: &Type) -> bool {
        <&[u8] as FromSql>::accepts(ty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_wire_name() {
        for kind in CertificateKind::ALL {
            assert_eq!(CertificateKind::from_wire(kind.wire_name()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::from(kind.wire_name())
            );
        }
        assert_eq!(CertificateKind::from_wire("residence"), None);
        assert!(CertificateKind::FamilyRegisterAddresses.is_family_register());
        assert!(!CertificateKind::SealRegistration.is_family_register());
    }

    #[test]
    fn a_fingerprint_is_exactly_32_bytes_and_debug_shows_a_prefix() {
        let f = CertFingerprint::of_der(b"certificate");
        assert_eq!(CertFingerprint::from_slice(f.as_slice()), Some(f));
        assert_eq!(CertFingerprint::from_slice(&[0; 31]), None);
        assert!(format!("{f:?}").len() < 30);
    }
}
