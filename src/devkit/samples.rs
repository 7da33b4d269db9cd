//! Invented certificates of every kind, for benchmarks and tests: what the
//! render bench times per kind and the renderer's unit tests print.

use time::macros::date;

use crate::gateway::render::model::*;
use crate::gateway::render::signing::{Ed25519Signer, Signing};

/// One certificate of every kind (the residence certificate for one and for
/// seven people), all of ひなた市.
pub fn every_kind() -> Vec<Certificate> {
    let base = ResidenceCertificate::sample(1);
    let (m, d, on) = (base.municipality, base.document, base.issued_on);

    let member = |position, name: &str| RegisterMember {
        position,
        name: name.to_owned(),
        birth_date: date!(1980 - 04 - 01),
        sex: Sex::Male,
        father_name: Some("山田　一雄".to_owned()),
        mother_name: None,
        relationship: "長男".to_owned(),
        removed: false,
        events: vec![RegisterEvent {
            kind: EventKind::Birth,
            occurred_on: date!(1980 - 04 - 01),
            reported_on: date!(1980 - 04 - 10),
            detail: "出生地　東京都ひなた市".to_owned(),
        }],
    };
    vec![
        Certificate::Residence(ResidenceCertificate::sample(1)),
        Certificate::Residence(ResidenceCertificate::sample(7)),
        Certificate::ResidenceRecord(ResidenceRecordCertificate {
            municipality: m.clone(),
            document: d.clone(),
            issued_on: on,
            name: "山田　花子".to_owned(),
            former_surname: Some("佐藤".to_owned()),
            birth_date: Some(date!(1982 - 11 - 23)),
            sex: None,
            address: Some("ひなた市中央一丁目2番3号".to_owned()),
            became_resident_on: None,
            householder: None,
            domicile: None,
        }),
        Certificate::Seal(SealCertificate {
            municipality: m.clone(),
            document: d.clone(),
            issued_on: on,
            registration_no: "S-1".to_owned(),
            impression_png: super::demo_registers::seal_impression_png("S-1"),
            name: "山田　太郎".to_owned(),
            former_surname: None,
            alias: None,
            birth_date: date!(1980 - 04 - 01),
            sex: Sex::Male,
            address: "ひなた市中央一丁目2番3号".to_owned(),
        }),
        Certificate::Tax(TaxCertificate {
            municipality: m.clone(),
            document: d.clone(),
            issued_on: on,
            fiscal_year: 2025,
            name: "山田　太郎".to_owned(),
            birth_date: date!(1980 - 04 - 01),
            address: "ひなた市中央一丁目2番3号".to_owned(),
            income: vec![IncomeItem {
                kind: IncomeKind::Salary,
                receipts_yen: 5_000_000,
                income_yen: 3_560_000,
            }],
            deductions: vec![Deduction {
                kind: DeductionKind::Basic,
                amount_yen: 430_000,
            }],
            dependants: 0,
            taxable_income_yen: 3_130_000,
            municipal_tax_yen: 187_800,
            prefectural_tax_yen: 125_200,
        }),
        Certificate::FamilyRegister(FamilyRegisterCertificate {
            municipality: m.clone(),
            document: d.clone(),
            issued_on: on,
            scope: Scope::Full,
            domicile: "東京都ひなた市中央一丁目2番地".to_owned(),
            head_name: "山田　太郎".to_owned(),
            compiled_on: date!(2005 - 10 - 01),
            members: (1..=7).map(|p| member(p, "山田　太郎")).collect(),
        }),
        Certificate::FamilyRegister(FamilyRegisterCertificate {
            municipality: m.clone(),
            document: d.clone(),
            issued_on: on,
            scope: Scope::Individual,
            domicile: "東京都ひなた市中央一丁目2番地".to_owned(),
            head_name: "山田　太郎".to_owned(),
            compiled_on: date!(2005 - 10 - 01),
            members: vec![member(1, "山田　太郎")],
        }),
        Certificate::FamilyRegisterAddresses(AddressHistoryCertificate {
            municipality: m,
            document: d,
            issued_on: on,
            domicile: "東京都ひなた市中央一丁目2番地".to_owned(),
            head_name: "山田　太郎".to_owned(),
            members: vec![AddressHistory {
                name: "山田　太郎".to_owned(),
                birth_date: date!(1980 - 04 - 01),
                removed: false,
                addresses: vec![AddressEntry {
                    address: "ひなた市中央一丁目2番3号".to_owned(),
                    from_date: date!(2005 - 10 - 01),
                    to_date: None,
                }],
            }],
        }),
    ]
}

/// The seed of the devkit's fixed document-signing key (benchmarks and
/// the renderer's tests; never a municipality's key).
pub const SIGNING_SEED: [u8; 32] = *b"kofu devkit document signing key";

/// The devkit's fixed document signer, key id `devkit-1`.
pub fn signer() -> &'static Ed25519Signer {
    static SIGNER: std::sync::OnceLock<Ed25519Signer> = std::sync::OnceLock::new();
    SIGNER.get_or_init(|| Ed25519Signer::from_seed("devkit-1", &SIGNING_SEED))
}

/// The fixed signing inputs of the samples: the devkit signer, an issue
/// time on the samples' issue date (09:30 in Tokyo) and a verification base.
pub fn signing() -> Signing<'static> {
    Signing {
        signer: signer(),
        issued_at: time::macros::datetime!(2026-11-22 00:30 UTC),
        verify_base: "https://verify.kofu.example",
    }
}
