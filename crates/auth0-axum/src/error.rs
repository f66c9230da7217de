//! [`AuthError`]: every way a login, a session or an extractor can fail, as a page. Each failure
//! has a status, a short stable code, what happened and what to check; detail for operators goes
//! to the log (once, when the error becomes a response), never to the page.
//!
//! An `AuthError` becomes the library's own plain error page, and the response carries the error
//! itself as an extension: an app that wants the page in its own layout takes it back out with
//! [`AuthError::take_from`] in a middleware and renders its own (the starter's `pages/errors.rs`
//! does).

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::oidc::ProviderFailure;
use crate::session::SessionError;
use crate::token_check::Failure;

/// Boxed so that `Result<_, AuthError>` stays small on the happy path.
///
/// ```
/// use auth0_axum::AuthError;
/// use axum::http::StatusCode;
/// let error = AuthError::new(StatusCode::FORBIDDEN, "closed", "The shop is closed", "Come back at nine.")
///     .check("Opening hours are on the home page.");
/// assert_eq!(error.code(), "closed");
/// assert_eq!(error.checks(), ["Opening hours are on the home page."]);
/// ```
#[derive(Debug, Clone)]
pub struct AuthError(Box<ErrorDetails>);

#[derive(Debug, Clone)]
pub(crate) struct ErrorDetails {
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
    /// Seconds for a `Retry-After` header (a 503 while the provider limits requests).
    pub retry_after: Option<u64>,
}

impl AuthError {
    /// An error with its status, a short stable code (`snake_case`, for logs and tests), a title
    /// and what happened.
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
            retry_after: None,
        }))
    }

    /// Adds one thing to check or do (shown as a list).
    pub fn check(mut self, text: impl Into<String>) -> Self {
        self.0.checks.push(text.into());
        self
    }

    /// A link onward ("Try again").
    pub fn retry(mut self, href: impl Into<String>) -> Self {
        self.0.retry = Some(href.into());
        self
    }

    /// The token checks that failed, each with its category, message and remedy.
    pub fn with_token_failures(mut self, failures: Vec<Failure>) -> Self {
        self.0.token_failures = failures;
        self
    }

    /// A `Retry-After` of `secs` seconds on the answer (kept by an app's layout that re-renders
    /// the page, see [`AuthError::retry_after_secs`]).
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.0.retry_after = Some(secs);
        self
    }

    /// The `Retry-After` seconds this error asks for, if any.
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.0.retry_after
    }

    /// Detail for the log line this error gets when it is rendered.
    pub fn log_detail(mut self, detail: impl Into<String>) -> Self {
        self.0.log_detail = Some(detail.into());
        self
    }

    /// The provider could not be discovered: names which step failed and the kind of failure;
    /// the URL and the network detail go to the log, not to a public page.
    pub(crate) fn provider_unavailable(status: StatusCode, failure: ProviderFailure) -> Self {
        Self::new(
            status,
            "provider_unavailable",
            "The login provider cannot be reached",
            format!(
                "The app could not read the provider's discovery document: {}.",
                failure.public_reason()
            ),
        )
        .check(failure.hint.clone())
        .check("The app retries in the background: once the provider answers, login works without a restart.")
        .retry("/login")
        .log_detail(format!("{}: {}", failure.url, failure.reason))
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
pub(crate) const SERVER_SIDE_STORE_HINT: &str = "Keep sessions server-side: set SESSION_STORE=redis://HOST:6379 (README: Choosing a session store), where a session has no size limit.";

impl From<SessionError> for AuthError {
    fn from(err: SessionError) -> Self {
        match err {
            SessionError::TooLarge { cookie_bytes } => AuthError::new(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "session_too_large",
                "Your session is too large to keep in cookies",
                format!("This would make {cookie_bytes} bytes of session cookies, more than browsers and proxies keep, so nothing was changed."),
            )
            .check(SERVER_SIDE_STORE_HINT)
            .log_detail(format!("cookie_bytes={cookie_bytes}")),
            SessionError::Unavailable(why) => AuthError::new(
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

impl AuthError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }
    /// The short, stable code: `state_mismatch`, `provider_unavailable`, `session_too_large`...
    pub fn code(&self) -> &'static str {
        self.0.code
    }
    /// The page's title.
    pub fn title(&self) -> &str {
        &self.0.title
    }
    /// What happened, in a sentence or two.
    pub fn what(&self) -> &str {
        &self.0.what
    }
    /// What to check or do, one item each.
    pub fn checks(&self) -> &[String] {
        &self.0.checks
    }
    /// The token checks that failed (only public values: category, message, detail, remedy).
    pub fn token_failures(&self) -> &[Failure] {
        &self.0.token_failures
    }
    /// A link onward, e.g. to try the login again.
    pub fn retry_href(&self) -> Option<&str> {
        self.0.retry.as_deref()
    }

    /// The error a response was made from, taken out of it: for an app's own error layer, which
    /// renders it in the app's layout instead of the library's plain page. `None` for any other
    /// response.
    ///
    /// ```
    /// use auth0_axum::AuthError;
    /// use axum::http::StatusCode;
    /// use axum::response::IntoResponse;
    /// let mut response = AuthError::new(StatusCode::NOT_FOUND, "not_found", "Not here", "Nothing at this address.").into_response();
    /// let error = AuthError::take_from(&mut response).expect("made from an AuthError");
    /// assert_eq!(error.status(), StatusCode::NOT_FOUND);
    /// assert!(AuthError::take_from(&mut response).is_none());
    /// ```
    pub fn take_from(response: &mut Response) -> Option<AuthError> {
        response.extensions_mut().remove::<AuthError>()
    }

    /// Logs this error once, at info for a 4xx and warn for a 5xx, with its detail.
    fn log(&self) {
        let (status, code) = (self.0.status.as_u16(), self.0.code);
        let detail = self.0.log_detail.as_deref().unwrap_or("");
        if self.0.status.is_server_error() {
            tracing::warn!(status, code, detail, "answered with an error page");
        } else {
            tracing::info!(status, code, detail, "answered with an error page");
        }
    }
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.0.title, self.0.code, self.0.what)
    }
}

