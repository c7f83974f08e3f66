//! The transition table, both ways, through the `Engine`:
//!
//! * every row of `TRANSITIONS` is reached by driving the engine (and nothing outside it is), every
//!   history follows the table and is mirrored exactly by the `status_changed` events;
//! * every operation a status does not allow (cancel, modify, pay, bid) is refused with its exact
//!   error code, and the refusal changes nothing: not the backorder's record, not the balance, not
//!   the auction, not the outbox, not the wake-ups. Another account's backorder is "not found".

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use backorder::core::lifecycle::history_follows_table;
use backorder::core::{
    AuctionState, AuctionView, Balance, CatchOutcome, EventKind, Reason, TRANSITIONS,
};
use backorder::{
    full_contacts, Backorder, Contacts, Currency, Engine, ErrorCode, ManualClock, NewAccount,
    PlaceBackorder, Status,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

mod common;
use common::Scripted;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 19, 0, 0).unwrap()
}

/// The deletion time of the main names.
fn drop_at() -> DateTime<Utc> {
    t0() + Duration::days(5)
}

fn hours(h: i64) -> Duration {
    Duration::hours(h)
}

struct World {
    e: Engine,
    clock: ManualClock,
    accounts: RefCell<Vec<String>>,
}

impl World {
    fn new(caught: &[&str]) -> World {
        let clock = ManualClock::new(t0());
        let registry = Scripted(
            caught
                .iter()
                .map(|d| (d.to_string(), CatchOutcome::Caught))
                .collect(),
        );
        let e = Engine::builder()
            .clock(clock.clone())
            .seed(7)
            .registry(Box::new(registry))
            .build()
            .unwrap();
        World {
            e,
            clock,
            accounts: RefCell::default(),
        }
    }

    fn account(&self, id: &str, contacts: Contacts, funds: Decimal) {
        self.e
            .create_account(NewAccount {
                id: id.into(),
                currency: Currency::USD,
                contacts,
            })
            .unwrap();
        if funds > dec!(0) {
            self.e.fund(id, funds, "initial").unwrap();
        }
        self.accounts.borrow_mut().push(id.to_string());
    }

    fn place(&self, account: &str, domain: &str) -> u64 {
        self.e
            .place_backorder(PlaceBackorder {
                account: account.into(),
                domain: domain.into(),
                ..Default::default()
            })
            .unwrap()
            .id
    }

    fn at(&self, t: DateTime<Utc>) {
        self.clock.set(t);
        let report = self.e.tick().unwrap();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
    }

    fn status(&self, account: &str, id: u64) -> Status {
        self.e.backorder(account, id).unwrap().status
    }

    /// Every backorder of every account, with its account.
    fn all(&self) -> Vec<(String, Backorder)> {
        let mut out = Vec::new();
        for a in self.accounts.borrow().iter() {
            for b in self.e.backorders(a).unwrap() {
                out.push((a.clone(), b));
            }
        }
        out
    }

    fn assert_clean(&self) {
        let report = self.e.audit().unwrap();
        assert!(report.is_clean(), "audit: {:?}", report.problems);
    }
}

// ---------------------------------------------------------------------------------------------
// Every row of the table is reached
// ---------------------------------------------------------------------------------------------

type Row = (Option<Status>, Status);

fn row_name(r: &Row) -> String {
    format!("{} -> {}", r.0.map_or("NEW", Status::as_str), r.1.as_str())
}

/// Collects the rows a world's histories went through, after checking that each history follows
/// the table, moves forward in time and is mirrored exactly by its `status_changed` events.
fn collect_rows(w: &World, rows: &mut BTreeSet<Row>) {
    let events = w.e.events(0, u32::MAX).unwrap();
    for (account, b) in w.all() {
        assert!(
            history_follows_table(&b.history),
            "{account}/{}: {:?}",
            b.id,
            b.history
        );
        assert_eq!(b.history.last().unwrap().to, b.status);
        let from_events: Vec<(Option<Status>, Status, Reason)> = events
            .iter()
            .filter(|e| e.backorder == Some(b.id))
            .filter_map(|e| match e.kind {
                EventKind::StatusChanged { from, to, reason } => Some((from, to, reason)),
                _ => None,
            })
            .collect();
        let from_history: Vec<(Option<Status>, Status, Reason)> =
            b.history.iter().map(|h| (h.from, h.to, h.reason)).collect();
        assert_eq!(from_events, from_history, "{account}/{}", b.id);
        rows.extend(b.history.iter().map(|h| (h.from, h.to)));
    }
}

