//! The session cookie's value: `base64url(version ‖ nonce ‖ AES-256-GCM(record JSON) ‖ tag)`, in
//! one base64 pass. The key is derived by HKDF-SHA256 from `APP_SECRET_KEY`; keys from
//! `APP_SECRET_KEY_PREVIOUS` only open (so the secret can be rotated without logging anyone out).
//! AES-GCM and HKDF come from `ring`, which rustls already brings in.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::SessionSecret;

/// The format's version, the first byte: a future format can read this one, or refuse it.
pub const VERSION: u8 = 1;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + NONCE_LEN;
/// HKDF's salt and labels: one secret, separate keys for separate uses.
const SALT: &[u8] = b"auth0-login session keys";
const COOKIE_KEY_INFO: &[u8] = b"session cookie v1 aes-256-gcm";
const ID_COOKIE_KEY_INFO: &[u8] = b"session id cookie (tower-sessions private)";

/// The length of a sealed value for a record of `json_len` bytes of JSON (unpadded base64: 4
/// characters per 3 bytes, rounded up).
pub const fn sealed_len(json_len: usize) -> usize {
    (4 * (HEADER_LEN + json_len + TAG_LEN)).div_ceil(3)
}

/// What the cookie holds: the record's data and when it expires (unix seconds). The record id
/// tower-sessions wants is not stored: a cookie needs none.
#[derive(Serialize)]
struct SealRecord<'a> {
    e: i64,
    d: &'a HashMap<String, Value>,
}

#[derive(Deserialize)]
pub struct OpenedRecord {
    #[serde(rename = "e")]
    pub expires_at: i64,
    #[serde(rename = "d")]
    pub data: HashMap<String, Value>,
}

/// Why a cookie did not open: each reads as a guest, and the cookie is cleared.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("not base64url")]
    NotBase64,
    #[error("too short to be a session")]
    TooShort,
    #[error("unknown format version {0}")]
    UnknownVersion(u8),
    #[error("no configured key opens it (tampered, truncated, or sealed under another key)")]
    NoKeyOpens,
    #[error("the decrypted record is not a session record")]
    NotARecord,
}

/// A record and whether it was sealed under a previous key (then it is sealed again, under the
/// current key, in this response).
pub struct Opened {
    pub record: OpenedRecord,
    pub under_previous_key: bool,
}

/// The current key (seals and opens) and previous keys (open only).
pub struct SessionKeys {
    current: LessSafeKey,
    previous: Vec<LessSafeKey>,
    rng: SystemRandom,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SessionKeys(1 current, {} previous)",
            self.previous.len()
        )
    }
}

fn cookie_key(secret: &SessionSecret) -> LessSafeKey {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, SALT).extract(secret.bytes());
    let okm = prk
        .expand(&[COOKIE_KEY_INFO], &AES_256_GCM)
        .expect("32 bytes is a valid HKDF-SHA256 length");
    LessSafeKey::new(UnboundKey::from(okm))
}

/// A length for HKDF's output.
struct OutputLen(usize);

impl hkdf::KeyType for OutputLen {
    fn len(&self) -> usize {
        self.0
    }
}

/// The 64-byte key tower-sessions' private id cookie wants (server-side stores), from the same
/// secret by its own HKDF label.
pub fn id_cookie_key_bytes(secret: &SessionSecret) -> [u8; 64] {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, SALT).extract(secret.bytes());
    let mut out = [0u8; 64];
    prk.expand(&[ID_COOKIE_KEY_INFO], OutputLen(64))
        .and_then(|okm| okm.fill(&mut out))
        .expect("64 bytes is a valid HKDF-SHA256 length");
    out
}

impl SessionKeys {
    /// Keys derived from the current secret, and from older ones that still open cookies.
    pub fn new(current: &SessionSecret, previous: &[SessionSecret]) -> Self {
        Self {
            current: cookie_key(current),
            previous: previous.iter().map(cookie_key).collect(),
            rng: SystemRandom::new(),
        }
    }

    /// Seals a record's data and expiry into a cookie value.
    pub fn seal(
        &self,
        data: &HashMap<String, Value>,
        expires_at: i64,
    ) -> Result<String, SealError> {
        let json = serde_json::to_vec(&SealRecord {
            e: expires_at,
            d: data,
        })
        .map_err(|e| SealError(e.to_string()))?;
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| SealError("no randomness for the nonce".into()))?;
        let mut buf = Vec::with_capacity(HEADER_LEN + json.len() + TAG_LEN);
        buf.push(VERSION);
        buf.extend_from_slice(&nonce);
        buf.extend_from_slice(&json);
        let tag = self
            .current
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from([VERSION]),
                &mut buf[HEADER_LEN..],
            )
            .map_err(|_| SealError("encryption failed".into()))?;
        buf.extend_from_slice(tag.as_ref());
        Ok(URL_SAFE_NO_PAD.encode(&buf))
    }

    /// Opens a cookie value: the current key first, then each previous key.
    pub fn open(&self, value: &str) -> Result<Opened, OpenError> {
        let mut buf = URL_SAFE_NO_PAD
            .decode(value)
            .map_err(|_| OpenError::NotBase64)?;
        if buf.len() < HEADER_LEN + TAG_LEN {
            return Err(OpenError::TooShort);
        }
        if buf[0] != VERSION {
            return Err(OpenError::UnknownVersion(buf[0]));
        }
        let nonce: [u8; NONCE_LEN] = buf[1..HEADER_LEN]
            .try_into()
            .map_err(|_| OpenError::TooShort)?;
        let keys = std::iter::once(&self.current).chain(&self.previous);
        let last = self.previous.len();
        for (i, key) in keys.enumerate() {
            // A failed open leaves the buffer unspecified: keep a copy while other keys remain.
            let mut attempt = if i < last {
                buf[HEADER_LEN..].to_vec()
            } else {
                std::mem::take(&mut buf).split_off(HEADER_LEN)
            };
            if let Ok(plain) = key.open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from([VERSION]),
                &mut attempt,
            ) {
                let record = serde_json::from_slice(plain).map_err(|_| OpenError::NotARecord)?;
                return Ok(Opened {
                    record,
                    under_previous_key: i > 0,
                });
            }
        }
        Err(OpenError::NoKeyOpens)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the session could not be sealed: {0}")]
