//! Configuration: the environment (after `.env`) parsed once, at startup, into typed values.
//!
//! Two parts: [`AppSettings`] (this app: where it is served, its session key, what logins ask
//! for) and [`TenantSettings`] (which Auth0 tenant, as which application). Demo mode reads only the
//! first and gets the second from the running demo provider. Every problem is collected and
//! reported together, each with what to do about it, so a newcomer fixes `.env` in one pass.

mod auth0_config;
mod base_url;
mod dotenv;
mod parse;
mod secrets;
#[cfg(test)]
mod tests;

use std::fmt;
use std::net::SocketAddr;

use url::Url;

pub use auth0_config::Auth0Config;
pub use base_url::{AppBaseUrl, MAX_BASE_PATH_BYTES};
pub use dotenv::load_dotenv;
pub use parse::{
    SessionLifetimes, SessionStoreSetting, UserinfoSetting, discovery_url_for, parse_provider_base,
    redis_display, valid_organization,
};
pub use secrets::parse_secret_key;

/// A value that must never reach a page or a log.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Key material for the session cookie: at least 32 random bytes, decoded from `APP_SECRET_KEY`.
#[derive(Clone)]
pub struct SessionSecret(Vec<u8>);

impl SessionSecret {
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// A fresh random secret (demo mode without a configured key: sessions end with the process).
    pub fn random() -> Self {
        let mut bytes = Vec::with_capacity(64);
        while bytes.len() < 64 {
            bytes.extend_from_slice(crate::primitives::random_token(32).as_bytes());
        }
        Self(bytes)
    }
}

impl fmt::Debug for SessionSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionSecret([redacted])")
    }
}

/// Which application this process is configured as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Against a real tenant: every `AUTH0_*` setting is required.
    Tenant,
    /// Against the built-in demo provider: tenant settings come from it.
    Demo,
}

/// This app: where browsers reach it, where it listens, its session key, what logins ask for.
#[derive(Debug, Clone)]
pub struct AppSettings {
    pub base_url: AppBaseUrl,
    pub bind: SocketAddr,
    pub session_secret: SessionSecret,
    /// `APP_SECRET_KEY_PREVIOUS`: older keys that still open sessions (re-sealed under the
    /// current key when read), so the key can be rotated without logging anyone out.
    pub previous_session_secrets: Vec<SessionSecret>,
    /// `SESSION_STORE`: cookies (default) or Redis.
    pub session_store: SessionStoreSetting,
    /// The Redis the instances share: `SESSION_STORE`'s when it is Redis, else `REDIS_URL`.
    pub shared_redis: Option<Url>,
    /// `SESSION_STORE_CA_FILE`: a private CA (PEM) for a Redis over TLS, beside the system roots.
    pub session_store_ca: Option<String>,
    /// `SESSION_ROLLING`, `SESSION_IDLE_TIMEOUT`, `SESSION_ABSOLUTE_TIMEOUT`.
    pub session_lifetimes: SessionLifetimes,
    /// `AUTH0_USERINFO`: when a login also fetches `/userinfo`.
    pub userinfo: UserinfoSetting,
    pub scope: String,
    pub audience: Option<String>,
    /// `AUTH0_ORGANIZATION`: every login is for this Auth0 Organization (id or name), and checked.
    pub organization: Option<String>,
    /// `API_URL`: what `/call-api` calls with the user's access token (default: this app's
    /// `/api/me`).
    pub api_url: Option<url::Url>,
    /// `AUTH0_ROLES_CLAIM`: a namespaced ID-token claim listing roles (set by an Action), which
    /// `RequirePermission` accepts beside the access token's permissions.
    pub roles_claim: Option<String>,
    /// Where the auth routes are mounted under the app: `""` (the root) or e.g. `/auth`.
    pub routes_at: String,
    /// `AUTH0_PUSHED_AUTHORIZATION_REQUESTS`: push the authorization parameters (RFC 9126).
    pub pushed_authorization_requests: bool,
    /// `AUTH0_USE_DPOP`: the key tokens are bound to (`AUTH0_DPOP_PRIVATE_KEY`, or made at start).
    pub dpop: Option<std::sync::Arc<crate::dpop::DpopClient>>,
    /// `AUTH0_SECURITY_PROFILE=fapi2`: every authorization response must name its issuer (RFC
    /// 9207), not only when the tenant promises to.
    pub require_response_iss: bool,
}

