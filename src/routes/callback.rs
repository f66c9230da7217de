//! `/callback`: finishes a login. Checks the state against this browser's logins in progress,
//! exchanges the code (with the PKCE verifier), validates the ID token with `token_check`, merges
//! userinfo, and starts a fresh session. Every way this can fail gets its own page.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Redirect;
use serde::Deserialize;
use serde_json::{Map, Value};
use tower_sessions::Session;

use crate::AppState;
use crate::error::AppError;
use crate::oidc::ExchangeError;
use crate::session::{
    TakenLogin, UserSession, cookie_name, start_user_session, take_pending_login,
};
use crate::token_check::{self, Expectations, IdTokenExpectations, text, unix_now};

#[derive(Debug, Deserialize)]
pub struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    /// RFC 9207: the issuer of this authorization response (a mix-up defence).
    iss: Option<String>,
}

/// Claims about the protocol, not the person: not kept in the session.
const PROTOCOL_CLAIMS: [&str; 14] = [
    "iss",
    "aud",
    "exp",
    "iat",
    "nbf",
    "nonce",
    "at_hash",
    "c_hash",
    "azp",
    "auth_time",
    "sid",
    "jti",
    "acr",
    "amr",
];

fn bad_request(code: &'static str, title: &str, what: impl Into<String>) -> AppError {
    AppError::new(StatusCode::BAD_REQUEST, code, title, what).retry("/login")
}

/// The browser came back without the session cookie set at `/login`.
fn cookie_did_not_come_back(state: &AppState, headers: &HeaderMap) -> AppError {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let expected = state.config.base_host();
    let mut error = bad_request(
        "login_cookie_missing",
        "Your browser did not send back the login cookie",
        "This login was started, but the cookie that remembers it did not come back with the provider's answer, so the app cannot tell that this browser started it.",
    );
    if !host.is_empty() && !host.eq_ignore_ascii_case(&expected) {
        error = error.check(format!(
            "You are on {host}, but APP_BASE_URL says {}. Cookies set on one host are not sent to another (127.0.0.1 and localhost are different hosts). Open {}/ and log in from there, or set APP_BASE_URL to the address you use (and add its /callback to the Allowed Callback URLs in Auth0).",
            state.config.base_url, state.config.base_url
        ));
    } else {
        error = error
            .check("Cookies may be blocked for this site in your browser: allow them.")
            .check("The login may have been started in another browser or a private window.");
    }
    error.retry(format!("{}/login", state.config.base_url))
}

