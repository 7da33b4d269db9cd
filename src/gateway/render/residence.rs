//! 住民票の写し (residence certificate): title, 住所 and 世帯主, one framed
//! block per person, then the attestation on the last page.
//!
//! Rule: an item is printed only when the snapshot holds it — 世帯主・続柄,
//! 本籍・筆頭者 and 個人番号 appear only if the resident chose them, and the
//! 住民票コード is never printed (the model does not even carry it).

use super::canvas::{Align, Canvas, Face, Ink, Page, Style};
use super::era::format_japanese_date;
use super::model::{ResidenceCertificate, ResidentRecord, sex_label};
use super::page::{
    self, INNER_LINE, LABEL, LEFT, NOTE, OUTER_LINE, PAD, PageNumber, RIGHT, VALUE, WIDTH,
};
use super::{Field, RenderError, attestation};

/// The most people per page; a 7-person household takes two pages. A page
/// takes fewer when their blocks carry optional rows (see [`page_chunks`]).
pub(super) const MEMBERS_PER_PAGE: usize = 5;
/// The most people one certificate lists (20 pages).
pub(super) const MAX_MEMBERS: usize = 100;

pub(super) const WHOLE_HOUSEHOLD_ATTESTATION: &str =
    "この写しは、世帯全員の住民票の原本と相違ないことを証明する。";
pub(super) const ATTESTATION: &str = "この写しは、住民票の原本と相違ないことを証明する。";
pub(super) const TITLE: &str = "住民票の写し";

const TITLE_STYLE: Style = Style::black(20.0);
const NAME: Style = Style::black(13.0);
const KANA: Style = Style::black(7.0);

/// Header table rows (住所, 世帯主).
const HEADER_TOP: f32 = 35.0;
const HEADER_ROW: f32 = 8.0;
const HEADER_LABEL_WIDTH: f32 = 30.0;
const HEADER_GAP: f32 = 4.0;

/// Member block: row heights and the four column widths (label, value,
/// label, value); the 本籍 row gives the domicile more room.
const NAME_ROW: f32 = 12.0;
const ROW: f32 = 7.0;
const COLUMNS: [f32; 4] = [30.0, 55.0, 22.0, 63.0];
const DOMICILE_COLUMNS: [f32; 4] = [30.0, 85.0, 22.0, 33.0];
const BLOCK_GAP: f32 = 2.5;

/// Where the attestation (or the continuation note) starts.
const ATTESTATION_TOP: f32 = page::CONTENT_BOTTOM - attestation::HEIGHT;
/// Room below the last block for 「以下余白」 / 「（次頁に続く）」.
const NOTE_SPACE: f32 = 6.0;

/// Where member blocks start (below the 住所 and 世帯主 rows).
const MEMBERS_TOP: f32 = HEADER_TOP + 2.0 * HEADER_ROW + HEADER_GAP;
/// Member blocks end above this, so the attestation never overlaps one.
const MEMBERS_BOTTOM: f32 = ATTESTATION_TOP - NOTE_SPACE;

// Five people with the usual rows fit a page, and one person with every
// optional row (旧氏, 本籍 or the two foreign-resident rows) always does.
const _: () = {
    let usual_block = NAME_ROW + 2.0 * ROW;
    assert!(MEMBERS_TOP + MEMBERS_PER_PAGE as f32 * (usual_block + BLOCK_GAP) <= MEMBERS_BOTTOM);
    let tallest_block = NAME_ROW + 5.0 * ROW;
    assert!(MEMBERS_TOP + tallest_block + BLOCK_GAP <= MEMBERS_BOTTOM);
};

/// The height of a person's block: the name row, two rows every person
/// has, and one row per optional item present.
fn block_height(member: &ResidentRecord) -> f32 {
    let optional = usize::from(member.former_surname.is_some())
        + usize::from(member.domicile.is_some())
        + if member.foreign.is_some() { 2 } else { 0 };
    NAME_ROW + (2 + optional) as f32 * ROW
}

/// The members split into pages: as many as fit, at most [`MEMBERS_PER_PAGE`].
fn page_chunks(members: &[ResidentRecord]) -> Vec<&[ResidentRecord]> {
    let mut chunks = Vec::new();
    let (mut start, mut y) = (0, MEMBERS_TOP);
    for (i, member) in members.iter().enumerate() {
        let height = block_height(member) + BLOCK_GAP;
        if i > start && (i - start == MEMBERS_PER_PAGE || y + height > MEMBERS_BOTTOM) {
            chunks.push(&members[start..i]);
            (start, y) = (i, MEMBERS_TOP);
        }
        y += height;
    }
    chunks.push(&members[start..]);
    chunks
}

/// Lays out the certificate.
pub(super) fn pages(
    face: &Face<'_>,
    cert: &ResidenceCertificate,
) -> Result<Vec<Page>, RenderError> {
    validate(cert)?;
    let chunks = page_chunks(&cert.members);
    page::compose(
        face,
        &cert.document,
        &chunks,
        |canvas, members, position| {
            let mut y = header(canvas, cert)?;
            for member in *members {
                y = member_block(canvas, y, member)? + BLOCK_GAP;
            }
            closing(canvas, cert, y, position)
        },
    )
}

