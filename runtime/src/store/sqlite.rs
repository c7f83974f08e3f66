//! The SQLite store: the embedded default, one file, nothing to install (the library is built in).
//!
//! Every engine command is one `BEGIN IMMEDIATE … COMMIT` transaction, its outbox events included,
//! so a crash leaves either all of a command or none of it. The file is in WAL mode. Durability is
//! set by the URL: `sqlite:PATH` (or `?synchronous=normal`) survives the process being killed at any
//! moment — a commit is in the WAL before it returns — and may lose the last commits on a power
//! failure; `sqlite:PATH?synchronous=full` syncs the WAL on every commit and survives that too, at
//! a cost in commits per second (see BENCHMARKS.md).
//!
//! A file serves one process at a time (exclusive locking): no lock calls per transaction, the id
//! counters and committed ledger accounts kept in memory, and a second process on the same file is
//! refused clearly instead of interleaving. Several hosts share a PostgreSQL database instead.
//! The tables and their encoding are those of [`super::sql`].

use std::path::Path;

use backorder_core::{Error, Result};
use rusqlite::types::ToSql;
use rusqlite::{Connection, ErrorCode as SqliteCode};

use super::schema;
use super::sql::{Backend, Param, Row, SqlStore};

/// How hard a commit tries to reach the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Synchronous {
    /// The WAL is synced at checkpoints: a commit survives the process dying, not the machine.
    Normal,
    /// The WAL is synced at every commit: a commit survives a power failure.
    Full,
}

/// A [`Store`](backorder_core::Store) in one SQLite file.
///
/// ```
/// use backorder::store::SqliteStore;
/// use backorder_core::store::Store;
/// let dir = std::env::temp_dir().join(format!("bo-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let mut s = SqliteStore::open(&dir.join("engine.db"), Default::default()).unwrap();
/// s.begin().unwrap();
/// let id = s.next_backorder_id().unwrap();
/// s.rollback().unwrap();
/// assert_eq!(s.next_backorder_id().unwrap(), id); // the rollback undid the allocation
/// # drop(s);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub type SqliteStore = SqlStore<SqliteBackend>;

/// The SQLite connection under a [`SqliteStore`].
pub struct SqliteBackend {
    conn: Connection,
}

/// Options of [`SqliteStore::open`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SqliteOptions {
    /// Durability of a commit (default [`Synchronous::Normal`]).
    pub synchronous: Synchronous,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            synchronous: Synchronous::Normal,
        }
    }
}

fn db(e: rusqlite::Error) -> Error {
    Error::Store(format!("sqlite: {e}"))
}

impl SqlStore<SqliteBackend> {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// A file serves one process at a time: opening one another process has open fails with
    /// [`Error::Store`] saying so (several hosts share a PostgreSQL database instead).
    pub fn open(path: &Path, options: SqliteOptions) -> Result<SqliteStore> {
        let conn = Connection::open(path).map_err(db)?;
        SqliteBackend::configure(&conn, options)
            .and_then(|()| SqlStore::new(SqliteBackend { conn }))
            .map_err(|e| match e {
                Error::Store(m) if m.contains("database is locked") => Error::Store(format!(
                    "sqlite: {} is open in another process (a SQLite store serves one process; \
                     several hosts share a PostgreSQL database)",
                    path.display()
                )),
                e => e,
            })
    }

    /// Opens the store a `sqlite:PATH[?synchronous=normal|full]` URL names.
    pub fn open_url(url: &str) -> Result<SqliteStore> {
        let rest = url.strip_prefix("sqlite:").unwrap_or(url);
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        if path == ":memory:" {
            return Err(Error::InvalidArgument(
                "sqlite::memory: keeps nothing: use the memory: store".into(),
            ));
        }
        if path.is_empty() {
            return Err(Error::InvalidArgument(
                "a sqlite URL needs a file path: sqlite:PATH".into(),
            ));
        }
        let mut options = SqliteOptions::default();
        for pair in query.into_iter().flat_map(|q| q.split('&')) {
            match pair {
                "synchronous=normal" => options.synchronous = Synchronous::Normal,
                "synchronous=full" => options.synchronous = Synchronous::Full,
                other => {
                    return Err(Error::InvalidArgument(format!(
                    "unknown sqlite URL option '{}': use synchronous=normal or synchronous=full",
                    other.chars().take(40).collect::<String>()
                )))
                }
            }
        }
        SqliteStore::open(Path::new(path), options)
    }
}

