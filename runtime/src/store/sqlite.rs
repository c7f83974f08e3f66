//! The SQLite store: the embedded default, one file, nothing to install (the library is built in).
//!
//! Every engine command is one `BEGIN IMMEDIATE … COMMIT` transaction, its outbox events included,
//! so a crash leaves either all of a command or none of it. The file is in WAL mode. Durability is
//! set by the URL: `sqlite:PATH` (or `?synchronous=normal`) survives the process being killed at any
//! moment — a commit is in the WAL before it returns — and may lose the last commits on a power
//! failure; `sqlite:PATH?synchronous=full` syncs the WAL on every commit and survives that too, at
//! a cost in commits per second (see BENCHMARKS.md).
//!
//! Records are stored as JSON documents beside the columns the engine looks them up by. Amounts
//! are JSON strings (`"49.00"`), never floats, so money round-trips exactly; times are fixed-width
//! RFC 3339 text with nanoseconds, which sorts as time does.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use backorder_core::account::Account;
use backorder_core::alert::Subscription;
use backorder_core::auction::Auction;
use backorder_core::backorder::{Allocation, Backorder};
use backorder_core::catalog::PendingDeletion;
use backorder_core::event::Event;
use backorder_core::ledger::{LedgerAccount, LedgerStore, Reservation, Transfer};
use backorder_core::lifecycle::Status;
use backorder_core::name::DomainName;
use backorder_core::policy::TldPolicy;
use backorder_core::store::{BackorderHead, CommandRecord, NewEvent, Store, WakeKey};
use backorder_core::{Error, Key, Result};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::schema::{self, time_text};

/// How hard a commit tries to reach the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Synchronous {
    /// The WAL is synced at checkpoints: a commit survives the process dying, not the machine.
    Normal,
    /// The WAL is synced at every commit: a commit survives a power failure.
    Full,
}

/// A [`Store`] in one SQLite file.
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
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub struct SqliteStore {
    conn: Connection,
    in_tx: bool,
    /// The id counters, kept in memory: the process owns the file (exclusive locking), so they
    /// cannot move under it, and a transaction need not write a counter row.
    counters: Counters,
    /// The counters as they were at `begin`, restored by `rollback`.
    counters_at_begin: Counters,
    /// Ledger accounts and reservations written in the open transaction, flushed at commit (or
    /// before any query that scans their table): a batch that moves one account a thousand times
    /// writes its row once.
    dirty_ledger: HashMap<Key, LedgerAccount>,
    dirty_reservations: BTreeMap<u64, Reservation>,
    /// Committed ledger accounts, read once: there are few (one per customer and currency), and
    /// every deposit reads two.
    ledger_cache: HashMap<Key, LedgerAccount>,
}

/// The next-id counters: the last id given out of each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counters {
    transfer: u64,
    backorder: u64,
    auction: u64,
    event: u64,
    subscription: u64,
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

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Internal(format!("encoding a record: {e}")))
}

fn from_json<T: DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| Error::Store(format!("a stored record is unreadable: {e}")))
}

/// Ids and counters are `u64` in the engine and `INTEGER` (i64) in SQL; ids never reach 2^63.
fn sql_id(id: u64) -> i64 {
    id.min(i64::MAX as u64) as i64
}

fn wake_kind(key: WakeKey) -> (i64, i64) {
    match key {
        WakeKey::Backorder(id) => (schema::WAKE_BACKORDER, sql_id(id)),
        WakeKey::Auction(id) => (schema::WAKE_AUCTION, sql_id(id)),
    }
}

