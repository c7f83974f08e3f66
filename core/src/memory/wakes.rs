//! The memory store's wake-ups: when each backorder and auction next has time-driven work.
//!
//! Ids are dense from 1, so the current wake-up of each is a slot in a vector rather than a hash
//! entry. The queue is ordered by time, and the keys due at one instant share a bucket: the
//! backorders of one name wake together (their deposit window opens, and the name drops, at the
//! same instants), so the ordered map holds far fewer entries than there are wake-ups.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::store::WakeKey;

#[derive(Default)]
pub(super) struct Wakes {
    /// Backorder `id`'s wake-up at index `id - 1`.
    backorders: Vec<Option<DateTime<Utc>>>,
    /// Auction `id`'s wake-up at index `id - 1`.
    auctions: Vec<Option<DateTime<Utc>>>,
    /// Instant → the keys due then (never empty). A set, not a vector: on some drop days
    /// thousands of keys share an instant.
    queue: BTreeMap<DateTime<Utc>, BTreeSet<WakeKey>>,
}

impl Wakes {
    fn slot(&self, key: WakeKey) -> Option<&Option<DateTime<Utc>>> {
        let (table, id) = match key {
            WakeKey::Backorder(id) => (&self.backorders, id),
            WakeKey::Auction(id) => (&self.auctions, id),
        };
        table.get((id as usize).wrapping_sub(1))
    }

    fn slot_mut(&mut self, key: WakeKey) -> &mut Option<DateTime<Utc>> {
        let (table, id) = match key {
            WakeKey::Backorder(id) => (&mut self.backorders, id),
            WakeKey::Auction(id) => (&mut self.auctions, id),
        };
        let index = (id as usize).wrapping_sub(1);
        if index >= table.len() {
            table.resize(index + 1, None);
        }
        &mut table[index]
    }

    /// The key's wake-up.
    pub(super) fn get(&self, key: WakeKey) -> Option<DateTime<Utc>> {
        self.slot(key).copied().flatten()
    }

    /// Sets (or with `None` clears) the key's wake-up; returns the one it had.
    pub(super) fn set(&mut self, key: WakeKey, at: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        if at.is_none() && self.slot(key).is_none() {
            return None; // never had one: nothing to clear, and no slot to grow
        }
        let old = std::mem::replace(self.slot_mut(key), at);
        if old == at {
            return old;
        }
        if let Some(o) = old {
            if let Some(bucket) = self.queue.get_mut(&o) {
                bucket.remove(&key);
                if bucket.is_empty() {
                    self.queue.remove(&o);
                }
            }
        }
        if let Some(t) = at {
            self.queue.entry(t).or_default().insert(key);
        }
        old
    }

    /// Up to `limit` wake-ups due by `now`, earliest first (ties in key order).
    pub(super) fn due(&self, now: DateTime<Utc>, limit: usize) -> Vec<(DateTime<Utc>, WakeKey)> {
        self.queue
            .range(..=now)
            .flat_map(|(t, keys)| keys.iter().map(move |k| (*t, *k)))
            .take(limit)
            .collect()
    }

    /// The earliest wake-up.
    pub(super) fn next(&self) -> Option<DateTime<Utc>> {
        self.queue.first_key_value().map(|(t, _)| *t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    proptest! {
        /// Any sequence of moves answers `get`, `due` and `next` as one ordered set of
        /// (time, key) pairs does.
        #[test]
        fn wake_ups_answer_as_an_ordered_set_does(
            ops in proptest::collection::vec((0u8..2, 1u64..12, proptest::option::of(0i64..20), 0usize..6), 1..200)
        ) {
            let mut w = Wakes::default();
            let mut model: std::collections::BTreeMap<WakeKey, DateTime<Utc>> = Default::default();
            for (kind, id, at, limit) in ops {
                let key = if kind == 0 { WakeKey::Backorder(id) } else { WakeKey::Auction(id) };
                let at = at.map(t);
                let old = match at {
                    Some(a) => model.insert(key, a),
                    None => model.remove(&key),
                };
                prop_assert_eq!(w.set(key, at), old);
                prop_assert_eq!(w.get(key), at);
                let ordered: std::collections::BTreeSet<(DateTime<Utc>, WakeKey)> =
                    model.iter().map(|(k, a)| (*a, *k)).collect();
                let now = t(10);
                let expected: Vec<_> = ordered.iter().filter(|(a, _)| *a <= now).take(limit).copied().collect();
                prop_assert_eq!(w.due(now, limit), expected);
                prop_assert_eq!(w.next(), ordered.first().map(|(a, _)| *a));
            }
        }
    }

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
    }

    #[test]
    fn keys_due_together_come_in_key_order_and_leave_their_bucket() {
        let mut w = Wakes::default();
        let (a, b, c) = (
            WakeKey::Backorder(3),
            WakeKey::Auction(1),
            WakeKey::Backorder(1),
        );
        assert_eq!(w.set(a, Some(t(5))), None);
        w.set(b, Some(t(5)));
        w.set(c, Some(t(5)));
        assert_eq!(w.due(t(5), 10), vec![(t(5), c), (t(5), a), (t(5), b)]);
        assert_eq!(w.due(t(5), 2).len(), 2);
        assert_eq!(w.due(t(4), 10), vec![]);
        assert_eq!(w.set(a, Some(t(2))), Some(t(5)));
        assert_eq!(w.next(), Some(t(2)));
        assert_eq!(w.due(t(5), 10), vec![(t(2), a), (t(5), c), (t(5), b)]);
        w.set(c, None);
        w.set(b, None);
        assert_eq!(w.queue.len(), 1, "the emptied bucket is gone");
        assert_eq!(w.get(b), None);
        assert_eq!(w.set(WakeKey::Auction(99), None), None);
        assert_eq!(w.auctions.len(), 1, "clearing an unknown key grows nothing");
    }
}
