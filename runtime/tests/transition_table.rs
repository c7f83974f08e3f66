//! Every row of the transition table is reached through the engine, and operations a status does
//! not allow are refused with the exact error, changing nothing.

use std::collections::BTreeSet;

use backorder::core::{CatchOutcome, TRANSITIONS};
use backorder::{
    full_contacts, Backorder, Contacts, Currency, Engine, ErrorCode, ManualClock, NewAccount,
    PlaceBackorder, Status,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal_macros::dec;

mod common;
use common::Scripted;

struct World {
    e: Engine,
    clock: ManualClock,
    placed: Vec<(String, u64)>,
}

impl World {
    fn new(caught: &[&str]) -> World {
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 5, 4, 0, 0, 0).unwrap());
        let registry = Scripted(
            caught
                .iter()
                .map(|d| (d.to_string(), CatchOutcome::Caught))
                .collect(),
        );
        let e = Engine::builder()
            .clock(clock.clone())
            .seed(3)
            .registry(Box::new(registry))
            .build()
            .unwrap();
        World {
            e,
            clock,
            placed: Vec::new(),
        }
    }

    fn account(&self, id: &str, contacts: Contacts, funds: rust_decimal::Decimal) {
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
    }

    fn place(&mut self, account: &str, domain: &str) -> u64 {
        let b = self
            .e
            .place_backorder(PlaceBackorder {
                account: account.into(),
                domain: domain.into(),
                ..Default::default()
            })
            .unwrap();
        self.placed.push((account.to_string(), b.id));
        b.id
    }

    fn at(&self, t: DateTime<Utc>) {
        self.clock.set(t);
        let r = self.e.tick().unwrap();
        assert!(r.errors.is_empty(), "{:?}", r.errors);
    }

    fn get(&self, account: &str, id: u64) -> Backorder {
        self.e.backorder(account, id).unwrap()
    }

    fn rows(&self) -> BTreeSet<(Option<Status>, Status)> {
        let mut rows = BTreeSet::new();
        for (account, id) in &self.placed {
            for h in self.get(account, *id).history {
                rows.insert((h.from, h.to));
            }
        }
        rows
    }
}

