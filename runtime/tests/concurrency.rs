//! Several engine processes on one PostgreSQL database, through a drop.
//!
//! The parent sets up customers and names dropping in a few days. Three worker processes (this
//! binary run again with `BACKORDER_CONCURRENT_WORKER` set), each with two threads sharing one
//! engine, then place, cancel, fund, bid and tick at the same time, while the parent moves one
//! simulated clock they all read (a file: hosts whose clocks agree, as NTP keeps them) an hour
//! at a time through six days, each hour once every worker has ticked at the one before (so the
//! clock never jumps past the outcome timeout of a drop still in flight). At the end:
//!
//! - `audit()` is clean (no deposit reserved twice, no update lost: the journal and every balance
//!   agree);
//! - every caught name was allocated once: one `allocated` event per name, and at most one
//!   backorder per name in an allocated status;
//! - every drop was attempted at the registry once, by one of the processes;
//! - every placement a worker was told succeeded is there.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use backorder::core::rng::SplitMix64;
use backorder::core::{CatchProgress, DropJob, Registry};
use backorder::{
    full_contacts, Clock, Currency, Engine, EventKind, ManualClock, NewAccount, PlaceBackorder,
    SimulatedRegistry, Status,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;

const CUSTOMERS: usize = 12;
const NAMES: usize = 30;
const WORKERS: u64 = 3;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
}

fn customer(i: usize) -> String {
    format!("cust{i:02}")
}

/// Names in auction zones (com, net) and exclusive ones (info), dropping on days 4 and 5.
fn name(i: usize) -> (String, DateTime<Utc>) {
    let zone = ["com", "net", "info"][i % 3];
    let at = start() + Duration::days(4 + (i % 2) as i64) + Duration::minutes(7 * i as i64);
    (format!("race{i}.{zone}"), at)
}

/// The simulated registry, telling the parent (on stdout) of every attempt.
struct Announced(SimulatedRegistry);

impl Registry for Announced {
    fn attempt(&mut self, job: &DropJob, now: DateTime<Utc>) -> CatchProgress {
        println!("ATTEMPT {} {}", job.domain, job.drop_at.to_rfc3339());
        self.0.attempt(job, now)
    }
}

/// A clock every process reads from one file, which the parent moves.
struct SharedClock(std::path::PathBuf);

impl SharedClock {
    fn set(&self, t: DateTime<Utc>) {
        let tmp = self.0.with_extension("tmp");
        std::fs::write(&tmp, t.to_rfc3339()).unwrap();
        std::fs::rename(&tmp, &self.0).unwrap();
    }
}

impl Clock for SharedClock {
    fn now(&self) -> DateTime<Utc> {
        let text = std::fs::read_to_string(&self.0).unwrap();
        DateTime::parse_from_rfc3339(&text)
            .unwrap()
            .with_timezone(&Utc)
    }
}

fn engine(url: &str, clock: impl Clock + 'static, seed: u64) -> Engine {
    Engine::builder()
        .url(url)
        .clock(clock)
        .seed(seed)
        .registry(Box::new(Announced(SimulatedRegistry::new(seed))))
        .build()
        .unwrap()
}

/// One worker process: two threads on one engine, acting and ticking through the days.
#[test]
fn worker() {
    let Ok(url) = std::env::var("BACKORDER_CONCURRENT_WORKER") else {
        return; // only run as a child of `engines_on_one_database_allocate_each_name_once`
    };
    let id: u64 = std::env::var("BACKORDER_WORKER_ID")
        .unwrap()
        .parse()
        .unwrap();
    let clock_file = std::path::PathBuf::from(std::env::var("BACKORDER_CLOCK").unwrap());
    let clock = SharedClock(clock_file.clone());
    let engine = Arc::new(engine(&url, SharedClock(clock_file), 100 + id));
    // Until the parent's clock reaches the end: both threads act, then one ticks.
    let end = start() + Duration::days(6);
    let mut round = 0u64;
    while clock.now() < end {
        round += 1;
        std::thread::scope(|scope| {
            for thread in 0..2u64 {
                let engine = engine.clone();
                scope.spawn(move || {
                    let mut rng = SplitMix64::new(id * 1_000_003 + thread * 7_919 + round);
                    for step in 0..3 {
                        let c = customer(rng.below(CUSTOMERS as u64) as usize);
                        let n = rng.below(NAMES as u64) as usize;
                        match rng.below(10) {
                            0..=4 => {
                                let key = format!("w{id}-t{thread}-r{round}-s{step}");
                                if let Ok(b) = engine.place_backorder(PlaceBackorder {
                                    account: c.clone(),
                                    domain: name(n).0,
                                    idempotency_key: Some(key),
                                    ..Default::default()
                                }) {
                                    println!("PLACED {} {}", c, b.id);
                                }
                            }
                            5 => {
                                if let Some(b) = engine.backorders(&c).unwrap().first() {
                                    let _ = engine.cancel_backorder(&c, b.id);
                                }
                            }
                            6 => {
                                let key = format!("top-w{id}-t{thread}-r{round}-s{step}");
                                engine.fund(&c, Decimal::from(60), &key).unwrap();
                            }
                            _ => {
                                for b in engine.backorders(&c).unwrap() {
                                    match b.status {
                                        Status::AuctionPending => {
                                            let max = Decimal::from(60 + rng.below(200));
                                            let _ = engine.bid(&c, b.id, max);
                                        }
                                        Status::AuctionWon | Status::PendingPayment
                                            if rng.chance(500) =>
                                        {
                                            let _ = engine.pay(&c, b.id);
                                        }
                                        _ => {}
                                    }
                                }
                            }
                        }
                    }
                });
            }
        });
        let report = engine.tick().unwrap();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        // Tell the parent this worker has ticked at that time.
        let ticked = clock.0.with_file_name(format!("ticked-{id}"));
        let tmp = ticked.with_extension("tmp");
        std::fs::write(&tmp, report.now.unwrap().to_rfc3339()).unwrap();
        std::fs::rename(&tmp, &ticked).unwrap();
    }
    println!("DONE");
}

