//! Configuration: the environment (after `.env`) parsed once, at startup, into typed values.
//!
//! Every problem is collected and reported together, each with what to do about it, so a newcomer
//! fixes their `.env` in one pass instead of one restart per mistake.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use base64::Engine as _;
use url::Url;

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
            bytes.extend_from_slice(openidconnect::CsrfToken::new_random().secret().as_bytes());
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
    /// Against the built-in demo provider: `AUTH0_*` settings are ignored.
    Demo,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Where the provider lives, always ending in `/` (an Auth0 issuer is `https://TENANT/`).
    pub provider_base: Url,
    pub client_id: String,
    pub client_secret: Secret,
    pub session_secret: SessionSecret,
    /// The public origin of this app, without a trailing slash, exactly as configured.
    pub base_url: String,
    pub bind: SocketAddr,
    pub scope: String,
    pub audience: Option<String>,
}

impl Config {
    pub fn redirect_uri(&self) -> String {
        format!("{}/callback", self.base_url)
    }

    /// Where the provider sends the browser back after logout: the home page.
    pub fn post_logout_uri(&self) -> &str {
        &self.base_url
    }

    pub fn discovery_url(&self) -> String {
        discovery_url_for(&self.provider_base)
    }

    /// `scheme://host[:port]`, as browsers write it in `Origin`.
    pub fn base_origin(&self) -> String {
        Url::parse(&self.base_url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|_| self.base_url.clone())
    }

