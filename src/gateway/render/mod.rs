//! Certificate PDFs: turns a register snapshot ([`model`]) into the bytes a
//! copier prints.
//!
//! Rule: the renderer draws only what the snapshot holds, and every page of a
//! document carries that document's identity (交付番号, 文書番号, page n/N and
//! the order id), so a page can always be matched to the order it belongs to.
//! A character the font cannot draw is an error, never a blank box.
//!
//! Layout of this module:
//! - `era` — Japanese era dates (和暦) as certificates print them.
//! - `model` — the data a certificate shows (`parts`: what several kinds share).
//! - `residence` — 住民票の写し (residence certificate) layout.
//! - `residence_record`, `seal`, `tax`, `family_register`,
//!   `family_register_addresses` — every other kind: its model type and the
//!   rows it prints, laid out by `form`.
//! - `form` — the shared layout of those kinds: framed blocks of rows, paginated.
//! - `attestation` — the closing attestation, mayor's name and municipal seal (公印).
//! - `page` — what every page carries: copy-deterrent background and identity footer.
//! - `canvas` — drawing primitives (text in the one Mincho face, frames, lines).
//!
//! The font (IPAex Mincho) is parsed once per process ([`Renderer::global`]) and
//! embedded in each PDF as a subset of the glyphs that document uses.

mod attestation;
mod canvas;
mod cmap;
pub mod era;
pub mod family_register;
pub mod family_register_addresses;
mod font;
mod form;
pub mod model;
mod page;
mod parts;
mod pdf;
pub mod reader;
mod residence;
pub mod residence_record;
pub mod seal;
pub mod signing;
pub mod tax;

use std::fmt;
use std::sync::OnceLock;

use canvas::{Face, GlyphSet, Image, Page};
use font::FontFile;
use signing::{QrPayload, SignedHeader, Signing};

/// IPAex Mincho (IPAex明朝), IPA Font License v1.0; see `assets/fonts/README.md`.
const MINCHO_TTF: &[u8] = include_bytes!("../../../assets/fonts/ipaexm.ttf");

/// A finished document is refused above this size: a certificate with a
/// properly subset font is a few tens of kilobytes, so anything near this
/// means the subset silently fell back to embedding the whole 7.8 MB font.
const MAX_PDF_BYTES: usize = 1024 * 1024;

/// The part of a certificate a rendering error concerns. Errors name the
/// field, never its content: register data is personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The certificate's own fixed wording (title, labels, attestation).
    Template,
    /// 交付番号, 文書番号 and order id in the footer.
    DocumentIdentity,
    MunicipalityName,
    MayorTitle,
    MayorName,
    SealText,
    Address,
    Householder,
    /// 氏名
    Name,
    /// ふりがな
    NameKana,
    /// 続柄
    Relationship,
    /// 本籍
    Domicile,
    /// 筆頭者
    HeadOfRegister,
    /// 個人番号
    MyNumber,
    /// 旧氏
    FormerSurname,
    /// 通称
    Alias,
    /// 国籍・地域, 在留カード等の番号, 在留資格, 在留期間
    ForeignResident,
    /// 印影
    SealImpression,
    /// 登録番号 (seal registration)
    RegistrationNumber,
    /// 父, 母 (family register)
    ParentName,
    /// A family register's 身分事項 entry.
    RegisterEntry,
}

/// Why a certificate could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The bundled font could not be parsed (a build defect, not bad input).
    #[error("the bundled certificate font could not be parsed")]
    FontUnavailable,
    /// A residence certificate must list at least one person.
    #[error("the certificate lists no residents")]
    NoMembers,
    /// More people than a certificate may list (bounds the document size).
    #[error("the certificate lists {count} residents, more than the {max} allowed")]
    TooManyMembers { count: usize, max: usize },
    /// A field that must be printed is empty.
    #[error("{field:?} is empty")]
    EmptyField { field: Field },
    /// The font has no glyph for a character of the field, e.g. a 外字 or a
    /// control character. Printing a substitute would misstate the register.
    #[error("{field:?} contains a character the certificate font cannot draw")]
    MissingGlyph { field: Field },
    /// The field does not fit its place even at the smallest legible size.
    #[error("{field:?} is too long to fit on the certificate")]
    TextTooLong { field: Field },
    /// The document would take more pages than one may have.
    #[error("the document takes {pages} pages, more than the {max} allowed")]
    TooManyPages { pages: usize, max: usize },
    /// The seal impression is not a PNG that decodes within its bounds.
    #[error("the seal impression image does not decode")]
    Image,
    /// The municipality's seal image named by the snapshot is missing, is
    /// not the image its digest names, or does not decode.
    #[error("the municipality's seal image is missing, altered or does not decode")]
    SealImage,
    /// The QR code could not hold the verification payload (a far too
    /// long verification base URL).
    #[error("the verification QR code cannot hold its payload")]
    QrCode,
    /// The finished PDF is implausibly large (see [`MAX_PDF_BYTES`]).
    #[error("the rendered PDF is {bytes} bytes, more than the {max} allowed")]
    TooLarge { bytes: usize, max: usize },
}

/// The municipality's seal image, when the snapshot names one: the bytes
/// looked up for it must be the image its digest names and must decode.
fn municipal_seal(header: &model::MunicipalityHeader) -> Result<Option<Image>, RenderError> {
    match (&header.seal_image_sha256, &header.seal_image_png) {
        (None, None) => Ok(None),
        (Some(digest), Some(png)) if *digest == model::sha256_hex(png) => seal::decode_png(png)
            .map(Some)
            .map_err(|_| RenderError::SealImage),
        _ => Err(RenderError::SealImage),
    }
}

/// The largest seal image a municipality's settings may carry, in bytes:
/// in base64 with the rest of the settings it stays within a request body
/// (`max_body_bytes`, 64 KiB by default). A seal of 300 px a side in a few
/// colours is a few KiB.
pub const MAX_SEAL_IMAGE_BYTES: usize = 32 * 1024;

/// Why `png` cannot serve as a municipality's seal image, if it cannot, as
/// a stable reason code: `too_large` (over [`MAX_SEAL_IMAGE_BYTES`]),
/// `not_a_png` (does not decode as an 8- or 16-bit grey or colour PNG of at
/// most 2,000 pixels a side; palette images are refused), `too_small` (under
/// 100 pixels a side, illegible at 22 mm) or `not_square` (sides more than
/// 2:3 apart).
pub fn seal_image_problem(png: &[u8]) -> Option<&'static str> {
    if png.len() > MAX_SEAL_IMAGE_BYTES {
        return Some("too_large");
    }
    let Ok(image) = seal::decode_png(png) else {
        return Some("not_a_png");
    };
    let (short, long) = (image.width.min(image.height), image.width.max(image.height));
    if short < 100 {
        return Some("too_small");
    }
    if long * 2 > short * 3 {
        return Some("not_square");
    }
    None
}

