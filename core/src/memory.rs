//! The in-memory store: every table in ordinary collections, with an undo log so that a rolled-back
//! transaction leaves nothing behind. Fast, and the reference the durable stores are tested against.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

mod wakes;

use crate::fast::HashMap;

use chrono::{DateTime, Utc};

use crate::account::Account;
use crate::auction::Auction;
use crate::backorder::{Allocation, Backorder};
use crate::catalog::PendingDeletion;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::key::Key;
use crate::ledger::{LedgerAccount, LedgerStore, Reservation, Transfer};
use crate::name::DomainName;
use crate::policy::TldPolicy;
use crate::store::{BackorderHead, CommandRecord, NewEvent, Store, WakeKey};

#[derive(Clone, Copy, Debug)]
enum Counter {
    Transfer,
    Backorder,
    Auction,
    Event,
    Subscription,
}

/// Records by numeric id, kept in id order in two parallel arrays (the ids, and the records): ids
/// are allocated ascending, so an insertion is almost always an append, a look-up is a binary
/// search over a compact array of ids, and paging is a slice.
struct IdTable<V> {
    ids: Vec<u64>,
    rows: Vec<V>,
}

impl<V> Default for IdTable<V> {
    fn default() -> Self {
        IdTable {
            ids: Vec::new(),
            rows: Vec::new(),
        }
    }
}

impl<V: Clone> IdTable<V> {
    fn position(&self, id: u64) -> std::result::Result<usize, usize> {
        match self.ids.last() {
            Some(last) if *last == id => Ok(self.ids.len() - 1),
            Some(last) if *last < id => Err(self.ids.len()),
            _ => self.ids.binary_search(&id),
        }
    }

    fn get(&self, id: &u64) -> Option<&V> {
        self.position(*id).ok().map(|i| &self.rows[i])
    }

    fn insert(&mut self, id: u64, v: V) -> Option<V> {
        match self.position(id) {
            Ok(i) => Some(std::mem::replace(&mut self.rows[i], v)),
            Err(i) => {
                self.ids.insert(i, id);
                self.rows.insert(i, v);
                None
            }
        }
    }

    fn remove(&mut self, id: u64) {
        if let Ok(i) = self.position(id) {
            self.ids.remove(i);
            self.rows.remove(i);
        }
    }

    fn restore(&mut self, id: u64, v: Option<V>) {
        match v {
            Some(v) => {
                self.insert(id, v);
            }
            None => self.remove(id),
        }
    }

    fn page(&self, after: u64, limit: usize) -> Vec<V> {
        let start = self.ids.partition_point(|x| *x <= after);
        self.rows[start..].iter().take(limit).cloned().collect()
    }
}

/// What to restore on rollback, newest last. The log stays small per entry (an import writes a
/// million of them): replaced backorders and auctions wait in their own reused buffers
/// (`Backorder(id, true)` means "the old record is on top of `undo_backorders`"), and the rare large
/// records are boxed.
enum Undo {
    Counter(Counter, u64),
    Policy(String, Option<Box<TldPolicy>>),
    Account(Key, Option<Box<Account>>),
    Pending(DomainName, Option<PendingDeletion>),
    Backorder(u64, bool),
    Auction(u64, bool),
    Allocation((DomainName, DateTime<Utc>), Option<Allocation>),
    Wake(WakeKey, Option<DateTime<Utc>>),
    EventAppended,
    EventsPruned(Vec<Event>),
    Command(Key, Option<CommandRecord>),
    /// A ledger account was replaced: the old record (it carries its key).
    LedgerAccountReplaced(LedgerAccount),
    /// A ledger account was created under this key.
    LedgerAccountInserted(Key),
    TransferInserted,
    Reservation(u64, Option<Reservation>),
    Subscription(u64, Option<Box<crate::alert::Subscription>>),
    AlertSent(u64, DomainName),
}

// An import logs one entry a name: keep entries small (the largest is a reservation's).
const _: () = assert!(std::mem::size_of::<Undo>() <= 128);

