//! The drop day: a registrar's whole backorder service simulated in one process.
//!
//! Thousands of pending deletions across the seed TLDs, a thousand customers (some short of funds,
//! some without contact handles), contested and uncontested backorders in both allocation models,
//! cancellations, top-ups, auctions with proxy bids, payments and unpaid winners. The clock runs from
//! four days before the first drops through every auction and payment deadline of the names that
//! dropped, while a tail of names still has its drop ahead. Every random choice comes from `--seed`,
//! so two runs with the same seed and `--registry inprocess` print the same figures (all but
//! `elapsed_ms`).
//!
//! By default the drops are worked over EPP (see `catching`): a registry simulator for each
//! registry on loopback over TLS, with competitors, and the catcher working each drop window on
//! real timers and sockets while the days between windows pass in simulated time. Who wins a
//! race there depends on real timing, so those figures vary a little from run to run.
//! `--registry inprocess` decides each drop in-process from the seed instead.
//!
//! ```text
//! cargo run --release --example drop_day -- [--seed N] [--names N] [--accounts N]
//!                                           [--backorders N] [--db URL]
//!                                           [--registry epp|inprocess] [--json]
//! ```
//!
//! The engine keeps its state in SQLite, the embedded default: in a fresh file removed at the end,
//! or in the one `--db sqlite:PATH` names, which stays. `--db memory:` keeps it in memory.
//!
//! Exits non-zero when the audit finds anything wrong or a time-driven step failed.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use std::process::ExitCode;
use std::time::Instant;

mod catching;
mod host;

use backorder::catcher::CatcherRegistry;
use backorder::core::rng::SplitMix64;
use backorder::core::{AllocationModel, DropSchedule, PlaceBackorder, Reason};
use backorder::{
    Clock, Engine, EventKind, ManualClock, NewAccount, OffsetClock, SimulatedRegistry, Status,
};
use catching::{Dropping, EppDrops};
use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use host::{Host, Refused};
use rust_decimal::Decimal;

const HELP: &str = "drop_day: simulate a registrar's backorder service through a drop day

USAGE: drop_day [--seed N] [--names N] [--accounts N] [--backorders N] [--db URL]
                [--registry epp|inprocess] [--json]

  --seed N        every random choice follows this seed (default 1)
  --names N       pending deletions across the seed TLDs (default 10000)
  --accounts N    customer accounts (default 1000)
  --backorders N  backorders to place, about (default 2 per name)
  --db URL        the engine's store: sqlite:PATH (kept), memory: (default: SQLite in a
                  fresh temporary file, removed at the end)
  --registry R    epp (default): each drop window is worked over EPP against registry
                  simulators on loopback (TLS), with competitors, on real timers;
                  inprocess: drops are decided in-process from the seed (repeatable,
                  and the only mode a killed --db sqlite:PATH run can be resumed in)
  --json          print one JSON object instead of the readable summary
  --help          this text";

struct Args {
    seed: u64,
    names: usize,
    accounts: usize,
    backorders: usize,
    /// The store URL; `None`: SQLite in a temporary file.
    db: Option<String>,
    /// Drops worked over EPP against simulated registries (else decided in-process).
    epp: bool,
    json: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        seed: 1,
        names: 10_000,
        accounts: 1_000,
        backorders: 0,
        db: None,
        epp: true,
        json: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            it.next()
                .ok_or_else(|| format!("{name} needs a value"))?
                .parse::<u64>()
                .map_err(|e| format!("{name}: {e}"))
        };
        match arg.as_str() {
            "--seed" => a.seed = number("--seed")?,
            "--names" => a.names = number("--names")? as usize,
            "--accounts" => a.accounts = number("--accounts")? as usize,
            "--backorders" => a.backorders = number("--backorders")? as usize,
            "--db" => a.db = Some(it.next().ok_or("--db needs a URL")?),
            "--registry" => {
                a.epp = match it.next().as_deref() {
                    Some("epp") => true,
                    Some("inprocess") => false,
                    other => {
                        return Err(format!(
                            "--registry takes epp or inprocess, not {}",
                            other.unwrap_or("nothing")
                        ))
                    }
                }
            }
            "--json" => a.json = true,
            "--help" | "-h" => {
                println!("{HELP}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument '{other}'\n\n{HELP}")),
        }
    }
    if a.names == 0 || a.accounts < 2 {
        return Err("need at least one name and two accounts".into());
    }
    if a.backorders == 0 {
        a.backorders = a.names * 2;
    }
    a.backorders = a.backorders.max(a.names);
    Ok(a)
}

