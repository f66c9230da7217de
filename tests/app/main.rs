//! The offline integration suite: the real server and the demo provider, over real HTTP.

#[path = "../support/mod.rs"]
mod support;

mod callback_failures;
mod config_errors;
mod login_flow;
mod provider_lifecycle;
mod session_cookie;
