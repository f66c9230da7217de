//! `private_key_jwt` (RFC 7523, OIDC Core 9; Auth0's "Private Key JWT"): the app proves who it is
//! to the token endpoint with a short JWT signed by its own private key, instead of sending a
//! client secret. The key is read once at start (PEM: PKCS#8 `PRIVATE KEY`, PKCS#1 `RSA PRIVATE
//! KEY` or SEC1 `EC PRIVATE KEY`); each assertion has `iss` = `sub` = the client id, `aud` = the
//! tenant's issuer, a unique `jti`, `iat` and an `exp` a minute later.
//!
//! A leaf: ring signs, base64 encodes; nothing else of the crate but `primitives`.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair as _, RsaKeyPair};

use crate::primitives::{random_token, unix_now};

/// How long an assertion is valid: Auth0 accepts at most 5 minutes and recommends one.
const ASSERTION_LIFETIME_SECS: i64 = 60;

/// The form parameter's value for a JWT client assertion.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A signing algorithm for client assertions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssertionAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (Auth0's default).
    Rs256,
    /// RSASSA-PSS with SHA-256.
    Ps256,
    /// ECDSA P-256 with SHA-256.
    Es256,
}

impl AssertionAlg {
    /// From the setting's value (`RS256`, `PS256`, `ES256`).
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_uppercase().as_str() {
            "RS256" => Some(Self::Rs256),
            "PS256" => Some(Self::Ps256),
            "ES256" => Some(Self::Es256),
            _ => None,
        }
    }

    /// The JOSE name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Ps256 => "PS256",
            Self::Es256 => "ES256",
        }
    }
}

enum KeyPair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// The app's private key for client assertions, with its algorithm and optional `kid`.
pub struct AssertionKey {
    pair: KeyPair,
    alg: AssertionAlg,
    kid: Option<String>,
    rng: SystemRandom,
}

impl std::fmt::Debug for AssertionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AssertionKey({}, [private])", self.alg.name())
    }
}

/// Why a key cannot be used (never its content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyProblem(pub String);

impl AssertionKey {
    /// Reads a PEM private key for `alg`. RS256 and PS256 need an RSA key (2048 bits or more),
    /// ES256 a P-256 key.
    pub fn from_pem(pem: &str, alg: AssertionAlg, kid: Option<String>) -> Result<Self, KeyProblem> {
        let (label, der) = pem_block(pem)?;
        let pair = match (alg, label.as_str()) {
            (AssertionAlg::Es256, "PRIVATE KEY") => ec_key(&der)?,
            (AssertionAlg::Es256, "EC PRIVATE KEY") => ec_key(&sec1_to_pkcs8(&der)?)?,
            (AssertionAlg::Rs256 | AssertionAlg::Ps256, "PRIVATE KEY") => KeyPair::Rsa(
                RsaKeyPair::from_pkcs8(&der).map_err(|e| rsa_problem(alg, &e.to_string()))?,
            ),
            (AssertionAlg::Rs256 | AssertionAlg::Ps256, "RSA PRIVATE KEY") => KeyPair::Rsa(
                RsaKeyPair::from_der(&der).map_err(|e| rsa_problem(alg, &e.to_string()))?,
            ),
            (_, other) => {
                return Err(KeyProblem(format!(
                    "is a PEM \"{other}\" block; {} needs {}",
                    alg.name(),
                    match alg {
                        AssertionAlg::Es256 =>
                            "a P-256 key (\"PRIVATE KEY\" or \"EC PRIVATE KEY\")",
                        _ => "an RSA key (\"PRIVATE KEY\" or \"RSA PRIVATE KEY\")",
                    }
                )));
            }
        };
        Ok(Self {
            pair,
            alg,
            kid,
            rng: SystemRandom::new(),
        })
    }

