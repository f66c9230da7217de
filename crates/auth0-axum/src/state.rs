//! What every handler shares: the configuration, the login client (and through it the provider),
//! the process's memory of answered logins, and the session store.

use std::sync::Arc;

use crate::config::Config;
use crate::oidc::LoginClient;
use crate::session::SessionBackend;
use crate::used_logins::UsedLogins;

pub struct AppContext {
    pub config: Config,
    pub oidc: LoginClient,
    /// Running against the built-in demo provider: every page says so.
    pub demo: bool,
    /// States already answered at `/callback`: a replayed cookie cannot use one twice.
    pub used_logins: UsedLogins,
    /// Where sessions are kept (`SESSION_STORE`).
    pub sessions: SessionBackend,
}

pub type AppState = Arc<AppContext>;
