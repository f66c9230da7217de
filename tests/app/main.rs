//! The offline integration suite: the real server and the demo provider, over real HTTP.

mod support;

mod api;
mod auth0_edges;
mod backchannel;
mod callback_failures;
mod check_token;
mod config_errors;
mod deploy;
mod dpop;
mod expiry;
mod fapi2;
mod key_rotation;
mod login_bytes;
mod login_flow;
mod login_params;
mod logout_csrf;
mod logs;
mod par;
mod private_key_jwt;
mod provider_fetches;
mod provider_lifecycle;
mod request_edges;
mod request_limits;
mod session_cookie;
mod slowloris;
mod tokens;
mod userinfo;
