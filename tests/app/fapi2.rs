//! `AUTH0_SECURITY_PROFILE=fapi2`: one switch for the FAPI 2.0 client. A login then pushes its
//! request (PAR), authenticates with Private Key JWT, binds its tokens with DPoP, and refuses an
//! authorization response without `iss` (RFC 9207) even from a tenant that does not promise it,
//! against a demo tenant that requires PAR and DPoP and takes only assertions.

use reqwest::StatusCode;

use crate::support::*;

fn key() -> String {
    format!(
        "{}/crates/auth0-axum/tests/fixtures/client-assertion-rsa.pem",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn fapi2(behaviour: fn(&mut auth0_demo_idp::Behaviour)) -> Options {
    Options {
        audience: Some("https://api.example.com".into()),
        scope: "openid profile email offline_access".into(),
        extra_env: vec![("AUTH0_SECURITY_PROFILE", "fapi2".into())],
        assertion_key: Some((key(), "PS256")),
        provider_behaviour: Some(behaviour),
        ..Options::default()
    }
}

#[tokio::test]
async fn a_fapi2_login_uses_par_private_key_jwt_and_dpop_against_a_tenant_requiring_them() {
    let app = spawn_app_with(fapi2(|b| {
        b.require_par = true;
        b.require_dpop = true;
        b.dpop_nonce = Some("fapi-nonce".into());
    }))
    .await;
    let response = app.login().await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.text().await.unwrap()
    );
    assert_eq!(app.provider().par_count(), 1, "no pushed request");
    assert_eq!(app.provider().last_client_auth(), Some("private_key_jwt"));
    let html = app.page("/call-api").await;
    assert!(html.contains(r#"id="apiStatus">200"#), "{html}");
    assert!(html.contains("jkt"), "the token is not DPoP-bound: {html}");
}

#[tokio::test]
async fn fapi2_requires_iss_in_the_authorization_response_even_when_not_promised() {
    let omit: fn(&mut auth0_demo_idp::Behaviour) = |b| {
        b.unadvertise_response_iss = true;
        b.omit_response_iss = true;
    };
    let app = spawn_app_with(fapi2(omit)).await;
    let response = app.login().await;
    let status = response.status();
    let html = response.text().await.unwrap();
    assert!(status.is_client_error(), "{status}: {html}");
    assert!(html.contains("iss"), "{html}");
    assert!(app.page("/").await.contains("Welcome Guest"));
    // Without the profile, a tenant that does not promise iss may leave it out.
    let plain = spawn_app_with(Options {
        provider_behaviour: Some(omit),
        ..Options::default()
    })
    .await;
    assert_eq!(plain.login().await.status(), StatusCode::SEE_OTHER);
}
