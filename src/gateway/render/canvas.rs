//! Drawing primitives for certificate pages: text in the one Mincho face,
//! frames and lines, placed in millimetres from the page's top-left corner
//! (the way a form designer measures), converted here to PDF points.
//!
//! Rule: every string is measured against the font before it is drawn, and a
//! character without a glyph is an error: the PDF writer would otherwise print
//! the empty .notdef box in its place, silently.

use printpdf::{
    Color, FontId, Greyscale, Line, LinePoint, Op, PaintMode, ParsedFont, PdfFontHandle, PdfPage,
    Point, Pt, Rect, Rgb, TextItem, TextMatrix,
};

use super::cmap::{self, Cmap};
use super::{Field, RenderError};

/// A4 portrait.
pub(super) const PAGE_WIDTH: f32 = 210.0;
pub(super) const PAGE_HEIGHT: f32 = 297.0;

pub(super) const PT_PER_MM: f32 = 72.0 / 25.4;

/// Text is shrunk to fit its cell down to this size, and refused below it.
pub(super) const MIN_TEXT_PT: f32 = 6.0;

fn pt(mm: f32) -> Pt {
    Pt(mm * PT_PER_MM)
}

/// A position in millimetres from the top-left corner of the page.
fn point(x: f32, top: f32) -> Point {
    Point {
        x: pt(x),
        y: pt(PAGE_HEIGHT - top),
    }
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

/// The certificate font under this document's resource name, with the
/// installed fallback font (when there is one) under its own.
pub(super) struct Face<'a> {
    font: &'a ParsedFont,
    tables: &'a Cmap,
    fallback: Option<&'a Cmap>,
    id: FontId,
    fallback_id: FontId,
    units_per_em: f32,
    /// Set when a glyph of the fallback font is drawn: the document must embed it.
    fallback_used: std::cell::Cell<bool>,
}

impl<'a> Face<'a> {
    pub(super) fn new(
        font: &'a ParsedFont,
        tables: &'a Cmap,
        fallback: Option<&'a Cmap>,
        id: FontId,
        fallback_id: FontId,
    ) -> Self {
        let units_per_em = f32::from(font.pdf_font_metrics.units_per_em.max(1));
        Self {
            font,
            tables,
            fallback,
            id,
            fallback_id,
            units_per_em,
            fallback_used: std::cell::Cell::new(false),
        }
    }

    pub(super) fn id(&self) -> &FontId {
        &self.id
    }

    pub(super) fn fallback_id(&self) -> &FontId {
        &self.fallback_id
    }

    /// Whether anything drawn so far took a glyph from the fallback font.
    pub(super) fn fallback_used(&self) -> bool {
        self.fallback_used.get()
    }

    /// The glyph for `c` (with `vs`) in this face's fonts (see [`resolve`]).
    pub(super) fn resolve(&self, c: char, vs: Option<char>) -> Option<Glyph> {
        resolve(self.tables, self.fallback, c, vs)
    }

    /// The glyphs of `text`, cluster by cluster.
    fn glyphs(&self, text: &str, field: Field) -> Result<Vec<(Glyph, String)>, RenderError> {
        cmap::clusters(text)
            .into_iter()
            .map(|(c, vs)| {
                let glyph = self
                    .resolve(c, vs)
                    .ok_or(RenderError::MissingGlyph { field })?;
                let mut cluster = c.to_string();
                cluster.extend(vs);
                Ok((glyph, cluster))
            })
            .collect()
    }

