//! The login protocol with this app's credentials: [`LoginClient::authorize_url`],
//! [`LoginClient::finish_login`] (code exchange, ID-token checks, profile, userinfo) and
//! [`LoginClient::logout_url`]. Failures are [`LoginError`]s; the pages that explain them live with
//! the `/callback` route.
//!
//! The authorize URL and the exchange are hand-written rather than openidconnect's `CoreClient`:
//! its typed token response would reject a malformed ID token before `token_check` could name
//! what is wrong with it, and the URL is a dozen query pairs.

use openidconnect::{Nonce, PkceCodeChallenge, PkceCodeVerifier};
use serde::Deserialize;
use serde_json::{Map, Value};
use url::Url;

use super::client::OAuthError;
use super::outcome::{
    AuthorizeError, LoginError, VerifiedLogin, check_auth_time, check_organization, check_step_up,
};
use super::params::AuthorizeParams;
use super::userinfo::wants_userinfo;
use super::{LoginClient, Metadata, ProviderFailure};
use crate::primitives::{random_token, unix_now};

/// The longest a login's code exchange waits for the token endpoint.
const CODE_EXCHANGE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
use crate::session::LoginTransaction;
use crate::token_check::{
    self, AudienceSetting, DEFAULT_LEEWAY_SECS, Expectations, IdTokenExpectations,
};

/// Claims about the protocol, not the person: not kept in the session.
const PROTOCOL_CLAIMS: [&str; 15] = [
    "iss",
    "aud",
    "exp",
    "iat",
    "nbf",
    "nonce",
    "at_hash",
    "c_hash",
    "azp",
    "auth_time",
    "sid",
    "jti",
    "acr",
    "amr",
    "session_expiry",
];

/// What the token endpoint returned.
#[derive(Debug, Clone, Deserialize)]
struct TokenResponse {
    access_token: String,
    id_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<i64>,
    token_type: Option<String>,
}

/// Claims kept from the ID token's protocol claims: when and how the user authenticated.
fn auth_context(claims: &Map<String, Value>) -> (Option<i64>, Option<String>, Vec<String>) {
    let auth_time = claims.get("auth_time").and_then(Value::as_i64);
    let acr = claims
        .get("acr")
        .and_then(Value::as_str)
        .map(str::to_string);
    let amr = claims
        .get("amr")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .take(8)
                .map(|m| m.chars().take(32).collect())
                .collect()
        })
        .unwrap_or_default();
    (auth_time, acr.map(|a| a.chars().take(128).collect()), amr)
}

impl LoginClient {
    /// A new login in progress: fresh state, nonce and PKCE verifier, and what the callback must
    /// check of the answer (the organization, `max_age`, whether it was silent).
    pub fn begin(&self, return_to: String, params: &AuthorizeParams) -> LoginTransaction {
        let (_, verifier) = PkceCodeChallenge::new_random_sha256();
        LoginTransaction {
            state: random_token(32),
            nonce: Nonce::new_random().secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            return_to,
            created_at: unix_now(),
            max_age: params.max_age,
            organization: params.organization.clone(),
            silent: params.is_silent(),
            acr_values: params.acr_values.clone(),
        }
    }

