//! How the token endpoint knows the client, as Auth0 does it: the client secret (HTTP Basic or in
//! the form), or, once the application's authentication method is Private Key JWT, only a signed
//! client assertion (RFC 7523): `iss` = `sub` = the client id, `aud` = this issuer, an `exp` at
//! most 5 minutes ahead, a `jti` used once, signed by the registered key.

use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use openidconnect::JsonWebKey as _;
use openidconnect::core::{CoreJsonWebKey, CoreJwsSigningAlgorithm};
use serde_json::Value;

use super::{ClientRegistration, Shared, lock};
use crate::util::unix_now;

/// The form value naming a JWT client assertion.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Auth0 accepts client assertions valid for at most 5 minutes.
const MAX_ASSERTION_LIFETIME_SECS: i64 = 300;

/// An OAuth error: status, `error`, `error_description`.
pub type Refusal = (StatusCode, &'static str, String);

/// How the request authenticated, for tests: `client_secret_basic`, `client_secret_post`,
/// `private_key_jwt` or `none`.
pub fn method(headers: &HeaderMap, form: &HashMap<String, String>) -> &'static str {
    if form.contains_key("client_assertion") {
        "private_key_jwt"
    } else if headers.contains_key(header::AUTHORIZATION) {
        "client_secret_basic"
    } else if form.contains_key("client_secret") {
        "client_secret_post"
    } else {
        "none"
    }
}

/// Checks the client's authentication; the refusal Auth0 would answer otherwise.
pub fn authenticate(
    s: &Shared,
    client: &ClientRegistration,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<(), Refusal> {
    match &client.client_assertion_jwk {
        Some(jwk) => check_assertion(s, client, jwk, form),
        None => match secret_credentials(headers, form) {
            Some((id, secret)) if id == client.client_id && secret == client.client_secret => {
                Ok(())
            }
            // Auth0's answer to a wrong client secret (not `invalid_client`).
            _ => Err((
                StatusCode::UNAUTHORIZED,
                "access_denied",
                "Unauthorized".into(),
            )),
        },
    }
}

fn secret_credentials(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Option<(String, String)> {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Basic "))
    {
        let decoded = String::from_utf8(STANDARD.decode(basic).ok()?).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        let dec = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
        };
        return Some((dec(id)?, dec(secret)?));
    }
    Some((
        form.get("client_id")?.clone(),
        form.get("client_secret")?.clone(),
    ))
}

fn check_assertion(
    s: &Shared,
    client: &ClientRegistration,
    jwk: &Value,
    form: &HashMap<String, String>,
) -> Result<(), Refusal> {
    let refuse = |why: &str| {
        Err((
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            format!("Invalid client assertion: {why}"),
        ))
    };
    if form.get("client_assertion_type").map(String::as_str) != Some(ASSERTION_TYPE) {
        return refuse(
            "this application authenticates with Private Key JWT (client_assertion_type)",
        );
    }
    let Some(assertion) = form.get("client_assertion") else {
        return refuse("no client_assertion");
    };
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        return refuse("not a JWT");
    };
    let decode = |part: &str| -> Option<Value> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
    };
    let (Some(header_json), Some(claims)) = (decode(header), decode(payload)) else {
        return refuse("not a JWT");
    };
    let alg: Option<CoreJwsSigningAlgorithm> =
        serde_json::from_value(header_json["alg"].clone()).ok();
    let (Some(alg), Ok(key), Ok(signature)) = (
        alg,
        serde_json::from_value::<CoreJsonWebKey>(jwk.clone()),
        URL_SAFE_NO_PAD.decode(signature),
    ) else {
        return refuse("unusable alg, key or signature");
    };
    if key
        .verify_signature(&alg, format!("{header}.{payload}").as_bytes(), &signature)
        .is_err()
    {
        return refuse("the signature does not verify with the registered credential");
    }
    let now = unix_now();
    let client_id = Value::String(client.client_id.clone());
    if claims["iss"] != client_id || claims["sub"] != client_id {
        return refuse("iss and sub must be the client id");
    }
    let audience_ok = match &claims["aud"] {
        Value::String(aud) => aud == &s.issuer,
        Value::Array(auds) => auds.iter().any(|a| a.as_str() == Some(s.issuer.as_str())),
        _ => false,
    };
    if !audience_ok {
        return refuse("aud must be this tenant's issuer");
    }
    match claims["exp"].as_i64() {
        Some(exp) if exp > now && exp - now <= MAX_ASSERTION_LIFETIME_SECS => {}
        _ => return refuse("exp must be in the future, at most 5 minutes ahead"),
    }
    let Some(jti) = claims["jti"].as_str().filter(|j| !j.is_empty()) else {
        return refuse("no jti");
    };
    if !lock(&s.used_assertion_jtis).insert(jti.to_string()) {
        return refuse("this assertion was already used (jti)");
    }
    Ok(())
}
