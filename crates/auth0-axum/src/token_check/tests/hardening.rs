//! Hardening: values from the token can neither overflow, inject, nor flood.

use super::*;

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
