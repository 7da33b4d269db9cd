//! The revocation index: which certificate serials a CA has revoked or
//! suspended, held compactly in memory for lookups on every card
//! authentication, national scale (10 million serials and more).
//!
//! The rule this module keeps: a lookup never blocks and never sees a half
//! built state. Indexes are immutable once built; a new CRL, a delta CRL or a
//! J-LIS event builds a new [`RevocationSet`] beside the old one and swaps an
//! `Arc` in the [`RevocationStore`] under a lock held only for the swap.
//! Serials are never logged or put in error messages (their `Debug` is a
//! fingerprint).
//!
//! - [`RevocationIndex`] — the immutable base: serials of one CRL grouped by
//!   length into flat, sorted byte arenas, with a bucket table per group for
//!   O(1) narrowing and one reason byte per entry (about 16 bytes a serial).
//! - [`RevocationSet`] — one CRL scope: the base, the overlay of the latest
//!   delta CRL (additions and removeFromCRL), and revocations reported as
//!   events before any CRL lists them.
//! - [`RevocationStore`] — the sets, keyed by CRL issuer ([`IssuerKey`]).
//! - [`crl_der`] — the streaming, bounds-checked CRL reader and loader.
//! - [`persist`] — CRLs stored in PostgreSQL and the store rebuilt at start.

pub mod crl_der;
pub mod persist;
pub mod service;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use time::OffsetDateTime;

pub use crl_der::{
    CrlEntries, CrlKind, CrlLoadError, CrlMeta, LoadedContent, LoadedCrl, RevokedEntry,
    der_from_pem_or_der, load_crl, load_stored_crl, parse_crl_entries,
};

/// Largest serial, in bytes of magnitude (RFC 5280 §4.1.2.2).
pub const MAX_SERIAL_LEN: usize = 20;

/// Most entries one index holds: a bound on memory for hostile CRLs, far
/// above the national figure (100 million cards, a few percent revoked a year).
pub const MAX_INDEX_ENTRIES: usize = 200_000_000;

/// A certificate serial in canonical form: big-endian magnitude without
/// leading zero bytes, 1 to 20 bytes, held inline (no allocation). Ordering is
/// numeric. `Debug` shows a fingerprint, never the serial.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Serial {
    // Field order matters for the derived `Ord`: a shorter magnitude is a
    // smaller number; equal lengths compare bytewise (padding is zero).
    len: u8,
    bytes: [u8; MAX_SERIAL_LEN],
}

/// Why bytes are not a usable serial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SerialError {
    /// Empty or zero.
    #[error("serial number is zero or empty")]
    Zero,
    /// More than [`MAX_SERIAL_LEN`] bytes of magnitude.
    #[error("serial number is longer than 20 bytes")]
    TooLong,
    /// A DER INTEGER with the sign bit set.
    #[error("serial number is negative")]
    Negative,
}

impl Serial {
    /// From a big-endian magnitude; leading zero bytes are dropped, so
    /// `00 81` and `81` are the same serial.
    ///
    /// # Errors
    /// [`SerialError::Zero`] or [`SerialError::TooLong`].
    pub fn from_magnitude(b: &[u8]) -> Result<Serial, SerialError> {
        let start = b.iter().position(|&x| x != 0).ok_or(SerialError::Zero)?;
        let m = b.get(start..).unwrap_or_default();
        if m.len() > MAX_SERIAL_LEN {
            return Err(SerialError::TooLong);
        }
        let mut bytes = [0u8; MAX_SERIAL_LEN];
        if let Some(dst) = bytes.get_mut(..m.len()) {
            dst.copy_from_slice(m);
        }
        Ok(Serial {
            len: m.len() as u8,
            bytes,
        })
    }

    /// From the content octets of a DER INTEGER (two's complement): the sign
    /// bit must be clear.
    ///
    /// # Errors
    /// [`SerialError::Negative`], [`SerialError::Zero`], [`SerialError::TooLong`].
    pub fn from_der_integer(content: &[u8]) -> Result<Serial, SerialError> {
        match content.first() {
            None => Err(SerialError::Zero),
            Some(&b) if b & 0x80 != 0 => Err(SerialError::Negative),
            Some(_) => Serial::from_magnitude(content),
        }
    }

