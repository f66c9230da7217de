//! The provider and the protocol. [`Provider`]: discovery (retried in the background until it
//! succeeds) and the cached metadata, and the JWKS cache that refetches on an unknown `kid`
//! (`jwks`). [`LoginClient`] (`client`): this app's credentials, and the protocol's verbs:
//! `login` (authorize URL, code exchange, ID-token checks, logout URL), `userinfo`, `refresh`
//! (refresh-token grant, one per token at a time) and `backchannel` (logout tokens checked as the
//! spec says). `outcome` holds what they yield and how they fail; `issuer_keys` a tenant's keys
//! for a check outside an app. One reqwest client does all of it: no redirects, timeouts.
//! Discovery and JWKS fetches are single-flight with their failures remembered briefly: a burst
//! of requests while the provider is down or slow makes one request.
//!
//! Imports `config`, `session` (the login transaction, the user it yields), `token_check` and
//! `primitives`; never HTTP routes or pages.

mod backchannel;
mod client;
mod issuer_keys;
mod jwks;
mod login;
mod outcome;
mod params;
mod refresh;
mod single_flight;
mod token_endpoint;
mod userinfo;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use openidconnect::ProviderMetadataWithLogout;
use openidconnect::core::CoreClientAuthMethod;
use serde_json::Value;
use url::Url;

pub use backchannel::LogoutTokenError;
pub use client::LoginClient;
pub use issuer_keys::IssuerKeys;
pub use jwks::{JWKS_FAILURE_MEMORY, MAX_UNKNOWN_KID_REFETCHES};
pub use outcome::{AuthorizeError, LoginError, MFA_POLICY};
pub use params::{AuthorizeParams, InvalidParameter, RequestedParams};
pub use refresh::{LoginIdentity, RefreshError, RefreshedTokens, Resource, granted};
use single_flight::SingleFlight;

/// While discovery fails, requests get the remembered failure for this long before one retries
/// (the background task retries on its own schedule).
const DISCOVERY_FAILURE_MEMORY: Duration = Duration::from_secs(1);
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
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub userinfo_endpoint: Option<Url>,
    pub jwks_uri: Url,
    pub end_session_endpoint: Option<Url>,
    pub client_auth: ClientAuth,
    /// RFC 9207 `authorization_response_iss_parameter_supported`: every answer names the issuer.
    pub response_iss: bool,
    /// RFC 9126 `pushed_authorization_request_endpoint`.
    pub par_endpoint: Option<Url>,
    /// RFC 9126 `require_pushed_authorization_requests`: only pushed requests are accepted.
    pub par_required: bool,
    /// RFC 7009 `revocation_endpoint` (Auth0: `/oauth/revoke`).
    pub revocation_endpoint: Option<Url>,
}

/// Why the provider could not be used, for the 503 page and the log.
#[derive(Debug, Clone)]
pub struct ProviderFailure {
    pub url: String,
    pub reason: String,
    pub hint: String,
}

/// The kinds a network failure's reason starts with ([`describe_reqwest`]).
const NETWORK_KINDS: [&str; 3] = ["timed out", "could not connect", "request failed"];

/// A reason as a public page may say it: a network failure's kind only ("could not connect"),
/// without the addresses, DNS names and OS errors its causes carry (those go to the log); any
/// other reason as it is.
pub(crate) fn public_reason(reason: &str) -> &str {
    NETWORK_KINDS
        .into_iter()
        .find(|kind| reason.starts_with(kind))
        .unwrap_or(reason)
}

impl ProviderFailure {
    /// [`public_reason`] of this failure; its URL goes to the log too.
    pub fn public_reason(&self) -> &str {
        public_reason(&self.reason)
    }
}

/// A provider found by discovery: its metadata and its keys.
pub struct Provider {
    discovery_url: String,
    expected_issuer: String,
    http: reqwest::Client,
    /// Set once discovery succeeds; read on every request (no await, no contention).
    metadata: RwLock<Option<Arc<Metadata>>>,
    discovery: SingleFlight<Arc<Metadata>, ProviderFailure>,
    jwks: jwks::JwksCache,
}

/// A reqwest error without the URL it repeats: the kind, then the causes.
pub(crate) fn describe_reqwest(err: &reqwest::Error) -> String {
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
    /// A provider found at `base` (ending in `/`), e.g. `https://TENANT.auth0.com/`.
    pub fn for_base(base: &Url, http: reqwest::Client) -> Arc<Self> {
        Arc::new(Self {
            discovery_url: crate::config::discovery_url_for(base),
            expected_issuer: base.to_string(),
            http,
            metadata: RwLock::new(None),
            discovery: SingleFlight::new(DISCOVERY_FAILURE_MEMORY),
            jwks: jwks::JwksCache::default(),
        })
    }

    /// The one HTTP client, for the login protocol's calls.
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    fn cached_metadata(&self) -> Option<Arc<Metadata>> {
        self.metadata
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
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
            if e.is_timeout() {
                fail(
                    describe_reqwest(&e),
                    "The provider did not answer in time: an outage or a network problem, not a wrong AUTH0_DOMAIN. The app keeps retrying in the background.",
                )
            } else {
                fail(
                    describe_reqwest(&e),
                    "Check AUTH0_DOMAIN (your tenant's domain, e.g. dev-abc123.us.auth0.com) and that this server can reach it. The app keeps retrying in the background.",
                )
            }
        })?;
        let status = response.status();
        if status.is_server_error() {
            return Err(fail(
                format!("answered HTTP {status}"),
                "The provider is having an outage (a server error), not a configuration problem: the app keeps retrying in the background, and login works once it answers.",
            ));
        }
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
        let raw = serde_json::from_slice::<Value>(&body).unwrap_or_default();
        let flag = |name: &str| raw.get(name).and_then(Value::as_bool).unwrap_or(false);
        let response_iss = flag("authorization_response_iss_parameter_supported");
        let par_required = flag("require_pushed_authorization_requests");
        let revocation_endpoint = raw
            .get("revocation_endpoint")
            .and_then(Value::as_str)
            .and_then(|u| Url::parse(u).ok());
        let par_endpoint = raw
            .get("pushed_authorization_request_endpoint")
            .and_then(Value::as_str)
            .and_then(|u| Url::parse(u).ok());
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
            authorization_endpoint: doc.authorization_endpoint().url().clone(),
            token_endpoint: token_endpoint.url().clone(),
            userinfo_endpoint: doc.userinfo_endpoint().map(|u| u.url().clone()),
            jwks_uri: doc.jwks_uri().url().clone(),
            end_session_endpoint: doc
                .additional_metadata()
                .end_session_endpoint
                .as_ref()
                .map(|u| u.url().clone()),
            client_auth,
            response_iss,
            par_endpoint,
            par_required,
            revocation_endpoint,
        })
    }
}
