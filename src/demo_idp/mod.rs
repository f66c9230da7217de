//! A small OpenID provider in the crate, for `--demo` and the offline tests: discovery, an
//! authorize page (demo users or any name), a token endpoint that checks the client secret and
//! PKCE, JWKS, userinfo and end-session, on Auth0's paths. Tokens are signed with fixture keys
//! through openidconnect's own key types.
//!
//! It listens on loopback only, and tests can make it misbehave ([`Behaviour`]) so that every
//! failure the app handles is produced for real, over HTTP.

mod expiring;
pub mod keys;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use openidconnect::CsrfToken;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::Digest as _;

use crate::token_check::{text, unix_now};
use expiring::ExpiringMap;

/// How many of each record (sign-in pages, codes, access tokens) the provider keeps at most.
pub const MAX_RECORDS: usize = 256;
/// The longest value of any `/authorize` parameter: a 60 KB `state` is refused, not stored.
pub const MAX_PARAMETER_BYTES: usize = 2048;
const INTERACTION_TTL: std::time::Duration = std::time::Duration::from_secs(600);
const CODE_TTL: std::time::Duration = std::time::Duration::from_secs(300);
const ACCESS_TOKEN_TTL: std::time::Duration = std::time::Duration::from_secs(86_400);
use keys::{DEMO_KID_1, DEMO_KID_2, FOREIGN_KID, SigningKey};

/// The application registered at the provider.
#[derive(Debug, Clone)]
pub struct ClientRegistration {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
}

/// How the provider (mis)behaves. The default is a well-behaved provider.
#[derive(Debug, Clone)]
pub struct Behaviour {
    pub issuer_override: Option<String>,
    pub audience_override: Option<Value>,
    pub azp_override: Option<String>,
    /// Seconds from now until the ID token's `exp` (negative: already expired).
    pub id_token_lifetime_secs: i64,
    /// Added to `iat` (positive: issued "in the future", as with a fast provider clock).
    pub iat_offset_secs: i64,
    pub nonce_override: Option<String>,
    /// Sign with this fixture key instead of the active one (e.g. [`FOREIGN_KID`]).
    pub sign_with: Option<String>,
    /// Send this instead of a real ID token (malformed tokens).
    pub raw_id_token: Option<String>,
    /// Extra claims in the ID token and userinfo (an oversize profile).
    pub extra_claims: Map<String, Value>,
    /// Advertise `end_session_endpoint` in discovery (Auth0 does only when RP-initiated logout is on).
    pub advertise_end_session: bool,
    /// Report this `at_hash` instead of the real one.
    pub at_hash_override: Option<String>,
    /// RFC 9207: name this issuer in authorization answers instead of our own (a mix-up).
    pub response_iss_override: Option<String>,
    /// Leave `iss` out of authorization answers (while discovery still promises it).
    pub omit_response_iss: bool,
    /// Answer discovery with this status (an outage) instead of the document.
    pub discovery_status: Option<u16>,
    /// Answer the JWKS with this status instead of the keys.
    pub jwks_status: Option<u16>,
    /// Wait this long before answering the JWKS (a slow or hanging provider).
    pub jwks_delay_ms: u64,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            issuer_override: None,
            audience_override: None,
            azp_override: None,
            id_token_lifetime_secs: 3600,
            iat_offset_secs: 0,
            nonce_override: None,
            sign_with: None,
            raw_id_token: None,
            extra_claims: Map::new(),
            advertise_end_session: true,
            at_hash_override: None,
            response_iss_override: None,
            omit_response_iss: false,
            discovery_status: None,
            jwks_status: None,
            jwks_delay_ms: 0,
        }
    }
}

/// The demo users offered on the authorize page.
pub const DEMO_USERS: [(&str, &str, &str); 3] = [
    ("jane", "Jane Doe", "jane.doe@example.com"),
    ("raj", "Raj Patel", "raj.patel@example.com"),
    ("ana", "Ana García", "ana.garcia@example.com"),
];

#[derive(Debug, Clone)]
struct AuthRequest {
    redirect_uri: String,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: String,
    scope: String,
    audience: Option<String>,
}

#[derive(Debug, Clone)]
struct Grant {
    request: AuthRequest,
    user: Map<String, Value>,
}

