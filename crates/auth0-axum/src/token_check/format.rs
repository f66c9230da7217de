//! The BAD_FORMAT checks: ours, because no crate reports them separately from verification.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::JsonWebKey;
use openidconnect::JsonWebKeyAlgorithm;
use openidconnect::core::{CoreJsonWebKey, CoreJsonWebKeyType, CoreJwsSigningAlgorithm};
use serde_json::{Map, Value};

use super::text::quote;
use super::{Category, Failure, message};

/// Tokens longer than this are refused before any decoding. Auth0's are 1-3 KB; 16 KB leaves room
/// for large custom claims while a 300 KB token costs nothing.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The latest NumericDate accepted: 9999-12-31T23:59:59Z. Anything later (or `1e30`) is BAD_FORMAT,
/// so the time checks never see a value their arithmetic cannot hold.
pub const MAX_NUMERIC_DATE: i64 = 253_402_300_799;

/// A NumericDate claim (RFC 7519: seconds since 1970, fractions allowed) as whole seconds, when it
/// is a number from 1 to [`MAX_NUMERIC_DATE`].
pub(super) fn numeric_date(value: &Value) -> Option<i64> {
    let n = value.as_f64()?;
    if n.is_finite() && n > 0.0 && n <= MAX_NUMERIC_DATE as f64 {
        Some(n as i64)
    } else {
        None
    }
}

/// The algorithms ESP accepts in a header; anything else is BAD_FORMAT.
pub const ESP_ALGORITHMS: [&str; 7] = [
    "RS256", "HS256", "RS384", "HS384", "RS512", "HS512", "ES256",
];

const SHAPE_REMEDY: &str = "Send the token exactly as the provider issued it: three base64url parts joined by dots, without quotes or a 'Bearer ' prefix.";

pub(super) struct Parts {
    pub header: Map<String, Value>,
    pub payload: Map<String, Value>,
    pub alg: Option<CoreJwsSigningAlgorithm>,
    pub kid: Option<String>,
    pub signing_input: String,
    pub signature: Vec<u8>,
}

fn bad(message: &'static str, detail: impl Into<String>, remedy: &str) -> Failure {
    Failure::new(Category::BadFormat, message, detail, remedy)
}

pub(super) fn alg_name(alg: &CoreJwsSigningAlgorithm) -> String {
    serde_json::to_value(alg)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{alg:?}"))
}

pub(super) fn key_fits_alg(key: &CoreJsonWebKey, alg: &CoreJwsSigningAlgorithm) -> bool {
    let name = alg_name(alg);
    let type_ok = match key.key_type() {
        CoreJsonWebKeyType::RSA => name.starts_with("RS") || name.starts_with("PS"),
        CoreJsonWebKeyType::EllipticCurve => name.starts_with("ES"),
        _ => false,
    };
    let alg_ok = match key.signing_alg() {
        JsonWebKeyAlgorithm::Algorithm(a) => a == alg,
        JsonWebKeyAlgorithm::Unspecified => true,
        JsonWebKeyAlgorithm::Unsupported => false,
    };
    type_ok && alg_ok
}

fn decode_json_part(
    part: &str,
    bad_base64: &'static str,
    bad_json: &'static str,
) -> Result<Map<String, Value>, Failure> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|e| bad(bad_base64, format!("not base64url: {e}"), SHAPE_REMEDY))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(bad(
            bad_json,
            "decodes to JSON that is not an object",
            SHAPE_REMEDY,
        )),
        Err(e) => Err(bad(bad_json, format!("not JSON: {e}"), SHAPE_REMEDY)),
    }
}

/// Decodes a compact JWT. `Err` when it cannot be decoded at all; otherwise the parts and the
/// format problems that do not stop the other checks.
/// The claims every token must carry (`sub`, `iss`, `aud`); a logout token may name a session
/// instead of a user, so it requires only the last two.
pub const REQUIRED_CLAIMS: &[&str] = &["sub", "iss", "aud"];

/// The claims an ID token must carry besides those: `exp` is checked by the time step, and `iat`
/// is required by OIDC Core 3.1.3.7 (conformance module `oidcc-client-test-missing-iat`).
pub const ID_TOKEN_REQUIRED_CLAIMS: &[&str] = &["sub", "iss", "aud", "iat"];

