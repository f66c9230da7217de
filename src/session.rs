//! The session: kept in one cookie, encrypted and authenticated (AES-256-GCM, key derived from
//! `APP_SECRET_KEY` by HKDF), read through the tower-sessions API. Owns the typed accessors: who
//! is logged in, and the logins in progress.
//!
//! A tampered or undecryptable cookie reads as an empty session and is cleared by the layer. The
//! size of what we store is checked before it is stored, because browsers silently drop a cookie
//! over 4096 bytes and the store answers a bare 500 when its own limit is exceeded.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::Duration;
use tower_sessions_cookie_store::{
    CookieSessionConfig, CookieSessionManagerLayer, Expiry, Key, PrivateCookie, SameSite, Session,
};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};

use crate::config::Config;
use crate::error::AppError;
use crate::token_check::unix_now;

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

/// Browsers drop a cookie whose Set-Cookie (name, value and attributes) exceeds this, silently.
pub const MAX_SET_COOKIE_BYTES: usize = 4096;
/// Upper bound of `; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=86400` and the like.
const ATTRIBUTE_BYTES: usize = 80;
/// What the projection cannot know exactly: the record's expiry is written with as many digits
/// of fractional seconds as it happens to have at save time (a few bytes either way).
const PROJECTION_MARGIN_BYTES: usize = 48;

/// The Set-Cookie length for an encoded record of `record_len` bytes: AES-GCM adds a 12-byte
/// nonce and a 16-byte tag, then base64 (4 chars per 3 bytes).
pub const fn set_cookie_len(record_len: usize) -> usize {
    SECURE_COOKIE_NAME.len() + 1 + (record_len + 28).div_ceil(3) * 4 + ATTRIBUTE_BYTES
}

/// The largest encoded record whose Set-Cookie stays within [`MAX_SET_COOKIE_BYTES`].
pub const MAX_RECORD_BYTES: usize = {
    let mut n = MAX_SET_COOKIE_BYTES;
    while set_cookie_len(n) > MAX_SET_COOKIE_BYTES {
        n -= 1;
    }
    n
};

const USER_KEY: &str = "u";
const LOGINS_KEY: &str = "l";

/// The session layer for this configuration.
pub fn layer(config: &Config) -> CookieSessionManagerLayer<PrivateCookie> {
    let key = Key::derive_from(config.session_secret.bytes());
    CookieSessionManagerLayer::private(key).with_config(
        CookieSessionConfig::default()
            .with_name(cookie_name(config.base_is_https()))
            .with_http_only(true)
            // Strict would drop the cookie on the provider's redirect back to /callback.
            .with_same_site(SameSite::Lax)
            .with_secure(config.base_is_https())
            .with_path("/")
            .with_expiry(Expiry::OnInactivity(IDLE_TIMEOUT))
            .with_max_cookie_bytes(MAX_RECORD_BYTES)
            .with_clear_on_decode_error(true),
    )
}

/// Who is logged in: what the pages need, and the tokens the app was asked to keep.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UserSession {
    /// Profile claims (from the verified ID token, merged with userinfo).
    #[serde(rename = "p")]
    pub profile: Map<String, Value>,
    /// The provider's session id (the ID token's `sid`), sent as `logout_hint` at logout. The ID
    /// token itself is not kept: it repeats the profile and would double the cookie, and the
    /// provider's logout needs only `client_id` (Auth0's `/oidc/logout` and `/v2/logout` alike).
    #[serde(rename = "sd", default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Kept only when an API audience asked for one.
    #[serde(rename = "at", default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// Kept only when `offline_access` asked for one.
    #[serde(rename = "rt", default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(rename = "te", default, skip_serializing_if = "Option::is_none")]
    pub token_expires_at: Option<i64>,
    #[serde(rename = "li")]
    pub logged_in_at: i64,
    #[serde(rename = "ra")]
    pub refreshed_at: i64,
}

impl UserSession {
    pub fn name(&self) -> &str {
        ["name", "nickname", "email", "sub"]
            .iter()
            .find_map(|k| self.profile.get(*k).and_then(Value::as_str))
            .unwrap_or("user")
    }

    pub fn claim(&self, name: &str) -> Option<&str> {
        self.profile.get(name).and_then(Value::as_str)
    }
}

/// A login in progress: what `/callback` must find to accept the provider's answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LoginTransaction {
    #[serde(rename = "s")]
    pub state: String,
    #[serde(rename = "n")]
    pub nonce: String,
    #[serde(rename = "v")]
    pub pkce_verifier: String,
    #[serde(rename = "r")]
    pub return_to: String,
    #[serde(rename = "t")]
    pub created_at: i64,
}

