//! Who may hold a connection, and for how long: the slots of a listener and
//! the deadlines of each phase of a connection.
//!
//! Rule: no one can make the gateway wait for them. Every phase has a
//! deadline (handshake, first request, request head, body at a minimum rate,
//! idle keep-alive), and every connection holds a slot from the moment it
//! is accepted: a client without a certificate holds one of the few
//! handshaking or anonymous slots (and only a few from one address), a
//! client certificate holds one of its own. A connection that finds no slot
//! is closed at once and counted, never queued, so the accept queue always
//! moves and a copier is never stuck behind a thousand silent sockets.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;

use crate::gateway::config::ConnectionLimits;
use crate::gateway::domain::CertFingerprint;
use crate::gateway::series;

/// Why a connection was closed before it was served, or while idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The listener holds `max_connections`.
    Capacity,
    /// `max_handshaking` connections are in their handshake.
    Handshaking,
    /// `max_anonymous` connections without a certificate are open.
    Anonymous,
    /// The source address holds its share of unauthenticated slots.
    PerAddress,
    /// The client certificate holds `max_per_certificate` connections.
    PerCertificate,
}

impl Refusal {
    /// The `reason` label of `kofu_connections_refused_total`.
    pub const fn label(self) -> &'static str {
        match self {
            Refusal::Capacity => "capacity",
            Refusal::Handshaking => "handshaking",
            Refusal::Anonymous => "anonymous",
            Refusal::PerAddress => "per_address",
            Refusal::PerCertificate => "per_certificate",
        }
    }
}

#[derive(Default)]
struct Counts {
    open: usize,
    /// Handshakes in progress by admission number (oldest first).
    handshaking: std::collections::BTreeMap<u64, Pending>,
    admitted: u64,
    anonymous: usize,
    by_address: HashMap<IpAddr, usize>,
    by_certificate: HashMap<CertFingerprint, usize>,
}

fn increment<K: Hash + Eq>(map: &mut HashMap<K, usize>, key: K) {
    *map.entry(key).or_default() += 1;
}

fn decrement<K: Hash + Eq>(map: &mut HashMap<K, usize>, key: &K) {
    if let Some(n) = map.get_mut(key) {
        *n -= 1;
        if *n == 0 {
            map.remove(key);
        }
    }
}

/// One listener's slots.
pub struct Gate {
    listener: &'static str,
    max_open: usize,
    limits: ConnectionLimits,
    counts: Mutex<Counts>,
    refusals_logged: LogThrottle,
}

/// A handshake in progress, as the gate sees it.
struct Pending {
    since: Instant,
    address: IpAddr,
    /// The client has sent something (its ClientHello).
    speaking: bool,
    cut: Arc<tokio::sync::Notify>,
}

/// A connection in its handshake: holds a listener slot, a handshaking slot
/// and one of its address's unauthenticated slots. When the handshaking
/// slots are full, a newcomer takes the slot of the oldest connection that
/// has not said a word yet, or else of the oldest handshake that has taken
/// longer than [`EVICT_AFTER`] ([`Handshaking::evicted`] completes for it):
/// a copier sends its ClientHello at once and finishes in milliseconds, so
/// silent or slow sockets cannot hold the slots against it.
pub struct Handshaking {
    gate: Arc<Gate>,
    id: u64,
    address: IpAddr,
    evicted: Arc<tokio::sync::Notify>,
}

/// A handshake older than this may be cut off to make room for a new one.
pub const EVICT_AFTER: Duration = Duration::from_millis(500);

/// A connection past its handshake, with the slot it holds until dropped.
pub struct Slot {
    gate: Arc<Gate>,
    held: Held,
}

enum Held {
    Anonymous(IpAddr),
    Certificate(CertFingerprint),
}

