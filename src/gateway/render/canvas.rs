//! Drawing primitives for certificate pages: text in the one Mincho face,
//! frames and lines, placed in millimetres from the page's top-left corner
//! (the way a form designer measures), converted here to PDF points.
//!
//! Rule: every string is measured against the font before it is drawn, and a
//! character without a glyph is an error: the PDF writer would otherwise print
//! the empty .notdef box in its place, silently.

use std::cell::RefCell;
use std::collections::HashMap;

use super::cmap::{self, Cmap};
use super::{Field, RenderError};

/// A4 portrait.
pub(super) const PAGE_WIDTH: f32 = 210.0;
pub(super) const PAGE_HEIGHT: f32 = 297.0;

pub(super) const PT_PER_MM: f32 = 72.0 / 25.4;

/// Text is shrunk to fit its cell down to this size, and refused below it.
pub(super) const MIN_TEXT_PT: f32 = 6.0;

fn pt(mm: f32) -> f32 {
    mm * PT_PER_MM
}

/// A position in millimetres from the top-left corner of the page, in PDF
/// points from the bottom-left corner.
fn point(x: f32, top: f32) -> (f32, f32) {
    (pt(x), pt(PAGE_HEIGHT - top))
}

/// The glyph a cluster (a character and its variation selector, if any) is
/// drawn with, and from which font.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Glyph {
    /// The bundled font's.
    Primary(u16),
    /// The installed fallback font's (IPAmj Mincho).
    Fallback(u16),
}

/// The glyph for `c` (followed by the variation selector `vs`): the bundled
/// font's, else the fallback font's. A sequence is drawn only with the glyph
/// a font registers for it, never with the bare base.
pub(super) fn resolve(
    primary: &Cmap,
    fallback: Option<&Cmap>,
    c: char,
    vs: Option<char>,
) -> Option<Glyph> {
    let lookup = |t: &Cmap| match vs {
        None => t.glyph(c),
        Some(vs) => t.variant(c, vs),
    };
    lookup(primary)
        .map(Glyph::Primary)
        .or_else(|| fallback.and_then(lookup).map(Glyph::Fallback))
}

/// The glyphs one document uses from one font, numbered in the order they
/// are first drawn: what the embedded subset holds (new id → original
/// glyph) and what its ToUnicode map says each stands for. One glyph drawn
/// for two different texts (a base character and the same glyph for its
/// variation sequence) gets two ids, so the text read back is exactly the
/// text drawn.
#[derive(Debug, Default)]
pub(super) struct GlyphSet {
    /// New id → (original glyph id, the text it stands for).
    pub(super) glyphs: Vec<(u16, String)>,
    ids: HashMap<(u16, char, Option<char>), u16>,
}

impl GlyphSet {
    /// The new id of `gid` standing for `c` (with `vs`), assigned on first use.
    fn id(&mut self, gid: u16, c: char, vs: Option<char>) -> u16 {
        if let Some(&id) = self.ids.get(&(gid, c, vs)) {
            return id;
        }
        let id = self.glyphs.len() as u16;
        let mut text = String::with_capacity(8);
        text.push(c);
        text.extend(vs);
        self.glyphs.push((gid, text));
        self.ids.insert((gid, c, vs), id);
        id
    }

    pub(super) fn is_empty(&self) -> bool {
        self.glyphs.len() <= 1
    }
}

/// The fonts a page's text is set in: `/F1` the bundled font, `/F2` the
/// installed fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FontSlot {
    Primary,
    Fallback,
}

impl FontSlot {
    const fn resource(self) -> &'static [u8] {
        match self {
            FontSlot::Primary => b"/F1",
            FontSlot::Fallback => b"/F2",
        }
    }
}

/// The certificate font, with the installed fallback font (when there is
/// one), and the glyphs one document has drawn from each.
pub(super) struct Face<'a> {
    tables: &'a Cmap,
    fallback: Option<&'a Cmap>,
    /// (ascender + descender) / 2 / units per em: the em box's centre.
    em_centre: f32,
    used: RefCell<[GlyphSet; 2]>,
}

/// The characters of the copy-deterrent background, which take new ids 1
/// and 2 of every document's subset so the background is one prepared object.
pub(super) const PATTERN_CHARS: [char; 2] = ['複', '写'];

impl<'a> Face<'a> {
    pub(super) fn new(
        tables: &'a Cmap,
        fallback: Option<&'a Cmap>,
        metrics: super::font::Metrics,
    ) -> Self {
        let mut primary = GlyphSet::default();
        primary.id(0, '\u{FFFD}', None);
        for c in PATTERN_CHARS {
            // The bundled font has both (a test checks); 0 would draw nothing.
            primary.id(tables.glyph(c).unwrap_or(0), c, None);
        }
        let mut fallback_set = GlyphSet::default();
        fallback_set.id(0, '\u{FFFD}', None);
        let mid = (f32::from(metrics.ascender) + f32::from(metrics.descender)) / 2.0;
        Self {
            tables,
            fallback,
            em_centre: mid / f32::from(metrics.units_per_em.max(1)),
            used: RefCell::new([primary, fallback_set]),
        }
    }