impl AppSettings {
    /// An auth route (`/login`) as browsers see it: `/app/auth/login` under a sub-path and a
    /// nested router.
    pub fn route_path(&self, route: &str) -> String {
        format!("{}{}{route}", self.base_url.path(), self.routes_at)
    }

    /// An auth route as an absolute URL.
    pub fn route_url(&self, route: &str) -> String {
        self.base_url.join(&format!("{}{route}", self.routes_at))
    }

    /// The redirect URI: from configuration, never from a request's Host header.
    pub fn callback_url(&self) -> String {
        self.route_url("/callback")
    }
}

/// The Auth0 tenant, and this app's registration there.
#[derive(Debug, Clone)]
pub struct TenantSettings {
    /// Where the provider lives, always ending in `/` (an Auth0 issuer is `https://TENANT/`).
    pub provider_base: Url,
    pub client_id: String,
    pub credentials: ClientCredentials,
}

/// How this app proves who it is at the token endpoint.
#[derive(Debug, Clone)]
pub enum ClientCredentials {
    /// `AUTH0_CLIENT_SECRET`: `client_secret_basic` or `client_secret_post`, as discovery says.
    Secret(Secret),
    /// `AUTH0_CLIENT_ASSERTION_SIGNING_KEY`: `private_key_jwt`, a signed assertion per request.
    PrivateKeyJwt(std::sync::Arc<crate::client_assertion::AssertionKey>),
}

impl ClientCredentials {
    /// Reads `AUTH0_CLIENT_ASSERTION_SIGNING_KEY` (with its algorithm and `kid`) when it is set;
    /// `None` when it is not.
    fn assertion_key(
        get: &impl Fn(&str) -> Option<String>,
    ) -> Option<Result<ClientCredentials, Problem>> {
        let key = get("AUTH0_CLIENT_ASSERTION_SIGNING_KEY")?;
        Some(
            parse::assertion_key(
                &key,
                get("AUTH0_CLIENT_ASSERTION_SIGNING_ALG").as_deref(),
                get("AUTH0_CLIENT_ASSERTION_KID"),
            )
            .map(|k| ClientCredentials::PrivateKeyJwt(std::sync::Arc::new(k))),
        )
    }
}

/// A lookup that trims values, takes off one pair of matching quotes (`docker run --env-file`
/// passes `.env`'s quotes through), and treats empty values as unset.
fn getter(lookup: &impl Fn(&str) -> Option<String>) -> impl Fn(&str) -> Option<String> + '_ {
    move |key| {
        lookup(key)
            .map(|v| unquote(v.trim()).trim().to_string())
            .filter(|v| !v.is_empty())
    }
}

/// `value` without one pair of matching surrounding quotes (`"..."` or `'...'`), if it has them.
fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|v| v.strip_suffix(quote))
        {
            return inner;
        }
    }
    value
}

