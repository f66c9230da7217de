//! Each module: the demo provider switched into the module's behaviour, the app driven as a
//! browser would, and what the module asserts, asserted. Each returns what it saw.

use std::future::Future;
use std::pin::Pin;

use auth0_demo_idp::Behaviour;
use auth0_demo_idp::keys::DEMO_KID_2;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::Module;
use crate::server::{RedisServer, spawn_redis_app};
use crate::support::*;

type Run = Pin<Box<dyn Future<Output = String> + Send>>;

const BASIC: &str = "oidcc-client-basic-certification-test-plan";
const CONFIG: &str = "oidcc-client-config-certification-test-plan";
const REFRESH: &str = "oidcc-client-refreshtoken-test-plan";
const RP_LOGOUT: &str = "oidcc-client-rp-initiated-logout-rp-basic";
const BACKCHANNEL: &str = "oidcc-client-back-channel-logout-rp-basic";
const FAPI2: &str = "fapi2-security-profile-final-client-test-plan";

macro_rules! module {
    ($id:literal, $plan:expr, $requires:literal, $choice:literal, $run:ident) => {
        Module {
            id: $id,
            plan: $plan,
            requires: $requires,
            choice: $choice,
            run: || -> Run { Box::pin($run()) },
        }
    };
}

pub static ALL: &[Module] = &[
    module!(
        "oidcc-client-test",
        BASIC,
        "an authorization code login (with userinfo where it applies) completes",
        "",
        client_test
    ),
    module!(
        "oidcc-client-test-invalid-iss",
        BASIC,
        "an ID token whose `iss` is not the issuer is rejected",
        "",
        invalid_iss
    ),
    module!(
        "oidcc-client-test-missing-sub",
        BASIC,
        "an ID token without `sub` is rejected",
        "",
        missing_sub
    ),
    module!(
        "oidcc-client-test-invalid-aud",
        BASIC,
        "an ID token whose `aud` is not this client is rejected",
        "",
        invalid_aud
    ),
    module!(
        "oidcc-client-test-missing-iat",
        BASIC,
        "an ID token without `iat` is rejected",
        "",
        missing_iat
    ),
    module!(
        "oidcc-client-test-kid-absent-single-jwks",
        BASIC,
        "without `kid`, the single key of the JWKS verifies the ID token",
        "",
        kid_absent_single
    ),
    module!(
        "oidcc-client-test-kid-absent-multiple-jwks",
        BASIC,
        "without `kid` and with several keys: reject, or try each key",
        "We reject: the key cannot be told, and trying each key would let a token pick the key it is checked with. Auth0 always sends `kid`.",
        kid_absent_multiple
    ),
    module!(
        "oidcc-client-test-idtoken-sig-rs256",
        BASIC,
        "an RS256 ID token is verified with the provider's key and accepted",
        "",
        sig_rs256
    ),
    module!(
        "oidcc-client-test-idtoken-sig-none",
        BASIC,
        "an unsigned (`alg: none`) ID token is rejected with no userinfo call, or accepted",
        "We reject it (no userinfo call): a code-flow ID token is signed by Auth0 always.",
        sig_none
    ),
    module!(
        "oidcc-client-test-invalid-sig-rs256",
        BASIC,
        "an ID token whose RS256 signature does not verify is rejected",
        "",
        invalid_sig
    ),
    module!(
        "oidcc-client-test-userinfo-invalid-sub",
        BASIC,
        "a userinfo answer whose `sub` is not the ID token's is rejected",
        "",
        userinfo_invalid_sub
    ),
    module!(
        "oidcc-client-test-nonce-invalid",
        BASIC,
        "an ID token whose `nonce` is not the request's is rejected, with no userinfo call",
        "",
        nonce_invalid
    ),
    module!(
        "oidcc-client-test-scope-userinfo-claims",
        BASIC,
        "claims asked for by scope (`profile`, `email`) are received",
        "",
        scope_userinfo_claims
    ),
    module!(
        "oidcc-client-test-client-secret-basic",
        BASIC,
        "the client authenticates with `client_secret_basic`",
        "",
        client_secret_basic
    ),
    module!(
        "oidcc-client-test-discovery-openid-config",
        CONFIG,
        "the provider's configuration is read from `.well-known/openid-configuration`",
        "",
        discovery_openid_config
    ),
    module!(
        "oidcc-client-test-discovery-jwks-uri-keys",
        CONFIG,
        "the keys are fetched from the `jwks_uri` discovery advertises",
        "",
        discovery_jwks_uri_keys
    ),
    module!(
        "oidcc-client-test-discovery-issuer-mismatch",
        CONFIG,
        "a configuration whose `issuer` is not the expected one is rejected",
        "",
        discovery_issuer_mismatch
    ),
    module!(
        "oidcc-client-test-signing-key-rotation",
        CONFIG,
        "after the provider rotates its key, the next login's ID token is verified (the JWKS refetched)",
        "",
        signing_key_rotation
    ),
    module!(
        "oidcc-client-test-signing-key-rotation-just-before-signing",
        CONFIG,
        "a key rotated just before the ID token is signed is fetched and verifies it",
        "",
        key_rotation_just_before_signing
    ),
    module!(
        "oidcc-client-test-refresh-token",
        REFRESH,
        "a refresh token is used to get a new access token, which is then used",
        "We use the new access token to call the API (`/call-api`), not userinfo: the app's profile comes from the login.",
        refresh_token
    ),
    module!(
        "oidcc-client-test-refresh-token-invalid-issuer",
        REFRESH,
        "a refresh answer's ID token with another `iss` is rejected",
        "",
        refresh_invalid_issuer
    ),
    module!(
        "oidcc-client-test-refresh-token-invalid-sub",
        REFRESH,
        "a refresh answer's ID token with another `sub` is rejected",
        "",
        refresh_invalid_sub
    ),
    module!(
        "oidcc-client-test-rp-init-logout",
        RP_LOGOUT,
        "logout goes to `end_session_endpoint`, and the post-logout redirect is handled",
        "We send `client_id`, `post_logout_redirect_uri` and `logout_hint` (the session's `sid`), not `id_token_hint`: the ID token is not kept in the session (it would double the cookie), and Auth0 accepts `logout_hint` with `client_id`.",
        rp_init_logout
    ),
    module!(
        "oidcc-client-test-rp-init-logout-other-state",
        RP_LOGOUT,
        "the post-logout redirect is handled though it carries another `state`",
        "We send no `state` at logout (the suite then skips this module); the post-logout page is the home page, which needs none.",
        rp_init_logout_other_state
    ),
    module!(
        "oidcc-client-test-rp-init-logout-no-state",
        RP_LOGOUT,
        "the post-logout redirect is handled without a `state`",
        "",
        rp_init_logout_no_state
    ),
    module!(
        "oidcc-client-test-rp-backchannel-rpinitlogout",
        BACKCHANNEL,
        "a valid logout token ends the session; the post-logout redirect is handled",
        "",
        backchannel_rpinitlogout
    ),
    module!(
        "oidcc-client-test-rp-backchannel-rpinitlogout-alg-none",
        BACKCHANNEL,
        "an unsigned logout token is rejected (400), nothing ended",
        "",
        backchannel_alg_none
    ),
    module!(
        "oidcc-client-test-rp-backchannel-rpinitlogout-no-event",
        BACKCHANNEL,
        "a logout token without the back-channel logout event is rejected",
        "",
        backchannel_no_event
    ),
    module!(
        "oidcc-client-test-rp-backchannel-rpinitlogout-with-nonce",
        BACKCHANNEL,
        "a logout token with a `nonce` is rejected",
        "",
        backchannel_with_nonce
    ),
    module!(
        "oidcc-client-test-rp-backchannel-rpinitlogout-wrong-alg",
        BACKCHANNEL,
        "a logout token signed with another algorithm is rejected",
        "",
        backchannel_wrong_alg
    ),
    module!(
        "oidcc-client-test-rp-backchannel-rpinitlogout-wrong-aud",
        BACKCHANNEL,
        "a logout token for another audience is rejected",
        "",
        backchannel_wrong_aud
    ),
    module!(
        "oidcc-client-test-rp-backchannel-rpinitlogout-wrong-event",
        BACKCHANNEL,
        "a logout token whose event is not back-channel logout is rejected",
        "",
        backchannel_wrong_event
    ),
    module!(
        "oidcc-client-test-rp-backchannel-rpinitlogout-wrong-iss",
        BACKCHANNEL,
        "a logout token from another issuer is rejected",
        "",
        backchannel_wrong_iss
    ),
    module!(
        "fapi2-security-profile-final-client-test-happy-path",
        FAPI2,
        "PAR, Private Key JWT, a DPoP-bound token (with the server's DPoP nonce) used at the resource",
        "",
        fapi2_happy_path
    ),
    module!(
        "fapi2-security-profile-final-client-test-happy-path-no-dpop-nonce",
        FAPI2,
        "the same, the server asking no DPoP nonce",
        "",
        fapi2_happy_path_no_nonce
    ),
    module!(
        "fapi2-security-profile-final-client-test-invalid-aud",
        FAPI2,
        "an ID token for another audience is rejected",
        "",
        fapi2_invalid_aud
    ),
    module!(
        "fapi2-security-profile-final-client-test-invalid-secondary-aud",
        FAPI2,
        "an ID token with an untrusted second audience (and no azp) is rejected",
        "",
        fapi2_invalid_secondary_aud
    ),
    module!(
        "fapi2-security-profile-final-client-test-valid-aud-as-array",
        FAPI2,
        "an ID token whose aud is an array of this client alone is accepted",
        "",
        fapi2_aud_as_array
    ),
    module!(
        "fapi2-security-profile-final-client-test-invalid-iss",
        FAPI2,
        "an ID token from another issuer is rejected",
        "",
        fapi2_invalid_iss
    ),
    module!(
        "fapi2-security-profile-final-client-test-invalid-missing-iss",
        FAPI2,
        "an ID token without iss is rejected",
        "",
        fapi2_missing_iss
    ),
    module!(
        "fapi2-security-profile-final-client-test-invalid-missing-aud",
        FAPI2,
        "an ID token without aud is rejected",
        "",
        fapi2_missing_aud
    ),
    module!(
        "fapi2-security-profile-final-client-test-invalid-expired-exp",
        FAPI2,
        "an expired ID token is rejected",
        "",
        fapi2_expired
    ),
    module!(
        "fapi2-security-profile-final-client-test-invalid-missing-exp",
        FAPI2,
        "an ID token without exp is rejected",
        "",
        fapi2_missing_exp
    ),
    module!(
        "fapi2-security-profile-final-client-test-invalid-nonce",
        FAPI2,
        "an ID token with another nonce is rejected",
        "",
        fapi2_invalid_nonce
    ),
    module!(
        "fapi2-security-profile-final-client-test-invalid-missing-nonce",
        FAPI2,
        "an ID token without the nonce that was sent is rejected",
        "",
        fapi2_missing_nonce
    ),
    module!(
        "fapi2-security-profile-final-client-test-invalid-null-alg",
        FAPI2,
        "an ID token with alg none is rejected",
        "",
        fapi2_null_alg
    ),
    module!(
        "fapi2-security-profile-final-client-test-invalid-authorization-response-iss",
        FAPI2,
        "an authorization response naming another issuer is rejected (RFC 9207)",
        "",
        fapi2_wrong_response_iss
    ),
    module!(
        "fapi2-security-profile-final-client-test-remove-authorization-response-iss",
        FAPI2,
        "an authorization response without iss is rejected",
        "",
        fapi2_no_response_iss
    ),
    module!(
        "fapi2-security-profile-final-client-test-ensure-authorization-response-with-invalid-state-fails",
        FAPI2,
        "an authorization response with another state is rejected",
        "",
        fapi2_invalid_state
    ),
    module!(
        "fapi2-security-profile-final-client-test-ensure-authorization-response-with-invalid-missing-state-fails",
        FAPI2,
        "an authorization response without state is rejected",
        "",
        fapi2_missing_state
    ),
    module!(
        "fapi2-security-profile-final-client-test-token-endpoint-response-without-expires_in",
        FAPI2,
        "a token response without expires_in is accepted",
        "",
        fapi2_no_expires_in
    ),
    module!(
        "fapi2-security-profile-final-client-test-token-type-case-insensitivity",
        FAPI2,
        "token_type DPoP in any case is DPoP",
        "",
        fapi2_token_type_case
    ),
    module!(
        "fapi2-security-profile-final-client-test-discovery-issuer-mismatch",
        FAPI2,
        "a discovery document with another issuer is rejected",
        "",
        fapi2_discovery_issuer_mismatch
    ),
];