/// The title a kind's paper carries, e.g. `住民票の写し`.
pub const fn paper_title(kind: crate::gateway::domain::CertificateKind) -> &'static str {
    use crate::gateway::domain::CertificateKind as K;
    match kind {
        K::ResidenceCertificate => residence::TITLE,
        K::ResidenceRecordCertificate => residence_record::TITLE,
        K::SealRegistration => seal::TITLE,
        K::TaxCertificate => tax::TITLE,
        K::FamilyRegisterFull => family_register::TITLE_FULL,
        K::FamilyRegisterIndividual => family_register::TITLE_INDIVIDUAL,
        K::FamilyRegisterAddresses => family_register_addresses::TITLE,
    }
}

/// A rendered certificate, ready to hand to the copier that ordered it.
#[derive(Debug, Clone)]
pub struct RenderedDocument {
    pub pdf: Vec<u8>,
    pub page_count: u32,
    /// SHA-256 of `pdf`, for the audit record and delivery check.
    pub sha256: [u8; 32],
    /// The signed content digest (what the QR holds and what
    /// `GET /v1/verify/{code}?digest=` must present to see the content).
    pub digest: [u8; 32],
    /// The text of each page as signed, item by item (what the verification
    /// endpoint shows a caller who presents the digest).
    pub text: Vec<Vec<String>>,
}

/// Renders certificates. Holds the prepared font, so build it once
/// ([`Renderer::global`]) and share it; rendering is CPU work, so call it
/// from a blocking pool, never on the async reactor.
pub struct Renderer {
    /// The bundled font, ready to subset.
    font: FontFile,
    /// The bundled font's cmap (with its variation sequences) and advances.
    tables: cmap::Cmap,
    /// IPAmj Mincho, when installed: the glyphs the bundled font lacks.
    fallback: Option<Fallback>,
    /// The copy-deterrent background form's stream, deflated once.
    background: Vec<u8>,
}

/// The installed font for what the bundled one cannot draw (外字 and
/// ideographic variation sequences): its tables read at start, the font
/// read for subsetting only when a document first needs it.
struct Fallback {
    /// Read again when a document first needs the font, so the 45 MB file
    /// is not held in memory by every process that never prints a 外字.
    path: std::path::PathBuf,
    tables: cmap::Cmap,
    file: OnceLock<Option<FontFile>>,
}

/// Where Debian's `fonts-ipamj-mincho` installs IPAmj Mincho; the
/// `KOFU_FALLBACK_FONT` variable names another file (or, empty, none).
const FALLBACK_FONT_PATHS: [&str; 2] = [
    "/usr/share/fonts/truetype/ipamj/ipamjm.ttf",
    "/usr/share/fonts/opentype/ipamj/ipamjm.ttf",
];

impl Fallback {
    fn load() -> Option<Fallback> {
        let path = match std::env::var_os("KOFU_FALLBACK_FONT") {
            Some(p) if p.is_empty() => return None,
            Some(p) => std::path::PathBuf::from(p),
            None => FALLBACK_FONT_PATHS
                .iter()
                .map(std::path::PathBuf::from)
                .find(|p| p.exists())?,
        };
        let bytes = std::fs::read(&path).ok()?;
        let Some(tables) = cmap::Cmap::parse(&bytes) else {
            tracing::warn!(path = %path.display(), "the fallback font has no usable cmap; not used");
            return None;
        };
        tracing::info!(path = %path.display(), "fallback font for 外字 and variation sequences");
        Some(Fallback {
            path,
            tables,
            file: OnceLock::new(),
        })
    }

    fn file(&self) -> Option<&FontFile> {
        self.file
            .get_or_init(|| {
                let bytes = std::fs::read(&self.path).ok()?;
                FontFile::parse(std::borrow::Cow::Owned(bytes))
            })
            .as_ref()
    }
}

impl fmt::Debug for Renderer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Renderer")
            .field("font", &self.font)
            .finish_non_exhaustive()
    }
}

/// The PostScript names the subsets are embedded under (with their tags).
const FONT_NAME: &str = "IPAexMincho";
const FALLBACK_FONT_NAME: &str = "IPAmjMincho";

/// Object numbers of the parts every document has, in the order written.
const CATALOG: u32 = 1;
const PAGES: u32 = 2;
const INFO: u32 = 3;
const BACKGROUND: u32 = 4;
const QR: u32 = 5;
/// The bundled font's five objects start here (Type0, CIDFont,
/// descriptor, font file, ToUnicode); the background form refers to it.
const FONT: u32 = 6;