#[test]
fn engines_on_one_database_allocate_each_name_once() {
    if std::env::var_os("BACKORDER_CONCURRENT_WORKER").is_some() {
        return;
    }
    let Some(url) = common::fresh_postgres("concurrent") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("backorder-concurrent-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let clock = SharedClock(dir.join("clock"));
    clock.set(start());
    let setup = engine(&url, ManualClock::new(start()), 1);
    for i in 0..CUSTOMERS {
        setup
            .create_account(NewAccount {
                id: customer(i),
                currency: Currency::USD,
                contacts: full_contacts(&format!("H{i:02}-1")),
            })
            .unwrap();
        // Some rich, some able to hold only a deposit or two.
        let amount = if i % 4 == 0 { 90 } else { 2_000 };
        setup
            .fund(&customer(i), Decimal::from(amount), "initial")
            .unwrap();
    }
    for i in 0..NAMES {
        let (domain, at) = name(i);
        setup.add_pending_deletion(&domain, at).unwrap();
    }
    drop(setup);

    let workers: Vec<_> = (0..WORKERS)
        .map(|id| {
            Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "worker", "--nocapture", "--test-threads", "1"])
                .env("BACKORDER_CONCURRENT_WORKER", &url)
                .env("BACKORDER_WORKER_ID", id.to_string())
                .env("BACKORDER_CLOCK", &clock.0)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    // Move the shared clock an hour at a time while the workers run, once each has ticked at
    // the hour before.
    for hour in 1..=(6 * 24) {
        let now = start() + Duration::hours(hour - 1);
        for id in 0..WORKERS {
            let ticked = dir.join(format!("ticked-{id}"));
            let waited = std::time::Instant::now();
            while std::fs::read_to_string(&ticked)
                .ok()
                .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                .is_none_or(|t| t < now)
            {
                assert!(
                    waited.elapsed().as_secs() < 120,
                    "worker {id} stopped ticking"
                );
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        }
        clock.set(start() + Duration::hours(hour));
    }
    let mut placed: BTreeSet<(String, u64)> = BTreeSet::new();
    let mut attempts: BTreeMap<String, u32> = BTreeMap::new();
    for mut w in workers {
        let out = BufReader::new(w.stdout.take().unwrap());
        let mut done = false;
        for line in out.lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("PLACED ") {
                let (c, id) = rest.split_once(' ').unwrap();
                placed.insert((c.to_string(), id.parse().unwrap()));
            }
            if let Some(drop) = line.strip_prefix("ATTEMPT ") {
                *attempts.entry(drop.to_string()).or_default() += 1;
            }
            done |= line == "DONE";
        }
        let status = w.wait_with_output().unwrap();
        assert!(
            status.status.success() && done,
            "a worker failed: {}",
            String::from_utf8_lossy(&status.stderr)
        );
    }

    // Run out the clock on one engine, so every auction and payment deadline passes.
    let e = engine(&url, ManualClock::new(start() + Duration::days(30)), 1);
    e.tick().unwrap();
    let audit = e.audit().unwrap();
    assert!(audit.is_clean(), "{audit:?}");

    let mut allocated: BTreeMap<String, u32> = BTreeMap::new();
    let mut cursor = 0;
    loop {
        let events = e.events(cursor, 1000).unwrap();
        let Some(last) = events.last() else { break };
        cursor = last.seq;
        for ev in events {
            if matches!(ev.kind, EventKind::Allocated { .. }) {
                *allocated.entry(ev.domain.unwrap().to_string()).or_default() += 1;
            }
        }
    }
    assert!(
        !allocated.is_empty(),
        "some names were caught and allocated"
    );
    assert!(!attempts.is_empty());
    for (drop, n) in &attempts {
        assert_eq!(*n, 1, "the drop {drop} was attempted {n} times");
    }
    for (domain, n) in &allocated {
        assert_eq!(*n, 1, "{domain} was allocated {n} times");
    }
    let mut winners: BTreeMap<String, u32> = BTreeMap::new();
    let mut found = 0;
    for i in 0..CUSTOMERS {
        for b in e.backorders(&customer(i)).unwrap() {
            if placed.contains(&(customer(i), b.id)) {
                found += 1;
            }
            if matches!(b.status, Status::Successful) {
                *winners.entry(b.domain.to_string()).or_default() += 1;
            }
        }
    }
    assert_eq!(
        found,
        placed.len(),
        "every acknowledged placement is stored"
    );
    assert!(
        placed.len() > 50,
        "the workers placed backorders: {}",
        placed.len()
    );
    for (domain, n) in winners {
        assert_eq!(n, 1, "{domain} has {n} successful backorders");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
