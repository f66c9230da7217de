//! Token checks that name the failure: the JWT troubleshooting guide as code.
//!
//! [`check`] takes a compact JWT and what the app expects of it and runs, in ESP's order, the
//! format, issuer, time, audience, key and signature checks (plus nonce and `at_hash` for an ID
//! token). It returns a [`CheckReport`] with every check's outcome; each failure carries its
//! category, the ESP-style message, a specific detail and a remedy naming the setting to change.
//! Signatures are verified by openidconnect's JWK types; only the format checks are ours.

mod category;
mod format;
pub mod text;

pub use category::{Category, message};

use openidconnect::core::{CoreJsonWebKey, CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use openidconnect::{AccessToken, AccessTokenHash, JsonWebKey};
use serde::Serialize;
use serde_json::{Map, Value};

pub use format::{ESP_ALGORITHMS, MAX_NUMERIC_DATE, MAX_TOKEN_BYTES};
use text::quote;

/// Clock skew tolerated on `exp`, `nbf` and `iat`, as ESP allows.
pub const DEFAULT_LEEWAY_SECS: i64 = 60;

/// What a token must satisfy.
#[derive(Debug, Clone)]
pub struct Expectations {
    /// The one trusted issuer, exactly. `None`: nothing is trusted, and `unconfigured` says why.
    pub issuer: Option<String>,
    /// Why no issuer is trusted, naming the setting (used when `issuer` is `None`).
    pub unconfigured: String,
    /// Audiences accepted (compared ignoring a leading `http(s)://` and a trailing `/`).
    pub audiences: Vec<String>,
    /// The setting that holds the audience, named in remedies (`AUTH0_CLIENT_ID`, `AUTH0_AUDIENCE`).
    pub audience_setting: &'static str,
    /// Unix time to check against.
    pub now: i64,
    pub leeway_secs: i64,
    pub allowed_algs: Vec<CoreJwsSigningAlgorithm>,
    /// Set for an ID token from our own login.
    pub id_token: Option<IdTokenExpectations>,
}

#[derive(Debug, Clone)]
pub struct IdTokenExpectations {
    pub client_id: String,
    pub nonce: String,
    /// When present, a token's `at_hash` must match it.
    pub access_token: Option<String>,
}

impl Expectations {
    pub fn new(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        audience_setting: &'static str,
    ) -> Self {
        Self {
            issuer: Some(issuer.into()),
            unconfigured: String::new(),
            audiences: vec![audience.into()],
            audience_setting,
            now: unix_now(),
            leeway_secs: DEFAULT_LEEWAY_SECS,
            allowed_algs: vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256],
            id_token: None,
        }
    }

    /// Nothing can be trusted until a setting is given; `why` names it.
    pub fn unconfigured(why: impl Into<String>) -> Self {
        Self {
            issuer: None,
            unconfigured: why.into(),
            audiences: Vec::new(),
            audience_setting: "AUTH0_AUDIENCE",
            now: unix_now(),
            leeway_secs: DEFAULT_LEEWAY_SECS,
            allowed_algs: vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256],
            id_token: None,
        }
    }
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Why a key for the token could not be had.
#[derive(Debug, Clone)]
pub enum KeyError {
    FetchFailed {
        jwks_uri: String,
        reason: String,
    },
    NoMatchingKey {
        kid: Option<String>,
        available: Vec<String>,
    },
}

/// Where verification keys come from: a cached, refetching JWKS, or a fixed set.
pub trait KeySource {
    fn key_for(
        &self,
        kid: Option<&str>,
        alg: &CoreJwsSigningAlgorithm,
    ) -> impl std::future::Future<Output = Result<CoreJsonWebKey, KeyError>> + Send;
}

/// The key in `set` that can verify a token with this `kid` and `alg`, if any.
pub fn select_key<'a>(
    set: &'a CoreJsonWebKeySet,
    kid: Option<&str>,
    alg: &CoreJwsSigningAlgorithm,
) -> Option<&'a CoreJsonWebKey> {
    set.keys().iter().find(|key| {
        let kid_ok = match kid {
            Some(kid) => key.key_id().map(|k| k.as_str()) == Some(kid),
            None => true,
        };
        let use_ok = !matches!(key.key_use(), Some(u) if *u != openidconnect::core::CoreJsonWebKeyUse::Signature);
        kid_ok && use_ok && format::key_fits_alg(key, alg)
    })
}

