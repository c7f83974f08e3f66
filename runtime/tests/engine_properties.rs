//! SPEC §4's money invariants (and the §2 life-cycle rules they rest on) as properties of one
//! engine driven by random command sequences.
//!
//! Six customers (two never funded, two without contact handles, one in EUR so every placement in
//! the USD zones is a currency mismatch), ten names in `com`/`net` (auction model) and
//! `info`/`biz` (exclusive model) dropping a few days ahead (two names only enter the
//! pending-delete list when a step reschedules them), and steps drawn from: advance the clock
//! 0-30 h and tick, fund (keys repeat, sometimes with another amount, sometimes with an invalid
//! one), place (keys repeat, lite, own contacts), cancel, modify contacts, set account contacts,
//! pay, bid with random maxima, set outstanding, move a deletion time, and touch another
//! customer's backorder. The registry is the seeded [`SimulatedRegistry`] (one name comes back
//! premium at registration); most cases shorten the auction zones' auction timings so whole
//! auctions, second-chance offers included, happen within a sequence.
//!
//! Every step's result is checked against a small model (idempotent repeats return the first
//! result; refusals carry the exact code the request deserves) and never is `INTERNAL`/`STORE`.
//! After every step the auditor must be clean and the property's own invariant, read through the
//! `Engine` API only (balances, statements, backorders, events), must hold. At the end the clock
//! runs out so every drop, auction and payment deadline passes.
//!
//! One property per invariant; each is named after it.

use std::collections::{BTreeMap, HashMap};

use backorder::core::{HistoryEntry, Reason, TransferKind, TRANSITIONS};
use backorder::{
    full_contacts, Backorder, Balance, Contacts, Currency, Engine, Error, ErrorCode, Event,
    EventKind, ManualClock, NewAccount, PlaceBackorder, SimulatedRegistry, StatementLine, Status,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rust_decimal::Decimal;

// ---------------------------------------------------------------------------------------------
// The world
// ---------------------------------------------------------------------------------------------

struct Customer {
    id: &'static str,
    currency: Currency,
    contacts: bool,
    funded: bool,
}

const CUSTOMERS: [Customer; 6] = [
    Customer {
        id: "ann",
        currency: Currency::USD,
        contacts: true,
        funded: true,
    },
    Customer {
        id: "ben",
        currency: Currency::USD,
        contacts: true,
        funded: true,
    },
    Customer {
        id: "cy",
        currency: Currency::USD,
        contacts: false,
        funded: true,
    },
    Customer {
        id: "dot",
        currency: Currency::USD,
        contacts: true,
        funded: false,
    },
    Customer {
        id: "eve",
        currency: Currency::USD,
        contacts: false,
        funded: false,
    },
    Customer {
        id: "fay",
        currency: Currency::EUR,
        contacts: true,
        funded: true,
    },
];

/// Indexes into [`CUSTOMERS`] of the customers that ever receive money.
const FUNDED: [usize; 4] = [0, 1, 2, 5];

const NAMES: [&str; 10] = [
    "alpha.com",
    "beta.com",
    "gamma.com",
    "delta.net",
    "epsilon.net",
    "one.info",
    "two.info",
    "three.biz",
    "four.biz",
    "zeta.net",
];

/// Names most placements go to (`alpha.com`, `delta.net`): they drop last, so contests build up.
const HOT: [usize; 2] = [0, 3];
/// Not on the pending-delete list until a `Reschedule` step adds it (`two.info`, `zeta.net`).
const UNLISTED: [usize; 2] = [6, 9];
/// The simulated registry answers PREMIUM for this one.
const PREMIUM_AT_REGISTRATION: &str = "four.biz";

fn exclusive(name: &str) -> bool {
    name.ends_with(".info") || name.ends_with(".biz")
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 7, 1, 6, 0, 0).unwrap()
}

/// Positive and at most four decimals: what the ledger accepts from outside.
fn valid_amount(d: Decimal) -> bool {
    d > Decimal::ZERO && d.normalize().scale() <= 4
}

fn complete(c: &Contacts) -> bool {
    c.owner.is_some() && c.admin.is_some() && c.tech.is_some() && c.billing.is_some()
}

fn contacts_valid(c: &Contacts) -> bool {
    [&c.owner, &c.admin, &c.tech, &c.billing]
        .into_iter()
        .flatten()
        .all(|h| (3..=16).contains(&h.len()) && h.bytes().all(|b| b.is_ascii_graphic()))
}

/// The backorder holds its deposit (or exclusive payment) now: the statuses SPEC §2 gives one,
/// and the auction winner who has not paid yet (its deposit counts toward the price).
fn holds_deposit(b: &Backorder) -> bool {
    matches!(
        b.status,
        Status::Active | Status::Backordered | Status::Processing | Status::AuctionPending
    ) || (b.status == Status::AuctionWon
        && b.amount_due.is_some()
        && b.reason() == Some(Reason::AuctionWon))
}

fn allocated(b: &Backorder) -> bool {
    b.status == Status::Successful || (b.status == Status::AuctionWon && b.auth_code.is_some())
}

// ---------------------------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Step {
    /// Advance the clock and tick.
    Advance {
        hours: u8,
    },
    /// Top up; `amount: None` repeats the amount first used with the key.
    Fund {
        who: usize,
        key: u8,
        amount: Option<Decimal>,
    },
    Place {
        who: usize,
        name: usize,
        lite: bool,
        contacts: Contacts,
        key: Option<u8>,
    },
    /// Repeats exactly the request first made under the key.
    PlaceAgain {
        who: usize,
        key: u8,
    },
    /// The owner cancels one of the backorders (picked among all customers').
    Cancel {
        pick: usize,
    },
    Modify {
        pick: usize,
        contacts: Contacts,
    },
    SetContacts {
        who: usize,
        contacts: Contacts,
    },
    Pay {
        pick: usize,
    },
    Bid {
        pick: usize,
        max: Decimal,
    },
    Outstanding {
        who: usize,
        amount: Decimal,
    },
    /// Moves (or first lists) a name's deletion time to `hours` from now.
    Reschedule {
        name: usize,
        hours: u8,
    },
    /// Calls an id-taking entry point with another customer's backorder id.
    Foreign {
        who: usize,
        pick: usize,
        op: u8,
    },
}

fn amount() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        6 => (1i64..300).prop_map(Decimal::from),
        2 => (1i64..30_000).prop_map(|c| Decimal::new(c, 2)),
        1 => Just(Decimal::ZERO),
        1 => (-300i64..0).prop_map(Decimal::from),
        1 => (1i64..100_000).prop_map(|m| Decimal::new(m, 5)),
    ]
}