    /// A new P-256 key (ES256), made from the OS's randomness: a DPoP key when none is configured.
    pub fn generate_es256() -> Result<Self, KeyProblem> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| KeyProblem("a key could not be made".into()))?;
        Ok(Self {
            pair: ec_key(pkcs8.as_ref())?,
            alg: AssertionAlg::Es256,
            kid: None,
            rng,
        })
    }

    /// The JOSE name of the key's algorithm.
    pub fn alg_name(&self) -> &'static str {
        self.alg.name()
    }

    /// The public half, as a JWK (what the tenant is given; the demo provider verifies with it).
    pub fn public_jwk(&self) -> serde_json::Value {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let mut jwk = match &self.pair {
            KeyPair::Rsa(pair) => {
                let parts: ring::rsa::PublicKeyComponents<Vec<u8>> = pair.public().into();
                let unpadded =
                    |v: &[u8]| -> Vec<u8> { v.iter().skip_while(|b| **b == 0).copied().collect() };
                serde_json::json!({"kty": "RSA", "n": b64(&unpadded(&parts.n)), "e": b64(&unpadded(&parts.e))})
            }
            KeyPair::Ec(pair) => {
                // An uncompressed point: 0x04 ‖ x ‖ y.
                let point = pair.public_key().as_ref();
                serde_json::json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65])})
            }
        };
        jwk["alg"] = serde_json::json!(self.alg.name());
        jwk["use"] = serde_json::json!("sig");
        if let Some(kid) = &self.kid {
            jwk["kid"] = serde_json::json!(kid);
        }
        jwk
    }

    /// A fresh assertion for `client_id`, addressed to `audience` (the tenant's issuer).
    pub fn assertion(&self, client_id: &str, audience: &str) -> Result<String, KeyProblem> {
        let now = unix_now();
        let mut header = serde_json::json!({"alg": self.alg.name(), "typ": "JWT"});
        if let Some(kid) = &self.kid {
            header["kid"] = serde_json::json!(kid);
        }
        let claims = serde_json::json!({
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "jti": random_token(24),
            "iat": now,
            "exp": now.saturating_add(ASSERTION_LIFETIME_SECS),
        });
        self.sign_jwt(&header, &claims)
    }

    /// Signs a compact JWS of `header` and `claims` with this key.
    pub fn sign_jwt(
        &self,
        header: &serde_json::Value,
        claims: &serde_json::Value,
    ) -> Result<String, KeyProblem> {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.sign(input.as_bytes())?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyProblem> {
        let failed = |_| KeyProblem("signing failed".into());
        match &self.pair {
            KeyPair::Rsa(pair) => {
                let padding: &'static dyn signature::RsaEncoding = match self.alg {
                    AssertionAlg::Ps256 => &signature::RSA_PSS_SHA256,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                let mut out = vec![0; pair.public().modulus_len()];
                pair.sign(padding, &self.rng, message, &mut out)
                    .map_err(failed)?;
                Ok(out)
            }
            KeyPair::Ec(pair) => Ok(pair
                .sign(&self.rng, message)
                .map_err(failed)?
                .as_ref()
                .to_vec()),
        }
    }
}

fn rsa_problem(alg: AssertionAlg, why: &str) -> KeyProblem {
    KeyProblem(format!(
        "is not an RSA private key {} can use ({why}; 2048 bits or more)",
        alg.name()
    ))
}

fn ec_key(pkcs8: &[u8]) -> Result<KeyPair, KeyProblem> {
    EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        pkcs8,
        &SystemRandom::new(),
    )
    .map(KeyPair::Ec)
    .map_err(|e| KeyProblem(format!("is not a P-256 private key ES256 can use ({e})")))
}

/// The first PEM block: its label and its bytes. `\n` written as two characters (a one-line
/// `.env` value) counts as a line break.
fn pem_block(pem: &str) -> Result<(String, Vec<u8>), KeyProblem> {
    let text = pem.replace("\\n", "\n");
    let not_pem =
        || KeyProblem("is not a PEM private key (-----BEGIN ... PRIVATE KEY-----)".into());
    let begin = text.find("-----BEGIN ").ok_or_else(not_pem)?;
    let rest = &text[begin + "-----BEGIN ".len()..];
    let label_end = rest.find("-----").ok_or_else(not_pem)?;
    let label = rest[..label_end].trim().to_string();
    let body_start = label_end + 5;
    let end_marker = format!("-----END {label}-----");
    let body_end = rest.find(&end_marker).ok_or_else(not_pem)?;
    if body_end < body_start {
        return Err(not_pem());
    }
    let body: String = rest[body_start..body_end]
        .lines()
        .filter(|l| !l.contains(':')) // legacy headers (Proc-Type, DEK-Info)
        .collect::<String>()
        .split_whitespace()
        .collect();
    if rest[body_start..body_end].contains("ENCRYPTED") || label.contains("ENCRYPTED") {
        return Err(KeyProblem(
            "is an encrypted key: give the key without a passphrase".into(),
        ));
    }
    let der = STANDARD
        .decode(body)
        .map_err(|_| KeyProblem("is a PEM block whose base64 does not decode".into()))?;
    Ok((label, der))
}

