//! The pending-delete catalog: names the registries are about to delete, with their deletion times.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::name::DomainName;

/// A name on the pending-delete list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingDeletion {
    /// The name.
    pub domain: DomainName,
    /// When the registry is expected to purge it.
    pub drop_at: DateTime<Utc>,
    /// The name left the list (restored by its holder); its backorders were cancelled.
    pub withdrawn: bool,
    /// When the entry was last written.
    pub updated_at: DateTime<Utc>,
}

use crate::backorder::{apply_drop_time, load, save};
use crate::error::{Error, Result};
use crate::policy::PolicyTable;
use crate::store::Store;

/// The earliest deletion time the catalog takes (1970-01-01T00:00:00Z, as seconds since the epoch).
pub const EARLIEST_DROP_SECS: i64 = 0;
/// The latest deletion time the catalog takes (9999-12-31T23:59:59Z): far enough that every window
/// a policy may set (each at most [`crate::policy::MAX_DURATION_SECS`]) stays in the calendar.
pub const LATEST_DROP_SECS: i64 = 253_402_300_799;

/// Refuses a deletion time outside the years 1970-9999.
///
/// ```
/// use chrono::{DateTime, Utc};
/// assert!(backorder_core::catalog::check_drop_time(DateTime::<Utc>::MIN_UTC).is_err());
/// assert!(backorder_core::catalog::check_drop_time(DateTime::<Utc>::UNIX_EPOCH).is_ok());
/// ```
pub fn check_drop_time(drop_at: DateTime<Utc>) -> Result<()> {
    if (EARLIEST_DROP_SECS..=LATEST_DROP_SECS).contains(&drop_at.timestamp()) {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "deletion time {} is outside 1970-01-01 .. 9999-12-31",
            drop_at.timestamp()
        )))
    }
}

/// Adds a name to the pending-delete catalog, or moves its deletion time; the open backorders of
/// the name follow (their finalization date and deposit window with them). Returns how many
/// backorders moved. A deletion time outside 1970-9999 is [`Error::InvalidArgument`].
pub fn upsert<S: Store + ?Sized>(
    tx: &mut S,
    policies: &PolicyTable,
    now: DateTime<Utc>,
    domain: &DomainName,
    drop_at: DateTime<Utc>,
) -> Result<usize> {
    check_drop_time(drop_at)?;
    let policy = policies.get(domain.zone())?;
    let previous = tx.pending_deletion(domain)?;
    write_entry(tx, policy, now, domain, drop_at, previous.as_ref())
}

/// Writes a catalog entry over `previous` (what the store holds) and moves the name's waiting
/// backorders to the new deletion time.
fn write_entry<S: Store + ?Sized>(
    tx: &mut S,
    policy: &crate::policy::TldPolicy,
    now: DateTime<Utc>,
    domain: &DomainName,
    drop_at: DateTime<Utc>,
    previous: Option<&PendingDeletion>,
) -> Result<usize> {
    tx.put_pending_deletion(&PendingDeletion {
        domain: domain.clone(),
        drop_at,
        withdrawn: false,
        updated_at: now,
    })?;
    if previous.is_some_and(|p| p.drop_at == drop_at && !p.withdrawn) {
        return Ok(0);
    }
    let mut moved = 0;
    for head in tx.backorders_for_name(domain, None)? {
        if head.status.awaits_drop() && head.drop_at != Some(drop_at) {
            let mut b = load(tx, head.id)?;
            apply_drop_time(&mut b, policy, Some(drop_at));
            b.updated_at = now;
            save(tx, b.clone(), None)?;
            moved += 1;
        }
    }
    Ok(moved)
}

/// How an import treats the names already listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportOptions {
    /// The list is complete: a listed name missing from it was restored by its holder and is
    /// withdrawn (its open backorders cancelled and refunded). Off for a partial list (one zone's,
    /// or a day's additions).
    pub withdraw_missing: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            withdraw_missing: true,
        }
    }
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// The format recognised.
    pub format: Option<crate::droplist::ListFormat>,
    /// Names read from good lines.
    pub names_read: u64,
    /// Names new to the catalog (or listed again after a withdrawal).
    pub added: u64,
    /// Names whose deletion time changed.
    pub moved: u64,
    /// Names listed before with the same time.
    pub unchanged: u64,
    /// Names withdrawn because the list no longer has them.
    pub withdrawn: u64,
    /// Names left out because the registrar's own customers still hold them.
    pub excluded_held: u64,
    /// Backorders whose deletion time (and finalization date) moved.
    pub backorders_moved: u64,
    /// Backorders cancelled and refunded because their name was withdrawn.
    pub backorders_cancelled: u64,
    /// Keyword alerts raised for the names added (set by the engine).
    pub alerts: u64,
    /// Lines refused, with their numbers and reasons: unreadable lines, zones not offered, names
    /// listed twice; at most [`crate::droplist::MAX_BAD_LINES`], the earliest in file order.
    pub bad_lines: Vec<crate::droplist::BadLine>,
    /// Every line refused, those `bad_lines` leaves out included.
    pub bad_line_count: u64,
    /// The names added (or listed again), for alert matching.
    #[serde(skip)]
    pub new_names: Vec<DomainName>,
}