/// What a customer does, at a time.
#[derive(Clone, Debug)]
enum Action {
    Place {
        account: usize,
        name: usize,
        lite: bool,
    },
    Cancel {
        account: usize,
        name: usize,
    },
    PayExclusive {
        account: usize,
        name: usize,
    },
    Bid {
        account: usize,
        backorder: u64,
        max: Decimal,
    },
    PayAuction {
        account: usize,
        backorder: u64,
    },
    TopUp {
        account: usize,
        amount: Decimal,
    },
    CompleteContacts {
        account: usize,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Wallet {
    Funded,
    Short,
    NoContacts,
}

struct Name {
    domain: String,
    drop_at: DateTime<Utc>,
    model: AllocationModel,
    fee: Decimal,
}

struct World {
    rng: SplitMix64,
    start: DateTime<Utc>,
    /// Customer actions ahead, earliest first (ties in the order they were planned), keyed by
    /// (seconds, nanoseconds, planning order): integers compare faster than `DateTime`s.
    queue: BinaryHeap<Reverse<(i64, u32, u64)>>,
    actions: HashMap<u64, Action, foldhash::fast::RandomState>,
    /// The plan made before the day starts, sorted once (by time, then planning order) and
    /// consumed from the front; reactions go to `queue`.
    plan: std::collections::VecDeque<(DateTime<Utc>, u64, Action)>,
    /// When the action last taken was due.
    last_action_at: DateTime<Utc>,
    next_action: u64,
    accounts: Vec<String>,
    wallets: Vec<Wallet>,
    names: Vec<Name>,
    /// (account index, name index) → backorder id.
    placed: HashMap<(usize, usize), u64, foldhash::fast::RandomState>,
    /// backorder id - 1 → (account index, name index); ids are dense from 1.
    orders: Vec<(usize, usize)>,
    account_index: HashMap<String, usize>,
    refused: BTreeMap<&'static str, u64>,
}

/// The instant a queue key stands for.
fn instant(secs: i64, nanos: u32) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, nanos).expect("queued from a valid instant")
}

impl World {
    /// Plans an action before the simulation starts.
    fn plan(&mut self, t: DateTime<Utc>, a: Action) {
        self.next_action += 1;
        self.plan.push_back((t, self.next_action, a));
    }

    /// The earliest planned or queued action, if it is due by `now`.
    fn pop_due(&mut self, now: DateTime<Utc>) -> Option<(u64, Action)> {
        let planned = self.plan.front().map(|p| (p.0, p.1));
        let queued = self.queue.peek().map(|r| (instant(r.0 .0, r.0 .1), r.0 .2));
        match (planned, queued) {
            (Some(p), q) if p.0 <= now && q.is_none_or(|q| p <= q) => {
                self.last_action_at = p.0;
                self.plan.pop_front().map(|(_, seq, a)| (seq, a))
            }
            (_, Some(q)) if q.0 <= now => {
                self.last_action_at = q.0;
                self.queue.pop();
                self.actions.remove(&q.1).map(|a| (q.1, a))
            }
            _ => None,
        }
    }

    fn next_time(&self) -> Option<DateTime<Utc>> {
        let planned = self.plan.front().map(|p| p.0);
        let queued = self.queue.peek().map(|r| instant(r.0 .0, r.0 .1));
        planned.into_iter().chain(queued).min()
    }

    fn at(&mut self, t: DateTime<Utc>, a: Action) {
        self.next_action += 1;
        self.queue.push(Reverse((
            t.timestamp(),
            t.timestamp_subsec_nanos(),
            self.next_action,
        )));
        self.actions.insert(self.next_action, a);
    }

    fn between(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
        let span = (to - from).num_seconds().max(1) as u64;
        from + Duration::seconds(self.rng.below(span) as i64)
    }
}

const ZONES: [&str; 17] = [
    "com", "net", "org", "info", "biz", "asia", "mobi", "ca", "cc", "ch", "co", "li", "me", "nu",
    "se", "tv", "us",
];
const SYLLABLES: [&str; 32] = [
    "shop", "web", "net", "cloud", "data", "pay", "go", "my", "best", "top", "smart", "home",
    "tech", "app", "blue", "green", "fast", "star", "city", "hub", "box", "lab", "zen", "max",
    "pro", "art", "bio", "eco", "geo", "joy", "sun", "sky",
];