fn bid_max() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        8 => (1i64..400).prop_map(Decimal::from),
        2 => (4_900i64..40_000).prop_map(|c| Decimal::new(c, 2)),
        1 => Just(Decimal::ZERO),
        1 => (-100i64..0).prop_map(Decimal::from),
        1 => (4_900_000i64..5_000_000).prop_map(|m| Decimal::new(m, 5)),
    ]
}

fn contacts() -> impl Strategy<Value = Contacts> {
    prop_oneof![
        4 => Just(Contacts::default()),
        3 => Just(full_contacts("OWN-1")),
        2 => Just(Contacts {
            owner: Some("OWN-2".into()),
            ..Contacts::default()
        }),
        1 => Just(Contacts {
            tech: Some("ab".into()),
            ..Contacts::default()
        }),
    ]
}

/// Names, biased to a few hot ones so that auctions and exclusive races happen.
fn name() -> impl Strategy<Value = usize> {
    prop_oneof![
        5 => prop_oneof![Just(HOT[0]), Just(HOT[1])],
        1 => Just(5usize),
        3 => 0..NAMES.len(),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let who = 0..CUSTOMERS.len();
    let funded = 0..FUNDED.len();
    prop_oneof![
        6 => (0u8..=30).prop_map(|hours| Step::Advance { hours }),
        3 => (funded, 0u8..4, proptest::option::weighted(0.75, amount()))
            .prop_map(|(f, key, amount)| Step::Fund { who: FUNDED[f], key, amount }),
        8 => (
            prop_oneof![3 => 0..2usize, 1 => who.clone()],
            name(),
            proptest::bool::weighted(0.2),
            contacts(),
            proptest::option::of(0u8..3),
        )
            .prop_map(|(who, name, lite, contacts, key)| Step::Place {
                who,
                name,
                lite,
                contacts,
                key
            }),
        1 => (who.clone(), 0u8..3).prop_map(|(who, key)| Step::PlaceAgain { who, key }),
        1 => any::<usize>().prop_map(|pick| Step::Cancel { pick }),
        1 => (any::<usize>(), contacts())
            .prop_map(|(pick, contacts)| Step::Modify { pick, contacts }),
        1 => (who.clone(), contacts())
            .prop_map(|(who, contacts)| Step::SetContacts { who, contacts }),
        3 => any::<usize>().prop_map(|pick| Step::Pay { pick }),
        4 => (any::<usize>(), bid_max()).prop_map(|(pick, max)| Step::Bid { pick, max }),
        1 => (
            who.clone(),
            prop_oneof![
                Just(Decimal::ZERO),
                Just(Decimal::TEN),
                Just(Decimal::new(5, 1)),
                Just(-Decimal::ONE)
            ]
        )
            .prop_map(|(who, amount)| Step::Outstanding { who, amount }),
        1 => (name(), 1u8..100).prop_map(|(name, hours)| Step::Reschedule { name, hours }),
        1 => (who, any::<usize>(), 0u8..6)
            .prop_map(|(who, pick, op)| Step::Foreign { who, pick, op }),
    ]
}

/// Up to 60 steps of everything, then up to 25 of the auction end-game (time passes, winners pay
/// or not, bidders bid), so that auctions run to their end inside the random part.
fn steps() -> impl Strategy<Value = Vec<Step>> {
    let endgame = prop_oneof![
        2 => (0u8..=30).prop_map(|hours| Step::Advance { hours }),
        2 => any::<usize>().prop_map(|pick| Step::Pay { pick }),
        2 => (any::<usize>(), bid_max()).prop_map(|(pick, max)| Step::Bid { pick, max }),
    ];
    (
        proptest::collection::vec(step(), 10..60),
        proptest::collection::vec(endgame, 0..25),
    )
        .prop_map(|(mut all, tail)| {
            all.extend(tail);
            all
        })
}

/// Deletion times, in hours after the start, one per name: a few days ahead.
fn drops() -> impl Strategy<Value = Vec<u8>> {
    (0..NAMES.len())
        .map(|i| if HOT.contains(&i) { 40u8..96 } else { 4u8..96 })
        .collect::<Vec<_>>()
}

/// Opening top-ups of the funded customers (0: none).
fn opening() -> impl Strategy<Value = Vec<u16>> {
    proptest::collection::vec(prop_oneof![1 => Just(0u16), 3 => 20u16..400], FUNDED.len())
}

/// One generated world and what happens in it.
#[derive(Clone, Debug)]
struct Case {
    /// Seeds the simulated registry and the auth codes.
    seed: u64,
    /// See [`Harness::new`].
    short_auctions: bool,
    drops: Vec<u8>,
    opening: Vec<u16>,
    steps: Vec<Step>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        any::<u64>(),
        proptest::bool::weighted(0.75),
        drops(),
        opening(),
        steps(),
    )
        .prop_map(|(seed, short_auctions, drops, opening, steps)| Case {
            seed,
            short_auctions,
            drops,
            opening,
            steps,
        })
}

// ---------------------------------------------------------------------------------------------
// The harness: the engine, a clock, and the model of what idempotent requests returned
// ---------------------------------------------------------------------------------------------

/// What one customer's statement says about one backorder.
#[derive(Clone, Debug, Default)]
struct Deposit {
    /// (transfer id, amount) of each RESERVE.
    reserves: Vec<(u64, Decimal)>,
    /// (transfer id, amount, reserved change) of each CAPTURE.
    captures: Vec<(u64, Decimal, Decimal)>,
    /// (transfer id, amount, reserved change) of each RELEASE.
    releases: Vec<(u64, Decimal, Decimal)>,
    charged: Decimal,
    paid_out: Decimal,
}

impl Deposit {
    fn open(&self) -> i64 {
        self.reserves.len() as i64 - self.captures.len() as i64 - self.releases.len() as i64
    }
}

/// Everything the checks read, taken once after a step.
struct View {
    now: DateTime<Utc>,
    balances: Vec<Balance>,
    statements: Vec<Vec<StatementLine>>,
    backorders: Vec<Vec<Backorder>>,
    events: Vec<Event>,
}

impl View {
    fn all(&self) -> impl Iterator<Item = &Backorder> {
        self.backorders.iter().flatten()
    }

