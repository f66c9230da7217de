//! [`AccessToken`]: the user's access token for `AUTH0_AUDIENCE`, refreshed before it expires.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::{this_page, to_login_at};
use crate::Auth0;
use crate::error::AuthError;
use crate::oidc::{LoginIdentity, RefreshError, RefreshedTokens, Resource};
use crate::primitives::unix_now;
use crate::session::{ApiToken, AppSession, SessionError, UserSession};
use crate::state::AppState;

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
        let session = AppSession::from_request_parts(parts, &())
            .await
            .map_err(IntoResponse::into_response)?;
        obtain(&auth.0, &session, this_page(parts), None).await
    }
}

/// Access tokens for other APIs than `AUTH0_AUDIENCE`, with the same login (Auth0's
/// Multi-Resource Refresh Tokens): [`ApiTokens::for_api`] asks the token endpoint for a token
/// for that API and its scopes with the session's refresh token, keeps it in the session beside
/// the others, and refreshes each before it expires.
///
/// Needs `offline_access` in `AUTH0_SCOPE` (a refresh token), and each API and its scopes
/// listed in the application's refresh-token policies at Auth0 (Management API:
/// `refresh_token.policies`); for an API they do not list, Auth0 answers with a token for the
/// default audience, and `for_api` answers a page saying which policy to add. In cookie
/// sessions the tokens share the cookie's budget: when one more would not fit, the least
/// recently fetched ones are dropped (they are fetched again when next needed).
///
/// ```
/// use auth0_axum::ApiTokens;
/// use axum::response::{IntoResponse, Response};
/// async fn orders(tokens: ApiTokens) -> Response {
///     match tokens.for_api("https://orders.example.com", "read:orders").await {
///         Ok(token) => format!("DPoP-bound: {}", token.is_dpop_bound()).into_response(),
///         Err(page) => page,
///     }
/// }
/// ```
pub struct ApiTokens {
    auth: Auth0,
    session: AppSession,
    page: String,
}

impl std::fmt::Debug for ApiTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiTokens")
    }
}

impl ApiTokens {
    /// A valid access token for the API `audience` with (at least) `scope` (space-separated);
    /// the default audience's token when `audience` is `AUTH0_AUDIENCE`. `Err` is the page to
    /// answer with: to log in again, or why the token could not be had.
    pub async fn for_api(&self, audience: &str, scope: &str) -> Result<AccessToken, Response> {
        let state = &self.auth.0;
        let resource = (state.config.app.audience.as_deref() != Some(audience)).then(|| Resource {
            audience: audience.to_string(),
            scope: scope.to_string(),
        });
        obtain(state, &self.session, &self.page, resource.as_ref()).await
    }
}

impl<S> FromRequestParts<S> for ApiTokens
where
    Auth0: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let auth = Auth0::from_ref(state);
        let session = AppSession::from_request_parts(parts, &())
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(ApiTokens {
            auth,
            session,
            page: this_page(parts).to_string(),
        })
    }
}

/// The token the session holds for `resource` (or the default audience): the token, when it
/// expires, and its type.
fn held(
    user: &UserSession,
    resource: Option<&Resource>,
) -> Option<(String, Option<i64>, Option<String>)> {
    match resource {
        None => user
            .access_token
            .clone()
            .map(|t| (t, user.token_expires_at, user.token_type.clone())),
        Some(r) => user
            .api_tokens
            .iter()
            .find(|t| t.serves(&r.audience, &r.scope))
            .map(|t| (t.access_token.clone(), t.expires_at, t.token_type.clone())),
    }
}

/// The session's user with a refresh's tokens in the slot they are for: the default audience's,
/// or the API's (with the scopes this request asked, or those kept for that API when the answer
/// was another request's).
fn with_tokens(
    user: UserSession,
    tokens: RefreshedTokens,
    resource: Option<&Resource>,
    now: i64,
) -> UserSession {
    let Some(audience) = tokens.audience else {
        return user.refreshed(
            tokens.access_token,
            tokens.refresh_token,
            tokens.expires_in,
            tokens.permissions,
            tokens.token_type,
            now,
        );
    };
    let scope = match resource {
        Some(r) if r.audience == audience => r.scope.clone(),
        _ => user
            .api_tokens
            .iter()
            .find(|t| t.audience == audience)
            .map(|t| t.scope.clone())
            .unwrap_or_default(),
    };
    let token = ApiToken {
        audience,
        scope,
        access_token: tokens.access_token,
        expires_at: crate::session::token_expiry(tokens.expires_in, now),
        token_type: tokens.token_type,
    };
    user.with_api_token(token, tokens.refresh_token)
}

