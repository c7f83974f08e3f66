//! The deposit ledger (SPEC §4): double-entry, two-phase, idempotent by key.
//!
//! Modelled on TigerBeetle's two-phase transfers: a *reserve* is a pending transfer from the
//! customer; *capture* posts all or part of it (the rest is voided); *release* voids it. Every
//! operation carries an idempotency key: a repeat with the same fields returns the first result, a
//! repeat with different fields is [`Error::IdempotencyConflict`]. Customer accounts may never have
//! debits (pending + posted) above their posted credits, so the available balance never goes below
//! zero. The ledger's own accounts (`@funding:CUR`, `@revenue:CUR`, `@payout:CUR`) carry the other
//! side of every transfer, so total debits always equal total credits.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::key::Key;
use crate::money::{require_positive, Currency, Money};

/// What kind of ledger account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LedgerAccountKind {
    /// A customer's prepaid balance: debits may not exceed credits.
    Customer,
    /// Where top-ups come from (money received by the registrar).
    Funding,
    /// Where captured deposits and charges go (the registrar's income).
    Revenue,
    /// Where refunds to an original payment method go (the host pays them out).
    Payout,
}

impl LedgerAccountKind {
    /// Every kind, in declaration order.
    pub const ALL: [LedgerAccountKind; 4] = [
        LedgerAccountKind::Customer,
        LedgerAccountKind::Funding,
        LedgerAccountKind::Revenue,
        LedgerAccountKind::Payout,
    ];

    /// The kind's name, as serialized: `CUSTOMER`, `FUNDING`, `REVENUE`, `PAYOUT`.
    ///
    /// ```
    /// use backorder_core::ledger::LedgerAccountKind;
    /// assert_eq!(LedgerAccountKind::Revenue.as_str(), "REVENUE");
    /// assert_eq!(LedgerAccountKind::parse("REVENUE"), Some(LedgerAccountKind::Revenue));
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            LedgerAccountKind::Customer => "CUSTOMER",
            LedgerAccountKind::Funding => "FUNDING",
            LedgerAccountKind::Revenue => "REVENUE",
            LedgerAccountKind::Payout => "PAYOUT",
        }
    }

    /// The kind [`LedgerAccountKind::as_str`] names, if any.
    pub fn parse(name: &str) -> Option<LedgerAccountKind> {
        LedgerAccountKind::ALL
            .into_iter()
            .find(|k| k.as_str() == name)
    }
}

/// A ledger account's running totals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerAccount {
    /// The customer's account id, or `@funding:USD` and the like for the ledger's own accounts.
    pub key: Key,
    /// What it is.
    pub kind: LedgerAccountKind,
    /// Its currency.
    pub currency: Currency,
    /// Sum of open reservations against it.
    pub debits_pending: Decimal,
    /// Sum of posted debits.
    pub debits_posted: Decimal,
    /// Sum of pending credits.
    pub credits_pending: Decimal,
    /// Sum of posted credits.
    pub credits_posted: Decimal,
}

impl LedgerAccount {
    /// A new account at zero.
    pub fn new(key: &str, kind: LedgerAccountKind, currency: Currency) -> LedgerAccount {
        LedgerAccount {
            key: Key::from(key),
            kind,
            currency,
            debits_pending: Decimal::ZERO,
            debits_posted: Decimal::ZERO,
            credits_pending: Decimal::ZERO,
            credits_posted: Decimal::ZERO,
        }
    }

    /// Posted credits less posted debits: the customer's balance.
    pub fn balance(&self) -> Decimal {
        self.credits_posted - self.debits_posted
    }

    /// Sum of open reservations (the "Reserved Deposits").
    pub fn reserved(&self) -> Decimal {
        self.debits_pending
    }

    /// Balance less reserved: what new deposits and charges may use.
    pub fn available(&self) -> Decimal {
        self.balance() - self.debits_pending
    }
}

