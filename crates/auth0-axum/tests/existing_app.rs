//! The library as an existing axum app uses it: every test builds its app from the public API
//! only (the README's ten lines, and the extension points), serves it on port 0 against the demo
//! provider, and logs in over real HTTP.

use std::collections::HashMap;
use std::net::SocketAddr;

use auth0_axum::{Auth0, Auth0Config, AuthError, SessionClaims, User};
use auth0_demo_idp::{ClientRegistration, DemoProvider};
use axum::extract::{FromRef, Request};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use reqwest::Client;
use reqwest::header::LOCATION;

const KEY: &str = "3f1c9a7be24d5086f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7a8";

/// The README's existing app: a shop with its own state.
#[derive(Clone)]
struct Shop {
    auth: Auth0,
}

impl FromRef<Shop> for Auth0 {
    fn from_ref(s: &Shop) -> Auth0 {
        s.auth.clone()
    }
}

async fn home(user: Option<User>) -> String {
    if user.is_some() {
        "signed in".into()
    } else {
        "guest".into()
    }
}

async fn orders(_user: User) -> &'static str {
    "your orders"
}

async fn vault(auth0_axum::RequireMfa(user): auth0_axum::RequireMfa) -> String {
    format!("the vault, for {} ({})", user.name(), user.amr().join(","))
}

async fn me(user: User) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "claims": user.claims(),
        "plan": user.app_data("plan"),
    }))
}

/// The claims of a JWT access token, unverified (the API would verify them): what the test reads.
fn token_claims(token: &str) -> serde_json::Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or_default()
}

/// A token for the orders API (another API than `AUTH0_AUDIENCE`), or the page saying why not.
async fn orders_token(
    tokens: auth0_axum::ApiTokens,
    axum::extract::Path(n): axum::extract::Path<u32>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let audience = if n == 0 {
        ORDERS_API.to_string()
    } else {
        format!("https://api-{n}.example.com")
    };
    match tokens.for_api(&audience, "read:orders").await {
        Ok(token) => Json(token_claims(token.secret())).into_response(),
        Err(page) => page,
    }
}

/// The default audience's token.
async fn default_token(token: auth0_axum::AccessToken) -> Json<serde_json::Value> {
    Json(token_claims(token.secret()))
}

const ORDERS_API: &str = "https://orders.example.com";
const DEFAULT_API: &str = "https://api.example.com";

/// The README's router, with the auth routes merged (or nested under `routes_at`).
fn shop(auth: Auth0, routes_at: Option<&str>) -> Router {
    let pages = Router::new()
        .route("/apis/{n}", get(orders_token))
        .route("/api-token", get(default_token))
        .route("/", get(home))
        .route("/orders", get(orders))
        .route("/me", get(me))
        .route("/vault", get(vault));
    let pages = match routes_at {
        None => pages.merge(auth.router()),
        Some(prefix) => pages.nest(prefix, auth.router()),
    };
    pages.layer(auth.session_layer()).with_state(Shop { auth })
}

struct Running {
    /// What browsers open: `http://127.0.0.1:PORT` plus the sub-path, if any.
    base: String,
    provider: DemoProvider,
    browser: Client,
}

/// Serves the shop; `adjust` changes its configuration, `sub_path` puts it behind a proxy that
/// serves it under that path (and strips it, as `proxy_pass http://app/;` does).
async fn serve(
    adjust: impl FnOnce(Auth0Config) -> Auth0Config,
    routes_at: Option<&'static str>,
    sub_path: &'static str,
) -> Running {
    serve_with(adjust, routes_at, sub_path, &[]).await
}