    /// The glyphs drawn so far: the bundled font's and the fallback's.
    pub(super) fn into_glyphs(self) -> [GlyphSet; 2] {
        self.used.into_inner()
    }

    /// The glyph for `c` (with `vs`) in this face's fonts (see [`resolve`]).
    pub(super) fn resolve(&self, c: char, vs: Option<char>) -> Option<Glyph> {
        resolve(self.tables, self.fallback, c, vs)
    }

    /// The advance width of `text` at `size` points, in millimetres.
    ///
    /// # Errors
    /// [`RenderError::MissingGlyph`] if no font can draw a character.
    pub(super) fn width(&self, text: &str, size: f32, field: Field) -> Result<f32, RenderError> {
        let mut em = 0.0f32;
        for (c, vs) in cmap::clusters(text) {
            let glyph = self
                .resolve(c, vs)
                .ok_or(RenderError::MissingGlyph { field })?;
            em += self.advance_em(glyph);
        }
        Ok(em * size / PT_PER_MM)
    }

    /// A glyph's advance, in ems.
    fn advance_em(&self, glyph: Glyph) -> f32 {
        let (advance, upm) = match glyph {
            Glyph::Primary(gid) => self.tables.advance(gid),
            Glyph::Fallback(gid) => self.fallback.map_or((0, 1), |f| f.advance(gid)),
        };
        f32::from(advance) / f32::from(upm.max(1))
    }

    /// How far above the baseline the middle of the em box lies at `size`
    /// points, in millimetres (where a full-width glyph's visual centre is).
    pub(super) fn em_box_centre(&self, size: f32) -> f32 {
        self.em_centre * size / PT_PER_MM
    }

    /// The largest size not above `size` at which `text` fits in `max_width` mm.
    ///
    /// # Errors
    /// [`RenderError::TextTooLong`] if even [`MIN_TEXT_PT`] is too wide.
    pub(super) fn fitting_size(
        &self,
        text: &str,
        size: f32,
        max_width: f32,
        field: Field,
    ) -> Result<f32, RenderError> {
        let width = self.width(text, size, field)?;
        if width <= max_width {
            return Ok(size);
        }
        let fitted = size * max_width / width;
        if fitted < MIN_TEXT_PT {
            return Err(RenderError::TextTooLong { field });
        }
        Ok(fitted)
    }

    /// Appends the text-showing operators for `text` to `ops`: runs of one
    /// font as hex strings of this document's glyph ids. Each run
    /// continues where the one before ended (the fonts' widths place it).
    fn show(&self, text: &str, size: f32, ops: &mut Vec<u8>) -> Result<(), RenderError> {
        let mut used = self.used.borrow_mut();
        let mut current: Option<FontSlot> = None;
        for (c, vs) in cmap::clusters(text) {
            let glyph = self.resolve(c, vs).ok_or(RenderError::MissingGlyph {
                field: Field::Template,
            })?;
            let (slot, gid) = match glyph {
                Glyph::Primary(g) => (FontSlot::Primary, g),
                Glyph::Fallback(g) => (FontSlot::Fallback, g),
            };
            if current != Some(slot) {
                if current.is_some() {
                    ops.extend_from_slice(b"> Tj ");
                }
                ops.extend_from_slice(slot.resource());
                ops.push(b' ');
                num(ops, size);
                ops.extend_from_slice(b" Tf <");
                current = Some(slot);
            }
            let id = used[slot as usize].id(gid, c, vs);
            hex4(ops, id);
        }
        if current.is_some() {
            ops.extend_from_slice(b"> Tj");
        }
        Ok(())
    }
}

/// Appends `v` with at most two decimals (what a position in points
/// needs: 1/100 pt is far below a printer's dot), without float formatting.
pub(super) fn num(out: &mut Vec<u8>, v: f32) {
    let hundredths = (f64::from(v) * 100.0).round() as i64;
    if hundredths < 0 {
        out.push(b'-');
    }
    let h = hundredths.unsigned_abs();
    let mut digits = [0u8; 20];
    let mut n = h / 100;
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
    let frac = h % 100;
    if frac != 0 {
        out.push(b'.');
        out.push(b'0' + (frac / 10) as u8);
        if frac % 10 != 0 {
            out.push(b'0' + (frac % 10) as u8);
        }
    }
}

/// Appends `v` with up to four decimals (a scale factor needs more than a position).
pub(super) fn num4(out: &mut Vec<u8>, v: f32) {
    let s = format!("{:.4}", v);
    out.extend_from_slice(s.trim_end_matches('0').trim_end_matches('.').as_bytes());
}

