//! `SESSION_STORE=redis://…`: sessions in Redis through tower-sessions' `SessionManagerLayer` and
//! the maintained `tower-sessions-redis-store`; the cookie carries only the session id, encrypted
//! with a key derived from `APP_SECRET_KEY`, with the same name and attributes as the cookie
//! store's. What a server-side store adds: logout deletes the record (a copied cookie is dead),
//! each user's sessions are indexed by `sub` and by the provider's `sid` so that a back-channel
//! logout can end them, and logout tokens' `jti`s are remembered so none is used twice.
//!
//! The app starts while Redis is down and reconnects by itself; every command is bounded in time,
//! so a page that needs the session answers (503, naming the store) instead of hanging.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use fred::prelude::{KeysInterface, Pool, SortedSetsInterface};
use tower::util::BoxCloneSyncService;
use tower::{Layer, Service};
use tower_sessions::SessionManagerLayer;
use tower_sessions::cookie::{Key, SameSite};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions_redis_store::RedisStore;

use super::{SessionError, SessionRules, cookie::codec};
use crate::config::{AppSettings, SessionLifetimes};
use crate::shared::redis::{PREFIX, RedisShared, unavailable};

/// The Redis behind the sessions: the records (tower-sessions' maintained store), and the
/// indexes by `sub` and `sid` that a back-channel logout ends sessions by.
#[derive(Clone)]
pub struct RedisSessions {
    shared: RedisShared,
    lifetimes: SessionLifetimes,
    /// What this process wrote last per session, so that a request saves a record once.
    written: Arc<Mutex<HashMap<Id, (u64, Instant)>>>,
}

impl std::fmt::Debug for RedisSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedisSessions({})", self.shared.display())
    }
}

impl RedisSessions {
    /// Sessions in this Redis (connecting in the background).
    pub fn new(shared: RedisShared, lifetimes: SessionLifetimes) -> Self {
        tracing::info!(store = %shared.display(), "sessions are kept in Redis");
        Self {
            shared,
            lifetimes,
            written: Arc::default(),
        }
    }

    pub fn display(&self) -> &str {
        self.shared.display()
    }

    fn pool(&self) -> &Pool {
        self.shared.pool()
    }

    /// The session layer: tower-sessions' manager over the Redis store, the id in a private cookie.
    fn manager_layer(
        &self,
        app: &AppSettings,
    ) -> SessionManagerLayer<OnceSaved, tower_sessions::service::PrivateCookie> {
        let key = Key::from(&codec::id_cookie_key_bytes(&app.session_secret));
        let store = OnceSaved {
            inner: RedisStore::new(self.pool().clone()),
            written: self.written.clone(),
        };
        SessionManagerLayer::new(store)
            .with_name(super::cookie_name(app))
            .with_http_only(true)
            // Strict would drop the cookie on the provider's redirect back to /callback.
            .with_same_site(SameSite::Lax)
            .with_secure(app.base_url.is_https())
            .with_path(super::cookie_path(app).to_string())
            .with_expiry(super::inactivity(&app.session_lifetimes))
            .with_private(key)
    }

    /// `inner` inside the session layer, handing the extractors the session's rules. With
    /// `APP_SECRET_KEY_PREVIOUS`, an id cookie sealed under an old key is sealed again first.
    /// tower-sessions' manager answers an empty 500 when saving fails after the handler (Redis
    /// went away mid-request): that becomes the session store's page.
    pub(crate) fn service<S>(
        &self,
        inner: S,
        app: &AppSettings,
        rules: Arc<SessionRules>,
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
            .layer(axum::Extension(rules).layer(inner));
        let pages = axum::middleware::map_response(bare_failure_page).layer(manager);
        if app.previous_session_secrets.is_empty() {
            return BoxCloneSyncService::new(pages);
        }
        let rotation = Arc::new(IdCookieRotation::new(app));
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
        self.shared.ping().await
    }

    fn index_key(kind: &str, value: &str) -> String {
        format!("{PREFIX}:{kind}:{value}")
    }

    /// Indexes a new session under its user's `sub` and the provider's `sid`, in one round trip
    /// (the two scripts are sent together; in a cluster each goes to its key's node), and prunes
    /// each index of sessions older than the absolute lifetime, which have ended whatever
    /// happened to them. A logout removes its session from the indexes itself.
    pub async fn index(
        &self,
        id: Id,
        sub: Option<&str>,
        sid: Option<&str>,
    ) -> Result<(), SessionError> {
        let now = crate::primitives::unix_now();
        let absolute = self.lifetimes.absolute_secs;
        let args = vec![
            id.to_string(),
            now.to_string(),
            absolute.to_string(),
            now.saturating_sub(absolute).to_string(),
        ];
        let index = |key: Option<String>| {
            let args = args.clone();
            async move {
                match key {
                    Some(key) => {
                        self.shared
                            .script::<i64>(INDEX_SCRIPT, vec![key], args)
                            .await
                    }
                    None => Ok(0),
                }
            }
        };
        let (by_sub, by_sid) = tokio::join!(
            index(sub.map(|s| Self::index_key("sub", s))),
            index(sid.map(|s| Self::index_key("sid", s)))
        );
        let pruned = by_sub? + by_sid?;
        if pruned > 0 {
            tracing::debug!(pruned, "ended sessions pruned from the index");
        }
        Ok(())
    }

    /// Removes an ended session from its user's indexes (logout).
    pub async fn unindex(&self, id: &str, sub: Option<&str>, sid: Option<&str>) {
        let remove = |key: Option<String>| async move {
            if let Some(key) = key {
                let removed: Result<i64, _> = self.pool().zrem(&key, id).await;
                if let Err(err) = removed {
                    tracing::debug!(error = %err, "could not remove an ended session from its index");
                }
            }
        };
        tokio::join!(
            remove(sub.map(|s| Self::index_key("sub", s))),
            remove(sid.map(|s| Self::index_key("sid", s)))
        );
    }

