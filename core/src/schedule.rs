//! The drop-time scheduler (SPEC §6), sans-IO: given the time and what the registry answered, it
//! says which registration attempts to send now, on which connection, and when to wake next.
//!
//! Each registry has a [`DropProfile`]: when it purges ([`DropSchedule`]: Verisign's daily
//! batch, .se/.nu's daily release, CIRA's weekly session, or each name at its own instant), how
//! many connections and commands a second it allows, how early to start, how long to keep
//! trying, and whether to check before creating (one `<check>` covers several names) or create
//! blind. Names are tried in priority order — more backorders first, then more value — round
//! robin, so every name gets its turn within the rate. A name stops at success, at "taken by
//! another registrar", or at the end of its window. For a batch whose order and exact start are
//! unknown, the scheduler probes gently until it sees the first name drop, then takes that as
//! the batch's real start: it goes to full rate and moves the window to follow.
//!
//! Guarantees, each a property test: never more commands on a connection in any second than the
//! profile allows; never an attempt before a name's lead; never one after its terminal result.
//!
//! ```
//! use backorder_core::schedule::{Approach, AttemptKind, DropProfile, Observation, Scheduler, Target, TargetState};
//! use backorder_core::policy::DropSchedule;
//! use chrono::{Duration, TimeZone, Utc};
//!
//! let drop = Utc.with_ymd_and_hms(2026, 3, 7, 18, 0, 0).unwrap();
//! let profile = DropProfile::new(DropSchedule::ExactInstant, 1, 10, Approach::BlindCreate);
//! let mut s = Scheduler::new(profile, vec![Target::new("example.org", drop, 2, 98.into())]);
//! assert_eq!(s.next_wake(), Some(drop - Duration::seconds(2)));
//! let attempts = s.poll(drop - Duration::seconds(2));
//! assert_eq!(attempts[0].kind, AttemptKind::Create("example.org".into()));
//! s.observe("example.org", Observation::Created, drop + Duration::milliseconds(3));
//! assert!(matches!(s.state("example.org"), Some(TargetState::Caught { .. })));
//! assert_eq!(s.next_wake(), None);
//! ```

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::policy::DropSchedule;

/// Check before creating, or create blind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Approach {
    /// `<check>` up to this many names at once; create a name the moment a check shows it free.
    CheckThenCreate {
        /// Names a check command carries.
        names_per_check: u32,
    },
    /// Send `<create>` until it succeeds or the name is taken.
    BlindCreate,
}

/// How to catch a registry's drops.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DropProfile {
    /// When the registry purges.
    pub schedule: DropSchedule,
    /// Sessions the registry allows a registrar.
    pub connections: u32,
    /// Commands a second the registry allows on each session.
    pub commands_per_second: u32,
    /// Start this long before a name's expected purge.
    pub lead: Duration,
    /// Keep trying this long after the expected purge (for a batch: after its start, observed
    /// or expected, plus the batch's own length).
    pub window: Duration,
    /// Check first or create blind.
    pub approach: Approach,
    /// Before a batch's start is seen, use only this share of the rate (thousandths).
    pub probe_permille: u32,
}

impl DropProfile {
    /// A profile starting 2 s ahead, trying for 60 s after the expected instant (a batch: its
    /// length on top), probing at a fifth of the rate before a batch starts.
    pub fn new(
        schedule: DropSchedule,
        connections: u32,
        commands_per_second: u32,
        approach: Approach,
    ) -> DropProfile {
        DropProfile {
            schedule,
            connections: connections.max(1),
            commands_per_second: commands_per_second.max(1),
            lead: Duration::seconds(2),
            window: Duration::seconds(60),
            approach,
            probe_permille: 200,
        }
    }