impl LoginTransaction {
    fn expired(&self, now: i64) -> bool {
        now.saturating_sub(self.created_at) > LOGIN_TTL_SECS
    }

    /// What this login costs in the session, in bytes of JSON.
    pub fn stored_len(&self) -> usize {
        serde_json::to_vec(self).map_or(usize::MAX / 8, |v| v.len())
    }
}

/// What a `returnTo` costs once stored (JSON-escaped), to bound it before a login is started.
pub fn stored_return_to_len(return_to: &str) -> usize {
    serde_json::to_string(return_to).map_or(usize::MAX / 8, |s| s.len())
}

/// What became of the state `/callback` was given.
#[derive(Debug)]
pub enum TakenLogin {
    Found(LoginTransaction),
    Expired,
    /// No login in this browser has this state; `others` says whether any login is pending.
    NotFound {
        others: bool,
    },
}

#[derive(Debug)]
pub struct SessionTooLarge {
    pub set_cookie_bytes: usize,
}

/// Session storage failed (a bug or a corrupted record): logged, answered as logged out.
fn log_store_error(err: impl std::fmt::Display) {
    tracing::error!(error = %err, "session store error");
}

/// The logged-in user, if any. Enforces the absolute timeout and slides the idle one (hourly).
pub async fn current_user(session: &Session) -> Option<UserSession> {
    let mut user: UserSession = match session.get(USER_KEY).await {
        Ok(user) => user?,
        Err(err) => {
            log_store_error(err);
            return None;
        }
    };
    let now = unix_now();
    if now.saturating_sub(user.logged_in_at) > ABSOLUTE_TIMEOUT_SECS {
        tracing::info!("session reached its absolute lifetime; logging out");
        let _ = session.remove_value(USER_KEY).await;
        return None;
    }
    if now.saturating_sub(user.refreshed_at) > REFRESH_EVERY_SECS {
        user.refreshed_at = now;
        if let Err(err) = session.insert(USER_KEY, &user).await {
            log_store_error(err);
        }
    }
    Some(user)
}

async fn pending(session: &Session) -> Vec<LoginTransaction> {
    let now = unix_now();
    match session.get::<Vec<LoginTransaction>>(LOGINS_KEY).await {
        Ok(list) => list
            .unwrap_or_default()
            .into_iter()
            .filter(|t| !t.expired(now))
            .collect(),
        Err(err) => {
            log_store_error(err);
            Vec::new()
        }
    }
}

async fn store_pending(session: &Session, list: &[LoginTransaction]) {
    let result = if list.is_empty() {
        session.remove_value(LOGINS_KEY).await.map(|_| ())
    } else {
        session.insert(LOGINS_KEY, list).await
    };
    if let Err(err) = result {
        log_store_error(err);
    }
}

/// Drops the oldest logins in `list` (never the last one, the newest) until there are at most
/// [`MAX_PENDING_LOGINS`], they cost at most [`MAX_PENDING_LOGIN_BYTES`], and a session holding
/// them with `user` fits in a cookie. Returns how many were dropped.
fn make_room(
    user: Option<&UserSession>,
    list: &mut Vec<LoginTransaction>,
    keep_newest: bool,
) -> usize {
    let floor = usize::from(keep_newest);
    let mut dropped = 0;
    while list.len() > floor {
        let bytes: usize = list.iter().map(LoginTransaction::stored_len).sum();
        let fits = list.len() <= MAX_PENDING_LOGINS
            && bytes <= MAX_PENDING_LOGIN_BYTES
            && projected_set_cookie_len(user, list) <= MAX_SET_COOKIE_BYTES;
        if fits {
            break;
        }
        list.remove(0);
        dropped += 1;
    }
    dropped
}

/// Records a login in progress (several may be: one per tab). The oldest others are dropped when
/// they would not fit beside it; `Err` only when this one alone cannot be stored.
pub async fn add_pending_login(
    session: &Session,
    tx: LoginTransaction,
) -> Result<(), SessionTooLarge> {
    let user: Option<UserSession> = session.get(USER_KEY).await.ok().flatten();
    let mut list = pending(session).await;
    list.push(tx);
    let dropped = make_room(user.as_ref(), &mut list, true);
    if dropped > 0 {
        tracing::info!(
            dropped,
            "dropped the oldest logins in progress to make room for a new one"
        );
    }
    let size = projected_set_cookie_len(user.as_ref(), &list);
    if size > MAX_SET_COOKIE_BYTES
        || list.iter().map(LoginTransaction::stored_len).sum::<usize>() > MAX_PENDING_LOGIN_BYTES
    {
        return Err(SessionTooLarge {
            set_cookie_bytes: size,
        });
    }
    store_pending(session, &list).await;
    Ok(())
}

