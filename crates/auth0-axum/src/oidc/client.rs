//! [`LoginClient`]: this app as registered at the provider (its credentials and URLs). The
//! protocol's verbs are in `login` (authorize, code exchange, logout), `refresh` and `userinfo`.

use std::sync::Arc;

use serde::Deserialize;
use url::Url;

use super::Provider;
use super::single_flight::RefreshFlights;
use crate::config::{AppSettings, ClientCredentials, TenantSettings, UserinfoSetting};

/// An OAuth error answer (`error`, `error_description`).
#[derive(Deserialize)]
pub(super) struct OAuthError {
    pub(super) error: String,
    #[serde(default)]
    pub(super) error_description: String,
}

/// This app, registered at the provider: the protocol's verbs.
pub struct LoginClient {
    pub(super) provider: Arc<Provider>,
    pub(super) provider_base: Url,
    pub(super) client_id: String,
    pub(super) credentials: ClientCredentials,
    pub(super) redirect_uri: String,
    pub(super) post_logout_uri: String,
    pub(super) scope: String,
    pub(super) userinfo: UserinfoSetting,
    pub(super) audience: Option<String>,
    pub(super) refreshes: RefreshFlights,
    /// Push the authorization parameters (RFC 9126) instead of putting them in the URL.
    pub(super) use_par: bool,
    /// DPoP (RFC 9449): the key token requests and API calls prove possession of.
    pub(super) dpop: Option<std::sync::Arc<crate::dpop::DpopClient>>,
    /// Every authorization response must carry `iss` (RFC 9207; FAPI 2.0).
    pub(super) require_response_iss: bool,
    /// When the token endpoint last hung or could not be reached at a refresh, and why.
    pub(super) token_outage: std::sync::Mutex<Option<(std::time::Instant, String)>>,
}

impl LoginClient {
    pub fn new(provider: Arc<Provider>, tenant: &TenantSettings, app: &AppSettings) -> Self {
        Self {
            provider,
            provider_base: tenant.provider_base.clone(),
            client_id: tenant.client_id.clone(),
            credentials: tenant.credentials.clone(),
            redirect_uri: app.callback_url(),
            post_logout_uri: app.base_url.post_logout().to_string(),
            scope: app.scope.clone(),
            audience: app.audience.clone(),
            userinfo: app.userinfo,
            refreshes: RefreshFlights::default(),
            use_par: app.pushed_authorization_requests,
            dpop: app.dpop.clone(),
            require_response_iss: app.require_response_iss,
            token_outage: std::sync::Mutex::new(None),
        }
    }

    /// The DPoP key, when DPoP is on.
    pub fn dpop(&self) -> Option<&std::sync::Arc<crate::dpop::DpopClient>> {
        self.dpop.as_ref()
    }

    pub fn provider(&self) -> &Arc<Provider> {
        &self.provider
    }
}
