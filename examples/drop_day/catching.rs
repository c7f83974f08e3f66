//! The drops worked over EPP: one registry simulator per registry, listening on loopback over
//! TLS with a certificate made at start, three competing registrars at each, and the catcher
//! working every drop window on real timers and real sockets. Between windows the clock jumps
//! (the days between drops pass in simulated time); inside a window it flows as the wall clock
//! does, and the engine's store, the catcher, its sessions and the simulators all read it.
//!
//! Each registry purges a day's drops at the instant its schedule names: a batch (Verisign's
//! 19:00 UTC batch, the .se/.nu release from 04:00, CIRA's weekly session) purges them one after
//! another in a seeded random order over [`BATCH_LENGTH`], compressed from the real hour so a
//! run takes minutes; an exact-instant registry purges each at its instant. The engine is told
//! the zones' batches last a minute, so the catcher's scheduler expects them that short.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use backorder::catcher::{Catcher, CatcherRegistry, RegistryLink};
use backorder::core::epp::command::Login;
use backorder::core::schedule::{Approach, DropProfile};
use backorder::core::DropSchedule;
use backorder::epp::SessionConfig;
use backorder::simulator::{
    Competitor, Registry as SimRegistry, RegistryConfig, ServerOptions, Simulator,
};
use backorder::{Clock, Engine, Error, OffsetClock, TldPolicy};
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

/// How long a registry's batch takes to purge its names (the real ones take up to an hour).
pub const BATCH_LENGTH: Duration = Duration::seconds(2);

/// The catcher starts this long before a drop's expected instant.
const LEAD: Duration = Duration::milliseconds(200);

/// The clock is set this long before the catcher's lead, so its sessions are open in time.
const SETUP: Duration = Duration::milliseconds(300);

/// Our registrar's login at every simulated registry.
const LOGIN: (&str, &str) = ("backorder-catcher", "catcher-pass-1");

/// The drop instant of a name under the simulated registries: the registry's batch start for
/// batches (the engine knows the day, not the order), the hour for exact-instant registries
/// (which keeps the number of windows, each run in real time, small).
pub fn aligned(schedule: &DropSchedule, drop_at: DateTime<Utc>) -> DateTime<Utc> {
    let profile = DropProfile::new(schedule.clone(), 1, 1, Approach::BlindCreate);
    match schedule {
        DropSchedule::ExactInstant => {
            let secs = drop_at.timestamp();
            DateTime::from_timestamp(secs - secs.rem_euclid(6 * 3600), 0).unwrap_or(drop_at)
        }
        _ => profile.expected_instant(drop_at),
    }
}

/// What the windows did, beyond what the engine's events say.
#[derive(Default)]
pub struct EppFigures {
    /// EPP commands the catcher sent.
    pub attempts: u64,
    /// Drop windows worked.
    pub windows: u64,
    /// Microseconds from each caught name's purge to the registry's creation of it for us.
    pub drop_to_create_us: Vec<i64>,
}

impl EppFigures {
    /// The `p`-th percentile (0–100) of the drop-to-create times, nearest rank.
    pub fn percentile(&self, p: u32) -> Option<i64> {
        let mut v = self.drop_to_create_us.clone();
        if v.is_empty() {
            return None;
        }
        v.sort_unstable();
        let rank = (v.len() * p as usize).div_ceil(100).max(1);
        Some(v[rank - 1])
    }
}

/// The simulated registries and the catcher, on a tokio runtime of their own.
pub struct EppDrops {
    runtime: tokio::runtime::Runtime,
    clock: OffsetClock,
    catcher: Catcher,
    /// Kept so the servers keep listening.
    _simulators: Vec<Simulator>,
    /// Drop instants still to work, earliest first.
    windows: VecDeque<DateTime<Utc>>,
    /// Each name's purge instant at its registry.
    purges: HashMap<String, DateTime<Utc>>,
    pub figures: EppFigures,
}

/// A name the registries will purge.
pub struct Dropping<'a> {
    pub domain: &'a str,
    pub drop_at: DateTime<Utc>,
    /// Priced as premium at its registry.
    pub premium: bool,
}

