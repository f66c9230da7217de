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
use crate::session::cookie::WriteFailure;
use crate::session::{AppSession, Capacity, SessionError, UserSession};
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

/// What to do when a session outgrows cookies: the setting that moves it server-side.
pub const SERVER_SIDE_STORE_HINT: &str = "Keep sessions server-side: set SESSION_STORE=redis://HOST:6379 (README: Choosing a session store), where a session has no size limit.";

impl From<SessionError> for AppError {
    fn from(err: SessionError) -> Self {
        match err {
            SessionError::TooLarge { cookie_bytes } => AppError::new(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "session_too_large",
                "Your session is too large to keep in cookies",
                format!("This would make {cookie_bytes} bytes of session cookies, more than browsers and proxies keep, so nothing was changed."),
            )
            .check(SERVER_SIDE_STORE_HINT)
            .log_detail(format!("cookie_bytes={cookie_bytes}")),
            SessionError::Unavailable(why) => AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "session_store_unavailable",
                "The session store is not answering",
                "This page needs your session, and the session store (SESSION_STORE) did not answer, so nothing was read or changed.",
            )
            .check("If you run this app: check that the Redis server in SESSION_STORE is up and reachable from the app. The app reconnects by itself once it answers: no restart is needed.")
            .check("Otherwise: try again in a moment.")
            .retry("/")
            .log_detail(why),
        }
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
    let Some(error) = response.extensions_mut().remove::<AppError>() else {
        return response;
    };
    // The nav shows who is logged in; a store that does not answer shows nobody (and is not
    // asked twice).
    let user = match session {
        Some(session) if error.0.code != "session_store_unavailable" => {
            AppSession::new(session, Capacity::Unbounded)
                .user()
                .await
                .ok()
                .flatten()
        }
        _ => None,
    };
    error_page(&state, error, user.as_ref())
}

/// The error page for `error`, with the nav showing `user`, and its one log line (a warning for
/// a 5xx).
fn error_page(state: &AppState, AppError(error): AppError, user: Option<&UserSession>) -> Response {
    let (status, code) = (error.status.as_u16(), error.code);
    let detail = error.log_detail.as_deref().unwrap_or("");
    if error.status.is_server_error() {
        tracing::warn!(status, code, detail, "answered with an error page");
    } else {
        tracing::info!(status, code, detail, "answered with an error page");
    }
    let error = *error;
    let status = error.status;
    let mut page = ErrorPage {
        layout: Layout::new(state, user),
        status: status.as_u16(),
        error,
    }
    .into_response();
    *page.status_mut() = status;
    page
}

/// tower-sessions' manager answers an empty 500 when saving to the store fails after the handler
/// (Redis went away mid-request): the session-store page instead.
pub async fn bare_session_failure_page(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    let bare = response.status() == StatusCode::INTERNAL_SERVER_ERROR
        && !response
            .headers()
            .contains_key(axum::http::header::CONTENT_TYPE);
    if !bare {
        return response;
    }
    let error =
        SessionError::Unavailable("the session could not be saved after the page was made".into());
    error_page(&state, error.into(), None)
}

/// The page for a session write the cookie store refused after the handler (a bug in a size
/// projection, or no randomness): logged, and never a bare 5xx.
pub fn session_write_failure_page(state: &AppState, failure: WriteFailure) -> Response {
    let error = match failure {
        WriteFailure::TooLarge { cookie_bytes } => {
            AppError::from(SessionError::TooLarge { cookie_bytes })
        }
        WriteFailure::Seal(why) => AppError::internal(format!("session not sealed: {why}")),
    };
    error_page(state, error, None)
}
