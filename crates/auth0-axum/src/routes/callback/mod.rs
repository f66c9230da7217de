//! `/callback`: finishes a login. The answer's parameters are checked first, then the state
//! against this browser's logins in progress (and the process's memory of answered ones), the
//! issuer (RFC 9207); `oidc` exchanges the code and checks the ID token; a fresh session starts.
//! Every way this can fail gets its own page: the wording of `LoginError`s is here.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Redirect;
use serde::Deserialize;

use crate::error::{AuthError, SERVER_SIDE_STORE_HINT};
use crate::hooks::LoginCompleted;
use crate::oidc::LoginError;
use crate::primitives::unix_now;
use crate::routes::login::safe_return_to;
use crate::session::{
    AppSession, LoginTransaction, SessionError, TakenLogin, UserSession, cookie_name, cookie_pairs,
};
use crate::state::AppState;
use crate::token_check::text;

mod wording;

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    /// RFC 9207: the issuer of this authorization response (a mix-up defence).
    iss: Option<String>,
}

/// The provider's answer, checked for shape before any I/O.
pub struct CallbackAnswer {
    state: String,
    iss: Option<String>,
    code: Option<String>,
    error: Option<(String, String)>,
}

impl TryFrom<CallbackQuery> for CallbackAnswer {
    type Error = AuthError;

    fn try_from(q: CallbackQuery) -> Result<Self, AuthError> {
        let Some(state) = q.state.filter(|s| !s.is_empty()) else {
            return Err(bad_request(
                "missing_state",
                "The login answer has no state",
                "The provider's answer is missing the state parameter that ties it to a login started here, so it cannot be trusted.",
            )
            .check("Start logins from this app's /login, not from a bookmarked provider page."));
        };
        Ok(Self {
            state,
            iss: q.iss,
            code: q.code.filter(|c| !c.is_empty()),
            error: q
                .error
                .map(|e| (e, q.error_description.unwrap_or_default())),
        })
    }
}

/// What the provider's answer to this login says.
enum Outcome {
    Code(String),
    Error(LoginError),
    Nothing,
}

impl CallbackAnswer {
    fn outcome(self, tx: &LoginTransaction) -> Outcome {
        match (self.error, self.code) {
            (Some((error, description)), _) => Outcome::Error(LoginError::from_authorize_answer(
                &error,
                &description,
                tx.silent,
            )),
            (None, Some(code)) => Outcome::Code(code),
            (None, None) => Outcome::Nothing,
        }
    }
}

pub async fn callback(
    State(state): State<AppState>,
    session: AppSession,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Result<Redirect, AuthError> {
    let answer = CallbackAnswer::try_from(query)?;
    let app = &state.config.app;
    let tx = match take_login(&state, &session, &answer.state, &headers).await? {
        Taken::Login(tx) => tx,
        // The back button or a reload after the login finished: nothing to do but go on.
        Taken::AlreadyLoggedIn => return Ok(Redirect::to(&app.base_url.browser_path("/"))),
    };
    state
        .oidc
        .check_response_issuer(answer.iss.as_deref())
        .await?;
    let code = match answer.outcome(&tx) {
        Outcome::Code(code) => code,
        // prompt=none and the user must sign in: back where they were, as a guest; or, for a
        // logged-in user whose token needs renewing, on to the interactive login.
        Outcome::Error(LoginError::SilentLoginDeclined) => {
            if session.user().await?.is_some() {
                let target: String = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("returnTo", &tx.return_to)
                    .finish();
                let login = app.route_path("/login");
                return Ok(Redirect::to(&format!("{login}?{target}")));
            }
            return Ok(Redirect::to(&app.base_url.browser_path(&tx.return_to)));
        }
        Outcome::Error(error) => return Err(error.into()),
        Outcome::Nothing => {
            return Err(bad_request(
                "missing_code",
                "The login answer has no code",
                "The provider came back without an authorization code or an error.",
            ));
        }
    };
    let login = state.oidc.finish_login(&code, &tx).await?;
    let mut user = login.into_user_session(app.audience.is_some(), unix_now());
    state.config.session_claims.filter(&mut user.profile);
    let (user, return_to) = after_login_hook(&state, user, tx.return_to).await?;
    let size = state
        .sessions
        .start(&session, user)
        .await
        .map_err(profile_too_large)?;
    tracing::info!(session_bytes = size, "logged in");
    Ok(Redirect::to(&app.base_url.browser_path(&return_to)))
}

/// The app's `/callback` hook, if any: it may refuse the login, add app data, or choose where the
/// browser goes (a path on this site only, checked as `returnTo` is).
async fn after_login_hook(
    state: &AppState,
    user: UserSession,
    return_to: String,
) -> Result<(UserSession, String), AuthError> {
    let Some(hook) = &state.config.on_callback else {
        return Ok((user, return_to));
    };
    let done = hook.run(LoginCompleted { user, return_to }).await?;
    let return_to = safe_return_to(&done.return_to).map_err(|why| {
        AuthError::internal(format!(
            "the app's callback hook chose a return path that is not on this site ({why}): {:?}",
            text::truncate(&text::escape_controls(&done.return_to), 120)
        ))
    })?;
    Ok((done.user, return_to))
}

/// A session that would not fit in cookies names the setting that lifts the limit.
fn profile_too_large(err: SessionError) -> AuthError {
    match err {
        SessionError::TooLarge { cookie_bytes } => AuthError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "session_too_large",
            "Your profile is too large to keep in cookies",
            format!(
                "Your login succeeded, but your profile would take {cookie_bytes} bytes of session cookies: more than browsers keep (4,096 bytes a cookie) and proxies accept (8,190 bytes of Cookie header) together, so you would look logged out. Nobody was logged in.",
            ),
        )
        .check(SERVER_SIDE_STORE_HINT)
        .check("Or ask for fewer claims: trim AUTH0_SCOPE, remove large custom claims added by an Auth0 Action, or keep fewer in the session (SessionClaims)."),
        unavailable => unavailable.into(),
    }
}

