//! The catcher: works drops at their registries over EPP. For a window of time it takes the
//! engine's upcoming drops, gives each registry's names to a [`Scheduler`] with that registry's
//! [`DropProfile`], and sends the attempts it asks for on a [`SessionPool`] as tokio timers
//! fire; answers go back to the scheduler, and each name's result to the engine
//! ([`Engine::record_catch`]). The engine's own tick hands drops over through
//! [`CatcherRegistry`], which answers with the result once there is one and says the attempts are
//! under way before.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use backorder_core::epp::command::{Command, Create, FeeQuery};
use backorder_core::epp::outcome::{check_outcomes, CheckOutcome, CreateOutcome};
use backorder_core::epp::response::{Response, ResponseData};
use backorder_core::rng::hash64;
use backorder_core::schedule::{
    AttemptKind, DropProfile, Observation, Scheduler, Target, TargetState,
};
use backorder_core::{CatchOutcome, CatchProgress, DropJob, Registry};
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use crate::clock::Clock;
use crate::engine::Engine;
use crate::epp::{Backoff, SessionConfig, SessionError, SessionPool};

/// Outcomes found and drops handed over, shared by the catcher and its [`CatcherRegistry`].
#[derive(Default)]
struct Shared {
    outcomes: Mutex<HashMap<(String, DateTime<Utc>), CatchOutcome>>,
}

/// The engine's registry when a [`Catcher`] works the drops: a drop handed over is answered with
/// its outcome once the catcher has one, and is under way before.
#[derive(Clone, Default)]
pub struct CatcherRegistry {
    shared: Arc<Shared>,
}

impl CatcherRegistry {
    /// A registry with no outcomes yet.
    pub fn new() -> CatcherRegistry {
        CatcherRegistry::default()
    }
}

/// How long an outcome is kept for the engine to take up after its drop: the engine's tick takes
/// a drop up at once, so a week is far more than a tick ever lags.
const KEEP_OUTCOMES: chrono::Duration = chrono::Duration::days(7);

impl Shared {
    /// Keeps the outcomes of a window's drops at `now`. Outcomes are kept, not taken, so a tick
    /// that fails and runs again still finds its answer; those of drops more than
    /// [`KEEP_OUTCOMES`] before `now` are let go here, once a window and off the engine's tick,
    /// so the map does not grow with every name ever worked.
    fn record(
        &self,
        outcomes: impl IntoIterator<Item = ((String, DateTime<Utc>), CatchOutcome)>,
        now: DateTime<Utc>,
    ) {
        let mut kept = self.outcomes.lock().unwrap_or_else(|e| e.into_inner());
        kept.retain(|(_, drop_at), _| *drop_at + KEEP_OUTCOMES > now);
        kept.extend(outcomes);
    }
}

impl Registry for CatcherRegistry {
    fn attempt(&mut self, job: &DropJob, _now: DateTime<Utc>) -> CatchProgress {
        let key = (job.domain.as_str().to_owned(), job.drop_at);
        let outcomes = self
            .shared
            .outcomes
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match outcomes.get(&key) {
            Some(outcome) => CatchProgress::Finished(outcome.clone()),
            None => CatchProgress::Underway,
        }
    }
}

/// A registry the catcher works at: which zones' registry it is (`TldPolicy::registry`), how
/// to reach it, and its limits and approach.
#[derive(Clone, Debug)]
pub struct RegistryLink {
    /// The registry's name in the zone policies (e.g. `verisign`).
    pub registry: String,
    /// How to connect and log in.
    pub session: SessionConfig,
    /// Its limits and approach; the schedule is taken from the zones' policy.
    pub profile: DropProfile,
    /// Registration period for creates, in years.
    pub period_years: u8,
}

/// What a window of catching did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CatchReport {
    /// Names worked.
    pub names: u64,
    /// Commands sent.
    pub attempts: u64,
    /// Names caught, by registry.
    pub caught_by_registry: HashMap<String, u64>,
    /// Names another registrar registered first.
    pub lost_to_competitors: u64,
    /// Names the registry refused (premium, billing).
    pub refused: u64,
    /// Names whose window ended without a result.
    pub not_dropped: u64,
    /// The registry's creation time of each name caught.
    pub created_at: HashMap<String, DateTime<Utc>>,
}

/// Works drops at registries for an engine.
pub struct Catcher {
    engine: Arc<Engine>,
    clock: Arc<dyn Clock>,
    links: Vec<RegistryLink>,
    shared: Arc<Shared>,
}

/// One answer coming back from a sent attempt.
struct Answer {
    names: Vec<String>,
    /// A create (else a check).
    create: bool,
    result: Result<Response, SessionError>,
}

