//! Backorders: placing, modifying, cancelling, paying (exclusive model) and the deposit window.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::account::{Account, Contacts};
use crate::error::{Error, Result};
use crate::event::{EventKind, RefundDestination};
use crate::ledger;
use crate::lifecycle::{check_transition, HistoryEntry, Reason, Status};
use crate::money::Money;
use crate::name::DomainName;
use crate::policy::{AllocationModel, PolicyTable, TldPolicy};
use crate::secret::Secret;
use crate::store::{CommandRecord, NewEvent, Store, WakeKey};

/// A customer's order to catch one name when it drops (a HEXONET "domain application").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backorder {
    /// The application id.
    pub id: u64,
    /// The customer.
    pub account: crate::key::Key,
    /// The name.
    pub domain: DomainName,
    /// The zone's allocation model when placed.
    pub model: AllocationModel,
    /// Current status.
    pub status: Status,
    /// A lite (lower-priority, cheaper) backorder.
    pub lite: bool,
    /// Contact handles given with the backorder; gaps are filled from the account's.
    pub contacts: Contacts,
    /// The fee (auction model: the deposit) or the price (exclusive model).
    pub price: Money,
    /// When the name is expected to drop, once known.
    pub drop_at: Option<DateTime<Utc>>,
    /// FINAL BACKORDER DATE: placing and cancelling close then.
    pub finalization_at: Option<DateTime<Utc>>,
    /// The deposit is first tried then.
    pub deposit_opens_at: Option<DateTime<Utc>>,
    /// Unfunded after this, the backorder expires.
    pub deposit_deadline_at: Option<DateTime<Utc>>,
    /// While INACTIVE, the deposit is retried this often (seconds).
    pub deposit_retry_secs: i64,
    /// When placed.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// The ledger reservation holding the deposit or payment.
    pub reservation: Option<u64>,
    /// The one low-balance notification was sent.
    pub low_balance_notified: bool,
    /// The private auction, if the name went to one.
    pub auction: Option<u64>,
    /// What the customer owes now (auction price or second-chance offer).
    pub amount_due: Option<Decimal>,
    /// Payment deadline for `amount_due`.
    pub pay_by: Option<DateTime<Utc>>,
    /// Total captured and charged on this backorder.
    pub paid: Decimal,
    /// Auth code handed over to the paid auction winner.
    pub auth_code: Option<Secret>,
    /// Registered until (after a catch and allocation).
    pub registered_until: Option<DateTime<Utc>>,
    /// Every status change, oldest first.
    pub history: History,
}

impl Backorder {
    /// The reason of the latest status change.
    pub fn reason(&self) -> Option<Reason> {
        self.history.last().map(|h| h.reason)
    }
}

/// A name's drop allocated to a customer: at most one per name and drop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    /// The name.
    pub domain: DomainName,
    /// The drop it was caught at.
    pub drop_at: DateTime<Utc>,
    /// The customer it went to.
    pub account: crate::key::Key,
    /// The winning backorder.
    pub backorder: u64,
    /// When allocated.
    pub at: DateTime<Utc>,
}

/// A request to place a backorder. A field it does not have is refused, not ignored: a host
/// that sends `price` believing it sets one must hear that it does not.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceBackorder {
    /// The customer.
    pub account: String,
    /// The name, Unicode or ASCII.
    pub domain: String,
    /// Lite (lower priority) backorder.
    #[serde(default)]
    pub lite: bool,
    /// Contact handles for this backorder; gaps are filled from the account's.
    #[serde(default)]
    pub contacts: Contacts,
    /// Repeating a request with the same key returns the first result.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

pub(crate) fn emit<S: Store + ?Sized>(
    tx: &mut S,
    now: DateTime<Utc>,
    b: &Backorder,
    kind: EventKind,
) -> Result<()> {
    tx.append_event(NewEvent {
        at: now,
        account: Some(b.account.clone()),
        backorder: Some(b.id),
        domain: Some(b.domain.clone()),
        kind,
    })?;
    Ok(())
}

/// A backorder's status changes, oldest first. Most hold four to six, kept inline so that copying a
/// backorder allocates nothing; a longer history moves to the heap. Reads as a slice.
pub type History = smallvec::SmallVec<[HistoryEntry; 6]>;