#[test]
fn every_row_of_the_transition_table_is_reached_through_the_engine() {
    let d = drop_at();
    let w = World::new(&["solo.com", "contest.com", "ex.info"]);
    for n in [
        "solo.com",
        "taken.com",
        "inc-a.com",
        "inc-b.com",
        "inc-c.com",
        "flip.com",
        "late.com",
        "poor1.com",
        "poor2.com",
        "poor3.com",
        "contest.com",
        "ex.info",
        "ex2.info",
        "ex3.info",
        "ex4.info",
        "ex5.info",
    ] {
        w.e.add_pending_deletion(n, d).unwrap();
    }
    let full = |h: &str| full_contacts(h);
    w.account("solo", full("SOLO-1"), dec!(100));
    w.account("loser", full("LOSER-1"), dec!(100));
    w.account("inc", Contacts::default(), dec!(200));
    w.account("flip", full("FLIP-1"), dec!(0));
    w.account("late", full("LATE-1"), dec!(0));
    for p in ["poor1", "poor2", "poor3"] {
        w.account(p, full("POOR-1"), dec!(0));
    }
    for a in ["a1", "a2", "a3"] {
        w.account(a, full("BIDDER-1"), dec!(500));
    }
    for x in ["x1", "x2", "x3", "x4", "x5"] {
        w.account(x, Contacts::default(), dec!(100));
    }

    // NEW -> REQUESTED / INCOMPLETE / PENDING-PAYMENT.
    let solo = w.place("solo", "solo.com");
    let taken = w.place("loser", "taken.com");
    let inc_a = w.place("inc", "inc-a.com");
    let inc_b = w.place("inc", "inc-b.com");
    let inc_c = w.place("inc", "inc-c.com");
    let flip = w.place("flip", "flip.com");
    let poor: Vec<u64> = ["poor1", "poor2", "poor3"]
        .iter()
        .map(|p| w.place(p, &format!("{p}.com")))
        .collect();
    let bidders: Vec<u64> = ["a1", "a2", "a3"]
        .iter()
        .map(|a| w.place(a, "contest.com"))
        .collect();
    let ex_paid = w.place("x1", "ex.info");
    let ex_beaten = w.place("x2", "ex.info");
    let ex_cancelled = w.place("x3", "ex2.info");
    let ex_unpaid = w.place("x4", "ex3.info");
    let ex_taken = w.place("x4", "ex4.info");

    // PENDING-PAYMENT -> BACKORDERED, and -> CANCELLED twice (beaten, by the customer).
    w.e.pay("x1", ex_paid).unwrap();
    assert_eq!(w.status("x2", ex_beaten), Status::Cancelled);
    w.e.cancel_backorder("x3", ex_cancelled).unwrap();
    w.e.pay("x4", ex_taken).unwrap();
    // BACKORDERED -> CANCELLED only when the holder restores the name and it leaves the list:
    // the payment goes back (to the payment method: the account owes nothing).
    let ex_restored = w.place("x5", "ex5.info");
    w.e.pay("x5", ex_restored).unwrap();
    assert_eq!(w.e.withdraw_pending_deletion("ex5.info").unwrap(), 1);
    let restored = w.e.backorder("x5", ex_restored).unwrap();
    assert_eq!(restored.status, Status::Cancelled);
    assert_eq!(
        restored.history.last().unwrap().reason,
        Reason::NameWithdrawn
    );
    let refunded: Vec<Decimal> =
        w.e.events(0, u32::MAX)
            .unwrap()
            .into_iter()
            .filter(|e| e.backorder == Some(ex_restored))
            .filter_map(|e| match e.kind {
                EventKind::Refunded { amount, .. } => Some(amount),
                _ => None,
            })
            .collect();
    assert_eq!(refunded, vec![restored.price.amount]);

    // INCOMPLETE -> REQUESTED (modify) and -> CANCELLED; REQUESTED -> INCOMPLETE -> REQUESTED
    // (account contacts removed and restored) -> CANCELLED.
    w.clock.set(t0() + hours(1));
    let b = w.e.modify_backorder("inc", inc_a, full("INC-1")).unwrap();
    assert_eq!(b.status, Status::Requested);
    w.e.cancel_backorder("inc", inc_b).unwrap();
    w.e.set_contacts("flip", Contacts::default()).unwrap();
    assert_eq!(w.status("flip", flip), Status::Incomplete);
    w.e.set_contacts("flip", full("FLIP-2")).unwrap();
    assert_eq!(w.status("flip", flip), Status::Requested);
    w.e.cancel_backorder("flip", flip).unwrap();

    // REQUESTED -> ACTIVE / INACTIVE.
    w.at(d - hours(72));
    assert_eq!(w.status("solo", solo), Status::Active);
    for (i, p) in ["poor1", "poor2", "poor3"].iter().enumerate() {
        assert_eq!(w.status(p, poor[i]), Status::Inactive);
    }
    // INACTIVE -> ACTIVE -> CANCELLED; INACTIVE -> CANCELLED.
    w.clock.set(d - hours(71) - Duration::minutes(30));
    w.e.fund("poor1", dec!(49), "top-up").unwrap();
    w.at(d - hours(71));
    assert_eq!(w.status("poor1", poor[0]), Status::Active);
    w.clock.set(d - hours(60));
    w.e.cancel_backorder("poor2", poor[1]).unwrap();
    w.clock.set(d - hours(48));
    w.e.cancel_backorder("poor1", poor[0]).unwrap();

    // INCOMPLETE -> EXPIRED and INACTIVE -> EXPIRED at the deposit deadline.
    w.at(d - hours(24));
    assert_eq!(w.status("inc", inc_c), Status::Expired);
    assert_eq!(w.status("poor3", poor[2]), Status::Expired);

    // REQUESTED -> EXPIRED: placed after the deposit deadline without funds.
    w.clock.set(d - hours(10));
    let late = w.place("late", "late.com");
    w.at(d - hours(10));
    assert_eq!(w.status("late", late), Status::Expired);

    // PENDING-PAYMENT -> EXPIRED at the finalization date.
    w.at(d - hours(3));
    assert_eq!(w.status("x4", ex_unpaid), Status::Expired);

    // ACTIVE/BACKORDERED -> PROCESSING -> SUCCESSFUL / FAILED / AUCTION-PENDING.
    w.at(d);
    assert_eq!(w.status("solo", solo), Status::Successful);
    assert_eq!(w.status("loser", taken), Status::Failed);
    assert_eq!(w.status("inc", inc_a), Status::Failed);
    assert_eq!(w.status("x1", ex_paid), Status::Successful);
    assert_eq!(w.status("x4", ex_taken), Status::Failed);
    for (i, a) in ["a1", "a2", "a3"].iter().enumerate() {
        assert_eq!(w.status(a, bidders[i]), Status::AuctionPending);
    }

    // AUCTION-PENDING -> AUCTION-WON / AUCTION-LOST; AUCTION-WON -> AUCTION-LOST (unpaid);
    // AUCTION-LOST -> AUCTION-WON (second chance).
    w.at(d + hours(24));
    w.clock.set(d + hours(25));
    w.e.bid("a1", bidders[0], dec!(200)).unwrap();
    w.e.bid("a2", bidders[1], dec!(150)).unwrap();
    w.at(d + hours(96));
    assert_eq!(w.status("a1", bidders[0]), Status::AuctionWon);
    assert_eq!(w.status("a2", bidders[1]), Status::AuctionLost);
    w.at(d + hours(168));
    assert_eq!(w.status("a1", bidders[0]), Status::AuctionLost);
    assert_eq!(w.status("a2", bidders[1]), Status::AuctionWon);
    w.clock.set(d + hours(169));
    w.e.pay("a2", bidders[1]).unwrap();

    let mut reached = BTreeSet::new();
    collect_rows(&w, &mut reached);
    let table: BTreeSet<Row> = TRANSITIONS.iter().copied().collect();
    assert_eq!(
        table.len(),
        TRANSITIONS.len(),
        "the table has duplicate rows"
    );
    let missing: Vec<String> = table.difference(&reached).map(row_name).collect();
    let outside: Vec<String> = reached.difference(&table).map(row_name).collect();
    assert!(missing.is_empty(), "rows never reached: {missing:?}");
    assert!(outside.is_empty(), "changes outside the table: {outside:?}");
    assert_eq!(reached, table);
    w.assert_clean();
}