// ---- helpers ----

async fn app_with(change: Option<fn(&mut Behaviour)>) -> TestApp {
    spawn_app_with(Options {
        provider_behaviour: change,
        ..Options::default()
    })
    .await
}

/// The home page as the app's own browser sees it.
async fn home(app: &TestApp) -> String {
    app.page("/").await
}

/// Logs Jane in and asserts it worked.
async fn logs_in(app: &TestApp) -> String {
    let response = app.login().await;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::SEE_OTHER, "the login failed: {body}");
    let page = home(app).await;
    assert!(page.contains("Jane Doe"), "not logged in: {page}");
    format!("login completed ({})", status.as_u16())
}

/// Logs Jane in and asserts it was refused with `code`, the page naming `named`, nobody logged
/// in; returns what the page said.
async fn refused(app: &TestApp, code: &str, named: &str) -> String {
    let response = app.login().await;
    let status = response.status();
    let html = response.text().await.unwrap_or_default();
    assert!(
        status.is_client_error() || status.is_server_error(),
        "{status}: {html}"
    );
    assert_eq!(error_code(&html), code, "{html}");
    assert!(
        html.contains(named),
        "the page does not name {named:?}: {html}"
    );
    assert!(
        home(app).await.contains("Welcome Guest"),
        "someone was logged in"
    );
    format!("{} {code}: {named}", status.as_u16())
}

