//! Checks the deposit ledger (SPEC §4) two ways: property tests that run random sequences of
//! ledger operations on a `MemoryStore` next to a small independent model, one property per
//! invariant, and plain tests that hit every ledger error path and check its exact `ErrorCode`.
//!
//! The model knows only what the SPEC and the ledger's documented contract say: account totals
//! (pending/posted debits and credits), reservations and the first transfer of every idempotency
//! key. For each request it predicts the outcome: the exact transfer on success, the first transfer
//! on a repeat, `IdempotencyConflict` on a repeat with other fields, or the set of error codes the
//! request breaks (when a request breaks several rules, any of them may be reported). Every
//! property also checks the store against the model after every step.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use backorder_core::ledger::{self, LedgerStore};
use backorder_core::{
    audit, Balance, Currency, Error, ErrorCode, LedgerAccount, MemoryStore, Money, Reservation,
    ReservationState, Store, Transfer, TransferKind,
};
use chrono::{DateTime, Utc};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const NOW: DateTime<Utc> = DateTime::UNIX_EPOCH;
const USD: Currency = Currency::USD;
const EUR: Currency = Currency::EUR;

/// The customers of every property run: three in USD, one in EUR.
const CUSTOMERS: [(&str, Currency); 4] =
    [("alice", USD), ("bob", USD), ("carol", USD), ("dave", EUR)];
/// An account that is never opened.
const GHOST: &str = "ghost";
/// A reservation id no run ever reaches.
const NO_SUCH_RESERVATION: u64 = 1_000_000;

type TestResult = Result<(), TestCaseError>;

// ------------------------------------------------------------------------------------------------
// Requests
// ------------------------------------------------------------------------------------------------

/// One ledger call with all its fields; two requests are "the same" when they are equal.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Req {
    Fund {
        key: String,
        account: String,
        amount: Decimal,
        currency: Currency,
    },
    Reserve {
        key: String,
        account: String,
        amount: Decimal,
        currency: Currency,
        backorder: Option<u64>,
    },
    Charge {
        key: String,
        account: String,
        amount: Decimal,
        currency: Currency,
        backorder: Option<u64>,
    },
    Payout {
        key: String,
        account: String,
        amount: Decimal,
        currency: Currency,
        backorder: Option<u64>,
    },
    Capture {
        key: String,
        reservation: u64,
        amount: Decimal,
    },
    Release {
        key: String,
        reservation: u64,
    },
}

impl Req {
    fn key(&self) -> &str {
        match self {
            Req::Fund { key, .. }
            | Req::Reserve { key, .. }
            | Req::Charge { key, .. }
            | Req::Payout { key, .. }
            | Req::Capture { key, .. }
            | Req::Release { key, .. } => key,
        }
    }

    fn run(&self, s: &mut MemoryStore) -> Result<Transfer, Error> {
        match self {
            Req::Fund {
                key,
                account,
                amount,
                currency,
            } => ledger::fund(s, key, account, &Money::new(*amount, *currency), NOW),
            Req::Reserve {
                key,
                account,
                amount,
                currency,
                backorder,
            } => ledger::reserve(
                s,
                key,
                account,
                &Money::new(*amount, *currency),
                *backorder,
                NOW,
            ),
            Req::Charge {
                key,
                account,
                amount,
                currency,
                backorder,
            } => ledger::charge(
                s,
                key,
                account,
                &Money::new(*amount, *currency),
                *backorder,
                NOW,
            ),
            Req::Payout {
                key,
                account,
                amount,
                currency,
                backorder,
            } => ledger::payout(
                s,
                key,
                account,
                &Money::new(*amount, *currency),
                *backorder,
                NOW,
            ),
            Req::Capture {
                key,
                reservation,
                amount,
            } => ledger::capture(s, key, *reservation, *amount, NOW),
            Req::Release { key, reservation } => ledger::release(s, key, *reservation, NOW),
        }
    }

    /// The same request with one field changed (the key stays).
    fn changed(&self, change: Change) -> Req {
        let mut r = self.clone();
        match (&mut r, change) {
            (
                Req::Fund { amount, .. }
                | Req::Reserve { amount, .. }
                | Req::Charge { amount, .. }
                | Req::Payout { amount, .. }
                | Req::Capture { amount, .. },
                Change::Amount,
            ) => *amount += dec!(0.01),
            (
                Req::Fund { account, .. }
                | Req::Reserve { account, .. }
                | Req::Charge { account, .. }
                | Req::Payout { account, .. },
                Change::Target,
            ) => *account = other_account(account).to_string(),
            (
                Req::Fund { currency, .. }
                | Req::Reserve { currency, .. }
                | Req::Charge { currency, .. }
                | Req::Payout { currency, .. },
                Change::Currency,
            ) => *currency = other_currency(*currency),
            (
                Req::Capture { reservation, .. } | Req::Release { reservation, .. },
                Change::Target | Change::Currency,
            ) => *reservation += 1,
            (Req::Release { key, reservation }, Change::Amount | Change::Kind)
            | (
                Req::Capture {
                    key, reservation, ..
                },
                Change::Kind,
            ) => {
                r = if matches!(self, Req::Release { .. }) {
                    Req::Capture {
                        key: key.clone(),
                        reservation: *reservation,
                        amount: dec!(0.01),
                    }
                } else {
                    Req::Release {
                        key: key.clone(),
                        reservation: *reservation,
                    }
                }
            }
            (
                Req::Fund {
                    key,
                    account,
                    amount,
                    currency,
                },
                Change::Kind,
            ) => {
                r = Req::Charge {
                    key: key.clone(),
                    account: account.clone(),
                    amount: *amount,
                    currency: *currency,
                    backorder: None,
                }
            }
            (
                Req::Reserve {
                    key,
                    account,
                    amount,
                    currency,
                    backorder,
                }
                | Req::Charge {
                    key,
                    account,
                    amount,
                    currency,
                    backorder,
                }
                | Req::Payout {
                    key,
                    account,
                    amount,
                    currency,
                    backorder,
                },
                Change::Kind,
            ) => {
                let (key, account, amount, currency, backorder) =
                    (key.clone(), account.clone(), *amount, *currency, *backorder);
                r = match self {
                    Req::Reserve { .. } => Req::Payout {
                        key,
                        account,
                        amount,
                        currency,
                        backorder,
                    },
                    Req::Charge { .. } => Req::Reserve {
                        key,
                        account,
                        amount,
                        currency,
                        backorder,
                    },
                    _ => Req::Fund {
                        key,
                        account,
                        amount,
                        currency,
                    },
                }
            }
        }
        r
    }
}

/// Which field a changed repeat alters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Change {
    Amount,
    /// The account, or for capture/release the reservation.
    Target,
    Kind,
    Currency,
}

const CHANGES: [Change; 4] = [
    Change::Amount,
    Change::Target,
    Change::Kind,
    Change::Currency,
];

fn other_account(account: &str) -> &'static str {
    let i = CUSTOMERS
        .iter()
        .position(|(a, _)| *a == account)
        .map_or(0, |i| i + 1);
    CUSTOMERS.get(i).map_or(GHOST, |(a, _)| a)
}

fn other_currency(c: Currency) -> Currency {
    if c == USD {
        EUR
    } else {
        USD
    }
}

// ------------------------------------------------------------------------------------------------
// The model
// ------------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Totals {
    debits_pending: Decimal,
    debits_posted: Decimal,
    credits_pending: Decimal,
    credits_posted: Decimal,
}

