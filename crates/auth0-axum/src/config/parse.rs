//! One parser per setting: each turns a raw value into a typed one, or a [`Problem`] saying what
//! is wrong and how to fix it. `check-token` uses the same parsers as the server.

use std::net::{IpAddr, Ipv4Addr};

use url::Url;

use super::{Mode, Problem, Secret};

pub(super) fn host(raw: Option<&str>, mode: Mode) -> Result<IpAddr, Problem> {
    let Some(raw) = raw else {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    };
    match raw.parse::<IpAddr>() {
        Ok(ip) if mode == Mode::Demo && !ip.is_loopback() => Err(Problem::new(
            "HOST",
            format!("is {ip}, but demo mode only listens on loopback"),
            "The demo provider signs in anyone who types a name: unset HOST (or use 127.0.0.1) for --demo.",
        )),
        Ok(ip) => Ok(ip),
        Err(_) => Err(Problem::new(
            "HOST",
            format!("{raw:?} is not an IP address"),
            "Use 127.0.0.1 (this machine only, the default) or 0.0.0.0 (all interfaces, e.g. in a container).",
        )),
    }
}

pub(super) fn port(raw: Option<&str>) -> Result<u16, Problem> {
    let Some(raw) = raw else { return Ok(3000) };
    raw.parse::<u16>().map_err(|_| {
        Problem::new(
            "PORT",
            format!("{raw:?} is not a port number"),
            "Use a number from 1 to 65535 (default 3000), or 0 for any free port.",
        )
    })
}

pub(super) fn scope(raw: Option<String>) -> Result<String, Problem> {
    let scope = raw.unwrap_or_else(|| "openid profile email".into());
    if scope.split_whitespace().any(|s| s == "openid") {
        Ok(scope)
    } else {
        Err(Problem::new(
            "AUTH0_SCOPE",
            format!("{scope:?} does not include openid"),
            "Without openid there is no ID token and no login: use \"openid profile email\" (the default) plus anything you need.",
        ))
    }
}

/// `AUTH0_USERINFO`: when a login also asks `/userinfo` for the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserinfoSetting {
    /// Only when the ID token lacks a claim the scope asked for (Auth0's ID tokens carry them).
    Auto,
    Always,
    Never,
}

pub(super) fn userinfo(raw: Option<String>) -> Result<UserinfoSetting, Problem> {
    match raw.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("auto") => Ok(UserinfoSetting::Auto),
        Some("always") => Ok(UserinfoSetting::Always),
        Some("never") => Ok(UserinfoSetting::Never),
        Some(other) => Err(Problem::new(
            "AUTH0_USERINFO",
            format!(
                "{:?} is not auto, always or never",
                other.chars().take(40).collect::<String>()
            ),
            "Use auto (the default: /userinfo only when the ID token lacks a claim the scope asked for), always, or never.",
        )),
    }
}

/// A yes/no setting: `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`); unset is `false`.
pub(super) fn flag(variable: &'static str, raw: Option<String>) -> Result<bool, Problem> {
    match raw.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("false" | "0" | "no" | "off") => Ok(false),
        Some("true" | "1" | "yes" | "on") => Ok(true),
        Some(other) => Err(Problem::new(
            variable,
            format!(
                "{:?} is neither true nor false",
                other.chars().take(40).collect::<String>()
            ),
            "Use true or false.",
        )),
    }
}

/// `SESSION_STORE`: where sessions live.
#[derive(Clone, PartialEq, Eq)]
pub enum SessionStoreSetting {
    /// In the browser, in our encrypted cookies (the default).
    Cookie,
    /// In Redis, at this `redis://` URL (which may carry a password: never printed).
    Redis(Url),
}

impl std::fmt::Debug for SessionStoreSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Cookie => f.write_str("Cookie"),
            Self::Redis(url) => write!(f, "Redis({})", redis_display(url)),
        }
    }
}

