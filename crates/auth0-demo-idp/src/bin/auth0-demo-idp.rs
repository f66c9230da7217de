//! The demo provider on its own, for trying an app built on the library outside this workspace:
//!
//! ```text
//! auth0-demo-idp http://127.0.0.1:3000 [PORT]
//! ```
//!
//! registers that app (its `/callback`, its home page for logout, its `/backchannel-logout`),
//! prints the three settings the app needs as `.env` lines, and serves until stopped.

use std::net::SocketAddr;

use auth0_demo_idp::{ClientRegistration, DemoProvider};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(app) = args.next() else {
        anyhow::bail!("usage: auth0-demo-idp APP_BASE_URL [PORT]");
    };
    let app = app.trim_end_matches('/').to_string();
    let port: u16 = match args.next() {
        Some(port) => port.parse()?,
        None => 0,
    };
    let secret = format!("demo-secret-{}", std::process::id());
    let registration = ClientRegistration {
        client_id: "demo-client".into(),
        client_secret: secret.clone(),
        redirect_uris: vec![format!("{app}/callback")],
        post_logout_redirect_uris: vec![app.clone()],
        backchannel_logout_uri: Some(format!("{app}/backchannel-logout")),
        client_assertion_jwk: None,
    };
    let provider =
        DemoProvider::start(SocketAddr::from(([127, 0, 0, 1], port)), registration).await?;
    println!("AUTH0_DOMAIN={}", provider.issuer());
    println!("AUTH0_CLIENT_ID=demo-client");
    println!("AUTH0_CLIENT_SECRET={secret}");
    tokio::signal::ctrl_c().await?;
    Ok(())
}
