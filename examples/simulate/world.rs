//! One seed drives a whole system, with faults, and an auditor checks it after every step.
//!
//! The world: eight customers (one in EUR, two never funded, two without contact handles), a dozen
//! names in auction zones (`com`, `net`) and exclusive ones (`info`, `biz`) dropping over the next
//! days, more names listed as the run goes. Each step draws from: fund, place, cancel, modify,
//! pay, bid, a retry of an earlier keyed request (duplicated, and out of order), the clock moving
//! minutes or hours, a clock jump of days, the host's clock stepped back (an NTP correction), a
//! deletion moved earlier or later, and (on SQLite) the process crashing and the store reopening.
//! Store faults land inside transactions (see `store_faults.rs`): on SQLite a power cut at any
//! store call, the commit itself included (before or after it is durable), then a restart; in
//! memory an I/O error on one call, which the engine must roll back cleanly. The registry is this file's own: competitors take
//! names, registries time out, disconnect, answer error codes, price names premium, let names
//! drop late, or work a drop on their own time and answer much later.
//!
//! After every step: the engine's auditor (every SPEC §4 invariant re-derived from the journal),
//! and this file's own checks, read through the public API only: every history follows the
//! transition table; no name is allocated twice; every failed, lost, cancelled or expired
//! backorder's deposit was released exactly once and no deposit twice; a retried keyed request
//! answers what its first answer did; no command fails with `INTERNAL` or `STORE`.
//!
//! Everything random comes from the seed, time from a manual clock: a seed replays exactly.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use backorder::core::lifecycle::history_follows_table;
use backorder::core::rng::SplitMix64;
use backorder::core::TransferKind;
use backorder::{
    Backorder, CatchOutcome, Clock, Contacts, Currency, Engine, ErrorCode, ManualClock, NewAccount,
    PlaceBackorder, Status,
};
use backorder_core::{CatchProgress, DropJob, Registry};

use crate::store_faults::{self, FaultState, Faults, FaultyStore, StoreFault};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;

/// Where the engine keeps its state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreKind {
    /// In memory: no crashes.
    Memory,
    /// A SQLite file in this directory: crashes and reopens.
    Sqlite(PathBuf),
}

/// One run.
#[derive(Clone, Debug)]
pub struct Config {
    /// Drives everything.
    pub seed: u64,
    /// Commands and clock moves before the clock runs out.
    pub steps: usize,
    /// The store.
    pub store: StoreKind,
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The seed.
    pub seed: u64,
    /// Steps taken.
    pub steps: u64,
    /// Commands sent to the engine.
    pub commands: u64,
    /// Of those, refused with a typed error.
    pub refused: u64,
    /// Keyed requests sent again (duplicated or out of order).
    pub retries: u64,
    /// Crashes and reopens of the store.
    pub crashes: u64,
    /// Registry faults: timeouts, disconnects, error codes.
    pub registry_faults: u64,
    /// Drops answered later, on the registry's own time.
    pub late_outcomes: u64,
    /// Clock jumps of days.
    pub clock_jumps: u64,
    /// The host's clock stepped back by minutes.
    pub clock_steps_back: u64,
    /// Store calls failed by an injected I/O error (memory).
    pub store_faults: u64,
    /// Power cuts inside a transaction, each followed by a restart (SQLite).
    pub power_cuts: u64,
    /// Of those, cuts after a commit was durable but before the caller heard.
    pub cuts_after_commit: u64,
    /// Deletions moved earlier or later.
    pub moved_deletions: u64,
    /// Drops worked.
    pub drops: u64,
    /// Of those, caught.
    pub caught: u64,
    /// Invariant checks made (each check of each backorder or account counts one).
    pub checks: u64,
}