/// The key of a ledger account of the ledger itself.
pub fn system_account_key(kind: LedgerAccountKind, currency: Currency) -> String {
    let name = match kind {
        LedgerAccountKind::Customer => "customer",
        LedgerAccountKind::Funding => "funding",
        LedgerAccountKind::Revenue => "revenue",
        LedgerAccountKind::Payout => "payout",
    };
    let mut key = String::with_capacity(16);
    key.push('@');
    key.push_str(name);
    key.push(':');
    key.push_str(currency.as_str());
    key
}

/// The kind of one of the ledger's own accounts, from its key (`@revenue:USD` → revenue);
/// `None` for a customer's key (customer ids never start with `@`).
///
/// ```
/// use backorder_core::ledger::{system_account_kind, LedgerAccountKind};
/// assert_eq!(system_account_kind("@revenue:USD"), Some(LedgerAccountKind::Revenue));
/// assert_eq!(system_account_kind("ann"), None);
/// ```
pub fn system_account_kind(key: &str) -> Option<LedgerAccountKind> {
    let (name, _currency) = key.strip_prefix('@')?.split_once(':')?;
    match name {
        "funding" => Some(LedgerAccountKind::Funding),
        "revenue" => Some(LedgerAccountKind::Revenue),
        "payout" => Some(LedgerAccountKind::Payout),
        _ => None,
    }
}

/// What one operation adds to one of the ledger's own accounts (a release subtracts, so the
/// figures may be negative). See [`LedgerStore::add_to_system_account`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemAccountChange {
    /// Added to `debits_pending`.
    pub debits_pending: Decimal,
    /// Added to `debits_posted`.
    pub debits_posted: Decimal,
    /// Added to `credits_pending`.
    pub credits_pending: Decimal,
    /// Added to `credits_posted`.
    pub credits_posted: Decimal,
}

impl SystemAccountChange {
    /// Adds the change to `account`'s totals; [`Error::InvalidAmount`] (and `account` as it
    /// was) when a total would leave `Decimal`'s range.
    ///
    /// ```
    /// use backorder_core::ledger::{LedgerAccount, LedgerAccountKind, SystemAccountChange};
    /// use backorder_core::Currency;
    /// use rust_decimal::Decimal;
    /// let mut revenue = LedgerAccount::new("@revenue:USD", LedgerAccountKind::Revenue, Currency::USD);
    /// let deposit = SystemAccountChange { credits_pending: Decimal::from(49), ..Default::default() };
    /// deposit.apply_to(&mut revenue).unwrap();
    /// assert_eq!(revenue.credits_pending, Decimal::from(49));
    /// ```
    pub fn apply_to(&self, account: &mut LedgerAccount) -> Result<()> {
        let changed = (
            add(account.debits_pending, self.debits_pending)?,
            add(account.debits_posted, self.debits_posted)?,
            add(account.credits_pending, self.credits_pending)?,
            add(account.credits_posted, self.credits_posted)?,
        );
        (
            account.debits_pending,
            account.debits_posted,
            account.credits_pending,
            account.credits_posted,
        ) = changed;
        Ok(())
    }

    /// The sum of two changes (one transaction's changes to one account, added up).
    pub fn plus(&self, other: &SystemAccountChange) -> Result<SystemAccountChange> {
        Ok(SystemAccountChange {
            debits_pending: add(self.debits_pending, other.debits_pending)?,
            debits_posted: add(self.debits_posted, other.debits_posted)?,
            credits_pending: add(self.credits_pending, other.credits_pending)?,
            credits_posted: add(self.credits_posted, other.credits_posted)?,
        })
    }
}

/// A customer's figures, as shown on the statement header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// The account.
    pub account: String,
    /// Its currency.
    pub currency: Currency,
    /// Posted balance.
    pub balance: Decimal,
    /// Reserved deposits.
    pub reserved: Decimal,
    /// Balance less reserved.
    pub available: Decimal,
}

impl From<&LedgerAccount> for Balance {
    fn from(a: &LedgerAccount) -> Balance {
        Balance {
            account: a.key.to_string(),
            currency: a.currency,
            balance: a.balance(),
            reserved: a.reserved(),
            available: a.available(),
        }
    }
}