impl Totals {
    fn available(&self) -> Decimal {
        self.credits_posted - self.debits_posted - self.debits_pending
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct ModelReservation {
    account: String,
    credit: String,
    amount: Decimal,
    currency: Currency,
    backorder: Option<u64>,
    state: ReservationState,
    resolved_by: Option<u64>,
}

#[derive(Clone, Debug, Default)]
struct Model {
    /// Customer → currency.
    customers: HashMap<String, Currency>,
    /// Every ledger account (customers and the ledger's own) → totals.
    accounts: HashMap<String, Totals>,
    reservations: BTreeMap<u64, ModelReservation>,
    /// Idempotency key → the first request and its transfer.
    done: HashMap<String, (Req, Transfer)>,
    journal_len: u64,
}

/// What the model predicts for a request.
#[derive(Debug)]
enum Expect {
    Create(Transfer),
    Replay(Transfer),
    Conflict,
    /// Fails with one of these codes.
    Fail(Vec<ErrorCode>),
}

fn valid_amount(a: Decimal) -> bool {
    a > Decimal::ZERO && a.normalize().scale() <= 4
}

fn sys(kind: &str, c: Currency) -> String {
    format!("@{kind}:{c}")
}

impl Model {
    fn new() -> Model {
        let mut m = Model::default();
        for (a, c) in CUSTOMERS {
            m.customers.insert(a.to_string(), c);
            m.accounts.insert(a.to_string(), Totals::default());
        }
        m
    }

    fn totals(&self, account: &str) -> Totals {
        self.accounts.get(account).copied().unwrap_or_default()
    }

    fn expect(&self, req: &Req) -> Expect {
        if let Some((first, t)) = self.done.get(req.key()) {
            return if first == req {
                Expect::Replay(t.clone())
            } else {
                Expect::Conflict
            };
        }
        let mut errors = Vec::new();
        let id = self.journal_len + 1;
        let transfer = match req {
            Req::Fund {
                key,
                account,
                amount,
                currency,
            }
            | Req::Reserve {
                key,
                account,
                amount,
                currency,
                ..
            }
            | Req::Charge {
                key,
                account,
                amount,
                currency,
                ..
            }
            | Req::Payout {
                key,
                account,
                amount,
                currency,
                ..
            } => {
                match self.customers.get(account) {
                    None => errors.push(ErrorCode::AccountNotFound),
                    Some(c) if c != currency => errors.push(ErrorCode::CurrencyMismatch),
                    Some(_) => {}
                }
                if !valid_amount(*amount) {
                    errors.push(ErrorCode::InvalidAmount);
                }
                let (kind, debit, credit, backorder) = match req {
                    Req::Fund { .. } => (
                        TransferKind::Fund,
                        sys("funding", *currency),
                        account.clone(),
                        None,
                    ),
                    Req::Reserve { backorder, .. } => (
                        TransferKind::Reserve,
                        account.clone(),
                        sys("revenue", *currency),
                        *backorder,
                    ),
                    Req::Charge { backorder, .. } => (
                        TransferKind::Charge,
                        account.clone(),
                        sys("revenue", *currency),
                        *backorder,
                    ),
                    _ => (
                        TransferKind::Payout,
                        account.clone(),
                        sys("payout", *currency),
                        req_backorder(req),
                    ),
                };
                if kind != TransferKind::Fund
                    && self.customers.contains_key(account)
                    && self.totals(account).available() < *amount
                {
                    errors.push(ErrorCode::InsufficientFunds);
                }
                Transfer {
                    id,
                    key: key.clone().into(),
                    kind,
                    debit: debit.into(),
                    credit: credit.into(),
                    amount: *amount,
                    currency: *currency,
                    pending_id: None,
                    backorder,
                    at: NOW,
                }
            }
            Req::Capture {
                key, reservation, ..
            }
            | Req::Release { key, reservation } => {
                let Some(r) = self.reservations.get(reservation) else {
                    return Expect::Fail(vec![ErrorCode::ReservationNotFound]);
                };
                if r.state != ReservationState::Pending {
                    errors.push(ErrorCode::ReservationResolved);
                }
                let (kind, amount) = match req {
                    Req::Capture { amount, .. } => {
                        if !valid_amount(*amount) {
                            errors.push(ErrorCode::InvalidAmount);
                        }
                        if *amount > r.amount {
                            errors.push(ErrorCode::CaptureExceedsReservation);
                        }
                        (TransferKind::Capture, *amount)
                    }
                    _ => (TransferKind::Release, r.amount),
                };
                Transfer {
                    id,
                    key: key.clone().into(),
                    kind,
                    debit: r.account.clone().into(),
                    credit: r.credit.clone().into(),
                    amount,
                    currency: r.currency,
                    pending_id: Some(*reservation),
                    backorder: r.backorder,
                    at: NOW,
                }
            }
        };
        if errors.is_empty() {
            Expect::Create(transfer)
        } else {
            Expect::Fail(errors)
        }
    }

    /// Books a transfer the model predicted.
    fn apply(&mut self, req: &Req, t: &Transfer) {
        let a = t.amount;
        match t.kind {
            TransferKind::Fund | TransferKind::Charge | TransferKind::Payout => {
                self.accounts
                    .entry(t.debit.to_string())
                    .or_default()
                    .debits_posted += a;
                self.accounts
                    .entry(t.credit.to_string())
                    .or_default()
                    .credits_posted += a;
            }
            TransferKind::Reserve => {
                self.accounts
                    .entry(t.debit.to_string())
                    .or_default()
                    .debits_pending += a;
                self.accounts
                    .entry(t.credit.to_string())
                    .or_default()
                    .credits_pending += a;
                self.reservations.insert(
                    t.id,
                    ModelReservation {
                        account: t.debit.to_string(),
                        credit: t.credit.to_string(),
                        amount: a,
                        currency: t.currency,
                        backorder: t.backorder,
                        state: ReservationState::Pending,
                        resolved_by: None,
                    },
                );
            }
            TransferKind::Capture | TransferKind::Release => {
                let r = self
                    .reservations
                    .get_mut(&t.pending_id.expect("resolves a reservation"))
                    .expect("known reservation");
                let posted = if t.kind == TransferKind::Capture {
                    r.state = ReservationState::Captured { amount: a };
                    a
                } else {
                    r.state = ReservationState::Released;
                    Decimal::ZERO
                };
                r.resolved_by = Some(t.id);
                let held = r.amount;
                let d = self.accounts.entry(t.debit.to_string()).or_default();
                d.debits_pending -= held;
                d.debits_posted += posted;
                let c = self.accounts.entry(t.credit.to_string()).or_default();
                c.credits_pending -= held;
                c.credits_posted += posted;
            }
        }
        self.journal_len += 1;
        self.done
            .insert(req.key().to_string(), (req.clone(), t.clone()));
    }
}

fn req_backorder(req: &Req) -> Option<u64> {
    match req {
        Req::Reserve { backorder, .. }
        | Req::Charge { backorder, .. }
        | Req::Payout { backorder, .. } => *backorder,
        _ => None,
    }
}

// ------------------------------------------------------------------------------------------------
// Random operations
// ------------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum KeySel {
    /// A key never used before.
    Fresh,
    /// One of a few shared keys, so that unrelated requests collide.
    Pool(u8),
}

#[derive(Clone, Debug)]
enum ResSel {
    /// One of the reservations made so far.
    Known(Index),
    /// Some id: often a transfer that is not a reservation, or nothing at all.
    Id(u64),
}

#[derive(Clone, Debug)]
enum CaptureAmount {
    Exact(Decimal),
    /// `n` quarters of the reservation, rounded to cents (5 quarters is too much).
    Quarters(u8),
}

/// The amount of a deposit, charge or payout.
#[derive(Clone, Debug)]
enum Spend {
    Amount(Decimal),
    /// Exactly the available balance (at the edge of `InsufficientFunds`).
    Available,
    /// One cent more than the available balance.
    AvailablePlusCent,
}

#[derive(Clone, Debug)]
enum Op {
    Fund(KeySel, usize, Decimal, bool),
    Reserve(KeySel, usize, Spend, bool),
    Charge(KeySel, usize, Spend, bool),
    Payout(KeySel, usize, Spend, bool),
    Capture(KeySel, ResSel, CaptureAmount),
    Release(KeySel, ResSel),
    /// Repeats an earlier successful request exactly.
    Repeat(Index),
    /// Repeats an earlier successful request's key with one field changed.
    RepeatChanged(Index, Change),
    /// Opens an existing customer again.
    Reopen(usize),
    /// Runs the ops in `begin` … `rollback`.
    RolledBack(Vec<Op>),
    /// Runs the ops in `begin` … `commit`.
    Committed(Vec<Op>),
}

fn key_sel() -> impl Strategy<Value = KeySel> {
    prop_oneof![10 => Just(KeySel::Fresh), 1 => (0u8..6).prop_map(KeySel::Pool)]
}

/// 0..4 are the customers, 4 is the account that does not exist.
fn account_sel() -> impl Strategy<Value = usize> {
    prop_oneof![12 => 0usize..4, 1 => Just(4usize)]
}

/// `true` most of the time: the account's own currency.
fn own_currency() -> impl Strategy<Value = bool> {
    prop::bool::weighted(0.92)
}

/// Mostly valid amounts with up to 2 decimals, up to `max_cents`, and now and then zero, a
/// negative amount, one with 4 decimals or one with 5.
fn amount_up_to(max_cents: i64) -> impl Strategy<Value = Decimal> {
    prop_oneof![
        16 => (1i64..=max_cents).prop_map(|c| Decimal::new(c, 2)),
        3 => (1i64..=max_cents / 100).prop_map(Decimal::from),
        1 => (1i64..=100).prop_map(|c| Decimal::new(c, 4)),
        1 => Just(Decimal::ZERO),
        1 => (1i64..=10_000).prop_map(|c| Decimal::new(-c, 2)),
        1 => (0i64..100_000).prop_map(|c| Decimal::new(c * 10 + 1, 5)),
    ]
}

/// Top-ups: up to 400.00.
fn fund_amount() -> impl Strategy<Value = Decimal> {
    amount_up_to(40_000)
}

/// Deposits, charges and payouts: mostly up to 60.00, sometimes up to 1000.00 (more than any
/// balance is likely to be).
fn amount() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        9 => amount_up_to(6_000),
        1 => amount_up_to(100_000),
    ]
}