// ---- Basic RP ----

async fn client_test() -> String {
    let app = app_with(None).await;
    logs_in(&app).await
}

async fn invalid_iss() -> String {
    let app = app_with(Some(|b| {
        b.issuer_override = Some("https://evil.example.com/".into())
    }))
    .await;
    refused(&app, "id_token_invalid", "Issuer not allowed").await
}

async fn missing_sub() -> String {
    let app = app_with(Some(|b| b.id_token_omits = vec!["sub".into()])).await;
    refused(
        &app,
        "id_token_invalid",
        "Jwt payload [sub] field is missing",
    )
    .await
}

async fn invalid_aud() -> String {
    let app = app_with(Some(|b| {
        b.audience_override = Some(json!("another-client"))
    }))
    .await;
    refused(&app, "id_token_invalid", "Audiences in Jwt are not allowed").await
}

async fn missing_iat() -> String {
    let app = app_with(Some(|b| b.id_token_omits = vec!["iat".into()])).await;
    refused(
        &app,
        "id_token_invalid",
        "Jwt payload [iat] field is missing",
    )
    .await
}

async fn kid_absent_single() -> String {
    let app = app_with(Some(|b| b.omit_kid = true)).await;
    logs_in(&app).await + " with the JWKS's single key"
}

async fn kid_absent_multiple() -> String {
    let app = app_with(Some(|b| b.omit_kid = true)).await;
    app.provider().publish(DEMO_KID_2);
    refused(
        &app,
        "id_token_invalid",
        "which one signed it cannot be told",
    )
    .await
}

