//! `/`: the quickstart's home page; `/profile`: the same profile, behind login; `/account`: an
//! example of a page behind a recent login (step-up); and the 404 page.

use axum::extract::State;
use axum::response::IntoResponse;

use axum::http::StatusCode;

use crate::error::AppError;
use crate::primitives::unix_now;
use crate::routes::extract::{MaybeUser, RequireRecentLogin, RequireUser};
use crate::state::AppState;
use crate::views::{AccountPage, HomePage, Layout, ProfilePage, ProfileView};

/// How recent a login `/account` asks for, in seconds.
pub const ACCOUNT_MAX_AGE: u32 = 600;

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

pub async fn account(
    State(state): State<AppState>,
    RequireRecentLogin(user): RequireRecentLogin<ACCOUNT_MAX_AGE>,
) -> impl IntoResponse {
    AccountPage {
        layout: Layout::new(&state, Some(&user)),
        authenticated_ago: user.authenticated_ago(unix_now()),
        max_age: ACCOUNT_MAX_AGE,
        acr: user.acr.clone().unwrap_or_else(|| "(none)".into()),
        amr: if user.amr.is_empty() {
            "(none)".into()
        } else {
            user.amr.join(", ")
        },
    }
}

/// Any path no route serves: the error page (with the nav), status 404.
pub async fn not_found() -> AppError {
    AppError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "This page does not exist",
        "There is nothing at this address. It may have moved, or the link may be mistyped.",
    )
}