/// The drop instant of a name dropping on `day` (midnight UTC), by its registry's schedule.
fn drop_instant(
    rng: &mut SplitMix64,
    schedule: &DropSchedule,
    day: DateTime<Utc>,
) -> DateTime<Utc> {
    let minutes = |m: u32| Duration::minutes(m as i64);
    match schedule {
        DropSchedule::DailyBatch {
            start_minute_utc,
            window_minutes,
        } => {
            day + minutes(*start_minute_utc)
                + Duration::seconds(rng.below(*window_minutes as u64 * 60) as i64)
        }
        DropSchedule::DailyRelease { from_minute_utc } => {
            day + minutes(*from_minute_utc) + Duration::seconds(rng.below(4 * 3600) as i64)
        }
        DropSchedule::Weekly {
            weekday,
            start_minute_utc,
        } => {
            let today = day.weekday().number_from_monday();
            let ahead = (*weekday + 7 - today) % 7;
            day + Duration::days(ahead as i64)
                + minutes(*start_minute_utc)
                + Duration::seconds(rng.below(1800) as i64)
        }
        DropSchedule::ExactInstant => day + Duration::seconds(rng.below(86_400) as i64),
    }
}

fn new_world(args: &Args) -> World {
    let start = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    let mut w = World {
        rng: SplitMix64::new(args.seed),
        start,
        queue: BinaryHeap::new(),
        actions: HashMap::default(),
        plan: Default::default(),
        last_action_at: start,
        next_action: 0,
        accounts: Vec::new(),
        wallets: Vec::new(),
        names: Vec::new(),
        placed: HashMap::default(),
        orders: Vec::new(),
        account_index: HashMap::new(),
        refused: BTreeMap::new(),
    };
    let policies: BTreeMap<String, backorder::TldPolicy> = backorder::core::default_policies()
        .into_iter()
        .map(|p| (p.zone.clone(), p))
        .collect();
    // Names: most drop on days 4-7; a tail drops on day 40, still ahead when the day ends.
    let mut seen = BTreeSet::new();
    while w.names.len() < args.names {
        let zone = ZONES[w.rng.below(ZONES.len() as u64) as usize];
        let parts = 1 + w.rng.below(3);
        let mut label: String = (0..parts)
            .map(|_| SYLLABLES[w.rng.below(SYLLABLES.len() as u64) as usize])
            .collect::<Vec<_>>()
            .join(if w.rng.chance(150) { "-" } else { "" });
        if w.rng.chance(300) || seen.len() * 4 > args.names * 3 {
            label.push_str(&w.rng.below(100_000).to_string());
        }
        let domain = format!("{label}.{zone}");
        if !seen.insert(domain.clone()) {
            continue;
        }
        let policy = &policies[zone];
        let tail = w.rng.chance(100);
        let day = if tail {
            start + Duration::days(40)
        } else {
            start + Duration::days(4 + w.rng.below(4) as i64)
        };
        let mut drop_at = drop_instant(&mut w.rng, &policy.drop_schedule, day);
        if args.epp {
            drop_at = catching::aligned(&policy.drop_schedule, drop_at);
        }
        w.names.push(Name {
            domain,
            drop_at,
            model: policy.model,
            fee: policy.price.amount,
        });
    }
    w
}

