//! Deterministic simulation with faults: one seed drives a whole system (see `world.rs`), an
//! auditor checks every invariant after every step, and a failing seed prints itself and
//! replays exactly.
//!
//! ```text
//! cargo run --release --example simulate                       # seeds 0..500, memory and SQLite
//! cargo run --release --example simulate -- --seed 17          # one seed, with its report
//! cargo run --release --example simulate -- --seeds 5000 --steps 400
//! ```

mod store_faults;
mod world;

use std::time::Instant;

use world::{run, Config, StoreKind};

fn main() {
    let mut seed: Option<u64> = None;
    let mut seeds = 500u64;
    let mut steps = 200usize;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--seed" => seed = Some(value().parse().expect("--seed N")),
            "--seeds" => seeds = value().parse().expect("--seeds N"),
            "--steps" => steps = value().parse().expect("--steps N"),
            "--help" | "-h" => {
                println!("simulate [--seed N | --seeds N] [--steps N]");
                return;
            }
            other => panic!("unknown flag {other}; try --help"),
        }
    }
    let dir = std::env::temp_dir().join(format!("backorder-simulate-{}", std::process::id()));
    // Every fifth seed runs on SQLite, crashing and reopening; the rest in memory.
    let store = |s: u64| {
        if s % 5 == 4 {
            StoreKind::Sqlite(dir.clone())
        } else {
            StoreKind::Memory
        }
    };
    let started = Instant::now();
    let list: Vec<u64> = match seed {
        Some(s) => vec![s],
        None => (0..seeds).collect(),
    };
    let mut total = world::Report::default();
    for s in &list {
        match run(&Config {
            seed: *s,
            steps,
            store: store(*s),
        }) {
            Ok(r) => {
                if seed.is_some() {
                    println!("{r:#?}");
                }
                total.absorb(&r);
            }
            Err(failure) => {
                eprintln!("{failure}");
                let _ = std::fs::remove_dir_all(&dir);
                std::process::exit(1);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "{} seeds in {:.1} s: {} steps, {} commands ({} refused, {} retried), {} crashes, {} power cuts in transactions ({} after a durable commit), {} store I/O errors, {} registry faults, {} late outcomes, {} clock jumps, {} clock steps back, {} deletions moved, {} drops ({} caught), {} invariant checks: all held",
        list.len(),
        started.elapsed().as_secs_f64(),
        total.steps,
        total.commands,
        total.refused,
        total.retries,
        total.crashes,
        total.power_cuts,
        total.cuts_after_commit,
        total.store_faults,
        total.registry_faults,
        total.late_outcomes,
        total.clock_jumps,
        total.clock_steps_back,
        total.moved_deletions,
        total.drops,
        total.caught,
        total.checks
    );
}