/// Moves a backorder to `to` if the transition table allows it, with history and an event.
pub(crate) fn set_status<S: Store + ?Sized>(
    tx: &mut S,
    b: &mut Backorder,
    to: Status,
    reason: Reason,
    now: DateTime<Utc>,
) -> Result<()> {
    check_transition(Some(b.status), to)?;
    // A clock stepped backwards (an NTP correction) must not make history run backwards.
    let now = b.history.last().map_or(now, |h| h.at.max(now));
    let from = b.status;
    b.history.push(HistoryEntry {
        at: now,
        from: Some(from),
        to,
        reason,
    });
    b.status = to;
    b.updated_at = now;
    emit(
        tx,
        now,
        b,
        EventKind::StatusChanged {
            from: Some(from),
            to,
            reason,
        },
    )
}

/// When the backorder next has time-driven work, for every status whose next step is a fixed time.
fn scheduled_wake(b: &Backorder) -> Option<DateTime<Utc>> {
    match b.status {
        Status::Incomplete => b.deposit_deadline_at,
        // An INACTIVE backorder saved by anything but the deposit attempt itself (a modify, a
        // moved deletion time) is retried at once; the attempt then sets the next hourly retry.
        Status::Requested | Status::Inactive => b.deposit_opens_at,
        Status::PendingPayment => b.finalization_at,
        Status::Active | Status::Backordered => b.drop_at,
        _ => None,
    }
}

/// Writes the backorder and its next wake-up (`wake`, or the one its status implies).
pub(crate) fn save<S: Store + ?Sized>(
    tx: &mut S,
    b: Backorder,
    wake: Option<DateTime<Utc>>,
) -> Result<()> {
    let key = WakeKey::Backorder(b.id);
    let wake = wake.or_else(|| scheduled_wake(&b));
    tx.put_backorder(b)?;
    tx.set_wake(key, wake)
}

pub(crate) fn load<S: Store + ?Sized>(tx: &mut S, id: u64) -> Result<Backorder> {
    tx.backorder(id)?.ok_or(Error::BackorderNotFound(id))
}

/// Loads a backorder of `account`; another account's backorder is "not found", exactly.
pub fn load_owned<S: Store + ?Sized>(tx: &mut S, account: &str, id: u64) -> Result<Backorder> {
    match tx.backorder(id)? {
        Some(b) if b.account == account => Ok(b),
        _ => Err(Error::BackorderNotFound(id)),
    }
}

pub(crate) fn load_account<S: Store + ?Sized>(tx: &mut S, id: &str) -> Result<Account> {
    tx.account(id)?
        .ok_or_else(|| Error::AccountNotFound(id.chars().take(64).collect()))
}

