//! A pool of EPP sessions with one registry: as many logged-in sessions as the registry allows a
//! registrar, each reconnected with exponential back-off when it breaks, kept alive with
//! `<hello>` when idle.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, MutexGuard};

use super::client::{Session, SessionConfig, SessionError};

/// Back-off between reconnection attempts: doubling from `first` up to `max`.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    /// The first wait.
    pub first: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            first: Duration::from_millis(100),
            max: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The wait before attempt `n` (0 for the first).
    pub fn wait(&self, n: u32) -> Duration {
        if n == 0 {
            return Duration::ZERO;
        }
        self.first
            .saturating_mul(1u32 << (n - 1).min(20))
            .min(self.max)
    }
}

/// One slot of the pool.
pub struct Slot {
    session: Option<Session>,
    failures: u32,
    retry_at: Option<Instant>,
    last_used: Instant,
}

/// A logged-in session borrowed from the pool.
pub struct Lease<'a> {
    slot: MutexGuard<'a, Slot>,
}

impl Lease<'_> {
    /// The session.
    pub fn session(&mut self) -> &mut Session {
        self.slot.session.as_mut().expect("a lease holds a session")
    }

    /// Marks the session broken: it is dropped and the slot reconnects when next leased.
    pub fn broken(mut self) {
        self.slot.session = None;
        self.slot.failures += 1;
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        self.slot.last_used = Instant::now();
    }
}

/// Sessions with one registry.
pub struct SessionPool {
    config: SessionConfig,
    slots: Vec<Mutex<Slot>>,
    next: AtomicUsize,
    backoff: Backoff,
}

impl SessionPool {
    /// A pool of `size` sessions (none open until first leased or [`SessionPool::open_all`]).
    pub fn new(config: SessionConfig, size: usize, backoff: Backoff) -> SessionPool {
        let slots = (0..size.max(1))
            .map(|_| {
                Mutex::new(Slot {
                    session: None,
                    failures: 0,
                    retry_at: None,
                    last_used: Instant::now(),
                })
            })
            .collect();
        SessionPool {
            config,
            slots,
            next: AtomicUsize::new(0),
            backoff,
        }
    }

    /// How many sessions it holds at most.
    pub fn size(&self) -> usize {
        self.slots.len()
    }

    /// Opens every session now (before a drop, so no connection is made at the instant).
    pub async fn open_all(&self) -> Result<(), SessionError> {
        for i in 0..self.slots.len() {
            let slot = self.slots[i].lock().await;
            drop(self.ready(slot).await?);
        }
        Ok(())
    }

    /// A logged-in session: the next free slot in turn (waiting for one when all are busy),
    /// connected first if it is not, after its back-off.
    pub async fn lease(&self) -> Result<Lease<'_>, SessionError> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let n = self.slots.len();
        for k in 0..n {
            if let Ok(slot) = self.slots[(start + k) % n].try_lock() {
                return self.ready(slot).await;
            }
        }
        let slot = self.slots[start % n].lock().await;
        self.ready(slot).await
    }

    /// Lease `index` itself (the scheduler spreads attempts over sessions by index).
    pub async fn lease_slot(&self, index: usize) -> Result<Lease<'_>, SessionError> {
        let slot = self.slots[index % self.slots.len()].lock().await;
        self.ready(slot).await
    }

    async fn ready<'a>(&self, mut slot: MutexGuard<'a, Slot>) -> Result<Lease<'a>, SessionError> {
        if slot.session.is_none() {
            if let Some(at) = slot.retry_at {
                tokio::time::sleep_until(at.into()).await;
            }
            match Session::connect(&self.config).await {
                Ok(s) => {
                    slot.session = Some(s);
                    slot.failures = 0;
                    slot.retry_at = None;
                }
                Err(e) => {
                    slot.failures += 1;
                    slot.retry_at = Some(Instant::now() + self.backoff.wait(slot.failures));
                    return Err(e);
                }
            }
        }
        Ok(Lease { slot })
    }

    /// Sends `<hello>` on every open session idle for `idle` or longer (free ones only); a
    /// session that fails it is dropped, to reconnect when next leased. Returns how many were
    /// kept alive.
    pub async fn keep_alive(&self, idle: Duration) -> usize {
        let mut kept = 0;
        for slot in &self.slots {
            let Ok(mut slot) = slot.try_lock() else {
                continue;
            };
            if slot.last_used.elapsed() < idle {
                continue;
            }
            let Some(session) = slot.session.as_mut() else {
                continue;
            };
            if session.hello().await.is_ok() {
                kept += 1;
                slot.last_used = Instant::now();
            } else {
                slot.session = None;
            }
        }
        kept
    }

    /// Logs every open session out.
    pub async fn close(&self) {
        for slot in &self.slots {
            if let Some(session) = slot.lock().await.session.take() {
                let _ = session.logout().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_up_to_its_ceiling() {
        let b = Backoff::default();
        let waits: Vec<u64> = (0..12).map(|n| b.wait(n).as_millis() as u64).collect();
        assert_eq!(
            waits,
            [0, 100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]
        );
        assert_eq!(b.wait(u32::MAX), b.max);
    }
}
