//! The one clock of the logic: Unix seconds. Behind a trait so tests can move time instead of
//! waiting for it.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::ApiError;

pub trait Clock: Send + Sync {
    /// Now, in Unix seconds.
    fn now(&self) -> Result<u64, ApiError>;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Result<u64, ApiError> {
        unix_now()
    }
}

/// The system clock as Unix seconds, for the few places outside the logic that need it (OAuth
/// timestamps are Twitter's business and always use real time).
pub fn unix_now() -> Result<u64, ApiError> {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .map_err(|_| ApiError::Internal("system clock before 1970"))
}