impl Report {
    /// Adds another run's counts to these (the seed is left as it is).
    pub fn absorb(&mut self, other: &Report) {
        self.steps += other.steps;
        self.commands += other.commands;
        self.refused += other.refused;
        self.retries += other.retries;
        self.crashes += other.crashes;
        self.registry_faults += other.registry_faults;
        self.late_outcomes += other.late_outcomes;
        self.clock_jumps += other.clock_jumps;
        self.clock_steps_back += other.clock_steps_back;
        self.store_faults += other.store_faults;
        self.power_cuts += other.power_cuts;
        self.cuts_after_commit += other.cuts_after_commit;
        self.moved_deletions += other.moved_deletions;
        self.drops += other.drops;
        self.caught += other.caught;
        self.checks += other.checks;
    }
}

/// A broken invariant: the seed, the step and what broke. Replaying the seed reproduces it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The seed.
    pub seed: u64,
    /// The step it broke at.
    pub step: u64,
    /// What broke.
    pub what: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "seed {} broke at step {}: {}\nreplay: cargo run --release --example simulate -- --seed {}",
            self.seed, self.step, self.what, self.seed
        )
    }
}

const ACCOUNTS: [&str; 8] = ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"];
const NAMES: [&str; 16] = [
    "alpha.com",
    "bravo.com",
    "charlie.com",
    "delta.net",
    "echo.net",
    "foxtrot.com",
    "golf.info",
    "hotel.info",
    "india.biz",
    "juliet.biz",
    "kilo.com",
    "lima.net",
    "mike.com",
    "november.info",
    "oscar.net",
    "papa.biz",
];

/// The registry's shared state: the seed's generator and the drops it is working on its own time.
struct RegistryState {
    rng: SplitMix64,
    underway: Vec<(DropJob, CatchOutcome)>,
    faults: u64,
}

/// A registry with competitors and faults, decided by the seed.
struct FaultyRegistry(Arc<Mutex<RegistryState>>);

impl Registry for FaultyRegistry {
    fn attempt(&mut self, job: &DropJob, _now: DateTime<Utc>) -> CatchProgress {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let roll = s.rng.below(1000);
        let outcome = match roll {
            0..=349 => CatchOutcome::Caught,
            350..=599 => CatchOutcome::Taken,
            600..=679 => CatchOutcome::NotDropped,
            680..=719 => CatchOutcome::Premium {
                price: Some(Decimal::from(500)),
            },
            720..=819 => {
                s.faults += 1;
                let message = [
                    "timeout after 30 s",
                    "connection reset by peer",
                    "2400 command failed",
                    "2502 session limit exceeded",
                ][s.rng.below(4) as usize];
                CatchOutcome::RegistryError {
                    message: message.into(),
                }
            }
            _ => {
                // Worked on the registry's own time: the outcome comes much later.
                let late = if s.rng.chance(700) {
                    CatchOutcome::Caught
                } else {
                    CatchOutcome::Taken
                };
                if !s
                    .underway
                    .iter()
                    .any(|(j, _)| j.domain == job.domain && j.drop_at == job.drop_at)
                {
                    s.underway.push((job.clone(), late));
                }
                return CatchProgress::Underway;
            }
        };
        outcome.into()
    }
}

/// A `STORE` error the fault injector made (its text says so): any other is a failure.
fn is_injected(e: &backorder::Error) -> bool {
    e.code() == ErrorCode::Store && e.to_string().contains("injected fault")
}

/// A keyed request and the first answer it got, to send again later.
#[derive(Clone, Debug)]
enum Keyed {
    Fund {
        account: String,
        amount: Decimal,
        key: String,
        first: Option<u64>,
    },
    Place {
        req: PlaceBackorder,
        first: Option<u64>,
    },
    Cancel {
        account: String,
        id: u64,
        key: String,
        first: Option<Status>,
    },
    Pay {
        account: String,
        id: u64,
        key: String,
        first: Option<Status>,
    },
}

impl Keyed {
    /// Whether the request got an answer (was not refused, nor cut off by a fault).
    fn answered(&self) -> bool {
        match self {
            Keyed::Fund { first, .. } | Keyed::Place { first, .. } => first.is_some(),
            Keyed::Cancel { first, .. } | Keyed::Pay { first, .. } => first.is_some(),
        }
    }

