//! Requests a browser does not send but an attacker can: a forged request id, absolute-form
//! targets, odd static paths. And the `__Host-` cookie on https.

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

async fn request_id_for(app: &TestApp, sent: &str) -> String {
    let response = app
        .client
        .get(format!("{}/", app.base))
        .header("x-request-id", sent)
        .send()
        .await
        .unwrap();
    response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn only_a_short_safe_request_id_from_the_client_is_kept() {
    let app = spawn_app().await;
    assert_eq!(
        request_id_for(&app, "trace-123_abc.9").await,
        "trace-123_abc.9"
    );
    for forged in [
        "x".repeat(65),
        "id with spaces".to_string(),
        "a\"b".to_string(),
        "a=b; level=ERROR".to_string(),
        "é".to_string(),
    ] {
        let kept = request_id_for(&app, &forged).await;
        assert_ne!(kept, forged, "{forged:?} was trusted");
        assert!(
            kept.len() <= 64
                && kept
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{kept}"
        );
    }
}

/// A raw HTTP/1.1 exchange, for request targets reqwest will not send.
async fn raw(app: &TestApp, request: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut out),
    )
    .await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn no_request_target_puts_a_foreign_host_into_a_redirect() {
    let app = spawn_app().await;
    for target in [
        "/static/.",
        "/static",
        "/static/",
        "/static/..%2fCargo.toml",
        "http://evil.example/static/.",
        "http://evil.example/static",
        "http://evil.example/profile",
        "//evil.example/static/.",
    ] {
        let answer = raw(
            &app,
            &format!("GET {target} HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"),
        )
        .await;
        let location = answer
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("location:"))
            .unwrap_or("");
        assert!(!location.contains("evil.example"), "{target}: {location}");
        assert!(!answer.starts_with("HTTP/1.1 5"), "{target}: {answer}");
    }
}

#[tokio::test]
async fn static_files_are_built_in_with_an_etag_and_cache_control() {
    let app = spawn_app().await;
    let css = app.get("/static/style.css").await;
    assert_eq!(css.status(), StatusCode::OK);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(
        css.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let etag = css.headers()["etag"].to_str().unwrap().to_string();
    assert!(css.text().await.unwrap().contains(".card"));
    let again = app
        .client
        .get(format!("{}/static/style.css", app.base))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(
        app.get("/static/favicon.svg").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get("/static/nothing.css").await.status(),
        StatusCode::NOT_FOUND
    );
    assert!(
        app.page("/")
            .await
            .contains(r#"rel="icon" href="/static/favicon.svg""#)
    );
}

#[tokio::test]
async fn on_https_the_session_cookie_is_a_host_cookie() {
    let app = spawn_app_with(Options {
        base_scheme: "https".into(),
        ..Options::default()
    })
    .await;
    let response = app.get("/login").await;
    let cookie = set_cookies(&response)
        .into_iter()
        .next()
        .expect("a login cookie");
    assert!(cookie.starts_with("__Host-auth0_session="), "{cookie}");
    assert!(
        cookie.contains("Secure") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
    // On http the name stays plain (browsers refuse __Host- without Secure).
    let app = spawn_app().await;
    let cookie = set_cookies(&app.get("/login").await)
        .into_iter()
        .next()
        .unwrap();
    assert!(cookie.starts_with("auth0_session="), "{cookie}");
}
