//! `/oauth/token` (client, code, redirect URI and PKCE checked) and `/userinfo`.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::Digest as _;

use super::{Behaviour, ClientRegistration, Grant, Shared, client_auth, dpop, keys, lock};
use crate::util::{random_token, unix_now};

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

pub(super) async fn token(
    State(s): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    s.token_requests.fetch_add(1, Ordering::SeqCst);
    *lock(&s.last_client_auth) = Some(client_auth::method(&headers, &form));
    let delay = lock(&s.behaviour).token_delay_ms;
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    let client = lock(&s.client).clone();
    if let Some(secs) = lock(&s.behaviour).rate_limited_for_secs {
        let reset = (unix_now() + secs).to_string();
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [
                (header::CONTENT_TYPE, "application/json".to_string()),
                (
                    header::HeaderName::from_static("x-ratelimit-limit"),
                    "100".into(),
                ),
                (
                    header::HeaderName::from_static("x-ratelimit-remaining"),
                    "0".into(),
                ),
                (header::HeaderName::from_static("x-ratelimit-reset"), reset),
            ],
            r#"{"error":"too_many_requests","error_description":"Global limit has been reached"}"#,
        )
            .into_response();
    }
    if let Some((status, body)) = lock(&s.behaviour).token_error.clone() {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    }
    // Before the code or refresh token is spent: a use_dpop_nonce answer must leave it usable.
    let jkt = match dpop::binding(&s, &headers, &format!("{}oauth/token", s.issuer)) {
        Ok(jkt) => jkt,
        Err(refusal) => return *refusal,
    };
    if form.get("grant_type").map(String::as_str) == Some("refresh_token") {
        return refresh(&s, &client, &headers, &form, jkt.as_deref());
    }
    let grant = match redeem_code(&s, &client, &headers, &form) {
        Ok(grant) => grant,
        Err((status, error, description)) => return oauth_error(status, error, &description),
    };
    let b = lock(&s.behaviour).clone();
    let scopes: Vec<&str> = grant.request.scope.split_whitespace().collect();
    let profile = profile_for_scopes(&grant.user, &scopes, &b);
    let access_token = access_token(
        &s,
        &client,
        &grant,
        b.access_token_lifetime_secs,
        jkt.as_deref(),
    );
    lock(&s.access_tokens).insert(access_token.clone(), profile.clone());
    let id_token = match b.raw_id_token.clone() {
        Some(raw) => raw,
        None => id_token(&s, &client, &grant, profile, &access_token, &b),
    };
    s.last_id_token_bytes
        .store(id_token.len(), Ordering::SeqCst);
    let mut body = json!({
        "access_token": access_token,
        "id_token": id_token,
        "token_type": if jkt.is_some() { "DPoP" } else { "Bearer" },
        "expires_in": b.access_token_lifetime_secs,
        "scope": grant.request.scope,
    });
    if b.omit_expires_in {
        body.as_object_mut().map(|o| o.remove("expires_in"));
    }
    if let Some(token_type) = &b.token_type_override {
        body["token_type"] = json!(token_type);
    }
    if scopes.contains(&"offline_access") {
        let refresh_token = random_token(32);
        let mut grant = grant.clone();
        grant.family = Some(refresh_token.clone());
        lock(&s.refresh_tokens).insert(refresh_token.clone(), grant);
        body["refresh_token"] = json!(refresh_token);
    }
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        Json(body),
    )
        .into_response()
}

/// The grant behind a code, once the client, the code, the redirect URI and PKCE check out; an
/// OAuth error response otherwise.
fn redeem_code(
    s: &Shared,
    client: &ClientRegistration,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Grant, client_auth::Refusal> {
    let refuse = |status, error, description: &str| Err((status, error, description.to_string()));
    client_auth::authenticate(s, client, headers, form)?;
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return refuse(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only authorization_code",
        );
    }
    // Auth0's answer to a reused or expired code.
    let Some(grant) = form.get("code").and_then(|c| lock(&s.codes).take(c)) else {
        return refuse(
            StatusCode::FORBIDDEN,
            "invalid_grant",
            "Invalid authorization code",
        );
    };
    if form.get("redirect_uri") != Some(&grant.request.redirect_uri) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "redirect_uri does not match the authorization request",
        );
    }
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    if URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
        != grant.request.code_challenge
    {
        return refuse(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "PKCE verification failed",
        );
    }
    Ok(grant)
}

