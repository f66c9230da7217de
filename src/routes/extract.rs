//! Extractors: how a handler asks for the session and for who is logged in. HTTP vocabulary (a
//! redirect to `/login?returnTo=...`), so it lives with the routes, not with the session's storage.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use crate::error::AppError;
use crate::session::{AppSession, UserSession};

impl<S: Send + Sync> FromRequestParts<S> for AppSession {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, why)| AppError::internal(format!("session layer missing: {why}")))?;
        Ok(AppSession::new(session))
    }
}

/// The logged-in user, if any (never fails: a broken session reads as logged out).
pub struct MaybeUser(pub Option<UserSession>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = AppSession::from_request_parts(parts, state).await?;
        Ok(MaybeUser(session.user().await))
    }
}

/// A page that needs login: without one, the browser goes to `/login?returnTo=<this page>`.
pub struct RequireUser(pub UserSession);

impl<S: Send + Sync> FromRequestParts<S> for RequireUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let MaybeUser(user) = MaybeUser::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match user {
            Some(user) => Ok(RequireUser(user)),
            None => {
                let here = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let target: String = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("returnTo", here)
                    .finish();
                Err(Redirect::to(&format!("/login?{target}")).into_response())
            }
        }
    }
}
