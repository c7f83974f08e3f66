//! Placing backorders from Rust directly: the baseline for the bindings' per-call overhead
//! (`benches/c/place_overhead.c` does the same placements through the C ABI; scripts/bench-bindings
//! runs both). ROUNDS rounds, each on a fresh in-memory engine with ACCOUNTS funded customers,
//! placing CALLS backorders (customer i % ACCOUNTS, name i); prints the median nanoseconds per
//! placement. Two more figures encode each placed backorder as JSON as well, which is what the C
//! ABI hands back: once through serde_json, once through `backorder::json` (the same text, which
//! the C ABI writes), so that the record's encoding can be told apart from the call.
//!
//! ```text
//! cargo run --release --example place_overhead
//! ```

use std::time::Instant;

use backorder::{full_contacts, Currency, Engine, ManualClock, NewAccount, PlaceBackorder};
use chrono::DateTime;
use rust_decimal::Decimal;

const ROUNDS: usize = 7;
const ACCOUNTS: usize = 1000;
const CALLS: usize = 100_000;

/// How each placed backorder is encoded after the call.
#[derive(Clone, Copy)]
enum Encoding {
    None,
    Serde,
    Written,
}

fn round_ns_per_call(encoding: Encoding) -> Result<f64, backorder::Error> {
    let start = DateTime::from_timestamp_millis(1_772_409_600_000).expect("a valid time");
    let engine = Engine::builder()
        .clock(ManualClock::new(start))
        .seed(0)
        .build()?;
    for i in 0..ACCOUNTS {
        let id = format!("c{i:04}");
        engine.create_account(NewAccount {
            id: id.clone(),
            currency: Currency::USD,
            contacts: full_contacts("H-1"),
        })?;
        engine.fund(&id, Decimal::from(1000), "top-up")?;
    }
    let started = Instant::now();
    for i in 0..CALLS {
        let placed = engine.place_backorder(PlaceBackorder {
            account: format!("c{:04}", i % ACCOUNTS),
            domain: format!("name{i}.com"),
            ..Default::default()
        })?;
        match encoding {
            Encoding::None => {
                std::hint::black_box(placed);
            }
            Encoding::Serde => {
                std::hint::black_box(serde_json::to_vec(&placed).expect("a backorder encodes"));
            }
            Encoding::Written => {
                let mut json = Vec::with_capacity(1536);
                backorder::json::write_backorder(&mut json, &placed);
                std::hint::black_box(json);
            }
        }
    }
    Ok(started.elapsed().as_nanos() as f64 / CALLS as f64)
}

fn main() -> Result<(), backorder::Error> {
    for (label, encoding) in [
        ("Rust direct", Encoding::None),
        ("Rust direct + JSON result (serde_json)", Encoding::Serde),
        (
            "Rust direct + JSON result (backorder::json)",
            Encoding::Written,
        ),
    ] {
        let mut rounds = (0..ROUNDS)
            .map(|_| round_ns_per_call(encoding))
            .collect::<Result<Vec<f64>, _>>()?;
        rounds.sort_by(f64::total_cmp);
        println!(
            "{label}: place_backorder {:.0} ns per call (median of {ROUNDS} rounds of {CALLS}; {:.0}-{:.0})",
            rounds[ROUNDS / 2],
            rounds[0],
            rounds[ROUNDS - 1]
        );
    }
    Ok(())
}
