//! The failure categories of Google's "Troubleshooting JWT validation" guide (ESP), plus the
//! checks only an ID token needs, with the status and message an ESP-compatible proxy answers.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Category {
    /// No token at all (`Jwt is missing`).
    Missing,
    /// The service trusts no issuer (`Jwt issuer is not configured`).
    IssuerNotConfigured,
    BadFormat,
    TimeConstraintFailure,
    /// Self-issued token (issuer is an e-mail address) whose `sub` differs from `iss`.
    Unknown,
    KeyRetrievalError,
    IssuerNotAllowed,
    AudienceNotAllowed,
    /// The signature does not verify with the selected key.
    SignatureInvalid,
    /// ID token only: `nonce` is not the one this login sent.
    NonceMismatch,
    /// ID token only: several audiences and `azp` is not this client.
    AuthorizedPartyMismatch,
    /// ID token only: `at_hash` does not match the access token.
    AccessTokenHashMismatch,
}

impl Category {
    /// The name shown to people and in the API's `category` field.
    pub fn code(self) -> &'static str {
        match self {
            Category::Missing => "MISSING",
            Category::IssuerNotConfigured => "ISSUER_NOT_CONFIGURED",
            Category::BadFormat => "BAD_FORMAT",
            Category::TimeConstraintFailure => "TIME_CONSTRAINT_FAILURE",
            Category::Unknown => "UNKNOWN",
            Category::KeyRetrievalError => "KEY_RETRIEVAL_ERROR",
            Category::IssuerNotAllowed => "ISSUER_NOT_ALLOWED",
            Category::AudienceNotAllowed => "AUDIENCE_NOT_ALLOWED",
            Category::SignatureInvalid => "SIGNATURE_INVALID",
            Category::NonceMismatch => "NONCE_MISMATCH",
            Category::AuthorizedPartyMismatch => "AZP_MISMATCH",
            Category::AccessTokenHashMismatch => "AT_HASH_MISMATCH",
        }
    }

    /// ESP-compatible proxies answer 403 for a disallowed audience and 401 for everything else.
    pub fn http_status(self) -> u16 {
        match self {
            Category::AudienceNotAllowed => 403,
            _ => 401,
        }
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// The messages Envoy's jwt_authn (and so ESPv2) uses, so clients and runbooks recognise them.
pub mod message {
    pub const MISSING: &str = "Jwt is missing";
    pub const TOO_LARGE: &str = "Jwt is too large";
    pub const CRIT_UNSUPPORTED: &str = "Jwt header [crit] names an unsupported extension";
    pub const NOT_THREE_PARTS: &str =
        "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections";
    pub const HEADER_BAD_BASE64: &str = "Jwt header is an invalid Base64url encoded";
    pub const HEADER_BAD_JSON: &str = "Jwt header is an invalid JSON";
    pub const ALG_MISSING: &str = "Jwt header [alg] field is required and must be a string";
    pub const ALG_UNSUPPORTED: &str = "Jwt header [alg] is not supported";
    pub const PAYLOAD_BAD_BASE64: &str = "Jwt payload is an invalid Base64url encoded";
    pub const PAYLOAD_BAD_JSON: &str = "Jwt payload is an invalid JSON";
    pub const SIGNATURE_BAD_BASE64: &str = "Jwt signature is an invalid Base64url encoded";
    pub const EXPIRED: &str = "Jwt is expired";
    pub const NOT_YET_VALID: &str = "Jwt not yet valid";
    pub const ISSUER_NOT_CONFIGURED: &str = "Jwt issuer is not configured";
    pub const ISSUER_NOT_ALLOWED: &str = "Issuer not allowed";
    pub const AUDIENCE_NOT_ALLOWED: &str = "Audiences in Jwt are not allowed";
    pub const VERIFICATION_FAILS: &str = "Jwt verification fails";
    pub const NO_MATCHING_KEY: &str = "Jwks doesn't have key to match kid or alg from Jwt";
    pub const JWKS_FETCH_FAILED: &str = "Jwks remote fetch is failed";
    pub const SELF_ISSUED_SUB: &str =
        "Jwt issuer is an e-mail address but [sub] is not equal to [iss]";
    pub const NONCE_MISMATCH: &str = "Jwt [nonce] does not match the login request";
    pub const AZP_MISMATCH: &str = "Jwt [azp] is not this client";
    pub const AT_HASH_MISMATCH: &str = "Jwt [at_hash] does not match the access token";
}