fn parse_time(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::Store(format!("a stored time '{s}' is unreadable: {e}")))
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// A file serves one process at a time: opening one another process has open fails with
    /// [`Error::Store`] saying so (several hosts share a PostgreSQL database instead).
    pub fn open(path: &Path, options: SqliteOptions) -> Result<SqliteStore> {
        let conn = Connection::open(path).map_err(db)?;
        SqliteStore::with_connection(conn, options).map_err(|e| match e {
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

    fn with_connection(conn: Connection, options: SqliteOptions) -> Result<SqliteStore> {
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
        // A 64 MiB page cache and the file mapped for reads: the engine's working set stays in
        // memory instead of being read back with a system call per page.
        conn.execute_batch(&format!(
            "PRAGMA synchronous = {sync}; PRAGMA foreign_keys = OFF; \
             PRAGMA cache_size = -65536; PRAGMA mmap_size = 1073741824;"
        ))
        .map_err(db)?;
        conn.set_prepared_statement_cache_capacity(128);
        let mut store = SqliteStore {
            conn,
            in_tx: false,
            counters: Counters::default(),
            counters_at_begin: Counters::default(),
            dirty_ledger: HashMap::new(),
            dirty_reservations: BTreeMap::new(),
            ledger_cache: HashMap::new(),
        };
        store.migrate()?;
        store.counters = store.load_counters()?;
        Ok(store)
    }

    /// Applies the migrations this build knows and the file lacks, each in its own transaction.
    fn migrate(&mut self) -> Result<()> {
        self.conn
            .execute_batch(schema::MIGRATIONS_TABLE)
            .map_err(db)?;
        let applied: i64 = self
            .conn
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                [],
                |r| r.get(0),
            )
            .map_err(db)?;
        let known = schema::MIGRATIONS.len() as i64;
        if applied > known {
            return Err(Error::Store(format!(
                "the database's schema is version {applied}, newer than this build knows ({known}): \
                 open it with a newer libbackorder"
            )));
        }
        for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(applied as usize) {
            let version = i as i64 + 1;
            let tx = self.conn.transaction().map_err(db)?;
            tx.execute_batch(sql).map_err(db)?;
            tx.execute(
                "INSERT INTO schema_migrations (version) VALUES (?1)",
                params![version],
            )
            .map_err(db)?;
            tx.commit().map_err(db)?;
        }
        Ok(())
    }

    /// The schema version the file is at.
    pub fn schema_version(&mut self) -> Result<i64> {
        self.conn
            .query_row("SELECT MAX(version) FROM schema_migrations", [], |r| {
                r.get(0)
            })
            .map_err(db)
    }

    /// The counters as the file has them: the largest id in each table, or for the tables rows
    /// leave (events are pruned, subscriptions deleted) the high-water mark recorded when they
    /// left, whichever is larger.
    fn load_counters(&mut self) -> Result<Counters> {
        let max = |sql: &str| -> Result<u64> {
            let v: Option<i64> = self.conn.query_row(sql, [], |r| r.get(0)).map_err(db)?;
            Ok(v.unwrap_or(0).max(0) as u64)
        };
        Ok(Counters {
            transfer: max("SELECT MAX(id) FROM transfers")?,
            backorder: max("SELECT MAX(id) FROM backorders")?,
            auction: max("SELECT MAX(id) FROM auctions")?,
            event: max("SELECT MAX(seq) FROM events")?
                .max(max("SELECT value FROM counters WHERE name = 'event'")?),
            subscription: max("SELECT MAX(id) FROM subscriptions")?.max(max(
                "SELECT value FROM counters WHERE name = 'subscription'",
            )?),
        })
    }

    /// Records that ids up to `value` of counter `name` were used, for rows that leave the table.
    fn record_high_water(&mut self, name: &str, value: u64) -> Result<()> {
        self.exec(
            "UPDATE counters SET value = MAX(value, ?2) WHERE name = ?1",
            params![name, sql_id(value)],
        )?;
        Ok(())
    }

    /// Writes the buffered ledger accounts and reservations.
    fn flush(&mut self) -> Result<()> {
        let ledger = std::mem::take(&mut self.dirty_ledger);
        for account in ledger.values() {
            let body = to_json(account)?;
            self.exec(
                "INSERT INTO ledger_accounts (key, body) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET body = excluded.body",
                params![account.key.as_str(), body],
            )?;
        }
        // Kept until commit: a rollback must not leave them in the cache.
        self.dirty_ledger = ledger;
        let reservations = std::mem::take(&mut self.dirty_reservations);
        for r in reservations.values() {
            let body = to_json(r)?;
            self.exec(
                "INSERT INTO reservations (id, body) VALUES (?1, ?2) \
                 ON CONFLICT (id) DO UPDATE SET body = excluded.body",
                params![sql_id(r.id), body],
            )?;
        }
        Ok(())
    }

    /// Forgets the open transaction's buffered writes and id allocations.
    fn discard(&mut self) {
        self.dirty_ledger.clear();
        self.dirty_reservations.clear();
        self.counters = self.counters_at_begin;
    }

    /// Writes buffered records outside a transaction, as their own commit.
    fn commit_buffers(&mut self) -> Result<()> {
        self.begin()?;
        self.commit()
    }

    fn get_doc<T: DeserializeOwned>(
        &mut self,
        sql: &str,
        key: impl rusqlite::Params,
    ) -> Result<Option<T>> {
        let body: Option<String> = self
            .conn
            .prepare_cached(sql)
            .map_err(db)?
            .query_row(key, |r| r.get(0))
            .optional()
            .map_err(db)?;
        body.map(|b| from_json(&b)).transpose()
    }

    fn docs<T: DeserializeOwned>(
        &mut self,
        sql: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<T>> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(db)?;
        let rows = stmt
            .query_map(args, |r| r.get::<_, String>(0))
            .map_err(db)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(from_json(&row.map_err(db)?)?);
        }
        Ok(out)
    }

    fn exec(&mut self, sql: &str, args: impl rusqlite::Params) -> Result<usize> {
        self.conn
            .prepare_cached(sql)
            .map_err(db)?
            .execute(args)
            .map_err(db)
    }
}