#[test]
fn every_row_of_the_table_is_reached_through_the_engine() {
    let mut w = World::new(&["single.com", "contest.com", "paid.info"]);
    let t0 = w.e.now();
    let drop = t0 + Duration::days(5);
    let late_drop = t0 + Duration::days(1) + Duration::hours(12);
    for d in [
        "single.com",
        "contest.com",
        "miss.com",
        "noinfo.com",
        "flip.com",
        "cancel-a.com",
        "cancel-b.com",
        "cancel-c.com",
        "cancel-d.com",
        "poor.com",
        "paid.info",
        "abandon.info",
        "ignored.info",
        "restored.info",
    ] {
        w.e.add_pending_deletion(d, drop).unwrap();
    }
    w.e.add_pending_deletion("late.com", late_drop).unwrap();
    w.account("rich", full_contacts("RICH-1"), dec!(1000));
    w.account("rich2", full_contacts("RICH-2"), dec!(1000));
    w.account("rich3", full_contacts("RICH-3"), dec!(1000));
    w.account("bare", Contacts::default(), dec!(1000));
    w.account("bare2", Contacts::default(), dec!(1000));
    w.account("flip", full_contacts("FLIP-1"), dec!(1000));
    w.account("broke", full_contacts("BROKE-1"), dec!(0));
    w.account("broke2", full_contacts("BROKE-2"), dec!(0));

    // NEW → REQUESTED / INCOMPLETE / PENDING-PAYMENT.
    let single = w.place("rich", "single.com");
    let contest: Vec<u64> = ["rich", "rich2", "rich3"]
        .iter()
        .map(|a| w.place(a, "contest.com"))
        .collect();
    let miss = w.place("rich", "miss.com");
    let incomplete_expires = w.place("bare", "noinfo.com");
    let incomplete_cancelled = w.place("bare2", "cancel-a.com");
    // REQUESTED → INCOMPLETE (handles removed) → REQUESTED (handles back).
    let flip = w.place("flip", "flip.com");
    w.e.set_contacts("flip", Contacts::default()).unwrap();
    assert_eq!(w.get("flip", flip).status, Status::Incomplete);
    w.e.set_contacts("flip", full_contacts("FLIP-1")).unwrap();
    assert_eq!(w.get("flip", flip).status, Status::Requested);
    let requested_cancelled = w.place("rich", "cancel-b.com");
    let active_cancelled = w.place("rich", "cancel-c.com");
    let inactive_cancelled = w.place("broke", "cancel-d.com");
    let inactive_expires = w.place("broke", "poor.com");
    let paid = w.place("rich", "paid.info");
    let lost_race = w.place("rich2", "paid.info");
    let abandoned = w.place("rich3", "abandon.info");
    let ignored = w.place("rich", "ignored.info");
    let restored = w.place("rich2", "restored.info");
    w.e.pay("rich", paid).unwrap(); // PENDING-PAYMENT → BACKORDERED; the other → CANCELLED
                                    // BACKORDERED → CANCELLED only when the holder restores the name (it leaves the list); the
                                    // customer gets the payment back (to the payment method: the account owes nothing).
    w.e.pay("rich2", restored).unwrap();
    assert_eq!(w.e.withdraw_pending_deletion("restored.info").unwrap(), 1);
    let b = w.get("rich2", restored);
    assert_eq!(b.status, Status::Cancelled);
    assert_eq!(
        b.history.last().unwrap().reason,
        backorder::core::Reason::NameWithdrawn
    );
    let refunds: Vec<_> =
        w.e.events(0, u32::MAX)
            .unwrap()
            .into_iter()
            .filter(|e| e.backorder == Some(restored))
            .filter_map(|e| match e.kind {
                backorder::EventKind::Refunded { amount, .. } => Some(amount),
                _ => None,
            })
            .collect();
    assert_eq!(refunds, vec![b.price.amount]);
    assert_eq!(w.get("rich2", lost_race).status, Status::Cancelled);
    w.e.cancel_backorder("rich3", abandoned).unwrap(); // PENDING-PAYMENT → CANCELLED
    w.e.cancel_backorder("bare2", incomplete_cancelled).unwrap();
    w.e.cancel_backorder("rich", requested_cancelled).unwrap();

    // REQUESTED → EXPIRED: placed after the deposit deadline without the funds.
    w.clock.set(late_drop - Duration::hours(20));
    let late = w.place("broke2", "late.com");
    w.at(late_drop - Duration::hours(20));
    assert_eq!(w.get("broke2", late).status, Status::Expired);

    // Deposit window: ACTIVE, INACTIVE; then INACTIVE → ACTIVE after a top-up.
    w.at(drop - Duration::hours(72));
    assert_eq!(w.get("broke", inactive_expires).status, Status::Inactive);
    w.e.cancel_backorder("broke", inactive_cancelled).unwrap();
    w.e.cancel_backorder("rich", active_cancelled).unwrap();
    w.account("topped", full_contacts("TOP-1"), dec!(0));
    w.e.add_pending_deletion("topped.com", drop).unwrap();
    let topped = w.place("topped", "topped.com");
    w.at(drop - Duration::hours(71));
    assert_eq!(w.get("topped", topped).status, Status::Inactive);
    w.e.fund("topped", dec!(49), "later").unwrap();
    w.at(drop - Duration::hours(69));
    assert_eq!(w.get("topped", topped).status, Status::Active);
    // Deadlines: INACTIVE, INCOMPLETE → EXPIRED; the unpaid exclusive order at finalization.
    w.at(drop - Duration::hours(24));
    assert_eq!(w.get("broke", inactive_expires).status, Status::Expired);
    assert_eq!(w.get("bare", incomplete_expires).status, Status::Expired);
    w.at(drop - Duration::hours(3));
    assert_eq!(w.get("rich", ignored).status, Status::Expired);

    // The drop: PROCESSING → SUCCESSFUL / FAILED / AUCTION-PENDING.
    w.at(drop);
    assert_eq!(w.get("rich", single).status, Status::Successful);
    assert_eq!(w.get("rich", miss).status, Status::Failed);
    assert_eq!(w.get("rich", paid).status, Status::Successful);
    // The auction: the winner does not pay; the next gets a second chance.
    let v = w.e.auction("rich", contest[0]).unwrap();
    w.at(v.starts_at);
    w.e.bid("rich2", contest[1], dec!(90)).unwrap();
    w.e.bid("rich3", contest[2], dec!(80)).unwrap();
    w.at(v.ends_at);
    assert_eq!(w.get("rich2", contest[1]).status, Status::AuctionWon);
    let pay_by = w.get("rich2", contest[1]).pay_by.unwrap();
    w.at(pay_by);
    assert_eq!(w.get("rich2", contest[1]).status, Status::AuctionLost);
    assert_eq!(w.get("rich3", contest[2]).status, Status::AuctionWon);

    // The dashboard counts agree with the backorders themselves.
    let mut expected: std::collections::BTreeMap<Status, u64> =
        Status::ALL.iter().map(|s| (*s, 0)).collect();
    for (account, id) in &w.placed {
        *expected.get_mut(&w.get(account, *id).status).unwrap() += 1;
    }
    assert_eq!(w.e.status_counts().unwrap(), expected);

    let reached = w.rows();
    let table: BTreeSet<(Option<Status>, Status)> = TRANSITIONS.iter().copied().collect();
    let missing: Vec<_> = table.difference(&reached).collect();
    assert!(missing.is_empty(), "rows never reached: {missing:?}");
    assert!(reached.is_subset(&table));
    assert!(w.e.audit().unwrap().is_clean());
}

