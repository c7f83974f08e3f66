//! What several integration tests share.

use std::collections::HashMap;

use backorder::core::{CatchOutcome, CatchProgress, DropJob, Registry};
use chrono::{DateTime, Utc};

/// A registry that answers from a script, by name (default: taken by another registrar).
#[allow(dead_code)] // not every test file that includes this module uses it
#[derive(Default)]
pub struct Scripted(pub HashMap<String, CatchOutcome>);

impl Registry for Scripted {
    fn attempt(&mut self, job: &DropJob, _now: DateTime<Utc>) -> CatchProgress {
        self.0
            .get(job.domain.as_str())
            .cloned()
            .unwrap_or(CatchOutcome::Taken)
            .into()
    }
}

/// A fresh, empty PostgreSQL database for one test, on the server `BACKORDER_TEST_POSTGRES` names
/// (`scripts/test` starts a throwaway one). `None`, with a note on stderr, when the variable is
/// unset — except under CI, where PostgreSQL tests must run, never skip.
#[allow(dead_code)] // not every test file that includes this module uses it
pub fn fresh_postgres(tag: &str) -> Option<String> {
    let Ok(server) = std::env::var("BACKORDER_TEST_POSTGRES") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the PostgreSQL tests: BACKORDER_TEST_POSTGRES is unset (scripts/test sets it)"
        );
        eprintln!(
            "PostgreSQL tests skipped: set BACKORDER_TEST_POSTGRES=postgres://USER@HOST:PORT/DB \
             (scripts/test starts a throwaway server with scripts/postgres)"
        );
        return None;
    };
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "bo_{}_{}_{}",
        tag,
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = postgres::Client::connect(&server, postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot reach {server}: {e}"));
    // A run long gone may have left one under this name (process ids come round again).
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let (base, _) = server.rsplit_once('/').unwrap();
    Some(format!("{base}/{name}"))
}
