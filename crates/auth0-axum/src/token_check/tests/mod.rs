//! One test per row of the troubleshooting table, with tokens signed by the demo provider's
//! fixture keys and malformed ones built by hand.

use super::*;
use openidconnect::core::{CoreJsonWebKey, CoreJwsSigningAlgorithm};
use serde_json::{Map, Value};

use auth0_demo_idp::keys::{DEMO_KID_1, FOREIGN_KID, SigningKey, at_hash, jwks_of};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

const ISS: &str = "https://tenant.example.com/";
const AUD: &str = "client-123";
const NOW: i64 = 1_800_000_000;

fn expect() -> Expectations {
    let mut e = Expectations::new(ISS, AUD, AudienceSetting::ClientId);
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
    e.trust = Trust::Issuer("robot@example.iam.gserviceaccount.com".into());
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

mod fuzz;
mod hardening;
