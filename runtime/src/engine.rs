//! The `Engine` facade: what hosts call. Owned plain data in and out; every command is one store
//! transaction; time comes from the engine's clock and is handed to the core.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard};

use backorder_core::rng::SplitMix64;
use backorder_core::store::in_transaction;
use backorder_core::{
    auction, backorder, catalog, catch, ledger, Account, AuctionHouse, AuctionView, AuditReport,
    Backorder, Balance, CatchOutcome, CatchProgress, Contacts, Currency, DomainName, DropJob,
    DropResult, Error, Event, PendingDeletion, PlaceBackorder, PolicyTable, ProxyAuction, Registry,
    Result, Secret, Status, Store, TldPolicy, Transfer, TransferKind, WakeKey, WakeOutcome,
};
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::clock::{Clock, SystemClock};
use crate::registry::SimulatedRegistry;

pub use backorder_core::ledger::StatementLine;

/// A new customer account. Unknown fields are refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// The host's id for the customer (1-64 printable ASCII characters, not starting with `@`).
    pub id: String,
    /// The currency of its prepaid balance.
    pub currency: Currency,
    /// Default contact handles.
    #[serde(default)]
    pub contacts: Contacts,
}

/// What one `tick` did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TickReport {
    /// The time the tick ran at.
    pub now: Option<DateTime<Utc>>,
    /// Wake-ups handled.
    pub steps: u64,
    /// Drops worked at the registry.
    pub drops: u64,
    /// Of those, caught.
    pub caught: u64,
    /// Auctions scheduled.
    pub auctions_scheduled: u64,
    /// Steps that failed (each is retried a minute later); empty on a healthy engine.
    pub errors: Vec<String>,
}

/// Where auth codes come from: the operating system, or a seed for repeatable simulations.
pub(crate) enum AuthCodes {
    Os,
    Seeded(u64),
}

impl AuthCodes {
    const ALPHABET: &'static [u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

    /// The auth code for backorder `id`. Seeded codes depend on the seed and the backorder only,
    /// so a simulation resumed in a new process issues the codes an uninterrupted one would.
    fn next(&mut self, id: u64) -> Result<Secret> {
        let mut bytes = [0u8; 16];
        match self {
            AuthCodes::Os => getrandom::getrandom(&mut bytes)
                .map_err(|e| Error::Internal(format!("no randomness for auth codes: {e}")))?,
            AuthCodes::Seeded(seed) => {
                let mut rng = SplitMix64::new(*seed ^ id.wrapping_mul(0x9e37_79b9_7f4a_7c15));
                bytes.iter_mut().for_each(|b| *b = rng.next_u64() as u8)
            }
        }
        let code: String = bytes
            .iter()
            .map(|b| Self::ALPHABET[*b as usize % Self::ALPHABET.len()] as char)
            .collect();
        Ok(Secret::new(code))
    }
}

/// How often a transaction refused for racing another process is run again.
const MAX_CONFLICT_RETRIES: u32 = 30;

pub(crate) struct Inner {
    pub(crate) store: Box<dyn Store>,
    pub(crate) policies: PolicyTable,
    registry: Box<dyn Registry>,
    auth_codes: AuthCodes,
    /// Which names the registrar's own customers still hold (left out of imports).
    pub(crate) held: Option<crate::catalog::HeldNames>,
    /// The catalog indexed for search, built on first use after a change.
    pub(crate) index: Option<Arc<backorder_core::search::CatalogIndex>>,
    /// The alert subscriptions compiled for matching, built on first use after a change.
    pub(crate) alerts: Option<Arc<backorder_core::alert::AlertMatcher>>,
}

