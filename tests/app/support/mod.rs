//! `spawn_app()`: the real server on port 0, logged in against the demo provider (another server
//! on port 0), driven over real HTTP by a cookie-keeping client that does not follow redirects.

mod dpop_holder;
mod esp_rows;
mod process;

use std::net::SocketAddr;

use std::collections::HashMap;

use auth0_axum::Auth0Config;
use auth0_axum::test_support::{
    COOKIE_NAME, LoginTransaction, SessionKeys, UserSession, parse_secret_key, read_record_data,
    record_data,
};
use auth0_demo_idp::{ClientRegistration, DemoProvider};
use auth0_login::server::{Application, ServeLimits};
use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::{Client, Response, StatusCode};

pub use dpop_holder::*;
pub use esp_rows::*;
pub use process::*;

pub const CLIENT_ID: &str = "test-client";
pub const CLIENT_SECRET: &str = "test-secret-not-for-production";
pub const SECRET_KEY: &str = "3f1c9a7be24d5086f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7a8";

pub struct TestApp {
    pub base: String,
    pub addr: SocketAddr,
    pub provider: Option<DemoProvider>,
    pub provider_addr: SocketAddr,
    pub client: Client,
}

pub struct Options {
    pub audience: Option<String>,
    pub scope: String,
    /// Start with nothing listening where the provider should be.
    pub provider_down: bool,
    /// Configure APP_BASE_URL with this host instead of 127.0.0.1 (e.g. "localhost").
    pub base_host: String,
    /// APP_BASE_URL's scheme ("https" to see the Secure flag).
    pub base_scheme: String,
    /// Connection limits other than the defaults (the slowloris tests).
    pub serve_limits: Option<ServeLimits>,
    /// `AUTH0_ORGANIZATION`.
    pub organization: Option<String>,
    /// `AUTH0_ROLES_CLAIM`.
    pub roles_claim: Option<String>,
    /// How the provider misbehaves from before the app's first discovery.
    pub provider_behaviour: Option<fn(&mut auth0_demo_idp::Behaviour)>,
    /// `APP_SECRET_KEY` (default [`SECRET_KEY`]).
    pub secret_key: Option<String>,
    /// `APP_SECRET_KEY_PREVIOUS`, one key an entry.
    pub previous_secret_keys: Vec<String>,
    /// `SESSION_STORE` (default: cookies).
    pub session_store: Option<String>,
    /// `AUTH0_USERINFO`.
    pub userinfo: &'static str,
    /// Configured as `--demo` configures it (`Auth0Config::for_local_provider`).
    pub demo: bool,
    /// `API_URL`: the API `/call-api` calls (default: the app's own `/api/me`).
    pub api_url: Option<String>,
    /// `AUTH0_CLIENT_ASSERTION_SIGNING_KEY` and `..._ALG` (Private Key JWT): no client secret is
    /// configured then, and the demo provider is registered with the key's public half.
    pub assertion_key: Option<(String, &'static str)>,
    /// Any other settings.
    pub extra_env: Vec<(&'static str, String)>,
    /// Use this already running provider (another instance's) instead of starting one.
    pub provider_addr: Option<SocketAddr>,
    /// `APP_BASE_URL` other than this instance's own address (a load balancer in front of several).
    pub base_url: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            audience: None,
            scope: "openid profile email".into(),
            provider_down: false,
            base_host: "127.0.0.1".into(),
            base_scheme: "http".into(),
            serve_limits: None,
            organization: None,
            roles_claim: None,
            provider_behaviour: None,
            secret_key: None,
            previous_secret_keys: Vec::new(),
            session_store: None,
            userinfo: "auto",
            demo: false,
            api_url: None,
            assertion_key: None,
            extra_env: Vec::new(),
            provider_addr: None,
            base_url: None,
        }
    }
}

pub fn registration(base: &str) -> ClientRegistration {
    ClientRegistration {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        redirect_uris: vec![format!("{base}/callback")],
        post_logout_redirect_uris: vec![base.to_string()],
        backchannel_logout_uri: Some(format!("{base}/backchannel-logout")),
        client_assertion_jwk: None,
    }
}

