//! A TrueType font prepared once for subsetting, and the subset each
//! document embeds (`FontFile2`).
//!
//! Rule: the font file is read once per process — its table directory,
//! glyph locations, metrics and the small tables a subset copies — so a
//! document's subset is a copy of the glyphs it uses, renumbered in the
//! order it first uses them, and nothing is parsed again. The glyph data
//! is embedded uncompressed: TrueType outlines deflate by only about a fifth,
//! and compressing them was most of the time a certificate took to render.
//! Instead the subset leaves out the hinting instructions — two fifths of
//! IPAex Mincho's glyph data, and of no use to a printer or a viewer at the
//! resolutions a certificate is printed and read at; the outlines are
//! unchanged.
//!
//! Every read is bounds-checked; a font that does not have the shape
//! expected is refused when prepared, never a panic while rendering.

use std::borrow::Cow;

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn i16_at(b: &[u8], at: usize) -> Option<i16> {
    Some(i16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// What a PDF font descriptor says about the font, in font units.
#[derive(Debug, Clone, Copy)]
pub(super) struct Metrics {
    pub(super) units_per_em: u16,
    pub(super) bbox: [i16; 4],
    pub(super) ascender: i16,
    pub(super) descender: i16,
    pub(super) cap_height: i16,
}

/// A TrueType font, read once, ready to subset.
pub(super) struct FontFile {
    bytes: Cow<'static, [u8]>,
    /// (offset, length) of the `glyf` table in `bytes`.
    glyf: (usize, usize),
    /// Glyph `g` is `glyf[loca[g]..loca[g + 1]]`.
    loca: Vec<u32>,
    /// The `hmtx` table's long metrics count and the table itself.
    long_metrics: usize,
    hmtx: (usize, usize),
    head: [u8; 54],
    hhea: [u8; 36],
    maxp: Vec<u8>,
    pub(super) metrics: Metrics,
}

impl std::fmt::Debug for FontFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FontFile")
            .field("glyphs", &self.glyph_count())
            .finish_non_exhaustive()
    }
}

/// The flags of a composite glyph's component record (OpenType `glyf`).
const ARG_1_AND_2_ARE_WORDS: u16 = 0x0001;
const WE_HAVE_A_SCALE: u16 = 0x0008;
const MORE_COMPONENTS: u16 = 0x0020;
const WE_HAVE_AN_X_AND_Y_SCALE: u16 = 0x0040;
const WE_HAVE_A_TWO_BY_TWO: u16 = 0x0080;
const WE_HAVE_INSTRUCTIONS: u16 = 0x0100;

impl FontFile {
    /// Reads a TrueType (`glyf`-outline) font file.
    pub(super) fn parse(bytes: Cow<'static, [u8]>) -> Option<FontFile> {
        let font: &[u8] = &bytes;
        let tables = usize::from(u16_at(font, 4)?);
        let table = |tag: &[u8; 4]| -> Option<(usize, usize)> {
            (0..tables).find_map(|i| {
                let rec = 12 + 16 * i;
                (font.get(rec..rec + 4)? == tag).then_some(())?;
                let offset = u32_at(font, rec + 8)? as usize;
                let length = u32_at(font, rec + 12)? as usize;
                font.get(offset..offset.checked_add(length)?)?;
                Some((offset, length))
            })
        };
        let slice = |(o, l): (usize, usize)| &font[o..o + l];
        let head: [u8; 54] = slice(table(b"head")?).get(..54)?.try_into().ok()?;
        let hhea: [u8; 36] = slice(table(b"hhea")?).get(..36)?.try_into().ok()?;
        let maxp = slice(table(b"maxp")?).to_vec();
        let glyphs = usize::from(u16_at(&maxp, 4)?);
        let long_loca = i16_at(&head, 50)? == 1;
        let loca_table = slice(table(b"loca")?);
        let loca = (0..=glyphs)
            .map(|g| {
                if long_loca {
                    u32_at(loca_table, 4 * g)
                } else {
                    u16_at(loca_table, 2 * g).map(|o| u32::from(o) * 2)
                }
            })
            .collect::<Option<Vec<u32>>>()?;
        let glyf = table(b"glyf")?;
        if loca.windows(2).any(|w| w[0] > w[1]) || *loca.last()? as usize > glyf.1 {
            return None;
        }
        let hmtx = table(b"hmtx")?;
        let long_metrics = usize::from(u16_at(&hhea, 34)?);
        if long_metrics == 0 || hmtx.1 < 4 * long_metrics + 2 * glyphs.saturating_sub(long_metrics)
        {
            return None;
        }
        let cap_height = table(b"OS/2")
            .map(slice)
            .filter(|os2| u16_at(os2, 0).is_some_and(|v| v >= 2))
            .and_then(|os2| i16_at(os2, 88))
            .unwrap_or_else(|| i16_at(&hhea, 4).unwrap_or(0));
        let metrics = Metrics {
            units_per_em: u16_at(&head, 18)?.max(1),
            bbox: [
                i16_at(&head, 36)?,
                i16_at(&head, 38)?,
                i16_at(&head, 40)?,
                i16_at(&head, 42)?,
            ],
            ascender: i16_at(&hhea, 4)?,
            descender: i16_at(&hhea, 6)?,
            cap_height,
        };
        Some(FontFile {
            glyf,
            loca,
            long_metrics,
            hmtx,
            head,
            hhea,
            maxp,
            metrics,
            bytes,
        })
    }

