//! Tokens that stay valid: refresh before expiry and only then, rotation, one refresh for
//! concurrent requests, a revoked refresh token back to login, /call-api, permissions.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

const API: &str = "https://api.example.com";

async fn api_app(offline: bool) -> TestApp {
    let scope = if offline {
        "openid profile email offline_access"
    } else {
        "openid profile email"
    };
    spawn_app_with(Options {
        audience: Some(API.into()),
        scope: scope.into(),
        ..Options::default()
    })
    .await
}

/// Logs in as `user` with access tokens living `lifetime` seconds.
async fn login_as(app: &TestApp, user: &str, lifetime: i64) -> String {
    app.provider()
        .behave(move |b| b.access_token_lifetime_secs = lifetime);
    let response = app.login_with(&app.client, "/login", user).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    first_cookie_value(&response)
}

/// `/call-api` as this app's browser: the page, and the API status it shows.
async fn call_api(app: &TestApp) -> (StatusCode, String) {
    let response = app.get("/call-api").await;
    let status = response.status();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn a_token_is_refreshed_only_when_it_expires_within_a_minute_and_the_rotated_one_is_used_next()
 {
    let app = api_app(true).await;
    login_as(&app, "jane", 3600).await;
    let (status, html) = call_api(&app).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(api_status(&html), "200", "{html}");
    assert_eq!(
        app.provider().refresh_count(),
        0,
        "an hour left: no refresh"
    );

    let app = api_app(true).await;
    let cookie = login_as(&app, "jane", 30).await;
    // For the README: the cookie with an access token and a refresh token in it.
    println!(
        "session cookie with tokens: {} bytes (name=value)",
        "auth0_session=".len() + cookie.len()
    );
    assert!("auth0_session=".len() + cookie.len() < 4096);
    let (first_user, _) = open_session_cookie(&cookie);
    let first_rt = first_user.unwrap().refresh_token.unwrap();
    let (_, html) = call_api(&app).await;
    assert_eq!(api_status(&html), "200", "{html}");
    assert_eq!(
        app.provider().refresh_count(),
        1,
        "30 s left: refreshed first"
    );
    // The new tokens are in the session (the provider rotated the refresh token)...
    let renewed = app.get("/").await;
    assert!(set_cookies(&renewed).is_empty());
    let (_, html) = call_api(&app).await;
    assert_eq!(
        api_status(&html),
        "200",
        "the rotated refresh token works: {html}"
    );
    assert_eq!(app.provider().refresh_count(), 2);
    // ...and the spent one does not work any more.
    let http = reqwest::Client::new();
    let spent = http
        .post(format!("http://{}/oauth/token", app.provider_addr))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", first_rt.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(spent.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn concurrent_requests_of_one_browser_share_one_refresh() {
    let app = api_app(true).await;
    let cookie = login_as(&app, "jane", 30).await;
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let url = format!("{}/call-api", app.base);
        let header = format!("auth0_session={cookie}");
        tasks.push(tokio::spawn(async move {
            let response = reqwest::Client::new()
                .get(url)
                .header("cookie", header)
                .send()
                .await
                .unwrap();
            (response.status(), response.text().await.unwrap())
        }));
    }
    for task in tasks {
        let (status, html) = task.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{html}");
        assert_eq!(api_status(&html), "200", "{html}");
    }
    assert_eq!(
        app.provider().refresh_count(),
        1,
        "one refresh for six requests"
    );
}

#[tokio::test]
async fn a_revoked_refresh_token_ends_the_session_and_goes_to_login() {
    let app = api_app(true).await;
    login_as(&app, "jane", 30).await;
    app.provider().revoke_refresh_tokens();
    let response = app.get("/call-api").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?returnTo=%2Fcall-api");
    assert!(
        app.page("/").await.contains("Welcome Guest"),
        "the session ended"
    );
}

