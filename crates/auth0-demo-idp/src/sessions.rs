//! The provider's sessions and OIDC Back-Channel Logout: when a session ends at the provider (an
//! administrator revokes it, or the user logs out of another app on the same single sign-on), the
//! provider POSTs a signed logout token to the app's back-channel logout URI, as Auth0 does.
//! `GET /demo/sessions` lists the sessions with a button that ends each one; tests sign tokens
//! (valid, or with one flaw each) and send them through [`super::DemoProvider`].

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::{Shared, lock};
use crate::util::{random_token, unix_now};

/// The `events` member of a logout token (OIDC Back-Channel Logout 1.0 §2.4).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The claims of a valid logout token for this session (`sid`) and user (`sub`): Auth0's shape.
pub(super) fn logout_claims(
    s: &Shared,
    sid: Option<&str>,
    sub: Option<&str>,
) -> Map<String, Value> {
    let now = unix_now();
    let mut claims = json!({
        "iss": s.issuer,
        "aud": lock(&s.client).client_id,
        "iat": now,
        "exp": now + 120,
        "jti": random_token(16),
        "events": { BACKCHANNEL_LOGOUT_EVENT: {} },
    });
    if let Some(sid) = sid {
        claims["sid"] = json!(sid);
    }
    if let Some(sub) = sub {
        claims["sub"] = json!(sub);
    }
    claims.as_object().cloned().unwrap_or_default()
}

/// Signs a logout token with the active key (header `typ: logout+jwt`, as the spec recommends).
pub(super) fn sign_logout_token(s: &Shared, claims: &Map<String, Value>) -> String {
    let kid = lock(&s.active_kid).clone();
    s.keys[&kid].sign_with_header(
        json!({"alg": "RS256", "typ": "logout+jwt", "kid": kid}),
        claims,
    )
}

/// POSTs a logout token to the app's back-channel logout URI: the app's status and body.
pub(super) async fn send(s: &Shared, token: &str) -> Result<(u16, String), String> {
    let Some(uri) = lock(&s.client).backchannel_logout_uri.clone() else {
        return Err("the app registered no back-channel logout URI".into());
    };
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string())?;
    let response = client
        .post(&uri)
        .form(&[("logout_token", token)])
        .send()
        .await
        .map_err(|e| format!("the app did not answer at {uri}: {e}"))?;
    let status = response.status().as_u16();
    Ok((status, response.text().await.unwrap_or_default()))
}

#[derive(Template, WebTemplate)]
#[template(path = "demo_idp/sessions.html")]
struct SessionsPage {
    sessions: Vec<(String, String)>,
    outcome: Option<String>,
}

fn sessions_page(s: &Shared, outcome: Option<String>) -> Response {
    let mut sessions = lock(&s.sessions).entries();
    sessions.sort();
    SessionsPage { sessions, outcome }.into_response()
}

/// `GET /demo/sessions`: the provider's sessions, each with a button that ends it.
pub(super) async fn list(State(s): State<Shared>) -> Response {
    sessions_page(&s, None)
}

/// `POST /demo/sessions/end`: ends a session at the provider and tells the app (back-channel).
pub(super) async fn end(
    State(s): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(sid) = form.get("sid") else {
        return (StatusCode::BAD_REQUEST, "sid is required").into_response();
    };
    let Some(sub) = lock(&s.sessions).take(sid) else {
        return sessions_page(&s, Some("That session had already ended.".into()));
    };
    let token = sign_logout_token(&s, &logout_claims(&s, Some(sid), Some(&sub)));
    let outcome = match send(&s, &token).await {
        Ok((status, body)) => format!("Session of {sub} ended; the app answered {status} {body}"),
        Err(why) => format!("Session of {sub} ended; {why}"),
    };
    tracing::info!(%outcome, "demo provider: back-channel logout sent");
    sessions_page(&s, Some(outcome))
}
