//! The stores an engine can open, by URL: `memory:` (nothing kept), `sqlite:PATH` (the embedded
//! default for one host), `postgres://…` (one database for several hosts).

pub mod postgres;
mod schema;
mod shared_cache;
pub mod sql;
pub mod sqlite;
mod system_accounts;

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

/// A store URL with its passwords replaced by `***`, for messages and logs: the one in the user
/// information and any `password=` parameter of the query (libpq's URLs take either). The URL is
/// cut as the PostgreSQL client cuts it: the user information runs to the first `@` (so a `?` or
/// `/` inside a password stays hidden), and query keys are compared percent-decoded.
///
/// ```
/// use backorder::store::redact_url;
/// assert_eq!(
///     redact_url("postgres://bo:s3cret@db:5432/bo?password=s3cret"),
///     "postgres://bo:***@db:5432/bo?password=***"
/// );
/// assert_eq!(redact_url("postgres://bo:pa?ss@db/bo"), "postgres://bo:***@db/bo");
/// assert_eq!(redact_url("sqlite:/var/lib/bo.db"), "sqlite:/var/lib/bo.db");
/// ```
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let (scheme, rest) = url.split_at(scheme_end);
    let mut out = scheme.to_string();
    let after_userinfo = match rest.split_once('@') {
        Some((userinfo, after)) => {
            match userinfo.split_once(':') {
                Some((user, _password)) => out.push_str(&format!("{user}:***@")),
                None => out.push_str(&format!("{userinfo}@")),
            }
            after
        }
        None => rest,
    };
    let (host_path, query) = match after_userinfo.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (after_userinfo, None),
    };
    out.push_str(host_path);
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if percent_decoded(k).eq_ignore_ascii_case("password") => {
                    format!("{k}=***")
                }
                _ => p.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// `%XX` escapes decoded (others left as they are), for comparing a query key.
fn percent_decoded(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).and_then(|c| hex(*c)),
            b.get(i + 2).and_then(|c| hex(*c)),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
