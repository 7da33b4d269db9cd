//! The state every request handler may use, built once by
//! [`crate::gateway::server::Gateway::start`]. Handlers depend on this
//! module, the listener depends on the handlers: no loop between them.

pub mod challenges;
pub mod rate_limit;

use std::sync::Arc;

use crate::gateway::config::Config;
use crate::gateway::db::Pool;
use crate::gateway::pipeline::Pipeline;
use crate::gateway::pki::CardVerifier;
use crate::gateway::pki::revocation::service::RevocationService;

/// What every request handler may use.
pub struct AppState {
    pub pool: Pool,
    pub config: Arc<Config>,
    pub cards: Arc<CardVerifier>,
    /// CRLs of the card CAs (fail closed: see `pki::revocation::service`).
    pub revocation: Arc<RevocationService>,
    pub pipeline: Pipeline,
    /// Challenges of sessions opened here (see [`challenges`]).
    pub challenges: challenges::ChallengeCache,
    /// The render stall, when the test hooks are on (`test_hooks`): the
    /// render workers render through it, `ops::test_hooks` sets it.
    pub render_stall: Option<Arc<crate::gateway::pipeline::workers::RenderStall>>,
    /// Public verification look-ups per source address (see `verify`).
    pub verify_limiter: rate_limit::AddressLimiter,
    /// Per copier, card, municipality and public source address (see [`rate_limit`]).
    pub limits: rate_limit::Limits,
}