struct IdpState {
    issuer: String,
    client: Mutex<ClientRegistration>,
    behaviour: Mutex<Behaviour>,
    active_kid: Mutex<String>,
    published_kids: Mutex<Vec<String>>,
    keys: HashMap<String, SigningKey>,
    interactions: Mutex<ExpiringMap<AuthRequest>>,
    codes: Mutex<ExpiringMap<Grant>>,
    access_tokens: Mutex<ExpiringMap<Map<String, Value>>>,
    jwks_fetches: AtomicUsize,
    discovery_fetches: AtomicUsize,
    /// Every request the provider answered (any path).
    requests: AtomicUsize,
    token_requests: AtomicUsize,
}

type Shared = Arc<IdpState>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicked test thread must not wedge the provider for the others.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running demo provider.
pub struct DemoProvider {
    addr: SocketAddr,
    state: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl DemoProvider {
    /// Starts on `addr` (port 0 for any), which must be a loopback address.
    pub async fn start(addr: SocketAddr, client: ClientRegistration) -> anyhow::Result<Self> {
        anyhow::ensure!(
            addr.ip().is_loopback(),
            "the demo provider signs in anyone and listens on loopback only, not {addr}"
        );
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let issuer = format!("http://{addr}/");
        let state = Arc::new(IdpState {
            issuer,
            client: Mutex::new(client),
            behaviour: Mutex::new(Behaviour::default()),
            active_kid: Mutex::new(DEMO_KID_1.to_string()),
            published_kids: Mutex::new(vec![DEMO_KID_1.to_string()]),
            keys: [DEMO_KID_1, DEMO_KID_2, FOREIGN_KID]
                .into_iter()
                .map(|kid| (kid.to_string(), SigningKey::fixture(kid)))
                .collect(),
            interactions: Mutex::new(ExpiringMap::new(INTERACTION_TTL, MAX_RECORDS)),
            codes: Mutex::new(ExpiringMap::new(CODE_TTL, MAX_RECORDS)),
            access_tokens: Mutex::new(ExpiringMap::new(ACCESS_TOKEN_TTL, MAX_RECORDS)),
            jwks_fetches: AtomicUsize::new(0),
            discovery_fetches: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
            token_requests: AtomicUsize::new(0),
        });
        let router = router(state.clone());
        let task = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, router).await {
                tracing::error!(error = %err, "demo provider stopped");
            }
        });
        Ok(Self { addr, state, task })
    }

    /// The issuer, `http://127.0.0.1:PORT/`: with a trailing slash, like Auth0's.
    pub fn issuer(&self) -> &str {
        &self.state.issuer
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn set_client(&self, client: ClientRegistration) {
        *lock(&self.state.client) = client;
    }

    /// Changes how the provider behaves from now on.
    pub fn behave(&self, change: impl FnOnce(&mut Behaviour)) {
        change(&mut lock(&self.state.behaviour));
    }

    /// Rotates the signing key: publishes `kid` and signs with it from now on.
    pub fn rotate_to(&self, kid: &str) {
        let mut published = lock(&self.state.published_kids);
        if !published.iter().any(|k| k == kid) {
            published.push(kid.to_string());
        }
        *lock(&self.state.active_kid) = kid.to_string();
    }

    pub fn jwks_fetch_count(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    pub fn discovery_fetch_count(&self) -> usize {
        self.state.discovery_fetches.load(Ordering::SeqCst)
    }

    /// How many sign-in pages, codes and access tokens the provider holds now.
    pub fn record_counts(&self) -> (usize, usize, usize) {
        (
            lock(&self.state.interactions).len(),
            lock(&self.state.codes).len(),
            lock(&self.state.access_tokens).len(),
        )
    }

    /// Requests of any kind the provider has answered: a page view must add none.
    pub fn request_count(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    pub fn token_request_count(&self) -> usize {
        self.state.token_requests.load(Ordering::SeqCst)
    }

    /// Signs claims with the active key, as the provider would (for API tokens in tests).
    pub fn sign(&self, claims: &Map<String, Value>) -> String {
        let kid = lock(&self.state.active_kid).clone();
        self.state.keys[&kid].sign(claims)
    }

    /// Stops listening (the provider "goes down").
    pub fn stop(self) {
        self.task.abort();
    }
}

fn router(state: Shared) -> Router {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/authorize", get(authorize))
        .route("/authorize/decision", post(decision))
        .route("/oauth/token", post(token))
        .route("/userinfo", get(userinfo))
        .route("/oidc/logout", get(end_session))
        .route("/v2/logout", get(v2_logout))
        .route("/avatar/{name}", get(avatar))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            |State(s): State<Shared>,
             request: axum::extract::Request,
             next: axum::middleware::Next| async move {
                s.requests.fetch_add(1, Ordering::SeqCst);
                next.run(request).await
            },
        ))
        .with_state(state)
}