    pub(super) fn glyph_count(&self) -> usize {
        self.loca.len() - 1
    }

    /// The outline data of glyph `gid` (empty for a blank glyph).
    fn glyph(&self, gid: u16) -> &[u8] {
        let g = usize::from(gid);
        match (self.loca.get(g), self.loca.get(g + 1)) {
            (Some(&start), Some(&end)) => {
                let at = self.glyf.0;
                &self.bytes[at + start as usize..at + end as usize]
            }
            _ => &[],
        }
    }

    /// The glyphs a composite glyph is built from (none for a simple one),
    /// with the byte offset of each component's glyph index in its data.
    fn components(data: &[u8]) -> Vec<(usize, u16)> {
        let mut out = Vec::new();
        if i16_at(data, 0).is_none_or(|contours| contours >= 0) {
            return out;
        }
        let mut at = 10;
        while let (Some(flags), Some(gid)) = (u16_at(data, at), u16_at(data, at + 2)) {
            out.push((at + 2, gid));
            at += 4 + if flags & ARG_1_AND_2_ARE_WORDS != 0 {
                4
            } else {
                2
            };
            at += if flags & WE_HAVE_A_TWO_BY_TWO != 0 {
                8
            } else if flags & WE_HAVE_AN_X_AND_Y_SCALE != 0 {
                4
            } else if flags & WE_HAVE_A_SCALE != 0 {
                2
            } else {
                0
            };
            if flags & MORE_COMPONENTS == 0 || out.len() > 64 {
                break;
            }
        }
        out
    }

    /// The advance and left side bearing of glyph `gid`, in font units.
    pub(super) fn horizontal_metrics(&self, gid: u16) -> (u16, i16) {
        let hmtx = &self.bytes[self.hmtx.0..self.hmtx.0 + self.hmtx.1];
        let g = usize::from(gid);
        if g < self.long_metrics {
            (
                u16_at(hmtx, 4 * g).unwrap_or(0),
                i16_at(hmtx, 4 * g + 2).unwrap_or(0),
            )
        } else {
            let last = self.long_metrics - 1;
            (
                u16_at(hmtx, 4 * last).unwrap_or(0),
                i16_at(hmtx, 4 * self.long_metrics + 2 * (g - self.long_metrics)).unwrap_or(0),
            )
        }
    }

    /// A glyph's outline without its hinting instructions: a simple glyph
    /// with an instruction length of zero, a composite one without the
    /// instructions after its last component. Anything malformed is kept
    /// as it is (the reader that renders it will judge).
    fn unhinted(data: &[u8], out: &mut Vec<u8>) {
        let Some(contours) = i16_at(data, 0) else {
            out.extend_from_slice(data);
            return;
        };
        if contours >= 0 {
            let at = 10 + 2 * contours as usize;
            match u16_at(data, at) {
                Some(len) if data.len() >= at + 2 + usize::from(len) => {
                    out.extend_from_slice(&data[..at]);
                    out.extend_from_slice(&[0, 0]);
                    out.extend_from_slice(&data[at + 2 + usize::from(len)..]);
                }
                _ => out.extend_from_slice(data),
            }
            return;
        }
        // Composite: cut after the last component record, flag cleared.
        let start = out.len();
        let mut at = 10;
        let mut last_flags_at = None;
        while let Some(flags) = u16_at(data, at) {
            last_flags_at = Some(at);
            at += 4 + if flags & ARG_1_AND_2_ARE_WORDS != 0 {
                4
            } else {
                2
            };
            at += if flags & WE_HAVE_A_TWO_BY_TWO != 0 {
                8
            } else if flags & WE_HAVE_AN_X_AND_Y_SCALE != 0 {
                4
            } else if flags & WE_HAVE_A_SCALE != 0 {
                2
            } else {
                0
            };
            if flags & MORE_COMPONENTS == 0 {
                break;
            }
        }
        match last_flags_at {
            Some(flags_at) if at <= data.len() => {
                out.extend_from_slice(&data[..at]);
                let flags = u16_at(data, flags_at).unwrap_or(0) & !WE_HAVE_INSTRUCTIONS;
                out[start + flags_at..start + flags_at + 2].copy_from_slice(&flags.to_be_bytes());
            }
            _ => out.extend_from_slice(data),
        }
    }

