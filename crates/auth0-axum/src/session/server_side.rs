//! `SESSION_STORE=redis://…`: sessions in Redis through tower-sessions' `SessionManagerLayer` and
//! the maintained `tower-sessions-redis-store`; the cookie carries only the session id, encrypted
//! with a key derived from `APP_SECRET_KEY`, with the same name and attributes as the cookie
//! store's. What a server-side store adds: logout deletes the record (a copied cookie is dead),
//! each user's sessions are indexed by `sub` and by the provider's `sid` so that a back-channel
//! logout can end them, and logout tokens' `jti`s are remembered so none is used twice.
//!
//! The app starts while Redis is down and reconnects by itself; every command is bounded in time,
//! so a page that needs the session answers (503, naming the store) instead of hanging.

use std::time::Duration;

use std::convert::Infallible;

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use tower::util::BoxCloneSyncService;
use tower::{Layer, Service};
use tower_sessions::cookie::{Key, SameSite};
use tower_sessions::session::Id;
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_redis_store::RedisStore;
use tower_sessions_redis_store::fred::prelude::{
    Builder, ClientLike, Config, Expiration, FromValue, KeysInterface, Pool, ReconnectPolicy,
};
use tower_sessions_redis_store::fred::types::{ClusterHash, CustomCommand};
use url::Url;

use super::{ABSOLUTE_TIMEOUT_SECS, Capacity, IDLE_TIMEOUT, SessionError, cookie::codec};
use crate::config::{AppSettings, redis_display};

/// How long one Redis command may take before the page says the store is not answering.
pub const COMMAND_TIMEOUT: Duration = Duration::from_millis(1500);
/// Connections to Redis: two cores, so two are plenty.
const POOL_SIZE: usize = 2;
/// Our keys' prefix (tower-sessions' records are keyed by the bare session id).
const PREFIX: &str = "auth0_login";

/// The Redis behind the sessions: the session store, the indexes and the `jti` ledger.
#[derive(Clone)]
pub struct RedisSessions {
    pool: Pool,
    /// `redis://host:port/db`, without credentials: for logs and pages.
    display: String,
}

impl std::fmt::Debug for RedisSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedisSessions({})", self.display)
    }
}

fn unavailable(err: impl std::fmt::Display) -> SessionError {
    SessionError::Unavailable(err.to_string())
}

impl RedisSessions {
    /// Starts connecting in the background (the app starts while Redis is down, and reconnects
    /// whenever it comes back). Fails only on a URL fred cannot use.
    pub fn connect(url: &Url) -> Result<Self, SessionError> {
        let mut config = Config::from_url(url.as_str()).map_err(unavailable)?;
        // Keep retrying the first connection too, instead of failing startup.
        config.fail_fast = false;
        let pool = Builder::from_config(config)
            .with_connection_config(|c| {
                c.connection_timeout = COMMAND_TIMEOUT;
                c.internal_command_timeout = COMMAND_TIMEOUT;
                c.max_command_attempts = 1;
            })
            .with_performance_config(|p| p.default_command_timeout = COMMAND_TIMEOUT)
            // Forever, every half second at most: Redis coming back is noticed quickly.
            .set_policy(ReconnectPolicy::new_exponential(0, 100, 500, 2))
            .build_pool(POOL_SIZE)
            .map_err(unavailable)?;
        drop(pool.connect());
        let shown = redis_display(url);
        tracing::info!(store = %shown, "sessions are kept in Redis");
        Ok(Self {
            pool,
            display: shown,
        })
    }

    pub fn display(&self) -> &str {
        &self.display
    }

    /// The session layer: tower-sessions' manager over the Redis store, the id in a private cookie.
    fn manager_layer(
        &self,
        app: &AppSettings,
    ) -> SessionManagerLayer<RedisStore<Pool>, tower_sessions::service::PrivateCookie> {
        let key = Key::from(&codec::id_cookie_key_bytes(&app.session_secret));
        SessionManagerLayer::new(RedisStore::new(self.pool.clone()))
            .with_name(super::cookie_name(app))
            .with_http_only(true)
            // Strict would drop the cookie on the provider's redirect back to /callback.
            .with_same_site(SameSite::Lax)
            .with_secure(app.base_url.is_https())
            .with_path(super::cookie_path(app).to_string())
            .with_expiry(Expiry::OnInactivity(IDLE_TIMEOUT))
            .with_private(key)
    }

