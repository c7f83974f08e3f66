//! The PostgreSQL store: one database shared by several engine processes (several application
//! servers of one registrar).
//!
//! Every engine command is one `SERIALIZABLE` transaction: whatever several processes do at
//! once, the result is one they could have produced one after another, so a deposit is never
//! reserved twice, a name never allocated twice and no update is lost. A transaction that loses
//! such a race fails with a serialization error, which the store reports as
//! [`Error::StoreConflict`] and the engine runs again; so does one that took an idempotency key
//! for new which another transaction had used (see
//! [`Store::defer_key_checks`](backorder_core::Store::defer_key_checks)). Time-driven work is
//! claimed by locking its wake-up row (`FOR UPDATE SKIP LOCKED`): a process that finds the row
//! locked leaves that work to the process doing it. The tables and their encoding are those of
//! [`super::sql`].
//!
//! Nothing every ledger operation writes is written by every other, so processes (and
//! connections) working for different customers do not fail each other's transactions:
//! - the registrar's own accounts (`@revenue:USD`, …) take each transaction's change as an
//!   addition to this connection's share row, never read by a write (`system_accounts`);
//! - journal ids come from a block of 65,536 (`schema::TRANSFER_ID_BLOCK`) that this process
//!   takes from a sequence and counts through; one process alone gets dense ids, as the other
//!   stores give. Across processes ids are unique but not in commit order; each customer's
//!   journal is (what a statement pages by): the write statement refuses an id at or below the
//!   customer's `last_transfer`, and the transaction runs again with a new block.
//!
//! (Engine commands that place backorders, open auctions or append events still take the
//! `backorder`, `auction` and `event` counters, which keep those ids dense and in commit order,
//! as the outbox's readers need: such commands from several processes take turns.)
//!
//! Customers' ledger accounts and open reservations this process last read or wrote are kept
//! between transactions and used without a round trip; the transaction's write statement checks
//! that the database still holds them, and fails as a serialization failure when another
//! process changed one (a transaction that rolls back is checked after it). So a deposit
//! reserved or released with nothing else in its transaction is one round trip, `BEGIN`, the
//! write statement and `COMMIT` pipelined, plus one for a new block of ids every 65,536.

use std::collections::HashMap;

use backorder_core::{Error, Result};
use futures_util::future::try_join;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Statement};

use super::schema;
use super::sql::{Backend, Param, Row, SqlStore};

/// A [`Store`](backorder_core::Store) in a PostgreSQL database, opened with
/// `postgres://user[:password]@host[:port]/database`.
pub type PostgresStore = SqlStore<PostgresBackend>;

/// The PostgreSQL connection under a [`PostgresStore`].
///
/// Statements wait for their answers, but `BEGIN` is sent with a transaction's first statement
/// and `COMMIT` with its last write, in one round trip each (the client pipelines them): a
/// command costs two round trips fewer than it would one statement at a time.
pub struct PostgresBackend {
    /// Drives the connection while a call waits (one thread: the caller's).
    runtime: tokio::runtime::Runtime,
    client: Client,
    /// Prepared statements by their text (every statement is a `&'static str`).
    statements: HashMap<&'static str, Statement>,
    /// A transaction was begun and nothing sent yet: `BEGIN` goes with the first statement.
    begin_pending: bool,
}

const BEGIN: &str = "BEGIN ISOLATION LEVEL SERIALIZABLE";

/// An arbitrary constant: the advisory lock that lets one process at a time migrate the schema.
const MIGRATION_LOCK: i64 = 0x6261_636b_6f72;

fn db(e: tokio_postgres::Error) -> Error {
    if let Some(d) = e.as_db_error() {
        let code = d.code();
        if *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED
        {
            return Error::StoreConflict(format!("postgres: {}", d.message()));
        }
        if *code == SqlState::UNIQUE_VIOLATION {
            return Error::Store(format!(
                "postgres: unique violation of {}: {} {}",
                d.constraint().unwrap_or("?"),
                d.message(),
                d.detail().unwrap_or("")
            ));
        }
        return Error::Store(format!("postgres: {}", d.message()));
    }
    Error::Store(format!("postgres: {e}"))
}

