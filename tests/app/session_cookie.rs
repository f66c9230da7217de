//! The session cookie: attributes, size, tampering, oversize profiles, and the page headers.

use auth0_axum::test_support::{COOKIE_NAME, SECURE_COOKIE_NAME};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

fn session_cookie(response: &reqwest::Response) -> String {
    set_cookies(response)
        .into_iter()
        .find(|c| {
            c.starts_with(&format!("{COOKIE_NAME}="))
                || c.starts_with(&format!("{SECURE_COOKIE_NAME}="))
        })
        .expect("a session Set-Cookie")
}

#[tokio::test]
async fn the_session_cookie_is_httponly_lax_and_under_4096_bytes() {
    let app = spawn_app().await;
    let callback = app.login().await;
    let cookie = session_cookie(&callback);
    let header_line = format!("Set-Cookie: {cookie}");
    println!("Set-Cookie after a demo login: {} bytes", header_line.len());
    assert!(header_line.len() < 4096, "{} bytes", header_line.len());
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Lax"));
    assert!(cookie.contains("Path=/"));
    assert!(!cookie.contains("Secure"), "http base URL: no Secure flag");
    let max_age: i64 = cookie
        .split("Max-Age=")
        .nth(1)
        .and_then(|s| s.split(';').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (86_000..=86_400).contains(&max_age),
        "idle expiry of 24 h, got {max_age}"
    );
    // The value is encrypted: no claim is readable in it.
    assert!(
        !cookie.contains("jane") && !cookie.contains("ZXlK"),
        "the cookie must be opaque"
    );
}

#[tokio::test]
async fn page_views_do_not_rewrite_the_cookie() {
    let app = spawn_app().await;
    app.login().await;
    let home = app.get("/").await;
    assert!(
        set_cookies(&home).is_empty(),
        "a page view re-encrypted the session"
    );
}

