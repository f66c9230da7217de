//! The session: kept in one cookie, encrypted and authenticated (AES-256-GCM, key derived from
//! `APP_SECRET_KEY` by HKDF), read through the tower-sessions API. [`AppSession`] is the typed
//! view handlers use: who is logged in, and the logins in progress; no handler sees a key.
//! Storage only: nothing here knows HTTP (the extractors live in `routes::extract`).
//!
//! A tampered or undecryptable cookie reads as an empty session and is cleared by the layer. The
//! size of what we store is checked before it is stored, because browsers silently drop a cookie
//! over 4096 bytes and the store answers a bare 500 when its own limit is exceeded.

mod model;
mod size;
mod store;

pub use model::{LoginTransaction, TakenLogin, UserSession, stored_return_to_len};
pub use size::{
    MAX_RECORD_BYTES, MAX_SET_COOKIE_BYTES, SessionTooLarge, projected_set_cookie_len,
    read_record_data, record_data, set_cookie_len,
};

use time::Duration;
use tower_sessions_cookie_store::{
    CookieSessionConfig, CookieSessionManagerLayer, Expiry, Key, PrivateCookie, SameSite, Session,
};

use crate::config::AppSettings;

pub const COOKIE_NAME: &str = "auth0_session";
/// The name on https: the `__Host-` prefix makes browsers refuse it unless it is Secure, has
/// `Path=/` and no `Domain`, so a sibling subdomain cannot plant or shadow it.
pub const SECURE_COOKIE_NAME: &str = "__Host-auth0_session";

/// The session cookie's name for an app served over https or not.
pub fn cookie_name(https: bool) -> &'static str {
    if https {
        SECURE_COOKIE_NAME
    } else {
        COOKIE_NAME
    }
}
/// Logged out after this long without a visit.
pub const IDLE_TIMEOUT: Duration = Duration::hours(24);
/// Logged out this long after login, however active.
pub const ABSOLUTE_TIMEOUT_SECS: i64 = 7 * 24 * 3600;
/// The idle deadline is pushed back at most this often, so most page views write no cookie.
pub const REFRESH_EVERY_SECS: i64 = 3600;
/// A login must come back from the provider within this time.
pub const LOGIN_TTL_SECS: i64 = 600;
/// Logins in progress kept per browser (tabs); the oldest is dropped beyond this.
pub const MAX_PENDING_LOGINS: usize = 5;
/// What the logins in progress may cost together, in bytes of stored JSON: the oldest are dropped
/// beyond this, so that links with long `returnTo`s cannot crowd the cookie (and the login that
/// follows) out. One login is about 200 bytes plus its `returnTo`.
pub const MAX_PENDING_LOGIN_BYTES: usize = 1600;
/// The most one stored `returnTo` may cost (JSON-escaped): `"` doubles in JSON.
pub const MAX_RETURN_TO_BYTES: usize = 1024;

/// The record's keys: short, because they are in every cookie.
pub(crate) const USER_KEY: &str = "u";
pub(crate) const LOGINS_KEY: &str = "l";

/// The session layer for this configuration.
pub fn layer(config: &AppSettings) -> CookieSessionManagerLayer<PrivateCookie> {
    let key = Key::derive_from(config.session_secret.bytes());
    CookieSessionManagerLayer::private(key).with_config(
        CookieSessionConfig::default()
            .with_name(cookie_name(config.base_url.is_https()))
            .with_http_only(true)
            // Strict would drop the cookie on the provider's redirect back to /callback.
            .with_same_site(SameSite::Lax)
            .with_secure(config.base_url.is_https())
            .with_path("/")
            .with_expiry(Expiry::OnInactivity(IDLE_TIMEOUT))
            .with_max_cookie_bytes(MAX_RECORD_BYTES)
            .with_clear_on_decode_error(true),
    )
}

/// The typed session: every read and write of the session goes through here.
pub struct AppSession(Session);

impl AppSession {
    pub fn new(session: Session) -> Self {
        Self(session)
    }

    /// Who is logged in (enforcing the lifetimes; a broken session reads as logged out).
    pub async fn user(&self) -> Option<UserSession> {
        store::current_user(&self.0).await
    }

    /// Records a login in progress; see [`add_pending_login`].
    pub async fn add_login(&self, tx: LoginTransaction) -> Result<(), SessionTooLarge> {
        store::add_pending_login(&self.0, tx).await
    }

    /// Removes and returns the login in progress with this state.
    pub async fn take_login(&self, state: &str) -> TakenLogin {
        store::take_pending_login(&self.0, state).await
    }

    /// Starts a fresh session (new id) for `user`; the Set-Cookie size on success.
    pub async fn start(&self, user: UserSession) -> Result<usize, SessionTooLarge> {
        store::start_user_session(&self.0, user).await
    }

    /// Replaces the logged-in user's record, e.g. with refreshed tokens.
    pub async fn replace_user(&self, user: &UserSession) -> Result<(), SessionTooLarge> {
        store::replace_user(&self.0, user).await
    }

    /// Ends the session; the provider's session id, for its logout.
    pub async fn end(&self) -> Option<String> {
        store::end_session(&self.0).await
    }
}