    /// Whether `again` (the same request sent again) answers as this one did: the same transfer
    /// or backorder; a cancellation or payment that succeeded succeeds again (the status may
    /// have moved on since).
    fn answered_alike(&self, again: &Keyed) -> bool {
        match (self, again) {
            (Keyed::Fund { first: a, .. }, Keyed::Fund { first: b, .. })
            | (Keyed::Place { first: a, .. }, Keyed::Place { first: b, .. }) => {
                a.is_none() || a == b
            }
            _ => !self.answered() || again.answered(),
        }
    }
}

struct World {
    config: Config,
    rng: SplitMix64,
    clock: ManualClock,
    registry: Arc<Mutex<RegistryState>>,
    faults: Faults,
    /// Injected store errors the engine answered (each answer is counted once).
    faults_answered: u64,
    engine: Option<Engine>,
    report: Report,
    keyed: Vec<Keyed>,
    /// Every backorder seen: (account, id).
    backorders: Vec<(String, u64)>,
    step: u64,
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

impl World {
    fn open_engine(&self) -> Result<Engine, String> {
        let url = match &self.config.store {
            StoreKind::Memory => "memory:".to_string(),
            StoreKind::Sqlite(dir) => format!(
                "sqlite:{}",
                dir.join(format!("sim-{}.db", self.config.seed)).display()
            ),
        };
        let store = backorder::open_store(&url).map_err(|e| format!("opening {url}: {e}"))?;
        Engine::builder()
            .store(Box::new(FaultyStore::new(store, self.faults.clone())))
            .clock(self.clock.clone())
            .seed(self.config.seed)
            .registry(Box::new(FaultyRegistry(self.registry.clone())))
            .build()
            .map_err(|e| format!("opening {url}: {e}"))
    }

    fn engine(&self) -> &Engine {
        self.engine.as_ref().expect("an engine is open")
    }

    fn fail(&self, what: impl Into<String>) -> Failure {
        Failure {
            seed: self.config.seed,
            step: self.step,
            what: what.into(),
        }
    }

    /// A command's result: refusals are counted; `INTERNAL` and `STORE` are failures, but for
    /// the one `STORE` answer an injected I/O error earns, and any while the power is cut.
    fn judge<T>(&mut self, what: &str, r: backorder::Result<T>) -> Result<Option<T>, Failure> {
        self.report.commands += 1;
        match r {
            Ok(v) => Ok(Some(v)),
            Err(e) if is_injected(&e) && self.injected_fault_answered() => {
                self.report.refused += 1;
                Ok(None)
            }
            Err(e) if matches!(e.code(), ErrorCode::Internal | ErrorCode::Store) => {
                Err(self.fail(format!("{what}: {e}")))
            }
            Err(_) => {
                self.report.refused += 1;
                Ok(None)
            }
        }
    }

    /// True (once per transient fault) when an injected fault is there to answer for a `STORE`
    /// error that says it is one.
    fn injected_fault_answered(&mut self) -> bool {
        let mut s = store_faults::lock(&self.faults);
        let ours = s.power_cut || std::mem::take(&mut s.transient_fired);
        drop(s);
        if ours {
            self.faults_answered += 1;
        }
        ours
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.below(items.len() as u64) as usize]
    }

    fn setup(&mut self) -> Result<(), Failure> {
        for (i, id) in ACCOUNTS.iter().enumerate() {
            let contacts = if i == 3 || i == 4 {
                Contacts::default()
            } else {
                backorder::full_contacts(&format!("H-{id}"))
            };
            let currency = if i == 7 { Currency::EUR } else { Currency::USD };
            let r = self.engine().create_account(NewAccount {
                id: id.to_string(),
                currency,
                contacts,
            });
            self.judge("create_account", r)?;
            if i != 5 && i != 6 {
                let amount = Decimal::from(50 + self.rng.below(400));
                let r = self.engine().fund(id, amount, "opening");
                self.judge("fund", r)?;
            }
        }
        for name in &NAMES[..12] {
            self.list(name)?;
        }
        Ok(())
    }

