//! DPoP (RFC 9449) as the token doctor checks it: a proof is a `dpop+jwt` signed by the public key
//! in its own header, for this request's method (`htm`) and URL (`htu`), issued just now (`iat`),
//! unique (`jti`), for this access token (`ath`), and by the key the token is bound to
//! (`cnf.jkt`, the key's RFC 7638 thumbprint). Each failed check is a named [`Failure`] of the
//! category `DPOP_PROOF_INVALID`, with its remedy; the `jti`'s uniqueness is the caller's ledger.
//!
//! ```
//! use auth0_axum::token_check::dpop;
//! // A key's thumbprint, as `cnf.jkt` names it (RFC 7638's example key).
//! let jwk = serde_json::json!({"kty": "RSA", "e": "AQAB", "alg": "RS256", "kid": "2011-04-29",
//!   "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"});
//! assert_eq!(dpop::thumbprint(&jwk).unwrap(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{CoreJsonWebKey, CoreJwsSigningAlgorithm};
use serde_json::{Map, Value};
use sha2::Digest as _;

use super::{Category, Failure};

/// The algorithms a proof may use (asymmetric only, RFC 9449 §4.2).
pub const PROOF_ALGORITHMS: &str = "ES256 RS256 PS256";
/// How far a proof's `iat` may be from now, either way.
pub const PROOF_LEEWAY_SECS: i64 = 60;

/// The messages of DPoP's checks, in ESP's style.
pub mod message {
    /// No `DPoP` header came with a bound token.
    pub const MISSING: &str = "DPoP proof is missing";
    /// A bound token sent with the `Bearer` scheme.
    pub const BOUND_AS_BEARER: &str = "DPoP-bound token sent as Bearer";
    /// The `DPoP` scheme for a token that is not bound.
    pub const NOT_BOUND: &str = "DPoP scheme used for a token that is not DPoP-bound";
    /// Not a `dpop+jwt` with an asymmetric `alg` and a public `jwk`.
    pub const BAD_FORMAT: &str = "DPoP proof is not a dpop+jwt with a public key in its header";
    /// The signature does not verify with the header's key.
    pub const SIGNATURE: &str = "DPoP proof signature does not verify";
    /// Signed by another key than the token's `cnf.jkt`.
    pub const WRONG_KEY: &str = "DPoP proof is signed by another key than the token is bound to";
    /// `htm` is not the request's method.
    pub const HTM: &str = "DPoP proof [htm] is not the request method";
    /// `htu` is not the request's URL.
    pub const HTU: &str = "DPoP proof [htu] is not the request URL";
    /// `iat` too old or in the future.
    pub const IAT: &str = "DPoP proof [iat] is stale or in the future";
    /// `jti` seen before.
    pub const JTI: &str = "DPoP proof [jti] was already used";
    /// `ath` is not the access token's hash.
    pub const ATH: &str = "DPoP proof [ath] does not match the access token";
}

/// The request a proof must be for.
#[derive(Debug, Clone)]
pub struct ProofRequest<'a> {
    /// The HTTP method (`GET`).
    pub method: &'a str,
    /// The URL the client called, as this server is reached (its configured base URL and the
    /// path, never the `Host` header); query and fragment are ignored.
    pub url: &'a str,
    /// The access token the proof must be for (`ath`).
    pub access_token: &'a str,
    /// Unix time to check `iat` against.
    pub now: i64,
}

/// What a valid proof carries that the caller must still check: its `jti` (once only).
#[derive(Debug, Clone)]
pub struct ValidProof {
    /// The proof's unique id.
    pub jti: String,
}

fn failure(message: &'static str, detail: impl Into<String>, remedy: &str) -> Failure {
    Failure::new(Category::DpopProofInvalid, message, detail, remedy)
}

const CLIENT_REMEDY: &str = "Send a fresh DPoP proof with each request, signed by the key the token was issued for: typ dpop+jwt, the public key as jwk, htm and htu of this request, iat now, a new jti, and ath (the access token's SHA-256, base64url).";

/// The failure for a bound token sent with the `Bearer` scheme.
pub fn bound_as_bearer() -> Failure {
    failure(
        message::BOUND_AS_BEARER,
        "the token's cnf.jkt binds it to a key; it must come as Authorization: DPoP with a proof",
        "Send it as Authorization: DPoP <token> with a DPoP proof header (auth0_axum::AccessToken::authorization does both).",
    )
}

/// The failure for a bound token without a `DPoP` header.
pub fn missing() -> Failure {
    failure(
        message::MISSING,
        "the request has no DPoP header",
        CLIENT_REMEDY,
    )
}

/// The failure for the `DPoP` scheme with an unbound token.
pub fn not_bound() -> Failure {
    failure(
        message::NOT_BOUND,
        "the token has no cnf.jkt",
        "Send an unbound token as Authorization: Bearer, or get a DPoP-bound one (ask the token endpoint with a DPoP proof).",
    )
}

/// The failure for a `jti` seen before.
pub fn replayed(jti: &str) -> Failure {
    failure(
        message::JTI,
        format!(
            "jti {} was used by an earlier proof",
            super::text::quote(jti)
        ),
        "Make a new proof, with a new jti, for every request: a copied proof is refused.",
    )
}

/// The ledger of used proofs (Redis) did not answer: the proof cannot be shown to be new.
pub fn ledger_unavailable() -> Failure {
    failure(
        message::JTI,
        "the ledger of used proofs did not answer, so this proof could not be shown to be new"
            .to_string(),
        "Try again in a moment with a new proof; if it lasts, the app's Redis is down.",
    )
}