/// The claims the scopes allow (`email` for the e-mail claims, `profile` for the rest), plus any
/// extra claims the behaviour adds.
fn profile_for_scopes(
    user: &Map<String, Value>,
    scopes: &[&str],
    b: &Behaviour,
) -> Map<String, Value> {
    let mut profile: Map<String, Value> = user
        .iter()
        .filter(|(k, _)| match k.as_str() {
            "sub" => true,
            "email" | "email_verified" => scopes.contains(&"email"),
            _ => scopes.contains(&"profile"),
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    profile.extend(b.extra_claims.clone());
    profile
}

/// Like Auth0: a JWT access token only when an API audience was asked for, else an opaque one.
/// `grant_type=refresh_token`: a new access token and, with rotation, a new refresh token; the old
/// one is spent. Auth0's answer to an unknown, spent or revoked one: 403 `invalid_grant`.
fn refresh(
    s: &Shared,
    client: &ClientRegistration,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
    jkt: Option<&str>,
) -> Response {
    s.refresh_requests.fetch_add(1, Ordering::SeqCst);
    if let Err((status, error, description)) = client_auth::authenticate(s, client, headers, form) {
        return oauth_error(status, error, &description);
    }
    let Some(grant) = rotate(s, form.get("refresh_token").map(String::as_str)) else {
        return oauth_error(
            StatusCode::FORBIDDEN,
            "invalid_grant",
            "Unknown or invalid refresh token.",
        );
    };
    let lifetime = lock(&s.behaviour).access_token_lifetime_secs;
    // Multi-Resource Refresh Tokens: another API, when a policy lists it, with the scopes asked
    // that the policy allows; otherwise the login's audience and scope, as if not asked.
    let policies = lock(&s.behaviour).mrrt_policies.clone();
    let for_api = form.get("audience").and_then(|audience| {
        let (_, allowed) = policies.iter().find(|(a, _)| a == audience)?;
        let asked = form.get("scope").map(String::as_str).unwrap_or("");
        let scope: Vec<&str> = asked
            .split_whitespace()
            .filter(|s| allowed.iter().any(|a| a == s))
            .collect();
        Some((audience.clone(), scope.join(" ")))
    });
    let (audience, granted_scope) = match &for_api {
        Some((audience, scope)) => (Some(audience.as_str()), scope.clone()),
        None => (
            grant.request.audience.as_deref(),
            grant.request.scope.clone(),
        ),
    };
    let access_token = access_token_for(s, client, &grant, audience, &granted_scope, lifetime, jkt);
    let scopes: Vec<&str> = grant.request.scope.split_whitespace().collect();
    let profile = profile_for_scopes(&grant.user, &scopes, &lock(&s.behaviour).clone());
    lock(&s.access_tokens).insert(access_token.clone(), profile);
    let rotated = random_token(32);
    lock(&s.refresh_tokens).insert(rotated.clone(), grant.clone());
    let mut body = json!({
        "access_token": access_token,
        "refresh_token": rotated,
        "token_type": if jkt.is_some() { "DPoP" } else { "Bearer" },
        "expires_in": lifetime,
        "scope": granted_scope,
    });
    // Like Auth0: a new ID token when the grant had `openid` (no nonce; OIDC Core 12.2).
    if scopes.contains(&"openid") {
        body["id_token"] = json!(refresh_id_token(s, client, &grant, &access_token));
    }
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        Json(body),
    )
        .into_response()
}

/// The ID token of a refresh answer: the same user, issuer and audience as the login's, new
/// times, no nonce; with the behaviour's overrides.
fn refresh_id_token(
    s: &Shared,
    client: &ClientRegistration,
    grant: &Grant,
    access_token: &str,
) -> String {
    let now = unix_now();
    let b = lock(&s.behaviour).clone();
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(s.issuer));
    claims.insert(
        "sub".into(),
        grant.user.get("sub").cloned().unwrap_or_default(),
    );
    claims.insert("aud".into(), json!(client.client_id));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + b.id_token_lifetime_secs));
    claims.insert("at_hash".into(), json!(keys::at_hash(access_token)));
    claims.extend(b.refresh_id_token_overrides.clone());
    s.keys[&lock(&s.active_kid).clone()].sign(&claims)
}