/// [`serve`], with more settings.
async fn serve_with(
    adjust: impl FnOnce(Auth0Config) -> Auth0Config,
    routes_at: Option<&'static str>,
    sub_path: &'static str,
    extra_env: &[(&'static str, &str)],
) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let base = format!("http://{addr}{sub_path}");
    let auth_routes = format!("{base}{}", routes_at.unwrap_or(""));
    let provider = DemoProvider::start(
        "127.0.0.1:0".parse().unwrap(),
        ClientRegistration {
            client_id: "shop".into(),
            client_secret: "shop-secret".into(),
            redirect_uris: vec![format!("{auth_routes}/callback")],
            post_logout_redirect_uris: vec![base.clone()],
            backchannel_logout_uri: None,
            client_assertion_jwk: None,
        },
    )
    .await
    .unwrap();
    let mut env = HashMap::from([
        ("AUTH0_DOMAIN", provider.issuer().to_string()),
        ("AUTH0_CLIENT_ID", "shop".to_string()),
        ("AUTH0_CLIENT_SECRET", "shop-secret".to_string()),
        ("APP_SECRET_KEY", KEY.to_string()),
        ("APP_BASE_URL", base.clone()),
    ]);
    for (name, value) in extra_env {
        env.insert(*name, value.to_string());
    }
    let mut config = Auth0Config::from_lookup(|k| env.get(k).cloned()).unwrap();
    if let Some(prefix) = routes_at {
        config = config.with_routes_at(prefix).unwrap();
    }
    let auth = Auth0::new(adjust(config)).await.unwrap();
    let app = shop(auth, routes_at);
    let strip = move |mut request: Request| {
        let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
        let inner = path.strip_prefix(sub_path).unwrap_or(path);
        let inner = if inner.is_empty() { "/" } else { inner };
        *request.uri_mut() = inner.parse().unwrap();
        request
    };
    let proxied = tower::ServiceBuilder::new().map_request(strip).service(app);
    tokio::spawn(async move {
        axum::serve(listener, tower::make::Shared::new(proxied))
            .await
            .unwrap()
    });
    Running {
        base,
        provider,
        browser: Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .unwrap_or_else(|| panic!("no Location on a {}", response.status()))
        .to_str()
        .unwrap()
        .to_string()
}

impl Running {
    fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http") {
            return path_or_url.to_string();
        }
        // A Location path already carries the sub-path; the origin is the app's.
        let origin = self.base.split('/').take(3).collect::<Vec<_>>().join("/");
        format!("{origin}{path_or_url}")
    }

    async fn get(&self, path_or_url: &str) -> reqwest::Response {
        self.browser
            .get(self.url(path_or_url))
            .send()
            .await
            .unwrap()
    }

    /// From a page behind login through the provider (as `user`) back to the app: the
    /// callback's answer.
    async fn log_in_from(&self, page: &str, user: &str) -> reqwest::Response {
        let to_login = self.get(page).await;
        assert_eq!(to_login.status(), StatusCode::SEE_OTHER, "{page}");
        let authorize = location(&self.get(&location(&to_login)).await);
        let html = self.get(&authorize).await.text().await.unwrap();
        let interaction = html
            .split("name=\"interaction\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("the provider's login form")
            .to_string();
        let decision = format!("{}authorize/decision", self.provider.issuer());
        let back = self
            .browser
            .post(decision)
            .form(&[("interaction", interaction.as_str()), ("user", user)])
            .send()
            .await
            .unwrap();
        self.get(&location(&back)).await
    }
}

#[tokio::test]
async fn the_readme_app_sends_a_guest_to_log_in_and_back_to_the_page_it_asked_for() {
    let shop = serve(|c| c, None, "").await;
    assert_eq!(shop.get("/").await.text().await.unwrap(), "guest");
    let to_login = shop.get("/orders").await;
    assert_eq!(location(&to_login), "/login?returnTo=%2Forders");

    let callback = shop.log_in_from("/orders", "jane").await;
    assert_eq!(location(&callback), "/orders");
    assert_eq!(
        shop.get("/orders").await.text().await.unwrap(),
        "your orders"
    );
    assert_eq!(shop.get("/").await.text().await.unwrap(), "signed in");

    // The auth routes carry the security headers wherever they are mounted.
    let login = shop.get("/login").await;
    for header in [
        "x-frame-options",
        "x-content-type-options",
        "referrer-policy",
    ] {
        assert!(login.headers().contains_key(header), "{header} on /login");
    }
    assert_eq!(login.headers()["cache-control"], "no-store");

    let logout = shop.get("/logout").await;
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    assert_eq!(shop.get("/").await.text().await.unwrap(), "guest");
}

#[tokio::test]
async fn nested_auth_routes_carry_the_prefix_into_the_redirect_uri_and_the_login_redirects() {
    let shop = serve(|c| c, Some("/auth"), "").await;
    let to_login = shop.get("/orders").await;
    assert_eq!(location(&to_login), "/auth/login?returnTo=%2Forders");
    let authorize = location(&shop.get("/auth/login").await);
    assert!(
        authorize.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A"),
        "{authorize}"
    );
    assert!(authorize.contains("%2Fauth%2Fcallback"), "{authorize}");
    assert_eq!(shop.get("/login").await.status(), StatusCode::NOT_FOUND);

    let callback = shop.log_in_from("/orders", "jane").await;
    assert_eq!(location(&callback), "/orders");
    assert_eq!(
        shop.get("/orders").await.text().await.unwrap(),
        "your orders"
    );
}

#[tokio::test]
async fn under_a_sub_path_every_redirect_and_the_logout_return_follow_it() {
    let shop = serve(|c| c, None, "/app").await;
    let to_login = shop.get("/app/orders").await;
    assert_eq!(location(&to_login), "/app/login?returnTo=%2Forders");
    let login = shop.get("/app/login").await;
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("; Path=/app;"),
        "the cookie belongs to the app's path: {cookie}"
    );
    let authorize = location(&login);
    assert!(authorize.contains("%2Fapp%2Fcallback"), "{authorize}");

    let callback = shop.log_in_from("/app/orders", "jane").await;
    assert_eq!(location(&callback), "/app/orders");
    assert_eq!(
        shop.get("/app/orders").await.text().await.unwrap(),
        "your orders"
    );

    let logout = location(&shop.get("/app/logout").await);
    let returns_to = url::Url::parse(&logout)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "post_logout_redirect_uri" || k == "returnTo")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    assert!(returns_to.ends_with("/app"), "{logout}");
}

