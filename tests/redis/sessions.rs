//! Sessions in Redis: the cookie holds only an id, logout deletes the record (a copied cookie is
//! dead), large profiles fit, another instance (a restart) reads the same sessions, and an outage
//! is answered with a page naming the store and recovered from without a restart.

use auth0_axum::test_support::COOKIE_NAME;
use reqwest::StatusCode;
use serde_json::json;
use tower_sessions_redis_store::fred::prelude::{KeysInterface, Pool, SortedSetsInterface};

use crate::server::{RedisServer, spawn_redis_app};
use crate::support::*;

/// The session ids an index (`auth0_login:sub:…` or `auth0_login:sid:…`) holds.
pub async fn index_members(client: &Pool, index: &str) -> Vec<String> {
    client
        .zrange(index, 0, -1, None, false, None, false)
        .await
        .unwrap()
}

/// The session ids indexed under the provider's session `sid`.
pub async fn ids_of_sid(redis: &RedisServer, sid: &str) -> Vec<String> {
    index_members(&redis.client().await, &format!("auth0_login:sid:{sid}")).await
}

pub async fn logged_in_as(app: &TestApp, cookie: &str, name: &str) -> bool {
    let html = app.get_with_cookie("/", cookie).await.text().await.unwrap();
    assert!(
        html.contains(name) || html.contains("Welcome Guest"),
        "{html}"
    );
    html.contains(name)
}

pub fn session_cookie_of(response: &reqwest::Response) -> String {
    format!("{COOKIE_NAME}={}", first_cookie_value(response))
}

#[tokio::test]
async fn the_cookie_carries_only_an_encrypted_session_id_and_the_record_is_in_redis() {
    let redis = RedisServer::start();
    let app = spawn_redis_app(&redis).await;
    let response = app.login().await;
    let set = set_cookies(&response);
    let cookie = set
        .iter()
        .find(|c| c.starts_with(&format!("{COOKIE_NAME}=")))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    let value = first_cookie_value(&response);
    assert!(
        value.len() < 120,
        "an id, not a session: {} bytes",
        value.len()
    );
    assert!(!value.contains("Jane"), "encrypted");
    let (sid, sub) = app.provider().last_session().unwrap();
    let client = redis.client().await;
    for index in [
        format!("auth0_login:sub:{sub}"),
        format!("auth0_login:sid:{sid}"),
    ] {
        let ids = index_members(&client, &index).await;
        assert_eq!(ids.len(), 1, "{index}: {ids:?}");
        let record: Option<Vec<u8>> = client.get(&ids[0]).await.unwrap();
        assert!(record.is_some(), "the session record under {}", ids[0]);
    }
    assert!(app.page("/").await.contains("Jane Doe"));
}

#[tokio::test]
async fn logout_deletes_the_record_so_a_copied_cookie_is_dead() {
    let redis = RedisServer::start();
    let app = spawn_redis_app(&redis).await;
    let copy = session_cookie_of(&app.login().await);
    assert!(
        logged_in_as(&app, &copy, "Jane Doe").await,
        "the copy works while logged in"
    );
    let (sid, _) = app.provider().last_session().unwrap();
    let client = redis.client().await;
    let ids = ids_of_sid(&redis, &sid).await;
    let logout = app.get("/logout").await;
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    let record: Option<Vec<u8>> = client.get(&ids[0]).await.unwrap();
    assert!(record.is_none(), "the record is deleted, not just emptied");
    assert!(app.page("/").await.contains("Welcome Guest"));
    assert!(
        !logged_in_as(&app, &copy, "Jane Doe").await,
        "a copied cookie still works after logout"
    );
}

#[tokio::test]
async fn a_profile_too_large_for_cookies_logs_in_with_redis() {
    let redis = RedisServer::start();
    let app = spawn_redis_app(&redis).await;
    let groups: Vec<String> = (0..240)
        .map(|i| format!("engineering-platform-team-{i:04}"))
        .collect();
    app.provider().behave(|b| {
        b.extra_claims
            .insert("https://example.com/groups".into(), json!(groups));
    });
    let response = app.login().await;
    let id_token_bytes = app.provider().last_id_token_bytes();
    assert!(id_token_bytes > 10_000, "{id_token_bytes}");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(set_cookies(&response).iter().all(|c| c.len() < 200));
    assert!(
        app.page("/")
            .await
            .contains("engineering-platform-team-0239")
    );
}

#[tokio::test]
async fn another_instance_of_the_app_reads_the_same_sessions() {
    let redis = RedisServer::start();
    let first = spawn_redis_app(&redis).await;
    let cookie = session_cookie_of(&first.login().await);
    // A restarted (or second) instance with the same APP_SECRET_KEY and Redis.
    let second = spawn_redis_app(&redis).await;
    drop(first);
    assert!(logged_in_as(&second, &cookie, "Jane Doe").await);
}