fn access_token(
    s: &Shared,
    client: &ClientRegistration,
    grant: &Grant,
    lifetime: i64,
    jkt: Option<&str>,
) -> String {
    let scope = grant.request.scope.clone();
    access_token_for(
        s,
        client,
        grant,
        grant.request.audience.as_deref(),
        &scope,
        lifetime,
        jkt,
    )
}

/// An access token for `audience` with `scope`: a JWT for an API, else an opaque one.
fn access_token_for(
    s: &Shared,
    client: &ClientRegistration,
    grant: &Grant,
    audience: Option<&str>,
    scope: &str,
    lifetime: i64,
    jkt: Option<&str>,
) -> String {
    let Some(audience) = audience else {
        return random_token(32);
    };
    let now = unix_now();
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(s.issuer));
    claims.insert(
        "sub".into(),
        grant.user.get("sub").cloned().unwrap_or_default(),
    );
    claims.insert(
        "aud".into(),
        json!([audience, format!("{}userinfo", s.issuer)]),
    );
    claims.insert("azp".into(), json!(client.client_id));
    claims.insert("scope".into(), json!(scope));
    let sub = grant
        .user
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default();
    claims.insert("permissions".into(), json!(super::demo_permissions(sub)));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + lifetime));
    if let Some(jkt) = jkt {
        claims.insert("cnf".into(), json!({"jkt": jkt}));
    }
    let kid = lock(&s.active_kid).clone();
    s.keys[&kid].sign(&claims)
}

/// The ID token, signed, with whatever the behaviour overrides.
fn id_token(
    s: &Shared,
    client: &ClientRegistration,
    grant: &Grant,
    mut claims: Map<String, Value>,
    access_token: &str,
    b: &Behaviour,
) -> String {
    let now = unix_now();
    let issuer = b
        .issuer_override
        .clone()
        .unwrap_or_else(|| s.issuer.clone());
    claims.insert("iss".into(), json!(issuer));
    let audience = b
        .audience_override
        .clone()
        .unwrap_or_else(|| json!(client.client_id));
    claims.insert("aud".into(), audience);
    if let Some(azp) = &b.azp_override {
        claims.insert("azp".into(), json!(azp));
    }
    claims.insert("iat".into(), json!(now + b.iat_offset_secs));
    claims.insert("exp".into(), json!(now + b.id_token_lifetime_secs));
    claims.insert("auth_time".into(), json!(now + b.auth_time_offset_secs));
    if let Some(org) = grant
        .request
        .organization
        .as_ref()
        .filter(|_| !b.drop_org_claims)
    {
        // Like Auth0: org_id always, org_name too (an id asked for gets the demo org's name).
        let (id, name) = match org.strip_prefix("org_") {
            Some(_) => (org.clone(), "demo-org".to_string()),
            None => ("org_demo0123456789".to_string(), org.to_ascii_lowercase()),
        };
        claims.insert("org_id".into(), json!(id));
        claims.insert("org_name".into(), json!(name));
    }
    if let Some(acr) = grant
        .request
        .acr_values
        .as_deref()
        .and_then(|a| a.split(' ').next())
        .filter(|_| !b.ignore_acr_values)
    {
        claims.insert("acr".into(), json!(acr));
        claims.insert("amr".into(), json!(["pwd", "mfa"]));
    }
    if let Some(nonce) = b.nonce_override.clone().or(grant.request.nonce.clone()) {
        claims.insert("nonce".into(), json!(nonce));
    }
    let at_hash = b
        .at_hash_override
        .clone()
        .unwrap_or_else(|| keys::at_hash(access_token));
    claims.insert("at_hash".into(), json!(at_hash));
    let sid = random_token(32);
    if let Some(sub) = claims.get("sub").and_then(Value::as_str) {
        lock(&s.sessions).insert(sid.clone(), sub.to_string());
        *lock(&s.last_session) = Some((sid.clone(), sub.to_string()));
    }
    claims.insert("sid".into(), json!(sid));
    claims.retain(|k, _| !b.id_token_omits.contains(k));
    let kid = b
        .sign_with
        .clone()
        .unwrap_or_else(|| lock(&s.active_kid).clone());
    let key = &s.keys[&kid];
    let token = if b.omit_kid {
        key.sign_with_header(json!({"alg": "RS256", "typ": "JWT"}), &claims)
    } else {
        key.sign(&claims)
    };
    if b.tamper_id_token_signature {
        // Another first signature character: the same length, no longer the signature.
        let (signed, signature) = token.rsplit_once('.').unwrap_or((&token, ""));
        let first = if signature.starts_with('A') { 'B' } else { 'A' };
        return format!("{signed}.{first}{}", signature.get(1..).unwrap_or(""));
    }
    token
}

