//! The session, read through tower-sessions' `Session` and kept by one of two stores, chosen by
//! `SESSION_STORE`: our encrypted cookie store ([`cookie`], the default: stateless) or Redis
//! ([`server_side`]: revocation, back-channel logout), each behind [`SessionLayer`]. [`AppSession`]
//! is the typed view the routes and extractors use: who is logged in, and the logins in progress.
//! What differs between the stores (indexing a new session, ending sessions by a logout token,
//! readiness) is behind [`SessionBackend`]: no route touches Redis or a cookie itself. Storage
//! only: nothing here renders a page (the extractors live in `extract`).
//!
//! A cookie session is bounded by what browsers keep: its size is projected exactly, by the
//! cookie store's own functions, before anything is stored, so a write never fails half-way.

pub(crate) mod cookie;
pub(crate) mod ended;
mod layer;
mod model;
#[cfg(feature = "redis")]
pub(crate) mod server_side;
mod size;
mod store;

pub use layer::{SessionLayer, SessionService};
pub(crate) use model::bound_token_type;
pub use model::{
    ApiToken, LoginTransaction, TakenLogin, UserSession, stored_return_to_len, token_expiry,
};
pub use size::{projected_cookie_bytes, read_record_data, record_data};

use time::Duration;
use tower_sessions::Session;

/// The session cookie's name over http (development).
pub const COOKIE_NAME: &str = "auth0_session";
/// The name on https: the `__Host-` prefix makes browsers refuse it unless it is Secure, has
/// `Path=/` and no `Domain`, so a sibling subdomain cannot plant or shadow it.
pub const SECURE_COOKIE_NAME: &str = "__Host-auth0_session";

/// The name on https under a sub-path (`APP_BASE_URL=https://example.com/app`): `__Host-` needs
/// `Path=/`, and the cookie belongs to the app's path (another app on the same host under another
/// path keeps its own); `__Secure-` still makes browsers refuse it without Secure.
pub const SECURE_SUB_PATH_COOKIE_NAME: &str = "__Secure-auth0_session";

/// The session cookie's name for this app: by scheme, and whether it is under a sub-path.
pub fn cookie_name(app: &crate::config::AppSettings) -> &'static str {
    match (app.base_url.is_https(), app.base_url.path().is_empty()) {
        (true, true) => SECURE_COOKIE_NAME,
        (true, false) => SECURE_SUB_PATH_COOKIE_NAME,
        (false, _) => COOKIE_NAME,
    }
}

/// The session cookie's `Path`: the app's path under `APP_BASE_URL`, or `/`.
pub fn cookie_path(app: &crate::config::AppSettings) -> &str {
    match app.base_url.path() {
        "" => "/",
        path => path,
    }
}
/// The idle deadline is pushed back at most this often (or every half idle lifetime, when that is
/// shorter), so most page views write no cookie.
pub const REFRESH_EVERY_SECS: i64 = 3600;

/// tower-sessions' expiry for the configured lifetimes (the record's and the cookie's).
pub(crate) fn inactivity(lifetimes: &crate::config::SessionLifetimes) -> tower_sessions::Expiry {
    tower_sessions::Expiry::OnInactivity(Duration::seconds(lifetimes.inactivity_secs()))
}
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

/// The `name=value` pairs of a request's Cookie headers.
pub fn cookie_pairs(headers: &axum::http::HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
}

/// Where sessions are kept, from `SESSION_STORE`.
#[derive(Debug, Clone)]
pub enum SessionBackend {
    /// In the browser, in our sealed cookies.
    Cookie,
    /// In Redis (connecting in the background; feature `redis`).
    #[cfg(feature = "redis")]
    Redis(server_side::RedisSessions),
}

impl SessionBackend {
    /// The store `SESSION_STORE` names; a Redis one uses the connection `shared` made to it.
    pub(crate) fn from_settings(
        app: &crate::config::AppSettings,
        shared: &crate::shared::Shared,
    ) -> Result<Self, SessionError> {
        #[cfg(not(feature = "redis"))]
        let _ = shared;
        Ok(match &app.session_store {
            crate::config::SessionStoreSetting::Cookie => Self::Cookie,
            #[cfg(feature = "redis")]
            crate::config::SessionStoreSetting::Redis(_) => match &shared.redis {
                Some(redis) => Self::Redis(server_side::RedisSessions::new(
                    redis.clone(),
                    app.session_lifetimes,
                )),
                None => return Err(SessionError::Unavailable("no Redis connection".into())),
            },
            #[cfg(not(feature = "redis"))]
            crate::config::SessionStoreSetting::Redis(_) => {
                return Err(SessionError::Unavailable(
                    "this build has no Redis client: build auth0-axum with its `redis` feature, or set SESSION_STORE=cookie".into(),
                ));
            }
        })
    }

