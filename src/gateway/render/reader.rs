//! A certificate PDF read back the way a third party would read it: with
//! a general PDF reader (lopdf), each page's text objects mapped to text
//! through their fonts' ToUnicode maps, and the QR code decoded from the
//! dark modules its form draws (rqrr). `kofu document verify` checks a
//! document with it; the tests read what the renderer wrote with it.
//!
//! Rule: the bytes are untrusted. Every size is bounded, and anything not
//! of the shape kofu writes is an error, never a panic.

use std::collections::{HashMap, HashSet};

use lopdf::content::Content;
use lopdf::{Dictionary, Document};

/// A document's pages as read: each page's text items and its QR payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadDocument {
    /// The text of each page's text objects, in content-stream order.
    pub pages: Vec<Vec<String>>,
    /// What each page's QR code holds (the same on every page of a genuine
    /// document), `None` for a page without a readable one.
    pub qr: Vec<Option<String>>,
}

/// Why a PDF could not be read as a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("not a readable PDF")]
    NotPdf,
    #[error("the PDF has no pages or more than a certificate may have")]
    PageCount,
    #[error("a page's content cannot be read")]
    Content,
    #[error("a page's text uses a font without a ToUnicode map")]
    NoTextMap,
}

/// Pages a certificate may have (the renderers stop well below).
const MAX_PAGES: usize = 64;
/// Decompressed bytes one stream may expand to.
const MAX_STREAM: usize = 8 * 1024 * 1024;

/// Reads `pdf`'s pages: text items and QR payloads.
///
/// # Errors
/// [`ReadError`] for anything that is not a PDF of the shape kofu writes.
pub fn read(pdf: &[u8]) -> Result<ReadDocument, ReadError> {
    // The reader is a general-purpose parser fed untrusted bytes: a panic
    // in it must be a refusal, not the end of the process.
    std::panic::catch_unwind(|| read_inner(pdf)).unwrap_or(Err(ReadError::NotPdf))
}

fn read_inner(pdf: &[u8]) -> Result<ReadDocument, ReadError> {
    let doc = Document::load_mem(pdf).map_err(|_| ReadError::NotPdf)?;
    let page_ids = doc.get_pages();
    if page_ids.is_empty() || page_ids.len() > MAX_PAGES {
        return Err(ReadError::PageCount);
    }
    let mut out = ReadDocument {
        pages: Vec::with_capacity(page_ids.len()),
        qr: Vec::with_capacity(page_ids.len()),
    };
    for &page in page_ids.values() {
        let content = doc
            .get_page_content_with_limit(page, MAX_STREAM)
            .map_err(|_| ReadError::Content)?;
        let ops = Content::decode(&content).map_err(|_| ReadError::Content)?;
        let fonts = doc.get_page_fonts(page).map_err(|_| ReadError::Content)?;
        let mut maps: HashMap<Vec<u8>, HashMap<u16, String>> = HashMap::new();
        for (name, font) in &fonts {
            if let Some(map) = to_unicode(&doc, font) {
                maps.insert(name.clone(), map);
            }
        }
        out.pages.push(page_text(&ops, &maps)?);
        out.qr.push(page_qr(&doc, page));
    }
    Ok(out)
}

