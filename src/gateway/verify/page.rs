//! The public verification page (`/verify`, `/verify/{code}`): one
//! self-contained HTML5 document, Japanese first and English after.
//!
//! Rules: every string not written in this file goes through [`escape`]. The
//! page loads nothing and runs nothing (no scripts, fonts, images or off-site
//! links), so a visit tells no third party which certificate was checked, and
//! `default-src 'none'; style-src 'unsafe-inline'` is all the CSP it needs. It
//! shows what the [`Verification`] holds and no more: the printed content
//! only when the digest matched.

use super::answer::{Verification, Withdrawn};
use crate::gateway::i18n::Lang;

/// What the page shows.
pub enum View<'a> {
    /// `/verify`: the empty form.
    Form,
    /// The code typed is not a verification code (wrong length, characters or check character).
    Malformed { input: &'a str },
    /// A well-formed code kofu has no document for.
    NotFound { code: &'a str },
    /// Too many look-ups from this address; try again in `retry_after` seconds.
    RateLimited { retry_after: u64 },
    /// The document found.
    Found(&'a Verification),
}

/// How much of a malformed input the page echoes: enough to spot a typo,
/// too little to carry a message of someone else's on an official page.
const ECHO_MAX_CHARS: usize = 32;

/// One text as `[Japanese, English]`.
type Bi = [&'static str; 2];

const TITLE: Bi = ["証明書の検証", "Certificate verification"];
const ENTER: Bi = [
    "証明書に印刷された検証コードを入力してください",
    "Enter the verification code printed on the certificate",
];
const MALFORMED: Bi = [
    "検証コードの形式が正しくありません",
    "This is not a valid verification code",
];
const NOT_FOUND: Bi = [
    "この検証コードの証明書はありません",
    "No certificate has this verification code",
];
const GENUINE: Bi = ["有効な証明書です", "This certificate is genuine"];
const WITHDRAWN: Bi = [
    "この証明書は取り消されています",
    "This certificate has been withdrawn",
];
const CONTENT: Bi = ["記載内容", "Content"];
const CONTENT_MATCHES: Bi = [
    "証明書のQRコードと一致する発行記録です。用紙の記載と同じであることを確かめてください",
    "This is the issued record matching the certificate's QR code. Check that the paper says the same",
];
const DIGEST_MISMATCH: Bi = [
    "QRコードの内容が発行記録と一致しません",
    "The QR code does not match the issued document",
];
const SCAN_FOR_CONTENT: Bi = [
    "記載内容は、証明書のQRコードを読み取ると表示されます",
    "The content is shown when the certificate's QR code is scanned",
];
const CODE_LABEL: Bi = ["検証コード", "Verification code"];
const CHECK: Bi = ["確認", "Check"];

const STYLE: &str = "*{box-sizing:border-box}\
body{margin:0;font:1.125rem/1.6 system-ui,sans-serif;background:#f6f7f9;color:#1d2330}\
main{max-width:40rem;margin:0 auto;padding:1rem}h1{font-size:1.5rem;margin:.5rem 0 1rem}\
h2{font-size:1.25rem;margin:1.5rem 0 .5rem}h3{font-size:1.1rem;margin:1rem 0 .25rem}\
.banner{border-radius:8px;padding:1rem;margin:0 0 1rem;font-size:1.35rem;font-weight:700}\
.banner [lang=en]{display:block;font-size:1.1rem}.banner .sep{display:none}\
.genuine{background:#0b6b2e;color:#fff}.withdrawn{background:#b3261e;color:#fff}\
.malformed,.not_found,.rate_limited{background:#fff3cd;color:#3d2e00;border:2px solid #8a6d00}\
.form{background:#fff;font-size:1.125rem;font-weight:400}\
.reason{display:block;font-size:1.05rem;font-weight:400;margin-top:.5rem}\
dl,.note,ol,form{background:#fff;border-radius:8px;padding:1rem;margin:0}\
dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem}dt{font-weight:600;color:#3b4252}\
dd,li{margin:0;overflow-wrap:anywhere}ol{padding-left:2.5rem}form{margin-top:1.5rem}\
@media (max-width:30rem){dl{grid-template-columns:1fr}dd{margin-bottom:.5rem}}\
.warning{background:#fdecea;color:#8c1d18;border:2px solid #b3261e;border-radius:8px;padding:1rem;font-weight:700}\
label{display:block;font-weight:600;margin-bottom:.5rem}\
input{width:100%;font:inherit;font-size:1.35rem;padding:.6rem;border:2px solid #5a6275;border-radius:6px}\
input:focus,button:focus{outline:3px solid #1a56db;outline-offset:2px}\
button{margin-top:.75rem;font:inherit;font-weight:700;padding:.6rem 1.5rem;min-height:3rem;\
border:0;border-radius:6px;background:#1a56db;color:#fff}";

/// The page, in both Japanese and English (Japanese first), `primary` deciding the `<html lang>`.
///
/// The page is written only in Japanese and English: `Lang::En` gives
/// `lang="en"`, every other language `lang="ja"` (each text also carries its
/// own `lang`, so screen readers pronounce both halves right).
pub fn render(view: &View<'_>, primary: Lang) -> String {
    let [ja, en] = TITLE;
    let html_lang = if primary == Lang::En { "en" } else { "ja" };
    let (body, prefill) = match view {
        View::Form => (banner("form", &bi(ENTER)), String::new()),
        View::Malformed { input } => {
            let head: String = input.chars().take(ECHO_MAX_CHARS).collect();
            let more = if head.len() < input.len() { "…" } else { "" };
            let echo = detail(&format!("{}{more}", code(&head)));
            (banner("malformed", &(bi(MALFORMED) + &echo)), head)
        }
        View::NotFound { code: c } => (
            banner("not_found", &(bi(NOT_FOUND) + &detail(&code(c)))),
            c.to_string(),
        ),
        View::RateLimited { retry_after } => {
            let ja = format!("検索が多すぎます。{retry_after} 秒後にもう一度お試しください");
            let en = format!("Too many look-ups. Please try again in {retry_after} seconds");
            (banner("rate_limited", &bi([&ja, &en])), String::new())
        }
        View::Found(v) => (found(v), v.code.clone()),
    };
    format!(
        "<!doctype html>\n<html lang=\"{html_lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"robots\" content=\"noindex\">\n\
         <meta name=\"format-detection\" content=\"telephone=no\">\n\
         <title>{ja} / {en}</title>\n<style>{STYLE}</style>\n</head>\n\
         <body>\n<main>\n<h1>{}</h1>\n{body}\n{}\n</main>\n</body>\n</html>\n",
        bi(TITLE),
        form(&prefill),
    )
}

/// The banner, the first thing read: `id="status"` and `data-status` are
/// what browser tests look for.
fn banner(status: &str, inner: &str) -> String {
    format!(
        "<div id=\"status\" class=\"banner {status}\" role=\"status\" data-status=\"{status}\">{inner}</div>"
    )
}

/// Why a document no longer stands, as the banner says it.
fn reason(w: Withdrawn) -> Bi {
    match w {
        Withdrawn::OrderVoided => [
            "交付が完了しなかったため無効",
            "the issuance was not completed",
        ],
        Withdrawn::WithdrawnByMunicipality => {
            ["市区町村が取り消しました", "withdrawn by the municipality"]
        }
        Withdrawn::KeyRevoked => ["署名鍵が失効しています", "the signing key was revoked"],
    }
}

/// A found document: banner, the facts any holder of the code may see, then
/// the content only if the digest matched.
fn found(v: &Verification) -> String {
    let banner = if v.genuine && v.withdrawn.is_none() {
        banner("genuine", &bi(GENUINE))
    } else {
        let why = v
            .withdrawn
            .map(|w| detail(&bi(reason(w))))
            .unwrap_or_default();
        banner("withdrawn", &(bi(WITHDRAWN) + &why))
    };
    let time = |t: &str| format!("<time datetime=\"{0}\">{0}</time>", escape(t));
    let m = &v.municipality;
    let details = [
        (["検証コード", "Code"], code(&v.code)),
        (
            ["種類", "Kind"],
            format!("{} ({})", escape(v.title), code(v.kind)),
        ),
        (
            ["発行元", "Issued by"],
            format!("{} ({})", escape(&m.name), escape(&m.code)),
        ),
        (
            ["発行日時", "Issued"],
            format!("{} ({})", time(&v.issued_on), time(&v.issued_at)),
        ),
        (["ページ数", "Pages"], v.pages.to_string()),
        (["署名鍵", "Key id"], code(&v.key_id)),
    ]
    .map(|(label, value)| format!("<dt>{}</dt><dd>{value}</dd>\n", bi(label)))
    .concat();
    let content = match (v.digest_matches, &v.content) {
        (Some(true), Some(content)) => {
            let mut s = format!(
                "<section id=\"content\">\n<h2>{}</h2>\n<p class=\"note\">{}</p>\n",
                bi(CONTENT),
                bi(CONTENT_MATCHES)
            );
            for (i, items) in content.pages.iter().enumerate() {
                let n = i + 1;
                s += &format!(
                    "<h3>{}</h3>\n<ol>\n",
                    bi([&format!("{n} ページ"), &format!("Page {n}")])
                );
                for item in items {
                    s += &format!("<li>{}</li>\n", escape(item));
                }
                s += "</ol>\n";
            }
            s + "</section>"
        }
        (Some(false), _) => format!(
            "<p id=\"digest-mismatch\" class=\"warning\" role=\"alert\">{}</p>",
            bi(DIGEST_MISMATCH)
        ),
        _ => format!("<p class=\"note\">{}</p>", bi(SCAN_FOR_CONTENT)),
    };
    format!("{banner}\n<dl>\n{details}</dl>\n{content}")
}

/// A smaller line under a banner's message.
fn detail(html: &str) -> String {
    format!("<span class=\"reason\">{html}</span>")
}

/// Untrusted text as `<code>`, escaped.
fn code(text: &str) -> String {
    format!("<code>{}</code>", escape(text))
}

/// The look-up form, on every page; `prefill` is the code last looked up.
fn form(prefill: &str) -> String {
    format!(
        "<form id=\"code-form\" method=\"get\" action=\"/verify\">\n\
         <label for=\"code\">{}</label>\n\
         <input id=\"code\" name=\"code\" type=\"text\" value=\"{}\" placeholder=\"XXXX-XXXX-XXXX-X\" \
         required maxlength=\"64\" autocomplete=\"off\" autocapitalize=\"characters\" spellcheck=\"false\">\n\
         <button type=\"submit\">{}</button>\n</form>",
        bi(CODE_LABEL),
        escape(prefill),
        bi(CHECK),
    )
}

/// One text in both languages, each half tagged with its `lang`; both escaped.
fn bi([ja, en]: [&str; 2]) -> String {
    format!(
        "<span lang=\"ja\">{}</span><span class=\"sep\"> / </span><span lang=\"en\">{}</span>",
        escape(ja),
        escape(en)
    )
}

/// Escapes text for HTML element content and quoted attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::verify::answer::{Content, Issuer};

    const HOSTILE: &str = "<script>alert(1)</script>";

    fn verification() -> Verification {
        Verification {
            code: "ABCD-EFGH-JKMN-P".into(),
            genuine: true,
            withdrawn: None,
            kind: "residence_certificate",
            title: "住民票の写し",
            municipality: Issuer {
                code: "131016".into(),
                name: "千代田区".into(),
            },
            issued_at: "2025-01-06T00:30:00Z".into(),
            issued_on: "2025-01-06".into(),
            pages: 2,
            key_id: "key-2025-01".into(),
            digest_matches: None,
            content: None,
        }
    }

    fn with_content(digest_matches: Option<bool>) -> Verification {
        let pages = vec![
            vec!["氏名 山田太郎".into(), HOSTILE.into()],
            vec!["以下余白".into()],
        ];
        Verification {
            digest_matches,
            content: Some(Content { pages }),
            ..verification()
        }
    }

    fn withdrawn(w: Withdrawn) -> Verification {
        Verification {
            genuine: false,
            withdrawn: Some(w),
            ..verification()
        }
    }

    fn found(v: &Verification) -> String {
        render(&View::Found(v), Lang::Ja)
    }

    /// Both halves of a text, as [`bi`] escapes them.
    fn has(page: &str, [ja, en]: Bi) -> bool {
        page.contains(&escape(ja)) && page.contains(&escape(en))
    }

    fn all_pages() -> Vec<(String, &'static str)> {
        let ja = |view: View| render(&view, Lang::Ja);
        let not_found = View::NotFound {
            code: "ABCD-EFGH-JKMN-Q",
        };
        [
            (ja(View::Form), "form"),
            (
                render(&View::Malformed { input: HOSTILE }, Lang::En),
                "malformed",
            ),
            (ja(not_found), "not_found"),
            (ja(View::RateLimited { retry_after: 30 }), "rate_limited"),
            (found(&verification()), "genuine"),
            (found(&withdrawn(Withdrawn::KeyRevoked)), "withdrawn"),
            (found(&with_content(Some(true))), "genuine"),
            (found(&with_content(Some(false))), "genuine"),
        ]
        .into()
    }

    #[test]
    fn every_view_renders_its_status_title_and_form() {
        for (page, status) in all_pages() {
            let banner = format!("id=\"status\" class=\"banner {status}\" role=\"status\"");
            assert!(page.starts_with("<!doctype html>"), "{page}");
            assert!(
                page.contains(&format!("{banner} data-status=\"{status}\"")),
                "{page}"
            );
            assert!(page.contains("<title>証明書の検証 / Certificate verification</title>"));
            assert!(page.contains("id=\"code-form\" method=\"get\" action=\"/verify\""));
            assert!(page.contains("<label for=\"code\">"));
            assert!(page.contains("<input id=\"code\" name=\"code\""));
            assert!(has(&page, CODE_LABEL) && has(&page, CHECK));
            assert!(page.contains("<meta name=\"referrer\" content=\"no-referrer\">"));
            assert!(page.contains("<meta name=\"robots\" content=\"noindex\">"));
        }
    }

    #[test]
    fn no_page_loads_anything_or_runs_scripts() {
        for (page, _) in all_pages() {
            let page = page.to_lowercase();
            for banned in ["http://", "https://", "<script", "@import", "url("] {
                assert!(!page.contains(banned), "{banned} in {page}");
            }
        }
    }

    #[test]
    fn primary_language_sets_html_lang() {
        assert!(render(&View::Form, Lang::Ja).contains("<html lang=\"ja\">"));
        assert!(render(&View::Form, Lang::En).contains("<html lang=\"en\">"));
        assert!(render(&View::Form, Lang::Ko).contains("<html lang=\"ja\">"));
    }

    #[test]
    fn genuine_document_shows_green_banner_and_details() {
        let page = found(&verification());
        assert!(page.contains("有効な証明書です"));
        assert!(page.contains("This certificate is genuine"));
        assert!(page.contains("class=\"banner genuine\""));
        assert!(!has(&page, WITHDRAWN));
        let facts = [
            "ABCD-EFGH-JKMN-P",
            "住民票の写し",
            "residence_certificate",
            "千代田区",
        ];
        let more = [
            "131016",
            "2025-01-06</time>",
            "2025-01-06T00:30:00Z",
            "<dd>2</dd>",
        ];
        for s in facts.into_iter().chain(more).chain(["key-2025-01"]) {
            assert!(page.contains(s), "{s}");
        }
        assert!(has(&page, SCAN_FOR_CONTENT));
        assert!(!page.contains("id=\"content\""));
    }

    #[test]
    fn withdrawn_document_shows_red_banner_and_reason() {
        use Withdrawn::*;
        for w in [OrderVoided, WithdrawnByMunicipality, KeyRevoked] {
            let page = found(&withdrawn(w));
            assert!(page.contains("この証明書は取り消されています"));
            assert!(page.contains("This certificate has been withdrawn"));
            assert!(page.contains("class=\"banner withdrawn\""));
            assert!(has(&page, reason(w)));
            assert!(!has(&page, GENUINE));
        }
        let page = found(&withdrawn(KeyRevoked));
        assert!(page.contains("署名鍵が失効しています"));
        assert!(page.contains("the signing key was revoked"));
    }

    #[test]
    fn content_is_shown_only_when_the_digest_matched() {
        let page = found(&with_content(Some(true)));
        assert!(page.contains("<section id=\"content\">"));
        assert!(has(&page, CONTENT) && has(&page, CONTENT_MATCHES));
        assert!(page.contains("1 ページ") && page.contains("Page 2"));
        assert_eq!(page.matches("<ol>").count(), 2);
        assert!(page.contains("<li>氏名 山田太郎</li>"));
        assert!(page.contains("<li>&lt;script&gt;alert(1)&lt;/script&gt;</li>"));
        assert!(!page.contains(HOSTILE));
        for digest in [Some(false), None] {
            let page = found(&with_content(digest));
            assert!(!page.contains("id=\"content\"") && !page.contains("山田太郎"));
        }
        let page = found(&with_content(Some(false)));
        assert!(page.contains("QRコードの内容が発行記録と一致しません"));
        assert!(page.contains("The QR code does not match the issued document"));
    }

    #[test]
    fn malformed_input_is_echoed_escaped_and_shortened() {
        let page = render(&View::Malformed { input: HOSTILE }, Lang::Ja);
        assert!(page.contains("検証コードの形式が正しくありません"));
        assert!(page.contains("This is not a valid verification code"));
        assert!(page.contains("<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>"));
        assert!(!page.contains(HOSTILE));
        let long = "A".repeat(1000);
        let page = render(&View::Malformed { input: &long }, Lang::Ja);
        assert!(page.contains(&format!("<code>{}</code>…", "A".repeat(32))));
        assert!(!page.contains(&"A".repeat(33)));
    }

    #[test]
    fn not_found_echoes_the_code_escaped() {
        let page = render(&View::NotFound { code: "\"><b>x" }, Lang::Ja);
        assert!(page.contains("この検証コードの証明書はありません") && has(&page, NOT_FOUND));
        assert!(page.contains("value=\"&quot;&gt;&lt;b&gt;x\""));
        assert!(!page.contains("<b>"));
    }

    #[test]
    fn rate_limited_page_names_the_wait() {
        let page = render(&View::RateLimited { retry_after: 42 }, Lang::Ja);
        assert!(page.contains("42 秒後") && page.contains("try again in 42 seconds"));
    }

    #[test]
    fn escape_handles_the_five_characters() {
        let escaped = escape(r#"<a href="x" b='y'>&</a>"#);
        assert_eq!(
            escaped,
            "&lt;a href=&quot;x&quot; b=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
    }
}