/// Brings the catalog in line with a parsed list: adds new names, moves changed deletion times
/// (and the finalization dates of their open backorders), and with
/// [`ImportOptions::withdraw_missing`] withdraws listed names the list no longer has and whose
/// deletion is still ahead. `held` says which names the registrar's own customers still hold: they
/// are left out (and withdrawn if listed before). A list with no good line is refused and changes
/// nothing: resyncing against it would withdraw every name.
pub fn import<S: Store + ?Sized>(
    tx: &mut S,
    policies: &PolicyTable,
    now: DateTime<Utc>,
    list: &crate::droplist::ParsedList,
    held: &dyn Fn(&DomainName) -> bool,
    options: ImportOptions,
) -> Result<ImportReport> {
    use crate::droplist::BadLine;
    if list.entries.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "the deletion list has no readable name ({} bad lines)",
            list.bad_line_count
        )));
    }
    let mut report = ImportReport {
        format: Some(list.format),
        bad_lines: list.bad_lines.clone(),
        bad_line_count: list.bad_line_count,
        ..ImportReport::default()
    };
    // Lines refused here are kept up to the cap too (the list's own are already capped), so the
    // merged first MAX_BAD_LINES are exact and memory stays bounded.
    let mut refused_here = 0usize;
    let mut refuse = |report: &mut ImportReport, line: BadLine| {
        report.bad_line_count += 1;
        if refused_here < crate::droplist::MAX_BAD_LINES {
            refused_here += 1;
            report.bad_lines.push(line);
        }
    };
    // The line each name was first read on, to report repeats and find the missing ones.
    let mut seen: crate::fast::HashMap<DomainName, u64> = crate::fast::HashMap::default();
    seen.reserve(list.entries.len());
    tx.reserve_pending_deletions(list.entries.len())?;
    for e in &list.entries {
        let slot = match seen.entry(e.domain.clone()) {
            std::collections::hash_map::Entry::Occupied(first) => {
                refuse(
                    &mut report,
                    BadLine {
                        line: e.line,
                        reason: format!(
                            "{} is listed twice (first on line {})",
                            e.domain,
                            first.get()
                        ),
                        text: e.domain.to_string(),
                    },
                );
                continue;
            }
            std::collections::hash_map::Entry::Vacant(slot) => slot,
        };
        let Ok(policy) = policies.get(e.domain.zone()) else {
            refuse(
                &mut report,
                BadLine {
                    line: e.line,
                    reason: format!("zone '{}' is not offered", e.domain.zone()),
                    text: e.domain.to_string(),
                },
            );
            continue;
        };
        if held(&e.domain) {
            report.excluded_held += 1;
            continue;
        }
        slot.insert(e.line);
        report.names_read += 1;
        let previous = tx.pending_deletion(&e.domain)?;
        match &previous {
            Some(p) if !p.withdrawn && p.drop_at == e.drop_at => {
                report.unchanged += 1;
                continue;
            }
            Some(p) if !p.withdrawn => report.moved += 1,
            _ => report.added += 1,
        }
        report.backorders_moved +=
            write_entry(tx, policy, now, &e.domain, e.drop_at, previous.as_ref())? as u64;
        if previous.is_none_or(|p| p.withdrawn) {
            report.new_names.push(e.domain.clone());
        }
    }
    report.bad_lines.sort_by_key(|b| b.line);
    report.bad_lines.truncate(crate::droplist::MAX_BAD_LINES);
    // Every listed entry is one of this list's names (read, added or moved) unless the store lists
    // more: only then is it worth looking for the missing ones.
    let listed_now = report.added + report.moved + report.unchanged;
    if options.withdraw_missing && tx.listed_count()? > listed_now {
        for entry in tx.pending_deletions()? {
            if !entry.withdrawn && entry.drop_at > now && !seen.contains_key(&entry.domain) {
                report.backorders_cancelled += withdraw(tx, now, &entry.domain)? as u64;
                report.withdrawn += 1;
            }
        }
    }
    Ok(report)
}

/// Takes a name off the list (its holder restored it): the entry is kept, marked withdrawn, and
/// every backorder still waiting for the drop is cancelled with reason `NAME_WITHDRAWN` and
/// refunded. Returns how many backorders were cancelled.
pub fn withdraw<S: Store + ?Sized>(
    tx: &mut S,
    now: DateTime<Utc>,
    domain: &DomainName,
) -> Result<usize> {
    let Some(mut entry) = tx.pending_deletion(domain)? else {
        return Err(Error::InvalidArgument(format!("{domain} is not listed")));
    };
    entry.withdrawn = true;
    entry.updated_at = now;
    tx.put_pending_deletion(&entry)?;
    let mut cancelled = 0;
    for head in tx.backorders_for_name(domain, None)? {
        if !crate::lifecycle::transition_allowed(
            Some(head.status),
            crate::lifecycle::Status::Cancelled,
        ) {
            continue;
        }
        let mut b = load(tx, head.id)?;
        crate::backorder::refund(tx, now, &b)?;
        b.amount_due = None;
        b.pay_by = None;
        crate::backorder::set_status(
            tx,
            &mut b,
            crate::lifecycle::Status::Cancelled,
            crate::lifecycle::Reason::NameWithdrawn,
            now,
        )?;
        save(tx, b, None)?;
        cancelled += 1;
    }
    Ok(cancelled)
}
