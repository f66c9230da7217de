//! What finishing a login yields: a verified login, or the reason it failed, with Auth0's answers
//! read for what they mean (its error texts are part of its interface).

use serde_json::{Map, Value};

use super::ProviderFailure;
use crate::session::{UserSession, token_expiry};
use crate::token_check::{CheckReport, text};

/// What Auth0 says when the user declines consent or cancels.
const AUTH0_USER_DECLINED: &str = "User did not authorize the request";

/// A finished login: the verified identity and the tokens that came with it.
#[derive(Debug, Clone)]
pub struct VerifiedLogin {
    /// Profile claims: the ID token's (protocol claims removed), merged with userinfo.
    pub profile: Map<String, Value>,
    /// The provider's session id (`sid`), for its logout.
    pub sid: Option<String>,
    /// `auth_time`, `acr` and `amr`: when and how the user authenticated.
    pub auth_time: Option<i64>,
    pub acr: Option<String>,
    pub amr: Vec<String>,
    /// The upstream identity provider's ceiling on the session (`session_expiry`, unix time).
    pub session_expires_at: Option<i64>,
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: Option<i64>,
    /// What the access token grants, when it is a verified token for `AUTH0_AUDIENCE`.
    pub permissions: Vec<String>,
    /// `DPoP` for a DPoP-bound access token.
    pub token_type: Option<String>,
}

impl VerifiedLogin {
    /// The session to keep; the access token only when an API audience asked for one.
    pub fn into_user_session(self, keep_access_token: bool, now: i64) -> UserSession {
        UserSession {
            profile: self.profile,
            sid: self.sid,
            access_token: keep_access_token.then_some(self.access_token),
            refresh_token: self.refresh_token,
            token_expires_at: token_expiry(self.expires_in, now),
            permissions: self.permissions,
            auth_time: self.auth_time,
            acr: self.acr,
            amr: self.amr,
            app_data: Map::new(),
            logged_in_at: now,
            refreshed_at: now,
            token_type: keep_access_token.then_some(self.token_type).flatten(),
            session_expires_at: self.session_expires_at,
            api_tokens: Vec::new(),
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
    /// `prompt=none` and the provider needs the user: not an error, the browser goes back.
    #[error("a silent login needs the user to sign in")]
    SilentLoginDeclined,
    /// `access_denied` after the user cancelled (or declined consent).
    #[error("the user cancelled the login: {description}")]
    Cancelled { description: String },
    /// `access_denied` with a reason: an Auth0 Action's `api.access.deny(reason)`, a rule.
    #[error("access denied: {reason}")]
    AccessDenied { reason: String },
    /// `access_denied` "Service not found: X": the audience asked for is no API in the tenant.
    #[error("no API with identifier {audience} in the tenant")]
    AudienceNotFound { audience: String },
    /// `unauthorized` "user is blocked".
    #[error("the user is blocked")]
    UserBlocked,
    /// `login_required` and the like, outside a silent login.
    #[error("the provider needs an interactive login: {error}")]
    InteractionRequired { error: String },
    /// Any other error answer to the authorization request.
    #[error("the provider refused the login: {error}")]
    AuthorizeRefused { error: String, description: String },
    #[error("the token endpoint could not be used: {0}")]
    ExchangeUnreachable(String),
    /// 429: the tenant is limiting requests (Auth0's rate limits); try again after this long.
    #[error("the token endpoint is limiting requests (429)")]
    RateLimited { retry_after: Option<u64> },
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
    /// The ID token's `session_expiry` (the upstream provider's ceiling) was already reached when
    /// it was issued.
    #[error(
        "the session's ceiling (session_expiry {at}) was reached before the login (iat {issued})"
    )]
    SessionAlreadyExpired { at: i64, issued: i64 },
    /// The login asked for `acr_values` (multi-factor) and came back without it.
    #[error("the login asked for {asked} and came back with acr {got_acr:?}, amr {got_amr:?}")]
    StepUpNotPerformed {
        asked: String,
        got_acr: Option<String>,
        got_amr: Vec<String>,
    },
    #[error("the ID token failed validation: {}", .0.summary())]
    IdTokenInvalid(Box<CheckReport>),
    /// The login asked for an organization and the ID token is not for it (`org_id`/`org_name`).
    #[error("the ID token's {claim} is {got:?}, not {expected}")]
    OrganizationMismatch {
        expected: String,
        claim: &'static str,
        got: Option<String>,
    },
    /// `max_age` was sent and the ID token's `auth_time` is missing or older.
    #[error("auth_time {auth_time:?} is older than max_age {max_age} s")]
    AuthTimeTooOld {
        auth_time: Option<i64>,
        max_age: u32,
        now: i64,
    },
}

