//! The conformance suite every store passes: the memory store (the reference), SQLite and
//! PostgreSQL (on the server `BACKORDER_TEST_POSTGRES` names; see `tests/common`).
//!
//! Two parts. The contract of the `Store` trait, table by table, run on each store alone:
//! transactions (read-your-writes, rollback leaves nothing, counters roll back too), ordering and
//! paging, wake-up order, the outbox, idempotency keys. Then the same seeded engine workload run
//! in lockstep on an engine over each store: every call must return the same result on every
//! store, and at the end every backorder, balance, statement line, event and audit must be equal.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use backorder::core::account::Account;
use backorder::core::backorder::Allocation;
use backorder::core::catalog::PendingDeletion;
use backorder::core::ledger::{LedgerAccount, LedgerAccountKind, TransferKind};
use backorder::core::name::DomainName;
use backorder::core::rng::SplitMix64;
use backorder::core::store::{CommandRecord, NewEvent, Store, WakeKey};
use backorder::core::EventKind;
use backorder::store::{MemoryStore, PostgresStore, SqliteStore};
use backorder::{
    full_contacts, Currency, Engine, ErrorCode, ManualClock, NewAccount, PlaceBackorder,
    SimulatedRegistry, Transfer,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "backorder-conformance-{}-{}-{tag}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Each store under test, fresh, with whatever keeps it alive.
fn stores(tag: &str) -> Vec<(&'static str, Box<dyn Store>, Option<TempDir>)> {
    let dir = TempDir::new(tag);
    let sqlite = SqliteStore::open(&dir.0.join("store.db"), Default::default()).unwrap();
    let mut out: Vec<(&'static str, Box<dyn Store>, Option<TempDir>)> = vec![
        ("memory", Box::new(MemoryStore::new()), None),
        ("sqlite", Box::new(sqlite), Some(dir)),
    ];
    if let Some(url) = common::fresh_postgres(tag) {
        out.push((
            "postgres",
            Box::new(PostgresStore::connect(&url).unwrap()),
            None,
        ));
    }
    out
}

fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + Duration::seconds(secs)
}

fn name(s: &str) -> DomainName {
    DomainName::parse(s).unwrap()
}

fn transfer(id: u64, key: &str, debit: &str, credit: &str) -> Transfer {
    Transfer {
        id,
        key: key.into(),
        kind: TransferKind::Fund,
        debit: debit.into(),
        credit: credit.into(),
        amount: Decimal::new(1234, 2),
        currency: Currency::USD,
        pending_id: None,
        backorder: None,
        at: t(0),
    }
}

#[test]
fn counters_rise_and_a_rollback_takes_them_back() {
    for (store, mut s, _dir) in stores("counters") {
        s.begin().unwrap();
        let a = s.next_backorder_id().unwrap();
        let b = s.next_backorder_id().unwrap();
        assert!(b > a, "{store}");
        s.commit().unwrap();
        s.begin().unwrap();
        let c = s.next_backorder_id().unwrap();
        assert_eq!(c, b + 1, "{store}");
        s.rollback().unwrap();
        assert_eq!(s.next_backorder_id().unwrap(), c, "{store}: rolled back");
        let x = s.next_auction_id().unwrap();
        assert_eq!(s.next_auction_id().unwrap(), x + 1, "{store}");
        let y = s.next_transfer_id().unwrap();
        assert_eq!(s.next_transfer_id().unwrap(), y + 1, "{store}");
    }
}

