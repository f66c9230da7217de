//! `/login`: starts an authorization-code login with PKCE, state and nonce, remembered in this
//! browser's session so that `/callback` can finish it (once, within ten minutes).

use axum::extract::{OriginalUri, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::Redirect;
use serde::Deserialize;

use crate::error::AuthError;
use crate::error::SERVER_SIDE_STORE_HINT;
use crate::oidc::{AuthorizeError, AuthorizeParams, InvalidParameter, RequestedParams};
use crate::session::{AppSession, MAX_RETURN_TO_BYTES, SessionError, stored_return_to_len};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub(crate) struct LoginQuery {
    #[serde(rename = "returnTo")]
    return_to: Option<String>,
    /// What is passed on to Auth0's `/authorize`.
    #[serde(flatten)]
    params: RequestedParams,
}

/// A login request, checked before any I/O.
pub(crate) struct LoginRequest {
    pub return_to: String,
    pub params: AuthorizeParams,
}

impl TryFrom<LoginQuery> for LoginRequest {
    type Error = AuthError;

    fn try_from(q: LoginQuery) -> Result<Self, AuthError> {
        let return_to = safe_return_to(q.return_to.as_deref().unwrap_or("")).map_err(|why| {
            AuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_return_to",
                "That login link points somewhere it should not",
                format!("The returnTo address was refused: {why}. After login this app only returns to pages on this site."),
            )
            .check("Use a path like /profile.")
            .retry("/login")
            .log_detail(why)
        })?;
        let params = AuthorizeParams::new(q.params)?;
        Ok(Self { return_to, params })
    }
}

impl From<InvalidParameter> for AuthError {
    fn from(invalid: InvalidParameter) -> Self {
        AuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_login_parameter",
            "That login link has a bad parameter",
            format!("The {} parameter has a value this app does not pass on to Auth0.", invalid.name),
        )
        .check("prompt may be none, login, consent or select_account; screen_hint signup or login; max_age a number of seconds; organization an id (org_...) or a name, and the one in AUTH0_ORGANIZATION if that is set; login_hint, ui_locales, connection, acr_values and invitation as Auth0 documents them.")
        .retry("/login")
    }
}

/// A place to land after login: a local path only. Returns why not, otherwise.
pub fn safe_return_to(raw: &str) -> Result<String, &'static str> {
    if raw.is_empty() {
        return Ok("/".into());
    }
    if stored_return_to_len(raw) > MAX_RETURN_TO_BYTES {
        return Err("it is longer than 1024 bytes (counting each \" twice)");
    }
    if raw.chars().any(|c| c.is_control()) {
        return Err("it contains control characters");
    }
    if raw.contains('\\') {
        return Err("it contains a backslash, which browsers may read as //");
    }
    if !raw.starts_with('/') {
        return Err("it is not a path on this site (it must start with /)");
    }
    if raw.starts_with("//") {
        return Err("it starts with //, which browsers read as another site");
    }
    Ok(raw.to_string())
}

/// `/login` opened on `localhost` while `APP_BASE_URL` says `127.0.0.1` (or the other way round):
/// the login cookie would land on a host the provider does not return to. The same path on
/// `APP_BASE_URL` instead. Only between loopback names, so a proxy's internal Host never loops.
fn on_the_configured_host(state: &AppState, headers: &HeaderMap, uri: &Uri) -> Option<Redirect> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let base = &state.config.app.base_url;
    let loopback = |h: &str| {
        let name = h.rsplit_once(':').map_or(h, |(name, _)| name);
        matches!(name, "localhost" | "127.0.0.1" | "[::1]")
    };
    let wrong = !host.eq_ignore_ascii_case(&base.host_port())
        && loopback(host)
        && loopback(&base.host_port());
    wrong.then(|| {
        let path = uri.path_and_query().map_or("/login", |p| p.as_str());
        Redirect::temporary(&base.join(path))
    })
}

pub async fn login(
    State(state): State<AppState>,
    session: AppSession,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<LoginQuery>,
) -> Result<Redirect, AuthError> {
    if let Some(redirect) = on_the_configured_host(&state, &headers, &uri) {
        return Ok(redirect);
    }
    let mut request = LoginRequest::try_from(query)?;
    request.params = request
        .params
        .with_organization(state.config.app.organization.as_deref())?;
    let tx = state.oidc.begin(request.return_to, &request.params);
    let url = state
        .oidc
        .authorize_url(&tx, &request.params)
        .await
        .map_err(authorize_page)?;
    session.add_login(tx).await.map_err(|err| match err {
        SessionError::TooLarge { cookie_bytes } => AuthError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "session_too_large",
            "There is no room in your session to start a login",
            "Your session cookie is already so large that this login could not be remembered beside it.",
        )
        .check("Log out, then log in again.")
        .check(SERVER_SIDE_STORE_HINT)
        .retry("/logout")
        .log_detail(format!("cookie_bytes={cookie_bytes}")),
        unavailable => unavailable.into(),
    })?;
    Ok(Redirect::to(url.as_str()))
}

/// The page for a login that could not be sent to the provider.
fn authorize_page(err: AuthorizeError) -> AuthError {
    const SETTING: &str = "AUTH0_PUSHED_AUTHORIZATION_REQUESTS";
    match err {
        AuthorizeError::Provider(failure) => {
            AuthError::provider_unavailable(StatusCode::SERVICE_UNAVAILABLE, failure)
        }
        AuthorizeError::ParRequired => AuthError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "par_required",
            "The tenant requires Pushed Authorization Requests",
            "Your Auth0 tenant accepts only pushed authorization requests (its discovery document says require_pushed_authorization_requests), and this app is set to send the login in the URL, so no login was started.",
        )
        .check(format!("Set {SETTING}=true and restart.")),
        AuthorizeError::ParUnsupported => AuthError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "par_unsupported",
            "The tenant does not offer Pushed Authorization Requests",
            format!("{SETTING} is on, but the tenant's discovery document has no pushed_authorization_request_endpoint, so no login was started."),
        )
        .check("Turn on Pushed Authorization Requests for the tenant (Auth0: Settings > Advanced; an Enterprise plan feature), or set AUTH0_PUSHED_AUTHORIZATION_REQUESTS=false."),
        AuthorizeError::ParRefused {
            status,
            error,
            description,
        } => AuthError::new(
            StatusCode::BAD_GATEWAY,
            "par_refused",
            "The provider refused the pushed authorization request",
            format!("The PAR endpoint answered {status} {error}: {description}"),
        )
        .check("Check that Pushed Authorization Requests are allowed for this application (Applications > your app > Settings > Advanced), and the client credentials (AUTH0_CLIENT_SECRET or AUTH0_CLIENT_ASSERTION_SIGNING_KEY)."),
        AuthorizeError::ParUnavailable(why) => AuthError::new(
            StatusCode::BAD_GATEWAY,
            "par_unavailable",
            "The provider did not take the login",
            "The pushed authorization request could not be made, so no login was started.",
        )
        .check("Try again in a moment.")
        .log_detail(why),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_return_to;

    #[test]
    fn return_to_accepts_local_paths_only() {
        assert_eq!(safe_return_to("/profile?tab=1").unwrap(), "/profile?tab=1");
        assert_eq!(safe_return_to("").unwrap(), "/");
        for bad in [
            "//evil.com",
            "/\\evil.com",
            "https://evil.com",
            "evil.com",
            "/a\nb",
            "/\tx",
            "\\\\evil",
        ] {
            assert!(safe_return_to(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
