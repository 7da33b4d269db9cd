//! What every page of every certificate carries: the copy-deterrent
//! background (「複写」) beneath the content, and the document identity in the
//! footer: 交付番号, 文書番号, page n/N and the order id.
//!
//! Rule: certificate layouts get their pages only from [`compose`], which draws
//! the background before and the footer after each page's content, so no page
//! can leave without the identity of the document it belongs to (a page 2 from
//! someone else's document must be recognisable at a glance).

use printpdf::PdfPage;

use super::canvas::{Align, Canvas, Face, Ink, PAGE_HEIGHT, PAGE_WIDTH, Style};
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

const PATTERN_WORD: &str = "複写";
const PATTERN: Style = Style {
    size: 30.0,
    ink: Ink::Pattern,
};

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
) -> Result<Vec<PdfPage>, RenderError> {
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
        background(&mut canvas)?;
        draw(&mut canvas, chunk, position)?;
        footer(&mut canvas, identity, position)?;
        pages.push(canvas.finish());
    }
    Ok(pages)
}

/// 「複写」 repeated diagonally over the whole sheet in light grey.
fn background(canvas: &mut Canvas<'_>) -> Result<(), RenderError> {
    const STEP_X: f32 = 52.0;
    const STEP_Y: f32 = 34.0;
    let mut shifted = false;
    let mut y = 12.0;
    while y < PAGE_HEIGHT + 10.0 {
        let mut x = if shifted { 18.0 } else { -8.0 };
        while x < PAGE_WIDTH {
            canvas.text_rotated(PATTERN_WORD, x, y, 30.0, PATTERN, Field::Template)?;
            x += STEP_X;
        }
        y += STEP_Y;
        shifted = !shifted;
    }
    Ok(())
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
