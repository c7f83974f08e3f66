//! Ledger operations per second on each store: one operation per transaction ("single", what a
//! host's one-call-per-command traffic costs) and a thousand per transaction ("batched", what an
//! import or a tick over many due items costs).
//!
//! An operation is a deposit reserved or released (alternately), with its own idempotency key —
//! the ledger's journal row, two ledger-account updates and the reservation, as in production.
//! The memory store runs the same loop in the same process as the baseline. PostgreSQL is
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
    drop((single, batched));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A store on a new database of the server `server` names.
fn postgres(server: &str, tag: &str) -> Box<dyn Store> {
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
    let mut store = PostgresStore::connect(&format!("{base}/{name}")).unwrap();
    // As the engine runs it (no key is ever repeated here, so no transaction runs twice).
    store.defer_key_checks();
    Box::new(store)
}

criterion_group!(benches, stores);
criterion_main!(benches);