    /// Where to send the browser to log in: the authorization endpoint with every parameter, or,
    /// with Pushed Authorization Requests, with only `client_id` and the `request_uri` the PAR
    /// endpoint gave for them (RFC 9126).
    pub async fn authorize_url(
        &self,
        tx: &LoginTransaction,
        params: &AuthorizeParams,
    ) -> Result<Url, AuthorizeError> {
        let metadata = self
            .provider
            .metadata()
            .await
            .map_err(AuthorizeError::Provider)?;
        let verifier = PkceCodeVerifier::new(tx.pkce_verifier.clone());
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
        let mut pairs: Vec<(&str, String)> = vec![
            ("response_type", "code".into()),
            ("client_id", self.client_id.clone()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("scope", self.scope.clone()),
            ("state", tx.state.clone()),
            ("nonce", tx.nonce.clone()),
            ("code_challenge", challenge.as_str().to_string()),
            ("code_challenge_method", "S256".into()),
        ];
        if let Some(audience) = &self.audience {
            pairs.push(("audience", audience.clone()));
        }
        pairs.extend(params.pairs());
        let mut url = metadata.authorization_endpoint.clone();
        if !self.use_par {
            if metadata.par_required {
                return Err(AuthorizeError::ParRequired);
            }
            url.query_pairs_mut()
                .extend_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())));
            return Ok(url);
        }
        let request_uri = self.push_authorization(&metadata, pairs).await?;
        url.query_pairs_mut()
            .append_pair("client_id", &self.client_id)
            .append_pair("request_uri", &request_uri);
        Ok(url)
    }

    /// RFC 9207: an answer that names its issuer must name ours (else it may come from another
    /// provider this browser talks to: a mix-up); a provider that promises `iss` must send it, and
    /// under FAPI 2.0 every answer must.
    pub async fn check_response_issuer(&self, iss: Option<&str>) -> Result<(), LoginError> {
        if iss.is_none() && !self.require_response_iss && !self.provider.promises_response_iss() {
            return Ok(());
        }
        let metadata = self
            .provider
            .metadata()
            .await
            .map_err(LoginError::ProviderUnavailable)?;
        if iss == Some(metadata.issuer.as_str()) {
            Ok(())
        } else {
            Err(LoginError::IssuerMismatch {
                got: iss.map(str::to_string),
                expected: metadata.issuer.clone(),
            })
        }
    }

    /// Exchanges the code, checks the ID token (`token_check`), and gathers the profile.
    pub async fn finish_login(
        &self,
        code: &str,
        tx: &LoginTransaction,
    ) -> Result<VerifiedLogin, LoginError> {
        let metadata = self
            .provider
            .metadata()
            .await
            .map_err(LoginError::ProviderUnavailable)?;
        let tokens = self
            .exchange_code(&metadata, code, &tx.pkce_verifier)
            .await?;
        let id_token = tokens.id_token.as_deref().ok_or(LoginError::NoIdToken)?;
        let mut expect = Expectations::new(
            metadata.issuer.clone(),
            self.client_id.clone(),
            AudienceSetting::ClientId,
        );
        expect.required_claims = token_check::ID_TOKEN_REQUIRED_CLAIMS;
        expect.id_token = Some(IdTokenExpectations {
            client_id: self.client_id.clone(),
            nonce: tx.nonce.clone(),
            access_token: Some(tokens.access_token.clone()),
        });
        let report = token_check::check(id_token, &expect, self.provider.as_ref()).await;
        let Some(claims) = report.verified_claims() else {
            return Err(LoginError::IdTokenInvalid(Box::new(report)));
        };
        if let Some(organization) = &tx.organization {
            check_organization(claims, organization)?;
        }
        if let Some(max_age) = tx.max_age {
            check_auth_time(claims, max_age, unix_now(), DEFAULT_LEEWAY_SECS)?;
        }
        let (auth_time, acr, amr) = auth_context(claims);
        let session_expires_at = session_ceiling(claims, unix_now())?;
        if let Some(asked) = &tx.acr_values {
            check_step_up(asked, acr.as_deref(), &amr)?;
        }
        let mut profile: Map<String, Value> = claims
            .iter()
            .filter(|(k, _)| !PROTOCOL_CLAIMS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if wants_userinfo(self.userinfo, &self.scope, &profile) {
            let bound = crate::session::bound_token_type(tokens.token_type.as_deref()).is_some();
            self.merge_userinfo(&metadata, &tokens.access_token, bound, &mut profile)
                .await;
        }
        let permissions = self.permissions_of(&tokens.access_token).await;
        Ok(VerifiedLogin {
            profile,
            sid: claims
                .get("sid")
                .and_then(Value::as_str)
                .map(str::to_string),
            auth_time,
            acr,
            amr,
            session_expires_at,
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            expires_in: tokens.expires_in,
            token_type: crate::session::bound_token_type(tokens.token_type.as_deref()),
            permissions,
        })
    }

    /// Where to send the browser to end the provider's session too: its `end_session_endpoint`
    /// when discovery advertises one (RP-initiated logout), otherwise Auth0's `/v2/logout`. Both by
    /// `client_id`, with the provider's session id as `logout_hint` where the endpoint takes one.
    pub async fn logout_url(&self, sid: Option<&str>) -> Result<Url, ProviderFailure> {
        let metadata = self.provider.metadata().await?;
        let mut url = match &metadata.end_session_endpoint {
            Some(endpoint) => {
                let mut url = endpoint.clone();
                {
                    let mut q = url.query_pairs_mut();
                    q.append_pair("post_logout_redirect_uri", &self.post_logout_uri)
                        .append_pair("client_id", &self.client_id);
                    if let Some(sid) = sid {
                        q.append_pair("logout_hint", sid);
                    }
                }
                return Ok(url);
            }
            None => self
                .provider_base
                .join("v2/logout")
                .map_err(|e| ProviderFailure {
                    url: self.provider_base.to_string(),
                    reason: e.to_string(),
                    hint: "AUTH0_DOMAIN must be a plain domain.".into(),
                })?,
        };
        url.query_pairs_mut()
            .append_pair("returnTo", &self.post_logout_uri)
            .append_pair("client_id", &self.client_id);
        Ok(url)
    }

    /// The code (with its PKCE verifier) for tokens, authenticated as the discovery allows.
    async fn exchange_code(
        &self,
        metadata: &Metadata,
        code: &str,
        pkce_verifier: &str,
    ) -> Result<TokenResponse, LoginError> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("code_verifier", pkce_verifier),
        ];
        let answer = self
            .post_token(metadata, &form, CODE_EXCHANGE_TIMEOUT)
            .await
            .map_err(LoginError::ExchangeUnreachable)?;
        let (status, body) = (answer.status, answer.body);
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            // Auth0's rate limit: not a refusal of this login; the browser may try again.
            return Err(LoginError::RateLimited {
                retry_after: answer.retry_after,
            });
        }
        if status.is_server_error() {
            // An outage, whatever the body says: not a refusal of this code.
            return Err(LoginError::ExchangeUnreachable(format!(
                "the token endpoint answered HTTP {status} (an outage at the provider)"
            )));
        }
        if !status.is_success() {
            return Err(match serde_json::from_slice::<OAuthError>(&body) {
                Ok(e) => LoginError::ExchangeRejected {
                    status: status.as_u16(),
                    error: e.error,
                    description: e.error_description,
                    redirect_uri: self.redirect_uri.clone(),
                },
                Err(_) => LoginError::ExchangeUnreachable(format!(
                    "the token endpoint answered HTTP {status}"
                )),
            });
        }
        serde_json::from_slice(&body).map_err(|e| {
            LoginError::ExchangeUnreachable(format!("the token response does not parse: {e}"))
        })
    }
}

/// The upstream identity provider's ceiling on the session (IPSIE SL1): Auth0 passes an enterprise
/// connection's `session_expiry` (unix seconds) in the ID token. Read strictly as Auth0's SDKs do:
/// a missing or malformed value (not a positive integer, or in milliseconds: 10^10 and above) is
/// no ceiling; a ceiling already reached when the token was issued (`iat`, else now) refuses the
/// login rather than start a session that is born ended.
pub(crate) fn session_ceiling(
    claims: &Map<String, Value>,
    now: i64,
) -> Result<Option<i64>, LoginError> {
    let Some(at) = claims
        .get("session_expiry")
        .and_then(Value::as_i64)
        .filter(|&s| s > 0 && s < 10_000_000_000)
    else {
        return Ok(None);
    };
    let issued = claims.get("iat").and_then(Value::as_i64).unwrap_or(now);
    if at <= issued {
        return Err(LoginError::SessionAlreadyExpired { at, issued });
    }
    Ok(Some(at))
}
