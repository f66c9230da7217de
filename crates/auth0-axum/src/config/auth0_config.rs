//! [`Auth0Config`]: everything the library needs, parsed once, with every problem reported at once.

use std::net::SocketAddr;

use super::{
    AppSettings, ClientCredentials, ConfigErrors, Mode, Secret, TenantSettings, load_dotenv, parse,
};
use crate::hooks::{CallbackHook, LoginCompleted, SessionClaims};

/// The configuration: this app (where browsers reach it, its session key, what logins ask for,
/// where sessions are kept) and the Auth0 tenant it logs users in with.
///
/// Read it from the environment with [`Auth0Config::from_env`] (the settings `.env.example`
/// documents), or from any source of the same names with [`Auth0Config::from_lookup`]; then
/// adjust it in code with the `with_*` methods.
///
/// ```
/// use auth0_axum::Auth0Config;
/// let config = Auth0Config::from_lookup(|name| match name {
///     "AUTH0_DOMAIN" => Some("dev-abc123.us.auth0.com".into()),
///     "AUTH0_CLIENT_ID" => Some("my-client-id".into()),
///     "AUTH0_CLIENT_SECRET" => Some("my-client-secret".into()),
///     "APP_SECRET_KEY" => Some("3f1c9a7be24d5086f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7a8".into()),
///     "APP_BASE_URL" => Some("https://shop.example.com".into()),
///     _ => None,
/// })
/// .expect("a valid configuration");
/// assert_eq!(config.callback_url(), "https://shop.example.com/callback");
///
/// // Every problem at once, each with its fix:
/// let errors = Auth0Config::from_lookup(|_| None).unwrap_err();
/// assert!(errors.variables().contains(&"AUTH0_DOMAIN"));
/// assert!(errors.variables().contains(&"APP_SECRET_KEY"));
/// ```
#[derive(Clone)]
pub struct Auth0Config {
    pub(crate) app: AppSettings,
    pub(crate) tenant: TenantSettings,
    pub(crate) demo: bool,
    pub(crate) session_claims: SessionClaims,
    pub(crate) on_callback: Option<CallbackHook>,
}

impl std::fmt::Debug for Auth0Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth0Config")
            .field("app", &self.app)
            .field("tenant", &self.tenant)
            .field("demo", &self.demo)
            .field("session_claims", &self.session_claims)
            .field("on_callback", &self.on_callback.as_ref().map(|_| "..."))
            .finish()
    }
}

impl Auth0Config {
    /// From `.env` (the working directory's, or the nearest parent's; a broken line is reported
    /// by number and key, never its value) and the process environment, which wins over `.env`.
    pub fn from_env() -> Result<Self, ConfigErrors> {
        load_dotenv()?;
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// From any lookup of the same names as the environment (`AUTH0_DOMAIN`, `APP_SECRET_KEY`...),
    /// e.g. a map in a test. Every problem is collected, each with what to do about it.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigErrors> {
        match (
            AppSettings::from_lookup(Mode::Tenant, &lookup),
            TenantSettings::from_lookup(&lookup),
        ) {
            (Ok(app), Ok(tenant)) => Ok(Self::new(app, tenant, false)),
            (app, tenant) => Err(ConfigErrors(
                app.err()
                    .into_iter()
                    .chain(tenant.err())
                    .flat_map(|e| e.0)
                    .collect(),
            )),
        }
    }

