//! `AUTH0_USERINFO`: a login asks `/userinfo` only when the ID token lacks a claim the scope asked
//! for (auto, the default: Auth0's ID tokens carry the profile, so a login makes one request
//! fewer), or always, or never.

use crate::support::*;

async fn app_with(userinfo: &'static str) -> TestApp {
    spawn_app_with(Options {
        userinfo,
        ..Options::default()
    })
    .await
}

#[tokio::test]
async fn with_the_profile_in_the_id_token_a_login_does_not_call_userinfo() {
    let app = app_with("auto").await;
    app.login().await;
    assert_eq!(app.provider().userinfo_count(), 0);
    let html = app.page("/").await;
    assert!(
        html.contains("Jane Doe") && html.contains("jane.doe@example.com"),
        "{html}"
    );
}

#[tokio::test]
async fn an_id_token_without_a_scope_s_claims_makes_the_login_call_userinfo() {
    let app = app_with("auto").await;
    app.provider()
        .behave(|b| b.id_token_omits = vec!["email".into(), "email_verified".into()]);
    app.login().await;
    assert_eq!(app.provider().userinfo_count(), 1);
    assert!(
        app.page("/").await.contains("jane.doe@example.com"),
        "email from userinfo"
    );
}

#[tokio::test]
async fn always_and_never_mean_what_they_say() {
    let always = app_with("always").await;
    always.login().await;
    assert_eq!(always.provider().userinfo_count(), 1);
    let never = app_with("never").await;
    never
        .provider()
        .behave(|b| b.id_token_omits = vec!["email".into()]);
    never.login().await;
    assert_eq!(never.provider().userinfo_count(), 0);
    assert!(!never.page("/").await.contains("jane.doe@example.com"));
}