    /// The canonical magnitude bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len as usize).unwrap_or_default()
    }

    /// The content octets of the DER INTEGER for this serial (a zero byte in
    /// front when the top bit is set).
    pub fn to_der_integer(&self) -> Vec<u8> {
        let m = self.as_bytes();
        let mut out = Vec::with_capacity(m.len() + 1);
        if m.first().is_some_and(|&b| b & 0x80 != 0) {
            out.push(0);
        }
        out.extend_from_slice(m);
        out
    }

    /// First 8 bytes of SHA-256 over the canonical bytes, hex: enough to
    /// correlate log lines, not to recover the serial (same as
    /// `CardSerial::fingerprint`).
    pub fn fingerprint(&self) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, self.as_bytes());
        digest.as_ref()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Number of magnitude bytes (1..=20).
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Always false: a serial has at least one byte. (For clippy's sake.)
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Debug for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Serial(sha256:{})", self.fingerprint())
    }
}

impl TryFrom<&crate::gateway::pki::CardSerial> for Serial {
    type Error = SerialError;
    fn try_from(s: &crate::gateway::pki::CardSerial) -> Result<Self, SerialError> {
        Serial::from_magnitude(s.as_bytes())
    }
}

/// CRLReason (RFC 5280 §5.3.1). `RemoveFromCrl` appears only in delta CRLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Reason {
    Unspecified = 0,
    KeyCompromise = 1,
    CaCompromise = 2,
    AffiliationChanged = 3,
    Superseded = 4,
    CessationOfOperation = 5,
    /// 一時保留: a suspension (lost card reported by phone). Never lifted for
    /// JPKI, but a delta CRL may carry removeFromCRL for it in general.
    CertificateHold = 6,
    RemoveFromCrl = 8,
    PrivilegeWithdrawn = 9,
    AaCompromise = 10,
}

/// The packed form of "no reasonCode extension".
const NO_REASON: u8 = 0xff;

impl Reason {
    /// From the ENUMERATED value; 7 and anything above 10 are not reasons.
    pub fn from_code(code: u8) -> Option<Reason> {
        Some(match code {
            0 => Reason::Unspecified,
            1 => Reason::KeyCompromise,
            2 => Reason::CaCompromise,
            3 => Reason::AffiliationChanged,
            4 => Reason::Superseded,
            5 => Reason::CessationOfOperation,
            6 => Reason::CertificateHold,
            8 => Reason::RemoveFromCrl,
            9 => Reason::PrivilegeWithdrawn,
            10 => Reason::AaCompromise,
            _ => return None,
        })
    }

    /// The ENUMERATED value.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Stable lower-case name (for the API and metrics).
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Unspecified => "unspecified",
            Reason::KeyCompromise => "key_compromise",
            Reason::CaCompromise => "ca_compromise",
            Reason::AffiliationChanged => "affiliation_changed",
            Reason::Superseded => "superseded",
            Reason::CessationOfOperation => "cessation_of_operation",
            Reason::CertificateHold => "certificate_hold",
            Reason::RemoveFromCrl => "remove_from_crl",
            Reason::PrivilegeWithdrawn => "privilege_withdrawn",
            Reason::AaCompromise => "aa_compromise",
        }
    }
}

fn pack_reason(r: Option<Reason>) -> u8 {
    r.map_or(NO_REASON, Reason::code)
}

fn unpack_reason(b: u8) -> Option<Reason> {
    Reason::from_code(b)
}

/// A listed serial: revoked, or suspended when the reason is certificateHold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revocation {
    /// The entry's reasonCode, if it had one.
    pub reason: Option<Reason>,
}

impl Revocation {
    /// Suspended (一時保留) rather than revoked.
    pub fn is_hold(&self) -> bool {
        self.reason == Some(Reason::CertificateHold)
    }
}

/// One length group of the index: `count` records of `width` serial bytes
/// followed by one reason byte, sorted, back to back in `records` (the reason
/// beside its serial: a hit costs no extra cache miss). `buckets[k]` is the
/// first entry whose bucket key is `k`; the key is the 8 bytes after the
/// group's common prefix, minus the smallest such value, shifted right so
/// the keys fit in about `count / 64` buckets (interpolation narrowing: works
/// for random serials and for dense, sequential ones alike). Inside a bucket
/// the position is interpolated again and the records walked from there.
#[derive(Default)]
struct Group {
    width: usize,
    count: usize,
    prefix_len: usize,
    min_x: u64,
    max_x: u64,
    shift: u32,
    buckets: Vec<u32>,
    records: Arena,
}

