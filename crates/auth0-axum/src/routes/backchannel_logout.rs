//! `POST /backchannel-logout`: the provider ends sessions here (OIDC Back-Channel Logout 1.0; in
//! Auth0: Applications > your app > Settings > "Back-Channel Logout URI"). The logout token is
//! checked (`oidc::LoginClient::verify_logout_token`), its `jti` must be new, then the sessions of
//! its `sid` (or, without one, of its `sub`) are deleted; cookie sessions, which the server cannot
//! delete, are ended by a deny-list entry instead (see `session::ended`). 200 when done; 400
//! naming the failed check when the token is invalid (nothing is ended); 503 when the provider's
//! keys or the store cannot be reached (the provider may retry). Answers are never cached. Served
//! outside the session layer: the provider sends no cookie.
//!
//! At most [`MAX_BODY_BYTES`] of the body are read (413 past that), within [`BODY_DEADLINE`] (408
//! past that), whatever server the app runs on: a logout token is a few KB, sent at once.

use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Form, FromRequest, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::oidc::LogoutTokenError;
use crate::session::{LogoutOutcome, SessionError};
use crate::state::AppState;

/// The largest body read: a logout token is one JWT of a few KB.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// How long the body may take to arrive.
pub const BODY_DEADLINE: Duration = Duration::from_secs(10);

#[derive(Deserialize)]
pub struct LogoutForm {
    logout_token: String,
}

fn answer(status: StatusCode, error: &str, description: impl Into<String>) -> Response {
    let body = json!({"error": error, "error_description": description.into()});
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

pub async fn backchannel_logout(State(state): State<AppState>, request: Request) -> Response {
    let form = match read_form(request).await {
        Ok(form) => form,
        Err(response) => return response,
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
    let ended = state.sessions.end_by_logout(&request, &state.shared).await;
    answer_for(ended, request.sid.is_some())
}

fn too_large() -> Response {
    answer(
        StatusCode::PAYLOAD_TOO_LARGE,
        "invalid_request",
        format!("the body is over {MAX_BODY_BYTES} bytes: a logout token is a few KB"),
    )
}

/// The logout form, read within the size and time bounds.
async fn read_form(request: Request) -> Result<LogoutForm, Response> {
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let bytes =
        match tokio::time::timeout(BODY_DEADLINE, axum::body::to_bytes(body, MAX_BODY_BYTES)).await
        {
            Err(_) => {
                tracing::info!("back-channel logout: the body did not arrive in time");
                return Err(answer(
                    StatusCode::REQUEST_TIMEOUT,
                    "invalid_request",
                    format!(
                        "the body did not arrive within {} s",
                        BODY_DEADLINE.as_secs()
                    ),
                ));
            }
            Ok(Err(_)) => {
                return Err(answer(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    format!("the body was cut off, or is over {MAX_BODY_BYTES} bytes"),
                ));
            }
            Ok(Ok(bytes)) => bytes,
        };
    let request = Request::from_parts(parts, Body::from(bytes));
    match Form::<LogoutForm>::from_request(request, &()).await {
        Ok(Form(form)) => Ok(form),
        Err(_) => Err(answer(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "expected a form (application/x-www-form-urlencoded) with a logout_token",
        )),
    }
}

/// What the provider is told of what the store did.
fn answer_for(ended: Result<LogoutOutcome, SessionError>, by_sid: bool) -> Response {
    match ended {
        Ok(LogoutOutcome::Ended(ended)) => {
            tracing::info!(ended, by_sid, "back-channel logout: sessions ended");
            (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")]).into_response()
        }
        Ok(LogoutOutcome::Denied) => {
            tracing::info!(by_sid, "back-channel logout: sessions ended (deny-list)");
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
