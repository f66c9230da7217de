//! Log in with Auth0 from a server-rendered axum app: Auth0's Flask quickstart, ported and hardened.
//!
//! Module map: `config` (settings), `oidc` (the provider's lifecycle), `session` (the cookie
//! session), `routes` (one file per route), `token_check` (the JWT troubleshooting guide as code),
//! `error` (the error page), `demo_idp` (the local provider for demo mode and tests).

pub mod cli;
pub mod config;
pub mod demo_idp;
pub mod error;
pub mod oidc;
pub mod routes;
pub mod serve;
pub mod session;
pub mod static_files;
pub mod token_check;
pub mod used_logins;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, Request, header};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::config::Config;
use crate::oidc::Provider;

/// Everything a handler needs.
pub struct AppContext {
    pub config: Config,
    pub provider: Arc<Provider>,
    /// Running against the built-in demo provider: every page says so.
    pub demo: bool,
    /// States already answered at `/callback`: a replayed cookie cannot use one twice.
    pub used_logins: used_logins::UsedLogins,
}

pub type AppState = Arc<AppContext>;

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Request ids `<process>-<n>`: unique per process run without a system call per request (a
/// UUID v4 costs a `getrandom` call on every page view). The process part is random at start.
#[derive(Clone)]
struct MakeRequestSeq {
    process: Arc<str>,
    next: Arc<std::sync::atomic::AtomicU64>,
}

impl MakeRequestSeq {
    fn new() -> Self {
        let process = openidconnect::CsrfToken::new_random_len(6);
        Self {
            process: process.secret().as_str().into(),
            next: Arc::default(),
        }
    }
}

impl MakeRequestId for MakeRequestSeq {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        HeaderValue::from_str(&format!("{}-{n}", self.process))
            .ok()
            .map(RequestId::new)
    }
}

/// The CSP: no script at all, styles and images from here (and https avatars), no framing. Forms
/// post only here, and may be redirected on only to the provider (the logout form's redirect).
fn content_security_policy(config: &Config) -> String {
    let provider = config.provider_base.origin().ascii_serialization();
    // A local http provider (demo, tests) serves avatars over http.
    let provider_images = if config.provider_base.scheme() == "http" {
        format!(" {provider}")
    } else {
        String::new()
    };
    format!(
        "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' https: data:{provider_images}; \
         object-src 'none'; base-uri 'none'; form-action 'self' {provider}; frame-ancestors 'none'"
    )
}

/// The router with every layer, for the server and for tests (`tower::ServiceExt::oneshot`).
pub fn app(state: AppState) -> Router {
    let csp = HeaderValue::from_str(&content_security_policy(&state.config))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"));
    let pages = routes::router()
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            error::render_errors,
        ))
        // Pages carry personal data: never cached.
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(session::layer(&state.config))
        .with_state(state);
    Router::new()
        .merge(pages)
        .merge(static_files::router())
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, csp))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let id = request
                .headers()
                .get(&REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            // The path only: query strings carry codes and state.
            tracing::info_span!("request", id, method = %request.method(), path = %request.uri().path())
        // A line per request is debug: at info, writing it costs a quarter of a page view.
        }).on_response(DefaultOnResponse::new().level(tracing::Level::DEBUG)))
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestSeq::new()))
        .layer(axum::middleware::map_request(drop_unsafe_request_id))
}

/// A client's `X-Request-Id` is kept only if it is a short token of safe characters; anything else
/// (log injection, a megabyte of id) is dropped and the app makes its own.
async fn drop_unsafe_request_id(
    mut request: Request<axum::body::Body>,
) -> Request<axum::body::Body> {
    let safe = request.headers().get(&REQUEST_ID).is_none_or(|v| {
        let bytes = v.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= 64
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    });
    if !safe {
        request.headers_mut().remove(&REQUEST_ID);
    }
    request
}

/// A configured, bound server: `port()` to find it, `run_until_stopped` to serve.
pub struct Application {
    listener: tokio::net::TcpListener,
    state: AppState,
    limits: serve::ServeLimits,
}

impl Application {
    /// Binds `config.bind` and starts discovery in the background (the server starts even when
    /// the provider is down).
    pub async fn build(config: Config, demo: bool) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .with_context(|| {
                format!(
                    "Failed to listen on {} (is another app using the port? set PORT)",
                    config.bind
                )
            })?;
        Ok(Self::with_listener(config, demo, listener))
    }

    pub fn with_listener(config: Config, demo: bool, listener: tokio::net::TcpListener) -> Self {
        let provider = Provider::new(&config, oidc::http_client());
        provider.spawn_discovery();
        Self {
            listener,
            limits: serve::ServeLimits::default(),
            state: Arc::new(AppContext {
                config,
                provider,
                demo,
                used_logins: used_logins::UsedLogins::default(),
            }),
        }
    }

    /// Other connection limits than the defaults (tests use short timeouts).
    pub fn with_limits(mut self, limits: serve::ServeLimits) -> Self {
        self.limits = limits;
        self
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| self.state.config.bind)
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        serve::serve(self.listener, app(self.state), self.limits, shutdown).await
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