async fn discovery(State(s): State<Shared>) -> Response {
    s.discovery_fetches.fetch_add(1, Ordering::SeqCst);
    let b = lock(&s.behaviour).clone();
    if let Some(status) = b.discovery_status {
        return failing_status(status);
    }
    let iss = &s.issuer;
    let mut doc = json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}authorize"),
        "token_endpoint": format!("{iss}oauth/token"),
        "userinfo_endpoint": format!("{iss}userinfo"),
        "jwks_uri": format!("{iss}.well-known/jwks.json"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "name", "nickname", "picture", "email", "email_verified"],
    });
    if b.advertise_end_session {
        doc["end_session_endpoint"] = json!(format!("{iss}oidc/logout"));
    }
    Json(doc).into_response()
}

fn failing_status(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, "Demo provider: failing on request").into_response()
}

async fn jwks(State(s): State<Shared>) -> Response {
    s.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let (status, delay) = {
        let b = lock(&s.behaviour);
        (b.jwks_status, b.jwks_delay_ms)
    };
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    if let Some(status) = status {
        return failing_status(status);
    }
    let kids = lock(&s.published_kids).clone();
    let set = openidconnect::core::CoreJsonWebKeySet::new(
        kids.iter().map(|k| s.keys[k].public_jwk()).collect(),
    );
    Json(serde_json::to_value(set).unwrap_or_default()).into_response()
}

/// A page the provider shows itself: it never redirects to an unregistered URI.
fn idp_error(status: StatusCode, what: &str) -> Response {
    (status, format!("Demo provider: {what}")).into_response()
}

fn redirect_with(uri: &str, params: &[(&str, &str)]) -> Response {
    match url::Url::parse(uri) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(params);
            Redirect::to(url.as_str()).into_response()
        }
        Err(_) => idp_error(StatusCode::BAD_REQUEST, "bad redirect_uri"),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "demo_idp/authorize.html")]
struct AuthorizePage {
    interaction: String,
    users: Vec<(String, String, String)>,
}

async fn authorize(State(s): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let client = lock(&s.client).clone();
    if let Some((name, _)) = q.iter().find(|(_, v)| v.len() > MAX_PARAMETER_BYTES) {
        return idp_error(
            StatusCode::BAD_REQUEST,
            &format!(
                "the {} parameter is longer than {MAX_PARAMETER_BYTES} bytes",
                text::quote(name)
            ),
        );
    }
    let get = |k: &str| q.get(k).cloned().filter(|v| !v.is_empty());
    if get("client_id").as_deref() != Some(client.client_id.as_str()) {
        return idp_error(StatusCode::BAD_REQUEST, "unknown client_id");
    }
    let Some(redirect_uri) = get("redirect_uri").filter(|r| client.redirect_uris.contains(r))
    else {
        return idp_error(
            StatusCode::BAD_REQUEST,
            "redirect_uri is not registered for this client (Allowed Callback URLs)",
        );
    };
    let state = get("state");
    let response_iss = response_iss(&s);
    let reject = |error: &str, description: &str| {
        let mut params = vec![("error", error), ("error_description", description)];
        if let Some(st) = &state {
            params.push(("state", st));
        }
        if let Some(iss) = &response_iss {
            params.push(("iss", iss));
        }
        redirect_with(&redirect_uri, &params)
    };
    if get("response_type").as_deref() != Some("code") {
        return reject("unsupported_response_type", "only code is supported");
    }
    if !get("scope")
        .unwrap_or_default()
        .split_whitespace()
        .any(|s| s == "openid")
    {
        return reject("invalid_scope", "openid is required");
    }
    let (Some(code_challenge), Some("S256")) = (
        get("code_challenge"),
        get("code_challenge_method").as_deref(),
    ) else {
        return reject("invalid_request", "PKCE with S256 is required");
    };
    let interaction = CsrfToken::new_random().secret().clone();
    lock(&s.interactions).insert(
        interaction.clone(),
        AuthRequest {
            redirect_uri,
            state,
            nonce: get("nonce"),
            code_challenge,
            scope: get("scope").unwrap_or_default(),
            audience: get("audience"),
        },
    );
    AuthorizePage {
        interaction,
        users: DEMO_USERS
            .iter()
            .map(|(id, name, email)| (id.to_string(), name.to_string(), email.to_string()))
            .collect(),
    }
    .into_response()
}

#[derive(Deserialize)]
struct Decision {
    interaction: String,
    user: Option<String>,
    name: Option<String>,
    cancel: Option<String>,
}

fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .filter_map(|c| {
            if c.is_ascii_alphanumeric() {
                Some(c.to_ascii_lowercase())
            } else if c == ' ' {
                Some('.')
            } else {
                None
            }
        })
        .collect();
    if s.is_empty() { "user".into() } else { s }
}

fn profile_for(
    issuer: &str,
    user: Option<&str>,
    free_name: Option<&str>,
) -> Option<Map<String, Value>> {
    let (id, name, email) = match (user, free_name.map(str::trim).filter(|n| !n.is_empty())) {
        (Some(id), _) => {
            let (id, name, email) = DEMO_USERS.iter().find(|(u, _, _)| *u == id)?;
            (id.to_string(), name.to_string(), email.to_string())
        }
        (None, Some(name)) => {
            let name: String = name.chars().take(80).collect();
            let id = slug(&name);
            (id.clone(), name, format!("{id}@example.com"))
        }
        (None, None) => return None,
    };
    let given = name.split_whitespace().next().unwrap_or(&name).to_string();
    let mut profile = Map::new();
    profile.insert("sub".into(), json!(format!("demo|{id}")));
    profile.insert("name".into(), json!(name));
    profile.insert("given_name".into(), json!(given));
    profile.insert("nickname".into(), json!(id));
    profile.insert(
        "picture".into(),
        json!(format!(
            "{issuer}avatar/{}.svg",
            URL_SAFE_NO_PAD.encode(name.as_bytes())
        )),
    );
    profile.insert("updated_at".into(), json!("2026-01-01T00:00:00.000Z"));
    profile.insert("email".into(), json!(email));
    profile.insert("email_verified".into(), json!(true));
    Some(profile)
}

async fn decision(State(s): State<Shared>, Form(d): Form<Decision>) -> Response {
    let Some(request) = lock(&s.interactions).take(&d.interaction) else {
        return idp_error(
            StatusCode::BAD_REQUEST,
            "this sign-in page has expired; start again from the app",
        );
    };
    let mut params: Vec<(&str, String)> = Vec::new();
    if d.cancel.is_some() {
        params.push(("error", "access_denied".into()));
        params.push(("error_description", "The user cancelled the login".into()));
    } else {
        let Some(user) = profile_for(&s.issuer, d.user.as_deref(), d.name.as_deref()) else {
            return idp_error(StatusCode::BAD_REQUEST, "pick a user or type a name");
        };
        let code = CsrfToken::new_random().secret().clone();
        lock(&s.codes).insert(
            code.clone(),
            Grant {
                request: request.clone(),
                user,
            },
        );
        params.push(("code", code));
    }
    if let Some(state) = &request.state {
        params.push(("state", state.clone()));
    }
    if let Some(iss) = response_iss(&s) {
        params.push(("iss", iss));
    }
    let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut response = redirect_with(&request.redirect_uri, &borrowed);
    *response.status_mut() = StatusCode::SEE_OTHER;
    response
}