#[test]
fn writes_are_seen_inside_their_transaction_and_gone_after_a_rollback() {
    for (store, mut s, _dir) in stores("rollback") {
        let acct = Account {
            id: "alice".into(),
            currency: Currency::USD,
            contacts: full_contacts("AL-1"),
            outstanding: Decimal::ZERO,
            created_at: t(0),
        };
        s.begin().unwrap();
        s.put_account(&acct).unwrap();
        assert_eq!(s.account("alice").unwrap(), Some(acct.clone()), "{store}");
        s.set_wake(WakeKey::Backorder(1), Some(t(5))).unwrap();
        s.append_event(NewEvent {
            at: t(0),
            account: Some("alice".into()),
            backorder: None,
            domain: None,
            kind: EventKind::LowBalance {
                needed: Decimal::ONE,
                available: Decimal::ZERO,
                currency: Currency::USD,
            },
        })
        .unwrap();
        let id = s.next_transfer_id().unwrap();
        s.insert_transfer(&transfer(id, "k1", "a", "b")).unwrap();
        s.rollback().unwrap();
        assert_eq!(s.account("alice").unwrap(), None, "{store}");
        assert_eq!(s.wake_of(WakeKey::Backorder(1)).unwrap(), None, "{store}");
        assert_eq!(s.next_wake().unwrap(), None, "{store}");
        assert!(s.events_after(0, 10).unwrap().is_empty(), "{store}");
        assert_eq!(s.transfer_by_key("k1").unwrap(), None, "{store}");

        s.begin().unwrap();
        s.put_account(&acct).unwrap();
        s.commit().unwrap();
        assert_eq!(s.account("alice").unwrap(), Some(acct), "{store}");
    }
}

#[test]
fn wake_ups_come_by_time_then_backorders_before_auctions_then_by_id() {
    for (store, mut s, _dir) in stores("wakes") {
        s.begin().unwrap();
        s.set_wake(WakeKey::Auction(1), Some(t(10))).unwrap();
        s.set_wake(WakeKey::Backorder(7), Some(t(10))).unwrap();
        s.set_wake(WakeKey::Backorder(3), Some(t(10))).unwrap();
        s.set_wake(WakeKey::Backorder(9), Some(t(20))).unwrap();
        s.set_wake(WakeKey::Backorder(2), Some(t(30))).unwrap();
        s.set_wake(WakeKey::Backorder(2), Some(t(5))).unwrap(); // moved earlier
        s.set_wake(WakeKey::Backorder(9), None).unwrap(); // cleared
        s.set_wake(WakeKey::Auction(4), Some(t(10) + Duration::nanoseconds(1)))
            .unwrap();
        s.commit().unwrap();
        assert_eq!(s.next_wake().unwrap(), Some(t(5)), "{store}");
        assert_eq!(
            s.due(t(10), 10).unwrap(),
            vec![
                (t(5), WakeKey::Backorder(2)),
                (t(10), WakeKey::Backorder(3)),
                (t(10), WakeKey::Backorder(7)),
                (t(10), WakeKey::Auction(1)),
            ],
            "{store}"
        );
        assert_eq!(s.due(t(10), 2).unwrap().len(), 2, "{store}");
        assert_eq!(s.due(t(4), 10).unwrap(), vec![], "{store}");
        assert_eq!(s.wake_of(WakeKey::Backorder(9)).unwrap(), None, "{store}");
        assert_eq!(
            s.wake_of(WakeKey::Auction(4)).unwrap(),
            Some(t(10) + Duration::nanoseconds(1)),
            "{store}: nanoseconds kept"
        );
    }
}

#[test]
fn the_outbox_numbers_events_and_prunes_what_was_delivered() {
    for (store, mut s, _dir) in stores("events") {
        s.begin().unwrap();
        let mut seqs = Vec::new();
        for i in 0..5 {
            seqs.push(
                s.append_event(NewEvent {
                    at: t(i),
                    account: Some("bob".into()),
                    backorder: Some(i as u64),
                    domain: Some(name("john.com")),
                    kind: EventKind::Refunded {
                        amount: Decimal::new(4900, 2),
                        currency: Currency::USD,
                        destination: backorder::core::RefundDestination::Balance,
                    },
                })
                .unwrap(),
            );
        }
        s.commit().unwrap();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{store}");
        let all = s.events_after(0, 100).unwrap();
        assert_eq!(all.len(), 5, "{store}");
        assert_eq!(all[2].seq, seqs[2], "{store}");
        assert_eq!(all[2].at, t(2), "{store}");
        assert_eq!(s.events_after(seqs[1], 2).unwrap().len(), 2, "{store}");
        s.prune_events(seqs[2]).unwrap();
        let left: Vec<u64> = s
            .events_after(0, 100)
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(left, seqs[3..].to_vec(), "{store}");
    }
}