/// The kind of a transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransferKind {
    /// Top-up: funding → customer, posted.
    Fund,
    /// Deposit: customer → revenue, pending.
    Reserve,
    /// Post (part of) a reservation.
    Capture,
    /// Void a reservation.
    Release,
    /// Direct charge: customer → revenue, posted.
    Charge,
    /// Refund to the original payment method: customer → payout, posted.
    Payout,
}

impl TransferKind {
    /// Every kind, in declaration order.
    pub const ALL: [TransferKind; 6] = [
        TransferKind::Fund,
        TransferKind::Reserve,
        TransferKind::Capture,
        TransferKind::Release,
        TransferKind::Charge,
        TransferKind::Payout,
    ];

    /// The kind's name, as serialized: `FUND`, `RESERVE`, `CAPTURE`, `RELEASE`, `CHARGE`,
    /// `PAYOUT`.
    ///
    /// ```
    /// use backorder_core::ledger::TransferKind;
    /// assert_eq!(TransferKind::Release.as_str(), "RELEASE");
    /// assert_eq!(TransferKind::parse("RELEASE"), Some(TransferKind::Release));
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            TransferKind::Fund => "FUND",
            TransferKind::Reserve => "RESERVE",
            TransferKind::Capture => "CAPTURE",
            TransferKind::Release => "RELEASE",
            TransferKind::Charge => "CHARGE",
            TransferKind::Payout => "PAYOUT",
        }
    }

    /// The kind [`TransferKind::as_str`] names, if any.
    pub fn parse(name: &str) -> Option<TransferKind> {
        TransferKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// One journal entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// Journal id, unique; a reserve's id is its reservation id. Each customer's transfers
    /// take increasing ids in the order they commit (what a statement pages by). One store
    /// alone numbers the whole journal densely from 1; several processes on one PostgreSQL
    /// database count through blocks of their own, so across customers ids there follow no
    /// commit order.
    pub id: u64,
    /// The idempotency key.
    pub key: Key,
    /// What it does.
    pub kind: TransferKind,
    /// Account debited.
    pub debit: Key,
    /// Account credited.
    pub credit: Key,
    /// Amount (for a release: the amount voided).
    pub amount: Decimal,
    /// Currency.
    pub currency: Currency,
    /// For capture and release: the reservation resolved.
    pub pending_id: Option<u64>,
    /// The backorder it concerns, if any.
    pub backorder: Option<u64>,
    /// When it was journalled.
    pub at: DateTime<Utc>,
}

/// The state of a reservation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReservationState {
    /// Open: counted in `reserved`.
    Pending,
    /// Posted (all or part; the rest was voided).
    Captured {
        /// Amount posted.
        amount: Decimal,
    },
    /// Voided: back in the available balance.
    Released,
}

/// A deposit held against a customer's balance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// Equals the id of the reserving transfer.
    pub id: u64,
    /// The customer.
    pub account: Key,
    /// The credited (revenue) account.
    pub credit: Key,
    /// Amount held.
    pub amount: Decimal,
    /// Currency.
    pub currency: Currency,
    /// Open, captured or released.
    pub state: ReservationState,
    /// The backorder it secures.
    pub backorder: Option<u64>,
    /// The transfer that resolved it.
    pub resolved_by: Option<u64>,
}

