//! `kofu audit verify`: checks the audit trail a database holds, from its
//! first entry, with nothing but the audit public key (no signing secret).
//!
//! The rule this file keeps, like `kofu pki verify`: exactly one JSON line
//! on stdout, `{"valid":bool,"entries":N,"checkpoints":M,"last_checkpoint_seq":..,
//! "first_bad_seq":..,"pending":P,"reason":".."}` (`pending`: entries
//! committed but not chained yet), and the exit status separates a
//! verdict (0 intact, 1 broken) from a question that could not be asked (2:
//! no database, an unreadable `--key`).

use std::process::ExitCode;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::gateway::audit::{self, Report};

/// `kofu audit verify`'s arguments (the doc comments are its `--help`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AuditVerifyArgs {
    /// The PostgreSQL holding the audit log.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// An audit public key to accept checkpoints from (Ed25519, 32 bytes as base64url or 64 hexadecimal digits); repeatable. Without it, any key in audit_keys, which someone with write access to the database could replace: pin the published key.
    #[arg(long = "key")]
    pub keys: Vec<String>,
}

/// `kofu audit keys`'s arguments.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AuditKeysArgs {
    /// The PostgreSQL holding the audit log.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
}

/// Why the question could not be asked (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum AuditCommandError {
    #[error("DATABASE_URL (or --database-url) is not set")]
    NoDatabase,
    #[error("--database-url: {0}")]
    DatabaseUrl(String),
    #[error("--key: not a 32-byte key in base64url or hexadecimal")]
    Key,
    #[error("database: {0}")]
    Db(#[from] crate::gateway::db::DbError),
}

impl From<tokio_postgres::Error> for AuditCommandError {
    fn from(e: tokio_postgres::Error) -> Self {
        AuditCommandError::Db(e.into())
    }
}

/// A `--key` value: 64 hexadecimal digits or base64url (unpadded or padded).
pub fn parse_key(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..32)
            .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok())
            .collect::<Option<Vec<u8>>>()?
    } else {
        URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()?
    };
    bytes.try_into().ok()
}

async fn connect(url: Option<&str>) -> Result<tokio_postgres::Client, AuditCommandError> {
    let url = url.ok_or(AuditCommandError::NoDatabase)?;
    let config: tokio_postgres::Config = url
        .parse()
        .map_err(|e: tokio_postgres::Error| AuditCommandError::DatabaseUrl(e.to_string()))?;
    let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// The verdict on the log `args` names.
pub async fn verify(args: &AuditVerifyArgs) -> Result<Report, AuditCommandError> {
    let pinned = args
        .keys
        .iter()
        .map(|k| parse_key(k).ok_or(AuditCommandError::Key))
        .collect::<Result<Vec<_>, _>>()?;
    let client = connect(args.database_url.as_deref()).await?;
    Ok(audit::verify(&client, &pinned).await?)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Runs `kofu audit verify`: one JSON line, exit 0 intact, 1 broken, 2 usage.
pub fn run_verify(args: &AuditVerifyArgs) -> ExitCode {
    match runtime().block_on(verify(args)) {
        Ok(report) => {
            println!("{}", report.json());
            ExitCode::from(if report.valid { 0 } else { 1 })
        }
        Err(e) => {
            println!(
                "{}",
                serde_json::json!({"valid": false, "reason": "usage", "error": e.to_string()})
            );
            eprintln!("kofu: {e}");
            ExitCode::from(2)
        }
    }
}

/// Runs `kofu audit keys`: one JSON line per audit key (kid, base64url
/// public key, created, retired), for publishing and pinning.
pub fn run_keys(args: &AuditKeysArgs) -> ExitCode {
    let listed = runtime().block_on(async {
        let client = connect(args.database_url.as_deref()).await?;
        let rows = client
            .query(
                "SELECT kid, public_key, created_at, retired_at FROM audit_keys ORDER BY created_at",
                &[],
            )
            .await?;
        Ok::<_, AuditCommandError>(rows)
    });
    match listed {
        Ok(rows) => {
            let format = |t: time::OffsetDateTime| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .expect("timestamps format")
            };
            for row in rows {
                let public_key: Vec<u8> = row.get(1);
                println!(
                    "{}",
                    serde_json::json!({
                        "kid": row.get::<_, String>(0),
                        "algorithm": "Ed25519",
                        "public_key": URL_SAFE_NO_PAD.encode(public_key),
                        "created_at": format(row.get(2)),
                        "retired_at": row.get::<_, Option<time::OffsetDateTime>>(3).map(format),
                    })
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kofu: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_read_in_hex_or_base64url_and_nothing_else() {
        let key = [0xabu8; 32];
        assert_eq!(parse_key(&"ab".repeat(32)), Some(key));
        assert_eq!(parse_key(&URL_SAFE_NO_PAD.encode(key)), Some(key));
        assert_eq!(
            parse_key(&format!("{}=", URL_SAFE_NO_PAD.encode(key))),
            Some(key)
        );
        assert_eq!(parse_key(&"ab".repeat(31)), None);
        assert_eq!(parse_key("not a key"), None);
        assert_eq!(parse_key(&URL_SAFE_NO_PAD.encode([1u8; 33])), None);
    }
}
