//! `/call-api`: calls your API (`API_URL`, by default this app's own `/api/me`) from the server
//! with the user's access token, and shows what it answered, like Auth0's "call an API" samples.
//! `/messages`: a page for users with the `read:messages` permission (`RequirePermission`).

use std::time::Duration;

use auth0_axum::{AccessToken, Permission, RequirePermission, User};
use axum::extract::{FromRequestParts, Request, State};
use axum::response::{IntoResponse, Response};

use super::views::{CallApiPage, Layout, MessagesPage};
use crate::app::AppState;

/// The most of the API's answer read and shown.
const MAX_BODY_BYTES: usize = 16 * 1024;
/// The API call's whole budget: connect, answer and the shown part of the body.
const API_TIMEOUT: Duration = Duration::from_secs(10);

/// The client the app calls APIs with: no redirects followed, bounded in time.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(API_TIMEOUT)
        .build()
        .unwrap_or_default()
}

/// Asks for a token (refreshing, or logging in, first) only when an API is configured; without
/// one, the page says what to set.
pub async fn call_api(State(state): State<AppState>, request: Request) -> Response {
    let (mut parts, _) = request.into_parts();
    let user = match Option::<User>::from_request_parts(&mut parts, &state).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let layout = Layout::new(&state, user.as_ref());
    let config = state.auth.config();
    if config.audience().is_none() {
        return CallApiPage {
            layout,
            configured: false,
            url: String::new(),
            status: 0,
            body: String::new(),
        }
        .into_response();
    }
    let token = match AccessToken::from_request_parts(&mut parts, &state).await {
        Ok(token) => token,
        Err(response) => return response,
    };
    let url = config
        .api_url()
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}/api/me", config.base_url()));
    let (status, body) = match call(&state.http, &url, &token).await {
        Ok((status, text)) => (status, pretty_json(text)),
        Err(err) => (0, format!("The API could not be reached: {err}")),
    };
    CallApiPage {
        layout,
        configured: true,
        url,
        status,
        body,
    }
    .into_response()
}

/// The API's status and at most [`MAX_BODY_BYTES`] of its answer: the rest is never read.
async fn call(
    http: &reqwest::Client,
    url: &str,
    token: &AccessToken,
) -> Result<(u16, String), reqwest::Error> {
    let headers = token.authorization(&axum::http::Method::GET, url);
    let mut response = http.get(url).headers(headers).send().await?;
    let status = response.status().as_u16();
    let mut bytes = Vec::new();
    while bytes.len() < MAX_BODY_BYTES {
        match response.chunk().await? {
            Some(chunk) => bytes.extend_from_slice(&chunk),
            None => break,
        }
    }
    bytes.truncate(MAX_BODY_BYTES);
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}

fn pretty_json(text: String) -> String {
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or(text)
}

/// Auth0's RBAC example permission.
pub struct ReadMessages;

impl Permission for ReadMessages {
    const NAME: &'static str = "read:messages";
}

pub async fn messages(
    State(state): State<AppState>,
    RequirePermission(user, _): RequirePermission<ReadMessages>,
) -> impl IntoResponse {
    MessagesPage {
        layout: Layout::new(&state, Some(&user)),
    }
}
