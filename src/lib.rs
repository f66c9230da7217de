//! The starter: a server-rendered axum app that logs users in with Auth0, built only from the
//! `auth0-axum` library's public API.
//!
//! Read it in this order: `app.rs` (the router and the state), `pages/` (each page), then
//! `templates/`. `server/` is the production corner (connection limits, request log, security
//! headers, static files) and `cli/` the command line; neither is needed to follow a login.

pub mod app;
pub mod cli;
pub mod pages;
pub mod server;
