//! Auth0 as it really is: organizations verified, Auth0's own error answers (statuses, `error`,
//! `error_description`) each read right, the login parameters users expect, silent login, and
//! the callback paths users really hit. The demo provider answers exactly as Auth0 does.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

fn without(url: &str, name: &str) -> String {
    with_param(url, name, None)
}

/// A whole login through `login_path`, with the authorize URL changed by `edit` first.
pub async fn login_editing(
    app: &TestApp,
    login_path: &str,
    edit: impl Fn(&str) -> String,
) -> (StatusCode, String) {
    let authorize = edit(&app.start_login(&app.client, login_path).await);
    let callback = app
        .decide(&app.client, &authorize, &[("user", "jane")])
        .await;
    let response = app.client.get(callback).send().await.unwrap();
    let status = response.status();
    (status, response.text().await.unwrap())
}

/// Logs in while the provider answers `/authorize` with this error; the page.
pub async fn authorize_answer(error: &str, description: &str) -> (StatusCode, String) {
    let app = spawn_app().await;
    let (error, description) = (error.to_string(), description.to_string());
    app.provider()
        .behave(move |b| b.authorize_error = Some((error, description)));
    let authorize = app.start_login(&app.client, "/login").await;
    let answer = app.client.get(authorize).send().await.unwrap();
    assert_eq!(
        answer.status(),
        StatusCode::SEE_OTHER,
        "the provider redirects back"
    );
    let response = app.client.get(location(&answer)).send().await.unwrap();
    let status = response.status();
    (status, response.text().await.unwrap())
}

// ---- 1. Organizations ----

#[tokio::test]
async fn an_organization_login_is_verified_and_cannot_be_stripped_from_the_url() {
    let app = spawn_app().await;
    let (status, _) =
        login_editing(&app, "/login?organization=org_abc123", |u| u.to_string()).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the token is for org_abc123");

    // Someone deletes organization= from the authorize URL: the token has no org_id.
    let app = spawn_app().await;
    let (status, html) = login_editing(&app, "/login?organization=org_abc123", |u| {
        without(u, "organization")
    })
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
    assert_eq!(error_code(&html), "organization_mismatch");
    assert!(
        html.contains("org_id") && html.contains("org_abc123"),
        "{html}"
    );
    assert!(app.page("/").await.contains("Welcome Guest"));

    // By name: org_name, compared ignoring case; missing claims are refused too.
    let app = spawn_app().await;
    let (status, _) = login_editing(&app, "/login?organization=acme-corp", |u| {
        u.replace("acme-corp", "ACME-CORP")
    })
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    app.provider().behave(|b| b.drop_org_claims = true);
    let (status, html) =
        login_editing(&app, "/login?organization=acme-corp", |u| u.to_string()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("org_name"), "{html}");
}

#[tokio::test]
async fn auth0_organization_puts_every_login_in_one_organization_and_invitations_work() {
    let app = spawn_app_with(Options {
        organization: Some("org_abc123".into()),
        ..Options::default()
    })
    .await;
    let authorize = app
        .start_login(&app.client, "/login?invitation=inv_XyZ")
        .await;
    assert_eq!(
        param(&authorize, "organization").as_deref(),
        Some("org_abc123")
    );
    assert_eq!(param(&authorize, "invitation").as_deref(), Some("inv_XyZ"));
    let callback = app
        .decide(&app.client, &authorize, &[("user", "jane")])
        .await;
    assert_eq!(
        app.client.get(callback).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    // A link may not ask for another organization.
    let response = app.get("/login?organization=org_other").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        error_code(&response.text().await.unwrap()),
        "invalid_login_parameter"
    );
}

// ---- 2. Auth0's error answers ----

#[tokio::test]
async fn service_not_found_names_auth0_audience() {
    let (status, html) = authorize_answer(
        "access_denied",
        "Service not found: https://api.typo.example",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&html), "audience_not_found");
    assert!(
        html.contains("AUTH0_AUDIENCE") && html.contains("https://api.typo.example"),
        "{html}"
    );
    assert!(!html.contains("If you cancelled"), "{html}");
}

#[tokio::test]
async fn a_blocked_user_is_told_so_without_a_try_again() {
    let (status, html) = authorize_answer("unauthorized", "user is blocked").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&html), "user_blocked");
    assert!(html.contains("This account is blocked"));
    assert!(!html.contains("Try again"), "{html}");
}

