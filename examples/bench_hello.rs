//! The limit for bench/: a bare axum page on the same tokio runtime, no layers, no session.
//! `PORT=3401 cargo run --release --example bench_hello`

use axum::Router;
use axum::response::Html;
use axum::routing::get;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3001);
    let app = Router::new().route("/", get(|| async { Html("<h1>Hello, World!</h1>") }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://127.0.0.1:{port}/");
    axum::serve(listener, app).await
}