    fn list(&mut self, name: &'static str) -> Result<(), Failure> {
        let at = self.clock.now() + Duration::hours(30 + self.rng.below(24 * 8) as i64);
        let r = self.engine().add_pending_deletion(name, at);
        self.judge("add_pending_deletion", r)?;
        Ok(())
    }

    fn some_backorder(&mut self) -> Option<(String, u64)> {
        if self.backorders.is_empty() {
            return None;
        }
        let i = self.rng.below(self.backorders.len() as u64) as usize;
        Some(self.backorders[i].clone())
    }

    fn tick(&mut self) -> Result<(), Failure> {
        let report = match self.engine().tick() {
            Ok(report) => report,
            Err(e) if is_injected(&e) && self.injected_fault_answered() => {
                return Ok(());
            }
            Err(e) => return Err(self.fail(format!("tick: {e}"))),
        };
        // A tick goes on past a step that failed: the injected fault may be one of them (any
        // number once the power is cut), nothing else may.
        let injected = |e: &String| e.contains("injected fault");
        let ours = report.errors.iter().filter(|e| injected(e)).count();
        let others: Vec<&String> = report.errors.iter().filter(|e| !injected(e)).collect();
        let allowed = ours == 0 || ours == 1 || store_faults::lock(&self.faults).power_cut;
        if !others.is_empty() || !allowed || (ours > 0 && !self.injected_fault_answered()) {
            return Err(self.fail(format!("tick step errors: {:?}", report.errors)));
        }
        self.report.drops += report.drops;
        self.report.caught += report.caught;
        Ok(())
    }

    /// Answers drops the registry worked on its own time: each with a 40 % chance, or `all`.
    fn late_outcomes(&mut self, all: bool) -> Result<(), Failure> {
        let due: Vec<(DropJob, CatchOutcome)> = {
            let mut s = self.registry.lock().unwrap_or_else(|e| e.into_inner());
            let mut due = Vec::new();
            let mut keep = Vec::new();
            for item in std::mem::take(&mut s.underway) {
                if all || s.rng.chance(400) {
                    due.push(item);
                } else {
                    keep.push(item);
                }
            }
            s.underway = keep;
            due
        };
        let mut due = due.into_iter();
        while let Some((job, outcome)) = due.next() {
            let answered = self.faults_answered;
            let r = self
                .engine()
                .record_catch(job.domain.as_str(), job.drop_at, &outcome);
            self.judge("record_catch", r)?;
            if self.faults_answered != answered {
                // The engine never heard: the registry tells again, later.
                let mut s = self.registry.lock().unwrap_or_else(|e| e.into_inner());
                s.underway.push((job, outcome));
                s.underway.extend(due);
                break;
            }
            self.report.late_outcomes += 1;
        }
        Ok(())
    }

    /// After a power cut: the host restarts on the same file. Returns whether the cut came
    /// after a durable commit.
    fn restart_after_cut(&mut self) -> Result<bool, Failure> {
        self.report.power_cuts += 1;
        let after_commit = store_faults::lock(&self.faults).cut_after_commit;
        if after_commit {
            self.report.cuts_after_commit += 1;
        }
        *store_faults::lock(&self.faults) = FaultState::default();
        self.crash()?;
        self.report.crashes -= 1; // counted as a power cut
        Ok(after_commit)
    }

    /// Sends again each keyed request of this step that got no answer (at most one, the one the
    /// fault hit), as a host does after an error: it must now answer for good, and as the
    /// request's first use did when that was committed after all. Returns how many were sent.
    fn resend_unanswered(&mut self, keyed_before: usize) -> Result<usize, Failure> {
        let mut sent = 0;
        for i in keyed_before..self.keyed.len() {
            if self.keyed[i].answered() {
                continue;
            }
            sent += 1;
            let request = self.keyed[i].clone();
            let again = self.send(&request, "after restart")?;
            if again.answered() {
                self.keyed[i] = again;
            }
        }
        Ok(sent)
    }

