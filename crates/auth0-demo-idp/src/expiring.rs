//! The provider's short-lived records (interactions, codes, access tokens) in a map that forgets
//! them when they expire and never holds more than a fixed number: a loop of `/authorize`
//! requests cannot grow the demo provider's memory.

use std::collections::HashMap;
use std::time::{Duration, Instant};

pub struct ExpiringMap<V> {
    ttl: Duration,
    capacity: usize,
    entries: HashMap<String, (Instant, V)>,
}

impl<V> ExpiringMap<V> {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity,
            entries: HashMap::new(),
        }
    }

    /// Inserts, after forgetting what expired and, at capacity, the oldest entry.
    pub fn insert(&mut self, key: String, value: V) {
        let now = Instant::now();
        self.entries
            .retain(|_, (at, _)| now.duration_since(*at) < self.ttl);
        while self.entries.len() >= self.capacity {
            let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            self.entries.remove(&oldest);
        }
        self.entries.insert(key, (now, value));
    }

    /// Removes and returns a live entry.
    pub fn take(&mut self, key: &str) -> Option<V> {
        let (at, value) = self.entries.remove(key)?;
        (at.elapsed() < self.ttl).then_some(value)
    }

    /// A live entry.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v)
    }

    /// The live entries, cloned (for a listing page).
    pub fn entries(&self) -> Vec<(String, V)>
    where
        V: Clone,
    {
        self.entries
            .iter()
            .filter(|(_, (at, _))| at.elapsed() < self.ttl)
            .map(|(k, (_, v))| (k.clone(), v.clone()))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_the_map_is_bounded() {
        let mut map = ExpiringMap::new(Duration::from_millis(50), 3);
        for i in 0..10 {
            map.insert(format!("k{i}"), i);
        }
        assert_eq!(map.len(), 3);
        assert_eq!(map.get("k9"), Some(&9));
        assert_eq!(map.get("k0"), None, "the oldest went first");
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(map.take("k9"), None, "expired");
        map.insert("new".into(), 1);
        assert_eq!(map.len(), 1, "expired entries are dropped on insert");
    }
}