/// The tables the ledger needs from a store, read and written inside the caller's transaction.
pub trait LedgerStore {
    /// A ledger account by key.
    fn ledger_account(&mut self, key: &str) -> Result<Option<LedgerAccount>>;
    /// Inserts or replaces a ledger account (taken by value: the ledger is done with it).
    fn put_ledger_account(&mut self, account: LedgerAccount) -> Result<()>;
    /// The transfer recorded under an idempotency key.
    fn transfer_by_key(&mut self, key: &str) -> Result<Option<Transfer>>;
    /// The next journal id: unique, above every id this store gave out before, and above every
    /// id of the accounts' journals the transaction writes to when it commits (a store that
    /// cannot know that at once fails the commit with [`Error::StoreConflict`]).
    fn next_transfer_id(&mut self) -> Result<u64>;
    /// Appends a transfer to the journal. A key the journal has is refused with
    /// [`Error::IdempotencyConflict`], here or, by a store that buffers the journal, at commit.
    fn insert_transfer(&mut self, transfer: &Transfer) -> Result<()>;
    /// A reservation by id.
    fn reservation(&mut self, id: u64) -> Result<Option<Reservation>>;
    /// Inserts or replaces a reservation (taken by value).
    fn put_reservation(&mut self, reservation: Reservation) -> Result<()>;
    /// Adds `change` to one of the ledger's own accounts (`key` from [`system_account_key`]),
    /// opening it at zero on first use. The ledger never decides anything on these accounts'
    /// totals, so it does not read them: a store shared by several processes records the change
    /// without reading the account, and concurrent deposits do not contend for the registrar's
    /// revenue account. The default reads the account and writes it back.
    fn add_to_system_account(
        &mut self,
        key: &str,
        kind: LedgerAccountKind,
        currency: Currency,
        change: &SystemAccountChange,
    ) -> Result<()> {
        add_by_reading(self, key, kind, currency, change)
    }
}

/// [`LedgerStore::add_to_system_account`] as a store that keeps whole rows does it: reads the
/// account (or opens it at zero), adds the change and writes it back.
pub fn add_by_reading<S: LedgerStore + ?Sized>(
    tx: &mut S,
    key: &str,
    kind: LedgerAccountKind,
    currency: Currency,
    change: &SystemAccountChange,
) -> Result<()> {
    let mut account = tx
        .ledger_account(key)?
        .unwrap_or_else(|| LedgerAccount::new(key, kind, currency));
    change.apply_to(&mut account)?;
    tx.put_ledger_account(account)
}

/// A request to the ledger, the fields compared on an idempotent repeat (all but the time: a
/// retry comes later by nature).
struct Request<'a> {
    key: &'a str,
    kind: TransferKind,
    debit: &'a str,
    credit: &'a str,
    amount: Option<Decimal>,
    currency: Option<Currency>,
    pending_id: Option<u64>,
    /// `None` for capture and release: they take the reservation's backorder.
    backorder: Option<Option<u64>>,
}

/// `a + b`, or [`Error::InvalidAmount`] when the sum leaves `Decimal`'s range: no operation may
/// panic on amounts a host passes in.
fn add(a: Decimal, b: Decimal) -> Result<Decimal> {
    a.checked_add(b)
        .ok_or_else(|| Error::InvalidAmount("the total would overflow".into()))
}

fn sub(a: Decimal, b: Decimal) -> Result<Decimal> {
    a.checked_sub(b)
        .ok_or_else(|| Error::InvalidAmount("the total would overflow".into()))
}

/// Returns the earlier result for a repeated key, or an error when the fields differ.
fn replay<S: LedgerStore + ?Sized>(tx: &mut S, req: &Request<'_>) -> Result<Option<Transfer>> {
    let Some(t) = tx.transfer_by_key(req.key)? else {
        return Ok(None);
    };
    let same = t.kind == req.kind
        && t.debit == req.debit
        && t.credit == req.credit
        && req.amount.is_none_or(|a| a == t.amount)
        && req.currency.is_none_or(|c| c == t.currency)
        && t.pending_id == req.pending_id
        && req.backorder.is_none_or(|b| b == t.backorder);
    if same {
        Ok(Some(t))
    } else {
        Err(Error::IdempotencyConflict(req.key.to_string()))
    }
}

/// The longest idempotency key the ledger keeps, in bytes. Room for a host's 200-byte key scoped by
/// [`crate::account::host_key`] (`host:<operation>:<account id of up to 64 bytes>:<key>`).
pub const MAX_KEY_LEN: usize = 320;

fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(Error::InvalidArgument(format!(
            "ledger idempotency key must be 1-{MAX_KEY_LEN} bytes"
        )));
    }
    Ok(())
}

fn customer<S: LedgerStore + ?Sized>(tx: &mut S, account: &str) -> Result<LedgerAccount> {
    match tx.ledger_account(account)? {
        Some(a) if a.kind == LedgerAccountKind::Customer => Ok(a),
        _ => Err(Error::AccountNotFound(account.chars().take(64).collect())),
    }
}

/// Opens a customer's ledger account at zero. Fails with [`Error::AccountExists`] if it exists.
pub fn open_customer<S: LedgerStore + ?Sized>(
    tx: &mut S,
    account: &str,
    currency: Currency,
) -> Result<()> {
    crate::account::check_account_id(account)?;
    if tx.ledger_account(account)?.is_some() {
        return Err(Error::AccountExists(account.to_string()));
    }
    tx.put_ledger_account(LedgerAccount::new(
        account,
        LedgerAccountKind::Customer,
        currency,
    ))
}

/// The customer's balance, reserved and available figures.
pub fn balance<S: LedgerStore + ?Sized>(tx: &mut S, account: &str) -> Result<Balance> {
    Ok(Balance::from(&customer(tx, account)?))
}

/// Which side of a posted transfer the customer is on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CustomerSide {
    /// Money comes in (a top-up): the customer is credited.
    Credited,
    /// Money goes out (a charge, a payout): the customer is debited, within the available balance.
    Debited,
}

/// A posted transfer between a customer and one of the ledger's own accounts.
#[allow(clippy::too_many_arguments)]
fn posted<S: LedgerStore + ?Sized>(
    tx: &mut S,
    key: &str,
    kind: TransferKind,
    mut customer: LedgerAccount,
    side: CustomerSide,
    (system_key, system_kind): (&str, LedgerAccountKind),
    amount: Decimal,
    backorder: Option<u64>,
    now: DateTime<Utc>,
) -> Result<Transfer> {
    let mut change = SystemAccountChange::default();
    let (debit, credit) = match side {
        CustomerSide::Debited => {
            if customer.available() < amount {
                return Err(Error::InsufficientFunds {
                    account: customer.key.to_string(),
                    needed: Money::new(amount, customer.currency).to_string(),
                    available: Money::new(customer.available(), customer.currency).to_string(),
                });
            }
            customer.debits_posted = add(customer.debits_posted, amount)?;
            change.credits_posted = amount;
            (customer.key.clone(), Key::from(system_key))
        }
        CustomerSide::Credited => {
            customer.credits_posted = add(customer.credits_posted, amount)?;
            change.debits_posted = amount;
            (Key::from(system_key), customer.key.clone())
        }
    };
    let t = Transfer {
        id: tx.next_transfer_id()?,
        key: Key::from(key),
        kind,
        debit,
        credit,
        amount,
        currency: customer.currency,
        pending_id: None,
        backorder,
        at: now,
    };
    tx.add_to_system_account(system_key, system_kind, customer.currency, &change)?;
    tx.put_ledger_account(customer)?;
    tx.insert_transfer(&t)?;
    Ok(t)
}

fn checked_amount(account: &LedgerAccount, amount: &Money) -> Result<Decimal> {
    require_positive(amount)?;
    Money::zero(account.currency).same_currency(amount)?;
    Ok(amount.amount)
}

