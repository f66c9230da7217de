//! `/call-api`: calls your API (`API_URL`, by default this app's own `/api/me`) from the server
//! with the user's access token, and shows what it answered, like Auth0's "call an API" samples.
//! `/messages`: a page for users with the `read:messages` permission (`RequirePermission`).

use std::time::Duration;

use axum::extract::{FromRequestParts, Request, State};
use axum::response::{IntoResponse, Response};

use crate::routes::extract::{AccessToken, MaybeUser, ReadMessages, RequirePermission};
use crate::state::AppState;
use crate::views::{CallApiPage, Layout, MessagesPage};

/// The most of the API's answer shown.
const MAX_BODY_BYTES: usize = 16 * 1024;

/// Asks for a token (refreshing, or logging in, first) only when an API is configured; without one,
/// the page says what to set.
pub async fn call_api(State(state): State<AppState>, request: Request) -> Response {
    let (mut parts, _) = request.into_parts();
    let MaybeUser(user) = match MaybeUser::from_request_parts(&mut parts, &state).await {
        Ok(user) => user,
        Err(error) => return error.into_response(),
    };
    let layout = Layout::new(&state, user.as_ref());
    if state.config.app.audience.is_none() {
        return CallApiPage::unconfigured(layout).into_response();
    }
    let AccessToken(token) = match AccessToken::from_request_parts(&mut parts, &state).await {
        Ok(token) => token,
        Err(response) => return response,
    };
    let url = state
        .config
        .app
        .api_url
        .as_ref()
        .map(|u| u.to_string())
        .unwrap_or_else(|| state.config.app.base_url.join("/api/me"));
    let answer = state
        .oidc
        .provider()
        .http()
        .get(&url)
        .bearer_auth(&token)
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    let (status, body) = match answer {
        Ok(response) => {
            let status = response.status().as_u16();
            let bytes = response.bytes().await.unwrap_or_default();
            let text =
                String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_BODY_BYTES)]).into_owned();
            let pretty = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or(text);
            (status, pretty)
        }
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

pub async fn messages(
    State(state): State<AppState>,
    RequirePermission(user, _): RequirePermission<ReadMessages>,
) -> impl IntoResponse {
    MessagesPage {
        layout: Layout::new(&state, Some(&user)),
    }
}
