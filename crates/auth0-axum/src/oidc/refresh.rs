//! A valid access token on demand: the refresh-token grant (Auth0's rotation: each refresh token
//! works once and the answer carries the next), shared by concurrent requests of this process,
//! and the permissions an API access token grants.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;
use sha2::Digest as _;
use tokio::sync::OnceCell;

use super::LoginClient;
use super::login::OAuthError;
use crate::token_check::{self, AudienceSetting, Expectations};

/// How long a refresh's answer is kept for requests that still carry the refresh token it spent
/// (a browser's concurrent requests all send the cookie they had).
const ANSWER_MEMORY: Duration = Duration::from_secs(60);

/// New tokens from a refresh.
#[derive(Debug, Clone)]
pub struct RefreshedTokens {
    pub access_token: String,
    /// The rotated refresh token (None: the old one stays valid, without rotation).
    pub refresh_token: Option<String>,
    pub expires_in: Option<i64>,
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum RefreshError {
    /// `invalid_grant`: the refresh token is revoked, expired or already used. Log in again.
    #[error("the refresh token was refused: {0}")]
    Refused(String),
    /// The provider could not be used; the session is kept.
    #[error("the token endpoint could not be used: {0}")]
    Unavailable(String),
}

type Flight = Arc<OnceCell<Result<RefreshedTokens, RefreshError>>>;

/// One refresh per refresh token at a time, its answer kept briefly.
#[derive(Default)]
pub(super) struct RefreshFlights {
    flights: Mutex<HashMap<[u8; 16], (Instant, Flight)>>,
}

fn key_of(refresh_token: &str) -> [u8; 16] {
    let digest = sha2::Sha256::digest(refresh_token.as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

impl RefreshFlights {
    fn forget(&self, refresh_token: &str) {
        let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        flights.remove(&key_of(refresh_token));
    }

    fn flight(&self, refresh_token: &str) -> Flight {
        let key = key_of(refresh_token);
        let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        flights.retain(|_, (at, _)| at.elapsed() < ANSWER_MEMORY);
        flights
            .entry(key)
            .or_insert_with(|| (Instant::now(), Arc::new(OnceCell::new())))
            .1
            .clone()
    }
}

#[derive(Deserialize)]
struct RefreshResponse {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: Option<i64>,
}

impl LoginClient {
    /// New tokens for this refresh token; concurrent callers with the same one share one request.
    pub async fn refresh(&self, refresh_token: &str) -> Result<RefreshedTokens, RefreshError> {
        let result = self
            .refreshes
            .flight(refresh_token)
            .get_or_init(|| self.refresh_now(refresh_token))
            .await
            .clone();
        if matches!(result, Err(RefreshError::Unavailable(_))) {
            // An outage is not an answer to keep: the next request tries again.
            self.refreshes.forget(refresh_token);
        }
        result
    }

    async fn refresh_now(&self, refresh_token: &str) -> Result<RefreshedTokens, RefreshError> {
        let metadata = self
            .provider
            .metadata()
            .await
            .map_err(|f| RefreshError::Unavailable(f.reason))?;
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        let (status, body) = self
            .post_token(&metadata, &form)
            .await
            .map_err(RefreshError::Unavailable)?;
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
        let permissions = self.permissions_of(&tokens.access_token).await;
        tracing::info!("access token refreshed");
        Ok(RefreshedTokens {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            expires_in: tokens.expires_in,
            permissions,
        })
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