#[test]
fn the_journal_refuses_a_second_transfer_under_one_key() {
    for (store, mut s, _dir) in stores("journal") {
        s.begin().unwrap();
        for (i, (k, d, c)) in [("k1", "a", "b"), ("k2", "b", "c"), ("k3", "c", "a")]
            .iter()
            .enumerate()
        {
            let id = s.next_transfer_id().unwrap();
            assert_eq!(id, i as u64 + 1, "{store}");
            s.insert_transfer(&transfer(id, k, d, c)).unwrap();
        }
        s.commit().unwrap();
        // Refused when written: at once, or at commit by a store that buffers the journal; the
        // error names the key refused, not another of the transaction's.
        s.begin().unwrap();
        let fresh = s.next_transfer_id().unwrap();
        s.insert_transfer(&transfer(fresh, "k4", "a", "b")).unwrap();
        let id = s.next_transfer_id().unwrap();
        let e = match s.insert_transfer(&transfer(id, "k2", "a", "b")) {
            Ok(()) => s.commit().unwrap_err(),
            Err(e) => {
                s.rollback().unwrap();
                e
            }
        };
        assert_eq!(e.code(), ErrorCode::IdempotencyConflict, "{store}: {e}");
        assert!(e.to_string().contains("k2"), "{store}: {e}");
        assert_eq!(
            s.transfer_by_key("k4").unwrap(),
            None,
            "{store}: all or nothing"
        );
        assert_eq!(
            s.transfer_by_key("k2").unwrap().map(|t| t.id),
            Some(2),
            "{store}"
        );
        let ids = |v: Vec<Transfer>| v.iter().map(|t| t.id).collect::<Vec<_>>();
        assert_eq!(
            ids(s.transfers_for_account("a", 0, 10).unwrap()),
            vec![1, 3]
        );
        assert_eq!(ids(s.transfers_for_account("b", 1, 10).unwrap()), vec![2]);
        assert_eq!(ids(s.transfers_after(1, 1).unwrap()), vec![2], "{store}");
        let got = s.transfer_by_key("k1").unwrap().unwrap();
        assert_eq!(
            got,
            transfer(1, "k1", "a", "b"),
            "{store}: exact amount kept"
        );
    }
}

/// Runs `f` as the engine does: in a transaction, again from the start whenever the commit or the
/// rollback reports a conflict. The result, and how many runs it took.
fn retrying<T>(
    s: &mut dyn Store,
    mut f: impl FnMut(&mut dyn Store) -> backorder::Result<T>,
) -> (backorder::Result<T>, u32) {
    let mut runs = 0;
    loop {
        runs += 1;
        assert!(runs <= 5, "still conflicting after {runs} runs");
        s.begin().unwrap();
        let out = match f(s) {
            Ok(v) => s.commit().map(|()| v),
            Err(e) => s.rollback().and(Err(e)),
        };
        match out {
            Err(backorder::Error::StoreConflict(_)) => continue,
            other => return (other, runs),
        }
    }
}