impl std::error::Error for AuthError {}

#[derive(Template)]
#[template(path = "error.html")]
struct DefaultErrorPage<'a> {
    status: u16,
    error: &'a ErrorDetails,
    home: &'a str,
}

/// The library's plain error page, with the error itself as an extension (see
/// [`AuthError::take_from`]). Logged here, once.
impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        self.log();
        let page = DefaultErrorPage {
            status: self.0.status.as_u16(),
            error: &self.0,
            home: "/",
        }
        .render()
        .unwrap_or_else(|_| self.0.title.clone());
        let mut response = (self.0.status, Html(page)).into_response();
        if let Some(secs) = self.0.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response.extensions_mut().insert(self);
        response
    }
}

/// The "Log out?" question `/logout` asks when another site sent the browser there (logout CSRF):
/// the library answers with a plain page of its own and keeps this beside it, so an app can ask
/// in its own layout, as it renders an [`AuthError`]. The form must POST to [`LogoutPrompt::action`].
///
/// ```
/// use auth0_axum::LogoutPrompt;
/// use axum::response::{Html, IntoResponse, Response};
/// fn in_my_layout(mut response: Response) -> Response {
///     match LogoutPrompt::take_from(&mut response) {
///         Some(prompt) => Html(format!(
///             "<form method=post action=\"{}\"><button>Log out</button></form>",
///             prompt.action()
///         ))
///         .into_response(),
///         None => response,
///     }
/// }
/// ```
#[derive(Debug, Clone)]
pub struct LogoutPrompt {
    pub(crate) action: String,
}

impl LogoutPrompt {
    /// Where the confirmation form posts: the logout route as browsers see it.
    pub fn action(&self) -> &str {
        &self.action
    }

    /// The prompt a response was made for, taken out of it; `None` for any other response.
    pub fn take_from(response: &mut Response) -> Option<LogoutPrompt> {
        response.extensions_mut().remove::<LogoutPrompt>()
    }
}
