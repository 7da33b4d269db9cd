//! Fuzz target: a PDF handed to `kofu document verify`, the bytes untrusted.
//!
//! - `kofu::gateway::render::reader::read` on the bytes (lopdf, the
//!   ToUnicode maps, the QR form drawn as an image and decoded by rqrr);
//!   on a document it reads, `kofu::cmd::document_verify::verify_pdf` — the
//!   rest of the verification (the QR payload parsed, the key looked up, the
//!   signature and the printed text's digest checked) — against the devkit
//!   signing key the seed PDFs are signed with;
//! - `kofu::gateway::render::signing::QrPayload::parse` on the bytes read as
//!   UTF-8 (lossily), with a round trip through `QrPayload::to_url`.
//!
//! `read` turns a panic in the PDF parser into `Err(NotPdf)` with
//! `catch_unwind`, which libfuzzer-sys's panic hook (abort on every panic)
//! would defeat; so a panic while `read` runs is what it is in production, a
//! refusal, and any other panic aborts as usual. Set
//! `KOFU_FUZZ_READER_PANICS=1` to have the panics `read` catches abort too
//! (to find them in lopdf or rqrr; note `--dev` builds check overflow,
//! which the release build does not).
#![no_main]

use std::cell::Cell;
use std::sync::OnceLock;

use kofu::cmd::document_verify::{KeyList, key_list, verify_pdf};
use kofu::gateway::render::reader::{self, ReadDocument};
use kofu::gateway::render::signing::QrPayload;
use libfuzzer_sys::fuzz_target;

thread_local! {
    static IN_READER: Cell<bool> = const { Cell::new(false) };
}

/// The key list `verify_pdf` checks against: the devkit signer's key (what
/// the seed PDFs in `corpus/document/` are signed with), as `devkit-1`.
fn keys() -> &'static KeyList {
    static KEYS: OnceLock<KeyList> = OnceLock::new();
    KEYS.get_or_init(|| {
        key_list(&[(
            "devkit-1".to_owned(),
            "139998".to_owned(),
            kofu::devkit::samples::signer().public_key(),
            false,
        )])
    })
}

/// `reader::read`, a panic in it left to its `catch_unwind`.
fn read(data: &[u8]) -> Result<ReadDocument, reader::ReadError> {
    IN_READER.with(|f| f.set(true));
    let out = reader::read(data);
    IN_READER.with(|f| f.set(false));
    out
}

/// The QR payload parser, and `to_url` read back as the same payload (the
/// base without its trailing slashes, which `to_url` drops).
fn qr_payload(text: &str) {
    let Some(payload) = QrPayload::parse(text) else {
        return;
    };
    let url = payload.to_url();
    let again = QrPayload::parse(&url);
    let expected = QrPayload {
        base: payload.base.trim_end_matches('/').to_owned(),
        ..payload
    };
    assert_eq!(again.as_ref(), Some(&expected), "{text:?} -> {url:?}");
}

fuzz_target!(
    init: {
        if std::env::var_os("KOFU_FUZZ_READER_PANICS").is_none() {
            // libfuzzer-sys's hook: the default one, then abort.
            let abort = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                if !IN_READER.with(Cell::get) {
                    abort(info);
                }
            }));
        }
        let _ = keys();
    },
    |data: &[u8]| {
        if let Ok(doc) = read(data) {
            assert!(!doc.pages.is_empty() && doc.pages.len() <= 64);
            assert_eq!(doc.pages.len(), doc.qr.len());
            for qr in doc.qr.iter().flatten() {
                qr_payload(qr);
            }
            // The same bytes read the same way again inside, so a panic
            // from here on is outside the reader's catch_unwind.
            let verdict = verify_pdf(data, keys());
            assert!(!verdict.genuine || verdict.pages == doc.pages.len());
        }
        qr_payload(&String::from_utf8_lossy(data));
    }
);