// ---------------------------------------------------------------------------------------------
// Refusals change nothing
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    Cancel,
    Modify,
    Pay,
    /// A bid far above any price.
    BidHigh,
    /// A bid just under the minimum (the opening price when there is no open auction).
    BidLow,
}

const OPS: [Op; 5] = [Op::Cancel, Op::Modify, Op::Pay, Op::BidHigh, Op::BidLow];

/// Everything a refused operation must leave as it was.
#[derive(Debug, PartialEq)]
struct Snapshot {
    backorder: Backorder,
    balance: Balance,
    intruder: Balance,
    statement: usize,
    auction: Option<AuctionView>,
    events: usize,
    next_wake: Option<DateTime<Utc>>,
    counts: BTreeMap<Status, u64>,
}

fn snapshot(w: &World, account: &str, id: u64) -> Snapshot {
    let backorder = w.e.backorder(account, id).unwrap();
    Snapshot {
        auction: backorder.auction.map(|_| w.e.auction(account, id).unwrap()),
        backorder,
        balance: w.e.balance(account).unwrap(),
        intruder: w.e.balance(INTRUDER).unwrap(),
        statement: w.e.statement(account, 0, u32::MAX).unwrap().len(),
        events: w.e.events(0, u32::MAX).unwrap().len(),
        next_wake: w.e.next_wake().unwrap(),
        counts: w.e.status_counts().unwrap(),
    }
}

