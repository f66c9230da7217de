//! What a request may cost before the app sees it, enforced for every route, in one layer around
//! the router ([`RequestLimits`]):
//!
//! - **The head** (request line and headers) is at most [`MAX_HEADER_BYTES`]: past it, 431. hyper's
//!   own read buffer stops far larger heads before they are parsed at all.
//! - **The body** is at most [`MAX_BODY_BYTES`]: a `Content-Length` past it is answered 413 before
//!   a byte is read, and a chunked body that grows past it is cut off with 413.
//! - **The body has a deadline**: it must have arrived [`super::ServeLimits::body_read_timeout`]
//!   after the head, however it trickles; then 408. (hyper's header-read timeout covers the head.)
//!
//! Each of these answers closes the connection, and [`LingeringClose`] makes that close one the
//! client reads: a socket closed with unread bytes in it sends a TCP reset, which can destroy the
//! answer before the client reads it.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

/// The most a request's line and headers may take (bytes as sent, less the line ends).
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// The most a request's body may take. The app's only bodies are forms (the logout form, the
/// provider's logout token: a few KB); the library bounds its routes lower still.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The size of a request's head as hyper read it: the request line and each `name: value`.
fn head_bytes<B>(request: &Request<B>) -> usize {
    let line = request.method().as_str().len()
        + request
            .uri()
            .path_and_query()
            .map_or(1, |p| p.as_str().len())
        + " HTTP/1.1".len()
        + 1;
    request.headers().iter().fold(line, |sum, (name, value)| {
        sum.saturating_add(name.as_str().len() + 2 + value.len())
    })
}

/// A plain-text refusal that ends the connection.
fn refusal(status: StatusCode, message: &'static str) -> Response<Body> {
    let mut response = Response::new(Body::from(message));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

const HEAD_TOO_LARGE: &str = "431 Request Header Fields Too Large: the request's headers take more than 64 KiB. \
     If it is the Cookie header, clear this site's cookies and log in again.\n";
const BODY_TOO_LARGE: &str =
    "413 Content Too Large: this app accepts request bodies of at most 64 KiB.\n";
const BODY_TOO_SLOW: &str =
    "408 Request Timeout: the request's body did not arrive in time; send it again.\n";

/// Why a body was cut off (shared between the body and the response future).
const CUT_NONE: u8 = 0;
const CUT_SLOW: u8 = 1;
const CUT_LARGE: u8 = 2;

/// The layer's settings; [`RequestLimits::new`] wraps a service with them.
#[derive(Clone)]
pub struct RequestLimits<S> {
    inner: S,
    body_read_timeout: Duration,
}

impl<S> RequestLimits<S> {
    pub fn new(inner: S, body_read_timeout: Duration) -> Self {
        Self {
            inner,
            body_read_timeout,
        }
    }
}

impl<S> tower::Service<Request<Incoming>> for RequestLimits<S>
where
    S: tower::Service<Request<Body>, Response = Response<Body>>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = LimitsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        if head_bytes(&request) > MAX_HEADER_BYTES {
            return LimitsFuture::refused(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                HEAD_TOO_LARGE,
            );
        }
        let (parts, incoming) = request.into_parts();
        // Most requests (every page view) have no body: no timer, nothing wrapped.
        if incoming.is_end_stream() {
            return LimitsFuture::inner(
                self.inner
                    .call(Request::from_parts(parts, Body::new(incoming))),
                None,
            );
        }
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return LimitsFuture::refused(StatusCode::PAYLOAD_TOO_LARGE, BODY_TOO_LARGE);
        }
        let cut = Arc::new(AtomicU8::new(CUT_NONE));
        let body = DeadlineBody {
            inner: incoming,
            deadline: Box::pin(tokio::time::sleep(self.body_read_timeout)),
            left: MAX_BODY_BYTES,
            cut: cut.clone(),
        };
        LimitsFuture::inner(
            self.inner.call(Request::from_parts(parts, Body::new(body))),
            Some(cut),
        )
    }
}

pin_project_lite::pin_project! {
    pub struct LimitsFuture<F> {
        #[pin]
        inner: Option<F>,
        refused: Option<Response<Body>>,
        cut: Option<Arc<AtomicU8>>,
    }
}

impl<F> LimitsFuture<F> {
    fn inner(inner: F, cut: Option<Arc<AtomicU8>>) -> Self {
        Self {
            inner: Some(inner),
            refused: None,
            cut,
        }
    }

