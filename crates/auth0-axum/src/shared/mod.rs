//! What every instance of the app must agree on: the logins already answered, the `jti`s already
//! used (DPoP proofs at the bearer API), the sessions ended by a back-channel logout (for cookie
//! sessions, which the server cannot delete), and who is refreshing a session's tokens right now.
//! With Redis (`SESSION_STORE=redis…`, or `REDIS_URL` beside cookie sessions) all of it lives
//! there and a replay is refused by every instance; without, each process keeps its own.

#[cfg(feature = "redis")]
pub(crate) mod redis;

use crate::config::SessionLifetimes;
use crate::primitives::unix_now;
use crate::session::ended::{EndedKind, EndedSessions, entry_key};
use crate::session::{LogoutOutcome, LogoutRequest, SessionError};
use crate::used_logins::UsedLogins;

/// What a used state is remembered for: a little past the login's own life, so clock steps cannot
/// reopen it.
const STATE_TTL_SECS: i64 = crate::session::LOGIN_TTL_SECS + 60;

pub(crate) struct Shared {
    logins: UsedLogins,
    dpop_proofs: UsedLogins,
    /// Sessions ended by back-channel logout (cookie sessions), as the session layer reads them.
    pub ended: EndedSessions,
    lifetimes: SessionLifetimes,
    #[cfg(feature = "redis")]
    pub redis: Option<redis::RedisShared>,
}

/// Hex of the first 16 bytes of SHA-256: keys never hold the value they stand for.
pub(crate) fn digest_hex(value: &str) -> String {
    use sha2::Digest as _;
    let full = sha2::Sha256::digest(value.as_bytes());
    full[..16].iter().map(|b| format!("{b:02x}")).collect()
}

impl Shared {
    /// Each process's own memories (no Redis).
    pub fn in_process(lifetimes: SessionLifetimes) -> Self {
        Self {
            logins: UsedLogins::default(),
            dpop_proofs: UsedLogins::default(),
            ended: EndedSessions::default(),
            lifetimes,
            #[cfg(feature = "redis")]
            redis: None,
        }
    }

    /// Shared through this Redis. With cookie sessions, the deny-list is followed from it from
    /// now on; sessions in Redis are deleted instead, and nothing is ever denied.
    #[cfg(feature = "redis")]
    pub fn in_redis(
        lifetimes: SessionLifetimes,
        redis: redis::RedisShared,
        cookie_sessions: bool,
    ) -> Self {
        let shared = Self {
            redis: Some(redis),
            ..Self::in_process(lifetimes)
        };
        if let (Some(redis), true) = (&shared.redis, cookie_sessions) {
            redis.follow_ended(shared.ended.clone(), lifetimes.absolute_secs);
        }
        shared
    }

    /// From the settings: Redis when the app has one (`SESSION_STORE` or `REDIS_URL`).
    pub fn from_settings(app: &crate::config::AppSettings) -> Result<Self, SessionError> {
        match &app.shared_redis {
            None => Ok(Self::in_process(app.session_lifetimes)),
            #[cfg(feature = "redis")]
            Some(url) => Ok(Self::in_redis(
                app.session_lifetimes,
                redis::RedisShared::connect(url, app.session_store_ca.as_deref())?,
                app.session_store == crate::config::SessionStoreSetting::Cookie,
            )),
            #[cfg(not(feature = "redis"))]
            Some(_) => Err(SessionError::Unavailable(
                "this build has no Redis client: build auth0-axum with its `redis` feature".into(),
            )),
        }
    }

    /// Marks a login's `state` answered: `false` if it was already (by any instance).
    pub async fn first_login_use(&self, state: &str) -> Result<bool, SessionError> {
        self.first_use("state", state, &self.logins).await
    }

    /// Marks a DPoP proof's `jti` used: `false` if it was already (by any instance).
    pub async fn first_dpop_use(&self, jti: &str) -> Result<bool, SessionError> {
        self.first_use("dpop", jti, &self.dpop_proofs).await
    }

    /// One ledger: in Redis (`auth0_login:KIND:<digest>`) when there is one, else `memory`.
    async fn first_use(
        &self,
        kind: &str,
        value: &str,
        memory: &UsedLogins,
    ) -> Result<bool, SessionError> {
        #[cfg(not(feature = "redis"))]
        let _ = kind;
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.redis {
            let key = format!("{}:{kind}:{}", redis::PREFIX, digest_hex(value));
            return redis.first_use(&key, STATE_TTL_SECS).await;
        }
        Ok(memory.first_use(value, unix_now()))
    }

