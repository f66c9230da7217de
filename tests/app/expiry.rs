//! Session and login lifetimes, proved with sessions encrypted under the test key but dated in
//! the past: absolute expiry (7 days), idle expiry (24 h), the hourly slide, and the 10-minute
//! login window.

use auth0_axum::test_support::unix_now;
use auth0_axum::test_support::{COOKIE_NAME, LoginTransaction, UserSession};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

/// A session for "Old Timer", who logged in and was last refreshed this many seconds ago.
fn user(logged_in_ago: i64, refreshed_ago: i64) -> UserSession {
    let now = unix_now();
    let profile = json!({"sub": "demo|old", "name": "Old Timer"});
    let mut user = UserSession::without_tokens(profile.as_object().unwrap().clone(), now);
    user.logged_in_at = now - logged_in_ago;
    user.refreshed_at = now - refreshed_ago;
    user
}

fn forge_user(user: UserSession, expires_at: i64) -> String {
    forge_session(Some(&user), &[], expires_at)
}

async fn home_with(app: &TestApp, cookie: &str) -> (String, Vec<String>) {
    let response = app.get_with_cookie("/", cookie).await;
    let cookies = set_cookies(&response);
    (response.text().await.unwrap(), cookies)
}

#[tokio::test]
async fn a_forged_session_under_the_right_key_is_accepted_which_makes_the_tests_below_meaningful() {
    let app = spawn_app().await;
    let (html, _) = home_with(&app, &forge_user(user(60, 60), unix_now() + 3600)).await;
    assert!(html.contains("Welcome Old Timer!"), "{html}");
}

#[tokio::test]
async fn a_session_older_than_seven_days_is_logged_out_however_active() {
    let app = spawn_app().await;
    let eight_days = 8 * 24 * 3600;
    let (html, _) = home_with(&app, &forge_user(user(eight_days, 60), unix_now() + 3600)).await;
    assert!(html.contains("Welcome Guest"), "{html}");
    let (html, _) = home_with(
        &app,
        &forge_user(user(6 * 24 * 3600, 60), unix_now() + 3600),
    )
    .await;
    assert!(
        html.contains("Welcome Old Timer!"),
        "six days is still within the limit"
    );
}

#[tokio::test]
async fn a_session_idle_past_its_deadline_is_logged_out_and_cleared() {
    let app = spawn_app().await;
    // The deadline travels inside the encrypted record: replaying an old cookie does not help.
    let (html, cookies) = home_with(&app, &forge_user(user(3600, 3600), unix_now() - 1)).await;
    assert!(html.contains("Welcome Guest"), "{html}");
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with(&format!("{COOKIE_NAME}=;"))),
        "{cookies:?}"
    );
}

#[tokio::test]
async fn activity_pushes_the_idle_deadline_back_at_most_hourly() {
    let app = spawn_app().await;
    let (_, cookies) = home_with(&app, &forge_user(user(7200, 7200), unix_now() + 3600)).await;
    let renewed = cookies
        .iter()
        .find(|c| c.starts_with(&format!("{COOKIE_NAME}=")))
        .expect("renewed cookie");
    assert!(
        renewed.contains("Max-Age=86"),
        "a fresh 24 h deadline: {renewed}"
    );
    let (_, cookies) = home_with(&app, &forge_user(user(7200, 600), unix_now() + 3600)).await;
    assert!(
        cookies.is_empty(),
        "refreshed 10 minutes ago: no rewrite, {cookies:?}"
    );
}

#[tokio::test]
async fn a_login_older_than_ten_minutes_is_refused() {
    let app = spawn_app().await;
    let old = LoginTransaction {
        state: "old-state".into(),
        nonce: "n".into(),
        pkce_verifier: "v".into(),
        return_to: "/".into(),
        created_at: unix_now() - 11 * 60,
        max_age: None,
        organization: None,
        silent: false,
        acr_values: None,
    };
    let response = reqwest::Client::new()
        .get(format!("{}/callback?code=c&state=old-state", app.base))
        .header("Cookie", forge_session(None, &[old], unix_now() + 3600))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&response.text().await.unwrap()), "login_expired");
    assert_eq!(app.provider().token_request_count(), 0);
}

