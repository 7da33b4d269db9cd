//! `kofu document verify`: is this printed certificate genuine?
//!
//! Offline (`FILE.pdf --keys keys.json`, the key list `GET /v1/keys`
//! publishes): the QR code on every page is read back and must be the same;
//! its signing key must be listed and not revoked; the signature must verify
//! over its digest; and the digest of the text every page actually prints
//! (the canonical form, README "Verifiable paper") must be that digest — so
//! a changed digit, a page from another document or a QR code copied from
//! another document is caught. With `--online URL` the key list is fetched
//! from the gateway and the issuance record is asked too (withdrawn, voided);
//! `--code CODE --online URL` asks about a code alone.
//!
//! The rule this file keeps: the outcome is one JSON line with `genuine` and
//! a stable snake_case `reason`; exit 0 genuine, 1 not (or unknown), 2 when
//! the question could not be asked (unreadable key list, no such file,
//! unreachable gateway).

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use crate::gateway::render::reader;
use crate::gateway::render::signing::{QrPayload, SignedHeader, digest};

/// Largest PDF read (a certificate is tens of kilobytes).
const MAX_PDF_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct DocumentVerifyArgs {
    /// The key list (`GET /v1/keys`, saved as JSON) for an offline check.
    #[arg(long)]
    pub keys: Option<PathBuf>,
    /// The gateway's public URL: fetch the key list from it and ask its
    /// issuance record too.
    #[arg(long)]
    pub online: Option<String>,
    /// With --online and no file: the verification code to ask about.
    #[arg(long)]
    pub code: Option<String>,
    /// CA certificate (PEM) the gateway's TLS certificate chains to, for --online.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// The PDF to check.
    pub file: Option<PathBuf>,
}

/// One published key (the shape of `GET /v1/keys`).
#[derive(Debug, Clone, Deserialize)]
pub struct PublishedKey {
    pub kid: String,
    pub municipality: String,
    pub algorithm: String,
    pub public_key: String,
    #[serde(default)]
    pub revoked_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct KeyList {
    pub keys: Vec<PublishedKey>,
}

/// A verdict on a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub genuine: bool,
    /// Stable snake_case reason.
    pub reason: &'static str,
    pub payload: Option<QrPayload>,
    pub municipality: Option<String>,
    pub pages: usize,
}

impl Verdict {
    fn not(reason: &'static str) -> Self {
        Verdict {
            genuine: false,
            reason,
            payload: None,
            municipality: None,
            pages: 0,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        let mut out = serde_json::json!({"genuine": self.genuine, "reason": self.reason});
        if let Some(p) = &self.payload {
            out["code"] = p.code.clone().into();
            out["kind"] = p.kind.wire_name().into();
            out["key_id"] = p.key_id.clone().into();
            out["issued_at"] = p.issued_at.into();
            out["digest"] = URL_SAFE_NO_PAD.encode(p.digest).into();
        }
        if let Some(m) = &self.municipality {
            out["municipality"] = m.clone().into();
        }
        if self.pages > 0 {
            out["pages"] = self.pages.into();
        }
        out
    }
}

/// Checks a PDF against a key list, offline.
pub fn verify_pdf(pdf: &[u8], keys: &KeyList) -> Verdict {
    let Ok(read) = reader::read(pdf) else {
        return Verdict::not("unreadable_pdf");
    };
    let pages = read.pages.len();
    let Some(Some(first)) = read.qr.first() else {
        return Verdict::not("no_qr_code");
    };
    if read.qr.iter().any(|q| q.as_ref() != Some(first)) {
        return Verdict::not("qr_codes_differ");
    }
    let Some(payload) = QrPayload::parse(first) else {
        return Verdict::not("qr_payload_malformed");
    };
    let mut verdict = Verdict {
        genuine: false,
        reason: "",
        payload: Some(payload.clone()),
        municipality: None,
        pages,
    };
    let Some(key) = keys.keys.iter().find(|k| k.kid == payload.key_id) else {
        verdict.reason = "unknown_key";
        return verdict;
    };
    verdict.municipality = Some(key.municipality.clone());
    if key.revoked_at.is_some() {
        verdict.reason = "key_revoked";
        return verdict;
    }
    let public = match URL_SAFE_NO_PAD.decode(&key.public_key) {
        Ok(bytes) if key.algorithm == "Ed25519" && bytes.len() == 32 => bytes,
        _ => {
            verdict.reason = "unknown_key";
            return verdict;
        }
    };
    let key = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &public);
    if key.verify(&payload.digest, &payload.signature).is_err() {
        verdict.reason = "signature_invalid";
        return verdict;
    }
    let header = SignedHeader {
        code: &payload.code,
        kind: payload.kind,
        issued_at: payload.issued_at,
        pages,
    };
    if digest(&header, &read.pages) != payload.digest {
        verdict.reason = "content_altered";
        return verdict;
    }
    verdict.genuine = true;
    verdict.reason = "genuine";
    verdict
}

