//! Back-channel logout against Redis: the demo provider signs and POSTs logout tokens as Auth0
//! does. By `sid` one session ends; by `sub` all of that user's; a replayed `jti` is refused; each
//! kind of invalid token gets 400 naming the check and ends nothing.

use auth0_demo_idp::keys::{DEMO_KID_1, FOREIGN_KID, SigningKey};
use reqwest::StatusCode;
use serde_json::{Map, Value, json};

use crate::server::{RedisServer, spawn_redis_app};
use crate::sessions::{logged_in_as, session_cookie_of};
use crate::support::*;

/// Logs `user` in from a fresh browser: its session cookie and the provider's `sid`.
async fn browser_login(app: &TestApp, user: &str) -> (String, String) {
    let response = app.login_with(&cookie_client(), "/login", user).await;
    let (sid, _) = app.provider().last_session().unwrap();
    (session_cookie_of(&response), sid)
}

#[tokio::test]
async fn a_logout_token_with_a_sid_ends_that_session_only() {
    let redis = RedisServer::start();
    let app = spawn_redis_app(&redis).await;
    let (laptop, laptop_sid) = browser_login(&app, "jane").await;
    let (phone, _) = browser_login(&app, "jane").await;
    let (status, body) = app.provider().end_session(&laptop_sid).await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(
        !logged_in_as(&app, &laptop, "Jane Doe").await,
        "the ended session"
    );
    assert!(
        logged_in_as(&app, &phone, "Jane Doe").await,
        "another session of hers"
    );
}

#[tokio::test]
async fn a_logout_token_with_only_a_sid_is_valid_and_ends_that_session() {
    let redis = RedisServer::start();
    let app = spawn_redis_app(&redis).await;
    let (cookie, sid) = browser_login(&app, "jane").await;
    let provider = app.provider();
    let token = provider.sign_logout_token(&provider.logout_claims(Some(&sid), None));
    let (status, body) = provider.send_logout_token(&token).await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(!logged_in_as(&app, &cookie, "Jane Doe").await);
}

#[tokio::test]
async fn a_logout_token_with_only_a_sub_ends_every_session_of_that_user() {
    let redis = RedisServer::start();
    let app = spawn_redis_app(&redis).await;
    let (laptop, _) = browser_login(&app, "jane").await;
    let (phone, _) = browser_login(&app, "jane").await;
    let (raj, _) = browser_login(&app, "raj").await;
    let provider = app.provider();
    let token = provider.sign_logout_token(&provider.logout_claims(None, Some("demo|jane")));
    let (status, _) = provider.send_logout_token(&token).await.unwrap();
    assert_eq!(status, 200);
    assert!(!logged_in_as(&app, &laptop, "Jane Doe").await);
    assert!(!logged_in_as(&app, &phone, "Jane Doe").await);
    assert!(
        logged_in_as(&app, &raj, "Raj Patel").await,
        "another user's session"
    );
}

#[tokio::test]
async fn the_answer_is_200_with_no_store_and_a_replayed_jti_is_refused() {
    let redis = RedisServer::start();
    let app = spawn_redis_app(&redis).await;
    browser_login(&app, "jane").await;
    let provider = app.provider();
    let token = provider.sign_logout_token(&provider.logout_claims(None, Some("demo|jane")));
    let response = app.post_logout_token(&token).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    // She logs in again; the same token, replayed, must not end the new session.
    let (again, _) = browser_login(&app, "jane").await;
    let (status, body) = provider.send_logout_token(&token).await.unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("jti"), "{body}");
    assert!(logged_in_as(&app, &again, "Jane Doe").await);
}

