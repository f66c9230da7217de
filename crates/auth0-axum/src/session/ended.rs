//! Sessions ended from outside the browser (back-channel logout) for stores that cannot delete
//! them: a deny-list of the provider's session ids (`sid`) and users (`sub`), each with when it
//! was ended. A session that began before such an entry reads as a guest. Kept in memory, so a
//! page view checks it without a network round trip; with Redis, every instance's copy is kept
//! current from Redis (see `server_side::Shared`). Entries live as long as a session can.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

/// What a logout ended: one provider session, or every session of a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndedKind {
    Sid,
    Sub,
}

impl EndedKind {
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Sid => "sid",
            Self::Sub => "sub",
        }
    }
}

/// The deny-list (cheap to clone: one `Arc`).
#[derive(Clone, Default)]
pub struct EndedSessions {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// `sid:VALUE` / `sub:VALUE` -> when it was ended (unix seconds).
    entries: RwLock<HashMap<String, i64>>,
    /// How many entries there are: a page view skips the lock when there are none.
    len: AtomicUsize,
}

/// The most entries kept; past it the oldest go (sessions that old have mostly ended anyway).
pub const MAX_ENDED: usize = 200_000;

impl std::fmt::Debug for EndedSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "EndedSessions({})",
            self.inner.len.load(Ordering::Relaxed)
        )
    }
}

/// The key of an entry.
pub fn entry_key(kind: EndedKind, value: &str) -> String {
    format!("{}:{value}", kind.prefix())
}

impl EndedSessions {
    /// Records that sessions of `key` (see [`entry_key`]) begun before `at` are ended; the later
    /// time wins when the entry exists. Entries older than `keep_secs` before `now` are dropped.
    pub fn insert(&self, key: String, at: i64, now: i64, keep_secs: i64) {
        let mut entries = self
            .inner
            .entries
            .write()
            .unwrap_or_else(|e| e.into_inner());
        let slot = entries.entry(key).or_insert(at);
        *slot = (*slot).max(at);
        if entries.len() > MAX_ENDED / 2 {
            let horizon = now.saturating_sub(keep_secs);
            entries.retain(|_, &mut when| when >= horizon);
            while entries.len() > MAX_ENDED {
                let oldest = entries
                    .iter()
                    .min_by_key(|(_, w)| **w)
                    .map(|(k, _)| k.clone());
                match oldest {
                    Some(k) => entries.remove(&k),
                    None => break,
                };
            }
        }
        self.inner.len.store(entries.len(), Ordering::Release);
    }

    /// Whether a session of this `sid` and `sub`, begun at `began`, has been ended since.
    pub fn ends(&self, sid: Option<&str>, sub: Option<&str>, began: i64) -> bool {
        if self.inner.len.load(Ordering::Acquire) == 0 {
            return false;
        }
        let entries = self.inner.entries.read().unwrap_or_else(|e| e.into_inner());
        let hit = |kind, value: Option<&str>| {
            value.is_some_and(|v| {
                entries
                    .get(&entry_key(kind, v))
                    .is_some_and(|&at| at >= began)
            })
        };
        hit(EndedKind::Sid, sid) || hit(EndedKind::Sub, sub)
    }

    /// How many entries are kept.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.inner.len.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_begun_before_its_entry_is_ended_and_one_begun_after_is_not() {
        let ended = EndedSessions::default();
        assert!(!ended.ends(Some("s1"), Some("u1"), 100));
        ended.insert(entry_key(EndedKind::Sid, "s1"), 200, 200, 3600);
        assert!(ended.ends(Some("s1"), Some("u1"), 150));
        assert!(ended.ends(Some("s1"), None, 200));
        assert!(
            !ended.ends(Some("s1"), Some("u1"), 201),
            "a later login lives"
        );
        assert!(
            !ended.ends(Some("s2"), Some("u1"), 150),
            "another sid lives"
        );
        ended.insert(entry_key(EndedKind::Sub, "u1"), 300, 300, 3600);
        assert!(
            ended.ends(Some("s2"), Some("u1"), 250),
            "every session of the user"
        );
        assert!(!ended.ends(Some("s2"), Some("u2"), 250));
        // An older report does not move an entry back.
        ended.insert(entry_key(EndedKind::Sub, "u1"), 10, 300, 3600);
        assert!(ended.ends(None, Some("u1"), 250));
        assert_eq!(ended.len(), 2);
    }
}
