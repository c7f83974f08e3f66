//! The deterministic simulation (`examples/simulate`) under `cargo test`: a few dozen seeds here
//! in a debug build, and the same seed twice to the same report; `scripts/test` runs 500 seeds of
//! the release build.

#[path = "../../examples/simulate/store_faults.rs"]
mod store_faults;

#[path = "../../examples/simulate/world.rs"]
#[allow(dead_code)]
mod world;

use world::{run, Config, StoreKind};

fn store(seed: u64, dir: &std::path::Path) -> StoreKind {
    if seed % 5 == 4 {
        StoreKind::Sqlite(dir.to_path_buf())
    } else {
        StoreKind::Memory
    }
}

#[test]
fn every_invariant_holds_under_faults_for_each_seed() {
    let dir = std::env::temp_dir().join(format!("backorder-simulate-test-{}", std::process::id()));
    let mut total = world::Report::default();
    for seed in 1000..1030 {
        let config = Config {
            seed,
            steps: 120,
            store: store(seed, &dir),
        };
        match run(&config) {
            Ok(r) => total.absorb(&r),
            Err(failure) => panic!("{failure}"),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    // The faults were really injected, not merely possible.
    assert!(
        total.crashes > 0,
        "SQLite seeds crash and reopen: {total:?}"
    );
    assert!(
        total.power_cuts > 0,
        "power cuts inside transactions: {total:?}"
    );
    assert!(total.store_faults > 0, "store I/O errors: {total:?}");
    assert!(total.clock_steps_back > 0, "clock steps back: {total:?}");
    assert!(total.registry_faults > 0, "registry faults: {total:?}");
}

#[test]
fn a_seed_replays_exactly() {
    let dir =
        std::env::temp_dir().join(format!("backorder-simulate-replay-{}", std::process::id()));
    for seed in [4, 7] {
        let config = Config {
            seed,
            steps: 150,
            store: store(seed, &dir),
        };
        let first = run(&config).unwrap_or_else(|f| panic!("{f}"));
        let again = run(&config).unwrap_or_else(|f| panic!("{f}"));
        assert_eq!(first, again);
        assert!(first.commands > 0 && first.drops > 0, "{first:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
