//! DPoP on the client side (RFC 9449): with `AUTH0_USE_DPOP=true` the app holds an ES256 key
//! (`AUTH0_DPOP_PRIVATE_KEY`, or one made at start) and sends a proof signed by it with each
//! token request, so the tokens it gets are bound to that key (`token_type: DPoP`, `cnf.jkt`): a
//! stolen access token is useless without the key. When the token endpoint asks for a nonce
//! (`use_dpop_nonce` with a `DPoP-Nonce` header), the request is made once more with it, and the
//! nonce is kept for the next ones. API calls carry `Authorization: DPoP <token>` and a fresh proof
//! for their method and URL, with `ath`.

use std::sync::Mutex;

use crate::client_assertion::AssertionKey;
use crate::primitives::{random_token, unix_now};
use crate::token_check::dpop::{ath_of, htu_of};

/// The app's DPoP key and the server's latest nonce.
pub struct DpopClient {
    key: AssertionKey,
    public_jwk: serde_json::Value,
    nonce: Mutex<Option<String>>,
}

impl std::fmt::Debug for DpopClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DpopClient([key])")
    }
}

impl DpopClient {
    pub fn new(key: AssertionKey) -> Self {
        let mut public_jwk = key.public_jwk();
        if let Some(jwk) = public_jwk.as_object_mut() {
            for member in ["use", "kid", "alg"] {
                jwk.remove(member);
            }
        }
        Self {
            key,
            public_jwk,
            nonce: Mutex::new(None),
        }
    }

    /// A proof for `method` and `url`, for `access_token` when calling a resource (its `ath`),
    /// with the server's latest nonce when it gave one.
    pub fn proof(&self, method: &str, url: &str, access_token: Option<&str>) -> String {
        let header = serde_json::json!({
            "typ": "dpop+jwt",
            "alg": self.key.alg_name(),
            "jwk": self.public_jwk,
        });
        let mut claims = serde_json::json!({
            "jti": random_token(24),
            "htm": method,
            "htu": htu_of(url),
            "iat": unix_now(),
        });
        if let Some(token) = access_token {
            claims["ath"] = serde_json::json!(ath_of(token));
        }
        if let Some(nonce) = self.nonce() {
            claims["nonce"] = serde_json::json!(nonce);
        }
        // ES256 with a ring key: signing cannot fail but for a broken RNG.
        self.key.sign_jwt(&header, &claims).unwrap_or_default()
    }

    fn nonce(&self) -> Option<String> {
        self.nonce.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Keeps the server's nonce (from a `DPoP-Nonce` header) for the next proofs.
    pub fn remember_nonce(&self, nonce: &str) {
        if !nonce.is_empty() && nonce.len() <= 512 {
            *self.nonce.lock().unwrap_or_else(|e| e.into_inner()) = Some(nonce.to_string());
        }
    }
}
