//! One network fetch at a time, shared by everyone who needs it, with its failure remembered.
//!
//! A burst of requests while the provider is slow makes one request, and all of them get its
//! answer: nobody queues for a timeout of their own. A failure is answered from memory for
//! [`SingleFlight::new`]'s `remember_failure`, so a broken JWKS is not fetched once per token. No
//! lock is held across the network call: the state's mutex guards only bookkeeping.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::Digest as _;
use tokio::sync::OnceCell;

use super::outcome::{RefreshError, RefreshedTokens};

pub struct SingleFlight<T, E> {
    remember_failure: Duration,
    state: Mutex<State<T, E>>,
}

struct State<T, E> {
    in_flight: Option<Arc<OnceCell<Result<T, E>>>>,
    last_failure: Option<(Instant, E)>,
}

impl<T: Clone, E: Clone> SingleFlight<T, E> {
    pub fn new(remember_failure: Duration) -> Self {
        Self {
            remember_failure,
            state: Mutex::new(State {
                in_flight: None,
                last_failure: None,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State<T, E>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `fetch`, or joins the one already running; answers a recent failure from memory
    /// unless `retry_now`.
    pub async fn run<F, Fut>(&self, retry_now: bool, fetch: F) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let cell = {
            let mut state = self.state();
            if let Some(cell) = &state.in_flight {
                cell.clone()
            } else {
                if !retry_now
                    && let Some((at, failure)) = &state.last_failure
                    && at.elapsed() < self.remember_failure
                {
                    return Err(failure.clone());
                }
                let cell = Arc::new(OnceCell::new());
                state.in_flight = Some(cell.clone());
                cell
            }
        };
        // If the caller running `fetch` is cancelled, the next waiter runs its own.
        let result = cell.get_or_init(fetch).await.clone();
        let mut state = self.state();
        if state
            .in_flight
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(c, &cell))
        {
            state.in_flight = None;
            state.last_failure = result.as_ref().err().map(|e| (Instant::now(), e.clone()));
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch_and_a_failure_is_remembered() {
        let flight: Arc<SingleFlight<u32, String>> =
            Arc::new(SingleFlight::new(Duration::from_secs(60)));
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (flight, calls) = (flight.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                flight
                    .run(false, || async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        Err::<u32, _>("down".to_string())
                    })
                    .await
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), Err("down".to_string()));
        }
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "one fetch for twenty callers"
        );
        // Remembered: no new fetch...
        let again = flight.run(false, || async { Ok(1) }).await;
        assert_eq!(again, Err("down".to_string()));
        // ...unless asked to retry now.
        assert_eq!(flight.run(true, || async { Ok(7) }).await, Ok(7));
        assert_eq!(
            flight.run(false, || async { Ok(9) }).await,
            Ok(9),
            "a success clears the failure"
        );
    }
}

/// A flight left behind by a caller that was cancelled mid-refresh is dropped after this long.
const STALE_FLIGHT: Duration = Duration::from_secs(60);

type Flight = Arc<OnceCell<Result<RefreshedTokens, RefreshError>>>;

/// One refresh per refresh token at a time. Its answer goes only to the requests that were
/// waiting on it: the flight is forgotten as soon as it lands, so no memory keyed by a refresh
/// token can hand new tokens to a copy of an old cookie (the provider's reuse detection sees
/// that copy instead).
#[derive(Default)]
pub(crate) struct RefreshFlights {
    flights: Mutex<HashMap<[u8; 16], (Instant, Flight)>>,
}

fn key_of(refresh_token: &str) -> [u8; 16] {
    let digest = sha2::Sha256::digest(refresh_token.as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

impl RefreshFlights {
    pub(super) fn forget(&self, refresh_token: &str) {
        let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        flights.remove(&key_of(refresh_token));
    }

    pub(super) fn flight(&self, refresh_token: &str) -> Flight {
        let key = key_of(refresh_token);
        let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        flights.retain(|_, (at, _)| at.elapsed() < STALE_FLIGHT);
        flights
            .entry(key)
            .or_insert_with(|| (Instant::now(), Arc::new(OnceCell::new())))
            .1
            .clone()
    }
}