    /// Logs `user` in on `session` (a new id); a server-side session is also indexed by the
    /// user's `sub` and the provider's `sid`, so that a back-channel logout can end it. The
    /// session's size in bytes.
    pub async fn start(
        &self,
        session: &AppSession,
        user: UserSession,
    ) -> Result<usize, SessionError> {
        #[cfg(feature = "redis")]
        let (sub, sid) = (user.claim("sub").map(str::to_string), user.sid.clone());
        let size = session.start(user).await?;
        #[cfg(feature = "redis")]
        if let (Self::Redis(redis), Some(id)) = (self, session.id()) {
            redis.index(id, sub.as_deref(), sid.as_deref()).await?;
        }
        Ok(size)
    }

    /// Ends the sessions a verified logout token names, once per `jti` (see
    /// [`crate::shared::Shared::once_per_logout_token`]: the `jti` is recorded only once the
    /// sessions are ended, so a logout answered as not done is carried out when the provider
    /// retries it, not refused as a replay).
    pub(crate) async fn end_by_logout(
        &self,
        request: &LogoutRequest,
        shared: &crate::shared::Shared,
    ) -> Result<LogoutOutcome, SessionError> {
        shared
            .once_per_logout_token(request, || async move {
                match self {
                    // Cookies cannot be deleted from here: the deny-list ends them as read.
                    Self::Cookie => shared.deny(request).await,
                    #[cfg(feature = "redis")]
                    Self::Redis(redis) => redis.end_for(request).await,
                }
            })
            .await
    }

    /// After a logout: the ended session leaves its user's indexes (best effort).
    pub async fn forget(&self, id: tower_sessions::session::Id, user: &UserSession) {
        #[cfg(not(feature = "redis"))]
        let _ = (id, user);
        #[cfg(feature = "redis")]
        if let Self::Redis(redis) = self {
            redis
                .unindex(&id.to_string(), user.claim("sub"), user.sid.as_deref())
                .await;
        }
    }

    /// Whether the store answers: its name for logs (without credentials), or why not.
    pub async fn ready(&self) -> Result<String, (String, SessionError)> {
        match self {
            Self::Cookie => Ok("cookie".to_string()),
            #[cfg(feature = "redis")]
            Self::Redis(redis) => match redis.ping().await {
                Ok(()) => Ok(redis.display().to_string()),
                Err(err) => Err((redis.display().to_string(), err)),
            },
        }
    }
}

/// What a valid logout token asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    /// End the sessions of this provider session; when absent, every session of `sub`.
    pub sid: Option<String>,
    pub sub: Option<String>,
    pub jti: String,
    /// How long to remember the `jti`: until the token expires, and a little longer.
    pub remember_jti_secs: i64,
}

/// What became of a back-channel logout at the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoutOutcome {
    /// These many sessions were ended (0: the user had none left).
    Ended(usize),
    /// Cookie sessions: the `sid` (or `sub`) is on the deny-list; its sessions read as guests.
    Denied,
    /// This `jti` was used before: nothing was done.
    Replayed,
}

/// What the session layer tells the extractors about its sessions: how much one may hold, how
/// long it lives, and which were ended from outside the browser (a request extension).
#[derive(Debug, Clone)]
pub struct SessionRules {
    pub capacity: Capacity,
    pub lifetimes: crate::config::SessionLifetimes,
    /// Back-channel logouts of sessions the store cannot delete (cookies).
    pub ended: ended::EndedSessions,
}

impl SessionRules {
    /// Cookie sessions with the default lifetimes and nothing ended: what a route outside the
    /// session layer's rules (a test, the fuzz run) assumes.
    pub fn cookie_defaults() -> Self {
        Self {
            capacity: Capacity::Cookie,
            lifetimes: crate::config::SessionLifetimes::default(),
            ended: ended::EndedSessions::default(),
        }
    }
}

