//! Test hooks (`test_hooks = true`, `KOFU_TEST_HOOKS`): a render stall the
//! fault runs set on the operations listener (`PUT /test/render-delay-ms`).
//!
//! Rule: the stall ([`crate::gateway::pipeline::workers::RenderStall`])
//! reaches the render workers only as the render step the gateway injects
//! when the hooks are on; without them there is no stall at all, and the
//! route answers 404.

use hyper::StatusCode;

use crate::gateway::http::{self, ApiRequest, ApiResult};
use crate::gateway::state::AppState;

/// Largest body the hook reads (a number of milliseconds).
const MAX_BODY: usize = 64;

/// `PUT /test/render-delay-ms` with a number of milliseconds (0: off).
pub async fn set_render_delay(state: &AppState, req: &ApiRequest) -> ApiResult {
    let Some(stall) = &state.render_stall else {
        return Ok(http::text(
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found\n",
        ));
    };
    if req.body.len() > MAX_BODY {
        return Ok(http::text(
            StatusCode::PAYLOAD_TOO_LARGE,
            "text/plain",
            "too large\n",
        ));
    }
    Ok(
        match std::str::from_utf8(&req.body)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
        {
            Some(ms) => {
                stall.set_delay_ms(ms);
                tracing::warn!(ms, "test hook: render delay set");
                http::text(StatusCode::OK, "text/plain", format!("{ms}\n"))
            }
            None => http::text(
                StatusCode::BAD_REQUEST,
                "text/plain",
                "expected milliseconds\n",
            ),
        },
    )
}
