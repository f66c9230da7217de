#![doc = include_str!("../README.md")]
// The map, for whoever works on the crate (each module's first lines say what it owns), bottom to
// top; a module imports only from those above it:
// - `primitives` (clock, random tokens) and `token_check` (the JWT guide as code) are leaves.
// - `config` (settings, parsed once: `Auth0Config`), `session` (the typed session, its stores and
//   `SessionLayer`), `used_logins` (answered states).
// - `oidc` (discovery, keys, the login protocol, refresh, logout tokens).
// - `state` (what routes share), `error` (`AuthError` and its page), `hooks` (claims filter,
//   callback hook), `extract` and `bearer` (the extractors), `routes` (login, callback, logout,
//   back-channel logout), and `auth0` (the public handle that mounts them).
#![warn(missing_docs)]
// Some internals serve only the Redis store or the workspace's tests: a build without those
// features leaves them unused. The full build (CI's clippy) still reports dead code.
#![cfg_attr(
    not(all(feature = "redis", feature = "test-support")),
    allow(dead_code, unused_imports)
)]

mod auth0;
mod bearer;
mod client_assertion;
mod config;
mod dpop;
mod error;
mod extract;
mod hooks;
mod oidc;
mod primitives;
mod routes;
mod session;
mod shared;
mod state;
pub mod token_check;
mod used_logins;

pub use auth0::{Auth0, Readiness};
pub use bearer::{BearerClaims, BearerRefusal};
pub use config::{Auth0Config, ConfigErrors, Problem, load_dotenv};
pub use error::{AuthError, LogoutPrompt};
pub use extract::{
    AccessToken, ApiTokens, AuthSession, Permission, RecentLogin, RequireMfa, RequirePermission,
    User,
};
pub use hooks::{LoginCompleted, SessionClaims};
pub use oidc::IssuerKeys;
pub use session::{SessionLayer, SessionService};

/// For this workspace's own tests and benchmarks only (feature `test-support`): forging sessions
/// and reading the clock. Not part of the API: it changes without notice.
#[cfg(feature = "test-support")]
#[doc(hidden)]
#[allow(missing_docs)]
pub mod test_support {
    pub use crate::config::parse_secret_key;
    pub use crate::oidc::{JWKS_FAILURE_MEMORY, MAX_UNKNOWN_KID_REFETCHES, Provider, http_client};
    pub use crate::primitives::unix_now;
    pub use crate::session::cookie::SessionKeys;
    pub use crate::session::{
        COOKIE_NAME, LoginTransaction, SECURE_COOKIE_NAME, SECURE_SUB_PATH_COOKIE_NAME,
        UserSession, projected_cookie_bytes, read_record_data, record_data,
    };
}