impl Renderer {
    /// The process-wide renderer; prepares the font on first use.
    ///
    /// Call it once at startup so the first order does not pay for it.
    ///
    /// # Panics
    /// If the font compiled into the binary does not parse, which the test
    /// `bundled_font_parses_and_has_the_certificate_glyphs` rules out.
    pub fn global() -> &'static Renderer {
        static GLOBAL: OnceLock<Renderer> = OnceLock::new();
        GLOBAL.get_or_init(|| {
            Renderer::with_font(MINCHO_TTF).expect("the bundled IPAex Mincho font parses")
        })
    }

    fn with_font(ttf: &'static [u8]) -> Result<Self, RenderError> {
        let font =
            FontFile::parse(std::borrow::Cow::Borrowed(ttf)).ok_or(RenderError::FontUnavailable)?;
        let tables = cmap::Cmap::parse(ttf).ok_or(RenderError::FontUnavailable)?;
        if canvas::PATTERN_CHARS
            .iter()
            .any(|&c| tables.glyph(c).is_none())
        {
            return Err(RenderError::FontUnavailable);
        }
        Ok(Self {
            font,
            tables,
            fallback: Fallback::load(),
            background: pdf::zlib(&page::background_content()),
        })
    }

    /// Whether an installed fallback font (IPAmj Mincho) is in use.
    pub fn has_fallback_font(&self) -> bool {
        self.fallback.is_some()
    }

    /// Renders and signs a certificate of any kind.
    ///
    /// # Errors
    /// When the snapshot cannot be printed faithfully: nothing or too much
    /// to list, an empty mandatory field (the verification code included),
    /// a character the font lacks, text that does not fit, or an
    /// impression image that does not decode. See [`RenderError`].
    pub fn render_signed(
        &self,
        cert: &model::Certificate,
        signing: &Signing<'_>,
    ) -> Result<RenderedDocument, RenderError> {
        use model::Certificate as C;
        let document = cert.document();
        let face = self.face();
        let municipal_seal = municipal_seal(cert.municipality())?;
        let (title, pages, image) = match cert {
            C::Residence(c) => (residence::TITLE, residence::pages(&face, c)?, None),
            C::ResidenceRecord(c) => {
                let sheet = residence_record::sheet(c);
                (sheet.title, sheet.pages(&face)?, None)
            }
            C::Seal(c) => {
                let mut sheet = seal::sheet(c);
                let image = seal::impression(c, &mut sheet)?;
                (sheet.title, sheet.pages(&face)?, Some(image))
            }
            C::Tax(c) => {
                let sheet = tax::sheet(c);
                (sheet.title, sheet.pages(&face)?, None)
            }
            C::FamilyRegister(c) => {
                let sheet = family_register::sheet(c);
                (sheet.title, sheet.pages(&face)?, None)
            }
            C::FamilyRegisterAddresses(c) => {
                let sheet = family_register_addresses::sheet(c);
                (sheet.title, sheet.pages(&face)?, None)
            }
        };
        let images = image
            .map(|i| (canvas::IMAGE_RESOURCE, i))
            .into_iter()
            .chain(municipal_seal.map(|i| (canvas::SEAL_IMAGE_RESOURCE, i)))
            .collect();
        self.finish(cert.kind(), title, document, face, pages, images, signing)
    }

    /// The first field of a certificate the font cannot draw (a 外字, a
    /// character outside the font, or an ideographic variation sequence) —
    /// or, on the forms other than the residence certificate, a value too
    /// long for its cell — if any: the acceptance refuses such an order
    /// before it is paid for (`name_not_printable`), rather than the render
    /// failing after. Checks the same fields, by the same rule, as the
    /// layout draws them.
    pub fn unprintable(&self, cert: &model::Certificate) -> Option<Field> {
        use model::Certificate as C;
        let sheet = match cert {
            C::Residence(c) => return self.residence_unprintable(c),
            C::ResidenceRecord(c) => residence_record::sheet(c),
            C::Seal(c) => seal::sheet(c),
            C::Tax(c) => tax::sheet(c),
            C::FamilyRegister(c) => family_register::sheet(c),
            C::FamilyRegisterAddresses(c) => family_register_addresses::sheet(c),
        };
        sheet
            .texts()
            .into_iter()
            .find(|(text, _)| !self.draws(text))
            .map(|(_, field)| field)
            .or_else(|| sheet.overflowing(&self.face()))
    }

    /// The first field of a residence certificate the font cannot draw.
    pub fn residence_unprintable(&self, cert: &model::ResidenceCertificate) -> Option<Field> {
        let m = &cert.municipality;
        let mut fields: Vec<(&str, Field)> = vec![
            (&m.name, Field::MunicipalityName),
            (&m.mayor_title, Field::MayorTitle),
            (&m.mayor_name, Field::MayorName),
            (&m.seal_text, Field::SealText),
            (&cert.address, Field::Address),
        ];
        if let Some(householder) = &cert.householder {
            fields.push((householder, Field::Householder));
        }
        for r in &cert.members {
            fields.push((&r.name, Field::Name));
            fields.push((&r.name_kana, Field::NameKana));
            if let Some(relationship) = &r.relationship {
                fields.push((relationship, Field::Relationship));
            }
            if let Some(d) = &r.domicile {
                fields.push((&d.domicile, Field::Domicile));
                fields.push((&d.head_of_register, Field::HeadOfRegister));
            }
            if let Some(my_number) = &r.my_number {
                fields.push((my_number, Field::MyNumber));
            }
            if let Some(former) = &r.former_surname {
                fields.push((former, Field::FormerSurname));
            }
            if let Some(f) = &r.foreign {
                for text in [
                    &f.nationality,
                    &f.residence_card_number,
                    &f.status_of_residence,
                    &f.period_of_stay,
                ] {
                    fields.push((text, Field::ForeignResident));
                }
            }
        }
        fields
            .into_iter()
            .find(|(text, _)| !self.draws(text))
            .map(|(_, field)| field)
    }

    /// Whether every character of `text` (with its variation selector, if
    /// any) has a glyph in the bundled or the fallback font (glyph 0 is
    /// `.notdef`, the empty box, and never counts).
    fn draws(&self, text: &str) -> bool {
        let fallback = self.fallback.as_ref().map(|f| &f.tables);
        cmap::clusters(text)
            .into_iter()
            .all(|(c, vs)| canvas::resolve(&self.tables, fallback, c, vs).is_some())
    }

    /// A face for one document: the bundled font and the fallback's tables.
    fn face(&self) -> Face<'_> {
        Face::new(
            &self.tables,
            self.fallback.as_ref().map(|f| &f.tables),
            self.font.metrics,
        )
    }

    /// Signs the pages' text and writes the PDF: the pages, the prepared
    /// background, the QR code, each font's subset and the image.
    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        kind: crate::gateway::domain::CertificateKind,
        title: &str,
        document: &model::DocumentIdentity,
        face: Face<'_>,
        pages: Vec<Page>,
        images: Vec<(&'static str, Image)>,
        signing: &Signing<'_>,
    ) -> Result<RenderedDocument, RenderError> {
        // Each layout bounds its member count, so this is a handful of pages.
        let page_count = pages.len();
        let text: Vec<Vec<String>> = pages.iter().map(|p| p.text.clone()).collect();
        let header = SignedHeader {
            code: &document.verification_code,
            kind,
            issued_at: signing.issued_at.unix_timestamp(),
            pages: page_count,
        };
        let digest = signing::digest(&header, &text);
        let payload = QrPayload {
            base: signing.verify_base.to_owned(),
            code: document.verification_code.clone(),
            key_id: signing.signer.key_id().to_owned(),
            issued_at: header.issued_at,
            kind,
            digest,
            signature: signing.signer.sign(&digest),
        };
        let qr = signing::qr_form(&payload.to_url()).ok_or(RenderError::QrCode)?;
        let [primary, fallback] = face.into_glyphs();
        let tags = subset_tags(document.order_id);

        let mut file = pdf::PdfFile::new(48 * 1024);
        let mut next = FONT;
        let primary_font = next;
        next += 5;
        let fallback_font = (!fallback.is_empty()).then(|| {
            let id = next;
            next += 5;
            id
        });
        let image_ids: Vec<u32> = images
            .iter()
            .map(|_| {
                let id = next;
                next += 1;
                id
            })
            .collect();
        let first_page = next;
        let page_ids: Vec<u32> = (0..page_count as u32).map(|i| first_page + 2 * i).collect();

        file.object(CATALOG, b"<< /Type /Catalog /Pages 2 0 R >>");
        let kids: Vec<String> = page_ids.iter().map(|id| format!("{id} 0 R")).collect();
        file.object(
            PAGES,
            format!(
                "<< /Type /Pages /Kids [{}] /Count {page_count} >>",
                kids.join(" ")
            )
            .as_bytes(),
        );
        // Date-level metadata only; the document itself prints the issue date.
        let mut info = b"<< /Producer (kofu) /Title ".to_vec();
        info.extend_from_slice(&pdf::text_string(title));
        let issued = signing.issued_at.to_offset(time::UtcOffset::UTC).date();
        info.extend_from_slice(
            format!(
                " /CreationDate (D:{:04}{:02}{:02}000000Z) >>",
                issued.year(),
                u8::from(issued.month()),
                issued.day()
            )
            .as_bytes(),
        );
        file.object(INFO, &info);
        file.raw_stream(
            BACKGROUND,
            format!(
                "/Type /XObject /Subtype /Form /BBox [0 0 {W} {H}] /Resources << /Font << /F1 {FONT} 0 R >> >>",
                W = 595.28,
                H = 841.89
            )
            .as_bytes(),
            b"/Filter /FlateDecode ",
            &self.background,
        );
        file.stream(
            QR,
            b"/Type /XObject /Subtype /Form /BBox [0 0 1 1]",
            &qr,
            true,
        );
        write_font(
            &mut file,
            primary_font,
            &self.font,
            &primary,
            &tags.0,
            FONT_NAME,
        );
        if let Some(id) = fallback_font {
            let font = self
                .fallback
                .as_ref()
                .and_then(Fallback::file)
                .ok_or(RenderError::FontUnavailable)?;
            write_font(&mut file, id, font, &fallback, &tags.1, FALLBACK_FONT_NAME);
        }
        for (&id, (_, image)) in image_ids.iter().zip(&images) {
            let space = if image.rgb {
                "/DeviceRGB"
            } else {
                "/DeviceGray"
            };
            file.stream(
                id,
                format!(
                    "/Type /XObject /Subtype /Image /Width {} /Height {} /ColorSpace {space} /BitsPerComponent 8",
                    image.width, image.height
                )
                .as_bytes(),
                &image.samples,
                true,
            );
        }
        let mut resources = format!("<< /Font << /F1 {primary_font} 0 R");
        if let Some(id) = fallback_font {
            resources.push_str(&format!(" /F2 {id} 0 R"));
        }
        resources.push_str(&format!(
            " >> /XObject << /{} {BACKGROUND} 0 R /{} {QR} 0 R",
            page::BACKGROUND_FORM,
            page::QR_FORM
        ));
        for (&id, (resource, _)) in image_ids.iter().zip(&images) {
            resources.push_str(&format!(" /{resource} {id} 0 R"));
        }
        resources.push_str(" >> >>");
        for (page, &id) in pages.iter().zip(&page_ids) {
            file.object(
                id,
                format!(
                    "<< /Type /Page /Parent {PAGES} 0 R /MediaBox [0 0 595.28 841.89] /Resources {resources} /Contents {} 0 R >>",
                    id + 1
                )
                .as_bytes(),
            );
            file.stream(id + 1, b"", &page.content, true);
        }
        let pdf = file.finish(CATALOG, INFO, document.order_id.as_bytes());
        if pdf.len() > MAX_PDF_BYTES {
            return Err(RenderError::TooLarge {
                bytes: pdf.len(),
                max: MAX_PDF_BYTES,
            });
        }
        let mut sha256 = [0u8; 32];
        sha256.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, &pdf).as_ref());
        Ok(RenderedDocument {
            pdf,
            page_count: page_count as u32,
            sha256,
            digest,
            text,
        })
    }
}

