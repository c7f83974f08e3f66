//! The seed documents' flows end to end through the `Engine`, with exact amounts:
//!
//! * HEXONET's five steps (auction model, `.com` fee 49 USD, lite 24.5 USD): place, secure the
//!   deposit from 72 h before the deletion, process at the drop, single catch, private auction;
//!   cancellation until the finalization date; the auction's unpaid-winner, tie and no-bid rules.
//! * Alibaba's pre-release (exclusive model, `.info` 39 USD, per-name prices): first to pay holds
//!   the name, no cancellation once paid, refunds to the balance or the original payment method,
//!   premium names, unpaid orders expiring.
//!
//! Every scenario ends with a clean audit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use backorder::core::{
    AuctionState, CatchOutcome, CatchProgress, DropJob, Event, EventKind, Reason,
    RefundDestination, Registry, TransferKind,
};
use backorder::{
    full_contacts, Backorder, Contacts, Currency, Engine, ErrorCode, ManualClock, NewAccount,
    PlaceBackorder, Status, TickReport, TldPolicy,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// A registry that answers from a script by name (default: taken by another registrar) and
/// remembers every job it was given.
#[derive(Clone, Default)]
struct Script {
    outcomes: HashMap<String, CatchOutcome>,
    jobs: Arc<Mutex<Vec<DropJob>>>,
}

impl Registry for Script {
    fn attempt(&mut self, job: &DropJob, _now: DateTime<Utc>) -> CatchProgress {
        self.jobs.lock().unwrap().push(job.clone());
        self.outcomes
            .get(job.domain.as_str())
            .cloned()
            .unwrap_or(CatchOutcome::Taken)
            .into()
    }
}

/// The start of every scenario: a Monday, 19:00 UTC.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 19, 0, 0).unwrap()
}

/// The deletion time of every name: five days later, in Verisign's 19:00 UTC batch.
fn drop_at() -> DateTime<Utc> {
    t0() + Duration::days(5)
}

fn hours(h: i64) -> Duration {
    Duration::hours(h)
}

fn minutes(m: i64) -> Duration {
    Duration::minutes(m)
}

fn secs(s: i64) -> Duration {
    Duration::seconds(s)
}

fn code<T: std::fmt::Debug>(r: backorder::Result<T>) -> ErrorCode {
    r.expect_err("the engine should have refused").code()
}

struct World {
    e: Engine,
    clock: ManualClock,
    jobs: Arc<Mutex<Vec<DropJob>>>,
}

impl World {
    fn new(script: &[(&str, CatchOutcome)]) -> World {
        let clock = ManualClock::new(t0());
        let registry = Script {
            outcomes: script
                .iter()
                .map(|(d, o)| (d.to_string(), o.clone()))
                .collect(),
            jobs: Arc::default(),
        };
        let jobs = registry.jobs.clone();
        let e = Engine::builder()
            .clock(clock.clone())
            .seed(1)
            .registry(Box::new(registry))
            .build()
            .unwrap();
        World { e, clock, jobs }
    }

    /// Lists every name for deletion at [`drop_at`].
    fn pending(&self, names: &[&str]) {
        for n in names {
            self.e.add_pending_deletion(n, drop_at()).unwrap();
        }
    }

    fn account(&self, id: &str, contacts: Contacts, funds: Decimal) {
        let a = self
            .e
            .create_account(NewAccount {
                id: id.into(),
                currency: Currency::USD,
                contacts,
            })
            .unwrap();
        assert_eq!(a.outstanding, dec!(0));
        assert_eq!(
            self.money(id),
            (dec!(0), dec!(0), dec!(0)),
            "accounts start at zero"
        );
        if funds > dec!(0) {
            self.e.fund(id, funds, "initial").unwrap();
        }
    }

    fn try_place(&self, account: &str, domain: &str) -> backorder::Result<Backorder> {
        self.e.place_backorder(PlaceBackorder {
            account: account.into(),
            domain: domain.into(),
            ..Default::default()
        })
    }

    fn place(&self, account: &str, domain: &str) -> Backorder {
        self.try_place(account, domain).unwrap()
    }

    /// Sets the clock and does the work due, which must all succeed.
    fn at(&self, t: DateTime<Utc>) -> TickReport {
        self.clock.set(t);
        let report = self.e.tick().unwrap();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        report
    }

    fn get(&self, account: &str, id: u64) -> Backorder {
        self.e.backorder(account, id).unwrap()
    }

    fn status(&self, account: &str, id: u64) -> Status {
        self.get(account, id).status
    }

    /// (balance, reserved, available)
    fn money(&self, account: &str) -> (Decimal, Decimal, Decimal) {
        let b = self.e.balance(account).unwrap();
        assert_eq!(b.available, b.balance - b.reserved);
        (b.balance, b.reserved, b.available)
    }

    fn events(&self) -> Vec<Event> {
        let mut out: Vec<Event> = Vec::new();
        loop {
            let after = out.last().map_or(0, |e| e.seq);
            let page = self.e.events(after, 100).unwrap();
            if page.is_empty() {
                return out;
            }
            out.extend(page);
        }
    }

    fn kinds(&self, backorder: u64) -> Vec<EventKind> {
        self.events()
            .into_iter()
            .filter(|e| e.backorder == Some(backorder))
            .map(|e| e.kind)
            .collect()
    }

    fn refunds(&self, backorder: u64) -> Vec<(Decimal, RefundDestination)> {
        self.kinds(backorder)
            .into_iter()
            .filter_map(|k| match k {
                EventKind::Refunded {
                    amount,
                    currency,
                    destination,
                } => {
                    assert_eq!(currency, Currency::USD);
                    Some((amount, destination))
                }
                _ => None,
            })
            .collect()
    }

    fn low_balance_notices(&self, backorder: u64) -> Vec<(Decimal, Decimal)> {
        self.kinds(backorder)
            .into_iter()
            .filter_map(|k| match k {
                EventKind::LowBalance {
                    needed, available, ..
                } => Some((needed, available)),
                _ => None,
            })
            .collect()
    }

    fn count(&self, backorder: u64, name: &str) -> usize {
        self.kinds(backorder)
            .iter()
            .filter(|k| k.name() == name)
            .count()
    }

    /// The account's statement as (kind, amount, balance change, reserved change).
    fn statement(&self, account: &str) -> Vec<(TransferKind, Decimal, Decimal, Decimal)> {
        self.e
            .statement(account, 0, 1000)
            .unwrap()
            .into_iter()
            .map(|l| (l.kind, l.amount, l.balance_change, l.reserved_change))
            .collect()
    }

    fn jobs_for(&self, domain: &str) -> Vec<DropJob> {
        self.jobs
            .lock()
            .unwrap()
            .iter()
            .filter(|j| j.domain.as_str() == domain)
            .cloned()
            .collect()
    }

    fn assert_clean(&self) {
        let report = self.e.audit().unwrap();
        assert!(report.is_clean(), "audit: {:?}", report.problems);
    }
}

/// The last status change of a backorder: (from, to, reason, at).
fn last_change(b: &Backorder) -> (Option<Status>, Status, Reason, DateTime<Utc>) {
    let h = b.history.last().unwrap();
    (h.from, h.to, h.reason, h.at)
}

