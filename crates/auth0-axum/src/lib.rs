//! Log in with Auth0 from any axum app: the login machinery behind the `auth0-login` starter.
//!
//! House rules (who may import whom), bottom to top; nothing imports upwards, so there is no cycle:
//! - `primitives` (time, randomness) and `token_check` (the JWT guide as code) are leaves;
//!   `token_check` imports only `primitives`.
//! - `config` (settings), `session` (the typed session and its two stores: our encrypted cookies
//!   or Redis; their layers speak cookies, nothing there renders a page) and `used_logins` sit on
//!   them; `oidc` (the provider and the login protocol) on those.
//! - `state` holds what handlers share; `views` (templates) and `error` (`AppError`, its page)
//!   know HTTP and pages; `routes` (one file per route, plus the extractors) use all of the above.
//! - `startup` wires the router and server (`request_log`: each request's id and span), `serve`
//!   runs connections.
//! - The demo provider is its own crate (`auth0-demo-idp`), a dev-dependency only: the library
//!   never starts it.

pub mod config;
pub mod error;
pub mod oidc;
pub mod primitives;
pub mod request_log;
pub mod routes;
pub mod serve;
pub mod session;
pub mod startup;
pub mod state;
pub mod static_files;
pub mod token_check;
pub mod used_logins;
pub mod views;

pub use startup::{Application, app, shutdown_signal};
pub use state::{AppContext, AppState};