/// Appends a glyph id as four hex digits.
pub(super) fn hex4(out: &mut Vec<u8>, id: u16) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for shift in [12, 8, 4, 0] {
        out.push(HEX[usize::from((id >> shift) & 0xF)]);
    }
}

/// The inks a certificate uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ink {
    Black,
    /// The municipal seal (朱肉 red).
    SealRed,
    /// The copy-deterrent background: light enough to read through.
    Pattern,
}

impl Ink {
    /// The operator setting this ink for fills (`stroke: false`) or strokes.
    pub(super) fn operator(self, stroke: bool) -> &'static [u8] {
        match (self, stroke) {
            (Ink::Black, false) => b"0 g",
            (Ink::Black, true) => b"0 G",
            (Ink::SealRed, false) => b"0.84 0.11 0.13 rg",
            (Ink::SealRed, true) => b"0.84 0.11 0.13 RG",
            (Ink::Pattern, false) => b"0.91 g",
            (Ink::Pattern, true) => b"0.91 G",
        }
    }
}

/// Where a text's x coordinate sits relative to the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Align {
    Left,
    Centre,
    Right,
}

/// One style of text: size in points and ink.
#[derive(Debug, Clone, Copy)]
pub(super) struct Style {
    pub(super) size: f32,
    pub(super) ink: Ink,
}

impl Style {
    pub(super) const fn black(size: f32) -> Self {
        Self {
            size,
            ink: Ink::Black,
        }
    }
}

/// The resource name of the block image a document may carry (the seal
/// registration's impression).
pub(super) const IMAGE_RESOURCE: &str = "Im1";
/// The resource name of the municipality's seal image, when it has one.
pub(super) const SEAL_IMAGE_RESOURCE: &str = "Im2";

/// An image placed in a block's right-hand cell: the document's image
/// ([`IMAGE_RESOURCE`]), this many pixels wide and high.
#[derive(Debug, Clone)]
pub(super) struct ImageCell {
    pub(super) width_px: usize,
    pub(super) height_px: usize,
}

/// A decoded 8-bit image for the PDF: greyscale or RGB samples, row by row.
#[derive(Debug, Clone)]
pub(super) struct Image {
    pub(super) width: usize,
    pub(super) height: usize,
    pub(super) rgb: bool,
    pub(super) samples: Vec<u8>,
}

/// One finished page: its content stream and the text it shows, item by
/// item in drawing order (what the document's digest signs).
#[derive(Debug)]
pub(super) struct Page {
    pub(super) content: Vec<u8>,
    pub(super) text: Vec<String>,
}

/// The content of one page, built top to bottom.
pub(super) struct Canvas<'f> {
    face: &'f Face<'f>,
    ops: Vec<u8>,
    text: Vec<String>,
}

impl<'f> Canvas<'f> {
    pub(super) fn new(face: &'f Face<'f>) -> Self {
        Self {
            face,
            ops: Vec::with_capacity(16 * 1024),
            text: Vec::with_capacity(128),
        }
    }

    pub(super) fn face(&self) -> &'f Face<'f> {
        self.face
    }

    /// Draws `text` with its baseline `baseline` mm from the top of the page.
    pub(super) fn text(
        &mut self,
        text: &str,
        x: f32,
        baseline: f32,
        align: Align,
        style: Style,
        field: Field,
    ) -> Result<(), RenderError> {
        let width = self.face.width(text, style.size, field)?;
        let left = match align {
            Align::Left => x,
            Align::Centre => x - width / 2.0,
            Align::Right => x - width,
        };
        let (x, y) = point(left, baseline);
        self.show(text, style, [1.0, 0.0, 0.0, 1.0, x, y])
    }

    /// Draws `text` left-aligned in a cell `max_width` mm wide, shrinking it
    /// from `style.size` if needed.
    pub(super) fn text_fitted(
        &mut self,
        text: &str,
        x: f32,
        baseline: f32,
        max_width: f32,
        style: Style,
        field: Field,
    ) -> Result<(), RenderError> {
        let size = self.face.fitting_size(text, style.size, max_width, field)?;
        self.text(
            text,
            x,
            baseline,
            Align::Left,
            Style { size, ..style },
            field,
        )
    }

    /// Draws one character of vertical text centred on `centre`, stretched
    /// vertically by `v_scale` (seal engraving fills its column).
    pub(super) fn glyph_centred(
        &mut self,
        c: char,
        (cx, cy): (f32, f32),
        v_scale: f32,
        style: Style,
        field: Field,
    ) -> Result<(), RenderError> {
        let mut buf = [0u8; 4];
        let text = c.encode_utf8(&mut buf);
        let width = self.face.width(text, style.size, field)?;
        let lift = self.face.em_box_centre(style.size) * v_scale;
        let (x, y) = point(cx - width / 2.0, cy + lift);
        self.show(text, style, [1.0, 0.0, 0.0, v_scale, x, y])
    }

