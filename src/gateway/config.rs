//! Configuration for `kofu serve` (and the defaults `kofu demo` and the tests
//! start from): a TOML file, then `KOFU_*` environment variables, then
//! `DATABASE_URL`.
//!
//! Environment names are the TOML keys upper-cased with `KOFU_` in front and
//! `__` between a table and its key: `KOFU_LISTEN`, `KOFU_TLS__SERVER_CERT`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Everything a gateway process needs to run.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Copier API (HTTPS, mutual TLS).
    pub listen: SocketAddr,
    /// Operations listener (`/metrics`, `/dashboard`); keep it on a private network.
    pub ops_listen: SocketAddr,
    /// Administration API (`/v1/admin/...`, mutual TLS with operator
    /// certificates); started only when `tls.operator_ca` is set.
    pub admin_listen: SocketAddr,
    /// The public endpoints (health, spec, keys, verification) on a listener
    /// of their own, without client certificates; when set, the copier
    /// listener requires a copier certificate at the handshake.
    pub public_listen: Option<SocketAddr>,
    /// PostgreSQL URL for `kofu serve` (`DATABASE_URL` overrides it).
    pub database_url: Option<String>,
    pub db_pool_size: usize,
    pub statement_timeout_ms: u64,
    pub tls: TlsFiles,
    pub revocation: RevocationConfig,
    /// How long a copier session (and its challenge) lives.
    pub session_ttl_secs: u64,
    /// Render workers (CPU-bound; about one per core).
    pub render_workers: usize,
    /// How long `GET /document` waits for rendering before answering 503 + Retry-After.
    pub document_wait_ms: u64,
    /// An order not rendered this long after acceptance is voided (`render_deadline_missed`);
    /// this bounds how long one order can hold back the ones behind it.
    pub render_deadline_ms: u64,
    /// A released document not confirmed printed this long after release is voided
    /// (`print_deadline_missed`) and refunded.
    pub print_deadline_ms: u64,
    /// Release documents in ticket order (invariant 2). `false` exists only to
    /// measure what strict order costs; never run it in production.
    pub release_ordered: bool,
    /// Test-only hooks on the operations listener (`PUT /test/render-delay-ms`).
    pub test_hooks: bool,
    /// Concurrent client connections per listener; a connection beyond it
    /// is closed at once (and counted), never queued.
    pub max_connections: usize,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Largest register import body (administration listener, the imports
    /// route only): 100,000 residents are about 25 MB of CSV.
    pub import_max_body_bytes: usize,
    /// Time allowed for a request head (HTTP/1.1).
    pub header_timeout_ms: u64,
    /// Deadlines and caps for each phase of a connection.
    pub connections: ConnectionLimits,
    /// Requests, copies and orders per copier, card, municipality and
    /// source address (see `gateway::state::rate_limit`).
    pub rate_limits: RateLimits,
    /// The secret (64 hexadecimal characters) the municipalities' document
    /// signing keys are sealed under in PostgreSQL; every gateway process
    /// sharing a database needs the same one. Usually given as
    /// `KOFU_SIGNING_SECRET`, or in a file (`signing_secret_file`).
    pub signing_secret: Option<Redacted>,
    /// A file holding the signing secret (instead of `signing_secret`).
    pub signing_secret_file: Option<PathBuf>,
    /// Base URL of the public verification page, printed in every QR code
    /// as `{verify_url}/verify/{code}?…`. Every process sharing a database
    /// needs the same one: a document fetched from another process is
    /// rendered again there and must come out byte-identical. Unset, it is
    /// `https://` and the address this process bound (a lone gateway or the
    /// demo only; `kofu serve` warns).
    pub verify_url: Option<String>,
    /// Public verification look-ups (`/v1/verify/…`, `/verify/…`) per
    /// minute and source address; a minute's worth may come at once.
    pub verify_lookups_per_minute: u32,
}

/// A configuration value never shown in logs or `Debug` output.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Redacted(pub String);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"…\"")
    }
}

