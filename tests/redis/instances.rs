//! Tested as it is deployed: two instances of the app behind one `APP_BASE_URL`, on one Redis,
//! against the demo provider with Auth0's refresh-token rotation, reuse detection and a Rotation
//! Overlap Period of 0. A browser's requests go to either instance.

use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};

use crate::server::RedisServer;
use crate::support::*;

const API: &str = "https://api.example.com";

/// Where the instances keep sessions.
#[derive(Clone, Copy, PartialEq)]
enum Sessions {
    /// `SESSION_STORE=redis://…`.
    InRedis,
    /// Cookie sessions with `REDIS_URL` for what the instances share.
    CookiesBesideRedis,
}

struct Pair {
    a: TestApp,
    b: TestApp,
}

impl Pair {
    async fn start(redis: &RedisServer, sessions: Sessions) -> Self {
        let options = |provider_addr, base_url| {
            let mut options = Options {
                audience: Some(API.into()),
                scope: "openid profile email offline_access".into(),
                provider_addr,
                base_url,
                ..Options::default()
            };
            match sessions {
                Sessions::InRedis => options.session_store = Some(redis.url().to_string()),
                Sessions::CookiesBesideRedis => {
                    options.extra_env = vec![("REDIS_URL", redis.url().to_string())]
                }
            }
            options
        };
        let a = spawn_app_with(options(None, None)).await;
        a.provider().behave(|b| {
            b.rotation_overlap_secs = 0;
            // Every token is within a minute of expiry: every API call refreshes.
            b.access_token_lifetime_secs = 30;
        });
        let b = spawn_app_with(options(Some(a.provider_addr), Some(a.base.clone()))).await;
        Self { a, b }
    }

    /// Instance `i % 2`.
    fn at(&self, i: usize) -> &TestApp {
        if i.is_multiple_of(2) {
            &self.a
        } else {
            &self.b
        }
    }

    async fn get(&self, i: usize, client: &Client, path: &str) -> reqwest::Response {
        self.at(i).get_with(client, path).await
    }
}

async fn name_on(pair: &Pair, i: usize, client: &Client) -> bool {
    let html = pair.get(i, client, "/").await.text().await.unwrap();
    html.contains("Jane Doe")
}

