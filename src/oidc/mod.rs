//! The provider's lifecycle: discovery (retried in the background until it succeeds), the cached
//! metadata, the JWKS cache that refetches once on an unknown `kid`, and the two back-channel
//! calls (code exchange, userinfo). One reqwest client does all of it: no redirects, timeouts.
//! Discovery and JWKS fetches are single-flight with their failures remembered briefly
//! ([`single_flight`]): a burst of requests while the provider is down or slow makes one request.

mod single_flight;

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use openidconnect::ProviderMetadataWithLogout;
use openidconnect::core::{
    CoreClientAuthMethod, CoreJsonWebKey, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use single_flight::SingleFlight;

use crate::config::Config;
use crate::token_check::{KeyError, KeySource, key_ids, select_key};

/// How long a JWKS is trusted before it is fetched again on next use.
pub const JWKS_TTL: Duration = Duration::from_secs(600);
/// At most one refetch for unknown `kid`s in this window, however many such tokens arrive.
pub const UNKNOWN_KID_REFETCH_INTERVAL: Duration = Duration::from_secs(10);
/// While discovery fails, requests get the remembered failure for this long before one retries
/// (the background task retries on its own schedule).
const DISCOVERY_FAILURE_MEMORY: Duration = Duration::from_secs(1);
/// While the JWKS cannot be fetched, tokens get the remembered failure for this long.
pub const JWKS_FAILURE_MEMORY: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The one HTTP client: never follows redirects (SSRF), gives up rather than hangs.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .user_agent(concat!("auth0-login/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a reqwest client with rustls and static settings always builds")
}

/// How the app authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    Basic,
    Post,
}

/// What discovery told us, reduced to what the app uses.
#[derive(Debug, Clone)]
pub struct Metadata {
    /// Exactly as advertised (Auth0's ends in `/`).
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: String,
    pub end_session_endpoint: Option<String>,
    pub client_auth: ClientAuth,
    /// RFC 9207 `authorization_response_iss_parameter_supported`: every answer names the issuer.
    pub response_iss: bool,
}

/// Why the provider could not be used, for the 503 page and the log.
#[derive(Debug, Clone)]
pub struct ProviderFailure {
    pub url: String,
    pub reason: String,
    pub hint: String,
}

#[derive(Default)]
struct JwksState {
    set: Option<Arc<CoreJsonWebKeySet>>,
    fetched_at: Option<Instant>,
    last_unknown_kid_refetch: Option<Instant>,
}

pub struct Provider {
    discovery_url: String,
    expected_issuer: String,
    http: reqwest::Client,
    /// Set once discovery succeeds; read on every request (no await, no contention).
    metadata: RwLock<Option<Arc<Metadata>>>,
    discovery: SingleFlight<Arc<Metadata>, ProviderFailure>,
    jwks: Mutex<JwksState>,
    jwks_fetch: SingleFlight<Arc<CoreJsonWebKeySet>, KeyError>,
}

fn describe_reqwest(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    // reqwest's own text repeats the URL; the sources carry the cause.
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        causes.push(s.to_string());
        source = s.source();
    }
    causes.dedup();
    if causes.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {}", causes.join(": "))
    }
}

impl Provider {
    pub fn new(config: &Config, http: reqwest::Client) -> Arc<Self> {
        Self::for_base(&config.provider_base, http)
    }

    /// A provider found at `base` (ending in `/`), e.g. `https://TENANT.auth0.com/`.
    pub fn for_base(base: &url::Url, http: reqwest::Client) -> Arc<Self> {
        Arc::new(Self {
            discovery_url: crate::config::discovery_url_for(base),
            expected_issuer: base.to_string(),
            http,
            metadata: RwLock::new(None),
            discovery: SingleFlight::new(DISCOVERY_FAILURE_MEMORY),
            jwks: Mutex::new(JwksState::default()),
            jwks_fetch: SingleFlight::new(JWKS_FAILURE_MEMORY),
        })
    }

