//! Extractors: how a handler asks for the session and for who is logged in. HTTP vocabulary (a
//! redirect to `/login?returnTo=...`), so it lives with the routes, not with the session's storage.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use crate::error::AppError;
use crate::oidc::RefreshError;
use crate::session::{AppSession, Capacity, UserSession};
use crate::state::AppState;

impl<S: Send + Sync> FromRequestParts<S> for AppSession {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, why)| AppError::internal(format!("session layer missing: {why}")))?;
        // The store's layer says how much a session may hold; without it, the tighter bound.
        let capacity = parts
            .extensions
            .get::<Capacity>()
            .copied()
            .unwrap_or(Capacity::Cookie);
        Ok(AppSession::new(session, capacity))
    }
}

/// The logged-in user, if any (a broken cookie reads as logged out; a session store that does
/// not answer is a 503 page naming it).
pub struct MaybeUser(pub Option<UserSession>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = AppSession::from_request_parts(parts, state).await?;
        Ok(MaybeUser(session.user().await?))
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

/// The user's access token for `AUTH0_AUDIENCE`, valid for at least another minute: refreshed
/// with the refresh token first when it expires within 60 s (rotation: the new refresh token is
/// kept; concurrent requests share one refresh). A refused refresh token (revoked, expired) ends
/// the session and sends the browser to log in again; without a refresh token, the browser goes
/// through a silent login (`prompt=none`) and back. An expired token is never handed out.
pub struct AccessToken(pub String);

/// Seconds before expiry at which a token is refreshed.
pub const REFRESH_BEFORE_SECS: i64 = 60;

impl FromRequestParts<AppState> for AccessToken {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let session = AppSession::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Some(mut user) = session
            .user()
            .await
            .map_err(|e| AppError::from(e).into_response())?
        else {
            return Err(to_login(parts, None));
        };
        let now = crate::primitives::unix_now();
        let fresh = user
            .token_expires_at
            .is_some_and(|at| at > now.saturating_add(REFRESH_BEFORE_SECS));
        if let (Some(token), true) = (&user.access_token, fresh) {
            return Ok(AccessToken(token.clone()));
        }
        let Some(refresh_token) = user.refresh_token.clone() else {
            return Err(to_silent_login(parts));
        };
        match state.oidc.refresh(&refresh_token).await {
            Ok(tokens) => {
                user.access_token = Some(tokens.access_token.clone());
                if let Some(rotated) = tokens.refresh_token {
                    user.refresh_token = Some(rotated);
                }
                user.token_expires_at = tokens
                    .expires_in
                    .map(|s| now.saturating_add(s.clamp(0, crate::oidc::MAX_EXPIRES_IN)));
                user.permissions = tokens.permissions;
                session
                    .replace_user(&user)
                    .await
                    .map_err(|e| AppError::from(e).into_response())?;
                Ok(AccessToken(tokens.access_token))
            }
            Err(RefreshError::Refused(why)) => {
                tracing::info!(reason = %why, "the refresh token was refused; logging out to log in again");
                if let Err(err) = session.end().await {
                    return Err(AppError::from(err).into_response());
                }
                Err(to_login(parts, None))
            }
            Err(RefreshError::Unavailable(why)) => Err(AppError::new(
                axum::http::StatusCode::BAD_GATEWAY,
                "token_refresh_failed",
                "Your access token could not be renewed",
                "The provider did not answer the refresh of your access token, so the API was not called (with an expired token it would refuse anyway).",
            )
            .check("Try again in a moment: you are still logged in.")
            .log_detail(why)
            .into_response()),
        }
    }
}

/// Through a silent login and back to this page.
fn to_silent_login(parts: &Parts) -> Response {
    let here = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let target: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("prompt", "none")
        .append_pair("returnTo", here)
        .finish();
    Redirect::to(&format!("/login?{target}")).into_response()
}

/// A permission a page can require: `RequirePermission<ReadMessages>`.
pub trait Permission {
    const NAME: &'static str;
}

/// Auth0's RBAC example permission.
pub struct ReadMessages;

impl Permission for ReadMessages {
    const NAME: &'static str = "read:messages";
}

/// A page for users holding permission `P`: in the access token's `permissions` (or `scope`), or
/// in the ID token's `AUTH0_ROLES_CLAIM` when that is set. Otherwise a 403 page naming it; no
/// login, the login page.
pub struct RequirePermission<P: Permission>(pub UserSession, pub std::marker::PhantomData<P>);

impl<P: Permission> FromRequestParts<AppState> for RequirePermission<P> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let RequireUser(user) = RequireUser::from_request_parts(parts, state).await?;
        let in_roles = state
            .config
            .app
            .roles_claim
            .as_deref()
            .is_some_and(|claim| {
                user.profile
                    .get(claim)
                    .and_then(serde_json::Value::as_array)
                    .is_some_and(|roles| roles.iter().any(|r| r.as_str() == Some(P::NAME)))
            });
        if in_roles || user.permissions.iter().any(|p| p == P::NAME) {
            return Ok(RequirePermission(user, std::marker::PhantomData));
        }
        Err(AppError::new(
            axum::http::StatusCode::FORBIDDEN,
            "insufficient_permission",
            "You do not have permission to see this page",
            format!("This page needs the {} permission, and your login does not carry it.", P::NAME),
        )
        .check(format!("In the Auth0 dashboard, give your user (or a role of theirs) the {} permission of the API in AUTH0_AUDIENCE (User Management > Users > Permissions), with RBAC and \"Add Permissions in the Access Token\" on in the API's settings; then log in again.", P::NAME))
        .into_response())
    }
}
