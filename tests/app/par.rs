//! Pushed Authorization Requests (RFC 9126): with `AUTH0_PUSHED_AUTHORIZATION_REQUESTS=true` the
//! login's parameters go to the tenant's PAR endpoint (authenticated as the token endpoint is),
//! and the browser carries only `client_id` and the `request_uri`. A tenant that requires PAR
//! while the setting is off, or lacks it while it is on, gets a page naming the setting.

use reqwest::StatusCode;

use crate::support::*;

fn par_on() -> Vec<(&'static str, String)> {
    vec![("AUTH0_PUSHED_AUTHORIZATION_REQUESTS", "true".into())]
}

#[tokio::test]
async fn the_browser_carries_only_client_id_and_request_uri_and_the_login_completes() {
    let app = spawn_app_with(Options {
        extra_env: par_on(),
        ..Options::default()
    })
    .await;
    let authorize = app
        .start_login(&app.client, "/login?returnTo=%2Fprofile")
        .await;
    let query: Vec<String> = url::Url::parse(&authorize)
        .unwrap()
        .query_pairs()
        .map(|(k, _)| k.into_owned())
        .collect();
    assert_eq!(query, ["client_id", "request_uri"], "{authorize}");
    assert!(!authorize.contains("state=") && !authorize.contains("code_challenge"));
    assert_eq!(app.provider().par_count(), 1);
    let callback = app
        .decide(&app.client, &authorize, &[("user", "jane")])
        .await;
    let response = app.client.get(callback).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/profile");
    assert!(app.page("/").await.contains("Jane Doe"));
    // A request_uri is used once.
    let again = app.client.get(&authorize).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_tenant_that_requires_par_names_the_setting_when_it_is_off_and_works_when_on() {
    let off = spawn_app_with(Options {
        provider_behaviour: Some(|b| b.require_par = true),
        ..Options::default()
    })
    .await;
    let response = off.get("/login").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let html = response.text().await.unwrap();
    assert_eq!(error_code(&html), "par_required", "{html}");
    assert!(
        html.contains("AUTH0_PUSHED_AUTHORIZATION_REQUESTS=true"),
        "{html}"
    );

    let on = spawn_app_with(Options {
        provider_behaviour: Some(|b| b.require_par = true),
        extra_env: par_on(),
        ..Options::default()
    })
    .await;
    assert_eq!(on.login().await.status(), StatusCode::SEE_OTHER);
    assert!(on.page("/").await.contains("Jane Doe"));
}

#[tokio::test]
async fn par_authenticates_with_private_key_jwt_and_a_refusal_is_named() {
    let key = format!(
        "{}/crates/auth0-axum/tests/fixtures/client-assertion-ec.pem",
        env!("CARGO_MANIFEST_DIR")
    );
    let app = spawn_app_with(Options {
        extra_env: par_on(),
        assertion_key: Some((key, "ES256")),
        ..Options::default()
    })
    .await;
    assert_eq!(app.login().await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.provider().par_count(), 1);

    // A tenant that no longer takes this app's credentials: the PAR endpoint refuses, by name.
    let refused = spawn_app_with(Options {
        extra_env: par_on(),
        ..Options::default()
    })
    .await;
    refused.provider().accept_client_assertions(
        serde_json::json!({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}),
    );
    let response = refused.get("/login").await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let html = response.text().await.unwrap();
    assert_eq!(error_code(&html), "par_refused", "{html}");
    assert!(html.contains("invalid_client"), "{html}");
}

#[tokio::test]
async fn a_tenant_without_par_names_the_setting_when_it_is_on() {
    let app = spawn_app_with(Options {
        extra_env: par_on(),
        provider_behaviour: Some(|b| b.omit_par_endpoint = true),
        ..Options::default()
    })
    .await;
    let response = app.get("/login").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let html = response.text().await.unwrap();
    assert_eq!(error_code(&html), "par_unsupported", "{html}");
    assert!(
        html.contains("AUTH0_PUSHED_AUTHORIZATION_REQUESTS"),
        "{html}"
    );
}
