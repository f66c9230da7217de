//! A small OpenID provider, for `--demo` and the offline tests: discovery, an
//! authorize page (demo users or any name), a token endpoint that checks the client secret and
//! PKCE, JWKS, userinfo and end-session, on Auth0's paths. Tokens are signed with fixture keys
//! through openidconnect's own key types.
//!
//! It listens on loopback only, and tests can make it misbehave ([`Behaviour`]) so that every
//! failure the app handles is produced for real, over HTTP.

mod authorize;
mod behaviour;
mod client_auth;
mod dpop;
mod expiring;
pub mod keys;
mod logout;
mod routes;
pub mod sessions;
mod token;
mod util;

pub use behaviour::Behaviour;
use routes::router;
pub(crate) use routes::{idp_error, redirect_with};

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use expiring::ExpiringMap;

/// How many of each record (sign-in pages, codes, access tokens) the provider keeps at most.
pub const MAX_RECORDS: usize = 256;
/// The longest value of any `/authorize` parameter: a 60 KB `state` is refused, not stored.
pub const MAX_PARAMETER_BYTES: usize = 2048;
const INTERACTION_TTL: std::time::Duration = std::time::Duration::from_secs(600);
const CODE_TTL: std::time::Duration = std::time::Duration::from_secs(300);
/// A pushed authorization request's `request_uri` lives 30 s, as Auth0's does.
const PAR_TTL: std::time::Duration = std::time::Duration::from_secs(30);
const ACCESS_TOKEN_TTL: std::time::Duration = std::time::Duration::from_secs(86_400);
const REFRESH_TOKEN_TTL: std::time::Duration = std::time::Duration::from_secs(30 * 86_400);

/// The permissions each demo user's access tokens carry (Auth0 RBAC, "Add Permissions in the
/// Access Token"): Jane may read messages, the others may not.
pub fn demo_permissions(sub: &str) -> Vec<&'static str> {
    if sub == "demo|jane" {
        vec!["read:messages"]
    } else {
        Vec::new()
    }
}
use keys::{DEMO_KID_1, DEMO_KID_2, FOREIGN_KID, SigningKey};

/// What an app needs to use the demo provider: its issuer and the client registered for the app.
#[derive(Debug, Clone)]
pub struct DemoTenant {
    /// The provider's base URL (`http://127.0.0.1:PORT/`), its issuer.
    pub issuer: String,
    /// The registered client's id.
    pub client_id: String,
    /// The registered client's secret, fresh each start.
    pub client_secret: String,
}

/// Starts the demo provider on loopback for an app with these URLs, registered with a fresh
/// secret; returns the provider (it stops when dropped) and what the app needs to use it.
pub async fn start_for(
    redirect_uri: String,
    post_logout_redirect_uri: String,
    backchannel_logout_uri: String,
) -> anyhow::Result<(DemoProvider, DemoTenant)> {
    let secret = util::random_token(32);
    let registration = ClientRegistration {
        client_id: "demo-client".into(),
        client_secret: secret.clone(),
        redirect_uris: vec![redirect_uri],
        post_logout_redirect_uris: vec![post_logout_redirect_uri],
        backchannel_logout_uri: Some(backchannel_logout_uri),
        client_assertion_jwk: None,
    };
    let provider = DemoProvider::start(SocketAddr::from(([127, 0, 0, 1], 0)), registration)
        .await
        .map_err(|e| e.context("The demo provider could not start"))?;
    // Short-lived access tokens on request, to watch refreshes happen in demo mode.
    if let Some(secs) = std::env::var("DEMO_TOKEN_SECONDS")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
    {
        provider.behave(|b| b.access_token_lifetime_secs = secs.clamp(1, 86_400));
    }
    tracing::info!(issuer = provider.issuer(), "demo provider listening");
    let tenant = DemoTenant {
        issuer: provider.issuer().to_string(),
        client_id: "demo-client".into(),
        client_secret: secret,
    };
    Ok((provider, tenant))
}

/// The application registered at the provider.
#[derive(Debug, Clone)]
pub struct ClientRegistration {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// Where the provider POSTs logout tokens (Auth0: "Back-Channel Logout URI").
    pub backchannel_logout_uri: Option<String>,
    /// The public key (a JWK) of the application's Private Key JWT credential: when set, the
    /// token endpoint takes only signed client assertions, never the secret.
    pub client_assertion_jwk: Option<Value>,
}

