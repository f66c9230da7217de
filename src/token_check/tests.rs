//! One test per row of the troubleshooting table, with tokens signed by the demo provider's
//! fixture keys and malformed ones built by hand.

use super::*;
use crate::demo_idp::keys::{DEMO_KID_1, FOREIGN_KID, SigningKey, at_hash, jwks_of};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

const ISS: &str = "https://tenant.example.com/";
const AUD: &str = "client-123";
const NOW: i64 = 1_800_000_000;

fn expect() -> Expectations {
    let mut e = Expectations::new(ISS, AUD, "AUTH0_CLIENT_ID");
    e.now = NOW;
    e
}

fn claims(extra: Value) -> Map<String, Value> {
    let mut base =
        json!({"iss": ISS, "sub": "auth0|1", "aud": AUD, "iat": NOW - 10, "exp": NOW + 3600});
    if let (Some(b), Value::Object(extra)) = (base.as_object_mut(), extra) {
        for (k, v) in extra {
            if v.is_null() {
                b.remove(&k);
            } else {
                b.insert(k, v);
            }
        }
    }
    base.as_object().cloned().unwrap_or_default()
}

fn signed(extra: Value) -> String {
    SigningKey::fixture(DEMO_KID_1).sign(&claims(extra))
}

fn run(token: &str, e: &Expectations) -> CheckReport {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(check(token, e, &jwks_of(&[DEMO_KID_1])))
}

fn categories(report: &CheckReport) -> Vec<Category> {
    report.failures().map(|f| f.category).collect()
}

fn b64(v: &str) -> String {
    URL_SAFE_NO_PAD.encode(v)
}

#[test]
fn a_good_token_passes_every_check() {
    let report = run(&signed(json!({})), &expect());
    assert!(report.passed(), "{}", report.summary());
    let names: Vec<_> = report.steps.iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        ["format", "issuer", "time", "audience", "key", "signature"]
    );
    assert_eq!(report.verified_claims().unwrap()["sub"], "auth0|1");
}

#[test]
fn issuer_not_configured_when_nothing_is_trusted() {
    let mut e = Expectations::unconfigured("Set AUTH0_AUDIENCE");
    e.now = NOW;
    let report = run(&signed(json!({})), &e);
    let first = report.first_failure().unwrap();
    assert_eq!(first.category, Category::IssuerNotConfigured);
    assert_eq!(first.message, "Jwt issuer is not configured");
    assert!(first.remedy.contains("AUTH0_AUDIENCE"));
}

#[test]
fn bad_format_not_three_parts() {
    let report = run("abc.def", &expect());
    let f = report.first_failure().unwrap();
    assert_eq!(f.category, Category::BadFormat);
    assert_eq!(f.message, message::NOT_THREE_PARTS);
    assert!(
        report.steps[1..]
            .iter()
            .all(|s| matches!(s.outcome, Outcome::Skipped { .. }))
    );
    // An opaque access token gets the Auth0-specific remedy.
    let opaque = run("Xy7aQz3", &expect());
    assert!(
        opaque
            .first_failure()
            .unwrap()
            .remedy
            .contains("AUTH0_AUDIENCE")
    );
}

