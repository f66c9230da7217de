//! Reads and writes of the session record: the lifetimes, the logins in progress (bounded in
//! number and bytes), a fresh session at login, and its end at logout. Every write is saved before
//! it returns: a store that does not answer becomes the caller's error, not a lost write.

use tower_sessions::Session;

use super::model::{user_from_value, user_value};
use super::size::check_fits;
use super::{
    Capacity, LOGINS_KEY, LoginTransaction, MAX_PENDING_LOGIN_BYTES, MAX_PENDING_LOGINS,
    REFRESH_EVERY_SECS, SessionError, SessionRules, TakenLogin, USER_KEY, UserSession,
};
use crate::primitives::unix_now;

/// A stored value that does not parse (a record from an older version): read as absent.
fn parsed<T: serde::de::DeserializeOwned>(
    value: Result<Option<T>, tower_sessions::session::Error>,
) -> Result<Option<T>, SessionError> {
    match value {
        Ok(value) => Ok(value),
        Err(tower_sessions::session::Error::SerdeJson(err)) => {
            tracing::warn!(error = %err, "a session value did not parse; reading it as absent");
            Ok(None)
        }
        Err(err) => Err(err.into()),
    }
}

/// The stored user, as it is (no lifetime enforced).
async fn stored_user(session: &Session) -> Result<Option<UserSession>, SessionError> {
    let value = session.get_value(USER_KEY).await;
    parsed(value.and_then(|v| {
        v.map(user_from_value)
            .transpose()
            .map_err(tower_sessions::session::Error::SerdeJson)
    }))
}

/// Stores `user` as the logged-in user.
async fn store_user(session: &Session, user: &UserSession) -> Result<(), SessionError> {
    session.insert_value(USER_KEY, user_value(user)).await?;
    Ok(())
}

/// Why a stored user no longer counts as logged in, if they do not.
fn ended_by(user: &UserSession, rules: &SessionRules, now: i64) -> Option<&'static str> {
    if now.saturating_sub(user.logged_in_at) > rules.lifetimes.absolute_secs {
        return Some("session reached its absolute lifetime; logging out");
    }
    if user.session_expires_at.is_some_and(|at| now >= at) {
        return Some(
            "session reached the identity provider's ceiling (session_expiry); logging out",
        );
    }
    let sub = user.claim("sub");
    if rules
        .ended
        .ends(user.sid.as_deref(), sub, user.logged_in_at)
    {
        return Some("session was ended by a back-channel logout; logging out");
    }
    None
}

/// The logged-in user, if any. Enforces the absolute lifetime, the upstream ceiling and
/// back-channel logouts, and slides the idle deadline of a rolling session (at most hourly).
pub(super) async fn current_user(
    session: &Session,
    rules: &SessionRules,
) -> Result<Option<UserSession>, SessionError> {
    let Some(mut user) = stored_user(session).await? else {
        return Ok(None);
    };
    let now = unix_now();
    if let Some(why) = ended_by(&user, rules, now) {
        tracing::info!("{why}");
        session.remove_value(USER_KEY).await?;
        return Ok(None);
    }
    let slide_every = REFRESH_EVERY_SECS.min(rules.lifetimes.idle_secs / 2);
    if rules.lifetimes.rolling && now.saturating_sub(user.refreshed_at) > slide_every {
        user.refreshed_at = now;
        // The read succeeded: a failed slide is logged, and the page still shows.
        if let Err(err) = store_user(session, &user).await {
            tracing::warn!(error = %err, "could not slide the session's idle deadline");
        }
    }
    Ok(Some(user))
}

async fn pending(session: &Session) -> Result<Vec<LoginTransaction>, SessionError> {
    let now = unix_now();
    Ok(
        parsed(session.get::<Vec<LoginTransaction>>(LOGINS_KEY).await)?
            .unwrap_or_default()
            .into_iter()
            .filter(|t| !t.expired(now))
            .collect(),
    )
}