    /// Adds to `glyphs` (new id → original id) the components of any
    /// composite glyph in it that are missing, so the subset is complete.
    pub(super) fn close_over_components(&self, glyphs: &mut Vec<u16>) {
        let mut i = 0;
        while i < glyphs.len() {
            for (_, component) in Self::components(self.glyph(glyphs[i])) {
                if !glyphs.contains(&component) && glyphs.len() < usize::from(u16::MAX) {
                    glyphs.push(component);
                }
            }
            i += 1;
        }
    }

    /// A TrueType file holding `glyphs` (new id → original id; `glyphs[0]`
    /// should be 0, `.notdef`), renumbered: new glyph `i` is original
    /// `glyphs[i]`. Call [`FontFile::close_over_components`] first.
    pub(super) fn subset(&self, glyphs: &[u16]) -> Vec<u8> {
        let n = glyphs.len();
        let new_id = |original: u16| glyphs.iter().position(|&g| g == original);
        // glyf and loca (long offsets), each glyph padded to 4 bytes.
        let glyf_len: usize = glyphs
            .iter()
            .map(|&g| self.glyph(g).len().next_multiple_of(4))
            .sum(); // an upper bound: the instructions are left out
        let mut glyf = Vec::with_capacity(glyf_len);
        let mut loca = Vec::with_capacity(4 * (n + 1));
        for &g in glyphs {
            loca.extend_from_slice(&(glyf.len() as u32).to_be_bytes());
            let start = glyf.len();
            let data = self.glyph(g);
            Self::unhinted(data, &mut glyf);
            for (at, component) in Self::components(&glyf[start..]) {
                let renumbered = new_id(component).unwrap_or(0) as u16;
                glyf[start + at..start + at + 2].copy_from_slice(&renumbered.to_be_bytes());
            }
            glyf.resize(glyf.len().next_multiple_of(4), 0);
        }
        loca.extend_from_slice(&(glyf.len() as u32).to_be_bytes());
        let mut hmtx = Vec::with_capacity(4 * n);
        for &g in glyphs {
            let (advance, lsb) = self.horizontal_metrics(g);
            hmtx.extend_from_slice(&advance.to_be_bytes());
            hmtx.extend_from_slice(&lsb.to_be_bytes());
        }
        let mut head = self.head;
        head[8..12].fill(0); // checkSumAdjustment, set below
        head[50..52].copy_from_slice(&1i16.to_be_bytes()); // long loca
        let mut hhea = self.hhea;
        hhea[34..36].copy_from_slice(&(n as u16).to_be_bytes());
        let mut maxp = self.maxp.clone();
        maxp[4..6].copy_from_slice(&(n as u16).to_be_bytes());
        // Tables in tag order, as the directory must list them; without
        // instructions, no cvt, fpgm or prep.
        write_sfnt(&[
            (b"glyf", &glyf),
            (b"head", &head),
            (b"hhea", &hhea),
            (b"hmtx", &hmtx),
            (b"loca", &loca),
            (b"maxp", &maxp),
        ])
    }
}

/// The OpenType table checksum: the sum of the table as big-endian u32s,
/// zero-padded to a multiple of four bytes.
fn checksum(data: &[u8]) -> u32 {
    let mut sum = 0u32;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        sum = sum.wrapping_add(u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; 4];
        last[..rest.len()].copy_from_slice(rest);
        sum = sum.wrapping_add(u32::from_be_bytes(last));
    }
    sum
}