#[tokio::test]
async fn each_invalid_logout_token_is_refused_naming_the_check_and_ends_nothing() {
    let redis = RedisServer::start();
    let app = spawn_redis_app(&redis).await;
    let (cookie, sid) = browser_login(&app, "jane").await;
    let provider = app.provider();
    let valid = || provider.logout_claims(Some(&sid), Some("demo|jane"));
    let with = |change: &dyn Fn(&mut Map<String, Value>)| {
        let mut claims = valid();
        change(&mut claims);
        provider.sign_logout_token(&claims)
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "signed by another key",
            SigningKey::fixture(FOREIGN_KID).sign(&valid()),
            "KEY_RETRIEVAL_ERROR",
        ),
        (
            "another issuer",
            with(&|c| drop(c.insert("iss".into(), json!("https://evil.example.com/")))),
            "Issuer not allowed",
        ),
        (
            "another audience",
            with(&|c| drop(c.insert("aud".into(), json!("another-client")))),
            "Audience",
        ),
        (
            "expired",
            with(&|c| drop(c.insert("exp".into(), json!(1_000_000_000)))),
            "TIME_CONSTRAINT_FAILURE",
        ),
        ("no events", with(&|c| drop(c.remove("events"))), "events"),
        (
            "a nonce (an ID token)",
            with(&|c| drop(c.insert("nonce".into(), json!("n")))),
            "nonce",
        ),
        (
            "neither sid nor sub",
            with(&|c| {
                c.remove("sid");
                c.remove("sub");
            }),
            "sid/sub",
        ),
        ("no jti", with(&|c| drop(c.remove("jti"))), "jti"),
        ("no iat", with(&|c| drop(c.remove("iat"))), "iat"),
        ("not a JWT", "not-a-jwt".to_string(), "BAD_FORMAT"),
        (
            "typed as an access token",
            SigningKey::fixture(DEMO_KID_1).sign_with_header(
                json!({"alg": "RS256", "kid": DEMO_KID_1, "typ": "at+jwt"}),
                &valid(),
            ),
            "typ",
        ),
    ];
    for (what, token, named) in cases {
        let (status, body) = provider.send_logout_token(&token).await.unwrap();
        assert_eq!(status, 400, "{what}: {body}");
        assert!(body.contains(named), "{what}: {body}");
        assert!(
            logged_in_as(&app, &cookie, "Jane Doe").await,
            "{what} ended the session"
        );
    }
    let missing = reqwest::Client::new()
        .post(format!("{}/backchannel-logout", app.base))
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert!(logged_in_as(&app, &cookie, "Jane Doe").await);
}

/// When the sessions cannot be ended (here Redis refuses the ending script, by ACL), the answer
/// is 503 and the `jti` is not recorded, so the provider's retry of the same token is carried out.
#[tokio::test]
async fn a_logout_that_could_not_be_carried_out_can_be_retried_with_the_same_token() {
    use tower_sessions_redis_store::fred::prelude::ClientLike;
    use tower_sessions_redis_store::fred::types::{ClusterHash, CustomCommand};

    let redis = RedisServer::start();
    let app = spawn_redis_app(&redis).await;
    let (cookie, sid) = browser_login(&app, "jane").await;
    let provider = app.provider();
    let token = provider.sign_logout_token(&provider.logout_claims(Some(&sid), Some("demo|jane")));
    let client = redis.client().await;
    let acl = |rule: &'static str| {
        let client = client.clone();
        async move {
            let command = CustomCommand::new_static("ACL", ClusterHash::FirstKey, false);
            let _: () = client
                .custom(command, vec!["SETUSER", "default", rule])
                .await
                .unwrap();
        }
    };
    acl("-eval").await;
    let (status, body) = provider.send_logout_token(&token).await.unwrap();
    assert_eq!(status, 503, "{body}");
    assert!(
        logged_in_as(&app, &cookie, "Jane Doe").await,
        "nothing was ended"
    );
    acl("+eval").await;
    let (status, body) = provider.send_logout_token(&token).await.unwrap();
    assert_eq!(status, 200, "the retry is not a replay: {body}");
    assert!(!logged_in_as(&app, &cookie, "Jane Doe").await);
}

/// Redis stalls (SIGSTOP) longer than the command timeout while a logout token is handled: the
/// answer is 503 and nothing is ended. When Redis resumes, it runs what was queued during the
/// stall; the provider's retry of the same token must still be carried out, not refused as a
/// replay (before, the queued `SET NX` of the `jti` ran on resume, and the session never ended).
#[tokio::test]
async fn a_logout_that_met_a_redis_stall_is_carried_out_when_the_provider_retries() {
    let redis = RedisServer::start();
    let app = spawn_redis_app(&redis).await;
    let (cookie, sid) = browser_login(&app, "jane").await;
    let provider = app.provider();
    let token = provider.sign_logout_token(&provider.logout_claims(Some(&sid), Some("demo|jane")));
    redis.pause();
    let (status, body) = provider.send_logout_token(&token).await.unwrap();
    redis.resume();
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("nothing was ended"), "{body}");
    // Redis runs the queued commands; the provider retries a moment later.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let (status, body) = provider.send_logout_token(&token).await.unwrap();
    assert_eq!(status, 200, "the retry was refused: {body}");
    assert!(!logged_in_as(&app, &cookie, "Jane Doe").await);
    // And now it is a replay.
    let (status, body) = provider.send_logout_token(&token).await.unwrap();
    assert_eq!(status, 400, "{body}");
}
