//! What logins in progress may cost: long `returnTo`s, many tabs and forced logins never overflow
//! the cookie, never answer 5xx or an empty body, and never block the next real login.

use reqwest::{Client, StatusCode};

use crate::support::*;

fn encoded(return_to: &str) -> String {
    url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect()
}

/// `/login?returnTo=...` answered with a redirect or a page, never a 5xx or an empty body; the
/// cookie it sets stays under 4096 bytes.
async fn start(app: &TestApp, client: &Client, return_to: &str) -> StatusCode {
    let response = app
        .get_with(client, &format!("/login?returnTo={}", encoded(return_to)))
        .await;
    let status = response.status();
    for cookie in set_cookies(&response) {
        assert!(cookie.len() < 4096, "a {}-byte Set-Cookie", cookie.len());
    }
    let body = response.text().await.unwrap();
    assert!(!status.is_server_error(), "{status}: {body}");
    if status != StatusCode::SEE_OTHER {
        assert!(
            !error_code(&body).is_empty(),
            "{status} without a page: {body:?}"
        );
    }
    status
}

#[tokio::test]
async fn a_return_to_full_of_quotes_gets_a_page_not_an_empty_500() {
    let app = spawn_app().await;
    // 1000 quotes are 2000 bytes once JSON-escaped: refused with a reason.
    let status = start(&app, &app.client, &format!("/{}", "\"".repeat(1000))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // 500 of them fit and the login starts.
    let status = start(&app, &app.client, &format!("/{}", "\"".repeat(500))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn two_tabs_on_long_deep_links_both_start_and_the_newest_finishes() {
    let app = spawn_app().await;
    let first = format!("/a/{}", "x".repeat(1000));
    let second = format!("/b/{}", "y".repeat(1000));
    assert_eq!(
        start(&app, &app.client, &first).await,
        StatusCode::SEE_OTHER
    );
    let authorize = app
        .start_login(
            &app.client,
            &format!("/login?returnTo={}", encoded(&second)),
        )
        .await;
    let callback = app
        .decide(&app.client, &authorize, &[("user", "jane")])
        .await;
    let response = app.client.get(callback).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), second);
}

#[tokio::test]
async fn forced_logins_with_long_return_tos_do_not_block_the_next_real_login() {
    let app = spawn_app().await;
    // An attacker's page navigates the victim to /login three times (and more, for good measure).
    for i in 0..6 {
        let status = start(&app, &app.client, &format!("/{i}{}", "z".repeat(500))).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
    // The victim's own login goes through at once.
    let response = app.login().await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.text().await.unwrap()
    );
    assert_eq!(location(&response), "/");
    assert!(app.page("/").await.contains("Jane Doe"));
    // And while logged in, more forced logins still fit beside the profile.
    for i in 0..4 {
        start(&app, &app.client, &format!("/{i}{}", "\"".repeat(480))).await;
    }
    assert!(app.page("/").await.contains("Jane Doe"), "still logged in");
}

/// A profile whose cookies land right at the limit (each Set-Cookie within 4,096 bytes, all of
/// them within the Cookie-header budget) either logs in (with cookies the browser keeps, that
/// read back as the user) or gets the `session_too_large` page: never a "logged in" log line
/// followed by an empty 500 from the session layer. Sweeps byte by byte across the boundary.
#[tokio::test]
async fn a_profile_at_the_cookie_limit_logs_in_or_gets_a_page_byte_by_byte() {
    let app = spawn_app().await;
    let login_with_pad = |pad: usize| {
        let app = &app;
        async move {
            app.provider().behave(|b| {
                b.extra_claims
                    .insert("pad".into(), serde_json::json!("p".repeat(pad)));
            });
            let client = cookie_client();
            let response = app.login_with(&client, "/login", "jane").await;
            let status = response.status();
            let cookies = set_cookies(&response);
            let body = response.text().await.unwrap();
            assert!(!status.is_server_error(), "pad {pad}: {status} {body:?}");
            for cookie in &cookies {
                assert!(
                    cookie.len() <= 4096,
                    "pad {pad}: a {}-byte Set-Cookie",
                    cookie.len()
                );
            }
            match status {
                StatusCode::SEE_OTHER => {
                    let header: usize = cookies
                        .iter()
                        .map(|c| c.split(';').next().unwrap().len() + 2)
                        .sum();
                    assert!(
                        header + "Cookie: ".len() < 8190,
                        "pad {pad}: a {header}-byte Cookie header"
                    );
                    let home = app.get_with(&client, "/").await.text().await.unwrap();
                    assert!(
                        !home.contains("Welcome Guest"),
                        "pad {pad}: logged in, but the cookies do not read back"
                    );
                    true
                }
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
                    assert_eq!(error_code(&body), "session_too_large");
                    false
                }
                other => panic!("pad {pad}: {other}"),
            }
        }
    };
    // The largest pad that logs in, by bisection...
    let (mut fits, mut too_big) = (0usize, 8000usize);
    assert!(login_with_pad(fits).await);
    assert!(!login_with_pad(too_big).await);
    while too_big - fits > 1 {
        let mid = (fits + too_big) / 2;
        if login_with_pad(mid).await {
            fits = mid;
        } else {
            too_big = mid;
        }
    }
    // ...then every size around it, where a projection a few bytes short would show.
    for pad in fits.saturating_sub(24)..fits + 24 {
        login_with_pad(pad).await;
    }
}