    /// Carries out a back-channel logout (`end`) once per logout token's `jti`, in an order that
    /// survives a store that stalls mid-request: the `jti` is looked up, the sessions are ended,
    /// and only then is the `jti` recorded. A request answered 503 (the look-up or the ending did
    /// not answer in time) never recorded its `jti`, so the provider's retry of the same token is
    /// carried out, even when Redis runs the stalled commands later. When only the recording
    /// fails, the sessions are ended and the answer is 200 (the token could then be replayed, to
    /// end sessions already ended). Without Redis, this process's ledger.
    pub async fn once_per_logout_token<F, Fut>(
        &self,
        request: &LogoutRequest,
        end: F,
    ) -> Result<LogoutOutcome, SessionError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<LogoutOutcome, SessionError>>,
    {
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.redis {
            // The key earlier versions wrote: a replay across an upgrade is still refused.
            let key = format!("{}:jti:{}", redis::PREFIX, request.jti);
            if redis.get(&key).await?.is_some() {
                return Ok(LogoutOutcome::Replayed);
            }
            let outcome = end().await?;
            let secs = u64::try_from(request.remember_jti_secs).unwrap_or(0).max(1);
            if let Err(err) = redis
                .put(&key, "ended", std::time::Duration::from_secs(secs))
                .await
            {
                tracing::warn!(error = %err, "sessions ended, but the logout token's jti could not be recorded");
            }
            return Ok(outcome);
        }
        if !self
            .logins
            .first_use(&format!("jti:{}", request.jti), unix_now())
        {
            return Ok(LogoutOutcome::Replayed);
        }
        end().await
    }

    /// A back-channel logout of cookie sessions: its `sid` (or, without one, its `sub`) goes on
    /// the deny-list for as long as a session lives, announced to every instance through Redis.
    pub async fn deny(&self, request: &LogoutRequest) -> Result<LogoutOutcome, SessionError> {
        let entry = match (&request.sid, &request.sub) {
            (Some(sid), _) => entry_key(EndedKind::Sid, sid),
            (None, Some(sub)) => entry_key(EndedKind::Sub, sub),
            (None, None) => return Ok(LogoutOutcome::Ended(0)),
        };
        let now = unix_now();
        let keep = self.lifetimes.absolute_secs;
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.redis {
            redis.publish_ended(&entry, now, keep).await?;
        }
        self.ended.insert(entry, now, now, keep);
        Ok(LogoutOutcome::Denied)
    }

    /// Where the shared memories live, for logs.
    pub fn describe(&self) -> &str {
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.redis {
            return redis.display();
        }
        "this process"
    }
}

/// How long a refresh may hold its session's lock: the token endpoint's timeout and a margin.
#[cfg(feature = "redis")]
const REFRESH_LOCK: std::time::Duration = std::time::Duration::from_secs(8);

/// A refresh's outcome as the instance that made it hands it to the others (sealed).
#[cfg(feature = "redis")]
#[derive(serde::Serialize, serde::Deserialize)]
enum Handed {
    Tokens(crate::oidc::RefreshedTokens),
    Refused(String),
    Unavailable(String),
    RateLimited(Option<u64>),
}

#[cfg(feature = "redis")]
impl Handed {
    fn of(result: &Result<crate::oidc::RefreshedTokens, crate::oidc::RefreshError>) -> Self {
        use crate::oidc::RefreshError;
        match result {
            Ok(tokens) => Self::Tokens(tokens.clone()),
            Err(RefreshError::Refused(why)) => Self::Refused(why.clone()),
            // The refresh token is spent and its answer untrusted: for the others, a refusal.
            Err(RefreshError::IdTokenInvalid { summary, .. }) => Self::Refused(summary.clone()),
            Err(RefreshError::Unavailable(why)) => Self::Unavailable(why.clone()),
            Err(RefreshError::RateLimited { retry_after }) => Self::RateLimited(*retry_after),
        }
    }

    fn into_result(self) -> Result<crate::oidc::RefreshedTokens, crate::oidc::RefreshError> {
        use crate::oidc::RefreshError;
        match self {
            Self::Tokens(tokens) => Ok(tokens),
            Self::Refused(why) => Err(RefreshError::Refused(why)),
            Self::Unavailable(why) => Err(RefreshError::Unavailable(why)),
            Self::RateLimited(retry_after) => Err(RefreshError::RateLimited { retry_after }),
        }
    }
}

/// AES-256-GCM under a key derived from `APP_SECRET_KEY` and the refresh token being spent:
/// only an instance of this app holding that same refresh token can read the answer.
#[cfg(feature = "redis")]
fn answer_key(
    secret: &crate::config::SessionSecret,
    refresh_token: &str,
) -> ring::aead::LessSafeKey {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update(b"auth0-axum refresh answer\0");
    h.update(secret.bytes());
    h.update(b"\0");
    h.update(refresh_token.as_bytes());
    let key = ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, &h.finalize())
        .expect("32 bytes is an AES-256 key");
    ring::aead::LessSafeKey::new(key)
}

#[cfg(feature = "redis")]
fn seal_answer(key: &ring::aead::LessSafeKey, handed: &Handed) -> Option<String> {
    use base64::Engine as _;
    use ring::rand::SecureRandom as _;
    let mut nonce = [0u8; 12];
    ring::rand::SystemRandom::new().fill(&mut nonce).ok()?;
    let mut data = serde_json::to_vec(handed).ok()?;
    key.seal_in_place_append_tag(
        ring::aead::Nonce::assume_unique_for_key(nonce),
        ring::aead::Aad::empty(),
        &mut data,
    )
    .ok()?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&data);
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out))
}

