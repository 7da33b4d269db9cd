//! 住民票記載事項証明書: the resident's own record, with only the items they
//! chose. The name is always printed; every other item only when chosen.

use serde::{Deserialize, Serialize};
use time::Date;

use super::Field;
use super::era::format_japanese_date;
use super::form::{Block, Row, Sheet};
use super::parts::{DocumentIdentity, Domicile, MunicipalityHeader, Sex, sex_label};

pub(super) const TITLE: &str = "住民票記載事項証明書";
pub(super) const ATTESTATION: &str = "上記の事項は、住民票に記載されていることを証明する。";

/// 住民票記載事項証明書: each item present only when chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidenceRecordCertificate {
    pub municipality: MunicipalityHeader,
    pub document: DocumentIdentity,
    pub issued_on: Date,
    pub name: String,
    pub former_surname: Option<String>,
    pub birth_date: Option<Date>,
    pub sex: Option<Sex>,
    pub address: Option<String>,
    pub became_resident_on: Option<Date>,
    /// 世帯主 and 続柄.
    pub householder: Option<(String, String)>,
    pub domicile: Option<Domicile>,
}

pub(super) fn sheet(cert: &ResidenceRecordCertificate) -> Sheet<'_> {
    let mut rows = vec![Row::new("氏名", cert.name.clone(), Field::Name)];
    if let Some(former) = &cert.former_surname {
        rows.push(Row::new("旧氏", former.clone(), Field::FormerSurname));
    }
    if let Some(birth) = cert.birth_date {
        rows.push(Row::fixed("生年月日", format_japanese_date(birth)));
    }
    if let Some(sex) = cert.sex {
        rows.push(Row::fixed("性別", sex_label(sex)));
    }
    if let Some(address) = &cert.address {
        rows.push(Row::new("住所", address.clone(), Field::Address));
    }
    if let Some(on) = cert.became_resident_on {
        rows.push(Row::fixed("住民となった年月日", format_japanese_date(on)));
    }
    if let Some((householder, relationship)) = &cert.householder {
        rows.push(Row::new("世帯主", householder.clone(), Field::Householder));
        rows.push(Row::new("続柄", relationship.clone(), Field::Relationship));
    }
    if let Some(d) = &cert.domicile {
        rows.push(Row::new("本籍", d.domicile.clone(), Field::Domicile));
        rows.push(Row::new(
            "筆頭者",
            d.head_of_register.clone(),
            Field::HeadOfRegister,
        ));
    }
    Sheet::new(
        TITLE,
        ATTESTATION,
        (&cert.document, &cert.municipality, cert.issued_on),
        vec![Block::new(rows)],
    )
}
