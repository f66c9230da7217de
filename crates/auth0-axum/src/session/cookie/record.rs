//! The per-request [`SessionStore`] behind the cookie layer's `Session`: it holds the record the
//! cookies held, and seals what a save produces (or why it could not).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::{SessionStore, session_store};

use super::{Shared, WriteFailure, chunks};

/// A sealed session ready to be written.
pub(super) struct Sealed {
    pub(super) value: String,
    pub(super) expires_at: i64,
}

/// The per-request store behind the `Session`: it holds the record the cookies held, and the
/// sealed value a save produced.
pub(super) struct RequestRecord {
    pub(super) loaded: Mutex<Option<Record>>,
    pub(super) sealed: Mutex<Option<Sealed>>,
    pub(super) failure: Mutex<Option<WriteFailure>>,
    /// The last save held no data: the cookies are deleted.
    pub(super) emptied: AtomicBool,
    pub(super) shared: Arc<Shared>,
}

impl std::fmt::Debug for RequestRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestRecord")
    }
}

impl RequestRecord {
    fn seal(&self, record: &Record) -> session_store::Result<()> {
        if record.data.is_empty() {
            // Nothing to keep (a consumed login, an expired user): delete the cookies instead.
            if let Ok(mut slot) = self.sealed.lock() {
                *slot = None;
            }
            self.emptied.store(true, Ordering::Release);
            return Ok(());
        }
        self.emptied.store(false, Ordering::Release);
        let expires_at = record.expiry_date.unix_timestamp();
        let outcome = match self.shared.keys.seal(&record.data, expires_at) {
            Ok(value) if chunks::fits(value.len()) => Ok(Sealed { value, expires_at }),
            Ok(value) => Err(WriteFailure::TooLarge {
                cookie_bytes: chunks::cookie_header_bytes(value.len()).unwrap_or(usize::MAX),
            }),
            Err(err) => Err(WriteFailure::Seal(err.to_string())),
        };
        match outcome {
            Ok(sealed) => {
                if let Ok(mut slot) = self.sealed.lock() {
                    *slot = Some(sealed);
                }
                Ok(())
            }
            Err(failure) => {
                let message = format!("{failure:?}");
                if let Ok(mut slot) = self.failure.lock() {
                    *slot = Some(failure);
                }
                Err(session_store::Error::Encode(message))
            }
        }
    }
}

#[async_trait]
impl SessionStore for RequestRecord {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.seal(record)
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.seal(record)
    }

    async fn load(&self, _: &Id) -> session_store::Result<Option<Record>> {
        Ok(self.loaded.lock().ok().and_then(|mut r| r.take()))
    }

    async fn delete(&self, _: &Id) -> session_store::Result<()> {
        if let Ok(mut slot) = self.sealed.lock() {
            *slot = None;
        }
        Ok(())
    }
}