enum Taken {
    Login(LoginTransaction),
    /// No login in progress has this state, and someone is logged in: a finished login's answer.
    AlreadyLoggedIn,
}

/// The login in progress with this state: found in this browser's session, and not answered
/// before in this process (a cookie saved before the callback could replay it otherwise).
async fn take_login(
    state: &AppState,
    session: &AppSession,
    returned_state: &str,
    headers: &HeaderMap,
) -> Result<Taken, AuthError> {
    let taken = session.take_login(returned_state).await?;
    if matches!(taken, TakenLogin::NotFound { .. }) && session.user().await?.is_some() {
        return Ok(Taken::AlreadyLoggedIn);
    }
    if !matches!(taken, TakenLogin::NotFound { .. })
        && !state
            .shared
            .first_login_use(returned_state)
            .await
            .map_err(AuthError::from)?
    {
        return Err(bad_request(
            "state_mismatch",
            "This login answer does not match a login started in this browser",
            "This login was already answered once. A login can be finished only once: a reload of this page, or a replayed link, does not work.",
        )
        .check("Start a new login from this app.")
        .log_detail("a login answer was replayed with an old cookie; refused before the provider"));
    }
    match taken {
        TakenLogin::Found(tx) => Ok(Taken::Login(tx)),
        TakenLogin::Expired => Err(bad_request(
            "login_expired",
            "This login took too long",
            "More than 10 minutes passed between starting the login and coming back. Please log in again.",
        )),
        TakenLogin::NotFound { others } => {
            let cookie = cookie_name(&state.config.app);
            let prefix = format!("{cookie}=");
            let had_cookie = cookie_pairs(headers).any(|c| c.starts_with(&prefix));
            if !had_cookie {
                return Err(cookie_did_not_come_back(state, headers));
            }
            Err(bad_request(
                "state_mismatch",
                "This login answer does not match a login started in this browser",
                "The state in the provider's answer matches no login in progress here. It was already used (a reload or a replayed link), or it belongs to a login started elsewhere.",
            )
            .check("Start a new login from this app.")
            .log_detail(format!("callback state matches no login in progress (others pending: {others})")))
        }
    }
}

fn bad_request(code: &'static str, title: &str, what: impl Into<String>) -> AuthError {
    AuthError::new(StatusCode::BAD_REQUEST, code, title, what).retry("/login")
}

/// The browser came back without the session cookie set at `/login`.
fn cookie_did_not_come_back(state: &AppState, headers: &HeaderMap) -> AuthError {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let base = &state.config.app.base_url;
    let mut error = bad_request(
        "login_cookie_missing",
        "Your browser did not send back the login cookie",
        "This login was started, but the cookie that remembers it did not come back with the provider's answer, so the app cannot tell that this browser started it.",
    );
    if !host.is_empty() && !host.eq_ignore_ascii_case(&base.host_port()) {
        error = error.check(format!(
            "You are on {}, but APP_BASE_URL says {base}. Cookies set on one host are not sent to another (127.0.0.1 and localhost are different hosts). Open {base}/ and log in from there, or set APP_BASE_URL to the address you use (and add its /callback to the Allowed Callback URLs in Auth0).",
            text::truncate(&text::escape_controls(host), 120)
        ));
    } else {
        error = error
            .check("Cookies may be blocked for this site in your browser: allow them.")
            .check("The login may have been started in another browser or a private window.");
    }
    error.retry(state.config.app.route_url("/login"))
}