    pub fn base_is_https(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    /// The host[:port] the browser must be on for the session cookie to come back.
    pub fn base_host(&self) -> String {
        Url::parse(&self.base_url)
            .ok()
            .and_then(|u| {
                u.host_str().map(|h| {
                    format!(
                        "{h}{}",
                        u.port().map(|p| format!(":{p}")).unwrap_or_default()
                    )
                })
            })
            .unwrap_or_default()
    }

    /// Reads the process environment (call [`load_dotenv`] first to include `.env`).
    pub fn from_env(mode: Mode) -> Result<Self, ConfigErrors> {
        Self::from_lookup(mode, |key| std::env::var(key).ok())
    }

    /// Parses settings from any lookup (tests pass a map).
    pub fn from_lookup(
        mode: Mode,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigErrors> {
        let get = |key: &str| {
            lookup(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut problems = Vec::new();

        let host = match get("HOST") {
            None => Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            Some(raw) => match raw.parse::<IpAddr>() {
                Ok(ip) if mode == Mode::Demo && !ip.is_loopback() => {
                    problems.push(Problem::new(
                        "HOST",
                        format!("is {ip}, but demo mode only listens on loopback"),
                        "The demo provider signs in anyone who types a name: unset HOST (or use 127.0.0.1) for --demo.",
                    ));
                    None
                }
                Ok(ip) => Some(ip),
                Err(_) => {
                    problems.push(Problem::new(
                        "HOST",
                        format!("{raw:?} is not an IP address"),
                        "Use 127.0.0.1 (this machine only, the default) or 0.0.0.0 (all interfaces, e.g. in a container).",
                    ));
                    None
                }
            },
        };
        let port = match get("PORT") {
            None => Some(3000),
            Some(raw) => match raw.parse::<u16>() {
                Ok(port) => Some(port),
                Err(_) => {
                    problems.push(Problem::new(
                        "PORT",
                        format!("{raw:?} is not a port number"),
                        "Use a number from 1 to 65535 (default 3000), or 0 for any free port.",
                    ));
                    None
                }
            },
        };
        let base_url = match parse_base_url(get("APP_BASE_URL").as_deref(), port.unwrap_or(3000)) {
            Ok(url) => Some(url),
            Err(problem) => {
                problems.push(problem);
                None
            }
        };
        let scope = get("AUTH0_SCOPE").unwrap_or_else(|| "openid profile email".into());
        if !scope.split_whitespace().any(|s| s == "openid") {
            problems.push(Problem::new(
                "AUTH0_SCOPE",
                format!("{scope:?} does not include openid"),
                "Without openid there is no ID token and no login: use \"openid profile email\" (the default) plus anything you need.",
            ));
        }
        let audience = get("AUTH0_AUDIENCE");

        let session_secret = match (get("APP_SECRET_KEY"), mode) {
            (None, Mode::Demo) => Some(SessionSecret::random()),
            (Some(raw), Mode::Demo) => parse_secret_key(&raw)
                .ok()
                .or_else(|| Some(SessionSecret::random())),
            (raw, Mode::Tenant) => match parse_secret_key(raw.as_deref().unwrap_or("")) {
                Ok(secret) => Some(secret),
                Err(problem) => {
                    problems.push(problem);
                    None
                }
            },
        };

        let (provider_base, client_id, client_secret) = if mode == Mode::Demo {
            // Filled in by the demo provider once it is listening.
            (
                Some(Url::parse("http://127.0.0.1/").expect("static URL")),
                Some("demo-client".to_string()),
                Some(Secret::new("")),
            )
        } else {
            let domain = match get("AUTH0_DOMAIN") {
                None => {
                    problems.push(Problem::missing(
                        "AUTH0_DOMAIN",
                        "Set it to your tenant's domain from the Auth0 dashboard (Applications > your app > Settings > Domain), e.g. dev-abc123.us.auth0.com.",
                    ));
                    None
                }
                Some(raw) => match parse_provider_base(&raw) {
                    Ok(url) => Some(url),
                    Err(problem) => {
                        problems.push(problem);
                        None
                    }
                },
            };
            let client_id = match get("AUTH0_CLIENT_ID") {
                None => {
                    problems.push(Problem::missing(
                        "AUTH0_CLIENT_ID",
                        "Copy the Client ID from Applications > your app > Settings.",
                    ));
                    None
                }
                Some(id) if looks_like_placeholder(&id) || id.contains(char::is_whitespace) => {
                    problems.push(Problem::new(
                        "AUTH0_CLIENT_ID",
                        "still holds a placeholder or contains spaces".into(),
                        "Copy the Client ID from Applications > your app > Settings.",
                    ));
                    None
                }
                Some(id) => Some(id),
            };
            let client_secret = match get("AUTH0_CLIENT_SECRET") {
                None => {
                    problems.push(Problem::missing(
                        "AUTH0_CLIENT_SECRET",
                        "Copy the Client Secret from Applications > your app > Settings (a Regular Web Application has one).",
                    ));
                    None
                }
                Some(secret) if looks_like_placeholder(&secret) => {
                    problems.push(Problem::new(
                        "AUTH0_CLIENT_SECRET",
                        "still holds a placeholder".into(),
                        "Copy the Client Secret from Applications > your app > Settings.",
                    ));
                    None
                }
                Some(secret) => Some(Secret::new(secret)),
            };
            (domain, client_id, client_secret)
        };

        if !problems.is_empty() {
            return Err(ConfigErrors(problems));
        }
        // Every Option is Some when no problem was recorded.
        match (
            provider_base,
            client_id,
            client_secret,
            session_secret,
            base_url,
            host,
            port,
        ) {
            (
                Some(provider_base),
                Some(client_id),
                Some(client_secret),
                Some(session_secret),
                Some(base_url),
                Some(host),
                Some(port),
            ) => Ok(Config {
                provider_base,
                client_id,
                client_secret,
                session_secret,
                base_url,
                bind: SocketAddr::new(host, port),
                scope,
                audience,
            }),
            _ => Err(ConfigErrors(vec![Problem::new(
                "configuration",
                "could not be completed".into(),
                "Report this as a bug.",
            )])),
        }
    }
}

/// One thing wrong with the configuration, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub variable: &'static str,
    pub problem: String,
    pub fix: String,
}

impl Problem {
    fn new(variable: &'static str, problem: String, fix: &str) -> Self {
        Self {
            variable,
            problem,
            fix: fix.into(),
        }
    }
    fn missing(variable: &'static str, fix: &str) -> Self {
        Self::new(variable, "is not set".into(), fix)
    }
}

/// Every configuration problem found, printed as one report before the port is bound.
#[derive(Debug, Clone)]
pub struct ConfigErrors(pub Vec<Problem>);

impl ConfigErrors {
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

/// Loads `.env` (from the working directory or the nearest parent that has one) into the
/// environment, without overriding variables already set. A missing file is normal; a broken one
/// is reported by file, line number and key, never with its value: the line may hold a secret.
pub fn load_dotenv() -> Result<(), ConfigErrors> {
    let Ok(mut dir) = std::env::current_dir() else {
        return Ok(());
    };
    let path = loop {
        let candidate = dir.join(".env");
        if candidate.is_file() {
            break candidate;
        }
        if !dir.pop() {
            return Ok(());
        }
    };
    let fail = |problem: String, fix: &str| ConfigErrors(vec![Problem::new(".env", problem, fix)]);
    match dotenvy::from_path(&path) {
        Ok(()) => Ok(()),
        Err(dotenvy::Error::LineParse(bad, _)) => {
            let content = std::fs::read_to_string(&path).unwrap_or_default();
            let (line, key) = locate_bad_line(&content, &bad);
            Err(fail(
                format!(
                    "({}) line {line}{} cannot be parsed (its value is not shown: it may be a secret)",
                    path.display(),
                    key.map(|k| format!(", {k}")).unwrap_or_default()
                ),
                "Write one KEY=value per line; quote a value that has spaces or # in it, e.g. AUTH0_SCOPE=\"openid profile email\".",
            ))
        }
        Err(dotenvy::Error::Io(err)) => Err(fail(
            format!("({}) could not be read: {}", path.display(), err.kind()),
            "Make .env readable by this user, or delete it and use environment variables.",
        )),
        Err(_) => Err(fail(
            format!(
                "({}) could not be loaded (a value is not valid Unicode, or a ${{...}} substitution is broken)",
                path.display()
            ),
            "Check the file for stray bytes and unbalanced ${...}.",
        )),
    }
}

/// The 1-based line where `bad` (what dotenvy could not parse) starts, and the key it sets if
/// that much is readable.
fn locate_bad_line(content: &str, bad: &str) -> (usize, Option<String>) {
    let first = bad.lines().next().unwrap_or("").trim();
    let line = content
        .lines()
        .position(|l| !first.is_empty() && l.trim() == first)
        .map_or(0, |i| i + 1);
    let key = first
        .trim_start_matches("export ")
        .split('=')
        .next()
        .map(str::trim)
        .filter(|k| {
            first.contains('=')
                && !k.is_empty()
                && k.len() <= 64
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        })
        .map(str::to_string);
    (line, key)
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

/// `APP_BASE_URL`: the origin browsers use for this app; the callback and logout URLs derive from it.
pub fn parse_base_url(raw: Option<&str>, port: u16) -> Result<String, Problem> {
    let var = "APP_BASE_URL";
    let Some(raw) = raw else {
        let port = if port == 0 { 3000 } else { port };
        return Ok(format!("http://localhost:{port}"));
    };
    let url = Url::parse(raw).map_err(|e| {
        Problem::new(
            var,
            format!("{raw:?} is not a URL ({e})"),
            "Use the address browsers open, e.g. http://localhost:3000 or https://app.example.com.",
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(Problem::new(
            var,
            format!("{raw:?} is not an http(s) URL"),
            "Use the address browsers open, e.g. http://localhost:3000.",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Problem::new(
            var,
            "has a user name or password in it (user:password@)".into(),
            "Use only scheme, host and port, e.g. https://app.example.com: this URL is sent to every browser and to the provider.",
        ));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(Problem::new(
            var,
            format!("{raw:?} has a path, query or fragment"),
            "Use only scheme, host and port, e.g. https://app.example.com: the app serves /login, /callback and /logout at the root.",
        ));
    }
    Ok(raw.trim_end_matches('/').to_string())
}

/// `APP_SECRET_KEY`: hex (64+ chars) or base64 of at least 32 random bytes.
pub fn parse_secret_key(raw: &str) -> Result<SessionSecret, Problem> {
    let var = "APP_SECRET_KEY";
    let fix = "Generate one with `openssl rand -hex 32` and paste the 64 characters into .env.";
    if raw.is_empty() {
        return Err(Problem::missing(var, fix));
    }
    let bytes = if raw.len() % 2 == 0 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..raw.len())
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(&raw[i..i + 2], 16).ok())
            .collect::<Vec<u8>>()
    } else if let Some(bytes) = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::URL_SAFE,
    ]
    .iter()
    .find_map(|engine| engine.decode(raw).ok())
    .or_else(|| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(raw)
            .ok()
    }) {
        bytes
    } else {
        return Err(Problem::new(var, "is neither hex nor base64".into(), fix));
    };
    if bytes.len() < 32 {
        return Err(Problem::new(
            var,
            format!("decodes to {} bytes; at least 32 are needed", bytes.len()),
            fix,
        ));
    }
    let distinct = bytes.iter().collect::<std::collections::HashSet<_>>().len();
    if distinct < 12 {
        return Err(Problem::new(
            var,
            "is not random (too few distinct bytes)".into(),
            fix,
        ));
    }
    Ok(SessionSecret(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const KEY: &str = "3f1c9a7be24d5086f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7a8";

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(Mode::Tenant, |k| map.get(k).cloned())
    }

    fn valid() -> Vec<(&'static str, &'static str)> {
        vec![
            ("AUTH0_DOMAIN", "dev-abc.us.auth0.com"),
            ("AUTH0_CLIENT_ID", "abc123"),
            ("AUTH0_CLIENT_SECRET", "s3cr3t"),
            ("APP_SECRET_KEY", KEY),
        ]
    }

    #[test]
    fn a_bare_domain_becomes_an_https_issuer_ending_in_a_slash() {
        let config = load(&valid()).unwrap();
        assert_eq!(
            config.provider_base.as_str(),
            "https://dev-abc.us.auth0.com/"
        );
        assert_eq!(
            config.discovery_url(),
            "https://dev-abc.us.auth0.com/.well-known/openid-configuration"
        );
        assert_eq!(config.base_url, "http://localhost:3000");
        assert_eq!(config.redirect_uri(), "http://localhost:3000/callback");
        assert_eq!(config.bind.to_string(), "127.0.0.1:3000");
        assert_eq!(config.scope, "openid profile email");
    }

    #[test]
    fn every_missing_setting_is_reported_at_once() {
        let errors = load(&[]).unwrap_err();
        assert_eq!(
            errors.variables(),
            vec![
                "APP_SECRET_KEY",
                "AUTH0_DOMAIN",
                "AUTH0_CLIENT_ID",
                "AUTH0_CLIENT_SECRET"
            ]
        );
        let text = errors.to_string();
        assert!(text.contains("4 configuration problems"), "{text}");
        assert!(text.contains("openssl rand -hex 32"), "{text}");
    }

    #[test]
    fn http_is_accepted_only_for_loopback_providers() {
        assert_eq!(
            parse_provider_base("http://127.0.0.1:4000")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:4000/"
        );
        assert!(parse_provider_base("http://localhost:4000/").is_ok());
        let err = parse_provider_base("http://idp.example.com").unwrap_err();
        assert!(err.problem.contains("not loopback"));
    }

    #[test]
    fn domain_mistakes_get_specific_advice() {
        assert!(
            parse_provider_base("dev.auth0.com/.well-known/openid-configuration")
                .unwrap_err()
                .fix
                .contains("just the domain")
        );
        assert!(parse_provider_base("{yourDomain}").is_err());
        assert!(parse_provider_base("ftp://x.com").is_err());
        assert!(parse_provider_base("https://x.com/?a=b").is_err());
    }

    #[test]
    fn weak_or_malformed_secret_keys_are_refused() {
        assert!(parse_secret_key(KEY).is_ok());
        assert!(
            parse_secret_key("abcd")
                .unwrap_err()
                .problem
                .contains("at least 32")
        );
        assert!(parse_secret_key(&"a".repeat(64)).is_err());
        assert!(parse_secret_key("not a key at all, just words!").is_err());
        // base64 of 32 distinct bytes is fine too.
        assert!(parse_secret_key("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").is_ok());
    }

    #[test]
    fn credentials_in_either_url_are_refused_without_echoing_them() {
        for raw in [
            "http://:pw@127.0.0.1:4000",
            "https://user@dev.auth0.com",
            "https://u:hunter2@dev.auth0.com/",
        ] {
            let err = parse_provider_base(raw).unwrap_err();
            assert!(
                err.problem.contains("user name or password"),
                "{raw}: {err:?}"
            );
            assert!(
                !err.problem.contains("pw") && !err.problem.contains("hunter2"),
                "{err:?}"
            );
        }
        for raw in [
            "https://u:hunter2@app.example.com",
            "http://:pw@localhost:3000",
            "https://app.example.com/?x=1",
            "https://app.example.com/#f",
        ] {
            let err = parse_base_url(Some(raw), 3000).unwrap_err();
            assert!(!err.problem.contains("hunter2"), "{err:?}");
        }
    }

    #[test]
    fn a_bad_dotenv_line_is_located_by_number_and_key() {
        let content = "# comment\nAUTH0_DOMAIN=ok\nAUTH0_CLIENT_SECRET=a b\"c\nX=1\n";
        assert_eq!(
            locate_bad_line(content, "AUTH0_CLIENT_SECRET=a b\"c\nX=1\n"),
            (3, Some("AUTH0_CLIENT_SECRET".into()))
        );
        assert_eq!(
            locate_bad_line("a\nnot a setting\n", "not a setting"),
            (2, None)
        );
    }

    #[test]
    fn base_url_must_be_an_origin() {
        assert_eq!(
            parse_base_url(Some("https://app.example.com/"), 3000).unwrap(),
            "https://app.example.com"
        );
        assert!(parse_base_url(Some("https://app.example.com/app"), 3000).is_err());
        assert!(parse_base_url(Some("localhost:3000"), 3000).is_err());
    }

    #[test]
    fn bad_host_port_and_scope_are_each_named() {
        let mut pairs = valid();
        pairs.extend([
            ("HOST", "everywhere"),
            ("PORT", "http"),
            ("AUTH0_SCOPE", "profile"),
        ]);
        let errors = load(&pairs).unwrap_err();
        assert_eq!(errors.variables(), vec!["HOST", "PORT", "AUTH0_SCOPE"]);
    }

    #[test]
    fn demo_mode_refuses_non_loopback_binds_and_needs_no_tenant() {
        let map: HashMap<&str, &str> = [("HOST", "0.0.0.0")].into();
        let err =
            Config::from_lookup(Mode::Demo, |k| map.get(k).map(|v| v.to_string())).unwrap_err();
        assert_eq!(err.variables(), vec!["HOST"]);
        let ok = Config::from_lookup(Mode::Demo, |_| None).unwrap();
        assert_eq!(ok.client_id, "demo-client");
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let config = load(&valid()).unwrap();
        let debug = format!("{config:?}");
        assert!(!debug.contains("s3cr3t"));
        assert!(!debug.contains(KEY));
    }
}