/// Keeps everything in memory; nothing survives the process. `memory:` in an engine URL.
///
/// ```
/// use backorder_core::{MemoryStore, Store};
/// let mut s = MemoryStore::new();
/// s.begin().unwrap();
/// let id = s.next_backorder_id().unwrap();
/// s.rollback().unwrap();
/// assert_eq!(s.next_backorder_id().unwrap(), id); // the rollback undid the allocation
/// ```
#[derive(Default)]
pub struct MemoryStore {
    in_tx: bool,
    undo: Vec<Undo>,
    undo_backorders: Vec<Backorder>,
    undo_auctions: Vec<Auction>,
    next_transfer: u64,
    next_backorder: u64,
    next_auction: u64,
    next_event: u64,
    policies: BTreeMap<String, TldPolicy>,
    accounts: HashMap<Key, Account>,
    /// Account ids in order, for paging.
    account_order: BTreeSet<Key>,
    pending: HashMap<DomainName, PendingDeletion>,
    /// Backorder ids are dense from 1: backorder `id` is at index `id - 1`.
    backorders: Vec<Backorder>,
    /// Name → (backorder id, [`account_tag`] of its account), in id order. The tag lets a search
    /// for one account's backorders skip the others without reading their records.
    by_name: HashMap<DomainName, Vec<(u64, u64)>>,
    by_account: HashMap<Key, Vec<u64>>,
    auctions: IdTable<Auction>,
    allocations: HashMap<(DomainName, DateTime<Utc>), Allocation>,
    wakes: wakes::Wakes,
    events: VecDeque<Event>,
    commands: HashMap<Key, CommandRecord>,
    ledger_accounts: HashMap<Key, LedgerAccount>,
    /// Ledger account keys in order, for paging.
    ledger_order: BTreeSet<Key>,
    /// Transfer ids are dense from 1: transfer `id` is at index `id - 1`.
    transfers: Vec<Transfer>,
    transfer_keys: HashMap<Key, u64>,
    transfers_by_account: HashMap<Key, Vec<u64>>,
    reservations: IdTable<Reservation>,
    next_subscription: u64,
    subscriptions: BTreeMap<u64, crate::alert::Subscription>,
    alerts_sent: crate::fast::HashSet<(u64, DomainName)>,
}

