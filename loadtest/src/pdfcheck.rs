//! Checks a delivered PDF against what its session asked for (invariant 1,
//! binding): the headers against the body and the acknowledgement, then the
//! text of every page, read back through the font's ToUnicode map with
//! kofu's document reader (the one `kofu document verify` and the render tests use).
//!
//! Rule: a document passes only if every page names its own order and
//! document number, and the people listed are exactly the ones the card and
//! options call for — anything else counts as misdelivered.

use std::collections::HashSet;

use uuid::Uuid;

use crate::population::GIVEN;

/// What one delivered document must be.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    pub order_id: Uuid,
    pub ticket: i64,
    pub document_number: &'a str,
    pub page_count: usize,
    /// The people listed, in order.
    pub members: &'a [String],
    /// The household's address.
    pub address: &'a str,
    /// Synthetic resident numbers that may appear at all (the household:
    /// householder and head of register may be shown for a self-only copy).
    pub allowed_numbers: &'a [u32],
    /// The household's members (their names may appear as householder or
    /// head of register even on a self-only copy).
    pub household: &'a [String],
    /// Known names of people (small populations only): none outside the household may appear.
    pub foreign_names: &'a [String],
    /// A 個人番号 that must be shown (asked for, and recorded).
    pub my_number_shown: Option<&'a str>,
    /// 個人番号 that must not be shown (not asked for, or someone else's).
    pub my_numbers_hidden: &'a [String],
}

/// The text of each page.
///
/// # Errors
/// The PDF does not parse.
pub fn page_texts(pdf: &[u8]) -> Result<Vec<String>, String> {
    let doc = kofu::gateway::render::reader::read(pdf)
        .map_err(|e| format!("PDF does not read back: {e}"))?;
    Ok(doc.pages.into_iter().map(|items| items.concat()).collect())
}

/// Synthetic resident numbers named in `text`: every `　<given name><digits>`.
pub fn resident_numbers(text: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for (given, _) in GIVEN {
        let pattern = format!("　{given}");
        let mut rest = text;
        while let Some(at) = rest.find(&pattern) {
            rest = &rest[at + pattern.len()..];
            let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            if let Ok(n) = digits.parse() {
                found.push(n);
            }
        }
    }
    found.sort_unstable();
    found
}

/// The numbers written right after each occurrence of `label`.
pub fn numbers_after(text: &str, label: &str) -> Vec<i64> {
    text.match_indices(label)
        .filter_map(|(at, _)| {
            let digits: String = text[at + label.len()..]
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            digits.parse().ok()
        })
        .collect()
}

/// Checks the page texts of a document. `Err` says what is wrong.
pub fn check_texts(pages: &[String], want: &Expected<'_>) -> Result<(), String> {
    if pages.len() != want.page_count {
        return Err(format!(
            "{} pages in the PDF, {} in the header",
            pages.len(),
            want.page_count
        ));
    }
    let order = want.order_id.to_string();
    for (i, text) in pages.iter().enumerate() {
        if !text.contains(want.document_number) {
            return Err(format!(
                "page {} lacks document number {}",
                i + 1,
                want.document_number
            ));
        }
        if !text.contains(&order) {
            return Err(format!("page {} lacks order id {order}", i + 1));
        }
        let tickets = numbers_after(text, "交付番号 ");
        if tickets.is_empty() || tickets.iter().any(|t| *t != want.ticket) {
            return Err(format!(
                "page {} shows ticket(s) {tickets:?}, not {}",
                i + 1,
                want.ticket
            ));
        }
    }
    let all = pages.concat();
    let listed = all.matches("生年月日").count();
    if listed != want.members.len() {
        return Err(format!(
            "{listed} people listed, {} expected",
            want.members.len()
        ));
    }
    if let Some(missing) = want.members.iter().find(|m| !all.contains(m.as_str())) {
        return Err(format!("expected person {missing:?} missing"));
    }
    if !want.address.is_empty() && !all.contains(want.address) {
        return Err("the household's address is missing".into());
    }
    let allowed: HashSet<u32> = want.allowed_numbers.iter().copied().collect();
    if let Some(n) = resident_numbers(&all)
        .into_iter()
        .find(|n| !allowed.contains(n))
    {
        return Err(format!("resident number {n} belongs to someone else"));
    }
    if let Some(name) = want
        .foreign_names
        .iter()
        .find(|f| !want.household.contains(f) && all.contains(f.as_str()))
    {
        return Err(format!("someone else's name {name:?} appears"));
    }
    if let Some(n) = want.my_number_shown {
        if !all.contains(n) {
            return Err("the 個人番号 asked for is missing".into());
        }
    }
    if want
        .my_numbers_hidden
        .iter()
        .any(|n| all.contains(n.as_str()))
    {
        return Err("a 個人番号 appears that was not asked for".into());
    }
    Ok(())
}

