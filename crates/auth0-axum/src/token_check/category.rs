//! The failure categories of Google's "Troubleshooting JWT validation" guide (ESP), plus the
//! checks only an ID token needs, with the status and message an ESP-compatible proxy answers.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
/// Which check a token failed: ESP's categories, and three an ID token adds.
pub enum Category {
    /// No token at all (`Jwt is missing`).
    Missing,
    /// The service trusts no issuer (`Jwt issuer is not configured`).
    IssuerNotConfigured,
    /// Not a well-formed JWS: parts, Base64url, JSON, `alg` (`BAD_FORMAT`).
    BadFormat,
    /// `exp`, `nbf` or `iat` out of range, beyond the leeway (`TIME_CONSTRAINT_FAILURE`).
    TimeConstraintFailure,
    /// Self-issued token (issuer is an e-mail address) whose `sub` differs from `iss`.
    Unknown,
    /// No key for the token's `kid`/`alg`, or the JWKS could not be fetched (`KEY_RETRIEVAL_ERROR`).
    KeyRetrievalError,
    /// `iss` is not the trusted issuer (`Issuer not allowed`).
    IssuerNotAllowed,
    /// No `aud` is an accepted audience (`Audiences in Jwt are not allowed`, 403).
    AudienceNotAllowed,
    /// The signature does not verify with the selected key.
    SignatureInvalid,
    /// ID token only: `nonce` is not the one this login sent.
    NonceMismatch,
    /// ID token only: several audiences and `azp` is not this client.
    AuthorizedPartyMismatch,
    /// ID token only: `at_hash` does not match the access token.
    AccessTokenHashMismatch,
    /// A DPoP-bound access token without a valid proof (RFC 9449): see
    /// [`super::dpop::message`].
    DpopProofInvalid,
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
            Category::DpopProofInvalid => "DPOP_PROOF_INVALID",
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
    /// Envoy's message for missing.
    pub const MISSING: &str = "Jwt is missing";
    /// Envoy's message for too large.
    pub const TOO_LARGE: &str = "Jwt is too large";
    /// Envoy's message for crit unsupported.
    pub const CRIT_UNSUPPORTED: &str = "Jwt header [crit] names an unsupported extension";
    /// Envoy's message for not three parts.
    pub const NOT_THREE_PARTS: &str =
        "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections";
    /// Envoy's message for header bad base64.
    pub const HEADER_BAD_BASE64: &str = "Jwt header is an invalid Base64url encoded";
    /// Envoy's message for header bad json.
    pub const HEADER_BAD_JSON: &str = "Jwt header is an invalid JSON";
    /// Envoy's message for alg missing.
    pub const ALG_MISSING: &str = "Jwt header [alg] field is required and must be a string";
    /// Envoy's message for alg unsupported.
    pub const ALG_UNSUPPORTED: &str = "Jwt header [alg] is not supported";
    /// Ours (Envoy does not check `typ`): the header names another kind of token.
    pub const TYPE_NOT_ALLOWED: &str = "Jwt header [typ] names another kind of token";
    /// Envoy's message for payload bad base64.
    pub const PAYLOAD_BAD_BASE64: &str = "Jwt payload is an invalid Base64url encoded";
    /// Envoy's message for payload bad json.
    pub const PAYLOAD_BAD_JSON: &str = "Jwt payload is an invalid JSON";
    /// Envoy's message for signature bad base64.
    pub const SIGNATURE_BAD_BASE64: &str = "Jwt signature is an invalid Base64url encoded";
    /// Envoy's message for expired.
    pub const EXPIRED: &str = "Jwt is expired";
    /// Envoy's message for not yet valid.
    pub const NOT_YET_VALID: &str = "Jwt not yet valid";
    /// Envoy's message for issuer not configured.
    pub const ISSUER_NOT_CONFIGURED: &str = "Jwt issuer is not configured";
    /// Envoy's message for issuer not allowed.
    pub const ISSUER_NOT_ALLOWED: &str = "Issuer not allowed";
    /// Envoy's message for audience not allowed.
    pub const AUDIENCE_NOT_ALLOWED: &str = "Audiences in Jwt are not allowed";
    /// Envoy's message for verification fails.
    pub const VERIFICATION_FAILS: &str = "Jwt verification fails";
    /// Envoy's message for no matching key.
    pub const NO_MATCHING_KEY: &str = "Jwks doesn't have key to match kid or alg from Jwt";
    /// Envoy's message for jwks fetch failed.
    pub const JWKS_FETCH_FAILED: &str = "Jwks remote fetch is failed";
    /// Envoy's message for self issued sub.
    pub const SELF_ISSUED_SUB: &str =
        "Jwt issuer is an e-mail address but [sub] is not equal to [iss]";
    /// Ours: a refresh answer's ID token names another `sub` than the login's.
    pub const REFRESH_SUB_CHANGED: &str =
        "Jwt [sub] of the refreshed ID token is not the logged-in user";
    /// Ours: a refresh answer's ID token says another `auth_time` than the login's.
    pub const REFRESH_AUTH_TIME_CHANGED: &str =
        "Jwt [auth_time] of the refreshed ID token is not the login's";
    /// Envoy's message for nonce mismatch.
    pub const NONCE_MISMATCH: &str = "Jwt [nonce] does not match the login request";
    /// Envoy's message for azp mismatch.
    pub const AZP_MISMATCH: &str = "Jwt [azp] is not this client";
    /// Envoy's message for at hash mismatch.
    pub const AT_HASH_MISMATCH: &str = "Jwt [at_hash] does not match the access token";
}
