//! [`Auth0`]: the handle an app keeps in its state. It owns the provider client, the session store
//! and the memory of answered logins, and hands out the two things an app mounts: the auth routes
//! ([`Auth0::router`]) and the session layer ([`Auth0::session_layer`]).

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::config::{Auth0Config, ConfigErrors, Problem};
use crate::oidc::{self, LoginClient, Provider};
use crate::routes;
use crate::session::{SessionBackend, SessionLayer};
use crate::state::{AppContext, AppState};

/// Log in with Auth0: the handle every extractor finds through [`axum::extract::FromRef`].
///
/// Cheap to clone (one `Arc`). Build it once with [`Auth0::new`], keep it in the app's state, and
/// mount [`Auth0::router`] and [`Auth0::session_layer`].
///
/// ```no_run
/// # async fn run() -> anyhow::Result<()> {
/// use auth0_axum::{Auth0, Auth0Config};
/// let auth = Auth0::new(Auth0Config::from_env()?).await?;
/// let app: axum::Router = axum::Router::new()
///     .merge(auth.router())
///     .layer(auth.session_layer());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Auth0(pub(crate) AppState);

impl std::fmt::Debug for Auth0 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth0")
            .field("base_url", &self.0.config.app.base_url.as_str())
            .field("provider", &self.0.config.tenant.provider_base.as_str())
            .finish_non_exhaustive()
    }
}

/// What [`Auth0::ready`] found: whether logins can work now, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Discovery succeeded and the session store answers.
    Ready {
        /// The provider's issuer, as discovered.
        issuer: String,
        /// Where sessions are kept (`cookie`, or the Redis URL without credentials).
        session_store: String,
    },
    /// Something a login needs does not answer.
    NotReady {
        /// A short, public reason (`the provider could not be discovered`, ...).
        reason: String,
        /// What an operator should check.
        fix: String,
        /// The detail for the log: URLs and errors, never for an unauthenticated page.
        detail: String,
    },
}

impl Auth0 {
    /// Builds the handle: starts discovery in the background (the app starts even while the
    /// provider is down, and logins work as soon as it answers) and connects to the session store
    /// named by `SESSION_STORE` (also in the background).
    ///
    /// Fails only on a session store this build cannot use (`redis://` without the `redis`
    /// feature, or a URL the Redis client refuses), named like every other configuration problem.
    pub async fn new(config: Auth0Config) -> Result<Self, ConfigErrors> {
        let shared = crate::shared::Shared::from_settings(&config.app).map_err(|err| {
            ConfigErrors(vec![Problem::new(
                "REDIS_URL",
                format!("cannot be used: {err}"),
                "Give a Redis URL the app can use (redis://, rediss://, redis-cluster://, redis-sentinel://).",
            )])
        })?;
        tracing::info!(
            shared = shared.describe(),
            "answered logins, used proofs, ended sessions and refresh locks are kept in"
        );
        let sessions = SessionBackend::from_settings(&config.app, &shared).map_err(|err| {
            ConfigErrors(vec![Problem::new(
                "SESSION_STORE",
                format!("cannot be used: {err}"),
                "Set SESSION_STORE=cookie, or a redis:// URL the app can use.",
            )])
        })?;
        let provider = Provider::for_base(&config.tenant.provider_base, oidc::http_client());
        provider.spawn_discovery();
        let oidc = LoginClient::new(provider, &config.tenant, &config.app);
        let rules = Arc::new(crate::session::SessionRules {
            capacity: match sessions {
                SessionBackend::Cookie => crate::session::Capacity::Cookie,
                #[cfg(feature = "redis")]
                SessionBackend::Redis(_) => crate::session::Capacity::Unbounded,
            },
            lifetimes: config.app.session_lifetimes,
            ended: shared.ended.clone(),
        });
        Ok(Self(Arc::new(AppContext {
            rules,
            config,
            oidc,
            shared,
            sessions,
        })))
    }

    /// The configuration this handle was built from.
    pub fn config(&self) -> &Auth0Config {
        &self.0.config
    }

    /// The auth routes: `GET /login`, `GET /callback`, `GET`/`POST /logout` and
    /// `POST /backchannel-logout`, for any app state. Merge them at the root, or nest them under
    /// the prefix given to [`Auth0Config::with_routes_at`]. They need [`Auth0::session_layer`]
    /// around them, and answer with `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff`,
    /// `Referrer-Policy: no-referrer` and `Cache-Control: no-store` wherever they are mounted.
    pub fn router<S>(&self) -> Router<S> {
        Router::new()
            .route("/login", get(routes::login::login))
            .route("/callback", get(routes::callback::callback))
            .route(
                "/logout",
                get(routes::logout::logout).post(routes::logout::logout),
            )
            .route(
                "/backchannel-logout",
                post(routes::backchannel_logout::backchannel_logout),
            )
            .layer(
                tower::ServiceBuilder::new()
                    .layer(SetResponseHeaderLayer::overriding(
                        header::CACHE_CONTROL,
                        HeaderValue::from_static("no-store"),
                    ))
                    .layer(SetResponseHeaderLayer::if_not_present(
                        header::X_FRAME_OPTIONS,
                        HeaderValue::from_static("DENY"),
                    ))
                    .layer(SetResponseHeaderLayer::if_not_present(
                        header::X_CONTENT_TYPE_OPTIONS,
                        HeaderValue::from_static("nosniff"),
                    ))
                    .layer(SetResponseHeaderLayer::if_not_present(
                        header::REFERRER_POLICY,
                        HeaderValue::from_static("no-referrer"),
                    )),
            )
            .with_state(self.0.clone())
    }

    /// The session layer of the configured store (`SESSION_STORE`: sealed cookies, or Redis).
    /// Put it around every route that reads the session: the auth routes and the app's pages.
    /// Responses that set no `Cache-Control` get `no-store` (pages with a session carry personal
    /// data).
    pub fn session_layer(&self) -> SessionLayer {
        SessionLayer::new(&self.0)
    }

    /// Whether logins can work now: discovery has succeeded and the session store answers (the
    /// cookie store always does; Redis is pinged). For a readiness probe.
    pub async fn ready(&self) -> Readiness {
        let store = self.0.sessions.ready().await;
        match (self.0.oidc.provider().metadata().await, store) {
            (_, Err((store, err))) => Readiness::NotReady {
                reason: "the session store does not answer".into(),
                fix: "Start Redis, or fix SESSION_STORE; the app reconnects by itself.".into(),
                detail: format!("the session store at {store} does not answer: {err}"),
            },
            (Ok(metadata), Ok(store)) => Readiness::Ready {
                issuer: metadata.issuer.clone(),
                session_store: store,
            },
            (Err(failure), Ok(_)) => Readiness::NotReady {
                reason: "the login provider could not be discovered".into(),
                fix: failure.hint.clone(),
                detail: format!(
                    "the provider could not be discovered at {}: {}",
                    failure.url, failure.reason
                ),
            },
        }
    }
}