#[tokio::test]
async fn the_session_keeps_only_the_claims_it_is_told_to() {
    let all = serve(|c| c, None, "").await;
    all.log_in_from("/orders", "jane").await;
    let claims = all
        .get("/me")
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert!(claims["claims"]["updated_at"].is_string(), "{claims}");

    let few = serve(
        |c| c.with_session_claims(SessionClaims::only(["name"])),
        None,
        "",
    )
    .await;
    few.log_in_from("/orders", "jane").await;
    let claims = few
        .get("/me")
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let kept: Vec<&String> = claims["claims"].as_object().unwrap().keys().collect();
    assert_eq!(kept, ["name", "sub"], "{claims}");
}

#[tokio::test]
async fn the_callback_hook_adds_app_data_and_chooses_where_the_browser_goes() {
    let shop = serve(
        |c| {
            c.on_callback(|mut login| async move {
                let plan = if login.sub() == "demo|jane" {
                    "gold"
                } else {
                    "free"
                };
                login.set_app_data("plan", plan.into());
                login.set_return_to("/");
                Ok(login)
            })
        },
        None,
        "",
    )
    .await;
    let callback = shop.log_in_from("/orders", "jane").await;
    assert_eq!(location(&callback), "/");
    let me = shop
        .get("/me")
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(me["plan"], "gold");
}

#[tokio::test]
async fn the_callback_hook_can_refuse_a_login_with_its_own_page() {
    let shop = serve(
        |c| {
            c.on_callback(|login| async move {
                if login.sub() == "demo|jane" {
                    return Err(AuthError::new(
                        StatusCode::FORBIDDEN,
                        "shop_closed",
                        "The shop is closed to Jane",
                        "Jane may not sign in today.",
                    ));
                }
                Ok(login)
            })
        },
        None,
        "",
    )
    .await;
    let callback = shop.log_in_from("/orders", "jane").await;
    assert_eq!(callback.status(), StatusCode::FORBIDDEN);
    assert!(callback.text().await.unwrap().contains("shop_closed"));
    assert_eq!(shop.get("/").await.text().await.unwrap(), "guest");
}