    /// When a name listed to drop at `nominal` is expected to be purged under this schedule.
    pub fn expected_instant(&self, nominal: DateTime<Utc>) -> DateTime<Utc> {
        let at_minute = |date: chrono::NaiveDate, minute: u32| {
            let time = NaiveTime::from_num_seconds_from_midnight_opt((minute % 1440) * 60, 0)
                .unwrap_or(NaiveTime::MIN);
            Utc.from_utc_datetime(&date.and_time(time))
        };
        match &self.schedule {
            DropSchedule::DailyBatch {
                start_minute_utc, ..
            } => at_minute(nominal.date_naive(), *start_minute_utc),
            DropSchedule::DailyRelease { from_minute_utc } => {
                at_minute(nominal.date_naive(), *from_minute_utc)
            }
            DropSchedule::Weekly {
                weekday,
                start_minute_utc,
            } => {
                let today = nominal.weekday().number_from_monday();
                let ahead = (weekday.clamp(&1, &7) + 7 - today) % 7;
                at_minute(
                    nominal.date_naive() + Duration::days(i64::from(ahead)),
                    *start_minute_utc,
                )
            }
            DropSchedule::ExactInstant => nominal,
        }
    }

    fn is_batch(&self) -> bool {
        matches!(self.schedule, DropSchedule::DailyBatch { .. })
    }

    /// How long after the (expected or observed) start attempts go on.
    fn span(&self) -> Duration {
        match &self.schedule {
            DropSchedule::DailyBatch { window_minutes, .. } => {
                Duration::minutes(i64::from(*window_minutes)) + self.window
            }
            _ => self.window,
        }
    }
}

/// A name to catch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// The name.
    pub domain: String,
    /// Its listed deletion time.
    pub nominal_drop: DateTime<Utc>,
    /// Backorders waiting on it.
    pub backorders: u32,
    /// Their total value.
    pub value: Decimal,
}

impl Target {
    /// A target.
    pub fn new(
        domain: &str,
        nominal_drop: DateTime<Utc>,
        backorders: u32,
        value: Decimal,
    ) -> Target {
        Target {
            domain: domain.into(),
            nominal_drop,
            backorders,
            value,
        }
    }
}

/// What to send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttemptKind {
    /// `<domain:check>` of these names.
    Check(Vec<String>),
    /// `<domain:create>` of this name.
    Create(String),
}

/// One command to send now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// The session (0 to `connections - 1`).
    pub connection: u32,
    /// The command.
    pub kind: AttemptKind,
    /// Send it at this instant, not at once: the first create of a name at an exact-instant
    /// registry, handed over within the lead so it can leave at the instant itself (one per
    /// session at a time).
    pub at: Option<DateTime<Utc>>,
}

/// What the registry said about a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Observation {
    /// A check: free to create.
    Available,
    /// Still pending delete.
    NotYetDropped,
    /// Registered by another registrar.
    Taken,
    /// Our create succeeded.
    Created,
    /// The attempt failed for another reason (rate limit, timeout, registry error): the name
    /// is tried again.
    Failed,
    /// The registry will not let us have it (a premium price, our account at the registry
    /// cannot pay): stop trying.
    Refused,
}

/// Where a name stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TargetState {
    /// Before its lead.
    Waiting,
    /// Being tried.
    Trying,
    /// Ours.
    Caught {
        /// When the registry confirmed it.
        at: DateTime<Utc>,
    },
    /// Another registrar's.
    Taken {
        /// When seen.
        at: DateTime<Utc>,
    },
    /// Refused by the registry (premium, billing).
    Refused {
        /// When seen.
        at: DateTime<Utc>,
    },
    /// Its window ended without a result.
    WindowEnded,
}

impl TargetState {
    /// Caught, taken or over.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            TargetState::Caught { .. }
                | TargetState::Taken { .. }
                | TargetState::Refused { .. }
                | TargetState::WindowEnded
        )
    }
}

#[derive(Clone, Debug)]
struct Entry {
    target: Target,
    expected: DateTime<Utc>,
    terminal: Option<TargetState>,
    /// A command about it is out and unanswered.
    in_flight: bool,
    /// A check said it is free: create it next.
    available: bool,
    /// Its create timed at the instant was handed over (on this connection, while unanswered).
    timed: bool,
    timed_on: Option<u32>,
}

/// The scheduler for one registry.
#[derive(Clone, Debug)]
pub struct Scheduler {
    profile: DropProfile,
    entries: Vec<Entry>,
    by_name: HashMap<String, usize>,
    /// Entries in priority order.
    order: Vec<usize>,
    /// Where the round robin resumes.
    cursor: usize,
    /// Each connection's sends within the last second.
    sends: Vec<VecDeque<DateTime<Utc>>>,
    /// Where the next connection to try starts.
    next_connection: usize,
    /// Each connection's timed create, handed over and unanswered.
    timed_busy: Vec<bool>,
    /// A batch's start as observed (the first drop seen).
    observed_start: Option<DateTime<Utc>>,
}