impl Gate {
    pub fn new(listener: &'static str, max_open: usize, limits: &ConnectionLimits) -> Arc<Gate> {
        Arc::new(Gate {
            listener,
            max_open,
            limits: limits.clone(),
            counts: Mutex::new(Counts::default()),
            refusals_logged: LogThrottle::every(Duration::from_secs(60)),
        })
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        // A panic while holding it cannot leave the counts half-updated
        // (each update is a few integer operations), so a poisoned lock is usable.
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the slots of a new connection from `address`, or refuses it.
    pub fn admit(self: &Arc<Gate>, address: IpAddr) -> Result<Handshaking, Refusal> {
        let mut c = self.counts();
        let mut refusal = if c.open >= self.max_open {
            Some(Refusal::Capacity)
        } else if c.by_address.get(&address).copied().unwrap_or(0)
            >= self.limits.max_unauthenticated_per_address
        {
            Some(Refusal::PerAddress)
        } else {
            None
        };
        if refusal.is_none() && c.handshaking.len() >= self.limits.max_handshaking {
            // Full: a silent one gives way, else the oldest slow one.
            let victim = c
                .handshaking
                .iter()
                .find(|(_, p)| !p.speaking)
                .or_else(|| {
                    c.handshaking
                        .iter()
                        .next()
                        .filter(|(_, p)| p.since.elapsed() >= EVICT_AFTER)
                })
                .map(|(&id, _)| id);
            match victim {
                Some(id) => {
                    let gone = c.handshaking.remove(&id).expect("present");
                    gone.cut.notify_one();
                    c.open -= 1;
                    decrement(&mut c.by_address, &gone.address);
                    metrics::counter!(series::CONNECTIONS_CLOSED, "listener" => self.listener, "phase" => "handshake")
                        .increment(1);
                }
                None => refusal = Some(Refusal::Handshaking),
            }
        }
        if let Some(refusal) = refusal {
            drop(c);
            self.refused(refusal);
            return Err(refusal);
        }
        c.open += 1;
        c.admitted += 1;
        let id = c.admitted;
        let evicted = Arc::new(tokio::sync::Notify::new());
        c.handshaking.insert(
            id,
            Pending {
                since: Instant::now(),
                address,
                speaking: false,
                cut: evicted.clone(),
            },
        );
        increment(&mut c.by_address, address);
        Ok(Handshaking {
            gate: self.clone(),
            id,
            address,
            evicted,
        })
    }

    fn refused(&self, refusal: Refusal) {
        metrics::counter!(series::CONNECTIONS_REFUSED, "listener" => self.listener, "reason" => refusal.label())
            .increment(1);
        if let Some(suppressed) = self.refusals_logged.ready() {
            tracing::warn!(
                listener = self.listener,
                reason = refusal.label(),
                suppressed,
                "connection refused: no slot (further refusals in the next minute are only counted)"
            );
        }
    }

    /// Connections open, handshaking and anonymous (for tests and the gauges).
    pub fn open(&self) -> (usize, usize, usize) {
        let c = self.counts();
        (c.open, c.handshaking.len(), c.anonymous)
    }
}

impl Handshaking {
    /// The client has sent its first bytes: it is no longer the first to
    /// give way when the slots are full.
    pub fn speaking(&self) {
        if let Some(p) = self.gate.counts().handshaking.get_mut(&self.id) {
            p.speaking = true;
        }
    }

    /// Completes when a newer connection took this one's slot: the
    /// handshake must stop.
    pub async fn evicted(&self) {
        self.evicted.notified().await
    }

    /// The handshake is done: keeps the connection under its client
    /// certificate, or as anonymous (still counted against its address).
    pub fn settle(self, certificate: Option<CertFingerprint>) -> Result<Slot, Refusal> {
        let gate = self.gate.clone();
        let mut c = gate.counts();
        if c.handshaking.remove(&self.id).is_none() {
            // Evicted meanwhile: its slots are already given back.
            return Err(Refusal::Handshaking);
        }
        let held = match certificate {
            Some(fingerprint) => {
                if c.by_certificate.get(&fingerprint).copied().unwrap_or(0)
                    >= gate.limits.max_per_certificate
                {
                    Err(Refusal::PerCertificate)
                } else {
                    decrement(&mut c.by_address, &self.address);
                    increment(&mut c.by_certificate, fingerprint);
                    Ok(Held::Certificate(fingerprint))
                }
            }
            None if c.anonymous >= gate.limits.max_anonymous => Err(Refusal::Anonymous),
            None => {
                c.anonymous += 1;
                Ok(Held::Anonymous(self.address))
            }
        };
        match held {
            Ok(held) => Ok(Slot {
                gate: gate.clone(),
                held,
            }),
            Err(refusal) => {
                c.open -= 1;
                decrement(&mut c.by_address, &self.address);
                drop(c);
                gate.refused(refusal);
                Err(refusal)
            }
        }
    }
}

impl Drop for Handshaking {
    fn drop(&mut self) {
        let mut c = self.gate.counts();
        // Not settled nor evicted: its slots are still taken.
        if c.handshaking.remove(&self.id).is_some() {
            c.open -= 1;
            decrement(&mut c.by_address, &self.address);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut c = self.gate.counts();
        c.open -= 1;
        match &self.held {
            Held::Anonymous(address) => {
                c.anonymous -= 1;
                decrement(&mut c.by_address, address);
            }
            Held::Certificate(fingerprint) => decrement(&mut c.by_certificate, fingerprint),
        }
    }
}

/// Whether a connection is busy, and since when it has been idle: the
/// watchdog closes a connection that sends no request in time.
#[derive(Default)]
pub struct Activity {
    state: Mutex<ActivityState>,
    changed: tokio::sync::Notify,
}

#[derive(Default)]
struct ActivityState {
    in_flight: usize,
    served: bool,
    /// Tokio's clock, which the deadlines sleep on.
    idle_since: Option<tokio::time::Instant>,
}

/// Held while a request is being served; dropping it (answered or cancelled)
/// makes the connection idle again when it was the last one.
pub struct InFlight(Arc<Activity>);

/// Which deadline closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// No request after the handshake.
    FirstRequest,
    /// No request on a kept-alive connection.
    Idle,
}

impl Deadline {
    /// The `phase` label of `kofu_connections_closed_total`.
    pub const fn label(self) -> &'static str {
        match self {
            Deadline::FirstRequest => "first_request",
            Deadline::Idle => "idle",
        }
    }
}