/// Tops up a customer's balance (money received by the registrar).
///
/// ```
/// use backorder_core::{ledger, MemoryStore, Money, Currency};
/// use rust_decimal::Decimal;
/// let mut s = MemoryStore::new();
/// let now = chrono::DateTime::UNIX_EPOCH;
/// ledger::open_customer(&mut s, "alice", Currency::USD).unwrap();
/// let m = Money::new(Decimal::from(100), Currency::USD);
/// let first = ledger::fund(&mut s, "top-up-1", "alice", &m, now).unwrap();
/// let again = ledger::fund(&mut s, "top-up-1", "alice", &m, now).unwrap();
/// assert_eq!(first, again); // idempotent
/// assert_eq!(ledger::balance(&mut s, "alice").unwrap().available, Decimal::from(100));
/// ```
pub fn fund<S: LedgerStore + ?Sized>(
    tx: &mut S,
    key: &str,
    account: &str,
    amount: &Money,
    now: DateTime<Utc>,
) -> Result<Transfer> {
    check_key(key)?;
    let funding = system_account_key(LedgerAccountKind::Funding, amount.currency);
    let req = Request {
        key,
        kind: TransferKind::Fund,
        debit: &funding,
        credit: account,
        amount: Some(amount.amount),
        currency: Some(amount.currency),
        pending_id: None,
        backorder: Some(None),
    };
    if let Some(t) = replay(tx, &req)? {
        return Ok(t);
    }
    let credit = customer(tx, account)?;
    let value = checked_amount(&credit, amount)?;
    posted(
        tx,
        key,
        TransferKind::Fund,
        credit,
        CustomerSide::Credited,
        (&funding, LedgerAccountKind::Funding),
        value,
        None,
        now,
    )
}

/// Charges a customer directly (posted at once), e.g. the part of an auction price above the deposit.
pub fn charge<S: LedgerStore + ?Sized>(
    tx: &mut S,
    key: &str,
    account: &str,
    amount: &Money,
    backorder: Option<u64>,
    now: DateTime<Utc>,
) -> Result<Transfer> {
    to_system(
        tx,
        key,
        TransferKind::Charge,
        LedgerAccountKind::Revenue,
        account,
        amount,
        backorder,
        now,
    )
}

/// Moves money from a customer's balance to the payout account: a refund the host sends to the
/// original payment method.
pub fn payout<S: LedgerStore + ?Sized>(
    tx: &mut S,
    key: &str,
    account: &str,
    amount: &Money,
    backorder: Option<u64>,
    now: DateTime<Utc>,
) -> Result<Transfer> {
    to_system(
        tx,
        key,
        TransferKind::Payout,
        LedgerAccountKind::Payout,
        account,
        amount,
        backorder,
        now,
    )
}

#[allow(clippy::too_many_arguments)]
fn to_system<S: LedgerStore + ?Sized>(
    tx: &mut S,
    key: &str,
    kind: TransferKind,
    to: LedgerAccountKind,
    account: &str,
    amount: &Money,
    backorder: Option<u64>,
    now: DateTime<Utc>,
) -> Result<Transfer> {
    check_key(key)?;
    let credit_key = system_account_key(to, amount.currency);
    let req = Request {
        key,
        kind,
        debit: account,
        credit: &credit_key,
        amount: Some(amount.amount),
        currency: Some(amount.currency),
        pending_id: None,
        backorder: Some(backorder),
    };
    if let Some(t) = replay(tx, &req)? {
        return Ok(t);
    }
    let debit = customer(tx, account)?;
    let value = checked_amount(&debit, amount)?;
    posted(
        tx,
        key,
        kind,
        debit,
        CustomerSide::Debited,
        (&credit_key, to),
        value,
        backorder,
        now,
    )
}

