//! Discovery and JWKS fetches while the provider fails or hangs: one request for a burst of
//! callers, the failure remembered for a while, nobody queueing for a timeout of their own.

use std::time::{Duration, Instant};

use auth0_axum::test_support::JWKS_FAILURE_MEMORY;
use reqwest::StatusCode;

use crate::support::*;

const API: &str = "https://api.example.com";

async fn api_token(app: &TestApp) -> String {
    let now = auth0_axum::test_support::unix_now();
    let claims = serde_json::json!({"iss": app.provider().issuer(), "sub": "s", "aud": API, "iat": now, "exp": now + 600});
    app.provider().sign(claims.as_object().unwrap())
}

/// `n` concurrent bearer calls to `/api/me`; their statuses and how long the burst took.
async fn burst(app: &TestApp, token: &str, n: usize) -> (Vec<StatusCode>, Duration) {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..n {
        let (url, token) = (format!("{}/api/me", app.base), token.to_string());
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    (statuses, started.elapsed())
}

#[tokio::test]
async fn a_failing_jwks_is_fetched_once_for_a_burst_and_then_remembered() {
    let app = spawn_app_with(Options {
        audience: Some(API.into()),
        ..Options::default()
    })
    .await;
    app.provider().behave(|b| {
        b.jwks_status = Some(500);
        b.jwks_delay_ms = 400;
    });
    let token = api_token(&app).await;
    let (statuses, took) = burst(&app, &token, 30).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert_eq!(app.provider().jwks_fetch_count(), 1, "30 tokens, one fetch");
    assert!(
        took < Duration::from_secs(3),
        "the burst queued one fetch each: {took:?}"
    );
    // Within the memory, more tokens make no fetch at all.
    let (statuses, _) = burst(&app, &token, 30).await;
    assert!(statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED));
    assert_eq!(app.provider().jwks_fetch_count(), 1);
    // After it, the next token tries again and the repaired JWKS works.
    app.provider().behave(|b| {
        b.jwks_status = None;
        b.jwks_delay_ms = 0;
    });
    tokio::time::sleep(JWKS_FAILURE_MEMORY + Duration::from_millis(200)).await;
    let (statuses, _) = burst(&app, &token, 5).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(app.provider().jwks_fetch_count(), 2);
}

#[tokio::test]
async fn a_slow_jwks_is_waited_for_once_by_everyone() {
    let app = spawn_app_with(Options {
        audience: Some(API.into()),
        ..Options::default()
    })
    .await;
    app.provider().behave(|b| b.jwks_delay_ms = 1500);
    let token = api_token(&app).await;
    let (statuses, took) = burst(&app, &token, 20).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(app.provider().jwks_fetch_count(), 1);
    assert!(
        took < Duration::from_secs(4),
        "callers waited one after another: {took:?}"
    );
}

#[tokio::test]
async fn a_failing_discovery_is_tried_once_for_a_burst_of_logins() {
    let app = spawn_app_with(Options {
        provider_behaviour: Some(|b| b.discovery_status = Some(503)),
        ..Options::default()
    })
    .await;
    // Let the background discovery make its first attempt.
    while app.provider().discovery_fetch_count() == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before = app.provider().discovery_fetch_count();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let url = format!("{}/login", app.base);
        tasks.push(tokio::spawn(async move {
            reqwest::get(url).await.unwrap().status()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::SERVICE_UNAVAILABLE);
    }
    let made = app.provider().discovery_fetch_count() - before;
    assert!(made <= 1, "20 logins made {made} discovery requests");
}
