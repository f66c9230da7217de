//! The auth routes [`crate::Auth0::router`] serves: `/login`, `/callback`, `/logout` and
//! `/backchannel-logout`, one file each (the callback's wording of failures beside it).

pub(crate) mod backchannel_logout;
pub(crate) mod callback;
pub(crate) mod login;
pub(crate) mod logout;
