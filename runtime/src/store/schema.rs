//! The durable stores' schema: tables, migrations and the encodings of times and wake-ups.
//!
//! Migrations are applied in order and recorded in `schema_migrations`; a migration, once
//! released, never changes: a change to the schema is a new entry at the end.

use backorder_core::store::WakeKey;
use backorder_core::{Error, Result};
use chrono::{DateTime, SecondsFormat, Utc};

/// The table recording which migrations a database has.
pub(crate) const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY,
    applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);";

/// The SQLite migrations, version 1 first.
pub(crate) const SQLITE_MIGRATIONS: &[&str] = &[
    // 1: every table of the Store trait.
    "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
     INSERT INTO counters (name, value) VALUES
        ('transfer', 0), ('backorder', 0), ('auction', 0), ('event', 0), ('subscription', 0);
     CREATE TABLE policies (zone TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID;
     CREATE TABLE accounts (id TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID;
     CREATE TABLE pending_deletions (
        domain TEXT PRIMARY KEY,
        drop_at TEXT NOT NULL,
        withdrawn BOOLEAN NOT NULL,
        updated_at TEXT NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE subscriptions (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
     CREATE TABLE alerts_sent (
        subscription INTEGER NOT NULL,
        domain TEXT NOT NULL,
        PRIMARY KEY (subscription, domain)
     ) WITHOUT ROWID;
     CREATE TABLE backorders (
        id INTEGER PRIMARY KEY,
        domain TEXT NOT NULL,
        account TEXT NOT NULL,
        status TEXT NOT NULL,
        drop_at TEXT,
        body TEXT NOT NULL
     );
     CREATE INDEX backorders_by_name ON backorders (domain, id);
     CREATE INDEX backorders_by_account ON backorders (account, id);
     CREATE TABLE auctions (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
     CREATE TABLE allocations (
        domain TEXT NOT NULL,
        drop_at TEXT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (domain, drop_at)
     ) WITHOUT ROWID;
     CREATE TABLE wakes (
        kind INTEGER NOT NULL,
        id INTEGER NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (kind, id)
     ) WITHOUT ROWID;
     CREATE INDEX wakes_by_time ON wakes (at, kind, id);
     CREATE TABLE events (seq INTEGER PRIMARY KEY, body TEXT NOT NULL);
     CREATE TABLE commands (
        key TEXT PRIMARY KEY,
        fingerprint INTEGER NOT NULL,
        result INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE ledger_accounts (key TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID;
     CREATE TABLE transfers (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        debit TEXT NOT NULL,
        credit TEXT NOT NULL,
        body TEXT NOT NULL
     );
     CREATE INDEX transfers_by_debit ON transfers (debit, id);
     CREATE INDEX transfers_by_credit ON transfers (credit, id);
     CREATE TABLE reservations (id INTEGER PRIMARY KEY, body TEXT NOT NULL);",
    // 2: see `CUSTOMER_SIDE_INDEXES`.
    CUSTOMER_SIDE_INDEXES,
    // 3: journal rows as columns (see `POSTGRES_MIGRATIONS`).
    "ALTER TABLE transfers ADD COLUMN kind TEXT NOT NULL DEFAULT '';
     ALTER TABLE transfers ADD COLUMN amount TEXT NOT NULL DEFAULT '';
     ALTER TABLE transfers ADD COLUMN currency TEXT NOT NULL DEFAULT '';
     ALTER TABLE transfers ADD COLUMN pending_id INTEGER;
     ALTER TABLE transfers ADD COLUMN backorder INTEGER;
     ALTER TABLE transfers ADD COLUMN journalled_at TEXT NOT NULL DEFAULT '';
     UPDATE transfers SET
        kind = json_extract(body, '$.kind'),
        amount = json_extract(body, '$.amount'),
        currency = json_extract(body, '$.currency'),
        pending_id = json_extract(body, '$.pending_id'),
        backorder = json_extract(body, '$.backorder'),
        journalled_at = json_extract(body, '$.at');
     ALTER TABLE transfers DROP COLUMN body;",
    // 4: nothing. PostgreSQL's version 4 adds the check of rows kept between transactions; one
    // process owns a SQLite file, and what it keeps needs no check. The number keeps the two
    // schemas' versions in step.
    "-- version 4: nothing to change in SQLite",
    // 5: nothing. PostgreSQL's version 5 takes the registrar's own accounts and the journal ids
    // out of every transaction's way, for several processes at once; one process owns a SQLite
    // file.
    "-- version 5: nothing to change in SQLite",
];

/// The PostgreSQL migrations, version 1 first: the SQLite schema with 64-bit integers and keys
/// ordered by bytes (`COLLATE "C"`), as the memory store orders them.
pub(crate) const POSTGRES_MIGRATIONS: &[&str] = &[
    // 1: every table of the Store trait.
    r#"CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
     INSERT INTO counters (name, value) VALUES
        ('transfer', 0), ('backorder', 0), ('auction', 0), ('event', 0), ('subscription', 0);
     CREATE TABLE policies (zone TEXT COLLATE "C" PRIMARY KEY, body TEXT NOT NULL);
     CREATE TABLE accounts (id TEXT COLLATE "C" PRIMARY KEY, body TEXT NOT NULL);
     CREATE TABLE pending_deletions (
        domain TEXT COLLATE "C" PRIMARY KEY,
        drop_at TEXT NOT NULL,
        withdrawn BOOLEAN NOT NULL,
        updated_at TEXT NOT NULL
     );
     CREATE TABLE subscriptions (id BIGINT PRIMARY KEY, body TEXT NOT NULL);
     CREATE TABLE alerts_sent (
        subscription BIGINT NOT NULL,
        domain TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (subscription, domain)
     );
     CREATE TABLE backorders (
        id BIGINT PRIMARY KEY,
        domain TEXT COLLATE "C" NOT NULL,
        account TEXT COLLATE "C" NOT NULL,
        status TEXT NOT NULL,
        drop_at TEXT COLLATE "C",
        body TEXT NOT NULL
     );
     CREATE INDEX backorders_by_name ON backorders (domain, id);
     CREATE INDEX backorders_by_account ON backorders (account, id);
     CREATE TABLE auctions (id BIGINT PRIMARY KEY, body TEXT NOT NULL);
     CREATE TABLE allocations (
        domain TEXT COLLATE "C" NOT NULL,
        drop_at TEXT COLLATE "C" NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (domain, drop_at)
     );
     CREATE TABLE wakes (
        kind BIGINT NOT NULL,
        id BIGINT NOT NULL,
        at TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (kind, id)
     );
     CREATE INDEX wakes_by_time ON wakes (at, kind, id);
     CREATE TABLE events (seq BIGINT PRIMARY KEY, body TEXT NOT NULL);
     CREATE TABLE commands (
        key TEXT COLLATE "C" PRIMARY KEY,
        fingerprint BIGINT NOT NULL,
        result BIGINT NOT NULL
     );
     CREATE TABLE ledger_accounts (key TEXT COLLATE "C" PRIMARY KEY, body TEXT NOT NULL);
     CREATE TABLE transfers (
        id BIGINT PRIMARY KEY,
        key TEXT COLLATE "C" NOT NULL UNIQUE,
        debit TEXT COLLATE "C" NOT NULL,
        credit TEXT COLLATE "C" NOT NULL,
        body TEXT NOT NULL
     );
     CREATE INDEX transfers_by_debit ON transfers (debit, id);
     CREATE INDEX transfers_by_credit ON transfers (credit, id);
     CREATE TABLE reservations (id BIGINT PRIMARY KEY, body TEXT NOT NULL);"#,
    // 2: see `CUSTOMER_SIDE_INDEXES`.
    CUSTOMER_SIDE_INDEXES,
    // 3: journal rows as columns, no JSON body. Every ledger operation writes one, and encoding
    // it as a document was most of what the store itself spent on a batched operation; the
    // amount stays exact decimal text.
    r#"ALTER TABLE transfers
        ADD COLUMN kind TEXT, ADD COLUMN amount TEXT, ADD COLUMN currency TEXT,
        ADD COLUMN pending_id BIGINT, ADD COLUMN backorder BIGINT, ADD COLUMN journalled_at TEXT;
     UPDATE transfers SET
        kind = body::json->>'kind',
        amount = body::json->>'amount',
        currency = body::json->>'currency',
        pending_id = (body::json->>'pending_id')::bigint,
        backorder = (body::json->>'backorder')::bigint,
        journalled_at = body::json->>'at';
     ALTER TABLE transfers
        ALTER COLUMN kind SET NOT NULL, ALTER COLUMN amount SET NOT NULL,
        ALTER COLUMN currency SET NOT NULL, ALTER COLUMN journalled_at SET NOT NULL,
        DROP COLUMN body;"#,
    // 4: the check a transaction's write statement makes of the rows the store answered from
    // what it kept between transactions (see `shared_cache`): false fails the transaction as a
    // serialization failure, which the engine answers by running it again.
    r#"CREATE FUNCTION backorder_cache_check(fresh BOOLEAN) RETURNS BOOLEAN
        LANGUAGE plpgsql AS $$
     BEGIN
        IF fresh IS NOT TRUE THEN
           RAISE EXCEPTION 'a row this process had kept was changed by another process'
              USING ERRCODE = 'serialization_failure';
        END IF;
        RETURN TRUE;
     END
     $$;"#,
    // 5: nothing every transaction writes is written by every other (see `TRANSFER_ID_BLOCK`).
    // - The registrar's own accounts (`@revenue:USD`, …) take each transaction's change as an
    //   addition to this connection's share row (`shard` is the server process id, unique among
    //   open connections), never read by a write: the account is its old row plus its shares.
    // - Journal ids come in blocks from a sequence (one process counts on through its block), so
    //   no row is locked for them; `last_transfer` keeps each customer's journal in commit order,
    //   and the write statement refuses ids at or below it.
    r#"CREATE TABLE ledger_account_shares (
        key TEXT COLLATE "C" NOT NULL,
        shard BIGINT NOT NULL,
        kind TEXT NOT NULL,
        currency TEXT NOT NULL,
        debits_pending NUMERIC NOT NULL,
        debits_posted NUMERIC NOT NULL,
        credits_pending NUMERIC NOT NULL,
        credits_posted NUMERIC NOT NULL,
        PRIMARY KEY (key, shard));
     ALTER TABLE ledger_accounts ADD COLUMN last_transfer BIGINT NOT NULL DEFAULT 0;
     UPDATE ledger_accounts a SET last_transfer = j.last FROM (
        SELECT side AS key, max(id) AS last FROM (
           SELECT debit AS side, id FROM transfers UNION ALL SELECT credit, id FROM transfers) s
        GROUP BY side) j
        WHERE a.key = j.key AND a.key NOT LIKE '@%';
     CREATE FUNCTION backorder_journal_order_check(in_order BOOLEAN) RETURNS BOOLEAN
        LANGUAGE plpgsql AS $$
     BEGIN
        IF in_order IS NOT TRUE THEN
           RAISE EXCEPTION 'a journal id at or below a customer''s last one: another process committed first'
              USING ERRCODE = 'serialization_failure';
        END IF;
        RETURN TRUE;
     END
     $$;
     CREATE SEQUENCE transfer_id_blocks;
     SELECT setval('transfer_id_blocks', (GREATEST(
        (SELECT value FROM counters WHERE name = 'transfer'),
        (SELECT COALESCE(max(id), 0) FROM transfers)) + 65535) / 65536 + 1, false);"#,
];

/// How many journal ids a PostgreSQL store takes from the `transfer_id_blocks` sequence at a
/// time (schema 5): block `b` holds ids `(b - 1) * 65536 + 1 ..= b * 65536`. One process alone
/// uses its blocks one after another, so its ids are dense from 1 like the other stores'.
pub(crate) const TRANSFER_ID_BLOCK: u64 = 65_536;

/// Migration 2 of both databases: the journal indexes only the customer side of a transfer.
/// Every transfer has a ledger account of the registrar's own (`@revenue:USD`, …; customer ids
/// never start with `@`) on one side at least, and those few accounts were in every row of the
/// two account indexes: half of the journal's index writes, for statements nobody asks of them
/// (the audit reads the whole journal). A query for a customer's transfers repeats the indexes'
/// condition so that the database uses them.
const CUSTOMER_SIDE_INDEXES: &str = "DROP INDEX transfers_by_debit;
     DROP INDEX transfers_by_credit;
     CREATE INDEX transfers_by_customer_debit ON transfers (debit, id) WHERE debit NOT LIKE '@%';
     CREATE INDEX transfers_by_customer_credit ON transfers (credit, id) WHERE credit NOT LIKE '@%';";

/// `wakes.kind` of a backorder's wake-up. Backorders sort before auctions at one instant, as
/// [`WakeKey`]'s order has it.
pub(crate) const WAKE_BACKORDER: i64 = 0;
/// `wakes.kind` of an auction's wake-up.
pub(crate) const WAKE_AUCTION: i64 = 1;

/// The wake-up key a `wakes` row stands for.
pub(crate) fn wake_key(kind: i64, id: i64) -> Result<WakeKey> {
    match kind {
        WAKE_BACKORDER => Ok(WakeKey::Backorder(id as u64)),
        WAKE_AUCTION => Ok(WakeKey::Auction(id as u64)),
        other => Err(Error::Store(format!(
            "unknown wake-up kind {other} in the store"
        ))),
    }
}

/// A time as stored: RFC 3339 in UTC with nine fraction digits, e.g.
/// `2026-03-01T12:00:00.000000000Z`. Fixed width for the years 1000-9999 (every time the engine
/// accepts lies in 1970-9999, and wake-ups at most days before), so text order is time order.
pub(crate) fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn stored_times_sort_as_times_do() {
        let times = [
            Utc.with_ymd_and_hms(1969, 12, 29, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + chrono::Duration::nanoseconds(1),
            Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 1).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
        ];
        for pair in times.windows(2) {
            assert!(time_text(pair[0]) < time_text(pair[1]), "{pair:?}");
            assert_eq!(time_text(pair[0]).len(), time_text(pair[1]).len());
        }
        for t in times {
            let back = DateTime::parse_from_rfc3339(&time_text(t)).unwrap();
            assert_eq!(back, t);
        }
    }
}
