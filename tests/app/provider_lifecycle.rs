//! The provider's lifecycle: down at startup then back, key rotation, JWKS refetch limits.

use std::time::Duration;

use auth0_demo_idp::DemoProvider;
use auth0_demo_idp::keys::DEMO_KID_2;
use reqwest::StatusCode;

use crate::support::*;

#[tokio::test]
async fn provider_down_at_startup_answers_503_then_logins_work_once_it_is_back() {
    let app = spawn_app_with(Options {
        provider_down: true,
        ..Options::default()
    })
    .await;
    // The server is up; the home page works without the provider.
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
    let response = app.get("/login").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let html = response.text().await.unwrap();
    assert_eq!(error_code(&html), "provider_unavailable");
    assert!(
        html.contains("discovery document") && html.contains("could not connect"),
        "the page names the step and the kind of failure: {html}"
    );
    // Not the internals: the address it tried and the OS error go to the log only.
    let port = app.provider_addr.port().to_string();
    assert!(
        !html.contains(&port) && !html.to_lowercase().contains("refused"),
        "a public page shows the provider's address or the OS error: {html}"
    );

    let provider = DemoProvider::start(app.provider_addr, registration(&app.base))
        .await
        .unwrap();
    let mut status = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..40 {
        status = app.get("/login").await.status();
        if status == StatusCode::SEE_OTHER {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "login did not recover without a restart"
    );
    let callback = app.login().await;
    assert_eq!(callback.status(), StatusCode::SEE_OTHER);
    drop(provider);
}

#[tokio::test]
async fn a_rotated_signing_key_is_picked_up_with_one_jwks_fetch() {
    let app = spawn_app().await;
    assert_eq!(app.login().await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.provider().jwks_fetch_count(), 1);
    app.provider().rotate_to(DEMO_KID_2);
    let other_browser = cookie_client();
    let callback = app.login_with(&other_browser, "/login", "ana").await;
    assert_eq!(
        callback.status(),
        StatusCode::SEE_OTHER,
        "{}",
        callback.text().await.unwrap()
    );
    assert_eq!(
        app.provider().jwks_fetch_count(),
        2,
        "exactly one refetch for the new kid"
    );
    // The next login with the same new key needs no fetch.
    assert_eq!(
        app.login_with(&cookie_client(), "/login", "raj")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.provider().jwks_fetch_count(), 2);
}

/// The demo provider runs for as long as `--demo` does: a loop of `/authorize` requests must not
/// grow it. Oversized parameters are refused; what is kept is bounded and expires.
#[tokio::test]
async fn the_demo_provider_refuses_huge_parameters_and_keeps_a_bounded_number_of_records() {
    use auth0_demo_idp::{MAX_PARAMETER_BYTES, MAX_RECORDS};
    let app = spawn_app().await;
    let authorize = app.start_login(&app.client, "/login").await;
    let client = cookie_client();
    let with_state = |state: &str| with_param(&authorize, "state", Some(state));
    let huge = "s".repeat(60 * 1024);
    for _ in 0..20 {
        let response = client.get(with_state(&huge)).send().await.unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::BAD_REQUEST);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains(&format!("longer than {MAX_PARAMETER_BYTES} bytes"))
        );
    }
    assert_eq!(
        app.provider().record_counts().0,
        0,
        "nothing of a refused request is kept"
    );
    let state = "s".repeat(1024);
    for _ in 0..300 {
        let response = client.get(with_state(&state)).send().await.unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::OK);
    }
    let (interactions, codes, tokens) = app.provider().record_counts();
    assert!(
        interactions <= MAX_RECORDS,
        "{interactions} sign-in pages kept"
    );
    assert!(codes <= MAX_RECORDS && tokens <= MAX_RECORDS);
}
