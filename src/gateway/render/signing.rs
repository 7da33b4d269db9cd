//! What the renderer needs to sign a document, and what it gives back.
//!
//! Every document carries a verification code (printed, and in the
//! snapshot's [`DocumentIdentity`](super::model::DocumentIdentity)) and a QR
//! code holding that code, the signing key's id, the issue time, the kind,
//! the content digest and an Ed25519 signature over it. The digest covers
//! the text of every page exactly as printed (see the README, "Verifiable
//! paper"), so `kofu document verify` can check a PDF offline.

/// Signs documents with one municipality's key. The gateway's key store
/// provides it; the key itself never leaves it.
pub trait DocumentSigner: Send + Sync {
    /// The key's id, printed in the QR and published with the public key.
    fn key_id(&self) -> &str;
    /// An Ed25519 signature over `message` (deterministic, RFC 8032).
    fn sign(&self, message: &[u8]) -> [u8; 64];
}

/// The signing inputs of one document. All of them are fixed when the
/// order is accepted (code, key, issue time), so rendering again gives the
/// same bytes.
pub struct Signing<'a> {
    pub signer: &'a dyn DocumentSigner,
    /// When the order was accepted: the issue time signed into the document.
    pub issued_at: time::OffsetDateTime,
    /// Base URL of the public verification page, e.g.
    /// `https://verify.kofu.example`; the QR holds `{base}/verify/{code}?…`.
    pub verify_base: &'a str,
}

/// A [`DocumentSigner`] holding an Ed25519 key pair in memory.
pub struct Ed25519Signer {
    key_id: String,
    pair: ring::signature::Ed25519KeyPair,
}

impl Ed25519Signer {
    /// The key pair of a 32-byte seed (RFC 8032 private key).
    pub fn from_seed(key_id: impl Into<String>, seed: &[u8; 32]) -> Self {
        Self {
            key_id: key_id.into(),
            pair: ring::signature::Ed25519KeyPair::from_seed_unchecked(seed)
                .expect("any 32 bytes are an Ed25519 seed"),
        }
    }

    /// The public key (32 bytes).
    pub fn public_key(&self) -> [u8; 32] {
        use ring::signature::KeyPair;
        let mut out = [0u8; 32];
        out.copy_from_slice(self.pair.public_key().as_ref());
        out
    }
}

impl DocumentSigner for Ed25519Signer {
    fn key_id(&self) -> &str {
        &self.key_id
    }

    fn sign(&self, message: &[u8]) -> [u8; 64] {
        let mut out = [0u8; 64];
        out.copy_from_slice(self.pair.sign(message).as_ref());
        out
    }
}

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::gateway::domain::CertificateKind;

/// The first line of the canonical form; a new form gets a new version.
pub const CANONICAL_VERSION: &str = "kofu-document/1";

/// What a document's signature covers besides its pages' text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeader<'a> {
    pub code: &'a str,
    pub kind: CertificateKind,
    /// Seconds since the Unix epoch (UTC) of acceptance.
    pub issued_at: i64,
    pub pages: usize,
}

/// The canonical form of a document's content (documented in the README,
/// "Verifiable paper"): the header lines, then for each page `page N` and
/// the text of each of its text objects on a line of its own, in the order
/// the page's content stream shows them. Every line ends with LF.
pub fn canonical<S: AsRef<str>>(header: &SignedHeader<'_>, pages: &[Vec<S>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4096);
    let mut line = |s: &str| {
        out.extend_from_slice(s.as_bytes());
        out.push(b'\n');
    };
    line(CANONICAL_VERSION);
    line(&format!("code {}", header.code));
    line(&format!("kind {}", header.kind.wire_name()));
    line(&format!("issued_at {}", header.issued_at));
    line(&format!("pages {}", header.pages));
    for (n, page) in (1..).zip(pages) {
        line(&format!("page {n}"));
        for item in page {
            line(item.as_ref());
        }
    }
    out
}

/// SHA-256 of the canonical form: what the signature signs.
pub fn digest<S: AsRef<str>>(header: &SignedHeader<'_>, pages: &[Vec<S>]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, &canonical(header, pages));
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// What the QR code on a document holds: the verification page's URL with
/// the key id, issue time, kind, digest and signature as query parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrPayload {
    /// Everything before `/verify/`.
    pub base: String,
    pub code: String,
    pub key_id: String,
    pub issued_at: i64,
    pub kind: CertificateKind,
    pub digest: [u8; 32],
    pub signature: [u8; 64],
}

impl QrPayload {
    pub fn to_url(&self) -> String {
        format!(
            "{}/verify/{}?k={}&t={}&n={}&d={}&s={}",
            self.base.trim_end_matches('/'),
            self.code,
            self.key_id,
            self.issued_at,
            self.kind.wire_name(),
            URL_SAFE_NO_PAD.encode(self.digest),
            URL_SAFE_NO_PAD.encode(self.signature),
        )
    }