fn spend() -> impl Strategy<Value = Spend> {
    prop_oneof![
        12 => amount().prop_map(Spend::Amount),
        1 => Just(Spend::Available),
        1 => Just(Spend::AvailablePlusCent),
    ]
}

fn res_sel() -> impl Strategy<Value = ResSel> {
    prop_oneof![
        16 => any::<Index>().prop_map(ResSel::Known),
        1 => (1u64..64).prop_map(ResSel::Id),
        1 => Just(ResSel::Id(NO_SUCH_RESERVATION)),
    ]
}

fn capture_amount() -> impl Strategy<Value = CaptureAmount> {
    prop_oneof![
        2 => amount().prop_map(CaptureAmount::Exact),
        3 => (1u8..=5).prop_map(CaptureAmount::Quarters),
    ]
}

fn change() -> impl Strategy<Value = Change> {
    prop::sample::select(CHANGES.to_vec())
}

fn simple_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (key_sel(), account_sel(), fund_amount(), own_currency())
            .prop_map(|(k, a, m, c)| Op::Fund(k, a, m, c)),
        6 => (key_sel(), account_sel(), spend(), own_currency())
            .prop_map(|(k, a, m, c)| Op::Reserve(k, a, m, c)),
        2 => (key_sel(), account_sel(), spend(), own_currency())
            .prop_map(|(k, a, m, c)| Op::Charge(k, a, m, c)),
        2 => (key_sel(), account_sel(), spend(), own_currency())
            .prop_map(|(k, a, m, c)| Op::Payout(k, a, m, c)),
        4 => (key_sel(), res_sel(), capture_amount()).prop_map(|(k, r, m)| Op::Capture(k, r, m)),
        3 => (key_sel(), res_sel()).prop_map(|(k, r)| Op::Release(k, r)),
        2 => any::<Index>().prop_map(Op::Repeat),
        2 => (any::<Index>(), change()).prop_map(|(i, c)| Op::RepeatChanged(i, c)),
        1 => (0usize..4).prop_map(Op::Reopen),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        14 => simple_op(),
        1 => vec(simple_op(), 1..8).prop_map(Op::RolledBack),
        1 => vec(simple_op(), 1..8).prop_map(Op::Committed),
    ]
}

/// A few top-ups first (sometimes none: accounts start at zero), then anything.
fn ops() -> impl Strategy<Value = Vec<Op>> {
    let top_up =
        (account_sel(), fund_amount()).prop_map(|(a, m)| Op::Fund(KeySel::Fresh, a, m, true));
    (vec(top_up, 0..8), vec(op(), 1..40)).prop_map(|(mut first, rest)| {
        first.extend(rest);
        first
    })
}

// ------------------------------------------------------------------------------------------------
// The harness: a store, the model, and the checks that they agree
// ------------------------------------------------------------------------------------------------

/// Everything observable in the ledger tables.
#[derive(Debug, PartialEq)]
struct Snapshot {
    accounts: Vec<LedgerAccount>,
    transfers: Vec<Transfer>,
    reservations: Vec<Reservation>,
    balances: Vec<Result<Balance, ErrorCode>>,
    /// Every key ever used that finds a transfer.
    by_key: BTreeMap<String, Transfer>,
}

#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Created(Transfer),
    Replayed(Transfer),
    Failed(ErrorCode),
}

/// The part of the harness a rollback restores.
#[derive(Clone)]
struct State {
    model: Model,
    /// Successful requests, for repeats.
    history: Vec<Req>,
    fresh: u64,
}

struct Harness {
    store: MemoryStore,
    st: State,
    /// Every key ever used, kept across rollbacks.
    issued: BTreeSet<String>,
    in_tx: bool,
    /// Requests run since the caller last drained it.
    log: Vec<(Req, Outcome)>,
}

impl Harness {
    fn new() -> Harness {
        let mut store = MemoryStore::new();
        for (a, c) in CUSTOMERS {
            ledger::open_customer(&mut store, a, c).expect("open customer");
        }
        Harness {
            store,
            st: State {
                model: Model::new(),
                history: Vec::new(),
                fresh: 0,
            },
            issued: BTreeSet::new(),
            in_tx: false,
            log: Vec::new(),
        }
    }

    fn fresh_key(&mut self) -> String {
        self.st.fresh += 1;
        format!("fresh-{}", self.st.fresh)
    }

    fn key(&mut self, k: &KeySel) -> String {
        match k {
            KeySel::Fresh => self.fresh_key(),
            KeySel::Pool(n) => format!("pool-{n}"),
        }
    }

    fn snapshot(&mut self) -> Snapshot {
        let s = &mut self.store;
        let accounts = s.ledger_accounts_after(None, usize::MAX).unwrap();
        let transfers = s.transfers_after(0, usize::MAX).unwrap();
        let reservations = s.reservations_after(0, usize::MAX).unwrap();
        let balances = CUSTOMERS
            .iter()
            .map(|(a, _)| *a)
            .chain([GHOST])
            .map(|a| ledger::balance(s, a).map_err(|e| e.code()))
            .collect();
        let by_key = self
            .issued
            .iter()
            .filter_map(|k| Some((k.clone(), s.transfer_by_key(k).unwrap()?)))
            .collect();
        Snapshot {
            accounts,
            transfers,
            reservations,
            balances,
            by_key,
        }
    }

    /// Runs one request, checks the outcome the model predicts, and that a request that creates
    /// nothing leaves every table as it was.
    fn request(&mut self, req: Req) -> Result<Outcome, TestCaseError> {
        self.issued.insert(req.key().to_string());
        let expect = self.st.model.expect(&req);
        let before = match expect {
            Expect::Create(_) => None,
            _ => Some(self.snapshot()),
        };
        let got = req.run(&mut self.store);
        let outcome = match (expect, got) {
            (Expect::Create(want), Ok(t)) => {
                prop_assert_eq!(&t, &want, "{:?} created the wrong transfer", req);
                self.st.model.apply(&req, &t);
                self.st.history.push(req.clone());
                Outcome::Created(t)
            }
            (Expect::Replay(first), Ok(t)) => {
                prop_assert_eq!(
                    &t,
                    &first,
                    "{:?}: a repeat must return the first result",
                    req
                );
                Outcome::Replayed(t)
            }
            (Expect::Conflict, Err(e)) => {
                prop_assert_eq!(e.code(), ErrorCode::IdempotencyConflict, "{:?}: {}", req, e);
                Outcome::Failed(e.code())
            }
            (Expect::Fail(codes), Err(e)) => {
                prop_assert!(
                    codes.contains(&e.code()),
                    "{:?} failed with {:?} ({}), expected one of {:?}",
                    req,
                    e.code(),
                    e,
                    codes
                );
                Outcome::Failed(e.code())
            }
            (expect, got) => {
                return Err(TestCaseError::fail(format!(
                    "{req:?}: expected {expect:?}, got {got:?}"
                )))
            }
        };
        if let Some(before) = before {
            let after = self.snapshot();
            prop_assert!(
                after == before,
                "{:?} ({:?}) changed the store:\nbefore {:?}\nafter  {:?}",
                req,
                outcome,
                before,
                after
            );
        }
        self.check_model()?;
        self.log.push((req, outcome.clone()));
        Ok(outcome)
    }

    fn account_op(&mut self, k: &KeySel, a: usize, own: bool) -> (String, String, Currency) {
        let key = self.key(k);
        let (account, cur) = CUSTOMERS.get(a).copied().unwrap_or((GHOST, USD));
        let cur = if own { cur } else { other_currency(cur) };
        (key, account.to_string(), cur)
    }

    fn spend(&self, a: usize, s: &Spend) -> Decimal {
        let available = CUSTOMERS
            .get(a)
            .map_or(dec!(1), |(a, _)| self.st.model.totals(a).available());
        match s {
            Spend::Amount(m) => *m,
            Spend::Available => available,
            Spend::AvailablePlusCent => available + dec!(0.01),
        }
    }

    fn reservation(&self, r: &ResSel) -> u64 {
        match r {
            ResSel::Id(id) => *id,
            ResSel::Known(ix) => {
                let ids: Vec<u64> = self.st.model.reservations.keys().copied().collect();
                if ids.is_empty() {
                    NO_SUCH_RESERVATION
                } else {
                    *ix.get(&ids)
                }
            }
        }
    }

