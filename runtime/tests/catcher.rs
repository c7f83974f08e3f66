//! The life cycle through real EPP: the engine's backorders, the catcher working a drop batch
//! at the registry simulator over TLS on loopback, on real timers, against competitors; the
//! outcomes recorded in the engine whichever comes first, the catcher's answer or the engine's
//! tick.

use std::collections::HashMap;
use std::sync::Arc;

use backorder::catcher::{Catcher, CatcherRegistry, RegistryLink};
use backorder::core::epp::command::Login;
use backorder::core::policy::DropSchedule;
use backorder::core::schedule::{Approach, DropProfile};
use backorder::epp::SessionConfig;
use backorder::simulator::{
    Competitor, Registry as SimRegistry, RegistryConfig, ServerOptions, Simulator,
};
use backorder::{
    full_contacts, Clock, Currency, Engine, NewAccount, OffsetClock, PlaceBackorder, Status,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;

fn batch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 9, 19, 0, 0).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_caught_over_epp_and_recorded() {
    let clock = OffsetClock::at(batch() - Duration::days(4));
    let registry = CatcherRegistry::new();
    let engine = Arc::new(
        Engine::builder()
            .clock(clock.clone())
            .seed(5)
            .registry(Box::new(registry.clone()))
            .build()
            .unwrap(),
    );
    // .com drops in a daily batch at 19:00; this one lasts a minute.
    let mut com = engine
        .policies()
        .into_iter()
        .find(|p| p.zone == "com")
        .unwrap();
    com.drop_schedule = DropSchedule::DailyBatch {
        start_minute_utc: 19 * 60,
        window_minutes: 1,
    };
    engine.set_policy(com).unwrap();

    let names: Vec<String> = (0..40).map(|i| format!("drop{i:02}.com")).collect();
    for account in ["ann", "bob"] {
        engine
            .create_account(NewAccount {
                id: account.into(),
                currency: Currency::USD,
                contacts: full_contacts("H-1"),
            })
            .unwrap();
        engine
            .fund(account, Decimal::from(10_000), "top-up")
            .unwrap();
    }
    for (i, name) in names.iter().enumerate() {
        engine.add_pending_deletion(name, batch()).unwrap();
        let place = |account: &str| PlaceBackorder {
            account: account.into(),
            domain: name.clone(),
            ..Default::default()
        };
        engine.place_backorder(place("ann")).unwrap();
        if i % 5 == 0 {
            engine.place_backorder(place("bob")).unwrap();
        }
    }
    // Deposits are taken 72 hours ahead.
    clock.jump_to(batch() - Duration::hours(71));
    engine.tick().unwrap();
    assert_eq!(engine.status_counts().unwrap()[&Status::Active], 48);

    // The registry: the batch purges the names in a random order over two seconds; two
    // competitors chase them; one name is premium.
    let mut config = RegistryConfig::new(9);
    config.add_registrar("catcher1", "s3cret-pass", Decimal::from(100_000));
    config.commands_per_second = Some(40);
    config
        .premium
        .insert("drop07.com".into(), Decimal::from(3000));
    config.competitors = vec![
        Competitor {
            id: "rival1".into(),
            attempts_per_second: 4.0,
            latency: Duration::milliseconds(1),
        },
        Competitor {
            id: "rival2".into(),
            attempts_per_second: 4.0,
            latency: Duration::milliseconds(1),
        },
    ];
    let mut sim_registry = SimRegistry::new(config);
    let purges = sim_registry.schedule_batch(&names, batch(), Duration::seconds(2));
    let shared_clock: Arc<dyn Clock> = Arc::new(clock.clone());
    let sim = Simulator::start(sim_registry, shared_clock.clone(), ServerOptions::default())
        .await
        .unwrap();

    let mut profile = DropProfile::new(
        DropSchedule::ExactInstant,
        2,
        30,
        Approach::CheckThenCreate { names_per_check: 4 },
    );
    profile.lead = Duration::milliseconds(500);
    profile.window = Duration::seconds(5);
    let link = RegistryLink {
        registry: "verisign".into(),
        session: SessionConfig::tls(
            &sim.addr.to_string(),
            "localhost",
            vec![sim.certificate.clone().unwrap()],
            Login::new("catcher1", "s3cret-pass"),
        ),
        profile,
        period_years: 1,
    };
    let catcher = Catcher::new(engine.clone(), shared_clock, &registry, vec![link]);
    clock.jump_to(batch() - Duration::seconds(1));
    let report = catcher
        .work(batch() - Duration::hours(1), batch() + Duration::hours(1))
        .await
        .unwrap();

    // Every name has its result, and the catcher agrees with the registry.
    assert_eq!(report.names, 40);
    let caught = report.caught_by_registry["verisign"];
    assert_eq!(
        caught + report.lost_to_competitors + report.refused + report.not_dropped,
        40
    );
    // The premium name is refused, unless a competitor registered it first.
    assert!(report.refused <= 1);
    assert_eq!(report.not_dropped, 0);
    assert!(caught > 0 && report.lost_to_competitors > 0, "{report:?}");
    let purge_at: HashMap<&str, DateTime<Utc>> =
        purges.iter().map(|(n, t)| (n.as_str(), *t)).collect();
    {
        let mut sim = sim.registry.lock().unwrap();
        for name in &names {
            let holder = sim.holder(name, clock.now());
            if report.created_at.contains_key(name) {
                assert_eq!(holder.as_deref(), Some("catcher1"), "{name}");
                // Created after its purge, never before.
                assert!(report.created_at[name] >= purge_at[name.as_str()], "{name}");
            } else if name != "drop07.com" {
                assert!(
                    matches!(holder.as_deref(), Some("rival1" | "rival2")),
                    "{name}: {holder:?}"
                );
            }
        }
    }

    // The engine's tick takes the drops up (they were not PROCESSING when the catcher finished)
    // and the hand-over answers with the catcher's outcome.
    engine.tick().unwrap();
    let counts = engine.status_counts().unwrap();
    assert_eq!(counts[&Status::Processing], 0, "{counts:?}");
    assert_eq!(counts[&Status::Active], 0, "{counts:?}");
    let ann = engine.backorders("ann").unwrap();
    for b in &ann {
        let name = b.domain.as_str();
        let expected = if report.created_at.contains_key(name) {
            if names.iter().position(|n| n == name).unwrap() % 5 == 0 {
                Status::AuctionPending
            } else {
                Status::Successful
            }
        } else {
            Status::Failed
        };
        assert_eq!(b.status, expected, "{name}");
    }
    let premium = ann
        .iter()
        .find(|b| b.domain.as_str() == "drop07.com")
        .unwrap();
    let expected = if report.refused == 1 {
        backorder::core::Reason::Premium
    } else {
        backorder::core::Reason::Taken
    };
    assert_eq!(premium.status, Status::Failed);
    assert_eq!(premium.reason(), Some(expected));
    assert!(engine.audit().unwrap().problems.is_empty());
}