impl EppDrops {
    /// Starts a simulator for every registry the names' zones belong to, with the names in
    /// pending delete, and a catcher for `engine` (built with `registry`) logged in at each.
    pub fn start(
        seed: u64,
        names: &[Dropping<'_>],
        engine: Arc<Engine>,
        registry: &CatcherRegistry,
        clock: OffsetClock,
    ) -> Result<EppDrops, Error> {
        let io = |e: std::io::Error| Error::Internal(format!("registry simulator: {e}"));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(io)?;
        let policies: HashMap<String, TldPolicy> = engine
            .policies()
            .into_iter()
            .map(|p| (p.zone.clone(), p))
            .collect();
        // Each registry's names by drop instant.
        let mut batches: BTreeMap<&str, BTreeMap<DateTime<Utc>, Vec<String>>> = BTreeMap::new();
        let mut premium: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for n in names {
            let zone = n.domain.rsplit('.').next().unwrap_or_default();
            let policy = policies
                .get(zone)
                .ok_or_else(|| Error::Internal(format!("no policy for {zone}")))?;
            batches
                .entry(&policy.registry)
                .or_default()
                .entry(n.drop_at)
                .or_default()
                .push(n.domain.to_string());
            if n.premium {
                premium.entry(&policy.registry).or_default().push(n.domain);
            }
        }
        let shared_clock: Arc<dyn Clock> = Arc::new(clock.clone());
        let mut simulators = Vec::new();
        let mut links = Vec::new();
        let mut purges = HashMap::new();
        let mut windows = BTreeSet::new();
        for (name, days) in &batches {
            let mut config =
                RegistryConfig::new(seed ^ backorder::core::rng::hash64(seed, name.as_bytes()));
            config.server_id = format!("{name} (simulated)");
            config.add_registrar(LOGIN.0, LOGIN.1, Decimal::from(10_000_000));
            // Three rivals, each registering a purged name a seeded moment within 400 ms (the
            // first of them within about 100 ms on average), a few milliseconds away.
            config.competitors = ["rival-a", "rival-b", "rival-c"]
                .iter()
                .zip([3, 5, 8])
                .map(|(id, latency_ms)| Competitor {
                    id: (*id).into(),
                    attempts_per_second: 2.5,
                    latency: Duration::milliseconds(latency_ms),
                })
                .collect();
            config.commands_per_second = Some(COMMANDS_PER_SECOND + COMMANDS_PER_SECOND / 4);
            for domain in premium.get(name).into_iter().flatten() {
                config.premium.insert((*domain).into(), Decimal::from(750));
            }
            let mut sim = SimRegistry::new(config);
            let mut schedule = None;
            for (instant, names) in days {
                let zone = names[0].rsplit('.').next().unwrap_or_default();
                let policy_schedule = &policies[zone].drop_schedule;
                let length = match policy_schedule {
                    DropSchedule::ExactInstant => Duration::zero(),
                    _ => BATCH_LENGTH,
                };
                schedule.get_or_insert_with(|| policy_schedule.clone());
                purges.extend(sim.schedule_batch(names, *instant, length));
                windows.insert(*instant);
            }
            let server = runtime
                .block_on(Simulator::start(
                    sim,
                    shared_clock.clone(),
                    ServerOptions::default(),
                ))
                .map_err(io)?;
            let certificate = server
                .certificate
                .clone()
                .ok_or_else(|| Error::Internal("the simulator runs without TLS".into()))?;
            let schedule = schedule.unwrap_or(DropSchedule::ExactInstant);
            // Batches are watched with checks of ten names; an exact instant is met with creates.
            let approach = match schedule {
                DropSchedule::ExactInstant => Approach::BlindCreate,
                _ => Approach::CheckThenCreate {
                    names_per_check: 10,
                },
            };
            let mut profile =
                DropProfile::new(schedule, CONNECTIONS, COMMANDS_PER_SECOND, approach);
            profile.lead = LEAD;
            profile.window = Duration::seconds(5);
            links.push(RegistryLink {
                registry: (*name).to_string(),
                session: SessionConfig::tls(
                    &server.addr.to_string(),
                    "localhost",
                    vec![certificate],
                    Login::new(LOGIN.0, LOGIN.1),
                ),
                profile,
                period_years: 1,
            });
            simulators.push(server);
        }
        let catcher = Catcher::new(engine, shared_clock, registry, links);
        Ok(EppDrops {
            runtime,
            clock,
            catcher,
            _simulators: simulators,
            windows: windows.into_iter().collect(),
            purges,
            figures: EppFigures::default(),
        })
    }

    /// When the next window starts (the clock must not pass it before [`EppDrops::work_next`]).
    pub fn next_start(&self) -> Option<DateTime<Utc>> {
        self.windows.front().map(|t| *t - LEAD - SETUP)
    }

    /// Works the next window's drops: the clock jumps to just before it and then flows, and the
    /// catcher records each name's outcome in the engine.
    pub fn work_next(&mut self) -> Result<(), Error> {
        let Some(instant) = self.windows.pop_front() else {
            return Ok(());
        };
        self.clock.jump_to(instant - LEAD - SETUP);
        let report = self.runtime.block_on(
            self.catcher
                .work(instant, instant + Duration::nanoseconds(1)),
        )?;
        self.figures.windows += 1;
        if std::env::var_os("DROP_DAY_PHASES").is_some() {
            eprintln!(
                "window {instant}: {} names, {} attempts, caught {:?}, lost {}, refused {}, \
                 not dropped {}",
                report.names,
                report.attempts,
                report.caught_by_registry,
                report.lost_to_competitors,
                report.refused,
                report.not_dropped
            );
        }
        self.figures.attempts += report.attempts;
        for (name, created) in &report.created_at {
            if let Some(purged) = self.purges.get(name) {
                if let Some(us) = (*created - *purged).num_microseconds() {
                    self.figures.drop_to_create_us.push(us);
                }
            }
        }
        Ok(())
    }
}

/// Sessions the catcher holds at each registry.
const CONNECTIONS: u32 = 4;

/// Commands a second each session sends (the registries allow a quarter more).
const COMMANDS_PER_SECOND: u32 = 40;
