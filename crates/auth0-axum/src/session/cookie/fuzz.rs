//! The layer under any cookie input: never a 5xx, never a user from a cookie it did not seal.
//! Bounded (a fixed number of cases per property) so that it runs in every `cargo test`; CI runs
//! them again for longer (`FUZZ_CASES`, `.ci/fuzz`).
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use proptest::prelude::*;
use tower::ServiceExt as _;

use super::*;
use crate::config::parse_secret_key;
use crate::session::{AppSession, LoginTransaction, UserSession, record_data};

const KEY: &str = "3f1c9a7be24d5086f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7a8";

fn keys() -> SessionKeys {
    SessionKeys::new(&parse_secret_key(KEY).unwrap(), &[])
}

/// `/` reads the user; `/write` also starts a login (the write path).
fn app() -> Router {
    async fn read(session: Session) -> (StatusCode, &'static str) {
        match AppSession::new(
            session,
            std::sync::Arc::new(crate::session::SessionRules::cookie_defaults()),
        )
        .user()
        .await
        {
            Ok(Some(_)) => (StatusCode::OK, "user"),
            Ok(None) => (StatusCode::OK, "guest"),
            Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "error"),
        }
    }
    async fn write(session: Session) -> StatusCode {
        let tx = LoginTransaction {
            state: "s".into(),
            nonce: "n".into(),
            pkce_verifier: "v".into(),
            return_to: "/".into(),
            created_at: crate::primitives::unix_now(),
            max_age: None,
            organization: None,
            silent: false,
            acr_values: None,
        };
        match AppSession::new(
            session,
            std::sync::Arc::new(crate::session::SessionRules::cookie_defaults()),
        )
        .add_login(tx)
        .await
        {
            Ok(()) => StatusCode::OK,
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
    let page: WriteFailurePage = Arc::new(|_| {
        axum::response::IntoResponse::into_response((
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "page",
        ))
    });
    Router::new()
        .route("/", get(read))
        .route("/write", get(write))
        .layer(CookieSessionLayer::new(
            keys(),
            "auth0_session",
            "/",
            false,
            page,
            std::sync::Arc::new(crate::session::SessionRules::cookie_defaults()),
        ))
}

fn valid_cookie_value(pad: usize) -> String {
    let mut profile = serde_json::Map::new();
    profile.insert("name".into(), serde_json::Value::String("x".repeat(pad)));
    let user = UserSession::without_tokens(profile, crate::primitives::unix_now());
    keys()
        .seal(
            &record_data(Some(&user), &[]),
            crate::primitives::unix_now() + 3600,
        )
        .unwrap()
}

async fn answer(path: &str, cookie: &str) -> (StatusCode, String) {
    let request = Request::get(path)
        .header("cookie", cookie)
        .body(Body::empty())
        .unwrap();
    let response = app().oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn run(path: &'static str, cookie: String) -> (StatusCode, String) {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(answer(path, &cookie))
}

#[test]
fn an_intact_cookie_reads_as_the_user() {
    let cookie = format!("auth0_session={}", valid_cookie_value(10));
    assert_eq!(run("/", cookie), (StatusCode::OK, "user".into()));
}

proptest! {
    #![proptest_config(crate::primitives::fuzz_config(256))]

    #[test]
    fn any_cookie_header_is_a_guest_never_a_5xx(
        header in "[ -~]{0,400}",
        name in prop::sample::select(vec!["auth0_session=", "auth0_session.1=", "auth0_session=2.", ""]),
        path in prop::sample::select(vec!["/", "/write"]),
    ) {
        let (status, body) = run(path, format!("{name}{header}"));
        prop_assert!(!status.is_server_error(), "{status}");
        prop_assert_ne!(body, "user");
    }

    #[test]
    fn a_mutated_session_is_a_guest_never_a_5xx(
        pad in 0usize..6000,
        at in any::<prop::sample::Index>(),
        byte in 0x21u8..0x7f,
        cut in any::<bool>(),
        split in any::<bool>(),
        path in prop::sample::select(vec!["/", "/write"]),
    ) {
        let mut value = valid_cookie_value(pad).into_bytes();
        let i = at.index(value.len());
        prop_assume!(cut || value[i] != byte);
        if cut { value.truncate(i) } else { value[i] = byte }
        let value = String::from_utf8(value).unwrap();
        let parts = chunks::split(&value);
        let cookie = if split && parts.len() > 1 {
            parts.iter().enumerate().map(|(i, v)| format!("{}={v}", chunks::chunk_name("auth0_session", i))).collect::<Vec<_>>().join("; ")
        } else {
            format!("auth0_session={value}")
        };
        let (status, body) = run(path, cookie);
        prop_assert!(!status.is_server_error(), "{status}");
        prop_assert_ne!(body, "user");
    }

    /// Several edits at once (flip, insert, delete, anywhere), the way a fuzzer mutates: the
    /// sealed record never opens to a user unless it is byte for byte what was sealed.
    #[test]
    fn a_session_edited_in_many_places_is_a_guest_never_a_5xx(
        pad in 0usize..3000,
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, 0x21u8..0x7f), 1..8),
    ) {
        let sealed = valid_cookie_value(pad);
        let mut value = sealed.clone().into_bytes();
        for (at, op, byte) in edits {
            if value.is_empty() { break }
            let i = at.index(value.len());
            match op {
                0 => value[i] = byte,
                1 => value.insert(i, byte),
                _ => { value.remove(i); }
            }
        }
        let value = String::from_utf8(value).unwrap();
        prop_assume!(value != sealed);
        let (status, body) = run("/", format!("auth0_session={value}"));
        prop_assert!(!status.is_server_error(), "{status}");
        prop_assert_ne!(body, "user");
    }
}
