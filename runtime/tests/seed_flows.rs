//! The seed documents' flows, end to end through the engine, with exact amounts:
//! HEXONET's five steps (auction model, `.com` fee 49 USD) and Alibaba's pre-release (exclusive
//! model, `.info` 39 USD).

use backorder::core::{CatchOutcome, EventKind, Reason, RefundDestination, TransferKind};
use backorder::{
    full_contacts, Contacts, Currency, Engine, ErrorCode, ManualClock, NewAccount, PlaceBackorder,
    Status,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// A registry that answers from a script (default: taken by another registrar).
mod common;
use common::Scripted;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap()
}

fn engine(script: &[(&str, CatchOutcome)]) -> (Engine, ManualClock) {
    let clock = ManualClock::new(t0());
    let registry = Scripted(
        script
            .iter()
            .map(|(d, o)| (d.to_string(), o.clone()))
            .collect(),
    );
    let engine = Engine::builder()
        .clock(clock.clone())
        .seed(1)
        .registry(Box::new(registry))
        .build()
        .unwrap();
    (engine, clock)
}

fn account(e: &Engine, id: &str, contacts: Contacts) {
    e.create_account(NewAccount {
        id: id.into(),
        currency: Currency::USD,
        contacts,
    })
    .unwrap();
}

fn place(e: &Engine, account: &str, domain: &str) -> u64 {
    e.place_backorder(PlaceBackorder {
        account: account.into(),
        domain: domain.into(),
        ..Default::default()
    })
    .unwrap()
    .id
}

fn status(e: &Engine, account: &str, id: u64) -> Status {
    e.backorder(account, id).unwrap().status
}

fn at(clock: &ManualClock, e: &Engine, t: DateTime<Utc>) {
    clock.set(t);
    let report = e.tick().unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
}

fn balance(e: &Engine, account: &str) -> (Decimal, Decimal, Decimal) {
    let b = e.balance(account).unwrap();
    (b.balance, b.reserved, b.available)
}

fn events_of(e: &Engine, backorder: u64) -> Vec<EventKind> {
    e.events(0, u32::MAX)
        .unwrap()
        .into_iter()
        .filter(|ev| ev.backorder == Some(backorder))
        .map(|ev| ev.kind)
        .collect()
}

