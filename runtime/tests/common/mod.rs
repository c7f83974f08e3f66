//! What several integration tests share.

use std::collections::HashMap;

use backorder::core::{CatchOutcome, DropJob, Registry};
use chrono::{DateTime, Utc};

/// A registry that answers from a script, by name (default: taken by another registrar).
#[derive(Default)]
pub struct Scripted(pub HashMap<String, CatchOutcome>);

impl Registry for Scripted {
    fn attempt(&mut self, job: &DropJob, _now: DateTime<Utc>) -> CatchOutcome {
        self.0
            .get(job.domain.as_str())
            .cloned()
            .unwrap_or(CatchOutcome::Taken)
    }
}