    /// Deletes the sessions a logout token names: its `sid`'s, or without one, all of its
    /// `sub`'s (once per `jti`: [`super::SessionBackend::end_by_logout`]).
    pub async fn end_for(
        &self,
        request: &super::LogoutRequest,
    ) -> Result<super::LogoutOutcome, SessionError> {
        let ended = match (&request.sid, &request.sub) {
            (Some(sid), _) => self.end_sessions("sid", sid).await?,
            (None, Some(sub)) => self.end_sessions("sub", sub).await?,
            (None, None) => 0,
        };
        Ok(super::LogoutOutcome::Ended(ended))
    }

    /// Ends every session indexed under `kind` (`sub` or `sid`) = `value`; how many there were.
    /// The records live in other hash slots than the index (a cluster), so they are deleted one
    /// command each, sent together, and then taken out of the index.
    pub async fn end_sessions(&self, kind: &str, value: &str) -> Result<usize, SessionError> {
        let key = Self::index_key(kind, value);
        let ids: Vec<String> = self
            .shared
            .script(LIST_SCRIPT, vec![key.clone()], Vec::new())
            .await?;
        if ids.is_empty() {
            return Ok(0);
        }
        let deletes = ids.iter().map(|id| async move {
            let n: Result<i64, _> = self.pool().del(id.as_str()).await;
            n.map_err(unavailable)
        });
        let mut ended = 0usize;
        for deleted in futures_util::future::join_all(deletes).await {
            ended += usize::try_from(deleted?).unwrap_or(0);
        }
        let _: i64 = self.pool().zrem(&key, ids).await.map_err(unavailable)?;
        Ok(ended)
    }
}

/// tower-sessions-redis-store, saving a record once per request: the routes save explicitly (so
/// that a store that does not answer is the route's page) and the manager saves again after the
/// handler; a save of the same bytes this process saved since it last loaded the record (within
/// a few seconds) is not sent. Its `save` is
/// `SET … XX`: a record another request or a back-channel logout has deleted is never written
/// back.
#[derive(Debug, Clone)]
pub struct OnceSaved {
    inner: RedisStore<Pool>,
    written: Arc<Mutex<HashMap<Id, (u64, Instant)>>>,
}

/// How long a save is remembered as the last one: the length of a request.
const SAME_REQUEST: Duration = Duration::from_secs(5);

/// The record's data, hashed. Not its expiry: the manager's save after the handler sets it a
/// moment later than the route's save did (sometimes in the next second), and the record then
/// keeps the route's, at most [`SAME_REQUEST`] earlier.
fn fingerprint(record: &Record) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let sorted: std::collections::BTreeMap<_, _> = record.data.iter().collect();
    serde_json::to_string(&sorted)
        .unwrap_or_default()
        .hash(&mut h);
    h.finish()
}

impl OnceSaved {
    fn remember(&self, id: Id, print: Option<u64>) {
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        if written.len() > 4096 {
            written.retain(|_, (_, at)| at.elapsed() < SAME_REQUEST);
        }
        match print {
            Some(p) => written.insert(id, (p, Instant::now())),
            None => written.remove(&id),
        };
    }

    fn just_wrote(&self, id: Id, print: u64) -> bool {
        let written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        written
            .get(&id)
            .is_some_and(|(p, at)| *p == print && at.elapsed() < SAME_REQUEST)
    }
}

#[async_trait]
impl SessionStore for OnceSaved {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.inner.create(record).await?;
        self.remember(record.id, Some(fingerprint(record)));
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let print = fingerprint(record);
        if self.just_wrote(record.id, print) {
            return Ok(());
        }
        self.inner.save(record).await?;
        self.remember(record.id, Some(print));
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        // A request that reads the record starts afresh: only its own saves are compared.
        self.remember(*id, None);
        self.inner.load(id).await
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.remember(*id, None);
        self.inner.delete(id).await
    }
}

/// KEYS[1]: an index (a sorted set: session id scored by when it was indexed; a plain set from an
/// earlier version is converted). ARGV: the new session's id, now, the index's lifetime, and the
/// time before which a session has ended by its absolute lifetime. Returns how many were pruned.
const INDEX_SCRIPT: &str = r#"
if redis.call('TYPE', KEYS[1]).ok == 'set' then
  local old = redis.call('SMEMBERS', KEYS[1])
  redis.call('DEL', KEYS[1])
  for _, id in ipairs(old) do redis.call('ZADD', KEYS[1], ARGV[2], id) end
end
local pruned = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[4])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return pruned
"#;

/// KEYS[1]: an index (a sorted set, or a plain set from an earlier version): its session ids.
const LIST_SCRIPT: &str = r#"
if redis.call('TYPE', KEYS[1]).ok == 'set' then
  local ids = redis.call('SMEMBERS', KEYS[1])
  redis.call('DEL', KEYS[1])
  for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], 0, id) end
  return ids
end
return redis.call('ZRANGE', KEYS[1], 0, -1)
"#;

/// Key rotation for the id cookie: tower-sessions opens it with the current key only, so a cookie
/// that opens only under a key in `APP_SECRET_KEY_PREVIOUS` is sealed again under the current one
/// before the session layer reads it, and the browser gets the new value.
struct IdCookieRotation {
    max_age: i64,
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
            max_age: app.session_lifetimes.inactivity_secs(),
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
                self.path, self.max_age
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
