//! The app: its pages beside the library's auth routes, inside the library's session layer. This
//! file is the whole wiring; each page is in `pages/`.

use std::sync::Arc;

use auth0_axum::Auth0;
use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;
use tower::ServiceBuilder;

use crate::pages::{api, call_api, errors, health, home};
use crate::server::static_files;

/// What every page can reach: the library's handle (its extractors find it through `FromRef`),
/// and one HTTP client for calling the API. Behind one `Arc`: the state is cloned a few times per
/// request, and each clone of a shared counter costs a contended atomic on every core.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub auth: Auth0,
    pub http: reqwest::Client,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl FromRef<AppState> for Auth0 {
    fn from_ref(state: &AppState) -> Auth0 {
        state.auth.clone()
    }
}

/// The router: pages and the auth routes (`/login`, `/callback`, `/logout`,
/// `/backchannel-logout`) share the session layer; errors render in this app's layout; probes
/// and static files need no session.
pub fn router(auth: Auth0) -> Router {
    let state = AppState(Arc::new(Shared {
        http: call_api::http_client(),
        auth,
    }));
    let pages = Router::new()
        .route("/", get(home::home))
        .route("/profile", get(home::profile))
        .route("/account", get(home::account))
        .route("/call-api", get(call_api::call_api))
        .route("/messages", get(call_api::messages))
        .route("/api/me", get(api::me))
        .route("/api/messages", get(api::messages))
        .merge(state.auth.router())
        .fallback(errors::not_found)
        // One `layer` call: each wraps every route once more, a box and a clone per request.
        .layer(
            ServiceBuilder::new()
                .layer(state.auth.session_layer())
                .layer(errors::InLayoutLayer::new(state.clone())),
        );
    Router::new()
        .merge(pages)
        .merge(health::router())
        .merge(static_files::router())
        .with_state(state)
}