    /// Reads a payload back; `None` for anything not of [`QrPayload::to_url`]'s shape.
    pub fn parse(url: &str) -> Option<QrPayload> {
        let (base, rest) = url.rsplit_once("/verify/")?;
        let (code, query) = rest.split_once('?')?;
        let mut params = std::collections::HashMap::new();
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=')?;
            if params.insert(k, v).is_some() {
                return None;
            }
        }
        let bytes = |k: &str| URL_SAFE_NO_PAD.decode(params.get(k)?).ok();
        let key_id = (*params.get("k")?).to_owned();
        if key_id.is_empty()
            || !key_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return None;
        }
        Some(QrPayload {
            base: base.to_owned(),
            code: code.to_owned(),
            key_id,
            issued_at: params.get("t")?.parse().ok()?,
            kind: CertificateKind::from_wire(params.get("n")?)?,
            digest: bytes("d")?.try_into().ok()?,
            signature: bytes("s")?.try_into().ok()?,
        })
    }
}

/// The QR code for `payload` as the content of a unit-square form: the
/// dark modules as filled rectangles, one per horizontal run, with a quiet
/// zone of four modules inside the square.
pub(super) fn qr_form(payload: &str) -> Option<Vec<u8>> {
    const QUIET: usize = 4;
    let (width, dark) = qr_modules(payload.as_bytes())?;
    let total = (width + 2 * QUIET) as f32;
    let mut out = Vec::with_capacity(8 * 1024);
    // Scale the module grid to the unit square, so the page places it by side.
    out.extend_from_slice(b"0 g ");
    super::canvas::num4(&mut out, 1.0 / total);
    out.extend_from_slice(b" 0 0 ");
    super::canvas::num4(&mut out, 1.0 / total);
    out.extend_from_slice(b" 0 0 cm\n");
    for row in 0..width {
        let y = (width - 1 - row + QUIET) as f32;
        let mut col = 0;
        while col < width {
            if dark[row * width + col] {
                let start = col;
                while col < width && dark[row * width + col] {
                    col += 1;
                }
                for v in [(start + QUIET) as f32, y, (col - start) as f32, 1.0] {
                    super::canvas::num(&mut out, v);
                    out.push(b' ');
                }
                out.extend_from_slice(b"re\n");
            } else {
                col += 1;
            }
        }
    }
    out.extend_from_slice(b"f");
    Some(out)
}

/// The QR code (error correction level M) of `data`: its width and its
/// modules row by row, `true` for dark. The encoding is the `qrcode`
/// crate's; the mask is chosen here by the standard's penalty rules
/// (ISO/IEC 18004 §7.8.3), which the crate evaluates several times slower
/// than the whole rest of a certificate takes to render.
pub fn qr_modules(data: &[u8]) -> Option<(usize, Vec<bool>)> {
    use qrcode::canvas::{Canvas, MaskPattern};
    let level = qrcode::EcLevel::M;
    let bits = qrcode::bits::encode_auto(data, level).ok()?;
    let version = bits.version();
    let (data, ec) = qrcode::ec::construct_codewords(&bits.into_bytes(), version, level).ok()?;
    let mut canvas = Canvas::new(version, level);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&data, &ec);
    let width = usize::try_from(version.width()).ok()?;
    [
        MaskPattern::Checkerboard,
        MaskPattern::HorizontalLines,
        MaskPattern::VerticalLines,
        MaskPattern::DiagonalLines,
        MaskPattern::LargeCheckerboard,
        MaskPattern::Fields,
        MaskPattern::Diamonds,
        MaskPattern::Meadow,
    ]
    .into_iter()
    .map(|mask| {
        let mut c = canvas.clone();
        c.apply_mask(mask);
        let dark: Vec<bool> = c
            .into_colors()
            .into_iter()
            .map(|m| m == qrcode::Color::Dark)
            .collect();
        (penalty(width, &dark), dark)
    })
    .min_by_key(|(score, _)| *score)
    .map(|(_, dark)| (width, dark))
}

