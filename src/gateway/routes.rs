//! The route table: every route of every listener, once — its listener,
//! method, path template and handler. Dispatch, the `route` label of logs
//! and metrics, the `405`/`404` answers and the OpenAPI cross-check
//! (`src/openapi.yaml` must list exactly the HTTPS listeners' routes) all
//! come from [`ROUTES`].
//!
//! Rule: logs and metrics are labelled with the template, never the raw
//! path, so no identifier ends up in them.

use std::future::Future;
use std::pin::Pin;

use hyper::Method;
use hyper::header::{ALLOW, HeaderValue};

use crate::gateway::admin;
use crate::gateway::copier;
use crate::gateway::error::{Problem, RequestError};
use crate::gateway::http::{self, ApiRequest, ApiResult};
use crate::gateway::ops;
use crate::gateway::public;
use crate::gateway::state::AppState;
use crate::gateway::verify;

/// Which listener serves a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    /// The copier API (store-network mutual TLS). It serves the public
    /// endpoints too, to anyone when no `public_listen` is configured.
    Copier,
    /// The public endpoints (`/healthz`, `/readyz`, the spec, the keys and
    /// verification), with no client certificate: their own listener when
    /// `public_listen` is configured.
    Public,
    /// The administration API (operator mutual TLS).
    Admin,
    /// Metrics, dashboard and test hooks (plain HTTP on a private address;
    /// not part of the OpenAPI description).
    Ops,
}

impl Listener {
    /// Whether `src/openapi.yaml` describes this listener's routes.
    pub const fn in_openapi(self) -> bool {
        !matches!(self, Listener::Ops)
    }

    /// Whether this listener serves the routes of `routes`: each its own,
    /// and the copier listener the public ones as well.
    pub fn serves(self, routes: Listener) -> bool {
        self == routes || (self == Listener::Copier && routes == Listener::Public)
    }

    /// The `listener` label of the connection metrics.
    pub const fn label(self) -> &'static str {
        match self {
            Listener::Copier => "copier",
            Listener::Public => "public",
            Listener::Admin => "admin",
            Listener::Ops => "ops",
        }
    }
}

/// What a handler returns: its future, boxed so the table can hold it.
pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = ApiResult> + Send + 'a>>;

/// A handler: the shared state, the request, and the `{id}` of its template
/// (empty when the template has none).
pub type Handler = for<'a> fn(&'a AppState, &'a ApiRequest, &'a str) -> HandlerFuture<'a>;

/// One route.
pub struct Route {
    pub listener: Listener,
    pub method: Method,
    /// The path with `{id}` for its one variable segment, e.g. `/v1/orders/{id}/document`.
    pub template: &'static str,
    pub handler: Handler,
}

/// Wraps an async handler `fn(&AppState, &ApiRequest[, &str])` as a [`Handler`].
macro_rules! handler {
    ($f:path) => {{
        fn boxed<'a>(s: &'a AppState, r: &'a ApiRequest, _id: &'a str) -> HandlerFuture<'a> {
            Box::pin($f(s, r))
        }
        boxed as Handler
    }};
    ($f:path, id) => {{
        fn boxed<'a>(s: &'a AppState, r: &'a ApiRequest, id: &'a str) -> HandlerFuture<'a> {
            Box::pin($f(s, r, id))
        }
        boxed as Handler
    }};
}

const fn route(
    listener: Listener,
    method: Method,
    template: &'static str,
    handler: Handler,
) -> Route {
    Route {
        listener,
        method,
        template,
        handler,
    }
}