/// The text items of one page: one per text object (`BT` … `ET`), the
/// strings its `Tj`/`TJ` show mapped through the current font.
fn page_text(
    ops: &Content,
    maps: &HashMap<Vec<u8>, HashMap<u16, String>>,
) -> Result<Vec<String>, ReadError> {
    let mut items = Vec::new();
    let mut item: Option<String> = None;
    let mut font: Option<&HashMap<u16, String>> = None;
    let show = |bytes: &[u8], font: Option<&HashMap<u16, String>>, item: &mut String| {
        let map = font.ok_or(ReadError::NoTextMap)?;
        for code in bytes.chunks(2) {
            let code = u16::from_be_bytes([code[0], *code.get(1).unwrap_or(&0)]);
            item.push_str(map.get(&code).map_or("\u{FFFD}", String::as_str));
        }
        Ok::<(), ReadError>(())
    };
    for op in &ops.operations {
        match op.operator.as_str() {
            "BT" => item = Some(String::new()),
            "ET" => items.extend(item.take()),
            "Tf" => {
                let name = op.operands.first().and_then(|o| o.as_name().ok());
                font = name.and_then(|n| maps.get(n));
                if name.is_some() && font.is_none() {
                    return Err(ReadError::NoTextMap);
                }
            }
            "Tj" | "'" | "\"" => {
                let (Some(text), Some(s)) = (item.as_mut(), op.operands.last()) else {
                    return Err(ReadError::Content);
                };
                show(s.as_str().map_err(|_| ReadError::Content)?, font, text)?;
            }
            "TJ" => {
                let (Some(text), Some(array)) = (
                    item.as_mut(),
                    op.operands.first().and_then(|o| o.as_array().ok()),
                ) else {
                    return Err(ReadError::Content);
                };
                for part in array {
                    if let Ok(s) = part.as_str() {
                        show(s, font, text)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(items)
}

/// A font's ToUnicode map (`bfchar` and `bfrange` entries of two-byte codes).
pub(crate) fn to_unicode(doc: &Document, font: &Dictionary) -> Option<HashMap<u16, String>> {
    let stream = font.get_deref(b"ToUnicode", doc).ok()?.as_stream().ok()?;
    let data = stream.decompressed_content_with_limit(MAX_STREAM).ok()?;
    let text = std::str::from_utf8(&data).ok()?;
    let hex = |s: &str| -> Option<Vec<u16>> {
        let s = s.trim().strip_prefix('<')?.strip_suffix('>')?;
        if s.len() % 4 != 0 {
            return None;
        }
        (0..s.len() / 4)
            .map(|i| u16::from_str_radix(s.get(4 * i..4 * i + 4)?, 16).ok())
            .collect()
    };
    let mut map = HashMap::new();
    let mut section = "";
    for line in text.lines() {
        let line = line.trim();
        if line.ends_with("beginbfchar") || line.ends_with("beginbfrange") {
            section = if line.ends_with("beginbfchar") {
                "char"
            } else {
                "range"
            };
            continue;
        }
        if line == "endbfchar" || line == "endbfrange" {
            section = "";
            continue;
        }
        let fields: Vec<&str> = line
            .split('>')
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim())
            .collect();
        match (section, fields.as_slice()) {
            ("char", [code, to]) => {
                let code = *hex(&format!("{code}>"))?.first()?;
                let to = String::from_utf16(&hex(&format!("{to}>"))?).ok()?;
                map.insert(code, to);
            }
            ("range", [lo, hi, to]) => {
                let (lo, hi) = (
                    *hex(&format!("{lo}>"))?.first()?,
                    *hex(&format!("{hi}>"))?.first()?,
                );
                let mut to = hex(&format!("{to}>"))?;
                if hi < lo || hi - lo > 1024 || to.is_empty() {
                    return None;
                }
                for code in lo..=hi {
                    map.insert(code, String::from_utf16(&to).ok()?);
                    *to.last_mut()? = to.last()?.wrapping_add(1);
                }
            }
            _ => {}
        }
    }
    Some(map)
}

/// What the page's QR form (`/QR` among its XObjects) holds: its filled
/// rectangles drawn as an image and decoded like a camera would.
fn page_qr(doc: &Document, page: lopdf::ObjectId) -> Option<String> {
    let (resources, inherited) = doc.get_page_resources(page).ok()?;
    let resources = resources.or_else(|| {
        inherited
            .first()
            .and_then(|id| doc.get_dictionary(*id).ok())
    })?;
    let xobjects = resources.get_deref(b"XObject", doc).ok()?.as_dict().ok()?;
    let form = xobjects.get_deref(b"QR", doc).ok()?.as_stream().ok()?;
    let data = form.decompressed_content_with_limit(MAX_STREAM).ok()?;
    let ops = Content::decode(&data).ok()?;
    let mut modules: HashSet<(u32, u32)> = HashSet::new();
    let mut side = 0u32;
    for op in &ops.operations {
        if op.operator != "re" {
            continue;
        }
        let n: Vec<f32> = op
            .operands
            .iter()
            .filter_map(|o| o.as_float().ok())
            .collect();
        let [x, y, w, h] = n[..] else { return None };
        let (x, y, w) = (x.round() as i64, y.round() as i64, w.round() as i64);
        if x < 0
            || y < 0
            || !(1..=256).contains(&w)
            || h.round() as i64 != 1
            || x + w > 256
            || y >= 256
        {
            return None;
        }
        for dx in 0..w {
            modules.insert(((x + dx) as u32, y as u32));
            side = side.max((x + dx) as u32 + 1).max(y as u32 + 1);
        }
    }
    if modules.is_empty() {
        return None;
    }
    // Four pixels a module, the quiet zone added around what was drawn.
    let scale = 4u32;
    let size = ((side + 4) * scale) as usize;
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(size, size, |px, py| {
        let (mx, my) = (px as u32 / scale, py as u32 / scale);
        // PDF y grows upwards; image rows grow downwards.
        match side.checked_sub(1 + my) {
            Some(y) if modules.contains(&(mx, y)) => 0,
            _ => 255,
        }
    });
    let grids = image.detect_grids();
    let (_, content) = grids.first()?.decode().ok()?;
    Some(content)
}
