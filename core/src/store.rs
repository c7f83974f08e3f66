//! The `Store` trait: every table the engine reads and writes, inside one transaction per command.
//!
//! Reads inside a transaction see the transaction's own writes. A durable store makes `commit`
//! durable and `rollback` undo every write since `begin`; the memory store does the same in memory.
//! Stores hold records; every rule lives in the functions of this crate that use them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::account::Account;
use crate::auction::Auction;
use crate::backorder::{Allocation, Backorder};
use crate::catalog::PendingDeletion;
use crate::error::Result;
use crate::event::{Event, EventKind};
use crate::ledger::{LedgerAccount, LedgerStore, Reservation, Transfer};
use crate::name::DomainName;
use crate::policy::TldPolicy;

/// Something with time-driven work ahead.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum WakeKey {
    /// A backorder (deposit window, deadline, drop).
    Backorder(u64),
    /// An auction (start, end, payment deadline).
    Auction(u64),
}

/// An event about to be appended; the store assigns its sequence number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    /// When.
    pub at: DateTime<Utc>,
    /// The customer to notify.
    pub account: Option<crate::key::Key>,
    /// The backorder concerned.
    pub backorder: Option<u64>,
    /// The name concerned.
    pub domain: Option<DomainName>,
    /// What happened.
    pub kind: EventKind,
}

/// The fields of a backorder that placement and drop processing filter on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackorderHead {
    /// Id.
    pub id: u64,
    /// Current status.
    pub status: crate::lifecycle::Status,
    /// Drop time, once known.
    pub drop_at: Option<DateTime<Utc>>,
}

impl From<&Backorder> for BackorderHead {
    fn from(b: &Backorder) -> BackorderHead {
        BackorderHead {
            id: b.id,
            status: b.status,
            drop_at: b.drop_at,
        }
    }
}

/// A command remembered under its idempotency key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandRecord {
    /// The key.
    pub key: crate::key::Key,
    /// A stable hash of the request's fields, compared on a repeat.
    pub fingerprint: u64,
    /// The id of what the command created.
    pub result: u64,
}

/// Persistence for the engine. One implementation per backend; all pass the same conformance tests.
pub trait Store: LedgerStore + Send {
    /// True when no other process can use this store while this one has it (the memory store, a
    /// SQLite file): work found half-done when it is opened was left by a process that is gone.
    fn single_process(&self) -> bool {
        false
    }

    /// Tells the store that its caller runs a transaction again, from the start, whenever
    /// `commit` *or* `rollback` fails with [`crate::Error::StoreConflict`] (as the engine does).
    /// A database store may then skip reading a ledger idempotency key before using it (a round
    /// trip to a server, a B-tree search in a file) and check at the end instead: at `commit` the
    /// key's unique index refuses a repeat, at `rollback` a look-up of every key taken for new
    /// shows whether the answer was wrong. Either way the store reports a conflict and reads the
    /// keys in the next transaction, which then answers as the key's first use did. Stores that
    /// gain nothing by it (the memory store) ignore the call.
    fn defer_key_checks(&mut self) {}

    /// Starts a transaction.
    fn begin(&mut self) -> Result<()>;
    /// Makes every write since `begin` durable and visible.
    fn commit(&mut self) -> Result<()>;
    /// Undoes every write since `begin`. After [`Store::defer_key_checks`] it may fail with
    /// [`crate::Error::StoreConflict`]: the transaction's outcome rested on a key it did not read.
    fn rollback(&mut self) -> Result<()>;

    /// The next backorder id (strictly increasing).
    fn next_backorder_id(&mut self) -> Result<u64>;
    /// The next auction id (strictly increasing).
    fn next_auction_id(&mut self) -> Result<u64>;

    /// Every stored policy.
    fn policies(&mut self) -> Result<Vec<TldPolicy>>;
    /// Inserts or replaces a policy.
    fn put_policy(&mut self, policy: &TldPolicy) -> Result<()>;

    /// An account by id.
    fn account(&mut self, id: &str) -> Result<Option<Account>>;
    /// Inserts or replaces an account.
    fn put_account(&mut self, account: &Account) -> Result<()>;
    /// Account ids after `after` (exclusive), ascending, at most `limit`.
    fn account_ids(&mut self, after: Option<&str>, limit: usize) -> Result<Vec<String>>;