    /// `inner` inside the session layer, telling `AppSession` a session has no cookie bound. With
    /// `APP_SECRET_KEY_PREVIOUS`, an id cookie sealed under an old key is sealed again first.
    /// tower-sessions' manager answers an empty 500 when saving fails after the handler (Redis
    /// went away mid-request): that becomes the session store's page.
    pub(crate) fn service<S>(
        &self,
        inner: S,
        app: &AppSettings,
    ) -> BoxCloneSyncService<Request, Response, Infallible>
    where
        S: Service<Request, Response = Response, Error = Infallible>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        let manager = self
            .manager_layer(app)
            .layer(axum::Extension(Capacity::Unbounded).layer(inner));
        let pages = axum::middleware::map_response(bare_failure_page).layer(manager);
        if app.previous_session_secrets.is_empty() {
            return BoxCloneSyncService::new(pages);
        }
        let rotation = std::sync::Arc::new(IdCookieRotation::new(app));
        BoxCloneSyncService::new(
            axum::middleware::from_fn(move |request, next| {
                let rotation = rotation.clone();
                async move { rotation.reseal(request, next).await }
            })
            .layer(pages),
        )
    }

    /// Whether Redis answers now (readiness).
    pub async fn ping(&self) -> Result<(), SessionError> {
        self.pool.ping::<()>(None).await.map_err(unavailable)
    }

    fn index_key(kind: &str, value: &str) -> String {
        format!("{PREFIX}:{kind}:{value}")
    }

    /// Runs one of our Lua scripts: one round trip, atomic in Redis.
    async fn script<R: FromValue>(
        &self,
        script: &'static str,
        keys: Vec<String>,
        args: Vec<String>,
    ) -> Result<R, SessionError> {
        let eval = CustomCommand::new_static("EVAL", ClusterHash::FirstKey, false);
        let mut all = Vec::with_capacity(2 + keys.len() + args.len());
        all.push(script.to_string());
        all.push(keys.len().to_string());
        all.extend(keys);
        all.extend(args);
        self.pool.custom(eval, all).await.map_err(unavailable)
    }

    /// Indexes a new session under its user's `sub` and the provider's `sid`, in one round trip,
    /// and prunes the index of sessions that have ended since (logged out, expired, ended by the
    /// provider), so that an active user's index does not grow by one id per login.
    pub async fn index(
        &self,
        id: Id,
        sub: Option<&str>,
        sid: Option<&str>,
    ) -> Result<(), SessionError> {
        let keys: Vec<String> = [
            sub.map(|s| Self::index_key("sub", s)),
            sid.map(|s| Self::index_key("sid", s)),
        ]
        .into_iter()
        .flatten()
        .collect();
        if keys.is_empty() {
            return Ok(());
        }
        let now = crate::primitives::unix_now();
        let pruned: i64 = self
            .script(
                INDEX_SCRIPT,
                keys,
                vec![
                    id.to_string(),
                    now.to_string(),
                    ABSOLUTE_TIMEOUT_SECS.to_string(),
                    now.saturating_sub(PRUNE_GRACE_SECS).to_string(),
                ],
            )
            .await?;
        if pruned > 0 {
            tracing::debug!(pruned, "ended sessions pruned from the index");
        }
        Ok(())
    }

    /// What a back-channel logout does (see [`super::SessionBackend::end_by_logout`]), in an order
    /// that survives a store that stalls mid-request: the `jti` is looked up, the sessions are
    /// ended, and only then is the `jti` recorded. A request the app answered 503 (the look-up or
    /// the ending did not answer in time) never recorded its `jti`, so the provider's retry of the
    /// same token is carried out, even when Redis runs the stalled commands later. Recording
    /// the `jti` is the last step; when only that fails, the sessions are ended and the answer is
    /// 200 (the token could then be replayed, to end sessions already ended).
    pub async fn end_by_logout(
        &self,
        request: &super::LogoutRequest,
    ) -> Result<super::LogoutOutcome, SessionError> {
        let jti_key = Self::index_key("jti", &request.jti);
        let seen: Option<String> = self.pool.get(&jti_key).await.map_err(unavailable)?;
        if seen.is_some() {
            return Ok(super::LogoutOutcome::Replayed);
        }
        let ended = match (&request.sid, &request.sub) {
            (Some(sid), _) => self.end_sessions("sid", sid).await?,
            (None, Some(sub)) => self.end_sessions("sub", sub).await?,
            (None, None) => 0,
        };
        let recorded: Result<(), _> = self
            .pool
            .set(
                &jti_key,
                "ended",
                Some(Expiration::EX(request.remember_jti_secs.max(1))),
                None,
                false,
            )
            .await;
        if let Err(err) = recorded {
            tracing::warn!(error = %err, "sessions ended, but the logout token's jti could not be recorded");
        }
        Ok(super::LogoutOutcome::Ended(ended))
    }

    /// Ends every session indexed under `kind` (`sub` or `sid`) = `value`, in one round trip;
    /// how many there were.
    pub async fn end_sessions(&self, kind: &str, value: &str) -> Result<usize, SessionError> {
        let ended: i64 = self
            .script(END_SCRIPT, vec![Self::index_key(kind, value)], Vec::new())
            .await?;
        Ok(usize::try_from(ended).unwrap_or(0))
    }
}

/// A session indexed less than this long ago is never pruned, even without a record: its login
/// is still saving it (the record is written when the `/callback` response is made).
const PRUNE_GRACE_SECS: i64 = 60;

