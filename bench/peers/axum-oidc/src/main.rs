//! The Flask quickstart's pages (`/`, `/login`, `/logout`) with axum-oidc: `OidcLoginLayer` on
//! the login route (it sends the browser to the provider and handles the answer on the same
//! URL), `OidcAuthLayer` around everything (claims when a session exists), tower-sessions'
//! memory store for the session. Configured like the other peers: AUTH0_DOMAIN (a URL for a
//! local provider), AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET, APP_BASE_URL, PORT.

use axum::error_handling::HandleErrorLayer;
use axum::http::Uri;
use axum::response::{Html, IntoResponse, Redirect};
use axum::routing::get;
use axum::Router;
use axum_oidc::error::MiddlewareError;
use axum_oidc::{EmptyAdditionalClaims, OidcAuthLayer, OidcClaims, OidcLoginLayer, OidcRpInitiatedLogout};
use tower::ServiceBuilder;
use tower_sessions::cookie::{time::Duration, SameSite};
use tower_sessions::{Expiry, MemoryStore, SessionManagerLayer};

type Claims = OidcClaims<EmptyAdditionalClaims>;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"))
}

#[tokio::main]
async fn main() {
    let domain = env("AUTH0_DOMAIN");
    let issuer = if domain.contains("://") { format!("{}/", domain.trim_end_matches('/')) } else { format!("https://{domain}/") };
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let app_url: Uri = std::env::var("APP_BASE_URL").unwrap_or_else(|_| format!("http://localhost:{port}")).parse().expect("APP_BASE_URL");

    let session_layer = SessionManagerLayer::new(MemoryStore::default())
        .with_secure(false)
        .with_same_site(SameSite::Lax)
        .with_expiry(Expiry::OnInactivity(Duration::hours(24)));
    let login_service = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(|e: MiddlewareError| async { e.into_response() }))
        .layer(OidcLoginLayer::<EmptyAdditionalClaims>::new());
    let auth_service = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(|e: MiddlewareError| async { e.into_response() }))
        .layer(
            OidcAuthLayer::<EmptyAdditionalClaims>::discover_client(
                app_url,
                issuer,
                env("AUTH0_CLIENT_ID"),
                Some(env("AUTH0_CLIENT_SECRET")),
                vec!["profile".into(), "email".into()],
            )
            .await
            .expect("discovery"),
        );

    let app = Router::new()
        .route("/login", get(|| async { Redirect::to("/") }))
        .route("/logout", get(logout))
        .layer(login_service)
        .route("/", get(home))
        .layer(auth_service)
        .layer(session_layer);
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}

/// The quickstart's home page: the user's name and profile claims, or a login link.
async fn home(claims: Option<Claims>) -> Html<String> {
    let Some(claims) = claims else {
        return Html("<!doctype html><title>Auth0 Example</title><h1>Welcome Guest</h1><p><a href=\"/login\">Login</a></p>".into());
    };
    let name = claims.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_string()).unwrap_or_default();
    let profile = serde_json::to_string_pretty(&claims.0).unwrap_or_default();
    Html(format!(
        "<!doctype html><title>Auth0 Example</title><h1>Welcome {}!</h1><p><a href=\"/logout\">Logout</a></p><pre>{}</pre>",
        escape(&name),
        escape(&profile)
    ))
}

async fn logout(logout: OidcRpInitiatedLogout) -> impl IntoResponse {
    match logout.uri() {
        Ok(uri) => Redirect::to(&uri.to_string()).into_response(),
        Err(_) => Redirect::to("/").into_response(),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
