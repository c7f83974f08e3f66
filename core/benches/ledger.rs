//! Ledger throughput on the memory store: a reserve + release pair (the deposit of a backorder
//! placed and then cancelled), directly and inside a transaction.
//!
//! Each iteration is two ledger operations, each with its own idempotency key formatted in the
//! timed loop, so criterion reports operations per second. The store is rebuilt (untimed) every
//! `PAIRS_PER_STORE` pairs so the journal stays a realistic size and memory stays bounded however
//! many iterations criterion asks for.

use std::hint::black_box;
use std::time::{Duration, Instant};

use backorder_core::{ledger, Currency, MemoryStore, Money, Store};
use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rust_decimal_macros::dec;

const NOW: DateTime<Utc> = DateTime::UNIX_EPOCH;
const ACCOUNT: &str = "reseller-42";
/// Pairs run against one store before it is replaced (the journal grows to twice this).
const PAIRS_PER_STORE: u64 = 20_000;

/// A store with one customer funded far beyond what the benchmark reserves at a time.
fn funded_store() -> MemoryStore {
    let mut s = MemoryStore::new();
    ledger::open_customer(&mut s, ACCOUNT, Currency::USD).unwrap();
    let top_up = Money::new(dec!(1_000_000_000), Currency::USD);
    ledger::fund(&mut s, "top-up", ACCOUNT, &top_up, NOW).unwrap();
    s
}

/// Writes `prefix` and `n` in decimal into `buf`, reusing its allocation.
fn key<'a>(buf: &'a mut String, prefix: &str, n: u64) -> &'a str {
    buf.clear();
    buf.push_str(prefix);
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    buf.push_str(std::str::from_utf8(&digits[i..]).unwrap());
    buf
}

/// One reserve + release pair; `n` makes the keys unique within a store.
fn pair(s: &mut MemoryStore, buf: &mut String, deposit: &Money, n: u64) {
    let r = ledger::reserve(s, key(buf, "dep-", n), ACCOUNT, deposit, Some(n), NOW).unwrap();
    let t = ledger::release(s, key(buf, "rel-", n), r.id, NOW).unwrap();
    black_box(t);
}

/// Times `iters` pairs, replacing the store every `PAIRS_PER_STORE` pairs outside the timing.
fn run(iters: u64, in_transaction: bool) -> Duration {
    let deposit = Money::new(dec!(49.00), Currency::USD);
    let mut buf = String::with_capacity(32);
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let chunk = PAIRS_PER_STORE.min(iters - done);
        let mut s = funded_store();
        let start = Instant::now();
        for n in 0..chunk {
            if in_transaction {
                s.begin().unwrap();
                pair(&mut s, &mut buf, &deposit, n);
                s.commit().unwrap();
            } else {
                pair(&mut s, &mut buf, &deposit, n);
            }
        }
        total += start.elapsed();
        done += chunk;
        // The store is dropped here, outside the timing too.
    }
    total
}

fn bench_ledger(c: &mut Criterion) {
    let mut g = c.benchmark_group("ledger");
    g.throughput(Throughput::Elements(2));
    g.bench_function("reserve+release", |b| {
        b.iter_custom(|iters| run(iters, false))
    });
    g.bench_function("reserve+release in begin/commit", |b| {
        b.iter_custom(|iters| run(iters, true))
    });
    g.finish();
}

criterion_group!(benches, bench_ledger);
criterion_main!(benches);
