//! Property tests: the decoder and every check take any input without panicking (overflow
//! checks are on in test builds), and out-of-range dates are always BAD_FORMAT. Bounded, so
//! they run in `cargo test`; CI runs them again for longer (`FUZZ_CASES`, `.ci/fuzz`).
use super::*;
use proptest::prelude::*;

fn any_json_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        (0i64..4_000_000_000).prop_map(|n| json!(n)),
    ]
}

proptest! {
    // Signing with RSA dominates a case in a debug build: fewer cases keep `cargo test` quick.
    #![proptest_config(crate::primitives::fuzz_config(96))]

    #[test]
    fn any_string_is_answered_without_a_panic(token in any::<String>()) {
        let r = run(&token, &expect());
        prop_assert!(!r.passed());
        prop_assert!(!r.steps.is_empty());
    }

    #[test]
    fn any_bytes_in_three_parts_are_answered(h in proptest::collection::vec(any::<u8>(), 0..64), p in proptest::collection::vec(any::<u8>(), 0..256), sig in proptest::collection::vec(any::<u8>(), 0..64)) {
        let token = format!("{}.{}.{}", URL_SAFE_NO_PAD.encode(&h), URL_SAFE_NO_PAD.encode(&p), URL_SAFE_NO_PAD.encode(&sig));
        prop_assert!(!run(&token, &expect()).passed());
    }

    #[test]
    fn any_numeric_dates_are_checked_without_overflow(exp in any_json_number(), nbf in any_json_number(), iat in any_json_number(), leeway in any::<i64>(), now in any::<i64>()) {
        let mut e = expect();
        e.leeway_secs = leeway;
        e.now = now;
        let token = signed(json!({"exp": exp, "nbf": nbf, "iat": iat}));
        let r = run(&token, &e);
        for (name, v) in [("exp", &exp), ("nbf", &nbf), ("iat", &iat)] {
            if format::numeric_date(v).is_none() {
                prop_assert!(r.failures().any(|f| f.category == Category::BadFormat && f.detail.contains(name)), "{}", r.summary());
            }
        }
        prop_assert!(!r.summary().chars().any(char::is_control));
    }

    #[test]
    fn any_header_and_claim_values_stay_out_of_the_terminal(kid in any::<String>(), iss in any::<String>(), aud in any::<String>()) {
        let token = SigningKey::fixture(DEMO_KID_1).sign_with_header(json!({"alg": "RS256", "kid": kid}), &claims(json!({"iss": iss, "aud": aud})));
        let r = run(&token, &expect());
        prop_assert!(!r.summary().chars().any(char::is_control));
    }

    /// A valid token edited in several places (any byte, inserted, deleted, a dot moved): never
    /// a panic, never a pass unless it is the token that was signed, never a control character
    /// in what is printed.
    #[test]
    fn a_valid_token_edited_in_many_places_never_passes(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<u8>()), 1..8),
    ) {
        let token = signed(json!({}));
        let mut bytes = token.clone().into_bytes();
        for (at, op, byte) in edits {
            if bytes.is_empty() { break }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => { bytes.remove(i); }
            }
        }
        let edited = String::from_utf8_lossy(&bytes).into_owned();
        prop_assume!(edited != token);
        let r = run(&edited, &expect());
        prop_assert!(!r.steps.is_empty());
        prop_assert!(!r.summary().chars().any(char::is_control));
        // Base64url decoding ignores nothing, so any edit that changes the bytes fails a check;
        // one that only drops trailing padding-like bits could still decode the same: allow it
        // only when the decoded parts are unchanged.
        if r.passed() {
            let parts = |t: &str| t.split('.').map(|p| URL_SAFE_NO_PAD.decode(p).ok()).collect::<Vec<_>>();
            prop_assert_eq!(parts(&edited), parts(&token), "an edited token passed");
        }
    }
}