    /// A pending deletion by name.
    fn pending_deletion(&mut self, domain: &DomainName) -> Result<Option<PendingDeletion>>;
    /// Inserts or replaces a pending deletion.
    fn put_pending_deletion(&mut self, entry: &PendingDeletion) -> Result<()>;
    /// Every pending deletion, withdrawn ones included, in no particular order.
    fn pending_deletions(&mut self) -> Result<Vec<PendingDeletion>>;
    /// How many pending deletions are listed (not withdrawn).
    fn listed_count(&mut self) -> Result<u64>;
    /// A hint that about `additional` pending deletions are about to be written (an import):
    /// a store may make room for them at once. Does nothing by default.
    fn reserve_pending_deletions(&mut self, additional: usize) -> Result<()> {
        let _ = additional;
        Ok(())
    }

    /// The next alert subscription id (strictly increasing).
    fn next_subscription_id(&mut self) -> Result<u64>;
    /// Inserts or replaces an alert subscription.
    fn put_subscription(&mut self, subscription: &crate::alert::Subscription) -> Result<()>;
    /// Deletes an alert subscription (its record of alerts sent stays).
    fn delete_subscription(&mut self, id: u64) -> Result<()>;
    /// An alert subscription by id.
    fn subscription(&mut self, id: u64) -> Result<Option<crate::alert::Subscription>>;
    /// Every alert subscription, ascending by id.
    fn subscriptions(&mut self) -> Result<Vec<crate::alert::Subscription>>;
    /// True when `subscription` was alerted about `domain` before.
    fn alert_sent(&mut self, subscription: u64, domain: &DomainName) -> Result<bool>;
    /// Records that `subscription` was alerted about `domain`.
    fn mark_alert_sent(&mut self, subscription: u64, domain: &DomainName) -> Result<()>;

    /// A backorder by id.
    fn backorder(&mut self, id: u64) -> Result<Option<Backorder>>;
    /// Inserts or replaces a backorder (taken by value: callers are done with it).
    fn put_backorder(&mut self, backorder: Backorder) -> Result<()>;
    /// The backorders on a name (only `account`'s when given), ascending by id, as heads (the
    /// fields placement and drops filter on), so callers load whole records only to change them.
    fn backorders_for_name(
        &mut self,
        domain: &DomainName,
        account: Option<&str>,
    ) -> Result<Vec<BackorderHead>>;
    /// Ids of every backorder of an account, ascending.
    fn backorders_for_account(&mut self, account: &str) -> Result<Vec<u64>>;
    /// How many backorders are in each status (statuses with none are absent).
    fn count_by_status(
        &mut self,
    ) -> Result<std::collections::BTreeMap<crate::lifecycle::Status, u64>>;
    /// Backorders with id greater than `after`, ascending, at most `limit` (for audits and exports).
    fn backorders_after(&mut self, after: u64, limit: usize) -> Result<Vec<Backorder>>;

    /// An auction by id.
    fn auction(&mut self, id: u64) -> Result<Option<Auction>>;
    /// Inserts or replaces an auction (taken by value).
    fn put_auction(&mut self, auction: Auction) -> Result<()>;
    /// Auctions with id greater than `after`, ascending, at most `limit`.
    fn auctions_after(&mut self, after: u64, limit: usize) -> Result<Vec<Auction>>;

    /// The allocation of a name's drop, if it was allocated.
    fn allocation(
        &mut self,
        domain: &DomainName,
        drop_at: DateTime<Utc>,
    ) -> Result<Option<Allocation>>;
    /// Records an allocation.
    fn put_allocation(&mut self, allocation: &Allocation) -> Result<()>;

    /// Sets (or with `None` clears) when `key` next has work.
    fn set_wake(&mut self, key: WakeKey, at: Option<DateTime<Utc>>) -> Result<()>;
    /// When `key` next has work, if it has any.
    fn wake_of(&mut self, key: WakeKey) -> Result<Option<DateTime<Utc>>>;
    /// Work due at or before `now`, earliest first, at most `limit`.
    fn due(&mut self, now: DateTime<Utc>, limit: usize) -> Result<Vec<(DateTime<Utc>, WakeKey)>>;
    /// The earliest pending wake-up, if any.
    fn next_wake(&mut self) -> Result<Option<DateTime<Utc>>>;