    /// The advance width of `text` at `size` points, in millimetres.
    ///
    /// # Errors
    /// [`RenderError::MissingGlyph`] if no font can draw a character.
    pub(super) fn width(&self, text: &str, size: f32, field: Field) -> Result<f32, RenderError> {
        let mut em = 0.0f32;
        for (glyph, _) in self.glyphs(text, field)? {
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
        let m = &self.font.pdf_font_metrics;
        let mid = (f32::from(m.ascender) + f32::from(m.descender)) / 2.0;
        mid / self.units_per_em * size / PT_PER_MM
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
    fn color(self) -> Color {
        match self {
            Ink::Black => Color::Greyscale(Greyscale::new(0.0, None)),
            Ink::SealRed => Color::Rgb(Rgb::new(0.84, 0.11, 0.13, None)),
            Ink::Pattern => Color::Greyscale(Greyscale::new(0.91, None)),
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

/// An image placed in a block's right-hand cell, registered with the
/// document under `id`.
#[derive(Debug, Clone)]
pub(super) struct ImageCell {
    pub(super) id: printpdf::XObjectId,
    pub(super) width_px: usize,
    pub(super) height_px: usize,
}

/// The operations of one page, built top to bottom.
pub(super) struct Canvas<'f> {
    face: &'f Face<'f>,
    ops: Vec<Op>,
}

impl<'f> Canvas<'f> {
    pub(super) fn new(face: &'f Face<'f>) -> Self {
        Self {
            face,
            ops: Vec::with_capacity(256),
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
        let at = point(left, baseline);
        self.show(text, style, [1.0, 0.0, 0.0, 1.0, at.x.0, at.y.0]);
        Ok(())
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

    /// Draws `text` starting at (`x`, `baseline`), turned `degrees`
    /// anticlockwise about that point.
    pub(super) fn text_rotated(
        &mut self,
        text: &str,
        x: f32,
        baseline: f32,
        degrees: f32,
        style: Style,
        field: Field,
    ) -> Result<(), RenderError> {
        self.face.width(text, style.size, field)?;
        let at = point(x, baseline);
        let (sin, cos) = degrees.to_radians().sin_cos();
        self.show(text, style, [cos, sin, -sin, cos, at.x.0, at.y.0]);
        Ok(())
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
        let origin = point(cx - width / 2.0, cy + lift);
        self.show(
            text,
            style,
            [1.0, 0.0, 0.0, v_scale, origin.x.0, origin.y.0],
        );
        Ok(())
    }

    fn show(&mut self, text: &str, style: Style, matrix: [f32; 6]) {
        // The common case: every character the bundled font's own, no
        // variation selector; the PDF writer maps the text itself.
        let plain = text
            .chars()
            .all(|c| !cmap::is_variation_selector(c) && self.face.tables.glyph(c).is_some());
        if plain {
            self.show_run(
                &self.face.id.clone(),
                TextItem::Text(text.to_owned()),
                style,
                matrix,
            );
            return;
        }
        // Otherwise glyph by glyph, in runs of one font, each placed after
        // the one before. The text was measured (so resolved) before.
        let Ok(glyphs) = self.face.glyphs(text, Field::Template) else {
            return;
        };
        let mut pen_pt = 0.0f32;
        let mut i = 0;
        while i < glyphs.len() {
            let fallback = matches!(glyphs[i].0, Glyph::Fallback(_));
            let mut run = Vec::new();
            let mut run_em = 0.0f32;
            while i < glyphs.len() && matches!(glyphs[i].0, Glyph::Fallback(_)) == fallback {
                let (glyph, cluster) = &glyphs[i];
                let gid = match glyph {
                    Glyph::Primary(g) | Glyph::Fallback(g) => *g,
                };
                run.push(printpdf::Codepoint {
                    gid,
                    offset: 0.0,
                    cid: Some(cluster.clone()),
                });
                run_em += self.face.advance_em(*glyph);
                i += 1;
            }
            let id = if fallback {
                self.face.fallback_used.set(true);
                self.face.fallback_id.clone()
            } else {
                self.face.id.clone()
            };
            let mut at = matrix;
            at[4] += pen_pt * matrix[0];
            at[5] += pen_pt * matrix[1];
            self.show_run(&id, TextItem::GlyphIds(run), style, at);
            pen_pt += run_em * style.size;
        }
    }

    fn show_run(&mut self, font: &FontId, item: TextItem, style: Style, matrix: [f32; 6]) {
        self.ops.extend([
            Op::StartTextSection,
            Op::SetFont {
                font: PdfFontHandle::External(font.clone()),
                size: Pt(style.size),
            },
            Op::SetFillColor {
                col: style.ink.color(),
            },
            Op::SetTextMatrix {
                matrix: TextMatrix::Raw(matrix),
            },
            Op::ShowText { items: vec![item] },
            Op::EndTextSection,
        ]);
    }

    /// Strokes a rectangle whose top-left corner is (`x`, `top`).
    pub(super) fn frame(&mut self, x: f32, top: f32, width: f32, height: f32, line: f32, ink: Ink) {
        let bottom_left = point(x, top + height);
        self.stroke_style(line, ink);
        self.ops.push(Op::DrawRectangle {
            rectangle: Rect {
                x: bottom_left.x,
                y: bottom_left.y,
                width: pt(width),
                height: pt(height),
                mode: Some(PaintMode::Stroke),
                winding_order: None,
            },
        });
    }

    /// Strokes a straight line from (`x1`, `y1`) to (`x2`, `y2`).
    pub(super) fn line(&mut self, (x1, y1): (f32, f32), (x2, y2): (f32, f32), line: f32) {
        self.stroke_style(line, Ink::Black);
        self.ops.push(Op::DrawLine {
            line: Line {
                points: vec![
                    LinePoint {
                        p: point(x1, y1),
                        bezier: false,
                    },
                    LinePoint {
                        p: point(x2, y2),
                        bezier: false,
                    },
                ],
                is_closed: false,
            },
        });
    }

    fn stroke_style(&mut self, line: f32, ink: Ink) {
        self.ops.extend([
            Op::SetOutlineThickness { pt: Pt(line) },
            Op::SetOutlineColor { col: ink.color() },
        ]);
    }

    /// Draws an image registered with the document, scaled to fit a square
    /// of `side` mm whose top-left corner is (`x`, `top`), centred in it.
    pub(super) fn image(&mut self, image: &ImageCell, x: f32, top: f32, side: f32) {
        let (w, h) = (image.width_px.max(1) as f32, image.height_px.max(1) as f32);
        let scale = side / w.max(h); // mm per pixel
        let (width, height) = (w * scale, h * scale);
        let left = x + (side - width) / 2.0;
        let bottom = top + (side + height) / 2.0;
        let at = point(left, bottom);
        self.ops.push(Op::UseXobject {
            id: image.id.clone(),
            transform: printpdf::XObjectTransform {
                translate_x: Some(at.x),
                translate_y: Some(at.y),
                // At this resolution one pixel is `scale` mm.
                dpi: Some(25.4 / scale),
                ..Default::default()
            },
        });
    }

    pub(super) fn finish(self) -> PdfPage {
        PdfPage::new(
            printpdf::Mm(PAGE_WIDTH),
            printpdf::Mm(PAGE_HEIGHT),
            self.ops,
        )
    }
}