/// A fixed-seed hash of an account id: equal ids have equal tags.
fn account_tag(account: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::default().hash_one(account)
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn log(&mut self, u: impl FnOnce() -> Undo) {
        if self.in_tx {
            self.undo.push(u());
        }
    }

    fn counter(&mut self, c: Counter) -> u64 {
        let slot = match c {
            Counter::Transfer => &mut self.next_transfer,
            Counter::Backorder => &mut self.next_backorder,
            Counter::Auction => &mut self.next_auction,
            Counter::Event => &mut self.next_event,
            Counter::Subscription => &mut self.next_subscription,
        };
        let old = *slot;
        *slot += 1;
        let new = *slot;
        self.log(|| Undo::Counter(c, old));
        new
    }

    fn set_wake_raw(&mut self, key: WakeKey, at: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        self.wakes.set(key, at)
    }

    fn slot(&self, id: u64) -> Option<&Backorder> {
        self.backorders.get((id as usize).wrapping_sub(1))
    }

    fn put_backorder_raw(&mut self, b: Backorder) -> Result<Option<Backorder>> {
        let id = b.id;
        let index = (id as usize).wrapping_sub(1);
        if let Some(slot) = self.backorders.get_mut(index) {
            return Ok(Some(std::mem::replace(slot, b)));
        }
        if index != self.backorders.len() {
            return Err(Error::Internal(format!(
                "backorder id {id} out of sequence"
            )));
        }
        let tag = account_tag(&b.account);
        self.by_name
            .entry(b.domain.clone())
            .or_default()
            .push((id, tag));
        self.by_account
            .entry(b.account.clone())
            .or_default()
            .push(id);
        self.backorders.push(b);
        Ok(None)
    }

    /// Undoes the insertion of the newest backorder.
    fn remove_backorder_raw(&mut self, id: u64) {
        if self.backorders.last().map(|b| b.id) != Some(id) {
            return;
        }
        if let Some(b) = self.backorders.pop() {
            if let Some(v) = self.by_name.get_mut(&b.domain) {
                v.pop();
            }
            if let Some(v) = self.by_account.get_mut(&b.account) {
                v.pop();
            }
        }
    }

    fn undo_one(&mut self, u: Undo) {
        match u {
            Undo::Counter(c, old) => match c {
                Counter::Transfer => self.next_transfer = old,
                Counter::Backorder => self.next_backorder = old,
                Counter::Auction => self.next_auction = old,
                Counter::Event => self.next_event = old,
                Counter::Subscription => self.next_subscription = old,
            },
            Undo::Policy(k, v) => restore(&mut self.policies, k, v.map(|b| *b)),
            Undo::Account(k, v) => match v {
                Some(v) => {
                    self.accounts.insert(k, *v);
                }
                None => {
                    self.accounts.remove(&k);
                    self.account_order.remove(&k);
                }
            },
            Undo::Pending(k, v) => match v {
                Some(v) => {
                    self.pending.insert(k, v);
                }
                None => {
                    self.pending.remove(&k);
                }
            },
            Undo::Backorder(id, had_old) => match had_old.then(|| self.undo_backorders.pop()) {
                Some(Some(b)) => {
                    if let Some(slot) = self.backorders.get_mut((id as usize).wrapping_sub(1)) {
                        *slot = b;
                    }
                }
                _ => self.remove_backorder_raw(id),
            },
            Undo::Auction(k, had_old) => {
                let old = if had_old {
                    self.undo_auctions.pop()
                } else {
                    None
                };
                self.auctions.restore(k, old)
            }
            Undo::Allocation(k, v) => match v {
                Some(v) => {
                    self.allocations.insert(k, v);
                }
                None => {
                    self.allocations.remove(&k);
                }
            },
            Undo::Wake(k, at) => {
                self.set_wake_raw(k, at);
            }
            Undo::EventAppended => {
                self.events.pop_back();
            }
            Undo::EventsPruned(evs) => {
                for e in evs.into_iter().rev() {
                    self.events.push_front(e);
                }
            }
            Undo::Command(k, v) => match v {
                Some(v) => {
                    self.commands.insert(k, v);
                }
                None => {
                    self.commands.remove(&k);
                }
            },
            Undo::LedgerAccountReplaced(old) => {
                if let Some(slot) = self.ledger_accounts.get_mut(old.key.as_str()) {
                    *slot = old;
                }
            }
            Undo::LedgerAccountInserted(k) => {
                self.ledger_accounts.remove(&k);
                self.ledger_order.remove(&k);
            }
            Undo::TransferInserted => {
                if let Some(t) = self.transfers.pop() {
                    self.transfer_keys.remove(t.key.as_str());
                    for acct in [&t.debit, &t.credit] {
                        if let Some(v) = self.transfers_by_account.get_mut(acct.as_str()) {
                            v.pop();
                        }
                    }
                }
            }
            Undo::Reservation(k, v) => self.reservations.restore(k, v),
            Undo::Subscription(k, v) => restore(&mut self.subscriptions, k, v.map(|b| *b)),
            Undo::AlertSent(id, domain) => {
                self.alerts_sent.remove(&(id, domain));
            }
        }
    }
}

fn restore<K: Ord, V>(map: &mut BTreeMap<K, V>, k: K, v: Option<V>) {
    match v {
        Some(v) => {
            map.insert(k, v);
        }
        None => {
            map.remove(&k);
        }
    }
}

impl LedgerStore for MemoryStore {
    fn ledger_account(&mut self, key: &str) -> Result<Option<LedgerAccount>> {
        Ok(self.ledger_accounts.get(key).cloned())
    }

    fn put_ledger_account(&mut self, account: LedgerAccount) -> Result<()> {
        match self.ledger_accounts.get_mut(account.key.as_str()) {
            Some(slot) => {
                let old = std::mem::replace(slot, account);
                if self.in_tx {
                    self.undo.push(Undo::LedgerAccountReplaced(old));
                }
            }
            None => {
                let key = account.key.clone();
                self.ledger_order.insert(key.clone());
                self.ledger_accounts.insert(key.clone(), account);
                self.log(|| Undo::LedgerAccountInserted(key));
            }
        }
        Ok(())
    }