/// The demo users offered on the authorize page.
pub const DEMO_USERS: [(&str, &str, &str); 3] = [
    ("jane", "Jane Doe", "jane.doe@example.com"),
    ("raj", "Raj Patel", "raj.patel@example.com"),
    ("ana", "Ana García", "ana.garcia@example.com"),
];

#[derive(Debug, Clone)]
pub(crate) struct AuthRequest {
    redirect_uri: String,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: String,
    scope: String,
    audience: Option<String>,
    /// `organization` as asked: the ID token is for it (`org_id`, `org_name`), as Auth0's is.
    organization: Option<String>,
    acr_values: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Grant {
    request: AuthRequest,
    user: Map<String, Value>,
    /// The refresh-token family (rotation): the first refresh token of the login.
    family: Option<String>,
}

struct IdpState {
    issuer: String,
    client: Mutex<ClientRegistration>,
    behaviour: Mutex<Behaviour>,
    active_kid: Mutex<String>,
    published_kids: Mutex<Vec<String>>,
    keys: HashMap<String, SigningKey>,
    interactions: Mutex<ExpiringMap<AuthRequest>>,
    /// Pushed authorization requests (RFC 9126), by `request_uri`: their parameters, used once.
    pushed: Mutex<ExpiringMap<HashMap<String, String>>>,
    par_requests: AtomicUsize,
    /// Refresh tokens revoked at `/oauth/revoke`.
    revocations: AtomicUsize,
    /// Refresh tokens already used (rotation), with when: a reuse past the overlap period is
    /// Auth0's reuse detection, which revokes the whole family.
    spent_refresh_tokens: Mutex<ExpiringMap<(Grant, i64)>>,
    revoked_families: Mutex<std::collections::HashSet<String>>,
    reuse_detections: AtomicUsize,
    codes: Mutex<ExpiringMap<Grant>>,
    access_tokens: Mutex<ExpiringMap<Map<String, Value>>>,
    /// Refresh token -> what it renews; each is usable once (rotation).
    refresh_tokens: Mutex<ExpiringMap<Grant>>,
    refresh_requests: AtomicUsize,
    jwks_fetches: AtomicUsize,
    discovery_fetches: AtomicUsize,
    /// Every request the provider answered (any path).
    requests: AtomicUsize,
    token_requests: AtomicUsize,
    /// The provider's sessions, by `sid`: whose they are (`sub`), for back-channel logout.
    sessions: Mutex<ExpiringMap<String>>,
    /// The newest session (`sid`, `sub`).
    last_session: Mutex<Option<(String, String)>>,
    /// The size of the last ID token issued.
    last_id_token_bytes: AtomicUsize,
    userinfo_requests: AtomicUsize,
    /// How the client last authenticated at the token endpoint (`client_secret_basic`, ...).
    last_client_auth: Mutex<Option<&'static str>>,
    /// Client assertions' `jti`s, each usable once.
    used_assertion_jtis: Mutex<std::collections::HashSet<String>>,
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
            pushed: Mutex::new(ExpiringMap::new(PAR_TTL, MAX_RECORDS)),
            par_requests: AtomicUsize::new(0),
            revocations: AtomicUsize::new(0),
            spent_refresh_tokens: Mutex::new(ExpiringMap::new(REFRESH_TOKEN_TTL, MAX_RECORDS)),
            revoked_families: Mutex::new(std::collections::HashSet::new()),
            reuse_detections: AtomicUsize::new(0),
            codes: Mutex::new(ExpiringMap::new(CODE_TTL, MAX_RECORDS)),
            access_tokens: Mutex::new(ExpiringMap::new(ACCESS_TOKEN_TTL, MAX_RECORDS)),
            refresh_tokens: Mutex::new(ExpiringMap::new(REFRESH_TOKEN_TTL, MAX_RECORDS)),
            refresh_requests: AtomicUsize::new(0),
            jwks_fetches: AtomicUsize::new(0),
            discovery_fetches: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
            token_requests: AtomicUsize::new(0),
            sessions: Mutex::new(ExpiringMap::new(ACCESS_TOKEN_TTL, MAX_RECORDS)),
            last_session: Mutex::new(None),
            last_id_token_bytes: AtomicUsize::new(0),
            userinfo_requests: AtomicUsize::new(0),
            last_client_auth: Mutex::new(None),
            used_assertion_jtis: Mutex::new(std::collections::HashSet::new()),
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

