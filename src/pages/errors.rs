//! The library's pages in this app's layout: it answers an `AuthError` (and the "Log out?"
//! question) with a plain page of its own and keeps what it was beside it; this layer takes that
//! back and renders it with the app's nav. Also the 404 page.

use auth0_axum::{AuthError, AuthSession, LogoutPrompt};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::views::{ErrorPage, Layout, LogoutConfirmPage};
use crate::app::AppState;

/// Renders any `AuthError` a handler, extractor or auth route returned in this app's layout.
pub async fn in_layout(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let session = AuthSession::from_request_parts(&mut parts, &state)
        .await
        .ok();
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if let Some(prompt) = LogoutPrompt::take_from(&mut response) {
        let user = match session {
            Some(session) => session.user().await.ok().flatten(),
            None => None,
        };
        let layout = Layout::new(&state, user.as_ref());
        let action = prompt.action().to_string();
        return LogoutConfirmPage { layout, action }.into_response();
    }
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
    let retry_after = error.retry_after_secs();
    let page = ErrorPage {
        layout: Layout::new(&state, user.as_ref()),
        error,
    };
    let mut response = (status, page).into_response();
    if let Some(secs) = retry_after {
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, secs.into());
    }
    response
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
