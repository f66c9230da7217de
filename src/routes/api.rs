//! `GET /api/me`: a bearer-protected JSON API. It accepts an Auth0 access token for
//! `AUTH0_AUDIENCE` (signed by the tenant, checked by `token_check`) or a logged-in browser
//! session, and answers the claims. Failures answer as an ESP-compatible proxy (Envoy jwt_authn)
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
fn failure(state: &AppState, category: Category, msg: &str) -> Response {
    let status = StatusCode::from_u16(category.http_status()).unwrap_or(StatusCode::UNAUTHORIZED);
    let realm = state.config.app.base_url.join("/api/me");
    let challenge = if category == Category::Missing {
        format!("Bearer realm=\"{realm}\"")
    } else {
        format!("Bearer realm=\"{realm}\", error=\"invalid_token\"")
    };
    let mut response = (
        status,
        Json(json!({"code": status.as_u16(), "message": msg, "category": category.code()})),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

pub async fn me(
    State(state): State<AppState>,
    session: AppSession,
    headers: HeaderMap,
) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_string())
        .filter(|t| !t.is_empty());

    let Some(token) = bearer else {
        if let Some(user) = session.user().await {
            return Json(json!({"source": "session", "claims": user.profile})).into_response();
        }
        return failure(&state, Category::Missing, message::MISSING);
    };

    let provider = state.oidc.provider();
    let expect = match &state.config.app.audience {
        None => {
            tracing::warn!(
                "a bearer token reached /api/me, but AUTH0_AUDIENCE is not set: no API token can be trusted"
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
    let report = token_check::check(&token, &expect, provider.as_ref()).await;
    match (report.verified_claims(), report.first_failure()) {
        (Some(claims), _) => Json(json!({"source": "bearer", "claims": claims})).into_response(),
        (None, Some(first)) => {
            tracing::info!(diagnosis = %report.summary(), "bearer token refused");
            failure(&state, first.category, first.message)
        }
        (None, None) => failure(
            &state,
            Category::SignatureInvalid,
            message::VERIFICATION_FAILS,
        ),
    }
}
