//! The Redis every instance shares: one connection pool for the session records (when
//! `SESSION_STORE` is Redis), the ledgers of used states and `jti`s, the deny-list of ended
//! sessions (kept current in each instance by pub/sub) and the refresh locks. A server, a cluster
//! or a sentinel, plain or over TLS (`rediss`: the system's roots, plus `SESSION_STORE_CA_FILE`).
//!
//! Every key this crate writes besides a session record starts with [`PREFIX`]; keys that are
//! used together carry one hash tag (`{...}`), so a cluster keeps them in one slot.

use std::time::Duration;

use fred::prelude::{
    Builder, Client, ClientLike, Config, EventInterface, Expiration, KeysInterface, Pool,
    PubsubInterface, ReconnectPolicy, SetOptions, SortedSetsInterface, TlsConfig, TlsConnector,
};
use fred::types::{ClusterHash, CustomCommand};
use url::Url;

use crate::config::redis_display;
use crate::session::SessionError;
use crate::session::ended::EndedSessions;

/// How long one Redis command may take before the page says the store is not answering.
pub const COMMAND_TIMEOUT: Duration = Duration::from_millis(1500);
/// Connections to Redis: two cores, so two are plenty.
const POOL_SIZE: usize = 2;
/// Our keys' prefix (tower-sessions' records are keyed by the bare session id).
pub const PREFIX: &str = "auth0_login";
/// The deny-list's sorted set (member `sid:…`/`sub:…`, scored by when it was ended) and the
/// channel on which each new entry is announced.
const ENDED_KEY: &str = "auth0_login:ended";
/// How often each instance reads the whole deny-list again, should it have missed a message.
const ENDED_RELOAD: Duration = Duration::from_secs(30);

pub(crate) fn unavailable(err: impl std::fmt::Display) -> SessionError {
    SessionError::Unavailable(err.to_string())
}

/// The connection to the shared Redis.
#[derive(Clone)]
pub struct RedisShared {
    pool: Pool,
    config: std::sync::Arc<Config>,
    /// The URL without credentials: for logs and pages.
    display: std::sync::Arc<str>,
}

impl std::fmt::Debug for RedisShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedisShared({})", self.display)
    }
}