fn validate(cert: &ResidenceCertificate) -> Result<(), RenderError> {
    if cert.members.is_empty() {
        return Err(RenderError::NoMembers);
    }
    if cert.members.len() > MAX_MEMBERS {
        return Err(RenderError::TooManyMembers {
            count: cert.members.len(),
            max: MAX_MEMBERS,
        });
    }
    let required = [
        (cert.municipality.name.as_str(), Field::MunicipalityName),
        (cert.address.as_str(), Field::Address),
    ];
    let names = cert.members.iter().map(|m| (m.name.as_str(), Field::Name));
    for (value, field) in required.into_iter().chain(names) {
        if value.trim().is_empty() {
            return Err(RenderError::EmptyField { field });
        }
    }
    Ok(())
}

/// Title, municipality, and the 住所 / 世帯主 table. Returns where the member
/// blocks start.
fn header(canvas: &mut Canvas<'_>, cert: &ResidenceCertificate) -> Result<f32, RenderError> {
    page::heading(canvas, TITLE, TITLE_STYLE, &cert.municipality.name)?;

    let mut rows = vec![("住所", cert.address.as_str(), Field::Address)];
    if let Some(householder) = &cert.householder {
        rows.push(("世帯主", householder.as_str(), Field::Householder));
    }
    let height = HEADER_ROW * rows.len() as f32;
    canvas.frame(LEFT, HEADER_TOP, WIDTH, height, OUTER_LINE, Ink::Black);
    let value_x = LEFT + HEADER_LABEL_WIDTH;
    canvas.line(
        (value_x, HEADER_TOP),
        (value_x, HEADER_TOP + height),
        INNER_LINE,
    );
    for (i, (label, value, field)) in rows.into_iter().enumerate() {
        let top = HEADER_TOP + HEADER_ROW * i as f32;
        if i > 0 {
            canvas.line((LEFT, top), (RIGHT, top), INNER_LINE);
        }
        label_cell(canvas, LEFT, top, HEADER_LABEL_WIDTH, HEADER_ROW, label)?;
        value_cell(
            canvas,
            value_x,
            top,
            WIDTH - HEADER_LABEL_WIDTH,
            HEADER_ROW,
            value,
            field,
        )?;
    }
    Ok(HEADER_TOP + height + HEADER_GAP)
}

/// One of a block's rows: a label and its value, then optionally a second pair.
struct Row<'a> {
    height: f32,
    columns: [f32; 4],
    first: (&'static str, Value<'a>),
    second: Option<(&'static str, Value<'a>)>,
}

enum Value<'a> {
    Text(String, Field),
    /// 氏名 with its ふりがな above.
    Name {
        name: &'a str,
        kana: &'a str,
    },
}

/// A person's framed block with its top at `top`. Returns its bottom edge.
fn member_block(
    canvas: &mut Canvas<'_>,
    top: f32,
    member: &ResidentRecord,
) -> Result<f32, RenderError> {
    let mut rows = vec![
        Row {
            height: NAME_ROW,
            columns: COLUMNS,
            first: (
                "氏名",
                Value::Name {
                    name: &member.name,
                    kana: &member.name_kana,
                },
            ),
            second: Some((
                "生年月日",
                Value::Text(format_japanese_date(member.birth_date), Field::Template),
            )),
        },
        Row {
            height: ROW,
            columns: COLUMNS,
            first: (
                "性別",
                Value::Text(sex_label(member.sex).to_owned(), Field::Template),
            ),
            second: member
                .relationship
                .as_ref()
                .map(|r| ("続柄", Value::Text(r.clone(), Field::Relationship))),
        },
        Row {
            height: ROW,
            columns: COLUMNS,
            first: (
                "住民となった年月日",
                Value::Text(
                    format_japanese_date(member.became_resident_on),
                    Field::Template,
                ),
            ),
            second: member
                .my_number
                .as_ref()
                .map(|n| ("個人番号", Value::Text(n.clone(), Field::MyNumber))),
        },
    ];
    if let Some(former) = &member.former_surname {
        rows.push(Row {
            height: ROW,
            columns: COLUMNS,
            first: ("旧氏", Value::Text(former.clone(), Field::FormerSurname)),
            second: None,
        });
    }
    if let Some(f) = &member.foreign {
        rows.push(Row {
            height: ROW,
            columns: COLUMNS,
            first: (
                "国籍・地域",
                Value::Text(f.nationality.clone(), Field::ForeignResident),
            ),
            second: Some((
                "在留カード番号",
                Value::Text(f.residence_card_number.clone(), Field::ForeignResident),
            )),
        });
        rows.push(Row {
            height: ROW,
            columns: COLUMNS,
            first: (
                "在留資格",
                Value::Text(f.status_of_residence.clone(), Field::ForeignResident),
            ),
            second: Some((
                "在留期間等",
                Value::Text(
                    format!(
                        "{}（満了の日 {}）",
                        f.period_of_stay,
                        format_japanese_date(f.expires_on)
                    ),
                    Field::ForeignResident,
                ),
            )),
        });
    }
    if let Some(domicile) = &member.domicile {
        rows.push(Row {
            height: ROW,
            columns: DOMICILE_COLUMNS,
            first: (
                "本籍",
                Value::Text(domicile.domicile.clone(), Field::Domicile),
            ),
            second: Some((
                "筆頭者",
                Value::Text(domicile.head_of_register.clone(), Field::HeadOfRegister),
            )),
        });
    }

    let height: f32 = rows.iter().map(|r| r.height).sum();
    canvas.frame(LEFT, top, WIDTH, height, OUTER_LINE, Ink::Black);
    let mut y = top;
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            canvas.line((LEFT, y), (RIGHT, y), INNER_LINE);
        }
        draw_row(canvas, y, row)?;
        y += row.height;
    }
    Ok(y)
}