/// Deadlines for every phase of a connection and caps on who may hold how
/// many: a client that goes quiet is closed, and clients without a
/// certificate never hold more than `max_handshaking + max_anonymous` of a
/// listener's `max_connections` slots.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionLimits {
    /// The TLS handshake.
    pub handshake_timeout_ms: u64,
    /// From the handshake to the first request (HTTP/2: its SETTINGS and a
    /// complete HEADERS frame count as nothing until a request arrives).
    pub first_request_timeout_ms: u64,
    /// A kept-alive connection with no request in flight.
    pub idle_timeout_ms: u64,
    /// A request body must arrive at least this fast, after `body_grace_ms`.
    pub body_min_bytes_per_second: u64,
    pub body_grace_ms: u64,
    /// Connections in their TLS handshake, per listener.
    pub max_handshaking: usize,
    /// Connections that completed a handshake without a client certificate
    /// (the public endpoints), per listener.
    pub max_anonymous: usize,
    /// Connections without a client certificate (handshaking or anonymous)
    /// from one source address, per listener.
    pub max_unauthenticated_per_address: usize,
    /// Connections per client certificate, per listener.
    pub max_per_certificate: usize,
    /// Largest request head (HTTP/1.1) or header list (HTTP/2).
    pub max_header_bytes: usize,
    /// Most header fields in a request (HTTP/1.1).
    pub max_headers: usize,
    /// Concurrent streams per HTTP/2 connection.
    pub h2_max_concurrent_streams: u32,
    /// HTTP/2 keep-alive pings: how often, and how long an answer may take.
    pub h2_keepalive_interval_ms: u64,
    pub h2_keepalive_timeout_ms: u64,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            handshake_timeout_ms: 5_000,
            first_request_timeout_ms: 10_000,
            idle_timeout_ms: 60_000,
            body_min_bytes_per_second: 1024,
            body_grace_ms: 5_000,
            max_handshaking: 128,
            max_anonymous: 64,
            max_unauthenticated_per_address: 64,
            max_per_certificate: 32,
            max_header_bytes: 16 * 1024,
            max_headers: 64,
            h2_max_concurrent_streams: 32,
            h2_keepalive_interval_ms: 20_000,
            h2_keepalive_timeout_ms: 10_000,
        }
    }
}

impl ConnectionLimits {
    pub fn handshake_timeout(&self) -> Duration {
        Duration::from_millis(self.handshake_timeout_ms)
    }
    pub fn first_request_timeout(&self) -> Duration {
        Duration::from_millis(self.first_request_timeout_ms)
    }
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms)
    }
    pub fn body_grace(&self) -> Duration {
        Duration::from_millis(self.body_grace_ms)
    }
}

/// Rate limits (GCRA, `governor`), each answered by `429` with
/// `Retry-After` and its own code. They are held in each process's memory:
/// N gateway processes allow up to N times a copier's or municipality's
/// rate (a card's, which stays at one copier, is not multiplied).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    /// Copier API requests per minute and copier certificate;
    /// `copier_requests_burst` may come at once. (A burst of a whole
    /// minute's worth let a stolen copier certificate double the load of
    /// eight copiers for its first seconds.)
    pub copier_requests_per_minute: u32,
    pub copier_requests_burst: u32,
    /// Copies ordered per hour and card; `card_copies_burst` may come at once.
    pub card_copies_per_hour: u32,
    pub card_copies_burst: u32,
    /// A card authenticated at one copier is refused at any other for this
    /// long (`card_in_use_elsewhere`): a card sits in one copier.
    pub card_exclusive_secs: u64,
    /// Orders per second and issuing municipality (a second's worth at once).
    pub municipality_orders_per_second: u32,
    /// Requests per minute and source address on the public endpoints
    /// (the verification look-ups have their own, `verify_lookups_per_minute`).
    pub public_requests_per_minute: u32,
    /// A rate-limit refusal (`429`) is answered after this pause, or after
    /// its `Retry-After` if that is sooner. A client that ignores
    /// `Retry-After` then waits on its own connection: a flood of requests
    /// costs the flooder its connections, not the gateway its processors.
    pub refusal_delay_ms: u64,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            copier_requests_per_minute: 600,
            copier_requests_burst: 60,
            card_copies_per_hour: 60,
            card_copies_burst: 30,
            card_exclusive_secs: 120,
            municipality_orders_per_second: 200,
            public_requests_per_minute: 600,
            refusal_delay_ms: 1000,
        }
    }
}

