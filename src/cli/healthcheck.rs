//! `healthcheck`: asks the running app whether it answers, so a container's `HEALTHCHECK` needs no
//! curl in the image. Exit 0 on a 200, 1 otherwise, with the reason on stderr.

use std::process::ExitCode;
use std::time::Duration;

/// `url`, or this app's own `/healthz` on loopback at `PORT` (default 3000).
pub(super) async fn run(url: Option<&str>) -> ExitCode {
    let url = match url {
        Some(url) => url.to_string(),
        None => {
            let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
            format!("http://127.0.0.1:{}/healthz", port.trim())
        }
    };
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(client) => client,
        Err(err) => {
            eprintln!("healthcheck: {err}");
            return ExitCode::FAILURE;
        }
    };
    match client.get(&url).send().await {
        Ok(response) if response.status() == reqwest::StatusCode::OK => ExitCode::SUCCESS,
        Ok(response) => {
            eprintln!("healthcheck: {url} answered {}", response.status());
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("healthcheck: {url}: {err}");
            ExitCode::FAILURE
        }
    }
}