fn second() -> Duration {
    Duration::seconds(1)
}

impl Scheduler {
    /// A scheduler for `targets` (a name listed twice is kept once, with the first entry).
    pub fn new(profile: DropProfile, targets: Vec<Target>) -> Scheduler {
        let mut entries = Vec::new();
        let mut by_name = HashMap::new();
        for target in targets {
            let key = target.domain.to_ascii_lowercase();
            if by_name.contains_key(&key) {
                continue;
            }
            by_name.insert(key, entries.len());
            entries.push(Entry {
                expected: profile.expected_instant(target.nominal_drop),
                target,
                terminal: None,
                in_flight: false,
                available: false,
                timed: false,
                timed_on: None,
            });
        }
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_by(|&a, &b| {
            let (x, y) = (&entries[a].target, &entries[b].target);
            y.backorders
                .cmp(&x.backorders)
                .then(y.value.cmp(&x.value))
                .then(entries[a].expected.cmp(&entries[b].expected))
                .then(x.domain.cmp(&y.domain))
        });
        let sends: Vec<VecDeque<DateTime<Utc>>> =
            (0..profile.connections).map(|_| VecDeque::new()).collect();
        Scheduler {
            profile,
            entries,
            by_name,
            order,
            cursor: 0,
            timed_busy: vec![false; sends.len()],
            sends,
            next_connection: 0,
            observed_start: None,
        }
    }

    /// The profile.
    pub fn profile(&self) -> &DropProfile {
        &self.profile
    }

    /// A batch's start as seen from the first drop, once seen.
    pub fn observed_start(&self) -> Option<DateTime<Utc>> {
        self.observed_start
    }

    fn start_of(&self, e: &Entry) -> DateTime<Utc> {
        e.expected - self.profile.lead
    }

    fn end_of(&self, e: &Entry) -> DateTime<Utc> {
        let base = match self.observed_start {
            Some(seen) if self.profile.is_batch() => seen.max(e.expected),
            _ => e.expected,
        };
        base + self.profile.span()
    }

    /// How many commands a connection may send per second now.
    fn rate(&self) -> usize {
        let full = self.profile.commands_per_second as usize;
        if self.profile.is_batch() && self.observed_start.is_none() {
            ((full * self.profile.probe_permille as usize) / 1000).max(1)
        } else {
            full
        }
    }

    /// The least time between two commands on a connection: a second over the rate, rounded
    /// up, so commands are spread over the second rather than sent in a burst at its start
    /// (a burst spends the rate on one moment's news and leaves the rest of the second idle).
    fn interval(&self) -> Duration {
        let rate = self.rate().max(1) as i64;
        Duration::nanoseconds((1_000_000_000 + rate - 1) / rate)
    }

    /// When connection `c` may send next: its last send plus the interval, or a second after
    /// its oldest send when the second's rate is spent (`None`: now).
    fn free_at(&self, c: usize) -> Option<DateTime<Utc>> {
        let sends = &self.sends[c];
        let spaced = sends.back().map(|last| *last + self.interval());
        let spent = (sends.len() >= self.rate())
            .then(|| sends.front().map(|oldest| *oldest + second()))
            .flatten();
        spaced.max(spent)
    }

    /// Creates are timed at the instant: blind creates at an exact-instant registry.
    fn timed(&self) -> bool {
        self.profile.approach == Approach::BlindCreate
            && self.profile.schedule == DropSchedule::ExactInstant
    }

    /// A connection that may send at `now`, taking its room; `None` when none may. For a
    /// `timed` create, only a connection without a timed create out, which it then holds.
    fn take_room(&mut self, now: DateTime<Utc>, timed: bool) -> Option<u32> {
        let n = self.sends.len();
        for k in 0..n {
            let c = (self.next_connection + k) % n;
            if !(timed && self.timed_busy[c]) && self.free_at(c).is_none_or(|at| at <= now) {
                self.sends[c].push_back(now);
                self.next_connection = c + 1;
                self.timed_busy[c] |= timed;
                return Some(c as u32);
            }
        }
        None
    }

