//! DPoP at the token endpoint (RFC 9449), as a DPoP-enabled tenant answers: a proof in the `DPoP`
//! header (typ `dpop+jwt`, signed by the public key in its header, for `POST` to this endpoint,
//! issued within a minute) binds the access token to that key (`cnf.jkt`, `token_type: DPoP`).
//! When the tenant wants a nonce and the proof lacks it: 400 `use_dpop_nonce` with the nonce in a
//! `DPoP-Nonce` header (§8).

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::JsonWebKey as _;
use openidconnect::core::{CoreJsonWebKey, CoreJwsSigningAlgorithm};
use serde_json::{Value, json};
use sha2::Digest as _;

use super::{Shared, lock};
use crate::util::unix_now;

fn refuse(error: &str, description: &str, nonce: Option<&str>) -> Response {
    let mut response = (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response();
    if let Some(Ok(value)) = nonce.map(HeaderValue::from_str) {
        response.headers_mut().insert("dpop-nonce", value);
    }
    response
}

/// RFC 7638 thumbprint of an EC or RSA public JWK.
pub fn thumbprint(jwk: &Value) -> Option<String> {
    let m = |name: &str| jwk.get(name).and_then(Value::as_str);
    let canonical = match m("kty")? {
        "EC" => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            m("crv")?,
            m("x")?,
            m("y")?
        ),
        "RSA" => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, m("e")?, m("n")?),
        _ => return None,
    };
    Some(URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(canonical.as_bytes())))
}

/// The key a request's proof binds its tokens to (`Ok(None)`: no proof, and none required), or
/// the refusal.
pub fn binding(
    s: &Shared,
    headers: &HeaderMap,
    url: &str,
) -> Result<Option<String>, Box<Response>> {
    let (required, nonce) = {
        let b = lock(&s.behaviour);
        (b.require_dpop, b.dpop_nonce.clone())
    };
    let Some(proof) = headers.get("dpop").and_then(|v| v.to_str().ok()) else {
        return if required {
            Err(Box::new(refuse(
                "invalid_dpop_proof",
                "DPoP proof is required",
                None,
            )))
        } else {
            Ok(None)
        };
    };
    let invalid = |why: &str| Err(Box::new(refuse("invalid_dpop_proof", why, None)));
    let parts: Vec<&str> = proof.split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        return invalid("not a JWT");
    };
    let decode = |p: &str| -> Option<Value> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).ok()?).ok()
    };
    let (Some(h), Some(c)) = (decode(header), decode(payload)) else {
        return invalid("not a JWT");
    };
    if h["typ"] != "dpop+jwt" {
        return invalid("typ must be dpop+jwt");
    }
    let alg: Option<CoreJwsSigningAlgorithm> = serde_json::from_value(h["alg"].clone()).ok();
    let key: Option<CoreJsonWebKey> = serde_json::from_value(h["jwk"].clone()).ok();
    let (Some(alg), Some(key), Ok(sig)) = (alg, key, URL_SAFE_NO_PAD.decode(signature)) else {
        return invalid("unusable alg, jwk or signature");
    };
    if key
        .verify_signature(&alg, format!("{header}.{payload}").as_bytes(), &sig)
        .is_err()
    {
        return invalid("the proof's signature does not verify");
    }
    if c["htm"] != "POST" || c["htu"].as_str() != Some(url) {
        return invalid("htm and htu must be this request's");
    }
    if c["iat"]
        .as_i64()
        .is_none_or(|iat| iat.abs_diff(unix_now()) > 60)
    {
        return invalid("iat must be now");
    }
    if let Some(nonce) = nonce
        && c["nonce"].as_str() != Some(nonce.as_str())
    {
        return Err(Box::new(refuse(
            "use_dpop_nonce",
            "Authorization server requires nonce in DPoP proof",
            Some(&nonce),
        )));
    }
    Ok(thumbprint(&h["jwk"]))
}