/// KEYS: the index sets (sorted sets: session id scored by when it was indexed). ARGV: the new
/// session's id, now, the index's lifetime, and the time before which a member without a record
/// has ended. An index written as a plain set by an earlier version is converted first. Returns
/// how many ended sessions were pruned. (tower-sessions-redis-store keys a record by the bare id.)
const INDEX_SCRIPT: &str = r#"
local pruned = 0
for _, key in ipairs(KEYS) do
  if redis.call('TYPE', key).ok == 'set' then
    local old = redis.call('SMEMBERS', key)
    redis.call('DEL', key)
    for _, id in ipairs(old) do redis.call('ZADD', key, 0, id) end
  end
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', key, '-inf', ARGV[4])) do
    if redis.call('EXISTS', id) == 0 then
      redis.call('ZREM', key, id)
      pruned = pruned + 1
    end
  end
  redis.call('ZADD', key, ARGV[2], ARGV[1])
  redis.call('EXPIRE', key, ARGV[3])
end
return pruned
"#;

/// KEYS[1]: an index (a sorted set, or a plain set from an earlier version). Deletes the records
/// of its sessions and the index; returns how many records there were.
const END_SCRIPT: &str = r#"
local ids
if redis.call('TYPE', KEYS[1]).ok == 'set' then
  ids = redis.call('SMEMBERS', KEYS[1])
else
  ids = redis.call('ZRANGE', KEYS[1], 0, -1)
end
local ended = 0
for _, id in ipairs(ids) do ended = ended + redis.call('DEL', id) end
redis.call('DEL', KEYS[1])
return ended
"#;

/// Key rotation for the id cookie: tower-sessions opens it with the current key only, so a cookie
/// that opens only under a key in `APP_SECRET_KEY_PREVIOUS` is sealed again under the current one
/// before the session layer reads it, and the browser gets the new value.
struct IdCookieRotation {
    name: &'static str,
    path: String,
    secure: bool,
    current: Key,
    previous: Vec<Key>,
}

impl IdCookieRotation {
    fn new(app: &AppSettings) -> Self {
        let key = |secret| Key::from(&codec::id_cookie_key_bytes(secret));
        Self {
            name: super::cookie_name(app),
            path: super::cookie_path(app).to_string(),
            secure: app.base_url.is_https(),
            current: key(&app.session_secret),
            previous: app.previous_session_secrets.iter().map(key).collect(),
        }
    }

    /// The id cookie sealed again under the current key, if only a previous key opens it.
    fn resealed(&self, value: &str) -> Option<String> {
        use tower_sessions::cookie::{Cookie, CookieJar};
        let opened_by = |key: &Key| {
            let mut jar = CookieJar::new();
            jar.add_original(Cookie::new(self.name, value.to_string()));
            jar.private(key)
                .get(self.name)
                .map(|c| c.value().to_string())
        };
        if opened_by(&self.current).is_some() {
            return None;
        }
        let id = self.previous.iter().find_map(opened_by)?;
        let mut jar = CookieJar::new();
        jar.private_mut(&self.current)
            .add(Cookie::new(self.name, id));
        jar.get(self.name).map(|c| c.value().to_string())
    }

    async fn reseal(
        &self,
        mut request: axum::extract::Request,
        next: axum::middleware::Next,
    ) -> axum::response::Response {
        use axum::http::{HeaderValue, header};
        let prefix = format!("{}=", self.name);
        let found =
            super::cookie_pairs(request.headers()).find_map(|pair| pair.strip_prefix(&prefix));
        let Some(new_value) = found.and_then(|old| self.resealed(old)) else {
            return next.run(request).await;
        };
        // The session layer reads the resealed cookie; other cookies pass as they were.
        let session_pair = format!("{prefix}{new_value}");
        let header_value = std::iter::once(session_pair.as_str())
            .chain(super::cookie_pairs(request.headers()).filter(|pair| !pair.starts_with(&prefix)))
            .collect::<Vec<_>>()
            .join("; ");
        let Ok(header_value) = HeaderValue::from_str(&header_value) else {
            return next.run(request).await;
        };
        request.headers_mut().insert(header::COOKIE, header_value);
        tracing::debug!("session id cookie sealed again under the current key");
        let mut response = next.run(request).await;
        let already_set = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|v| v.as_bytes().starts_with(prefix.as_bytes()));
        if !already_set {
            let secure = if self.secure { "; Secure" } else { "" };
            let cookie = format!(
                "{prefix}{new_value}; HttpOnly; SameSite=Lax{secure}; Path={}; Max-Age={}",
                self.path,
                IDLE_TIMEOUT.whole_seconds()
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
        }
        response
    }
}

/// An empty 500 from tower-sessions' manager (a save after the handler failed) as the session
/// store's page.
async fn bare_failure_page(response: Response) -> Response {
    let bare = response.status() == axum::http::StatusCode::INTERNAL_SERVER_ERROR
        && !response
            .headers()
            .contains_key(axum::http::header::CONTENT_TYPE);
    if !bare {
        return response;
    }
    crate::error::AuthError::from(SessionError::Unavailable(
        "the session could not be saved after the page was made".into(),
    ))
    .into_response()
}
