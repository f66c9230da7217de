//! The time and unguessable tokens. The provider imports nothing of the library it stands in for
//! a tenant of, so these few lines are its own.

/// Seconds since 1970 (0 if the clock is before it; saturated far in the future).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `bytes` random bytes from the OS, base64url without padding (openidconnect's generator).
pub fn random_token(bytes: u32) -> String {
    openidconnect::CsrfToken::new_random_len(bytes)
        .secret()
        .clone()
}