#[test]
fn deferred_key_checks_answer_repeats_as_the_first_use_did() {
    use backorder::core::ledger;
    for (store, mut s, _dir) in stores("deferred") {
        s.defer_key_checks();
        let s = s.as_mut();
        let usd = |v: i64| backorder::core::Money::new(Decimal::from(v), Currency::USD);
        let (r, _) = retrying(s, |tx| {
            ledger::open_customer(tx, "ann", Currency::USD)?;
            ledger::fund(tx, "top-up", "ann", &usd(100), t(0))
        });
        r.unwrap();
        let (first, _) = retrying(s, |tx| {
            ledger::reserve(tx, "dep-1", "ann", &usd(49), Some(1), t(1))
        });
        let first = first.unwrap();
        // A repeat gives the first answer and changes nothing. The database stores deferred the
        // check: the key's index refused the first run, so it took two.
        let (again, runs) = retrying(s, |tx| {
            ledger::reserve(tx, "dep-1", "ann", &usd(49), Some(1), t(2))
        });
        assert_eq!(again.unwrap(), first, "{store}");
        assert_eq!(runs, if store == "memory" { 1 } else { 2 }, "{store}");
        let (released, _) = retrying(s, |tx| ledger::release(tx, "rel-1", first.id, t(3)));
        let released = released.unwrap();
        // The repeat of a release finds the reservation resolved: only the key, read, tells it
        // is a repeat and not an error (the rollback's look-up sends it round again).
        let (again, runs) = retrying(s, |tx| ledger::release(tx, "rel-1", first.id, t(4)));
        assert_eq!(again.unwrap(), released, "{store}");
        assert_eq!(runs, if store == "memory" { 1 } else { 2 }, "{store}");
        // A repeat with other fields, and a new key on a resolved reservation, are errors.
        let (e, _) = retrying(s, |tx| {
            ledger::reserve(tx, "dep-1", "ann", &usd(50), Some(1), t(5))
        });
        assert_eq!(
            e.unwrap_err().code(),
            ErrorCode::IdempotencyConflict,
            "{store}"
        );
        let (e, runs) = retrying(s, |tx| ledger::release(tx, "rel-2", first.id, t(6)));
        assert_eq!(
            e.unwrap_err().code(),
            ErrorCode::ReservationResolved,
            "{store}"
        );
        assert_eq!(runs, 1, "{store}: a new key that is truly new runs once");
        let (balance, _) = retrying(s, |tx| ledger::balance(tx, "ann"));
        let balance = balance.unwrap();
        assert_eq!(
            (balance.balance, balance.reserved),
            (Decimal::from(100), Decimal::ZERO),
            "{store}"
        );
        let (journal, _) = retrying(s, |tx| tx.transfers_after(0, 100));
        let kinds: Vec<TransferKind> = journal.unwrap().iter().map(|t| t.kind).collect();
        assert_eq!(
            kinds,
            [
                TransferKind::Fund,
                TransferKind::Reserve,
                TransferKind::Release
            ],
            "{store}: each key once"
        );
    }
}

#[test]
fn keyed_tables_page_in_byte_order() {
    for (store, mut s, _dir) in stores("paging") {
        s.begin().unwrap();
        for id in ["b", "a", "B", "c-1", "c"] {
            s.put_account(&Account {
                id: id.into(),
                currency: Currency::EUR,
                contacts: Default::default(),
                outstanding: Decimal::ZERO,
                created_at: t(0),
            })
            .unwrap();
            s.put_ledger_account(LedgerAccount {
                key: format!("customer:{id}:available").into(),
                kind: LedgerAccountKind::Customer,
                currency: Currency::EUR,
                debits_pending: Decimal::ZERO,
                debits_posted: Decimal::ZERO,
                credits_pending: Decimal::ZERO,
                credits_posted: Decimal::new(-5, 1),
            })
            .unwrap();
        }
        s.commit().unwrap();
        assert_eq!(
            s.account_ids(None, 10).unwrap(),
            vec!["B", "a", "b", "c", "c-1"],
            "{store}"
        );
        assert_eq!(s.account_ids(Some("b"), 1).unwrap(), vec!["c"], "{store}");
        let keys: Vec<String> = s
            .ledger_accounts_after(Some("customer:a:available"), 10)
            .unwrap()
            .into_iter()
            .map(|a| a.key.to_string())
            .collect();
        assert_eq!(
            keys,
            vec![
                "customer:b:available",
                "customer:c-1:available",
                "customer:c:available"
            ],
            "{store}"
        );
    }
}

