//! The settings of each municipality as this process last read them, by
//! version: a version never changes once written, so a cached one is never
//! stale, and a new version is read the first time an order or a menu
//! names it (its number comes with the rows they read anyway).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::Settings;
use crate::gateway::db::{Cached, DbError};

#[derive(Default)]
pub struct SettingsCache {
    by_code: RwLock<HashMap<String, (i32, Arc<Settings>)>>,
}

impl SettingsCache {
    /// Version `version` of `code`'s settings.
    pub async fn get(
        &self,
        client: &impl Cached,
        code: &str,
        version: i32,
    ) -> Result<Arc<Settings>, DbError> {
        if let Some((v, s)) = self
            .by_code
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(code)
            && *v == version
        {
            return Ok(s.clone());
        }
        let row = client
            .query_opt_cached(
                "SELECT settings FROM municipality_settings WHERE municipality_code = $1 AND version = $2",
                &[&code, &version],
            )
            .await?
            .ok_or(DbError::Data("a municipality's settings version is missing"))?;
        let settings: Settings = serde_json::from_value(row.get(0))
            .map_err(|_| DbError::Data("stored municipality settings do not parse"))?;
        let settings = Arc::new(settings);
        let mut map = self.by_code.write().unwrap_or_else(|p| p.into_inner());
        // Keep the newest version seen.
        if map.get(code).is_none_or(|(v, _)| *v <= version) {
            map.insert(code.to_owned(), (version, settings.clone()));
        }
        Ok(settings)
    }
}
