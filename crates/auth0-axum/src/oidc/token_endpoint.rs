//! Requests this app makes to the tenant as itself: the token endpoint (code exchange, refresh)
//! and the PAR endpoint. Each is authenticated (client secret as discovery asks, or a Private Key
//! JWT assertion) and, with DPoP, carries a proof; a `use_dpop_nonce` answer is retried once with
//! the server's nonce (RFC 9449 §8), which is kept for the next requests.

use reqwest::header::HeaderName;
use serde::Deserialize;

use super::client::OAuthError;
use super::outcome::AuthorizeError;
use super::{ClientAuth, LoginClient, Metadata, describe_reqwest};
use crate::config::ClientCredentials;

/// The longest a logout waits for the revocation endpoint.
const REVOKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);
/// The longest a login waits for the PAR endpoint.
const PAR_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

static DPOP: HeaderName = HeaderName::from_static("dpop");
static DPOP_NONCE: HeaderName = HeaderName::from_static("dpop-nonce");

/// An answer: status, headers we read, body.
pub(super) struct Answer {
    pub status: reqwest::StatusCode,
    pub body: Vec<u8>,
    /// How long the provider asks us to wait (`Retry-After`, else Auth0's `x-ratelimit-reset`).
    pub retry_after: Option<u64>,
}

/// Seconds to wait, from `Retry-After` (seconds) or `x-ratelimit-reset` (Auth0: unix time of
/// the reset), at most an hour.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok())
    };
    let secs = match (number("retry-after"), number("x-ratelimit-reset")) {
        (Some(secs), _) => secs,
        (None, Some(reset)) => reset.saturating_sub(crate::primitives::unix_now()),
        (None, None) => return None,
    };
    Some(u64::try_from(secs.clamp(1, 3600)).unwrap_or(1))
}

impl LoginClient {
    /// This app's proof of who it is, on a request to the token endpoint (or PAR): a signed
    /// assertion with a private key, else the client secret as discovery asks for it.
    pub(super) fn authenticate(
        &self,
        request: reqwest::RequestBuilder,
        form: &mut Vec<(&str, String)>,
        metadata: &Metadata,
    ) -> Result<reqwest::RequestBuilder, String> {
        match &self.credentials {
            ClientCredentials::PrivateKeyJwt(key) => {
                let assertion = key
                    .assertion(&self.client_id, &metadata.issuer)
                    .map_err(|e| format!("the client assertion could not be signed: {}", e.0))?;
                form.push(("client_id", self.client_id.clone()));
                form.push((
                    "client_assertion_type",
                    crate::client_assertion::ASSERTION_TYPE.to_string(),
                ));
                form.push(("client_assertion", assertion));
                Ok(request)
            }
            ClientCredentials::Secret(secret) => match metadata.client_auth {
                ClientAuth::Basic => {
                    // RFC 6749 2.3.1: form-encode both parts before Basic.
                    let enc = |s: &str| {
                        url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                    };
                    Ok(request.basic_auth(enc(&self.client_id), Some(enc(secret.expose()))))
                }
                ClientAuth::Post => {
                    form.push(("client_id", self.client_id.clone()));
                    form.push(("client_secret", secret.expose().to_string()));
                    Ok(request)
                }
            },
        }
    }