/// Key ids in a set, for diagnoses.
pub fn key_ids(set: &CoreJsonWebKeySet) -> Vec<String> {
    set.keys()
        .iter()
        .map(|k| {
            k.key_id()
                .map(|k| k.to_string())
                .unwrap_or_else(|| "(no kid)".into())
        })
        .collect()
}

/// A fixed JWKS (from a file, or a test) is a key source that never refetches.
impl KeySource for CoreJsonWebKeySet {
    async fn key_for(
        &self,
        kid: Option<&str>,
        alg: &CoreJwsSigningAlgorithm,
    ) -> Result<CoreJsonWebKey, KeyError> {
        select_key(self, kid, alg)
            .cloned()
            .ok_or_else(|| KeyError::NoMatchingKey {
                kid: kid.map(str::to_string),
                available: key_ids(self),
            })
    }
}

/// One failed check.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub category: Category,
    /// The ESP-style message, fit for an API response.
    pub message: &'static str,
    /// What exactly was wrong: claim names and public values only, never a token or secret.
    pub detail: String,
    /// What to do, naming the setting to change where there is one.
    pub remedy: String,
}

impl Failure {
    fn new(
        category: Category,
        message: &'static str,
        detail: impl Into<String>,
        remedy: impl Into<String>,
    ) -> Self {
        Self {
            category,
            message,
            // Details quote the token: never raw control characters, never unbounded.
            detail: text::clean(&detail.into()),
            remedy: remedy.into(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "result", rename_all = "lowercase")]
pub enum Outcome {
    Pass { note: String },
    Fail { failures: Vec<Failure> },
    Skipped { reason: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub name: &'static str,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Every check's outcome, in order, with the decoded parts when they could be decoded.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub header: Option<Map<String, Value>>,
    pub payload: Option<Map<String, Value>>,
    pub steps: Vec<Step>,
}

impl CheckReport {
    pub fn failures(&self) -> impl Iterator<Item = &Failure> {
        self.steps.iter().flat_map(|s| match &s.outcome {
            Outcome::Fail { failures } => failures.as_slice(),
            _ => &[],
        })
    }

    /// The first failure in ESP's order: the one an API answers with.
    pub fn first_failure(&self) -> Option<&Failure> {
        self.failures().next()
    }

    pub fn passed(&self) -> bool {
        self.first_failure().is_none()
    }

    /// The verified claims, only when every check passed.
    pub fn verified_claims(&self) -> Option<&Map<String, Value>> {
        if self.passed() {
            self.payload.as_ref()
        } else {
            None
        }
    }

    /// A one-line summary for logs: categories and details, no token contents beyond claim values
    /// the report already names.
    pub fn summary(&self) -> String {
        self.failures()
            .map(|f| format!("{}: {} ({})", f.category, f.message, f.detail))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Runs every check on `token`.
pub async fn check(token: &str, expect: &Expectations, keys: &impl KeySource) -> CheckReport {
    let mut steps = Vec::new();
    let decoded = format::decode(token);
    let (parts, format_failures) = match decoded {
        Ok((parts, failures)) => (Some(parts), failures),
        Err(failures) => (None, failures),
    };
    steps.push(step(
        "format",
        format_failures,
        "three base64url parts, JSON header and payload, claim types as required",
    ));

    let Some(parts) = parts else {
        for name in ["issuer", "time", "audience", "key", "signature"] {
            steps.push(Step {
                name,
                outcome: Outcome::Skipped {
                    reason: "the token could not be decoded".into(),
                },
            });
        }
        return CheckReport {
            header: None,
            payload: None,
            steps,
        };
    };

    let (failures, note) = check_issuer(&parts.payload, expect);
    steps.push(step("issuer", failures, &note));
    let (failures, note) = check_time(&parts.payload, expect);
    steps.push(step("time", failures, &note));
    let (failures, note) = check_audience(&parts.payload, expect);
    steps.push(step("audience", failures, &note));

    let key = match &parts.alg {
        None => {
            steps.push(skipped("key", "the header has no usable alg"));
            None
        }
        Some(alg) if !expect.allowed_algs.contains(alg) => {
            let name = format::alg_name(alg);
            steps.push(step(
                "key",
                vec![Failure::new(
                    Category::KeyRetrievalError,
                    message::NO_MATCHING_KEY,
                    format!("the token is signed with {name}; this app accepts only {}", algs_text(&expect.allowed_algs)),
                    if name.starts_with("HS") {
                        "Sign tokens with RS256: in the Auth0 dashboard, Applications > your app > Settings > Advanced > OAuth > JSON Web Token Signature Algorithm = RS256 (for an API: APIs > your API > Settings > Signing Algorithm)."
                    } else {
                        "Sign tokens with RS256, the algorithm Auth0 uses by default."
                    },
                )],
                "",
            ));
            None
        }
        Some(alg) => match keys.key_for(parts.kid.as_deref(), alg).await {
            Ok(key) => {
                steps.push(step(
                    "key",
                    Vec::new(),
                    &format!(
                        "JWKS has a key for kid {}",
                        parts.kid.as_deref().map(quote).unwrap_or("(none)".into())
                    ),
                ));
                Some((key, alg.clone()))
            }
            Err(err) => {
                steps.push(step(
                    "key",
                    vec![key_failure(err, parts.kid.as_deref())],
                    "",
                ));
                None
            }
        },
    };

    let verified = match &key {
        None => {
            steps.push(skipped("signature", "no key to verify with"));
            false
        }
        Some((key, alg)) => {
            match key.verify_signature(alg, parts.signing_input.as_bytes(), &parts.signature) {
                Ok(()) => {
                    steps.push(step(
                        "signature",
                        Vec::new(),
                        "verified with the provider's key",
                    ));
                    true
                }
                Err(err) => {
                    steps.push(step(
                    "signature",
                    vec![Failure::new(
                        Category::SignatureInvalid,
                        message::VERIFICATION_FAILS,
                        format!("the signature does not verify with key {}: {err}", parts.kid.as_deref().map(quote).unwrap_or("(no kid)".into())),
                        "The token was altered, or signed by another tenant or key. Get a fresh token from the tenant named in AUTH0_DOMAIN.",
                    )],
                    "",
                ));
                    false
                }
            }
        }
    };

    if let Some(id) = &expect.id_token {
        let (failures, note) = check_nonce(&parts.payload, id);
        steps.push(step("nonce", failures, &note));
        if let Some((key, alg)) = key.as_ref().filter(|_| verified) {
            let (failures, note) = check_at_hash(&parts.payload, id, key, alg);
            steps.push(step("at_hash", failures, &note));
        } else {
            steps.push(skipped("at_hash", "the signature was not verified"));
        }
    }

    CheckReport {
        header: Some(parts.header),
        payload: Some(parts.payload),
        steps,
    }
}

fn step(name: &'static str, failures: Vec<Failure>, pass_note: &str) -> Step {
    Step {
        name,
        outcome: if failures.is_empty() {
            Outcome::Pass {
                note: text::clean(pass_note),
            }
        } else {
            Outcome::Fail { failures }
        },
    }
}

fn skipped(name: &'static str, reason: &str) -> Step {
    Step {
        name,
        outcome: Outcome::Skipped {
            reason: reason.into(),
        },
    }
}

fn algs_text(algs: &[CoreJwsSigningAlgorithm]) -> String {
    algs.iter()
        .map(format::alg_name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn key_failure(err: KeyError, kid: Option<&str>) -> Failure {
    match err {
        KeyError::FetchFailed { jwks_uri, reason } => Failure::new(
            Category::KeyRetrievalError,
            message::JWKS_FETCH_FAILED,
            format!("could not fetch or parse the JWKS at {jwks_uri}: {reason}"),
            "Check that the provider is reachable from this server and that AUTH0_DOMAIN is right (its discovery document names the jwks_uri).",
        ),
        KeyError::NoMatchingKey { kid: _, available } => Failure::new(
            Category::KeyRetrievalError,
            message::NO_MATCHING_KEY,
            format!(
                "no key with kid {} in the JWKS (it has: {}), even after refetching it",
                kid.map(quote).unwrap_or("(none)".into()),
                if available.is_empty() {
                    "no keys".into()
                } else {
                    available
                        .iter()
                        .take(10)
                        .map(|k| quote(k))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
            "The token was signed by a key this tenant does not publish: it comes from another tenant (check AUTH0_DOMAIN), or the key was revoked. Log in again for a fresh token.",
        ),
    }
}

fn check_issuer(payload: &Map<String, Value>, expect: &Expectations) -> (Vec<Failure>, String) {
    let iss = payload.get("iss").and_then(Value::as_str);
    let Some(expected) = &expect.issuer else {
        return (
            vec![Failure::new(
                Category::IssuerNotConfigured,
                message::ISSUER_NOT_CONFIGURED,
                format!(
                    "this service trusts no issuer yet, so iss {} cannot be accepted",
                    iss.map(quote).unwrap_or("(missing)".into())
                ),
                expect.unconfigured.clone(),
            )],
            String::new(),
        );
    };
    let mut failures = Vec::new();
    if let Some(iss) = iss
        && iss.contains('@')
        && payload.get("sub").and_then(Value::as_str) != Some(iss)
    {
        failures.push(Failure::new(
            Category::Unknown,
            message::SELF_ISSUED_SUB,
            format!("iss {} is an e-mail address, and sub differs from it", quote(iss)),
            "A self-issued token (a service account signing its own JWT) must have sub equal to iss.",
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
                    "The issuers differ only by a trailing slash: an issuer must match exactly. Check the provider's discovery document and AUTH0_DOMAIN.".to_string()
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

fn check_time(payload: &Map<String, Value>, expect: &Expectations) -> (Vec<Failure>, String) {
    let now = expect.now;
    let leeway = expect.leeway_secs;
    // Out-of-range values are BAD_FORMAT (the format check); here every value is a sane date, and
    // the arithmetic saturates anyway: nothing from a token can overflow it.
    let num = |name: &str| payload.get(name).and_then(format::numeric_date);
    let mut failures = Vec::new();
    let clock_remedy = "Get a fresh token (log in again). If it keeps happening, this server's clock or the provider's is off: check `timedatectl` / NTP.";
    match num("exp") {
        None if payload.contains_key("exp") => {} // wrong type or range: reported by the format check
        None => failures.push(Failure::new(
            Category::TimeConstraintFailure,
            message::EXPIRED,
            "the token has no exp claim, so it would never expire",
            "Tokens must carry an expiry. Tokens from Auth0 always do: check where this one came from.",
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

fn check_audience(payload: &Map<String, Value>, expect: &Expectations) -> (Vec<Failure>, String) {
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
    if expect.issuer.is_some() && !allowed {
        failures.push(Failure::new(
            Category::AudienceNotAllowed,
            message::AUDIENCE_NOT_ALLOWED,
            format!("aud is {}; this app accepts {:?}", quote_list(&auds), expect.audiences),
            if expect.audience_setting == "AUTH0_CLIENT_ID" {
                "The ID token was issued to another application: AUTH0_CLIENT_ID must be the Client ID of the application the login went through.".to_string()
            } else {
                format!(
                    "Request the access token with audience={} ({}), the identifier of your API in Auth0 (APIs > your API > Identifier).",
                    expect.audiences.first().map(String::as_str).unwrap_or("?"),
                    expect.audience_setting
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
                format!("the token has {} audiences and azp is {}, not this client", auds.len(), azp.map(quote).unwrap_or("missing".into())),
                "An ID token for several audiences must name this app as azp: check AUTH0_CLIENT_ID.",
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

fn check_nonce(payload: &Map<String, Value>, id: &IdTokenExpectations) -> (Vec<Failure>, String) {
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
                "The ID token belongs to another login (a replayed or injected token). Start a new login.",
            )],
            String::new(),
        ),
    }
}

fn check_at_hash(
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
                "The token response was tampered with, or the tokens come from different logins. Start a new login.",
            )],
            String::new(),
        ),
    }
}

#[cfg(test)]
mod tests;