impl LedgerStore for SqliteStore {
    fn ledger_account(&mut self, key: &str) -> Result<Option<LedgerAccount>> {
        if let Some(a) = self
            .dirty_ledger
            .get(key)
            .or_else(|| self.ledger_cache.get(key))
        {
            return Ok(Some(a.clone()));
        }
        let found: Option<LedgerAccount> = self.get_doc(
            "SELECT body FROM ledger_accounts WHERE key = ?1",
            params![key],
        )?;
        if let Some(a) = &found {
            self.ledger_cache.insert(a.key.clone(), a.clone());
        }
        Ok(found)
    }

    fn put_ledger_account(&mut self, account: LedgerAccount) -> Result<()> {
        self.dirty_ledger.insert(account.key.clone(), account);
        if !self.in_tx {
            self.commit_buffers()?;
        }
        Ok(())
    }

    fn transfer_by_key(&mut self, key: &str) -> Result<Option<Transfer>> {
        self.get_doc("SELECT body FROM transfers WHERE key = ?1", params![key])
    }

    fn next_transfer_id(&mut self) -> Result<u64> {
        self.counters.transfer += 1;
        Ok(self.counters.transfer)
    }

    fn insert_transfer(&mut self, t: &Transfer) -> Result<()> {
        let body = to_json(t)?;
        let r = self.exec(
            "INSERT INTO transfers (id, key, debit, credit, body) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                sql_id(t.id),
                t.key.as_str(),
                t.debit.as_str(),
                t.credit.as_str(),
                body
            ],
        );
        match r {
            Ok(_) => Ok(()),
            Err(Error::Store(m)) if m.contains("UNIQUE constraint failed: transfers.key") => {
                Err(Error::IdempotencyConflict(t.key.to_string()))
            }
            Err(e) => Err(e),
        }
    }

    fn reservation(&mut self, id: u64) -> Result<Option<Reservation>> {
        if let Some(r) = self.dirty_reservations.get(&id) {
            return Ok(Some(r.clone()));
        }
        self.get_doc(
            "SELECT body FROM reservations WHERE id = ?1",
            params![sql_id(id)],
        )
    }

    fn put_reservation(&mut self, r: Reservation) -> Result<()> {
        self.dirty_reservations.insert(r.id, r);
        if !self.in_tx {
            self.commit_buffers()?;
        }
        Ok(())
    }
}