impl SqliteBackend {
    fn configure(conn: &Connection, options: SqliteOptions) -> Result<()> {
        // Long enough for a process that is closing the file to let go of it.
        conn.busy_timeout(std::time::Duration::from_secs(2))
            .map_err(db)?;
        // One process owns the file while it is open (several hosts share PostgreSQL instead):
        // no lock calls per transaction, and a second engine on the same file is refused with
        // "database is locked" rather than interleaving with the first.
        conn.execute_batch("PRAGMA locking_mode = EXCLUSIVE")
            .map_err(db)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(db)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Store(format!(
                "sqlite: the database would not switch to WAL mode (it is in {mode} mode)"
            )));
        }
        let sync = match options.synchronous {
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        };
        // The file mapped for reads: the engine's working set is read from memory, not with a
        // system call per page. The page cache stays small (2 MiB): with 64 MiB, the truncation
        // SQLite runs on it at the end of each transaction (`pcache1TruncateUnsafe` in perf) took
        // 5 % of a batched ledger operation (`cargo bench --bench store`, medians of three
        // alternated runs: batched 158k -> 167k ops/s, single 20.6k -> 21.3k; the drop day the
        // same). The log is copied into the database every 10,000 pages (about 40 MiB) instead
        // of SQLite's 1,000: the pages every commit touches (the ends of the journal's indexes,
        // the ledger accounts) are copied and synced once per checkpoint, so fewer checkpoints
        // write less (+10 % single, +19 % batched). Durability is the same: a commit is in the
        // log either way.
        conn.execute_batch(&format!(
            "PRAGMA synchronous = {sync}; PRAGMA foreign_keys = OFF; \
             PRAGMA cache_size = -2048; PRAGMA mmap_size = 1073741824; \
             PRAGMA wal_autocheckpoint = 10000;"
        ))
        .map_err(db)?;
        conn.set_prepared_statement_cache_capacity(128);
        Ok(())
    }
}

struct SqliteRow<'a, 'b>(&'a rusqlite::Row<'b>);

impl Row for SqliteRow<'_, '_> {
    fn int(&self, i: usize) -> Result<i64> {
        self.0.get(i).map_err(db)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        self.0.get(i).map_err(db)
    }
    fn text(&self, i: usize) -> Result<String> {
        self.0.get(i).map_err(db)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>> {
        self.0.get(i).map_err(db)
    }
    fn boolean(&self, i: usize) -> Result<bool> {
        self.0.get(i).map_err(db)
    }
}

fn bind<'a>(params: &'a [Param<'a>]) -> impl Iterator<Item = &'a dyn ToSql> {
    params.iter().map(|p| match p {
        Param::Int(v) => v as &dyn ToSql,
        Param::Text(v) => v as &dyn ToSql,
        Param::OptText(v) => v as &dyn ToSql,
        Param::OptInt(v) => v as &dyn ToSql,
        Param::Bool(v) => v as &dyn ToSql,
        // Refused before binding (see `no_arrays`).
        Param::Ints(_) | Param::OptInts(_) | Param::Texts(_) => {
            &rusqlite::types::Null as &dyn ToSql
        }
    })
}

/// Runs a prepared statement once; a constraint it breaks is named as such.
fn run(stmt: &mut rusqlite::CachedStatement<'_>, params: &[Param]) -> Result<u64> {
    match stmt.execute(rusqlite::params_from_iter(bind(params))) {
        Ok(n) => Ok(n as u64),
        Err(e) if e.sqlite_error_code() == Some(SqliteCode::ConstraintViolation) => {
            Err(Error::Store(format!("sqlite: unique violation: {e}")))
        }
        Err(e) => Err(db(e)),
    }
}

/// SQLite binds no arrays: the store writes row by row here.
fn no_arrays(params: &[Param]) -> Result<()> {
    match params.iter().any(Param::is_array) {
        true => Err(Error::Internal("sqlite binds no arrays".into())),
        false => Ok(()),
    }
}

impl Backend for SqliteBackend {
    fn execute(&mut self, sql: &'static str, params: &[Param]) -> Result<u64> {
        no_arrays(params)?;
        let mut stmt = self.conn.prepare_cached(sql).map_err(db)?;
        run(&mut stmt, params)
    }

    fn execute_rows(
        &mut self,
        sql: &'static str,
        rows: &[&[Param]],
    ) -> std::result::Result<(), (usize, Error)> {
        // One look-up in the statement cache for the batch, not one a row.
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| (0, db(e)))?;
        for (i, params) in rows.iter().enumerate() {
            no_arrays(params)
                .and_then(|()| run(&mut stmt, params))
                .map_err(|e| (i, e))?;
        }
        Ok(())
    }

    fn query(
        &mut self,
        sql: &'static str,
        params: &[Param],
        row: &mut dyn FnMut(&dyn Row) -> Result<()>,
    ) -> Result<()> {
        no_arrays(params)?;
        let mut stmt = self.conn.prepare_cached(sql).map_err(db)?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(bind(params)))
            .map_err(db)?;
        while let Some(r) = rows.next().map_err(db)? {
            row(&SqliteRow(r))?;
        }
        Ok(())
    }

