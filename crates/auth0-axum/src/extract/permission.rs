//! [`RequirePermission`]: a page for users whose token (or roles claim) grants a [`Permission`].

use std::marker::PhantomData;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::User;
use crate::Auth0;
use crate::error::AuthError;

/// A permission a page can require with [`RequirePermission`].
///
/// ```
/// use auth0_axum::{Permission, RequirePermission};
/// struct ReadMessages;
/// impl Permission for ReadMessages {
///     const NAME: &'static str = "read:messages";
/// }
/// async fn messages(RequirePermission(user, _): RequirePermission<ReadMessages>) -> String {
///     format!("messages for {}", user.name())
/// }
/// ```
pub trait Permission {
    /// As the API defines it in Auth0 (`read:messages`).
    const NAME: &'static str;
}

/// A page for users holding permission `P`: in the access token's `permissions` (or `scope`), or
/// in the ID token's `AUTH0_ROLES_CLAIM` when that is set. Otherwise a 403 page naming it; a
/// guest goes to log in.
pub struct RequirePermission<P: Permission>(pub User, pub PhantomData<P>);

impl<P: Permission> std::fmt::Debug for RequirePermission<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RequirePermission")
            .field(&P::NAME)
            .field(&self.0)
            .finish()
    }
}

impl<S, P> FromRequestParts<S> for RequirePermission<P>
where
    Auth0: FromRef<S>,
    S: Send + Sync,
    P: Permission,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let user = <User as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        let auth = Auth0::from_ref(state);
        let config = &auth.0.config;
        let in_roles = config.app.roles_claim.as_deref().is_some_and(|claim| {
            user.claims()
                .get(claim)
                .and_then(Value::as_array)
                .is_some_and(|roles| roles.iter().any(|r| r.as_str() == Some(P::NAME)))
        });
        if in_roles || user.permissions().iter().any(|p| p == P::NAME) {
            return Ok(RequirePermission(user, PhantomData));
        }
        let fix = if config.demo {
            format!(
                "In demo mode: set AUTH0_AUDIENCE=https://api.demo in .env, restart, and log in as Jane: the demo provider grants her (demo|jane) the {} permission, and nobody else.",
                P::NAME
            )
        } else {
            format!(
                "In the Auth0 dashboard, give your user (or a role of theirs) the {} permission of the API in AUTH0_AUDIENCE (User Management > Users > Permissions), with RBAC and \"Add Permissions in the Access Token\" on in the API's settings; then log in again.",
                P::NAME
            )
        };
        Err(AuthError::new(
            StatusCode::FORBIDDEN,
            "insufficient_permission",
            "You do not have permission to see this page",
            format!(
                "This page needs the {} permission, and your login does not carry it.",
                P::NAME
            ),
        )
        .check(fix)
        .into_response())
    }
}
