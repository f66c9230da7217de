//! [`SessionLayer`]: the one layer an app puts around its routes. It is the configured store's
//! layer (our sealed cookies, or tower-sessions' manager over Redis), plus `Cache-Control: no-store`
//! on responses that set none. A session write that fails after the handler becomes the session's
//! error page, never a bare 500.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};
use tower_http::set_header::{SetResponseHeader, SetResponseHeaderLayer};

use super::cookie::{CookieSession, CookieSessionLayer, SessionKeys, WriteFailure};
use super::{SessionBackend, SessionError, cookie_name, cookie_path};
use crate::error::AuthError;
use crate::state::AppContext;

/// The session layer of the configured store: from [`crate::Auth0::session_layer`].
#[derive(Clone)]
pub struct SessionLayer {
    kind: Kind,
}

impl std::fmt::Debug for SessionLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.kind {
            Kind::Cookie(_) => "SessionLayer(cookie)",
            #[cfg(feature = "redis")]
            Kind::Redis { .. } => "SessionLayer(redis)",
        })
    }
}

#[derive(Clone)]
enum Kind {
    Cookie(CookieSessionLayer),
    #[cfg(feature = "redis")]
    Redis {
        sessions: super::server_side::RedisSessions,
        app: Arc<crate::config::AppSettings>,
        rules: Arc<super::SessionRules>,
    },
}

impl SessionLayer {
    pub(crate) fn new(context: &AppContext) -> Self {
        let app = &context.config.app;
        let kind = match &context.sessions {
            #[cfg(feature = "redis")]
            SessionBackend::Redis(sessions) => Kind::Redis {
                sessions: sessions.clone(),
                app: Arc::new(app.clone()),
                rules: context.rules.clone(),
            },
            SessionBackend::Cookie => Kind::Cookie(CookieSessionLayer::new(
                SessionKeys::new(&app.session_secret, &app.previous_session_secrets),
                cookie_name(app),
                cookie_path(app),
                app.base_url.is_https(),
                Arc::new(write_failure_page),
                context.rules.clone(),
            )),
        };
        Self { kind }
    }
}

/// Pages carry personal data: never cached, unless the route said otherwise (static files).
type NoStore<S> = SetResponseHeader<S, HeaderValue>;

fn no_store<S>(inner: S) -> NoStore<S> {
    SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    )
    .layer(inner)
}

/// The page for a session write the cookie store refused after the handler.
fn write_failure_page(failure: WriteFailure) -> Response {
    match failure {
        WriteFailure::TooLarge { cookie_bytes } => {
            AuthError::from(SessionError::TooLarge { cookie_bytes }).into_response()
        }
        WriteFailure::Seal(why) => {
            AuthError::internal(format!("session not sealed: {why}")).into_response()
        }
    }
}

impl<S> Layer<S> for SessionLayer
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
{
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        match &self.kind {
            Kind::Cookie(cookies) => SessionService::Cookie(cookies.layer(no_store(inner))),
            #[cfg(feature = "redis")]
            Kind::Redis {
                sessions,
                app,
                rules,
            } => SessionService::Redis(sessions.service(no_store(inner), app, rules.clone())),
        }
    }
}

/// The service [`SessionLayer`] makes.
#[derive(Clone)]
pub enum SessionService<S> {
    #[doc(hidden)]
    Cookie(CookieSession<NoStore<S>>),
    #[doc(hidden)]
    #[cfg(feature = "redis")]
    Redis(tower::util::BoxCloneSyncService<Request, Response, Infallible>),
}

impl<S> std::fmt::Debug for SessionService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionService")
    }
}

impl<S> Service<Request> for SessionService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        match self {
            Self::Cookie(s) => s.poll_ready(cx),
            #[cfg(feature = "redis")]
            Self::Redis(s) => s.poll_ready(cx),
        }
    }

    fn call(&mut self, request: Request) -> Self::Future {
        match self {
            Self::Cookie(s) => s.call(request),
            #[cfg(feature = "redis")]
            Self::Redis(s) => s.call(request),
        }
    }
}