async fn sig_rs256() -> String {
    let app = app_with(None).await;
    let seen = logs_in(&app).await;
    assert!(app.provider().jwks_fetch_count() >= 1, "no key was fetched");
    seen + ", RS256 verified with the JWKS key"
}

/// Logs Jane in with an unsigned (`alg: none`) ID token carrying `nonce` (this login's, when the
/// authorize URL shows it): the callback's status and page.
async fn login_with_unsigned_id_token(app: &TestApp) -> (StatusCode, String) {
    let authorize = app.start_login(&app.client, "/login").await;
    let issuer = app.provider().issuer().to_string();
    let now = auth0_axum::test_support::unix_now();
    let mut claims =
        json!({"iss": issuer, "sub": "demo|jane", "aud": CLIENT_ID, "iat": now, "exp": now + 600});
    // Without PAR the nonce is in the URL: the unsigned token then fails only for `none`.
    if let Some(nonce) = param(&authorize, "nonce") {
        claims["nonce"] = json!(nonce);
    }
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none"}).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    app.provider()
        .behave(move |b| b.raw_id_token = Some(unsigned));
    let callback = app
        .decide(&app.client, &authorize, &[("user", "jane")])
        .await;
    let response = app.client.get(callback).send().await.unwrap();
    let status = response.status();
    let html = response.text().await.unwrap();
    assert_eq!(error_code(&html), "id_token_invalid", "{html}");
    assert!(home(app).await.contains("Welcome Guest"));
    (status, html)
}

async fn sig_none() -> String {
    let app = app_with(None).await;
    let (status, _) = login_with_unsigned_id_token(&app).await;
    assert_eq!(app.provider().userinfo_count(), 0, "userinfo was called");
    format!("{} id_token_invalid, no userinfo call", status.as_u16())
}

async fn invalid_sig() -> String {
    let app = app_with(Some(|b| b.tamper_id_token_signature = true)).await;
    refused(&app, "id_token_invalid", "Jwt verification fails").await
}

async fn userinfo_invalid_sub() -> String {
    let app = spawn_app_with(Options {
        userinfo: "always",
        provider_behaviour: Some(|b| b.userinfo_sub_override = Some("attacker|1".into())),
        ..Options::default()
    })
    .await;
    logs_in(&app).await;
    assert!(
        app.provider().userinfo_count() >= 1,
        "userinfo was not asked"
    );
    let page = app.page("/profile").await;
    assert!(
        !page.contains("attacker|1") && page.contains("demo|jane"),
        "the userinfo answer about another subject was used: {page}"
    );
    "userinfo answer about another sub ignored; the ID token's sub kept".into()
}

async fn nonce_invalid() -> String {
    let app = app_with(Some(|b| b.nonce_override = Some("another-nonce".into()))).await;
    let seen = refused(
        &app,
        "id_token_invalid",
        "Jwt [nonce] does not match the login request",
    )
    .await;
    assert_eq!(app.provider().userinfo_count(), 0, "userinfo was called");
    seen + ", no userinfo call"
}