/// Bytes of a group's records: on the heap when small, in anonymous memory
/// advised for transparent huge pages (`MADV_HUGEPAGE`) when large, so that
/// random lookups across 150 MB do not each miss the TLB. The mapping is
/// over-allocated by 2 MiB and used from its first 2 MiB boundary, since a
/// huge page needs an aligned address. Public for `kofu pki bench`, which
/// times random reads in memory laid out the same way.
pub enum Arena {
    Heap(Vec<u8>),
    Mapped {
        map: memmap2::MmapMut,
        offset: usize,
        len: usize,
    },
}

impl Default for Arena {
    fn default() -> Self {
        Arena::Heap(Vec::new())
    }
}

const HUGE_PAGE: usize = 2 << 20;

impl Arena {
    /// `len` zero bytes.
    pub fn zeroed(len: usize) -> Arena {
        if len >= 2 * HUGE_PAGE
            && let Ok(map) = memmap2::MmapMut::map_anon(len + HUGE_PAGE)
        {
            // Best effort: without THP it is ordinary memory.
            let _ = map.advise(memmap2::Advice::HugePage);
            let addr = map.as_ptr() as usize;
            let offset = addr.next_multiple_of(HUGE_PAGE) - addr;
            return Arena::Mapped { map, offset, len };
        }
        Arena::Heap(vec![0; len])
    }

    #[inline]
    pub fn get(&self, r: std::ops::Range<usize>) -> Option<&[u8]> {
        match self {
            Arena::Heap(v) => v.get(r),
            Arena::Mapped { map, offset, len } => {
                if r.end > *len {
                    return None;
                }
                map.get(offset + r.start..offset + r.end)
            }
        }
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        match self {
            Arena::Heap(v) => v,
            Arena::Mapped { map, offset, len } => {
                map.get_mut(*offset..*offset + *len).unwrap_or_default()
            }
        }
    }

    /// Bytes reserved: the Vec's capacity, or the whole mapping.
    fn reserved(&self) -> usize {
        match self {
            Arena::Heap(v) => v.capacity(),
            Arena::Mapped { map, .. } => map.len(),
        }
    }
}

/// Buckets larger than this (skewed serials) are binary searched instead of
/// interpolated and walked.
const SCAN_LIMIT: usize = 192;

/// The 8 bytes after `p` (zero padded), big-endian.
#[inline]
fn key_after(s: &[u8], p: usize) -> u64 {
    let mut b = [0u8; 8];
    let tail = s.get(p..).unwrap_or_default();
    let n = tail.len().min(8);
    b[..n].copy_from_slice(&tail[..n]);
    u64::from_be_bytes(b)
}

impl Group {
    fn entry(&self, i: usize) -> &[u8] {
        let at = i * (self.width + 1);
        self.records.get(at..at + self.width).unwrap_or_default()
    }

    fn reason(&self, i: usize) -> Option<u8> {
        let at = i * (self.width + 1) + self.width;
        self.records.get(at..at + 1)?.first().copied()
    }

    fn lookup(&self, s: &[u8]) -> Option<u8> {
        if self.count == 0 {
            return None;
        }
        let p = self.prefix_len;
        if s.get(..p) != self.entry(0).get(..p) {
            return None;
        }
        let x = key_after(s, p);
        if x < self.min_x || x > self.max_x {
            return None;
        }
        let d = x - self.min_x;
        let k = d.checked_shr(self.shift).unwrap_or(0) as usize;
        let lo = *self.buckets.get(k)? as usize;
        let hi = *self.buckets.get(k + 1)? as usize;
        if hi <= lo {
            return None;
        }
        if hi - lo > SCAN_LIMIT {
            return self.binary_search(s, lo, hi);
        }
        // Interpolate inside the bucket, then walk: serials are spread
        // about evenly, so the guess is a few records off at most and the
        // walk stays in one or two cache lines.
        let within = u128::from(d - (k as u64).checked_shl(self.shift).unwrap_or(0));
        let guess = lo + ((within * (hi - lo) as u128) >> self.shift) as usize;
        let mut i = guess.min(hi - 1);
        match self.entry(i).cmp(s) {
            std::cmp::Ordering::Equal => self.reason(i),
            std::cmp::Ordering::Less => loop {
                i += 1;
                if i >= hi {
                    return None;
                }
                match self.entry(i).cmp(s) {
                    std::cmp::Ordering::Less => {}
                    std::cmp::Ordering::Equal => return self.reason(i),
                    std::cmp::Ordering::Greater => return None,
                }
            },
            std::cmp::Ordering::Greater => loop {
                if i <= lo {
                    return None;
                }
                i -= 1;
                match self.entry(i).cmp(s) {
                    std::cmp::Ordering::Greater => {}
                    std::cmp::Ordering::Equal => return self.reason(i),
                    std::cmp::Ordering::Less => return None,
                }
            },
        }
    }

