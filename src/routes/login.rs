//! `/login`: starts an authorization-code login with PKCE, state and nonce, remembered in this
//! browser's session so that `/callback` can finish it (once, within ten minutes).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Redirect;
use openidconnect::{CsrfToken, Nonce, PkceCodeChallenge};
use serde::Deserialize;
use tower_sessions::Session;

use crate::AppState;
use crate::error::AppError;
use crate::session::{
    LoginTransaction, MAX_RETURN_TO_BYTES, add_pending_login, stored_return_to_len,
};
use crate::token_check::unix_now;

#[derive(Debug, Deserialize)]
pub struct LoginParams {
    #[serde(rename = "returnTo")]
    return_to: Option<String>,
    screen_hint: Option<String>,
    organization: Option<String>,
    invitation: Option<String>,
    prompt: Option<String>,
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

/// Auth0 parameters passed through, each limited to a sane shape.
fn passthrough(name: &str, value: &str) -> Result<(), AppError> {
    let ok = match name {
        "prompt" => matches!(value, "none" | "login" | "consent" | "select_account"),
        "screen_hint" => matches!(value, "signup" | "login"),
        _ => {
            value.len() <= 256
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        }
    };
    if ok {
        Ok(())
    } else {
        Err(AppError::new(
            StatusCode::BAD_REQUEST,
            "invalid_login_parameter",
            "That login link has a bad parameter",
            format!("The {name} parameter has a value this app does not pass on to Auth0."),
        )
        .check("prompt may be none, login, consent or select_account; screen_hint may be signup or login; organization and invitation are Auth0 ids.")
        .retry("/login"))
    }
}

pub async fn login(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<LoginParams>,
) -> Result<Redirect, AppError> {
    let return_to = safe_return_to(params.return_to.as_deref().unwrap_or("")).map_err(|why| {
        tracing::warn!(reason = why, "refused a returnTo");
        AppError::new(
            StatusCode::BAD_REQUEST,
            "invalid_return_to",
            "That login link points somewhere it should not",
            format!("The returnTo address was refused: {why}. After login this app only returns to pages on this site."),
        )
        .check("Use a path like /profile.")
        .retry("/login")
    })?;

    let metadata = state
        .provider
        .metadata()
        .await
        .map_err(|f| AppError::provider_unavailable(StatusCode::SERVICE_UNAVAILABLE, f))?;

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let csrf = CsrfToken::new_random();
    let nonce = Nonce::new_random();

    let mut url = url::Url::parse(&metadata.authorization_endpoint).map_err(AppError::internal)?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", &state.config.client_id)
            .append_pair("redirect_uri", &state.config.redirect_uri())
            .append_pair("scope", &state.config.scope)
            .append_pair("state", csrf.secret())
            .append_pair("nonce", nonce.secret())
            .append_pair("code_challenge", challenge.as_str())
            .append_pair("code_challenge_method", "S256");
        if let Some(audience) = &state.config.audience {
            q.append_pair("audience", audience);
        }
        for (name, value) in [
            ("screen_hint", &params.screen_hint),
            ("organization", &params.organization),
            ("invitation", &params.invitation),
            ("prompt", &params.prompt),
        ] {
            if let Some(value) = value {
                passthrough(name, value)?;
                q.append_pair(name, value);
            }
        }
    }

    add_pending_login(
        &session,
        LoginTransaction {
            state: csrf.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            return_to,
            created_at: unix_now(),
        },
    )
    .await
    .map_err(|too_large| {
        tracing::warn!(set_cookie_bytes = too_large.set_cookie_bytes, "no room for a login in progress");
        AppError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "session_too_large",
            "There is no room in your session to start a login",
            "Your session cookie is already so large that this login could not be remembered beside it.",
        )
        .check("Log out, then log in again.")
        .retry("/logout")
    })?;
    Ok(Redirect::to(url.as_str()))
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
