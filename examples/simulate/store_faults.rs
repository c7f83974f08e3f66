//! Store faults for the simulation: a [`Store`] that passes every call to the real one until the
//! world arms a fault, which then fires at a store call of the world's choosing: `begin`, any
//! read or write inside a transaction, or `commit`.
//!
//! Two kinds, both counted in store calls so that a fault lands anywhere inside an operation,
//! including in the middle of a tick's many transactions:
//!
//! - [`StoreFault::Transient`]: one call fails (a full disk, an I/O error) and the store goes on.
//!   The engine must roll the transaction back and answer a typed `STORE` error; nothing the
//!   failed operation wrote may remain.
//! - [`StoreFault::PowerCut`]: the process dies at that call. It and every later call fail and
//!   nothing more reaches the database, so the transaction in flight never commits, unless the
//!   cut lands on `commit` *after* it went through (`durable_commit`): the change is kept but the
//!   caller never hears. The world then drops the engine and reopens the file, as a restarted
//!   host would; SQLite rolls back what was not committed, just as after `kill -9`.

use std::sync::{Arc, Mutex, MutexGuard};

use backorder::core::account::Account;
use backorder::core::alert::Subscription;
use backorder::core::store::{BackorderHead, CommandRecord, NewEvent};
use backorder::core::{
    Allocation, Auction, Backorder, DomainName, Event, LedgerAccount, PendingDeletion, Reservation,
    Store, TldPolicy, Transfer, WakeKey,
};
use backorder::{Error, Result};
use backorder_core::ledger::{LedgerAccountKind, LedgerStore, SystemAccountChange};
use backorder_core::Currency;
use chrono::{DateTime, Utc};

/// A fault the world arms: it fires at the `after`-th store call made while armed (1 = the next).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreFault {
    /// One call fails; the store goes on.
    Transient { after: u64 },
    /// The process dies at that call; a cut on `commit` keeps the commit when `durable_commit`.
    PowerCut { after: u64, durable_commit: bool },
}

/// What the world and the store share.
#[derive(Debug, Default)]
pub struct FaultState {
    /// Calls are counted only while the world runs a step (not while it audits).
    pub counting: bool,
    /// The fault waiting to fire, with calls counted so far.
    pub armed: Option<(StoreFault, u64)>,
    /// A transient fault fired and has not been seen by the world yet.
    pub transient_fired: bool,
    /// The power is cut: every call fails until the world reopens the store.
    pub power_cut: bool,
    /// The cut came on `commit`, after the commit went through.
    pub cut_after_commit: bool,
}

/// Shared fault state.
pub type Faults = Arc<Mutex<FaultState>>;

pub fn lock(faults: &Faults) -> MutexGuard<'_, FaultState> {
    faults.lock().unwrap_or_else(|e| e.into_inner())
}

/// The real store behind a fault injector.
pub struct FaultyStore {
    inner: Box<dyn Store>,
    faults: Faults,
}

impl FaultyStore {
    pub fn new(inner: Box<dyn Store>, faults: Faults) -> FaultyStore {
        FaultyStore { inner, faults }
    }

    /// Whether the call about to be made fails; `commit` says whether a cut there lets the
    /// commit through first.
    fn fault(&mut self, commit: bool) -> Option<Fired> {
        let mut s = lock(&self.faults);
        if s.power_cut {
            return Some(Fired::Dead);
        }
        if !s.counting {
            return None;
        }
        let (fault, calls) = s.armed.as_mut()?;
        *calls += 1;
        let fault = *fault;
        let due = match fault {
            StoreFault::Transient { after } => *calls >= after,
            // A cut meant to follow a durable commit waits for the next commit.
            StoreFault::PowerCut {
                after,
                durable_commit,
            } => *calls >= after && (commit || !durable_commit),
        };
        if !due {
            return None;
        }
        s.armed = None;
        Some(match fault {
            StoreFault::Transient { .. } => {
                s.transient_fired = true;
                Fired::Transient
            }
            StoreFault::PowerCut { durable_commit, .. } => {
                s.power_cut = true;
                if commit && durable_commit {
                    s.cut_after_commit = true;
                    Fired::AfterCommit
                } else {
                    Fired::Dead
                }
            }
        })
    }
}

enum Fired {
    Transient,
    Dead,
    AfterCommit,
}

fn injected(what: &str) -> Error {
    Error::Store(format!("injected fault: {what}"))
}