/// The subset tags (`ABCDEF+IPAexMincho`) of a document's two fonts, from
/// its order id: some printers cache fonts by name across jobs, so two
/// documents with different glyph subsets must never share a name.
fn subset_tags(order_id: uuid::Uuid) -> (String, String) {
    let tag = |salt: &[u8]| -> String {
        let mut input = order_id.as_bytes().to_vec();
        input.extend_from_slice(salt);
        let digest = ring::digest::digest(&ring::digest::SHA256, &input);
        digest
            .as_ref()
            .iter()
            .take(6)
            .map(|b| char::from(b'A' + b % 26))
            .collect()
    };
    (tag(b""), tag(b"fallback"))
}

/// The five objects of one embedded font from `id` on: the Type0 font, its
/// CIDFont (glyph widths, CID = glyph id), the descriptor, the subset font
/// file and the ToUnicode map (glyph id → the text it stands for).
fn write_font(
    file: &mut pdf::PdfFile,
    id: u32,
    font: &FontFile,
    used: &GlyphSet,
    tag: &str,
    name: &str,
) {
    let mut glyphs: Vec<u16> = used.glyphs.iter().map(|(g, _)| *g).collect();
    font.close_over_components(&mut glyphs);
    let m = font.metrics;
    let upm = f32::from(m.units_per_em);
    let scale = |v: i16| (f32::from(v) * 1000.0 / upm).round() as i32;
    let base = format!("{tag}+{name}");
    file.object(
        id,
        format!(
            "<< /Type /Font /Subtype /Type0 /BaseFont /{base} /Encoding /Identity-H /DescendantFonts [{} 0 R] /ToUnicode {} 0 R >>",
            id + 1,
            id + 4
        )
        .as_bytes(),
    );
    let mut widths = String::with_capacity(6 * glyphs.len());
    for &g in &glyphs {
        let (advance, _) = font.horizontal_metrics(g);
        widths.push_str(&format!(
            "{} ",
            (f32::from(advance) * 1000.0 / upm).round() as u32
        ));
    }
    file.object(
        id + 1,
        format!(
            "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{base} /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor {} 0 R /DW 1000 /W [0 [{}]] /CIDToGIDMap /Identity >>",
            id + 2,
            widths.trim_end()
        )
        .as_bytes(),
    );
    file.object(
        id + 2,
        format!(
            "<< /Type /FontDescriptor /FontName /{base} /Flags 6 /FontBBox [{} {} {} {}] /ItalicAngle 0 /Ascent {} /Descent {} /CapHeight {} /StemV 80 /FontFile2 {} 0 R >>",
            scale(m.bbox[0]),
            scale(m.bbox[1]),
            scale(m.bbox[2]),
            scale(m.bbox[3]),
            scale(m.ascender),
            scale(m.descender),
            scale(m.cap_height),
            id + 3
        )
        .as_bytes(),
    );
    let subset = font.subset(&glyphs);
    file.stream(
        id + 3,
        format!("/Length1 {}", subset.len()).as_bytes(),
        &subset,
        false,
    );
    file.stream(id + 4, b"", &to_unicode(used), true);
}

