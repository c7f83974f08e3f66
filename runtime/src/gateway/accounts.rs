//! The gateway's logins: read from a TOML accounts file at start, passwords kept only as argon2
//! hashes, checked in constant time.
//!
//! ```toml
//! [[account]]
//! login = "reseller"
//! password = "correct horse"      # or an argon2 PHC string: "$argon2id$v=19$..."
//! balance = "500.00"              # a string or a whole number, never a float
//! currency = "USD"
//!
//! [[account]]
//! login = "shop.reseller"
//! password = "battery staple"
//! balance = 0
//! currency = "USD"
//! parent = "reseller"             # a sub-user: `s_user=shop.reseller` works for `reseller`
//! contacts = { owner = "P-SHOP1", admin = "P-SHOP1", tech = "P-SHOP1", billing = "P-SHOP1" }
//! ```

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use backorder_core::{check_account_id, Contacts, Currency, Error, Result, Secret};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::{Engine, NewAccount};

/// The cost of hashing a password: argon2id's memory (KiB), passes and lanes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over it.
    pub passes: u32,
    /// Lanes.
    pub lanes: u32,
}

impl HashCost {
    /// OWASP's argon2id minimum: 19 MiB, 2 passes, 1 lane (tens of milliseconds a check).
    pub const DEFAULT: HashCost = HashCost {
        memory_kib: 19 * 1024,
        passes: 2,
        lanes: 1,
    };

    /// A cheap cost for tests only: the same algorithm, a fraction of the work.
    pub const TESTING: HashCost = HashCost {
        memory_kib: 256,
        passes: 1,
        lanes: 1,
    };

    fn hasher(self) -> Result<Argon2<'static>> {
        let params = Params::new(self.memory_kib, self.passes, self.lanes, None)
            .map_err(|e| Error::InvalidArgument(format!("argon2 cost: {e}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// One `[[account]]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    login: String,
    password: String,
    balance: toml::Value,
    currency: String,
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    contacts: Option<ContactsEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactsEntry {
    owner: Option<String>,
    admin: Option<String>,
    tech: Option<String>,
    billing: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    account: Vec<Entry>,
}

/// An account as the gateway keeps it: no password, only its hash.
#[derive(Clone, Debug)]
pub struct GatewayAccount {
    /// The login, which is also the engine's account id.
    pub login: String,
    /// The argon2 PHC string.
    hash: String,
    /// The login it is a sub-user of.
    pub parent: Option<String>,
    /// The opening balance (funded once, when the engine first sees the account).
    pub balance: Decimal,
    /// The balance's currency.
    pub currency: Currency,
    /// Default contact handles, when the file gives them.
    pub contacts: Option<Contacts>,
}

/// What a password check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The login exists and the password is its.
    Granted,
    /// Wrong password or unknown login (indistinguishable on purpose).
    Denied,
    /// As many checks as there are cores were running for longer than a client should wait,
    /// or too many were waiting already; try again (`421`). Each check holds its hash's memory
    /// (19 MiB by default), so they are never allowed to pile up.
    Busy,
}

/// Every login, hashed. Built once at start.
pub struct Accounts {
    by_login: HashMap<String, GatewayAccount>,
    /// Checked when the login is unknown, so an unknown login costs what a known one does.
    decoy: String,
    cost: HashCost,
    /// Password checks: at most one a core runs at once; a few more wait their turn.
    checks: Limiter,
}

/// A counting gate: at most `running` holders at once, at most `waiting` more queued, each for
/// at most `patience`.
struct Limiter {
    state: Mutex<(usize, usize)>,
    freed: Condvar,
    running: usize,
    waiting: usize,
    patience: Duration,
}

/// A place in the limiter, given back however the check ends.
struct Permit<'a>(&'a Limiter);

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut state = self.0.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0 -= 1;
        drop(state);
        self.0.freed.notify_one();
    }
}

impl Limiter {
    fn new(running: usize) -> Limiter {
        Limiter {
            state: Mutex::new((0, 0)),
            freed: Condvar::new(),
            running,
            waiting: running * 16,
            patience: Duration::from_secs(2),
        }
    }

    fn enter(&self) -> Option<Permit<'_>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.0 < self.running {
            state.0 += 1;
            return Some(Permit(self));
        }
        if state.1 >= self.waiting {
            return None;
        }
        state.1 += 1;
        let deadline = Instant::now() + self.patience;
        let mut admitted = false;
        loop {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            state = self
                .freed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            if state.0 < self.running {
                state.0 += 1;
                admitted = true;
                break;
            }
        }
        state.1 -= 1;
        drop(state);
        // Not `then_some`: a Permit made and dropped on refusal would give back a place it
        // never had.
        if admitted {
            Some(Permit(self))
        } else {
            None
        }
    }
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts")
            .field("logins", &self.by_login.len())
            .finish_non_exhaustive()
    }
}

