//! The PDF file format, as much of it as a certificate needs (ISO 32000-1):
//! numbered objects, streams (deflated or not), the cross-reference table
//! and the trailer.
//!
//! Rule: the output is a pure function of what is written — no clock, no
//! random identifiers — so rendering a snapshot again gives the same bytes.

use std::cell::RefCell;

use miniz_oxide::deflate::core::{CompressorOxide, TDEFLFlush, TDEFLStatus, compress};

/// A PDF file being written, object by object.
pub(super) struct PdfFile {
    out: Vec<u8>,
    /// Byte offset of object `i + 1`, once written.
    offsets: Vec<Option<usize>>,
}

impl PdfFile {
    pub(super) fn new(capacity: usize) -> Self {
        let mut out = Vec::with_capacity(capacity);
        // The binary comment marks the file as binary for transfer tools.
        out.extend_from_slice(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n");
        PdfFile {
            out,
            offsets: Vec::with_capacity(32),
        }
    }

    fn start(&mut self, id: u32) {
        let i = id as usize - 1;
        if self.offsets.len() <= i {
            self.offsets.resize(i + 1, None);
        }
        self.offsets[i] = Some(self.out.len());
        self.out.extend_from_slice(id.to_string().as_bytes());
        self.out.extend_from_slice(b" 0 obj\n");
    }

    /// Object `id`: a dictionary, array or other direct object, as written.
    pub(super) fn object(&mut self, id: u32, body: &[u8]) {
        self.start(id);
        self.out.extend_from_slice(body);
        self.out.extend_from_slice(b"\nendobj\n");
    }

    /// Object `id`: a stream of `data` with the dictionary entries `dict`
    /// (without `/Length` and `/Filter`), deflated when `deflate` is set.
    pub(super) fn stream(&mut self, id: u32, dict: &[u8], data: &[u8], deflate: bool) {
        if deflate {
            let packed = zlib(data);
            self.raw_stream(id, dict, b"/Filter /FlateDecode ", &packed);
        } else {
            self.raw_stream(id, dict, b"", data);
        }
    }

    /// Object `id`: a stream whose data is already encoded as `filter` says.
    pub(super) fn raw_stream(&mut self, id: u32, dict: &[u8], filter: &[u8], data: &[u8]) {
        self.start(id);
        self.out.extend_from_slice(b"<< ");
        self.out.extend_from_slice(dict);
        self.out.push(b' ');
        self.out.extend_from_slice(filter);
        self.out.extend_from_slice(b"/Length ");
        self.out
            .extend_from_slice(data.len().to_string().as_bytes());
        self.out.extend_from_slice(b" >>\nstream\n");
        self.out.extend_from_slice(data);
        self.out.extend_from_slice(b"\nendstream\nendobj\n");
    }

    /// The cross-reference table and trailer; `id` is the file identifier
    /// (both halves the same: a document is written once).
    pub(super) fn finish(mut self, root: u32, info: u32, id: &[u8; 16]) -> Vec<u8> {
        let xref = self.out.len();
        let count = self.offsets.len() + 1;
        self.out.extend_from_slice(b"xref\n0 ");
        self.out.extend_from_slice(count.to_string().as_bytes());
        self.out.extend_from_slice(b"\n0000000000 65535 f \n");
        for offset in &self.offsets {
            // An unused number is a free entry; the writers number densely.
            let line = match offset {
                Some(at) => format!("{at:010} 00000 n \n"),
                None => "0000000000 65535 f \n".to_owned(),
            };
            self.out.extend_from_slice(line.as_bytes());
        }
        let hex: String = id.iter().map(|b| format!("{b:02X}")).collect();
        self.out.extend_from_slice(
            format!(
                "trailer\n<< /Size {count} /Root {root} 0 R /Info {info} 0 R /ID [<{hex}> <{hex}>] >>\nstartxref\n{xref}\n%%EOF\n"
            )
            .as_bytes(),
        );
        self.out
    }
}

/// A PDF string literal of `text` (UTF-16BE with its byte-order mark, as
/// text strings outside ASCII must be).
pub(super) fn text_string(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + 4 * text.len());
    out.extend_from_slice(b"<FEFF");
    for unit in text.encode_utf16() {
        out.extend_from_slice(format!("{unit:04X}").as_bytes());
    }
    out.push(b'>');
    out
}

thread_local! {
    /// One compressor per thread, reset for each stream: its tables are a
    /// few hundred kilobytes, too much to allocate and clear per stream.
    static DEFLATE: RefCell<Box<CompressorOxide>> = RefCell::new(Box::default());
}

/// `data` as a zlib stream (RFC 1950), compressed for speed: the content
/// streams and ToUnicode maps are small and repetitive, and the fastest
/// level already shrinks them by two thirds.
pub(super) fn zlib(data: &[u8]) -> Vec<u8> {
    // zlib header, window 15 and level 1 (fast) and a fast-level flag.
    const LEVEL: u8 = 1;
    DEFLATE.with(|cell| {
        let mut d = cell.borrow_mut();
        d.reset();
        d.set_format_and_level(miniz_oxide::DataFormat::Zlib, LEVEL);

        let mut out = vec![0u8; data.len() / 2 + 128];
        let mut in_pos = 0;
        let mut out_pos = 0;
        loop {
            let (status, read, written) = compress(
                &mut d,
                &data[in_pos..],
                &mut out[out_pos..],
                TDEFLFlush::Finish,
            );
            in_pos += read;
            out_pos += written;
            match status {
                TDEFLStatus::Done => break,
                TDEFLStatus::Okay => {
                    let grow = out.len().max(1024);
                    out.resize(out.len() + grow, 0);
                }
                // Only on a misuse of the API (bad parameters); the
                // inputs here are plain bytes, so fall back to stored.
                TDEFLStatus::BadParam | TDEFLStatus::PutBufFailed => {
                    return miniz_oxide::deflate::compress_to_vec_zlib(data, LEVEL);
                }
            }
        }
        out.truncate(out_pos);
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deflated_streams_inflate_back() {
        let data: Vec<u8> = (0..50_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        for input in [&b""[..], b"BT /F1 10 Tf <0001> Tj ET", &data] {
            let packed = zlib(input);
            let back = miniz_oxide::inflate::decompress_to_vec_zlib(&packed).expect("inflates");
            assert_eq!(back, input);
        }
    }

    #[test]
    fn the_cross_reference_table_points_at_each_object() {
        let mut pdf = PdfFile::new(1024);
        pdf.object(1, b"<< /Type /Catalog /Pages 2 0 R >>");
        pdf.object(2, b"<< /Type /Pages /Kids [] /Count 0 >>");
        pdf.object(3, b"<< /Producer (kofu) >>");
        let bytes = pdf.finish(1, 3, &[0xAB; 16]);
        let text = String::from_utf8_lossy(&bytes);
        for id in 1..=3 {
            let needle = format!("\n{id} 0 obj");
            let at = bytes
                .windows(needle.len())
                .position(|w| w == needle.as_bytes())
                .unwrap()
                + 1;
            assert!(text.contains(&format!("{at:010} 00000 n")), "object {id}");
        }
        assert!(text.ends_with("%%EOF\n"));
        assert!(text.contains(&format!("/ID [<{0}> <{0}>]", "AB".repeat(16))));
    }
}
