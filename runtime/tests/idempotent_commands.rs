//! Cancel, pay and bid once per idempotency key: a host that retries after a timeout or a crash
//! applies each exactly once.

use backorder::{
    full_contacts, Clock, Currency, Engine, ErrorCode, ManualClock, NewAccount, PlaceBackorder,
    Status,
};
use chrono::{Duration, TimeZone, Utc};
use rust_decimal::Decimal;

fn engine() -> (Engine, ManualClock) {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap());
    let e = Engine::builder()
        .clock(clock.clone())
        .seed(3)
        .build()
        .unwrap();
    e.create_account(NewAccount {
        id: "ann".into(),
        currency: Currency::USD,
        contacts: full_contacts("ANN-1"),
    })
    .unwrap();
    e.fund("ann", Decimal::from(1_000), "initial").unwrap();
    (e, clock)
}

fn place(e: &Engine, clock: &ManualClock, domain: &str) -> u64 {
    e.add_pending_deletion(domain, clock.now() + Duration::days(10))
        .unwrap();
    e.place_backorder(PlaceBackorder {
        account: "ann".into(),
        domain: domain.into(),
        ..Default::default()
    })
    .unwrap()
    .id
}

#[test]
fn a_repeated_keyed_cancel_changes_nothing_and_answers_the_same() {
    let (e, clock) = engine();
    let id = place(&e, &clock, "john.com");
    let first = e.cancel_backorder_once("ann", id, "c-1").unwrap();
    assert_eq!(first.status, Status::Cancelled);
    let events = e.events(0, 1_000).unwrap().len();
    let again = e.cancel_backorder_once("ann", id, "c-1").unwrap();
    assert_eq!(again, first);
    assert_eq!(e.events(0, 1_000).unwrap().len(), events, "no new events");
    // The key on another request is a conflict; another account's key space is its own.
    let other = place(&e, &clock, "jane.com");
    let err = e.cancel_backorder_once("ann", other, "c-1").unwrap_err();
    assert_eq!(err.code(), ErrorCode::IdempotencyConflict);
    assert_eq!(e.backorder("ann", other).unwrap().status, Status::Requested);
}

#[test]
fn a_repeated_keyed_payment_charges_once() {
    let (e, clock) = engine();
    let id = place(&e, &clock, "john.info"); // exclusive model: payment due at once
    let before = e.balance("ann").unwrap();
    let paid = e.pay_once("ann", id, "p-1").unwrap();
    assert_eq!(paid.status, Status::Backordered);
    let after = e.balance("ann").unwrap();
    assert!(after.available < before.available);
    assert_eq!(e.pay_once("ann", id, "p-1").unwrap(), paid);
    assert_eq!(e.balance("ann").unwrap(), after, "charged once");
    // Unkeyed, the same payment is refused: nothing is due any more.
    assert_eq!(
        e.pay("ann", id).unwrap_err().code(),
        ErrorCode::PaymentNotDue
    );
}

#[test]
fn a_refused_keyed_request_records_nothing() {
    let (e, clock) = engine();
    let id = place(&e, &clock, "john.com");
    // Nothing is due on an auction-model backorder yet: refused, and the key stays free.
    let err = e.pay_once("ann", id, "k").unwrap_err();
    assert_eq!(err.code(), ErrorCode::PaymentNotDue);
    let err = e.bid_once("ann", id, Decimal::from(60), "k").unwrap_err();
    assert_eq!(err.code(), ErrorCode::StatusDoesNotAllow);
    assert_eq!(
        e.cancel_backorder_once("ann", id, "k").unwrap().status,
        Status::Cancelled
    );
    let err = e.cancel_backorder_once("ann", id, "").unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
}