#[test]
fn catalog_commands_allocations_and_alerts_round_trip() {
    for (store, mut s, _dir) in stores("tables") {
        s.begin().unwrap();
        let listed = PendingDeletion {
            domain: name("john.com"),
            drop_at: t(100),
            withdrawn: false,
            updated_at: t(1),
        };
        let gone = PendingDeletion {
            domain: name("gone.net"),
            drop_at: t(200),
            withdrawn: true,
            updated_at: t(2),
        };
        s.put_pending_deletion(&listed).unwrap();
        s.put_pending_deletion(&gone).unwrap();
        s.put_command(CommandRecord {
            key: "host:place:ann:k".into(),
            fingerprint: u64::MAX - 7,
            result: 42,
        })
        .unwrap();
        let alloc = Allocation {
            domain: name("john.com"),
            drop_at: t(100),
            account: "ann".into(),
            backorder: 3,
            at: t(101),
        };
        s.put_allocation(&alloc).unwrap();
        s.mark_alert_sent(1, &name("john.com")).unwrap();
        s.mark_alert_sent(1, &name("john.com")).unwrap();
        s.commit().unwrap();
        assert_eq!(s.pending_deletion(&name("john.com")).unwrap(), Some(listed));
        assert_eq!(s.listed_count().unwrap(), 1, "{store}");
        let mut all: Vec<String> = s
            .pending_deletions()
            .unwrap()
            .iter()
            .map(|p| p.domain.to_string())
            .collect();
        all.sort();
        assert_eq!(all, vec!["gone.net", "john.com"], "{store}");
        let c = s.command("host:place:ann:k").unwrap().unwrap();
        assert_eq!((c.fingerprint, c.result), (u64::MAX - 7, 42), "{store}");
        assert_eq!(s.command("host:place:ann:other").unwrap(), None, "{store}");
        assert_eq!(
            s.allocation(&name("john.com"), t(100)).unwrap(),
            Some(alloc)
        );
        assert_eq!(s.allocation(&name("john.com"), t(99)).unwrap(), None);
        assert!(s.alert_sent(1, &name("john.com")).unwrap(), "{store}");
        assert!(!s.alert_sent(2, &name("john.com")).unwrap(), "{store}");
    }
}

// ---------------------------------------------------------------------------------------------
// The same workload on every store
// ---------------------------------------------------------------------------------------------

const NAMES: [&str; 8] = [
    "alpha.com",
    "bravo.com",
    "charlie.net",
    "delta.net",
    "echo.info",
    "foxtrot.info",
    "golf.biz",
    "hotel.com",
];
const CUSTOMERS: [&str; 5] = ["ann", "ben", "cy", "dee", "eve"];

fn engine_on(store: Box<dyn Store>, clock: &ManualClock, seed: u64) -> Engine {
    Engine::builder()
        .store(store)
        .clock(clock.clone())
        .seed(seed)
        .registry(Box::new(SimulatedRegistry::new(seed)))
        .build()
        .unwrap()
}

/// A result as text, for comparing what two engines answered.
fn answer<T: serde::Serialize>(r: backorder::Result<T>) -> String {
    match r {
        Ok(v) => serde_json::to_string(&v).unwrap(),
        Err(e) => format!("error {}: {e}", e.code().as_str()),
    }
}

/// Everything a host can read back from an engine.
fn snapshot(e: &Engine) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for c in CUSTOMERS {
        out.insert(format!("{c} backorders"), answer(e.backorders(c)));
        out.insert(format!("{c} balance"), answer(e.balance(c)));
        out.insert(format!("{c} statement"), answer(e.statement(c, 0, 10_000)));
    }
    out.insert("events".into(), answer(e.events(0, 100_000)));
    out.insert("status counts".into(), answer(e.status_counts()));
    out.insert("next wake".into(), answer(e.next_wake()));
    let audit = e.audit().unwrap();
    assert!(audit.is_clean(), "{audit:?}");
    out.insert("audit".into(), answer(Ok(audit)));
    out
}

