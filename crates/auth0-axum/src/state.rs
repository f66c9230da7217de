//! What the auth routes and extractors share: the configuration, the login client (and through it
//! the provider), the process's memory of answered logins, and the session store. [`crate::Auth0`]
//! is the public handle to it.

use std::sync::Arc;

use crate::config::Auth0Config;
use crate::oidc::LoginClient;
use crate::session::SessionBackend;
use crate::used_logins::UsedLogins;

pub(crate) struct AppContext {
    pub config: Auth0Config,
    pub oidc: LoginClient,
    /// States already answered at `/callback`: a replayed cookie cannot use one twice.
    pub used_logins: UsedLogins,
    /// DPoP proofs' `jti`s seen by the bearer API, each accepted once.
    pub used_dpop_proofs: UsedLogins,
    /// Where sessions are kept (`SESSION_STORE`).
    pub sessions: SessionBackend,
}

pub(crate) type AppState = Arc<AppContext>;