/// The Redis URL without the user name, password and query: what logs and pages may show
/// (`rediss-cluster://host:port/db`).
pub fn redis_display(url: &Url) -> String {
    format!(
        "{}://{}:{}{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port().unwrap_or(6379),
        url.path()
    )
}

/// The Redis deployments `SESSION_STORE` accepts: a server, a cluster, a sentinel, each plain or
/// over TLS (`rediss`).
const REDIS_SCHEMES: [&str; 6] = [
    "redis",
    "rediss",
    "redis-cluster",
    "rediss-cluster",
    "redis-sentinel",
    "rediss-sentinel",
];

pub(super) fn session_store(raw: Option<String>) -> Result<SessionStoreSetting, Problem> {
    const FIX: &str = "Use cookie (the default: sessions in encrypted cookies) or a Redis URL: redis://HOST:PORT[/DB] (rediss:// over TLS; a password goes in as redis://:PASSWORD@HOST:PORT), redis-cluster://HOST:PORT?node=HOST:PORT&node=... for a cluster, redis-sentinel://HOST:PORT/DB?sentinelServiceName=NAME for a sentinel.";
    let Some(raw) = raw else {
        return Ok(SessionStoreSetting::Cookie);
    };
    if raw.eq_ignore_ascii_case("cookie") {
        return Ok(SessionStoreSetting::Cookie);
    }
    // The value may hold a password: problems name its shape, never the value.
    let url = Url::parse(&raw)
        .map_err(|_| Problem::new("SESSION_STORE", "is neither cookie nor a URL".into(), FIX))?;
    let db_ok =
        matches!(url.path(), "" | "/") || url.path()[1..].parse::<u8>().is_ok_and(|db| db < 16);
    let scheme = url.scheme();
    if !REDIS_SCHEMES.contains(&scheme) {
        return Err(Problem::new(
            "SESSION_STORE",
            format!("is a {scheme}: URL; only cookie and Redis URLs are supported"),
            FIX,
        ));
    }
    let sentinel = scheme.ends_with("-sentinel");
    let query_ok = match url.query() {
        None => true,
        // A cluster's other nodes, a sentinel's service name and other sentinels.
        Some(_) => {
            url.query_pairs()
                .all(|(k, _)| k == "node" || (sentinel && k.starts_with("sentinel")))
                && scheme != "redis"
                && scheme != "rediss"
        }
    };
    if url.host_str().is_none_or(str::is_empty) || !db_ok || !query_ok {
        return Err(Problem::new(
            "SESSION_STORE",
            format!(
                "is a {scheme}:// URL without a host, with a path other than a database number, or with a query it does not take"
            ),
            FIX,
        ));
    }
    if sentinel && !url.query_pairs().any(|(k, _)| k == "sentinelServiceName") {
        return Err(Problem::new(
            "SESSION_STORE",
            "is a sentinel URL without sentinelServiceName (the name of the primary the sentinels watch)".into(),
            FIX,
        ));
    }
    Ok(SessionStoreSetting::Redis(url))
}

/// `SESSION_STORE_CA_FILE`: the certificate authority (PEM) of a Redis reached over TLS whose
/// certificate the system's roots do not sign (a private CA). A path, or the PEM itself.
pub(super) fn session_store_ca(
    raw: Option<String>,
    redis: Option<&Url>,
) -> Result<Option<String>, Problem> {
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return Ok(None);
    };
    let pem = pem_or_file(
        "SESSION_STORE_CA_FILE",
        &raw,
        "Give the path of the CA certificate (PEM) that signed your Redis server's certificate.",
    )?;
    if !pem.contains("-----BEGIN CERTIFICATE-----") {
        return Err(Problem::new(
            "SESSION_STORE_CA_FILE",
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
            "Point it at the CA certificate that signed your Redis server's certificate, in PEM.",
        ));
    }
    if !redis.is_some_and(|url| url.scheme().starts_with("rediss")) {
        return Err(Problem::new(
            "SESSION_STORE_CA_FILE",
            "is set, but neither SESSION_STORE nor REDIS_URL is a rediss:// URL (TLS)".into(),
            "Use rediss://... for your Redis, or remove SESSION_STORE_CA_FILE.",
        ));
    }
    Ok(Some(pem))
}

