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
            None => Err(to_login(parts, None)),
        }
    }
}

/// A page that needs a recent login (step-up): the user must have authenticated at the provider
/// within `MAX_AGE` seconds, else the browser goes to `/login?max_age=MAX_AGE&returnTo=<here>`,
/// and `/callback` refuses an ID token whose `auth_time` is older. `acr`/`amr` are in the session
/// for pages that need a stronger login too.
pub struct RequireRecentLogin<const MAX_AGE: u32>(pub UserSession);

impl<S: Send + Sync, const MAX_AGE: u32> FromRequestParts<S> for RequireRecentLogin<MAX_AGE> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let MaybeUser(user) = MaybeUser::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let now = crate::primitives::unix_now();
        match user {
            Some(user) if user.authenticated_ago(now) <= i64::from(MAX_AGE) => {
                Ok(RequireRecentLogin(user))
            }
            _ => Err(to_login(parts, Some(MAX_AGE))),
        }
    }
}

/// To `/login`, coming back to this page (`returnTo`), with `max_age` when a recent login is needed.
fn to_login(parts: &Parts, max_age: Option<u32>) -> Response {
    let here = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let mut target = url::form_urlencoded::Serializer::new(String::new());
    if let Some(max_age) = max_age {
        target.append_pair("max_age", &max_age.to_string());
    }
    target.append_pair("returnTo", here);
    Redirect::to(&format!("/login?{}", target.finish())).into_response()
}
