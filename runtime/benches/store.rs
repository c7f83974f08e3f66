//! Ledger operations per second on each store: one operation per transaction ("single", what a
//! host's one-call-per-command traffic costs) and a thousand per transaction ("batched", what an
//! import or a tick over many due items costs).
//!
//! An operation is a deposit reserved or released (alternately), with its own idempotency key —
//! the ledger's journal row, two ledger-account updates and the reservation, as in production.
//! The memory store runs the same loop in the same process as the baseline; on PostgreSQL the
//! single operations also run on 1, 2, 4, 8 and 16 connections at once. PostgreSQL is
//! measured when `BACKORDER_BENCH_POSTGRES` names a server (`eval "$(scripts/postgres start)"`
//! then `BACKORDER_BENCH_POSTGRES=$BACKORDER_TEST_POSTGRES`); the bench creates its own databases.
//!
//! ```text
//! cargo bench -p backorder --bench store
//! ```

use std::time::{Duration, Instant};

use backorder::store::{MemoryStore, PostgresStore, SqliteStore, Store};
use backorder_core::{ledger, Currency, Money};
use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rust_decimal_macros::dec;

const NOW: DateTime<Utc> = DateTime::UNIX_EPOCH;
const ACCOUNT: &str = "reseller-42";
const BATCH: u64 = 1_000;

/// A store with one customer funded far beyond what the benchmark reserves at a time.
fn fund(s: &mut dyn Store) {
    s.begin().unwrap();
    ledger::open_customer(s, ACCOUNT, Currency::USD).unwrap();
    let top_up = Money::new(dec!(1_000_000_000), Currency::USD);
    ledger::fund(s, "top-up", ACCOUNT, &top_up, NOW).unwrap();
    s.commit().unwrap();
}

/// The operations of one store: reserve, release, reserve, … with fresh keys.
struct Workload {
    store: Box<dyn Store>,
    n: u64,
    open: Option<u64>,
    deposit: Money,
}

impl Workload {
    fn new(mut store: Box<dyn Store>) -> Workload {
        fund(store.as_mut());
        Workload {
            store,
            n: 0,
            open: None,
            deposit: Money::new(dec!(49.00), Currency::USD),
        }
    }

    fn op(&mut self) {
        self.n += 1;
        let s = self.store.as_mut();
        match self.open.take() {
            None => {
                let key = format!("dep-{}", self.n);
                let r =
                    ledger::reserve(s, &key, ACCOUNT, &self.deposit, Some(self.n), NOW).unwrap();
                self.open = Some(r.id);
            }
            Some(id) => {
                let key = format!("rel-{}", self.n);
                ledger::release(s, &key, id, NOW).unwrap();
            }
        }
    }

    /// `iters` operations, each in its own transaction.
    fn single(&mut self, iters: u64) -> Duration {
        let start = Instant::now();
        for _ in 0..iters {
            self.store.begin().unwrap();
            self.op();
            self.store.commit().unwrap();
        }
        start.elapsed()
    }

    /// `iters` operations, `BATCH` to a transaction.
    fn batched(&mut self, iters: u64) -> Duration {
        let start = Instant::now();
        let mut done = 0;
        while done < iters {
            let chunk = BATCH.min(iters - done);
            self.store.begin().unwrap();
            for _ in 0..chunk {
                self.op();
            }
            self.store.commit().unwrap();
            done += chunk;
        }
        start.elapsed()
    }
}

fn stores(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("backorder-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = |name: &str| -> Box<dyn Store> {
        let mut store = SqliteStore::open(&dir.join(name), Default::default()).unwrap();
        store.defer_key_checks(); // as the engine runs it
        Box::new(store)
    };
    let mut g = c.benchmark_group("ledger_ops");
    g.throughput(Throughput::Elements(1));
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(4));
    let mut memory = Workload::new(Box::new(MemoryStore::new()));
    g.bench_function("memory/single", |b| b.iter_custom(|n| memory.single(n)));
    let mut single = Workload::new(sqlite("single.db"));
    g.bench_function("sqlite/single", |b| b.iter_custom(|n| single.single(n)));
    let mut batched = Workload::new(sqlite("batched.db"));
    g.bench_function("sqlite/batched", |b| b.iter_custom(|n| batched.batched(n)));
    if let Ok(server) = std::env::var("BACKORDER_BENCH_POSTGRES") {
        let mut pg_single = Workload::new(postgres(&server, "single"));
        g.bench_function("postgres/single", |b| {
            b.iter_custom(|n| pg_single.single(n))
        });
        let mut pg_batched = Workload::new(postgres(&server, "batched"));
        g.bench_function("postgres/batched", |b| {
            b.iter_custom(|n| pg_batched.batched(n))
        });
    }
    g.finish();
    if let Ok(server) = std::env::var("BACKORDER_BENCH_POSTGRES") {
        concurrent_postgres(c, &server);
    }
    drop((single, batched));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Several connections on one PostgreSQL database, each its own customer, single operations
