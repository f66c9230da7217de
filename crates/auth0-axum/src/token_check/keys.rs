//! Where verification keys come from, and how a missing one is reported.

use openidconnect::JsonWebKey;
use openidconnect::core::{CoreJsonWebKey, CoreJsonWebKeySet, CoreJwsSigningAlgorithm};

use super::text::quote;
use super::{Category, Failure, format, message, remedies};

/// Why a key for the token could not be had.
#[derive(Debug, Clone)]
pub enum KeyError {
    /// The key set could not be fetched.
    FetchFailed {
        /// Where it was asked for.
        jwks_uri: String,
        /// Why it failed.
        reason: String,
    },
    /// The token has no `kid`, and the key set has several keys for its `alg`: which one signed
    /// it cannot be told (conformance module `oidcc-client-test-kid-absent-multiple-jwks`; the
    /// suite allows refusing it).
    AmbiguousKey {
        /// How many keys fit.
        candidates: usize,
    },
    /// The key set has no key for this `kid` and `alg`.
    NoMatchingKey {
        /// The token's `kid`, if any.
        kid: Option<String>,
        /// The `kid`s the set has.
        available: Vec<String>,
    },
}

/// Where verification keys come from: a cached, refetching JWKS, or a fixed set.
pub trait KeySource {
    /// The key to verify a token with this `kid` and `alg`.
    fn key_for(
        &self,
        kid: Option<&str>,
        alg: &CoreJwsSigningAlgorithm,
    ) -> impl std::future::Future<Output = Result<CoreJsonWebKey, KeyError>> + Send;
}

/// The key in `set` that can verify a token with this `kid` and `alg`, if any. Without a `kid`,
/// only when exactly one key fits.
pub fn select_key<'a>(
    set: &'a CoreJsonWebKeySet,
    kid: Option<&str>,
    alg: &CoreJwsSigningAlgorithm,
) -> Option<&'a CoreJsonWebKey> {
    let fitting = candidates(set, kid, alg);
    match fitting.as_slice() {
        [only] => Some(*only),
        [first, ..] if kid.is_some() => Some(*first),
        _ => None,
    }
}

/// The keys in `set` that fit this `kid` (any, without one) and `alg`, for signatures.
fn candidates<'a>(
    set: &'a CoreJsonWebKeySet,
    kid: Option<&str>,
    alg: &CoreJwsSigningAlgorithm,
) -> Vec<&'a CoreJsonWebKey> {
    set.keys().iter().filter(|key| {
        let kid_ok = match kid {
            Some(kid) => key.key_id().map(|k| k.as_str()) == Some(kid),
            None => true,
        };
        let use_ok = !matches!(key.key_use(), Some(u) if *u != openidconnect::core::CoreJsonWebKeyUse::Signature);
        kid_ok && use_ok && format::key_fits_alg(key, alg)
    }).collect()
}

/// Without a `kid`: `Some(n)` when `n` > 1 keys fit, so none can be chosen.
pub fn ambiguous_without_kid(
    set: &CoreJsonWebKeySet,
    kid: Option<&str>,
    alg: &CoreJwsSigningAlgorithm,
) -> Option<usize> {
    if kid.is_some() {
        return None;
    }
    let n = candidates(set, None, alg).len();
    (n > 1).then_some(n)
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
        if let Some(candidates) = ambiguous_without_kid(self, kid, alg) {
            return Err(KeyError::AmbiguousKey { candidates });
        }
        select_key(self, kid, alg)
            .cloned()
            .ok_or_else(|| KeyError::NoMatchingKey {
                kid: kid.map(str::to_string),
                available: key_ids(self),
            })
    }
}

pub(super) fn key_failure(err: KeyError, kid: Option<&str>) -> Failure {
    match err {
        KeyError::FetchFailed { jwks_uri, reason } => Failure::new(
            Category::KeyRetrievalError,
            message::JWKS_FETCH_FAILED,
            format!("could not fetch or parse the JWKS at {jwks_uri}: {reason}"),
            remedies::JWKS_UNREACHABLE,
        ),
        KeyError::AmbiguousKey { candidates } => Failure::new(
            Category::KeyRetrievalError,
            message::NO_MATCHING_KEY,
            format!(
                "the token has no kid, and the JWKS has {candidates} keys for its alg: which one signed it cannot be told"
            ),
            remedies::NO_KID,
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
            remedies::UNKNOWN_KEY,
        ),
    }
}
