//! The production corner: what a deployed app needs around the router, none of it about login.
//! Connection limits and timeouts (`serve`), a request id and span per request (`request_log`),
//! the security headers every response gets, and the static files.

pub mod limits;
pub mod request_log;
pub mod serve;
pub mod static_files;

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context as _;
use auth0_axum::{Auth0, Auth0Config};
use axum::Router;
use axum::http::{HeaderValue, header};
use tower::Layer as _;

use request_log::{RequestLog, RequestLogLayer};
pub use serve::ServeLimits;

/// The CSP: no script at all, styles and images from here (and https avatars), no framing. Forms
/// post only here, and may be redirected on only to the provider (the logout form's redirect).
fn content_security_policy(config: &Auth0Config) -> String {
    let provider = url::Url::parse(config.provider_url())
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    // A local http provider (demo, tests) serves avatars over http.
    let provider_images = if provider.starts_with("http://") {
        format!(" {provider}")
    } else {
        String::new()
    };
    format!(
        "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' https: data:{provider_images}; \
         object-src 'none'; base-uri 'none'; form-action 'self' {provider}; frame-ancestors 'none'"
    )
}

/// The router inside the one layer every response passes: the request id and span, and the
/// security headers on every response that does not set its own (one layer rather than one per
/// header: each would wrap every response in a future of its own).
pub fn with_response_layers(router: Router, config: &Auth0Config) -> App {
    let csp = HeaderValue::from_str(&content_security_policy(config))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"));
    // A line per request is debug: at info, writing it costs a quarter of a page view.
    RequestLogLayer::new(vec![
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::CONTENT_SECURITY_POLICY, csp),
    ])
    .layer(router)
}

/// What [`with_response_layers`] returns.
pub type App = RequestLog<Router>;

/// A configured, bound server: `local_addr()` to find it, `run_until_stopped` to serve.
pub struct Application {
    listener: tokio::net::TcpListener,
    app: App,
    limits: ServeLimits,
}

impl Application {
    /// Binds `HOST:PORT`; discovery and the session store connect in the background (the
    /// server starts even while the provider or Redis is down).
    pub async fn build(config: Auth0Config) -> anyhow::Result<Self> {
        let bind = config.bind();
        let listener = tokio::net::TcpListener::bind(bind).await.with_context(|| {
            format!("Failed to listen on {bind} (is another app using the port? set PORT)")
        })?;
        Self::with_listener(config, listener).await
    }

    /// Serves on `listener` (tests bind port 0).
    pub async fn with_listener(
        config: Auth0Config,
        listener: tokio::net::TcpListener,
    ) -> anyhow::Result<Self> {
        let auth = Auth0::new(config.clone()).await?;
        Ok(Self {
            listener,
            app: with_response_layers(crate::app::router(auth), &config),
            limits: ServeLimits::default(),
        })
    }

    /// Other connection limits than the defaults (tests use short timeouts).
    pub fn with_limits(mut self, limits: ServeLimits) -> Self {
        self.limits = limits;
        self
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        serve::serve(self.listener, self.app, self.limits, shutdown).await
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
