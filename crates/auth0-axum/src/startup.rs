//! Wiring: the router with its layers ([`app`]), and a bound server ([`Application`]).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::http::{HeaderValue, header};
use tower::ServiceBuilder;
use tower_http::set_header::{SetResponseHeader, SetResponseHeaderLayer};

use crate::config::Config;
use crate::oidc::{self, LoginClient, Provider};
use crate::request_log::{RequestLog, RequestLogLayer};
use crate::serve::{self, ServeLimits};
use crate::session::SessionBackend;
use crate::state::{AppContext, AppState};
use crate::used_logins::UsedLogins;
use crate::{error, routes, session, static_files};

/// The CSP: no script at all, styles and images from here (and https avatars), no framing. Forms
/// post only here, and may be redirected on only to the provider (the logout form's redirect).
fn content_security_policy(config: &Config) -> String {
    let provider = config.tenant.provider_base.origin().ascii_serialization();
    // A local http provider (demo, tests) serves avatars over http.
    let provider_images = if config.tenant.provider_base.scheme() == "http" {
        format!(" {provider}")
    } else {
        String::new()
    };
    format!(
        "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' https: data:{provider_images}; \
         object-src 'none'; base-uri 'none'; form-action 'self' {provider}; frame-ancestors 'none'"
    )
}

/// The app: the router, and around it the layers every response gets, in request order (the
/// first listed sees the request first). They wrap the router as one service rather than each
/// route (`Router::layer`), which would box and clone them once more per request.
pub fn app(state: AppState) -> App {
    let csp = HeaderValue::from_str(&content_security_policy(&state.config))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"));
    let health = routes::health::router()
        .merge(routes::backchannel_logout::router())
        .with_state(state.clone());
    let router = Router::new()
        .merge(pages(&state))
        .merge(health)
        .merge(static_files::router());
    ServiceBuilder::new()
        // The request id and span; a line per request is debug: at info, writing it costs a
        // quarter of a page view.
        .layer(RequestLogLayer::new())
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            csp,
        ))
        .service(router)
}

/// What [`app`] returns: the router inside its layers.
pub type App = RequestLog<
    SetResponseHeader<
        SetResponseHeader<
            SetResponseHeader<SetResponseHeader<Router, HeaderValue>, HeaderValue>,
            HeaderValue,
        >,
        HeaderValue,
    >,
>;

/// The pages (everything with a session), inside the session layer of the configured store. With
/// cookies, one `layer` call: each is a box and a clone per request.
fn pages(state: &AppState) -> Router {
    let page_layers = ServiceBuilder::new()
        // Pages carry personal data: never cached.
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            error::render_errors,
        ));
    let app = &state.config.app;
    #[cfg(feature = "redis")]
    if let SessionBackend::Redis(redis) = &state.sessions {
        // tower-sessions answers a bare 500 when a save fails after the handler: a page instead.
        let pages = routes::router()
            .layer(page_layers)
            .with_state(state.clone());
        return redis
            .around(pages, app)
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                error::bare_session_failure_page,
            ));
    }
    let page_state = state.clone();
    let cookies = session::cookie::CookieSessionLayer::new(
        session::cookie::SessionKeys::new(&app.session_secret, &app.previous_session_secrets),
        session::cookie_name(app.base_url.is_https()),
        app.base_url.is_https(),
        Arc::new(move |failure| error::session_write_failure_page(&page_state, failure)),
    );
    routes::router()
        .layer(ServiceBuilder::new().layer(cookies).layer(page_layers))
        .with_state(state.clone())
}

/// A configured, bound server: `local_addr()` to find it, `run_until_stopped` to serve.
pub struct Application {
    listener: tokio::net::TcpListener,
    state: AppState,
    limits: serve::ServeLimits,
}

impl Application {
    /// Binds `config.bind` and starts discovery in the background (the server starts even when
    /// the provider is down).
    pub async fn build(config: Config, demo: bool) -> anyhow::Result<Self> {
        let bind = config.app.bind;
        let listener = tokio::net::TcpListener::bind(bind).await.with_context(|| {
            format!("Failed to listen on {bind} (is another app using the port? set PORT)")
        })?;
        Self::with_listener(config, demo, listener)
    }

    /// Serves on `listener`; connecting to a server-side session store starts in the background
    /// (the app starts while it is down).
    pub fn with_listener(
        config: Config,
        demo: bool,
        listener: tokio::net::TcpListener,
    ) -> anyhow::Result<Self> {
        let sessions = SessionBackend::from_settings(&config.app)
            .context("Failed to set up the session store (SESSION_STORE)")?;
        let provider = Provider::for_base(&config.tenant.provider_base, oidc::http_client());
        provider.spawn_discovery();
        let oidc = LoginClient::new(provider, &config.tenant, &config.app);
        Ok(Self {
            listener,
            limits: ServeLimits::default(),
            state: Arc::new(AppContext {
                config,
                oidc,
                demo,
                used_logins: UsedLogins::default(),
                sessions,
            }),
        })
    }

    /// Other connection limits than the defaults (tests use short timeouts).
    pub fn with_limits(mut self, limits: ServeLimits) -> Self {
        self.limits = limits;
        self
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.state.config.app.bind)
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