/// The Redis every instance shares (the ledgers, the deny-list, the refresh locks): the session
/// store's when it is Redis, else `REDIS_URL` (cookie sessions with a shared Redis beside them).
pub(super) fn shared_redis(
    raw: Option<String>,
    store: Option<&SessionStoreSetting>,
) -> Result<Option<Url>, Problem> {
    let from_store = match store {
        Some(SessionStoreSetting::Redis(url)) => Some(url.clone()),
        _ => None,
    };
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return Ok(from_store);
    };
    let url = match session_store(Some(raw)) {
        Ok(SessionStoreSetting::Redis(url)) => url,
        Ok(SessionStoreSetting::Cookie) | Err(_) => {
            return Err(Problem::new(
                "REDIS_URL",
                "is not a Redis URL".into(),
                "Give the Redis the instances share, e.g. redis://HOST:6379/0 (rediss:// over TLS, redis-cluster://, redis-sentinel://), or remove REDIS_URL.",
            ));
        }
    };
    if from_store.is_some_and(|store| store != url) {
        return Err(Problem::new(
            "REDIS_URL",
            "names another Redis than SESSION_STORE".into(),
            "Remove REDIS_URL: with SESSION_STORE=redis..., that Redis serves the sessions and everything the instances share.",
        ));
    }
    Ok(Some(url))
}

/// How long sessions live: `SESSION_ROLLING`, `SESSION_IDLE_TIMEOUT`, `SESSION_ABSOLUTE_TIMEOUT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLifetimes {
    /// Whether activity pushes the idle deadline back (`SESSION_ROLLING`, default true). Without
    /// it, a session lives its absolute lifetime whatever the user does.
    pub rolling: bool,
    /// Logged out after this long without a visit, in seconds (rolling sessions; default 24 h).
    pub idle_secs: i64,
    /// Logged out this long after login however active, in seconds (default 7 days).
    pub absolute_secs: i64,
}

impl Default for SessionLifetimes {
    fn default() -> Self {
        Self {
            rolling: true,
            idle_secs: 24 * 3600,
            absolute_secs: 7 * 24 * 3600,
        }
    }
}

impl SessionLifetimes {
    /// How long the browser keeps the cookie (and Redis the record) after a write: the idle
    /// lifetime when rolling, else the absolute one.
    pub fn inactivity_secs(&self) -> i64 {
        if self.rolling {
            self.idle_secs.min(self.absolute_secs)
        } else {
            self.absolute_secs
        }
    }
}

/// The longest lifetime a setting may ask for: 400 days, what browsers cap a cookie's age at.
const MAX_LIFETIME_SECS: i64 = 400 * 24 * 3600;

/// A duration setting: seconds (`3600`) or a number with a unit (`90s`, `30m`, `12h`, `7d`).
fn duration_secs(variable: &'static str, raw: &str) -> Result<i64, Problem> {
    let raw = raw.trim();
    let (digits, unit) = match raw.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => raw.split_at(at),
        None => (raw, "s"),
    };
    let per = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    let secs = digits
        .parse::<i64>()
        .ok()
        .filter(|_| per > 0)
        .and_then(|n| n.checked_mul(per))
        .filter(|&s| s > 0 && s <= MAX_LIFETIME_SECS);
    secs.ok_or_else(|| {
        Problem::new(
            variable,
            format!(
                "is {:?}, not a duration between 1 s and 400 days",
                raw.chars().take(40).collect::<String>()
            ),
            "Give seconds (86400) or a number with a unit: 90s, 30m, 24h, 7d.",
        )
    })
}