/// Concurrent `/call-api`s with one session, half on each instance: one refresh grant at the
/// provider (not one per instance, which Auth0's reuse detection would punish by revoking the
/// family) and every call answered with a token.
async fn concurrent_calls_make_one_grant(pair: &Pair, client: &Client, calls: usize) {
    let before = pair.a.provider().refresh_count();
    let mut tasks = Vec::new();
    for i in 0..calls {
        let (client, base) = (client.clone(), pair.at(i).base.clone());
        tasks.push(tokio::spawn(async move {
            let response = client.get(format!("{base}/call-api")).send().await.unwrap();
            let status = response.status();
            (
                status,
                api_status(&response.text().await.unwrap()).to_string(),
            )
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), (StatusCode::OK, "200".to_string()));
    }
    assert_eq!(
        pair.a.provider().refresh_count() - before,
        1,
        "{calls} concurrent calls on two instances"
    );
    assert_eq!(
        pair.a.provider().reuse_detection_count(),
        0,
        "the provider saw reuse"
    );
}

#[tokio::test]
async fn with_redis_sessions_requests_alternate_and_concurrent_refreshes_on_both_make_one_grant() {
    let redis = RedisServer::start();
    let pair = Pair::start(&redis, Sessions::InRedis).await;
    let browser = cookie_client();
    let login = pair.a.login_with(&browser, "/login", "jane").await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    for i in 0..6 {
        assert!(
            name_on(&pair, i, &browser).await,
            "instance {} forgot the session",
            i % 2
        );
    }
    for round in 0..3 {
        concurrent_calls_make_one_grant(&pair, &browser, 8).await;
        assert!(
            name_on(&pair, round, &browser).await,
            "logged out after round {round}"
        );
    }
    // A back-channel logout posted to one instance ends the session on the other.
    let token = pair.a.logout_token_for_last_session();
    assert_eq!(
        pair.b.post_logout_token(&token).await.status(),
        StatusCode::OK
    );
    assert!(!name_on(&pair, 0, &browser).await);
}

#[tokio::test]
async fn with_cookie_sessions_beside_redis_one_grant_and_a_copy_of_a_pre_refresh_cookie_is_refused()
{
    let redis = RedisServer::start();
    let pair = Pair::start(&redis, Sessions::CookiesBesideRedis).await;
    let browser = cookie_client();
    let login = pair.a.login_with(&browser, "/login", "jane").await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let copy = format!(
        "{}={}",
        auth0_axum::test_support::COOKIE_NAME,
        first_cookie_value(&login)
    );
    assert!(name_on(&pair, 1, &browser).await);
    concurrent_calls_make_one_grant(&pair, &browser, 6).await;
    // The copy taken before the refresh, on the other instance: the provider sees its spent
    // refresh token (reuse detection), the copy is logged out and gets no token.
    let stolen = pair.b.get_with_cookie("/call-api", &copy).await;
    assert_eq!(
        stolen.status(),
        StatusCode::SEE_OTHER,
        "the copy got tokens"
    );
    assert!(location(&stolen).starts_with("/login"));
    assert_eq!(pair.a.provider().reuse_detection_count(), 1);
}

#[tokio::test]
async fn with_cookie_sessions_a_backchannel_logout_posted_to_one_instance_ends_the_session_on_the_other()
 {
    let redis = RedisServer::start();
    let pair = Pair::start(&redis, Sessions::CookiesBesideRedis).await;
    let browser = cookie_client();
    pair.a.login_with(&browser, "/login", "jane").await;
    assert!(name_on(&pair, 0, &browser).await);
    let token = pair.a.logout_token_for_last_session();
    assert_eq!(
        pair.b.post_logout_token(&token).await.status(),
        StatusCode::OK
    );
    // Instance A learns of it by pub/sub: no round trip on the page view itself.
    let deadline = Instant::now() + Duration::from_secs(3);
    while name_on(&pair, 0, &browser).await {
        assert!(
            Instant::now() < deadline,
            "instance A still shows the ended session"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The same token replayed at the other instance is refused (one jti ledger).
    let again = pair.a.post_logout_token(&token).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    // And a page view of a cookie session needs no Redis: with Redis gone, a new login's pages
    // still show (the deny-list is in memory).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let other = cookie_client();
    pair.a.login_with(&other, "/login", "jane").await;
    drop(redis);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        name_on(&pair, 0, &other).await,
        "a cookie page view needed Redis"
    );
}

#[tokio::test]
async fn a_replayed_callback_is_refused_by_the_other_instance_before_the_provider() {
    let redis = RedisServer::start();
    let pair = Pair::start(&redis, Sessions::CookiesBesideRedis).await;
    let plain = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let started = pair.a.get_with(&plain, "/login").await;
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let cookie = format!(
        "{}={}",
        auth0_axum::test_support::COOKIE_NAME,
        first_cookie_value(&started)
    );
    let callback = pair
        .a
        .decide(&plain, &location(&started), &[("user", "jane")])
        .await;
    let path = callback
        .split_once("/callback")
        .map(|(_, q)| format!("/callback{q}"))
        .unwrap();
    let done = pair.a.get_with_cookie(&path, &cookie).await;
    assert_eq!(
        done.status(),
        StatusCode::SEE_OTHER,
        "{:?}",
        done.text().await
    );
    let token_requests = pair.a.provider().token_request_count();
    // The same answer, with the cookie from before the callback, at the other instance.
    let replay = pair.b.get_with_cookie(&path, &cookie).await;
    let status = replay.status();
    let html = replay.text().await.unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert_eq!(error_code(&html), "state_mismatch");
    assert!(html.contains("already answered"), "{html}");
    assert_eq!(
        pair.a.provider().token_request_count(),
        token_requests,
        "the replay reached the provider"
    );
}

/// Redis restarted under load (append-only file, `appendfsync always`, as README asks): no
/// session is lost, each request meanwhile gets a page (200, or 503 naming the store), never a
/// bare 500, and both instances recover by themselves.
#[tokio::test]
async fn a_redis_restart_under_load_loses_no_session_and_both_instances_recover() {
    let mut redis = RedisServer::start_with_aof();
    let pair = std::sync::Arc::new(Pair::start(&redis, Sessions::InRedis).await);
    let browser = cookie_client();
    pair.a.login_with(&browser, "/login", "jane").await;
    let load = {
        let (pair, browser) = (pair.clone(), browser.clone());
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let until = Instant::now() + Duration::from_secs(7);
            let mut i = 0;
            while Instant::now() < until {
                let response = pair.get(i, &browser, "/").await;
                let status = response.status();
                let html = response.text().await.unwrap();
                seen.push((status, html.contains("Jane Doe")));
                i += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            seen
        })
    };
    tokio::time::sleep(Duration::from_millis(800)).await;
    // Down for longer than a command may wait (1.5 s): shorter outages are ridden out.
    redis.crash();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    redis.restart();
    let seen = load.await.unwrap();
    assert!(
        seen.iter()
            .all(|(s, _)| *s == StatusCode::OK || *s == StatusCode::SERVICE_UNAVAILABLE),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE),
        "the outage was not seen: the test proves nothing"
    );
    let last = seen.last().unwrap();
    assert_eq!(
        *last,
        (StatusCode::OK, true),
        "not recovered by the end of the load"
    );
    assert!(
        seen.iter().all(|(s, named)| *s != StatusCode::OK || *named),
        "a page during the load showed a guest: the session was lost"
    );
    for i in 0..2 {
        assert!(name_on(&pair, i, &browser).await);
    }
}

/// A DPoP proof accepted by one instance's bearer API is a replay at the other (one `jti` ledger
/// in Redis); without it, each instance would accept it once.
#[tokio::test]
async fn a_dpop_proof_used_at_one_instance_is_refused_as_a_replay_by_the_other() {
    use auth0_axum::test_support::unix_now;
    use auth0_axum::token_check::dpop::ath_of;
    use auth0_demo_idp::keys::{DEMO_KID_1, SigningKey};
    use serde_json::json;

    let redis = RedisServer::start();
    let pair = Pair::start(&redis, Sessions::CookiesBesideRedis).await;
    let holder = Holder::new();
    let now = unix_now();
    let claims = json!({"iss": pair.a.provider().issuer(), "sub": "auth0|api-user", "aud": API,
        "iat": now, "exp": now + 600, "scope": "read:me", "cnf": {"jkt": holder.jkt()}});
    let token = SigningKey::fixture(DEMO_KID_1).sign(claims.as_object().unwrap());
    // Both instances serve APP_BASE_URL (instance A's address): the proof names that URL.
    let proof = holder.proof(json!({"jti": "one-proof", "htm": "GET",
        "htu": format!("{}/api/me", pair.a.base), "iat": now, "ath": ath_of(&token)}));
    let call = |app: &TestApp| {
        Client::new()
            .get(format!("{}/api/me", app.base))
            .header("authorization", format!("DPoP {token}"))
            .header("dpop", proof.clone())
            .send()
    };
    let first = call(&pair.a).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK, "{:?}", first.text().await);
    let replay = call(&pair.b).await.unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    let body = replay.text().await.unwrap();
    assert!(body.contains("jti"), "{body}");
}
