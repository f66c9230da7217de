//! `POST /backchannel-logout`: the provider ends sessions here (OIDC Back-Channel Logout 1.0; in
//! Auth0: Applications > your app > Settings > "Back-Channel Logout URI"). The logout token is
//! checked (`oidc::LoginClient::verify_logout_token`), its `jti` must be new, then the sessions of
//! its `sid` (or, without one, of its `sub`) are deleted. 200 when done; 400 naming the failed
//! check when the token is invalid (nothing is ended); 501 in cookie mode, where the app keeps no
//! sessions it could end; 503 when the provider's keys or the store cannot be reached (the
//! provider may retry). Answers are never cached. Served outside the session layer: the provider
//! sends no cookie.

use axum::Json;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::oidc::LogoutTokenError;
use crate::session::{LogoutOutcome, SessionError};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct LogoutForm {
    logout_token: String,
}

fn answer(status: StatusCode, error: &str, description: impl Into<String>) -> Response {
    let body = json!({"error": error, "error_description": description.into()});
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

pub async fn backchannel_logout(
    State(state): State<AppState>,
    form: Result<Form<LogoutForm>, FormRejection>,
) -> Response {
    if !state.sessions.can_end_sessions() {
        return answer(
            StatusCode::NOT_IMPLEMENTED,
            "not_supported",
            "This app keeps sessions in cookies (SESSION_STORE=cookie), which it cannot end from here. Set SESSION_STORE=redis://HOST:6379 for back-channel logout.",
        );
    }
    let Ok(Form(form)) = form else {
        return answer(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "expected a form (application/x-www-form-urlencoded) with a logout_token",
        );
    };
    let request = match state.oidc.verify_logout_token(&form.logout_token).await {
        Ok(request) => request,
        Err(LogoutTokenError::Refused { check, detail }) => {
            tracing::info!(%check, %detail, "back-channel logout refused");
            return answer(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("logout token refused: {check}: {detail}"),
            );
        }
        Err(LogoutTokenError::ProviderUnavailable(failure)) => {
            tracing::warn!(reason = %failure.reason, "back-channel logout: the provider's keys cannot be had");
            return answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the provider's keys could not be fetched to verify the logout token",
            );
        }
    };
    let ended = state.sessions.end_by_logout(&request).await;
    answer_for(ended, request.sid.is_some())
}

/// What the provider is told of what the store did.
fn answer_for(ended: Result<LogoutOutcome, SessionError>, by_sid: bool) -> Response {
    match ended {
        Ok(LogoutOutcome::Ended(ended)) => {
            tracing::info!(ended, by_sid, "back-channel logout: sessions ended");
            (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")]).into_response()
        }
        Ok(LogoutOutcome::Replayed) => {
            tracing::info!("back-channel logout refused: jti replayed");
            answer(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "logout token refused: jti: this logout token was already used",
            )
        }
        Err(err) => {
            tracing::warn!(error = %err, "back-channel logout: the session store did not answer");
            answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the session store did not answer; nothing was ended",
            )
        }
    }
}
