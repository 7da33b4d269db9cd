//! 課税・所得証明書 (tax and income certificate) for one fiscal year: the
//! income of the year before by kind (収入 and 所得), each deduction, the
//! number of dependants, the tax base and the municipal and prefectural tax.
//! Self only.

use serde::{Deserialize, Serialize};
use time::Date;

use super::Field;
use super::era::{format_fiscal_year, format_japanese_date};
use super::form::{Block, Row, Sheet, yen};
use super::parts::{DocumentIdentity, MunicipalityHeader};

pub(super) const TITLE: &str = "課税・所得証明書";
pub(super) const ATTESTATION: &str = "上記のとおり相違ないことを証明する。";

/// A kind of income (所得の種類), as the register names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncomeKind {
    Salary,
    Business,
    RealEstate,
    Interest,
    Dividend,
    Pension,
    Miscellaneous,
    Temporary,
    Other,
}

impl IncomeKind {
    pub const fn label(self) -> &'static str {
        match self {
            IncomeKind::Salary => "給与所得",
            IncomeKind::Business => "事業所得",
            IncomeKind::RealEstate => "不動産所得",
            IncomeKind::Interest => "利子所得",
            IncomeKind::Dividend => "配当所得",
            IncomeKind::Pension => "公的年金等",
            IncomeKind::Miscellaneous => "雑所得",
            IncomeKind::Temporary => "一時所得",
            IncomeKind::Other => "その他の所得",
        }
    }
}

/// A deduction (所得控除), as the register names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeductionKind {
    Basic,
    SocialInsurance,
    LifeInsurance,
    EarthquakeInsurance,
    Medical,
    Spouse,
    SpouseSpecial,
    Dependant,
    Disability,
    Widow,
    SingleParent,
    WorkingStudent,
    Casualty,
    SmallBusinessMutualAid,
}

impl DeductionKind {
    pub const fn label(self) -> &'static str {
        match self {
            DeductionKind::Basic => "基礎控除",
            DeductionKind::SocialInsurance => "社会保険料控除",
            DeductionKind::LifeInsurance => "生命保険料控除",
            DeductionKind::EarthquakeInsurance => "地震保険料控除",
            DeductionKind::Medical => "医療費控除",
            DeductionKind::Spouse => "配偶者控除",
            DeductionKind::SpouseSpecial => "配偶者特別控除",
            DeductionKind::Dependant => "扶養控除",
            DeductionKind::Disability => "障害者控除",
            DeductionKind::Widow => "寡婦控除",
            DeductionKind::SingleParent => "ひとり親控除",
            DeductionKind::WorkingStudent => "勤労学生控除",
            DeductionKind::Casualty => "雑損控除",
            DeductionKind::SmallBusinessMutualAid => "小規模企業共済等掛金控除",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomeItem {
    pub kind: IncomeKind,
    /// 収入金額
    pub receipts_yen: i64,
    /// 所得金額
    pub income_yen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deduction {
    pub kind: DeductionKind,
    pub amount_yen: i64,
}

/// 課税・所得証明書.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxCertificate {
    pub municipality: MunicipalityHeader,
    pub document: DocumentIdentity,
    pub issued_on: Date,
    /// 年度 (the assessment's fiscal year; income of the calendar year before).
    pub fiscal_year: i32,
    pub name: String,
    pub birth_date: Date,
    /// The address on 1 January of the fiscal year's municipality, as now registered.
    pub address: String,
    pub income: Vec<IncomeItem>,
    pub deductions: Vec<Deduction>,
    /// 扶養人数
    pub dependants: i32,
    /// 課税標準額
    pub taxable_income_yen: i64,
    /// 市町村民税 (年税額)
    pub municipal_tax_yen: i64,
    /// 道府県民税 (年税額)
    pub prefectural_tax_yen: i64,
}

pub(super) fn sheet(cert: &TaxCertificate) -> Sheet<'_> {
    let person = Block::new(vec![
        Row::new("氏名", cert.name.clone(), Field::Name),
        Row::fixed("生年月日", format_japanese_date(cert.birth_date)),
        Row::new("住所", cert.address.clone(), Field::Address),
        Row::fixed("年度", format_fiscal_year(cert.fiscal_year)),
    ]);
    let total: i64 = cert.income.iter().map(|i| i.income_yen).sum();
    let mut income = vec![Row::fixed("合計所得金額", yen(total))];
    income.extend(cert.income.iter().map(|i| {
        Row::fixed(
            i.kind.label(),
            format!(
                "収入金額 {}　所得金額 {}",
                yen(i.receipts_yen),
                yen(i.income_yen)
            ),
        )
    }));
    let income = Block::headed(
        format!("所得の内訳（{}年中）", cert.fiscal_year - 1),
        Field::Template,
        income,
    );
    let deducted: i64 = cert.deductions.iter().map(|d| d.amount_yen).sum();
    let mut deductions = vec![Row::fixed("所得控除額合計", yen(deducted))];
    deductions.extend(
        cert.deductions
            .iter()
            .map(|d| Row::fixed(d.kind.label(), yen(d.amount_yen))),
    );
    let deductions = Block::headed("所得控除", Field::Template, deductions);
    let tax = Block::headed(
        "課税額",
        Field::Template,
        vec![
            Row::fixed("扶養人数", format!("{}人", cert.dependants)),
            Row::fixed("課税標準額", yen(cert.taxable_income_yen)),
            Row::fixed("市町村民税", yen(cert.municipal_tax_yen)),
            Row::fixed("道府県民税", yen(cert.prefectural_tax_yen)),
            Row::fixed(
                "年税額合計",
                yen(cert.municipal_tax_yen + cert.prefectural_tax_yen),
            ),
        ],
    );
    Sheet::new(
        TITLE,
        ATTESTATION,
        (&cert.document, &cert.municipality, cert.issued_on),
        vec![person, income, deductions, tax],
    )
}