    /// Appends an event to the outbox and returns its sequence number.
    fn append_event(&mut self, event: NewEvent) -> Result<u64>;
    /// Events with `seq > after`, ascending, at most `limit`.
    fn events_after(&mut self, after: u64, limit: usize) -> Result<Vec<Event>>;
    /// Deletes events with `seq <= upto` (the host has delivered them).
    fn prune_events(&mut self, upto: u64) -> Result<()>;

    /// The command recorded under an idempotency key.
    fn command(&mut self, key: &str) -> Result<Option<CommandRecord>>;
    /// Records a command under its idempotency key.
    fn put_command(&mut self, record: CommandRecord) -> Result<()>;

    /// Ledger accounts with key greater than `after`, ascending, at most `limit`.
    fn ledger_accounts_after(
        &mut self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<LedgerAccount>>;
    /// Transfers with id greater than `after`, ascending, at most `limit`.
    fn transfers_after(&mut self, after: u64, limit: usize) -> Result<Vec<Transfer>>;
    /// Transfers touching a ledger account with id greater than `after`, ascending, at most
    /// `limit`. A customer's transfers take increasing ids in commit order, so paging by the
    /// last id seen misses none that commit later.
    fn transfers_for_account(
        &mut self,
        account: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Transfer>>;
    /// Reservations with id greater than `after`, ascending, at most `limit`.
    fn reservations_after(&mut self, after: u64, limit: usize) -> Result<Vec<Reservation>>;

    /// Calls `f` on every transfer, ascending by id (for audits). By default reads pages of
    /// [`Store::transfers_after`]; a store that can lend its records does so without copies.
    fn for_each_transfer(&mut self, f: &mut dyn FnMut(&Transfer) -> Result<()>) -> Result<()> {
        paged(
            |after| self.transfers_after(after, VISIT_PAGE),
            |t: &Transfer| t.id,
            f,
        )
    }

    /// Calls `f` on every reservation, ascending by id (for audits).
    fn for_each_reservation(
        &mut self,
        f: &mut dyn FnMut(&Reservation) -> Result<()>,
    ) -> Result<()> {
        paged(
            |after| self.reservations_after(after, VISIT_PAGE),
            |r: &Reservation| r.id,
            f,
        )
    }

    /// Calls `f` on every backorder, ascending by id (for audits).
    fn for_each_backorder(&mut self, f: &mut dyn FnMut(&Backorder) -> Result<()>) -> Result<()> {
        paged(
            |after| self.backorders_after(after, VISIT_PAGE),
            |b: &Backorder| b.id,
            f,
        )
    }
}

/// The page size of the default `for_each_*` visits.
pub const VISIT_PAGE: usize = 4096;

/// Visits every record of a table read in pages: `page(after)` returns the records with id above
/// `after`, ascending. What the default `for_each_*` methods of [`Store`] do.
pub fn paged<T>(
    mut page: impl FnMut(u64) -> Result<Vec<T>>,
    id: impl Fn(&T) -> u64,
    f: &mut dyn FnMut(&T) -> Result<()>,
) -> Result<()> {
    let mut after = 0;
    loop {
        let rows = page(after)?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = id(last);
        rows.iter().try_for_each(&mut *f)?;
    }
}

/// Runs `f` in one transaction: commits on `Ok`, rolls back on `Err` (leaving nothing changed).
/// A commit that fails is rolled back too, so no transaction is left open behind an error.
pub fn in_transaction<S: Store + ?Sized, T>(
    store: &mut S,
    f: impl FnOnce(&mut S) -> Result<T>,
) -> Result<T> {
    store.begin()?;
    match f(store) {
        Ok(v) => match store.commit() {
            Ok(()) => Ok(v),
            Err(e) => {
                let _ = store.rollback();
                Err(e)
            }
        },
        Err(e) => {
            store.rollback()?;
            Err(e)
        }
    }
}
