//! For bench/: the cost of one RS256 signature verification (ours, and openidconnect's for
//! comparison), and of the whole `token_check`
//! (parse, claims, signature) that `/api/me` runs, on a real token, measured here.
//!
//! `cargo run --release --example bench_verify -- TOKEN JWKS_URL ISSUER AUDIENCE [ITERATIONS]`
//! prints one JSON line: {"rs256_verify_us":..,"token_check_us":..,"iterations":..}.

use std::time::Instant;

use auth0_axum::token_check::{self, AudienceSetting, Expectations, KeySource};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::JsonWebKey;
use openidconnect::core::{CoreJsonWebKeySet, CoreJwsSigningAlgorithm};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [token, jwks_url, issuer, audience, rest @ ..] = args.as_slice() else {
        anyhow::bail!("usage: bench_verify TOKEN JWKS_URL ISSUER AUDIENCE [ITERATIONS]");
    };
    let iterations: u32 = rest.first().map(|n| n.parse()).transpose()?.unwrap_or(2000);
    let jwks: CoreJsonWebKeySet = reqwest::get(jwks_url)
        .await?
        .error_for_status()?
        .json()
        .await?;

    let (signing_input, signature) = token
        .rsplit_once('.')
        .ok_or_else(|| anyhow::anyhow!("not a JWT"))?;
    let signature = URL_SAFE_NO_PAD.decode(signature)?;
    let header: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap_or_default())?,
    )?;
    let alg = CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256;
    let key = jwks
        .key_for(header["kid"].as_str(), &alg)
        .await
        .map_err(|e| anyhow::anyhow!("no key for this token in the JWKS: {e:?}"))?;

    // The verify the app does (ring for RS256 with 2048+ bit keys)...
    let started = Instant::now();
    for _ in 0..iterations {
        token_check::verify_signature(&key, &alg, signing_input.as_bytes(), &signature)
            .map_err(|e| anyhow::anyhow!("the signature does not verify: {e}"))?;
    }
    let verify_us = started.elapsed().as_secs_f64() * 1e6 / f64::from(iterations);
    // ...and openidconnect's own (the pure-Rust rsa crate), for comparison.
    let started = Instant::now();
    for _ in 0..iterations {
        key.verify_signature(&alg, signing_input.as_bytes(), &signature)?;
    }
    let rsa_crate_us = started.elapsed().as_secs_f64() * 1e6 / f64::from(iterations);

    let expect = Expectations::new(
        issuer.as_str(),
        audience.as_str(),
        AudienceSetting::ApiAudience,
    );
    let started = Instant::now();
    for _ in 0..iterations {
        let report = token_check::check(token, &expect, &jwks).await;
        anyhow::ensure!(
            report.passed(),
            "token_check refused the token: {}",
            report.summary()
        );
    }
    let check_us = started.elapsed().as_secs_f64() * 1e6 / f64::from(iterations);

    println!(
        "{}",
        serde_json::json!({
            "rs256_verify_us": (verify_us * 10.0).round() / 10.0,
            "rsa_crate_verify_us": (rsa_crate_us * 10.0).round() / 10.0,
            "token_check_us": (check_us * 10.0).round() / 10.0,
            "iterations": iterations,
        })
    );
    Ok(())
}