    fn transfer_by_key(&mut self, key: &str) -> Result<Option<Transfer>> {
        Ok(self
            .transfer_keys
            .get(key)
            .map(|id| self.transfers[(*id - 1) as usize].clone()))
    }

    fn next_transfer_id(&mut self) -> Result<u64> {
        Ok(self.counter(Counter::Transfer))
    }

    fn insert_transfer(&mut self, t: &Transfer) -> Result<()> {
        if t.id != self.transfers.len() as u64 + 1 {
            return Err(Error::Internal(format!(
                "transfer id {} out of sequence",
                t.id
            )));
        }
        if self.transfer_keys.contains_key(&t.key) {
            return Err(Error::IdempotencyConflict(t.key.to_string()));
        }
        self.transfer_keys.insert(t.key.clone(), t.id);
        for acct in [&t.debit, &t.credit] {
            match self.transfers_by_account.get_mut(acct.as_str()) {
                Some(ids) => ids.push(t.id),
                None => {
                    self.transfers_by_account.insert(acct.clone(), vec![t.id]);
                }
            }
        }
        self.transfers.push(t.clone());
        self.log(|| Undo::TransferInserted);
        Ok(())
    }

    fn reservation(&mut self, id: u64) -> Result<Option<Reservation>> {
        Ok(self.reservations.get(&id).cloned())
    }

    fn put_reservation(&mut self, r: Reservation) -> Result<()> {
        let id = r.id;
        let old = self.reservations.insert(id, r);
        self.log(|| Undo::Reservation(id, old));
        Ok(())
    }
}

impl Store for MemoryStore {
    fn single_process(&self) -> bool {
        true
    }

    fn begin(&mut self) -> Result<()> {
        if self.in_tx {
            return Err(Error::Store("transaction already open".into()));
        }
        self.in_tx = true;
        self.undo.clear();
        self.undo_backorders.clear();
        self.undo_auctions.clear();
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        self.in_tx = false;
        self.undo.clear();
        self.undo_backorders.clear();
        self.undo_auctions.clear();
        Ok(())
    }

    fn rollback(&mut self) -> Result<()> {
        self.in_tx = false;
        while let Some(u) = self.undo.pop() {
            self.undo_one(u);
        }
        Ok(())
    }

    fn next_backorder_id(&mut self) -> Result<u64> {
        Ok(self.counter(Counter::Backorder))
    }

    fn next_auction_id(&mut self) -> Result<u64> {
        Ok(self.counter(Counter::Auction))
    }

    fn policies(&mut self) -> Result<Vec<TldPolicy>> {
        Ok(self.policies.values().cloned().collect())
    }

    fn put_policy(&mut self, p: &TldPolicy) -> Result<()> {
        let old = self.policies.insert(p.zone.clone(), p.clone());
        self.log(|| Undo::Policy(p.zone.clone(), old.map(Box::new)));
        Ok(())
    }

    fn account(&mut self, id: &str) -> Result<Option<Account>> {
        Ok(self.accounts.get(id).cloned())
    }

    fn put_account(&mut self, a: &Account) -> Result<()> {
        let old = self.accounts.insert(a.id.clone(), a.clone());
        if old.is_none() {
            self.account_order.insert(a.id.clone());
        }
        self.log(|| Undo::Account(a.id.clone(), old.map(Box::new)));
        Ok(())
    }

    fn account_ids(&mut self, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        use std::ops::Bound;
        let lower = match after {
            Some(k) => Bound::Excluded(k),
            None => Bound::Unbounded,
        };
        Ok(self
            .account_order
            .range::<str, _>((lower, Bound::Unbounded))
            .take(limit)
            .map(|k| k.to_string())
            .collect())
    }

    fn pending_deletion(&mut self, domain: &DomainName) -> Result<Option<PendingDeletion>> {
        Ok(self.pending.get(domain).cloned())
    }

    fn put_pending_deletion(&mut self, e: &PendingDeletion) -> Result<()> {
        let old = self.pending.insert(e.domain.clone(), e.clone());
        self.log(|| Undo::Pending(e.domain.clone(), old));
        Ok(())
    }

    fn pending_deletions(&mut self) -> Result<Vec<PendingDeletion>> {
        Ok(self.pending.values().cloned().collect())
    }