#[test]
fn hexonet_five_steps_with_exact_amounts() {
    let drop = t0() + Duration::days(5) + Duration::hours(19);
    let (e, clock) = engine(&[
        ("solo.com", CatchOutcome::Caught),
        ("contest.com", CatchOutcome::Caught),
        ("miss.com", CatchOutcome::Taken),
    ]);
    for d in [
        "solo.com",
        "miss.com",
        "contest.com",
        "later.com",
        "poor.com",
    ] {
        e.add_pending_deletion(d, drop).unwrap();
    }
    account(&e, "alice", full_contacts("ALICE-1"));
    account(&e, "bob", Contacts::default());
    account(&e, "carol", full_contacts("CAROL-1"));
    account(&e, "dave", full_contacts("DAVE-1"));
    account(&e, "erin", full_contacts("ERIN-1"));

    // Step 1: every account starts at zero; placing is free.
    assert_eq!(balance(&e, "alice"), (dec!(0), dec!(0), dec!(0)));
    let solo = place(&e, "alice", "solo.com");
    let miss = place(&e, "alice", "miss.com");
    let a_contest = place(&e, "alice", "contest.com");
    let c_contest = place(&e, "carol", "contest.com");
    let d_contest = place(&e, "dave", "contest.com");
    assert_eq!(status(&e, "alice", solo), Status::Requested);
    // Without contact handles: INCOMPLETE until they exist.
    let later = place(&e, "bob", "later.com");
    assert_eq!(status(&e, "bob", later), Status::Incomplete);
    e.set_contacts("bob", full_contacts("BOB-1")).unwrap();
    assert_eq!(status(&e, "bob", later), Status::Requested);
    let poor = place(&e, "erin", "poor.com");
    e.fund("alice", dec!(500), "alice-1").unwrap();
    e.fund("carol", dec!(300), "carol-1").unwrap();
    e.fund("dave", dec!(100), "dave-1").unwrap();
    e.fund("bob", dec!(20), "bob-1").unwrap();
    // Cancelling is allowed before the finalization date.
    assert_eq!(
        e.cancel_backorder("bob", later).unwrap().status,
        Status::Cancelled
    );

    // Step 2: 72 h before the deletion the deposits are reserved.
    at(&clock, &e, drop - Duration::hours(72));
    for id in [solo, miss, a_contest] {
        assert_eq!(status(&e, "alice", id), Status::Active);
    }
    assert_eq!(balance(&e, "alice"), (dec!(500), dec!(147), dec!(353)));
    assert_eq!(balance(&e, "carol"), (dec!(300), dec!(49), dec!(251)));
    // Not enough funds: INACTIVE, one low-balance notice however often it is retried.
    assert_eq!(status(&e, "erin", poor), Status::Inactive);
    at(&clock, &e, drop - Duration::hours(60));
    let low = events_of(&e, poor)
        .into_iter()
        .filter(|k| matches!(k, EventKind::LowBalance { .. }))
        .count();
    assert_eq!(low, 1);
    // Still unfunded at the 24 h deadline: void, nothing reserved.
    at(&clock, &e, drop - Duration::hours(24));
    assert_eq!(status(&e, "erin", poor), Status::Expired);
    assert_eq!(balance(&e, "erin"), (dec!(0), dec!(0), dec!(0)));

    // After the finalization date (deletion − 3 h) cancelling is refused.
    clock.set(drop - Duration::hours(2));
    let err = e.cancel_backorder("alice", miss).unwrap_err();
    assert_eq!(err.code(), ErrorCode::CancellationClosed);

    // Step 3: at the deletion time the backorders are processed.
    at(&clock, &e, drop);
    let miss_b = e.backorder("alice", miss).unwrap();
    assert_eq!(miss_b.status, Status::Failed);
    assert_eq!(miss_b.reason(), Some(Reason::Taken));
    let history: Vec<Status> = miss_b.history.iter().map(|h| h.to).collect();
    assert_eq!(
        history,
        [
            Status::Requested,
            Status::Active,
            Status::Processing,
            Status::Failed
        ]
    );
    assert!(events_of(&e, miss).contains(&EventKind::Refunded {
        amount: dec!(49),
        currency: Currency::USD,
        destination: RefundDestination::Balance,
    }));

    // Step 4: caught with one backorder: SUCCESSFUL, the deposit captured as the fee.
    let solo_b = e.backorder("alice", solo).unwrap();
    assert_eq!(solo_b.status, Status::Successful);
    assert_eq!(solo_b.paid, dec!(49));
    // Alice: 500 − 49 (solo captured); miss released; contest still held.
    assert_eq!(balance(&e, "alice"), (dec!(451), dec!(49), dec!(402)));

    // Step 5: caught with three backorders: a private auction among exactly those.
    for (acct, id) in [
        ("alice", a_contest),
        ("carol", c_contest),
        ("dave", d_contest),
    ] {
        assert_eq!(status(&e, acct, id), Status::AuctionPending);
        assert!(events_of(&e, id)
            .iter()
            .any(|k| matches!(k, EventKind::AuctionInvitation { .. })));
    }
    let view = e.auction("carol", c_contest).unwrap();
    assert_eq!(view.participants, 3);
    assert_eq!(view.opening_price, dec!(49));
    // Not open yet: bids are refused.
    let err = e.bid("carol", c_contest, dec!(120)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::AuctionNotOpen);
    at(&clock, &e, view.starts_at);
    e.bid("carol", c_contest, dec!(120)).unwrap();
    let v = e.bid("dave", d_contest, dec!(100)).unwrap();
    // Carol leads; the price is Dave's 100 plus the increment at 100 (5).
    assert!(!v.leading);
    assert_eq!(v.price, dec!(105));
    // A bid in the last ten minutes extends the end.
    let ends = v.ends_at;
    clock.set(ends - Duration::minutes(5));
    let err = e.bid("dave", d_contest, dec!(104)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::BidTooLow);
    let v = e.bid("dave", d_contest, dec!(110)).unwrap();
    assert_eq!(v.ends_at, ends + Duration::minutes(5));
    // Carol still leads at Dave's 110 plus the increment at 110 (5).
    assert_eq!(v.price, dec!(115));

    // The end: the winner owes the price; losers are released at once.
    at(&clock, &e, v.ends_at);
    let won = e.backorder("carol", c_contest).unwrap();
    assert_eq!(won.status, Status::AuctionWon);
    assert_eq!(won.amount_due, Some(dec!(115)));
    for (acct, id) in [("alice", a_contest), ("dave", d_contest)] {
        assert_eq!(status(&e, acct, id), Status::AuctionLost);
    }
    assert_eq!(balance(&e, "alice"), (dec!(451), dec!(0), dec!(451)));
    assert_eq!(balance(&e, "dave"), (dec!(100), dec!(0), dec!(100)));
    // Paying: the 49 deposit counts toward the 115; 66 is charged; the auth code is issued.
    let paid = e.pay("carol", c_contest).unwrap();
    assert_eq!(paid.paid, dec!(115));
    assert_eq!(paid.amount_due, None);
    let code = paid.auth_code.clone().expect("auth code issued");
    assert_eq!(code.expose().len(), 16);
    assert_eq!(balance(&e, "carol"), (dec!(185), dec!(0), dec!(185)));
    let kinds: Vec<TransferKind> = e
        .statement("carol", 0, 100)
        .unwrap()
        .into_iter()
        .map(|l| l.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            TransferKind::Fund,
            TransferKind::Reserve,
            TransferKind::Charge,
            TransferKind::Capture
        ]
    );
    let issued = e
        .events(0, u32::MAX)
        .unwrap()
        .into_iter()
        .find(|ev| matches!(ev.kind, EventKind::AuthCodeIssued { .. }))
        .expect("auth code event");
    assert!(!format!("{issued:?}").contains(code.expose()));
    assert!(e.audit().unwrap().is_clean());
}