impl Store for SqliteStore {
    fn begin(&mut self) -> Result<()> {
        if self.in_tx {
            return Err(Error::Internal("a transaction is already open".into()));
        }
        // IMMEDIATE takes the write lock now, so a transaction never fails half-way to upgrade it.
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(db)?;
        self.in_tx = true;
        self.counters_at_begin = self.counters;
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        if !self.in_tx {
            return Ok(());
        }
        let flushed = self.flush();
        let committed = flushed.and_then(|()| self.conn.execute_batch("COMMIT").map_err(db));
        self.in_tx = false;
        match committed {
            Ok(()) => {
                self.ledger_cache.extend(self.dirty_ledger.drain());
                Ok(())
            }
            Err(e) => {
                // A failed COMMIT may leave the transaction open: end it, so nothing half-done
                // stays, and forget what it wrote.
                if !self.conn.is_autocommit() {
                    let _ = self.conn.execute_batch("ROLLBACK");
                }
                self.discard();
                Err(e)
            }
        }
    }

    fn rollback(&mut self) -> Result<()> {
        if !self.in_tx {
            return Ok(());
        }
        self.in_tx = false;
        self.discard();
        if self.conn.is_autocommit() {
            return Ok(()); // SQLite already rolled back (e.g. after an I/O error)
        }
        self.conn.execute_batch("ROLLBACK").map_err(db)
    }

    fn next_backorder_id(&mut self) -> Result<u64> {
        self.counters.backorder += 1;
        Ok(self.counters.backorder)
    }

    fn next_auction_id(&mut self) -> Result<u64> {
        self.counters.auction += 1;
        Ok(self.counters.auction)
    }

    fn policies(&mut self) -> Result<Vec<TldPolicy>> {
        self.docs("SELECT body FROM policies ORDER BY zone", [])
    }

    fn put_policy(&mut self, policy: &TldPolicy) -> Result<()> {
        let body = to_json(policy)?;
        self.exec(
            "INSERT INTO policies (zone, body) VALUES (?1, ?2) \
             ON CONFLICT (zone) DO UPDATE SET body = excluded.body",
            params![policy.zone, body],
        )?;
        Ok(())
    }

    fn account(&mut self, id: &str) -> Result<Option<Account>> {
        self.get_doc("SELECT body FROM accounts WHERE id = ?1", params![id])
    }

    fn put_account(&mut self, account: &Account) -> Result<()> {
        let body = to_json(account)?;
        self.exec(
            "INSERT INTO accounts (id, body) VALUES (?1, ?2) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            params![account.id.as_str(), body],
        )?;
        Ok(())
    }

    fn account_ids(&mut self, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id FROM accounts WHERE ?1 IS NULL OR id > ?1 ORDER BY id LIMIT ?2",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(params![after, limit as i64], |r| r.get::<_, String>(0))
            .map_err(db)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
    }

