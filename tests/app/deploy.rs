//! What running it in production needs: health and readiness, the container's runtime contract
//! (the binary alone, any directory, a non-root user), JSON logs that leak nothing, and a graceful
//! shutdown that lets a request in flight finish.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::*;

#[tokio::test]
async fn healthz_answers_and_readyz_says_whether_logins_can_work() {
    let app = spawn_app().await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);
    assert!(set_cookies(&health).is_empty(), "no session for probes");
    assert_eq!(health.json::<Value>().await.unwrap()["status"], "ok");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(ready.json::<Value>().await.unwrap()["status"], "ready");

    let down = spawn_app_with(Options {
        provider_down: true,
        ..Options::default()
    })
    .await;
    assert_eq!(
        down.get("/healthz").await.status(),
        StatusCode::OK,
        "alive while the provider is down"
    );
    let ready = down.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "not ready");
    assert_eq!(body["reason"], "the login provider could not be discovered");
    // Unauthenticated: the provider's address stays in the log, not the answer.
    assert!(!body.to_string().contains("127.0.0.1"), "{body}");
}

/// The Dockerfile's runtime stage: the release binary copied alone into an empty directory, run as
/// a non-root user with HOST=0.0.0.0. (No base image can be pulled here; this is its contract.)
#[tokio::test]
async fn the_binary_alone_in_an_empty_directory_as_a_non_root_user_serves_every_page() {
    let dir = tempdir("container");
    let binary = dir.join("auth0-login");
    std::fs::copy(env!("CARGO_BIN_EXE_auth0-login"), &binary).unwrap();
    set_mode(&dir, 0o755);
    set_mode(&binary, 0o755);
    let port = free_port_now();
    let provider = provider_for_port(port).await;
    let mut env = tenant_env(&provider, port);
    env.push(("HOST", "0.0.0.0".into()));
    // Root here (CI) drops to nobody, as the image's USER does; anyone else already is not root.
    let uid = is_root().then_some(65534);
    let running = Running::start_as(&[], &dir, &env, Some(&binary), uid);
    let app = TestApp::for_process(&running.base, provider);

    let home = app.page("/").await;
    assert!(
        home.contains("Welcome Guest") && home.contains(r#"href="/static/style.css""#),
        "{home}"
    );
    let css = app.get("/static/style.css").await;
    assert_eq!(
        css.status(),
        StatusCode::OK,
        "the stylesheet is in the binary"
    );
    assert!(css.text().await.unwrap().contains(".card"));
    assert_eq!(
        app.get("/static/favicon.svg").await.status(),
        StatusCode::OK
    );
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    assert_eq!(
        app.login().await.status(),
        StatusCode::SEE_OTHER,
        "a whole login"
    );
    assert!(app.page("/profile").await.contains("Jane Doe"));

    // The image's HEALTHCHECK: the binary itself, no curl.
    let check = std::process::Command::new(&binary)
        .arg("healthcheck")
        .current_dir(&dir)
        .env_clear()
        .env("PORT", port.to_string())
        .status()
        .unwrap();
    assert!(check.success());
    let unreachable = std::process::Command::new(&binary)
        .args([
            "healthcheck",
            &format!("http://127.0.0.1:{}/healthz", free_port_now()),
        ])
        .env_clear()
        .output()
        .unwrap();
    assert!(!unreachable.status.success());
    drop(running);
}

/// `LOG_FORMAT=json` at debug over a whole login and logout: one JSON object per line with the
/// request id, and no secret, cookie or token anywhere.
#[tokio::test]
async fn json_logs_of_a_login_and_logout_hold_no_secret_cookie_or_token() {
    let port = free_port_now();
    let provider = provider_for_port(port).await;
    let mut env = tenant_env(&provider, port);
    env.push(("LOG_FORMAT", "json".into()));
    env.push(("RUST_LOG", "debug".into()));
    let mut running = Running::start(&[], &std::env::temp_dir(), &env, None);
    let app = TestApp::for_process(&running.base, provider);
    let callback = app.login().await;
    let cookie = first_cookie_value(&callback);
    assert!(app.page("/").await.contains("Jane Doe"));
    assert_eq!(app.get("/logout").await.status(), StatusCode::SEE_OTHER);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let lines = running.output().to_vec();
    let mut logged_in = false;
    for line in &lines {
        let object: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            object["level"].is_string() && object.get("timestamp").is_some(),
            "{line}"
        );
        for secret in [CLIENT_SECRET, SECRET_KEY, cookie.as_str(), "eyJ"] {
            assert!(!line.contains(secret), "{secret:?} in the log: {line}");
        }
        if object["message"] == "logged in" {
            logged_in = true;
            assert!(object["span"]["id"].is_string(), "the request id: {line}");
        }
    }
    assert!(logged_in, "no login logged:\n{}", lines.join("\n"));
    assert!(
        lines.len() > 5,
        "a debug log has more than that:\n{}",
        lines.join("\n")
    );
}

/// SIGTERM while a request is in flight: the request finishes with its real answer, then the
/// process exits 0, within the shutdown grace period.
#[tokio::test]
async fn sigterm_lets_a_request_in_flight_finish_then_exits_zero() {
    let port = free_port_now();
    let provider = provider_for_port(port).await;
    let mut env = tenant_env(&provider, port);
    env.push(("AUTH0_AUDIENCE", "https://api.example.com".into()));
    let mut running = Running::start(&[], &std::env::temp_dir(), &env, None);
    // A slow JWKS makes the bearer request take about 1.5 s.
    provider.behave(|b| b.jwks_delay_ms = 1500);
    let now = auth0_axum::test_support::unix_now();
    let claims = serde_json::json!({"iss": provider.issuer(), "sub": "s", "aud": "https://api.example.com", "iat": now, "exp": now + 600});
    let token = provider.sign(claims.as_object().unwrap());
    let url = format!("{}/api/me", running.base);
    let in_flight = tokio::spawn(async move {
        reqwest::Client::new()
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .map(|r| r.status())
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let signalled = Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &running.child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = in_flight
        .await
        .unwrap()
        .expect("the request in flight was cut off");
    assert_eq!(status, StatusCode::OK, "it finished with its real answer");
    let exit = loop {
        if let Some(exit) = running.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(12),
            "still running 12 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(exit.code(), Some(0), "{}", running.output().join("\n"));
    // New connections are refused once it has stopped.
    assert!(
        reqwest::get(format!("{}/healthz", running.base))
            .await
            .is_err()
    );
}

fn tempdir(name: &str) -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("auth0-login-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `.env` is read before logging starts: `RUST_LOG` and `LOG_FORMAT` set there take effect.
#[tokio::test]
async fn rust_log_and_log_format_work_from_dotenv() {
    let dir = tempdir("dotenv-logging");
    let port = free_port_now();
    let provider = provider_for_port(port).await;
    let mut dotenv: String = tenant_env(&provider, port)
        .iter()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect();
    dotenv.push_str("RUST_LOG=debug\nLOG_FORMAT=json\n");
    std::fs::write(dir.join(".env"), dotenv).unwrap();
    let mut running = Running::start(&[], &dir, &[("PORT", port.to_string())], None);
    let app = TestApp::for_process(&running.base, provider);
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let lines = running.output().to_vec();
    assert!(
        lines
            .iter()
            .all(|l| serde_json::from_str::<Value>(l).is_ok()),
        "LOG_FORMAT from .env ignored:\n{}",
        lines.join("\n")
    );
    assert!(
        lines.iter().any(|l| l.contains(r#""level":"DEBUG""#)),
        "RUST_LOG from .env ignored:\n{}",
        lines.join("\n")
    );
}
