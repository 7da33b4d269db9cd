//! The copier screen languages (DOMAIN.md "Hours, languages, fees"), the
//! choice among them from `Accept-Language`, and [`catalogue`], where every
//! text lives in all of them.

pub mod catalogue;

/// A language the copier screens support, in catalogue order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Ja,
    En,
    ZhHans,
    ZhHant,
    Ko,
    Es,
    Pt,
    Vi,
    /// Tagalog (Filipino).
    Tl,
    Ne,
    Id,
    Th,
}

/// One text in every [`Lang`], in the enum's order (see [`catalogue`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text([&'static str; Lang::ALL.len()]);

impl Text {
    pub const fn new(texts: [&'static str; Lang::ALL.len()]) -> Text {
        Text(texts)
    }

    pub const fn get(&self, lang: Lang) -> &'static str {
        self.0[lang as usize]
    }
}

impl Lang {
    /// Every language, in catalogue order.
    pub const ALL: [Lang; 12] = [
        Lang::Ja,
        Lang::En,
        Lang::ZhHans,
        Lang::ZhHant,
        Lang::Ko,
        Lang::Es,
        Lang::Pt,
        Lang::Vi,
        Lang::Tl,
        Lang::Ne,
        Lang::Id,
        Lang::Th,
    ];

    /// The BCP 47 tag (`Content-Language`, the menu's `language`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
            Lang::ZhHans => "zh-Hans",
            Lang::ZhHant => "zh-Hant",
            Lang::Ko => "ko",
            Lang::Es => "es",
            Lang::Pt => "pt",
            Lang::Vi => "vi",
            Lang::Tl => "tl",
            Lang::Ne => "ne",
            Lang::Id => "id",
            Lang::Th => "th",
        }
    }

    fn from_tag(tag: &str) -> Option<Lang> {
        let tag = tag.trim().to_ascii_lowercase();
        let primary = tag.split('-').next().unwrap_or("");
        Some(match primary {
            "ja" => Lang::Ja,
            "en" => Lang::En,
            "ko" => Lang::Ko,
            "es" => Lang::Es,
            "pt" => Lang::Pt,
            "vi" => Lang::Vi,
            "tl" | "fil" => Lang::Tl,
            "ne" => Lang::Ne,
            // `in` is Indonesian's withdrawn ISO 639 code, still sent by old systems.
            "id" | "in" => Lang::Id,
            "th" => Lang::Th,
            "zh" if tag.contains("hant") || tag.ends_with("-tw") || tag.ends_with("-hk") => {
                Lang::ZhHant
            }
            "zh" => Lang::ZhHans,
            _ => return None,
        })
    }

    /// Picks the supported language with the highest q-value in an
    /// `Accept-Language` header; Japanese when none matches or the header is absent.
    pub fn negotiate(header: Option<&str>) -> Lang {
        let Some(header) = header else {
            return Lang::Ja;
        };
        let mut best: Option<(Lang, f32)> = None;
        for item in header.split(',').take(16) {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("");
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(lang) = Lang::from_tag(tag)
                && q > 0.0
                && best.is_none_or(|(_, bq)| q > bq)
            {
                best = Some((lang, q));
            }
        }
        best.map_or(Lang::Ja, |(l, _)| l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highest_quality_supported_language_wins() {
        assert_eq!(Lang::negotiate(Some("fr, en;q=0.8, ja;q=0.5")), Lang::En);
        assert_eq!(Lang::negotiate(Some("zh-TW")), Lang::ZhHant);
        assert_eq!(Lang::negotiate(Some("zh-CN,zh;q=0.9")), Lang::ZhHans);
        assert_eq!(Lang::negotiate(Some("de")), Lang::Ja);
        assert_eq!(Lang::negotiate(None), Lang::Ja);
        assert_eq!(Lang::negotiate(Some("en;q=0, ko")), Lang::Ko);
        assert_eq!(Lang::negotiate(Some("vi-VN, en;q=0.5")), Lang::Vi);
        assert_eq!(Lang::negotiate(Some("en;q=0.4, th;q=0.9")), Lang::Th);
        assert_eq!(Lang::negotiate(Some("fil-PH")), Lang::Tl);
        assert_eq!(Lang::negotiate(Some("ne-NP")), Lang::Ne);
        assert_eq!(Lang::negotiate(Some("id")), Lang::Id);
    }

    #[test]
    fn every_language_has_its_own_tag_and_negotiates_to_itself() {
        for lang in Lang::ALL {
            assert_eq!(Lang::negotiate(Some(lang.tag())), lang, "{}", lang.tag());
            assert_eq!(Lang::ALL[lang as usize], lang);
        }
    }
}