pub(super) fn session_lifetimes(
    rolling: Option<String>,
    idle: Option<String>,
    absolute: Option<String>,
) -> Result<SessionLifetimes, Problem> {
    let defaults = SessionLifetimes::default();
    let rolling = flag("SESSION_ROLLING", rolling.or(Some("true".into())))?;
    let idle_secs = match idle {
        Some(raw) => duration_secs("SESSION_IDLE_TIMEOUT", &raw)?,
        None => defaults.idle_secs,
    };
    let absolute_secs = match absolute {
        Some(raw) => duration_secs("SESSION_ABSOLUTE_TIMEOUT", &raw)?,
        None => defaults.absolute_secs,
    };
    if rolling && idle_secs > absolute_secs {
        return Err(Problem::new(
            "SESSION_IDLE_TIMEOUT",
            format!("is {idle_secs} s, longer than SESSION_ABSOLUTE_TIMEOUT ({absolute_secs} s)"),
            "The idle lifetime must fit within the absolute one: shorten it, or lengthen SESSION_ABSOLUTE_TIMEOUT.",
        ));
    }
    Ok(SessionLifetimes {
        rolling,
        idle_secs,
        absolute_secs,
    })
}

/// `org_` followed by Auth0's id characters, or an organization name (lowercase letters, digits,
/// `-` and `_`, at most 50).
pub fn valid_organization(value: &str) -> bool {
    match value.strip_prefix("org_") {
        Some(id) => (1..=64).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric()),
        None => {
            (1..=50).contains(&value.len())
                && value
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_".contains(c))
        }
    }
}

pub(super) fn organization(raw: Option<String>) -> Result<Option<String>, Problem> {
    match raw {
        None => Ok(None),
        Some(org) if valid_organization(&org) => Ok(Some(org)),
        Some(org) => Err(Problem::new(
            "AUTH0_ORGANIZATION",
            format!("{org:?} is neither an organization id nor an organization name"),
            "Use the organization's ID (org_...) or its name (lowercase, e.g. acme-corp) from Auth0 dashboard > Organizations.",
        )),
    }
}

pub(super) fn api_url(raw: Option<String>) -> Result<Option<Url>, Problem> {
    let Some(raw) = raw else { return Ok(None) };
    match Url::parse(&raw) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.password().is_none() => {
            Ok(Some(url))
        }
        _ => Err(Problem::new(
            "API_URL",
            format!("{raw:?} is not an http(s) URL"),
            "Use the URL /call-api should call, e.g. https://api.example.com/messages, or leave it unset for this app's own /api/me.",
        )),
    }
}

pub(super) fn domain(raw: Option<String>) -> Result<Url, Problem> {
    match raw {
        None => Err(Problem::missing(
            "AUTH0_DOMAIN",
            "Set it to your tenant's domain from the Auth0 dashboard (Applications > your app > Settings > Domain), e.g. dev-abc123.us.auth0.com.",
        )),
        Some(raw) => parse_provider_base(&raw),
    }
}

pub(super) fn client_id(raw: Option<String>) -> Result<String, Problem> {
    const FIX: &str = "Copy the Client ID from Applications > your app > Settings.";
    match raw {
        None => Err(Problem::missing("AUTH0_CLIENT_ID", FIX)),
        Some(id) if looks_like_placeholder(&id) || id.contains(char::is_whitespace) => {
            Err(Problem::new(
                "AUTH0_CLIENT_ID",
                "still holds a placeholder or contains spaces".into(),
                FIX,
            ))
        }
        Some(id) => Ok(id),
    }
}

pub(super) fn client_secret(raw: Option<String>) -> Result<Secret, Problem> {
    match raw {
        None => Err(Problem::missing(
            "AUTH0_CLIENT_SECRET",
            "Copy the Client Secret from Applications > your app > Settings (a Regular Web Application has one).",
        )),
        Some(secret) if looks_like_placeholder(&secret) => Err(Problem::new(
            "AUTH0_CLIENT_SECRET",
            "still holds a placeholder".into(),
            "Copy the Client Secret from Applications > your app > Settings.",
        )),
        Some(secret) => Ok(Secret::new(secret)),
    }
}

