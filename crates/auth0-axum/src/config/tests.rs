//! The configuration's parsers and the one-pass report, tested on maps (no environment).
use super::dotenv::locate_bad_line;
use super::*;
use std::collections::HashMap;

const KEY: &str = "3f1c9a7be24d5086f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7a8";

fn load(pairs: &[(&str, &str)]) -> Result<Auth0Config, ConfigErrors> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Auth0Config::from_lookup(|k| map.get(k).cloned())
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
        config.tenant.provider_base.as_str(),
        "https://dev-abc.us.auth0.com/"
    );
    assert_eq!(
        discovery_url_for(&config.tenant.provider_base),
        "https://dev-abc.us.auth0.com/.well-known/openid-configuration"
    );
    assert_eq!(config.app.base_url.as_str(), "http://localhost:3000");
    assert_eq!(config.callback_url(), "http://localhost:3000/callback");
    assert_eq!(config.app.bind.to_string(), "127.0.0.1:3000");
    assert_eq!(config.app.scope, "openid profile email");
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
            .contains("must be 64 hex characters")
    );
    assert!(parse_secret_key(&"a".repeat(64)).is_err());
    // A passphrase: no decoding detail, the same advice.
    let err = parse_secret_key("correct horse battery staple").unwrap_err();
    assert_eq!(err.problem, "must be 64 hex characters (32 random bytes)");
    assert!(
        err.fix
            .contains("64 hex characters from `openssl rand -hex 32`")
    );
    let err = parse_secret_key("correcthorsebatterystaple1").unwrap_err();
    assert!(!err.problem.contains("decodes"), "{err:?}");
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
        let err = AppBaseUrl::parse(Some(raw), 3000).unwrap_err();
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

/// The common `AUTH0_SCOPE=openid profile email` (unquoted): dotenvy reports only the value, and
/// the report still names the real line and key.
#[test]
fn an_unquoted_value_with_spaces_is_reported_by_its_line_and_key() {
    let content = "AUTH0_DOMAIN=x.auth0.com\n\nAUTH0_SCOPE=openid profile email\nPORT=3000\n";
    assert_eq!(
        locate_bad_line(content, "openid profile email"),
        (3, Some("AUTH0_SCOPE".into()))
    );
}

/// `docker run --env-file .env` keeps the quotes `.env` needs around a value with spaces: a value
/// wrapped in one pair of matching quotes is read without them, from the environment too.
#[test]
fn a_quoted_value_from_the_environment_reads_without_its_quotes() {
    let mut pairs = valid();
    pairs.push(("AUTH0_SCOPE", "\"openid profile email offline_access\""));
    pairs.push(("AUTH0_AUDIENCE", "'https://api.example.com'"));
    let config = load(&pairs).expect("quoted values are accepted");
    assert_eq!(config.app.scope, "openid profile email offline_access");
    assert_eq!(config.audience(), Some("https://api.example.com"));
    // A quote inside a value, or one that is not matched, is the value's own.
    let mut pairs = valid();
    pairs.push(("AUTH0_AUDIENCE", "\"https://api.example.com"));
    assert_eq!(
        load(&pairs).unwrap().audience(),
        Some("\"https://api.example.com")
    );
}