/// Revocation checking of card certificates (always on, fail closed).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RevocationConfig {
    /// How long past a CRL's nextUpdate it is still used; after that, cards
    /// of that CA are refused with `revocation_data_stale`.
    pub grace_secs: u64,
    /// A directory watched for new CRL files (`*.crl`, `*.der`, `*.pem`),
    /// imported as `kofu crl import` would.
    pub crl_dir: Option<PathBuf>,
}

impl Default for RevocationConfig {
    fn default() -> Self {
        RevocationConfig {
            grace_secs: 6 * 3600,
            crl_dir: None,
        }
    }
}

impl RevocationConfig {
    pub fn grace(&self) -> Duration {
        Duration::from_secs(self.grace_secs)
    }
}

/// PEM files for the server identity and the trust anchors.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsFiles {
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    /// The store-network CA that issues copier client certificates.
    pub copier_ca: PathBuf,
    /// The JPKI user-authentication CA certificate(s) cards chain to.
    pub card_ca: Vec<PathBuf>,
    /// The CA certificate(s) smartphone user-authentication certificates
    /// (スマホ用利用者証明用電子証明書) chain to; none (the default): phones
    /// are refused (`card_unknown_issuer`).
    pub smartphone_ca: Vec<PathBuf>,
    /// The certificate policy a smartphone certificate must assert (dotted).
    pub smartphone_policy: String,
    /// The CA of operator client certificates for the administration
    /// listener (none: no administration listener).
    pub operator_ca: Option<PathBuf>,
    /// Intermediate CA certificates between those anchors and the cards, if
    /// the issuing CA is not itself configured as an anchor (any order).
    pub card_intermediates: Vec<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8443".parse().expect("literal address"),
            ops_listen: "127.0.0.1:9090".parse().expect("literal address"),
            admin_listen: "127.0.0.1:8444".parse().expect("literal address"),
            public_listen: None,
            database_url: None,
            db_pool_size: 16,
            statement_timeout_ms: 10_000,
            tls: TlsFiles::default(),
            revocation: RevocationConfig::default(),
            session_ttl_secs: 600,
            render_workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            document_wait_ms: 10_000,
            render_deadline_ms: 10_000,
            print_deadline_ms: 120_000,
            release_ordered: true,
            test_hooks: false,
            max_connections: 1024,
            max_body_bytes: 64 * 1024,
            import_max_body_bytes: 256 * 1024 * 1024,
            header_timeout_ms: 10_000,
            connections: ConnectionLimits::default(),
            rate_limits: RateLimits::default(),
            signing_secret: None,
            signing_secret_file: None,
            verify_url: None,
            verify_lookups_per_minute: 60,
        }
    }
}

impl Default for TlsFiles {
    fn default() -> Self {
        // The demo PKI's files, without the administration listener (which
        // must be asked for: it needs its own port per process).
        // Nor smartphone certificates: a deployment opts in with
        // `tls.smartphone_ca`.
        let mut files = TlsFiles::in_dir(Path::new("certs/demo"));
        files.operator_ca = None;
        files.smartphone_ca = Vec::new();
        files
    }
}

impl TlsFiles {
    /// The file names the demo PKI generator writes in `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        TlsFiles {
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server.key"),
            copier_ca: dir.join("store-ca.pem"),
            card_ca: vec![dir.join("user-auth-ca.pem")],
            smartphone_ca: vec![dir.join("smartphone-auth-ca.pem")],
            smartphone_policy: crate::gateway::pki::card::SMARTPHONE_USER_AUTH_POLICY.to_owned(),
            operator_ca: Some(dir.join(crate::gateway::pki::operators::OPERATOR_CA_FILE)),
            card_intermediates: Vec::new(),
        }
    }
}