const INTRUDER: &str = "intruder";

fn low_bid(w: &World, account: &str, b: &Backorder) -> Decimal {
    match b.auction {
        Some(_) => w.e.auction(account, b.id).unwrap().minimum_bid - dec!(0.01),
        None => dec!(49),
    }
}

fn call(w: &World, account: &str, id: u64, op: Op, low: Decimal) -> backorder::Result<()> {
    match op {
        Op::Cancel => w.e.cancel_backorder(account, id).map(drop),
        Op::Modify => {
            w.e.modify_backorder(account, id, full_contacts("CHANGED-1"))
                .map(drop)
        }
        Op::Pay => w.e.pay(account, id).map(drop),
        Op::BidHigh => w.e.bid(account, id, dec!(100000)).map(drop),
        Op::BidLow => w.e.bid(account, id, low).map(drop),
    }
}

/// What the rules say of `op` on `b` now: `None` when it is allowed (then it is not tried here:
/// it would change the backorder), else the exact refusal.
fn expected(w: &World, account: &str, b: &Backorder, op: Op) -> Option<ErrorCode> {
    use ErrorCode as C;
    use Status::*;
    let now = w.e.now();
    let closed = b.finalization_at.is_some_and(|f| now >= f);
    match op {
        Op::Cancel => match b.status {
            Backordered => Some(C::CancellationNotAllowed),
            Requested | Incomplete | Inactive | Active | PendingPayment => {
                closed.then_some(C::CancellationClosed)
            }
            _ => Some(C::StatusDoesNotAllow),
        },
        Op::Modify if b.status.awaits_drop() => closed.then_some(C::CancellationClosed),
        Op::Modify => Some(C::StatusDoesNotAllow),
        Op::Pay => match b.status {
            PendingPayment if closed => Some(C::PlacementClosed),
            PendingPayment => {
                let available = w.e.balance(account).unwrap().available;
                (available < b.price.amount).then_some(C::InsufficientFunds)
            }
            AuctionWon if b.amount_due.is_some() && b.pay_by.is_some_and(|p| now < p) => None,
            _ => Some(C::PaymentNotDue),
        },
        Op::BidHigh | Op::BidLow => match b.status {
            AuctionPending => {
                let v = w.e.auction(account, b.id).unwrap();
                let open = v.state == AuctionState::Open && now >= v.starts_at && now < v.ends_at;
                if !open {
                    Some(C::AuctionNotOpen)
                } else if op == Op::BidLow {
                    Some(C::BidTooLow)
                } else {
                    None
                }
            }
            _ => Some(C::StatusDoesNotAllow),
        },
    }
}

