//! The provider's signing keys: fetched on first use, trusted for [`JWKS_TTL`], refetched at most
//! once per [`UNKNOWN_KID_REFETCH_INTERVAL`] when a token names a key the set lacks (rotation).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openidconnect::core::{CoreJsonWebKey, CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use url::Url;

use super::single_flight::SingleFlight;
use super::{Provider, describe_reqwest};
use crate::token_check::{KeyError, KeySource, ambiguous_without_kid, key_ids, select_key};

/// How long a JWKS is trusted before it is fetched again on next use.
pub const JWKS_TTL: Duration = Duration::from_secs(600);
/// A `kid` the key set was refetched for (and still lacked) is not refetched for again within
/// this window, however many tokens name it.
pub const UNKNOWN_KID_REFETCH_INTERVAL: Duration = Duration::from_secs(10);
/// At most this many refetches for unknown `kid`s in that window, whatever the `kid`s: a flood of
/// made-up `kid`s costs the provider at most this, while a key never seen before is fetched at
/// once (a login signed with a new key a moment after another fetch works).
pub const MAX_UNKNOWN_KID_REFETCHES: usize = 3;
/// How many refetched-for `kid`s are remembered at most.
const MAX_REMEMBERED_KIDS: usize = 256;
/// While the JWKS cannot be fetched, tokens get the remembered failure for this long.
pub const JWKS_FAILURE_MEMORY: Duration = Duration::from_secs(5);

#[derive(Default)]
pub(super) struct JwksState {
    set: Option<Arc<CoreJsonWebKeySet>>,
    fetched_at: Option<Instant>,
    /// When each recent unknown-`kid` refetch happened (within the window).
    unknown_kid_refetches: std::collections::VecDeque<Instant>,
    /// The `kid`s those refetches were for.
    refetched_for: std::collections::HashMap<String, Instant>,
}

impl JwksState {
    /// Whether an unknown `kid` may refetch the key set now; if so, it is counted.
    fn may_refetch_for(&mut self, kid: Option<&str>) -> bool {
        let now = Instant::now();
        let recent = |at: &Instant| now.duration_since(*at) < UNKNOWN_KID_REFETCH_INTERVAL;
        self.unknown_kid_refetches.retain(recent);
        self.refetched_for.retain(|_, at| recent(at));
        let kid = kid.unwrap_or_default();
        if self.refetched_for.contains_key(kid)
            || self.unknown_kid_refetches.len() >= MAX_UNKNOWN_KID_REFETCHES
        {
            return false;
        }
        self.unknown_kid_refetches.push_back(now);
        if self.refetched_for.len() < MAX_REMEMBERED_KIDS {
            self.refetched_for.insert(kid.to_string(), now);
        }
        true
    }
}

pub(super) struct JwksCache {
    state: Mutex<JwksState>,
    fetch: SingleFlight<Arc<CoreJsonWebKeySet>, KeyError>,
}

impl Default for JwksCache {
    fn default() -> Self {
        Self {
            state: Mutex::default(),
            fetch: SingleFlight::new(JWKS_FAILURE_MEMORY),
        }
    }
}

impl JwksCache {
    fn state(&self) -> std::sync::MutexGuard<'_, JwksState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl KeySource for Provider {
    async fn key_for(
        &self,
        kid: Option<&str>,
        alg: &CoreJwsSigningAlgorithm,
    ) -> Result<CoreJsonWebKey, KeyError> {
        let metadata = self.metadata().await.map_err(|f| KeyError::FetchFailed {
            jwks_uri: f.url,
            reason: f.reason,
        })?;
        let (cached, fresh) = {
            let state = self.jwks.state();
            let fresh = state.fetched_at.is_some_and(|t| t.elapsed() < JWKS_TTL);
            (state.set.clone().filter(|_| fresh), fresh)
        };
        let set = match cached {
            Some(set) => set,
            None => self.fetch_jwks_shared(&metadata.jwks_uri).await?,
        };
        if let Some(key) = select_key(&set, kid, alg) {
            return Ok(key.clone());
        }
        if let Some(candidates) = ambiguous_without_kid(&set, kid, alg) {
            return Err(KeyError::AmbiguousKey { candidates });
        }
        // An unknown kid: the keys may have rotated. Refetch at once, unless this kid was just
        // refetched for, or too many were (a flood of made-up kids).
        let may_refetch = fresh && self.jwks.state().may_refetch_for(kid);
        let set = if may_refetch {
            let set = self.fetch_jwks_shared(&metadata.jwks_uri).await?;
            if let Some(key) = select_key(&set, kid, alg) {
                tracing::info!(
                    kid = kid.map(crate::token_check::text::quote).unwrap_or_default(),
                    "signing key rotated: found after refetching the JWKS"
                );
                return Ok(key.clone());
            }
            set
        } else {
            set
        };
        Err(KeyError::NoMatchingKey {
            kid: kid.map(str::to_string),
            available: key_ids(&set),
        })
    }
}

impl Provider {
    /// Fetches the JWKS (or joins the fetch under way) and caches it.
    async fn fetch_jwks_shared(&self, jwks_uri: &Url) -> Result<Arc<CoreJsonWebKeySet>, KeyError> {
        self.jwks
            .fetch
            .run(false, || async {
                let set = Arc::new(self.fetch_jwks(jwks_uri).await?);
                let mut state = self.jwks.state();
                state.set = Some(set.clone());
                state.fetched_at = Some(Instant::now());
                Ok(set)
            })
            .await
    }

    async fn fetch_jwks(&self, jwks_uri: &Url) -> Result<CoreJsonWebKeySet, KeyError> {
        let fail = |reason: String| KeyError::FetchFailed {
            jwks_uri: jwks_uri.to_string(),
            reason,
        };
        let response = self
            .http
            .get(jwks_uri.clone())
            .send()
            .await
            .map_err(|e| fail(describe_reqwest(&e)))?;
        if !response.status().is_success() {
            return Err(fail(format!("answered HTTP {}", response.status())));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| fail(describe_reqwest(&e)))?;
        serde_json::from_slice(&body).map_err(|e| fail(format!("not a JWKS: {e}")))
    }
}
