//! The provider's HTTP routes on Auth0's paths, and the discovery document and key set.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use super::{Shared, authorize, lock, logout, sessions, token};

pub(crate) fn router(state: Shared) -> Router {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/jwks/{suffix}", get(jwks_at))
        .route("/authorize", get(authorize::authorize))
        .route("/authorize/decision", post(authorize::decision))
        .route("/oauth/token", post(token::token))
        .route("/oauth/par", post(authorize::pushed))
        .route("/oauth/revoke", post(token::revoke))
        .route("/userinfo", get(token::userinfo))
        .route("/oidc/logout", get(logout::end_session))
        .route("/v2/logout", get(logout::v2_logout))
        .route("/avatar/{name}", get(logout::avatar))
        .route("/demo/sessions", get(sessions::list))
        .route("/demo/sessions/end", post(sessions::end))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            |State(s): State<Shared>,
             request: axum::extract::Request,
             next: axum::middleware::Next| async move {
                s.requests.fetch_add(1, Ordering::SeqCst);
                next.run(request).await
            },
        ))
        .with_state(state)
}

async fn discovery(State(s): State<Shared>) -> Response {
    s.discovery_fetches.fetch_add(1, Ordering::SeqCst);
    let b = lock(&s.behaviour).clone();
    if let Some(status) = b.discovery_status {
        return failing_status(status);
    }
    let iss = &s.issuer;
    let jwks_uri = match &b.jwks_uri_suffix {
        Some(suffix) => format!("{iss}jwks/{suffix}"),
        None => format!("{iss}.well-known/jwks.json"),
    };
    let mut doc = json!({
        "issuer": b.discovery_issuer_override.as_deref().unwrap_or(iss),
        "authorization_endpoint": format!("{iss}authorize"),
        "token_endpoint": format!("{iss}oauth/token"),
        "userinfo_endpoint": format!("{iss}userinfo"),
        "revocation_endpoint": format!("{iss}oauth/revoke"),
        "jwks_uri": jwks_uri,
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "name", "nickname", "picture", "email", "email_verified"],
    });
    if !b.omit_par_endpoint {
        doc["dpop_signing_alg_values_supported"] = json!(["ES256", "RS256", "PS256"]);
        doc["pushed_authorization_request_endpoint"] = json!(format!("{iss}oauth/par"));
    }
    if b.require_par {
        doc["require_pushed_authorization_requests"] = json!(true);
    }
    if b.unadvertise_response_iss {
        doc["authorization_response_iss_parameter_supported"] = json!(false);
    }
    if let Some(methods) = &b.token_auth_methods {
        doc["token_endpoint_auth_methods_supported"] = json!(methods);
    }
    if b.advertise_end_session {
        doc["end_session_endpoint"] = json!(format!("{iss}oidc/logout"));
    }
    Json(doc).into_response()
}

fn failing_status(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, "Demo provider: failing on request").into_response()
}

/// The key set at the path discovery advertises when `jwks_uri_suffix` is set; 404 elsewhere.
async fn jwks_at(
    State(s): State<Shared>,
    axum::extract::Path(suffix): axum::extract::Path<String>,
) -> Response {
    let advertised = lock(&s.behaviour).jwks_uri_suffix.clone();
    if advertised.as_deref() != Some(suffix.as_str()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    serve_jwks(s).await
}

/// The key set at its usual path, unless discovery advertises another (then 404 here: a client
/// must use the advertised one).
async fn jwks(State(s): State<Shared>) -> Response {
    if lock(&s.behaviour).jwks_uri_suffix.is_some() {
        return StatusCode::NOT_FOUND.into_response();
    }
    serve_jwks(s).await
}

async fn serve_jwks(s: Shared) -> Response {
    s.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let (status, delay) = {
        let b = lock(&s.behaviour);
        (b.jwks_status, b.jwks_delay_ms)
    };
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    if let Some(status) = status {
        return failing_status(status);
    }
    let kids = lock(&s.published_kids).clone();
    let set = openidconnect::core::CoreJsonWebKeySet::new(
        kids.iter().map(|k| s.keys[k].public_jwk()).collect(),
    );
    Json(serde_json::to_value(set).unwrap_or_default()).into_response()
}

/// A page the provider shows itself: it never redirects to an unregistered URI.
pub(crate) fn idp_error(status: StatusCode, what: &str) -> Response {
    (status, format!("Demo provider: {what}")).into_response()
}

pub(crate) fn redirect_with(uri: &str, params: &[(&str, &str)]) -> Response {
    match url::Url::parse(uri) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(params);
            Redirect::to(url.as_str()).into_response()
        }
        Err(_) => idp_error(StatusCode::BAD_REQUEST, "bad redirect_uri"),
    }
}
