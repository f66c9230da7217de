//! A valid access token on demand: the refresh-token grant (Auth0's rotation: each refresh token
//! works once and the answer carries the next), shared by concurrent requests of this process,
//! and the permissions an API access token grants.

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;

use super::LoginClient;
use super::client::OAuthError;
pub use super::outcome::{LoginIdentity, RefreshError, RefreshedTokens};
use crate::token_check::{self, AudienceSetting, Expectations};

#[derive(Deserialize)]
struct RefreshResponse {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: Option<i64>,
    id_token: Option<String>,
    token_type: Option<String>,
}

/// The longest a refresh waits for the token endpoint: a page view waits for it.
pub const REFRESH_TIMEOUT: Duration = Duration::from_secs(5);
/// After a refresh found the token endpoint hanging or unreachable, refreshes fail at once for
/// this long, with that failure, instead of each waiting out its own timeout.
pub const TOKEN_OUTAGE_MEMORY: Duration = Duration::from_secs(10);

/// Another API than `AUTH0_AUDIENCE`, and the scopes to ask for it (Multi-Resource Refresh
/// Tokens: the refresh-token grant with `audience` and `scope`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub audience: String,
    pub scope: String,
}

impl LoginClient {
    /// New tokens for this refresh token (for `resource`, or the default audience); concurrent
    /// callers with the same one share one request, and a caller that asked for another API
    /// than the answer's sees it in [`RefreshedTokens::audience`]. An ID token in the answer
    /// must pass its checks and name `login`'s user (and issuer, and `auth_time` when both have
    /// one), or nothing in the answer is used.
    pub async fn refresh(
        &self,
        refresh_token: &str,
        login: &LoginIdentity,
        resource: Option<&Resource>,
    ) -> Result<RefreshedTokens, RefreshError> {
        if let Some(outage) = self.recent_token_outage() {
            return Err(RefreshError::Unavailable(outage));
        }
        let result = self
            .refreshes
            .flight(refresh_token)
            .get_or_init(|| async {
                let answer = self.refresh_now(refresh_token, login, resource).await;
                // Landed: the waiters hold the answer; nobody later may draw on it.
                self.refreshes.forget(refresh_token);
                answer
            })
            .await
            .clone();
        // The flight was forgotten when it landed (forgetting it again here could drop a newer
        // flight of the same token). A hanging or unreachable endpoint is remembered briefly:
        // every request would otherwise wait out its own timeout.
        match &result {
            Err(RefreshError::Unavailable(why))
                if why.starts_with("timed out") || why.starts_with("could not connect") =>
            {
                *self.outage_slot() = Some((Instant::now(), why.clone()));
            }
            Ok(_) => *self.outage_slot() = None,
            Err(_) => {}
        }
        result
    }

    fn outage_slot(&self) -> std::sync::MutexGuard<'_, Option<(Instant, String)>> {
        self.token_outage.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The token endpoint's failure, if it hung or was unreachable within [`TOKEN_OUTAGE_MEMORY`].
    fn recent_token_outage(&self) -> Option<String> {
        let slot = self.outage_slot();
        let (at, why) = slot.as_ref()?;
        let age = at.elapsed();
        (age < TOKEN_OUTAGE_MEMORY).then(|| {
            format!(
                "{why} ({} s ago; the next try is in {} s)",
                age.as_secs(),
                (TOKEN_OUTAGE_MEMORY - age).as_secs().max(1)
            )
        })
    }