    fn deposits(&self, who: usize) -> BTreeMap<u64, Deposit> {
        let mut out: BTreeMap<u64, Deposit> = BTreeMap::new();
        for l in &self.statements[who] {
            let Some(b) = l.backorder else { continue };
            let d = out.entry(b).or_default();
            match l.kind {
                TransferKind::Reserve => d.reserves.push((l.transfer, l.amount)),
                TransferKind::Capture => d.captures.push((l.transfer, l.amount, l.reserved_change)),
                TransferKind::Release => d.releases.push((l.transfer, l.amount, l.reserved_change)),
                TransferKind::Charge => d.charged += l.amount,
                TransferKind::Payout => d.paid_out += l.amount,
                TransferKind::Fund => {}
            }
        }
        out
    }
}

struct Harness {
    e: Engine,
    clock: ManualClock,
    /// (customer, key) → (amount, transfer id) of the first successful top-up.
    funds: HashMap<(usize, u8), (Decimal, u64)>,
    /// Sum of first top-ups per customer.
    funded: Vec<Decimal>,
    /// (customer, key) → (request, backorder id) of the first successful placement.
    places: HashMap<(usize, u8), (PlaceBackorder, u64)>,
    /// Each backorder's history when last looked at.
    seen: HashMap<u64, Vec<HistoryEntry>>,
}

fn fail(msg: String) -> TestCaseError {
    TestCaseError::fail(msg)
}

/// A refusal is fine, an internal or store failure never is.
fn typed<T>(what: &str, r: &backorder::Result<T>) -> Result<(), TestCaseError> {
    if let Err(e) = r {
        prop_assert!(
            !matches!(e.code(), ErrorCode::Internal | ErrorCode::Store),
            "{what} failed inside the engine: {e}"
        );
    }
    Ok(())
}

fn expect_code<T: std::fmt::Debug>(
    what: &str,
    r: &backorder::Result<T>,
    code: ErrorCode,
) -> Result<(), TestCaseError> {
    match r {
        Err(e) if e.code() == code => Ok(()),
        other => Err(fail(format!("{what}: expected {code:?}, got {other:?}"))),
    }
}

impl Harness {
    /// `short_auctions`: the auction zones' auctions start an hour after the catch, run 12 h and
    /// give 12 h to pay (2 h anti-sniping), so that whole auctions fit in a sequence; otherwise
    /// the shipped settings (1 day, 3 days, 3 days, 10 minutes).
    fn new(seed: u64, drops: &[u8], short_auctions: bool) -> Harness {
        let clock = ManualClock::new(start());
        let mut registry = SimulatedRegistry::new(seed)
            .with_catch_permille(700)
            .with_contested_catch_permille(800);
        registry.mark_premium(PREMIUM_AT_REGISTRATION);
        let e = Engine::builder()
            .clock(clock.clone())
            .seed(seed)
            .registry(Box::new(registry))
            .build()
            .unwrap();
        if short_auctions {
            for mut p in e.policies() {
                if p.zone == "com" || p.zone == "net" {
                    p.auction.start_delay_secs = 3600;
                    p.auction.duration_secs = 12 * 3600;
                    p.auction.anti_sniping_window_secs = 2 * 3600;
                    p.auction.anti_sniping_extension_secs = 2 * 3600;
                    p.auction.payment_window_secs = 12 * 3600;
                    e.set_policy(p).unwrap();
                }
            }
        }
        for c in &CUSTOMERS {
            e.create_account(NewAccount {
                id: c.id.into(),
                currency: c.currency,
                contacts: if c.contacts {
                    full_contacts(&format!("H-{}", c.id))
                } else {
                    Contacts::default()
                },
            })
            .unwrap();
        }
        for (i, name) in NAMES.iter().enumerate() {
            if !UNLISTED.contains(&i) {
                e.add_pending_deletion(name, start() + Duration::hours(drops[i] as i64))
                    .unwrap();
            }
        }
        Harness {
            e,
            clock,
            funds: HashMap::new(),
            funded: vec![Decimal::ZERO; CUSTOMERS.len()],
            places: HashMap::new(),
            seen: HashMap::new(),
        }
    }

    fn backorders(&self, who: usize) -> Vec<Backorder> {
        self.e.backorders(CUSTOMERS[who].id).unwrap()
    }

    /// One of all the backorders with its owner, preferring those `prefer` likes.
    fn pick(&self, pick: usize, prefer: impl Fn(&Backorder) -> bool) -> Option<(usize, Backorder)> {
        let all: Vec<(usize, Backorder)> = (0..CUSTOMERS.len())
            .flat_map(|w| self.backorders(w).into_iter().map(move |b| (w, b)))
            .collect();
        let liked: Vec<(usize, Backorder)> =
            all.iter().filter(|(_, b)| prefer(b)).cloned().collect();
        let from = if liked.is_empty() { all } else { liked };
        if from.is_empty() {
            None
        } else {
            Some(from[pick % from.len()].clone())
        }
    }

    fn all_backorders(&self) -> Vec<Backorder> {
        (0..CUSTOMERS.len())
            .flat_map(|w| self.backorders(w))
            .collect()
    }

    fn view(&self) -> View {
        View {
            now: self.e.now(),
            balances: CUSTOMERS
                .iter()
                .map(|c| self.e.balance(c.id).unwrap())
                .collect(),
            statements: CUSTOMERS
                .iter()
                .map(|c| self.e.statement(c.id, 0, u32::MAX).unwrap())
                .collect(),
            backorders: (0..CUSTOMERS.len()).map(|w| self.backorders(w)).collect(),
            events: self.e.events(0, u32::MAX).unwrap(),
        }
    }

