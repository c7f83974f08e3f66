//! Sessions from `StartSession`: a random id stands for a login until it sits idle too long, lives
//! too long, or `EndSession` ends it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use backorder_core::{Error, Result, Secret};

/// The most sessions one login holds; starting another ends its least recently used.
pub const MAX_SESSIONS_PER_LOGIN: usize = 64;
/// The most sessions in all; past it, expired ones are swept, and if none are, starting one is
/// refused (try again).
pub const MAX_SESSIONS: usize = 100_000;
/// Characters in a session id (letters and digits, as HEXONET's).
pub const SESSION_ID_CHARS: usize = 64;

#[derive(Clone, Debug)]
struct Session {
    login: String,
    started: Instant,
    last_used: Instant,
    idle: Duration,
    max: Duration,
}

impl Session {
    fn alive(&self, now: Instant) -> bool {
        now.duration_since(self.last_used) < self.idle
            && now.duration_since(self.started) < self.max
    }
}

/// The live sessions.
#[derive(Debug, Default)]
pub struct Sessions {
    live: Mutex<HashMap<String, Session>>,
}

fn new_id() -> Result<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; SESSION_ID_CHARS];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| Error::Internal(format!("no randomness for a session id: {e}")))?;
    // 256 = 4 × 62 + 8: rejecting the top 8 values keeps every character equally likely.
    let mut id = String::with_capacity(SESSION_ID_CHARS);
    let mut extra = [0u8; 1];
    for b in bytes {
        let mut b = b;
        while b >= 248 {
            getrandom::getrandom(&mut extra)
                .map_err(|e| Error::Internal(format!("no randomness for a session id: {e}")))?;
            b = extra[0];
        }
        id.push(ALPHABET[(b % 62) as usize] as char);
    }
    Ok(id)
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a session for `login`.
    pub fn start(&self, login: &str, idle: Duration, max: Duration) -> Result<Secret> {
        let now = Instant::now();
        let id = new_id()?;
        let mut live = self.lock();
        if live.len() >= MAX_SESSIONS {
            live.retain(|_, s| s.alive(now));
            if live.len() >= MAX_SESSIONS {
                return Err(Error::Store("too many sessions; try again later".into()));
            }
        }
        let mine: Vec<(&String, Instant)> = live
            .iter()
            .filter(|(_, s)| s.login == login)
            .map(|(k, s)| (k, s.last_used))
            .collect();
        if mine.len() >= MAX_SESSIONS_PER_LOGIN {
            if let Some(oldest) = mine
                .iter()
                .min_by_key(|(_, t)| *t)
                .map(|(k, _)| (*k).clone())
            {
                live.remove(&oldest);
            }
        }
        live.insert(
            id.clone(),
            Session {
                login: login.to_string(),
                started: now,
                last_used: now,
                idle,
                max,
            },
        );
        Ok(Secret::new(id))
    }

    /// The login a live session stands for, marking it used; `None` for an unknown or expired
    /// one (which is forgotten).
    pub fn login(&self, id: &Secret) -> Option<String> {
        let now = Instant::now();
        let mut live = self.lock();
        let s = live.get_mut(id.expose())?;
        if !s.alive(now) {
            live.remove(id.expose());
            return None;
        }
        s.last_used = now;
        Some(s.login.clone())
    }

    /// Ends a session; false when it was not live.
    pub fn end(&self, id: &Secret) -> bool {
        self.lock().remove(id.expose()).is_some()
    }

    /// Live sessions (expired ones not yet swept included).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// No sessions.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_long_random_and_alphanumeric() {
        let a = new_id().unwrap();
        let b = new_id().unwrap();
        assert_eq!(a.len(), SESSION_ID_CHARS);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn sessions_end_when_ended_or_idle() {
        let s = Sessions::default();
        let long = Duration::from_secs(600);
        let id = s.start("ann", long, long).unwrap();
        assert_eq!(s.login(&id).as_deref(), Some("ann"));
        assert!(s.end(&id));
        assert_eq!(s.login(&id), None);
        assert!(!s.end(&id));
        let short = s.start("ann", Duration::ZERO, long).unwrap();
        assert_eq!(s.login(&short), None);
    }

    #[test]
    fn a_login_holds_at_most_its_share() {
        let s = Sessions::default();
        let long = Duration::from_secs(600);
        let ids: Vec<Secret> = (0..=MAX_SESSIONS_PER_LOGIN)
            .map(|_| s.start("ann", long, long).unwrap())
            .collect();
        s.start("bob", long, long).unwrap();
        assert_eq!(s.len(), MAX_SESSIONS_PER_LOGIN + 1);
        let live = ids.iter().filter(|id| s.login(id).is_some()).count();
        assert_eq!(live, MAX_SESSIONS_PER_LOGIN);
    }
}
