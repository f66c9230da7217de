//! `APP_SECRET_KEY` rotation: the old key in `APP_SECRET_KEY_PREVIOUS` keeps everyone logged in,
//! each session is sealed again under the new key on its first request, and a key nobody lists
//! any more reads as a guest.

use auth0_axum::test_support::COOKIE_NAME;
use auth0_axum::test_support::SessionKeys;
use auth0_axum::test_support::parse_secret_key;
use reqwest::StatusCode;

use crate::support::*;

const NEW_KEY: &str = "9a8b7c6d5e4f30211f2e3d4c5b6a79880123456789abcdef0f1e2d3c4b5a6978";

async fn app_with_keys(current: &str, previous: &[&str]) -> TestApp {
    spawn_app_with(Options {
        secret_key: Some(current.to_string()),
        previous_secret_keys: previous.iter().map(|k| k.to_string()).collect(),
        ..Options::default()
    })
    .await
}

/// GET / with this Cookie header: (status, body, the session's new cookie value if any).
async fn view(app: &TestApp, cookie: &str) -> (StatusCode, String, Option<String>) {
    let response = app.get_with_cookie("/", cookie).await;
    let written = set_cookies(&response)
        .into_iter()
        .find(|c| c.starts_with(&format!("{COOKIE_NAME}=")))
        .map(|c| c.split(';').next().unwrap().to_string());
    (response.status(), response.text().await.unwrap(), written)
}

fn opens_under(key: &str, pair: &str) -> bool {
    let value = pair.split_once('=').unwrap().1;
    SessionKeys::new(&parse_secret_key(key).unwrap(), &[])
        .open(value)
        .is_ok()
}

#[tokio::test]
async fn a_rotated_key_keeps_everyone_logged_in_and_reseals_under_the_new_key() {
    let before = spawn_app().await;
    let old_cookie = format!(
        "{COOKIE_NAME}={}",
        first_cookie_value(&before.login().await)
    );
    assert!(opens_under(SECRET_KEY, &old_cookie));

    let rotated = app_with_keys(NEW_KEY, &[SECRET_KEY]).await;
    let (status, html, resealed) = view(&rotated, &old_cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Jane Doe"),
        "still logged in after the rotation"
    );
    let resealed = resealed.expect("the first request reseals the session");
    assert!(opens_under(NEW_KEY, &resealed), "sealed under the new key");
    assert!(
        !opens_under(SECRET_KEY, &resealed),
        "and not under the old one"
    );

    let (_, html, rewritten) = view(&rotated, &resealed).await;
    assert!(html.contains("Jane Doe"));
    assert_eq!(
        rewritten, None,
        "a session under the current key is not rewritten"
    );

    // Once the old key is dropped from APP_SECRET_KEY_PREVIOUS, the resealed session still
    // works and a session nobody resealed reads as a guest (and is deleted).
    let later = app_with_keys(NEW_KEY, &[]).await;
    assert!(view(&later, &resealed).await.1.contains("Jane Doe"));
    let (status, html, cleared) = view(&later, &old_cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Welcome Guest"));
    assert_eq!(cleared.as_deref(), Some(&*format!("{COOKIE_NAME}=")));
}

#[tokio::test]
async fn a_session_from_another_app_reads_as_a_guest() {
    let other = app_with_keys(NEW_KEY, &[]).await;
    let foreign = format!("{COOKIE_NAME}={}", first_cookie_value(&other.login().await));
    let app = spawn_app().await;
    let (status, html, cleared) = view(&app, &foreign).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Welcome Guest"));
    assert!(cleared.is_some(), "the foreign cookie is deleted");
}
