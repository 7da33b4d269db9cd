//! 印鑑登録証明書 (seal registration certificate): the impression (印影) as
//! registered, beside the holder's name — with 旧氏 or 通称 when recorded —
//! birth date, sex and address. The cardholder's own only.
//!
//! Rule: the impression is the registered PNG itself, decoded here and
//! embedded as an image; a PNG that does not decode within its bounds is an
//! error, never a blank cell.

use serde::{Deserialize, Serialize};
use time::Date;

use super::canvas::{Image, ImageCell};
use super::era::format_japanese_date;
use super::form::{Block, Row, Sheet};
use super::parts::{DocumentIdentity, MunicipalityHeader, Sex, sex_label};
use super::{Field, RenderError};

pub(super) const TITLE: &str = "印鑑登録証明書";
pub(super) const ATTESTATION: &str = "この写しは、登録されている印影と相違ないことを証明する。";

/// The largest impression decoded, in pixels per side.
const MAX_SIDE_PX: u32 = 2_000;

/// 印鑑登録証明書.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealCertificate {
    pub municipality: MunicipalityHeader,
    pub document: DocumentIdentity,
    pub issued_on: Date,
    /// 登録番号
    pub registration_no: String,
    /// 印影: the registered PNG.
    #[serde(with = "super::parts::base64_bytes")]
    pub impression_png: Vec<u8>,
    pub name: String,
    /// 旧氏, printed whenever the register records one.
    pub former_surname: Option<String>,
    /// 通称 (foreign residents), printed whenever recorded.
    pub alias: Option<String>,
    pub birth_date: Date,
    pub sex: Sex,
    pub address: String,
}

pub(super) fn sheet(cert: &SealCertificate) -> Sheet<'_> {
    let mut rows = vec![Row::new("氏名", cert.name.clone(), Field::Name)];
    if let Some(former) = &cert.former_surname {
        rows.push(Row::new("旧氏", former.clone(), Field::FormerSurname));
    }
    if let Some(alias) = &cert.alias {
        rows.push(Row::new("通称", alias.clone(), Field::Alias));
    }
    rows.extend([
        Row::fixed("生年月日", format_japanese_date(cert.birth_date)),
        Row::fixed("性別", sex_label(cert.sex)),
        Row::new("住所", cert.address.clone(), Field::Address),
    ]);
    let mut block = Block::headed(
        format!("登録番号　{}", cert.registration_no),
        Field::RegistrationNumber,
        rows,
    );
    block.image = Some(ImageCell {
        width_px: 0,
        height_px: 0,
    });
    Sheet::new(
        TITLE,
        ATTESTATION,
        (&cert.document, &cert.municipality, cert.issued_on),
        vec![block],
    )
}

/// The impression as a PDF image, with the cell that shows it sized to it.
pub(super) fn impression(
    cert: &SealCertificate,
    sheet: &mut Sheet<'_>,
) -> Result<Image, RenderError> {
    let image = decode_png(&cert.impression_png)?;
    for block in &mut sheet.blocks {
        if let Some(cell) = &mut block.image {
            cell.width_px = image.width;
            cell.height_px = image.height;
        }
    }
    Ok(image)
}

/// Decodes an 8- or 16-bit PNG of any colour type into 8-bit greyscale or
/// RGB, transparency composited over white paper.
pub(super) fn decode_png(bytes: &[u8]) -> Result<Image, RenderError> {
    let bad = RenderError::Image;
    let mut decoder = png::Decoder::new_with_limits(
        std::io::Cursor::new(bytes),
        png::Limits {
            bytes: 4 * (MAX_SIDE_PX * MAX_SIDE_PX) as usize,
        },
    );
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(|_| bad)?;
    let info = reader.info();
    if info.width == 0 || info.height == 0 || info.width > MAX_SIDE_PX || info.height > MAX_SIDE_PX
    {
        return Err(RenderError::Image);
    }
    let mut buf = vec![0; reader.output_buffer_size().ok_or(RenderError::Image)?];
    let frame = reader
        .next_frame(&mut buf)
        .map_err(|_| RenderError::Image)?;
    let buf = &buf[..frame.buffer_size()];
    let over_white =
        |v: u8, a: u8| ((u16::from(v) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
    let (pixels, format) = match frame.color_type {
        png::ColorType::Grayscale => (buf.to_vec(), false),
        png::ColorType::GrayscaleAlpha => (
            buf.chunks_exact(2)
                .map(|p| over_white(p[0], p[1]))
                .collect(),
            false,
        ),
        png::ColorType::Rgb => (buf.to_vec(), true),
        png::ColorType::Rgba => (
            buf.chunks_exact(4)
                .flat_map(|p| {
                    [
                        over_white(p[0], p[3]),
                        over_white(p[1], p[3]),
                        over_white(p[2], p[3]),
                    ]
                })
                .collect(),
            true,
        ),
        png::ColorType::Indexed => return Err(RenderError::Image),
    };
    Ok(Image {
        width: frame.width as usize,
        height: frame.height as usize,
        rgb: format,
        samples: pixels,
    })
}