    fn refused(status: StatusCode, message: &'static str) -> Self {
        Self {
            inner: None,
            refused: Some(refusal(status, message)),
            cut: None,
        }
    }
}

impl<F, E> Future for LimitsFuture<F>
where
    F: Future<Output = Result<Response<Body>, E>>,
{
    type Output = Result<Response<Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(inner) = this.inner.as_pin_mut() else {
            let response = this
                .refused
                .take()
                .unwrap_or_else(|| refusal(StatusCode::INTERNAL_SERVER_ERROR, "polled twice\n"));
            return Poll::Ready(Ok(response));
        };
        let response = ready!(inner.poll(cx))?;
        // The handler saw a failed body read (and answered 400 or so): say what really happened.
        let cut = this
            .cut
            .as_ref()
            .map_or(CUT_NONE, |c| c.load(Ordering::Acquire));
        Poll::Ready(Ok(match cut {
            CUT_SLOW => {
                tracing::info!("a request body did not arrive in time: 408");
                refusal(StatusCode::REQUEST_TIMEOUT, BODY_TOO_SLOW)
            }
            CUT_LARGE => refusal(StatusCode::PAYLOAD_TOO_LARGE, BODY_TOO_LARGE),
            _ => response,
        }))
    }
}

/// A request body with a deadline and a size cap; past either, it fails (and says which).
struct DeadlineBody {
    inner: Incoming,
    deadline: Pin<Box<Sleep>>,
    left: usize,
    cut: Arc<AtomicU8>,
}

impl DeadlineBody {
    fn cut(
        &self,
        why: u8,
        message: &'static str,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::BoxError>>> {
        self.cut.store(why, Ordering::Release);
        Poll::Ready(Some(Err(message.into())))
    }
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let len = frame.data_ref().map_or(0, Bytes::len);
                match this.left.checked_sub(len) {
                    Some(left) => {
                        this.left = left;
                        Poll::Ready(Some(Ok(frame)))
                    }
                    None => this.cut(CUT_LARGE, "the request body is too large"),
                }
            }
            Poll::Ready(other) => Poll::Ready(other.map(|r| r.map_err(Into::into))),
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => this.cut(CUT_SLOW, "the request body did not arrive in time"),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A connection's socket that, when dropped, is closed the way a client can read: the write side
/// is shut first (the answer, then FIN), and what the client is still sending is read and thrown
/// away for a moment (at most [`LINGER`] and [`LINGER_BYTES`]) before the socket is closed.
/// Closing it at once with unread bytes in it would send a reset, and a reset can destroy the
/// answer (a 431, 413 or 408) in the client's buffers before it is read.
pub struct LingeringClose {
    stream: Option<TcpStream>,
}

/// How long a closing socket is drained at most.
const LINGER: Duration = Duration::from_secs(2);
/// How much of it is drained at most.
const LINGER_BYTES: usize = 4 * 1024 * 1024;

impl LingeringClose {
    pub fn new(stream: TcpStream) -> Self {
        Self {
            stream: Some(stream),
        }
    }

    fn stream(&mut self) -> io::Result<&mut TcpStream> {
        self.stream
            .as_mut()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))
    }
}

async fn linger(mut stream: TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if stream.shutdown().await.is_err() {
        return;
    }
    let drain = async {
        let mut buf = [0u8; 8 * 1024];
        let mut drained = 0usize;
        while drained < LINGER_BYTES {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => drained += n,
            }
        }
    };
    let _ = tokio::time::timeout(LINGER, drain).await;
}

impl Drop for LingeringClose {
    fn drop(&mut self) {
        if let (Some(stream), Ok(runtime)) =
            (self.stream.take(), tokio::runtime::Handle::try_current())
        {
            runtime.spawn(linger(stream));
        }
    }
}

impl AsyncRead for LingeringClose {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(self.get_mut().stream()?).poll_read(cx, buf)
    }
}

impl AsyncWrite for LingeringClose {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(self.get_mut().stream()?).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(self.get_mut().stream()?).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.as_ref().is_some_and(|s| s.is_write_vectored())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.get_mut().stream()?).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The close is ours (on drop), drained first; hyper's shutdown is only the write side.
        Pin::new(self.get_mut().stream()?).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_is_counted_as_sent() {
        let request = Request::get("/a?b=c")
            .header("cookie", "x".repeat(100))
            .body(())
            .unwrap();
        // "GET /a?b=c HTTP/1.1" + "cookie: " + 100
        assert_eq!(head_bytes(&request), 3 + 6 + 9 + 1 + 6 + 2 + 100);
    }
}