pub fn cookie_client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn free_port() -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    l.local_addr().expect("addr")
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind app");
    let addr = listener.local_addr().expect("addr");
    let base = options.base_url.clone().unwrap_or_else(|| {
        format!(
            "{}://{}:{}",
            options.base_scheme,
            options.base_host,
            addr.port()
        )
    });

    let (provider, provider_addr) = if let Some(at) = options.provider_addr {
        (None, at)
    } else if options.provider_down {
        (None, free_port().await)
    } else {
        let p = DemoProvider::start("127.0.0.1:0".parse().unwrap(), registration(&base))
            .await
            .expect("provider");
        let a = p.addr();
        if let Some(change) = options.provider_behaviour {
            p.behave(change);
        }
        (Some(p), a)
    };

    let mut env: HashMap<&str, String> = HashMap::from([
        ("APP_BASE_URL", base.clone()),
        ("HOST", addr.ip().to_string()),
        ("PORT", addr.port().to_string()),
        (
            "APP_SECRET_KEY",
            options.secret_key.clone().unwrap_or(SECRET_KEY.into()),
        ),
        ("AUTH0_SCOPE", options.scope.clone()),
        ("AUTH0_USERINFO", options.userinfo.into()),
        ("AUTH0_DOMAIN", format!("http://{provider_addr}/")),
        ("AUTH0_CLIENT_ID", CLIENT_ID.into()),
        ("AUTH0_CLIENT_SECRET", CLIENT_SECRET.into()),
    ]);
    let optional = [
        (
            "APP_SECRET_KEY_PREVIOUS",
            Some(options.previous_secret_keys.join(",")),
        ),
        ("SESSION_STORE", options.session_store.clone()),
        ("AUTH0_AUDIENCE", options.audience.clone()),
        ("AUTH0_ORGANIZATION", options.organization.clone()),
        ("AUTH0_ROLES_CLAIM", options.roles_claim.clone()),
        ("API_URL", options.api_url.clone()),
    ];
    for (name, value) in optional {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            env.insert(name, value);
        }
    }
    for (name, value) in &options.extra_env {
        env.insert(name, value.clone());
    }
    if let Some((key, alg)) = &options.assertion_key {
        env.remove("AUTH0_CLIENT_SECRET");
        env.insert("AUTH0_CLIENT_ASSERTION_SIGNING_KEY", key.clone());
        env.insert("AUTH0_CLIENT_ASSERTION_SIGNING_ALG", alg.to_string());
    }
    let config = if options.demo {
        Auth0Config::for_local_provider(|name| env.get(name).cloned()).and_then(|c| {
            c.with_tenant(
                &format!("http://{provider_addr}/"),
                CLIENT_ID,
                CLIENT_SECRET,
            )
        })
    } else {
        Auth0Config::from_lookup(|name| env.get(name).cloned())
    }
    .expect("a valid config");
    if let (Some(provider), Some(jwk)) = (&provider, config.client_assertion_jwk()) {
        provider.accept_client_assertions(jwk);
    }
    let mut app = Application::with_listener(config, listener)
        .await
        .expect("the app builds");
    if let Some(limits) = options.serve_limits {
        app = app.with_limits(limits);
    }
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    TestApp {
        base: format!("http://{addr}"),
        addr,
        provider,
        provider_addr,
        client: cookie_client(),
    }
}

pub fn location(response: &Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no Location on a {} response", response.status()))
        .to_string()
}

pub fn set_cookies(response: &Response) -> Vec<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect()
}

impl TestApp {
    pub fn provider(&self) -> &DemoProvider {
        self.provider.as_ref().expect("this app has a provider")
    }

    /// GET `path` carrying only this Cookie header (another browser holding a copy, or a forged
    /// or tampered cookie), redirects not followed.
    pub async fn get_with_cookie(&self, path: &str, cookie: &str) -> Response {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
            .get(format!("{}{path}", self.base))
            .header("Cookie", cookie)
            .send()
            .await
            .expect("request")
    }

    /// A logout token for the provider's last login (its `sid` and `sub`), signed by the provider.
    pub fn logout_token_for_last_session(&self) -> String {
        let provider = self.provider();
        let (sid, sub) = provider.last_session().expect("a login happened");
        provider.sign_logout_token(&provider.logout_claims(Some(&sid), Some(&sub)))
    }