#[tokio::test]
async fn a_redis_outage_is_a_503_page_naming_the_store_and_the_app_recovers_by_itself() {
    let mut redis = RedisServer::start();
    let app = spawn_redis_app(&redis).await;
    let cookie = session_cookie_of(&app.login().await);
    redis.stop().await;

    let response = app.get_with_cookie("/", &cookie).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let html = response.text().await.unwrap();
    assert_eq!(error_code(&html), "session_store_unavailable");
    assert!(html.contains("SESSION_STORE"), "{html}");
    let port = redis.port.to_string();
    assert!(
        !html.contains(&port),
        "the public page shows the store's address: {html}"
    );
    // A guest page needs no session; readiness says what is wrong; nothing is a bare 500.
    assert_eq!(app.get_with_cookie("/", "").await.status(), StatusCode::OK);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let ready = ready.text().await.unwrap();
    assert!(ready.contains("session store"), "{ready}");
    assert!(
        !ready.contains(&port) && !ready.contains("127.0.0.1") && !ready.contains("redis://"),
        "unauthenticated /readyz shows the store's address: {ready}"
    );
    let login = app.get_with_cookie("/login", "").await;
    assert_eq!(login.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        error_code(&login.text().await.unwrap()),
        "session_store_unavailable"
    );

    redis.restart();
    let mut status = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..50 {
        status = app.get_with_cookie("/", &cookie).await.status();
        if status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(status, StatusCode::OK, "not recovered without a restart");
    assert!(
        logged_in_as(&app, &cookie, "Jane Doe").await,
        "the session survived the outage"
    );
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_app_starts_while_redis_is_down_and_logs_in_once_it_is_up() {
    let mut redis = RedisServer::start();
    redis.stop().await;
    let app = spawn_redis_app(&redis).await;
    assert_eq!(app.get("/").await.status(), StatusCode::OK, "a guest page");
    assert_eq!(
        app.get("/login").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    redis.restart();
    let mut status = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..50 {
        status = app.get_with_cookie("/login", "").await.status();
        if status == StatusCode::SEE_OTHER {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(status, StatusCode::SEE_OTHER);
    app.login().await;
    assert!(app.page("/").await.contains("Jane Doe"));
}

#[tokio::test]
async fn a_rotated_key_keeps_redis_sessions_and_reseals_the_id_cookie() {
    const NEW_KEY: &str = "9a8b7c6d5e4f30211f2e3d4c5b6a79880123456789abcdef0f1e2d3c4b5a6978";
    let redis = RedisServer::start();
    let before = spawn_redis_app(&redis).await;
    let old_cookie = session_cookie_of(&before.login().await);
    let app_with = |previous: Vec<String>| {
        spawn_app_with(Options {
            session_store: Some(redis.url().to_string()),
            secret_key: Some(NEW_KEY.into()),
            previous_secret_keys: previous,
            ..Options::default()
        })
    };
    let rotated = app_with(vec![SECRET_KEY.into()]).await;
    let response = rotated.get_with_cookie("/", &old_cookie).await;
    let resealed = session_cookie_of(&response);
    assert_ne!(resealed, old_cookie, "the id cookie is sealed again");
    assert!(
        response.text().await.unwrap().contains("Jane Doe"),
        "still logged in"
    );
    // Under the new key alone: the resealed cookie works, the old one reads as a guest.
    let later = app_with(Vec::new()).await;
    assert!(logged_in_as(&later, &resealed, "Jane Doe").await);
    assert!(!logged_in_as(&later, &old_cookie, "Jane Doe").await);
}

/// tower-sessions saves a changed session after the handler, and answers a bare, empty 500 when
/// that save fails. A page view that slides the idle deadline (hourly) while Redis refuses writes
/// must get the session-store page instead.
#[tokio::test]
async fn a_save_that_fails_after_the_page_is_made_is_a_page_not_a_bare_500() {
    use std::str::FromStr;
    use tower_sessions::SessionStore;
    use tower_sessions::session::Id;
    use tower_sessions_redis_store::RedisStore;
    use tower_sessions_redis_store::fred::prelude::ClientLike;
    use tower_sessions_redis_store::fred::types::{ClusterHash, CustomCommand};

    let redis = RedisServer::start();
    let app = spawn_redis_app(&redis).await;
    let cookie = session_cookie_of(&app.login().await);
    // Age the session's last slide by two hours, through the store's own API.
    let (sid, _) = app.provider().last_session().unwrap();
    let client = redis.client().await;
    let ids = ids_of_sid(&redis, &sid).await;
    let store = RedisStore::new(client.clone());
    let id = Id::from_str(&ids[0]).unwrap();
    let mut record = store.load(&id).await.unwrap().unwrap();
    let (user, logins) = auth0_axum::test_support::read_record_data(&record.data);
    let mut user = user.unwrap();
    user.refreshed_at -= 7200;
    record.data = auth0_axum::test_support::record_data(Some(&user), &logins);
    store.save(&record).await.unwrap();

    let pause = CustomCommand::new_static("CLIENT", ClusterHash::FirstKey, false);
    let _: () = client
        .custom(pause, vec!["PAUSE", "4000", "WRITE"])
        .await
        .unwrap();
    let response = app.get_with_cookie("/", &cookie).await;
    let status = response.status();
    let html = response.text().await.unwrap();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{html:?}");
    assert_eq!(error_code(&html), "session_store_unavailable");
}
