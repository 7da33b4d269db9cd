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

/// The certificate font under this document's resource name.
pub(super) struct Face<'a> {
    font: &'a ParsedFont,
    id: FontId,
    units_per_em: f32,
}

impl<'a> Face<'a> {
    pub(super) fn new(font: &'a ParsedFont, id: FontId) -> Self {
        let units_per_em = f32::from(font.pdf_font_metrics.units_per_em.max(1));
        Self {
            font,
            id,
            units_per_em,
        }
    }

    pub(super) fn id(&self) -> &FontId {
        &self.id
    }

    /// The advance width of `text` at `size` points, in millimetres.
    ///
    /// # Errors
    /// [`RenderError::MissingGlyph`] if the font cannot draw a character.
    pub(super) fn width(&self, text: &str, size: f32, field: Field) -> Result<f32, RenderError> {
        let mut units = 0u32;
        for c in text.chars() {
            let glyph = self
                .font
                .lookup_glyph_index(u32::from(c))
                .filter(|&gid| gid != 0)
                .ok_or(RenderError::MissingGlyph { field })?;
            units += u32::from(self.font.get_horizontal_advance(glyph));
        }
        Ok(units as f32 / self.units_per_em * size / PT_PER_MM)
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
        self.ops.extend([
            Op::StartTextSection,
            Op::SetFont {
                font: PdfFontHandle::External(self.face.id.clone()),
                size: Pt(style.size),
            },
            Op::SetFillColor {
                col: style.ink.color(),
            },
            Op::SetTextMatrix {
                matrix: TextMatrix::Raw(matrix),
            },
            Op::ShowText {
                items: vec![TextItem::Text(text.to_owned())],
            },
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
    pub(super) fn image(&mut self, image: &super::form::ImageCell, x: f32, top: f32, side: f32) {
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