async fn store_pending(session: &Session, list: &[LoginTransaction]) -> Result<(), SessionError> {
    if list.is_empty() {
        session.remove_value(LOGINS_KEY).await?;
    } else {
        session.insert(LOGINS_KEY, list).await?;
    }
    Ok(())
}

/// Drops the oldest logins in `list` (never the last one, the newest, when `keep_newest`) until
/// there are at most [`MAX_PENDING_LOGINS`], they cost at most [`MAX_PENDING_LOGIN_BYTES`], and
/// a session holding them with `user` fits its store. Returns how many were dropped.
fn make_room(
    capacity: Capacity,
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
            && check_fits(capacity, user, list).is_ok();
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
    capacity: Capacity,
    tx: LoginTransaction,
) -> Result<(), SessionError> {
    let user = stored_user(session).await?;
    let mut list = pending(session).await?;
    list.push(tx);
    let dropped = make_room(capacity, user.as_ref(), &mut list, true);
    if dropped > 0 {
        tracing::info!(
            dropped,
            "dropped the oldest logins in progress to make room for a new one"
        );
    }
    let size = check_fits(capacity, user.as_ref(), &list)?;
    if list.iter().map(LoginTransaction::stored_len).sum::<usize>() > MAX_PENDING_LOGIN_BYTES {
        return Err(SessionError::TooLarge { cookie_bytes: size });
    }
    store_pending(session, &list).await?;
    session.save().await?;
    Ok(())
}

/// Removes and returns the login with this state: each is usable once.
pub(super) async fn take_pending_login(
    session: &Session,
    state: &str,
) -> Result<TakenLogin, SessionError> {
    let raw: Vec<LoginTransaction> = parsed(session.get(LOGINS_KEY).await)?.unwrap_or_default();
    let now = unix_now();
    let Some(pos) = raw.iter().position(|t| t.state == state) else {
        return Ok(TakenLogin::NotFound {
            others: raw.iter().any(|t| !t.expired(now)),
        });
    };
    let mut rest = raw;
    let tx = rest.remove(pos);
    rest.retain(|t| !t.expired(now));
    store_pending(session, &rest).await?;
    session.save().await?;
    Ok(if tx.expired(now) {
        TakenLogin::Expired
    } else {
        TakenLogin::Found(tx)
    })
}

/// Replaces the session with a fresh one (new id: no fixation) holding `user`, keeping the other
/// tabs' logins in progress as far as they fit (oldest dropped first). Refuses if the user alone
/// would not fit the store.
pub(super) async fn start_user_session(
    session: &Session,
    capacity: Capacity,
    user: UserSession,
) -> Result<usize, SessionError> {
    let mut logins = pending(session).await?;
    let dropped = make_room(capacity, Some(&user), &mut logins, false);
    if dropped > 0 {
        tracing::info!(
            dropped,
            "dropped the oldest other logins in progress to fit the new session"
        );
    }
    let size = check_fits(capacity, Some(&user), &logins)?;
    session.clear().await;
    session.cycle_id().await?;
    store_user(session, &user).await?;
    store_pending(session, &logins).await?;
    session.save().await?;
    Ok(size)
}

/// Ends the session: the cookie is removed, a server-side record deleted. Returns the provider's
/// session id for its logout.
pub(super) async fn end_session(session: &Session) -> Result<Option<String>, SessionError> {
    let sid = stored_user(session).await?.and_then(|u| u.sid);
    session.flush().await?;
    Ok(sid)
}

/// Replaces the logged-in user's record (new tokens after a refresh), keeping the session and the
/// logins in progress. Refuses if it would not fit the store.
pub(super) async fn replace_user(
    session: &Session,
    capacity: Capacity,
    user: &UserSession,
) -> Result<(), SessionError> {
    let logins = pending(session).await?;
    check_fits(capacity, Some(user), &logins)?;
    store_user(session, user).await?;
    session.save().await?;
    Ok(())
}
