//! The log as an operator reads it: the real binary, its real output. Nothing taken from a token
//! or a request can forge a log line, drive a terminal, or flood the log.

use std::time::Duration;

use auth0_demo_idp::keys::{DEMO_KID_1, SigningKey};

use crate::support::*;

fn start_demo() -> Running {
    let port = free_port_now();
    Running::start(
        &["--demo"],
        &std::env::temp_dir(),
        &[
            ("PORT", port.to_string()),
            ("AUTH0_AUDIENCE", "https://api.example.com".into()),
            ("RUST_LOG", "debug".into()),
        ],
        None,
    )
}

#[tokio::test]
async fn a_hostile_token_cannot_forge_or_flood_log_lines() {
    let mut app = start_demo();
    let evil = "k\r\nFORGED-LINE level=ERROR all good\u{1b}[2J\u{9b}0m";
    let claims = serde_json::json!({"iss": evil, "sub": "s", "aud": "x", "exp": 4_000_000_000u64, "pad": "p".repeat(9_000)});
    let token = SigningKey::fixture(DEMO_KID_1).sign_with_header(
        serde_json::json!({"alg": "RS256", "kid": evil}),
        claims.as_object().unwrap(),
    );
    let response = reqwest::Client::new()
        .get(format!(
            "{}/api/me",
            app.base.replace("127.0.0.1", "localhost")
        ))
        .bearer_auth(&token)
        .header("x-request-id", "evil id; level=ERROR")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::UNAUTHORIZED);
    // Give the log a moment, then read everything written so far.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let lines: Vec<String> = app.output().to_vec();
    let refusal = lines
        .iter()
        .find(|l| l.contains("bearer token refused"))
        .unwrap_or_else(|| panic!("no refusal logged:\n{}", lines.join("\n")));
    assert!(refusal.contains("ISSUER_NOT_ALLOWED"), "{refusal}");
    for line in &lines {
        assert!(
            !line.starts_with("FORGED-LINE"),
            "a token forged a log line:\n{line}"
        );
        assert!(
            !line.contains('\u{1b}') && !line.contains('\u{9b}') && !line.contains('\r'),
            "raw control characters: {line:?}"
        );
        assert!(!line.contains(&token), "the token itself was logged");
        assert!(line.len() < 8_000, "a {}-byte log line", line.len());
    }
}

/// At debug, one line per request: its id, method, path (never the query), status and latency.
/// At info (the default), none: writing it would cost every page view.
#[tokio::test]
async fn a_request_line_at_debug_carries_the_id_path_and_status_and_none_at_info() {
    let mut app = start_demo();
    let response = reqwest::Client::new()
        .get(format!("{}/nowhere?code=secret-code", app.base))
        .header("x-request-id", "trace-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::NOT_FOUND);
    assert_eq!(response.headers()["x-request-id"], "trace-42");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let lines: Vec<String> = app.output().to_vec();
    let line = lines
        .iter()
        .find(|l| l.contains("latency_us=") && l.contains("trace-42"))
        .unwrap_or_else(|| panic!("no request line:\n{}", lines.join("\n")));
    for part in ["answered", "method=GET", "path=/nowhere", "status=404"] {
        assert!(line.contains(part), "{part} missing: {line}");
    }
    assert!(
        !lines.iter().any(|l| l.contains("secret-code")),
        "the query string was logged:\n{}",
        lines.join("\n")
    );

    let port = free_port_now();
    let mut quiet = Running::start(
        &["--demo"],
        &std::env::temp_dir(),
        &[("PORT", port.to_string()), ("RUST_LOG", "info".into())],
        None,
    );
    let response = reqwest::get(format!("{}/nowhere", quiet.base))
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::NOT_FOUND);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let lines: Vec<String> = quiet.output().to_vec();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("answered with an error page")),
        "the 404 is logged at info:\n{}",
        lines.join("\n")
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("answered") && l.contains("latency_us")),
        "a request line at info:\n{}",
        lines.join("\n")
    );
}
