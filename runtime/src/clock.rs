//! Where the engine's time comes from: the system clock by default, a manual clock in tests and
//! simulations. The core never reads a clock; the engine reads this one and hands the time down.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

/// The operating system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told; clones share the same time.
///
/// ```
/// use backorder::{Clock, ManualClock};
/// use chrono::{Duration, TimeZone, Utc};
/// let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
/// let handle = clock.clone();
/// handle.advance(Duration::hours(3));
/// assert_eq!(clock.now(), Utc.with_ymd_and_hms(2026, 1, 1, 3, 0, 0).unwrap());
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        ManualClock(Arc::new(Mutex::new(start)))
    }

    /// Sets the time (it may go backwards: tests of clock jumps need that).
    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = t;
    }

    /// Moves the time forward by `d`.
    pub fn advance(&self, d: Duration) {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *g += d;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The system clock shifted by an offset that can be moved: real time flows (timers and sockets
/// are real), yet days between drops can be skipped. Clones share the offset.
///
/// ```
/// use backorder::{Clock, OffsetClock};
/// use chrono::{Duration, TimeZone, Utc};
/// let drop = Utc.with_ymd_and_hms(2030, 1, 1, 19, 0, 0).unwrap();
/// let clock = OffsetClock::at(drop - Duration::seconds(5));
/// let now = clock.now();
/// assert!(now >= drop - Duration::seconds(5) && now < drop);
/// ```
#[derive(Clone, Debug)]
pub struct OffsetClock(Arc<Mutex<Duration>>);

impl OffsetClock {
    /// A clock reading `t` now and flowing from there.
    pub fn at(t: DateTime<Utc>) -> OffsetClock {
        OffsetClock(Arc::new(Mutex::new(t - Utc::now())))
    }

    /// Jumps so that it reads `t` now (forward only: an earlier `t` is ignored, time never goes
    /// back).
    pub fn jump_to(&self, t: DateTime<Utc>) {
        let mut offset = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let now = Utc::now();
        if t > now + *offset {
            *offset = t - now;
        }
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