impl LoginError {
    /// The provider answered the authorization request with `error` and `error_description`,
    /// read as Auth0 means them. Both come from the query string: escaped and bounded here.
    pub fn from_authorize_answer(error: &str, description: &str, silent: bool) -> Self {
        let error = text::truncate(&text::escape_controls(error), 80);
        let description = text::clean(description);
        match error.as_str() {
            "login_required" | "consent_required" | "interaction_required" if silent => {
                LoginError::SilentLoginDeclined
            }
            "login_required" | "consent_required" | "interaction_required" => {
                LoginError::InteractionRequired { error }
            }
            "access_denied" => match description.strip_prefix("Service not found: ") {
                Some(audience) => LoginError::AudienceNotFound {
                    audience: audience.trim().to_string(),
                },
                None if description.is_empty()
                    || description == AUTH0_USER_DECLINED
                    || ["cancel", "abort"]
                        .iter()
                        .any(|w| description.to_ascii_lowercase().contains(w)) =>
                {
                    LoginError::Cancelled { description }
                }
                None => LoginError::AccessDenied {
                    reason: description,
                },
            },
            "unauthorized" if description.to_ascii_lowercase().contains("blocked") => {
                LoginError::UserBlocked
            }
            _ => LoginError::AuthorizeRefused { error, description },
        }
    }
}

/// The ID token must be for the organization the login asked for: `org_id` for an id (`org_...`),
/// `org_name` (case-insensitively) for a name, as Auth0's SDKs check.
pub(super) fn check_organization(
    claims: &Map<String, Value>,
    expected: &str,
) -> Result<(), LoginError> {
    let (claim, matches): (&'static str, fn(&str, &str) -> bool) = if expected.starts_with("org_") {
        ("org_id", |got, want| got == want)
    } else {
        ("org_name", |got, want| got.eq_ignore_ascii_case(want))
    };
    let got = claims.get(claim).and_then(Value::as_str);
    match got {
        Some(got) if matches(got, expected) => Ok(()),
        _ => Err(LoginError::OrganizationMismatch {
            expected: expected.to_string(),
            claim,
            got: got.map(|g| text::truncate(&text::escape_controls(g), 80)),
        }),
    }
}