/// Removes and returns the login with this state: each is usable once.
pub async fn take_pending_login(session: &Session, state: &str) -> TakenLogin {
    let raw: Vec<LoginTransaction> = session
        .get(LOGINS_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    let now = unix_now();
    let Some(pos) = raw.iter().position(|t| t.state == state) else {
        return TakenLogin::NotFound {
            others: raw.iter().any(|t| !t.expired(now)),
        };
    };
    let mut rest = raw;
    let tx = rest.remove(pos);
    rest.retain(|t| !t.expired(now));
    store_pending(session, &rest).await;
    if tx.expired(now) {
        TakenLogin::Expired
    } else {
        TakenLogin::Found(tx)
    }
}

/// The Set-Cookie size a session holding `user` and `logins` would need: the store's own encoder,
/// plus a margin for what differs at save time. Never an underestimate.
pub fn projected_set_cookie_len(user: Option<&UserSession>, logins: &[LoginTransaction]) -> usize {
    let mut data = std::collections::HashMap::new();
    if let Some(user) = user {
        data.insert(
            USER_KEY.to_string(),
            serde_json::to_value(user).unwrap_or_default(),
        );
    }
    if !logins.is_empty() {
        data.insert(
            LOGINS_KEY.to_string(),
            serde_json::to_value(logins).unwrap_or_default(),
        );
    }
    let record = tower_sessions::session::Record {
        id: tower_sessions::session::Id::default(),
        data,
        expiry_date: time::OffsetDateTime::now_utc() + IDLE_TIMEOUT,
    };
    let len = tower_sessions_cookie_store::encode_record(&record)
        .map(|s| s.len() + PROJECTION_MARGIN_BYTES)
        .unwrap_or(usize::MAX / 8);
    set_cookie_len(len)
}

/// Replaces the session with a fresh one (new id: no fixation) holding `user`, keeping the other
/// tabs' logins in progress as far as they fit (oldest dropped first). Refuses if the user alone
/// would make the cookie too big for browsers.
pub async fn start_user_session(
    session: &Session,
    user: UserSession,
) -> Result<usize, SessionTooLarge> {
    let mut logins = pending(session).await;
    let dropped = make_room(Some(&user), &mut logins, false);
    if dropped > 0 {
        tracing::info!(
            dropped,
            "dropped the oldest other logins in progress to fit the new session"
        );
    }
    let size = projected_set_cookie_len(Some(&user), &logins);
    if size > MAX_SET_COOKIE_BYTES {
        return Err(SessionTooLarge {
            set_cookie_bytes: size,
        });
    }
    session.clear().await;
    if let Err(err) = session.cycle_id().await {
        log_store_error(err);
    }
    let stored = session.insert(USER_KEY, &user).await;
    store_pending(session, &logins).await;
    if let Err(err) = stored {
        log_store_error(err);
    }
    Ok(size)
}

/// Ends the session: the cookie is removed. Returns the provider's session id for its logout.
pub async fn end_session(session: &Session) -> Option<String> {
    let sid = match session.get::<UserSession>(USER_KEY).await {
        Ok(user) => user.and_then(|u| u.sid),
        Err(_) => None,
    };
    if let Err(err) = session.flush().await {
        log_store_error(err);
    }
    sid
}

/// The logged-in user, if any (never fails: a broken session reads as logged out).
pub struct MaybeUser(pub Option<UserSession>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, why)| AppError::internal(format!("session layer missing: {why}")))?;
        Ok(MaybeUser(current_user(&session).await))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_limit_keeps_the_set_cookie_under_4096_bytes() {
        assert!(set_cookie_len(MAX_RECORD_BYTES) <= MAX_SET_COOKIE_BYTES);
        assert!(set_cookie_len(MAX_RECORD_BYTES + 3) > MAX_SET_COOKIE_BYTES);
        const { assert!(MAX_RECORD_BYTES > 2800) };
    }

    #[test]
    fn the_display_name_falls_back_through_the_usual_claims() {
        let mut user = UserSession {
            profile: Map::new(),
            sid: None,
            access_token: None,
            refresh_token: None,
            token_expires_at: None,
            logged_in_at: 0,
            refreshed_at: 0,
        };
        assert_eq!(user.name(), "user");
        user.profile.insert("email".into(), "a@b.c".into());
        assert_eq!(user.name(), "a@b.c");
        user.profile.insert("name".into(), "Ann".into());
        assert_eq!(user.name(), "Ann");
    }
}
