//! The starter's pages, one file each; `views` holds their templates as types.

pub mod api;
pub mod call_api;
pub mod errors;
pub mod health;
pub mod home;
pub mod views;