#[tokio::test]
async fn a_hook_cannot_send_the_browser_to_another_site() {
    let shop = serve(
        |c| {
            c.on_callback(|mut login| async move {
                login.set_return_to("//evil.example/");
                Ok(login)
            })
        },
        None,
        "",
    )
    .await;
    let callback = shop.log_in_from("/orders", "jane").await;
    assert_eq!(callback.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(callback.headers().get(LOCATION).is_none());
    assert_eq!(shop.get("/").await.text().await.unwrap(), "guest");
}

/// `RequireMfa`: a page behind multi-factor sends the browser to log in with the MFA policy as
/// `acr_values`, and opens once the login shows `mfa`; a tenant that ignores `acr_values` (no MFA
/// configured) cannot downgrade it: `/callback` refuses the login with a page of its own.
#[tokio::test]
async fn a_page_behind_mfa_asks_for_it_and_a_login_without_it_is_refused() {
    let shop = serve(|c| c, None, "").await;
    let to_login = shop.get("/vault").await;
    let login = location(&to_login);
    assert!(
        login.starts_with("/login?acr_values=http%3A%2F%2Fschemas.openid.net%2Fpape%2Fpolicies%2F2007%2F06%2Fmulti-factor"),
        "{login}"
    );
    let callback = shop.log_in_from("/vault", "jane").await;
    assert_eq!(location(&callback), "/vault");
    let page = shop.get("/vault").await.text().await.unwrap();
    assert!(page.contains("mfa"), "{page}");

    // A tenant without MFA: acr_values ignored, no mfa in amr.
    let downgraded = serve(|c| c, None, "").await;
    downgraded.provider.behave(|b| b.ignore_acr_values = true);
    let callback = downgraded.log_in_from("/vault", "jane").await;
    assert_eq!(callback.status(), StatusCode::FORBIDDEN);
    let html = callback.text().await.unwrap();
    assert!(html.contains("mfa_not_performed"), "{html}");
    assert!(html.contains("Multi-factor"), "{html}");
    assert_eq!(downgraded.get("/").await.text().await.unwrap(), "guest");
}

async fn shop_with_apis(policies: Vec<(String, Vec<String>)>, lifetime: i64) -> Running {
    let shop = serve_with(
        |c| c,
        None,
        "",
        &[
            ("AUTH0_AUDIENCE", DEFAULT_API),
            ("AUTH0_SCOPE", "openid profile email offline_access"),
        ],
    )
    .await;
    shop.provider.behave(move |b| {
        b.mrrt_policies = policies;
        b.access_token_lifetime_secs = lifetime;
    });
    shop
}

async fn claims_at(shop: &Running, path: &str) -> serde_json::Value {
    let response = shop.get(path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

/// Multi-Resource Refresh Tokens: a token for another API comes from the refresh token, is kept
/// beside the default audience's, and each is refreshed on its own when it expires.
#[tokio::test]
async fn tokens_for_several_apis_are_asked_kept_and_refreshed_per_api() {
    let policy = vec![(ORDERS_API.to_string(), vec!["read:orders".to_string()])];
    let shop = shop_with_apis(policy.clone(), 3600).await;
    shop.log_in_from("/orders", "jane").await;
    let orders = claims_at(&shop, "/apis/0").await;
    assert_eq!(orders["aud"][0], ORDERS_API, "{orders}");
    assert_eq!(orders["scope"], "read:orders");
    assert_eq!(shop.provider.refresh_count(), 1);
    // Kept: asked again, no new refresh; the default audience's token is the login's.
    assert_eq!(claims_at(&shop, "/apis/0").await, orders);
    assert_eq!(claims_at(&shop, "/api-token").await["aud"][0], DEFAULT_API);
    assert_eq!(shop.provider.refresh_count(), 1);

    // Tokens that live 30 s are refreshed at each use, each for its own API, the rotated
    // refresh token carried from one to the next (no reuse at the provider).
    let shop = shop_with_apis(policy, 30).await;
    shop.log_in_from("/orders", "jane").await;
    assert_eq!(claims_at(&shop, "/apis/0").await["aud"][0], ORDERS_API);
    assert_eq!(claims_at(&shop, "/api-token").await["aud"][0], DEFAULT_API);
    assert_eq!(claims_at(&shop, "/apis/0").await["aud"][0], ORDERS_API);
    assert_eq!(shop.provider.refresh_count(), 3);
    assert_eq!(shop.provider.reuse_detection_count(), 0);
}

/// Auth0 answers a refresh for an API its refresh-token policies do not list with a token for
/// the default audience: that token is never handed out as the other API's.
#[tokio::test]
async fn an_api_missing_from_the_refresh_token_policies_is_a_page_naming_the_policy() {
    let shop = shop_with_apis(Vec::new(), 3600).await;
    shop.log_in_from("/orders", "jane").await;
    let response = shop.get("/apis/0").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("audience_not_in_refresh_token_policies"),
        "{html}"
    );
    assert!(html.contains("refresh_token.policies"), "{html}");
    // The session is intact: the default audience's token still comes.
    assert_eq!(claims_at(&shop, "/api-token").await["aud"][0], DEFAULT_API);
}

/// In cookie sessions the tokens share the cookie's budget: past it, the oldest API's token is
/// dropped (and asked again when needed); the session and the newest tokens stay.
#[tokio::test]
async fn tokens_past_the_cookie_budget_drop_the_oldest_api_first() {
    let policies = (1..=12)
        .map(|n| {
            (
                format!("https://api-{n}.example.com"),
                vec!["read:orders".to_string()],
            )
        })
        .collect();
    let shop = shop_with_apis(policies, 3600).await;
    shop.log_in_from("/orders", "jane").await;
    for n in 1..=12 {
        let claims = claims_at(&shop, &format!("/apis/{n}")).await;
        assert_eq!(claims["aud"][0], format!("https://api-{n}.example.com"));
    }
    assert_eq!(shop.provider.refresh_count(), 12);
    assert_eq!(shop.get("/").await.text().await.unwrap(), "signed in");
    // The newest is kept (no refresh); the first was dropped to make room (a refresh).
    claims_at(&shop, "/apis/12").await;
    assert_eq!(shop.provider.refresh_count(), 12);
    claims_at(&shop, "/apis/1").await;
    assert_eq!(
        shop.provider.refresh_count(),
        13,
        "the oldest token was not dropped"
    );
}