    fn binary_search(&self, s: &[u8], mut lo: usize, mut hi: usize) -> Option<u8> {
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.entry(mid).cmp(s) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return self.reason(mid),
            }
        }
        None
    }

    fn heap_bytes(&self) -> usize {
        self.buckets.capacity() * 4 + self.records.reserved()
    }
}

/// The serials of one CRL, immutable once built. Built by
/// [`RevocationIndexBuilder`] (or [`crl_der::load_crl`]).
pub struct RevocationIndex {
    /// Indexed by serial length; `groups[0]` is always empty.
    groups: Vec<Group>,
    len: usize,
}

impl fmt::Debug for RevocationIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevocationIndex")
            .field("len", &self.len)
            .field("heap_bytes", &self.heap_bytes())
            .finish()
    }
}

impl Default for RevocationIndex {
    fn default() -> Self {
        RevocationIndexBuilder::new().build()
    }
}

impl RevocationIndex {
    /// Whether `serial` is listed, and with which reason.
    #[inline]
    pub fn lookup(&self, serial: &Serial) -> Option<Revocation> {
        let g = self.groups.get(serial.len())?;
        g.lookup(serial.as_bytes()).map(|r| Revocation {
            reason: unpack_reason(r),
        })
    }

    /// Number of serials.
    pub fn len(&self) -> usize {
        self.len
    }

    /// No serial at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Heap bytes held: the capacity of every allocation, not their lengths.
    pub fn heap_bytes(&self) -> usize {
        self.groups.capacity() * std::mem::size_of::<Group>()
            + self.groups.iter().map(Group::heap_bytes).sum::<usize>()
    }

    /// Every entry in numeric serial order.
    pub fn iter(&self) -> impl Iterator<Item = (Serial, Option<Reason>)> + '_ {
        self.groups.iter().flat_map(|g| {
            (0..g.count).filter_map(move |i| {
                let s = Serial::from_magnitude(g.entry(i)).ok()?;
                Some((s, unpack_reason(g.reason(i)?)))
            })
        })
    }

    /// The `i`-th serial in numeric order (benchmarks sample present serials).
    pub fn nth(&self, mut i: usize) -> Option<Serial> {
        for g in &self.groups {
            if i < g.count {
                return Serial::from_magnitude(g.entry(i)).ok();
            }
            i -= g.count;
        }
        None
    }
}

/// Collects serials in any order, then sorts and packs them. Per serial it
/// holds 24 bytes until [`RevocationIndexBuilder::build`].
pub struct RevocationIndexBuilder {
    /// Per length: (bytes 0..8, bytes 8..16, bytes 16..20 << 8 | reason),
    /// big-endian, so sorting the triples sorts the serials.
    keys: Vec<Vec<[u64; 3]>>,
}

impl Default for RevocationIndexBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl RevocationIndexBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        RevocationIndexBuilder {
            keys: (0..=MAX_SERIAL_LEN).map(|_| Vec::new()).collect(),
        }
    }

    /// Reserves room for about `n` serials spread over the usual lengths.
    pub fn reserve(&mut self, n: usize) {
        // Lengths 8..=20 are the realistic ones; the rest grow on demand.
        for v in self.keys.iter_mut().skip(8) {
            v.reserve(n / 13 + 16);
        }
    }

    /// Adds a serial. A serial added twice keeps its smallest reason code
    /// (no reason counts as the largest).
    #[inline]
    pub fn push(&mut self, serial: &Serial, reason: Option<Reason>) {
        let b = &serial.bytes;
        let w = |r: std::ops::Range<usize>| {
            let mut a = [0u8; 8];
            a[..r.len()].copy_from_slice(&b[r]);
            u64::from_be_bytes(a)
        };
        let k2 = (u64::from(u32::from_be_bytes([b[16], b[17], b[18], b[19]])) << 8)
            | u64::from(pack_reason(reason));
        if let Some(v) = self.keys.get_mut(serial.len()) {
            v.push([w(0..8), w(8..16), k2]);
        }
    }

    /// Number of serials pushed so far (duplicates included).
    pub fn len(&self) -> usize {
        self.keys.iter().map(Vec::len).sum()
    }

    /// Nothing pushed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sorts, removes duplicates and packs into exact-size allocations.
    pub fn build(self) -> RevocationIndex {
        let mut groups = Vec::with_capacity(MAX_SERIAL_LEN + 1);
        let mut len = 0;
        for (width, mut keys) in self.keys.into_iter().enumerate() {
            if keys.is_empty() {
                groups.push(Group::default());
                continue;
            }
            keys.sort_unstable();
            keys.dedup_by(|b, a| a[0] == b[0] && a[1] == b[1] && a[2] >> 8 == b[2] >> 8);
            let g = pack_group(width, &keys);
            len += g.count;
            groups.push(g);
        }
        RevocationIndex { groups, len }
    }
}

