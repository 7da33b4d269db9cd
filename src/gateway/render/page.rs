//! What every page of every certificate carries: the copy-deterrent
//! background (「複写」) beneath the content, the verification code and QR
//! code at the top right, and the document identity in the footer:
//! 交付番号, 文書番号, page n/N and the order id.
//!
//! Rule: certificate layouts get their pages only from [`compose`], which draws
//! the background before and the footer after each page's content, so no page
//! can leave without the identity of the document it belongs to (a page 2 from
//! someone else's document must be recognisable at a glance).

use super::canvas::{
    self, Align, Canvas, Face, Ink, PAGE_HEIGHT, PAGE_WIDTH, PT_PER_MM, Page, Style,
};
use super::parts::DocumentIdentity;
use super::{Field, RenderError};

/// Left and right edges of the printed area.
pub(super) const LEFT: f32 = 20.0;
pub(super) const RIGHT: f32 = PAGE_WIDTH - 20.0;
pub(super) const WIDTH: f32 = RIGHT - LEFT;

/// The styles and rules every form shares: the municipality under the
/// title, row labels and values, notes (「以下余白」), frame and rule widths,
/// and the padding between a cell's edge and its text.
const MUNICIPALITY: Style = Style::black(11.0);
pub(super) const LABEL: Style = Style::black(8.0);
pub(super) const VALUE: Style = Style::black(10.0);
pub(super) const NOTE: Style = Style::black(9.0);
pub(super) const OUTER_LINE: f32 = 0.8;
pub(super) const INNER_LINE: f32 = 0.3;
pub(super) const PAD: f32 = 2.0;

/// Content must end above this line; the footer lies below it.
pub(super) const CONTENT_BOTTOM: f32 = 282.0;
const FOOTER_BASELINE: f32 = 287.5;
const FOOTER: Style = Style::black(7.5);

/// The background's word, 「複写」, 30 pt, turned 30°.
const PATTERN_SIZE: f32 = 30.0;
const PATTERN_DEGREES: f32 = 30.0;

/// The resource names of the two prepared forms every page places.
pub(super) const BACKGROUND_FORM: &str = "Bg";
pub(super) const QR_FORM: &str = "QR";

/// The QR code: a square of this side (mm) at the top right, its quiet
/// zone inside the square, and the verification code printed under it.
pub(super) const QR_SIDE: f32 = 24.0;
const QR_TOP: f32 = 4.0;
const CODE_BASELINE: f32 = QR_TOP + QR_SIDE + 2.2;
const CODE: Style = Style::black(7.0);

/// The title of the certificate and, under it, the issuing municipality,
/// centred at the top of a page.
pub(super) fn heading(
    canvas: &mut Canvas<'_>,
    title: &str,
    title_style: Style,
    municipality: &str,
) -> Result<(), RenderError> {
    let centre = (LEFT + RIGHT) / 2.0;
    canvas.text(
        title,
        centre,
        22.0,
        Align::Centre,
        title_style,
        Field::Template,
    )?;
    canvas.text(
        municipality,
        centre,
        30.0,
        Align::Centre,
        MUNICIPALITY,
        Field::MunicipalityName,
    )
}

/// Which page of how many is being drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PageNumber {
    pub(super) number: u32,
    pub(super) total: u32,
}

impl PageNumber {
    pub(super) fn is_last(self) -> bool {
        self.number == self.total
    }
}

/// Builds one page per item of `chunks`, each with background, the content
/// `draw` puts on it, and the identity footer.
pub(super) fn compose<T>(
    face: &Face<'_>,
    identity: &DocumentIdentity,
    chunks: &[T],
    mut draw: impl FnMut(&mut Canvas<'_>, &T, PageNumber) -> Result<(), RenderError>,
) -> Result<Vec<Page>, RenderError> {
    if identity.document_number.trim().is_empty() {
        return Err(RenderError::EmptyField {
            field: Field::DocumentIdentity,
        });
    }
    // Callers bound their chunk counts (e.g. members per certificate).
    let total = chunks.len() as u32;
    let mut pages = Vec::with_capacity(chunks.len());
    for (number, chunk) in (1..).zip(chunks) {
        let position = PageNumber { number, total };
        let mut canvas = Canvas::new(face);
        canvas.form(BACKGROUND_FORM, 0.0, PAGE_HEIGHT, 1.0);
        verification(&mut canvas, identity)?;
        draw(&mut canvas, chunk, position)?;
        footer(&mut canvas, identity, position)?;
        pages.push(canvas.finish());
    }
    Ok(pages)
}

/// The content of the background form: 「複写」 repeated diagonally over
/// the whole sheet in light grey, drawn with new glyph ids 1 and 2 of the
/// document's font (see [`canvas::PATTERN_CHARS`]). The same bytes for
/// every document, so it is prepared once.
pub(super) fn background_content() -> Vec<u8> {
    const STEP_X: f32 = 52.0;
    const STEP_Y: f32 = 34.0;
    let (sin, cos) = PATTERN_DEGREES.to_radians().sin_cos();
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(Ink::Pattern.operator(false));
    out.extend_from_slice(b" BT /F1 ");
    canvas::num(&mut out, PATTERN_SIZE);
    out.extend_from_slice(b" Tf\n");
    let mut shifted = false;
    let mut y = 12.0;
    while y < PAGE_HEIGHT + 10.0 {
        let mut x = if shifted { 18.0 } else { -8.0 };
        while x < PAGE_WIDTH {
            for v in [
                cos,
                sin,
                -sin,
                cos,
                x * PT_PER_MM,
                (PAGE_HEIGHT - y) * PT_PER_MM,
            ] {
                canvas::num(&mut out, v);
                out.push(b' ');
            }
            out.extend_from_slice(b"Tm <00010002> Tj\n");
            x += STEP_X;
        }
        y += STEP_Y;
        shifted = !shifted;
    }
    out.extend_from_slice(b"ET");
    out
}

/// The verification code and the QR code (a form prepared once per
/// document, when its content is known), at the top right of the page.
fn verification(canvas: &mut Canvas<'_>, identity: &DocumentIdentity) -> Result<(), RenderError> {
    if identity.verification_code.trim().is_empty() {
        return Err(RenderError::EmptyField {
            field: Field::DocumentIdentity,
        });
    }
    canvas.form(
        QR_FORM,
        RIGHT - QR_SIDE,
        QR_TOP + QR_SIDE,
        QR_SIDE * PT_PER_MM,
    );
    canvas.text(
        &format!("検証コード {}", identity.verification_code),
        RIGHT,
        CODE_BASELINE,
        Align::Right,
        CODE,
        Field::DocumentIdentity,
    )
}

fn footer(
    canvas: &mut Canvas<'_>,
    identity: &DocumentIdentity,
    page: PageNumber,
) -> Result<(), RenderError> {
    canvas.line((LEFT, CONTENT_BOTTOM), (RIGHT, CONTENT_BOTTOM), 0.4);
    let document = format!(
        "交付番号 {}  文書番号 {}  {}/{}",
        identity.ticket, identity.document_number, page.number, page.total
    );
    canvas.text_fitted(
        &document,
        LEFT,
        FOOTER_BASELINE,
        WIDTH * 0.62,
        FOOTER,
        Field::DocumentIdentity,
    )?;
    let order = format!("注文ID {}", identity.order_id);
    canvas.text(
        &order,
        RIGHT,
        FOOTER_BASELINE,
        Align::Right,
        FOOTER,
        Field::DocumentIdentity,
    )
}
