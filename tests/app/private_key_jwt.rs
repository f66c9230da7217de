//! Private Key JWT (RFC 7523; Auth0's "Private Key JWT" authentication method): with
//! `AUTH0_CLIENT_ASSERTION_SIGNING_KEY` the app authenticates to the token endpoint with an
//! assertion signed by its key, in each supported algorithm, and needs no client secret. The demo
//! provider checks assertions as Auth0 does (signature by the registered credential, `iss` =
//! `sub` = client id, `aud` = issuer, a short `exp`, a `jti` used once).

use reqwest::StatusCode;

use crate::support::*;

fn fixture(name: &str) -> String {
    format!(
        "{}/crates/auth0-axum/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

async fn app_with_key(file: &str, alg: &'static str) -> TestApp {
    spawn_app_with(Options {
        assertion_key: Some((fixture(file), alg)),
        scope: "openid profile email offline_access".into(),
        ..Options::default()
    })
    .await
}

#[tokio::test]
async fn a_login_authenticates_with_a_signed_assertion_in_each_algorithm_and_no_secret() {
    for (file, alg) in [
        ("client-assertion-rsa.pem", "RS256"),
        ("client-assertion-rsa.pem", "PS256"),
        ("client-assertion-ec.pem", "ES256"),
    ] {
        let app = app_with_key(file, alg).await;
        let response = app.login().await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "{alg}: {}",
            response.text().await.unwrap()
        );
        assert_eq!(
            app.provider().last_client_auth(),
            Some("private_key_jwt"),
            "{alg}"
        );
        assert!(app.page("/").await.contains("Jane Doe"), "{alg}");
    }
}

/// `--demo` with a signing key: the key survives `with_tenant`, and the demo provider takes it.
#[tokio::test]
async fn the_demo_configuration_keeps_the_signing_key() {
    let app = spawn_app_with(Options {
        demo: true,
        assertion_key: Some((fixture("client-assertion-ec.pem"), "ES256")),
        ..Options::default()
    })
    .await;
    assert_eq!(app.login().await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.provider().last_client_auth(), Some("private_key_jwt"));
}

#[tokio::test]
async fn an_assertion_the_tenant_cannot_verify_is_refused_by_name() {
    let app = app_with_key("client-assertion-rsa.pem", "RS256").await;
    // The tenant holds another credential than the app's key.
    let other = auth0_axum::Auth0Config::from_lookup(|k| match k {
        "AUTH0_DOMAIN" => Some("dev-abc123.us.auth0.com".into()),
        "AUTH0_CLIENT_ID" => Some("c".into()),
        "AUTH0_CLIENT_ASSERTION_SIGNING_KEY" => Some(fixture("client-assertion-ec.pem")),
        "AUTH0_CLIENT_ASSERTION_SIGNING_ALG" => Some("ES256".into()),
        "APP_SECRET_KEY" => Some(SECRET_KEY.into()),
        _ => None,
    })
    .unwrap();
    app.provider()
        .accept_client_assertions(other.client_assertion_jwk().unwrap());
    let response = app.login().await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert_eq!(error_code(&html), "token_exchange_refused", "{html}");
    assert!(html.contains("invalid_client"), "{html}");
    assert!(
        html.contains("AUTH0_CLIENT_ASSERTION_SIGNING_KEY"),
        "{html}"
    );
}

#[tokio::test]
async fn a_refresh_authenticates_with_a_fresh_assertion_too() {
    let app = spawn_app_with(Options {
        assertion_key: Some((fixture("client-assertion-ec.pem"), "ES256")),
        audience: Some("https://api.example.com".into()),
        scope: "openid profile email offline_access".into(),
        provider_behaviour: Some(|b| b.access_token_lifetime_secs = 30),
        ..Options::default()
    })
    .await;
    assert_eq!(app.login().await.status(), StatusCode::SEE_OTHER);
    // Two refreshes: each assertion has its own jti (the provider refuses a reused one).
    for _ in 0..2 {
        let html = app.page("/call-api").await;
        assert!(html.contains(r#"id="apiStatus">200"#), "{html}");
    }
    assert_eq!(app.provider().refresh_count(), 2);
    assert_eq!(app.provider().last_client_auth(), Some("private_key_jwt"));
}

/// Revocation at logout authenticates with an assertion too (the tenant takes nothing else).
#[tokio::test]
async fn logout_revokes_the_refresh_token_with_an_assertion() {
    let app = app_with_key("client-assertion-ec.pem", "ES256").await;
    assert_eq!(app.login().await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get("/logout").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.provider().revocation_count(), 1);
}