#[test]
fn one_workload_gives_the_same_results_on_every_store() {
    // Final statuses over all seeds, to show the workload reaches the whole life cycle.
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    for seed in [1u64, 2, 3] {
        let start = t(0);
        let clock = ManualClock::new(start);
        let mut engines: Vec<(&str, Engine, Option<TempDir>)> = stores("workload")
            .into_iter()
            .map(|(n, s, d)| (n, engine_on(s, &clock, seed), d))
            .collect();
        let mut rng = SplitMix64::new(seed);
        let mut step = 0u64;
        // Every call goes to every engine; their answers must match.
        let mut all = |what: &str, f: &dyn Fn(&Engine) -> String| {
            step += 1;
            let answers: Vec<String> = engines.iter().map(|(_, e, _)| f(e)).collect();
            for (i, a) in answers.iter().enumerate().skip(1) {
                assert_eq!(
                    a, &answers[0],
                    "seed {seed}, step {step} ({what}): {} differs from {}",
                    engines[i].0, engines[0].0
                );
            }
            answers[0].clone()
        };
        for (i, c) in CUSTOMERS.iter().enumerate() {
            all("create account", &|e| {
                answer(e.create_account(NewAccount {
                    id: c.to_string(),
                    currency: Currency::USD,
                    contacts: if i == 4 {
                        Default::default()
                    } else {
                        full_contacts(&format!("H{i}-1"))
                    },
                }))
            });
        }
        for (i, n) in NAMES.iter().enumerate() {
            let at = start + Duration::hours(80 + 7 * i as i64);
            all("add pending deletion", &|e| {
                answer(e.add_pending_deletion(n, at))
            });
        }
        for (i, c) in CUSTOMERS.iter().enumerate() {
            let amount = Decimal::from(if i == 3 { 60 } else { 2_000 });
            all("fund", &|e| answer(e.fund(c, amount, "initial")));
        }
        // Backorder ids the engines gave out, for later steps to act on.
        let mut ids: Vec<u64> = Vec::new();
        for _ in 0..300 {
            let c = CUSTOMERS[rng.below(CUSTOMERS.len() as u64) as usize];
            let n = NAMES[rng.below(NAMES.len() as u64) as usize];
            let id = match ids.len() as u64 {
                0 => 1,
                len => ids[rng.below(len) as usize],
            };
            let key = format!("k{}", rng.below(60));
            match rng.below(20) {
                0 | 1 => {
                    let amount = Decimal::new(rng.below(30_000) as i64, 2);
                    all("fund", &|e| answer(e.fund(c, amount, &key)));
                }
                2..=8 => {
                    let lite = rng.chance(200);
                    let got = all("place", &|e| {
                        answer(e.place_backorder(PlaceBackorder {
                            account: c.into(),
                            domain: n.into(),
                            lite,
                            idempotency_key: Some(key.clone()),
                            ..Default::default()
                        }))
                    });
                    if let Ok(b) = serde_json::from_str::<backorder::Backorder>(&got) {
                        ids.push(b.id);
                    }
                }
                9 => {
                    all("cancel", &|e| answer(e.cancel_backorder(c, id)));
                }
                10 | 11 => {
                    all("pay", &|e| answer(e.pay(c, id)));
                }
                12..=14 => {
                    let max = Decimal::from(40 + rng.below(200));
                    all("bid", &|e| answer(e.bid(c, id, max)));
                }
                _ => {
                    clock.advance(Duration::minutes(rng.below(6 * 60) as i64));
                    all("tick", &|e| answer(e.tick()));
                }
            }
        }
        // Run out the clock: every drop, auction and payment deadline passes.
        for _ in 0..40 {
            clock.advance(Duration::hours(12));
            all("tick", &|e| answer(e.tick()));
        }
        let snapshots: Vec<_> = engines.iter().map(|(n, e, _)| (*n, snapshot(e))).collect();
        for (store, snap) in &snapshots[1..] {
            for (k, v) in &snapshots[0].1 {
                assert_eq!(&snap[k], v, "seed {seed}: {store} differs in {k}");
            }
        }
        let counts: BTreeMap<String, u64> =
            serde_json::from_str(&snapshots[0].1["status counts"]).unwrap();
        for (status, n) in counts {
            *seen.entry(status).or_default() += n;
        }
        engines.clear();
    }
    for status in [
        "SUCCESSFUL",
        "AUCTION-LOST",
        "CANCELLED",
        "FAILED",
        "EXPIRED",
    ] {
        assert!(seen[status] > 0, "no {status} in {seen:?}");
    }
}

/// Opens the customer `ann` and funds 500 USD under the key `first`.
fn funded_ann(e: &Engine) {
    e.create_account(NewAccount {
        id: "ann".into(),
        currency: Currency::USD,
        contacts: full_contacts("ANN-1"),
    })
    .unwrap();
    e.fund("ann", Decimal::from(500), "first").unwrap();
}