/// at once: what a registrar running several application servers gets. A transaction that
/// conflicts with another is run again, as the engine does; the conflicts are counted.
fn concurrent_postgres(c: &mut Criterion, server: &str) {
    let mut g = c.benchmark_group("ledger_ops_concurrent");
    g.throughput(Throughput::Elements(1));
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(4));
    g.sample_size(10);
    let url = database(server, "concurrent");
    for connections in [1usize, 2, 4, 8, 16] {
        let mut workers: Vec<Concurrent> = (0..connections)
            .map(|i| Concurrent::new(&url, &format!("reseller-c{connections}-{i}")))
            .collect();
        let conflicts = std::sync::atomic::AtomicU64::new(0);
        g.bench_function(format!("postgres/single/{connections}-connections"), |b| {
            b.iter_custom(|iters| {
                let each = iters.div_ceil(connections as u64);
                let start = Instant::now();
                std::thread::scope(|scope| {
                    for w in workers.iter_mut() {
                        let conflicts = &conflicts;
                        scope.spawn(move || w.run(each, conflicts));
                    }
                });
                // Time per operation as if `iters` were done: the threads did `each` apiece.
                start
                    .elapsed()
                    .mul_f64(iters as f64 / (each * connections as u64) as f64)
            })
        });
        let done: u64 = workers.iter().map(|w| w.done).sum();
        eprintln!(
            "postgres/single/{connections}-connections: {} conflicts in {done} operations",
            conflicts.load(std::sync::atomic::Ordering::Relaxed)
        );
    }
    g.finish();
}

/// One connection's share of [`concurrent_postgres`].
struct Concurrent {
    store: Box<dyn Store>,
    account: String,
    done: u64,
    open: Option<u64>,
}

impl Concurrent {
    fn new(url: &str, account: &str) -> Concurrent {
        let mut store = PostgresStore::connect(url).unwrap();
        store.defer_key_checks();
        let mut store: Box<dyn Store> = Box::new(store);
        run_again_on_conflict(store.as_mut(), &mut |s| {
            ledger::open_customer(s, account, Currency::USD)?;
            let top_up = Money::new(dec!(1_000_000_000), Currency::USD);
            ledger::fund(s, &format!("top-up-{account}"), account, &top_up, NOW).map(|_| ())
        });
        Concurrent {
            store,
            account: account.into(),
            done: 0,
            open: None,
        }
    }

    fn run(&mut self, ops: u64, conflicts: &std::sync::atomic::AtomicU64) {
        let deposit = Money::new(dec!(49.00), Currency::USD);
        for _ in 0..ops {
            self.done += 1;
            let (n, account, open) = (self.done, self.account.clone(), self.open);
            let mut next = None;
            let tries = run_again_on_conflict(self.store.as_mut(), &mut |s| {
                next = match open {
                    None => {
                        let key = format!("dep-{account}-{n}");
                        Some(ledger::reserve(s, &key, &account, &deposit, Some(n), NOW)?.id)
                    }
                    Some(id) => {
                        ledger::release(s, &format!("rel-{account}-{n}"), id, NOW)?;
                        None
                    }
                };
                Ok(())
            });
            self.open = next;
            conflicts.fetch_add(tries - 1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// Runs `f` in a transaction until it commits; returns how many runs that took.
fn run_again_on_conflict(
    s: &mut dyn Store,
    f: &mut dyn FnMut(&mut dyn Store) -> backorder_core::Result<()>,
) -> u64 {
    for attempt in 1.. {
        s.begin().unwrap();
        let outcome = f(s).and_then(|()| s.commit());
        match outcome {
            Ok(()) => return attempt,
            Err(backorder_core::Error::StoreConflict(_)) => {
                let _ = s.rollback();
            }
            Err(e) => panic!("{e}"),
        }
    }
    unreachable!()
}

/// A new, empty database on the server `server` names; its URL.
fn database(server: &str, tag: &str) -> String {
    let name = format!("bo_bench_{tag}_{}", std::process::id());
    let mut admin = ::postgres::Client::connect(server, ::postgres::NoTls).unwrap();
    // Two calls: a multi-statement string would run as one transaction, which these refuse.
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let (base, _) = server.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

/// A store on a new database of the server `server` names.
fn postgres(server: &str, tag: &str) -> Box<dyn Store> {
    let mut store = PostgresStore::connect(&database(server, tag)).unwrap();
    // As the engine runs it (no key is ever repeated here, so no transaction runs twice).
    store.defer_key_checks();
    Box::new(store)
}

criterion_group!(benches, stores);
criterion_main!(benches);