    fn op(&mut self, op: &Op) -> TestResult {
        match op {
            Op::Fund(k, a, amount, own) => {
                let (key, account, currency) = self.account_op(k, *a, *own);
                self.request(Req::Fund {
                    key,
                    account,
                    amount: *amount,
                    currency,
                })?;
            }
            Op::Reserve(k, a, spend, own) => {
                let amount = self.spend(*a, spend);
                let (key, account, currency) = self.account_op(k, *a, *own);
                let backorder = Some(backorder_of(&key));
                self.request(Req::Reserve {
                    key,
                    account,
                    amount,
                    currency,
                    backorder,
                })?;
            }
            Op::Charge(k, a, spend, own) => {
                let amount = self.spend(*a, spend);
                let (key, account, currency) = self.account_op(k, *a, *own);
                let backorder = Some(backorder_of(&key));
                self.request(Req::Charge {
                    key,
                    account,
                    amount,
                    currency,
                    backorder,
                })?;
            }
            Op::Payout(k, a, spend, own) => {
                let amount = self.spend(*a, spend);
                let (key, account, currency) = self.account_op(k, *a, *own);
                self.request(Req::Payout {
                    key,
                    account,
                    amount,
                    currency,
                    backorder: None,
                })?;
            }
            Op::Capture(k, r, amount) => {
                let key = self.key(k);
                let reservation = self.reservation(r);
                let amount = match amount {
                    CaptureAmount::Exact(a) => *a,
                    CaptureAmount::Quarters(n) => self
                        .st
                        .model
                        .reservations
                        .get(&reservation)
                        .map_or(dec!(1), |r| {
                            (r.amount * Decimal::from(*n) / dec!(4)).round_dp(2)
                        }),
                };
                self.request(Req::Capture {
                    key,
                    reservation,
                    amount,
                })?;
            }
            Op::Release(k, r) => {
                let key = self.key(k);
                let reservation = self.reservation(r);
                self.request(Req::Release { key, reservation })?;
            }
            Op::Repeat(ix) => {
                if !self.st.history.is_empty() {
                    let req = ix.get(&self.st.history).clone();
                    self.request(req)?;
                }
            }
            Op::RepeatChanged(ix, change) => {
                if !self.st.history.is_empty() {
                    let req = ix.get(&self.st.history).changed(*change);
                    self.request(req)?;
                }
            }
            Op::Reopen(a) => {
                let (account, cur) = CUSTOMERS[*a];
                let before = self.snapshot();
                let e = ledger::open_customer(&mut self.store, account, cur)
                    .expect_err("reopening must fail");
                prop_assert_eq!(e.code(), ErrorCode::AccountExists);
                prop_assert!(self.snapshot() == before, "a failed open changed the store");
            }
            Op::RolledBack(inner) | Op::Committed(inner) if self.in_tx => {
                for o in inner {
                    self.op(o)?;
                }
            }
            Op::RolledBack(inner) => {
                let saved = self.st.clone();
                let before = self.snapshot();
                self.store.begin().unwrap();
                self.in_tx = true;
                for o in inner {
                    self.op(o)?;
                }
                self.store.rollback().unwrap();
                self.in_tx = false;
                // Restoring the key counter too makes later requests reuse the rolled-back keys,
                // which must be free again.
                self.st = saved;
                let after = self.snapshot();
                prop_assert!(
                    after == before,
                    "rollback left changes:\nbefore {:?}\nafter  {:?}",
                    before,
                    after
                );
                self.check_model()?;
            }
            Op::Committed(inner) => {
                self.store.begin().unwrap();
                self.in_tx = true;
                for o in inner {
                    self.op(o)?;
                }
                self.store.commit().unwrap();
                self.in_tx = false;
                self.check_model()?;
            }
        }
        Ok(())
    }

    /// The store agrees with the model: every account's totals, every reservation, the journal's
    /// length and last entry, every customer's balance.
    fn check_model(&mut self) -> TestResult {
        let m = &self.st.model;
        let s = &mut self.store;
        let stored: HashMap<String, Totals> = s
            .ledger_accounts_after(None, usize::MAX)
            .unwrap()
            .into_iter()
            .map(|a| {
                (
                    a.key.to_string(),
                    Totals {
                        debits_pending: a.debits_pending,
                        debits_posted: a.debits_posted,
                        credits_pending: a.credits_pending,
                        credits_posted: a.credits_posted,
                    },
                )
            })
            .collect();
        prop_assert_eq!(&stored, &m.accounts, "account totals differ from the model");
        let reservations: BTreeMap<u64, ModelReservation> = s
            .reservations_after(0, usize::MAX)
            .unwrap()
            .into_iter()
            .map(|r| {
                (
                    r.id,
                    ModelReservation {
                        account: r.account.to_string(),
                        credit: r.credit.to_string(),
                        amount: r.amount,
                        currency: r.currency,
                        backorder: r.backorder,
                        state: r.state,
                        resolved_by: r.resolved_by,
                    },
                )
            })
            .collect();
        prop_assert_eq!(&reservations, &m.reservations, "reservations differ");
        let journal = s.transfers_after(0, usize::MAX).unwrap();
        prop_assert_eq!(journal.len() as u64, m.journal_len, "journal length");
        if let Some(last) = journal.last() {
            prop_assert_eq!(Some(last), m.done.get(last.key.as_str()).map(|(_, t)| t));
        }
        for (a, c) in CUSTOMERS {
            let b = ledger::balance(s, a).unwrap();
            let t = m.totals(a);
            prop_assert_eq!(b.currency, c);
            prop_assert_eq!(b.balance, t.credits_posted - t.debits_posted);
            prop_assert_eq!(b.reserved, t.debits_pending);
            prop_assert_eq!(b.available, t.available());
        }
        Ok(())
    }

    /// The whole journal agrees with the model, every key finds its first transfer, and the
    /// auditor finds nothing.
    fn check_all(&mut self) -> TestResult {
        self.check_model()?;
        let journal = self.store.transfers_after(0, usize::MAX).unwrap();
        let mut want: Vec<Transfer> = self
            .st
            .model
            .done
            .values()
            .map(|(_, t)| t.clone())
            .collect();
        want.sort_by_key(|t| t.id);
        prop_assert_eq!(&journal, &want, "journal differs from the model");
        for (i, t) in journal.iter().enumerate() {
            prop_assert_eq!(t.id, i as u64 + 1, "journal ids are dense from 1");
            let found = self.store.transfer_by_key(&t.key).unwrap();
            prop_assert_eq!(found.as_ref(), Some(t));
        }
        for key in &self.issued {
            let found = self.store.transfer_by_key(key).unwrap();
            let want = self.st.model.done.get(key).map(|(_, t)| t.clone());
            prop_assert_eq!(found, want, "key {}", key);
        }
        let report = audit(&mut self.store).unwrap();
        prop_assert!(report.is_clean(), "audit: {:?}", report.problems);
        Ok(())
    }
}

fn backorder_of(key: &str) -> u64 {
    key.bytes()
        .fold(17u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
}

/// Sums over every ledger account, read page by page (small pages, to walk the paging too).
fn ledger_accounts(s: &mut MemoryStore) -> Vec<LedgerAccount> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = s.ledger_accounts_after(after.as_deref(), 3).unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.key.to_string());
        all.extend(page);
    }
    all
}

// ------------------------------------------------------------------------------------------------
// Properties, one per invariant of SPEC §4
// ------------------------------------------------------------------------------------------------

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

