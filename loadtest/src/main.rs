//! `loadtest`: a command-line copier. `loadtest once --gateway URL` runs the
//! same flow as the demo's simulated copier (session → card → order →
//! document → printed) against any running gateway, using the demo PKI.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use kofu::pki::DemoPki;
use kofu::registry::ResidenceOptions;
use kofu::sim::{CopierClient, OrderSpec};

#[derive(Parser)]
#[command(name = "loadtest", about = "Simulated store copiers for kofu")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// One issuance, end to end, printed to stdout as a JSON line.
    Once {
        /// The gateway, e.g. https://127.0.0.1:8443
        #[arg(long, default_value = "https://127.0.0.1:8443")]
        gateway: String,
        /// The demo PKI directory the gateway was started with.
        #[arg(long, default_value = "certs/demo")]
        certs: PathBuf,
        /// Which demo copier (1-based).
        #[arg(long, default_value_t = 1)]
        copier: usize,
        /// Which demo card.
        #[arg(long, default_value = "card-ecdsa-1")]
        card: String,
        /// Ask for the whole household.
        #[arg(long)]
        household: bool,
        /// Where to write the PDF.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let Command::Once {
        gateway,
        certs,
        copier,
        card,
        household,
        out,
    } = Cli::parse().command;
    match once(&gateway, &certs, copier, &card, household, out).await {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("loadtest: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn once(
    gateway: &str,
    certs: &std::path::Path,
    copier: usize,
    card: &str,
    household: bool,
    out: Option<PathBuf>,
) -> Result<String, kofu::BoxError> {
    if !certs.join("user-auth-ca.pem").exists() {
        return Err(format!(
            "no demo PKI in {} (start `kofu demo` first, or pass --certs)",
            certs.display()
        )
        .into());
    }
    let pki = DemoPki::load_or_generate(certs)?;
    let card = pki
        .cards
        .iter()
        .find(|c| c.label == card)
        .ok_or_else(|| format!("no demo card {card}"))?;
    let (copier_id, cert, key) = kofu::demo::copier_files(certs, &pki, copier.saturating_sub(1));
    let client = CopierClient::new(gateway, &certs.join("store-ca.pem"), Some((&cert, &key)))?;
    let spec = OrderSpec {
        options: ResidenceOptions {
            whole_household: household,
            ..Default::default()
        },
        copies: 1,
    };
    let started = Instant::now();
    let issued = client.issue(card, &spec, "ja").await?;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Some(path) = &out {
        std::fs::write(path, &issued.pdf)?;
    }
    Ok(serde_json::json!({
        "copier": copier_id,
        "card": card.label,
        "order_id": issued.ack.order_id,
        "ticket": issued.ack.ticket,
        "amount_yen": issued.ack.amount_yen,
        "document_number": issued.document_number,
        "pages": issued.page_count,
        "bytes": issued.pdf.len(),
        "sha256": issued.sha256_hex,
        "elapsed_ms": (elapsed_ms * 10.0).round() / 10.0,
        "printed": true,
    })
    .to_string())
}