async fn scope_userinfo_claims() -> String {
    let app = app_with(None).await;
    let authorize = app.start_login(&app.client, "/login").await;
    let scope = param(&authorize, "scope").unwrap_or_default();
    assert!(
        scope.contains("profile") && scope.contains("email"),
        "{scope}"
    );
    let callback = app
        .decide(&app.client, &authorize, &[("user", "jane")])
        .await;
    assert_eq!(
        app.client.get(callback).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let page = app.page("/profile").await;
    assert!(
        page.contains("jane.doe@example.com") && page.contains("Jane Doe"),
        "{page}"
    );
    format!("scope {scope:?}: name and email received")
}

async fn client_secret_basic() -> String {
    let app = app_with(Some(|b| {
        b.token_auth_methods = Some(vec!["client_secret_basic".into()])
    }))
    .await;
    logs_in(&app).await;
    let used = app.provider().last_client_auth();
    assert_eq!(used, Some("client_secret_basic"));
    "the token request authenticated with client_secret_basic".into()
}

// ---- Config RP ----

async fn discovery_openid_config() -> String {
    let app = app_with(None).await;
    logs_in(&app).await;
    assert!(app.provider().discovery_fetch_count() >= 1);
    "configuration read from .well-known/openid-configuration; its endpoints used".into()
}

async fn discovery_jwks_uri_keys() -> String {
    let app = app_with(Some(|b| b.jwks_uri_suffix = Some("k-7f3a9c".into()))).await;
    logs_in(&app).await;
    assert!(app.provider().jwks_fetch_count() >= 1);
    "keys fetched from the advertised jwks_uri (/jwks/k-7f3a9c; the usual path is not used)".into()
}

async fn discovery_issuer_mismatch() -> String {
    let app = app_with(Some(|b| {
        b.discovery_issuer_override = Some("https://evil.example.com/".into())
    }))
    .await;
    let response = app.get("/login").await;
    let status = response.status();
    let html = response.text().await.unwrap();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{html}");
    assert_eq!(error_code(&html), "provider_unavailable", "{html}");
    assert!(html.contains("advertises issuer"), "{html}");
    format!(
        "{} provider_unavailable: the document advertises another issuer",
        status.as_u16()
    )
}

async fn signing_key_rotation() -> String {
    let app = app_with(None).await;
    logs_in(&app).await;
    let fetches = app.provider().jwks_fetch_count();
    app.provider().rotate_to(DEMO_KID_2);
    let browser = cookie_client();
    let response = app.login_with(&browser, "/login", "jane").await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.text().await.unwrap()
    );
    assert_eq!(
        app.provider().jwks_fetch_count(),
        fetches + 1,
        "one refetch"
    );
    "second login, signed with the rotated key, verified after one refetch".into()
}

async fn key_rotation_just_before_signing() -> String {
    let app = app_with(None).await;
    // The app has the key set (a first login), then the provider rotates right before signing.
    logs_in(&app).await;
    let browser = cookie_client();
    let authorize = app.start_login(&browser, "/login").await;
    app.provider().rotate_to(DEMO_KID_2);
    let callback = app.decide(&browser, &authorize, &[("user", "jane")]).await;
    let response = browser.get(callback).send().await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.text().await.unwrap()
    );
    "the ID token signed with the just-rotated key verified (JWKS refetched at once)".into()
}

// ---- refresh ----

async fn refresh_app() -> TestApp {
    let app = spawn_app_with(Options {
        audience: Some("https://api.example.com".into()),
        scope: "openid profile email offline_access".into(),
        provider_behaviour: Some(|b| b.access_token_lifetime_secs = 30),
        ..Options::default()
    })
    .await;
    logs_in(&app).await;
    app
}

async fn refresh_token() -> String {
    let app = refresh_app().await;
    let html = app.page("/call-api").await;
    assert_eq!(api_status(&html), "200", "{html}");
    assert_eq!(app.provider().refresh_count(), 1, "no refresh");
    "refreshed (ID token in the answer checked), the new access token called the API: 200".into()
}

async fn refresh_refused(claim: &'static str, value: &'static str, named: &str) -> String {
    let app = refresh_app().await;
    app.provider().behave(move |b| {
        b.refresh_id_token_overrides
            .insert(claim.into(), json!(value));
    });
    let response = app.get("/call-api").await;
    let status = response.status();
    let html = response.text().await.unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{html}");
    assert_eq!(error_code(&html), "refresh_id_token_invalid", "{html}");
    assert!(html.contains(named), "{html}");
    assert!(!html.contains("apiStatus"), "the API was called");
    assert!(
        home(&app).await.contains("Welcome Guest"),
        "the session was kept"
    );
    format!(
        "{} refresh_id_token_invalid: {named}; tokens unused, session ended",
        status.as_u16()
    )
}