/// Sets the drop time and the times derived from it through the policy.
pub(crate) fn apply_drop_time(
    b: &mut Backorder,
    policy: &TldPolicy,
    drop_at: Option<DateTime<Utc>>,
) {
    b.drop_at = drop_at;
    b.finalization_at = drop_at.map(|d| policy.finalization(d));
    b.deposit_opens_at = drop_at.map(|d| policy.deposit_opens(d));
    b.deposit_deadline_at = drop_at.map(|d| policy.deposit_deadline(d));
    if b.status == Status::PendingPayment {
        b.pay_by = b.finalization_at;
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// What a repeated request must match: a stable hash of every field of the request.
fn fingerprint(req: &PlaceBackorder) -> u64 {
    let c = &req.contacts;
    let mut h = 0u64;
    for field in [
        "place",
        &req.account,
        &req.domain,
        if req.lite { "lite" } else { "full" },
        c.owner.as_deref().unwrap_or("\0"),
        c.admin.as_deref().unwrap_or("\0"),
        c.tech.as_deref().unwrap_or("\0"),
        c.billing.as_deref().unwrap_or("\0"),
    ] {
        // Chain field hashes so that moving bytes between fields changes the result.
        h = crate::rng::hash64(h, field.as_bytes());
    }
    h
}

/// Places a backorder (SPEC §2 step 1 / Alibaba "Backorder Now").
///
/// Auction model: `REQUESTED`, or `INCOMPLETE` while the contact handles the zone needs are missing.
/// Exclusive model: `PENDING-PAYMENT`, refused when another customer has already paid for the name.
pub fn place<S: Store + ?Sized>(
    tx: &mut S,
    policies: &PolicyTable,
    now: DateTime<Utc>,
    req: &PlaceBackorder,
) -> Result<Backorder> {
    let command_key = match &req.idempotency_key {
        Some(key) => Some(crate::account::host_key("place", &req.account, key)?),
        None => None,
    };
    if let Some(scoped) = &command_key {
        if let Some(rec) = tx.command(scoped)? {
            if rec.fingerprint != fingerprint(req) {
                return Err(Error::IdempotencyConflict(
                    req.idempotency_key.clone().unwrap_or_default(),
                ));
            }
            return load(tx, rec.result);
        }
    }
    let domain = DomainName::parse(&req.domain)?;
    let policy = policies.get(domain.zone())?;
    let account = load_account(tx, &req.account)?;
    Money::zero(account.currency).same_currency(&policy.price)?;
    if req.lite && (policy.lite_price.is_none() || policy.model == AllocationModel::Exclusive) {
        return Err(Error::LiteNotOffered(policy.zone.clone()));
    }
    if policy.is_premium(&domain) {
        return Err(Error::PremiumName(domain.to_string()));
    }
    req.contacts.validate()?;
    let drop_at = tx
        .pending_deletion(&domain)?
        .filter(|e| !e.withdrawn)
        .map(|e| e.drop_at);
    if let Some(d) = drop_at {
        let finalization = policy.finalization(d);
        if now >= finalization {
            return Err(Error::PlacementClosed {
                name: domain.to_string(),
                finalization: rfc3339(finalization),
            });
        }
    }
    if let Some(own) = tx
        .backorders_for_name(&domain, Some(&account.id))?
        .into_iter()
        .find(|b| b.status.is_open())
    {
        return Err(Error::DuplicateBackorder {
            name: domain.to_string(),
            existing: own.id,
        });
    }
    if policy.model == AllocationModel::Exclusive
        && tx
            .backorders_for_name(&domain, None)?
            .iter()
            .any(|o| matches!(o.status, Status::Backordered | Status::Processing))
    {
        return Err(Error::NameAlreadyBackordered(domain.to_string()));
    }
    let (status, reason) = match policy.model {
        AllocationModel::Exclusive => (Status::PendingPayment, Reason::Placed),
        AllocationModel::Auction => {
            if req
                .contacts
                .or(&account.contacts)
                .satisfies(&policy.required_contacts)
            {
                (Status::Requested, Reason::Placed)
            } else {
                (Status::Incomplete, Reason::MissingContacts)
            }
        }
    };
    check_transition(None, status)?;
    let price = policy.price_for(&domain, req.lite);
    let mut b = Backorder {
        id: tx.next_backorder_id()?,
        account: account.id.clone(),
        domain,
        model: policy.model,
        status,
        lite: req.lite,
        contacts: req.contacts.clone(),
        price,
        drop_at: None,
        finalization_at: None,
        deposit_opens_at: None,
        deposit_deadline_at: None,
        deposit_retry_secs: policy.deposit_retry_secs,
        created_at: now,
        updated_at: now,
        reservation: None,
        low_balance_notified: false,
        auction: None,
        amount_due: None,
        pay_by: None,
        paid: Decimal::ZERO,
        auth_code: None,
        registered_until: None,
        history: {
            let mut h = History::new();
            h.push(HistoryEntry {
                at: now,
                from: None,
                to: status,
                reason,
            });
            h
        },
    };
    apply_drop_time(&mut b, policy, drop_at);
    emit(
        tx,
        now,
        &b,
        EventKind::StatusChanged {
            from: None,
            to: status,
            reason,
        },
    )?;
    if status == Status::PendingPayment {
        b.amount_due = Some(b.price.amount);
        b.pay_by = b.finalization_at;
        emit(
            tx,
            now,
            &b,
            EventKind::PaymentDue {
                amount: b.price.amount,
                currency: b.price.currency,
                due_by: b.finalization_at,
            },
        )?;
    }
    save(tx, b.clone(), None)?;
    if let Some(scoped) = command_key {
        tx.put_command(CommandRecord {
            key: scoped.into(),
            fingerprint: fingerprint(req),
            result: b.id,
        })?;
    }
    Ok(b)
}

fn before_finalization(b: &Backorder, now: DateTime<Utc>) -> Result<()> {
    match b.finalization_at {
        Some(f) if now >= f => Err(Error::CancellationClosed {
            id: b.id,
            finalization: rfc3339(f),
        }),
        _ => Ok(()),
    }
}

/// Releases the backorder's open deposit, if any, and reports the refund. Returns what was released.
pub(crate) fn release_deposit<S: Store + ?Sized>(
    tx: &mut S,
    b: &Backorder,
    now: DateTime<Utc>,
) -> Result<Option<Decimal>> {
    let Some(rid) = b.reservation else {
        return Ok(None);
    };
    let r = tx
        .reservation(rid)?
        .ok_or(Error::ReservationNotFound(rid))?;
    if r.state != ledger::ReservationState::Pending {
        return Ok(None);
    }
    let t = ledger::release(tx, &format!("bo:{}:release", b.id), rid, now)?;
    Ok(Some(t.amount))
}

/// Releases the backorder's open deposit (if any) and announces the refund. SPEC §2: auction-model
/// deposits return to the balance; an exclusive-model payment goes back to the original payment
/// method (a payout the host executes) unless the account owes the registrar money, in which case
/// it stays in the balance.
pub(crate) fn refund<S: Store + ?Sized>(
    tx: &mut S,
    now: DateTime<Utc>,
    b: &Backorder,
) -> Result<()> {
    let Some(amount) = release_deposit(tx, b, now)? else {
        return Ok(());
    };
    let to_payment_method = b.model == AllocationModel::Exclusive
        && tx
            .account(&b.account)?
            .is_none_or(|a| a.outstanding <= Decimal::ZERO);
    let destination = if to_payment_method {
        ledger::payout(
            tx,
            &format!("bo:{}:payout", b.id),
            &b.account,
            &Money::new(amount, b.price.currency),
            Some(b.id),
            now,
        )?;
        RefundDestination::OriginalPaymentMethod
    } else {
        RefundDestination::Balance
    };
    emit(
        tx,
        now,
        b,
        EventKind::Refunded {
            amount,
            currency: b.price.currency,
            destination,
        },
    )
}

/// Cancels a backorder (SPEC §2): allowed until the finalization date and never once processing
/// began; a paid exclusive backorder cannot be cancelled. An ACTIVE deposit is released.
pub fn cancel<S: Store + ?Sized>(
    tx: &mut S,
    now: DateTime<Utc>,
    account: &str,
    id: u64,
) -> Result<Backorder> {
    let mut b = load_owned(tx, account, id)?;
    match b.status {
        Status::Backordered => return Err(Error::CancellationNotAllowed(id)),
        Status::Requested
        | Status::Incomplete
        | Status::Inactive
        | Status::Active
        | Status::PendingPayment => {}
        other => {
            return Err(Error::StatusDoesNotAllow {
                status: other.to_string(),
                operation: "cancel".into(),
            })
        }
    }
    before_finalization(&b, now)?;
    refund(tx, now, &b)?;
    b.amount_due = None;
    b.pay_by = None;
    set_status(
        tx,
        &mut b,
        Status::Cancelled,
        Reason::CancelledByCustomer,
        now,
    )?;
    save(tx, b.clone(), None)?;
    Ok(b)
}

/// Moves INCOMPLETE ↔ REQUESTED to match the contacts now available.
fn recheck_contacts<S: Store + ?Sized>(
    tx: &mut S,
    policies: &PolicyTable,
    account: &Account,
    b: &mut Backorder,
    now: DateTime<Utc>,
) -> Result<bool> {
    let policy = policies.get(b.domain.zone())?;
    let complete = b
        .contacts
        .or(&account.contacts)
        .satisfies(&policy.required_contacts);
    match (b.status, complete) {
        (Status::Incomplete, true) => {
            set_status(tx, b, Status::Requested, Reason::ContactsCompleted, now)?;
            Ok(true)
        }
        (Status::Requested, false) => {
            set_status(tx, b, Status::Incomplete, Reason::ContactsRemoved, now)?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// Changes a backorder's contact handles (HEXONET `ModifyDomainApplication`), until the
/// finalization date and before processing.
pub fn modify_contacts<S: Store + ?Sized>(
    tx: &mut S,
    policies: &PolicyTable,
    now: DateTime<Utc>,
    account: &str,
    id: u64,
    contacts: &Contacts,
) -> Result<Backorder> {
    contacts.validate()?;
    let mut b = load_owned(tx, account, id)?;
    if !b.status.awaits_drop() {
        return Err(Error::StatusDoesNotAllow {
            status: b.status.to_string(),
            operation: "modify".into(),
        });
    }
    before_finalization(&b, now)?;
    let acct = load_account(tx, account)?;
    b.contacts = contacts.clone();
    b.updated_at = now;
    recheck_contacts(tx, policies, &acct, &mut b, now)?;
    save(tx, b.clone(), None)?;
    Ok(b)
}

/// Sets an account's default contact handles; its INCOMPLETE backorders become REQUESTED once
/// complete (and REQUESTED ones INCOMPLETE if handles were removed).
pub fn set_account_contacts<S: Store + ?Sized>(
    tx: &mut S,
    policies: &PolicyTable,
    now: DateTime<Utc>,
    account: &str,
    contacts: &Contacts,
) -> Result<Account> {
    contacts.validate()?;
    let mut acct = load_account(tx, account)?;
    acct.contacts = contacts.clone();
    tx.put_account(&acct)?;
    for id in tx.backorders_for_account(account)? {
        let mut b = load(tx, id)?;
        if matches!(b.status, Status::Incomplete | Status::Requested)
            && recheck_contacts(tx, policies, &acct, &mut b, now)?
        {
            save(tx, b.clone(), None)?;
        }
    }
    Ok(acct)
}

/// Exclusive model: pays a PENDING-PAYMENT backorder from the available balance. The first to pay
/// holds the name (`BACKORDERED`); every other customer's unpaid backorder on it is cancelled.
pub fn pay_exclusive<S: Store + ?Sized>(
    tx: &mut S,
    now: DateTime<Utc>,
    account: &str,
    id: u64,
) -> Result<Backorder> {
    let mut b = load_owned(tx, account, id)?;
    if b.status != Status::PendingPayment {
        return Err(Error::PaymentNotDue(id));
    }
    if let Some(f) = b.finalization_at {
        if now >= f {
            return Err(Error::PlacementClosed {
                name: b.domain.to_string(),
                finalization: rfc3339(f),
            });
        }
    }
    let others = tx.backorders_for_name(&b.domain, None)?;
    let mut unpaid = Vec::new();
    for o in others.into_iter().filter(|o| o.id != id) {
        match o.status {
            Status::Backordered | Status::Processing => {
                return Err(Error::NameAlreadyBackordered(b.domain.to_string()))
            }
            Status::PendingPayment => unpaid.push(load(tx, o.id)?),
            _ => {}
        }
    }
    let t = ledger::reserve(
        tx,
        &format!("bo:{id}:payment"),
        account,
        &b.price,
        Some(id),
        now,
    )?;
    b.reservation = Some(t.id);
    b.amount_due = None;
    b.pay_by = None;
    set_status(
        tx,
        &mut b,
        Status::Backordered,
        Reason::PaymentReceived,
        now,
    )?;
    save(tx, b.clone(), None)?;
    for mut o in unpaid {
        o.amount_due = None;
        o.pay_by = None;
        set_status(
            tx,
            &mut o,
            Status::Cancelled,
            Reason::NameBackorderedByAnother,
            now,
        )?;
        save(tx, o.clone(), None)?;
    }
    Ok(b)
}

/// What a backorder's wake-up asks of the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WakeOutcome {
    /// Handled (or nothing to do).
    Done,
    /// The name's drop is due: process it (`catch::begin_drop`).
    DropDue {
        /// The name.
        domain: DomainName,
        /// Its drop time.
        drop_at: DateTime<Utc>,
    },
}

/// Time-driven work of one backorder: the deposit window (try, retry, low-balance notice, expiry),
/// the exclusive payment deadline, and noticing that its drop is due.
pub fn wake<S: Store + ?Sized>(tx: &mut S, now: DateTime<Utc>, id: u64) -> Result<WakeOutcome> {
    let Some(mut b) = tx.backorder(id)? else {
        tx.set_wake(WakeKey::Backorder(id), None)?;
        return Ok(WakeOutcome::Done);
    };
    match b.status {
        Status::Incomplete => {
            if b.deposit_deadline_at.is_some_and(|d| now >= d) {
                set_status(
                    tx,
                    &mut b,
                    Status::Expired,
                    Reason::DepositDeadlinePassed,
                    now,
                )?;
            }
            save(tx, b, None)?;
        }
        Status::Requested | Status::Inactive => secure_deposit(tx, now, b)?,
        Status::PendingPayment => {
            if b.finalization_at.is_some_and(|f| now >= f) {
                b.amount_due = None;
                b.pay_by = None;
                set_status(
                    tx,
                    &mut b,
                    Status::Expired,
                    Reason::PaymentDeadlinePassed,
                    now,
                )?;
            }
            save(tx, b, None)?;
        }
        Status::Active | Status::Backordered | Status::Processing => {
            if let Some(drop_at) = b.drop_at.filter(|d| now >= *d) {
                return Ok(WakeOutcome::DropDue {
                    domain: b.domain,
                    drop_at,
                });
            }
            if b.status == Status::Processing {
                // A drop whose outcome was never recorded (a crash mid-drop) is retried later.
                tx.set_wake(WakeKey::Backorder(id), Some(now + Duration::minutes(1)))?;
            } else {
                save(tx, b, None)?;
            }
        }
        _ => tx.set_wake(WakeKey::Backorder(id), None)?,
    }
    Ok(WakeOutcome::Done)
}

/// SPEC §2 step 2: from the lead time until the deadline, reserve the deposit; ACTIVE on success,
/// INACTIVE (with one low-balance notice) on a short balance, EXPIRED at the deadline.
fn secure_deposit<S: Store + ?Sized>(
    tx: &mut S,
    now: DateTime<Utc>,
    mut b: Backorder,
) -> Result<()> {
    let (Some(opens), Some(deadline)) = (b.deposit_opens_at, b.deposit_deadline_at) else {
        return save(tx, b, None); // drop time unknown: nothing to do yet
    };
    if now < opens {
        return save(tx, b, None);
    }
    let key = format!("bo:{}:deposit", b.id);
    match ledger::reserve(tx, &key, &b.account, &b.price, Some(b.id), now) {
        Ok(t) => {
            b.reservation = Some(t.id);
            set_status(tx, &mut b, Status::Active, Reason::DepositSecured, now)?;
            emit(
                tx,
                now,
                &b,
                EventKind::DepositSecured {
                    amount: t.amount,
                    currency: t.currency,
                },
            )?;
            save(tx, b, None)
        }
        Err(Error::InsufficientFunds { .. }) => {
            if !b.low_balance_notified {
                let available = ledger::balance(tx, &b.account)?.available;
                b.low_balance_notified = true;
                emit(
                    tx,
                    now,
                    &b,
                    EventKind::LowBalance {
                        needed: b.price.amount,
                        available,
                        currency: b.price.currency,
                    },
                )?;
            }
            if now >= deadline {
                set_status(
                    tx,
                    &mut b,
                    Status::Expired,
                    Reason::DepositDeadlinePassed,
                    now,
                )?;
                return save(tx, b, None);
            }
            if b.status == Status::Requested {
                set_status(tx, &mut b, Status::Inactive, Reason::InsufficientFunds, now)?;
            }
            b.updated_at = now;
            let retry = (now + Duration::seconds(b.deposit_retry_secs)).min(deadline);
            save(tx, b, Some(retry))
        }
        Err(e) => Err(e),
    }
}