/// The mask penalty of a module grid (ISO/IEC 18004 §7.8.3.1): runs of five
/// or more of one colour, 2×2 blocks, finder-like 1:1:3:1:1 patterns beside
/// four light modules, and the dark share's distance from half. Each row
/// and column is a bit set (bit `i` = module `i` dark), so a grid up to 120
/// modules wide (version 25) is scored with shifts and counts; a wider one
/// scores as the worst.
fn penalty(width: usize, dark: &[bool]) -> u32 {
    if width + 8 > 128 || dark.len() != width * width {
        return u32::MAX;
    }
    let mut rows = vec![0u128; width];
    let mut cols = vec![0u128; width];
    for y in 0..width {
        for x in 0..width {
            if dark[y * width + x] {
                rows[y] |= 1 << x;
                cols[x] |= 1 << y;
            }
        }
    }
    let all = (1u128 << width) - 1;
    // Window starts: bit i may begin a window of n modules when i + n <= width.
    let starts = |n: usize| all >> (n - 1);
    let mut score = 0u32;
    for &line in rows.iter().chain(&cols) {
        // N1: a run of L >= 5 scores 3 + (L - 5) = (L - 4 windows of five
        // alike) + 2; so count the windows, and the runs where they begin.
        let alike = !(line ^ (line >> 1)); // bit i: module i == module i + 1
        let windows = alike & (alike >> 1) & (alike >> 2) & (alike >> 3) & starts(5);
        let runs = windows & !(windows << 1);
        score += windows.count_ones() + 2 * runs.count_ones();
        // N3: 1011101 with four light modules (or the quiet zone) before or
        // after it. In `ext` module i is bit i + 4, with light around.
        let ext = line << 4;
        let pattern = [true, false, true, true, true, false, true];
        let mut finder = starts(7);
        for (k, &dark) in pattern.iter().enumerate() {
            let bits = ext >> (k + 4);
            finder &= if dark { bits } else { !bits };
        }
        let light = |from: usize| (0..4).fold(u128::MAX, |acc, k| acc & !(ext >> (from + k)));
        score += 40 * (finder & (light(0) | light(11))).count_ones();
    }
    // N2: 2×2 blocks of one colour.
    let pairs = all >> 1;
    for y in 0..width - 1 {
        let (a, b) = (rows[y], rows[y + 1]);
        let same_vertically = !(a ^ b) & all;
        let same_horizontally = !(a ^ (a >> 1));
        score +=
            3 * (same_vertically & (same_vertically >> 1) & same_horizontally & pairs).count_ones();
    }
    // N4: the dark share's distance from 50 %, in steps of 5 %.
    let dark_count: u32 = rows.iter().map(|r| r.count_ones()).sum();
    let percent = dark_count as usize * 100 / (width * width);
    score + 10 * (percent.abs_diff(50) / 5) as u32
}

#[cfg(test)]
mod tests {
    /// The README's test vector ("Verifiable paper"), which third parties
    /// check their implementation against: the same bytes here.
    #[test]
    fn the_readmes_test_vector_is_what_kofu_computes() {
        use super::*;
        use crate::gateway::render::signing::DocumentSigner;
        let header = SignedHeader {
            code: "7K3M-Q9XD-2HVA-J",
            kind: CertificateKind::ResidenceCertificate,
            issued_at: 1_764_650_000,
            pages: 1,
        };
        let pages = [vec![
            "検証コード 7K3M-Q9XD-2HVA-J",
            "住民票の写し",
            "山田　太郎",
        ]];
        assert_eq!(canonical(&header, &pages).len(), 169);
        let digest = digest(&header, &pages);
        assert_eq!(
            crate::gateway::http::hex(&digest),
            "996b392c335e2508015e4695847390afd4e37087b7215286243fa41fe72c9598"
        );
        let signer = crate::devkit::samples::signer();
        assert_eq!(
            URL_SAFE_NO_PAD.encode(signer.public_key()),
            "xU4m_qWK1xSgiPbaMtyDFR_6dd5TIvxttwg9WtJ3yhY"
        );
        let payload = QrPayload {
            base: "https://verify.kofu.example".into(),
            code: header.code.into(),
            key_id: signer.key_id().into(),
            issued_at: header.issued_at,
            kind: header.kind,
            digest,
            signature: signer.sign(&digest),
        };
        assert_eq!(
            payload.to_url(),
            "https://verify.kofu.example/verify/7K3M-Q9XD-2HVA-J?k=devkit-1&t=1764650000\
             &n=residence_certificate&d=mWs5LDNeJQgBXkaVhHOQr9TjcIe3IVKGJD-kH-cslZg\
             &s=-pkWSS0y50bxUCrZaKfoItHD5caweoFVlXp_W6v1rKAl2MXboXBYWepud1D5NlHxEZL1HiARDSacrmlXlG0-BQ"
        );
    }

    use super::*;

    fn payload() -> QrPayload {
        QrPayload {
            base: "https://verify.kofu.example".into(),
            code: "7K3M-Q9XD-2HVA-P".into(),
            key_id: "131016-k1".into(),
            issued_at: 1_764_650_000,
            kind: CertificateKind::TaxCertificate,
            digest: [7; 32],
            signature: [9; 64],
        }
    }