/// `?1` placeholders as PostgreSQL writes them: `$1`.
fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

impl SqlStore<PostgresBackend> {
    /// Connects to the database `url` names and brings its schema up to date (one process at a
    /// time: others wait for the migration to finish).
    pub fn connect(url: &str) -> Result<PostgresStore> {
        let cannot = |e: &dyn std::fmt::Display| {
            Error::Store(format!(
                "postgres: cannot connect to {}: {e}",
                super::redact_url(url)
            ))
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| cannot(&e))?;
        let (client, connection) = runtime
            .block_on(tokio_postgres::connect(url, NoTls))
            .map_err(|e| cannot(&e))?;
        // The connection runs whenever a call blocks on the runtime; when the server goes away
        // the calls fail with the reason.
        runtime.spawn(connection);
        let mut backend = PostgresBackend {
            runtime,
            client,
            statements: HashMap::new(),
            begin_pending: false,
        };
        // Under `SERIALIZABLE` a sequential scan locks the whole table against every other
        // writer (a relation-level predicate lock), and on the few rows of `ledger_accounts`
        // the planner prefers one for a look-up by key: two connections depositing for two
        // customers then failed each other's transactions (5,600 conflicts in 6,800
        // operations). PostgreSQL's documentation advises encouraging index scans; every
        // statement of this store is a look-up or a range by an index. Without JIT: the few
        // statements that must still scan now cost enough to be compiled each time. Generic
        // plans: a prepared statement whose parameters are arrays was planned again at every
        // run (the planner's own functions were the top of a profile of the server), and every
        // statement here has one plan that suits all its parameters; one connection went from
        // 1.5 k to 2.0 k deposits a second, four from 2.8 k to 4.0-4.6 k.
        backend.wait_for(|c| async move {
            c.batch_execute(
                "SET enable_seqscan = off; SET jit = off; SET plan_cache_mode = force_generic_plan",
            )
            .await
        })?;
        backend.wait_for(|c| async move {
            c.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
                .await
        })?;
        let mut store = SqlStore::new(backend);
        if let Ok(s) = &mut store {
            // Under the same lock, so that two processes starting at once do not both fold.
            match s.fold_closed_shares() {
                Ok(()) | Err(Error::StoreConflict(_)) => {}
                Err(e) => return Err(e),
            }
            s.backend_mut().wait_for(|c| async move {
                c.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
                    .await
            })?;
        }
        store
    }
}

struct PgRow<'a>(&'a tokio_postgres::Row);

impl Row for PgRow<'_> {
    fn int(&self, i: usize) -> Result<i64> {
        self.0.try_get(i).map_err(db)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        self.0.try_get(i).map_err(db)
    }
    fn text(&self, i: usize) -> Result<String> {
        self.0.try_get(i).map_err(db)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>> {
        self.0.try_get(i).map_err(db)
    }
    fn boolean(&self, i: usize) -> Result<bool> {
        self.0.try_get(i).map_err(db)
    }
}

fn bind<'a>(params: &'a [Param<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| match p {
            Param::Int(v) => v as &(dyn ToSql + Sync),
            Param::Text(v) => v as &(dyn ToSql + Sync),
            Param::OptText(v) => v as &(dyn ToSql + Sync),
            Param::OptInt(v) => v as &(dyn ToSql + Sync),
            Param::Bool(v) => v as &(dyn ToSql + Sync),
            Param::Ints(v) => v as &(dyn ToSql + Sync),
            Param::OptInts(v) => v as &(dyn ToSql + Sync),
            Param::Texts(v) => v as &(dyn ToSql + Sync),
        })
        .collect()
}