/// Calls `op`, expects `code`, and checks the backorder and the balance did not change.
fn refused(
    w: &World,
    account: &str,
    id: u64,
    code: ErrorCode,
    op: impl FnOnce(&Engine) -> backorder::Result<()>,
) {
    let before = (w.get(account, id), w.e.balance(account).unwrap());
    let events_before = w.e.events(0, u32::MAX).unwrap().len();
    let err = op(&w.e).unwrap_err();
    assert_eq!(err.code(), code, "{err}");
    assert_eq!((w.get(account, id), w.e.balance(account).unwrap()), before);
    assert_eq!(w.e.events(0, u32::MAX).unwrap().len(), events_before);
}

#[test]
fn operations_a_status_does_not_allow_are_refused_and_change_nothing() {
    let mut w = World::new(&["won.com"]);
    let drop = w.e.now() + Duration::days(5);
    for d in [
        "won.com",
        "lost.com",
        "open.com",
        "mine.info",
        "auction.com",
    ] {
        w.e.add_pending_deletion(d, drop).unwrap();
    }
    w.account("a", full_contacts("A-1"), dec!(500));
    w.account("b", full_contacts("B-1"), dec!(500));
    let requested = w.place("a", "open.com");
    let won = w.place("a", "won.com");
    let lost = w.place("a", "lost.com");
    let exclusive = w.place("a", "mine.info");
    w.e.pay("a", exclusive).unwrap();

    // Another account's backorder is "not found", exactly like a missing one.
    refused(&w, "a", requested, ErrorCode::BackorderNotFound, |e| {
        e.cancel_backorder("b", requested).map(|_| ())
    });
    let missing = w.e.cancel_backorder("b", 999_999).unwrap_err();
    let foreign = w.e.cancel_backorder("b", requested).unwrap_err();
    assert_eq!(
        missing.to_string().replace("999999", "N"),
        foreign.to_string().replace(&requested.to_string(), "N")
    );
    // Nothing is due on a REQUESTED backorder; bids need an auction.
    refused(&w, "a", requested, ErrorCode::PaymentNotDue, |e| {
        e.pay("a", requested).map(|_| ())
    });
    refused(&w, "a", requested, ErrorCode::StatusDoesNotAllow, |e| {
        e.bid("a", requested, dec!(100)).map(|_| ())
    });
    // A paid exclusive backorder cannot be cancelled.
    refused(&w, "a", exclusive, ErrorCode::CancellationNotAllowed, |e| {
        e.cancel_backorder("a", exclusive).map(|_| ())
    });
    // After the finalization date neither cancel nor modify.
    w.at(drop - Duration::hours(72));
    w.clock.set(drop - Duration::hours(2));
    refused(&w, "a", requested, ErrorCode::CancellationClosed, |e| {
        e.cancel_backorder("a", requested).map(|_| ())
    });
    refused(&w, "a", requested, ErrorCode::CancellationClosed, |e| {
        e.modify_backorder("a", requested, full_contacts("A-2"))
            .map(|_| ())
    });
    // Ended backorders allow nothing.
    w.at(drop);
    for (id, status) in [(won, Status::Successful), (lost, Status::Failed)] {
        assert_eq!(w.get("a", id).status, status);
        refused(&w, "a", id, ErrorCode::StatusDoesNotAllow, |e| {
            e.cancel_backorder("a", id).map(|_| ())
        });
        refused(&w, "a", id, ErrorCode::StatusDoesNotAllow, |e| {
            e.modify_backorder("a", id, full_contacts("A-3"))
                .map(|_| ())
        });
        refused(&w, "a", id, ErrorCode::PaymentNotDue, |e| {
            e.pay("a", id).map(|_| ())
        });
    }
    assert!(w.e.audit().unwrap().is_clean());
}

#[test]
fn a_backorder_without_an_auction_has_none_to_show() {
    let mut w = World::new(&[]);
    let drop = w.e.now() + Duration::days(5);
    w.e.add_pending_deletion("plain.com", drop).unwrap();
    w.account("a", full_contacts("A-1"), dec!(0));
    let id = w.place("a", "plain.com");
    refused(&w, "a", id, ErrorCode::StatusDoesNotAllow, |e| {
        e.auction("a", id).map(|_| ())
    });
}
