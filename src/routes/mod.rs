//! HTTP routes, one thin file each.

pub mod api;
pub mod callback;
pub mod home;
pub mod login;
pub mod logout;
pub mod pages;

use axum::Router;
use axum::routing::get;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::home))
        .route("/profile", get(home::profile))
        .route("/login", get(login::login))
        .route("/callback", get(callback::callback))
        .route("/logout", get(logout::logout).post(logout::logout))
        .route("/api/me", get(api::me))
}