/// The drop-catch engine. Cheap to share: every method takes `&self` and is safe to call from
/// several threads (calls are serialised on the store).
///
/// ```
/// use backorder::{Engine, ManualClock, NewAccount};
/// use backorder_core::{Currency, PlaceBackorder, Status};
/// use chrono::{Duration, TimeZone, Utc};
/// use rust_decimal::Decimal;
///
/// let start = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
/// let clock = ManualClock::new(start);
/// let engine = Engine::builder().clock(clock.clone()).build().unwrap();
/// engine.create_account(NewAccount { id: "alice".into(), currency: Currency::USD,
///     contacts: backorder::full_contacts("ALICE-1") }).unwrap();
/// engine.fund("alice", Decimal::from(100), "top-up-1").unwrap();
/// engine.add_pending_deletion("john.com", start + Duration::days(5)).unwrap();
/// let b = engine.place_backorder(PlaceBackorder { account: "alice".into(),
///     domain: "john.com".into(), ..Default::default() }).unwrap();
/// assert_eq!(b.status, Status::Requested);
/// clock.advance(Duration::days(3));
/// engine.tick().unwrap();
/// assert_eq!(engine.backorder("alice", b.id).unwrap().status, Status::Active);
/// assert_eq!(engine.balance("alice").unwrap().reserved, Decimal::from(49));
/// ```
pub struct Engine {
    inner: Mutex<Inner>,
    clock: Arc<dyn Clock>,
    house: Arc<dyn AuctionHouse>,
}

/// Configures an [`Engine`]: store, clock, registry, auction house, seed.
pub struct EngineBuilder {
    url: String,
    store: Option<Box<dyn Store>>,
    clock: Arc<dyn Clock>,
    registry: Option<Box<dyn Registry>>,
    house: Arc<dyn AuctionHouse>,
    seed: Option<u64>,
    policies: Option<Vec<TldPolicy>>,
    held: Option<crate::catalog::HeldNames>,
}

/// Contacts with the same handle in all four roles, for quick set-ups and tests.
pub fn full_contacts(handle: &str) -> Contacts {
    Contacts {
        owner: Some(handle.into()),
        admin: Some(handle.into()),
        tech: Some(handle.into()),
        billing: Some(handle.into()),
    }
}

impl EngineBuilder {
    /// The store, by URL (default `memory:`).
    pub fn url(mut self, url: &str) -> Self {
        self.url = url.to_string();
        self
    }

