//! HTTP routes, one thin file each, and the extractors they share. `health` has its own router:
//! it is served outside the session layer.

pub mod api;
pub mod call_api;
pub mod callback;
pub mod extract;
pub mod health;
pub mod home;
pub mod login;
pub mod logout;

use axum::Router;
use axum::routing::get;

use axum::extract::{FromRequestParts, Request, State};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// `/call-api` asks for a token only when an API is configured (else it explains what to set).
async fn call_api_route(State(state): State<AppState>, request: Request) -> Response {
    let (mut parts, _) = request.into_parts();
    let user = match extract::MaybeUser::from_request_parts(&mut parts, &state).await {
        Ok(user) => user,
        Err(e) => return e.into_response(),
    };
    if state.config.app.audience.is_none() {
        return call_api::call_api(State(state), user).await;
    }
    match extract::AccessToken::from_request_parts(&mut parts, &state).await {
        Ok(token) => call_api::call_api_with_token(State(state), user, token).await,
        Err(response) => response,
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::home))
        .route("/profile", get(home::profile))
        .route("/account", get(home::account))
        .route("/login", get(login::login))
        .route("/callback", get(callback::callback))
        .route("/logout", get(logout::logout).post(logout::logout))
        .route("/call-api", get(call_api_route))
        .route("/messages", get(call_api::messages))
        .route("/api/me", get(api::me))
        .route("/api/messages", get(api::messages))
        .fallback(home::not_found)
}