    fn reserve_pending_deletions(&mut self, additional: usize) -> Result<()> {
        self.pending.reserve(additional);
        self.undo.reserve(additional);
        Ok(())
    }

    fn listed_count(&mut self) -> Result<u64> {
        Ok(self.pending.values().filter(|e| !e.withdrawn).count() as u64)
    }

    fn next_subscription_id(&mut self) -> Result<u64> {
        Ok(self.counter(Counter::Subscription))
    }

    fn put_subscription(&mut self, sub: &crate::alert::Subscription) -> Result<()> {
        let old = self.subscriptions.insert(sub.id, sub.clone());
        self.log(|| Undo::Subscription(sub.id, old.map(Box::new)));
        Ok(())
    }

    fn delete_subscription(&mut self, id: u64) -> Result<()> {
        let old = self.subscriptions.remove(&id);
        if old.is_some() {
            self.log(|| Undo::Subscription(id, old.map(Box::new)));
        }
        Ok(())
    }

    fn subscription(&mut self, id: u64) -> Result<Option<crate::alert::Subscription>> {
        Ok(self.subscriptions.get(&id).cloned())
    }

    fn subscriptions(&mut self) -> Result<Vec<crate::alert::Subscription>> {
        Ok(self.subscriptions.values().cloned().collect())
    }

    fn alert_sent(&mut self, subscription: u64, domain: &DomainName) -> Result<bool> {
        Ok(self.alerts_sent.contains(&(subscription, domain.clone())))
    }

    fn mark_alert_sent(&mut self, subscription: u64, domain: &DomainName) -> Result<()> {
        if self.alerts_sent.insert((subscription, domain.clone())) {
            self.log(|| Undo::AlertSent(subscription, domain.clone()));
        }
        Ok(())
    }

    fn backorder(&mut self, id: u64) -> Result<Option<Backorder>> {
        Ok(self.slot(id).cloned())
    }

    fn put_backorder(&mut self, b: Backorder) -> Result<()> {
        let id = b.id;
        let old = self.put_backorder_raw(b)?;
        if self.in_tx {
            let had_old = old.is_some();
            if let Some(o) = old {
                self.undo_backorders.push(o);
            }
            self.undo.push(Undo::Backorder(id, had_old));
        }
        Ok(())
    }

    fn backorders_for_name(
        &mut self,
        domain: &DomainName,
        account: Option<&str>,
    ) -> Result<Vec<BackorderHead>> {
        let Some(ids) = self.by_name.get(domain) else {
            return Ok(Vec::new());
        };
        let tag = account.map(account_tag);
        Ok(ids
            .iter()
            .filter(|(_, t)| tag.is_none_or(|tag| tag == *t))
            .filter_map(|(id, _)| self.slot(*id))
            .filter(|b| account.is_none_or(|a| b.account == a))
            .map(BackorderHead::from)
            .collect())
    }

    fn backorders_for_account(&mut self, account: &str) -> Result<Vec<u64>> {
        Ok(self.by_account.get(account).cloned().unwrap_or_default())
    }

    fn count_by_status(&mut self) -> Result<BTreeMap<crate::lifecycle::Status, u64>> {
        let mut counts = BTreeMap::new();
        for b in &self.backorders {
            *counts.entry(b.status).or_default() += 1;
        }
        Ok(counts)
    }

    fn backorders_after(&mut self, after: u64, limit: usize) -> Result<Vec<Backorder>> {
        let start = (after as usize).min(self.backorders.len());
        Ok(self.backorders[start..]
            .iter()
            .take(limit)
            .cloned()
            .collect())
    }

    fn auction(&mut self, id: u64) -> Result<Option<Auction>> {
        Ok(self.auctions.get(&id).cloned())
    }

    fn put_auction(&mut self, a: Auction) -> Result<()> {
        let id = a.id;
        let old = self.auctions.insert(id, a);
        if self.in_tx {
            let had_old = old.is_some();
            if let Some(o) = old {
                self.undo_auctions.push(o);
            }
            self.undo.push(Undo::Auction(id, had_old));
        }
        Ok(())
    }

    fn auctions_after(&mut self, after: u64, limit: usize) -> Result<Vec<Auction>> {
        Ok(self.auctions.page(after, limit))
    }