    /// A store instance (instead of a URL).
    pub fn store(mut self, store: Box<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// The clock (default: the system clock).
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The registry to catch at (default: a [`SimulatedRegistry`] seeded with the engine's seed).
    pub fn registry(mut self, registry: Box<dyn Registry>) -> Self {
        self.registry = Some(registry);
        self
    }

    /// The auction house (default: the built-in [`ProxyAuction`]).
    pub fn auction_house(mut self, house: Arc<dyn AuctionHouse>) -> Self {
        self.house = house;
        self
    }

    /// Makes every random choice (auth codes, the default simulated registry) repeatable.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Policies to install when the store has none (default: the shipped defaults).
    pub fn policies(mut self, policies: Vec<TldPolicy>) -> Self {
        self.policies = Some(policies);
        self
    }

    /// Tells the engine which names the registrar's own customers still hold: imports leave them
    /// out of the catalog (they may yet be restored), as HEXONET leaves its customers' names out
    /// of its lists.
    ///
    /// ```
    /// let engine = backorder::Engine::builder()
    ///     .held_names(|domain: &str| domain == "ours.com")
    ///     .build()
    ///     .unwrap();
    /// let report = engine
    ///     .import_pending_list(b"ours.com;2030-01-01 00:00:00\ntheirs.com;2030-01-01 00:00:00\n", Default::default())
    ///     .unwrap();
    /// assert_eq!((report.added, report.excluded_held), (1, 1));
    /// ```
    pub fn held_names(mut self, held: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        self.held = Some(Arc::new(held));
        self
    }

    /// Opens the engine.
    pub fn build(self) -> Result<Engine> {
        let mut store = match self.store {
            Some(s) => s,
            None => crate::store::open_store(&self.url)?,
        };
        let stored = in_transaction(store.as_mut(), |tx| tx.policies())?;
        let policies = if stored.is_empty() {
            let table = match self.policies {
                Some(p) => PolicyTable::new(p)?,
                None => PolicyTable::defaults(),
            };
            in_transaction(store.as_mut(), |tx| {
                table.all().iter().try_for_each(|p| tx.put_policy(p))
            })?;
            table
        } else {
            PolicyTable::new(stored)?
        };
        // A drop the last process on this store began and never finished is taken up again now
        // (no other process can be working it).
        if store.single_process() {
            in_transaction(store.as_mut(), |tx| {
                catch::resume_interrupted_drops(tx).map(|_| ())
            })?;
        }
        // Every later transaction runs through `write_locked`, which runs it again on a conflict.
        store.defer_key_checks();
        let seed = self.seed.unwrap_or(0x5eed);
        let registry = self
            .registry
            .unwrap_or_else(|| Box::new(SimulatedRegistry::new(seed)));
        let auth_codes = match self.seed {
            Some(s) => AuthCodes::Seeded(s ^ 0xa0a0_a0a0),
            None => AuthCodes::Os,
        };
        Ok(Engine {
            inner: Mutex::new(Inner {
                store,
                policies,
                registry,
                auth_codes,
                held: self.held,
                index: None,
                alerts: None,
            }),
            clock: self.clock,
            house: self.house,
        })
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

impl Engine {
    /// An engine on the store `url` names (`memory:`), with the system clock and the defaults.
    pub fn open(url: &str) -> Result<Engine> {
        Engine::builder().url(url).build()
    }

    /// A builder with the defaults: `memory:`, the system clock, the simulated registry, the
    /// built-in proxy auction, the shipped policies.
    pub fn builder() -> EngineBuilder {
        EngineBuilder {
            url: "memory:".into(),
            store: None,
            clock: Arc::new(SystemClock),
            registry: None,
            house: Arc::new(ProxyAuction),
            seed: None,
            policies: None,
            held: None,
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The engine's current time.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Runs `f` as one transaction at the clock's time. A panic inside is rolled back and
    /// reported as [`Error::Internal`], so the store is never left half-written.
    pub(crate) fn write<T>(
        &self,
        f: impl FnMut(&mut dyn Store, &PolicyTable, DateTime<Utc>, &mut AuthCodes) -> Result<T>,
    ) -> Result<T> {
        let now = self.clock.now();
        let mut guard = self.lock();
        Self::write_locked(&mut guard, now, f)
    }

    /// As [`Engine::write`], on an engine already locked.
    pub(crate) fn write_locked<T>(
        guard: &mut Inner,
        now: DateTime<Utc>,
        mut f: impl FnMut(&mut dyn Store, &PolicyTable, DateTime<Utc>, &mut AuthCodes) -> Result<T>,
    ) -> Result<T> {
        // A shared database may refuse a transaction that raced another process's; run it again
        // on what that process wrote, a few times, waiting a little longer each time.
        let mut attempt = 0u32;
        loop {
            match Self::write_once(guard, now, &mut f) {
                Err(Error::StoreConflict(_)) if attempt < MAX_CONFLICT_RETRIES => {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_micros(
                        200 * u64::from(attempt * attempt),
                    ));
                }
                other => return other,
            }
        }
    }

    fn write_once<T>(
        guard: &mut Inner,
        now: DateTime<Utc>,
        f: &mut impl FnMut(&mut dyn Store, &PolicyTable, DateTime<Utc>, &mut AuthCodes) -> Result<T>,
    ) -> Result<T> {
        let Inner {
            store,
            policies,
            auth_codes,
            ..
        } = guard;
        let store: &mut dyn Store = store.as_mut();
        store.begin()?;
        let outcome = catch_unwind(AssertUnwindSafe(|| f(store, policies, now, auth_codes)));
        match outcome {
            Ok(Ok(v)) => match store.commit() {
                Ok(()) => Ok(v),
                Err(e) => {
                    // A store's failed COMMIT may leave its transaction open (SQLite's does when
                    // busy; `SqlStore` ends it itself, a host's own `Store` may not): end it, or
                    // every later BEGIN fails and the engine is wedged until restarted. Found by
                    // the simulation's injected store faults.
                    let _ = store.rollback();
                    Err(e)
                }
            },
            Ok(Err(e)) => {
                store.rollback()?;
                Err(e)
            }
            Err(p) => {
                store.rollback()?;
                Err(Error::Internal(format!(
                    "panic rolled back: {}",
                    panic_message(p.as_ref())
                )))
            }
        }
    }

    /// Every policy in force, sorted by zone.
    pub fn policies(&self) -> Vec<TldPolicy> {
        self.lock().policies.all()
    }

    /// One zone's policy (`UNKNOWN_TLD` when the registrar offers no backorders there).
    pub fn policy(&self, zone: &str) -> Result<TldPolicy> {
        self.lock().policies.get(zone).cloned()
    }

    /// Adds or replaces a zone's policy (validated). Applies to backorders placed afterwards.
    pub fn set_policy(&self, policy: TldPolicy) -> Result<()> {
        policy.validate()?;
        self.write(|tx, _, _, _| tx.put_policy(&policy))?;
        let mut inner = self.lock();
        inner.index = None; // finalization dates follow the policy
        inner.policies.insert(policy)
    }

    /// Opens a customer account at zero.
    pub fn create_account(&self, new: NewAccount) -> Result<Account> {
        self.write(|tx, _, now, _| {
            backorder_core::check_account_id(&new.id)?;
            new.contacts.validate()?;
            if tx.account(&new.id)?.is_some() {
                return Err(Error::AccountExists(new.id.clone()));
            }
            ledger::open_customer(tx, &new.id, new.currency)?;
            let a = Account {
                id: new.id.as_str().into(),
                currency: new.currency,
                contacts: new.contacts.clone(),
                outstanding: Decimal::ZERO,
                created_at: now,
            };
            tx.put_account(&a)?;
            Ok(a)
        })
    }

    /// An account.
    pub fn account(&self, id: &str) -> Result<Account> {
        self.write(|tx, _, _, _| {
            tx.account(id)?
                .ok_or_else(|| Error::AccountNotFound(id.chars().take(64).collect()))
        })
    }

    /// Sets an account's default contact handles; INCOMPLETE backorders that are now complete
    /// become REQUESTED.
    pub fn set_contacts(&self, id: &str, contacts: Contacts) -> Result<Account> {
        self.write(|tx, policies, now, _| {
            backorder::set_account_contacts(tx, policies, now, id, &contacts)
        })
    }

    /// Sets what the customer owes the registrar outside the engine (decides where exclusive-model
    /// refunds go: balance when above zero, else the original payment method).
    pub fn set_outstanding(&self, id: &str, amount: Decimal) -> Result<Account> {
        self.write(|tx, _, _, _| {
            if amount < Decimal::ZERO {
                return Err(Error::InvalidAmount(
                    "outstanding must not be negative".into(),
                ));
            }
            let mut a = tx
                .account(id)?
                .ok_or_else(|| Error::AccountNotFound(id.chars().take(64).collect()))?;
            a.outstanding = amount;
            tx.put_account(&a)?;
            Ok(a)
        })
    }

    /// Tops up an account's prepaid balance in its currency; idempotent by key (keys are scoped to
    /// the account: two customers may use the same key).
    pub fn fund(&self, account: &str, amount: Decimal, idempotency_key: &str) -> Result<Transfer> {
        self.write(|tx, _, now, _| {
            backorder_core::account::top_up(tx, account, amount, idempotency_key, now)
        })
    }

    /// Balance, reserved deposits and available funds.
    pub fn balance(&self, account: &str) -> Result<Balance> {
        self.write(|tx, _, _, _| ledger::balance(tx, account))
    }

    /// The account's journal lines after transfer `after`, at most `limit`.
    pub fn statement(&self, account: &str, after: u64, limit: u32) -> Result<Vec<StatementLine>> {
        self.write(|tx, _, _, _| {
            ledger::balance(tx, account)?;
            let mut out = Vec::new();
            for t in tx.transfers_for_account(account, after, limit as usize)? {
                let held = match t.pending_id {
                    Some(p) => tx.reservation(p)?.map(|r| r.amount).unwrap_or_default(),
                    None => Decimal::ZERO,
                };
                let (balance_change, reserved_change) = match t.kind {
                    TransferKind::Fund => (t.amount, Decimal::ZERO),
                    TransferKind::Reserve => (Decimal::ZERO, t.amount),
                    TransferKind::Capture => (-t.amount, -held),
                    TransferKind::Release => (Decimal::ZERO, -held),
                    TransferKind::Charge | TransferKind::Payout => (-t.amount, Decimal::ZERO),
                };
                out.push(StatementLine {
                    transfer: t.id,
                    at: t.at,
                    kind: t.kind,
                    amount: t.amount,
                    balance_change,
                    reserved_change,
                    backorder: t.backorder,
                    key: t.key.to_string(),
                });
            }
            Ok(out)
        })
    }

    /// Adds a name to the pending-delete list or moves its deletion time (open backorders follow).
    pub fn add_pending_deletion(
        &self,
        domain: &str,
        drop_at: DateTime<Utc>,
    ) -> Result<PendingDeletion> {
        let name = DomainName::parse(domain)?;
        let now = self.clock.now();
        let mut guard = self.lock();
        let matcher = Engine::alert_matcher_locked(&mut guard, now)?;
        let entry = Engine::write_locked(&mut guard, now, |tx, policies, now, _| {
            let new = tx.pending_deletion(&name)?.is_none_or(|p| p.withdrawn);
            catalog::upsert(tx, policies, now, &name, drop_at)?;
            if new {
                backorder_core::alert::emit_alerts(tx, now, &matcher, std::slice::from_ref(&name))?;
            }
            tx.pending_deletion(&name)?
                .ok_or_else(|| Error::Internal("catalog entry vanished".into()))
        })?;
        guard.index = None;
        Ok(entry)
    }

    /// A name's pending-delete entry.
    pub fn pending_deletion(&self, domain: &str) -> Result<Option<PendingDeletion>> {
        let name = DomainName::parse(domain)?;
        self.write(|tx, _, _, _| tx.pending_deletion(&name))
    }

    /// Places a backorder.
    pub fn place_backorder(&self, req: PlaceBackorder) -> Result<Backorder> {
        self.write(|tx, policies, now, _| backorder::place(tx, policies, now, &req))
    }

    /// One of the account's backorders (another account's is "not found").
    pub fn backorder(&self, account: &str, id: u64) -> Result<Backorder> {
        self.write(|tx, _, _, _| backorder::load_owned(tx, account, id))
    }

    /// Every backorder of the account, oldest first.
    pub fn backorders(&self, account: &str) -> Result<Vec<Backorder>> {
        self.write(|tx, _, _, _| {
            tx.account(account)?
                .ok_or_else(|| Error::AccountNotFound(account.chars().take(64).collect()))?;
            let ids = tx.backorders_for_account(account)?;
            ids.into_iter()
                .map(|id| backorder::load_owned(tx, account, id))
                .collect()
        })
    }

    /// How many backorders are in each status, every status present (0 where none): the
    /// registrar's dashboard figure.
    pub fn status_counts(&self) -> Result<std::collections::BTreeMap<Status, u64>> {
        self.write(|tx, _, _, _| {
            let mut counts = tx.count_by_status()?;
            for s in Status::ALL {
                counts.entry(s).or_insert(0);
            }
            Ok(counts)
        })
    }

    /// Changes a backorder's contact handles.
    pub fn modify_backorder(
        &self,
        account: &str,
        id: u64,
        contacts: Contacts,
    ) -> Result<Backorder> {
        self.write(|tx, policies, now, _| {
            backorder::modify_contacts(tx, policies, now, account, id, &contacts)
        })
    }

    /// Cancels a backorder (until the finalization date; never a paid exclusive one).
    pub fn cancel_backorder(&self, account: &str, id: u64) -> Result<Backorder> {
        self.write(|tx, _, now, _| backorder::cancel(tx, now, account, id))
    }

    /// As [`Engine::cancel_backorder`], once per idempotency key: a repeat with the same key (a
    /// host retrying after a timeout or a crash) changes nothing and returns the backorder as it is
    /// now; the key on another request is `IDEMPOTENCY_CONFLICT`. A refused request records
    /// nothing, so its key may be used again.
    ///
    /// ```
    /// # use backorder::{Engine, NewAccount, full_contacts, Currency, PlaceBackorder};
    /// # let e = Engine::open("memory:").unwrap();
    /// # e.create_account(NewAccount { id: "ann".into(), currency: Currency::USD,
    /// #     contacts: full_contacts("ANN-1") }).unwrap();
    /// # let b = e.place_backorder(PlaceBackorder { account: "ann".into(),
    /// #     domain: "john.com".into(), ..Default::default() }).unwrap();
    /// let first = e.cancel_backorder_once("ann", b.id, "cancel-1").unwrap();
    /// let again = e.cancel_backorder_once("ann", b.id, "cancel-1").unwrap();
    /// assert_eq!(first, again);
    /// assert!(e.cancel_backorder("ann", b.id).is_err()); // unkeyed: already cancelled
    /// ```
    pub fn cancel_backorder_once(
        &self,
        account: &str,
        id: u64,
        idempotency_key: &str,
    ) -> Result<Backorder> {
        let request = format!("cancel {id}");
        self.write(|tx, _, now, _| {
            backorder_core::account::once(
                tx,
                "cancel",
                account,
                idempotency_key,
                &request,
                |tx| backorder::cancel(tx, now, account, id),
                |tx| backorder::load_owned(tx, account, id),
            )
        })
    }

    /// [`Engine::cancel_backorder_once`] with a key, [`Engine::cancel_backorder`] without: the
    /// one call the bindings make, whose key is optional.
    pub fn cancel_backorder_with_key(
        &self,
        account: &str,
        id: u64,
        idempotency_key: Option<&str>,
    ) -> Result<Backorder> {
        match idempotency_key {
            Some(key) => self.cancel_backorder_once(account, id, key),
            None => self.cancel_backorder(account, id),
        }
    }

    /// Pays what is due: an exclusive backorder's price (PENDING-PAYMENT → BACKORDERED), or an
    /// auction price (the deposit counts toward it; the auth code is issued).
    pub fn pay(&self, account: &str, id: u64) -> Result<Backorder> {
        self.write(|tx, policies, now, codes| Self::pay_in(tx, policies, now, codes, account, id))
    }

    /// As [`Engine::pay`], once per idempotency key (see [`Engine::cancel_backorder_once`]).
    pub fn pay_once(&self, account: &str, id: u64, idempotency_key: &str) -> Result<Backorder> {
        let request = format!("pay {id}");
        self.write(|tx, policies, now, codes| {
            backorder_core::account::once(
                tx,
                "pay",
                account,
                idempotency_key,
                &request,
                |tx| Self::pay_in(tx, policies, now, codes, account, id),
                |tx| backorder::load_owned(tx, account, id),
            )
        })
    }

    /// [`Engine::pay_once`] with a key, [`Engine::pay`] without.
    pub fn pay_with_key(
        &self,
        account: &str,
        id: u64,
        idempotency_key: Option<&str>,
    ) -> Result<Backorder> {
        match idempotency_key {
            Some(key) => self.pay_once(account, id, key),
            None => self.pay(account, id),
        }
    }

    fn pay_in(
        tx: &mut dyn Store,
        policies: &PolicyTable,
        now: DateTime<Utc>,
        codes: &mut AuthCodes,
        account: &str,
        id: u64,
    ) -> Result<Backorder> {
        let b = backorder::load_owned(tx, account, id)?;
        match b.status {
            Status::PendingPayment => backorder::pay_exclusive(tx, now, account, id),
            Status::AuctionWon if b.amount_due.is_some() => {
                auction::pay(tx, policies, now, account, id, codes.next(id)?)
            }
            _ => Err(Error::PaymentNotDue(id)),
        }
    }

    /// Places a proxy bid (the most the customer will pay) in the backorder's auction.
    pub fn bid(&self, account: &str, id: u64, max: Decimal) -> Result<AuctionView> {
        let house = self.house.clone();
        self.write(|tx, policies, now, _| {
            auction::bid(tx, policies, house.as_ref(), now, account, id, max)
        })
    }

    /// [`Engine::bid_once`] with a key, [`Engine::bid`] without.
    pub fn bid_with_key(
        &self,
        account: &str,
        id: u64,
        max: Decimal,
        idempotency_key: Option<&str>,
    ) -> Result<AuctionView> {
        match idempotency_key {
            Some(key) => self.bid_once(account, id, max, key),
            None => self.bid(account, id, max),
        }
    }

    /// As [`Engine::bid`], once per idempotency key (see [`Engine::cancel_backorder_once`]); a
    /// repeat returns the auction as the bidder sees it now.
    pub fn bid_once(
        &self,
        account: &str,
        id: u64,
        max: Decimal,
        idempotency_key: &str,
    ) -> Result<AuctionView> {
        let house = self.house.clone();
        let request = format!("bid {id} {}", max.normalize());
        self.write(|tx, policies, now, _| {
            backorder_core::account::once(
                tx,
                "bid",
                account,
                idempotency_key,
                &request,
                |tx| auction::bid(tx, policies, house.as_ref(), now, account, id, max),
                |tx| auction::view(tx, policies, house.as_ref(), account, id),
            )
        })
    }

    /// The backorder's auction as its participant sees it.
    pub fn auction(&self, account: &str, id: u64) -> Result<AuctionView> {
        let house = self.house.clone();
        self.write(|tx, policies, _, _| auction::view(tx, policies, house.as_ref(), account, id))
    }

    /// When time-driven work is next due, if any.
    pub fn next_wake(&self) -> Result<Option<DateTime<Utc>>> {
        self.write(|tx, _, _, _| tx.next_wake())
    }

    /// Does all time-driven work due by now: deposit windows, deadlines, drops (attempted at the
    /// registry), auction starts and ends, payment deadlines. Each step is its own transaction.
    pub fn tick(&self) -> Result<TickReport> {
        let now = self.clock.now();
        let mut report = TickReport {
            now: Some(now),
            ..TickReport::default()
        };
        // A step that keeps coming back within one tick is deferred, so a tick always ends.
        let mut seen: HashMap<WakeKey, u32, foldhash::fast::RandomState> = HashMap::default();
        loop {
            let due = self.write(|tx, _, _, _| tx.due(now, 512))?;
            let due: Vec<WakeKey> = due
                .into_iter()
                .map(|(_, k)| k)
                .filter(|k| seen.get(k).copied().unwrap_or(0) < 8)
                .collect();
            if due.is_empty() {
                return Ok(report);
            }
            for key in due {
                *seen.entry(key).or_default() += 1;
                report.steps += 1;
                if let Err(e) = self.step(key, now, &mut report) {
                    report.errors.push(format!("{key:?}: {e}"));
                    let retry = now + Duration::minutes(1);
                    self.write(|tx, _, _, _| tx.set_wake(key, Some(retry)))?;
                }
            }
        }
    }

    fn step(&self, key: WakeKey, now: DateTime<Utc>, report: &mut TickReport) -> Result<()> {
        // An earlier step of this tick may have handled the key already (a drop works every
        // backorder of the name at once): then there is nothing to do.
        let due = |tx: &mut dyn Store| Ok::<_, Error>(tx.wake_of(key)?.is_some_and(|t| t <= now));
        match key {
            WakeKey::Backorder(id) => {
                let outcome = self.write(|tx, _, _, _| {
                    if !due(tx)? {
                        return Ok(WakeOutcome::Done);
                    }
                    backorder::wake(tx, now, id)
                })?;
                if let WakeOutcome::DropDue { domain, drop_at } = outcome {
                    self.run_drop(&domain, drop_at, now, report)?;
                }
                Ok(())
            }
            WakeKey::Auction(id) => {
                let house = self.house.clone();
                self.write(|tx, policies, _, _| {
                    if !due(tx)? {
                        return Ok(());
                    }
                    auction::wake(tx, policies, house.as_ref(), now, id)
                })
            }
        }
    }

    fn run_drop(
        &self,
        domain: &DomainName,
        drop_at: DateTime<Utc>,
        now: DateTime<Utc>,
        report: &mut TickReport,
    ) -> Result<()> {
        let Some(job) = self.write(|tx, _, _, _| catch::begin_drop(tx, now, domain, drop_at))?
        else {
            return Ok(());
        };
        report.drops += 1;
        let progress: CatchProgress = {
            let mut g = self.lock();
            let registry = &mut g.registry;
            match catch_unwind(AssertUnwindSafe(|| registry.attempt(&job, now))) {
                Ok(p) => p,
                Err(p) => CatchOutcome::RegistryError {
                    message: panic_message(p.as_ref()),
                }
                .into(),
            }
        };
        let outcome = match progress {
            CatchProgress::Finished(outcome) => outcome,
            // The registry works the drop on its own time: record_catch brings the outcome.
            CatchProgress::Underway => return Ok(()),
        };
        let result = self.write(|tx, policies, _, _| {
            catch::record_outcome(tx, policies, now, domain, drop_at, &outcome)
        })?;
        if result.caught {
            report.caught += 1;
        }
        if result.auction.is_some() {
            report.auctions_scheduled += 1;
        }
        Ok(())
    }

    /// Records what a registry working a drop on its own time (the EPP catcher) found for
    /// `domain`'s drop at `drop_at`: its PROCESSING backorders end as a catch (allocated, or to
    /// auction) or FAILED. Backorders not PROCESSING yet (the name dropped before the engine's
    /// tick reached it) are left alone: the catcher answers the tick's hand-over with the same
    /// outcome. Repeating it changes nothing.
    pub fn record_catch(
        &self,
        domain: &str,
        drop_at: DateTime<Utc>,
        outcome: &CatchOutcome,
    ) -> Result<DropResult> {
        let domain = DomainName::parse(domain)?;
        self.write(|tx, policies, now, _| {
            catch::record_outcome(tx, policies, now, &domain, drop_at, outcome)
        })
    }

    /// The drops due from `from` to before `to` that have backorders to catch for (funded,
    /// ACTIVE or BACKORDERED, or PROCESSING already): what a catcher plans its attempts from,
    /// a little before each drop. Ordered by drop time, then name.
    pub fn upcoming_drops(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<DropJob>> {
        self.write(|tx, _, _, _| catch::upcoming_drops(tx, from, to))
    }

    /// Outbox events after the cursor `after`, at most `limit` (at-least-once: ack when delivered).
    pub fn events(&self, after: u64, limit: u32) -> Result<Vec<Event>> {
        self.write(|tx, _, _, _| tx.events_after(after, limit as usize))
    }

    /// Forgets events up to and including `upto` (the host delivered them).
    pub fn ack_events(&self, upto: u64) -> Result<()> {
        self.write(|tx, _, _, _| tx.prune_events(upto))
    }

    /// Re-derives every balance from the journal and checks every invariant.
    pub fn audit(&self) -> Result<AuditReport> {
        self.write(|tx, _, _, _| backorder_core::audit(tx))
    }
}