fn draw_row(canvas: &mut Canvas<'_>, top: f32, row: &Row<'_>) -> Result<(), RenderError> {
    let [label_w, value_w, label2_w, value2_w] = row.columns;
    let bottom = top + row.height;
    let mut x = LEFT;
    let (label, value) = &row.first;
    label_cell(canvas, x, top, label_w, row.height, label)?;
    x += label_w;
    canvas.line((x, top), (x, bottom), INNER_LINE);
    // Without a second pair the first value runs to the right edge.
    let width = if row.second.is_some() {
        value_w
    } else {
        RIGHT - x
    };
    value_content(canvas, x, top, width, row.height, value)?;
    if let Some((label, value)) = &row.second {
        x += value_w;
        canvas.line((x, top), (x, bottom), INNER_LINE);
        label_cell(canvas, x, top, label2_w, row.height, label)?;
        x += label2_w;
        canvas.line((x, top), (x, bottom), INNER_LINE);
        value_content(canvas, x, top, value2_w, row.height, value)?;
    }
    Ok(())
}

fn value_content(
    canvas: &mut Canvas<'_>,
    x: f32,
    top: f32,
    width: f32,
    height: f32,
    value: &Value<'_>,
) -> Result<(), RenderError> {
    match value {
        Value::Text(text, field) => value_cell(canvas, x, top, width, height, text, *field),
        Value::Name { name, kana } => {
            if !kana.trim().is_empty() {
                canvas.text_fitted(
                    kana,
                    x + PAD,
                    top + 3.6,
                    width - 2.0 * PAD,
                    KANA,
                    Field::NameKana,
                )?;
            }
            canvas.text_fitted(
                name,
                x + PAD,
                top + height - 2.4,
                width - 2.0 * PAD,
                NAME,
                Field::Name,
            )
        }
    }
}

/// A label centred in its cell.
fn label_cell(
    canvas: &mut Canvas<'_>,
    x: f32,
    top: f32,
    width: f32,
    height: f32,
    label: &str,
) -> Result<(), RenderError> {
    let baseline = top + height / 2.0 + canvas.face().em_box_centre(LABEL.size);
    canvas.text(
        label,
        x + width / 2.0,
        baseline,
        Align::Centre,
        LABEL,
        Field::Template,
    )
}

/// A value left-aligned in its cell, shrunk to fit.
fn value_cell(
    canvas: &mut Canvas<'_>,
    x: f32,
    top: f32,
    width: f32,
    height: f32,
    text: &str,
    field: Field,
) -> Result<(), RenderError> {
    let size = canvas
        .face()
        .fitting_size(text, VALUE.size, width - 2.0 * PAD, field)?;
    let baseline = top + height / 2.0 + canvas.face().em_box_centre(size);
    canvas.text(
        text,
        x + PAD,
        baseline,
        Align::Left,
        Style { size, ..VALUE },
        field,
    )
}

/// After the last block: 「以下余白」 and the attestation; on earlier pages a
/// note that the document continues.
fn closing(
    canvas: &mut Canvas<'_>,
    cert: &ResidenceCertificate,
    after_members: f32,
    position: PageNumber,
) -> Result<(), RenderError> {
    if !position.is_last() {
        return canvas.text(
            "（次頁に続く）",
            RIGHT,
            after_members + NOTE_SPACE - 3.0,
            Align::Right,
            NOTE,
            Field::Template,
        );
    }
    canvas.text(
        "以下余白",
        RIGHT,
        after_members + NOTE_SPACE - 3.0,
        Align::Right,
        NOTE,
        Field::Template,
    )?;
    let sentence = if cert.whole_household {
        WHOLE_HOUSEHOLD_ATTESTATION
    } else {
        ATTESTATION
    };
    attestation::draw(
        canvas,
        ATTESTATION_TOP,
        sentence,
        cert.issued_on,
        &cert.municipality,
    )
}