/// Every route kofu serves.
pub static ROUTES: [Route; 34] = {
    use Listener::{Admin, Copier, Ops, Public};
    [
        route(Public, Method::GET, "/healthz", handler!(public::healthz)),
        route(Public, Method::GET, "/readyz", handler!(public::readyz)),
        route(
            Public,
            Method::GET,
            "/v1/openapi.yaml",
            handler!(public::openapi),
        ),
        route(Public, Method::GET, "/v1/keys", handler!(verify::keys)),
        route(
            Public,
            Method::GET,
            "/v1/verify/{id}",
            handler!(verify::verify, id),
        ),
        route(Public, Method::GET, "/verify", handler!(verify::form)),
        route(
            Public,
            Method::GET,
            "/verify/{id}",
            handler!(verify::code_page, id),
        ),
        route(
            Copier,
            Method::POST,
            "/v1/sessions",
            handler!(copier::open_session),
        ),
        route(
            Copier,
            Method::POST,
            "/v1/sessions/{id}/card",
            handler!(copier::submit_card, id),
        ),
        route(
            Copier,
            Method::POST,
            "/v1/sessions/{id}/orders",
            handler!(copier::place_order, id),
        ),
        route(
            Copier,
            Method::POST,
            "/v1/sessions/{id}/domicile-registrations",
            handler!(copier::register_domicile, id),
        ),
        route(
            Copier,
            Method::GET,
            "/v1/orders/{id}/document",
            handler!(copier::fetch_document, id),
        ),
        route(
            Copier,
            Method::POST,
            "/v1/orders/{id}/printed",
            handler!(copier::confirm_printed, id),
        ),
        route(
            Copier,
            Method::POST,
            "/v1/orders/{id}/failed",
            handler!(copier::report_failed, id),
        ),
        route(
            Admin,
            Method::POST,
            "/v1/admin/certificate-events",
            handler!(admin::certificate_events),
        ),
        route(
            Admin,
            Method::POST,
            "/v1/admin/municipalities/{id}",
            handler!(admin::municipalities::create, id),
        ),
        route(
            Admin,
            Method::GET,
            "/v1/admin/municipalities/{id}",
            handler!(admin::municipalities::show, id),
        ),
        route(
            Admin,
            Method::PUT,
            "/v1/admin/municipalities/{id}/settings",
            handler!(admin::municipalities::update, id),
        ),
        route(
            Admin,
            Method::POST,
            admin::IMPORTS_ROUTE,
            handler!(admin::municipalities::import, id),
        ),
        route(
            Admin,
            Method::POST,
            admin::CHANGES_ROUTE,
            handler!(admin::municipalities::changes, id),
        ),
        route(
            Admin,
            Method::GET,
            "/v1/admin/municipalities/{id}/settlement",
            handler!(admin::municipalities::settlement, id),
        ),
        route(
            Admin,
            Method::GET,
            "/v1/admin/municipalities/{id}/domicile-registrations",
            handler!(admin::municipalities::domicile_registrations, id),
        ),
        route(
            Admin,
            Method::POST,
            "/v1/admin/domicile-registrations/{id}/approve",
            handler!(admin::municipalities::approve_domicile, id),
        ),
        route(
            Admin,
            Method::POST,
            "/v1/admin/domicile-registrations/{id}/reject",
            handler!(admin::municipalities::reject_domicile, id),
        ),
        route(
            Admin,
            Method::GET,
            "/v1/admin/municipalities/{id}/check",
            handler!(admin::municipalities::check, id),
        ),
        route(
            Admin,
            Method::POST,
            "/v1/admin/municipalities/{id}/go-live",
            handler!(admin::municipalities::go_live, id),
        ),
        route(
            Admin,
            Method::GET,
            "/v1/admin/municipalities/{id}/signing-keys",
            handler!(admin::signing_keys, id),
        ),
        route(
            Admin,
            Method::POST,
            "/v1/admin/municipalities/{id}/signing-keys",
            handler!(admin::rotate_signing_key, id),
        ),
        route(
            Admin,
            Method::POST,
            "/v1/admin/signing-keys/{id}/revoke",
            handler!(admin::revoke_signing_key, id),
        ),
        route(
            Admin,
            Method::POST,
            "/v1/admin/documents/{id}/withdraw",
            handler!(admin::withdraw_document, id),
        ),
        route(Ops, Method::GET, "/metrics", handler!(ops::metrics)),
        route(Ops, Method::GET, "/dashboard", handler!(ops::dashboard)),
        route(
            Ops,
            Method::GET,
            "/dashboard/state.json",
            handler!(ops::dashboard_state),
        ),
        route(
            Ops,
            Method::PUT,
            "/test/render-delay-ms",
            handler!(ops::test_hooks::set_render_delay),
        ),
    ]
};