    /// The penalty rules module by module, as the standard words them.
    fn penalty_by_the_book(width: usize, dark: &[bool]) -> u32 {
        let at = |x: usize, y: usize| dark[y * width + x];
        let mut score = 0u32;
        for horizontal in [true, false] {
            let get = |line: usize, i: usize| if horizontal { at(i, line) } else { at(line, i) };
            for line in 0..width {
                let mut run = 1;
                for i in 1..=width {
                    if i < width && get(line, i) == get(line, i - 1) {
                        run += 1;
                    } else {
                        if run >= 5 {
                            score += 3 + (run - 5);
                        }
                        run = 1;
                    }
                }
                const FINDER: [bool; 7] = [true, false, true, true, true, false, true];
                let light = |i: isize| i < 0 || i >= width as isize || !get(line, i as usize);
                for start in 0..width - 6 {
                    if (0..7).all(|k| get(line, start + k) == FINDER[k]) {
                        let s = start as isize;
                        if (1..=4).all(|k| light(s - k)) || (7..11).all(|k| light(s + k)) {
                            score += 40;
                        }
                    }
                }
            }
        }
        for y in 0..width - 1 {
            for x in 0..width - 1 {
                let c = at(x, y);
                if at(x + 1, y) == c && at(x, y + 1) == c && at(x + 1, y + 1) == c {
                    score += 3;
                }
            }
        }
        let percent = dark.iter().filter(|&&d| d).count() * 100 / dark.len();
        score + 10 * (percent.abs_diff(50) / 5) as u32
    }

    #[test]
    fn the_mask_penalty_is_the_standards() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(12);
        for width in [21usize, 57, 61, 101] {
            for density in [0.2, 0.5, 0.8] {
                let dark: Vec<bool> = (0..width * width).map(|_| rng.gen_bool(density)).collect();
                assert_eq!(
                    penalty(width, &dark),
                    penalty_by_the_book(width, &dark),
                    "{width}"
                );
            }
        }
        let (width, dark) = qr_modules(payload().to_url().as_bytes()).unwrap();
        assert_eq!(penalty(width, &dark), penalty_by_the_book(width, &dark));
    }

    #[test]
    fn the_qr_code_decodes_to_its_payload() {
        let url = payload().to_url();
        let (width, dark) = qr_modules(url.as_bytes()).expect("fits a QR code");
        let scale = 4;
        let side = (width + 8) * scale;
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
            let (mx, my) = ((x / scale).wrapping_sub(4), (y / scale).wrapping_sub(4));
            if mx < width && my < width && dark[my * width + mx] {
                0
            } else {
                255
            }
        });
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, content) = grids[0].decode().expect("decodes");
        assert_eq!(content, url);
    }

    #[test]
    fn the_qr_payload_reads_back_and_refuses_other_shapes() {
        let p = payload();
        let url = p.to_url();
        assert_eq!(QrPayload::parse(&url), Some(p));
        for bad in [
            "",
            "https://x/verify/A?k=a&t=1&n=tax_certificate&d=AA&s=AA",
            "https://x/verify/A?k=a&k=b",
            &url.replace("tax_certificate", "tax"),
            &url.replace("k=131016-k1", "k=a%20b"),
        ] {
            assert_eq!(QrPayload::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_digest_covers_every_header_field_and_every_line() {
        let header = SignedHeader {
            code: "7K3M-Q9XD-2HVA-P",
            kind: CertificateKind::ResidenceCertificate,
            issued_at: 1_764_650_000,
            pages: 1,
        };
        let pages = vec![vec!["住民票の写し", "山田　太郎"]];
        let text = String::from_utf8(canonical(&header, &pages)).unwrap();
        assert_eq!(
            text,
            "kofu-document/1\ncode 7K3M-Q9XD-2HVA-P\nkind residence_certificate\n\
             issued_at 1764650000\npages 1\npage 1\n住民票の写し\n山田　太郎\n"
        );
        let base = digest(&header, &pages);
        let changed = [
            digest(
                &SignedHeader {
                    code: "7K3M-Q9XD-2HVA-Q",
                    ..header.clone()
                },
                &pages,
            ),
            digest(
                &SignedHeader {
                    kind: CertificateKind::TaxCertificate,
                    ..header.clone()
                },
                &pages,
            ),
            digest(
                &SignedHeader {
                    issued_at: 1_764_650_001,
                    ..header.clone()
                },
                &pages,
            ),
            digest(
                &SignedHeader {
                    pages: 2,
                    ..header.clone()
                },
                &pages,
            ),
            digest(&header, &[vec!["住民票の写し", "山田　太朗"]]),
            digest(&header, &[vec!["住民票の写し山田　太郎"]]),
        ];
        for d in changed {
            assert_ne!(d, base);
        }
    }
}
