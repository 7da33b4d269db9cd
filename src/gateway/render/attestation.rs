//! The closing block of every certificate: the attestation sentence, the issue
//! date in era form (with the Western year unless the municipality's layout
//! says era only), the mayor's title and name, and the municipal seal (公印)
//! beside the name: the municipality's own seal image when its settings carry
//! one, otherwise drawn in red from its inscription.
//!
//! Rule: the block is drawn once, on the last page, after the last entry; a
//! seal image is the one whose digest the order's snapshot names, checked
//! before drawing, so no one can swap it between acceptance and print.

use time::Date;

use super::canvas::{Align, Canvas, ImageCell, Ink, PT_PER_MM, SEAL_IMAGE_RESOURCE, Style};
use super::era::{format_era_date, format_japanese_date};
use super::page::{LEFT, RIGHT};
use super::parts::{IssueDate, MunicipalityHeader};
use super::{Field, RenderError};

/// Height the block needs below its `top`.
pub(super) const HEIGHT: f32 = 42.0;

const SENTENCE: Style = Style::black(10.5);
const MAYOR: Style = Style::black(13.0);
/// Side of the square seal, in millimetres.
const SEAL_SIDE: f32 = 22.0;
/// The most characters a seal's engraving may hold (four columns of four).
const SEAL_MAX_CHARS: usize = 16;

/// Draws the block with its top edge `top` mm from the top of the page.
pub(super) fn draw(
    canvas: &mut Canvas<'_>,
    top: f32,
    sentence: &str,
    issued_on: Date,
    municipality: &MunicipalityHeader,
) -> Result<(), RenderError> {
    let indent = LEFT + 8.0;
    canvas.text(
        sentence,
        indent,
        top + 7.0,
        Align::Left,
        SENTENCE,
        Field::Template,
    )?;
    let date = match municipality.issue_date {
        IssueDate::EraAndWestern => format_japanese_date(issued_on),
        IssueDate::Era => format_era_date(issued_on),
    };
    canvas.text(
        &date,
        indent,
        top + 15.0,
        Align::Left,
        SENTENCE,
        Field::Template,
    )?;

    let seal_left = RIGHT - SEAL_SIDE - 2.0;
    let mayor_baseline = top + 30.0;
    for (value, field) in [
        (&municipality.mayor_title, Field::MayorTitle),
        (&municipality.mayor_name, Field::MayorName),
    ] {
        if value.trim().is_empty() {
            return Err(RenderError::EmptyField { field });
        }
    }
    let mayor = format!("{}　{}", municipality.mayor_title, municipality.mayor_name);
    let name_right = seal_left - 3.0;
    let size =
        canvas
            .face()
            .fitting_size(&mayor, MAYOR.size, name_right - indent, Field::MayorName)?;
    canvas.text(
        &mayor,
        name_right,
        mayor_baseline,
        Align::Right,
        Style { size, ..MAYOR },
        Field::MayorName,
    )?;

    // The seal's middle level with the middle of the name.
    let seal_top = mayor_baseline - canvas.face().em_box_centre(size) - SEAL_SIDE / 2.0;
    match &municipality.seal_image_png {
        Some(png) => {
            let (width_px, height_px) = png_size(png).ok_or(RenderError::SealImage)?;
            let size = ImageCell {
                width_px,
                height_px,
            };
            canvas.place(SEAL_IMAGE_RESOURCE, &size, seal_left, seal_top, SEAL_SIDE);
            Ok(())
        }
        None if municipality.seal_image_sha256.is_some() => Err(RenderError::SealImage),
        None => seal(canvas, &municipality.seal_text, seal_left, seal_top),
    }
}

/// Width and height from a PNG's header (the image itself is decoded and
/// checked against its digest before any page is laid out).
fn png_size(png: &[u8]) -> Option<(usize, usize)> {
    let reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .ok()?;
    let info = reader.info();
    Some((info.width as usize, info.height as usize))
}

/// The municipal seal: a square double frame with the engraving laid out in
/// columns, read top to bottom and right to left as a seal is.
fn seal(canvas: &mut Canvas<'_>, text: &str, left: f32, top: f32) -> Result<(), RenderError> {
    let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    if chars.is_empty() {
        return Err(RenderError::EmptyField {
            field: Field::SealText,
        });
    }
    if chars.len() > SEAL_MAX_CHARS {
        return Err(RenderError::TextTooLong {
            field: Field::SealText,
        });
    }

    canvas.frame(left, top, SEAL_SIDE, SEAL_SIDE, 2.0, Ink::SealRed);
    let inset = 1.4;
    canvas.frame(
        left + inset,
        top + inset,
        SEAL_SIDE - 2.0 * inset,
        SEAL_SIDE - 2.0 * inset,
        0.6,
        Ink::SealRed,
    );

    let area_left = left + 2.6;
    let area_top = top + 2.6;
    let area = SEAL_SIDE - 2.0 * 2.6;
    let columns = columns_for(chars.len());
    let column_width = area / columns.len() as f32;
    // Glyphs fill their column's width; each column spreads its characters
    // over the full height, stretching them as engravers do.
    let em = column_width * 0.94;
    let style = Style {
        size: em * PT_PER_MM,
        ink: Ink::SealRed,
    };
    let mut rest = chars.as_slice();
    for (column, &count) in columns.iter().enumerate() {
        let (these, after) = rest.split_at(count.min(rest.len()));
        rest = after;
        let cx = area_left + area - (column as f32 + 0.5) * column_width;
        let cell = area / count as f32;
        let v_scale = (cell * 0.94 / em).clamp(0.7, 1.6);
        for (row, &c) in these.iter().enumerate() {
            let cy = area_top + (row as f32 + 0.5) * cell;
            canvas.glyph_centred(c, (cx, cy), v_scale, style, Field::SealText)?;
        }
    }
    Ok(())
}

/// How many characters each column holds, rightmost column first: as square
/// a grid as possible, the extra characters going to the right-hand columns
/// (`みどり市長之印` → 3, 2, 2).
fn columns_for(chars: usize) -> Vec<usize> {
    let mut columns = 1;
    while columns * columns < chars {
        columns += 1;
    }
    let (base, extra) = (chars / columns, chars % columns);
    (0..columns)
        .map(|i| base + usize::from(i < extra))
        .filter(|&n| n > 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{columns_for, png_size};

    #[test]
    fn png_size_reads_the_header_and_refuses_what_is_not_a_png() {
        let mut png = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut png, 300, 200);
            encoder.set_color(png::ColorType::Grayscale);
            let mut writer = encoder.write_header().unwrap();
            writer.write_image_data(&vec![255; 300 * 200]).unwrap();
        }
        assert_eq!(png_size(&png), Some((300, 200)));
        assert_eq!(png_size(&png[..20]), None);
        png[1] = b'Q';
        assert_eq!(png_size(&png), None);
    }

    #[test]
    fn seal_columns_are_near_square_and_fill_from_the_right() {
        assert_eq!(columns_for(1), vec![1]);
        assert_eq!(columns_for(4), vec![2, 2]);
        assert_eq!(columns_for(6), vec![2, 2, 2]);
        assert_eq!(columns_for(7), vec![3, 2, 2]);
        assert_eq!(columns_for(8), vec![3, 3, 2]);
        assert_eq!(columns_for(9), vec![3, 3, 3]);
        assert_eq!(columns_for(16), vec![4, 4, 4, 4]);
        for n in 1..=16 {
            assert_eq!(columns_for(n).iter().sum::<usize>(), n);
        }
    }
}
