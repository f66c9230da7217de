//! Token checks that name the failure: the JWT troubleshooting guide as code.
//!
//! [`check`] takes a compact JWT and what the app expects of it and runs, in ESP's order, the
//! format, issuer, time, audience, key and signature checks (plus nonce and `at_hash` for an ID
//! token). It returns a [`CheckReport`] with every check's outcome; each failure carries its
//! category, the ESP-style message, a specific detail and a remedy naming the setting to change.
//! Signatures are verified by openidconnect's JWK types; only the format checks are ours.
//!
//! A leaf: it imports nothing of the app but `primitives` (the clock).

mod category;
mod claims;
pub mod dpop;
mod expectations;
mod format;
mod keys;
mod remedies;
mod report;
mod signature;

pub use signature::verify as verify_signature;
pub mod text;

pub use category::{Category, message};
pub use claims::normalize_audience;
pub use expectations::{
    AudienceSetting, DEFAULT_LEEWAY_SECS, Expectations, IdTokenExpectations, TokenTypes, Trust,
};
pub use format::{
    ESP_ALGORITHMS, ID_TOKEN_REQUIRED_CLAIMS, MAX_NUMERIC_DATE, MAX_TOKEN_BYTES, REQUIRED_CLAIMS,
};
pub use keys::{KeyError, KeySource, ambiguous_without_kid, key_ids, select_key};
pub use report::{CheckReport, Failure, Outcome, Step};

use openidconnect::core::{CoreJsonWebKey, CoreJwsSigningAlgorithm};

use claims::{check_at_hash, check_audience, check_issuer, check_nonce, check_time};
use keys::key_failure;
use report::{skipped, step};
use text::quote;

/// The key the token names, found by `keys`; the step says why not, otherwise.
async fn key_step(
    parts: &format::Parts,
    expect: &Expectations,
    keys: &impl KeySource,
) -> (Step, Option<(CoreJsonWebKey, CoreJwsSigningAlgorithm)>) {
    let Some(alg) = &parts.alg else {
        return (skipped("key", "the header has no usable alg"), None);
    };
    if !expect.allowed_algs.contains(alg) {
        let name = format::alg_name(alg);
        let failure = Failure::new(
            Category::KeyRetrievalError,
            message::NO_MATCHING_KEY,
            format!(
                "the token is signed with {name}; this app accepts only {}",
                algs_text(&expect.allowed_algs)
            ),
            if name.starts_with("HS") {
                remedies::HS_ALGORITHM
            } else {
                remedies::OTHER_ALGORITHM
            },
        );
        return (step("key", vec![failure], ""), None);
    }
    let kid = parts.kid.as_deref();
    match keys.key_for(kid, alg).await {
        Ok(key) => {
            let note = format!(
                "JWKS has a key for kid {}",
                kid.map(quote).unwrap_or("(none)".into())
            );
            (step("key", Vec::new(), &note), Some((key, alg.clone())))
        }
        Err(err) => (step("key", vec![key_failure(err, kid)], ""), None),
    }
}

/// The signature checked with the key, if there is one; whether it verified.
fn signature_step(
    parts: &format::Parts,
    key: Option<&(CoreJsonWebKey, CoreJwsSigningAlgorithm)>,
) -> (Step, bool) {
    let Some((key, alg)) = key else {
        return (skipped("signature", "no key to verify with"), false);
    };
    match signature::verify(key, alg, parts.signing_input.as_bytes(), &parts.signature) {
        Ok(()) => (
            step("signature", Vec::new(), "verified with the provider's key"),
            true,
        ),
        Err(err) => {
            let failure = Failure::new(
                Category::SignatureInvalid,
                message::VERIFICATION_FAILS,
                format!(
                    "the signature does not verify with key {}: {err}",
                    parts.kid.as_deref().map(quote).unwrap_or("(no kid)".into())
                ),
                remedies::SIGNATURE,
            );
            (step("signature", vec![failure], ""), false)
        }
    }
}

/// Runs every check on `token`.
pub async fn check(token: &str, expect: &Expectations, keys: &impl KeySource) -> CheckReport {
    let mut steps = Vec::new();
    let decoded = format::decode(token, expect.required_claims);
    let (parts, format_failures) = match decoded {
        Ok((parts, mut failures)) => {
            failures.extend(format::type_failure(&parts.header, &expect.token_types));
            (Some(parts), failures)
        }
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

    let (key_step, key) = key_step(&parts, expect, keys).await;
    steps.push(key_step);
    let (signature_step, verified) = signature_step(&parts, key.as_ref());
    steps.push(signature_step);

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

fn algs_text(algs: &[CoreJwsSigningAlgorithm]) -> String {
    algs.iter()
        .map(format::alg_name)
        .collect::<Vec<_>>()
        .join(", ")
}

// The tests sign with the demo provider's fixture keys.
#[cfg(test)]
mod tests;
