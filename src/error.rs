//! One error type for every page route. Each failure becomes the same page: status, short code,
//! what happened, what to check. Internal detail goes to the log, never to the page.
//!
//! `AppError` turns into a bare response carrying itself as an extension; the `render_errors`
//! middleware (which has the app state, e.g. for the demo banner) renders the page.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::routes::pages::ErrorPage;
use crate::token_check::Failure;

/// Boxed so that `Result<_, AppError>` stays small on the happy path.
#[derive(Debug, Clone)]
pub struct AppError(pub Box<ErrorDetails>);

#[derive(Debug, Clone)]
pub struct ErrorDetails {
    pub status: StatusCode,
    /// Short, stable, greppable: `state_mismatch`, `provider_unavailable`...
    pub code: &'static str,
    pub title: String,
    /// What happened, in a sentence or two.
    pub what: String,
    /// What to check or do.
    pub checks: Vec<String>,
    /// Token checks that failed (category, message, remedy): only public values.
    pub token_failures: Vec<Failure>,
    /// A link onward, e.g. to try again.
    pub retry: Option<String>,
}

impl AppError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: impl Into<String>,
        what: impl Into<String>,
    ) -> Self {
        Self(Box::new(ErrorDetails {
            status,
            code,
            title: title.into(),
            what: what.into(),
            checks: Vec::new(),
            token_failures: Vec::new(),
            retry: None,
        }))
    }

    pub fn check(mut self, text: impl Into<String>) -> Self {
        self.0.checks.push(text.into());
        self
    }

    pub fn retry(mut self, href: impl Into<String>) -> Self {
        self.0.retry = Some(href.into());
        self
    }

    pub fn with_token_failures(mut self, failures: Vec<Failure>) -> Self {
        self.0.token_failures = failures;
        self
    }

    /// The provider could not be discovered: names the URL tried and why it failed.
    pub fn provider_unavailable(status: StatusCode, failure: crate::oidc::ProviderFailure) -> Self {
        Self::new(
            status,
            "provider_unavailable",
            "The login provider cannot be reached",
            format!("The app could not read {}: {}.", failure.url, failure.reason),
        )
        .check(failure.hint)
        .check("The app retries in the background: once the provider answers, login works without a restart.")
        .retry("/login")
    }

    /// Anything unexpected: the detail is logged, the page says only that it happened.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(detail = %detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Something went wrong on our side",
            "The app hit an unexpected error. The details are in the server log, tagged with this request's id.",
        )
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut response = self.0.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// Renders any `AppError` a handler or extractor returned as the error page.
pub async fn render_errors(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    if let Some(AppError(error)) = response.extensions_mut().remove::<AppError>() {
        tracing::info!(
            status = error.status.as_u16(),
            code = error.code,
            "answered with an error page"
        );
        let status = error.status;
        let mut page = ErrorPage::new(&state, *error).into_response();
        *page.status_mut() = status;
        return page;
    }
    response
}
