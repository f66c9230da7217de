//! `cargo run` serves the app; `cargo run -- --demo` serves it against the built-in provider;
//! `cargo run -- check-token <JWT>` diagnoses a token. The app is `app.rs`; the login machinery
//! is the `auth0-axum` library (crates/auth0-axum).

/// mimalloc, not glibc's malloc: measured by bench/run, a logged-in page view costs about 15 %
/// less CPU (glibc's per-arena locks showed up as futex calls under load), for the same memory.
/// Built without transparent huge pages (`no_thp`), which would double the resident size.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    auth0_login::cli::run(std::env::args().skip(1).collect()).await
}