    /// POSTs a logout token to `/backchannel-logout` as a provider does.
    pub async fn post_logout_token(&self, token: &str) -> Response {
        Client::new()
            .post(format!("{}/backchannel-logout", self.base))
            .form(&[("logout_token", token)])
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request")
    }

    /// The body of a page, as this app's browser sees it.
    pub async fn page(&self, path: &str) -> String {
        self.get(path).await.text().await.expect("page body")
    }

    pub async fn get_with(&self, client: &Client, path: &str) -> Response {
        client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request")
    }

    /// `/login?returnTo=...` → the provider's authorize URL.
    pub async fn start_login(&self, client: &Client, path: &str) -> String {
        let response = self.get_with(client, path).await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "{path}: {}",
            response.text().await.unwrap_or_default()
        );
        location(&response)
    }

    /// At the provider: pick a demo user (or cancel) → the app's callback URL.
    pub async fn decide(
        &self,
        client: &Client,
        authorize_url: &str,
        choice: &[(&str, &str)],
    ) -> String {
        let page = client.get(authorize_url).send().await.expect("authorize");
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        let interaction = html
            .split("name=\"interaction\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("interaction id on the authorize page")
            .to_string();
        let decision_url = authorize_url
            .split("/authorize?")
            .next()
            .unwrap()
            .to_string()
            + "/authorize/decision";
        let mut form: Vec<(&str, &str)> = vec![("interaction", &interaction)];
        form.extend_from_slice(choice);
        let response = client
            .post(decision_url)
            .form(&form)
            .send()
            .await
            .expect("decision");
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        location(&response)
    }

    /// The whole login as `user` starting at `login_path`; returns the callback's response.
    pub async fn login_with(&self, client: &Client, login_path: &str, user: &str) -> Response {
        let authorize = self.start_login(client, login_path).await;
        let callback = self.decide(client, &authorize, &[("user", user)]).await;
        client.get(callback).send().await.expect("callback")
    }

    pub async fn login(&self) -> Response {
        self.login_with(&self.client, "/login", "jane").await
    }
}

/// The status `/call-api` shows for the API's answer (`<strong id="apiStatus">...</strong>`).
pub fn api_status(html: &str) -> &str {
    html.split(r#"id="apiStatus">"#)
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or("")
}

/// The short error code on an error page (`<code id="errorCode">...</code>`).
pub fn error_code(html: &str) -> String {
    html.split("id=\"errorCode\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or("")
        .to_string()
}

fn session_keys() -> SessionKeys {
    SessionKeys::new(&parse_secret_key(SECRET_KEY).unwrap(), &[])
}

/// A session cookie (`name=value`) the app will open, holding `user` and `logins` and expiring
/// at `expires_at` (unix time): for sessions dated in the past. Built from the session's public
/// types; the record's layout stays the session module's business.
pub fn forge_session(
    user: Option<&UserSession>,
    logins: &[LoginTransaction],
    expires_at: i64,
) -> String {
    let value = session_keys()
        .seal(&record_data(user, logins), expires_at)
        .unwrap();
    format!("{COOKIE_NAME}={value}")
}

/// What a session cookie's value holds: the user and the logins in progress.
pub fn open_session_cookie(value: &str) -> (Option<UserSession>, Vec<LoginTransaction>) {
    let opened = session_keys()
        .open(value)
        .expect("the cookie opens under the test key");
    read_record_data(&opened.record.data)
}

/// `url` with query parameter `name` set to `value` (added if absent; `None` removes it).
pub fn with_param(url: &str, name: &str, value: Option<&str>) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    let mut pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if let Some(value) = value {
        pairs.push((name.to_string(), value.to_string()));
    }
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.to_string()
}

/// Query parameter `name` of `url`.
pub fn param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The value of the first cookie a response sets.
pub fn first_cookie_value(response: &Response) -> String {
    let cookie = set_cookies(response)
        .into_iter()
        .next()
        .expect("a Set-Cookie");
    let pair = cookie.split(';').next().unwrap_or_default();
    pair.split_once('=')
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}