proptest! {
    #![proptest_config(config())]

    /// (a) A customer's available balance never goes below zero (nor its balance or reserved).
    #[test]
    fn prop_available_never_negative(ops in ops()) {
        let mut h = Harness::new();
        for op in &ops {
            h.op(op)?;
            for (a, _) in CUSTOMERS {
                let b = ledger::balance(&mut h.store, a).unwrap();
                prop_assert!(b.available >= Decimal::ZERO, "{:?}", b);
                prop_assert!(b.reserved >= Decimal::ZERO, "{:?}", b);
                prop_assert!(b.balance >= b.reserved, "{:?}", b);
            }
        }
        h.check_all()?;
    }

    /// (b) Reserved equals the sum of the account's open reservations.
    #[test]
    fn prop_reserved_is_sum_of_open_reservations(ops in ops()) {
        let mut h = Harness::new();
        for op in &ops {
            h.op(op)?;
            let mut open: HashMap<String, Decimal> = HashMap::new();
            for r in h.store.reservations_after(0, usize::MAX).unwrap() {
                if r.state == ReservationState::Pending {
                    *open.entry(r.account.to_string()).or_default() += r.amount;
                }
            }
            for a in ledger_accounts(&mut h.store) {
                let want = open.get(a.key.as_str()).copied().unwrap_or_default();
                prop_assert_eq!(a.reserved(), want, "account {}", a.key);
            }
        }
        h.check_all()?;
    }

    /// (c) Total debits equal total credits, pending and posted, in every currency.
    #[test]
    fn prop_debits_equal_credits(ops in ops()) {
        let mut h = Harness::new();
        for op in &ops {
            h.op(op)?;
            let mut by_currency: HashMap<Currency, Totals> = HashMap::new();
            let (mut debits, mut credits) = (Decimal::ZERO, Decimal::ZERO);
            for a in ledger_accounts(&mut h.store) {
                let t = by_currency.entry(a.currency).or_default();
                t.debits_pending += a.debits_pending;
                t.debits_posted += a.debits_posted;
                t.credits_pending += a.credits_pending;
                t.credits_posted += a.credits_posted;
                debits += a.debits_pending + a.debits_posted;
                credits += a.credits_pending + a.credits_posted;
            }
            prop_assert_eq!(debits, credits);
            for (c, t) in by_currency {
                prop_assert_eq!(t.debits_pending, t.credits_pending, "pending in {}", c);
                prop_assert_eq!(t.debits_posted, t.credits_posted, "posted in {}", c);
            }
        }
        h.check_all()?;
    }

    /// (d) A reservation resolves at most once: once captured or released, a capture or release
    /// under a new key is `ReservationResolved` and changes nothing.
    #[test]
    fn prop_reservation_resolves_at_most_once(ops in ops()) {
        let mut h = Harness::new();
        for op in &ops {
            h.op(op)?;
            let resolved: BTreeSet<u64> = h
                .log
                .drain(..)
                .filter_map(|(_, o)| match o {
                    Outcome::Created(t) | Outcome::Replayed(t) => t.pending_id,
                    Outcome::Failed(_) => None,
                })
                .collect();
            for id in resolved {
                let Some(r) = h.store.reservation(id).unwrap() else { continue };
                if r.state == ReservationState::Pending {
                    continue; // resolved inside a transaction that was rolled back
                }
                let key = h.fresh_key();
                let o = h.request(Req::Capture { key, reservation: id, amount: dec!(0.01) })?;
                prop_assert_eq!(o, Outcome::Failed(ErrorCode::ReservationResolved));
                let key = h.fresh_key();
                let o = h.request(Req::Release { key, reservation: id })?;
                prop_assert_eq!(o, Outcome::Failed(ErrorCode::ReservationResolved));
            }
            let mut resolutions: HashMap<u64, usize> = HashMap::new();
            for t in h.store.transfers_after(0, usize::MAX).unwrap() {
                if let Some(p) = t.pending_id {
                    *resolutions.entry(p).or_default() += 1;
                }
            }
            prop_assert!(resolutions.values().all(|n| *n == 1), "{:?}", resolutions);
        }
        h.check_all()?;
    }

    /// (e) A repeat with the same fields returns the identical transfer and changes nothing; a
    /// repeat with any field changed is `IdempotencyConflict` and changes nothing.
    #[test]
    fn prop_idempotent_repeats(ops in ops()) {
        let mut h = Harness::new();
        for op in &ops {
            h.op(op)?;
            let created: Vec<(Req, Transfer)> = h
                .log
                .drain(..)
                .filter_map(|(r, o)| match o {
                    Outcome::Created(t) => Some((r, t)),
                    _ => None,
                })
                .collect();
            for (req, t) in created {
                if h.store.transfer_by_key(&t.key).unwrap().as_ref() != Some(&t) {
                    continue; // created inside a transaction that was rolled back
                }
                let before = h.snapshot();
                let again = req.run(&mut h.store);
                prop_assert_eq!(again.as_ref(), Ok(&t), "repeat of {:?}", req);
                prop_assert!(h.snapshot() == before, "a repeat changed the store");
                for change in CHANGES {
                    let other = req.changed(change);
                    let got = other.run(&mut h.store);
                    prop_assert_eq!(
                        got.as_ref().map_err(Error::code),
                        Err(ErrorCode::IdempotencyConflict),
                        "{:?} after {:?}", other, req
                    );
                    prop_assert!(h.snapshot() == before, "a conflicting repeat changed the store");
                }
            }
        }
        h.check_all()?;
    }

    /// (f) Every failing operation changes nothing, and leaks no journal id: the next transfer
    /// still gets the next id.
    #[test]
    fn prop_failed_operations_change_nothing(ops in ops()) {
        let mut h = Harness::new();
        for op in &ops {
            let before = h.snapshot();
            h.op(op)?;
            let log: Vec<(Req, Outcome)> = h.log.drain(..).collect();
            let only_failures = log.iter().all(|(_, o)| !matches!(o, Outcome::Created(_)));
            if only_failures {
                prop_assert!(h.snapshot() == before, "failures changed the store: {:?}", log);
            }
        }
        // Nothing leaked a journal id: a new transfer gets the next one.
        let key = h.fresh_key();
        let next = h.st.model.journal_len + 1;
        let o = h.request(Req::Fund {
            key,
            account: "alice".into(),
            amount: dec!(1),
            currency: USD,
        })?;
        prop_assert!(matches!(o, Outcome::Created(ref t) if t.id == next), "{:?}", o);
        h.check_all()?;
    }

    /// (g) The auditor finds nothing, after every step and at the end.
    #[test]
    fn prop_audit_clean(ops in ops()) {
        let mut h = Harness::new();
        for op in &ops {
            h.op(op)?;
            let report = audit(&mut h.store).unwrap();
            prop_assert!(report.is_clean(), "after {:?}: {:?}", op, report.problems);
            prop_assert_eq!(report.transfers, h.st.model.journal_len);
            prop_assert_eq!(report.total_debits, report.total_credits);
        }
        h.check_all()?;
    }

    /// (h) Rollback restores everything: a run of operations inside begin … rollback leaves the
    /// store exactly as it was, and running the same operations again afterwards gives the very
    /// same results, journal ids included.
    #[test]
    fn prop_rollback_restores_everything(prefix in ops(), body in vec(simple_op(), 1..24)) {
        let mut h = Harness::new();
        for op in &prefix {
            h.op(op)?;
        }
        h.log.clear();
        let before = h.snapshot();
        let saved = h.st.clone();
        h.store.begin().unwrap();
        h.in_tx = true;
        for op in &body {
            h.op(op)?;
        }
        h.store.rollback().unwrap();
        h.in_tx = false;
        let inside: Vec<(Req, Outcome)> = h.log.drain(..).collect();
        h.st = saved;
        let after = h.snapshot();
        prop_assert!(after == before, "rollback left changes:\nbefore {:?}\nafter  {:?}", before, after);
        h.check_all()?;
        for op in &body {
            h.op(op)?;
        }
        let outside: Vec<(Req, Outcome)> = h.log.drain(..).collect();
        prop_assert_eq!(inside, outside, "the same operations after the rollback differ");
        h.check_all()?;
    }
}

// ------------------------------------------------------------------------------------------------
// Every error path, with its exact code
// ------------------------------------------------------------------------------------------------

fn usd(a: Decimal) -> Money {
    Money::new(a, USD)
}

fn eur(a: Decimal) -> Money {
    Money::new(a, EUR)
}

fn code<T: std::fmt::Debug>(r: Result<T, Error>) -> ErrorCode {
    r.expect_err("the call must fail").code()
}

/// alice (USD) with 100.00, bob (USD) with nothing, dave (EUR) with 50.00.
fn store() -> MemoryStore {
    let mut s = MemoryStore::new();
    ledger::open_customer(&mut s, "alice", USD).unwrap();
    ledger::open_customer(&mut s, "bob", USD).unwrap();
    ledger::open_customer(&mut s, "dave", EUR).unwrap();
    ledger::fund(&mut s, "setup-alice", "alice", &usd(dec!(100.00)), NOW).unwrap();
    ledger::fund(&mut s, "setup-dave", "dave", &eur(dec!(50.00)), NOW).unwrap();
    s
}

/// Everything in the ledger tables, to show a failed call changed nothing.
fn tables(s: &mut MemoryStore) -> (Vec<LedgerAccount>, Vec<Transfer>, Vec<Reservation>) {
    (
        s.ledger_accounts_after(None, usize::MAX).unwrap(),
        s.transfers_after(0, usize::MAX).unwrap(),
        s.reservations_after(0, usize::MAX).unwrap(),
    )
}

fn bal(s: &mut MemoryStore, account: &str) -> (Decimal, Decimal, Decimal) {
    let b = ledger::balance(s, account).unwrap();
    (b.balance, b.reserved, b.available)
}

