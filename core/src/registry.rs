//! The registry as the engine sees it: something that attempts to register a dropping name.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::catch::{CatchOutcome, DropJob};

/// What a registry says when the engine hands it a drop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CatchProgress {
    /// The attempts are over: what happened.
    Finished(CatchOutcome),
    /// The attempts go on (an EPP catcher works the drop window on its own time); the outcome
    /// comes later through the engine's `record_catch`. Until then the backorders stay
    /// PROCESSING, and the drop is handed over again each time their outcome timeout passes.
    Underway,
}

impl From<CatchOutcome> for CatchProgress {
    fn from(outcome: CatchOutcome) -> Self {
        CatchProgress::Finished(outcome)
    }
}

/// Attempts registrations at the drop: the runtime's in-process simulation answers at once, its
/// EPP catcher works the drop at the registry and answers later.
pub trait Registry: Send {
    /// Tries (or goes on trying) to register `job.domain` for its drop.
    fn attempt(&mut self, job: &DropJob, now: DateTime<Utc>) -> CatchProgress;
}