/// An sfnt file of `tables` (in tag order), with its directory, checksums
/// and the `head` table's checkSumAdjustment.
fn write_sfnt(tables: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
    let count = tables.len() as u16;
    let entry_selector = 15 - count.leading_zeros() as u16;
    let search_range = (1u16 << entry_selector) * 16;
    let total: usize = 12
        + 16 * tables.len()
        + tables
            .iter()
            .map(|(_, t)| t.len().next_multiple_of(4))
            .sum::<usize>();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    out.extend_from_slice(&count.to_be_bytes());
    out.extend_from_slice(&search_range.to_be_bytes());
    out.extend_from_slice(&entry_selector.to_be_bytes());
    out.extend_from_slice(&(count * 16 - search_range).to_be_bytes());
    let mut offset = 12 + 16 * tables.len();
    let mut head_at = None;
    for (tag, data) in tables {
        out.extend_from_slice(*tag);
        out.extend_from_slice(&checksum(data).to_be_bytes());
        out.extend_from_slice(&(offset as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        if *tag == b"head" {
            head_at = Some(offset);
        }
        offset += data.len().next_multiple_of(4);
    }
    for (_, data) in tables {
        out.extend_from_slice(data);
        out.resize(out.len().next_multiple_of(4), 0);
    }
    if let Some(at) = head_at {
        let adjustment = 0xB1B0_AFBAu32.wrapping_sub(checksum(&out));
        out[at + 8..at + 12].copy_from_slice(&adjustment.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINCHO: &[u8] = include_bytes!("../../../assets/fonts/ipaexm.ttf");

    #[test]
    fn a_subset_is_a_font_with_just_the_glyphs_asked_for() {
        let font = FontFile::parse(Cow::Borrowed(MINCHO)).expect("the bundled font parses");
        assert!(font.glyph_count() > 10_000);
        let subset = font.subset(&[0, 1000, 2000, 3000]);
        let again = FontFile::parse(Cow::Owned(subset.clone())).expect("the subset parses");
        assert_eq!(again.glyph_count(), 4);
        for (new, old) in [(1u16, 1000u16), (2, 2000), (3, 3000)] {
            let mut unhinted = Vec::new();
            FontFile::unhinted(font.glyph(old), &mut unhinted);
            assert!(
                unhinted.len() < font.glyph(old).len(),
                "IPAex Mincho is hinted"
            );
            // Padded to four bytes in the subset.
            let stored = again.glyph(new);
            assert_eq!(&stored[..unhinted.len()], &unhinted[..]);
            assert!(stored.len() - unhinted.len() < 4);
            assert!(stored[unhinted.len()..].iter().all(|&b| b == 0));
            // The outline is unchanged: same contour ends, points and flags.
            let contours = i16_at(&unhinted, 0).unwrap() as usize;
            let original = font.glyph(old);
            let ins = usize::from(u16_at(original, 10 + 2 * contours).unwrap());
            assert_eq!(
                &unhinted[..10 + 2 * contours],
                &original[..10 + 2 * contours]
            );
            assert_eq!(
                &unhinted[12 + 2 * contours..],
                &original[12 + 2 * contours + ins..]
            );
            assert_eq!(again.horizontal_metrics(new), font.horizontal_metrics(old));
        }
        // The whole file sums to the magic number, as the spec requires.
        assert_eq!(checksum(&subset), 0xB1B0_AFBA);
        assert!(subset.len() < 8 * 1024, "{} bytes", subset.len());
    }

    #[test]
    fn composite_glyphs_bring_their_components_renumbered() {
        // A composite glyph of two components, built by hand.
        let mut composite = vec![0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0];
        composite.extend_from_slice(&(MORE_COMPONENTS | ARG_1_AND_2_ARE_WORDS).to_be_bytes());
        composite.extend_from_slice(&7u16.to_be_bytes());
        composite.extend_from_slice(&[0, 0, 0, 0]);
        composite.extend_from_slice(&0u16.to_be_bytes());
        composite.extend_from_slice(&9u16.to_be_bytes());
        composite.extend_from_slice(&[0, 0]);
        assert_eq!(FontFile::components(&composite), vec![(12, 7), (20, 9)]);
        assert!(FontFile::components(&[0, 1, 0, 0]).is_empty());
        assert!(FontFile::components(&[0xFF, 0xFF, 0]).is_empty());
    }

    #[test]
    fn malformed_fonts_are_refused() {
        for bad in [&b""[..], b"\x00\x01\x00\x00\x00\x01", &[0xFF; 64]] {
            assert!(FontFile::parse(Cow::Borrowed(bad)).is_none());
        }
    }
}