    fn allocation(
        &mut self,
        domain: &DomainName,
        drop_at: DateTime<Utc>,
    ) -> Result<Option<Allocation>> {
        Ok(self.allocations.get(&(domain.clone(), drop_at)).cloned())
    }

    fn put_allocation(&mut self, a: &Allocation) -> Result<()> {
        let key = (a.domain.clone(), a.drop_at);
        let old = self.allocations.insert(key.clone(), a.clone());
        self.log(|| Undo::Allocation(key, old));
        Ok(())
    }

    fn set_wake(&mut self, key: WakeKey, at: Option<DateTime<Utc>>) -> Result<()> {
        if self.wakes.get(key) == at {
            return Ok(()); // unchanged: most saves keep the wake-up they had
        }
        let old = self.set_wake_raw(key, at);
        self.log(|| Undo::Wake(key, old));
        Ok(())
    }

    fn wake_of(&mut self, key: WakeKey) -> Result<Option<DateTime<Utc>>> {
        Ok(self.wakes.get(key))
    }

    fn due(&mut self, now: DateTime<Utc>, limit: usize) -> Result<Vec<(DateTime<Utc>, WakeKey)>> {
        Ok(self.wakes.due(now, limit))
    }

    fn next_wake(&mut self) -> Result<Option<DateTime<Utc>>> {
        Ok(self.wakes.next())
    }

    fn append_event(&mut self, e: NewEvent) -> Result<u64> {
        let seq = self.counter(Counter::Event);
        self.events.push_back(Event {
            seq,
            at: e.at,
            account: e.account,
            backorder: e.backorder,
            domain: e.domain,
            kind: e.kind,
        });
        self.log(|| Undo::EventAppended);
        Ok(seq)
    }

    fn events_after(&mut self, after: u64, limit: usize) -> Result<Vec<Event>> {
        let start = self.events.partition_point(|e| e.seq <= after);
        Ok(self.events.range(start..).take(limit).cloned().collect())
    }

    fn prune_events(&mut self, upto: u64) -> Result<()> {
        let n = self.events.partition_point(|e| e.seq <= upto);
        let removed: Vec<Event> = self.events.drain(..n).collect();
        if self.in_tx {
            self.undo.push(Undo::EventsPruned(removed));
        }
        Ok(())
    }

    fn command(&mut self, key: &str) -> Result<Option<CommandRecord>> {
        Ok(self.commands.get(key).cloned())
    }

    fn put_command(&mut self, r: CommandRecord) -> Result<()> {
        let key = r.key.clone();
        let old = self.commands.insert(key.clone(), r);
        self.log(|| Undo::Command(key, old));
        Ok(())
    }

