//! The auditor: re-derives every balance from the journal and checks every invariant of SPEC §4,
//! the transition table over every history, and that no drop is allocated twice.

use std::collections::BTreeMap;

use crate::fast::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::backorder::Backorder;
use crate::error::Result;
use crate::key::Key;
use crate::ledger::{LedgerAccountKind, Reservation, ReservationState, Transfer, TransferKind};
use crate::lifecycle::{history_follows_table, Status};
use crate::name::DomainName;
use crate::store::Store;

/// What the auditor found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    /// Ledger accounts checked.
    pub ledger_accounts: u64,
    /// Transfers replayed.
    pub transfers: u64,
    /// Reservations checked.
    pub reservations: u64,
    /// Backorders checked.
    pub backorders: u64,
    /// Total debits over every account (posted + pending).
    pub total_debits: Decimal,
    /// Total credits over every account (posted + pending).
    pub total_credits: Decimal,
    /// Sum of the journal's amounts by transfer kind and currency, e.g. `"CAPTURE USD"`.
    pub journal_totals: BTreeMap<String, Decimal>,
    /// Each broken invariant, described. Empty means clean.
    pub problems: Vec<String>,
}

impl AuditReport {
    /// True when nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// How a backorder's deposits stand.
#[derive(Default, Clone, Copy)]
struct DepositSummary {
    count: u32,
    open: u32,
    released: u32,
    captured: u32,
}

#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
struct Totals {
    debits_pending: Decimal,
    debits_posted: Decimal,
    credits_pending: Decimal,
    credits_posted: Decimal,
}

const PAGE: usize = 4096;

/// Adds without panicking: a corrupted store must give a report, not a crash. A saturated
/// total never equals a stored one, so the mismatch is reported.
fn sat_add(total: &mut Decimal, x: Decimal) {
    *total = total.saturating_add(x);
}

fn sat_sub(total: &mut Decimal, x: Decimal) {
    *total = total.saturating_sub(x);
}

/// The running totals of an account, without allocating its key again for every transfer.
fn totals<'a>(derived: &'a mut HashMap<Key, Totals>, key: &Key) -> &'a mut Totals {
    derived.entry(key.clone()).or_default()
}
/// Stop listing after this many problems; the first ones say enough.
const MAX_PROBLEMS: usize = 200;

fn problem(r: &mut AuditReport, p: String) {
    if r.problems.len() < MAX_PROBLEMS {
        r.problems.push(p);
    }
}

