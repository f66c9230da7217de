//! `/`: the quickstart's home page; `/profile`: the same profile, behind login; `/account`: a
//! page behind a recent login (step-up).

use auth0_axum::{RecentLogin, User};
use axum::extract::State;
use axum::response::IntoResponse;

use super::views::{AccountPage, HomePage, Layout, ProfilePage, ProfileView};
use crate::app::AppState;

/// How recent a login `/account` asks for, in seconds.
pub const ACCOUNT_MAX_AGE: u32 = 600;

/// The hot path: the session layer opened the cookie; no network, no signatures (in cookie mode).
pub async fn home(State(state): State<AppState>, user: Option<User>) -> impl IntoResponse {
    HomePage {
        layout: Layout::new(&state, user.as_ref()),
        user: user.as_ref().map(ProfileView::of),
    }
}

/// A guest is sent to log in first, and comes back here.
pub async fn profile(State(state): State<AppState>, user: User) -> impl IntoResponse {
    ProfilePage {
        layout: Layout::new(&state, Some(&user)),
        user: ProfileView::of(&user),
    }
}

pub async fn account(
    State(state): State<AppState>,
    RecentLogin(user): RecentLogin<ACCOUNT_MAX_AGE>,
) -> impl IntoResponse {
    let or_none = |s: String| if s.is_empty() { "(none)".into() } else { s };
    AccountPage {
        layout: Layout::new(&state, Some(&user)),
        authenticated_ago: user.authenticated_ago(),
        max_age: ACCOUNT_MAX_AGE,
        acr: or_none(user.acr().unwrap_or_default().to_string()),
        amr: or_none(user.amr().join(", ")),
    }
}