    fn prune(&mut self, now: DateTime<Utc>) {
        for sends in &mut self.sends {
            while sends.front().is_some_and(|t| *t <= now - second()) {
                sends.pop_front();
            }
        }
    }

    /// Ends the windows that are over at `now`.
    fn close_windows(&mut self, now: DateTime<Utc>) {
        for i in 0..self.entries.len() {
            let e = &self.entries[i];
            if e.terminal.is_none() && !e.in_flight && now >= self.end_of(e) {
                self.entries[i].terminal = Some(TargetState::WindowEnded);
            }
        }
    }

    fn active(&self, e: &Entry, now: DateTime<Utc>) -> bool {
        e.terminal.is_none() && !e.in_flight && now >= self.start_of(e) && now < self.end_of(e)
    }

    /// The attempts to send at `now`, each on a connection with room in its rate.
    pub fn poll(&mut self, now: DateTime<Utc>) -> Vec<Attempt> {
        self.prune(now);
        self.close_windows(now);
        let mut attempts = Vec::new();
        // Names a check found free are created first, in priority order.
        let free: Vec<usize> = self
            .order
            .iter()
            .copied()
            .filter(|&i| self.entries[i].available && self.active(&self.entries[i], now))
            .collect();
        for i in free {
            let Some(c) = self.take_room(now, false) else {
                return attempts;
            };
            self.entries[i].in_flight = true;
            attempts.push(Attempt {
                connection: c,
                kind: AttemptKind::Create(self.entries[i].target.domain.clone()),
                at: None,
            });
        }
        // At an exact-instant registry, the first names in priority order get a create timed
        // at their instant, one a connection; nothing else goes before the instant (a create
        // then only hears "not yet").
        if self.timed() {
            for k in 0..self.order.len() {
                let i = self.order[k];
                let e = &self.entries[i];
                if !self.active(e, now) || now >= e.expected || e.timed {
                    continue;
                }
                let Some(c) = self.take_room(now, true) else {
                    break;
                };
                let e = &mut self.entries[i];
                e.in_flight = true;
                e.timed = true;
                e.timed_on = Some(c);
                attempts.push(Attempt {
                    connection: c,
                    kind: AttemptKind::Create(e.target.domain.clone()),
                    at: Some(e.expected),
                });
            }
        }
        // Then the rest, round robin in priority order from where the last poll stopped.
        let n = self.order.len();
        let per_command = match self.profile.approach {
            Approach::CheckThenCreate { names_per_check } => names_per_check.max(1) as usize,
            Approach::BlindCreate => 1,
        };
        let mut batch: Vec<usize> = Vec::new();
        let mut visited = 0;
        while visited < n {
            let i = self.order[(self.cursor + visited) % n];
            visited += 1;
            let e = &self.entries[i];
            if !self.active(e, now) || e.available || (self.timed() && now < e.expected) {
                continue;
            }
            batch.push(i);
            if batch.len() < per_command {
                continue;
            }
            if !self.send(&mut batch, now, &mut attempts) {
                // Out of room: resume with this name next time.
                self.cursor = (self.cursor + visited - 1) % n.max(1);
                return attempts;
            }
        }
        if !batch.is_empty() {
            self.send(&mut batch, now, &mut attempts);
        }
        self.cursor = (self.cursor + visited) % n.max(1);
        attempts
    }

    /// Sends `batch` as one command if a connection has room; false when none has.
    fn send(
        &mut self,
        batch: &mut Vec<usize>,
        now: DateTime<Utc>,
        attempts: &mut Vec<Attempt>,
    ) -> bool {
        let Some(c) = self.take_room(now, false) else {
            batch.clear();
            return false;
        };
        let names: Vec<String> = batch
            .iter()
            .map(|&i| {
                self.entries[i].in_flight = true;
                self.entries[i].target.domain.clone()
            })
            .collect();
        let kind = match self.profile.approach {
            Approach::CheckThenCreate { .. } => AttemptKind::Check(names),
            Approach::BlindCreate => {
                AttemptKind::Create(names.into_iter().next().unwrap_or_default())
            }
        };
        attempts.push(Attempt {
            connection: c,
            kind,
            at: None,
        });
        batch.clear();
        true
    }