/// What the command prints and its exit status.
pub fn run(args: &DocumentVerifyArgs) -> std::process::ExitCode {
    let (line, code) = match outcome(args) {
        Ok((json, genuine)) => (json, if genuine { 0 } else { 1 }),
        Err(reason) => {
            let reason = reason.strip_prefix(ANSWER).unwrap_or(&reason);
            (serde_json::json!({"genuine": false, "reason": reason}), 2)
        }
    };
    println!("{line}");
    std::process::ExitCode::from(code)
}

/// The verdict as JSON and whether it is genuine, or a usage error's reason.
fn outcome(args: &DocumentVerifyArgs) -> Result<(serde_json::Value, bool), String> {
    let online = args
        .online
        .as_deref()
        .map(|u| u.trim_end_matches('/').to_owned());
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|_| "runtime_unavailable".to_owned())
    };
    match (&args.file, &args.code, &online) {
        (Some(file), None, _) => {
            let pdf = read_bounded(file)?;
            let keys: KeyList = match (&args.keys, &online) {
                (Some(path), _) => {
                    let bytes = std::fs::read(path).map_err(|_| "keys_unreadable".to_owned())?;
                    serde_json::from_slice(&bytes).map_err(|_| "keys_malformed".to_owned())?
                }
                (None, Some(url)) => {
                    let body = runtime()?.block_on(get(url, "/v1/keys", args.ca.as_ref()))?;
                    serde_json::from_slice(&body).map_err(|_| "keys_malformed".to_owned())?
                }
                (None, None) => return Err("keys_or_online_required".to_owned()),
            };
            let verdict = verify_pdf(&pdf, &keys);
            let mut json = verdict.to_json();
            let mut genuine = verdict.genuine;
            if let (true, Some(url), Some(p)) = (verdict.genuine, &online, &verdict.payload) {
                let path = format!(
                    "/v1/verify/{}?digest={}",
                    p.code,
                    URL_SAFE_NO_PAD.encode(p.digest)
                );
                let record: serde_json::Value =
                    match runtime()?.block_on(get(url, &path, args.ca.as_ref())) {
                        Ok(body) => serde_json::from_slice(&body)
                            .map_err(|_| "record_malformed".to_owned())?,
                        Err(e) => {
                            // Signed with a published key, yet no record:
                            // not genuine (a forged or foreign code).
                            let reason = refusal(e)?;
                            json["genuine"] = false.into();
                            json["reason"] = reason.clone().into();
                            json["issuance_record"] = reason.into();
                            return Ok((json, false));
                        }
                    };
                let status = record_status(&record);
                if status != "genuine" {
                    genuine = false;
                    json["genuine"] = false.into();
                    json["reason"] = status.into();
                }
                json["issuance_record"] = status.into();
            }
            Ok((json, genuine))
        }
        (None, Some(code), Some(url)) => {
            let path = format!("/v1/verify/{}", code.trim());
            let body = runtime()?.block_on(get(url, &path, args.ca.as_ref()));
            let record: serde_json::Value = match body {
                Ok(b) => serde_json::from_slice(&b).map_err(|_| "record_malformed".to_owned())?,
                Err(e) => {
                    let reason = refusal(e)?;
                    return Ok((
                        serde_json::json!({"genuine": false, "reason": reason}),
                        false,
                    ));
                }
            };
            let status = record_status(&record);
            let genuine = status == "genuine";
            let mut json = record.clone();
            json["genuine"] = genuine.into();
            json["reason"] = status.into();
            Ok((json, genuine))
        }
        _ => Err("file_or_code_with_online_required".to_owned()),
    }
}

/// What the issuance record (`GET /v1/verify/{code}`) says: `genuine`,
/// why it was withdrawn (`order_voided`, `withdrawn_by_municipality`,
/// `key_revoked`), or `digest_not_issued` when the document's digest is not
/// the one issued under its code.
fn record_status(record: &serde_json::Value) -> &str {
    if record["digest_matches"] == false {
        return "digest_not_issued";
    }
    if record["genuine"] == true {
        return "genuine";
    }
    record["withdrawn"].as_str().unwrap_or("withdrawn")
}

fn read_bounded(file: &PathBuf) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(file).map_err(|_| "file_unreadable".to_owned())?;
    if meta.len() > MAX_PDF_BYTES {
        return Err("file_too_large".to_owned());
    }
    std::fs::read(file).map_err(|_| "file_unreadable".to_owned())
}

