//! The layout every certificate but the residence certificate shares: the
//! title and municipality, framed blocks of label / value rows (one block per
//! person, assessment or register entry), then 「以下余白」 and the
//! attestation on the last page. Each kind's module turns its model into a
//! [`Sheet`]; this module paginates it.
//!
//! Rule: a kind prints exactly the rows its module puts on the sheet, and the
//! printability check ([`Sheet::texts`]) reads the same rows the layout
//! draws, so an order is refused before payment for precisely the characters
//! the render would fail on.

use time::Date;

use super::attestation;
use super::canvas::{Align, Canvas, Face, ImageCell, Ink, Page, Style};
use super::page::{
    self, INNER_LINE, LABEL, LEFT, NOTE, OUTER_LINE, PAD, PageNumber, RIGHT, VALUE, WIDTH,
};
use super::parts::{DocumentIdentity, MunicipalityHeader};
use super::{Field, RenderError};

const TITLE_STYLE: Style = Style::black(18.0);
const HEADING: Style = Style::black(10.5);

/// Where the first block starts, below title and municipality.
const CONTENT_TOP: f32 = 36.0;
pub(super) const ROW: f32 = 7.0;
const HEADING_ROW: f32 = 8.0;
const LABEL_WIDTH: f32 = 36.0;
const BLOCK_GAP: f32 = 3.0;
/// Room below the last block for 「以下余白」 / 「（次頁に続く）」.
const NOTE_SPACE: f32 = 6.0;
/// Where the attestation starts on the last page.
const ATTESTATION_TOP: f32 = page::CONTENT_BOTTOM - attestation::HEIGHT;
/// Blocks end above this on every page, so any page can be the last.
const BLOCKS_BOTTOM: f32 = ATTESTATION_TOP - NOTE_SPACE;
/// The most rows one block holds on a page; a longer one continues on the next.
const MAX_BLOCK_ROWS: usize = ((BLOCKS_BOTTOM - CONTENT_TOP - HEADING_ROW) / ROW) as usize;
/// The most pages one document may take (bounds the document size).
pub(super) const MAX_PAGES: usize = 20;

// The seal impression's cell must fit in a page's blocks.
const _: () = assert!(CONTENT_TOP + HEADING_ROW + IMAGE_SIDE <= BLOCKS_BOTTOM);

/// Side of the square cell an image (a seal impression) is drawn in, in mm.
pub(super) const IMAGE_SIDE: f32 = 42.0;

/// One printed row: a label from the form, a value from the register.
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub(super) label: &'static str,
    pub(super) value: String,
    pub(super) field: Field,
}

impl Row {
    pub(super) fn new(label: &'static str, value: impl Into<String>, field: Field) -> Row {
        Row {
            label,
            value: value.into(),
            field,
        }
    }

    /// A value of the form itself (a date, an amount): not register text.
    pub(super) fn fixed(label: &'static str, value: impl Into<String>) -> Row {
        Row::new(label, value, Field::Template)
    }
}

/// A framed group of rows, with an optional heading row above them.
#[derive(Debug, Clone)]
pub(super) struct Block {
    pub(super) heading: Option<(String, Field)>,
    pub(super) rows: Vec<Row>,
    pub(super) image: Option<ImageCell>,
}

impl Block {
    pub(super) fn new(rows: Vec<Row>) -> Block {
        Block {
            heading: None,
            rows,
            image: None,
        }
    }

    pub(super) fn headed(heading: impl Into<String>, field: Field, rows: Vec<Row>) -> Block {
        Block {
            heading: Some((heading.into(), field)),
            rows,
            image: None,
        }
    }

    /// Where the value column ends: before the image cell, if any.
    fn value_right(&self) -> f32 {
        if self.image.is_some() {
            RIGHT - IMAGE_SIDE
        } else {
            RIGHT
        }
    }

    /// The room a row's value has, between the label column and the value
    /// column's end, less the padding on both sides.
    fn value_width(&self) -> f32 {
        self.value_right() - (LEFT + LABEL_WIDTH) - 2.0 * PAD
    }

    fn height(&self) -> f32 {
        let heading = if self.heading.is_some() {
            HEADING_ROW
        } else {
            0.0
        };
        let rows = ROW * self.rows.len() as f32;
        heading
            + if self.image.is_some() {
                rows.max(IMAGE_SIDE)
            } else {
                rows
            }
    }
}

