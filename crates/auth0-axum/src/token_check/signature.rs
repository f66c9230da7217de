//! The signature check. RS256 with an RSA key of 2048 bits or more is verified by `ring` (in the
//! tree already, through rustls): several times faster than the pure-Rust `rsa` crate behind
//! openidconnect's `verify_signature`, which still verifies everything else (other algorithms,
//! smaller keys). Either way a failure is the same named `SIGNATURE_INVALID`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::JsonWebKey;
use openidconnect::core::{CoreJsonWebKey, CoreJsonWebKeyType, CoreJwsSigningAlgorithm};

/// Verifies `signature` over `input` with `key`, as `check` does; the reason on failure.
pub fn verify(
    key: &CoreJsonWebKey,
    alg: &CoreJwsSigningAlgorithm,
    input: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    if *alg == CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256
        && *key.key_type() == CoreJsonWebKeyType::RSA
        && let Some((n, e)) = rsa_components(key)
        && n.len() >= 256
    {
        let public = ring::signature::RsaPublicKeyComponents { n: &n, e: &e };
        return public
            .verify(
                &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                input,
                signature,
            )
            .map_err(|_| "the RSA signature does not match".to_string());
    }
    key.verify_signature(alg, input, signature)
        .map_err(|e| e.to_string())
}

/// The modulus and exponent of an RSA JWK (openidconnect keeps them private: read its JSON).
fn rsa_components(key: &CoreJsonWebKey) -> Option<(Vec<u8>, Vec<u8>)> {
    let json = serde_json::to_value(key).ok()?;
    let field = |name: &str| {
        json.get(name)
            .and_then(serde_json::Value::as_str)
            .and_then(|v| URL_SAFE_NO_PAD.decode(v.trim_end_matches('=')).ok())
    };
    let mut n = field("n")?;
    // A leading zero byte is allowed in the JWK; ring wants the minimal big-endian form.
    while n.first() == Some(&0) && n.len() > 1 {
        n.remove(0);
    }
    Some((n, field("e")?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth0_demo_idp::keys::{DEMO_KID_1, SigningKey};

    #[test]
    fn ring_and_openidconnect_agree_on_good_and_bad_signatures() {
        let key = SigningKey::fixture(DEMO_KID_1);
        let token = key.sign(&serde_json::Map::new());
        let (input, sig) = token.rsplit_once('.').unwrap();
        let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        let jwk = key.public_jwk();
        let rs256 = CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256;
        assert!(
            rsa_components(&jwk).is_some_and(|(n, _)| n.len() >= 256),
            "the fast path applies"
        );
        assert!(verify(&jwk, &rs256, input.as_bytes(), &sig).is_ok());
        assert!(jwk.verify_signature(&rs256, input.as_bytes(), &sig).is_ok());
        let mut bad = sig.clone();
        bad[10] ^= 1;
        assert!(verify(&jwk, &rs256, input.as_bytes(), &bad).is_err());
        assert!(verify(&jwk, &rs256, b"other input", &sig).is_err());
    }
}