/// A key setting's PEM: the value itself when it is PEM, else the file it names (a path is no
/// secret; the key never appears in a problem).
fn pem_or_file(variable: &'static str, value: &str, fix: &str) -> Result<String, Problem> {
    if value.contains("-----BEGIN") {
        return Ok(value.to_string());
    }
    std::fs::read_to_string(value).map_err(|err| {
        Problem::new(
            variable,
            format!("is neither a PEM key nor a file that can be read ({value}: {err})"),
            fix,
        )
    })
}

/// `AUTH0_CLIENT_ASSERTION_SIGNING_KEY`: a PEM private key, inline (`\n` escapes allowed) or the
/// path of a file holding one; with `AUTH0_CLIENT_ASSERTION_SIGNING_ALG` (RS256 by default).
pub(super) fn assertion_key(
    value: &str,
    alg: Option<&str>,
    kid: Option<String>,
) -> Result<crate::client_assertion::AssertionKey, Problem> {
    use crate::client_assertion::{AssertionAlg, AssertionKey};
    const FIX: &str = "Give the private key (PEM) whose public key is registered in Applications > your app > Credentials (Authentication Method: Private Key JWT), inline or as the path of a file; AUTH0_CLIENT_ASSERTION_SIGNING_ALG must be the credential's algorithm (RS256, PS256 or ES256).";
    let alg = match alg {
        None => AssertionAlg::Rs256,
        Some(name) => AssertionAlg::parse(name).ok_or_else(|| {
            Problem::new(
                "AUTH0_CLIENT_ASSERTION_SIGNING_ALG",
                "is none of RS256, PS256, ES256".into(),
                "Set it to the algorithm of the credential registered in Applications > your app > Credentials.",
            )
        })?,
    };
    let pem = pem_or_file("AUTH0_CLIENT_ASSERTION_SIGNING_KEY", value, FIX)?;
    AssertionKey::from_pem(&pem, alg, kid)
        .map_err(|why| Problem::new("AUTH0_CLIENT_ASSERTION_SIGNING_KEY", why.0, FIX))
}

/// `AUTH0_SECURITY_PROFILE`: `fapi2` (FAPI 2.0 Security Profile: PAR, DPoP, Private Key JWT, the
/// issuer in every authorization response) or unset/`default`.
pub(super) fn security_profile(raw: Option<String>) -> Result<bool, Problem> {
    match raw.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("default" | "none") => Ok(false),
        Some("fapi2" | "fapi-2" | "fapi2.0") => Ok(true),
        Some(other) => Err(Problem::new(
            "AUTH0_SECURITY_PROFILE",
            format!(
                "{:?} is not a profile this app knows",
                other.chars().take(40).collect::<String>()
            ),
            "Use fapi2 (FAPI 2.0: Pushed Authorization Requests, DPoP, Private Key JWT), or leave it unset.",
        )),
    }
}

/// FAPI 2.0 authenticates clients with keys, never shared secrets.
pub(super) fn fapi2_needs_key() -> Problem {
    Problem::new(
        "AUTH0_CLIENT_ASSERTION_SIGNING_KEY",
        "is required by AUTH0_SECURITY_PROFILE=fapi2 (FAPI 2.0 allows Private Key JWT, not a client secret)".into(),
        "Register a Private Key JWT credential for the app (docs/login.md: \"Private Key JWT\") and set AUTH0_CLIENT_ASSERTION_SIGNING_KEY to its private key.",
    )
}

