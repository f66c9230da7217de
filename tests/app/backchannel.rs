//! `POST /backchannel-logout` in cookie mode (the default): the server cannot delete a cookie, so
//! the logout token's `sid` (or `sub`) goes on a deny-list kept in memory (in Redis too with
//! `REDIS_URL`: tests/redis), and a cookie session begun before that entry reads as a guest.

use std::time::Duration;

use reqwest::StatusCode;

use crate::support::*;

fn name_shown(html: &str) -> bool {
    html.contains("Jane Doe")
}

#[tokio::test]
async fn a_backchannel_logout_by_sid_ends_the_cookie_session_and_a_later_login_lives() {
    let app = spawn_app().await;
    app.login().await;
    let cookie_before = app.page("/").await;
    assert!(name_shown(&cookie_before));
    let token = app.logout_token_for_last_session();
    let response = app.post_logout_token(&token).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let after = app.page("/").await;
    assert!(
        !name_shown(&after),
        "the cookie session still reads as Jane: {after}"
    );
    // The same token again is a replay.
    let again = app.post_logout_token(&token).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(again.text().await.unwrap().contains("jti"));
    // A login after the logout (the entry is dated to the second) is a new session and lives.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.login().await;
    assert!(
        name_shown(&app.page("/").await),
        "a later login was ended too"
    );
}

#[tokio::test]
async fn a_backchannel_logout_by_sub_ends_every_cookie_session_of_the_user() {
    let app = spawn_app().await;
    let (first, second) = (cookie_client(), cookie_client());
    app.login_with(&first, "/login", "jane").await;
    app.login_with(&second, "/login", "jane").await;
    let other = cookie_client();
    app.login_with(&other, "/login", "raj").await;
    assert!(name_shown(
        &app.get_with(&first, "/").await.text().await.unwrap()
    ));
    let provider = app.provider();
    let token = provider.sign_logout_token(&provider.logout_claims(None, Some("demo|jane")));
    assert_eq!(app.post_logout_token(&token).await.status(), StatusCode::OK);
    for browser in [&first, &second] {
        let html = app.get_with(browser, "/").await.text().await.unwrap();
        assert!(!name_shown(&html), "{html}");
    }
    let raj = app.get_with(&other, "/").await.text().await.unwrap();
    assert!(
        raj.contains("Raj Patel"),
        "another user's session lives: {raj}"
    );
}