/// What a path resolves to on a listener.
pub enum Resolved<'p> {
    /// The route, and the `{id}` segment (empty when none).
    Route(&'static Route, &'p str),
    /// Some route has this path, with other methods (they go in `Allow`).
    MethodNotAllowed,
    NotFound,
}

impl Resolved<'_> {
    /// The label of logs and metrics: the template, or `other`.
    pub fn label(&self) -> &'static str {
        match self {
            Resolved::Route(route, _) => route.template,
            _ => "other",
        }
    }
}

/// The route `method path` takes on `listener`.
pub fn resolve<'p>(listener: Listener, method: &Method, path: &'p str) -> Resolved<'p> {
    let mut path_matches = false;
    for route in ROUTES.iter().filter(|r| listener.serves(r.listener)) {
        if let Some(id) = matches(route.template, path) {
            if route.method == *method {
                return Resolved::Route(route, id);
            }
            path_matches = true;
        }
    }
    if path_matches {
        Resolved::MethodNotAllowed
    } else {
        Resolved::NotFound
    }
}

/// Runs the route `req` resolves to on `listener`; `405`/`404` otherwise.
/// An HTTPS listener's `405` names the path's methods in `Allow` (RFC 9110
/// §15.5.6); the operations listener turns every refusal into its plain 404.
pub async fn dispatch(listener: Listener, state: &AppState, req: &ApiRequest) -> ApiResult {
    match resolve(listener, &req.method, &req.path) {
        Resolved::Route(route, id) => (route.handler)(state, req, id).await,
        Resolved::MethodNotAllowed if listener.in_openapi() => {
            let mut response = http::problem(&RequestError::MethodNotAllowed.into(), req.lang);
            let allow = HeaderValue::from_str(&allowed_methods(listener, &req.path))
                .expect("method names are ASCII");
            response.headers_mut().insert(ALLOW, allow);
            Ok(response)
        }
        Resolved::MethodNotAllowed => Err(Problem::from(RequestError::MethodNotAllowed)),
        Resolved::NotFound => Err(Problem::from(RequestError::NotFound)),
    }
}

/// The methods `listener` takes on `path`, for `Allow`: `GET, POST`.
fn allowed_methods(listener: Listener, path: &str) -> String {
    let mut methods: Vec<&str> = ROUTES
        .iter()
        .filter(|r| listener.serves(r.listener) && matches(r.template, path).is_some())
        .map(|r| r.method.as_str())
        .collect();
    methods.sort_unstable();
    methods.dedup();
    methods.join(", ")
}

