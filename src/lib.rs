//! Log in with Auth0 from a server-rendered axum app.
pub mod config;
pub mod demo_idp;
pub mod token_check;
