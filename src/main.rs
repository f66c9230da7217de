//! `cargo run` serves the app; `cargo run -- --demo` serves it against the built-in provider;
//! `cargo run -- check-token <JWT>` diagnoses a token. All the work is in the library.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    auth0_login::cli::run(std::env::args().skip(1).collect()).await
}