#[test]
fn unpaid_winner_loses_the_name_to_a_second_chance_offer() {
    let drop = t0() + Duration::days(4);
    let (e, clock) = engine(&[("hot.com", CatchOutcome::Caught)]);
    e.add_pending_deletion("hot.com", drop).unwrap();
    for (id, funds) in [("ann", dec!(60)), ("ben", dec!(200)), ("cy", dec!(200))] {
        account(&e, id, full_contacts("HANDLE-1"));
        e.fund(id, funds, &format!("{id}-fund")).unwrap();
    }
    let ann = place(&e, "ann", "hot.com");
    let ben = place(&e, "ben", "hot.com");
    let cy = place(&e, "cy", "hot.com");
    at(&clock, &e, drop - Duration::hours(72));
    at(&clock, &e, drop);
    let v = e.auction("ann", ann).unwrap();
    at(&clock, &e, v.starts_at);
    // Equal maxima: the earlier bid wins the tie.
    e.bid("ann", ann, dec!(150)).unwrap();
    clock.set(v.starts_at + Duration::hours(1));
    e.bid("ben", ben, dec!(150)).unwrap();
    at(&clock, &e, v.ends_at);
    let a = e.backorder("ann", ann).unwrap();
    assert_eq!(a.status, Status::AuctionWon);
    assert_eq!(a.amount_due, Some(dec!(150)));
    // Ann cannot pay 150 − 49 from 11 available: refused, nothing changes.
    let before = balance(&e, "ann");
    assert_eq!(
        e.pay("ann", ann).unwrap_err().code(),
        ErrorCode::InsufficientFunds
    );
    assert_eq!(balance(&e, "ann"), before);
    // The payment deadline passes: Ann loses the name and her deposit comes back; Ben, next, gets
    // a second-chance offer at his own maximum.
    at(&clock, &e, a.pay_by.unwrap());
    let a = e.backorder("ann", ann).unwrap();
    assert_eq!(a.status, Status::AuctionLost);
    assert_eq!(a.reason(), Some(Reason::AuctionUnpaid));
    assert_eq!(balance(&e, "ann"), (dec!(60), dec!(0), dec!(60)));
    let b = e.backorder("ben", ben).unwrap();
    assert_eq!(b.status, Status::AuctionWon);
    assert_eq!(b.reason(), Some(Reason::SecondChanceOffer));
    assert_eq!(b.amount_due, Some(dec!(150)));
    // His deposit was released when he lost; he pays the whole price now.
    assert_eq!(balance(&e, "ben"), (dec!(200), dec!(0), dec!(200)));
    e.pay("ben", ben).unwrap();
    assert_eq!(balance(&e, "ben"), (dec!(50), dec!(0), dec!(50)));
    assert_eq!(status(&e, "cy", cy), Status::AuctionLost);
    assert!(e.audit().unwrap().is_clean());
}