/// A valid access token for `resource` (or `AUTH0_AUDIENCE`): the one kept, or a refresh's.
async fn obtain(
    state: &AppState,
    session: &AppSession,
    page: &str,
    resource: Option<&Resource>,
) -> Result<AccessToken, Response> {
    let Some(mut user) = session
        .user()
        .await
        .map_err(|e| AuthError::from(e).into_response())?
    else {
        return Err(to_login_at(state, page, &[]));
    };
    let now = unix_now();
    let bound = |token_type: Option<&str>| {
        token_type
            .is_some_and(|t| t == "DPoP")
            .then(|| state.oidc.dpop().cloned())
            .flatten()
    };
    // Kept while it has a minute left.
    if let Some((token, Some(at), token_type)) = held(&user, resource)
        && at > now.saturating_add(REFRESH_BEFORE_SECS)
    {
        return Ok(AccessToken {
            token,
            dpop: bound(token_type.as_deref()),
        });
    }
    let login = LoginIdentity {
        sub: user.claim("sub").unwrap_or_default().to_string(),
        auth_time: user.auth_time,
    };
    // A refresh that answered for another API (a concurrent request's, sharing the refresh
    // token's flight) is kept, and the rotated refresh token asked again, once.
    for attempt in 0..2 {
        let Some(refresh_token) = user.refresh_token.clone() else {
            return Err(match resource {
                None => to_login_at(state, page, &[("prompt", "none")]),
                Some(r) => no_refresh_token_page(&r.audience).into_response(),
            });
        };
        let refreshed = state
            .shared
            .refresh_once(
                &state.config.app.session_secret,
                &refresh_token,
                session.is_server_side(),
                || state.oidc.refresh(&refresh_token, &login, resource),
            )
            .await;
        match refreshed {
            Ok(tokens) => {
                let asked = resource.map(|r| r.audience.as_str());
                let answered_for_this = tokens.audience.as_deref() == asked;
                let (token, token_type) = (tokens.access_token.clone(), tokens.token_type.clone());
                let audience = tokens.audience.clone();
                user = with_tokens(user, tokens, resource, now);
                store_making_room(session, &mut user).await?;
                if answered_for_this {
                    return Ok(AccessToken {
                        token,
                        dpop: bound(token_type.as_deref()),
                    });
                }
                // Asked twice for another API and answered twice for the default audience: Auth0
                // ignores the audience (the first answer may have been a concurrent request's).
                if attempt == 1
                    && audience.is_none()
                    && let Some(r) = resource
                {
                    return Err(audience_ignored_page(&r.audience).into_response());
                }
            }
            Err(RefreshError::Refused(why)) => {
                tracing::info!(reason = %why, "the refresh token was refused; logging out to log in again");
                if let Err(err) = session.end().await {
                    return Err(AuthError::from(err).into_response());
                }
                return Err(to_login_at(state, page, &[]));
            }
            Err(RefreshError::IdTokenInvalid { failures, summary }) => {
                // The refresh token is spent (rotation) and the answer is not trusted: the
                // session ends, and the page names the check that failed.
                tracing::warn!(diagnosis = %summary, "a refresh answer's ID token failed its checks; logging out");
                if let Err(err) = session.end().await {
                    return Err(AuthError::from(err).into_response());
                }
                return Err(AuthError::new(
                    StatusCode::UNAUTHORIZED,
                    "refresh_id_token_invalid",
                    "Your session could not be renewed safely",
                    "The provider's answer to the renewal of your access token carried an ID token that failed the checks below, so none of its tokens were used and you were logged out.",
                )
                .with_token_failures(failures)
                .retry(state.config.app.route_path("/login"))
                .into_response());
            }
            Err(err @ (RefreshError::Unavailable(_) | RefreshError::RateLimited { .. })) => {
                // An outage or Auth0's rate limit is not a refusal: the current token serves
                // while it is valid; without one, a 503 says when to try again.
                if let Some((token, Some(at), token_type)) = held(&user, resource)
                    && at > now
                {
                    tracing::info!(error = %err, left_secs = at - now, "the refresh failed; using the current access token while it is valid");
                    return Ok(AccessToken {
                        token,
                        dpop: bound(token_type.as_deref()),
                    });
                }
                return Err(refresh_unavailable_page(err).into_response());
            }
        }
    }
    Err(refresh_unavailable_page(RefreshError::Unavailable(
        "concurrent requests for other APIs kept renewing the refresh token".into(),
    ))
    .into_response())
}

/// Stores `user`; in cookie sessions, drops the oldest other-API tokens while it would not fit.
async fn store_making_room(session: &AppSession, user: &mut UserSession) -> Result<(), Response> {
    loop {
        match session.replace_user(user).await {
            Err(SessionError::TooLarge { cookie_bytes }) if !user.api_tokens.is_empty() => {
                let dropped = user.api_tokens.remove(0);
                tracing::info!(audience = %dropped.audience, cookie_bytes, "the session's cookies were full: dropped the oldest token for another API (fetched again when needed)");
            }
            Err(err) => return Err(AuthError::from(err).into_response()),
            Ok(()) => return Ok(()),
        }
    }
}

/// A token for another API needs a refresh token.
fn no_refresh_token_page(audience: &str) -> AuthError {
    AuthError::new(
        StatusCode::FORBIDDEN,
        "no_refresh_token",
        "This page needs a token for another API",
        format!("A token for {} is asked for with the session's refresh token, and this session has none.", crate::token_check::text::quote(audience)),
    )
    .check("If you run this app: add offline_access to AUTH0_SCOPE and turn on Allow Offline Access for your API in the Auth0 dashboard, then log in again.")
}

/// Auth0 answered a request for another API with a token for the default one.
fn audience_ignored_page(audience: &str) -> AuthError {
    AuthError::new(
        StatusCode::FORBIDDEN,
        "audience_not_in_refresh_token_policies",
        "A token for this API could not be had",
        format!("Auth0 was asked for a token for {} with the session's refresh token and answered with a token for another API, which it does when the application's refresh-token policies do not list that API.", crate::token_check::text::quote(audience)),
    )
    .check("If you run this app: add the API and its scopes to the application's refresh_token.policies (Management API, Update a Client; Multi-Resource Refresh Token).")
    .check("Check that the audience is the API's identifier exactly as in Applications > APIs.")
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