#[test]
fn base_url_is_an_origin_with_at_most_a_path() {
    assert_eq!(
        AppBaseUrl::parse(Some("https://app.example.com/"), 3000)
            .unwrap()
            .as_str(),
        "https://app.example.com"
    );
    let sub_path = AppBaseUrl::parse(Some("https://example.com/app/"), 3000).unwrap();
    assert_eq!(sub_path.as_str(), "https://example.com/app");
    assert_eq!(sub_path.path(), "/app");
    assert_eq!(sub_path.browser_path("/profile"), "/app/profile");
    assert_eq!(sub_path.post_logout(), "https://example.com/app");
    assert_eq!(sub_path.origin(), "https://example.com");
    assert!(AppBaseUrl::parse(Some("https://app.example.com/?x=1"), 3000).is_err());
    assert!(AppBaseUrl::parse(Some("https://app.example.com/#top"), 3000).is_err());
    assert!(AppBaseUrl::parse(Some("localhost:3000"), 3000).is_err());
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
fn demo_mode_refuses_non_loopback_binds_and_needs_no_tenant_settings() {
    let map: HashMap<&str, &str> = [("HOST", "0.0.0.0")].into();
    let err =
        AppSettings::from_lookup(Mode::Demo, &|k| map.get(k).map(|v| v.to_string())).unwrap_err();
    assert_eq!(err.variables(), vec!["HOST"]);
    let ok = AppSettings::from_lookup(Mode::Demo, &|_| None).unwrap();
    assert_eq!(ok.base_url.as_str(), "http://localhost:3000");
}

#[test]
fn secrets_never_show_in_debug_output() {
    let config = load(&valid()).unwrap();
    let debug = format!("{config:?}");
    assert!(!debug.contains("s3cr3t"));
    assert!(!debug.contains(KEY));
}

fn with(extra: &[(&'static str, &'static str)]) -> Result<Auth0Config, ConfigErrors> {
    let mut pairs = valid();
    pairs.extend_from_slice(extra);
    load(&pairs)
}

#[test]
fn session_store_is_the_cookie_by_default_or_a_redis_url() {
    assert_eq!(
        load(&valid()).unwrap().app.session_store,
        SessionStoreSetting::Cookie
    );
    assert_eq!(
        with(&[("SESSION_STORE", "cookie")])
            .unwrap()
            .app
            .session_store,
        SessionStoreSetting::Cookie
    );
    let redis = with(&[("SESSION_STORE", "redis://:hunter2@cache.internal:6380/2")])
        .unwrap()
        .app
        .session_store;
    let SessionStoreSetting::Redis(url) = &redis else {
        panic!("{redis:?}")
    };
    assert_eq!(url.port(), Some(6380));
    assert_eq!(
        format!("{redis:?}"),
        "Redis(redis://cache.internal:6380/2)",
        "the password never shows"
    );
}

#[test]
fn a_bad_session_store_is_named_without_echoing_a_password() {
    for bad in [
        "memcached://:hunter2@cache:11211",
        "redis://:hunter2@",
        "redis://:hunter2@cache:6379/not-a-db",
        "redis-sentinel://:hunter2@cache:26379/0",
        "redis://:hunter2@cache:6379?node=cache2:6379",
        "hunter2",
    ] {
        let errors = with(&[("SESSION_STORE", bad)]).unwrap_err();
        assert_eq!(errors.variables(), vec!["SESSION_STORE"], "{bad}");
        let text = errors.to_string();
        assert!(!text.contains("hunter2"), "{bad}: {text}");
        assert!(
            text.contains("redis://"),
            "{bad}: says what to use instead: {text}"
        );
    }
}

#[test]
fn previous_secret_keys_are_parsed_and_a_bad_one_is_named_by_position_never_echoed() {
    let other = "9a8b7c6d5e4f30211f2e3d4c5b6a79880123456789abcdef0f1e2d3c4b5a6978";
    let two = format!("{other}, {KEY}");
    let config =
        load(&[valid(), vec![("APP_SECRET_KEY_PREVIOUS", two.as_str())]].concat()).unwrap();
    assert_eq!(config.app.previous_session_secrets.len(), 2);
    let broken = format!("{other},not-a-key-but-a-passphrase");
    let errors =
        load(&[valid(), vec![("APP_SECRET_KEY_PREVIOUS", broken.as_str())]].concat()).unwrap_err();
    assert_eq!(errors.variables(), vec!["APP_SECRET_KEY_PREVIOUS"]);
    let text = errors.to_string();
    assert!(text.contains("entry 2"), "{text}");
    assert!(
        !text.contains("passphrase") && !text.contains(other),
        "{text}"
    );
}

#[test]
fn a_signing_key_replaces_the_client_secret_and_each_mistake_is_named_without_the_key() {
    const RSA: &str = include_str!("../../tests/fixtures/client-assertion-rsa.pem");
    const EC: &str = include_str!("../../tests/fixtures/client-assertion-ec.pem");
    let (rsa, ec) = (RSA, EC);
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut pairs: Vec<_> = valid()
            .into_iter()
            .filter(|(k, _)| *k != "AUTH0_CLIENT_SECRET")
            .collect();
        pairs.extend_from_slice(extra);
        load(&pairs)
    };
    // Inline, no secret: private_key_jwt.
    let config = with(&[("AUTH0_CLIENT_ASSERTION_SIGNING_KEY", rsa)]).unwrap();
    let jwk = config.client_assertion_jwk().unwrap();
    assert_eq!(
        (jwk["kty"].as_str(), jwk["alg"].as_str()),
        (Some("RSA"), Some("RS256"))
    );
    let config = with(&[
        ("AUTH0_CLIENT_ASSERTION_SIGNING_KEY", ec),
        ("AUTH0_CLIENT_ASSERTION_SIGNING_ALG", "es256"),
    ])
    .unwrap();
    assert_eq!(config.client_assertion_jwk().unwrap()["crv"], "P-256");
    // Without either, the secret is what is missing.
    assert_eq!(
        with(&[]).unwrap_err().variables(),
        vec!["AUTH0_CLIENT_SECRET"]
    );
    type Case = (
        &'static [(&'static str, &'static str)],
        &'static str,
        &'static str,
    );
    let cases: [Case; 4] = [
        (
            &[
                ("AUTH0_CLIENT_ASSERTION_SIGNING_KEY", RSA),
                ("AUTH0_CLIENT_ASSERTION_SIGNING_ALG", "HS256"),
            ],
            "AUTH0_CLIENT_ASSERTION_SIGNING_ALG",
            "RS256, PS256, ES256",
        ),
        (
            &[("AUTH0_CLIENT_ASSERTION_SIGNING_KEY", EC)],
            "AUTH0_CLIENT_ASSERTION_SIGNING_KEY",
            "RS256 needs an RSA key",
        ),
        (
            &[("AUTH0_CLIENT_ASSERTION_SIGNING_KEY", "/nonexistent/key.pem")],
            "AUTH0_CLIENT_ASSERTION_SIGNING_KEY",
            "/nonexistent/key.pem",
        ),
        (
            &[(
                "AUTH0_CLIENT_ASSERTION_SIGNING_KEY",
                "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----",
            )],
            "AUTH0_CLIENT_ASSERTION_SIGNING_KEY",
            "RSA private key",
        ),
    ];
    for (extra, variable, says) in cases {
        let errors = with(extra).unwrap_err();
        let problem = errors
            .0
            .iter()
            .find(|p| p.variable == variable)
            .unwrap_or_else(|| panic!("{errors:?}"));
        assert!(problem.problem.contains(says), "{problem:?}");
        let shown = format!("{errors}");
        assert!(
            !shown.contains("MII") && !shown.contains("bm90IGEga2V5"),
            "the key was shown: {shown}"
        );
    }
}

