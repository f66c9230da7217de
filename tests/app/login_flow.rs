//! The happy paths: login → home → profile → logout, returnTo, two tabs, logout variants.

use reqwest::StatusCode;

use crate::support::*;

#[tokio::test]
async fn full_login_home_profile_logout_flow() {
    let app = spawn_app().await;
    let home = app.page("/").await;
    assert!(home.contains("Welcome Guest"));
    assert!(home.contains(r#"id="qsLoginBtn""#));

    let callback = app.login().await;
    assert_eq!(callback.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&callback), "/");

    let home = app.page("/").await;
    assert!(home.contains("Welcome Jane Doe!"), "{home}");
    assert!(home.contains(r#"id="qsLogoutBtn""#));
    assert!(
        home.contains("&#34;email&#34;: &#34;jane.doe@example.com&#34;"),
        "pretty JSON, escaped"
    );
    assert!(home.contains("/avatar/"), "the picture is shown");

    let profile = app.get("/profile").await;
    assert_eq!(profile.status(), StatusCode::OK);
    assert!(
        profile
            .text()
            .await
            .unwrap()
            .contains(r#"<h1 id="profileName">Jane Doe</h1>"#)
    );

    let logout = app.get("/logout").await;
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    let target = location(&logout);
    assert!(
        target.starts_with(&format!("{}oidc/logout?", app.provider().issuer())),
        "{target}"
    );
    // By client_id and the provider's session id: no ID token is kept to send as a hint.
    assert!(!target.contains("id_token_hint"), "{target}");
    assert!(target.contains("logout_hint="), "{target}");
    assert!(target.contains(&format!(
        "post_logout_redirect_uri={}",
        urlencode(&app.base)
    )));
    assert!(target.contains("client_id=test-client"));
    assert!(
        set_cookies(&logout)
            .iter()
            .any(|c| c.starts_with("auth0_session=;") && c.contains("Max-Age=0"))
    );
    // The provider accepts the return URL and sends the browser home.
    let back = app.client.get(&target).send().await.unwrap();
    assert_eq!(location(&back), app.base);

    assert!(app.page("/").await.contains("Welcome Guest"));
    let profile = app.get("/profile").await;
    assert_eq!(location(&profile), "/login?returnTo=%2Fprofile");
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn logout_uses_v2_logout_when_there_is_no_end_session_endpoint() {
    let app = spawn_app().await;
    app.provider().behave(|b| b.advertise_end_session = false);
    app.login().await;
    let target = location(&app.get("/logout").await);
    assert!(
        target.starts_with(&format!("{}v2/logout?returnTo=", app.provider().issuer())),
        "{target}"
    );
    assert!(target.contains("client_id=test-client"));
    assert!(!target.contains("id_token_hint"));
    assert_eq!(
        location(&app.client.get(&target).send().await.unwrap()),
        app.base
    );
}

#[tokio::test]
async fn logout_still_clears_the_session_when_the_provider_is_down() {
    let mut app = spawn_app().await;
    app.login().await;
    // Metadata is cached, so logout still knows where to go; the local session ends regardless.
    app.provider.take().unwrap().stop();
    let logout = app.get("/logout").await;
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    assert!(app.page("/").await.contains("Welcome Guest"));
}

#[tokio::test]
async fn profile_requires_login_and_return_to_lands_back_there() {
    let app = spawn_app().await;
    let redirect = app.get("/profile?tab=emails").await;
    assert_eq!(redirect.status(), StatusCode::SEE_OTHER);
    let login_path = location(&redirect);
    assert_eq!(login_path, "/login?returnTo=%2Fprofile%3Ftab%3Demails");
    let callback = app.login_with(&app.client, &login_path, "raj").await;
    assert_eq!(location(&callback), "/profile?tab=emails");
    assert!(app.page("/profile").await.contains("Raj Patel"));
}

#[tokio::test]
async fn return_to_refuses_every_non_local_form() {
    let app = spawn_app().await;
    for bad in [
        "//evil.example",
        "/%5Cevil.example",
        "https://evil.example/",
        "evil.example",
        "/a%0D%0ALocation:x",
        "/%09/evil",
    ] {
        let response = app.get(&format!("/login?returnTo={bad}")).await;
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "{bad} was accepted"
        );
        assert_eq!(
            error_code(&response.text().await.unwrap()),
            "invalid_return_to",
            "{bad}"
        );
    }
}

#[tokio::test]
async fn two_logins_started_in_two_tabs_both_complete() {
    let app = spawn_app().await;
    let tab_a = app.start_login(&app.client, "/login?returnTo=/a").await;
    let tab_b = app.start_login(&app.client, "/login?returnTo=/b").await;
    let callback_a = app.decide(&app.client, &tab_a, &[("user", "jane")]).await;
    let callback_b = app.decide(&app.client, &tab_b, &[("user", "jane")]).await;
    let done_a = app.client.get(callback_a).send().await.unwrap();
    assert_eq!(location(&done_a), "/a");
    let done_b = app.client.get(callback_b).send().await.unwrap();
    assert_eq!(
        done_b.status(),
        StatusCode::SEE_OTHER,
        "{}",
        done_b.text().await.unwrap()
    );
    assert_eq!(location(&done_b), "/b");
    assert!(app.page("/").await.contains("Welcome Jane Doe!"));
}

#[tokio::test]
async fn login_passes_auth0_parameters_and_sends_pkce_state_nonce() {
    let app = spawn_app_with(Options {
        audience: Some("https://api.example.com".into()),
        ..Options::default()
    })
    .await;
    let url = app
        .start_login(
            &app.client,
            "/login?screen_hint=signup&organization=org_123&invitation=inv_9&prompt=login",
        )
        .await;
    let url = url::Url::parse(&url).unwrap();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    for (k, v) in [
        ("screen_hint", "signup"),
        ("organization", "org_123"),
        ("invitation", "inv_9"),
        ("prompt", "login"),
        ("audience", "https://api.example.com"),
        ("code_challenge_method", "S256"),
        ("response_type", "code"),
        ("scope", "openid profile email"),
    ] {
        assert_eq!(q.get(k).map(String::as_str), Some(v), "{k}");
    }
    assert_eq!(q["redirect_uri"], format!("{}/callback", app.base));
    for k in ["state", "nonce", "code_challenge"] {
        assert!(q[k].len() >= 22, "{k} is too short to be random");
    }
    let bad = app.get("/login?prompt=everything").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_redirect_uri_comes_from_configuration_not_the_host_header() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/login", app.base))
        .header("Host", "evil.example")
        .header("X-Forwarded-Host", "evil.example")
        .send()
        .await
        .unwrap();
    let url = location(&response);
    assert!(!url.contains("evil.example"), "{url}");
    assert!(url.contains(&urlencode(&format!("{}/callback", app.base))));
}

#[tokio::test]
async fn an_authenticated_page_view_calls_nothing_at_the_provider() {
    let app = spawn_app().await;
    app.login().await;
    let before = app.provider().request_count();
    let jwks_before = app.provider().jwks_fetch_count();
    for path in ["/", "/profile", "/", "/api/me"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(
            set_cookies(&response).is_empty(),
            "{path} rewrote the session cookie"
        );
    }
    assert!(app.page("/").await.contains("Welcome Jane Doe!"));
    assert_eq!(
        app.provider().request_count(),
        before,
        "page views must not call the provider (discovery, JWKS, userinfo)"
    );
    assert_eq!(app.provider().jwks_fetch_count(), jwks_before);
}
