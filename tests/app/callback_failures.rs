//! Every way a callback can fail, produced for real by a misbehaving provider or a hostile client,
//! each answered with its own status, code and named check.

use auth0_demo_idp::Behaviour;
use auth0_demo_idp::keys::FOREIGN_KID;
use reqwest::StatusCode;

use crate::support::*;

/// Logs in while the provider misbehaves as `change` says; returns the callback's status and page.
async fn login_while(change: impl FnOnce(&mut Behaviour)) -> (StatusCode, String, TestApp) {
    let app = spawn_app().await;
    app.provider().behave(change);
    let response = app.login().await;
    let status = response.status();
    let html = response.text().await.unwrap();
    (status, html, app)
}

async fn assert_token_failure(change: impl FnOnce(&mut Behaviour), category: &str, message: &str) {
    let (status, html, app) = login_while(change).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{html}");
    assert_eq!(error_code(&html), "id_token_invalid");
    assert!(
        html.contains(&format!(r#"<strong class="category">{category}</strong>"#)),
        "{category} not named:\n{html}"
    );
    assert!(html.contains(message), "{message} not shown");
    assert!(html.contains("Fix:"), "no remedy shown");
    // Nobody is logged in, and the page shows no token.
    assert!(!html.contains("eyJ"), "a token leaked into the page");
    assert!(app.page("/").await.contains("Welcome Guest"));
}

#[tokio::test]
async fn wrong_issuer_is_named() {
    assert_token_failure(
        |b| b.issuer_override = Some("https://evil.example/".into()),
        "ISSUER_NOT_ALLOWED",
        "Issuer not allowed",
    )
    .await;
}

#[tokio::test]
async fn wrong_audience_is_named() {
    assert_token_failure(
        |b| b.audience_override = Some("another-app".into()),
        "AUDIENCE_NOT_ALLOWED",
        "Audiences in Jwt are not allowed",
    )
    .await;
}

#[tokio::test]
async fn several_audiences_need_azp() {
    assert_token_failure(
        |b| {
            b.audience_override = Some(serde_json::json!([CLIENT_ID, "https://api"]));
            b.azp_override = Some("https://api".into());
        },
        "AZP_MISMATCH",
        "Jwt [azp] is not this client",
    )
    .await;
}

#[tokio::test]
async fn expired_token_is_named_and_sixty_seconds_of_skew_is_allowed() {
    assert_token_failure(
        |b| b.id_token_lifetime_secs = -120,
        "TIME_CONSTRAINT_FAILURE",
        "Jwt is expired",
    )
    .await;
    let (status, html, _) = login_while(|b| b.id_token_lifetime_secs = -30).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "30 s of skew must pass: {html}"
    );
    let (status, _, _) = login_while(|b| b.iat_offset_secs = 45).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "a provider clock 45 s ahead must pass"
    );
    assert_token_failure(
        |b| b.iat_offset_secs = 600,
        "TIME_CONSTRAINT_FAILURE",
        "Jwt not yet valid",
    )
    .await;
}

#[tokio::test]
async fn a_token_signed_with_another_key_is_refused() {
    assert_token_failure(
        |b| b.sign_with = Some(FOREIGN_KID.into()),
        "KEY_RETRIEVAL_ERROR",
        "Jwks doesn&#39;t have key to match kid or alg from Jwt",
    )
    .await;
}

#[tokio::test]
async fn an_altered_token_fails_its_signature() {
    // A real token from the provider with its payload swapped: the kid is known, the signature is not.
    let app = spawn_app().await;
    let claims = serde_json::json!({"iss": app.provider().issuer(), "sub": "x", "aud": CLIENT_ID, "iat": 1, "exp": 4_000_000_000u64});
    let genuine = app.provider().sign(claims.as_object().unwrap());
    let mut parts: Vec<&str> = genuine.split('.').collect();
    let other = app
        .provider()
        .sign(serde_json::json!({"sub": "admin"}).as_object().unwrap());
    parts[2] = other.split('.').nth(2).unwrap();
    let forged = parts.join(".");
    app.provider().behave(|b| b.raw_id_token = Some(forged));
    let response = app.login().await;
    let html = response.text().await.unwrap();
    assert!(html.contains("SIGNATURE_INVALID"), "{html}");
    assert!(html.contains("Jwt verification fails"));
}

