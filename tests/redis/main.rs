//! The Redis suite: `SESSION_STORE=redis://…` against a real `redis-server` that the harness
//! starts on a free port with a temporary directory and stops afterwards. Run by
//! `tests/redis/run`, which installs `redis-server` when it is missing; a Redis that cannot be
//! started fails the suite, it is never skipped.

#[path = "../app/support/mod.rs"]
#[allow(dead_code, unused_imports)]
mod support;

mod backchannel;
mod deployments;
mod instances;
mod server;
mod sessions;
mod store;