impl AppSettings {
    pub fn from_lookup(
        mode: Mode,
        lookup: &impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigErrors> {
        let get = getter(lookup);
        let mut problems = Problems::default();
        let host = problems.take(parse::host(get("HOST").as_deref(), mode));
        let port = problems.take(parse::port(get("PORT").as_deref()));
        let base_url = problems.take(AppBaseUrl::parse(
            get("APP_BASE_URL").as_deref(),
            port.unwrap_or(3000),
        ));
        let scope = problems.take(parse::scope(get("AUTH0_SCOPE")));
        let session_secret = problems.take(secrets::session_secret(get("APP_SECRET_KEY"), mode));
        let previous_session_secrets = problems.take(secrets::previous_secret_keys(get(
            "APP_SECRET_KEY_PREVIOUS",
        )));
        let session_store = problems.take(parse::session_store(get("SESSION_STORE")));
        let shared_redis = problems
            .take(parse::shared_redis(
                get("REDIS_URL"),
                session_store.as_ref(),
            ))
            .flatten();
        let session_store_ca = problems.take(parse::session_store_ca(
            get("SESSION_STORE_CA_FILE"),
            shared_redis.as_ref(),
        ));
        let session_lifetimes = problems.take(parse::session_lifetimes(
            get("SESSION_ROLLING"),
            get("SESSION_IDLE_TIMEOUT"),
            get("SESSION_ABSOLUTE_TIMEOUT"),
        ));
        let userinfo = problems.take(parse::userinfo(get("AUTH0_USERINFO")));
        let organization = problems.take(parse::organization(get("AUTH0_ORGANIZATION")));
        let api_url = problems.take(parse::api_url(get("API_URL")));
        // FAPI 2.0 turns on PAR, DPoP and the issuer check; the signing key is the tenant's part.
        let fapi2 = problems
            .take(parse::security_profile(get("AUTH0_SECURITY_PROFILE")))
            .unwrap_or(false);
        let par = problems.take(
            parse::flag(
                "AUTH0_PUSHED_AUTHORIZATION_REQUESTS",
                get("AUTH0_PUSHED_AUTHORIZATION_REQUESTS"),
            )
            .map(|on| on || fapi2),
        );
        let dpop = problems.take(
            parse::flag("AUTH0_USE_DPOP", get("AUTH0_USE_DPOP"))
                .and_then(|on| parse::dpop_key(on || fapi2, get("AUTH0_DPOP_PRIVATE_KEY"))),
        );
        let settings = (|| {
            Some(Self {
                base_url: base_url?,
                bind: SocketAddr::new(host?, port?),
                session_secret: session_secret?,
                previous_session_secrets: previous_session_secrets?,
                session_store: session_store?,
                session_store_ca: session_store_ca?,
                shared_redis: shared_redis.clone(),
                session_lifetimes: session_lifetimes?,
                userinfo: userinfo?,
                scope: scope?,
                audience: get("AUTH0_AUDIENCE"),
                organization: organization?,
                api_url: api_url?,
                roles_claim: get("AUTH0_ROLES_CLAIM"),
                routes_at: String::new(),
                pushed_authorization_requests: par?,
                dpop: dpop?,
                require_response_iss: fapi2,
            })
        })();
        problems.finish(settings)
    }
}

impl TenantSettings {
    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigErrors> {
        let get = getter(lookup);
        let mut problems = Problems::default();
        let provider_base = problems.take(parse::domain(get("AUTH0_DOMAIN")));
        let client_id = problems.take(parse::client_id(get("AUTH0_CLIENT_ID")));
        // With a signing key, no secret is needed (private_key_jwt). FAPI 2.0 requires the key.
        let fapi2 = parse::security_profile(get("AUTH0_SECURITY_PROFILE")).unwrap_or(false);
        let credentials =
            problems.take(ClientCredentials::assertion_key(&get).unwrap_or_else(|| {
                if fapi2 {
                    return Err(parse::fapi2_needs_key());
                }
                parse::client_secret(get("AUTH0_CLIENT_SECRET")).map(ClientCredentials::Secret)
            }));
        let settings = (|| {
            Some(Self {
                provider_base: provider_base?,
                client_id: client_id?,
                credentials: credentials?,
            })
        })();
        problems.finish(settings)
    }
}

/// One thing wrong with the configuration, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The setting (`AUTH0_DOMAIN`, `.env`...).
    pub variable: &'static str,
    /// What is wrong with it (never its value when that may be a secret).
    pub problem: String,
    /// What to do about it.
    pub fix: String,
}

impl Problem {
    pub(crate) fn new(variable: &'static str, problem: String, fix: &str) -> Self {
        Self {
            variable,
            problem,
            fix: fix.into(),
        }
    }
    pub(crate) fn missing(variable: &'static str, fix: &str) -> Self {
        Self::new(variable, "is not set".into(), fix)
    }
}

/// Collects problems while parsing goes on, so every one is reported.
#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn take<T>(&mut self, parsed: Result<T, Problem>) -> Option<T> {
        parsed.map_err(|problem| self.0.push(problem)).ok()
    }

    /// The settings, if nothing was wrong (a value is missing only when a problem says why).
    fn finish<T>(self, settings: Option<T>) -> Result<T, ConfigErrors> {
        match settings {
            Some(settings) if self.0.is_empty() => Ok(settings),
            _ => Err(ConfigErrors(self.0)),
        }
    }
}

/// Every configuration problem found, printed as one report before the port is bound.
#[derive(Debug, Clone)]
pub struct ConfigErrors(pub Vec<Problem>);

impl ConfigErrors {
    /// The settings named, in order.
    pub fn variables(&self) -> Vec<&'static str> {
        self.0.iter().map(|p| p.variable).collect()
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "The app cannot start: {} configuration problem{} (settings come from .env or the environment; .env.example documents each):",
            self.0.len(),
            if self.0.len() == 1 { "" } else { "s" }
        )?;
        for p in &self.0 {
            writeln!(f, "  - {} {}\n      fix: {}", p.variable, p.problem, p.fix)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}
