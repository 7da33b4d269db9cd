//! The `kofu` command: parse the command line, set up logging, call the library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "kofu",
    version,
    about = "Convenience-store certificate issuance gateway (交付)"
)]
struct Cli {
    /// Log as JSON lines.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The embedded default: private PostgreSQL, demo PKI and registers, a simulated copier run, then serve.
    Demo {
        /// Where the private PostgreSQL cluster and the printed PDFs (out/) live.
        #[arg(long, default_value = "var")]
        data: PathBuf,
        /// Where the demo PKI is generated (and reused).
        #[arg(long, default_value = "certs/demo")]
        certs: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        #[arg(long, default_value = "127.0.0.1:9090")]
        ops_listen: SocketAddr,
        /// The administration API (J-LIS certificate events; operator mutual TLS).
        #[arg(long, default_value = "127.0.0.1:8444")]
        admin_listen: SocketAddr,
        /// Stop after the simulated copier run instead of serving until Ctrl-C.
        #[arg(long)]
        once: bool,
    },
    /// Production: configuration from a TOML file and KOFU_* variables, DATABASE_URL for PostgreSQL.
    Serve {
        #[arg(long, env = "KOFU_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Applies the sql/ migrations to DATABASE_URL.
    Migrate {
        #[arg(long, env = "KOFU_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Certificate revocation lists of the card CAs.
    Crl {
        #[command(subcommand)]
        command: CrlCommand,
    },
    /// J-LIS certificate lifecycle events, applied directly to DATABASE_URL.
    Events {
        #[command(subcommand)]
        command: EventsCommand,
    },
    /// Public-key infrastructure tools.
    Pki {
        #[command(subcommand)]
        command: PkiCommand,
    },
}

#[derive(Subcommand)]
enum CrlCommand {
    /// Imports CRL files (full or delta, DER or PEM) signed by a configured
    /// card CA (`tls.card_ca`) into DATABASE_URL; every gateway loads them
    /// within a second. Prints one JSON line per file.
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long, env = "KOFU_CONFIG")]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum EventsCommand {
    /// Applies events from a file of JSON lines (`-` for stdin), in order,
    /// each in its own transaction; prints one JSON line per event and stops
    /// at the first refused one (exit 1). Safe to run again: events are idempotent.
    Apply {
        /// JSON lines: {"event_id", "kind": issued|renewed|suspended|revoked, "serial", ...}
        file: PathBuf,
        #[arg(long, env = "KOFU_CONFIG")]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum PkiCommand {
    /// Validates one certification path (RFC 5280) and prints {"valid":bool,"reason":"..."}; exit 0 valid, 1 invalid, 2 usage error.
    Verify(kofu::pki::cli::VerifyArgs),
    /// Measures CRL loading, revocation lookups and card authentication; one JSON object a line.
    Bench {
        /// Entries in the generated full CRL.
        #[arg(long, default_value_t = 10_000_000)]
        serials: usize,
        /// Entries in the generated delta CRL (half removeFromCRL of held serials).
        #[arg(long, default_value_t = 10_000)]
        delta_entries: usize,
        /// Seconds per timed loop.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
        /// Keep the generated CRLs in this directory (default: a temporary one, removed).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The openssl binary the CRL load is compared with.
        #[arg(long, default_value = "/usr/bin/openssl")]
        openssl: PathBuf,
        /// Also save the CRLs to a private PostgreSQL cluster and time the rebuild at start.
        #[arg(long)]
        postgres: bool,
    },
}

/// `kofu pki verify`: no runtime, no logging; one JSON line on stdout.
fn pki_verify(args: kofu::pki::cli::VerifyArgs) -> ExitCode {
    match kofu::pki::cli::verify(&args) {
        Ok(outcome) => {
            println!("{}", outcome.json());
            ExitCode::from(outcome.exit_code())
        }
        Err(e) => {
            println!("{}", e.json());
            eprintln!("kofu: {e}");
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Pki {
        command: PkiCommand::Verify(args),
    } = cli.command
    {
        return pki_verify(args);
    }
    // CPU-bound and synchronous: no runtime, no logging on stdout.
    if let Command::Pki {
        command:
            PkiCommand::Bench {
                serials,
                delta_entries,
                seconds,
                out,
                openssl,
                postgres,
            },
    } = cli.command
    {
        let args = kofu::pki::bench::BenchArgs {
            serials,
            delta_entries,
            seconds,
            out,
            openssl,
            postgres,
        };
        return match kofu::pki::bench::run(&args, &mut std::io::stdout().lock()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("kofu: {e}");
                ExitCode::FAILURE
            }
        };
    }
    // The demo's console is its own report; request logs would drown it (RUST_LOG=info brings them back).
    let default_filter = if matches!(cli.command, Command::Demo { .. }) {
        "warn"
    } else {
        "info,tokio_postgres=warn"
    };
    kofu::telemetry::init(cli.log_json, default_filter);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(async {
        match cli.command {
            Command::Demo {
                data,
                certs,
                listen,
                ops_listen,
                admin_listen,
                once,
            } => {
                kofu::demo::run(kofu::demo::DemoArgs {
                    data,
                    certs,
                    listen,
                    ops_listen,
                    admin_listen,
                    once,
                })
                .await
            }
            Command::Serve { config } => kofu::app::serve(config.as_deref()).await,
            Command::Migrate { config } => kofu::app::migrate(config.as_deref()).await,
            Command::Events {
                command: EventsCommand::Apply { file, config },
            } => kofu::app::apply_events(config.as_deref(), &file).await,
            Command::Crl {
                command: CrlCommand::Import { files, config },
            } => kofu::app::import_crls(config.as_deref(), &files).await,
            Command::Pki { .. } => unreachable!("handled before the runtime starts"),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kofu: {e}");
            ExitCode::FAILURE
        }
    }
}