/// Reserves a deposit (a pending transfer). The returned transfer's id is the reservation id.
pub fn reserve<S: LedgerStore + ?Sized>(
    tx: &mut S,
    key: &str,
    account: &str,
    amount: &Money,
    backorder: Option<u64>,
    now: DateTime<Utc>,
) -> Result<Transfer> {
    check_key(key)?;
    let revenue = system_account_key(LedgerAccountKind::Revenue, amount.currency);
    let req = Request {
        key,
        kind: TransferKind::Reserve,
        debit: account,
        credit: &revenue,
        amount: Some(amount.amount),
        currency: Some(amount.currency),
        pending_id: None,
        backorder: Some(backorder),
    };
    if let Some(t) = replay(tx, &req)? {
        return Ok(t);
    }
    let mut debit = customer(tx, account)?;
    let value = checked_amount(&debit, amount)?;
    if debit.available() < value {
        return Err(Error::InsufficientFunds {
            account: account.to_string(),
            needed: amount.to_string(),
            available: Money::new(debit.available(), debit.currency).to_string(),
        });
    }
    debit.debits_pending = add(debit.debits_pending, value)?;
    let id = tx.next_transfer_id()?;
    let t = Transfer {
        id,
        key: Key::from(key),
        kind: TransferKind::Reserve,
        debit: debit.key.clone(),
        credit: Key::from(revenue.as_str()),
        amount: value,
        currency: debit.currency,
        pending_id: None,
        backorder,
        at: now,
    };
    tx.insert_transfer(&t)?;
    tx.add_to_system_account(
        &revenue,
        LedgerAccountKind::Revenue,
        debit.currency,
        &SystemAccountChange {
            credits_pending: value,
            ..Default::default()
        },
    )?;
    tx.put_reservation(Reservation {
        id,
        account: debit.key.clone(),
        credit: t.credit.clone(),
        amount: value,
        currency: debit.currency,
        state: ReservationState::Pending,
        backorder,
        resolved_by: None,
    })?;
    tx.put_ledger_account(debit)?;
    Ok(t)
}

/// Posts `amount` of a reservation (at most what it holds); the rest is voided.
pub fn capture<S: LedgerStore + ?Sized>(
    tx: &mut S,
    key: &str,
    reservation: u64,
    amount: Decimal,
    now: DateTime<Utc>,
) -> Result<Transfer> {
    resolve(tx, key, reservation, Some(amount), now)
}

/// Voids a reservation: the deposit returns to the available balance.
pub fn release<S: LedgerStore + ?Sized>(
    tx: &mut S,
    key: &str,
    reservation: u64,
    now: DateTime<Utc>,
) -> Result<Transfer> {
    resolve(tx, key, reservation, None, now)
}

fn resolve<S: LedgerStore + ?Sized>(
    tx: &mut S,
    key: &str,
    reservation: u64,
    capture: Option<Decimal>,
    now: DateTime<Utc>,
) -> Result<Transfer> {
    check_key(key)?;
    let kind = if capture.is_some() {
        TransferKind::Capture
    } else {
        TransferKind::Release
    };
    // The accounts are those of the reservation; compare them when it exists.
    let known = tx.reservation(reservation)?;
    if let Some(r) = &known {
        let req = Request {
            key,
            kind,
            debit: &r.account,
            credit: &r.credit,
            amount: capture,
            currency: Some(r.currency),
            pending_id: Some(reservation),
            backorder: None,
        };
        if let Some(t) = replay(tx, &req)? {
            return Ok(t);
        }
    } else if tx.transfer_by_key(key)?.is_some() {
        return Err(Error::IdempotencyConflict(key.to_string()));
    }
    let mut r = match known {
        Some(r) if r.state == ReservationState::Pending => r,
        Some(_) => return Err(Error::ReservationResolved(reservation)),
        None => return Err(Error::ReservationNotFound(reservation)),
    };
    let posted_amount = match capture {
        Some(a) => {
            require_positive(&Money::new(a, r.currency))?;
            if a > r.amount {
                return Err(Error::CaptureExceedsReservation {
                    requested: Money::new(a, r.currency).to_string(),
                    reserved: Money::new(r.amount, r.currency).to_string(),
                });
            }
            a
        }
        None => Decimal::ZERO,
    };
    let mut debit = customer(tx, &r.account)?;
    let credit_kind = system_account_kind(&r.credit).ok_or_else(|| {
        Error::Internal(format!(
            "reservation {reservation} credits {}, not a ledger account of its own",
            r.credit
        ))
    })?;
    debit.debits_pending = sub(debit.debits_pending, r.amount)?;
    debit.debits_posted = add(debit.debits_posted, posted_amount)?;
    let change = SystemAccountChange {
        credits_pending: -r.amount,
        credits_posted: posted_amount,
        ..Default::default()
    };
    let id = tx.next_transfer_id()?;
    let t = Transfer {
        id,
        key: Key::from(key),
        kind,
        debit: debit.key.clone(),
        credit: r.credit.clone(),
        amount: capture.unwrap_or(r.amount),
        currency: r.currency,
        pending_id: Some(reservation),
        backorder: r.backorder,
        at: now,
    };
    r.state = match capture {
        Some(amount) => ReservationState::Captured { amount },
        None => ReservationState::Released,
    };
    r.resolved_by = Some(id);
    tx.put_ledger_account(debit)?;
    tx.add_to_system_account(&r.credit, credit_kind, r.currency, &change)?;
    tx.insert_transfer(&t)?;
    tx.put_reservation(r)?;
    Ok(t)
}