pub(super) async fn userinfo(State(s): State<Shared>, headers: HeaderMap) -> Response {
    s.userinfo_requests.fetch_add(1, Ordering::SeqCst);
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        // A DPoP-bound token comes with the DPoP scheme (and a proof, which the demo takes).
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("DPoP "))
        });
    match token.and_then(|t| lock(&s.access_tokens).get(t).cloned()) {
        Some(mut profile) => {
            if let Some(sub) = lock(&s.behaviour).userinfo_sub_override.clone() {
                profile.insert("sub".into(), json!(sub));
            }
            Json(profile).into_response()
        }
        None => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
            "invalid access token",
        )
            .into_response(),
    }
}

/// `POST /oauth/revoke` (RFC 7009), as Auth0's: the client authenticates; a known refresh token
/// is revoked (its later use is `invalid_grant`); the answer is 200 either way.
pub(super) async fn revoke(
    State(s): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let client = lock(&s.client).clone();
    if let Err((status, error, description)) =
        client_auth::authenticate(&s, &client, &headers, &form)
    {
        return oauth_error(status, error, &description);
    }
    if let Some(token) = form.get("token")
        && lock(&s.refresh_tokens).take(token).is_some()
    {
        s.revocations.fetch_add(1, Ordering::SeqCst);
    }
    StatusCode::OK.into_response()
}

/// Auth0's refresh token rotation: a live token is spent by its use; a spent one used again
/// within the overlap period still works; past it, the reuse is detected and the whole family
/// (every token of that login) is revoked. The grant to answer for, if any.
fn rotate(s: &Shared, token: Option<&str>) -> Option<Grant> {
    let token = token?;
    let now = unix_now();
    let grant = match lock(&s.refresh_tokens).take(token) {
        Some(grant) => {
            lock(&s.spent_refresh_tokens).insert(token.to_string(), (grant.clone(), now));
            grant
        }
        None => {
            let (grant, spent_at) = lock(&s.spent_refresh_tokens).get(token).cloned()?;
            let overlap = lock(&s.behaviour).rotation_overlap_secs;
            if now.saturating_sub(spent_at) >= overlap {
                if let Some(family) = &grant.family {
                    lock(&s.revoked_families).insert(family.clone());
                }
                s.reuse_detections.fetch_add(1, Ordering::SeqCst);
                return None;
            }
            grant
        }
    };
    let revoked = grant
        .family
        .as_ref()
        .is_some_and(|f| lock(&s.revoked_families).contains(f));
    (!revoked).then_some(grant)
}