    async fn refresh_now(
        &self,
        refresh_token: &str,
        login: &LoginIdentity,
        resource: Option<&Resource>,
    ) -> Result<RefreshedTokens, RefreshError> {
        let metadata = self
            .provider
            .metadata()
            .await
            .map_err(|f| RefreshError::Unavailable(f.reason))?;
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        if let Some(resource) = resource {
            form.push(("audience", &resource.audience));
            form.push(("scope", &resource.scope));
        }
        let answer = self
            .post_token(&metadata, &form, REFRESH_TIMEOUT)
            .await
            .map_err(RefreshError::Unavailable)?;
        let (status, body) = (answer.status, answer.body);
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(RefreshError::RateLimited {
                retry_after: answer.retry_after,
            });
        }
        if !status.is_success() {
            let error = serde_json::from_slice::<OAuthError>(&body).ok();
            return Err(match error {
                Some(e) if !status.is_server_error() && e.error == "invalid_grant" => {
                    RefreshError::Refused(token_check::text::clean(&e.error_description))
                }
                _ => {
                    RefreshError::Unavailable(format!("the token endpoint answered HTTP {status}"))
                }
            });
        }
        let tokens: RefreshResponse = serde_json::from_slice(&body).map_err(|e| {
            RefreshError::Unavailable(format!("the token response does not parse: {e}"))
        })?;
        if let Some(id_token) = &tokens.id_token {
            self.check_refreshed_id_token(id_token, &metadata.issuer, login)
                .await?;
        }
        // For another API, the token must pass that API's checks: Auth0 answers a request for an
        // audience its refresh-token policies do not list with a token for the default one.
        let for_resource = match resource {
            Some(resource) => {
                let expect = Expectations::new(
                    metadata.issuer.clone(),
                    resource.audience.clone(),
                    AudienceSetting::ApiAudience,
                );
                let report =
                    token_check::check(&tokens.access_token, &expect, self.provider.as_ref()).await;
                match report.verified_claims() {
                    Some(claims) => Some((resource.audience.clone(), granted(claims))),
                    None => {
                        tracing::warn!(audience = %resource.audience, diagnosis = %report.summary(), "the refresh answer's access token is not for the API asked for");
                        None
                    }
                }
            }
            None => None,
        };
        let (audience, permissions) = match for_resource {
            Some((audience, permissions)) => (Some(audience), permissions),
            None => (None, self.permissions_of(&tokens.access_token).await),
        };
        tracing::info!(
            audience = audience.as_deref().unwrap_or("(default)"),
            "access token refreshed"
        );
        Ok(RefreshedTokens {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            expires_in: tokens.expires_in,
            permissions,
            token_type: crate::session::bound_token_type(tokens.token_type.as_deref()),
            audience,
        })
    }

    /// OIDC Core 12.2: the ID token of a refresh answer is checked as a login's is (signature,
    /// `iss`, `aud`, `exp`, `iat`; no nonce), and its `iss` (checked against the same issuer as
    /// the login's), `sub` and `auth_time` must be the login's.
    async fn check_refreshed_id_token(
        &self,
        id_token: &str,
        issuer: &str,
        login: &LoginIdentity,
    ) -> Result<(), RefreshError> {
        let mut expect =
            Expectations::new(issuer, self.client_id.clone(), AudienceSetting::ClientId);
        expect.required_claims = token_check::ID_TOKEN_REQUIRED_CLAIMS;
        let report = token_check::check(id_token, &expect, self.provider.as_ref()).await;
        let Some(claims) = report.verified_claims() else {
            return Err(RefreshError::IdTokenInvalid {
                failures: report.failures().cloned().collect(),
                summary: report.summary(),
            });
        };
        let sub = claims.get("sub").and_then(Value::as_str).unwrap_or("");
        if sub != login.sub {
            return Err(changed_claim(
                "sub",
                format!(
                    "the refresh answer's ID token names sub {}, not the logged-in user's {}",
                    token_check::text::quote(sub),
                    token_check::text::quote(&login.sub)
                ),
            ));
        }
        let auth_time = claims.get("auth_time").and_then(Value::as_i64);
        if let (Some(now), Some(then)) = (auth_time, login.auth_time)
            && now != then
        {
            return Err(changed_claim(
                "auth_time",
                format!(
                    "the refresh answer's ID token says auth_time {now}, the login said {then}"
                ),
            ));
        }
        Ok(())
    }

    /// What an access token for `AUTH0_AUDIENCE` grants: its `permissions` (Auth0 RBAC) and its
    /// `scope`, once it passes every check for the API. Nothing for any other token.
    pub async fn permissions_of(&self, access_token: &str) -> Vec<String> {
        let (Some(audience), Ok(metadata)) = (&self.audience, self.provider.metadata().await)
        else {
            return Vec::new();
        };
        let expect = Expectations::new(
            metadata.issuer.clone(),
            audience.clone(),
            AudienceSetting::ApiAudience,
        );
        let report = token_check::check(access_token, &expect, self.provider.as_ref()).await;
        let Some(claims) = report.verified_claims() else {
            tracing::warn!(diagnosis = %report.summary(), "the access token does not pass the API's checks: no permissions");
            return Vec::new();
        };
        granted(claims)
    }
}

/// `permissions` and `scope` of verified claims, without duplicates, bounded.
pub fn granted(claims: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let permissions = claims.get("permissions").and_then(Value::as_array);
    let listed = permissions.into_iter().flatten().filter_map(Value::as_str);
    let scope = claims.get("scope").and_then(Value::as_str).unwrap_or("");
    for p in listed.chain(scope.split_whitespace()).take(64) {
        if p.len() <= 128 && !out.iter().any(|o| o == p) {
            out.push(p.to_string());
        }
    }
    out
}

/// A refresh answer's ID token that names another user (or login) than the session's.
fn changed_claim(claim: &str, detail: String) -> RefreshError {
    let failure = token_check::Failure::refresh_mismatch(claim, detail);
    RefreshError::IdTokenInvalid {
        summary: format!("{}: {}", failure.message, failure.detail),
        failures: vec![failure],
    }
}
