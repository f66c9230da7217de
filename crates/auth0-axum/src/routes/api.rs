//! `GET /api/me` and `GET /api/messages`: bearer-protected JSON APIs. They accept an Auth0 access
//! token for `AUTH0_AUDIENCE` (signed by the tenant, checked by `token_check`); `/api/me` also a
//! logged-in browser session, and answers the claims. Failures answer as an ESP-compatible proxy (Envoy jwt_authn)
//! would: status, `{"code","message"}` body and `WWW-Authenticate`, plus our `category`.

use crate::session::AppSession;
use crate::state::AppState;
use crate::token_check::{self, AudienceSetting, Category, Expectations, message};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The ESP-style failure: `error="invalid_token"` except when there was no token at all.
fn failure(state: &AppState, path: &str, category: Category, msg: &str) -> Response {
    let status = StatusCode::from_u16(category.http_status()).unwrap_or(StatusCode::UNAUTHORIZED);
    let realm = state.config.app.base_url.join(path);
    let challenge = if category == Category::Missing {
        format!("Bearer realm=\"{realm}\"")
    } else {
        format!("Bearer realm=\"{realm}\", error=\"invalid_token\"")
    };
    let body = json!({"code": status.as_u16(), "message": msg, "category": category.code()});
    with_challenge((status, Json(body)).into_response(), &challenge)
}

fn with_challenge(mut response: Response, challenge: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// The token's verified claims, or the ESP-style refusal (logged with its diagnosis).
async fn verify(
    state: &AppState,
    path: &str,
    token: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, Response> {
    let provider = state.oidc.provider();
    let expect = match &state.config.app.audience {
        None => {
            tracing::warn!(
                "a bearer token reached the API, but AUTH0_AUDIENCE is not set: no API token can be trusted"
            );
            Expectations::unconfigured(
                "This app has no API configured: set AUTH0_AUDIENCE to your API's identifier (Auth0 dashboard > APIs) and restart.",
            )
        }
        Some(audience) => {
            // The advertised issuer when known; otherwise the one AUTH0_DOMAIN implies (the key
            // check will then report the provider as unreachable).
            let issuer = match provider.metadata().await {
                Ok(m) => m.issuer.clone(),
                Err(_) => state.config.tenant.provider_base.to_string(),
            };
            Expectations::new(issuer, audience.clone(), AudienceSetting::ApiAudience)
        }
    };
    let report = token_check::check(token, &expect, provider.as_ref()).await;
    match (report.verified_claims(), report.first_failure()) {
        (Some(claims), _) => Ok(claims.clone()),
        (None, Some(first)) => {
            tracing::info!(diagnosis = %report.summary(), "bearer token refused");
            Err(failure(state, path, first.category, first.message))
        }
        (None, None) => Err(failure(
            state,
            path,
            Category::SignatureInvalid,
            message::VERIFICATION_FAILS,
        )),
    }
}

pub async fn me(
    State(state): State<AppState>,
    session: AppSession,
    headers: HeaderMap,
) -> Response {
    let Some(token) = bearer_token(&headers) else {
        if let Ok(Some(user)) = session.user().await {
            return Json(json!({"source": "session", "claims": user.profile})).into_response();
        }
        return failure(&state, "/api/me", Category::Missing, message::MISSING);
    };
    match verify(&state, "/api/me", &token).await {
        Ok(claims) => Json(json!({"source": "bearer", "claims": claims})).into_response(),
        Err(refusal) => refusal,
    }
}

/// The permission `/api/messages` requires: Auth0's RBAC example.
pub const READ_MESSAGES: &str = "read:messages";

/// `GET /api/messages`: a bearer token with `read:messages` in its `permissions` (or `scope`);
/// without it, 403 `insufficient_scope` naming the permission (RFC 6750 3.1); no token, 401.
pub async fn messages(State(state): State<AppState>, headers: HeaderMap) -> Response {
    const PATH: &str = "/api/messages";
    let Some(token) = bearer_token(&headers) else {
        return failure(&state, PATH, Category::Missing, message::MISSING);
    };
    let claims = match verify(&state, PATH, &token).await {
        Ok(claims) => claims,
        Err(refusal) => return refusal,
    };
    if crate::oidc::granted(&claims)
        .iter()
        .any(|p| p == READ_MESSAGES)
    {
        return Json(json!({"messages": [
            {"from": "Auth0 Example", "text": "Your access token carries read:messages."}
        ]}))
        .into_response();
    }
    let realm = state.config.app.base_url.join(PATH);
    let challenge = format!(
        "Bearer realm=\"{realm}\", error=\"insufficient_scope\", scope=\"{READ_MESSAGES}\""
    );
    let body = json!({
        "code": 403,
        "message": format!("Insufficient scope: {READ_MESSAGES} is required"),
        "required": READ_MESSAGES,
    });
    with_challenge(
        (StatusCode::FORBIDDEN, Json(body)).into_response(),
        &challenge,
    )
}