#[tokio::test]
async fn a_refresh_the_provider_cannot_answer_keeps_the_session_and_calls_no_api() {
    let app = api_app(true).await;
    // A token that has already expired: nothing valid is left to call the API with.
    login_as(&app, "jane", 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    app.provider()
        .behave(|b| b.token_error = Some((503, "{}".into())));
    let response = app.get("/call-api").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    let html = response.text().await.unwrap();
    assert_eq!(error_code(&html), "token_refresh_failed");
    assert!(!html.contains("apiStatus"), "the API was called");
    assert!(
        app.page("/").await.contains("Welcome Jane Doe!"),
        "still logged in"
    );
    // Once the provider answers again, the next request refreshes (the outage is not kept).
    app.provider().behave(|b| b.token_error = None);
    let (_, html) = call_api(&app).await;
    assert_eq!(api_status(&html), "200", "{html}");
}

#[tokio::test]
async fn without_a_refresh_token_an_expiring_token_goes_through_a_silent_login_then_an_interactive_one()
 {
    let app = api_app(false).await;
    login_as(&app, "jane", 30).await;
    let response = app.get("/call-api").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&response),
        "/login?prompt=none&returnTo=%2Fcall-api"
    );
    // The demo provider has no session: login_required, and the logged-in user goes on to log in.
    let authorize = app.start_login(&app.client, &location(&response)).await;
    let answer = app.client.get(authorize).send().await.unwrap();
    let back = app.client.get(location(&answer)).send().await.unwrap();
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&back), "/login?returnTo=%2Fcall-api");
    assert_eq!(app.provider().refresh_count(), 0);
}

#[tokio::test]
async fn api_messages_needs_read_messages_and_says_so_like_rfc_6750() {
    let app = api_app(true).await;
    let now = auth0_axum::test_support::unix_now();
    let token = |extra: serde_json::Value| {
        let mut claims = json!({"iss": app.provider().issuer(), "sub": "auth0|x", "aud": API, "iat": now, "exp": now + 600});
        for (k, v) in extra.as_object().unwrap() {
            claims[k] = v.clone();
        }
        app.provider().sign(claims.as_object().unwrap())
    };
    let call = |t: Option<String>| {
        let url = format!("{}/api/messages", app.base);
        async move {
            let mut request = reqwest::Client::new().get(url);
            if let Some(t) = t {
                request = request.bearer_auth(t);
            }
            request.send().await.unwrap()
        }
    };
    let ok = call(Some(token(json!({"permissions": ["read:messages"]})))).await;
    assert_eq!(ok.status(), StatusCode::OK);
    let by_scope = call(Some(token(json!({"scope": "openid read:messages"})))).await;
    assert_eq!(by_scope.status(), StatusCode::OK);
    let without = call(Some(token(json!({"permissions": ["write:messages"]})))).await;
    assert_eq!(without.status(), StatusCode::FORBIDDEN);
    let challenge = without.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        challenge,
        format!(
            "Bearer realm=\"{}/api/messages\", error=\"insufficient_scope\", scope=\"read:messages\"",
            app.base
        )
    );
    let body: serde_json::Value = without.json().await.unwrap();
    assert_eq!(body["required"], "read:messages");
    let none = call(None).await;
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        none.json::<serde_json::Value>().await.unwrap()["message"],
        "Jwt is missing"
    );
}

#[tokio::test]
async fn a_page_behind_a_permission_lets_jane_in_and_tells_raj_why_not() {
    let app = api_app(true).await;
    login_as(&app, "jane", 3600).await;
    let page = app.get("/messages").await;
    assert_eq!(page.status(), StatusCode::OK);
    let other = api_app(true).await;
    login_as(&other, "raj", 3600).await;
    let response = other.get("/messages").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let html = response.text().await.unwrap();
    assert_eq!(error_code(&html), "insufficient_permission");
    assert!(html.contains("read:messages"), "{html}");
    assert!(html.contains("Auth0 dashboard"), "{html}");
}

/// In demo mode there is no dashboard to fix: the page says what to set for the demo.
#[tokio::test]
async fn in_demo_mode_the_permission_page_says_what_to_set_for_the_demo() {
    let app = spawn_app_with(Options {
        demo: true,
        ..Options::default()
    })
    .await;
    app.login().await;
    let response = app.get("/messages").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let html = response.text().await.unwrap();
    assert!(html.contains("AUTH0_AUDIENCE=https://api.demo"), "{html}");
    assert!(!html.contains("Auth0 dashboard"), "{html}");
    assert!(html.contains("Demo mode"), "the demo banner: {html}");
}