    fn run(&mut self, s: &Step) -> Result<(), TestCaseError> {
        let now = self.e.now();
        match s {
            Step::Advance { hours } => {
                self.clock.advance(Duration::hours(*hours as i64));
                let r = self.e.tick();
                typed("tick", &r)?;
                let r = r.unwrap();
                prop_assert!(r.errors.is_empty(), "tick errors: {:?}", r.errors);
                // A drop is worked to its outcome within the tick.
                for b in self.all_backorders() {
                    prop_assert!(
                        b.status != Status::Processing,
                        "backorder {} still PROCESSING after the tick",
                        b.id
                    );
                }
            }
            Step::Fund { who, key, amount } => {
                let id = CUSTOMERS[*who].id;
                let known = self.funds.get(&(*who, *key)).copied();
                let amount = amount.or(known.map(|k| k.0)).unwrap_or(Decimal::from(50));
                let text_key = format!("top-up-{key}");
                let before = self.e.balance(id).unwrap();
                let r = self.e.fund(id, amount, &text_key);
                typed("fund", &r)?;
                let after = self.e.balance(id).unwrap();
                match (known, r) {
                    (Some((first, transfer)), Ok(t)) => {
                        prop_assert_eq!(
                            amount,
                            first,
                            "a different amount under key {} was accepted",
                            key
                        );
                        prop_assert_eq!(t.id, transfer, "a repeat made a new transfer");
                        prop_assert_eq!(t.amount, first);
                        prop_assert_eq!(&before, &after, "a repeat moved money");
                    }
                    (Some((first, _)), Err(e)) => {
                        prop_assert!(
                            amount != first,
                            "the same top-up repeated was refused: {}",
                            e
                        );
                        prop_assert_eq!(e, Error::IdempotencyConflict(text_key));
                        prop_assert_eq!(&before, &after);
                    }
                    (None, Ok(t)) => {
                        prop_assert!(valid_amount(amount), "invalid amount {} accepted", amount);
                        prop_assert_eq!(t.amount, amount);
                        prop_assert_eq!(t.kind, TransferKind::Fund);
                        prop_assert_eq!(after.balance, before.balance + amount);
                        prop_assert_eq!(after.reserved, before.reserved);
                        self.funds.insert((*who, *key), (amount, t.id));
                        self.funded[*who] += amount;
                    }
                    (None, Err(e)) => {
                        prop_assert!(
                            !valid_amount(amount),
                            "valid top-up {} refused: {}",
                            amount,
                            e
                        );
                        prop_assert_eq!(e.code(), ErrorCode::InvalidAmount);
                        prop_assert_eq!(&before, &after);
                    }
                }
            }
            Step::Place {
                who,
                name,
                lite,
                contacts,
                key,
            } => {
                let req = PlaceBackorder {
                    account: CUSTOMERS[*who].id.into(),
                    domain: NAMES[*name].into(),
                    lite: *lite,
                    contacts: contacts.clone(),
                    idempotency_key: key.map(|k| format!("order-{k}")),
                };
                self.place(*who, *key, req, now)?;
            }
            Step::PlaceAgain { who, key } => {
                if let Some((req, _)) = self.places.get(&(*who, *key)).cloned() {
                    self.place(*who, Some(*key), req, now)?;
                }
            }
            Step::Cancel { pick } => {
                let Some((who, b)) = self.pick(*pick, |b| b.status.awaits_drop()) else {
                    return Ok(());
                };
                let id = CUSTOMERS[who].id;
                let before = self.e.balance(id).unwrap();
                let r = self.e.cancel_backorder(id, b.id);
                typed("cancel", &r)?;
                let closed = b.finalization_at.is_some_and(|f| now >= f);
                match b.status {
                    Status::Backordered => {
                        prop_assert_eq!(r.unwrap_err(), Error::CancellationNotAllowed(b.id))
                    }
                    Status::Requested
                    | Status::Incomplete
                    | Status::Inactive
                    | Status::Active
                    | Status::PendingPayment
                        if closed =>
                    {
                        expect_code(
                            "cancel after finalization",
                            &r,
                            ErrorCode::CancellationClosed,
                        )?
                    }
                    Status::Requested
                    | Status::Incomplete
                    | Status::Inactive
                    | Status::Active
                    | Status::PendingPayment => {
                        let c =
                            r.map_err(|e| fail(format!("cancel of {:?} refused: {e}", b.status)))?;
                        prop_assert_eq!(c.status, Status::Cancelled);
                        let after = self.e.balance(id).unwrap();
                        let released = if b.status == Status::Active {
                            b.price.amount
                        } else {
                            Decimal::ZERO
                        };
                        prop_assert_eq!(after.reserved, before.reserved - released);
                        prop_assert_eq!(after.balance, before.balance);
                    }
                    _ => expect_code("cancel", &r, ErrorCode::StatusDoesNotAllow)?,
                }
            }
            Step::Modify { pick, contacts } => {
                let Some((who, b)) = self.pick(*pick, |b| b.status.awaits_drop()) else {
                    return Ok(());
                };
                let id = CUSTOMERS[who].id;
                let r = self.e.modify_backorder(id, b.id, contacts.clone());
                typed("modify", &r)?;
                if !contacts_valid(contacts) {
                    expect_code("modify with bad handles", &r, ErrorCode::InvalidArgument)?;
                } else if !b.status.awaits_drop() {
                    expect_code("modify", &r, ErrorCode::StatusDoesNotAllow)?;
                } else if b.finalization_at.is_some_and(|f| now >= f) {
                    expect_code(
                        "modify after finalization",
                        &r,
                        ErrorCode::CancellationClosed,
                    )?;
                } else {
                    let m = r.map_err(|e| fail(format!("modify refused: {e}")))?;
                    prop_assert_eq!(&m.contacts, contacts);
                }
            }
            Step::SetContacts { who, contacts } => {
                let r = self.e.set_contacts(CUSTOMERS[*who].id, contacts.clone());
                typed("set_contacts", &r)?;
                if contacts_valid(contacts) {
                    let a = r.map_err(|e| fail(format!("set_contacts refused: {e}")))?;
                    prop_assert_eq!(&a.contacts, contacts);
                } else {
                    expect_code(
                        "set_contacts with bad handles",
                        &r,
                        ErrorCode::InvalidArgument,
                    )?;
                }
            }
            Step::Pay { pick } => {
                let Some((who, b)) = self.pick(*pick, |b| {
                    b.status == Status::PendingPayment
                        || (b.status == Status::AuctionWon && b.amount_due.is_some())
                }) else {
                    return Ok(());
                };
                self.pay(who, b, now)?;
            }
            Step::Bid { pick, max } => {
                let Some((who, b)) = self.pick(*pick, |b| b.status == Status::AuctionPending)
                else {
                    return Ok(());
                };
                self.bid(who, b, *max, now)?;
            }
            Step::Outstanding { who, amount } => {
                let r = self.e.set_outstanding(CUSTOMERS[*who].id, *amount);
                typed("set_outstanding", &r)?;
                if *amount < Decimal::ZERO {
                    expect_code("negative outstanding", &r, ErrorCode::InvalidAmount)?;
                } else {
                    prop_assert_eq!(r.unwrap().outstanding, *amount);
                }
            }
            Step::Reschedule { name, hours } => {
                let at = now + Duration::hours(*hours as i64);
                let r = self.e.add_pending_deletion(NAMES[*name], at);
                typed("add_pending_deletion", &r)?;
                prop_assert_eq!(r.unwrap().drop_at, at);
                for b in self.all_backorders() {
                    if b.domain.as_str() == NAMES[*name] && b.status.awaits_drop() {
                        prop_assert_eq!(b.drop_at, Some(at), "backorder {} did not follow", b.id);
                    }
                }
            }
            Step::Foreign { who, pick, op } => {
                let others: Vec<Backorder> = (0..CUSTOMERS.len())
                    .filter(|w| w != who)
                    .flat_map(|w| self.backorders(w))
                    .collect();
                let id = if others.is_empty() {
                    u64::MAX
                } else {
                    others[pick % others.len()].id
                };
                let me = CUSTOMERS[*who].id;
                let events = self.e.events(0, u32::MAX).unwrap().len();
                let err = match op {
                    0 => self.e.backorder(me, id).err(),
                    1 => self.e.cancel_backorder(me, id).err(),
                    2 => self
                        .e
                        .modify_backorder(me, id, full_contacts("MOD-9"))
                        .err(),
                    3 => self.e.pay(me, id).err(),
                    4 => self.e.bid(me, id, Decimal::from(500)).err(),
                    _ => self.e.auction(me, id).err(),
                };
                prop_assert_eq!(
                    err,
                    Some(Error::BackorderNotFound(id)),
                    "op {} on a foreign id",
                    op
                );
                prop_assert_eq!(self.e.events(0, u32::MAX).unwrap().len(), events);
            }
        }
        Ok(())
    }

