//! An existing axum app adds "Log in with Auth0": the README's example, whole. Configure it with
//! `.env` (AUTH0_DOMAIN, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET, APP_SECRET_KEY) and run
//! `cargo run -p auth0-axum --example existing_app`; open http://127.0.0.1:3000/orders.

use auth0_axum::{Auth0, Auth0Config, User};
use axum::{Router, extract::FromRef, routing::get};

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
    "your orders" // a guest is sent to /login?returnTo=/orders
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let auth = Auth0::new(Auth0Config::from_env()?).await?;
    let app = Router::new()
        .route("/", get(home))
        .route("/orders", get(orders))
        .merge(auth.router())
        .layer(auth.session_layer())
        .with_state(Shop { auth });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    axum::serve(listener, app).await?;
    Ok(())
}