/// A ToUnicode CMap mapping each glyph id of `used` (but `.notdef`) to the
/// UTF-16BE text it stands for.
fn to_unicode(used: &GlyphSet) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + 24 * used.glyphs.len());
    out.extend_from_slice(
        b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
          /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
          /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
          1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let entries: Vec<(u16, &str)> = (1u16..)
        .zip(used.glyphs.iter().skip(1))
        .map(|(id, (_, text))| (id, text.as_str()))
        .collect();
    for block in entries.chunks(100) {
        out.extend_from_slice(format!("{} beginbfchar\n", block.len()).as_bytes());
        for (id, text) in block {
            out.push(b'<');
            canvas::hex4(&mut out, *id);
            out.extend_from_slice(b"> <");
            for unit in text.encode_utf16() {
                canvas::hex4(&mut out, unit);
            }
            out.extend_from_slice(b">\n");
        }
        out.extend_from_slice(b"endbfchar\n");
    }
    out.extend_from_slice(b"endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    out
}

#[cfg(test)]
mod tests {
    use time::macros::date;
    use uuid::Uuid;

    use super::model::{
        DocumentIdentity, Domicile, MunicipalityHeader, ResidenceCertificate, ResidentRecord, Sex,
    };
    use super::*;

    const DOCUMENT_NUMBER: &str = "KF-131016-000000042";

    fn resident(i: usize) -> ResidentRecord {
        let names = [
            "山田　太郎",
            "山田　花子",
            "山田　一郎",
            "山田　二郎",
            "山田　三子",
            "山田　四郎",
            "山田　五月",
        ];
        let kana = [
            "やまだ　たろう",
            "やまだ　はなこ",
            "やまだ　いちろう",
            "やまだ　じろう",
            "やまだ　みつこ",
            "やまだ　しろう",
            "やまだ　さつき",
        ];
        ResidentRecord {
            name: names[i % names.len()].to_owned(),
            name_kana: kana[i % kana.len()].to_owned(),
            birth_date: date!(1960 - 01 - 15),
            sex: [Sex::Male, Sex::Female][i % 2],
            relationship: None,
            became_resident_on: date!(2019 - 05 - 01),
            domicile: None,
            my_number: None,
            former_surname: None,
            foreign: None,
        }
    }

    fn certificate(members: usize) -> ResidenceCertificate {
        ResidenceCertificate {
            municipality: MunicipalityHeader::new(
                "131016".to_owned(),
                "みどり市".to_owned(),
                "みどり市長".to_owned(),
                "山田　一郎".to_owned(),
                "みどり市長之印".to_owned(),
            ),
            document: DocumentIdentity {
                order_id: Uuid::from_u128(0x6a1f_0c2e_9d4b_4e7a_8c3d_2b1a_0f9e_8d7c),
                ticket: 42,
                document_number: DOCUMENT_NUMBER.to_owned(),
                verification_code: "7K3M-Q9XD-2HVA-P".into(),
            },
            issued_on: date!(2025 - 04 - 01),
            address: "みどり市中央一丁目2番3号".to_owned(),
            householder: None,
            whole_household: false,
            members: (0..members).map(resident).collect(),
        }
    }

    /// The tests' renderings, signed with the devkit's fixed inputs.
    impl Renderer {
        fn residence_certificate(
            &self,
            cert: &ResidenceCertificate,
        ) -> Result<RenderedDocument, RenderError> {
            self.render(&model::Certificate::Residence(cert.clone()))
        }

        fn render(&self, cert: &model::Certificate) -> Result<RenderedDocument, RenderError> {
            self.render_signed(cert, &crate::devkit::samples::signing())
        }
    }

    fn render(cert: &ResidenceCertificate) -> RenderedDocument {
        Renderer::global()
            .residence_certificate(cert)
            .expect("certificate renders")
    }

    /// The text of each page, read back from the PDF through its ToUnicode
    /// map (what a text extractor or screen reader sees).
    fn page_texts(pdf: &[u8]) -> Vec<String> {
        reader::read(pdf)
            .expect("the rendered PDF reads back")
            .pages
            .into_iter()
            .map(|items| items.concat())
            .collect()
    }

    fn occurrences(haystack: &[u8], needle: &[u8]) -> usize {
        haystack
            .windows(needle.len())
            .filter(|w| *w == needle)
            .count()
    }

    #[test]
    fn bundled_font_parses_and_has_the_certificate_glyphs() {
        let renderer = Renderer::with_font(MINCHO_TTF).expect("IPAex Mincho parses");
        // The bundled font alone, without any installed fallback.
        let face = Face::new(&renderer.tables, None, renderer.font.metrics);
        let wording = "住民票の写し複写氏名ふりがな生年月日性別男女続柄住民となった年月日本籍筆頭者\
                       個人番号世帯主住所以下余白（次頁に続く）交付番号文書番号注文ID\
                       この写しは、世帯全員の住民票の原本と相違ないことを証明する。\
                       明治大正昭和平成令和元年0123456789()/-　 ";
        assert!(face.width(wording, 10.0, Field::Template).is_ok());
    }

    #[test]
    fn global_renderer_is_built_once() {
        assert!(std::ptr::eq(Renderer::global(), Renderer::global()));
    }

    #[test]
    fn one_member_certificate_is_a_small_one_page_pdf_with_its_sha256() {
        let doc = render(&certificate(1));
        assert!(doc.pdf.starts_with(b"%PDF-"));
        assert_eq!(doc.page_count, 1);
        let digest = ring::digest::digest(&ring::digest::SHA256, &doc.pdf);
        assert_eq!(doc.sha256.as_slice(), digest.as_ref());
        assert!(doc.pdf.len() < 300 * 1024, "{} bytes", doc.pdf.len());
        assert_eq!(page_texts(&doc.pdf).len(), 1);
    }

    #[test]
    fn rendering_is_deterministic_to_the_byte() {
        // Delivery re-renders from the stored snapshot when the PDF is not
        // in memory and checks it against the SHA-256 bound at render time;
        // that works only if the same snapshot always gives the same bytes.
        for members in [1, 7] {
            let cert = certificate(members);
            let first = render(&cert);
            for _ in 0..3 {
                let again = render(&cert);
                assert_eq!(again.sha256, first.sha256, "{members} members");
                assert_eq!(again.pdf, first.pdf);
            }
            // The file identifier is the order id, twice.
            let id = cert
                .document
                .order_id
                .simple()
                .to_string()
                .to_ascii_uppercase();
            let trailer = format!("/ID [<{id}> <{id}>]");
            assert_eq!(occurrences(&first.pdf, trailer.as_bytes()), 1);
        }
    }

    #[test]
    fn font_is_embedded_as_a_subset_named_for_the_order() {
        let cert = certificate(1);
        let doc = render(&cert);
        // Font dictionaries are not compressed, so the names are visible.
        let tag = subset_tags(cert.document.order_id).0;
        assert!(tag.len() == 6 && tag.bytes().all(|b| b.is_ascii_uppercase()));
        let base_font = format!("/{tag}+IPAexMincho");
        assert!(
            occurrences(&doc.pdf, base_font.as_bytes()) >= 1,
            "{base_font} missing"
        );
        assert_eq!(occurrences(&doc.pdf, b"/FontFile2"), 1);
        assert_eq!(occurrences(&doc.pdf, b"/ToUnicode"), 1);

        let mut other = cert.clone();
        other.document.order_id = Uuid::from_u128(7);
        let other_tag = subset_tags(other.document.order_id).0;
        assert_ne!(tag, other_tag);
    }

    #[test]
    fn seven_member_household_takes_two_pages_each_carrying_the_document_identity() {
        let mut cert = certificate(7);
        cert.whole_household = true;
        cert.householder = Some("山田　太郎".to_owned());
        let doc = render(&cert);
        assert_eq!(doc.page_count, 2);

        let pages = page_texts(&doc.pdf);
        assert_eq!(pages.len(), 2, "page count read back from the PDF");
        for (i, text) in pages.iter().enumerate() {
            let identity = format!("交付番号 42  文書番号 {DOCUMENT_NUMBER}  {}/2", i + 1);
            assert!(text.contains(&identity), "page {}: {text}", i + 1);
            assert_eq!(text.matches(DOCUMENT_NUMBER).count(), 1);
            assert!(text.contains(&cert.document.order_id.to_string()));
            assert!(text.contains("住民票の写し"));
        }
        assert_eq!(pages[0].matches("生年月日").count(), 5);
        assert_eq!(pages[1].matches("生年月日").count(), 2);
        assert!(pages[0].contains("次頁に続く"));
        assert!(!pages[0].contains("証明する"));
        assert!(pages[1].contains(WHOLE_HOUSEHOLD));
        assert!(pages[1].contains("以下余白"));
    }

    const WHOLE_HOUSEHOLD: &str = residence::WHOLE_HOUSEHOLD_ATTESTATION;

    #[test]
    fn attestation_names_the_whole_household_only_when_it_is_listed() {
        let mut cert = certificate(2);
        let text = page_texts(&render(&cert).pdf).concat();
        assert!(text.contains(residence::ATTESTATION));
        assert!(!text.contains(WHOLE_HOUSEHOLD));

        cert.whole_household = true;
        let text = page_texts(&render(&cert).pdf).concat();
        assert!(text.contains(WHOLE_HOUSEHOLD));
    }

    #[test]
    fn last_page_shows_issue_date_in_era_form_mayor_and_seal_text() {
        let text = page_texts(&render(&certificate(1)).pdf).concat();
        assert!(text.contains("令和7年(2025年)4月1日"), "{text}");
        assert!(text.contains("昭和35年(1960年)1月15日"));
        assert!(text.contains("令和元年(2019年)5月1日"));
        assert!(text.contains("みどり市長　山田　一郎"));
        for c in "みどり市長之印".chars() {
            assert!(text.contains(c));
        }
    }

    #[test]
    fn a_seal_image_is_printed_instead_of_the_drawn_seal_and_only_the_one_the_digest_names() {
        let png = crate::devkit::demo_registers::municipal_seal_png("みどり市");
        let drawn = render(&certificate(1));
        let mut cert = certificate(1);
        cert.municipality
            .set_seal_image(Some(&model::SealImage::new(png.clone())));
        cert.municipality.issue_date = model::IssueDate::Era;
        let with_image = render(&cert);
        assert_eq!(occurrences(&drawn.pdf, b"/Im2 "), 0);
        assert_eq!(
            occurrences(&with_image.pdf, b"/Im2 "),
            1,
            "in the page's resources"
        );
        assert!(occurrences(&with_image.pdf, b"/Width 160 /Height 160") == 1);
        let text = page_texts(&with_image.pdf).concat();
        assert!(text.contains("令和7年4月1日"), "the era form alone: {text}");
        assert!(!text.contains("令和7年(2025年)4月1日"));
        assert!(
            text.contains("昭和35年(1960年)1月15日"),
            "other dates keep both"
        );
        // The engraving is not drawn when the image stands for it.
        assert!(!text.contains('之'), "{text}");
        // Deterministic, and the digest names the image in the snapshot.
        assert_eq!(render(&cert).sha256, with_image.sha256);
        let snapshot = model::Certificate::Residence(cert.clone()).to_snapshot();
        assert_eq!(
            snapshot["municipality"]["seal_image_sha256"],
            model::sha256_hex(&png)
        );
        let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &png);
        assert!(
            !snapshot.to_string().contains(&encoded[..40]),
            "the bytes stay out of it"
        );
        assert!(
            model::Certificate::from_snapshot(
                crate::gateway::domain::CertificateKind::ResidenceCertificate,
                snapshot
            )
            .unwrap()
            .municipality()
            .seal_image_png
            .is_none()
        );

        // Other bytes than the digest names, none, or bytes that do not decode.
        let mut swapped = cert.clone();
        swapped.municipality.seal_image_png = Some(std::sync::Arc::from(
            crate::devkit::demo_registers::municipal_seal_png("あおい市"),
        ));
        let mut missing = cert.clone();
        missing.municipality.seal_image_png = None;
        let mut broken = cert.clone();
        broken
            .municipality
            .set_seal_image(Some(&model::SealImage::new(png[..60].to_vec())));
        for bad in [swapped, missing, broken] {
            assert!(matches!(
                Renderer::global().residence_certificate(&bad),
                Err(RenderError::SealImage)
            ));
        }
    }

    #[test]
    fn a_seal_image_that_cannot_print_well_is_refused_with_its_reason() {
        let good = crate::devkit::demo_registers::municipal_seal_png("みどり市");
        assert_eq!(seal_image_problem(&good), None);
        assert_eq!(seal_image_problem(&good[..100]), Some("not_a_png"));
        assert_eq!(seal_image_problem(b"GIF89a"), Some("not_a_png"));
        // 96 px: the seal registration's demo impression.
        let small = crate::devkit::demo_registers::seal_impression_png("x");
        assert_eq!(seal_image_problem(&small), Some("too_small"));
        let mut big = good.clone();
        big.resize(MAX_SEAL_IMAGE_BYTES + 1, 0);
        assert_eq!(seal_image_problem(&big), Some("too_large"));
        let mut wide = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut wide, 300, 120);
            encoder.set_color(png::ColorType::Grayscale);
            let mut writer = encoder.write_header().unwrap();
            writer.write_image_data(&vec![255; 300 * 120]).unwrap();
        }
        assert_eq!(seal_image_problem(&wide), Some("not_square"));
    }

    #[test]
    fn optional_items_are_printed_only_when_chosen() {
        let mut cert = certificate(1);
        let plain = page_texts(&render(&cert).pdf).concat();
        for absent in ["世帯主", "続柄", "本籍", "筆頭者", "個人番号"] {
            assert!(!plain.contains(absent), "{absent} printed unasked");
        }

        cert.householder = Some("山田　太郎".to_owned());
        let member = &mut cert.members[0];
        member.relationship = Some("世帯主".to_owned());
        member.domicile = Some(Domicile {
            domicile: "東京都千代田区千代田一番".to_owned(),
            head_of_register: "山田　太郎".to_owned(),
        });
        member.my_number = Some("123456789018".to_owned());
        let full = page_texts(&render(&cert).pdf).concat();
        for present in [
            "世帯主",
            "続柄",
            "本籍",
            "東京都千代田区千代田一番",
            "筆頭者",
            "個人番号",
            "123456789018",
        ] {
            assert!(full.contains(present), "{present} missing");
        }
    }

    #[test]
    fn the_printability_check_finds_the_field_the_render_would_fail_on() {
        let renderer = Renderer::global();
        assert_eq!(renderer.residence_unprintable(&certificate(3)), None);
        let mut cert = certificate(3);
        cert.members[2].name = "日向\u{E000}".to_owned();
        assert_eq!(renderer.residence_unprintable(&cert), Some(Field::Name));
        assert!(matches!(
            renderer.residence_certificate(&cert),
            Err(RenderError::MissingGlyph { field: Field::Name })
        ));
        // An ideographic variation sequence no installed font registers
        // (葛 + VS256) is refused; one the bundled font registers (葛 + VS17)
        // prints with its own glyph.
        let mut cert = certificate(1);
        cert.address = "葛\u{E01EF}飾区".to_owned();
        assert_eq!(renderer.residence_unprintable(&cert), Some(Field::Address));
        cert.address = "葛\u{E0100}飾区".to_owned();
        assert_eq!(renderer.residence_unprintable(&cert), None);
        let text = page_texts(&render(&cert).pdf).concat();
        assert!(text.contains("葛\u{E0100}飾区"), "{text}");
    }

    /// A name with 𠮷 (U+20BB7) and 葛 + VS19 (U+845B U+E0102), which only
    /// IPAmj Mincho draws. `.ci/run` installs it (Debian `fonts-ipamj-mincho`).
    const MJ_ONLY_NAME: &str = "𠮷田　葛\u{E0102}子";

    #[test]
    fn a_name_only_ipamj_mincho_draws_prints_with_it_and_is_refused_without_it() {
        let renderer = Renderer::global();
        assert!(
            renderer.has_fallback_font(),
            "IPAmj Mincho is not installed: apt-get install fonts-ipamj-mincho (.ci/run does)"
        );
        let mut cert = certificate(1);
        cert.members[0].name = MJ_ONLY_NAME.to_owned();
        assert_eq!(renderer.residence_unprintable(&cert), None);
        let doc = render(&cert);
        // Both fonts embedded, each as a subset under its own tag.
        assert_eq!(occurrences(&doc.pdf, b"/FontFile2"), 2);
        assert!(
            occurrences(&doc.pdf, b"+IPAmjMincho") >= 1,
            "the fallback's subset"
        );
        assert!(
            doc.pdf.len() < 200 * 1024,
            "{} bytes: the fallback is subset",
            doc.pdf.len()
        );
        let text = page_texts(&doc.pdf).concat();
        assert!(text.contains("𠮷田"), "{text}");
        assert!(
            text.contains("葛\u{E0102}子"),
            "the sequence reads back whole"
        );
        // Deterministic like every render (delivery elsewhere compares hashes).
        assert_eq!(render(&cert).sha256, doc.sha256);
        // An ordinary name embeds the bundled font alone.
        assert_eq!(occurrences(&render(&certificate(1)).pdf, b"/FontFile2"), 1);

        // Without the fallback the same name is refused before payment.
        let mut alone = Renderer::with_font(MINCHO_TTF).expect("font parses");
        alone.fallback = None;
        assert_eq!(alone.residence_unprintable(&cert), Some(Field::Name));
        assert!(matches!(
            alone.residence_certificate(&cert),
            Err(RenderError::MissingGlyph { field: Field::Name })
        ));
        // A sequence no font registers is refused even with it.
        cert.members[0].name = "葛\u{E01EF}".to_owned();
        assert_eq!(renderer.residence_unprintable(&cert), Some(Field::Name));
    }

    #[test]
    fn character_the_font_lacks_is_refused_without_echoing_it() {
        let mut cert = certificate(1);
        cert.members[0].name = "山田\u{1F600}".to_owned();
        let err = Renderer::global().residence_certificate(&cert).unwrap_err();
        assert!(
            matches!(err, RenderError::MissingGlyph { field: Field::Name }),
            "{err:?}"
        );
        assert!(!err.to_string().contains("山田"));

        let mut cert = certificate(1);
        cert.address = "みどり市\u{7}".to_owned();
        let err = Renderer::global().residence_certificate(&cert).unwrap_err();
        assert!(
            matches!(
                err,
                RenderError::MissingGlyph {
                    field: Field::Address
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn empty_and_oversized_certificates_are_refused() {
        let err = Renderer::global()
            .residence_certificate(&certificate(0))
            .unwrap_err();
        assert!(matches!(err, RenderError::NoMembers));

        let err = Renderer::global()
            .residence_certificate(&certificate(residence::MAX_MEMBERS + 1))
            .unwrap_err();
        assert!(matches!(
            err,
            RenderError::TooManyMembers {
                count: 101,
                max: 100
            }
        ));

        let mut cert = certificate(1);
        cert.address = "一".repeat(200);
        let err = Renderer::global().residence_certificate(&cert).unwrap_err();
        assert!(
            matches!(
                err,
                RenderError::TextTooLong {
                    field: Field::Address
                }
            ),
            "{err:?}"
        );

        let mut cert = certificate(1);
        cert.municipality.seal_text = String::new();
        let err = Renderer::global().residence_certificate(&cert).unwrap_err();
        assert!(matches!(
            err,
            RenderError::EmptyField {
                field: Field::SealText
            }
        ));
    }

    #[test]
    fn largest_household_renders_within_bounds() {
        let doc = render(&certificate(residence::MAX_MEMBERS));
        assert_eq!(doc.page_count, 20);
        assert!(doc.pdf.len() < MAX_PDF_BYTES);
    }

    #[test]
    fn renders_concurrently_from_several_threads() {
        let cert = certificate(3);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..4).map(|_| s.spawn(|| render(&cert))).collect();
            for h in handles {
                assert_eq!(h.join().expect("thread finished").page_count, 1);
            }
        });
    }

    /// One certificate of every other kind, invented.
    fn other_kinds() -> Vec<model::Certificate> {
        crate::devkit::samples::every_kind()
            .into_iter()
            .filter(|c| !matches!(c, model::Certificate::Residence(_)))
            .collect()
    }

    #[test]
    fn every_kind_renders_deterministically_and_round_trips_its_snapshot() {
        for cert in other_kinds() {
            let first = Renderer::global().render(&cert).expect("renders");
            let again = Renderer::global().render(&cert).expect("renders");
            assert_eq!(first.sha256, again.sha256, "{:?}", cert.kind());
            let stored = model::Certificate::from_snapshot(cert.kind(), cert.to_snapshot())
                .expect("the snapshot reads back");
            assert_eq!(stored, cert);
            // A snapshot read back as another kind is refused, not misprinted.
            let other = crate::gateway::domain::CertificateKind::ALL
                .into_iter()
                .find(|k| {
                    *k != cert.kind()
                        && !(k.is_family_register() && cert.kind().is_family_register())
                })
                .unwrap();
            assert!(model::Certificate::from_snapshot(other, cert.to_snapshot()).is_err());
            let text = page_texts(&first.pdf).concat();
            assert!(text.contains(paper_title(cert.kind())), "{text}");
        }
    }

    #[test]
    fn the_other_kinds_refuse_what_the_font_cannot_draw_and_a_bad_impression() {
        for mut cert in other_kinds() {
            assert_eq!(Renderer::global().unprintable(&cert), None);
            match &mut cert {
                model::Certificate::ResidenceRecord(c) => c.name.push('\u{E000}'),
                model::Certificate::Seal(c) => c.name.push('\u{E000}'),
                model::Certificate::Tax(c) => c.name.push('\u{E000}'),
                model::Certificate::FamilyRegister(c) => {
                    c.members.last_mut().unwrap().name.push('\u{E000}')
                }
                model::Certificate::FamilyRegisterAddresses(c) => {
                    c.members[0].name.push('\u{E000}')
                }
                model::Certificate::Residence(_) => unreachable!(),
            }
            assert_eq!(Renderer::global().unprintable(&cert), Some(Field::Name));
            assert!(matches!(
                Renderer::global().render(&cert),
                Err(RenderError::MissingGlyph { field: Field::Name })
            ));
        }
        // A value too long for its cell even at the smallest size.
        let mut tax = other_kinds().swap_remove(2);
        if let model::Certificate::Tax(c) = &mut tax {
            c.address = "一".repeat(120);
        }
        assert_eq!(Renderer::global().unprintable(&tax), Some(Field::Address));
        assert!(matches!(
            Renderer::global().render(&tax),
            Err(RenderError::TextTooLong {
                field: Field::Address
            })
        ));
        let mut seal = other_kinds().swap_remove(1);
        if let model::Certificate::Seal(c) = &mut seal {
            c.impression_png.truncate(40);
        }
        assert!(matches!(
            Renderer::global().render(&seal),
            Err(RenderError::Image)
        ));
    }

    /// Writes sample PDFs for a visual check:
    /// `cargo test --release -- --ignored writes_sample_pdfs`.
    #[test]
    #[ignore = "writes files for manual inspection"]
    fn writes_sample_pdfs_to_the_temp_dir() {
        let dir = std::env::temp_dir();
        let mut one = certificate(1);
        one.members[0].relationship = Some("世帯主".to_owned());
        one.members[0].my_number = Some("123456789018".to_owned());
        one.members[0].domicile = Some(Domicile {
            domicile: "東京都千代田区千代田一番".to_owned(),
            head_of_register: "山田　太郎".to_owned(),
        });
        one.householder = Some("山田　太郎".to_owned());
        let mut seven = certificate(7);
        seven.whole_household = true;
        seven.householder = Some("山田　太郎".to_owned());
        for (i, m) in seven.members.iter_mut().enumerate() {
            m.relationship = Some(if i == 0 { "世帯主" } else { "子" }.to_owned());
        }
        // The tallest page: every optional row for five people, long values.
        let mut full = certificate(5);
        full.householder = Some("山田　太郎".to_owned());
        full.address = "北海道札幌市中央区北一条西二丁目1番地 みどりマンション1203号室".to_owned();
        for m in &mut full.members {
            m.name = "ウィリアムズ　アレクサンダー　ジョナサン".to_owned();
            m.relationship = Some("世帯主".to_owned());
            m.my_number = Some("123456789018".to_owned());
            m.domicile = Some(Domicile {
                domicile: "北海道札幌市中央区北一条西二丁目1番地".to_owned(),
                head_of_register: "山田　太郎".to_owned(),
            });
        }
        let mut mj = certificate(1);
        mj.members[0].name = MJ_ONLY_NAME.to_owned();
        for (name, cert) in [
            ("render-sample-mj.pdf", mj),
            ("render-sample-1.pdf", one),
            ("render-sample-7.pdf", seven),
            ("render-sample-full.pdf", full),
        ] {
            let doc = render(&cert);
            std::fs::write(dir.join(name), &doc.pdf).expect("sample written");
            println!(
                "{name}: {} bytes, {} page(s)",
                doc.pdf.len(),
                doc.page_count
            );
        }
    }
}
