//! How big a session's cookie will be, before it is written: browsers silently drop a cookie over
//! 4096 bytes, and the store answers a bare 500 when its own limit is exceeded.

use serde_json::Value;

use super::{
    IDLE_TIMEOUT, LOGINS_KEY, LoginTransaction, SECURE_COOKIE_NAME, USER_KEY, UserSession,
};

/// The cookie would be too big: its projected Set-Cookie length.
#[derive(Debug)]
pub struct SessionTooLarge {
    pub set_cookie_bytes: usize,
}

/// Browsers drop a cookie whose Set-Cookie (name, value and attributes) exceeds this, silently.
pub const MAX_SET_COOKIE_BYTES: usize = 4096;
/// Upper bound of `; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=86400` and the like.
const ATTRIBUTE_BYTES: usize = 80;
/// What the projection cannot know exactly: the record's expiry is written with as many digits
/// of fractional seconds as it happens to have at save time (a few bytes either way).
const PROJECTION_MARGIN_BYTES: usize = 48;

/// The Set-Cookie length for an encoded record of `record_len` bytes: AES-GCM adds a 12-byte
/// nonce and a 16-byte tag, then base64 (4 chars per 3 bytes).
pub const fn set_cookie_len(record_len: usize) -> usize {
    SECURE_COOKIE_NAME.len() + 1 + (record_len + 28).div_ceil(3) * 4 + ATTRIBUTE_BYTES
}

/// The largest encoded record whose Set-Cookie stays within [`MAX_SET_COOKIE_BYTES`].
pub const MAX_RECORD_BYTES: usize = {
    let mut n = MAX_SET_COOKIE_BYTES;
    while set_cookie_len(n) > MAX_SET_COOKIE_BYTES {
        n -= 1;
    }
    n
};

/// The Set-Cookie size a session holding `user` and `logins` would need: the store's own encoder,
/// plus a margin for what differs at save time. Never an underestimate.
pub fn projected_set_cookie_len(user: Option<&UserSession>, logins: &[LoginTransaction]) -> usize {
    let record = tower_sessions::session::Record {
        id: tower_sessions::session::Id::default(),
        data: record_data(user, logins),
        expiry_date: time::OffsetDateTime::now_utc() + IDLE_TIMEOUT,
    };
    let len = tower_sessions_cookie_store::encode_record(&record)
        .map(|s| s.len() + PROJECTION_MARGIN_BYTES)
        .unwrap_or(usize::MAX / 8);
    set_cookie_len(len)
}

/// The session record's data for a user and logins in progress: what the store encrypts. Public so
/// that tests can forge (and read) sessions from these types, not from the record's private keys.
pub fn record_data(
    user: Option<&UserSession>,
    logins: &[LoginTransaction],
) -> std::collections::HashMap<String, Value> {
    let mut data = std::collections::HashMap::new();
    if let Some(user) = user {
        data.insert(
            USER_KEY.to_string(),
            serde_json::to_value(user).unwrap_or_default(),
        );
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
    data: &std::collections::HashMap<String, Value>,
) -> (Option<UserSession>, Vec<LoginTransaction>) {
    let user = data
        .get(USER_KEY)
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    let logins = data
        .get(LOGINS_KEY)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    (user, logins)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_limit_keeps_the_set_cookie_under_4096_bytes() {
        assert!(set_cookie_len(MAX_RECORD_BYTES) <= MAX_SET_COOKIE_BYTES);
        assert!(set_cookie_len(MAX_RECORD_BYTES + 3) > MAX_SET_COOKIE_BYTES);
        const { assert!(MAX_RECORD_BYTES > 2800) };
    }
}