fn pack_group(width: usize, keys: &[[u64; 3]]) -> Group {
    let count = keys.len();
    let stride = width + 1;
    let mut records = Arena::zeroed(count * stride);
    let out = records.as_mut_slice();
    for (k, rec) in keys.iter().zip(out.chunks_exact_mut(stride)) {
        let mut full = [0u8; 24];
        full[..8].copy_from_slice(&k[0].to_be_bytes());
        full[8..16].copy_from_slice(&k[1].to_be_bytes());
        full[16..24].copy_from_slice(&k[2].to_be_bytes());
        // k[2] holds bytes 16..20 in its bits 39..8: bytes 19..23 of `full`.
        let mut bytes = [0u8; MAX_SERIAL_LEN];
        bytes[..16].copy_from_slice(&full[..16]);
        bytes[16..20].copy_from_slice(&full[19..23]);
        if let Some((reason, serial)) = rec.split_last_mut() {
            serial.copy_from_slice(&bytes[..width]);
            *reason = full[23];
        }
    }
    let first = records.get(0..width).unwrap_or_default();
    let last_at = (count - 1) * stride;
    let last = records.get(last_at..last_at + width).unwrap_or_default();
    let prefix_len = first.iter().zip(last).take_while(|(a, b)| a == b).count();
    let min_x = key_after(first, prefix_len);
    let max_x = key_after(last, prefix_len);
    let span = max_x - min_x;
    // 32 to 64 entries a bucket: the table (at most an eighth of a byte a
    // serial, about 1.25 MB for 10 million) stays in the CPU caches, so a
    // lookup costs one table read from cache and one or two cache lines of
    // records (interpolation inside the bucket lands within a few records).
    let target_bits = (usize::BITS - (count / 64).leading_zeros()).min(28);
    let span_bits = u64::BITS - span.leading_zeros();
    let shift = span_bits.saturating_sub(target_bits);
    // `shift` may be 64 (one bucket for a span of 64 bits): shifts are checked.
    let nb = (span.checked_shr(shift).unwrap_or(0) + 1) as usize;
    let mut buckets = Vec::with_capacity(nb + 1);
    let mut i = 0usize;
    for k in 0..nb {
        while i < count {
            let e = records
                .get(i * stride..i * stride + width)
                .unwrap_or_default();
            if (key_after(e, prefix_len) - min_x)
                .checked_shr(shift)
                .unwrap_or(0) as usize
                >= k
            {
                break;
            }
            i += 1;
        }
        buckets.push(i as u32);
    }
    buckets.push(count as u32);
    Group {
        width,
        count,
        prefix_len,
        min_x,
        max_x,
        shift,
        buckets,
        records,
    }
}

/// Identifies a CRL scope: SHA-256 over the CA's subject Name DER followed by
/// its SubjectPublicKeyInfo DER. The key is part of it because a JPKI CA
/// rollover keeps the name and each key has its own serials and CRL.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IssuerKey(pub [u8; 32]);

