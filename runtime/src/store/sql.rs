//! The durable stores' one implementation of [`Store`], over a SQL [`Backend`] (SQLite or
//! PostgreSQL).
//!
//! Records are JSON documents beside the columns they are looked up by, except journal rows,
//! which every ledger operation writes and which are plain columns. Amounts are decimal text
//! (`"49.00"`), never floats, so money round-trips exactly; times are fixed-width RFC 3339 text
//! with nanoseconds, which sorts as time does. Statements are written once, with `?1`-style
//! placeholders and portable SQL (explicit casts where PostgreSQL must know a parameter's type);
//! a backend rewrites placeholders as its server wants.
//!
//! A backend that owns its database (SQLite: one process per file) lets the store keep the id
//! counters in memory and cache committed ledger accounts; a shared one (PostgreSQL: several
//! engine processes) takes ids from the `counters` table inside the transaction (journal ids
//! from a block of its own), keeps the ledger rows it last saw only as answers its next write
//! statement checks, and adds to the registrar's own accounts without reading them (see
//! [`PostgresStore`](super::postgres::PostgresStore) and `system_accounts`). Either way, journal rows,
//! ledger accounts and reservations written in a transaction are buffered and written at commit
//! (or before a query that scans their table); on PostgreSQL in one statement. After
//! [`Store::defer_key_checks`] ledger idempotency keys are checked at the end of a transaction,
//! not read before use.

use std::collections::{BTreeMap, HashMap};

use backorder_core::account::Account;
use backorder_core::alert::Subscription;
use backorder_core::auction::Auction;
use backorder_core::backorder::{Allocation, Backorder};
use backorder_core::catalog::PendingDeletion;
use backorder_core::event::Event;
use backorder_core::ledger::{
    LedgerAccount, LedgerAccountKind, LedgerStore, Reservation, SystemAccountChange, Transfer,
    TransferKind,
};
use backorder_core::lifecycle::Status;
use backorder_core::name::DomainName;
use backorder_core::policy::TldPolicy;
use backorder_core::store::{BackorderHead, CommandRecord, NewEvent, Store, WakeKey};
use backorder_core::{Currency, Error, Key, Result};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::schema::{self, time_text};
use super::shared_cache::SharedCache;
use super::system_accounts::{self, accounts_with_shares, add_to_shares, share_sums};

/// A statement parameter.
#[derive(Clone, Copy, Debug)]
pub enum Param<'a> {
    /// A 64-bit integer.
    Int(i64),
    /// Text.
    Text(&'a str),
    /// Text or NULL.
    OptText(Option<&'a str>),
    /// A 64-bit integer or NULL.
    OptInt(Option<i64>),
    /// A boolean.
    Bool(bool),
    /// An array of 64-bit integers (only where [`Backend::binds_arrays`]).
    Ints(&'a [i64]),
    /// An array of 64-bit integers or NULLs (only where [`Backend::binds_arrays`]).
    OptInts(&'a [Option<i64>]),
    /// An array of texts (only where [`Backend::binds_arrays`]).
    Texts(&'a [&'a str]),
}

impl Param<'_> {
    /// True for the array kinds.
    pub fn is_array(&self) -> bool {
        matches!(self, Param::Ints(_) | Param::OptInts(_) | Param::Texts(_))
    }
}

/// One result row, read by column index.
pub trait Row {
    /// A 64-bit integer column.
    fn int(&self, i: usize) -> Result<i64>;
    /// An integer column that may be NULL.
    fn opt_int(&self, i: usize) -> Result<Option<i64>>;
    /// A text column.
    fn text(&self, i: usize) -> Result<String>;
    /// A text column that may be NULL.
    fn opt_text(&self, i: usize) -> Result<Option<String>>;
    /// A boolean column.
    fn boolean(&self, i: usize) -> Result<bool>;
}

/// What a SQL database must do for [`SqlStore`]. Statements use `?1`, `?2`, … placeholders.
pub trait Backend: Send {
    /// Runs a statement; returns the rows changed.
    fn execute(&mut self, sql: &'static str, params: &[Param]) -> Result<u64>;
    /// Runs a query, calling `row` on each result row.
    fn query(
        &mut self,
        sql: &'static str,
        params: &[Param],
        row: &mut dyn FnMut(&dyn Row) -> Result<()>,
    ) -> Result<()>;
    /// Starts a transaction (writes will follow).
    fn begin(&mut self) -> Result<()>;
    /// Commits it.
    fn commit(&mut self) -> Result<()>;
    /// Rolls it back; succeeds when there is none.
    fn rollback(&mut self) -> Result<()>;
    /// True when no other process writes the database while this one has it open.
    fn owns_database(&self) -> bool;
    /// The schema migrations, version 1 first.
    fn migrations(&self) -> &'static [&'static str];
    /// Runs a script of several statements (migrations), outside any transaction of the store's.
    fn batch(&mut self, sql: &str) -> Result<()>;
    /// Runs a statement, then commits: in one round trip where the backend can send both at once.
    /// When the statement fails nothing is committed and its error is returned.
    fn execute_and_commit(&mut self, sql: &'static str, params: &[Param]) -> Result<u64> {
        let n = self.execute(sql, params)?;
        self.commit()?;
        Ok(n)
    }
    /// Runs one statement once for each row of parameters, in order, stopping at the first
    /// error, which comes back with the row's index.
    fn execute_rows(
        &mut self,
        sql: &'static str,
        rows: &[&[Param]],
    ) -> std::result::Result<(), (usize, Error)> {
        for (i, params) in rows.iter().enumerate() {
            self.execute(sql, params).map_err(|e| (i, e))?;
        }
        Ok(())
    }
    /// True when the backend binds [`Param::Ints`] and [`Param::Texts`] as arrays, so a buffer of
    /// rows is written in one statement (one round trip) with `unnest`.
    fn binds_arrays(&self) -> bool {
        false
    }
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

/// A [`Store`] in a SQL database.
pub struct SqlStore<B: Backend> {
    db: B,
    in_tx: bool,
    /// With a database of its own: the id counters, in memory (rebuilt from the tables at open).
    counters: Counters,
    /// The counters as they were at `begin`, restored by `rollback`.
    counters_at_begin: Counters,
    /// Ledger accounts and reservations written in the open transaction, flushed at commit (or
    /// before any query that scans their table): a batch that moves one account a thousand times
    /// writes its row once.
    dirty_ledger: HashMap<Key, LedgerAccount>,
    dirty_reservations: BTreeMap<u64, Reservation>,
    /// With a database of its own: committed ledger accounts, read once (there are few, and
    /// every deposit reads two).
    ledger_cache: HashMap<Key, LedgerAccount>,
    /// Journal rows of the open transaction, in order, by key; those from `transfers_flushed` on
    /// are not yet written.
    tx_transfers: Vec<Transfer>,
    tx_transfer_keys: HashMap<Key, usize>,
    transfers_flushed: usize,
    /// Shared: changes to the registrar's own accounts in the open transaction, added to this
    /// connection's shares by the write statement (see `system_accounts`).
    dirty_system: BTreeMap<Key, (LedgerAccountKind, Currency, SystemAccountChange)>,
    /// Shared: the next journal id of this process's block and the block's last, kept between
    /// transactions (see [`schema::TRANSFER_ID_BLOCK`]), and as they were at `begin`.
    transfer_block: Option<(u64, u64)>,
    transfer_block_at_begin: Option<(u64, u64)>,
    /// Shared: the highest `last_transfer` of the customer rows the open transaction read; its
    /// journal ids must be above it.
    tx_id_floor: u64,
    /// When the caller runs a transaction again on [`Error::StoreConflict`]: idempotency keys
    /// are not read before use; see [`Store::defer_key_checks`].
    defer_keys: bool,
    /// Keys answered "absent" without reading in the open transaction.
    keys_assumed_absent: Vec<Key>,
    /// The previous attempt's deferred answer was wrong: read every key in the next transaction.
    read_keys_next: bool,
    /// The open transaction reads every key (no deferral, or the one after a wrong answer).
    reading_keys: bool,
    /// Shared database: rows last seen, answered without reading and checked by the next write.
    shared: SharedCache,
    /// Shared database: reservations the open transaction wrote, with their stored text, for
    /// the cache once it commits.
    tx_reservations_written: Vec<(Reservation, String)>,
    /// Shared database: the text of each ledger account as the open transaction last wrote it,
    /// for the cache once it commits (encoded once, for the write).
    tx_ledger_texts: HashMap<Key, String>,
}

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Internal(format!("encoding a record: {e}")))
}

