//! What every layer needs from the operating system: the time, and unguessable tokens.

/// Seconds since 1970 (0 if the clock is before it; saturated far in the future).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `bytes` random bytes from the OS, base64url without padding (32 bytes: 43 characters).
/// openidconnect's generator, which the state, nonce and PKCE verifier use too.
pub fn random_token(bytes: u32) -> String {
    openidconnect::CsrfToken::new_random_len(bytes)
        .secret()
        .clone()
}

/// How many cases each fuzz property runs: `default` in `cargo test`, `FUZZ_CASES` when set (CI's
/// longer fuzz run sets it), never persisting failures to files.
#[cfg(test)]
pub(crate) fn fuzz_config(default: u32) -> proptest::prelude::ProptestConfig {
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    proptest::prelude::ProptestConfig {
        cases,
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_url_safe_and_distinct() {
        let a = super::random_token(32);
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(a, super::random_token(32));
        assert!(super::unix_now() > 1_700_000_000);
    }
}
