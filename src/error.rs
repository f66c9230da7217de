//! One error type for every page route, and the page it becomes. Each failure has a status, a
//! short code, what happened and what to check. Detail for operators goes to the log (once, when
//! the page is rendered), never to the page.
//!
//! `AppError` turns into a bare response carrying itself as an extension; the [`render_errors`]
//! middleware (which has the app state and the session) renders the page, as axum's own
//! error-handling example does.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use crate::oidc::ProviderFailure;
use crate::session::AppSession;
use crate::state::AppState;
use crate::token_check::Failure;
use crate::views::Layout;

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
    /// For the log only, never the page: what an operator needs to find the cause.
    pub log_detail: Option<String>,
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
            log_detail: None,
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

    /// Detail for the log line this error gets when it is rendered.
    pub fn log_detail(mut self, detail: impl Into<String>) -> Self {
        self.0.log_detail = Some(detail.into());
        self
    }

    /// The provider could not be discovered: names the URL tried and why it failed.
    pub fn provider_unavailable(status: StatusCode, failure: ProviderFailure) -> Self {
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
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Something went wrong on our side",
            "The app hit an unexpected error. The details are in the server log, tagged with this request's id.",
        )
        .log_detail(detail.to_string())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut response = self.0.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub status: u16,
    pub error: ErrorDetails,
}

/// Renders any `AppError` a handler or extractor returned as the error page (with the nav showing
/// who is logged in, like every page), and logs it: the one log line of each error.
pub async fn render_errors(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let session = request.extensions().get::<Session>().cloned();
    let mut response = next.run(request).await;
    let Some(AppError(error)) = response.extensions_mut().remove::<AppError>() else {
        return response;
    };
    let (status, code) = (error.status.as_u16(), error.code);
    let detail = error.log_detail.as_deref().unwrap_or("");
    if error.status.is_server_error() {
        tracing::warn!(status, code, detail, "answered with an error page");
    } else {
        tracing::info!(status, code, detail, "answered with an error page");
    }
    let user = match session {
        Some(session) => AppSession::new(session).user().await,
        None => None,
    };
    let status = error.status;
    let mut page = ErrorPage {
        layout: Layout::new(&state, user.as_ref()),
        status: status.as_u16(),
        error: *error,
    }
    .into_response();
    *page.status_mut() = status;
    page
}
