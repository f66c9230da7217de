//! The store as it is run: what a restart keeps (with and without persistence), an index that
//! does not grow with every login, and the bearer API's answer to a browser while Redis is down.

use reqwest::StatusCode;
use tower_sessions_redis_store::fred::prelude::{Pool, SortedSetsInterface};

use crate::server::{RedisServer, spawn_redis_app};
use crate::sessions::{index_members, logged_in_as, session_cookie_of};
use crate::support::*;

/// README's advice, shown: with `appendonly yes` (and `appendfsync always`), a Redis killed
/// outright (SIGKILL, nothing saved on the way out) comes back with every session; the app
/// reconnects by itself and the user is still logged in.
#[tokio::test]
async fn with_aof_persistence_a_crashed_redis_comes_back_with_its_sessions() {
    let mut redis = RedisServer::start_with_aof();
    let app = spawn_redis_app(&redis).await;
    let cookie = session_cookie_of(&app.login().await);
    redis.crash();
    redis.restart();
    assert!(
        eventually_logged_in(&app, &cookie).await,
        "the session was lost in the restart"
    );
}

/// And the other side of it: without persistence, the same crash logs everyone out (they see
/// the guest page, not an error), which is why README asks for AOF.
#[tokio::test]
async fn without_persistence_a_crashed_redis_logs_everyone_out() {
    let mut redis = RedisServer::start();
    let app = spawn_redis_app(&redis).await;
    let cookie = session_cookie_of(&app.login().await);
    redis.crash();
    redis.restart();
    let mut html = String::new();
    for _ in 0..50 {
        let response = app.get_with_cookie("/", &cookie).await;
        if response.status() == StatusCode::OK {
            html = response.text().await.unwrap();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(html.contains("Welcome Guest"), "{html}");
}

async fn eventually_logged_in(app: &TestApp, cookie: &str) -> bool {
    for _ in 0..50 {
        if app.get_with_cookie("/", cookie).await.status() == StatusCode::OK {
            return logged_in_as(app, cookie, "Jane Doe").await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    false
}

/// Ages every member of an index, as if it had been indexed an hour ago.
async fn age_index(client: &Pool, index: &str, secs: i64) {
    let then = (auth0_axum::test_support::unix_now() - secs) as f64;
    for id in index_members(client, index).await {
        let _: () = client
            .zadd(index, None, None, false, false, (then, id.as_str()))
            .await
            .unwrap();
    }
}

/// An active user's index holds her live sessions, not one id per login ever made: a logout
/// takes its session out at once, and sessions past the absolute lifetime (7 days), which have
/// ended whatever became of them, are pruned when she logs in again. Every command touches one
/// key, so this works in a cluster too (tests/redis/deployments.rs).
#[tokio::test]
async fn a_users_index_is_pruned_of_ended_sessions_at_her_next_login() {
    let redis = RedisServer::start();
    let app = spawn_redis_app(&redis).await;
    let mut browsers = Vec::new();
    for _ in 0..3 {
        let browser = cookie_client();
        app.login_with(&browser, "/login", "jane").await;
        browsers.push(browser);
    }
    let (_, sub) = app.provider().last_session().unwrap();
    let index = format!("auth0_login:sub:{sub}");
    let client = redis.client().await;
    assert_eq!(index_members(&client, &index).await.len(), 3);
    for browser in &browsers[..2] {
        let logout = app.get_with(browser, "/logout").await;
        assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    }
    assert_eq!(
        index_members(&client, &index).await.len(),
        1,
        "a logged-out session is still indexed"
    );
    // The one left, dated past the absolute lifetime, is pruned at the next login.
    age_index(&client, &index, 8 * 24 * 3600).await;
    app.login_with(&cookie_client(), "/login", "jane").await;
    let members = index_members(&client, &index).await;
    assert_eq!(
        members.len(),
        1,
        "an ended session is still indexed: {members:?}"
    );
    // An hour-old session is alive: the next login keeps it.
    age_index(&client, &index, 3600).await;
    app.login_with(&cookie_client(), "/login", "jane").await;
    assert_eq!(index_members(&client, &index).await.len(), 2);
}

/// How many times Redis ran `command` since the last reset (`INFO commandstats`).
async fn calls(client: &Pool, command: &str) -> u64 {
    use tower_sessions_redis_store::fred::prelude::ClientLike;
    use tower_sessions_redis_store::fred::types::{ClusterHash, CustomCommand};
    let info = CustomCommand::new_static("INFO", ClusterHash::FirstKey, false);
    let text: String = client.custom(info, vec!["commandstats"]).await.unwrap();
    let prefix = format!("cmdstat_{command}:calls=");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next()?.parse().ok())
        .unwrap_or(0)
}

async fn reset_stats(client: &Pool) {
    use tower_sessions_redis_store::fred::prelude::ClientLike;
    use tower_sessions_redis_store::fred::types::{ClusterHash, CustomCommand};
    let reset = CustomCommand::new_static("CONFIG", ClusterHash::FirstKey, false);
    let _: String = client.custom(reset, vec!["RESETSTAT"]).await.unwrap();
}

/// A request that writes the session saves it once: the route saves before it answers (so a
/// store that does not answer is its page), and tower-sessions' save after the handler, of the
/// same bytes, is not sent again.
#[tokio::test]
async fn a_request_that_writes_the_session_saves_it_once() {
    let redis = RedisServer::start();
    let app = spawn_redis_app(&redis).await;
    let client = redis.client().await;
    reset_stats(&client).await;
    let response = app.get("/login").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        calls(&client, "set").await,
        1,
        "/login wrote its session more than once"
    );
    reset_stats(&client).await;
    let ok = app.login().await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    // /login (1) and /callback: the login consumed (1), the new session (1), the state ledger (1).
    assert_eq!(
        calls(&client, "set").await,
        4,
        "a login's requests wrote more than once each"
    );
}

/// `/api/me` for a logged-in browser (no bearer token) while Redis is down is the store's 503,
/// not 401 "Jwt is missing": the session could not be read, which is not the same as no session.
#[tokio::test]
async fn api_me_for_a_browser_while_redis_is_down_is_503_naming_the_store() {
    let mut redis = RedisServer::start();
    let app = spawn_redis_app(&redis).await;
    let cookie = session_cookie_of(&app.login().await);
    redis.crash();
    let response = app.get_with_cookie("/api/me", &cookie).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = response.text().await.unwrap();
    assert!(body.contains("session store"), "{body}");
    assert!(!body.contains("Jwt is missing"), "{body}");
}

/// The log tells an operator what happened, at the right level (the real binary, its default
/// filter): a login, a back-channel logout and a logout each get an info line, and the browser
/// whose session the provider ended, coming back, is routine, not a warning ("possibly
/// suspicious activity" from tower-sessions, after every legitimate back-channel logout).
#[tokio::test]
async fn logins_and_logouts_are_logged_at_info_and_an_ended_session_is_no_warning() {
    use std::time::Duration;
    let redis = RedisServer::start();
    let port = free_port_now();
    let provider = provider_for_port(port).await;
    let mut env = tenant_env(&provider, port);
    env.push(("SESSION_STORE", redis.url().to_string()));
    let mut running = Running::start(&[], &std::env::temp_dir(), &env, None);
    let app = TestApp::for_process(&running.base, provider);

    let laptop = cookie_client();
    app.login_with(&laptop, "/login", "jane").await;
    let (sid, _) = app.provider().last_session().unwrap();
    let (status, body) = app.provider().end_session(&sid).await.unwrap();
    assert_eq!(status, 200, "{body}");
    let home = app.get_with(&laptop, "/").await.text().await.unwrap();
    assert!(home.contains("Welcome Guest"), "{home}");
    let phone = cookie_client();
    app.login_with(&phone, "/login", "jane").await;
    assert_eq!(
        app.get_with(&phone, "/logout").await.status(),
        StatusCode::SEE_OTHER
    );

    tokio::time::sleep(Duration::from_millis(300)).await;
    let lines = running.output().to_vec();
    let all = lines.join("\n");
    let info = |needle: &str| {
        lines
            .iter()
            .any(|l| l.contains(" INFO") && l.contains(needle))
    };
    assert!(info("logged in"), "no login line:\n{all}");
    assert!(
        info("back-channel logout: sessions ended"),
        "no back-channel logout line:\n{all}"
    );
    assert!(info("logged out"), "no logout line:\n{all}");
    assert!(
        !lines
            .iter()
            .any(|l| l.contains(" WARN") || l.contains("ERROR")),
        "a warning for routine events:\n{all}"
    );
}

/// A request that read the session before a back-channel logout ended it, and writes it after
/// (here: a refresh that waits 1.5 s on the token endpoint, then stores the new tokens), does not
/// bring the session back: the write is `SET … XX`, which only replaces a record that exists.
#[tokio::test]
async fn a_write_after_a_backchannel_logout_does_not_bring_the_session_back() {
    let redis = RedisServer::start();
    let app = spawn_app_with(Options {
        session_store: Some(redis.url().to_string()),
        audience: Some("https://api.example.com".into()),
        scope: "openid profile email offline_access".into(),
        ..Options::default()
    })
    .await;
    app.provider().behave(|b| b.access_token_lifetime_secs = 30);
    let cookie = session_cookie_of(&app.login().await);
    let (sid, sub) = app.provider().last_session().unwrap();
    app.provider().behave(|b| b.token_delay_ms = 1500);
    let refreshing = {
        let (base, cookie) = (app.base.clone(), cookie.clone());
        tokio::spawn(async move {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap()
                .get(format!("{base}/call-api"))
                .header("Cookie", cookie)
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let provider = app.provider();
    let token = provider.sign_logout_token(&provider.logout_claims(Some(&sid), Some(&sub)));
    assert_eq!(app.post_logout_token(&token).await.status(), StatusCode::OK);
    let _ = refreshing.await.unwrap();
    assert_eq!(
        app.provider().refresh_count(),
        1,
        "the refresh did run to its end"
    );
    assert!(
        !logged_in_as(&app, &cookie, "Jane Doe").await,
        "the refresh's write brought the ended session back"
    );
    let ids = crate::sessions::ids_of_sid(&redis, &sid).await;
    assert!(
        ids.is_empty(),
        "the ended session is indexed again: {ids:?}"
    );
    let client = redis.client().await;
    use tower_sessions_redis_store::fred::prelude::ClientLike;
    let ours: Vec<String> = {
        use tower_sessions_redis_store::fred::types::{ClusterHash, CustomCommand};
        let keys = CustomCommand::new_static("KEYS", ClusterHash::FirstKey, false);
        client.custom(keys, vec!["*"]).await.unwrap()
    };
    assert!(
        ours.iter().all(|k| k.contains(':')),
        "a session record is back: {ours:?}"
    );
}
