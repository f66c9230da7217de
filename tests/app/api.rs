//! `/api/me`: every row of the troubleshooting table answered as an ESP-compatible proxy would,
//! plus key rotation and the JWKS refetch limit.

use auth0_axum::test_support::{MAX_UNKNOWN_KID_REFETCHES, unix_now};
use auth0_demo_idp::keys::{DEMO_KID_2, SigningKey};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

const API: &str = "https://api.example.com";

/// An app with AUTH0_AUDIENCE set, so `/api/me` trusts tokens for [`API`].
async fn spawn_api_app() -> TestApp {
    spawn_app_with(Options {
        audience: Some(API.into()),
        ..Options::default()
    })
    .await
}

async fn call(app: &TestApp, token: Option<&str>) -> (StatusCode, Option<String>, Value) {
    let mut request = reqwest::Client::new().get(format!("{}/api/me", app.base));
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    (status, challenge, response.json().await.unwrap())
}

#[tokio::test]
async fn every_row_of_the_table_is_answered_like_esp() {
    let app = spawn_api_app().await;
    let realm = format!("Bearer realm=\"{}/api/me\"", app.base);
    for row in esp_rows(app.provider().issuer(), API) {
        let (status, challenge, body) = call(&app, Some(&row.token)).await;
        assert_eq!(status.as_u16(), row.status, "{}: {body}", row.name);
        if row.status == 200 {
            assert_eq!(body["source"], "bearer");
            assert_eq!(body["claims"]["sub"], "auth0|api-user");
            continue;
        }
        let mut body = body;
        let remedy = body
            .as_object_mut()
            .and_then(|b| b.remove("remedy"))
            .unwrap_or_default();
        assert!(
            remedy.as_str().is_some_and(|r| r.len() > 20),
            "{}: every refusal carries its remedy: {remedy}",
            row.name
        );
        assert_eq!(
            body,
            json!({"code": row.status, "message": row.message, "category": row.category}),
            "{}",
            row.name
        );
        assert_eq!(
            challenge.unwrap(),
            format!("{realm}, error=\"invalid_token\""),
            "{}",
            row.name
        );
    }
}

#[tokio::test]
async fn no_token_is_jwt_is_missing_without_an_error_code() {
    let app = spawn_api_app().await;
    let (status, challenge, body) = call(&app, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"code": 401, "message": "Jwt is missing", "category": "MISSING"})
    );
    assert_eq!(
        challenge.unwrap(),
        format!("Bearer realm=\"{}/api/me\"", app.base)
    );
}

#[tokio::test]
async fn without_an_audience_every_token_is_issuer_not_configured() {
    let app = spawn_app().await;
    let rows = esp_rows(app.provider().issuer(), API);
    let valid = &rows.last().unwrap().token;
    let (status, _, body) = call(&app, Some(valid)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "Jwt issuer is not configured");
    assert_eq!(body["category"], "ISSUER_NOT_CONFIGURED");
}

#[tokio::test]
async fn a_logged_in_browser_session_works_too() {
    let app = spawn_app().await;
    app.login().await;
    let response = app.get("/api/me").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["source"], "session");
    assert_eq!(body["claims"]["name"], "Jane Doe");
}

#[tokio::test]
async fn a_login_with_an_audience_gets_a_jwt_access_token_the_api_accepts() {
    use base64::Engine as _;
    use sha2::Digest as _;
    let app = spawn_api_app().await;
    // The code flow by hand, as a client of the provider, asking for the API audience.
    let verifier = "a-pkce-verifier-of-at-least-forty-three-characters";
    let challenge =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier));
    let mut authorize = url::Url::parse(&format!("{}authorize", app.provider().issuer())).unwrap();
    authorize.query_pairs_mut().extend_pairs([
        ("response_type", "code"),
        ("client_id", CLIENT_ID),
        ("redirect_uri", &format!("{}/callback", app.base)),
        ("scope", "openid profile"),
        ("state", "s"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("audience", API),
    ]);
    let callback = app
        .decide(&app.client, authorize.as_str(), &[("user", "ana")])
        .await;
    let code = url::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .to_string();
    let tokens: Value = reqwest::Client::new()
        .post(format!("{}oauth/token", app.provider().issuer()))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &format!("{}/callback", app.base)),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access_token = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        access_token.split('.').count(),
        3,
        "a JWT access token for the audience"
    );
    let (status, _, body) = call(&app, Some(access_token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["claims"]["sub"], "demo|ana");
    assert_eq!(body["claims"]["azp"], CLIENT_ID);
}

#[tokio::test]
async fn a_rotated_key_is_accepted_without_restart_with_one_jwks_fetch() {
    let app = spawn_api_app().await;
    let issuer = app.provider().issuer().to_string();
    let now = unix_now();
    let claims = json!({"iss": issuer, "sub": "s", "aud": API, "iat": now, "exp": now + 60});
    let (status, _, _) = call(
        &app,
        Some(&app.provider().sign(claims.as_object().unwrap())),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.provider().jwks_fetch_count(), 1);
    app.provider().rotate_to(DEMO_KID_2);
    let rotated = app.provider().sign(claims.as_object().unwrap());
    assert!(
        rotated
            .starts_with(&SigningKey::fixture(DEMO_KID_2).sign(claims.as_object().unwrap())[..20])
    );
    let (status, _, body) = call(&app, Some(&rotated)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        app.provider().jwks_fetch_count(),
        2,
        "one refetch for the new kid"
    );
    for _ in 0..5 {
        assert_eq!(call(&app, Some(&rotated)).await.0, StatusCode::OK);
    }
    assert_eq!(app.provider().jwks_fetch_count(), 2, "cached after that");
}