#[tokio::test]
async fn nonce_mismatch_is_named() {
    assert_token_failure(
        |b| b.nonce_override = Some("someone-elses-nonce".into()),
        "NONCE_MISMATCH",
        "Jwt [nonce] does not match the login request",
    )
    .await;
}

#[tokio::test]
async fn at_hash_mismatch_is_named() {
    assert_token_failure(
        |b| b.at_hash_override = Some("AAAAAAAAAAAAAAAAAAAAAA".into()),
        "AT_HASH_MISMATCH",
        "Jwt [at_hash] does not match the access token",
    )
    .await;
}

#[tokio::test]
async fn a_malformed_token_is_bad_format() {
    assert_token_failure(
        |b| b.raw_id_token = Some("not-a-jwt".into()),
        "BAD_FORMAT",
        "Jwt is not in the form of Header.Payload.Signature",
    )
    .await;
}

#[tokio::test]
async fn missing_state_is_refused() {
    let app = spawn_app().await;
    app.start_login(&app.client, "/login").await;
    let response = app.get("/callback?code=abc").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&response.text().await.unwrap()), "missing_state");
}

#[tokio::test]
async fn wrong_state_is_refused_without_calling_the_token_endpoint() {
    let app = spawn_app().await;
    let authorize = app.start_login(&app.client, "/login").await;
    let callback = app
        .decide(&app.client, &authorize, &[("user", "jane")])
        .await;
    let tampered = callback.replace("state=", "state=x");
    let response = app.client.get(tampered).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        error_code(&response.text().await.unwrap()),
        "state_mismatch"
    );
    assert_eq!(app.provider().token_request_count(), 0);
}

/// A reload of `/callback` (or the back button) after the login finished: the state is used, and
/// the user is logged in. Home, not a red 400 that shows "Login" to a logged-in user; and no
/// second token request. (A replay by someone without the session is refused: see below.)
#[tokio::test]
async fn reloading_the_callback_while_logged_in_goes_home_without_a_token_request() {
    let app = spawn_app().await;
    let authorize = app.start_login(&app.client, "/login").await;
    let callback = app
        .decide(&app.client, &authorize, &[("user", "jane")])
        .await;
    assert_eq!(
        app.client.get(&callback).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let replay = app.client.get(&callback).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&replay), "/");
    // A fresh browser (no session) replaying the same answer is refused.
    let stranger = cookie_client();
    let refused = stranger.get(&callback).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        error_code(&refused.text().await.unwrap()),
        "login_cookie_missing"
    );
    assert_eq!(
        app.provider().token_request_count(),
        1,
        "the replay must not reach the token endpoint"
    );
    // The first login stands.
    assert!(app.page("/").await.contains("Welcome Jane Doe!"));
}

#[tokio::test]
async fn a_cancelled_login_gets_a_clear_page() {
    let app = spawn_app().await;
    let authorize = app.start_login(&app.client, "/login").await;
    let callback = app
        .decide(&app.client, &authorize, &[("cancel", "1")])
        .await;
    assert!(callback.contains("error=access_denied"));
    let response = app.client.get(&callback).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let html = response.text().await.unwrap();
    assert_eq!(error_code(&html), "provider_error");
    assert!(html.contains("The login was cancelled or denied"));
    assert!(
        html.contains("The user cancelled the login"),
        "the provider's description is shown"
    );
}

#[tokio::test]
async fn a_lost_login_cookie_on_the_wrong_host_says_exactly_that() {
    // APP_BASE_URL says localhost; the browser is on 127.0.0.1 and has no cookie for it.
    let app = spawn_app_with(Options {
        base_host: "localhost".into(),
        ..Options::default()
    })
    .await;
    let stranger = cookie_client();
    let response = app
        .get_with(&stranger, "/callback?code=abc&state=xyz")
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert_eq!(error_code(&html), "login_cookie_missing");
    let port = app.addr.port();
    assert!(
        html.contains(&format!(
            "You are on 127.0.0.1:{port}, but APP_BASE_URL says http://localhost:{port}"
        )),
        "{html}"
    );
}

#[tokio::test]
async fn a_wrong_client_secret_is_explained() {
    let app = spawn_app().await;
    let mut registration = registration(&app.base);
    registration.client_secret = "rotated-in-the-dashboard".into();
    app.provider().set_client(registration);
    let response = app.login().await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert_eq!(error_code(&html), "token_exchange_refused");
    assert!(html.contains("AUTH0_CLIENT_SECRET"));
    assert!(
        !html.contains(CLIENT_SECRET),
        "the secret must never be shown"
    );
}