/// A failed look-up as the verdict's reason when the gateway answered about
/// the document (`document_not_found`, `verification_code_malformed`, …),
/// or as `Err` when the question could not be asked: not reachable, rate
/// limited, or a server-side failure (exit 2, not "not genuine").
fn refusal(error: String) -> Result<String, String> {
    let Some(code) = error.strip_prefix(ANSWER) else {
        return Err(error);
    };
    let could_not_ask = code == "rate_limited"
        || code == "service_unavailable"
        || code == "internal_error"
        || code.starts_with("http_5");
    if could_not_ask {
        Err(code.to_owned())
    } else {
        Ok(code.to_owned())
    }
}

/// What prefixes an error that is the gateway's answer (a problem
/// document's `code`, or `http_<status>`), not a failure to ask.
const ANSWER: &str = "answer:";

/// One HTTPS GET against the gateway's public listener: the body of a 2xx
/// answer, else [`ANSWER`] and the problem's `code` (or `http_<status>`).
async fn get(base: &str, path: &str, ca: Option<&PathBuf>) -> Result<Vec<u8>, String> {
    use crate::cmd::https::{HttpsError, request};
    // The URL's own faults come before a missing CA.
    let uri: hyper::Uri = format!("{base}{path}")
        .parse()
        .map_err(|_| HttpsError::UrlMalformed.code().to_owned())?;
    if uri.scheme_str() != Some("https") {
        return Err(HttpsError::UrlMustBeHttps.code().to_owned());
    }
    let ca = ca.ok_or("ca_required_for_online")?;
    let answer = request(base, hyper::Method::GET, path, None, ca, None)
        .await
        .map_err(|e| e.code().to_owned())?;
    if answer.status.is_success() {
        return Ok(answer.body);
    }
    Err(format!("{ANSWER}{}", answer.problem_code()))
}