fn from_json<T: DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| Error::Store(format!("a stored record is unreadable: {e}")))
}

/// Borrows each string of `v`, for a text-array parameter.
fn strs<S: AsRef<str>>(v: &[S]) -> Vec<&str> {
    v.iter().map(AsRef::as_ref).collect()
}

/// Ids and counters are `u64` in the engine and 64-bit signed in SQL; ids never reach 2^63.
fn sql_id(id: u64) -> i64 {
    id.min(i64::MAX as u64) as i64
}

fn limit(n: usize) -> i64 {
    n.min(i64::MAX as usize) as i64
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

use Param::{Bool, Int, Ints, OptInt, OptInts, OptText, Text, Texts};

/// What `backorder_journal_order_check` (schema 5) says when it fails a transaction.
pub(crate) const JOURNAL_ORDER: &str = "journal id at or below";

/// The check of rows a transaction took from the shared cache: true when every ledger account
/// (keys `?$k`, texts `?$t`) and reservation (ids `?$i`, texts `?$r`) still has that text. The
/// write statement and the check after a rollback both use it. Scalar sub-selects, so that
/// PostgreSQL looks each row up by its key (a join against `unnest` was planned as a scan).
macro_rules! kept_rows_unchanged {
    ($k:literal, $t:literal, $i:literal, $r:literal) => {
        concat!(
            "(SELECT count(*) FROM unnest(?",
            $k,
            "::text[], ?",
            $t,
            "::text[]) AS s(key, body) \
               WHERE s.body = (SELECT l.body FROM ledger_accounts l WHERE l.key = s.key)) \
               = cardinality(?",
            $k,
            "::text[]) \
             AND (SELECT count(*) FROM unnest(?",
            $i,
            "::bigint[], ?",
            $r,
            "::text[]) AS s(id, body) \
               WHERE s.body = (SELECT r.body FROM reservations r WHERE r.id = s.id)) \
               = cardinality(?",
            $i,
            "::bigint[])"
        )
    };
}

/// `SELECT` of a journal row's columns, in the order [`transfer_from`] reads them, then `$rest`.
macro_rules! select_transfers {
    ($rest:literal) => {
        concat!(
            "SELECT id, key, kind, debit, credit, amount, currency, pending_id, backorder, \
             journalled_at FROM transfers ",
            $rest
        )
    };
}

/// A transfer from a row [`select_transfers!`] selected.
fn transfer_from(r: &dyn Row) -> Result<Transfer> {
    let unreadable =
        |what: &str, v: &str| Error::Store(format!("a stored {what} '{v}' is unreadable"));
    let kind = r.text(2)?;
    let amount = r.text(5)?;
    let currency = r.text(6)?;
    Ok(Transfer {
        id: r.int(0)? as u64,
        key: Key::from(r.text(1)?),
        kind: TransferKind::parse(&kind).ok_or_else(|| unreadable("transfer kind", &kind))?,
        debit: Key::from(r.text(3)?),
        credit: Key::from(r.text(4)?),
        amount: amount.parse().map_err(|_| unreadable("amount", &amount))?,
        currency: currency
            .parse()
            .map_err(|_| unreadable("currency", &currency))?,
        pending_id: r.opt_int(7)?.map(|v| v as u64),
        backorder: r.opt_int(8)?.map(|v| v as u64),
        at: parse_time(&r.text(9)?)?,
    })
}

/// A customer's transfers after an id: both sides, each through its partial index (the
/// `NOT LIKE` terms repeat the indexes' conditions, which is how the database knows it may use
/// them).
pub(crate) const CUSTOMER_TRANSFERS: &str = select_transfers!(
    "WHERE id IN ( \
       SELECT id FROM transfers WHERE debit = ?1 AND debit NOT LIKE '@%' AND id > ?2 \
       UNION SELECT id FROM transfers WHERE credit = ?1 AND credit NOT LIKE '@%' AND id > ?2) \
     ORDER BY id LIMIT ?3"
);

impl<B: Backend> SqlStore<B> {
    /// A store on `db`, its schema brought up to date.
    pub(crate) fn new(db: B) -> Result<SqlStore<B>> {
        let mut store = SqlStore {
            db,
            in_tx: false,
            counters: Counters::default(),
            counters_at_begin: Counters::default(),
            dirty_ledger: HashMap::new(),
            dirty_reservations: BTreeMap::new(),
            ledger_cache: HashMap::new(),
            tx_transfers: Vec::new(),
            tx_transfer_keys: HashMap::new(),
            transfers_flushed: 0,
            dirty_system: BTreeMap::new(),
            transfer_block: None,
            transfer_block_at_begin: None,
            tx_id_floor: 0,
            defer_keys: false,
            keys_assumed_absent: Vec::new(),
            read_keys_next: false,
            reading_keys: true,
            shared: SharedCache::default(),
            tx_reservations_written: Vec::new(),
            tx_ledger_texts: HashMap::new(),
        };
        store.migrate()?;
        if store.db.owns_database() {
            store.counters = store.load_counters()?;
        }
        Ok(store)
    }

    /// Applies the migrations this build knows and the database lacks, each in a transaction.
    fn migrate(&mut self) -> Result<()> {
        self.db.batch(schema::MIGRATIONS_TABLE)?;
        let applied = self.schema_version()?;
        let migrations = self.db.migrations();
        let known = migrations.len() as i64;
        if applied > known {
            return Err(Error::Store(format!(
                "the database's schema is version {applied}, newer than this build knows ({known}): \
                 open it with a newer libbackorder"
            )));
        }
        for (i, sql) in migrations.iter().enumerate().skip(applied as usize) {
            let version = i as i64 + 1;
            self.db.begin()?;
            let applied = self.db.batch(sql).and_then(|()| {
                self.db.execute(
                    "INSERT INTO schema_migrations (version) VALUES (?1)",
                    &[Int(version)],
                )
            });
            match applied {
                Ok(_) => self.db.commit()?,
                // Another process migrated at the same moment: its version stands.
                Err(e) => {
                    self.db.rollback()?;
                    if self.schema_version()? < version {
                        return Err(e);
                    }
                }
            }
        }
        Ok(())
    }

    /// True on a shared database where rows are kept between transactions and checked by the
    /// next write ([`SharedCache`]); the check needs the one-statement flush.
    fn caches_shared(&self) -> bool {
        self.db.binds_arrays() && !self.db.owns_database()
    }

    /// The connection underneath.
    pub(crate) fn backend_mut(&mut self) -> &mut B {
        &mut self.db
    }

    /// The schema version the database is at (0 before any migration).
    pub fn schema_version(&mut self) -> Result<i64> {
        Ok(self
            .int(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            )?
            .unwrap_or(0))
    }

    fn int(&mut self, sql: &'static str, params: &[Param]) -> Result<Option<i64>> {
        let mut out = None;
        self.db.query(sql, params, &mut |r| {
            out = r.opt_int(0)?;
            Ok(())
        })?;
        Ok(out)
    }

    fn text(&mut self, sql: &'static str, params: &[Param]) -> Result<Option<String>> {
        let mut out = None;
        self.db.query(sql, params, &mut |r| {
            out = r.opt_text(0)?;
            Ok(())
        })?;
        Ok(out)
    }

    fn doc<T: DeserializeOwned>(
        &mut self,
        sql: &'static str,
        params: &[Param],
    ) -> Result<Option<T>> {
        self.text(sql, params)?.map(|b| from_json(&b)).transpose()
    }

    fn docs<T: DeserializeOwned>(&mut self, sql: &'static str, params: &[Param]) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.db.query(sql, params, &mut |r| {
            out.push(from_json(&r.text(0)?)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// Journal rows: `sql` is a [`select_transfers!`].
    fn transfers(&mut self, sql: &'static str, params: &[Param]) -> Result<Vec<Transfer>> {
        let mut out = Vec::new();
        self.db.query(sql, params, &mut |r| {
            out.push(transfer_from(r)?);
            Ok(())
        })?;
        Ok(out)
    }

    fn exec(&mut self, sql: &'static str, params: &[Param]) -> Result<u64> {
        self.db.execute(sql, params)
    }

    /// The counters as the database has them: the largest id in each table, or for the tables
    /// rows leave (events are pruned, subscriptions deleted) the high-water mark recorded when
    /// they left, whichever is larger.
    fn load_counters(&mut self) -> Result<Counters> {
        let mut max = |sql: &'static str| -> Result<u64> {
            Ok(self.int(sql, &[])?.unwrap_or(0).max(0) as u64)
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

    /// The next id of counter `name`.
    fn next(&mut self, name: &'static str) -> Result<u64> {
        if self.db.owns_database() {
            let c = &mut self.counters;
            let slot = match name {
                "transfer" => &mut c.transfer,
                "backorder" => &mut c.backorder,
                "auction" => &mut c.auction,
                "event" => &mut c.event,
                "subscription" => &mut c.subscription,
                other => return Err(Error::Internal(format!("no counter named '{other}'"))),
            };
            *slot += 1;
            return Ok(*slot);
        }
        if name == "transfer" {
            return self.next_transfer_from_block();
        }
        // Shared: the row is locked until the transaction ends, so ids follow commit order.
        let v = self
            .int(
                "UPDATE counters SET value = value + 1 WHERE name = ?1 RETURNING value",
                &[Text(name)],
            )?
            .ok_or_else(|| Error::Store(format!("the counter '{name}' is missing")))?;
        Ok(v as u64)
    }

    /// Shared: the next journal id, from this process's block; a new block when it is used up
    /// or when the open transaction read a customer's row whose journal is already past it.
    ///
    /// Ids from blocks are unique but, across processes, not in commit order: two processes
    /// count through different blocks. What keeps each customer's statement in commit order is
    /// `last_transfer`: the write statement refuses an id at or below the customer's, so the
    /// transaction runs again, and takes a new block (above every id given out so far).
    fn next_transfer_from_block(&mut self) -> Result<u64> {
        if let Some((next, last)) = self.transfer_block {
            if next <= last && next > self.tx_id_floor {
                self.transfer_block = Some((next + 1, last));
                return Ok(next);
            }
        }
        let block = self
            .int("SELECT nextval('transfer_id_blocks')", &[])?
            .ok_or_else(|| Error::Store("the sequence 'transfer_id_blocks' is missing".into()))?
            .max(1) as u64;
        let first = (block - 1) * schema::TRANSFER_ID_BLOCK + 1;
        let last = block * schema::TRANSFER_ID_BLOCK;
        if first <= self.tx_id_floor {
            return Err(Error::Store(format!(
                "journal id block {block} is below a committed id {}: is the sequence \
                 'transfer_id_blocks' behind the journal?",
                self.tx_id_floor
            )));
        }
        self.transfer_block = Some((first + 1, last));
        Ok(first)
    }

    /// Records that ids up to `value` of counter `name` were used, for rows that leave the table.
    fn record_high_water(&mut self, name: &'static str, value: u64) -> Result<()> {
        if !self.db.owns_database() {
            return Ok(()); // the counters table is the counter itself
        }
        self.exec(
            "UPDATE counters SET value = CASE WHEN value > ?2 THEN value ELSE ?2 END \
             WHERE name = ?1",
            &[Text(name), Int(sql_id(value))],
        )?;
        Ok(())
    }

    /// Writes the buffered ledger accounts, reservations and journal rows: one statement with
    /// arrays where the backend binds them, a prepared statement per row otherwise.
    fn flush(&mut self) -> Result<()> {
        if self.db.binds_arrays() {
            return self.flush_as_arrays(false);
        }
        let ledger = std::mem::take(&mut self.dirty_ledger);
        for account in ledger.values() {
            let body = to_json(account)?;
            self.exec(
                "INSERT INTO ledger_accounts (key, body) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET body = excluded.body",
                &[Text(account.key.as_str()), Text(&body)],
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
                &[Int(sql_id(r.id)), Text(&body)],
            )?;
        }
        let transfers = std::mem::take(&mut self.tx_transfers);
        let pending = &transfers[self.transfers_flushed..];
        let text: Vec<(String, String)> = pending
            .iter()
            .map(|t| (t.amount.to_string(), time_text(t.at)))
            .collect();
        let rows: Vec<[Param; 10]> = pending
            .iter()
            .zip(&text)
            .map(|(t, (amount, at))| {
                [
                    Int(sql_id(t.id)),
                    Text(t.key.as_str()),
                    Text(t.kind.as_str()),
                    Text(t.debit.as_str()),
                    Text(t.credit.as_str()),
                    Text(amount),
                    Text(t.currency.as_str()),
                    OptInt(t.pending_id.map(sql_id)),
                    OptInt(t.backorder.map(sql_id)),
                    Text(at),
                ]
            })
            .collect();
        let rows: Vec<&[Param]> = rows.iter().map(|r| r.as_slice()).collect();
        let written = self.db.execute_rows(
            "INSERT INTO transfers (id, key, kind, debit, credit, amount, currency, \
             pending_id, backorder, journalled_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            &rows,
        );
        let (done, result) = match written {
            Ok(()) => (pending.len(), Ok(())),
            Err((i, e)) => (i, Err(e)),
        };
        let refused = result.map_err(|e| (e, pending[done].key.clone()));
        // Put back before anything else can fail: the key index points into it.
        self.tx_transfers = transfers;
        self.transfers_flushed += done;
        refused.map_err(|(e, key)| self.key_violation(e, &key))
    }

    /// [`SqlStore::flush`] in one round trip: every buffer bound as arrays and written by one
    /// statement (PostgreSQL runs each data-modifying `WITH` part). With `commit`, the commit
    /// goes with it.
    ///
    /// The same statement checks the rows the transaction took from [`SharedCache`]: when one
    /// changed, `backorder_cache_check` fails it with a serialization failure, which the caller
    /// sees as [`Error::StoreConflict`]. It also checks that each customer's new journal ids are
    /// above the customer's `last_transfer` (`backorder_journal_order_check`, the same failure),
    /// and adds the changes to the registrar's own accounts to this connection's shares.
    fn flush_as_arrays(&mut self, commit: bool) -> Result<()> {
        let pending = &self.tx_transfers[self.transfers_flushed..];
        if self.dirty_ledger.is_empty()
            && self.dirty_reservations.is_empty()
            && self.dirty_system.is_empty()
            && pending.is_empty()
            && !self.shared.has_assumptions()
        {
            return if commit { self.db.commit() } else { Ok(()) };
        }
        let t_ids: Vec<i64> = pending.iter().map(|t| sql_id(t.id)).collect();
        let t_keys: Vec<&str> = pending.iter().map(|t| t.key.as_str()).collect();
        let t_kinds: Vec<&str> = pending.iter().map(|t| t.kind.as_str()).collect();
        let t_debits: Vec<&str> = pending.iter().map(|t| t.debit.as_str()).collect();
        let t_credits: Vec<&str> = pending.iter().map(|t| t.credit.as_str()).collect();
        let t_amounts: Vec<String> = pending.iter().map(|t| t.amount.to_string()).collect();
        let t_amounts: Vec<&str> = t_amounts.iter().map(String::as_str).collect();
        let t_currencies: Vec<&str> = pending.iter().map(|t| t.currency.as_str()).collect();
        let t_pending: Vec<Option<i64>> =
            pending.iter().map(|t| t.pending_id.map(sql_id)).collect();
        let t_backorders: Vec<Option<i64>> =
            pending.iter().map(|t| t.backorder.map(sql_id)).collect();
        let t_times: Vec<String> = pending.iter().map(|t| time_text(t.at)).collect();
        let t_times: Vec<&str> = t_times.iter().map(String::as_str).collect();
        let a_texts = self
            .dirty_ledger
            .values()
            .map(to_json)
            .collect::<Result<Vec<_>>>()?;
        let a_keys: Vec<&str> = self.dirty_ledger.keys().map(|k| k.as_str()).collect();
        let a_bodies: Vec<&str> = a_texts.iter().map(String::as_str).collect();
        // Each account's first and last journal id in this statement (0: none): one pass over
        // the journal rows, then one look-up an account.
        let mut ids_of: HashMap<&str, (i64, i64)> = HashMap::new();
        for t in pending {
            let id = sql_id(t.id);
            for side in [t.debit.as_str(), t.credit.as_str()] {
                let (first, last) = ids_of.entry(side).or_insert((id, id));
                (*first, *last) = ((*first).min(id), (*last).max(id));
            }
        }
        let (a_first, a_last): (Vec<i64>, Vec<i64>) = a_keys
            .iter()
            .map(|k| ids_of.get(k).copied().unwrap_or((0, 0)))
            .unzip();
        let r_ids: Vec<i64> = self
            .dirty_reservations
            .keys()
            .map(|&id| sql_id(id))
            .collect();
        let r_bodies = self
            .dirty_reservations
            .values()
            .map(to_json)
            .collect::<Result<Vec<_>>>()?;
        let r_texts: Vec<&str> = r_bodies.iter().map(String::as_str).collect();
        let s_keys: Vec<&str> = self.dirty_system.keys().map(|k| k.as_str()).collect();
        let s_kinds: Vec<&str> = self
            .dirty_system
            .values()
            .map(|(kind, _, _)| kind.as_str())
            .collect();
        let s_currencies: Vec<&str> = self
            .dirty_system
            .values()
            .map(|(_, currency, _)| currency.as_str())
            .collect();
        let changes = |f: fn(&SystemAccountChange) -> rust_decimal::Decimal| -> Vec<String> {
            self.dirty_system
                .values()
                .map(|(_, _, c)| f(c).to_string())
                .collect()
        };
        let s_dp = changes(|c| c.debits_pending);
        let s_dpo = changes(|c| c.debits_posted);
        let s_cp = changes(|c| c.credits_pending);
        let s_cpo = changes(|c| c.credits_posted);
        let assumed = self.shared.take_assumptions();
        let (assumed_keys, assumed_texts, assumed_reservation_texts) = (
            strs(&assumed.keys),
            strs(&assumed.texts),
            strs(&assumed.reservation_texts),
        );
        let run = match commit {
            true => B::execute_and_commit,
            false => B::execute,
        };
        let r = run(
            &mut self.db,
            concat!(
                "WITH t AS (INSERT INTO transfers (id, key, kind, debit, credit, amount, currency, \
                 pending_id, backorder, journalled_at) \
               SELECT * FROM unnest(?1::bigint[], ?2::text[], ?3::text[], ?4::text[], \
                 ?5::text[], ?6::text[], ?7::text[], ?8::bigint[], ?9::bigint[], ?10::text[])), \
             a AS (INSERT INTO ledger_accounts (key, body, last_transfer) \
               SELECT * FROM unnest(?11::text[], ?12::text[], ?14::bigint[]) \
               ON CONFLICT (key) DO UPDATE SET body = excluded.body, \
                 last_transfer = GREATEST(ledger_accounts.last_transfer, excluded.last_transfer)), \
             r AS (INSERT INTO reservations (id, body) \
               SELECT * FROM unnest(?15::bigint[], ?16::text[]) \
               ON CONFLICT (id) DO UPDATE SET body = excluded.body), \
             s AS (",
                add_to_shares!(17, 18, 19, 20, 21, 22, 23),
                // A scalar sub-select for each account, as in `kept_rows_unchanged`: a generic
                // plan joined `unnest` to a scan of every account, and under `SERIALIZABLE` a
                // read of every row fails every other writer.
                ") SELECT backorder_journal_order_check(NOT EXISTS ( \
                 SELECT 1 FROM unnest(?11::text[], ?13::bigint[]) AS w(key, first_id) \
                 WHERE w.first_id > 0 AND w.first_id <= \
                   (SELECT l.last_transfer FROM ledger_accounts l WHERE l.key = w.key))) \
               AND backorder_cache_check(",
                kept_rows_unchanged!(24, 25, 26, 27),
                ")"
            ),
            &[
                Ints(&t_ids),
                Texts(&t_keys),
                Texts(&t_kinds),
                Texts(&t_debits),
                Texts(&t_credits),
                Texts(&t_amounts),
                Texts(&t_currencies),
                OptInts(&t_pending),
                OptInts(&t_backorders),
                Texts(&t_times),
                Texts(&a_keys),
                Texts(&a_bodies),
                Ints(&a_first),
                Ints(&a_last),
                Ints(&r_ids),
                Texts(&r_texts),
                Texts(&s_keys),
                Texts(&s_kinds),
                Texts(&s_currencies),
                Texts(&strs(&s_dp)),
                Texts(&strs(&s_dpo)),
                Texts(&strs(&s_cp)),
                Texts(&strs(&s_cpo)),
                Texts(&assumed_keys),
                Texts(&assumed_texts),
                Ints(&assumed.ids),
                Texts(&assumed_reservation_texts),
            ],
        );
        // The key refused: the one PostgreSQL names in the violation's detail, else the first.
        let refused_key = match &r {
            Err(Error::Store(m)) => m
                .split_once("Key (key)=(")
                .and_then(|(_, rest)| rest.rsplit_once(") already exists"))
                .map(|(k, _)| Key::from(k)),
            _ => None,
        }
        .or_else(|| pending.first().map(|t| t.key.clone()))
        .unwrap_or_default();
        match r {
            Ok(_) => {
                self.transfers_flushed = self.tx_transfers.len();
                // The ledger accounts stay buffered until commit, as in `flush`; the changes to
                // the registrar's accounts are additions, written once.
                self.dirty_system.clear();
                let written = std::mem::take(&mut self.dirty_reservations);
                if self.caches_shared() {
                    // The same order as `a_texts`: the map did not change in between.
                    let keys = self.dirty_ledger.keys().cloned();
                    self.tx_ledger_texts.extend(keys.zip(a_texts));
                    self.tx_reservations_written
                        .extend(written.into_values().zip(r_bodies));
                }
                Ok(())
            }
            Err(e) => {
                // The transaction is lost; what it took from the cache may be why.
                self.shared.invalidate();
                if let Error::StoreConflict(m) = &e {
                    if m.contains(JOURNAL_ORDER) {
                        // This process's block is behind a customer's journal: the next run
                        // takes a new one.
                        self.transfer_block_at_begin = None;
                        self.transfer_block = None;
                    }
                }
                Err(self.key_violation(e, &refused_key))
            }
        }
    }

    /// A journal row refused for its idempotency key. When the transaction did not read its keys
    /// ([`Store::defer_key_checks`]) the key was there already or another transaction took it
    /// first: a conflict, and the next run reads the keys (and answers as the earlier use did).
    /// Otherwise the caller wrote a key the journal has.
    fn key_violation(&mut self, e: Error, key: &Key) -> Error {
        match e {
            // Ids come from the transfer counter, so a taken one means the counter this store
            // kept was stale (the statement's cache check fails it too, whichever PostgreSQL
            // runs first).
            Error::Store(m) if m.contains("transfers_pkey") && self.caches_shared() => {
                Error::StoreConflict(format!("a transfer id was taken by another process: {m}"))
            }
            Error::Store(m) if m.contains("transfers.key") || m.contains("transfers_key_key") => {
                if self.reading_keys {
                    Error::IdempotencyConflict(key.to_string())
                } else {
                    self.read_keys_next = true;
                    Error::StoreConflict(format!(
                        "an idempotency key was taken by another transaction: {m}"
                    ))
                }
            }
            e => e,
        }
    }

    /// Forgets the open transaction's buffered writes and id allocations.
    fn discard(&mut self) {
        self.dirty_ledger.clear();
        self.dirty_reservations.clear();
        self.tx_reservations_written.clear();
        self.tx_ledger_texts.clear();
        self.dirty_system.clear();
        self.counters = self.counters_at_begin;
        self.transfer_block = self.transfer_block_at_begin;
        self.end_transaction();
    }

    /// Forgets the open transaction's journal buffer (written or discarded).
    fn end_transaction(&mut self) {
        self.tx_transfers.clear();
        self.tx_transfer_keys.clear();
        self.transfers_flushed = 0;
    }

    /// Before a commit: a key the transaction took for absent and then wrote is checked by the
    /// journal's unique index; one it did not write is looked up here, so that no commit rests on
    /// an answer nobody checked (a deposit attempt that found the balance short commits the
    /// backorder's retry state: had its key existed, the reserve would have answered with the
    /// reservation instead).
    fn check_keys_not_written(&mut self) -> Result<()> {
        let unwritten: Vec<Key> = self
            .keys_assumed_absent
            .iter()
            .filter(|k| !self.tx_transfer_keys.contains_key(*k))
            .cloned()
            .collect();
        self.check_assumed_absent(&unwritten)
    }

    /// [`Error::StoreConflict`] (and keys read in the next run) when one of `keys`, taken for
    /// absent without reading, is in the journal.
    fn check_assumed_absent(&mut self, keys: &[Key]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let found = if self.db.binds_arrays() {
            let keys: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
            self.int(
                "SELECT COUNT(*) FROM transfers WHERE key = ANY(?1::text[])",
                &[Texts(&keys)],
            )?
            .unwrap_or(0)
        } else {
            let mut found = 0;
            for k in keys {
                found += self
                    .int("SELECT COUNT(*) FROM transfers WHERE key = ?1", &[Text(k)])?
                    .unwrap_or(0);
            }
            found
        };
        if found > 0 {
            self.read_keys_next = true;
            return Err(Error::StoreConflict(
                "an idempotency key taken for new exists: run again, reading it".into(),
            ));
        }
        Ok(())
    }

    /// True when the open transaction answers unknown idempotency keys "absent" without reading.
    fn defers_keys_now(&self) -> bool {
        !self.reading_keys
    }

    /// After a commit on a shared database: what it wrote is what the database holds now.
    fn remember_committed(&mut self) -> Result<()> {
        for (key, account) in self.dirty_ledger.drain() {
            let text = match self.tx_ledger_texts.remove(&key) {
                Some(text) => text,
                None => to_json(&account)?,
            };
            self.shared.remember_ledger_account(account, text);
        }
        self.tx_ledger_texts.clear();
        for (r, text) in self.tx_reservations_written.drain(..) {
            self.shared.remember_reservation(r, text);
        }
        Ok(())
    }

    /// After a rollback: [`Error::StoreConflict`] (and the cache emptied) when a row the
    /// transaction took from [`SharedCache`] is no longer what the database holds.
    fn check_cache_after_rollback(&mut self) -> Result<()> {
        if !self.shared.has_assumptions() {
            return Ok(());
        }
        let assumed = self.shared.take_assumptions();
        let (keys, texts, reservation_texts) = (
            strs(&assumed.keys),
            strs(&assumed.texts),
            strs(&assumed.reservation_texts),
        );
        let fresh = self.int(
            concat!(
                "SELECT CASE WHEN ",
                kept_rows_unchanged!(1, 2, 3, 4),
                " THEN 1 ELSE 0 END::bigint"
            ),
            &[
                Texts(&keys),
                Texts(&texts),
                Ints(&assumed.ids),
                Texts(&reservation_texts),
            ],
        );
        match fresh {
            Ok(Some(1)) => Ok(()),
            Ok(_) => {
                self.shared.invalidate();
                Err(Error::StoreConflict(
                    "a row this process had kept was changed by another: run again, reading it"
                        .into(),
                ))
            }
            Err(e) => {
                self.shared.invalidate();
                Err(e)
            }
        }
    }

    /// Shared: one of the registrar's accounts, its row plus its shares plus what the open
    /// transaction added (see `system_accounts`); read, never kept.
    fn system_account(&mut self, key: &str) -> Result<Option<LedgerAccount>> {
        let mut found = None;
        self.db.query(
            accounts_with_shares!("SELECT CAST(?1 AS TEXT) AS key"),
            &[Text(key)],
            &mut |r| {
                found = system_accounts::combined(r)?;
                Ok(())
            },
        )?;
        if let Some((kind, currency, change)) = self.dirty_system.get(key) {
            let account = found.get_or_insert_with(|| LedgerAccount::new(key, *kind, *currency));
            change.apply_to(account)?;
        }
        Ok(found)
    }

    /// Shared: adds the shares of connections that have closed to their accounts' rows and
    /// deletes them, so that `ledger_account_shares` keeps about one row per open connection and
    /// account. A store runs it when it connects; a fold that loses a race with a writer fails
    /// with [`Error::StoreConflict`] and is left to the next connection.
    pub(crate) fn fold_closed_shares(&mut self) -> Result<()> {
        if !self.caches_shared() || self.in_tx {
            return Ok(());
        }
        self.db.begin()?;
        let folded = self.fold_in_transaction();
        match folded.and_then(|()| self.db.commit()) {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = self.db.rollback();
                Err(e)
            }
        }
    }

    fn fold_in_transaction(&mut self) -> Result<()> {
        let mut folded = Vec::new();
        self.db.query(
            concat!(
                "WITH gone AS (DELETE FROM ledger_account_shares \
                   WHERE shard NOT IN (SELECT pid FROM pg_stat_activity WHERE pid IS NOT NULL) \
                   RETURNING *), \
                 s AS (",
                share_sums!("gone"),
                ") SELECT s.key, l.body, s.kind, s.currency, s.dp, s.dpo, s.cp, s.cpo \
                 FROM s LEFT JOIN ledger_accounts l ON l.key = s.key ORDER BY s.key"
            ),
            &[],
            &mut |r| {
                folded.extend(system_accounts::combined(r)?);
                Ok(())
            },
        )?;
        for account in folded {
            let body = to_json(&account)?;
            self.exec(
                "INSERT INTO ledger_accounts (key, body) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET body = excluded.body",
                &[Text(account.key.as_str()), Text(&body)],
            )?;
        }
        Ok(())
    }

    /// Writes buffered records outside a transaction, as their own commit.
    fn commit_buffers(&mut self) -> Result<()> {
        if let Err(e) = self.begin() {
            // Nothing of the write may stay behind for the next transaction to commit.
            self.discard();
            self.keys_assumed_absent.clear();
            return Err(e);
        }
        self.commit()
    }

    fn put_doc(&mut self, sql: &'static str, id: Param, body: &impl Serialize) -> Result<()> {
        let body = to_json(body)?;
        self.exec(sql, &[id, Text(&body)])?;
        Ok(())
    }
}

impl<B: Backend> LedgerStore for SqlStore<B> {
    fn ledger_account(&mut self, key: &str) -> Result<Option<LedgerAccount>> {
        if let Some(a) = self
            .dirty_ledger
            .get(key)
            .or_else(|| self.ledger_cache.get(key))
        {
            return Ok(Some(a.clone()));
        }
        let shared = self.caches_shared();
        if shared && key.starts_with('@') {
            return self.system_account(key);
        }
        if shared && self.in_tx {
            if let Some(a) = self.shared.ledger_account(key) {
                return Ok(Some(a));
            }
        }
        if shared {
            let mut found = None;
            self.db.query(
                "SELECT body, last_transfer FROM ledger_accounts WHERE key = ?1",
                &[Text(key)],
                &mut |r| {
                    found = Some((r.text(0)?, r.int(1)?));
                    Ok(())
                },
            )?;
            let Some((text, last_transfer)) = found else {
                return Ok(None);
            };
            if self.in_tx {
                self.tx_id_floor = self.tx_id_floor.max(last_transfer.max(0) as u64);
            }
            let account: LedgerAccount = from_json(&text)?;
            self.shared.remember_ledger_account(account.clone(), text);
            return Ok(Some(account));
        }
        let Some(text) = self.text(
            "SELECT body FROM ledger_accounts WHERE key = ?1",
            &[Text(key)],
        )?
        else {
            return Ok(None);
        };
        let found: LedgerAccount = from_json(&text)?;
        if self.db.owns_database() {
            self.ledger_cache.insert(found.key.clone(), found.clone());
        }
        Ok(Some(found))
    }

    fn put_ledger_account(&mut self, account: LedgerAccount) -> Result<()> {
        if self.caches_shared() && account.key.starts_with('@') {
            // One of the registrar's accounts: its totals are shares; put the difference.
            let now = match self.system_account(&account.key)? {
                Some(now) => now,
                None => LedgerAccount::new(&account.key, account.kind, account.currency),
            };
            let change = system_accounts::difference(&now, &account)?;
            return self.add_to_system_account(
                &account.key,
                account.kind,
                account.currency,
                &change,
            );
        }
        self.dirty_ledger.insert(account.key.clone(), account);
        if !self.in_tx {
            self.commit_buffers()?;
        }
        Ok(())
    }

    fn add_to_system_account(
        &mut self,
        key: &str,
        kind: LedgerAccountKind,
        currency: Currency,
        change: &SystemAccountChange,
    ) -> Result<()> {
        if !self.caches_shared() {
            return backorder_core::ledger::add_by_reading(self, key, kind, currency, change);
        }
        match self.dirty_system.get_mut(key) {
            Some((_, _, sum)) => *sum = sum.plus(change)?,
            None => {
                self.dirty_system
                    .insert(Key::from(key), (kind, currency, *change));
            }
        }
        if !self.in_tx {
            self.commit_buffers()?;
        }
        Ok(())
    }

    fn transfer_by_key(&mut self, key: &str) -> Result<Option<Transfer>> {
        if let Some(&i) = self.tx_transfer_keys.get(key) {
            return Ok(Some(self.tx_transfers[i].clone()));
        }
        if self.in_tx && self.defers_keys_now() {
            self.keys_assumed_absent.push(Key::from(key));
            return Ok(None);
        }
        Ok(self
            .transfers(select_transfers!("WHERE key = ?1"), &[Text(key)])?
            .pop())
    }

    fn next_transfer_id(&mut self) -> Result<u64> {
        self.next("transfer")
    }

    fn insert_transfer(&mut self, t: &Transfer) -> Result<()> {
        if self.tx_transfer_keys.contains_key(&t.key) {
            return Err(Error::IdempotencyConflict(t.key.to_string()));
        }
        self.tx_transfer_keys
            .insert(t.key.clone(), self.tx_transfers.len());
        self.tx_transfers.push(t.clone());
        if !self.in_tx {
            self.commit_buffers()?;
        }
        Ok(())
    }

    fn reservation(&mut self, id: u64) -> Result<Option<Reservation>> {
        if let Some(r) = self.dirty_reservations.get(&id) {
            return Ok(Some(r.clone()));
        }
        let shared = self.caches_shared();
        if shared && self.in_tx {
            if let Some((r, _)) = self
                .tx_reservations_written
                .iter()
                .rev()
                .find(|(r, _)| r.id == id)
            {
                return Ok(Some(r.clone()));
            }
            if let Some(r) = self.shared.reservation(id) {
                return Ok(Some(r));
            }
        }
        let Some(text) = self.text(
            "SELECT body FROM reservations WHERE id = ?1",
            &[Int(sql_id(id))],
        )?
        else {
            return Ok(None);
        };
        let found: Reservation = from_json(&text)?;
        if shared {
            self.shared.remember_reservation(found.clone(), text);
        }
        Ok(Some(found))
    }

    fn put_reservation(&mut self, r: Reservation) -> Result<()> {
        self.dirty_reservations.insert(r.id, r);
        if !self.in_tx {
            self.commit_buffers()?;
        }
        Ok(())
    }
}

impl<B: Backend> Store for SqlStore<B> {
    fn single_process(&self) -> bool {
        self.db.owns_database()
    }

    fn begin(&mut self) -> Result<()> {
        if self.in_tx {
            return Err(Error::Internal("a transaction is already open".into()));
        }
        self.db.begin()?;
        self.in_tx = true;
        self.shared.begin();
        self.counters_at_begin = self.counters;
        self.transfer_block_at_begin = self.transfer_block;
        self.tx_id_floor = 0;
        self.reading_keys = !self.defer_keys || std::mem::take(&mut self.read_keys_next);
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        if !self.in_tx {
            return Ok(());
        }
        let committed = self.check_keys_not_written().and_then(|()| {
            if self.db.binds_arrays() {
                self.flush_as_arrays(true)
            } else {
                self.flush().and_then(|()| self.db.commit())
            }
        });
        self.in_tx = false;
        self.keys_assumed_absent.clear();
        match committed {
            Ok(()) => {
                if self.db.owns_database() {
                    self.ledger_cache.extend(self.dirty_ledger.drain());
                } else if self.caches_shared() {
                    self.remember_committed()?;
                } else {
                    self.dirty_ledger.clear();
                }
                self.end_transaction();
                Ok(())
            }
            Err(e) => {
                // A failed commit may leave the transaction open: end it, so nothing half-done
                // stays, and forget what it wrote.
                let _ = self.db.rollback();
                self.discard();
                self.shared.invalidate();
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
        let assumed = std::mem::take(&mut self.keys_assumed_absent);
        self.db.rollback()?;
        // The transaction took keys for absent without reading them, and rows from the cache,
        // and what it decided (an error, most likely) may rest on that: if one of those keys
        // exists, or one of those rows changed, the decision is wrong.
        self.check_assumed_absent(&assumed)?;
        self.check_cache_after_rollback()
    }

    fn defer_key_checks(&mut self) {
        self.defer_keys = true;
    }

    fn next_backorder_id(&mut self) -> Result<u64> {
        self.next("backorder")
    }

    fn next_auction_id(&mut self) -> Result<u64> {
        self.next("auction")
    }

    fn policies(&mut self) -> Result<Vec<TldPolicy>> {
        self.docs("SELECT body FROM policies ORDER BY zone", &[])
    }

    fn put_policy(&mut self, policy: &TldPolicy) -> Result<()> {
        self.put_doc(
            "INSERT INTO policies (zone, body) VALUES (?1, ?2) \
             ON CONFLICT (zone) DO UPDATE SET body = excluded.body",
            Text(&policy.zone),
            policy,
        )
    }

    fn account(&mut self, id: &str) -> Result<Option<Account>> {
        self.doc("SELECT body FROM accounts WHERE id = ?1", &[Text(id)])
    }

    fn put_account(&mut self, account: &Account) -> Result<()> {
        self.put_doc(
            "INSERT INTO accounts (id, body) VALUES (?1, ?2) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            Text(account.id.as_str()),
            account,
        )
    }

    fn account_ids(&mut self, after: Option<&str>, n: usize) -> Result<Vec<String>> {
        let mut out = Vec::new();
        self.db.query(
            "SELECT id FROM accounts WHERE (CAST(?1 AS TEXT) IS NULL OR id > ?1) \
             ORDER BY id LIMIT ?2",
            &[OptText(after), Int(limit(n))],
            &mut |r| {
                out.push(r.text(0)?);
                Ok(())
            },
        )?;
        Ok(out)
    }

    fn pending_deletion(&mut self, domain: &DomainName) -> Result<Option<PendingDeletion>> {
        let mut out = None;
        self.db.query(
            "SELECT drop_at, withdrawn, updated_at FROM pending_deletions WHERE domain = ?1",
            &[Text(domain.as_str())],
            &mut |r| {
                out = Some(PendingDeletion {
                    domain: domain.clone(),
                    drop_at: parse_time(&r.text(0)?)?,
                    withdrawn: r.boolean(1)?,
                    updated_at: parse_time(&r.text(2)?)?,
                });
                Ok(())
            },
        )?;
        Ok(out)
    }

    fn put_pending_deletion(&mut self, e: &PendingDeletion) -> Result<()> {
        let (drop_at, updated_at) = (time_text(e.drop_at), time_text(e.updated_at));
        self.exec(
            "INSERT INTO pending_deletions (domain, drop_at, withdrawn, updated_at) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (domain) DO UPDATE SET \
             drop_at = excluded.drop_at, withdrawn = excluded.withdrawn, \
             updated_at = excluded.updated_at",
            &[
                Text(e.domain.as_str()),
                Text(&drop_at),
                Bool(e.withdrawn),
                Text(&updated_at),
            ],
        )?;
        Ok(())
    }

    fn pending_deletions(&mut self) -> Result<Vec<PendingDeletion>> {
        let mut out = Vec::new();
        self.db.query(
            "SELECT domain, drop_at, withdrawn, updated_at FROM pending_deletions",
            &[],
            &mut |r| {
                out.push(PendingDeletion {
                    domain: DomainName::parse(&r.text(0)?)
                        .map_err(|e| Error::Store(format!("a stored name is unreadable: {e}")))?,
                    drop_at: parse_time(&r.text(1)?)?,
                    withdrawn: r.boolean(2)?,
                    updated_at: parse_time(&r.text(3)?)?,
                });
                Ok(())
            },
        )?;
        Ok(out)
    }

    fn listed_count(&mut self) -> Result<u64> {
        let n = self.int(
            "SELECT COUNT(*) FROM pending_deletions WHERE NOT withdrawn",
            &[],
        )?;
        Ok(n.unwrap_or(0) as u64)
    }

    fn next_subscription_id(&mut self) -> Result<u64> {
        self.next("subscription")
    }

    fn put_subscription(&mut self, s: &Subscription) -> Result<()> {
        self.put_doc(
            "INSERT INTO subscriptions (id, body) VALUES (?1, ?2) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            Int(sql_id(s.id)),
            s,
        )
    }

    fn delete_subscription(&mut self, id: u64) -> Result<()> {
        let high = self.counters.subscription;
        self.record_high_water("subscription", high)?;
        self.exec(
            "DELETE FROM subscriptions WHERE id = ?1",
            &[Int(sql_id(id))],
        )?;
        Ok(())
    }

    fn subscription(&mut self, id: u64) -> Result<Option<Subscription>> {
        self.doc(
            "SELECT body FROM subscriptions WHERE id = ?1",
            &[Int(sql_id(id))],
        )
    }

    fn subscriptions(&mut self) -> Result<Vec<Subscription>> {
        self.docs("SELECT body FROM subscriptions ORDER BY id", &[])
    }

    fn alert_sent(&mut self, subscription: u64, domain: &DomainName) -> Result<bool> {
        let n = self.int(
            "SELECT COUNT(*) FROM alerts_sent WHERE subscription = ?1 AND domain = ?2",
            &[Int(sql_id(subscription)), Text(domain.as_str())],
        )?;
        Ok(n.unwrap_or(0) > 0)
    }

    fn mark_alert_sent(&mut self, subscription: u64, domain: &DomainName) -> Result<()> {
        self.exec(
            "INSERT INTO alerts_sent (subscription, domain) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            &[Int(sql_id(subscription)), Text(domain.as_str())],
        )?;
        Ok(())
    }

    fn backorder(&mut self, id: u64) -> Result<Option<Backorder>> {
        self.doc(
            "SELECT body FROM backorders WHERE id = ?1",
            &[Int(sql_id(id))],
        )
    }

    fn put_backorder(&mut self, b: Backorder) -> Result<()> {
        let body = to_json(&b)?;
        let drop_at = b.drop_at.map(time_text);
        self.exec(
            "INSERT INTO backorders (id, domain, account, status, drop_at, body) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE SET \
             status = excluded.status, drop_at = excluded.drop_at, body = excluded.body",
            &[
                Int(sql_id(b.id)),
                Text(b.domain.as_str()),
                Text(b.account.as_str()),
                Text(b.status.as_str()),
                OptText(drop_at.as_deref()),
                Text(&body),
            ],
        )?;
        Ok(())
    }

    fn backorders_for_name(
        &mut self,
        domain: &DomainName,
        account: Option<&str>,
    ) -> Result<Vec<BackorderHead>> {
        let mut out = Vec::new();
        self.db.query(
            "SELECT id, status, drop_at FROM backorders \
             WHERE domain = ?1 AND (CAST(?2 AS TEXT) IS NULL OR account = ?2) ORDER BY id",
            &[Text(domain.as_str()), OptText(account)],
            &mut |r| {
                out.push(BackorderHead {
                    id: r.int(0)? as u64,
                    status: r.text(1)?.parse::<Status>()?,
                    drop_at: r.opt_text(2)?.as_deref().map(parse_time).transpose()?,
                });
                Ok(())
            },
        )?;
        Ok(out)
    }

    fn backorders_for_account(&mut self, account: &str) -> Result<Vec<u64>> {
        let mut out = Vec::new();
        self.db.query(
            "SELECT id FROM backorders WHERE account = ?1 ORDER BY id",
            &[Text(account)],
            &mut |r| {
                out.push(r.int(0)? as u64);
                Ok(())
            },
        )?;
        Ok(out)
    }

    fn count_by_status(&mut self) -> Result<BTreeMap<Status, u64>> {
        let mut out = BTreeMap::new();
        self.db.query(
            "SELECT status, COUNT(*) FROM backorders GROUP BY status",
            &[],
            &mut |r| {
                out.insert(r.text(0)?.parse::<Status>()?, r.int(1)? as u64);
                Ok(())
            },
        )?;
        Ok(out)
    }

    fn backorders_after(&mut self, after: u64, n: usize) -> Result<Vec<Backorder>> {
        self.docs(
            "SELECT body FROM backorders WHERE id > ?1 ORDER BY id LIMIT ?2",
            &[Int(sql_id(after)), Int(limit(n))],
        )
    }

    fn auction(&mut self, id: u64) -> Result<Option<Auction>> {
        self.doc(
            "SELECT body FROM auctions WHERE id = ?1",
            &[Int(sql_id(id))],
        )
    }

    fn put_auction(&mut self, a: Auction) -> Result<()> {
        self.put_doc(
            "INSERT INTO auctions (id, body) VALUES (?1, ?2) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            Int(sql_id(a.id)),
            &a,
        )
    }

    fn auctions_after(&mut self, after: u64, n: usize) -> Result<Vec<Auction>> {
        self.docs(
            "SELECT body FROM auctions WHERE id > ?1 ORDER BY id LIMIT ?2",
            &[Int(sql_id(after)), Int(limit(n))],
        )
    }

    fn allocation(
        &mut self,
        domain: &DomainName,
        drop_at: DateTime<Utc>,
    ) -> Result<Option<Allocation>> {
        let drop_at = time_text(drop_at);
        self.doc(
            "SELECT body FROM allocations WHERE domain = ?1 AND drop_at = ?2",
            &[Text(domain.as_str()), Text(&drop_at)],
        )
    }

    fn put_allocation(&mut self, a: &Allocation) -> Result<()> {
        let body = to_json(a)?;
        let drop_at = time_text(a.drop_at);
        self.exec(
            "INSERT INTO allocations (domain, drop_at, body) VALUES (?1, ?2, ?3) \
             ON CONFLICT (domain, drop_at) DO UPDATE SET body = excluded.body",
            &[Text(a.domain.as_str()), Text(&drop_at), Text(&body)],
        )?;
        Ok(())
    }

    fn set_wake(&mut self, key: WakeKey, at: Option<DateTime<Utc>>) -> Result<()> {
        let (kind, id) = wake_kind(key);
        match at {
            Some(t) => {
                let at = time_text(t);
                self.exec(
                    "INSERT INTO wakes (kind, id, at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (kind, id) DO UPDATE SET at = excluded.at",
                    &[Int(kind), Int(id), Text(&at)],
                )?
            }
            None => self.exec(
                "DELETE FROM wakes WHERE kind = ?1 AND id = ?2",
                &[Int(kind), Int(id)],
            )?,
        };
        Ok(())
    }

    fn wake_of(&mut self, key: WakeKey) -> Result<Option<DateTime<Utc>>> {
        let (kind, id) = wake_kind(key);
        // Shared: the engine reads a wake-up before doing its work, so locking the row claims the
        // work; another process doing it now holds the lock, and this one skips it.
        let sql = if self.db.owns_database() {
            "SELECT at FROM wakes WHERE kind = ?1 AND id = ?2"
        } else {
            "SELECT at FROM wakes WHERE kind = ?1 AND id = ?2 FOR UPDATE SKIP LOCKED"
        };
        self.text(sql, &[Int(kind), Int(id)])?
            .as_deref()
            .map(parse_time)
            .transpose()
    }

    fn due(&mut self, now: DateTime<Utc>, n: usize) -> Result<Vec<(DateTime<Utc>, WakeKey)>> {
        let now = time_text(now);
        let mut out = Vec::new();
        self.db.query(
            "SELECT at, kind, id FROM wakes WHERE at <= ?1 ORDER BY at, kind, id LIMIT ?2",
            &[Text(&now), Int(limit(n))],
            &mut |r| {
                out.push((
                    parse_time(&r.text(0)?)?,
                    schema::wake_key(r.int(1)?, r.int(2)?)?,
                ));
                Ok(())
            },
        )?;
        Ok(out)
    }

    fn next_wake(&mut self) -> Result<Option<DateTime<Utc>>> {
        self.text("SELECT MIN(at) FROM wakes", &[])?
            .as_deref()
            .map(parse_time)
            .transpose()
    }

    fn append_event(&mut self, e: NewEvent) -> Result<u64> {
        let seq = self.next("event")?;
        let event = Event {
            seq,
            at: e.at,
            account: e.account,
            backorder: e.backorder,
            domain: e.domain,
            kind: e.kind,
        };
        self.put_doc(
            "INSERT INTO events (seq, body) VALUES (?1, ?2)",
            Int(sql_id(seq)),
            &event,
        )?;
        Ok(seq)
    }

    fn events_after(&mut self, after: u64, n: usize) -> Result<Vec<Event>> {
        self.docs(
            "SELECT body FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            &[Int(sql_id(after)), Int(limit(n))],
        )
    }

    fn prune_events(&mut self, upto: u64) -> Result<()> {
        let high = upto.min(self.counters.event);
        self.record_high_water("event", high)?;
        self.exec("DELETE FROM events WHERE seq <= ?1", &[Int(sql_id(upto))])?;
        Ok(())
    }

    fn command(&mut self, key: &str) -> Result<Option<CommandRecord>> {
        let mut out = None;
        self.db.query(
            "SELECT fingerprint, result FROM commands WHERE key = ?1",
            &[Text(key)],
            &mut |r| {
                out = Some(CommandRecord {
                    key: key.into(),
                    fingerprint: r.int(0)? as u64,
                    result: r.int(1)? as u64,
                });
                Ok(())
            },
        )?;
        Ok(out)
    }

    fn put_command(&mut self, c: CommandRecord) -> Result<()> {
        self.exec(
            "INSERT INTO commands (key, fingerprint, result) VALUES (?1, ?2, ?3) \
             ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, \
             result = excluded.result",
            // The fingerprint's 64 bits are kept as they are, read back the same way.
            &[
                Text(c.key.as_str()),
                Int(c.fingerprint as i64),
                Int(sql_id(c.result)),
            ],
        )?;
        Ok(())
    }

    fn ledger_accounts_after(
        &mut self,
        after: Option<&str>,
        n: usize,
    ) -> Result<Vec<LedgerAccount>> {
        self.flush()?;
        if !self.caches_shared() {
            return self.docs(
                "SELECT body FROM ledger_accounts WHERE (CAST(?1 AS TEXT) IS NULL OR key > ?1) \
                 ORDER BY key LIMIT ?2",
                &[OptText(after), Int(limit(n))],
            );
        }
        let mut out = Vec::new();
        self.db.query(
            accounts_with_shares!(
                "SELECT key FROM ledger_accounts WHERE (CAST(?1 AS TEXT) IS NULL OR key > ?1) \
                 UNION SELECT key FROM ledger_account_shares \
                   WHERE (CAST(?1 AS TEXT) IS NULL OR key > ?1) \
                 ORDER BY key LIMIT ?2"
            ),
            &[OptText(after), Int(limit(n))],
            &mut |r| {
                out.extend(system_accounts::combined(r)?);
                Ok(())
            },
        )?;
        Ok(out)
    }

    fn transfers_after(&mut self, after: u64, n: usize) -> Result<Vec<Transfer>> {
        self.flush()?;
        self.transfers(
            select_transfers!("WHERE id > ?1 ORDER BY id LIMIT ?2"),
            &[Int(sql_id(after)), Int(limit(n))],
        )
    }

    fn transfers_for_account(
        &mut self,
        account: &str,
        after: u64,
        n: usize,
    ) -> Result<Vec<Transfer>> {
        self.flush()?;
        let params = [Text(account), Int(sql_id(after)), Int(limit(n))];
        if account.starts_with('@') {
            // The registrar's own accounts are in no index (see the schema): read the journal.
            return self.transfers(
                select_transfers!(
                    "WHERE (debit = ?1 OR credit = ?1) AND id > ?2 ORDER BY id LIMIT ?3"
                ),
                &params,
            );
        }
        self.transfers(CUSTOMER_TRANSFERS, &params)
    }

    fn reservations_after(&mut self, after: u64, n: usize) -> Result<Vec<Reservation>> {
        self.flush()?;
        self.docs(
            "SELECT body FROM reservations WHERE id > ?1 ORDER BY id LIMIT ?2",
            &[Int(sql_id(after)), Int(limit(n))],
        )
    }
}