#[tokio::test]
async fn a_burst_of_unknown_kids_makes_a_bounded_number_of_refetches() {
    let app = spawn_api_app().await;
    let issuer = app.provider().issuer().to_string();
    let now = unix_now();
    let key = SigningKey::fixture(DEMO_KID_2); // never published
    let mut tasks = Vec::new();
    for i in 0..100 {
        let claims = json!({"iss": issuer, "sub": "s", "aud": API, "iat": now, "exp": now + 60});
        let token = key.sign_with_header(
            json!({"alg": "RS256", "kid": format!("attacker-{i}")}),
            claims.as_object().unwrap(),
        );
        let base = app.base.clone();
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .get(format!("{base}/api/me"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::UNAUTHORIZED);
    }
    // One cold fetch plus at most MAX_UNKNOWN_KID_REFETCHES for unknown kids, for 100 tokens.
    assert!(
        app.provider().jwks_fetch_count() <= 1 + MAX_UNKNOWN_KID_REFETCHES,
        "{} JWKS fetches",
        app.provider().jwks_fetch_count()
    );
    // One after another, each waiting for the last: still bounded, whatever the kids.
    for i in 0..20 {
        let token = key.sign_with_header(
            json!({"alg": "RS256", "kid": format!("flood-{i}")}),
            json!({"iss": issuer, "sub": "s", "aud": API, "iat": now, "exp": now + 60})
                .as_object()
                .unwrap(),
        );
        assert_eq!(call(&app, Some(&token)).await.0, StatusCode::UNAUTHORIZED);
    }
    assert!(
        app.provider().jwks_fetch_count() <= 1 + MAX_UNKNOWN_KID_REFETCHES,
        "{} JWKS fetches after 20 made-up kids",
        app.provider().jwks_fetch_count()
    );
    // The same unknown kid again and again: no further fetch.
    let claims = json!({"iss": issuer, "sub": "s", "aud": API, "iat": now, "exp": now + 60});
    let same = key.sign_with_header(
        json!({"alg": "RS256", "kid": "attacker-0"}),
        claims.as_object().unwrap(),
    );
    assert_eq!(call(&app, Some(&same)).await.0, StatusCode::UNAUTHORIZED);
    let before = app.provider().jwks_fetch_count();
    for _ in 0..10 {
        assert_eq!(call(&app, Some(&same)).await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        app.provider().jwks_fetch_count(),
        before,
        "a kid refetched for is not again"
    );
}

/// A key never seen before is fetched at once, even just after the key set was refetched for
/// another unknown kid (before, one refetch per 10 s in all made a login signed with a key
/// rotated in that window fail).
#[tokio::test]
async fn a_new_key_is_fetched_at_once_even_right_after_another_refetch() {
    let app = spawn_api_app().await;
    let issuer = app.provider().issuer().to_string();
    let now = unix_now();
    let claims = json!({"iss": issuer, "sub": "s", "aud": API, "iat": now, "exp": now + 60});
    let claims = claims.as_object().unwrap();
    assert_eq!(
        call(&app, Some(&app.provider().sign(claims))).await.0,
        StatusCode::OK
    );
    let stray = SigningKey::fixture(DEMO_KID_2)
        .sign_with_header(json!({"alg": "RS256", "kid": "someone-elses"}), claims);
    assert_eq!(call(&app, Some(&stray)).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.provider().jwks_fetch_count(),
        2,
        "one refetch for the stray kid"
    );
    for _ in 0..5 {
        assert_eq!(call(&app, Some(&stray)).await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        app.provider().jwks_fetch_count(),
        2,
        "a kid refetched for is not refetched for again"
    );
    app.provider().rotate_to(DEMO_KID_2);
    let (status, _, body) = call(&app, Some(&app.provider().sign(claims))).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the rotated key was not fetched: {body}"
    );
    assert_eq!(app.provider().jwks_fetch_count(), 3);
}

#[tokio::test]
async fn a_token_over_16_kb_is_refused_before_it_is_decoded() {
    let app = spawn_api_app().await;
    let huge = format!("eyJ{}.{}.{}", "a".repeat(20_000), "b".repeat(20_000), "c");
    let (status, challenge, body) = call(&app, Some(&huge)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "Jwt is too large");
    assert_eq!(body["category"], "BAD_FORMAT");
    assert!(challenge.unwrap().contains("invalid_token"));
    assert_eq!(
        app.provider().jwks_fetch_count(),
        0,
        "nothing fetched for it"
    );
}

/// Auth0's access token for its own `/userinfo` (opaque, or a JWE) sent to the API: the answer
/// names the setting that gets a token for the API, as `check-token` does.
#[tokio::test]
async fn an_opaque_or_encrypted_token_is_answered_with_the_audience_remedy() {
    let app = spawn_api_app().await;
    let jwe = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aXY.Y2lwaGVy.dGFn";
    for token in ["6V0ZJnKvYh0q3bq2zW8S1bZKqKf8P3nA", jwe] {
        let (status, _, body) = call(&app, Some(token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["category"], "BAD_FORMAT", "{body}");
        assert!(
            body["remedy"]
                .as_str()
                .unwrap_or("")
                .contains("AUTH0_AUDIENCE"),
            "{body}"
        );
    }
}