impl IssuerKey {
    /// From the CA's subject Name and SubjectPublicKeyInfo, both DER.
    pub fn new(name_der: &[u8], spki_der: &[u8]) -> IssuerKey {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(name_der);
        ctx.update(spki_der);
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.finish().as_ref());
        IssuerKey(out)
    }

    /// From a CA certificate (DER): its subject and key.
    ///
    /// # Errors
    /// [`CrlLoadError::Malformed`] if it does not parse.
    pub fn of_ca_certificate(cert_der: &[u8]) -> Result<IssuerKey, CrlLoadError> {
        use x509_parser::prelude::FromDer;
        let (_, cert) = x509_parser::certificate::X509Certificate::from_der(cert_der)
            .map_err(|_| CrlLoadError::Malformed)?;
        Ok(IssuerKey::new(
            cert.tbs_certificate.subject.as_raw(),
            cert.tbs_certificate.subject_pki.raw,
        ))
    }
}

impl fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IssuerKey(")?;
        for b in &self.0[..8] {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

/// What the store knows about the CRL behind a set (for freshness checks
/// and the dashboard).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlInfo {
    /// cRLNumber, big-endian magnitude.
    pub number: Option<Vec<u8>>,
    pub this_update: OffsetDateTime,
    pub next_update: Option<OffsetDateTime>,
}

/// A change a delta CRL makes to its base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Listed (newly, or with a new reason).
    Revoked(Option<Reason>),
    /// removeFromCRL: no longer listed (a lifted certificateHold).
    Removed,
}

/// Revocation state of one CRL scope. Immutable: every change makes a new set
/// (sharing the base through an `Arc`), so readers holding the old one are
/// never disturbed.
#[derive(Clone, Debug, Default)]
pub struct RevocationSet {
    base: Arc<RevocationIndex>,
    base_info: Option<CrlInfo>,
    delta_info: Option<CrlInfo>,
    /// The latest delta CRL's entries. Delta CRLs are cumulative since their
    /// base, so a newer delta replaces this whole map.
    delta: HashMap<Serial, Change>,
    /// Revocations and suspensions reported as events (J-LIS) and not yet in
    /// a full CRL. Only ever added to; dropped once a full CRL lists them.
    events: HashMap<Serial, Option<Reason>>,
}

impl RevocationSet {
    /// A set from a full CRL.
    pub fn from_full(index: RevocationIndex, info: Option<CrlInfo>) -> Self {
        RevocationSet {
            base: Arc::new(index),
            base_info: info,
            ..Default::default()
        }
    }

    /// Listed or not. Order: events (fail closed: a reported revocation
    /// wins), then the delta overlay, then the base.
    #[inline]
    pub fn lookup(&self, serial: &Serial) -> Option<Revocation> {
        if !self.events.is_empty()
            && let Some(reason) = self.events.get(serial)
        {
            return Some(Revocation { reason: *reason });
        }
        if !self.delta.is_empty()
            && let Some(change) = self.delta.get(serial)
        {
            return match change {
                Change::Revoked(reason) => Some(Revocation { reason: *reason }),
                Change::Removed => None,
            };
        }
        self.base.lookup(serial)
    }

    /// The set with `changes` (one delta CRL's entries) as its delta overlay,
    /// replacing the previous delta's. Cost: proportional to the delta only.
    pub fn with_delta(
        &self,
        changes: impl IntoIterator<Item = (Serial, Change)>,
        info: Option<CrlInfo>,
    ) -> Self {
        let changes = changes.into_iter();
        let mut delta = HashMap::with_capacity(changes.size_hint().0);
        delta.extend(changes);
        RevocationSet {
            base: Arc::clone(&self.base),
            base_info: self.base_info.clone(),
            delta_info: info,
            delta,
            events: self.events.clone(),
        }
    }

    /// The set with a new full CRL as base: the delta overlay is dropped (the
    /// full CRL supersedes it), event revocations the new base lists are
    /// dropped, the others kept.
    pub fn with_full(&self, index: RevocationIndex, info: Option<CrlInfo>) -> Self {
        let events = self
            .events
            .iter()
            .filter(|(s, _)| index.lookup(s).is_none())
            .map(|(s, r)| (*s, *r))
            .collect();
        RevocationSet {
            base: Arc::new(index),
            base_info: info,
            delta_info: None,
            delta: HashMap::new(),
            events,
        }
    }

    /// The set with more reported revocations or suspensions.
    pub fn with_events(&self, events: impl IntoIterator<Item = (Serial, Option<Reason>)>) -> Self {
        let mut next = self.clone();
        next.events.extend(events);
        next
    }