/// Passes a call through unless a fault fires on it.
macro_rules! pass {
    ($self:ident . $name:ident ( $($arg:expr),* )) => {{
        match $self.fault(false) {
            None => $self.inner.$name($($arg),*),
            Some(Fired::Transient) => Err(injected("I/O error")),
            Some(_) => Err(injected("power cut")),
        }
    }};
}

impl LedgerStore for FaultyStore {
    fn ledger_account(&mut self, key: &str) -> Result<Option<LedgerAccount>> {
        pass!(self.ledger_account(key))
    }
    fn put_ledger_account(&mut self, account: LedgerAccount) -> Result<()> {
        pass!(self.put_ledger_account(account))
    }
    fn transfer_by_key(&mut self, key: &str) -> Result<Option<Transfer>> {
        pass!(self.transfer_by_key(key))
    }
    fn next_transfer_id(&mut self) -> Result<u64> {
        pass!(self.next_transfer_id())
    }
    fn insert_transfer(&mut self, transfer: &Transfer) -> Result<()> {
        pass!(self.insert_transfer(transfer))
    }
    fn reservation(&mut self, id: u64) -> Result<Option<Reservation>> {
        pass!(self.reservation(id))
    }
    fn put_reservation(&mut self, reservation: Reservation) -> Result<()> {
        pass!(self.put_reservation(reservation))
    }
    fn add_to_system_account(
        &mut self,
        key: &str,
        kind: LedgerAccountKind,
        currency: Currency,
        change: &SystemAccountChange,
    ) -> Result<()> {
        pass!(self.add_to_system_account(key, kind, currency, change))
    }
}

