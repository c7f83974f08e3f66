//! How late a create leaves at its instant: from a scheduled instant to the `domain:create` frame
//! written (encrypted, handed to the kernel) on a TLS session to the registry simulator on
//! loopback. ROUNDS rounds per way, each instant a random 5-25 ms ahead; the frame is prepared
//! before the instant. Two ways in the same process: the catcher's (`Session::write_prepared_at`:
//! sleep until 0.5 ms before, write all but the frame's last byte, spin, write the last byte) and
//! tokio's timer alone (`sleep_until`, then write), alternated in blocks so machine noise falls
//! on both. Run twice: against a simulator that sleeps between frames (on loopback the kernel
//! wakes it inside the client's write) and one that polls (as a registry on its own host, whose
//! wake-up the client never pays). Prints percentiles in microseconds, for the catcher's way
//! twice: to the write call's return, and to the kernel's transmit timestamp of the frame's last
//! byte (`Session::last_departure`: the segment handed to the loopback device, before the
//! kernel delivers it and wakes the simulator inside the same call).
//! Run it with nothing else busy on the machine: other processes move the tail by milliseconds.
//!
//! ```text
//! cargo run --release --example drop_latency [-- ROUNDS]
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use backorder::core::epp::command::{Command, Create, Login};
use backorder::core::rng::SplitMix64;
use backorder::epp::{Session, SessionConfig};
use backorder::simulator::{Registry, RegistryConfig, ServerOptions, Simulator};
use backorder::{Clock, SystemClock};
use rust_decimal::Decimal;

fn percentiles(label: &str, mut us: Vec<f64>) {
    us.sort_by(f64::total_cmp);
    let at = |p: f64| us[((us.len() - 1) as f64 * p).round() as usize];
    println!(
        "{label}: p50 {:.1} us, p90 {:.1} us, p99 {:.1} us, max {:.1} us ({} instants)",
        at(0.50),
        at(0.90),
        at(0.99),
        at(1.0),
        us.len()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(2000);
    for polling in [false, true] {
        if polling {
            println!(
                "registry simulator polling (its own thread never sleeps, as a registry on its \
                 own host costs the client no wake-up):"
            );
        } else {
            println!(
                "registry simulator sleeping between frames (on loopback, waking it is part of \
                 the client's write):"
            );
        }
        measure(rounds, polling).await?;
    }
    Ok(())
}

async fn measure(rounds: usize, polling: bool) -> Result<(), Box<dyn std::error::Error>> {
    let mut config = RegistryConfig::new(1);
    config.add_registrar("catcher1", "s3cret-pass", Decimal::from(1_000_000_000));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let options = ServerOptions {
        polling,
        ..ServerOptions::default()
    };
    let sim = Simulator::start(Registry::new(config), clock, options).await?;
    let mut session = Session::connect(&SessionConfig::tls(
        &sim.addr.to_string(),
        "localhost",
        vec![sim.certificate.clone().ok_or("a TLS simulator")?],
        Login::new("catcher1", "s3cret-pass"),
    ))
    .await?;
    let mut rng = SplitMix64::new(7);
    let (mut spun, mut left, mut slept) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds * 2 {
        let name = format!("n{round}.com");
        let prepared = session.prepare(Command::Create(Create::new(&name, "Auth-1xyz")));
        let at = Instant::now() + Duration::from_micros(5_000 + rng.below(20_000));
        // Blocks of 50 a way, alternated.
        let late = if (round / 50) % 2 == 0 {
            let late = session.write_prepared_at(&prepared, at).await?;
            spun.push(late.as_secs_f64() * 1e6);
            if let Some(departure) = session.last_departure() {
                left.push(departure.as_secs_f64() * 1e6);
            }
            late
        } else {
            tokio::time::sleep_until(at.into()).await;
            session.write_prepared(&prepared).await?;
            let late = Instant::now().saturating_duration_since(at);
            slept.push(late.as_secs_f64() * 1e6);
            late
        };
        let answer = session.read_response(&prepared).await?;
        assert!(answer.succeeded(), "{late:?} {answer:?}");
    }
    percentiles(
        "  sleep, write all but the last byte, spin (the catcher's): to the write's return",
        spun,
    );
    if left.is_empty() {
        println!("  (no transmit timestamps from this system's kernel)");
    } else {
        percentiles(
            "  the same writes: to the kernel's transmit timestamp of the last byte",
            left,
        );
    }
    percentiles("  tokio sleep_until alone (baseline)", slept);
    Ok(())
}