    fn cached_metadata(&self) -> Option<Arc<Metadata>> {
        self.metadata
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn jwks_state(&self) -> std::sync::MutexGuard<'_, JwksState> {
        self.jwks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The metadata: cached, or discovered now (joining a discovery already under way, or answering
    /// a failure of the last second from memory).
    pub async fn metadata(&self) -> Result<Arc<Metadata>, ProviderFailure> {
        if let Some(m) = self.cached_metadata() {
            return Ok(m);
        }
        self.discover_shared(false).await
    }

    async fn discover_shared(&self, retry_now: bool) -> Result<Arc<Metadata>, ProviderFailure> {
        self.discovery
            .run(retry_now, || async {
                match self.discover().await {
                    Ok(m) => {
                        let m = Arc::new(m);
                        *self.metadata.write().unwrap_or_else(|e| e.into_inner()) = Some(m.clone());
                        tracing::info!(issuer = %m.issuer, "provider discovered");
                        Ok(m)
                    }
                    Err(failure) => {
                        tracing::warn!(url = %failure.url, reason = %failure.reason, "provider discovery failed");
                        Err(failure)
                    }
                }
            })
            .await
    }

    /// Whether the discovered provider promised RFC 9207's `iss` in every authorization answer
    /// (false while undiscovered: the callback then discovers before it decides).
    pub fn promises_response_iss(&self) -> bool {
        self.cached_metadata().is_some_and(|m| m.response_iss)
    }

    /// Retries discovery with backoff until it succeeds, so the app starts while the provider is down.
    pub fn spawn_discovery(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let provider = self.clone();
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(500);
            while provider.cached_metadata().is_none()
                && provider.discover_shared(true).await.is_err()
            {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        })
    }

    async fn discover(&self) -> Result<Metadata, ProviderFailure> {
        let url = self.discovery_url.clone();
        let fail = |reason: String, hint: &str| ProviderFailure {
            url: url.clone(),
            reason,
            hint: hint.to_string(),
        };
        let response = self.http.get(&url).send().await.map_err(|e| {
            fail(
                describe_reqwest(&e),
                "Check AUTH0_DOMAIN (your tenant's domain, e.g. dev-abc123.us.auth0.com) and that this server can reach it. The app keeps retrying in the background.",
            )
        })?;
        let status = response.status();
        if !status.is_success() {
            return Err(fail(
                format!("answered HTTP {status}"),
                "The host answered but has no OpenID discovery document there: AUTH0_DOMAIN must be the tenant's domain exactly as shown in the Auth0 dashboard.",
            ));
        }
        let body = response.bytes().await.map_err(|e| {
            fail(
                describe_reqwest(&e),
                "The provider stopped answering mid-response; try again.",
            )
        })?;
        let response_iss = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| {
                v.get("authorization_response_iss_parameter_supported")?
                    .as_bool()
            })
            .unwrap_or(false);
        let doc: ProviderMetadataWithLogout = serde_json::from_slice(&body).map_err(|e| {
            fail(
                format!("the discovery document does not parse: {e}"),
                "AUTH0_DOMAIN points at something that is not an OpenID provider.",
            )
        })?;
        let issuer = doc.issuer().to_string();
        if issuer.trim_end_matches('/') != self.expected_issuer.trim_end_matches('/') {
            return Err(fail(
                format!(
                    "the document advertises issuer {issuer}, not {}",
                    self.expected_issuer
                ),
                "AUTH0_DOMAIN must be the tenant's own domain. With a custom domain, use the custom domain.",
            ));
        }
        let Some(token_endpoint) = doc.token_endpoint() else {
            return Err(fail(
                "the document has no token_endpoint".into(),
                "The provider does not support the authorization code flow.",
            ));
        };
        let methods = doc.token_endpoint_auth_methods_supported();
        let supports = |m: &CoreClientAuthMethod| methods.is_none_or(|list| list.contains(m));
        let client_auth = if supports(&CoreClientAuthMethod::ClientSecretBasic) {
            ClientAuth::Basic
        } else {
            ClientAuth::Post
        };
        Ok(Metadata {
            issuer,
            authorization_endpoint: doc.authorization_endpoint().to_string(),
            token_endpoint: token_endpoint.to_string(),
            userinfo_endpoint: doc.userinfo_endpoint().map(|u| u.to_string()),
            jwks_uri: doc.jwks_uri().to_string(),
            end_session_endpoint: doc
                .additional_metadata()
                .end_session_endpoint
                .as_ref()
                .map(|u| u.to_string()),
            client_auth,
            response_iss,
        })
    }