/// Decodes a compact JWT; `required` names the claims that must be present.
pub(super) fn decode(
    token: &str,
    required: &[&str],
) -> Result<(Parts, Vec<Failure>), Vec<Failure>> {
    let token = token.trim();
    if token.len() > MAX_TOKEN_BYTES {
        return Err(vec![bad(
            message::TOO_LARGE,
            format!(
                "the token is {} bytes; tokens over {MAX_TOKEN_BYTES} bytes are refused before decoding",
                token.len()
            ),
            "Auth0 tokens are a few KB. Trim the custom claims an Action adds, or send the token that was issued, once.",
        )]);
    }
    let pieces: Vec<&str> = token.split('.').collect();
    if token.is_empty() {
        return Err(vec![bad(
            message::MISSING,
            "the token is empty",
            SHAPE_REMEDY,
        )]);
    }
    if pieces.len() != 3 {
        let remedy = match pieces.len() {
            1 => {
                "This looks like an opaque access token, not a JWT. Auth0 issues a JWT access token only when the login asks for an API: set AUTH0_AUDIENCE to your API's identifier and log in again."
            }
            5 => {
                "This is an encrypted token (JWE, five parts, alg dir): the access token Auth0 issues for its own /userinfo when the login names no API. A token for your API needs audience=<your API's identifier> in the login: set AUTH0_AUDIENCE and log in again."
            }
            _ => SHAPE_REMEDY,
        };
        return Err(vec![bad(
            message::NOT_THREE_PARTS,
            format!("the token has {} part(s) separated by dots", pieces.len()),
            remedy,
        )]);
    }
    let header = decode_json_part(
        pieces[0],
        message::HEADER_BAD_BASE64,
        message::HEADER_BAD_JSON,
    )
    .map_err(|f| vec![f])?;
    let payload = decode_json_part(
        pieces[1],
        message::PAYLOAD_BAD_BASE64,
        message::PAYLOAD_BAD_JSON,
    )
    .map_err(|f| vec![f])?;
    let mut failures = Vec::new();

    let signature = match URL_SAFE_NO_PAD.decode(pieces[2]) {
        Ok(sig) if !sig.is_empty() => sig,
        Ok(_) => {
            failures.push(bad(
                message::SIGNATURE_BAD_BASE64,
                "the signature part is empty (an unsigned token)",
                SHAPE_REMEDY,
            ));
            Vec::new()
        }
        Err(e) => {
            failures.push(bad(
                message::SIGNATURE_BAD_BASE64,
                format!("not base64url: {e}"),
                SHAPE_REMEDY,
            ));
            Vec::new()
        }
    };

    let (alg, kid) = header_fields(&header, &mut failures);
    failures.extend(claim_shape_failures(&payload, required));

    let signing_input = format!("{}.{}", pieces[0], pieces[1]);
    Ok((
        Parts {
            header,
            payload,
            alg,
            kid,
            signing_input,
            signature,
        },
        failures,
    ))
}

/// The header's `typ`, when it names a kind of token `types` does not accept (RFC 8725 §3.11).
pub(super) fn type_failure(
    header: &Map<String, Value>,
    types: &super::TokenTypes,
) -> Option<Failure> {
    let typ = header.get("typ")?;
    let accepted = typ.as_str().is_some_and(|t| types.accepts(t));
    if accepted {
        return None;
    }
    Some(bad(
        message::TYPE_NOT_ALLOWED,
        format!(
            "the header says typ {}, and {} is typed {}",
            typ.as_str()
                .map_or_else(|| "(not a string)".to_string(), quote),
            types.kind,
            types.names.join(" or ")
        ),
        &format!(
            "Send {} here. A token's typ says what it is for (RFC 8725 §3.11), so that an ID token, a logout token or a DPoP proof cannot pass as another kind.",
            types.kind
        ),
    ))
}