#[tokio::test]
async fn an_actions_deny_reason_is_shown_once_without_the_cancel_line() {
    let (status, html) = authorize_answer("access_denied", "Only staff may log in.").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&html), "access_denied");
    assert!(html.contains("Access denied"));
    assert!(
        html.contains("The login was refused: Only staff may log in."),
        "{html}"
    );
    assert!(
        !html.contains("log in..") && !html.contains("If you cancelled"),
        "{html}"
    );
    // A user who cancels still gets the reassurance.
    let (_, html) = authorize_answer("access_denied", "User did not authorize the request").await;
    assert_eq!(error_code(&html), "provider_error");
    assert!(html.contains("If you cancelled"));
}

/// Logs in while the token endpoint answers `status` and `body`.
async fn token_answer(status: u16, body: serde_json::Value) -> (StatusCode, String) {
    let app = spawn_app().await;
    app.provider()
        .behave(move |b| b.token_error = Some((status, body.to_string())));
    let response = app.login().await;
    let status = response.status();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn the_token_endpoints_real_answers_get_the_right_hint() {
    // Auth0's wrong-secret answer is 401 access_denied, not invalid_client.
    let (status, html) = token_answer(
        401,
        json!({"error": "access_denied", "error_description": "Unauthorized"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&html), "token_exchange_refused");
    assert!(html.contains("AUTH0_CLIENT_SECRET"), "{html}");
    // A reused or expired code.
    let (_, html) = token_answer(
        403,
        json!({"error": "invalid_grant", "error_description": "Invalid authorization code"}),
    )
    .await;
    assert!(html.contains("already used or has expired"), "{html}");
    // A 5xx is an outage, whatever its body says.
    let (status, html) = token_answer(
        503,
        json!({"error": "invalid_grant", "error_description": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(error_code(&html), "token_exchange_failed");
    assert!(
        html.contains("outage") && html.contains("Try again"),
        "{html}"
    );
}

#[tokio::test]
async fn discovery_outages_are_not_blamed_on_auth0_domain() {
    for (status, outage) in [(503, true), (500, true), (404, false)] {
        let app = spawn_app_with(Options {
            provider_behaviour: Some(match status {
                503 => |b| b.discovery_status = Some(503),
                500 => |b| b.discovery_status = Some(500),
                _ => |b| b.discovery_status = Some(404),
            }),
            ..Options::default()
        })
        .await;
        let response = app.get("/login").await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let html = response.text().await.unwrap();
        assert_eq!(html.contains("outage"), outage, "{status}: {html}");
        assert_eq!(
            html.contains("AUTH0_DOMAIN must be"),
            !outage,
            "{status}: {html}"
        );
    }
}

#[tokio::test]
async fn a_jwe_userinfo_token_on_the_api_says_to_ask_for_an_audience() {
    let app = spawn_app_with(Options {
        audience: Some("https://api.example.com".into()),
        ..Options::default()
    })
    .await;
    let jwe = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aWV2.Y2lwaGVy.dGFn";
    let response = reqwest::Client::new()
        .get(format!("{}/api/me", app.base))
        .bearer_auth(jwe)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let report = auth0_axum::token_check::check(
        jwe,
        &auth0_axum::token_check::Expectations::unconfigured("x"),
        &openidconnect::core::CoreJsonWebKeySet::new(Vec::new()),
    )
    .await;
    let remedy = &report.first_failure().unwrap().remedy;
    assert!(
        remedy.contains("AUTH0_AUDIENCE") && remedy.contains("/userinfo"),
        "{remedy}"
    );
    assert!(!remedy.contains("Turn off"), "{remedy}");
}

/// A 429 at the login's code exchange (Auth0's rate limit, with `x-ratelimit-reset`) is a 503
/// "Auth0 is limiting requests, try again in N s" with `Retry-After`, not a refusal of the login.
#[tokio::test]
async fn a_rate_limited_code_exchange_is_a_503_saying_when_to_try_again() {
    let app = spawn_app().await;
    let authorize = app.start_login(&app.client, "/login").await;
    let callback = app
        .decide(&app.client, &authorize, &[("user", "jane")])
        .await;
    app.provider()
        .behave(|b| b.rate_limited_for_secs = Some(42));
    let response = app.client.get(callback).send().await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((30..=43).contains(&retry), "Retry-After {retry}");
    let html = response.text().await.unwrap();
    assert_eq!(error_code(&html), "rate_limited", "{html}");
    assert!(
        html.contains("Auth0 is limiting requests, try again in"),
        "{html}"
    );
}
