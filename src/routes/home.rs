//! `/`: the quickstart's home page; `/profile`: the same profile, behind login.

use axum::extract::State;
use axum::response::IntoResponse;

use crate::routes::extract::{MaybeUser, RequireUser};
use crate::state::AppState;
use crate::views::{HomePage, Layout, ProfilePage, ProfileView};

/// The hot path: one cookie decryption (done by the session layer), no network, no signatures.
pub async fn home(State(state): State<AppState>, MaybeUser(user): MaybeUser) -> impl IntoResponse {
    HomePage {
        layout: Layout::new(&state, user.as_ref()),
        user: user.as_ref().map(ProfileView::of),
    }
}

pub async fn profile(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
) -> impl IntoResponse {
    ProfilePage {
        layout: Layout::new(&state, Some(&user)),
        user: ProfileView::of(&user),
    }
}