    /// Sends a keyed request again; the request back with this answer as its `first` (`None`
    /// when refused).
    fn send(&mut self, request: &Keyed, when: &str) -> Result<Keyed, Failure> {
        let mut again = request.clone();
        match &mut again {
            Keyed::Fund {
                account,
                amount,
                key,
                first,
            } => {
                let r = self.engine().fund(account, *amount, key);
                *first = self.judge(&format!("fund {when}"), r)?.map(|t| t.id);
            }
            Keyed::Place { req, first } => {
                let r = self.engine().place_backorder(req.clone());
                *first = self.judge(&format!("place {when}"), r)?.map(|b| b.id);
                if let Some(id) = *first {
                    if !self.backorders.contains(&(req.account.clone(), id)) {
                        self.backorders.push((req.account.clone(), id));
                    }
                }
            }
            Keyed::Cancel {
                account,
                id,
                key,
                first,
            } => {
                let r = self.engine().cancel_backorder_once(account, *id, key);
                *first = self.judge(&format!("cancel {when}"), r)?.map(|b| b.status);
            }
            Keyed::Pay {
                account,
                id,
                key,
                first,
            } => {
                let r = self.engine().pay_once(account, *id, key);
                *first = self.judge(&format!("pay {when}"), r)?.map(|b| b.status);
            }
        }
        Ok(again)
    }

