//! `GET /healthz`: the process answers (for liveness). `GET /readyz`: the app can log people in:
//! discovery has succeeded and the session store answers (the cookie store needs no service, so it
//! always does; Redis is pinged); 503 with a JSON reason otherwise (for readiness and load balancers). Neither
//! touches the session, and neither is logged at info: probes come every few seconds.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> Response {
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({"status": "ok"})),
    )
        .into_response()
}

async fn readyz(State(state): State<AppState>) -> Response {
    let store = state.sessions.ready().await;
    let (status, body) = match (state.oidc.provider().metadata().await, store) {
        (_, Err((store, err))) => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({
                "status": "not ready",
                "reason": format!("the session store at {store} does not answer: {err}"),
                "fix": "Start Redis, or fix SESSION_STORE; the app reconnects by itself.",
            }),
        ),
        (Ok(metadata), Ok(store)) => (
            StatusCode::OK,
            json!({
                "status": "ready",
                "provider": metadata.issuer,
                "session_store": store,
            }),
        ),
        (Err(failure), Ok(_)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({
                "status": "not ready",
                "reason": format!("the provider could not be discovered at {}: {}", failure.url, failure.reason),
                "fix": failure.hint,
            }),
        ),
    };
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}