/// Keys by id, for tests and tools that hold one list.
pub fn key_list(keys: &[(String, String, [u8; 32], bool)]) -> KeyList {
    KeyList {
        keys: keys
            .iter()
            .map(|(kid, municipality, public, revoked)| PublishedKey {
                kid: kid.clone(),
                municipality: municipality.clone(),
                algorithm: "Ed25519".to_owned(),
                public_key: URL_SAFE_NO_PAD.encode(public),
                revoked_at: revoked.then(|| "2026-12-01T00:00:00Z".to_owned()),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use lopdf::content::Content;
    use lopdf::{Document, Object, StringFormat};

    use super::*;
    use crate::devkit::samples;
    use crate::gateway::render::Renderer;
    use crate::gateway::render::model::Certificate;

    fn keys(revoked: bool) -> KeyList {
        key_list(&[(
            "devkit-1".to_owned(),
            "139998".to_owned(),
            samples::signer().public_key(),
            revoked,
        )])
    }

    fn pdf_of(cert: &Certificate) -> Vec<u8> {
        Renderer::global()
            .render_signed(cert, &samples::signing())
            .expect("renders")
            .pdf
    }

    fn sample(kind: crate::gateway::domain::CertificateKind) -> Certificate {
        samples::every_kind()
            .into_iter()
            .find(|c| c.kind() == kind)
            .expect("a sample of every kind")
    }

    /// What a forger with a PDF editor does: in the first text-showing
    /// string whose text contains `from`, put the glyphs of `to` in its
    /// place (every character of `to` must be in the document's subset),
    /// and save the file again.
    fn alter(pdf: &[u8], from: &str, to: &str) -> Vec<u8> {
        let mut doc = Document::load_mem(pdf).expect("loads");
        for (_, page) in doc.get_pages() {
            let fonts = doc.get_page_fonts(page).expect("fonts");
            let map = reader::to_unicode(&doc, fonts[&b"F1".to_vec()]).expect("ToUnicode");
            let code_of: HashMap<&str, u16> = map.iter().map(|(c, t)| (t.as_str(), *c)).collect();
            let mut content = Content::decode(&doc.get_page_content(page)).expect("content");
            let mut done = false;
            for op in &mut content.operations {
                if op.operator != "Tj" || done {
                    continue;
                }
                let Ok(bytes) = op.operands[0].as_str() else {
                    continue;
                };
                let text: String = bytes
                    .chunks(2)
                    .map(|c| map[&u16::from_be_bytes([c[0], c[1]])].as_str())
                    .collect();
                if let Some(at) = text.find(from) {
                    let altered = format!("{}{to}{}", &text[..at], &text[at + from.len()..]);
                    let mut codes = Vec::new();
                    for c in altered.chars() {
                        let code = code_of[c.to_string().as_str()];
                        codes.extend_from_slice(&code.to_be_bytes());
                    }
                    op.operands[0] = Object::String(codes, StringFormat::Hexadecimal);
                    done = true;
                }
            }
            if done {
                doc.change_page_content(page, content.encode().expect("encodes"))
                    .expect("changed");
                let mut out = Vec::new();
                doc.save_to(&mut out).expect("saves");
                return out;
            }
        }
        panic!("{from:?} is not printed");
    }

    #[test]
    fn every_sample_kind_is_genuine_and_says_what_it_is() {
        for cert in samples::every_kind() {
            let verdict = verify_pdf(&pdf_of(&cert), &keys(false));
            assert!(verdict.genuine, "{}: {}", cert.kind(), verdict.reason);
            let json = verdict.to_json();
            assert_eq!(json["kind"], cert.kind().wire_name());
            assert_eq!(json["code"], cert.document().verification_code.as_str());
            assert_eq!(json["municipality"], "139998");
        }
    }

    #[test]
    fn a_changed_amount_date_name_or_page_number_is_caught() {
        use crate::gateway::domain::CertificateKind as K;
        let residence = pdf_of(&sample(K::ResidenceCertificate));
        let tax = pdf_of(&sample(K::TaxCertificate));
        // Sanity: an edit that changes nothing leaves the document genuine,
        // so the refusals below are the edits', not the editing's.
        assert!(verify_pdf(&alter(&residence, "1/1", "1/1"), &keys(false)).genuine);
        let tax_text = reader::read(&tax).unwrap().pages.concat().join("\n");
        let amount = tax_text
            .lines()
            .find(|l| l.ends_with('円') && l.chars().any(|c| c.is_ascii_digit() && c != '0'))
            .expect("an amount")
            .to_owned();
        let digit = amount
            .chars()
            .find(|c| c.is_ascii_digit() && *c != '0')
            .unwrap();
        let altered_amount = amount.replacen(digit, "0", 1);
        for (pdf, from, to) in [
            (&tax, amount.as_str(), altered_amount.as_str()),
            (&residence, "1980", "1981"),
            (&residence, "日向　太郎", "日向　陽一"),
            (&residence, "1/1", "1/2"),
        ] {
            let verdict = verify_pdf(&alter(pdf, from, to), &keys(false));
            assert!(!verdict.genuine, "{from} → {to}");
            assert_eq!(verdict.reason, "content_altered", "{from} → {to}");
        }
    }

    #[test]
    fn a_qr_code_copied_from_another_document_is_caught() {
        use crate::gateway::domain::CertificateKind as K;
        let genuine = pdf_of(&sample(K::ResidenceCertificate));
        let mut other = sample(K::ResidenceCertificate);
        other.document_mut().verification_code = "0000-0000-0000-0".to_owned();
        let donor = pdf_of(&other);
        let qr_of = |doc: &Document| {
            let page = *doc.get_pages().values().next().unwrap();
            let (resources, _) = doc.get_page_resources(page).unwrap();
            let xobjects = resources
                .unwrap()
                .get(b"XObject")
                .unwrap()
                .as_dict()
                .unwrap();
            xobjects.get(b"QR").unwrap().as_reference().unwrap()
        };
        let donor_doc = Document::load_mem(&donor).unwrap();
        let donor_qr = donor_doc.get_object(qr_of(&donor_doc)).unwrap().clone();
        let mut forged = Document::load_mem(&genuine).unwrap();
        let target = qr_of(&forged);
        forged.objects.insert(target, donor_qr);
        let mut out = Vec::new();
        forged.save_to(&mut out).unwrap();
        let verdict = verify_pdf(&out, &keys(false));
        assert_eq!(verdict.reason, "content_altered");
        assert_eq!(verdict.payload.unwrap().code, "0000-0000-0000-0");
    }

    #[test]
    fn a_revoked_or_unknown_key_and_unreadable_files_are_refused() {
        let pdf = pdf_of(&samples::every_kind()[0]);
        assert_eq!(verify_pdf(&pdf, &keys(true)).reason, "key_revoked");
        assert_eq!(
            verify_pdf(&pdf, &KeyList { keys: vec![] }).reason,
            "unknown_key"
        );
        let mut other_key = keys(false);
        other_key.keys[0].public_key = URL_SAFE_NO_PAD.encode([1u8; 32]);
        assert_eq!(verify_pdf(&pdf, &other_key).reason, "signature_invalid");
        for bad in [&b""[..], b"%PDF-1.7\n", &pdf[..pdf.len() / 2]] {
            assert!(!verify_pdf(bad, &keys(false)).genuine);
        }
    }
}
