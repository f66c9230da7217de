//! The claim checks, in ESP's order: issuer, time, audience; then, for an ID token, nonce and
//! `at_hash`. Each returns its failures and a note for a passing check.

use openidconnect::core::{CoreJsonWebKey, CoreJwsSigningAlgorithm};
use openidconnect::{AccessToken, AccessTokenHash};
use serde_json::{Map, Value};

use super::text::quote;
use super::{
    AudienceSetting, Category, Expectations, Failure, IdTokenExpectations, Trust, format, message,
    remedies,
};

pub(super) fn check_issuer(
    payload: &Map<String, Value>,
    expect: &Expectations,
) -> (Vec<Failure>, String) {
    let iss = payload.get("iss").and_then(Value::as_str);
    let expected = match &expect.trust {
        Trust::Issuer(issuer) => issuer,
        Trust::Nobody { why } => {
            return (
                vec![Failure::new(
                    Category::IssuerNotConfigured,
                    message::ISSUER_NOT_CONFIGURED,
                    format!(
                        "this service trusts no issuer yet, so iss {} cannot be accepted",
                        iss.map(quote).unwrap_or("(missing)".into())
                    ),
                    why.clone(),
                )],
                String::new(),
            );
        }
    };
    let mut failures = Vec::new();
    if let Some(iss) = iss
        && iss.contains('@')
        && payload.get("sub").and_then(Value::as_str) != Some(iss)
    {
        failures.push(Failure::new(
            Category::Unknown,
            message::SELF_ISSUED_SUB,
            format!(
                "iss {} is an e-mail address, and sub differs from it",
                quote(iss)
            ),
            remedies::SELF_ISSUED,
        ));
    }
    match iss {
        None => {} // reported by the format check
        Some(iss) if iss == expected => {}
        Some(iss) => {
            let slash_only = iss.trim_end_matches('/') == expected.trim_end_matches('/');
            failures.push(Failure::new(
                Category::IssuerNotAllowed,
                message::ISSUER_NOT_ALLOWED,
                format!("iss is {}; this app trusts only {expected:?}", quote(iss)),
                if slash_only {
                    remedies::ISSUER_SLASH.to_string()
                } else {
                    format!("The token comes from another tenant or provider. Set AUTH0_DOMAIN to the tenant that issued it, or get a token from {expected}.")
                },
            ));
        }
    }
    (
        failures,
        format!("iss is {}", iss.map(quote).unwrap_or("?".into())),
    )
}

pub(super) fn check_time(
    payload: &Map<String, Value>,
    expect: &Expectations,
) -> (Vec<Failure>, String) {
    let now = expect.now;
    let leeway = expect.leeway_secs;
    // Out-of-range values are BAD_FORMAT (the format check); here every value is a sane date, and
    // the arithmetic saturates anyway: nothing from a token can overflow it.
    let num = |name: &str| payload.get(name).and_then(format::numeric_date);
    let mut failures = Vec::new();
    let clock_remedy = remedies::CLOCK;
    match num("exp") {
        None if payload.contains_key("exp") => {} // wrong type or range: reported by the format check
        None => failures.push(Failure::new(
            Category::TimeConstraintFailure,
            message::EXPIRED,
            "the token has no exp claim, so it would never expire",
            remedies::NO_EXPIRY,
        )),
        Some(exp) if now >= exp.saturating_add(leeway) => failures.push(Failure::new(
            Category::TimeConstraintFailure,
            message::EXPIRED,
            format!(
                "exp {exp} is {} s in the past (leeway {leeway} s)",
                now.saturating_sub(exp)
            ),
            clock_remedy,
        )),
        Some(_) => {}
    }
    for claim in ["nbf", "iat"] {
        if let Some(t) = num(claim)
            && t > now.saturating_add(leeway)
        {
            failures.push(Failure::new(
                Category::TimeConstraintFailure,
                message::NOT_YET_VALID,
                format!(
                    "{claim} {t} is {} s in the future (leeway {leeway} s)",
                    t.saturating_sub(now)
                ),
                clock_remedy,
            ));
        }
    }
    let note = match num("exp") {
        Some(exp) => format!("expires in {} s", exp.saturating_sub(now)),
        None => String::new(),
    };
    (failures, note)
}