    /// Merges base, delta and events into a fresh base (for when deltas have
    /// grown and no full CRL has come): O(n log n), seconds at 10 million.
    pub fn compacted(&self) -> Self {
        let mut b = RevocationIndexBuilder::new();
        b.reserve(self.base.len() + self.delta.len());
        for (s, r) in self.base.iter() {
            if !self.delta.contains_key(&s) {
                b.push(&s, r);
            }
        }
        for (s, c) in &self.delta {
            if let Change::Revoked(r) = c {
                b.push(s, *r);
            }
        }
        for (s, r) in &self.events {
            b.push(s, *r);
        }
        RevocationSet {
            base: Arc::new(b.build()),
            base_info: self.delta_info.clone().or_else(|| self.base_info.clone()),
            ..Default::default()
        }
    }

    /// The base index.
    pub fn base(&self) -> &RevocationIndex {
        &self.base
    }

    /// The full CRL behind the base.
    pub fn base_info(&self) -> Option<&CrlInfo> {
        self.base_info.as_ref()
    }

    /// The delta CRL behind the overlay.
    pub fn delta_info(&self) -> Option<&CrlInfo> {
        self.delta_info.as_ref()
    }

    /// Entries in the delta overlay and in the event overlay.
    pub fn overlay_len(&self) -> (usize, usize) {
        (self.delta.len(), self.events.len())
    }
}

/// Compares two CRL numbers given as big-endian magnitudes without leading
/// zeros.
fn cmp_number(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let strip = |x: &[u8]| -> usize { x.iter().position(|&b| b != 0).unwrap_or(x.len()) };
    let (a, b) = (&a[strip(a)..], &b[strip(b)..]);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Why the store refused a CRL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Older than what the store already holds.
    #[error("CRL is older than the one already loaded")]
    Stale,
    /// A delta CRL arrived for an issuer without a full CRL.
    #[error("delta CRL without a full CRL to apply it to")]
    NoBase,
    /// The delta CRL does not apply to the loaded full CRL.
    #[error("delta CRL does not apply to the loaded full CRL")]
    DeltaBaseMismatch,
}

/// Outcome of a revocation check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not listed.
    Good,
    /// Listed (revoked, or suspended: see [`Revocation::is_hold`]).
    Revoked(Revocation),
    /// No CRL loaded for this issuer: the caller must refuse (fail closed).
    Unknown,
}

/// All CRL scopes. A lookup holds the read lock only for the lookup itself
/// (well under a microsecond); writers build the new set first and hold the
/// write lock only to swap an `Arc`, so a reload of 10 million serials never
/// stalls a lookup. A handful of issuers at most (JPKI CA generations), so
/// a vector scanned by key beats hashing the key.
#[derive(Default)]
pub struct RevocationStore {
    sets: RwLock<Vec<(IssuerKey, Arc<RevocationSet>)>>,
}

impl fmt::Debug for RevocationStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevocationStore").finish_non_exhaustive()
    }
}

impl RevocationStore {
    /// An empty store: every lookup is [`Status::Unknown`].
    pub fn new() -> Self {
        Self::default()
    }

    /// The current set for `issuer` (a consistent snapshot).
    pub fn snapshot(&self, issuer: &IssuerKey) -> Option<Arc<RevocationSet>> {
        let sets = self.sets.read().unwrap_or_else(|e| e.into_inner());
        sets.iter()
            .find(|(k, _)| k == issuer)
            .map(|(_, s)| Arc::clone(s))
    }

    /// Checks one serial. `Unknown` when no CRL is loaded for the issuer.
    #[inline]
    pub fn lookup(&self, issuer: &IssuerKey, serial: &Serial) -> Status {
        let sets = self.sets.read().unwrap_or_else(|e| e.into_inner());
        match sets.iter().find(|(k, _)| k == issuer) {
            None => Status::Unknown,
            Some((_, set)) => match set.lookup(serial) {
                Some(r) => Status::Revoked(r),
                None => Status::Good,
            },
        }
    }

    /// Revocation status of a verified card, in the CRL scope of the CA that
    /// issued it (`issuers[card.issuer_index()]`, the [`IssuerKey`]s of the
    /// anchors given to `CardVerifier::new`, in the same order). Taking the
    /// proof value means revocation is never checked for an unverified
    /// certificate. `Unknown` (refuse) when the index has no issuer key or no
    /// CRL is loaded for it.
    pub fn check_card(
        &self,
        issuers: &[IssuerKey],
        card: &crate::gateway::pki::VerifiedCard,
    ) -> Status {
        let (Some(issuer), Ok(serial)) = (
            issuers.get(card.issuer_index()),
            Serial::try_from(card.serial()),
        ) else {
            return Status::Unknown;
        };
        self.lookup(issuer, &serial)
    }