    fn place(
        &mut self,
        who: usize,
        key: Option<u8>,
        req: PlaceBackorder,
        now: DateTime<Utc>,
    ) -> Result<(), TestCaseError> {
        let known = key.and_then(|k| self.places.get(&(who, k)).cloned());
        let r = self.e.place_backorder(req.clone());
        typed("place", &r)?;
        if let Some((first, id)) = known {
            if first == req {
                let b = r.map_err(|e| fail(format!("repeated placement refused: {e}")))?;
                prop_assert_eq!(b.id, id, "a repeat placed a new backorder");
            } else {
                prop_assert_eq!(
                    r.unwrap_err(),
                    Error::IdempotencyConflict(req.idempotency_key.clone().unwrap())
                );
            }
            return Ok(());
        }
        let name = req.domain.as_str();
        let catalog = self.e.pending_deletion(name).unwrap();
        let closed = catalog
            .as_ref()
            .is_some_and(|p| now >= p.drop_at - Duration::hours(3));
        if CUSTOMERS[who].currency != Currency::USD {
            expect_code("placing across currencies", &r, ErrorCode::CurrencyMismatch)?;
        } else if req.lite && exclusive(name) {
            expect_code("lite in the exclusive model", &r, ErrorCode::LiteNotOffered)?;
        } else if !contacts_valid(&req.contacts) {
            expect_code("placing with bad handles", &r, ErrorCode::InvalidArgument)?;
        } else if closed {
            expect_code("placing after finalization", &r, ErrorCode::PlacementClosed)?;
        } else if let Ok(b) = &r {
            let account = self.e.account(CUSTOMERS[who].id).unwrap();
            let expected = if exclusive(name) {
                Status::PendingPayment
            } else if complete(&b.contacts.or(&account.contacts)) {
                Status::Requested
            } else {
                Status::Incomplete
            };
            prop_assert_eq!(b.status, expected);
            prop_assert_eq!(b.history.len(), 1);
            prop_assert_eq!(b.drop_at, catalog.map(|p| p.drop_at));
            prop_assert_eq!(b.lite, req.lite);
            if let Some(k) = key {
                self.places.insert((who, k), (req, b.id));
            }
        } else {
            let code = r.as_ref().unwrap_err().code();
            prop_assert!(
                matches!(
                    code,
                    ErrorCode::DuplicateBackorder | ErrorCode::NameAlreadyBackordered
                ),
                "placement refused with {:?}",
                r
            );
            // Only an open backorder of the same customer, or a paid exclusive one, blocks.
            let all = self.all_backorders();
            let blocked = all.iter().any(|o| {
                o.domain.as_str() == name
                    && ((o.account == CUSTOMERS[who].id && o.status.is_open())
                        || (exclusive(name)
                            && matches!(o.status, Status::Backordered | Status::Processing)))
            });
            prop_assert!(
                blocked,
                "placement refused with {:?} but nothing blocks it",
                r
            );
        }
        Ok(())
    }

    fn pay(&mut self, who: usize, b: Backorder, now: DateTime<Utc>) -> Result<(), TestCaseError> {
        let id = CUSTOMERS[who].id;
        let before = self.e.balance(id).unwrap();
        let all = self.all_backorders();
        let r = self.e.pay(id, b.id);
        typed("pay", &r)?;
        match (b.status, b.amount_due, b.pay_by) {
            (Status::PendingPayment, _, _) => {
                let taken = all.iter().any(|o| {
                    o.id != b.id
                        && o.domain == b.domain
                        && matches!(o.status, Status::Backordered | Status::Processing)
                });
                if b.finalization_at.is_some_and(|f| now >= f) {
                    expect_code("paying after finalization", &r, ErrorCode::PlacementClosed)?;
                } else if taken {
                    expect_code("paying a taken name", &r, ErrorCode::NameAlreadyBackordered)?;
                } else if before.available < b.price.amount {
                    expect_code("paying short", &r, ErrorCode::InsufficientFunds)?;
                } else {
                    let p = r.map_err(|e| fail(format!("exclusive payment refused: {e}")))?;
                    prop_assert_eq!(p.status, Status::Backordered);
                    let after = self.e.balance(id).unwrap();
                    prop_assert_eq!(after.reserved, before.reserved + b.price.amount);
                    // Every other unpaid order on the name is cancelled.
                    for o in self.all_backorders() {
                        if o.domain == b.domain && o.id != b.id {
                            prop_assert!(
                                o.status != Status::PendingPayment,
                                "{} still unpaid",
                                o.id
                            );
                        }
                    }
                }
            }
            (Status::AuctionWon, Some(due), Some(pay_by)) => {
                let deposit = if b.reason() == Some(Reason::AuctionWon) {
                    b.price.amount.min(due)
                } else {
                    Decimal::ZERO
                };
                if now >= pay_by {
                    prop_assert_eq!(r.unwrap_err(), Error::PaymentNotDue(b.id));
                } else if before.available < due - deposit {
                    expect_code("paying the auction short", &r, ErrorCode::InsufficientFunds)?;
                } else {
                    let p = r.map_err(|e| fail(format!("auction payment refused: {e}")))?;
                    prop_assert_eq!(p.status, Status::AuctionWon);
                    prop_assert!(p.auth_code.is_some());
                    prop_assert_eq!(p.amount_due, None);
                    prop_assert_eq!(p.paid, due);
                    let after = self.e.balance(id).unwrap();
                    prop_assert_eq!(after.balance, before.balance - due);
                }
            }
            _ => prop_assert_eq!(r.unwrap_err(), Error::PaymentNotDue(b.id)),
        }
        Ok(())
    }