/// A whole document before layout.
#[derive(Debug, Clone)]
pub(super) struct Sheet<'a> {
    pub(super) title: &'static str,
    pub(super) document: &'a DocumentIdentity,
    pub(super) municipality: &'a MunicipalityHeader,
    pub(super) issued_on: Date,
    pub(super) attestation: &'static str,
    pub(super) blocks: Vec<Block>,
}

impl<'a> Sheet<'a> {
    /// A document of the kind titled `title`, closed by `attestation`.
    pub(super) fn new(
        title: &'static str,
        attestation: &'static str,
        (document, municipality, issued_on): (&'a DocumentIdentity, &'a MunicipalityHeader, Date),
        blocks: Vec<Block>,
    ) -> Sheet<'a> {
        Sheet {
            title,
            document,
            municipality,
            issued_on,
            attestation,
            blocks,
        }
    }

    /// Every text the sheet prints with the field it belongs to, for the
    /// printability check.
    pub(super) fn texts(&self) -> Vec<(&str, Field)> {
        let m = self.municipality;
        let mut texts = vec![
            (m.name.as_str(), Field::MunicipalityName),
            (m.mayor_title.as_str(), Field::MayorTitle),
            (m.mayor_name.as_str(), Field::MayorName),
            (m.seal_text.as_str(), Field::SealText),
        ];
        for block in &self.blocks {
            if let Some((heading, field)) = &block.heading {
                texts.push((heading, *field));
            }
            texts.extend(block.rows.iter().map(|r| (r.value.as_str(), r.field)));
        }
        texts
    }

    /// The first field whose text does not fit its cell even at the smallest
    /// legible size, measured the way [`draw_block`] draws it (widths only,
    /// no PDF): the acceptance refuses such an order rather than let its
    /// render fail after payment.
    pub(super) fn overflowing(&self, face: &Face<'_>) -> Option<Field> {
        for block in &self.blocks {
            if let Some((heading, field)) = &block.heading
                && face
                    .fitting_size(heading, HEADING.size, WIDTH - 2.0 * PAD, *field)
                    .is_err()
            {
                return Some(*field);
            }
            let width = block.value_width();
            for row in &block.rows {
                if face
                    .fitting_size(&row.value, VALUE.size, width, row.field)
                    .is_err()
                {
                    return Some(row.field);
                }
            }
        }
        None
    }

    /// Lays the sheet out on as many pages as it takes.
    pub(super) fn pages(&self, face: &Face<'_>) -> Result<Vec<Page>, RenderError> {
        if self.blocks.is_empty() {
            return Err(RenderError::NoMembers);
        }
        for (text, field) in self.texts() {
            if text.trim().is_empty() && field != Field::Template {
                return Err(RenderError::EmptyField { field });
            }
        }
        let pages = paginate(split_long_blocks(&self.blocks));
        if pages.len() > MAX_PAGES {
            return Err(RenderError::TooManyPages {
                pages: pages.len(),
                max: MAX_PAGES,
            });
        }
        page::compose(face, self.document, &pages, |canvas, blocks, position| {
            self.header(canvas)?;
            let mut y = CONTENT_TOP;
            for block in blocks {
                y = draw_block(canvas, y, block)? + BLOCK_GAP;
            }
            self.closing(canvas, y, position)
        })
    }

    fn header(&self, canvas: &mut Canvas<'_>) -> Result<(), RenderError> {
        page::heading(canvas, self.title, TITLE_STYLE, &self.municipality.name)
    }

    fn closing(
        &self,
        canvas: &mut Canvas<'_>,
        after_blocks: f32,
        position: PageNumber,
    ) -> Result<(), RenderError> {
        let note = if position.is_last() {
            "以下余白"
        } else {
            "（次頁に続く）"
        };
        canvas.text(
            note,
            RIGHT,
            after_blocks + NOTE_SPACE - 3.0,
            Align::Right,
            NOTE,
            Field::Template,
        )?;
        if !position.is_last() {
            return Ok(());
        }
        attestation::draw(
            canvas,
            ATTESTATION_TOP,
            self.attestation,
            self.issued_on,
            self.municipality,
        )
    }
}

/// Blocks too tall for one page continue in a block headed 「（続き）」.
fn split_long_blocks(blocks: &[Block]) -> Vec<Block> {
    let mut out = Vec::with_capacity(blocks.len());
    for block in blocks {
        if block.rows.len() <= MAX_BLOCK_ROWS {
            out.push(block.clone());
            continue;
        }
        for (i, rows) in block.rows.chunks(MAX_BLOCK_ROWS).enumerate() {
            let heading = match (&block.heading, i) {
                (Some(h), 0) => Some(h.clone()),
                (Some((h, field)), _) => Some((format!("{h}（続き）"), *field)),
                (None, _) => None,
            };
            out.push(Block {
                heading,
                rows: rows.to_vec(),
                image: if i == 0 { block.image.clone() } else { None },
            });
        }
    }
    out
}