    /// Takes the registry's answer about `domain` (for a check, one call per name).
    pub fn observe(&mut self, domain: &str, observation: Observation, at: DateTime<Utc>) {
        let Some(&i) = self.by_name.get(&domain.to_ascii_lowercase()) else {
            return;
        };
        self.entries[i].in_flight = false;
        if let Some(c) = self.entries[i].timed_on.take() {
            self.timed_busy[c as usize] = false;
        }
        if self.entries[i].terminal.is_some() {
            return;
        }
        let dropped = matches!(
            observation,
            Observation::Available | Observation::Created | Observation::Taken
        );
        if dropped && self.profile.is_batch() && self.observed_start.is_none() {
            self.observed_start = Some(at);
        }
        let e = &mut self.entries[i];
        match observation {
            Observation::Created => e.terminal = Some(TargetState::Caught { at }),
            Observation::Taken => e.terminal = Some(TargetState::Taken { at }),
            Observation::Refused => e.terminal = Some(TargetState::Refused { at }),
            Observation::Available => e.available = true,
            Observation::NotYetDropped => e.available = false,
            Observation::Failed => {}
        }
    }

    /// Where `domain` stands.
    pub fn state(&self, domain: &str) -> Option<TargetState> {
        let e = &self.entries[*self.by_name.get(&domain.to_ascii_lowercase())?];
        Some(match e.terminal {
            Some(t) => t,
            None if e.in_flight || e.available => TargetState::Trying,
            None => TargetState::Waiting,
        })
    }

    /// Every name and where it stands.
    pub fn states(&self) -> Vec<(String, TargetState)> {
        self.entries
            .iter()
            .map(|e| {
                (
                    e.target.domain.clone(),
                    self.state(&e.target.domain).unwrap_or(TargetState::Waiting),
                )
            })
            .collect()
    }

    /// When a connection next has room: `None` when one has it whenever asked (it never sent),
    /// else the earliest of the connections' [`Scheduler::free_at`].
    fn room_at(&self) -> Option<DateTime<Utc>> {
        let mut free: Option<DateTime<Utc>> = None;
        for c in 0..self.sends.len() {
            let at = self.free_at(c)?;
            free = Some(free.map_or(at, |f| f.min(at)));
        }
        free
    }

