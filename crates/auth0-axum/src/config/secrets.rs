//! `APP_SECRET_KEY` and `APP_SECRET_KEY_PREVIOUS`: the keys sessions are sealed under. A bad key
//! is named, never echoed.

use base64::Engine as _;

use super::{Mode, Problem, SessionSecret};

/// In demo mode a missing or unusable key is replaced by a random one (sessions end with the
/// process); against a tenant it must be right.
pub(super) fn session_secret(raw: Option<String>, mode: Mode) -> Result<SessionSecret, Problem> {
    match (raw, mode) {
        (None, Mode::Demo) => Ok(SessionSecret::random()),
        (Some(raw), Mode::Demo) => {
            Ok(parse_secret_key(&raw).unwrap_or_else(|_| SessionSecret::random()))
        }
        (raw, Mode::Tenant) => parse_secret_key(raw.as_deref().unwrap_or("")),
    }
}

/// `APP_SECRET_KEY_PREVIOUS`: comma-separated older keys, each like `APP_SECRET_KEY`. A bad one
/// is named by its position, never echoed.
pub(super) fn previous_secret_keys(raw: Option<String>) -> Result<Vec<SessionSecret>, Problem> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(str::trim)
        .enumerate()
        .map(|(i, key)| {
            parse_secret_key(key).map_err(|p| {
                Problem::new(
                    "APP_SECRET_KEY_PREVIOUS",
                    format!("entry {} (of the comma-separated keys) {}", i + 1, p.problem),
                    "List the keys you rotated away from, newest first, each 64 hex characters, separated by commas; remove one once its sessions have expired (24 h idle, 7 days at most).",
                )
            })
        })
        .collect()
}

/// `APP_SECRET_KEY`: hex (64+ chars), or base64 of at least 32 random bytes (accepted, not advertised).
pub fn parse_secret_key(raw: &str) -> Result<SessionSecret, Problem> {
    let var = "APP_SECRET_KEY";
    let fix = "Use 64 hex characters from `openssl rand -hex 32`: paste its output into .env.";
    // One answer for every malformed key: how it fails to decode helps nobody (a passphrase that
    // happens to be valid base64 "decodes to 21 bytes").
    let not_a_key = || {
        Problem::new(
            var,
            "must be 64 hex characters (32 random bytes)".into(),
            fix,
        )
    };
    if raw.is_empty() {
        return Err(Problem::missing(var, fix));
    }
    let bytes = if raw.len().is_multiple_of(2) && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..raw.len())
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(&raw[i..i + 2], 16).ok())
            .collect::<Vec<u8>>()
    } else if let Some(bytes) = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::URL_SAFE,
    ]
    .iter()
    .find_map(|engine| engine.decode(raw).ok())
    .or_else(|| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(raw)
            .ok()
    }) {
        bytes
    } else {
        return Err(not_a_key());
    };
    if bytes.len() < 32 {
        return Err(not_a_key());
    }
    let distinct = bytes.iter().collect::<std::collections::HashSet<_>>().len();
    if distinct < 12 {
        return Err(Problem::new(
            var,
            "is not random (too few distinct bytes)".into(),
            fix,
        ));
    }
    Ok(SessionSecret(bytes))
}
