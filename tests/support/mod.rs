//! `spawn_app()`: the real server on port 0, logged in against the demo provider (another server
//! on port 0), driven over real HTTP by a cookie-keeping client that does not follow redirects.

#![allow(dead_code)]

use std::net::SocketAddr;

use auth0_login::config::{Config, Secret, parse_secret_key};
use auth0_login::demo_idp::{ClientRegistration, DemoProvider};
use auth0_login::{AppState, Application};
use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::{Client, Response, StatusCode};

pub const CLIENT_ID: &str = "test-client";
pub const CLIENT_SECRET: &str = "test-secret-not-for-production";
pub const SECRET_KEY: &str = "3f1c9a7be24d5086f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7a8";

pub struct TestApp {
    pub base: String,
    pub addr: SocketAddr,
    pub provider: Option<DemoProvider>,
    pub provider_addr: SocketAddr,
    pub client: Client,
    pub state: AppState,
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
}

impl Default for Options {
    fn default() -> Self {
        Self {
            audience: None,
            scope: "openid profile email".into(),
            provider_down: false,
            base_host: "127.0.0.1".into(),
            base_scheme: "http".into(),
        }
    }
}

pub fn registration(base: &str) -> ClientRegistration {
    ClientRegistration {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        redirect_uris: vec![format!("{base}/callback")],
        post_logout_redirect_uris: vec![base.to_string()],
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
    let base = format!(
        "{}://{}:{}",
        options.base_scheme,
        options.base_host,
        addr.port()
    );

    let (provider, provider_addr) = if options.provider_down {
        (None, free_port().await)
    } else {
        let p = DemoProvider::start("127.0.0.1:0".parse().unwrap(), registration(&base))
            .await
            .expect("provider");
        let a = p.addr();
        (Some(p), a)
    };

    let config = Config {
        provider_base: url::Url::parse(&format!("http://{provider_addr}/")).unwrap(),
        client_id: CLIENT_ID.into(),
        client_secret: Secret::new(CLIENT_SECRET),
        session_secret: parse_secret_key(SECRET_KEY).unwrap(),
        base_url: base.clone(),
        bind: addr,
        scope: options.scope.clone(),
        audience: options.audience.clone(),
    };
    let app = Application::with_listener(config, false, listener);
    let state = app.state();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    TestApp {
        base: format!("http://{addr}"),
        addr,
        provider,
        provider_addr,
        client: cookie_client(),
        state,
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

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request")
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

/// The short error code on an error page (`<code id="errorCode">...</code>`).
pub fn error_code(html: &str) -> String {
    html.split("id=\"errorCode\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or("")
        .to_string()
}