#[tokio::test]
async fn without_an_audience_call_api_says_what_to_set() {
    let app = spawn_app().await;
    app.login().await;
    let html = app.page("/call-api").await;
    assert!(
        html.contains(r#"id="callApiSetup""#) && html.contains("AUTH0_AUDIENCE"),
        "{html}"
    );
}

/// A debug-level log of a login, a refresh and a logout (the real binary), and the pages, hold no
/// token, no refresh token, no secret, no cookie.
#[tokio::test]
async fn no_token_is_ever_logged_or_shown_across_login_refresh_and_logout() {
    let port = free_port_now();
    let provider = provider_for_port(port).await;
    provider.behave(|b| b.access_token_lifetime_secs = 30);
    let mut env = tenant_env(&provider, port);
    env.push(("AUTH0_AUDIENCE", API.into()));
    env.push(("AUTH0_SCOPE", "openid profile email offline_access".into()));
    env.push(("RUST_LOG", "debug".into()));
    let mut running = Running::start(&[], &std::env::temp_dir(), &env, None);
    let app = TestApp::for_process(&running.base, provider);
    let login = app.login().await;
    let cookie = first_cookie_value(&login);
    let (user, _) = open_session_cookie(&cookie);
    let user = user.unwrap();
    let mut secrets = vec![
        CLIENT_SECRET.to_string(),
        SECRET_KEY.to_string(),
        cookie.clone(),
        "eyJ".to_string(),
        user.refresh_token.clone().unwrap(),
    ];
    let page = app.page("/call-api").await;
    assert_eq!(api_status(&page), "200", "{page}");
    assert_eq!(app.provider().refresh_count(), 1);
    let home = app.page("/").await;
    assert_eq!(app.get("/logout").await.status(), StatusCode::SEE_OTHER);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let lines = running.output().to_vec();
    assert!(
        lines.iter().any(|l| l.contains("access token refreshed")),
        "no refresh logged"
    );
    secrets.push(user.access_token.clone().unwrap());
    for secret in &secrets {
        for line in &lines {
            assert!(
                !line.contains(secret.as_str()),
                "{secret:?} in the log: {line}"
            );
        }
        for html in [&page, &home] {
            assert!(!html.contains(secret.as_str()), "{secret:?} on a page");
        }
    }
}

/// With `AUTH0_ROLES_CLAIM`, a role an Action puts in the ID token counts as the permission.
#[tokio::test]
async fn a_role_in_the_configured_roles_claim_counts_too() {
    const CLAIM: &str = "https://example.com/roles";
    let app = spawn_app_with(Options {
        roles_claim: Some(CLAIM.into()),
        ..Options::default()
    })
    .await;
    app.provider().behave(|b| {
        b.extra_claims
            .insert(CLAIM.into(), json!(["read:messages"]));
    });
    assert_eq!(
        app.login_with(&app.client, "/login", "raj").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.get("/messages").await.status(),
        StatusCode::OK,
        "raj has the role"
    );
    let other = spawn_app_with(Options {
        roles_claim: Some(CLAIM.into()),
        ..Options::default()
    })
    .await;
    other.provider().behave(|b| {
        b.extra_claims.insert(CLAIM.into(), json!(["admin"]));
    });
    other.login_with(&other.client, "/login", "raj").await;
    assert_eq!(other.get("/messages").await.status(), StatusCode::FORBIDDEN);
}

/// A token endpoint that hangs: the first `/call-api` that needs a refresh waits out the
/// refresh's own bound (5 s, not the whole 10 s of the HTTP client), and the ones after it, for a
/// few seconds, get the same answer at once instead of each waiting again.
#[tokio::test]
async fn a_hanging_token_endpoint_is_waited_for_once_not_at_every_call_api() {
    use std::time::{Duration, Instant};
    let app = api_app(true).await;
    // An expired token: the refresh is needed, nothing valid is left to fall back on.
    login_as(&app, "jane", 1).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    app.provider().behave(|b| b.token_delay_ms = 60_000);
    let started = Instant::now();
    let response = app.get("/call-api").await;
    let first = started.elapsed();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        error_code(&response.text().await.unwrap()),
        "token_refresh_failed"
    );
    assert!(
        first >= Duration::from_secs(4) && first < Duration::from_secs(8),
        "the first waited {first:?}"
    );
    for _ in 0..3 {
        let started = Instant::now();
        let response = app.get("/call-api").await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "a later request waited {:?} again",
            started.elapsed()
        );
    }
    assert!(
        app.page("/").await.contains("Welcome Jane Doe!"),
        "still logged in"
    );
}