/// Parses `pdf` and checks it.
pub fn check_pdf(pdf: &[u8], want: &Expected<'_>) -> Result<(), String> {
    check_texts(&page_texts(pdf)?, want)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(order: Uuid, number: &str, people: &[&str]) -> String {
        let mut s = format!(
            "住民票の写し 東京都ひなた市試験町3番地 交付番号 17  文書番号 {number}  1/1 注文ID {order}"
        );
        for p in people {
            s.push_str(&format!(" 氏名 {p} 生年月日 昭和50年(1975年)1月1日"));
        }
        s
    }

    fn expected<'a>(order: Uuid, members: &'a [String], allowed: &'a [u32]) -> Expected<'a> {
        Expected {
            order_id: order,
            ticket: 17,
            document_number: "KF-139998-000000017",
            page_count: 1,
            members,
            address: "東京都ひなた市試験町3番地",
            allowed_numbers: allowed,
            household: members,
            foreign_names: &[],
            my_number_shown: None,
            my_numbers_hidden: &[],
        }
    }

    #[test]
    fn the_right_document_passes() {
        let order = Uuid::from_u128(5);
        let members = vec!["佐藤　太郎12".to_owned(), "佐藤　花子13".to_owned()];
        let text = page(
            order,
            "KF-139998-000000017",
            &["佐藤　太郎12", "佐藤　花子13"],
        );
        assert_eq!(
            check_texts(&[text], &expected(order, &members, &[12, 13])),
            Ok(())
        );
        assert_eq!(
            resident_numbers("世帯主 佐藤　太郎12 筆頭者 佐藤　太郎12"),
            [12, 12]
        );
    }

    #[test]
    fn every_kind_of_wrong_document_is_caught() {
        let order = Uuid::from_u128(5);
        let me = vec!["佐藤　太郎12".to_owned()];
        let want = expected(order, &me, &[12, 13]);
        let good = page(order, "KF-139998-000000017", &["佐藤　太郎12"]);
        // Someone else's order id, document number or ticket.
        let other = page(Uuid::from_u128(6), "KF-139998-000000017", &["佐藤　太郎12"]);
        assert!(
            check_texts(&[other], &want)
                .unwrap_err()
                .contains("order id")
        );
        let other = page(order, "KF-139998-000000018", &["佐藤　太郎12"]);
        assert!(
            check_texts(&[other], &want)
                .unwrap_err()
                .contains("document number")
        );
        let other = good.replace("交付番号 17", "交付番号 18");
        assert!(check_texts(&[other], &want).unwrap_err().contains("ticket"));
        let other = good.replace("交付番号 17", "交付番号 170");
        assert!(check_texts(&[other], &want).is_err());
        // Another person instead of, or next to, the card holder.
        let other = page(order, "KF-139998-000000017", &["鈴木　健40"]);
        assert!(check_texts(&[other], &want).is_err());
        let other = page(
            order,
            "KF-139998-000000017",
            &["佐藤　太郎12", "鈴木　健40"],
        );
        assert!(
            check_texts(&[other], &want)
                .unwrap_err()
                .contains("2 people")
        );
        // A stranger's number anywhere (e.g. as householder) is caught too.
        let other = format!("{good} 世帯主 鈴木　健40");
        assert!(check_texts(&[other], &want).unwrap_err().contains("40"));
        // A page count that disagrees with the header; a second page without the identity.
        assert!(check_texts(&[good.clone(), good.clone()], &want).is_err());
        let mut two = want.clone();
        two.page_count = 2;
        assert!(check_texts(&[good.clone(), "住民票の写し".into()], &two).is_err());
        // Wrong address.
        let other = good.replace("試験町3番地", "試験町4番地");
        assert!(
            check_texts(&[other], &want)
                .unwrap_err()
                .contains("address")
        );
        // Small populations: a known name from outside the household.
        let known = vec!["日向　花子".to_owned(), "佐藤　花子13".to_owned()];
        let household = vec!["佐藤　太郎12".to_owned(), "佐藤　花子13".to_owned()];
        let mut w = want.clone();
        w.foreign_names = &known;
        w.household = &household;
        let other = format!("{good} 日向　花子");
        assert!(check_texts(&[other], &w).unwrap_err().contains("日向"));
        // A household member shown as householder on a self-only copy is fine.
        let with_householder = format!("{good} 世帯主 佐藤　花子13");
        assert_eq!(check_texts(&[with_householder], &w), Ok(()));
        assert_eq!(check_texts(std::slice::from_ref(&good), &w), Ok(()));
        // 個人番号: shown only when asked for.
        let hidden = vec!["123456789018".to_owned()];
        let mut w = want.clone();
        w.my_numbers_hidden = &hidden;
        let other = format!("{good} 個人番号 123456789018");
        assert!(
            check_texts(std::slice::from_ref(&other), &w)
                .unwrap_err()
                .contains("個人番号")
        );
        let mut w = want.clone();
        w.my_number_shown = Some("123456789018");
        assert_eq!(check_texts(&[other], &w), Ok(()));
        assert!(check_texts(&[good], &w).unwrap_err().contains("missing"));
    }

    /// A real document from kofu's renderer, for a synthetic household of seven
    /// (two pages), read back through printpdf.
    #[test]
    fn a_rendered_two_page_household_certificate_passes_and_a_foreign_one_fails() {
        use kofu::gateway::render::Renderer;
        use kofu::gateway::render::model::{
            DocumentIdentity, Domicile, ResidenceCertificate, ResidentRecord, Sex,
        };
        let (_, residents) = crate::population::generate(26);
        let household: Vec<_> = residents.iter().filter(|r| r.household == 8).collect();
        assert_eq!(household.len(), 7);
        let record = |r: &crate::population::Resident| ResidentRecord {
            name: r.name.clone(),
            name_kana: r.name_kana.clone(),
            birth_date: r.birth_date,
            sex: if r.sex == "male" {
                Sex::Male
            } else {
                Sex::Female
            },
            relationship: Some(r.relationship.to_owned()),
            became_resident_on: r.became_resident_on,
            domicile: Some(Domicile {
                domicile: r.domicile.clone(),
                head_of_register: r.head_of_register.clone(),
            }),
            my_number: r.my_number.clone(),
            former_surname: None,
            foreign: None,
        };
        let order_id = Uuid::from_u128(0x1234);
        let cert = ResidenceCertificate {
            document: DocumentIdentity {
                order_id,
                ticket: 17,
                document_number: "KF-139998-000000017".into(),
                verification_code: "0000-0000-0017-H".into(),
            },
            address: "東京都ひなた市試験町8番地".into(),
            householder: Some(household[0].name.clone()),
            whole_household: true,
            members: household.iter().map(|r| record(r)).collect(),
            ..ResidenceCertificate::sample(0)
        };
        let doc = Renderer::global()
            .render_signed(
                &kofu::gateway::render::model::Certificate::Residence(cert),
                &kofu::devkit::samples::signing(),
            )
            .expect("renders");
        assert_eq!(doc.page_count, 2);
        let names: Vec<String> = household.iter().map(|r| r.name.clone()).collect();
        let numbers: Vec<u32> = household.iter().map(|r| r.number).collect();
        let want = Expected {
            order_id,
            ticket: 17,
            document_number: "KF-139998-000000017",
            page_count: 2,
            members: &names,
            address: "東京都ひなた市試験町8番地",
            allowed_numbers: &numbers,
            household: &names,
            foreign_names: &[],
            my_number_shown: None,
            my_numbers_hidden: &[],
        };
        assert_eq!(check_pdf(&doc.pdf, &want), Ok(()));
        // Every member's 個人番号 was put on it: asking for none of them fails.
        let recorded: Vec<String> = household
            .iter()
            .filter_map(|r| r.my_number.clone())
            .collect();
        assert!(!recorded.is_empty());
        let mut private = want.clone();
        private.my_numbers_hidden = &recorded;
        assert!(
            check_pdf(&doc.pdf, &private)
                .unwrap_err()
                .contains("個人番号")
        );
        // The same PDF handed to another order, or to a self-only request.
        let mut other = want.clone();
        other.order_id = Uuid::from_u128(0x1235);
        assert!(check_pdf(&doc.pdf, &other).is_err());
        let me = vec![names[0].clone()];
        let mut alone = want.clone();
        alone.members = &me;
        assert!(check_pdf(&doc.pdf, &alone).is_err());
        // A household of which these people are not members.
        let mut stranger = want.clone();
        stranger.allowed_numbers = &numbers[..3];
        assert!(check_pdf(&doc.pdf, &stranger).is_err());
    }
}
