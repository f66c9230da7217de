//! Logout CSRF: another site cannot log the user out. A cross-site `GET /logout` gets a "Log out?"
//! page; `POST /logout` is accepted only from this origin; the app's own link logs out in one step.

use reqwest::StatusCode;

use crate::support::*;

async fn logged_in() -> TestApp {
    let app = spawn_app().await;
    assert_eq!(app.login().await.status(), StatusCode::SEE_OTHER);
    app
}

async fn still_logged_in(app: &TestApp) -> bool {
    app.page("/").await.contains("Welcome Jane Doe!")
}

#[tokio::test]
async fn a_cross_site_logout_link_asks_first_and_logs_nobody_out() {
    for (header, value) in [
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
        ("origin", "https://evil.example"),
    ] {
        let app = logged_in().await;
        let response = app
            .client
            .get(format!("{}/logout", app.base))
            .header(header, value)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{header}: {value}");
        assert!(set_cookies(&response).is_empty(), "the session was touched");
        let html = response.text().await.unwrap();
        assert!(html.contains("id=\"logoutConfirm\""), "{html}");
        assert!(
            html.contains("/static/style.css") && html.contains("action=\"/logout\""),
            "asked in the app's layout: {html}"
        );
        assert!(
            html.contains(r#"<form method="post" action="/logout">"#),
            "{html}"
        );
        assert!(
            still_logged_in(&app).await,
            "{header}: {value} logged the user out"
        );
    }
}

#[tokio::test]
async fn the_apps_own_logout_link_logs_out_in_one_step() {
    for headers in [
        vec![("sec-fetch-site", "same-origin")],
        vec![("sec-fetch-site", "none")], // typed into the address bar
        vec![],                           // a client that sends no fetch metadata
    ] {
        let app = logged_in().await;
        let mut request = app.client.get(format!("{}/logout", app.base));
        for (k, v) in &headers {
            request = request.header(*k, *v);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{headers:?}");
        assert!(location(&response).contains("oidc/logout?"));
        assert!(!still_logged_in(&app).await, "{headers:?}: still logged in");
    }
}

#[tokio::test]
async fn a_logout_posted_from_another_origin_is_refused() {
    for (header, value) in [
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
        ("x-nothing", "no origin, no fetch metadata"),
    ] {
        let app = logged_in().await;
        let response = app
            .client
            .post(format!("{}/logout", app.base))
            .header(header, value)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{header}: {value}"
        );
        assert_eq!(
            error_code(&response.text().await.unwrap()),
            "logout_cross_site"
        );
        assert!(
            still_logged_in(&app).await,
            "{header}: {value} logged the user out"
        );
    }
}

#[tokio::test]
async fn the_confirm_button_posts_a_same_origin_logout() {
    let app = logged_in().await;
    // What Chromium sends for the confirm form under `Referrer-Policy: no-referrer`.
    let response = app
        .client
        .post(format!("{}/logout", app.base))
        .header("origin", "null")
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(!still_logged_in(&app).await);
    // And an explicit Origin of the app's own (the test app's base is http://127.0.0.1:PORT).
    let app = logged_in().await;
    let response = app
        .client
        .post(format!("{}/logout", app.base))
        .header("origin", app.base.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(!still_logged_in(&app).await);
}