    fn pending_deletion(&mut self, domain: &DomainName) -> Result<Option<PendingDeletion>> {
        let row: Option<(String, bool, String)> = self
            .conn
            .prepare_cached(
                "SELECT drop_at, withdrawn, updated_at FROM pending_deletions WHERE domain = ?1",
            )
            .map_err(db)?
            .query_row(params![domain.as_str()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()
            .map_err(db)?;
        row.map(|(drop_at, withdrawn, updated_at)| {
            Ok(PendingDeletion {
                domain: domain.clone(),
                drop_at: parse_time(&drop_at)?,
                withdrawn,
                updated_at: parse_time(&updated_at)?,
            })
        })
        .transpose()
    }

    fn put_pending_deletion(&mut self, e: &PendingDeletion) -> Result<()> {
        self.exec(
            "INSERT INTO pending_deletions (domain, drop_at, withdrawn, updated_at) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (domain) DO UPDATE SET \
             drop_at = excluded.drop_at, withdrawn = excluded.withdrawn, \
             updated_at = excluded.updated_at",
            params![
                e.domain.as_str(),
                time_text(e.drop_at),
                e.withdrawn,
                time_text(e.updated_at)
            ],
        )?;
        Ok(())
    }

    fn pending_deletions(&mut self) -> Result<Vec<PendingDeletion>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT domain, drop_at, withdrawn, updated_at FROM pending_deletions")
            .map_err(db)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(db)?;
        let mut out = Vec::new();
        for row in rows {
            let (domain, drop_at, withdrawn, updated_at) = row.map_err(db)?;
            out.push(PendingDeletion {
                domain: DomainName::parse(&domain)
                    .map_err(|e| Error::Store(format!("a stored name is unreadable: {e}")))?,
                drop_at: parse_time(&drop_at)?,
                withdrawn,
                updated_at: parse_time(&updated_at)?,
            });
        }
        Ok(out)
    }

    fn listed_count(&mut self) -> Result<u64> {
        let n: i64 = self
            .conn
            .prepare_cached("SELECT COUNT(*) FROM pending_deletions WHERE NOT withdrawn")
            .map_err(db)?
            .query_row([], |r| r.get(0))
            .map_err(db)?;
        Ok(n as u64)
    }

    fn next_subscription_id(&mut self) -> Result<u64> {
        self.counters.subscription += 1;
        Ok(self.counters.subscription)
    }

    fn put_subscription(&mut self, s: &Subscription) -> Result<()> {
        let body = to_json(s)?;
        self.exec(
            "INSERT INTO subscriptions (id, body) VALUES (?1, ?2) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            params![sql_id(s.id), body],
        )?;
        Ok(())
    }

    fn delete_subscription(&mut self, id: u64) -> Result<()> {
        let high = self.counters.subscription;
        self.record_high_water("subscription", high)?;
        self.exec(
            "DELETE FROM subscriptions WHERE id = ?1",
            params![sql_id(id)],
        )?;
        Ok(())
    }

    fn subscription(&mut self, id: u64) -> Result<Option<Subscription>> {
        self.get_doc(
            "SELECT body FROM subscriptions WHERE id = ?1",
            params![sql_id(id)],
        )
    }

    fn subscriptions(&mut self) -> Result<Vec<Subscription>> {
        self.docs("SELECT body FROM subscriptions ORDER BY id", [])
    }

    fn alert_sent(&mut self, subscription: u64, domain: &DomainName) -> Result<bool> {
        let hit: Option<i64> = self
            .conn
            .prepare_cached("SELECT 1 FROM alerts_sent WHERE subscription = ?1 AND domain = ?2")
            .map_err(db)?
            .query_row(params![sql_id(subscription), domain.as_str()], |r| r.get(0))
            .optional()
            .map_err(db)?;
        Ok(hit.is_some())
    }

    fn mark_alert_sent(&mut self, subscription: u64, domain: &DomainName) -> Result<()> {
        self.exec(
            "INSERT INTO alerts_sent (subscription, domain) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![sql_id(subscription), domain.as_str()],
        )?;
        Ok(())
    }

    fn backorder(&mut self, id: u64) -> Result<Option<Backorder>> {
        self.get_doc(
            "SELECT body FROM backorders WHERE id = ?1",
            params![sql_id(id)],
        )
    }

    fn put_backorder(&mut self, b: Backorder) -> Result<()> {
        let body = to_json(&b)?;
        self.exec(
            "INSERT INTO backorders (id, domain, account, status, drop_at, body) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE SET \
             status = excluded.status, drop_at = excluded.drop_at, body = excluded.body",
            params![
                sql_id(b.id),
                b.domain.as_str(),
                b.account.as_str(),
                b.status.as_str(),
                b.drop_at.map(time_text),
                body
            ],
        )?;
        Ok(())
    }

    fn backorders_for_name(
        &mut self,
        domain: &DomainName,
        account: Option<&str>,
    ) -> Result<Vec<BackorderHead>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, status, drop_at FROM backorders \
                 WHERE domain = ?1 AND (?2 IS NULL OR account = ?2) ORDER BY id",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(params![domain.as_str(), account], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })
            .map_err(db)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, status, drop_at) = row.map_err(db)?;
            out.push(BackorderHead {
                id: id as u64,
                status: status.parse::<Status>()?,
                drop_at: drop_at.as_deref().map(parse_time).transpose()?,
            });
        }
        Ok(out)
    }

    fn backorders_for_account(&mut self, account: &str) -> Result<Vec<u64>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM backorders WHERE account = ?1 ORDER BY id")
            .map_err(db)?;
        let rows = stmt
            .query_map(params![account], |r| r.get::<_, i64>(0))
            .map_err(db)?;
        rows.map(|r| r.map(|id| id as u64))
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db)
    }

    fn count_by_status(&mut self) -> Result<BTreeMap<Status, u64>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT status, COUNT(*) FROM backorders GROUP BY status")
            .map_err(db)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .map_err(db)?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (status, n) = row.map_err(db)?;
            out.insert(status.parse::<Status>()?, n as u64);
        }
        Ok(out)
    }

    fn backorders_after(&mut self, after: u64, limit: usize) -> Result<Vec<Backorder>> {
        self.docs(
            "SELECT body FROM backorders WHERE id > ?1 ORDER BY id LIMIT ?2",
            params![sql_id(after), limit as i64],
        )
    }

    fn auction(&mut self, id: u64) -> Result<Option<Auction>> {
        self.get_doc(
            "SELECT body FROM auctions WHERE id = ?1",
            params![sql_id(id)],
        )
    }

    fn put_auction(&mut self, a: Auction) -> Result<()> {
        let body = to_json(&a)?;
        self.exec(
            "INSERT INTO auctions (id, body) VALUES (?1, ?2) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            params![sql_id(a.id), body],
        )?;
        Ok(())
    }

    fn auctions_after(&mut self, after: u64, limit: usize) -> Result<Vec<Auction>> {
        self.docs(
            "SELECT body FROM auctions WHERE id > ?1 ORDER BY id LIMIT ?2",
            params![sql_id(after), limit as i64],
        )
    }

    fn allocation(
        &mut self,
        domain: &DomainName,
        drop_at: DateTime<Utc>,
    ) -> Result<Option<Allocation>> {
        self.get_doc(
            "SELECT body FROM allocations WHERE domain = ?1 AND drop_at = ?2",
            params![domain.as_str(), time_text(drop_at)],
        )
    }

    fn put_allocation(&mut self, a: &Allocation) -> Result<()> {
        let body = to_json(a)?;
        self.exec(
            "INSERT INTO allocations (domain, drop_at, body) VALUES (?1, ?2, ?3) \
             ON CONFLICT (domain, drop_at) DO UPDATE SET body = excluded.body",
            params![a.domain.as_str(), time_text(a.drop_at), body],
        )?;
        Ok(())
    }

    fn set_wake(&mut self, key: WakeKey, at: Option<DateTime<Utc>>) -> Result<()> {
        let (kind, id) = wake_kind(key);
        match at {
            Some(t) => self.exec(
                "INSERT INTO wakes (kind, id, at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (kind, id) DO UPDATE SET at = excluded.at",
                params![kind, id, time_text(t)],
            )?,
            None => self.exec(
                "DELETE FROM wakes WHERE kind = ?1 AND id = ?2",
                params![kind, id],
            )?,
        };
        Ok(())
    }

    fn wake_of(&mut self, key: WakeKey) -> Result<Option<DateTime<Utc>>> {
        let (kind, id) = wake_kind(key);
        let at: Option<String> = self
            .conn
            .prepare_cached("SELECT at FROM wakes WHERE kind = ?1 AND id = ?2")
            .map_err(db)?
            .query_row(params![kind, id], |r| r.get(0))
            .optional()
            .map_err(db)?;
        at.as_deref().map(parse_time).transpose()
    }

    fn due(&mut self, now: DateTime<Utc>, limit: usize) -> Result<Vec<(DateTime<Utc>, WakeKey)>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT at, kind, id FROM wakes WHERE at <= ?1 ORDER BY at, kind, id LIMIT ?2",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(params![time_text(now), limit as i64], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(db)?;
        let mut out = Vec::new();
        for row in rows {
            let (at, kind, id) = row.map_err(db)?;
            out.push((parse_time(&at)?, schema::wake_key(kind, id)?));
        }
        Ok(out)
    }

    fn next_wake(&mut self) -> Result<Option<DateTime<Utc>>> {
        let at: Option<String> = self
            .conn
            .prepare_cached("SELECT MIN(at) FROM wakes")
            .map_err(db)?
            .query_row([], |r| r.get(0))
            .map_err(db)?;
        at.as_deref().map(parse_time).transpose()
    }

    fn append_event(&mut self, e: NewEvent) -> Result<u64> {
        self.counters.event += 1;
        let seq = self.counters.event;
        let event = Event {
            seq,
            at: e.at,
            account: e.account,
            backorder: e.backorder,
            domain: e.domain,
            kind: e.kind,
        };
        let body = to_json(&event)?;
        self.exec(
            "INSERT INTO events (seq, body) VALUES (?1, ?2)",
            params![sql_id(seq), body],
        )?;
        Ok(seq)
    }

    fn events_after(&mut self, after: u64, limit: usize) -> Result<Vec<Event>> {
        self.docs(
            "SELECT body FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            params![sql_id(after), limit as i64],
        )
    }

    fn prune_events(&mut self, upto: u64) -> Result<()> {
        let high = upto.min(self.counters.event);
        self.record_high_water("event", high)?;
        self.exec("DELETE FROM events WHERE seq <= ?1", params![sql_id(upto)])?;
        Ok(())
    }

    fn command(&mut self, key: &str) -> Result<Option<CommandRecord>> {
        self.conn
            .prepare_cached("SELECT fingerprint, result FROM commands WHERE key = ?1")
            .map_err(db)?
            .query_row(params![key], |r| {
                Ok(CommandRecord {
                    key: key.into(),
                    fingerprint: r.get::<_, i64>(0)? as u64,
                    result: r.get::<_, i64>(1)? as u64,
                })
            })
            .optional()
            .map_err(db)
    }

    fn put_command(&mut self, c: CommandRecord) -> Result<()> {
        self.exec(
            "INSERT INTO commands (key, fingerprint, result) VALUES (?1, ?2, ?3) \
             ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, \
             result = excluded.result",
            // The fingerprint's 64 bits are kept as they are, read back the same way.
            params![c.key.as_str(), c.fingerprint as i64, sql_id(c.result)],
        )?;
        Ok(())
    }

    fn ledger_accounts_after(
        &mut self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<LedgerAccount>> {
        self.flush()?;
        self.docs(
            "SELECT body FROM ledger_accounts WHERE ?1 IS NULL OR key > ?1 ORDER BY key LIMIT ?2",
            params![after, limit as i64],
        )
    }

    fn transfers_after(&mut self, after: u64, limit: usize) -> Result<Vec<Transfer>> {
        self.docs(
            "SELECT body FROM transfers WHERE id > ?1 ORDER BY id LIMIT ?2",
            params![sql_id(after), limit as i64],
        )
    }

    fn transfers_for_account(
        &mut self,
        account: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Transfer>> {
        self.docs(
            "SELECT body FROM transfers WHERE id IN ( \
               SELECT id FROM transfers WHERE debit = ?1 AND id > ?2 \
               UNION SELECT id FROM transfers WHERE credit = ?1 AND id > ?2) \
             ORDER BY id LIMIT ?3",
            params![account, sql_id(after), limit as i64],
        )
    }

    fn reservations_after(&mut self, after: u64, limit: usize) -> Result<Vec<Reservation>> {
        self.flush()?;
        self.docs(
            "SELECT body FROM reservations WHERE id > ?1 ORDER BY id LIMIT ?2",
            params![sql_id(after), limit as i64],
        )
    }
}
