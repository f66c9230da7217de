//! The "existing app" of bench/: a small axum app built only from the library's public API, as
//! the crate's README shows it (state with `Auth0`, the auth routes merged, the session layer),
//! with a page that reads the logged-in user. What every app using the crate pays per view.
//! `PORT=3412 cargo run --release --example bench_existing` (configured by the environment).

use auth0_axum::{Auth0, Auth0Config, User};
use axum::{Router, extract::FromRef, routing::get};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    match user {
        Some(user) => format!("Welcome {}", user.name()),
        None => "Welcome Guest".into(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let auth = Auth0::new(Auth0Config::from_env()?).await?;
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3412);
    let app = Router::new()
        .route("/", get(home))
        .merge(auth.router())
        .layer(auth.session_layer())
        .with_state(Shop { auth });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
