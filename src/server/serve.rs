//! Serving connections with limits a bare `axum::serve` lacks: a slow client (slowloris) must not
//! hold a connection, a file descriptor or memory for long, and a flood of them must not take the
//! app down.
//!
//! - A client has [`ServeLimits::header_read_timeout`] to send each request's headers, and the same
//!   time to send the next request on an idle keep-alive connection; then the connection is closed.
//! - At most [`ServeLimits::max_connections`] connections are served at once; beyond that, new ones
//!   wait in the kernel's accept queue (costing this process nothing) until one closes.
//! - A request's body must arrive within [`ServeLimits::body_read_timeout`] of its head; heads and
//!   bodies are bounded in size (see [`super::limits`]: 431, 413, 408, each readable by the client).
//! - On shutdown, in-flight requests finish, for [`ServeLimits::shutdown_grace`] at most.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::limits::{LingeringClose, MAX_HEADER_BYTES, RequestLimits};

/// hyper's read buffer per connection: a backstop that stops heads far past [`MAX_HEADER_BYTES`]
/// before they are parsed (it lets through up to about twice its size), so that the exact limit
/// is [`RequestLimits`]'s.
const READ_BUFFER_BYTES: usize = 2 * MAX_HEADER_BYTES;

#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    pub header_read_timeout: Duration,
    /// How long after its head a request's body may take to arrive, however it trickles.
    pub body_read_timeout: Duration,
    pub max_connections: usize,
    pub shutdown_grace: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
            max_connections: default_max_connections(),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// As many connections as the open-file limit allows, keeping 128 descriptors for everything else
/// (the provider, logs, the store), and at most 10,000.
fn default_max_connections() -> usize {
    let soft = rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft);
    usize::try_from(soft.saturating_sub(128))
        .unwrap_or(usize::MAX)
        .clamp(32, 10_000)
}

/// Raises the soft open-file limit to the hard one (Linux often starts processes at 1,024), so the
/// connection cap is not the fd limit. Returns the limit now in force.
pub fn raise_open_file_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(err) => {
            tracing::warn!(error = %err, "could not raise the open-file limit");
            None
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve<S>(
    listener: TcpListener,
    app: S,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    S: tower::Service<Request<Body>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    tracing::info!(
        max_connections = limits.max_connections,
        header_read_timeout_s = limits.header_read_timeout.as_secs(),
        body_read_timeout_s = limits.body_read_timeout.as_secs(),
        "serving"
    );
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true)
        .max_buf_size(READ_BUFFER_BYTES);
    tokio::pin!(shutdown);
    loop {
        // A free slot first: at the cap, connections wait in the kernel, not in this process.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    // Out of descriptors (EMFILE) or a connection reset before accept: wait a
                    // little rather than spin, and keep serving.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = RequestLimits::new(app.clone(), limits.body_read_timeout);
        let connection = http.serve_connection(
            TokioIo::new(LingeringClose::new(stream)),
            TowerToHyperService::new(service),
        );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                // Timeouts and resets of slow or vanished clients: routine, not worth a warning.
                tracing::debug!(error = %err, "connection closed with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    tracing::info!(
        connections = graceful.count(),
        "finishing in-flight requests"
    );
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!(grace = ?limits.shutdown_grace, "requests still running at shutdown were cut off");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    // Linux: the soft limit can reach the hard one (macOS caps it lower).
    #[cfg(target_os = "linux")]
    #[test]
    fn the_open_file_limit_is_raised_to_the_hard_limit() {
        let limit = super::raise_open_file_limit().expect("raised");
        let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
        assert_eq!(soft, limit);
        assert_eq!(soft, hard, "the soft limit stays below the hard one");
        assert!(super::default_max_connections() >= 32);
    }
}
