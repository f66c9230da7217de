//! The honest limit for bench/: bare axum serving a captured copy of our logged-in home page,
//! byte for byte (the same body and the same headers, `date` and `content-length` made by hyper
//! as for ours), on the same runtime, allocator and release profile: no session, no template.
//! `BENCH_PAGE_DIR` holds `body.html` and `headers.txt` (`name: value` lines), which bench/run
//! captures from the app after its first login.
//! `PORT=3411 BENCH_PAGE_DIR=target/bench/same-bytes cargo run --release --example bench_same_bytes`

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::routing::get;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3411);
    let dir = std::env::var("BENCH_PAGE_DIR").unwrap_or_else(|_| "target/bench/same-bytes".into());
    let body = Bytes::from(std::fs::read(format!("{dir}/body.html"))?);
    let mut headers = HeaderMap::new();
    for line in std::fs::read_to_string(format!("{dir}/headers.txt"))?.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim().to_ascii_lowercase();
        if matches!(
            name.as_str(),
            "date" | "content-length" | "connection" | "transfer-encoding"
        ) {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value.trim()),
        ) {
            headers.append(name, value);
        }
    }
    let app = Router::new().route(
        "/",
        get(move || {
            let (headers, body) = (headers.clone(), body.clone());
            async move { (headers, body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://127.0.0.1:{port}/");
    axum::serve(listener, app).await
}