/// How much one session may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capacity {
    /// In cookies: what [`cookie::chunks::SESSION_COOKIE_BUDGET`] allows.
    Cookie,
    /// In a server-side store: no cookie bound (the profile is bounded by the ID token's 16 KB).
    Unbounded,
}

/// Why the session could not be read or written.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SessionError {
    /// The cookies would exceed what browsers and proxies keep (bytes in the Cookie header).
    #[error("the session would need {cookie_bytes} bytes of cookies")]
    TooLarge { cookie_bytes: usize },
    /// The server-side store did not answer.
    #[error("the session store did not answer: {0}")]
    Unavailable(String),
}

impl From<tower_sessions::session::Error> for SessionError {
    fn from(err: tower_sessions::session::Error) -> Self {
        Self::Unavailable(err.to_string())
    }
}

/// The typed session: every read and write of the session goes through here. Writes are saved
/// before they return, so a store that does not answer is a page, not a lost write.
pub struct AppSession {
    session: Session,
    rules: std::sync::Arc<SessionRules>,
}

impl AppSession {
    pub fn new(session: Session, rules: std::sync::Arc<SessionRules>) -> Self {
        Self { session, rules }
    }

    /// Who is logged in (enforcing the lifetimes, the upstream ceiling and back-channel logouts;
    /// a malformed record reads as logged out).
    pub async fn user(&self) -> Result<Option<UserSession>, SessionError> {
        store::current_user(&self.session, &self.rules).await
    }

    /// Records a login in progress; the oldest others make room for it.
    pub async fn add_login(&self, tx: LoginTransaction) -> Result<(), SessionError> {
        store::add_pending_login(&self.session, self.rules.capacity, tx).await
    }

    /// Removes and returns the login in progress with this state.
    pub async fn take_login(&self, state: &str) -> Result<TakenLogin, SessionError> {
        store::take_pending_login(&self.session, state).await
    }

    /// Starts a fresh session (new id) for `user`; what it costs (cookie bytes, or record bytes
    /// in a server-side store) on success.
    pub async fn start(&self, user: UserSession) -> Result<usize, SessionError> {
        store::start_user_session(&self.session, self.rules.capacity, user).await
    }

    /// Replaces the logged-in user's record, e.g. with refreshed tokens.
    pub async fn replace_user(&self, user: &UserSession) -> Result<(), SessionError> {
        store::replace_user(&self.session, self.rules.capacity, user).await
    }

    /// Ends the session (a server-side record is deleted); the provider's session id, for its
    /// logout.
    pub async fn end(&self) -> Result<Option<String>, SessionError> {
        store::end_session(&self.session).await
    }

    /// Whether the session is a record in a server-side store (every request of it reads the
    /// same record), not a cookie.
    pub fn is_server_side(&self) -> bool {
        self.rules.capacity == Capacity::Unbounded
    }

    /// The session's id in a server-side store (after [`AppSession::start`]).
    pub fn id(&self) -> Option<tower_sessions::session::Id> {
        self.session.id()
    }
}

#[cfg(test)]
mod tests {
    use super::{cookie_name, cookie_path};
    use crate::config::{AppSettings, Mode};

    fn app(base_url: &str) -> AppSettings {
        let key = "3f1c9a7be24d5086f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7a8";
        AppSettings::from_lookup(Mode::Tenant, &|k: &str| match k {
            "APP_BASE_URL" => Some(base_url.to_string()),
            "APP_SECRET_KEY" => Some(key.to_string()),
            _ => None,
        })
        .unwrap()
    }

    #[test]
    fn the_cookie_is_host_only_at_the_root_and_follows_a_sub_path() {
        let root = app("https://example.com");
        assert_eq!(
            (cookie_name(&root), cookie_path(&root)),
            ("__Host-auth0_session", "/")
        );
        let sub = app("https://example.com/shop/");
        assert_eq!(
            (cookie_name(&sub), cookie_path(&sub)),
            ("__Secure-auth0_session", "/shop")
        );
        let dev = app("http://localhost:3000/shop");
        assert_eq!(
            (cookie_name(&dev), cookie_path(&dev)),
            ("auth0_session", "/shop")
        );
    }
}