/// An engine on the store `url` names, with the default simulated registry.
fn engine_at(url: &str, clock: &ManualClock) -> Engine {
    Engine::builder()
        .url(url)
        .clock(clock.clone())
        .seed(9)
        .build()
        .unwrap()
}

#[test]
fn a_reopened_sqlite_store_has_everything_committed() {
    let dir = TempDir::new("reopen");
    let path = dir.0.join("engine.db");
    let clock = ManualClock::new(t(0));
    let url = format!("sqlite:{}", path.display());
    let open = || engine_at(&url, &clock);
    let before = {
        let e = open();
        funded_ann(&e);
        e.add_pending_deletion("john.com", t(0) + Duration::days(4))
            .unwrap();
        e.place_backorder(PlaceBackorder {
            account: "ann".into(),
            domain: "john.com".into(),
            ..Default::default()
        })
        .unwrap();
        clock.advance(Duration::days(2));
        e.tick().unwrap();
        snapshot(&e)
    };
    let e = open();
    assert_eq!(snapshot(&e), before);
    let again = e.fund("ann", Decimal::from(500), "first").unwrap();
    assert_eq!(again.id, 1, "the idempotency key survived the reopen");
    // The file serves one process (here: one open store) at a time.
    let busy = SqliteStore::open(&path, Default::default()).err().unwrap();
    assert_eq!(busy.code(), ErrorCode::Store);
    assert!(
        busy.to_string().contains("open in another process"),
        "{busy}"
    );
    drop(e);
    let mut s = SqliteStore::open(&path, Default::default()).unwrap();
    assert_eq!(s.schema_version().unwrap(), 5, "every migration applied");
}

#[test]
fn bad_sqlite_urls_are_refused_with_a_reason() {
    for url in [
        "sqlite:",
        "sqlite:/tmp/x.db?synchronous=off",
        "sqlite:/tmp/x.db?wal=0",
    ] {
        let e = backorder::open_store(url).err().expect(url);
        assert_eq!(e.code(), ErrorCode::InvalidArgument, "{url}: {e}");
    }
    let e = backorder::open_store("sqlite:/nonexistent-dir/x/y.db")
        .err()
        .unwrap();
    assert_eq!(e.code(), ErrorCode::Store, "{e}");
}

/// A process that died between beginning a drop and recording its outcome (while the registry
/// was being asked) left PROCESSING backorders: an engine opened on that SQLite file takes the
/// drop up at its first tick instead of after the outcome timeout.
#[test]
fn a_drop_left_half_done_is_taken_up_when_the_file_is_reopened() {
    use backorder::core::catch;
    use backorder::Status;
    let dir = TempDir::new("halfdrop");
    let url = format!("sqlite:{}", dir.0.join("engine.db").display());
    let drop_at = t(0) + Duration::days(4);
    let clock = ManualClock::new(t(0));
    let open = |clock: &ManualClock| engine_at(&url, clock);
    let id = {
        let e = open(&clock);
        funded_ann(&e);
        e.add_pending_deletion("john.com", drop_at).unwrap();
        let b = e
            .place_backorder(PlaceBackorder {
                account: "ann".into(),
                domain: "john.com".into(),
                ..Default::default()
            })
            .unwrap();
        clock.set(drop_at - Duration::hours(1));
        e.tick().unwrap();
        assert_eq!(e.backorder("ann", b.id).unwrap().status, Status::Active);
        b.id
    };
    // The drop begins, and the process dies before the registry answers.
    {
        let mut s = SqliteStore::open(&dir.0.join("engine.db"), Default::default()).unwrap();
        s.begin().unwrap();
        let job = catch::begin_drop(&mut s, drop_at, &name("john.com"), drop_at).unwrap();
        assert!(job.is_some());
        s.commit().unwrap();
    }
    clock.set(drop_at + Duration::seconds(1));
    let e = open(&clock);
    assert_eq!(e.backorder("ann", id).unwrap().status, Status::Processing);
    let report = e.tick().unwrap();
    assert_eq!(report.drops, 1, "{report:?}");
    assert_ne!(e.backorder("ann", id).unwrap().status, Status::Processing);
    assert!(e.audit().unwrap().is_clean());
}