#[test]
fn an_auction_nobody_bids_in_goes_to_the_earliest_backorder_at_the_opening_price() {
    let drop = t0() + Duration::days(4);
    let (e, clock) = engine(&[("quiet.net", CatchOutcome::Caught)]);
    e.add_pending_deletion("quiet.net", drop).unwrap();
    let mut ids = Vec::new();
    for id in ["first", "second"] {
        account(&e, id, full_contacts("HANDLE-1"));
        // The same key in two accounts: keys are scoped to the account.
        e.fund(id, dec!(100), "fund").unwrap();
        ids.push(place(&e, id, "quiet.net"));
        clock.set(clock_now(&e) + Duration::minutes(1));
    }
    at(&clock, &e, drop - Duration::hours(72));
    at(&clock, &e, drop);
    let v = e.auction("first", ids[0]).unwrap();
    at(&clock, &e, v.starts_at);
    at(&clock, &e, v.ends_at);
    let first = e.backorder("first", ids[0]).unwrap();
    assert_eq!(first.status, Status::AuctionWon);
    assert_eq!(first.amount_due, Some(dec!(49)));
    assert_eq!(status(&e, "second", ids[1]), Status::AuctionLost);
}

fn clock_now(e: &Engine) -> DateTime<Utc> {
    e.now()
}