impl Activity {
    fn state(&self) -> std::sync::MutexGuard<'_, ActivityState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A request has arrived.
    pub fn begin(self: &Arc<Activity>) -> InFlight {
        let mut s = self.state();
        s.in_flight += 1;
        s.served = true;
        drop(s);
        self.changed.notify_waiters();
        InFlight(self.clone())
    }

    /// Completes when the connection has had no request in flight for
    /// longer than its deadline (`first_request` before any request,
    /// `idle` after).
    pub async fn expired(&self, first_request: Duration, idle: Duration) -> Deadline {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let wait = {
                let mut s = self.state();
                if s.in_flight > 0 {
                    None
                } else {
                    let since = *s.idle_since.get_or_insert_with(tokio::time::Instant::now);
                    let (limit, deadline) = if s.served {
                        (idle, Deadline::Idle)
                    } else {
                        (first_request, Deadline::FirstRequest)
                    };
                    let until = since + limit;
                    if tokio::time::Instant::now() >= until {
                        return deadline;
                    }
                    Some(until)
                }
            };
            match wait {
                None => changed.await,
                Some(until) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(until) => {}
                        _ = &mut changed => {}
                    }
                }
            }
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut s = self.0.state();
        s.in_flight -= 1;
        if s.in_flight == 0 {
            s.idle_since = Some(tokio::time::Instant::now());
        }
        drop(s);
        self.0.changed.notify_waiters();
    }
}

/// Why a request body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Longer than the route allows (said by `Content-Length`, or arriving).
    TooLarge,
    /// Slower than `body_min_bytes_per_second` after the grace period.
    TooSlow,
    /// The client reset the stream or sent malformed framing.
    Aborted,
}

/// How much of a too-large body is read and discarded before the `413`
/// is sent. A client writes its whole body before it reads the answer: a
/// connection closed on unread bytes is reset, and the client sees a
/// broken connection instead of `body_too_large`. Past this, it does.
pub const DRAIN_AFTER_TOO_LARGE: u64 = 1 << 20;

/// Reads a request body of at most `limit` bytes that arrives no slower
/// than `min_bytes_per_second` once `grace` has passed. A longer body is
/// still read to its end (and thrown away) when it is at most
/// [`DRAIN_AFTER_TOO_LARGE`] beyond the limit, at the same minimum rate,
/// so that its sender reads the `413`.
pub async fn read_body<B>(
    mut body: B,
    limit: usize,
    min_bytes_per_second: u64,
    grace: Duration,
) -> Result<Bytes, BodyError>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
{
    let drain_cap = limit as u64 + DRAIN_AFTER_TOO_LARGE;
    if body.size_hint().lower() > drain_cap {
        return Err(BodyError::TooLarge);
    }
    let started = tokio::time::Instant::now();
    let mut buffer = BytesMut::new();
    // Bytes received, kept or not.
    let mut received: u64 = 0;
    loop {
        let allowed =
            grace + Duration::from_secs_f64(received as f64 / min_bytes_per_second as f64);
        let frame = match tokio::time::timeout_at(started + allowed, body.frame()).await {
            Err(_) => return Err(BodyError::TooSlow),
            Ok(None) if received > limit as u64 => return Err(BodyError::TooLarge),
            Ok(None) => return Ok(buffer.freeze()),
            Ok(Some(Err(_))) => return Err(BodyError::Aborted),
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            received += data.len() as u64;
            if received > drain_cap {
                return Err(BodyError::TooLarge);
            }
            if received <= limit as u64 {
                buffer.extend_from_slice(&data);
            } else if !buffer.is_empty() {
                buffer = BytesMut::new();
            }
        }
    }
}