    /// When `poll` next has work: a name's lead, a connection's rate freeing up while names
    /// wait, or a window's end. `None` when every name has its result.
    pub fn next_wake(&self) -> Option<DateTime<Utc>> {
        let mut wake: Option<DateTime<Utc>> = None;
        let mut earliest = |t: DateTime<Utc>| {
            wake = Some(wake.map_or(t, |w| w.min(t)));
        };
        let room_at = self.room_at();
        for e in &self.entries {
            if e.terminal.is_some() {
                continue;
            }
            let (start, end) = (self.start_of(e), self.end_of(e));
            if e.in_flight {
                // Its answer comes by observe(); its window's end still matters after it.
                earliest(end);
                continue;
            }
            // Before an exact instant a name goes only as a timed create, while a connection
            // is free for one; else at the instant.
            let start = if self.timed() && (e.timed || self.timed_busy.iter().all(|b| *b)) {
                start.max(e.expected)
            } else {
                start
            };
            earliest(match room_at {
                Some(free) => start.max(free),
                None => start,
            });
            earliest(end);
        }
        wake
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;
    use proptest::prelude::*;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 4, h, m, s).unwrap()
    }

    #[test]
    fn each_schedule_gives_its_expected_instant() {
        let nominal = at(10, 30, 0); // a Wednesday
        let p = |schedule| DropProfile::new(schedule, 1, 1, Approach::BlindCreate);
        let verisign = DropSchedule::DailyBatch {
            start_minute_utc: 19 * 60,
            window_minutes: 60,
        };
        assert_eq!(p(verisign).expected_instant(nominal), at(19, 0, 0));
        let se = DropSchedule::DailyRelease {
            from_minute_utc: 4 * 60,
        };
        assert_eq!(p(se).expected_instant(nominal), at(4, 0, 0));
        let cira = DropSchedule::Weekly {
            weekday: 3,
            start_minute_utc: 19 * 60,
        };
        assert_eq!(p(cira.clone()).expected_instant(nominal), at(19, 0, 0));
        let thursday = nominal + Duration::days(1);
        assert_eq!(
            p(cira).expected_instant(thursday),
            at(19, 0, 0) + Duration::days(7)
        );
        assert_eq!(
            p(DropSchedule::ExactInstant).expected_instant(nominal),
            nominal
        );
    }

    #[test]
    fn names_go_in_priority_order_and_checks_carry_several() {
        let drop = at(18, 0, 0);
        let targets = vec![
            Target::new("low.org", drop, 1, 10.into()),
            Target::new("top.org", drop, 5, 10.into()),
            Target::new("rich.org", drop, 1, 500.into()),
        ];
        let profile = DropProfile::new(
            DropSchedule::ExactInstant,
            1,
            10,
            Approach::CheckThenCreate { names_per_check: 2 },
        );
        let mut s = Scheduler::new(profile, targets);
        // One command at a time, a tenth of a second apart (10 a second).
        let t0 = drop - Duration::seconds(2);
        let kinds = |a: Vec<Attempt>| a.into_iter().map(|a| a.kind).collect::<Vec<_>>();
        assert_eq!(
            kinds(s.poll(t0)),
            vec![AttemptKind::Check(vec![
                "top.org".into(),
                "rich.org".into()
            ])]
        );
        assert!(s.poll(t0 + Duration::milliseconds(99)).is_empty());
        assert_eq!(s.next_wake(), Some(t0 + Duration::milliseconds(100)));
        assert_eq!(
            kinds(s.poll(t0 + Duration::milliseconds(100))),
            vec![AttemptKind::Check(vec!["low.org".into()])]
        );
        // A name found free is created at once, before any further check.
        let t = drop + Duration::milliseconds(10);
        s.observe("top.org", Observation::Available, t);
        s.observe("rich.org", Observation::NotYetDropped, t);
        s.observe("low.org", Observation::NotYetDropped, t);
        let next = s.poll(t);
        assert_eq!(next[0].kind, AttemptKind::Create("top.org".into()));
    }

    #[test]
    fn an_exact_instant_gets_one_timed_create_a_connection_and_nothing_earlier() {
        let drop = at(18, 0, 0);
        let targets = ["a.org", "b.org", "c.org"]
            .iter()
            .enumerate()
            .map(|(i, n)| Target::new(n, drop, 3 - i as u32, 10.into()))
            .collect();
        let mut profile =
            DropProfile::new(DropSchedule::ExactInstant, 2, 10, Approach::BlindCreate);
        profile.lead = Duration::milliseconds(300);
        let mut s = Scheduler::new(profile, targets);
        let t0 = drop - Duration::milliseconds(300);
        let first = s.poll(t0);
        let timed: Vec<(u32, AttemptKind, Option<DateTime<Utc>>)> = first
            .into_iter()
            .map(|a| (a.connection, a.kind, a.at))
            .collect();
        assert_eq!(
            timed,
            vec![
                (0, AttemptKind::Create("a.org".into()), Some(drop)),
                (1, AttemptKind::Create("b.org".into()), Some(drop)),
            ]
        );
        // c.org waits for the instant: no create before it, however much rate is left.
        assert!(s.poll(t0 + Duration::milliseconds(150)).is_empty());
        assert_eq!(s.next_wake(), Some(drop));
        let after = s.poll(drop);
        assert_eq!(after.len(), 1);
        assert_eq!(after[0].kind, AttemptKind::Create("c.org".into()));
        assert_eq!(after[0].at, None);
        // The timed ones answered: tried again untimed, as the rate allows.
        s.observe(
            "a.org",
            Observation::NotYetDropped,
            drop + Duration::milliseconds(1),
        );
        s.observe(
            "b.org",
            Observation::Created,
            drop + Duration::milliseconds(1),
        );
        let later = s.poll(drop + Duration::milliseconds(200));
        assert_eq!(
            later.iter().map(|a| (&a.kind, a.at)).collect::<Vec<_>>(),
            vec![(&AttemptKind::Create("a.org".into()), None)]
        );
    }

    #[test]
    fn a_batch_is_probed_until_its_first_drop_then_worked_at_full_rate() {
        let verisign = DropSchedule::DailyBatch {
            start_minute_utc: 19 * 60,
            window_minutes: 30,
        };
        let mut profile = DropProfile::new(verisign, 1, 10, Approach::BlindCreate);
        profile.lead = Duration::seconds(60);
        let names: Vec<Target> = (0..50)
            .map(|i| Target::new(&format!("n{i}.com"), at(12, 0, 0), 1, 1.into()))
            .collect();
        let mut s = Scheduler::new(profile, names);
        let t0 = at(18, 59, 0);
        // Probing: 2 commands a second (a fifth of 10), half a second apart.
        let mut probe = s.poll(t0);
        assert_eq!(probe.len(), 1);
        assert!(s.poll(t0 + Duration::milliseconds(499)).is_empty());
        probe.extend(s.poll(t0 + Duration::milliseconds(500)));
        assert_eq!(probe.len(), 2);
        for a in &probe {
            let AttemptKind::Create(n) = &a.kind else {
                panic!()
            };
            s.observe(
                n,
                Observation::NotYetDropped,
                t0 + Duration::milliseconds(20),
            );
        }
        assert!(s.poll(t0 + Duration::milliseconds(600)).is_empty());
        assert_eq!(s.next_wake(), Some(t0 + Duration::seconds(1)));
        // The batch starts late, at 19:07; the first drop seen sets it.
        let seen = at(19, 7, 0);
        let a = s.poll(seen);
        let AttemptKind::Create(n) = &a[0].kind else {
            panic!()
        };
        s.observe(n, Observation::Created, seen + Duration::milliseconds(5));
        assert_eq!(s.observed_start(), Some(seen + Duration::milliseconds(5)));
        // Then 10 a second, spread: one every tenth of a second.
        let full: usize = (0..20)
            .map(|k| {
                s.poll(seen + Duration::seconds(2) + Duration::milliseconds(50 * k))
                    .len()
            })
            .sum();
        assert_eq!(full, 10);
        // The window follows the observed start: still trying past 19:00 + 30 min + 60 s.
        assert!(!s.poll(at(19, 31, 30)).is_empty());
    }

    /// What a simulated run gives: every attempt with its time, the scheduler at the end, and
    /// when the registry first gave each name's terminal answer.
    type Run = (
        Vec<(DateTime<Utc>, Attempt)>,
        Scheduler,
        HashMap<String, DateTime<Utc>>,
    );

    /// A simulated registry for the property: each name truly drops at some moment around its
    /// expected instant (maybe never), and maybe a competitor takes it a little after.
    fn run(profile: DropProfile, targets: Vec<Target>, seed: u64) -> Run {
        let mut rng = SplitMix64::new(seed);
        let mut truth = HashMap::new();
        for t in &targets {
            let expected = profile.expected_instant(t.nominal_drop);
            let drop = if rng.chance(100) {
                None
            } else {
                Some(expected + Duration::milliseconds(rng.below(90_000) as i64 - 10_000))
            };
            let taken = rng
                .chance(300)
                .then(|| Duration::milliseconds(rng.below(2_000) as i64));
            truth.insert(t.domain.to_ascii_lowercase(), (drop, taken));
        }
        let mut s = Scheduler::new(profile, targets);
        let mut log = Vec::new();
        let mut pending: Vec<(DateTime<Utc>, String, Observation)> = Vec::new();
        // When each name's first terminal answer (created or taken) was handed over.
        let mut ended: HashMap<String, DateTime<Utc>> = HashMap::new();
        let mut now = match s.next_wake() {
            Some(t) => t,
            None => return (log, s, ended),
        };
        for _ in 0..200_000 {
            pending.sort_by_key(|p| p.0);
            while pending.first().is_some_and(|p| p.0 <= now) {
                let (t, name, o) = pending.remove(0);
                if matches!(o, Observation::Created | Observation::Taken) {
                    ended.entry(name.to_ascii_lowercase()).or_insert(t);
                }
                s.observe(&name, o, t);
            }
            for attempt in s.poll(now) {
                let latency = Duration::milliseconds(1 + rng.below(40) as i64);
                let answer_at = now + latency;
                let names = match &attempt.kind {
                    AttemptKind::Check(ns) => ns.clone(),
                    AttemptKind::Create(n) => vec![n.clone()],
                };
                for n in names {
                    let (drop, taken) = truth[&n.to_ascii_lowercase()];
                    let o = match drop {
                        Some(d) if now >= d => match taken {
                            Some(lag) if now >= d + lag => Observation::Taken,
                            _ if matches!(attempt.kind, AttemptKind::Check(_)) => {
                                Observation::Available
                            }
                            _ => Observation::Created,
                        },
                        _ if rng.chance(20) => Observation::Failed,
                        _ => Observation::NotYetDropped,
                    };
                    pending.push((answer_at, n, o));
                }
                log.push((now, attempt));
            }
            let next = [s.next_wake(), pending.iter().map(|p| p.0).min()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(t) if t > now => now = t,
                Some(_) => now += Duration::milliseconds(1),
                None => break,
            }
        }
        (log, s, ended)
    }

    fn profiles() -> impl Strategy<Value = DropProfile> {
        (
            prop_oneof![
                Just(DropSchedule::ExactInstant),
                Just(DropSchedule::DailyBatch {
                    start_minute_utc: 19 * 60,
                    window_minutes: 2
                }),
                Just(DropSchedule::DailyRelease {
                    from_minute_utc: 4 * 60
                }),
                Just(DropSchedule::Weekly {
                    weekday: 3,
                    start_minute_utc: 19 * 60
                }),
            ],
            1u32..4,
            1u32..25,
            prop_oneof![
                Just(Approach::BlindCreate),
                (1u32..6).prop_map(|n| Approach::CheckThenCreate { names_per_check: n }),
            ],
            0i64..5_000,
            1i64..120,
            0u32..1000,
        )
            .prop_map(
                |(schedule, connections, cps, approach, lead_ms, window_s, probe)| {
                    let mut p = DropProfile::new(schedule, connections, cps, approach);
                    p.lead = Duration::milliseconds(lead_ms);
                    p.window = Duration::seconds(window_s);
                    p.probe_permille = probe;
                    p
                },
            )
    }

    fn targets() -> impl Strategy<Value = Vec<Target>> {
        proptest::collection::vec((0u32..40, 0i64..7_200, 1u32..5, 0i64..1000), 1..25).prop_map(
            |v| {
                v.into_iter()
                    .map(|(n, offset, count, value)| {
                        Target::new(
                            &format!("name{n}.com"),
                            at(18, 0, 0) + Duration::seconds(offset),
                            count,
                            value.into(),
                        )
                    })
                    .collect()
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn never_over_the_rate_never_before_the_lead_never_after_the_end(
            profile in profiles(),
            targets in targets(),
            seed in any::<u64>(),
        ) {
            let (log, s, ended) = run(profile.clone(), targets, seed);
            // Rate: at most `commands_per_second` sends on a connection in any one second.
            let mut by_connection: HashMap<u32, Vec<DateTime<Utc>>> = HashMap::new();
            for (t, a) in &log {
                prop_assert!(a.connection < profile.connections);
                by_connection.entry(a.connection).or_default().push(*t);
            }
            for times in by_connection.values() {
                for (i, t) in times.iter().enumerate() {
                    let within = times[i..].iter().take_while(|u| **u < *t + Duration::seconds(1)).count();
                    prop_assert!(within <= profile.commands_per_second as usize, "{} sends within a second", within);
                }
            }
            // Lead, and terminal results as the registry gave them.
            for (t, a) in &log {
                let names = match &a.kind {
                    AttemptKind::Check(ns) => ns.clone(),
                    AttemptKind::Create(n) => vec![n.clone()],
                };
                prop_assert!(!names.is_empty());
                for n in names {
                    let e = &s.entries[s.by_name[&n.to_ascii_lowercase()]];
                    prop_assert!(*t >= e.expected - profile.lead, "{n} tried at {t} before its lead");
                    if let Some(end) = ended.get(&n.to_ascii_lowercase()) {
                        prop_assert!(*t < *end, "{n} tried at {t} after its result at {end}");
                    }
                }
            }
            // Every name ends with a result or its window over, and a name the registry gave
            // us is ours.
            prop_assert!(s.states().iter().all(|(_, st)| st.is_terminal()), "{:?}", s.states());
            for (name, state) in s.states() {
                if ended.contains_key(&name.to_ascii_lowercase()) {
                    prop_assert!(matches!(state, TargetState::Caught { .. } | TargetState::Taken { .. }), "{name}: {state:?}");
                }
            }
        }
    }
}
