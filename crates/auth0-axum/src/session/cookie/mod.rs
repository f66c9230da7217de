//! Our cookie session store (`SESSION_STORE=cookie`, the default): the whole session in the
//! browser, sealed ([`codec`]), split across cookies when large ([`chunks`]), behind tower-sessions'
//! `Session` API so that handlers see no difference from a server-side store.
//!
//! Per request the layer opens the cookies once into a record that a per-request [`SessionStore`]
//! hands to the `Session` (moved, never cloned). After the handler it writes cookies only when the
//! session changed, or was read under a previous key (it is then sealed under the current one). A
//! cookie that does not open (tampered, truncated, foreign, expired, a chunk missing) reads as a
//! guest and is deleted; a write that fails becomes a page, never a bare 5xx.

pub mod chunks;
pub mod codec;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use async_trait::async_trait;
use axum::body::Body;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderValue, Request};
use axum::response::Response;
use tower::{Layer, Service};
use tower_sessions::session::{Expiry, Id, Record};
use tower_sessions::{Session, SessionStore, session_store};

use super::{Capacity, IDLE_TIMEOUT};
use crate::primitives::unix_now;
use chunks::RequestChunks;
pub use codec::SessionKeys;

/// What a failed write turns into: a page (the app's error page, given by `startup`).
pub type WriteFailurePage = Arc<dyn Fn(WriteFailure) -> Response + Send + Sync>;

/// Why the session could not be written.
#[derive(Debug, Clone)]
pub enum WriteFailure {
    /// The sealed session needs more than the cookie budget: `cookie_bytes` in the Cookie header.
    TooLarge { cookie_bytes: usize },
    /// Sealing itself failed (no randomness, a value serde cannot write).
    Seal(String),
}

struct Shared {
    keys: SessionKeys,
    name: &'static str,
    secure: bool,
    on_write_failure: WriteFailurePage,
}

/// The layer: `CookieSessionLayer::new(keys, name, secure, page)`.
#[derive(Clone)]
pub struct CookieSessionLayer {
    shared: Arc<Shared>,
}

impl CookieSessionLayer {
    pub fn new(
        keys: SessionKeys,
        name: &'static str,
        secure: bool,
        on_write_failure: WriteFailurePage,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                keys,
                name,
                secure,
                on_write_failure,
            }),
        }
    }
}

impl<S> Layer<S> for CookieSessionLayer {
    type Service = CookieSession<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CookieSession {
            inner,
            shared: self.shared.clone(),
        }
    }
}

#[derive(Clone)]
pub struct CookieSession<S> {
    inner: S,
    shared: Arc<Shared>,
}

/// What the request's cookies held.
struct Incoming {
    record: Option<Record>,
    /// Read under a previous key: seal it again under the current one.
    reseal: bool,
    /// Chunk indices the request carried, and how many of them the session was read from (the
    /// rest are stale); `read_from == 0` when nothing usable was read (all are deleted).
    present: Vec<usize>,
    read_from: usize,
}

impl Shared {
    fn open(&self, chunks: &RequestChunks, now: i64) -> Incoming {
        let present: Vec<usize> = chunks.present().collect();
        let guest = |present| Incoming {
            record: None,
            reseal: false,
            present,
            read_from: 0,
        };
        let (value, read_from) = match chunks.join() {
            Ok(Some(joined)) => joined,
            Ok(None) => return guest(present),
            Err(why) => {
                tracing::info!(?why, "session cookies incomplete: reading as a guest");
                return guest(present);
            }
        };
        let opened = match self.keys.open(&value) {
            Ok(opened) => opened,
            Err(why) => {
                tracing::info!(%why, "session cookie did not open: reading as a guest");
                return guest(present);
            }
        };
        let Ok(expiry_date) = time::OffsetDateTime::from_unix_timestamp(opened.record.expires_at)
        else {
            return guest(present);
        };
        if opened.record.expires_at <= now {
            return guest(present);
        }
        Incoming {
            record: Some(Record {
                id: Id::default(),
                data: opened.record.data,
                expiry_date,
            }),
            reseal: opened.under_previous_key,
            present,
            read_from,
        }
    }

    fn set_cookie(&self, name: &str, value: &str, max_age: i64) -> Option<HeaderValue> {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
        ))
        .ok()
    }

    /// Set-Cookie headers: the sealed session (and deletions of chunks it no longer needs), or
    /// deletions of every chunk the request carried from `first_stale` on.
    fn write(
        &self,
        response: &mut Response,
        sealed: Option<&Sealed>,
        present: &[usize],
        first_stale: usize,
    ) {
        let headers = response.headers_mut();
        let written = match sealed {
            Some(sealed) => {
                let max_age = sealed.expires_at.saturating_sub(unix_now()).max(0);
                let parts = chunks::split(&sealed.value);
                for (i, part) in parts.iter().enumerate() {
                    if let Some(v) =
                        self.set_cookie(&chunks::chunk_name(self.name, i), part, max_age)
                    {
                        headers.append(SET_COOKIE, v);
                    }
                }
                parts.len()
            }
            None => first_stale,
        };
        for &i in present.iter().filter(|&&i| i >= written) {
            if let Some(v) = self.set_cookie(&chunks::chunk_name(self.name, i), "", 0) {
                headers.append(SET_COOKIE, v);
            }
        }
    }
}