#[test]
fn alibaba_pre_release_with_exact_amounts() {
    let drop = t0() + Duration::days(3);
    let (e, clock) = engine(&[
        ("prerelease.info", CatchOutcome::Caught),
        ("gone.info", CatchOutcome::Taken),
        ("owed.info", CatchOutcome::Taken),
        ("turned.info", CatchOutcome::Premium { price: None }),
    ]);
    for d in [
        "prerelease.info",
        "gone.info",
        "owed.info",
        "turned.info",
        "lonely.info",
    ] {
        e.add_pending_deletion(d, drop).unwrap();
    }
    for id in ["u1", "u2", "u3"] {
        account(&e, id, full_contacts("HANDLE-1"));
        e.fund(id, dec!(100), &format!("{id}-fund")).unwrap();
    }
    // Each name can be backordered by one customer only: the first to place and pay.
    let first = place(&e, "u1", "prerelease.info");
    let second = place(&e, "u2", "prerelease.info");
    assert_eq!(status(&e, "u1", first), Status::PendingPayment);
    assert_eq!(status(&e, "u2", second), Status::PendingPayment);
    let paid = e.pay("u1", first).unwrap();
    assert_eq!(paid.status, Status::Backordered);
    assert_eq!(balance(&e, "u1"), (dec!(100), dec!(39), dec!(61)));
    let refused = e.backorder("u2", second).unwrap();
    assert_eq!(refused.status, Status::Cancelled);
    assert_eq!(refused.reason(), Some(Reason::NameBackorderedByAnother));
    let err = e
        .place_backorder(PlaceBackorder {
            account: "u3".into(),
            domain: "prerelease.info".into(),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NameAlreadyBackordered);
    // No cancellation once paid.
    assert_eq!(
        e.cancel_backorder("u1", first).unwrap_err().code(),
        ErrorCode::CancellationNotAllowed
    );

    // Not caught: refunded to the original payment method when the account owes nothing…
    let gone = place(&e, "u2", "gone.info");
    e.pay("u2", gone).unwrap();
    // …and to the balance when it owes the registrar money.
    let owed = place(&e, "u3", "owed.info");
    e.pay("u3", owed).unwrap();
    e.set_outstanding("u3", dec!(10)).unwrap();
    // A name that turned premium by registration time fails.
    let turned = place(&e, "u3", "turned.info");
    e.pay("u3", turned).unwrap();
    // Once paid, the name is closed to others.
    let err = e
        .place_backorder(PlaceBackorder {
            account: "u2".into(),
            domain: "turned.info".into(),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NameAlreadyBackordered);
    // An order never paid expires at the finalization date.
    let unpaid = place(&e, "u2", "lonely.info");

    at(&clock, &e, drop - Duration::hours(3));
    assert_eq!(status(&e, "u2", unpaid), Status::Expired);
    at(&clock, &e, drop);
    let won = e.backorder("u1", first).unwrap();
    assert_eq!(won.status, Status::Successful);
    assert_eq!(won.registered_until, Some(drop + chrono::Months::new(12)));
    assert_eq!(balance(&e, "u1"), (dec!(61), dec!(0), dec!(61)));

    let g = e.backorder("u2", gone).unwrap();
    assert_eq!(g.status, Status::Failed);
    assert!(events_of(&e, gone).contains(&EventKind::Refunded {
        amount: dec!(39),
        currency: Currency::USD,
        destination: RefundDestination::OriginalPaymentMethod,
    }));
    // The 39 left the balance for the payment method.
    assert_eq!(balance(&e, "u2"), (dec!(61), dec!(0), dec!(61)));
    assert!(e
        .statement("u2", 0, 100)
        .unwrap()
        .iter()
        .any(|l| l.kind == TransferKind::Payout && l.amount == dec!(39)));

    assert!(events_of(&e, owed).contains(&EventKind::Refunded {
        amount: dec!(39),
        currency: Currency::USD,
        destination: RefundDestination::Balance,
    }));
    let t = e.backorder("u3", turned).unwrap();
    assert_eq!(t.status, Status::Failed);
    assert_eq!(t.reason(), Some(Reason::Premium));
    // u3: both refunds went back to the balance (it owes money).
    assert_eq!(balance(&e, "u3"), (dec!(100), dec!(0), dec!(100)));
    assert!(e.audit().unwrap().is_clean());
}

#[test]
fn premium_names_cannot_be_backordered() {
    let (e, _) = engine(&[]);
    let mut info = e.policies().into_iter().find(|p| p.zone == "info").unwrap();
    info.premium_names.insert("gold.info".into());
    info.name_prices.insert("silver.info".into(), dec!(99));
    e.set_policy(info).unwrap();
    account(&e, "u1", full_contacts("HANDLE-1"));
    let err = e
        .place_backorder(PlaceBackorder {
            account: "u1".into(),
            domain: "gold.info".into(),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::PremiumName);
    // A per-name price applies in the exclusive model.
    let b = e
        .place_backorder(PlaceBackorder {
            account: "u1".into(),
            domain: "silver.info".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(b.price.amount, dec!(99));
}

#[test]
fn host_keys_cannot_collide_with_other_accounts_or_the_engines_own_keys() {
    let drop = t0() + Duration::days(4);
    let (e, clock) = engine(&[]);
    e.add_pending_deletion("keys.com", drop).unwrap();
    account(&e, "alice", full_contacts("ALICE-1"));
    account(&e, "mallory", full_contacts("MAL-1"));
    let id = place(&e, "alice", "keys.com");
    // Mallory uses the key the engine uses for Alice's deposit, and Alice's top-up key.
    e.fund("mallory", dec!(5), &format!("bo:{id}:deposit"))
        .unwrap();
    e.fund("mallory", dec!(5), "top-up-1").unwrap();
    e.fund("alice", dec!(100), "top-up-1").unwrap();
    at(&clock, &e, drop - Duration::hours(72));
    assert_eq!(status(&e, "alice", id), Status::Active);
    assert_eq!(balance(&e, "alice"), (dec!(100), dec!(49), dec!(51)));
    // Within one account the key still makes a top-up idempotent.
    let again = e.fund("alice", dec!(100), "top-up-1").unwrap();
    assert_eq!(again.amount, dec!(100));
    assert_eq!(balance(&e, "alice"), (dec!(100), dec!(49), dec!(51)));
    assert_eq!(
        e.fund("alice", dec!(7), "top-up-1").unwrap_err().code(),
        ErrorCode::IdempotencyConflict
    );
}
