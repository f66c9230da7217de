//! `/logout`: ends the session here, then at the provider: its `end_session_endpoint` when
//! discovery advertises one (RP-initiated logout), otherwise Auth0's `/v2/logout`. Both go by
//! `client_id`, with the provider's session id as `logout_hint`: the session keeps no ID token
//! for `id_token_hint` (it would double the cookie; see `session::UserSession::sid`).

use axum::extract::State;
use axum::response::Redirect;
use tower_sessions::Session;

use crate::AppState;
use crate::session::end_session;

pub async fn logout(State(state): State<AppState>, session: Session) -> Redirect {
    let sid = end_session(&session).await;
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
                q.append_pair("post_logout_redirect_uri", config.post_logout_uri())
                    .append_pair("client_id", &config.client_id);
                if let Some(sid) = &sid {
                    q.append_pair("logout_hint", sid);
                }
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