impl<S> Service<Request<Body>> for CookieSession<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        let shared = self.shared.clone();
        // The clone that was polled ready is the one that serves (tower's usual dance).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let incoming = shared.open(
                &RequestChunks::read(request.headers(), shared.name),
                unix_now(),
            );
            let id = incoming.record.as_ref().map(|r| r.id);
            let store = Arc::new(RequestRecord {
                loaded: Mutex::new(incoming.record),
                sealed: Mutex::new(None),
                failure: Mutex::new(None),
                emptied: AtomicBool::new(false),
                shared: shared.clone(),
            });
            let session = Session::new(id, store.clone(), Some(Expiry::OnInactivity(IDLE_TIMEOUT)));
            request.extensions_mut().insert(session.clone());
            request.extensions_mut().insert(Capacity::Cookie);
            let mut response = inner.call(request).await?;

            // A save with no data (logout, a consumed login) marks the cookies for deletion.
            if (session.is_modified() || incoming.reseal)
                && let Err(err) = session.save().await
            {
                let failure = store
                    .failure
                    .lock()
                    .ok()
                    .and_then(|mut f| f.take())
                    .unwrap_or_else(|| WriteFailure::Seal(err.to_string()));
                tracing::warn!(
                    ?failure,
                    "the session could not be written; the browser keeps its cookie"
                );
                return Ok((shared.on_write_failure)(failure));
            }
            let (sealed, first_stale) = if store.emptied.load(Ordering::Acquire) {
                (None, 0)
            } else {
                let sealed = store.sealed.lock().ok().and_then(|mut s| s.take());
                (sealed, incoming.read_from)
            };
            shared.write(
                &mut response,
                sealed.as_ref(),
                &incoming.present,
                first_stale,
            );
            Ok(response)
        })
    }
}

/// A sealed session ready to be written.
struct Sealed {
    value: String,
    expires_at: i64,
}

/// The per-request store behind the `Session`: it holds the record the cookies held, and the
/// sealed value a save produced.
struct RequestRecord {
    loaded: Mutex<Option<Record>>,
    sealed: Mutex<Option<Sealed>>,
    failure: Mutex<Option<WriteFailure>>,
    /// The last save held no data: the cookies are deleted.
    emptied: AtomicBool,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for RequestRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestRecord")
    }
}

impl RequestRecord {
    fn seal(&self, record: &Record) -> session_store::Result<()> {
        if record.data.is_empty() {
            // Nothing to keep (a consumed login, an expired user): delete the cookies instead.
            if let Ok(mut slot) = self.sealed.lock() {
                *slot = None;
            }
            self.emptied.store(true, Ordering::Release);
            return Ok(());
        }
        self.emptied.store(false, Ordering::Release);
        let expires_at = record.expiry_date.unix_timestamp();
        let outcome = match self.shared.keys.seal(&record.data, expires_at) {
            Ok(value) if chunks::fits(value.len()) => Ok(Sealed { value, expires_at }),
            Ok(value) => Err(WriteFailure::TooLarge {
                cookie_bytes: chunks::cookie_header_bytes(value.len()).unwrap_or(usize::MAX),
            }),
            Err(err) => Err(WriteFailure::Seal(err.to_string())),
        };
        match outcome {
            Ok(sealed) => {
                if let Ok(mut slot) = self.sealed.lock() {
                    *slot = Some(sealed);
                }
                Ok(())
            }
            Err(failure) => {
                let message = format!("{failure:?}");
                if let Ok(mut slot) = self.failure.lock() {
                    *slot = Some(failure);
                }
                Err(session_store::Error::Encode(message))
            }
        }
    }
}

#[async_trait]
impl SessionStore for RequestRecord {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.seal(record)
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.seal(record)
    }

    async fn load(&self, _: &Id) -> session_store::Result<Option<Record>> {
        Ok(self.loaded.lock().ok().and_then(|mut r| r.take()))
    }

    async fn delete(&self, _: &Id) -> session_store::Result<()> {
        if let Ok(mut slot) = self.sealed.lock() {
            *slot = None;
        }
        Ok(())
    }
}

/// The layer under any cookie input: never a 5xx, never a user from a cookie it did not seal.
/// Bounded (a fixed number of cases per property) so that it runs in every `cargo test`.
#[cfg(test)]
mod fuzz {
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
            match AppSession::new(session, Capacity::Cookie).user().await {
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
            };
            match AppSession::new(session, Capacity::Cookie)
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
                false,
                page,
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
        #![proptest_config(ProptestConfig::with_cases(256))]

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
    }
}