/// An API that answers without end (150 MB and more): `/call-api` reads the 16 KB it shows and
/// stops; the page comes back at once and the rest is never read.
#[tokio::test]
async fn an_endless_api_answer_is_read_only_as_far_as_it_is_shown() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = listener.local_addr().unwrap();
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut head = [0u8; 4096];
                let _ = stream.read(&mut head).await;
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 157286400\r\n\r\n")
                    .await;
                let chunk = vec![b'x'; 64 * 1024];
                while stream.write_all(&chunk).await.is_ok() {
                    counter.fetch_add(chunk.len(), Ordering::Relaxed);
                }
            });
        }
    });
    let app = spawn_app_with(Options {
        audience: Some(API.into()),
        api_url: Some(format!("http://{api}/endless")),
        ..Options::default()
    })
    .await;
    login_as(&app, "jane", 3600).await;
    let started = Instant::now();
    let (status, html) = call_api(&app).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(api_status(&html), "200", "{html}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let shown = html.matches('x').count();
    assert!(
        (16 * 1024..20 * 1024).contains(&shown),
        "{shown} bytes shown"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let read = sent.load(Ordering::Relaxed);
    assert!(
        read < 16 * 1024 * 1024,
        "{read} bytes of the answer were taken in, not the 16 KB shown"
    );
}

/// Auth0's rate limit (429 `too_many_requests` with `x-ratelimit-*`) is not a refusal: at a
/// refresh, the current token serves while it is valid; once it has expired, a 503 says when to
/// try again (`Retry-After` from `x-ratelimit-reset`); the user stays logged in either way.
#[tokio::test]
async fn a_rate_limited_refresh_keeps_using_the_valid_token_then_answers_503_with_retry_after() {
    let app = api_app(true).await;
    login_as(&app, "jane", 3).await;
    app.provider()
        .behave(|b| b.rate_limited_for_secs = Some(30));
    // 3 s left (inside the refresh window): the refresh is refused 429, the API is still called.
    let (status, html) = call_api(&app).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(api_status(&html), "200", "{html}");
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let response = app.get("/call-api").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((20..=31).contains(&retry), "Retry-After {retry}");
    let html = response.text().await.unwrap();
    assert_eq!(error_code(&html), "rate_limited", "{html}");
    assert!(html.contains("limiting requests"), "{html}");
    assert!(
        app.page("/").await.contains("Welcome Jane Doe!"),
        "logged out by a rate limit"
    );
}

/// A 5xx at a refresh with a token still valid: the current token serves.
#[tokio::test]
async fn an_outage_at_a_refresh_keeps_using_the_valid_token() {
    let app = api_app(true).await;
    login_as(&app, "jane", 30).await;
    app.provider()
        .behave(|b| b.token_error = Some((503, "{}".into())));
    let (status, html) = call_api(&app).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(api_status(&html), "200", "{html}");
}

/// Logout revokes the refresh token at the tenant (RFC 7009, authenticated as a token request):
/// a copy of the session taken before cannot renew its tokens any more.
#[tokio::test]
async fn logout_revokes_the_refresh_token_at_the_provider() {
    let app = api_app(true).await;
    let copy = login_as(&app, "jane", 30).await;
    let logout = app.get("/logout").await;
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.provider().revocation_count(),
        1,
        "the refresh token was not revoked"
    );
    // The copy (cookie mode: it still opens) can no longer refresh: the refusal ends it.
    let response = app
        .get_with_cookie(
            "/call-api",
            &format!("{}={copy}", auth0_axum::test_support::COOKIE_NAME),
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.text().await.unwrap()
    );
    assert_eq!(app.provider().refresh_count(), 1, "one refused refresh");
}

/// A copy of the cookie taken before a refresh, used after it, presents the spent refresh token:
/// the app does not hand it the new tokens (no answer memory keyed by the refresh token), so the
/// provider's reuse detection sees it, refuses it, and revokes the family: the copy is logged out,
/// and so is the session it was copied from at its next refresh (Auth0's rotation semantics).
#[tokio::test]
async fn a_copied_cookie_from_before_a_refresh_trips_the_providers_reuse_detection() {
    let app = api_app(true).await;
    let copy = login_as(&app, "jane", 30).await;
    let copy = format!("{}={copy}", auth0_axum::test_support::COOKIE_NAME);
    let (status, html) = call_api(&app).await;
    assert_eq!(
        (status, api_status(&html)),
        (StatusCode::OK, "200"),
        "{html}"
    );
    assert_eq!(app.provider().refresh_count(), 1);
    let stolen = app.get_with_cookie("/call-api", &copy).await;
    assert_eq!(
        stolen.status(),
        StatusCode::SEE_OTHER,
        "the copy got tokens"
    );
    assert_eq!(app.provider().reuse_detection_count(), 1);
    // The family is revoked: the original session's next refresh is refused too.
    let response = app.get("/call-api").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/login"));
}