/// `Some(id)` when `path` fits `template` (`{id}` matches one non-empty
/// segment; `""` when the template has none). Leading and trailing slashes
/// are not significant, as before the table existed.
fn matches<'p>(template: &str, path: &'p str) -> Option<&'p str> {
    let mut id = "";
    let mut wanted = template.trim_matches('/').split('/');
    let mut given = path.trim_matches('/').split('/');
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return Some(id),
            (Some("{id}"), Some(segment)) if !segment.is_empty() => id = segment,
            (Some(w), Some(g)) if w == g => {}
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_matches_its_paths_and_captures_the_id() {
        assert_eq!(matches("/v1/sessions", "/v1/sessions"), Some(""));
        assert_eq!(
            matches("/v1/sessions/{id}/card", "/v1/sessions/abc/card"),
            Some("abc")
        );
        assert_eq!(
            matches("/v1/sessions/{id}/card", "/v1/sessions//card"),
            None
        );
        assert_eq!(
            matches("/v1/sessions/{id}/card", "/v1/sessions/abc/card/x"),
            None
        );
        assert_eq!(matches("/v1/sessions", "/v1/sessions/abc"), None);
        assert_eq!(matches("/healthz", "/healthz/"), Some(""));
    }

    #[test]
    fn each_listener_resolves_only_its_own_routes() {
        let label = |l, m: &Method, p| resolve(l, m, p).label();
        assert_eq!(
            label(Listener::Copier, &Method::POST, "/v1/sessions/x/card"),
            "/v1/sessions/{id}/card"
        );
        assert_eq!(
            label(Listener::Admin, &Method::POST, "/v1/sessions/x/card"),
            "other"
        );
        assert_eq!(
            label(
                Listener::Copier,
                &Method::POST,
                "/v1/admin/certificate-events"
            ),
            "other"
        );
        assert_eq!(label(Listener::Ops, &Method::GET, "/metrics"), "/metrics");
        assert!(matches!(
            resolve(Listener::Copier, &Method::GET, "/v1/sessions"),
            Resolved::MethodNotAllowed
        ));
        assert!(matches!(
            resolve(Listener::Copier, &Method::GET, "/v1/nothing"),
            Resolved::NotFound
        ));
    }

    #[test]
    fn a_method_not_allowed_names_the_methods_its_path_takes() {
        assert_eq!(
            allowed_methods(Listener::Admin, "/v1/admin/municipalities/139998"),
            "GET, POST"
        );
        assert_eq!(allowed_methods(Listener::Copier, "/v1/sessions"), "POST");
        assert_eq!(
            allowed_methods(Listener::Copier, "/v1/orders/x/document"),
            "GET"
        );
        assert_eq!(allowed_methods(Listener::Copier, "/v1/nothing"), "");
    }

    /// `(method, path)` of every operation `src/openapi.yaml` describes:
    /// the path keys two spaces in under `paths:`, the methods four.
    fn openapi_operations() -> Vec<(String, String)> {
        let mut operations = Vec::new();
        let mut path = None;
        let mut in_paths = false;
        for line in crate::gateway::public::OPENAPI.lines() {
            if !line.starts_with(' ') {
                in_paths = line.trim_end() == "paths:";
                continue;
            }
            if !in_paths {
                continue;
            }
            if let Some(key) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':'))
                && key.starts_with('/')
            {
                path = Some(key.to_owned());
            } else if let Some(rest) = line.strip_prefix("    ")
                && let Some((method, _)) = rest.split_once(':')
                && ["get", "put", "post", "delete", "patch"].contains(&method)
            {
                let path = path.clone().expect("a method under a path");
                operations.push((method.to_ascii_uppercase(), path));
            }
        }
        operations.sort();
        operations
    }

    #[test]
    fn the_openapi_description_lists_exactly_the_https_routes() {
        let mut table: Vec<(String, String)> = ROUTES
            .iter()
            .filter(|r| r.listener.in_openapi())
            .map(|r| (r.method.to_string(), r.template.to_owned()))
            .collect();
        table.sort();
        let spec = openapi_operations();
        assert!(
            spec.len() >= 10,
            "the spec parser found too little: {spec:?}"
        );
        let missing_in_table: Vec<_> = spec.iter().filter(|op| !table.contains(op)).collect();
        let missing_in_spec: Vec<_> = table.iter().filter(|op| !spec.contains(op)).collect();
        assert!(
            missing_in_table.is_empty() && missing_in_spec.is_empty(),
            "in src/openapi.yaml but not the route table: {missing_in_table:?}; \
             in the route table but not src/openapi.yaml: {missing_in_spec:?}"
        );
    }

    #[test]
    fn no_two_routes_of_a_listener_overlap() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                let probe = a.template.replace("{id}", "x");
                assert!(
                    !((a.listener.serves(b.listener) || b.listener.serves(a.listener))
                        && a.method == b.method
                        && matches(b.template, &probe).is_some()),
                    "{} and {} overlap",
                    a.template,
                    b.template
                );
            }
        }
    }
}
