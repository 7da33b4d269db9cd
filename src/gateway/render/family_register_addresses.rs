//! 戸籍の附票の写し: for each member of a 戸籍, the addresses they had while
//! in it, with the day each was taken up.

use serde::{Deserialize, Serialize};
use time::Date;

use super::Field;
use super::era::format_japanese_date;
use super::form::{Block, Row, Sheet};
use super::parts::{DocumentIdentity, MunicipalityHeader};

pub(super) const TITLE: &str = "戸籍の附票の写し";
pub(super) const ATTESTATION: &str = "この写しは、戸籍の附票の原本と相違ないことを証明する。";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressEntry {
    pub address: String,
    /// 住所を定めた年月日
    pub from_date: Date,
    /// None: the current address.
    pub to_date: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressHistory {
    pub name: String,
    pub birth_date: Date,
    pub removed: bool,
    /// Oldest first.
    pub addresses: Vec<AddressEntry>,
}

/// 戸籍の附票の写し.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressHistoryCertificate {
    pub municipality: MunicipalityHeader,
    pub document: DocumentIdentity,
    pub issued_on: Date,
    pub domicile: String,
    pub head_name: String,
    pub members: Vec<AddressHistory>,
}

pub(super) fn sheet(cert: &AddressHistoryCertificate) -> Sheet<'_> {
    let mut blocks = vec![Block::new(vec![
        Row::new("本籍", cert.domicile.clone(), Field::Domicile),
        Row::new("筆頭者", cert.head_name.clone(), Field::HeadOfRegister),
    ])];
    for member in &cert.members {
        let mut rows = vec![Row::fixed(
            "生年月日",
            format_japanese_date(member.birth_date),
        )];
        for entry in &member.addresses {
            rows.push(Row::new("住所", entry.address.clone(), Field::Address));
            rows.push(Row::fixed(
                "住所を定めた年月日",
                match entry.to_date {
                    Some(to) => format!(
                        "{}　（{}まで）",
                        format_japanese_date(entry.from_date),
                        format_japanese_date(to)
                    ),
                    None => format_japanese_date(entry.from_date),
                },
            ));
        }
        let heading = format!(
            "氏名　{}{}",
            member.name,
            if member.removed {
                "　【除籍】"
            } else {
                ""
            }
        );
        blocks.push(Block::headed(heading, Field::Name, rows));
    }
    Sheet::new(
        TITLE,
        ATTESTATION,
        (&cert.document, &cert.municipality, cert.issued_on),
        blocks,
    )
}
