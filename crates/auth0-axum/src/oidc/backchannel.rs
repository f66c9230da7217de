//! OpenID Connect Back-Channel Logout 1.0: the provider POSTs a logout token when a user's session
//! ends there. `token_check` checks it as it checks an ID token (signature by the tenant's JWKS,
//! `iss`, `aud` = this client, `exp` and `iat`); then the logout token's own rules (spec §2.4,
//! §2.6): an `iat`, a `jti`, the back-channel logout event, a `sid` or a `sub`, and no `nonce`
//! (so an ID token can never pass as one). Each refusal names the check that failed.

use serde_json::{Map, Value};

use super::{LoginClient, ProviderFailure};
use crate::primitives::unix_now;
use crate::token_check::{self, AudienceSetting, Expectations};

/// The `events` member that makes a JWT a logout token.
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// A `jti` is remembered at least this long (beyond the token's `exp`, which bounds replays).
const MIN_JTI_MEMORY_SECS: i64 = 300;
/// The longest `jti`, `sid` or `sub` accepted (they become Redis keys).
const MAX_ID_BYTES: usize = 256;

pub use crate::session::LogoutRequest;

/// Why a logout token was not acted on.
#[derive(Debug)]
pub enum LogoutTokenError {
    /// The token is not a valid logout token from this tenant for this app: `check` names which.
    Refused { check: String, detail: String },
    /// The provider's keys could not be had: nothing could be verified.
    ProviderUnavailable(ProviderFailure),
}

fn refused(check: &str, detail: impl Into<String>) -> LogoutTokenError {
    LogoutTokenError::Refused {
        check: check.to_string(),
        detail: detail.into(),
    }
}

/// A short string claim, if present.
fn id_claim(claims: &Map<String, Value>, name: &str) -> Result<Option<String>, LogoutTokenError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_ID_BYTES => Ok(Some(s.clone())),
        Some(_) => Err(refused(
            name,
            format!("{name} must be a non-empty string of at most {MAX_ID_BYTES} bytes"),
        )),
    }
}

/// The logout token's own rules, on claims whose signature, issuer, audience and times passed.
pub fn logout_request(
    claims: &Map<String, Value>,
    now: i64,
) -> Result<LogoutRequest, LogoutTokenError> {
    if !claims.get("iat").is_some_and(Value::is_i64) {
        return Err(refused(
            "iat",
            "a logout token must say when it was issued (iat)",
        ));
    }
    let jti = id_claim(claims, "jti")?.ok_or_else(|| {
        refused(
            "jti",
            "a logout token must have a jti, so that a replay can be refused",
        )
    })?;
    let is_logout_event = claims
        .get("events")
        .and_then(Value::as_object)
        .and_then(|events| events.get(BACKCHANNEL_LOGOUT_EVENT))
        .is_some_and(Value::is_object);
    if !is_logout_event {
        return Err(refused(
            "events",
            format!("events must hold {BACKCHANNEL_LOGOUT_EVENT} with an object value"),
        ));
    }
    if claims.contains_key("nonce") {
        return Err(refused(
            "nonce",
            "a logout token must not have a nonce (an ID token is not a logout token)",
        ));
    }
    let (sid, sub) = (id_claim(claims, "sid")?, id_claim(claims, "sub")?);
    if sid.is_none() && sub.is_none() {
        return Err(refused(
            "sid/sub",
            "a logout token must name a session (sid) or a user (sub)",
        ));
    }
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(now);
    Ok(LogoutRequest {
        sid,
        sub,
        jti,
        remember_jti_secs: exp
            .saturating_sub(now)
            .clamp(0, 86_400)
            .saturating_add(MIN_JTI_MEMORY_SECS),
    })
}

impl LoginClient {
    /// Verifies a logout token from the provider.
    pub async fn verify_logout_token(
        &self,
        token: &str,
    ) -> Result<LogoutRequest, LogoutTokenError> {
        let metadata = self
            .provider
            .metadata()
            .await
            .map_err(LogoutTokenError::ProviderUnavailable)?;
        let mut expect = Expectations::new(
            metadata.issuer.clone(),
            self.client_id.clone(),
            AudienceSetting::ClientId,
        );
        // A logout token names a session (sid) or a user (sub): the rules below require one.
        expect.required_claims = &["iss", "aud"];
        expect.token_types = token_check::TokenTypes::LOGOUT_TOKEN;
        let report = token_check::check(token, &expect, self.provider.as_ref()).await;
        let Some(claims) = report.verified_claims() else {
            let (check, detail) = match report.first_failure() {
                Some(f) => (format!("{}: {}", f.category, f.message), f.detail.clone()),
                None => (
                    "signature".to_string(),
                    "the token was not verified".to_string(),
                ),
            };
            return Err(LogoutTokenError::Refused { check, detail });
        };
        logout_request(claims, unix_now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> Map<String, Value> {
        json!({
            "iss": "https://tenant.example.com/", "aud": "client", "iat": 100, "exp": 220,
            "jti": "j-1", "sid": "s-1", "sub": "auth0|1",
            "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
        })
        .as_object()
        .unwrap()
        .clone()
    }

    #[test]
    fn a_valid_logout_token_names_its_session_user_and_jti() {
        let request = logout_request(&valid(), 100).unwrap();
        assert_eq!(request.sid.as_deref(), Some("s-1"));
        assert_eq!(request.sub.as_deref(), Some("auth0|1"));
        assert_eq!(request.jti, "j-1");
        assert_eq!(request.remember_jti_secs, 120 + MIN_JTI_MEMORY_SECS);
    }

    #[test]
    fn each_missing_or_forbidden_claim_is_named() {
        type Change = fn(&mut Map<String, Value>);
        let cases: [(&str, Change); 7] = [
            ("iat", |c| drop(c.remove("iat"))),
            ("jti", |c| drop(c.remove("jti"))),
            ("events", |c| drop(c.remove("events"))),
            ("events", |c| {
                drop(c.insert("events".into(), json!({"other": {}})))
            }),
            ("nonce", |c| drop(c.insert("nonce".into(), json!("n")))),
            ("sid/sub", |c| {
                c.remove("sid");
                c.remove("sub");
            }),
            ("sid", |c| drop(c.insert("sid".into(), json!(12)))),
        ];
        for (check, change) in cases {
            let mut claims = valid();
            change(&mut claims);
            match logout_request(&claims, 100) {
                Err(LogoutTokenError::Refused { check: named, .. }) => assert_eq!(named, check),
                other => panic!("{check}: {other:?}"),
            }
        }
    }
}