pub async fn callback(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Query(params): Query<CallbackParams>,
) -> Result<Redirect, AppError> {
    let Some(returned_state) = params.state.as_deref().filter(|s| !s.is_empty()) else {
        return Err(bad_request(
            "missing_state",
            "The login answer has no state",
            "The provider's answer is missing the state parameter that ties it to a login started here, so it cannot be trusted.",
        )
        .check("Start logins from this app's /login, not from a bookmarked provider page."));
    };

    let taken = take_pending_login(&session, returned_state).await;
    // The cookie may be a copy saved before this login was answered: the process remembers.
    if !matches!(taken, TakenLogin::NotFound { .. })
        && !state.used_logins.first_use(returned_state, unix_now())
    {
        tracing::warn!(
            "a login answer was replayed with an old cookie; refused before the provider"
        );
        return Err(bad_request(
            "state_mismatch",
            "This login answer does not match a login started in this browser",
            "This login was already answered once. A login can be finished only once: a reload of this page, or a replayed link, does not work.",
        )
        .check("Start a new login from this app."));
    }
    let tx = match taken {
        TakenLogin::Found(tx) => tx,
        TakenLogin::Expired => {
            return Err(bad_request(
                "login_expired",
                "This login took too long",
                "More than 10 minutes passed between starting the login and coming back. Please log in again.",
            ));
        }
        TakenLogin::NotFound { others } => {
            let cookie = cookie_name(state.config.base_is_https());
            let had_cookie = headers
                .get_all(header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .any(|v| {
                    v.split(';')
                        .any(|c| c.trim_start().starts_with(&format!("{cookie}=")))
                });
            if !had_cookie {
                return Err(cookie_did_not_come_back(&state, &headers));
            }
            tracing::warn!(others, "callback state matches no login in progress");
            return Err(bad_request(
                "state_mismatch",
                "This login answer does not match a login started in this browser",
                "The state in the provider's answer matches no login in progress here. It was already used (a reload or a replayed link), or it belongs to a login started elsewhere.",
            )
            .check("Start a new login from this app."));
        }
    };

    // RFC 9207: an answer that names its issuer must name ours (else it may come from another
    // provider this browser talks to: a mix-up attack). A provider that promises `iss` must send it.
    if params.iss.is_some() || state.provider.promises_response_iss() {
        let metadata = state
            .provider
            .metadata()
            .await
            .map_err(|f| AppError::provider_unavailable(StatusCode::BAD_GATEWAY, f))?;
        if params.iss.as_deref() != Some(metadata.issuer.as_str()) {
            tracing::warn!(
                iss = params.iss.as_deref().map(text::quote).unwrap_or_default(),
                "the login answer names another issuer; refused"
            );
            return Err(bad_request(
                "issuer_mismatch",
                "This login answer comes from another provider",
                match params.iss.as_deref() {
                    Some(iss) => format!(
                        "The answer says it was issued by {}, but this app logs in with {}. It was refused: it may be a mix-up between providers.",
                        text::quote(iss),
                        metadata.issuer
                    ),
                    None => format!(
                        "{} promises to name itself in every login answer (RFC 9207), and this one does not. It was refused.",
                        metadata.issuer
                    ),
                },
            )
            .check("Start a new login from this app. If it keeps happening, check AUTH0_DOMAIN."));
        }
    }

    if let Some(error) = params.error.as_deref() {
        // Both come from the query string: bounded and escaped before they reach a page or a log.
        let description = text::clean(params.error_description.as_deref().unwrap_or_default());
        let error = &*text::truncate(&text::escape_controls(error), 80);
        tracing::info!(error, "the provider answered the login with an error");
        let (status, title) = match error {
            "access_denied" => (StatusCode::FORBIDDEN, "The login was cancelled or denied"),
            "login_required" | "consent_required" | "interaction_required" => (
                StatusCode::UNAUTHORIZED,
                "The provider needs you to sign in interactively",
            ),
            _ => (StatusCode::BAD_REQUEST, "The provider refused the login"),
        };
        let mut page = AppError::new(
            status,
            "provider_error",
            title,
            format!(
                "The provider answered {error}{}{description}.",
                if description.is_empty() { "" } else { ": " }
            ),
        )
        .retry("/login");
        if error == "access_denied" {
            page = page.check("If you cancelled, nothing is wrong: log in again when you are ready. If an Auth0 Action or rule denied access, its message is above.");
        }
        return Err(page);
    }

    let Some(code) = params.code.as_deref().filter(|c| !c.is_empty()) else {
        return Err(bad_request(
            "missing_code",
            "The login answer has no code",
            "The provider came back without an authorization code or an error.",
        ));
    };

    let metadata = state
        .provider
        .metadata()
        .await
        .map_err(|f| AppError::provider_unavailable(StatusCode::BAD_GATEWAY, f))?;

    let tokens = state
        .provider
        .exchange_code(&metadata, &state.config, code, &tx.pkce_verifier)
        .await
        .map_err(|err| match err {
            ExchangeError::Unreachable(why) => {
                tracing::warn!(reason = %why, "code exchange failed");
                AppError::new(
                    StatusCode::BAD_GATEWAY,
                    "token_exchange_failed",
                    "The provider did not complete the login",
                    format!("The token endpoint could not be used: {why}."),
                )
                .retry("/login")
            }
            ExchangeError::Rejected { status, error, description } => {
                tracing::warn!(status, error = %error, "the provider refused the code");
                let mut page = bad_request(
                    "token_exchange_refused",
                    "The provider refused to complete the login",
                    format!("The token endpoint answered {error}{}{description}.", if description.is_empty() { "" } else { ": " }),
                );
                if error == "invalid_client" || error == "unauthorized_client" {
                    page = page.check("Check AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET against Applications > your app > Settings.");
                }
                if error == "invalid_grant" {
                    page = page.check("The code was already used or has expired (a reload of this page does that). Log in again.")
                        .check(format!("Make sure {} is listed in Allowed Callback URLs.", state.config.redirect_uri()));
                }
                page
            }
        })?;

    let Some(id_token) = tokens.id_token.as_deref() else {
        return Err(bad_request(
            "no_id_token",
            "The provider sent no ID token",
            "Without an ID token there is no verified identity.",
        )
        .check("AUTH0_SCOPE must include openid."));
    };

    let mut expect = Expectations::new(
        metadata.issuer.clone(),
        state.config.client_id.clone(),
        "AUTH0_CLIENT_ID",
    );
    expect.id_token = Some(IdTokenExpectations {
        client_id: state.config.client_id.clone(),
        nonce: tx.nonce.clone(),
        access_token: Some(tokens.access_token.clone()),
    });
    let report = token_check::check(id_token, &expect, state.provider.as_ref()).await;
    let Some(claims) = report.verified_claims() else {
        tracing::warn!(diagnosis = %report.summary(), "the ID token failed validation");
        return Err(AppError::new(
            StatusCode::UNAUTHORIZED,
            "id_token_invalid",
            "The ID token failed validation",
            "The provider's answer came back, but the ID token in it did not pass the checks below, so nobody was logged in.",
        )
        .with_token_failures(report.failures().cloned().collect())
        .check("`cargo run -- check-token <token>` runs the same checks on any token and prints each one.")
        .retry("/login"));
    };

    let mut profile: Map<String, Value> = claims
        .iter()
        .filter(|(k, _)| !PROTOCOL_CLAIMS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if metadata.userinfo_endpoint.is_some() {
        match state
            .provider
            .userinfo(&metadata, &tokens.access_token)
            .await
        {
            Ok(info) if info.get("sub") == profile.get("sub") => {
                for (k, v) in info {
                    profile.insert(k, v);
                }
            }
            Ok(_) => {
                tracing::warn!("userinfo is about another subject than the ID token; ignored");
            }
            // The ID token already identifies the user: a userinfo hiccup does not fail the login.
            Err(why) => {
                tracing::warn!(reason = %why, "userinfo could not be fetched; using the ID token's claims")
            }
        }
    }

    let now = unix_now();
    let wants_api = state.config.audience.is_some();
    let user = UserSession {
        profile,
        sid: claims
            .get("sid")
            .and_then(Value::as_str)
            .map(str::to_string),
        access_token: wants_api.then(|| tokens.access_token.clone()),
        refresh_token: tokens.refresh_token.clone(),
        // expires_in is the provider's number: bounded (a year) and added without overflow.
        token_expires_at: tokens
            .expires_in
            .map(|s| now.saturating_add(s.clamp(0, 365 * 24 * 3600))),
        logged_in_at: now,
        refreshed_at: now,
    };
    let size = start_user_session(&session, user).await.map_err(|too_large| {
        tracing::warn!(set_cookie_bytes = too_large.set_cookie_bytes, "profile too large for a cookie session");
        AppError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "session_too_large",
            "Your profile is too large to keep in a cookie",
            format!(
                "Your login succeeded, but your profile would make a {}-byte session cookie; browsers silently drop cookies over 4096 bytes, so you would look logged out. Nobody was logged in.",
                too_large.set_cookie_bytes
            ),
        )
        .check("Ask for fewer claims: trim AUTH0_SCOPE, or remove large custom claims added by an Auth0 Action.")
        .check("Or keep sessions server-side: swap the cookie store in src/session.rs for a tower-sessions store.")
    })?;
    tracing::info!(set_cookie_bytes = size, "logged in");
    Ok(Redirect::to(&tx.return_to))
}
