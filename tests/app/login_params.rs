//! Auth0 as it really is, part two: the login parameters users expect, silent login, and the
//! callback paths users really hit.

use reqwest::StatusCode;

use crate::support::*;

use crate::auth0_edges::{authorize_answer, login_editing};

// ---- 3. Login parameters ----

#[tokio::test]
async fn the_login_parameters_users_expect_are_passed_on_after_a_shape_check() {
    let app = spawn_app().await;
    let authorize = app
        .start_login(
            &app.client,
            "/login?login_hint=jane%40example.com&ui_locales=fr-CA%20en&connection=google-oauth2&max_age=300&acr_values=http%3A%2F%2Fschemas.openid.net%2Fpape%2Fpolicies%2F2007%2F06%2Fmulti-factor&screen_hint=signup",
        )
        .await;
    for (name, value) in [
        ("login_hint", "jane@example.com"),
        ("ui_locales", "fr-CA en"),
        ("connection", "google-oauth2"),
        ("max_age", "300"),
        (
            "acr_values",
            "http://schemas.openid.net/pape/policies/2007/06/multi-factor",
        ),
        ("screen_hint", "signup"),
    ] {
        assert_eq!(param(&authorize, name).as_deref(), Some(value), "{name}");
    }
    // A bad value is refused before any I/O: even with the provider down, a 400, not a 503.
    let down = spawn_app_with(Options {
        provider_down: true,
        ..Options::default()
    })
    .await;
    for bad in [
        "max_age=-5",
        "login_hint=a%0Ab",
        "connection=a%20b",
        "ui_locales=%3Cx%3E",
        "prompt=bad",
    ] {
        let response = down.get(&format!("/login?{bad}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn max_age_requires_a_recent_auth_time_and_the_session_keeps_how_the_user_logged_in() {
    let app = spawn_app().await;
    app.provider().behave(|b| b.auth_time_offset_secs = -3600);
    let (status, html) = login_editing(&app, "/login?max_age=300", |u| u.to_string()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{html}");
    assert_eq!(error_code(&html), "auth_time_too_old");
    assert!(html.contains("auth_time"), "{html}");

    app.provider().behave(|b| b.auth_time_offset_secs = 0);
    let (status, _) = login_editing(&app, "/login?max_age=300&acr_values=http%3A%2F%2Fschemas.openid.net%2Fpape%2Fpolicies%2F2007%2F06%2Fmulti-factor", |u| u.to_string()).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let account = app.page("/account").await;
    assert!(
        account.contains("multi-factor") && account.contains("mfa"),
        "{account}"
    );
}

#[tokio::test]
async fn a_page_that_needs_a_recent_login_sends_an_old_one_to_log_in_again() {
    let app = spawn_app().await;
    app.provider().behave(|b| b.auth_time_offset_secs = -3600);
    assert_eq!(app.login().await.status(), StatusCode::SEE_OTHER);
    let response = app.get("/account").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&response),
        "/login?max_age=600&returnTo=%2Faccount"
    );
    assert!(
        app.page("/").await.contains("Welcome Jane Doe!"),
        "still logged in meanwhile"
    );
}

// ---- 4. Silent login ----

#[tokio::test]
async fn a_silent_login_that_needs_the_user_returns_as_a_guest_without_an_error_or_a_loop() {
    let app = spawn_app().await;
    let authorize = app
        .start_login(&app.client, "/login?prompt=none&returnTo=%2Fabout%3Fx%3D1")
        .await;
    let answer = app.client.get(authorize).send().await.unwrap();
    let callback = location(&answer);
    assert_eq!(param(&callback, "error").as_deref(), Some("login_required"));
    let response = app.client.get(callback).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/about?x=1", "back where it was");
    assert_eq!(app.provider().token_request_count(), 0);
    assert!(app.page("/").await.contains("Welcome Guest"));
    // Without prompt=none the same answer is an error page.
    let (_, html) = authorize_answer("login_required", "Login required").await;
    assert_eq!(error_code(&html), "provider_error");
}

// ---- 5. The callback paths users hit ----

#[tokio::test]
async fn error_pages_show_who_is_logged_in_and_unknown_paths_get_a_styled_404() {
    let app = spawn_app().await;
    app.login().await;
    let response = app.get("/login?prompt=bad").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(
        html.contains(r#"<span class="who">Jane Doe</span>"#),
        "{html}"
    );
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let html = response.text().await.unwrap();
    assert_eq!(error_code(&html), "not_found");
    assert!(
        html.contains(r#"href="/""#)
            && html.contains("/static/style.css")
            && html.contains("favicon"),
        "{html}"
    );
}

#[tokio::test]
async fn login_on_the_other_loopback_name_moves_to_app_base_url_first() {
    let app = spawn_app().await; // APP_BASE_URL is http://127.0.0.1:PORT
    let response = app
        .client
        .get(format!("{}/login?returnTo=%2Fprofile", app.base))
        .header("host", format!("localhost:{}", app.addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        location(&response),
        format!(
            "http://127.0.0.1:{}/login?returnTo=%2Fprofile",
            app.addr.port()
        )
    );
    // A proxy's own Host (not a loopback name) is left alone.
    let response = app
        .client
        .get(format!("{}/login", app.base))
        .header("host", "internal:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_login_with_every_parameter_stays_small() {
    let app = spawn_app().await;
    let response = app
        .get("/login?organization=org_abc123&max_age=300&prompt=login&login_hint=jane%40example.com&ui_locales=fr&connection=Username-Password-Authentication&returnTo=%2Fprofile")
        .await;
    let value = first_cookie_value(&response);
    let (_, logins) = open_session_cookie(&value);
    let stored = logins[0].stored_len();
    assert!(
        stored < 320,
        "a login in progress costs {stored} bytes: {:?}",
        logins[0]
    );
    assert_eq!(logins[0].organization.as_deref(), Some("org_abc123"));
    assert_eq!(logins[0].max_age, Some(300));
}

/// Discovery that never answers (a hung tenant or network) is an outage too, not a wrong domain.
#[tokio::test]
async fn a_discovery_that_times_out_is_called_an_outage() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    // Accepts and never answers.
    let _hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(300))
        .build()
        .unwrap();
    let provider = auth0_axum::test_support::Provider::for_base(
        &url::Url::parse(&format!("http://{addr}/")).unwrap(),
        http,
    );
    let failure = provider.metadata().await.unwrap_err();
    assert!(failure.reason.contains("timed out"), "{failure:?}");
    assert!(
        failure.hint.contains("outage") && !failure.hint.contains("AUTH0_DOMAIN must be"),
        "{failure:?}"
    );
}
