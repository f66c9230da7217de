//! What the auth routes and extractors share: the configuration, the login client (and through it
//! the provider), the process's memory of answered logins, and the session store. [`crate::Auth0`]
//! is the public handle to it.

use std::sync::Arc;

use crate::config::Auth0Config;
use crate::oidc::LoginClient;
use crate::session::SessionBackend;

pub(crate) struct AppContext {
    pub config: Auth0Config,
    pub oidc: LoginClient,
    /// What the instances share: answered states, used DPoP proofs, ended sessions (in Redis,
    /// or in this process).
    pub shared: crate::shared::Shared,
    /// Where sessions are kept (`SESSION_STORE`).
    pub sessions: SessionBackend,
    /// What the session layer hands the extractors: capacity, lifetimes, the deny-list.
    pub rules: Arc<crate::session::SessionRules>,
}

pub(crate) type AppState = Arc<AppContext>;
