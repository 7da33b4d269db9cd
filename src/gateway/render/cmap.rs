//! A TrueType/OpenType reader for what layout needs: character → glyph
//! (`cmap` format 12, else format 4), ideographic variation sequences →
//! glyph (format 14, which a plain character lookup misses), and advance widths
//! (`hmtx`). Glyphs found here are drawn by id, so a variation sequence gets
//! the glyph the font registers for it.
//!
//! Rule: every read is bounds-checked; a malformed table gives no mapping,
//! never a panic.

use std::collections::{HashMap, HashSet};

/// The mappings and metrics of one font.
#[derive(Debug, Default)]
pub(super) struct Cmap {
    /// Advance widths by glyph id (the last repeats for the glyphs after it).
    advances: Vec<u16>,
    units_per_em: u16,
    glyphs: HashMap<u32, u16>,
    /// (base, selector) → glyph, for non-default variation sequences.
    variants: HashMap<(u32, u32), u16>,
    /// (base, selector) pairs whose glyph is the base's default one.
    default_variants: HashSet<(u32, u32)>,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u24_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 3)?;
    Some(u32::from(s[0]) << 16 | u32::from(s[1]) << 8 | u32::from(s[2]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Whether `c` is a variation selector (VS1–16 or VS17–256).
pub(super) fn is_variation_selector(c: char) -> bool {
    matches!(u32::from(c), 0xFE00..=0xFE0F | 0xE0100..=0xE01EF)
}

impl Cmap {
    /// Reads the `cmap`, `head`, `hhea` and `hmtx` tables of a TrueType/OpenType font file.
    pub(super) fn parse(font: &[u8]) -> Option<Cmap> {
        let tables = u16_at(font, 4)? as usize;
        let table = |tag: &[u8; 4]| {
            (0..tables).find_map(|i| {
                let rec = 12 + 16 * i;
                (font.get(rec..rec + 4)? == tag).then_some(())?;
                let offset = u32_at(font, rec + 8)? as usize;
                let length = u32_at(font, rec + 12)? as usize;
                font.get(offset..offset.checked_add(length)?)
            })
        };
        let cmap = table(b"cmap")?;
        let mut out = Cmap {
            units_per_em: u16_at(table(b"head")?, 18)?.max(1),
            ..Cmap::default()
        };
        let metrics = u16_at(table(b"hhea")?, 34)? as usize;
        let hmtx = table(b"hmtx")?;
        out.advances = (0..metrics)
            .map(|g| u16_at(hmtx, 4 * g))
            .collect::<Option<Vec<u16>>>()?;
        let subtables = u16_at(cmap, 2)? as usize;
        let (mut format12, mut format4, mut format14) = (None, None, None);
        for i in 0..subtables {
            let rec = 4 + 8 * i;
            let (platform, encoding) = (u16_at(cmap, rec)?, u16_at(cmap, rec + 2)?);
            let offset = u32_at(cmap, rec + 4)? as usize;
            match (platform, encoding, u16_at(cmap, offset)?) {
                (3, 10, 12) | (0, 4, 12) | (0, 6, 12) => format12 = Some(offset),
                (3, 1, 4) | (0, 3, 4) => format4 = Some(offset),
                (0, 5, 14) => format14 = Some(offset),
                _ => {}
            }
        }
        match (format12, format4) {
            (Some(at), _) => out.read_format12(cmap.get(at..)?)?,
            (None, Some(at)) => out.read_format4(cmap.get(at..)?)?,
            (None, None) => return None,
        }
        if let Some(at) = format14 {
            out.read_format14(cmap.get(at..)?);
        }
        Some(out)
    }

    fn read_format12(&mut self, t: &[u8]) -> Option<()> {
        let groups = u32_at(t, 12)? as usize;
        for g in 0..groups {
            let at = 16 + 12 * g;
            let (start, end, glyph) = (u32_at(t, at)?, u32_at(t, at + 4)?, u32_at(t, at + 8)?);
            if end < start || end - start > 0x10FFFF {
                return None;
            }
            for (i, c) in (start..=end).enumerate() {
                let gid = u16::try_from(glyph as usize + i).ok()?;
                self.glyphs.insert(c, gid);
            }
        }
        Some(())
    }

    fn read_format4(&mut self, t: &[u8]) -> Option<()> {
        let segments = (u16_at(t, 6)? / 2) as usize;
        let ends = 14;
        let starts = ends + 2 * segments + 2;
        let deltas = starts + 2 * segments;
        let range_offsets = deltas + 2 * segments;
        for s in 0..segments {
            let (start, end) = (u16_at(t, starts + 2 * s)?, u16_at(t, ends + 2 * s)?);
            let delta = u16_at(t, deltas + 2 * s)?;
            let range_offset = u16_at(t, range_offsets + 2 * s)? as usize;
            if start > end || start == 0xFFFF {
                continue;
            }
            for c in start..=end {
                let gid = if range_offset == 0 {
                    c.wrapping_add(delta)
                } else {
                    let at = range_offsets + 2 * s + range_offset + 2 * usize::from(c - start);
                    match u16_at(t, at)? {
                        0 => 0,
                        g => g.wrapping_add(delta),
                    }
                };
                if gid != 0 {
                    self.glyphs.insert(u32::from(c), gid);
                }
            }
        }
        Some(())
    }

    fn read_format14(&mut self, t: &[u8]) -> Option<()> {
        let records = u32_at(t, 6)? as usize;
        for r in 0..records {
            let rec = 10 + 11 * r;
            let selector = u24_at(t, rec)?;
            let default_at = u32_at(t, rec + 3)? as usize;
            let non_default_at = u32_at(t, rec + 7)? as usize;
            if default_at != 0 {
                let ranges = u32_at(t, default_at)? as usize;
                for i in 0..ranges {
                    let at = default_at + 4 + 4 * i;
                    let start = u24_at(t, at)?;
                    let count = u32::from(*t.get(at + 3)?);
                    for c in start..=start + count {
                        self.default_variants.insert((c, selector));
                    }
                }
            }
            if non_default_at != 0 {
                let mappings = u32_at(t, non_default_at)? as usize;
                for i in 0..mappings {
                    let at = non_default_at + 4 + 5 * i;
                    self.variants
                        .insert((u24_at(t, at)?, selector), u16_at(t, at + 3)?);
                }
            }
        }
        Some(())
    }

    /// The advance of glyph `gid`, in font units, and the units per em.
    pub(super) fn advance(&self, gid: u16) -> (u16, u16) {
        let advance = self
            .advances
            .get(usize::from(gid))
            .or(self.advances.last())
            .copied()
            .unwrap_or(0);
        (advance, self.units_per_em)
    }

    /// The glyph of `c` alone.
    pub(super) fn glyph(&self, c: char) -> Option<u16> {
        self.glyphs.get(&u32::from(c)).copied().filter(|&g| g != 0)
    }

    /// The glyph of `c` followed by the variation selector `vs`, if the font
    /// registers that sequence.
    pub(super) fn variant(&self, c: char, vs: char) -> Option<u16> {
        let key = (u32::from(c), u32::from(vs));
        match self.variants.get(&key) {
            Some(&g) if g != 0 => Some(g),
            _ if self.default_variants.contains(&key) => self.glyph(c),
            _ => None,
        }
    }
}

/// `text` split into clusters: a character and the variation selector
/// that follows it, if any.
pub(super) fn clusters(text: &str) -> Vec<(char, Option<char>)> {
    let mut out: Vec<(char, Option<char>)> = Vec::with_capacity(text.len());
    for c in text.chars() {
        match out.last_mut() {
            Some((_, vs @ None)) if is_variation_selector(c) => *vs = Some(c),
            _ => out.push((c, None)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_fonts_format_12_and_format_4_tables_agree() {
        let font = include_bytes!("../../../assets/fonts/ipaexm.ttf");
        let cmap = Cmap::parse(font).expect("the bundled font has a cmap");
        // The format 4 (BMP) subtable read on its own, as an independent
        // reading of the same mapping the format 12 one gives.
        let tables = usize::from(u16_at(font, 4).unwrap());
        let table = (0..tables)
            .find_map(|i| {
                let rec = 12 + 16 * i;
                (&font[rec..rec + 4] == b"cmap").then(|| u32_at(font, rec + 8).unwrap() as usize)
            })
            .unwrap();
        let subtables = usize::from(u16_at(font, table + 2).unwrap());
        let format4 = (0..subtables)
            .find_map(|i| {
                let rec = table + 4 + 8 * i;
                let at = table + u32_at(font, rec + 4).unwrap() as usize;
                (u16_at(font, rec).unwrap() == 3 && u16_at(font, rec + 2).unwrap() == 1)
                    .then_some(at)
            })
            .expect("a format 4 subtable");
        let mut bmp = Cmap::default();
        bmp.read_format4(&font[format4..]).expect("format 4 reads");
        let mut seen = HashSet::new();
        for c in "住民票の写し日向太郎葛飾ABC１２３".chars() {
            let glyph = cmap.glyph(c);
            assert!(glyph.is_some(), "{c}");
            assert_eq!(glyph, bmp.glyph(c), "{c}");
            assert!(seen.insert(glyph), "{c} shares a glyph");
        }
        assert_eq!(cmap.glyph('\u{E000}'), None);
        // IPAex Mincho registers 葛 + VS17 (its own glyph), and not VS256.
        let variant = cmap.variant('葛', '\u{E0100}');
        assert!(variant.is_some() && variant != cmap.glyph('葛'));
        assert_eq!(cmap.variant('葛', '\u{E01EF}'), None);
    }

    #[test]
    fn clusters_keep_a_selector_with_its_base_and_malformed_tables_give_nothing() {
        assert_eq!(
            clusters("葛\u{E0100}飾"),
            vec![('葛', Some('\u{E0100}')), ('飾', None)]
        );
        assert_eq!(clusters("\u{FE00}"), vec![('\u{FE00}', None)]);
        for bad in [&b""[..], b"\x00\x01\x00\x00\x00\x01", &[0xFF; 64]] {
            assert!(Cmap::parse(bad).is_none());
        }
    }
}