/// The callback URL with `code` replaced by `new_code`.
fn with_code(callback: &str, new_code: &str) -> String {
    with_param(callback, "code", Some(new_code))
}

/// A cookie saved before the callback (the browser's copy from `/login`) replays the answer with
/// made-up codes. Whether the first use succeeded or failed, no replay reaches the token endpoint.
#[tokio::test]
async fn a_cookie_saved_before_the_callback_cannot_replay_it_against_the_token_endpoint() {
    for first_use_succeeds in [true, false] {
        let app = spawn_app().await;
        let login = app.get("/login").await;
        let saved_cookie = set_cookies(&login)[0]
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let callback = app
            .decide(&app.client, &location(&login), &[("user", "jane")])
            .await;
        let first = if first_use_succeeds {
            callback.clone()
        } else {
            with_code(&callback, "made-up")
        };
        let response = app.client.get(&first).send().await.unwrap();
        let expected = if first_use_succeeds {
            StatusCode::SEE_OTHER
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_eq!(response.status(), expected);
        assert_eq!(app.provider().token_request_count(), 1);

        let attacker = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        for i in 0..50 {
            let replay = attacker
                .get(with_code(&callback, &format!("forged-{i}")))
                .header("cookie", &saved_cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
            assert_eq!(error_code(&replay.text().await.unwrap()), "state_mismatch");
        }
        assert_eq!(
            app.provider().token_request_count(),
            1,
            "50 replays made token requests (first use succeeded: {first_use_succeeds})"
        );
    }
}

/// RFC 9207: an answer naming another issuer is a mix-up, refused before the code is exchanged.
#[tokio::test]
async fn an_answer_from_another_issuer_is_refused_before_the_exchange() {
    let (status, html, app) =
        login_while(|b| b.response_iss_override = Some("https://evil.example/".into())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert_eq!(error_code(&html), "issuer_mismatch");
    assert!(html.contains("https://evil.example/"), "{html}");
    assert_eq!(app.provider().token_request_count(), 0);
    assert!(app.page("/").await.contains("Welcome Guest"));

    // Discovery promises iss in every answer: one without it is refused too.
    let (status, html, app) = login_while(|b| b.omit_response_iss = true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert_eq!(error_code(&html), "issuer_mismatch");
    assert_eq!(app.provider().token_request_count(), 0);

    // The right issuer logs in (every other test does too).
    let (status, _, _) = login_while(|_| {}).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

/// The provider's `error` and `error_description` come from the query string: an attacker can put
/// anything there. The page shows them escaped and bounded.
#[tokio::test]
async fn a_huge_or_hostile_error_description_is_shown_bounded() {
    let app = spawn_app().await;
    let authorize = app.start_login(&app.client, "/login").await;
    let state = url::Url::parse(&authorize)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let description = format!("line1\r\nline2\u{1b}[31m{}", "d".repeat(50_000));
    let mut url = url::Url::parse(&format!("{}/callback", app.base)).unwrap();
    url.query_pairs_mut()
        .append_pair("state", &state)
        .append_pair("error", "access_denied")
        .append_pair("error_description", &description)
        .append_pair("iss", app.provider().issuer());
    let response = app.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let html = response.text().await.unwrap();
    assert_eq!(error_code(&html), "access_denied", "an Action's reason");
    assert!(html.len() < 10_000, "a {}-byte page", html.len());
    assert!(!html.contains('\u{1b}'), "raw escape code on the page");
    assert!(html.contains("line1\\u{d}\\u{a}line2"), "{html}");
}

/// The tenant's key set cannot be fetched at the callback: the page names the check
/// (KEY_RETRIEVAL_ERROR, "Jwks remote fetch is failed") but not the JWKS URL or the network
/// error, which go to the log.
#[tokio::test]
async fn a_key_set_that_cannot_be_fetched_is_named_without_its_address() {
    let app = spawn_app().await;
    app.provider().behave(|b| b.jwks_status = Some(500));
    let response = app.login().await;
    let html = response.text().await.unwrap();
    assert_eq!(error_code(&html), "id_token_invalid", "{html}");
    assert!(html.contains("Jwks remote fetch is failed"), "{html}");
    assert!(html.contains("could not be fetched"), "{html}");
    let port = app.provider_addr.port().to_string();
    assert!(
        !html.contains(&port) && !html.contains("jwks.json"),
        "the public page shows the key set's address: {html}"
    );
}