    /// Replaces the set for `issuer` with `f(current)`; `f` runs outside the
    /// lock. Concurrent writers to one issuer are the caller's to serialise
    /// (the importer is one task); the last swap wins.
    pub fn update(&self, issuer: IssuerKey, f: impl FnOnce(&RevocationSet) -> RevocationSet) {
        let current = self.snapshot(&issuer).unwrap_or_default();
        let next = Arc::new(f(&current));
        let old = {
            let mut sets = self.sets.write().unwrap_or_else(|e| e.into_inner());
            match sets.iter_mut().find(|(k, _)| *k == issuer) {
                Some((_, slot)) => Some(std::mem::replace(slot, next)),
                None => {
                    sets.push((issuer, next));
                    None
                }
            }
        };
        // The old set (maybe 150 MB) is freed here, outside the lock.
        drop(old);
    }

    /// Installs a full CRL's index for `issuer`, unless the set already
    /// holds a newer one (a higher cRLNumber): a replayed or out-of-order
    /// older CRL must not resurrect revoked serials.
    ///
    /// # Errors
    /// [`StoreError::Stale`] when the current base is newer.
    pub fn install_full(
        &self,
        issuer: IssuerKey,
        index: RevocationIndex,
        info: Option<CrlInfo>,
    ) -> Result<(), StoreError> {
        let mut result = Ok(());
        self.update(issuer, |cur| {
            let current = cur.base_info().and_then(|i| i.number.as_deref());
            let new = info.as_ref().and_then(|i| i.number.as_deref());
            if let (Some(c), Some(n)) = (current, new)
                && cmp_number(n, c) == std::cmp::Ordering::Less
            {
                result = Err(StoreError::Stale);
                return cur.clone();
            }
            cur.with_full(index, info)
        });
        result
    }

    /// Applies a delta CRL's entries for `issuer`, replacing an older delta.
    /// RFC 5280 §5.2.4: the base must be at least the delta's BaseCRLNumber
    /// and older than the delta itself; a delta older than the current
    /// delta is ignored.
    ///
    /// # Errors
    /// [`StoreError::NoBase`], [`StoreError::DeltaBaseMismatch`] or
    /// [`StoreError::Stale`].
    pub fn apply_delta(
        &self,
        issuer: IssuerKey,
        base_number: &[u8],
        changes: Vec<(Serial, Change)>,
        info: CrlInfo,
    ) -> Result<(), StoreError> {
        use std::cmp::Ordering::{Greater, Less};
        let mut result = Ok(());
        self.update(issuer, |cur| {
            let Some(base) = cur.base_info().and_then(|i| i.number.as_deref()) else {
                result = Err(StoreError::NoBase);
                return cur.clone();
            };
            let Some(number) = info.number.as_deref() else {
                result = Err(StoreError::DeltaBaseMismatch);
                return cur.clone();
            };
            if cmp_number(base, base_number) == Less || cmp_number(number, base) != Greater {
                result = Err(StoreError::DeltaBaseMismatch);
                return cur.clone();
            }
            if let Some(current) = cur.delta_info().and_then(|i| i.number.as_deref())
                && cmp_number(number, current) == Less
            {
                result = Err(StoreError::Stale);
                return cur.clone();
            }
            cur.with_delta(changes, Some(info))
        });
        result
    }

    /// Records a revocation (`reason` e.g. keyCompromise, superseded) or a
    /// suspension (`Some(Reason::CertificateHold)`) reported before a CRL.
    pub fn record_event(&self, issuer: IssuerKey, serial: Serial, reason: Option<Reason>) {
        self.record_events(issuer, [(serial, reason)]);
    }

    /// [`RevocationStore::record_event`] for many serials in one swap.
    pub fn record_events(
        &self,
        issuer: IssuerKey,
        events: impl IntoIterator<Item = (Serial, Option<Reason>)>,
    ) {
        self.update(issuer, |cur| cur.with_events(events));
    }

    /// Issuers with a loaded set.
    pub fn issuers(&self) -> Vec<IssuerKey> {
        let sets = self.sets.read().unwrap_or_else(|e| e.into_inner());
        sets.iter().map(|(k, _)| *k).collect()
    }
}

#[cfg(test)]
mod tests;