impl Config {
    /// Reads `path` (if given), then applies `KOFU_*` variables and `DATABASE_URL`.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let text = match path {
            Some(p) => {
                std::fs::read_to_string(p).map_err(|e| ConfigError::Read(p.to_owned(), e))?
            }
            None => String::new(),
        };
        Self::from_sources(&text, std::env::vars())
    }

    /// The pure part of [`Config::load`], for tests.
    pub fn from_sources(
        toml_text: &str,
        env: impl Iterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut table: toml::Table = toml_text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.to_string()))?;
        for (name, value) in env {
            let key_path = if name == "DATABASE_URL" {
                vec!["database_url".to_owned()]
            } else if let Some(rest) = name.strip_prefix("KOFU_") {
                rest.split("__").map(str::to_ascii_lowercase).collect()
            } else {
                continue;
            };
            set_path(&mut table, &key_path, env_value(&value));
        }
        let config: Config = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("db_pool_size", self.db_pool_size),
            ("render_workers", self.render_workers),
            ("max_connections", self.max_connections),
            ("max_body_bytes", self.max_body_bytes),
            ("import_max_body_bytes", self.import_max_body_bytes),
            (
                "connections.max_handshaking",
                self.connections.max_handshaking,
            ),
            (
                "connections.max_per_certificate",
                self.connections.max_per_certificate,
            ),
            (
                "connections.max_unauthenticated_per_address",
                self.connections.max_unauthenticated_per_address,
            ),
            ("connections.max_headers", self.connections.max_headers),
            (
                "connections.body_min_bytes_per_second",
                self.connections.body_min_bytes_per_second as usize,
            ),
            (
                "rate_limits.copier_requests_per_minute",
                self.rate_limits.copier_requests_per_minute as usize,
            ),
            (
                "rate_limits.copier_requests_burst",
                self.rate_limits.copier_requests_burst as usize,
            ),
            (
                "rate_limits.card_copies_per_hour",
                self.rate_limits.card_copies_per_hour as usize,
            ),
            (
                "rate_limits.card_copies_burst",
                self.rate_limits.card_copies_burst as usize,
            ),
            (
                "rate_limits.municipality_orders_per_second",
                self.rate_limits.municipality_orders_per_second as usize,
            ),
            (
                "rate_limits.public_requests_per_minute",
                self.rate_limits.public_requests_per_minute as usize,
            ),
        ];
        for (name, v) in positive {
            if v == 0 {
                return Err(ConfigError::Invalid(format!("{name} must be at least 1")));
            }
        }
        let c = &self.connections;
        if c.max_handshaking + c.max_anonymous >= self.max_connections {
            return Err(ConfigError::Invalid(
                "connections.max_handshaking + connections.max_anonymous must leave slots \
                 for copiers below max_connections"
                    .into(),
            ));
        }
        if c.max_header_bytes < 8192 {
            return Err(ConfigError::Invalid(
                "connections.max_header_bytes must be at least 8192".into(),
            ));
        }
        if self.tls.card_ca.is_empty() {
            return Err(ConfigError::Invalid(
                "tls.card_ca needs at least one CA certificate".into(),
            ));
        }
        if crate::gateway::pki::card::smartphone_policy(&self.tls.smartphone_policy).is_none() {
            return Err(ConfigError::Invalid(
                "tls.smartphone_policy must be a dotted OID such as 1.2.392.200149.8.5.1.3.40"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The signing secret from `signing_secret` or `signing_secret_file`.
    pub fn signing_secret(&self) -> Result<crate::gateway::signing::SigningSecret, ConfigError> {
        use crate::gateway::signing::SigningSecret;
        let text = match (&self.signing_secret, &self.signing_secret_file) {
            (Some(secret), None) => secret.0.clone(),
            (None, Some(path)) => {
                std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.clone(), e))?
            }
            (Some(_), Some(_)) => {
                return Err(ConfigError::Invalid(
                    "give signing_secret or signing_secret_file, not both".into(),
                ));
            }
            (None, None) => {
                return Err(ConfigError::Invalid(
                    "the document signing secret is missing: set KOFU_SIGNING_SECRET \
                     (64 hexadecimal characters) or signing_secret_file"
                        .into(),
                ));
            }
        };
        SigningSecret::from_hex(&text).ok_or_else(|| {
            ConfigError::Invalid("the signing secret must be 64 hexadecimal characters".into())
        })
    }

    /// The verification page's base URL (see `verify_url`).
    pub fn verify_url(&self) -> String {
        match &self.verify_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("https://{}", self.public_listen.unwrap_or(self.listen)),
        }
    }

    pub fn session_ttl(&self) -> Duration {
        Duration::from_secs(self.session_ttl_secs)
    }
    pub fn document_wait(&self) -> Duration {
        Duration::from_millis(self.document_wait_ms)
    }
    pub fn render_deadline(&self) -> Duration {
        Duration::from_millis(self.render_deadline_ms)
    }
    pub fn print_deadline(&self) -> Duration {
        Duration::from_millis(self.print_deadline_ms)
    }
    pub fn header_timeout(&self) -> Duration {
        Duration::from_millis(self.header_timeout_ms)
    }
    pub fn statement_timeout(&self) -> Duration {
        Duration::from_millis(self.statement_timeout_ms)
    }
}