/// Audits the whole store. Read-only; run it outside or inside a transaction.
pub fn audit<S: Store + ?Sized>(tx: &mut S) -> Result<AuditReport> {
    let mut r = AuditReport::default();

    // 1. Replay the journal.
    let mut derived: HashMap<Key, Totals> = HashMap::default();
    // Per reservation: how often it was resolved, and the first resolution's kind and amount.
    let mut resolutions: HashMap<u64, (u32, TransferKind, Decimal)> = HashMap::default();
    let mut reserves: HashMap<u64, Decimal> = HashMap::default();
    // Journal totals by kind and currency, labelled once at the end.
    let mut journal: HashMap<(TransferKind, crate::money::Currency), Decimal> = HashMap::default();
    tx.for_each_transfer(&mut |t: &Transfer| {
        r.transfers += 1;
        sat_add(journal.entry((t.kind, t.currency)).or_default(), t.amount);
        if t.amount <= Decimal::ZERO {
            problem(&mut r, format!("transfer {} has non-positive amount", t.id));
        }
        match t.kind {
            TransferKind::Fund | TransferKind::Charge | TransferKind::Payout => {
                sat_add(&mut totals(&mut derived, &t.debit).debits_posted, t.amount);
                sat_add(
                    &mut totals(&mut derived, &t.credit).credits_posted,
                    t.amount,
                );
            }
            TransferKind::Reserve => {
                sat_add(&mut totals(&mut derived, &t.debit).debits_pending, t.amount);
                sat_add(
                    &mut totals(&mut derived, &t.credit).credits_pending,
                    t.amount,
                );
                reserves.insert(t.id, t.amount);
            }
            TransferKind::Capture | TransferKind::Release => {
                let Some(pid) = t.pending_id else {
                    problem(&mut r, format!("transfer {} resolves nothing", t.id));
                    return Ok(());
                };
                let Some(held) = reserves.get(&pid).copied() else {
                    problem(
                        &mut r,
                        format!("transfer {} resolves unknown reservation {pid}", t.id),
                    );
                    return Ok(());
                };
                resolutions.entry(pid).or_insert((0, t.kind, t.amount)).0 += 1;
                sat_sub(&mut totals(&mut derived, &t.debit).debits_pending, held);
                sat_sub(&mut totals(&mut derived, &t.credit).credits_pending, held);
                if t.kind == TransferKind::Capture {
                    if t.amount > held {
                        problem(&mut r, format!("capture {} exceeds its reservation", t.id));
                    }
                    sat_add(&mut totals(&mut derived, &t.debit).debits_posted, t.amount);
                    sat_add(
                        &mut totals(&mut derived, &t.credit).credits_posted,
                        t.amount,
                    );
                }
            }
        }
        Ok(())
    })?;
    for ((kind, currency), total) in journal {
        r.journal_totals
            .insert(format!("{} {currency}", kind.as_str()), total);
    }

    // 2. Stored balances equal the derived ones; customers never below zero; debits = credits.
    let mut open_by_account: HashMap<Key, Decimal> = HashMap::default();
    let mut after_key: Option<Key> = None;
    let mut seen_accounts = HashSet::default();
    loop {
        let page = tx.ledger_accounts_after(after_key.as_deref(), PAGE)?;
        let Some(last) = page.last() else { break };
        after_key = Some(last.key.clone());
        for a in page {
            r.ledger_accounts += 1;
            seen_accounts.insert(a.key.clone());
            let stored = Totals {
                debits_pending: a.debits_pending,
                debits_posted: a.debits_posted,
                credits_pending: a.credits_pending,
                credits_posted: a.credits_posted,
            };
            let d = derived.get(&a.key).copied().unwrap_or_default();
            if stored != d {
                problem(
                    &mut r,
                    format!(
                        "ledger account {} stored {stored:?} but the journal gives {d:?}",
                        a.key
                    ),
                );
            }
            sat_add(
                &mut r.total_debits,
                a.debits_pending.saturating_add(a.debits_posted),
            );
            sat_add(
                &mut r.total_credits,
                a.credits_pending.saturating_add(a.credits_posted),
            );
            if a.kind == LedgerAccountKind::Customer && a.available() < Decimal::ZERO {
                problem(
                    &mut r,
                    format!("account {} has negative available balance", a.key),
                );
            }
            if a.kind == LedgerAccountKind::Customer {
                open_by_account.insert(a.key.clone(), Decimal::ZERO);
            }
        }
    }
    for key in derived.keys() {
        if !seen_accounts.contains(key) {
            problem(
                &mut r,
                format!("journal names missing ledger account {key}"),
            );
        }
    }
    if r.total_debits == Decimal::MAX || r.total_credits == Decimal::MAX {
        problem(&mut r, "journal totals exceed the decimal range".into());
    } else if r.total_debits != r.total_credits {
        let p = format!(
            "total debits {} differ from total credits {}",
            r.total_debits, r.total_credits
        );
        problem(&mut r, p);
    }

    // 3. Reservations: resolved at most once; state matches the journal; reserved = open sum.
    let mut deposits: HashMap<u64, DepositSummary> = HashMap::default();
    let mut stored_reservations = 0usize;
    tx.for_each_reservation(&mut |res: &Reservation| {
        r.reservations += 1;
        stored_reservations += 1;
        let resolved = resolutions.get(&res.id).copied();
        if let Some((n, _, _)) = resolved {
            if n > 1 {
                problem(&mut r, format!("reservation {} resolved {n} times", res.id));
            }
        }
        let expected = match resolved {
            None => ReservationState::Pending,
            Some((_, TransferKind::Capture, amount)) => ReservationState::Captured { amount },
            Some(_) => ReservationState::Released,
        };
        if res.state != expected {
            problem(
                &mut r,
                format!(
                    "reservation {} is {:?}, the journal says {expected:?}",
                    res.id, res.state
                ),
            );
        }
        if res.state == ReservationState::Pending {
            sat_add(
                open_by_account.entry(res.account.clone()).or_default(),
                res.amount,
            );
        }
        if let Some(b) = res.backorder {
            let d = deposits.entry(b).or_default();
            d.count += 1;
            match res.state {
                ReservationState::Pending => d.open += 1,
                ReservationState::Released => d.released += 1,
                ReservationState::Captured { .. } => d.captured += 1,
            }
        }
        Ok(())
    })?;
    if stored_reservations != reserves.len() {
        problem(
            &mut r,
            format!(
                "{stored_reservations} reservations stored but {} reserve transfers journalled",
                reserves.len()
            ),
        );
    }
    drop(resolutions);
    drop(reserves);
    let mut after_key: Option<Key> = None;
    loop {
        let page = tx.ledger_accounts_after(after_key.as_deref(), PAGE)?;
        let Some(last) = page.last() else { break };
        after_key = Some(last.key.clone());
        for a in page
            .into_iter()
            .filter(|a| a.kind == LedgerAccountKind::Customer)
        {
            let open = open_by_account.get(&a.key).copied().unwrap_or_default();
            if a.reserved() != open {
                problem(
                    &mut r,
                    format!(
                        "account {} reserved {} but open reservations sum to {open}",
                        a.key,
                        a.reserved()
                    ),
                );
            }
        }
    }

    // 4. Backorders: history follows the table; deposits of ended backorders released exactly once;
    //    open deposits only where the status holds one; at most one allocation per drop.
    let mut winners: BTreeMap<(DomainName, DateTime<Utc>), Vec<u64>> = BTreeMap::new();
    tx.for_each_backorder(&mut |b: &Backorder| {
        r.backorders += 1;
        if !history_follows_table(&b.history) || b.history.last().map(|h| h.to) != Some(b.status) {
            problem(
                &mut r,
                format!("backorder {} history breaks the transition table", b.id),
            );
        }
        let d = deposits.get(&b.id).copied().unwrap_or_default();
        let (open, released, captured) = (d.open, d.released, d.captured);
        if d.count > 1 {
            problem(
                &mut r,
                format!("backorder {} holds {} deposits", b.id, d.count),
            );
        }
        match b.status {
            Status::Failed | Status::Cancelled | Status::Expired | Status::AuctionLost => {
                if open != 0 || captured != 0 {
                    problem(
                        &mut r,
                        format!("{} backorder {} kept its deposit", b.status, b.id),
                    );
                }
                if b.status == Status::Expired && d.count != 0 {
                    problem(&mut r, format!("expired backorder {} had a deposit", b.id));
                }
                if d.count != 0 && released != 1 {
                    problem(
                        &mut r,
                        format!("backorder {} deposit released {released} times", b.id),
                    );
                }
            }
            Status::Active | Status::Backordered | Status::Processing | Status::AuctionPending => {
                if open != 1 {
                    problem(
                        &mut r,
                        format!("{} backorder {} has no open deposit", b.status, b.id),
                    );
                }
            }
            Status::Requested | Status::Incomplete | Status::Inactive | Status::PendingPayment => {
                if d.count != 0 {
                    problem(
                        &mut r,
                        format!("{} backorder {} has a deposit", b.status, b.id),
                    );
                }
            }
            Status::Successful => {
                if captured != 1 {
                    problem(
                        &mut r,
                        format!("successful backorder {} deposit not captured", b.id),
                    );
                }
            }
            Status::AuctionWon => {
                if b.amount_due.is_none() && b.auth_code.is_none() {
                    problem(
                        &mut r,
                        format!("auction winner {} neither owes nor paid", b.id),
                    );
                }
            }
        }
        let allocated = b.status == Status::Successful
            || (b.status == Status::AuctionWon && b.auth_code.is_some());
        if allocated {
            if let Some(d) = b.drop_at {
                winners.entry((b.domain.clone(), d)).or_default().push(b.id);
            }
        }
        Ok(())
    })?;
    for ((domain, drop_at), ids) in winners {
        if ids.len() > 1 {
            problem(
                &mut r,
                format!("{domain} (drop {drop_at}) allocated to {ids:?}"),
            );
        }
        match tx.allocation(&domain, drop_at)? {
            Some(a) if a.backorder == ids[0] => {}
            other => problem(
                &mut r,
                format!(
                    "{domain}: allocation record {other:?} does not match backorder {}",
                    ids[0]
                ),
            ),
        }
    }
    Ok(r)
}