    /// One text object: the font runs of `text`, in `style`, placed by the
    /// text matrix `matrix`. It is one item of the page's signed text.
    fn show(&mut self, text: &str, style: Style, matrix: [f32; 6]) -> Result<(), RenderError> {
        let ops = &mut self.ops;
        ops.extend_from_slice(b"BT ");
        ops.extend_from_slice(style.ink.operator(false));
        for v in matrix {
            ops.push(b' ');
            num(ops, v);
        }
        ops.extend_from_slice(b" Tm ");
        self.face.show(text, style.size, ops)?;
        ops.extend_from_slice(b" ET\n");
        self.text.push(text.to_owned());
        Ok(())
    }

    fn stroke_style(&mut self, line: f32, ink: Ink) {
        num(&mut self.ops, line);
        self.ops.extend_from_slice(b" w ");
        self.ops.extend_from_slice(ink.operator(true));
        self.ops.push(b' ');
    }

    /// Strokes a rectangle whose top-left corner is (`x`, `top`).
    pub(super) fn frame(&mut self, x: f32, top: f32, width: f32, height: f32, line: f32, ink: Ink) {
        let (left, bottom) = point(x, top + height);
        self.stroke_style(line, ink);
        for v in [left, bottom, pt(width), pt(height)] {
            num(&mut self.ops, v);
            self.ops.push(b' ');
        }
        self.ops.extend_from_slice(b"re S\n");
    }

    /// Strokes a straight line from (`x1`, `y1`) to (`x2`, `y2`).
    pub(super) fn line(&mut self, (x1, y1): (f32, f32), (x2, y2): (f32, f32), line: f32) {
        self.stroke_style(line, Ink::Black);
        let (a, b) = (point(x1, y1), point(x2, y2));
        for (v, op) in [(a.0, ""), (a.1, " m "), (b.0, ""), (b.1, " l S\n")] {
            num(&mut self.ops, v);
            self.ops
                .extend_from_slice(if op.is_empty() { b" " } else { op.as_bytes() });
        }
    }

    /// Places a prepared form (`/Name Do`) scaled by `scale` with its
    /// origin at (`x`, `bottom`) mm; (0, 0) and 1 for a full-page form.
    pub(super) fn form(&mut self, name: &str, x: f32, bottom: f32, scale: f32) {
        let (x, y) = point(x, bottom);
        self.ops.extend_from_slice(b"q ");
        for v in [scale, 0.0, 0.0, scale, x, y] {
            num(&mut self.ops, v);
            self.ops.push(b' ');
        }
        self.ops.extend_from_slice(b"cm /");
        self.ops.extend_from_slice(name.as_bytes());
        self.ops.extend_from_slice(b" Do Q\n");
    }

    /// Draws the document's block image, scaled to fit a square of `side`
    /// mm whose top-left corner is (`x`, `top`), centred in it.
    pub(super) fn image(&mut self, image: &ImageCell, x: f32, top: f32, side: f32) {
        self.place(IMAGE_RESOURCE, image, x, top, side);
    }

    /// Draws the image `resource` of `size` pixels the same way.
    pub(super) fn place(&mut self, resource: &str, size: &ImageCell, x: f32, top: f32, side: f32) {
        let (w, h) = (size.width_px.max(1) as f32, size.height_px.max(1) as f32);
        let scale = side / w.max(h); // mm per pixel
        let (width, height) = (w * scale, h * scale);
        let left = x + (side - width) / 2.0;
        let bottom = top + (side + height) / 2.0;
        let (x, y) = point(left, bottom);
        self.ops.extend_from_slice(b"q ");
        for v in [pt(width), 0.0, 0.0, pt(height), x, y] {
            num(&mut self.ops, v);
            self.ops.push(b' ');
        }
        self.ops.extend_from_slice(b"cm /");
        self.ops.extend_from_slice(resource.as_bytes());
        self.ops.extend_from_slice(b" Do Q\n");
    }

    pub(super) fn finish(self) -> Page {
        Page {
            content: self.ops,
            text: self.text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_with_at_most_two_decimals() {
        let cases = [
            (0.0, "0"),
            (1.0, "1"),
            (12.5, "12.5"),
            (-3.25, "-3.25"),
            (841.889_8, "841.89"),
            (0.004, "0"),
            (-0.5, "-0.5"),
            (100.07, "100.07"),
        ];
        for (v, want) in cases {
            let mut out = Vec::new();
            num(&mut out, v);
            assert_eq!(String::from_utf8(out).unwrap(), want, "{v}");
        }
        let mut out = Vec::new();
        hex4(&mut out, 0x0A1F);
        assert_eq!(out, b"0A1F");
    }
}