/// The `cnf.jkt` a token's claims bind it to, if any.
pub fn bound_jkt(claims: &Map<String, Value>) -> Option<&str> {
    claims.get("cnf")?.get("jkt")?.as_str()
}

/// RFC 7638: the base64url SHA-256 of the key's required members, in order, without spaces.
pub fn thumbprint(jwk: &Value) -> Option<String> {
    let member = |name: &str| jwk.get(name).and_then(Value::as_str);
    let canonical = match member("kty")? {
        "EC" => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            member("crv")?,
            member("x")?,
            member("y")?
        ),
        "RSA" => format!(
            r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
            member("e")?,
            member("n")?
        ),
        "OKP" => format!(
            r#"{{"crv":"{}","kty":"OKP","x":"{}"}}"#,
            member("crv")?,
            member("x")?
        ),
        _ => return None,
    };
    Some(URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(canonical.as_bytes())))
}

/// The URL without query and fragment, as `htu` is compared (RFC 9449 §4.3).
pub fn htu_of(url: &str) -> String {
    let cut = url.find(['?', '#']).unwrap_or(url.len());
    url[..cut].to_string()
}

/// The base64url SHA-256 of an access token: a proof's `ath`.
pub fn ath_of(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(access_token.as_bytes()))
}

/// Checks `proof` for `request`, bound to `jkt`; everything but the `jti`'s uniqueness.
pub fn check_proof(
    proof: &str,
    jkt: &str,
    request: &ProofRequest<'_>,
) -> Result<ValidProof, Failure> {
    let bad = |detail: &str| failure(message::BAD_FORMAT, detail, CLIENT_REMEDY);
    let parts: Vec<&str> = proof.trim().split('.').collect();
    let [header_b64, payload_b64, signature_b64] = parts.as_slice() else {
        return Err(bad("the proof is not a JWS of three parts"));
    };
    let decode = |part: &str| -> Option<Map<String, Value>> {
        match serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()? {
            Value::Object(map) => Some(map),
            _ => None,
        }
    };
    let (Some(header), Some(claims)) = (decode(header_b64), decode(payload_b64)) else {
        return Err(bad("the header or payload is not base64url JSON"));
    };
    if header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return Err(bad("typ must be dpop+jwt"));
    }
    let alg_name = header.get("alg").and_then(Value::as_str).unwrap_or("");
    if !PROOF_ALGORITHMS.split(' ').any(|a| a == alg_name) {
        return Err(bad(&format!(
            "alg must be one of {PROOF_ALGORITHMS}, not {}",
            super::text::quote(alg_name)
        )));
    }
    let Some(jwk) = header.get("jwk") else {
        return Err(bad("the header has no jwk"));
    };
    if ["d", "p", "q", "dp", "dq", "qi", "k"]
        .iter()
        .any(|private| jwk.get(private).is_some())
    {
        return Err(bad("the jwk holds private key material"));
    }
    let alg: Option<CoreJwsSigningAlgorithm> =
        serde_json::from_value(Value::String(alg_name.into())).ok();
    let key: Option<CoreJsonWebKey> = serde_json::from_value(jwk.clone()).ok();
    let (Some(alg), Some(key), Ok(signature)) = (alg, key, URL_SAFE_NO_PAD.decode(signature_b64))
    else {
        return Err(bad("the jwk, alg or signature cannot be used"));
    };
    let input = format!("{header_b64}.{payload_b64}");
    if let Err(why) = super::signature::verify(&key, &alg, input.as_bytes(), &signature) {
        return Err(failure(message::SIGNATURE, why, CLIENT_REMEDY));
    }
    if thumbprint(jwk).as_deref() != Some(jkt) {
        return Err(failure(
            message::WRONG_KEY,
            "the proof's jwk thumbprint is not the token's cnf.jkt",
            "Sign proofs with the key the token was issued for; a token copied to another client cannot be used.",
        ));
    }
    let claim = |name: &str| claims.get(name).and_then(Value::as_str).unwrap_or("");
    if !claim("htm").eq_ignore_ascii_case(request.method) {
        return Err(failure(
            message::HTM,
            format!(
                "htm is {}, the request is {}",
                super::text::quote(claim("htm")),
                request.method
            ),
            CLIENT_REMEDY,
        ));
    }
    if htu_of(claim("htu")) != htu_of(request.url) {
        return Err(failure(
            message::HTU,
            format!(
                "htu is {}, the request is for {}",
                super::text::quote(claim("htu")),
                htu_of(request.url)
            ),
            CLIENT_REMEDY,
        ));
    }
    match claims.get("iat").and_then(super::format::numeric_date) {
        Some(iat) if iat.abs_diff(request.now) <= PROOF_LEEWAY_SECS.unsigned_abs() => {}
        Some(iat) => {
            return Err(failure(
                message::IAT,
                format!(
                    "iat is {} s {} now (at most {PROOF_LEEWAY_SECS} s either way)",
                    iat.abs_diff(request.now),
                    if iat < request.now { "before" } else { "after" }
                ),
                "Make a fresh proof for each request; if it keeps happening, a clock is off: check NTP on the client and this server.",
            ));
        }
        None => return Err(bad("iat is missing or not a date")),
    }
    if claim("ath") != ath_of(request.access_token) {
        return Err(failure(
            message::ATH,
            "ath is not the base64url SHA-256 of the access token sent",
            CLIENT_REMEDY,
        ));
    }
    let jti = claim("jti");
    if jti.is_empty() || jti.len() > 256 {
        return Err(bad("jti must be a non-empty string of at most 256 bytes"));
    }
    Ok(ValidProof {
        jti: jti.to_string(),
    })
}
