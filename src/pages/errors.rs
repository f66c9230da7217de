//! Errors in this app's layout: the library answers an `AuthError` with its own plain page and
//! the error beside it; this layer takes the error back and renders it with the app's nav. Also
//! the 404 page.

use auth0_axum::{AuthError, AuthSession};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::views::{ErrorPage, Layout};
use crate::app::AppState;

/// Renders any `AuthError` a handler, extractor or auth route returned in this app's layout.
pub async fn in_layout(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let session = AuthSession::from_request_parts(&mut parts, &state)
        .await
        .ok();
    let mut response = next.run(Request::from_parts(parts, body)).await;
    let Some(error) = AuthError::take_from(&mut response) else {
        return response;
    };
    // The nav shows who is logged in; a store that does not answer is not asked twice.
    let user = match session {
        Some(session) if error.code() != "session_store_unavailable" => {
            session.user().await.ok().flatten()
        }
        _ => None,
    };
    let status = error.status();
    let page = ErrorPage {
        layout: Layout::new(&state, user.as_ref()),
        error,
    };
    (status, page).into_response()
}

/// Any path no route serves.
pub async fn not_found() -> AuthError {
    AuthError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "This page does not exist",
        "There is nothing at this address. It may have moved, or the link may be mistyped.",
    )
}