/// With `max_age` sent, the ID token must carry an `auth_time` within it (plus leeway).
pub(super) fn check_auth_time(
    claims: &Map<String, Value>,
    max_age: u32,
    now: i64,
    leeway: i64,
) -> Result<(), LoginError> {
    let auth_time = claims.get("auth_time").and_then(Value::as_i64);
    let recent = auth_time
        .is_some_and(|t| now.saturating_sub(t) <= i64::from(max_age).saturating_add(leeway));
    if recent {
        Ok(())
    } else {
        Err(LoginError::AuthTimeTooOld {
            auth_time,
            max_age,
            now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn auth0_error_answers_are_read_for_what_they_mean() {
        let read = |e: &str, d: &str| LoginError::from_authorize_answer(e, d, false);
        assert!(
            matches!(read("access_denied", "Service not found: https://api.example.com"),
            LoginError::AudienceNotFound { audience } if audience == "https://api.example.com")
        );
        assert!(matches!(
            read("access_denied", "User did not authorize the request"),
            LoginError::Cancelled { .. }
        ));
        assert!(matches!(read("access_denied", "Only staff may log in."),
            LoginError::AccessDenied { reason } if reason == "Only staff may log in."));
        assert!(matches!(
            read("unauthorized", "user is blocked"),
            LoginError::UserBlocked
        ));
        assert!(matches!(
            read("login_required", "Login required"),
            LoginError::InteractionRequired { .. }
        ));
        assert!(matches!(
            LoginError::from_authorize_answer("login_required", "", true),
            LoginError::SilentLoginDeclined
        ));
        assert!(matches!(
            read("server_error", "boom"),
            LoginError::AuthorizeRefused { .. }
        ));
    }

    #[test]
    fn organizations_match_by_id_exactly_and_by_name_ignoring_case() {
        let claims = json!({"org_id": "org_abc", "org_name": "acme"});
        let claims = claims.as_object().unwrap();
        assert!(check_organization(claims, "org_abc").is_ok());
        assert!(check_organization(claims, "org_ABC").is_err());
        assert!(check_organization(claims, "ACME").is_ok());
        assert!(check_organization(claims, "other").is_err());
        assert!(
            check_organization(&Map::new(), "org_abc").is_err(),
            "missing org_id"
        );
    }

    #[test]
    fn auth_time_must_be_within_max_age_and_leeway() {
        let claims = |t: i64| json!({"auth_time": t}).as_object().unwrap().clone();
        assert!(check_auth_time(&claims(1000), 300, 1300, 60).is_ok());
        assert!(check_auth_time(&claims(1000), 300, 1360, 60).is_ok());
        assert!(check_auth_time(&claims(1000), 300, 1361, 60).is_err());
        assert!(
            check_auth_time(&Map::new(), 300, 1000, 60).is_err(),
            "missing auth_time"
        );
    }
}

/// New tokens from a refresh.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RefreshedTokens {
    pub access_token: String,
    /// The rotated refresh token (None: the old one stays valid, without rotation).
    pub refresh_token: Option<String>,
    pub expires_in: Option<i64>,
    pub permissions: Vec<String>,
    /// `DPoP` for a DPoP-bound access token.
    pub token_type: Option<String>,
    /// The API the access token is for, when another than `AUTH0_AUDIENCE` was asked for and
    /// the token passed that API's checks; `None`: the default audience (also when Auth0 ignored
    /// the asked audience, which it does for one its refresh-token policies do not list).
    #[serde(default)]
    pub audience: Option<String>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum RefreshError {
    /// `invalid_grant`: the refresh token is revoked, expired or already used. Log in again.
    #[error("the refresh token was refused: {0}")]
    Refused(String),
    /// The provider could not be used; the session is kept.
    #[error("the token endpoint could not be used: {0}")]
    Unavailable(String),
    /// 429: the tenant is limiting requests; the session is kept.
    #[error("the token endpoint is limiting requests (429)")]
    RateLimited {
        /// Seconds to wait, when the tenant said.
        retry_after: Option<u64>,
    },
    /// The answer's ID token failed its checks, or names another user or issuer than the
    /// login's (OIDC Core 12.2): its tokens are not used.
    #[error("the ID token of the refresh answer failed its checks: {summary}")]
    IdTokenInvalid {
        /// Each failed check, as the token doctor names it.
        failures: Vec<crate::token_check::Failure>,
        /// One line for the log.
        summary: String,
    },
}

/// Who the session's login identified: a refresh answer's ID token must say the same.
#[derive(Debug, Clone)]
pub struct LoginIdentity {
    /// The login's `sub`.
    pub sub: String,
    /// The login's `auth_time`, when it had one.
    pub auth_time: Option<i64>,
}

/// Why the browser could not be sent to log in.
#[derive(Debug)]
pub enum AuthorizeError {
    /// The provider could not be discovered.
    Provider(super::ProviderFailure),
    /// The tenant requires Pushed Authorization Requests and `AUTH0_PUSHED_AUTHORIZATION_REQUESTS`
    /// is off.
    ParRequired,
    /// `AUTH0_PUSHED_AUTHORIZATION_REQUESTS` is on, and the tenant advertises no PAR endpoint.
    ParUnsupported,
    /// The PAR endpoint refused the request (its OAuth error).
    ParRefused {
        /// The HTTP status.
        status: u16,
        /// `error`.
        error: String,
        /// `error_description`, cleaned.
        description: String,
    },
    /// The PAR endpoint did not answer usably.
    ParUnavailable(String),
}

/// Auth0's (and OpenID's) multi-factor policy, as `acr_values` asks for it.
pub const MFA_POLICY: &str = "http://schemas.openid.net/pape/policies/2007/06/multi-factor";

/// A login that asked for `acr_values` must come back with one of them as `acr`, and with `mfa`
/// in `amr` when the multi-factor policy was asked: Auth0 ignores `acr_values` when the tenant
/// has no MFA, and the login would otherwise pass for a step-up it was not.
pub fn check_step_up(asked: &str, acr: Option<&str>, amr: &[String]) -> Result<(), LoginError> {
    let acr_ok = acr.is_some_and(|a| asked.split_whitespace().any(|v| v == a));
    let mfa_ok =
        !asked.split_whitespace().any(|v| v == MFA_POLICY) || amr.iter().any(|m| m == "mfa");
    if acr_ok && mfa_ok {
        return Ok(());
    }
    Err(LoginError::StepUpNotPerformed {
        asked: asked.to_string(),
        got_acr: acr.map(str::to_string),
        got_amr: amr.to_vec(),
    })
}
