//! HTTP routes, one thin file each, and the extractors they share. `health` and
//! `backchannel_logout` have their own routers: they are served outside the session layer.

pub mod api;
pub mod backchannel_logout;
pub mod call_api;
pub mod callback;
pub mod extract;
pub mod health;
pub mod home;
pub mod login;
pub mod logout;

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::home))
        .route("/profile", get(home::profile))
        .route("/account", get(home::account))
        .route("/login", get(login::login))
        .route("/callback", get(callback::callback))
        .route("/logout", get(logout::logout).post(logout::logout))
        .route("/call-api", get(call_api::call_api))
        .route("/messages", get(call_api::messages))
        .route("/api/me", get(api::me))
        .route("/api/messages", get(api::messages))
        .fallback(home::not_found)
}
