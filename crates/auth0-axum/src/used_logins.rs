//! Logins that were already answered, remembered in this process for their ten-minute life.
//!
//! The login transaction lives in the browser's cookie, so "each login is usable once" holds only
//! if the browser sends the updated cookie. A cookie saved before `/callback` could replay it with
//! made-up codes, each one a token request with our client secret (free amplification against the
//! tenant's rate limit). This ledger refuses a second use of a state before the provider is called.
//! Each instance keeps its own: behind a load balancer, a replay can reach each instance once.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use sha2::Digest as _;

use crate::session::LOGIN_TTL_SECS;

/// The most states remembered; beyond it the oldest are forgotten (they have mostly expired).
pub const MAX_REMEMBERED: usize = 50_000;

#[derive(Default)]
pub struct UsedLogins {
    inner: Mutex<Ledger>,
}

#[derive(Default)]
struct Ledger {
    /// Digest of the state -> unix time after which it no longer matters.
    until: HashMap<[u8; 16], i64>,
    /// Insertion order, for expiry and the bound.
    order: VecDeque<([u8; 16], i64)>,
}

fn digest(state: &str) -> [u8; 16] {
    let full = sha2::Sha256::digest(state.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

impl UsedLogins {
    /// Marks `state` as used at `now`. `false` if it had been used already: refuse it.
    pub fn first_use(&self, state: &str, now: i64) -> bool {
        let key = digest(state);
        let mut ledger = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        // Forget what has expired, and the oldest beyond the bound.
        while let Some(&(old, until)) = ledger.order.front() {
            if until > now && ledger.order.len() < MAX_REMEMBERED {
                break;
            }
            ledger.order.pop_front();
            if ledger.until.get(&old) == Some(&until) {
                ledger.until.remove(&old);
            }
        }
        if ledger.until.get(&key).is_some_and(|&until| until > now) {
            return false;
        }
        // Remembered a little past the login's own life, so clock steps cannot reopen it.
        let until = now.saturating_add(LOGIN_TTL_SECS + 60);
        ledger.until.insert(key, until);
        ledger.order.push_back((key, until));
        true
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.lock().map(|l| l.until.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_is_usable_once_for_its_life_then_forgotten() {
        let used = UsedLogins::default();
        assert!(used.first_use("s1", 1000));
        assert!(!used.first_use("s1", 1001));
        assert!(!used.first_use("s1", 1000 + LOGIN_TTL_SECS));
        assert!(used.first_use("s2", 1002));
        // Long after, both are forgotten (the login itself has expired by then).
        assert!(used.first_use("s3", 1002 + LOGIN_TTL_SECS + 61));
        assert_eq!(used.len(), 1);
    }

    #[test]
    fn the_ledger_is_bounded() {
        let used = UsedLogins::default();
        for i in 0..MAX_REMEMBERED + 10 {
            used.first_use(&format!("state-{i}"), 1000);
        }
        assert!(used.len() <= MAX_REMEMBERED);
    }
}
