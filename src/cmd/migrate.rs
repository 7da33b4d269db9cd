//! `kofu migrate`: applies the `sql/` migrations to `DATABASE_URL`.

use crate::BoxError;
use crate::cmd::ConfigArg;

pub async fn run(args: &ConfigArg) -> Result<(), BoxError> {
    let (config, database) = args.load()?;
    let pool = crate::gateway::db::pool(database, 1, config.statement_timeout());
    let mut client = pool.get().await?;
    let applied = crate::gateway::db::migrate(&mut client).await?;
    println!(
        "{applied} migration(s) applied; schema at version {}",
        crate::gateway::db::MIGRATIONS.len()
    );
    Ok(())
}