    /// For a local test provider (the starter's `--demo`): this app's settings from `lookup`,
    /// with `APP_SECRET_KEY` optional (a random key: sessions end with the process) and `HOST`
    /// loopback only. The tenant is set afterwards with [`Auth0Config::with_tenant`], once the
    /// provider knows this app's callback URL.
    pub fn for_local_provider(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigErrors> {
        let app = AppSettings::from_lookup(Mode::Demo, &lookup)?;
        // A signing key set for the demo (to try private_key_jwt) is kept for `with_tenant`.
        let get = |key: &str| lookup(key).filter(|v| !v.trim().is_empty());
        let credentials = match ClientCredentials::assertion_key(&get) {
            Some(Ok(key)) => key,
            Some(Err(problem)) => return Err(ConfigErrors(vec![problem])),
            None if parse::security_profile(get("AUTH0_SECURITY_PROFILE")).unwrap_or(false) => {
                return Err(ConfigErrors(vec![parse::fapi2_needs_key()]));
            }
            None => ClientCredentials::Secret(Secret::new("")),
        };
        // Unusable until `with_tenant`: the discard port, no client.
        let tenant = TenantSettings {
            provider_base: url::Url::parse("http://127.0.0.1:9/").expect("a constant URL"),
            client_id: String::new(),
            credentials,
        };
        Ok(Self::new(app, tenant, true))
    }

    fn new(app: AppSettings, tenant: TenantSettings, demo: bool) -> Self {
        let session_claims = SessionClaims::default().with_extra(app.roles_claim.iter().cloned());
        Self {
            app,
            tenant,
            demo,
            session_claims,
            on_callback: None,
        }
    }

    /// The tenant, from values: its domain (`dev-abc123.us.auth0.com`, or a URL such as
    /// `http://127.0.0.1:4000` for a local provider) and this app's client id and secret there.
    pub fn with_tenant(
        mut self,
        domain: &str,
        client_id: &str,
        client_secret: &str,
    ) -> Result<Self, ConfigErrors> {
        let lookup = |key: &str| match key {
            "AUTH0_DOMAIN" => Some(domain.to_string()),
            "AUTH0_CLIENT_ID" => Some(client_id.to_string()),
            "AUTH0_CLIENT_SECRET" => Some(client_secret.to_string()),
            _ => None,
        };
        let kept = match &self.tenant.credentials {
            ClientCredentials::PrivateKeyJwt(key) => {
                Some(ClientCredentials::PrivateKeyJwt(key.clone()))
            }
            ClientCredentials::Secret(_) => None,
        };
        self.tenant = TenantSettings::from_lookup(&lookup)?;
        if let Some(key) = kept {
            self.tenant.credentials = key;
        }
        Ok(self)
    }

    /// With Private Key JWT (`AUTH0_CLIENT_ASSERTION_SIGNING_KEY`), the public half of the key
    /// as a JWK: what the tenant verifies client assertions with (the starter's `--demo` registers
    /// it at the demo provider). `None` with a client secret.
    ///
    /// ```
    /// # let config = auth0_axum::Auth0Config::from_lookup(|k| match k {
    /// #     "AUTH0_DOMAIN" => Some("dev-abc123.us.auth0.com".into()),
    /// #     "AUTH0_CLIENT_ID" => Some("c".into()),
    /// #     "AUTH0_CLIENT_SECRET" => Some("s".into()),
    /// #     "APP_SECRET_KEY" => Some("3f1c9a7be24d5086f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7a8".into()),
    /// #     _ => None,
    /// # }).unwrap();
    /// assert!(config.client_assertion_jwk().is_none()); // a client secret
    /// ```
    pub fn client_assertion_jwk(&self) -> Option<serde_json::Value> {
        match &self.tenant.credentials {
            ClientCredentials::PrivateKeyJwt(key) => Some(key.public_jwk()),
            ClientCredentials::Secret(_) => None,
        }
    }

    /// Where [`crate::Auth0::router`] is mounted when it is nested (`Router::nest("/auth", ...)`):
    /// the callback URL, the login redirects and the logout form follow. Default: the root.
    ///
    /// ```
    /// # let config = auth0_axum::Auth0Config::from_lookup(|k| match k {
    /// #     "AUTH0_DOMAIN" => Some("t.auth0.com".into()), "AUTH0_CLIENT_ID" => Some("c".into()),
    /// #     "AUTH0_CLIENT_SECRET" => Some("s".into()),
    /// #     "APP_SECRET_KEY" => Some("3f1c9a7be24d5086f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7a8".into()),
    /// #     _ => None }).unwrap();
    /// let config = config.with_routes_at("/auth").expect("a path");
    /// assert_eq!(config.callback_url(), "http://localhost:3000/auth/callback");
    /// ```
    pub fn with_routes_at(mut self, prefix: &str) -> Result<Self, ConfigErrors> {
        self.app.routes_at = parse::routes_prefix(prefix).map_err(|p| ConfigErrors(vec![p]))?;
        Ok(self)
    }

    /// Which ID-token claims the session keeps (the profile pages and [`crate::User::claim`]
    /// see): by default [`SessionClaims::all`]; with a list, `AUTH0_ROLES_CLAIM` is kept too.
    pub fn with_session_claims(mut self, claims: SessionClaims) -> Self {
        self.session_claims = claims.with_extra(self.app.roles_claim.iter().cloned());
        self
    }

    /// Called at `/callback` after every check passed, before the session is saved: it may refuse
    /// the login with a page (return an [`crate::AuthError`]), add app data to the session
    /// ([`LoginCompleted::set_app_data`]) or choose where the browser goes
    /// ([`LoginCompleted::set_return_to`], a path on this site).
    ///
    /// ```
    /// # let config = auth0_axum::Auth0Config::from_lookup(|k| match k {
    /// #     "AUTH0_DOMAIN" => Some("t.auth0.com".into()), "AUTH0_CLIENT_ID" => Some("c".into()),
    /// #     "AUTH0_CLIENT_SECRET" => Some("s".into()),
    /// #     "APP_SECRET_KEY" => Some("3f1c9a7be24d5086f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7a8".into()),
    /// #     _ => None }).unwrap();
    /// use auth0_axum::AuthError;
    /// use axum::http::StatusCode;
    /// let config = config.on_callback(|mut login| async move {
    ///     if login.claim("email_verified") == Some(&serde_json::Value::Bool(false)) {
    ///         return Err(AuthError::new(StatusCode::FORBIDDEN, "email_unverified",
    ///             "Please verify your email first", "We sent you a link."));
    ///     }
    ///     login.set_app_data("plan", "free".into());
    ///     Ok(login)
    /// });
    /// ```
    pub fn on_callback<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(LoginCompleted) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<LoginCompleted, crate::AuthError>> + Send + 'static,
    {
        self.on_callback = Some(CallbackHook::new(hook));
        self
    }

    /// Where the server listens (`HOST`, `PORT`).
    pub fn bind(&self) -> SocketAddr {
        self.app.bind
    }

    /// `APP_BASE_URL` without a trailing slash: where browsers reach the app.
    pub fn base_url(&self) -> &str {
        self.app.base_url.as_str()
    }

    /// `APP_BASE_URL`'s path, without a trailing slash: `""` at the root, `/app` under a sub-path.
    /// Links to the app's own pages start with it.
    pub fn base_path(&self) -> &str {
        self.app.base_url.path()
    }

    /// An app path (`/profile`) as browsers see it: under `APP_BASE_URL`'s path, if it has one.
    pub fn browser_path(&self, path: &str) -> String {
        self.app.base_url.browser_path(path)
    }

    /// The redirect URI the provider must allow (Auth0: Allowed Callback URLs).
    pub fn callback_url(&self) -> String {
        self.app.callback_url()
    }

    /// Where the provider returns the browser after logout (Auth0: Allowed Logout URLs).
    pub fn post_logout_url(&self) -> String {
        self.app.base_url.post_logout().to_string()
    }

    /// Where the provider posts logout tokens (Auth0: Back-Channel Logout URI).
    pub fn backchannel_logout_url(&self) -> String {
        self.app.route_url("/backchannel-logout")
    }

    /// The provider's base URL (`https://TENANT/`), e.g. for a Content-Security-Policy.
    pub fn provider_url(&self) -> &str {
        self.tenant.provider_base.as_str()
    }

    /// `AUTH0_AUDIENCE`: the API whose access tokens logins ask for, and the bearer API accepts.
    pub fn audience(&self) -> Option<&str> {
        self.app.audience.as_deref()
    }

    /// `API_URL`: the API an app's "call the API" page calls with the user's access token.
    pub fn api_url(&self) -> Option<&str> {
        self.app.api_url.as_ref().map(url::Url::as_str)
    }

    /// Built by [`Auth0Config::for_local_provider`]: against a local test provider, not Auth0.
    pub fn is_demo(&self) -> bool {
        self.demo
    }
}