/// `alg` and `kid` from the header, and `crit` refused: their problems go to `failures`.
fn header_fields(
    header: &Map<String, Value>,
    failures: &mut Vec<Failure>,
) -> (Option<CoreJwsSigningAlgorithm>, Option<String>) {
    let alg = match header.get("alg") {
        Some(Value::String(name)) if ESP_ALGORITHMS.contains(&name.as_str()) => {
            serde_json::from_value::<CoreJwsSigningAlgorithm>(Value::String(name.clone())).ok()
        }
        Some(Value::String(name)) => {
            failures.push(bad(
                message::ALG_UNSUPPORTED,
                format!(
                    "alg is {}; supported: {}",
                    quote(name),
                    ESP_ALGORITHMS.join(", ")
                ),
                "Sign tokens with RS256, Auth0's default.",
            ));
            None
        }
        _ => {
            failures.push(bad(
                message::ALG_MISSING,
                "the header has no alg string",
                SHAPE_REMEDY,
            ));
            None
        }
    };
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => {
            failures.push(bad(
                "Jwt header [kid] field is not a string",
                "kid is not a string",
                SHAPE_REMEDY,
            ));
            None
        }
    };

    // RFC 7515 4.1.11: a `crit` header names extensions the recipient must understand. This app
    // understands none, so any `crit` is refused rather than ignored.
    if let Some(crit) = header.get("crit") {
        let names = match crit {
            Value::Array(items) => items
                .iter()
                .take(5)
                .map(|v| {
                    v.as_str()
                        .map(quote)
                        .unwrap_or_else(|| "(not a string)".into())
                })
                .collect::<Vec<_>>()
                .join(", "),
            _ => "(not a list)".into(),
        };
        failures.push(bad(
            message::CRIT_UNSUPPORTED,
            format!("the header's crit names extensions this app does not understand: {names}"),
            "Auth0 never sets crit. A token that requires an extension must be verified by software that implements it.",
        ));
    }

    (alg, kid)
}

/// The registered claims' types and ranges, and the claims every token must carry.
fn claim_shape_failures(payload: &Map<String, Value>, required: &[&str]) -> Vec<Failure> {
    let mut failures = Vec::new();
    for claim in ["iat", "exp", "nbf"] {
        if let Some(v) = payload.get(claim)
            && numeric_date(v).is_none()
        {
            let detail = if v.as_f64().is_some_and(|n| n > 0.0) {
                format!(
                    "{claim} is {}, outside the range of dates (1 to {MAX_NUMERIC_DATE}, the year 9999)",
                    super::text::truncate(&v.to_string(), 40)
                )
            } else {
                format!("{claim} must be a number of seconds since 1970, greater than 0")
            };
            failures.push(bad(
                claim_message(claim, "is not a positive number"),
                detail,
                SHAPE_REMEDY,
            ));
        }
    }
    for claim in ["sub", "iss", "jti"] {
        if let Some(v) = payload.get(claim)
            && !v.is_string()
        {
            failures.push(bad(
                claim_message(claim, "is not a string"),
                format!("{claim} must be a string"),
                SHAPE_REMEDY,
            ));
        }
    }
    match payload.get("aud") {
        None | Some(Value::String(_)) => {}
        Some(Value::Array(items)) if !items.is_empty() && items.iter().all(Value::is_string) => {}
        Some(_) => failures.push(bad(
            claim_message("aud", "is not a string or string list"),
            "aud must be a string or a non-empty array of strings",
            SHAPE_REMEDY,
        )),
    }
    for &claim in required {
        if !payload.contains_key(claim) {
            failures.push(bad(
                claim_message(claim, "is missing"),
                format!("the payload has no {claim} claim"),
                &format!("Tokens from Auth0 always carry {claim}: check where this one came from."),
            ));
        }
    }

    failures
}

/// Envoy-style messages for a claim of the wrong shape, e.g. `Jwt payload [exp] is missing`.
fn claim_message(claim: &str, what: &str) -> &'static str {
    match (claim, what) {
        ("iat", "is missing") => "Jwt payload [iat] field is missing",
        ("iat", _) => "Jwt payload [iat] field is not a positive number",
        ("exp", _) => "Jwt payload [exp] field is not a positive number",
        ("nbf", _) => "Jwt payload [nbf] field is not a positive number",
        ("jti", _) => "Jwt payload [jti] field is not a string",
        ("sub", "is missing") => "Jwt payload [sub] field is missing",
        ("iss", "is missing") => "Jwt payload [iss] field is missing",
        ("aud", "is missing") => "Jwt payload [aud] field is missing",
        ("sub", _) => "Jwt payload [sub] field is not a string",
        ("iss", _) => "Jwt payload [iss] field is not a string",
        _ => "Jwt payload [aud] field is not a string or string list",
    }
}