    fn begin(&mut self) -> Result<()> {
        // IMMEDIATE takes the write lock now, so a transaction never fails half-way to upgrade it.
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(db)
    }

    fn commit(&mut self) -> Result<()> {
        self.conn.execute_batch("COMMIT").map_err(db)
    }

    fn rollback(&mut self) -> Result<()> {
        if self.conn.is_autocommit() {
            return Ok(()); // none open, or SQLite already rolled back (e.g. after an I/O error)
        }
        self.conn.execute_batch("ROLLBACK").map_err(db)
    }

    fn owns_database(&self) -> bool {
        true
    }

    fn migrations(&self) -> &'static [&'static str] {
        schema::SQLITE_MIGRATIONS
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        self.conn.execute_batch(sql).map_err(db)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customers_statement_reads_both_customer_side_indexes() {
        let dir = std::env::temp_dir().join(format!("backorder-plan-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut store = SqliteStore::open(&dir.join("plan.db"), Default::default()).unwrap();
        let conn = &store.backend_mut().conn;
        let mut plan = conn
            .prepare(&format!(
                "EXPLAIN QUERY PLAN {}",
                super::super::sql::CUSTOMER_TRANSFERS
            ))
            .unwrap();
        let steps: Vec<String> = plan
            .query_map(["ann", "0", "10"], |r| r.get::<_, String>(3))
            .unwrap()
            .map(|s| s.unwrap())
            .collect();
        drop(plan);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
        let plan = steps.join("\n");
        assert!(plan.contains("transfers_by_customer_debit"), "{plan}");
        assert!(plan.contains("transfers_by_customer_credit"), "{plan}");
    }

    #[test]
    fn a_database_of_the_first_schema_is_brought_up_to_date_with_its_journal() {
        use backorder_core::ledger::LedgerStore;
        use backorder_core::store::Store;
        let dir = std::env::temp_dir().join(format!("backorder-upgrade-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("v1.db");
        {
            // What the first release wrote: schema 1 and one journal row.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(schema::MIGRATIONS_TABLE).unwrap();
            conn.execute_batch(schema::SQLITE_MIGRATIONS[0]).unwrap();
            conn.execute("INSERT INTO schema_migrations (version) VALUES (1)", [])
                .unwrap();
            let body = r#"{"id":1,"key":"k1","kind":"FUND","debit":"@funding:USD","credit":"ann","amount":"10.00","currency":"USD","pending_id":null,"backorder":null,"at":"2026-03-01T12:00:00Z"}"#;
            conn.execute(
                "INSERT INTO transfers (id, key, debit, credit, body) \
                 VALUES (1, 'k1', '@funding:USD', 'ann', ?1)",
                [body],
            )
            .unwrap();
        }
        let mut store = SqliteStore::open(&path, Default::default()).unwrap();
        let version = store.schema_version().unwrap();
        let ann: Vec<u64> = store
            .transfers_for_account("ann", 0, 10)
            .unwrap()
            .iter()
            .map(|t| t.id)
            .collect();
        let funding = store.transfers_for_account("@funding:USD", 0, 10).unwrap();
        let by_key = store.transfer_by_key("k1").unwrap();
        let next = store.next_transfer_id().unwrap();
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(version, schema::SQLITE_MIGRATIONS.len() as i64);
        assert_eq!(ann, vec![1]);
        assert_eq!(funding.len(), 1);
        // Read back from the columns the JSON body was moved into, to the cent.
        let t = by_key.unwrap();
        assert_eq!(t, funding[0]);
        assert_eq!(
            (
                t.kind,
                t.amount.to_string(),
                t.currency.as_str(),
                t.pending_id,
                t.backorder
            ),
            (
                backorder_core::ledger::TransferKind::Fund,
                "10.00".to_string(),
                "USD",
                None,
                None
            )
        );
        assert_eq!(t.at.to_rfc3339(), "2026-03-01T12:00:00+00:00");
        assert_eq!(next, 2, "the counter is rebuilt from the journal");
    }
}
