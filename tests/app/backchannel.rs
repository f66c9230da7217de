//! `POST /backchannel-logout` in cookie mode (the default): the app keeps no session it could end,
//! so it says so (501) and names the setting that would; the session is untouched. The Redis
//! suite (tests/redis) tests back-channel logout itself.

use reqwest::StatusCode;

use crate::support::*;

#[tokio::test]
async fn in_cookie_mode_backchannel_logout_answers_501_naming_session_store() {
    let app = spawn_app().await;
    app.login().await;
    let (sid, sub) = app.provider().last_session().unwrap();
    let provider = app.provider();
    let token = provider.sign_logout_token(&provider.logout_claims(Some(&sid), Some(&sub)));
    let response = app.post_logout_token(&token).await;
    assert_eq!(response.status(), StatusCode::NOT_IMPLEMENTED);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = response.text().await.unwrap();
    assert!(body.contains("SESSION_STORE=redis://"), "{body}");
    assert!(
        app.page("/").await.contains("Jane Doe"),
        "nothing was ended"
    );
}