/// Greedy: as many whole blocks on a page as fit above the attestation.
fn paginate(blocks: Vec<Block>) -> Vec<Vec<Block>> {
    let mut pages: Vec<Vec<Block>> = vec![Vec::new()];
    let mut y = CONTENT_TOP;
    for block in blocks {
        let height = block.height();
        let current = pages.last_mut().expect("one page at least");
        if !current.is_empty() && y + height > BLOCKS_BOTTOM {
            pages.push(vec![block]);
            y = CONTENT_TOP + height + BLOCK_GAP;
        } else {
            current.push(block);
            y += height + BLOCK_GAP;
        }
    }
    pages
}

/// Draws a block with its top at `top`; returns its bottom edge.
fn draw_block(canvas: &mut Canvas<'_>, top: f32, block: &Block) -> Result<f32, RenderError> {
    let height = block.height();
    canvas.frame(LEFT, top, WIDTH, height, OUTER_LINE, Ink::Black);
    let mut y = top;
    if let Some((heading, field)) = &block.heading {
        let baseline = y + HEADING_ROW / 2.0 + canvas.face().em_box_centre(HEADING.size);
        canvas.text_fitted(
            heading,
            LEFT + PAD,
            baseline,
            WIDTH - 2.0 * PAD,
            HEADING,
            *field,
        )?;
        y += HEADING_ROW;
        canvas.line((LEFT, y), (RIGHT, y), INNER_LINE);
    }
    let rows_top = y;
    let value_right = block.value_right();
    if let Some(image) = &block.image {
        canvas.line(
            (value_right, rows_top),
            (value_right, top + height),
            INNER_LINE,
        );
        canvas.image(image, value_right + 1.0, rows_top + 1.0, IMAGE_SIDE - 2.0);
    }
    let label_right = LEFT + LABEL_WIDTH;
    let rows_bottom = rows_top + ROW * block.rows.len() as f32;
    canvas.line(
        (label_right, rows_top),
        (label_right, rows_bottom),
        INNER_LINE,
    );
    for (i, row) in block.rows.iter().enumerate() {
        if i > 0 {
            canvas.line((LEFT, y), (value_right, y), INNER_LINE);
        }
        let label_baseline = y + ROW / 2.0 + canvas.face().em_box_centre(LABEL.size);
        canvas.text(
            row.label,
            LEFT + LABEL_WIDTH / 2.0,
            label_baseline,
            Align::Centre,
            LABEL,
            Field::Template,
        )?;
        let size =
            canvas
                .face()
                .fitting_size(&row.value, VALUE.size, block.value_width(), row.field)?;
        let baseline = y + ROW / 2.0 + canvas.face().em_box_centre(size);
        canvas.text(
            &row.value,
            label_right + PAD,
            baseline,
            Align::Left,
            Style { size, ..VALUE },
            row.field,
        )?;
        y += ROW;
    }
    Ok(top + height)
}

/// Yen as certificates print them: `1,234,000円`.
pub(super) fn yen(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 2);
    if amount < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out.push('円');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yen_groups_thousands() {
        assert_eq!(yen(0), "0円");
        assert_eq!(yen(999), "999円");
        assert_eq!(yen(1_000), "1,000円");
        assert_eq!(yen(12_345_678), "12,345,678円");
        assert_eq!(yen(-4_500), "-4,500円");
    }

    #[test]
    fn blocks_too_tall_for_a_page_continue_and_pages_fill_greedily() {
        let rows = |n: usize| (0..n).map(|_| Row::fixed("項目", "値")).collect::<Vec<_>>();
        let tall = Block::headed("氏名", Field::Name, rows(MAX_BLOCK_ROWS * 2 + 1));
        let split = split_long_blocks(&[tall]);
        assert_eq!(split.len(), 3);
        assert!(split[1].heading.as_ref().unwrap().0.ends_with("（続き）"));
        let pages = paginate(split);
        assert_eq!(pages.len(), 3);
        let small: Vec<Block> = (0..10).map(|_| Block::new(rows(3))).collect();
        let pages = paginate(small);
        assert!(pages.len() >= 2);
        for page in &pages {
            let used: f32 = page.iter().map(|b| b.height() + BLOCK_GAP).sum();
            assert!(CONTENT_TOP + used <= BLOCKS_BOTTOM + BLOCK_GAP);
        }
    }
}
