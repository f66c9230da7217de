//! `/logout`: ends the session here, then at the provider (`oidc::LoginClient::logout_url`: its
//! `end_session_endpoint`, or Auth0's `/v2/logout`).
//!
//! Logout CSRF: a logout another site asked for (a cross-site link or form) is not done; the user
//! gets a "Log out?" page whose button posts the logout from this origin. The app's own Logout link
//! still logs out in one step, as in the quickstart.

use crate::error::{AuthError, LogoutPrompt};
use crate::session::AppSession;
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};

/// Asked when a logout did not come from this app's own pages (logout CSRF).
#[derive(Template)]
#[template(path = "logout_confirm.html")]
struct LogoutConfirmPage {
    action: String,
    home: String,
}

/// Where a request came from, as far as the browser says.
#[derive(Debug, PartialEq, Eq)]
enum Initiator {
    /// This app's own page, or the user typing the URL (`Sec-Fetch-Site: same-origin` / `none`).
    ThisApp,
    /// Another site (or another origin of this site) made the browser send it.
    Foreign,
    /// The browser said nothing (old browsers, curl).
    Unknown,
}

fn initiator(headers: &HeaderMap, app_origin: &str) -> Initiator {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    // Under `Referrer-Policy: no-referrer` a same-origin POST carries `Origin: null`: only a real
    // foreign origin counts against the request.
    match header("origin") {
        Some(origin) if origin != "null" && origin != app_origin => return Initiator::Foreign,
        _ => {}
    }
    match header("sec-fetch-site") {
        Some("same-origin" | "none") => Initiator::ThisApp,
        Some(_) => Initiator::Foreign,
        None if header("origin") == Some(app_origin) => Initiator::ThisApp,
        None => Initiator::Unknown,
    }
}

pub async fn logout(
    State(state): State<AppState>,
    session: AppSession,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, AuthError> {
    let from = initiator(&headers, &state.config.app.base_url.origin());
    if method == Method::POST && from != Initiator::ThisApp {
        return Err(AuthError::new(
            StatusCode::FORBIDDEN,
            "logout_cross_site",
            "That logout did not come from this app",
            "A logout form on another site was refused, so you are still logged in.",
        )
        .check("To log out, use the Logout link on this site.")
        .retry(state.config.app.base_url.browser_path("/"))
        .log_detail(format!("refused a logout posted from {from:?}")));
    }
    if method == Method::GET && from == Initiator::Foreign {
        // Asked even of a guest: the logout would also end the provider's session.
        tracing::info!("a logout link from another site: asking first");
        let action = state.config.app.route_path("/logout");
        let page = LogoutConfirmPage {
            action: action.clone(),
            home: state.config.app.base_url.browser_path("/"),
        };
        let mut response = Html(page.render().map_err(AuthError::internal)?).into_response();
        response.extensions_mut().insert(LogoutPrompt { action });
        return Ok(response);
    }
    Ok(end_everywhere(&state, &session).await?.into_response())
}

/// Ends the session here, then sends the browser to end the provider's too.
async fn end_everywhere(state: &AppState, session: &AppSession) -> Result<Redirect, AuthError> {
    // The refresh token dies with the session: revoked at the tenant (RFC 7009), so a copy of
    // the session taken earlier cannot renew its tokens.
    let user = session.user().await.ok().flatten();
    let id = session.id();
    let sid = session.end().await?;
    if let (Some(user), Some(id)) = (&user, id) {
        state.sessions.forget(id, user).await;
    }
    let refresh_token = user.and_then(|user| user.refresh_token);
    tracing::info!("logged out");
    if let Some(token) = refresh_token {
        match state.oidc.revoke_refresh_token(&token).await {
            Ok(()) => tracing::info!("refresh token revoked at the provider"),
            Err(why) => {
                tracing::warn!(reason = %why, "the refresh token could not be revoked at logout")
            }
        }
    }
    Ok(match state.oidc.logout_url(sid.as_deref()).await {
        Ok(url) => Redirect::to(url.as_str()),
        Err(failure) => {
            // The local session is gone either way; the provider's may outlive it.
            tracing::warn!(reason = %failure.reason, "provider unreachable at logout: logged out of the app only");
            Redirect::to(&state.config.app.base_url.browser_path("/"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_initiator_is_read_from_fetch_metadata_and_origin() {
        let app = "https://app.example.com";
        let cases: [(&[(&str, &str)], Initiator); 8] = [
            (&[("sec-fetch-site", "same-origin")], Initiator::ThisApp),
            (&[("sec-fetch-site", "none")], Initiator::ThisApp),
            (&[("sec-fetch-site", "cross-site")], Initiator::Foreign),
            (&[("sec-fetch-site", "same-site")], Initiator::Foreign),
            (&[("origin", "https://evil.example")], Initiator::Foreign),
            (
                &[("origin", "null"), ("sec-fetch-site", "same-origin")],
                Initiator::ThisApp,
            ),
            (&[("origin", "https://app.example.com")], Initiator::ThisApp),
            (&[], Initiator::Unknown),
        ];
        for (pairs, expected) in cases {
            assert_eq!(initiator(&headers(pairs), app), expected, "{pairs:?}");
        }
    }
}