/// Asserts that `f` fails with `want` and leaves every ledger table as it was.
fn fails_cleanly<T: std::fmt::Debug>(
    s: &mut MemoryStore,
    want: ErrorCode,
    f: impl FnOnce(&mut MemoryStore) -> Result<T, Error>,
) {
    let before = tables(s);
    let got = code(f(s));
    assert_eq!(got, want);
    assert_eq!(tables(s), before, "a failed {want:?} changed the ledger");
}

#[test]
fn invalid_amount_zero() {
    let mut s = store();
    let r = ledger::reserve(&mut s, "r", "alice", &usd(dec!(10)), None, NOW).unwrap();
    let zero = dec!(0.00);
    fails_cleanly(&mut s, ErrorCode::InvalidAmount, |s| {
        ledger::fund(s, "k1", "alice", &usd(zero), NOW)
    });
    fails_cleanly(&mut s, ErrorCode::InvalidAmount, |s| {
        ledger::reserve(s, "k2", "alice", &usd(zero), None, NOW)
    });
    fails_cleanly(&mut s, ErrorCode::InvalidAmount, |s| {
        ledger::charge(s, "k3", "alice", &usd(zero), None, NOW)
    });
    fails_cleanly(&mut s, ErrorCode::InvalidAmount, |s| {
        ledger::payout(s, "k4", "alice", &usd(zero), None, NOW)
    });
    fails_cleanly(&mut s, ErrorCode::InvalidAmount, |s| {
        ledger::capture(s, "k5", r.id, zero, NOW)
    });
}

#[test]
fn invalid_amount_negative() {
    let mut s = store();
    let r = ledger::reserve(&mut s, "r", "alice", &usd(dec!(10)), None, NOW).unwrap();
    let neg = dec!(-5.00);
    fails_cleanly(&mut s, ErrorCode::InvalidAmount, |s| {
        ledger::fund(s, "k1", "alice", &usd(neg), NOW)
    });
    fails_cleanly(&mut s, ErrorCode::InvalidAmount, |s| {
        ledger::reserve(s, "k2", "alice", &usd(neg), None, NOW)
    });
    fails_cleanly(&mut s, ErrorCode::InvalidAmount, |s| {
        ledger::charge(s, "k3", "alice", &usd(neg), None, NOW)
    });
    fails_cleanly(&mut s, ErrorCode::InvalidAmount, |s| {
        ledger::payout(s, "k4", "alice", &usd(neg), None, NOW)
    });
    fails_cleanly(&mut s, ErrorCode::InvalidAmount, |s| {
        ledger::capture(s, "k5", r.id, neg, NOW)
    });
}

#[test]
fn invalid_amount_more_than_four_decimals() {
    let mut s = store();
    let r = ledger::reserve(&mut s, "r", "alice", &usd(dec!(10)), None, NOW).unwrap();
    let fine = dec!(0.00001);
    fails_cleanly(&mut s, ErrorCode::InvalidAmount, |s| {
        ledger::fund(s, "k1", "alice", &usd(fine), NOW)
    });
    fails_cleanly(&mut s, ErrorCode::InvalidAmount, |s| {
        ledger::reserve(s, "k2", "alice", &usd(dec!(1.23456)), None, NOW)
    });
    fails_cleanly(&mut s, ErrorCode::InvalidAmount, |s| {
        ledger::charge(s, "k3", "alice", &usd(fine), None, NOW)
    });
    fails_cleanly(&mut s, ErrorCode::InvalidAmount, |s| {
        ledger::payout(s, "k4", "alice", &usd(fine), None, NOW)
    });
    fails_cleanly(&mut s, ErrorCode::InvalidAmount, |s| {
        ledger::capture(s, "k5", r.id, dec!(9.99999), NOW)
    });
}

#[test]
fn four_decimals_and_trailing_zeros_are_accepted() {
    let mut s = store();
    ledger::fund(&mut s, "k1", "bob", &usd(dec!(0.0001)), NOW).unwrap();
    // Only significant decimals count: 1.00000 is one dollar.
    ledger::fund(&mut s, "k2", "bob", &usd(dec!(1.00000)), NOW).unwrap();
    assert_eq!(bal(&mut s, "bob"), (dec!(1.0001), dec!(0), dec!(1.0001)));
    assert!(audit(&mut s).unwrap().is_clean());
}

#[test]
fn currency_mismatch() {
    let mut s = store();
    fails_cleanly(&mut s, ErrorCode::CurrencyMismatch, |s| {
        ledger::fund(s, "k1", "alice", &eur(dec!(10)), NOW)
    });
    fails_cleanly(&mut s, ErrorCode::CurrencyMismatch, |s| {
        ledger::reserve(s, "k2", "alice", &eur(dec!(10)), None, NOW)
    });
    fails_cleanly(&mut s, ErrorCode::CurrencyMismatch, |s| {
        ledger::charge(s, "k3", "alice", &eur(dec!(10)), None, NOW)
    });
    fails_cleanly(&mut s, ErrorCode::CurrencyMismatch, |s| {
        ledger::payout(s, "k4", "dave", &usd(dec!(10)), None, NOW)
    });
}

#[test]
fn account_not_found() {
    let mut s = store();
    fails_cleanly(&mut s, ErrorCode::AccountNotFound, |s| {
        ledger::fund(s, "k1", "nobody", &usd(dec!(10)), NOW)
    });
    fails_cleanly(&mut s, ErrorCode::AccountNotFound, |s| {
        ledger::reserve(s, "k2", "nobody", &usd(dec!(10)), None, NOW)
    });
    fails_cleanly(&mut s, ErrorCode::AccountNotFound, |s| {
        ledger::charge(s, "k3", "nobody", &usd(dec!(10)), None, NOW)
    });
    fails_cleanly(&mut s, ErrorCode::AccountNotFound, |s| {
        ledger::payout(s, "k4", "nobody", &usd(dec!(10)), None, NOW)
    });
    fails_cleanly(&mut s, ErrorCode::AccountNotFound, |s| {
        ledger::balance(s, "nobody")
    });
    // The ledger's own accounts are not customers.
    fails_cleanly(&mut s, ErrorCode::AccountNotFound, |s| {
        ledger::balance(s, "@funding:USD")
    });
    fails_cleanly(&mut s, ErrorCode::AccountNotFound, |s| {
        ledger::fund(s, "k5", "@revenue:USD", &usd(dec!(10)), NOW)
    });
    fails_cleanly(&mut s, ErrorCode::AccountNotFound, |s| {
        ledger::charge(s, "k6", "@funding:USD", &usd(dec!(10)), None, NOW)
    });
}

#[test]
fn account_exists() {
    let mut s = store();
    fails_cleanly(&mut s, ErrorCode::AccountExists, |s| {
        ledger::open_customer(s, "alice", USD)
    });
    fails_cleanly(&mut s, ErrorCode::AccountExists, |s| {
        ledger::open_customer(s, "alice", EUR)
    });
    assert_eq!(bal(&mut s, "alice"), (dec!(100), dec!(0), dec!(100)));
}

#[test]
fn open_customer_rejects_bad_ids() {
    let mut s = store();
    for bad in ["", "@funding:USD", "has space", &"x".repeat(65)] {
        fails_cleanly(&mut s, ErrorCode::InvalidArgument, |s| {
            ledger::open_customer(s, bad, USD)
        });
    }
    ledger::open_customer(&mut s, &"x".repeat(64), USD).unwrap();
}

#[test]
fn accounts_start_at_zero() {
    let mut s = store();
    let b = ledger::balance(&mut s, "bob").unwrap();
    assert_eq!(
        b,
        Balance {
            account: "bob".into(),
            currency: USD,
            balance: dec!(0),
            reserved: dec!(0),
            available: dec!(0),
        }
    );
}

#[test]
fn insufficient_funds_reserve() {
    let mut s = store();
    fails_cleanly(&mut s, ErrorCode::InsufficientFunds, |s| {
        ledger::reserve(s, "k1", "alice", &usd(dec!(100.01)), None, NOW)
    });
    fails_cleanly(&mut s, ErrorCode::InsufficientFunds, |s| {
        ledger::reserve(s, "k2", "bob", &usd(dec!(0.01)), None, NOW)
    });
    // Exactly the available balance is fine; then not a cent more.
    ledger::reserve(&mut s, "k3", "alice", &usd(dec!(60)), None, NOW).unwrap();
    ledger::reserve(&mut s, "k4", "alice", &usd(dec!(40)), None, NOW).unwrap();
    fails_cleanly(&mut s, ErrorCode::InsufficientFunds, |s| {
        ledger::reserve(s, "k5", "alice", &usd(dec!(0.01)), None, NOW)
    });
    assert_eq!(bal(&mut s, "alice"), (dec!(100), dec!(100), dec!(0)));
}