    fn ledger_accounts_after(
        &mut self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<LedgerAccount>> {
        use std::ops::Bound;
        let lower = match after {
            Some(k) => Bound::Excluded(k),
            None => Bound::Unbounded,
        };
        Ok(self
            .ledger_order
            .range::<str, _>((lower, Bound::Unbounded))
            .take(limit)
            .filter_map(|k| self.ledger_accounts.get(k).cloned())
            .collect())
    }

    fn transfers_after(&mut self, after: u64, limit: usize) -> Result<Vec<Transfer>> {
        let start = (after as usize).min(self.transfers.len());
        Ok(self.transfers[start..]
            .iter()
            .take(limit)
            .cloned()
            .collect())
    }

    fn transfers_for_account(
        &mut self,
        account: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Transfer>> {
        let Some(ids) = self.transfers_by_account.get(account) else {
            return Ok(Vec::new());
        };
        let start = ids.partition_point(|id| *id <= after);
        Ok(ids[start..]
            .iter()
            .take(limit)
            .map(|id| self.transfers[(*id - 1) as usize].clone())
            .collect())
    }

    fn reservations_after(&mut self, after: u64, limit: usize) -> Result<Vec<Reservation>> {
        Ok(self.reservations.page(after, limit))
    }

    fn for_each_transfer(&mut self, f: &mut dyn FnMut(&Transfer) -> Result<()>) -> Result<()> {
        self.transfers.iter().try_for_each(f)
    }

    fn for_each_reservation(
        &mut self,
        f: &mut dyn FnMut(&Reservation) -> Result<()>,
    ) -> Result<()> {
        self.reservations.rows.iter().try_for_each(f)
    }

    fn for_each_backorder(&mut self, f: &mut dyn FnMut(&Backorder) -> Result<()>) -> Result<()> {
        self.backorders.iter().try_for_each(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + chrono::Duration::hours(h)
    }

    #[test]
    fn wake_ups_come_earliest_first_and_follow_changes() {
        let mut s = MemoryStore::new();
        let (a, b) = (WakeKey::Backorder(1), WakeKey::Auction(1));
        s.set_wake(a, Some(t(5))).unwrap();
        s.set_wake(b, Some(t(3))).unwrap();
        s.set_wake(a, Some(t(2))).unwrap(); // moved earlier
        assert_eq!(s.next_wake().unwrap(), Some(t(2)));
        assert_eq!(s.due(t(10), 10).unwrap(), vec![(t(2), a), (t(3), b)]);
        s.set_wake(a, None).unwrap();
        assert_eq!(s.due(t(10), 10).unwrap(), vec![(t(3), b)]);
        assert_eq!(s.due(t(2), 10).unwrap(), vec![]);
    }

    /// The store's own visits and the paged ones the trait falls back on see the same records in
    /// the same order, across page boundaries.
    #[test]
    fn visits_match_paged_reads() {
        use crate::ledger;
        use crate::money::{Currency, Money};
        use crate::store::{paged, VISIT_PAGE};
        let mut s = MemoryStore::new();
        ledger::open_customer(&mut s, "a", Currency::USD).unwrap();
        let one = Money::new(rust_decimal::Decimal::ONE, Currency::USD);
        ledger::fund(
            &mut s,
            "f",
            "a",
            &Money::new(rust_decimal::Decimal::from(1_000_000), Currency::USD),
            t(0),
        )
        .unwrap();
        for i in 0..(VISIT_PAGE * 2 + 7) {
            let r = ledger::reserve(&mut s, &format!("r{i}"), "a", &one, None, t(0)).unwrap();
            if i % 3 == 0 {
                ledger::release(&mut s, &format!("x{i}"), r.id, t(0)).unwrap();
            }
        }
        let mut direct = Vec::new();
        s.for_each_transfer(&mut |t| {
            direct.push(t.id);
            Ok(())
        })
        .unwrap();
        let mut by_page = Vec::new();
        let mut read = |after| s.transfers_after(after, VISIT_PAGE);
        paged(&mut read, |t: &crate::ledger::Transfer| t.id, &mut |t| {
            by_page.push(t.id);
            Ok(())
        })
        .unwrap();
        assert_eq!(direct, by_page);
        assert_eq!(
            direct.len(),
            1 + 2 * (VISIT_PAGE * 2 + 7) - (VISIT_PAGE * 2 + 7) * 2 / 3
        );
        let mut direct = Vec::new();
        s.for_each_reservation(&mut |r| {
            direct.push((r.id, r.state));
            Ok(())
        })
        .unwrap();
        let mut by_page = Vec::new();
        let mut read = |after| s.reservations_after(after, VISIT_PAGE);
        paged(&mut read, |r: &crate::ledger::Reservation| r.id, &mut |r| {
            by_page.push((r.id, r.state));
            Ok(())
        })
        .unwrap();
        assert_eq!(direct, by_page);
        assert_eq!(direct.len(), VISIT_PAGE * 2 + 7);
    }

    #[test]
    fn a_rolled_back_wake_change_restores_the_old_wake_up() {
        let mut s = MemoryStore::new();
        let a = WakeKey::Backorder(1);
        s.set_wake(a, Some(t(1))).unwrap();
        s.begin().unwrap();
        s.set_wake(a, Some(t(9))).unwrap();
        // Inside the transaction the wake-up has moved…
        assert_eq!(s.due(t(5), 10).unwrap(), vec![]);
        s.rollback().unwrap();
        // …and the rollback brings the old one back, once.
        assert_eq!(s.due(t(5), 10).unwrap(), vec![(t(1), a)]);
        assert_eq!(s.next_wake().unwrap(), Some(t(1)));
    }
}
