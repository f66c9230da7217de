//! What an app can change about a login without touching the protocol: which ID-token claims the
//! session keeps ([`SessionClaims`]) and a hook at `/callback` ([`LoginCompleted`], set with
//! [`crate::Auth0Config::on_callback`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::AuthError;
use crate::session::UserSession;

/// Which of the ID token's (and `/userinfo`'s) claims the session keeps. Protocol claims (`iss`,
/// `aud`, `exp`, `iat`, `nonce`, `at_hash`, `sid`...) are never kept: they describe the token, not
/// the person, and `sid`, `auth_time`, `acr` and `amr` are kept apart for logout and step-up.
///
/// The default, [`SessionClaims::all`], keeps every other claim, custom claims of Auth0 Actions
/// included (as express-openid-connect does). [`SessionClaims::only`] keeps a list, plus `sub`;
/// [`SessionClaims::PROFILE`] is nextjs-auth0's default list, a smaller cookie.
///
/// ```
/// use auth0_axum::SessionClaims;
/// let claims = SessionClaims::only(SessionClaims::PROFILE);
/// assert!(claims.keeps("email"));
/// assert!(claims.keeps("sub"));
/// assert!(!claims.keeps("https://example.com/roles"));
/// assert!(SessionClaims::all().keeps("https://example.com/roles"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionClaims {
    /// `None`: every claim.
    only: Option<Vec<String>>,
}

impl SessionClaims {
    /// nextjs-auth0's default list: who the user is and how to show them.
    pub const PROFILE: &'static [&'static str] = &[
        "sub",
        "name",
        "nickname",
        "given_name",
        "family_name",
        "picture",
        "email",
        "email_verified",
        "org_id",
    ];

    /// Every claim but the protocol's (the default).
    pub fn all() -> Self {
        Self { only: None }
    }

    /// These claims and `sub`, nothing else.
    pub fn only<I, S>(claims: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self {
            only: Some(claims.into_iter().map(|c| c.as_ref().to_string()).collect()),
        }
    }

    /// Also keep these (the roles claim `RequirePermission` reads is always added).
    pub(crate) fn with_extra(mut self, extra: impl Iterator<Item = String>) -> Self {
        if let Some(only) = &mut self.only {
            only.extend(extra);
        }
        self
    }

    /// Whether the session keeps claim `name`.
    pub fn keeps(&self, name: &str) -> bool {
        match &self.only {
            None => true,
            Some(only) => name == "sub" || only.iter().any(|c| c == name),
        }
    }

    pub(crate) fn filter(&self, profile: &mut Map<String, Value>) {
        if self.only.is_some() {
            profile.retain(|name, _| self.keeps(name));
        }
    }
}

type HookFn = dyn Fn(LoginCompleted) -> Pin<Box<dyn Future<Output = Result<LoginCompleted, AuthError>> + Send>>
    + Send
    + Sync;

/// The app's `/callback` hook, from [`crate::Auth0Config::on_callback`].
#[derive(Clone)]
pub(crate) struct CallbackHook(Arc<HookFn>);

impl CallbackHook {
    pub(crate) fn new<F, Fut>(hook: F) -> Self
    where
        F: Fn(LoginCompleted) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<LoginCompleted, AuthError>> + Send + 'static,
    {
        Self(Arc::new(move |login| Box::pin(hook(login))))
    }

    pub(crate) async fn run(&self, login: LoginCompleted) -> Result<LoginCompleted, AuthError> {
        (self.0)(login).await
    }
}

/// A login that passed every check, before its session is saved: what the `/callback` hook sees
/// and may change.
#[derive(Debug)]
pub struct LoginCompleted {
    pub(crate) user: UserSession,
    pub(crate) return_to: String,
}

impl LoginCompleted {
    /// A claim of the verified ID token (or `/userinfo`), among those the session keeps.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.user.profile.get(name)
    }

    /// The user's id (`sub`).
    pub fn sub(&self) -> &str {
        self.user.claim("sub").unwrap_or_default()
    }

    /// Stores `value` under `key` in the session, beside the profile: [`crate::User::app_data`]
    /// reads it on every page. It counts towards the cookie's size in cookie mode.
    pub fn set_app_data(&mut self, key: &str, value: Value) {
        self.user.app_data.insert(key.to_string(), value);
    }

    /// Removes a claim from what the session keeps.
    pub fn remove_claim(&mut self, name: &str) -> Option<Value> {
        self.user.profile.remove(name)
    }

    /// Where the browser goes after the login: the page it came from, by default.
    pub fn return_to(&self) -> &str {
        &self.return_to
    }

    /// Sends the browser elsewhere after the login: a path on this site (`/welcome`). Anything
    /// else (another site, `//host`) is refused when the hook returns, as `returnTo` is.
    pub fn set_return_to(&mut self, path: impl Into<String>) {
        self.return_to = path.into();
    }
}
