//! `kofu events apply FILE`: J-LIS certificate events from JSON lines (`-`
//! for stdin), applied directly to `DATABASE_URL`, one transaction each; one
//! JSON line out per event. Stops at the first refused event with its stable
//! code (exit 1). Safe to run again: events are idempotent.

use std::path::{Path, PathBuf};

use crate::BoxError;
use crate::cmd::ConfigArg;
use crate::gateway::registry::events::{self, CertificateEvent};

#[derive(Debug, clap::Subcommand)]
pub enum EventsCommand {
    /// Applies events from a file of JSON lines (`-` for stdin), in order,
    /// each in its own transaction; prints one JSON line per event and stops
    /// at the first refused one (exit 1). Safe to run again: events are idempotent.
    Apply(ApplyArgs),
}

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// JSON lines: {"event_id", "kind": issued|renewed|suspended|revoked, "serial", ...}
    pub file: PathBuf,
    #[command(flatten)]
    pub config: ConfigArg,
}

pub async fn run(command: &EventsCommand) -> Result<(), BoxError> {
    let EventsCommand::Apply(args) = command;
    apply(args).await
}

async fn apply(args: &ApplyArgs) -> Result<(), BoxError> {
    use std::io::BufRead;
    let (config, database) = args.config.load()?;
    let pool = crate::gateway::db::pool(database, 1, config.statement_timeout());
    let mut client = pool.get().await?;
    let file = &args.file;
    let input: Box<dyn BufRead> = if file == Path::new("-") {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?,
        ))
    };
    for (n, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let event: CertificateEvent = serde_json::from_str(&line)
            .map_err(|e| format!("line {}: event_malformed: {e}", n + 1))?;
        match events::apply(&mut client, &event).await {
            Ok(outcome) => println!(
                "{}",
                serde_json::json!({"event_id": event.event_id, "outcome": outcome})
            ),
            Err(e) => {
                println!(
                    "{}",
                    serde_json::json!({"event_id": event.event_id, "error": e.code()})
                );
                return Err(format!("line {}: {}: {e}", n + 1, e.code()).into());
            }
        }
    }
    Ok(())
}
