//! Reads and writes of the session record: the lifetimes, the logins in progress (bounded in
//! number and bytes), a fresh session at login, and its end at logout.

use tower_sessions_cookie_store::Session;

use super::size::{MAX_SET_COOKIE_BYTES, SessionTooLarge, projected_set_cookie_len};
use super::{
    ABSOLUTE_TIMEOUT_SECS, LOGINS_KEY, LoginTransaction, MAX_PENDING_LOGIN_BYTES,
    MAX_PENDING_LOGINS, REFRESH_EVERY_SECS, TakenLogin, USER_KEY, UserSession,
};
use crate::primitives::unix_now;

/// Session storage failed (a bug or a corrupted record): logged, answered as logged out.
fn log_store_error(err: impl std::fmt::Display) {
    tracing::error!(error = %err, "session store error");
}

/// The logged-in user, if any. Enforces the absolute timeout and slides the idle one (hourly).
pub(super) async fn current_user(session: &Session) -> Option<UserSession> {
    let mut user: UserSession = match session.get(USER_KEY).await {
        Ok(user) => user?,
        Err(err) => {
            log_store_error(err);
            return None;
        }
    };
    let now = unix_now();
    if now.saturating_sub(user.logged_in_at) > ABSOLUTE_TIMEOUT_SECS {
        tracing::info!("session reached its absolute lifetime; logging out");
        let _ = session.remove_value(USER_KEY).await;
        return None;
    }
    if now.saturating_sub(user.refreshed_at) > REFRESH_EVERY_SECS {
        user.refreshed_at = now;
        if let Err(err) = session.insert(USER_KEY, &user).await {
            log_store_error(err);
        }
    }
    Some(user)
}

async fn pending(session: &Session) -> Vec<LoginTransaction> {
    let now = unix_now();
    match session.get::<Vec<LoginTransaction>>(LOGINS_KEY).await {
        Ok(list) => list
            .unwrap_or_default()
            .into_iter()
            .filter(|t| !t.expired(now))
            .collect(),
        Err(err) => {
            log_store_error(err);
            Vec::new()
        }
    }
}

async fn store_pending(session: &Session, list: &[LoginTransaction]) {
    let result = if list.is_empty() {
        session.remove_value(LOGINS_KEY).await.map(|_| ())
    } else {
        session.insert(LOGINS_KEY, list).await
    };
    if let Err(err) = result {
        log_store_error(err);
    }
}

/// Drops the oldest logins in `list` (never the last one, the newest) until there are at most
/// [`MAX_PENDING_LOGINS`], they cost at most [`MAX_PENDING_LOGIN_BYTES`], and a session holding
/// them with `user` fits in a cookie. Returns how many were dropped.
fn make_room(
    user: Option<&UserSession>,
    list: &mut Vec<LoginTransaction>,
    keep_newest: bool,
) -> usize {
    let floor = usize::from(keep_newest);
    let mut dropped = 0;
    while list.len() > floor {
        let bytes: usize = list.iter().map(LoginTransaction::stored_len).sum();
        let fits = list.len() <= MAX_PENDING_LOGINS
            && bytes <= MAX_PENDING_LOGIN_BYTES
            && projected_set_cookie_len(user, list) <= MAX_SET_COOKIE_BYTES;
        if fits {
            break;
        }
        list.remove(0);
        dropped += 1;
    }
    dropped
}

/// Records a login in progress (several may be: one per tab). The oldest others are dropped when
/// they would not fit beside it; `Err` only when this one alone cannot be stored.
pub(super) async fn add_pending_login(
    session: &Session,
    tx: LoginTransaction,
) -> Result<(), SessionTooLarge> {
    let user: Option<UserSession> = session.get(USER_KEY).await.ok().flatten();
    let mut list = pending(session).await;
    list.push(tx);
    let dropped = make_room(user.as_ref(), &mut list, true);
    if dropped > 0 {
        tracing::info!(
            dropped,
            "dropped the oldest logins in progress to make room for a new one"
        );
    }
    let size = projected_set_cookie_len(user.as_ref(), &list);
    if size > MAX_SET_COOKIE_BYTES
        || list.iter().map(LoginTransaction::stored_len).sum::<usize>() > MAX_PENDING_LOGIN_BYTES
    {
        return Err(SessionTooLarge {
            set_cookie_bytes: size,
        });
    }
    store_pending(session, &list).await;
    Ok(())
}

/// Removes and returns the login with this state: each is usable once.
pub(super) async fn take_pending_login(session: &Session, state: &str) -> TakenLogin {
    let raw: Vec<LoginTransaction> = session
        .get(LOGINS_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    let now = unix_now();
    let Some(pos) = raw.iter().position(|t| t.state == state) else {
        return TakenLogin::NotFound {
            others: raw.iter().any(|t| !t.expired(now)),
        };
    };
    let mut rest = raw;
    let tx = rest.remove(pos);
    rest.retain(|t| !t.expired(now));
    store_pending(session, &rest).await;
    if tx.expired(now) {
        TakenLogin::Expired
    } else {
        TakenLogin::Found(tx)
    }
}

/// Replaces the session with a fresh one (new id: no fixation) holding `user`, keeping the other
/// tabs' logins in progress as far as they fit (oldest dropped first). Refuses if the user alone
/// would make the cookie too big for browsers.
pub(super) async fn start_user_session(
    session: &Session,
    user: UserSession,
) -> Result<usize, SessionTooLarge> {
    let mut logins = pending(session).await;
    let dropped = make_room(Some(&user), &mut logins, false);
    if dropped > 0 {
        tracing::info!(
            dropped,
            "dropped the oldest other logins in progress to fit the new session"
        );
    }
    let size = projected_set_cookie_len(Some(&user), &logins);
    if size > MAX_SET_COOKIE_BYTES {
        return Err(SessionTooLarge {
            set_cookie_bytes: size,
        });
    }
    session.clear().await;
    if let Err(err) = session.cycle_id().await {
        log_store_error(err);
    }
    let stored = session.insert(USER_KEY, &user).await;
    store_pending(session, &logins).await;
    if let Err(err) = stored {
        log_store_error(err);
    }
    Ok(size)
}

/// Ends the session: the cookie is removed. Returns the provider's session id for its logout.
pub(super) async fn end_session(session: &Session) -> Option<String> {
    let sid = match session.get::<UserSession>(USER_KEY).await {
        Ok(user) => user.and_then(|u| u.sid),
        Err(_) => None,
    };
    if let Err(err) = session.flush().await {
        log_store_error(err);
    }
    sid
}

/// Replaces the logged-in user's record (new tokens after a refresh), keeping the session and the
/// logins in progress. Refuses if the cookie would be too big.
pub(super) async fn replace_user(
    session: &Session,
    user: &UserSession,
) -> Result<(), SessionTooLarge> {
    let logins = pending(session).await;
    let size = projected_set_cookie_len(Some(user), &logins);
    if size > MAX_SET_COOKIE_BYTES {
        return Err(SessionTooLarge {
            set_cookie_bytes: size,
        });
    }
    if let Err(err) = session.insert(USER_KEY, user).await {
        log_store_error(err);
    }
    Ok(())
}