fn populate(args: &Args, w: &mut World, host: &mut Host) -> Result<(), backorder::Error> {
    let start = w.start;
    for n in &w.names {
        host.add_pending_deletion(&n.domain, n.drop_at)?;
    }

    // Backorderers per name: at least one; of the rest, most spread evenly and a fifth go to
    // the popular twentieth of the names (contested names draw dozens of backorders). Exclusive
    // names draw at most three: the first to pay holds the name and later customers are refused,
    // so more would only be refusals.
    let extra = (args.backorders - args.names) as u64;
    let popular = (args.names as u64 / 20).max(1);
    let mut wanted: Vec<usize> = vec![1; args.names];
    let mut placed_extra = 0u64;
    let mut tries = 0u64;
    while placed_extra < extra && tries < extra * 20 {
        tries += 1;
        let r = if w.rng.chance(200) {
            w.rng.below(popular)
        } else {
            w.rng.below(args.names as u64)
        } as usize;
        let cap = match w.names[r].model {
            AllocationModel::Exclusive => 3,
            AllocationModel::Auction => args.accounts,
        };
        if wanted[r] < cap {
            wanted[r] += 1;
            placed_extra += 1;
        }
    }

    // Accounts: most funded, some short of funds, some without contact handles.
    for i in 0..args.accounts {
        let id = format!("cust-{i:05}");
        let roll = w.rng.below(100);
        let wallet = if roll < 8 {
            Wallet::Short
        } else if roll < 13 {
            Wallet::NoContacts
        } else {
            Wallet::Funded
        };
        let contacts = if wallet == Wallet::NoContacts {
            Default::default()
        } else {
            backorder::full_contacts(&format!("C{i:05}"))
        };
        host.create_account(NewAccount {
            id: id.clone(),
            currency: backorder::Currency::USD,
            contacts,
        })?;
        w.account_index.insert(id.clone(), i);
        w.accounts.push(id);
        w.wallets.push(wallet);
        if wallet == Wallet::NoContacts && w.rng.chance(500) {
            let t = w.between(start, start + Duration::days(5));
            w.plan(t, Action::CompleteContacts { account: i });
        }
    }

    // Who backorders what, and when.
    let mut spend = vec![Decimal::ZERO; args.accounts];
    for (n, &k) in wanted.iter().enumerate() {
        let mut chosen = BTreeSet::new();
        while chosen.len() < k {
            chosen.insert(w.rng.below(args.accounts as u64) as usize);
        }
        let name_drop = w.names[n].drop_at;
        let fee = w.names[n].fee;
        for account in chosen {
            // Most place early; some late, inside the 72 h deposit window.
            let latest = name_drop - Duration::hours(4);
            let t = if w.rng.chance(150) {
                w.between(name_drop - Duration::hours(60), latest)
            } else {
                w.between(
                    start,
                    (name_drop - Duration::hours(80)).max(start + Duration::hours(1)),
                )
            };
            let t = t.min(latest);
            let lite = w.names[n].model == AllocationModel::Auction && w.rng.chance(50);
            w.plan(
                t,
                Action::Place {
                    account,
                    name: n,
                    lite,
                },
            );
            spend[account] += fee;
            if w.rng.chance(60) {
                let c = w.between(t, name_drop - Duration::hours(5)).max(t);
                w.plan(
                    c + Duration::seconds(1),
                    Action::Cancel { account, name: n },
                );
            }
        }
    }

    // Fund: comfortably, or short (about half of what the backorders need).
    for (i, &need) in spend.iter().enumerate() {
        let amount = match w.wallets[i] {
            Wallet::Short => {
                (need * Decimal::from(30 + w.rng.below(40)) / Decimal::from(100)).floor()
            }
            _ => need * Decimal::from(2) + Decimal::from(100 + w.rng.below(400)),
        };
        if amount > Decimal::ZERO {
            if let Err(Refused(code)) =
                host.fund(&w.accounts[i], amount, &format!("initial-{i}"))?
            {
                return Err(backorder::Error::Internal(format!(
                    "initial funding refused: {}",
                    code.as_str()
                )));
            }
        }
    }
    w.plan.make_contiguous().sort_by_key(|p| (p.0, p.1));
    Ok(())
}