pub struct SealError(String);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_secret_key;

    fn secret(hex_byte: &str) -> SessionSecret {
        // 32 distinct bytes, varied by the first one.
        let raw: String = (0..32u8).map(|i| format!("{:02x}", i * 7 + 3)).collect();
        parse_secret_key(&format!("{hex_byte}{}", &raw[2..])).unwrap()
    }

    fn data() -> HashMap<String, Value> {
        HashMap::from([("u".to_string(), serde_json::json!({"name": "Jane"}))])
    }

    #[test]
    fn a_sealed_record_opens_with_the_same_key_and_has_the_predicted_length() {
        let keys = SessionKeys::new(&secret("a1"), &[]);
        let value = keys.seal(&data(), 1_900_000_000).unwrap();
        let json_len = serde_json::to_vec(&SealRecord {
            e: 1_900_000_000,
            d: &data(),
        })
        .unwrap()
        .len();
        assert_eq!(value.len(), sealed_len(json_len));
        let opened = keys.open(&value).unwrap();
        assert_eq!(opened.record.data, data());
        assert_eq!(opened.record.expires_at, 1_900_000_000);
        assert!(!opened.under_previous_key);
    }

    #[test]
    fn the_predicted_length_matches_for_every_remainder() {
        for n in 0..10 {
            let mut d = data();
            d.insert("x".into(), Value::String("y".repeat(n)));
            let keys = SessionKeys::new(&secret("a1"), &[]);
            let value = keys.seal(&d, 5).unwrap();
            let json_len = serde_json::to_vec(&SealRecord { e: 5, d: &d })
                .unwrap()
                .len();
            assert_eq!(value.len(), sealed_len(json_len), "n={n}");
        }
    }

    #[test]
    fn a_previous_key_opens_and_says_so_but_never_seals() {
        let old = SessionKeys::new(&secret("b2"), &[]);
        let value = old.seal(&data(), 5).unwrap();
        let rotated = SessionKeys::new(&secret("c3"), &[secret("d4"), secret("b2")]);
        let opened = rotated.open(&value).unwrap();
        assert!(opened.under_previous_key);
        let resealed = rotated.seal(&opened.record.data, 5).unwrap();
        assert!(
            matches!(old.open(&resealed), Err(OpenError::NoKeyOpens)),
            "sealed under the current key only"
        );
        let forgotten = SessionKeys::new(&secret("c3"), &[]);
        assert_eq!(forgotten.open(&value).err(), Some(OpenError::NoKeyOpens));
    }

    #[test]
    fn each_broken_value_has_its_own_reason() {
        let keys = SessionKeys::new(&secret("a1"), &[]);
        let value = keys.seal(&data(), 5).unwrap();
        assert_eq!(keys.open("%%%").err(), Some(OpenError::NotBase64));
        assert_eq!(keys.open("AAAA").err(), Some(OpenError::TooShort));
        let mut bytes = URL_SAFE_NO_PAD.decode(&value).unwrap();
        bytes[0] = 9;
        assert_eq!(
            keys.open(&URL_SAFE_NO_PAD.encode(&bytes)).err(),
            Some(OpenError::UnknownVersion(9))
        );
        bytes[0] = VERSION;
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(
            keys.open(&URL_SAFE_NO_PAD.encode(&bytes)).err(),
            Some(OpenError::NoKeyOpens)
        );
        bytes[last] ^= 1;
        bytes.truncate(bytes.len() - 3);
        assert_eq!(
            keys.open(&URL_SAFE_NO_PAD.encode(&bytes)).err(),
            Some(OpenError::NoKeyOpens),
            "truncated"
        );
    }

    /// The format, read with nothing of this module but the documented layout and labels.
    #[test]
    fn the_format_is_version_nonce_ciphertext_tag_under_the_hkdf_key() {
        let s = secret("e5");
        let value = SessionKeys::new(&s, &[]).seal(&data(), 7).unwrap();
        let raw = URL_SAFE_NO_PAD.decode(&value).unwrap();
        assert_eq!(raw[0], 1);
        let prk =
            hkdf::Salt::new(hkdf::HKDF_SHA256, b"auth0-login session keys").extract(s.bytes());
        let okm = prk
            .expand(&[b"session cookie v1 aes-256-gcm"], &AES_256_GCM)
            .unwrap();
        let key = LessSafeKey::new(UnboundKey::from(okm));
        let mut body = raw[13..].to_vec();
        let plain = key
            .open_in_place(
                Nonce::try_assume_unique_for_key(&raw[1..13]).unwrap(),
                Aad::from([1u8]),
                &mut body,
            )
            .unwrap();
        assert_eq!(
            std::str::from_utf8(plain).unwrap(),
            r#"{"e":7,"d":{"u":{"name":"Jane"}}}"#
        );
    }
}
