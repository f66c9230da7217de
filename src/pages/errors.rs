//! The library's pages in this app's layout: it answers an `AuthError` (and the "Log out?"
//! question) with a plain page of its own and keeps what it was beside it; this layer takes that
//! back and renders it with the app's nav. Also the 404 page.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use auth0_axum::{AuthError, AuthSession, LogoutPrompt};
use axum::extract::{FromRequestParts, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};

use super::views::{ErrorPage, Layout, LogoutConfirmPage};
use crate::app::AppState;

/// Renders any `AuthError` a handler, extractor or auth route returned (and the library's "Log
/// out?" question) in this app's layout. A plain tower layer: a response that carries neither
/// passes through without a box or a second future; only an error page is rendered in one.
#[derive(Clone)]
pub struct InLayoutLayer {
    state: AppState,
}

impl InLayoutLayer {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

impl<S> Layer<S> for InLayoutLayer {
    type Service = InLayout<S>;
    fn layer(&self, inner: S) -> InLayout<S> {
        InLayout {
            inner,
            state: self.state.clone(),
        }
    }
}

#[derive(Clone)]
pub struct InLayout<S> {
    inner: S,
    state: AppState,
}

/// The session, taken before the handler runs (the nav of an error page shows who is logged in).
/// Reading it from the request cannot wait: the session layer put it there.
fn session_of(request: Request, state: &AppState) -> (Request, Option<AuthSession>) {
    let (mut parts, body) = request.into_parts();
    let session = {
        let mut extract = std::pin::pin!(AuthSession::from_request_parts(&mut parts, state));
        match extract
            .as_mut()
            .poll(&mut Context::from_waker(std::task::Waker::noop()))
        {
            Poll::Ready(Ok(session)) => Some(session),
            _ => None,
        }
    };
    (Request::from_parts(parts, body), session)
}

impl<S> Service<Request> for InLayout<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = InLayoutFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let (request, session) = session_of(request, &self.state);
        InLayoutFuture::Waiting {
            inner: self.inner.call(request),
            state: Some(self.state.clone()),
            session,
        }
    }
}

pin_project_lite::pin_project! {
    #[project = Step]
    pub enum InLayoutFuture<F> {
        Waiting { #[pin] inner: F, state: Option<AppState>, session: Option<AuthSession> },
        Rendering { page: Pin<Box<dyn Future<Output = Response> + Send>> },
    }
}

impl<F> Future for InLayoutFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match self.as_mut().project() {
                Step::Waiting {
                    inner,
                    state,
                    session,
                } => {
                    let Ok(mut response) = ready!(inner.poll(cx));
                    let prompt = LogoutPrompt::take_from(&mut response);
                    let error = match prompt {
                        Some(_) => None,
                        None => AuthError::take_from(&mut response),
                    };
                    if prompt.is_none() && error.is_none() {
                        return Poll::Ready(Ok(response));
                    }
                    let (state, session) = (state.take(), session.take());
                    let Some(state) = state else {
                        return Poll::Ready(Ok(response));
                    };
                    let page = render(state, session, prompt, error);
                    self.set(InLayoutFuture::Rendering {
                        page: Box::pin(page),
                    });
                }
                Step::Rendering { page } => return page.as_mut().poll(cx).map(Ok),
            }
        }
    }
}

/// The library's prompt or error page, in this app's layout.
async fn render(
    state: AppState,
    session: Option<AuthSession>,
    prompt: Option<LogoutPrompt>,
    error: Option<AuthError>,
) -> Response {
    if let Some(prompt) = prompt {
        let user = match session {
            Some(session) => session.user().await.ok().flatten(),
            None => None,
        };
        let layout = Layout::new(&state, user.as_ref());
        let action = prompt.action().to_string();
        return LogoutConfirmPage { layout, action }.into_response();
    }
    let Some(error) = error else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    // The nav shows who is logged in; a store that does not answer is not asked twice.
    let user = match session {
        Some(session) if error.code() != "session_store_unavailable" => {
            session.user().await.ok().flatten()
        }
        _ => None,
    };
    let status = error.status();
    let retry_after = error.retry_after_secs();
    let page = ErrorPage {
        layout: Layout::new(&state, user.as_ref()),
        error,
    };
    let mut response = (status, page).into_response();
    if let Some(secs) = retry_after {
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, secs.into());
    }
    response
}

/// Any path no route serves.
pub async fn not_found() -> AuthError {
    AuthError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "This page does not exist",
        "There is nothing at this address. It may have moved, or the link may be mistyped.",
    )
}
