//! `/logout`: ends the session here, then at the provider: its `end_session_endpoint` when
//! discovery advertises one (RP-initiated logout), otherwise Auth0's `/v2/logout`.

use axum::extract::State;
use axum::response::Redirect;
use tower_sessions::Session;

use crate::AppState;
use crate::session::end_session;

pub async fn logout(State(state): State<AppState>, session: Session) -> Redirect {
    let id_token = end_session(&session).await;
    let config = &state.config;
    let metadata = match state.provider.metadata().await {
        Ok(m) => m,
        Err(failure) => {
            // The local session is gone either way; the provider's may outlive it.
            tracing::warn!(reason = %failure.reason, "provider unreachable at logout: logged out of the app only");
            return Redirect::to("/");
        }
    };
    let target = match &metadata.end_session_endpoint {
        Some(endpoint) => url::Url::parse(endpoint).map(|mut url| {
            {
                let mut q = url.query_pairs_mut();
                if let Some(token) = &id_token {
                    q.append_pair("id_token_hint", token);
                }
                q.append_pair("post_logout_redirect_uri", config.post_logout_uri())
                    .append_pair("client_id", &config.client_id);
            }
            url
        }),
        None => config.provider_base.join("v2/logout").map(|mut url| {
            url.query_pairs_mut()
                .append_pair("returnTo", config.post_logout_uri())
                .append_pair("client_id", &config.client_id);
            url
        }),
    };
    match target {
        Ok(url) => Redirect::to(url.as_str()),
        Err(err) => {
            tracing::warn!(error = %err, "bad end_session_endpoint; logged out of the app only");
            Redirect::to("/")
        }
    }
}
