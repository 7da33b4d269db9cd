//! 戸籍全部事項証明書 (every member) and 戸籍個人事項証明書 (one member):
//! the register's 本籍 and 筆頭者, then each member's 身分事項 (birth,
//! marriage, adoption, death, removal). Members may live anywhere.
//!
//! Rule: the snapshot is one register read in one transaction, and every page
//! carries the document's identity, so no page of a multi-page register can
//! come from another (the Tokushima incident).

use serde::{Deserialize, Serialize};
use time::Date;

use super::Field;
use super::era::format_japanese_date;
use super::form::{Block, Row, Sheet};
use super::parts::{DocumentIdentity, MunicipalityHeader, Sex};

pub(super) const TITLE_FULL: &str = "戸籍全部事項証明書";
pub(super) const TITLE_INDIVIDUAL: &str = "戸籍個人事項証明書";
pub(super) const ATTESTATION_FULL: &str =
    "これは、戸籍に記録されている事項の全部を証明した書面である。";
pub(super) const ATTESTATION_INDIVIDUAL: &str =
    "これは、戸籍中の一部の者について記録されている事項を証明した書面である。";

/// Whether the certificate shows the whole register or one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Full,
    Individual,
}

/// An event recorded for a member (身分事項).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Birth,
    Marriage,
    Divorce,
    Adoption,
    Death,
    Removal,
    Entry,
}

impl EventKind {
    pub const fn label(self) -> &'static str {
        match self {
            EventKind::Birth => "出生",
            EventKind::Marriage => "婚姻",
            EventKind::Divorce => "離婚",
            EventKind::Adoption => "養子縁組",
            EventKind::Death => "死亡",
            EventKind::Removal => "除籍",
            EventKind::Entry => "入籍",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterEvent {
    pub kind: EventKind,
    pub occurred_on: Date,
    pub reported_on: Date,
    /// 配偶者氏名, 養親氏名 and the like; empty when the event has none.
    pub detail: String,
}

/// A person entered in the register, in register order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterMember {
    /// Position in the register (1 = 筆頭者's entry).
    pub position: i32,
    pub name: String,
    pub birth_date: Date,
    pub sex: Sex,
    pub father_name: Option<String>,
    pub mother_name: Option<String>,
    /// 続柄: 長男, 二女, 養子 ...
    pub relationship: String,
    /// 除籍: shown, and marked.
    pub removed: bool,
    pub events: Vec<RegisterEvent>,
}

/// 戸籍全部事項証明書 / 戸籍個人事項証明書.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilyRegisterCertificate {
    pub municipality: MunicipalityHeader,
    pub document: DocumentIdentity,
    pub issued_on: Date,
    pub scope: Scope,
    /// 本籍
    pub domicile: String,
    /// 筆頭者氏名
    pub head_name: String,
    /// 戸籍編製日
    pub compiled_on: Date,
    /// Every member (全部) or the one asked for (個人).
    pub members: Vec<RegisterMember>,
}

pub(super) fn sheet(cert: &FamilyRegisterCertificate) -> Sheet<'_> {
    let mut blocks = vec![Block::new(vec![
        Row::new("本籍", cert.domicile.clone(), Field::Domicile),
        Row::new("氏名", cert.head_name.clone(), Field::HeadOfRegister),
        Row::fixed(
            "戸籍事項",
            format!("【編製日】{}", format_japanese_date(cert.compiled_on)),
        ),
    ])];
    for member in &cert.members {
        let mut rows = vec![
            Row::new("名", member.name.clone(), Field::Name),
            Row::fixed("生年月日", format_japanese_date(member.birth_date)),
        ];
        if let Some(father) = &member.father_name {
            rows.push(Row::new("父", father.clone(), Field::ParentName));
        }
        if let Some(mother) = &member.mother_name {
            rows.push(Row::new("母", mother.clone(), Field::ParentName));
        }
        rows.push(Row::new(
            "続柄",
            member.relationship.clone(),
            Field::Relationship,
        ));
        for event in &member.events {
            let dates = format!(
                "【{}日】{}　【届出日】{}",
                event.kind.label(),
                format_japanese_date(event.occurred_on),
                format_japanese_date(event.reported_on)
            );
            rows.push(Row::fixed(event.kind.label(), dates));
            // The detail (配偶者氏名, 出生地 …) on its own row beneath.
            if !event.detail.is_empty() {
                rows.push(Row::new(
                    "",
                    format!("【{}】", event.detail),
                    Field::RegisterEntry,
                ));
            }
        }
        let heading = format!(
            "戸籍に記録されている者　{}{}",
            member.name,
            if member.removed {
                "　【除籍】"
            } else {
                ""
            }
        );
        blocks.push(Block::headed(heading, Field::Name, rows));
    }
    let (title, attestation) = match cert.scope {
        Scope::Full => (TITLE_FULL, ATTESTATION_FULL),
        Scope::Individual => (TITLE_INDIVIDUAL, ATTESTATION_INDIVIDUAL),
    };
    Sheet::new(
        title,
        attestation,
        (&cert.document, &cert.municipality, cert.issued_on),
        blocks,
    )
}