/// TLS for a `rediss` URL: the system's root certificates and, with `SESSION_STORE_CA_FILE`, a
/// private CA beside them.
fn tls(ca_pem: Option<&str>) -> Result<TlsConfig, SessionError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    let system = rustls_native_certs::load_native_certs();
    for cert in system.certs {
        // A system certificate rustls cannot read is skipped, as browsers do.
        let _ = roots.add(cert);
    }
    if let Some(pem) = ca_pem {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert = cert.map_err(|e| unavailable(format!("SESSION_STORE_CA_FILE: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| unavailable(format!("SESSION_STORE_CA_FILE: {e}")))?;
            added += 1;
        }
        if added == 0 {
            return Err(unavailable("SESSION_STORE_CA_FILE holds no certificate"));
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(unavailable)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(client).into())
}

impl RedisShared {
    /// Starts connecting in the background (the app starts while Redis is down, and reconnects
    /// whenever it comes back). Fails only on a URL the client cannot use.
    pub fn connect(url: &Url, ca_pem: Option<&str>) -> Result<Self, SessionError> {
        let mut config = Config::from_url(url.as_str()).map_err(unavailable)?;
        if url.scheme().starts_with("rediss") {
            config.tls = Some(tls(ca_pem)?);
        }
        // Keep retrying the first connection too, instead of failing startup.
        config.fail_fast = false;
        let pool = Self::builder(&config)
            .build_pool(POOL_SIZE)
            .map_err(unavailable)?;
        drop(pool.connect());
        let shown = redis_display(url);
        tracing::info!(store = %shown, "connecting to Redis");
        Ok(Self {
            pool,
            config: std::sync::Arc::new(config),
            display: shown.into(),
        })
    }

    fn builder(config: &Config) -> Builder {
        let mut builder = Builder::from_config(config.clone());
        // A cluster answers MOVED while its slots move (and right after it forms): the command
        // is sent again to the slot's new node. Elsewhere one attempt, within the timeout.
        let attempts = if config.server.is_clustered() { 3 } else { 1 };
        builder
            .with_connection_config(|c| {
                c.connection_timeout = COMMAND_TIMEOUT;
                c.internal_command_timeout = COMMAND_TIMEOUT;
                c.max_command_attempts = attempts;
            })
            .with_performance_config(|p| p.default_command_timeout = COMMAND_TIMEOUT)
            // Forever, every half second at most: Redis coming back is noticed quickly.
            .set_policy(ReconnectPolicy::new_exponential(0, 100, 500, 2));
        builder
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub fn display(&self) -> &str {
        &self.display
    }

    /// Whether Redis answers now (readiness).
    pub async fn ping(&self) -> Result<(), SessionError> {
        self.pool.ping::<()>(None).await.map_err(unavailable)
    }

    /// Marks `key` used for `ttl_secs`: `true` the first time, `false` when some instance had
    /// already (one `SET NX`, atomic across instances).
    pub async fn first_use(&self, key: &str, ttl_secs: i64) -> Result<bool, SessionError> {
        let set: Option<String> = self
            .pool
            .set(
                key,
                "1",
                Some(Expiration::EX(ttl_secs.max(1))),
                Some(SetOptions::NX),
                false,
            )
            .await
            .map_err(unavailable)?;
        Ok(set.is_some())
    }

    /// Runs one of our Lua scripts: one round trip, atomic in Redis. Its keys must share a slot.
    pub async fn script<R: fred::types::FromValue>(
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

    /// Takes the lock `key` for `ttl`, as `owner`: `false` when another holds it.
    pub async fn try_lock(
        &self,
        key: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<bool, SessionError> {
        let ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let set: Option<String> = self
            .pool
            .set(
                key,
                owner,
                Some(Expiration::PX(ms)),
                Some(SetOptions::NX),
                false,
            )
            .await
            .map_err(unavailable)?;
        Ok(set.is_some())
    }

    /// Releases the lock `key` if `owner` still holds it.
    pub async fn unlock(&self, key: &str, owner: &str) -> Result<(), SessionError> {
        let _: i64 = self
            .script(
                UNLOCK_SCRIPT,
                vec![key.to_string()],
                vec![owner.to_string()],
            )
            .await?;
        Ok(())
    }

    /// Whether the lock `key` is held.
    pub async fn locked(&self, key: &str) -> Result<bool, SessionError> {
        let n: i64 = self.pool.exists(key).await.map_err(unavailable)?;
        Ok(n > 0)
    }

    /// Stores `value` at `key` for `ttl`.
    pub async fn put(&self, key: &str, value: &str, ttl: Duration) -> Result<(), SessionError> {
        let ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        self.pool
            .set::<(), _, _>(key, value, Some(Expiration::PX(ms)), None, false)
            .await
            .map_err(unavailable)
    }

    /// The value at `key`, if any.
    pub async fn get(&self, key: &str) -> Result<Option<String>, SessionError> {
        self.pool.get(key).await.map_err(unavailable)
    }

    /// Adds an entry to the shared deny-list (kept `keep_secs`) and announces it to every
    /// instance.
    pub async fn publish_ended(
        &self,
        entry: &str,
        at: i64,
        keep_secs: i64,
    ) -> Result<(), SessionError> {
        let horizon = at.saturating_sub(keep_secs);
        let _: i64 = self
            .script(
                ENDED_SCRIPT,
                vec![ENDED_KEY.to_string()],
                vec![
                    entry.to_string(),
                    at.to_string(),
                    horizon.to_string(),
                    keep_secs.to_string(),
                ],
            )
            .await?;
        // In a cluster, the script's key and the channel may live on different nodes: the
        // announcement is its own command (PUBLISH reaches every node's subscribers).
        let _: i64 = self
            .pool
            .next()
            .publish(ENDED_KEY, format!("{at} {entry}"))
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Keeps `ended` current from Redis for as long as the process runs: the whole list at each
    /// (re)connection and every [`ENDED_RELOAD`], each new entry as it is announced.
    pub fn follow_ended(&self, ended: EndedSessions, keep_secs: i64) {
        let Ok(subscriber) = Self::builder(&self.config).build() else {
            tracing::warn!("could not make a Redis subscriber; the deny-list is read every 30 s");
            return self.spawn_reloads(ended, keep_secs, None);
        };
        let on_message = ended.clone();
        drop(subscriber.on_message(move |message| {
            let ended = on_message.clone();
            async move {
                if let Some(text) = message.value.as_str()
                    && let Some((at, entry)) = text.split_once(' ')
                    && let Ok(at) = at.parse::<i64>()
                {
                    ended.insert(
                        entry.to_string(),
                        at,
                        crate::primitives::unix_now(),
                        keep_secs,
                    );
                }
                Ok(())
            }
        }));
        self.spawn_reloads(ended, keep_secs, Some(subscriber));
    }

    fn spawn_reloads(&self, ended: EndedSessions, keep_secs: i64, subscriber: Option<Client>) {
        let shared = self.clone();
        tokio::spawn(async move {
            let mut reconnects = subscriber.as_ref().map(|s| {
                drop(s.connect());
                s.reconnect_rx()
            });
            let mut subscribed = false;
            loop {
                if let Some(s) = &subscriber
                    && !subscribed
                {
                    subscribed =
                        s.wait_for_connect().await.is_ok() && s.subscribe(ENDED_KEY).await.is_ok();
                }
                match shared.load_ended(&ended, keep_secs).await {
                    Ok(n) => tracing::debug!(entries = n, "deny-list of ended sessions read"),
                    Err(err) => {
                        tracing::warn!(error = %err, "could not read the deny-list of ended sessions")
                    }
                }
                let wait = tokio::time::sleep(ENDED_RELOAD);
                match reconnects.as_mut() {
                    Some(rx) => tokio::select! {
                        _ = wait => {}
                        _ = rx.recv() => subscribed = false,
                    },
                    None => wait.await,
                }
            }
        });
    }

    async fn load_ended(
        &self,
        ended: &EndedSessions,
        keep_secs: i64,
    ) -> Result<usize, SessionError> {
        let now = crate::primitives::unix_now();
        let entries: Vec<(String, f64)> = self
            .pool
            .zrangebyscore(ENDED_KEY, now.saturating_sub(keep_secs), "+inf", true, None)
            .await
            .map_err(unavailable)?;
        let n = entries.len();
        for (entry, at) in entries {
            ended.insert(entry, at as i64, now, keep_secs);
        }
        Ok(n)
    }
}

/// KEYS[1]: a lock; ARGV[1]: its owner. Deletes it only if that owner still holds it.
const UNLOCK_SCRIPT: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"#;

/// KEYS[1]: the deny-list. ARGV: the entry, when it was ended, the horizon before which entries
/// are dropped, and how long the list is kept. A later time wins.
const ENDED_SCRIPT: &str = r#"
local old = redis.call('ZSCORE', KEYS[1], ARGV[1])
if (not old) or tonumber(old) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
"#;