fn status_changes(w: &World, id: u64) -> Vec<(Option<Status>, Status, Reason)> {
    w.kinds(id)
        .into_iter()
        .filter_map(|k| match k {
            EventKind::StatusChanged { from, to, reason } => Some((from, to, reason)),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// HEXONET, auction model
// ---------------------------------------------------------------------------------------------

#[test]
fn hexonet_step1_placing_is_free_requested_or_incomplete_until_contacts_exist() {
    let w = World::new(&[]);
    w.pending(&["john.com", "jane.com"]);
    w.account("alice", Contacts::default(), dec!(100));
    w.account("bob", full_contacts("BOB-1"), dec!(0));
    let owner_only = Contacts {
        owner: Some("CAROL-1".into()),
        ..Contacts::default()
    };
    w.account("carol", owner_only.clone(), dec!(0));

    // Without contact handles: INCOMPLETE.
    let a = w.place("alice", "john.com");
    assert_eq!(a.status, Status::Incomplete);
    assert_eq!(a.reason(), Some(Reason::MissingContacts));
    assert_eq!(a.price.amount, dec!(49));
    assert_eq!(a.price.currency, Currency::USD);
    assert_eq!(a.drop_at, Some(drop_at()));
    assert_eq!(a.finalization_at, Some(drop_at() - hours(3)));
    assert_eq!(a.deposit_opens_at, Some(drop_at() - hours(72)));
    assert_eq!(a.deposit_deadline_at, Some(drop_at() - hours(24)));
    assert_eq!(a.reservation, None);
    assert_eq!(a.history.len(), 1);
    assert_eq!(a.history[0].from, None);
    assert_eq!(a.history[0].at, t0());
    assert_eq!(
        status_changes(&w, a.id),
        vec![(None, Status::Incomplete, Reason::MissingContacts)]
    );

    // With them: REQUESTED, and free.
    let b = w.place("bob", "john.com");
    assert_eq!(b.status, Status::Requested);
    assert_eq!(b.reason(), Some(Reason::Placed));
    assert_eq!(
        status_changes(&w, b.id),
        vec![(None, Status::Requested, Reason::Placed)]
    );
    assert_eq!(w.money("alice"), (dec!(100), dec!(0), dec!(100)));
    assert_eq!(w.money("bob"), (dec!(0), dec!(0), dec!(0)));
    // One open backorder per account and name.
    assert_eq!(
        code(w.try_place("bob", "john.com")),
        ErrorCode::DuplicateBackorder
    );

    // Partial handles are INCOMPLETE; the backorder's own handles fill the account's gaps.
    let c1 = w.place("carol", "john.com");
    assert_eq!(c1.status, Status::Incomplete);
    let c2 =
        w.e.place_backorder(PlaceBackorder {
            account: "carol".into(),
            domain: "jane.com".into(),
            contacts: Contacts {
                admin: Some("CAROL-2".into()),
                tech: Some("CAROL-3".into()),
                billing: Some("CAROL-4".into()),
                ..Contacts::default()
            },
            ..Default::default()
        })
        .unwrap();
    assert_eq!(c2.status, Status::Requested);

    // The deposit window opens: an INCOMPLETE backorder gets no deposit, even with funds.
    w.at(drop_at() - hours(72));
    assert_eq!(w.status("alice", a.id), Status::Incomplete);
    assert_eq!(w.money("alice"), (dec!(100), dec!(0), dec!(100)));

    // Completing the account's handles makes it REQUESTED at once; the deposit follows.
    w.clock.set(drop_at() - hours(48));
    w.e.set_contacts("alice", full_contacts("ALICE-1")).unwrap();
    let a = w.get("alice", a.id);
    assert_eq!(a.status, Status::Requested);
    assert_eq!(
        last_change(&a),
        (
            Some(Status::Incomplete),
            Status::Requested,
            Reason::ContactsCompleted,
            drop_at() - hours(48)
        )
    );
    w.at(drop_at() - hours(48));
    assert_eq!(w.status("alice", a.id), Status::Active);
    assert_eq!(w.money("alice"), (dec!(100), dec!(49), dec!(51)));

    // Still incomplete at the deposit deadline: void.
    w.at(drop_at() - hours(24));
    let c1 = w.get("carol", c1.id);
    assert_eq!(c1.status, Status::Expired);
    assert_eq!(c1.reason(), Some(Reason::DepositDeadlinePassed));
    assert_eq!(w.money("carol"), (dec!(0), dec!(0), dec!(0)));
    w.assert_clean();
}

#[test]
fn hexonet_step2_deposit_from_72h_low_balance_once_void_at_24h() {
    let w = World::new(&[]);
    w.pending(&["john.com"]);
    w.account("rich", full_contacts("RICH-1"), dec!(100));
    w.account("poor", full_contacts("POOR-1"), dec!(30));
    w.account("broke", full_contacts("BROKE-1"), dec!(0));
    let rich = w.place("rich", "john.com").id;
    let poor = w.place("poor", "john.com").id;
    let broke = w.place("broke", "john.com").id;

    // One second before the window nothing is reserved.
    w.at(drop_at() - hours(72) - secs(1));
    for (acct, id) in [("rich", rich), ("poor", poor), ("broke", broke)] {
        assert_eq!(w.status(acct, id), Status::Requested);
        assert_eq!(w.get(acct, id).reservation, None);
    }
    assert_eq!(w.money("rich"), (dec!(100), dec!(0), dec!(100)));

    // 72 h before the deletion: the deposit (= the fee) is reserved where the balance allows.
    let opens = drop_at() - hours(72);
    w.at(opens);
    let r = w.get("rich", rich);
    assert_eq!(r.status, Status::Active);
    assert_eq!(
        last_change(&r),
        (
            Some(Status::Requested),
            Status::Active,
            Reason::DepositSecured,
            opens
        )
    );
    assert!(r.reservation.is_some());
    assert_eq!(w.money("rich"), (dec!(100), dec!(49), dec!(51)));
    assert!(w.kinds(rich).contains(&EventKind::DepositSecured {
        amount: dec!(49),
        currency: Currency::USD
    }));
    assert_eq!(
        w.statement("rich"),
        vec![
            (TransferKind::Fund, dec!(100), dec!(100), dec!(0)),
            (TransferKind::Reserve, dec!(49), dec!(0), dec!(49)),
        ]
    );

    let p = w.get("poor", poor);
    assert_eq!(p.status, Status::Inactive);
    assert_eq!(p.reason(), Some(Reason::InsufficientFunds));
    assert_eq!(w.money("poor"), (dec!(30), dec!(0), dec!(30)));
    assert_eq!(w.low_balance_notices(poor), vec![(dec!(49), dec!(30))]);
    assert_eq!(w.status("broke", broke), Status::Inactive);
    assert_eq!(w.low_balance_notices(broke), vec![(dec!(49), dec!(0))]);

    // Retried every hour, still short: INACTIVE, and no second notice.
    for h in 1..=5 {
        w.at(opens + hours(h));
        assert_eq!(w.status("poor", poor), Status::Inactive);
        assert_eq!(w.status("broke", broke), Status::Inactive);
    }
    assert_eq!(w.low_balance_notices(poor).len(), 1);
    assert_eq!(w.low_balance_notices(broke).len(), 1);

    // Topped up before the deadline: the next retry secures the deposit.
    w.clock.set(opens + hours(5) + minutes(30));
    w.e.fund("poor", dec!(20), "top-up-2").unwrap();
    assert_eq!(w.money("poor"), (dec!(50), dec!(0), dec!(50)));
    w.at(opens + hours(6));
    let p = w.get("poor", poor);
    assert_eq!(p.status, Status::Active);
    assert_eq!(
        last_change(&p),
        (
            Some(Status::Inactive),
            Status::Active,
            Reason::DepositSecured,
            opens + hours(6)
        )
    );
    assert_eq!(w.money("poor"), (dec!(50), dec!(49), dec!(1)));
    assert_eq!(w.low_balance_notices(poor).len(), 1);

    // Never funded: retried hourly until 24 h before the deletion, then void.
    let deadline = drop_at() - hours(24);
    let mut t = opens + hours(7);
    while t < deadline {
        w.at(t);
        assert_eq!(w.status("broke", broke), Status::Inactive, "at {t}");
        t += hours(1);
    }
    w.at(deadline - secs(1));
    assert_eq!(w.status("broke", broke), Status::Inactive);
    w.at(deadline);
    let b = w.get("broke", broke);
    assert_eq!(b.status, Status::Expired);
    assert_eq!(
        last_change(&b),
        (
            Some(Status::Inactive),
            Status::Expired,
            Reason::DepositDeadlinePassed,
            deadline
        )
    );
    assert_eq!(b.reservation, None);
    assert_eq!(w.money("broke"), (dec!(0), dec!(0), dec!(0)));
    assert!(w.statement("broke").is_empty(), "nothing was ever reserved");
    assert_eq!(w.low_balance_notices(broke).len(), 1);
    assert!(w.refunds(broke).is_empty());

    // Money arriving after the deadline changes nothing.
    w.clock.set(deadline + hours(1));
    w.e.fund("broke", dec!(100), "too-late").unwrap();
    w.at(deadline + hours(2));
    assert_eq!(w.status("broke", broke), Status::Expired);
    assert_eq!(w.money("broke"), (dec!(100), dec!(0), dec!(100)));

    // The funded ones are processed at the drop, the void one is not.
    w.at(drop_at());
    let jobs = w.jobs_for("john.com");
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].backorders, vec![rich, poor]);
    assert_eq!(jobs[0].value, dec!(98));
    assert_eq!(w.status("broke", broke), Status::Expired);
    assert_eq!(w.money("rich"), (dec!(100), dec!(0), dec!(100)));
    assert_eq!(w.money("poor"), (dec!(50), dec!(0), dec!(50)));
    w.assert_clean();
}

#[test]
fn hexonet_step3_not_caught_fails_and_releases_the_deposit_at_once() {
    let w = World::new(&[
        ("miss.com", CatchOutcome::Taken),
        ("nodrop.com", CatchOutcome::NotDropped),
        (
            "err.com",
            CatchOutcome::RegistryError {
                message: "2400 command failed".into(),
            },
        ),
    ]);
    w.pending(&["miss.com", "nodrop.com", "err.com"]);
    w.account("alice", full_contacts("ALICE-1"), dec!(200));
    let ids: Vec<(u64, Reason)> = [
        ("miss.com", Reason::Taken),
        ("nodrop.com", Reason::NotDropped),
        ("err.com", Reason::RegistryError),
    ]
    .into_iter()
    .map(|(d, r)| (w.place("alice", d).id, r))
    .collect();

    w.at(drop_at() - hours(72));
    assert_eq!(w.money("alice"), (dec!(200), dec!(147), dec!(53)));
    w.at(drop_at() - secs(1));
    for (id, _) in &ids {
        assert_eq!(w.status("alice", *id), Status::Active);
    }
    assert!(w.jobs.lock().unwrap().is_empty());

    let report = w.at(drop_at());
    assert_eq!((report.drops, report.caught), (3, 0));
    for (id, reason) in &ids {
        let b = w.get("alice", *id);
        assert_eq!(b.status, Status::Failed);
        let n = b.history.len();
        assert_eq!(
            (b.history[n - 2].from, b.history[n - 2].to),
            (Some(Status::Active), Status::Processing)
        );
        assert_eq!(b.history[n - 2].reason, Reason::DropStarted);
        assert_eq!(b.history[n - 2].at, drop_at());
        assert_eq!(
            last_change(&b),
            (Some(Status::Processing), Status::Failed, *reason, drop_at())
        );
        assert_eq!(b.paid, dec!(0));
        assert_eq!(b.registered_until, None);
        // PROCESSING and FAILED are both notified, the failure with its reason.
        let changes = status_changes(&w, *id);
        assert_eq!(
            changes[changes.len() - 2..],
            [
                (
                    Some(Status::Active),
                    Status::Processing,
                    Reason::DropStarted
                ),
                (Some(Status::Processing), Status::Failed, *reason),
            ]
        );
        // Released immediately, to the balance, exactly once.
        assert_eq!(w.refunds(*id), vec![(dec!(49), RefundDestination::Balance)]);
    }
    assert_eq!(w.money("alice"), (dec!(200), dec!(0), dec!(200)));
    let statement = w.statement("alice");
    assert_eq!(statement.len(), 7);
    for line in &statement[4..] {
        assert_eq!(line, &(TransferKind::Release, dec!(49), dec!(0), dec!(-49)));
    }
    w.assert_clean();
}

#[test]
fn hexonet_step4_single_catch_captures_the_fee_and_allocates_the_name() {
    let w = World::new(&[
        ("solo.com", CatchOutcome::Caught),
        ("lite.com", CatchOutcome::Caught),
    ]);
    w.pending(&["solo.com", "lite.com"]);
    w.account("alice", full_contacts("ALICE-1"), dec!(100));
    w.account("bob", full_contacts("BOB-1"), dec!(100));
    let a = w.place("alice", "solo.com").id;
    let lite =
        w.e.place_backorder(PlaceBackorder {
            account: "bob".into(),
            domain: "lite.com".into(),
            lite: true,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(lite.price.amount, dec!(24.5));

    w.at(drop_at() - hours(72));
    assert_eq!(w.money("alice"), (dec!(100), dec!(49), dec!(51)));
    assert_eq!(w.money("bob"), (dec!(100), dec!(24.5), dec!(75.5)));

    let report = w.at(drop_at());
    assert_eq!(
        (report.drops, report.caught, report.auctions_scheduled),
        (2, 2, 0)
    );
    let jobs = w.jobs_for("solo.com");
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].backorders, vec![a]);
    assert_eq!(jobs[0].value, dec!(49));

    let b = w.get("alice", a);
    assert_eq!(b.status, Status::Successful);
    assert_eq!(
        last_change(&b),
        (
            Some(Status::Processing),
            Status::Successful,
            Reason::Caught,
            drop_at()
        )
    );
    assert_eq!(b.paid, dec!(49));
    let until = Utc.with_ymd_and_hms(2027, 3, 7, 19, 0, 0).unwrap();
    assert_eq!(b.registered_until, Some(until));
    assert_eq!(w.money("alice"), (dec!(51), dec!(0), dec!(51)));
    let kinds = w.kinds(a);
    assert!(kinds.contains(&EventKind::Charged {
        amount: dec!(49),
        currency: Currency::USD
    }));
    assert!(kinds.contains(&EventKind::Allocated {
        registered_until: until
    }));
    assert!(w.refunds(a).is_empty());
    assert_eq!(
        w.statement("alice"),
        vec![
            (TransferKind::Fund, dec!(100), dec!(100), dec!(0)),
            (TransferKind::Reserve, dec!(49), dec!(0), dec!(49)),
            (TransferKind::Capture, dec!(49), dec!(-49), dec!(-49)),
        ]
    );

    // A lite backorder is charged its own (lower) fee.
    let l = w.get("bob", lite.id);
    assert_eq!(l.status, Status::Successful);
    assert_eq!(l.paid, dec!(24.5));
    assert_eq!(w.money("bob"), (dec!(75.5), dec!(0), dec!(75.5)));
    w.assert_clean();
}

/// HEXONET step 5 with the built-in proxy auction. The increments table is 0→1, 100→5, 1000→10:
/// the price is the runner-up's maximum plus the increment *at that maximum* (capped at the
/// leader's maximum), so with A at 120 and B at 100 the price is 100 + 5 = 105.
#[test]
fn hexonet_step5_private_auction_with_proxy_bids_anti_sniping_and_payment() {
    let w = World::new(&[("contest.com", CatchOutcome::Caught)]);
    w.pending(&["contest.com"]);
    for acct in ["a", "b", "c"] {
        w.account(acct, full_contacts("HANDLE-1"), dec!(200));
    }
    let a = w.place("a", "contest.com").id;
    w.clock.set(t0() + minutes(1));
    let b = w.place("b", "contest.com").id;
    w.clock.set(t0() + minutes(2));
    let c = w.place("c", "contest.com").id;
    let all = [("a", a), ("b", b), ("c", c)];

    w.at(drop_at() - hours(72));
    for (acct, _) in all {
        assert_eq!(w.money(acct), (dec!(200), dec!(49), dec!(151)));
    }

    // Caught with three ACTIVE backorders: all AUCTION-PENDING, each invited.
    let report = w.at(drop_at());
    assert_eq!(
        (report.drops, report.caught, report.auctions_scheduled),
        (1, 1, 1)
    );
    let start = drop_at() + hours(24);
    let end = start + hours(72);
    let mut auction_id = None;
    for (acct, id) in all {
        let bo = w.get(acct, id);
        assert_eq!(bo.status, Status::AuctionPending);
        assert_eq!(
            last_change(&bo),
            (
                Some(Status::Processing),
                Status::AuctionPending,
                Reason::AuctionScheduled,
                drop_at()
            )
        );
        assert!(bo.auction.is_some());
        auction_id.get_or_insert(bo.auction.unwrap());
        assert_eq!(bo.auction, auction_id);
        let invitations: Vec<EventKind> = w
            .kinds(id)
            .into_iter()
            .filter(|k| k.name() == "auction_invitation")
            .collect();
        assert_eq!(
            invitations,
            vec![EventKind::AuctionInvitation {
                auction: auction_id.unwrap(),
                starts_at: start,
                ends_at: end,
                opening_price: dec!(49),
                currency: Currency::USD,
            }]
        );
        // The deposit stays reserved during the auction.
        assert_eq!(w.money(acct), (dec!(200), dec!(49), dec!(151)));
    }

    // Scheduled, not open: bids are refused until the start.
    let v = w.e.auction("a", a).unwrap();
    assert_eq!(v.state, AuctionState::Scheduled);
    assert_eq!((v.starts_at, v.ends_at), (start, end));
    assert_eq!(v.participants, 3);
    w.at(start - secs(1));
    assert_eq!(code(w.e.bid("a", a, dec!(120))), ErrorCode::AuctionNotOpen);

    // Open 24 h after the catch, at the opening price (the fee); the earliest backorder leads.
    w.at(start);
    let v = w.e.auction("a", a).unwrap();
    assert_eq!(v.state, AuctionState::Open);
    assert_eq!(v.price, dec!(49));
    assert_eq!(v.minimum_bid, dec!(50));
    assert!(v.leading);
    assert!(!w.e.auction("b", b).unwrap().leading);

    // A bids a maximum of 120: A leads at the runner-up's 49 + 1.
    w.clock.set(start + hours(1));
    let v = w.e.bid("a", a, dec!(120)).unwrap();
    assert_eq!(v.price, dec!(50));
    assert_eq!(v.your_max, dec!(120));
    assert!(v.leading);
    assert_eq!(v.minimum_bid, dec!(125));
    assert_eq!(v.ends_at, end);

    // B bids a maximum of 100: A still leads, at 100 + 5 (the increment from 100 is 5).
    w.clock.set(start + hours(2));
    assert_eq!(code(w.e.bid("b", b, dec!(50))), ErrorCode::BidTooLow);
    let v = w.e.bid("b", b, dec!(100)).unwrap();
    assert_eq!(v.price, dec!(105));
    assert!(!v.leading);
    assert_eq!(v.your_max, dec!(100));
    assert_eq!(v.minimum_bid, dec!(110));
    let va = w.e.auction("a", a).unwrap();
    assert_eq!(
        (va.price, va.leading, va.your_max),
        (dec!(105), true, dec!(120))
    );
    assert_eq!(va.bids, 2);

    // C must beat 105 by the increment.
    assert_eq!(code(w.e.bid("c", c, dec!(109))), ErrorCode::BidTooLow);

    // 11 minutes before the end: outside the anti-sniping window, the end does not move.
    w.clock.set(end - minutes(11));
    let v = w.e.bid("c", c, dec!(110)).unwrap();
    assert_eq!(v.price, dec!(115));
    assert_eq!(v.ends_at, end);

    // 5 minutes before the end: B matches A's 120; A reached it first and keeps the lead at 120,
    // and the end moves to 10 minutes after the bid.
    w.clock.set(end - minutes(5));
    assert_eq!(code(w.e.bid("b", b, dec!(119))), ErrorCode::BidTooLow);
    let v = w.e.bid("b", b, dec!(120)).unwrap();
    assert!(!v.leading);
    assert_eq!(v.price, dec!(120));
    let new_end = end + minutes(5);
    assert_eq!(v.ends_at, new_end);
    assert!(w.e.auction("a", a).unwrap().leading);

    // The original end passes: still open.
    w.at(end);
    assert_eq!(w.e.auction("a", a).unwrap().state, AuctionState::Open);
    assert_eq!(w.status("b", b), Status::AuctionPending);

    // At the new end bids are refused even before the closing tick.
    w.clock.set(new_end);
    assert_eq!(code(w.e.bid("c", c, dec!(500))), ErrorCode::AuctionNotOpen);

    // Close: A won at 120 and owes it within 72 h; B and C lost, deposits released at once.
    w.at(new_end);
    let pay_by = new_end + hours(72);
    let wa = w.get("a", a);
    assert_eq!(wa.status, Status::AuctionWon);
    assert_eq!(
        last_change(&wa),
        (
            Some(Status::AuctionPending),
            Status::AuctionWon,
            Reason::AuctionWon,
            new_end
        )
    );
    assert_eq!(wa.amount_due, Some(dec!(120)));
    assert_eq!(wa.pay_by, Some(pay_by));
    assert!(w.kinds(a).contains(&EventKind::AuctionWon {
        auction: auction_id.unwrap(),
        price: dec!(120),
        currency: Currency::USD,
        pay_by,
        second_chance: false,
    }));
    assert_eq!(w.money("a"), (dec!(200), dec!(49), dec!(151)));
    for (acct, id) in [("b", b), ("c", c)] {
        let lost = w.get(acct, id);
        assert_eq!(lost.status, Status::AuctionLost);
        assert_eq!(lost.reason(), Some(Reason::AuctionLost));
        assert_eq!(lost.amount_due, None);
        assert_eq!(w.refunds(id), vec![(dec!(49), RefundDestination::Balance)]);
        assert_eq!(w.count(id, "auction_lost"), 1);
        assert_eq!(w.money(acct), (dec!(200), dec!(0), dec!(200)));
        assert_eq!(code(w.e.pay(acct, id)), ErrorCode::PaymentNotDue);
    }
    let v = w.e.auction("b", b).unwrap();
    assert_eq!(
        (v.state, v.price, v.leading),
        (AuctionState::AwaitingPayment, dec!(120), false)
    );

    // A pays: the 49 deposit is captured and the other 71 charged; the auth code is issued.
    w.clock.set(new_end + hours(1));
    let paid = w.e.pay("a", a).unwrap();
    assert_eq!(paid.status, Status::AuctionWon);
    assert_eq!(paid.paid, dec!(120));
    assert_eq!(paid.amount_due, None);
    assert_eq!(
        paid.registered_until,
        Some(new_end + hours(1) + Duration::days(365))
    );
    assert_eq!(w.money("a"), (dec!(80), dec!(0), dec!(80)));
    let st = w.statement("a");
    assert_eq!(
        st[2..],
        [
            (TransferKind::Charge, dec!(71), dec!(-71), dec!(0)),
            (TransferKind::Capture, dec!(49), dec!(-49), dec!(-49)),
        ]
    );
    let code_issued = paid.auth_code.clone().expect("auth code");
    let secret = code_issued.expose().to_string();
    assert_eq!(secret.len(), 16);
    assert!(
        !format!("{paid:?}").contains(&secret),
        "Debug of the backorder leaks the auth code"
    );
    let issued: Vec<Event> = w
        .events()
        .into_iter()
        .filter(|e| e.backorder == Some(a) && e.kind.name() == "auth_code_issued")
        .collect();
    assert_eq!(issued.len(), 1);
    match &issued[0].kind {
        EventKind::AuthCodeIssued { auth_code } => assert_eq!(auth_code.expose(), secret),
        other => panic!("{other:?}"),
    }
    assert!(
        !format!("{:?}", issued[0]).contains(&secret),
        "Debug of the event leaks the auth code"
    );
    assert!(w.kinds(a).contains(&EventKind::Charged {
        amount: dec!(120),
        currency: Currency::USD
    }));
    assert_eq!(w.count(a, "allocated"), 1);
    let v = w.e.auction("a", a).unwrap();
    assert_eq!((v.state, v.leading), (AuctionState::Sold, true));

    // Paid once; a second payment is refused and changes nothing.
    assert_eq!(code(w.e.pay("a", a)), ErrorCode::PaymentNotDue);
    assert_eq!(w.money("a"), (dec!(80), dec!(0), dec!(80)));

    // Nothing is due any more: the payment deadline passes quietly.
    w.at(pay_by + hours(1));
    assert_eq!(w.get("a", a), paid);
    assert_eq!(w.count(a, "auction_lost"), 0);
    w.assert_clean();
}

/// The proxy price is the runner-up's maximum plus the increment at that maximum (0→1, 100→5),
/// never above the leader's maximum.
#[test]
fn proxy_price_follows_the_increments_table() {
    let w = World::new(&[("table.com", CatchOutcome::Caught)]);
    w.pending(&["table.com"]);
    for acct in ["a", "b", "c"] {
        w.account(acct, full_contacts("HANDLE-1"), dec!(1000));
    }
    let a = w.place("a", "table.com").id;
    let b = w.place("b", "table.com").id;
    let c = w.place("c", "table.com").id;
    w.at(drop_at() - hours(72));
    w.at(drop_at());
    let start = drop_at() + hours(24);
    w.at(start);

    w.clock.set(start + hours(1));
    assert_eq!(w.e.bid("a", a, dec!(150)).unwrap().price, dec!(50)); // 49 + 1
    w.clock.set(start + hours(2));
    assert_eq!(w.e.bid("b", b, dec!(98)).unwrap().price, dec!(99)); // 98 + 1
    w.clock.set(start + hours(3));
    assert_eq!(code(w.e.bid("c", c, dec!(99.99))), ErrorCode::BidTooLow);
    assert_eq!(w.e.bid("c", c, dec!(100)).unwrap().price, dec!(105)); // 100 + 5
    w.clock.set(start + hours(4));
    assert_eq!(code(w.e.bid("b", b, dec!(109.99))), ErrorCode::BidTooLow);
    assert_eq!(w.e.bid("b", b, dec!(110)).unwrap().price, dec!(115)); // 110 + 5
    w.clock.set(start + hours(5));
    // 148 + 5 = 153 is above the leader's 150: the price is capped at 150.
    let v = w.e.bid("c", c, dec!(148)).unwrap();
    assert_eq!((v.price, v.leading), (dec!(150), false));
    let v = w.e.auction("a", a).unwrap();
    assert_eq!(
        (v.price, v.leading, v.your_max),
        (dec!(150), true, dec!(150))
    );
    assert_eq!(v.minimum_bid, dec!(155));
    assert_eq!(code(w.e.bid("a", a, dec!(0))), ErrorCode::InvalidAmount);
    assert_eq!(code(w.e.bid("a", a, dec!(-5))), ErrorCode::InvalidAmount);

    w.at(start + hours(72));
    assert_eq!(w.get("a", a).amount_due, Some(dec!(150)));
    w.assert_clean();
}

#[test]
fn cancellation_is_allowed_until_the_finalization_date() {
    let w = World::new(&[]);
    w.pending(&["c1.com", "c2.com", "c3.com", "c4.com"]);
    w.account("alice", full_contacts("ALICE-1"), dec!(200));
    w.account("bob", Contacts::default(), dec!(0));
    w.account("carol", full_contacts("CAROL-1"), dec!(0));
    w.account("dave", full_contacts("DAVE-1"), dec!(100));
    let finalization = drop_at() - hours(3);

    // REQUESTED and INCOMPLETE: cancelled, nothing to refund.
    let r = w.place("alice", "c1.com").id;
    let cancelled = w.e.cancel_backorder("alice", r).unwrap();
    assert_eq!(cancelled.status, Status::Cancelled);
    assert_eq!(
        last_change(&cancelled),
        (
            Some(Status::Requested),
            Status::Cancelled,
            Reason::CancelledByCustomer,
            t0()
        )
    );
    assert!(w.refunds(r).is_empty());
    let i = w.place("bob", "c1.com").id;
    assert_eq!(w.status("bob", i), Status::Incomplete);
    assert_eq!(
        w.e.cancel_backorder("bob", i).unwrap().status,
        Status::Cancelled
    );
    // A cancelled backorder no longer blocks a new one on the same name.
    let again = w.place("alice", "c1.com").id;
    assert_ne!(again, r);

    // INACTIVE: cancelled, nothing reserved.
    let inactive = w.place("carol", "c2.com").id;
    let active2 = w.place("alice", "c2.com").id;
    let active3 = w.place("alice", "c3.com").id;
    w.at(drop_at() - hours(72));
    assert_eq!(w.status("carol", inactive), Status::Inactive);
    assert_eq!(w.money("alice"), (dec!(200), dec!(147), dec!(53)));
    w.clock.set(drop_at() - hours(50));
    assert_eq!(
        w.e.cancel_backorder("carol", inactive).unwrap().status,
        Status::Cancelled
    );
    assert!(w.refunds(inactive).is_empty());
    assert_eq!(w.money("carol"), (dec!(0), dec!(0), dec!(0)));

    // ACTIVE, one second before the finalization date: cancelled, the deposit released.
    w.clock.set(finalization - secs(1));
    let c = w.e.cancel_backorder("alice", active2).unwrap();
    assert_eq!(c.status, Status::Cancelled);
    assert_eq!(
        w.refunds(active2),
        vec![(dec!(49), RefundDestination::Balance)]
    );
    assert_eq!(w.money("alice"), (dec!(200), dec!(98), dec!(102)));
    // Placing is still open then (and the deposit is taken at once, past the window's start).
    let late = w.place("dave", "c4.com").id;
    w.at(finalization - secs(1));
    assert_eq!(w.status("dave", late), Status::Active);
    assert_eq!(w.money("dave"), (dec!(100), dec!(49), dec!(51)));

    // At the finalization date: cancelling and placing are closed; nothing changes.
    w.clock.set(finalization);
    let before = w.get("alice", active3);
    assert_eq!(
        code(w.e.cancel_backorder("alice", active3)),
        ErrorCode::CancellationClosed
    );
    assert_eq!(w.get("alice", active3), before);
    assert_eq!(w.money("alice"), (dec!(200), dec!(98), dec!(102)));
    assert_eq!(
        code(w.try_place("dave", "c3.com")),
        ErrorCode::PlacementClosed
    );

    // Processed at the drop like any other.
    w.at(drop_at());
    assert_eq!(w.status("alice", active3), Status::Failed);
    assert_eq!(
        code(w.e.cancel_backorder("alice", active3)),
        ErrorCode::StatusDoesNotAllow
    );
    assert_eq!(w.money("alice"), (dec!(200), dec!(0), dec!(200)));
    w.assert_clean();
}

/// Runs a three-way auction on `contest.com` to its close: A bids 120, B bids 100, C never bids.
/// Returns (a, b, c, the close time).
fn closed_auction(w: &World) -> (u64, u64, u64, DateTime<Utc>) {
    w.pending(&["contest.com"]);
    for acct in ["a", "b", "c"] {
        w.account(acct, full_contacts("HANDLE-1"), dec!(300));
    }
    let a = w.place("a", "contest.com").id;
    w.clock.set(t0() + minutes(1));
    let b = w.place("b", "contest.com").id;
    w.clock.set(t0() + minutes(2));
    let c = w.place("c", "contest.com").id;
    w.at(drop_at() - hours(72));
    w.at(drop_at());
    let start = drop_at() + hours(24);
    w.at(start);
    w.clock.set(start + hours(1));
    w.e.bid("a", a, dec!(120)).unwrap();
    w.clock.set(start + hours(2));
    w.e.bid("b", b, dec!(100)).unwrap();
    let end = start + hours(72);
    w.at(end);
    (a, b, c, end)
}

#[test]
fn unpaid_winner_loses_and_the_next_highest_bidder_gets_a_second_chance() {
    let w = World::new(&[("contest.com", CatchOutcome::Caught)]);
    let (a, b, c, end) = closed_auction(&w);
    let pay_by = end + hours(72);
    assert_eq!(w.get("a", a).amount_due, Some(dec!(105)));
    assert_eq!(w.get("a", a).pay_by, Some(pay_by));
    assert_eq!(w.money("a"), (dec!(300), dec!(49), dec!(251)));
    assert_eq!(w.money("b"), (dec!(300), dec!(0), dec!(300)));

    w.at(pay_by - secs(1));
    assert_eq!(w.status("a", a), Status::AuctionWon);

    // The deadline has passed (even before the tick processes it): too late to pay.
    w.clock.set(pay_by);
    let before = w.get("a", a);
    assert_eq!(code(w.e.pay("a", a)), ErrorCode::PaymentNotDue);
    assert_eq!(w.get("a", a), before);
    assert_eq!(w.money("a"), (dec!(300), dec!(49), dec!(251)));

    // The winner loses the name and the deposit is released; B is offered it at B's own maximum.
    w.at(pay_by);
    let la = w.get("a", a);
    assert_eq!(la.status, Status::AuctionLost);
    assert_eq!(
        last_change(&la),
        (
            Some(Status::AuctionWon),
            Status::AuctionLost,
            Reason::AuctionUnpaid,
            pay_by
        )
    );
    assert_eq!(la.amount_due, None);
    assert_eq!(w.money("a"), (dec!(300), dec!(0), dec!(300)));
    assert_eq!(w.refunds(a), vec![(dec!(49), RefundDestination::Balance)]);

    let second_by = pay_by + hours(72);
    let wb = w.get("b", b);
    assert_eq!(wb.status, Status::AuctionWon);
    assert_eq!(
        last_change(&wb),
        (
            Some(Status::AuctionLost),
            Status::AuctionWon,
            Reason::SecondChanceOffer,
            pay_by
        )
    );
    assert_eq!(wb.amount_due, Some(dec!(100)));
    assert_eq!(wb.pay_by, Some(second_by));
    let offers: Vec<EventKind> = w
        .kinds(b)
        .into_iter()
        .filter(|k| k.name() == "auction_won")
        .collect();
    assert_eq!(
        offers,
        vec![EventKind::AuctionWon {
            auction: wb.auction.unwrap(),
            price: dec!(100),
            currency: Currency::USD,
            pay_by: second_by,
            second_chance: true,
        }]
    );
    assert_eq!(w.status("c", c), Status::AuctionLost);
    assert_eq!(code(w.e.pay("c", c)), ErrorCode::PaymentNotDue);
    assert_eq!(code(w.e.pay("a", a)), ErrorCode::PaymentNotDue);

    // B pays the full 100 (B's deposit went back at the close, so all of it is charged).
    w.clock.set(pay_by + hours(2));
    let paid = w.e.pay("b", b).unwrap();
    assert_eq!(paid.paid, dec!(100));
    assert!(paid.auth_code.is_some());
    assert_eq!(w.money("b"), (dec!(200), dec!(0), dec!(200)));
    assert_eq!(
        w.statement("b").last().unwrap(),
        &(TransferKind::Charge, dec!(100), dec!(-100), dec!(0))
    );
    assert_eq!(w.count(b, "auth_code_issued"), 1);
    assert_eq!(w.e.auction("b", b).unwrap().state, AuctionState::Sold);

    // Sold: the second-chance deadline passes quietly; nobody else is offered the name.
    w.at(second_by + hours(1));
    assert_eq!(w.status("b", b), Status::AuctionWon);
    assert_eq!(w.status("c", c), Status::AuctionLost);
    assert_eq!(w.money("c"), (dec!(300), dec!(0), dec!(300)));
    w.assert_clean();
}

#[test]
fn every_offer_lapsing_leaves_the_name_unallocated() {
    let w = World::new(&[("contest.com", CatchOutcome::Caught)]);
    let (a, b, c, end) = closed_auction(&w);
    let first = end + hours(72);
    w.at(first);
    let second = first + hours(72);
    w.at(second);
    let lb = w.get("b", b);
    assert_eq!(
        last_change(&lb),
        (
            Some(Status::AuctionWon),
            Status::AuctionLost,
            Reason::SecondChanceLapsed,
            second
        )
    );
    // C never bid: offered at C's implicit maximum, the opening price.
    let wc = w.get("c", c);
    assert_eq!(wc.status, Status::AuctionWon);
    assert_eq!(wc.amount_due, Some(dec!(49)));
    w.at(second + hours(72));
    assert_eq!(w.status("c", c), Status::AuctionLost);
    assert_eq!(w.e.auction("a", a).unwrap().state, AuctionState::Unsold);
    assert_eq!(
        w.events()
            .iter()
            .filter(|e| e.kind.name() == "name_unallocated")
            .count(),
        1
    );
    for acct in ["a", "b", "c"] {
        assert_eq!(w.money(acct), (dec!(300), dec!(0), dec!(300)));
    }
    for id in [a, b, c] {
        assert_eq!(w.refunds(id).len(), 1, "each deposit released exactly once");
    }
    w.assert_clean();
}

#[test]
fn ties_go_to_the_earlier_bid() {
    let w = World::new(&[("tie.com", CatchOutcome::Caught)]);
    w.pending(&["tie.com"]);
    w.account("early", full_contacts("EARLY-1"), dec!(300));
    w.account("late", full_contacts("LATE-1"), dec!(300));
    // `early` placed its backorder first, but `late` reaches 100 first.
    let e = w.place("early", "tie.com").id;
    w.clock.set(t0() + hours(1));
    let l = w.place("late", "tie.com").id;
    w.at(drop_at() - hours(72));
    w.at(drop_at());
    let start = drop_at() + hours(24);
    w.at(start);
    w.clock.set(start + hours(1));
    w.e.bid("late", l, dec!(100)).unwrap();
    w.clock.set(start + hours(2));
    let v = w.e.bid("early", e, dec!(100)).unwrap();
    assert!(!v.leading);
    assert_eq!(v.price, dec!(100));
    assert!(w.e.auction("late", l).unwrap().leading);

    w.at(start + hours(72));
    let won = w.get("late", l);
    assert_eq!(won.status, Status::AuctionWon);
    assert_eq!(won.amount_due, Some(dec!(100)));
    assert_eq!(w.status("early", e), Status::AuctionLost);
    assert_eq!(w.money("early"), (dec!(300), dec!(0), dec!(300)));
    w.clock.set(start + hours(73));
    w.e.pay("late", l).unwrap();
    assert_eq!(w.money("late"), (dec!(200), dec!(0), dec!(200)));
    w.assert_clean();
}

#[test]
fn an_auction_nobody_bids_in_goes_to_the_earliest_backorder_at_the_opening_price() {
    let w = World::new(&[("quiet.com", CatchOutcome::Caught)]);
    w.pending(&["quiet.com"]);
    for acct in ["zed", "amy", "bob"] {
        w.account(acct, full_contacts("HANDLE-1"), dec!(100));
    }
    let zed = w.place("zed", "quiet.com").id;
    w.clock.set(t0() + minutes(5));
    let amy = w.place("amy", "quiet.com").id;
    w.clock.set(t0() + minutes(10));
    let bob = w.place("bob", "quiet.com").id;
    w.at(drop_at() - hours(72));
    w.at(drop_at());
    let end = drop_at() + hours(96);
    w.at(drop_at() + hours(24));
    w.at(end);

    let won = w.get("zed", zed);
    assert_eq!(won.status, Status::AuctionWon);
    assert_eq!(won.amount_due, Some(dec!(49)));
    for (acct, id) in [("amy", amy), ("bob", bob)] {
        assert_eq!(w.status(acct, id), Status::AuctionLost);
        assert_eq!(w.money(acct), (dec!(100), dec!(0), dec!(100)));
    }

    // The deposit covers the whole price: captured, nothing charged.
    w.clock.set(end + hours(1));
    let paid = w.e.pay("zed", zed).unwrap();
    assert_eq!(paid.paid, dec!(49));
    assert_eq!(w.money("zed"), (dec!(51), dec!(0), dec!(51)));
    assert_eq!(
        w.statement("zed")[2..],
        [(TransferKind::Capture, dec!(49), dec!(-49), dec!(-49))]
    );
    w.assert_clean();
}

// ---------------------------------------------------------------------------------------------
// Alibaba, exclusive model
// ---------------------------------------------------------------------------------------------

fn info_policy(w: &World) -> TldPolicy {
    w.e.policies()
        .into_iter()
        .find(|p| p.zone == "info")
        .unwrap()
}

#[test]
fn alibaba_first_to_pay_holds_the_name_exclusively() {
    let w = World::new(&[("silver.info", CatchOutcome::Caught)]);
    w.pending(&["silver.info"]);
    // The exclusive model needs no contact handles.
    for acct in ["p1", "p2", "p3"] {
        w.account(acct, Contacts::default(), dec!(100));
    }
    let finalization = drop_at() - hours(3);

    let o1 = w.place("p1", "silver.info");
    assert_eq!(o1.status, Status::PendingPayment);
    assert_eq!(o1.reason(), Some(Reason::Placed));
    assert_eq!(o1.price.amount, dec!(39));
    assert_eq!(o1.amount_due, Some(dec!(39)));
    assert_eq!(o1.pay_by, Some(finalization));
    assert!(w.kinds(o1.id).contains(&EventKind::PaymentDue {
        amount: dec!(39),
        currency: Currency::USD,
        due_by: Some(finalization),
    }));
    w.clock.set(t0() + minutes(1));
    let o2 = w.place("p2", "silver.info");
    assert_eq!(o2.status, Status::PendingPayment);
    assert_eq!(w.money("p1"), (dec!(100), dec!(0), dec!(100)));
    assert_eq!(
        code(w.e.place_backorder(PlaceBackorder {
            account: "p3".into(),
            domain: "silver.info".into(),
            lite: true,
            ..Default::default()
        })),
        ErrorCode::LiteNotOffered
    );

    // The second to place is the first to pay: it holds the name; 39 reserved.
    w.clock.set(t0() + hours(1));
    let held = w.e.pay("p2", o2.id).unwrap();
    assert_eq!(held.status, Status::Backordered);
    assert_eq!(
        last_change(&held),
        (
            Some(Status::PendingPayment),
            Status::Backordered,
            Reason::PaymentReceived,
            t0() + hours(1)
        )
    );
    assert_eq!(held.amount_due, None);
    assert_eq!(w.money("p2"), (dec!(100), dec!(39), dec!(61)));

    // The other order is cancelled, and nobody else may place or pay.
    let lost = w.get("p1", o1.id);
    assert_eq!(lost.status, Status::Cancelled);
    assert_eq!(lost.reason(), Some(Reason::NameBackorderedByAnother));
    assert_eq!(lost.amount_due, None);
    assert_eq!(code(w.e.pay("p1", o1.id)), ErrorCode::PaymentNotDue);
    assert_eq!(w.money("p1"), (dec!(100), dec!(0), dec!(100)));
    assert_eq!(
        code(w.try_place("p3", "silver.info")),
        ErrorCode::NameAlreadyBackordered
    );
    assert_eq!(
        code(w.try_place("p1", "silver.info")),
        ErrorCode::NameAlreadyBackordered
    );
    assert!(w.e.backorders("p3").unwrap().is_empty());

    // No cancellation once backordered.
    let before = w.get("p2", o2.id);
    assert_eq!(
        code(w.e.cancel_backorder("p2", o2.id)),
        ErrorCode::CancellationNotAllowed
    );
    assert_eq!(w.get("p2", o2.id), before);
    assert_eq!(w.money("p2"), (dec!(100), dec!(39), dec!(61)));

    // Caught: SUCCESSFUL, registered for one year from the catch (the re-registration date).
    w.at(drop_at() - hours(72));
    assert_eq!(w.status("p2", o2.id), Status::Backordered);
    let report = w.at(drop_at());
    assert_eq!((report.drops, report.caught), (1, 1));
    assert_eq!(w.jobs_for("silver.info")[0].backorders, vec![o2.id]);
    let done = w.get("p2", o2.id);
    assert_eq!(done.status, Status::Successful);
    assert_eq!(done.reason(), Some(Reason::Caught));
    assert_eq!(done.paid, dec!(39));
    assert_eq!(
        done.registered_until,
        Some(Utc.with_ymd_and_hms(2027, 3, 7, 19, 0, 0).unwrap())
    );
    assert_eq!(w.money("p2"), (dec!(61), dec!(0), dec!(61)));
    assert_eq!(w.count(o2.id, "allocated"), 1);
    w.assert_clean();
}

#[test]
fn alibaba_price_varies_per_name() {
    let w = World::new(&[
        ("gold.info", CatchOutcome::Caught),
        ("plain.info", CatchOutcome::Caught),
        ("bronze.info", CatchOutcome::Caught),
    ]);
    w.pending(&["gold.info", "plain.info", "bronze.info", "dear.info"]);
    w.account("p1", Contacts::default(), dec!(150));
    w.account("p2", Contacts::default(), dec!(50));
    w.account("p3", Contacts::default(), dec!(100));
    // Placed before the price list changes: keeps the price it was placed at.
    let bronze = w.place("p3", "bronze.info");
    assert_eq!(bronze.price.amount, dec!(39));

    let mut policy = info_policy(&w);
    policy.name_prices.insert("gold.info".into(), dec!(99));
    policy.name_prices.insert("dear.info".into(), dec!(80));
    policy.name_prices.insert("bronze.info".into(), dec!(59));
    w.e.set_policy(policy).unwrap();

    let gold = w.place("p1", "gold.info");
    assert_eq!(gold.price.amount, dec!(99));
    assert_eq!(gold.amount_due, Some(dec!(99)));
    let plain = w.place("p1", "plain.info");
    assert_eq!(plain.price.amount, dec!(39));
    w.e.pay("p1", gold.id).unwrap();
    assert_eq!(w.money("p1"), (dec!(150), dec!(99), dec!(51)));
    w.e.pay("p1", plain.id).unwrap();
    assert_eq!(w.money("p1"), (dec!(150), dec!(138), dec!(12)));
    w.e.pay("p3", bronze.id).unwrap();
    assert_eq!(w.money("p3"), (dec!(100), dec!(39), dec!(61)));

    // Not enough available for the price: refused, nothing changes; topped up, it goes through.
    let dear = w.place("p2", "dear.info");
    assert_eq!(dear.price.amount, dec!(80));
    assert_eq!(code(w.e.pay("p2", dear.id)), ErrorCode::InsufficientFunds);
    assert_eq!(w.get("p2", dear.id), dear);
    assert_eq!(w.money("p2"), (dec!(50), dec!(0), dec!(50)));
    w.e.fund("p2", dec!(30), "top-up").unwrap();
    assert_eq!(w.e.pay("p2", dear.id).unwrap().status, Status::Backordered);
    assert_eq!(w.money("p2"), (dec!(80), dec!(80), dec!(0)));

    w.at(drop_at());
    assert_eq!(w.status("p1", gold.id), Status::Successful);
    assert_eq!(w.status("p1", plain.id), Status::Successful);
    assert_eq!(w.money("p1"), (dec!(12), dec!(0), dec!(12)));
    assert_eq!(w.money("p3"), (dec!(61), dec!(0), dec!(61)));
    // dear.info was taken by another registrar: 80 back to the original payment method.
    assert_eq!(w.status("p2", dear.id), Status::Failed);
    assert_eq!(
        w.refunds(dear.id),
        vec![(dec!(80), RefundDestination::OriginalPaymentMethod)]
    );
    assert_eq!(w.money("p2"), (dec!(0), dec!(0), dec!(0)));
    w.assert_clean();
}

#[test]
fn alibaba_refund_goes_to_the_balance_only_when_the_account_owes_money() {
    let w = World::new(&[]);
    w.pending(&["lost.info", "owed.info"]);
    w.account("clear", Contacts::default(), dec!(100));
    w.account("owing", Contacts::default(), dec!(100));
    w.e.set_outstanding("owing", dec!(25)).unwrap();
    assert_eq!(
        code(w.e.set_outstanding("owing", dec!(-1))),
        ErrorCode::InvalidAmount
    );
    let lost = w.place("clear", "lost.info").id;
    let owed = w.place("owing", "owed.info").id;
    w.e.pay("clear", lost).unwrap();
    w.e.pay("owing", owed).unwrap();
    assert_eq!(w.money("clear"), (dec!(100), dec!(39), dec!(61)));
    assert_eq!(w.money("owing"), (dec!(100), dec!(39), dec!(61)));

    w.at(drop_at());
    // Owes nothing: FAILED, refunded to the original payment method (a payout the host executes).
    let b = w.get("clear", lost);
    assert_eq!(b.status, Status::Failed);
    assert_eq!(b.reason(), Some(Reason::Taken));
    assert_eq!(
        w.refunds(lost),
        vec![(dec!(39), RefundDestination::OriginalPaymentMethod)]
    );
    assert_eq!(w.money("clear"), (dec!(61), dec!(0), dec!(61)));
    assert_eq!(
        w.statement("clear"),
        vec![
            (TransferKind::Fund, dec!(100), dec!(100), dec!(0)),
            (TransferKind::Reserve, dec!(39), dec!(0), dec!(39)),
            (TransferKind::Release, dec!(39), dec!(0), dec!(-39)),
            (TransferKind::Payout, dec!(39), dec!(-39), dec!(0)),
        ]
    );

    // Owes money: the refund stays in the balance.
    let b = w.get("owing", owed);
    assert_eq!(b.status, Status::Failed);
    assert_eq!(
        w.refunds(owed),
        vec![(dec!(39), RefundDestination::Balance)]
    );
    assert_eq!(w.money("owing"), (dec!(100), dec!(0), dec!(100)));
    assert!(w
        .statement("owing")
        .iter()
        .all(|l| l.0 != TransferKind::Payout));
    w.assert_clean();
}

#[test]
fn premium_names_cannot_be_backordered_and_a_name_premium_at_registration_fails() {
    let premium = CatchOutcome::Premium {
        price: Some(dec!(500)),
    };
    let w = World::new(&[("turned.info", premium.clone()), ("turned.com", premium)]);
    w.pending(&["vip.info", "turned.info", "turned.com"]);
    let mut policy = info_policy(&w);
    policy.premium_names.insert("vip.info".into());
    w.e.set_policy(policy).unwrap();
    w.account("p1", full_contacts("P1-1"), dec!(100));

    assert_eq!(code(w.try_place("p1", "vip.info")), ErrorCode::PremiumName);
    assert_eq!(code(w.try_place("p1", "VIP.info")), ErrorCode::PremiumName);
    assert!(w.e.backorders("p1").unwrap().is_empty());

    let ex = w.place("p1", "turned.info").id;
    w.e.pay("p1", ex).unwrap();
    let auc = w.place("p1", "turned.com").id;
    w.at(drop_at() - hours(72));
    assert_eq!(w.money("p1"), (dec!(100), dec!(88), dec!(12)));

    w.at(drop_at());
    let b = w.get("p1", ex);
    assert_eq!(b.status, Status::Failed);
    assert_eq!(b.reason(), Some(Reason::Premium));
    assert_eq!(b.registered_until, None);
    assert_eq!(
        w.refunds(ex),
        vec![(dec!(39), RefundDestination::OriginalPaymentMethod)]
    );
    let b = w.get("p1", auc);
    assert_eq!(b.status, Status::Failed);
    assert_eq!(b.reason(), Some(Reason::Premium));
    assert_eq!(w.refunds(auc), vec![(dec!(49), RefundDestination::Balance)]);
    assert_eq!(w.money("p1"), (dec!(61), dec!(0), dec!(61)));
    w.assert_clean();
}

#[test]
fn alibaba_unpaid_order_expires_at_the_finalization_date() {
    let w = World::new(&[("late.info", CatchOutcome::Caught)]);
    w.pending(&["late.info"]);
    w.account("p1", Contacts::default(), dec!(100));
    w.account("p2", Contacts::default(), dec!(100));
    let finalization = drop_at() - hours(3);
    let o = w.place("p1", "late.info").id;

    w.at(finalization - secs(1));
    assert_eq!(w.status("p1", o), Status::PendingPayment);
    w.at(finalization);
    let b = w.get("p1", o);
    assert_eq!(b.status, Status::Expired);
    assert_eq!(
        last_change(&b),
        (
            Some(Status::PendingPayment),
            Status::Expired,
            Reason::PaymentDeadlinePassed,
            finalization
        )
    );
    assert_eq!((b.amount_due, b.pay_by), (None, None));
    assert_eq!(code(w.e.pay("p1", o)), ErrorCode::PaymentNotDue);
    assert_eq!(
        code(w.try_place("p2", "late.info")),
        ErrorCode::PlacementClosed
    );
    assert_eq!(w.money("p1"), (dec!(100), dec!(0), dec!(100)));

    // Nobody paid: nothing is attempted at the registry.
    let report = w.at(drop_at());
    assert_eq!(report.drops, 0);
    assert!(w.jobs_for("late.info").is_empty());
    assert_eq!(w.status("p1", o), Status::Expired);
    w.assert_clean();
}

// ---------------------------------------------------------------------------------------------
// Regressions: defects these scenarios found, fixed in the engine
// ---------------------------------------------------------------------------------------------

#[test]
fn inactive_deposit_is_still_retried_hourly_after_modify_backorder() {
    let w = World::new(&[]);
    w.pending(&["john.com"]);
    w.account("p", full_contacts("P-1"), dec!(0));
    let id = w.place("p", "john.com").id;
    let opens = drop_at() - hours(72);
    w.at(opens);
    assert_eq!(w.status("p", id), Status::Inactive);
    w.clock.set(opens + minutes(30));
    w.e.modify_backorder("p", id, full_contacts("P-2")).unwrap();
    w.e.fund("p", dec!(100), "top-up").unwrap();
    w.at(opens + hours(1));
    assert_eq!(
        w.status("p", id),
        Status::Active,
        "next wake-up: {:?}",
        w.e.next_wake().unwrap()
    );
    assert_eq!(w.money("p"), (dec!(100), dec!(49), dec!(51)));
}

#[test]
fn inactive_deposit_is_still_retried_hourly_after_the_deletion_time_moves() {
    let w = World::new(&[]);
    w.pending(&["john.com"]);
    w.account("p", full_contacts("P-1"), dec!(0));
    let id = w.place("p", "john.com").id;
    let opens = drop_at() - hours(72);
    w.at(opens);
    assert_eq!(w.status("p", id), Status::Inactive);
    w.clock.set(opens + minutes(30));
    w.e.add_pending_deletion("john.com", drop_at() + hours(1))
        .unwrap();
    w.e.fund("p", dec!(100), "top-up").unwrap();
    w.at(opens + hours(2));
    assert_eq!(
        w.status("p", id),
        Status::Active,
        "next wake-up: {:?}",
        w.e.next_wake().unwrap()
    );
}

#[test]
fn pending_payment_deadline_follows_the_deletion_time() {
    let w = World::new(&[]);
    w.pending(&["moved.info"]);
    w.account("p", Contacts::default(), dec!(100));
    let b = w.place("p", "moved.info");
    assert_eq!(b.pay_by, Some(drop_at() - hours(3)));
    w.e.add_pending_deletion("moved.info", drop_at() + hours(24))
        .unwrap();
    let b = w.get("p", b.id);
    assert_eq!(b.finalization_at, Some(drop_at() + hours(21)));
    assert_eq!(b.pay_by, b.finalization_at);

    let late = w.place("p", "unlisted.info");
    assert_eq!(late.pay_by, None);
    w.e.add_pending_deletion("unlisted.info", drop_at())
        .unwrap();
    let late = w.get("p", late.id);
    assert_eq!(late.pay_by, Some(drop_at() - hours(3)));
}

#[test]
fn auction_opening_price_is_the_fee_the_backorders_were_placed_at() {
    let w = World::new(&[("contest.com", CatchOutcome::Caught)]);
    w.pending(&["contest.com"]);
    for acct in ["a", "b"] {
        w.account(acct, full_contacts("HANDLE-1"), dec!(300));
    }
    let a = w.place("a", "contest.com").id;
    w.clock.set(t0() + minutes(1));
    w.place("b", "contest.com");
    let mut com =
        w.e.policies()
            .into_iter()
            .find(|p| p.zone == "com")
            .unwrap();
    com.price.amount = dec!(59);
    w.e.set_policy(com).unwrap();
    w.at(drop_at() - hours(72));
    assert_eq!(w.money("a"), (dec!(300), dec!(49), dec!(251)));
    w.at(drop_at());
    assert_eq!(w.e.auction("a", a).unwrap().opening_price, dec!(49));
    w.at(drop_at() + hours(24));
    w.at(drop_at() + hours(96));
    assert_eq!(w.get("a", a).amount_due, Some(dec!(49)));
}

#[test]
fn a_zone_changing_model_does_not_strand_backorders_placed_before() {
    let w = World::new(&[("contest.com", CatchOutcome::Caught)]);
    w.pending(&["contest.com"]);
    for acct in ["a", "b"] {
        w.account(acct, full_contacts("HANDLE-1"), dec!(300));
    }
    let a = w.place("a", "contest.com").id;
    let b = w.place("b", "contest.com").id;
    w.at(drop_at() - hours(72));
    let mut com =
        w.e.policies()
            .into_iter()
            .find(|p| p.zone == "com")
            .unwrap();
    com.model = backorder::AllocationModel::Exclusive;
    w.e.set_policy(com).unwrap();
    w.clock.set(drop_at());
    let report = w.e.tick().unwrap();
    w.clock.set(drop_at() + minutes(5));
    let later = w.e.tick().unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(later.errors.is_empty(), "{:?}", later.errors);
    assert_eq!(w.jobs_for("contest.com").len(), 1, "registered once");
    assert_eq!(w.status("a", a), Status::AuctionPending);
    assert_eq!(w.status("b", b), Status::AuctionPending);
    w.assert_clean();
}