/// `AUTH0_USE_DPOP` and `AUTH0_DPOP_PRIVATE_KEY` (an ES256 PEM key, inline or a path): the DPoP
/// key, made at start when none is given. `None` when DPoP is off.
pub(super) fn dpop_key(
    on: bool,
    key: Option<String>,
) -> Result<Option<std::sync::Arc<crate::dpop::DpopClient>>, Problem> {
    use crate::client_assertion::{AssertionAlg, AssertionKey};
    const FIX: &str = "Give a P-256 private key (openssl ecparam -name prime256v1 -genkey -noout), inline or as the path of a file, or leave AUTH0_DPOP_PRIVATE_KEY unset for a key made at start.";
    if !on {
        return Ok(None);
    }
    let key = match key {
        None => AssertionKey::generate_es256()
            .map_err(|why| Problem::new("AUTH0_USE_DPOP", why.0, FIX))?,
        Some(value) => {
            let pem = pem_or_file("AUTH0_DPOP_PRIVATE_KEY", &value, FIX)?;
            AssertionKey::from_pem(&pem, AssertionAlg::Es256, None)
                .map_err(|why| Problem::new("AUTH0_DPOP_PRIVATE_KEY", why.0, FIX))?
        }
    };
    Ok(Some(std::sync::Arc::new(crate::dpop::DpopClient::new(key))))
}

fn looks_like_placeholder(value: &str) -> bool {
    let v = value.to_ascii_lowercase();
    v.starts_with('{') || v.starts_with('<') || v.contains("your") || v == "changeme"
}

fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// Where a provider at `base` (ending in `/`) publishes its OpenID discovery document.
pub fn discovery_url_for(base: &Url) -> String {
    format!("{base}.well-known/openid-configuration")
}

/// `AUTH0_DOMAIN`: a bare domain (https), or a full URL (`http://` only on loopback).
/// The result always ends in `/`, the shape of an Auth0 issuer.
pub fn parse_provider_base(raw: &str) -> Result<Url, Problem> {
    let var = "AUTH0_DOMAIN";
    if looks_like_placeholder(raw) {
        return Err(Problem::new(
            var,
            "still holds a placeholder".into(),
            "Set it to your tenant's domain, e.g. dev-abc123.us.auth0.com.",
        ));
    }
    let with_scheme = if raw.contains("://") {
        raw.to_string()
    } else {
        format!("https://{raw}")
    };
    let mut url = Url::parse(&with_scheme).map_err(|e| {
        Problem::new(
            var,
            format!("{raw:?} is not a domain or URL ({e})"),
            "Use the bare domain, e.g. dev-abc123.us.auth0.com.",
        )
    })?;
    if url.path().contains(".well-known") {
        return Err(Problem::new(
            var,
            format!("{raw:?} is a discovery URL"),
            "Use just the domain: the app adds /.well-known/openid-configuration itself.",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Never echo it: the page and the log would show the password.
        return Err(Problem::new(
            var,
            "has a user name or password in it (user:password@)".into(),
            "Use just the domain, e.g. dev-abc123.us.auth0.com: the provider needs no credentials in the URL.",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Problem::new(
            var,
            format!("{raw:?} has a query or fragment"),
            "Use just the domain, e.g. dev-abc123.us.auth0.com.",
        ));
    }
    let Some(host) = url.host() else {
        return Err(Problem::new(
            var,
            format!("{raw:?} has no host"),
            "Use the bare domain, e.g. dev-abc123.us.auth0.com.",
        ));
    };
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(&host) => {}
        "http" => {
            return Err(Problem::new(
                var,
                format!("{raw:?} uses http:// on a host that is not loopback"),
                "Tokens must travel over TLS: use https:// (or the bare domain). http:// is only for a provider on 127.0.0.1/localhost.",
            ));
        }
        other => {
            return Err(Problem::new(
                var,
                format!("{raw:?} uses the scheme {other}"),
                "Use the bare domain, or an https:// URL.",
            ));
        }
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Where the auth routes are nested: empty (the root) or `/segment[/segment...]`, no trailing `/`.
pub(super) fn routes_prefix(raw: &str) -> Result<String, Problem> {
    let prefix = raw.trim_end_matches('/');
    let valid = prefix.is_empty()
        || (prefix.starts_with('/')
            && !prefix.starts_with("//")
            && prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.')));
    if valid {
        Ok(prefix.to_string())
    } else {
        Err(Problem::new(
            "routes prefix",
            format!("{raw:?} is not a path like /auth"),
            "Pass the prefix given to Router::nest, e.g. \"/auth\".",
        ))
    }
}
