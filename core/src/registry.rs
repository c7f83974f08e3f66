//! The registry as the engine sees it: something that attempts to register a dropping name.

use chrono::{DateTime, Utc};

use crate::catch::{CatchOutcome, DropJob};

/// Attempts registrations at the drop. The runtime provides an in-process simulation now and EPP
/// over TLS later; the engine only needs the outcome.
pub trait Registry: Send {
    /// Tries to register `job.domain` for its drop and says what happened.
    fn attempt(&mut self, job: &DropJob, now: DateTime<Utc>) -> CatchOutcome;
}