    fn bid(
        &mut self,
        who: usize,
        b: Backorder,
        max: Decimal,
        now: DateTime<Utc>,
    ) -> Result<(), TestCaseError> {
        let id = CUSTOMERS[who].id;
        let seen = self.e.auction(id, b.id);
        let r = self.e.bid(id, b.id, max);
        typed("bid", &r)?;
        if b.status != Status::AuctionPending {
            expect_code("bid without an auction", &r, ErrorCode::StatusDoesNotAllow)?;
            return Ok(());
        }
        let v = seen.map_err(|e| fail(format!("auction view refused: {e}")))?;
        let open =
            v.state == backorder::core::AuctionState::Open && now >= v.starts_at && now < v.ends_at;
        if !open {
            prop_assert_eq!(r.unwrap_err(), Error::AuctionNotOpen(v.id));
        } else if !valid_amount(max) {
            expect_code("bid with a bad amount", &r, ErrorCode::InvalidAmount)?;
        } else if max < v.minimum_bid {
            expect_code("bid under the minimum", &r, ErrorCode::BidTooLow)?;
        } else {
            let after = r.map_err(|e| {
                fail(format!(
                    "bid of {max} (minimum {}) refused: {e}",
                    v.minimum_bid
                ))
            })?;
            prop_assert_eq!(after.your_max, max);
            prop_assert_eq!(after.bids, v.bids + 1);
            prop_assert!(after.ends_at >= v.ends_at, "a bid shortened the auction");
            prop_assert!(after.price >= v.price, "a bid lowered the price");
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Checks
    // -----------------------------------------------------------------------------------------

    fn audit_clean(&self) -> Result<(), TestCaseError> {
        let audit = self
            .e
            .audit()
            .map_err(|e| fail(format!("audit failed: {e}")))?;
        prop_assert!(audit.is_clean(), "audit problems: {:#?}", audit.problems);
        Ok(())
    }

    /// SPEC §4: a customer's available balance never goes below zero.
    fn available_never_negative(&self, v: &View) -> Result<(), TestCaseError> {
        for (i, b) in v.balances.iter().enumerate() {
            prop_assert!(
                b.available >= Decimal::ZERO,
                "{}: available {}",
                CUSTOMERS[i].id,
                b.available
            );
            prop_assert!(
                b.reserved >= Decimal::ZERO,
                "{}: reserved {}",
                CUSTOMERS[i].id,
                b.reserved
            );
            prop_assert_eq!(b.available, b.balance - b.reserved);
            prop_assert_eq!(b.currency, CUSTOMERS[i].currency);
        }
        Ok(())
    }

    /// SPEC §4: reserved = the sum of the open reservations, which are exactly the deposits of the
    /// backorders whose status holds one.
    fn reserved_is_open_deposits(&self, v: &View) -> Result<(), TestCaseError> {
        for (i, balance) in v.balances.iter().enumerate() {
            let deposits = v.deposits(i);
            let mut held = Decimal::ZERO;
            for b in &v.backorders[i] {
                let d = deposits.get(&b.id).cloned().unwrap_or_default();
                let holds = holds_deposit(b);
                prop_assert_eq!(
                    d.open(),
                    i64::from(holds),
                    "backorder {} ({}, {:?}) has {} open deposits",
                    b.id,
                    b.status,
                    b.reason(),
                    d.open()
                );
                if holds {
                    held += b.price.amount;
                    let reserved: Decimal = d.reserves.iter().map(|r| r.1).sum();
                    prop_assert_eq!(reserved, b.price.amount, "backorder {} deposit", b.id);
                }
            }
            prop_assert_eq!(
                balance.reserved,
                held,
                "{}: reserved vs open deposits",
                CUSTOMERS[i].id
            );
            let from_statement: Decimal = v.statements[i].iter().map(|l| l.reserved_change).sum();
            prop_assert_eq!(
                balance.reserved,
                from_statement,
                "{}: reserved vs statement",
                CUSTOMERS[i].id
            );
        }
        Ok(())
    }

    /// SPEC §4: total debits = total credits; each customer's balance is what their statement adds
    /// up to, and what the model paid in less what the backorders paid and the payouts.
    fn debits_equal_credits(&self, v: &View) -> Result<(), TestCaseError> {
        let audit = self.e.audit().unwrap();
        prop_assert_eq!(audit.total_debits, audit.total_credits);
        let mut funded_usd = Decimal::ZERO;
        let mut funded_eur = Decimal::ZERO;
        for (i, balance) in v.balances.iter().enumerate() {
            let s = &v.statements[i];
            let sum: Decimal = s.iter().map(|l| l.balance_change).sum();
            prop_assert_eq!(
                balance.balance,
                sum,
                "{}: balance vs statement",
                CUSTOMERS[i].id
            );
            let funds: Decimal = s
                .iter()
                .filter(|l| l.kind == TransferKind::Fund)
                .map(|l| l.amount)
                .sum();
            prop_assert_eq!(funds, self.funded[i], "{}: top-ups", CUSTOMERS[i].id);
            let paid: Decimal = v.backorders[i].iter().map(|b| b.paid).sum();
            let paid_out: Decimal = s
                .iter()
                .filter(|l| l.kind == TransferKind::Payout)
                .map(|l| l.amount)
                .sum();
            prop_assert_eq!(
                balance.balance,
                self.funded[i] - paid - paid_out,
                "{}: balance = top-ups - paid - payouts",
                CUSTOMERS[i].id
            );
            if CUSTOMERS[i].currency == Currency::USD {
                funded_usd += self.funded[i];
            } else {
                funded_eur += self.funded[i];
            }
        }
        let total = |k: &str| audit.journal_totals.get(k).copied().unwrap_or_default();
        prop_assert_eq!(total("FUND USD"), funded_usd);
        prop_assert_eq!(total("FUND EUR"), funded_eur);
        Ok(())
    }

    /// SPEC §4: a reservation resolves at most once (and only after it was made, never for more
    /// than it holds); a backorder has at most one deposit.
    fn resolves_at_most_once(&self, v: &View) -> Result<(), TestCaseError> {
        for i in 0..CUSTOMERS.len() {
            for (b, d) in v.deposits(i) {
                prop_assert!(
                    d.reserves.len() <= 1,
                    "backorder {} reserved {} times",
                    b,
                    d.reserves.len()
                );
                let resolutions = d.captures.len() + d.releases.len();
                prop_assert!(
                    resolutions <= d.reserves.len(),
                    "backorder {} resolved {} times",
                    b,
                    resolutions
                );
                if let Some((reserve_id, held)) = d.reserves.first().copied() {
                    for (t, amount, change) in d.captures.iter().chain(&d.releases) {
                        prop_assert!(*t > reserve_id, "backorder {b}: resolved before reserved");
                        prop_assert!(*amount <= held, "backorder {b}: resolved more than held");
                        prop_assert_eq!(*change, -held, "backorder {}: reserved change", b);
                    }
                }
            }
        }
        Ok(())
    }

    /// SPEC §4: every failed, lost, cancelled or expired backorder's deposit is released exactly
    /// once (never captured), with one refund notice per release.
    fn ended_released_once(&self, v: &View) -> Result<(), TestCaseError> {
        for (i, bos) in v.backorders.iter().enumerate() {
            let deposits = v.deposits(i);
            for b in bos {
                let d = deposits.get(&b.id).cloned().unwrap_or_default();
                let refunds: Vec<&Event> = v
                    .events
                    .iter()
                    .filter(|e| {
                        e.backorder == Some(b.id) && matches!(e.kind, EventKind::Refunded { .. })
                    })
                    .collect();
                prop_assert_eq!(
                    refunds.len(),
                    d.releases.len(),
                    "backorder {}: refund notices vs releases",
                    b.id
                );
                if matches!(
                    b.status,
                    Status::Failed | Status::Cancelled | Status::Expired | Status::AuctionLost
                ) {
                    prop_assert!(
                        d.captures.is_empty(),
                        "{} backorder {} was charged",
                        b.status,
                        b.id
                    );
                    prop_assert_eq!(
                        d.releases.len(),
                        d.reserves.len(),
                        "{} backorder {} releases",
                        b.status,
                        b.id
                    );
                    prop_assert_eq!(d.open(), 0);
                    if b.status == Status::Expired {
                        prop_assert!(
                            d.reserves.is_empty(),
                            "expired backorder {} had a deposit",
                            b.id
                        );
                    }
                    if b.status == Status::AuctionLost {
                        prop_assert_eq!(b.amount_due, None);
                    }
                }
            }
        }
        Ok(())
    }

    /// SPEC §2: every history follows the table, chains, keeps its past, and is announced event by
    /// event; INCOMPLETE/REQUESTED match the contact handles at hand.
    fn follows_table(&mut self, v: &View) -> Result<(), TestCaseError> {
        let mut changes: HashMap<u64, Vec<(Option<Status>, Status, Reason)>> = HashMap::new();
        for e in &v.events {
            if let (Some(b), EventKind::StatusChanged { from, to, reason }) = (e.backorder, &e.kind)
            {
                changes.entry(b).or_default().push((*from, *to, *reason));
            }
        }
        let accounts: Vec<Contacts> = CUSTOMERS
            .iter()
            .map(|c| self.e.account(c.id).unwrap().contacts)
            .collect();
        for (i, bos) in v.backorders.iter().enumerate() {
            for b in bos {
                let mut current = None;
                for (k, h) in b.history.iter().enumerate() {
                    prop_assert_eq!(h.from, current, "backorder {} history does not chain", b.id);
                    prop_assert!(
                        TRANSITIONS.contains(&(h.from, h.to)),
                        "backorder {}: {:?} -> {} is not in the table",
                        b.id,
                        h.from,
                        h.to
                    );
                    prop_assert!(h.at <= v.now, "backorder {}: change in the future", b.id);
                    if k > 0 {
                        prop_assert!(
                            h.at >= b.history[k - 1].at,
                            "backorder {}: history out of order",
                            b.id
                        );
                    }
                    current = Some(h.to);
                }
                prop_assert_eq!(
                    current,
                    Some(b.status),
                    "backorder {}: status is not the last change",
                    b.id
                );
                if let Some(old) = self.seen.get(&b.id) {
                    prop_assert!(
                        b.history.starts_with(old),
                        "backorder {}: history rewritten\nwas {:?}\nnow {:?}",
                        b.id,
                        old,
                        b.history
                    );
                }
                self.seen.insert(b.id, b.history.to_vec());
                let announced = changes.remove(&b.id).unwrap_or_default();
                let recorded: Vec<_> = b.history.iter().map(|h| (h.from, h.to, h.reason)).collect();
                prop_assert_eq!(announced, recorded, "backorder {}: events vs history", b.id);
                if matches!(b.status, Status::Requested | Status::Incomplete) {
                    let has = complete(&b.contacts.or(&accounts[i]));
                    prop_assert_eq!(
                        b.status == Status::Requested,
                        has,
                        "backorder {} is {} with contacts complete = {}",
                        b.id,
                        b.status,
                        has
                    );
                }
            }
        }
        prop_assert_eq!(self.seen.len(), v.all().count(), "a backorder disappeared");
        Ok(())
    }

    /// SPEC §2: a caught name is allocated at most once per drop (SUCCESSFUL, or AUCTION-WON and
    /// paid); an exclusive name is held by at most one customer at a time.
    fn allocated_at_most_once(&self, v: &View) -> Result<(), TestCaseError> {
        let mut winners: BTreeMap<(String, Option<DateTime<Utc>>), Vec<u64>> = BTreeMap::new();
        let mut holders: BTreeMap<(String, Option<DateTime<Utc>>), Vec<u64>> = BTreeMap::new();
        for b in v.all() {
            let key = (b.domain.to_string(), b.drop_at);
            let allocations = v
                .events
                .iter()
                .filter(|e| {
                    e.backorder == Some(b.id) && matches!(e.kind, EventKind::Allocated { .. })
                })
                .count();
            prop_assert_eq!(
                allocations,
                usize::from(allocated(b)),
                "backorder {} allocation notices",
                b.id
            );
            if allocated(b) {
                prop_assert!(
                    b.registered_until.is_some(),
                    "backorder {} allocated without a term",
                    b.id
                );
                prop_assert_eq!(b.amount_due, None);
                if b.status == Status::Successful {
                    prop_assert_eq!(b.paid, b.price.amount, "backorder {} paid", b.id);
                }
                winners.entry(key.clone()).or_default().push(b.id);
            } else {
                prop_assert!(b.auth_code.is_none(), "backorder {} has an auth code", b.id);
            }
            if exclusive(b.domain.as_str())
                && matches!(
                    b.status,
                    Status::Backordered | Status::Processing | Status::Successful
                )
            {
                holders.entry(key).or_default().push(b.id);
            }
        }
        for (k, ids) in winners.iter().chain(holders.iter()) {
            prop_assert!(ids.len() <= 1, "{:?} allocated/held by {:?}", k, ids);
        }
        Ok(())
    }

    /// After every deadline has passed nothing is left half-way: only backorders still waiting
    /// for a deletion time (a name never listed) may hold a deposit or payment.
    fn settled(&self) -> Result<(), TestCaseError> {
        let now = self.e.now();
        for (who, c) in CUSTOMERS.iter().enumerate() {
            let mut waiting_deposits = Decimal::ZERO;
            for b in self.backorders(who) {
                let waiting = b.drop_at.is_none_or(|d| d > now) && b.status.awaits_drop();
                prop_assert!(
                    waiting
                        || b.status.is_terminal()
                        || b.status == Status::AuctionLost
                        || (b.status == Status::AuctionWon && b.auth_code.is_some()),
                    "backorder {} still {} (drop {:?}) after every deadline",
                    b.id,
                    b.status,
                    b.drop_at
                );
                if waiting && holds_deposit(&b) {
                    waiting_deposits += b.price.amount;
                }
            }
            let bal = self.e.balance(c.id).unwrap();
            prop_assert_eq!(
                bal.reserved,
                waiting_deposits,
                "{} still has deposits reserved",
                c.id
            );
        }
        Ok(())
    }
}

/// Runs the steps, then the clock out, checking the auditor and `check` after every one.
fn drive(
    c: &Case,
    check: impl Fn(&mut Harness, &View) -> Result<(), TestCaseError>,
) -> Result<(), TestCaseError> {
    let mut h = Harness::new(c.seed, &c.drops, c.short_auctions);
    for (f, amount) in c.opening.iter().enumerate().filter(|(_, a)| **a > 0) {
        h.run(&Step::Fund {
            who: FUNDED[f],
            key: 0,
            amount: Some(Decimal::from(*amount)),
        })?;
    }
    let run_out = std::iter::repeat_n(Step::Advance { hours: 30 }, 20);
    for (i, s) in c.steps.iter().cloned().chain(run_out).enumerate() {
        let at = h.e.now();
        let context = |e: TestCaseError| fail(format!("step {i} {s:?} at {at}: {e}"));
        h.run(&s).map_err(context)?;
        h.audit_clean().map_err(context)?;
        let v = h.view();
        check(&mut h, &v).map_err(context)?;
    }
    h.settled()
}

fn config() -> ProptestConfig {
    ProptestConfig {
        // Keep the tree clean: a failure prints its minimal case; nothing is written to disk.
        failure_persistence: None,
        ..ProptestConfig::with_cases(64)
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn available_balance_never_goes_below_zero(c in case()) {
        drive(&c, |h, v| h.available_never_negative(v))?;
    }

    #[test]
    fn reserved_equals_the_sum_of_open_reservations(c in case()) {
        drive(&c, |h, v| h.reserved_is_open_deposits(v))?;
    }

    #[test]
    fn total_debits_equal_total_credits(c in case()) {
        drive(&c, |h, v| h.debits_equal_credits(v))?;
    }

    #[test]
    fn a_reservation_resolves_at_most_once(c in case()) {
        drive(&c, |h, v| h.resolves_at_most_once(v))?;
    }

    #[test]
    fn failed_lost_cancelled_expired_deposits_are_released_exactly_once(c in case()) {
        drive(&c, |h, v| h.ended_released_once(v))?;
    }

    #[test]
    fn statuses_only_move_along_the_transition_table(c in case()) {
        drive(&c, |h, v| h.follows_table(v))?;
    }

    #[test]
    fn a_caught_name_is_allocated_at_most_once(c in case()) {
        drive(&c, |h, v| h.allocated_at_most_once(v))?;
    }

    /// Idempotency (SPEC §4): the model inside every step already checks that a repeat returns the
    /// first result and a repeat with other fields is IDEMPOTENCY_CONFLICT changing nothing; here
    /// every other invariant is checked too, on the same sequences.
    #[test]
    fn a_repeated_key_returns_the_first_result_and_other_fields_conflict(c in case()) {
        drive(&c, |h, v| {
            h.available_never_negative(v)?;
            h.reserved_is_open_deposits(v)?;
            h.debits_equal_credits(v)?;
            h.resolves_at_most_once(v)?;
            h.ended_released_once(v)?;
            h.follows_table(v)?;
            h.allocated_at_most_once(v)
        })?;
    }
}

/// SPEC §4: accounts start at zero, and customers never funded stay at zero whatever they do.
#[test]
fn accounts_start_at_zero() {
    let h = Harness::new(7, &[48; NAMES.len()], false);
    for c in &CUSTOMERS {
        let b = h.e.balance(c.id).unwrap();
        assert_eq!(
            (b.balance, b.reserved, b.available),
            (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO),
            "{}",
            c.id
        );
        assert_eq!(b.currency, c.currency);
        assert!(h.e.statement(c.id, 0, u32::MAX).unwrap().is_empty());
    }
    for (who, c) in CUSTOMERS.iter().enumerate().filter(|(_, c)| !c.funded) {
        for name in NAMES {
            let _ = h.e.place_backorder(PlaceBackorder {
                account: c.id.into(),
                domain: name.into(),
                ..Default::default()
            });
        }
        for b in h.backorders(who) {
            let _ = h.e.pay(c.id, b.id);
        }
    }
    for _ in 0..8 {
        h.clock.advance(Duration::hours(24));
        assert!(h.e.tick().unwrap().errors.is_empty());
    }
    for c in CUSTOMERS.iter().filter(|c| !c.funded) {
        let b = h.e.balance(c.id).unwrap();
        assert_eq!(
            (b.balance, b.reserved),
            (Decimal::ZERO, Decimal::ZERO),
            "{}",
            c.id
        );
    }
    assert!(h.e.audit().unwrap().is_clean());
}

/// The history invariant must survive the host's clock stepping back (an NTP correction under
/// `SystemClock`): the engine may not record a change before the one it follows.
#[test]
fn a_clock_step_backwards_does_not_break_the_history_invariant() {
    let h = Harness::new(3, &[96; NAMES.len()], false);
    let b =
        h.e.place_backorder(PlaceBackorder {
            account: "ann".into(),
            domain: "alpha.com".into(),
            ..Default::default()
        })
        .unwrap();
    h.clock.set(start() - Duration::seconds(1));
    h.e.cancel_backorder("ann", b.id).unwrap();
    let audit = h.e.audit().unwrap();
    assert!(audit.is_clean(), "{:?}", audit.problems);
}
