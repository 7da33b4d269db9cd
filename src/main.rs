//! The `kofu` command: parse the command line, set up logging, dispatch to
//! the command's `run` in [`kofu::cmd`].

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kofu::cmd;

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
    #[cfg(feature = "devkit")]
    Demo(cmd::demo::DemoArgs),
    /// Production: configuration from a TOML file and KOFU_* variables, DATABASE_URL for PostgreSQL.
    Serve(cmd::ConfigArg),
    /// Applies the sql/ migrations to DATABASE_URL.
    Migrate(cmd::ConfigArg),
    /// Certificate revocation lists of the card CAs.
    Crl {
        #[command(subcommand)]
        command: cmd::crl::CrlCommand,
    },
    /// J-LIS certificate lifecycle events, applied directly to DATABASE_URL.
    Events {
        #[command(subcommand)]
        command: cmd::events::EventsCommand,
    },
    /// Printed-certificate tools.
    Document {
        #[command(subcommand)]
        command: DocumentCommand,
    },
    /// A municipality's onboarding and settings, over the administration API.
    Municipality {
        #[command(subcommand)]
        command: cmd::municipality::MunicipalityCommand,
    },
    /// The audit trail: verify its hash chain and signed checkpoints, list its public keys.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Public-key infrastructure tools.
    Pki {
        #[command(subcommand)]
        command: PkiCommand,
    },
    /// Certificate rendering tools.
    #[cfg(feature = "devkit")]
    Render {
        #[command(subcommand)]
        command: RenderCommand,
    },
}

#[cfg(feature = "devkit")]
#[derive(Subcommand)]
enum RenderCommand {
    /// Render time and size per certificate kind; one JSON object a line.
    Bench(cmd::render_bench::RenderBenchArgs),
}

#[derive(Subcommand)]
enum DocumentCommand {
    /// Checks a printed certificate: offline (PDF with --keys) or online (--online URL, with a PDF or --code); one JSON line; exit 0 genuine, 1 not, 2 usage error.
    Verify(cmd::document_verify::DocumentVerifyArgs),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Checks every entry, link and signed checkpoint of the audit log from the first entry and prints {"valid":bool,"entries":N,"checkpoints":M,"first_bad_seq":..,"reason":".."}; exit 0 intact, 1 broken, 2 usage error.
    Verify(cmd::audit::AuditVerifyArgs),
    /// The audit public keys, one JSON line each (publish them; pin them with `verify --key`).
    Keys(cmd::audit::AuditKeysArgs),
}

#[derive(Subcommand)]
enum PkiCommand {
    /// Validates one certification path (RFC 5280) and prints {"valid":bool,"reason":"..."}; exit 0 valid, 1 invalid, 2 usage error.
    Verify(cmd::pki_verify::VerifyArgs),
    /// Measures CRL loading, revocation lookups and card authentication; one JSON object a line.
    #[cfg(feature = "devkit")]
    Bench(cmd::pki_bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = match cli.command {
        // Synchronous: no runtime, no logging on stdout.
        Command::Document {
            command: DocumentCommand::Verify(args),
        } => return cmd::document_verify::run(&args),
        Command::Municipality { command } => return cmd::municipality::run(&command),
        Command::Audit { command } => {
            return match command {
                AuditCommand::Verify(args) => cmd::audit::run_verify(&args),
                AuditCommand::Keys(args) => cmd::audit::run_keys(&args),
            };
        }
        Command::Pki { command } => {
            return match command {
                PkiCommand::Verify(args) => cmd::pki_verify::run(&args),
                #[cfg(feature = "devkit")]
                PkiCommand::Bench(args) => {
                    exit(cmd::pki_bench::run(&args, &mut std::io::stdout().lock()))
                }
            };
        }
        #[cfg(feature = "devkit")]
        Command::Render {
            command: RenderCommand::Bench(args),
        } => {
            return match cmd::render_bench::run(&args, &mut std::io::stdout().lock()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("kofu render bench: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        command => command,
    };
    // The demo's console is its own report; request logs would drown it (RUST_LOG=info brings them back).
    #[cfg(feature = "devkit")]
    let quiet = matches!(command, Command::Demo(_));
    #[cfg(not(feature = "devkit"))]
    let quiet = false;
    let default_filter = if quiet {
        "warn"
    } else {
        "info,tokio_postgres=warn"
    };
    kofu::gateway::telemetry::init(cli.log_json, default_filter);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    exit(runtime.block_on(async {
        match command {
            #[cfg(feature = "devkit")]
            Command::Demo(args) => cmd::demo::run(&args).await,
            Command::Serve(args) => cmd::serve::run(&args).await,
            Command::Migrate(args) => cmd::migrate::run(&args).await,
            Command::Events { command } => cmd::events::run(&command).await,
            Command::Crl { command } => cmd::crl::run(&command).await,
            Command::Pki { .. }
            | Command::Document { .. }
            | Command::Municipality { .. }
            | Command::Audit { .. } => {
                unreachable!("dispatched before the runtime starts")
            }
            #[cfg(feature = "devkit")]
            Command::Render { .. } => unreachable!("dispatched before the runtime starts"),
        }
    }))
}

fn exit(result: Result<(), kofu::BoxError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kofu: {e}");
            ExitCode::FAILURE
        }
    }
}