#[cfg(feature = "redis")]
fn open_answer(key: &ring::aead::LessSafeKey, sealed: &str) -> Option<Handed> {
    use base64::Engine as _;
    let mut bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sealed)
        .ok()?;
    if bytes.len() < 12 {
        return None;
    }
    let mut data = bytes.split_off(12);
    let nonce = ring::aead::Nonce::try_assume_unique_for_key(&bytes).ok()?;
    let plain = key
        .open_in_place(nonce, ring::aead::Aad::empty(), &mut data)
        .ok()?;
    serde_json::from_slice(plain).ok()
}

impl Shared {
    /// One refresh of `refresh_token` across every instance: with Redis, the first takes a short
    /// lock and refreshes; the others, which found the lock held when they came, wait for its
    /// answer (sealed, in Redis for a few seconds) and use it. With cookie sessions, a request
    /// that comes after the lock is gone asks the provider itself: a copy of an old cookie meets
    /// Auth0's reuse detection, it is never handed the new tokens. A server-side session
    /// (`same_session`) is one record every request shares, so a request of it that read the
    /// record just before the refresh landed takes the answer too, instead of spending the old
    /// token a second time. Without Redis, this process's single flight.
    pub async fn refresh_once<F, Fut>(
        &self,
        secret: &crate::config::SessionSecret,
        refresh_token: &str,
        same_session: bool,
        refresh: F,
    ) -> Result<crate::oidc::RefreshedTokens, crate::oidc::RefreshError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<
                Output = Result<crate::oidc::RefreshedTokens, crate::oidc::RefreshError>,
            >,
    {
        #[cfg(not(feature = "redis"))]
        let _ = (secret, refresh_token, same_session);
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.redis {
            return refresh_in_redis(redis, secret, refresh_token, same_session, refresh).await;
        }
        refresh().await
    }
}

#[cfg(feature = "redis")]
async fn refresh_in_redis<F, Fut>(
    redis: &redis::RedisShared,
    secret: &crate::config::SessionSecret,
    refresh_token: &str,
    same_session: bool,
    refresh: F,
) -> Result<crate::oidc::RefreshedTokens, crate::oidc::RefreshError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<
            Output = Result<crate::oidc::RefreshedTokens, crate::oidc::RefreshError>,
        >,
{
    use crate::oidc::RefreshError;
    use std::time::{Duration, Instant};
    // One hash tag: the lock and the answer live in one slot of a cluster.
    let tag = digest_hex(refresh_token);
    let lock = format!("{}:refresh:{{{tag}}}:lock", redis::PREFIX);
    let answer = format!("{}:refresh:{{{tag}}}:answer", redis::PREFIX);
    let owner = crate::primitives::random_token(16);
    let key = answer_key(secret, refresh_token);
    match redis.try_lock(&lock, &owner, REFRESH_LOCK).await {
        Ok(true) => {
            if same_session
                && let Ok(Some(sealed)) = redis.get(&answer).await
                && let Some(handed) = open_answer(&key, &sealed)
            {
                let _ = redis.unlock(&lock, &owner).await;
                return handed.into_result();
            }
            let result = refresh().await;
            if let Some(sealed) = seal_answer(&key, &Handed::of(&result))
                && let Err(err) = redis.put(&answer, &sealed, Duration::from_secs(5)).await
            {
                tracing::warn!(error = %err, "could not hand the refresh's answer to the other instances");
            }
            if let Err(err) = redis.unlock(&lock, &owner).await {
                tracing::debug!(error = %err, "could not release the refresh lock (it expires by itself)");
            }
            result
        }
        Ok(false) => {
            // Another request (here or on another instance) is refreshing this token: wait for
            // its answer, as long as its lock may be held.
            let deadline = Instant::now() + REFRESH_LOCK + Duration::from_millis(500);
            loop {
                tokio::time::sleep(Duration::from_millis(20)).await;
                match redis.get(&answer).await {
                    Ok(Some(sealed)) => {
                        return match open_answer(&key, &sealed) {
                            Some(handed) => handed.into_result(),
                            None => Err(RefreshError::Unavailable(
                                "another instance's refresh answer could not be read".into(),
                            )),
                        };
                    }
                    Ok(None) => {}
                    Err(err) => return Err(RefreshError::Unavailable(err.to_string())),
                }
                let held = redis.locked(&lock).await.unwrap_or(false);
                if !held || Instant::now() > deadline {
                    return Err(RefreshError::Unavailable(
                        "another instance was renewing this session's tokens and did not finish"
                            .into(),
                    ));
                }
            }
        }
        Err(err) => {
            // Without the shared lock this instance refreshes alone (this process still makes
            // one request per token); a concurrent refresh elsewhere may then meet reuse.
            tracing::warn!(error = %err, "the refresh lock could not be taken; refreshing without it");
            refresh().await
        }
    }
}