impl PostgresBackend {
    /// Runs `f` on the client and waits for it.
    fn wait_for<'a, T, F>(&'a mut self, f: impl FnOnce(&'a Client) -> F) -> Result<T>
    where
        F: std::future::Future<Output = std::result::Result<T, tokio_postgres::Error>> + 'a,
    {
        let client = &self.client;
        self.runtime.block_on(f(client)).map_err(db)
    }

    fn statement(&mut self, sql: &'static str) -> Result<Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let text = dollar_placeholders(sql);
        let s = self.wait_for(|c| async move { c.prepare(&text).await })?;
        self.statements.insert(sql, s.clone());
        Ok(s)
    }
}

/// Waits for `op` on `client`; with `begin`, the transaction's `BEGIN` goes ahead of it in the
/// same round trip (the client sends requests in the order they are first polled).
fn after_begin<T>(
    runtime: &tokio::runtime::Runtime,
    client: &Client,
    begin: bool,
    op: impl std::future::Future<Output = std::result::Result<T, tokio_postgres::Error>>,
) -> Result<T> {
    let answer = if begin {
        runtime
            .block_on(try_join(client.batch_execute(BEGIN), op))
            .map(|((), v)| v)
    } else {
        runtime.block_on(op)
    };
    answer.map_err(db)
}

impl Backend for PostgresBackend {
    fn execute(&mut self, sql: &'static str, params: &[Param]) -> Result<u64> {
        let stmt = self.statement(sql)?;
        let params = bind(params);
        let begin = std::mem::take(&mut self.begin_pending);
        let op = self.client.execute(&stmt, &params);
        after_begin(&self.runtime, &self.client, begin, op)
    }

    fn query(
        &mut self,
        sql: &'static str,
        params: &[Param],
        row: &mut dyn FnMut(&dyn Row) -> Result<()>,
    ) -> Result<()> {
        let stmt = self.statement(sql)?;
        let params = bind(params);
        let begin = std::mem::take(&mut self.begin_pending);
        let op = self.client.query(&stmt, &params);
        for r in after_begin(&self.runtime, &self.client, begin, op)? {
            row(&PgRow(&r))?;
        }
        Ok(())
    }

    fn execute_and_commit(&mut self, sql: &'static str, params: &[Param]) -> Result<u64> {
        let stmt = self.statement(sql)?;
        let params = bind(params);
        let begin = std::mem::take(&mut self.begin_pending);
        // After a failed statement the server answers COMMIT with a rollback: nothing of the
        // transaction stays, and the statement's error is the one reported.
        let op = try_join(
            self.client.execute(&stmt, &params),
            self.client.batch_execute("COMMIT"),
        );
        after_begin(&self.runtime, &self.client, begin, op).map(|(n, ())| n)
    }

    fn begin(&mut self) -> Result<()> {
        self.begin_pending = true;
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        if std::mem::take(&mut self.begin_pending) {
            return Ok(()); // nothing was sent: there is no transaction on the server
        }
        self.wait_for(|c| async move { c.batch_execute("COMMIT").await })
    }

    fn rollback(&mut self) -> Result<()> {
        if std::mem::take(&mut self.begin_pending) {
            return Ok(());
        }
        // Outside a transaction PostgreSQL only warns.
        self.wait_for(|c| async move { c.batch_execute("ROLLBACK").await })
    }

    fn owns_database(&self) -> bool {
        false
    }

    fn migrations(&self) -> &'static [&'static str] {
        schema::POSTGRES_MIGRATIONS
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        if std::mem::take(&mut self.begin_pending) {
            self.wait_for(|c| async move { c.batch_execute(BEGIN).await })?;
        }
        let sql = sql.to_string();
        self.wait_for(|c| async move { c.batch_execute(&sql).await })
    }