    /// POSTs `form` to `url` as this client (authenticated, with a DPoP proof when DPoP is on),
    /// once more if the server asks for a DPoP nonce.
    pub(super) async fn post_as_client(
        &self,
        url: &url::Url,
        form: &[(&str, String)],
        metadata: &Metadata,
        timeout: std::time::Duration,
    ) -> Result<Answer, String> {
        let mut retried = false;
        loop {
            let mut body = form.to_vec();
            let request = self.provider.http().post(url.clone()).timeout(timeout);
            let mut request = self.authenticate(request, &mut body, metadata)?;
            if !body.iter().any(|(k, _)| *k == "client_id") {
                body.push(("client_id", self.client_id.clone()));
            }
            if let Some(dpop) = &self.dpop {
                request = request.header(&DPOP, dpop.proof("POST", url.as_str(), None));
            }
            let response = request
                .form(&body)
                .send()
                .await
                .map_err(|e| describe_reqwest(&e))?;
            let status = response.status();
            let wait = retry_after(response.headers());
            let nonce = response
                .headers()
                .get(&DPOP_NONCE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let bytes = response.bytes().await.map_err(|e| describe_reqwest(&e))?;
            if let (Some(dpop), Some(nonce)) = (&self.dpop, &nonce) {
                dpop.remember_nonce(nonce);
                let asks_nonce = status == reqwest::StatusCode::BAD_REQUEST
                    && serde_json::from_slice::<OAuthError>(&bytes)
                        .is_ok_and(|e| e.error == "use_dpop_nonce");
                if asks_nonce && !retried {
                    retried = true;
                    tracing::debug!(
                        "the server asked for a DPoP nonce: sending the request again with it"
                    );
                    continue;
                }
            }
            return Ok(Answer {
                status,
                body: bytes.to_vec(),
                retry_after: wait,
            });
        }
    }

    /// RFC 7009: revokes a refresh token at the tenant (Auth0 then revokes the grant's refresh
    /// tokens), authenticated as a token request. Best effort, within 3 s: the caller logs out
    /// whatever the answer; the reason is returned for the log.
    pub async fn revoke_refresh_token(&self, refresh_token: &str) -> Result<(), String> {
        let metadata = self.provider.metadata().await.map_err(|f| f.reason)?;
        let Some(endpoint) = metadata.revocation_endpoint.clone() else {
            return Err("the tenant advertises no revocation_endpoint".into());
        };
        let form = [
            ("token", refresh_token.to_string()),
            ("token_type_hint", "refresh_token".to_string()),
        ];
        let answer = self
            .post_as_client(&endpoint, &form, &metadata, REVOKE_TIMEOUT)
            .await?;
        if answer.status.is_success() {
            Ok(())
        } else {
            Err(format!(
                "the revocation endpoint answered HTTP {}",
                answer.status
            ))
        }
    }

    /// A POST to the token endpoint: status and body.
    pub(super) async fn post_token(
        &self,
        metadata: &Metadata,
        form: &[(&str, &str)],
        timeout: std::time::Duration,
    ) -> Result<Answer, String> {
        let form: Vec<(&str, String)> = form.iter().map(|(k, v)| (*k, v.to_string())).collect();
        self.post_as_client(&metadata.token_endpoint, &form, metadata, timeout)
            .await
    }

    /// RFC 9126: posts the parameters, authenticated as the token endpoint is; the `request_uri`.
    pub(super) async fn push_authorization(
        &self,
        metadata: &Metadata,
        mut form: Vec<(&'static str, String)>,
    ) -> Result<String, AuthorizeError> {
        let endpoint = metadata
            .par_endpoint
            .clone()
            .ok_or(AuthorizeError::ParUnsupported)?;
        // client_id is added again by the authentication.
        form.retain(|(k, _)| *k != "client_id");
        let Answer { status, body, .. } = self
            .post_as_client(&endpoint, &form, metadata, PAR_TIMEOUT)
            .await
            .map_err(AuthorizeError::ParUnavailable)?;
        if status.is_server_error() {
            return Err(AuthorizeError::ParUnavailable(format!(
                "the PAR endpoint answered HTTP {status}"
            )));
        }
        if !status.is_success() {
            let error = serde_json::from_slice::<OAuthError>(&body).ok();
            return Err(AuthorizeError::ParRefused {
                status: status.as_u16(),
                error: error
                    .as_ref()
                    .map(|e| crate::token_check::text::clean(&e.error))
                    .unwrap_or_else(|| "(no error)".into()),
                description: error
                    .map(|e| crate::token_check::text::clean(&e.error_description))
                    .unwrap_or_default(),
            });
        }
        #[derive(Deserialize)]
        struct Pushed {
            request_uri: String,
        }
        serde_json::from_slice::<Pushed>(&body)
            .map(|p| p.request_uri)
            .map_err(|e| {
                AuthorizeError::ParUnavailable(format!("the PAR answer does not parse: {e}"))
            })
    }
}