/// (status, operation, error code name) of each refusal.
type Seen = BTreeSet<(Status, Op, &'static str)>;

/// Tries every operation on every backorder of the world, as its owner where the rules refuse it
/// and always as another account; checks the exact error and that nothing changed.
fn check_refusals(w: &World, seen: &mut Seen) {
    for (account, b) in w.all() {
        for op in OPS {
            let low = low_bid(w, &account, &b);
            if let Some(want) = expected(w, &account, &b, op) {
                let before = snapshot(w, &account, b.id);
                let err = call(w, &account, b.id, op, low).expect_err(&format!(
                    "{op:?} on {} backorder {account}/{} at {} should be refused with {want:?}",
                    b.status,
                    b.id,
                    w.e.now()
                ));
                assert_eq!(
                    err.code(),
                    want,
                    "{op:?} on {} backorder {account}/{}: {err}",
                    b.status,
                    b.id
                );
                assert_eq!(
                    snapshot(w, &account, b.id),
                    before,
                    "{op:?} on {} changed something",
                    b.status
                );
                seen.insert((b.status, op, want.as_str()));
            }
            // Another account's backorder does not exist for it, whatever the status.
            let before = snapshot(w, &account, b.id);
            let err = call(w, INTRUDER, b.id, op, low).unwrap_err();
            assert_eq!(err.code(), ErrorCode::BackorderNotFound, "{op:?}: {err}");
            assert_eq!(err, backorder::Error::BackorderNotFound(b.id));
            assert_eq!(snapshot(w, &account, b.id), before);
        }
        assert_eq!(
            w.e.backorder(INTRUDER, b.id).unwrap_err().code(),
            ErrorCode::BackorderNotFound
        );
        assert_eq!(
            w.e.auction(INTRUDER, b.id).unwrap_err().code(),
            ErrorCode::BackorderNotFound
        );
    }
}

/// Every refusal the rules define, by status and operation.
fn every_refusal() -> Seen {
    use ErrorCode as C;
    use Status::*;
    let mut all = Seen::new();
    for s in Status::ALL {
        let cancel = match s {
            Backordered => C::CancellationNotAllowed,
            Requested | Incomplete | Inactive | Active | PendingPayment => C::CancellationClosed,
            _ => C::StatusDoesNotAllow,
        };
        all.insert((s, Op::Cancel, cancel.as_str()));
        let modify = if s.awaits_drop() {
            C::CancellationClosed
        } else {
            C::StatusDoesNotAllow
        };
        all.insert((s, Op::Modify, modify.as_str()));
        if s == PendingPayment {
            all.insert((s, Op::Pay, C::PlacementClosed.as_str()));
            all.insert((s, Op::Pay, C::InsufficientFunds.as_str()));
        } else {
            all.insert((s, Op::Pay, C::PaymentNotDue.as_str()));
        }
        if s == AuctionPending {
            all.insert((s, Op::BidHigh, C::AuctionNotOpen.as_str()));
            all.insert((s, Op::BidLow, C::AuctionNotOpen.as_str()));
            all.insert((s, Op::BidLow, C::BidTooLow.as_str()));
        } else {
            all.insert((s, Op::BidHigh, C::StatusDoesNotAllow.as_str()));
            all.insert((s, Op::BidLow, C::StatusDoesNotAllow.as_str()));
        }
    }
    all
}

/// Backorders sitting in every awaiting status when the finalization date arrives before the
/// host's next tick: cancel and modify are closed, payment is closed.
fn past_the_finalization_date(seen: &mut Seen) {
    let d = drop_at();
    let w = World::new(&[]);
    for n in [
        "inc.com", "ina.com", "act.com", "req.com", "l1.info", "l2.info", "l3.info",
    ] {
        w.e.add_pending_deletion(n, d).unwrap();
    }
    w.account(INTRUDER, full_contacts("INTRUDER-1"), dec!(1000));
    w.account("inc", Contacts::default(), dec!(100));
    w.account("ina", full_contacts("INA-1"), dec!(0));
    w.account("act", full_contacts("ACT-1"), dec!(100));
    w.account("req", full_contacts("REQ-1"), dec!(0));
    w.account("pp", Contacts::default(), dec!(100));
    w.account("pp0", Contacts::default(), dec!(10));
    w.account("bo", Contacts::default(), dec!(100));
    w.place("inc", "inc.com");
    w.place("ina", "ina.com");
    w.place("act", "act.com");
    w.place("pp", "l1.info");
    w.place("pp0", "l2.info");
    let bo = w.place("bo", "l3.info");
    w.e.pay("bo", bo).unwrap();
    check_refusals(&w, seen);

    w.at(d - hours(72));
    w.clock.set(d - hours(48));
    w.place("req", "req.com");
    check_refusals(&w, seen);

    // The finalization date, before any tick: everything still waits for the drop.
    w.clock.set(d - hours(3));
    let statuses: BTreeSet<Status> = w.all().iter().map(|(_, b)| b.status).collect();
    assert_eq!(
        statuses,
        BTreeSet::from([
            Status::Requested,
            Status::Incomplete,
            Status::Active,
            Status::Inactive,
            Status::PendingPayment,
            Status::Backordered,
        ])
    );
    check_refusals(&w, seen);
    w.at(d - hours(3));
    check_refusals(&w, seen);
    w.at(d);
    check_refusals(&w, seen);
    w.assert_clean();
}

/// The life of auctions and settled backorders, checked at every stage.
fn through_the_drop_and_the_auctions(seen: &mut Seen) {
    let d = drop_at();
    let d2 = d + hours(48);
    let d3 = d + Duration::days(10);
    let w = World::new(&["won.com", "pend.com", "ok.com", "ex.info"]);
    for n in [
        "won.com", "ok.com", "fail.com", "can.com", "exp.com", "ex.info", "pp.info",
    ] {
        w.e.add_pending_deletion(n, d).unwrap();
    }
    w.e.add_pending_deletion("pend.com", d2).unwrap();
    for n in ["later.com", "later.info", "later2.info"] {
        w.e.add_pending_deletion(n, d3).unwrap();
    }
    w.account(INTRUDER, full_contacts("INTRUDER-1"), dec!(1000));
    let bidders = ["w1", "w2", "w3"];
    for a in bidders {
        w.account(a, full_contacts("BIDDER-1"), dec!(1000));
    }
    w.account("s1", full_contacts("S1-1"), dec!(100));
    w.account("s2", full_contacts("S2-1"), dec!(100));
    w.account("c1", full_contacts("C1-1"), dec!(100));
    w.account("e1", full_contacts("E1-1"), dec!(0));
    w.account("x1", Contacts::default(), dec!(100));
    w.account("x2", Contacts::default(), dec!(100));
    w.account("x3", Contacts::default(), dec!(0));
    w.account("r1", full_contacts("R1-1"), dec!(0));
    w.account("i1", Contacts::default(), dec!(0));
    w.account("b1", Contacts::default(), dec!(100));
    w.account("p1", Contacts::default(), dec!(100));

    let won: Vec<u64> = bidders.iter().map(|a| w.place(a, "won.com")).collect();
    let pend: Vec<u64> = bidders[..2]
        .iter()
        .map(|a| w.place(a, "pend.com"))
        .collect();
    w.place("s1", "ok.com");
    w.place("s2", "fail.com");
    let can = w.place("c1", "can.com");
    w.e.cancel_backorder("c1", can).unwrap();
    w.place("e1", "exp.com");
    let ex = w.place("x1", "ex.info");
    w.place("x2", "ex.info");
    w.e.pay("x1", ex).unwrap();
    w.place("x3", "pp.info");
    w.place("r1", "later.com");
    w.place("i1", "later.com");
    let later = w.place("b1", "later.info");
    w.e.pay("b1", later).unwrap();
    w.place("p1", "later2.info");

    w.at(t0() + hours(1));
    check_refusals(&w, seen);
    // Deposit window: ACTIVE and INACTIVE.
    w.at(d - hours(48));
    check_refusals(&w, seen);
    // After the deadline and the finalization date: EXPIRED, the rest closed.
    w.at(d - hours(2));
    check_refusals(&w, seen);
    // The drop: SUCCESSFUL, FAILED, and a scheduled auction (not open yet).
    w.at(d);
    w.at(d + hours(1));
    assert_eq!(w.status("w1", won[0]), Status::AuctionPending);
    check_refusals(&w, seen);
    // The auction is open: bids under the minimum are too low.
    w.at(d + hours(24));
    w.clock.set(d + hours(25));
    w.e.bid("w1", won[0], dec!(200)).unwrap();
    w.e.bid("w2", won[1], dec!(150)).unwrap();
    check_refusals(&w, seen);
    // pend.com is caught; its auction opens a day later.
    w.at(d2);
    w.at(d2 + hours(24));
    check_refusals(&w, seen);
    // won.com's end has passed but the closing tick has not run: closed to bids.
    w.clock.set(d + hours(96));
    check_refusals(&w, seen);
    // Closed: the winner owes the price, the others lost.
    w.at(d + hours(96));
    assert_eq!(w.status("w1", won[0]), Status::AuctionWon);
    check_refusals(&w, seen);
    // Paid: nothing is due any more.
    w.clock.set(d + hours(97));
    w.e.pay("w1", won[0]).unwrap();
    check_refusals(&w, seen);
    // pend.com closes with no bids: w1 (earliest) owes the opening price by the deadline...
    let pend_end = d2 + hours(96);
    w.at(pend_end);
    assert_eq!(w.status("w1", pend[0]), Status::AuctionWon);
    // ... which passes before the tick: too late to pay.
    let pay_by = pend_end + hours(72);
    w.clock.set(pay_by);
    check_refusals(&w, seen);
    w.at(pay_by);
    assert_eq!(w.status("w1", pend[0]), Status::AuctionLost);
    assert_eq!(w.status("w2", pend[1]), Status::AuctionWon);
    check_refusals(&w, seen);
    w.assert_clean();
}

/// A backorder left PROCESSING (the outcome of its drop could not be recorded, so the drop is
/// retried): every operation is refused. The recording is made to fail by catching a drop that
/// was already caught and allocated, which needs the clock to go back.
fn while_processing(seen: &mut Seen) {
    let d = drop_at();
    let w = World::new(&["again.com"]);
    w.e.add_pending_deletion("again.com", d).unwrap();
    w.account(INTRUDER, full_contacts("INTRUDER-1"), dec!(1000));
    w.account("first", full_contacts("FIRST-1"), dec!(100));
    w.account("second", full_contacts("SECOND-1"), dec!(100));
    let first = w.place("first", "again.com");
    w.at(d - hours(72));
    w.at(d);
    assert_eq!(w.status("first", first), Status::Successful);

    w.clock.set(d - hours(10));
    let second = w.place("second", "again.com");
    w.at(d - hours(10));
    assert_eq!(w.status("second", second), Status::Active);
    w.clock.set(d);
    let report = w.e.tick().unwrap();
    assert_eq!(report.errors.len(), 1, "{report:?}");
    assert_eq!(w.status("second", second), Status::Processing);
    check_refusals(&w, seen);
    w.assert_clean();
}

#[test]
fn operations_a_status_does_not_allow_are_refused_exactly_and_change_nothing() {
    let mut seen = Seen::new();
    past_the_finalization_date(&mut seen);
    through_the_drop_and_the_auctions(&mut seen);
    while_processing(&mut seen);
    let want = every_refusal();
    let missing: Vec<&(Status, Op, &str)> = want.difference(&seen).collect();
    assert!(missing.is_empty(), "refusals never exercised: {missing:?}");
    let unexpected: Vec<&(Status, Op, &str)> = seen.difference(&want).collect();
    assert!(unexpected.is_empty(), "unexpected refusals: {unexpected:?}");
}