#[test]
fn insufficient_funds_charge() {
    let mut s = store();
    fails_cleanly(&mut s, ErrorCode::InsufficientFunds, |s| {
        ledger::charge(s, "k1", "alice", &usd(dec!(100.01)), None, NOW)
    });
    // Reserved deposits are not available to a charge.
    ledger::reserve(&mut s, "r", "alice", &usd(dec!(80)), None, NOW).unwrap();
    fails_cleanly(&mut s, ErrorCode::InsufficientFunds, |s| {
        ledger::charge(s, "k2", "alice", &usd(dec!(20.01)), None, NOW)
    });
    ledger::charge(&mut s, "k3", "alice", &usd(dec!(20)), None, NOW).unwrap();
    assert_eq!(bal(&mut s, "alice"), (dec!(80), dec!(80), dec!(0)));
}

#[test]
fn insufficient_funds_payout() {
    let mut s = store();
    fails_cleanly(&mut s, ErrorCode::InsufficientFunds, |s| {
        ledger::payout(s, "k1", "alice", &usd(dec!(100.01)), None, NOW)
    });
    ledger::reserve(&mut s, "r", "alice", &usd(dec!(49)), None, NOW).unwrap();
    fails_cleanly(&mut s, ErrorCode::InsufficientFunds, |s| {
        ledger::payout(s, "k2", "alice", &usd(dec!(51.01)), None, NOW)
    });
    ledger::payout(&mut s, "k3", "alice", &usd(dec!(51)), None, NOW).unwrap();
    assert_eq!(bal(&mut s, "alice"), (dec!(49), dec!(49), dec!(0)));
}

#[test]
fn idempotent_repeat_returns_first_result() {
    let mut s = store();
    let f = ledger::fund(&mut s, "f", "bob", &usd(dec!(10)), NOW).unwrap();
    let later = NOW + chrono::Duration::hours(1);
    // The time is not a field of the request: a retry later still returns the first result.
    assert_eq!(
        ledger::fund(&mut s, "f", "bob", &usd(dec!(10.00)), later).unwrap(),
        f
    );
    let r = ledger::reserve(&mut s, "r", "bob", &usd(dec!(4)), Some(7), NOW).unwrap();
    let c = ledger::capture(&mut s, "c", r.id, dec!(3), NOW).unwrap();
    let before = tables(&mut s);
    assert_eq!(
        ledger::reserve(&mut s, "r", "bob", &usd(dec!(4)), Some(7), NOW).unwrap(),
        r
    );
    assert_eq!(ledger::capture(&mut s, "c", r.id, dec!(3), NOW).unwrap(), c);
    let r2 = ledger::reserve(&mut s, "r2", "bob", &usd(dec!(1)), None, NOW).unwrap();
    let rel = ledger::release(&mut s, "rel", r2.id, NOW).unwrap();
    assert_eq!(ledger::release(&mut s, "rel", r2.id, NOW).unwrap(), rel);
    assert_eq!(rel.amount, dec!(1));
    let ch = ledger::charge(&mut s, "ch", "bob", &usd(dec!(2)), Some(7), NOW).unwrap();
    assert_eq!(
        ledger::charge(&mut s, "ch", "bob", &usd(dec!(2)), Some(7), NOW).unwrap(),
        ch
    );
    let p = ledger::payout(&mut s, "p", "bob", &usd(dec!(1)), None, NOW).unwrap();
    assert_eq!(
        ledger::payout(&mut s, "p", "bob", &usd(dec!(1)), None, NOW).unwrap(),
        p
    );
    let after = tables(&mut s);
    // Only r2, rel, ch and p were added.
    assert_eq!(after.1.len(), before.1.len() + 4);
    assert_eq!(bal(&mut s, "bob"), (dec!(4), dec!(0), dec!(4)));
    assert!(audit(&mut s).unwrap().is_clean());
}

#[test]
fn idempotency_conflict() {
    let mut s = store();
    ledger::fund(&mut s, "f", "alice", &usd(dec!(10)), NOW).unwrap();
    let r = ledger::reserve(&mut s, "r", "alice", &usd(dec!(20)), None, NOW).unwrap();
    let r2 = ledger::reserve(&mut s, "r2", "alice", &usd(dec!(5)), None, NOW).unwrap();
    ledger::capture(&mut s, "c", r.id, dec!(15), NOW).unwrap();
    ledger::charge(&mut s, "ch", "alice", &usd(dec!(1)), None, NOW).unwrap();
    ledger::payout(&mut s, "p", "alice", &usd(dec!(1)), None, NOW).unwrap();
    let conflict = ErrorCode::IdempotencyConflict;
    // Different amount, account, currency, kind, reservation.
    fails_cleanly(&mut s, conflict, |s| {
        ledger::fund(s, "f", "alice", &usd(dec!(11)), NOW)
    });
    fails_cleanly(&mut s, conflict, |s| {
        ledger::fund(s, "f", "bob", &usd(dec!(10)), NOW)
    });
    fails_cleanly(&mut s, conflict, |s| {
        ledger::fund(s, "f", "alice", &eur(dec!(10)), NOW)
    });
    fails_cleanly(&mut s, conflict, |s| {
        ledger::charge(s, "f", "alice", &usd(dec!(10)), None, NOW)
    });
    fails_cleanly(&mut s, conflict, |s| {
        ledger::reserve(s, "r", "alice", &usd(dec!(21)), None, NOW)
    });
    fails_cleanly(&mut s, conflict, |s| {
        ledger::payout(s, "r", "alice", &usd(dec!(20)), None, NOW)
    });
    fails_cleanly(&mut s, conflict, |s| {
        ledger::capture(s, "c", r.id, dec!(14), NOW)
    });
    fails_cleanly(&mut s, conflict, |s| ledger::release(s, "c", r.id, NOW));
    fails_cleanly(&mut s, conflict, |s| {
        ledger::capture(s, "c", r2.id, dec!(15), NOW)
    });
    fails_cleanly(&mut s, conflict, |s| {
        ledger::capture(s, "c", NO_SUCH_RESERVATION, dec!(15), NOW)
    });
    fails_cleanly(&mut s, conflict, |s| ledger::release(s, "ch", r2.id, NOW));
    fails_cleanly(&mut s, conflict, |s| {
        ledger::charge(s, "ch", "alice", &usd(dec!(2)), None, NOW)
    });
    fails_cleanly(&mut s, conflict, |s| {
        ledger::payout(s, "p", "bob", &usd(dec!(1)), None, NOW)
    });
    // A key is taken even when the other request would fail anyway.
    fails_cleanly(&mut s, conflict, |s| {
        ledger::fund(s, "p", "nobody", &usd(dec!(1)), NOW)
    });
}

#[test]
fn failed_requests_do_not_take_the_key() {
    let mut s = store();
    assert_eq!(
        code(ledger::reserve(
            &mut s,
            "k",
            "bob",
            &usd(dec!(5)),
            None,
            NOW
        )),
        ErrorCode::InsufficientFunds
    );
    ledger::fund(&mut s, "k", "bob", &usd(dec!(5)), NOW).unwrap();
    assert_eq!(bal(&mut s, "bob"), (dec!(5), dec!(0), dec!(5)));
}

#[test]
fn reservation_not_found() {
    let mut s = store();
    fails_cleanly(&mut s, ErrorCode::ReservationNotFound, |s| {
        ledger::capture(s, "k1", NO_SUCH_RESERVATION, dec!(1), NOW)
    });
    fails_cleanly(&mut s, ErrorCode::ReservationNotFound, |s| {
        ledger::release(s, "k2", NO_SUCH_RESERVATION, NOW)
    });
    // A transfer that is not a reserve is no reservation.
    let f = ledger::fund(&mut s, "f", "alice", &usd(dec!(1)), NOW).unwrap();
    fails_cleanly(&mut s, ErrorCode::ReservationNotFound, |s| {
        ledger::release(s, "k3", f.id, NOW)
    });
    fails_cleanly(&mut s, ErrorCode::ReservationNotFound, |s| {
        ledger::capture(s, "k4", 0, dec!(1), NOW)
    });
}

