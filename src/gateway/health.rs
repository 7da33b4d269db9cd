//! The service's state as an operator needs it: healthy, degraded or
//! failing closed, and why. `/readyz` answers with it (503 unless ready) and
//! the dashboard shows it at the top.
//!
//! Rule: kofu fails closed. Without the database or current revocation data
//! it refuses every card rather than guess, so either one missing is
//! `failing_closed`; some render workers gone is `degraded` (orders still
//! flow, slower), all of them gone is `failing_closed`. Details name counts
//! and states, never a resident, a card or an order.

use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;

use crate::gateway::db::Checkout;
use crate::gateway::state::AppState;

/// How long the database may take to answer the check.
const DATABASE_TIMEOUT: Duration = Duration::from_secs(1);

/// The service state, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceState {
    FailingClosed,
    Degraded,
    Healthy,
}

/// One check and what it found.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// `database`, `revocation_data` or `render_workers`.
    pub name: &'static str,
    /// What this check alone makes of the service.
    pub state: ServiceState,
    pub detail: String,
}

/// The whole answer.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    /// Ready to serve copiers: nothing is failing closed.
    pub ready: bool,
    /// The worst of the checks'.
    pub state: ServiceState,
    pub checks: Vec<Check>,
}

/// Runs every check (the database's within [`DATABASE_TIMEOUT`]).
pub async fn assess(state: &AppState) -> Health {
    let database = async {
        let client = state.pool.checkout().await.ok()?;
        client.query_one("SELECT 1", &[]).await.ok()
    };
    let database = match tokio::time::timeout(DATABASE_TIMEOUT, database).await {
        Ok(Some(_)) => check("database", ServiceState::Healthy, "answers"),
        Ok(None) => check(
            "database",
            ServiceState::FailingClosed,
            "unreachable: every card is refused",
        ),
        Err(_) => check(
            "database",
            ServiceState::FailingClosed,
            "no answer within 1 s: every card is refused",
        ),
    };
    let now = OffsetDateTime::now_utc();
    let ages = state.revocation.data_ages(now);
    let revocation = if state.revocation.any_stale(now) {
        check(
            "revocation_data",
            ServiceState::FailingClosed,
            format!(
                "some of the {} card CAs have no current CRL: their cards are refused",
                ages.len()
            ),
        )
    } else {
        let oldest = ages.iter().map(|(_, age)| *age).fold(0.0, f64::max);
        check(
            "revocation_data",
            ServiceState::Healthy,
            format!(
                "current for all {} card CAs, the oldest issued {:.0} s ago",
                ages.len(),
                oldest
            ),
        )
    };
    let (running, started) = state.pipeline.workers_running();
    let workers = check(
        "render_workers",
        match running {
            0 => ServiceState::FailingClosed,
            n if n < started => ServiceState::Degraded,
            _ => ServiceState::Healthy,
        },
        format!("{running} of {started} running"),
    );
    let checks = vec![database, revocation, workers];
    let worst = checks
        .iter()
        .map(|c| c.state)
        .min()
        .unwrap_or(ServiceState::Healthy);
    Health {
        ready: worst != ServiceState::FailingClosed,
        state: worst,
        checks,
    }
}

impl Health {
    /// The database check passed (the dashboard then reads its figures).
    pub fn database_answers(&self) -> bool {
        self.checks
            .iter()
            .any(|c| c.name == "database" && c.state == ServiceState::Healthy)
    }
}

fn check(name: &'static str, state: ServiceState, detail: impl Into<String>) -> Check {
    Check {
        name,
        state,
        detail: detail.into(),
    }
}