/// One line of an account statement (HEXONET `QueryDepositList`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementLine {
    /// The journal entry.
    pub transfer: u64,
    /// When.
    pub at: DateTime<Utc>,
    /// What kind.
    pub kind: TransferKind,
    /// The transfer's amount.
    pub amount: Decimal,
    /// Its effect on the posted balance.
    pub balance_change: Decimal,
    /// Its effect on the reserved deposits.
    pub reserved_change: Decimal,
    /// The backorder concerned.
    pub backorder: Option<u64>,
    /// The idempotency key it was made under.
    pub key: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn change() -> impl Strategy<Value = SystemAccountChange> {
        let amount = (-10_000_000i64..10_000_000, 0u32..4).prop_map(|(n, s)| Decimal::new(n, s));
        (amount.clone(), amount.clone(), amount.clone(), amount).prop_map(|(a, b, c, d)| {
            SystemAccountChange {
                debits_pending: a,
                debits_posted: b,
                credits_pending: c,
                credits_posted: d,
            }
        })
    }

    proptest! {
        /// A transaction's changes to one of the ledger's accounts, added up first (as a store
        /// that writes them as one share does), give what applying them one by one gives.
        #[test]
        fn changes_added_up_apply_as_one_by_one(changes in prop::collection::vec(change(), 0..20)) {
            let mut one_by_one =
                LedgerAccount::new("@revenue:USD", LedgerAccountKind::Revenue, Currency::USD);
            let mut sum = SystemAccountChange::default();
            for c in &changes {
                c.apply_to(&mut one_by_one).unwrap();
                sum = sum.plus(c).unwrap();
            }
            let mut at_once =
                LedgerAccount::new("@revenue:USD", LedgerAccountKind::Revenue, Currency::USD);
            sum.apply_to(&mut at_once).unwrap();
            prop_assert_eq!(at_once, one_by_one);
        }
    }

    #[test]
    fn a_change_that_overflows_leaves_the_account_as_it_was() {
        let mut a = LedgerAccount::new("@revenue:USD", LedgerAccountKind::Revenue, Currency::USD);
        a.credits_posted = Decimal::MAX;
        let before = a.clone();
        let change = SystemAccountChange {
            debits_pending: Decimal::ONE,
            credits_posted: Decimal::ONE,
            ..Default::default()
        };
        let e = change.apply_to(&mut a).unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::InvalidAmount);
        assert_eq!(a, before);
    }

    #[test]
    fn system_account_kinds_read_back_from_their_keys() {
        for kind in [
            LedgerAccountKind::Funding,
            LedgerAccountKind::Revenue,
            LedgerAccountKind::Payout,
        ] {
            let key = system_account_key(kind, Currency::EUR);
            assert_eq!(system_account_kind(&key), Some(kind));
        }
        for key in ["ann", "@customer:USD", "@revenue", "@nope:USD", ""] {
            assert_eq!(system_account_kind(key), None, "{key}");
        }
    }

    #[test]
    fn account_kind_names_are_their_serialized_names() {
        for kind in LedgerAccountKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(LedgerAccountKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(LedgerAccountKind::parse("revenue"), None);
    }

    #[test]
    fn transfer_kind_names_are_their_serialized_names() {
        for kind in TransferKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(TransferKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(TransferKind::parse("fund"), None);
    }
}