#[test]
fn the_fapi2_profile_turns_on_par_and_dpop_and_names_the_missing_signing_key() {
    let errors = load(&[valid(), vec![("AUTH0_SECURITY_PROFILE", "fapi2")]].concat()).unwrap_err();
    let problem = errors
        .0
        .iter()
        .find(|p| p.variable == "AUTH0_CLIENT_ASSERTION_SIGNING_KEY")
        .unwrap_or_else(|| panic!("{errors:?}"));
    assert!(problem.problem.contains("fapi2"), "{problem:?}");
    const RSA: &str = include_str!("../../tests/fixtures/client-assertion-rsa.pem");
    let config = load(&[
        ("AUTH0_DOMAIN", "dev-abc.us.auth0.com"),
        ("AUTH0_CLIENT_ID", "abc123"),
        ("APP_SECRET_KEY", KEY),
        ("AUTH0_SECURITY_PROFILE", "fapi2"),
        ("AUTH0_CLIENT_ASSERTION_SIGNING_KEY", RSA),
    ])
    .unwrap();
    assert!(config.app.pushed_authorization_requests);
    assert!(config.app.dpop.is_some());
    assert!(config.app.require_response_iss);
    let errors = load(&[valid(), vec![("AUTH0_SECURITY_PROFILE", "fapi1")]].concat()).unwrap_err();
    assert_eq!(errors.variables(), vec!["AUTH0_SECURITY_PROFILE"]);
}