/// ESP compares audiences ignoring a leading scheme and a trailing slash: at most one of each,
/// so `https://http://api.example//` stays distinct from `https://api.example/`.
pub fn normalize_audience(aud: &str) -> &str {
    let aud = aud
        .strip_prefix("https://")
        .or_else(|| aud.strip_prefix("http://"))
        .unwrap_or(aud);
    aud.strip_suffix('/').unwrap_or(aud)
}

pub(super) fn check_audience(
    payload: &Map<String, Value>,
    expect: &Expectations,
) -> (Vec<Failure>, String) {
    let auds: Vec<&str> = match payload.get("aud") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => return (Vec::new(), String::new()), // reported by the format check
    };
    let mut failures = Vec::new();
    let allowed = auds.iter().any(|a| {
        expect
            .audiences
            .iter()
            .any(|e| normalize_audience(a) == normalize_audience(e))
    });
    if matches!(expect.trust, Trust::Issuer(_)) && !allowed {
        failures.push(Failure::new(
            Category::AudienceNotAllowed,
            message::AUDIENCE_NOT_ALLOWED,
            format!("aud is {}; this app accepts {:?}", quote_list(&auds), expect.audiences),
            if expect.audience_setting == AudienceSetting::ClientId {
                remedies::ID_TOKEN_AUDIENCE.to_string()
            } else {
                format!(
                    "Request the access token with audience={} ({}), the identifier of your API in Auth0 (APIs > your API > Identifier).",
                    expect.audiences.first().map(String::as_str).unwrap_or("?"),
                    expect.audience_setting.name()
                )
            },
        ));
    }
    if let Some(id) = &expect.id_token
        && auds.len() > 1
    {
        let azp = payload.get("azp").and_then(Value::as_str);
        if azp != Some(id.client_id.as_str()) {
            failures.push(Failure::new(
                Category::AuthorizedPartyMismatch,
                message::AZP_MISMATCH,
                format!(
                    "the token has {} audiences and azp is {}, not this client",
                    auds.len(),
                    azp.map(quote).unwrap_or("missing".into())
                ),
                remedies::AZP,
            ));
        }
    }
    (failures, format!("aud is {}", quote_list(&auds)))
}

/// A token's audience list, quoted and bounded (a token may carry thousands).
fn quote_list(values: &[&str]) -> String {
    let shown: Vec<String> = values.iter().take(5).map(|v| quote(v)).collect();
    let more = values.len().saturating_sub(shown.len());
    if more > 0 {
        format!("[{} and {more} more]", shown.join(", "))
    } else {
        format!("[{}]", shown.join(", "))
    }
}

pub(super) fn check_nonce(
    payload: &Map<String, Value>,
    id: &IdTokenExpectations,
) -> (Vec<Failure>, String) {
    match payload.get("nonce").and_then(Value::as_str) {
        Some(n) if n == id.nonce => (Vec::new(), "matches this login".into()),
        other => (
            vec![Failure::new(
                Category::NonceMismatch,
                message::NONCE_MISMATCH,
                if other.is_some() {
                    "the token's nonce is not the one this login sent"
                } else {
                    "the token has no nonce"
                },
                remedies::NONCE,
            )],
            String::new(),
        ),
    }
}

pub(super) fn check_at_hash(
    payload: &Map<String, Value>,
    id: &IdTokenExpectations,
    key: &CoreJsonWebKey,
    alg: &CoreJwsSigningAlgorithm,
) -> (Vec<Failure>, String) {
    let (Some(claimed), Some(access_token)) = (
        payload.get("at_hash").and_then(Value::as_str),
        &id.access_token,
    ) else {
        return (Vec::new(), "no at_hash to check".into());
    };
    let expected = AccessTokenHash::from_token(&AccessToken::new(access_token.clone()), alg, key);
    match expected {
        Ok(hash) if hash.as_str() == claimed => (Vec::new(), "matches the access token".into()),
        _ => (
            vec![Failure::new(
                Category::AccessTokenHashMismatch,
                message::AT_HASH_MISMATCH,
                "at_hash does not match the access token returned with it",
                remedies::AT_HASH,
            )],
            String::new(),
        ),
    }
}
