//! `GET /api/me` and `GET /api/messages`: bearer-protected JSON APIs (`BearerClaims`: an Auth0
//! access token for `AUTH0_AUDIENCE`, every check named on failure). `/api/me` also answers a
//! logged-in browser, from its session.

use auth0_axum::{AuthSession, BearerClaims, BearerRefusal};
use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::call_api::ReadMessages;
use auth0_axum::Permission as _;

/// The token's claims; without a token, the session's user (a store that does not answer is its
/// 503 page); otherwise the bearer refusal.
pub async fn me(session: AuthSession, bearer: Result<BearerClaims, BearerRefusal>) -> Response {
    match bearer {
        Ok(claims) => Json(json!({"source": "bearer", "claims": claims.claims()})).into_response(),
        Err(refusal) if refusal.is_missing() => match session.user().await {
            Ok(Some(user)) => {
                Json(json!({"source": "session", "claims": user.claims()})).into_response()
            }
            Ok(None) => refusal.into_response(),
            Err(error) => error.into_response(),
        },
        Err(refusal) => refusal.into_response(),
    }
}

/// `read:messages` in the token's `permissions` (or `scope`); without it, 403
/// `insufficient_scope` naming it; no token, 401.
pub async fn messages(claims: BearerClaims) -> Result<Response, BearerRefusal> {
    claims.require_permission(ReadMessages::NAME)?;
    Ok(Json(json!({"messages": [
        {"from": "Auth0 Example", "text": "Your access token carries read:messages."}
    ]}))
    .into_response())
}