#[test]
fn redis_over_tls_in_a_cluster_and_behind_a_sentinel_are_session_stores() {
    for good in [
        "rediss://:hunter2@cache.internal:6380/0",
        "redis-cluster://cache-1:7000?node=cache-2:7000&node=cache-3:7000",
        "rediss-cluster://:hunter2@cache-1:7000",
        "redis-sentinel://sentinel-1:26379/0?sentinelServiceName=primary&node=sentinel-2:26379",
    ] {
        let config = with(&[("SESSION_STORE", good)]).unwrap_or_else(|e| panic!("{good}: {e}"));
        assert!(
            matches!(config.app.session_store, SessionStoreSetting::Redis(_)),
            "{good}"
        );
        assert_eq!(
            config.app.shared_redis.as_ref().map(|u| u.as_str()),
            Some(good),
            "the session store's Redis is the shared one"
        );
        assert!(!format!("{:?}", config.app.session_store).contains("hunter2"));
    }
}

#[test]
fn redis_url_shares_a_redis_beside_cookie_sessions_and_must_agree_with_session_store() {
    let config = with(&[("REDIS_URL", "redis://cache:6379/1")]).unwrap();
    assert_eq!(config.app.session_store, SessionStoreSetting::Cookie);
    assert_eq!(
        config.app.shared_redis.as_ref().map(|u| u.as_str()),
        Some("redis://cache:6379/1")
    );
    let errors = with(&[
        ("REDIS_URL", "redis://:hunter2@other:6379/1"),
        ("SESSION_STORE", "redis://cache:6379/1"),
    ])
    .unwrap_err();
    assert_eq!(errors.variables(), vec!["REDIS_URL"]);
    assert!(!errors.to_string().contains("hunter2"));
    let errors = with(&[("REDIS_URL", "cookie")]).unwrap_err();
    assert_eq!(errors.variables(), vec!["REDIS_URL"]);
}

#[test]
fn a_private_ca_needs_tls_and_a_certificate() {
    let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    let config = with(&[
        ("SESSION_STORE", "rediss://cache:6380/0"),
        ("SESSION_STORE_CA_FILE", pem),
    ])
    .unwrap();
    assert_eq!(
        config.app.session_store_ca.as_deref().map(str::trim),
        Some(pem.trim())
    );
    let plain = with(&[
        ("SESSION_STORE", "redis://cache:6379/0"),
        ("SESSION_STORE_CA_FILE", pem),
    ])
    .unwrap_err();
    assert_eq!(plain.variables(), vec!["SESSION_STORE_CA_FILE"]);
    assert!(plain.to_string().contains("rediss://"), "{plain}");
    let missing = with(&[
        ("SESSION_STORE", "rediss://cache:6380/0"),
        ("SESSION_STORE_CA_FILE", "/nonexistent/ca.pem"),
    ])
    .unwrap_err();
    assert_eq!(missing.variables(), vec!["SESSION_STORE_CA_FILE"]);
}

#[test]
fn session_lifetimes_are_settings_with_todays_defaults() {
    let defaults = load(&valid()).unwrap().app.session_lifetimes;
    assert_eq!(
        (defaults.rolling, defaults.idle_secs, defaults.absolute_secs),
        (true, 24 * 3600, 7 * 24 * 3600)
    );
    let set = with(&[
        ("SESSION_ROLLING", "false"),
        ("SESSION_IDLE_TIMEOUT", "30m"),
        ("SESSION_ABSOLUTE_TIMEOUT", "12h"),
    ])
    .unwrap()
    .app
    .session_lifetimes;
    assert_eq!(
        (set.rolling, set.idle_secs, set.absolute_secs),
        (false, 1800, 43_200)
    );
    assert_eq!(
        set.inactivity_secs(),
        43_200,
        "not rolling: the cookie lives the absolute lifetime"
    );
    assert_eq!(
        with(&[("SESSION_IDLE_TIMEOUT", "900")])
            .unwrap()
            .app
            .session_lifetimes
            .inactivity_secs(),
        900
    );
    for (name, bad) in [
        ("SESSION_IDLE_TIMEOUT", "0"),
        ("SESSION_IDLE_TIMEOUT", "1w"),
        ("SESSION_ABSOLUTE_TIMEOUT", "999d"),
        ("SESSION_ROLLING", "sometimes"),
        ("SESSION_IDLE_TIMEOUT", "8d"),
    ] {
        let errors = with(&[(name, bad)]).unwrap_err();
        assert_eq!(errors.variables(), vec![name], "{name}={bad}");
    }
}