    async fn fetch_jwks(&self, jwks_uri: &str) -> Result<CoreJsonWebKeySet, KeyError> {
        let fail = |reason: String| KeyError::FetchFailed {
            jwks_uri: jwks_uri.to_string(),
            reason,
        };
        let response = self
            .http
            .get(jwks_uri)
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
            let state = self.jwks_state();
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
        // An unknown kid: the keys may have rotated. Refetch once, unless one was just done.
        let may_refetch = fresh && {
            let mut state = self.jwks_state();
            let due = state
                .last_unknown_kid_refetch
                .is_none_or(|t| t.elapsed() >= UNKNOWN_KID_REFETCH_INTERVAL);
            if due {
                state.last_unknown_kid_refetch = Some(Instant::now());
            }
            due
        };
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
    async fn fetch_jwks_shared(&self, jwks_uri: &str) -> Result<Arc<CoreJsonWebKeySet>, KeyError> {
        self.jwks_fetch
            .run(false, || async {
                let set = Arc::new(self.fetch_jwks(jwks_uri).await?);
                let mut state = self.jwks_state();
                state.set = Some(set.clone());
                state.fetched_at = Some(Instant::now());
                Ok(set)
            })
            .await
    }
}

/// What the token endpoint returned.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
    pub expires_in: Option<i64>,
}

#[derive(Debug, Clone)]
pub enum ExchangeError {
    /// The provider could not be reached or answered garbage.
    Unreachable(String),
    /// The provider refused the code (OAuth `error` and `error_description`).
    Rejected {
        status: u16,
        error: String,
        description: String,
    },
}

#[derive(Deserialize)]
struct OAuthError {
    error: String,
    #[serde(default)]
    error_description: String,
}

impl Provider {
    /// Exchanges an authorization code (with its PKCE verifier) for tokens.
    pub async fn exchange_code(
        &self,
        metadata: &Metadata,
        config: &Config,
        code: &str,
        pkce_verifier: &str,
    ) -> Result<TokenResponse, ExchangeError> {
        let redirect_uri = config.redirect_uri();
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", pkce_verifier),
        ];
        let mut request = self.http.post(&metadata.token_endpoint);
        match metadata.client_auth {
            ClientAuth::Basic => {
                // RFC 6749 2.3.1: form-encode both parts before Basic.
                let enc = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                request = request.basic_auth(
                    enc(&config.client_id),
                    Some(enc(config.client_secret.expose())),
                );
            }
            ClientAuth::Post => {
                form.push(("client_id", &config.client_id));
                form.push(("client_secret", config.client_secret.expose()));
            }
        }
        let response = request
            .form(&form)
            .send()
            .await
            .map_err(|e| ExchangeError::Unreachable(describe_reqwest(&e)))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| ExchangeError::Unreachable(describe_reqwest(&e)))?;
        if !status.is_success() {
            let parsed: Option<OAuthError> = serde_json::from_slice(&body).ok();
            return Err(match parsed {
                Some(e) => ExchangeError::Rejected {
                    status: status.as_u16(),
                    error: e.error,
                    description: e.error_description,
                },
                None => {
                    ExchangeError::Unreachable(format!("the token endpoint answered HTTP {status}"))
                }
            });
        }
        serde_json::from_slice(&body).map_err(|e| {
            ExchangeError::Unreachable(format!("the token response does not parse: {e}"))
        })
    }

    /// The userinfo claims for an access token.
    pub async fn userinfo(
        &self,
        metadata: &Metadata,
        access_token: &str,
    ) -> Result<Map<String, Value>, String> {
        let Some(endpoint) = &metadata.userinfo_endpoint else {
            return Err("the provider has no userinfo endpoint".into());
        };
        let response = self
            .http
            .get(endpoint)
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(|e| describe_reqwest(&e))?;
        if !response.status().is_success() {
            return Err(format!("userinfo answered HTTP {}", response.status()));
        }
        response
            .json::<Map<String, Value>>()
            .await
            .map_err(|e| format!("userinfo is not a JSON object: {e}"))
    }
}