    fn crash(&mut self) -> Result<(), Failure> {
        if !matches!(self.config.store, StoreKind::Sqlite(_)) {
            return Ok(());
        }
        // The process is gone between two commits, or (after a power cut) in the middle of a
        // transaction. The engine is dropped, which releases the store's one-process lock as the
        // kernel would; `scripts/test` also kills real processes with SIGKILL mid-run in the
        // drop-day resume check.
        drop(self.engine.take());
        self.report.crashes += 1;
        loop {
            match self.open_engine() {
                Ok(engine) => {
                    self.engine = Some(engine);
                    return Ok(());
                }
                // The power went again while the engine opened and finished what the last
                // process left half-done: start once more.
                Err(_) if store_faults::lock(&self.faults).power_cut => {
                    self.report.power_cuts += 1;
                    *store_faults::lock(&self.faults) = FaultState::default();
                }
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    fn retry(&mut self) -> Result<(), Failure> {
        if self.keyed.is_empty() {
            return Ok(());
        }
        let i = self.rng.below(self.keyed.len() as u64) as usize;
        let request = self.keyed[i].clone();
        self.report.retries += 1;
        let answered = self.faults_answered;
        let again = self.send(&request, "retry")?;
        // An injected fault's answer is no answer: only a heard one is compared.
        if self.faults_answered == answered && !request.answered_alike(&again) {
            return Err(self.fail(format!(
                "a keyed request answered differently when retried:\nfirst {request:?}\nagain {again:?}"
            )));
        }
        Ok(())
    }

    /// One step. Returns whether it was one engine operation (one transaction), after which an
    /// injected I/O error must leave everything as it was.
    fn step_once(&mut self) -> Result<bool, Failure> {
        let crashes = matches!(self.config.store, StoreKind::Sqlite(_));
        let roll = self.rng.below(100);
        let single = roll < 66 || (89..=91).contains(&roll) || roll >= 98;
        match roll {
            0..=9 => {
                let account = self.pick(&ACCOUNTS);
                let amount = Decimal::new(self.rng.below(30_000) as i64 - 1_000, 2);
                let key = format!("fund-{}", self.rng.below(40));
                let r = self.engine().fund(account, amount, &key);
                let first = self.judge("fund", r)?.map(|t| t.id);
                self.keyed.push(Keyed::Fund {
                    account: account.into(),
                    amount,
                    key,
                    first,
                });
            }
            10..=29 => {
                let account = self.pick(&ACCOUNTS);
                let domain = self.pick(&NAMES);
                let key = self
                    .rng
                    .chance(600)
                    .then(|| format!("place-{}", self.rng.below(60)));
                let req = PlaceBackorder {
                    account: account.into(),
                    domain: domain.into(),
                    lite: self.rng.chance(150),
                    contacts: if self.rng.chance(200) {
                        backorder::full_contacts("OWN-1")
                    } else {
                        Contacts::default()
                    },
                    idempotency_key: key.clone(),
                };
                let r = self.engine().place_backorder(req.clone());
                let placed = self.judge("place", r)?;
                if let Some(b) = &placed {
                    if !self.backorders.contains(&(account.to_string(), b.id)) {
                        self.backorders.push((account.to_string(), b.id));
                    }
                }
                if key.is_some() {
                    self.keyed.push(Keyed::Place {
                        req,
                        first: placed.map(|b| b.id),
                    });
                }
            }
            30..=35 => {
                if let Some((account, id)) = self.some_backorder() {
                    let key = format!("cancel-{}", self.rng.below(30));
                    let r = self.engine().cancel_backorder_once(&account, id, &key);
                    let first = self.judge("cancel", r)?.map(|b| b.status);
                    self.keyed.push(Keyed::Cancel {
                        account,
                        id,
                        key,
                        first,
                    });
                }
            }
            36..=39 => {
                if let Some((account, id)) = self.some_backorder() {
                    // Sometimes someone else's: must be refused as not found.
                    let who = if self.rng.chance(300) {
                        self.pick(&ACCOUNTS).to_string()
                    } else {
                        account.clone()
                    };
                    let r =
                        self.engine()
                            .modify_backorder(&who, id, backorder::full_contacts("MOD-1"));
                    let done = self.judge("modify", r)?;
                    if who != account && done.is_some() {
                        return Err(self.fail(format!("{who} modified {account}'s backorder {id}")));
                    }
                }
            }
            40..=47 => {
                if let Some((account, id)) = self.some_backorder() {
                    let key = format!("pay-{}", self.rng.below(30));
                    let r = self.engine().pay_once(&account, id, &key);
                    let first = self.judge("pay", r)?.map(|b| b.status);
                    self.keyed.push(Keyed::Pay {
                        account,
                        id,
                        key,
                        first,
                    });
                }
            }
            48..=57 => {
                if let Some((account, id)) = self.some_backorder() {
                    let max = Decimal::new(self.rng.below(60_000) as i64, 2);
                    let r = self.engine().bid(&account, id, max);
                    self.judge("bid", r)?;
                }
            }
            58..=65 => self.retry()?,
            66..=84 if self.rng.chance(80) => {
                // The host's clock is stepped back (an NTP correction); the engine goes on.
                self.report.clock_steps_back += 1;
                let minutes = 1 + self.rng.below(90) as i64;
                self.clock
                    .set(self.clock.now() - Duration::minutes(minutes));
                self.tick()?;
            }
            66..=84 => {
                let minutes = 5 + self.rng.below(60 * 12) as i64;
                self.clock
                    .set(self.clock.now() + Duration::minutes(minutes));
                self.tick()?;
            }
            85..=88 => {
                self.report.clock_jumps += 1;
                let days = 1 + self.rng.below(4) as i64;
                self.clock.set(self.clock.now() + Duration::days(days));
                self.tick()?;
            }
            89..=91 => {
                // A deletion moved: earlier (the registry drops early) or later.
                let name = self.pick(&NAMES);
                let shift = Duration::hours(self.rng.below(72) as i64 - 36);
                let at = self.clock.now() + Duration::hours(2) + shift.abs();
                let r = self.engine().add_pending_deletion(name, at);
                self.judge("move deletion", r)?;
                self.report.moved_deletions += 1;
            }
            92..=94 => self.late_outcomes(false)?,
            95..=96 if crashes => self.crash()?,
            97 => {
                // A fault inside one of the next store calls, wherever it lands.
                let after = 1 + self.rng.below(150);
                let fault = if crashes {
                    StoreFault::PowerCut {
                        after,
                        durable_commit: self.rng.chance(500),
                    }
                } else {
                    StoreFault::Transient { after }
                };
                store_faults::lock(&self.faults).armed = Some((fault, 0));
            }
            _ => {
                let name = self.pick(&NAMES[12..]);
                self.list(name)?;
            }
        }
        Ok(single)
    }

    /// Runs a step with store faults counting, then deals with any that fired: a power cut
    /// restarts the host; an I/O error must have been answered as `STORE`, and after a
    /// one-operation step must have left every record a host can read as it was.
    fn step_with_faults(&mut self) -> Result<(), Failure> {
        let armed = store_faults::lock(&self.faults).armed.is_some();
        // A reopened SQLite file takes up half-done drops again (their wake-ups move): its
        // snapshots leave wake-ups out.
        let wakes = !matches!(self.config.store, StoreKind::Sqlite(_));
        let before = if armed {
            Some(self.snapshot(wakes)?)
        } else {
            None
        };
        let keyed_before = self.keyed.len();
        let answered = self.faults_answered;
        store_faults::lock(&self.faults).counting = true;
        let outcome = self.step_once();
        store_faults::lock(&self.faults).counting = false;
        let single = outcome?;
        let (cut, unanswered) = {
            let s = store_faults::lock(&self.faults);
            (s.power_cut, s.transient_fired)
        };
        if cut {
            let committed = self.restart_after_cut()?;
            let after = self.snapshot(wakes)?;
            if let (Some(before), true, false) = (&before, single, committed) {
                if after != *before {
                    return Err(self.fail(format!(
                        "an operation cut before its commit left changes:\nbefore {before}\nafter  {after}"
                    )));
                }
            }
            let resent = self.resend_unanswered(keyed_before)?;
            if committed && resent > 0 {
                let again = self.snapshot(wakes)?;
                if again != after {
                    return Err(self.fail(format!(
                        "a keyed request committed before a power cut ran again when resent:\nbefore {after}\nafter  {again}"
                    )));
                }
            }
            return Ok(());
        }
        if unanswered {
            return Err(self.fail("an injected store error was never answered as STORE"));
        }
        if self.faults_answered != answered {
            self.report.store_faults += 1;
            if single {
                if let Some(before) = before {
                    let after = self.snapshot(wakes)?;
                    if after != before {
                        return Err(self.fail(format!(
                            "an operation failed by an injected I/O error left changes:\nbefore {before}\nafter  {after}"
                        )));
                    }
                }
            }
            self.resend_unanswered(keyed_before)?;
        }
        Ok(())
    }

    /// Everything a host can read: each account's balance, backorders (with their auctions) and
    /// statement, every name's listing, the events, the status counts, and (with `wakes`) when the
    /// engine next has work.
    fn snapshot(&self, wakes: bool) -> Result<String, Failure> {
        let e = self.engine();
        let mut out = String::new();
        for account in ACCOUNTS {
            let read = |what: &str, r: String| format!("{account} {what}: {r}\n");
            out += &read("balance", format!("{:?}", e.balance(account)));
            let backorders = e.backorders(account);
            out += &read("backorders", format!("{backorders:?}"));
            for b in backorders.iter().flatten() {
                out += &read("auction", format!("{:?}", e.auction(account, b.id)));
            }
            out += &read(
                "statement",
                format!("{:?}", e.statement(account, 0, u32::MAX)),
            );
        }
        for name in NAMES {
            out += &format!("{name}: {:?}\n", e.pending_deletion(name));
        }
        out += &format!("events: {:?}\n", e.events(0, u32::MAX));
        out += &format!("status counts: {:?}\n", e.status_counts());
        if wakes {
            out += &format!("next wake: {:?}\n", e.next_wake());
        }
        Ok(out)
    }

    /// The auditor's verdict and this file's own checks, through the public API.
    fn check(&mut self) -> Result<(), Failure> {
        let audit = self
            .engine()
            .audit()
            .map_err(|e| self.fail(format!("audit: {e}")))?;
        if !audit.is_clean() {
            return Err(self.fail(format!("audit: {audit:?}")));
        }
        self.report.checks += 1;
        // Keyed by name and drop: a name listed again after a catch may drop again.
        let mut winners: BTreeMap<(String, Option<DateTime<Utc>>), Vec<u64>> = BTreeMap::new();
        for account in ACCOUNTS {
            let all: Vec<Backorder> = self
                .engine()
                .backorders(account)
                .map_err(|e| self.fail(format!("backorders: {e}")))?;
            let lines = self
                .engine()
                .statement(account, 0, u32::MAX)
                .map_err(|e| self.fail(format!("statement: {e}")))?;
            let mut releases: BTreeMap<u64, u32> = BTreeMap::new();
            for l in &lines {
                if l.kind == TransferKind::Release {
                    if let Some(b) = l.backorder {
                        *releases.entry(b).or_default() += 1;
                    }
                }
            }
            for b in &all {
                self.report.checks += 1;
                if !history_follows_table(&b.history) {
                    return Err(self.fail(format!(
                        "backorder {} history breaks the table: {:?}",
                        b.id, b.history
                    )));
                }
                let released = releases.get(&b.id).copied().unwrap_or(0);
                if released > 1 {
                    return Err(self.fail(format!(
                        "backorder {}'s deposit released {released} times",
                        b.id
                    )));
                }
                let ended_unpaid = matches!(
                    b.status,
                    Status::Failed | Status::AuctionLost | Status::Cancelled | Status::Expired
                );
                if ended_unpaid && b.reservation.is_some() && released != 1 && b.paid.is_zero() {
                    return Err(self.fail(format!(
                        "backorder {} is {} with a deposit released {released} times",
                        b.id, b.status
                    )));
                }
                if matches!(b.status, Status::Successful)
                    || (b.status == Status::AuctionWon && b.auth_code.is_some())
                {
                    winners
                        .entry((b.domain.to_string(), b.drop_at))
                        .or_default()
                        .push(b.id);
                }
            }
        }
        for ((name, drop_at), ids) in winners {
            if ids.len() > 1 {
                return Err(self.fail(format!(
                    "{name} (drop {drop_at:?}) allocated to backorders {ids:?}"
                )));
            }
        }
        Ok(())
    }
}

/// Runs one seed. Deterministic: the same config gives the same report or the same failure.
pub fn run(config: &Config) -> Result<Report, Failure> {
    if let StoreKind::Sqlite(dir) = &config.store {
        let _ = std::fs::create_dir_all(dir);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(dir.join(format!("sim-{}.db{suffix}", config.seed)));
        }
    }
    let mut world = World {
        config: config.clone(),
        rng: SplitMix64::new(config.seed),
        clock: ManualClock::new(start()),
        faults: Faults::default(),
        faults_answered: 0,
        registry: Arc::new(Mutex::new(RegistryState {
            rng: SplitMix64::new(config.seed ^ 0x5151_5151),
            underway: Vec::new(),
            faults: 0,
        })),
        engine: None,
        report: Report {
            seed: config.seed,
            ..Report::default()
        },
        keyed: Vec::new(),
        backorders: Vec::new(),
        step: 0,
    };
    world.engine = Some(world.open_engine().map_err(|e| world.fail(e))?);
    world.setup()?;
    world.check()?;
    for step in 1..=config.steps as u64 {
        world.step = step;
        world.step_with_faults()?;
        world.check()?;
    }
    // The clock runs out: every late outcome arrives, every window, auction and deadline passes.
    world.step += 1;
    for _ in 0..40 {
        world.late_outcomes(true)?;
        world.clock.set(world.clock.now() + Duration::days(3));
        world.tick()?;
        world.check()?;
    }
    world.clock.set(world.clock.now() + Duration::days(60));
    world.tick()?;
    world.check()?;
    let counts = world
        .engine()
        .status_counts()
        .map_err(|e| world.fail(format!("status counts: {e}")))?;
    if counts.get(&Status::Processing).copied().unwrap_or(0) > 0 {
        return Err(world.fail(format!(
            "backorders still PROCESSING at the end: {counts:?}"
        )));
    }
    world.report.registry_faults = world
        .registry
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .faults;
    world.report.steps = config.steps as u64;
    if let StoreKind::Sqlite(dir) = &config.store {
        drop(world.engine.take());
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(dir.join(format!("sim-{}.db{suffix}", config.seed)));
        }
    }
    Ok(world.report)
}
