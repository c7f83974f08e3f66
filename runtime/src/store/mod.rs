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

/// A store URL with any password replaced by `***`, for messages and logs: the one in the user
/// information and a `password=` parameter of the query (libpq's URLs take either).
///
/// ```
/// assert_eq!(
///     backorder::store::redact_url("postgres://bo:s3cret@db:5432/bo?password=s3cret"),
///     "postgres://bo:***@db:5432/bo?password=***"
/// );
/// ```
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = match (base.find("://"), base.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &base[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &base[..scheme + 3], user, &base[at..]),
                None => base.to_string(),
            }
        }
        _ => base.to_string(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => p.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}