/// A SEC1 `EC PRIVATE KEY` (P-256) wrapped as PKCS#8, which is what ring reads.
fn sec1_to_pkcs8(sec1: &[u8]) -> Result<Vec<u8>, KeyProblem> {
    // SEQUENCE { INTEGER 0, SEQUENCE { OID id-ecPublicKey, OID prime256v1 }, OCTET STRING sec1 }
    const ALGORITHM: [u8; 21] = [
        0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86,
        0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
    ];
    let der_len = |n: usize| -> Result<Vec<u8>, KeyProblem> {
        match n {
            0..=0x7f => Ok(vec![n as u8]),
            0x80..=0xff => Ok(vec![0x81, n as u8]),
            _ => Err(KeyProblem("is too long for a P-256 key".into())),
        }
    };
    let mut octets = vec![0x04];
    octets.extend(der_len(sec1.len())?);
    octets.extend_from_slice(sec1);
    let mut body = vec![0x02, 0x01, 0x00];
    body.extend_from_slice(&ALGORITHM);
    body.extend(octets);
    let mut out = vec![0x30];
    out.extend(der_len(body.len())?);
    out.extend(body);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSA_PKCS8: &str = include_str!("../tests/fixtures/client-assertion-rsa.pem");
    const EC_SEC1: &str = include_str!("../tests/fixtures/client-assertion-ec.pem");

    fn payload(jwt: &str) -> serde_json::Value {
        let part = jwt.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn an_assertion_names_the_client_the_tenant_and_is_unique_and_short() {
        let key =
            AssertionKey::from_pem(RSA_PKCS8, AssertionAlg::Rs256, Some("k1".into())).unwrap();
        let a = key
            .assertion("client-1", "https://tenant.example.com/")
            .unwrap();
        let b = key
            .assertion("client-1", "https://tenant.example.com/")
            .unwrap();
        let (pa, pb) = (payload(&a), payload(&b));
        assert_eq!(pa["iss"], "client-1");
        assert_eq!(pa["sub"], "client-1");
        assert_eq!(pa["aud"], "https://tenant.example.com/");
        assert_ne!(pa["jti"], pb["jti"]);
        let (iat, exp) = (pa["iat"].as_i64().unwrap(), pa["exp"].as_i64().unwrap());
        assert_eq!(exp - iat, ASSERTION_LIFETIME_SECS);
        let header: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(a.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["kid"], "k1");
    }

    #[test]
    fn each_algorithm_signs_what_its_public_key_verifies() {
        for (pem, alg, verify) in [
            (
                RSA_PKCS8,
                AssertionAlg::Rs256,
                &signature::RSA_PKCS1_2048_8192_SHA256 as &dyn signature::VerificationAlgorithm,
            ),
            (
                RSA_PKCS8,
                AssertionAlg::Ps256,
                &signature::RSA_PSS_2048_8192_SHA256,
            ),
            (
                EC_SEC1,
                AssertionAlg::Es256,
                &signature::ECDSA_P256_SHA256_FIXED,
            ),
        ] {
            let key = AssertionKey::from_pem(pem, alg, None).unwrap();
            let jwt = key.assertion("c", "https://t/").unwrap();
            let (input, sig) = jwt.rsplit_once('.').unwrap();
            let public = match &key.pair {
                KeyPair::Rsa(p) => p.public_key().as_ref().to_vec(),
                KeyPair::Ec(p) => p.public_key().as_ref().to_vec(),
            };
            signature::UnparsedPublicKey::new(verify, public)
                .verify(input.as_bytes(), &URL_SAFE_NO_PAD.decode(sig).unwrap())
                .unwrap_or_else(|_| panic!("{} does not verify", alg.name()));
        }
    }

    #[test]
    fn a_wrong_or_broken_key_is_named_without_its_content() {
        let e = AssertionKey::from_pem(EC_SEC1, AssertionAlg::Rs256, None).unwrap_err();
        assert!(e.0.contains("RSA"), "{e:?}");
        let e = AssertionKey::from_pem(RSA_PKCS8, AssertionAlg::Es256, None).unwrap_err();
        assert!(e.0.contains("P-256"), "{e:?}");
        let e = AssertionKey::from_pem("not a key", AssertionAlg::Rs256, None).unwrap_err();
        assert!(e.0.contains("PEM"), "{e:?}");
        // A one-line .env value with \n escapes reads the same.
        let one_line = RSA_PKCS8.replace('\n', "\\n");
        assert!(AssertionKey::from_pem(&one_line, AssertionAlg::Rs256, None).is_ok());
    }
}