    /// Publishes `kid` too, without signing with it (a key set of several keys).
    pub fn publish(&self, kid: &str) {
        let mut published = lock(&self.state.published_kids);
        if !published.iter().any(|k| k == kid) {
            published.push(kid.to_string());
        }
    }

    /// How many times a spent refresh token was used again past the overlap period (Auth0's
    /// reuse detection: the token's family was revoked).
    pub fn reuse_detection_count(&self) -> usize {
        self.state.reuse_detections.load(Ordering::SeqCst)
    }

    /// How many refresh tokens were revoked (RFC 7009, `/oauth/revoke`).
    pub fn revocation_count(&self) -> usize {
        self.state.revocations.load(Ordering::SeqCst)
    }

    /// How many pushed authorization requests were made.
    pub fn par_count(&self) -> usize {
        self.state.par_requests.load(Ordering::SeqCst)
    }

    /// The application's authentication method becomes Private Key JWT with this public key
    /// (a JWK): the token endpoint then takes only client assertions it signed.
    pub fn accept_client_assertions(&self, jwk: Value) {
        lock(&self.state.client).client_assertion_jwk = Some(jwk);
    }

    /// How the client last authenticated at the token endpoint: `client_secret_basic`,
    /// `client_secret_post`, `private_key_jwt` or `none`.
    pub fn last_client_auth(&self) -> Option<&'static str> {
        *lock(&self.state.last_client_auth)
    }

    pub fn jwks_fetch_count(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    pub fn discovery_fetch_count(&self) -> usize {
        self.state.discovery_fetches.load(Ordering::SeqCst)
    }

    /// Refresh-token grants the provider has answered (successful or not).
    pub fn refresh_count(&self) -> usize {
        self.state.refresh_requests.load(Ordering::SeqCst)
    }

    /// Revokes every refresh token (as an administrator, or Auth0's reuse detection, would).
    pub fn revoke_refresh_tokens(&self) {
        *lock(&self.state.refresh_tokens) = ExpiringMap::new(REFRESH_TOKEN_TTL, MAX_RECORDS);
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

    /// The size in bytes of the last ID token the provider issued.
    pub fn last_id_token_bytes(&self) -> usize {
        self.state.last_id_token_bytes.load(Ordering::SeqCst)
    }

    /// The newest session at the provider: its `sid` and its user's `sub`.
    pub fn last_session(&self) -> Option<(String, String)> {
        lock(&self.state.last_session).clone()
    }

    /// Requests to `/userinfo`.
    pub fn userinfo_count(&self) -> usize {
        self.state.userinfo_requests.load(Ordering::SeqCst)
    }

    pub fn token_request_count(&self) -> usize {
        self.state.token_requests.load(Ordering::SeqCst)
    }

    /// The claims of a valid logout token for this session and user, to send as they are or with
    /// one flaw (tests).
    pub fn logout_claims(&self, sid: Option<&str>, sub: Option<&str>) -> Map<String, Value> {
        sessions::logout_claims(&self.state, sid, sub)
    }

    /// Signs logout-token claims with the active key (`typ: logout+jwt`).
    pub fn sign_logout_token(&self, claims: &Map<String, Value>) -> String {
        sessions::sign_logout_token(&self.state, claims)
    }

    /// POSTs a logout token to the app's back-channel logout URI: the app's status and body.
    pub async fn send_logout_token(&self, token: &str) -> Result<(u16, String), String> {
        sessions::send(&self.state, token).await
    }

    /// Ends this session at the provider and tells the app, as `/demo/sessions` does.
    pub async fn end_session(&self, sid: &str) -> Result<(u16, String), String> {
        let sub = lock(&self.state.sessions)
            .take(sid)
            .ok_or_else(|| format!("no session {sid} at the provider"))?;
        let claims = sessions::logout_claims(&self.state, Some(sid), Some(&sub));
        sessions::send(
            &self.state,
            &sessions::sign_logout_token(&self.state, &claims),
        )
        .await
    }

    /// Signs claims with the active key, as the provider would (for API tokens in tests).
    pub fn sign(&self, claims: &Map<String, Value>) -> String {
        let kid = lock(&self.state.active_kid).clone();
        self.state.keys[&kid].sign(claims)
    }

    /// Stops listening (the provider "goes down"); dropping it does the same.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for DemoProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}
