//! Extractors: how a handler asks who is logged in. Each works in any app whose state holds an
//! [`Auth0`] (`Auth0: FromRef<S>`), inside [`Auth0::session_layer`].
//!
//! | extractor | a guest gets | a logged-in user without it gets |
//! |---|---|---|
//! | [`User`] | `/login?returnTo=<this page>` | - |
//! | `Option<User>` | `None` | - |
//! | [`RecentLogin<MAX_AGE>`] | `/login?...` | `/login?max_age=MAX_AGE&...` |
//! | [`RequireMfa`] | `/login?...` | `/login?acr_values=<MFA policy>&...` |
//! | [`RequirePermission<P>`] | `/login?...` | 403 page naming `P` |
//! | [`AccessToken`] | `/login?...` | a refresh, or a silent login |
//! | [`AuthSession`] | the session, to read or end | |
//!
//! A session store that does not answer is a 503 page naming it, for every one of them.

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Map, Value};
use tower_sessions::Session;

use crate::Auth0;

mod access_token;
mod permission;

use crate::error::AuthError;
use crate::primitives::unix_now;
use crate::session::{AppSession, SessionRules, UserSession};
use crate::state::AppState;
pub use access_token::{AccessToken, ApiTokens};
pub use permission::{Permission, RequirePermission};

impl<S: Send + Sync> FromRequestParts<S> for AppSession {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, why)| {
                AuthError::internal(format!(
                    "session layer missing: {why} (add auth.session_layer() around this route)"
                ))
            })?;
        // The store's layer says how much a session may hold and how long it lives; without
        // it, the cookie's bound and the default lifetimes.
        let rules = parts
            .extensions
            .get::<std::sync::Arc<SessionRules>>()
            .cloned()
            .unwrap_or_else(|| std::sync::Arc::new(SessionRules::cookie_defaults()));
        Ok(AppSession::new(session, rules))
    }
}

/// The logged-in user: who they are (the ID token's claims the session keeps), when and how they
/// authenticated, and what their access token grants. As an extractor, a page that needs login:
/// a guest is sent to `/login?returnTo=<this page>`. `Option<User>` serves guests too.
///
/// ```
/// use auth0_axum::User;
/// async fn orders(user: User) -> String {
///     format!("{}'s orders", user.name())
/// }
/// async fn home(user: Option<User>) -> &'static str {
///     if user.is_some() { "welcome back" } else { "hello, guest" }
/// }
/// ```
#[derive(Clone, PartialEq)]
pub struct User(pub(crate) UserSession);

impl std::fmt::Debug for User {
    /// The claims only: never a token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("claims", &self.0.profile)
            .finish_non_exhaustive()
    }
}

impl User {
    /// What to call the user: `name`, else `nickname`, `email` or `sub`.
    pub fn name(&self) -> &str {
        self.0.name()
    }

    /// The user's id at the provider (`sub`).
    pub fn sub(&self) -> &str {
        self.0.claim("sub").unwrap_or_default()
    }

    /// A string claim (`email`, `picture`...), if the session kept it.
    pub fn claim(&self, name: &str) -> Option<&str> {
        self.0.claim(name)
    }

    /// Every claim the session kept (see [`crate::SessionClaims`]).
    pub fn claims(&self) -> &Map<String, Value> {
        &self.0.profile
    }

    /// What the app's `/callback` hook stored (see [`crate::LoginCompleted::set_app_data`]).
    pub fn app_data(&self, key: &str) -> Option<&Value> {
        self.0.app_data.get(key)
    }

    /// What the access token grants (Auth0 RBAC `permissions`, and `scope`), checked when the
    /// token was received.
    pub fn permissions(&self) -> &[String] {
        &self.0.permissions
    }

    /// Seconds since the user last authenticated at the provider (`auth_time`, else the login).
    pub fn authenticated_ago(&self) -> i64 {
        self.0.authenticated_ago(unix_now())
    }

    /// The login's assurance level (`acr`), if the provider said.
    pub fn acr(&self) -> Option<&str> {
        self.0.acr.as_deref()
    }

    /// How the user authenticated (`amr`: `pwd`, `mfa`...).
    pub fn amr(&self) -> &[String] {
        &self.0.amr
    }
}

impl<S> FromRequestParts<S> for User
where
    Auth0: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let auth = Auth0::from_ref(state);
        match current_user(parts, state).await? {
            Some(user) => Ok(User(user)),
            None => Err(to_login(&auth.0, parts, &[])),
        }
    }
}

