//! [`AccessToken`]: the user's access token for `AUTH0_AUDIENCE`, refreshed before it expires.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::to_login;
use crate::Auth0;
use crate::error::AuthError;
use crate::oidc::{LoginIdentity, RefreshError};
use crate::primitives::unix_now;
use crate::session::AppSession;

/// The user's access token for `AUTH0_AUDIENCE`, valid for at least another minute: refreshed
/// with the refresh token first when it expires within 60 s (rotation: the new refresh token is
/// kept; concurrent requests share one refresh). A refused refresh token (revoked, expired) ends
/// the session and sends the browser to log in again; without a refresh token, the browser goes
/// through a silent login (`prompt=none`) and back. An expired token is never handed out.
///
/// With DPoP (`AUTH0_USE_DPOP`), the token is bound to the app's key: send it with the headers
/// [`AccessToken::authorization`] makes for each request, never as `Bearer`.
///
/// ```
/// use auth0_axum::AccessToken;
/// use axum::http::Method;
/// async fn call_api(token: AccessToken) -> String {
///     let url = "https://api.example.com/orders";
///     // reqwest::Client::new().get(url).headers(token.authorization(&Method::GET, url))...
///     let headers = token.authorization(&Method::GET, url);
///     format!("{} header(s), DPoP-bound: {}", headers.len(), token.is_dpop_bound())
/// }
/// ```
pub struct AccessToken {
    token: String,
    dpop: Option<std::sync::Arc<crate::dpop::DpopClient>>,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessToken([redacted])")
    }
}

impl AccessToken {
    /// The token itself. Never log it. For a DPoP-bound token, use [`Self::authorization`].
    pub fn secret(&self) -> &str {
        &self.token
    }

    /// Whether the token is bound to the app's DPoP key (`token_type: DPoP`).
    pub fn is_dpop_bound(&self) -> bool {
        self.dpop.is_some()
    }

    /// The headers to call an API with this token at `method` `url`: `Authorization: Bearer
    /// <token>`, or, for a DPoP-bound token, `Authorization: DPoP <token>` and a fresh `DPoP`
    /// proof for this method and URL (with `ath`, RFC 9449 §7.1). Make them anew per request.
    pub fn authorization(&self, method: &axum::http::Method, url: &str) -> axum::http::HeaderMap {
        use axum::http::{HeaderName, HeaderValue, header};
        let mut headers = axum::http::HeaderMap::new();
        let (scheme, proof) = match &self.dpop {
            Some(dpop) => (
                "DPoP",
                Some(dpop.proof(method.as_str(), url, Some(&self.token))),
            ),
            None => ("Bearer", None),
        };
        if let Ok(value) = HeaderValue::from_str(&format!("{scheme} {}", self.token)) {
            headers.insert(header::AUTHORIZATION, value);
        }
        if let Some(Ok(value)) = proof.map(|p| HeaderValue::from_str(&p)) {
            headers.insert(HeaderName::from_static("dpop"), value);
        }
        headers
    }
}

/// Seconds before expiry at which a token is refreshed.
const REFRESH_BEFORE_SECS: i64 = 60;

impl<S> FromRequestParts<S> for AccessToken
where
    Auth0: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let auth = Auth0::from_ref(state);
        let state = &auth.0;
        let session = AppSession::from_request_parts(parts, &())
            .await
            .map_err(IntoResponse::into_response)?;
        let Some(user) = session
            .user()
            .await
            .map_err(|e| AuthError::from(e).into_response())?
        else {
            return Err(to_login(state, parts, &[]));
        };
        let now = unix_now();
        let fresh = user
            .token_expires_at
            .is_some_and(|at| at > now.saturating_add(REFRESH_BEFORE_SECS));
        let bound = |token_type: Option<&str>| {
            token_type
                .is_some_and(|t| t == "DPoP")
                .then(|| state.oidc.dpop().cloned())
                .flatten()
        };
        if let (Some(token), true) = (&user.access_token, fresh) {
            return Ok(AccessToken {
                token: token.clone(),
                dpop: bound(user.token_type.as_deref()),
            });
        }
        let Some(refresh_token) = user.refresh_token.clone() else {
            return Err(to_login(state, parts, &[("prompt", "none")]));
        };
        let login = LoginIdentity {
            sub: user.claim("sub").unwrap_or_default().to_string(),
            auth_time: user.auth_time,
        };
        let refreshed = state
            .shared
            .refresh_once(
                &state.config.app.session_secret,
                &refresh_token,
                session.is_server_side(),
                || state.oidc.refresh(&refresh_token, &login),
            )
            .await;
        match refreshed {
            Ok(tokens) => {
                let access_token = AccessToken {
                    token: tokens.access_token.clone(),
                    dpop: bound(tokens.token_type.as_deref()),
                };
                let user = user.refreshed(
                    tokens.access_token,
                    tokens.refresh_token,
                    tokens.expires_in,
                    tokens.permissions,
                    tokens.token_type,
                    now,
                );
                session
                    .replace_user(&user)
                    .await
                    .map_err(|e| AuthError::from(e).into_response())?;
                Ok(access_token)
            }
            Err(RefreshError::Refused(why)) => {
                tracing::info!(reason = %why, "the refresh token was refused; logging out to log in again");
                if let Err(err) = session.end().await {
                    return Err(AuthError::from(err).into_response());
                }
                Err(to_login(state, parts, &[]))
            }
            Err(RefreshError::IdTokenInvalid { failures, summary }) => {
                // The refresh token is spent (rotation) and the answer is not trusted: the
                // session ends, and the page names the check that failed.
                tracing::warn!(diagnosis = %summary, "a refresh answer's ID token failed its checks; logging out");
                if let Err(err) = session.end().await {
                    return Err(AuthError::from(err).into_response());
                }
                Err(AuthError::new(
                    StatusCode::UNAUTHORIZED,
                    "refresh_id_token_invalid",
                    "Your session could not be renewed safely",
                    "The provider's answer to the renewal of your access token carried an ID token that failed the checks below, so none of its tokens were used and you were logged out.",
                )
                .with_token_failures(failures)
                .retry(state.config.app.route_path("/login"))
                .into_response())
            }
            Err(err @ (RefreshError::Unavailable(_) | RefreshError::RateLimited { .. })) => {
                // An outage or Auth0's rate limit is not a refusal: the current token serves
                // while it is valid; without one, a 503 says when to try again.
                if let (Some(token), Some(at)) = (&user.access_token, user.token_expires_at)
                    && at > now
                {
                    tracing::info!(error = %err, left_secs = at - now, "the refresh failed; using the current access token while it is valid");
                    return Ok(AccessToken {
                        token: token.clone(),
                        dpop: bound(user.token_type.as_deref()),
                    });
                }
                Err(refresh_unavailable_page(err).into_response())
            }
        }
    }
}

/// The page when no valid token is left and the provider cannot renew it: 503 with `Retry-After`.
fn refresh_unavailable_page(err: RefreshError) -> AuthError {
    match err {
        RefreshError::RateLimited { retry_after } => {
            let secs = retry_after.unwrap_or(10);
            AuthError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "rate_limited",
                "Auth0 is limiting requests",
                format!("Your access token could not be renewed: Auth0 is limiting requests. Try again in {secs} s; you are still logged in."),
            )
            .retry_after(secs)
        }
        other => AuthError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "token_refresh_failed",
            "Your access token could not be renewed",
            "The provider did not answer the refresh of your access token, and the one you had has expired, so the API was not called.",
        )
        .check("Try again in a moment: you are still logged in.")
        .retry_after(10)
        .log_detail(other.to_string()),
    }
}