async fn app_with_env(env: &[(&'static str, &str)]) -> TestApp {
    spawn_app_with(Options {
        extra_env: env.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        ..Options::default()
    })
    .await
}

/// `Max-Age` of the session cookie a response sets.
fn max_age(cookies: &[String]) -> Option<i64> {
    cookies
        .iter()
        .find(|c| c.starts_with(&format!("{COOKIE_NAME}=")))?
        .split(';')
        .find_map(|part| part.trim().strip_prefix("Max-Age="))?
        .parse()
        .ok()
}

#[tokio::test]
async fn the_absolute_lifetime_is_a_setting() {
    let app = app_with_env(&[
        ("SESSION_ABSOLUTE_TIMEOUT", "1h"),
        ("SESSION_IDLE_TIMEOUT", "30m"),
    ])
    .await;
    let (html, _) = home_with(&app, &forge_user(user(2 * 3600, 60), unix_now() + 3600)).await;
    assert!(
        html.contains("Welcome Guest"),
        "two hours is past a one-hour lifetime: {html}"
    );
    let (html, _) = home_with(&app, &forge_user(user(1800, 60), unix_now() + 3600)).await;
    assert!(html.contains("Welcome Old Timer!"), "{html}");
}

#[tokio::test]
async fn the_idle_lifetime_is_a_setting_and_sets_the_cookies_max_age() {
    let app = app_with_env(&[("SESSION_IDLE_TIMEOUT", "30m")]).await;
    let response = app.login().await;
    assert_eq!(max_age(&set_cookies(&response)), Some(1800));
    // Slid every half idle lifetime at most: a visit 20 minutes after the last slide writes.
    let (html, cookies) = home_with(&app, &forge_user(user(3600, 1200), unix_now() + 600)).await;
    assert!(html.contains("Welcome Old Timer!"), "{html}");
    assert_eq!(max_age(&cookies), Some(1800), "{cookies:?}");
}

#[tokio::test]
async fn a_session_that_does_not_roll_is_never_extended_by_activity() {
    let app = app_with_env(&[
        ("SESSION_ROLLING", "false"),
        ("SESSION_ABSOLUTE_TIMEOUT", "2h"),
    ])
    .await;
    let response = app.login().await;
    assert_eq!(
        max_age(&set_cookies(&response)),
        Some(7200),
        "the cookie lives the absolute lifetime"
    );
    // Two hours since the last slide would slide a rolling session; this one writes nothing.
    let (html, cookies) = home_with(&app, &forge_user(user(3000, 3000), unix_now() + 3600)).await;
    assert!(html.contains("Welcome Old Timer!"), "{html}");
    assert!(
        cookies.is_empty(),
        "a page view wrote the session: {cookies:?}"
    );
    let rolling = spawn_app().await;
    let (_, cookies) = home_with(&rolling, &forge_user(user(7200, 7200), unix_now() + 3600)).await;
    assert!(
        !cookies.is_empty(),
        "a rolling session is slid after an hour"
    );
}

/// The upstream identity provider's ceiling (IPSIE `session_expiry`, which Auth0 passes on from
/// an enterprise connection): the session ends then, whatever its own lifetimes say.
#[tokio::test]
async fn the_upstream_session_expiry_ends_the_session_and_one_already_past_refuses_the_login() {
    let app = spawn_app().await;
    let soon = unix_now() + 2;
    app.provider().behave(move |b| {
        b.extra_claims.insert("session_expiry".into(), json!(soon));
    });
    assert_eq!(app.login().await.status(), StatusCode::SEE_OTHER);
    let html = app.page("/").await;
    assert!(html.contains("Jane Doe"), "{html}");
    assert!(
        !html.contains("session_expiry"),
        "a protocol claim is not profile: {html}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2600)).await;
    let html = app.page("/").await;
    assert!(html.contains("Welcome Guest"), "the ceiling passed: {html}");

    // In milliseconds (a common slip): no ceiling, as Auth0's SDKs read it.
    let app = spawn_app().await;
    app.provider().behave(|b| {
        b.extra_claims
            .insert("session_expiry".into(), json!(unix_now() * 1000));
    });
    assert_eq!(app.login().await.status(), StatusCode::SEE_OTHER);
    assert!(app.page("/").await.contains("Jane Doe"));

    // Already past when the ID token was issued: no session is started.
    let app = spawn_app().await;
    app.provider().behave(|b| {
        b.extra_claims
            .insert("session_expiry".into(), json!(unix_now() - 60));
    });
    let response = app.login().await;
    let status = response.status();
    let html = response.text().await.unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert_eq!(error_code(&html), "session_expired");
    assert!(app.page("/").await.contains("Welcome Guest"));
}