    fn binds_arrays(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new database on the server `BACKORDER_TEST_POSTGRES` names; `None` (and a message) when
    /// it is unset, except under CI, which must run these.
    fn fresh_database(tag: &str) -> Option<String> {
        let Ok(server) = std::env::var("BACKORDER_TEST_POSTGRES") else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must run the PostgreSQL tests: BACKORDER_TEST_POSTGRES is unset"
            );
            eprintln!(
                "PostgreSQL test skipped: set BACKORDER_TEST_POSTGRES (see scripts/postgres)"
            );
            return None;
        };
        let name = format!("bo_{tag}_{}", std::process::id());
        let mut admin = postgres::Client::connect(&server, postgres::NoTls).unwrap();
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let (base, _) = server.rsplit_once('/').unwrap();
        Some(format!("{base}/{name}"))
    }

    #[test]
    fn a_database_of_schema_2_gets_its_journal_as_columns() {
        use backorder_core::ledger::{LedgerStore, TransferKind};
        use backorder_core::Store;
        let Some(url) = fresh_database("upgrade") else {
            return;
        };
        {
            // What the build before schema 3 wrote: a journal row with a JSON body.
            let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            c.batch_execute(schema::MIGRATIONS_TABLE).unwrap();
            for (i, sql) in schema::POSTGRES_MIGRATIONS[..2].iter().enumerate() {
                c.batch_execute(sql).unwrap();
                c.execute(
                    "INSERT INTO schema_migrations (version) VALUES ($1)",
                    &[&(i as i64 + 1)],
                )
                .unwrap();
            }
            let body = r#"{"id":7,"key":"k7","kind":"RELEASE","debit":"ann","credit":"@revenue:USD","amount":"49.00","currency":"USD","pending_id":6,"backorder":3,"at":"2026-03-01T12:00:00.5Z"}"#;
            c.execute(
                "INSERT INTO transfers (id, key, debit, credit, body) \
                 VALUES (7, 'k7', 'ann', '@revenue:USD', $1)",
                &[&body],
            )
            .unwrap();
        }
        let mut store = PostgresStore::connect(&url).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            schema::POSTGRES_MIGRATIONS.len() as i64
        );
        let t = store.transfer_by_key("k7").unwrap().unwrap();
        assert_eq!(
            (
                t.id,
                t.kind,
                t.amount.to_string(),
                t.pending_id,
                t.backorder
            ),
            (
                7,
                TransferKind::Release,
                "49.00".to_string(),
                Some(6),
                Some(3)
            )
        );
        assert_eq!(t.at.to_rfc3339(), "2026-03-01T12:00:00.500+00:00");
        let ann = store.transfers_for_account("ann", 0, 10).unwrap();
        assert_eq!(ann, vec![t]);
    }

    /// Runs `f` in a transaction until it commits, as the engine does (at most three runs).
    fn retrying<T>(s: &mut PostgresStore, f: impl Fn(&mut PostgresStore) -> Result<T>) -> T {
        use backorder_core::Store;
        for _ in 0..3 {
            s.begin().unwrap();
            let v = f(s).unwrap();
            match s.commit() {
                Ok(()) => return v,
                Err(Error::StoreConflict(_)) => continue,
                Err(e) => panic!("{e}"),
            }
        }
        panic!("three conflicts in a row");
    }

    /// Two processes' stores on a new database (as the engine runs them: keys checked at the
    /// end), `a` having opened ann's account and funded it with 100 under key `f1`.
    fn ann_funded_on_two_stores(tag: &str) -> Option<(String, PostgresStore, PostgresStore)> {
        use backorder_core::{Currency, Money, Store};
        let url = fresh_database(tag)?;
        let (mut a, mut b) = (
            PostgresStore::connect(&url).unwrap(),
            PostgresStore::connect(&url).unwrap(),
        );
        a.defer_key_checks();
        b.defer_key_checks();
        a.begin().unwrap();
        backorder_core::ledger::open_customer(&mut a, "ann", Currency::USD).unwrap();
        let hundred = Money::new(rust_decimal::Decimal::from(100), Currency::USD);
        backorder_core::ledger::fund(&mut a, "f1", "ann", &hundred, chrono::DateTime::UNIX_EPOCH)
            .unwrap();
        a.commit().unwrap();
        Some((url, a, b))
    }

    /// Two processes' stores on one database: what one keeps between transactions is checked
    /// when the other changed it, at commit and after a rollback, and the retry reads afresh.
    #[test]
    fn rows_kept_between_transactions_are_checked_against_the_database() {
        use backorder_core::ledger::{self, LedgerStore};
        use backorder_core::{Currency, Money, Store};
        let Some((url, mut a, mut b)) = ann_funded_on_two_stores("kept_rows") else {
            return;
        };
        let now = chrono::DateTime::UNIX_EPOCH;
        let usd = |n: i64| Money::new(rust_decimal::Decimal::from(n), Currency::USD);
        // `a` answers from what it committed; nobody else wrote.
        a.begin().unwrap();
        let r1 = ledger::reserve(&mut a, "r1", "ann", &usd(30), None, now).unwrap();
        a.commit().unwrap();
        // `b` reserves, and releases what `a` reserved: `a`'s rows are stale now.
        b.begin().unwrap();
        ledger::reserve(&mut b, "r2", "ann", &usd(50), None, now).unwrap();
        ledger::release(&mut b, "x1", r1.id, now).unwrap();
        b.commit().unwrap();
        // At commit: the write statement finds the account and counter changed.
        a.begin().unwrap();
        ledger::reserve(&mut a, "r3", "ann", &usd(10), None, now).unwrap();
        let stale = a.commit().unwrap_err();
        assert!(matches!(stale, Error::StoreConflict(_)), "{stale}");
        a.begin().unwrap();
        let r3 = ledger::reserve(&mut a, "r3", "ann", &usd(10), None, now).unwrap();
        a.commit().unwrap();
        assert!(
            r3.id > r1.id + 2,
            "`a` counted past what `b` committed for ann ({})",
            r3.id
        );
        // `b` kept what it committed, and `a` has changed it since: `b` runs again, as the
        // engine does.
        b.begin().unwrap();
        ledger::fund(&mut b, "f2", "ann", &usd(100), now).unwrap();
        let stale = b.commit().unwrap_err();
        assert!(matches!(stale, Error::StoreConflict(_)), "{stale}");
        b.begin().unwrap();
        ledger::fund(&mut b, "f2", "ann", &usd(100), now).unwrap();
        b.commit().unwrap();
        // After a rollback: `a` refuses from a balance `b` has since topped up, and the
        // rollback finds that out. (The counter `a` kept is stale, `b` took ids since: the
        // reserve runs twice, and the conflict pauses `a`'s cache, which the loop passes.)
        retrying(&mut a, |s| {
            ledger::reserve(s, "r4", "ann", &usd(60), None, now)
        });
        for _ in 0..super::super::shared_cache::PAUSE {
            a.begin().unwrap();
            a.ledger_account("ann").unwrap();
            a.commit().unwrap();
        }
        retrying(&mut b, |s| ledger::fund(s, "f3", "ann", &usd(500), now));
        // `a` read the account in its last transaction: it answers from what it kept.
        a.begin().unwrap();
        let short = ledger::reserve(&mut a, "r5", "ann", &usd(300), None, now).unwrap_err();
        assert_eq!(short.code(), backorder_core::ErrorCode::InsufficientFunds);
        let stale = a.rollback().unwrap_err();
        assert!(matches!(stale, Error::StoreConflict(_)), "{stale}");
        a.begin().unwrap();
        ledger::reserve(&mut a, "r5", "ann", &usd(300), None, now).unwrap();
        a.commit().unwrap();
        let mut fresh = PostgresStore::connect(&url).unwrap();
        let ann = ledger::balance(&mut fresh, "ann").unwrap();
        assert_eq!(
            (ann.reserved, ann.available),
            (
                rust_decimal::Decimal::from(50 + 10 + 60 + 300),
                rust_decimal::Decimal::from(700 - 420)
            )
        );
        // The two stores counted through blocks of their own, and ann's statement is still in
        // the order the transfers committed.
        let statement: Vec<String> = fresh
            .transfers_for_account("ann", 0, 100)
            .unwrap()
            .into_iter()
            .map(|t| t.key.to_string())
            .collect();
        assert_eq!(
            statement,
            ["f1", "r1", "r2", "x1", "r3", "f2", "r4", "f3", "r5"]
        );
    }

    /// Another process reserves and releases for a customer this store kept: the row's text is
    /// back to what this store kept, but the customer's journal moved past this store's block.
    /// The write statement's order check must refuse the stale ids, and the next run take ids
    /// above the other process's.
    #[test]
    fn a_row_changed_and_changed_back_still_keeps_the_statement_in_order() {
        use backorder_core::ledger::{self, LedgerStore};
        use backorder_core::{Currency, Money, Store};
        let Some((_, mut a, mut b)) = ann_funded_on_two_stores("changed_back") else {
            return;
        };
        let now = chrono::DateTime::UNIX_EPOCH;
        let usd = |n: i64| Money::new(rust_decimal::Decimal::from(n), Currency::USD);
        let kept = a.ledger_account("ann").unwrap().unwrap();
        b.begin().unwrap();
        let r = ledger::reserve(&mut b, "b-r", "ann", &usd(30), None, now).unwrap();
        let x = ledger::release(&mut b, "b-x", r.id, now).unwrap();
        b.commit().unwrap();
        assert_eq!(
            b.ledger_account("ann").unwrap(),
            Some(kept),
            "the same text again"
        );
        a.begin().unwrap();
        ledger::reserve(&mut a, "a-r", "ann", &usd(10), None, now).unwrap();
        let stale = a.commit().unwrap_err();
        assert!(
            matches!(&stale, Error::StoreConflict(m) if m.contains(super::super::sql::JOURNAL_ORDER)),
            "{stale}"
        );
        let t = retrying(&mut a, |s| {
            ledger::reserve(s, "a-r", "ann", &usd(10), None, now)
        });
        assert!(t.id > x.id, "{} after {}", t.id, x.id);
    }

    /// Two processes deposit for two customers at once: neither waits for nor fails the other,
    /// and the registrar's revenue account is the sum of both connections' shares.
    #[test]
    fn deposits_of_two_processes_at_once_share_the_revenue_account() {
        use backorder_core::ledger::{self, LedgerStore};
        use backorder_core::{Currency, Money, Store};
        use rust_decimal::Decimal;
        let Some(url) = fresh_database("shares") else {
            return;
        };
        let now = chrono::DateTime::UNIX_EPOCH;
        let usd = |n: i64| Money::new(Decimal::from(n), Currency::USD);
        let (mut a, mut b) = (
            PostgresStore::connect(&url).unwrap(),
            PostgresStore::connect(&url).unwrap(),
        );
        for (s, who) in [(&mut a, "ann"), (&mut b, "bob")] {
            s.defer_key_checks();
            s.begin().unwrap();
            ledger::open_customer(s, who, Currency::USD).unwrap();
            ledger::fund(s, &format!("f-{who}"), who, &usd(100), now).unwrap();
            s.commit().unwrap();
        }
        // As autovacuum leaves a live database: statistics that say `ledger_accounts` is a few
        // rows, which a planner left to itself reads whole.
        postgres::Client::connect(&url, postgres::NoTls)
            .unwrap()
            .batch_execute("ANALYZE")
            .unwrap();
        // Both transactions open at once (a statement each, so both have their snapshots before
        // either writes), each reserving, then releasing or capturing: no conflict.
        let open_both = |a: &mut PostgresStore, b: &mut PostgresStore| {
            a.begin().unwrap();
            b.begin().unwrap();
            // (A table neither writes: a read of the journal would lock index pages the other
            // inserts into, a conflict of the test's own making.)
            a.policies().unwrap();
            b.policies().unwrap();
        };
        for round in 0..20 {
            open_both(&mut a, &mut b);
            let ra = ledger::reserve(&mut a, &format!("ra{round}"), "ann", &usd(3), None, now);
            let rb = ledger::reserve(&mut b, &format!("rb{round}"), "bob", &usd(2), None, now);
            a.commit().unwrap();
            b.commit().unwrap();
            if round % 2 == 1 {
                open_both(&mut a, &mut b);
                ledger::release(&mut a, &format!("xa{round}"), ra.unwrap().id, now).unwrap();
                ledger::capture(
                    &mut b,
                    &format!("cb{round}"),
                    rb.unwrap().id,
                    usd(1).amount,
                    now,
                )
                .unwrap();
                b.commit().unwrap();
                a.commit().unwrap();
            }
        }
        let mut fresh = PostgresStore::connect(&url).unwrap();
        let revenue = fresh.ledger_account("@revenue:USD").unwrap().unwrap();
        // ann: 10 of 3 held; bob: 10 of 2 held and 10 captured at 1.
        assert_eq!(
            (revenue.credits_pending, revenue.credits_posted),
            (Decimal::from(30 + 20), Decimal::from(10))
        );
        let funding = fresh.ledger_account("@funding:USD").unwrap().unwrap();
        assert_eq!(funding.debits_posted, Decimal::from(200));
        let keys: Vec<String> = fresh
            .ledger_accounts_after(None, 10)
            .unwrap()
            .into_iter()
            .map(|a| a.key.to_string())
            .collect();
        assert_eq!(keys, ["@funding:USD", "@revenue:USD", "ann", "bob"]);
        let page = fresh
            .ledger_accounts_after(Some("@funding:USD"), 1)
            .unwrap();
        assert_eq!(page, vec![revenue.clone()]);
        // A direct put of the registrar's account replaces its totals.
        let mut put = revenue;
        put.credits_posted = Decimal::from(7);
        fresh.put_ledger_account(put.clone()).unwrap();
        assert_eq!(fresh.ledger_account("@revenue:USD").unwrap(), Some(put));
    }

    /// Another process changes only a ledger row this store kept (no transfer id taken, so no
    /// id can clash): the write statement's own check must find it.
    #[test]
    fn a_kept_row_changed_alone_fails_the_write_that_rests_on_it() {
        use backorder_core::ledger::{self, LedgerStore};
        use backorder_core::{Currency, Money, Store};
        let Some(url) = fresh_database("kept_row_alone") else {
            return;
        };
        let now = chrono::DateTime::UNIX_EPOCH;
        let usd = |n: i64| Money::new(rust_decimal::Decimal::from(n), Currency::USD);
        let (mut a, mut b) = (
            PostgresStore::connect(&url).unwrap(),
            PostgresStore::connect(&url).unwrap(),
        );
        a.defer_key_checks();
        a.begin().unwrap();
        ledger::open_customer(&mut a, "ann", Currency::USD).unwrap();
        ledger::fund(&mut a, "f1", "ann", &usd(100), now).unwrap();
        a.commit().unwrap();
        // `b` rewrites ann's row alone (outside a transaction: one write, no journal row).
        let mut ann = b.ledger_account("ann").unwrap().unwrap();
        ann.credits_posted += rust_decimal::Decimal::from(50);
        b.put_ledger_account(ann).unwrap();
        a.begin().unwrap();
        ledger::reserve(&mut a, "r1", "ann", &usd(10), None, now).unwrap();
        let stale = a.commit().unwrap_err();
        assert!(matches!(stale, Error::StoreConflict(_)), "{stale}");
        // Nothing of the refused write stayed: the row is `b`'s, the journal has the funding.
        let mut fresh = PostgresStore::connect(&url).unwrap();
        let row = fresh.ledger_account("ann").unwrap().unwrap();
        assert_eq!(
            (row.credits_posted, row.debits_pending),
            (
                rust_decimal::Decimal::from(150),
                rust_decimal::Decimal::ZERO
            )
        );
        assert!(fresh.transfer_by_key("r1").unwrap().is_none());
    }

    /// The shares of connections that closed are folded into their accounts' rows when a store
    /// connects: the totals stay, the share rows go.
    #[test]
    fn a_new_connection_folds_the_shares_of_closed_ones() {
        use backorder_core::ledger::{self, LedgerStore};
        use backorder_core::{Currency, Money, Store};
        use rust_decimal::Decimal;
        let Some(url) = fresh_database("fold") else {
            return;
        };
        let now = chrono::DateTime::UNIX_EPOCH;
        let usd = |n: i64| Money::new(Decimal::from(n), Currency::USD);
        let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let shards = |admin: &mut postgres::Client| -> Vec<i64> {
            admin
                .query(
                    "SELECT shard FROM ledger_account_shares ORDER BY shard",
                    &[],
                )
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect()
        };
        let mut open = Vec::new();
        for (who, n) in [("ann", 100), ("bob", 50)] {
            let mut s = PostgresStore::connect(&url).unwrap();
            s.begin().unwrap();
            ledger::open_customer(&mut s, who, Currency::USD).unwrap();
            ledger::fund(&mut s, &format!("f-{who}"), who, &usd(n), now).unwrap();
            let r = ledger::reserve(&mut s, &format!("r-{who}"), who, &usd(10), None, now).unwrap();
            ledger::capture(&mut s, &format!("c-{who}"), r.id, Decimal::from(4), now).unwrap();
            s.commit().unwrap();
            open.push(s);
        }
        let before = PostgresStore::connect(&url)
            .unwrap()
            .ledger_accounts_after(None, 10)
            .unwrap();
        let closed = shards(&mut admin);
        assert_eq!(
            closed.len(),
            4,
            "two connections' funding and revenue shares"
        );
        drop(open);
        // Wait for the server to see those connections gone.
        for _ in 0..200 {
            let open: i64 = admin
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid::bigint = ANY($1)",
                    &[&closed],
                )
                .unwrap()
                .get(0);
            if open == 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        let mut s = PostgresStore::connect(&url).unwrap();
        assert_eq!(shards(&mut admin), Vec::<i64>::new(), "folded");
        assert_eq!(s.ledger_accounts_after(None, 10).unwrap(), before);
        let revenue = s.ledger_account("@revenue:USD").unwrap().unwrap();
        assert_eq!(
            (revenue.credits_pending, revenue.credits_posted),
            (Decimal::ZERO, Decimal::from(8))
        );
    }

    #[test]
    fn placeholders_and_passwords() {
        assert_eq!(
            dollar_placeholders("SELECT ?1, '?' FROM t WHERE a = ?12"),
            "SELECT $1, '?' FROM t WHERE a = $12"
        );
        assert_eq!(
            crate::store::redact_url("postgres://bo:secret@127.0.0.1:5432/bo"),
            "postgres://bo:***@127.0.0.1:5432/bo"
        );
        assert_eq!(
            crate::store::redact_url("postgres://bo@127.0.0.1/bo"),
            "postgres://bo@127.0.0.1/bo"
        );
        assert_eq!(
            crate::store::redact_url("postgres://bo@h/bo?sslmode=disable&PASSWORD=s3cret&x=y"),
            "postgres://bo@h/bo?sslmode=disable&PASSWORD=***&x=y"
        );
        // Cut as the client cuts: user information up to the first '@', keys percent-decoded.
        assert_eq!(
            crate::store::redact_url("postgres://bo:p/a?s:s@h/bo?pass%77ord=s3cret"),
            "postgres://bo:***@h/bo?pass%77ord=***"
        );
        assert_eq!(
            crate::store::redact_url("postgresql://h:5432/bo?password=s3cret"),
            "postgresql://h:5432/bo?password=***"
        );
    }
}