/// The `iss` an authorization answer carries (RFC 9207), as the behaviour says.
fn response_iss(s: &Shared) -> Option<String> {
    let b = lock(&s.behaviour);
    if b.omit_response_iss {
        return None;
    }
    Some(
        b.response_iss_override
            .clone()
            .unwrap_or_else(|| s.issuer.clone()),
    )
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

fn client_credentials(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Option<(String, String)> {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Basic "))
    {
        let decoded = String::from_utf8(STANDARD.decode(basic).ok()?).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        let dec = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
        };
        return Some((dec(id)?, dec(secret)?));
    }
    Some((
        form.get("client_id")?.clone(),
        form.get("client_secret")?.clone(),
    ))
}

async fn token(
    State(s): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    s.token_requests.fetch_add(1, Ordering::SeqCst);
    let client = lock(&s.client).clone();
    match client_credentials(&headers, &form) {
        Some((id, secret)) if id == client.client_id && secret == client.client_secret => {}
        _ => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client authentication failed",
            );
        }
    }
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only authorization_code",
        );
    }
    let Some(grant) = form.get("code").and_then(|c| lock(&s.codes).take(c)) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "unknown or already used code",
        );
    };
    if form.get("redirect_uri") != Some(&grant.request.redirect_uri) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "redirect_uri does not match the authorization request",
        );
    }
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    if URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
        != grant.request.code_challenge
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "PKCE verification failed",
        );
    }

    let b = lock(&s.behaviour).clone();
    let now = unix_now();
    let scopes: Vec<&str> = grant.request.scope.split_whitespace().collect();
    let mut profile = Map::new();
    for (k, v) in &grant.user {
        let wanted = match k.as_str() {
            "sub" => true,
            "email" | "email_verified" => scopes.contains(&"email"),
            _ => scopes.contains(&"profile"),
        };
        if wanted {
            profile.insert(k.clone(), v.clone());
        }
    }
    profile.extend(b.extra_claims.clone());
    let sub = grant.user.get("sub").cloned().unwrap_or_default();

    let access_token = match &grant.request.audience {
        // Like Auth0: a JWT access token only when an API audience was asked for.
        Some(audience) => {
            let mut claims = Map::new();
            claims.insert("iss".into(), json!(s.issuer));
            claims.insert("sub".into(), sub.clone());
            claims.insert(
                "aud".into(),
                json!([audience, format!("{}userinfo", s.issuer)]),
            );
            claims.insert("azp".into(), json!(client.client_id));
            claims.insert("scope".into(), json!(grant.request.scope));
            claims.insert("iat".into(), json!(now));
            claims.insert("exp".into(), json!(now + 86400));
            let kid = lock(&s.active_kid).clone();
            s.keys[&kid].sign(&claims)
        }
        None => CsrfToken::new_random().secret().clone(),
    };
    lock(&s.access_tokens).insert(access_token.clone(), profile.clone());

    let id_token = match b.raw_id_token {
        Some(raw) => raw,
        None => {
            let mut claims = profile.clone();
            claims.insert(
                "iss".into(),
                json!(
                    b.issuer_override
                        .clone()
                        .unwrap_or_else(|| s.issuer.clone())
                ),
            );
            claims.insert(
                "aud".into(),
                b.audience_override
                    .clone()
                    .unwrap_or_else(|| json!(client.client_id)),
            );
            if let Some(azp) = &b.azp_override {
                claims.insert("azp".into(), json!(azp));
            }
            claims.insert("iat".into(), json!(now + b.iat_offset_secs));
            claims.insert("exp".into(), json!(now + b.id_token_lifetime_secs));
            claims.insert("auth_time".into(), json!(now));
            if let Some(nonce) = b.nonce_override.clone().or(grant.request.nonce.clone()) {
                claims.insert("nonce".into(), json!(nonce));
            }
            claims.insert(
                "at_hash".into(),
                json!(
                    b.at_hash_override
                        .clone()
                        .unwrap_or_else(|| keys::at_hash(&access_token))
                ),
            );
            claims.insert("sid".into(), json!(CsrfToken::new_random().secret()));
            let kid = b
                .sign_with
                .clone()
                .unwrap_or_else(|| lock(&s.active_kid).clone());
            s.keys[&kid].sign(&claims)
        }
    };
    let mut body = json!({
        "access_token": access_token,
        "id_token": id_token,
        "token_type": "Bearer",
        "expires_in": 86400,
        "scope": grant.request.scope,
    });
    if scopes.contains(&"offline_access") {
        body["refresh_token"] = json!(CsrfToken::new_random().secret());
    }
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        Json(body),
    )
        .into_response()
}

async fn userinfo(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "));
    match token.and_then(|t| lock(&s.access_tokens).get(t).cloned()) {
        Some(profile) => Json(profile).into_response(),
        None => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
            "invalid access token",
        )
            .into_response(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "demo_idp/logged_out.html")]
struct LoggedOutPage;

fn logout_to(s: &Shared, target: Option<&String>) -> Response {
    let client = lock(&s.client).clone();
    match target {
        Some(uri) if client.post_logout_redirect_uris.contains(uri) => {
            Redirect::to(uri).into_response()
        }
        Some(_) => idp_error(
            StatusCode::BAD_REQUEST,
            "that logout return URL is not registered (Allowed Logout URLs)",
        ),
        None => LoggedOutPage.into_response(),
    }
}

async fn end_session(
    State(s): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    logout_to(&s, q.get("post_logout_redirect_uri"))
}

async fn v2_logout(State(s): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    logout_to(&s, q.get("returnTo"))
}

/// An avatar with the user's initials, so demo profiles have a picture without the internet.
async fn avatar(Path(name): Path<String>) -> Response {
    let encoded = name.trim_end_matches(".svg");
    let name = URL_SAFE_NO_PAD
        .decode(encoded)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default();
    let initials: String = name
        .split_whitespace()
        .filter_map(|w| w.chars().next())
        .filter(|c| c.is_alphanumeric())
        .take(2)
        .collect::<String>()
        .to_uppercase();
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96"><rect width="96" height="96" fill="#635dff"/><text x="48" y="60" font-size="36" text-anchor="middle" fill="#fff" font-family="sans-serif">{initials}</text></svg>"##
    );
    ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response()
}
