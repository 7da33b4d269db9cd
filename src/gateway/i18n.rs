//! The copier screen languages (DOMAIN.md "Hours, languages, fees") and the
//! choice among them from `Accept-Language`.

/// A language the copier screens support.
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
}

impl Lang {
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
            Lang::ZhHans => "zh-Hans",
            Lang::ZhHant => "zh-Hant",
            Lang::Ko => "ko",
            Lang::Es => "es",
            Lang::Pt => "pt",
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

    /// Picks one of seven texts ordered ja, en, zh-Hans, zh-Hant, ko, es, pt.
    pub fn pick(self, texts: &[&'static str; 7]) -> &'static str {
        texts[self as usize]
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
    }
}
