//! Each request's id and span, in one layer: the id is the client's `X-Request-Id` when it is a
//! short token of safe characters, else one the app makes (`<process>-<n>`); every log line of
//! the request carries it (the `request` span, with method and path), and the response carries it
//! back. At debug, one line per request says its status and latency.
//!
//! One layer instead of tower-http's four (drop an unsafe id, set, trace, propagate): this runs on
//! every page view, and each of those cloned, boxed or instrumented the request on its own. The
//! debug line costs nothing when debug is off (the clock is not even read).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::http::{HeaderName, HeaderValue, Request, Response};
use tracing::Span;

pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest client id kept.
const MAX_CLIENT_ID: usize = 64;

/// A client's id is kept only if it is short and of safe characters: anything else (log
/// injection, a megabyte of id) is replaced.
fn is_safe(id: &HeaderValue) -> bool {
    let bytes = id.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_CLIENT_ID
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Ids `<process>-<n>`: unique per process run without a system call per request (a UUID v4
/// costs a `getrandom` call on every page view). The process part is random at start.
struct Ids {
    process: Box<str>,
    next: AtomicU64,
}

impl Ids {
    fn make(&self) -> HeaderValue {
        use std::fmt::Write as _;
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut id = String::with_capacity(self.process.len() + 21);
        id.push_str(&self.process);
        let _ = write!(id, "-{n}");
        // Base64url characters, a dash and digits: always a valid header value.
        HeaderValue::try_from(id).unwrap_or_else(|_| HeaderValue::from_static("-"))
    }
}

#[derive(Clone)]
pub struct RequestLogLayer {
    ids: Arc<Ids>,
    headers: Arc<[(HeaderName, HeaderValue)]>,
}

impl RequestLogLayer {
    /// `headers`: set on every response that does not set them itself (the security headers):
    /// here, in the one future every response passes, rather than a layer and a future each.
    pub fn new(headers: Vec<(HeaderName, HeaderValue)>) -> Self {
        Self {
            ids: Arc::new(Ids {
                process: process_tag().into(),
                next: AtomicU64::new(0),
            }),
            headers: headers.into(),
        }
    }
}

/// Eight base64url characters that tell this process's ids from another's (not a secret: ids are
/// for finding log lines).
fn process_tag() -> String {
    use std::hash::{BuildHasher, Hasher};
    // std's RandomState is seeded from the OS per process.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    let bits = hasher.finish();
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..8)
        .map(|i| char::from(ALPHABET[((bits >> (i * 6)) & 63) as usize]))
        .collect()
}

impl Default for RequestLogLayer {
    fn default() -> Self {
        Self::new(Vec::new())
    }
}

impl<S> tower::Layer<S> for RequestLogLayer {
    type Service = RequestLog<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestLog {
            inner,
            ids: self.ids.clone(),
            headers: self.headers.clone(),
        }
    }
}

#[derive(Clone)]
pub struct RequestLog<S> {
    inner: S,
    ids: Arc<Ids>,
    headers: Arc<[(HeaderName, HeaderValue)]>,
}

impl<S, ReqBody, ResBody> tower::Service<Request<ReqBody>> for RequestLog<S>
where
    S: tower::Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = RequestLogFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let id = match request.headers().get(&REQUEST_ID) {
            Some(id) if is_safe(id) => id.clone(),
            _ => {
                let id = self.ids.make();
                request.headers_mut().insert(REQUEST_ID.clone(), id.clone());
                id
            }
        };
        // The path only: query strings carry codes and state.
        let span = tracing::info_span!(
            "request",
            id = id.to_str().unwrap_or("-"),
            method = %request.method(),
            path = %request.uri().path(),
        );
        let started = tracing::enabled!(tracing::Level::DEBUG).then(Instant::now);
        let inner = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        RequestLogFuture {
            inner,
            span,
            id: Some(id),
            started,
            headers: self.headers.clone(),
        }
    }
}

pin_project_lite::pin_project! {
    pub struct RequestLogFuture<F> {
        #[pin]
        inner: F,
        span: Span,
        id: Option<HeaderValue>,
        started: Option<Instant>,
        headers: Arc<[(HeaderName, HeaderValue)]>,
    }
}

impl<F, ResBody, E> Future for RequestLogFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        let mut response = ready!(this.inner.poll(cx))?;
        let headers = response.headers_mut();
        if let Some(id) = this.id.take() {
            headers.entry(&REQUEST_ID).or_insert(id);
        }
        for (name, value) in this.headers.iter() {
            headers.entry(name).or_insert_with(|| value.clone());
        }
        if let Some(started) = this.started {
            tracing::debug!(
                status = response.status().as_u16(),
                latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                "answered"
            );
        }
        Poll::Ready(Ok(response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_tokens_of_safe_characters_are_kept() {
        for kept in ["a", "trace-123_abc.9", &"x".repeat(64)] {
            assert!(is_safe(&HeaderValue::from_str(kept).unwrap()), "{kept}");
        }
        for dropped in ["", "a b", "a=b;", "a\"b", &"x".repeat(65)] {
            assert!(
                !is_safe(&HeaderValue::from_str(dropped).unwrap()),
                "{dropped}"
            );
        }
    }

    #[test]
    fn made_ids_are_unique_and_safe() {
        let layer = RequestLogLayer::new(Vec::new());
        let (a, b) = (layer.ids.make(), layer.ids.make());
        assert_ne!(a, b);
        assert!(is_safe(&a) && is_safe(&b), "{a:?} {b:?}");
    }
}
