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
#[cfg(test)]
mod fuzz;
mod record;

use record::{RequestRecord, Sealed};

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderValue, Request};
use axum::response::Response;
use tower::{Layer, Service};
use tower_sessions::Session;
use tower_sessions::session::{Expiry, Id, Record};

use super::SessionRules;
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
    /// `Path=`: `/`, or the app's sub-path (at most [`chunks::MAX_PATH_BYTES`]).
    path: Box<str>,
    secure: bool,
    on_write_failure: WriteFailurePage,
    /// Handed to the extractors with each request.
    rules: Arc<SessionRules>,
    expiry: Expiry,
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
        path: &str,
        secure: bool,
        on_write_failure: WriteFailurePage,
        rules: Arc<SessionRules>,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                keys,
                name,
                path: path.into(),
                secure,
                on_write_failure,
                expiry: super::inactivity(&rules.lifetimes),
                rules,
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
            "{name}={value}; Path={}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}",
            self.path
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
            let session = Session::new(id, store.clone(), Some(shared.expiry));
            request.extensions_mut().insert(session.clone());
            request.extensions_mut().insert(shared.rules.clone());
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
