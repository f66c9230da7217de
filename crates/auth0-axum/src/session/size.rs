//! What a session costs, before it is stored: exactly what the cookie store will write (its own
//! sealing and chunking functions), so that a write never fails after the handler decided on it.

use std::collections::HashMap;

use serde_json::Value;

use super::cookie::{chunks, codec};
use super::model::{user_from_value, user_value};
use super::{Capacity, LOGINS_KEY, LoginTransaction, SessionError, USER_KEY, UserSession};

/// The widest expiry the record can carry (unix seconds have 10 digits until 2286).
const WIDEST_EXPIRY: i64 = 9_999_999_999;

/// The bytes a session holding `user` and `logins` adds to the Cookie header in the cookie
/// store (`None`: more chunks than are ever written).
pub fn projected_cookie_bytes(
    user: Option<&UserSession>,
    logins: &[LoginTransaction],
) -> Option<usize> {
    let json = record_json_len(&record_data(user, logins))?;
    chunks::cookie_header_bytes(codec::sealed_len(json))
}

/// The sealed record's JSON length (`{"e":…,"d":…}`).
fn record_json_len(data: &HashMap<String, Value>) -> Option<usize> {
    let data_len = serde_json::to_vec(data).ok()?.len();
    Some(r#"{"e":,"d":}"#.len() + WIDEST_EXPIRY.to_string().len() + data_len)
}

/// Whether the session fits its store: `Ok` with what it costs (cookie bytes, or record bytes
/// for a server-side store).
pub(super) fn check_fits(
    capacity: Capacity,
    user: Option<&UserSession>,
    logins: &[LoginTransaction],
) -> Result<usize, SessionError> {
    match capacity {
        Capacity::Cookie => match projected_cookie_bytes(user, logins) {
            Some(bytes) if bytes <= chunks::SESSION_COOKIE_BUDGET => Ok(bytes),
            bytes => Err(SessionError::TooLarge {
                cookie_bytes: bytes.unwrap_or(usize::MAX),
            }),
        },
        Capacity::Unbounded => Ok(record_json_len(&record_data(user, logins)).unwrap_or(0)),
    }
}

/// The session record's data for a user and logins in progress: what the store keeps. Public so
/// that tests can forge (and read) sessions from these types, not from the record's private keys.
pub fn record_data(
    user: Option<&UserSession>,
    logins: &[LoginTransaction],
) -> HashMap<String, Value> {
    let mut data = HashMap::new();
    if let Some(user) = user {
        data.insert(USER_KEY.to_string(), user_value(user));
    }
    if !logins.is_empty() {
        data.insert(
            LOGINS_KEY.to_string(),
            serde_json::to_value(logins).unwrap_or_default(),
        );
    }
    data
}

/// The user and logins in progress a record's data holds (the inverse of [`record_data`]).
pub fn read_record_data(
    data: &HashMap<String, Value>,
) -> (Option<UserSession>, Vec<LoginTransaction>) {
    let user = data
        .get(USER_KEY)
        .and_then(|v| user_from_value(v.clone()).ok());
    let logins = data
        .get(LOGINS_KEY)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    (user, logins)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_secret_key;

    /// The projection against the real thing: seal the record and chunk it.
    #[test]
    fn the_projection_is_never_below_what_the_store_writes() {
        let keys = codec::SessionKeys::new(
            &parse_secret_key("3f1c9a7be24d5086f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7a8")
                .unwrap(),
            &[],
        );
        for pad in [0, 1, 2, 500, 2900, 3000, 5000] {
            let mut profile = serde_json::Map::new();
            profile.insert("name".into(), Value::String("x".repeat(pad)));
            let user = UserSession::without_tokens(profile, crate::primitives::unix_now());
            let data = record_data(Some(&user), &[]);
            let sealed = keys.seal(&data, 1_800_000_000).unwrap();
            let parts = chunks::split(&sealed);
            let header: usize = parts
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    chunks::chunk_name(crate::session::SECURE_SUB_PATH_COOKIE_NAME, i).len()
                        + 1
                        + v.len()
                        + 2
                })
                .sum();
            let projected = projected_cookie_bytes(Some(&user), &[]).unwrap();
            assert!(header <= projected, "pad {pad}: {header} > {projected}");
            assert!(
                projected <= header + 2 * parts.len() + 1,
                "pad {pad}: {projected} vs {header}"
            );
        }
    }
}
