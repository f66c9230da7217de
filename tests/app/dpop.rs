//! DPoP (RFC 9449): with `AUTH0_USE_DPOP=true` the app's tokens are bound to its key (the token
//! endpoint gets a proof, a `use_dpop_nonce` answer is retried once with the nonce), `/call-api`
//! calls with `Authorization: DPoP` and a fresh proof, and the bearer API accepts a bound token
//! only with a valid proof, naming each failed check.

use auth0_axum::test_support::unix_now;
use auth0_axum::token_check::dpop::ath_of;
use auth0_demo_idp::keys::{DEMO_KID_1, SigningKey};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

const API: &str = "https://api.example.com";

fn dpop_on() -> Vec<(&'static str, String)> {
    vec![("AUTH0_USE_DPOP", "true".into())]
}

#[tokio::test]
async fn tokens_are_bound_to_the_apps_key_and_call_api_proves_it_through_a_nonce_and_a_refresh() {
    let app = spawn_app_with(Options {
        audience: Some(API.into()),
        scope: "openid profile email offline_access".into(),
        extra_env: dpop_on(),
        provider_behaviour: Some(|b| {
            b.dpop_nonce = Some("nonce-1".into());
            b.access_token_lifetime_secs = 30;
        }),
        ..Options::default()
    })
    .await;
    assert_eq!(app.login().await.status(), StatusCode::SEE_OTHER);
    // The code exchange was asked for a nonce once, then answered.
    assert_eq!(app.provider().token_request_count(), 2);
    // 30 s tokens: /call-api refreshes (with a proof and the nonce), then calls the app's own
    // bearer API with Authorization: DPoP and a proof, which accepts it.
    let html = app.page("/call-api").await;
    assert_eq!(api_status(&html), "200", "{html}");
    assert_eq!(app.provider().refresh_count(), 1);
    assert!(html.contains("jkt"), "the token is not bound: {html}");
    assert!(
        html.contains("&#34;source&#34;: &#34;bearer&#34;"),
        "{html}"
    );
}

async fn call(
    app: &TestApp,
    scheme: &str,
    token: &str,
    proof: Option<&str>,
) -> (StatusCode, String, Value) {
    let mut request = reqwest::Client::new()
        .get(format!("{}/api/me", app.base))
        .header("authorization", format!("{scheme} {token}"));
    if let Some(proof) = proof {
        request = request.header("dpop", proof);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, challenge, response.json().await.unwrap_or_default())
}

#[tokio::test]
async fn the_bearer_api_takes_a_bound_token_only_with_a_valid_proof_and_names_each_failure() {
    let app = spawn_app_with(Options {
        audience: Some(API.into()),
        ..Options::default()
    })
    .await;
    let holder = Holder::new();
    let now = unix_now();
    let claims = |cnf: Option<String>| {
        let mut c = json!({"iss": app.provider().issuer(), "sub": "auth0|api-user", "aud": API,
            "iat": now, "exp": now + 600, "scope": "read:me"});
        if let Some(jkt) = cnf {
            c["cnf"] = json!({"jkt": jkt});
        }
        c.as_object().unwrap().clone()
    };
    let key = SigningKey::fixture(DEMO_KID_1);
    let bound = key.sign(&claims(Some(holder.jkt())));
    let unbound = key.sign(&claims(None));
    let url = format!("{}/api/me", app.base);
    let proof_with = |change: &dyn Fn(&mut Value)| {
        let mut c = json!({"jti": format!("j-{}", rand_id()), "htm": "GET", "htu": url, "iat": now, "ath": ath_of(&bound)});
        change(&mut c);
        holder.proof(c)
    };

    // Valid: accepted, and its claims are the token's.
    let valid = proof_with(&|_| {});
    let (status, _, body) = call(&app, "DPoP", &bound, Some(&valid)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["claims"]["cnf"]["jkt"], holder.jkt());

    let other = Holder::new();
    let by_other_key = {
        let c =
            json!({"jti": "j-other", "htm": "GET", "htu": url, "iat": now, "ath": ath_of(&bound)});
        other.proof(c)
    };
    let cases: Vec<(&str, &str, String, Option<String>, &str)> = vec![
        (
            "a bound token sent as Bearer",
            "Bearer",
            bound.clone(),
            Some(proof_with(&|_| {})),
            "DPoP-bound token sent as Bearer",
        ),
        (
            "no proof",
            "DPoP",
            bound.clone(),
            None,
            "DPoP proof is missing",
        ),
        (
            "a proof for another method",
            "DPoP",
            bound.clone(),
            Some(proof_with(&|c| c["htm"] = json!("POST"))),
            "[htm]",
        ),
        (
            "a proof for another URL",
            "DPoP",
            bound.clone(),
            Some(proof_with(&|c| {
                c["htu"] = json!("https://elsewhere.example.com/api/me")
            })),
            "[htu]",
        ),
        (
            "a stale iat",
            "DPoP",
            bound.clone(),
            Some(proof_with(&|c| c["iat"] = json!(now - 300))),
            "[iat]",
        ),
        (
            "a future iat",
            "DPoP",
            bound.clone(),
            Some(proof_with(&|c| c["iat"] = json!(now + 300))),
            "[iat]",
        ),
        (
            "a replayed jti",
            "DPoP",
            bound.clone(),
            Some(valid.clone()),
            "[jti]",
        ),
        (
            "a wrong ath",
            "DPoP",
            bound.clone(),
            Some(proof_with(&|c| c["ath"] = json!(ath_of("another token")))),
            "[ath]",
        ),
        (
            "a proof signed by another key",
            "DPoP",
            bound.clone(),
            Some(by_other_key),
            "another key",
        ),
        (
            "the DPoP scheme with an unbound token",
            "DPoP",
            unbound.clone(),
            Some(proof_with(&|_| {})),
            "not DPoP-bound",
        ),
    ];
    for (what, scheme, token, proof, names) in cases {
        let (status, challenge, body) = call(&app, scheme, &token, proof.as_deref()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
        assert_eq!(body["category"], "DPOP_PROOF_INVALID", "{what}: {body}");
        assert!(
            body["message"].as_str().unwrap_or("").contains(names),
            "{what}: {body}"
        );
        assert!(
            body["remedy"].as_str().is_some_and(|r| r.len() > 20),
            "{what}: {body}"
        );
        assert!(
            challenge.starts_with("DPoP realm=")
                && challenge.contains(r#"error="invalid_dpop_proof""#),
            "{what}: {challenge}"
        );
    }
    // An unbound token as Bearer is still fine.
    assert_eq!(call(&app, "Bearer", &unbound, None).await.0, StatusCode::OK);
}

fn rand_id() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::SeqCst).to_string()
}