async fn refresh_invalid_issuer() -> String {
    refresh_refused("iss", "https://evil.example.com/", "Issuer not allowed").await
}

async fn refresh_invalid_sub() -> String {
    refresh_refused("sub", "demo|raj", "is not the logged-in user").await
}

// ---- RP-initiated logout ----

/// Logs out through the provider and back; the redirect back carries `state` as the behaviour
/// says. Returns the end-session URL the app sent the browser to.
async fn logout_round_trip(app: &TestApp) -> String {
    let logout = app.get("/logout").await;
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    let end_session = location(&logout);
    let back = app.client.get(&end_session).send().await.unwrap();
    assert_eq!(
        back.status(),
        StatusCode::SEE_OTHER,
        "{}",
        back.text().await.unwrap()
    );
    let landing = location(&back);
    let page = app.client.get(&landing).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "{landing}");
    assert!(page.text().await.unwrap().contains("Welcome Guest"));
    end_session
}

async fn rp_init_logout() -> String {
    let app = app_with(None).await;
    logs_in(&app).await;
    let end_session = logout_round_trip(&app).await;
    assert!(end_session.contains("/oidc/logout?"), "{end_session}");
    for name in ["client_id", "post_logout_redirect_uri", "logout_hint"] {
        assert!(
            param(&end_session, name).is_some(),
            "no {name}: {end_session}"
        );
    }
    "end_session_endpoint with client_id, post_logout_redirect_uri, logout_hint; redirect back handled".into()
}

async fn rp_init_logout_other_state() -> String {
    let app = app_with(Some(|b| b.post_logout_state = Some("someone-elses".into()))).await;
    logs_in(&app).await;
    logout_round_trip(&app).await;
    "redirect back with another state handled (guest home page)".into()
}

async fn rp_init_logout_no_state() -> String {
    let app = app_with(None).await;
    logs_in(&app).await;
    let end_session = logout_round_trip(&app).await;
    assert!(param(&end_session, "state").is_none());
    "redirect back without state handled".into()
}

// ---- back-channel logout (sessions in Redis) ----

struct Backchannel {
    app: TestApp,
    _redis: RedisServer,
    cookie: String,
    sid: String,
}

async fn backchannel_app() -> Backchannel {
    let redis = RedisServer::start();
    let app = spawn_redis_app(&redis).await;
    let response = app.login_with(&cookie_client(), "/login", "jane").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = format!(
        "{}={}",
        auth0_axum::test_support::COOKIE_NAME,
        first_cookie_value(&response)
    );
    let (sid, _) = app.provider().last_session().unwrap();
    Backchannel {
        app,
        _redis: redis,
        cookie,
        sid,
    }
}

async fn still_logged_in(b: &Backchannel) -> bool {
    b.app
        .get_with_cookie("/", &b.cookie)
        .await
        .text()
        .await
        .unwrap()
        .contains("Jane Doe")
}

async fn backchannel_rpinitlogout() -> String {
    let b = backchannel_app().await;
    let (status, body) = b.app.provider().end_session(&b.sid).await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(!still_logged_in(&b).await, "the session was not ended");
    "200; the session of that sid ended".into()
}

/// Posts `token`; asserts 400 naming `named`, and the session still alive.
async fn backchannel_refused(b: &Backchannel, token: &str, named: &str) -> String {
    let (status, body) = b.app.provider().send_logout_token(token).await.unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(body.contains(named), "{body}");
    assert!(
        still_logged_in(b).await,
        "a refused token ended the session"
    );
    let description: Value = serde_json::from_str(&body).unwrap_or_default();
    format!(
        "400: {}; nothing ended",
        description["error_description"].as_str().unwrap_or(&body)
    )
}

fn logout_claims(b: &Backchannel) -> serde_json::Map<String, Value> {
    b.app
        .provider()
        .logout_claims(Some(&b.sid), Some("demo|jane"))
}

async fn backchannel_alg_none() -> String {
    let b = backchannel_app().await;
    let token = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none"}).to_string()),
        URL_SAFE_NO_PAD.encode(Value::Object(logout_claims(&b)).to_string())
    );
    backchannel_refused(&b, &token, "BAD_FORMAT").await
}

async fn backchannel_no_event() -> String {
    let b = backchannel_app().await;
    let mut claims = logout_claims(&b);
    claims.remove("events");
    let token = b.app.provider().sign_logout_token(&claims);
    backchannel_refused(&b, &token, "events").await
}

async fn backchannel_with_nonce() -> String {
    let b = backchannel_app().await;
    let mut claims = logout_claims(&b);
    claims.insert("nonce".into(), json!("n-1"));
    let token = b.app.provider().sign_logout_token(&claims);
    backchannel_refused(&b, &token, "nonce").await
}