/// An environment value as TOML: a number, boolean or array when it parses as
/// one (`KOFU_RENDER_WORKERS=4`, `KOFU_TLS__CARD_CA='["a.pem","b.pem"]'`), else a string.
fn env_value(raw: &str) -> toml::Value {
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()))
}

fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) {
    match path {
        [] => {}
        [last] => {
            table.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = table
                .entry(first.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(inner) = entry {
                set_path(inner, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn environment_overrides_file_and_nested_keys_work() {
        let file = "listen = \"0.0.0.0:443\"\nrender_workers = 3\n[tls]\nserver_cert = \"/etc/kofu/server.pem\"\n";
        let c = Config::from_sources(
            file,
            env(&[
                ("KOFU_RENDER_WORKERS", "5"),
                ("KOFU_TLS__SERVER_KEY", "/k.pem"),
                ("DATABASE_URL", "postgres://x/y"),
                ("HOME", "/root"),
            ]),
        )
        .unwrap();
        assert_eq!(c.listen.port(), 443);
        assert_eq!(c.render_workers, 5);
        assert_eq!(c.tls.server_cert, PathBuf::from("/etc/kofu/server.pem"));
        assert_eq!(c.tls.server_key, PathBuf::from("/k.pem"));
        assert_eq!(c.database_url.as_deref(), Some("postgres://x/y"));
    }

    #[test]
    fn unknown_keys_and_zero_workers_are_rejected() {
        assert!(Config::from_sources("lisen = \"x\"", env(&[])).is_err());
        assert!(Config::from_sources("", env(&[("KOFU_RENDER_WORKERS", "0")])).is_err());
    }

    #[test]
    fn the_shipped_deploy_configuration_loads_and_names_a_secret_and_a_public_url() {
        let c = Config::from_sources(include_str!("../../deploy/kofu.toml"), env(&[])).unwrap();
        assert_eq!(
            c.signing_secret_file.as_deref(),
            Some(Path::new("/etc/kofu/signing.secret"))
        );
        assert!(c.verify_url().starts_with("https://"), "{}", c.verify_url());
        assert!(c.tls.operator_ca.is_some());
        assert!(
            c.public_listen.is_some(),
            "the public endpoints on their own listener"
        );
        assert!(!c.tls.smartphone_ca.is_empty());
    }

    /// The configuration the Kubernetes manifests mount loads too, with
    /// the same listeners as the file beside it.
    #[test]
    fn the_kubernetes_config_map_loads() {
        let manifest = include_str!("../../deploy/k8s/kofu.yaml");
        let start = manifest
            .find("  kofu.toml: |\n")
            .expect("the ConfigMap's kofu.toml");
        let toml: String = manifest[start..]
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with("    ") || l.is_empty())
            .map(|l| format!("{}\n", l.trim_start()))
            .collect();
        let c = Config::from_sources(&toml, env(&[])).unwrap();
        let file = Config::from_sources(include_str!("../../deploy/kofu.toml"), env(&[])).unwrap();
        assert_eq!(c.listen, file.listen);
        assert_eq!(c.public_listen, file.public_listen);
        assert!(!c.tls.smartphone_ca.is_empty());
        assert!(c.tls.operator_ca.is_some());
    }
}