#[test]
fn bad_format_header_and_payload_not_json() {
    let bad_header = format!("{}.{}.c2ln", b64("{not json"), b64("{}"));
    assert_eq!(
        run(&bad_header, &expect()).first_failure().unwrap().message,
        message::HEADER_BAD_JSON
    );
    let bad_payload = format!("{}.{}.c2ln", b64(r#"{"alg":"RS256"}"#), b64("[1,2]"));
    assert_eq!(
        run(&bad_payload, &expect())
            .first_failure()
            .unwrap()
            .message,
        message::PAYLOAD_BAD_JSON
    );
    let bad_b64 = "@@@.e30.c2ln";
    assert_eq!(
        run(bad_b64, &expect()).first_failure().unwrap().message,
        message::HEADER_BAD_BASE64
    );
}

#[test]
fn bad_format_alg_missing_or_unsupported() {
    let key = SigningKey::fixture(DEMO_KID_1);
    let none = key.sign_with_header(
        json!({"alg": "none", "kid": DEMO_KID_1}),
        &claims(json!({})),
    );
    let r = run(&none, &expect());
    assert_eq!(r.first_failure().unwrap().category, Category::BadFormat);
    assert_eq!(r.first_failure().unwrap().message, message::ALG_UNSUPPORTED);
    assert!(!r.passed());
    let missing = key.sign_with_header(json!({"kid": DEMO_KID_1}), &claims(json!({})));
    assert_eq!(
        run(&missing, &expect()).first_failure().unwrap().message,
        message::ALG_MISSING
    );
}

#[test]
fn bad_format_claim_types_and_required_claims() {
    let r = run(
        &signed(json!({"iat": "yesterday", "exp": -5, "sub": 7, "jti": 1, "aud": [1]})),
        &expect(),
    );
    let messages: Vec<_> = r.failures().map(|f| f.message).collect();
    assert!(
        messages.contains(&"Jwt payload [iat] field is not a positive number"),
        "{messages:?}"
    );
    assert!(messages.contains(&"Jwt payload [exp] field is not a positive number"));
    assert!(messages.contains(&"Jwt payload [sub] field is not a string"));
    assert!(messages.contains(&"Jwt payload [jti] field is not a string"));
    assert!(messages.contains(&"Jwt payload [aud] field is not a string or string list"));
    let r = run(
        &signed(json!({"sub": null, "iss": null, "aud": null})),
        &expect(),
    );
    let messages: Vec<_> = r.failures().map(|f| f.message).collect();
    for claim in ["sub", "iss", "aud"] {
        assert!(messages.contains(&claim_missing(claim)), "{messages:?}");
    }
    assert!(categories(&r).iter().all(|c| *c == Category::BadFormat));
}

fn claim_missing(claim: &str) -> &'static str {
    match claim {
        "sub" => "Jwt payload [sub] field is missing",
        "iss" => "Jwt payload [iss] field is missing",
        _ => "Jwt payload [aud] field is missing",
    }
}

#[test]
fn time_constraint_failure_expired_missing_and_not_yet_valid() {
    let r = run(&signed(json!({"exp": NOW - 61})), &expect());
    assert_eq!(categories(&r), [Category::TimeConstraintFailure]);
    assert_eq!(r.first_failure().unwrap().message, "Jwt is expired");
    let r = run(&signed(json!({"exp": null})), &expect());
    assert_eq!(categories(&r), [Category::TimeConstraintFailure]);
    let r = run(&signed(json!({"nbf": NOW + 61})), &expect());
    assert_eq!(r.first_failure().unwrap().message, "Jwt not yet valid");
    let r = run(&signed(json!({"iat": NOW + 3000})), &expect());
    assert_eq!(r.first_failure().unwrap().message, "Jwt not yet valid");
}

#[test]
fn clock_skew_within_sixty_seconds_is_allowed() {
    assert!(run(&signed(json!({"exp": NOW - 59})), &expect()).passed());
    assert!(
        run(
            &signed(json!({"nbf": NOW + 59, "iat": NOW + 59})),
            &expect()
        )
        .passed()
    );
}

#[test]
fn unknown_when_an_email_issuer_differs_from_sub() {
    let mut e = expect();
    e.issuer = Some("robot@example.iam.gserviceaccount.com".into());
    let r = run(
        &signed(json!({"iss": "robot@example.iam.gserviceaccount.com", "sub": "someone-else"})),
        &e,
    );
    assert_eq!(categories(&r), [Category::Unknown]);
    let ok = run(
        &signed(
            json!({"iss": "robot@example.iam.gserviceaccount.com", "sub": "robot@example.iam.gserviceaccount.com"}),
        ),
        &e,
    );
    assert!(ok.passed(), "{}", ok.summary());
}

#[test]
fn key_retrieval_error_when_no_key_matches_the_kid() {
    let token = SigningKey::fixture(FOREIGN_KID).sign(&claims(json!({})));
    let r = run(&token, &expect());
    assert_eq!(categories(&r), [Category::KeyRetrievalError]);
    assert_eq!(r.first_failure().unwrap().message, message::NO_MATCHING_KEY);
    assert!(r.first_failure().unwrap().detail.contains(DEMO_KID_1));
}

#[test]
fn key_retrieval_error_for_hs256_names_the_dashboard_setting() {
    let token = SigningKey::fixture(DEMO_KID_1)
        .sign_with_header(json!({"alg": "HS256"}), &claims(json!({})));
    let r = run(&token, &expect());
    assert_eq!(categories(&r), [Category::KeyRetrievalError]);
    assert!(r.first_failure().unwrap().remedy.contains("RS256"));
}

#[test]
fn key_retrieval_error_when_the_jwks_cannot_be_fetched() {
    struct Down;
    impl KeySource for Down {
        async fn key_for(
            &self,
            _: Option<&str>,
            _: &CoreJwsSigningAlgorithm,
        ) -> Result<CoreJsonWebKey, KeyError> {
            Err(KeyError::FetchFailed {
                jwks_uri: "https://t/.well-known/jwks.json".into(),
                reason: "connection refused".into(),
            })
        }
    }
    let r = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(check(&signed(json!({})), &expect(), &Down));
    assert_eq!(
        r.first_failure().unwrap().message,
        message::JWKS_FETCH_FAILED
    );
}

#[test]
fn issuer_not_allowed_names_the_trailing_slash() {
    let r = run(
        &signed(json!({"iss": "https://other.example.com/"})),
        &expect(),
    );
    assert_eq!(categories(&r), [Category::IssuerNotAllowed]);
    assert!(r.first_failure().unwrap().remedy.contains("AUTH0_DOMAIN"));
    let r = run(
        &signed(json!({"iss": "https://tenant.example.com"})),
        &expect(),
    );
    assert!(r.first_failure().unwrap().remedy.contains("trailing slash"));
}

#[test]
fn audience_not_allowed_is_a_403_and_ignores_scheme_and_slash() {
    let r = run(&signed(json!({"aud": "someone-else"})), &expect());
    let f = r.first_failure().unwrap();
    assert_eq!(f.category, Category::AudienceNotAllowed);
    assert_eq!(f.category.http_status(), 403);
    assert!(f.remedy.contains("AUTH0_CLIENT_ID"));
    let mut e = expect();
    e.audiences = vec!["https://api.example.com/".into()];
    assert!(run(&signed(json!({"aud": ["api.example.com", "x"]})), &e).passed());
}

#[test]
fn signature_invalid_when_the_payload_was_altered() {
    let token = signed(json!({}));
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    parts[1] = b64(&Value::Object(claims(json!({"sub": "auth0|admin"}))).to_string());
    let r = run(&parts.join("."), &expect());
    assert_eq!(categories(&r), [Category::SignatureInvalid]);
    assert_eq!(r.first_failure().unwrap().message, "Jwt verification fails");
}

#[test]
fn every_failure_is_reported_not_just_the_first() {
    let r = run(
        &signed(json!({"iss": "https://evil/", "aud": "x", "exp": NOW - 1000})),
        &expect(),
    );
    assert_eq!(
        categories(&r),
        [
            Category::IssuerNotAllowed,
            Category::TimeConstraintFailure,
            Category::AudienceNotAllowed
        ]
    );
}

fn id_expect(nonce: &str, access_token: Option<&str>) -> Expectations {
    let mut e = expect();
    e.id_token = Some(IdTokenExpectations {
        client_id: AUD.into(),
        nonce: nonce.into(),
        access_token: access_token.map(str::to_string),
    });
    e
}

#[test]
fn id_tokens_check_nonce_azp_and_at_hash() {
    let good = signed(json!({"nonce": "n-1", "at_hash": at_hash("tok")}));
    assert!(run(&good, &id_expect("n-1", Some("tok"))).passed());
    assert_eq!(
        categories(&run(&good, &id_expect("n-2", Some("tok")))),
        [Category::NonceMismatch]
    );
    assert_eq!(
        categories(&run(&good, &id_expect("n-1", Some("other")))),
        [Category::AccessTokenHashMismatch]
    );
    let multi = signed(json!({"nonce": "n-1", "aud": [AUD, "api"], "azp": "api"}));
    assert_eq!(
        categories(&run(&multi, &id_expect("n-1", None))),
        [Category::AuthorizedPartyMismatch]
    );
    let multi_ok = signed(json!({"nonce": "n-1", "aud": [AUD, "api"], "azp": AUD}));
    assert!(run(&multi_ok, &id_expect("n-1", None)).passed());
}

// --- Hardening: values from the token can neither overflow, inject, nor flood. ---

#[test]
fn an_exp_of_1e30_is_bad_format_not_an_overflow() {
    // 1e30 is a JSON float; serde_json keeps it as such. It used to panic in debug builds.
    let token = unsigned(
        r#"{"iss":"https://tenant.example.com/","sub":"a","aud":"client-123","exp":1e30}"#,
    );
    let r = run(&token, &expect());
    let f = r.first_failure().expect("refused");
    assert_eq!(f.category, Category::BadFormat);
    assert!(
        f.detail.contains("outside the range of dates"),
        "{}",
        f.detail
    );
    for huge in [
        "9223372036854775807",
        "18446744073709551615",
        "1e308",
        "253402300800",
    ] {
        for claim in ["exp", "nbf", "iat"] {
            let payload = format!(
                r#"{{"iss":"{ISS}","sub":"a","aud":"{AUD}","exp":{},"{claim}":{huge}}}"#,
                NOW + 60
            );
            let r = run(&unsigned(&payload), &expect());
            assert!(
                r.failures()
                    .any(|f| f.category == Category::BadFormat && f.detail.contains(claim)),
                "{claim}={huge}: {}",
                r.summary()
            );
            assert!(!r.summary().contains("-9223372"), "{}", r.summary());
        }
    }
}

fn unsigned(payload: &str) -> String {
    format!(
        "{}.{}.{}",
        b64(r#"{"alg":"RS256","kid":"demo-key-1"}"#),
        b64(payload),
        b64("sig")
    )
}

#[test]
fn a_crit_header_is_refused() {
    let key = SigningKey::fixture(DEMO_KID_1);
    let token = key.sign_with_header(
        json!({"alg": "RS256", "kid": DEMO_KID_1, "crit": ["b64"], "b64": false}),
        &claims(json!({})),
    );
    let r = run(&token, &expect());
    let f = r.first_failure().expect("refused");
    assert_eq!(f.category, Category::BadFormat);
    assert_eq!(f.message, message::CRIT_UNSUPPORTED);
    assert!(f.detail.contains("\"b64\""), "{}", f.detail);
}

#[test]
fn audiences_differ_by_more_than_one_scheme_or_one_slash() {
    let mut e = expect();
    e.audiences = vec!["https://api.example/".into()];
    for ok in [
        "https://api.example/",
        "https://api.example",
        "http://api.example",
        "api.example",
        "api.example/",
    ] {
        assert!(
            run(&signed(json!({"aud": ok})), &e).passed(),
            "{ok} was refused"
        );
    }
    for near_miss in [
        "https://http://api.example////",
        "https://api.example//",
        "https://https://api.example/",
        "http://api.example///",
        "api.example.evil",
        "//api.example",
    ] {
        let r = run(&signed(json!({"aud": near_miss})), &e);
        assert_eq!(
            categories(&r),
            [Category::AudienceNotAllowed],
            "{near_miss} was accepted"
        );
    }
}

#[test]
fn control_characters_from_a_token_never_reach_a_diagnosis_raw() {
    let key = SigningKey::fixture(DEMO_KID_1);
    let evil_kid = "k\r\nlevel=ERROR forged log line\u{1b}[2J\u{9b}31m";
    let token = key.sign_with_header(
        json!({"alg": "RS256", "kid": evil_kid}),
        &claims(json!({"iss": "https://x/\n\u{1b}]0;title\u{7}"})),
    );
    let r = run(&token, &expect());
    assert!(!r.passed());
    let mut texts = vec![r.summary()];
    for step in &r.steps {
        match &step.outcome {
            Outcome::Pass { note } => texts.push(note.clone()),
            Outcome::Fail { failures } => texts.extend(failures.iter().map(|f| f.detail.clone())),
            Outcome::Skipped { reason } => texts.push(reason.clone()),
        }
    }
    for text in texts {
        assert!(
            !text.chars().any(char::is_control),
            "raw control character in {text:?}"
        );
    }
    assert!(r.summary().contains("\\u{1b}"), "{}", r.summary());
}

#[test]
fn oversized_tokens_are_refused_before_decoding_and_quotes_are_bounded() {
    let big = signed(json!({"pad": "x".repeat(MAX_TOKEN_BYTES)}));
    let r = run(&big, &expect());
    assert_eq!(r.first_failure().unwrap().message, message::TOO_LARGE);
    assert!(r.payload.is_none(), "a refused token is not decoded");

    // Just under the cap, a huge issuer is quoted, not copied whole.
    let r = run(&signed(json!({"iss": "i".repeat(10_000)})), &expect());
    let f = r.first_failure().unwrap();
    assert_eq!(f.category, Category::IssuerNotAllowed);
    assert!(f.detail.len() < 800, "{} bytes of detail", f.detail.len());
    assert!(
        r.summary().len() < 2_000,
        "{} bytes of summary",
        r.summary().len()
    );
}

mod fuzz {
    //! Property tests: the decoder and every check take any input without panicking (overflow
    //! checks are on in test builds), and out-of-range dates are always BAD_FORMAT. Bounded, so
    //! they run in `cargo test` and CI: 256 cases each by default, `PROPTEST_CASES` for more.
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
        #![proptest_config(ProptestConfig::with_cases(96))]

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
    }
}