async fn backchannel_wrong_alg() -> String {
    let b = backchannel_app().await;
    // HS256 with the client secret as the key: the conformance suite's wrong algorithm for an
    // RS256 client.
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "typ": "JWT"}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(Value::Object(logout_claims(&b)).to_string());
    let input = format!("{header}.{payload}");
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, CLIENT_SECRET.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(ring::hmac::sign(&key, input.as_bytes()).as_ref());
    backchannel_refused(&b, &format!("{input}.{signature}"), "HS256").await
}

async fn backchannel_wrong_aud() -> String {
    let b = backchannel_app().await;
    let mut claims = logout_claims(&b);
    claims.insert("aud".into(), json!("another-client"));
    let token = b.app.provider().sign_logout_token(&claims);
    backchannel_refused(&b, &token, "Audiences in Jwt are not allowed").await
}

async fn backchannel_wrong_event() -> String {
    let b = backchannel_app().await;
    let mut claims = logout_claims(&b);
    claims.insert(
        "events".into(),
        json!({"http://schemas.openid.net/event/frontchannel-logout": {}}),
    );
    let token = b.app.provider().sign_logout_token(&claims);
    backchannel_refused(&b, &token, "events").await
}

async fn backchannel_wrong_iss() -> String {
    let b = backchannel_app().await;
    let mut claims = logout_claims(&b);
    claims.insert("iss".into(), json!("https://evil.example.com/"));
    let token = b.app.provider().sign_logout_token(&claims);
    backchannel_refused(&b, &token, "Issuer not allowed").await
}

// ---- FAPI 2.0 Security Profile (private_key_jwt + DPoP, PAR) ----

fn fapi2_options(change: Option<fn(&mut Behaviour)>) -> Options {
    Options {
        audience: Some("https://api.example.com".into()),
        scope: "openid profile email offline_access".into(),
        extra_env: vec![("AUTH0_SECURITY_PROFILE", "fapi2".into())],
        assertion_key: Some((
            format!(
                "{}/crates/auth0-axum/tests/fixtures/client-assertion-rsa.pem",
                env!("CARGO_MANIFEST_DIR")
            ),
            "PS256",
        )),
        provider_behaviour: change,
        ..Options::default()
    }
}

/// A FAPI 2.0 app against a tenant that requires PAR and DPoP, with `change` on top.
async fn fapi2_app(change: fn(&mut Behaviour)) -> TestApp {
    let app = spawn_app_with(fapi2_options(Some(change))).await;
    app.provider().behave(|b| {
        b.require_par = true;
        b.require_dpop = true;
    });
    app
}

async fn fapi2_resource_call(app: &TestApp) -> String {
    let html = app.page("/call-api").await;
    assert_eq!(api_status(&html), "200", "{html}");
    assert!(html.contains("jkt"), "the token is not DPoP-bound: {html}");
    assert_eq!(app.provider().par_count(), 1, "no pushed request");
    assert_eq!(app.provider().last_client_auth(), Some("private_key_jwt"));
    "PAR, private_key_jwt, DPoP-bound token; the resource answered 200 to its DPoP proof".into()
}

async fn fapi2_happy_path() -> String {
    let app = fapi2_app(|b| b.dpop_nonce = Some("fapi-nonce".into())).await;
    logs_in(&app).await;
    fapi2_resource_call(&app).await + " (after the server's DPoP nonce)"
}

async fn fapi2_happy_path_no_nonce() -> String {
    let app = fapi2_app(|_| {}).await;
    logs_in(&app).await;
    fapi2_resource_call(&app).await
}

async fn fapi2_invalid_aud() -> String {
    let app = fapi2_app(|b| b.audience_override = Some(json!("another-client"))).await;
    refused(&app, "id_token_invalid", "Audiences in Jwt are not allowed").await
}

async fn fapi2_invalid_secondary_aud() -> String {
    let app = fapi2_app(|b| b.audience_override = Some(json!([CLIENT_ID, "another-client"]))).await;
    refused(&app, "id_token_invalid", "azp").await
}

async fn fapi2_aud_as_array() -> String {
    let app = fapi2_app(|b| b.audience_override = Some(json!([CLIENT_ID]))).await;
    logs_in(&app).await + " with aud [client_id]"
}

async fn fapi2_invalid_iss() -> String {
    let app = fapi2_app(|b| b.issuer_override = Some("https://evil.example.com/".into())).await;
    refused(&app, "id_token_invalid", "Issuer not allowed").await
}

async fn fapi2_missing_iss() -> String {
    let app = fapi2_app(|b| b.id_token_omits = vec!["iss".into()]).await;
    refused(
        &app,
        "id_token_invalid",
        "Jwt payload [iss] field is missing",
    )
    .await
}