/// What the answers said beyond the scheduler's observations, by name.
#[derive(Default)]
struct Found {
    /// Why the registry refused a name (premium price, billing).
    refusals: HashMap<String, CatchOutcome>,
    /// A name's last error, while it has had nothing but errors.
    errors: HashMap<String, String>,
    /// The registry's creation time of a name we created.
    created: HashMap<String, DateTime<Utc>>,
}

impl Catcher {
    /// A catcher for `engine` (whose registry must be `registry`, the same [`CatcherRegistry`])
    /// reading `clock` (the engine's).
    pub fn new(
        engine: Arc<Engine>,
        clock: Arc<dyn Clock>,
        registry: &CatcherRegistry,
        links: Vec<RegistryLink>,
    ) -> Catcher {
        Catcher {
            engine,
            clock,
            links,
            shared: registry.shared.clone(),
        }
    }

    /// Works every drop due from `from` to before `to` until each has its result, each
    /// registry concurrently; records the results in the engine.
    pub async fn work(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<CatchReport, backorder_core::Error> {
        let jobs = self.engine.upcoming_drops(from, to)?;
        let policies = self.engine.policies();
        let zone_registry: HashMap<String, (String, backorder_core::DropSchedule)> = policies
            .iter()
            .map(|p| {
                (
                    p.zone.clone(),
                    (p.registry.clone(), p.drop_schedule.clone()),
                )
            })
            .collect();
        let mut report = CatchReport::default();
        let mut work = Vec::new();
        for link in &self.links {
            let mine: Vec<DropJob> = jobs
                .iter()
                .filter(|j| {
                    zone_registry
                        .get(j.domain.zone())
                        .is_some_and(|(r, _)| *r == link.registry)
                })
                .cloned()
                .collect();
            if mine.is_empty() {
                continue;
            }
            let mut profile = link.profile.clone();
            if let Some((_, schedule)) = zone_registry.get(mine[0].domain.zone()) {
                profile.schedule = schedule.clone();
            }
            work.push(self.work_registry(link, profile, mine));
        }
        for (link, part) in futures_util::future::join_all(work).await {
            let part = part?;
            report.names += part.names;
            report.attempts += part.attempts;
            report.lost_to_competitors += part.lost_to_competitors;
            report.refused += part.refused;
            report.not_dropped += part.not_dropped;
            report.created_at.extend(part.created_at);
            *report.caught_by_registry.entry(link).or_default() +=
                part.caught_by_registry.values().sum::<u64>();
        }
        Ok(report)
    }

    async fn work_registry(
        &self,
        link: &RegistryLink,
        profile: DropProfile,
        jobs: Vec<DropJob>,
    ) -> (String, Result<CatchReport, backorder_core::Error>) {
        (
            link.registry.clone(),
            self.run_scheduler(link, profile, jobs).await,
        )
    }

    async fn run_scheduler(
        &self,
        link: &RegistryLink,
        profile: DropProfile,
        jobs: Vec<DropJob>,
    ) -> Result<CatchReport, backorder_core::Error> {
        let targets = jobs
            .iter()
            .map(|j| {
                Target::new(
                    j.domain.as_str(),
                    j.drop_at,
                    j.backorders.len() as u32,
                    j.value,
                )
            })
            .collect();
        let by_name: HashMap<String, DropJob> = jobs
            .iter()
            .map(|j| (j.domain.as_str().to_owned(), j.clone()))
            .collect();
        let pool = Arc::new(SessionPool::new(
            link.session.clone(),
            profile.connections as usize,
            Backoff {
                first: StdDuration::from_millis(50),
                max: StdDuration::from_secs(2),
            },
        ));
        // Sessions are opened ahead, so none is connecting at the instant; one that cannot be
        // opened now is tried again when an attempt needs it.
        let _ = pool.open_all().await;
        // The scheduler counts a command when it is sent out; the registry when it arrives.
        // Commands wait their turn on a session, so they can arrive bunched: each session also
        // keeps its commands apart by the rate's interval, and never goes over at the registry.
        let spacing =
            StdDuration::from_secs_f64(1.0 / f64::from(profile.commands_per_second.max(1)));
        let last_sent: Arc<Vec<Mutex<Option<Instant>>>> =
            Arc::new((0..profile.connections).map(|_| Mutex::new(None)).collect());
        let mut scheduler = Scheduler::new(profile, targets);
        let mut report = CatchReport {
            names: jobs.len() as u64,
            ..CatchReport::default()
        };
        let mut found = Found::default();
        let (tx, mut rx) = mpsc::unbounded_channel::<Answer>();
        let mut in_flight = 0usize;
        loop {
            let now = self.clock.now();
            for attempt in scheduler.poll(now) {
                report.attempts += 1;
                in_flight += 1;
                let create = matches!(attempt.kind, AttemptKind::Create(_));
                let (names, command) = match attempt.kind {
                    // The fee extension's price shows a premium name before it is created.
                    AttemptKind::Check(names) => (
                        names.clone(),
                        Command::Check {
                            names,
                            fee: Some(FeeQuery {
                                currency: None,
                                period_years: link.period_years,
                            }),
                        },
                    ),
                    AttemptKind::Create(name) => {
                        let mut create = Create::new(&name, &auth_code(&name, now));
                        create.period_years = link.period_years;
                        (vec![name], Command::Create(create))
                    }
                };
                let pool = pool.clone();
                let tx = tx.clone();
                let connection = attempt.connection as usize;
                let last_sent = last_sent.clone();
                // A create timed at an instant leaves then, to the microsecond (the clock may
                // be offset from the system's: the instant is taken as a distance from now).
                let timed = attempt
                    .at
                    .map(|at| Instant::now() + (at - now).to_std().unwrap_or(StdDuration::ZERO));
                tokio::spawn(async move {
                    let result = match pool.lease_slot(connection).await {
                        Ok(mut lease) => {
                            let last = &last_sent[connection];
                            let spaced = last
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .map(|t| t + spacing);
                            let session = lease.session();
                            let r = match timed {
                                // A timed write leaves at its instant (or its spacing, if later).
                                Some(at) => {
                                    let at = spaced.map_or(at, |s| s.max(at));
                                    let prepared = session.prepare(command);
                                    let written = session.write_prepared_at(&prepared, at).await;
                                    *last.lock().unwrap_or_else(|e| e.into_inner()) = Some(at);
                                    match written {
                                        Ok(_) => session.read_response(&prepared).await,
                                        Err(e) => Err(e),
                                    }
                                }
                                None => {
                                    if let Some(due) = spaced {
                                        tokio::time::sleep_until(due.into()).await;
                                    }
                                    *last.lock().unwrap_or_else(|e| e.into_inner()) =
                                        Some(Instant::now());
                                    session.send(command).await
                                }
                            };
                            if r.is_err()
                                || r.as_ref().is_ok_and(|r| matches!(r.code(), 2500..=2502))
                            {
                                lease.broken();
                            }
                            r
                        }
                        Err(e) => Err(e),
                    };
                    let _ = tx.send(Answer {
                        names,
                        create,
                        result,
                    });
                });
            }
            let wake = scheduler.next_wake();
            if wake.is_none() && in_flight == 0 {
                break;
            }
            let sleep = wake
                .map(|w| (w - self.clock.now()).to_std().unwrap_or(StdDuration::ZERO))
                .unwrap_or(StdDuration::from_secs(3600));
            tokio::select! {
                answer = rx.recv() => {
                    let Some(answer) = answer else { break };
                    in_flight -= 1;
                    let at = self.clock.now();
                    observe(&mut scheduler, answer, at, &mut found);
                    // Take every answer already here before polling again.
                    while let Ok(answer) = rx.try_recv() {
                        in_flight -= 1;
                        observe(&mut scheduler, answer, at, &mut found);
                    }
                }
                _ = tokio::time::sleep(sleep) => {}
            }
        }
        pool.close().await;
        let mut outcomes = Vec::new();
        for (name, state) in scheduler.states() {
            let Some(job) = by_name.get(&name) else {
                continue;
            };
            let outcome = match state {
                TargetState::Caught { at } => {
                    let created = found.created.remove(&name).unwrap_or(at);
                    report.created_at.insert(name.clone(), created);
                    *report
                        .caught_by_registry
                        .entry(link.registry.clone())
                        .or_default() += 1;
                    CatchOutcome::Caught
                }
                TargetState::Taken { .. } => {
                    report.lost_to_competitors += 1;
                    CatchOutcome::Taken
                }
                TargetState::Refused { .. } => {
                    report.refused += 1;
                    found
                        .refusals
                        .remove(&name)
                        .unwrap_or(CatchOutcome::RegistryError {
                            message: "refused by the registry".into(),
                        })
                }
                TargetState::WindowEnded | TargetState::Waiting | TargetState::Trying => {
                    report.not_dropped += 1;
                    match found.errors.remove(&name) {
                        // Only errors, never a "not yet": the registry could not be worked.
                        Some(message) => CatchOutcome::RegistryError { message },
                        None => CatchOutcome::NotDropped,
                    }
                }
            };
            outcomes.push(((name, job.drop_at), outcome));
        }
        // Handed over first: the engine's tick finds them even if recording one fails below.
        self.shared
            .record(outcomes.iter().cloned(), self.clock.now());
        for ((name, drop_at), outcome) in &outcomes {
            self.engine.record_catch(name, *drop_at, outcome)?;
        }
        Ok(report)
    }
}

/// The auth code set on a name we create: unique to the name and time, never shown.
fn auth_code(name: &str, at: DateTime<Utc>) -> String {
    let h = hash64(at.timestamp_micros() as u64, name.as_bytes());
    format!("Bo-{h:016x}")
}

/// Feeds an answer to the scheduler, one observation a name.
fn observe(scheduler: &mut Scheduler, answer: Answer, at: DateTime<Utc>, found: &mut Found) {
    let Found {
        refusals,
        errors,
        created,
    } = found;
    let response = match answer.result {
        Ok(r) => r,
        Err(e) => {
            for name in &answer.names {
                errors.insert(name.clone(), e.to_string());
                scheduler.observe(name, Observation::Failed, at);
            }
            return;
        }
    };
    if let Some(checked) = check_outcomes(&response) {
        for (name, outcome) in checked {
            let observation = match outcome {
                CheckOutcome::Available {
                    premium: Some(price),
                } => {
                    refusals.insert(name.clone(), CatchOutcome::Premium { price: Some(price) });
                    Observation::Refused
                }
                CheckOutcome::Available { premium: None } => Observation::Available,
                CheckOutcome::NotYetDropped => Observation::NotYetDropped,
                CheckOutcome::Taken => Observation::Taken,
            };
            errors.remove(&name);
            scheduler.observe(&name, observation, at);
        }
        return;
    }
    for name in &answer.names {
        let observation = if answer.create {
            match CreateOutcome::of(&response) {
                CreateOutcome::Created { .. } => {
                    if let Some(ResponseData::Create(c)) = &response.data {
                        created.insert(name.clone(), c.created_at);
                    }
                    Observation::Created
                }
                CreateOutcome::Taken => Observation::Taken,
                CreateOutcome::NotYetDropped => Observation::NotYetDropped,
                CreateOutcome::PremiumMismatch { price } => {
                    refusals.insert(name.clone(), CatchOutcome::Premium { price });
                    Observation::Refused
                }
                CreateOutcome::BillingFailure => {
                    refusals.insert(
                        name.clone(),
                        CatchOutcome::RegistryError {
                            message: "billing failure at the registry".into(),
                        },
                    );
                    Observation::Refused
                }
                other => {
                    errors.insert(name.clone(), format!("{other:?}"));
                    Observation::Failed
                }
            }
        } else {
            errors.insert(name.clone(), format!("check answered {}", response.code()));
            Observation::Failed
        };
        if observation != Observation::Failed {
            errors.remove(name);
        }
        scheduler.observe(name, observation, at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backorder_core::DomainName;
    use chrono::{Duration, TimeZone};

    fn job(name: &str, drop_at: DateTime<Utc>) -> DropJob {
        DropJob {
            domain: DomainName::parse(name).unwrap(),
            drop_at,
            model: backorder_core::AllocationModel::Auction,
            backorders: Vec::new(),
            value: Default::default(),
        }
    }

    #[test]
    fn outcomes_are_answered_until_a_week_after_their_drop_then_let_go() {
        let drop = Utc.with_ymd_and_hms(2026, 3, 1, 19, 0, 0).unwrap();
        let mut registry = CatcherRegistry::new();
        let window = (0..2000).map(|i| ((format!("n{i}.com"), drop), CatchOutcome::Caught));
        registry.shared.record(window, drop);
        let asked = job("n7.com", drop);
        // Asked again and again (a tick run twice), and after another window six days on,
        // the answer stays.
        let later = drop + Duration::days(6);
        registry.shared.record(
            [(("late.com".to_string(), later), CatchOutcome::Taken)],
            later,
        );
        for _ in 0..2 {
            assert_eq!(
                registry.attempt(&asked, later),
                CatchProgress::Finished(CatchOutcome::Caught)
            );
        }
        assert_eq!(
            registry.attempt(&job("other.com", drop), drop),
            CatchProgress::Underway
        );
        // A window more than a week on lets the first drop's outcomes go, not the later one's.
        let week_on = drop + Duration::days(8);
        registry.shared.record([], week_on);
        assert_eq!(registry.attempt(&asked, week_on), CatchProgress::Underway);
        assert_eq!(registry.shared.outcomes.lock().unwrap().len(), 1);
    }
}
