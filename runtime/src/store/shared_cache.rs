//! Rows a store on a shared database (PostgreSQL) keeps between transactions, checked rather
//! than trusted.
//!
//! A deposit reads the customer's ledger account and (to release) its reservation: two round
//! trips before the one that writes. (The registrar's revenue account is never read by a write,
//! and journal ids come from this process's block: see schema 5.) Most
//! of the time no other process touched those rows since this one last read or wrote them. So
//! the store keeps each row with the exact text it read or wrote, answers a transaction from
//! here without a round trip, and notes what it answered: the transaction's next write
//! statement checks, in the same statement, that the database still holds that text, and fails
//! the whole transaction with a serialization failure when it does not
//! (`backorder_cache_check`, schema 4). The engine runs a transaction that failed so again, and
//! the store reads afresh. Under `SERIALIZABLE` the check is a read like any other, so the
//! transaction is as if it had read the rows first. A transaction that ends in a rollback is
//! checked by one query after it (its error may rest on a row that changed).
//!
//! After a conflict the cache is emptied and stays unused for [`PAUSE`] transactions, so that
//! processes contending for the same rows do not fail every other transaction.

use std::collections::HashMap;

use backorder_core::ledger::{LedgerAccount, Reservation, ReservationState};
use backorder_core::Key;

/// Transactions run without the cache after a conflict.
pub(crate) const PAUSE: u32 = 64;
/// At most this many rows of each kind are kept (a row and its text take about 400 bytes, so
/// about 40 MB each at most); the cache is emptied when one is full.
const CAPACITY: usize = 100_000;

/// Rows a transaction took from the cache, with the stored text each answer rests on.
pub(crate) struct Assumptions {
    /// Ledger account keys.
    pub(crate) keys: Vec<Key>,
    /// Their texts, in the same order.
    pub(crate) texts: Vec<String>,
    /// Reservation ids.
    pub(crate) ids: Vec<i64>,
    /// Their texts, in the same order.
    pub(crate) reservation_texts: Vec<String>,
}

/// See the module documentation.
#[derive(Default)]
pub(crate) struct SharedCache {
    ledger: HashMap<Key, (LedgerAccount, String)>,
    /// Open reservations only: a resolved one is never resolved again.
    reservations: HashMap<u64, (Reservation, String)>,
    /// Rows answered from the cache in the open transaction and not yet checked, with the text
    /// the answer rests on.
    assumed_ledger: Vec<(Key, String)>,
    assumed_reservations: Vec<(u64, String)>,
    /// Transactions left before the cache is used again.
    paused: u32,
    /// The open transaction does not use the cache (it is one of those).
    bypass: bool,
}

impl SharedCache {
    /// A transaction begins.
    pub(crate) fn begin(&mut self) {
        self.bypass = self.paused > 0;
        self.paused = self.paused.saturating_sub(1);
        self.assumed_ledger.clear();
        self.assumed_reservations.clear();
    }

    /// The ledger account `key` as last seen, noted as assumed; `None` when not cached.
    pub(crate) fn ledger_account(&mut self, key: &str) -> Option<LedgerAccount> {
        if self.bypass {
            return None;
        }
        let (account, text) = self.ledger.get(key)?;
        if !self.assumed_ledger.iter().any(|(k, _)| k.as_str() == key) {
            self.assumed_ledger
                .push((account.key.clone(), text.clone()));
        }
        Some(account.clone())
    }

    /// The reservation `id` as last seen, noted as assumed; `None` when not cached.
    pub(crate) fn reservation(&mut self, id: u64) -> Option<Reservation> {
        if self.bypass {
            return None;
        }
        let (r, text) = self.reservations.get(&id)?;
        if !self.assumed_reservations.iter().any(|(i, _)| *i == id) {
            self.assumed_reservations.push((id, text.clone()));
        }
        Some(r.clone())
    }

    /// A ledger account as read from, or committed to, the database, with its stored text.
    pub(crate) fn remember_ledger_account(&mut self, account: LedgerAccount, text: String) {
        if self.ledger.len() >= CAPACITY && !self.ledger.contains_key(&account.key) {
            self.ledger.clear();
        }
        self.ledger.insert(account.key.clone(), (account, text));
    }

    /// A reservation as read from, or committed to, the database, with its stored text.
    pub(crate) fn remember_reservation(&mut self, r: Reservation, text: String) {
        if r.state != ReservationState::Pending {
            self.reservations.remove(&r.id);
            return;
        }
        if self.reservations.len() >= CAPACITY && !self.reservations.contains_key(&r.id) {
            self.reservations.clear();
        }
        self.reservations.insert(r.id, (r, text));
    }

    /// True when the open transaction took rows from the cache that no statement checked yet.
    pub(crate) fn has_assumptions(&self) -> bool {
        !self.assumed_ledger.is_empty() || !self.assumed_reservations.is_empty()
    }

    /// The rows to check, taken out: the next statement checks them or the transaction fails.
    pub(crate) fn take_assumptions(&mut self) -> Assumptions {
        let (keys, texts) = std::mem::take(&mut self.assumed_ledger).into_iter().unzip();
        let (ids, reservation_texts) = std::mem::take(&mut self.assumed_reservations)
            .into_iter()
            .map(|(id, t)| (id as i64, t))
            .unzip();
        Assumptions {
            keys,
            texts,
            ids,
            reservation_texts,
        }
    }

    /// A transaction failed or rolled back and may have rested on a row that changed: forget
    /// everything, and answer nothing for the next [`PAUSE`] transactions.
    pub(crate) fn invalidate(&mut self) {
        self.ledger.clear();
        self.reservations.clear();
        self.assumed_ledger.clear();
        self.assumed_reservations.clear();
        self.paused = PAUSE;
        self.bypass = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backorder_core::ledger::LedgerAccountKind;
    use backorder_core::money::Currency;

    fn account(key: &str) -> LedgerAccount {
        LedgerAccount::new(key, LedgerAccountKind::Customer, Currency::USD)
    }

    #[test]
    fn an_answer_is_noted_once_until_checked() {
        let mut c = SharedCache::default();
        c.begin();
        assert!(c.ledger_account("C1").is_none());
        c.remember_ledger_account(account("C1"), "t1".into());
        assert_eq!(c.ledger_account("C1").unwrap().key.as_str(), "C1");
        c.ledger_account("C1");
        let a = c.take_assumptions();
        assert_eq!(a.keys, vec![Key::from("C1")]);
        assert_eq!((a.texts, a.ids.len()), (vec!["t1".to_string()], 0));
        assert!(!c.has_assumptions());
    }

    #[test]
    fn a_conflict_empties_the_cache_and_pauses_it() {
        let mut c = SharedCache::default();
        c.remember_ledger_account(account("C1"), "t1".into());
        c.invalidate();
        for _ in 0..PAUSE {
            c.begin();
            c.remember_ledger_account(account("C1"), "t1".into());
            assert!(c.ledger_account("C1").is_none());
        }
        c.begin();
        assert!(c.ledger_account("C1").is_some());
    }
}
