//! The stores an engine can open, by URL: `memory:` (nothing kept), `sqlite:PATH` (the embedded
//! default for one host), `postgres://…` (one database for several hosts).

pub mod postgres;
mod schema;
mod shared_cache;
pub mod sql;
pub mod sqlite;

pub use backorder_core::store::Store;
pub use backorder_core::MemoryStore;
pub use postgres::{PostgresBackend, PostgresStore};
pub use sqlite::{SqliteBackend, SqliteOptions, SqliteStore, Synchronous};

use backorder_core::{Error, Result};

/// Opens the store a URL names:
///
/// - `memory:` — in memory, gone with the process (tests, simulations);
/// - `sqlite:PATH` — one SQLite file, created if missing; `?synchronous=full` makes every commit
///   survive a power failure (see [`SqliteStore`]);
/// - `postgres://user[:password]@host[:port]/database` (or `postgresql://…`) — a database several
///   engine processes share (see [`PostgresStore`]).
///
/// ```
/// let store = backorder::open_store("memory:").unwrap();
/// assert!(backorder::open_store("ftp://x").is_err());
/// ```
pub fn open_store(url: &str) -> Result<Box<dyn Store>> {
    if url == "memory:" || url == "memory://" {
        return Ok(Box::new(MemoryStore::new()));
    }
    if url.starts_with("sqlite:") {
        return Ok(Box::new(SqliteStore::open_url(url)?));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Box::new(PostgresStore::connect(url)?));
    }
    let scheme = url.split(':').next().unwrap_or("");
    Err(Error::InvalidArgument(format!(
        "unsupported store URL scheme '{}': use memory:, sqlite:PATH or postgres://…",
        scheme.chars().take(20).collect::<String>()
    )))
}
