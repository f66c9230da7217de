//! What finishing a login yields: a verified login, or the reason it failed.

use serde_json::{Map, Value};

use super::ProviderFailure;
use crate::session::UserSession;
use crate::token_check::CheckReport;

/// The longest `expires_in` believed (a year): the provider's number is added without overflow.
const MAX_EXPIRES_IN: i64 = 365 * 24 * 3600;

/// A finished login: the verified identity and the tokens that came with it.
#[derive(Debug, Clone)]
pub struct VerifiedLogin {
    /// Profile claims: the ID token's (protocol claims removed), merged with userinfo.
    pub profile: Map<String, Value>,
    /// The provider's session id (`sid`), for its logout.
    pub sid: Option<String>,
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: Option<i64>,
}

impl VerifiedLogin {
    /// The session to keep; the access token only when an API audience asked for one.
    pub fn into_user_session(self, keep_access_token: bool, now: i64) -> UserSession {
        UserSession {
            profile: self.profile,
            sid: self.sid,
            access_token: keep_access_token.then_some(self.access_token),
            refresh_token: self.refresh_token,
            token_expires_at: self
                .expires_in
                .map(|s| now.saturating_add(s.clamp(0, MAX_EXPIRES_IN))),
            logged_in_at: now,
            refreshed_at: now,
        }
    }
}

/// Why a login could not be finished.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LoginError {
    #[error("the provider cannot be reached: {}", .0.reason)]
    ProviderUnavailable(ProviderFailure),
    /// RFC 9207: the answer names another issuer, or none where one was promised.
    #[error("the answer names issuer {got:?}, not {expected}")]
    IssuerMismatch {
        got: Option<String>,
        expected: String,
    },
    #[error("the token endpoint could not be used: {0}")]
    ExchangeUnreachable(String),
    /// The provider refused the code (OAuth `error` and `error_description`).
    #[error("the token endpoint refused the code: HTTP {status} {error}")]
    ExchangeRejected {
        status: u16,
        error: String,
        description: String,
        /// The redirect URI the code was exchanged for (a mismatch is a common cause).
        redirect_uri: String,
    },
    #[error("the provider sent no ID token")]
    NoIdToken,
    #[error("the ID token failed validation: {}", .0.summary())]
    IdTokenInvalid(Box<CheckReport>),
}