#[test]
fn reservation_resolved() {
    let mut s = store();
    let a = ledger::reserve(&mut s, "a", "alice", &usd(dec!(10)), None, NOW).unwrap();
    let b = ledger::reserve(&mut s, "b", "alice", &usd(dec!(10)), None, NOW).unwrap();
    ledger::capture(&mut s, "ca", a.id, dec!(10), NOW).unwrap();
    ledger::release(&mut s, "rb", b.id, NOW).unwrap();
    let resolved = ErrorCode::ReservationResolved;
    fails_cleanly(&mut s, resolved, |s| {
        ledger::capture(s, "k1", a.id, dec!(1), NOW)
    });
    fails_cleanly(&mut s, resolved, |s| ledger::release(s, "k2", a.id, NOW));
    fails_cleanly(&mut s, resolved, |s| {
        ledger::capture(s, "k3", b.id, dec!(1), NOW)
    });
    fails_cleanly(&mut s, resolved, |s| ledger::release(s, "k4", b.id, NOW));
    assert_eq!(bal(&mut s, "alice"), (dec!(90), dec!(0), dec!(90)));
    let ra = s.reservation(a.id).unwrap().unwrap();
    assert_eq!(ra.state, ReservationState::Captured { amount: dec!(10) });
    assert_eq!(
        s.reservation(b.id).unwrap().unwrap().state,
        ReservationState::Released
    );
    assert!(audit(&mut s).unwrap().is_clean());
}

#[test]
fn capture_exceeds_reservation() {
    let mut s = store();
    let r = ledger::reserve(&mut s, "r", "alice", &usd(dec!(49)), None, NOW).unwrap();
    fails_cleanly(&mut s, ErrorCode::CaptureExceedsReservation, |s| {
        ledger::capture(s, "k1", r.id, dec!(49.01), NOW)
    });
    // Even when the balance would cover it.
    fails_cleanly(&mut s, ErrorCode::CaptureExceedsReservation, |s| {
        ledger::capture(s, "k2", r.id, dec!(50), NOW)
    });
    // Still open after the failures.
    ledger::capture(&mut s, "k3", r.id, dec!(49), NOW).unwrap();
    assert_eq!(bal(&mut s, "alice"), (dec!(51), dec!(0), dec!(51)));
}

#[test]
fn invalid_argument_empty_key() {
    let mut s = store();
    let r = ledger::reserve(&mut s, "r", "alice", &usd(dec!(10)), None, NOW).unwrap();
    let long = "k".repeat(ledger::MAX_KEY_LEN + 1);
    for key in ["", long.as_str()] {
        let bad = ErrorCode::InvalidArgument;
        fails_cleanly(&mut s, bad, |s| {
            ledger::fund(s, key, "alice", &usd(dec!(1)), NOW)
        });
        fails_cleanly(&mut s, bad, |s| {
            ledger::reserve(s, key, "alice", &usd(dec!(1)), None, NOW)
        });
        fails_cleanly(&mut s, bad, |s| {
            ledger::charge(s, key, "alice", &usd(dec!(1)), None, NOW)
        });
        fails_cleanly(&mut s, bad, |s| {
            ledger::payout(s, key, "alice", &usd(dec!(1)), None, NOW)
        });
        fails_cleanly(&mut s, bad, |s| ledger::capture(s, key, r.id, dec!(1), NOW));
        fails_cleanly(&mut s, bad, |s| ledger::release(s, key, r.id, NOW));
    }
    // MAX_KEY_LEN bytes is the longest key, with room for a host's longest key once scoped.
    ledger::fund(
        &mut s,
        &"k".repeat(ledger::MAX_KEY_LEN),
        "alice",
        &usd(dec!(1)),
        NOW,
    )
    .unwrap();
    let longest_host = "a".repeat(64);
    let scoped =
        backorder_core::account::host_key("place", &longest_host, &"k".repeat(200)).unwrap();
    assert!(scoped.len() <= ledger::MAX_KEY_LEN, "{}", scoped.len());
}

#[test]
fn partial_capture() {
    let mut s = store();
    let r = ledger::reserve(&mut s, "r", "alice", &usd(dec!(49)), Some(42), NOW).unwrap();
    assert_eq!(bal(&mut s, "alice"), (dec!(100), dec!(49), dec!(51)));
    let c = ledger::capture(&mut s, "c", r.id, dec!(30), NOW).unwrap();
    assert_eq!(c.kind, TransferKind::Capture);
    assert_eq!(c.amount, dec!(30));
    assert_eq!(c.pending_id, Some(r.id));
    assert_eq!(c.backorder, Some(42));
    // The balance drops by 30, the rest of the deposit (19) is available again.
    assert_eq!(bal(&mut s, "alice"), (dec!(70), dec!(0), dec!(70)));
    let res = s.reservation(r.id).unwrap().unwrap();
    assert_eq!(res.state, ReservationState::Captured { amount: dec!(30) });
    assert_eq!(res.resolved_by, Some(c.id));
    let revenue = s.ledger_account("@revenue:USD").unwrap().unwrap();
    assert_eq!(revenue.credits_posted, dec!(30));
    assert_eq!(revenue.credits_pending, dec!(0));
    assert!(audit(&mut s).unwrap().is_clean());
}

#[test]
fn release_returns_the_deposit() {
    let mut s = store();
    let r = ledger::reserve(&mut s, "r", "alice", &usd(dec!(49)), None, NOW).unwrap();
    let rel = ledger::release(&mut s, "rel", r.id, NOW).unwrap();
    assert_eq!((rel.kind, rel.amount), (TransferKind::Release, dec!(49)));
    assert_eq!(bal(&mut s, "alice"), (dec!(100), dec!(0), dec!(100)));
    assert!(audit(&mut s).unwrap().is_clean());
}

#[test]
fn failed_operation_inside_a_transaction_then_commit() {
    let mut s = store();
    let before = tables(&mut s);
    s.begin().unwrap();
    assert_eq!(
        code(ledger::charge(
            &mut s,
            "c",
            "alice",
            &usd(dec!(500)),
            None,
            NOW
        )),
        ErrorCode::InsufficientFunds
    );
    s.commit().unwrap();
    assert_eq!(tables(&mut s), before);
    // The next transfer takes the next journal id.
    let t = ledger::fund(&mut s, "f", "alice", &usd(dec!(1)), NOW).unwrap();
    assert_eq!(t.id, before.1.len() as u64 + 1);
}

#[test]
fn rollback_undoes_open_fund_reserve_and_capture() {
    let mut s = store();
    let before = tables(&mut s);
    s.begin().unwrap();
    ledger::open_customer(&mut s, "erin", USD).unwrap();
    ledger::fund(&mut s, "f", "erin", &usd(dec!(10)), NOW).unwrap();
    let r = ledger::reserve(&mut s, "r", "erin", &usd(dec!(10)), None, NOW).unwrap();
    ledger::capture(&mut s, "c", r.id, dec!(5), NOW).unwrap();
    ledger::payout(&mut s, "p", "erin", &usd(dec!(5)), None, NOW).unwrap();
    s.rollback().unwrap();
    assert_eq!(tables(&mut s), before);
    assert_eq!(
        code(ledger::balance(&mut s, "erin")),
        ErrorCode::AccountNotFound
    );
    for key in ["f", "r", "c", "p"] {
        assert_eq!(s.transfer_by_key(key).unwrap(), None, "key {key}");
    }
    assert!(audit(&mut s).unwrap().is_clean());
}

// ------------------------------------------------------------------------------------------------
// Regressions: defects these tests found, fixed in the ledger.
// ------------------------------------------------------------------------------------------------

/// SPEC §4: "a repeat with different fields is an error". The backorder a reserve (or charge or
/// payout) concerns is one of its fields; the replay check once ignored it and returned the
/// transfer of the other backorder.
#[test]
fn repeat_with_other_backorder_is_a_conflict() {
    let mut s = store();
    ledger::reserve(&mut s, "dep", "alice", &usd(dec!(10)), Some(1), NOW).unwrap();
    let got = ledger::reserve(&mut s, "dep", "alice", &usd(dec!(10)), Some(2), NOW);
    assert_eq!(
        got.map_err(|e| e.code()).map(|t| t.backorder),
        Err(ErrorCode::IdempotencyConflict)
    );
}

/// A top-up that overflows a running total once panicked ("Addition overflowed"); it must fail
/// with `InvalidAmount` and change nothing.
#[test]
fn overflowing_top_up_is_invalid_amount() {
    // Amounts from outside are capped (money::MAX_AMOUNT), so running totals cannot overflow.
    let mut s = store();
    let before = tables(&mut s);
    let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ledger::fund(&mut s, "big", "bob", &usd(Decimal::MAX), NOW).map_err(|e| e.code())
    }));
    assert!(got.is_ok(), "fund panicked");
    assert_eq!(got.unwrap().map(|t| t.id), Err(ErrorCode::InvalidAmount));
    assert_eq!(tables(&mut s), before);
    let cap = backorder_core::money::MAX_AMOUNT;
    assert!(ledger::fund(&mut s, "cap", "bob", &usd(cap), NOW).is_ok());
}