/// Reacts to what the engine reports: bids on invitations, payments of auctions and exclusive
/// orders, top-ups after low-balance notices.
fn react(
    w: &mut World,
    host: &mut Host,
    now: DateTime<Utc>,
    drops: &mut DropFigures,
) -> Result<HashMap<&'static str, u64, foldhash::fast::RandomState>, backorder::Error> {
    // Counted by kind in a hash map: there are millions of events, and the caller merges the
    // few kinds into its ordered totals.
    let mut counts: HashMap<&'static str, u64, foldhash::fast::RandomState> = HashMap::default();
    let mut cursor = 0;
    loop {
        let events = host.events(cursor, 10_000)?;
        let Some(last) = events.last() else { break };
        cursor = last.seq;
        for e in events {
            *counts.entry(e.kind.name()).or_insert(0u64) += 1;
            drops.observe(&e);
            let reacts = matches!(
                e.kind,
                EventKind::AuctionInvitation { .. }
                    | EventKind::AuctionWon { .. }
                    | EventKind::PaymentDue { .. }
                    | EventKind::LowBalance { .. }
            );
            if !reacts {
                continue;
            }
            let Some(account) = e
                .account
                .as_ref()
                .and_then(|a| w.account_index.get(a.as_str()))
                .copied()
            else {
                continue;
            };
            match e.kind {
                EventKind::AuctionInvitation {
                    starts_at,
                    ends_at,
                    opening_price,
                    ..
                } => {
                    let Some(backorder) = e.backorder else {
                        continue;
                    };
                    let bids = w.rng.below(4);
                    let mut max = opening_price;
                    for _ in 0..bids {
                        max += Decimal::from(1 + w.rng.below(120));
                        let t = w.between(starts_at, ends_at);
                        w.at(
                            t,
                            Action::Bid {
                                account,
                                backorder,
                                max,
                            },
                        );
                    }
                }
                EventKind::AuctionWon { pay_by, .. } => {
                    let Some(backorder) = e.backorder else {
                        continue;
                    };
                    if w.rng.chance(850) {
                        let t = w.between(now, pay_by - Duration::minutes(1));
                        w.at(t, Action::PayAuction { account, backorder });
                    }
                }
                EventKind::PaymentDue { due_by, .. } => {
                    let Some(due_by) = due_by else { continue };
                    let Some(domain) = e.domain.as_ref() else {
                        continue;
                    };
                    if w.rng.chance(750) {
                        let name = e
                            .backorder
                            .and_then(|id| w.orders.get((id as usize).wrapping_sub(1)))
                            .map(|(_, n)| *n)
                            .filter(|n| *n != usize::MAX);
                        if let Some(name) = name {
                            let t = w.between(now, (now + Duration::hours(30)).min(due_by));
                            w.at(t, Action::PayExclusive { account, name });
                        } else {
                            eprintln!("payment due for unknown order on {domain}");
                        }
                    }
                }
                EventKind::LowBalance { needed, .. } if w.rng.chance(400) => {
                    let t = now + Duration::hours(1 + w.rng.below(30) as i64);
                    w.at(
                        t,
                        Action::TopUp {
                            account,
                            amount: needed * Decimal::from(2),
                        },
                    );
                }
                _ => {}
            }
        }
    }
    if cursor > 0 {
        host.ack_events(cursor)?;
    }
    Ok(counts)
}

