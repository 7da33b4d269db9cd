//! `kofu crl import FILE...`: CRLs of the configured card and smartphone
//! CAs into the
//! database, one JSON line per file (`{"file", "imported": true|false}`;
//! false when it was already there); every gateway loads them within a
//! second. Stops at the first file refused.

use std::path::PathBuf;

use crate::BoxError;
use crate::cmd::ConfigArg;

#[derive(Debug, clap::Subcommand)]
pub enum CrlCommand {
    /// Imports CRL files (full or delta, DER or PEM) signed by a configured
    /// card or smartphone CA (`tls.card_ca`, `tls.smartphone_ca`) into DATABASE_URL; every gateway loads them
    /// within a second. Prints one JSON line per file.
    Import(ImportArgs),
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArg,
}

pub async fn run(command: &CrlCommand) -> Result<(), BoxError> {
    let CrlCommand::Import(args) = command;
    import(args).await
}

async fn import(args: &ImportArgs) -> Result<(), BoxError> {
    let (config, database) = args.config.load()?;
    let verifier = crate::gateway::tls::card_verifier(&config.tls)?;
    let anchors = verifier.anchor_ders();
    let pool = crate::gateway::db::pool(database, 1, config.statement_timeout());
    let mut client = pool.get().await?;
    crate::gateway::db::migrate(&mut client).await?;
    for file in &args.files {
        let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let imported =
            crate::gateway::pki::revocation::service::import_bytes(anchors, &mut client, &bytes)
                .await
                .map_err(|e| format!("{}: {e}", file.display()))?;
        println!(
            "{}",
            serde_json::json!({"file": file.display().to_string(), "imported": imported})
        );
    }
    Ok(())
}