impl<S> OptionalFromRequestParts<S> for User
where
    Auth0: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, Response> {
        Ok(current_user(parts, state).await?.map(User))
    }
}

/// The session's user, or a guest; a store that does not answer is its 503 page.
pub(crate) async fn current_user<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
) -> Result<Option<UserSession>, Response> {
    let session = AppSession::from_request_parts(parts, state)
        .await
        .map_err(IntoResponse::into_response)?;
    session
        .user()
        .await
        .map_err(|err| AuthError::from(err).into_response())
}

/// The session itself: who is logged in, and a way to end the session here (without the
/// provider's logout, which `/logout` does).
pub struct AuthSession(pub(crate) AppSession);

impl std::fmt::Debug for AuthSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthSession")
    }
}

impl AuthSession {
    /// Who is logged in, if anyone.
    pub async fn user(&self) -> Result<Option<User>, AuthError> {
        Ok(self.0.user().await?.map(User))
    }

    /// Ends the session in this app (the cookie is cleared, a Redis record deleted).
    pub async fn end(&self) -> Result<(), AuthError> {
        self.0.end().await?;
        Ok(())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AuthSession {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AuthError> {
        Ok(AuthSession(
            AppSession::from_request_parts(parts, state).await?,
        ))
    }
}

/// A page that needs a recent login (step-up): the user must have authenticated at the provider
/// within `MAX_AGE` seconds, else the browser goes to `/login?max_age=MAX_AGE&returnTo=<here>`,
/// and `/callback` refuses an ID token whose `auth_time` is older.
///
/// ```
/// use auth0_axum::RecentLogin;
/// async fn change_password(RecentLogin(user): RecentLogin<300>) -> String {
///     format!("{} logged in {} s ago", user.name(), user.authenticated_ago())
/// }
/// ```
#[derive(Debug)]
pub struct RecentLogin<const MAX_AGE: u32>(pub User);

impl<S, const MAX_AGE: u32> FromRequestParts<S> for RecentLogin<MAX_AGE>
where
    Auth0: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let auth = Auth0::from_ref(state);
        match current_user(parts, state).await? {
            Some(user) if user.authenticated_ago(unix_now()) <= i64::from(MAX_AGE) => {
                Ok(RecentLogin(User(user)))
            }
            _ => Err(to_login(
                &auth.0,
                parts,
                &[("max_age", &MAX_AGE.to_string())],
            )),
        }
    }
}

/// A page that needs multi-factor authentication (step-up): the user's login must show `mfa` in
/// `amr` (its `acr` was checked at `/callback` against the policy the login asked for), else the browser goes to log in again with
/// `acr_values=<the MFA policy>&returnTo=<here>`. `/callback` refuses a login that asked for MFA
/// and came back without it (Auth0 ignores `acr_values` when the tenant has no MFA), so the page
/// cannot be reached by a login that was silently downgraded.
///
/// ```
/// use auth0_axum::RequireMfa;
/// async fn transfer_money(RequireMfa(user): RequireMfa) -> String {
///     format!("{} passed a second factor", user.name())
/// }
/// ```
#[derive(Debug)]
pub struct RequireMfa(pub User);

impl<S> FromRequestParts<S> for RequireMfa
where
    Auth0: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let auth = Auth0::from_ref(state);
        match current_user(parts, state).await? {
            Some(user) if user.amr.iter().any(|m| m == "mfa") => Ok(RequireMfa(User(user))),
            _ => Err(to_login(
                &auth.0,
                parts,
                &[("acr_values", crate::oidc::MFA_POLICY)],
            )),
        }
    }
}

/// This page as browsers asked for it (the whole path, also inside a nested router).
pub(crate) fn this_page(parts: &Parts) -> &str {
    let uri = parts
        .extensions
        .get::<OriginalUri>()
        .map_or(&parts.uri, |original| &original.0);
    uri.path_and_query().map_or("/", |p| p.as_str())
}

/// To `/login` (where the auth routes are mounted), coming back to this page (`returnTo`), with
/// `extra` parameters first.
pub(crate) fn to_login(state: &AppState, parts: &Parts, extra: &[(&str, &str)]) -> Response {
    to_login_at(state, this_page(parts), extra)
}

/// To `/login`, coming back to `page`, with `extra` parameters first.
pub(crate) fn to_login_at(state: &AppState, page: &str, extra: &[(&str, &str)]) -> Response {
    let mut target = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in extra {
        target.append_pair(name, value);
    }
    target.append_pair("returnTo", page);
    let login = state.config.app.route_path("/login");
    Redirect::to(&format!("{login}?{}", target.finish())).into_response()
}
