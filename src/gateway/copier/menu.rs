//! The menu a resident sees after the card check: what they may get, the
//! options, fees, and why anything is unavailable — in the copier's language.

use serde::Serialize;

use crate::gateway::domain::CertificateKind;
use crate::gateway::i18n::Lang;
use crate::gateway::registry::Ineligible;

#[derive(Debug, Serialize)]
pub struct Menu {
    pub session_id: String,
    pub language: &'static str,
    pub municipality: MenuMunicipality,
    pub items: Vec<MenuItem>,
}

#[derive(Debug, Serialize)]
pub struct MenuMunicipality {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct MenuItem {
    pub kind: CertificateKind,
    pub name: &'static str,
    pub available: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee_yen: Option<i32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<MenuOption>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_copies: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
}

#[derive(Debug, Serialize)]
pub struct MenuOption {
    pub name: &'static str,
    pub label: &'static str,
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub default: bool,
}

#[derive(Debug, Serialize)]
pub struct Reason {
    pub code: &'static str,
    pub message: &'static str,
}

/// Largest number of copies per order.
pub const MAX_COPIES: i32 = 10;

/// (kind, names in ja, en, zh-Hans, zh-Hant, ko, es, pt), in menu order.
const KINDS: &[(CertificateKind, [&str; 7])] = &[
    (
        CertificateKind::ResidenceCertificate,
        [
            "住民票の写し",
            "Certificate of residence",
            "住民票副本",
            "住民票副本",
            "주민표 사본",
            "Certificado de residencia",
            "Certificado de residência",
        ],
    ),
    (
        CertificateKind::SealRegistration,
        [
            "印鑑登録証明書",
            "Seal registration certificate",
            "印章登记证明书",
            "印章登記證明書",
            "인감등록증명서",
            "Certificado de registro de sello",
            "Certificado de registro de carimbo",
        ],
    ),
    (
        CertificateKind::TaxCertificate,
        [
            "課税・所得証明書",
            "Tax and income certificate",
            "课税・所得证明书",
            "課稅・所得證明書",
            "과세・소득증명서",
            "Certificado de impuestos e ingresos",
            "Certificado de impostos e rendimentos",
        ],
    ),
    (
        CertificateKind::FamilyRegister,
        [
            "戸籍証明書",
            "Family register certificate",
            "户籍证明书",
            "戶籍證明書",
            "호적증명서",
            "Certificado del registro familiar",
            "Certificado do registro familiar",
        ],
    ),
];

const OPTIONS: &[(&str, [&str; 7])] = &[
    (
        "whole_household",
        [
            "世帯全員",
            "Whole household",
            "全体家庭成员",
            "全體家庭成員",
            "세대 전원",
            "Todo el hogar",
            "Todo o domicílio",
        ],
    ),
    (
        "show_householder",
        [
            "世帯主・続柄",
            "Householder and relationship",
            "户主・关系",
            "戶主・關係",
            "세대주・관계",
            "Cabeza de hogar y parentesco",
            "Chefe do domicílio e parentesco",
        ],
    ),
    (
        "show_domicile",
        [
            "本籍・筆頭者",
            "Registered domicile and head",
            "本籍・户籍首位者",
            "本籍・戶籍首位者",
            "본적・필두자",
            "Domicilio registral y titular",
            "Domicílio registral e titular",
        ],
    ),
    (
        "show_my_number",
        [
            "個人番号",
            "My Number",
            "个人编号",
            "個人編號",
            "개인번호",
            "Número personal (My Number)",
            "Número pessoal (My Number)",
        ],
    ),
];

const NOT_OFFERED: [&str; 7] = [
    "この証明書はまだこのサービスで交付していません。",
    "This certificate is not yet offered by this service.",
    "本服务尚不提供此证明书。",
    "本服務尚不提供此證明書。",
    "이 증명서는 아직 이 서비스에서 발급하지 않습니다.",
    "Este servicio aún no ofrece este certificado.",
    "Este serviço ainda não oferece este certificado.",
];

const NOT_ELIGIBLE: [&str; 7] = [
    "この方の証明書はコンビニでは交付できません。市区町村の窓口にお問い合わせください。",
    "Certificates for this resident cannot be issued at a store. Please contact the municipal office.",
    "无法在便利店为此居民发行证明书。请咨询市区町村窗口。",
    "無法在便利商店為此居民發行證明書。請洽詢市區町村窗口。",
    "이 주민의 증명서는 편의점에서 발급할 수 없습니다. 시구정촌 창구에 문의하십시오.",
    "No se pueden emitir certificados para este residente en una tienda. Consulte a la municipalidad.",
    "Não é possível emitir certificados para este residente na loja. Consulte a prefeitura.",
];

/// Builds the menu: the residence certificate when the municipality offers it
/// and the resident is eligible, the other kinds with the reason they are not.
pub fn build(
    lang: Lang,
    session_id: String,
    municipality: MenuMunicipality,
    residence_fee: Option<i32>,
    ineligible: Option<Ineligible>,
) -> Menu {
    let items = KINDS
        .iter()
        .map(|(kind, names)| {
            let offered = kind.is_issued() && residence_fee.is_some();
            let reason = match (offered, ineligible) {
                (true, None) => None,
                (true, Some(_)) => Some(Reason {
                    code: "resident_not_eligible",
                    message: lang.pick(&NOT_ELIGIBLE),
                }),
                (false, _) => Some(Reason {
                    code: "kind_not_offered",
                    message: lang.pick(&NOT_OFFERED),
                }),
            };
            let available = reason.is_none();
            MenuItem {
                kind: *kind,
                name: lang.pick(names),
                available,
                fee_yen: if offered { residence_fee } else { None },
                options: if available {
                    OPTIONS
                        .iter()
                        .map(|(name, labels)| MenuOption {
                            name,
                            label: lang.pick(labels),
                            type_: "boolean",
                            default: false,
                        })
                        .collect()
                } else {
                    Vec::new()
                },
                max_copies: available.then_some(MAX_COPIES),
                reason,
            }
        })
        .collect();
    Menu {
        session_id,
        language: lang.tag(),
        municipality,
        items,
    }
}
