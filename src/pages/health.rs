//! `GET /healthz`: the process answers (liveness). `GET /readyz`: logins can work (discovery has
//! succeeded and the session store answers); 503 with a short reason otherwise, the detail in the
//! log. Neither touches the session.

use auth0_axum::{Auth0, Readiness};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::app::AppState;

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

async fn readyz(State(auth): State<Auth0>) -> Response {
    let (status, body) = match auth.ready().await {
        Readiness::Ready { .. } => (StatusCode::OK, json!({"status": "ready"})),
        Readiness::NotReady {
            reason,
            fix,
            detail,
        } => {
            tracing::debug!(%detail, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"status": "not ready", "reason": reason, "fix": fix}),
            )
        }
    };
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}
