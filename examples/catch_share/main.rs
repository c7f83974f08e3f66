//! Catch share against competitors: a batch of NAMES names (default 10,000) purged in a seeded
//! random order over a minute by the registry simulator, over TLS on loopback and on real timers,
//! with 3 competing registrars allowed the same commands per second as the catcher (each spreads
//! its creates over every name of the batch). The catcher works the batch twice, on fresh
//! registries: checking ten names a command and creating what it finds free (its approach for
//! a batch), then creating blind like the competitors. Prints, for each, the names caught, lost
//! to competitors and the share, the commands sent, and how long after a name's purge the
//! registry created it for the catcher (p50, p99). Takes about two minutes a way.
//!
//! ```text
//! cargo run --release --example catch_share [-- NAMES RATE]
//! ```
//! RATE is each registrar's commands per second (default 200; the catcher's split over 2
//! sessions).

use std::collections::HashMap;
use std::sync::Arc;

use backorder::catcher::{Catcher, CatcherRegistry, RegistryLink};
use backorder::core::epp::command::Login;
use backorder::core::policy::DropSchedule;
use backorder::core::schedule::{Approach, DropProfile};
use backorder::epp::SessionConfig;
use backorder::simulator::{Competitor, Registry, RegistryConfig, ServerOptions, Simulator};
use backorder::{full_contacts, Clock, Currency, Engine, NewAccount, OffsetClock, PlaceBackorder};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;

const COMPETITORS: usize = 3;
const SESSIONS: u32 = 2;

async fn one_way(
    names: &[String],
    rate: u32,
    approach: Approach,
    batch: DateTime<Utc>,
) -> Result<(), Box<dyn std::error::Error>> {
    let clock = OffsetClock::at(batch - Duration::days(4));
    let registry = CatcherRegistry::new();
    let engine = Arc::new(
        Engine::builder()
            .clock(clock.clone())
            .seed(1)
            .registry(Box::new(registry.clone()))
            .build()?,
    );
    let mut com = engine
        .policies()
        .into_iter()
        .find(|p| p.zone == "com")
        .ok_or("a .com policy")?;
    com.drop_schedule = DropSchedule::DailyBatch {
        start_minute_utc: 19 * 60,
        window_minutes: 1,
    };
    engine.set_policy(com)?;
    engine.create_account(NewAccount {
        id: "reseller".into(),
        currency: Currency::USD,
        contacts: full_contacts("H-1"),
    })?;
    engine.fund(
        "reseller",
        Decimal::from(100 * names.len() as i64),
        "top-up",
    )?;
    for name in names {
        engine.add_pending_deletion(name, batch)?;
        engine.place_backorder(PlaceBackorder {
            account: "reseller".into(),
            domain: name.clone(),
            ..Default::default()
        })?;
    }
    clock.jump_to(batch - Duration::hours(71));
    engine.tick()?;

    let mut config = RegistryConfig::new(3);
    config.add_registrar("catcher1", "s3cret-pass", Decimal::from(10_000_000));
    config.commands_per_second = Some(rate / SESSIONS);
    config.competitors = (0..COMPETITORS)
        .map(|i| Competitor {
            id: format!("rival{i}"),
            // The same commands a second as the catcher, spread over every name.
            attempts_per_second: f64::from(rate) / names.len() as f64,
            latency: Duration::microseconds(100),
        })
        .collect();
    let mut sim_registry = Registry::new(config);
    let purges: HashMap<String, DateTime<Utc>> = sim_registry
        .schedule_batch(names, batch, Duration::seconds(60))
        .into_iter()
        .collect();
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let sim = Simulator::start(sim_registry, shared.clone(), ServerOptions::default()).await?;
    let mut profile = DropProfile::new(
        DropSchedule::ExactInstant,
        SESSIONS,
        rate / SESSIONS,
        approach,
    );
    profile.lead = Duration::seconds(1);
    profile.window = Duration::seconds(120);
    let link = RegistryLink {
        registry: "verisign".into(),
        session: SessionConfig::tls(
            &sim.addr.to_string(),
            "localhost",
            vec![sim.certificate.clone().ok_or("a TLS simulator")?],
            Login::new("catcher1", "s3cret-pass"),
        ),
        profile,
        period_years: 1,
    };
    let catcher = Catcher::new(engine.clone(), shared, &registry, vec![link]);
    clock.jump_to(batch - Duration::seconds(2));
    let started = std::time::Instant::now();
    let report = catcher
        .work(batch - Duration::hours(1), batch + Duration::hours(1))
        .await?;
    let caught = report.caught_by_registry.values().sum::<u64>();
    let mut late: Vec<i64> = report
        .created_at
        .iter()
        .filter_map(|(n, at)| {
            Some(
                (*at - *purges.get(n)?)
                    .num_microseconds()
                    .unwrap_or(i64::MAX),
            )
        })
        .collect();
    late.sort_unstable();
    let pct = |p: f64| {
        late.get(((late.len().max(1) - 1) as f64 * p) as usize)
            .copied()
            .unwrap_or(0)
    };
    println!(
        "{approach:?}: {} names, caught {caught} ({:.1} %), lost to {COMPETITORS} competitors {}, \
         not dropped {}, refused {}; {} commands; drop to create p50 {} us, p99 {} us; {:.0} s",
        report.names,
        100.0 * caught as f64 / report.names.max(1) as f64,
        report.lost_to_competitors,
        report.not_dropped,
        report.refused,
        report.attempts,
        pct(0.5),
        pct(0.99),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(10_000);
    let rate: u32 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(200);
    let names: Vec<String> = (0..count).map(|i| format!("batch{i:05}.com")).collect();
    let batch = Utc
        .with_ymd_and_hms(2026, 3, 9, 19, 0, 0)
        .single()
        .ok_or("a time")?;
    one_way(
        &names,
        rate,
        Approach::CheckThenCreate {
            names_per_check: 10,
        },
        batch,
    )
    .await?;
    one_way(&names, rate, Approach::BlindCreate, batch).await?;
    Ok(())
}