async fn fapi2_missing_aud() -> String {
    let app = fapi2_app(|b| b.id_token_omits = vec!["aud".into()]).await;
    refused(
        &app,
        "id_token_invalid",
        "Jwt payload [aud] field is missing",
    )
    .await
}

async fn fapi2_expired() -> String {
    let app = fapi2_app(|b| b.id_token_lifetime_secs = -3600).await;
    refused(&app, "id_token_invalid", "Jwt is expired").await
}

async fn fapi2_missing_exp() -> String {
    let app = fapi2_app(|b| b.id_token_omits = vec!["exp".into()]).await;
    refused(&app, "id_token_invalid", "TIME_CONSTRAINT_FAILURE").await
}

async fn fapi2_invalid_nonce() -> String {
    let app = fapi2_app(|b| b.nonce_override = Some("another-nonce".into())).await;
    refused(
        &app,
        "id_token_invalid",
        "Jwt [nonce] does not match the login request",
    )
    .await
}

async fn fapi2_missing_nonce() -> String {
    let app = fapi2_app(|b| b.id_token_omits = vec!["nonce".into()]).await;
    refused(&app, "id_token_invalid", "nonce").await
}

async fn fapi2_null_alg() -> String {
    let app = fapi2_app(|_| {}).await;
    let (status, html) = login_with_unsigned_id_token(&app).await;
    assert!(
        html.contains("BAD_FORMAT") || html.contains("[alg]"),
        "{html}"
    );
    format!("{} id_token_invalid: alg none refused", status.as_u16())
}

async fn fapi2_wrong_response_iss() -> String {
    let app =
        fapi2_app(|b| b.response_iss_override = Some("https://evil.example.com/".into())).await;
    refused_any(&app, "iss").await
}

async fn fapi2_no_response_iss() -> String {
    let app = fapi2_app(|b| {
        b.omit_response_iss = true;
        b.unadvertise_response_iss = true;
    })
    .await;
    refused_any(&app, "iss").await
}

/// Logs Jane in and asserts it was refused (any code), the page naming `named`.
async fn refused_any(app: &TestApp, named: &str) -> String {
    let response = app.login().await;
    let status = response.status();
    let html = response.text().await.unwrap_or_default();
    assert!(
        status.is_client_error() || status.is_server_error(),
        "{status}: {html}"
    );
    assert!(html.contains(named), "{html}");
    assert!(
        home(app).await.contains("Welcome Guest"),
        "someone was logged in"
    );
    format!("{} {}", status.as_u16(), error_code(&html))
}

/// The callback URL the provider sends the browser to, with `state` changed (or removed).
async fn tampered_state(app: &TestApp, state: Option<&str>) -> String {
    let authorize = app.start_login(&app.client, "/login").await;
    let callback = app
        .decide(&app.client, &authorize, &[("user", "jane")])
        .await;
    let tampered = with_param(&callback, "state", state);
    let response = app.client.get(tampered).send().await.unwrap();
    let status = response.status();
    let html = response.text().await.unwrap();
    assert!(status.is_client_error(), "{status}: {html}");
    assert!(
        home(app).await.contains("Welcome Guest"),
        "someone was logged in"
    );
    assert_eq!(
        app.provider().token_request_count(),
        0,
        "the code was exchanged"
    );
    format!(
        "{} {}; the code was not exchanged",
        status.as_u16(),
        error_code(&html)
    )
}

async fn fapi2_invalid_state() -> String {
    let app = fapi2_app(|_| {}).await;
    tampered_state(&app, Some("another-state")).await
}

async fn fapi2_missing_state() -> String {
    let app = fapi2_app(|_| {}).await;
    tampered_state(&app, None).await
}

async fn fapi2_no_expires_in() -> String {
    let app = fapi2_app(|b| b.omit_expires_in = true).await;
    logs_in(&app).await;
    fapi2_resource_call(&app).await + " (no expires_in)"
}

async fn fapi2_token_type_case() -> String {
    let app = fapi2_app(|b| b.token_type_override = Some("dPoP".into())).await;
    logs_in(&app).await;
    fapi2_resource_call(&app).await + " (token_type \"dPoP\")"
}

async fn fapi2_discovery_issuer_mismatch() -> String {
    let app = spawn_app_with(fapi2_options(Some(|b| {
        b.discovery_issuer_override = Some("https://evil.example.com/".into())
    })))
    .await;
    let response = app.get("/login").await;
    let status = response.status();
    let html = response.text().await.unwrap();
    assert_eq!(error_code(&html), "provider_unavailable", "{html}");
    format!(
        "{} provider_unavailable: the document advertises another issuer",
        status.as_u16()
    )
}
