//! The demo provider's signing keys: fixture RSA keys (PKCS#1, public by design: they sign only
//! demo and test tokens) and a JWT signer built on openidconnect's own key types.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreJsonWebKey, CoreJsonWebKeySet, CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey,
};
use openidconnect::{JsonWebKeyId, PrivateSigningKey};
use serde_json::{Map, Value, json};

/// The key the demo provider signs with first.
pub const DEMO_KID_1: &str = "demo-key-1";
/// The key a rotation switches to.
pub const DEMO_KID_2: &str = "demo-key-2";
/// A key the provider never publishes: tokens signed with it must fail.
pub const FOREIGN_KID: &str = "foreign-key";

const PEMS: [(&str, &str); 3] = [
    (DEMO_KID_1, include_str!("keys/demo-key-1.pem")),
    (DEMO_KID_2, include_str!("keys/demo-key-2.pem")),
    (FOREIGN_KID, include_str!("keys/foreign-key.pem")),
];

pub struct SigningKey {
    pub kid: String,
    key: CoreRsaPrivateSigningKey,
}

impl SigningKey {
    /// One of the fixture keys by kid. Panics only on a kid that is not a fixture (a programming error).
    pub fn fixture(kid: &str) -> Self {
        let pem = PEMS
            .iter()
            .find(|(k, _)| *k == kid)
            .map(|(_, pem)| *pem)
            .unwrap_or_else(|| panic!("no fixture key {kid}"));
        let key = CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new(kid.to_string())))
            .unwrap_or_else(|e| panic!("fixture key {kid} does not parse: {e}"));
        Self {
            kid: kid.to_string(),
            key,
        }
    }

    pub fn public_jwk(&self) -> CoreJsonWebKey {
        self.key.as_verification_key()
    }

    /// Signs `claims` as an RS256 JWT with this key's kid.
    pub fn sign(&self, claims: &Map<String, Value>) -> String {
        self.sign_with_header(
            json!({"alg": "RS256", "typ": "JWT", "kid": self.kid}),
            claims,
        )
    }

    /// Signs with a caller-chosen header (tests use it for odd headers).
    pub fn sign_with_header(&self, header: Value, claims: &Map<String, Value>) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string())
        );
        let signature = self
            .key
            .sign(
                &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                input.as_bytes(),
            )
            .expect("RS256 signing with an RSA key cannot fail");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// A JWKS publishing the public halves of the given fixture keys.
pub fn jwks_of(kids: &[&str]) -> CoreJsonWebKeySet {
    CoreJsonWebKeySet::new(
        kids.iter()
            .map(|kid| SigningKey::fixture(kid).public_jwk())
            .collect(),
    )
}

/// The `at_hash` of an access token for RS256: the left half of its SHA-256, base64url.
pub fn at_hash(access_token: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}