impl Store for FaultyStore {
    fn single_process(&self) -> bool {
        self.inner.single_process()
    }
    fn defer_key_checks(&mut self) {
        self.inner.defer_key_checks()
    }
    fn begin(&mut self) -> Result<()> {
        pass!(self.begin())
    }
    fn commit(&mut self) -> Result<()> {
        match self.fault(true) {
            None => self.inner.commit(),
            Some(Fired::Transient) => Err(injected("I/O error at commit")),
            Some(Fired::Dead) => Err(injected("power cut before commit")),
            Some(Fired::AfterCommit) => {
                self.inner.commit()?;
                Err(injected("power cut after commit"))
            }
        }
    }
    fn rollback(&mut self) -> Result<()> {
        // Not a place for a transient fault (a store that cannot roll back is a dead store); a
        // rollback after one must reach the store, and making sure it does is the engine's job.
        if lock(&self.faults).power_cut {
            return Err(injected("power cut"));
        }
        self.inner.rollback()
    }
    fn next_backorder_id(&mut self) -> Result<u64> {
        pass!(self.next_backorder_id())
    }
    fn next_auction_id(&mut self) -> Result<u64> {
        pass!(self.next_auction_id())
    }
    fn policies(&mut self) -> Result<Vec<TldPolicy>> {
        pass!(self.policies())
    }
    fn put_policy(&mut self, policy: &TldPolicy) -> Result<()> {
        pass!(self.put_policy(policy))
    }
    fn account(&mut self, id: &str) -> Result<Option<Account>> {
        pass!(self.account(id))
    }
    fn put_account(&mut self, account: &Account) -> Result<()> {
        pass!(self.put_account(account))
    }
    fn account_ids(&mut self, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        pass!(self.account_ids(after, limit))
    }
    fn pending_deletion(&mut self, domain: &DomainName) -> Result<Option<PendingDeletion>> {
        pass!(self.pending_deletion(domain))
    }
    fn put_pending_deletion(&mut self, entry: &PendingDeletion) -> Result<()> {
        pass!(self.put_pending_deletion(entry))
    }
    fn pending_deletions(&mut self) -> Result<Vec<PendingDeletion>> {
        pass!(self.pending_deletions())
    }
    fn listed_count(&mut self) -> Result<u64> {
        pass!(self.listed_count())
    }
    fn reserve_pending_deletions(&mut self, additional: usize) -> Result<()> {
        pass!(self.reserve_pending_deletions(additional))
    }
    fn next_subscription_id(&mut self) -> Result<u64> {
        pass!(self.next_subscription_id())
    }
    fn put_subscription(&mut self, subscription: &Subscription) -> Result<()> {
        pass!(self.put_subscription(subscription))
    }
    fn delete_subscription(&mut self, id: u64) -> Result<()> {
        pass!(self.delete_subscription(id))
    }
    fn subscription(&mut self, id: u64) -> Result<Option<Subscription>> {
        pass!(self.subscription(id))
    }
    fn subscriptions(&mut self) -> Result<Vec<Subscription>> {
        pass!(self.subscriptions())
    }
    fn alert_sent(&mut self, subscription: u64, domain: &DomainName) -> Result<bool> {
        pass!(self.alert_sent(subscription, domain))
    }
    fn mark_alert_sent(&mut self, subscription: u64, domain: &DomainName) -> Result<()> {
        pass!(self.mark_alert_sent(subscription, domain))
    }
    fn backorder(&mut self, id: u64) -> Result<Option<Backorder>> {
        pass!(self.backorder(id))
    }
    fn put_backorder(&mut self, backorder: Backorder) -> Result<()> {
        pass!(self.put_backorder(backorder))
    }
    fn backorders_for_name(
        &mut self,
        domain: &DomainName,
        account: Option<&str>,
    ) -> Result<Vec<BackorderHead>> {
        pass!(self.backorders_for_name(domain, account))
    }
    fn backorders_for_account(&mut self, account: &str) -> Result<Vec<u64>> {
        pass!(self.backorders_for_account(account))
    }
    fn count_by_status(&mut self) -> Result<std::collections::BTreeMap<backorder::Status, u64>> {
        pass!(self.count_by_status())
    }
    fn backorders_after(&mut self, after: u64, limit: usize) -> Result<Vec<Backorder>> {
        pass!(self.backorders_after(after, limit))
    }
    fn auction(&mut self, id: u64) -> Result<Option<Auction>> {
        pass!(self.auction(id))
    }
    fn put_auction(&mut self, auction: Auction) -> Result<()> {
        pass!(self.put_auction(auction))
    }
    fn auctions_after(&mut self, after: u64, limit: usize) -> Result<Vec<Auction>> {
        pass!(self.auctions_after(after, limit))
    }
    fn allocation(
        &mut self,
        domain: &DomainName,
        drop_at: DateTime<Utc>,
    ) -> Result<Option<Allocation>> {
        pass!(self.allocation(domain, drop_at))
    }
    fn put_allocation(&mut self, allocation: &Allocation) -> Result<()> {
        pass!(self.put_allocation(allocation))
    }
    fn set_wake(&mut self, key: WakeKey, at: Option<DateTime<Utc>>) -> Result<()> {
        pass!(self.set_wake(key, at))
    }
    fn wake_of(&mut self, key: WakeKey) -> Result<Option<DateTime<Utc>>> {
        pass!(self.wake_of(key))
    }
    fn due(&mut self, now: DateTime<Utc>, limit: usize) -> Result<Vec<(DateTime<Utc>, WakeKey)>> {
        pass!(self.due(now, limit))
    }
    fn next_wake(&mut self) -> Result<Option<DateTime<Utc>>> {
        pass!(self.next_wake())
    }
    fn append_event(&mut self, event: NewEvent) -> Result<u64> {
        pass!(self.append_event(event))
    }
    fn events_after(&mut self, after: u64, limit: usize) -> Result<Vec<Event>> {
        pass!(self.events_after(after, limit))
    }
    fn prune_events(&mut self, upto: u64) -> Result<()> {
        pass!(self.prune_events(upto))
    }
    fn command(&mut self, key: &str) -> Result<Option<CommandRecord>> {
        pass!(self.command(key))
    }
    fn put_command(&mut self, record: CommandRecord) -> Result<()> {
        pass!(self.put_command(record))
    }
    fn ledger_accounts_after(
        &mut self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<LedgerAccount>> {
        pass!(self.ledger_accounts_after(after, limit))
    }
    fn transfers_after(&mut self, after: u64, limit: usize) -> Result<Vec<Transfer>> {
        pass!(self.transfers_after(after, limit))
    }
    fn transfers_for_account(
        &mut self,
        account: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Transfer>> {
        pass!(self.transfers_for_account(account, after, limit))
    }
    fn reservations_after(&mut self, after: u64, limit: usize) -> Result<Vec<Reservation>> {
        pass!(self.reservations_after(after, limit))
    }
    // The `for_each_*` visits keep their default bodies: they page through the calls above, so a
    // fault can land in the middle of one too.
}
