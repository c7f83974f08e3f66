//! Crash safety of the durable stores: a writer process is killed with SIGKILL at random points of
//! a workload, 24 times on SQLite and 24 times on PostgreSQL. After each kill the database is
//! opened again and
//!
//! - every operation the writer acknowledged (printed `ACK i` after the engine returned) is there;
//! - the operations it may have had in flight are retried with their idempotency keys, and each
//!   takes effect exactly once (balances and backorder counts equal the sum of the operations);
//! - `audit()` is clean.
//!
//! The writer is this test binary run again with `BACKORDER_CRASH_WRITER` set (see `writer`).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration as StdDuration;

use backorder::core::rng::SplitMix64;
use backorder::{full_contacts, Currency, Engine, ErrorCode, NewAccount, PlaceBackorder};
use rust_decimal::Decimal;

const ACCOUNT: &str = "ann";

/// Operation `i` of the workload: a funding or a placement, each under its own key.
fn apply(engine: &Engine, i: u64) -> backorder::Result<()> {
    if i % 3 == 2 {
        let b = engine.place_backorder(PlaceBackorder {
            account: ACCOUNT.into(),
            domain: format!("crash{i}.com"),
            idempotency_key: Some(format!("place-{i}")),
            ..Default::default()
        })?;
        assert_eq!(b.domain.as_str(), format!("crash{i}.com"));
    } else {
        engine.fund(ACCOUNT, amount(i), &format!("fund-{i}"))?;
    }
    Ok(())
}

fn amount(i: u64) -> Decimal {
    Decimal::new(100 + (i % 7) as i64 * 25, 2)
}

fn open(url: &str) -> Engine {
    let engine = Engine::builder().url(url).seed(7).build().unwrap();
    match engine.create_account(NewAccount {
        id: ACCOUNT.into(),
        currency: Currency::USD,
        contacts: full_contacts("ANN-1"),
    }) {
        Ok(_) => {}
        Err(e) if e.code() == ErrorCode::AccountExists => {}
        Err(e) => panic!("{e}"),
    }
    engine
}

/// The writer: applies operations from `BACKORDER_CRASH_FROM` on, acknowledging each, until killed.
#[test]
fn writer() {
    let Ok(url) = std::env::var("BACKORDER_CRASH_WRITER") else {
        return; // only run as the child of `killed_writers_lose_nothing_acknowledged`
    };
    let from: u64 = std::env::var("BACKORDER_CRASH_FROM")
        .unwrap()
        .parse()
        .unwrap();
    let engine = open(&url);
    println!("READY");
    for i in from.. {
        apply(&engine, i).unwrap();
        println!("ACK {i}");
    }
}

#[test]
fn killed_sqlite_writers_lose_nothing_acknowledged() {
    if std::env::var_os("BACKORDER_CRASH_WRITER").is_some() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("backorder-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    kill_writers(&format!("sqlite:{}", dir.join("crash.db").display()), 2026);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn killed_postgres_writers_lose_nothing_acknowledged() {
    if std::env::var_os("BACKORDER_CRASH_WRITER").is_some() {
        return;
    }
    if let Some(url) = common::fresh_postgres("crash") {
        kill_writers(&url, 2027);
    }
}

fn kill_writers(url: &str, seed: u64) {
    let mut rng = SplitMix64::new(seed);
    // Operations 0..next are applied exactly once when a round's checks end.
    let mut next = 0u64;
    for round in 0..24 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "writer", "--nocapture", "--test-threads", "1"])
            .env("BACKORDER_CRASH_WRITER", url)
            .env("BACKORDER_CRASH_FROM", next.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let kill_after = 1 + rng.below(60);
        let mut acked = None;
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(i) = line.strip_prefix("ACK ") {
                acked = Some(i.parse::<u64>().unwrap());
                if acked.unwrap() + 1 - next >= kill_after {
                    break;
                }
            }
        }
        // Let the writer run on for a moment, so the kill lands anywhere, a commit included.
        std::thread::sleep(StdDuration::from_micros(rng.below(3_000)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Acknowledgements printed before the kill.
        for line in lines.map_while(Result::ok) {
            if let Some(i) = line.strip_prefix("ACK ") {
                acked = Some(i.parse::<u64>().unwrap());
            }
        }
        let acked = acked.expect("the writer acknowledged something");

        let engine = open(url);
        // Every acknowledged operation is there: repeating it changes nothing.
        let before = engine.balance(ACCOUNT).unwrap();
        let placed_before = engine.backorders(ACCOUNT).unwrap().len();
        // What was in flight (at most a few past the last acknowledgement) is retried by key.
        let upto = acked + 4;
        for i in next..=upto {
            apply(&engine, i).unwrap();
        }
        // Once more: every one was applied exactly once.
        for i in next..=upto {
            apply(&engine, i).unwrap();
        }
        let funded: Decimal = (0..=upto).filter(|i| i % 3 != 2).map(amount).sum();
        let placed = (0..=upto).filter(|i| i % 3 == 2).count();
        let balance = engine.balance(ACCOUNT).unwrap();
        assert_eq!(balance.balance, funded, "round {round}");
        assert_eq!(
            engine.backorders(ACCOUNT).unwrap().len(),
            placed,
            "round {round}"
        );
        let acked_funded: Decimal = (0..=acked).filter(|i| i % 3 != 2).map(amount).sum();
        assert!(
            before.balance >= acked_funded,
            "round {round}: acknowledged fundings lost ({} < {acked_funded})",
            before.balance
        );
        assert!(placed_before >= (0..=acked).filter(|i| i % 3 == 2).count());
        let audit = engine.audit().unwrap();
        assert!(audit.is_clean(), "round {round}: {audit:?}");
        next = upto + 1;
    }
    assert!(next > 24 * 5, "the writers did work: {next} operations");
}