#[tokio::test]
async fn a_tampered_cookie_reads_as_logged_out_and_is_cleared() {
    let app = spawn_app().await;
    let cookie = session_cookie(&app.login().await);
    let value = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches(&format!("{COOKIE_NAME}="))
        .to_string();
    let mut bytes = value.into_bytes();
    let mid = bytes.len() / 2;
    bytes[mid] = if bytes[mid] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    for value in [tampered.as_str(), "garbage", "", "%%%"] {
        let response = reqwest::Client::new()
            .get(format!("{}/", app.base))
            .header("Cookie", format!("{COOKIE_NAME}={value}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{value}");
        let cleared = set_cookies(&response);
        if !value.is_empty() {
            assert!(
                cleared
                    .iter()
                    .any(|c| c.starts_with(&format!("{COOKIE_NAME}=;"))),
                "not cleared: {cleared:?}"
            );
        }
        assert!(response.text().await.unwrap().contains("Welcome Guest"));
    }
}

/// Auth0 group claims (an Action adding them), enough for an ID token of about `kb` KB.
fn groups_claim(kb: usize) -> serde_json::Value {
    let groups: Vec<String> = (0..kb * 24)
        .map(|i| format!("engineering-platform-team-{i:04}"))
        .collect();
    json!(groups)
}

/// The session's Set-Cookies, in chunk order (`auth0_session`, `.1`, ...), as `name=value`
/// (deletions left out).
fn session_chunks(response: &reqwest::Response) -> Vec<String> {
    set_cookies(response)
        .into_iter()
        .filter(|c| c.starts_with(COOKIE_NAME))
        .map(|c| c.split(';').next().unwrap().to_string())
        .filter(|pair| !pair.ends_with('='))
        .collect()
}

#[tokio::test]
async fn a_user_with_a_6_kb_id_token_logs_in_across_several_cookies() {
    let app = spawn_app().await;
    app.provider().behave(|b| {
        b.extra_claims
            .insert("https://example.com/groups".into(), groups_claim(5));
    });
    let response = app.login().await;
    assert!(
        app.provider().last_id_token_bytes() >= 6000,
        "a {}-byte ID token",
        app.provider().last_id_token_bytes()
    );
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let all = set_cookies(&response);
    for cookie in &all {
        assert!(cookie.len() <= 4096, "a {}-byte Set-Cookie", cookie.len());
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    }
    let chunks = session_chunks(&response);
    assert!(chunks.len() >= 2, "{chunks:?}");
    assert!(chunks[1].starts_with(&format!("{COOKIE_NAME}.1=")));
    let header = chunks.join("; ");
    assert!(
        header.len() + "Cookie: ".len() < 8190,
        "{} bytes",
        header.len()
    );
    let html = app.page("/").await;
    assert!(html.contains("Jane Doe"), "{html}");
    assert!(
        html.contains("engineering-platform-team-0095"),
        "the groups are in the profile"
    );
}

#[tokio::test]
async fn a_profile_beyond_what_cookies_hold_gets_a_page_naming_session_store() {
    let app = spawn_app().await;
    app.provider().behave(|b| {
        b.extra_claims
            .insert("https://example.com/groups".into(), groups_claim(10));
    });
    let response = app.login().await;
    assert_eq!(
        response.status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    assert!(
        session_chunks(&response).is_empty(),
        "nothing of the oversized session may be sent: {:?}",
        set_cookies(&response)
    );
    let html = response.text().await.unwrap();
    assert_eq!(error_code(&html), "session_too_large");
    assert!(html.contains("SESSION_STORE=redis://"), "{html}");
    assert!(app.page("/").await.contains("Welcome Guest"));
}

/// Sends `cookies` (`name=value` each) to `/` and answers (status, body, Set-Cookies).
async fn home_with(app: &TestApp, cookies: &[String]) -> (StatusCode, String, Vec<String>) {
    let response = app.get_with_cookie("/", &cookies.join("; ")).await;
    let set = set_cookies(&response);
    (response.status(), response.text().await.unwrap(), set)
}

#[tokio::test]
async fn a_missing_or_tampered_chunk_reads_as_a_guest_and_every_chunk_is_deleted() {
    let app = spawn_app().await;
    app.provider().behave(|b| {
        b.extra_claims
            .insert("https://example.com/groups".into(), groups_claim(5));
    });
    let chunks = session_chunks(&app.login().await);
    assert_eq!(chunks.len(), 2, "{chunks:?}");
    let (_, html, _) = home_with(&app, &chunks).await;
    assert!(html.contains("Jane Doe"), "both chunks read back");

    let mut tampered = chunks.clone();
    let mut bytes = tampered[1].clone().into_bytes();
    let mid = bytes.len() / 2;
    bytes[mid] = if bytes[mid] == b'A' { b'B' } else { b'A' };
    tampered[1] = String::from_utf8(bytes).unwrap();
    let swapped = vec![
        chunks[1].replacen(".1=", "=2.", 1),
        chunks[0].replacen("=2.", ".1=", 1),
    ];
    for (what, cookies) in [
        ("only the first", vec![chunks[0].clone()]),
        ("only the second", vec![chunks[1].clone()]),
        ("the second tampered", tampered),
        ("the chunks swapped", swapped),
    ] {
        let (status, html, set) = home_with(&app, &cookies).await;
        assert_eq!(status, StatusCode::OK, "{what}");
        assert!(html.contains("Welcome Guest"), "{what}");
        for cookie in &cookies {
            let name = cookie.split('=').next().unwrap();
            assert!(
                set.iter()
                    .any(|c| c.starts_with(&format!("{name}=;")) && c.contains("Max-Age=0")),
                "{what}: {name} not deleted: {set:?}"
            );
        }
    }
}

#[tokio::test]
async fn stale_chunks_are_deleted_when_the_session_shrinks() {
    let app = spawn_app().await;
    app.provider().behave(|b| {
        b.extra_claims
            .insert("https://example.com/groups".into(), groups_claim(5));
    });
    let client = app.client.clone();
    assert!(session_chunks(&app.login().await).len() >= 2);
    app.provider().behave(|b| b.extra_claims.clear());
    // A second login in the same browser: a small session now, in one cookie.
    let response = app.login_with(&client, "/login", "jane").await;
    let set = set_cookies(&response);
    assert!(
        set.iter()
            .any(|c| c.starts_with(&format!("{COOKIE_NAME}.1=;")) && c.contains("Max-Age=0")),
        "the second chunk must be deleted: {set:?}"
    );
    assert_eq!(session_chunks(&response).len(), 1);
    assert!(app.page("/").await.contains("Jane Doe"));
    // A chunk the first cookie does not announce is stale even on a page view.
    let one = session_chunks(&response).remove(0);
    let (_, html, set) = home_with(&app, &[one, format!("{COOKIE_NAME}.1=leftover")]).await;
    assert!(html.contains("Jane Doe"));
    assert!(
        set.iter()
            .any(|c| c.starts_with(&format!("{COOKIE_NAME}.1=;"))),
        "{set:?}"
    );
}

#[tokio::test]
async fn the_session_keeps_the_profile_but_not_the_id_token() {
    let app = spawn_app().await;
    let response = app.login().await;
    let cookie = session_cookie(&response);
    let value = cookie.split(';').next().unwrap().split_once('=').unwrap().1;
    let (user, logins) = open_session_cookie(value);
    let user = user.expect("a user in the session");
    assert_eq!(user.claim("name"), Some("Jane Doe"), "{user:?}");
    assert!(
        user.sid.is_some(),
        "the provider's sid, for logout_hint: {user:?}"
    );
    assert!(logins.is_empty(), "the finished login was removed");
    let everything = serde_json::to_string(&user).unwrap();
    assert!(
        !everything.contains("eyJ"),
        "no token (ID or access) in the cookie: {everything}"
    );
}

#[tokio::test]
async fn pages_carry_security_headers_and_no_cache() {
    let app = spawn_app().await;
    let response = app.get("/").await;
    let h = response.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cache-control"], "no-store");
    let again = app.get("/").await;
    assert_ne!(
        h["x-request-id"],
        again.headers()["x-request-id"],
        "each request gets its own id"
    );
    let css = app.get("/static/style.css").await;
    assert_eq!(css.status(), StatusCode::OK);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}

#[tokio::test]
async fn profile_values_are_escaped() {
    let app = spawn_app().await;
    let authorize = app.start_login(&app.client, "/login").await;
    let callback = app
        .decide(
            &app.client,
            &authorize,
            &[("name", "<script>alert(1)</script> Bob")],
        )
        .await;
    app.client.get(callback).send().await.unwrap();
    let html = app.page("/").await;
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62; Bob")
            || html.contains("&lt;script&gt;"),
        "{html}"
    );
}