/// An HTTP/1.1 connection whose own error answers are problem+json.
///
/// hyper answers a request head it cannot parse by itself (`400`, `414`,
/// `431`, with an empty body) before any handler runs. Every answer kofu
/// writes names its request (`kofu-request-id`), so a response head
/// without that header is hyper's: it is replaced, as written, by the same
/// status with a problem+json body and a stable code
/// (`malformed_request`, `uri_too_long`, `header_too_large`).
pub struct ProblemAnswers<S> {
    inner: S,
    /// A replacement being written: its bytes, how many are written, and
    /// the length of the original write it stands for.
    pending: Option<(Vec<u8>, usize, usize)>,
}

impl<S> ProblemAnswers<S> {
    pub fn new(inner: S) -> ProblemAnswers<S> {
        ProblemAnswers {
            inner,
            pending: None,
        }
    }

    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

/// The problem+json answer that replaces hyper's own answer `head`, if it is one.
fn problem_answer(head: &[u8]) -> Option<Vec<u8>> {
    use crate::gateway::error::{Problem, RequestError};
    let status = head.strip_prefix(b"HTTP/1.1 ")?.get(..3)?;
    let error = match status {
        b"400" => RequestError::MalformedRequest,
        b"414" => RequestError::UriTooLong,
        b"431" => RequestError::HeaderTooLarge,
        _ => return None,
    };
    let ours = head
        .windows(b"kofu-request-id".len())
        .any(|w| w.eq_ignore_ascii_case(b"kofu-request-id"));
    if ours {
        return None;
    }
    let problem = Problem::from(error);
    let lang = crate::gateway::i18n::Lang::default();
    let body = serde_json::to_vec(&problem.body(lang)).expect("a problem serialises");
    let mut answer = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/problem+json\r\ncontent-language: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        problem.status.as_u16(),
        problem.status.canonical_reason().unwrap_or("Error"),
        lang.tag(),
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    Some(answer)
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for ProblemAnswers<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for ProblemAnswers<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        use std::task::Poll;
        let this = &mut *self;
        if this.pending.is_none() {
            match problem_answer(buf) {
                Some(answer) => this.pending = Some((answer, 0, buf.len())),
                None => return std::pin::Pin::new(&mut this.inner).poll_write(cx, buf),
            }
        }
        let Some((answer, written, stands_for)) = this.pending.as_mut() else {
            return Poll::Ready(Ok(0));
        };
        while *written < answer.len() {
            match std::pin::Pin::new(&mut this.inner).poll_write(cx, &answer[*written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Ok(0)),
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        let stands_for = *stands_for;
        this.pending = None;
        Poll::Ready(Ok(stands_for))
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    /// Not vectored: hyper then writes each response head as one buffer,
    /// which is what [`problem_answer`] reads.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// At most one log line per period for something an outsider can trigger
/// at will; the lines in between are counted and the next line says how many.
pub struct LogThrottle {
    period_ms: u64,
    origin: Instant,
    /// Milliseconds since `origin` of the last line written, plus one (0: none yet).
    last: AtomicU64,
    suppressed: AtomicU64,
}

impl LogThrottle {
    pub fn every(period: Duration) -> LogThrottle {
        LogThrottle {
            period_ms: period.as_millis() as u64,
            origin: Instant::now(),
            last: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// `Some(lines suppressed since the last one)` when a line may be
    /// written now; `None` (and one more suppressed) otherwise.
    pub fn ready(&self) -> Option<u64> {
        let now = self.origin.elapsed().as_millis() as u64 + 1;
        let last = self.last.load(Ordering::Relaxed);
        if (last == 0 || now >= last + self.period_ms)
            && self
                .last
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return Some(self.suppressed.swap(0, Ordering::Relaxed));
        }
        self.suppressed.fetch_add(1, Ordering::Relaxed);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;

    fn limits() -> ConnectionLimits {
        ConnectionLimits {
            max_handshaking: 3,
            max_anonymous: 2,
            max_unauthenticated_per_address: 2,
            max_per_certificate: 1,
            ..ConnectionLimits::default()
        }
    }

    fn addr(n: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, n])
    }

    #[test]
    fn clients_without_a_certificate_hold_only_their_share_of_slots() {
        let gate = Gate::new("copier", 10, &limits());
        let a1 = gate.admit(addr(1)).unwrap();
        let a2 = gate.admit(addr(1)).unwrap();
        assert_eq!(gate.admit(addr(1)).err(), Some(Refusal::PerAddress));
        let b1 = gate.admit(addr(2)).unwrap();
        for h in [&a1, &a2, &b1] {
            h.speaking();
        }
        // Full of handshakes younger than EVICT_AFTER: refused.
        assert_eq!(gate.admit(addr(3)).err(), Some(Refusal::Handshaking));
        // Two stay anonymous; the third anonymous connection is refused.
        let s1 = a1.settle(None).unwrap();
        let s2 = a2.settle(None).unwrap();
        assert_eq!(b1.settle(None).err(), Some(Refusal::Anonymous));
        // Address 1 still holds both its unauthenticated slots.
        assert_eq!(gate.admit(addr(1)).err(), Some(Refusal::PerAddress));
        // A certificate moves a connection out of its address's share.
        let c = gate.admit(addr(3)).unwrap();
        let fp = CertFingerprint::of_der(b"copier");
        let held = c.settle(Some(fp)).unwrap();
        assert_eq!(
            gate.admit(addr(3)).unwrap().settle(Some(fp)).err(),
            Some(Refusal::PerCertificate)
        );
        assert_eq!(gate.open(), (3, 0, 2));
        drop((s1, s2, held));
        assert_eq!(gate.open(), (0, 0, 0));
        assert!(gate.counts().by_address.is_empty() && gate.counts().by_certificate.is_empty());
    }

    #[test]
    fn a_silent_connection_gives_its_slot_before_one_that_speaks() {
        let gate = Gate::new("copier", 10, &limits());
        let first = gate.admit(addr(1)).unwrap();
        let silent = gate.admit(addr(2)).unwrap();
        let third = gate.admit(addr(3)).unwrap();
        first.speaking();
        third.speaking();
        // Full, all young: the silent one goes, the speaking ones stay.
        let newcomer = gate.admit(addr(4)).unwrap();
        assert_eq!(silent.settle(None).err(), Some(Refusal::Handshaking));
        // Now all speak and are young: the next newcomer is refused.
        newcomer.speaking();
        assert_eq!(gate.admit(addr(5)).err(), Some(Refusal::Handshaking));
        assert!(first.settle(None).is_ok() && third.settle(None).is_ok());
    }

    #[tokio::test]
    async fn the_oldest_slow_handshake_gives_its_slot_to_a_newcomer() {
        let gate = Gate::new("copier", 10, &limits());
        let slow: Vec<_> = (1..=3).map(|n| gate.admit(addr(n)).unwrap()).collect();
        for s in &slow {
            s.speaking();
        }
        std::thread::sleep(EVICT_AFTER);
        let newcomer = gate.admit(addr(9)).unwrap();
        // The first, oldest handshake was cut off; its evicted() completes.
        tokio::time::timeout(Duration::from_secs(1), slow[0].evicted())
            .await
            .expect("the oldest handshake is told to stop");
        assert_eq!(gate.open(), (3, 3, 0));
        let mut slow = slow.into_iter();
        assert_eq!(
            slow.next().unwrap().settle(None).err(),
            Some(Refusal::Handshaking)
        );
        drop(slow);
        assert!(newcomer.settle(None).is_ok());
        assert!(gate.counts().by_address.values().all(|&n| n == 1));
    }

    #[test]
    fn a_full_listener_refuses_instead_of_queueing() {
        let gate = Gate::new("copier", 2, &limits());
        let _a = gate.admit(addr(1)).unwrap();
        let _b = gate.admit(addr(2)).unwrap();
        assert_eq!(gate.admit(addr(3)).err(), Some(Refusal::Capacity));
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_without_a_request_expires_and_a_busy_one_does_not() {
        let activity = Arc::new(Activity::default());
        let first = Duration::from_secs(10);
        let idle = Duration::from_secs(60);
        let started = tokio::time::Instant::now();
        assert_eq!(activity.expired(first, idle).await, Deadline::FirstRequest);
        assert_eq!(started.elapsed(), first);

        let busy = activity.begin();
        let waiting = tokio::spawn({
            let activity = activity.clone();
            async move { activity.expired(first, idle).await }
        });
        tokio::time::sleep(Duration::from_secs(600)).await;
        assert!(!waiting.is_finished(), "a request in flight keeps it open");
        let released = tokio::time::Instant::now();
        drop(busy);
        assert_eq!(waiting.await.unwrap(), Deadline::Idle);
        assert_eq!(released.elapsed(), idle);
    }

    /// A body that sends `chunks`, each after `delay`.
    struct Trickle {
        chunks: std::collections::VecDeque<&'static [u8]>,
        delay: Duration,
        sleep: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
    }

    impl Trickle {
        fn new(chunks: &[&'static [u8]], delay: Duration) -> Trickle {
            Trickle {
                chunks: chunks.iter().copied().collect(),
                delay,
                sleep: None,
            }
        }
    }

    impl hyper::body::Body for Trickle {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
            use std::task::Poll;
            if self.chunks.is_empty() {
                return Poll::Ready(None);
            }
            let delay = self.delay;
            let sleep = self
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(delay)));
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.sleep = None;
            let chunk = self.chunks.pop_front().expect("not empty");
            Poll::Ready(Some(Ok(hyper::body::Frame::data(Bytes::from_static(
                chunk,
            )))))
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_slower_than_the_minimum_rate_is_cut_off() {
        let grace = Duration::from_secs(5);
        let one_byte_a_second = Trickle::new(&[b"x".as_slice(); 100], Duration::from_secs(1));
        assert_eq!(
            read_body(one_byte_a_second, 1024, 100, grace).await,
            Err(BodyError::TooSlow)
        );
        let quick = Trickle::new(&[b"abc".as_slice(); 3], Duration::from_millis(10));
        assert_eq!(
            read_body(quick, 1024, 100, grace).await.as_deref(),
            Ok(&b"abcabcabc"[..])
        );
        let long = Trickle::new(&[b"abc".as_slice(); 3], Duration::from_millis(10));
        assert_eq!(
            read_body(long, 8, 100, grace).await,
            Err(BodyError::TooLarge)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_too_large_is_read_to_its_end_before_the_refusal() {
        let grace = Duration::from_secs(5);
        let mut long = Trickle::new(&[b"abcd".as_slice(); 8], Duration::from_millis(10));
        assert_eq!(
            read_body(&mut long, 8, 100, grace).await,
            Err(BodyError::TooLarge)
        );
        assert!(long.chunks.is_empty(), "the sender's bytes were all read");
        // Beyond the drain allowance it stops reading at once.
        static HUGE: [u8; 64 << 10] = [0; 64 << 10];
        let mut endless = Trickle::new(&[HUGE.as_slice(); 20], Duration::from_millis(1));
        assert_eq!(
            read_body(&mut endless, 8, 1 << 30, grace).await,
            Err(BodyError::TooLarge)
        );
        assert!(!endless.chunks.is_empty(), "it stopped past the allowance");
    }

    #[test]
    fn hypers_own_answers_become_problems_and_kofus_are_left_alone() {
        let hyper_400 = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let answer = String::from_utf8(problem_answer(hyper_400).unwrap()).unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{answer}"
        );
        assert!(answer.contains("application/problem+json"));
        assert!(answer.ends_with("}") && answer.contains("\"code\":\"malformed_request\""));
        let too_large =
            problem_answer(b"HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n").unwrap();
        assert!(String::from_utf8_lossy(&too_large).contains("\"header_too_large\""));
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\nkofu-request-id: 1\r\n\r\n{}";
        assert_eq!(problem_answer(ours), None);
        assert_eq!(problem_answer(b"HTTP/1.1 200 OK\r\n\r\n"), None);
        assert_eq!(problem_answer(b"%PDF-1.7 HTTP/1.1 400"), None);
    }

    #[test]
    fn a_throttled_log_writes_once_per_period_and_counts_the_rest() {
        let throttle = LogThrottle::every(Duration::from_secs(3600));
        assert_eq!(throttle.ready(), Some(0));
        assert_eq!(throttle.ready(), None);
        assert_eq!(throttle.ready(), None);
        assert_eq!(throttle.suppressed.load(Ordering::Relaxed), 2);
    }
}