fn perform(
    w: &mut World,
    host: &mut Host,
    action: Action,
    seq: u64,
) -> Result<(), backorder::Error> {
    // Every call carries a key made from the action's planning order, so the one call in doubt
    // after a kill can be made again (see `host`).
    let key = format!("act-{seq}");
    let result = match action {
        Action::Place {
            account,
            name,
            lite,
        } => {
            let req = PlaceBackorder {
                account: w.accounts[account].clone(),
                domain: w.names[name].domain.clone(),
                lite,
                contacts: Default::default(),
                idempotency_key: Some(format!("place-{seq}")),
            };
            host.place(req)?.map(|id| {
                w.placed.insert((account, name), id);
                let slot = (id as usize).saturating_sub(1);
                if w.orders.len() <= slot {
                    w.orders.resize(slot + 1, (usize::MAX, usize::MAX));
                }
                w.orders[slot] = (account, name);
            })
        }
        Action::Cancel { account, name } => match w.placed.get(&(account, name)).copied() {
            Some(id) => host.cancel(&w.accounts[account], id, &key)?,
            None => Ok(()),
        },
        Action::PayExclusive { account, name } => match w.placed.get(&(account, name)).copied() {
            Some(id) => host.pay(&w.accounts[account], id, &key)?,
            None => Ok(()),
        },
        Action::Bid {
            account,
            backorder,
            max,
        } => host.bid(&w.accounts[account], backorder, max, &key)?,
        Action::PayAuction { account, backorder } => {
            host.pay(&w.accounts[account], backorder, &key)?
        }
        Action::TopUp { account, amount } => {
            host.fund(&w.accounts[account], amount, &format!("top-up-{seq}"))?
        }
        Action::CompleteContacts { account } => host.set_contacts(
            &w.accounts[account],
            backorder::full_contacts(&format!("L{account:05}")),
        )?,
    };
    // Customers are refused for ordinary reasons (bid too low, paid too late, name taken):
    // counted, as a registrar's dashboard would.
    if let Err(Refused(code)) = result {
        *w.refused.entry(code.as_str()).or_default() += 1;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(ok) => {
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("drop_day failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The drops worked, caught and sent to auction, counted from the events: names distinct, since
/// every backorder of a name reports the same drop.
#[derive(Default)]
struct DropFigures {
    worked: NameSet,
    caught: NameSet,
    auctioned: NameSet,
    /// Names another registrar registered first.
    taken: NameSet,
}

/// Names, hashed: a million events pass through `observe`.
type NameSet = std::collections::HashSet<backorder::core::DomainName, foldhash::fast::RandomState>;

impl DropFigures {
    fn observe(&mut self, e: &backorder::Event) {
        let (EventKind::StatusChanged { from, to, reason }, Some(domain)) = (&e.kind, &e.domain)
        else {
            return;
        };
        let set = match (from, to, reason) {
            (_, Status::Processing, Reason::DropStarted) => &mut self.worked,
            (Some(Status::Processing), Status::Successful, Reason::Caught) => &mut self.caught,
            (Some(Status::Processing), Status::AuctionPending, Reason::AuctionScheduled) => {
                self.caught.insert(domain.clone());
                &mut self.auctioned
            }
            (Some(Status::Processing), Status::Failed, Reason::Taken) => &mut self.taken,
            _ => return,
        };
        set.insert(domain.clone());
    }
}

/// A temporary directory for the default store, removed when the run ends.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, backorder::Error> {
        let dir = std::env::temp_dir().join(format!("drop_day-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| {
            backorder::Error::Store(format!("cannot create {}: {e}", dir.display()))
        })?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The run's clock: set by hand when drops are decided in-process; flowing in real time from
/// wherever it was last set when they are worked over EPP.
#[derive(Clone)]
enum DayClock {
    Manual(ManualClock),
    Flowing(OffsetClock),
}

impl DayClock {
    /// Moves the clock to `t` (forward only).
    fn set(&self, t: DateTime<Utc>) {
        match self {
            DayClock::Manual(c) => c.set(t),
            DayClock::Flowing(c) => c.jump_to(t),
        }
    }
}

impl Clock for DayClock {
    fn now(&self) -> DateTime<Utc> {
        match self {
            DayClock::Manual(c) => c.now(),
            DayClock::Flowing(c) => c.now(),
        }
    }
}

fn run(args: &Args) -> Result<bool, backorder::Error> {
    let started = Instant::now();
    let start = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    let flowing = OffsetClock::at(start);
    let clock = if args.epp {
        DayClock::Flowing(flowing.clone())
    } else {
        DayClock::Manual(ManualClock::new(start))
    };
    let mut w = new_world(args);
    // A few exclusive names turn premium by registration time.
    let premium: Vec<bool> = w
        .names
        .iter()
        .map(|n| {
            n.model == AllocationModel::Exclusive
                && backorder::core::rng::hash64(args.seed, n.domain.as_bytes()) % 100 == 0
        })
        .collect();
    let catcher_registry = CatcherRegistry::new();
    let registry: Box<dyn backorder::core::Registry> = if args.epp {
        Box::new(catcher_registry.clone())
    } else {
        let mut registry = SimulatedRegistry::new(args.seed);
        for (n, _) in w.names.iter().zip(&premium).filter(|(_, p)| **p) {
            registry.mark_premium(&n.domain);
        }
        Box::new(registry)
    };
    let scratch = match &args.db {
        Some(_) => None,
        None => Some(Scratch::new()?),
    };
    let url = match (&args.db, &scratch) {
        (Some(url), _) => url.clone(),
        (None, Some(s)) => format!("sqlite:{}", s.0.join("drop_day.db").display()),
        (None, None) => unreachable!(),
    };
    // A SQLite database the caller named can be resumed after a kill: keep a journal beside it.
    let db = match url.strip_prefix("sqlite:") {
        Some(path) if args.db.is_some() => Some(std::path::PathBuf::from(
            path.split('?').next().unwrap_or(path),
        )),
        _ => None,
    };
    let db_existed = db.as_ref().is_some_and(|p| p.exists());
    if args.epp && db_existed {
        return Err(backorder::Error::InvalidArgument(format!(
            "{url} exists: a drop day worked over EPP races real timers and cannot be replayed \
             to resume it; resume runs made with --registry inprocess, or give a new path"
        )));
    }
    // The engine first: it takes the file for this process alone, so no other run can be
    // writing the journal.
    let engine = Engine::builder()
        .url(&url)
        .clock(clock.clone())
        .seed(args.seed)
        .registry(registry)
        .build()?;
    let engine = std::sync::Arc::new(engine);
    let mut host = match db.filter(|_| !args.epp) {
        Some(db) => {
            let header = format!(
                "drop_day seed={} names={} accounts={} backorders={}",
                args.seed, args.names, args.accounts, args.backorders
            );
            let journal = Host::journal_path(&db);
            let recorded = Host::open_journal(&journal, &db, db_existed, &header)?;
            Host::journaled(engine, &journal, recorded)?
        }
        None => Host::plain(engine),
    };
    // Run until nothing is due before the tail's drops (every auction and payment deadline of the
    // names that dropped has passed), with the tail's deposit windows open.
    let end = w.start + Duration::days(38);
    let mut epp = None;
    if args.epp {
        // The simulated registries purge a batch in seconds: the zones' batches are a minute
        // long, so the catcher's scheduler expects them that short.
        for mut policy in host.engine.policies() {
            if let backorder::core::DropSchedule::DailyBatch { window_minutes, .. } =
                &mut policy.drop_schedule
            {
                *window_minutes = 1;
                host.engine.set_policy(policy)?;
            }
        }
        let dropping: Vec<Dropping> = w
            .names
            .iter()
            .zip(&premium)
            .filter(|(n, _)| n.drop_at < end)
            .map(|(n, premium)| Dropping {
                domain: &n.domain,
                drop_at: n.drop_at,
                premium: *premium,
            })
            .collect();
        epp = Some(EppDrops::start(
            args.seed,
            &dropping,
            host.engine.clone(),
            &catcher_registry,
            flowing,
        )?);
    }
    populate(args, &mut w, &mut host)?;
    if std::env::var_os("DROP_DAY_PHASES").is_some() {
        eprintln!("phase populate {:?}", started.elapsed());
    }
    let mut events: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut figures = DropFigures::default();
    // The same figures from the tick reports, to check the event count against (a resumed run
    // lacks what the tick it was killed in did).
    let (mut caught, mut auctions, mut drops) = (0u64, 0u64, 0u64);
    let mut tick_errors = Vec::new();
    let (mut iterations, mut steps) = (0u64, 0u64);
    loop {
        iterations += 1;
        let next_action = w.next_time();
        let next_wake = host.next_wake()?;
        let next_window = epp.as_ref().and_then(EppDrops::next_start);
        let next = [next_action, next_wake, next_window]
            .into_iter()
            .flatten()
            .min();
        let Some(next) = next.filter(|t| *t <= end) else {
            break;
        };
        if next > clock.now() {
            clock.set(next);
        }
        if let (Some(epp), Some(window)) = (epp.as_mut(), next_window) {
            if window <= clock.now() {
                // The drops of this instant, worked over EPP on real timers; the engine's next
                // tick hands them over and gets each outcome.
                epp.work_next()?;
                continue;
            }
        }
        // Customers act through the next minute (each at their own time), but never past a
        // wake-up or a drop window: like a host that ticks every minute and whenever work
        // falls due.
        let mut until = clock.now() + Duration::seconds(59);
        for wake in [next_wake, next_window].into_iter().flatten() {
            if wake > clock.now() {
                until = until.min(wake - Duration::nanoseconds(1));
            }
        }
        while let Some((seq, action)) = w.pop_due(until) {
            if w.last_action_at > clock.now() {
                clock.set(w.last_action_at);
            }
            perform(&mut w, &mut host, action, seq)?;
        }
        let now = clock.now();
        let report = host.tick()?;
        caught += report.caught;
        auctions += report.auctions_scheduled;
        drops += report.drops;
        steps += report.steps;
        tick_errors.extend(report.errors);
        for (k, v) in react(&mut w, &mut host, now, &mut figures)? {
            *events.entry(k).or_default() += v;
        }
    }
    if std::env::var_os("DROP_DAY_PHASES").is_some() {
        eprintln!(
            "phase simulate {:?} ({iterations} iterations, {steps} steps)",
            started.elapsed()
        );
    }
    clock.set(end);
    let report = host.tick()?;
    tick_errors.extend(report.errors);
    let engine = &host.engine;
    let counted = (
        figures.worked.len() as u64,
        figures.caught.len() as u64,
        figures.auctioned.len() as u64,
    );
    if !host.resumed() && counted != (drops, caught, auctions) {
        eprintln!(
            "drop figures from events {counted:?} differ from the tick reports' {:?}",
            (drops, caught, auctions)
        );
        return Ok(false);
    }
    let (drops, caught, auctions) = counted;
    let registry_of: HashMap<String, String> = engine
        .policies()
        .into_iter()
        .map(|p| (p.zone, p.registry))
        .collect();
    let mut caught_by_registry: BTreeMap<String, u64> = BTreeMap::new();
    for name in &figures.caught {
        let registry = registry_of
            .get(name.zone())
            .cloned()
            .unwrap_or_else(|| "unknown".into());
        *caught_by_registry.entry(registry).or_default() += 1;
    }
    // The in-process registry answers each drop with one attempt, at once.
    let (attempts, p50, p99) = match &epp {
        Some(epp) => (
            epp.figures.attempts,
            epp.figures.percentile(50),
            epp.figures.percentile(99),
        ),
        None => (drops, None, None),
    };

    let by_status: BTreeMap<String, u64> = engine
        .status_counts()?
        .into_iter()
        .map(|(s, n)| (s.as_str().to_string(), n))
        .collect();
    let backorders: u64 = by_status.values().sum();
    if std::env::var_os("DROP_DAY_PHASES").is_some() {
        eprintln!("phase count {:?}", started.elapsed());
    }
    let audit = engine.audit()?;
    if std::env::var_os("DROP_DAY_PHASES").is_some() {
        eprintln!("phase audit {:?}", started.elapsed());
    }
    let total = |k: &str| audit.journal_totals.get(k).copied().unwrap_or_default();
    let ledger_balanced = audit.is_clean();
    let elapsed_ms = started.elapsed().as_millis() as u64;
    let out = serde_json::json!({
        "seed": args.seed,
        "names": w.names.len(),
        "accounts": w.accounts.len(),
        "backorders": backorders,
        "by_status": by_status,
        "drops": drops,
        "caught": caught,
        "auctions": auctions,
        "registry": if args.epp { "epp" } else { "inprocess" },
        "attempts": attempts,
        "caught_by_registry": caught_by_registry,
        "lost_to_competitors": figures.taken.len(),
        "drop_to_create_us_p50": p50,
        "drop_to_create_us_p99": p99,
        "captured_total": (total("CAPTURE USD") + total("CHARGE USD")).to_string(),
        "released_total": total("RELEASE USD").to_string(),
        "refunded_to_payment_method": total("PAYOUT USD").to_string(),
        "funded_total": total("FUND USD").to_string(),
        "refused": w.refused,
        "events": events,
        "transfers": audit.transfers,
        "tick_errors": tick_errors.len(),
        "ledger_balanced": ledger_balanced,
        "elapsed_ms": elapsed_ms,
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        println!(
            "drop day (seed {}): {} names, {} accounts, {} backorders",
            args.seed,
            w.names.len(),
            w.accounts.len(),
            backorders
        );
        println!("  drops worked {drops}, caught {caught}, auctions {auctions}");
        println!(
            "  registry {}: {attempts} attempts, lost to competitors {}, caught by registry {:?}",
            out["registry"].as_str().unwrap_or(""),
            figures.taken.len(),
            caught_by_registry
        );
        if let (Some(p50), Some(p99)) = (p50, p99) {
            println!("  drop to create: p50 {p50} µs, p99 {p99} µs");
        }
        println!(
            "  captured {} USD, released {} USD, refunded to payment methods {} USD",
            out["captured_total"].as_str().unwrap_or(""),
            out["released_total"].as_str().unwrap_or(""),
            out["refunded_to_payment_method"].as_str().unwrap_or("")
        );
        println!("  final statuses:");
        for (s, n) in &by_status {
            println!("    {s:<16} {n:>8}");
        }
        println!("  customer requests refused: {:?}", w.refused);
        println!(
            "  ledger audit: {}",
            if ledger_balanced {
                "clean".to_string()
            } else {
                format!("{} problems", audit.problems.len())
            }
        );
        println!("  elapsed {elapsed_ms} ms");
    }
    for p in audit.problems.iter().take(20) {
        eprintln!("audit: {p}");
    }
    for e in tick_errors.iter().take(20) {
        eprintln!("tick: {e}");
    }
    if url.starts_with("memory:") {
        // A memory store holds nothing to close, and the process ends here: freeing its
        // millions of records one by one (1.5 GB at full size, about 2 s) only to hand the
        // pages back to the kernel at exit would be wasted work. A durable store is closed.
        std::mem::forget(host);
        std::mem::forget(w);
        std::mem::forget(figures);
    }
    Ok(ledger_balanced && tick_errors.is_empty())
}