fn file_error(what: impl std::fmt::Display) -> Error {
    Error::InvalidArgument(format!("accounts file: {what}"))
}

impl Accounts {
    /// Reads an accounts file (see the module documentation), hashing every password at `cost`.
    pub fn load(path: &Path, cost: HashCost) -> Result<Accounts> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| file_error(format!("cannot read {}: {e}", path.display())))?;
        Accounts::parse(&text, cost)
    }

    /// As [`Accounts::load`], from the file's text. Errors name the account and field, never a
    /// password.
    pub fn parse(text: &str, cost: HashCost) -> Result<Accounts> {
        // toml's own messages quote the offending line, which may hold a password: keep only
        // where it is.
        let file: File = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let line = text[..s.start.min(text.len())].lines().count().max(1);
                    format!(" at line {line}")
                })
                .unwrap_or_default();
            file_error(format!("not a valid accounts file{at}"))
        })?;
        let hasher = cost.hasher()?;
        let mut by_login = HashMap::new();
        for (i, e) in file.account.into_iter().enumerate() {
            let which = format!("account {} ('{}')", i + 1, e.login.escape_debug());
            check_account_id(&e.login).map_err(|err| file_error(format!("{which}: {err}")))?;
            let currency: Currency = e
                .currency
                .parse()
                .map_err(|err| file_error(format!("{which}: {err}")))?;
            let balance = match &e.balance {
                toml::Value::String(s) => s.parse::<Decimal>().ok(),
                toml::Value::Integer(n) => Some(Decimal::from(*n)),
                _ => None,
            }
            .filter(|b| *b >= Decimal::ZERO)
            .ok_or_else(|| {
                file_error(format!(
                    "{which}: balance must be a non-negative decimal written as a string (\"500.00\") or a whole number"
                ))
            })?;
            let contacts = e.contacts.map(|c| Contacts {
                owner: c.owner.map(Into::into),
                admin: c.admin.map(Into::into),
                tech: c.tech.map(Into::into),
                billing: c.billing.map(Into::into),
            });
            if let Some(c) = &contacts {
                c.validate()
                    .map_err(|err| file_error(format!("{which}: {err}")))?;
            }
            if e.password.is_empty() {
                return Err(file_error(format!("{which}: the password is empty")));
            }
            let hash = if e.password.starts_with("$argon2") {
                let parsed = PasswordHash::new(&e.password)
                    .map_err(|_| file_error(format!("{which}: not a valid argon2 hash")))?;
                // Every hash must cost what the decoy costs, or a login's existence shows in the
                // time a wrong password takes.
                let same_cost = parsed.algorithm.as_str() == "argon2id"
                    && Params::try_from(&parsed).is_ok_and(|p| {
                        (p.m_cost(), p.t_cost(), p.p_cost())
                            == (cost.memory_kib, cost.passes, cost.lanes)
                    });
                if !same_cost {
                    return Err(file_error(format!(
                        "{which}: a pre-hashed password must be argon2id with m={},t={},p={}",
                        cost.memory_kib, cost.passes, cost.lanes
                    )));
                }
                e.password
            } else {
                let salt = SaltString::generate(&mut OsRng);
                hasher
                    .hash_password(e.password.as_bytes(), &salt)
                    .map_err(|err| file_error(format!("{which}: hashing failed: {err}")))?
                    .to_string()
            };
            let account = GatewayAccount {
                login: e.login.clone(),
                hash,
                parent: e.parent,
                balance,
                currency,
                contacts,
            };
            if by_login.insert(e.login.clone(), account).is_some() {
                return Err(file_error(format!("{which}: the login appears twice")));
            }
        }
        for a in by_login.values() {
            if let Some(p) = &a.parent {
                if !by_login.contains_key(p) {
                    return Err(file_error(format!(
                        "account '{}': parent '{}' is not in the file",
                        a.login, p
                    )));
                }
            }
        }
        let accounts = Accounts {
            decoy: hasher
                .hash_password(b"no such login", &SaltString::generate(&mut OsRng))
                .map_err(|e| file_error(format!("hashing failed: {e}")))?
                .to_string(),
            by_login,
            cost,
            checks: Limiter::new(std::thread::available_parallelism().map_or(2, |n| n.get())),
        };
        for login in accounts.by_login.keys() {
            if accounts.ancestors(login).any(|a| a == login) {
                return Err(file_error(format!(
                    "account '{login}' is its own parent (a cycle)"
                )));
            }
        }
        Ok(accounts)
    }

    /// How many logins.
    pub fn len(&self) -> usize {
        self.by_login.len()
    }

    /// No logins.
    pub fn is_empty(&self) -> bool {
        self.by_login.is_empty()
    }

    /// Every account, in login order.
    pub fn iter(&self) -> impl Iterator<Item = &GatewayAccount> {
        let mut v: Vec<&GatewayAccount> = self.by_login.values().collect();
        v.sort_by(|a, b| a.login.cmp(&b.login));
        v.into_iter()
    }

    /// Whether `login` exists and `password` is its password. An unknown login takes the time a
    /// wrong password does (the hash is checked against a decoy of the same cost). At most one
    /// check a core runs at once; up to sixteen a core more wait up to two seconds for their
    /// turn; past that a check is told to try again.
    pub fn verify(&self, login: &str, password: &Secret) -> Verdict {
        let Some(_permit) = self.checks.enter() else {
            return Verdict::Busy;
        };
        let (hash, known) = match self.by_login.get(login) {
            Some(a) => (a.hash.as_str(), true),
            None => (self.decoy.as_str(), false),
        };
        let (Ok(parsed), Ok(hasher)) = (PasswordHash::new(hash), self.cost.hasher()) else {
            return Verdict::Denied;
        };
        // The verifier reads the cost from the hash itself and compares in constant time.
        let ok = hasher
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok();
        if ok && known {
            Verdict::Granted
        } else {
            Verdict::Denied
        }
    }

    /// The logins above `login`, its parent first.
    fn ancestors<'a>(&'a self, login: &str) -> impl Iterator<Item = &'a str> + 'a {
        let mut next = self.by_login.get(login).and_then(|a| a.parent.as_deref());
        let mut steps = 0;
        std::iter::from_fn(move || {
            let current = next?;
            steps += 1;
            if steps > self.by_login.len() {
                return None; // a cycle; `parse` refuses those
            }
            next = self.by_login.get(current).and_then(|a| a.parent.as_deref());
            Some(current)
        })
    }

    /// True when `user` is `login`'s sub-user, directly or through other sub-users.
    pub fn is_sub_user(&self, login: &str, user: &str) -> bool {
        self.ancestors(user).any(|a| a == login)
    }

    /// `login`'s sub-users at every depth, in login order.
    pub fn sub_users(&self, login: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .by_login
            .keys()
            .filter(|u| self.is_sub_user(login, u))
            .cloned()
            .collect();
        v.sort();
        v
    }

    /// Opens in the engine every account it does not have yet, and funds each with the file's
    /// balance once: the top-up's key is fixed, so neither a restart nor a crash between opening
    /// and funding ever funds it twice or not at all (a balance changed in the file later is
    /// not funded again: the store's balance is the truth). Sets the contacts the file gives.
    /// An existing account in another currency is an error.
    pub fn provision(&self, engine: &Engine) -> Result<()> {
        for a in self.iter() {
            match engine.account(&a.login) {
                Ok(existing) => {
                    if existing.currency != a.currency {
                        return Err(file_error(format!(
                            "account '{}' is in {} in the store, {} in the file",
                            a.login, existing.currency, a.currency
                        )));
                    }
                    if let Some(c) = &a.contacts {
                        if existing.contacts != *c {
                            engine.set_contacts(&a.login, c.clone())?;
                        }
                    }
                }
                Err(Error::AccountNotFound(_)) => {
                    engine.create_account(NewAccount {
                        id: a.login.clone(),
                        currency: a.currency,
                        contacts: a.contacts.clone().unwrap_or_default(),
                    })?;
                }
                Err(e) => return Err(e),
            }
            if a.balance > Decimal::ZERO {
                match engine.fund(&a.login, a.balance, OPENING_BALANCE_KEY) {
                    // Funded before with another amount: the file changed since.
                    Ok(_) | Err(Error::IdempotencyConflict(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }
}

/// The idempotency key of the opening balance's top-up.
pub const OPENING_BALANCE_KEY: &str = "accounts-file:opening-balance";

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
[[account]]
login = "reseller"
password = "correct horse"
balance = "500.00"
currency = "USD"

[[account]]
login = "shop"
password = "battery"
balance = 0
currency = "USD"
parent = "reseller"
contacts = { owner = "P-SHOP1", admin = "P-SHOP1", tech = "P-SHOP1", billing = "P-SHOP1" }

[[account]]
login = "kiosk"
password = "staple"
balance = 0
currency = "USD"
parent = "shop"
"#;

    #[test]
    fn passwords_are_hashed_and_checked() {
        let a = Accounts::parse(FILE, HashCost::TESTING).unwrap();
        let check = |login: &str, pw: &str| a.verify(login, &Secret::new(pw.into()));
        assert_eq!(check("reseller", "correct horse"), Verdict::Granted);
        assert_eq!(check("reseller", "correct horse "), Verdict::Denied);
        assert_eq!(check("nobody", "correct horse"), Verdict::Denied);
        assert_eq!(*a.checks.state.lock().unwrap(), (0, 0));
        assert!(a
            .by_login
            .values()
            .all(|x| x.hash.starts_with("$argon2id$")));
        assert!(!format!("{a:?}").contains("horse"));
    }

    #[test]
    fn sub_users_are_found_at_every_depth() {
        let a = Accounts::parse(FILE, HashCost::TESTING).unwrap();
        assert!(a.is_sub_user("reseller", "shop"));
        assert!(a.is_sub_user("reseller", "kiosk"));
        assert!(!a.is_sub_user("shop", "reseller"));
        assert!(!a.is_sub_user("kiosk", "kiosk"));
        assert_eq!(a.sub_users("reseller"), ["kiosk", "shop"]);
    }

    #[test]
    fn bad_files_are_refused_without_echoing_passwords() {
        for (text, needle) in [
            (
                "[[account]]\nlogin='a'\npassword='hunter2'\nbalance=1.5\ncurrency='USD'",
                "balance",
            ),
            (
                "[[account]]\nlogin='a'\npassword='hunter2'\nbalance=1\ncurrency='dollars'",
                "currency",
            ),
            (
                "[[account]]\nlogin='a'\npassword='hunter2'\nbalance=1\ncurrency='USD'\nparent='b'",
                "parent",
            ),
            (
                "[[account]]\nlogin='a'\npassword='hunter2'\nbalance=1\ncurrency='USD'\nparent='b'\n[[account]]\nlogin='b'\npassword='x'\nbalance=1\ncurrency='USD'\nparent='a'",
                "cycle",
            ),
            ("[[account]]\nlogin='a'\npassword='hunter2' oops", "line"),
            (
                "[[account]]\nlogin='a'\npassword='hunter2'\nbalance=1\ncurrency='USD'\nsecret=1",
                "line",
            ),
        ] {
            let e = Accounts::parse(text, HashCost::TESTING).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
            assert!(!e.contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn the_opening_balance_is_funded_once_even_after_a_crash_between_opening_and_funding() {
        let a = Accounts::parse(FILE, HashCost::TESTING).unwrap();
        let engine = Engine::open("memory:").unwrap();
        // As if a first start crashed after opening the account and before funding it.
        engine
            .create_account(NewAccount {
                id: "reseller".into(),
                currency: Currency::USD,
                contacts: Contacts::default(),
            })
            .unwrap();
        a.provision(&engine).unwrap();
        a.provision(&engine).unwrap();
        assert_eq!(
            engine.balance("reseller").unwrap().balance,
            Decimal::from(500)
        );
        // The file's balance changed later: the store's stays the truth.
        let changed =
            Accounts::parse(&FILE.replace("\"500.00\"", "\"900\""), HashCost::TESTING).unwrap();
        changed.provision(&engine).unwrap();
        assert_eq!(
            engine.balance("reseller").unwrap().balance,
            Decimal::from(500)
        );
    }

    #[test]
    fn a_prehashed_password_is_kept() {
        let hasher = HashCost::TESTING.hasher().unwrap();
        let hash = hasher
            .hash_password(b"pw", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        let text = format!("[[account]]\nlogin='a'\npassword='{hash}'\nbalance=0\ncurrency='EUR'");
        let a = Accounts::parse(&text, HashCost::TESTING).unwrap();
        assert_eq!(a.verify("a", &Secret::new("pw".into())), Verdict::Granted);
        // A hash of another cost would make the login's existence measurable: refused.
        let e = Accounts::parse(&text, HashCost::DEFAULT)
            .unwrap_err()
            .to_string();
        assert!(e.contains("argon2id with m=19456"), "{e}");
    }

    #[test]
    fn checks_past_the_core_count_wait_their_turn_and_the_queue_is_bounded() {
        let gate = Limiter {
            patience: Duration::from_millis(50),
            ..Limiter::new(1)
        };
        let first = gate.enter().expect("a free place");
        // Full: a waiter gives up after its patience.
        assert!(gate.enter().is_none());
        // Freed while waiting: the waiter gets in.
        std::thread::scope(|s| {
            let waiter = s.spawn(|| gate.enter().is_some());
            std::thread::sleep(Duration::from_millis(10));
            drop(first);
            assert!(waiter.join().unwrap());
        });
        // The queue is bounded: with every place taken and every waiting place taken, at once no.
        let _held = gate.enter().unwrap();
        *gate.state.lock().unwrap() = (1, gate.waiting);
        let started = Instant::now();
        assert!(gate.enter().is_none());
        assert!(started.elapsed() < Duration::from_millis(40));
        *gate.state.lock().unwrap() = (1, 0);
    }
}
