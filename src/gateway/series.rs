//! Every metric series kofu exports, declared once: its name (namespace
//! `kofu_`), its type, its labels and what it means. The call sites name a
//! series by its constant here; [`describe`] gives Prometheus each one's
//! HELP text; the README lists them all and a test holds the three (this
//! catalogue, the README and a live `/metrics`) against each other.
//!
//! Rule: a label takes only values from a set fixed by the build or the
//! configuration — route templates, status codes, kinds, reason codes,
//! stages, the participating municipalities' codes, the store chains of
//! the copier certificates, the configured card CAs — never an identifier
//! of a person, a card, an order or a session. [`BOUNDED_BY`] says which set
//! each label is drawn from.

/// What a series is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// One exported series.
#[derive(Debug, Clone, Copy)]
pub struct Series {
    pub name: &'static str,
    pub kind: Kind,
    pub labels: &'static [&'static str],
    /// The HELP text (the first line of the constant's documentation).
    pub help: &'static str,
}

macro_rules! catalogue {
    ($( #[doc = $help:literal] $(#[doc = $more:literal])* $id:ident: $kind:ident $name:literal [$($label:literal),*]; )*) => {
        $( #[doc = $help] $(#[doc = $more])* pub const $id: &str = $name; )*
        /// Every series, in the order declared.
        pub const SERIES: &[Series] = &[
            $( Series { name: $name, kind: Kind::$kind, labels: &[$($label),*], help: $help } ),*
        ];
    };
}

catalogue! {
    /// HTTP requests answered, by route template and status code.
    HTTP_REQUESTS: Counter "kofu_http_requests_total" ["route", "status"];
    /// Time from a request's head to its answer, by route template.
    HTTP_REQUEST_DURATION: Histogram "kofu_http_request_duration_seconds" ["route"];
    /// Time spent in each stage of an issuance.
    /// `tls_handshake` (a copier's connection), `card_verification` (chain,
    /// revocation and signature), `acceptance` (the order's transaction),
    /// `render`, `release_wait` (rendered until released in ticket order),
    /// `delivery` (the document's fetch), `print_confirmation` (released
    /// until the copier confirms the print).
    STAGE_DURATION: Histogram "kofu_stage_duration_seconds" ["stage"];
    /// TLS handshakes that failed (any listener).
    TLS_HANDSHAKE_FAILURES: Counter "kofu_tls_handshake_failures_total" [];
    /// Copier sessions opened.
    SESSIONS_OPENED: Counter "kofu_sessions_opened_total" [];
    /// Cards and smartphones that passed verification, by signature
    /// algorithm and credential (`card`, `smartphone`).
    CARDS_VERIFIED: Counter "kofu_cards_verified_total" ["algorithm", "credential"];
    /// Cards refused at the card step, by the refusal's code.
    CARD_REFUSALS: Counter "kofu_card_refusals_total" ["code"];
    /// Orders accepted, by issuing municipality and the credential that
    /// authenticated the session.
    ORDERS_ACCEPTED: Counter "kofu_orders_accepted_total" ["municipality", "credential"];
    /// Acceptances retried after a transient database conflict.
    ACCEPTANCE_RETRIES: Counter "kofu_acceptance_retries_total" [];
    /// Orders refused because the render queue was full.
    RENDER_QUEUE_FULL: Counter "kofu_render_queue_full_total" [];
    /// Time to render and sign one document, by kind (its count: renders per kind).
    RENDER_DURATION: Histogram "kofu_render_duration_seconds" ["kind"];
    /// Documents rendered again from their snapshot (delivery elsewhere, verification).
    DOCUMENTS_RENDERED_AGAIN: Counter "kofu_documents_rendered_again_total" [];
    /// Rendered documents dropped from this process's memory before delivery.
    DOCUMENT_CACHE_EVICTIONS: Counter "kofu_document_cache_evictions_total" [];
    /// Orders released to their copier in ticket order.
    ORDERS_RELEASED: Counter "kofu_orders_released_total" [];
    /// Documents handed to their copier.
    DOCUMENTS_DELIVERED: Counter "kofu_documents_delivered_total" [];
    /// Deliveries refused because the document's binding did not match.
    BINDING_CHECK_FAILURES: Counter "kofu_binding_check_failures_total" [];
    /// Orders printed, by municipality and store chain.
    ORDERS_PRINTED: Counter "kofu_orders_printed_total" ["municipality", "store_chain"];
    /// Orders voided, by reason, municipality and store chain.
    ORDERS_VOIDED: Counter "kofu_orders_voided_total" ["reason", "municipality", "store_chain"];
    /// Orders not yet finished, by state (`accepted`, `rendered`, `released`).
    QUEUE_DEPTH: Gauge "kofu_queue_depth" ["state"];
    /// Tickets accepted beyond the release watermark (waiting their turn).
    RELEASE_LAG_TICKETS: Gauge "kofu_release_lag_tickets" [];
    /// Age of the oldest order the release watermark has not passed, in seconds.
    RELEASE_LAG_SECONDS: Gauge "kofu_release_lag_seconds" [];
    /// 1 when some card CA has no current CRL (cards are then refused), else 0.
    REVOCATION_STALE: Gauge "kofu_revocation_stale" [];
    /// Age of the newest CRL held for each card CA, in seconds since its thisUpdate.
    /// `issuer` is the first 16 hex digits of the CA's key (name and public key digest).
    REVOCATION_DATA_AGE: Gauge "kofu_revocation_data_age_seconds" ["issuer"];
    /// J-LIS certificate events applied, by kind.
    CERTIFICATE_EVENTS: Counter "kofu_certificate_events_total" ["kind"];
    /// Registered-domicile registrations made, by their first status (`active` or `pending`).
    DOMICILE_REGISTRATIONS: Counter "kofu_domicile_registrations_total" ["outcome"];
    /// Verification look-ups refused by the per-address rate limit.
    VERIFY_RATE_LIMITED: Counter "kofu_verify_rate_limited_total" [];
    /// When each configured certificate expires (its notAfter), as a Unix time.
    /// `certificate` is `server`, `copier_ca`, `operator_ca`, `card_ca` or `smartphone_ca` (the earliest of them).
    CERTIFICATE_NOT_AFTER: Gauge "kofu_certificate_not_after_timestamp_seconds" ["certificate"];
    /// Connections closed at once because no slot was free for them, by
    /// listener and reason (`capacity`, `handshaking`, `anonymous`,
    /// `per_address`, `per_certificate`; see `gateway::connections`).
    CONNECTIONS_REFUSED: Counter "kofu_connections_refused_total" ["listener", "reason"];
    /// Connections closed by a deadline, by listener and phase (`handshake`,
    /// `first_request`, `idle`, `body`).
    CONNECTIONS_CLOSED: Counter "kofu_connections_closed_total" ["listener", "phase"];
    /// Connections open, by listener and what they hold (`handshaking`,
    /// `anonymous`, `authenticated`).
    CONNECTIONS_OPEN: Gauge "kofu_connections_open" ["listener", "slot"];
    /// Requests refused by a rate limit, by limit (`copier`, `card`,
    /// `card_elsewhere`, `municipality`, `address`).
    RATE_LIMITED: Counter "kofu_rate_limited_total" ["limit"];
    /// Database connections the pool may hold.
    DB_POOL_SIZE: Gauge "kofu_db_pool_size" [];
    /// Database connections in use.
    DB_POOL_IN_USE: Gauge "kofu_db_pool_in_use" [];
    /// Time to get a database connection from the pool.
    DB_POOL_WAIT: Histogram "kofu_db_pool_wait_seconds" [];
}

/// The set each label's values are drawn from.
pub const BOUNDED_BY: &[(&str, &str)] = &[
    ("route", "the route templates, or `other`"),
    ("status", "HTTP status codes"),
    ("stage", "the seven stages of STAGE_DURATION"),
    ("algorithm", "the card signature algorithms"),
    ("credential", "`card` or `smartphone`"),
    ("code", "the card refusal codes"),
    ("municipality", "the participating municipalities' codes"),
    (
        "store_chain",
        "the store chains named by copier certificates",
    ),
    ("kind", "certificate kinds, or J-LIS event kinds"),
    (
        "reason",
        "the void reasons, or the five connection refusals",
    ),
    ("state", "the unfinished order states"),
    ("outcome", "a registration's first status"),
    ("certificate", "the five configured certificate roles"),
    ("issuer", "the configured card and smartphone CAs"),
    (
        "listener",
        "the listeners (`copier`, `public`, `admin`, `ops`)",
    ),
    ("phase", "the four connection deadlines"),
    ("slot", "the three kinds of connection slot"),
    ("limit", "the five rate limits"),
];

/// The stages of [`STAGE_DURATION`].
pub const STAGES: &[&str] = &[
    "tls_handshake",
    "card_verification",
    "acceptance",
    "render",
    "release_wait",
    "delivery",
    "print_confirmation",
];

/// How many recent samples of each stage this process keeps for the
/// dashboard's quantiles.
const RECENT_SAMPLES: usize = 1024;

/// This process's recent stage samples and card refusals, for the
/// dashboard (Prometheus keeps the history; the page shows the moment).
#[derive(Default)]
struct Recent {
    stages: std::collections::HashMap<&'static str, std::collections::VecDeque<f64>>,
    refusals: std::collections::BTreeMap<&'static str, u64>,
}

fn recent() -> std::sync::MutexGuard<'static, Recent> {
    static RECENT: std::sync::OnceLock<std::sync::Mutex<Recent>> = std::sync::OnceLock::new();
    RECENT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// Records `seconds` in stage `stage` (one of [`STAGES`]).
pub fn stage(stage: &'static str, seconds: f64) {
    debug_assert!(STAGES.contains(&stage), "{stage}");
    metrics::histogram!(STAGE_DURATION, "stage" => stage).record(seconds);
    let mut recent = recent();
    let samples = recent.stages.entry(stage).or_default();
    if samples.len() == RECENT_SAMPLES {
        samples.pop_front();
    }
    samples.push_back(seconds);
}

/// Counts a card refused with `code` ([`CARD_REFUSALS`]).
pub fn card_refused(code: &'static str) {
    metrics::counter!(CARD_REFUSALS, "code" => code).increment(1);
    *recent().refusals.entry(code).or_default() += 1;
}

/// The median and 99th percentile of each stage's recent samples (in
/// seconds), with their count; stages without samples are left out.
pub fn stage_quantiles() -> Vec<(&'static str, f64, f64, usize)> {
    let recent = recent();
    STAGES
        .iter()
        .filter_map(|&stage| {
            let mut samples: Vec<f64> = recent.stages.get(stage)?.iter().copied().collect();
            if samples.is_empty() {
                return None;
            }
            samples.sort_by(f64::total_cmp);
            let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
            Some((stage, at(0.5), at(0.99), samples.len()))
        })
        .collect()
}

/// Card refusals in this process since it started, by code.
pub fn card_refusals() -> Vec<(&'static str, u64)> {
    recent().refusals.iter().map(|(k, v)| (*k, *v)).collect()
}

/// Exports every counter without labels at 0 from the start (and the
/// domicile registrations under both their statuses), so that an alert on
/// its rate sees it before its first event.
pub fn initialise() {
    for s in SERIES {
        if s.kind == Kind::Counter && s.labels.is_empty() {
            metrics::counter!(s.name).increment(0);
        }
    }
    for status in ["active", "pending"] {
        metrics::counter!(DOMICILE_REGISTRATIONS, "outcome" => status).increment(0);
    }
    // The connection and rate-limit counters, at 0 for every value of
    // their bounded labels: an alert on a flood sees the series before it.
    for listener in ["copier", "public", "admin"] {
        for reason in [
            "capacity",
            "handshaking",
            "anonymous",
            "per_address",
            "per_certificate",
        ] {
            metrics::counter!(CONNECTIONS_REFUSED, "listener" => listener, "reason" => reason)
                .increment(0);
        }
        for phase in ["handshake", "first_request", "idle", "body"] {
            metrics::counter!(CONNECTIONS_CLOSED, "listener" => listener, "phase" => phase)
                .increment(0);
        }
    }
    // The operations listener refuses only when full, and has no handshake.
    metrics::counter!(CONNECTIONS_REFUSED, "listener" => "ops", "reason" => "capacity")
        .increment(0);
    for phase in ["first_request", "idle"] {
        metrics::counter!(CONNECTIONS_CLOSED, "listener" => "ops", "phase" => phase).increment(0);
    }
    for limit in [
        "copier",
        "card",
        "card_elsewhere",
        "municipality",
        "address",
    ] {
        metrics::counter!(RATE_LIMITED, "limit" => limit).increment(0);
    }
}

/// Gives the recorder every series' HELP text.
pub fn describe() {
    for s in SERIES {
        match s.kind {
            Kind::Counter => metrics::describe_counter!(s.name, s.help),
            Kind::Gauge => metrics::describe_gauge!(s.name, s.help),
            Kind::Histogram => metrics::describe_histogram!(s.name, s.help),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dashboards_quantiles_come_from_the_recent_samples() {
        for ms in 1..=100 {
            stage("print_confirmation", f64::from(ms) / 1000.0);
        }
        let (_, p50, p99, n) = stage_quantiles()
            .into_iter()
            .find(|q| q.0 == "print_confirmation")
            .unwrap();
        assert!(n >= 100);
        assert!((0.045..=0.056).contains(&p50), "{p50}");
        assert!(p99 >= 0.098, "{p99}");
        card_refused("card_expired");
        assert!(
            card_refusals()
                .iter()
                .any(|(c, n)| *c == "card_expired" && *n >= 1)
        );
    }

    #[test]
    fn every_series_is_namespaced_unique_and_its_labels_bounded() {
        let mut names: Vec<&str> = SERIES.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SERIES.len());
        for s in SERIES {
            assert!(s.name.starts_with("kofu_"), "{}", s.name);
            assert_eq!(
                s.kind == Kind::Counter,
                s.name.ends_with("_total"),
                "{}: counters, and only they, end in _total",
                s.name
            );
            assert!(!s.help.trim().is_empty());
            for label in s.labels {
                assert!(
                    BOUNDED_BY.iter().any(|(l, _)| l == label),
                    "{}: label {label} has no bounded set",
                    s.name
                );
            }
        }
    }
}
